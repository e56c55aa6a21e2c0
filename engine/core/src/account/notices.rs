//! Consent receipts (DPDP Rules 2025, Rule 4): every grant and withdrawal of a consent
//! purpose leaves an immutable [`ConsentReceipt`] naming the purpose, the notice version
//! and language shown, the time and the channel (sign-up page, account page, consent
//! manager, API). The user downloads theirs from the account page as JSON; the
//! data-subject export carries them; erasure removes them with the account (the audit
//! trail keeps the kind and time of each answer). A tenant's back end records answers it
//! collected itself through the admin API (channel `api`).

use super::Account;

use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{ClientId, TenantId, UserId};
use crate::model::notice::{
    ConsentChannel, ConsentReceipt, ConsentVia, NOTICE_LANGUAGES, NoticeSettings,
};
use crate::model::privacy::{PrivacySettings, PurposeGrant};

impl Account<'_> {
    /// Replaces a tenant's itemised notices, board URL and consent managers
    /// (administration). Each notice must name one of the tenant's purposes; each
    /// consent manager must be a confidential client of the tenant.
    pub async fn set_notices(
        &self,
        tenant: &TenantId,
        notices: NoticeSettings,
    ) -> EngineResult<PrivacySettings> {
        for m in &notices.consent_managers {
            let known = match ClientId::parse(m) {
                Ok(id) => self.client(tenant, &id).await?,
                Err(_) => None,
            };
            match known {
                Some(c) if c.is_confidential() => {}
                Some(_) => {
                    return Err(EngineError::Invalid(format!(
                        "consent manager {m}: a confidential client is needed (it authenticates to the consent-manager API)"
                    )));
                }
                None => {
                    return Err(EngineError::Invalid(format!(
                        "consent manager {m}: no such client in this tenant"
                    )));
                }
            }
        }
        let mut s = (*self.privacy_settings(tenant).await?).clone();
        let detail = format!(
            "notices={} managers={}",
            notices
                .notices
                .iter()
                .map(|n| format!(
                    "{}[{}]",
                    n.purpose,
                    n.texts.keys().cloned().collect::<Vec<_>>().join("+")
                ))
                .collect::<Vec<_>>()
                .join(","),
            notices.consent_managers.join(",")
        );
        s.notices = notices;
        self.save_privacy_settings(tenant, s, "admin.notices", detail)
            .await
    }

    /// Writes the receipt of an answer (called by `answer_purpose` before the answer).
    pub(crate) async fn put_receipt(
        &self,
        grant: &PurposeGrant,
        via: &ConsentVia,
    ) -> EngineResult<ConsentReceipt> {
        // Ids start with the user's count of receipts so far: receipts of one second
        // list in the order they were given (the partition is small, answers are rare).
        let seq = self
            .rt()
            .store
            .list_receipts(&grant.tenant, &grant.user_id)
            .await?
            .len();
        let receipt = ConsentReceipt {
            tenant: grant.tenant.clone(),
            user_id: grant.user_id.clone(),
            id: format!("{seq:06}-{}", crate::crypto::random_token::<9>()),
            purpose: grant.purpose.clone(),
            version: grant.version,
            language: via.language.clone(),
            granted: grant.granted,
            at: grant.at,
            channel: via.channel,
            manager: via.manager.clone(),
        };
        self.rt().store.put_receipt(&receipt).await?;
        Ok(receipt)
    }

    /// Records an answer the tenant's own back end collected (channel `api`), at the
    /// purpose's current notice version, in the language the tenant showed it in (English
    /// or an Eighth-Schedule language). The user must be the tenant's.
    pub async fn record_consent_via_api(
        &self,
        tenant: &TenantId,
        user: &UserId,
        purpose: &str,
        granted: bool,
        language: &str,
        meta: &RequestMeta,
    ) -> EngineResult<PurposeGrant> {
        if !NOTICE_LANGUAGES.contains(&language) {
            return Err(EngineError::Invalid(format!(
                "language {language:?} is not English or an Eighth-Schedule language ({})",
                NOTICE_LANGUAGES.join(", ")
            )));
        }
        if self.user(tenant, user).await?.is_none() {
            return Err(EngineError::NotFound("user"));
        }
        let s = self.privacy_settings(tenant).await?;
        let version = s
            .purposes
            .iter()
            .find(|p| p.id == purpose)
            .map(|p| p.version)
            .ok_or(EngineError::NotFound("purpose"))?;
        let via = ConsentVia::page(ConsentChannel::Api, language);
        self.answer_purpose(tenant, user, purpose, version, granted, &via, meta)
            .await
    }

    /// The user's consent receipts, oldest first.
    pub async fn consent_receipts(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Vec<ConsentReceipt>> {
        Ok(self.rt().store.list_receipts(tenant, user).await?)
    }
}
