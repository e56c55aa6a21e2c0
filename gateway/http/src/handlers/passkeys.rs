//! Passkeys on the hosted pages: the JSON endpoints the ceremonies call from
//! `/assets/passkeys.js`, the script itself, the page after sign-up that offers a
//! passkey, and renaming. The HTML blocks other pages embed are in
//! [`crate::pages::passkeys`].
//!
//! The JSON endpoints are CSRF-protected like the forms: the page's CSRF token travels in
//! the `X-CSRF-Token` header and is checked against the CSRF cookie. Errors are JSON
//! (`error`, `error_description`), never a panic: bodies are size-limited and parsed
//! leniently, and webauthn-rs verifies what is inside.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use serde_json::{Value, json};
use tollgate_engine::EngineError;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::FactorKind;
use tollgate_engine::model::signin::NewSession;
use tollgate_engine::oauth::authorize::AuthRequest;
use tollgate_engine::signin::mfa::Completed;
use tollgate_engine::signin::passkeys::Ceremony;

use crate::journey::{continue_url, next_after_sign_in};
use crate::pages::passkeys as pages;
use crate::pages::portal::saved_locale;
use crate::state::AppState;
use crate::web::cookies::{CSRF_COOKIE, SESSION_COOKIE};
use crate::web::csrf::{session_cookie, view_form_page};
use crate::web::error::{ApiError, PageError};
use crate::web::form::account_form;
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::{current_session, reauth_url};
use crate::web::tenant::{tenant, tenant_id};
use crate::web::tx::{TxQuery, open_tx};
use crate::web::view::View;

/// The ceremonies' script, served from the gateway so that pages allow only
/// `script-src 'self'`.
const SCRIPT: &str = include_str!("../../assets/passkeys.js");

/// Largest JSON body accepted (an attestation with its certificate chain fits easily).
const MAX_JSON_BYTES: usize = 64 * 1024;

/// The header that carries the page's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

type JsonResult = Result<HttpResponse, ApiError>;

/// `GET /assets/passkeys.js`
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(SCRIPT)
}

fn json_error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"error": code, "error_description": description}))
}

fn json_ok(v: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(v)
}

fn ceremony(c: Ceremony) -> HttpResponse {
    json_ok(json!({"handle": c.handle, "options": c.options}))
}

/// A JSON request from a hosted page: tenant, body, and the browser's CSRF cookie
/// (which also binds a passkey sign-in to this browser).
struct JsonRequest {
    t: TenantId,
    body: Value,
    browser: String,
}

impl JsonRequest {
    /// Reads and checks the request; `Err` is the JSON answer to send instead.
    async fn read(
        req: &HttpRequest,
        path: &str,
        mut payload: web::Payload,
        st: &AppState,
    ) -> Result<Result<Self, Box<HttpResponse>>, ApiError> {
        let t = tenant_id(path)?;
        st.engine.tenant(&t).await?;
        let bad = |msg: &str| {
            Ok(Err(Box::new(json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                msg,
            ))))
        };
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
        if !is_json {
            return bad("the body must be application/json");
        }
        let mut raw = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let Ok(chunk) = chunk else {
                return bad("the request body could not be read");
            };
            if raw.len() + chunk.len() > MAX_JSON_BYTES {
                return bad("the request body is too large");
            }
            raw.extend_from_slice(&chunk);
        }
        let body: Value = match serde_json::from_slice(&raw) {
            Ok(v @ Value::Object(_)) => v,
            _ => return bad("the body must be a JSON object"),
        };
        let cookie = st
            .cookies
            .read(req, CSRF_COOKIE, t.as_str())
            .map(|c| c.value().to_owned());
        let token = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let session = session_cookie(st.cookies, req, t.as_str());
        if !st.csrf.check(cookie.as_deref(), session.as_deref(), token) {
            return Ok(Err(Box::new(json_error(
                StatusCode::FORBIDDEN,
                "invalid_request",
                "This page expired. Reload it and try again.",
            ))));
        }
        Ok(Ok(Self {
            t,
            body,
            browser: cookie.unwrap_or_default(),
        }))
    }

    fn str(&self, k: &str) -> &str {
        self.body.get(k).and_then(Value::as_str).unwrap_or("")
    }

    fn credential(&self) -> &Value {
        self.body.get("credential").unwrap_or(&Value::Null)
    }

    /// The authorization this sign-in continues (`tx`), if any.
    fn areq(&self, st: &AppState) -> Result<Option<AuthRequest>, Box<HttpResponse>> {
        match self.str("tx") {
            "" => Ok(None),
            tx => st
                .engine
                .oauth()
                .open_request(&self.t, tx)
                .map(Some)
                .ok_or_else(|| {
                    Box::new(json_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "This link expired. Go back to the application and try again.",
                    ))
                }),
        }
    }
}

/// Unwraps a checked request or answers with its error.
macro_rules! checked {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(response) => return Ok(*response),
        }
    };
}

fn not_signed_in() -> HttpResponse {
    json_error(
        StatusCode::UNAUTHORIZED,
        "login_required",
        "You are not signed in. Sign in and try again.",
    )
}

/// Where the browser goes next, with the session cookie when one was made.
fn go(st: &AppState, t: &TenantId, new: Option<NewSession>, next: String) -> HttpResponse {
    let mut r = json_ok(json!({ "redirect": next }));
    if let Some(ns) = new {
        let _ = r.add_cookie(&st.cookies.cookie(SESSION_COOKIE, ns.cookie, t.as_str()));
    }
    r
}

async fn completed(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    done: Completed,
    areq: Option<AuthRequest>,
) -> JsonResult {
    match done {
        Completed::Session(ns) => {
            // Required consent purposes and profile fields first, as after any sign-in.
            let next = next_after_sign_in(st, req, t, &ns.session, areq).await?;
            Ok(go(st, t, Some(ns), next))
        }
        Completed::SteppedUp(_) => Ok(go(st, t, None, continue_url(st, t, areq))),
    }
}

/// `POST /{tenant}/passkeys/register/start`: `{}` for the signed-in user, or
/// `{"pending": …}` to enrol during a sign-in that requires a second factor.
pub async fn register_start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> JsonResult {
    let r = checked!(JsonRequest::read(&req, &path, payload, &st).await?);
    let c = match r.str("pending") {
        "" => {
            let Some(session) = session(&st, &req, &r.t).await? else {
                return Ok(not_signed_in());
            };
            match st
                .engine
                .signin()
                .start_passkey_registration(&r.t, &session)
                .await
            {
                Err(EngineError::ReauthRequired) => {
                    let back = format!("/{}/account", r.t);
                    return Ok(HttpResponse::Forbidden()
                        .insert_header((header::CACHE_CONTROL, "no-store"))
                        .json(json!({
                            "error": "reauth_required",
                            "error_description": "Confirm it's you before adding a passkey.",
                            "redirect": reauth_url(&r.t, &back),
                        })));
                }
                other => other?,
            }
        }
        pending => {
            st.engine
                .signin()
                .start_passkey_enrolment(&r.t, pending)
                .await?
        }
    };
    Ok(ceremony(c))
}

/// `POST /{tenant}/passkeys/register/finish`: `{"handle", "credential", "label"?,
/// "pending"?, "tx"?}`.
pub async fn register_finish(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> JsonResult {
    let r = checked!(JsonRequest::read(&req, &path, payload, &st).await?);
    let areq = checked!(r.areq(&st));
    let meta = meta(&req);
    let (handle, label) = (r.str("handle"), r.str("label"));
    match r.str("pending") {
        "" => {
            let Some(session) = session(&st, &req, &r.t).await? else {
                return Ok(not_signed_in());
            };
            st.engine
                .signin()
                .finish_passkey_registration(&r.t, handle, &session, r.credential(), label, &meta)
                .await?;
            Ok(go(&st, &r.t, None, continue_url(&st, &r.t, areq)))
        }
        pending => {
            let done = st
                .engine
                .signin()
                .finish_passkey_enrolment(&r.t, handle, pending, r.credential(), label, &meta)
                .await?;
            completed(&st, &req, &r.t, done, areq).await
        }
    }
}

/// `POST /{tenant}/passkeys/login/start`: a sign-in with a discoverable passkey.
pub async fn login_start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> JsonResult {
    let r = checked!(JsonRequest::read(&req, &path, payload, &st).await?);
    Ok(ceremony(
        st.engine
            .signin()
            .start_passkey_login(&r.t, &r.browser)
            .await?,
    ))
}

/// `POST /{tenant}/passkeys/login/finish`: `{"handle", "credential", "tx"?}`; signs in
/// and continues the authorization like a password sign-in.
pub async fn login_finish(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> JsonResult {
    let r = checked!(JsonRequest::read(&req, &path, payload, &st).await?);
    let areq = checked!(r.areq(&st));
    let ns = st
        .engine
        .signin()
        .finish_passkey_login(
            &r.t,
            r.str("handle"),
            &r.browser,
            r.credential(),
            &meta(&req),
        )
        .await?;
    // Required consent purposes and profile fields first, as after any sign-in.
    let next = next_after_sign_in(&st, &req, &r.t, &ns.session, areq).await?;
    Ok(go(&st, &r.t, Some(ns), next))
}

/// `POST /{tenant}/passkeys/factor/start`: `{"pending"}`, a passkey as the second factor.
pub async fn factor_start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> JsonResult {
    let r = checked!(JsonRequest::read(&req, &path, payload, &st).await?);
    Ok(ceremony(
        st.engine
            .signin()
            .start_passkey_factor(&r.t, r.str("pending"))
            .await?,
    ))
}

/// `POST /{tenant}/passkeys/factor/finish`: `{"handle", "pending", "credential", "tx"?}`.
pub async fn factor_finish(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> JsonResult {
    let r = checked!(JsonRequest::read(&req, &path, payload, &st).await?);
    let areq = checked!(r.areq(&st));
    let done = st
        .engine
        .signin()
        .finish_passkey_factor(
            &r.t,
            r.str("handle"),
            r.str("pending"),
            r.credential(),
            &meta(&req),
        )
        .await?;
    completed(&st, &req, &r.t, done, areq).await
}

/// `POST /{tenant}/passkeys/link/start`: `{"pending"}` (a pending link's handle): a
/// passkey of the existing account, to link an upstream identity to it.
pub async fn link_start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> JsonResult {
    let r = checked!(JsonRequest::read(&req, &path, payload, &st).await?);
    Ok(ceremony(
        st.engine
            .federation()
            .start_link_passkey(&r.t, r.str("pending"))
            .await?,
    ))
}

/// `POST /{tenant}/passkeys/link/finish`: `{"handle", "pending", "credential", "tx"?}`.
pub async fn link_finish(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> JsonResult {
    let r = checked!(JsonRequest::read(&req, &path, payload, &st).await?);
    let areq = checked!(r.areq(&st));
    let ns = st
        .engine
        .federation()
        .finish_link_passkey(
            &r.t,
            r.str("handle"),
            r.str("pending"),
            r.credential(),
            &meta(&req),
        )
        .await?;
    completed(&st, &req, &r.t, Completed::Session(ns), areq).await
}

async fn session(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
) -> Result<Option<tollgate_engine::model::Session>, ApiError> {
    match st.cookies.read(req, SESSION_COOKIE, t.as_str()) {
        Some(c) => Ok(st.engine.signin().session(t, c.value()).await?),
        None => Ok(None),
    }
}

/// `GET /{tenant}/passkeys/offer?tx=…`: after sign-up, "add a passkey?", then on.
pub async fn offer(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (t, tenant) = tenant(&st, &path).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let Some(s) = current_session(&st, &req, &t).await? else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    // After sign-up: required consent purposes and profile fields come next, if any.
    let next = next_after_sign_in(&st, &req, &t, &s, areq.clone()).await?;
    let has_one = st
        .engine
        .signin()
        .factors(&t, &s.user_id)
        .await?
        .iter()
        .any(|f| f.kind == FactorKind::Passkey);
    if has_one || !st.engine.signin().passkeys_allowed(&tenant) {
        return Ok(see_other(&next));
    }
    let user = st.engine.user(&t, &s.user_id).await?;
    let saved = user.as_ref().and_then(saved_locale);
    let v = View::with_saved(&st, &req, &tenant, areq.as_ref(), saved);
    let tx = areq.map(|a| st.engine.oauth().seal_request(&t, &a));
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "passkey-add-button",
        |csrf| pages::offer(&v, csrf, tx.as_deref(), &next),
    ))
}

/// `POST /{tenant}/account/passkeys/rename`: `id`, `label`.
pub async fn rename(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (f, s) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    match st
        .engine
        .signin()
        .rename_passkey(&f.t, &s.user_id, f.get("id"), f.get("label"), &meta(&req))
        .await
    {
        Ok(()) | Err(tollgate_engine::EngineError::NotFound(_)) => {
            Ok(see_other(&format!("/{}/account", f.t)))
        }
        Err(e) => Err(e.into()),
    }
}
