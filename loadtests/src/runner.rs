//! The open-loop driver.
//!
//! Request `i` is due at `start + i / rate`, whether or not earlier requests
//! have finished. Each due request becomes its own task; it waits for one of
//! `connections` wire slots, sends, and reads the whole body. Its latency is
//! counted from the due time, so time spent queueing behind a slow server
//! shows up in the numbers instead of silently lowering the request rate
//! (the "coordinated omission" problem of closed-loop generators).
//!
//! At most `max_in_flight` requests (queued plus on the wire) exist at once;
//! a request that comes due while that bound is reached is recorded as
//! dropped and never sent.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, RequestBuilder};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::{Instant, sleep_until, timeout_at};

use crate::report::{Aggregator, ErrorKind, Outcome, Status};
use crate::scenario::{Scenario, Target};

/// Everything needed to drive one run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub scenario: Scenario,
    pub target: Target,
    /// Arrivals per second.
    pub rate: f64,
    pub duration: Duration,
    /// Concurrent requests on the wire (and idle keep-alive connections kept).
    pub connections: usize,
    /// Bound on requests queued or on the wire; beyond it requests are dropped.
    pub max_in_flight: usize,
    /// A request not finished this long after its due time is a timeout.
    pub timeout: Duration,
}

/// Number of requests in the schedule: `rate * duration`, rounded down
/// (tolerating floating-point noise such as `0.29 * 100 = 28.999…`).
pub fn total_requests(rate: f64, duration: Duration) -> u64 {
    (rate * duration.as_secs_f64() + 1e-9).floor() as u64
}

/// Offset from the start of the run at which request `i` is due.
pub fn scheduled_offset(i: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(i as f64 / rate)
}

/// Execute the run and return the aggregated outcomes plus how long the
/// scheduling phase took. Returns once every started request has finished
/// or timed out, so it ends at most `timeout` after the last due time.
pub async fn run(cfg: &LoadConfig) -> Result<(Aggregator, Duration), reqwest::Error> {
    let client = Client::builder()
        .pool_max_idle_per_host(cfg.connections)
        .connect_timeout(cfg.timeout)
        .tcp_nodelay(true)
        .build()?;
    let url: Arc<str> = cfg.scenario.url(&cfg.target).into();
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

    let start = Instant::now();
    for i in 0..total_requests(cfg.rate, cfg.duration) {
        let offset = scheduled_offset(i, cfg.rate);
        let due = start + offset;
        if due > Instant::now() {
            sleep_until(due).await;
        }
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            let _ = tx.send(Outcome {
                scheduled: offset,
                finished: offset,
                status: Status::Dropped,
            });
            continue;
        };
        let request = cfg.scenario.request(&client, &url);
        let (tx, wire) = (tx.clone(), wire.clone());
        let deadline = due + cfg.timeout;
        tokio::spawn(async move {
            let status = timeout_at(deadline, execute(request, &wire))
                .await
                .unwrap_or(Status::Error(ErrorKind::Timeout));
            let _ = tx.send(Outcome {
                scheduled: offset,
                finished: start.elapsed(),
                status,
            });
            drop(permit);
        });
    }
    let scheduling_took = start.elapsed();
    drop(tx);
    let agg = collector.await.expect("collector task panicked");
    Ok((agg, scheduling_took))
}

/// Wait for a wire slot, send, and read the full body.
async fn execute(request: RequestBuilder, wire: &Semaphore) -> Status {
    let _slot = wire
        .acquire()
        .await
        .expect("wire semaphore is never closed");
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Status::Error(classify(&e)),
    };
    let code = response.status().as_u16();
    match response.bytes().await {
        Ok(_) => Status::Http(code),
        Err(e) => Status::Error(classify(&e)),
    }
}

fn classify(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_is_rate_times_duration() {
        assert_eq!(total_requests(500.0, Duration::from_secs(10)), 5000);
        assert_eq!(total_requests(0.29, Duration::from_secs(100)), 29);
        assert_eq!(total_requests(2.5, Duration::from_secs(3)), 7);
        assert_eq!(total_requests(0.5, Duration::from_secs(1)), 0);
    }

    #[test]
    fn offsets_are_evenly_spaced_from_zero() {
        assert_eq!(scheduled_offset(0, 500.0), Duration::ZERO);
        assert_eq!(scheduled_offset(1, 500.0), Duration::from_millis(2));
        assert_eq!(scheduled_offset(500, 500.0), Duration::from_secs(1));
        assert_eq!(scheduled_offset(3, 4.0), Duration::from_millis(750));
        // The last request of a run is due strictly before its end.
        let rate = 1000.0;
        let last = total_requests(rate, Duration::from_secs(2)) - 1;
        assert!(scheduled_offset(last, rate) < Duration::from_secs(2));
    }
}
