//! Hosted pages: sign-in, sign-up, consent, account and logout. Forms are CSRF-protected;
//! sign-in failures say the same whatever was wrong.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;
use tollgate_engine::EngineError;
use tollgate_engine::authorize::AuthRequest;
use tollgate_engine::ids::TenantId;
use tollgate_engine::login::NewSession;

use crate::http::{self, CSRF_COOKIE, SESSION_COOKIE, read_form, removal, tenant_cookie};
use crate::oidc::{authorize_error, continue_to, see_other, tenant_id};
use crate::pages;
use crate::server::AppState;

const BAD_LOGIN: &str = "Incorrect email or password.";
const BAD_SIGNUP: &str =
    "We could not create an account with those details. If you already have one, sign in instead.";
const STALE_FORM: &str = "This form expired. Please try again.";

/// The CSRF cookie value for this browser, making one if it has none.
fn csrf_cookie(req: &HttpRequest) -> (String, bool) {
    match req.cookie(CSRF_COOKIE) {
        Some(c) if c.value().len() == 43 => (c.value().to_owned(), false),
        _ => (tollgate_engine::crypto::random_token::<32>(), true),
    }
}

/// Renders a form page, setting the CSRF cookie when it is new.
fn form_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    status: StatusCode,
    title: &str,
    body: impl FnOnce(&str) -> String,
) -> HttpResponse {
    let (cookie, fresh) = csrf_cookie(req);
    let token = st.csrf.token(&cookie);
    let mut r = pages::page(status, title, &body(&token));
    if fresh {
        let _ = r.add_cookie(&tenant_cookie(
            CSRF_COOKIE,
            cookie,
            t.as_str(),
            st.secure_cookies,
        ));
    }
    r
}

fn csrf_ok(st: &AppState, req: &HttpRequest, form: &HashMap<String, String>) -> bool {
    st.csrf.check(
        req.cookie(CSRF_COOKIE).as_ref().map(|c| c.value()),
        form.get("csrf").map(String::as_str),
    )
}

fn open_tx(st: &AppState, t: &TenantId, tx: Option<&String>) -> Option<AuthRequest> {
    tx.and_then(|tx| st.engine.open_request(t, tx))
}

#[derive(serde::Deserialize)]
pub struct TxQuery {
    tx: Option<String>,
}

/// `GET /{tenant}/login`
pub async fn login_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> HttpResponse {
    let t = match tenant_id(&path) {
        Ok(t) => t,
        Err(e) => return pages::engine_error_page(&e),
    };
    let tenant = match st.engine.tenant(&t).await {
        Ok(x) => x,
        Err(e) => return pages::engine_error_page(&e),
    };
    let areq = open_tx(&st, &t, q.tx.as_ref());
    if q.tx.is_some() && areq.is_none() {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in link expired. Go back to the application and try again.",
        );
    }
    let hint = areq
        .as_ref()
        .and_then(|a| a.login_hint.clone())
        .unwrap_or_default();
    form_page(&st, &req, &t, StatusCode::OK, "Sign in", |csrf| {
        pages::login(
            t.as_str(),
            &tenant.display_name,
            q.tx.as_deref(),
            csrf,
            &hint,
            None,
        )
    })
}

/// `GET /{tenant}/signup`
pub async fn signup_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> HttpResponse {
    let t = match tenant_id(&path) {
        Ok(t) => t,
        Err(e) => return pages::engine_error_page(&e),
    };
    let tenant = match st.engine.tenant(&t).await {
        Ok(x) => x,
        Err(e) => return pages::engine_error_page(&e),
    };
    if q.tx.is_some() && open_tx(&st, &t, q.tx.as_ref()).is_none() {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "This sign-up link expired. Go back to the application and try again.",
        );
    }
    form_page(&st, &req, &t, StatusCode::OK, "Create account", |csrf| {
        pages::signup(
            t.as_str(),
            &tenant.display_name,
            q.tx.as_deref(),
            csrf,
            "",
            None,
        )
    })
}

/// After a sign-in or sign-up: set the session cookie and continue the authorization.
async fn signed_in(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    ns: NewSession,
    tx: Option<&String>,
) -> HttpResponse {
    let cookie = tenant_cookie(SESSION_COOKIE, ns.cookie, t.as_str(), st.secure_cookies);
    let mut r = match open_tx(st, t, tx) {
        Some(mut areq) => {
            match st
                .engine
                .next_step(t, &areq, Some(&ns.session), true, false, &http::meta(req))
                .await
            {
                Ok(step) => {
                    // The user has just signed in: prompt=login and max_age are satisfied
                    // for the rest of this request.
                    areq.prompt
                        .retain(|p| p != "login" && p != "select_account");
                    areq.max_age = None;
                    continue_to(st, t, &areq, step)
                }
                Err(e) => authorize_error(st, t, e),
            }
        }
        None => see_other(&format!("/{t}/account")),
    };
    let _ = r.add_cookie(&cookie);
    r
}

/// `POST /{tenant}/login`
pub async fn login_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    let t = match tenant_id(&path) {
        Ok(t) => t,
        Err(e) => return pages::engine_error_page(&e),
    };
    let tenant = match st.engine.tenant(&t).await {
        Ok(x) => x,
        Err(e) => return pages::engine_error_page(&e),
    };
    let form = match read_form(&req, payload).await {
        Ok(f) => f,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.0.to_string()),
    };
    let tx = form.get("tx").filter(|v| !v.is_empty());
    let email = form.get("email").map(String::as_str).unwrap_or("");
    let again = |status, msg: &str| {
        form_page(&st, &req, &t, status, "Sign in", |csrf| {
            pages::login(
                t.as_str(),
                &tenant.display_name,
                tx.map(String::as_str),
                csrf,
                email,
                Some(msg),
            )
        })
    };
    if !csrf_ok(&st, &req, &form) {
        return again(StatusCode::FORBIDDEN, STALE_FORM);
    }
    if tx.is_some() && open_tx(&st, &t, tx).is_none() {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in link expired. Go back to the application and try again.",
        );
    }
    let password = form.get("password").map(String::as_str).unwrap_or("");
    match st
        .engine
        .password_login(&t, email, password, &http::meta(&req))
        .await
    {
        Ok(ns) => signed_in(&st, &req, &t, ns, tx).await,
        Err(EngineError::InvalidCredentials) => again(StatusCode::UNAUTHORIZED, BAD_LOGIN),
        Err(e) => pages::engine_error_page(&e),
    }
}

/// `POST /{tenant}/signup`
pub async fn signup_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    let t = match tenant_id(&path) {
        Ok(t) => t,
        Err(e) => return pages::engine_error_page(&e),
    };
    let tenant = match st.engine.tenant(&t).await {
        Ok(x) => x,
        Err(e) => return pages::engine_error_page(&e),
    };
    let form = match read_form(&req, payload).await {
        Ok(f) => f,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.0.to_string()),
    };
    let tx = form.get("tx").filter(|v| !v.is_empty());
    let email = form.get("email").map(String::as_str).unwrap_or("");
    let again = |status, msg: &str| {
        form_page(&st, &req, &t, status, "Create account", |csrf| {
            pages::signup(
                t.as_str(),
                &tenant.display_name,
                tx.map(String::as_str),
                csrf,
                email,
                Some(msg),
            )
        })
    };
    if !csrf_ok(&st, &req, &form) {
        return again(StatusCode::FORBIDDEN, STALE_FORM);
    }
    let password = form.get("password").map(String::as_str).unwrap_or("");
    let name = form
        .get("name")
        .cloned()
        .filter(|n| !n.trim().is_empty() && n.len() <= 200);
    match st
        .engine
        .sign_up(&t, email, password, name, &http::meta(&req))
        .await
    {
        Ok(ns) => signed_in(&st, &req, &t, ns, tx).await,
        Err(EngineError::InvalidCredentials) => again(StatusCode::BAD_REQUEST, BAD_SIGNUP),
        Err(EngineError::Invalid(msg)) => again(StatusCode::BAD_REQUEST, &msg),
        Err(e) => pages::engine_error_page(&e),
    }
}

/// `GET /{tenant}/consent`
pub async fn consent_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> HttpResponse {
    let t = match tenant_id(&path) {
        Ok(t) => t,
        Err(e) => return pages::engine_error_page(&e),
    };
    let Some(areq) = open_tx(&st, &t, q.tx.as_ref()) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "This link expired. Go back to the application and try again.",
        );
    };
    let client = match st.engine.client(&t, &areq.client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                "The application is no longer registered.",
            );
        }
        Err(e) => return pages::engine_error_page(&e),
    };
    let tx = q.tx.clone().unwrap_or_default();
    form_page(&st, &req, &t, StatusCode::OK, "Allow access", |csrf| {
        pages::consent(t.as_str(), &client.name, &areq.scopes, &tx, csrf)
    })
}

/// `POST /{tenant}/consent`
pub async fn consent_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> HttpResponse {
    let t = match tenant_id(&path) {
        Ok(t) => t,
        Err(e) => return pages::engine_error_page(&e),
    };
    let form = match read_form(&req, payload).await {
        Ok(f) => f,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.0.to_string()),
    };
    if !csrf_ok(&st, &req, &form) {
        return pages::error_page(StatusCode::FORBIDDEN, STALE_FORM);
    }
    let Some(mut areq) = open_tx(&st, &t, form.get("tx")) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "This link expired. Go back to the application and try again.",
        );
    };
    if form.get("decision").map(String::as_str) != Some("allow") {
        return see_other(&st.engine.consent_denied(&t, &areq));
    }
    let session = match req.cookie(SESSION_COOKIE) {
        Some(c) => st.engine.session(&t, c.value()).await,
        None => Ok(None),
    };
    let session = match session {
        Ok(s) => s,
        Err(e) => return pages::engine_error_page(&e),
    };
    areq.prompt.retain(|p| p != "consent");
    match st
        .engine
        .next_step(&t, &areq, session.as_ref(), false, true, &http::meta(&req))
        .await
    {
        Ok(step) => continue_to(&st, &t, &areq, step),
        Err(e) => authorize_error(&st, &t, e),
    }
}

/// `GET /{tenant}/account`
pub async fn account(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> HttpResponse {
    let t = match tenant_id(&path) {
        Ok(t) => t,
        Err(e) => return pages::engine_error_page(&e),
    };
    let session = match req.cookie(SESSION_COOKIE) {
        Some(c) => st.engine.session(&t, c.value()).await,
        None => Ok(None),
    };
    let user = match session {
        Ok(Some(s)) => st.engine.user(&t, &s.user_id).await,
        Ok(None) => return see_other(&format!("/{t}/login")),
        Err(e) => return pages::engine_error_page(&e),
    };
    match user {
        Ok(Some(u)) => form_page(&st, &req, &t, StatusCode::OK, "Your account", |csrf| {
            pages::account(t.as_str(), u.email.as_str(), u.name.as_deref(), csrf)
        }),
        Ok(None) => see_other(&format!("/{t}/login")),
        Err(e) => pages::engine_error_page(&e),
    }
}

/// `GET|POST /{tenant}/logout` (OIDC RP-Initiated Logout 1.0)
pub async fn logout(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> HttpResponse {
    let t = match tenant_id(&path) {
        Ok(t) => t,
        Err(e) => return pages::engine_error_page(&e),
    };
    let is_post = req.method() == actix_web::http::Method::POST;
    let raw: &[u8] = if is_post {
        &body
    } else {
        req.query_string().as_bytes()
    };
    if raw.len() > http::MAX_FORM_BYTES {
        return pages::error_page(StatusCode::BAD_REQUEST, "The logout request is too large.");
    }
    let params = match http::parse_unique(raw) {
        Ok(p) => p,
        Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, &e.0.to_string()),
    };
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let cookie = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let session = match &cookie {
        Some(c) => st.engine.session(&t, c).await.unwrap_or(None),
        None => None,
    };
    let plan = match st
        .engine
        .plan_logout(
            &t,
            get("id_token_hint"),
            get("client_id"),
            get("post_logout_redirect_uri"),
            get("state"),
            session.as_ref().map(|s| &s.user_id),
        )
        .await
    {
        Ok(p) => p,
        Err(e) => return pages::engine_error_page(&e),
    };
    let confirmed = plan.confirmed_by_hint
        || (is_post && get("confirm") == Some("yes") && csrf_ok(&st, &req, &params));
    if !confirmed {
        let keep: Vec<(&str, &str)> = [
            "id_token_hint",
            "client_id",
            "post_logout_redirect_uri",
            "state",
        ]
        .into_iter()
        .filter_map(|k| get(k).map(|v| (k, v)))
        .collect();
        return form_page(&st, &req, &t, StatusCode::OK, "Sign out", |csrf| {
            pages::logout_confirm(t.as_str(), &keep, csrf)
        });
    }
    if let Some(c) = &cookie
        && let Err(e) = st.engine.end_session(&t, c, &http::meta(&req)).await
    {
        return pages::engine_error_page(&e);
    }
    let mut r = match plan.redirect {
        Some(url) => see_other(&url),
        None => pages::page(StatusCode::OK, "Signed out", &pages::signed_out()),
    };
    let _ = r.add_cookie(&removal(SESSION_COOKIE, t.as_str(), st.secure_cookies));
    r
}
