//! The token endpoint: client authentication and the two grants, `authorization_code`
//! (RFC 6749 §4.1.3 with RFC 7636) and `refresh_token` (RFC 6749 §6, rotated).

use serde::Serialize;
use std::sync::Arc;

use crate::crypto::{ct_eq, random_token};
use crate::engine::{Engine, RequestMeta};
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ChainId, ClientId, TenantId};
use crate::model::{AuthCode, AuthContext, Chain, Client, Hash32};
use crate::runtime::shard::{CacheChain, RefreshOutcome, Rotate};

/// How the client authenticated at the endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// HTTP Basic (`client_secret_basic`).
    Basic,
    /// Form body (`client_secret_post`).
    Post,
    /// `client_id` only (public clients with PKCE).
    None,
}

/// The client credentials presented with a request.
#[derive(Clone)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, if any.
    pub secret: Option<String>,
    /// Where they came from.
    pub method: ClientAuthMethod,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<hidden>"))
            .field("method", &self.method)
            .finish()
    }
}

/// A token request's parameters.
#[derive(Clone, Debug, Default)]
pub struct TokenRequest {
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `code_verifier`.
    pub code_verifier: Option<String>,
    /// `refresh_token`.
    pub refresh_token: Option<String>,
    /// `scope` (refresh: a subset of the granted scope).
    pub scope: Option<String>,
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    /// JWT access token (RFC 9068).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: u64,
    /// Granted scope.
    pub scope: String,
    /// Present when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Present when `offline_access` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenResponse(<hidden>)")
    }
}

/// Refresh tokens are `chain_id.secret`: the chain id routes the token to its shard with no
/// lookup; the 256-bit secret is what makes it unguessable. Only the hash is stored.
pub(crate) fn parse_refresh_token(token: &str) -> Option<(ChainId, Hash32)> {
    let (chain, secret) = token.split_once('.')?;
    let b64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if chain.len() != 22 || secret.len() != 43 || !b64url(chain) || !b64url(secret) {
        return None;
    }
    Some((
        ChainId::from_stored(chain.to_owned()),
        Hash32::of(token.as_bytes()),
    ))
}

fn new_refresh_token(chain: &ChainId) -> (String, Hash32) {
    let token = format!("{}.{}", chain, random_token::<32>());
    let hash = Hash32::of(token.as_bytes());
    (token, hash)
}

fn invalid_grant(desc: &'static str) -> EngineError {
    EngineError::oauth(C::InvalidGrant, desc)
}

impl Engine {
    /// Authenticates a client (RFC 6749 §2.3). Confidential clients must present their
    /// secret; public clients must not have one. Every failure is `invalid_client`.
    pub async fn authenticate_client(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
    ) -> EngineResult<Arc<Client>> {
        let fail = || EngineError::oauth(C::InvalidClient, "client authentication failed");
        let id = ClientId::parse(&creds.client_id).map_err(|_| fail())?;
        let client = self.client(tenant, &id).await?.ok_or_else(fail)?;
        match (&client.secret_hash, &creds.secret) {
            (Some(hash), Some(secret)) if ct_eq(&Hash32::of(secret.as_bytes()).0, &hash.0) => {
                Ok(client)
            }
            (None, None) => Ok(client),
            _ => Err(fail()),
        }
    }

    /// Handles a token request for an authenticated client.
    pub async fn token(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
        req: TokenRequest,
        meta: &RequestMeta,
    ) -> EngineResult<TokenResponse> {
        self.tenant(tenant).await?;
        let grant = req
            .grant_type
            .as_deref()
            .ok_or_else(|| EngineError::oauth(C::InvalidRequest, "grant_type is required"))?;
        if !matches!(grant, "authorization_code" | "refresh_token") {
            return Err(EngineError::oauth(
                C::UnsupportedGrantType,
                "supported grant types: authorization_code, refresh_token",
            ));
        }
        let client = self.authenticate_client(tenant, creds).await?;
        match grant {
            "authorization_code" => self.code_grant(tenant, &client, req, meta).await,
            _ => self.refresh_grant(tenant, &client, req, meta).await,
        }
    }

    async fn code_grant(
        &self,
        tenant: &TenantId,
        client: &Client,
        req: TokenRequest,
        meta: &RequestMeta,
    ) -> EngineResult<TokenResponse> {
        let missing = |p: &str| EngineError::oauth(C::InvalidRequest, format!("{p} is required"));
        let code = req.code.ok_or_else(|| missing("code"))?;
        let redirect_uri = req.redirect_uri.ok_or_else(|| missing("redirect_uri"))?;
        let verifier = req
            .code_verifier
            .ok_or_else(|| missing("code_verifier (PKCE)"))?;
        if code.len() > 128 {
            return Err(invalid_grant("invalid authorization code"));
        }
        let t = self.tenant(tenant).await?;
        let now = self.now();
        // Everything a code must match, checked where it is taken (so that its chain is
        // created in the same write) and again below to say what failed.
        let check = {
            let (client_id, redirect_uri, verifier) =
                (client.id.clone(), redirect_uri.clone(), verifier.clone());
            move |record: &AuthCode| -> Result<(), &'static str> {
                if record.expires_at <= now {
                    Err("authorization code is invalid, expired or already used")
                } else if record.client_id != client_id {
                    Err("authorization code was issued to another client")
                } else if record.redirect_uri != redirect_uri {
                    Err("redirect_uri does not match the authorization request")
                } else if !Self::pkce_matches(&verifier, &record.code_challenge) {
                    Err("code_verifier does not match the code_challenge")
                } else {
                    Ok(())
                }
            }
        };
        let chain_id = ChainId::generate();
        let (refresh_token, hash) = new_refresh_token(&chain_id);
        let chain_for: crate::store::ChainFor = {
            let (check, tenant, client_id, ttl) = (
                check.clone(),
                tenant.clone(),
                client.id.clone(),
                t.refresh_token_ttl,
            );
            Box::new(move |record: &AuthCode| {
                let wanted = record.scope.split(' ').any(|s| s == "offline_access");
                (wanted && check(record).is_ok()).then(|| Chain {
                    tenant,
                    id: chain_id,
                    client_id,
                    user_id: record.user_id.clone(),
                    scope: record.scope.clone(),
                    auth: record.auth.clone(),
                    sid: record.sid.clone(),
                    generation: 0,
                    current_hash: hash,
                    created_at: now,
                    rotated_at: now,
                    expires_at: now + ttl,
                    revoked: None,
                })
            })
        };
        // Taking the code is atomic: a code is redeemed at most once, whatever follows.
        let redeemed = self
            .0
            .store
            .redeem_code(tenant, &Hash32::of(code.as_bytes()), chain_for)
            .await?;
        let mut ev = self.event(tenant, "token.authorization_code", false);
        ev.client = Some(client.id.to_string());
        ev.ip = meta.ip.clone();
        let failure = |ev: crate::model::Event, why: &'static str| {
            let mut ev = ev;
            ev.detail = Some(why.into());
            self.record(ev);
            Err(invalid_grant(why))
        };
        let Some((record, chain)) = redeemed else {
            return failure(ev, "authorization code is invalid, expired or already used");
        };
        ev.subject = Some(record.user_id.to_string());
        if let Err(why) = check(&record) {
            return failure(ev, why);
        }
        let refresh = chain.map(|c| {
            // Its first rotation will find it cached; if the shard is busy, it loads it.
            let shard = self.0.shards.shard_for(tenant, &c.id);
            let id = c.id.clone();
            self.0.shards.tell(shard, CacheChain(c));
            (id, refresh_token)
        });
        let resp = self
            .mint(
                tenant,
                client,
                &record.user_id,
                &record.scope,
                &record.auth,
                record.sid.as_deref(),
                record.nonce.as_deref(),
                refresh,
            )
            .await?;
        ev.result = "success".into();
        self.record(ev);
        self.0
            .metrics
            .tokens_issued
            .with_label_values(&["authorization_code"])
            .inc();
        Ok(resp)
    }

    async fn refresh_grant(
        &self,
        tenant: &TenantId,
        client: &Client,
        req: TokenRequest,
        meta: &RequestMeta,
    ) -> EngineResult<TokenResponse> {
        let token = req
            .refresh_token
            .ok_or_else(|| EngineError::oauth(C::InvalidRequest, "refresh_token is required"))?;
        let (chain_id, presented) =
            parse_refresh_token(&token).ok_or_else(|| invalid_grant("invalid refresh token"))?;
        let (new_token, new_hash) = new_refresh_token(&chain_id);
        let shard = self.0.shards.shard_for(tenant, &chain_id);
        let outcome = self
            .0
            .shards
            .ask(
                shard,
                Rotate {
                    tenant: tenant.clone(),
                    chain: chain_id,
                    presented,
                    new_hash,
                    client: client.id.clone(),
                    now: self.now(),
                },
            )
            .await?;
        let chain = match outcome {
            RefreshOutcome::Rotated(chain) => chain,
            RefreshOutcome::ReuseDetected(chain) => {
                self.0.metrics.reuse_detected.inc();
                let mut ev = self.event(tenant, "refresh.reuse_detected", false);
                ev.subject = Some(chain.user_id.to_string());
                ev.client = Some(client.id.to_string());
                ev.ip = meta.ip.clone();
                ev.detail = Some("chain revoked".into());
                self.record_now(ev).await?;
                return Err(invalid_grant(
                    "refresh token was already used; the session was revoked",
                ));
            }
            RefreshOutcome::Invalid(why) => return Err(invalid_grant(why)),
        };
        let granted: Vec<&str> = chain.scope.split(' ').collect();
        let scope = match req
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(asked) => {
                if !asked
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .all(|s| granted.contains(&s))
                {
                    return Err(EngineError::oauth(
                        C::InvalidScope,
                        "scope exceeds what was granted",
                    ));
                }
                asked.to_owned()
            }
            None => chain.scope.clone(),
        };
        let resp = self
            .mint(
                tenant,
                client,
                &chain.user_id,
                &scope,
                &chain.auth,
                chain.sid.as_deref(),
                None,
                Some((chain.id.clone(), new_token)),
            )
            .await?;
        let mut ev = self.event(tenant, "token.refresh", true);
        ev.subject = Some(chain.user_id.to_string());
        ev.client = Some(client.id.to_string());
        ev.ip = meta.ip.clone();
        self.record(ev);
        self.0
            .metrics
            .tokens_issued
            .with_label_values(&["refresh_token"])
            .inc();
        Ok(resp)
    }

    /// Signs the access token and, if `openid` is in scope, the ID token. Runs on the
    /// caller's thread, outside any shard.
    #[allow(clippy::too_many_arguments)]
    async fn mint(
        &self,
        tenant: &TenantId,
        client: &Client,
        user: &crate::ids::UserId,
        scope: &str,
        auth: &AuthContext,
        sid: Option<&str>,
        nonce: Option<&str>,
        refresh: Option<(ChainId, String)>,
    ) -> EngineResult<TokenResponse> {
        let t = self.tenant(tenant).await?;
        let ring = self.keyring(tenant).await?;
        let iss = self.issuer(tenant);
        let now = self.now();
        let access = serde_json::json!({
            "iss": iss,
            "sub": user,
            "aud": client.id,
            "client_id": client.id,
            "exp": now + t.access_token_ttl,
            "iat": now,
            "jti": random_token::<16>(),
            "scope": scope,
            "auth_time": auth.auth_time,
            "sid": sid,
        });
        let mut access = access;
        if let Some((chain, _)) = &refresh {
            // The chain behind this token: revoking the chain (or detecting its reuse)
            // revokes this access token too, at userinfo and introspection (RFC 7009 §2.1).
            access["cid"] = chain.as_str().into();
        }
        let access_token = ring.active.sign_jwt("at+jwt", &access)?;
        let id_token = if scope.split(' ').any(|s| s == "openid") {
            let mut claims = serde_json::json!({
                "iss": iss,
                "sub": user,
                "aud": client.id,
                "exp": now + t.id_token_ttl,
                "iat": now,
                "auth_time": auth.auth_time,
                "amr": auth.amr,
                "acr": crate::mfa::acr_for(&auth.amr),
            });
            if let Some(n) = nonce {
                claims["nonce"] = n.into();
            }
            if let Some(s) = sid {
                claims["sid"] = s.into();
            }
            // at_hash (OIDC Core §3.1.3.6) with the hash of the JWS algorithm: SHA-256 for
            // RS256 and ES256. EdDSA has no agreed hash, so it is left out there.
            if matches!(
                ring.active.alg(),
                crate::model::SigningAlg::RS256 | crate::model::SigningAlg::ES256
            ) {
                let h = crate::crypto::sha256(access_token.as_bytes());
                claims["at_hash"] = crate::crypto::b64(&h[..16]).into();
            }
            Some(ring.active.sign_jwt("JWT", &claims)?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: t.access_token_ttl,
            scope: scope.to_owned(),
            id_token,
            refresh_token: refresh.map(|(_, token)| token),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_parse_only_in_their_own_shape() {
        let chain = ChainId::generate();
        let (token, hash) = new_refresh_token(&chain);
        assert_eq!(parse_refresh_token(&token), Some((chain, hash)));
        for bad in [
            "",
            "abc",
            "a.b",
            &format!("{token}x"),
            &token.replace('.', ""),
        ] {
            assert!(parse_refresh_token(bad).is_none(), "{bad:?} parsed");
        }
    }
}
