//! Second factors and step-up.
//!
//! After a first factor (the password) succeeds, the tenant's policy decides whether a
//! second is needed. If so, no session exists yet: a pending sign-in (a single-use
//! challenge with five tries in all, ten minutes) waits for a second factor. TOTP and
//! recovery codes are verified here; passkeys, email and phone codes verify themselves
//! and then call [`SignIn::complete_pending`](super::SignIn::complete_pending). A relying party that asks for more
//! (`acr_values`) than a session has gets a step-up: the same pending challenge, tied to
//! the session, which gains the factor instead of a new session being made.

use super::SignIn;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::crypto::{self, MasterKey, b64, b64_decode, random_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::signin::NewSession;
use crate::model::signin::{Pending, SignInStep};
use crate::model::{Challenge, Factor, FactorKind, Hash32, MfaMode, Session, User};
use crate::runtime::shard::UpdateSession;
use crate::store::StoreError;

const PENDING_TTL: u64 = 600;
const PENDING_TRIES: u32 = 5;
const RECOVERY_CODES: usize = 10;

/// What a pending handle stands for.
#[derive(Clone, Debug)]
pub struct PendingInfo {
    /// Whose sign-in.
    pub user_id: UserId,
    /// Factors that may complete it.
    pub factors: Vec<FactorKind>,
    /// The user must enrol a factor first.
    pub enrol: bool,
    /// It steps up an existing session rather than making one.
    pub step_up: bool,
}

/// How a pending sign-in ended.
#[derive(Debug)]
pub enum Completed {
    /// A new session (set its cookie).
    Session(NewSession),
    /// The existing session now carries the factor (its cookie is unchanged).
    SteppedUp(Session),
}

#[derive(Serialize, Deserialize)]
struct PendingData {
    amr: Vec<String>,
    factors: Vec<FactorKind>,
    enrol: bool,
    /// Hex SHA-256 of the session cookie, for a step-up.
    session: Option<Hash32>,
}

/// A TOTP enrolment in progress: shown once, confirmed by a first code.
#[derive(Debug)]
pub struct TotpEnrolment {
    /// Confirms the enrolment (a hidden form field).
    pub handle: String,
    /// The secret for manual entry (base32).
    pub secret_base32: String,
    /// The `otpauth://` URI the QR code encodes.
    pub uri: String,
    /// The QR code, as an SVG document rendered here.
    pub qr_svg: String,
}

fn bad_code() -> EngineError {
    EngineError::Invalid("That code is not valid. Check it and try again.".into())
}

fn expired() -> EngineError {
    EngineError::Invalid(
        "This sign-in step has expired or was used up. Start again from the sign-in page.".into(),
    )
}

fn totp_for(secret: Vec<u8>, issuer: &str, account: &str) -> EngineResult<totp_rs::Totp> {
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .map_err(|e| EngineError::Internal(format!("totp: {e}")))
}

fn recovery_code() -> String {
    // 10 characters of Crockford-like base32 (50 bits), grouped for reading: xxxxx-xxxxx.
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let bytes = crypto::random_bytes::<10>();
    let s: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % 32] as char)
        .collect();
    format!("{}-{}", &s[..5], &s[5..])
}

fn normalise_recovery(code: &str) -> String {
    let c: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if c.len() == 10 {
        format!("{}-{}", &c[..5], &c[5..])
    } else {
        c
    }
}

/// A verified address can receive a second-factor code without being enrolled as a
/// factor, when the policy allows email codes: it is offered whenever a second factor
/// is asked for, but is never by itself the reason one is asked for.
fn with_email_codes(
    t: &crate::model::Tenant,
    user: &User,
    mut usable: Vec<FactorKind>,
    used: Option<FactorKind>,
) -> Vec<FactorKind> {
    let email = FactorKind::Email;
    if user.email_verified
        && t.mfa.factors.contains(&email)
        && used != Some(email)
        && !usable.contains(&email)
    {
        usable.push(email);
        usable.sort();
    }
    usable
}

impl SignIn<'_> {
    fn totp_key(&self) -> MasterKey {
        MasterKey::from_bytes(self.rt().master.derive("tollgate totp secrets v1"))
    }

    fn totp_aad(tenant: &TenantId, user: &UserId) -> Vec<u8> {
        format!("{tenant}/{user}").into_bytes()
    }

    /// The factors a user has enrolled that the tenant's policy allows.
    pub async fn usable_factors(
        &self,
        tenant: &TenantId,
        user: &User,
    ) -> EngineResult<Vec<FactorKind>> {
        let t = self.tenant(tenant).await?;
        let mut kinds: Vec<FactorKind> = self
            .rt()
            .store
            .list_factors(tenant, &user.id)
            .await?
            .into_iter()
            .map(|f| f.kind)
            .filter(|k| t.mfa.factors.contains(k))
            .collect();
        kinds.sort();
        kinds.dedup();
        Ok(kinds)
    }

    /// After a first factor: a session, or the second factor the policy (or the relying
    /// party, with `want_two`) asks for.
    pub async fn after_first_factor(
        &self,
        tenant: &TenantId,
        user: &User,
        amr: Vec<String>,
        want_two: bool,
    ) -> EngineResult<SignInStep> {
        self.after_first_factor_by(tenant, user, amr, want_two, None)
            .await
    }

    /// [`Self::after_first_factor`] when the first factor was itself one of the factor
    /// kinds (an emailed or texted code): that kind cannot also be the second.
    pub async fn after_first_factor_by(
        &self,
        tenant: &TenantId,
        user: &User,
        amr: Vec<String>,
        want_two: bool,
        used: Option<FactorKind>,
    ) -> EngineResult<SignInStep> {
        let t = self.tenant(tenant).await?;
        // Before a second factor is asked: a child's account waiting for a parent stops here.
        self.account().check_child_may_sign_in(&t, user).await?;
        let mut usable = self.usable_factors(tenant, user).await?;
        usable.retain(|k| Some(*k) != used);
        let needed = want_two
            || match t.mfa.mode {
                MfaMode::Off => false,
                MfaMode::Optional => !usable.is_empty(),
                MfaMode::Required => true,
            };
        if !needed {
            return self
                .start_session(tenant, user, amr)
                .await
                .map(SignInStep::Done);
        }
        let usable = with_email_codes(&t, user, usable, used);
        // Recovery codes alone cannot be a user's only second factor to enrol.
        let enrol = usable.iter().all(|k| *k == FactorKind::RecoveryCodes);
        let factors = if enrol {
            t.mfa
                .factors
                .iter()
                .copied()
                .filter(|k| matches!(k, FactorKind::Totp | FactorKind::Passkey))
                .collect()
        } else {
            usable
        };
        if enrol && factors.is_empty() {
            return Err(EngineError::Invalid(
                "A second factor is required, but this organisation allows none that can be enrolled here. Contact its support."
                    .into(),
            ));
        }
        let data = PendingData {
            amr,
            factors: factors.clone(),
            enrol,
            session: None,
        };
        let handle = self.put_pending(tenant, &user.id, &data).await?;
        Ok(if enrol {
            SignInStep::Enrol(Pending { handle, factors })
        } else {
            SignInStep::SecondFactor(Pending { handle, factors })
        })
    }

    async fn put_pending(
        &self,
        tenant: &TenantId,
        user: &UserId,
        data: &PendingData,
    ) -> EngineResult<String> {
        let handle = random_token::<32>();
        let c = Challenge {
            tenant: tenant.clone(),
            key: Hash32::of(handle.as_bytes()),
            purpose: "mfa".into(),
            user_id: Some(user.clone()),
            data: crate::json::to_value(data),
            tries_left: PENDING_TRIES,
            expires_at: self.now() + PENDING_TTL,
        };
        self.rt().store.put_challenge(&c).await?;
        Ok(handle)
    }

    /// Whether the session's user has a factor to step up with (one that re-proves who
    /// they are, not a first enrolment).
    pub async fn can_step_up(&self, tenant: &TenantId, session: &Session) -> EngineResult<bool> {
        let Some(user) = self.user(tenant, &session.user_id).await? else {
            return Ok(false);
        };
        let t = self.tenant(tenant).await?;
        let usable = with_email_codes(&t, &user, self.usable_factors(tenant, &user).await?, None);
        Ok(usable.iter().any(|k| *k != FactorKind::RecoveryCodes))
    }

    /// Starts a step-up of `session` (a relying party asked for two factors).
    pub async fn begin_step_up(
        &self,
        tenant: &TenantId,
        session: &Session,
    ) -> EngineResult<SignInStep> {
        let user = self
            .user(tenant, &session.user_id)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let t = self.tenant(tenant).await?;
        let usable = with_email_codes(&t, &user, self.usable_factors(tenant, &user).await?, None);
        let enrol = usable.iter().all(|k| *k == FactorKind::RecoveryCodes);
        // Enrolling adds a lasting credential: not on the strength of an old session alone.
        if enrol {
            self.require_recent(session)?;
        }
        let factors: Vec<FactorKind> = if enrol {
            t.mfa
                .factors
                .iter()
                .copied()
                .filter(|k| matches!(k, FactorKind::Totp | FactorKind::Passkey))
                .collect()
        } else {
            usable
        };
        let data = PendingData {
            amr: session.auth.amr.clone(),
            factors: factors.clone(),
            enrol,
            session: Some(session.key),
        };
        let handle = self.put_pending(tenant, &user.id, &data).await?;
        let pending = Pending { handle, factors };
        Ok(if enrol {
            SignInStep::Enrol(pending)
        } else {
            SignInStep::SecondFactor(pending)
        })
    }

    async fn read_pending(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<Option<(Challenge, PendingData)>> {
        if handle.len() != 43 {
            return Ok(None);
        }
        let c = self
            .rt()
            .store
            .get_challenge(tenant, &Hash32::of(handle.as_bytes()))
            .await?;
        Ok(
            c.filter(|c| c.purpose == "mfa" && c.expires_at > self.now() && c.tries_left > 0)
                .and_then(|c| {
                    let d: PendingData = serde_json::from_value(c.data.clone()).ok()?;
                    Some((c, d))
                }),
        )
    }

    /// What a pending handle stands for, if it is still alive.
    pub async fn pending(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<Option<PendingInfo>> {
        Ok(self.read_pending(tenant, handle).await?.and_then(|(c, d)| {
            Some(PendingInfo {
                user_id: c.user_id?,
                factors: d.factors,
                enrol: d.enrol,
                step_up: d.session.is_some(),
            })
        }))
    }

    /// Spends one of the pending sign-in's tries (every guess, by any factor, costs one).
    async fn spend_pending_try(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<(UserId, PendingData)> {
        if handle.len() != 43 {
            return Err(expired());
        }
        let c = self
            .rt()
            .store
            .spend_try(tenant, &Hash32::of(handle.as_bytes()))
            .await?;
        self.live_pending(c)
    }

    /// The user and state of a pending sign-in challenge, if it is one and still alive.
    fn live_pending(&self, c: Option<Challenge>) -> EngineResult<(UserId, PendingData)> {
        let c = c
            .filter(|c| c.purpose == "mfa" && c.expires_at > self.now())
            .ok_or_else(expired)?;
        let data: PendingData =
            serde_json::from_value(c.data).map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok((c.user_id.ok_or_else(expired)?, data))
    }

    /// Verifies a TOTP or recovery code for a pending sign-in and completes it.
    pub async fn second_factor_code(
        &self,
        tenant: &TenantId,
        handle: &str,
        kind: FactorKind,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Completed> {
        let (user, data) = self.spend_pending_try(tenant, handle).await?;
        // Each pending sign-in allows five guesses, but whoever has the password can start
        // many: failures also count per account, like failed passwords.
        let account = format!("mfa:{user}");
        let ip = meta.ip.as_deref();
        let attempt = self
            .rt()
            .throttle
            .reserve(tenant, &account, ip)
            .map_err(|retry_after_secs| EngineError::RateLimited { retry_after_secs })?;
        let ok = data.factors.contains(&kind)
            && match kind {
                FactorKind::Totp => self.check_totp(tenant, &user, code).await?,
                FactorKind::RecoveryCodes => self.use_recovery_code(tenant, &user, code).await?,
                FactorKind::Email | FactorKind::Phone => {
                    self.check_factor_code(tenant, handle, &user, kind, code, meta)
                        .await?
                }
                FactorKind::Passkey => false,
            };
        let mut ev = self.event(tenant, "mfa.verify", ok);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(kind.as_str().into());
        self.record_now(ev).await?;
        if !ok {
            attempt.failed();
            return Err(bad_code());
        }
        attempt.succeeded();
        self.complete_pending(tenant, handle, kind, meta).await
    }

    /// Completes a pending sign-in with a factor the caller has just verified for its
    /// user (passkeys, email and phone codes verify themselves and then call this).
    pub async fn complete_pending(
        &self,
        tenant: &TenantId,
        handle: &str,
        kind: FactorKind,
        meta: &RequestMeta,
    ) -> EngineResult<Completed> {
        let c = self
            .rt()
            .store
            .take_challenge(tenant, &Hash32::of(handle.as_bytes()))
            .await?;
        let (user_id, data) = self.live_pending(c)?;
        // Only a factor this sign-in offered (the policy allows, the user has) completes it.
        if !data.factors.contains(&kind) {
            return Err(EngineError::Invalid(
                "That way of signing in is not allowed here.".into(),
            ));
        }
        let mut amr = data.amr;
        for a in [kind.amr(), "mfa"] {
            if !amr.iter().any(|x| x == a) {
                amr.push(a.to_owned());
            }
        }
        let mut ev = self.event(tenant, "mfa.completed", true);
        ev.actor = Some(user_id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(kind.as_str().into());
        if let Some(key) = data.session {
            ev.kind = "mfa.step_up".into();
            let s = self
                .session_by_key(tenant, &key)
                .await?
                .filter(|s| s.user_id == user_id)
                .ok_or_else(expired)?;
            let now = self.now();
            let change: crate::store::SessionChange = Box::new(move |s: &mut Session| {
                s.auth.amr = amr.clone();
                s.auth.auth_time = now;
                true
            });
            let shard = self.rt().shards.shard_for(tenant, &s.key);
            let update = UpdateSession {
                tenant: tenant.clone(),
                key: s.key,
                change,
            };
            // Ended meanwhile: the step-up does not bring it back.
            let s = self
                .rt()
                .shards
                .ask(shard, update)
                .await?
                .ok_or_else(expired)?;
            self.record(ev);
            return Ok(Completed::SteppedUp(s));
        }
        let user = self.user(tenant, &user_id).await?.ok_or_else(expired)?;
        self.record(ev);
        Ok(Completed::Session(
            self.start_session(tenant, &user, amr).await?,
        ))
    }

    async fn check_totp(&self, tenant: &TenantId, user: &UserId, code: &str) -> EngineResult<bool> {
        let code = code.trim().replace(' ', "");
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(false);
        }
        let now = self.now();
        for f in self.rt().store.list_factors(tenant, user).await? {
            if f.kind != FactorKind::Totp {
                continue;
            }
            let secret = self.open_totp_secret(tenant, user, &f)?;
            let totp = totp_for(secret, "tollgate", "user")?;
            let Some(step) = totp.check(&code, now) else {
                continue;
            };
            // RFC 6238 §5.2: a code is accepted once. Steps only move forward, and the
            // conditional write makes two simultaneous uses of one code count once.
            let last = f.data["last_step"].as_u64().unwrap_or(0);
            if step <= last {
                return Ok(false);
            }
            let mut next = f.clone();
            next.data["last_step"] = step.into();
            next.version += 1;
            next.last_used_at = Some(now);
            return self
                .rt()
                .store
                .update_factor(&next, f.version)
                .await
                .map_err(EngineError::from);
        }
        Ok(false)
    }

    fn open_totp_secret(
        &self,
        tenant: &TenantId,
        user: &UserId,
        f: &Factor,
    ) -> EngineResult<Vec<u8>> {
        let sealed = f.data["secret"]
            .as_str()
            .and_then(b64_decode)
            .ok_or_else(|| EngineError::Internal("totp factor without a secret".into()))?;
        self.totp_key().open(&Self::totp_aad(tenant, user), &sealed)
    }

    async fn use_recovery_code(
        &self,
        tenant: &TenantId,
        user: &UserId,
        code: &str,
    ) -> EngineResult<bool> {
        let wanted = Hash32::of(normalise_recovery(code).as_bytes());
        for _ in 0..3 {
            let Some(f) = self
                .rt()
                .store
                .list_factors(tenant, user)
                .await?
                .into_iter()
                .find(|f| f.kind == FactorKind::RecoveryCodes)
            else {
                return Ok(false);
            };
            let hashes: Vec<String> = serde_json::from_value(f.data["hashes"].clone())
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            let mut found = None;
            for (i, h) in hashes.iter().enumerate() {
                if crypto::ct_eq(h.as_bytes(), wanted.to_hex().as_bytes()) {
                    found = Some(i);
                }
            }
            let Some(i) = found else {
                return Ok(false);
            };
            let mut next = f.clone();
            let mut left = hashes;
            left.remove(i);
            next.data = json!({ "hashes": left });
            next.version += 1;
            next.last_used_at = Some(self.now());
            if self.rt().store.update_factor(&next, f.version).await? {
                return Ok(true);
            }
            // Someone used another code at the same moment: read again.
        }
        Err(EngineError::Overloaded {
            retry_after_secs: 1,
        })
    }

    /// The enrolment behind `handle` again (after a mistyped code), if still alive.
    pub async fn resume_totp_enrolment(
        &self,
        tenant: &TenantId,
        user: &UserId,
        handle: &str,
    ) -> EngineResult<Option<TotpEnrolment>> {
        let Some(c) = self
            .rt()
            .store
            .get_challenge(tenant, &Hash32::of(handle.as_bytes()))
            .await?
            .filter(|c| {
                c.purpose == "totp_enrol"
                    && c.expires_at > self.now()
                    && c.tries_left > 0
                    && c.user_id.as_ref() == Some(user)
            })
        else {
            return Ok(None);
        };
        let sealed = c.data["secret"]
            .as_str()
            .and_then(b64_decode)
            .ok_or_else(|| EngineError::Internal("enrolment without a secret".into()))?;
        let secret = self
            .totp_key()
            .open(&Self::totp_aad(tenant, user), &sealed)?;
        self.render_enrolment(tenant, user, secret, handle.to_owned())
            .await
            .map(Some)
    }

    async fn render_enrolment(
        &self,
        tenant: &TenantId,
        user: &UserId,
        secret: Vec<u8>,
        handle: String,
    ) -> EngineResult<TotpEnrolment> {
        let t = self.tenant(tenant).await?;
        let u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let issuer = t.display_name.replace(':', " ");
        let totp = totp_for(secret, &issuer, &u.email.to_string().replace(':', " "))?;
        let uri = totp
            .to_url()
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let qr = qrcode::QrCode::new(uri.as_bytes())
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let qr_svg = qr
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build();
        Ok(TotpEnrolment {
            handle,
            secret_base32: totp.secret().to_base32(),
            uri,
            qr_svg,
        })
    }

    /// Starts enrolling an authenticator app: a new secret, shown once.
    pub async fn start_totp_enrolment(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<TotpEnrolment> {
        let secret = crypto::random_bytes::<20>().to_vec();
        let handle = random_token::<32>();
        let sealed = self.totp_key().seal(&Self::totp_aad(tenant, user), &secret);
        let c = Challenge {
            tenant: tenant.clone(),
            key: Hash32::of(handle.as_bytes()),
            purpose: "totp_enrol".into(),
            user_id: Some(user.clone()),
            data: json!({ "secret": b64(&sealed) }),
            tries_left: PENDING_TRIES,
            expires_at: self.now() + PENDING_TTL,
        };
        self.rt().store.put_challenge(&c).await?;
        self.render_enrolment(tenant, user, secret, handle).await
    }

    /// Confirms an enrolment with a first code. Returns new recovery codes (shown once)
    /// when the user had none.
    pub async fn confirm_totp_enrolment(
        &self,
        tenant: &TenantId,
        user: &UserId,
        handle: &str,
        code: &str,
        label: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Option<Vec<String>>> {
        let key = Hash32::of(handle.as_bytes());
        let c = self
            .rt()
            .store
            .spend_try(tenant, &key)
            .await?
            .filter(|c| {
                c.purpose == "totp_enrol"
                    && c.expires_at > self.now()
                    && c.user_id.as_ref() == Some(user)
            })
            .ok_or_else(|| {
                EngineError::Invalid("This enrolment has expired. Start again.".into())
            })?;
        let sealed = c.data["secret"]
            .as_str()
            .and_then(b64_decode)
            .ok_or_else(|| EngineError::Internal("enrolment without a secret".into()))?;
        let secret = self
            .totp_key()
            .open(&Self::totp_aad(tenant, user), &sealed)?;
        let totp = totp_for(secret, "tollgate", "user")?;
        let Some(step) = totp.check(code.trim(), self.now()) else {
            return Err(bad_code());
        };
        if self
            .rt()
            .store
            .take_challenge(tenant, &key)
            .await?
            .is_none()
        {
            return Err(EngineError::Invalid(
                "This enrolment was already completed.".into(),
            ));
        }
        let label = match label.trim() {
            "" => "Authenticator app".to_owned(),
            l => l.chars().take(60).collect(),
        };
        let now = self.now();
        let factor = Factor {
            tenant: tenant.clone(),
            user_id: user.clone(),
            id: random_token::<12>(),
            kind: FactorKind::Totp,
            label,
            lookup: None,
            // The confirming code's step counts as used.
            data: json!({ "secret": b64(&sealed), "last_step": step }),
            version: 0,
            created_at: now,
            last_used_at: None,
        };
        self.rt().store.create_factor(&factor).await?;
        self.factor_event(tenant, user, "mfa.enrolled", FactorKind::Totp, meta)
            .await?;
        let has_codes = self
            .rt()
            .store
            .list_factors(tenant, user)
            .await?
            .iter()
            .any(|f| f.kind == FactorKind::RecoveryCodes);
        if has_codes {
            return Ok(None);
        }
        self.new_recovery_codes(tenant, user, meta).await.map(Some)
    }

    /// Replaces the user's recovery codes with ten new ones (shown once; stored hashed).
    pub async fn new_recovery_codes(
        &self,
        tenant: &TenantId,
        user: &UserId,
        meta: &RequestMeta,
    ) -> EngineResult<Vec<String>> {
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
        let hashes: Vec<String> = codes
            .iter()
            .map(|c| Hash32::of(c.as_bytes()).to_hex())
            .collect();
        for f in self.rt().store.list_factors(tenant, user).await? {
            if f.kind == FactorKind::RecoveryCodes {
                self.rt().store.delete_factor(tenant, user, &f.id).await?;
            }
        }
        let factor = Factor {
            tenant: tenant.clone(),
            user_id: user.clone(),
            id: random_token::<12>(),
            kind: FactorKind::RecoveryCodes,
            label: "Recovery codes".into(),
            lookup: None,
            data: json!({ "hashes": hashes }),
            version: 0,
            created_at: self.now(),
            last_used_at: None,
        };
        match self.rt().store.create_factor(&factor).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Err(EngineError::Conflict("recovery codes")),
            Err(e) => return Err(EngineError::from(e)),
        }
        self.factor_event(
            tenant,
            user,
            "mfa.enrolled",
            FactorKind::RecoveryCodes,
            meta,
        )
        .await?;
        Ok(codes)
    }

    /// A user's enrolled factors (metadata; secrets stay sealed or hashed).
    pub async fn factors(&self, tenant: &TenantId, user: &UserId) -> EngineResult<Vec<Factor>> {
        self.rt()
            .store
            .list_factors(tenant, user)
            .await
            .map_err(EngineError::from)
    }

    /// Removes one of a user's factors.
    pub async fn remove_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let f = self
            .rt()
            .store
            .delete_factor(tenant, user, id)
            .await?
            .ok_or(EngineError::NotFound("factor"))?;
        self.factor_event(tenant, user, "mfa.removed", f.kind, meta)
            .await
    }

    /// Removes every factor of a user (passkeys, authenticator apps, phone, recovery
    /// codes): after a password reset, when the user does not recognise them all.
    /// Returns how many were removed.
    pub async fn remove_all_factors(
        &self,
        tenant: &TenantId,
        user: &UserId,
        meta: &RequestMeta,
    ) -> EngineResult<usize> {
        let mut n = 0;
        for f in self.rt().store.list_factors(tenant, user).await? {
            if let Some(f) = self.rt().store.delete_factor(tenant, user, &f.id).await? {
                n += 1;
                self.factor_event(tenant, user, "mfa.removed", f.kind, meta)
                    .await?;
            }
        }
        Ok(n)
    }

    /// Appends an enrolment or removal event (durable before the answer), and tells the
    /// user by mail: a factor they did not add is how a takeover shows.
    pub async fn factor_event(
        &self,
        tenant: &TenantId,
        user: &UserId,
        kind: &str,
        factor: FactorKind,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let mut ev = self.event(tenant, kind, true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(factor.as_str().into());
        self.record_now(ev).await?;
        self.factor_notice(tenant, user, kind == "mfa.removed", factor, meta)
            .await;
        Ok(())
    }

    /// Queues the "a sign-in method was added/removed" mail. Best effort: the change is
    /// made and recorded either way.
    async fn factor_notice(
        &self,
        tenant: &TenantId,
        user: &UserId,
        removed: bool,
        factor: FactorKind,
        meta: &RequestMeta,
    ) {
        let (Ok(Some(u)), Ok(t)) = (self.user(tenant, user).await, self.tenant(tenant).await)
        else {
            return;
        };
        // Written in the user's saved language, else the tenant's default: a notice may
        // follow a change made from anywhere (a page, the admin API).
        let mail =
            self.writer(&t, Some(&u), None)
                .factor_notice_mail(u.email.clone(), removed, factor);
        let mut ev = self.event(tenant, "otp.sent", true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("notice {}", u.email.masked()));
        if let Err(e) = self.queue_mail(mail, ev) {
            tracing::warn!(error = %e, "sign-in method notice not queued");
        }
    }
}
