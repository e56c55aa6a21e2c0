//! The HTML of the code and link pages (email and phone), and the answers those flows
//! share when sending or checking a code fails. Forms work without JavaScript.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use tollgate_engine::EngineError;
use tollgate_engine::ids::TenantId;
use tollgate_engine::signin::otp::is_dead;

use crate::state::AppState;
use crate::web::csrf::form_page;
use crate::web::error::PageError;
use crate::web::html::{error_block, error_page, esc, hidden};

fn tx_field(tx: Option<&str>) -> String {
    tx.map(|t| hidden("tx", t)).unwrap_or_default()
}

/// On the second-factor page: the button that sends an email or phone code.
pub fn send_factor_code(
    tenant: &str,
    handle: &str,
    tx: Option<&str>,
    kind: &str,
    csrf: &str,
) -> String {
    let what = if kind == "email" {
        "Email me a code"
    } else {
        "Text me a code"
    };
    format!(
        "<form method=\"post\" action=\"/{t}/login/factor/send\">{tx}{csrf}{handle}{method}\
<button type=\"submit\" class=\"secondary\">{what}</button></form>",
        t = esc(tenant),
        tx = tx_field(tx),
        csrf = hidden("csrf", csrf),
        handle = hidden("handle", handle),
        method = hidden("method", kind),
    )
}

/// The label and input of an email or phone code on the second-factor page.
pub fn factor_code_input(kind: &str) -> (&'static str, &'static str) {
    if kind == "email" {
        (
            "The 6-digit code we emailed you",
            "<input id=\"code-email\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required>",
        )
    } else {
        (
            "The 6-digit code we sent to your phone",
            "<input id=\"code-phone\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required>",
        )
    }
}

/// What a code form carries besides the code.
pub struct CodeForm<'a> {
    /// Where it posts.
    pub action: String,
    /// Page heading.
    pub title: &'a str,
    /// The sentence above the field (already safe: built from escaped parts).
    pub intro: String,
    /// The challenge handle, when the browser holds one.
    pub handle: Option<&'a str>,
    /// The method of a second factor.
    pub method: Option<&'a str>,
    /// The authorization request in progress.
    pub tx: Option<&'a str>,
    /// Ask for a new password too (reset).
    pub new_password: bool,
    /// Button text.
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
            title: "Check your email",
            intro,
            handle: Some(handle),
            method: None,
            tx,
            new_password: false,
            button,
        }
    }
}

/// A page that asks for a 6-digit code.
pub fn code_form(f: &CodeForm<'_>, csrf: &str, error: Option<&str>) -> String {
    let password = if f.new_password {
        "<label for=\"password\">New password</label><input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"new-password\" minlength=\"8\" required>\
<p class=\"muted\">At least 8 characters.</p>"
    } else {
        ""
    };
    format!(
        "<h1>{title}</h1>{err}<p>{intro}</p><form method=\"post\" action=\"{action}\">{csrf}{handle}{method}{tx}\
<label for=\"code\">Code</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"9\" required autofocus>\
{password}<button type=\"submit\">{button}</button></form>",
        title = esc(f.title),
        err = error_block(error),
        intro = f.intro,
        action = esc(&f.action),
        csrf = hidden("csrf", csrf),
        handle = f.handle.map(|h| hidden("handle", h)).unwrap_or_default(),
        method = f.method.map(|m| hidden("method", m)).unwrap_or_default(),
        tx = tx_field(f.tx),
        button = esc(f.button),
    )
}

/// The intro of a code page for an address or number as typed: uniform, whether or not
/// an account has it.
pub fn sent_if_exists(recipient: &str, link: bool) -> String {
    format!(
        "If an account exists for <strong>{}</strong>, we sent it a 6-digit code{}. Enter the code here.",
        esc(recipient),
        if link { " and a link" } else { "" }
    )
}

/// The intro of a code page for a known recipient (already masked).
pub fn sent_to(recipient: &str) -> String {
    format!(
        "We sent a 6-digit code to <strong>{}</strong>. Enter it here.",
        esc(recipient)
    )
}

/// A form that asks for an email address.
pub fn email_form(
    action: &str,
    title: &str,
    intro: &str,
    tx: Option<&str>,
    csrf: &str,
    email: &str,
    error: Option<&str>,
) -> String {
    format!(
        "<h1>{title}</h1>{err}<p>{intro}</p><form method=\"post\" action=\"{action}\">{csrf}{tx}\
<label for=\"email\">Email</label><input id=\"email\" type=\"email\" name=\"email\" value=\"{email}\" autocomplete=\"username\" required autofocus>\
<button type=\"submit\">Send me a code</button></form>",
        title = esc(title),
        err = error_block(error),
        intro = esc(intro),
        action = esc(action),
        csrf = hidden("csrf", csrf),
        tx = tx_field(tx),
        email = esc(email),
    )
}

/// A form that asks for a phone number and the channel.
pub fn phone_form(
    action: &str,
    title: &str,
    intro: &str,
    tx: Option<&str>,
    csrf: &str,
    number: &str,
    error: Option<&str>,
) -> String {
    format!(
        "<h1>{title}</h1>{err}<p>{intro}</p><form method=\"post\" action=\"{action}\">{csrf}{tx}\
<label for=\"phone\">Mobile number</label><input id=\"phone\" type=\"tel\" name=\"phone\" value=\"{number}\" autocomplete=\"tel\" placeholder=\"+91 98765 43210\" required autofocus>\
<p class=\"muted\">With the country code, starting with +.</p>\
<label><input type=\"radio\" name=\"channel\" value=\"sms\" checked> Text message (SMS)</label>\
<label><input type=\"radio\" name=\"channel\" value=\"whatsapp\"> WhatsApp</label>\
<button type=\"submit\">Send me a code</button></form>",
        title = esc(title),
        err = error_block(error),
        intro = esc(intro),
        action = esc(action),
        csrf = hidden("csrf", csrf),
        tx = tx_field(tx),
        number = esc(number),
    )
}

/// The page a link opens: one button that uses it (mail scanners follow links; only a
/// person presses the button). `new_password` asks for the new password too.
#[allow(clippy::too_many_arguments)]
pub fn link_confirm(
    action: &str,
    title: &str,
    intro: &str,
    token: &str,
    csrf: &str,
    button: &str,
    new_password: bool,
    error: Option<&str>,
) -> String {
    let password = if new_password {
        "<label for=\"password\">New password</label><input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"new-password\" minlength=\"8\" required autofocus>\
<p class=\"muted\">At least 8 characters.</p>"
    } else {
        ""
    };
    format!(
        "<h1>{title}</h1>{err}<p>{intro}</p><form method=\"post\" action=\"{action}\">{csrf}{token}{password}\
<button type=\"submit\">{button}</button></form>",
        title = esc(title),
        err = error_block(error),
        intro = esc(intro),
        action = esc(action),
        csrf = hidden("csrf", csrf),
        token = hidden("token", token),
        button = esc(button),
    )
}

/// The account page's email and phone section.
pub fn account_contact(tenant: &str, email_verified: bool, csrf: &str) -> String {
    let t = esc(tenant);
    let email = if email_verified {
        "<p id=\"email-status\">Email address: <strong>verified</strong></p>".to_owned()
    } else {
        format!(
            "<p id=\"email-status\">Email address: <strong>not verified</strong>. Enter the code we emailed you.</p>\
<form method=\"post\" action=\"/{t}/account/email/verify\">{csrf}\
<label for=\"verify-code\">Code</label><input id=\"verify-code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required>\
<button type=\"submit\">Verify</button></form>\
<form method=\"post\" action=\"/{t}/account/email/send\">{csrf}<button type=\"submit\" class=\"secondary\">Email me a new code</button></form>",
            csrf = hidden("csrf", csrf),
        )
    };
    format!(
        "<h2>Contact details</h2>{email}<p><a href=\"/{t}/account/phone\">Add a mobile number</a></p>"
    )
}

/// A short message page with a link onwards.
pub fn notice(title: &str, message: &str, link: &str, link_text: &str) -> String {
    format!(
        "<h1>{}</h1><p>{}</p><p><a href=\"{}\">{}</a></p>",
        esc(title),
        esc(message),
        esc(link),
        esc(link_text)
    )
}

/// 429 with `Retry-After`: too many codes asked for.
pub fn too_many(secs: u64) -> HttpResponse {
    let mut r = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "Too many codes were asked for. Try again in about {} minute(s).",
            secs.div_ceil(60)
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// A start ("send me a code") that failed: the form again, 429, or the error page.
pub fn start_failed(
    e: EngineError,
    again: impl FnOnce(StatusCode, &str) -> HttpResponse,
) -> Result<HttpResponse, PageError> {
    match e {
        EngineError::Invalid(msg) => Ok(again(StatusCode::BAD_REQUEST, &msg)),
        EngineError::RateLimited { retry_after_secs } => Ok(too_many(retry_after_secs)),
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

/// Renders a code form.
pub fn code_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    status: StatusCode,
    form: &CodeForm<'_>,
    error: Option<&str>,
) -> HttpResponse {
    form_page(st, req, t, status, form.title, |csrf| {
        code_form(form, csrf, error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_was_typed() {
        let html = email_form("/a/x", "T", "i", Some("\"><b>"), "c", "<script>", None);
        assert!(!html.contains("<script>") && !html.contains("<b>"));
        let html = phone_form("/a/x", "T", "i", None, "c", "\"><i>", Some("<u>"));
        assert!(!html.contains("<i>") && !html.contains("<u>"));
        assert!(!sent_if_exists("<a@b.c>", true).contains("<a@"));
    }
}
