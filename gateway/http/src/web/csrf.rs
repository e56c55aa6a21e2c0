//! CSRF for the hosted forms: the browser's random CSRF cookie, the form token derived
//! from it ([`crate::state::Csrf`]), and form pages that carry the token.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use std::collections::HashMap;
use tollgate_engine::ids::TenantId;

use crate::state::AppState;
use crate::web::cookies::{CSRF_COOKIE, CookieScope, SESSION_COOKIE};

/// What a form says when its CSRF token does not match.
pub const STALE_FORM: &str = "This form expired. Please try again.";

/// The CSRF cookie value for this browser, making one if it has none.
pub fn csrf_cookie(cookies: CookieScope, req: &HttpRequest, tenant: &str) -> (String, bool) {
    match cookies.read(req, CSRF_COOKIE, tenant) {
        Some(c) if c.value().len() == 43 => (c.value().to_owned(), false),
        _ => (tollgate_engine::crypto::random_token::<32>(), true),
    }
}

/// Renders a form page in the tenant's look and the reader's language (`view`), setting
/// the CSRF cookie when it is new. `title_id` is the title's message id.
pub fn view_form_page(
    st: &AppState,
    req: &HttpRequest,
    view: &crate::web::view::View,
    t: &TenantId,
    status: StatusCode,
    title_id: &str,
    body: impl FnOnce(&str) -> String,
) -> HttpResponse {
    let (cookie, fresh) = csrf_cookie(st.cookies, req, t.as_str());
    let token = st.csrf.token(
        &cookie,
        session_cookie(st.cookies, req, t.as_str()).as_deref(),
    );
    let mut r = view.page(status, title_id, body(&token));
    if fresh {
        let _ = r.add_cookie(&st.cookies.cookie(CSRF_COOKIE, cookie, t.as_str()));
    }
    r
}

/// Whether a submitted form's `csrf` token matches this browser's CSRF cookie.
pub fn csrf_ok(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    form: &HashMap<String, String>,
) -> bool {
    st.csrf.check(
        st.cookies
            .read(req, CSRF_COOKIE, t.as_str())
            .as_ref()
            .map(|c| c.value()),
        session_cookie(st.cookies, req, t.as_str()).as_deref(),
        form.get("csrf").map(String::as_str),
    )
}

/// The browser's session cookie, which CSRF tokens are bound to.
pub fn session_cookie(cookies: CookieScope, req: &HttpRequest, tenant: &str) -> Option<String> {
    cookies
        .read(req, SESSION_COOKIE, tenant)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}
