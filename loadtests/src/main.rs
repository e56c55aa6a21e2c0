//! `tollgate-load`: an open-loop HTTP load generator for Tollgate.
//!
//! Modules, lower layers first (each uses only layers above it in this list,
//! so there are no import rings):
//! - [`vocab`]: request [`Kind`]s, the seeded hash and the `--rate`-style
//!   number parser that several modules below share.
//! - [`report`]: outcomes of requests, their aggregation and the printed and
//!   JSON report (submodules by concern; see its docs).
//! - [`plan`]: the schedule (phases, weighted mix, arrival times).
//! - [`oauth`], [`chains`]: the OAuth/hosted-page flows and the pool of
//!   seeded refresh chains.
//! - [`scenario`]: what each request does ([`scenario::Ctx`], `Job`).
//! - [`runner`]: drives a plan open-loop into an aggregator.
//! - [`svg`]: the chart of a run's timeline.
//! - [`seed`], [`limits`], [`minimal`]: the other subcommands.
//! - this file: the command line and the `run` subcommand wiring it together.
//!
//! `run` sends the requests of one scenario at fixed arrival times. Arrivals
//! do not wait for earlier responses, and each latency is measured from the
//! request's scheduled time, so an overloaded server shows up as growing
//! latency rather than as a quietly reduced request rate. Reports keep
//! successes (2xx), overload answers (503/429, with or without
//! `Retry-After`), other statuses and errors apart.
//!
//! ```text
//! # Public endpoints, no preparation needed:
//! tollgate-load run --scenario jwks --base-url http://127.0.0.1:8080 \
//!     --tenant demo --rate 500 --duration 10 --out report.json --svg chart.svg
//!
//! # A machine client's client_credentials grants (the demo prints these three):
//! M2M_CLIENT_ID=demo-m2m M2M_CLIENT_SECRET=... M2M_RESOURCE=https://api.demo.example/ \
//!     tollgate-load run --scenario machine --rate 2000 --duration 20
//!
//! # Prepare a tenant: users, a first-party client, refresh chains:
//! tollgate-load seed --base-url http://127.0.0.1:8080 --data-dir /var/lib/tollgate \
//!     --tenant t1 --users 1000000 --chains 2000 --out seed.json
//!
//! # Flows that need the seed (refresh rewrites seed.json with rotated tokens):
//! tollgate-load run --scenario refresh --seed seed.json --rate 1000 --duration 30
//! tollgate-load run --scenario login   --seed seed.json --rate 20 --duration 30
//! tollgate-load run --scenario mixed   --seed seed.json --rate 500 --duration 60 \
//!     --mix refresh=70,jwks=20,discovery=8,login=2
//! tollgate-load run --scenario spike   --seed seed.json --rate 10 --factor 5 \
//!     --before 10 --spike 10 --after 30 [--spike-scenario refresh]
//!
//! # Per-core ceilings (signatures, argon2id) and a do-nothing server:
//! taskset -c 0 tollgate-load limits --seconds 5 [--m 19456 --t 2 --p 1]
//! taskset -c 0 tollgate-load minimal-server --listen 127.0.0.1:18400
//! taskset -c 1 tollgate-load run --scenario raw --url http://127.0.0.1:18400/ \
//!     --rate 20000 --duration 10
//! ```
//!
//! Output: a summary on stdout (with per-kind and per-phase tables when the
//! run has several), optionally a JSON report with a per-second timeline
//! (`--out`) and an SVG chart of throughput and p50/p99 (`--svg`).
//! `loadtests/README.md` describes a full measurement.

mod chains;
mod limits;
mod minimal;
mod oauth;
mod plan;
mod report;
mod runner;
mod scenario;
mod seed;
mod svg;
mod vocab;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::chains::ChainPool;
use crate::oauth::OAuth;
use crate::plan::{Mix, Plan};
use crate::report::{PhaseInfo, RunInfo};
use crate::runner::LoadConfig;
use crate::scenario::{Ctx, Machine, Scenario, Target, Users};
use crate::seed::SeedFile;
use crate::vocab::{Kind, positive_f64};

type Error = Box<dyn std::error::Error>;

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
    /// Create a tenant, a client, users and refresh chains; write a seed file.
    Seed(seed::SeedArgs),
    /// Measure signatures/s and argon2id verifications/s on this thread.
    Limits(limits::LimitsArgs),
    /// Serve fixed bytes on every GET with one worker (a calibration ceiling).
    MinimalServer(minimal::MinimalArgs),
}

/// What a spike consists of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SpikeKind {
    Login,
    Refresh,
}

#[derive(Args)]
struct RunArgs {
    /// What to send.
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// Base URL of the Tollgate server [default: the seed's, else
    /// http://127.0.0.1:8080].
    #[arg(long, env = "TOLLGATE_BASE_URL")]
    base_url: Option<String>,
    /// Tenant slug, the first path segment of tenant routes [default: the
    /// seed's, else demo].
    #[arg(long, env = "TOLLGATE_TENANT")]
    tenant: Option<String>,
    /// The URL of the `raw` scenario (and of `raw` in a mix).
    #[arg(long)]
    url: Option<String>,
    /// The machine client of `machine` requests (`M2M_CLIENT_ID` in the demo).
    #[arg(long, env = "M2M_CLIENT_ID")]
    client_id: Option<String>,
    /// Its secret (`M2M_CLIENT_SECRET` in the demo).
    #[arg(long, env = "M2M_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// The API its tokens are for (`M2M_RESOURCE` in the demo); its only API if absent.
    #[arg(long, env = "M2M_RESOURCE")]
    resource: Option<String>,
    /// Seed file from `tollgate-load seed` (needed by refresh and login).
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Do not write the rotated refresh tokens back to the seed file. Its
    /// tokens are then stale: the next refresh run breaks those chains.
    #[arg(long)]
    no_save_seed: bool,
    /// Arrival rate in requests per second (the baseline of a spike).
    #[arg(long, value_parser = positive_f64)]
    rate: f64,
    /// Length of the schedule in seconds; `rate * duration` requests are
    /// sent. Not for `spike`, whose length is before + spike + after.
    #[arg(long, value_parser = positive_f64)]
    duration: Option<f64>,
    /// Weights of the `mixed` scenario.
    #[arg(long, default_value = Mix::DEFAULT)]
    mix: String,
    /// What a `spike` sends.
    #[arg(long, value_enum, default_value_t = SpikeKind::Login)]
    spike_scenario: SpikeKind,
    /// Seconds at `--rate` before the spike.
    #[arg(long, default_value_t = 5.0, value_parser = positive_f64)]
    before: f64,
    /// Seconds at `--factor` times `--rate`.
    #[arg(long, default_value_t = 5.0, value_parser = positive_f64)]
    spike: f64,
    /// Seconds at `--rate` after the spike.
    #[arg(long, default_value_t = 10.0, value_parser = positive_f64)]
    after: f64,
    /// Rate multiplier during the spike.
    #[arg(long, default_value_t = 4.0, value_parser = positive_f64)]
    factor: f64,
    /// Requests on the wire at once (also the keep-alive pool size); a
    /// sign-in holds one for its whole flow. Due requests beyond this wait,
    /// and that wait counts as latency.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    connections: u32,
    /// Requests queued or on the wire at once; due requests beyond this are
    /// dropped and counted as such.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    max_in_flight: u32,
    /// Seconds after its scheduled time at which a request counts as timed out.
    #[arg(long, default_value_t = 10.0, value_parser = positive_f64)]
    timeout: f64,
    /// Seed of the pseudo-random kind and user choices [default: from the clock].
    #[arg(long)]
    rng_seed: Option<u64>,
    /// Write the JSON report (summary plus per-second timeline) here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write an SVG chart of throughput and p50/p99 per second here.
    #[arg(long)]
    svg: Option<PathBuf>,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        // actix-web brings its own runtime.
        Command::MinimalServer(args) => minimal::serve(&args).map_err(Error::from),
        // On the calling thread only: the user pins it.
        Command::Limits(args) => limits::limits(&args),
        Command::Run(args) => block_on(run(args)),
        Command::Seed(args) => block_on(seed::seed(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollgate-load: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Run on a multi-threaded tokio runtime with one worker per CPU this
/// process may use (so `taskset` decides).
fn block_on(f: impl Future<Output = Result<(), Error>>) -> Result<(), Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

/// The schedule of a run, from the arguments. Pure.
fn plan(args: &RunArgs, seed: u64) -> Result<Plan, String> {
    let secs = Duration::from_secs_f64;
    match args.scenario {
        Scenario::Spike => {
            if args.duration.is_some() {
                return Err("spike takes --before, --spike and --after, not --duration".into());
            }
            let kind = match args.spike_scenario {
                SpikeKind::Login => Kind::Login,
                SpikeKind::Refresh => Kind::Refresh,
            };
            Ok(Plan::spike(
                args.rate,
                args.factor,
                [secs(args.before), secs(args.spike), secs(args.after)],
                Mix::only(kind),
                seed,
            ))
        }
        scenario => {
            let duration = args
                .duration
                .ok_or_else(|| format!("{} needs --duration", scenario.name()))?;
            let mix = match scenario.kind() {
                Some(kind) => Mix::only(kind),
                None => Mix::parse(&args.mix).map_err(|e| format!("--mix: {e}"))?,
            };
            Ok(Plan::constant(args.rate, secs(duration), mix, seed))
        }
    }
}

async fn run(args: RunArgs) -> Result<(), Error> {
    let rng_seed = args.rng_seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let plan = plan(&args, rng_seed)?;
    let kinds: Vec<Kind> = plan.mix.kinds().collect();
    let seed_file = match &args.seed {
        Some(path) => Some(SeedFile::load(path)?),
        None => None,
    };
    if let Some(kind) = kinds.iter().find(|k| k.needs_seed())
        && seed_file.is_none()
    {
        return Err(format!(
            "{} requests need --seed seed.json (written by `tollgate-load seed`)",
            kind.name()
        )
        .into());
    }
    if kinds.contains(&Kind::Raw) && args.url.is_none() {
        return Err("raw requests need --url".into());
    }
    if kinds.contains(&Kind::Machine) && (args.client_id.is_none() || args.client_secret.is_none())
    {
        return Err(
            "machine requests need --client-id and --client-secret (a client_credentials client)"
                .into(),
        );
    }
    let base_url = args
        .base_url
        .clone()
        .or_else(|| seed_file.as_ref().map(|s| s.base_url.clone()))
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
    let tenant = args
        .tenant
        .clone()
        .or_else(|| seed_file.as_ref().map(|s| s.tenant.clone()))
        .unwrap_or_else(|| "demo".to_owned());
    reqwest::Url::parse(&base_url).map_err(|e| format!("invalid --base-url {base_url:?}: {e}"))?;
    if let Some(url) = &args.url {
        reqwest::Url::parse(url).map_err(|e| format!("invalid --url {url:?}: {e}"))?;
    }

    let timeout = Duration::from_secs_f64(args.timeout);
    let connections = args.connections as usize;
    let http = runner::http_client(connections, timeout)?;
    let target = Target::new(&base_url, &tenant);
    let mut ctx = Ctx::new(http.clone(), &target);
    ctx.raw_url = args.url.clone();
    if let (Some(client_id), Some(client_secret)) = (&args.client_id, &args.client_secret) {
        ctx.machine = Some(Machine {
            token_url: target.url("token"),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            resource: args.resource.clone(),
        });
    }
    ctx.seed = rng_seed;
    if let Some(s) = &seed_file {
        let oauth = OAuth::new(
            http,
            &target.base_url,
            &target.tenant,
            &s.client_id,
            &s.client_secret,
            &s.redirect_uri,
        )?;
        ctx.oauth = Some(oauth);
        ctx.users = Some(Users {
            pattern: s.email_pattern.clone(),
            count: s.users,
            password: s.password.clone(),
        });
        if kinds.contains(&Kind::Refresh) {
            if s.refresh_tokens.is_empty() {
                return Err("the seed file has no refresh chains (seed with --chains)".into());
            }
            ctx.chains = Some(ChainPool::new(s.refresh_tokens.clone()));
        }
        if kinds.contains(&Kind::Login) && s.users == 0 {
            return Err("the seed file has no users (seed with --users)".into());
        }
    }
    let ctx = Arc::new(ctx);

    let cfg = LoadConfig {
        plan,
        connections,
        max_in_flight: args.max_in_flight as usize,
        timeout,
    };
    let info = RunInfo {
        scenario: match args.scenario {
            Scenario::Spike => format!("spike ({})", kinds[0].name()),
            s => s.name().to_owned(),
        },
        url: match kinds.as_slice() {
            [only] => ctx.url(*only).to_owned(),
            _ => format!("{}/{}", target.base_url, target.tenant),
        },
        rate: args.rate,
        duration_s: cfg.plan.duration().as_secs_f64(),
        connections,
        max_in_flight: cfg.max_in_flight,
        timeout_s: args.timeout,
        scheduled: cfg.plan.total(),
        mix: (args.scenario == Scenario::Mixed).then(|| cfg.plan.mix.to_string()),
        phases: cfg
            .plan
            .phases
            .iter()
            .enumerate()
            .map(|(i, p)| PhaseInfo {
                name: p.name.to_owned(),
                rate: p.rate,
                start_s: cfg.plan.phase_start(i).as_secs_f64(),
                duration_s: p.duration.as_secs_f64(),
            })
            .collect(),
    };
    eprintln!(
        "tollgate-load: {} requests to {} at {} req/s over {} s ...",
        info.scheduled, info.url, info.rate, info.duration_s
    );

    let cpu_before = runner::process_cpu_seconds();
    let (agg, scheduling_took) = runner::run(&cfg, ctx.clone()).await;
    let mut report = agg.finish(info, scheduling_took);
    report.chains = ctx.chains.as_ref().map(|c| c.stats());
    report.generator_cpu_s = runner::process_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    print!("{}", report.summary());

    if let (Some(pool), Some(path), Some(mut s)) = (&ctx.chains, &args.seed, seed_file) {
        if args.no_save_seed {
            println!(
                "seed       {} NOT updated: its refresh tokens are stale now",
                path.display()
            );
        } else {
            s.refresh_tokens = pool.live_tokens();
            s.save(path)?;
            println!(
                "seed       {} updated: {} live chains",
                path.display(),
                s.refresh_tokens.len()
            );
        }
    }
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
        let reference = (report.run.phases.len() == 1).then_some(report.run.rate);
        std::fs::write(path, svg::render(&report.timeline, &title, reference))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("chart      {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> RunArgs {
        let argv = ["tollgate-load", "run"].iter().chain(extra);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Run(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn plans_follow_the_scenario() {
        let a = args(&["--scenario", "jwks", "--rate", "10", "--duration", "2"]);
        let p = plan(&a, 1).unwrap();
        assert_eq!((p.total(), p.phases.len()), (20, 1));
        assert_eq!(p.mix.to_string(), "jwks=1");

        let a = args(&["--scenario", "mixed", "--rate", "10", "--duration", "1"]);
        assert_eq!(plan(&a, 1).unwrap().mix.to_string(), Mix::DEFAULT);
        let a = args(&[
            "--scenario",
            "mixed",
            "--rate",
            "1",
            "--duration",
            "1",
            "--mix",
            "jwks=1,nope=2",
        ]);
        assert!(plan(&a, 1).unwrap_err().contains("--mix"));

        let a = args(&["--scenario", "login", "--rate", "1"]);
        assert!(plan(&a, 1).unwrap_err().contains("--duration"));

        let a = args(&[
            "--scenario",
            "spike",
            "--rate",
            "10",
            "--factor",
            "3",
            "--before",
            "1",
            "--spike",
            "2",
            "--after",
            "1",
            "--spike-scenario",
            "refresh",
        ]);
        let p = plan(&a, 1).unwrap();
        assert_eq!(p.total(), 10 + 60 + 10);
        assert_eq!(p.mix.to_string(), "refresh=1");
        let a = args(&["--scenario", "spike", "--rate", "1", "--duration", "3"]);
        assert!(plan(&a, 1).is_err());
    }
}
