//! SCIM 2.0 provisioning (RFC 7643/7644) at `{issuer}/scim/v2`: a tenant's provisioning
//! clients (an HR system, Okta, Entra ID) create, change, deactivate and delete its users.
//!
//! - this module: who is calling (a SCIM bearer token, hashed in the tenant record and
//!   compared in constant time), the discovery documents, and the sign-in gate that
//!   keeps a deactivated user out;
//! - [`tokens`]: the admin's side of tokens (create, list, revoke);
//! - [`users`]: `/Users`: the SCIM representation of a Tollgate user, create, read,
//!   replace, PATCH, delete, and lists with filters, sorting and pages;
//! - [`groups`]: `/Groups`: a Group is a role of the tenant, its members who hold it;
//! - [`bulk`]: `/Bulk`, one operation after another through the same flows.
//!
//! The pure parts (schemas, filters, PATCH, errors) are the `tollgate-scim` crate. Every
//! change is an audit event whose actor is `scim_token:{id}`, with no personal data.

use serde_json::Value;
use tollgate_scim::schema::{self, Limits};
use tollgate_scim::{ScimError, ScimResult};

use crate::engine::Engine;
use crate::error::EngineResult;
use crate::ids::{TenantId, UserId};
use crate::model::Hash32;

pub mod bulk;
pub mod groups;
pub mod tokens;
pub mod users;

/// The limits advertised in `ServiceProviderConfig` and enforced.
pub const LIMITS: Limits = Limits {
    bulk_max_operations: 100,
    bulk_max_payload: 1_048_576,
    max_results: 200,
};

/// Where SCIM tokens start, so that a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "tgscim_";

/// Who is calling: one of the tenant's SCIM tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimCaller {
    /// The tenant.
    pub tenant: TenantId,
    /// The token's id (public).
    pub token_id: String,
    /// The organisation the token is limited to, if any.
    pub organization: Option<String>,
}

impl ScimCaller {
    /// The audit trail's actor.
    pub fn actor(&self) -> String {
        format!("scim_token:{}", self.token_id)
    }
}

/// The SCIM area of the engine.
#[derive(Clone, Copy)]
pub struct Scim<'e>(&'e Engine);

impl std::ops::Deref for Scim<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.0
    }
}

impl Engine {
    /// SCIM provisioning.
    pub fn scim(&self) -> Scim<'_> {
        Scim(self)
    }

    /// Whether SCIM deactivated the user (`active: false`): no session may start.
    pub(crate) async fn scim_deactivated(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<bool> {
        Ok(self
            .rt()
            .store
            .get_scim_user(tenant, user)
            .await?
            .is_some_and(|s| !s.active))
    }
}

fn unauthorized() -> ScimError {
    ScimError::status(401, "a valid SCIM bearer token is required")
}

impl Scim<'_> {
    /// `{issuer}/scim/v2`.
    pub fn base(&self, tenant: &TenantId) -> String {
        format!("{}/scim/v2", self.issuer(tenant))
    }

    /// Who a bearer token is: one of the tenant's live SCIM tokens, or 401. Every live
    /// token's hash is compared in constant time, so the answer's timing says nothing
    /// about which (or whether a) token was close. An unknown tenant is a 401 too.
    pub async fn authenticate(&self, tenant: &str, bearer: Option<&str>) -> ScimResult<ScimCaller> {
        let tenant = TenantId::parse(tenant).map_err(|_| unauthorized())?;
        let token = bearer.ok_or_else(unauthorized)?;
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Err(unauthorized());
        }
        let t = match self.tenant(&tenant).await {
            Ok(t) => t,
            Err(crate::error::EngineError::NotFound(_)) => return Err(unauthorized()),
            Err(e) => return Err(e.into()),
        };
        let hash = Hash32::of(token.as_bytes());
        let mut found = None;
        for k in &t.scim.tokens {
            let same = crate::crypto::ct_eq(&k.hash.0, &hash.0);
            if same && k.revoked_at.is_none() {
                found = Some(k);
            }
        }
        let k = found.ok_or_else(unauthorized)?;
        Ok(ScimCaller {
            tenant,
            token_id: k.id.clone(),
            organization: k.organization.clone(),
        })
    }

    /// `/ServiceProviderConfig`.
    pub fn service_provider_config(&self, tenant: &TenantId) -> Value {
        let docs = "https://datatracker.ietf.org/doc/html/rfc7644";
        schema::service_provider_config(&self.base(tenant), docs, LIMITS)
    }

    /// `/Schemas`.
    pub fn schemas(&self, tenant: &TenantId) -> Vec<Value> {
        schema::schemas(&self.base(tenant))
    }

    /// `/ResourceTypes`.
    pub fn resource_types(&self, tenant: &TenantId) -> Vec<Value> {
        schema::resource_types(&self.base(tenant))
    }
}

/// A list response (RFC 7644 §3.4.2).
pub fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    serde_json::json!({
        "schemas": [schema::LIST],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
