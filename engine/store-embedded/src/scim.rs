//! [`ScimStore`]: the SCIM side of users. `scim_users` holds `tenant \0 user` ->
//! ScimUser; `scim_external` indexes it as `tenant \0 external_key \0 user` (empty
//! value), so `externalId eq` is one prefix read. Both change in one write job, which
//! runs the version check first (the writer thread makes it atomic).

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use tollgate_store::{ScimStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::scim::ScimUser;

fn user_key(tenant: &TenantId, user: &UserId) -> Vec<u8> {
    key(tenant, &[user.as_str().as_bytes()])
}

fn external_key(tenant: &TenantId, external: &str, user: &UserId) -> Vec<u8> {
    key(tenant, &[external.as_bytes(), user.as_str().as_bytes()])
}

#[async_trait]
impl ScimStore for EmbeddedStore {
    async fn put_scim_user(
        &self,
        record: &ScimUser,
        expected_version: Option<u64>,
    ) -> StoreResult<bool> {
        let rec = record.clone();
        self.write(move |tx| {
            let k = user_key(&rec.tenant, &rec.user_id);
            let current: Option<ScimUser> = tx.get_json(Ks::ScimUsers, &k)?;
            if current.as_ref().map(|c| c.version) != expected_version {
                return Ok(false);
            }
            if let Some(old) = current.and_then(|c| c.external_key) {
                tx.delete(
                    Ks::ScimExternal,
                    external_key(&rec.tenant, &old, &rec.user_id),
                );
            }
            if let Some(new) = &rec.external_key {
                tx.put(
                    Ks::ScimExternal,
                    external_key(&rec.tenant, new, &rec.user_id),
                    Vec::new(),
                );
            }
            tx.put_json(Ks::ScimUsers, k, &rec);
            Ok(true)
        })
        .await
    }

    async fn get_scim_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Option<ScimUser>> {
        self.get_json(Ks::ScimUsers, &user_key(tenant, user))
    }

    async fn find_scim_users_by_external(
        &self,
        tenant: &TenantId,
        external: &str,
    ) -> StoreResult<Vec<UserId>> {
        let prefix = key(tenant, &[external.as_bytes(), b""]);
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::ScimExternal).prefix(&prefix) {
            let k = kv.key().map_err(io)?;
            let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            out.push(UserId::from_stored(id));
        }
        Ok(out)
    }

    async fn delete_scim_user(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let (tenant, user) = (tenant.clone(), user.clone());
        self.write(move |tx| {
            let k = user_key(&tenant, &user);
            let current: Option<ScimUser> = tx.get_json(Ks::ScimUsers, &k)?;
            if let Some(c) = current {
                if let Some(old) = c.external_key {
                    tx.delete(Ks::ScimExternal, external_key(&tenant, &old, &user));
                }
                tx.delete(Ks::ScimUsers, k);
            }
            Ok(())
        })
        .await
    }
}
