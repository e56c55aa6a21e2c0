//! [`OutboxStore`]: logout tokens waiting for delivery, one row per delivery under the
//! tenant's prefix. Every change goes through the writer, so a claim is a compare-and-set.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, decode, io, key};
use tollgate_store::{OutboxStore, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::LogoutDelivery;

#[async_trait]
impl OutboxStore for EmbeddedStore {
    async fn enqueue_logouts(&self, items: &[LogoutDelivery]) -> StoreResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let items = items.to_vec();
        self.write(move |tx| {
            for d in items {
                let k = key(&d.tenant, &[d.id.as_bytes()]);
                if tx.get(Ks::LogoutOutbox, &k)?.is_none() {
                    tx.put_json(Ks::LogoutOutbox, k, &d);
                }
            }
            Ok(())
        })
        .await
    }

    async fn list_logouts(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> StoreResult<Vec<LogoutDelivery>> {
        let mut out = Vec::new();
        for kv in self
            .inner
            .ks(Ks::LogoutOutbox)
            .prefix(key(tenant, &[b""]))
            .take(limit)
        {
            let (_, v) = kv.into_inner().map_err(io)?;
            out.push(decode(&v)?);
        }
        Ok(out)
    }

    async fn claim_logout(
        &self,
        tenant: &TenantId,
        id: &str,
        seen: UnixTime,
        lease_until: UnixTime,
    ) -> StoreResult<bool> {
        self.move_logout(tenant, id, seen, lease_until, None).await
    }

    async fn reschedule_logout(
        &self,
        tenant: &TenantId,
        id: &str,
        lease_until: UnixTime,
        attempts: u32,
        next_at: UnixTime,
    ) -> StoreResult<bool> {
        self.move_logout(tenant, id, lease_until, next_at, Some(attempts))
            .await
    }

    async fn complete_logout(&self, tenant: &TenantId, id: &str) -> StoreResult<()> {
        let k = key(tenant, &[id.as_bytes()]);
        self.write(move |tx| {
            tx.delete(Ks::LogoutOutbox, k);
            Ok(())
        })
        .await
    }
}

impl EmbeddedStore {
    /// Moves a delivery's `next_at` from `from` to `to` (and sets its attempts), if and
    /// only if it is still at `from`.
    async fn move_logout(
        &self,
        tenant: &TenantId,
        id: &str,
        from: UnixTime,
        to: UnixTime,
        attempts: Option<u32>,
    ) -> StoreResult<bool> {
        let k = key(tenant, &[id.as_bytes()]);
        self.write(move |tx| {
            let Some(mut d) = tx.get_json::<LogoutDelivery>(Ks::LogoutOutbox, &k)? else {
                return Ok(false);
            };
            if d.next_at != from {
                return Ok(false);
            }
            d.next_at = to;
            if let Some(a) = attempts {
                d.attempts = a;
            }
            tx.put_json(Ks::LogoutOutbox, k, &d);
            Ok(true)
        })
        .await
    }
}
