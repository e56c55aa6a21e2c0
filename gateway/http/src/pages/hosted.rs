//! The hosted sign-in pages: sign-in, sign-up, consent, sign-out and the account page's
//! frame, sessions and apps, each a template (`gateway/ui/templates`) rendered through
//! [`View`] in the reader's language.

use minijinja::value::Serde;
use tollgate_engine::account::privacy::ConnectedApp;
use tollgate_engine::model::Session;

use tollgate_ui::Fill;

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
    // The request's own values are holes in an output kept per shape (the shipped
    // look); what shapes the page (an error, passkeys, a sign-in in progress) is stable.
    let mut fills = vec![
        Fill {
            name: "csrf",
            value: csrf,
            safe: false,
        },
        Fill {
            name: "email",
            value: email,
            safe: false,
        },
        Fill {
            name: "federation",
            value: &federation,
            safe: true,
        },
    ];
    if let Some(tx) = tx {
        fills.push(Fill {
            name: "tx",
            value: tx,
            safe: false,
        });
    }
    // A tenant with connectors may route organisations' domains to them: offer the
    // organisation's sign-in (the address alone) there.
    let sso = !federation.is_empty();
    let stable = [
        ("error", Value::from(error)),
        ("passkeys", Value::from(passkeys)),
        ("sso", Value::from(sso)),
    ];
    v.render_filled("login.html", &stable, &fills)
}

/// The sign-up form.
pub fn signup(
    v: &View,
    tx: Option<&str>,
    csrf: &str,
    name: &str,
    email: &str,
    error: Option<&str>,
    age: crate::web::view::Value,
) -> String {
    v.render(
        "signup.html",
        context! { tx, csrf, name, email, error, age },
    )
}

/// The catalogue message saying what a scope lets the client do, if it is one the
/// pages know (the consent and device pages).
pub fn scope_message(s: &str) -> Option<&'static str> {
    Some(match s {
        "openid" => "scope-openid",
        "profile" => "scope-profile",
        "email" => "scope-email",
        "offline_access" => "scope-offline_access",
        "phone" => "scope-phone",
        "verified_claims" => "scope-verified_claims",
        "verify" => "scope-verify",
        _ => return None,
    })
}

/// Stands for the scope inside `scope-at-api`, so the template can set the scope itself
/// apart (as code) wherever a language puts it in the sentence.
const SCOPE_MARK: &str = "\u{E000}";

/// One line of "it will be able to": `before`, then `code` (a scope's own name, shown as
/// code) and `after` when the line names an API's scope.
#[derive(Debug, serde::Serialize)]
pub struct ScopeLine {
    before: String,
    code: Option<String>,
    after: String,
}

/// What `scopes` let the client do, in words. `api` names the API the request is for
/// (RFC 8707 `resource`): scopes the pages do not know are shown as what they are, at
/// that API.
pub fn scope_lines(v: &View, scopes: &[String], api: Option<&str>) -> Vec<ScopeLine> {
    scopes
        .iter()
        .map(|s| match (scope_message(s), api) {
            (Some(id), _) => ScopeLine {
                before: v.t(id),
                code: None,
                after: String::new(),
            },
            (None, Some(api)) => {
                let line = v.tr(
                    "scope-at-api",
                    &[("scope", SCOPE_MARK.into()), ("api", api.into())],
                );
                let (before, after) = line.split_once(SCOPE_MARK).unwrap_or((&line, ""));
                ScopeLine {
                    before: before.to_owned(),
                    code: Some(s.clone()),
                    after: after.to_owned(),
                }
            }
            (None, None) => ScopeLine {
                before: v.t("scope-other"),
                code: None,
                after: String::new(),
            },
        })
        .collect()
}

/// The consent page.
pub fn consent(
    v: &View,
    client: &str,
    scopes: &[String],
    api: Option<&str>,
    tx: &str,
    csrf: &str,
) -> String {
    let scopes = scope_lines(v, scopes, api);
    v.render(
        "consent.html",
        context! { client, tx, csrf, scopes => Value::from(Serde(&scopes)) },
    )
}

/// Asks before signing out when the request could not prove it came from the user's
/// app; `params` are the logout request's, carried to the confirmation.
pub fn logout_confirm(v: &View, params: &[(&str, &str)], csrf: &str) -> String {
    v.render(
        "sign-out.html",
        context! { csrf, params => Value::from(Serde(params)) },
    )
}

/// After sign-out: where the browser goes next, if anywhere, and the apps' front-channel
/// logout pages in hidden frames. The frames are a fixed part after the page's own
/// template, so a tenant's sign-out page cannot leave an app signed in.
pub fn signed_out(v: &View, frames: &[String], next: Option<&str>) -> String {
    let mut body = v.render("signed-out.html", context! { next });
    if !frames.is_empty() {
        body.push_str(&v.render(
            "logout-frames.html",
            context! { frames => Value::from(Serde(frames)) },
        ));
    }
    body
}

/// The account page: who is signed in, the sections (already rendered), the data export
/// and sign-out.
pub fn account(v: &View, email: &str, name: Option<&str>, csrf: &str, sections: String) -> String {
    v.render(
        "account.html",
        context! { email, name, csrf, sections => Value::from_safe_string(sections) },
    )
}

/// One app on the account page.
#[derive(serde::Serialize)]
struct AppRow {
    name: String,
    client_id: String,
    scopes: String,
    active: usize,
}

/// The account page's connected apps, each with "remove access" (nothing without any).
pub fn account_apps(v: &View, apps: &[ConnectedApp], csrf: &str) -> String {
    let apps: Vec<AppRow> = apps
        .iter()
        .map(|a| AppRow {
            name: a.name.clone(),
            client_id: a.client_id.to_string(),
            // An API's scope is recorded as `{api}#{scope}` (an API id has no fragment).
            scopes: a
                .scopes
                .iter()
                .map(|s| match s.split_once('#') {
                    Some((api, scope)) => v.tr(
                        "scope-at-api",
                        &[("scope", scope.into()), ("api", api.into())],
                    ),
                    None => s.clone(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            active: a.active_sign_ins,
        })
        .collect();
    v.render(
        "account-apps.html",
        context! { csrf, apps => Value::from(Serde(&apps)) },
    )
}

/// One of the user's sessions on the account page.
#[derive(serde::Serialize)]
pub struct SessionRow {
    /// Public session id.
    pub sid: String,
    /// When it signed in (Unix seconds; the page shows it in the reader's language).
    pub signed_in: u64,
    /// How (`amr`).
    pub methods: String,
    /// The session of this browser.
    pub current: bool,
}

impl SessionRow {
    /// The row of `s`; `current` is this browser's session id.
    pub fn of(s: Session, current: &str) -> Self {
        Self {
            current: s.sid == current,
            signed_in: s.auth.auth_time,
            methods: s.auth.amr.join(", "),
            sid: s.sid,
        }
    }
}

/// The account page's list of sessions, with "sign out" for each other one.
pub fn account_sessions(v: &View, sessions: &[SessionRow], csrf: &str) -> String {
    let others = sessions.iter().any(|r| !r.current);
    v.render(
        "account-sessions.html",
        context! { others, csrf, sessions => Value::from(Serde(sessions)) },
    )
}
