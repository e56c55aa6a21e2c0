//! The admin API for retention (DPDP Rules 6 and 8): a tenant's dormancy and event
//! retention settings, a user's dormancy record and legal hold, and a run of the
//! retention jobs now.
//!
//! - `GET`/`PUT /admin/v1/tenants/{tenant}/retention`
//! - `GET /admin/v1/tenants/{tenant}/users/{user}/dormancy`
//! - `PUT`/`DELETE /admin/v1/tenants/{tenant}/users/{user}/legal-hold`
//! - `POST /admin/v1/retention/run`

use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::ids::UserId;

use crate::api::{LegalHoldInput, RetentionRun, RetentionSettings};
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::ApiError;
use crate::web::tenant::tenant_id;

/// `GET /admin/v1/tenants/{tenant}/retention`
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.account().retention_settings(&t).await?))
}

/// `PUT /admin/v1/tenants/{tenant}/retention`: replaces both settings (a part left out
/// is off). Refused: a dormancy period under 30 days, a notice under 48 hours, events
/// kept under a year.
pub async fn put(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<RetentionSettings>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let s = st
        .engine
        .account()
        .set_retention_settings(&t, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(s))
}

/// `GET /admin/v1/tenants/{tenant}/users/{user}/dormancy`: last activity, the current
/// notice, the legal hold.
pub async fn dormancy(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, user) = path.into_inner();
    let t = tenant_id(&t)?;
    let a = st
        .engine
        .account()
        .dormancy(&t, &UserId::from_stored(user))
        .await?;
    Ok(HttpResponse::Ok().json(a))
}

/// `PUT /admin/v1/tenants/{tenant}/users/{user}/legal-hold` `{"reason": "..."}`
pub async fn set_hold(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<LegalHoldInput>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, user) = path.into_inner();
    let t = tenant_id(&t)?;
    let a = st
        .engine
        .account()
        .set_legal_hold(&t, &UserId::from_stored(user), &body.reason, "admin")
        .await?;
    Ok(HttpResponse::Ok().json(a))
}

/// `DELETE /admin/v1/tenants/{tenant}/users/{user}/legal-hold`
pub async fn clear_hold(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, user) = path.into_inner();
    let t = tenant_id(&t)?;
    let a = st
        .engine
        .account()
        .clear_legal_hold(&t, &UserId::from_stored(user), "admin")
        .await?;
    Ok(HttpResponse::Ok().json(a))
}

/// `POST /admin/v1/retention/run`: runs the dormancy job and the event purge now, over
/// every tenant this node serves (they also run every `privacy.purge_every_secs`).
pub async fn run(req: HttpRequest, st: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let account = st.engine.account();
    let dormancy = account.run_dormancy().await?;
    let events_purged = account.purge_old_events().await?;
    Ok(HttpResponse::Ok().json(RetentionRun {
        dormancy,
        events_purged,
    }))
}
