//! PATCH (RFC 7644 §3.5.2): `add`, `replace` and `remove` operations, with or without a
//! `path` (`attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, with a schema URN in
//! front for the enterprise extension), applied to a resource's JSON. The caller checks
//! the result as it checks a PUT, so a PATCH can never store what a PUT could not.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{ScimError, ScimResult, ScimType};
use crate::filter::{AttrPath, Filter, Op, get_ci};
use crate::schema::{Attr, Kind, Mutability, PATCH_OP, Resource};

/// Most operations in one PATCH request.
pub const MAX_OPERATIONS: usize = 100;

/// A PATCH request body.
#[derive(Clone, Debug, Deserialize)]
pub struct PatchRequest {
    /// Must name [`PATCH_OP`].
    #[serde(default)]
    pub schemas: Vec<String>,
    /// The operations, applied in order; all or nothing.
    #[serde(rename = "Operations", alias = "operations", default)]
    pub operations: Vec<PatchOperation>,
}

/// One operation.
#[derive(Clone, Debug, Deserialize)]
pub struct PatchOperation {
    /// `add`, `replace` or `remove` (any case: some clients send `Replace`).
    pub op: String,
    /// Where; absent for an `add`/`replace` of a whole object of attributes.
    #[serde(default)]
    pub path: Option<String>,
    /// What.
    #[serde(default)]
    pub value: Option<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind3 {
    Add,
    Replace,
    Remove,
}

/// A parsed `path`.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchPath {
    /// The attribute (`sub` set only without a filter).
    pub attr: AttrPath,
    /// The value filter in brackets.
    pub filter: Option<Filter>,
    /// The sub-attribute after the brackets.
    pub sub_after: Option<String>,
}

fn bad_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidPath, detail)
}

impl PatchPath {
    /// Parses and checks a path against the schema (`invalidPath` otherwise).
    pub fn parse(text: &str, resource: Resource) -> ScimResult<Self> {
        let text = text.trim();
        let (attr_text, filter, sub_after) = match text.find('[') {
            Some(open) => {
                let close = text
                    .rfind(']')
                    .filter(|c| *c > open)
                    .ok_or_else(|| bad_path(format!("{text:?} has an unclosed '['")))?;
                let inner = &text[open + 1..close];
                let f = Filter::parse(inner).map_err(|e| bad_path(e.detail))?;
                let rest = &text[close + 1..];
                let sub = match rest {
                    "" => None,
                    r => Some(
                        r.strip_prefix('.')
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| bad_path(format!("{text:?} is not a path")))?
                            .to_owned(),
                    ),
                };
                (&text[..open], Some(f), sub)
            }
            None => (text, None, None),
        };
        let attr = AttrPath::parse(attr_text)
            .ok_or_else(|| bad_path(format!("{text:?} is not an attribute path")))?;
        let (at, _) = attr.resolve(resource, ScimType::InvalidPath)?;
        if let Some(f) = &filter {
            if attr.sub.is_some() || !at.multi || !matches!(at.kind, Kind::Complex(_)) {
                return Err(bad_path(format!(
                    "{text:?}: a value filter needs a multi-valued complex attribute"
                )));
            }
            check_relative(f, at)?;
        }
        if let Some(s) = &sub_after
            && at.sub(s).is_none()
        {
            return Err(bad_path(format!("{} has no sub-attribute {s}", at.name)));
        }
        Ok(Self {
            attr,
            filter,
            sub_after,
        })
    }
}

fn check_relative(f: &Filter, parent: &Attr) -> ScimResult<()> {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_relative(a, parent)?;
            check_relative(b, parent)
        }
        Filter::Not(x) => check_relative(x, parent),
        Filter::Present(p) | Filter::Compare(p, _, _) => {
            if p.uri.is_some() || p.sub.is_some() || parent.sub(&p.attr).is_none() {
                return Err(bad_path(format!(
                    "{} has no sub-attribute {}",
                    parent.name,
                    p.display()
                )));
            }
            Ok(())
        }
        Filter::ValuePath(..) => Err(bad_path("value filters do not nest")),
    }
}

/// Applies a PATCH request to `resource` (a JSON object). All or nothing: on error,
/// `resource` is as it was.
pub fn apply(resource: &mut Value, kind: Resource, req: &PatchRequest) -> ScimResult<()> {
    if !req.schemas.iter().any(|s| s == PATCH_OP) {
        return Err(ScimError::bad(
            ScimType::InvalidSyntax,
            format!("schemas must be [\"{PATCH_OP}\"]"),
        ));
    }
    if req.operations.is_empty() {
        return Err(ScimError::bad(ScimType::InvalidSyntax, "no Operations"));
    }
    if req.operations.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(
            ScimType::TooMany,
            format!("at most {MAX_OPERATIONS} operations per PATCH"),
        ));
    }
    let mut work = resource.clone();
    for op in &req.operations {
        apply_one(&mut work, kind, op)?;
    }
    *resource = work;
    Ok(())
}

fn apply_one(res: &mut Value, kind: Resource, op: &PatchOperation) -> ScimResult<()> {
    let k = match op.op.to_ascii_lowercase().as_str() {
        "add" => Kind3::Add,
        "replace" => Kind3::Replace,
        "remove" => Kind3::Remove,
        other => {
            return Err(ScimError::bad(
                ScimType::InvalidSyntax,
                format!("unknown op {other:?}: add, replace or remove"),
            ));
        }
    };
    let value = op.value.clone().unwrap_or(Value::Null);
    match (&op.path, k) {
        (None, Kind3::Remove) => Err(ScimError::bad(ScimType::NoTarget, "remove needs a path")),
        (None, _) => {
            let Value::Object(m) = value else {
                return Err(ScimError::bad(
                    ScimType::InvalidValue,
                    "without a path, value must be an object of attributes",
                ));
            };
            for (name, v) in m {
                if name.len() > 4 && name[..4].eq_ignore_ascii_case("urn:") {
                    if name.eq_ignore_ascii_case(kind.schema()) || !v.is_object() {
                        // The core schema's attributes in a wrapper, or a full path.
                        if let Value::Object(inner) = &v {
                            for (n2, v2) in inner {
                                at_path(res, kind, k, &PatchPath::parse(n2, kind)?, v2.clone())?;
                            }
                            continue;
                        }
                        at_path(res, kind, k, &PatchPath::parse(&name, kind)?, v)?;
                        continue;
                    }
                    let Value::Object(inner) = v else { continue };
                    for (n2, v2) in inner {
                        let p = PatchPath::parse(&format!("{name}:{n2}"), kind)?;
                        at_path(res, kind, k, &p, v2)?;
                    }
                    continue;
                }
                if name.eq_ignore_ascii_case("schemas") {
                    continue;
                }
                at_path(res, kind, k, &PatchPath::parse(&name, kind)?, v)?;
            }
            Ok(())
        }
        (Some(p), _) => {
            let path = PatchPath::parse(p, kind)?;
            if k != Kind3::Remove && value.is_null() {
                return Err(ScimError::bad(
                    ScimType::InvalidValue,
                    format!("{} needs a value", op.op),
                ));
            }
            at_path(res, kind, k, &path, value)
        }
    }
}

fn mutability_err(name: &str) -> ScimError {
    ScimError::bad(ScimType::Mutability, format!("{name} cannot be changed"))
}

fn at_path(
    res: &mut Value,
    kind: Resource,
    k: Kind3,
    p: &PatchPath,
    value: Value,
) -> ScimResult<()> {
    let (at, sub) = p.attr.resolve(kind, ScimType::InvalidPath)?;
    let sub = match (&p.sub_after, sub) {
        (Some(s), _) => at.sub(s),
        (None, s) => s,
    };
    if at.mutability == Mutability::ReadOnly
        || sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
        || (at.mutability == Mutability::Immutable && k != Kind3::Add)
    {
        return Err(mutability_err(at.name));
    }
    // The object holding the attribute: the resource, or its extension's object.
    let root = res
        .as_object_mut()
        .ok_or_else(|| ScimError::status(500, "resource is not an object"))?;
    let holder: &mut Map<String, Value> = match &p.attr.uri {
        Some(u) if !u.eq_ignore_ascii_case(kind.schema()) => {
            let key = existing_key(root, u).unwrap_or_else(|| u.clone());
            let entry = root.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            entry
                .as_object_mut()
                .ok_or_else(|| ScimError::status(500, "extension is not an object"))?
        }
        _ => root,
    };
    let key = existing_key(holder, at.name).unwrap_or_else(|| at.name.to_owned());

    if let Some(filter) = &p.filter {
        let items = match holder.get_mut(&key) {
            Some(Value::Array(a)) => a,
            _ => {
                return match k {
                    Kind3::Add => add_new_element(holder, &key, filter, p, value),
                    _ => Err(ScimError::bad(
                        ScimType::NoTarget,
                        format!("no value of {} matches the filter", at.name),
                    )),
                };
            }
        };
        let hits: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, el)| filter.matches_element(el))
            .map(|(i, _)| i)
            .collect();
        if hits.is_empty() {
            return match k {
                Kind3::Add => add_new_element(holder, &key, filter, p, value),
                _ => Err(ScimError::bad(
                    ScimType::NoTarget,
                    format!("no value of {} matches the filter", at.name),
                )),
            };
        }
        match (k, &p.sub_after) {
            (Kind3::Remove, None) => {
                let mut i = 0;
                items.retain(|_| {
                    let keep = !hits.contains(&i);
                    i += 1;
                    keep
                });
                if items.is_empty() {
                    holder.remove(&key);
                }
            }
            (Kind3::Remove, Some(s)) => {
                for i in hits {
                    if let Some(Value::Object(el)) = items.get_mut(i)
                        && let Some(ek) = existing_key(el, s)
                    {
                        el.remove(&ek);
                    }
                }
            }
            (_, Some(s)) => {
                for i in hits {
                    if let Some(Value::Object(el)) = items.get_mut(i) {
                        let ek = existing_key(el, s).unwrap_or_else(|| s.clone());
                        el.insert(ek, value.clone());
                    }
                }
            }
            (_, None) => {
                for i in hits {
                    if let Some(el) = items.get_mut(i) {
                        match (&mut *el, &value) {
                            (Value::Object(e), Value::Object(v)) if k == Kind3::Add => {
                                for (vk, vv) in v {
                                    e.insert(vk.clone(), vv.clone());
                                }
                            }
                            _ => *el = value.clone(),
                        }
                    }
                }
            }
        }
        return Ok(());
    }

    if let Some(s) = &p.attr.sub {
        // `name.givenName`, or `emails.value` (every element).
        match (k, holder.get_mut(&key)) {
            (Kind3::Remove, Some(Value::Object(o))) => {
                if let Some(ek) = existing_key(o, s) {
                    o.remove(&ek);
                }
            }
            (Kind3::Remove, Some(Value::Array(a))) => {
                for el in a.iter_mut() {
                    if let Value::Object(o) = el
                        && let Some(ek) = existing_key(o, s)
                    {
                        o.remove(&ek);
                    }
                }
            }
            (Kind3::Remove, _) => {}
            (_, Some(Value::Array(a))) => {
                for el in a.iter_mut() {
                    if let Value::Object(o) = el {
                        let ek = existing_key(o, s).unwrap_or_else(|| s.clone());
                        o.insert(ek, value.clone());
                    }
                }
            }
            (_, Some(Value::Object(o))) => {
                let ek = existing_key(o, s).unwrap_or_else(|| s.clone());
                o.insert(ek, value);
            }
            (_, _) => {
                let mut o = Map::new();
                o.insert(s.clone(), value);
                holder.insert(key, Value::Object(o));
            }
        }
        return Ok(());
    }

    match k {
        Kind3::Remove => {
            holder.remove(&key);
        }
        Kind3::Replace => {
            holder.insert(key, value);
        }
        Kind3::Add if at.multi => {
            let new = match value {
                Value::Array(a) => a,
                v => vec![v],
            };
            match holder.get_mut(&key) {
                Some(Value::Array(a)) => {
                    for v in new {
                        if !a.contains(&v) {
                            a.push(v);
                        }
                    }
                }
                _ => {
                    holder.insert(key, Value::Array(new));
                }
            }
        }
        Kind3::Add => match (holder.get_mut(&key), value) {
            (Some(Value::Object(o)), Value::Object(v)) => {
                for (vk, vv) in v {
                    o.insert(vk, vv);
                }
            }
            (_, v) => {
                holder.insert(key, v);
            }
        },
    }
    Ok(())
}

/// `add` with a filter that matched nothing: a new element made of the filter's
/// equalities (`emails[type eq "work"].value` adds `{"type": "work", "value": ...}`), as
/// Entra ID expects; other filters have no target.
fn add_new_element(
    holder: &mut Map<String, Value>,
    key: &str,
    filter: &Filter,
    p: &PatchPath,
    value: Value,
) -> ScimResult<()> {
    let mut el = Map::new();
    if !equalities(filter, &mut el) {
        return Err(ScimError::bad(
            ScimType::NoTarget,
            "no value matches the filter, and it is not made of equalities to add one",
        ));
    }
    match (&p.sub_after, value) {
        (Some(s), v) => {
            el.insert(s.clone(), v);
        }
        (None, Value::Object(v)) => el.extend(v),
        (None, _) => {
            return Err(ScimError::bad(
                ScimType::InvalidValue,
                "value must be an object",
            ));
        }
    }
    match holder.get_mut(key) {
        Some(Value::Array(a)) => a.push(Value::Object(el)),
        _ => {
            holder.insert(key.to_owned(), Value::Array(vec![Value::Object(el)]));
        }
    }
    Ok(())
}

fn equalities(f: &Filter, out: &mut Map<String, Value>) -> bool {
    match f {
        Filter::Compare(p, Op::Eq, v) => {
            out.insert(p.attr.clone(), v.clone());
            true
        }
        Filter::And(a, b) => equalities(a, out) && equalities(b, out),
        _ => false,
    }
}

fn existing_key(m: &Map<String, Value>, name: &str) -> Option<String> {
    m.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Whether `v` is a PATCH body's value for `active` that turns the user off (clients send
/// `false` or `"False"`).
pub fn is_false(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::String(s) => s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

/// The value of `name` in an object, case-insensitively (re-exported for callers).
pub fn member<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    get_ci(v, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ENTERPRISE;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "id": "u1", "userName": "b@x.in", "active": true,
            "name": {"givenName": "Barbara"},
            "emails": [{"value": "b@x.in", "type": "work", "primary": true},
                       {"value": "b@home.in", "type": "home"}],
        })
    }

    fn run(ops: Value) -> ScimResult<Value> {
        let req: PatchRequest =
            serde_json::from_value(json!({"schemas": [PATCH_OP], "Operations": ops})).unwrap();
        let mut u = user();
        apply(&mut u, Resource::User, &req)?;
        Ok(u)
    }

    #[test]
    fn replace_add_remove_with_paths() {
        let u = run(json!([
            {"op": "Replace", "path": "active", "value": false},
            {"op": "add", "path": "name.familyName", "value": "Jensen"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "bj@x.in"},
            {"op": "remove", "path": "emails[type eq \"home\"]"},
            {"op": "add", "path": "phoneNumbers", "value": [{"value": "+919800000000", "type": "work"}]},
            {"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Tours"},
        ]))
        .unwrap();
        assert_eq!(u["active"], false);
        assert_eq!(
            u["name"],
            json!({"givenName": "Barbara", "familyName": "Jensen"})
        );
        assert_eq!(
            u["emails"],
            json!([{"value": "bj@x.in", "type": "work", "primary": true}])
        );
        assert_eq!(u["phoneNumbers"][0]["type"], "work");
        assert_eq!(u[ENTERPRISE]["department"], "Tours");
    }

    #[test]
    fn pathless_add_and_replace_merge_attributes() {
        let u = run(json!([
            {"op": "replace", "value": {"active": "False", "displayName": "BJ",
              ENTERPRISE: {"employeeNumber": "7"}}},
        ]))
        .unwrap();
        assert_eq!(u["active"], "False");
        assert!(is_false(&u["active"]));
        assert_eq!(u["displayName"], "BJ");
        assert_eq!(u[ENTERPRISE]["employeeNumber"], "7");
    }

    #[test]
    fn add_with_unmatched_equality_filter_adds_an_element() {
        let u = run(json!([
            {"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+919800000001"},
        ]))
        .unwrap();
        assert_eq!(
            u["phoneNumbers"],
            json!([{"type": "mobile", "value": "+919800000001"}])
        );
    }

    #[test]
    fn bad_paths_and_targets_change_nothing() {
        let cases = [
            (
                json!([{"op": "replace", "path": "bogus", "value": 1}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "name.bogus", "value": 1}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "emails[bogus eq \"x\"]", "value": {}}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq \"work\"", "value": {}}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "userName[type eq \"w\"]", "value": {}}]),
                ScimType::InvalidPath,
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq \"x\"].value", "value": "a"}]),
                ScimType::NoTarget,
            ),
            (json!([{"op": "remove"}]), ScimType::NoTarget),
            (
                json!([{"op": "replace", "path": "id", "value": "u2"}]),
                ScimType::Mutability,
            ),
            (
                json!([{"op": "replace", "path": "meta.version", "value": "x"}]),
                ScimType::Mutability,
            ),
            (
                json!([{"op": "move", "path": "active"}]),
                ScimType::InvalidSyntax,
            ),
            (
                json!([{"op": "replace", "path": "active"}]),
                ScimType::InvalidValue,
            ),
            (
                json!([{"op": "replace", "value": 3}]),
                ScimType::InvalidValue,
            ),
            (json!([]), ScimType::InvalidSyntax),
        ];
        for (ops, want) in cases {
            // A good first operation is undone by a bad second one.
            let mut all = vec![json!({"op": "replace", "path": "active", "value": false})];
            all.extend(ops.as_array().unwrap().iter().cloned());
            let ops_value = if ops.as_array().unwrap().is_empty() {
                ops.clone()
            } else {
                Value::Array(all)
            };
            let req: PatchRequest =
                serde_json::from_value(json!({"schemas": [PATCH_OP], "Operations": ops_value}))
                    .unwrap();
            let mut u = user();
            let e = apply(&mut u, Resource::User, &req).unwrap_err();
            assert_eq!(e.scim_type, Some(want), "{ops}: {}", e.detail);
            assert_eq!(u, user(), "{ops}");
        }
    }

    #[test]
    fn wrong_schema_is_invalid_syntax() {
        let req: PatchRequest = serde_json::from_value(
            json!({"schemas": ["x"], "Operations": [{"op": "remove", "path": "title"}]}),
        )
        .unwrap();
        let e = apply(&mut user(), Resource::User, &req).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    }
}
