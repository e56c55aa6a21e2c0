//! Passkeys on the pages: the blocks the sign-in, second-factor, link, enrolment and
//! account pages embed (hidden until `/assets/passkeys.js` finds WebAuthn), the account
//! page's passkey section, and the offer after sign-up.
//!
//! The blocks that load the script (`passkey-login.html`, `passkey-register.html`,
//! `passkey-check.html`) are fixed templates: a tenant's template includes them, never
//! rewrites them. They carry the script's status texts, in the page's language, as
//! `data-msg-*` attributes (`passkey-messages.html`).

use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::FactorKind;

use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::view::{View, context};

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

    /// The section's HTML: nothing when there is nothing to list and none may be added.
    pub fn render(&self, v: &View, csrf: &str) -> String {
        if self.rows.is_empty() && !self.can_add {
            return String::new();
        }
        let rows: Vec<_> = self
            .rows
            .iter()
            .map(|(id, label)| context! { id => id, label => label })
            .collect();
        v.render(
            "passkey-account.html",
            context! { rows => rows, can_add => self.can_add, csrf => csrf },
        )
    }
}

/// The link page's option to prove the existing account with one of its passkeys
/// (`handle` is the pending link). A template may instead include `passkey-check.html`
/// with `route = "link"` and `pending`.
pub fn link_block(v: &View, csrf: &str, handle: &str, tx: Option<&str>) -> String {
    v.render(
        "passkey-check.html",
        context! { route => "link", csrf => csrf, pending => handle, tx => tx },
    )
}

/// The page after sign-up that offers a passkey, with "Not now" going on to `next`.
pub fn offer(v: &View, csrf: &str, tx: Option<&str>, next: &str) -> String {
    v.render(
        "passkey-offer.html",
        context! { csrf => csrf, tx => tx, next => next },
    )
}
