//! The audit trail: every state change appends an event (never updated). Hot paths hand
//! events to the store's next group commit; security events wait until they are durable.
//! Details about a user are sealed under the user's data key first.

use crate::crypto::random_token;
use crate::engine::Engine;
use crate::error::{EngineError, EngineResult};
use crate::ids::TenantId;
use crate::model::Event;

impl Engine {
    /// Appends an audit event without making the caller wait for it: it joins the store's
    /// next group commit (at most ~50 ms later on the embedded store). Used on hot paths;
    /// security events (reuse, revocation, admin actions) use `record_now`.
    pub fn record(&self, mut event: Event) {
        if self.seal_event_cached(&mut event).is_some() {
            // The owner's data key is not in memory: load it off the caller's path.
            let engine = self.clone();
            tokio::spawn(async move {
                if let Err(e) = engine.record_now(event).await {
                    tracing::error!(error = %e, "audit event lost");
                }
            });
            return;
        }
        let Err(event) = self.0.store.enqueue_event(Box::new(event)) else {
            return;
        };
        let store = self.0.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.append_events(std::slice::from_ref(&event)).await {
                tracing::error!(kind = %event.kind, error = %e, "audit event lost");
            }
        });
    }

    /// Appends an audit event and waits until it is durable.
    pub async fn record_now(&self, mut event: Event) -> EngineResult<()> {
        self.seal_event(&mut event).await?;
        self.0
            .store
            .append_events(&[event])
            .await
            .map_err(EngineError::from)
    }

    /// Builds an event stamped now.
    pub fn event(&self, tenant: &TenantId, kind: &str, success: bool) -> Event {
        Event {
            tenant: tenant.clone(),
            id: random_token::<9>(),
            at_ms: self.0.clock.now_millis(),
            kind: kind.to_owned(),
            actor: None,
            subject: None,
            client: None,
            ip: None,
            result: if success { "success" } else { "failure" }.to_owned(),
            detail: None,
            sealed: None,
            erased: false,
        }
    }
}
