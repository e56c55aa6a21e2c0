//! The code and link pages (email and phone), and the answers those flows share when
//! sending or checking a code fails. Each renders a template (`otp-*.html`) in the
//! reader's language through [`View`]; forms work without JavaScript.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use tollgate_engine::EngineError;
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::Tenant;
use tollgate_engine::signin::otp::is_dead;

use crate::state::AppState;
use crate::web::csrf::view_form_page;
use crate::web::error::{ErrorText, PageError, say, view_error_page};
use crate::web::view::{View, context};

/// The view of a page for signed-in `user`: in the language saved on their account
/// unless the switcher or the app says otherwise.
pub async fn user_view(
    st: &AppState,
    req: &HttpRequest,
    tenant: &Tenant,
    user: &UserId,
) -> Result<View, PageError> {
    Ok(View::for_user_id(st, req, tenant, user).await?)
}

/// What a code form carries besides the code.
pub struct CodeForm<'a> {
    /// Where it posts.
    pub action: String,
    /// Page heading: a message id.
    pub title: &'a str,
    /// The sentence above the field, in the page's language (see [`sent_to`]).
    pub intro: String,
    /// The challenge handle, when the browser holds one.
    pub handle: Option<&'a str>,
    /// The method of a second factor.
    pub method: Option<&'a str>,
    /// The authorization request in progress.
    pub tx: Option<&'a str>,
    /// Ask for a new password too (reset).
    pub new_password: bool,
    /// Button text: a message id.
    pub button: &'a str,
}

impl<'a> CodeForm<'a> {
    /// The form for a code we emailed, continuing `tx` when there is one.
    pub fn emailed(
        action: String,
        intro: String,
        handle: &'a str,
        tx: Option<&'a str>,
        button: &'a str,
    ) -> Self {
        Self {
            action,
            title: "otp-check-email-title",
            intro,
            handle: Some(handle),
            method: None,
            tx,
            new_password: false,
            button,
        }
    }
}

/// The intro of a code page for an address or number as typed: uniform, whether or not
/// an account has it.
pub fn sent_if_exists(v: &View, recipient: &str, link: bool) -> String {
    let id = if link {
        "otp-sent-if-exists-link"
    } else {
        "otp-sent-if-exists"
    };
    v.tr(id, &[("recipient", recipient.into())])
}

/// The intro of a code page for a known recipient (already masked).
pub fn sent_to(v: &View, recipient: &str) -> String {
    v.tr("otp-sent-to", &[("recipient", recipient.into())])
}

/// An error to show on a form, in the page's language: the engine's and the web helpers'
/// English refusals are looked up in the catalogue (see [`say`]); other text is already
/// in the page's language.
pub fn shown(v: &View, error: Option<&str>) -> Option<String> {
    error.map(|e| say(v.messages(), e))
}

/// A page that asks for a 6-digit code.
pub fn code_form(v: &View, f: &CodeForm<'_>, csrf: &str, error: Option<&str>) -> String {
    v.render(
        "otp-code.html",
        context! {
            title => v.t(f.title),
            intro => &f.intro,
            action => &f.action,
            csrf => csrf,
            handle => f.handle,
            method => f.method,
            tx => f.tx,
            new_password => f.new_password,
            button => v.t(f.button),
            error => shown(v, error),
        },
    )
}

/// Renders a code form.
pub fn code_page(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    status: StatusCode,
    form: &CodeForm<'_>,
    error: Option<&str>,
) -> HttpResponse {
    view_form_page(st, req, v, t, status, form.title, |csrf| {
        code_form(v, form, csrf, error)
    })
}

/// A form that asks for an email address; `title` and `intro` are message ids.
#[allow(clippy::too_many_arguments)]
pub fn email_form(
    v: &View,
    action: &str,
    title: &str,
    intro: &str,
    tx: Option<&str>,
    csrf: &str,
    email: &str,
    error: Option<&str>,
) -> String {
    v.render(
        "otp-email.html",
        context! {
            title => v.t(title),
            intro => v.t(intro),
            action => action,
            tx => tx,
            csrf => csrf,
            email => email,
            error => shown(v, error),
        },
    )
}

/// A form that asks for a phone number and the channel (SMS or WhatsApp); `title` and
/// `intro` are message ids.
#[allow(clippy::too_many_arguments)]
pub fn phone_form(
    v: &View,
    action: &str,
    title: &str,
    intro: &str,
    tx: Option<&str>,
    csrf: &str,
    number: &str,
    error: Option<&str>,
) -> String {
    v.render(
        "otp-phone.html",
        context! {
            title => v.t(title),
            intro => v.t(intro),
            action => action,
            tx => tx,
            csrf => csrf,
            phone => number,
            error => shown(v, error),
        },
    )
}

/// What the page a mailed link opens shows: one button that uses it (mail scanners
/// follow links; only a person presses the button). Texts are message ids.
pub struct LinkForm<'a> {
    /// Where the button posts.
    pub action: String,
    /// Heading.
    pub title: &'a str,
    /// The sentence above the button.
    pub intro: &'a str,
    /// Button text.
    pub button: &'a str,
    /// Ask for the new password too (reset).
    pub new_password: bool,
}

/// The page a link opens, carrying its `token`.
pub fn link_confirm(
    v: &View,
    f: &LinkForm<'_>,
    token: &str,
    csrf: &str,
    error: Option<&str>,
) -> String {
    v.render(
        "otp-link.html",
        context! {
            title => v.t(f.title),
            intro => v.t(f.intro),
            action => &f.action,
            token => token,
            csrf => csrf,
            button => v.t(f.button),
            new_password => f.new_password,
            error => shown(v, error),
        },
    )
}

/// The account page's email and phone section.
pub fn account_contact(v: &View, email_verified: bool, csrf: &str) -> String {
    v.render(
        "otp-contact.html",
        context! { email_verified => email_verified, csrf => csrf },
    )
}

/// A short message page with a link onwards; `title`, `message` and `link_text` are
/// message ids.
pub fn notice(v: &View, title: &str, message: &str, link: &str, link_text: &str) -> String {
    v.render(
        "otp-notice.html",
        context! {
            title => v.t(title),
            message => v.t(message),
            link => link,
            link_text => v.t(link_text),
        },
    )
}

/// 429 with `Retry-After`: too many codes asked for.
pub fn too_many(v: &View, secs: u64) -> HttpResponse {
    let text = ErrorText::Id("otp-too-many", vec![("minutes", secs.div_ceil(60).into())]);
    let mut r = view_error_page(v, StatusCode::TOO_MANY_REQUESTS, &text);
    if let Ok(val) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, val);
    }
    r
}

/// A start ("send me a code") that failed: the form again, 429, or the error page.
pub fn start_failed(
    v: &View,
    e: EngineError,
    again: impl FnOnce(StatusCode, &str) -> HttpResponse,
) -> Result<HttpResponse, PageError> {
    match e {
        EngineError::Invalid(msg) => Ok(again(StatusCode::BAD_REQUEST, &say(v.messages(), &msg))),
        EngineError::RateLimited { retry_after_secs } => Ok(too_many(v, retry_after_secs)),
        e => Err(e.into()),
    }
}

/// A code that did not work: the form again while it can be retried, otherwise a page
/// that says to start over.
pub fn code_failed(
    e: EngineError,
    again: impl FnOnce(StatusCode, &str) -> HttpResponse,
) -> Result<HttpResponse, PageError> {
    let dead = is_dead(&e);
    match e {
        EngineError::Invalid(msg) if dead => Err(PageError::bad_request(msg)),
        EngineError::Invalid(msg) => Ok(again(StatusCode::UNAUTHORIZED, &msg)),
        e => Err(e.into()),
    }
}
