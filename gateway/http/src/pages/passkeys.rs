//! The HTML of passkeys: the blocks the sign-in, second-factor, link, enrolment and
//! account pages embed (hidden until `/assets/passkeys.js` finds WebAuthn), the account
//! page's passkey section, and the offer after sign-up.

use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::FactorKind;

use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::html::esc;

/// The account page's passkeys: a list to rename and remove, and a button to add one.
pub struct AccountPasskeys {
    rows: Vec<(String, String)>,
    can_add: bool,
}

impl AccountPasskeys {
    /// Loads what the section shows (here, because rendering runs in a synchronous closure).
    pub async fn load(st: &AppState, t: &TenantId, user: &UserId) -> Result<Self, PageError> {
        let tenant = st.engine.tenant(t).await?;
        let rows = st
            .engine
            .signin()
            .factors(t, user)
            .await?
            .into_iter()
            .filter(|f| f.kind == FactorKind::Passkey)
            .map(|f| (f.id, f.label))
            .collect::<Vec<_>>();
        Ok(Self {
            can_add: st.engine.signin().passkeys_allowed(&tenant),
            rows,
        })
    }

    /// The section's HTML.
    pub fn render(&self, tenant: &str, csrf: &str) -> String {
        if self.rows.is_empty() && !self.can_add {
            return String::new();
        }
        let t = esc(tenant);
        let csrf_field = format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            esc(csrf)
        );
        let rows: String = self
            .rows
            .iter()
            .map(|(id, label)| {
                let id_field = format!("<input type=\"hidden\" name=\"id\" value=\"{}\">", esc(id));
                format!(
                    "<li class=\"passkey-row\"><strong>{label}</strong>\
<form method=\"post\" action=\"/{t}/account/passkeys/rename\">{csrf_field}{id_field}\
<label>New name <input type=\"text\" name=\"label\" maxlength=\"60\" value=\"{label}\" required></label>\
<button type=\"submit\" class=\"secondary\">Rename</button></form>\
<form method=\"post\" action=\"/{t}/account/factors/remove\">{csrf_field}{id_field}\
<button type=\"submit\" class=\"secondary\">Remove</button></form></li>",
                    label = esc(label),
                )
            })
            .collect();
        let list = if self.rows.is_empty() {
            "<p class=\"muted\">No passkey yet.</p>".to_owned()
        } else {
            format!("<ul class=\"passkeys\">{rows}</ul>")
        };
        let add = if self.can_add {
            register_block(tenant, csrf, None, None, "Add a passkey")
        } else {
            String::new()
        };
        format!("<h2>Passkeys</h2>{list}{add}")
    }
}

const SCRIPT_TAG: &str = "<script src=\"/assets/passkeys.js\" defer></script>";

fn data(name: &str, value: &str) -> String {
    format!(" data-{name}=\"{}\"", esc(value))
}

/// A "register a passkey" block: for the signed-in user, or (with `pending`) to enrol
/// during sign-in. Hidden until the script finds WebAuthn in the browser.
pub fn register_block(
    tenant: &str,
    csrf: &str,
    pending: Option<&str>,
    tx: Option<&str>,
    button: &str,
) -> String {
    format!(
        "<div class=\"passkey\" data-passkey=\"register\" hidden{start}{finish}{csrf}{pending}{tx}>\
<label for=\"passkey-label\">Name it <span class=\"muted\">(optional)</span></label>\
<input id=\"passkey-label\" type=\"text\" maxlength=\"60\" placeholder=\"This device\">\
<button type=\"button\" id=\"passkey-register\">{button}</button>\
<p class=\"error\" role=\"alert\" data-status hidden></p></div>{SCRIPT_TAG}",
        start = data("start", &format!("/{tenant}/passkeys/register/start")),
        finish = data("finish", &format!("/{tenant}/passkeys/register/finish")),
        csrf = data("csrf", csrf),
        pending = pending.map(|p| data("pending", p)).unwrap_or_default(),
        tx = tx.map(|t| data("tx", t)).unwrap_or_default(),
        button = esc(button),
    )
}

/// The second-factor page's passkey option.
pub fn factor_block(tenant: &str, csrf: &str, pending: &str, tx: Option<&str>) -> String {
    check_block(
        tenant,
        "factor",
        csrf,
        pending,
        tx,
        "Use the passkey on this device or a security key.",
    )
}

/// The link page's option to prove the existing account with one of its passkeys.
pub fn link_block(tenant: &str, csrf: &str, handle: &str, tx: Option<&str>) -> String {
    check_block(
        tenant,
        "link",
        csrf,
        handle,
        tx,
        "Or confirm it with a passkey of that account.",
    )
}

/// A block proving the user holds a passkey, for what `pending` names (a pending sign-in
/// or a pending link), through `/{tenant}/passkeys/{route}/start|finish`.
fn check_block(
    tenant: &str,
    route: &str,
    csrf: &str,
    pending: &str,
    tx: Option<&str>,
    intro: &str,
) -> String {
    format!(
        "<div class=\"passkey\" data-passkey=\"factor\" hidden{start}{finish}{csrf}{pending}{tx}>\
<p>{intro}</p>\
<button type=\"button\" id=\"passkey-{route}\">Use a passkey</button>\
<p class=\"error\" role=\"alert\" data-status hidden></p></div>{SCRIPT_TAG}",
        start = data("start", &format!("/{tenant}/passkeys/{route}/start")),
        finish = data("finish", &format!("/{tenant}/passkeys/{route}/finish")),
        csrf = data("csrf", csrf),
        pending = data("pending", pending),
        tx = tx.map(|t| data("tx", t)).unwrap_or_default(),
        intro = esc(intro),
    )
}

/// The page after sign-up that offers a passkey, with "Not now" going on to `next`.
pub fn offer(tenant: &str, csrf: &str, tx: Option<&str>, next: &str) -> String {
    format!(
        "<h1>Sign in faster next time</h1>\
<p>A passkey lets you sign in with your fingerprint, face or screen lock instead of a password. \
It stays on your device and cannot be phished.</p>{block}\
<p><a id=\"passkey-skip\" href=\"{next}\">Not now</a></p>",
        block = register_block(tenant, csrf, None, tx, "Add a passkey"),
        next = esc(next),
    )
}
