//! Federation's pages: the "continue with …" buttons, the page that links an upstream
//! identity to an existing account, the failure page, and the account page's "Sign-in
//! methods" section; templates `fed-*.html`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use minijinja::value::Serde;
use tollgate_engine::federation as fed;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::User;

use crate::pages::passkeys;
use crate::state::AppState;
use crate::web::csrf::view_form_page;
use crate::web::error::PageError;
use crate::web::view::{Value, View, context};

/// The sign-in page, continuing `tx` if any.
pub fn login_url(t: &TenantId, tx: Option<&str>) -> String {
    match tx {
        Some(tx) => format!("/{t}/login?tx={tx}"),
        None => format!("/{t}/login"),
    }
}

/// The view of a federation page: its language switcher goes to the sign-in page (the
/// callback's own URL carries a single-use code, and the link step has no page of its
/// own to come back to), keeping `tx`.
pub fn view(v: View, t: &TenantId, tx: Option<&str>) -> View {
    let keep = tx
        .map(|tx| vec![("tx".to_owned(), tx.to_owned())])
        .unwrap_or_default();
    v.switch_to(format!("/{t}/login"), keep)
}

/// A federated sign-in that failed (`message`, in the page's language), with the way
/// back to the sign-in page.
pub fn failure_page(
    v: &View,
    t: &TenantId,
    status: StatusCode,
    message: &str,
    tx: Option<&str>,
) -> HttpResponse {
    let back = login_url(t, tx);
    v.page(
        status,
        "fed-failed-title",
        v.render("fed-failed.html", context! { message, back }),
    )
}

/// One "continue with …" button.
#[derive(serde::Serialize)]
struct Button {
    id: String,
    name: String,
}

/// The "continue with …" buttons for the tenant's enabled connectors (empty if none).
pub async fn login_buttons(st: &AppState, v: &View, t: &TenantId, tx: Option<&str>) -> String {
    let Ok(connectors) = st.engine.federation().connectors(t).await else {
        return String::new();
    };
    let connectors: Vec<Button> = connectors
        .iter()
        .filter(|c| c.enabled)
        .map(|c| Button {
            id: c.id.clone(),
            name: c.display_name.clone(),
        })
        .collect();
    if connectors.is_empty() {
        return String::new();
    }
    v.render(
        "fed-buttons.html",
        context! { tx, connectors => Value::from(Serde(&connectors)) },
    )
}

/// Asks to confirm an existing account before linking the upstream identity to it;
/// `error` is a message already in the page's language.
#[allow(clippy::too_many_arguments)]
pub fn link_page(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    status: StatusCode,
    provider: &str,
    handle: &str,
    tx: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    view_form_page(st, req, v, t, status, "fed-link-page-title", |csrf| {
        let passkey = if st.engine.signin().passkeys_available() {
            passkeys::link_block(v, csrf, handle, tx)
        } else {
            String::new()
        };
        v.render(
            "fed-link.html",
            context! {
                provider, handle, csrf, error,
                back => login_url(t, tx),
                passkey => Value::from_safe_string(passkey),
            },
        )
    })
}

/// One linked identity on the account page.
#[derive(serde::Serialize)]
struct IdentityRow {
    name: String,
    email: Option<String>,
    provider: String,
    key: String,
    linked: u64,
    used: u64,
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

    /// The section (nothing when no identity is linked).
    pub fn render(&self, v: &View, csrf: &str) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let rows: Vec<IdentityRow> = self
            .rows
            .iter()
            .map(|r| IdentityRow {
                name: r.display_name.clone(),
                email: r.email.clone(),
                provider: r.provider.clone(),
                key: r.key.clone(),
                linked: r.created_at,
                used: r.last_login_at,
            })
            .collect();
        v.render(
            "fed-identities.html",
            context! {
                csrf,
                rows => Value::from(Serde(&rows)),
                has_password => self.has_password,
                can_unlink => self.can_unlink,
            },
        )
    }
}
