//! APIs (resource servers): what a tenant's clients get access tokens for. An API's
//! identifier is the `aud` of its tokens (RFC 9068 §3) and what `resource` (RFC 8707)
//! names; its scopes are what a client may be granted there.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::Admin;
use crate::error::{EngineError, EngineResult};
use crate::ids::TenantId;
use crate::model::{Api, Tenant};

/// Most APIs per tenant: they live in the tenant record, read on every grant.
pub const MAX_APIS: usize = 100;
/// Most scopes per API.
pub const MAX_SCOPES: usize = 100;

/// A new API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewApi {
    /// Absolute URI without a fragment: the audience of its tokens.
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// The scopes it defines.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Lifetime of its access tokens, seconds (60 to 86400); the tenant's when absent.
    #[serde(default)]
    pub access_token_ttl: Option<u64>,
}

fn invalid(msg: String) -> EngineError {
    EngineError::Invalid(msg)
}

/// Checks a resource indicator (RFC 8707 §2): an absolute URI without a fragment.
pub fn check_resource(identifier: &str) -> Result<(), String> {
    if identifier.is_empty() || identifier.len() > 200 {
        return Err("an API identifier must be 1-200 characters".into());
    }
    match url::Url::parse(identifier) {
        Ok(u) if u.fragment().is_none() => Ok(()),
        Ok(_) => Err(format!(
            "API identifier {identifier:?} must not have a fragment"
        )),
        Err(_) => Err(format!(
            "API identifier {identifier:?} must be an absolute URI, e.g. https://api.example.com/"
        )),
    }
}

/// Whether `s` is a scope token (RFC 6749 §3.3: printable ASCII but space, `"` and `\`).
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn check_new_api(new: &NewApi) -> EngineResult<Api> {
    check_resource(&new.identifier).map_err(invalid)?;
    let name = new.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(invalid("an API's name must be 1-200 characters".into()));
    }
    if new.scopes.len() > MAX_SCOPES {
        return Err(invalid(format!("an API has at most {MAX_SCOPES} scopes")));
    }
    let mut scopes: Vec<String> = Vec::with_capacity(new.scopes.len());
    for s in &new.scopes {
        if !is_scope_token(s) {
            return Err(invalid(format!(
                "scope {s:?} must be 1-64 printable characters without spaces, quotes or backslashes"
            )));
        }
        if crate::oauth::discovery::SCOPES.contains(&s.as_str()) {
            return Err(invalid(format!(
                "scope {s:?} is an OpenID Connect scope; an API names its own"
            )));
        }
        if scopes.contains(s) {
            return Err(invalid(format!("scope {s:?} is listed twice")));
        }
        scopes.push(s.clone());
    }
    if let Some(ttl) = new.access_token_ttl
        && !(60..=86_400).contains(&ttl)
    {
        return Err(invalid(
            "access_token_ttl must be 60 to 86400 seconds".into(),
        ));
    }
    Ok(Api {
        identifier: new.identifier.clone(),
        name: name.to_owned(),
        scopes,
        access_token_ttl: new.access_token_ttl,
    })
}

/// Checks what a machine client asks to be granted: registered APIs, their scopes.
pub fn check_api_grants(
    tenant: &Tenant,
    grants: &BTreeMap<String, Vec<String>>,
) -> EngineResult<()> {
    for (identifier, scopes) in grants {
        let api = tenant
            .api(identifier)
            .ok_or_else(|| invalid(format!("no API {identifier:?} in this tenant")))?;
        if let Some(s) = scopes.iter().find(|s| !api.scopes.contains(s)) {
            return Err(invalid(format!(
                "API {identifier:?} defines no scope {s:?}"
            )));
        }
    }
    Ok(())
}

impl Admin<'_> {
    /// Registers an API; `Conflict` if its identifier is taken. A compare-and-set on the
    /// stored tenant record, so a concurrent change to the tenant is kept.
    pub async fn create_api(&self, tenant: &TenantId, new: NewApi) -> EngineResult<Api> {
        let api = check_new_api(&new)?;
        self.change_tenant(tenant, "admin.api_created", api.identifier.clone(), |t| {
            if t.api(&api.identifier).is_some() {
                return Err(EngineError::Conflict("api"));
            }
            if t.apis.len() >= MAX_APIS {
                return Err(invalid(format!("a tenant has at most {MAX_APIS} APIs")));
            }
            t.apis.push(api.clone());
            Ok(())
        })
        .await?;
        Ok(api)
    }

    /// The tenant's APIs.
    pub async fn list_apis(&self, tenant: &TenantId) -> EngineResult<Vec<Api>> {
        Ok(self.tenant(tenant).await?.apis.clone())
    }

    /// Removes an API; whether it existed. Tokens already issued for it stay valid until
    /// they expire (they are self-contained); no new ones are issued.
    pub async fn delete_api(&self, tenant: &TenantId, identifier: &str) -> EngineResult<bool> {
        let removed = self
            .change_tenant(tenant, "admin.api_deleted", identifier.to_owned(), |t| {
                let before = t.apis.len();
                t.apis.retain(|a| a.identifier != identifier);
                if t.apis.len() == before {
                    return Err(EngineError::NotFound("api"));
                }
                Ok(())
            })
            .await;
        match removed {
            Ok(_) => Ok(true),
            Err(EngineError::NotFound("api")) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_indicators_are_absolute_uris_without_fragments() {
        for ok in [
            "https://api.example.com/",
            "https://api.example.com/orders",
            "urn:example:orders",
        ] {
            assert!(check_resource(ok).is_ok(), "{ok}");
        }
        for bad in ["", "orders", "/orders", "https://api.example.com/#x"] {
            assert!(check_resource(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_are_scope_tokens_and_not_oidc_ones() {
        let api = |scopes: &[&str]| NewApi {
            identifier: "https://api.example.com/".into(),
            name: "Orders".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            access_token_ttl: None,
        };
        assert!(check_new_api(&api(&["read:orders", "write:orders"])).is_ok());
        for bad in [
            &["read orders"][..],
            &["openid"],
            &["a\"b"],
            &["dup", "dup"],
            &[""],
        ] {
            assert!(check_new_api(&api(bad)).is_err(), "{bad:?}");
        }
        let mut long = api(&[]);
        long.access_token_ttl = Some(10);
        assert!(check_new_api(&long).is_err());
    }
}
