//! Flows by email: passwordless sign-in (a code and a magic link in one mail), proving
//! the address after sign-up, resetting a forgotten password, and an emailed code as a
//! second factor.
//!
//! Starting a sign-in or a reset answers the same whether or not an account has the
//! address: the same challenge and link are written either way and the address counts
//! against the send limits either way; only the mail itself is skipped. Proving the
//! address (by code or link) marks it verified.

use super::SignIn;
use crate::account::children::{AgeAnswers, CHILD_PENDING};
use crate::crypto::{MasterKey, b64, b64_decode, random_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::signin::{Pending, SignInStep};
use crate::model::{Challenge, FactorKind, Hash32, Tenant, User};
use crate::runtime::password::check_policy;
use crate::signin::mails::{CodeMail, Writer};
use crate::signin::otp::{CodeData, Flow, Redeemed, mask_email};

/// A code was sent (or, for an address without an account, was not; the caller cannot
/// tell). The handle goes back with the code (a hidden form field).
#[derive(Debug)]
pub struct CodeSent {
    /// 256 random bits; only its hash is stored.
    pub handle: String,
    /// The recipient, masked, to show on the page.
    pub masked: String,
}

/// The challenge that lets a user who just reset their password review the account's
/// other ways to sign in.
const REVIEW_PURPOSE: &str = "reset_review";
const REVIEW_TTL: u64 = 600;

fn dead() -> EngineError {
    EngineError::Invalid(
        "This code or link has expired or was already used. Ask for a new one.".into(),
    )
}

/// An account waiting for its sign-up code, sealed in the code's challenge.
#[derive(serde::Serialize, serde::Deserialize)]
struct PendingSignUp {
    email: String,
    name: Option<String>,
    /// argon2id of the chosen password.
    hash: String,
    /// The language of the sign-up page, kept as the account's `locale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locale: Option<String>,
    /// The date of birth, where the tenant asks it (kept as `birthdate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    birthdate: Option<String>,
    /// A child's parent, mailed once the account exists (it then waits for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_email: Option<String>,
}

fn signup_aad(tenant: &TenantId, key: &Hash32) -> Vec<u8> {
    format!("sign-up/{tenant}/{}", key.to_hex()).into_bytes()
}

/// The challenge key of a browser-held handle.
pub(crate) fn handle_key(handle: &str) -> EngineResult<Hash32> {
    if handle.len() != 43 {
        return Err(dead());
    }
    Ok(Hash32::of(handle.as_bytes()))
}

/// The key of a user's address-proving code: one at a time per user, so the account
/// page needs no handle.
fn verify_key(user: &UserId) -> Hash32 {
    Hash32::of(format!("otp verify email {user}").as_bytes())
}

/// The key of a pending sign-in's second-factor code.
fn factor_key(handle: &str) -> Hash32 {
    Hash32::of(format!("otp factor {handle}").as_bytes())
}

impl SignIn<'_> {
    /// Queues a code mail (with a link when `link_path` is given), written by `w` (in
    /// the recipient's language).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_code_mail(
        &self,
        w: &Writer,
        t: &Tenant,
        to: &Email,
        user: Option<&UserId>,
        flow: Flow,
        code: &str,
        link_path: Option<String>,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let link = link_path.map(|p| self.page_url(&t.id, &p));
        let kind = match flow {
            Flow::EmailSignIn => CodeMail::SignIn,
            Flow::Reset => CodeMail::Reset,
            Flow::VerifyEmail => CodeMail::Verify,
            Flow::SignUp => CodeMail::SignUp,
            Flow::ChangeEmail => CodeMail::ChangeEmail,
            Flow::Factor | Flow::PhoneSignIn | Flow::PhoneEnrol => CodeMail::Factor,
        };
        let mail = w.code_mail(to.clone(), kind, code, link.as_deref(), self.otp_minutes());
        let ev = self.otp_event(&t.id, "otp.sent", true, user, flow, &mask_email(to), meta);
        self.queue_mail(mail, ev)
    }

    /// Marks the address proven (a code or link reached it).
    async fn mark_email_verified(
        &self,
        tenant: &TenantId,
        mut user: User,
        meta: &RequestMeta,
    ) -> EngineResult<User> {
        if user.email_verified {
            return Ok(user);
        }
        user.email_verified = true;
        if !self.save_user(&user).await? {
            return Err(dead());
        }
        let mut ev = self.event(tenant, "email.verified", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        self.record_now(ev).await?;
        Ok(user)
    }

    pub(crate) fn sign_in_event(
        &self,
        tenant: &TenantId,
        kind: &str,
        user: Option<&UserId>,
        meta: &RequestMeta,
    ) {
        let mut ev = self.event(tenant, kind, user.is_some());
        ev.actor = user.map(|u| u.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        self.record(ev);
    }

    /// Sign-in and reset start alike: a code and a link, mailed if the account exists.
    #[allow(clippy::too_many_arguments)]
    async fn start_by_email(
        &self,
        tenant: &TenantId,
        email: &str,
        flow: Flow,
        tx: Option<String>,
        link_page: &str,
        lang: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<CodeSent> {
        let t = self.tenant(tenant).await?;
        let addr = Email::parse(email)?;
        self.limit_send(tenant, false, addr.as_str(), flow, meta)
            .await?;
        let user = self.user_by_email(tenant, &addr).await?;
        let uid = user.as_ref().map(|u| &u.id);
        let handle = random_token::<32>();
        let key = Hash32::of(handle.as_bytes());
        let data = CodeData {
            tx,
            ..CodeData::default()
        };
        let code = self.put_code(tenant, key, flow, uid, data).await?;
        let token = self.put_link(tenant, key, flow, uid).await?;
        match uid {
            Some(u) => self.send_code_mail(
                &self.writer(&t, user.as_ref(), lang),
                &t,
                &addr,
                Some(u),
                flow,
                &code,
                Some(format!("/{link_page}?token={token}")),
                meta,
            )?,
            None => self.record(self.otp_event(
                tenant,
                "otp.no_account",
                false,
                None,
                flow,
                &mask_email(&addr),
                meta,
            )),
        }
        Ok(CodeSent {
            handle,
            masked: addr.as_str().to_owned(),
        })
    }

    /// Starts a sign-up. The answer is the same whether or not the address has an account
    /// ("we sent you a code"), and so is the work behind it (one password hash, one code
    /// stored, one mail queued): a new address gets a code that creates the account; an
    /// address with an account gets a mail telling its owner, and a code nobody knows.
    ///
    /// `lang` is the language of the sign-up page: the code mail is written in it, and
    /// the new account keeps it as its `locale` if the tenant's catalogue has it (the
    /// owner of an existing account is written to in their saved language, if any).
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_up_start(
        &self,
        tenant: &TenantId,
        email: &str,
        password: &str,
        name: Option<String>,
        tx: Option<String>,
        lang: Option<&str>,
        age: AgeAnswers<'_>,
        meta: &RequestMeta,
    ) -> EngineResult<CodeSent> {
        let t = self.tenant(tenant).await?;
        let addr = Email::parse(email)?;
        check_policy(password)?;
        // Under the age of majority: refused, or a parent named, before anything is stored.
        let age = self.account().sign_up_age(&t, &addr, age)?;
        self.limit_send(tenant, false, addr.as_str(), Flow::SignUp, meta)
            .await?;
        let hash = self.rt().passwords.hash(password).await?;
        let existing = self.user_by_email(tenant, &addr).await?;
        let handle = random_token::<32>();
        let key = Hash32::of(handle.as_bytes());
        let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        let pending = PendingSignUp {
            email: addr.as_str().to_owned(),
            name,
            hash,
            locale: lang.and_then(|l| self.known_language(&t, l)),
            birthdate: age.birthdate,
            parent_email: age.parent_email,
        };
        let sealed = self
            .signup_key()
            .seal(&signup_aad(tenant, &key), &crate::json::to_vec(&pending));
        let mut data = CodeData {
            tx,
            owner: Some(Hash32::of(addr.as_str().as_bytes()).to_hex()),
            ..CodeData::default()
        };
        if existing.is_none() {
            data.pending = Some(b64(&sealed));
        }
        let code = self.put_code(tenant, key, Flow::SignUp, None, data).await?;
        match &existing {
            None => {
                self.sign_in_event(tenant, "signup.started", None, meta);
                self.send_code_mail(
                    &self.writer(&t, None, lang),
                    &t,
                    &addr,
                    None,
                    Flow::SignUp,
                    &code,
                    None,
                    meta,
                )?;
            }
            Some(user) => {
                self.sign_in_event(tenant, "signup.existing_address", Some(&user.id), meta);
                let mail = self
                    .writer(&t, Some(user), lang)
                    .existing_address_mail(addr.clone());
                let ev = self.otp_event(
                    tenant,
                    "otp.sent",
                    true,
                    Some(&user.id),
                    Flow::SignUp,
                    &mask_email(&addr),
                    meta,
                );
                self.queue_mail(mail, ev)?;
            }
        }
        Ok(CodeSent {
            handle,
            masked: addr.as_str().to_owned(),
        })
    }

    /// Finishes a sign-up with the code from its mail: the account is created (its address
    /// proven) and signed in. Returns the authorization request it continues.
    pub async fn sign_up_finish(
        &self,
        tenant: &TenantId,
        handle: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<(SignInStep, Option<String>)> {
        let key = handle_key(handle)?;
        let r = self
            .check_code(tenant, &key, Flow::SignUp, code, meta)
            .await?;
        // Only a new address's code can be known; the other kind never reaches here.
        let sealed = r
            .data
            .pending
            .as_deref()
            .and_then(b64_decode)
            .ok_or_else(dead)?;
        let pending: PendingSignUp = self
            .signup_key()
            .open(&signup_aad(tenant, &key), &sealed)
            .ok()
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or_else(dead)?;
        let email = Email::parse(&pending.email)?;
        let profile = [
            pending.locale.map(|l| ("locale".to_owned(), l)),
            pending.birthdate.map(|b| ("birthdate".to_owned(), b)),
        ];
        let user = match self
            .create_hashed_user(
                tenant,
                email,
                pending.hash,
                pending.name,
                profile.into_iter().flatten().collect(),
                true,
            )
            .await
        {
            Ok(u) => u,
            // Whoever has the code has the mailbox: telling them is no leak.
            Err(EngineError::Conflict(_)) => {
                return Err(EngineError::Invalid(
                    "An account with this email address exists already. Sign in instead.".into(),
                ));
            }
            Err(e) => return Err(e),
        };
        let mut ev = self.event(tenant, "user.signed_up", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        self.record(ev);
        if let Some(parent) = pending.parent_email {
            // A child's account: it waits for the parent, who is mailed now.
            let t = self.tenant(tenant).await?;
            self.account()
                .hold_for_parent(&t, &user, &parent, meta)
                .await?;
            return Err(EngineError::Invalid(CHILD_PENDING.into()));
        }
        let step = self
            .after_first_factor(tenant, &user, vec!["pwd".into()], false)
            .await?;
        Ok((step, r.data.tx))
    }

    fn signup_key(&self) -> MasterKey {
        MasterKey::from_bytes(self.rt().master.derive("tollgate pending sign-ups v1"))
    }

    /// "Email me a code": starts a passwordless sign-in. The mail is in the account's
    /// saved language, else `lang` (the page's), else the tenant's default.
    pub async fn email_sign_in_start(
        &self,
        tenant: &TenantId,
        email: &str,
        tx: Option<String>,
        lang: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<CodeSent> {
        self.start_by_email(
            tenant,
            email,
            Flow::EmailSignIn,
            tx,
            "login/link",
            lang,
            meta,
        )
        .await
    }

    async fn finish_email_sign_in(
        &self,
        tenant: &TenantId,
        r: EngineResult<Redeemed>,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        let user = match r {
            Ok(Redeemed {
                user_id: Some(u), ..
            }) => self.user(tenant, &u).await?,
            Ok(_) => None,
            Err(e) => {
                self.sign_in_event(tenant, "login.email_code", None, meta);
                return Err(e);
            }
        };
        let Some(user) = user else {
            self.sign_in_event(tenant, "login.email_code", None, meta);
            return Err(dead());
        };
        let user = self.mark_email_verified(tenant, user, meta).await?;
        self.sign_in_event(tenant, "login.email_code", Some(&user.id), meta);
        self.after_first_factor_by(
            tenant,
            &user,
            vec![FactorKind::Email.amr().into()],
            false,
            Some(FactorKind::Email),
        )
        .await
    }

    /// Finishes a passwordless sign-in with the emailed code.
    pub async fn email_sign_in_code(
        &self,
        tenant: &TenantId,
        handle: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        let r = match handle_key(handle) {
            Ok(key) => {
                self.check_code(tenant, &key, Flow::EmailSignIn, code, meta)
                    .await
            }
            Err(e) => Err(e),
        };
        self.finish_email_sign_in(tenant, r, meta).await
    }

    /// Finishes a passwordless sign-in with the emailed link; returns the authorization
    /// request it continues.
    pub async fn email_sign_in_link(
        &self,
        tenant: &TenantId,
        token: &str,
        meta: &RequestMeta,
    ) -> EngineResult<(SignInStep, Option<String>)> {
        let r = self.use_link(tenant, token, Flow::EmailSignIn).await;
        let tx = r.as_ref().ok().and_then(|r| r.data.tx.clone());
        let step = self.finish_email_sign_in(tenant, r, meta).await?;
        Ok((step, tx))
    }

    /// "Forgot password?": mails a code and a link if an account has the address (in its
    /// saved language, else `lang`, the page's, else the tenant's default).
    pub async fn password_reset_start(
        &self,
        tenant: &TenantId,
        email: &str,
        tx: Option<String>,
        lang: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<CodeSent> {
        self.start_by_email(tenant, email, Flow::Reset, tx, "password/reset", lang, meta)
            .await
    }

    async fn finish_reset(
        &self,
        tenant: &TenantId,
        r: EngineResult<Redeemed>,
        password: &str,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        let user = match r {
            Ok(Redeemed {
                user_id: Some(u), ..
            }) => self.user(tenant, &u).await?,
            Ok(_) => None,
            Err(e) => {
                self.sign_in_event(tenant, "password.reset", None, meta);
                return Err(e);
            }
        };
        let Some(mut user) = user else {
            self.sign_in_event(tenant, "password.reset", None, meta);
            return Err(dead());
        };
        user.password_hash = Some(self.rt().passwords.hash(password).await?);
        user.email_verified = true;
        if !self.save_user(&user).await? {
            return Err(dead());
        }
        // Whoever was signed in with the old password (or a stolen session) is out.
        self.sign_out_everywhere(tenant, &user.id, meta).await?;
        let mut ev = self.event(tenant, "password.reset", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        self.record_now(ev).await?;
        let factors = self.rt().store.list_factors(tenant, &user.id).await?;
        if !factors.is_empty() {
            let handle = random_token::<32>();
            let c = Challenge {
                tenant: tenant.clone(),
                key: Hash32::of(handle.as_bytes()),
                purpose: REVIEW_PURPOSE.into(),
                user_id: Some(user.id.clone()),
                data: serde_json::Value::Null,
                tries_left: 1,
                expires_at: self.now() + REVIEW_TTL,
            };
            self.rt().store.put_challenge(&c).await?;
            let mut kinds: Vec<FactorKind> = factors.iter().map(|f| f.kind).collect();
            kinds.sort();
            kinds.dedup();
            return Ok(SignInStep::Review(Pending {
                handle,
                factors: kinds,
            }));
        }
        self.after_reset(tenant, &user).await
    }

    /// The code proved the mailbox, not the old password: the MFA policy still applies.
    async fn after_reset(&self, tenant: &TenantId, user: &User) -> EngineResult<SignInStep> {
        self.after_first_factor_by(
            tenant,
            user,
            vec![FactorKind::Email.amr().into()],
            false,
            Some(FactorKind::Email),
        )
        .await
    }

    /// After a reset's review: removes every other way to sign in if asked, then goes on
    /// signing in. The handle is single use.
    pub async fn finish_reset_review(
        &self,
        tenant: &TenantId,
        handle: &str,
        remove_all: bool,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        if handle.len() != 43 {
            return Err(dead());
        }
        let c = self
            .rt()
            .store
            .take_challenge(tenant, &Hash32::of(handle.as_bytes()))
            .await?
            .filter(|c| c.purpose == REVIEW_PURPOSE && c.expires_at > self.now())
            .ok_or_else(dead)?;
        let user_id = c.user_id.ok_or_else(dead)?;
        let user = self.user(tenant, &user_id).await?.ok_or_else(dead)?;
        if remove_all {
            self.remove_all_factors(tenant, &user.id, meta).await?;
        }
        self.after_reset(tenant, &user).await
    }

    /// Sets a new password with the emailed code, then signs in.
    pub async fn password_reset_code(
        &self,
        tenant: &TenantId,
        handle: &str,
        code: &str,
        new_password: &str,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        // A password the policy refuses costs no try.
        check_policy(new_password)?;
        let r = match handle_key(handle) {
            Ok(key) => self.check_code(tenant, &key, Flow::Reset, code, meta).await,
            Err(e) => Err(e),
        };
        self.finish_reset(tenant, r, new_password, meta).await
    }

    /// Sets a new password with the emailed link, then signs in; returns the
    /// authorization request it continues.
    pub async fn password_reset_link(
        &self,
        tenant: &TenantId,
        token: &str,
        new_password: &str,
        meta: &RequestMeta,
    ) -> EngineResult<(SignInStep, Option<String>)> {
        check_policy(new_password)?;
        let r = self.use_link(tenant, token, Flow::Reset).await;
        let tx = r.as_ref().ok().and_then(|r| r.data.tx.clone());
        let step = self.finish_reset(tenant, r, new_password, meta).await?;
        Ok((step, tx))
    }

    /// Mails a code and link that prove the user's address (nothing if it is proven), in
    /// the user's saved language, else `lang` (the page's), else the tenant's default.
    pub async fn send_email_verification(
        &self,
        tenant: &TenantId,
        user: &UserId,
        lang: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let t = self.tenant(tenant).await?;
        let Some(u) = self.user(tenant, user).await? else {
            return Err(EngineError::NotFound("user"));
        };
        if u.email_verified {
            return Ok(());
        }
        self.limit_send(tenant, false, u.email.as_str(), Flow::VerifyEmail, meta)
            .await?;
        let key = verify_key(user);
        let code = self
            .put_code(
                tenant,
                key,
                Flow::VerifyEmail,
                Some(user),
                CodeData::default(),
            )
            .await?;
        let token = self
            .put_link(tenant, key, Flow::VerifyEmail, Some(user))
            .await?;
        self.send_code_mail(
            &self.writer(&t, Some(&u), lang),
            &t,
            &u.email,
            Some(user),
            Flow::VerifyEmail,
            &code,
            Some(format!("/verify?token={token}")),
            meta,
        )
    }

    /// Proves the signed-in user's address with the mailed code.
    pub async fn verify_email_code(
        &self,
        tenant: &TenantId,
        user: &UserId,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let r = self
            .check_code(tenant, &verify_key(user), Flow::VerifyEmail, code, meta)
            .await?;
        self.finish_verification(tenant, r, meta).await
    }

    /// Proves an address with the mailed link (no session needed: the link is the proof).
    pub async fn verify_email_link(
        &self,
        tenant: &TenantId,
        token: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let r = self.use_link(tenant, token, Flow::VerifyEmail).await?;
        self.finish_verification(tenant, r, meta).await
    }

    async fn finish_verification(
        &self,
        tenant: &TenantId,
        r: Redeemed,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let Some(u) = r.user_id else {
            return Err(dead());
        };
        let user = self.user(tenant, &u).await?.ok_or_else(dead)?;
        self.mark_email_verified(tenant, user, meta).await?;
        Ok(())
    }

    /// Sends a second-factor code (email or phone) for a pending sign-in; a new one
    /// replaces the last. Written in the user's saved language, else `lang` (the page's),
    /// else the tenant's default.
    pub async fn send_factor_code(
        &self,
        tenant: &TenantId,
        handle: &str,
        kind: FactorKind,
        lang: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<CodeSent> {
        let stale = || {
            EngineError::Invalid(
                "This sign-in step has expired or was used up. Start again from the sign-in page."
                    .into(),
            )
        };
        let info = self.pending(tenant, handle).await?.ok_or_else(stale)?;
        if !info.factors.contains(&kind) {
            return Err(EngineError::Invalid(
                "That way of confirming is not available here.".into(),
            ));
        }
        let t = self.tenant(tenant).await?;
        let user = self.user(tenant, &info.user_id).await?.ok_or_else(stale)?;
        let w = self.writer(&t, Some(&user), lang);
        let key = factor_key(handle);
        let data = CodeData {
            factor: Some(kind),
            ..CodeData::default()
        };
        match kind {
            FactorKind::Email if user.email_verified => {
                self.limit_send(tenant, false, user.email.as_str(), Flow::Factor, meta)
                    .await?;
                let code = self
                    .put_code(tenant, key, Flow::Factor, Some(&user.id), data)
                    .await?;
                self.send_code_mail(
                    &w,
                    &t,
                    &user.email,
                    Some(&user.id),
                    Flow::Factor,
                    &code,
                    None,
                    meta,
                )?;
                Ok(CodeSent {
                    handle: handle.to_owned(),
                    masked: mask_email(&user.email),
                })
            }
            FactorKind::Phone => {
                let (phone, channel) =
                    self.user_phone(tenant, &user.id).await?.ok_or_else(stale)?;
                self.limit_send(tenant, true, phone.as_str(), Flow::Factor, meta)
                    .await?;
                let code = self
                    .put_code(tenant, key, Flow::Factor, Some(&user.id), data)
                    .await?;
                self.send_phone_code(
                    &w,
                    &t,
                    &phone,
                    channel,
                    code,
                    Some(&user.id),
                    Flow::Factor,
                    meta,
                )?;
                Ok(CodeSent {
                    handle: handle.to_owned(),
                    masked: phone.masked(),
                })
            }
            _ => Err(EngineError::Invalid(
                "That way of confirming is not available here.".into(),
            )),
        }
    }

    /// Whether `code` is the second-factor code of `kind` sent for this pending sign-in
    /// to `user` (it has its own tries, besides the pending sign-in's).
    pub(crate) async fn check_factor_code(
        &self,
        tenant: &TenantId,
        handle: &str,
        user: &UserId,
        kind: FactorKind,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<bool> {
        match self
            .check_code(tenant, &factor_key(handle), Flow::Factor, code, meta)
            .await
        {
            Ok(r) => Ok(r.user_id.as_ref() == Some(user) && r.data.factor == Some(kind)),
            Err(EngineError::Invalid(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
