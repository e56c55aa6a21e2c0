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
    match st.cookies.read(req, SESSION_COOKIE, t.as_str()) {
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

/// Where a browser re-proves who it is before a credential change, then returns to `next`.
pub fn reauth_url(t: &TenantId, next: &str) -> String {
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("/{t}/account/reauth?next={next}")
}

/// The session, if its sign-in is recent enough for a credential change; otherwise a
/// redirect to sign in, or to "confirm it's you" and back to `back` (a path of this tenant).
pub async fn recent_session(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    back: &str,
) -> Result<Result<Session, HttpResponse>, PageError> {
    Ok(match current_session(st, req, t).await? {
        Some(s) if st.engine.signin().is_recent(&s) => Ok(s),
        Some(_) => Err(see_other(&reauth_url(t, &format!("/{t}{back}")))),
        None => Err(see_other(&format!("/{t}/login"))),
    })
}

/// [`recent_session`]'s user.
pub async fn recent_user(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    back: &str,
) -> Result<Result<UserId, HttpResponse>, PageError> {
    Ok(recent_session(st, req, t, back).await?.map(|s| s.user_id))
}
