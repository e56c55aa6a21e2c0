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

use super::Account;
use std::sync::Arc;

use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::notice::{ConsentChannel, ConsentVia};
use crate::model::privacy::{PrivacySettings, Purpose, PurposeGrant, PurposeStatus};

impl Account<'_> {
    /// A tenant's privacy settings (cached for a few seconds; empty when never set).
    pub async fn privacy_settings(&self, tenant: &TenantId) -> EngineResult<Arc<PrivacySettings>> {
        if let Some(s) = self.rt().privacy.get(tenant) {
            return Ok(s);
        }
        let s = Arc::new(
            self.rt()
                .store
                .get_privacy_settings(tenant)
                .await?
                .unwrap_or_default(),
        );
        self.rt().privacy.insert(tenant.clone(), s.clone());
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
        self.rt().store.put_privacy_settings(tenant, &s).await?;
        self.rt().privacy.invalidate(tenant);
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
        let grants = self.rt().store.list_purpose_grants(tenant, user).await?;
        // A child's account is not offered the tenant's tracking purposes (DPDP s. 9(3)).
        let t = self.tenant(tenant).await?;
        let child = self.child_limits(&t, user).await?;
        Ok(s.purposes
            .iter()
            .filter(|p| !child.as_ref().is_some_and(|c| c.purpose_barred(&p.id)))
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
    /// must be the current one: a stale form asks again), with a receipt naming the
    /// channel and the notice's language. Withdrawing a required purpose is refused on
    /// the hosted pages (the user deletes their account instead); a consent manager or
    /// the API may withdraw it, and the next sign-in asks again.
    #[allow(
        clippy::too_many_arguments,
        reason = "one answer, its context and the request"
    )]
    pub async fn answer_purpose(
        &self,
        tenant: &TenantId,
        user: &UserId,
        purpose: &str,
        version: u32,
        granted: bool,
        via: &ConsentVia,
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
        let on_page = matches!(
            via.channel,
            ConsentChannel::SignUpPage | ConsentChannel::AccountPage
        );
        if granted {
            self.check_purpose_allowed(tenant, user, &p.id).await?;
        }
        if p.required && !granted && on_page {
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
            language: Some(via.language.clone()),
        };
        // The receipt first: an answer is never in force without its receipt.
        self.put_receipt(&grant, via).await?;
        self.rt().store.put_purpose_grant(&grant).await?;
        let kind = if granted {
            "consent.purpose_granted"
        } else {
            "consent.purpose_withdrawn"
        };
        let mut ev = self.event(tenant, kind, true);
        // A consent manager or the tenant's back end acting for the user is the actor;
        // the user is the subject.
        ev.actor = Some(match (&via.manager, via.channel) {
            (Some(m), _) => format!("consent_manager:{m}"),
            (None, ConsentChannel::Api) => "admin".to_owned(),
            (None, _) => user.to_string(),
        });
        ev.subject = Some(user.to_string());
        ev.ip = meta.ip.clone();
        // The detail stays `<purpose> v<version>`; the channel and language are in the
        // receipt.
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
        self.rt()
            .store
            .list_purpose_grants(tenant, user)
            .await
            .map_err(EngineError::from)
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
            notices: Default::default(),
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
                notices: Default::default(),
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
            language: None,
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
