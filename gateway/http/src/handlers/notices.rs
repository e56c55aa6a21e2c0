//! Privacy notices and consent receipts (DPDP Rules 2025, Rules 3 and 4): the user's
//! receipts of every grant and withdrawal, downloaded as JSON from the account page; the
//! admin API for a tenant's itemised notices and consent managers.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tollgate_engine::model::notice::NoticeSettings;

use crate::api::NoticesView;
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::{ApiError, PageError};
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::tenant_id;

/// `GET /{tenant}/account/consent-receipts`: the signed-in user's consent receipts, oldest
/// first, as a JSON download.
pub async fn receipts_download(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let t = tenant_id(&path)?;
    let Some(session) = current_session(&st, &req, &t).await? else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    let receipts = st
        .engine
        .account()
        .consent_receipts(&t, &session.user_id)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{t}-consent-receipts.json\""),
        ))
        .json(json!({
            "format": "tollgate.consent-receipts.v1",
            "tenant": t,
            "sub": session.user_id,
            "receipts": receipts,
        })))
}

fn notices_response(
    t: &tollgate_engine::ids::TenantId,
    s: &tollgate_engine::model::privacy::PrivacySettings,
) -> HttpResponse {
    HttpResponse::Ok().json(NoticesView {
        id: t.to_string(),
        settings: s.notices.clone(),
    })
}

/// `GET /admin/v1/tenants/{tenant}/notices`: the itemised notices, the Board's URL and
/// the consent managers.
pub async fn get_notices(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let s = st.engine.account().privacy_settings(&t).await?;
    Ok(notices_response(&t, &s))
}

/// `PUT /admin/v1/tenants/{tenant}/notices`: `{"board_url", "notices": [{"purpose",
/// "texts": {"en": {"data_items", "purpose", "service"}, "hi": …}}], "consent_managers":
/// [client ids]}` replaces them (validated: known purposes, English present, known
/// languages, confidential clients).
pub async fn set_notices(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NoticeSettings>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let s = st
        .engine
        .account()
        .set_notices(&t, body.into_inner())
        .await?;
    Ok(notices_response(&t, &s))
}

/// Body of `PUT /admin/v1/tenants/{tenant}/users/{user}/purposes/{purpose}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAnswer {
    /// Granted or withdrawn.
    granted: bool,
    /// The language the tenant showed its notice in (default English).
    #[serde(default)]
    language: Option<String>,
}

/// `PUT /admin/v1/tenants/{tenant}/users/{user}/purposes/{purpose}`: `{"granted": true,
/// "language": "hi"}` records an answer the tenant's own back end collected (channel
/// `api`, at the current notice version); answers the grant.
pub async fn record_answer(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    body: web::Json<ApiAnswer>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, user, purpose) = path.into_inner();
    let t = tenant_id(&t)?;
    let user = tollgate_engine::ids::UserId::from_stored(user);
    let g = st
        .engine
        .account()
        .record_consent_via_api(
            &t,
            &user,
            &purpose,
            body.granted,
            body.language.as_deref().unwrap_or("en"),
            &crate::web::request::meta(&req),
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "sub": g.user_id,
        "purpose": g.purpose,
        "granted": g.granted,
        "notice_version": g.version,
        "language": g.language,
        "at": g.at,
        "channel": "api",
    })))
}
