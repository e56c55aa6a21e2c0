//! SCIM tokens, the admin's side: created (the token shown once, its SHA-256 kept in the
//! tenant record), listed (never the token), revoked (at once on this node; other nodes
//! read the tenant record again within their tenant cache's lifetime).

use serde::{Deserialize, Serialize};

use super::{Scim, TOKEN_PREFIX};
use crate::crypto::random_token;
use crate::error::{EngineError, EngineResult};
use crate::ids::TenantId;
use crate::model::Hash32;
use crate::model::scim::{MAX_TOKENS, ScimToken};

/// A token as the admin API lists it (no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimTokenInfo {
    /// Its id (the audit trail's actor is `scim_token:{id}`).
    pub id: String,
    /// The operator's name for it.
    pub name: String,
    /// The organisation it is limited to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Created, Unix seconds.
    pub created_at: u64,
    /// Revoked, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<u64>,
}

impl From<&ScimToken> for ScimTokenInfo {
    fn from(t: &ScimToken) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            organization: t.organization.clone(),
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A new token: shown this once.
#[derive(Clone, Serialize, Deserialize)]
pub struct CreatedScimToken {
    /// What is stored about it.
    #[serde(flatten)]
    pub info: ScimTokenInfo,
    /// The bearer token.
    pub token: String,
}

impl std::fmt::Debug for CreatedScimToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedScimToken")
            .field("info", &self.info)
            .field("token", &"<hidden>")
            .finish()
    }
}

impl Scim<'_> {
    /// Creates a token for the tenant, or for one of its organisations.
    pub async fn create_token(
        &self,
        tenant: &TenantId,
        name: &str,
        organization: Option<&str>,
    ) -> EngineResult<CreatedScimToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(EngineError::Invalid(
                "name must be 1 to 100 characters, without control characters".into(),
            ));
        }
        if let Some(org) = organization
            && self.rt().store.get_org(tenant, org).await?.is_none()
        {
            return Err(EngineError::NotFound("organization"));
        }
        let token = format!("{TOKEN_PREFIX}{}", random_token::<32>());
        let record = ScimToken {
            id: random_token::<9>(),
            name: name.to_owned(),
            hash: Hash32::of(token.as_bytes()),
            organization: organization.map(str::to_owned),
            created_at: self.now(),
            revoked_at: None,
        };
        let detail = format!(
            "id={} organization={}",
            record.id,
            record.organization.as_deref().unwrap_or("-")
        );
        let r = record.clone();
        self.admin()
            .change_tenant(tenant, "admin.scim_token_created", detail, move |t| {
                let live = t.scim.tokens.iter().filter(|k| k.revoked_at.is_none());
                if live.count() >= MAX_TOKENS {
                    return Err(EngineError::Invalid(format!(
                        "at most {MAX_TOKENS} live SCIM tokens per tenant: revoke one first"
                    )));
                }
                t.scim.tokens.push(r.clone());
                Ok(())
            })
            .await?;
        Ok(CreatedScimToken {
            info: ScimTokenInfo::from(&record),
            token,
        })
    }

    /// The tenant's tokens, revoked ones included, oldest first.
    pub async fn list_tokens(&self, tenant: &TenantId) -> EngineResult<Vec<ScimTokenInfo>> {
        let t = self.admin().stored_tenant(tenant).await?;
        Ok(t.scim.tokens.iter().map(ScimTokenInfo::from).collect())
    }

    /// Revokes a token; `NotFound` for an unknown id. Revoking twice keeps the first time.
    pub async fn revoke_token(&self, tenant: &TenantId, id: &str) -> EngineResult<ScimTokenInfo> {
        let now = self.now();
        let id_owned = id.to_owned();
        let t = self
            .admin()
            .change_tenant(
                tenant,
                "admin.scim_token_revoked",
                format!("id={id}"),
                move |t| {
                    let k = t
                        .scim
                        .tokens
                        .iter_mut()
                        .find(|k| k.id == id_owned)
                        .ok_or(EngineError::NotFound("SCIM token"))?;
                    k.revoked_at.get_or_insert(now);
                    Ok(())
                },
            )
            .await?;
        t.scim
            .tokens
            .iter()
            .find(|k| k.id == id)
            .map(ScimTokenInfo::from)
            .ok_or(EngineError::NotFound("SCIM token"))
    }
}
