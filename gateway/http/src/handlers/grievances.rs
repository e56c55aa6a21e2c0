//! Grievances and contact (DPDP Rules 9 and 14).
//!
//! - `GET {issuer}/.well-known/privacy-contact`: the tenant's Data Protection Officer or
//!   contact person and its grievance response time, as public JSON (discovery links it
//!   as `privacy_contact_uri`); 404 `not_found` while the tenant publishes none.
//! - `GET`/`PUT`/`DELETE /admin/v1/tenants/{tenant}/privacy-contact`: the admin API; the
//!   engine checks every value (`tollgate_engine::admin::grievances`) and a bad one is a
//!   400 `invalid_request` that names it.
//! - `GET`/`POST {issuer}/account/grievances`: the signed-in user's grievances and the form
//!   to raise one (CSRF); `GET {issuer}/account/grievances/{id}`: one ticket with its
//!   answers (another user's id is a 404, as an unknown one).
//! - `GET /admin/v1/tenants/{tenant}/grievances[?status=open|answered|closed&overdue=true]`,
//!   `GET .../grievances/{id}`, `POST .../grievances/{id}/answer` (`{"text", "close"}`),
//!   `POST .../grievances/{id}/close`: the tenant's admins list and answer them.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::api::{GrievanceAnswer, GrievanceList, PrivacyContactDocument, PrivacyContactInput};
use crate::pages::portal::signed_in;
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::csrf::view_form_page;
use crate::web::error::{ApiError, PageError};
use crate::web::form::account_form;
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::signed_in_user;
use crate::web::tenant::{tenant, tenant_id};
use crate::web::view::{Value, View, context};
use tollgate_engine::EngineError;
use tollgate_engine::account::grievances::{GrievanceFilter, GrievanceView, MAX_TEXT};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::grievance::{GrievanceCategory, GrievanceStatus, MAX_RESPONSE_DAYS};

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

type PageResult = Result<HttpResponse, PageError>;

/// What the grievances page shows besides the tickets: a refusal and what was typed.
struct Draft<'a> {
    error: Option<String>,
    category: &'a str,
    text: &'a str,
}

#[allow(clippy::too_many_arguments, reason = "one page, its parts named")]
fn grievances_page(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    days: u32,
    tickets: &[GrievanceView],
    status: StatusCode,
    draft: &Draft<'_>,
) -> HttpResponse {
    let categories: Vec<Value> = GrievanceCategory::ALL
        .iter()
        .map(|c| context! { value => c.as_str(), selected => c.as_str() == draft.category })
        .collect();
    let tickets: Vec<Value> = tickets
        .iter()
        .map(|g| {
            context! {
                href => format!("/{t}/account/grievances/{}", g.id),
                category => g.category.as_str(),
                status => g.status.as_str(),
                created_at => g.created_at,
                due_at => g.due_at,
            }
        })
        .collect();
    view_form_page(st, req, v, t, status, "grv-title", |csrf| {
        v.render(
            "grievances.html",
            context! {
                action => format!("/{t}/account/grievances"),
                csrf => csrf,
                days => days,
                max => MAX_TEXT,
                error => draft.error.clone(),
                text => draft.text,
                categories => categories,
                tickets => tickets,
            },
        )
    })
}

fn response_days(tenant: &tollgate_engine::model::Tenant) -> u32 {
    tenant
        .privacy_contact
        .as_ref()
        .map_or(MAX_RESPONSE_DAYS, |c| c.response_days)
}

/// `GET {issuer}/account/grievances`
pub async fn page(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let user = match signed_in_user(&st, &req, &t).await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let (_, v) = signed_in(&st, &req, &tenant, &user).await?;
    let tickets = st.engine.account().my_grievances(&t, &user).await?;
    let draft = Draft {
        error: None,
        category: "access",
        text: "",
    };
    let days = response_days(&tenant);
    Ok(grievances_page(
        &st,
        &req,
        &v,
        &t,
        days,
        &tickets,
        StatusCode::OK,
        &draft,
    ))
}

/// The message id of an engine refusal of a grievance.
fn refusal(msg: &str) -> &'static str {
    if msg.starts_with("category:") {
        "grv-error-category"
    } else if msg.starts_with("text: required") {
        "grv-error-empty"
    } else if msg.starts_with("text: longer") {
        "grv-error-long"
    } else if msg.starts_with("text:") {
        "grv-error-control"
    } else {
        "grv-error-too-many"
    }
}

/// `POST {issuer}/account/grievances`: `category`, `text`; on success, the new ticket's
/// page.
pub async fn submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let user = &session.user_id;
    let (_, v) = signed_in(&st, &req, &f.tenant, user).await?;
    let v = v.switch_to(format!("/{}/account/grievances", f.t), Vec::new());
    let account = st.engine.account();
    let filed = account
        .file_grievance(&f.t, user, f.get("category"), f.get("text"), &meta(&req))
        .await;
    match filed {
        Ok(g) => Ok(see_other(&format!("/{}/account/grievances/{}", f.t, g.id))),
        Err(EngineError::Invalid(msg)) => {
            let tickets = account.my_grievances(&f.t, user).await?;
            let draft = Draft {
                error: Some(v.t(refusal(&msg))),
                category: f.get("category"),
                text: f.get("text"),
            };
            let days = response_days(&f.tenant);
            Ok(grievances_page(
                &st,
                &req,
                &v,
                &f.t,
                days,
                &tickets,
                StatusCode::BAD_REQUEST,
                &draft,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET {issuer}/account/grievances/{id}`: one of the user's tickets.
pub async fn ticket(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> PageResult {
    let (raw, id) = path.into_inner();
    let (t, tenant) = tenant(&st, &raw).await?;
    let user = match signed_in_user(&st, &req, &t).await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let (_, v) = signed_in(&st, &req, &tenant, &user).await?;
    let g = st.engine.account().my_grievance(&t, &user, &id).await?;
    let entries: Vec<Value> = g
        .entries
        .iter()
        .map(|e| context! { by => e.by.as_str(), at => e.at, text => e.text.as_str() })
        .collect();
    let body = v.render(
        "grievance.html",
        context! {
            id => g.id,
            category => g.category.as_str(),
            status => g.status.as_str(),
            created_at => g.created_at,
            due_at => g.due_at,
            entries => entries,
        },
    );
    Ok(v.page(StatusCode::OK, "grv-ticket-title", body))
}

/// Query of the admin's list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `open`, `answered` or `closed`.
    status: Option<String>,
    /// Only open tickets past their due time.
    #[serde(default)]
    overdue: bool,
}

/// `GET /admin/v1/tenants/{tenant}/grievances`
pub async fn admin_list(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(GrievanceStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_request("status: must be open, answered or closed")
        })?),
    };
    let filter = GrievanceFilter {
        status,
        overdue: query.overdue,
    };
    let grievances = st.engine.account().list_grievances(&t, &filter).await?;
    Ok(HttpResponse::Ok().json(GrievanceList { grievances }))
}

/// `GET /admin/v1/tenants/{tenant}/grievances/{id}`
pub async fn admin_get(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (raw, id) = path.into_inner();
    let t = tenant_id(&raw)?;
    Ok(HttpResponse::Ok().json(st.engine.account().grievance(&t, &id).await?))
}

/// `POST /admin/v1/tenants/{tenant}/grievances/{id}/answer`: the answer (and a close,
/// with `"close": true`); the user is mailed.
pub async fn admin_answer(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<GrievanceAnswer>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (raw, id) = path.into_inner();
    let t = tenant_id(&raw)?;
    let g = st
        .engine
        .account()
        .answer_grievance(&t, &id, &body.text, body.close)
        .await?;
    Ok(HttpResponse::Ok().json(g))
}

/// `POST /admin/v1/tenants/{tenant}/grievances/{id}/close`
pub async fn admin_close(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (raw, id) = path.into_inner();
    let t = tenant_id(&raw)?;
    Ok(HttpResponse::Ok().json(st.engine.account().close_grievance(&t, &id).await?))
}
