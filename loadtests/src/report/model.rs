//! The shape of a finished run's [`Report`], as printed and as serialised
//! to the `--out` JSON: run parameters, per-second stats, phases, spike
//! recovery and chain health. Plain data; building it is `aggregate`'s job.

use std::collections::BTreeMap;

use serde::Serialize;

use super::totals::{ErrorCounts, Totals};

/// After a spike, per-second p99 counts as recovered once it is within this
/// factor of the `before` phase's p99.
pub const RECOVERY_FACTOR: f64 = 1.5;

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
