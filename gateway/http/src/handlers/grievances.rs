//! Grievances and contact (DPDP Rules 9 and 14).
//!
//! - `GET {issuer}/.well-known/privacy-contact`: the tenant's Data Protection Officer or
//!   contact person and its grievance response time, as public JSON (discovery links it
//!   as `privacy_contact_uri`); 404 `not_found` while the tenant publishes none.
//! - `GET`/`PUT`/`DELETE /admin/v1/tenants/{tenant}/privacy-contact`: the admin API; the
//!   engine checks every value (`tollgate_engine::admin::grievances`) and a bad one is a
//!   400 `invalid_request` that names it.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::api::{PrivacyContactDocument, PrivacyContactInput};
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::ApiError;
use crate::web::tenant::tenant_id;
use tollgate_engine::EngineError;

/// `GET {issuer}/.well-known/privacy-contact`
pub async fn contact_document(
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let t = tenant_id(&path)?;
    let tenant = st.engine.tenant(&t).await?;
    let contact = tenant
        .privacy_contact
        .clone()
        .ok_or(EngineError::NotFound("privacy contact"))?;
    let iss = st.engine.issuer(&t);
    let doc = PrivacyContactDocument::new(&iss, &tenant.display_name, contact);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .json(doc))
}

/// `GET /admin/v1/tenants/{tenant}/privacy-contact`
pub async fn admin_get_contact(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().privacy_contact(&t).await?))
}

/// `PUT /admin/v1/tenants/{tenant}/privacy-contact`: replaces the contact; the answer is
/// what is stored (normalised).
pub async fn admin_put_contact(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<PrivacyContactInput>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let c = st
        .engine
        .admin()
        .set_privacy_contact(&t, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(c))
}

/// `DELETE /admin/v1/tenants/{tenant}/privacy-contact`
pub async fn admin_delete_contact(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    st.engine.admin().remove_privacy_contact(&t).await?;
    Ok(HttpResponse::NoContent().finish())
}
