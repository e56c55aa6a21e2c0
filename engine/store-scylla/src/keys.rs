//! [`KeyStore`]: signing keys, written one tenant's key ring at a time.

use std::collections::BTreeMap;

use ::scylla::statement::batch::{Batch, BatchType};
use async_trait::async_trait;

use crate::ScyllaStore;
use crate::errors::execution;
use crate::rows::{decode, encode};
use tollgate_store::{KeyStore, StoreResult};
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::StoredKey;

#[async_trait]
impl KeyStore for ScyllaStore {
    /// One batch on the tenant's key-ring partition: applied atomically.
    async fn put_keys(&self, keys: &[StoredKey]) -> StoreResult<()> {
        let mut by_tenant: BTreeMap<&TenantId, Vec<&StoredKey>> = BTreeMap::new();
        for k in keys {
            by_tenant.entry(&k.tenant).or_default().push(k);
        }
        for (tenant, keys) in by_tenant {
            let r = self.region_of(tenant).await?;
            let mut batch = Batch::new(BatchType::Unlogged);
            for _ in &keys {
                batch.append_statement(r.st.key_put.clone());
            }
            if let Some(p) = r.st.key_put.get_execution_profile_handle() {
                batch.set_execution_profile_handle(Some(p.clone()));
            }
            batch.set_is_idempotent(true);
            let values: Vec<(&str, &str, Vec<u8>)> = keys
                .iter()
                .map(|k| (tenant.as_str(), k.kid.as_str(), encode(*k)))
                .collect();
            self.session()
                .batch(&batch, values)
                .await
                .map_err(execution)?;
        }
        Ok(())
    }

    async fn list_keys(&self, tenant: &TenantId) -> StoreResult<Vec<StoredKey>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Option<Vec<u8>>)> =
            self.all(&r.st.key_list, (tenant.as_str(),)).await?;
        rows.into_iter()
            .filter_map(|(_, r)| r)
            .map(|r| decode(&r))
            .collect()
    }
}
