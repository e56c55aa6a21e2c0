//! The device authorization grant (RFC 8628): a TV or a CLI asks for a device code and a
//! short user code; the user enters the user code on the hosted device page, signs in as
//! usual and confirms; the device polls the token endpoint until then.
//!
//! Everything lives in the challenge store, keyed by hashes, so no store table is added
//! and every record expires on its own:
//! - the pending request, keyed by the device code's hash (kept a while past its expiry,
//!   so that late polls learn `expired_token` rather than `invalid_grant`);
//! - the user code, keyed by its hash, pointing to the pending request;
//! - the user's decision, written once (`put_challenge` conflicts on an existing key, so of
//!   two confirmations one wins);
//! - the redemption marker, written once likewise: the tokens are issued exactly once;
//! - the poll marker (the last poll and the interval, which `slow_down` lengthens).

use serde::{Deserialize, Serialize};

use super::OAuth;
use super::authorize::AuthRequest;
use super::token::mint::Grant;
use super::token::{ClientCredentials, TokenResponse, new_refresh_token};
use crate::clock::UnixTime;
use crate::crypto::{random_bytes, random_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ChainId, ClientId, TenantId, UserId};
use crate::model::{AuthContext, Chain, Challenge, Client, GrantType, Hash32, Session};
use crate::runtime::shard::CacheChain;

/// Letters of user codes: consonants only (no vowels, so no words), none easily confused
/// with another or with a digit (RFC 8628 §6.1).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// How long a device code and its user code live, seconds.
pub const DEVICE_CODE_TTL: u64 = 600;
/// The polling interval a device starts with, seconds (RFC 8628 §3.2's default).
pub const POLL_INTERVAL: u64 = 5;
/// How long past its expiry a device code is remembered, to answer `expired_token`.
const EXPIRED_GRACE: u64 = 600;
/// Wrong user codes allowed per address per window, and per tenant.
const GUESSES_PER_IP: u32 = 10;
const GUESSES_PER_TENANT: u32 = 1000;
const GUESS_WINDOW: u64 = 900;

const PENDING: &str = "device_pending";
const USER_CODE: &str = "device_user_code";
const DECISION: &str = "device_decision";
const REDEEMED: &str = "device_redeemed";
const POLL: &str = "device_poll";

/// The answer to a device authorization request (RFC 8628 §3.2).
#[derive(Clone, Serialize)]
pub struct DeviceAuthorization {
    /// What the device polls with: 256 bits, stored only as a hash.
    pub device_code: String,
    /// What the user types: `XXXX-XXXX`.
    pub user_code: String,
    /// The hosted page where the user types it.
    pub verification_uri: String,
    /// The same page with the code filled in (for a QR code).
    pub verification_uri_complete: String,
    /// Seconds both codes live.
    pub expires_in: u64,
    /// Seconds between polls.
    pub interval: u64,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceAuthorization(<hidden>)")
    }
}

/// A pending request as stored (under the device code's hash).
#[derive(Clone, Serialize, Deserialize)]
struct Pending {
    client_id: ClientId,
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    user_code: Hash32,
    /// When the codes stop working (the record itself lives a grace period longer).
    expires_at: UnixTime,
}

/// The user's answer, as stored.
#[derive(Clone, Serialize, Deserialize)]
struct Decision {
    approved: bool,
    user_id: UserId,
    auth: AuthContext,
    sid: String,
}

/// The last poll, as stored.
#[derive(Clone, Serialize, Deserialize)]
struct Poll {
    at: UnixTime,
    interval: u64,
}

/// The key of one of a device code's records: a hash of the purpose and the code's hash,
/// so that no other challenge can share it.
fn record_key(purpose: &str, device: &Hash32) -> Hash32 {
    let mut input = format!("tollgate {purpose}\0").into_bytes();
    input.extend_from_slice(&device.0);
    Hash32::of(&input)
}

fn device_key(device_code: &str) -> Hash32 {
    Hash32::of(format!("tollgate device code\0{device_code}").as_bytes())
}

fn user_code_key(tenant: &TenantId, normalised: &str) -> Hash32 {
    Hash32::of(format!("tollgate user code\0{tenant}\0{normalised}").as_bytes())
}

/// A user code as typed, in its canonical form: the alphabet's letters, upper case, no
/// dash or spaces; `None` if it cannot be one.
pub fn normalise_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 8 && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b))).then_some(code)
}

/// Eight letters of the alphabet, uniformly (bytes past the last multiple of 20 are
/// drawn again): about 34.6 bits.
fn new_user_code() -> String {
    let mut out = String::with_capacity(9);
    while out.len() < 9 {
        for b in random_bytes::<16>() {
            if out.len() == 9 {
                break;
            }
            if b < 240 {
                if out.len() == 4 {
                    out.push('-');
                }
                out.push(char::from(USER_CODE_ALPHABET[usize::from(b % 20)]));
            }
        }
    }
    out
}

fn invalid_grant_static(desc: &'static str) -> EngineError {
    EngineError::oauth(C::InvalidGrant, desc)
}

fn pending_error(code: C, desc: &'static str) -> EngineError {
    EngineError::oauth(code, desc)
}

fn json<T: for<'de> Deserialize<'de>>(c: &Challenge) -> EngineResult<T> {
    serde_json::from_value(c.data.clone())
        .map_err(|_| EngineError::Internal("a device record cannot be read".into()))
}

/// Why a user code was not accepted on the device page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCodeProblem {
    /// Unknown (or never issued): a guess, counted against the budgets.
    Unknown,
    /// Known, but past its expiry or already answered.
    Expired,
}

impl OAuth<'_> {
    /// `POST /{tenant}/device_authorization` (RFC 8628 §3.1): authenticates the client
    /// (public clients too), checks it may use the device grant and the scope, and stores
    /// the pending request.
    pub async fn device_authorization(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
        scope: Option<String>,
        resource: Option<String>,
    ) -> EngineResult<DeviceAuthorization> {
        self.tenant(tenant).await?;
        let client = self.authenticate_client(tenant, creds).await?;
        if !client.allows(GrantType::DeviceCode) {
            return Err(EngineError::oauth(
                C::UnauthorizedClient,
                "this client may not use the device authorization grant",
            ));
        }
        let t = self.tenant(tenant).await?;
        let api = match resource.as_deref() {
            None => None,
            Some(r) => Some(t.api(r).ok_or_else(|| {
                EngineError::oauth(
                    C::InvalidTarget,
                    "the resource is not an API of this tenant",
                )
            })?),
        };
        let mut scopes: Vec<&str> = Vec::new();
        for s in scope.as_deref().unwrap_or("openid").split(' ') {
            if s.is_empty() || scopes.contains(&s) {
                continue;
            }
            let api_scope = api.is_some_and(|a| a.scopes.iter().any(|x| x == s));
            if !super::discovery::SCOPES.contains(&s) && !api_scope {
                return Err(EngineError::oauth(
                    C::InvalidScope,
                    format!("unknown scope {s:?}"),
                ));
            }
            scopes.push(s);
        }
        if scopes.is_empty() {
            return Err(EngineError::oauth(C::InvalidScope, "scope is empty"));
        }
        let now = self.now();
        let device_code = random_token::<32>();
        let device = device_key(&device_code);
        let expires_at = now + DEVICE_CODE_TTL;
        // A user code is short: draw again on the rare clash with a live one.
        let mut attempt = 0;
        let (user_code, user_key) = loop {
            let code = new_user_code();
            let key = user_code_key(tenant, &code.replace('-', ""));
            let record = Challenge {
                tenant: tenant.clone(),
                key,
                purpose: USER_CODE.into(),
                user_id: None,
                data: crate::json::to_value(&device),
                tries_left: 1,
                expires_at,
            };
            match self.rt().store.put_challenge(&record).await {
                Ok(()) => break (code, key),
                Err(crate::store::StoreError::Conflict) if attempt < 3 => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        };
        let pending = Pending {
            client_id: client.id.clone(),
            scope: scopes.join(" "),
            resource,
            user_code: user_key,
            expires_at,
        };
        self.rt()
            .store
            .put_challenge(&Challenge {
                tenant: tenant.clone(),
                key: device,
                purpose: PENDING.into(),
                user_id: None,
                data: crate::json::to_value(&pending),
                tries_left: 1,
                expires_at: expires_at + EXPIRED_GRACE,
            })
            .await?;
        let mut ev = self.event(tenant, "device.authorization", true);
        ev.client = Some(client.id.to_string());
        self.record(ev);
        let verification_uri = format!("{}/device", self.issuer(tenant));
        Ok(DeviceAuthorization {
            device_code,
            verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
            user_code,
            verification_uri,
            expires_in: DEVICE_CODE_TTL,
            interval: POLL_INTERVAL,
        })
    }

    /// The device page: finds the request a typed user code names and turns it into the
    /// authorization request the sign-in journey carries. Wrong codes spend a budget per
    /// address and per tenant; past either, every code is refused until the window ends
    /// (`RateLimited`), so user codes cannot be searched for.
    pub async fn device_user_code(
        &self,
        tenant: &TenantId,
        typed: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Result<AuthRequest, UserCodeProblem>> {
        let now = self.now();
        let ip = meta.ip.as_deref().unwrap_or("unknown");
        let budgets = [
            (
                Hash32::of(format!("device guesses {tenant} ip {ip}").as_bytes()),
                GUESSES_PER_IP,
            ),
            (
                Hash32::of(format!("device guesses {tenant}").as_bytes()),
                GUESSES_PER_TENANT,
            ),
        ];
        for (key, _) in &budgets {
            if let Some(c) = self.rt().store.get_challenge(tenant, key).await?
                && c.purpose == crate::signin::otp::BUDGET_PURPOSE
                && c.tries_left == 0
                && c.expires_at > now
            {
                return Err(EngineError::RateLimited {
                    retry_after_secs: c.expires_at - now,
                });
            }
        }
        let normalised = normalise_user_code(typed);
        let found = match &normalised {
            Some(code) => {
                let key = user_code_key(tenant, code);
                self.rt().store.get_challenge(tenant, &key).await?
            }
            None => None,
        };
        let Some(found) = found.filter(|c| c.purpose == USER_CODE) else {
            for (key, max) in budgets {
                // Spent or not, this answer is the same; the next guess sees the budget.
                let _ = self
                    .signin()
                    .spend_budget(tenant, key, max, GUESS_WINDOW)
                    .await?;
            }
            let mut ev = self.event(tenant, "device.user_code_rejected", false);
            ev.ip = meta.ip.clone();
            self.record(ev);
            return Ok(Err(UserCodeProblem::Unknown));
        };
        let device: Hash32 = json(&found)?;
        let Some(pending) = self.rt().store.get_challenge(tenant, &device).await? else {
            return Ok(Err(UserCodeProblem::Expired));
        };
        let p: Pending = json(&pending)?;
        let decided = self
            .rt()
            .store
            .get_challenge(tenant, &record_key(DECISION, &device))
            .await?
            .is_some();
        if found.expires_at <= now || p.expires_at <= now || decided {
            return Ok(Err(UserCodeProblem::Expired));
        }
        Ok(Ok(AuthRequest {
            client_id: p.client_id,
            redirect_uri: format!("{}/device", self.issuer(tenant)),
            scopes: p.scope.split(' ').map(str::to_owned).collect(),
            state: None,
            nonce: None,
            code_challenge: String::new(),
            prompt: Vec::new(),
            max_age: None,
            login_hint: None,
            acr_values: Vec::new(),
            idp_hint: None,
            resource: p.resource,
            device: Some(device),
            user_code: normalised.map(|c| format!("{}-{}", &c[..4], &c[4..])),
            dpop_jkt: None,
            ui_locales: None,
            organization: None,
            expires_at: (now + self.rt().config.login_ttl).min(p.expires_at),
        }))
    }

    /// The user's answer on the confirmation page, for a signed-in session. Written once:
    /// a second answer (another tab, a replayed form) changes nothing and says so.
    pub async fn device_decide(
        &self,
        tenant: &TenantId,
        req: &AuthRequest,
        session: &Session,
        approved: bool,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let gone = || {
            EngineError::Invalid(
                "This request expired or was already answered. Start again on your device.".into(),
            )
        };
        let device = req.device.ok_or_else(gone)?;
        let now = self.now();
        let pending = self
            .rt()
            .store
            .get_challenge(tenant, &device)
            .await?
            .filter(|c| c.purpose == PENDING)
            .ok_or_else(gone)?;
        let p: Pending = json(&pending)?;
        if p.expires_at <= now || p.client_id != req.client_id {
            return Err(gone());
        }
        let decision = Decision {
            approved,
            user_id: session.user_id.clone(),
            auth: session.auth.clone(),
            sid: session.sid.clone(),
        };
        let written = self
            .rt()
            .store
            .put_challenge(&Challenge {
                tenant: tenant.clone(),
                key: record_key(DECISION, &device),
                purpose: DECISION.into(),
                user_id: Some(session.user_id.clone()),
                data: crate::json::to_value(&decision),
                tries_left: 1,
                expires_at: pending.expires_at,
            })
            .await;
        match written {
            Ok(()) => {}
            Err(crate::store::StoreError::Conflict) => return Err(gone()),
            Err(e) => return Err(e.into()),
        }
        // The user code has done its work: it cannot be entered again.
        self.rt().store.take_challenge(tenant, &p.user_code).await?;
        if approved {
            self.rt()
                .store
                .put_consent(&crate::model::Consent {
                    tenant: tenant.clone(),
                    user_id: session.user_id.clone(),
                    client_id: p.client_id.clone(),
                    scopes: req.consent_scopes(),
                    granted_at: now,
                })
                .await?;
            // The device signed in through this session: it is told when the session
            // ends (back-channel logout), as an app that got a code from it is.
            let shard = self.rt().shards.shard_for(tenant, &session.key);
            let add = crate::runtime::shard::AddSessionClient {
                tenant: tenant.clone(),
                key: session.key,
                client: p.client_id.clone(),
            };
            self.rt().shards.ask(shard, add).await?;
        }
        let kind = if approved {
            "device.approved"
        } else {
            "device.denied"
        };
        let mut ev = self.event(tenant, kind, true);
        ev.actor = Some(session.user_id.to_string());
        ev.subject = ev.actor.clone();
        ev.client = Some(p.client_id.to_string());
        ev.ip = meta.ip.clone();
        ev.detail = Some(p.scope);
        self.record(ev);
        Ok(())
    }

    /// The device's poll (`grant_type=urn:ietf:params:oauth:grant-type:device_code`,
    /// RFC 8628 §3.4-3.5): `authorization_pending` until the user answers, `slow_down` when
    /// it polls before its interval has passed (which then grows by 5 s),
    /// `expired_token`, `access_denied`; once approved, the tokens, exactly once.
    pub(crate) async fn device_grant(
        &self,
        tenant: &TenantId,
        client: &Client,
        device_code: &str,
        dpop_jkt: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<TokenResponse> {
        let unknown = || {
            pending_error(
                C::InvalidGrant,
                "device_code is invalid or was already used",
            )
        };
        if device_code.len() > 128 {
            return Err(unknown());
        }
        let device = device_key(device_code);
        let store = &self.rt().store;
        let pending = store
            .get_challenge(tenant, &device)
            .await?
            .filter(|c| c.purpose == PENDING)
            .ok_or_else(unknown)?;
        let p: Pending = json(&pending)?;
        if p.client_id != client.id {
            return Err(unknown());
        }
        if store
            .get_challenge(tenant, &record_key(REDEEMED, &device))
            .await?
            .is_some()
        {
            return Err(unknown());
        }
        let now = self.now();
        if p.expires_at <= now {
            return Err(pending_error(
                C::ExpiredToken,
                "the device code expired: start again",
            ));
        }
        self.pace(tenant, &device, pending.expires_at).await?;
        let Some(d) = store
            .get_challenge(tenant, &record_key(DECISION, &device))
            .await?
        else {
            return Err(pending_error(
                C::AuthorizationPending,
                "the user has not answered yet",
            ));
        };
        let d: Decision = json(&d)?;
        if !d.approved {
            return Err(pending_error(C::AccessDenied, "the user declined"));
        }
        // The tokens belong to the session the user allowed the device from: ended since
        // (signed out everywhere, a password reset, the account deleted), they are not
        // issued, as a code from an ended session is not redeemed.
        let live = store
            .list_sessions(tenant, &d.user_id)
            .await?
            .iter()
            .any(|s| s.sid == d.sid && s.expires_at > now);
        if !live {
            return Err(invalid_grant_static(
                "the session the device was allowed from has ended",
            ));
        }
        // Written once: of two polls that get here, one issues the tokens.
        let marker = Challenge {
            tenant: tenant.clone(),
            key: record_key(REDEEMED, &device),
            purpose: REDEEMED.into(),
            user_id: Some(d.user_id.clone()),
            data: serde_json::Value::Null,
            tries_left: 1,
            expires_at: pending.expires_at,
        };
        match store.put_challenge(&marker).await {
            Ok(()) => {}
            Err(crate::store::StoreError::Conflict) => return Err(unknown()),
            Err(e) => return Err(e.into()),
        }
        let refresh = if p.scope.split(' ').any(|s| s == "offline_access") {
            let t = self.tenant(tenant).await?;
            let id = ChainId::generate();
            let (token, hash) = new_refresh_token(&id);
            let chain = Chain {
                tenant: tenant.clone(),
                id: id.clone(),
                client_id: client.id.clone(),
                user_id: d.user_id.clone(),
                scope: p.scope.clone(),
                auth: d.auth.clone(),
                sid: Some(d.sid.clone()),
                generation: 0,
                current_hash: hash,
                created_at: now,
                rotated_at: now,
                expires_at: now + t.refresh_token_ttl,
                resource: p.resource.clone(),
                // A public client's refresh tokens are bound to its DPoP key (RFC 9449 §5).
                dpop_jkt: dpop_jkt
                    .filter(|_| !client.is_confidential())
                    .map(str::to_owned),
                revoked: None,
            };
            store.create_chain(&chain).await?;
            let shard = self.rt().shards.shard_for(tenant, &id);
            self.rt().shards.tell(shard, CacheChain(chain));
            Some((id, token))
        } else {
            None
        };
        let (resp, _) = self
            .mint(
                tenant,
                Grant {
                    client,
                    user: &d.user_id,
                    scope: &p.scope,
                    auth: &d.auth,
                    sid: Some(&d.sid),
                    nonce: None,
                    resource: p.resource.as_deref(),
                    refresh,
                    skip_id_token: false,
                    dpop_jkt,
                },
            )
            .await?;
        let mut ev = self.event(tenant, "token.device_code", true);
        ev.subject = Some(d.user_id.to_string());
        ev.client = Some(client.id.to_string());
        ev.ip = meta.ip.clone();
        self.record(ev);
        self.rt()
            .metrics
            .tokens_issued
            .with_label_values(&["device_code"])
            .inc();
        Ok(resp)
    }

    /// Checks and records the device's polling pace: `slow_down` (and 5 s more between
    /// polls from now on) when it polls before its interval has passed.
    async fn pace(&self, tenant: &TenantId, device: &Hash32, until: UnixTime) -> EngineResult<()> {
        let now = self.now();
        let key = record_key(POLL, device);
        let store = &self.rt().store;
        let last = match store.get_challenge(tenant, &key).await? {
            Some(c) if c.purpose == POLL => Some(json::<Poll>(&c)?),
            _ => None,
        };
        let (interval, too_fast) = match &last {
            Some(l) if now < l.at + l.interval => (l.interval + 5, true),
            Some(l) => (l.interval, false),
            None => (POLL_INTERVAL, false),
        };
        store
            .replace_challenge(&Challenge {
                tenant: tenant.clone(),
                key,
                purpose: POLL.into(),
                user_id: None,
                data: crate::json::to_value(&Poll { at: now, interval }),
                tries_left: 1,
                expires_at: until,
            })
            .await?;
        if too_fast {
            return Err(EngineError::oauth(
                C::SlowDown,
                format!("poll at most every {interval} seconds"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_letters_of_the_alphabet_shown_with_a_dash() {
        for _ in 0..200 {
            let code = new_user_code();
            assert_eq!(code.len(), 9, "{code}");
            assert_eq!(&code[4..5], "-");
            assert_eq!(normalise_user_code(&code).map(|c| c.len()), Some(8));
        }
    }

    #[test]
    fn user_codes_compare_without_case_or_dash() {
        assert_eq!(
            normalise_user_code("bcdf-ghjk").as_deref(),
            Some("BCDFGHJK")
        );
        assert_eq!(
            normalise_user_code(" BCDF GHJK ").as_deref(),
            Some("BCDFGHJK")
        );
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-EFGH",
            "BCDF-GHJ1",
            "BCDF_GHJK",
        ] {
            assert_eq!(normalise_user_code(bad), None, "{bad}");
        }
    }
}
