//! The account portal's changes to an account: the login email (proven by a code sent
//! to the new address; the old one is told), the phone number (the new one proven, then
//! it replaces the old), the password (the current one required; every other session
//! signed out) and deleting the account (the password again, or typing DELETE).
//!
//! Answers are uniform: starting an email change sends the code whether or not another
//! account has the address, so only the owner of that mailbox learns it is taken.

use super::Account;
use crate::crypto::random_token;
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::signin::NewSession;
use crate::model::{FactorKind, Hash32, Session, User};
use crate::runtime::password::check_policy;
use crate::signin::email_codes::{CodeSent, handle_key};
use crate::signin::otp::{CodeData, Flow, mask_email};
use crate::store::StoreError;

/// What a user types to delete an account that has no password.
pub const DELETE_WORD: &str = "DELETE";

fn wrong_password() -> EngineError {
    EngineError::Invalid("Your current password is not correct.".into())
}

impl Account<'_> {
    /// Checks a user's password again (email change, password change, deletion), under
    /// the sign-in throttle: a stolen session cannot guess the password through these
    /// forms any faster than through the sign-in page. `true` for an account without a
    /// password (there is nothing to check).
    async fn recheck_password(
        &self,
        tenant: &TenantId,
        user: &User,
        password: &str,
        meta: &RequestMeta,
    ) -> EngineResult<bool> {
        let Some(hash) = user.password_hash.clone() else {
            return Ok(true);
        };
        let account = user.email.as_str();
        let ip = meta.ip.as_deref();
        let attempt = self
            .rt()
            .throttle
            .reserve(tenant, account, ip)
            .map_err(|retry_after_secs| EngineError::RateLimited { retry_after_secs })?;
        let ok = self.rt().passwords.verify(password, Some(hash)).await?;
        if ok {
            attempt.succeeded();
        } else {
            attempt.failed();
        }
        Ok(ok)
    }

    /// Changes a user's login id. `Conflict("user")` when another account has the address.
    /// The new address is not proven by this call (`email_verified` becomes false); the
    /// portal proves it first and uses [`Account::change_email_confirm`](super::Account::change_email_confirm).
    pub async fn change_email(
        &self,
        tenant: &TenantId,
        user: &UserId,
        new: &Email,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        self.switch_email(tenant, user, new, false, meta).await
    }

    async fn switch_email(
        &self,
        tenant: &TenantId,
        user: &UserId,
        new: &Email,
        verified: bool,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let mut u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        if &u.email == new {
            if verified && !u.email_verified {
                u.email_verified = true;
                self.save_user(&u).await?;
            }
            return Ok(());
        }
        let old = std::mem::replace(&mut u.email, new.clone());
        u.email_verified = verified;
        let Some(key) = self.data_key(tenant, user).await? else {
            return Err(EngineError::NotFound("user"));
        };
        let record = self.seal_user(&u, &key);
        let old_key = self.email_key(tenant, &old);
        match self.rt().store.change_user_email(&record, &old_key).await {
            Ok(true) => {}
            Ok(false) => return Err(EngineError::NotFound("user")),
            Err(StoreError::Conflict) => return Err(EngineError::Conflict("user")),
            Err(e) => return Err(EngineError::from(e)),
        }
        let mut ev = self.event(tenant, "user.email_changed", true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(if verified { "verified" } else { "unverified" }.into());
        self.record_now(ev).await?;
        // The old mailbox learns of it, in case it was not its owner's doing.
        // In the user's saved language, else the tenant's default.
        let t = self.tenant(tenant).await?;
        let mail = self
            .signin()
            .writer(&t, Some(&u), None)
            .email_changed_mail(old.clone(), &mask_email(new));
        let ev = self.signin().otp_event(
            tenant,
            "otp.sent",
            true,
            Some(user),
            Flow::ChangeEmail,
            &mask_email(&old),
            meta,
        );
        if let Err(e) = self.signin().queue_mail(mail, ev) {
            tracing::warn!(error = %e, "email change notice not queued");
        }
        Ok(())
    }

    /// Starts changing the login email: mails a code to the new address. An account with
    /// a password must give it (a stolen session alone cannot move the account to
    /// another mailbox, and from there reset the password). The mail is in the user's
    /// saved language, else `lang` (the page's), else the tenant's default.
    pub async fn change_email_start(
        &self,
        tenant: &TenantId,
        user: &UserId,
        new_email: &str,
        current_password: &str,
        lang: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<CodeSent> {
        let t = self.tenant(tenant).await?;
        let new = Email::parse(new_email)?;
        let u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        if !self
            .recheck_password(tenant, &u, current_password, meta)
            .await?
        {
            return Err(wrong_password());
        }
        if u.email == new {
            return Err(EngineError::Invalid(
                "That is already your sign-in address.".into(),
            ));
        }
        self.signin()
            .limit_send(tenant, false, new.as_str(), Flow::ChangeEmail, meta)
            .await?;
        let handle = random_token::<32>();
        let data = CodeData {
            email: Some(new.as_str().to_owned()),
            ..CodeData::default()
        };
        let code = self
            .signin()
            .put_code(
                tenant,
                Hash32::of(handle.as_bytes()),
                Flow::ChangeEmail,
                Some(user),
                data,
            )
            .await?;
        let signin = self.signin();
        signin.send_code_mail(
            &signin.writer(&t, Some(&u), lang),
            &t,
            &new,
            Some(user),
            Flow::ChangeEmail,
            &code,
            None,
            meta,
        )?;
        Ok(CodeSent {
            handle,
            masked: new.as_str().to_owned(),
        })
    }

    /// Finishes an email change with the code mailed to the new address: it becomes the
    /// login id, proven. `Conflict("user")` if another account has it (only whoever reads
    /// that mailbox gets this far).
    pub async fn change_email_confirm(
        &self,
        tenant: &TenantId,
        user: &UserId,
        handle: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let r = self
            .signin()
            .check_code(tenant, &handle_key(handle)?, Flow::ChangeEmail, code, meta)
            .await?;
        let (Some(addr), true) = (r.data.email, r.user_id.as_ref() == Some(user)) else {
            return Err(EngineError::Invalid(
                "This code has expired or was already used. Ask for a new one.".into(),
            ));
        };
        let new = Email::parse(&addr)?;
        self.switch_email(tenant, user, &new, true, meta).await
    }

    /// The user's mobile number (of the first phone factor), masked, if any.
    pub async fn masked_phone(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Option<String>> {
        Ok(self
            .signin()
            .user_phone(tenant, user)
            .await?
            .map(|(phone, _)| phone.masked()))
    }

    /// Finishes a phone change: the new number (proven by its code) is added, then the
    /// user's other phone numbers are removed.
    pub async fn change_phone_confirm(
        &self,
        tenant: &TenantId,
        user: &UserId,
        handle: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let before: Vec<String> = self
            .rt()
            .store
            .list_factors(tenant, user)
            .await?
            .into_iter()
            .filter(|f| f.kind == FactorKind::Phone)
            .map(|f| f.id)
            .collect();
        self.signin()
            .phone_enrol_confirm(tenant, user, handle, code, meta)
            .await?;
        let after = self.rt().store.list_factors(tenant, user).await?;
        // The number confirmed may already have been the user's: then nothing is new and
        // nothing is removed.
        let added = after
            .iter()
            .any(|f| f.kind == FactorKind::Phone && !before.contains(&f.id));
        if added {
            for id in &before {
                self.rt().store.delete_factor(tenant, user, id).await?;
            }
        }
        let mut ev = self.event(tenant, "user.phone_changed", true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        self.record_now(ev).await
    }

    /// Changes the password: the current one is required (an account without one, such
    /// as a passwordless one, sets its first), the new one must pass the policy. Every
    /// session ends and every refresh chain is revoked, so a thief holding the old
    /// password, a token or a copy of the session cookie is out; the browser that made
    /// the change (`current_session`) gets the new session returned.
    pub async fn change_password(
        &self,
        tenant: &TenantId,
        user: &UserId,
        current: &str,
        new: &str,
        current_session: Option<&Session>,
        meta: &RequestMeta,
    ) -> EngineResult<Option<NewSession>> {
        let mut u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let had_password = u.password_hash.is_some();
        if !self.recheck_password(tenant, &u, current, meta).await? {
            let mut ev = self.event(tenant, "password.changed", false);
            ev.actor = Some(user.to_string());
            ev.subject = ev.actor.clone();
            ev.ip = meta.ip.clone();
            self.record(ev);
            return Err(wrong_password());
        }
        check_policy(new)?;
        u.password_hash = Some(self.rt().passwords.hash(new).await?);
        if !self.save_user(&u).await? {
            return Err(EngineError::NotFound("user"));
        }
        // Every session ends, this browser's too (a stolen copy of its cookie would
        // otherwise survive the change), and so do the codes they issued; this browser
        // gets a new session.
        let live = self.signin().user_sessions(tenant, user).await?;
        let all: Vec<String> = live.iter().map(|s| s.sid.clone()).collect();
        let told: Vec<_> = live
            .iter()
            .flat_map(|s| s.clients.iter().cloned())
            .collect();
        let sessions = self
            .signin()
            .end_user_sessions(tenant, user, &all, meta)
            .await?;
        self.queue_chain_logouts(tenant, user, &told, "password_changed")
            .await?;
        let chains = self.revoke_chains_of(tenant, user).await?;
        let renewed = match current_session {
            Some(s) => Some(
                self.signin()
                    .start_session(tenant, &u, s.auth.amr.clone())
                    .await?,
            ),
            None => None,
        };
        let mut ev = self.event(tenant, "password.changed", true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!(
            "{} sessions={sessions} chains={chains}",
            if had_password { "changed" } else { "set" }
        ));
        self.record_now(ev).await?;
        Ok(renewed)
    }

    /// Revokes every live refresh chain of the user through its shard (so cached copies
    /// learn it), leaving sessions alone.
    async fn revoke_chains_of(&self, tenant: &TenantId, user: &UserId) -> EngineResult<usize> {
        let mut n = 0;
        for c in self.rt().store.list_chains(tenant, user).await? {
            if c.revoked.is_none() {
                let shard = self.rt().shards.shard_for(tenant, &c.id);
                let revoke = crate::runtime::shard::RevokeChain {
                    tenant: tenant.clone(),
                    chain: c.id.clone(),
                    reason: crate::model::RevokeReason::Logout,
                };
                self.rt().shards.ask(shard, revoke).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The user deletes their own account: the password again (or, for an account
    /// without one, the word DELETE), then [`Account::delete_user`](super::Account::delete_user).
    pub async fn delete_own_account(
        &self,
        tenant: &TenantId,
        user: &UserId,
        confirmation: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let ok = match &u.password_hash {
            Some(_) => {
                self.recheck_password(tenant, &u, confirmation, meta)
                    .await?
            }
            None => confirmation.trim() == DELETE_WORD,
        };
        if !ok {
            return Err(EngineError::Invalid(match u.password_hash {
                Some(_) => "Your password is not correct. Your account was not deleted.".into(),
                None => format!("Type {DELETE_WORD} to confirm. Your account was not deleted."),
            }));
        }
        self.delete_user(tenant, user, user.as_str(), meta).await
    }
}
