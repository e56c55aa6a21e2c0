//! Progressive profiling: a tenant asks for further profile fields at a later sign-in
//! (from the N-th sign-in on, or when a client asks for a given scope) instead of at
//! sign-up. A required field must be given before the sign-in continues; an optional one
//! can be skipped (the gateway remembers the skip for the browser session).
//!
//! Counting sign-ins costs no write on the sign-in path: only tenants with an "after N"
//! rule count, by reading the user's `login.*` success events (the per-user event index).

use super::Account;
use std::collections::BTreeMap;

use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::privacy::{PROFILE_FIELDS, ProfileRule, check_value};
use crate::store::EventQuery;

impl Account<'_> {
    /// Replaces a tenant's progressive-profiling rules (administration); purposes are kept.
    pub async fn set_profile_rules(
        &self,
        tenant: &TenantId,
        rules: Vec<ProfileRule>,
    ) -> EngineResult<crate::model::privacy::PrivacySettings> {
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
            // A page of about what is asked for: this runs at every sign-in.
            limit: at_most.clamp(1, 200),
            ..EventQuery::default()
        };
        let mut n = 0;
        loop {
            let page = self.rt().store.query_events(tenant, &q).await?;
            n += page.iter().filter(|e| e.result == "success").count();
            let Some(last) = page.last() else {
                return Ok(n);
            };
            if n >= at_most || page.len() < q.limit {
                return Ok(n);
            }
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
