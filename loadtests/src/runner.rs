//! The open-loop driver.
//!
//! The [`Plan`] fixes every arrival's due time up front, whether or not
//! earlier requests have finished. Each due arrival becomes its own task; it
//! waits for one of `connections` wire slots and performs its request (or,
//! for `login`, its whole multi-request flow). Its latency is counted from
//! the due time, so time spent queueing behind a slow server shows up in the
//! numbers instead of silently lowering the request rate (the "coordinated
//! omission" problem of closed-loop generators).
//!
//! At most `max_in_flight` requests (queued plus on the wire) exist at once;
//! a request that comes due while that bound is reached is recorded as
//! dropped and never sent. So is a refresh that finds no free chain.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Client;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::plan::Plan;
use crate::report::{Aggregator, DropReason, ErrorKind, Outcome, Status};
use crate::scenario::Ctx;

/// Everything needed to drive one run besides the [`Ctx`].
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub plan: Plan,
    /// Concurrent requests on the wire (and idle keep-alive connections kept).
    pub connections: usize,
    /// Bound on requests queued or on the wire; beyond it requests are dropped.
    pub max_in_flight: usize,
    /// A request not finished this long after its due time is a timeout.
    pub timeout: Duration,
}

/// CPU time (user plus system) this process has used so far, from
/// `/proc/self/stat`; `None` where that is not available.
pub fn process_cpu_seconds() -> Option<f64> {
    parse_proc_stat_cpu(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// `utime + stime` of a `/proc/<pid>/stat` line, in seconds. Linux counts
/// them in clock ticks of 1/100 s (`USER_HZ`, fixed at 100 for userspace).
fn parse_proc_stat_cpu(stat: &str) -> Option<f64> {
    // The command name (field 2) may contain spaces; fields after it are
    // plain. utime and stime are fields 14 and 15, i.e. the 12th and 13th
    // after the closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// The HTTP client of a run: a keep-alive pool of `connections`, no
/// automatic redirects (flows check each redirect themselves), no cookie
/// store (flows keep their own jar).
pub fn http_client(connections: usize, connect_timeout: Duration) -> reqwest::Result<Client> {
    Client::builder()
        .pool_max_idle_per_host(connections)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .build()
}

/// Execute the run and return the aggregated outcomes plus how long the
/// scheduling phase took. Returns once every started request has finished
/// or timed out, so it ends at most `timeout` after the last due time.
pub async fn run(cfg: &LoadConfig, ctx: Arc<Ctx>) -> (Aggregator, Duration) {
    let in_flight = Arc::new(Semaphore::new(cfg.max_in_flight));
    let wire = Arc::new(Semaphore::new(cfg.connections));
    let (tx, mut rx) = mpsc::unbounded_channel::<Outcome>();

    let collector = tokio::spawn(async move {
        let mut agg = Aggregator::new();
        while let Some(outcome) = rx.recv().await {
            agg.record(&outcome);
        }
        agg
    });

    let arrivals = cfg.plan.arrivals();
    let start = Instant::now();
    for (n, arrival) in arrivals.into_iter().enumerate() {
        let due = start + arrival.offset;
        if due > Instant::now() {
            sleep_until(due).await;
        }
        let outcome = move |status, finished| Outcome {
            scheduled: arrival.offset,
            finished,
            status,
            kind: arrival.kind.name(),
            phase: arrival.phase,
        };
        let dropped = |reason| outcome(Status::Dropped(reason), arrival.offset);
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            let _ = tx.send(dropped(DropReason::MaxInFlight));
            continue;
        };
        let job = match ctx.prepare(arrival.kind, n as u64) {
            Ok(job) => job,
            Err(reason) => {
                let _ = tx.send(dropped(reason));
                continue;
            }
        };
        let (tx, wire, ctx) = (tx.clone(), wire.clone(), ctx.clone());
        let deadline = due + cfg.timeout;
        tokio::spawn(async move {
            let attempt = async {
                let _slot = wire.acquire().await.expect("never closed");
                job.perform(&ctx).await
            };
            // On timeout the attempt is dropped, and with it any chain lease
            // (which retires the chain: its newest token is unknown now).
            let status = timeout_at(deadline, attempt)
                .await
                .unwrap_or(Status::Error(ErrorKind::Timeout));
            let _ = tx.send(outcome(status, start.elapsed()));
            drop(permit);
        });
    }
    let scheduling_took = start.elapsed();
    drop(tx);
    let agg = collector.await.expect("collector task panicked");
    (agg, scheduling_took)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_time_from_proc_stat() {
        let line = "4242 (tollgate load) R 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 3 0 99";
        assert_eq!(parse_proc_stat_cpu(line), Some(3.25));
        assert_eq!(parse_proc_stat_cpu("garbage"), None);
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(process_cpu_seconds().is_some());
        }
    }
}
