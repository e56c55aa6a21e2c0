//! [`ChildStore`]: children's records (`children`, `children_pending`,
//! schema/0013_children.cql). The record is one row per child; a pending one also has an
//! index row in the tenant's `children_pending` partition, by expiry, for the expiry job.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode, int, int32};
use tollgate_store::{ChildStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::children::ChildRecord;

impl ScyllaStore {
    async fn index_pending(&self, r: &ChildRecord) -> StoreResult<()> {
        if let Some(at) = r.expires_at() {
            let reg = self.region_of(&r.tenant).await?;
            let values = (r.tenant.as_str(), int(at), r.user.as_str());
            self.write(&reg.st.child_pending_put, values).await?;
        }
        Ok(())
    }

    async fn unindex_pending(&self, r: &ChildRecord) -> StoreResult<()> {
        if let Some(at) = r.expires_at() {
            let reg = self.region_of(&r.tenant).await?;
            let values = (r.tenant.as_str(), int(at), r.user.as_str());
            self.write(&reg.st.child_pending_delete, values).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ChildStore for ScyllaStore {
    async fn put_child(&self, record: &ChildRecord) -> StoreResult<()> {
        let r = self.region_of(&record.tenant).await?;
        let earlier = self.get_child(&record.tenant, &record.user).await?;
        // The index row first: a pending record is never written that the job cannot find.
        self.index_pending(record).await?;
        let values = (record.tenant.as_str(), record.user.as_str(), encode(record));
        self.write(&r.st.child_put, values).await?;
        if let Some(old) = earlier.filter(|o| o.expires_at() != record.expires_at()) {
            self.unindex_pending(&old).await?;
        }
        Ok(())
    }

    async fn get_child(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Option<ChildRecord>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self
            .one(&r.st.child_get, (tenant.as_str(), user.as_str()))
            .await?;
        row.map(|(rec,)| decode(&rec)).transpose()
    }

    async fn update_child(&self, next: &ChildRecord, expected: &ChildRecord) -> StoreResult<bool> {
        if (&next.tenant, &next.user) != (&expected.tenant, &expected.user) {
            return Ok(false);
        }
        let r = self.region_of(&next.tenant).await?;
        self.index_pending(next).await?;
        let values = (
            encode(next),
            next.tenant.as_str(),
            next.user.as_str(),
            encode(expected),
        );
        let applied = self.lwt(&r.st.child_update_if, values).await?;
        if applied && expected.expires_at() != next.expires_at() {
            self.unindex_pending(expected).await?;
        }
        Ok(applied)
    }

    async fn list_pending_children(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> StoreResult<Vec<ChildRecord>> {
        let r = self.region_of(tenant).await?;
        // Stale index rows (a record moved on) are skipped: read a little more than asked.
        let want = int32(u32::try_from(limit.saturating_mul(2)).unwrap_or(u32::MAX));
        let rows: Vec<(i64, String)> = self
            .all(&r.st.child_pending_list, (tenant.as_str(), want))
            .await?;
        let mut out = Vec::new();
        for (at, user) in rows {
            if out.len() >= limit {
                break;
            }
            let user = UserId::from_stored(user);
            match self.get_child(tenant, &user).await? {
                Some(rec) if rec.expires_at().map(int) == Some(at) => out.push(rec),
                _ => {
                    let values = (tenant.as_str(), at, user.as_str());
                    self.write(&r.st.child_pending_delete, values).await?;
                }
            }
        }
        Ok(out)
    }

    async fn delete_child(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        if let Some(rec) = self.get_child(tenant, user).await? {
            self.lwt(&r.st.child_remove, (tenant.as_str(), user.as_str()))
                .await?;
            self.unindex_pending(&rec).await?;
        }
        Ok(())
    }
}
