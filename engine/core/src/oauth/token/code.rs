//! The `authorization_code` grant (RFC 6749 §4.1.3) with PKCE (RFC 7636): the code is
//! taken once, and its refresh chain is created in the same write.

use super::{TokenResponse, invalid_grant, new_refresh_token};
use crate::engine::RequestMeta;
use crate::error::EngineResult;
use crate::ids::{ChainId, TenantId};
use crate::model::{AuthCode, Chain, Client, Hash32};
use crate::oauth::OAuth;
use crate::runtime::shard::CacheChain;

impl OAuth<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn code_grant(
        &self,
        tenant: &TenantId,
        client: &Client,
        code: String,
        redirect_uri: String,
        verifier: String,
        meta: &RequestMeta,
    ) -> EngineResult<TokenResponse> {
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
                } else if !crate::oauth::authorize::pkce_matches(&verifier, &record.code_challenge)
                {
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
            .rt()
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
            let shard = self.rt().shards.shard_for(tenant, &c.id);
            let id = c.id.clone();
            self.rt().shards.tell(shard, CacheChain(c));
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
        self.rt()
            .metrics
            .tokens_issued
            .with_label_values(&["authorization_code"])
            .inc();
        Ok(resp)
    }
}
