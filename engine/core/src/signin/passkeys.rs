//! Passkeys (WebAuthn, through webauthn-rs): registering one, signing in with one alone
//! (a discoverable credential: no email typed), and using one as the second factor of a
//! pending sign-in.
//!
//! Every ceremony is a [`Challenge`] of five minutes, taken (so used once) when it
//! finishes, and bound to what started it: registration to the session (or, when
//! enrolling during sign-in, to the pending sign-in), a second factor to the pending
//! sign-in, a passkey sign-in to the browser (the gateway passes its CSRF cookie). The
//! relying-party id and origin come from [`WebauthnConfig`](crate::runtime::config::WebauthnConfig); webauthn-rs checks them, the
//! challenge, the signature, user verification and the signature counter.
//!
//! A passkey is stored as a [`Factor`] whose `lookup` is its credential id (base64url),
//! unique per tenant, and whose `data` holds the serialised [`Passkey`] (a public key and
//! counters: nothing secret). A verified passkey counts as two factors (`hwk` and `mfa`).

use super::SignIn;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use webauthn_rs::prelude::{
    AuthenticationResult, CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid, Webauthn,
};

use crate::crypto::{b64, random_token, sha256};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::signin::NewSession;
use crate::model::{Challenge, Factor, FactorKind, Hash32, Session, Tenant};
use crate::runtime::config::CEREMONY_TTL;
use crate::signin::mfa::Completed;
use crate::store::StoreError;

const REGISTER: &str = "webauthn_register";
const ENROL: &str = "webauthn_enrol";
const LOGIN: &str = "webauthn_login";
const FACTOR: &str = "webauthn_factor";
/// Proving an existing account with one of its passkeys, to link an upstream identity.
pub(crate) const LINK: &str = "webauthn_link";

/// A ceremony started: the browser keeps `handle` and passes `options` to
/// `navigator.credentials.create()` or `.get()`.
#[derive(Debug)]
pub struct Ceremony {
    /// Names the ceremony when it finishes (256 random bits; only the hash is stored).
    pub handle: String,
    /// `{"publicKey": …}` (and `"mediation"` for a passkey sign-in), as webauthn-rs
    /// renders it, binary values in base64url.
    pub options: Value,
}

#[derive(Serialize, Deserialize)]
struct CeremonyData {
    /// webauthn-rs's state for the ceremony.
    state: Value,
    /// What it is bound to (a session key, or the hash of a pending handle or browser).
    bind: Hash32,
}

fn expired() -> EngineError {
    EngineError::Invalid(
        "This passkey request expired or was already used. Please try again.".into(),
    )
}

fn malformed() -> EngineError {
    EngineError::Invalid("The passkey response is malformed.".into())
}

pub(crate) fn not_verified() -> EngineError {
    EngineError::Invalid(
        "That passkey could not be verified. Try again or use another way to sign in.".into(),
    )
}

fn label_or(label: &str, default: &str) -> String {
    match label.trim() {
        "" => default.to_owned(),
        l => l.chars().filter(|c| !c.is_control()).take(60).collect(),
    }
}

/// The user handle a passkey stores: derived, so it names no email and no internal id.
fn user_handle(tenant: &TenantId, user: &UserId) -> Uuid {
    let h = sha256(format!("tollgate passkey user v1\0{tenant}\0{user}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    Uuid::from_bytes(b)
}

fn passkey_of(f: &Factor) -> EngineResult<Passkey> {
    serde_json::from_value(f.data["passkey"].clone())
        .map_err(|e| EngineError::Internal(format!("stored passkey {}: {e}", f.id)))
}

fn to_json(v: &impl Serialize) -> EngineResult<Value> {
    serde_json::to_value(v).map_err(|e| EngineError::Internal(format!("webauthn state: {e}")))
}

impl SignIn<'_> {
    /// Whether this server can use passkeys at all (a relying-party id is configured or
    /// the public URL has a domain name).
    pub fn passkeys_available(&self) -> bool {
        self.rt().config.webauthn.is_some()
    }

    /// Whether a tenant's users can register and use passkeys here.
    pub fn passkeys_allowed(&self, tenant: &Tenant) -> bool {
        self.passkeys_available() && tenant.mfa.factors.contains(&FactorKind::Passkey)
    }

    async fn webauthn(&self, tenant: &TenantId) -> EngineResult<Webauthn> {
        let t = self.tenant(tenant).await?;
        if !t.mfa.factors.contains(&FactorKind::Passkey) {
            return Err(EngineError::Invalid(
                "This organisation does not use passkeys.".into(),
            ));
        }
        let cfg = self.rt().config.webauthn.as_ref().ok_or_else(|| {
            EngineError::Invalid("Passkeys are not set up on this server.".into())
        })?;
        cfg.site(&t.display_name).map_err(EngineError::Internal)
    }

    async fn put_ceremony(
        &self,
        tenant: &TenantId,
        purpose: &str,
        user: Option<&UserId>,
        state: Value,
        bind: Hash32,
        options: Value,
    ) -> EngineResult<Ceremony> {
        let handle = random_token::<32>();
        let data = to_json(&CeremonyData { state, bind })?;
        let c = Challenge {
            tenant: tenant.clone(),
            key: Hash32::of(handle.as_bytes()),
            purpose: purpose.into(),
            user_id: user.cloned(),
            data,
            tries_left: 1,
            expires_at: self.now() + CEREMONY_TTL,
        };
        self.rt().store.put_challenge(&c).await?;
        Ok(Ceremony { handle, options })
    }

    /// Takes (uses up) a ceremony; refuses one of another purpose, expired, or bound to
    /// something else.
    async fn take_ceremony(
        &self,
        tenant: &TenantId,
        handle: &str,
        purpose: &str,
        bind: &Hash32,
    ) -> EngineResult<(Option<UserId>, Value)> {
        if handle.len() != 43 {
            return Err(expired());
        }
        let c = self
            .rt()
            .store
            .take_challenge(tenant, &Hash32::of(handle.as_bytes()))
            .await?
            .filter(|c| c.purpose == purpose && c.expires_at > self.now())
            .ok_or_else(expired)?;
        let d: CeremonyData =
            serde_json::from_value(c.data).map_err(|e| EngineError::Internal(e.to_string()))?;
        if !crate::crypto::ct_eq(&d.bind.0, &bind.0) {
            return Err(expired());
        }
        Ok((c.user_id, d.state))
    }

    async fn passkey_factors(&self, tenant: &TenantId, user: &UserId) -> EngineResult<Vec<Factor>> {
        Ok(self
            .rt()
            .store
            .list_factors(tenant, user)
            .await?
            .into_iter()
            .filter(|f| f.kind == FactorKind::Passkey)
            .collect())
    }

    async fn audit(
        &self,
        tenant: &TenantId,
        kind: &str,
        ok: bool,
        user: Option<&UserId>,
        detail: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let mut ev = self.event(tenant, kind, ok);
        if ok {
            ev.actor = user.map(ToString::to_string);
        }
        ev.subject = user.map(ToString::to_string);
        ev.ip = meta.ip.clone();
        ev.detail = Some(detail.into());
        self.record_now(ev).await
    }

    /// Starts registering a passkey for the signed-in user of `session`.
    pub async fn start_passkey_registration(
        &self,
        tenant: &TenantId,
        session: &Session,
    ) -> EngineResult<Ceremony> {
        // A passkey outlives the session and a password reset: only after a recent sign-in.
        // (The ceremony it starts is bound to this session and short-lived.)
        self.require_recent(session)?;
        self.start_registration(tenant, &session.user_id, REGISTER, session.key)
            .await
    }

    /// Starts registering a passkey as the second factor a pending sign-in must enrol.
    pub async fn start_passkey_enrolment(
        &self,
        tenant: &TenantId,
        pending: &str,
    ) -> EngineResult<Ceremony> {
        let info = self
            .pending(tenant, pending)
            .await?
            .filter(|i| i.enrol && i.factors.contains(&FactorKind::Passkey))
            .ok_or_else(expired)?;
        self.start_registration(tenant, &info.user_id, ENROL, Hash32::of(pending.as_bytes()))
            .await
    }

    async fn start_registration(
        &self,
        tenant: &TenantId,
        user: &UserId,
        purpose: &str,
        bind: Hash32,
    ) -> EngineResult<Ceremony> {
        let wa = self.webauthn(tenant).await?;
        let u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let mut exclude: Vec<CredentialID> = Vec::new();
        for f in self.passkey_factors(tenant, user).await? {
            exclude.push(passkey_of(&f)?.cred_id().clone());
        }
        let display = u.name.clone().unwrap_or_else(|| u.email.to_string());
        let (ccr, state) = wa
            .start_passkey_registration(
                user_handle(tenant, user),
                u.email.as_str(),
                &display,
                Some(exclude),
            )
            .map_err(|e| EngineError::Internal(format!("webauthn: {e}")))?;
        let mut options = to_json(&ccr)?;
        // A discoverable credential, so that the passkey alone can sign in (no email
        // typed). webauthn-rs asks for a server-side one; what it verifies is the same.
        options["publicKey"]["authenticatorSelection"]["residentKey"] = json!("required");
        options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = json!(true);
        self.put_ceremony(tenant, purpose, Some(user), to_json(&state)?, bind, options)
            .await
    }

    /// Finishes a registration started by [`Self::start_passkey_registration`] in the
    /// same session; returns the new factor.
    pub async fn finish_passkey_registration(
        &self,
        tenant: &TenantId,
        handle: &str,
        session: &Session,
        credential: &Value,
        label: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Factor> {
        let (user, state) = self
            .take_ceremony(tenant, handle, REGISTER, &session.key)
            .await?;
        if user.as_ref() != Some(&session.user_id) {
            return Err(expired());
        }
        self.register_passkey(tenant, &session.user_id, state, credential, label, meta)
            .await
    }

    /// Finishes a registration started by [`Self::start_passkey_enrolment`], then the
    /// pending sign-in with it.
    pub async fn finish_passkey_enrolment(
        &self,
        tenant: &TenantId,
        handle: &str,
        pending: &str,
        credential: &Value,
        label: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Completed> {
        let (user, state) = self
            .take_ceremony(tenant, handle, ENROL, &Hash32::of(pending.as_bytes()))
            .await?;
        let info = self
            .pending(tenant, pending)
            .await?
            .filter(|i| i.enrol && Some(&i.user_id) == user.as_ref())
            .ok_or_else(expired)?;
        self.register_passkey(tenant, &info.user_id, state, credential, label, meta)
            .await?;
        self.complete_pending(tenant, pending, FactorKind::Passkey, meta)
            .await
    }

    async fn register_passkey(
        &self,
        tenant: &TenantId,
        user: &UserId,
        state: Value,
        credential: &Value,
        label: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Factor> {
        let wa = self.webauthn(tenant).await?;
        let state: PasskeyRegistration =
            serde_json::from_value(state).map_err(|e| EngineError::Internal(e.to_string()))?;
        let verified = serde_json::from_value::<RegisterPublicKeyCredential>(credential.clone())
            .map_err(|_| "malformed")
            .and_then(|c| {
                wa.finish_passkey_registration(&c, &state).map_err(|e| {
                    tracing::info!(error = %e, "passkey registration refused");
                    "not_verified"
                })
            });
        let passkey = match verified {
            Ok(p) => p,
            Err(reason) => {
                self.audit(tenant, "mfa.enrolled", false, Some(user), reason, meta)
                    .await?;
                return Err(EngineError::Invalid(
                    "This passkey could not be registered. Please try again.".into(),
                ));
            }
        };
        let factor = Factor {
            tenant: tenant.clone(),
            user_id: user.clone(),
            id: random_token::<12>(),
            kind: FactorKind::Passkey,
            label: label_or(label, "Passkey"),
            lookup: Some(b64(passkey.cred_id())),
            data: json!({ "passkey": to_json(&passkey)? }),
            version: 0,
            created_at: self.now(),
            last_used_at: None,
        };
        match self.rt().store.create_factor(&factor).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(EngineError::Invalid(
                    "This passkey is already registered.".into(),
                ));
            }
            Err(e) => return Err(EngineError::from(e)),
        }
        self.factor_event(tenant, user, "mfa.enrolled", FactorKind::Passkey, meta)
            .await?;
        Ok(factor)
    }

    /// Starts a sign-in with a passkey alone, for the browser named by `browser` (an
    /// opaque value only that browser holds).
    pub async fn start_passkey_login(
        &self,
        tenant: &TenantId,
        browser: &str,
    ) -> EngineResult<Ceremony> {
        let wa = self.webauthn(tenant).await?;
        let (rcr, state) = wa
            .start_discoverable_authentication()
            .map_err(|e| EngineError::Internal(format!("webauthn: {e}")))?;
        self.put_ceremony(
            tenant,
            LOGIN,
            None,
            to_json(&state)?,
            Hash32::of(browser.as_bytes()),
            to_json(&rcr)?,
        )
        .await
    }

    /// Finishes a passkey sign-in: a session with `amr` `hwk` and `mfa`. webauthn-rs
    /// requires user verification (a PIN or biometric on the authenticator), so the
    /// passkey alone is two factors; an assertion without it is refused.
    pub async fn finish_passkey_login(
        &self,
        tenant: &TenantId,
        handle: &str,
        browser: &str,
        credential: &Value,
        meta: &RequestMeta,
    ) -> EngineResult<NewSession> {
        let failed = |user: Option<UserId>, reason: &'static str| async move {
            self.audit(tenant, "login.passkey", false, user.as_ref(), reason, meta)
                .await?;
            Err::<NewSession, _>(not_verified())
        };
        let (_, state) = match self
            .take_ceremony(tenant, handle, LOGIN, &Hash32::of(browser.as_bytes()))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                self.audit(tenant, "login.passkey", false, None, "expired", meta)
                    .await?;
                return Err(e);
            }
        };
        let wa = self.webauthn(tenant).await?;
        let state: DiscoverableAuthentication =
            serde_json::from_value(state).map_err(|e| EngineError::Internal(e.to_string()))?;
        let Ok(cred) = serde_json::from_value::<PublicKeyCredential>(credential.clone()) else {
            self.audit(tenant, "login.passkey", false, None, "malformed", meta)
                .await?;
            return Err(malformed());
        };
        let Ok((handle_uuid, cred_id)) = wa.identify_discoverable_authentication(&cred) else {
            return failed(None, "no_user_handle").await;
        };
        let Some(factor) = self
            .rt()
            .store
            .find_factor(tenant, &b64(cred_id))
            .await?
            .filter(|f| f.kind == FactorKind::Passkey)
        else {
            return failed(None, "unknown_credential").await;
        };
        let user_id = factor.user_id.clone();
        if user_handle(tenant, &user_id) != handle_uuid {
            return failed(Some(user_id), "user_handle_mismatch").await;
        }
        let Some(user) = self.user(tenant, &user_id).await? else {
            return failed(Some(user_id), "unknown_user").await;
        };
        let passkey = passkey_of(&factor)?;
        let res = match wa.finish_discoverable_authentication_v2(&cred, state, &passkey) {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %e, "passkey sign-in refused");
                return failed(Some(user_id), "not_verified").await;
            }
        };
        if !res.user_verified() {
            return failed(Some(user_id), "not_user_verified").await;
        }
        if !self.passkey_used(factor, &res).await? {
            return failed(Some(user_id), "removed").await;
        }
        self.audit(
            tenant,
            "login.passkey",
            true,
            Some(&user_id),
            "passkey",
            meta,
        )
        .await?;
        let amr = vec![FactorKind::Passkey.amr().to_owned(), "mfa".to_owned()];
        self.start_session(tenant, &user, amr).await
    }

    /// Starts using a passkey as the second factor of a pending sign-in (or step-up):
    /// only that user's passkeys are allowed.
    pub async fn start_passkey_factor(
        &self,
        tenant: &TenantId,
        pending: &str,
    ) -> EngineResult<Ceremony> {
        let info = self
            .pending(tenant, pending)
            .await?
            .filter(|i| !i.enrol && i.factors.contains(&FactorKind::Passkey))
            .ok_or_else(expired)?;
        self.start_passkey_check(
            tenant,
            &info.user_id,
            FACTOR,
            Hash32::of(pending.as_bytes()),
        )
        .await
    }

    /// Starts a ceremony that proves `user` holds one of its passkeys, bound to `bind`
    /// (what it proves something for).
    pub(crate) async fn start_passkey_check(
        &self,
        tenant: &TenantId,
        user: &UserId,
        purpose: &str,
        bind: Hash32,
    ) -> EngineResult<Ceremony> {
        let wa = self.webauthn(tenant).await?;
        let mut passkeys = Vec::new();
        for f in self.passkey_factors(tenant, user).await? {
            passkeys.push(passkey_of(&f)?);
        }
        if passkeys.is_empty() {
            return Err(EngineError::Invalid(
                "There is no passkey on this account.".into(),
            ));
        }
        let (rcr, state) = wa
            .start_passkey_authentication(&passkeys)
            .map_err(|e| EngineError::Internal(format!("webauthn: {e}")))?;
        self.put_ceremony(
            tenant,
            purpose,
            Some(user),
            to_json(&state)?,
            bind,
            to_json(&rcr)?,
        )
        .await
    }

    /// Whether `credential` answers the ceremony `state` with one of `user`'s passkeys;
    /// a use is recorded on the passkey.
    pub(crate) async fn passkey_check_passes(
        &self,
        tenant: &TenantId,
        user: &UserId,
        state: Value,
        credential: &Value,
    ) -> EngineResult<bool> {
        let wa = self.webauthn(tenant).await?;
        let state: PasskeyAuthentication =
            serde_json::from_value(state).map_err(|e| EngineError::Internal(e.to_string()))?;
        let verified = match serde_json::from_value::<PublicKeyCredential>(credential.clone()) {
            Ok(cred) => wa.finish_passkey_authentication(&cred, &state).ok(),
            Err(_) => None,
        };
        let factor = match &verified {
            Some(res) => self
                .rt()
                .store
                .find_factor(tenant, &b64(res.cred_id()))
                .await?
                .filter(|f| f.kind == FactorKind::Passkey && &f.user_id == user),
            None => None,
        };
        match (factor, &verified) {
            (Some(f), Some(res)) => self.passkey_used(f, res).await,
            _ => Ok(false),
        }
    }

    /// Takes a passkey ceremony of `purpose` bound to `bind`: its user and state.
    pub(crate) async fn take_passkey_check(
        &self,
        tenant: &TenantId,
        handle: &str,
        purpose: &str,
        bind: &Hash32,
    ) -> EngineResult<(Option<UserId>, Value)> {
        self.take_ceremony(tenant, handle, purpose, bind).await
    }

    /// Finishes a passkey used as a second factor and completes the pending sign-in.
    /// Each attempt spends one of the pending sign-in's tries.
    pub async fn finish_passkey_factor(
        &self,
        tenant: &TenantId,
        handle: &str,
        pending: &str,
        credential: &Value,
        meta: &RequestMeta,
    ) -> EngineResult<Completed> {
        let (user, state) = self
            .take_ceremony(tenant, handle, FACTOR, &Hash32::of(pending.as_bytes()))
            .await?;
        let info = self
            .pending(tenant, pending)
            .await?
            .filter(|i| !i.enrol && Some(&i.user_id) == user.as_ref())
            .ok_or_else(expired)?;
        self.rt()
            .store
            .spend_try(tenant, &Hash32::of(pending.as_bytes()))
            .await?
            .ok_or_else(expired)?;
        let user_id = info.user_id;
        let ok = self
            .passkey_check_passes(tenant, &user_id, state, credential)
            .await?;
        let mut ev = self.event(tenant, "mfa.verify", ok);
        ev.actor = Some(user_id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(FactorKind::Passkey.as_str().into());
        self.record_now(ev).await?;
        if !ok {
            return Err(not_verified());
        }
        self.complete_pending(tenant, pending, FactorKind::Passkey, meta)
            .await
    }

    /// Records a use: the signature counter and backup state webauthn-rs saw, and when.
    /// Conditional on the factor's version; `false` if the passkey was removed meanwhile.
    async fn passkey_used(&self, mut f: Factor, res: &AuthenticationResult) -> EngineResult<bool> {
        for _ in 0..3 {
            let mut passkey = passkey_of(&f)?;
            passkey.update_credential(res);
            let mut next = f.clone();
            next.data["passkey"] = to_json(&passkey)?;
            next.version += 1;
            next.last_used_at = Some(self.now());
            if self.rt().store.update_factor(&next, f.version).await? {
                return Ok(true);
            }
            // Used at the same moment elsewhere, renamed, or removed: read it again.
            match self
                .rt()
                .store
                .get_factor(&f.tenant, &f.user_id, &f.id)
                .await?
            {
                Some(again) => f = again,
                None => return Ok(false),
            }
        }
        Err(EngineError::Overloaded {
            retry_after_secs: 1,
        })
    }

    /// Renames one of a user's passkeys.
    pub async fn rename_passkey(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
        label: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        for _ in 0..3 {
            let f = self
                .rt()
                .store
                .get_factor(tenant, user, id)
                .await?
                .filter(|f| f.kind == FactorKind::Passkey)
                .ok_or(EngineError::NotFound("passkey"))?;
            let mut next = f.clone();
            next.label = label_or(label, &f.label);
            next.version += 1;
            if self.rt().store.update_factor(&next, f.version).await? {
                return self
                    .audit(tenant, "passkey.renamed", true, Some(user), "passkey", meta)
                    .await;
            }
        }
        Err(EngineError::Overloaded {
            retry_after_secs: 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_handles_differ_by_tenant_and_user() {
        let t = TenantId::parse("a").unwrap();
        let u = TenantId::parse("b").unwrap();
        let id = |s: &str| serde_json::from_value::<UserId>(json!(s)).unwrap();
        assert_eq!(user_handle(&t, &id("x")), user_handle(&t, &id("x")));
        assert_ne!(user_handle(&t, &id("x")), user_handle(&u, &id("x")));
        assert_ne!(user_handle(&t, &id("x")), user_handle(&t, &id("y")));
    }
}
