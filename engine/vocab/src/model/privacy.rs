//! A tenant's privacy settings: consent purposes (GDPR Art. 6(1)(a) and 7, DPDP Act
//! ss. 5-6), users' answers to them, and the progressive-profiling rules.

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};

/// Most purposes a tenant may list.
const MAX_PURPOSES: usize = 50;

/// Something a tenant processes personal data for, as its privacy notice describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose {
    /// Stable id (`marketing_email`): lowercase letters, digits, `_` and `-`.
    pub id: String,
    /// What the user is asked to agree to, shown as written.
    pub description: String,
    /// The notice version; raising it asks users again.
    pub version: u32,
    /// Whether the service cannot be used without it (asked at sign-in).
    #[serde(default)]
    pub required: bool,
}

/// A tenant's privacy settings: its consent purposes and progressive-profiling rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrivacySettings {
    /// Consent purposes, in the order shown.
    pub purposes: Vec<Purpose>,
    /// Profile fields asked for at later sign-ins.
    pub profile_fields: Vec<ProfileRule>,
    /// Itemised notices per purpose and consent managers (DPDP Rules 3 and 4).
    #[serde(default)]
    pub notices: crate::model::notice::NoticeSettings,
}

/// A user's current answer for one purpose. History lives in the audit trail
/// (`consent.purpose_granted` / `consent.purpose_withdrawn`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeGrant {
    /// Owner.
    pub tenant: TenantId,
    /// Whose.
    pub user_id: UserId,
    /// Which purpose.
    pub purpose: String,
    /// The notice version the user saw when they last answered.
    pub version: u32,
    /// Granted (`true`) or withdrawn.
    pub granted: bool,
    /// When they last answered.
    pub at: UnixTime,
    /// The language the notice was shown in (`None` for answers recorded before
    /// languages were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A purpose with the user's answer, for the account page and the sign-in step.
#[derive(Clone, Debug, Serialize)]
pub struct PurposeStatus {
    /// The purpose as the tenant lists it now.
    pub purpose: Purpose,
    /// The user's current answer, if any.
    pub grant: Option<PurposeGrant>,
}

impl PurposeStatus {
    /// Granted at the purpose's current version.
    pub fn granted_now(&self) -> bool {
        self.grant
            .as_ref()
            .is_some_and(|g| g.granted && g.version == self.purpose.version)
    }
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl PrivacySettings {
    /// Checks ids, descriptions, versions and profile rules.
    pub fn check(&self) -> EngineResult<()> {
        if self.purposes.len() > MAX_PURPOSES {
            return Err(EngineError::Invalid(format!(
                "at most {MAX_PURPOSES} purposes"
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for p in &self.purposes {
            if !valid_id(&p.id) {
                return Err(EngineError::Invalid(format!(
                    "purpose id {:?}: use 1-64 lowercase letters, digits, '_' or '-'",
                    p.id
                )));
            }
            if !seen.insert(p.id.as_str()) {
                return Err(EngineError::Invalid(format!(
                    "purpose {} is listed twice",
                    p.id
                )));
            }
            if p.description.trim().is_empty() || p.description.len() > 2000 {
                return Err(EngineError::Invalid(format!(
                    "purpose {}: a description of 1-2000 characters is needed",
                    p.id
                )));
            }
            if p.version == 0 {
                return Err(EngineError::Invalid(format!(
                    "purpose {}: versions start at 1",
                    p.id
                )));
            }
        }
        check_rules(&self.profile_fields)?;
        let ids: Vec<&str> = self.purposes.iter().map(|p| p.id.as_str()).collect();
        self.notices.check(&ids).map_err(EngineError::Invalid)
    }
}

/// The profile fields a tenant may ask for (OIDC standard claims where there is one).
pub const PROFILE_FIELDS: &[(&str, &str)] = &[
    ("given_name", "First name"),
    ("family_name", "Last name"),
    ("nickname", "Nickname"),
    ("locale", "Language (e.g. en-IN)"),
    ("zoneinfo", "Time zone (e.g. Asia/Kolkata)"),
    ("birthdate", "Date of birth (YYYY-MM-DD)"),
    ("company", "Company"),
    ("job_title", "Job title"),
];

/// Longest value of a profile field.
pub const MAX_FIELD_LEN: usize = 200;

/// The label shown for a field.
pub fn field_label(field: &str) -> &'static str {
    PROFILE_FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, l)| *l)
        .unwrap_or("Profile field")
}

/// When to ask for a profile field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRule {
    /// One of [`PROFILE_FIELDS`].
    pub field: String,
    /// Whether the sign-in waits for it (optional fields can be skipped).
    #[serde(default)]
    pub required: bool,
    /// Ask from this sign-in on (1 = every sign-in).
    #[serde(default)]
    pub after_sign_ins: Option<u32>,
    /// Ask when a client requests this scope.
    #[serde(default)]
    pub scope: Option<String>,
}

/// Checks a tenant's profiling rules: known fields, each once, each with a when.
pub fn check_rules(rules: &[ProfileRule]) -> EngineResult<()> {
    let mut seen = std::collections::HashSet::new();
    for r in rules {
        if !PROFILE_FIELDS.iter().any(|(f, _)| *f == r.field) {
            return Err(EngineError::Invalid(format!(
                "unknown profile field {:?}; one of {}",
                r.field,
                PROFILE_FIELDS
                    .iter()
                    .map(|(f, _)| *f)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if !seen.insert(r.field.as_str()) {
            return Err(EngineError::Invalid(format!(
                "profile field {} is listed twice",
                r.field
            )));
        }
        match (r.after_sign_ins, &r.scope) {
            (None, None) => {
                return Err(EngineError::Invalid(format!(
                    "profile field {}: say when to ask (after_sign_ins or scope)",
                    r.field
                )));
            }
            (Some(0), _) => {
                return Err(EngineError::Invalid(format!(
                    "profile field {}: after_sign_ins starts at 1",
                    r.field
                )));
            }
            (_, Some(s)) if s.is_empty() || s.contains(' ') => {
                return Err(EngineError::Invalid(format!(
                    "profile field {}: scope must be one scope name",
                    r.field
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a value typed for a profile field; returns it trimmed.
pub fn check_value(field: &str, value: &str) -> EngineResult<String> {
    let v = value.trim();
    if v.len() > MAX_FIELD_LEN || v.chars().any(char::is_control) {
        return Err(EngineError::Invalid(format!(
            "{} is too long or holds characters that cannot be shown.",
            field_label(field)
        )));
    }
    if field == "birthdate" && !v.is_empty() {
        let parts: Vec<&str> = v.split('-').collect();
        let num = |s: &str, len: usize| {
            (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        let ok = parts.len() == 3
            && num(parts[0], 4).is_some()
            && num(parts[1], 2).is_some_and(|m| (1..=12).contains(&m))
            && num(parts[2], 2).is_some_and(|d| (1..=31).contains(&d));
        if !ok {
            return Err(EngineError::Invalid(
                "Enter the date of birth as YYYY-MM-DD.".into(),
            ));
        }
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(field: &str, after: Option<u32>, scope: Option<&str>) -> ProfileRule {
        ProfileRule {
            field: field.into(),
            required: false,
            after_sign_ins: after,
            scope: scope.map(str::to_owned),
        }
    }

    #[test]
    fn rules_name_known_fields_once_and_say_when() {
        assert!(
            check_rules(&[
                rule("given_name", Some(2), None),
                rule("company", None, Some("profile"))
            ])
            .is_ok()
        );
        assert!(check_rules(&[rule("shoe_size", Some(1), None)]).is_err());
        assert!(check_rules(&[rule("locale", None, None)]).is_err());
        assert!(check_rules(&[rule("locale", Some(0), None)]).is_err());
        assert!(check_rules(&[rule("locale", None, Some("a b"))]).is_err());
        assert!(
            check_rules(&[rule("locale", Some(1), None), rule("locale", Some(2), None)]).is_err()
        );
    }

    #[test]
    fn values_are_trimmed_bounded_and_dates_checked() {
        assert_eq!(check_value("given_name", "  Ada ").unwrap(), "Ada");
        assert!(check_value("given_name", &"x".repeat(MAX_FIELD_LEN + 1)).is_err());
        assert!(check_value("given_name", "a\u{0}b").is_err());
        assert_eq!(
            check_value("birthdate", "1815-12-10").unwrap(),
            "1815-12-10"
        );
        for bad in ["1815-13-10", "10/12/1815", "1815-1-10", "ninety"] {
            assert!(check_value("birthdate", bad).is_err(), "{bad}");
        }
        assert_eq!(check_value("birthdate", "").unwrap(), "");
    }
}
