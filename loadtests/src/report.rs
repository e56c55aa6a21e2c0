//! Aggregation of request outcomes into totals (overall, per request kind,
//! per phase) and a per-second timeline. Everything here is pure (no I/O, no
//! clocks) so it can be tested by feeding it synthetic outcomes.
//!
//! Outcomes are kept apart in four classes throughout: successes (2xx),
//! overload answers (503 or 429, with or without `Retry-After`), other HTTP
//! statuses, and transport or protocol errors. Drops (never sent) are a
//! fifth, separate count.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency the histograms track exactly (one hour, in µs); larger
/// values are clamped to it.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// After a spike, per-second p99 counts as recovered once it is within this
/// factor of the `before` phase's p99.
pub const RECOVERY_FACTOR: f64 = 1.5;

/// Why a request produced no usable HTTP response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Could not connect (refused, DNS, TLS handshake, ...).
    Connect,
    /// Not finished within the timeout, counted from the scheduled time.
    Timeout,
    /// A response arrived but was not what the flow needs (no `Location`,
    /// no code in the redirect, no token in the body, ...). Says what.
    Protocol(&'static str),
    /// Anything else (connection reset mid-body, protocol error, ...).
    Other,
}

/// Why a scheduled request was never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// `--max-in-flight` requests were outstanding.
    MaxInFlight,
    /// A refresh came due while every seeded chain had a request in flight.
    NoFreeChain,
}

/// What happened to one scheduled request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A complete HTTP response with this status code (not 503 or 429).
    Http(u16),
    /// The server shed load: 503 or 429, and whether it sent `Retry-After`.
    Overloaded { code: u16, retry_after: bool },
    /// A transport-level or protocol failure.
    Error(ErrorKind),
    /// Never started.
    Dropped(DropReason),
}

impl Status {
    /// Classify a response status: 503 and 429 are overload answers.
    pub fn from_response(code: u16, retry_after: bool) -> Self {
        match code {
            429 | 503 => Status::Overloaded { code, retry_after },
            _ => Status::Http(code),
        }
    }

    /// A 2xx response.
    pub fn is_success(self) -> bool {
        matches!(self, Status::Http(code) if (200..300).contains(&code))
    }
}

/// One scheduled request, with times measured from the start of the run.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// When the request was due to start (its open-loop arrival time).
    pub scheduled: Duration,
    /// When the response (or error) was fully received.
    pub finished: Duration,
    pub status: Status,
    /// Name of the request kind (`jwks`, `login`, ...).
    pub kind: &'static str,
    /// Index of the run phase the request was scheduled in.
    pub phase: usize,
}

impl Outcome {
    /// Latency counted from the scheduled time, so queueing delay caused by
    /// an overloaded server or client is included (no coordinated omission).
    pub fn latency(&self) -> Duration {
        self.finished.saturating_sub(self.scheduled)
    }
}

/// Transport and protocol errors by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    pub connect: u64,
    pub timeout: u64,
    pub protocol: u64,
    pub other: u64,
}

impl ErrorCounts {
    fn add(&mut self, kind: ErrorKind) {
        match kind {
            ErrorKind::Connect => self.connect += 1,
            ErrorKind::Timeout => self.timeout += 1,
            ErrorKind::Protocol(_) => self.protocol += 1,
            ErrorKind::Other => self.other += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.protocol + self.other
    }
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub max: u64,
}

impl LatencySummary {
    fn of(h: &Histogram<u64>) -> Option<Self> {
        (!h.is_empty()).then(|| LatencySummary {
            min: h.min(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            max: h.max(),
        })
    }
}

/// Counts over a set of scheduled requests (the whole run, one kind or one
/// phase).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// Requests in the set: every other count is a part of this.
    pub scheduled: u64,
    /// Requests that finished: responses of any status plus errors.
    pub completed: u64,
    /// Responses with a 2xx status.
    pub successes: u64,
    /// 503 and 429 responses.
    pub overloaded: u64,
    /// Of those, how many carried a `Retry-After` header.
    pub overloaded_with_retry_after: u64,
    /// Responses that are neither 2xx nor 503/429, by status code.
    pub other_statuses: BTreeMap<u16, u64>,
    /// Every HTTP status seen, including 2xx and 503/429.
    pub status_counts: BTreeMap<u16, u64>,
    pub errors: ErrorCounts,
    /// Protocol errors by what was wrong.
    pub protocol_errors: BTreeMap<&'static str, u64>,
    /// Never sent, for either reason.
    pub dropped: u64,
    /// Of those, refreshes that found no free chain.
    pub dropped_no_chain: u64,
    /// Over every HTTP response (any status); `None` without responses.
    pub latency_us: Option<LatencySummary>,
    /// Over 2xx responses only.
    pub success_latency_us: Option<LatencySummary>,
}

/// Histogram for latencies in µs with the given precision.
fn histogram(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, sigfig)
        .expect("static histogram bounds are valid")
}

fn latency_us(outcome: &Outcome) -> u64 {
    (outcome.latency().as_micros() as u64).max(1)
}

/// Accumulates [`Totals`] with full-precision histograms.
struct Acc {
    totals: Totals,
    latency: Histogram<u64>,
    ok_latency: Histogram<u64>,
}

impl Acc {
    fn new() -> Self {
        Self {
            totals: Totals {
                scheduled: 0,
                completed: 0,
                successes: 0,
                overloaded: 0,
                overloaded_with_retry_after: 0,
                other_statuses: BTreeMap::new(),
                status_counts: BTreeMap::new(),
                errors: ErrorCounts::default(),
                protocol_errors: BTreeMap::new(),
                dropped: 0,
                dropped_no_chain: 0,
                latency_us: None,
                success_latency_us: None,
            },
            latency: histogram(3),
            ok_latency: histogram(3),
        }
    }

    fn record(&mut self, outcome: &Outcome) {
        let t = &mut self.totals;
        t.scheduled += 1;
        match outcome.status {
            Status::Dropped(reason) => {
                t.dropped += 1;
                if reason == DropReason::NoFreeChain {
                    t.dropped_no_chain += 1;
                }
                return;
            }
            Status::Error(kind) => {
                t.completed += 1;
                t.errors.add(kind);
                if let ErrorKind::Protocol(what) = kind {
                    *t.protocol_errors.entry(what).or_default() += 1;
                }
                return;
            }
            Status::Overloaded { code, retry_after } => {
                t.overloaded += 1;
                t.overloaded_with_retry_after += u64::from(retry_after);
                *t.status_counts.entry(code).or_default() += 1;
            }
            Status::Http(code) => {
                *t.status_counts.entry(code).or_default() += 1;
                if outcome.status.is_success() {
                    t.successes += 1;
                    self.ok_latency.saturating_record(latency_us(outcome));
                } else {
                    *t.other_statuses.entry(code).or_default() += 1;
                }
            }
        }
        t.completed += 1;
        self.latency.saturating_record(latency_us(outcome));
    }

    fn finish(self) -> Totals {
        Totals {
            latency_us: LatencySummary::of(&self.latency),
            success_latency_us: LatencySummary::of(&self.ok_latency),
            ..self.totals
        }
    }
}

/// Counts for one second of the run. Completions and errors are filed under
/// the second they finished in; `scheduled` and drops under the second they
/// were due in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecondStats {
    /// Seconds since the start of the run (bucket `[second, second + 1)`).
    pub second: u64,
    /// Requests due in this second.
    pub scheduled: u64,
    /// Requests that finished: responses of any status plus errors.
    pub completed: u64,
    /// Responses with a 2xx status.
    pub successes: u64,
    /// 503 and 429 responses.
    pub overloaded: u64,
    /// Responses that are neither 2xx nor 503/429, by status code.
    pub other_statuses: BTreeMap<u16, u64>,
    pub errors: ErrorCounts,
    pub dropped: u64,
    /// Median latency of all responses in this second (µs), if any.
    pub p50_us: Option<u64>,
    /// 99th percentile latency of all responses in this second (µs), if any.
    pub p99_us: Option<u64>,
    /// Median latency of the 2xx responses in this second (µs), if any.
    pub ok_p50_us: Option<u64>,
    /// 99th percentile latency of the 2xx responses in this second (µs).
    pub ok_p99_us: Option<u64>,
}

struct Bucket {
    stats: SecondStats,
    /// Per-second histograms use 2 significant digits (1% precision) to keep
    /// long runs small.
    latency: Histogram<u64>,
    ok_latency: Histogram<u64>,
}

/// One phase of the schedule, echoed into the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseInfo {
    pub name: String,
    pub rate: f64,
    pub start_s: f64,
    pub duration_s: f64,
}

/// Parameters of a run, echoed into the report.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub scenario: String,
    /// The endpoint, or the tenant's base URL for multi-endpoint scenarios.
    pub url: String,
    /// Arrival rate (of the first phase, for a spike).
    pub rate: f64,
    /// Length of the whole schedule.
    pub duration_s: f64,
    pub connections: usize,
    pub max_in_flight: usize,
    pub timeout_s: f64,
    /// Requests the schedule contained.
    pub scheduled: u64,
    /// The weights of a mixed run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<String>,
    pub phases: Vec<PhaseInfo>,
}

/// One phase's totals.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    #[serde(flatten)]
    pub info: PhaseInfo,
    /// Successes of the requests due in this phase, per second of the phase.
    pub successes_per_s: f64,
    #[serde(flatten)]
    pub totals: Totals,
}

/// How long the server took to get back to normal after a spike.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recovery {
    /// p99 of successes of the requests due in the `before` phase (µs).
    pub before_p99_us: u64,
    /// [`RECOVERY_FACTOR`] times that.
    pub threshold_us: u64,
    /// When the spike phase ended, from the start of the run.
    pub spike_end_s: f64,
    /// The first whole second at or after the spike's end whose p99 of
    /// successes was within the threshold; `None` if none was.
    pub recovered_second: Option<u64>,
    /// `recovered_second - spike_end_s`: 0 means the first second after
    /// the spike was already back to normal (1 s resolution).
    pub recovered_after_s: Option<f64>,
}

/// How the seeded refresh chains fared (refresh scenarios only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChainStats {
    /// Chains in the seed file.
    pub seeded: usize,
    /// Chains given up: refused (e.g. `invalid_grant`, a broken chain) or
    /// left in an unknown state by a timeout or transport error.
    pub retired: usize,
}

/// The full result of a run; serialised as the `--out` JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run: RunInfo,
    /// Time from the start until the last request finished.
    pub elapsed_s: f64,
    /// `completed / elapsed_s`.
    pub achieved_rps: f64,
    #[serde(flatten)]
    pub totals: Totals,
    /// Per request kind, when the run had more than one.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_kind: BTreeMap<&'static str, Totals>,
    /// Per phase, when the run had more than one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseReport>,
    /// For a spike run: the time to get back to normal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chains: Option<ChainStats>,
    /// CPU time the generator itself used during the run (seconds). Close
    /// to `elapsed_s` times its cores means the generator, not the server,
    /// may be the bottleneck.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator_cpu_s: Option<f64>,
    pub timeline: Vec<SecondStats>,
}

/// Collects [`Outcome`]s as they arrive and turns them into a [`Report`].
pub struct Aggregator {
    all: Acc,
    by_kind: BTreeMap<&'static str, Acc>,
    by_phase: Vec<Acc>,
    last_finished: Duration,
    seconds: Vec<Bucket>,
}

impl Default for Aggregator {
    fn default() -> Self {
        Self::new()
    }
}

impl Aggregator {
    pub fn new() -> Self {
        Self {
            all: Acc::new(),
            by_kind: BTreeMap::new(),
            by_phase: Vec::new(),
            last_finished: Duration::ZERO,
            seconds: Vec::new(),
        }
    }

    fn bucket(&mut self, at: Duration) -> &mut Bucket {
        let second = at.as_secs();
        while self.seconds.len() as u64 <= second {
            let next = self.seconds.len() as u64;
            self.seconds.push(Bucket {
                stats: SecondStats {
                    second: next,
                    scheduled: 0,
                    completed: 0,
                    successes: 0,
                    overloaded: 0,
                    other_statuses: BTreeMap::new(),
                    errors: ErrorCounts::default(),
                    dropped: 0,
                    p50_us: None,
                    p99_us: None,
                    ok_p50_us: None,
                    ok_p99_us: None,
                },
                latency: histogram(2),
                ok_latency: histogram(2),
            });
        }
        &mut self.seconds[second as usize]
    }

    pub fn record(&mut self, outcome: &Outcome) {
        self.last_finished = self.last_finished.max(outcome.finished);
        self.all.record(outcome);
        self.by_kind
            .entry(outcome.kind)
            .or_insert_with(Acc::new)
            .record(outcome);
        while self.by_phase.len() <= outcome.phase {
            self.by_phase.push(Acc::new());
        }
        self.by_phase[outcome.phase].record(outcome);

        self.bucket(outcome.scheduled).stats.scheduled += 1;
        if let Status::Dropped(_) = outcome.status {
            self.bucket(outcome.scheduled).stats.dropped += 1;
            return;
        }
        let us = latency_us(outcome);
        let bucket = self.bucket(outcome.finished);
        let s = &mut bucket.stats;
        s.completed += 1;
        match outcome.status {
            Status::Error(kind) => {
                s.errors.add(kind);
                return;
            }
            Status::Overloaded { .. } => s.overloaded += 1,
            Status::Http(_) if outcome.status.is_success() => {
                s.successes += 1;
                bucket.ok_latency.saturating_record(us);
            }
            Status::Http(code) => *s.other_statuses.entry(code).or_default() += 1,
            Status::Dropped(_) => unreachable!("handled above"),
        }
        bucket.latency.saturating_record(us);
    }

    /// Finish aggregation. `ran_for` is how long the scheduling phase took;
    /// the elapsed time is the later of that and the last completion.
    pub fn finish(self, run: RunInfo, ran_for: Duration) -> Report {
        let elapsed = self.last_finished.max(ran_for).as_secs_f64();
        let timeline: Vec<SecondStats> = self
            .seconds
            .into_iter()
            .map(|b| {
                let p = |h: &Histogram<u64>, q| (!h.is_empty()).then(|| h.value_at_quantile(q));
                SecondStats {
                    p50_us: p(&b.latency, 0.50),
                    p99_us: p(&b.latency, 0.99),
                    ok_p50_us: p(&b.ok_latency, 0.50),
                    ok_p99_us: p(&b.ok_latency, 0.99),
                    ..b.stats
                }
            })
            .collect();
        let by_kind = if self.by_kind.len() > 1 {
            self.by_kind
                .into_iter()
                .map(|(k, acc)| (k, acc.finish()))
                .collect()
        } else {
            BTreeMap::new()
        };
        let mut by_phase = self.by_phase.into_iter().map(Acc::finish);
        let phases: Vec<PhaseReport> = if run.phases.len() > 1 {
            run.phases
                .iter()
                .map(|info| {
                    let totals = by_phase.next().unwrap_or_else(|| Acc::new().finish());
                    PhaseReport {
                        info: info.clone(),
                        successes_per_s: totals.successes as f64 / info.duration_s.max(1e-9),
                        totals,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let recovery = spike_recovery(&phases, &timeline);
        let totals = self.all.finish();
        Report {
            run,
            elapsed_s: elapsed,
            achieved_rps: if elapsed > 0.0 {
                totals.completed as f64 / elapsed
            } else {
                0.0
            },
            totals,
            by_kind,
            phases,
            recovery,
            chains: None,
            generator_cpu_s: None,
            timeline,
        }
    }
}

/// For runs with `before` and `spike` phases: the first whole second at or
/// after the end of the spike whose p99 of successes is within
/// [`RECOVERY_FACTOR`] of the `before` phase's p99. `None` for other runs or
/// when the `before` phase had no successes.
pub fn spike_recovery(phases: &[PhaseReport], timeline: &[SecondStats]) -> Option<Recovery> {
    let find = |name| phases.iter().find(|p| p.info.name == name);
    let before_p99 = find("before")?.totals.success_latency_us?.p99;
    let spike = &find("spike")?.info;
    let spike_end = spike.start_s + spike.duration_s;
    let threshold = (before_p99 as f64 * RECOVERY_FACTOR) as u64;
    let recovered = timeline
        .iter()
        .filter(|s| s.second as f64 >= spike_end - 1e-9)
        .find(|s| s.ok_p99_us.is_some_and(|p99| p99 <= threshold))
        .map(|s| s.second);
    Some(Recovery {
        before_p99_us: before_p99,
        threshold_us: threshold,
        spike_end_s: spike_end,
        recovered_second: recovered,
        recovered_after_s: recovered.map(|s| s as f64 - spike_end),
    })
}

/// Formats microseconds as milliseconds with three decimals.
struct Ms(u64);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ms", self.0 as f64 / 1000.0)
    }
}

/// An optional latency as milliseconds, `-` when absent.
fn opt_ms(us: Option<u64>) -> String {
    us.map_or_else(|| "-".to_owned(), |v| Ms(v).to_string())
}

/// `400: 3, 401: 1`, or `none`.
fn counts<K: fmt::Display>(map: &BTreeMap<K, u64>) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    map.iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn latency_line(s: &mut String, label: &str, l: Option<&LatencySummary>) {
    match l {
        Some(l) => {
            let _ = writeln!(
                s,
                "{label:<11}p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
                Ms(l.p50),
                Ms(l.p90),
                Ms(l.p99),
                Ms(l.p99_9),
                Ms(l.max)
            );
        }
        None => {
            let _ = writeln!(s, "{label:<11}no responses");
        }
    }
}

/// `12 (Retry-After on 12)` style overload count.
fn overload_cell(t: &Totals) -> String {
    format!("{} (R-A {})", t.overloaded, t.overloaded_with_retry_after)
}

fn other_cell(t: &Totals) -> u64 {
    t.other_statuses.values().sum()
}

impl Report {
    /// Human-readable multi-line summary for stdout.
    pub fn summary(&self) -> String {
        let r = &self.run;
        let t = &self.totals;
        let mut s = String::new();
        let _ = writeln!(s, "scenario   {} -> {}", r.scenario, r.url);
        if let Some(mix) = &r.mix {
            let _ = writeln!(s, "mix        {mix}");
        }
        let _ = writeln!(
            s,
            "rate       {:.1} req/s asked, {:.1} req/s achieved ({} finished in {:.2} s)",
            r.rate, self.achieved_rps, t.completed, self.elapsed_s
        );
        let _ = writeln!(
            s,
            "requests   {} scheduled, {} finished, {} ok (2xx), {} dropped (max in flight {})",
            r.scheduled, t.completed, t.successes, t.dropped, r.max_in_flight
        );
        if t.dropped_no_chain > 0 {
            let _ = writeln!(
                s,
                "           {} of the drops found every refresh chain busy: seed more chains (--chains)",
                t.dropped_no_chain
            );
        }
        let _ = writeln!(
            s,
            "overload   {} answered 503/429 ({} with Retry-After)",
            t.overloaded, t.overloaded_with_retry_after
        );
        let _ = writeln!(s, "other      {}", counts(&t.other_statuses));
        let e = &t.errors;
        let _ = writeln!(
            s,
            "errors     {} (connect {}, timeout {}, protocol {}, other {})",
            e.total(),
            e.connect,
            e.timeout,
            e.protocol,
            e.other
        );
        if !t.protocol_errors.is_empty() {
            let _ = writeln!(s, "protocol   {}", counts(&t.protocol_errors));
        }
        let _ = writeln!(s, "status     {}", counts(&t.status_counts));
        latency_line(&mut s, "latency", t.latency_us.as_ref());
        latency_line(&mut s, "ok latency", t.success_latency_us.as_ref());
        if let Some(l) = &t.latency_us {
            let _ = writeln!(
                s,
                "           (measured from each request's scheduled start; min {}, mean {:.3} ms)",
                Ms(l.min),
                l.mean / 1000.0
            );
        }
        if let Some(c) = &self.chains {
            let _ = writeln!(
                s,
                "chains     {} seeded, {} retired (broken or unknown state)",
                c.seeded, c.retired
            );
            if t.other_statuses.contains_key(&400) {
                let _ = writeln!(
                    s,
                    "           a 400 (invalid_grant) means a chain was revoked, e.g. because \
                     an older copy of the seed file presented rotated tokens"
                );
            }
        }
        if let Some(cpu) = self.generator_cpu_s {
            let _ = writeln!(
                s,
                "generator  {cpu:.2} CPU-seconds in {:.2} s ({:.0}% of one core)",
                self.elapsed_s,
                100.0 * cpu / self.elapsed_s.max(1e-9)
            );
        }
        if !self.by_kind.is_empty() {
            let _ = writeln!(
                s,
                "\n{:<10} {:>8} {:>8} {:>16} {:>6} {:>6} {:>7} {:>11} {:>11}",
                "kind", "sched", "ok", "503/429", "other", "errors", "dropped", "ok p50", "ok p99"
            );
            for (kind, k) in &self.by_kind {
                let l = k.success_latency_us.as_ref();
                let _ = writeln!(
                    s,
                    "{:<10} {:>8} {:>8} {:>16} {:>6} {:>6} {:>7} {:>11} {:>11}",
                    kind,
                    k.scheduled,
                    k.successes,
                    overload_cell(k),
                    other_cell(k),
                    k.errors.total(),
                    k.dropped,
                    opt_ms(l.map(|l| l.p50)),
                    opt_ms(l.map(|l| l.p99)),
                );
            }
        }
        if !self.phases.is_empty() {
            let _ = writeln!(
                s,
                "\n{:<7} {:>8} {:>6} {:>8} {:>16} {:>6} {:>6} {:>7} {:>11} {:>11}",
                "phase",
                "rate/s",
                "secs",
                "ok/s",
                "503/429",
                "other",
                "errors",
                "dropped",
                "ok p50",
                "ok p99"
            );
            for p in &self.phases {
                let k = &p.totals;
                let l = k.success_latency_us.as_ref();
                let _ = writeln!(
                    s,
                    "{:<7} {:>8.1} {:>6.1} {:>8.1} {:>16} {:>6} {:>6} {:>7} {:>11} {:>11}",
                    p.info.name,
                    p.info.rate,
                    p.info.duration_s,
                    p.successes_per_s,
                    overload_cell(k),
                    other_cell(k),
                    k.errors.total(),
                    k.dropped,
                    opt_ms(l.map(|l| l.p50)),
                    opt_ms(l.map(|l| l.p99)),
                );
            }
        }
        if let Some(rec) = &self.recovery {
            let _ = write!(
                s,
                "\nrecovery   before-phase p99 {}, threshold {} ({RECOVERY_FACTOR}x): ",
                Ms(rec.before_p99_us),
                Ms(rec.threshold_us)
            );
            let _ = match rec.recovered_after_s {
                Some(after) => writeln!(
                    s,
                    "back at second {} ({:.1} s after the spike ended at {:.1} s)",
                    rec.recovered_second.unwrap_or_default(),
                    after,
                    rec.spike_end_s
                ),
                None => writeln!(
                    s,
                    "not back by the end of the run (spike ended at {:.1} s)",
                    rec.spike_end_s
                ),
            };
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn outcome(scheduled: u64, finished: u64, status: Status) -> Outcome {
        Outcome {
            scheduled: ms(scheduled),
            finished: ms(finished),
            status,
            kind: "jwks",
            phase: 0,
        }
    }

    fn info() -> RunInfo {
        RunInfo {
            scenario: "jwks".into(),
            url: "http://127.0.0.1:1/demo/jwks.json".into(),
            rate: 4.0,
            duration_s: 3.0,
            connections: 1,
            max_in_flight: 10,
            timeout_s: 1.0,
            scheduled: 12,
            mix: None,
            phases: vec![PhaseInfo {
                name: "run".into(),
                rate: 4.0,
                start_s: 0.0,
                duration_s: 3.0,
            }],
        }
    }

    const OVERLOADED: Status = Status::Overloaded {
        code: 503,
        retry_after: true,
    };

    #[test]
    fn classifies_statuses() {
        assert_eq!(Status::from_response(200, false), Status::Http(200));
        assert_eq!(Status::from_response(503, true), OVERLOADED);
        assert_eq!(
            Status::from_response(429, false),
            Status::Overloaded {
                code: 429,
                retry_after: false
            }
        );
        assert_eq!(Status::from_response(500, true), Status::Http(500));
        assert!(Status::Http(204).is_success());
        assert!(!Status::Http(400).is_success());
        assert!(!OVERLOADED.is_success());
    }

    #[test]
    fn timeline_buckets_by_completion_second() {
        let mut agg = Aggregator::new();
        agg.record(&outcome(0, 10, Status::Http(200)));
        agg.record(&outcome(250, 270, Status::Http(200)));
        // Scheduled in second 0 but finished in second 1.
        agg.record(&outcome(900, 1_100, OVERLOADED));
        agg.record(&outcome(950, 1_150, Status::Http(400)));
        agg.record(&outcome(1_000, 2_000, Status::Error(ErrorKind::Timeout)));
        agg.record(&outcome(1_200, 1_200, Status::Error(ErrorKind::Connect)));
        let no_code = Status::Error(ErrorKind::Protocol("no code"));
        agg.record(&outcome(1_300, 1_400, no_code));
        // A drop is filed under its scheduled second.
        agg.record(&outcome(
            3_500,
            3_500,
            Status::Dropped(DropReason::MaxInFlight),
        ));
        let report = agg.finish(info(), ms(3_000));
        let t = &report.totals;

        assert_eq!(t.scheduled, 8);
        assert_eq!(t.completed, 7);
        assert_eq!(t.successes, 2);
        assert_eq!((t.overloaded, t.overloaded_with_retry_after), (1, 1));
        assert_eq!(t.other_statuses, BTreeMap::from([(400, 1)]));
        assert_eq!((t.dropped, t.dropped_no_chain), (1, 0));
        assert_eq!(
            t.status_counts,
            BTreeMap::from([(200, 2), (400, 1), (503, 1)])
        );
        assert_eq!(
            t.errors,
            ErrorCounts {
                connect: 1,
                timeout: 1,
                protocol: 1,
                other: 0
            }
        );
        assert_eq!(t.protocol_errors, BTreeMap::from([("no code", 1)]));
        assert_eq!(report.elapsed_s, 3.5);
        // Single kind, single phase: no breakdowns.
        assert!(report.by_kind.is_empty() && report.phases.is_empty());
        assert!(report.recovery.is_none());

        let tl = &report.timeline;
        assert_eq!(tl.len(), 4);
        assert_eq!(tl[0].scheduled, 4);
        assert_eq!((tl[0].completed, tl[0].successes), (2, 2));
        assert_eq!(
            (tl[1].completed, tl[1].successes, tl[1].overloaded),
            (4, 0, 1)
        );
        assert_eq!(tl[1].other_statuses, BTreeMap::from([(400, 1)]));
        assert_eq!((tl[1].errors.connect, tl[1].errors.protocol), (1, 1));
        assert_eq!(tl[1].ok_p99_us, None, "no successes finished in second 1");
        assert_eq!(tl[2].completed, 1, "timeout finished at 2.000 s");
        assert_eq!(tl[2].errors.timeout, 1);
        assert_eq!(tl[2].p50_us, None, "errors carry no latency");
        assert_eq!((tl[3].dropped, tl[3].scheduled, tl[3].completed), (1, 1, 0));

        // Second 1 has the 503 (200 ms) and the 400 (200 ms) responses.
        let p50 = tl[1].p50_us.unwrap();
        assert!((198_000..=202_000).contains(&p50), "{p50}");
        let text = report.summary();
        assert!(
            text.contains("1 answered 503/429 (1 with Retry-After)"),
            "{text}"
        );
        assert!(text.contains("other      400: 1"), "{text}");
        assert!(text.contains("protocol   no code: 1"), "{text}");
    }

    #[test]
    fn success_latency_excludes_overload_answers() {
        let mut agg = Aggregator::new();
        for i in 1..=10 {
            agg.record(&outcome(0, 100 * i, Status::Http(200)));
            agg.record(&outcome(0, 1, OVERLOADED));
        }
        let t = agg.finish(info(), ms(0)).totals;
        let ok = t.success_latency_us.unwrap();
        let all = t.latency_us.unwrap();
        assert!(ok.min >= 99_000, "{}", ok.min);
        assert!(all.min <= 1_000, "{}", all.min);
    }

    #[test]
    fn percentiles_come_from_scheduled_time() {
        let mut agg = Aggregator::new();
        for i in 1..=100 {
            agg.record(&outcome(0, i, Status::Http(200)));
        }
        let report = agg.finish(info(), ms(0));
        let l = report.totals.latency_us.unwrap();
        assert!((49_900..=50_100).contains(&l.p50), "{}", l.p50);
        assert!((98_900..=99_100).contains(&l.p99), "{}", l.p99);
        assert!((99_900..=100_100).contains(&l.max), "{}", l.max);
        assert!((report.achieved_rps - 1000.0).abs() < 1e-6);
        let text = report.summary();
        assert!(text.contains("200: 100"), "{text}");
        assert!(text.contains("p99 "), "{text}");
    }

    #[test]
    fn empty_run_reports_no_latency() {
        let report = Aggregator::new().finish(info(), Duration::ZERO);
        assert!(report.totals.latency_us.is_none());
        assert_eq!(report.achieved_rps, 0.0);
        assert!(report.timeline.is_empty());
        assert!(report.summary().contains("no responses"));
    }

    #[test]
    fn breaks_down_by_kind() {
        let mut agg = Aggregator::new();
        agg.record(&outcome(0, 5, Status::Http(200)));
        agg.record(&Outcome {
            kind: "refresh",
            ..outcome(0, 5, Status::Dropped(DropReason::NoFreeChain))
        });
        agg.record(&Outcome {
            kind: "refresh",
            ..outcome(0, 5, Status::Http(400))
        });
        let report = agg.finish(info(), ms(0));
        assert_eq!(report.by_kind.len(), 2);
        let r = &report.by_kind["refresh"];
        assert_eq!((r.scheduled, r.dropped, r.dropped_no_chain), (2, 1, 1));
        assert_eq!(r.other_statuses, BTreeMap::from([(400, 1)]));
        assert_eq!(report.by_kind["jwks"].successes, 1);
        let text = report.summary();
        assert!(text.contains("every refresh chain busy"), "{text}");
        assert!(text.contains("\nrefresh "), "{text}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["by_kind"]["refresh"]["dropped_no_chain"], 1);
        assert_eq!(json["successes"], 1, "totals are flattened");
    }

    /// A spike run: `before` (0-2 s) at 10 ms, `spike` (2-3 s) slow and
    /// shedding, `after` (3-6 s) slow for one more second, then normal.
    #[test]
    fn reports_phases_and_recovery() {
        let mut run = info();
        run.phases = vec![
            PhaseInfo {
                name: "before".into(),
                rate: 10.0,
                start_s: 0.0,
                duration_s: 2.0,
            },
            PhaseInfo {
                name: "spike".into(),
                rate: 50.0,
                start_s: 2.0,
                duration_s: 1.0,
            },
            PhaseInfo {
                name: "after".into(),
                rate: 10.0,
                start_s: 3.0,
                duration_s: 3.0,
            },
        ];
        let mut agg = Aggregator::new();
        let mut add = |at: u64, lat: u64, status, phase| {
            agg.record(&Outcome {
                phase,
                ..outcome(at, at + lat, status)
            })
        };
        for i in 0..20 {
            add(i * 100, 10, Status::Http(200), 0);
        }
        for i in 0..50 {
            let status = if i % 2 == 0 {
                OVERLOADED
            } else {
                Status::Http(200)
            };
            add(2_000 + i * 20, 400, status, 1);
        }
        for i in 0..30 {
            let lat = if i < 6 { 300 } else { 12 };
            add(3_000 + i * 100, lat, Status::Http(200), 2);
        }
        let report = agg.finish(run, ms(6_000));
        let p = &report.phases;
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].totals.successes, 20);
        assert!((p[0].successes_per_s - 10.0).abs() < 1e-9);
        assert_eq!((p[1].totals.successes, p[1].totals.overloaded), (25, 25));
        assert!((p[1].successes_per_s - 25.0).abs() < 1e-9);
        let rec = report.recovery.clone().unwrap();
        assert!((9_900..=10_100).contains(&rec.before_p99_us));
        assert_eq!(rec.spike_end_s, 3.0);
        // Second 3 still has the 400 ms spike stragglers and 300 ms
        // responses; second 4 is back to 12 ms.
        assert_eq!(rec.recovered_second, Some(4));
        assert_eq!(rec.recovered_after_s, Some(1.0));
        let text = report.summary();
        assert!(text.contains("back at second 4 (1.0 s after"), "{text}");
        assert!(text.contains("\nspike "), "{text}");
    }

    #[test]
    fn no_recovery_without_a_return_to_normal() {
        let phase = |name: &str, start_s| PhaseInfo {
            name: name.into(),
            rate: 1.0,
            start_s,
            duration_s: 1.0,
        };
        let mut agg = Aggregator::new();
        agg.record(&outcome(0, 10, Status::Http(200)));
        for (at, phase) in [(1_000, 1), (2_000, 2)] {
            agg.record(&Outcome {
                phase,
                ..outcome(at, at + 900, Status::Http(200))
            });
        }
        let mut run = info();
        run.phases = vec![
            phase("before", 0.0),
            phase("spike", 1.0),
            phase("after", 2.0),
        ];
        let rec = agg.finish(run, ms(3_000)).recovery.unwrap();
        assert_eq!(rec.recovered_second, None);
    }
}
