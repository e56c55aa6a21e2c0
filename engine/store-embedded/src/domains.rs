//! [`DomainStore`]: organisations' email domains, in one keyspace.
//!
//! Key shapes (after `tenant \0`): `d \0 domain` the claim; `o \0 org \0 domain` the
//! organisation's index of its claims (written and removed in the claim's own job).

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use tollgate_store::{DomainStore, StoreError, StoreResult};
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::org_domain::OrgDomain;

fn domain_key(t: &TenantId, domain: &str) -> Vec<u8> {
    key(t, &[b"d", domain.as_bytes()])
}
fn org_domain_key(t: &TenantId, org: &str, domain: &str) -> Vec<u8> {
    key(t, &[b"o", org.as_bytes(), domain.as_bytes()])
}

#[async_trait]
impl DomainStore for EmbeddedStore {
    async fn create_domain(&self, d: &OrgDomain) -> StoreResult<()> {
        let d = d.clone();
        self.write(move |tx| {
            let k = domain_key(&d.tenant, &d.domain);
            if tx.get(Ks::Domains, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put(
                Ks::Domains,
                org_domain_key(&d.tenant, &d.org_id, &d.domain),
                Vec::new(),
            );
            tx.put_json(Ks::Domains, k, &d);
            Ok(())
        })
        .await
    }

    async fn get_domain(&self, tenant: &TenantId, domain: &str) -> StoreResult<Option<OrgDomain>> {
        self.get_json(Ks::Domains, &domain_key(tenant, domain))
    }

    async fn update_domain(&self, d: &OrgDomain) -> StoreResult<bool> {
        let d = d.clone();
        self.write(move |tx| {
            let k = domain_key(&d.tenant, &d.domain);
            match tx.get_json::<OrgDomain>(Ks::Domains, &k)? {
                Some(cur) if cur.org_id == d.org_id => {
                    tx.put_json(Ks::Domains, k, &d);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn delete_domain(&self, tenant: &TenantId, org: &str, domain: &str) -> StoreResult<bool> {
        let (t, org, domain) = (tenant.clone(), org.to_owned(), domain.to_owned());
        self.write(move |tx| {
            let k = domain_key(&t, &domain);
            match tx.get_json::<OrgDomain>(Ks::Domains, &k)? {
                Some(cur) if cur.org_id == org => {
                    tx.delete(Ks::Domains, k);
                    tx.delete(Ks::Domains, org_domain_key(&t, &org, &domain));
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn list_org_domains(&self, tenant: &TenantId, org: &str) -> StoreResult<Vec<OrgDomain>> {
        let mut prefix = key(tenant, &[b"o", org.as_bytes()]);
        prefix.push(0);
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::Domains).prefix(&prefix) {
            let (k, _) = kv.into_inner().map_err(io)?;
            let domain = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            // An index entry whose claim is gone or another organisation's is skipped.
            if let Some(d) =
                self.get_json::<OrgDomain>(Ks::Domains, &domain_key(tenant, &domain))?
                && d.org_id == org
            {
                out.push(d);
            }
        }
        Ok(out)
    }
}
