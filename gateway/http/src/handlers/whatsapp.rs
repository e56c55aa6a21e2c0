//! The WhatsApp Cloud API webhook of a tenant's number, `{issuer}/webhooks/whatsapp`:
//! the subscription check (`GET` with `hub.mode`, `hub.verify_token`, `hub.challenge`,
//! answered with the challenge) and signed delivery statuses (`POST`, checked against
//! `X-Hub-Signature-256` before anything in it is read). A bad signature is 401 and
//! nothing is recorded. The deployment's own number (`[sms.whatsapp_cloud]`) has the
//! same pair at `/webhooks/whatsapp`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tollgate_engine::EngineError;

use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::tenant::tenant_id;

/// The largest webhook body read (Meta batches statuses; a few KiB each).
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

/// The subscription check's query.
#[derive(Deserialize)]
pub struct Subscribe {
    #[serde(rename = "hub.mode", default)]
    mode: String,
    #[serde(rename = "hub.verify_token", default)]
    verify_token: String,
    #[serde(rename = "hub.challenge", default)]
    challenge: String,
}

/// A refused signature or token: 401 with a JSON error (the one place this webhook
/// differs from the API's mapping, where wrong credentials are a grant error).
fn refused(what: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::UNAUTHORIZED).json(json!({
        "error": "invalid_signature",
        "error_description": what,
    }))
}

/// `GET /{tenant}/webhooks/whatsapp`
pub async fn subscribe(
    path: web::Path<String>,
    q: web::Query<Subscribe>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let t = tenant_id(&path)?;
    let m = st.engine.messaging();
    match m
        .whatsapp_subscribe(&t, &q.mode, &q.verify_token, &q.challenge)
        .await
    {
        Ok(challenge) => Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body(challenge)),
        Err(EngineError::InvalidCredentials) => Ok(refused(
            "hub.mode must be subscribe and hub.verify_token the tenant's verify token",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `POST /{tenant}/webhooks/whatsapp`
pub async fn statuses(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let t = tenant_id(&path)?;
    let signature = req
        .headers()
        .get("X-Hub-Signature-256")
        .and_then(|v| v.to_str().ok());
    match st
        .engine
        .messaging()
        .whatsapp_statuses(&t, &body, signature)
        .await
    {
        Ok(report) => Ok(HttpResponse::Ok().json(report)),
        Err(EngineError::InvalidCredentials) => Ok(refused(
            "X-Hub-Signature-256 is missing or is not the HMAC-SHA256 of the body under the app secret",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `GET /webhooks/whatsapp`: the deployment's number.
pub async fn deployment_subscribe(
    q: web::Query<Subscribe>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let m = st.engine.messaging();
    match m.deployment_subscribe(&q.mode, &q.verify_token, &q.challenge) {
        Ok(challenge) => Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body(challenge)),
        Err(EngineError::InvalidCredentials) => Ok(refused(
            "hub.mode must be subscribe and hub.verify_token the deployment's verify token",
        )),
        Err(e) => Err(e.into()),
    }
}

/// `POST /webhooks/whatsapp`: the deployment's number.
pub async fn deployment_statuses(
    req: HttpRequest,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let signature = req
        .headers()
        .get("X-Hub-Signature-256")
        .and_then(|v| v.to_str().ok());
    match st
        .engine
        .messaging()
        .deployment_statuses(&body, signature)
        .await
    {
        Ok(report) => Ok(HttpResponse::Ok().json(report)),
        Err(EngineError::InvalidCredentials) => Ok(refused(
            "X-Hub-Signature-256 is missing or is not the HMAC-SHA256 of the body under the app secret",
        )),
        Err(e) => Err(e.into()),
    }
}
