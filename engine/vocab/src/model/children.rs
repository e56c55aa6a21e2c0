//! Children's accounts (DPDP Act s. 9, Rules 10 and 12): a tenant's policy for users under
//! the age of majority, the record kept of a child's account (waiting for a parent, or
//! consented by one), and the calendar arithmetic that turns a date of birth into an age.

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::Hash32;

/// The age of majority under the DPDP Act (s. 2(f)).
pub const AGE_OF_MAJORITY: u8 = 18;

/// The oldest date of birth accepted, in years before today.
pub const MAX_AGE_YEARS: i64 = 130;

/// How long a parent's consent link stays valid by default: seven days.
pub const DEFAULT_LINK_TTL: u64 = 7 * 86_400;

/// What a tenant does with users under the age of majority.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildrenPolicy {
    /// Sign-up asks no age (the behaviour before this setting existed).
    #[default]
    Off,
    /// Sign-up asks the date of birth and refuses anyone under the age of majority.
    AdultsOnly,
    /// Sign-up asks the date of birth; a child's account waits for a parent's consent.
    ParentalConsent,
}

impl ChildrenPolicy {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::AdultsOnly => "adults_only",
            Self::ParentalConsent => "parental_consent",
        }
    }
}

/// A purpose exempt under Rule 12 (Fourth Schedule) from the limits on children's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exemption {
    /// The consent purpose id.
    pub purpose: String,
    /// The exemption relied on, as named by the tenant (e.g. "health", "education",
    /// "safety": the Fourth Schedule's classes).
    pub exemption: String,
}

/// A tenant's children setting, in the tenant record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChildrenSettings {
    /// Off, adults only, or verifiable parental consent.
    pub policy: ChildrenPolicy,
    /// Under this age a user is a child (18 under the Act).
    pub age_of_majority: u8,
    /// Purposes exempt under Rule 12: a child may still grant them even when they are
    /// listed in `tracking`.
    pub exempt_purposes: Vec<Exemption>,
    /// Purpose ids and claim names that count as tracking or behavioural monitoring: a
    /// child's account is never granted these purposes and never given these claims.
    pub tracking: Vec<String>,
    /// How long a parent's consent link stays valid, seconds.
    pub link_ttl_secs: u64,
}

impl Default for ChildrenSettings {
    fn default() -> Self {
        Self {
            policy: ChildrenPolicy::Off,
            age_of_majority: AGE_OF_MAJORITY,
            exempt_purposes: Vec::new(),
            tracking: Vec::new(),
            link_ttl_secs: DEFAULT_LINK_TTL,
        }
    }
}

impl ChildrenSettings {
    /// Refuses an age of majority other than 18 to 21, a link lifetime outside one hour
    /// to thirty days, and empty or repeated names.
    pub fn check(&self) -> EngineResult<()> {
        if !(AGE_OF_MAJORITY..=21).contains(&self.age_of_majority) {
            return Err(EngineError::Invalid(format!(
                "age_of_majority must be between {AGE_OF_MAJORITY} and 21"
            )));
        }
        if !(3600..=30 * 86_400).contains(&self.link_ttl_secs) {
            return Err(EngineError::Invalid(
                "link_ttl_secs must be between 3600 and 2592000".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for e in &self.exempt_purposes {
            if e.purpose.trim().is_empty() || e.exemption.trim().is_empty() {
                return Err(EngineError::Invalid(
                    "an exempt purpose needs a purpose id and the exemption relied on".into(),
                ));
            }
            if !seen.insert(e.purpose.as_str()) {
                return Err(EngineError::Invalid(format!(
                    "purpose {} is listed twice in exempt_purposes",
                    e.purpose
                )));
            }
        }
        if self.tracking.iter().any(|t| t.trim().is_empty()) {
            return Err(EngineError::Invalid(
                "tracking lists purpose ids or claim names, none empty".into(),
            ));
        }
        Ok(())
    }

    /// Whether a child may never be granted this purpose: listed as tracking and not
    /// exempt.
    pub fn purpose_barred(&self, purpose: &str) -> bool {
        self.tracking.iter().any(|t| t == purpose)
            && !self.exempt_purposes.iter().any(|e| e.purpose == purpose)
    }

    /// Whether a child's tokens never carry this claim.
    pub fn claim_barred(&self, claim: &str) -> bool {
        self.tracking.iter().any(|t| t == claim)
    }
}

/// Who consented for a child. Never the parent's personal data: an account id of the same
/// tenant, or a keyed hash of the verified identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParentRef {
    /// An adult account of the tenant.
    Account {
        /// Its id.
        user: UserId,
    },
    /// An adult verified through DigiLocker, who need not have an account.
    Verified {
        /// The connector used.
        connector: String,
        /// Keyed hash (hex) of the upstream subject: the same parent is recognisable, but
        /// not identifiable from this record alone.
        subject_hash: String,
    },
}

/// Where a child's account stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChildState {
    /// Waiting for a parent: the account cannot sign in or get tokens.
    Pending {
        /// Hash of the parent's single-use link secret.
        link: Hash32,
        /// When the link (and so the pending account) expires.
        expires_at: UnixTime,
    },
    /// A parent consented.
    Active {
        /// The parent.
        parent: ParentRef,
        /// When.
        consented_at: UnixTime,
    },
}

/// What is kept of a child's account beside the account itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildRecord {
    /// Owner.
    pub tenant: TenantId,
    /// The child's account.
    pub user: UserId,
    /// When the account was created.
    pub created_at: UnixTime,
    /// Pending or active.
    pub state: ChildState,
}

impl ChildRecord {
    /// Whether the account still waits for a parent.
    pub fn is_pending(&self) -> bool {
        matches!(self.state, ChildState::Pending { .. })
    }

    /// When a pending record expires.
    pub fn expires_at(&self) -> Option<UnixTime> {
        match self.state {
            ChildState::Pending { expires_at, .. } => Some(expires_at),
            ChildState::Active { .. } => None,
        }
    }
}

/// A calendar date (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// Parses `YYYY-MM-DD` (the OIDC `birthdate` form and what an HTML date field sends),
    /// refusing anything that is not a real date.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = s.get(r)?;
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (year, month, day) = (i64::from(num(0..4)?), num(5..7)?, num(8..10)?);
        if year < 1 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self { year, month, day })
    }

    /// The UTC date of a time.
    pub fn of(t: UnixTime) -> Self {
        // Howard Hinnant's civil_from_days.
        let z = i64::try_from(t / 86_400).unwrap_or(i64::MAX / 2) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self { year, month, day }
    }

    /// Whole years from this date (a birth date) to `today`; negative when in the future.
    pub fn age_on(&self, today: Date) -> i64 {
        let mut years = today.year - self.year;
        if (today.month, today.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }

    /// `YYYY-MM-DD`.
    pub fn to_iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Checks a date of birth given at sign-up: a real date, not in the future, not more than
/// [`MAX_AGE_YEARS`] ago. Returns the age on `now`.
pub fn age_from_birthdate(birthdate: &str, now: UnixTime) -> EngineResult<(Date, i64)> {
    let date = Date::parse(birthdate.trim()).ok_or_else(|| {
        EngineError::Invalid("The date of birth is not a valid date (YYYY-MM-DD).".into())
    })?;
    let today = Date::of(now);
    if date > today {
        return Err(EngineError::Invalid(
            "The date of birth cannot be in the future.".into(),
        ));
    }
    let age = date.age_on(today);
    if age > MAX_AGE_YEARS {
        return Err(EngineError::Invalid(format!(
            "The date of birth cannot be more than {MAX_AGE_YEARS} years ago."
        )));
    }
    Ok((date, age))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_only_when_real() {
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2023-13-01").is_none());
        assert!(Date::parse("2023-1-01").is_none());
        assert!(Date::parse("2023-01-+1").is_none());
        assert!(Date::parse("abcd-01-01").is_none());
    }

    #[test]
    fn civil_date_of_unix_time() {
        assert_eq!(Date::of(0).to_iso(), "1970-01-01");
        // 2026-12-07T18:00:00Z
        assert_eq!(Date::of(1_796_666_400).to_iso(), "2026-12-07");
        assert_eq!(Date::of(951_782_400).to_iso(), "2000-02-29");
    }

    #[test]
    fn age_turns_on_the_birthday() {
        let b = Date::parse("2008-12-08").unwrap_or(Date::of(0));
        assert_eq!(
            b.age_on(Date::parse("2026-12-07").unwrap_or(Date::of(0))),
            17
        );
        assert_eq!(
            b.age_on(Date::parse("2026-12-08").unwrap_or(Date::of(0))),
            18
        );
    }

    #[test]
    fn birthdates_are_checked() {
        let now = 1_796_666_400;
        assert!(age_from_birthdate("2026-12-08", now).is_err());
        assert!(age_from_birthdate("1890-01-01", now).is_err());
        assert!(age_from_birthdate("07/12/2000", now).is_err());
        assert_eq!(
            age_from_birthdate("2000-01-01", now).map(|a| a.1).ok(),
            Some(26)
        );
    }
}
