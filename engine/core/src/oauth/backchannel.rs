//! Back-channel logout (OIDC Back-Channel Logout 1.0): when a session ends, each relying
//! party that took part in it is told, server to server, with a signed logout token.
//!
//! Ending a session only queues the tokens, in the store's durable outbox
//! ([`crate::store::OutboxStore`]), so a restart or a relying party's outage loses none.
//! The sender ([`Engine::spawn_logout_sender`]) reads the outbox, claims each due delivery
//! (a lease, so gateway nodes sharing a store do not both send it routinely), signs a
//! fresh token (its `exp` is short, its `jti` the delivery's id on every attempt) and POSTs
//! it. 200 and 204 are done; anything else is retried with exponential backoff and
//! jitter, until the delivery is older than `give_up_after_secs`: then it is dropped with
//! an audit event.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::UnixTime;
use crate::crypto::{random_bytes, random_token};
use crate::engine::Engine;
use crate::error::{EngineError, EngineResult};
use crate::ids::{ClientId, TenantId, UserId};
use crate::model::{Client, LogoutDelivery};
pub use crate::runtime::config::LogoutConfig;

/// Why a token is sent when its session ended (the other reasons name what ended the
/// user's sessions or chains: `sign_out_everywhere`, `password_changed`, `refresh_reuse`).
pub(crate) const SESSION_ENDED: &str = "logout";

/// The `events` member of every logout token (§2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The claims of a logout token (§2.4). Never a `nonce`.
#[derive(Debug, Serialize, Deserialize)]
pub struct LogoutTokenClaims {
    /// The tenant's issuer.
    pub iss: String,
    /// The client told.
    pub aud: String,
    /// Signed at.
    pub iat: u64,
    /// Expires at (`iat` + `token_ttl_secs`).
    pub exp: u64,
    /// The delivery's id: the same on every attempt, so a receiver can drop a repeat.
    pub jti: String,
    /// `{"http://schemas.openid.net/event/backchannel-logout": {}}`.
    pub events: serde_json::Value,
    /// The user, when the token is about them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The session that ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Whether a `backchannel_logout_uri` (or `frontchannel_logout_uri`) may be registered:
/// absolute, `https` (or `http` on a loopback host, for development), no fragment (§2.2).
pub fn check_logout_uri(uri: &str) -> Result<(), &'static str> {
    let u = url::Url::parse(uri).map_err(|_| "must be an absolute URI")?;
    if u.fragment().is_some() {
        return Err("must not have a fragment");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry credentials");
    }
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err("must name a host"),
    };
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err("must be https (http only on a loopback host)"),
    }
}

/// Front-channel logout (OIDC Front-Channel Logout 1.0): the pages an ended session's
/// apps asked to have loaded in the browser, each in a hidden iframe of the end-of-logout
/// page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrontChannelLogout {
    /// Each client's `frontchannel_logout_uri`, with `iss` and `sid` added (§2, §3).
    pub uris: Vec<String>,
    /// Their origins (`scheme://host[:port]`), which the page must be allowed to frame.
    pub origins: Vec<String>,
}

impl Engine {
    /// The front-channel logout URIs of the clients `session` signed in to.
    pub async fn frontchannel_logout(
        &self,
        session: &crate::model::Session,
    ) -> EngineResult<FrontChannelLogout> {
        let iss = self.issuer(&session.tenant);
        let mut out = FrontChannelLogout::default();
        for id in &session.clients {
            let Some(c) = self.client(&session.tenant, id).await? else {
                continue;
            };
            let Some(uri) = c.frontchannel_logout_uri.as_deref() else {
                continue;
            };
            let Ok(u) = url::Url::parse(uri) else {
                continue;
            };
            let origin = u.origin().ascii_serialization();
            if !out.origins.contains(&origin) {
                out.origins.push(origin);
            }
            out.uris.push(crate::oauth::authorize::redirect_with(
                uri,
                &[("iss", iss.as_str()), ("sid", session.sid.as_str())],
            ));
        }
        Ok(out)
    }

    /// Queues a logout token for each of `clients` that has a back-channel logout URI:
    /// about `user` and, when given, the session `sid`. A client that requires `sid` gets
    /// nothing without one. Durable on return; wakes this node's sender.
    pub(crate) async fn queue_logouts(
        &self,
        tenant: &TenantId,
        user: &UserId,
        sid: Option<&str>,
        clients: &[ClientId],
        reason: &str,
    ) -> EngineResult<usize> {
        let now = self.now();
        let mut items = Vec::new();
        for id in clients {
            let Some(c) = self.client(tenant, id).await? else {
                continue;
            };
            if c.backchannel_logout_uri.is_none()
                || (c.backchannel_logout_session_required && sid.is_none())
                || items.iter().any(|d: &LogoutDelivery| &d.client_id == id)
            {
                continue;
            }
            // A session ends once: one delivery per session and client, however often
            // it is queued (the outbox keeps the first). Other tokens are always new.
            let delivery = match sid {
                Some(sid) if reason == SESSION_ENDED => {
                    let seed = format!("logout\0{tenant}\0{sid}\0{id}\0{user}");
                    crate::crypto::b64(&crate::crypto::sha256(seed.as_bytes())[..18])
                }
                _ => random_token::<18>(),
            };
            items.push(LogoutDelivery {
                tenant: tenant.clone(),
                id: delivery,
                client_id: id.clone(),
                user_id: Some(user.clone()),
                sid: sid.map(str::to_owned),
                reason: reason.to_owned(),
                created_at: now,
                attempts: 0,
                next_at: now,
            });
        }
        if items.is_empty() {
            return Ok(0);
        }
        self.rt().store.enqueue_logouts(&items).await?;
        self.rt().logout_wake.notify_one();
        Ok(items.len())
    }

    /// Before a user's refresh chains are revoked (sign out everywhere): queues a token,
    /// about the user, for each client with a live chain that `told` does not already
    /// name (a chain outlives the session that started it). With the chain's `sid` when
    /// the client has one chain.
    pub(crate) async fn queue_chain_logouts(
        &self,
        tenant: &TenantId,
        user: &UserId,
        told: &[ClientId],
        reason: &str,
    ) -> EngineResult<usize> {
        let now = self.now();
        let mut by_client: Vec<(ClientId, Option<String>, usize)> = Vec::new();
        for c in self.rt().store.list_chains(tenant, user).await? {
            if c.revoked.is_some() || c.expires_at <= now || told.contains(&c.client_id) {
                continue;
            }
            match by_client.iter_mut().find(|(id, ..)| *id == c.client_id) {
                Some(entry) => entry.2 += 1,
                None => by_client.push((c.client_id.clone(), c.sid.clone(), 1)),
            }
        }
        let mut n = 0;
        for (client, sid, chains) in by_client {
            let sid = sid.filter(|_| chains == 1);
            n += self
                .queue_logouts(tenant, user, sid.as_deref(), &[client], reason)
                .await?;
        }
        Ok(n)
    }

    /// The `sub` a client knows the user by (its pairwise value for a pairwise client).
    fn logout_sub(&self, client: &Client, user: &UserId) -> String {
        self.oauth().subject_for(&client.tenant, client, user)
    }

    /// Signs the logout token of one delivery, now.
    async fn logout_token(&self, d: &LogoutDelivery, client: &Client) -> EngineResult<String> {
        let ring = self.keyring(&d.tenant).await?;
        let iat = self.now();
        let claims = LogoutTokenClaims {
            iss: self.issuer(&d.tenant),
            aud: d.client_id.to_string(),
            iat,
            exp: iat + self.config().logout.token_ttl_secs.max(1),
            jti: d.id.clone(),
            events: serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: {} }),
            sub: d.user_id.as_ref().map(|u| self.logout_sub(client, u)),
            sid: d.sid.clone(),
        };
        ring.active.sign_jwt("logout+jwt", &claims)
    }

    /// Starts the logout token sender on the current runtime, until the engine is
    /// dropped: a pass over the outbox at once (what an earlier run left), then every
    /// `poll_secs`, and whenever this node queues a token.
    pub fn spawn_logout_sender(&self) {
        let weak = Arc::downgrade(&self.0);
        let wake = self.rt().logout_wake.clone();
        let every = self.config().logout.poll_secs.max(1);
        tokio::spawn(async move {
            loop {
                let wait = {
                    let Some(inner) = weak.upgrade() else { break };
                    let engine = Engine(inner);
                    let next = match engine.logout_pass().await {
                        Ok(pass) => pass.next_due,
                        Err(e) => {
                            tracing::warn!(error = %e, "logout outbox pass failed");
                            None
                        }
                    };
                    let now = engine.now();
                    next.map_or(every, |at| at.saturating_sub(now).clamp(1, every))
                };
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
                }
            }
        });
    }

    /// One pass over every served tenant's outbox: sends what is due, a few at a time.
    /// Returns how many deliveries were attempted.
    pub async fn send_due_logouts(&self) -> EngineResult<u64> {
        self.logout_pass().await.map(|p| p.attempted)
    }

    async fn logout_pass(&self) -> EngineResult<LogoutPass> {
        use futures::StreamExt;
        let store = &self.rt().store;
        let cfg = &self.config().logout;
        let now = self.now();
        let mut due = Vec::new();
        let mut pending = 0usize;
        let mut next_due: Option<UnixTime> = None;
        for t in store.list_tenants().await? {
            if !self.config().regions.contains(&t.region) {
                continue;
            }
            let items = store.list_logouts(&t.id, cfg.batch.max(1)).await?;
            pending += items.len();
            for d in items {
                match d.next_at <= now {
                    true => due.push(d),
                    false => next_due = Some(next_due.map_or(d.next_at, |n| n.min(d.next_at))),
                }
            }
        }
        let attempted = due.len() as u64;
        let outcomes: Vec<Attempt> = futures::stream::iter(due)
            .map(|d| self.send_one_logout(d))
            .buffer_unordered(cfg.concurrency.max(1))
            .collect()
            .await;
        let mut done = 0;
        for o in outcomes {
            match o {
                Attempt::Done => done += 1,
                Attempt::Later(at) => next_due = Some(next_due.map_or(at, |n| n.min(at))),
                Attempt::NotMine => {}
            }
        }
        self.metrics()
            .logout_pending
            .set(pending.saturating_sub(done) as i64);
        Ok(LogoutPass {
            attempted,
            next_due,
        })
    }

    /// Claims and sends one delivery.
    async fn send_one_logout(&self, d: LogoutDelivery) -> Attempt {
        match self.try_send_logout(&d).await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(tenant = %d.tenant, client = %d.client_id, error = %e,
                    "logout token delivery failed");
                Attempt::NotMine
            }
        }
    }

    async fn try_send_logout(&self, d: &LogoutDelivery) -> EngineResult<Attempt> {
        let store = &self.rt().store;
        let cfg = &self.config().logout;
        let now = self.now();
        let lease = now + cfg.lease_secs.max(1);
        if !store
            .claim_logout(&d.tenant, &d.id, d.next_at, lease)
            .await?
        {
            // Another node has it, or it is gone.
            return Ok(Attempt::NotMine);
        }
        let client = self.client(&d.tenant, &d.client_id).await?;
        let target = client
            .as_ref()
            .and_then(|c| c.backchannel_logout_uri.clone().map(|u| (c.clone(), u)));
        let Some((client, uri)) = target else {
            // The client, or its logout URI, is gone: nobody to tell.
            store.complete_logout(&d.tenant, &d.id).await?;
            return Ok(Attempt::Done);
        };
        if now >= d.created_at.saturating_add(cfg.give_up_after_secs) {
            store.complete_logout(&d.tenant, &d.id).await?;
            self.metrics().logout_abandoned.inc();
            let mut ev = self.event(&d.tenant, "logout.backchannel_abandoned", false);
            ev.subject = d.user_id.as_ref().map(|u| u.to_string());
            ev.client = Some(d.client_id.to_string());
            ev.detail = Some(format!("{} attempts ({})", d.attempts, d.reason));
            self.record_now(ev).await?;
            return Ok(Attempt::Done);
        }
        let token = self.logout_token(d, &client).await?;
        let http =
            self.rt().upstream_http.get().ok_or_else(|| {
                EngineError::Unavailable("outbound HTTP is not configured".into())
            })?;
        let answer = http
            .post_form_status(&uri, &[("logout_token", token.as_str())])
            .await;
        match answer {
            Ok(200 | 204) => {
                store.complete_logout(&d.tenant, &d.id).await?;
                self.metrics().logout_sent.inc();
                tracing::debug!(tenant = %d.tenant, client = %d.client_id, "logout token delivered");
                Ok(Attempt::Done)
            }
            other => {
                self.metrics().logout_failed.inc();
                let attempts = d.attempts.saturating_add(1);
                let next = now + retry_delay(cfg, attempts);
                tracing::info!(tenant = %d.tenant, client = %d.client_id, attempts,
                    answer = ?other, "logout token not accepted; will retry");
                let kept = store
                    .reschedule_logout(&d.tenant, &d.id, lease, attempts, next)
                    .await?;
                Ok(if kept {
                    Attempt::Later(next)
                } else {
                    Attempt::NotMine
                })
            }
        }
    }
}

/// What one pass over the outbox did.
struct LogoutPass {
    /// Deliveries that were due.
    attempted: u64,
    /// The earliest time a delivery it saw is due again.
    next_due: Option<UnixTime>,
}

/// What became of one due delivery.
enum Attempt {
    /// Sent, or given up: out of the outbox.
    Done,
    /// Failed; due again then.
    Later(UnixTime),
    /// Another node claimed it first, or the attempt failed before sending.
    NotMine,
}

/// The wait before attempt `attempts + 1`: `retry_base_secs` doubled per failed attempt,
/// at most `retry_max_secs`, of which a random half is taken off (jitter, so receivers
/// coming back are not hit by every sender at once). At least a second.
fn retry_delay(cfg: &LogoutConfig, attempts: u32) -> u64 {
    let exp = attempts.saturating_sub(1).min(32);
    let full = cfg
        .retry_base_secs
        .max(1)
        .saturating_mul(1u64 << exp)
        .min(cfg.retry_max_secs.max(1));
    let r = u64::from(u16::from_be_bytes(random_bytes::<2>()));
    let jitter = (full / 2).saturating_mul(r) / u64::from(u16::MAX);
    (full - jitter).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logout_uris_are_https_or_loopback_http_without_fragment() {
        assert!(check_logout_uri("https://rp.example/logout").is_ok());
        assert!(check_logout_uri("http://127.0.0.1:9000/bcl").is_ok());
        assert!(check_logout_uri("http://localhost/bcl").is_ok());
        assert!(check_logout_uri("http://[::1]:8/bcl").is_ok());
        assert!(check_logout_uri("http://rp.example/logout").is_err());
        assert!(check_logout_uri("https://rp.example/logout#x").is_err());
        assert!(check_logout_uri("/logout").is_err());
        assert!(check_logout_uri("ftp://rp.example/").is_err());
        assert!(check_logout_uri("https://user:pw@rp.example/logout").is_err());
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_a_cap() {
        let cfg = LogoutConfig {
            retry_base_secs: 10,
            retry_max_secs: 100,
            ..LogoutConfig::default()
        };
        for _ in 0..50 {
            let first = retry_delay(&cfg, 1);
            assert!((5..=10).contains(&first), "{first}");
            let third = retry_delay(&cfg, 3);
            assert!((20..=40).contains(&third), "{third}");
            let late = retry_delay(&cfg, 40);
            assert!((50..=100).contains(&late), "{late}");
        }
    }
}
