//! SCIM errors (RFC 7644 §3.12): an HTTP status, a `scimType` where the RFC names one,
//! and a detail for the client. Never an internal cause.

use serde_json::{Value, json};

/// The error message schema.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` values of RFC 7644 §3.12, table 9.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScimType {
    /// The filter syntax was invalid or names an unsupported comparison.
    InvalidFilter,
    /// The filter yields more results than the server will compute.
    TooMany,
    /// A unique attribute's value is taken (`userName`).
    Uniqueness,
    /// The change would modify a read-only or immutable attribute.
    Mutability,
    /// The request body cannot be parsed or violates the schema.
    InvalidSyntax,
    /// The PATCH `path` is invalid or names an attribute the schema does not have.
    InvalidPath,
    /// The PATCH `path` matched nothing (or a `remove` has no path).
    NoTarget,
    /// A value is missing, of the wrong type or otherwise unacceptable.
    InvalidValue,
    /// The SCIM protocol version is not supported.
    InvalidVers,
    /// The request would reveal data it should not (filters on `password`).
    Sensitive,
}

impl ScimType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
        }
    }
}

/// A SCIM error response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {}: {detail}", scim_type.map(ScimType::as_str).unwrap_or("-"))]
pub struct ScimError {
    /// The HTTP status.
    pub status: u16,
    /// The `scimType`, for 400 and 409 errors that have one.
    pub scim_type: Option<ScimType>,
    /// Human-readable, for the client's operator; never an internal cause.
    pub detail: String,
    /// `Retry-After`, seconds, for 429 and 503.
    pub retry_after: Option<u64>,
    /// What went wrong inside, for the logs only (never in the response).
    pub cause: Option<String>,
}

impl ScimError {
    /// A 400 with a `scimType`.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            scim_type: Some(scim_type),
            detail: detail.into(),
            retry_after: None,
            cause: None,
        }
    }

    /// Any status, with no `scimType`.
    pub fn status(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type: None,
            detail: detail.into(),
            retry_after: None,
            cause: None,
        }
    }

    /// 404: no such resource.
    pub fn not_found(what: &str) -> Self {
        Self::status(404, format!("{what} not found"))
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self {
            status: 409,
            scim_type: Some(ScimType::Uniqueness),
            detail: detail.into(),
            retry_after: None,
            cause: None,
        }
    }

    /// 412: the `If-Match` version is not the resource's.
    pub fn precondition() -> Self {
        Self::status(
            412,
            "the resource changed: its version is not the one in If-Match",
        )
    }

    /// The error document.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(o)) = (self.scim_type, v.as_object_mut()) {
            o.insert("scimType".into(), Value::String(t.as_str().into()));
        }
        v
    }
}

/// Result alias.
pub type ScimResult<T> = Result<T, ScimError>;

/// `?` turns a store failure into a SCIM error, as the engine's error would.
impl From<tollgate_store::StoreError> for ScimError {
    fn from(e: tollgate_store::StoreError) -> Self {
        tollgate_vocab::error::EngineError::from(e).into()
    }
}

/// `?` turns an engine failure into a SCIM error: what the caller may learn, with the
/// cause kept for the logs.
impl From<tollgate_vocab::error::EngineError> for ScimError {
    fn from(e: tollgate_vocab::error::EngineError) -> Self {
        use tollgate_vocab::error::EngineError as E;
        let internal = |status: u16, detail: &str, cause: String| Self {
            cause: Some(cause),
            ..Self::status(status, detail)
        };
        match e {
            E::NotFound(what) => Self::status(404, format!("{what} not found")),
            E::Conflict(what) => Self::uniqueness(format!("the {what} exists already")),
            E::Invalid(m) => Self::bad(ScimType::InvalidValue, m),
            E::OAuth(o) => Self::bad(ScimType::InvalidValue, o.description.to_string()),
            E::InvalidCredentials | E::ReauthRequired => {
                Self::status(401, "a valid SCIM bearer token is required")
            }
            E::Overloaded { retry_after_secs } => Self {
                retry_after: Some(u64::from(retry_after_secs)),
                ..Self::status(503, "overloaded: try again shortly")
            },
            E::RateLimited { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs),
                ..Self::status(429, "too many requests")
            },
            E::Unavailable(m) => internal(503, "storage unavailable: try again shortly", m),
            E::WrongRegion(r) => internal(421, "this tenant is served in another region", r),
            E::Internal(m) => internal(500, "internal error", m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_document_has_status_as_string_and_scim_type() {
        let e = ScimError::bad(ScimType::InvalidFilter, "bad");
        assert_eq!(
            e.to_json(),
            json!({"schemas": [ERROR_SCHEMA], "status": "400", "scimType": "invalidFilter", "detail": "bad"})
        );
        let e = ScimError::not_found("User");
        assert!(e.to_json().get("scimType").is_none());
    }
}
