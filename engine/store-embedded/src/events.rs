//! [`EventStore`]: the audit trail and its per-user index.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, decode, event_key, event_user_keys, io, key, tenant_prefix};
use tollgate_store::{EventQuery, EventStore, StoreResult};
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::Event;

#[async_trait]
impl EventStore for EmbeddedStore {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        let events = events.to_vec();
        self.write(move |tx| {
            for e in events {
                for ik in event_user_keys(&e) {
                    tx.put(Ks::EventsByUser, ik, event_key(&e));
                }
                tx.put_json(Ks::Events, event_key(&e), &e);
            }
            Ok(())
        })
        .await
    }

    async fn recent_events(&self, tenant: &TenantId, limit: usize) -> StoreResult<Vec<Event>> {
        let mut out = Vec::new();
        for kv in self
            .inner
            .ks(Ks::Events)
            .prefix(tenant_prefix(tenant))
            .rev()
            .take(limit)
        {
            let (_, v) = kv.into_inner().map_err(io)?;
            out.push(decode(&v)?);
        }
        Ok(out)
    }

    async fn query_events(&self, tenant: &TenantId, q: &EventQuery) -> StoreResult<Vec<Event>> {
        // Keys end in `at (big-endian) \0 id`, so a time window is a key range under the
        // prefix: the tenant's, or the user's in the index.
        let (ks, mut prefix) = match &q.user {
            Some(u) => (Ks::EventsByUser, key(tenant, &[u.as_bytes()])),
            None => (Ks::Events, tenant.as_str().as_bytes().to_vec()),
        };
        prefix.push(0);
        let mut lo = prefix.clone();
        lo.extend_from_slice(&q.since_ms.unwrap_or(0).to_be_bytes());
        let mut hi = prefix.clone();
        hi.extend_from_slice(&q.until_ms.unwrap_or(u64::MAX).to_be_bytes());
        if let Some((at, id)) = &q.before {
            let mut cursor = prefix.clone();
            cursor.extend_from_slice(&at.to_be_bytes());
            cursor.push(0);
            cursor.extend_from_slice(id.as_bytes());
            hi = hi.min(cursor);
        }
        let mut out = Vec::new();
        for kv in self.inner.ks(ks).range(lo..hi).rev() {
            if out.len() >= q.limit {
                break;
            }
            let (_, v) = kv.into_inner().map_err(io)?;
            let e: Event = match ks {
                Ks::EventsByUser => match self.get_json(Ks::Events, &v)? {
                    Some(e) => e,
                    None => continue,
                },
                _ => decode(&v)?,
            };
            if q.matches(&e) && q.in_window(&e) {
                out.push(e);
            }
        }
        Ok(out)
    }
}
