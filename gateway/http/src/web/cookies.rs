//! Cookie names, and cookies scoped to one tenant.
//!
//! By default a tenant's cookies are scoped to its paths (`Path=/{tenant}`), Secure
//! whenever the issuer is https. With `[http] host_cookies` (https only) they are
//! `__Host-` cookies instead: the browser then refuses any such cookie that was not set
//! by this very origin over https with `Path=/` and no `Domain`, so a sibling subdomain
//! cannot plant or overwrite one. They carry the tenant in their name, so tenants on one
//! origin still each have their own.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

/// Session cookie name.
pub const SESSION_COOKIE: &str = "tg_session";
/// CSRF cookie name.
pub const CSRF_COOKIE: &str = "tg_csrf";

/// How this deployment scopes its cookies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieScope {
    /// `Secure` (the issuer is https).
    pub secure: bool,
    /// `__Host-` names, `Path=/`.
    pub host_prefix: bool,
}

impl CookieScope {
    /// Path-scoped cookies, Secure when `secure`.
    pub fn paths(secure: bool) -> Self {
        Self {
            secure,
            host_prefix: false,
        }
    }

    /// The name `name` has on the wire for `tenant`.
    pub fn wire_name(self, name: &str, tenant: &str) -> String {
        match self.host_prefix {
            true => format!("__Host-{name}-{tenant}"),
            false => name.to_owned(),
        }
    }

    /// The browser's cookie `name` for `tenant`, if it sent one.
    pub fn read(self, req: &HttpRequest, name: &str, tenant: &str) -> Option<Cookie<'static>> {
        req.cookie(&self.wire_name(name, tenant))
    }

    /// A builder for cookie `name` of `tenant` under `sub_path` (below the tenant's
    /// paths; ignored for `__Host-` cookies, which must have `Path=/`).
    fn build(self, name: &str, value: String, tenant: &str, sub_path: &str) -> Cookie<'static> {
        let path = match self.host_prefix {
            true => "/".to_owned(),
            false => format!("/{tenant}{sub_path}"),
        };
        Cookie::build(self.wire_name(name, tenant), value)
            .path(path)
            .http_only(true)
            .secure(self.secure || self.host_prefix)
            .finish()
    }

    /// A cookie of one tenant: HttpOnly, SameSite=Lax (it must travel on the top-level
    /// redirect from a relying party).
    pub fn cookie(self, name: &str, value: String, tenant: &str) -> Cookie<'static> {
        let mut c = self.build(name, value, tenant, "");
        c.set_same_site(SameSite::Lax);
        c
    }

    /// [`Self::cookie`] under a sub-path of the tenant's, with a same-site rule and a
    /// lifetime.
    pub fn scoped(
        self,
        name: &str,
        value: String,
        tenant: &str,
        sub_path: &str,
        same_site: SameSite,
        max_age_secs: i64,
    ) -> Cookie<'static> {
        let mut c = self.build(name, value, tenant, sub_path);
        c.set_same_site(same_site);
        c.set_max_age(actix_web::cookie::time::Duration::seconds(max_age_secs));
        c
    }

    /// A cookie that deletes `name` (set by [`Self::cookie`] or, with the same
    /// `sub_path`, by [`Self::scoped`]).
    pub fn removal(self, name: &str, tenant: &str, sub_path: &str) -> Cookie<'static> {
        let mut c = self.build(name, String::new(), tenant, sub_path);
        c.make_removal();
        c
    }
}
