//! Counts over a set of scheduled requests (the whole run, one kind or one
//! phase): [`Totals`] and the [`Acc`] that builds them from outcomes with
//! full-precision latency histograms.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::outcome::{DropReason, ErrorKind, Outcome, Status};

/// Highest latency the histograms track exactly (one hour, in µs); larger
/// values are clamped to it.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Transport and protocol errors by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    pub connect: u64,
    pub timeout: u64,
    pub protocol: u64,
    pub other: u64,
}

impl ErrorCounts {
    pub(super) fn add(&mut self, kind: ErrorKind) {
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
pub(super) fn histogram(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, sigfig)
        .expect("static histogram bounds are valid")
}

pub(super) fn latency_us(outcome: &Outcome) -> u64 {
    (outcome.latency().as_micros() as u64).max(1)
}

/// Accumulates [`Totals`] with full-precision histograms.
pub(super) struct Acc {
    totals: Totals,
    latency: Histogram<u64>,
    ok_latency: Histogram<u64>,
}

impl Acc {
    pub(super) fn new() -> Self {
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

    pub(super) fn record(&mut self, outcome: &Outcome) {
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

    pub(super) fn finish(self) -> Totals {
        Totals {
            latency_us: LatencySummary::of(&self.latency),
            success_latency_us: LatencySummary::of(&self.ok_latency),
            ..self.totals
        }
    }
}
