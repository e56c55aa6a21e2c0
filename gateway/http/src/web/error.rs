//! The one mapping from engine errors to HTTP: [`classify`] is the exhaustive match that
//! gives status, wire code and retry hint. OAuth and JSON endpoints answer it as RFC 6749
//! §5.2 JSON ([`ApiError`]); pages answer it as an error page ([`PageError`]). The
//! internal cause of a failure is logged, never sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use tollgate_engine::{EngineError, OAuthErrorCode as C};

use crate::web::html::error_page;

/// An error answered as OAuth JSON.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(pub EngineError);

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        Self(e)
    }
}

impl ApiError {
    /// An `invalid_request` error with a description.
    pub fn invalid_request(desc: impl Into<String>) -> Self {
        Self(EngineError::oauth(C::InvalidRequest, desc.into()))
    }
}

/// Status, wire code, description and retry hint of an engine error: exhaustive, so a
/// new error kind cannot be forgotten here.
pub fn classify(e: &EngineError) -> (StatusCode, &'static str, String, Option<u32>) {
    match e {
        EngineError::OAuth(o) => {
            let status = match o.code {
                C::InvalidClient | C::InvalidToken => StatusCode::UNAUTHORIZED,
                C::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
                C::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                C::InvalidRequest
                | C::InvalidGrant
                | C::UnauthorizedClient
                | C::UnsupportedGrantType
                | C::InvalidScope
                | C::AccessDenied
                | C::UnsupportedResponseType
                | C::LoginRequired
                | C::ConsentRequired
                | C::InteractionRequired
                | C::UnsupportedTokenType
                | C::InvalidTarget
                | C::AuthorizationPending
                | C::SlowDown
                | C::ExpiredToken
                | C::InvalidRequestObject
                | C::InvalidRequestUri
                | C::InvalidRedirectUri
                | C::InvalidClientMetadata
                | C::InvalidDpopProof
                | C::UseDpopNonce => StatusCode::BAD_REQUEST,
            };
            (status, o.code.as_str(), o.description.to_string(), None)
        }
        EngineError::InvalidCredentials => (
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "invalid credentials".into(),
            None,
        ),
        EngineError::NotFound(what) => (
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
            None,
        ),
        EngineError::Conflict(what) => (
            StatusCode::CONFLICT,
            "conflict",
            format!("{what} already exists"),
            None,
        ),
        EngineError::Invalid(msg) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            msg.clone(),
            None,
        ),
        EngineError::Overloaded { retry_after_secs } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the server is busy; retry shortly".into(),
            Some(*retry_after_secs),
        ),
        EngineError::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many failed attempts; retry later".into(),
            Some((*retry_after_secs).min(u32::MAX as u64) as u32),
        ),
        EngineError::Unavailable(cause) => {
            tracing::error!(%cause, "storage unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the server cannot reach its storage; retry shortly".into(),
                Some(2),
            )
        }
        EngineError::ReauthRequired => (
            StatusCode::FORBIDDEN,
            "reauth_required",
            "sign in again to change how you sign in".into(),
            None,
        ),
        EngineError::WrongRegion(region) => (
            StatusCode::MISDIRECTED_REQUEST,
            "invalid_request",
            format!(
                "this organisation's data is kept in region {region}, which this deployment does not serve"
            ),
            None,
        ),
        EngineError::Internal(cause) => {
            tracing::error!(%cause, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error".into(),
                None,
            )
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        classify(&self.0).0
    }

    fn error_response(&self) -> HttpResponse {
        oauth_json(classify(&self.0))
    }
}

/// An error at an OAuth protocol endpoint (token, revocation, introspection, userinfo):
/// answered with the codes RFC 6749 §5.2 and RFC 6750 register, never REST-style ones
/// (`not_found`, `conflict`, 421, 429) that clients cannot act on.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(pub EngineError);

impl From<EngineError> for ProtocolError {
    fn from(e: EngineError) -> Self {
        Self(e)
    }
}

impl From<ApiError> for ProtocolError {
    fn from(e: ApiError) -> Self {
        Self(e.0)
    }
}

/// [`classify`], kept to the protocol's registered codes.
pub fn classify_protocol(e: &EngineError) -> (StatusCode, &'static str, String, Option<u32>) {
    match e {
        EngineError::NotFound(what) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("{what} not found"),
            None,
        ),
        EngineError::WrongRegion(_) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "this organisation is not served by this deployment".into(),
            None,
        ),
        // A write that lost a race: the same request may well succeed again.
        EngineError::Conflict(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the request collided with another; retry".into(),
            Some(1),
        ),
        EngineError::RateLimited { retry_after_secs } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many requests; retry later".into(),
            Some((*retry_after_secs).min(u32::MAX as u64) as u32),
        ),
        other => classify(other),
    }
}

impl ResponseError for ProtocolError {
    fn status_code(&self) -> StatusCode {
        classify_protocol(&self.0).0
    }

    fn error_response(&self) -> HttpResponse {
        oauth_json(classify_protocol(&self.0))
    }
}

/// The RFC 6749 §5.2 JSON answer, with its headers.
fn oauth_json(
    (status, code, desc, retry): (StatusCode, &'static str, String, Option<u32>),
) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    r.insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(s) = retry {
        r.insert_header((header::RETRY_AFTER, s.to_string()));
    }
    match code {
        "invalid_client" => {
            r.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tollgate\""),
            ));
        }
        "invalid_token" => {
            let v = format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                desc.replace('"', "'")
            );
            if let Ok(v) = HeaderValue::from_str(&v) {
                r.insert_header((header::WWW_AUTHENTICATE, v));
            }
        }
        _ => {}
    }
    r.json(json!({"error": code, "error_description": desc}))
}

/// An error answered as an HTML page: handlers of hosted pages return it with `?`.
#[derive(Debug)]
pub enum PageError {
    /// An engine failure, shown through [`engine_error_page`].
    Engine(EngineError),
    /// A message safe to show, with its status.
    Message(StatusCode, String),
}

impl PageError {
    /// A 400 page with `msg`.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::Message(StatusCode::BAD_REQUEST, msg.into())
    }
}

impl From<EngineError> for PageError {
    fn from(e: EngineError) -> Self {
        Self::Engine(e)
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self::Engine(e.0)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Engine(e) => write!(f, "{e}"),
            Self::Message(_, m) => f.write_str(m),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Engine(e) => classify(e).0,
            Self::Message(s, _) => *s,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Engine(e) => engine_error_page(e),
            Self::Message(s, m) => error_page(*s, m),
        }
    }
}

/// The page for an engine error.
pub fn engine_error_page(e: &EngineError) -> HttpResponse {
    let (status, _code, desc, retry) = classify(e);
    let msg = match e {
        EngineError::NotFound(_) => "This sign-in address does not exist.".to_owned(),
        EngineError::Overloaded { .. } | EngineError::Unavailable(_) => {
            "We are very busy right now. Please try again in a moment.".to_owned()
        }
        EngineError::Internal(_) => "An unexpected error occurred. Please try again.".to_owned(),
        EngineError::RateLimited { retry_after_secs } => format!(
            "Too many failed sign-in attempts. Try again in about {} minute(s).",
            retry_after_secs.div_ceil(60)
        ),
        EngineError::ReauthRequired => {
            "For your security, confirm it's you before changing how you sign in.".to_owned()
        }
        EngineError::OAuth(_)
        | EngineError::InvalidCredentials
        | EngineError::Conflict(_)
        | EngineError::Invalid(_)
        | EngineError::WrongRegion(_) => desc,
    };
    let mut r = error_page(status, &msg);
    if let Some(s) = retry
        && let Ok(v) = header::HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body(e: EngineError) -> (StatusCode, serde_json::Value) {
        let r = ApiError(e).error_response();
        let s = r.status();
        (
            s,
            serde_json::from_slice(&to_bytes(r.into_body()).await.unwrap()).unwrap(),
        )
    }

    #[actix_web::test]
    async fn golden_oauth_error_json() {
        let (s, b) = body(EngineError::oauth(C::InvalidGrant, "code reused")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            b,
            json!({"error": "invalid_grant", "error_description": "code reused"})
        );
        let (s, b) = body(EngineError::oauth(
            C::InvalidClient,
            "client authentication failed",
        ))
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(b["error"], "invalid_client");
        let (s, b) = body(EngineError::Internal("secret db path /x".into())).await;
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            b,
            json!({"error": "server_error", "error_description": "internal error"})
        );
        let r = ApiError(EngineError::Overloaded {
            retry_after_secs: 1,
        })
        .error_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers().get("retry-after").unwrap(), "1");
    }
}
