//! `/Groups`: a SCIM Group is one of the tenant's roles (RBAC). Its `displayName` is the
//! role's id (`a-z 0-9 -`), its members the users holding the role: tenant-wide for a
//! tenant token, inside the organisation for an organisation token. Creating a group
//! creates a role without permissions (the admin API gives it some); deleting one deletes
//! the role with every assignment. An organisation token only changes who holds a role in
//! its organisation: roles are the tenant's, so it cannot create or delete them.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use tollgate_scim::filter::Filter;
use tollgate_scim::patch::{self, PatchRequest};
use tollgate_scim::schema::{GROUP, Resource};
use tollgate_scim::{ScimError, ScimResult, ScimType};

use super::users::{ListQuery, Preconditions, Versioned, etag_matches, project};
use super::{Scim, ScimCaller, list_response};
use crate::engine::RequestMeta;
use crate::ids::UserId;
use crate::model::org::{Role, check_slug};

/// Holders read per store call.
const PAGE: usize = 1_000;

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, detail)
}

fn forbidden_for_org() -> ScimError {
    ScimError::status(
        403,
        "an organisation's token changes who holds a role in its organisation; roles themselves are the tenant's",
    )
}

/// The member ids a Group representation names.
fn members_of(body: &Value) -> ScimResult<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    match body.get("members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for m in items {
                let id = m
                    .get("value")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("each member needs a value (a user id)"))?;
                out.insert(id.to_owned());
            }
        }
        Some(_) => return Err(invalid("members must be an array")),
    }
    Ok(out)
}

fn display_name(body: &Value) -> ScimResult<String> {
    let name = body
        .get("displayName")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("displayName is required"))?;
    check_slug("displayName (a role id)", name)?;
    Ok(name.to_owned())
}

impl Scim<'_> {
    async fn holders(&self, caller: &ScimCaller, role: &str) -> ScimResult<Vec<UserId>> {
        let mut out = Vec::new();
        let mut after: Option<UserId> = None;
        loop {
            let page = self
                .rt()
                .store
                .list_role_members(
                    &caller.tenant,
                    role,
                    caller.organization.as_deref(),
                    after.as_ref(),
                    PAGE,
                )
                .await?;
            let full = page.len() == PAGE;
            after = page.last().cloned();
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }

    async fn render_group(&self, caller: &ScimCaller, role: &Role) -> ScimResult<Versioned> {
        let base = self.base(&caller.tenant);
        let members: Vec<Value> = self
            .holders(caller, &role.id)
            .await?
            .into_iter()
            .map(|u| json!({"value": u.as_str(), "$ref": format!("{base}/Users/{u}"), "type": "User"}))
            .collect();
        let mut o = Map::new();
        o.insert("schemas".into(), json!([GROUP]));
        o.insert("id".into(), Value::String(role.id.clone()));
        o.insert("displayName".into(), Value::String(role.id.clone()));
        o.insert("members".into(), Value::Array(members));
        let body = Value::Object(o);
        let h = crate::crypto::sha256(&crate::json::to_vec(&body));
        let etag = format!(
            "W/\"{}\"",
            h[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let location = format!("{base}/Groups/{}", role.id);
        let mut body = body;
        if let Some(o) = body.as_object_mut() {
            o.insert(
                "meta".into(),
                json!({"resourceType": "Group", "location": location, "version": etag}),
            );
        }
        Ok(Versioned {
            body,
            etag,
            location,
        })
    }

    async fn role(&self, caller: &ScimCaller, id: &str) -> ScimResult<Role> {
        if check_slug("id", id).is_err() {
            return Err(ScimError::not_found("Group"));
        }
        self.rt()
            .store
            .get_role(&caller.tenant, id)
            .await?
            .ok_or_else(|| ScimError::not_found("Group"))
    }

    /// `GET /Groups/{id}`.
    pub async fn get_group(&self, caller: &ScimCaller, id: &str) -> ScimResult<Versioned> {
        let role = self.role(caller, id).await?;
        self.render_group(caller, &role).await
    }

    /// `GET /Groups`: the tenant's roles (few), filtered, paged.
    pub async fn list_groups(&self, caller: &ScimCaller, q: &ListQuery) -> ScimResult<Value> {
        self.tenant(&caller.tenant).await?;
        let filter = match q.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(text) => {
                let f = Filter::parse(text)?;
                f.check(Resource::Group)?;
                Some(f)
            }
            None => None,
        };
        let start = q
            .start_index
            .as_deref()
            .map_or(Ok(1), |s| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| invalid("startIndex must be an integer"))
            })?
            .max(1);
        let count = q
            .count
            .as_deref()
            .map_or(Ok(super::LIMITS.max_results), |s| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| invalid("count must be an integer"))
            })?
            .min(super::LIMITS.max_results);
        let mut hits = Vec::new();
        for role in self.rt().store.list_roles(&caller.tenant).await? {
            let v = self.render_group(caller, &role).await?.body;
            if filter
                .as_ref()
                .is_none_or(|f| f.matches(Resource::Group, &v))
            {
                hits.push(v);
            }
        }
        let total = hits.len();
        let page = hits
            .into_iter()
            .skip(start - 1)
            .take(count)
            .map(|v| project(v, q.attributes.as_deref(), q.excluded_attributes.as_deref()))
            .collect();
        Ok(list_response(total, start, page))
    }

    /// `POST /Groups`: a new role (tenant tokens only), with its first holders.
    pub async fn create_group(
        &self,
        caller: &ScimCaller,
        body: &Value,
        meta: &RequestMeta,
    ) -> ScimResult<Versioned> {
        if caller.organization.is_some() {
            return Err(forbidden_for_org());
        }
        let id = display_name(body)?;
        let members = members_of(body)?;
        let store = &self.rt().store;
        if store.get_role(&caller.tenant, &id).await?.is_some() {
            return Err(ScimError::uniqueness(
                "a group (role) with this displayName exists",
            ));
        }
        self.check_users(caller, &members).await?;
        let role = Role {
            tenant: caller.tenant.clone(),
            id: id.clone(),
            description: String::new(),
            permissions: Vec::new(),
        };
        store.put_role(&role).await?;
        for m in &members {
            store
                .assign_role(&caller.tenant, &UserId::from_stored(m.clone()), &id, None)
                .await?;
        }
        self.group_event(caller, "scim.group_created", &id, members.len(), 0, meta)
            .await?;
        self.render_group(caller, &role).await
    }

    /// Every named member is a user of the tenant (and of the organisation, for an
    /// organisation token): `invalidValue` naming the first that is not.
    async fn check_users(&self, caller: &ScimCaller, ids: &BTreeSet<String>) -> ScimResult<()> {
        for id in ids {
            let uid = UserId::from_stored(id.clone());
            let known = id.len() <= 64 && self.user(&caller.tenant, &uid).await?.is_some();
            let in_org = match &caller.organization {
                None => true,
                Some(org) => self
                    .rt()
                    .store
                    .get_membership(&caller.tenant, org, &uid)
                    .await?
                    .is_some(),
            };
            if !known || !in_org {
                return Err(invalid(format!("member {id} is not a user here")));
            }
        }
        Ok(())
    }

    async fn group_event(
        &self,
        caller: &ScimCaller,
        kind: &str,
        id: &str,
        added: usize,
        removed: usize,
        meta: &RequestMeta,
    ) -> ScimResult<()> {
        let mut ev = self.event(&caller.tenant, kind, true);
        ev.actor = Some(caller.actor());
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!(
            "group={id} organization={} added={added} removed={removed}",
            caller.organization.as_deref().unwrap_or("-")
        ));
        self.record_now(ev).await?;
        Ok(())
    }

    /// `PUT /Groups/{id}` (the members given replace the holders) and `PATCH` (members
    /// added or removed): the role's id cannot change.
    pub async fn change_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        change: GroupChange<'_>,
        pre: &Preconditions,
        meta: &RequestMeta,
    ) -> ScimResult<Versioned> {
        let role = self.role(caller, id).await?;
        let now = self.render_group(caller, &role).await?;
        if let Some(h) = &pre.if_match
            && !etag_matches(h, &now.etag)
        {
            return Err(ScimError::precondition());
        }
        let next = match change {
            GroupChange::Replace(body) => body.clone(),
            GroupChange::Patch(req) => {
                let mut body = now.body.clone();
                patch::apply(&mut body, Resource::Group, req)?;
                body
            }
        };
        if display_name(&next)? != role.id {
            return Err(ScimError::bad(
                ScimType::Mutability,
                "displayName is the role's id and cannot change",
            ));
        }
        let want = members_of(&next)?;
        let have = members_of(&now.body)?;
        let added: Vec<&String> = want.difference(&have).collect();
        let removed: Vec<&String> = have.difference(&want).collect();
        let added_set: BTreeSet<String> = added.iter().map(|s| (*s).clone()).collect();
        self.check_users(caller, &added_set).await?;
        let store = &self.rt().store;
        let scope = caller.organization.as_deref();
        for m in &added {
            if !store
                .assign_role(
                    &caller.tenant,
                    &UserId::from_stored((*m).clone()),
                    &role.id,
                    scope,
                )
                .await?
            {
                return Err(invalid(format!("member {m} could not be given the role")));
            }
        }
        for m in &removed {
            store
                .unassign_role(
                    &caller.tenant,
                    &UserId::from_stored((*m).clone()),
                    &role.id,
                    scope,
                )
                .await?;
        }
        self.group_event(
            caller,
            "scim.group_changed",
            &role.id,
            added.len(),
            removed.len(),
            meta,
        )
        .await?;
        self.render_group(caller, &role).await
    }

    /// `DELETE /Groups/{id}`: the role and every assignment of it (tenant tokens only).
    pub async fn delete_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        pre: &Preconditions,
        meta: &RequestMeta,
    ) -> ScimResult<()> {
        if caller.organization.is_some() {
            return Err(forbidden_for_org());
        }
        let role = self.role(caller, id).await?;
        let now = self.render_group(caller, &role).await?;
        if let Some(h) = &pre.if_match
            && !etag_matches(h, &now.etag)
        {
            return Err(ScimError::precondition());
        }
        if !self
            .rt()
            .store
            .delete_role(&caller.tenant, &role.id)
            .await?
        {
            return Err(ScimError::not_found("Group"));
        }
        self.group_event(caller, "scim.group_deleted", &role.id, 0, 0, meta)
            .await
    }
}

/// How `change_group` changes a group.
pub enum GroupChange<'a> {
    /// PUT: this representation.
    Replace(&'a Value),
    /// PATCH: these operations.
    Patch(&'a PatchRequest),
}
