//! Hosted pages: plain HTML forms that work without JavaScript (passkeys, which need it,
//! load one script from this origin). Every value is escaped; pages cannot be framed and
//! are never cached.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use tollgate_engine::EngineError;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}\
main{max-width:380px;margin:8vh auto;background:#fff;padding:32px;border-radius:10px;box-shadow:0 2px 10px #0001}\
h1{font-size:1.4em;margin:0 0 20px}label{display:block;margin:14px 0 4px;font-weight:600}\
input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:10px;border:1px solid #c5c9d3;border-radius:6px;font-size:1em}\
button{margin-top:20px;width:100%;padding:11px;border:0;border-radius:6px;background:#2d5bd7;color:#fff;font-size:1em;cursor:pointer}\
button.secondary{background:#e6e8ee;color:#1d2330}.error{background:#fdecea;color:#8a1c12;padding:10px;border-radius:6px}\
.muted{color:#5b6270;font-size:.9em}ul{padding-left:20px}code{word-break:break-all}";

/// Wraps a body in the page layout.
pub fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title>\
<style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        esc(title)
    );
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .body(html)
}

/// An error page with a message safe to show.
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    page(
        status,
        "Something went wrong",
        &format!(
            "<h1>Something went wrong</h1><p class=\"error\">{}</p>",
            esc(message)
        ),
    )
}

/// An error answered as an HTML page: handlers of hosted pages return it with `?`.
#[derive(Debug)]
pub enum PageError {
    /// An engine failure, shown through [`engine_error_page`].
    Engine(EngineError),
    /// A message safe to show, with its status.
    Message(StatusCode, String),
}

impl PageError {
    /// A 400 page with `msg`.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::Message(StatusCode::BAD_REQUEST, msg.into())
    }
}

impl From<EngineError> for PageError {
    fn from(e: EngineError) -> Self {
        Self::Engine(e)
    }
}

impl From<crate::error::ApiError> for PageError {
    fn from(e: crate::error::ApiError) -> Self {
        Self::Engine(e.0)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Engine(e) => write!(f, "{e}"),
            Self::Message(_, m) => f.write_str(m),
        }
    }
}

impl actix_web::ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Engine(e) => crate::error::classify(e).0,
            Self::Message(s, _) => *s,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Engine(e) => engine_error_page(e),
            Self::Message(s, m) => error_page(*s, m),
        }
    }
}

/// The page for an engine error.
pub fn engine_error_page(e: &EngineError) -> HttpResponse {
    let (status, _code, desc, retry) = crate::error::classify(e);
    let msg = match e {
        EngineError::NotFound(_) => "This sign-in address does not exist.".to_owned(),
        EngineError::Overloaded { .. } | EngineError::Unavailable(_) => {
            "We are very busy right now. Please try again in a moment.".to_owned()
        }
        EngineError::Internal(_) => "An unexpected error occurred. Please try again.".to_owned(),
        EngineError::RateLimited { retry_after_secs } => format!(
            "Too many failed sign-in attempts. Try again in about {} minute(s).",
            retry_after_secs.div_ceil(60)
        ),
        EngineError::OAuth(_)
        | EngineError::InvalidCredentials
        | EngineError::Conflict(_)
        | EngineError::Invalid(_)
        | EngineError::WrongRegion(_) => desc,
    };
    let mut r = error_page(status, &msg);
    if let Some(s) = retry
        && let Ok(v) = header::HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

pub(crate) fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

pub(crate) fn error_block(error: Option<&str>) -> String {
    error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default()
}

/// The sign-in form; with `passkeys`, also a passkey button and passkeys in the email
/// field's autofill.
pub fn login(
    tenant: &str,
    tenant_name: &str,
    tx: Option<&str>,
    csrf: &str,
    email: &str,
    error: Option<&str>,
    passkeys: bool,
) -> String {
    let tx_field = tx.map(|t| hidden("tx", t)).unwrap_or_default();
    let signup = match tx {
        Some(t) => format!("/{tenant}/signup?tx={}", esc(t)),
        None => format!("/{tenant}/signup"),
    };
    format!(
        "<h1>Sign in to {name}</h1>{err}\
<form method=\"post\" action=\"/{tenant}/login\">{tx_field}{csrf_field}\
<label for=\"email\">Email</label><input id=\"email\" type=\"email\" name=\"email\" value=\"{email}\" autocomplete=\"{autocomplete}\" required autofocus>\
<label for=\"password\">Password</label><input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">Sign in</button>{passwordless}</form>{passkey}\
<p class=\"muted\">New here? <a href=\"{signup}\">Create an account</a></p>",
        passwordless = crate::otp_pages::login_options(tenant, tx),
        name = esc(tenant_name),
        err = error_block(error),
        csrf_field = hidden("csrf", csrf),
        email = esc(email),
        autocomplete = if passkeys {
            "username webauthn"
        } else {
            "username"
        },
        passkey = if passkeys {
            crate::passkeys::login_block(tenant, csrf, tx)
        } else {
            String::new()
        },
    )
}

/// The sign-up form.
pub fn signup(
    tenant: &str,
    tenant_name: &str,
    tx: Option<&str>,
    csrf: &str,
    email: &str,
    error: Option<&str>,
) -> String {
    let tx_field = tx.map(|t| hidden("tx", t)).unwrap_or_default();
    let login = match tx {
        Some(t) => format!("/{tenant}/login?tx={}", esc(t)),
        None => format!("/{tenant}/login"),
    };
    format!(
        "<h1>Create your {name} account</h1>{err}\
<form method=\"post\" action=\"/{tenant}/signup\">{tx_field}{csrf_field}\
<label for=\"name\">Name <span class=\"muted\">(optional)</span></label><input id=\"name\" type=\"text\" name=\"name\" autocomplete=\"name\">\
<label for=\"email\">Email</label><input id=\"email\" type=\"email\" name=\"email\" value=\"{email}\" autocomplete=\"username\" required>\
<label for=\"password\">Password</label><input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"new-password\" minlength=\"8\" required>\
<p class=\"muted\">At least 8 characters.</p>\
<button type=\"submit\">Create account</button></form>\
<p class=\"muted\">Already have an account? <a href=\"{login}\">Sign in</a></p>",
        name = esc(tenant_name),
        err = error_block(error),
        csrf_field = hidden("csrf", csrf),
        email = esc(email),
    )
}

fn describe_scope(s: &str) -> &'static str {
    match s {
        "openid" => "Know who you are (your account id)",
        "profile" => "See your name",
        "email" => "See your email address",
        "offline_access" => "Stay signed in and act for you while you are away",
        _ => "Other access",
    }
}

/// The consent page.
pub fn consent(tenant: &str, client_name: &str, scopes: &[String], tx: &str, csrf: &str) -> String {
    let items: String = scopes
        .iter()
        .map(|s| format!("<li>{}</li>", esc(describe_scope(s))))
        .collect();
    format!(
        "<h1>{client} wants access to your account</h1><p>It will be able to:</p><ul>{items}</ul>\
<form method=\"post\" action=\"/{tenant}/consent\">{tx}{csrf}\
<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>",
        client = esc(client_name),
        tx = hidden("tx", tx),
        csrf = hidden("csrf", csrf),
    )
}

/// Asks before signing out when the request could not prove it came from the user's app.
pub fn logout_confirm(tenant: &str, params: &[(&str, &str)], csrf: &str) -> String {
    let fields: String = params.iter().map(|(k, v)| hidden(k, v)).collect();
    format!(
        "<h1>Sign out?</h1><p>Do you want to sign out of {t}?</p>\
<form method=\"post\" action=\"/{t}/logout\">{fields}{csrf}<input type=\"hidden\" name=\"confirm\" value=\"yes\">\
<button type=\"submit\">Sign out</button></form>",
        t = esc(tenant),
        csrf = hidden("csrf", csrf),
    )
}

/// After sign-out without a redirect.
pub fn signed_out() -> String {
    "<h1>You are signed out</h1><p>You can close this window.</p>".into()
}

/// The minimal account page.
pub fn account(
    tenant: &str,
    email: &str,
    name: Option<&str>,
    csrf: &str,
    sections: &str,
) -> String {
    format!(
        "<h1>Your account</h1><p>Signed in as <strong>{email}</strong>{name}</p>{sections}\
<h2>Your data</h2><p><a href=\"/{t}/account/export\" download>Download my data</a> \
<span class=\"muted\">(JSON: profile, sessions, apps, consents, second factors, activity)</span></p>\
<form method=\"post\" action=\"/{t}/logout\">{csrf}<input type=\"hidden\" name=\"confirm\" value=\"yes\">\
<button type=\"submit\" class=\"secondary\">Sign out</button></form>",
        email = esc(email),
        name = name.map(|n| format!(" ({})", esc(n))).unwrap_or_default(),
        t = esc(tenant),
        csrf = hidden("csrf", csrf),
    )
}

/// The account page's connected apps, each with "remove access".
pub fn account_apps(
    tenant: &str,
    apps: &[tollgate_engine::privacy::ConnectedApp],
    csrf: &str,
) -> String {
    if apps.is_empty() {
        return String::new();
    }
    let t = esc(tenant);
    let items: String = apps
        .iter()
        .map(|a| {
            format!(
                "<li class=\"app\"><strong>{name}</strong> <span class=\"muted\">{scopes}{active}</span>\
<form method=\"post\" action=\"/{t}/account/apps/remove\" class=\"inline\">{csrf}{id}\
<button type=\"submit\" class=\"secondary\">Remove access</button></form></li>",
                name = esc(&a.name),
                scopes = esc(&a.scopes.join(" ")),
                active = if a.active_sign_ins > 0 {
                    format!(" · signed in {}×", a.active_sign_ins)
                } else {
                    String::new()
                },
                csrf = hidden("csrf", csrf),
                id = hidden("client_id", a.client_id.as_str()),
            )
        })
        .collect();
    format!("<h2>Apps with access</h2><ul class=\"apps\">{items}</ul>")
}

/// One of the user's sessions on the account page.
pub struct SessionRow {
    /// Public session id.
    pub sid: String,
    /// When it signed in (UTC, readable).
    pub signed_in: String,
    /// How (`amr`).
    pub methods: String,
    /// The session of this browser.
    pub current: bool,
}

/// The account page's list of sessions, with "sign out" for each other one.
pub fn account_sessions(tenant: &str, rows: &[SessionRow], csrf: &str) -> String {
    let t = esc(tenant);
    let items: String = rows
        .iter()
        .map(|r| {
            let action = if r.current {
                "<span class=\"muted\">this browser</span>".to_owned()
            } else {
                format!(
                    "<form method=\"post\" action=\"/{t}/account/sessions/end\" class=\"inline\">{csrf}{sid}\
<button type=\"submit\" class=\"secondary\">Sign out</button></form>",
                    csrf = hidden("csrf", csrf),
                    sid = hidden("sid", &r.sid),
                )
            };
            format!(
                "<li class=\"session\">Signed in {at} UTC <span class=\"muted\">({methods})</span> {action}</li>",
                at = esc(&r.signed_in),
                methods = esc(&r.methods),
            )
        })
        .collect();
    let others = if rows.iter().any(|r| !r.current) {
        format!(
            "<form method=\"post\" action=\"/{t}/account/sessions/end\">{csrf}{all}\
<button type=\"submit\" class=\"secondary\">Sign out all other sessions</button></form>",
            csrf = hidden("csrf", csrf),
            all = hidden("others", "yes"),
        )
    } else {
        String::new()
    };
    format!("<h2>Where you are signed in</h2><ul class=\"sessions\">{items}</ul>{others}")
}

/// The user's enrolled factors on the account page (metadata only).
pub struct FactorRow {
    /// Id, for removal.
    pub id: String,
    /// What kind.
    pub kind: &'static str,
    /// The user's label.
    pub label: String,
    /// Extra, e.g. "7 codes left".
    pub note: String,
}

fn factor_name(kind: &str) -> &'static str {
    match kind {
        "totp" => "Authenticator app",
        "passkey" => "Passkey",
        "email" => "Code by email",
        "phone" => "Code by text message",
        "recovery_codes" => "Recovery code",
        _ => "Second factor",
    }
}

/// The second-factor step of a sign-in (or of a step-up): a code from one of `kinds`.
pub fn second_factor(
    tenant: &str,
    handle: &str,
    tx: Option<&str>,
    kinds: &[&str],
    csrf: &str,
    error: Option<&str>,
) -> String {
    let tx_field = tx.map(|t| hidden("tx", t)).unwrap_or_default();
    let mut forms = String::new();
    for kind in kinds {
        if *kind == "passkey" {
            forms.push_str(&crate::passkeys::factor_block(tenant, csrf, handle, tx));
            continue;
        }
        let (label, input) = match *kind {
            "totp" => (
                "The 6-digit code from your authenticator app",
                "<input id=\"code-totp\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9 ]{6,7}\" required autofocus>",
            ),
            "recovery_codes" => (
                "One of your recovery codes",
                "<input id=\"code-recovery_codes\" name=\"code\" autocomplete=\"off\" required>",
            ),
            "email" | "phone" => {
                forms.push_str(&crate::otp_pages::send_factor_code(
                    tenant, handle, tx, kind, csrf,
                ));
                crate::otp_pages::factor_code_input(kind)
            }
            _ => continue,
        };
        forms.push_str(&format!(
            "<form method=\"post\" action=\"/{t}/login/factor\">{tx_field}{csrf}{handle}{method}\
<label for=\"code-{kind}\">{label}</label>{input}<button type=\"submit\">Verify</button></form>",
            t = esc(tenant),
            csrf = hidden("csrf", csrf),
            handle = hidden("handle", handle),
            method = hidden("method", kind),
            label = esc(label),
        ));
    }
    format!(
        "<h1>Confirm it is you</h1><p>Your account is protected with a second step. Use one of these:</p>{err}{forms}",
        err = error_block(error),
    )
}

/// Enrolling an authenticator app: the QR code (rendered here), the secret for typing in,
/// and a field for the first code. `action` receives it with `handle` (a pending sign-in,
/// when enrolling during sign-in) and `enrol`.
#[allow(clippy::too_many_arguments)]
pub fn enrol_totp(
    action: &str,
    qr_svg: &str,
    secret: &str,
    enrol: &str,
    handle: Option<&str>,
    tx: Option<&str>,
    csrf: &str,
    error: Option<&str>,
) -> String {
    // The SVG comes from the QR encoder here, not from input: it holds no user text.
    format!(
        "<h1>Set up an authenticator app</h1>{err}<p>Scan this code with your authenticator app.</p>\
<div class=\"qr\">{qr_svg}</div><p>Or enter this key by hand: <code id=\"totp-secret\">{secret}</code></p>\
<form method=\"post\" action=\"{action}\">{csrf}{enrol}{handle}{tx}\
<label for=\"label\">Name it <span class=\"muted\">(optional)</span></label><input id=\"label\" name=\"label\" maxlength=\"60\">\
<label for=\"code\">Then type the 6-digit code it shows</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required>\
<button type=\"submit\">Turn on</button></form>",
        err = error_block(error),
        secret = esc(secret),
        action = esc(action),
        csrf = hidden("csrf", csrf),
        enrol = hidden("enrol", enrol),
        handle = handle.map(|h| hidden("handle", h)).unwrap_or_default(),
        tx = tx.map(|t| hidden("tx", t)).unwrap_or_default(),
    )
}

/// Recovery codes, shown once.
pub fn recovery_codes(codes: &[String], continue_url: &str) -> String {
    let items: String = codes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>", esc(c)))
        .collect();
    format!(
        "<h1>Save your recovery codes</h1><p>Each code signs you in once if you lose your second factor. \
Keep them somewhere safe: they are not shown again.</p><ul class=\"codes\">{items}</ul>\
<p><a class=\"button\" href=\"{url}\">Continue</a></p>",
        url = esc(continue_url),
    )
}

/// The account page's two-step verification section.
pub fn account_factors(tenant: &str, factors: &[FactorRow], csrf: &str) -> String {
    let t = esc(tenant);
    let rows: String = factors
        .iter()
        .map(|f| {
            format!(
                "<li><strong>{name}</strong> {label} <span class=\"muted\">{note}</span>\
<form method=\"post\" action=\"/{t}/account/factors/remove\" class=\"inline\">{csrf}{id}\
<button type=\"submit\" class=\"secondary\">Remove</button></form></li>",
                name = factor_name(f.kind),
                label = esc(&f.label),
                note = esc(&f.note),
                csrf = hidden("csrf", csrf),
                id = hidden("id", &f.id),
            )
        })
        .collect();
    let list = if factors.is_empty() {
        "<p class=\"muted\">No second factor yet.</p>".to_owned()
    } else {
        format!("<ul class=\"factors\">{rows}</ul>")
    };
    format!(
        "<h2>Two-step verification</h2>{list}<p><a href=\"/{t}/account/totp\">Add an authenticator app</a></p>\
<form method=\"post\" action=\"/{t}/account/recovery-codes\">{csrf}<button type=\"submit\" class=\"secondary\">New recovery codes</button></form>",
        csrf = hidden("csrf", csrf),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_break_out() {
        assert_eq!(
            esc("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;"
        );
        let html = login(
            "acme",
            "<script>",
            Some("\"><script>"),
            "c",
            "\"x",
            Some("<b>"),
            true,
        );
        assert!(!html.contains("<script>") && !html.contains("<b>"));
    }
}
