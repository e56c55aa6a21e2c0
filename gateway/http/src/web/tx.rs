//! The sealed authorization request (`tx`) that a sign-in carries from page to page:
//! the engine seals it, the browser holds it, and it comes back in a query or a form.

use tollgate_engine::ids::TenantId;
use tollgate_engine::oauth::authorize::AuthRequest;

use crate::state::AppState;
use crate::web::error::PageError;

/// What a page says when its `tx` expired or was tampered with.
pub const STALE_LINK: &str = "This link expired. Go back to the application and try again.";

/// The `?tx=` of a page.
#[derive(serde::Deserialize)]
pub struct TxQuery {
    /// The sealed authorization request, if the page continues one.
    pub tx: Option<String>,
}

/// The sealed authorization request named by `tx`: `None` without one, an error page if
/// it is present but expired or tampered with.
pub fn open_tx(
    st: &AppState,
    t: &TenantId,
    tx: Option<&String>,
) -> Result<Option<AuthRequest>, PageError> {
    match tx {
        None => Ok(None),
        Some(tx) => st
            .engine
            .oauth()
            .open_request(t, tx)
            .map(Some)
            .ok_or_else(|| PageError::bad_request(STALE_LINK)),
    }
}

/// Seals the authorization request in progress, if any.
pub fn sealed(st: &AppState, t: &TenantId, areq: Option<&AuthRequest>) -> Option<String> {
    areq.map(|a| st.engine.oauth().seal_request(t, a))
}
