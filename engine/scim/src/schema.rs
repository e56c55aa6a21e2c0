//! The schemas Tollgate serves (RFC 7643 §4, §8.7): the core User and Group and the
//! enterprise-user extension, as one table of attributes from which the `/Schemas`
//! document is rendered and against which requests are checked (types, mutability,
//! case exactness in filters, PATCH paths).

use serde_json::{Map, Value, json};

/// The core User schema.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise-user extension (RFC 7643 §4.3).
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// List responses.
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// PATCH requests.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Bulk requests.
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// Bulk responses.
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// Search requests (`POST /.search`).
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// An attribute's type (RFC 7643 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `string`.
    Str,
    /// `boolean`.
    Bool,
    /// `reference`.
    Reference,
    /// `dateTime`.
    DateTime,
    /// `complex`, with these sub-attributes.
    Complex(&'static [Attr]),
}

/// Whether and how an attribute may change (RFC 7643 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    /// `readWrite`.
    ReadWrite,
    /// `readOnly`: set by the server.
    ReadOnly,
    /// `writeOnly`: never returned (`password`).
    WriteOnly,
    /// `immutable`.
    Immutable,
}

/// One attribute of a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr {
    /// Its name, as the RFC spells it (matched case-insensitively).
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Multi-valued.
    pub multi: bool,
    /// Must be present.
    pub required: bool,
    /// Compared case-sensitively.
    pub case_exact: bool,
    /// How it may change.
    pub mutability: Mutability,
    /// What it is.
    pub description: &'static str,
}

const fn a(name: &'static str, kind: Kind, description: &'static str) -> Attr {
    Attr {
        name,
        kind,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        description,
    }
}

const fn multi(mut at: Attr) -> Attr {
    at.multi = true;
    at
}

const fn mutability(mut at: Attr, m: Mutability) -> Attr {
    at.mutability = m;
    at
}

const fn exact(mut at: Attr) -> Attr {
    at.case_exact = true;
    at
}

const fn required(mut at: Attr) -> Attr {
    at.required = true;
    at
}

use Kind::{Bool, Complex, DateTime, Reference, Str};

const NAME: &[Attr] = &[
    a("formatted", Str, "The full name, formatted for display."),
    a("familyName", Str, "The family name."),
    a("givenName", Str, "The given name."),
    a("middleName", Str, "The middle name(s)."),
    a("honorificPrefix", Str, "Honorific prefix (Ms.)."),
    a("honorificSuffix", Str, "Honorific suffix (III)."),
];

const MULTI_VALUE: &[Attr] = &[
    a("value", Str, "The value."),
    a("display", Str, "A human-readable name."),
    a("type", Str, "A label (work, home, other)."),
    a("primary", Bool, "The primary value of the attribute."),
];

const ADDRESS: &[Attr] = &[
    a("formatted", Str, "The full address, formatted for display."),
    a("streetAddress", Str, "Street address."),
    a("locality", Str, "City or locality."),
    a("region", Str, "State or region."),
    a("postalCode", Str, "Postal code."),
    a("country", Str, "Country (ISO 3166-1 alpha-2)."),
    a("type", Str, "A label (work, home, other)."),
    a("primary", Bool, "The primary address."),
];

const GROUP_REF: &[Attr] = &[
    mutability(a("value", Str, "The group's id."), Mutability::ReadOnly),
    mutability(
        a("$ref", Reference, "The group's URI."),
        Mutability::ReadOnly,
    ),
    mutability(a("display", Str, "The group's name."), Mutability::ReadOnly),
    mutability(a("type", Str, "direct"), Mutability::ReadOnly),
];

const META: &[Attr] = &[
    a("resourceType", Str, "User or Group."),
    a("created", DateTime, "When the resource was created."),
    a("lastModified", DateTime, "When the resource last changed."),
    a("location", Reference, "The resource's URI."),
    exact(a("version", Str, "The resource's version (its ETag).")),
];

/// The core User schema's attributes (RFC 7643 §4.1), without `id`, `externalId` and
/// `meta`, which every resource has (see [`COMMON`]).
pub const USER_ATTRS: &[Attr] = &[
    required(a(
        "userName",
        Str,
        "The login id: an email address, unique in the tenant.",
    )),
    a("name", Complex(NAME), "The components of the user's name."),
    a("displayName", Str, "The name shown to people."),
    a("nickName", Str, "A casual name."),
    a("profileUrl", Reference, "A URL of the user's profile."),
    a("title", Str, "Job title."),
    a(
        "userType",
        Str,
        "Relation to the organisation (Employee, Contractor).",
    ),
    a(
        "preferredLanguage",
        Str,
        "Preferred language (RFC 7231 Accept-Language).",
    ),
    a("locale", Str, "Locale for formatting (en-IN)."),
    a("timezone", Str, "Time zone (Olson name)."),
    a(
        "active",
        Bool,
        "Whether the user may sign in. false signs the user out everywhere at once.",
    ),
    mutability(
        a(
            "password",
            Str,
            "A new password; hashed (argon2id), never returned.",
        ),
        Mutability::WriteOnly,
    ),
    multi(a("emails", Complex(MULTI_VALUE), "Email addresses.")),
    multi(a("phoneNumbers", Complex(MULTI_VALUE), "Phone numbers.")),
    multi(a(
        "ims",
        Complex(MULTI_VALUE),
        "Instant-messaging addresses.",
    )),
    multi(a("photos", Complex(MULTI_VALUE), "URLs of photos.")),
    multi(a("addresses", Complex(ADDRESS), "Physical addresses.")),
    multi(mutability(
        a(
            "groups",
            Complex(GROUP_REF),
            "The groups (roles) the user holds.",
        ),
        Mutability::ReadOnly,
    )),
    multi(a("entitlements", Complex(MULTI_VALUE), "Entitlements.")),
    multi(a(
        "roles",
        Complex(MULTI_VALUE),
        "Roles, as the client names them.",
    )),
];

const MANAGER: &[Attr] = &[
    a("value", Str, "The manager's id."),
    a("$ref", Reference, "The manager's URI."),
    mutability(
        a("displayName", Str, "The manager's name."),
        Mutability::ReadOnly,
    ),
];

/// The enterprise-user extension's attributes (RFC 7643 §4.3).
pub const ENTERPRISE_ATTRS: &[Attr] = &[
    a("employeeNumber", Str, "The employee number."),
    a("costCenter", Str, "The cost center."),
    a("organization", Str, "The organisation's name."),
    a("division", Str, "The division."),
    a("department", Str, "The department."),
    a("manager", Complex(MANAGER), "The user's manager."),
];

const MEMBER: &[Attr] = &[
    mutability(a("value", Str, "The member's id."), Mutability::Immutable),
    mutability(
        a("$ref", Reference, "The member's URI."),
        Mutability::Immutable,
    ),
    mutability(
        a("display", Str, "The member's name."),
        Mutability::ReadOnly,
    ),
    mutability(a("type", Str, "User"), Mutability::Immutable),
];

/// The core Group schema's attributes (RFC 7643 §4.2).
pub const GROUP_ATTRS: &[Attr] = &[
    required(a("displayName", Str, "The group's (role's) name.")),
    multi(a("members", Complex(MEMBER), "The users in the group.")),
];

/// Attributes every resource has (RFC 7643 §3.1).
pub const COMMON: &[Attr] = &[
    exact(mutability(
        a("id", Str, "The server's id of the resource."),
        Mutability::ReadOnly,
    )),
    exact(a(
        "externalId",
        Str,
        "The provisioning client's id of the resource.",
    )),
    mutability(
        a("meta", Complex(META), "Resource metadata."),
        Mutability::ReadOnly,
    ),
];

/// Which resource a path or filter is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// Users (with the enterprise extension).
    User,
    /// Groups.
    Group,
}

impl Resource {
    /// The core schema's URN.
    pub fn schema(self) -> &'static str {
        match self {
            Self::User => USER,
            Self::Group => GROUP,
        }
    }

    fn core(self) -> &'static [Attr] {
        match self {
            Self::User => USER_ATTRS,
            Self::Group => GROUP_ATTRS,
        }
    }

    /// The attribute a path names: `uri` is the schema (the core one when `None`),
    /// `name` the top-level attribute. `None` when the schema has no such attribute.
    pub fn attr(self, uri: Option<&str>, name: &str) -> Option<&'static Attr> {
        let table: &[&[Attr]] = match uri {
            None => &[COMMON, self.core()],
            Some(u) if u.eq_ignore_ascii_case(self.schema()) => &[COMMON, self.core()],
            Some(u) if self == Self::User && u.eq_ignore_ascii_case(ENTERPRISE) => {
                &[ENTERPRISE_ATTRS]
            }
            Some(_) => return None,
        };
        table
            .iter()
            .flat_map(|t| t.iter())
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

impl Attr {
    /// A sub-attribute of a complex attribute.
    pub fn sub(&self, name: &str) -> Option<&'static Attr> {
        match self.kind {
            Complex(subs) => subs.iter().find(|a| a.name.eq_ignore_ascii_case(name)),
            _ => None,
        }
    }

    fn type_name(&self) -> &'static str {
        match self.kind {
            Str => "string",
            Bool => "boolean",
            Reference => "reference",
            DateTime => "dateTime",
            Complex(_) => "complex",
        }
    }

    fn document(&self) -> Value {
        let mut d = json!({
            "name": self.name,
            "type": self.type_name(),
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": match self.mutability {
                Mutability::ReadWrite => "readWrite",
                Mutability::ReadOnly => "readOnly",
                Mutability::WriteOnly => "writeOnly",
                Mutability::Immutable => "immutable",
            },
            "returned": if self.mutability == Mutability::WriteOnly { "never" } else { "default" },
            "uniqueness": if self.name == "userName" || self.name == "id" { "server" } else { "none" },
        });
        if let (Complex(subs), Some(o)) = (self.kind, d.as_object_mut()) {
            o.insert(
                "subAttributes".into(),
                subs.iter().map(Attr::document).collect(),
            );
        }
        if self.kind == Reference
            && let Some(o) = d.as_object_mut()
        {
            o.insert("referenceTypes".into(), json!(["external", "uri"]));
        }
        d
    }
}

fn schema_document(base: &str, id: &str, name: &str, description: &str, attrs: &[Attr]) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attrs.iter().map(Attr::document).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}

/// The `/Schemas` resources. `base` is `{issuer}/scim/v2`.
pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        schema_document(base, USER, "User", "User account", USER_ATTRS),
        schema_document(
            base,
            ENTERPRISE,
            "EnterpriseUser",
            "Enterprise user",
            ENTERPRISE_ATTRS,
        ),
        schema_document(base, GROUP, "Group", "A role", GROUP_ATTRS),
    ]
}

/// The `/ResourceTypes` resources.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users",
            "description": "User account", "schema": USER,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups",
            "description": "A role", "schema": GROUP,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ]
}

/// The limits a server advertises in its `ServiceProviderConfig`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most operations in one Bulk request.
    pub bulk_max_operations: usize,
    /// Largest Bulk request body, bytes.
    pub bulk_max_payload: usize,
    /// Most resources in one list page.
    pub max_results: usize,
}

/// The `/ServiceProviderConfig` document.
pub fn service_provider_config(base: &str, docs: &str, limits: Limits) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": docs,
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": limits.bulk_max_operations,
            "maxPayloadSize": limits.bulk_max_payload,
        },
        "filter": {"supported": true, "maxResults": limits.max_results},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token of the tenant or of one organisation, made with the admin API or `tollgate admin scim-token create`.",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

/// Keeps only what `attrs` knows, checking each value's type: unknown attributes are
/// dropped (RFC 7644 §3.3: the server may ignore them), read-only ones are dropped (the
/// server sets them), a value of the wrong type is `Err` with the attribute's name.
pub fn sanitize(attrs: &[Attr], input: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (k, v) in input {
        let Some(at) = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(k)) else {
            continue;
        };
        if at.mutability == Mutability::ReadOnly || v.is_null() {
            continue;
        }
        let clean = if at.multi {
            let items = match v {
                Value::Array(items) => items.clone(),
                one => vec![one.clone()],
            };
            let mut clean = Vec::with_capacity(items.len());
            for it in &items {
                clean.push(single(at, it)?);
            }
            if clean.is_empty() {
                continue;
            }
            Value::Array(clean)
        } else {
            single(at, v)?
        };
        out.insert(at.name.to_owned(), clean);
    }
    Ok(out)
}

fn single(at: &Attr, v: &Value) -> Result<Value, String> {
    let wrong = || Err(format!("{} must be a {}", at.name, at.type_name()));
    match (at.kind, v) {
        (Str | Reference | DateTime, Value::String(s)) => Ok(Value::String(s.clone())),
        (Bool, Value::Bool(b)) => Ok(Value::Bool(*b)),
        // Some clients (Entra ID) send booleans as strings.
        (Bool, Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        (Bool, Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        (Complex(subs), Value::Object(m)) => Ok(Value::Object(sanitize(subs, m)?)),
        _ => wrong(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_case_insensitively_and_by_schema() {
        let r = Resource::User;
        assert_eq!(r.attr(None, "USERNAME").map(|a| a.name), Some("userName"));
        assert_eq!(r.attr(Some(USER), "emails").map(|a| a.multi), Some(true));
        assert!(r.attr(Some(ENTERPRISE), "department").is_some());
        assert!(r.attr(None, "department").is_none());
        assert!(r.attr(None, "nope").is_none());
        assert!(
            Resource::Group
                .attr(Some(ENTERPRISE), "department")
                .is_none()
        );
        let emails = r.attr(None, "emails").unwrap();
        assert_eq!(emails.sub("VALUE").map(|a| a.name), Some("value"));
    }

    #[test]
    fn sanitize_drops_unknown_and_read_only_and_checks_types() {
        let input = json!({"userName": "a@b.in", "bogus": 1, "groups": [{"value": "x"}],
            "active": "False", "emails": {"value": "a@b.in", "x": 1}});
        let clean = sanitize(USER_ATTRS, input.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(clean),
            json!({"userName": "a@b.in", "active": false, "emails": [{"value": "a@b.in"}]})
        );
        let bad = json!({"active": 3});
        assert_eq!(
            sanitize(USER_ATTRS, bad.as_object().unwrap()).unwrap_err(),
            "active must be a boolean"
        );
    }

    #[test]
    fn schema_documents_list_every_attribute() {
        let docs = schemas("https://x/t/scim/v2");
        assert_eq!(docs.len(), 3);
        let user = &docs[0];
        assert_eq!(user["id"], USER);
        let names: Vec<&str> = user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"userName") && names.contains(&"emails"));
        assert_eq!(user["attributes"][0]["uniqueness"], "server");
    }
}
