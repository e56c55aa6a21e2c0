//! Grievances (DPDP Act s. 13, DPDP Rules 2025 Rule 14): a signed-in user files one from
//! the account page; the tenant's admins list them (by status, overdue ones) and answer
//! or close them; the user sees each answer on the account page and gets a mail.
//!
//! A ticket's id is 128 random bits (unguessable). Its due time is fixed when it is filed:
//! the tenant's published response time (`Tenant.privacy_contact`), else the Rules' outer
//! limit of 90 days. The user's text and every answer are personal data: sealed under the
//! user's data key (bound to the tenant, user and ticket), listed opened in the data
//! export, erased with the account. Each step is an audit event (`grievance.filed`,
//! `grievance.answered`, `grievance.closed`) naming the ticket and category, never a text.
//!
//! A user only ever reaches their own tickets: another user's id answers exactly as an id
//! that does not exist (`NotFound("grievance")`).

use serde::{Deserialize, Serialize};

use super::Account;
use crate::clock::UnixTime;
use crate::crypto::{b64, b64_decode, random_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::grievance::{
    Grievance, GrievanceCategory, GrievanceEntry, GrievanceStatus, GrievanceThread,
    MAX_RESPONSE_DAYS,
};

/// Longest text of a grievance or an answer (characters).
pub const MAX_TEXT: usize = 4000;
/// Most tickets an admin's list reads.
pub const MAX_LIST: usize = 1000;
/// Most tickets a user may have open at once (a bound on what one account can pile up).
pub const MAX_OPEN_PER_USER: usize = 20;
const DAY: u64 = 86_400;
/// How often an admin's change is tried again when another landed between its read and
/// its write.
const CHANGE_ATTEMPTS: usize = 5;

/// A ticket as the user and the admin see it: opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrievanceView {
    /// The ticket id.
    pub id: String,
    /// Who filed it.
    pub user_id: String,
    /// What it is about.
    pub category: GrievanceCategory,
    /// Where it stands.
    pub status: GrievanceStatus,
    /// Filed (seconds since the epoch).
    pub created_at: UnixTime,
    /// To be answered by.
    pub due_at: UnixTime,
    /// Last changed.
    pub updated_at: UnixTime,
    /// Open past its due time.
    pub overdue: bool,
    /// The messages, oldest first: the grievance, then answers.
    pub entries: Vec<GrievanceEntry>,
}

/// Which tickets an admin lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrievanceFilter {
    /// Only this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<GrievanceStatus>,
    /// Only open tickets past their due time.
    #[serde(default)]
    pub overdue: bool,
}

fn aad(tenant: &TenantId, user: &UserId, id: &str) -> Vec<u8> {
    format!("grievance/{tenant}/{user}/{id}").into_bytes()
}

fn unreadable() -> EngineError {
    EngineError::Internal("unreadable grievance".into())
}

/// A text as kept: trimmed, CRLF as LF, bounded, not empty.
fn check_text(text: &str) -> EngineResult<String> {
    let t = text.trim().replace("\r\n", "\n");
    if t.is_empty() {
        return Err(EngineError::Invalid("text: required".into()));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(EngineError::Invalid(format!(
            "text: longer than {MAX_TEXT} characters"
        )));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(EngineError::Invalid(
            "text: contains control characters".into(),
        ));
    }
    Ok(t)
}

impl Account<'_> {
    async fn seal_thread(&self, g: &mut Grievance, thread: &GrievanceThread) -> EngineResult<()> {
        let key = self
            .data_key(&g.tenant, &g.user_id)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let plain = crate::json::to_vec(thread);
        g.sealed = b64(&key.seal(&aad(&g.tenant, &g.user_id, &g.id), &plain));
        Ok(())
    }

    /// The ticket opened; `None` if its user's key is gone (erased).
    async fn open(&self, g: Grievance, now: UnixTime) -> EngineResult<Option<GrievanceView>> {
        let Some(key) = self.data_key(&g.tenant, &g.user_id).await? else {
            return Ok(None);
        };
        let raw = b64_decode(&g.sealed).ok_or_else(unreadable)?;
        let plain = key.open(&aad(&g.tenant, &g.user_id, &g.id), &raw)?;
        let thread: GrievanceThread = serde_json::from_slice(&plain).map_err(|_| unreadable())?;
        Ok(Some(GrievanceView {
            overdue: g.status == GrievanceStatus::Open && now > g.due_at,
            id: g.id,
            user_id: g.user_id.as_str().to_owned(),
            category: g.category,
            status: g.status,
            created_at: g.created_at,
            due_at: g.due_at,
            updated_at: g.updated_at,
            entries: thread.entries,
        }))
    }

    async fn audit(
        &self,
        g: &Grievance,
        kind: &str,
        actor: &str,
        meta: Option<&RequestMeta>,
    ) -> EngineResult<()> {
        let mut ev = self.event(&g.tenant, kind, true);
        ev.actor = Some(actor.to_owned());
        ev.subject = Some(g.user_id.as_str().to_owned());
        ev.ip = meta.and_then(|m| m.ip.clone());
        ev.detail = Some(format!("{} {}", g.id, g.category.as_str()));
        self.record_now(ev).await
    }

    /// Files a grievance for `user`: `category` is one of access, correction, erasure,
    /// consent, other; `text` is required and at most [`MAX_TEXT`] characters.
    pub async fn file_grievance(
        &self,
        tenant: &TenantId,
        user: &UserId,
        category: &str,
        text: &str,
        meta: &RequestMeta,
    ) -> EngineResult<GrievanceView> {
        let category = GrievanceCategory::parse(category).ok_or_else(|| {
            EngineError::Invalid(
                "category: must be one of access, correction, erasure, consent, other".into(),
            )
        })?;
        let text = check_text(text)?;
        let store = &self.rt().store;
        let open = store
            .list_user_grievances(tenant, user)
            .await?
            .iter()
            .filter(|g| g.status != GrievanceStatus::Closed)
            .count();
        if open >= MAX_OPEN_PER_USER {
            return Err(EngineError::Invalid(format!(
                "you have {open} grievances waiting: wait for an answer before filing another"
            )));
        }
        let t = self.tenant(tenant).await?;
        let days = t.privacy_contact.as_ref().map_or(MAX_RESPONSE_DAYS, |c| {
            c.response_days.min(MAX_RESPONSE_DAYS)
        });
        let now = self.now();
        let mut g = Grievance {
            tenant: tenant.clone(),
            id: random_token::<16>(),
            user_id: user.clone(),
            category,
            status: GrievanceStatus::Open,
            created_at: now,
            due_at: now + u64::from(days) * DAY,
            updated_at: now,
            sealed: String::new(),
        };
        let thread = GrievanceThread {
            entries: vec![GrievanceEntry {
                at: now,
                by: "user".into(),
                action: "filed".into(),
                text,
            }],
        };
        self.seal_thread(&mut g, &thread).await?;
        store.put_grievance(&g).await?;
        self.audit(&g, "grievance.filed", user.as_str(), Some(meta))
            .await?;
        self.open(g, now)
            .await?
            .ok_or(EngineError::NotFound("user"))
    }

    /// A user's tickets, opened, newest first.
    pub async fn my_grievances(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Vec<GrievanceView>> {
        let now = self.now();
        let mut out = Vec::new();
        for g in self.rt().store.list_user_grievances(tenant, user).await? {
            if let Some(v) = self.open(g, now).await? {
                out.push(v);
            }
        }
        out.reverse();
        Ok(out)
    }

    /// One of `user`'s tickets; `NotFound("grievance")` for an id that is not theirs,
    /// exactly as for one that does not exist.
    pub async fn my_grievance(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> EngineResult<GrievanceView> {
        let g = self
            .rt()
            .store
            .get_grievance(tenant, id)
            .await?
            .filter(|g| g.user_id == *user)
            .ok_or(EngineError::NotFound("grievance"))?;
        self.open(g, self.now())
            .await?
            .ok_or(EngineError::NotFound("grievance"))
    }

    /// The tenant's tickets matching `filter` (opened), oldest due first.
    pub async fn list_grievances(
        &self,
        tenant: &TenantId,
        filter: &GrievanceFilter,
    ) -> EngineResult<Vec<GrievanceView>> {
        self.tenant(tenant).await?;
        let now = self.now();
        let mut out = Vec::new();
        for g in self.rt().store.list_grievances(tenant, MAX_LIST).await? {
            if filter.status.is_some_and(|s| s != g.status) {
                continue;
            }
            if filter.overdue && !(g.status == GrievanceStatus::Open && now > g.due_at) {
                continue;
            }
            if let Some(v) = self.open(g, now).await? {
                out.push(v);
            }
        }
        out.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        Ok(out)
    }

    /// One of the tenant's tickets (admin).
    pub async fn grievance(&self, tenant: &TenantId, id: &str) -> EngineResult<GrievanceView> {
        let g = self.stored(tenant, id).await?;
        self.open(g, self.now())
            .await?
            .ok_or(EngineError::NotFound("grievance"))
    }

    async fn stored(&self, tenant: &TenantId, id: &str) -> EngineResult<Grievance> {
        self.rt()
            .store
            .get_grievance(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("grievance"))
    }

    /// Adds an admin's step to a ticket: an answer (`text`, then status answered, and a
    /// mail to the user), a close (status closed), or both. A closed ticket takes nothing
    /// more.
    async fn admin_step(
        &self,
        tenant: &TenantId,
        id: &str,
        answer: Option<String>,
        close: bool,
    ) -> EngineResult<GrievanceView> {
        let answered = answer.is_some();
        let now = self.now();
        let mut attempts = 0;
        let g = loop {
            attempts += 1;
            let stored = self.stored(tenant, id).await?;
            if stored.status == GrievanceStatus::Closed {
                return Err(EngineError::Invalid(
                    "the grievance is closed: it cannot be answered or closed again".into(),
                ));
            }
            let mut g = stored.clone();
            let mut view = self
                .open(g.clone(), now)
                .await?
                .ok_or(EngineError::NotFound("grievance"))?;
            if let Some(text) = &answer {
                view.entries.push(GrievanceEntry {
                    at: now,
                    by: "admin".into(),
                    action: "answered".into(),
                    text: text.clone(),
                });
                g.status = GrievanceStatus::Answered;
            }
            if close {
                view.entries.push(GrievanceEntry {
                    at: now,
                    by: "admin".into(),
                    action: "closed".into(),
                    text: String::new(),
                });
                g.status = GrievanceStatus::Closed;
            }
            g.updated_at = now;
            let thread = GrievanceThread {
                entries: view.entries,
            };
            self.seal_thread(&mut g, &thread).await?;
            // From the state read: another admin's change meanwhile is kept, and this one
            // starts again from it (a close in between refuses it above).
            if self.rt().store.update_grievance(&g, &stored).await? {
                break g;
            }
            if attempts >= CHANGE_ATTEMPTS {
                return Err(EngineError::Conflict("grievance"));
            }
        };
        if answered {
            self.audit(&g, "grievance.answered", "admin", None).await?;
            self.mail_answer(&g).await;
        }
        if close {
            self.audit(&g, "grievance.closed", "admin", None).await?;
        }
        self.open(g, now)
            .await?
            .ok_or(EngineError::NotFound("grievance"))
    }

    /// Answers a ticket (and closes it when `close`); the user is mailed.
    pub async fn answer_grievance(
        &self,
        tenant: &TenantId,
        id: &str,
        text: &str,
        close: bool,
    ) -> EngineResult<GrievanceView> {
        let text = check_text(text)?;
        self.admin_step(tenant, id, Some(text), close).await
    }

    /// Closes a ticket without a further answer.
    pub async fn close_grievance(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> EngineResult<GrievanceView> {
        self.admin_step(tenant, id, None, true).await
    }

    /// Tells the user, in their language, that their grievance was answered (not the
    /// answer itself: they read it signed in). A mail that cannot be queued is logged.
    async fn mail_answer(&self, g: &Grievance) {
        let sent = async {
            let Some(user) = self.user(&g.tenant, &g.user_id).await? else {
                return Ok(());
            };
            let t = self.tenant(&g.tenant).await?;
            let url = format!("{}/account/grievances/{}", self.issuer(&g.tenant), g.id);
            let mail = self
                .signin()
                .writer(&t, Some(&user), None)
                .grievance_answered_mail(user.email.clone(), &url);
            let mut ev = self.event(&g.tenant, "grievance.mail", true);
            ev.actor = Some("admin".into());
            ev.subject = Some(g.user_id.as_str().to_owned());
            ev.detail = Some(g.id.clone());
            self.queue_mail(mail, ev)
        }
        .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, "grievance answer mail not queued");
        }
    }

    /// Removes a user's tickets (account erasure: crypto-shredding has made them
    /// unreadable already).
    pub async fn delete_grievances(&self, tenant: &TenantId, user: &UserId) -> EngineResult<()> {
        Ok(self.rt().store.delete_user_grievances(tenant, user).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_bounded_and_required() {
        assert_eq!(check_text("  a\r\nb ").unwrap(), "a\nb");
        for bad in ["", "   ", "a\u{0}b"] {
            assert!(
                matches!(check_text(bad), Err(EngineError::Invalid(_))),
                "{bad:?}"
            );
        }
        assert!(check_text(&"x".repeat(MAX_TEXT)).is_ok());
        assert!(check_text(&"x".repeat(MAX_TEXT + 1)).is_err());
    }
}
