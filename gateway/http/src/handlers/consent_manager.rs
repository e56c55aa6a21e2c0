//! The consent-manager API (DPDP Rules 2025, Rule 4): `{issuer}/api/consent-manager/…`.
//! A consent manager registered with the tenant authenticates as its confidential client
//! with HTTP Basic (`client_id:client_secret`, RFC 6749 §2.3.1) and acts on the user's
//! behalf; the user is named by the tenant's `sub` (the user id, as public-subject
//! clients see it).
//!
//! - `GET …/users/{sub}/consents`: every purpose with the user's answer.
//! - `DELETE …/users/{sub}/consents/{purpose}` (or `POST …/{purpose}/withdraw` for
//!   clients that cannot send DELETE): withdraws it; answers the new state.
//!
//! Errors are OAuth JSON: 401 `invalid_client` (bad credentials), 400
//! `unauthorized_client` (a client that is not a consent manager of this tenant), 404
//! `not_found` (a user that is not the tenant's, an unknown purpose). Every call of an
//! authenticated manager is audited (see the engine's `account::consent_managers`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use std::collections::HashMap;

use crate::state::AppState;
use crate::web::client_auth::client_credentials;
use crate::web::error::ApiError;
use crate::web::request::meta;
use crate::web::tenant::tenant_id;

fn no_store(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// `GET /{tenant}/api/consent-manager/users/{sub}/consents`
pub async fn list(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (t, sub) = path.into_inner();
    let t = tenant_id(&t)?;
    let account = st.engine.account();
    let creds = client_credentials(&req, &HashMap::new())?;
    let manager = account.authenticate_consent_manager(&t, &creds).await?;
    let statuses = account
        .manager_list_consents(&t, &manager.id, &sub, &meta(&req))
        .await?;
    let consents: Vec<_> = statuses
        .iter()
        .map(|s| {
            json!({
                "purpose": s.purpose.id,
                "description": s.purpose.description,
                "notice_version": s.purpose.version,
                "required": s.purpose.required,
                "granted": s.granted_now(),
                "answer": s.grant.as_ref().map(|g| json!({
                    "granted": g.granted,
                    "notice_version": g.version,
                    "language": g.language,
                    "at": g.at,
                })),
            })
        })
        .collect();
    Ok(no_store(json!({"sub": sub, "consents": consents})))
}

/// `DELETE /{tenant}/api/consent-manager/users/{sub}/consents/{purpose}` and
/// `POST …/{purpose}/withdraw`
pub async fn withdraw(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (t, sub, purpose) = path.into_inner();
    let t = tenant_id(&t)?;
    let account = st.engine.account();
    let creds = client_credentials(&req, &HashMap::new())?;
    let manager = account.authenticate_consent_manager(&t, &creds).await?;
    let g = account
        .manager_withdraw(&t, &manager.id, &sub, &purpose, &meta(&req))
        .await?;
    Ok(no_store(json!({
        "sub": sub,
        "purpose": g.purpose,
        "granted": g.granted,
        "notice_version": g.version,
        "at": g.at,
        "channel": "consent_manager",
        "consent_manager": manager.id,
    })))
}
