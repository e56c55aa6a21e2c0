//! The browser's session, from its session cookie.

use actix_web::{HttpRequest, HttpResponse};
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::Session;

use crate::state::AppState;
use crate::web::cookies::SESSION_COOKIE;
use crate::web::error::PageError;
use crate::web::respond::see_other;

/// The session behind this browser's cookie, if any.
pub async fn current_session(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
) -> Result<Option<Session>, PageError> {
    match req.cookie(SESSION_COOKIE) {
        Some(c) => Ok(st.engine.signin().session(t, c.value()).await?),
        None => Ok(None),
    }
}

/// The signed-in user, or a redirect to sign in.
pub async fn signed_in_user(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
) -> Result<Result<UserId, HttpResponse>, PageError> {
    Ok(match current_session(st, req, t).await? {
        Some(s) => Ok(s.user_id),
        None => Err(see_other(&format!("/{t}/login"))),
    })
}
