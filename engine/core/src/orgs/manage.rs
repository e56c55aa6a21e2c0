//! The admin operations on organisations, members, roles and the permission catalogue.
//! Every input is checked with a message naming the bad value; every change is an
//! `org.*` or `role.*` event (ids and names only: no personal data).

use serde::{Deserialize, Serialize};

use super::{Orgs, PermissionEntry, catalogue, known_permission};
use crate::crypto::random_token;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::org::{
    Membership, OrgClaims, OrgSettings, Organization, OrgsSettings, Role, check_permission_name,
    check_slug,
};

/// Longest display name or description (characters).
pub const MAX_TEXT: usize = 200;
/// Most roles, permissions or domains in one list.
pub const MAX_LIST: usize = 100;
/// Largest page of a list.
pub const MAX_PAGE: usize = 200;

/// A new organisation (`POST /admin/v1/tenants/{t}/organizations`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// Its unique name (a slug).
    pub name: String,
    /// Shown to people; the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Its sign-in rules.
    #[serde(default)]
    pub settings: OrgSettings,
}

/// A change to an organisation (`PATCH …/organizations/{o}`): what is given is replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgChange {
    /// A new name (a rename).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New sign-in rules (whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<OrgSettings>,
}

/// A role's definition (`PUT /admin/v1/tenants/{t}/roles/{r}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Permission names from the catalogue.
    pub permissions: Vec<String>,
}

/// Roles to hold (`PUT …/members/{u}`, `POST …/members`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    /// The user (`POST …/members` only; the path names it otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Role ids.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A role and who holds it in one organisation (`GET …/organizations/{o}/roles`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRoleView {
    /// The role.
    pub role: Role,
    /// Its holders there (the first [`MAX_PAGE`], by user id).
    pub members: Vec<UserId>,
}

/// A page of a list, and where the next starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::Invalid(msg.into())
}

fn check_text(field: &str, v: &str) -> EngineResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(invalid(format!("{field}: required")));
    }
    if v.chars().count() > MAX_TEXT || v.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field}: at most {MAX_TEXT} characters, without control characters"
        )));
    }
    Ok(v.to_owned())
}

/// Checks and normalises an organisation's rules.
pub fn check_settings(mut s: OrgSettings) -> EngineResult<OrgSettings> {
    for m in &s.allowed_methods {
        if !OrgSettings::METHODS.contains(&m.as_str()) {
            return Err(invalid(format!(
                "settings.allowed_methods: unknown method {m:?} (one of {})",
                OrgSettings::METHODS.join(", ")
            )));
        }
    }
    if s.allowed_email_domains.len() > MAX_LIST {
        return Err(invalid(format!(
            "settings.allowed_email_domains: at most {MAX_LIST}"
        )));
    }
    for d in &mut s.allowed_email_domains {
        *d = d.trim().to_ascii_lowercase();
        let ok = d.len() <= 253
            && d.contains('.')
            && !d.starts_with(['.', '-'])
            && !d.ends_with(['.', '-'])
            && d.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
        if !ok {
            return Err(invalid(format!(
                "settings.allowed_email_domains: {d:?} is not a domain name"
            )));
        }
    }
    if s.just_in_time && s.allowed_email_domains.is_empty() {
        return Err(invalid(
            "settings.just_in_time: needs allowed_email_domains (whose users join)",
        ));
    }
    if let Some(r) = &s.region {
        check_slug("settings.region", r)?;
    }
    s.allowed_methods.sort();
    s.allowed_methods.dedup();
    s.allowed_email_domains.sort();
    s.allowed_email_domains.dedup();
    Ok(s)
}

/// Checks role ids (each must exist), sorted and without repeats.
pub(crate) async fn check_roles_input(
    orgs: &Orgs<'_>,
    tenant: &TenantId,
    roles: &[String],
) -> EngineResult<Vec<String>> {
    if roles.len() > MAX_LIST {
        return Err(invalid(format!("roles: at most {MAX_LIST}")));
    }
    let mut out = roles.to_vec();
    out.sort();
    out.dedup();
    for r in &out {
        if orgs.rt().store.get_role(tenant, r).await?.is_none() {
            return Err(invalid(format!("roles: unknown role {r:?}")));
        }
    }
    Ok(out)
}

fn page<T>(items: Vec<T>, limit: usize, key: impl Fn(&T) -> String) -> Page<T> {
    let next = (items.len() == limit)
        .then(|| items.last().map(&key))
        .flatten();
    Page { items, next }
}

fn limit_of(limit: Option<usize>) -> usize {
    limit.unwrap_or(50).clamp(1, MAX_PAGE)
}

impl Orgs<'_> {
    fn admin_event(&self, tenant: &TenantId, kind: &str, detail: String) -> crate::model::Event {
        let mut ev = self.event(tenant, kind, true);
        ev.actor = Some("admin".into());
        ev.detail = Some(detail);
        ev
    }

    /// Creates an organisation; `Conflict("organization name")` if the name is taken.
    pub async fn create(&self, tenant: &TenantId, new: NewOrg) -> EngineResult<Organization> {
        self.tenant(tenant).await?;
        check_slug("name", &new.name)?;
        let display_name = match &new.display_name {
            Some(d) => check_text("display_name", d)?,
            None => new.name.clone(),
        };
        let org = Organization {
            tenant: tenant.clone(),
            id: format!("org_{}", random_token::<12>()),
            name: new.name,
            display_name,
            created_at: self.now(),
            settings: check_settings(new.settings)?,
        };
        match self.rt().store.create_org(&org).await {
            Ok(()) => {}
            Err(crate::store::StoreError::Conflict) => {
                return Err(EngineError::Conflict("organization name"));
            }
            Err(e) => return Err(e.into()),
        }
        let ev = self.admin_event(
            tenant,
            "org.created",
            format!("org={} name={}", org.id, org.name),
        );
        self.record_now(ev).await?;
        Ok(org)
    }

    /// The tenant's organisations, a page at a time (by id).
    pub async fn list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> EngineResult<Page<Organization>> {
        self.tenant(tenant).await?;
        let limit = limit_of(limit);
        let items = self.rt().store.list_orgs(tenant, after, limit).await?;
        Ok(page(items, limit, |o| o.id.clone()))
    }

    /// Renames an organisation or changes its display name or rules.
    pub async fn change(
        &self,
        tenant: &TenantId,
        id_or_name: &str,
        change: OrgChange,
    ) -> EngineResult<Organization> {
        if let Some(n) = &change.name {
            check_slug("name", n)?;
        }
        let display_name = change
            .display_name
            .as_deref()
            .map(|d| check_text("display_name", d))
            .transpose()?;
        let settings = change.settings.map(check_settings).transpose()?;
        for _ in 0..3 {
            let current = self.find(tenant, id_or_name).await?;
            let mut next = current.clone();
            if let Some(n) = &change.name {
                next.name = n.clone();
            }
            if let Some(d) = &display_name {
                next.display_name = d.clone();
            }
            if let Some(s) = &settings {
                next.settings = s.clone();
            }
            match self.rt().store.update_org(&next, &current).await {
                Ok(true) => {
                    let ev = self.admin_event(
                        tenant,
                        "org.changed",
                        format!("org={} name={}", next.id, next.name),
                    );
                    self.record_now(ev).await?;
                    return Ok(next);
                }
                Ok(false) => continue,
                Err(crate::store::StoreError::Conflict) => {
                    return Err(EngineError::Conflict("organization name"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(invalid(
            "the organization kept changing meanwhile; try again",
        ))
    }

    /// Deletes an organisation with its memberships and invitations.
    pub async fn delete(&self, tenant: &TenantId, id_or_name: &str) -> EngineResult<()> {
        let org = self.find(tenant, id_or_name).await?;
        if !self.rt().store.delete_org(tenant, &org.id).await? {
            return Err(EngineError::NotFound("organization"));
        }
        let ev = self.admin_event(tenant, "org.deleted", format!("org={}", org.id));
        self.record_now(ev).await
    }

    async fn live_user(&self, tenant: &TenantId, user: &str) -> EngineResult<crate::model::User> {
        let id = UserId::from_stored(user.to_owned());
        self.user(tenant, &id)
            .await?
            .filter(|u| u.deleted_at.is_none())
            .ok_or(EngineError::NotFound("user"))
    }

    /// Adds a member, or replaces a member's roles (`PUT …/members/{u}`).
    pub async fn put_member(
        &self,
        tenant: &TenantId,
        org: &str,
        user: &str,
        roles: &[String],
    ) -> EngineResult<Membership> {
        let org = self.find(tenant, org).await?;
        let u = self.live_user(tenant, user).await?;
        if !org.settings.email_allowed(u.email.as_str()) {
            return Err(invalid(
                "the user's email is outside the organization's allowed domains",
            ));
        }
        let roles = check_roles_input(self, tenant, roles).await?;
        let store = &self.rt().store;
        let joined_at = store
            .get_membership(tenant, &org.id, &u.id)
            .await?
            .map_or_else(|| self.now(), |m| m.joined_at);
        let m = Membership {
            tenant: tenant.clone(),
            org_id: org.id.clone(),
            user_id: u.id.clone(),
            roles,
            joined_at,
        };
        if !store.put_membership(&m).await? {
            return Err(EngineError::NotFound("organization"));
        }
        let mut ev = self.admin_event(
            tenant,
            "org.member_set",
            format!("org={} roles={}", org.id, m.roles.join(",")),
        );
        ev.subject = Some(u.id.to_string());
        self.record_now(ev).await?;
        Ok(m)
    }

    /// Removes a member; `NotFound("membership")` if they are not one.
    pub async fn remove_member(
        &self,
        tenant: &TenantId,
        org: &str,
        user: &str,
    ) -> EngineResult<()> {
        let org = self.find(tenant, org).await?;
        let user = UserId::from_stored(user.to_owned());
        if !self
            .rt()
            .store
            .delete_membership(tenant, &org.id, &user)
            .await?
        {
            return Err(EngineError::NotFound("membership"));
        }
        let mut ev = self.admin_event(tenant, "org.member_removed", format!("org={}", org.id));
        ev.subject = Some(user.to_string());
        self.record_now(ev).await
    }

    /// An organisation's members, a page at a time (by user id).
    pub async fn members(
        &self,
        tenant: &TenantId,
        org: &str,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> EngineResult<Page<Membership>> {
        let org = self.find(tenant, org).await?;
        let limit = limit_of(limit);
        let after = after.map(|a| UserId::from_stored(a.to_owned()));
        let items = self
            .rt()
            .store
            .list_members(tenant, &org.id, after.as_ref(), limit)
            .await?;
        Ok(page(items, limit, |m| m.user_id.to_string()))
    }

    /// The tenant's roles, each with who holds it in `org`.
    pub async fn org_roles(&self, tenant: &TenantId, org: &str) -> EngineResult<Vec<OrgRoleView>> {
        let org = self.find(tenant, org).await?;
        let store = &self.rt().store;
        let mut out = Vec::new();
        for role in store.list_roles(tenant).await? {
            let members = store
                .list_role_members(tenant, &role.id, Some(&org.id), None, MAX_PAGE)
                .await?;
            out.push(OrgRoleView { role, members });
        }
        Ok(out)
    }

    /// The tenant's permission catalogue.
    pub async fn permissions(&self, tenant: &TenantId) -> EngineResult<Vec<PermissionEntry>> {
        Ok(catalogue(&*self.tenant(tenant).await?))
    }

    /// Replaces the tenant's organisation settings (named permissions, clients that
    /// require an organisation). A permission still used by a role cannot go.
    pub async fn set_settings(
        &self,
        tenant: &TenantId,
        mut s: OrgsSettings,
    ) -> EngineResult<OrgsSettings> {
        if s.permissions.len() > MAX_LIST {
            return Err(invalid(format!("permissions: at most {MAX_LIST}")));
        }
        for p in &mut s.permissions {
            check_permission_name(&p.name)
                .map_err(|_| invalid(format!("permissions: {:?} is not a permission name (1-128 printable characters without spaces)", p.name)))?;
            p.description = p.description.trim().to_owned();
        }
        s.permissions.sort_by(|a, b| a.name.cmp(&b.name));
        s.permissions.dedup_by(|a, b| a.name == b.name);
        for c in &s.organization_required {
            if self.client(tenant, c).await?.is_none() {
                return Err(invalid(format!(
                    "organization_required: unknown client {c:?}"
                )));
            }
        }
        let mut probe = (*self.tenant(tenant).await?).clone();
        probe.orgs = s.clone();
        for role in self.rt().store.list_roles(tenant).await? {
            if let Some(p) = role
                .permissions
                .iter()
                .find(|p| !known_permission(&probe, p))
            {
                return Err(invalid(format!(
                    "permissions: {p:?} is still used by role {:?}",
                    role.id
                )));
            }
        }
        let detail = format!("permissions={}", s.permissions.len());
        let stored = s.clone();
        self.admin()
            .change_tenant(tenant, "org.settings", detail, move |t| {
                t.orgs = stored.clone();
                Ok(())
            })
            .await?;
        Ok(s)
    }

    /// The tenant's organisation settings.
    pub async fn settings(&self, tenant: &TenantId) -> EngineResult<OrgsSettings> {
        Ok(self.tenant(tenant).await?.orgs.clone())
    }

    /// Creates or replaces a role; every permission must be in the catalogue.
    pub async fn put_role(
        &self,
        tenant: &TenantId,
        id: &str,
        input: RoleInput,
    ) -> EngineResult<Role> {
        check_slug("role", id)?;
        let t = self.tenant(tenant).await?;
        if input.permissions.len() > MAX_LIST {
            return Err(invalid(format!("permissions: at most {MAX_LIST}")));
        }
        let mut permissions = input.permissions;
        permissions.sort();
        permissions.dedup();
        if let Some(p) = permissions.iter().find(|p| !known_permission(&t, p)) {
            return Err(invalid(format!("permissions: unknown permission {p:?}")));
        }
        let description = input.description.trim().to_owned();
        if description.chars().count() > MAX_TEXT {
            return Err(invalid(format!(
                "description: at most {MAX_TEXT} characters"
            )));
        }
        let role = Role {
            tenant: tenant.clone(),
            id: id.to_owned(),
            description,
            permissions,
        };
        self.rt().store.put_role(&role).await?;
        let ev = self.admin_event(
            tenant,
            "role.set",
            format!(
                "role={} permissions={}",
                role.id,
                role.permissions.join(",")
            ),
        );
        self.record_now(ev).await?;
        Ok(role)
    }

    /// The tenant's roles.
    pub async fn roles(&self, tenant: &TenantId) -> EngineResult<Vec<Role>> {
        self.tenant(tenant).await?;
        Ok(self.rt().store.list_roles(tenant).await?)
    }

    /// Deletes a role and every assignment of it.
    pub async fn delete_role(&self, tenant: &TenantId, id: &str) -> EngineResult<()> {
        self.tenant(tenant).await?;
        if !self.rt().store.delete_role(tenant, id).await? {
            return Err(EngineError::NotFound("role"));
        }
        let ev = self.admin_event(tenant, "role.deleted", format!("role={id}"));
        self.record_now(ev).await
    }

    /// Gives a user a tenant-wide role (`grant`) or takes it back.
    pub async fn tenant_role(
        &self,
        tenant: &TenantId,
        user: &str,
        role: &str,
        grant: bool,
    ) -> EngineResult<()> {
        let u = self.live_user(tenant, user).await?;
        let store = &self.rt().store;
        if store.get_role(tenant, role).await?.is_none() {
            return Err(EngineError::NotFound("role"));
        }
        let changed = if grant {
            store.assign_role(tenant, &u.id, role, None).await?
        } else {
            store.unassign_role(tenant, &u.id, role, None).await?
        };
        if !changed && !grant {
            return Err(EngineError::NotFound("role assignment"));
        }
        let kind = if grant {
            "role.assigned"
        } else {
            "role.unassigned"
        };
        let mut ev = self.admin_event(tenant, kind, format!("role={role} scope=tenant"));
        ev.subject = Some(u.id.to_string());
        self.record_now(ev).await
    }

    /// What a user holds in an organisation (or tenant-wide only): the admin's view.
    pub async fn user_claims(
        &self,
        tenant: &TenantId,
        user: &str,
        org: Option<&str>,
    ) -> EngineResult<OrgClaims> {
        let u = self.live_user(tenant, user).await?;
        let org_id = match org {
            Some(o) => Some(self.find(tenant, o).await?.id),
            None => None,
        };
        self.claims(tenant, &u.id, org_id.as_deref())
            .await?
            .ok_or(EngineError::NotFound("membership"))
    }
}
