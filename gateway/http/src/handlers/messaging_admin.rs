//! The admin API for a tenant's messaging settings: `GET`/`PUT
//! /admin/v1/tenants/{tenant}/messaging` (its WhatsApp Cloud API number, its DLT
//! registration). Secrets are write-only: the answer says whether each is set.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::MessagingInput;
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::ApiError;
use crate::web::tenant::tenant_id;

/// `GET /admin/v1/tenants/{tenant}/messaging`
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().messaging(&t).await?))
}

/// `PUT /admin/v1/tenants/{tenant}/messaging`: a part left out stays, `null` removes it.
pub async fn put(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<MessagingInput>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let view = st
        .engine
        .admin()
        .set_messaging(&t, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
