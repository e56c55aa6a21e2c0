//! Children's accounts (DPDP Act s. 9, Rules 10 and 12).
//!
//! When a tenant's policy is not `off`, sign-up asks the date of birth (kept as the
//! `birthdate` profile claim, sealed with the rest of the profile). Under the age of
//! majority, `adults_only` refuses before anything is stored; `parental_consent` creates
//! the account pending (it cannot sign in, so it never gets tokens) and mails the parent
//! the child named a single-use link, stored only as a hash, that expires.
//!
//! The parent proves to be an identifiable adult by signing in with an adult account of
//! the tenant (its date of birth on record says so); the child's record keeps only that
//! account's id. Consent activates the child's account; refusal or expiry erases it
//! through the ordinary crypto-shredding deletion. A child's account (pending or active)
//! is never granted the purposes the tenant lists as tracking (unless exempt under Rule
//! 12), and its tokens and userinfo never carry the claims listed there.
//!
//! Every step is an audit event (`child.*`) naming ids only.

use super::Account;
use crate::crypto::random_token;
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::children::{
    ChildRecord, ChildState, ChildrenPolicy, ChildrenSettings, ParentRef, age_from_birthdate,
};
use crate::model::privacy::Purpose;
use crate::model::{Hash32, Tenant, User};

/// What sign-up says to a child whose account now waits for a parent. Also the error a
/// pending child's sign-in ends with.
pub const CHILD_PENDING: &str =
    "This account waits for a parent's consent. We have emailed your parent a link.";
/// `adults_only`: an under-age sign-up.
pub const UNDER_AGE: &str = "Sorry, you must be an adult to create an account here.";
/// Sign-up without a date of birth where one is asked.
pub const BIRTHDATE_NEEDED: &str = "Enter your date of birth.";
/// A child's sign-up without a parent's address.
pub const PARENT_EMAIL_NEEDED: &str =
    "You are under 18: enter a parent's email address, so that they can consent.";
/// A child naming their own address as the parent's.
pub const PARENT_IS_CHILD: &str = "Your parent's email address cannot be your own.";
/// A parent link that is not (or no longer) valid.
pub const BAD_LINK: &str = "This consent link is not valid, was already used, or has expired.";
/// A parent account that is not an adult by its date of birth.
pub const PARENT_NOT_ADULT: &str =
    "Only an adult account with a date of birth on record can consent for a child.";
/// The child's own account offered as the parent's.
pub const PARENT_IS_SELF: &str = "A child cannot consent for their own account.";
/// A tracking purpose granted on a child's account.
pub const PURPOSE_BARRED: &str = "This purpose is not available to a child's account.";

/// Pending records looked at per tenant per expiry run.
const EXPIRY_BATCH: usize = 500;

/// What a sign-up form answered about age, where the tenant asks.
#[derive(Clone, Copy, Debug, Default)]
pub struct AgeAnswers<'a> {
    /// The date of birth as typed (`YYYY-MM-DD`).
    pub birthdate: Option<&'a str>,
    /// A parent's email address (for a child under `parental_consent`).
    pub parent_email: Option<&'a str>,
}

/// What sign-up learnt from the date of birth.
#[derive(Debug, Default)]
pub struct SignUpAge {
    /// The date of birth (`YYYY-MM-DD`), to keep as the `birthdate` claim.
    pub birthdate: Option<String>,
    /// For a child: the parent's address, to mail once the account exists.
    pub parent_email: Option<String>,
}

/// What the parent's page shows: the child's notice.
#[derive(Debug)]
pub struct ParentRequest {
    /// The child's name, as they gave it (the parent is who it was sent to).
    pub child_name: Option<String>,
    /// The purposes the child's account would be asked for (tracking ones left out).
    pub purposes: Vec<Purpose>,
    /// When the link expires.
    pub expires_at: u64,
}

fn link_parts(link: &str) -> Option<(UserId, Hash32)> {
    let (user, secret) = link.trim().split_once('.')?;
    if user.is_empty() || user.len() > 64 || secret.len() != 43 {
        return None;
    }
    let ok = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (ok(user) && ok(secret)).then(|| {
        (
            UserId::from_stored(user.to_owned()),
            Hash32::of(secret.as_bytes()),
        )
    })
}

fn bad_link() -> EngineError {
    EngineError::Invalid(BAD_LINK.into())
}

impl Account<'_> {
    /// A tenant's children setting.
    pub async fn children_settings(&self, tenant: &TenantId) -> EngineResult<ChildrenSettings> {
        Ok(self.tenant(tenant).await?.children.clone())
    }

    /// Replaces a tenant's children setting, checked first; recorded as
    /// `tenant.children_changed`.
    pub async fn set_children_settings(
        &self,
        tenant: &TenantId,
        settings: ChildrenSettings,
    ) -> EngineResult<ChildrenSettings> {
        settings.check()?;
        let detail = format!(
            "policy={} age_of_majority={} exempt={} tracking={}",
            settings.policy.as_str(),
            settings.age_of_majority,
            settings.exempt_purposes.len(),
            settings.tracking.join(",")
        );
        let t = self
            .admin()
            .change_tenant(tenant, "tenant.children_changed", detail, |t| {
                t.children = settings.clone();
                Ok(())
            })
            .await?;
        Ok(t.children)
    }

    /// Checks the date of birth a sign-up gave, before anything is stored: nothing to
    /// check when the policy is off; a child is refused (`adults_only`) or must name a
    /// parent's address other than their own (`parental_consent`).
    pub(crate) fn sign_up_age(
        &self,
        t: &Tenant,
        email: &Email,
        answers: AgeAnswers<'_>,
    ) -> EngineResult<SignUpAge> {
        let AgeAnswers {
            birthdate,
            parent_email,
        } = answers;
        let c = &t.children;
        if c.policy == ChildrenPolicy::Off {
            return Ok(SignUpAge::default());
        }
        let birthdate = birthdate.map(str::trim).filter(|b| !b.is_empty());
        let birthdate = birthdate.ok_or_else(|| EngineError::Invalid(BIRTHDATE_NEEDED.into()))?;
        let (date, age) = age_from_birthdate(birthdate, self.now())?;
        let mut out = SignUpAge {
            birthdate: Some(date.to_iso()),
            parent_email: None,
        };
        if age >= i64::from(c.age_of_majority) {
            return Ok(out);
        }
        if c.policy == ChildrenPolicy::AdultsOnly {
            return Err(EngineError::Invalid(UNDER_AGE.into()));
        }
        let parent = parent_email.map(str::trim).filter(|p| !p.is_empty());
        let parent = parent.ok_or_else(|| EngineError::Invalid(PARENT_EMAIL_NEEDED.into()))?;
        let parent = Email::parse(parent)?;
        if parent == *email {
            return Err(EngineError::Invalid(PARENT_IS_CHILD.into()));
        }
        out.parent_email = Some(parent.as_str().to_owned());
        Ok(out)
    }

    /// Puts a just-created child's account on hold and mails the parent a link (in the
    /// language the child signed up in). The caller then answers [`CHILD_PENDING`].
    pub(crate) async fn hold_for_parent(
        &self,
        t: &Tenant,
        user: &User,
        parent_email: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let parent = Email::parse(parent_email)?;
        let secret = random_token::<32>();
        let now = self.now();
        let expires_at = now + t.children.link_ttl_secs;
        let record = ChildRecord {
            tenant: t.id.clone(),
            user: user.id.clone(),
            created_at: now,
            state: ChildState::Pending {
                link: Hash32::of(secret.as_bytes()),
                expires_at,
            },
        };
        self.rt().store.put_child(&record).await?;
        let mut ev = self.event(&t.id, "child.signup_pending", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        self.record_now(ev).await?;
        let url = format!(
            "{}/parent-consent?link={}.{secret}",
            self.issuer(&t.id),
            user.id
        );
        let days = t.children.link_ttl_secs.div_ceil(86_400);
        let mail = self
            .signin()
            .writer(t, Some(user), None)
            .parent_consent_mail(parent, user.name.as_deref(), &url, days);
        let mut ev = self.event(&t.id, "child.parent_consent_requested", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.detail = Some(format!("expires_at={expires_at}"));
        self.record_now(ev).await?;
        // The courier records the send as `otp.sent` (or `otp.send_failed`), its own event.
        let mut sent = self.event(&t.id, "child.parent_mail", true);
        sent.actor = Some(user.id.to_string());
        sent.subject = sent.actor.clone();
        self.queue_mail(mail, sent)
    }

    /// Refuses the sign-in of a child's account no parent has consented to (yet). Reads
    /// the store only for a user under the age of majority by their date of birth, where
    /// the tenant's policy is on: an account whose record was never written (a failure
    /// half-way through sign-up) is refused too.
    pub(crate) async fn check_child_may_sign_in(
        &self,
        t: &Tenant,
        user: &User,
    ) -> EngineResult<()> {
        if t.children.policy == ChildrenPolicy::Off {
            return Ok(());
        }
        let minor = user
            .profile
            .get("birthdate")
            .and_then(|b| age_from_birthdate(b, self.now()).ok())
            .is_some_and(|(_, age)| age < i64::from(t.children.age_of_majority));
        if !minor {
            return Ok(());
        }
        match self.rt().store.get_child(&t.id, &user.id).await? {
            Some(r) if !r.is_pending() => Ok(()),
            _ => Err(EngineError::Invalid(CHILD_PENDING.into())),
        }
    }

    /// The tenant's children setting when `user` is a child's account and the tenant
    /// lists tracking purposes or claims: what must be withheld from it. `None` (no read)
    /// where the tenant lists none.
    pub(crate) async fn child_limits(
        &self,
        t: &Tenant,
        user: &UserId,
    ) -> EngineResult<Option<ChildrenSettings>> {
        if t.children.tracking.is_empty() {
            return Ok(None);
        }
        let child = self.rt().store.get_child(&t.id, user).await?;
        Ok(child.map(|_| t.children.clone()))
    }

    /// Whether `user` may be granted `purpose`: refused for a tracking purpose of a
    /// child's account.
    pub(crate) async fn check_purpose_allowed(
        &self,
        tenant: &TenantId,
        user: &UserId,
        purpose: &str,
    ) -> EngineResult<()> {
        let t = self.tenant(tenant).await?;
        if let Some(c) = self.child_limits(&t, user).await?
            && c.purpose_barred(purpose)
        {
            return Err(EngineError::Invalid(PURPOSE_BARRED.into()));
        }
        Ok(())
    }

    /// The pending record a parent link names, if the link is valid now. An expired one
    /// is erased on the way (as the expiry job would).
    async fn pending_by_link(
        &self,
        tenant: &TenantId,
        link: &str,
    ) -> EngineResult<(ChildRecord, User)> {
        let (user, hash) = link_parts(link).ok_or_else(bad_link)?;
        let record = self
            .rt()
            .store
            .get_child(tenant, &user)
            .await?
            .ok_or_else(bad_link)?;
        let ChildState::Pending { link, expires_at } = &record.state else {
            return Err(bad_link());
        };
        if *link != hash {
            return Err(bad_link());
        }
        if *expires_at <= self.now() {
            self.erase_pending(&record, "child.parent_consent_expired", "system", None)
                .await?;
            return Err(bad_link());
        }
        let child = self.user(tenant, &user).await?.ok_or_else(bad_link)?;
        Ok((record, child))
    }

    /// What the parent's page shows for a valid link.
    pub async fn parent_request(
        &self,
        tenant: &TenantId,
        link: &str,
    ) -> EngineResult<ParentRequest> {
        let (record, child) = self.pending_by_link(tenant, link).await?;
        let t = self.tenant(tenant).await?;
        let settings = self.privacy_settings(tenant).await?;
        let purposes = settings
            .purposes
            .iter()
            .filter(|p| !t.children.purpose_barred(&p.id))
            .cloned()
            .collect();
        Ok(ParentRequest {
            child_name: child.name,
            purposes,
            expires_at: record.expires_at().unwrap_or_default(),
        })
    }

    /// A parent consents by signing in with their own adult account of the tenant (email
    /// and password, throttled as a sign-in is). The child's account becomes active, with
    /// the parent's account id recorded.
    pub async fn parent_consent_by_account(
        &self,
        tenant: &TenantId,
        link: &str,
        email: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let (record, child) = self.pending_by_link(tenant, link).await?;
        let account = email.trim().to_lowercase();
        let attempt = self
            .rt()
            .throttle
            .reserve(tenant, &account, meta.ip.as_deref())
            .map_err(|retry_after_secs| EngineError::RateLimited { retry_after_secs })?;
        let parent = match Email::parse(email) {
            Ok(e) => self.user_by_email(tenant, &e).await?,
            Err(_) => None,
        };
        let hash = parent.as_ref().and_then(|u| u.password_hash.clone());
        let ok = self.rt().passwords.verify(password, hash).await?;
        let parent = match (ok, parent) {
            (true, Some(p)) => {
                attempt.succeeded();
                p
            }
            _ => {
                attempt.failed();
                let mut ev = self.event(tenant, "child.parent_consent_given", false);
                ev.subject = Some(child.id.to_string());
                ev.ip = meta.ip.clone();
                ev.detail = Some("parent sign-in failed".into());
                self.record(ev);
                return Err(EngineError::InvalidCredentials);
            }
        };
        let refuse = |why: &str, text: &str| {
            let mut ev = self.event(tenant, "child.parent_consent_given", false);
            ev.actor = Some(parent.id.to_string());
            ev.subject = Some(child.id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some(why.to_owned());
            self.record(ev);
            Err(EngineError::Invalid(text.to_owned()))
        };
        if parent.id == child.id {
            return refuse("parent is the child", PARENT_IS_SELF);
        }
        let t = self.tenant(tenant).await?;
        let adult = parent
            .profile
            .get("birthdate")
            .and_then(|b| age_from_birthdate(b, self.now()).ok())
            .is_some_and(|(_, age)| age >= i64::from(t.children.age_of_majority));
        if !adult {
            return refuse("parent not an adult on record", PARENT_NOT_ADULT);
        }
        self.activate(
            &record,
            ParentRef::Account {
                user: parent.id.clone(),
            },
            parent.id.as_str(),
            meta,
        )
        .await
    }

    /// Makes a pending child's account active (one winner of two uses of one link).
    async fn activate(
        &self,
        record: &ChildRecord,
        parent: ParentRef,
        actor: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let next = ChildRecord {
            state: ChildState::Active {
                parent,
                consented_at: self.now(),
            },
            ..record.clone()
        };
        if !self.rt().store.update_child(&next, record).await? {
            return Err(bad_link());
        }
        let tenant = &record.tenant;
        let mut ev = self.event(tenant, "child.parent_consent_given", true);
        ev.actor = Some(actor.to_owned());
        ev.subject = Some(record.user.to_string());
        ev.ip = meta.ip.clone();
        self.record_now(ev).await?;
        let mut ev = self.event(tenant, "child.activated", true);
        ev.actor = Some(actor.to_owned());
        ev.subject = Some(record.user.to_string());
        self.record_now(ev).await
    }

    /// The parent refuses (the link is proof enough of being who it was sent to): the
    /// child's account is erased.
    pub async fn parent_refuse(
        &self,
        tenant: &TenantId,
        link: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let (record, _) = self.pending_by_link(tenant, link).await?;
        self.erase_pending(
            &record,
            "child.parent_consent_refused",
            "parent",
            meta.ip.clone(),
        )
        .await
    }

    /// Erases a pending child's account: first the record is moved to an expired,
    /// unusable state (so a consent racing this one loses), then the account is deleted
    /// by crypto-shredding, then the record goes.
    async fn erase_pending(
        &self,
        record: &ChildRecord,
        kind: &str,
        actor: &str,
        ip: Option<String>,
    ) -> EngineResult<()> {
        let dead = ChildRecord {
            state: ChildState::Pending {
                link: Hash32::of(random_token::<32>().as_bytes()),
                expires_at: 0,
            },
            ..record.clone()
        };
        if record.expires_at() != Some(0) && !self.rt().store.update_child(&dead, record).await? {
            return Err(bad_link());
        }
        let (tenant, user) = (&record.tenant, &record.user);
        let meta = RequestMeta { ip: ip.clone() };
        match self.delete_user(tenant, user, actor, &meta).await {
            Ok(()) | Err(EngineError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        self.rt().store.delete_child(tenant, user).await?;
        let mut ev = self.event(tenant, kind, true);
        ev.actor = Some(actor.to_owned());
        ev.subject = Some(user.to_string());
        ev.ip = ip;
        self.record_now(ev).await
    }

    /// Erases the pending children whose link expired, in every tenant this node serves;
    /// returns how many.
    pub async fn expire_children(&self) -> EngineResult<usize> {
        let now = self.now();
        let mut n = 0;
        for t in self.rt().store.list_tenants().await? {
            if !self.rt().config.regions.contains(&t.region) {
                continue;
            }
            let pending = self
                .rt()
                .store
                .list_pending_children(&t.id, EXPIRY_BATCH)
                .await?;
            for r in pending {
                if r.expires_at().is_some_and(|at| at > now) {
                    break;
                }
                match self
                    .erase_pending(&r, "child.parent_consent_expired", "system", None)
                    .await
                {
                    Ok(()) => n += 1,
                    // Consented (or erased) meanwhile.
                    Err(EngineError::Invalid(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if n > 0 {
            tracing::info!(
                children = n,
                "erased children's accounts no parent consented to"
            );
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_parse_strictly() {
        let secret = "a".repeat(43);
        assert!(link_parts(&format!("user1.{secret}")).is_some());
        assert!(link_parts(&format!("user1.{secret}x")).is_none());
        assert!(link_parts(&format!("us/er.{secret}")).is_none());
        assert!(link_parts(&format!(".{secret}")).is_none());
        assert!(link_parts("nodot").is_none());
    }
}
