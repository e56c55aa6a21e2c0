//! Progressive profiling: a tenant asks for further profile fields at a later sign-in
//! (from the N-th sign-in on, or when a client asks for a given scope) instead of at
//! sign-up. A required field must be given before the sign-in continues; an optional one
//! can be skipped (the gateway remembers the skip for the browser session).
//!
//! Counting sign-ins costs no write on the sign-in path: only tenants with an "after N"
//! rule count, by reading the user's `login.*` success events (the per-user event index).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::engine::{Engine, RequestMeta};
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::shard::store_err;
use crate::store::EventQuery;

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

pub(crate) fn check_rules(rules: &[ProfileRule]) -> EngineResult<()> {
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

impl Engine {
    /// Replaces a tenant's progressive-profiling rules (administration); purposes are kept.
    pub async fn set_profile_rules(
        &self,
        tenant: &TenantId,
        rules: Vec<ProfileRule>,
    ) -> EngineResult<crate::purposes::PrivacySettings> {
        let mut s = (*self.privacy_settings(tenant).await?).clone();
        s.profile_fields = rules;
        let detail = s
            .profile_fields
            .iter()
            .map(|r| r.field.as_str())
            .collect::<Vec<_>>()
            .join(",");
        self.save_privacy_settings(tenant, s, "admin.profile_fields", detail)
            .await
    }

    /// The profile fields to ask this user for now: rules that apply (one of `scopes`
    /// requested, or, at a sign-in, the sign-in count reached) for fields the user has not
    /// filled in, leaving out optional fields in `skipped`. `sign_in_before_ms` is set at a
    /// sign-in and bounds the sign-ins counted (those before this one); `None` (a client
    /// reusing a session) applies scope rules only, and reads nothing unless one matches.
    pub async fn profile_fields_to_ask(
        &self,
        tenant: &TenantId,
        user: &UserId,
        scopes: &[String],
        skipped: &[String],
        sign_in_before_ms: Option<u64>,
    ) -> EngineResult<Vec<ProfileRule>> {
        let s = self.privacy_settings(tenant).await?;
        let by_scope = |r: &ProfileRule| r.scope.as_ref().is_some_and(|sc| scopes.contains(sc));
        let candidates: Vec<&ProfileRule> = s
            .profile_fields
            .iter()
            .filter(|r| by_scope(r) || (sign_in_before_ms.is_some() && r.after_sign_ins.is_some()))
            .filter(|r| r.required || !skipped.contains(&r.field))
            .collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let Some(u) = self.user(tenant, user).await? else {
            return Ok(Vec::new());
        };
        let missing: Vec<&ProfileRule> = candidates
            .into_iter()
            .filter(|r| u.profile.get(&r.field).is_none_or(|v| v.is_empty()))
            .collect();
        // Count earlier sign-ins only if a missing field depends on it, and only as far
        // as the largest threshold.
        let need = missing
            .iter()
            .filter(|r| !by_scope(r))
            .filter_map(|r| r.after_sign_ins)
            .max()
            .unwrap_or(0);
        let earlier = match sign_in_before_ms {
            Some(before_ms) if need > 1 => {
                self.count_sign_ins(tenant, user, before_ms, need as usize - 1)
                    .await?
            }
            _ => 0,
        };
        Ok(missing
            .into_iter()
            .filter(|r| {
                let by_count = sign_in_before_ms.is_some()
                    && r.after_sign_ins.is_some_and(|n| earlier + 1 >= n as usize);
                by_count || by_scope(r)
            })
            .cloned()
            .collect())
    }

    /// Successful sign-ins of a user before `before_ms`, counted up to `at_most`.
    async fn count_sign_ins(
        &self,
        tenant: &TenantId,
        user: &UserId,
        before_ms: u64,
        at_most: usize,
    ) -> EngineResult<usize> {
        let mut q = EventQuery {
            user: Some(user.to_string()),
            kind: Some("login.".into()),
            until_ms: Some(before_ms),
            limit: 200,
            ..EventQuery::default()
        };
        let mut n = 0;
        loop {
            let page = self
                .0
                .store
                .query_events(tenant, &q)
                .await
                .map_err(store_err)?;
            n += page.iter().filter(|e| e.result == "success").count();
            if n >= at_most || page.len() < q.limit {
                return Ok(n);
            }
            let last = page.last().expect("a full page");
            q.before = Some((last.at_ms, last.id.clone()));
        }
    }

    /// Saves profile fields the user gave (checked, trimmed; empty values remove the
    /// field). The event names the fields, never their values.
    pub async fn update_profile(
        &self,
        tenant: &TenantId,
        user: &UserId,
        name: Option<String>,
        fields: BTreeMap<String, String>,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let mut u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let mut changed = Vec::new();
        if let Some(n) = name {
            let n = check_value("name", &n)?;
            let n = (!n.is_empty()).then_some(n);
            if n != u.name {
                u.name = n;
                changed.push("name".to_owned());
            }
        }
        for (k, v) in fields {
            if !PROFILE_FIELDS.iter().any(|(f, _)| *f == k) {
                return Err(EngineError::Invalid(format!("Unknown profile field {k}.")));
            }
            let v = check_value(&k, &v)?;
            let before = u.profile.get(&k).cloned().unwrap_or_default();
            if before != v {
                if v.is_empty() {
                    u.profile.remove(&k);
                } else {
                    u.profile.insert(k.clone(), v);
                }
                changed.push(k);
            }
        }
        if changed.is_empty() {
            return Ok(());
        }
        if !self.save_user(&u).await? {
            return Err(EngineError::NotFound("user"));
        }
        let mut ev = self.event(tenant, "user.profile_updated", true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(changed.join(","));
        self.record_now(ev).await
    }
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
