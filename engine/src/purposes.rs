//! Consent purposes (GDPR Art. 6(1)(a) and 7, DPDP Act ss. 5-6): each tenant lists the
//! purposes it processes personal data for, each with a notice version and whether it is
//! required to use the service. A user grants or withdraws each purpose; the grant records
//! the notice version they saw and when. Required purposes are asked at sign-in until
//! granted at the current version (a new version asks again); optional ones are granted
//! and withdrawn on the account page. Every change is an audit event; grants are in the
//! data-subject export.
//!
//! The tenant's purposes and its progressive-profiling rules are one small record
//! ([`PrivacySettings`]), read at every sign-in and cached like tenants are.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::clock::UnixTime;
use crate::engine::{Engine, RequestMeta};
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::profiling::ProfileRule;
use crate::shard::store_err;

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
        crate::profiling::check_rules(&self.profile_fields)
    }
}

impl Engine {
    /// A tenant's privacy settings (cached for a few seconds; empty when never set).
    pub async fn privacy_settings(&self, tenant: &TenantId) -> EngineResult<Arc<PrivacySettings>> {
        if let Some(s) = self.0.privacy.get(tenant) {
            return Ok(s);
        }
        let s = Arc::new(
            self.0
                .store
                .get_privacy_settings(tenant)
                .await
                .map_err(store_err)?
                .unwrap_or_default(),
        );
        self.0.privacy.insert(tenant.clone(), s.clone());
        Ok(s)
    }

    /// Replaces a tenant's consent purposes (administration); profile rules are kept.
    pub async fn set_purposes(
        &self,
        tenant: &TenantId,
        purposes: Vec<Purpose>,
    ) -> EngineResult<PrivacySettings> {
        let mut s = (*self.privacy_settings(tenant).await?).clone();
        s.purposes = purposes;
        let detail = s
            .purposes
            .iter()
            .map(|p| format!("{}@{}", p.id, p.version))
            .collect::<Vec<_>>()
            .join(",");
        self.save_privacy_settings(tenant, s, "admin.purposes", detail)
            .await
    }

    pub(crate) async fn save_privacy_settings(
        &self,
        tenant: &TenantId,
        s: PrivacySettings,
        kind: &str,
        detail: String,
    ) -> EngineResult<PrivacySettings> {
        self.tenant(tenant).await?;
        s.check()?;
        self.0
            .store
            .put_privacy_settings(tenant, &s)
            .await
            .map_err(store_err)?;
        self.0.privacy.invalidate(tenant);
        let mut ev = self.event(tenant, kind, true);
        ev.actor = Some("admin".into());
        ev.detail = Some(detail);
        self.record_now(ev).await?;
        Ok(s)
    }

    /// Every purpose of the tenant with the user's answer.
    pub async fn purpose_statuses(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Vec<PurposeStatus>> {
        let s = self.privacy_settings(tenant).await?;
        if s.purposes.is_empty() {
            return Ok(Vec::new());
        }
        let grants = self
            .0
            .store
            .list_purpose_grants(tenant, user)
            .await
            .map_err(store_err)?;
        Ok(s.purposes
            .iter()
            .map(|p| PurposeStatus {
                purpose: p.clone(),
                grant: grants.iter().find(|g| g.purpose == p.id).cloned(),
            })
            .collect())
    }

    /// The required purposes the user has not granted at their current version.
    pub async fn purposes_to_ask(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Vec<Purpose>> {
        Ok(self
            .purpose_statuses(tenant, user)
            .await?
            .into_iter()
            .filter(|s| s.purpose.required && !s.granted_now())
            .map(|s| s.purpose)
            .collect())
    }

    /// Records the user's answer for a purpose, at the version they were shown (which
    /// must be the current one: a stale form asks again). Withdrawing a required purpose
    /// is refused here: the user deletes their account instead.
    pub async fn answer_purpose(
        &self,
        tenant: &TenantId,
        user: &UserId,
        purpose: &str,
        version: u32,
        granted: bool,
        meta: &RequestMeta,
    ) -> EngineResult<PurposeGrant> {
        let s = self.privacy_settings(tenant).await?;
        let p = s
            .purposes
            .iter()
            .find(|p| p.id == purpose)
            .ok_or(EngineError::NotFound("purpose"))?;
        if p.version != version {
            return Err(EngineError::Invalid(
                "This notice has changed since you opened the page. Please read it again.".into(),
            ));
        }
        if p.required && !granted {
            return Err(EngineError::Invalid(
                "This purpose is needed to use the service. To stop it, delete your account."
                    .into(),
            ));
        }
        let grant = PurposeGrant {
            tenant: tenant.clone(),
            user_id: user.clone(),
            purpose: p.id.clone(),
            version,
            granted,
            at: self.now(),
        };
        self.0
            .store
            .put_purpose_grant(&grant)
            .await
            .map_err(store_err)?;
        let kind = if granted {
            "consent.purpose_granted"
        } else {
            "consent.purpose_withdrawn"
        };
        let mut ev = self.event(tenant, kind, true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("{} v{}", p.id, version));
        self.record_now(ev).await?;
        Ok(grant)
    }

    /// The user's purpose grants, for the data-subject export.
    pub async fn purpose_grants(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Vec<PurposeGrant>> {
        self.0
            .store
            .list_purpose_grants(tenant, user)
            .await
            .map_err(store_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purpose(id: &str, version: u32) -> Purpose {
        Purpose {
            id: id.into(),
            description: "Why".into(),
            version,
            required: false,
        }
    }

    #[test]
    fn purposes_have_valid_unique_ids_descriptions_and_versions() {
        let ok = PrivacySettings {
            purposes: vec![purpose("terms", 1), purpose("marketing-email_2", 3)],
            profile_fields: vec![],
        };
        assert!(ok.check().is_ok());
        for bad in [
            vec![purpose("Terms", 1)],
            vec![purpose("", 1)],
            vec![purpose("terms", 0)],
            vec![purpose("terms", 1), purpose("terms", 2)],
            vec![Purpose {
                description: " ".into(),
                ..purpose("terms", 1)
            }],
        ] {
            let s = PrivacySettings {
                purposes: bad.clone(),
                profile_fields: vec![],
            };
            assert!(s.check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_grant_counts_only_at_the_current_version() {
        let grant = |version, granted| PurposeGrant {
            tenant: TenantId::parse("t").unwrap(),
            user_id: UserId::generate(),
            purpose: "terms".into(),
            version,
            granted,
            at: 1,
        };
        let status = |g| PurposeStatus {
            purpose: purpose("terms", 2),
            grant: g,
        };
        assert!(status(Some(grant(2, true))).granted_now());
        assert!(!status(Some(grant(1, true))).granted_now());
        assert!(!status(Some(grant(2, false))).granted_now());
        assert!(!status(None).granted_now());
    }
}
