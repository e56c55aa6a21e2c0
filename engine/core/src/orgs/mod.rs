//! Organisations (issue 19): the customer companies a tenant serves, their members, roles
//! and permissions, invitations, and what signing in to one means.
//!
//! - this file: the [`Orgs`] handle, the permission catalogue, the claims a user has in
//!   an organisation ([`Orgs::claims`]: what tokens carry and the permission check reads)
//!   and the sign-in rules ([`Orgs::enter`]), read by `oauth` when it issues a code;
//! - [`manage`]: the admin operations (organisations, members, roles, tenant-wide roles,
//!   the catalogue), each an audit event;
//! - [`invitations`]: invitations by email, single use and expiring, accepted signed in.
//!
//! A user signs in to at most one organisation per authorization: its id travels with the
//! code and the refresh chain (`AuthContext::org`), and every token minted from them
//! re-reads the membership, so a removed member's refresh is refused (`invalid_grant`, the
//! chain revoked) and a changed role shows at the next refresh.

pub mod invitations;
pub mod manage;

use std::collections::BTreeSet;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::Tenant;
use crate::model::org::{OrgClaims, Organization};

/// The organisation area of the engine.
#[derive(Clone, Copy)]
pub struct Orgs<'e>(&'e Engine);

impl Deref for Orgs<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.0
    }
}

impl Engine {
    /// Organisations, roles and permissions.
    pub fn orgs(&self) -> Orgs<'_> {
        Orgs(self)
    }
}

/// One permission of a tenant's catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionEntry {
    /// Its name.
    pub name: String,
    /// The API whose scope it is; absent for a named permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// What it allows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// The tenant's permission catalogue: its named permissions, then every scope of its APIs.
pub fn catalogue(t: &Tenant) -> Vec<PermissionEntry> {
    let mut out: Vec<PermissionEntry> = t
        .orgs
        .permissions
        .iter()
        .map(|p| PermissionEntry {
            name: p.name.clone(),
            api: None,
            description: p.description.clone(),
        })
        .collect();
    for api in &t.apis {
        for s in &api.scopes {
            out.push(PermissionEntry {
                name: s.clone(),
                api: Some(api.identifier.clone()),
                description: String::new(),
            });
        }
    }
    out
}

/// Whether a permission is in the tenant's catalogue.
pub fn known_permission(t: &Tenant, name: &str) -> bool {
    t.orgs.permissions.iter().any(|p| p.name == name)
        || t.apis.iter().any(|a| a.scopes.iter().any(|s| s == name))
}

/// Why a user may not enter an organisation (the `access_denied` description).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, or the user is not a member (said alike: names are not probed this way).
    NotMember,
    /// The session's sign-in method is not one the organisation allows.
    Method,
    /// The organisation requires a second factor the session lacks.
    Mfa,
    /// The user's email is outside the organisation's allowed domains.
    Domain,
}

impl Refusal {
    /// The error description.
    pub fn description(self) -> &'static str {
        match self {
            Self::NotMember => "the user is not a member of the requested organization",
            Self::Method => "the organization does not allow this sign-in method",
            Self::Mfa => "the organization requires a second factor",
            Self::Domain => "the user's email domain is not allowed by the organization",
        }
    }
}

/// Whether an `organization` parameter can name an organisation: an id (`org_…`) or a
/// name (a slug).
pub fn valid_reference(s: &str) -> bool {
    s.len() <= 80
        && !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Which organisation an authorization is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgChoice {
    /// None: the client neither asked for one nor requires one.
    Neither,
    /// This one (its id), which the user may enter.
    Org(String),
    /// The user belongs to several: they must pick one.
    Pick,
    /// Refused (`access_denied`).
    Refused(Refusal),
}

impl Orgs<'_> {
    /// Which organisation an authorization by `client` for the signed-in `session` is
    /// for: the one `organization` names (by id or name); else, when the client requires
    /// one or asked for the `organization` scope, the user's only one, or a pick among
    /// several (none at all is refused where one is required). The user must be able to
    /// [`enter`](Orgs::enter) it.
    pub async fn for_request(
        &self,
        tenant: &TenantId,
        client: &crate::ids::ClientId,
        scopes: &[String],
        organization: Option<&str>,
        session: &crate::model::Session,
    ) -> EngineResult<OrgChoice> {
        let t = self.tenant(tenant).await?;
        let required = t.orgs.organization_required.contains(client);
        let org = match organization {
            Some(o) => match self.find(tenant, o).await {
                Ok(org) => org,
                Err(EngineError::NotFound(_)) => return Ok(OrgChoice::Refused(Refusal::NotMember)),
                Err(e) => return Err(e),
            },
            None => {
                if !required && !scopes.iter().any(|s| s == "organization") {
                    return Ok(OrgChoice::Neither);
                }
                let mut mine = self.of_user(tenant, &session.user_id).await?;
                match (mine.len(), mine.pop()) {
                    (1, Some(only)) => only,
                    (0, _) if required => return Ok(OrgChoice::Refused(Refusal::NotMember)),
                    (0, _) => return Ok(OrgChoice::Neither),
                    _ => return Ok(OrgChoice::Pick),
                }
            }
        };
        Ok(
            match self
                .enter(tenant, &session.user_id, &org, &session.auth.amr)
                .await?
            {
                Ok(()) => OrgChoice::Org(org.id),
                Err(why) => OrgChoice::Refused(why),
            },
        )
    }

    /// An organisation by id (`org_…`) or name.
    pub async fn find(&self, tenant: &TenantId, id_or_name: &str) -> EngineResult<Organization> {
        let store = &self.rt().store;
        let found = match store.get_org(tenant, id_or_name).await? {
            Some(o) => Some(o),
            None => store.find_org_by_name(tenant, id_or_name).await?,
        };
        found.ok_or(EngineError::NotFound("organization"))
    }

    /// A user's organisations (for the picker), in id order.
    pub async fn of_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Vec<Organization>> {
        let store = &self.rt().store;
        let mut out = Vec::new();
        for m in store.list_user_memberships(tenant, user).await? {
            if let Some(o) = store.get_org(tenant, &m.org_id).await? {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// Whether the user, signed in with `amr`, may enter `org`: a member (or one who
    /// joins just in time, which this records), by an allowed method, with a second
    /// factor if required, with an email at an allowed domain.
    pub async fn enter(
        &self,
        tenant: &TenantId,
        user: &UserId,
        org: &Organization,
        amr: &[String],
    ) -> EngineResult<Result<(), Refusal>> {
        let store = &self.rt().store;
        let s = &org.settings;
        let email_ok = match self.user(tenant, user).await? {
            Some(u) => s.email_allowed(u.email.as_str()),
            None => false,
        };
        if store.get_membership(tenant, &org.id, user).await?.is_none() {
            if !(s.just_in_time && !s.allowed_email_domains.is_empty() && email_ok) {
                return Ok(Err(Refusal::NotMember));
            }
            self.join(tenant, org, user, Vec::new(), "org.joined_jit")
                .await?;
        }
        if !s.method_allowed(amr) {
            return Ok(Err(Refusal::Method));
        }
        if s.require_mfa && !amr.iter().any(|a| a == "mfa") {
            return Ok(Err(Refusal::Mfa));
        }
        if !email_ok {
            return Ok(Err(Refusal::Domain));
        }
        Ok(Ok(()))
    }

    /// Makes a user a member (keeping roles they hold there already), with an event.
    pub(crate) async fn join(
        &self,
        tenant: &TenantId,
        org: &Organization,
        user: &UserId,
        roles: Vec<String>,
        kind: &str,
    ) -> EngineResult<()> {
        let store = &self.rt().store;
        let mut m = match store.get_membership(tenant, &org.id, user).await? {
            Some(m) => m,
            None => crate::model::org::Membership {
                tenant: tenant.clone(),
                org_id: org.id.clone(),
                user_id: user.clone(),
                roles: Vec::new(),
                joined_at: self.now(),
            },
        };
        m.roles.extend(roles);
        m.roles.sort();
        m.roles.dedup();
        if !store.put_membership(&m).await? {
            return Err(EngineError::NotFound("organization"));
        }
        let mut ev = self.event(tenant, kind, true);
        ev.actor = Some(user.to_string());
        ev.subject = Some(user.to_string());
        ev.detail = Some(format!("org={} roles={}", org.id, m.roles.join(",")));
        self.record_now(ev).await
    }

    /// The roles and permissions a user has in `org` (with their tenant-wide roles), or
    /// tenant-wide only without one. `None` when `org` is given and the user is not (or no
    /// longer) a member of it, or it is gone.
    pub async fn claims(
        &self,
        tenant: &TenantId,
        user: &UserId,
        org: Option<&str>,
    ) -> EngineResult<Option<OrgClaims>> {
        let store = &self.rt().store;
        let mut roles: BTreeSet<String> = store
            .tenant_roles(tenant, user)
            .await?
            .into_iter()
            .collect();
        let mut out = OrgClaims::default();
        if let Some(id) = org {
            let (Some(o), Some(m)) = (
                store.get_org(tenant, id).await?,
                store.get_membership(tenant, id, user).await?,
            ) else {
                return Ok(None);
            };
            out.org_id = Some(o.id);
            out.org_name = Some(o.name);
            roles.extend(m.roles);
        }
        let mut permissions = BTreeSet::new();
        for r in &roles {
            if let Some(role) = store.get_role(tenant, r).await? {
                permissions.extend(role.permissions);
            }
        }
        out.roles = roles.into_iter().collect();
        out.permissions = permissions.into_iter().collect();
        Ok(Some(out))
    }

    /// Whether a user holds `permission`, in `org` (by id or name) or tenant-wide.
    pub async fn allowed(
        &self,
        tenant: &TenantId,
        user: &UserId,
        permission: &str,
        org: Option<&str>,
    ) -> EngineResult<bool> {
        let org_id = match org {
            Some(o) => match self.find(tenant, o).await {
                Ok(found) => Some(found.id),
                Err(EngineError::NotFound(_)) => return Ok(false),
                Err(e) => return Err(e),
            },
            None => None,
        };
        Ok(self
            .claims(tenant, user, org_id.as_deref())
            .await?
            .is_some_and(|c| c.permissions.iter().any(|p| p == permission)))
    }
}
