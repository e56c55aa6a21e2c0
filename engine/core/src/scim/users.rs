//! `/Users`: a Tollgate user as a SCIM User (with the enterprise extension).
//!
//! What is kept where: `userName` is the login id (an email address, unique in the
//! tenant, found through the existing blind index); `active` and the version are in the
//! user's SCIM record in the clear (the sign-in gate reads `active` without decrypting);
//! `password` is hashed (argon2id) into the user record and never returned; the display
//! name goes to the user record's name; every other attribute the schemas define
//! (`externalId`, `name`, `emails`, `phoneNumbers`, `addresses`, `title`, the enterprise
//! extension, ...) is kept as given, sealed under the user's data key in the SCIM record,
//! with a blind index of `externalId`. Unknown attributes are dropped.
//!
//! A user SCIM never wrote (signed up on the hosted pages) has no SCIM record: it is
//! shown as active, from its user record alone, and gets one at its first SCIM change.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use tollgate_scim::filter::{AttrPath, Filter, sort_key};
use tollgate_scim::patch::{self, PatchRequest};
use tollgate_scim::schema::{
    COMMON, ENTERPRISE, ENTERPRISE_ATTRS, Resource, USER, USER_ATTRS, sanitize,
};
use tollgate_scim::{ScimError, ScimResult, ScimType};

use super::{LIMITS, Scim, ScimCaller, list_response};
use crate::engine::RequestMeta;
use crate::ids::{Email, TenantId, UserId};
use crate::model::User;
use crate::model::org::Membership;
use crate::model::scim::ScimUser;

/// Users read per store call when a list walks the tenant.
const PAGE: usize = 1_000;

/// A resource and its version, as answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Versioned {
    /// The resource.
    pub body: Value,
    /// Its ETag (`meta.version`), a weak validator: `W/"…"`.
    pub etag: String,
    /// Its URI.
    pub location: String,
}

/// What a request says about versions.
#[derive(Clone, Debug, Default)]
pub struct Preconditions {
    /// `If-Match`: the change happens only if the resource is at one of these versions
    /// (or `*`).
    pub if_match: Option<String>,
}

/// The query of a list (RFC 7644 §3.4.2), as the client sent it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// A filter.
    pub filter: Option<String>,
    /// An attribute path to sort by.
    pub sort_by: Option<String>,
    /// `ascending` (the default) or `descending`.
    pub sort_order: Option<String>,
    /// 1-based index of the first result.
    pub start_index: Option<String>,
    /// Most results wanted.
    pub count: Option<String>,
    /// Only these attributes (comma-separated).
    pub attributes: Option<String>,
    /// All but these attributes (comma-separated).
    pub excluded_attributes: Option<String>,
}

/// A user as SCIM sees it: the user record, its SCIM record and the attributes opened.
struct Current {
    user: User,
    scim: Option<ScimUser>,
    attrs: Map<String, Value>,
}

/// What a full representation (POST, PUT, or the result of a PATCH) asks for.
struct Desired {
    user_name: Email,
    active: bool,
    password: Option<String>,
    display_name: Option<String>,
    external_id: Option<String>,
    attrs: Map<String, Value>,
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, detail)
}

/// Reads and checks a full User representation.
fn desired(body: &Value) -> ScimResult<Desired> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "the body must be a JSON object"))?;
    let schemas_ok = obj
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|x| x.as_str() == Some(USER)));
    if !schemas_ok {
        return Err(ScimError::bad(
            ScimType::InvalidSyntax,
            format!("schemas must include \"{USER}\""),
        ));
    }
    let mut core = sanitize(USER_ATTRS, obj).map_err(invalid)?;
    let common = sanitize(COMMON, obj).map_err(invalid)?;
    let enterprise = match obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(ENTERPRISE)) {
        Some((_, Value::Object(e))) => sanitize(ENTERPRISE_ATTRS, e).map_err(invalid)?,
        Some((_, Value::Null)) | None => Map::new(),
        Some(_) => return Err(invalid(format!("{ENTERPRISE} must be an object"))),
    };
    let user_name = match core.remove("userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        _ => return Err(invalid("userName is required")),
    };
    let user_name = Email::parse(user_name.trim())
        .map_err(|_| invalid("userName must be an email address (it is the login id)"))?;
    let active = match core.remove("active") {
        Some(Value::Bool(b)) => b,
        _ => true,
    };
    let password = match core.remove("password") {
        Some(Value::String(p)) => Some(p),
        _ => None,
    };
    for (name, v) in &core {
        if let Value::Array(items) = v {
            let primaries = items
                .iter()
                .filter(|i| i.get("primary") == Some(&Value::Bool(true)))
                .count();
            if primaries > 1 {
                return Err(invalid(format!("{name} has more than one primary value")));
            }
        }
    }
    let display_name = core
        .get("displayName")
        .and_then(Value::as_str)
        .or_else(|| {
            core.get("name")
                .and_then(|n| n.get("formatted"))
                .and_then(Value::as_str)
        })
        .map(str::to_owned)
        .or_else(|| {
            let n = core.get("name")?;
            let parts: Vec<&str> = ["givenName", "familyName"]
                .iter()
                .filter_map(|k| n.get(*k).and_then(Value::as_str))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
    let external_id = match common.get("externalId") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let mut attrs = core;
    if let Some(x) = &external_id {
        attrs.insert("externalId".into(), Value::String(x.clone()));
    }
    if !enterprise.is_empty() {
        attrs.insert(ENTERPRISE.into(), Value::Object(enterprise));
    }
    Ok(Desired {
        user_name,
        active,
        password,
        display_name,
        external_id,
        attrs,
    })
}

fn etag_of(resource: &Value, version: u64) -> String {
    let mut bytes = crate::json::to_vec(resource);
    bytes.extend_from_slice(&version.to_be_bytes());
    let h = crate::crypto::sha256(&bytes);
    let hex: String = h[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

/// Whether an `If-Match` / `If-None-Match` value names `etag` (weak comparison).
pub fn etag_matches(header: &str, etag: &str) -> bool {
    let bare = |s: &str| {
        s.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_owned()
    };
    let want = bare(etag);
    header
        .split(',')
        .any(|h| h.trim() == "*" || bare(h) == want)
}

/// Keeps only the attributes asked for (`attributes`) or drops some (`excludedAttributes`);
/// `id`, `schemas` and `meta` always stay.
pub fn project(mut v: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let names = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|n| n.trim().to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect()
    };
    let always = ["id", "schemas", "meta"];
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    let top = |n: &str| -> String {
        // `name.givenName` keeps `name`; a URN path keeps the extension's object.
        let n = n.split('.').next().unwrap_or(n);
        if n.starts_with("urn:") {
            n.rsplit_once(':').map_or(n, |(u, _)| u).to_owned()
        } else {
            n.to_owned()
        }
    };
    if let Some(a) = attributes {
        let keep: Vec<String> = names(a).iter().map(|n| top(n)).collect();
        obj.retain(|k, _| {
            let k = k.to_ascii_lowercase();
            always.contains(&k.as_str()) || keep.contains(&k)
        });
    } else if let Some(x) = excluded {
        let drop = names(x);
        obj.retain(|k, _| {
            let k = k.to_ascii_lowercase();
            always.contains(&k.as_str()) || !drop.contains(&k)
        });
    }
    v
}

impl Scim<'_> {
    async fn open_attrs(&self, user: &User, s: &ScimUser) -> ScimResult<Map<String, Value>> {
        let Some(key) = self.data_key(&user.tenant, &user.id).await? else {
            return Ok(Map::new());
        };
        let plain = self.open_personal(&user.tenant, &user.id, &key, &s.attributes)?;
        serde_json::from_str(&plain)
            .map_err(|e| ScimError::from(crate::error::EngineError::Internal(e.to_string())))
    }

    async fn seal_attrs(
        &self,
        tenant: &TenantId,
        user: &UserId,
        attrs: &Map<String, Value>,
    ) -> ScimResult<String> {
        let key = self
            .data_key(tenant, user)
            .await?
            .ok_or_else(|| ScimError::not_found("User"))?;
        let plain = String::from_utf8(crate::json::to_vec(attrs))
            .map_err(|e| ScimError::from(crate::error::EngineError::Internal(e.to_string())))?;
        Ok(self.seal_personal(tenant, user, &key, &plain))
    }

    fn external_key(&self, tenant: &TenantId, external_id: &str) -> String {
        self.blind_index(tenant, &format!("scim-external-id\0{external_id}"))
    }

    /// Whether the caller may see this user: any user of the tenant for a tenant token,
    /// only the organisation's members for an organisation token.
    async fn in_scope(&self, caller: &ScimCaller, user: &UserId) -> ScimResult<bool> {
        match &caller.organization {
            None => Ok(true),
            Some(org) => Ok(self
                .rt()
                .store
                .get_membership(&caller.tenant, org, user)
                .await?
                .is_some()),
        }
    }

    async fn load(&self, caller: &ScimCaller, id: &UserId) -> ScimResult<Option<Current>> {
        let Some(user) = self.user(&caller.tenant, id).await? else {
            return Ok(None);
        };
        if !self.in_scope(caller, id).await? {
            return Ok(None);
        }
        let scim = self.rt().store.get_scim_user(&caller.tenant, id).await?;
        let attrs = match &scim {
            Some(s) => self.open_attrs(&user, s).await?,
            None => Map::new(),
        };
        Ok(Some(Current { user, scim, attrs }))
    }

    async fn current(&self, caller: &ScimCaller, id: &str) -> ScimResult<Current> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let found = if ok {
            self.load(caller, &UserId::from_stored(id.to_owned()))
                .await?
        } else {
            None
        };
        found.ok_or_else(|| ScimError::not_found("User"))
    }

    fn render(&self, tenant: &TenantId, cur: &Current) -> Versioned {
        let u = &cur.user;
        let mut o = Map::new();
        let mut schemas = vec![Value::String(USER.into())];
        o.insert("id".into(), Value::String(u.id.to_string()));
        o.insert(
            "userName".into(),
            Value::String(u.email.as_str().to_owned()),
        );
        for (k, v) in &cur.attrs {
            if k == ENTERPRISE {
                schemas.push(Value::String(ENTERPRISE.into()));
            }
            o.insert(k.clone(), v.clone());
        }
        if !o.contains_key("displayName")
            && let Some(n) = &u.name
        {
            o.insert("displayName".into(), Value::String(n.clone()));
        }
        if !o.contains_key("emails") {
            o.insert(
                "emails".into(),
                json!([{"value": u.email.as_str(), "primary": true}]),
            );
        }
        let active = cur.scim.as_ref().is_none_or(|s| s.active);
        o.insert("active".into(), Value::Bool(active));
        o.insert("schemas".into(), Value::Array(schemas));
        let version = cur.scim.as_ref().map_or(0, |s| s.version);
        let body = Value::Object(o);
        let etag = etag_of(&body, version);
        let location = format!("{}/Users/{}", self.base(tenant), u.id);
        let modified = cur.scim.as_ref().map_or(u.created_at, |s| s.updated_at);
        let mut body = body;
        if let Some(o) = body.as_object_mut() {
            o.insert(
                "meta".into(),
                json!({
                    "resourceType": "User",
                    "created": crate::oauth::assurance::iso8601(u.created_at),
                    "lastModified": crate::oauth::assurance::iso8601(modified),
                    "location": location,
                    "version": etag,
                }),
            );
        }
        Versioned {
            body,
            etag,
            location,
        }
    }

    /// An audit event by the caller about a user (no personal data: ids and flags).
    fn scim_event(
        &self,
        caller: &ScimCaller,
        kind: &str,
        user: &UserId,
        meta: &RequestMeta,
    ) -> crate::model::Event {
        let mut ev = self.event(&caller.tenant, kind, true);
        ev.actor = Some(caller.actor());
        ev.subject = Some(user.to_string());
        ev.ip = meta.ip.clone();
        ev
    }

    /// `GET /Users/{id}`.
    pub async fn get_user(&self, caller: &ScimCaller, id: &str) -> ScimResult<Versioned> {
        let cur = self.current(caller, id).await?;
        Ok(self.render(&caller.tenant, &cur))
    }

    /// `POST /Users`: creates a user (201). `userName` taken: 409 `uniqueness`.
    pub async fn create_user(
        &self,
        caller: &ScimCaller,
        body: &Value,
        meta: &RequestMeta,
    ) -> ScimResult<Versioned> {
        let tenant = &caller.tenant;
        self.tenant(tenant).await?;
        let d = desired(body)?;
        if self.user_by_email(tenant, &d.user_name).await?.is_some() {
            return Err(ScimError::uniqueness("userName is taken"));
        }
        let password_hash = match &d.password {
            Some(p) => {
                crate::runtime::password::check_policy(p)?;
                Some(self.rt().passwords.hash(p).await?)
            }
            None => None,
        };
        let now = self.now();
        let user = User {
            tenant: tenant.clone(),
            id: UserId::generate(),
            email: d.user_name.clone(),
            email_verified: false,
            name: d.display_name.clone(),
            profile: Default::default(),
            password_hash,
            created_at: now,
            deleted_at: None,
        };
        if let Err(e) = self.insert_new_user(&user).await {
            return Err(match e {
                crate::error::EngineError::Conflict(_) => {
                    ScimError::uniqueness("userName is taken")
                }
                e => e.into(),
            });
        }
        let record = ScimUser {
            tenant: tenant.clone(),
            user_id: user.id.clone(),
            active: d.active,
            version: 1,
            external_key: d
                .external_id
                .as_deref()
                .map(|x| self.external_key(tenant, x)),
            attributes: self.seal_attrs(tenant, &user.id, &d.attrs).await?,
            created_at: now,
            updated_at: now,
        };
        if !self.rt().store.put_scim_user(&record, None).await? {
            return Err(ScimError::uniqueness("the user was provisioned meanwhile"));
        }
        if let Some(org) = &caller.organization {
            let m = Membership {
                tenant: tenant.clone(),
                org_id: org.clone(),
                user_id: user.id.clone(),
                roles: Vec::new(),
                joined_at: now,
            };
            if !self.rt().store.put_membership(&m).await? {
                return Err(ScimError::not_found("organization"));
            }
        }
        let mut ev = self.scim_event(caller, "scim.user_created", &user.id, meta);
        ev.detail = Some(format!("active={}", d.active));
        self.record_now(ev).await?;
        let cur = Current {
            user,
            scim: Some(record),
            attrs: d.attrs,
        };
        Ok(self.render(tenant, &cur))
    }

    /// `PUT /Users/{id}`: replaces the user's attributes (those left out are removed;
    /// `password` is changed only when given).
    pub async fn replace_user(
        &self,
        caller: &ScimCaller,
        id: &str,
        body: &Value,
        pre: &Preconditions,
        meta: &RequestMeta,
    ) -> ScimResult<Versioned> {
        let cur = self.current(caller, id).await?;
        let now = self.render(&caller.tenant, &cur);
        check_if_match(pre, &now.etag)?;
        if let Some(given) = body.get("id").and_then(Value::as_str)
            && given != id
        {
            return Err(ScimError::bad(ScimType::Mutability, "id cannot be changed"));
        }
        self.write(caller, cur, desired(body)?, "scim.user_replaced", meta)
            .await
    }

    /// `PATCH /Users/{id}`: applies the operations to the user's representation, then
    /// stores the result as a PUT would (all or nothing).
    pub async fn patch_user(
        &self,
        caller: &ScimCaller,
        id: &str,
        req: &PatchRequest,
        pre: &Preconditions,
        meta: &RequestMeta,
    ) -> ScimResult<Versioned> {
        let cur = self.current(caller, id).await?;
        let now = self.render(&caller.tenant, &cur);
        check_if_match(pre, &now.etag)?;
        let mut body = now.body;
        patch::apply(&mut body, Resource::User, req)?;
        self.write(caller, cur, desired(&body)?, "scim.user_patched", meta)
            .await
    }

    async fn write(
        &self,
        caller: &ScimCaller,
        cur: Current,
        d: Desired,
        kind: &str,
        meta: &RequestMeta,
    ) -> ScimResult<Versioned> {
        let tenant = &caller.tenant;
        let mut user = cur.user.clone();
        let id = user.id.clone();
        let renamed = d.user_name != user.email;
        if renamed && self.user_by_email(tenant, &d.user_name).await?.is_some() {
            return Err(ScimError::uniqueness("userName is taken"));
        }
        let new_hash = match &d.password {
            Some(p) => {
                crate::runtime::password::check_policy(p)?;
                Some(self.rt().passwords.hash(p).await?)
            }
            None => None,
        };
        let was_active = cur.scim.as_ref().is_none_or(|s| s.active);
        let now = self.now();
        let expected = cur.scim.as_ref().map(|s| s.version);
        let record = ScimUser {
            tenant: tenant.clone(),
            user_id: id.clone(),
            active: d.active,
            version: expected.unwrap_or(0) + 1,
            external_key: d
                .external_id
                .as_deref()
                .map(|x| self.external_key(tenant, x)),
            attributes: self.seal_attrs(tenant, &id, &d.attrs).await?,
            created_at: cur.scim.as_ref().map_or(now, |s| s.created_at),
            updated_at: now,
        };
        // The SCIM record first, by compare-and-set: of two writers from one version,
        // one goes on and the other is told the resource changed. A deactivation is in
        // force (no new session) before the old ones are ended below.
        if !self.rt().store.put_scim_user(&record, expected).await? {
            return Err(ScimError::precondition());
        }
        user.name = d.display_name.clone();
        if let Some(h) = new_hash {
            user.password_hash = Some(h);
        }
        if renamed {
            let old_key = self.email_key(tenant, &user.email);
            user.email = d.user_name.clone();
            user.email_verified = false;
            let key = self
                .data_key(tenant, &id)
                .await?
                .ok_or_else(|| ScimError::not_found("User"))?;
            let sealed = self.seal_user(&user, &key);
            match self.rt().store.change_user_email(&sealed, &old_key).await {
                Ok(true) => {}
                Ok(false) => return Err(ScimError::not_found("User")),
                Err(crate::store::StoreError::Conflict) => {
                    return Err(ScimError::uniqueness("userName is taken"));
                }
                Err(e) => return Err(crate::error::EngineError::from(e).into()),
            }
        } else if user != cur.user && !self.save_user(&user).await? {
            return Err(ScimError::not_found("User"));
        }
        let mut ev = self.scim_event(caller, kind, &id, meta);
        ev.detail = Some(format!(
            "active={} renamed={} password={}",
            d.active,
            renamed,
            d.password.is_some()
        ));
        self.record_now(ev).await?;
        if was_active && !d.active {
            self.deprovision(caller, &id, meta).await?;
        }
        let cur = Current {
            user,
            scim: Some(record),
            attrs: d.attrs,
        };
        Ok(self.render(tenant, &cur))
    }

    /// Ends every session and refresh chain of a user SCIM turned off, at once (apps get
    /// back-channel logout tokens; access tokens of the chains introspect inactive).
    async fn deprovision(
        &self,
        caller: &ScimCaller,
        id: &UserId,
        meta: &RequestMeta,
    ) -> ScimResult<()> {
        let (sessions, chains) = self
            .signin()
            .sign_out_everywhere(&caller.tenant, id, meta)
            .await?;
        let mut ev = self.scim_event(caller, "scim.user_deactivated", id, meta);
        ev.detail = Some(format!("sessions={sessions} chains={chains}"));
        self.record_now(ev).await?;
        Ok(())
    }

    /// `DELETE /Users/{id}` (204). A tenant token deletes the account (the account
    /// deletion flow: sessions and chains revoked first, data key destroyed). An
    /// organisation token takes the user out of its organisation and ends their sessions
    /// and chains; the account itself is deleted only when it belongs to no other
    /// organisation.
    pub async fn delete_user(
        &self,
        caller: &ScimCaller,
        id: &str,
        pre: &Preconditions,
        meta: &RequestMeta,
    ) -> ScimResult<()> {
        let cur = self.current(caller, id).await?;
        let now = self.render(&caller.tenant, &cur);
        check_if_match(pre, &now.etag)?;
        let tenant = &caller.tenant;
        let uid = cur.user.id.clone();
        if let Some(org) = &caller.organization {
            let store = &self.rt().store;
            store.delete_membership(tenant, org, &uid).await?;
            let elsewhere = !store.list_user_memberships(tenant, &uid).await?.is_empty();
            if elsewhere {
                let ev = self.scim_event(caller, "scim.user_removed", &uid, meta);
                self.record_now(ev).await?;
                return self.deprovision(caller, &uid, meta).await;
            }
        }
        self.account()
            .delete_user(tenant, &uid, &caller.actor(), meta)
            .await?;
        self.rt().store.delete_scim_user(tenant, &uid).await?;
        let ev = self.scim_event(caller, "scim.user_deleted", &uid, meta);
        self.record_now(ev).await?;
        Ok(())
    }

    /// `GET /Users`: a page of the users that match the filter (all, without one),
    /// sorted if asked. `userName eq`, `externalId eq` and `id eq` filters are index
    /// reads; any other filter opens and checks every user in scope (a walk of the
    /// tenant's users, or of the organisation's members, decrypting each).
    pub async fn list_users(&self, caller: &ScimCaller, q: &ListQuery) -> ScimResult<Value> {
        let tenant = &caller.tenant;
        self.tenant(tenant).await?;
        let filter = match q.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(text) => {
                let f = Filter::parse(text)?;
                f.check(Resource::User)?;
                Some(f)
            }
            None => None,
        };
        let sort = match &q.sort_by {
            Some(s) => {
                let p = AttrPath::parse(s)
                    .ok_or_else(|| invalid(format!("sortBy {s:?} is not an attribute path")))?;
                p.resolve(Resource::User, ScimType::InvalidValue)?;
                Some(p)
            }
            None => None,
        };
        let descending = match q.sort_order.as_deref() {
            None => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(o) => return Err(invalid(format!("sortOrder {o:?}: ascending or descending"))),
        };
        let start = parse_int(q.start_index.as_deref(), "startIndex", 1)?.max(1);
        let count = parse_int(
            q.count.as_deref(),
            "count",
            i64::try_from(LIMITS.max_results).unwrap_or(200),
        )?
        .clamp(0, i64::try_from(LIMITS.max_results).unwrap_or(200));
        let (start, count) = (
            usize::try_from(start).unwrap_or(1),
            usize::try_from(count).unwrap_or(0),
        );

        // The matching users, as (sort key, id), in the walk's order.
        let mut hits: Vec<(Option<String>, UserId)> = Vec::new();
        let indexed = match &filter {
            Some(f) => self.indexed_candidates(caller, f).await?,
            None => None,
        };
        match indexed {
            Some(ids) => {
                for id in ids {
                    if let Some(cur) = self.load(caller, &id).await? {
                        let v = self.render(tenant, &cur).body;
                        if filter
                            .as_ref()
                            .is_none_or(|f| f.matches(Resource::User, &v))
                        {
                            hits.push((
                                sort.as_ref().and_then(|p| sort_key(Resource::User, &v, p)),
                                id,
                            ));
                        }
                    }
                }
            }
            None => {
                let mut after: Option<UserId> = None;
                loop {
                    let page = self.scope_page(caller, after.as_ref()).await?;
                    let Some(last) = page.last().map(|(id, _)| id.clone()) else {
                        break;
                    };
                    for (id, live) in page {
                        if !live {
                            continue;
                        }
                        if filter.is_none() && sort.is_none() {
                            hits.push((None, id));
                            continue;
                        }
                        if let Some(cur) = self.load(caller, &id).await? {
                            let v = self.render(tenant, &cur).body;
                            if filter
                                .as_ref()
                                .is_none_or(|f| f.matches(Resource::User, &v))
                            {
                                hits.push((
                                    sort.as_ref().and_then(|p| sort_key(Resource::User, &v, p)),
                                    id,
                                ));
                            }
                        }
                    }
                    after = Some(last);
                }
            }
        }
        if sort.is_some() {
            // Without a value last, either way (RFC 7644 §3.4.2.3).
            hits.sort_by(|(a, ia), (b, ib)| match (a, b) {
                (Some(a), Some(b)) if descending => b.cmp(a).then(ia.cmp(ib)),
                (Some(a), Some(b)) => a.cmp(b).then(ia.cmp(ib)),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => ia.cmp(ib),
            });
        }
        let total = hits.len();
        let mut resources = Vec::new();
        for (_, id) in hits.into_iter().skip(start - 1).take(count) {
            if let Some(cur) = self.load(caller, &id).await? {
                let v = self.render(tenant, &cur).body;
                resources.push(project(
                    v,
                    q.attributes.as_deref(),
                    q.excluded_attributes.as_deref(),
                ));
            }
        }
        Ok(list_response(total, start, resources))
    }

    /// The users an index can name for the whole filter, if it can.
    async fn indexed_candidates(
        &self,
        caller: &ScimCaller,
        f: &Filter,
    ) -> ScimResult<Option<Vec<UserId>>> {
        let tenant = &caller.tenant;
        if let Some(name) = f.equality_on("userName") {
            let Ok(email) = Email::parse(name.trim()) else {
                return Ok(Some(Vec::new()));
            };
            let key = self.email_key(tenant, &email);
            let found = self.rt().store.find_user_by_email(tenant, &key).await?;
            return Ok(Some(found.map(|r| r.id).into_iter().collect()));
        }
        if let Some(x) = f.equality_on("externalId") {
            let key = self.external_key(tenant, x);
            return Ok(Some(
                self.rt()
                    .store
                    .find_scim_users_by_external(tenant, &key)
                    .await?,
            ));
        }
        if let Some(id) = f.equality_on("id") {
            return Ok(Some(vec![UserId::from_stored(id.to_owned())]));
        }
        Ok(None)
    }

    /// One page of the users in the caller's scope, in a stable order: (id, not deleted).
    async fn scope_page(
        &self,
        caller: &ScimCaller,
        after: Option<&UserId>,
    ) -> ScimResult<Vec<(UserId, bool)>> {
        let store = &self.rt().store;
        Ok(match &caller.organization {
            None => store
                .list_users(&caller.tenant, after, PAGE)
                .await?
                .into_iter()
                .map(|r| (r.id, r.deleted_at.is_none()))
                .collect(),
            Some(org) => store
                .list_members(&caller.tenant, org, after, PAGE)
                .await?
                .into_iter()
                .map(|m| (m.user_id, true))
                .collect(),
        })
    }
}

fn parse_int(v: Option<&str>, name: &str, default: i64) -> ScimResult<i64> {
    match v {
        None => Ok(default),
        Some(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| invalid(format!("{name} must be an integer"))),
    }
}

fn check_if_match(pre: &Preconditions, etag: &str) -> ScimResult<()> {
    match &pre.if_match {
        Some(h) if !etag_matches(h, etag) => Err(ScimError::precondition()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_weakly_and_star_matches() {
        assert!(etag_matches("W/\"abc\"", "W/\"abc\""));
        assert!(etag_matches("\"abc\"", "W/\"abc\""));
        assert!(etag_matches("W/\"x\", W/\"abc\"", "W/\"abc\""));
        assert!(etag_matches("*", "W/\"abc\""));
        assert!(!etag_matches("W/\"abd\"", "W/\"abc\""));
    }

    #[test]
    fn desired_reads_the_login_id_and_keeps_known_attributes() {
        let d = desired(&json!({
            "schemas": [USER, ENTERPRISE], "userName": "B@X.in", "externalId": "e1",
            "active": false, "password": "pw", "bogus": 1, "id": "ignored",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            ENTERPRISE: {"department": "Tours", "nope": 2},
        }))
        .unwrap();
        assert_eq!(d.user_name.as_str(), "b@x.in");
        assert!(!d.active);
        assert_eq!(d.password.as_deref(), Some("pw"));
        assert_eq!(d.display_name.as_deref(), Some("Barbara Jensen"));
        assert_eq!(d.external_id.as_deref(), Some("e1"));
        assert!(!d.attrs.contains_key("bogus") && !d.attrs.contains_key("id"));
        assert_eq!(d.attrs[ENTERPRISE], json!({"department": "Tours"}));
        for (body, detail) in [
            (json!({"schemas": [USER]}), "userName is required"),
            (
                json!({"schemas": [USER], "userName": "bjensen"}),
                "userName must be an email address (it is the login id)",
            ),
            (
                json!({"schemas": [USER], "userName": "a@b.in", "emails": [{"value": "a@b.in", "primary": true}, {"value": "c@b.in", "primary": true}]}),
                "emails has more than one primary value",
            ),
            (
                json!({"schemas": [USER], "userName": "a@b.in", "active": 3}),
                "active must be a boolean",
            ),
        ] {
            let e = desired(&body).err().unwrap();
            assert_eq!(
                (e.scim_type, e.detail.as_str()),
                (Some(ScimType::InvalidValue), detail)
            );
        }
        let e = desired(&json!({"userName": "a@b.in"})).err().unwrap();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    }

    #[test]
    fn projection_keeps_id_schemas_meta() {
        let v = json!({"id": "1", "schemas": [], "meta": {}, "userName": "a", "emails": [], "name": {}});
        let p = project(v.clone(), Some("userName,name.givenName"), None);
        assert_eq!(
            p,
            json!({"id": "1", "schemas": [], "meta": {}, "userName": "a", "name": {}})
        );
        let p = project(v, None, Some("emails"));
        assert!(p.get("emails").is_none() && p.get("userName").is_some());
    }
}
