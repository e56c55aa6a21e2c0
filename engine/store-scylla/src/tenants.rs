//! [`TenantStore`]: the tenant directory in the global keyspace.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode};
use tollgate_store::{StoreError, StoreResult, TenantStore};
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::Tenant;

#[async_trait]
impl TenantStore for ScyllaStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let g = &self.inner.global;
        let values = (tenant.id.as_str(), tenant.region.as_str(), encode(tenant));
        if !self.lwt(&g.tenant_insert, values).await? {
            return Err(StoreError::Conflict);
        }
        self.inner
            .directory
            .insert(tenant.id.clone(), tenant.region.clone());
        Ok(())
    }

    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&self.inner.global.tenant_get, (id.as_str(),))
            .await?;
        let Some(record) = row.and_then(|(r,)| r) else {
            return Ok(None);
        };
        let t: Tenant = decode(&record)?;
        self.inner.directory.insert(t.id.clone(), t.region.clone());
        Ok(Some(t))
    }

    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<bool> {
        // Conditional on the region, so a concurrent move is never undone.
        let g = &self.inner.global;
        let r = tenant.region.as_str();
        let values = (r, encode(tenant), tenant.id.as_str(), r);
        self.lwt(&g.tenant_move, values).await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let rows: Vec<(Option<Vec<u8>>,)> = self.all(&self.inner.global.tenant_list, ()).await?;
        rows.into_iter()
            .filter_map(|(r,)| r)
            .map(|r| decode(&r))
            .collect()
    }

    /// Copies the tenant's clients, keys, users (with their email claims, consents and
    /// second factors with their lookup claims), refresh chains (with every token row),
    /// denied tokens and audit events to the new region's keyspace, then points the
    /// directory there, then deletes them from the old keyspace. Sessions, codes and
    /// challenges are not moved (they cannot be listed by tenant and are short-lived): the
    /// tenant's users are signed out, sign-ins and one-time codes in flight fail, and those
    /// rows expire in the old region by TTL. Writes that other nodes make to the old region while the move
    /// runs, or until their directory cache expires, are lost: move tenants when idle.
    /// Moving a tenant to the region it is in deletes what an interrupted move left in
    /// the other regions.
    async fn move_tenant(&self, id: &TenantId, region: &str) -> StoreResult<Option<Tenant>> {
        let g = &self.inner.global;
        let row: Option<(Option<String>, Option<Vec<u8>>)> =
            self.one(&g.tenant_get_serial, (id.as_str(),)).await?;
        let Some((current, Some(record))) = row else {
            return Ok(None);
        };
        let mut tenant: Tenant = decode(&record)?;
        let current = current.unwrap_or_else(|| tenant.region.clone());
        let to = self.region(region)?.clone();
        if current == region {
            for other in self.inner.regions.values().filter(|r| r.name != region) {
                self.purge_tenant(other, id).await?;
            }
            self.inner.directory.insert(id.clone(), current);
            return Ok(Some(tenant));
        }
        let from = self.region(&current)?.clone();
        tracing::info!(tenant = %id, from = %current, to = %region, "moving tenant: copying its data");
        self.copy_tenant(&from, &to, id).await?;
        tenant.region = region.to_owned();
        let values = (region, encode(&tenant), id.as_str(), current.as_str());
        if !self.lwt(&g.tenant_move, values).await? {
            // Another move or a deletion came first; what was copied stays unreferenced.
            return Err(StoreError::Conflict);
        }
        self.inner.directory.insert(id.clone(), region.to_owned());
        tracing::info!(tenant = %id, from = %current, to = %region, "tenant moved: deleting its data from the old region");
        self.purge_tenant(&from, id).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "tenant {id} moved to `{region}`, but deleting its data from `{current}` failed ({e}); moving it to `{region}` again finishes the deletion"
            ))
        })?;
        Ok(Some(tenant))
    }
}
