//! Organisations (B2B): the customer companies a tenant serves, their members, the roles
//! those members hold and the invitations that make new members.
//!
//! An organisation belongs to one tenant; a user of the tenant may belong to several.
//! Roles are tenant-wide sets of permissions, assigned either inside one membership (they
//! count only when the user signs in to that organisation) or tenant-wide (they count
//! always). Permissions come from a per-tenant catalogue: every scope of the tenant's APIs,
//! and the named permissions in [`OrgsSettings`].

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::error::EngineError;
use crate::ids::{ClientId, TenantId, UserId};
use crate::model::Hash32;

/// The longest organisation or role name.
pub const MAX_NAME: usize = 64;

/// An organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Its tenant.
    pub tenant: TenantId,
    /// Random and never reused (`org_…`): what tokens carry as `org_id`.
    pub id: String,
    /// A slug, unique in the tenant (`acme`): what an `organization` parameter may name
    /// and tokens carry as `org_name`. Can change (a rename); the id does not.
    pub name: String,
    /// Shown to people (the picker, invitation mails).
    pub display_name: String,
    /// When it was created.
    pub created_at: UnixTime,
    /// Its sign-in rules.
    #[serde(default)]
    pub settings: OrgSettings,
}

/// An organisation's sign-in rules, enforced when a user signs in to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgSettings {
    /// The first-factor methods (RFC 8176 `amr` values: `pwd`, `otp`, `sms`, `hwk`,
    /// `fed`) a session must have used to enter; empty allows every method.
    pub allowed_methods: Vec<String>,
    /// Members must have used a second factor (`mfa` in the session's `amr`).
    pub require_mfa: bool,
    /// Domains (lower case) a member's email must be at; empty allows any. Checked when
    /// a user is invited, accepts an invitation and signs in to the organisation.
    pub allowed_email_domains: Vec<String>,
    /// Where its data should live, when the tenant has several residency regions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A user of the tenant whose email is at one of `allowed_email_domains` (which must
    /// not be empty) joins, without roles, the first time they sign in to it.
    pub just_in_time: bool,
}

impl OrgSettings {
    /// The `amr` values an organisation can allow.
    pub const METHODS: [&'static str; 5] = ["pwd", "otp", "sms", "hwk", "fed"];

    /// Whether a session that used `amr` may enter.
    pub fn method_allowed(&self, amr: &[String]) -> bool {
        self.allowed_methods.is_empty()
            || amr
                .iter()
                .any(|a| self.allowed_methods.iter().any(|m| m == a))
    }

    /// Whether an email address (normalised) is at an allowed domain.
    pub fn email_allowed(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        self.allowed_email_domains.is_empty()
            || self
                .allowed_email_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// A user's membership of an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// Its tenant.
    pub tenant: TenantId,
    /// The organisation's id.
    pub org_id: String,
    /// The member.
    pub user_id: UserId,
    /// Role ids held in this organisation, sorted.
    #[serde(default)]
    pub roles: Vec<String>,
    /// When the user joined.
    pub joined_at: UnixTime,
}

/// A role: a named set of permissions, defined per tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Its tenant.
    pub tenant: TenantId,
    /// A slug, unique in the tenant (`billing-admin`): what tokens carry in `roles`.
    pub id: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Permission names from the tenant's catalogue, sorted.
    pub permissions: Vec<String>,
}

/// An invitation to join an organisation: single use, expiring. The invitee's address
/// is kept only as the engine's blind index and a masked form; the token only hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Its tenant.
    pub tenant: TenantId,
    /// A random public id, for the admin API.
    pub id: String,
    /// The organisation's id.
    pub org_id: String,
    /// SHA-256 of the token in the invitation link.
    pub token_hash: Hash32,
    /// The blind index of the invitee's address (as users' `email_key`): the account that
    /// accepts must have this address.
    pub email_key: String,
    /// The address masked (`a***@e***.com`), for the admin API.
    pub email_masked: String,
    /// Role ids the new member gets.
    #[serde(default)]
    pub roles: Vec<String>,
    /// When it was made.
    pub created_at: UnixTime,
    /// When it stops working.
    pub expires_at: UnixTime,
}

/// A named permission of the tenant's catalogue (beside its APIs' scopes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionDef {
    /// The name (`invoices:approve`).
    pub name: String,
    /// What it allows.
    #[serde(default)]
    pub description: String,
}

/// A tenant's organisation settings (in the tenant record).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrgsSettings {
    /// Named permissions; the scopes of the tenant's APIs are permissions too.
    pub permissions: Vec<PermissionDef>,
    /// Clients whose users must sign in to an organisation: without an `organization`
    /// parameter, a user in several is asked to pick one, and a user in none is refused.
    pub organization_required: Vec<ClientId>,
}

/// Checks an organisation or role name: 1 to [`MAX_NAME`] characters of `a-z 0-9 -`,
/// starting with a letter or digit.
pub fn check_slug(what: &str, s: &str) -> Result<(), EngineError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_NAME
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(EngineError::Invalid(format!(
            "{what} must be 1-{MAX_NAME} characters of a-z, 0-9 and '-', starting with a letter or digit"
        )))
    }
}

/// Checks a permission name: 1 to 128 printable ASCII characters without spaces.
pub fn check_permission_name(s: &str) -> Result<(), EngineError> {
    if !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(EngineError::Invalid(
            "permission must be 1-128 printable characters without spaces".into(),
        ))
    }
}

/// What a user's `roles` and `permissions` are in one organisation (or none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClaims {
    /// The organisation signed in to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    /// Roles held there and tenant-wide, sorted, without repeats.
    pub roles: Vec<String>,
    /// Their permissions, sorted, without repeats.
    pub permissions: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_rules() {
        assert!(check_slug("name", "acme-2").is_ok());
        for bad in ["", "-acme", "Acme", "a b", &"a".repeat(65)] {
            assert!(check_slug("name", bad).is_err(), "{bad}");
        }
        let s = OrgSettings {
            allowed_methods: vec!["hwk".into()],
            allowed_email_domains: vec!["acme.example".into()],
            ..OrgSettings::default()
        };
        assert!(s.method_allowed(&["hwk".into(), "mfa".into()]));
        assert!(!s.method_allowed(&["pwd".into()]));
        assert!(s.email_allowed("ann@acme.example"));
        assert!(!s.email_allowed("ann@evil.example"));
        assert!(!s.email_allowed("ann@sub.acme.example"));
        assert!(OrgSettings::default().email_allowed("x@y.z"));
    }
}
