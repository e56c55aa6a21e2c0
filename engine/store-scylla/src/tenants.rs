//! [`TenantStore`]: the tenant directory in the global keyspace.

use async_trait::async_trait;

use crate::rows::{decode, encode};
use crate::{Placement, ScyllaStore};
use tollgate_store::{StoreError, StoreResult, TenantStore};
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::Tenant;

#[async_trait]
impl TenantStore for ScyllaStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let g = &self.inner.global;
        let record = encode(tenant);
        let values = (tenant.id.as_str(), tenant.region.as_str(), &record);
        match self.lwt(&g.tenant_insert, values).await {
            Ok(true) => {}
            Ok(false) => return Err(StoreError::Conflict),
            // Unknown outcome: a serial read says whether the tenant there is this one.
            Err(e) => {
                let row: Option<(Option<String>, Option<Vec<u8>>, Option<String>)> = self
                    .one(&g.tenant_get_serial, (tenant.id.as_str(),))
                    .await
                    .or(Err(e))?;
                match row.and_then(|(_, r, _)| r) {
                    Some(stored) if stored == record => {}
                    Some(_) => return Err(StoreError::Conflict),
                    None => {
                        return Err(StoreError::Unavailable(
                            "tenant creation did not complete".into(),
                        ));
                    }
                }
            }
        }
        self.inner
            .directory
            .insert(tenant.id.clone(), Placement::settled(&tenant.region));
        Ok(())
    }

    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        let row: Option<(Option<Vec<u8>>, Option<String>)> = self
            .one(&self.inner.global.tenant_get, (id.as_str(),))
            .await?;
        let Some((Some(record), moving_to)) = row else {
            return Ok(None);
        };
        let t: Tenant = decode(&record)?;
        let placement = Placement {
            region: t.region.clone(),
            moving_to,
        };
        self.inner.directory.insert(t.id.clone(), placement);
        Ok(Some(t))
    }

    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<bool> {
        // Conditional on the region and on no move running, so a move is never undone.
        let g = &self.inner.global;
        let r = tenant.region.as_str();
        let values = (encode(tenant), tenant.id.as_str(), r);
        self.lwt(&g.tenant_update, values).await
    }

    async fn update_tenant_if(&self, tenant: &Tenant, expected: &Tenant) -> StoreResult<bool> {
        // The condition compares the stored bytes as read, not a fresh encoding of
        // `expected` (a record written by an older release encodes differently).
        let g = &self.inner.global;
        let row: Option<(Option<String>, Option<Vec<u8>>, Option<String>)> = self
            .one(&g.tenant_get_serial, (tenant.id.as_str(),))
            .await?;
        let Some((_, Some(stored), None)) = row else {
            return Ok(false);
        };
        if decode::<Tenant>(&stored)? != *expected || expected.region != tenant.region {
            return Ok(false);
        }
        let r = tenant.region.as_str();
        let values = (encode(tenant), tenant.id.as_str(), r, stored);
        self.lwt(&g.tenant_update_if, values).await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let rows: Vec<(Option<Vec<u8>>,)> = self.all(&self.inner.global.tenant_list, ()).await?;
        rows.into_iter()
            .filter_map(|(r,)| r)
            .map(|r| decode(&r))
            .collect()
    }

    /// Fences the tenant (every node refuses its reads and writes once its cached directory
    /// entry expires), waits until every node has seen the fence and every write begun
    /// before it has ended, then copies the tenant's clients, keys, users (with their
    /// email claims, consents and second factors with their lookup claims), refresh chains
    /// (with every token row), denied tokens and audit events to the new region's keyspace,
    /// points the directory there and lifts the fence in one conditional write, and deletes
    /// the old copy. No write can land in the old region after its copy began, so nothing
    /// acknowledged is lost and nothing revoked comes back. While fenced (the wait plus the
    /// copy) the tenant answers 503 with Retry-After. Sessions, codes and challenges are
    /// not moved (they cannot be listed by tenant and are short-lived): the tenant's users
    /// are signed out and sign-ins in flight fail. A copy that fails lifts the fence again.
    /// A move interrupted while fenced is finished by moving to the same region again.
    /// Moving a tenant to the region it is in deletes what an interrupted move left in
    /// the other regions.
    async fn move_tenant(&self, id: &TenantId, region: &str) -> StoreResult<Option<Tenant>> {
        let g = &self.inner.global;
        let row: Option<(Option<String>, Option<Vec<u8>>, Option<String>)> =
            self.one(&g.tenant_get_serial, (id.as_str(),)).await?;
        let Some((current, Some(record), moving_to)) = row else {
            return Ok(None);
        };
        let mut tenant: Tenant = decode(&record)?;
        let current = current.unwrap_or_else(|| tenant.region.clone());
        let to = self.region(region)?.clone();
        match moving_to.as_deref() {
            None if current == region => {
                for other in self.inner.regions.values().filter(|r| r.name != region) {
                    self.purge_tenant(other, id).await?;
                }
                self.inner
                    .directory
                    .insert(id.clone(), Placement::settled(&current));
                return Ok(Some(tenant));
            }
            None => {
                let values = (region, id.as_str(), current.as_str());
                if !self.lwt(&g.tenant_fence, values).await? {
                    return Err(StoreError::Conflict);
                }
            }
            // The same move, interrupted: go on from the fence.
            Some(m) if m == region => {}
            Some(_) => return Err(StoreError::Conflict),
        }
        let fenced = Placement {
            region: current.clone(),
            moving_to: Some(region.to_owned()),
        };
        self.inner.directory.insert(id.clone(), fenced);
        tracing::info!(tenant = %id, from = %current, to = %region, wait_ms = self.inner.fence_wait.as_millis() as u64, "moving tenant: fenced; waiting for every node to see it");
        tokio::time::sleep(self.inner.fence_wait).await;
        let from = self.region(&current)?.clone();
        tracing::info!(tenant = %id, from = %current, to = %region, "moving tenant: copying its data");
        if let Err(e) = self.copy_tenant(&from, &to, id).await {
            if let Err(u) = self.lwt(&g.tenant_unfence, (id.as_str(), region)).await {
                tracing::error!(tenant = %id, error = %u, "could not lift the fence after a failed copy: move the tenant again");
            }
            self.inner.directory.invalidate(id);
            return Err(e);
        }
        tenant.region = region.to_owned();
        let values = (
            region,
            encode(&tenant),
            id.as_str(),
            current.as_str(),
            region,
        );
        if !self.lwt(&g.tenant_move, values).await? {
            // Another move or a deletion came first; what was copied stays unreferenced.
            return Err(StoreError::Conflict);
        }
        self.inner
            .directory
            .insert(id.clone(), Placement::settled(region));
        tracing::info!(tenant = %id, from = %current, to = %region, "tenant moved: deleting its data from the old region");
        self.purge_tenant(&from, id).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "tenant {id} moved to `{region}`, but deleting its data from `{current}` failed ({e}); moving it to `{region}` again finishes the deletion"
            ))
        })?;
        Ok(Some(tenant))
    }
}
