//! The HTML of federation: the "continue with …" buttons, the page that links an
//! upstream identity to an existing account, the failure page, and the account page's
//! "Sign-in methods" section.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tollgate_engine::federation as fed;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::User;

use crate::pages::passkeys;
use crate::state::AppState;
use crate::web::csrf::form_page;
use crate::web::error::PageError;
use crate::web::html::{self, error_block, esc, hidden};

/// The sign-in page, continuing `tx` if any.
pub fn login_url(t: &TenantId, tx: Option<&str>) -> String {
    match tx {
        Some(tx) => format!("/{t}/login?tx={tx}"),
        None => format!("/{t}/login"),
    }
}

/// A federated sign-in that failed, with the way back to the sign-in page.
pub fn failure_page(t: &TenantId, status: StatusCode, msg: &str, tx: Option<&str>) -> HttpResponse {
    html::page(
        status,
        "Sign-in failed",
        &format!(
            "<h1>Sign-in failed</h1><p class=\"error\" role=\"alert\">{}</p>\
<p><a href=\"{}\">Back to sign-in</a></p>",
            esc(msg),
            esc(&login_url(t, tx))
        ),
    )
}

/// The "continue with …" buttons for the tenant's enabled connectors (empty if none).
pub async fn login_buttons(st: &AppState, t: &TenantId, tx: Option<&str>) -> String {
    let Ok(connectors) = st.engine.federation().connectors(t).await else {
        return String::new();
    };
    let buttons: String = connectors
        .iter()
        .filter(|c| c.enabled)
        .map(|c| {
            format!(
                "<form method=\"get\" action=\"/{t}/federation/{id}/start\">{tx}\
<button class=\"secondary\" type=\"submit\">Continue with {name}</button></form>",
                id = esc(&c.id),
                tx = tx.map(|v| hidden("tx", v)).unwrap_or_default(),
                name = esc(&c.display_name),
            )
        })
        .collect();
    if buttons.is_empty() {
        return buttons;
    }
    format!("<div class=\"federation\"><p class=\"muted\">Or sign in with</p>{buttons}</div>")
}

/// Asks to confirm an existing account before linking the upstream identity to it.
#[allow(clippy::too_many_arguments)]
pub fn link_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    status: StatusCode,
    provider: &str,
    handle: &str,
    tx: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    form_page(st, req, t, status, "Link your account", |csrf| {
        format!(
            "<h1>You already have an account</h1>{err}\
<p>An account with the email address {provider} gave us already exists here. \
To sign in with {provider} from now on, confirm it is yours with its password or one of its passkeys.</p>\
<form method=\"post\" action=\"/{t}/federation/link\">{handle}{csrf}\
<label for=\"password\">Password</label>\
<input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" required autofocus>\
<button type=\"submit\">Link and sign in</button></form>{passkey}\
<p class=\"muted\"><a href=\"{back}\">Cancel</a></p>",
            err = error_block(error),
            passkey = if st.engine.signin().passkeys_available() {
                passkeys::link_block(t.as_str(), csrf, handle, tx)
            } else {
                String::new()
            },
            provider = esc(provider),
            handle = hidden("handle", handle),
            csrf = hidden("csrf", csrf),
            back = esc(&login_url(t, tx)),
        )
    })
}

/// The account page's "Sign-in methods" section.
pub struct AccountIdentities {
    rows: Vec<fed::LinkedIdentity>,
    has_password: bool,
    can_unlink: bool,
}

impl AccountIdentities {
    /// Loads what the section shows (here, because rendering runs in a synchronous closure).
    pub async fn load(st: &AppState, t: &TenantId, user: &User) -> Result<Self, PageError> {
        Ok(Self {
            rows: st
                .engine
                .federation()
                .linked_identities(t, &user.id)
                .await?,
            has_password: user.password_hash.is_some(),
            can_unlink: st.engine.federation().can_unlink(t, user).await?,
        })
    }

    /// The section's HTML.
    pub fn render(&self, t: &str, csrf: &str) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let day = |s: u64| {
            time::OffsetDateTime::from_unix_timestamp(s as i64)
                .ok()
                .and_then(|d| {
                    d.format(time::macros::format_description!("[year]-[month]-[day]"))
                        .ok()
                })
                .unwrap_or_default()
        };
        let mut rows = String::new();
        if self.has_password {
            rows.push_str("<li>Password</li>");
        }
        for r in &self.rows {
            let unlink = if self.can_unlink {
                format!(
                    "<form method=\"post\" action=\"/{t}/account/identities/unlink\">{}{}{}\
<button class=\"secondary\" type=\"submit\">Unlink {}</button></form>",
                    hidden("csrf", csrf),
                    hidden("provider", &r.provider),
                    hidden("key", &r.key),
                    esc(&r.display_name),
                )
            } else {
                "<p class=\"muted\">This is your only way to sign in, so it cannot be removed.</p>"
                    .to_owned()
            };
            rows.push_str(&format!(
                "<li><strong>{name}</strong>{email} <span class=\"muted\">linked {linked}, last used {used}</span>{unlink}</li>",
                name = esc(&r.display_name),
                email = r
                    .email
                    .as_deref()
                    .map(|e| format!(" ({})", esc(e)))
                    .unwrap_or_default(),
                linked = day(r.created_at),
                used = day(r.last_login_at),
            ));
        }
        format!("<h2>Sign-in methods</h2><ul class=\"identities\">{rows}</ul>")
    }
}
