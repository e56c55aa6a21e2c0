//! Invitations to join an organisation, by email: single use, expiring, accepted at
//! `{issuer}/invitations/{token}` by a signed-in account with the invited address (the
//! hosted page signs the visitor in or up first). The token is kept only hashed and the
//! address only as the engine's blind index and a masked form.

use serde::{Deserialize, Serialize};

use super::Orgs;
use super::manage::check_roles_input;
use crate::clock::UnixTime;
use crate::crypto::random_token;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::Hash32;
use crate::model::org::{Invitation, Organization};

/// Longest an invitation may stay open, days.
pub const MAX_DAYS: u64 = 30;
/// How long an invitation stays open when the admin does not say, days.
pub const DEFAULT_DAYS: u64 = 7;

/// An invitation to make (`POST …/organizations/{o}/invitations`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// Who is invited.
    pub email: String,
    /// Role ids the new member gets.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Days it stays open (1 to 30; 7 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u64>,
}

/// A made invitation: the link is shown once (and mailed), never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedInvitation {
    /// Its public id.
    pub id: String,
    /// The organisation.
    pub org_id: String,
    /// The address, masked.
    pub email_masked: String,
    /// Role ids the new member gets.
    pub roles: Vec<String>,
    /// When it stops working.
    pub expires_at: UnixTime,
    /// The link to accept it.
    pub url: String,
}

/// An open invitation as the admin API lists it (no token, no address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    /// Its public id.
    pub id: String,
    /// The address, masked.
    pub email_masked: String,
    /// Role ids the new member gets.
    pub roles: Vec<String>,
    /// When it was made.
    pub created_at: UnixTime,
    /// When it stops working.
    pub expires_at: UnixTime,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            email_masked: i.email_masked,
            roles: i.roles,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// What an invitation link cannot do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationProblem {
    /// Unknown, already used, withdrawn, altered or another tenant's.
    Unknown,
    /// Past its expiry.
    Expired,
    /// The signed-in account has another address than the invited one.
    OtherAddress,
    /// The account's address is outside the organisation's allowed domains.
    Domain,
}

impl InvitationProblem {
    /// The message id of the page that says so (`orgs.ftl`).
    pub fn message_id(self) -> &'static str {
        match self {
            Self::Unknown => "org-inv-unknown",
            Self::Expired => "org-inv-expired",
            Self::OtherAddress => "org-inv-other-address",
            Self::Domain => "org-inv-domain",
        }
    }
}

fn hash_of(token: &str) -> Hash32 {
    Hash32::of(token.as_bytes())
}

impl Orgs<'_> {
    /// Invites an address to an organisation: stores the invitation and mails the link.
    pub async fn invite(
        &self,
        tenant: &TenantId,
        org: &str,
        new: NewInvitation,
    ) -> EngineResult<CreatedInvitation> {
        let org = self.find(tenant, org).await?;
        let email = Email::parse(&new.email)
            .map_err(|_| EngineError::Invalid("email: not an email address".into()))?;
        if !org.settings.email_allowed(email.as_str()) {
            return Err(EngineError::Invalid(
                "email: outside the organization's allowed domains".into(),
            ));
        }
        let days = new.expires_in_days.unwrap_or(DEFAULT_DAYS);
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(EngineError::Invalid(format!(
                "expires_in_days: must be 1 to {MAX_DAYS}"
            )));
        }
        let roles = check_roles_input(self, tenant, &new.roles).await?;
        let token = random_token::<32>();
        let now = self.now();
        let inv = Invitation {
            tenant: tenant.clone(),
            id: format!("inv_{}", random_token::<9>()),
            org_id: org.id.clone(),
            token_hash: hash_of(&token),
            email_key: self.email_key(tenant, &email),
            email_masked: email.masked(),
            roles,
            created_at: now,
            expires_at: now + days * 86_400,
        };
        if !self.rt().store.put_invitation(&inv).await? {
            return Err(EngineError::NotFound("organization"));
        }
        let url = format!("{}/invitations/{token}", self.issuer(tenant));
        let t = self.tenant(tenant).await?;
        let mail = self.signin().writer(&t, None, None).org_invitation_mail(
            email,
            &org.display_name,
            &url,
            days,
        );
        let mut ev = self.event(tenant, "org.invited", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("org={} invitation={}", org.id, inv.id));
        self.queue_mail(mail, ev)?;
        Ok(CreatedInvitation {
            id: inv.id,
            org_id: org.id,
            email_masked: inv.email_masked,
            roles: inv.roles,
            expires_at: inv.expires_at,
            url,
        })
    }

    /// An organisation's open invitations, oldest first.
    pub async fn invitations(
        &self,
        tenant: &TenantId,
        org: &str,
    ) -> EngineResult<Vec<InvitationView>> {
        let org = self.find(tenant, org).await?;
        let now = self.now();
        Ok(self
            .rt()
            .store
            .list_invitations(tenant, &org.id)
            .await?
            .into_iter()
            .filter(|i| i.expires_at > now)
            .map(InvitationView::from)
            .collect())
    }

    /// Withdraws an invitation by its id.
    pub async fn withdraw(&self, tenant: &TenantId, org: &str, id: &str) -> EngineResult<()> {
        let org = self.find(tenant, org).await?;
        if !self
            .rt()
            .store
            .delete_invitation(tenant, &org.id, id)
            .await?
        {
            return Err(EngineError::NotFound("invitation"));
        }
        let mut ev = self.event(tenant, "org.invitation_withdrawn", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("org={} invitation={id}", org.id));
        self.record_now(ev).await
    }

    /// The organisation an invitation link is for, if the link still works.
    pub async fn invitation_org(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> EngineResult<Result<Organization, InvitationProblem>> {
        let Some(inv) = self
            .rt()
            .store
            .get_invitation(tenant, &hash_of(token))
            .await?
        else {
            return Ok(Err(InvitationProblem::Unknown));
        };
        if inv.expires_at <= self.now() {
            return Ok(Err(InvitationProblem::Expired));
        }
        match self.rt().store.get_org(tenant, &inv.org_id).await? {
            Some(o) => Ok(Ok(o)),
            None => Ok(Err(InvitationProblem::Unknown)),
        }
    }

    /// Accepts an invitation for the signed-in `user`: once only, before it expires, by
    /// the invited address. The user joins with the invitation's roles.
    pub async fn accept(
        &self,
        tenant: &TenantId,
        token: &str,
        user: &UserId,
    ) -> EngineResult<Result<Organization, InvitationProblem>> {
        let store = &self.rt().store;
        let hash = hash_of(token);
        let Some(inv) = store.get_invitation(tenant, &hash).await? else {
            return Ok(Err(InvitationProblem::Unknown));
        };
        if inv.expires_at <= self.now() {
            return Ok(Err(InvitationProblem::Expired));
        }
        let u = self
            .user(tenant, user)
            .await?
            .filter(|u| u.deleted_at.is_none())
            .ok_or(EngineError::NotFound("user"))?;
        // Compared as blind indexes: the invitation never held the address.
        if !crate::crypto::ct_eq(
            self.email_key(tenant, &u.email).as_bytes(),
            inv.email_key.as_bytes(),
        ) {
            return Ok(Err(InvitationProblem::OtherAddress));
        }
        let Some(org) = store.get_org(tenant, &inv.org_id).await? else {
            return Ok(Err(InvitationProblem::Unknown));
        };
        if !org.settings.email_allowed(u.email.as_str()) {
            return Ok(Err(InvitationProblem::Domain));
        }
        // Single use: of two acceptances at once, one takes it.
        let Some(inv) = store.take_invitation(tenant, &hash).await? else {
            return Ok(Err(InvitationProblem::Unknown));
        };
        self.join(tenant, &org, user, inv.roles, "org.invitation_accepted")
            .await?;
        Ok(Ok(org))
    }
}
