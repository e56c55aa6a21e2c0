//! [`GrievanceStore`]: a tenant's grievance tickets (`grievances`, `grievances_by_user`,
//! schema/0010_grievances.cql), their messages sealed by the engine. The ticket lives in
//! the tenant's partition, keyed by its random id (the admin's list is one partition
//! read); an index row in the user's partition finds a user's tickets and erases them.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode, int, int32};
use tollgate_store::{GrievanceStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::grievance::Grievance;

fn oldest_first(all: &mut [Grievance]) {
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
}

#[async_trait]
impl GrievanceStore for ScyllaStore {
    async fn put_grievance(&self, g: &Grievance) -> StoreResult<()> {
        let r = self.region_of(&g.tenant).await?;
        let (t, u, id) = (g.tenant.as_str(), g.user_id.as_str(), g.id.as_str());
        // The index row first: a ticket is never written that its user cannot find.
        self.write(&r.st.grievance_index_put, (t, u, id)).await?;
        let values = (t, id, u, int(g.created_at), encode(g));
        self.write(&r.st.grievance_put, values).await
    }

    async fn update_grievance(&self, next: &Grievance, expected: &Grievance) -> StoreResult<bool> {
        if next.user_id != expected.user_id || next.id != expected.id {
            return Ok(false);
        }
        let r = self.region_of(&next.tenant).await?;
        let values = (
            encode(next),
            next.tenant.as_str(),
            next.id.as_str(),
            encode(expected),
        );
        self.lwt(&r.st.grievance_update_if, values).await
    }

    async fn get_grievance(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Grievance>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self.one(&r.st.grievance_get, (tenant.as_str(), id)).await?;
        row.map(|(rec,)| decode(&rec)).transpose()
    }

    async fn list_grievances(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> StoreResult<Vec<Grievance>> {
        let r = self.region_of(tenant).await?;
        let limit = int32(u32::try_from(limit).unwrap_or(u32::MAX));
        let rows: Vec<(Vec<u8>,)> = self
            .all(&r.st.grievance_list, (tenant.as_str(), limit))
            .await?;
        let mut all = rows
            .iter()
            .map(|(rec,)| decode(rec))
            .collect::<StoreResult<Vec<Grievance>>>()?;
        oldest_first(&mut all);
        Ok(all)
    }

    async fn list_user_grievances(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<Grievance>> {
        let r = self.region_of(tenant).await?;
        let ids: Vec<(String,)> = self
            .all(&r.st.grievance_user_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            // An index row whose ticket is gone (or another user's) is skipped.
            if let Some(g) = self.get_grievance(tenant, &id).await?
                && g.user_id == *user
            {
                out.push(g);
            }
        }
        oldest_first(&mut out);
        Ok(out)
    }

    async fn delete_user_grievances(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        let ids: Vec<(String,)> = self.all(&r.st.grievance_user_list, (t, u)).await?;
        for (id,) in ids {
            if let Some(g) = self.get_grievance(tenant, &id).await?
                && g.user_id == *user
            {
                self.lwt(&r.st.grievance_delete, (t, id.as_str())).await?;
            }
        }
        self.write(&r.st.grievance_user_delete, (t, u)).await
    }
}
