//! Enterprise sign-in per organisation, with home-realm discovery: an organisation claims
//! an email domain, proves it holds it with a DNS TXT record, and routes it to one of the
//! tenant's connectors (its company's identity provider). The sign-in page then sends an
//! address at that domain straight to that provider instead of asking a password, and a
//! user who comes back from it with a verified address at the domain joins the
//! organisation (just in time, without roles).
//!
//! **Proof.** The claim carries a random value; the organisation publishes
//! `tollgate-verification=<value>` as a TXT record at `_tollgate-challenge.<domain>`;
//! verifying looks it up through the binary's resolver. Only a verified claim routes or
//! grants membership, and a domain is claimed by one organisation of a tenant at a time.
//!
//! **Trust.** Membership comes from the connector's word about the address: only an
//! address the upstream marked verified, at a verified domain, through the very connector
//! the domain routes to. Another connector vouching for the same address grants nothing.
//!
//! Events: `org.domain_added`, `org.domain_verified` (and failed attempts, with the
//! reason), `org.domain_routed`, `org.domain_removed`, `org.joined_by_domain`.

use super::Federation;
use serde::Serialize;

use crate::crypto::random_token;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::org::Membership;
use crate::model::org_domain::{OrgDomain, email_domain, normalise_domain};
use crate::store::StoreError;

/// Most domains one organisation may claim.
pub const MAX_DOMAINS_PER_ORG: usize = 50;

/// Where the sign-in page sends an address: the organisation and its connector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HomeRealm {
    /// The organisation that holds the address's domain.
    pub org_id: String,
    /// The connector to start.
    pub connector: String,
}

/// Why a domain could not be verified (shown to the admin).
fn unverified(why: &str) -> EngineError {
    EngineError::Invalid(format!("domain not verified: {why}"))
}

impl Federation<'_> {
    async fn org_exists(&self, tenant: &TenantId, org: &str) -> EngineResult<()> {
        self.rt()
            .store
            .get_org(tenant, org)
            .await?
            .map(drop)
            .ok_or(EngineError::NotFound("organization"))
    }

    fn domain_event(&self, tenant: &TenantId, kind: &str, ok: bool, d: &OrgDomain, more: &str) {
        let mut ev = self.event(tenant, kind, ok);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("org={} domain={}{more}", d.org_id, d.domain));
        self.record(ev);
    }

    /// Claims `domain` for an organisation, unverified and unrouted; `Conflict` if the
    /// tenant has it already. The answer holds the TXT record to publish.
    pub async fn add_org_domain(
        &self,
        tenant: &TenantId,
        org: &str,
        domain: &str,
    ) -> EngineResult<OrgDomain> {
        self.org_exists(tenant, org).await?;
        let domain = normalise_domain(domain).map_err(EngineError::Invalid)?;
        let store = &self.rt().store;
        if store.list_org_domains(tenant, org).await?.len() >= MAX_DOMAINS_PER_ORG {
            return Err(EngineError::Invalid(format!(
                "an organisation may claim at most {MAX_DOMAINS_PER_ORG} domains"
            )));
        }
        let d = OrgDomain {
            tenant: tenant.clone(),
            domain,
            org_id: org.to_owned(),
            connector: None,
            token: random_token::<24>(),
            created_at: self.now(),
            verified_at: None,
        };
        store.create_domain(&d).await.map_err(|e| match e {
            StoreError::Conflict => EngineError::Conflict("domain"),
            e => e.into(),
        })?;
        self.domain_event(tenant, "org.domain_added", true, &d, "");
        Ok(d)
    }

    /// An organisation's claims.
    pub async fn org_domains(&self, tenant: &TenantId, org: &str) -> EngineResult<Vec<OrgDomain>> {
        self.org_exists(tenant, org).await?;
        Ok(self.rt().store.list_org_domains(tenant, org).await?)
    }

    /// One of an organisation's claims; `NotFound` if it is not this organisation's.
    async fn org_domain(
        &self,
        tenant: &TenantId,
        org: &str,
        domain: &str,
    ) -> EngineResult<OrgDomain> {
        let domain = normalise_domain(domain).map_err(|_| EngineError::NotFound("domain"))?;
        self.rt()
            .store
            .get_domain(tenant, &domain)
            .await?
            .filter(|d| d.org_id == org)
            .ok_or(EngineError::NotFound("domain"))
    }

    /// Looks up the claim's TXT record and marks it verified when the value is there.
    /// Refused with the reason otherwise (no record, another value, the lookup failed);
    /// a claim verified before stays verified.
    pub async fn verify_org_domain(
        &self,
        tenant: &TenantId,
        org: &str,
        domain: &str,
    ) -> EngineResult<OrgDomain> {
        let mut d = self.org_domain(tenant, org, domain).await?;
        let http = self
            .rt()
            .upstream_http
            .get()
            .cloned()
            .ok_or_else(|| unverified("DNS lookups are not configured"))?;
        let want = d.txt_value();
        let found = match http.txt_records(&d.txt_name()).await {
            Ok(records) => records,
            Err(e) => {
                tracing::warn!(domain = %d.domain, error = %e, "domain TXT lookup failed");
                self.domain_event(
                    tenant,
                    "org.domain_verified",
                    false,
                    &d,
                    " reason=lookup_failed",
                );
                return Err(unverified(&format!("no answer for {} (TXT)", d.txt_name())));
            }
        };
        if !found
            .iter()
            .any(|r| crate::crypto::ct_eq(r.trim().as_bytes(), want.as_bytes()))
        {
            self.domain_event(tenant, "org.domain_verified", false, &d, " reason=no_match");
            return Err(unverified(&format!(
                "{} has no TXT record {want:?}",
                d.txt_name()
            )));
        }
        d.verified_at = Some(self.now());
        if !self.rt().store.update_domain(&d).await? {
            return Err(EngineError::NotFound("domain"));
        }
        self.domain_event(tenant, "org.domain_verified", true, &d, "");
        Ok(d)
    }

    /// Routes a claim to one of the tenant's connectors (or, with `None`, stops routing).
    pub async fn route_org_domain(
        &self,
        tenant: &TenantId,
        org: &str,
        domain: &str,
        connector: Option<&str>,
    ) -> EngineResult<OrgDomain> {
        let mut d = self.org_domain(tenant, org, domain).await?;
        if let Some(c) = connector {
            self.connector(tenant, c)
                .await?
                .ok_or(EngineError::NotFound("connector"))?;
        }
        d.connector = connector.map(str::to_owned);
        if !self.rt().store.update_domain(&d).await? {
            return Err(EngineError::NotFound("domain"));
        }
        let more = format!(" connector={}", connector.unwrap_or("-"));
        self.domain_event(tenant, "org.domain_routed", true, &d, &more);
        Ok(d)
    }

    /// Gives up a claim.
    pub async fn remove_org_domain(
        &self,
        tenant: &TenantId,
        org: &str,
        domain: &str,
    ) -> EngineResult<()> {
        let d = self.org_domain(tenant, org, domain).await?;
        if !self
            .rt()
            .store
            .delete_domain(tenant, org, &d.domain)
            .await?
        {
            return Err(EngineError::NotFound("domain"));
        }
        self.domain_event(tenant, "org.domain_removed", true, &d, "");
        Ok(())
    }

    /// The verified, routed claim on `domain` whose organisation still exists.
    async fn live_route(&self, tenant: &TenantId, domain: &str) -> EngineResult<Option<OrgDomain>> {
        let Some(d) = self.rt().store.get_domain(tenant, domain).await? else {
            return Ok(None);
        };
        if d.verified_at.is_none() || d.connector.is_none() {
            return Ok(None);
        }
        if self.rt().store.get_org(tenant, &d.org_id).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(d))
    }

    /// Where an address typed on the sign-in page goes: its domain's organisation and
    /// enabled connector, when the domain is verified and routed; `None` otherwise (the
    /// password form as usual). Says nothing about whether an account exists.
    pub async fn home_realm(
        &self,
        tenant: &TenantId,
        email: &str,
    ) -> EngineResult<Option<HomeRealm>> {
        let Some(domain) = email_domain(email) else {
            return Ok(None);
        };
        let Some(d) = self.live_route(tenant, &domain).await? else {
            return Ok(None);
        };
        let connector = d.connector.unwrap_or_default();
        let enabled = self
            .connector(tenant, &connector)
            .await?
            .is_some_and(|c| c.enabled);
        Ok(enabled.then_some(HomeRealm {
            org_id: d.org_id,
            connector,
        }))
    }

    /// After a sign-in through `connector`: a user whose upstream-verified address is at
    /// a verified domain routed to that same connector joins its organisation, if not a
    /// member yet. Best effort for the sign-in: a failure is logged, never refused.
    pub(super) async fn join_by_domain(
        &self,
        tenant: &TenantId,
        user: &UserId,
        connector: &str,
        email: Option<&str>,
        email_verified: bool,
    ) {
        if !email_verified {
            return;
        }
        let Some(domain) = email.and_then(email_domain) else {
            return;
        };
        let joined = async {
            let Some(d) = self.live_route(tenant, &domain).await? else {
                return Ok::<_, EngineError>(None);
            };
            if d.connector.as_deref() != Some(connector) {
                return Ok(None);
            }
            let store = &self.rt().store;
            if store
                .get_membership(tenant, &d.org_id, user)
                .await?
                .is_some()
            {
                return Ok(None);
            }
            let m = Membership {
                tenant: tenant.clone(),
                org_id: d.org_id.clone(),
                user_id: user.clone(),
                roles: Vec::new(),
                joined_at: self.now(),
            };
            Ok(store.put_membership(&m).await?.then_some(d))
        }
        .await;
        match joined {
            Ok(Some(d)) => {
                let mut ev = self.event(tenant, "org.joined_by_domain", true);
                ev.actor = Some(user.to_string());
                ev.subject = ev.actor.clone();
                ev.detail = Some(format!(
                    "org={} domain={} provider={connector}",
                    d.org_id, d.domain
                ));
                self.record(ev);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "membership by domain not recorded"),
        }
    }
}
