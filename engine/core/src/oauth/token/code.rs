//! The `authorization_code` grant (RFC 6749 §4.1.3) with PKCE (RFC 7636): the code is
//! taken once, and its refresh chain is created in the same write.
//!
//! - The client is checked before the code is taken, so one client cannot burn another's.
//! - A code redeems only while the session it came from is live: ending sessions (sign
//!   out everywhere, a password change or reset, account deletion) kills the codes they
//!   issued. The check runs after the chain is created, so that a sign-out racing the
//!   redemption either finds the chain (it lists chains after ending sessions) or is seen
//!   here, and the chain revoked.
//! - A redeemed code leaves a marker for ten minutes: presenting the code again revokes
//!   what its first redemption issued, the chain and the access token (RFC 6749 §4.1.2,
//!   RFC 9700 §4.14).

use serde::{Deserialize, Serialize};

use super::mint::Grant;
use super::{TokenResponse, invalid_grant, new_refresh_token};
use crate::clock::UnixTime;
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ChainId, TenantId};
use crate::model::{AuthCode, Chain, Challenge, Client, Event, Hash32, RevokeReason};
use crate::oauth::OAuth;
use crate::runtime::shard::{CacheChain, RevokeChain};

/// The challenge purpose of a redeemed code's marker.
const REDEEMED: &str = "code_redeemed";
/// How long a redeemed code's marker is kept (codes live a minute).
const REDEEMED_TTL: u64 = 600;
/// Why an unknown code is refused.
const UNUSABLE: &str = "authorization code is invalid, expired or already used";

/// What a code's first redemption issued, to revoke if it comes back.
#[derive(Serialize, Deserialize)]
struct Redeemed {
    chain: Option<ChainId>,
    jti: String,
    exp: UnixTime,
}

/// The marker's key: a hash of the code's hash, so no other challenge can share it.
fn redeemed_key(code: &Hash32) -> Hash32 {
    let mut input = b"tollgate redeemed code\0".to_vec();
    input.extend_from_slice(&code.0);
    Hash32::of(&input)
}

const BOUND_ELSEWHERE: &str =
    "the authorization code is bound to another DPoP key (dpop_jkt): send a proof by that key";

/// What a client presents to redeem a code.
pub(super) struct Presented {
    /// `code`.
    pub code: String,
    /// `redirect_uri`.
    pub redirect_uri: String,
    /// `code_verifier`.
    pub verifier: String,
    /// `resource`, if given.
    pub resource: Option<String>,
    /// The DPoP key the request proved (RFC 9449 §5), if any.
    pub dpop_jkt: Option<String>,
}

impl OAuth<'_> {
    pub(super) async fn code_grant(
        &self,
        tenant: &TenantId,
        client: &Client,
        presented: Presented,
        meta: &RequestMeta,
    ) -> EngineResult<TokenResponse> {
        let Presented {
            code,
            redirect_uri,
            verifier,
            resource,
            dpop_jkt,
        } = presented;
        if code.len() > 128 {
            return Err(invalid_grant("invalid authorization code"));
        }
        let t = self.tenant(tenant).await?;
        let now = self.now();
        // Everything a code must match, checked where it is taken (so that its chain is
        // created in the same write) and again below to say what failed.
        let check = {
            let (client_id, redirect_uri, verifier, jkt) = (
                client.id.clone(),
                redirect_uri.clone(),
                verifier.clone(),
                dpop_jkt.clone(),
            );
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
                } else if record.dpop_jkt.is_some() && record.dpop_jkt != jkt {
                    Err(BOUND_ELSEWHERE)
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
            // A public client's refresh tokens are bound to its DPoP key (RFC 9449 §5); a
            // confidential client's are bound to its credentials already.
            let bound = dpop_jkt.clone().filter(|_| !client.is_confidential());
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
                    resource: record.resource.clone(),
                    dpop_jkt: bound,
                    revoked: None,
                })
            })
        };
        let mut ev = self.event(tenant, "token.authorization_code", false);
        ev.client = Some(client.id.to_string());
        ev.ip = meta.ip.clone();
        let failure = |ev: Event, why: &'static str| {
            let mut ev = ev;
            ev.detail = Some(why.into());
            self.record(ev);
            Err(invalid_grant(why))
        };
        let key = Hash32::of(code.as_bytes());
        // Another client's code is refused before it is taken: it stays for its client.
        match self.rt().store.get_code(tenant, &key).await? {
            Some(record) if record.client_id != client.id => {
                ev.subject = Some(record.user_id.to_string());
                return failure(ev, "authorization code was issued to another client");
            }
            // A resource other than the authorized one is refused before the code is
            // taken: it stays for a correct request.
            Some(record) if resource.is_some() && resource != record.resource => {
                return Err(EngineError::oauth(
                    C::InvalidTarget,
                    "resource differs from the authorization request's",
                ));
            }
            // A code bound to a DPoP key (dpop_jkt) is refused without a proof by that key
            // before it is taken: it stays for the right key.
            Some(record) if record.dpop_jkt.is_some() && record.dpop_jkt != dpop_jkt => {
                return Err(invalid_grant(BOUND_ELSEWHERE));
            }
            Some(_) => {}
            None => {
                self.revoke_redeemed(tenant, client, &key, meta).await?;
                return failure(ev, UNUSABLE);
            }
        }
        // Taking the code is atomic: a code is redeemed at most once, whatever follows.
        let redeemed = self.rt().store.redeem_code(tenant, &key, chain_for).await?;
        let Some((record, chain)) = redeemed else {
            self.revoke_redeemed(tenant, client, &key, meta).await?;
            return failure(ev, UNUSABLE);
        };
        ev.subject = Some(record.user_id.to_string());
        if let Err(why) = check(&record) {
            return failure(ev, why);
        }
        if !self.session_live(tenant, &record).await? {
            if let Some(c) = &chain {
                self.revoke_chain(tenant, &c.id, RevokeReason::Logout)
                    .await?;
            }
            return failure(
                ev,
                "the session this authorization code came from has ended",
            );
        }
        let chain_id = chain.as_ref().map(|c| c.id.clone());
        let refresh = chain.map(|c| {
            // Its first rotation will find it cached; if the shard is busy, it loads it.
            let shard = self.rt().shards.shard_for(tenant, &c.id);
            let id = c.id.clone();
            self.rt().shards.tell(shard, CacheChain(c));
            (id, refresh_token)
        });
        let (resp, access) = self
            .mint(
                tenant,
                Grant {
                    client,
                    user: &record.user_id,
                    scope: &record.scope,
                    auth: &record.auth,
                    sid: record.sid.as_deref(),
                    nonce: record.nonce.as_deref(),
                    resource: record.resource.as_deref(),
                    refresh,
                    skip_id_token: false,
                    dpop_jkt: dpop_jkt.as_deref(),
                },
            )
            .await?;
        let marker = Challenge {
            tenant: tenant.clone(),
            key: redeemed_key(&key),
            purpose: REDEEMED.into(),
            user_id: Some(record.user_id.clone()),
            data: crate::json::to_value(&Redeemed {
                chain: chain_id,
                jti: access.jti,
                exp: access.exp,
            }),
            tries_left: 1,
            expires_at: now + REDEEMED_TTL,
        };
        self.rt().store.put_challenge(&marker).await?;
        ev.result = "success".into();
        self.record(ev);
        self.rt()
            .metrics
            .tokens_issued
            .with_label_values(&["authorization_code"])
            .inc();
        Ok(resp)
    }

    /// Whether the session a code came from is still live (the user's sessions, read from
    /// the store: ending a session is durable before the call that ended it returns).
    async fn session_live(&self, tenant: &TenantId, record: &AuthCode) -> EngineResult<bool> {
        let Some(sid) = &record.sid else {
            return Ok(false);
        };
        let now = self.now();
        Ok(self
            .rt()
            .store
            .list_sessions(tenant, &record.user_id)
            .await?
            .iter()
            .any(|s| &s.sid == sid && s.expires_at > now))
    }

    /// Revokes a chain through the shard that owns it, so a cached copy learns it.
    async fn revoke_chain(
        &self,
        tenant: &TenantId,
        chain: &ChainId,
        reason: RevokeReason,
    ) -> EngineResult<()> {
        let shard = self.rt().shards.shard_for(tenant, chain);
        self.rt()
            .shards
            .ask(
                shard,
                RevokeChain {
                    tenant: tenant.clone(),
                    chain: chain.clone(),
                    reason,
                },
            )
            .await?;
        Ok(())
    }

    /// A code presented again after it was redeemed: revokes what it issued.
    async fn revoke_redeemed(
        &self,
        tenant: &TenantId,
        client: &Client,
        code: &Hash32,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let key = redeemed_key(code);
        // Read first: an unknown code (a typo, a guess) costs no write.
        match self.rt().store.get_challenge(tenant, &key).await? {
            Some(m) if m.purpose == REDEEMED => {}
            _ => return Ok(()),
        }
        // Taken, so that of two replays one revokes.
        let Some(marker) = self.rt().store.take_challenge(tenant, &key).await? else {
            return Ok(());
        };
        let Ok(r) = serde_json::from_value::<Redeemed>(marker.data) else {
            return Ok(());
        };
        if let Some(chain) = &r.chain {
            self.revoke_chain(tenant, chain, RevokeReason::Reuse)
                .await?;
        }
        self.rt().store.deny_token(tenant, &r.jti, r.exp).await?;
        self.rt().metrics.reuse_detected.inc();
        let mut ev = self.event(tenant, "token.code_reuse", false);
        ev.subject = marker.user_id.map(|u| u.to_string());
        ev.client = Some(client.id.to_string());
        ev.ip = meta.ip.clone();
        ev.detail = Some("what the code issued was revoked".into());
        self.record_now(ev).await
    }
}
