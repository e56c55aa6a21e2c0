//! One-time codes and links: what every email and phone flow shares.
//!
//! - A code is 6 random digits. Six digits are too few for a plain hash (a million
//!   guesses recover one offline), so only HMAC-SHA256 of it, under a key derived from
//!   the master key and bound to its challenge, is stored.
//! - A code lives in a [`Challenge`]: single use, [`OTP_TRIES`] guesses, then dead;
//!   expiry is `[otp] ttl_secs` (10 minutes by default). A guess spends its try before it
//!   is checked ([`ChallengeStore::spend_try`]), so concurrent guesses cannot exceed the
//!   limit; a right one takes the challenge, so it works once.
//! - A link (256 random bits, only its SHA-256 stored) is a second, single-use challenge
//!   that points at a code's: using either one consumes both.
//! - Sends are limited per recipient, per client address and per tenant, each in its
//!   own window, so the forms cannot be used to pump paid SMS (toll fraud) or mail.
//!
//! [`ChallengeStore::spend_try`]: crate::store::ChallengeStore::spend_try

use super::SignIn;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::crypto::{self, random_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::{Challenge, Event, FactorKind, Hash32};
use crate::runtime::delivery::Channel;

/// Guesses a code allows before it is dead.
pub const OTP_TRIES: u32 = 5;

/// Wrong guesses one account (or address, or number) may make across all its codes in
/// [`GUESS_WINDOW`] seconds: asking for a fresh code does not buy fresh guesses.
pub const WRONG_GUESSES: u32 = 10;
/// See [`WRONG_GUESSES`].
pub const GUESS_WINDOW: u64 = 3600;

/// The purpose of the store-held counters that limits share across nodes.
pub(crate) const BUDGET_PURPOSE: &str = "budget";

fn guess_key(tenant: &TenantId, owner: &str) -> Hash32 {
    Hash32::of(format!("otp guesses {tenant} {owner}").as_bytes())
}

/// What a code is for; part of its MAC, so a code of one flow never passes for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Passwordless sign-in by emailed code or link.
    EmailSignIn,
    /// Proving an account's email address.
    VerifyEmail,
    /// Setting a new password.
    Reset,
    /// A second factor of a pending sign-in.
    Factor,
    /// Signing in by a code sent to a phone.
    PhoneSignIn,
    /// Adding a phone number to an account.
    PhoneEnrol,
    /// Proving a new address before it becomes the login id (account portal).
    ChangeEmail,
    /// Proving the address of an account being created: it exists only after the code.
    SignUp,
}

impl Flow {
    /// The challenge purpose of its codes.
    fn purpose(self) -> &'static str {
        match self {
            Self::EmailSignIn => "otp_email_sign_in",
            Self::VerifyEmail => "otp_verify_email",
            Self::Reset => "otp_reset",
            Self::Factor => "otp_factor",
            Self::PhoneSignIn => "otp_phone_sign_in",
            Self::PhoneEnrol => "otp_phone_enrol",
            Self::ChangeEmail => "otp_change_email",
            Self::SignUp => "otp_sign_up",
        }
    }

    /// Its name in audit events.
    pub fn as_str(self) -> &'static str {
        &self.purpose()[4..]
    }
}

const LINK_PURPOSE: &str = "otp_link";

/// What a code's challenge carries besides its MAC.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct CodeData {
    /// Hex HMAC of the code.
    #[serde(default)]
    pub mac: String,
    /// The sealed authorization request to continue afterwards (for links, which open
    /// in a fresh page).
    #[serde(default)]
    pub tx: Option<String>,
    /// A number being enrolled (E.164).
    #[serde(default)]
    pub phone: Option<String>,
    /// Its channel.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// A second factor's kind.
    #[serde(default)]
    pub factor: Option<FactorKind>,
    /// A new email address being proven (normalised).
    #[serde(default)]
    pub email: Option<String>,
    /// The account a sign-up creates once its code is entered, sealed (base64url).
    #[serde(default)]
    pub pending: Option<String>,
    /// Whom the code is for when no account is named: hex SHA-256 of the address, so
    /// wrong guesses count against it across its codes without storing it.
    #[serde(default)]
    pub owner: Option<String>,
}

/// A code or link that worked: whose, and what it carried.
#[derive(Debug)]
pub(crate) struct Redeemed {
    pub user_id: Option<UserId>,
    pub data: CodeData,
}

/// A link's flow and the request it continues, for the page that asks to confirm it
/// (links are not used by a GET: mail scanners open them).
#[derive(Clone, Debug)]
pub struct LinkInfo {
    /// What it is for.
    pub flow: Flow,
    /// The sealed authorization request, if any.
    pub tx: Option<String>,
}

/// Six uniformly random digits.
pub(crate) fn six_digits() -> String {
    // 4,294,000,000 is the largest multiple of 10^6 below 2^32: reject above it, so
    // every code is equally likely.
    loop {
        let n = u32::from_be_bytes(crypto::random_bytes::<4>());
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// Digits only, so "123 456" and "123-456" are accepted as typed.
fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Masks an address for events and logs: `a***@e***.com`.
pub fn mask_email(email: &Email) -> String {
    email.masked()
}

fn wrong_code() -> EngineError {
    EngineError::Invalid("That code is not right. Check it and try again.".into())
}

fn dead_code() -> EngineError {
    EngineError::Invalid(
        "This code or link has expired or was already used. Ask for a new one.".into(),
    )
}

/// Whether an error is the "expired or used" one (the code can no longer be retried).
pub fn is_dead(e: &EngineError) -> bool {
    matches!(e, EngineError::Invalid(m) if m.starts_with("This code or link has expired"))
}

impl SignIn<'_> {
    fn code_mac(&self, tenant: &TenantId, key: &Hash32, flow: Flow, code: &str) -> String {
        let msg = format!("{tenant}\n{}\n{}\n{code}", key.to_hex(), flow.as_str());
        let tag = ring::hmac::sign(&self.rt().otp.mac_key, msg.as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Minutes a code lives (for messages).
    pub(crate) fn otp_minutes(&self) -> u64 {
        self.rt().otp.config.ttl_secs.div_ceil(60).max(1)
    }

    /// Counts a send against the channel's limits; 429 past any of them. The per-recipient
    /// limit is counted twice: by this node (cheap, first), and in the store, which every
    /// node shares, so that several gateways together cannot send one address more.
    pub(crate) async fn limit_send(
        &self,
        tenant: &TenantId,
        phone: bool,
        recipient: &str,
        flow: Flow,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let otp = &self.rt().otp;
        let (limiter, limits) = if phone {
            (&otp.phone_limits, &otp.config.phone_limits)
        } else {
            (&otp.email_limits, &otp.config.email_limits)
        };
        let limited = |retry_after_secs| {
            let mut ev = self.event(tenant, "otp.limited", false);
            ev.ip = meta.ip.clone();
            ev.detail = Some(flow.as_str().into());
            self.record(ev);
            EngineError::RateLimited { retry_after_secs }
        };
        limiter
            .try_send(tenant, recipient, meta.ip.as_deref())
            .map_err(limited)?;
        let limit = &limits.recipient;
        if limit.max > 0 {
            let key = Hash32::of(format!("otp sends {tenant} {recipient}").as_bytes());
            self.spend_budget(tenant, key, limit.max, limit.window_secs)
                .await?
                .map_err(limited)?;
        }
        Ok(())
    }

    /// Spends one unit of a budget kept in the store (so every node shares it): `Ok(Ok)`
    /// while it lasts, `Ok(Err(retry_after_secs))` once spent. The budget starts with its
    /// first spend and lasts `window` seconds. Two nodes that start the same budget at
    /// the same moment each count from full: the limit is approximate by that much.
    pub(crate) async fn spend_budget(
        &self,
        tenant: &TenantId,
        key: Hash32,
        max: u32,
        window: u64,
    ) -> EngineResult<Result<(), u64>> {
        let now = self.now();
        let store = &self.rt().store;
        if let Some(c) = store.spend_try(tenant, &key).await? {
            if c.purpose == BUDGET_PURPOSE && c.expires_at > now {
                return Ok(Ok(()));
            }
        } else if let Some(c) = store.get_challenge(tenant, &key).await?
            && c.purpose == BUDGET_PURPOSE
            && c.expires_at > now
        {
            return Ok(Err(c.expires_at - now));
        }
        let budget = Challenge {
            tenant: tenant.clone(),
            key,
            purpose: BUDGET_PURPOSE.into(),
            user_id: None,
            data: serde_json::Value::Null,
            tries_left: max.saturating_sub(1),
            expires_at: now + window.max(1),
        };
        store.replace_challenge(&budget).await?;
        Ok(Ok(()))
    }

    /// Whether the owner of a code has guesses left across all their codes (fresh ones
    /// included): `WRONG_GUESSES` wrong guesses per `GUESS_WINDOW`, counted in the store.
    async fn guesses_spent(&self, tenant: &TenantId, owner: &str) -> EngineResult<bool> {
        let key = guess_key(tenant, owner);
        Ok(self
            .rt()
            .store
            .get_challenge(tenant, &key)
            .await?
            .is_some_and(|c| {
                c.purpose == BUDGET_PURPOSE && c.tries_left == 0 && c.expires_at > self.now()
            }))
    }

    /// Stores a new code under `key` (replacing one there, for a resend); returns it.
    ///
    /// A code sent again keeps the tries its live predecessor had left: resending must
    /// not buy more guesses. Once they are used up, no code is sent under that key until
    /// the last one would have expired.
    pub(crate) async fn put_code(
        &self,
        tenant: &TenantId,
        key: Hash32,
        flow: Flow,
        user: Option<&UserId>,
        mut data: CodeData,
    ) -> EngineResult<String> {
        let now = self.now();
        let tries_left = match self.rt().store.get_challenge(tenant, &key).await? {
            Some(prev) if prev.purpose == flow.purpose() && prev.expires_at > now => {
                if prev.tries_left == 0 {
                    return Err(EngineError::RateLimited {
                        retry_after_secs: prev.expires_at - now,
                    });
                }
                prev.tries_left.min(OTP_TRIES)
            }
            _ => OTP_TRIES,
        };
        let code = six_digits();
        data.mac = self.code_mac(tenant, &key, flow, &code);
        let c = Challenge {
            tenant: tenant.clone(),
            key,
            purpose: flow.purpose().into(),
            user_id: user.cloned(),
            data: crate::json::to_value(&data),
            tries_left,
            expires_at: now + self.rt().otp.config.ttl_secs,
        };
        self.rt().store.replace_challenge(&c).await?;
        Ok(code)
    }

    /// Stores a link to the code under `code_key`; returns the link's token.
    pub(crate) async fn put_link(
        &self,
        tenant: &TenantId,
        code_key: Hash32,
        flow: Flow,
        user: Option<&UserId>,
    ) -> EngineResult<String> {
        let token = random_token::<32>();
        let c = Challenge {
            tenant: tenant.clone(),
            key: Hash32::of(token.as_bytes()),
            purpose: LINK_PURPOSE.into(),
            user_id: user.cloned(),
            data: json!({ "code": code_key.to_hex(), "flow": flow }),
            tries_left: 1,
            expires_at: self.now() + self.rt().otp.config.ttl_secs,
        };
        self.rt().store.put_challenge(&c).await?;
        Ok(token)
    }

    /// Checks a guess at the code under `key`: spends a try first, compares in
    /// constant time, and takes the challenge when right, so it works once.
    pub(crate) async fn check_code(
        &self,
        tenant: &TenantId,
        key: &Hash32,
        flow: Flow,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Redeemed> {
        let now = self.now();
        let rejected = |user: Option<&UserId>, why: &str| {
            let mut ev = self.event(tenant, "otp.rejected", false);
            ev.actor = user.map(|u| u.to_string());
            ev.subject = ev.actor.clone();
            ev.ip = meta.ip.clone();
            ev.detail = Some(format!("{} {why}", flow.as_str()));
            self.record(ev);
        };
        let Some(c) = self
            .rt()
            .store
            .spend_try(tenant, key)
            .await?
            .filter(|c| c.purpose == flow.purpose() && c.expires_at > now)
        else {
            rejected(None, "expired or used up");
            return Err(dead_code());
        };
        let data: CodeData =
            serde_json::from_value(c.data).map_err(|e| EngineError::Internal(e.to_string()))?;
        // Whose code it is: its account, else the address or number it proves.
        let owner = c
            .user_id
            .as_ref()
            .map(|u| u.to_string())
            .or_else(|| data.owner.clone())
            .or_else(|| data.email.clone())
            .or_else(|| data.phone.clone());
        if let Some(owner) = &owner
            && self.guesses_spent(tenant, owner).await?
        {
            rejected(c.user_id.as_ref(), "owner out of guesses");
            return Err(dead_code());
        }
        let code = normalise_code(code);
        let expected = self.code_mac(tenant, key, flow, &code);
        if code.len() != 6 || !crypto::ct_eq(expected.as_bytes(), data.mac.as_bytes()) {
            let mut last = c.tries_left <= 1;
            if let Some(owner) = &owner {
                let spent = self
                    .spend_budget(
                        tenant,
                        guess_key(tenant, owner),
                        WRONG_GUESSES,
                        GUESS_WINDOW,
                    )
                    .await?;
                last |= spent.is_err() || self.guesses_spent(tenant, owner).await?;
            }
            rejected(
                c.user_id.as_ref(),
                if last { "wrong, now dead" } else { "wrong" },
            );
            return Err(if last { dead_code() } else { wrong_code() });
        }
        if self.rt().store.take_challenge(tenant, key).await?.is_none() {
            rejected(c.user_id.as_ref(), "used concurrently");
            return Err(dead_code());
        }
        Ok(Redeemed {
            user_id: c.user_id,
            data,
        })
    }

    async fn live_link(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> EngineResult<Option<(Challenge, Flow, Hash32)>> {
        if token.len() != 43 {
            return Ok(None);
        }
        let now = self.now();
        let Some(link) = self
            .rt()
            .store
            .get_challenge(tenant, &Hash32::of(token.as_bytes()))
            .await?
            .filter(|c| c.purpose == LINK_PURPOSE && c.expires_at > now && c.tries_left > 0)
        else {
            return Ok(None);
        };
        let flow: Option<Flow> = serde_json::from_value(link.data["flow"].clone()).ok();
        let code_key = link.data["code"]
            .as_str()
            .and_then(|h| Hash32::try_from(h.to_owned()).ok());
        Ok(flow.zip(code_key).map(|(f, k)| (link, f, k)))
    }

    /// What a link is for, if it is still good (nothing is consumed).
    pub async fn link_info(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> EngineResult<Option<LinkInfo>> {
        let Some((_, flow, code_key)) = self.live_link(tenant, token).await? else {
            return Ok(None);
        };
        let now = self.now();
        let code = self
            .rt()
            .store
            .get_challenge(tenant, &code_key)
            .await?
            .filter(|c| c.purpose == flow.purpose() && c.expires_at > now && c.tries_left > 0);
        Ok(code.map(|c| LinkInfo {
            flow,
            tx: serde_json::from_value::<CodeData>(c.data)
                .ok()
                .and_then(|d| d.tx),
        }))
    }

    /// Uses a link: takes it and the code it points at (a code guessed to death takes
    /// its link with it).
    pub(crate) async fn use_link(
        &self,
        tenant: &TenantId,
        token: &str,
        flow: Flow,
    ) -> EngineResult<Redeemed> {
        let Some((_, f, code_key)) = self.live_link(tenant, token).await? else {
            return Err(dead_code());
        };
        if f != flow {
            return Err(dead_code());
        }
        self.rt()
            .store
            .take_challenge(tenant, &Hash32::of(token.as_bytes()))
            .await?
            .ok_or_else(dead_code)?;
        let now = self.now();
        let c = self
            .rt()
            .store
            .take_challenge(tenant, &code_key)
            .await?
            .filter(|c| c.purpose == flow.purpose() && c.expires_at > now && c.tries_left > 0)
            .ok_or_else(dead_code)?;
        let data: CodeData =
            serde_json::from_value(c.data).map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok(Redeemed {
            user_id: c.user_id,
            data,
        })
    }

    /// An audit event about a code: masked recipient and flow, never the code.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn otp_event(
        &self,
        tenant: &TenantId,
        kind: &str,
        ok: bool,
        user: Option<&UserId>,
        flow: Flow,
        masked: &str,
        meta: &RequestMeta,
    ) -> Event {
        let mut ev = self.event(tenant, kind, ok);
        ev.actor = user.map(|u| u.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("{} {masked}", flow.as_str()));
        ev
    }

    /// The absolute URL of a hosted page of `tenant`.
    pub(crate) fn page_url(&self, tenant: &TenantId, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.issuer(tenant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..1000 {
            let c = six_digits();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(normalise_code(" 123-456 "), "123456");
    }

    #[test]
    fn emails_are_masked() {
        let e = Email::parse("Alice.Smith@Example.co.uk").unwrap();
        assert_eq!(mask_email(&e), "a***@e***.uk");
    }
}
