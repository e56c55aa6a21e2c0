//! [`DomainStore`]: organisations' email domains (`org_domains`, `org_domains_by_org`,
//! schema/0018_org_domains.cql). A claim is a lightweight transaction on the domain's
//! row, so one organisation wins a domain; the organisation's index row is written
//! before the claim and removed after it is given up, and readers check the claim.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode};
use tollgate_store::{DomainStore, StoreError, StoreResult};
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::org_domain::OrgDomain;

#[async_trait]
impl DomainStore for ScyllaStore {
    async fn create_domain(&self, d: &OrgDomain) -> StoreResult<()> {
        let r = self.region_of(&d.tenant).await?;
        let (t, org, domain) = (d.tenant.as_str(), d.org_id.as_str(), d.domain.as_str());
        self.write(&r.st.domain_index_put, (t, org, domain)).await?;
        if self
            .lwt(&r.st.domain_claim, (t, domain, org, encode(d)))
            .await?
        {
            return Ok(());
        }
        // Another organisation's (or this one's) claim stands. The index row just written
        // is removed only if the domain is not this organisation's already.
        if self
            .get_domain(&d.tenant, domain)
            .await?
            .is_none_or(|cur| cur.org_id != d.org_id)
        {
            self.write(&r.st.domain_index_delete, (t, org, domain))
                .await?;
        }
        Err(StoreError::Conflict)
    }

    async fn get_domain(&self, tenant: &TenantId, domain: &str) -> StoreResult<Option<OrgDomain>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self
            .one(&r.st.domain_get, (tenant.as_str(), domain))
            .await?;
        row.map(|(rec,)| decode(&rec)).transpose()
    }

    async fn update_domain(&self, d: &OrgDomain) -> StoreResult<bool> {
        let r = self.region_of(&d.tenant).await?;
        let values = (
            encode(d),
            d.tenant.as_str(),
            d.domain.as_str(),
            d.org_id.as_str(),
        );
        self.lwt(&r.st.domain_update, values).await
    }

    async fn delete_domain(&self, tenant: &TenantId, org: &str, domain: &str) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let gone = self.lwt(&r.st.domain_remove, (t, domain, org)).await?;
        if gone {
            self.write(&r.st.domain_index_delete, (t, org, domain))
                .await?;
        }
        Ok(gone)
    }

    async fn list_org_domains(&self, tenant: &TenantId, org: &str) -> StoreResult<Vec<OrgDomain>> {
        let r = self.region_of(tenant).await?;
        let names: Vec<(String,)> = self
            .all(&r.st.domain_index_list, (tenant.as_str(), org))
            .await?;
        let mut out = Vec::with_capacity(names.len());
        for (domain,) in names {
            if let Some(d) = self.get_domain(tenant, &domain).await?
                && d.org_id == org
            {
                out.push(d);
            }
        }
        Ok(out)
    }
}
