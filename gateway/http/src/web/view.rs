//! The look and language of one page request: which tenant look ([`tollgate_ui::Look`]),
//! which language (negotiated from the switcher, the app's `ui_locales`, the user's saved
//! language, `Accept-Language`, the tenant's default), and the page response with its
//! security headers.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use std::sync::Arc;
use tollgate_engine::EngineError;
use tollgate_engine::ids::UserId;
use tollgate_engine::model::{Tenant, User};
use tollgate_engine::oauth::authorize::AuthRequest;
use tollgate_i18n::{Arg, Messages, Preferences};
use tollgate_ui::{Frame, Look};

pub use minijinja::context;
pub use minijinja::value::Value;

use crate::state::AppState;

/// The cookie that keeps the language chosen on the switcher.
pub const LANG_COOKIE: &str = "tg_lang";

/// The CSP of every hosted page: scripts and styles only from this origin (no inline
/// script or style anywhere), images from here or `data:` (logos), never framed.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/// One page request's look and language.
pub struct View {
    look: Arc<Look>,
    frame: Frame,
    chosen: Option<String>,
    cookies: crate::web::cookies::CookieScope,
    /// The tenant's privacy contact, for the frame's footer (DPDP Rules 9 and 14).
    contact: Value,
}

/// The value of query parameter `name`, if given once or more (the first).
fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl View {
    /// The view of a page of `tenant`, for the sign-in in progress `areq` (if any).
    pub fn new(
        st: &AppState,
        req: &HttpRequest,
        tenant: &Tenant,
        areq: Option<&AuthRequest>,
    ) -> View {
        Self::with_saved(st, req, tenant, areq, None)
    }

    /// [`Self::new`] for a signed-in user whose saved language is `saved`.
    pub fn with_saved(
        st: &AppState,
        req: &HttpRequest,
        tenant: &Tenant,
        areq: Option<&AuthRequest>,
        saved: Option<&str>,
    ) -> View {
        let t = tenant.id.as_str();
        let look = st.looks.get(t, &tenant.branding);
        let mut v = Self::build(st, req, t, look, tenant.display_name.clone(), areq, saved);
        if let Some(c) = &tenant.privacy_contact {
            v.contact = Value::from(minijinja::value::Serde(c));
        }
        v
    }

    /// The view of a page under a tenant that does not exist (its error page): the
    /// shipped look (and stylesheet), in the reader's language. Nothing is kept for a
    /// tenant that does not exist: no language cookie.
    pub fn unknown_tenant(st: &AppState, req: &HttpRequest, t: &str) -> View {
        let mut v = Self::build(st, req, t, Look::shipped(), String::new(), None, None);
        v.frame.tenant = String::new();
        v.chosen = None;
        v
    }

    fn build(
        st: &AppState,
        req: &HttpRequest,
        t: &str,
        look: Arc<Look>,
        brand: String,
        areq: Option<&AuthRequest>,
        saved: Option<&str>,
    ) -> View {
        let catalog = look.catalog();
        let asked = query_param(req, "lang");
        let chosen = asked
            .as_deref()
            .and_then(|l| tollgate_i18n::negotiate::best([l], catalog.languages()))
            .map(str::to_owned);
        let cookie = st.cookies.read(req, LANG_COOKIE, t);
        let accept = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|h| h.to_str().ok());
        let prefs = Preferences {
            explicit: chosen.as_deref().or(cookie.as_ref().map(|c| c.value())),
            ui_locales: areq.and_then(|a| a.ui_locales.as_deref()),
            saved,
            accept_language: accept,
        };
        let lang = catalog.negotiate(&prefs).to_owned();
        // What the switcher must carry over: the page's own parameters but `lang`,
        // bounded (it echoes what the browser sent).
        let keep = url::form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, _)| k != "lang")
            .take(8)
            .filter(|(k, v)| k.len() <= 64 && v.len() <= 4096)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let frame = Frame {
            messages: catalog.messages(&lang),
            tenant: t.to_owned(),
            brand,
            path: req.path().to_owned(),
            keep,
            globals: Default::default(),
        };
        View {
            look,
            frame,
            chosen,
            cookies: st.cookies,
            contact: Value::from(()),
        }
    }

    /// Points the switcher at another page (a page answering a POST has no GET of its
    /// own): `path` with `keep` as its query.
    pub fn switch_to(mut self, path: String, keep: Vec<(String, String)>) -> View {
        self.frame.path = path;
        self.frame.keep = keep;
        self.frame.globals = Default::default();
        self
    }

    /// No language switcher: for a page that shows something once (recovery codes),
    /// which switching would navigate away from and lose.
    pub fn without_switcher(mut self) -> View {
        self.frame.path.clear();
        self.frame.keep.clear();
        self.frame.globals = Default::default();
        self
    }

    /// The page's messages.
    pub fn messages(&self) -> &Messages {
        &self.frame.messages
    }

    /// The page's language tag.
    pub fn lang(&self) -> &str {
        self.frame.messages.lang()
    }

    /// The tags of the languages the tenant's pages are offered in (its catalogue's).
    pub fn languages(&self) -> &[String] {
        self.look.catalog().languages()
    }

    /// The name the pages show for the tenant.
    pub fn brand(&self) -> &str {
        self.look.name().unwrap_or(&self.frame.brand)
    }

    /// Message `id` in the page's language.
    pub fn t(&self, id: &str) -> String {
        self.frame.messages.get(id, &[])
    }

    /// Message `id` with arguments.
    pub fn tr(&self, id: &str, args: &[(&str, Arg)]) -> String {
        self.frame.messages.get(id, args)
    }

    /// A page fragment: template `name` with `ctx`. The result is trusted HTML, to be
    /// passed on as [`Value::from_safe_string`] or to [`Self::page`].
    pub fn render(&self, name: &str, ctx: Value) -> String {
        self.look.render(&self.frame, name, ctx)
    }

    /// [`Self::render`] with the request's own values as `fills` (each printed plainly
    /// by the template), so the shipped look can keep the rendered page per shape.
    pub fn render_filled(
        &self,
        name: &str,
        stable: &[(&str, Value)],
        fills: &[tollgate_ui::Fill<'_>],
    ) -> String {
        self.look.render_filled(&self.frame, name, stable, fills)
    }

    /// A fragment as a value another template can print unescaped.
    pub fn part(&self, name: &str, ctx: Value) -> Value {
        Value::from_safe_string(self.render(name, ctx))
    }

    /// The whole page: `body` (rendered fragments) in the tenant's frame, titled with
    /// message `title_id`, with the security headers and, when the switcher was used,
    /// the language cookie.
    pub fn page(&self, status: StatusCode, title_id: &str, body: String) -> HttpResponse {
        let title = self.frame.messages.get(title_id, &[]);
        let extra = [("contact", self.contact.clone())];
        let html = self.look.page_with(&self.frame, &title, body, &extra);
        let mut r = page_response(status, html);
        if let Some(lang) = &self.chosen {
            let mut c = self
                .cookies
                .cookie(LANG_COOKIE, lang.clone(), &self.frame.tenant);
            c.set_max_age(actix_web::cookie::time::Duration::days(365));
            let _ = r.add_cookie(&c);
        }
        r
    }
}

/// A hosted page's response: HTML, never cached, never framed, strict CSP.
pub fn page_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CSP))
        .body(html)
}

/// The profile field that holds a user's saved language.
pub const LOCALE_FIELD: &str = "locale";

/// The user's saved language, as stored (`locale`).
pub fn saved_locale(user: &User) -> Option<&str> {
    user.profile
        .get(LOCALE_FIELD)
        .map(String::as_str)
        .filter(|l| !l.is_empty())
}

impl View {
    /// The view of a signed-in user's page: their saved language counts (after the
    /// switcher and the app's `ui_locales`).
    pub fn for_user(st: &AppState, req: &HttpRequest, tenant: &Tenant, user: &User) -> View {
        Self::with_saved(st, req, tenant, None, saved_locale(user))
    }

    /// [`Self::for_user`] for a user known by id (a user that is gone gets the browser's
    /// language).
    pub async fn for_user_id(
        st: &AppState,
        req: &HttpRequest,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<View, EngineError> {
        Ok(match st.engine.user(&tenant.id, user).await? {
            Some(u) => Self::for_user(st, req, tenant, &u),
            None => Self::new(st, req, tenant, None),
        })
    }
}
