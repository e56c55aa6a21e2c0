//! [`IdentityStore`]: federation connectors and linked upstream identities.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key, tenant_prefix};
use tollgate_store::{IdentityStore, StoreError, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Hash32;

fn link_key(tenant: &TenantId, provider: &str, k: &Hash32) -> Vec<u8> {
    key(tenant, &[provider.as_bytes(), &k.0])
}

fn link_user_key(tenant: &TenantId, user: &UserId, provider: &str, k: &Hash32) -> Vec<u8> {
    key(
        tenant,
        &[user.as_str().as_bytes(), provider.as_bytes(), &k.0],
    )
}

#[async_trait]
impl IdentityStore for EmbeddedStore {
    async fn put_connector(
        &self,
        connector: &tollgate_vocab::model::federation::Connector,
    ) -> StoreResult<()> {
        let c = connector.clone();
        self.write(move |tx| {
            tx.put_json(Ks::Connectors, key(&c.tenant, &[c.id.as_bytes()]), &c);
            Ok(())
        })
        .await
    }

    async fn get_connector(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Connector>> {
        self.get_json(Ks::Connectors, &key(tenant, &[id.as_bytes()]))
    }

    async fn list_connectors(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Vec<tollgate_vocab::model::federation::Connector>> {
        self.scan_json(Ks::Connectors, &tenant_prefix(tenant))
    }

    async fn delete_connector(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let k = key(tenant, &[id.as_bytes()]);
        self.write(move |tx| {
            let existed = tx.get(Ks::Connectors, &k)?.is_some();
            if existed {
                tx.delete(Ks::Connectors, k);
            }
            Ok(existed)
        })
        .await
    }

    async fn create_link(&self, link: &tollgate_vocab::model::federation::Link) -> StoreResult<()> {
        let l = link.clone();
        self.write(move |tx| {
            let k = link_key(&l.tenant, &l.provider, &l.key);
            if tx.get(Ks::Links, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put(
                Ks::LinksByUser,
                link_user_key(&l.tenant, &l.user_id, &l.provider, &l.key),
                k.clone(),
            );
            tx.put_json(Ks::Links, k, &l);
            Ok(())
        })
        .await
    }

    async fn find_link(
        &self,
        tenant: &TenantId,
        provider: &str,
        k: &Hash32,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Link>> {
        self.get_json(Ks::Links, &link_key(tenant, provider, k))
    }

    async fn list_links(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<tollgate_vocab::model::federation::Link>> {
        let mut out = Vec::new();
        let prefix = key(tenant, &[user.as_str().as_bytes(), b""]);
        for kv in self.inner.ks(Ks::LinksByUser).prefix(&prefix) {
            let (_, lk) = kv.into_inner().map_err(io)?;
            if let Some(l) =
                self.get_json::<tollgate_vocab::model::federation::Link>(Ks::Links, &lk)?
                && &l.user_id == user
            {
                out.push(l);
            }
        }
        Ok(out)
    }

    async fn update_link(
        &self,
        link: &tollgate_vocab::model::federation::Link,
    ) -> StoreResult<bool> {
        let l = link.clone();
        self.write(move |tx| {
            let k = link_key(&l.tenant, &l.provider, &l.key);
            match tx.get_json::<tollgate_vocab::model::federation::Link>(Ks::Links, &k)? {
                Some(cur) if cur.user_id == l.user_id => {
                    tx.put_json(Ks::Links, k, &l);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn delete_link(
        &self,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        k: &Hash32,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Link>> {
        let lk = link_key(tenant, provider, k);
        let uk = link_user_key(tenant, user, provider, k);
        let user = user.clone();
        self.write(move |tx| {
            match tx.get_json::<tollgate_vocab::model::federation::Link>(Ks::Links, &lk)? {
                Some(l) if l.user_id == user => {
                    tx.delete(Ks::Links, lk);
                    tx.delete(Ks::LinksByUser, uk);
                    Ok(Some(l))
                }
                _ => Ok(None),
            }
        })
        .await
    }
}
