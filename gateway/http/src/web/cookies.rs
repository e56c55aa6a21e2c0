//! Cookie names, and cookies scoped to one tenant's paths.

use actix_web::cookie::{Cookie, SameSite};

/// Session cookie name.
pub const SESSION_COOKIE: &str = "tg_session";
/// CSRF cookie name.
pub const CSRF_COOKIE: &str = "tg_csrf";

/// A cookie scoped to one tenant's paths: HttpOnly, SameSite=Lax (it must travel on the
/// top-level redirect from a relying party), Secure whenever the issuer is https.
pub fn tenant_cookie(
    name: &'static str,
    value: String,
    tenant: &str,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(format!("/{tenant}"))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish()
}

/// A cookie that deletes `name`.
pub fn removal(name: &'static str, tenant: &str, secure: bool) -> Cookie<'static> {
    let mut c = tenant_cookie(name, String::new(), tenant, secure);
    c.make_removal();
    c
}
