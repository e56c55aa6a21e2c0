//! Verifying an access token where it is used: signature by a published key, `typ`
//! `at+jwt`, this issuer, not expired, its `jti` not denied, its refresh chain (if any)
//! not revoked.

use super::OAuth;
use super::claims::AccessTokenClaims;
use crate::engine::Engine;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ChainId, TenantId, UserId};
use crate::runtime::shard::GetChain;

pub(super) fn invalid_token() -> EngineError {
    EngineError::oauth(
        C::InvalidToken,
        "the access token is invalid, expired or revoked",
    )
}

impl Engine {
    /// A chain, through the shard that owns it (its cache first).
    pub(crate) async fn chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
    ) -> EngineResult<Option<crate::model::Chain>> {
        let shard = self.rt().shards.shard_for(tenant, id);
        self.rt()
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
}

impl OAuth<'_> {
    /// The user a bearer token for one of the issuer's own APIs speaks for (the
    /// verification APIs, `{issuer}/api/...`): a valid access token of this tenant, about
    /// a user (not a machine client), not DPoP-bound (these APIs take no proof), granted
    /// `scope` (RFC 6750 §3.1 `insufficient_scope` otherwise).
    pub async fn bearer_user(
        &self,
        tenant: &TenantId,
        token: &str,
        scope: &str,
    ) -> EngineResult<UserId> {
        let at = self.verify_access_token(tenant, token).await?;
        if at.cnf.is_some() {
            return Err(EngineError::oauth(
                C::InvalidToken,
                "the access token is DPoP-bound; this API takes bearer tokens",
            ));
        }
        let user = at.user().ok_or_else(invalid_token)?;
        if !at.has_scope(scope) {
            return Err(EngineError::oauth(
                C::InsufficientScope,
                format!("the access token was not granted the {scope} scope"),
            ));
        }
        Ok(user)
    }

    /// Verifies an access token: signature by a published key, `typ` at+jwt, this issuer,
    /// not expired, not revoked.
    pub async fn verify_access_token(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> EngineResult<AccessTokenClaims> {
        if token.len() > 8192 {
            return Err(invalid_token());
        }
        let (mut claims, typ) = self
            .verify_jwt::<AccessTokenClaims>(tenant, token)
            .await?
            .ok_or_else(invalid_token)?;
        if typ.as_deref() != Some("at+jwt") {
            return Err(invalid_token());
        }
        // A pairwise client's token: from here on, `sub` is the user behind it (what
        // `user()` returns); what a client is shown is its pairwise value again.
        if let Some(sealed) = claims.uid.take() {
            let user = self
                .open_uid(tenant, &claims.client_id, &sealed)
                .ok_or_else(invalid_token)?;
            claims.sub = user.to_string();
        }
        if claims.exp <= self.now() {
            return Err(invalid_token());
        }
        if self.rt().store.is_token_denied(tenant, &claims.jti).await? {
            return Err(invalid_token());
        }
        if let Some(chain_id) = &claims.cid {
            let chain = self.chain(tenant, chain_id).await?;
            if chain.is_none_or(|c| c.revoked.is_some()) {
                return Err(invalid_token());
            }
        }
        Ok(claims)
    }
}
