//! The engine's Prometheus counters and gauges, registered once per engine.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Counters and gauges the engine keeps.
#[derive(Clone)]
pub struct EngineMetrics {
    /// Tokens issued, by grant.
    pub tokens_issued: IntCounterVec,
    /// Refresh-token reuse detections.
    pub reuse_detected: IntCounter,
    /// Password sign-ins by result.
    pub logins: IntCounterVec,
    /// Password jobs waiting.
    pub password_queue: IntGauge,
    /// Password jobs refused because the queue was full.
    pub password_rejected: IntCounter,
    /// Jobs per store batch.
    pub store_batch_jobs: Histogram,
    /// Seconds per store batch commit (with fsync).
    pub store_batch_seconds: Histogram,
    /// Shard cache lookups by cache (`chain`, `session`) and result (`hit`, `miss`).
    pub cache: IntCounterVec,
    /// Messages waiting in or being handled by shards.
    pub shard_queue: IntGauge,
    /// Shard actors running now.
    pub shards_running: IntGauge,
    /// Write jobs waiting for the store's writer.
    pub store_queue: IntGauge,
    /// Requests refused because a bounded queue was full, by queue (`shard`, `store`).
    pub overloaded: IntCounterVec,
    /// Logout tokens a relying party accepted.
    pub logout_sent: IntCounter,
    /// Logout token attempts that failed (to be retried).
    pub logout_failed: IntCounter,
    /// Logout tokens given up after the longest retry age.
    pub logout_abandoned: IntCounter,
    /// Logout tokens waiting in the outbox, as this node's sender last saw them.
    pub logout_pending: IntGauge,
    /// WhatsApp codes by what became of them (`sent`, `delivered`, `read`, `failed`,
    /// `other`; `send_error`, `fallback` to SMS, `unknown` message ids in webhooks).
    pub whatsapp_statuses: IntCounterVec,
}

impl EngineMetrics {
    /// Creates and registers the metrics.
    #[allow(
        clippy::expect_used,
        reason = "constant names and labels, checked by every test that starts an engine"
    )]
    pub fn register(registry: &Registry) -> Self {
        let m = Self {
            tokens_issued: IntCounterVec::new(
                Opts::new(
                    "tollgate_tokens_issued_total",
                    "Token responses issued, by grant type",
                ),
                &["grant"],
            )
            .expect("metric"),
            reuse_detected: IntCounter::new(
                "tollgate_refresh_reuse_detected_total",
                "Refresh tokens presented again after rotation (chain revoked)",
            )
            .expect("metric"),
            logins: IntCounterVec::new(
                Opts::new("tollgate_logins_total", "Password sign-ins by result"),
                &["result"],
            )
            .expect("metric"),
            password_queue: IntGauge::new(
                "tollgate_password_queue_depth",
                "Password hashing jobs waiting",
            )
            .expect("metric"),
            password_rejected: IntCounter::new(
                "tollgate_password_rejected_total",
                "Password jobs refused because the hashing queue was full",
            )
            .expect("metric"),
            store_batch_jobs: Histogram::with_opts(
                HistogramOpts::new("tollgate_store_batch_jobs", "Write jobs per group commit")
                    .buckets(vec![
                        1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0,
                    ]),
            )
            .expect("metric"),
            store_batch_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "tollgate_store_batch_seconds",
                    "Group commit latency, with fsync",
                )
                .buckets(prometheus::exponential_buckets(0.0001, 2.0, 14).expect("buckets")),
            )
            .expect("metric"),
            cache: IntCounterVec::new(
                Opts::new(
                    "tollgate_cache_lookups_total",
                    "Shard cache lookups by cache and result",
                ),
                &["cache", "result"],
            )
            .expect("metric"),
            shard_queue: IntGauge::new(
                "tollgate_shard_queue_depth",
                "Messages queued or in progress in shard actors",
            )
            .expect("metric"),
            shards_running: IntGauge::new("tollgate_shards_running", "Shard actors running now")
                .expect("metric"),
            store_queue: IntGauge::new(
                "tollgate_store_queue_depth",
                "Write jobs waiting for the store writer",
            )
            .expect("metric"),
            overloaded: IntCounterVec::new(
                Opts::new(
                    "tollgate_overloaded_total",
                    "Requests refused because a bounded queue was full",
                ),
                &["queue"],
            )
            .expect("metric"),
            logout_sent: IntCounter::new(
                "tollgate_logout_tokens_sent_total",
                "Back-channel logout tokens a relying party accepted",
            )
            .expect("metric"),
            logout_failed: IntCounter::new(
                "tollgate_logout_token_failures_total",
                "Back-channel logout token attempts that failed and will be retried",
            )
            .expect("metric"),
            logout_abandoned: IntCounter::new(
                "tollgate_logout_tokens_abandoned_total",
                "Back-channel logout tokens given up after the longest retry age",
            )
            .expect("metric"),
            logout_pending: IntGauge::new(
                "tollgate_logout_tokens_pending",
                "Back-channel logout tokens waiting in the outbox",
            )
            .expect("metric"),
            whatsapp_statuses: IntCounterVec::new(
                Opts::new(
                    "tollgate_whatsapp_messages_total",
                    "WhatsApp codes by status (delivery webhooks, send errors, SMS fallbacks)",
                ),
                &["status"],
            )
            .expect("metric"),
        };
        for c in [
            Box::new(m.tokens_issued.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(m.reuse_detected.clone()),
            Box::new(m.logins.clone()),
            Box::new(m.password_queue.clone()),
            Box::new(m.password_rejected.clone()),
            Box::new(m.store_batch_jobs.clone()),
            Box::new(m.store_batch_seconds.clone()),
            Box::new(m.cache.clone()),
            Box::new(m.shard_queue.clone()),
            Box::new(m.store_queue.clone()),
            Box::new(m.shards_running.clone()),
            Box::new(m.overloaded.clone()),
            Box::new(m.logout_sent.clone()),
            Box::new(m.logout_failed.clone()),
            Box::new(m.logout_abandoned.clone()),
            Box::new(m.logout_pending.clone()),
            Box::new(m.whatsapp_statuses.clone()),
        ] {
            // A second engine in one process (tests) registers into its own registry.
            let _ = registry.register(c);
        }
        // Export every known series from the start, so dashboards and alerts see zeros
        // rather than nothing before the first event.
        for grant in ["authorization_code", "refresh_token"] {
            m.tokens_issued.with_label_values(&[grant]);
        }
        for result in ["success", "failure", "throttled"] {
            m.logins.with_label_values(&[result]);
        }
        for status in [
            "sent",
            "delivered",
            "read",
            "failed",
            "other",
            "send_error",
            "fallback",
            "unknown",
        ] {
            m.whatsapp_statuses.with_label_values(&[status]);
        }
        for cache in ["chain", "session"] {
            for result in ["hit", "miss"] {
                m.cache.with_label_values(&[cache, result]);
            }
        }
        for queue in ["shard", "store"] {
            m.overloaded.with_label_values(&[queue]);
        }
        m
    }
}

impl crate::store::BatchObserver for EngineMetrics {
    fn batch_committed(&self, jobs: usize, seconds: f64) {
        self.store_batch_jobs.observe(jobs as f64);
        self.store_batch_seconds.observe(seconds);
    }

    fn rejected(&self) {
        self.overloaded.with_label_values(&["store"]).inc();
    }
}
