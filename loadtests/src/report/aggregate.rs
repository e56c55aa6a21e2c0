//! Turns the stream of [`Outcome`]s into a [`Report`]: totals overall, per
//! kind and per phase, a per-second timeline, and spike recovery.
//!
//! Pure (no I/O, no clocks), so the tests feed it synthetic outcomes.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::model::{PhaseReport, RECOVERY_FACTOR, Recovery, Report, RunInfo, SecondStats};
use super::outcome::{Outcome, Status};
use super::totals::{Acc, ErrorCounts, histogram, latency_us};

/// One second of the timeline while outcomes are still arriving.
struct Bucket {
    stats: SecondStats,
    /// Per-second histograms use 2 significant digits (1% precision) to keep
    /// long runs small.
    latency: Histogram<u64>,
    ok_latency: Histogram<u64>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::PhaseInfo;
    use crate::report::outcome::{DropReason, ErrorKind};

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
