//! Consent managers (DPDP Rules 2025, Rule 4): a tenant registers each consent manager as
//! a confidential client and lists its client id in its notice settings. The manager
//! authenticates as that client (its secret or a `private_key_jwt` assertion) and, on the
//! user's behalf, lists the user's consents and withdraws them. The user is named by the
//! tenant's `sub`: the user's id, as in ID tokens of public-subject clients (a pairwise
//! `sub` is not accepted, since it names the user only for one client).
//!
//! Every call by an authenticated manager is an audit event whose actor is
//! `consent_manager:<client id>`: `consent_manager.listed` (or `.refused` when the user is
//! not the tenant's), and the withdrawal itself as `consent.purpose_withdrawn`, whose
//! receipt has the channel `consent_manager` and names the manager.

use super::Account;
use std::sync::Arc;

use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ClientId, TenantId, UserId};
use crate::model::Client;
use crate::model::notice::{ConsentChannel, ConsentVia};
use crate::model::privacy::{PurposeGrant, PurposeStatus};
use crate::oauth::token::ClientCredentials;

/// The language recorded for a manager's answers: the manager shows its own notice, so
/// the tenant's notice was not shown in any language; `und` (BCP 47: undetermined).
const MANAGER_LANGUAGE: &str = "und";

/// What a consent manager may not do: the message of every refusal of the client itself.
pub const NOT_A_MANAGER: &str = "this client is not a consent manager of this tenant";

impl Account<'_> {
    /// Authenticates a consent manager: a confidential client of the tenant that its
    /// notice settings list. A client that authenticates but is not listed is refused
    /// with `unauthorized_client`.
    pub async fn authenticate_consent_manager(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
    ) -> EngineResult<Arc<Client>> {
        let client = self.oauth().authenticate_client(tenant, creds).await?;
        let s = self.privacy_settings(tenant).await?;
        let listed = s
            .notices
            .consent_managers
            .iter()
            .any(|m| m == client.id.as_str());
        if !client.is_confidential() || !listed {
            return Err(EngineError::oauth(C::UnauthorizedClient, NOT_A_MANAGER));
        }
        Ok(client)
    }

    /// The user a manager names, if the tenant has them (a malformed id, another tenant's
    /// user and an erased user are all `NotFound("user")`, audited as refused).
    async fn managed_user(
        &self,
        tenant: &TenantId,
        manager: &ClientId,
        sub: &str,
        meta: &RequestMeta,
    ) -> EngineResult<UserId> {
        let well_formed = !sub.is_empty()
            && sub.len() <= 64
            && sub
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let user = UserId::from_stored(sub.to_owned());
        if well_formed && self.user(tenant, &user).await?.is_some() {
            return Ok(user);
        }
        let mut ev = self.event(tenant, "consent_manager.refused", false);
        ev.actor = Some(format!("consent_manager:{manager}"));
        ev.client = Some(manager.to_string());
        ev.ip = meta.ip.clone();
        ev.detail = Some("unknown user".into());
        self.record_now(ev).await?;
        Err(EngineError::NotFound("user"))
    }

    /// The user's consents, as the manager sees them: every purpose with the user's
    /// answer. Audited as `consent_manager.listed`.
    pub async fn manager_list_consents(
        &self,
        tenant: &TenantId,
        manager: &ClientId,
        sub: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Vec<PurposeStatus>> {
        let user = self.managed_user(tenant, manager, sub, meta).await?;
        let statuses = self.purpose_statuses(tenant, &user).await?;
        let mut ev = self.event(tenant, "consent_manager.listed", true);
        ev.actor = Some(format!("consent_manager:{manager}"));
        ev.subject = Some(user.to_string());
        ev.client = Some(manager.to_string());
        ev.ip = meta.ip.clone();
        self.record_now(ev).await?;
        Ok(statuses)
    }

    /// Withdraws the user's consent to a purpose at its current notice version, on the
    /// user's behalf. Required purposes may be withdrawn too: the next sign-in asks again.
    pub async fn manager_withdraw(
        &self,
        tenant: &TenantId,
        manager: &ClientId,
        sub: &str,
        purpose: &str,
        meta: &RequestMeta,
    ) -> EngineResult<PurposeGrant> {
        let user = self.managed_user(tenant, manager, sub, meta).await?;
        let s = self.privacy_settings(tenant).await?;
        let version = s
            .purposes
            .iter()
            .find(|p| p.id == purpose)
            .map(|p| p.version)
            .ok_or(EngineError::NotFound("purpose"))?;
        let via = ConsentVia {
            channel: ConsentChannel::ConsentManager,
            language: MANAGER_LANGUAGE.into(),
            manager: Some(manager.to_string()),
        };
        self.answer_purpose(tenant, &user, purpose, version, false, &via, meta)
            .await
    }
}
