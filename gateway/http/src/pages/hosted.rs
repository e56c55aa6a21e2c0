//! The HTML of the hosted sign-in pages: sign-in, sign-up, consent, sign-out and the
//! account page's frame, sessions and apps.

use crate::web::html::{esc, hidden};
use crate::web::view::{Value, View, context};

/// The sign-in form; with `passkeys`, also a passkey button and passkeys in the email
/// field's autofill. `federation` is the providers' buttons, already rendered.
pub fn login(
    v: &View,
    tx: Option<&str>,
    csrf: &str,
    email: &str,
    error: Option<&str>,
    passkeys: bool,
    federation: String,
) -> String {
    v.render(
        "login.html",
        context! {
            tx, csrf, email, error, passkeys,
            federation => Value::from_safe_string(federation),
        },
    )
}

/// The sign-up form.
pub fn signup(
    v: &View,
    tx: Option<&str>,
    csrf: &str,
    name: &str,
    email: &str,
    error: Option<&str>,
) -> String {
    v.render("signup.html", context! { tx, csrf, name, email, error })
}

/// What a scope lets the client do, in words (the consent and device pages).
pub fn describe_scope(s: &str) -> &'static str {
    match s {
        "openid" => "Know who you are (your account id)",
        "profile" => "See your name",
        "email" => "See your email address",
        "offline_access" => "Stay signed in and act for you while you are away",
        _ => "Other access",
    }
}

/// The consent page. `api` names the API the request is for (RFC 8707 `resource`): its
/// scopes are shown as what they are, at that API.
pub fn consent(
    tenant: &str,
    client_name: &str,
    scopes: &[String],
    api: Option<&str>,
    tx: &str,
    csrf: &str,
) -> String {
    let items: String = scopes
        .iter()
        .map(|s| match api {
            Some(api) if describe_scope(s) == "Other access" => {
                format!("<li><code>{}</code> at {}</li>", esc(s), esc(api))
            }
            _ => format!("<li>{}</li>", esc(describe_scope(s))),
        })
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

/// After sign-out, with the apps' front-channel logout pages in hidden iframes, and a link
/// to where the browser goes next (it also goes there by itself, by `Refresh`).
pub fn signed_out_frames(frames: &[String], next: Option<&str>) -> String {
    let frames: String = frames
        .iter()
        .map(|u| {
            format!(
                "<iframe src=\"{}\" title=\"sign-out\" hidden style=\"display:none\"></iframe>",
                esc(u)
            )
        })
        .collect();
    let next = next
        .map(|u| format!("<p><a href=\"{}\">Continue</a></p>", esc(u)))
        .unwrap_or_else(|| "<p>You can close this window.</p>".into());
    format!("<h1>You are signed out</h1>{next}{frames}")
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
    apps: &[tollgate_engine::account::privacy::ConnectedApp],
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
                // An API's scope is recorded as `{api}#{scope}` (an API id has no fragment).
                scopes = esc(&a
                    .scopes
                    .iter()
                    .map(|s| match s.split_once('#') {
                        Some((api, scope)) => format!("{scope} at {api}"),
                        None => s.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_break_out() {
        assert_eq!(
            esc("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;"
        );
    }
}
