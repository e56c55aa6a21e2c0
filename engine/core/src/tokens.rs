//! Using and ending tokens: userinfo (OIDC Core §5.3), revocation (RFC 7009),
//! introspection (RFC 7662) and RP-initiated logout (OIDC RP-Initiated Logout 1.0).

use serde_json::{Value, json};

use crate::engine::{Engine, RequestMeta};
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::grants::{ClientCredentials, parse_refresh_token};
use crate::ids::{ChainId, ClientId, TenantId, UserId};
use crate::model::{Client, RevokeReason};
use crate::runtime::shard::{GetChain, RevokeChain};

/// A verified, live access token.
#[derive(Debug, Clone)]
pub struct AccessClaims {
    /// All claims.
    pub claims: Value,
    /// `sub`.
    pub sub: UserId,
    /// `scope`, split.
    pub scopes: Vec<String>,
}

fn invalid_token() -> EngineError {
    EngineError::oauth(
        C::InvalidToken,
        "the access token is invalid, expired or revoked",
    )
}

/// Where to send the browser after logout.
#[derive(Debug)]
pub struct LogoutPlan {
    /// The validated post-logout redirect, with `state`.
    pub redirect: Option<String>,
    /// Whether the hint proved the request came from the session's own relying party
    /// (then no confirmation page is needed).
    pub confirmed_by_hint: bool,
}

impl Engine {
    /// A chain, through the shard that owns it (its cache first).
    pub(crate) async fn chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
    ) -> EngineResult<Option<crate::model::Chain>> {
        let shard = self.0.shards.shard_for(tenant, id);
        self.0
            .shards
            .ask(
                shard,
                GetChain {
                    tenant: tenant.clone(),
                    chain: id.clone(),
                },
            )
            .await
    }

    /// Verifies an access token: signature by a published key, `typ` at+jwt, this issuer,
    /// not expired, not revoked.
    pub async fn verify_access_token(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> EngineResult<AccessClaims> {
        if token.len() > 8192 {
            return Err(invalid_token());
        }
        let ring = self.keyring(tenant).await?;
        let (claims, typ) = ring
            .verify(token, &self.issuer(tenant))
            .ok_or_else(invalid_token)?;
        if typ.as_deref() != Some("at+jwt") {
            return Err(invalid_token());
        }
        if claims["exp"].as_u64().is_none_or(|exp| exp <= self.now()) {
            return Err(invalid_token());
        }
        let jti = claims["jti"].as_str().ok_or_else(invalid_token)?;
        if self.0.store.is_token_denied(tenant, jti).await? {
            return Err(invalid_token());
        }
        if let Some(cid) = claims["cid"].as_str() {
            let chain_id = ChainId::from_stored(cid.to_owned());
            let chain = self.chain(tenant, &chain_id).await?;
            if chain.is_none_or(|c| c.revoked.is_some()) {
                return Err(invalid_token());
            }
        }
        let sub = UserId::from_stored(claims["sub"].as_str().ok_or_else(invalid_token)?.to_owned());
        let scopes = claims["scope"]
            .as_str()
            .unwrap_or("")
            .split(' ')
            .map(str::to_owned)
            .collect();
        Ok(AccessClaims {
            claims,
            sub,
            scopes,
        })
    }

    /// The UserInfo response for a valid access token.
    pub async fn userinfo(&self, tenant: &TenantId, token: &str) -> EngineResult<Value> {
        let at = self.verify_access_token(tenant, token).await?;
        if !at.scopes.iter().any(|s| s == "openid") {
            return Err(EngineError::oauth(
                C::InvalidToken,
                "the access token was not granted the openid scope",
            ));
        }
        let user = self
            .user(tenant, &at.sub)
            .await?
            .ok_or_else(invalid_token)?;
        let mut out = json!({"sub": user.id});
        if at.scopes.iter().any(|s| s == "email") {
            out["email"] = json!(user.email.as_str());
            out["email_verified"] = json!(user.email_verified);
        }
        if at.scopes.iter().any(|s| s == "profile") {
            if let Some(n) = &user.name {
                out["name"] = json!(n);
            }
            // The standard claims of the `profile` scope (OIDC Core §5.4) that the user
            // gave, e.g. through progressive profiling.
            for claim in [
                "given_name",
                "family_name",
                "nickname",
                "locale",
                "zoneinfo",
                "birthdate",
            ] {
                if let Some(v) = user.profile.get(claim) {
                    out[claim] = json!(v);
                }
            }
        }
        Ok(out)
    }

    /// RFC 7009 revocation. Unknown, malformed and foreign tokens are answered like
    /// revoked ones (§2.2), so the endpoint reveals nothing about other clients' tokens.
    pub async fn revoke(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
        token: &str,
        hint: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let client = self.authenticate_client(tenant, creds).await?;
        match hint {
            None | Some("refresh_token") | Some("access_token") => {}
            Some(_) => {
                return Err(EngineError::oauth(
                    C::UnsupportedTokenType,
                    "token_type_hint is not supported",
                ));
            }
        }
        if let Some((chain_id, hash)) = parse_refresh_token(token) {
            let shard = self.0.shards.shard_for(tenant, &chain_id);
            let chain = self.chain(tenant, &chain_id).await?;
            let Some(chain) = chain else { return Ok(()) };
            let ours = chain.client_id == client.id
                && self
                    .0
                    .store
                    .token_generation(tenant, &chain_id, &hash)
                    .await?
                    .is_some();
            if ours {
                self.0
                    .shards
                    .ask(
                        shard,
                        RevokeChain {
                            tenant: tenant.clone(),
                            chain: chain_id,
                            reason: RevokeReason::Revoked,
                        },
                    )
                    .await?;
                let mut ev = self.event(tenant, "token.revoked", true);
                ev.subject = Some(chain.user_id.to_string());
                ev.client = Some(client.id.to_string());
                ev.ip = meta.ip.clone();
                ev.detail = Some("refresh_token".into());
                self.record_now(ev).await?;
            }
            return Ok(());
        }
        // An access token: deny its jti until it would have expired anyway.
        if let Ok(at) = self.verify_access_token(tenant, token).await
            && at.claims["client_id"].as_str() == Some(client.id.as_str())
        {
            let jti = at.claims["jti"].as_str().unwrap_or_default();
            let exp = at.claims["exp"].as_u64().unwrap_or(0);
            self.0.store.deny_token(tenant, jti, exp).await?;
            let mut ev = self.event(tenant, "token.revoked", true);
            ev.subject = Some(at.sub.to_string());
            ev.client = Some(client.id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some("access_token".into());
            self.record_now(ev).await?;
        }
        Ok(())
    }

    /// RFC 7662 introspection, for confidential clients (resource servers). Refresh tokens
    /// are described only to the client they were issued to.
    pub async fn introspect(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
        token: &str,
    ) -> EngineResult<Value> {
        let client = self.authenticate_client(tenant, creds).await?;
        if !client.is_confidential() {
            return Err(EngineError::oauth(
                C::InvalidClient,
                "introspection requires a confidential client",
            ));
        }
        let inactive = json!({"active": false});
        if let Some((chain_id, hash)) = parse_refresh_token(token) {
            let chain = self.chain(tenant, &chain_id).await?;
            return Ok(match chain {
                Some(c)
                    if c.client_id == client.id
                        && c.revoked.is_none()
                        && c.expires_at > self.now()
                        && crate::crypto::ct_eq(&c.current_hash.0, &hash.0) =>
                {
                    json!({
                        "active": true,
                        "token_type": "refresh_token",
                        "scope": c.scope,
                        "client_id": c.client_id,
                        "sub": c.user_id,
                        "exp": c.expires_at,
                        "iat": c.rotated_at,
                        "iss": self.issuer(tenant),
                    })
                }
                _ => inactive,
            });
        }
        Ok(match self.verify_access_token(tenant, token).await {
            Ok(at) => {
                let c = &at.claims;
                json!({
                    "active": true,
                    "token_type": "Bearer",
                    "scope": c["scope"],
                    "client_id": c["client_id"],
                    "sub": c["sub"],
                    "aud": c["aud"],
                    "exp": c["exp"],
                    "iat": c["iat"],
                    "iss": c["iss"],
                    "jti": c["jti"],
                })
            }
            Err(_) => inactive,
        })
    }

    /// Validates an RP-initiated logout request. The post-logout redirect is honoured only
    /// when the client is identified (by `id_token_hint` or `client_id`) and the URI is
    /// one it registered, exactly.
    pub async fn plan_logout(
        &self,
        tenant: &TenantId,
        id_token_hint: Option<&str>,
        client_id: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
        session_user: Option<&UserId>,
    ) -> EngineResult<LogoutPlan> {
        let bad = |d: &'static str| EngineError::oauth(C::InvalidRequest, d);
        let mut hint_sub = None;
        let mut client: Option<std::sync::Arc<Client>> = None;
        if let Some(hint) = id_token_hint {
            let ring = self.keyring(tenant).await?;
            // An expired ID token is still a good hint (the spec allows it); the signature is not optional.
            let (claims, _) = ring
                .verify(hint, &self.issuer(tenant))
                .ok_or_else(|| bad("id_token_hint is not an ID token issued here"))?;
            hint_sub = claims["sub"].as_str().map(|s| s.to_owned());
            let aud = claims["aud"]
                .as_str()
                .ok_or_else(|| bad("id_token_hint has no audience"))?;
            if client_id.is_some_and(|c| c != aud) {
                return Err(bad("client_id does not match the id_token_hint"));
            }
            client = self.client(tenant, &ClientId::parse(aud)?).await?;
        } else if let Some(c) = client_id {
            let id = ClientId::parse(c).map_err(|_| bad("client_id is not valid"))?;
            client = self.client(tenant, &id).await?;
        }
        let redirect = match post_logout_redirect_uri {
            Some(uri) => {
                let c = client.as_ref().ok_or_else(|| {
                    bad("post_logout_redirect_uri needs id_token_hint or client_id")
                })?;
                if !c.post_logout_redirect_uris.iter().any(|u| u == uri) {
                    return Err(bad(
                        "post_logout_redirect_uri is not registered for this client",
                    ));
                }
                let mut p = Vec::new();
                if let Some(s) = state {
                    p.push(("state", s));
                }
                Some(crate::authorize::redirect_with(uri, &p))
            }
            None => None,
        };
        let confirmed_by_hint = match (hint_sub, session_user) {
            (Some(h), Some(u)) => h == u.as_str(),
            // No session: nothing to confirm.
            (_, None) => true,
            _ => false,
        };
        Ok(LogoutPlan {
            redirect,
            confirmed_by_hint,
        })
    }
}
