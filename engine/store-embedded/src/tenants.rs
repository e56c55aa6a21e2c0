//! Tenant-level records: [`TenantStore`], [`ClientStore`] and [`KeyStore`].

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, key, tenant_prefix};
use tollgate_store::{ClientStore, KeyStore, StoreError, StoreResult, TenantStore};
use tollgate_vocab::ids::{ClientId, TenantId};
use tollgate_vocab::model::{Client, StoredKey, Tenant};

#[async_trait]
impl TenantStore for EmbeddedStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let t = tenant.clone();
        self.write(move |tx| {
            let k = t.id.as_str().as_bytes().to_vec();
            if tx.get(Ks::Tenants, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put_json(Ks::Tenants, k, &t);
            Ok(())
        })
        .await
    }

    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        self.get_json(Ks::Tenants, id.as_str().as_bytes())
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.scan_json(Ks::Tenants, b"")
    }

    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<bool> {
        let t = tenant.clone();
        self.write(move |tx| {
            let k = t.id.as_str().as_bytes().to_vec();
            match tx.get_json::<Tenant>(Ks::Tenants, &k)? {
                Some(cur) if cur.region == t.region => {
                    tx.put_json(Ks::Tenants, k, &t);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn update_tenant_if(&self, tenant: &Tenant, expected: &Tenant) -> StoreResult<bool> {
        let (t, expected) = (tenant.clone(), expected.clone());
        self.write(move |tx| {
            let k = t.id.as_str().as_bytes().to_vec();
            match tx.get_json::<Tenant>(Ks::Tenants, &k)? {
                Some(cur) if cur.region == t.region && cur == expected => {
                    tx.put_json(Ks::Tenants, k, &t);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn move_tenant(&self, id: &TenantId, region: &str) -> StoreResult<Option<Tenant>> {
        // One data directory holds every region it is given: only the record changes.
        let (k, region) = (id.as_str().as_bytes().to_vec(), region.to_owned());
        self.write(move |tx| {
            let Some(mut t) = tx.get_json::<Tenant>(Ks::Tenants, &k)? else {
                return Ok(None);
            };
            t.region = region;
            tx.put_json(Ks::Tenants, k, &t);
            Ok(Some(t))
        })
        .await
    }
}

#[async_trait]
impl ClientStore for EmbeddedStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        let c = client.clone();
        self.write(move |tx| {
            let k = key(&c.tenant, &[c.id.as_str().as_bytes()]);
            if tx.get(Ks::Clients, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put_json(Ks::Clients, k, &c);
            Ok(())
        })
        .await
    }

    async fn get_client(&self, tenant: &TenantId, id: &ClientId) -> StoreResult<Option<Client>> {
        self.get_json(Ks::Clients, &key(tenant, &[id.as_str().as_bytes()]))
    }

    async fn list_clients(&self, tenant: &TenantId) -> StoreResult<Vec<Client>> {
        self.scan_json(Ks::Clients, &tenant_prefix(tenant))
    }

    async fn update_client(&self, client: &Client) -> StoreResult<bool> {
        let c = client.clone();
        self.write(move |tx| {
            let k = key(&c.tenant, &[c.id.as_str().as_bytes()]);
            if tx.get(Ks::Clients, &k)?.is_none() {
                return Ok(false);
            }
            tx.put_json(Ks::Clients, k, &c);
            Ok(true)
        })
        .await
    }

    async fn delete_client(&self, tenant: &TenantId, id: &ClientId) -> StoreResult<bool> {
        let k = key(tenant, &[id.as_str().as_bytes()]);
        self.write(move |tx| {
            if tx.get(Ks::Clients, &k)?.is_none() {
                return Ok(false);
            }
            tx.delete(Ks::Clients, k);
            Ok(true)
        })
        .await
    }
}

#[async_trait]
impl KeyStore for EmbeddedStore {
    async fn put_keys(&self, keys: &[StoredKey]) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.write(move |tx| {
            for k in keys {
                tx.put_json(Ks::Keys, key(&k.tenant, &[k.kid.as_str().as_bytes()]), &k);
            }
            Ok(())
        })
        .await
    }

    async fn list_keys(&self, tenant: &TenantId) -> StoreResult<Vec<StoredKey>> {
        self.scan_json(Ks::Keys, &tenant_prefix(tenant))
    }
}
