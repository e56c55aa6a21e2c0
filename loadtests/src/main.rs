//! `tollgate-load`: an open-loop HTTP load generator for Tollgate.
//!
//! It sends requests of one scenario (currently the public `jwks` and
//! `discovery` endpoints of a tenant) at a fixed arrival rate for a fixed
//! duration. Arrivals do not wait for earlier responses, and each latency is
//! measured from the request's scheduled time, so an overloaded server shows
//! up as growing latency rather than as a quietly reduced request rate.
//!
//! ```text
//! tollgate-load run --scenario jwks --base-url http://127.0.0.1:8080 \
//!     --tenant demo --rate 500 --duration 10 --out report.json --svg chart.svg
//! ```
//!
//! Output: a summary on stdout, optionally a JSON report with a per-second
//! timeline (`--out`) and an SVG chart of throughput and p50/p99 (`--svg`).
//!
//! Modules: [`scenario`] says what a request looks like, [`runner`] drives
//! the schedule, [`report`] aggregates outcomes and [`svg`] draws the chart.

mod report;
mod runner;
mod scenario;
mod svg;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::report::RunInfo;
use crate::runner::LoadConfig;
use crate::scenario::{Scenario, Target};

#[derive(Parser)]
#[command(
    name = "tollgate-load",
    version,
    about = "Open-loop load generator for Tollgate"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario at a fixed arrival rate and report latencies.
    Run(RunArgs),
}

#[derive(Args)]
struct RunArgs {
    /// Which endpoint to exercise.
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// Base URL of the Tollgate server.
    #[arg(
        long,
        env = "TOLLGATE_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    base_url: String,
    /// Tenant slug (first path segment of tenant routes).
    #[arg(long, env = "TOLLGATE_TENANT", default_value = "demo")]
    tenant: String,
    /// Arrival rate in requests per second.
    #[arg(long, value_parser = positive_f64)]
    rate: f64,
    /// Length of the schedule in seconds; `rate * duration` requests are sent.
    #[arg(long, value_parser = positive_f64)]
    duration: f64,
    /// Requests on the wire at once (also the keep-alive pool size).
    /// Due requests beyond this wait, and that wait counts as latency.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    connections: u32,
    /// Requests queued or on the wire at once; due requests beyond this are
    /// dropped and counted as such.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    max_in_flight: u32,
    /// Seconds after its scheduled time at which a request counts as timed out.
    #[arg(long, default_value_t = 10.0, value_parser = positive_f64)]
    timeout: f64,
    /// Write the JSON report (summary plus per-second timeline) here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write an SVG chart of throughput and p50/p99 per second here.
    #[arg(long)]
    svg: Option<PathBuf>,
}

fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("must be a positive number".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Run(args) = Cli::parse().command;
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollgate-load: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    reqwest::Url::parse(&args.base_url)
        .map_err(|e| format!("invalid --base-url {:?}: {e}", args.base_url))?;
    let cfg = LoadConfig {
        scenario: args.scenario,
        target: Target::new(&args.base_url, &args.tenant),
        rate: args.rate,
        duration: Duration::from_secs_f64(args.duration),
        connections: args.connections as usize,
        max_in_flight: args.max_in_flight as usize,
        timeout: Duration::from_secs_f64(args.timeout),
    };
    let info = RunInfo {
        scenario: cfg.scenario.name().to_owned(),
        url: cfg.scenario.url(&cfg.target),
        rate: cfg.rate,
        duration_s: args.duration,
        connections: cfg.connections,
        max_in_flight: cfg.max_in_flight,
        timeout_s: args.timeout,
        scheduled: runner::total_requests(cfg.rate, cfg.duration),
    };
    eprintln!(
        "tollgate-load: {} requests to {} at {} req/s over {} s ...",
        info.scheduled, info.url, info.rate, info.duration_s
    );

    let (agg, scheduling_took) = runner::run(&cfg).await?;
    let report = agg.finish(info, scheduling_took);
    print!("{}", report.summary());

    if let Some(path) = &args.out {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("report     {}", path.display());
    }
    if let Some(path) = &args.svg {
        let title = format!(
            "tollgate-load {} @ {} req/s ({})",
            report.run.scenario, report.run.rate, report.run.url
        );
        std::fs::write(path, svg::render(&report.timeline, &title, report.run.rate))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("chart      {}", path.display());
    }
    Ok(())
}
