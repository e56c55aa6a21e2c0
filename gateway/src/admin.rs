//! The admin API under `/admin/v1`, authenticated by the configured admin token.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tollgate_engine::EngineError;
use tollgate_engine::admin::NewClient;
use tollgate_engine::model::SigningAlg;

use crate::error::ApiError;
use crate::oidc::tenant_id;
use crate::server::AppState;

fn authorize(req: &HttpRequest, st: &AppState) -> Result<(), ApiError> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compare digests so the comparison time does not depend on the token's length either.
    let ok = tollgate_engine::crypto::ct_eq(
        &tollgate_engine::crypto::sha256(presented.as_bytes()),
        &tollgate_engine::crypto::sha256(st.admin_token.as_bytes()),
    );
    if ok && !presented.is_empty() {
        Ok(())
    } else {
        Err(ApiError(EngineError::oauth(
            tollgate_engine::OAuthErrorCode::InvalidToken,
            "a valid admin token is required",
        )))
    }
}

/// Body of `POST /admin/v1/tenants`.
#[derive(Deserialize)]
pub struct NewTenant {
    id: String,
    display_name: Option<String>,
    signing_alg: Option<String>,
    region: Option<String>,
}

/// Body of `POST /admin/v1/tenants/{tenant}/move`.
#[derive(Deserialize)]
pub struct MoveTenant {
    region: String,
}

/// `POST /admin/v1/tenants`
pub async fn create_tenant(
    req: HttpRequest,
    body: web::Json<NewTenant>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let alg = match body.signing_alg.as_deref() {
        None => SigningAlg::RS256,
        Some(a) => SigningAlg::parse(a).ok_or_else(|| {
            ApiError::invalid_request("signing_alg must be RS256, ES256 or EdDSA")
        })?,
    };
    let name = body.display_name.clone().unwrap_or_else(|| body.id.clone());
    let t = match &body.region {
        Some(r) => st.engine.create_tenant_in(&body.id, &name, alg, r).await?,
        None => st.engine.create_tenant(&body.id, &name, alg).await?,
    };
    Ok(HttpResponse::Created().json(json!({
        "id": t.id,
        "display_name": t.display_name,
        "signing_alg": t.signing_alg.as_str(),
        "region": t.region,
        "issuer": st.engine.issuer(&t.id),
    })))
}

/// `PUT /admin/v1/tenants/{tenant}/mfa`: `{"mode": "off|optional|required", "factors": [...]}`.
pub async fn set_mfa_policy(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<tollgate_engine::model::MfaPolicy>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let t = tenant_id(&path)?;
    let updated = st.engine.set_mfa_policy(&t, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"id": updated.id, "mfa": updated.mfa})))
}

/// `POST /admin/v1/tenants/{tenant}/move`: moves the tenant's data to another residency
/// region (recorded in its audit trail).
pub async fn move_tenant(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<MoveTenant>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let t = tenant_id(&path)?;
    let moved = st.engine.move_tenant(&t, &body.region).await?;
    Ok(HttpResponse::Ok().json(json!({"id": moved.id, "region": moved.region})))
}

/// `GET /admin/v1/tenants`
pub async fn list_tenants(
    req: HttpRequest,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let ts = st.engine.list_tenants().await?;
    let out: Vec<_> = ts
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "display_name": t.display_name,
                "region": t.region,
                "issuer": st.engine.issuer(&t.id),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /admin/v1/tenants/{tenant}/clients`
pub async fn create_client(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewClient>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let t = tenant_id(&path)?;
    let c = st.engine.create_client(&t, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(c))
}

/// `GET /admin/v1/tenants/{tenant}/clients`
pub async fn list_clients(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let t = tenant_id(&path)?;
    let cs = st.engine.list_clients(&t).await?;
    let out: Vec<_> = cs
        .iter()
        .map(|c| {
            json!({
                "client_id": c.id,
                "name": c.name,
                "public": !c.is_confidential(),
                "first_party": c.first_party,
                "redirect_uris": c.redirect_uris,
                "post_logout_redirect_uris": c.post_logout_redirect_uris,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Body of `POST /admin/v1/tenants/{tenant}/users`.
#[derive(Deserialize)]
pub struct NewUser {
    email: String,
    password: String,
    name: Option<String>,
    #[serde(default)]
    email_verified: bool,
}

/// `POST /admin/v1/tenants/{tenant}/users`
pub async fn create_user(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewUser>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let t = tenant_id(&path)?;
    let b = body.into_inner();
    let u = st
        .engine
        .create_user(&t, &b.email, &b.password, b.name, b.email_verified)
        .await?;
    let mut ev = st.engine.event(&t, "admin.user_created", true);
    ev.actor = Some("admin".into());
    ev.subject = Some(u.id.to_string());
    st.engine.record_now(ev).await?;
    Ok(HttpResponse::Created().json(json!({"id": u.id, "email": u.email.as_str()})))
}

/// Body of `POST /admin/v1/tenants/{tenant}/users/import`.
#[derive(Deserialize)]
pub struct Import {
    users: Vec<tollgate_engine::admin::ImportUser>,
}

/// `POST /admin/v1/tenants/{tenant}/users/import`: up to 10,000 users with argon2id hashes.
pub async fn import_users(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Import>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.import_users(&t, body.into_inner().users).await?))
}

/// `POST /admin/v1/tenants/{tenant}/keys/rotate`
pub async fn rotate_keys(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.rotate_keys(&t).await?))
}

/// Query of the events listing.
#[derive(Deserialize)]
pub struct EventsQuery {
    limit: Option<usize>,
}

/// `GET /admin/v1/tenants/{tenant}/events`
pub async fn events(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<EventsQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.recent_events(&t, q.limit.unwrap_or(100)).await?))
}

/// JSON bodies that do not parse answer `invalid_request` with the reason.
pub fn json_config() -> web::JsonConfig {
    json_config_limited(64 * 1024)
}

/// The same with another size limit (imports carry thousands of users).
pub fn json_config_limited(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| {
            ApiError::invalid_request(format!("invalid JSON body: {err}")).into()
        })
}
