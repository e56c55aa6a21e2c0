//! The `client_credentials` grant (RFC 6749 §4.4): a machine client gets an access token
//! for itself (RFC 9068: `sub` is the client) to call one API, named by `resource`
//! (RFC 8707). One signature, no refresh token, no ID token, nothing written: the token is
//! self-contained, so the grant runs at the signing limit.

use super::TokenResponse;
use crate::crypto::random_token;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::TenantId;
use crate::model::{Api, Client, GrantType, Tenant};
use crate::oauth::OAuth;
use crate::oauth::claims::{AccessTokenClaims, Confirmation};

fn invalid_target(desc: &'static str) -> EngineError {
    EngineError::oauth(C::InvalidTarget, desc)
}

/// The API a request names, and the scopes this client may have there. With no
/// `resource`, the client's only API; an unknown API and one the client was not granted
/// get the same answer, so a client cannot map the tenant's APIs.
fn target<'t>(
    tenant: &'t Tenant,
    client: &'t Client,
    resource: Option<&str>,
) -> EngineResult<(&'t Api, &'t [String])> {
    let identifier = match resource {
        Some(r) => r,
        None => match client.api_grants.keys().collect::<Vec<_>>()[..] {
            [only] => only.as_str(),
            [] => return Err(invalid_target("this client may not call any API")),
            _ => {
                return Err(invalid_target(
                    "name the API with the resource parameter (RFC 8707)",
                ));
            }
        },
    };
    let unknown = "the resource is unknown or this client may not call it";
    let granted = client
        .api_grants
        .get(identifier)
        .ok_or_else(|| invalid_target(unknown))?;
    let api = tenant
        .api(identifier)
        .ok_or_else(|| invalid_target(unknown))?;
    Ok((api, granted))
}

/// The scope to grant: what was asked for (each granted to the client and still defined by
/// the API), or, when nothing was asked, all of that.
fn granted_scope(api: &Api, granted: &[String], asked: Option<&str>) -> EngineResult<String> {
    let allowed = |s: &str| granted.iter().any(|g| g == s) && api.scopes.iter().any(|a| a == s);
    let Some(asked) = asked else {
        let all: Vec<&str> = granted
            .iter()
            .map(String::as_str)
            .filter(|s| allowed(s))
            .collect();
        return Ok(all.join(" "));
    };
    let mut out: Vec<&str> = Vec::new();
    for s in asked.split(' ').filter(|s| !s.is_empty()) {
        if !allowed(s) {
            return Err(EngineError::oauth(
                C::InvalidScope,
                format!("scope {s:?} is not granted to this client for this API"),
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}

impl OAuth<'_> {
    /// Issues a machine client's own access token for one API.
    pub(super) async fn client_credentials_grant(
        &self,
        tenant: &TenantId,
        client: &Client,
        scope: Option<String>,
        resource: Option<String>,
        dpop_jkt: Option<String>,
    ) -> EngineResult<TokenResponse> {
        // A public client has nothing to prove itself with (RFC 6749 §4.4).
        if !client.is_confidential() || !client.allows(GrantType::ClientCredentials) {
            return Err(EngineError::oauth(
                C::UnauthorizedClient,
                "this client may not use client_credentials",
            ));
        }
        let t = self.tenant(tenant).await?;
        let (api, granted) = target(&t, client, resource.as_deref())?;
        let scope = granted_scope(api, granted, scope.as_deref())?;
        let ttl = api.access_token_ttl.unwrap_or(t.access_token_ttl);
        let now = self.now();
        let claims = AccessTokenClaims {
            iss: self.issuer(tenant),
            sub: client.id.to_string(),
            aud: api.identifier.clone(),
            client_id: client.id.clone(),
            exp: now + ttl,
            iat: now,
            jti: random_token::<16>(),
            scope: scope.clone(),
            auth_time: None,
            sid: None,
            cid: None,
            cnf: dpop_jkt.map(|jkt| Confirmation { jkt }),
            uid: None,
            act: None,
            org: Default::default(),
        };
        let ring = self.keyring(tenant).await?;
        let access_token = ring.active.sign_jwt("at+jwt", &claims)?;
        Ok(TokenResponse {
            access_token,
            token_type: claims.token_type(),
            expires_in: ttl,
            scope,
            id_token: None,
            refresh_token: None,
            issued_token_type: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ClientId;

    fn setup() -> (Tenant, Client) {
        let mut t = Tenant::new(TenantId::parse("acme").unwrap(), "Acme".into(), 0);
        for (id, scopes) in [
            ("https://orders.example/", &["read", "write"][..]),
            ("https://billing.example/", &["pay"][..]),
        ] {
            t.apis.push(Api {
                identifier: id.into(),
                name: id.into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                access_token_ttl: None,
            });
        }
        let mut c = Client::new(t.id.clone(), ClientId::parse("m2m").unwrap(), "M".into(), 0);
        c.api_grants
            .insert("https://orders.example/".into(), vec!["read".into()]);
        (t, c)
    }

    fn code(e: EngineError) -> C {
        match e {
            EngineError::OAuth(o) => o.code,
            other => panic!("not an OAuth error: {other:?}"),
        }
    }

    #[test]
    fn the_resource_must_be_an_api_the_client_was_granted() {
        let (t, mut c) = setup();
        let (api, granted) = target(&t, &c, None).unwrap();
        assert_eq!(api.identifier, "https://orders.example/");
        assert_eq!(granted, ["read".to_string()]);
        for bad in [
            "https://billing.example/",
            "https://unknown.example/",
            "orders",
        ] {
            assert_eq!(
                code(target(&t, &c, Some(bad)).unwrap_err()),
                C::InvalidTarget
            );
        }
        c.api_grants
            .insert("https://billing.example/".into(), vec!["pay".into()]);
        assert_eq!(code(target(&t, &c, None).unwrap_err()), C::InvalidTarget);
        c.api_grants.clear();
        assert_eq!(code(target(&t, &c, None).unwrap_err()), C::InvalidTarget);
    }

    #[test]
    fn the_scope_is_what_was_granted_and_still_defined() {
        let (t, _) = setup();
        let api = t.api("https://orders.example/").unwrap();
        let granted = ["read".to_string(), "gone".to_string()];
        assert_eq!(granted_scope(api, &granted, None).unwrap(), "read");
        assert_eq!(
            granted_scope(api, &granted, Some("read read")).unwrap(),
            "read"
        );
        for bad in ["write", "gone", "read openid"] {
            assert_eq!(
                code(granted_scope(api, &granted, Some(bad)).unwrap_err()),
                C::InvalidScope
            );
        }
    }
}
