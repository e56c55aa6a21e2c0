//! The admin API for a tenant's identity verification settings: `GET`/`PUT
//! /admin/v1/tenants/{tenant}/verification` (UIDAI certificates, the oldest Aadhaar
//! document accepted, whether a date-of-birth hash is kept, pinned Truecaller keys, the
//! clients that receive verification claims). The engine checks every value
//! (`tollgate_engine::admin::verification`); a bad one is a 400 `invalid_request` that
//! names it, and nothing is stored.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::VerificationInput;
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::ApiError;
use crate::web::tenant::tenant_id;

/// `GET /admin/v1/tenants/{tenant}/verification`
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().verification(&t).await?))
}

/// `PUT /admin/v1/tenants/{tenant}/verification`: a part left out stays as it is; the
/// answer is the settings now.
pub async fn put(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<VerificationInput>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let settings = st
        .engine
        .admin()
        .set_verification(&t, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(settings))
}
