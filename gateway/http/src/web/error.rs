//! The one mapping from engine errors to HTTP: [`classify`] is the exhaustive match that
//! gives status, wire code and retry hint. OAuth and JSON endpoints answer it as RFC 6749
//! §5.2 JSON ([`ApiError`]); pages answer it as an error page ([`PageError`]). The
//! internal cause of a failure is logged, never sent.
//!
//! An error page is made where no request is at hand (`ResponseError` has none), so it
//! carries what it says ([`ErrorPage`]) and [`render_page_errors`], around the tenant's
//! pages, shows it again in the reader's language and the tenant's look. The engine's
//! refusals are English text; those it is known to say ([`KNOWN`]) have messages.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use serde_json::json;
use tollgate_engine::{EngineError, OAuthErrorCode as C};
use tollgate_i18n::{Arg, Messages};

use crate::state::AppState;
use crate::web::view::{View, context};

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
                C::InsufficientScope => StatusCode::FORBIDDEN,
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

/// RFC 6750 §3.1: a valid token without the scope the resource needs, naming that scope
/// in the challenge.
pub fn insufficient_scope(scope: &str) -> HttpResponse {
    let desc = format!("the access token was not granted the {scope} scope");
    let mut r = HttpResponse::build(StatusCode::FORBIDDEN);
    r.insert_header((header::CACHE_CONTROL, "no-store"));
    let challenge = format!(
        "Bearer error=\"insufficient_scope\", scope=\"{scope}\", error_description=\"{desc}\""
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.insert_header((header::WWW_AUTHENTICATE, v));
    }
    r.json(json!({"error": "insufficient_scope", "error_description": desc}))
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
        // RFC 6750 §3: the challenge names the error.
        "invalid_token" | "insufficient_scope" => {
            let v = format!(
                "Bearer error=\"{code}\", error_description=\"{}\"",
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
    /// An engine failure, shown through [`ErrorText::of`].
    Engine(EngineError),
    /// English text safe to show (one of [`KNOWN`] is shown in the reader's language),
    /// with its status.
    Message(StatusCode, String),
    /// A catalogue message, with its status.
    Id(StatusCode, &'static str),
}

impl PageError {
    /// A 400 page with `msg`.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::Message(StatusCode::BAD_REQUEST, msg.into())
    }

    /// A 400 page with catalogue message `id`.
    pub fn bad_request_id(id: &'static str) -> Self {
        Self::Id(StatusCode::BAD_REQUEST, id)
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
            Self::Id(_, id) => f.write_str(id),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Engine(e) => classify(e).0,
            Self::Message(s, _) | Self::Id(s, _) => *s,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Engine(e) => engine_error_page(e),
            Self::Message(s, m) => error_page(*s, ErrorText::Text(m.clone()), None),
            Self::Id(s, id) => error_page(*s, ErrorText::id(id), None),
        }
    }
}

/// What an error page says.
#[derive(Clone, Debug)]
pub enum ErrorText {
    /// A catalogue message, with its arguments.
    Id(&'static str, Vec<(&'static str, Arg)>),
    /// English text from elsewhere (the engine's, a handler's): shown through its message
    /// when it is one of [`KNOWN`], as it is otherwise.
    Text(String),
}

impl ErrorText {
    /// Catalogue message `id`, without arguments.
    pub fn id(id: &'static str) -> Self {
        Self::Id(id, Vec::new())
    }

    /// What the page for engine error `e` says. The internal cause never shows.
    pub fn of(e: &EngineError) -> Self {
        match e {
            EngineError::NotFound(_) => Self::id("err-not-found"),
            EngineError::Overloaded { .. } | EngineError::Unavailable(_) => Self::id("err-busy"),
            EngineError::Internal(_) => Self::id("err-internal"),
            EngineError::RateLimited { retry_after_secs } => Self::Id(
                "err-rate-limited",
                vec![("minutes", Arg::from(retry_after_secs.div_ceil(60)))],
            ),
            EngineError::ReauthRequired => Self::id("err-reauth"),
            EngineError::WrongRegion(region) => Self::Id(
                "err-wrong-region",
                vec![("region", Arg::from(region.as_str()))],
            ),
            EngineError::InvalidCredentials => Self::id("err-invalid-credentials"),
            EngineError::OAuth(o) => Self::Text(o.description.to_string()),
            EngineError::Invalid(msg) => Self::Text(msg.clone()),
            EngineError::Conflict(what) => Self::Text(format!("{what} already exists")),
        }
    }

    /// The text in the language of `m`.
    pub fn show(&self, m: &Messages) -> String {
        match self {
            Self::Id(id, args) => m.get(id, args),
            Self::Text(text) => say(m, text),
        }
    }
}

/// The English texts pages show that come from elsewhere (the engine's refusals, the
/// OAuth descriptions of requests that cannot go back to the app, the shared web
/// helpers'), and their messages.
pub const KNOWN: &[(&str, &str)] = &[
    // account::children and model::children
    (
        tollgate_engine::account::children::CHILD_PENDING,
        "child-err-pending",
    ),
    (
        tollgate_engine::account::children::UNDER_AGE,
        "child-err-under-age",
    ),
    (
        tollgate_engine::account::children::BIRTHDATE_NEEDED,
        "child-err-birthdate-needed",
    ),
    (
        tollgate_engine::account::children::PARENT_EMAIL_NEEDED,
        "child-err-parent-needed",
    ),
    (
        tollgate_engine::account::children::PARENT_IS_CHILD,
        "child-err-parent-is-child",
    ),
    (
        tollgate_engine::account::children::BAD_LINK,
        "child-err-bad-link",
    ),
    (
        tollgate_engine::account::children::PARENT_NOT_ADULT,
        "child-err-parent-not-adult",
    ),
    (
        tollgate_engine::account::children::PARENT_IS_SELF,
        "child-err-parent-is-self",
    ),
    (
        tollgate_engine::account::children::PURPOSE_BARRED,
        "child-err-purpose-barred",
    ),
    (
        "The date of birth is not a valid date (YYYY-MM-DD).",
        "child-err-birthdate-invalid",
    ),
    (
        "The date of birth cannot be in the future.",
        "child-err-birthdate-future",
    ),
    (
        "The date of birth cannot be more than 130 years ago.",
        "child-err-birthdate-old",
    ),
    // crate::web
    ("This form expired. Please try again.", "form-expired"),
    (
        "This link expired. Go back to the application and try again.",
        "err-stale-link",
    ),
    // oauth::authorize
    ("The request has no client_id.", "err-no-client-id"),
    ("The client_id is not valid.", "err-bad-client-id"),
    (
        "The application (client_id) is not known.",
        "err-unknown-client",
    ),
    ("The request has no redirect_uri.", "err-no-redirect-uri"),
    (
        "The redirect_uri does not match any registered for this application.",
        "err-redirect-mismatch",
    ),
    (
        "client_id and redirect_uri may each appear once.",
        "err-two-targets",
    ),
    ("The application is no longer registered.", "err-app-gone"),
    // oauth::logout
    (
        "id_token_hint is not an ID token issued here",
        "err-logout-hint",
    ),
    (
        "client_id does not match the id_token_hint",
        "err-logout-client-mismatch",
    ),
    ("client_id is not valid", "err-logout-client-id"),
    (
        "post_logout_redirect_uri needs id_token_hint or client_id",
        "err-logout-uri-alone",
    ),
    (
        "post_logout_redirect_uri is not registered for this client",
        "err-logout-uri-unknown",
    ),
    // oauth::device
    (
        "This request expired or was already answered. Start again on your device.",
        "err-device-gone",
    ),
    // federation
    (
        "This is your only way to sign in. Set a password or add a passkey before removing it.",
        "err-last-method",
    ),
    (
        "This sign-in attempt expired or was already used. Go back to the application and start again.",
        "err-federation-expired",
    ),
    // account
    (
        "That is already your sign-in address.",
        "err-already-address",
    ),
    (
        "This code has expired or was already used. Ask for a new one.",
        "err-code-expired",
    ),
    (
        "This notice has changed since you opened the page. Please read it again.",
        "err-notice-changed",
    ),
    (
        "This purpose is needed to use the service. To stop it, delete your account.",
        "err-purpose-needed",
    ),
    (
        "Your current password is not correct.",
        "err-current-password",
    ),
    // signin
    (
        "This code or link has expired or was already used. Ask for a new one.",
        "err-code-link-expired",
    ),
    (
        "That code is not right. Check it and try again.",
        "err-code-not-right",
    ),
    (
        "That code is not valid. Check it and try again.",
        "err-code-not-valid",
    ),
    (
        "An account with this email address exists already. Sign in instead.",
        "err-account-exists",
    ),
    (
        "This sign-in step has expired or was used up. Start again from the sign-in page.",
        "err-step-expired",
    ),
    (
        "That way of confirming is not available here.",
        "err-confirm-unavailable",
    ),
    (
        "A second factor is required, but this organisation allows none that can be enrolled here. Contact its support.",
        "err-no-enrollable-factor",
    ),
    (
        "That way of signing in is not allowed here.",
        "err-method-not-allowed",
    ),
    (
        "This enrolment was already completed.",
        "err-enrolment-done",
    ),
    (
        "This enrolment has expired. Start again.",
        "err-enrolment-expired",
    ),
    (
        "This passkey request expired or was already used. Please try again.",
        "err-passkey-request-expired",
    ),
    (
        "That passkey could not be verified. Try again or use another way to sign in.",
        "err-passkey-unverified",
    ),
    (
        "This organisation does not use passkeys.",
        "err-passkeys-off",
    ),
    (
        "Passkeys are not set up on this server.",
        "err-passkeys-unset",
    ),
    (
        "The passkey response is malformed.",
        "err-passkey-malformed",
    ),
    (
        "This passkey could not be registered. Please try again.",
        "err-passkey-not-registered",
    ),
    (
        "This passkey is already registered.",
        "err-passkey-duplicate",
    ),
    ("There is no passkey on this account.", "err-no-passkey"),
];

/// `text` (English, from the engine or a handler) in the language of `m` when it is one
/// of [`KNOWN`]; as it is otherwise.
pub fn say(m: &Messages, text: &str) -> String {
    match KNOWN.iter().find(|(en, _)| *en == text) {
        Some((_, id)) => m.get(id, &[]),
        None => text.to_owned(),
    }
}

/// What an error page says, kept on its response for [`render_page_errors`].
#[derive(Clone, Debug)]
pub struct ErrorPage(pub ErrorText);

/// An error page saying `text`, with `status` and, if given, `Retry-After`. Under
/// `/{tenant}` it is shown in the reader's language and the tenant's look (by
/// [`render_page_errors`]); elsewhere it stays in English in the shipped look.
pub fn error_page(status: StatusCode, text: ErrorText, retry_after: Option<u32>) -> HttpResponse {
    let look = tollgate_ui::Look::shipped();
    let frame = tollgate_ui::Frame {
        messages: look.catalog().messages(tollgate_i18n::FALLBACK),
        tenant: String::new(),
        brand: String::new(),
        path: String::new(),
        keep: Vec::new(),
        globals: Default::default(),
    };
    let body = look.render(
        &frame,
        "error.html",
        context! { message => text.show(&frame.messages) },
    );
    let title = frame.messages.get("error-title", &[]);
    let mut r = crate::web::view::page_response(status, look.page(&frame, &title, body));
    if let Some(s) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r.extensions_mut().insert(ErrorPage(text));
    r
}

/// The page for an engine error.
pub fn engine_error_page(e: &EngineError) -> HttpResponse {
    let (status, _code, _desc, retry) = classify(e);
    error_page(status, ErrorText::of(e), retry)
}

/// The page saying `text` in the view's language and look.
pub fn view_error_page(v: &View, status: StatusCode, text: &ErrorText) -> HttpResponse {
    let message = text.show(v.messages());
    v.page(
        status,
        "error-title",
        v.render("error.html", context! { message }),
    )
}

/// Middleware of the `/{tenant}` scope: an error page (a response carrying [`ErrorPage`])
/// is rendered again with the request, in the reader's language (and the language of the
/// sign-in it interrupts) and the tenant's look. Status and headers stay as they were
/// (`Retry-After`, a cookie set before the error).
pub async fn render_page_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let marked = res.response().extensions().get::<ErrorPage>().cloned();
    let st = res.request().app_data::<web::Data<AppState>>().cloned();
    let (Some(ErrorPage(text)), Some(st)) = (marked, st) else {
        return Ok(res.map_into_left_body());
    };
    let raw = res
        .request()
        .match_info()
        .get("tenant")
        .unwrap_or_default()
        .to_owned();
    // An impossible tenant id is simply unknown (as `web::tenant` reads it).
    let tenant = match tollgate_engine::ids::TenantId::parse(&raw) {
        Ok(t) => st.engine.tenant(&t).await.ok(),
        Err(_) => None,
    };
    let (req, res) = res.into_parts();
    let v = match &tenant {
        Some(tenant) => {
            let tx = url::form_urlencoded::parse(req.query_string().as_bytes())
                .find(|(k, _)| k == "tx")
                .map(|(_, v)| v.into_owned());
            let areq = tx.and_then(|tx| st.engine.oauth().open_request(&tenant.id, &tx));
            View::new(&st, &req, tenant, areq.as_ref())
        }
        None => View::unknown_tenant(&st, &req, &raw),
    };
    // A page answering a form has no address to come back to in another language.
    let v = if req.method() == actix_web::http::Method::GET {
        v
    } else {
        v.switch_to(format!("/{raw}/login"), Vec::new())
    };
    let page = view_error_page(&v, res.status(), &text);
    let cookies: Vec<HeaderValue> = page
        .headers()
        .get_all(header::SET_COOKIE)
        .cloned()
        .collect();
    let mut res = res.set_body(page.into_body());
    for c in cookies {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(ServiceResponse::new(req, res).map_into_right_body())
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

    #[test]
    fn every_known_engine_text_has_its_message_in_english_and_hindi() {
        let catalog = tollgate_i18n::Catalog::shipped();
        let (en, hi) = (catalog.messages("en"), catalog.messages("hi"));
        for (text, id) in KNOWN {
            // English is the engine's own wording, so nothing changes for English readers.
            assert_eq!(say(&en, text), *text, "{id}");
            let hindi = say(&hi, text);
            assert!(hindi != *text && hindi != *id, "{id} has no Hindi: {hindi}");
        }
        assert_eq!(say(&hi, "something else"), "something else");
    }

    #[actix_web::test]
    async fn an_error_page_keeps_status_and_retry_after_and_says_what_happened() {
        let r = PageError::from(EngineError::RateLimited {
            retry_after_secs: 61,
        })
        .error_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers().get("retry-after").unwrap(), "61");
        assert!(r.extensions().get::<ErrorPage>().is_some());
        let html = String::from_utf8(to_bytes(r.into_body()).await.unwrap().to_vec()).unwrap();
        assert!(
            html.contains("Too many failed sign-in attempts. Try again in about 2 minutes."),
            "{html}"
        );
        let r = PageError::from(EngineError::Internal("secret db path /x".into())).error_response();
        let html = String::from_utf8(to_bytes(r.into_body()).await.unwrap().to_vec()).unwrap();
        assert!(!html.contains("secret") && html.contains("An unexpected error occurred."));
        let hi = tollgate_i18n::Catalog::shipped().messages("hi");
        let one = ErrorText::of(&EngineError::RateLimited {
            retry_after_secs: 30,
        });
        assert_eq!(
            one.show(&tollgate_i18n::Catalog::shipped().messages("en")),
            "Too many failed sign-in attempts. Try again in about 1 minute."
        );
        assert!(one.show(&hi).contains("1 मिनट"), "{}", one.show(&hi));
    }
}
