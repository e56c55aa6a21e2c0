//! Retention (DPDP Rules 6 and 8, Third Schedule): a tenant's dormancy and log-retention
//! settings, and what the store keeps per user to apply them (last activity, the erasure
//! notice of the current cycle, a legal hold).

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};

/// One day, in seconds.
pub const DAY: u64 = 86_400;

/// The shortest notice before a dormant account is erased (Rule 8(2): at least 48 hours).
pub const MIN_NOTICE_HOURS: u32 = 48;

/// The shortest dormancy period accepted. Last activity may lag by up to a day (a refresh
/// records it at most once a day per user), so a period must be far longer than that.
pub const MIN_DORMANT_DAYS: u32 = 30;

/// The shortest retention of the audit trail (Rule 6(1)(e) and Rule 8(3): one year).
pub const MIN_EVENT_DAYS: u32 = 365;

/// A tenant's retention settings. Both parts are off by default: nothing is erased and
/// the audit trail is kept for as long as the store holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// Erase accounts after this long without activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dormancy: Option<DormancyPolicy>,
    /// Remove audit events older than this many days (at least [`MIN_EVENT_DAYS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_days: Option<u32>,
    /// When the dormancy job first gave every account of the tenant an activity record
    /// (accounts older than the feature, or imported before it, that never signed in
    /// since). Set by the job, kept across settings changes; read-only for admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity_backfilled_at: Option<UnixTime>,
}

/// When a dormant account is erased.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DormancyPolicy {
    /// Days after the last activity at which the account is erased (e.g. 1095, three
    /// years); at least [`MIN_DORMANT_DAYS`].
    pub after_days: u32,
    /// Hours before the erasure at which the user is told (at least
    /// [`MIN_NOTICE_HOURS`]); also the least time between the notice and the erasure.
    #[serde(default = "default_notice_hours")]
    pub notice_hours: u32,
}

fn default_notice_hours() -> u32 {
    MIN_NOTICE_HOURS
}

impl DormancyPolicy {
    /// The dormancy period, in seconds.
    pub fn period_secs(&self) -> u64 {
        u64::from(self.after_days) * DAY
    }

    /// The notice lead time, in seconds.
    pub fn notice_secs(&self) -> u64 {
        u64::from(self.notice_hours) * 3600
    }
}

impl RetentionSettings {
    /// Refuses a dormancy period under [`MIN_DORMANT_DAYS`], a notice under 48 hours or
    /// not shorter than the period, and an event retention under a year.
    pub fn check(&self) -> EngineResult<()> {
        if let Some(d) = &self.dormancy {
            if d.after_days < MIN_DORMANT_DAYS {
                return Err(EngineError::Invalid(format!(
                    "dormancy after_days must be at least {MIN_DORMANT_DAYS}"
                )));
            }
            if d.notice_hours < MIN_NOTICE_HOURS {
                return Err(EngineError::Invalid(format!(
                    "dormancy notice_hours must be at least {MIN_NOTICE_HOURS} (Rule 8(2))"
                )));
            }
            if d.notice_secs() >= d.period_secs() {
                return Err(EngineError::Invalid(
                    "dormancy notice_hours must be shorter than after_days".into(),
                ));
            }
        }
        if let Some(days) = self.event_days
            && days < MIN_EVENT_DAYS
        {
            return Err(EngineError::Invalid(format!(
                "event_days must be at least {MIN_EVENT_DAYS} (Rules 6 and 8(3): one year)"
            )));
        }
        Ok(())
    }
}

/// What the store keeps per user for dormancy: when they were last active, the notice
/// of the current cycle, and a legal hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Owner.
    pub tenant: TenantId,
    /// Whose.
    pub user_id: UserId,
    /// Last sign-in (exact) or refresh (at most a day late).
    pub last_active: UnixTime,
    /// The erasure notice of the current cycle, if one was started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<DormancyNotice>,
    /// A legal hold: while set, the account is never erased for dormancy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<LegalHold>,
}

/// An erasure notice for one dormancy cycle. A cycle is named by the `last_active` it
/// was started from: activity since then starts a new cycle, and this notice no longer
/// counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DormancyNotice {
    /// The `last_active` of the cycle.
    pub cycle: UnixTime,
    /// When a job took the cycle to send its notice (a lease: another run leaves it).
    pub claimed_at: UnixTime,
    /// When the notice was handed to the mail (or text) provider; `None` until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<UnixTime>,
    /// `email` or `sms`, once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The earliest erasure this notice announced (`sent_at` + the notice lead time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erase_after: Option<UnixTime>,
}

/// Why an account must be kept whatever its activity (litigation, an investigation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    /// Why (shown to admins, recorded in the audit trail).
    pub reason: String,
    /// Who set it.
    pub set_by: String,
    /// When.
    pub set_at: UnixTime,
}

/// Longest reason of a legal hold.
pub const MAX_HOLD_REASON: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(after_days: u32, notice_hours: u32) -> RetentionSettings {
        RetentionSettings {
            dormancy: Some(DormancyPolicy {
                after_days,
                notice_hours,
            }),
            event_days: None,
            activity_backfilled_at: None,
        }
    }

    #[test]
    fn limits_of_the_rules_are_enforced() {
        assert!(RetentionSettings::default().check().is_ok());
        assert!(d(1095, 48).check().is_ok());
        assert!(d(1095, 47).check().is_err(), "notice under 48 h");
        assert!(d(29, 48).check().is_err(), "period under 30 days");
        assert!(
            d(30, 30 * 24).check().is_err(),
            "notice as long as the period"
        );
        let ev = |days| RetentionSettings {
            dormancy: None,
            event_days: Some(days),
            activity_backfilled_at: None,
        };
        assert!(ev(365).check().is_ok());
        assert!(ev(364).check().is_err());
    }

    #[test]
    fn notice_hours_default_to_48() {
        let p: DormancyPolicy = serde_json::from_str(r#"{"after_days":1095}"#).unwrap();
        assert_eq!(p.notice_hours, 48);
        assert_eq!(p.period_secs(), 1095 * DAY);
    }
}
