//! Revocation (RFC 7009): a refresh token revokes its chain (and with it every access
//! token minted from it); an access token is denied by its `jti` until it expires.

use super::OAuth;
use super::token::{ClientCredentials, parse_refresh_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::TenantId;
use crate::model::RevokeReason;
use crate::runtime::shard::RevokeChain;

impl OAuth<'_> {
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
            let shard = self.rt().shards.shard_for(tenant, &chain_id);
            let chain = self.chain(tenant, &chain_id).await?;
            let Some(chain) = chain else { return Ok(()) };
            let ours = chain.client_id == client.id
                && self
                    .rt()
                    .store
                    .token_generation(tenant, &chain_id, &hash)
                    .await?
                    .is_some();
            if ours {
                self.rt()
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
            && at.client_id == client.id
        {
            self.rt().store.deny_token(tenant, &at.jti, at.exp).await?;
            let mut ev = self.event(tenant, "token.revoked", true);
            ev.subject = Some(at.sub.to_string());
            ev.client = Some(client.id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some("access_token".into());
            self.record_now(ev).await?;
        }
        Ok(())
    }
}
