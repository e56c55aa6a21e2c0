//! The `refresh_token` grant (RFC 6749 §6): the chain's shard rotates the token, once;
//! a token presented again after rotation revokes the chain (reuse detection).

use super::mint::Grant;
use super::{TokenResponse, invalid_grant, new_refresh_token, parse_refresh_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::TenantId;
use crate::model::Client;
use crate::oauth::OAuth;
use crate::runtime::shard::{RefreshOutcome, Rotate};

/// Checks what a refresh asks for against its chain: a subset of the granted scope, the
/// chain's own resource.
fn check_asked(
    granted: &str,
    scope: Option<&str>,
    chain_resource: Option<&str>,
    resource: Option<String>,
) -> EngineResult<()> {
    if let Some(asked) = scope {
        let granted: Vec<&str> = granted.split(' ').collect();
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
    }
    if resource.is_some_and(|r| Some(r.as_str()) != chain_resource) {
        return Err(EngineError::oauth(
            C::InvalidTarget,
            "resource differs from the one the refresh token was granted for",
        ));
    }
    Ok(())
}

/// What a client presents to refresh.
pub(super) struct Presented {
    /// `refresh_token`.
    pub token: String,
    /// `scope`, if given.
    pub scope: Option<String>,
    /// `resource`, if given.
    pub resource: Option<String>,
    /// The DPoP key the request proved (RFC 9449 §5), if any.
    pub dpop_jkt: Option<String>,
}

impl OAuth<'_> {
    pub(super) async fn refresh_grant(
        &self,
        tenant: &TenantId,
        client: &Client,
        asked: Presented,
        meta: &RequestMeta,
    ) -> EngineResult<TokenResponse> {
        let Presented {
            token,
            scope,
            resource,
            dpop_jkt,
        } = asked;
        let (chain_id, presented) =
            parse_refresh_token(&token).ok_or_else(|| invalid_grant("invalid refresh token"))?;
        let scope = scope.filter(|s| !s.trim().is_empty());
        // What is asked of the chain is checked before it rotates: a refused request must
        // leave the presented token current (rotating it unanswered would make the
        // client's next, correct, use look like reuse). A chain's scope and resource
        // never change, so reading it first is enough.
        if scope.is_some() || resource.is_some() {
            let chain = self.chain(tenant, &chain_id).await?;
            if let Some(c) = chain.filter(|c| c.client_id == client.id) {
                check_asked(&c.scope, scope.as_deref(), c.resource.as_deref(), resource)?;
            }
        }
        let (new_token, new_hash) = new_refresh_token(&chain_id);
        let shard = self.rt().shards.shard_for(tenant, &chain_id);
        let outcome = self
            .rt()
            .shards
            .ask(
                shard,
                Rotate {
                    tenant: tenant.clone(),
                    chain: chain_id,
                    presented,
                    new_hash,
                    client: client.id.clone(),
                    dpop_jkt: dpop_jkt.clone(),
                    now: self.now(),
                },
            )
            .await?;
        let chain = match outcome {
            RefreshOutcome::Rotated(chain) => chain,
            RefreshOutcome::ReuseDetected(chain) => {
                self.rt().metrics.reuse_detected.inc();
                // The chain's client is told (back-channel logout).
                let client_id = std::slice::from_ref(&chain.client_id);
                self.queue_logouts(
                    tenant,
                    &chain.user_id,
                    chain.sid.as_deref(),
                    client_id,
                    "refresh_reuse",
                )
                .await?;
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
            RefreshOutcome::Refused(why) => return Err(invalid_grant(why.description())),
        };
        // Checked against the chain before it rotated.
        let scope = scope.map_or_else(|| chain.scope.clone(), |s| s.trim().to_owned());
        let (resp, _) = self
            .mint(
                tenant,
                Grant {
                    client,
                    user: &chain.user_id,
                    scope: &scope,
                    auth: &chain.auth,
                    sid: chain.sid.as_deref(),
                    nonce: None,
                    resource: chain.resource.as_deref(),
                    refresh: Some((chain.id.clone(), new_token)),
                    skip_id_token: true,
                    dpop_jkt: dpop_jkt.as_deref(),
                },
            )
            .await?;
        // Last activity, for dormancy erasure: at most one write a day per user.
        self.account().note_refresh(tenant, &chain.user_id);
        let mut ev = self.event(tenant, "token.refresh", true);
        ev.subject = Some(chain.user_id.to_string());
        ev.client = Some(client.id.to_string());
        ev.ip = meta.ip.clone();
        self.record(ev);
        self.rt()
            .metrics
            .tokens_issued
            .with_label_values(&["refresh_token"])
            .inc();
        Ok(resp)
    }
}
