//! The human-readable summary of a [`Report`] that `run` prints to stdout.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use super::model::{RECOVERY_FACTOR, Report};
use super::totals::{LatencySummary, Totals};

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
