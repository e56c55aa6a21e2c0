//! The admin API for organisations' email domains (home-realm discovery):
//!
//! - `GET`/`POST /admin/v1/tenants/{tenant}/organizations/{org}/domains` (`{"domain": ...}`:
//!   the claim, with the TXT record to publish)
//! - `POST …/domains/{domain}/verify`: looks the TXT record up
//! - `PUT …/domains/{domain}/connector` (`{"connector": "corp-idp"}` or `null`)
//! - `DELETE …/domains/{domain}`

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tollgate_engine::model::org_domain::OrgDomain;

use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::ApiError;
use crate::web::tenant::tenant_id;

/// A claim as the admin API shows it: the record and the TXT record to publish.
#[derive(Serialize)]
struct DomainView {
    #[serde(flatten)]
    domain: OrgDomain,
    txt_name: String,
    txt_value: String,
}

fn view(d: OrgDomain) -> DomainView {
    DomainView {
        txt_name: d.txt_name(),
        txt_value: d.txt_value(),
        domain: d,
    }
}

/// `{"domain": "acme.example"}`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDomain {
    domain: String,
}

/// `{"connector": "corp-idp"}`; `null` stops routing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainRoute {
    connector: Option<String>,
}

/// `GET /admin/v1/tenants/{tenant}/organizations/{org}/domains`
pub async fn list(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, org) = path.into_inner();
    let t = tenant_id(&t)?;
    let all = st.engine.federation().org_domains(&t, &org).await?;
    let all: Vec<DomainView> = all.into_iter().map(view).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "domains": all })))
}

/// `POST /admin/v1/tenants/{tenant}/organizations/{org}/domains`
pub async fn add(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<NewDomain>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, org) = path.into_inner();
    let t = tenant_id(&t)?;
    let d = st
        .engine
        .federation()
        .add_org_domain(&t, &org, &body.domain)
        .await?;
    Ok(HttpResponse::Created().json(view(d)))
}

/// `POST …/domains/{domain}/verify`
pub async fn verify(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, org, domain) = path.into_inner();
    let t = tenant_id(&t)?;
    let d = st
        .engine
        .federation()
        .verify_org_domain(&t, &org, &domain)
        .await?;
    Ok(HttpResponse::Ok().json(view(d)))
}

/// `PUT …/domains/{domain}/connector`
pub async fn route(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    body: web::Json<DomainRoute>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, org, domain) = path.into_inner();
    let t = tenant_id(&t)?;
    let d = st
        .engine
        .federation()
        .route_org_domain(&t, &org, &domain, body.connector.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(view(d)))
}

/// `DELETE …/domains/{domain}`
pub async fn remove(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, org, domain) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine
        .federation()
        .remove_org_domain(&t, &org, &domain)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
