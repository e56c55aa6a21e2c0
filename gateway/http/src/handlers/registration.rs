//! Dynamic client registration (RFC 7591) and its management (RFC 7592), and the admin
//! API that issues the initial access tokens registration needs.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::oauth::registration::NewInitialAccessToken;

use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::{ApiError, ProtocolError};
use crate::web::tenant::tenant_id;

/// The bearer token of the request, if any.
fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn no_store(mut r: actix_web::HttpResponseBuilder, body: &impl serde::Serialize) -> HttpResponse {
    r.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

/// `POST /{tenant}/register` (RFC 7591 §3): 201 with the client's credentials.
pub async fn register(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path)?;
    let reg = st
        .engine
        .oauth()
        .register_client(&t, bearer(&req), &body)
        .await?;
    Ok(no_store(HttpResponse::Created(), &reg))
}

/// `GET /{tenant}/register/{client_id}` (RFC 7592 §2.1)
pub async fn read(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path.0)?;
    let reg = st
        .engine
        .oauth()
        .read_registration(&t, &path.1, bearer(&req))
        .await?;
    Ok(no_store(HttpResponse::Ok(), &reg))
}

/// `PUT /{tenant}/register/{client_id}` (RFC 7592 §2.2)
pub async fn update(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path.0)?;
    let reg = st
        .engine
        .oauth()
        .update_registration(&t, &path.1, bearer(&req), &body)
        .await?;
    Ok(no_store(HttpResponse::Ok(), &reg))
}

/// `DELETE /{tenant}/register/{client_id}` (RFC 7592 §2.3): 204.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path.0)?;
    st.engine
        .oauth()
        .delete_registration(&t, &path.1, bearer(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/tenants/{tenant}/initial-access-tokens`: the token, shown once.
pub async fn issue_initial_access_token(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewInitialAccessToken>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let iat = st
        .engine
        .admin()
        .issue_initial_access_token(&t, body.into_inner())
        .await?;
    Ok(no_store(HttpResponse::Created(), &iat))
}
