//! Filters (RFC 7644 §3.4.2.2): parsed into a [`Filter`], checked against a schema, and
//! evaluated on a resource's JSON. `not` binds tighter than `and`, which binds tighter
//! than `or`; parentheses group. A filter longer than [`MAX_LEN`] bytes, nested deeper
//! than [`MAX_DEPTH`] or with more than [`MAX_TERMS`] comparisons is refused
//! (`invalidFilter`) before any work is done for it.

use std::cmp::Ordering;

use serde_json::Value;

use crate::error::{ScimError, ScimResult, ScimType};
use crate::schema::{Attr, Kind, Resource};

/// Longest filter accepted, in bytes.
pub const MAX_LEN: usize = 2048;
/// Deepest nesting of parentheses, `not` and value paths.
pub const MAX_DEPTH: usize = 8;
/// Most comparisons in one filter.
pub const MAX_TERMS: usize = 32;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
}

impl Op {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }
}

/// An attribute path: `[schema ":"] attr ["." sub]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN, when given.
    pub uri: Option<String>,
    /// The top-level attribute.
    pub attr: String,
    /// A sub-attribute.
    pub sub: Option<String>,
}

impl AttrPath {
    /// Parses `text`; `None` when it is not a well-formed path.
    pub fn parse(text: &str) -> Option<Self> {
        let (uri, rest) = if text.len() > 4 && text[..4].eq_ignore_ascii_case("urn:") {
            let cut = text.rfind(':')?;
            (Some(text[..cut].to_owned()), &text[cut + 1..])
        } else {
            (None, text)
        };
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        let name_ok = |s: &str| {
            s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        if !name_ok(attr) || sub.is_some_and(|s| !name_ok(s)) {
            return None;
        }
        Some(Self {
            uri,
            attr: attr.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }

    /// The attribute (and sub-attribute) it names in `resource`'s schema, or
    /// `invalidFilter`/`invalidPath` (`kind`) when there is none.
    pub fn resolve(
        &self,
        resource: Resource,
        kind: ScimType,
    ) -> ScimResult<(&'static Attr, Option<&'static Attr>)> {
        let unknown = || ScimError::bad(kind, format!("no attribute {}", self.display()));
        let at = resource
            .attr(self.uri.as_deref(), &self.attr)
            .ok_or_else(unknown)?;
        let sub = match &self.sub {
            Some(s) => Some(at.sub(s).ok_or_else(unknown)?),
            None => None,
        };
        Ok((at, sub))
    }

    /// As written, for error messages.
    pub fn display(&self) -> String {
        let mut s = String::new();
        if let Some(u) = &self.uri {
            s.push_str(u);
            s.push(':');
        }
        s.push_str(&self.attr);
        if let Some(sub) = &self.sub {
            s.push('.');
            s.push_str(sub);
        }
        s
    }
}

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// It does not hold.
    Not(Box<Filter>),
    /// The attribute has a non-empty value.
    Present(AttrPath),
    /// The attribute compares to the value.
    Compare(AttrPath, Op, Value),
    /// Some element of a multi-valued attribute matches the inner filter, whose paths
    /// are relative to the element (`emails[type eq "work"]`).
    ValuePath(AttrPath, Box<Filter>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Lit(Value),
}

fn invalid(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidFilter, detail)
}

fn lex(text: &str) -> ScimResult<Vec<Tok>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push(Tok::Open);
                i += 1;
            }
            b')' => {
                out.push(Tok::Close);
                i += 1;
            }
            b'[' => {
                out.push(Tok::OpenBracket);
                i += 1;
            }
            b']' => {
                out.push(Tok::CloseBracket);
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() {
                    return Err(invalid("unterminated string"));
                }
                i += 1;
                let s: String = serde_json::from_str(&text[start..i])
                    .map_err(|_| invalid("malformed string"))?;
                out.push(Tok::Lit(Value::String(s)));
            }
            _ => {
                let start = i;
                while i < bytes.len() && !b" \t\n\r()[]\"".contains(&bytes[i]) {
                    i += 1;
                }
                out.push(Tok::Word(text[start..i].to_owned()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self, depth: usize) -> ScimResult<Filter> {
        let mut left = self.and(depth)?;
        while self.keyword("or") {
            self.at += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> ScimResult<Filter> {
        let mut left = self.unary(depth)?;
        while self.keyword("and") {
            self.at += 1;
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> ScimResult<Filter> {
        if depth >= MAX_DEPTH {
            return Err(invalid(format!(
                "the filter is nested more than {MAX_DEPTH} levels deep"
            )));
        }
        if self.keyword("not") {
            self.at += 1;
            if self.next() != Some(Tok::Open) {
                return Err(invalid("not must be followed by a parenthesised filter"));
            }
            let inner = self.or(depth + 1)?;
            self.expect(Tok::Close, "a closing parenthesis")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        match self.next() {
            Some(Tok::Open) => {
                let inner = self.or(depth + 1)?;
                self.expect(Tok::Close, "a closing parenthesis")?;
                Ok(inner)
            }
            Some(Tok::Word(w)) => self.attr_exp(&w, depth),
            Some(t) => Err(invalid(format!("unexpected {}", describe(&t)))),
            None => Err(invalid("the filter ends too early")),
        }
    }

    fn expect(&mut self, tok: Tok, what: &str) -> ScimResult<()> {
        match self.next() {
            Some(t) if t == tok => Ok(()),
            Some(t) => Err(invalid(format!("expected {what}, found {}", describe(&t)))),
            None => Err(invalid(format!("expected {what} at the end"))),
        }
    }

    fn attr_exp(&mut self, word: &str, depth: usize) -> ScimResult<Filter> {
        let path = AttrPath::parse(word)
            .ok_or_else(|| invalid(format!("{word:?} is not an attribute path")))?;
        if self.peek() == Some(&Tok::OpenBracket) {
            self.at += 1;
            if path.sub.is_some() {
                return Err(invalid(
                    "a value filter applies to an attribute, not a sub-attribute",
                ));
            }
            let inner = self.or(depth + 1)?;
            self.expect(Tok::CloseBracket, "a closing bracket")?;
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(invalid(format!(
                "the filter has more than {MAX_TERMS} comparisons"
            )));
        }
        let op = match self.next() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("pr") => return Ok(Filter::Present(path)),
            Some(Tok::Word(w)) => {
                Op::parse(&w).ok_or_else(|| invalid(format!("unknown operator {w:?}")))?
            }
            Some(t) => {
                return Err(invalid(format!(
                    "expected an operator, found {}",
                    describe(&t)
                )));
            }
            None => return Err(invalid("expected an operator at the end")),
        };
        let value = match self.next() {
            Some(Tok::Lit(v)) => v,
            Some(Tok::Word(w)) => match w.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                n => serde_json::from_str::<serde_json::Number>(n)
                    .map(Value::Number)
                    .map_err(|_| invalid(format!("{n:?} is not a value (strings are quoted)")))?,
            },
            Some(t) => return Err(invalid(format!("expected a value, found {}", describe(&t)))),
            None => return Err(invalid("expected a value at the end")),
        };
        Ok(Filter::Compare(path, op, value))
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Open => "'('".into(),
        Tok::Close => "')'".into(),
        Tok::OpenBracket => "'['".into(),
        Tok::CloseBracket => "']'".into(),
        Tok::Word(w) => format!("{w:?}"),
        Tok::Lit(v) => v.to_string(),
    }
}

impl Filter {
    /// Parses a filter, within the limits.
    pub fn parse(text: &str) -> ScimResult<Self> {
        if text.len() > MAX_LEN {
            return Err(invalid(format!(
                "the filter is longer than {MAX_LEN} bytes"
            )));
        }
        let mut p = Parser {
            toks: lex(text)?,
            at: 0,
            terms: 0,
        };
        let f = p.or(0)?;
        if let Some(t) = p.peek() {
            return Err(invalid(format!(
                "unexpected {} after the filter",
                describe(t)
            )));
        }
        Ok(f)
    }

    /// Checks every path against `resource`'s schema (`invalidFilter` for an unknown
    /// attribute, and for `password`, which is never compared).
    pub fn check(&self, resource: Resource) -> ScimResult<()> {
        self.check_in(resource, None)
    }

    fn check_in(&self, resource: Resource, parent: Option<&'static Attr>) -> ScimResult<()> {
        let path_ok = |p: &AttrPath| -> ScimResult<()> {
            match parent {
                Some(par) => {
                    if p.uri.is_some() || p.sub.is_some() || par.sub(&p.attr).is_none() {
                        return Err(invalid(format!(
                            "{} has no sub-attribute {}",
                            par.name,
                            p.display()
                        )));
                    }
                }
                None => {
                    let (at, _) = p.resolve(resource, ScimType::InvalidFilter)?;
                    if at.name == "password" {
                        return Err(ScimError::bad(
                            ScimType::InvalidFilter,
                            "password cannot be filtered on",
                        ));
                    }
                }
            }
            Ok(())
        };
        match self {
            Self::And(a, b) | Self::Or(a, b) => {
                a.check_in(resource, parent)?;
                b.check_in(resource, parent)
            }
            Self::Not(f) => f.check_in(resource, parent),
            Self::Present(p) | Self::Compare(p, _, _) => path_ok(p),
            Self::ValuePath(p, inner) => {
                if parent.is_some() {
                    return Err(invalid("value filters do not nest"));
                }
                path_ok(p)?;
                let (at, _) = p.resolve(resource, ScimType::InvalidFilter)?;
                if !matches!(at.kind, Kind::Complex(_)) {
                    return Err(invalid(format!("{} is not a complex attribute", at.name)));
                }
                inner.check_in(resource, Some(at))
            }
        }
    }

    /// The value an `attr eq "value"` filter compares to, when the whole filter is that
    /// (what an index can answer).
    pub fn equality_on(&self, attr: &str) -> Option<&str> {
        match self {
            Self::Compare(p, Op::Eq, Value::String(s))
                if p.sub.is_none() && p.attr.eq_ignore_ascii_case(attr) =>
            {
                Some(s)
            }
            _ => None,
        }
    }

    /// Whether `resource` (its JSON representation) matches.
    pub fn matches(&self, kind: Resource, resource: &Value) -> bool {
        match self {
            Self::And(a, b) => a.matches(kind, resource) && b.matches(kind, resource),
            Self::Or(a, b) => a.matches(kind, resource) || b.matches(kind, resource),
            Self::Not(f) => !f.matches(kind, resource),
            Self::Present(p) => values(kind, resource, p).iter().any(|v| present(v)),
            Self::Compare(p, op, want) => {
                let exact = case_exact(kind, p);
                let vals = values(kind, resource, p);
                match op {
                    Op::Ne => !vals.iter().any(|v| compare(v, Op::Eq, want, exact)),
                    _ => vals.iter().any(|v| compare(v, *op, want, exact)),
                }
            }
            Self::ValuePath(p, inner) => match top_value(kind, resource, p) {
                Some(Value::Array(items)) => items.iter().any(|el| inner.matches_element(el)),
                Some(el) => inner.matches_element(el),
                None => false,
            },
        }
    }

    /// Whether one element of a multi-valued complex attribute matches (paths relative).
    pub fn matches_element(&self, el: &Value) -> bool {
        match self {
            Self::And(a, b) => a.matches_element(el) && b.matches_element(el),
            Self::Or(a, b) => a.matches_element(el) || b.matches_element(el),
            Self::Not(f) => !f.matches_element(el),
            Self::Present(p) => get_ci(el, &p.attr).is_some_and(present),
            Self::Compare(p, op, want) => {
                let v = get_ci(el, &p.attr).unwrap_or(&Value::Null);
                match op {
                    Op::Ne => !compare(v, Op::Eq, want, false),
                    _ => compare(v, *op, want, false),
                }
            }
            Self::ValuePath(..) => false,
        }
    }
}

fn case_exact(kind: Resource, p: &AttrPath) -> bool {
    match p.resolve(kind, ScimType::InvalidFilter) {
        Ok((_, Some(sub))) => sub.case_exact,
        Ok((at, None)) => at.case_exact,
        Err(_) => false,
    }
}

/// A member of a JSON object, its name matched case-insensitively.
pub fn get_ci<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The values a path reaches in a resource: multi-valued attributes are flattened, and a
/// complex element without a sub-attribute stands for its `value`.
pub fn values<'v>(kind: Resource, resource: &'v Value, p: &AttrPath) -> Vec<&'v Value> {
    let Some(top) = top_value(kind, resource, p) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match top {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    items
        .into_iter()
        .filter_map(|it| match (&p.sub, it) {
            (Some(s), v) => get_ci(v, s),
            (None, Value::Object(_)) => get_ci(it, "value"),
            (None, v) => Some(v),
        })
        .collect()
}

/// The top-level attribute a path names, as stored (in its extension's object if the
/// path names one).
fn top_value<'v>(kind: Resource, resource: &'v Value, p: &AttrPath) -> Option<&'v Value> {
    let container = match &p.uri {
        Some(u) if !u.eq_ignore_ascii_case(kind.schema()) => get_ci(resource, u)?,
        _ => resource,
    };
    get_ci(container, &p.attr)
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(have: &Value, op: Op, want: &Value, exact: bool) -> bool {
    match (have, want) {
        (Value::String(h), Value::String(w)) => {
            let (h, w) = if exact {
                (h.clone(), w.clone())
            } else {
                (h.to_lowercase(), w.to_lowercase())
            };
            match op {
                Op::Eq => h == w,
                Op::Ne => h != w,
                Op::Co => h.contains(&w),
                Op::Sw => h.starts_with(&w),
                Op::Ew => h.ends_with(&w),
                Op::Gt => h > w,
                Op::Ge => h >= w,
                Op::Lt => h < w,
                Op::Le => h <= w,
            }
        }
        (Value::Bool(h), Value::Bool(w)) => match op {
            Op::Eq => h == w,
            Op::Ne => h != w,
            _ => false,
        },
        (Value::Number(h), Value::Number(w)) => {
            let (Some(h), Some(w)) = (h.as_f64(), w.as_f64()) else {
                return false;
            };
            let ord = h.partial_cmp(&w);
            match op {
                Op::Eq => ord == Some(Ordering::Equal),
                Op::Ne => ord != Some(Ordering::Equal),
                Op::Gt => ord == Some(Ordering::Greater),
                Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                Op::Lt => ord == Some(Ordering::Less),
                Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                Op::Co | Op::Sw | Op::Ew => false,
            }
        }
        (Value::Null, Value::Null) => op == Op::Eq,
        _ => false,
    }
}

/// The key a resource sorts by for `sortBy` (its first value at the path, lower-cased
/// unless case-exact); resources without one sort last either way (RFC 7644 §3.4.2.3).
pub fn sort_key(kind: Resource, resource: &Value, p: &AttrPath) -> Option<String> {
    let exact = case_exact(kind, p);
    let v = values(kind, resource, p).into_iter().next()?;
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => return None,
        other => other.to_string(),
    };
    Some(if exact { s } else { s.to_lowercase() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": [crate::schema::USER, crate::schema::ENTERPRISE],
            "id": "u1", "userName": "Bjensen@Example.com", "externalId": "E-1",
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "active": true, "title": "Tour Guide",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                       {"value": "babs@jensen.org", "type": "home"}],
            "meta": {"lastModified": "2026-12-01T10:00:00Z"},
            crate::schema::ENTERPRISE: {"employeeNumber": "701984", "department": "Tours"},
        })
    }

    fn m(f: &str) -> bool {
        let f = Filter::parse(f).unwrap();
        f.check(Resource::User).unwrap();
        f.matches(Resource::User, &user())
    }

    #[test]
    fn rfc_examples_match() {
        assert!(m(r#"userName eq "bjensen@example.com""#));
        assert!(m(r#"name.familyName co "ens""#));
        assert!(m(r#"userName sw "B""#));
        assert!(m(r#"userName ew ".COM""#));
        assert!(m("title pr"));
        assert!(!m("nickName pr"));
        assert!(m(r#"meta.lastModified gt "2026-11-01T00:00:00Z""#));
        assert!(m(r#"meta.lastModified ge "2026-12-01T10:00:00Z""#));
        assert!(!m(r#"meta.lastModified lt "2026-11-01T00:00:00Z""#));
        assert!(m(r#"meta.lastModified le "2026-12-01T10:00:00Z""#));
        assert!(m(r#"title pr and userType pr or active eq true"#));
        assert!(m(
            r#"userType eq "Employee" or (emails co "example.com" and active eq true)"#
        ));
        assert!(m(r#"emails[type eq "work" and value co "@example.com"]"#));
        assert!(!m(r#"emails[type eq "work" and value co "@jensen.org"]"#));
        assert!(m(r#"not (userName eq "other@x.in")"#));
        assert!(m(r#"userName ne "other@x.in""#));
        assert!(m(r#"emails.type eq "home""#));
        assert!(m(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tours""#
        ));
        assert!(m(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#
        ));
    }

    #[test]
    fn case_exact_attributes_compare_exactly() {
        assert!(m(r#"externalId eq "E-1""#));
        assert!(!m(r#"externalId eq "e-1""#));
        assert!(m(r#"id eq "u1""#));
    }

    #[test]
    fn precedence_not_and_or() {
        // and binds tighter: false and false or true = true
        assert!(m(r#"nickName pr and title pr or active eq true"#));
        // not (a) and b
        assert!(!m(r#"not (active eq true) and title pr"#));
    }

    #[test]
    fn malformed_filters_are_invalid_filter() {
        for bad in [
            "",
            "userName",
            "userName eq",
            r#"userName eq "x" and"#,
            r#"userName xx "x""#,
            r#"userName eq "x"#,
            r#"(userName eq "x""#,
            r#"userName eq "x")"#,
            r#"userName eq bare"#,
            r#"emails[type eq "work""#,
            r#"not userName eq "x""#,
            r#"1abc eq "x""#,
        ] {
            let e = Filter::parse(bad).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{bad}");
            assert_eq!(e.status, 400);
        }
    }

    #[test]
    fn unknown_attributes_and_password_are_refused() {
        for bad in [
            r#"bogus eq "x""#,
            r#"name.bogus eq "x""#,
            r#"password eq "x""#,
            r#"emails[bogus eq "x"]"#,
            r#"userName[value eq "x"]"#,
            r#"urn:example:other:2.0:User:department eq "x""#,
        ] {
            let f = Filter::parse(bad).unwrap();
            let e = f.check(Resource::User).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{bad}");
        }
    }

    #[test]
    fn limits_refuse_deep_long_and_wide_filters() {
        let deep = format!(
            "{}title pr{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        let e = Filter::parse(&deep).unwrap_err();
        assert!(e.detail.contains("nested"), "{}", e.detail);
        let ok = format!(
            "{}title pr{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        assert!(Filter::parse(&ok).is_ok());
        let nots = format!(
            "{}title pr{}",
            "not (".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(Filter::parse(&nots).unwrap_err().detail.contains("nested"));
        let long = format!(r#"userName eq "{}""#, "a".repeat(MAX_LEN));
        assert!(Filter::parse(&long).unwrap_err().detail.contains("longer"));
        let wide = vec!["title pr"; MAX_TERMS + 1].join(" or ");
        assert!(
            Filter::parse(&wide)
                .unwrap_err()
                .detail
                .contains("comparisons")
        );
    }

    #[test]
    fn equality_is_recognised_for_indexes() {
        let f = Filter::parse(r#"UserName eq "a@b.in""#).unwrap();
        assert_eq!(f.equality_on("userName"), Some("a@b.in"));
        let f = Filter::parse(r#"userName eq "a@b.in" and active eq true"#).unwrap();
        assert_eq!(f.equality_on("userName"), None);
    }

    #[test]
    fn sort_keys() {
        let p = AttrPath::parse("name.familyName").unwrap();
        assert_eq!(
            sort_key(Resource::User, &user(), &p).as_deref(),
            Some("jensen")
        );
        let p = AttrPath::parse("nickName").unwrap();
        assert_eq!(sort_key(Resource::User, &user(), &p), None);
    }
}
