//! [`DomainStore`]: the email domains organisations claim for home-realm discovery.

use async_trait::async_trait;

use crate::StoreResult;
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::org_domain::OrgDomain;

/// Organisations' email domains, each unique in its tenant: the sign-in page finds the
/// one of an address in one read.
#[async_trait]
pub trait DomainStore {
    /// Claims a domain for its organisation; `Conflict` if the tenant has it already
    /// (for any organisation). Atomic: of two claims of one domain, one wins.
    async fn create_domain(&self, domain: &OrgDomain) -> StoreResult<()>;
    /// Reads the claim on a domain.
    async fn get_domain(&self, tenant: &TenantId, domain: &str) -> StoreResult<Option<OrgDomain>>;
    /// Replaces a claim (verified, routed) if it still belongs to the same organisation;
    /// `false` if it is gone or another organisation's now.
    async fn update_domain(&self, domain: &OrgDomain) -> StoreResult<bool>;
    /// Gives up a claim if it belongs to `org`; `false` if there was none of `org`'s.
    async fn delete_domain(&self, tenant: &TenantId, org: &str, domain: &str) -> StoreResult<bool>;
    /// An organisation's claims, by domain name.
    async fn list_org_domains(&self, tenant: &TenantId, org: &str) -> StoreResult<Vec<OrgDomain>>;
}
