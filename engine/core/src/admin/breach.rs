//! Personal data breaches (DPDP Act s. 8(6); DPDP Rules 2025, Rule 7): an administrator
//! declares an incident, every affected user is told through their registered channel,
//! and the intimation and the detailed report to the Data Protection Board come out as
//! documents.
//!
//! **Declaring** checks the window (it ends after it starts, and not in the future) and
//! the texts, and resolves the affected-user query once (a list of ids or emails, users
//! named by audit events of given kinds in the window, users who signed in in it, or
//! all users) into a durable list: the store writes one pending notice per user, then
//! the incident. The query's inputs are not kept (an email list is personal data).
//!
//! **The notification job** ([`Admin::notify_breach`]) walks the incident's notices and,
//! for each one not sent, at the tenant's rate (`Tenant.breach.notify_per_sec`, 50 a
//! second by default, at most 16 in flight at once):
//! 1. claims it: `pending` (or `sending`, or `failed` with tries left) becomes `sending`
//!    by compare-and-set, durably, *before* anything is sent: of two jobs, one sends
//!    (claims are written 64 at a time, in one write);
//! 2. hands it to the channel and waits for the answer: a verified email address gets a
//!    mail (the SMTP server accepted it when this returns), else a phone factor a text;
//! 3. records `sent` (with the channel) or `failed` (with a reason, no personal data).
//!
//! The window between 2 and 3 is where a crash could notify someone twice, and it cannot
//! be closed from this side of SMTP: a mail the server accepted just before the process
//! died is recorded `sending`, not `sent`. So the claim is recorded first and the mail
//! is made idempotent: its Message-ID is derived from the incident and the user
//! (`breach.{incident}.{hash}`), and a job that finds a notice still `sending` after a
//! restart sends *the same message* again, which receiving systems and mail clients
//! recognise as a duplicate of the one already delivered. Recording after the server
//! accepted, without the claim, would make the same second delivery but with a new
//! message and no record that it might be one. A text message has no such identity: a
//! crash in that window can send one user a second text (the progress counts `sending`
//! say how many were in the window).
//!
//! The job runs in the server process. An incident whose job was running when its node
//! stopped is resumed when a node starts ([`Engine::resume_breach_jobs`]); on one node a
//! second `notify` while the job runs joins it. Each step is an audit event:
//! `breach.declared`, `breach.notify_started`, `breach.notify_resumed`,
//! `breach.notice_sent` / `breach.notice_failed` (per user, the user as subject),
//! `breach.notify_finished`, `breach.report_generated`: ids and counts only.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::{Deserialize, Serialize};
use tollgate_i18n::Arg;

use super::Admin;
use crate::account::dormancy::date;
use crate::clock::UnixTime;
use crate::engine::Engine;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::breach::{
    AffectedQuery, BreachNotice, BreachProgress, BreachSettings, Incident, JobStatus, NoticeState,
    is_known_event_kind,
};
use crate::model::{FactorKind, Hash32, Tenant, User};
use crate::runtime::delivery::{Channel, Mail, TextMessage};
use crate::store::EventQuery;

/// Longest text of an incident (characters).
pub const MAX_TEXT: usize = 4_000;

/// Most users (or emails) an incident's list may name.
pub const MAX_LISTED: usize = 1_000_000;

/// Notices read from the store at once.
const PAGE: usize = 500;

/// Notices being sent at once by one job: enough to keep a remote SMTP server busy
/// without holding many claims open at a crash.
const IN_FLIGHT: usize = 16;

/// How far behind its rate a job may be before it stops catching up.
const CATCH_UP: Duration = Duration::from_millis(100);

/// Notices claimed by one job in one write.
const CLAIM: usize = 64;

/// Sends tried per user before a notice stays `failed`.
pub const MAX_ATTEMPTS: u32 = 3;

/// The wait before a pass that tries failed sends again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Why a notice failed when a channel was tried and refused it (worth trying again).
const SEND_FAILED: &str = "every channel failed";

/// An incident as declared (`POST /admin/v1/tenants/{tenant}/breaches`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclareBreach {
    /// The breach's start (Unix seconds).
    pub window_start: UnixTime,
    /// Its end (Unix seconds), not after now.
    pub window_end: UnixTime,
    /// What happened.
    pub nature: String,
    /// Which data, how many people.
    pub extent: String,
    /// The likely consequences for the people affected.
    pub consequences: String,
    /// What was done and is being done to reduce the risk.
    pub mitigation: String,
    /// What the people affected can do.
    pub user_actions: String,
    /// Who to contact about it.
    pub contact: String,
    /// Where it happened.
    #[serde(default)]
    pub location: Option<String>,
    /// The events, circumstances and reasons that led to it.
    #[serde(default)]
    pub cause: Option<String>,
    /// Findings about who caused it.
    #[serde(default)]
    pub responsible: Option<String>,
    /// Measures taken to prevent a recurrence.
    #[serde(default)]
    pub remedial: Option<String>,
    /// Which users it affects.
    pub affected: AffectedQuery,
}

/// An incident's job and counts (`GET …/breaches/{id}/progress`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachStatus {
    /// The incident.
    pub incident: String,
    /// Where its job stands.
    pub job: JobStatus,
    /// Whether this node is running it now.
    pub running_here: bool,
    /// The tenant's rate (notifications per second).
    pub notify_per_sec: u32,
    /// The counts.
    #[serde(flatten)]
    pub progress: BreachProgress,
}

/// What `notify` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOutcome {
    /// The job started for the first time.
    Started,
    /// The job started again where it stood.
    Resumed,
    /// The job was running on this node already: this call joined it.
    Joined,
}

/// The answer to `notify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyAnswer {
    /// What happened.
    pub outcome: NotifyOutcome,
    /// Where the job stands.
    pub status: BreachStatus,
}

/// Which report to the Board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// Rule 7(2)(a): the intimation, without delay.
    Intimation,
    /// Rule 7(2)(b): the detailed report, within 72 hours.
    Detailed,
}

impl ReportKind {
    /// Parses `intimation` or `detailed`.
    pub fn parse(s: &str) -> EngineResult<Self> {
        match s {
            "intimation" => Ok(Self::Intimation),
            "detailed" => Ok(Self::Detailed),
            _ => Err(EngineError::invalid("kind must be intimation or detailed")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Intimation => "intimation",
            Self::Detailed => "detailed",
        }
    }
}

/// A report to the Board, as data (JSON) or a document ([`BreachReport::markdown`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachReport {
    /// `intimation` or `detailed`.
    pub kind: ReportKind,
    /// The Data Fiduciary (the tenant's name).
    pub data_fiduciary: String,
    /// The tenant id.
    pub tenant: String,
    /// When this report was generated.
    pub generated_at: UnixTime,
    /// The incident, as declared.
    pub incident: Incident,
    /// When the detailed report is due (72 hours after the declaration).
    pub detailed_report_due: UnixTime,
    /// The intimations to the people affected (Rule 7(2)(b)(v)).
    pub notifications: BreachProgress,
}

/// `YYYY-MM-DD HH:MM UTC`.
pub fn stamp(at: UnixTime) -> String {
    format!(
        "{} {:02}:{:02} UTC",
        date(at),
        (at % 86_400) / 3600,
        (at % 3600) / 60
    )
}

fn or_unstated(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("Not yet established.")
}

impl BreachReport {
    /// The report as a Markdown document, its sections named after Rule 7(2).
    pub fn markdown(&self) -> String {
        let i = &self.incident;
        let n = &self.notifications;
        let title = match self.kind {
            ReportKind::Intimation => "Intimation of a personal data breach (Rule 7(2)(a))",
            ReportKind::Detailed => "Detailed report of a personal data breach (Rule 7(2)(b))",
        };
        let mut out = format!(
            "# {title}\n\n\
             To: the Data Protection Board of India\n\n\
             - Data Fiduciary: {}\n\
             - Incident: {}\n\
             - Declared: {} by {}\n\
             - Detailed report due: {}\n\
             - Generated: {}\n\n\
             ## Nature\n\n{}\n\n\
             ## Extent\n\n{}\n\n{} Data Principals affected ({}).\n\n\
             ## Timing\n\nFrom {} to {}.\n\n\
             ## Location of occurrence\n\n{}\n\n\
             ## Likely impact\n\n{}\n\n",
            self.data_fiduciary,
            i.id,
            stamp(i.declared_at),
            i.declared_by,
            stamp(self.detailed_report_due),
            stamp(self.generated_at),
            i.nature,
            i.extent,
            i.affected,
            i.query,
            stamp(i.window_start),
            stamp(i.window_end),
            or_unstated(&i.location),
            i.consequences,
        );
        if self.kind == ReportKind::Detailed {
            out.push_str(&format!(
                "## Events, circumstances and reasons\n\n{}\n\n\
                 ## Mitigation measures\n\n{}\n\n\
                 ## Findings about the person who caused it\n\n{}\n\n\
                 ## Remedial measures against recurrence\n\n{}\n\n",
                or_unstated(&i.cause),
                i.mitigation,
                or_unstated(&i.responsible),
                or_unstated(&i.remedial),
            ));
        }
        out.push_str(&format!(
            "## Intimations to the Data Principals affected\n\n\
             - Affected: {}\n- Notified: {}\n- Being notified: {}\n- Not yet notified: {}\n\
             - Could not be notified: {}\n\n\
             What they were told they can do:\n\n{}\n\n\
             ## Contact\n\n{}\n",
            n.total, n.sent, n.sending, n.pending, n.failed, i.user_actions, i.contact,
        ));
        out
    }
}

fn check_text(field: &str, v: &str) -> EngineResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(EngineError::Invalid(format!("{field}: required")));
    }
    if v.chars().count() > MAX_TEXT {
        return Err(EngineError::Invalid(format!(
            "{field}: longer than {MAX_TEXT} characters"
        )));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(EngineError::Invalid(format!(
            "{field}: contains control characters"
        )));
    }
    Ok(v.to_owned())
}

fn check_optional(field: &str, v: Option<String>) -> EngineResult<Option<String>> {
    v.filter(|s| !s.trim().is_empty())
        .map(|s| check_text(field, &s))
        .transpose()
}

/// Whether a job run sends this notice.
fn wants_send(n: &BreachNotice) -> bool {
    match n.state {
        NoticeState::Pending | NoticeState::Sending { .. } => true,
        NoticeState::Failed { .. } => n.attempts < MAX_ATTEMPTS,
        NoticeState::Sent { .. } => false,
    }
}

/// Removes a job from this node's list of running ones when it ends, however it ends.
struct JobGuard {
    engine: Engine,
    key: (TenantId, String),
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.engine.rt().breach_jobs.remove(&self.key);
    }
}

impl Admin<'_> {
    /// A tenant's breach-notification settings.
    pub async fn breach_settings(&self, tenant: &TenantId) -> EngineResult<BreachSettings> {
        Ok(self.tenant(tenant).await?.breach)
    }

    /// Replaces a tenant's breach-notification settings.
    pub async fn set_breach_settings(
        &self,
        tenant: &TenantId,
        settings: BreachSettings,
    ) -> EngineResult<BreachSettings> {
        settings.check()?;
        let detail = format!("notify_per_sec={}", settings.notify_per_sec);
        let t = self
            .change_tenant(tenant, "admin.breach_settings", detail, |t| {
                t.breach = settings;
                Ok(())
            })
            .await?;
        Ok(t.breach)
    }

    /// Declares a breach: checks it, resolves its affected users into a durable list, and
    /// stores it.
    pub async fn declare_breach(
        &self,
        tenant: &TenantId,
        input: DeclareBreach,
        actor: &str,
    ) -> EngineResult<Incident> {
        self.tenant(tenant).await?;
        let now = self.now();
        if input.window_end < input.window_start {
            return Err(EngineError::invalid("window_end is before window_start"));
        }
        if input.window_end > now {
            return Err(EngineError::invalid("window_end is in the future"));
        }
        let mut incident = Incident {
            id: format!("br_{}", crate::crypto::random_token::<12>()),
            tenant: tenant.clone(),
            declared_at: now,
            declared_by: actor.to_owned(),
            window_start: input.window_start,
            window_end: input.window_end,
            nature: check_text("nature", &input.nature)?,
            extent: check_text("extent", &input.extent)?,
            consequences: check_text("consequences", &input.consequences)?,
            mitigation: check_text("mitigation", &input.mitigation)?,
            user_actions: check_text("user_actions", &input.user_actions)?,
            contact: check_text("contact", &input.contact)?,
            location: check_optional("location", input.location)?,
            cause: check_optional("cause", input.cause)?,
            responsible: check_optional("responsible", input.responsible)?,
            remedial: check_optional("remedial", input.remedial)?,
            query: input.affected.summary(),
            affected: 0,
            job: JobStatus::NotStarted,
            notify_started_at: None,
            notify_finished_at: None,
        };
        let (users, summary) = self
            .resolve_affected(
                tenant,
                &input.affected,
                input.window_start,
                input.window_end,
            )
            .await?;
        incident.query = summary;
        incident.affected = users.len() as u64;
        let users: Vec<UserId> = users.into_iter().collect();
        self.rt().store.create_incident(&incident, &users).await?;
        let mut ev = self.event(tenant, "breach.declared", true);
        ev.actor = Some(actor.to_owned());
        ev.detail = Some(format!(
            "incident {}: {} users affected; window {} to {}",
            incident.id,
            incident.affected,
            stamp(incident.window_start),
            stamp(incident.window_end)
        ));
        self.record_now(ev).await?;
        Ok(incident)
    }

    /// The users a query names (live accounts only), and what the incident keeps of it.
    async fn resolve_affected(
        &self,
        tenant: &TenantId,
        q: &AffectedQuery,
        start: UnixTime,
        end: UnixTime,
    ) -> EngineResult<(BTreeSet<UserId>, String)> {
        let store = &self.rt().store;
        let mut users = BTreeSet::new();
        match q {
            AffectedQuery::Users { ids } => {
                if ids.is_empty() {
                    return Err(EngineError::invalid("affected: the list of users is empty"));
                }
                if ids.len() > MAX_LISTED {
                    return Err(EngineError::Invalid(format!(
                        "affected: at most {MAX_LISTED} users"
                    )));
                }
                for (i, id) in ids.iter().enumerate() {
                    let id = UserId::from_stored(id.clone());
                    let live = store
                        .get_user(tenant, &id)
                        .await?
                        .is_some_and(|u| u.deleted_at.is_none());
                    if !live {
                        return Err(EngineError::Invalid(format!(
                            "affected: user {i} is not a user of this tenant"
                        )));
                    }
                    users.insert(id);
                }
                Ok((users, q.summary()))
            }
            AffectedQuery::Emails { emails } => {
                if emails.is_empty() {
                    return Err(EngineError::invalid(
                        "affected: the list of emails is empty",
                    ));
                }
                if emails.len() > MAX_LISTED {
                    return Err(EngineError::Invalid(format!(
                        "affected: at most {MAX_LISTED} emails"
                    )));
                }
                let mut unmatched = 0usize;
                for (i, raw) in emails.iter().enumerate() {
                    let email = Email::parse(raw).map_err(|_| {
                        EngineError::Invalid(format!("affected: email {i} is not an email address"))
                    })?;
                    let key = self.email_key(tenant, &email);
                    match store.find_user_by_email(tenant, &key).await? {
                        Some(u) if u.deleted_at.is_none() => {
                            users.insert(u.id);
                        }
                        _ => unmatched += 1,
                    }
                }
                let summary = format!(
                    "emails ({} given, {} not an account)",
                    emails.len(),
                    unmatched
                );
                Ok((users, summary))
            }
            AffectedQuery::Events { kinds } => {
                if kinds.is_empty() {
                    return Err(EngineError::invalid(
                        "affected: events needs at least one kind",
                    ));
                }
                if let Some(k) = kinds.iter().find(|k| !is_known_event_kind(k)) {
                    return Err(EngineError::Invalid(format!(
                        "affected: unknown event kind {k:?}"
                    )));
                }
                self.users_in_events(tenant, kinds, start, end, &mut users)
                    .await?;
                Ok((users, q.summary()))
            }
            AffectedQuery::SignedIn => {
                self.users_in_events(tenant, &["login.".to_owned()], start, end, &mut users)
                    .await?;
                Ok((users, q.summary()))
            }
            AffectedQuery::All => {
                let mut after: Option<UserId> = None;
                loop {
                    let page = store.list_users(tenant, after.as_ref(), PAGE).await?;
                    let Some(last) = page.last() else { break };
                    after = Some(last.id.clone());
                    users.extend(
                        page.into_iter()
                            .filter(|u| u.deleted_at.is_none())
                            .map(|u| u.id),
                    );
                }
                Ok((users, q.summary()))
            }
        }
    }

    /// Adds the live users named (actor or subject) by the tenant's events of `kinds`
    /// between `start` and `end` (inclusive, seconds).
    async fn users_in_events(
        &self,
        tenant: &TenantId,
        kinds: &[String],
        start: UnixTime,
        end: UnixTime,
        users: &mut BTreeSet<UserId>,
    ) -> EngineResult<()> {
        let store = &self.rt().store;
        let mut named = BTreeSet::new();
        for kind in kinds {
            let mut q = EventQuery {
                kind: Some(kind.clone()),
                since_ms: Some(start.saturating_mul(1000)),
                until_ms: Some(end.saturating_add(1).saturating_mul(1000)),
                limit: 1_000,
                ..Default::default()
            };
            loop {
                let page = store.query_events(tenant, &q).await?;
                let Some(last) = page.last() else { break };
                q.before = Some((last.at_ms, last.id.clone()));
                for e in &page {
                    named.extend(e.actor.iter().chain(e.subject.iter()).cloned());
                }
                if page.len() < q.limit {
                    break;
                }
            }
        }
        for s in named {
            let id = UserId::from_stored(s);
            if store
                .get_user(tenant, &id)
                .await?
                .is_some_and(|u| u.deleted_at.is_none())
            {
                users.insert(id);
            }
        }
        Ok(())
    }

    /// The tenant's incidents, oldest first.
    pub async fn breaches(&self, tenant: &TenantId) -> EngineResult<Vec<Incident>> {
        self.tenant(tenant).await?;
        Ok(self.rt().store.list_incidents(tenant).await?)
    }

    /// One incident of the tenant; `NotFound("incident")` for another tenant's.
    pub async fn breach(&self, tenant: &TenantId, id: &str) -> EngineResult<Incident> {
        self.tenant(tenant).await?;
        self.rt()
            .store
            .get_incident(tenant, id)
            .await?
            .ok_or(EngineError::NotFound("incident"))
    }

    /// Counts an incident's notices by state.
    async fn count_notices(&self, tenant: &TenantId, id: &str) -> EngineResult<BreachProgress> {
        let mut p = BreachProgress::default();
        let mut after: Option<UserId> = None;
        loop {
            let page = self
                .rt()
                .store
                .list_breach_notices(tenant, id, after.as_ref(), 5 * PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.user_id.clone());
            for n in &page {
                p.count(&n.state);
            }
        }
        Ok(p)
    }

    /// Where an incident's job stands, with its counts.
    pub async fn breach_progress(&self, tenant: &TenantId, id: &str) -> EngineResult<BreachStatus> {
        let incident = self.breach(tenant, id).await?;
        let t = self.tenant(tenant).await?;
        Ok(BreachStatus {
            running_here: self
                .rt()
                .breach_jobs
                .contains_key(&(tenant.clone(), id.to_owned())),
            incident: incident.id,
            job: incident.job,
            notify_per_sec: t.breach.notify_per_sec,
            progress: self.count_notices(tenant, id).await?,
        })
    }

    /// The intimation or the detailed report to the Board, as data; `breach.report_generated`.
    pub async fn breach_report(
        &self,
        tenant: &TenantId,
        id: &str,
        kind: ReportKind,
        format: &str,
    ) -> EngineResult<BreachReport> {
        let incident = self.breach(tenant, id).await?;
        let t = self.tenant(tenant).await?;
        let report = BreachReport {
            kind,
            data_fiduciary: t.display_name.clone(),
            tenant: tenant.to_string(),
            generated_at: self.now(),
            detailed_report_due: incident.report_due(),
            notifications: self.count_notices(tenant, id).await?,
            incident,
        };
        let mut ev = self.event(tenant, "breach.report_generated", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("incident {id}: {} ({format})", kind.as_str()));
        self.record_now(ev).await?;
        Ok(report)
    }

    /// Starts (or resumes) an incident's notification job in this process, or joins the
    /// one running here; answers at once, with the counts as they stand.
    pub async fn notify_breach(
        &self,
        tenant: &TenantId,
        id: &str,
        actor: &str,
    ) -> EngineResult<NotifyAnswer> {
        let incident = self.breach(tenant, id).await?;
        let key = (tenant.clone(), id.to_owned());
        // One job per incident on this node: the second caller joins the first. (The
        // entry is dropped before anything is awaited: it locks its part of the map.)
        let joined = match self.rt().breach_jobs.entry(key.clone()) {
            dashmap::Entry::Occupied(_) => true,
            dashmap::Entry::Vacant(v) => {
                v.insert(());
                false
            }
        };
        if joined {
            return Ok(NotifyAnswer {
                outcome: NotifyOutcome::Joined,
                status: self.breach_progress(tenant, id).await?,
            });
        }
        let guard = JobGuard {
            engine: Engine::clone(self),
            key,
        };
        let outcome = if incident.notify_started_at.is_some() {
            NotifyOutcome::Resumed
        } else {
            NotifyOutcome::Started
        };
        self.mark_job(tenant, id, JobStatus::Running).await?;
        let mut ev = self.event(
            tenant,
            match outcome {
                NotifyOutcome::Started => "breach.notify_started",
                _ => "breach.notify_resumed",
            },
            true,
        );
        ev.actor = Some(actor.to_owned());
        ev.detail = Some(format!("incident {id}"));
        self.record_now(ev).await?;
        let status = self.breach_progress(tenant, id).await?;
        let (engine, tenant, id) = (Engine::clone(self), tenant.clone(), id.to_owned());
        tokio::spawn(async move {
            let _guard = guard;
            if let Err(e) = engine.admin().run_breach_job(&tenant, &id).await {
                // The incident stays `running`: a restart, or another notify, resumes it.
                tracing::warn!(error = %e, incident = %id, "breach notification job stopped");
            }
        });
        Ok(NotifyAnswer { outcome, status })
    }

    /// Sets the incident's job state (compare-and-set on the record read, retried).
    async fn mark_job(
        &self,
        tenant: &TenantId,
        id: &str,
        job: JobStatus,
    ) -> EngineResult<Incident> {
        let store = &self.rt().store;
        for _ in 0..5 {
            let current = self.breach(tenant, id).await?;
            let mut next = current.clone();
            next.job = job;
            let now = self.now();
            match job {
                JobStatus::Running => {
                    next.notify_started_at.get_or_insert(now);
                    next.notify_finished_at = None;
                }
                JobStatus::Finished => next.notify_finished_at = Some(now),
                JobStatus::NotStarted => {}
            }
            if next == current || store.update_incident(&next, &current).await? {
                return Ok(next);
            }
        }
        Err(EngineError::Conflict("incident"))
    }

    /// Passes over the incident's notices, sending each that is not sent at the tenant's
    /// rate, until none is left to try (a failed send is tried again on a later pass, at
    /// most [`MAX_ATTEMPTS`] times); then marks the job finished.
    async fn run_breach_job(&self, tenant: &TenantId, id: &str) -> EngineResult<()> {
        for pass in 0..MAX_ATTEMPTS {
            if pass > 0 {
                tokio::time::sleep(RETRY_AFTER).await;
            }
            if self.breach_pass(tenant, id).await? == 0 {
                break;
            }
        }
        self.mark_job(tenant, id, JobStatus::Finished).await?;
        let p = self.count_notices(tenant, id).await?;
        let mut ev = self.event(tenant, "breach.notify_finished", p.failed == 0);
        ev.actor = Some("system".into());
        ev.detail = Some(format!(
            "incident {id}: {} sent, {} failed of {}",
            p.sent, p.failed, p.total
        ));
        self.record_now(ev).await
    }

    /// One pass; how many notices failed and may be tried again.
    async fn breach_pass(&self, tenant: &TenantId, id: &str) -> EngineResult<u64> {
        let incident = self.breach(tenant, id).await?;
        let t = self.tenant(tenant).await?;
        let rate = t.breach.notify_per_sec.max(1);
        let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
        let mut next = tokio::time::Instant::now();
        let mut in_flight = FuturesUnordered::new();
        let mut after: Option<UserId> = None;
        let mut retry = 0;
        loop {
            let page = self
                .rt()
                .store
                .list_breach_notices(tenant, id, after.as_ref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.user_id.clone());
            let wanted: Vec<BreachNotice> = page.into_iter().filter(wants_send).collect();
            for chunk in wanted.chunks(CLAIM) {
                // Claimed together, in one durable write, before any of them is sent.
                let at = self.now();
                let changes: Vec<(BreachNotice, BreachNotice)> = chunk
                    .iter()
                    .map(|n| {
                        let claimed = BreachNotice {
                            state: NoticeState::Sending { at },
                            attempts: n.attempts.saturating_add(1),
                            ..n.clone()
                        };
                        (claimed, n.clone())
                    })
                    .collect();
                let won = self.rt().store.update_breach_notices(&changes).await?;
                // A notice another job claimed (or moved on) meanwhile is its to send.
                let claimed = changes
                    .into_iter()
                    .zip(won)
                    .filter_map(|((claimed, _), won)| won.then_some(claimed));
                for c in claimed {
                    while in_flight.len() >= IN_FLIGHT {
                        if let Some(r) = in_flight.next().await {
                            retry += u64::from(r?);
                        }
                    }
                    // The rate: one start per interval. A start behind its time goes at
                    // once (timers tick by the millisecond, so at a high rate starts go
                    // in small groups), but never more than a tenth of a second's worth
                    // to catch up after a stall.
                    let now = tokio::time::Instant::now();
                    if next + CATCH_UP < now {
                        next = now;
                    }
                    if next > now {
                        tokio::time::sleep_until(next).await;
                    }
                    next += interval;
                    in_flight.push(self.notify_one(&t, &incident, c));
                }
            }
        }
        while let Some(r) = in_flight.next().await {
            retry += u64::from(r?);
        }
        Ok(retry)
    }

    /// Sends one claimed notice and records the outcome: whether it failed and may be
    /// tried again.
    async fn notify_one(
        &self,
        t: &Tenant,
        incident: &Incident,
        claimed: BreachNotice,
    ) -> EngineResult<bool> {
        let store = &self.rt().store;
        let n = &claimed;
        let outcome = self.deliver_breach(t, incident, &n.user_id).await?;
        let now = self.now();
        let mut attempts = claimed.attempts;
        let (state, kind, detail) = match outcome {
            Ok(channel) => (
                NoticeState::Sent {
                    at: now,
                    channel: channel.to_owned(),
                },
                "breach.notice_sent",
                format!("incident {} by {channel}", incident.id),
            ),
            Err(reason) => {
                if reason != SEND_FAILED {
                    // Nothing a later pass could change: no channel, or no account.
                    attempts = MAX_ATTEMPTS;
                }
                (
                    NoticeState::Failed {
                        at: now,
                        reason: reason.to_owned(),
                    },
                    "breach.notice_failed",
                    format!("incident {}: {reason}", incident.id),
                )
            }
        };
        let done = BreachNotice {
            state,
            attempts,
            ..claimed.clone()
        };
        store.update_breach_notice(&done, &claimed).await?;
        let retry = wants_send(&done);
        let mut ev = self.event(&t.id, kind, kind == "breach.notice_sent");
        ev.actor = Some("system".into());
        ev.subject = Some(n.user_id.to_string());
        ev.detail = Some(detail);
        self.record(ev);
        Ok(retry)
    }

    /// Sends the notice by mail to a verified address, else by text to a phone factor:
    /// the channel that took it, or why none did.
    async fn deliver_breach(
        &self,
        t: &Tenant,
        incident: &Incident,
        user: &UserId,
    ) -> EngineResult<Result<&'static str, &'static str>> {
        let Some(user) = self.user(&t.id, user).await? else {
            return Ok(Err("account erased"));
        };
        if user.deleted_at.is_some() {
            return Ok(Err("account deleted"));
        }
        let catalog = self.rt().catalogs.of(t);
        let saved = user.profile.get("locale").map(String::as_str);
        let lang = crate::runtime::catalogs::recipient_language(&catalog, saved, None);
        let m = catalog.messages(lang);
        let brand = t
            .branding
            .theme
            .name
            .clone()
            .unwrap_or_else(|| t.display_name.clone());
        let args = [
            ("tenant", Arg::Text(brand.clone())),
            (
                "start",
                Arg::Text(stamp(incident.window_start).replace(" UTC", "")),
            ),
            (
                "end",
                Arg::Text(stamp(incident.window_end).replace(" UTC", "")),
            ),
            ("actions", Arg::Text(incident.user_actions.clone())),
            ("contact", Arg::Text(incident.contact.clone())),
        ];
        let mut attempted = false;
        if user.email_verified {
            attempted = true;
            let mail = breach_mail(&m, &args, incident, &user);
            if self
                .send_mail_now_identified(&mail, &message_id(incident, &user.id))
                .await?
            {
                return Ok(Ok("email"));
            }
        }
        for f in self.rt().store.list_factors(&t.id, &user.id).await? {
            if f.kind != FactorKind::Phone {
                continue;
            }
            let Some(number) = self.signin().factor_phone(&f).await? else {
                continue;
            };
            let Ok(to) = crate::model::phone::PhoneNumber::parse(&number, None) else {
                continue;
            };
            attempted = true;
            let msg = TextMessage {
                to,
                channel: Channel::Sms,
                code: String::new(),
                text: m.get("breach-text", &args),
                tenant: t.id.clone(),
                tenant_name: brand.clone(),
                minutes: 0,
            };
            if self.send_text_now(&msg).await? {
                return Ok(Ok("sms"));
            }
        }
        Ok(Err(if attempted {
            SEND_FAILED
        } else {
            "no verified email or phone"
        }))
    }
}

/// The Message-ID's left part of one user's notice of one incident: the same on every
/// send, so a second delivery after a crash is recognisably the same message.
fn message_id(incident: &Incident, user: &UserId) -> String {
    let h = Hash32::of(format!("{}\0{}\0{}", incident.tenant, incident.id, user).as_bytes());
    format!("breach.{}.{}", incident.id, &h.to_hex()[..24])
}

fn breach_mail(
    m: &tollgate_i18n::Messages,
    args: &[(&str, Arg)],
    i: &Incident,
    user: &User,
) -> Mail {
    let mut text = format!("{}\n", m.get("breach-intro", args));
    let mut section = |id: &str, body: &str| {
        text.push_str(&format!("\n{}\n{}\n", m.get(id, args), body));
    };
    section("breach-what", &i.nature);
    section("breach-extent", &i.extent);
    if let Some(l) = &i.location {
        section("breach-location", l);
    }
    section("breach-consequences", &i.consequences);
    section("breach-mitigation", &i.mitigation);
    section("breach-actions", &i.user_actions);
    section("breach-contact", &i.contact);
    Mail {
        to: user.email.clone(),
        subject: m.get("breach-subject", args),
        text,
    }
}

impl Engine {
    /// Resumes, off the caller's path, every incident whose notification job was running
    /// when its node stopped (of the tenants this node serves). Called once at start.
    pub fn resume_breach_jobs(&self) {
        let engine = self.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.admin().resume_breach_jobs_now().await {
                tracing::warn!(error = %e, "breach notification jobs not resumed");
            }
        });
    }
}

impl Admin<'_> {
    /// Resumes every running incident now; how many.
    pub async fn resume_breach_jobs_now(&self) -> EngineResult<usize> {
        let mut n = 0;
        for t in self.rt().store.list_tenants().await? {
            if !self.rt().config.regions.contains(&t.region) {
                continue;
            }
            for i in self.rt().store.list_incidents(&t.id).await? {
                if i.job == JobStatus::Running {
                    self.notify_breach(&t.id, &i.id, "system").await?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_minutes() {
        assert_eq!(stamp(0), "1970-01-01 00:00 UTC");
        assert_eq!(stamp(1_798_675_200 + 3_723), "2026-12-31 01:02 UTC");
    }

    #[test]
    fn the_notice_has_every_part_of_rule_7_1_in_english_and_hindi() {
        let catalog = tollgate_i18n::Catalog::shipped();
        for (lang, intro) in [("en", "breach of personal data"), ("hi", "व्यक्तिगत डेटा")]
        {
            let m = catalog.messages(lang);
            let args = [
                ("tenant", Arg::Text("Acme".into())),
                ("start", Arg::Text("2026-12-01 10:00".into())),
                ("end", Arg::Text("2026-12-02 11:00".into())),
                ("actions", Arg::Text("Change your password.".into())),
                ("contact", Arg::Text("dpo@acme.example".into())),
            ];
            for id in [
                "breach-subject",
                "breach-intro",
                "breach-what",
                "breach-extent",
                "breach-location",
                "breach-consequences",
                "breach-mitigation",
                "breach-actions",
                "breach-contact",
                "breach-text",
            ] {
                let text = m.get(id, &args);
                assert_ne!(text, id, "{id} missing in {lang}");
            }
            assert!(m.get("breach-intro", &args).contains(intro), "{lang}");
            assert!(m.get("breach-text", &args).contains("dpo@acme.example"));
        }
    }

    #[test]
    fn report_kinds_parse() {
        assert_eq!(
            ReportKind::parse("intimation").unwrap(),
            ReportKind::Intimation
        );
        assert_eq!(ReportKind::parse("detailed").unwrap(), ReportKind::Detailed);
        assert!(ReportKind::parse("final").is_err());
    }

    #[test]
    fn only_unsent_notices_with_tries_left_are_sent() {
        let n = |state, attempts| BreachNotice {
            tenant: TenantId::parse("acme").unwrap(),
            incident: "i".into(),
            user_id: UserId::from_stored("u".into()),
            state,
            attempts,
        };
        assert!(wants_send(&n(NoticeState::Pending, 0)));
        assert!(wants_send(&n(NoticeState::Sending { at: 1 }, 1)));
        assert!(!wants_send(&n(
            NoticeState::Sent {
                at: 1,
                channel: "email".into()
            },
            1
        )));
        let failed = |a| {
            n(
                NoticeState::Failed {
                    at: 1,
                    reason: "x".into(),
                },
                a,
            )
        };
        assert!(wants_send(&failed(MAX_ATTEMPTS - 1)));
        assert!(!wants_send(&failed(MAX_ATTEMPTS)));
    }
}
