//! Aggregation of request outcomes into an overall summary and a per-second
//! timeline. Everything here is pure (no I/O, no clocks) so it can be tested
//! by feeding it synthetic outcomes.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency the histograms track exactly (one hour, in µs); larger
/// values are clamped to it.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Why a request produced no HTTP response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Could not connect (refused, DNS, TLS handshake, ...).
    Connect,
    /// Not finished within the timeout, counted from the scheduled time.
    Timeout,
    /// Anything else (connection reset mid-body, protocol error, ...).
    Other,
}

/// What happened to one scheduled request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A complete HTTP response with this status code.
    Http(u16),
    /// A transport-level failure.
    Error(ErrorKind),
    /// Never started because `--max-in-flight` requests were outstanding.
    Dropped,
}

/// One scheduled request, with times measured from the start of the run.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// When the request was due to start (its open-loop arrival time).
    pub scheduled: Duration,
    /// When the response (or error) was fully received.
    pub finished: Duration,
    pub status: Status,
}

impl Outcome {
    /// Latency counted from the scheduled time, so queueing delay caused by
    /// an overloaded server or client is included (no coordinated omission).
    pub fn latency(&self) -> Duration {
        self.finished.saturating_sub(self.scheduled)
    }
}

/// Transport errors by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    pub connect: u64,
    pub timeout: u64,
    pub other: u64,
}

impl ErrorCounts {
    fn add(&mut self, kind: ErrorKind) {
        match kind {
            ErrorKind::Connect => self.connect += 1,
            ErrorKind::Timeout => self.timeout += 1,
            ErrorKind::Other => self.other += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.other
    }
}

/// Latency percentiles in microseconds, over requests that got an HTTP
/// response (any status).
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

/// Counts for one second of the run. Completions and errors are filed under
/// the second they finished in; drops under the second they were scheduled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecondStats {
    /// Seconds since the start of the run (bucket `[second, second + 1)`).
    pub second: u64,
    /// Requests that finished: responses of any status plus errors.
    pub completed: u64,
    /// Responses with a 2xx status.
    pub successes: u64,
    /// Responses with any other status, by status code.
    pub non_2xx: BTreeMap<u16, u64>,
    pub errors: ErrorCounts,
    pub dropped: u64,
    /// Median latency of the responses in this second (µs), if any.
    pub p50_us: Option<u64>,
    /// 99th percentile latency of the responses in this second (µs), if any.
    pub p99_us: Option<u64>,
}

/// Parameters of a run, echoed into the report.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub scenario: String,
    pub url: String,
    pub rate: f64,
    pub duration_s: f64,
    pub connections: usize,
    pub max_in_flight: usize,
    pub timeout_s: f64,
    /// Requests the schedule contained (`rate * duration`).
    pub scheduled: u64,
}

/// The full result of a run; serialised as the `--out` JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run: RunInfo,
    /// Time from the start until the last request finished.
    pub elapsed_s: f64,
    /// Requests that finished (responses plus errors).
    pub completed: u64,
    pub successes: u64,
    pub dropped: u64,
    /// `completed / elapsed_s`.
    pub achieved_rps: f64,
    /// Every HTTP status seen, including 2xx.
    pub status_counts: BTreeMap<u16, u64>,
    pub errors: ErrorCounts,
    /// `None` when no request got a response.
    pub latency_us: Option<LatencySummary>,
    pub timeline: Vec<SecondStats>,
}

/// Histogram for latencies in µs with the given precision.
fn histogram(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, sigfig)
        .expect("static histogram bounds are valid")
}

struct Bucket {
    stats: SecondStats,
    /// Per-second histograms use 2 significant digits (1% precision) to keep
    /// long runs small.
    latency: Histogram<u64>,
}

/// Collects [`Outcome`]s as they arrive and turns them into a [`Report`].
pub struct Aggregator {
    latency: Histogram<u64>,
    status_counts: BTreeMap<u16, u64>,
    errors: ErrorCounts,
    completed: u64,
    successes: u64,
    dropped: u64,
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
            latency: histogram(3),
            status_counts: BTreeMap::new(),
            errors: ErrorCounts::default(),
            completed: 0,
            successes: 0,
            dropped: 0,
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
                    completed: 0,
                    successes: 0,
                    non_2xx: BTreeMap::new(),
                    errors: ErrorCounts::default(),
                    dropped: 0,
                    p50_us: None,
                    p99_us: None,
                },
                latency: histogram(2),
            });
        }
        &mut self.seconds[second as usize]
    }

    pub fn record(&mut self, outcome: &Outcome) {
        self.last_finished = self.last_finished.max(outcome.finished);
        match outcome.status {
            Status::Dropped => {
                self.dropped += 1;
                self.bucket(outcome.scheduled).stats.dropped += 1;
            }
            Status::Error(kind) => {
                self.completed += 1;
                self.errors.add(kind);
                let bucket = self.bucket(outcome.finished);
                bucket.stats.completed += 1;
                bucket.stats.errors.add(kind);
            }
            Status::Http(code) => {
                let us = (outcome.latency().as_micros() as u64).max(1);
                self.completed += 1;
                *self.status_counts.entry(code).or_default() += 1;
                self.latency.saturating_record(us);
                let ok = (200..300).contains(&code);
                if ok {
                    self.successes += 1;
                }
                let bucket = self.bucket(outcome.finished);
                bucket.stats.completed += 1;
                if ok {
                    bucket.stats.successes += 1;
                } else {
                    *bucket.stats.non_2xx.entry(code).or_default() += 1;
                }
                bucket.latency.saturating_record(us);
            }
        }
    }

    /// Finish aggregation. `ran_for` is how long the scheduling phase took;
    /// the elapsed time is the later of that and the last completion.
    pub fn finish(self, run: RunInfo, ran_for: Duration) -> Report {
        let elapsed = self.last_finished.max(ran_for).as_secs_f64();
        let h = &self.latency;
        let latency_us = (!h.is_empty()).then(|| LatencySummary {
            min: h.min(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            max: h.max(),
        });
        let timeline = self
            .seconds
            .into_iter()
            .map(|b| {
                let mut stats = b.stats;
                if !b.latency.is_empty() {
                    stats.p50_us = Some(b.latency.value_at_quantile(0.50));
                    stats.p99_us = Some(b.latency.value_at_quantile(0.99));
                }
                stats
            })
            .collect();
        Report {
            run,
            elapsed_s: elapsed,
            completed: self.completed,
            successes: self.successes,
            dropped: self.dropped,
            achieved_rps: if elapsed > 0.0 {
                self.completed as f64 / elapsed
            } else {
                0.0
            },
            status_counts: self.status_counts,
            errors: self.errors,
            latency_us,
            timeline,
        }
    }
}

/// Formats microseconds as milliseconds with three decimals.
struct Ms(u64);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ms", self.0 as f64 / 1000.0)
    }
}

impl Report {
    /// Human-readable multi-line summary for stdout.
    pub fn summary(&self) -> String {
        let r = &self.run;
        let mut s = String::new();
        let _ = writeln!(s, "scenario   {} -> {}", r.scenario, r.url);
        let _ = writeln!(
            s,
            "rate       {:.1} req/s asked, {:.1} req/s achieved ({} finished in {:.2} s)",
            r.rate, self.achieved_rps, self.completed, self.elapsed_s
        );
        let _ = writeln!(
            s,
            "requests   {} scheduled, {} finished, {} ok (2xx), {} dropped (max in flight {})",
            r.scheduled, self.completed, self.successes, self.dropped, r.max_in_flight
        );
        let statuses: Vec<String> = self
            .status_counts
            .iter()
            .map(|(code, n)| format!("{code}: {n}"))
            .collect();
        let statuses = if statuses.is_empty() {
            "none".to_owned()
        } else {
            statuses.join(", ")
        };
        let _ = writeln!(s, "status     {statuses}");
        let e = &self.errors;
        let _ = writeln!(
            s,
            "errors     {} (connect {}, timeout {}, other {})",
            e.total(),
            e.connect,
            e.timeout,
            e.other
        );
        match &self.latency_us {
            Some(l) => {
                let _ = writeln!(
                    s,
                    "latency    p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
                    Ms(l.p50),
                    Ms(l.p90),
                    Ms(l.p99),
                    Ms(l.p99_9),
                    Ms(l.max)
                );
                let _ = writeln!(
                    s,
                    "           (measured from each request's scheduled start; min {}, mean {:.3} ms)",
                    Ms(l.min),
                    l.mean / 1000.0
                );
            }
            None => {
                let _ = writeln!(s, "latency    no responses");
            }
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
        }
    }

    #[test]
    fn timeline_buckets_by_completion_second() {
        let mut agg = Aggregator::new();
        agg.record(&outcome(0, 10, Status::Http(200)));
        agg.record(&outcome(250, 270, Status::Http(200)));
        // Scheduled in second 0 but finished in second 1.
        agg.record(&outcome(900, 1_100, Status::Http(503)));
        agg.record(&outcome(1_000, 2_000, Status::Error(ErrorKind::Timeout)));
        agg.record(&outcome(1_200, 1_200, Status::Error(ErrorKind::Connect)));
        // A drop is filed under its scheduled second.
        agg.record(&outcome(3_500, 3_500, Status::Dropped));
        let report = agg.finish(info(), ms(3_000));

        assert_eq!(report.completed, 5);
        assert_eq!(report.successes, 2);
        assert_eq!(report.dropped, 1);
        assert_eq!(report.status_counts, BTreeMap::from([(200, 2), (503, 1)]));
        assert_eq!(
            report.errors,
            ErrorCounts {
                connect: 1,
                timeout: 1,
                other: 0
            }
        );
        assert_eq!(report.elapsed_s, 3.5);

        let t = &report.timeline;
        assert_eq!(t.len(), 4);
        assert_eq!((t[0].completed, t[0].successes), (2, 2));
        assert_eq!((t[1].completed, t[1].successes), (2, 0));
        assert_eq!(t[1].non_2xx, BTreeMap::from([(503, 1)]));
        assert_eq!(t[1].errors.connect, 1);
        assert_eq!(t[2].completed, 1, "timeout finished at 2.000 s");
        assert_eq!(t[2].errors.timeout, 1);
        assert_eq!(t[2].p50_us, None, "errors carry no latency");
        assert_eq!(t[3].dropped, 1);
        assert_eq!(t[3].completed, 0);

        // Second 1 only has the 503 response at 200 ms latency.
        let p50 = t[1].p50_us.unwrap();
        assert!((198_000..=202_000).contains(&p50), "{p50}");
    }

    #[test]
    fn percentiles_come_from_scheduled_time() {
        let mut agg = Aggregator::new();
        for i in 1..=100 {
            agg.record(&outcome(0, i, Status::Http(200)));
        }
        let report = agg.finish(info(), ms(0));
        let l = report.latency_us.unwrap();
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
        assert!(report.latency_us.is_none());
        assert_eq!(report.achieved_rps, 0.0);
        assert!(report.timeline.is_empty());
        assert!(report.summary().contains("no responses"));
    }
}
