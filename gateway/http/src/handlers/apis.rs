//! The admin API's APIs (resource servers): `/admin/v1/tenants/{tenant}/apis`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::NewApi;
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::ApiError;
use crate::web::tenant::tenant_id;

/// `POST /admin/v1/tenants/{tenant}/apis`
pub async fn create(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewApi>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let api = st.engine.admin().create_api(&t, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(api))
}

/// `GET /admin/v1/tenants/{tenant}/apis`
pub async fn list(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().list_apis(&t).await?))
}

/// Which API: its identifier is a URI, so it comes as a query parameter, not a path one.
#[derive(Deserialize)]
pub struct Which {
    identifier: String,
}

/// `DELETE /admin/v1/tenants/{tenant}/apis?identifier=...`
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    which: web::Query<Which>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    if st.engine.admin().delete_api(&t, &which.identifier).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError(tollgate_engine::EngineError::NotFound("api")))
    }
}
