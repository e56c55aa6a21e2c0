//! [`FactorStore`]: second factors and their lookup keys.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use tollgate_store::{FactorStore, StoreError, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Factor;

fn factor_key(tenant: &TenantId, user: &UserId, id: &str) -> Vec<u8> {
    key(tenant, &[user.as_str().as_bytes(), id.as_bytes()])
}

#[async_trait]
impl FactorStore for EmbeddedStore {
    async fn create_factor(&self, factor: &Factor) -> StoreResult<()> {
        let f = factor.clone();
        self.write(move |tx| {
            let k = factor_key(&f.tenant, &f.user_id, &f.id);
            if tx.get(Ks::Factors, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            if let Some(l) = &f.lookup {
                let lk = key(&f.tenant, &[l.as_bytes()]);
                if tx.get(Ks::FactorLookup, &lk)?.is_some() {
                    return Err(StoreError::Conflict);
                }
                tx.put(Ks::FactorLookup, lk, k.clone());
            }
            tx.put_json(Ks::Factors, k, &f);
            Ok(())
        })
        .await
    }

    async fn list_factors(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Factor>> {
        let mut all: Vec<Factor> =
            self.scan_json(Ks::Factors, &key(tenant, &[user.as_str().as_bytes(), b""]))?;
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    async fn get_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>> {
        self.get_json(Ks::Factors, &factor_key(tenant, user, id))
    }

    async fn find_factor(&self, tenant: &TenantId, lookup: &str) -> StoreResult<Option<Factor>> {
        let lk = key(tenant, &[lookup.as_bytes()]);
        let Some(fk) = self.inner.ks(Ks::FactorLookup).get(&lk).map_err(io)? else {
            return Ok(None);
        };
        self.get_json(Ks::Factors, &fk)
    }

    async fn update_factor(&self, factor: &Factor, expected_version: u64) -> StoreResult<bool> {
        let f = factor.clone();
        self.write(move |tx| {
            let k = factor_key(&f.tenant, &f.user_id, &f.id);
            match tx.get_json::<Factor>(Ks::Factors, &k)? {
                Some(cur) if cur.version == expected_version && cur.lookup == f.lookup => {
                    tx.put_json(Ks::Factors, k, &f);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn delete_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>> {
        let k = factor_key(tenant, user, id);
        self.write(move |tx| {
            let Some(f) = tx.get_json::<Factor>(Ks::Factors, &k)? else {
                return Ok(None);
            };
            if let Some(l) = &f.lookup {
                tx.delete(Ks::FactorLookup, key(&f.tenant, &[l.as_bytes()]));
            }
            tx.delete(Ks::Factors, k);
            Ok(Some(f))
        })
        .await
    }
}
