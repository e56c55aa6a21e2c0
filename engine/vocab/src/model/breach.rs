//! Personal data breaches (DPDP Act s. 8(6); DPDP Rules 2025, Rule 7): an incident an
//! administrator declares, the users it affects (resolved once, when it is declared, into
//! a durable list), the state of each affected user's notification, and the tenant's
//! setting for how fast they are sent.
//!
//! Nothing here holds a user's personal data in the clear: an incident names users by id
//! only, and its texts are the administrator's description of the breach.

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};

/// Notifications sent per second when the tenant sets no rate.
pub const DEFAULT_NOTIFY_PER_SEC: u32 = 50;

/// The highest rate a tenant may set.
pub const MAX_NOTIFY_PER_SEC: u32 = 10_000;

/// Rule 7(2)(b): the detailed report is due within 72 hours of becoming aware of the
/// breach (here: of its declaration).
pub const REPORT_DUE_SECS: u64 = 72 * 3600;

/// A tenant's breach-notification settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreachSettings {
    /// Notifications handed to the mail or SMS provider per second, at most (1 to
    /// [`MAX_NOTIFY_PER_SEC`]): what the tenant's providers and reputation allow.
    pub notify_per_sec: u32,
}

impl Default for BreachSettings {
    fn default() -> Self {
        Self {
            notify_per_sec: DEFAULT_NOTIFY_PER_SEC,
        }
    }
}

impl BreachSettings {
    /// Refuses a rate of 0 or above [`MAX_NOTIFY_PER_SEC`].
    pub fn check(&self) -> EngineResult<()> {
        if self.notify_per_sec == 0 || self.notify_per_sec > MAX_NOTIFY_PER_SEC {
            return Err(EngineError::Invalid(format!(
                "notify_per_sec must be 1 to {MAX_NOTIFY_PER_SEC}"
            )));
        }
        Ok(())
    }
}

/// The families of audit events that name a user as actor or subject. The `events`
/// query accepts a kind (`login.password`) or a prefix ending with `.` (`login.`) only
/// inside one of these, so a misspelt kind is refused rather than matching nobody.
pub const EVENT_FAMILIES: &[&str] = &[
    "login.",
    "logout",
    "token.",
    "refresh.",
    "mfa.",
    "passkey.",
    "consent.",
    "federation.",
    "verify.",
    "otp.",
    "user.",
    "password.",
    "email.",
    "signup.",
    "session.",
    "device.",
    "dormancy.",
    "grievance.",
];

/// Whether `kind` is an event kind or prefix inside a known family.
pub fn is_known_event_kind(kind: &str) -> bool {
    let well_formed = !kind.is_empty()
        && kind.len() <= 64
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        && !kind.contains("..");
    well_formed
        && EVENT_FAMILIES.iter().any(|f| {
            kind == *f
                || (f.ends_with('.') && kind.starts_with(f))
                || (!f.ends_with('.')
                    && kind
                        .strip_prefix(f)
                        .is_some_and(|r| r.starts_with('.') || r.is_empty()))
        })
}

/// Which users a breach affects, as the administrator states it. Resolved once, when the
/// incident is declared; the incident keeps the resulting list, not the query's inputs
/// (an email list is personal data).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AffectedQuery {
    /// These users, by id.
    Users {
        /// User ids.
        ids: Vec<String>,
    },
    /// The users with these login emails.
    Emails {
        /// Email addresses.
        emails: Vec<String>,
    },
    /// Users named (as actor or subject) by an audit event of one of these kinds inside
    /// the breach's window; a kind ending with `.` is a prefix (`login.`).
    Events {
        /// Event kinds or prefixes.
        kinds: Vec<String>,
    },
    /// Users who signed in during the breach's window (events `login.*`).
    SignedIn,
    /// Every user of the tenant not deleted.
    All,
}

impl AffectedQuery {
    /// What the incident keeps of the query: its kind and size, never its inputs.
    pub fn summary(&self) -> String {
        match self {
            Self::Users { ids } => format!("users ({} given)", ids.len()),
            Self::Emails { emails } => format!("emails ({} given)", emails.len()),
            Self::Events { kinds } => format!("events of kinds {}", kinds.join(", ")),
            Self::SignedIn => "users who signed in during the window".into(),
            Self::All => "all users of the tenant".into(),
        }
    }
}

/// Where an incident's notification job stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Never started.
    #[default]
    NotStarted,
    /// Running, or to be resumed by the next server that starts (it was running when its
    /// node stopped).
    Running,
    /// Every affected user was handed to a channel, or failed on every one.
    Finished,
}

/// A declared breach. The texts are what users are told (Rule 7(1)) and what the Board
/// is told (Rule 7(2)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Random id.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// When it was declared (the Data Fiduciary became aware, at the latest).
    pub declared_at: UnixTime,
    /// Who declared it (`admin`).
    pub declared_by: String,
    /// The breach's start (its earliest known moment).
    pub window_start: UnixTime,
    /// The breach's end (when it was contained).
    pub window_end: UnixTime,
    /// Its nature: what happened.
    pub nature: String,
    /// Its extent: which data, how many people.
    pub extent: String,
    /// Its likely consequences for the people affected.
    pub consequences: String,
    /// What was done and is being done to mitigate the risk.
    pub mitigation: String,
    /// What the people affected can do to protect themselves.
    pub user_actions: String,
    /// Who to contact (the business contact information of Rule 7(1)(e)).
    pub contact: String,
    /// Where it happened (systems, places): Rule 7(2)(a)'s "location of occurrence".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The events, circumstances and reasons that led to it (Rule 7(2)(b)(i)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Findings about who caused it (Rule 7(2)(b)(iii)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<String>,
    /// Measures taken to prevent it happening again (Rule 7(2)(b)(iv)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedial: Option<String>,
    /// How the affected users were chosen (kind and size only).
    pub query: String,
    /// How many users it affects (the length of its durable list).
    pub affected: u64,
    /// The notification job.
    #[serde(default)]
    pub job: JobStatus,
    /// When the job was first started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_started_at: Option<UnixTime>,
    /// When the job finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_finished_at: Option<UnixTime>,
}

impl Incident {
    /// When the detailed report to the Board is due (Rule 7(2)(b): 72 hours).
    pub fn report_due(&self) -> UnixTime {
        self.declared_at.saturating_add(REPORT_DUE_SECS)
    }
}

/// Where one affected user's notification stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NoticeState {
    /// Not sent yet.
    Pending,
    /// Claimed by a job at `at`, which is handing it to a channel now; a job that finds
    /// it so after a restart sends the same message again (the same Message-ID).
    Sending {
        /// When it was claimed.
        at: UnixTime,
    },
    /// Accepted by the mail server or SMS provider.
    Sent {
        /// When.
        at: UnixTime,
        /// `email` or `sms`.
        channel: String,
    },
    /// No channel took it (no verified email and no phone, or every send failed).
    Failed {
        /// When.
        at: UnixTime,
        /// Why, without personal data.
        reason: String,
    },
}

impl NoticeState {
    /// The state's name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending { .. } => "sending",
            Self::Sent { .. } => "sent",
            Self::Failed { .. } => "failed",
        }
    }
}

/// One affected user's notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachNotice {
    /// The incident's tenant.
    pub tenant: TenantId,
    /// The incident.
    pub incident: String,
    /// The affected user.
    pub user_id: UserId,
    /// Where it stands.
    #[serde(flatten)]
    pub state: NoticeState,
    /// Sends tried (a restart that finds it `sending` tries again).
    #[serde(default)]
    pub attempts: u32,
}

/// An incident's notification counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachProgress {
    /// Affected users.
    pub total: u64,
    /// Not sent yet.
    pub pending: u64,
    /// Being handed to a channel now (or when the node stopped).
    pub sending: u64,
    /// Sent.
    pub sent: u64,
    /// Failed on every channel.
    pub failed: u64,
}

impl BreachProgress {
    /// Adds one notice's state.
    pub fn count(&mut self, s: &NoticeState) {
        self.total += 1;
        match s {
            NoticeState::Pending => self.pending += 1,
            NoticeState::Sending { .. } => self.sending += 1,
            NoticeState::Sent { .. } => self.sent += 1,
            NoticeState::Failed { .. } => self.failed += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_bounded() {
        assert!(BreachSettings::default().check().is_ok());
        assert!(BreachSettings { notify_per_sec: 0 }.check().is_err());
        assert!(
            BreachSettings {
                notify_per_sec: MAX_NOTIFY_PER_SEC + 1
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn notices_serialise_flat_and_back() {
        let n = BreachNotice {
            tenant: TenantId::parse("acme").unwrap(),
            incident: "i1".into(),
            user_id: UserId::from_stored("u1".into()),
            state: NoticeState::Sent {
                at: 5,
                channel: "email".into(),
            },
            attempts: 1,
        };
        let v = serde_json::to_value(&n).unwrap();
        assert_eq!(v["state"], "sent");
        assert_eq!(v["channel"], "email");
        assert_eq!(serde_json::from_value::<BreachNotice>(v).unwrap(), n);
    }

    #[test]
    fn event_kinds_must_be_in_a_known_family() {
        assert!(is_known_event_kind("login."));
        assert!(is_known_event_kind("login.password"));
        assert!(is_known_event_kind("logout"));
        assert!(is_known_event_kind("logout.backchannel_abandoned"));
        assert!(!is_known_event_kind("logouts"));
        assert!(!is_known_event_kind("lgoin.password"));
        assert!(!is_known_event_kind(""));
        assert!(!is_known_event_kind("login..x"));
        assert!(!is_known_event_kind("Login.password"));
    }

    #[test]
    fn queries_parse_by_kind_and_refuse_unknown_ones() {
        let q: AffectedQuery = serde_json::from_str(r#"{"kind":"signed_in"}"#).unwrap();
        assert_eq!(q, AffectedQuery::SignedIn);
        assert!(serde_json::from_str::<AffectedQuery>(r#"{"kind":"everyone"}"#).is_err());
    }
}
