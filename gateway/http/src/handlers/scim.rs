//! SCIM 2.0 (RFC 7644) at `{issuer}/scim/v2`, and the admin API of SCIM tokens.
//!
//! - `GET {issuer}/scim/v2/ServiceProviderConfig`, `/Schemas`, `/Schemas/{id}`,
//!   `/ResourceTypes`, `/ResourceTypes/{id}`: discovery (bearer token needed, as for
//!   the rest: RFC 7644 §4 leaves it to the server, and a tenant's schema is its own).
//! - `GET`/`POST {issuer}/scim/v2/Users`, `GET`/`PUT`/`PATCH`/`DELETE
//!   {issuer}/scim/v2/Users/{id}`: users (`If-Match` on changes, `If-None-Match` on
//!   reads, `ETag` on answers); the same on `/Groups` (a Group is a role of the tenant);
//!   `POST {issuer}/scim/v2/Bulk`.
//! - `POST /admin/v1/tenants/{tenant}/scim-tokens` (`{"name", "organization"}`: the token
//!   is in the answer, once), `GET .../scim-tokens`, `DELETE .../scim-tokens/{id}`.
//!
//! Bodies are read as JSON whatever their media type (`application/scim+json` or
//! `application/json`); answers are `application/scim+json`. Every failure is a SCIM
//! error document (`urn:ietf:params:scim:api:messages:2.0:Error`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::Value;
use tollgate_engine::scim::ScimCaller;
use tollgate_engine::scim::groups::GroupChange;
use tollgate_engine::scim::users::{ListQuery, Preconditions, Versioned, etag_matches, project};
use tollgate_scim::patch::PatchRequest;
use tollgate_scim::{ScimError, ScimType};

use crate::api::NewScimToken;
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::ApiError;
use crate::web::request::meta;
use crate::web::tenant::tenant_id;

/// The SCIM media type (RFC 7644 §8.1).
const SCIM_JSON: &str = "application/scim+json";

/// Largest body read for `/Bulk`: above the advertised `maxPayloadSize`, so that a body
/// over it still gets a SCIM error rather than the framework's.
pub const BULK_BODY_LIMIT: usize = 2 * tollgate_engine::scim::LIMITS.bulk_max_payload;

/// A SCIM failure as an HTTP answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScimFailure(pub ScimError);

impl From<ScimError> for ScimFailure {
    fn from(e: ScimError) -> Self {
        Self(e)
    }
}

impl ResponseError for ScimFailure {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.0.cause {
            tracing::error!(status = self.0.status, cause = %cause, "SCIM request failed");
        }
        let mut r = HttpResponse::build(self.status_code());
        r.insert_header((header::CONTENT_TYPE, SCIM_JSON));
        if self.0.status == 401 {
            r.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scim\""));
        }
        if let Some(s) = self.0.retry_after {
            r.insert_header((header::RETRY_AFTER, s.to_string()));
        }
        r.body(self.0.to_json().to_string())
    }
}

type Answer = Result<HttpResponse, ScimFailure>;

fn bearer(req: &HttpRequest) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn caller(req: &HttpRequest, st: &AppState, tenant: &str) -> Result<ScimCaller, ScimFailure> {
    Ok(st.engine.scim().authenticate(tenant, bearer(req)).await?)
}

fn json_body(body: &[u8]) -> Result<Value, ScimFailure> {
    serde_json::from_slice(body).map_err(|e| {
        ScimFailure(ScimError::bad(
            ScimType::InvalidSyntax,
            format!("the body is not JSON: {e}"),
        ))
    })
}

fn scim_json(status: StatusCode, v: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_JSON))
        .body(v.to_string())
}

fn resource(status: StatusCode, v: Versioned) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    r.insert_header((header::CONTENT_TYPE, SCIM_JSON))
        .insert_header((header::ETAG, v.etag));
    if status == StatusCode::CREATED {
        r.insert_header((header::LOCATION, v.location));
    }
    r.body(v.body.to_string())
}

fn preconditions(req: &HttpRequest) -> Preconditions {
    Preconditions {
        if_match: req
            .headers()
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// `GET {issuer}/scim/v2/ServiceProviderConfig`
pub async fn service_provider_config(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Answer {
    let c = caller(&req, &st, &path).await?;
    Ok(scim_json(
        StatusCode::OK,
        &st.engine.scim().service_provider_config(&c.tenant),
    ))
}

/// `GET {issuer}/scim/v2/Schemas`
pub async fn schemas(req: HttpRequest, path: web::Path<String>, st: web::Data<AppState>) -> Answer {
    let c = caller(&req, &st, &path).await?;
    let all = st.engine.scim().schemas(&c.tenant);
    let n = all.len();
    Ok(scim_json(
        StatusCode::OK,
        &tollgate_engine::scim::list_response(n, 1, all),
    ))
}

/// `GET {issuer}/scim/v2/Schemas/{id}`
pub async fn schema(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    let found = st
        .engine
        .scim()
        .schemas(&c.tenant)
        .into_iter()
        .find(|s| s["id"] == id.as_str());
    let s = found.ok_or_else(|| ScimError::not_found("Schema"))?;
    Ok(scim_json(StatusCode::OK, &s))
}

/// `GET {issuer}/scim/v2/ResourceTypes`
pub async fn resource_types(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Answer {
    let c = caller(&req, &st, &path).await?;
    let all = st.engine.scim().resource_types(&c.tenant);
    let n = all.len();
    Ok(scim_json(
        StatusCode::OK,
        &tollgate_engine::scim::list_response(n, 1, all),
    ))
}

/// `GET {issuer}/scim/v2/ResourceTypes/{id}`
pub async fn resource_type(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    let found = st
        .engine
        .scim()
        .resource_types(&c.tenant)
        .into_iter()
        .find(|s| s["id"] == id.as_str());
    let s = found.ok_or_else(|| ScimError::not_found("ResourceType"))?;
    Ok(scim_json(StatusCode::OK, &s))
}

/// Any other method on a discovery endpoint: 405, as a SCIM error (RFC 7644 §4: they
/// are read-only).
pub async fn method_not_allowed() -> Answer {
    Err(ScimError::status(405, "this endpoint is read-only: use GET").into())
}

/// Any other path under `{issuer}/scim/v2`: 404, as a SCIM error.
pub async fn no_such_endpoint() -> Answer {
    Err(ScimError::status(404, "no such SCIM endpoint").into())
}

/// `GET {issuer}/scim/v2/Users`
pub async fn list_users(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Answer {
    let c = caller(&req, &st, &path).await?;
    let q: ListQuery = serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ScimError::bad(ScimType::InvalidValue, format!("bad query: {e}")))?;
    let list = st.engine.scim().list_users(&c, &q).await?;
    Ok(scim_json(StatusCode::OK, &list))
}

/// `POST {issuer}/scim/v2/Users`
pub async fn create_user(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Answer {
    let c = caller(&req, &st, &path).await?;
    let v = json_body(&body)?;
    let created = st.engine.scim().create_user(&c, &v, &meta(&req)).await?;
    Ok(resource(StatusCode::CREATED, created))
}

/// `GET {issuer}/scim/v2/Users/{id}`: 304 when `If-None-Match` names its version.
pub async fn get_user(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    let mut v = st.engine.scim().get_user(&c, &id).await?;
    let none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok());
    if none_match.is_some_and(|h| etag_matches(h, &v.etag)) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, v.etag))
            .finish());
    }
    let q: ListQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    v.body = project(
        v.body,
        q.attributes.as_deref(),
        q.excluded_attributes.as_deref(),
    );
    Ok(resource(StatusCode::OK, v))
}

/// `PUT {issuer}/scim/v2/Users/{id}`
pub async fn replace_user(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    let v = json_body(&body)?;
    let out = st
        .engine
        .scim()
        .replace_user(&c, &id, &v, &preconditions(&req), &meta(&req))
        .await?;
    Ok(resource(StatusCode::OK, out))
}

/// `PATCH {issuer}/scim/v2/Users/{id}`
pub async fn patch_user(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    let ops: PatchRequest = serde_json::from_value(json_body(&body)?).map_err(|e| {
        ScimError::bad(ScimType::InvalidSyntax, format!("not a PATCH request: {e}"))
    })?;
    let out = st
        .engine
        .scim()
        .patch_user(&c, &id, &ops, &preconditions(&req), &meta(&req))
        .await?;
    Ok(resource(StatusCode::OK, out))
}

/// `DELETE {issuer}/scim/v2/Users/{id}`
pub async fn delete_user(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    st.engine
        .scim()
        .delete_user(&c, &id, &preconditions(&req), &meta(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET {issuer}/scim/v2/Groups`
pub async fn list_groups(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Answer {
    let c = caller(&req, &st, &path).await?;
    let q: ListQuery = serde_urlencoded::from_str(req.query_string())
        .map_err(|e| ScimError::bad(ScimType::InvalidValue, format!("bad query: {e}")))?;
    Ok(scim_json(
        StatusCode::OK,
        &st.engine.scim().list_groups(&c, &q).await?,
    ))
}

/// `POST {issuer}/scim/v2/Groups`
pub async fn create_group(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Answer {
    let c = caller(&req, &st, &path).await?;
    let v = json_body(&body)?;
    let created = st.engine.scim().create_group(&c, &v, &meta(&req)).await?;
    Ok(resource(StatusCode::CREATED, created))
}

/// `GET {issuer}/scim/v2/Groups/{id}`
pub async fn get_group(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    let mut v = st.engine.scim().get_group(&c, &id).await?;
    let q: ListQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    v.body = project(
        v.body,
        q.attributes.as_deref(),
        q.excluded_attributes.as_deref(),
    );
    Ok(resource(StatusCode::OK, v))
}

/// `PUT {issuer}/scim/v2/Groups/{id}`
pub async fn replace_group(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    let v = json_body(&body)?;
    let out = st
        .engine
        .scim()
        .change_group(
            &c,
            &id,
            GroupChange::Replace(&v),
            &preconditions(&req),
            &meta(&req),
        )
        .await?;
    Ok(resource(StatusCode::OK, out))
}

/// `PATCH {issuer}/scim/v2/Groups/{id}`
pub async fn patch_group(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    let ops: PatchRequest = serde_json::from_value(json_body(&body)?).map_err(|e| {
        ScimError::bad(ScimType::InvalidSyntax, format!("not a PATCH request: {e}"))
    })?;
    let out = st
        .engine
        .scim()
        .change_group(
            &c,
            &id,
            GroupChange::Patch(&ops),
            &preconditions(&req),
            &meta(&req),
        )
        .await?;
    Ok(resource(StatusCode::OK, out))
}

/// `DELETE {issuer}/scim/v2/Groups/{id}`
pub async fn delete_group(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Answer {
    let (t, id) = path.into_inner();
    let c = caller(&req, &st, &t).await?;
    st.engine
        .scim()
        .delete_group(&c, &id, &preconditions(&req), &meta(&req))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST {issuer}/scim/v2/Bulk`
pub async fn bulk(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Answer {
    let c = caller(&req, &st, &path).await?;
    let limit = tollgate_engine::scim::LIMITS.bulk_max_payload;
    if body.len() > limit {
        return Err(ScimError::status(
            413,
            format!("the Bulk request is larger than maxPayloadSize ({limit} bytes)"),
        )
        .into());
    }
    let v = json_body(&body)?;
    let out = st
        .engine
        .scim()
        .bulk(&c, body.len(), &v, &meta(&req))
        .await?;
    Ok(scim_json(StatusCode::OK, &out))
}

/// `POST /admin/v1/tenants/{tenant}/scim-tokens`: the token is in this answer only.
pub async fn admin_create_token(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewScimToken>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let b = body.into_inner();
    let created = st
        .engine
        .scim()
        .create_token(&t, &b.name, b.organization.as_deref())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(created))
}

/// `GET /admin/v1/tenants/{tenant}/scim-tokens`
pub async fn admin_list_tokens(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.scim().list_tokens(&t).await?))
}

/// `DELETE /admin/v1/tenants/{tenant}/scim-tokens/{id}`: revokes it (200, the token's
/// record); an unknown id is a 404.
pub async fn admin_revoke_token(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    Ok(HttpResponse::Ok().json(st.engine.scim().revoke_token(&t, &id).await?))
}
