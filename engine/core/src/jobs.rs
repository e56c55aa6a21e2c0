//! The engine's periodic jobs (expiry sweep, purge of deleted users), off the request
//! path; each stops when the engine is dropped.

use std::sync::Arc;

use crate::engine::Engine;
use crate::error::{EngineError, EngineResult};

impl Engine {
    /// Runs the purge of deleted users every `every`, off the request path.
    pub fn spawn_purger(&self, every: std::time::Duration) {
        self.spawn_every(every, "purge", |e| async move {
            e.account().purge_deleted_users().await.map(|n| n as u64)
        });
    }

    /// Runs the retention jobs every `every`: dormancy notices and erasures, the purge
    /// of audit events past each tenant's retention (DPDP Rules 6 and 8), and the erasure
    /// of children's accounts whose parent link expired.
    pub fn spawn_retention(&self, every: std::time::Duration) {
        self.spawn_every(every, "dormancy", |e| async move {
            e.account().run_dormancy().await.map(|r| r.total())
        });
        self.spawn_every(every, "event purge", |e| async move {
            e.account().purge_old_events().await
        });
        // Children's accounts no parent consented to in time (DPDP s. 9).
        self.spawn_every(every, "children expiry", |e| async move {
            e.account().expire_children().await.map(|n| n as u64)
        });
    }

    /// Starts the sweeper: deletes expired rows every `every` seconds until the engine
    /// is dropped.
    pub fn spawn_sweeper(&self, every: std::time::Duration) {
        self.spawn_every(every, "sweep", |e| async move {
            e.0.store
                .sweep_expired(e.now())
                .await
                .map_err(EngineError::from)
        });
    }

    /// Runs `job` every `every` until the engine is dropped; `what` names it in the logs.
    fn spawn_every<F, Fut>(&self, every: std::time::Duration, what: &'static str, job: F)
    where
        F: Fn(Engine) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = EngineResult<u64>> + Send,
    {
        let weak = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                match job(Engine(inner)).await {
                    Ok(n) if n > 0 => tracing::debug!(rows = n, job = what, "background job done"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, job = what, "background job failed"),
                }
            }
        });
    }
}
