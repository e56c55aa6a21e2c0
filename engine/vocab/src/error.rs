//! The engine's errors. Protocol failures carry the RFC's error code; everything else
//! says what went wrong in a way the gateway maps to exactly one HTTP answer.

use std::borrow::Cow;

/// OAuth 2.0 / OIDC error codes, as they go on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// RFC 6749 §4.1.2.1 / §5.2: the request is missing a parameter, repeats one or is malformed.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: the grant (code, refresh token, verifier) is invalid, expired or revoked.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1: the scope is invalid or unknown.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the resource owner denied the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: only `code` is supported.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: an unexpected condition.
    ServerError,
    /// RFC 6749 §4.1.2.1: overloaded or in maintenance; retry later.
    TemporarilyUnavailable,
    /// OIDC Core §3.1.2.6: `prompt=none` and no session.
    LoginRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` and consent is needed.
    ConsentRequired,
    /// The user must interact (a step-up), which `prompt=none` forbids (OIDC Core §3.1.2.6).
    InteractionRequired,
    /// RFC 6750 §3.1: the access token is invalid, expired or revoked.
    InvalidToken,
    /// RFC 6750 §3.1: the access token lacks a scope the resource needs (403).
    InsufficientScope,
    /// RFC 7009 §2.2.1: the token type cannot be revoked here.
    UnsupportedTokenType,
    /// RFC 8707 §2: the resource (or audience) is unknown, malformed or not allowed.
    InvalidTarget,
    /// RFC 8628 §3.5: the user has not yet approved or denied the device's request.
    AuthorizationPending,
    /// RFC 8628 §3.5: the device polls faster than its interval (now 5 s longer).
    SlowDown,
    /// RFC 8628 §3.5: the device code expired; the device must start again.
    ExpiredToken,
    /// RFC 9101 §6.3 (OIDC Core §3.1.2.6): the request object is invalid.
    InvalidRequestObject,
    /// RFC 9126 §4, RFC 9101 §6.3: the `request_uri` is unknown, expired, used or another client's.
    InvalidRequestUri,
    /// RFC 7591 §3.2.2: a redirect URI of a registration is not acceptable.
    InvalidRedirectUri,
    /// RFC 7591 §3.2.2: a field of a registration is invalid.
    InvalidClientMetadata,
    /// RFC 9449 §5, §7.1: the DPoP proof is missing, invalid, replayed or for another request.
    InvalidDpopProof,
    /// RFC 9449 §8, §9: a DPoP nonce is required; the `DPoP-Nonce` header has one.
    UseDpopNonce,
}

impl OAuthErrorCode {
    /// The code as it appears in `error=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidTarget => "invalid_target",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
        }
    }
}

/// A protocol error with a human-readable description safe to show the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// The wire code.
    pub code: OAuthErrorCode,
    /// `error_description`: never contains internals or secrets.
    pub description: Cow<'static, str>,
}

impl OAuthError {
    /// Builds an error.
    pub fn new(code: OAuthErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

/// Everything an engine call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A protocol error to render as RFC 6749 §5.2 JSON (or an error redirect).
    #[error("{0}")]
    OAuth(OAuthError),
    /// Credentials did not match. Deliberately says nothing about which part was wrong.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The named thing does not exist (in this tenant).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The named thing exists already.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// Bad input from an administrator or a form; the message is safe to show.
    #[error("{0}")]
    Invalid(String),
    /// A bounded queue is full: come back after the given number of seconds.
    #[error("overloaded")]
    Overloaded {
        /// Suggested `Retry-After`.
        retry_after_secs: u32,
    },
    /// Too many failed attempts: try again after the given number of seconds (429).
    #[error("too many attempts")]
    RateLimited {
        /// Suggested `Retry-After`.
        retry_after_secs: u64,
    },
    /// The store could not be reached or did not answer in time; nothing was changed
    /// that the caller was told about.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A credential change needs a recent sign-in: re-prove with the password or a factor.
    #[error("recent authentication required")]
    ReauthRequired,
    /// The tenant's data lives in a residency region this node does not serve (421).
    #[error("tenant is served in region {0}, not here")]
    WrongRegion(String),
    /// A bug or corrupt data. The text is for logs, never for the caller.
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// Shorthand for a protocol error.
    pub fn oauth(code: OAuthErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self::OAuth(OAuthError::new(code, description))
    }

    /// Input the caller can fix, with a message that says how.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }
}

impl EngineError {
    /// Whether a token endpoint should say `invalid_client` (with 401).
    pub fn is_invalid_client(&self) -> bool {
        matches!(self, EngineError::OAuth(e) if e.code == OAuthErrorCode::InvalidClient)
    }
}

/// Result alias.
pub type EngineResult<T> = Result<T, EngineError>;
