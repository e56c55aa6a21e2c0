//! The admin API for personal data breaches (DPDP Rule 7): declare an incident, list and
//! read incidents, start (or resume, or join) the notification job, follow its progress,
//! and fetch the intimation and the detailed report to the Board as documents.
//!
//! - `GET`/`PUT /admin/v1/tenants/{tenant}/breach-settings`
//! - `POST`/`GET /admin/v1/tenants/{tenant}/breaches`
//! - `GET /admin/v1/tenants/{tenant}/breaches/{id}`
//! - `POST /admin/v1/tenants/{tenant}/breaches/{id}/notify`
//! - `GET /admin/v1/tenants/{tenant}/breaches/{id}/progress`
//! - `GET /admin/v1/tenants/{tenant}/breaches/{id}/report?kind=intimation|detailed&format=markdown|json`

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::{BreachSettings, DeclareBreach, ReportKind};
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::ApiError;
use crate::web::tenant::tenant_id;

/// Declarations carry lists of up to a million users or emails.
pub const DECLARE_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// `GET /admin/v1/tenants/{tenant}/breach-settings`
pub async fn get_settings(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().breach_settings(&t).await?))
}

/// `PUT /admin/v1/tenants/{tenant}/breach-settings` `{"notify_per_sec": 50}`
pub async fn put_settings(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<BreachSettings>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let s = st
        .engine
        .admin()
        .set_breach_settings(&t, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(s))
}

/// `POST /admin/v1/tenants/{tenant}/breaches`: declares an incident (201).
pub async fn declare(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<DeclareBreach>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let i = st
        .engine
        .admin()
        .declare_breach(&t, body.into_inner(), "admin")
        .await?;
    Ok(HttpResponse::Created().json(i))
}

/// `GET /admin/v1/tenants/{tenant}/breaches`: oldest first.
pub async fn list(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().breaches(&t).await?))
}

/// `GET /admin/v1/tenants/{tenant}/breaches/{id}`
pub async fn get(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().breach(&t, &id).await?))
}

/// `POST /admin/v1/tenants/{tenant}/breaches/{id}/notify`: starts, resumes or joins the
/// job (202, with the counts as they stand).
pub async fn notify(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    let a = st.engine.admin().notify_breach(&t, &id, "admin").await?;
    Ok(HttpResponse::Accepted().json(a))
}

/// `GET /admin/v1/tenants/{tenant}/breaches/{id}/progress`
pub async fn progress(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().breach_progress(&t, &id).await?))
}

/// The report's query.
#[derive(Deserialize)]
pub struct ReportQuery {
    kind: Option<String>,
    format: Option<String>,
}

/// `GET …/breaches/{id}/report?kind=intimation|detailed&format=markdown|json`: a
/// Markdown document (the default) or its data as JSON, as an attachment.
pub async fn report(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<ReportQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    let kind = ReportKind::parse(q.kind.as_deref().unwrap_or(""))?;
    let format = q.format.as_deref().unwrap_or("markdown");
    if !matches!(format, "markdown" | "json") {
        return Err(ApiError::invalid_request("format must be markdown or json"));
    }
    let r = st
        .engine
        .admin()
        .breach_report(&t, &id, kind, format)
        .await?;
    let name = format!(
        "{id}-{}.{}",
        match kind {
            ReportKind::Intimation => "intimation",
            ReportKind::Detailed => "detailed",
        },
        if format == "json" { "json" } else { "md" }
    );
    let mut resp = HttpResponse::Ok();
    resp.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ));
    Ok(if format == "json" {
        resp.json(r)
    } else {
        resp.content_type("text/markdown; charset=utf-8")
            .body(r.markdown())
    })
}
