//! [`OutboxStore`]: logout tokens waiting for delivery, one partition per tenant
//! (`logout_outbox`, schema/0008_logout_outbox.cql). Several gateway nodes read it; a
//! node claims a delivery with a lightweight transaction on its `next_at` before sending,
//! so two nodes do not both send it routinely. Every write to the table is conditional.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode, int, int32, uint};
use tollgate_store::{OutboxStore, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::LogoutDelivery;

#[async_trait]
impl OutboxStore for ScyllaStore {
    /// `INSERT ... IF NOT EXISTS`: ids are random, so "not applied" is an earlier attempt
    /// of ours that did apply.
    async fn enqueue_logouts(&self, items: &[LogoutDelivery]) -> StoreResult<()> {
        for d in items {
            let r = self.region_of(&d.tenant).await?;
            let values = (
                d.tenant.as_str(),
                d.id.as_str(),
                int(d.next_at),
                int32(d.attempts),
                encode(d),
            );
            self.lwt(&r.st.outbox_insert, values).await?;
        }
        Ok(())
    }

    async fn list_logouts(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> StoreResult<Vec<LogoutDelivery>> {
        let r = self.region_of(tenant).await?;
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let rows: Vec<(i64, i32, Vec<u8>)> = self
            .all(&r.st.outbox_list, (tenant.as_str(), limit))
            .await?;
        rows.into_iter()
            .map(|(next_at, attempts, record)| {
                let mut d: LogoutDelivery = decode(&record)?;
                d.next_at = uint(next_at)?;
                d.attempts = u32::try_from(attempts).unwrap_or(0);
                Ok(d)
            })
            .collect()
    }

    async fn claim_logout(
        &self,
        tenant: &TenantId,
        id: &str,
        seen: UnixTime,
        lease_until: UnixTime,
    ) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let values = (int(lease_until), tenant.as_str(), id, int(seen));
        self.lwt(&r.st.outbox_claim, values).await
    }

    async fn reschedule_logout(
        &self,
        tenant: &TenantId,
        id: &str,
        lease_until: UnixTime,
        attempts: u32,
        next_at: UnixTime,
    ) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let values = (
            int(next_at),
            int32(attempts),
            tenant.as_str(),
            id,
            int(lease_until),
        );
        self.lwt(&r.st.outbox_reschedule, values).await
    }

    async fn complete_logout(&self, tenant: &TenantId, id: &str) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        self.lwt(&r.st.outbox_remove, (tenant.as_str(), id))
            .await
            .map(drop)
    }
}
