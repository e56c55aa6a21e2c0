//! Token exchange (RFC 8693): a client presents a token this tenant issued (the subject
//! token) and gets an access token for another audience (an API, RFC 8707 `resource` or
//! `audience`) with the same or fewer scopes; with an `actor_token`, the new token says who
//! acts for the subject (`act`, delegation).
//!
//! What a client may do is its policy ([`TokenExchangePolicy`]): the subject token types
//! it may present, the APIs it may get tokens for, whether it may delegate. The new token
//! never outlives the subject token, and keeps its refresh chain (`cid`), so revoking the
//! chain revokes what was exchanged from it too. Nothing is written: like
//! `client_credentials`, the grant is one signature.

use super::TokenResponse;
use crate::clock::UnixTime;
use crate::crypto::random_token;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ChainId, ClientId, TenantId, UserId};
use crate::model::{
    Client, GrantType, TOKEN_TYPE_ACCESS, TOKEN_TYPE_ID, Tenant, TokenExchangePolicy,
};
use crate::oauth::OAuth;
use crate::oauth::claims::{AccessTokenClaims, Actor, Confirmation, IdTokenClaims};

/// What the client asked for.
pub(crate) struct Exchange {
    /// `subject_token` and `subject_token_type`.
    pub subject: (String, String),
    /// `actor_token` and `actor_token_type`, for delegation.
    pub actor: Option<(String, String)>,
    /// `resource` or `audience`: the API.
    pub target: Option<String>,
    /// `scope`: a subset of the subject token's.
    pub scope: Option<String>,
    /// The DPoP key the request proved (RFC 9449): the issued token is bound to it.
    pub dpop_jkt: Option<String>,
}

/// A verified token presented to the exchange: whose it is.
struct Presented {
    /// The user (none for a machine client's own token).
    user: Option<UserId>,
    /// `sub` as it was, for a token no user is behind.
    sub: String,
    client_id: ClientId,
    scope: Vec<String>,
    exp: UnixTime,
    auth_time: Option<UnixTime>,
    sid: Option<String>,
    cid: Option<ChainId>,
    act: Option<Actor>,
}

fn invalid_grant(desc: &'static str) -> EngineError {
    EngineError::oauth(C::InvalidGrant, desc)
}

fn invalid_target() -> EngineError {
    EngineError::oauth(
        C::InvalidTarget,
        "the audience is unknown or this client may not exchange tokens for it",
    )
}

/// Checks a new client's exchange policy: only with the grant, for a confidential client,
/// known token types, registered APIs.
pub(crate) fn check_policy(
    tenant: &Tenant,
    grants: &[GrantType],
    public: bool,
    policy: Option<&TokenExchangePolicy>,
) -> EngineResult<()> {
    let invalid = |m: &str| Err(EngineError::Invalid(m.into()));
    let exchanges = grants.contains(&GrantType::TokenExchange);
    if exchanges && public {
        return invalid("token exchange needs a confidential client");
    }
    let Some(policy) = policy else {
        return Ok(());
    };
    if !exchanges {
        return invalid("token_exchange is for clients with the token-exchange grant");
    }
    for t in &policy.subject_token_types {
        if t != TOKEN_TYPE_ACCESS && t != TOKEN_TYPE_ID {
            return Err(EngineError::Invalid(format!(
                "subject token type {t:?} is not one Tollgate issues"
            )));
        }
    }
    for a in &policy.audiences {
        if tenant.api(a).is_none() {
            return Err(EngineError::Invalid(format!(
                "audience {a:?} is not an API of this tenant"
            )));
        }
    }
    Ok(())
}

impl OAuth<'_> {
    /// Exchanges a token (RFC 8693 §2).
    pub(super) async fn token_exchange(
        &self,
        tenant: &TenantId,
        client: &Client,
        ask: Exchange,
    ) -> EngineResult<TokenResponse> {
        let policy = &client.token_exchange;
        let (subject_token, subject_type) = &ask.subject;
        if subject_type != TOKEN_TYPE_ACCESS && subject_type != TOKEN_TYPE_ID {
            return Err(EngineError::oauth(
                C::InvalidRequest,
                "subject_token_type is not one this server issues",
            ));
        }
        if !policy.subject_token_types.iter().any(|t| t == subject_type) {
            return Err(EngineError::oauth(
                C::UnauthorizedClient,
                "this client may not exchange tokens of this subject_token_type",
            ));
        }
        let t = self.tenant(tenant).await?;
        // The target first: a forbidden audience is refused before any token is read.
        let identifier = match ask.target.as_deref() {
            Some(a) => a,
            None => match &policy.audiences[..] {
                [only] => only.as_str(),
                _ => return Err(invalid_target()),
            },
        };
        if !policy.audiences.iter().any(|a| a == identifier) {
            return Err(invalid_target());
        }
        let api = t.api(identifier).ok_or_else(invalid_target)?;
        let subject = self
            .presented(tenant, subject_token, subject_type, "subject_token")
            .await?;
        let user = subject
            .user
            .clone()
            .ok_or_else(|| invalid_grant("the subject_token has no user behind it"))?;
        let act = match &ask.actor {
            None => None,
            Some(_) if !policy.delegation => {
                return Err(EngineError::oauth(
                    C::UnauthorizedClient,
                    "this client may not act for others (delegation)",
                ));
            }
            Some((token, kind)) => {
                if kind != TOKEN_TYPE_ACCESS && kind != TOKEN_TYPE_ID {
                    return Err(EngineError::oauth(
                        C::InvalidRequest,
                        "actor_token_type is not one this server issues",
                    ));
                }
                let actor = self.presented(tenant, token, kind, "actor_token").await?;
                // The actor is this client, or a user of it: not anyone's token.
                if actor.client_id != client.id {
                    return Err(invalid_grant(
                        "the actor_token was not issued to this client",
                    ));
                }
                Some(Actor {
                    sub: match &actor.user {
                        Some(u) => self.subject_for(tenant, client, u),
                        None => actor.sub,
                    },
                    client_id: Some(actor.client_id),
                    // A delegation chain: who acted before, as the subject token said.
                    act: subject.act.clone().map(Box::new),
                })
            }
        };
        // A subset of the subject token's scope, each meaningful at the API (or one of
        // the OpenID profile scopes, for what the API may read at userinfo).
        let usable = |s: &str| {
            api.scopes.iter().any(|x| x == s) || ["openid", "profile", "email"].contains(&s)
        };
        let scope: Vec<&str> = match ask.scope.as_deref() {
            Some(asked) => {
                let mut out: Vec<&str> = Vec::new();
                for s in asked.split(' ').filter(|s| !s.is_empty()) {
                    if !subject.scope.iter().any(|x| x == s) {
                        return Err(EngineError::oauth(
                            C::InvalidScope,
                            format!("scope {s:?} is more than the subject_token has"),
                        ));
                    }
                    if !usable(s) {
                        return Err(EngineError::oauth(
                            C::InvalidScope,
                            format!("scope {s:?} means nothing at this audience"),
                        ));
                    }
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
                out
            }
            None => subject
                .scope
                .iter()
                .map(String::as_str)
                .filter(|s| usable(s))
                .collect(),
        };
        if scope.is_empty() {
            return Err(EngineError::oauth(
                C::InvalidScope,
                "no scope of the subject_token applies at this audience",
            ));
        }
        let scope = scope.join(" ");
        let now = self.now();
        let ttl = api.access_token_ttl.unwrap_or(t.access_token_ttl);
        let exp = (now + ttl).min(subject.exp);
        let claims = AccessTokenClaims {
            iss: self.issuer(tenant),
            sub: self.subject_for(tenant, client, &user),
            aud: api.identifier.clone(),
            client_id: client.id.clone(),
            exp,
            iat: now,
            jti: random_token::<16>(),
            scope: scope.clone(),
            auth_time: subject.auth_time,
            sid: subject.sid,
            cid: subject.cid,
            cnf: ask.dpop_jkt.clone().map(|jkt| Confirmation { jkt }),
            uid: self.seal_uid(tenant, client, &user),
            act,
            org: Default::default(),
        };
        let ring = self.keyring(tenant).await?;
        let access_token = ring.active.sign_jwt("at+jwt", &claims)?;
        let mut ev = self.event(tenant, "token.exchange", true);
        ev.subject = Some(user.to_string());
        ev.client = Some(client.id.to_string());
        ev.detail = Some(match &claims.act {
            Some(a) => format!("{} for {}", api.identifier, a.sub),
            None => api.identifier.clone(),
        });
        self.record(ev);
        self.rt()
            .metrics
            .tokens_issued
            .with_label_values(&["token_exchange"])
            .inc();
        Ok(TokenResponse {
            access_token,
            token_type: claims.token_type(),
            expires_in: exp.saturating_sub(now),
            scope,
            id_token: None,
            refresh_token: None,
            issued_token_type: Some(TOKEN_TYPE_ACCESS),
        })
    }

    /// Verifies a presented token of the given type; every failure is `invalid_grant`
    /// (`invalid_request` for a type this server does not issue).
    async fn presented(
        &self,
        tenant: &TenantId,
        token: &str,
        kind: &str,
        what: &'static str,
    ) -> EngineResult<Presented> {
        let bad = || {
            EngineError::oauth(
                C::InvalidGrant,
                format!("the {what} is invalid, expired or revoked"),
            )
        };
        match kind {
            TOKEN_TYPE_ACCESS => {
                let at = self
                    .verify_access_token(tenant, token)
                    .await
                    .map_err(|_| bad())?;
                // A DPoP-bound token is worth nothing without its key's proof: exchanging
                // it for a bearer token would undo the binding.
                if at.cnf.is_some() {
                    return Err(invalid_grant("a DPoP-bound token cannot be exchanged"));
                }
                Ok(Presented {
                    user: at.user(),
                    scope: at.scope.split(' ').map(str::to_owned).collect(),
                    sub: at.sub,
                    client_id: at.client_id,
                    exp: at.exp,
                    auth_time: at.auth_time,
                    sid: at.sid,
                    cid: at.cid,
                    act: at.act,
                })
            }
            TOKEN_TYPE_ID => {
                if token.len() > 8192 {
                    return Err(bad());
                }
                let (id, _) = self
                    .verify_jwt::<IdTokenClaims>(tenant, token)
                    .await?
                    .ok_or_else(bad)?;
                if id.exp <= self.now() || id.iss != self.issuer(tenant) {
                    return Err(bad());
                }
                let client = self.client(tenant, &id.aud).await?.ok_or_else(bad)?;
                // Its `sub` must be the user id itself: a pairwise one cannot be mapped
                // back without what only access tokens carry.
                if client.subject_type != crate::model::SubjectType::Public {
                    return Err(invalid_grant(
                        "an ID token with a pairwise subject cannot be exchanged",
                    ));
                }
                let scope = vec!["openid".to_owned()];
                Ok(Presented {
                    user: Some(id.sub.clone()),
                    sub: id.sub.to_string(),
                    client_id: id.aud,
                    scope,
                    exp: id.exp,
                    auth_time: Some(id.auth_time),
                    sid: id.sid,
                    cid: None,
                    act: None,
                })
            }
            _ => Err(EngineError::oauth(
                C::InvalidRequest,
                format!("the {what}_type is not one this server issues"),
            )),
        }
    }
}
