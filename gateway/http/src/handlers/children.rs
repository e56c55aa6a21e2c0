//! Children's accounts (DPDP Act s. 9, Rules 10 and 12).
//!
//! - `GET {issuer}/parent-consent?link=…`: the page the parent's mail links to: the
//!   child's notice, a form to consent by signing in with the parent's own adult account
//!   and a form to refuse (both CSRF-protected);
//! - `POST {issuer}/parent-consent` (`link`, `email`, `password`) and
//!   `POST {issuer}/parent-consent/refuse` (`link`);
//! - `GET`/`PUT /admin/v1/tenants/{tenant}/children`: the tenant's setting;
//!   `POST /admin/v1/children/run`: erase the children's accounts whose link expired, now.
//!
//! The sign-up page's age fields and a child's pending page are in
//! [`crate::pages::children`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tollgate_engine::EngineError;
use tollgate_engine::account::children::ParentRequest;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::children::ChildrenSettings;

use crate::api::ChildrenRun;
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::csrf::view_form_page;
use crate::web::error::{ApiError, PageError, say};
use crate::web::form::SubmittedForm;
use crate::web::request::meta;
use crate::web::tenant::{tenant, tenant_id};
use crate::web::view::{Value, View, context};

type PageResult = Result<HttpResponse, PageError>;

/// The `link` of the parent's page.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    /// `{child id}.{secret}`, from the mail.
    #[serde(default)]
    link: String,
}

#[allow(clippy::too_many_arguments, reason = "one page, its parts named")]
fn parent_page(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    status: StatusCode,
    link: &str,
    request: &ParentRequest,
    error: Option<&str>,
) -> HttpResponse {
    let purposes: Vec<Value> = request
        .purposes
        .iter()
        .map(|p| context! { id => p.id.as_str(), description => p.description.as_str(), required => p.required })
        .collect();
    view_form_page(st, req, v, t, status, "child-parent-title", |csrf| {
        v.render(
            "children_parent.html",
            context! {
                csrf,
                link,
                error,
                child => request.child_name.clone().unwrap_or_default(),
                purposes,
            },
        )
    })
}

/// `GET {issuer}/parent-consent?link=…`
pub async fn parent_get(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<LinkQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let v = View::new(&st, &req, &tenant, None);
    let r = st.engine.account().parent_request(&t, &q.link).await;
    match r {
        Ok(r) => Ok(parent_page(
            &st,
            &req,
            &v,
            &t,
            StatusCode::OK,
            &q.link,
            &r,
            None,
        )),
        Err(e) => Err(e.into()),
    }
}

fn done_page(v: &View, given: bool) -> HttpResponse {
    let body = v.render("children_done.html", context! { given });
    let title = match given {
        true => "child-given-title",
        false => "child-refused-title",
    };
    v.page(StatusCode::OK, title, body)
}

/// `POST {issuer}/parent-consent`: the parent consents, signing in with their own adult
/// account of the tenant.
pub async fn parent_consent(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let v = View::new(&st, &req, &f.tenant, None);
    let link = f.get("link");
    let again = |status, msg: &str, r: &ParentRequest| {
        parent_page(&st, &req, &v, &f.t, status, link, r, Some(msg))
    };
    if !f.csrf_ok {
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    // An invalid link is its own page, whatever else the form says.
    let request = st.engine.account().parent_request(&f.t, link).await?;
    match st
        .engine
        .account()
        .parent_consent_by_account(&f.t, link, f.get("email"), f.get("password"), &meta(&req))
        .await
    {
        Ok(()) => Ok(done_page(&v, true)),
        Err(EngineError::InvalidCredentials) => Ok(again(
            StatusCode::UNAUTHORIZED,
            &v.t("sign-in-failed"),
            &request,
        )),
        Err(EngineError::Invalid(msg)) => Ok(again(
            StatusCode::BAD_REQUEST,
            &say(v.messages(), &msg),
            &request,
        )),
        Err(e) => Err(e.into()),
    }
}

/// `POST {issuer}/parent-consent/refuse`: the child's account is erased.
pub async fn parent_refuse(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    if !f.csrf_ok {
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    let v = View::new(&st, &req, &f.tenant, None);
    st.engine
        .account()
        .parent_refuse(&f.t, f.get("link"), &meta(&req))
        .await?;
    Ok(done_page(&v, false))
}

/// `GET /admin/v1/tenants/{tenant}/children`
pub async fn admin_get(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.account().children_settings(&t).await?))
}

/// `PUT /admin/v1/tenants/{tenant}/children`: replaces the setting (a part left out takes
/// its default). Refused: an age of majority outside 18 to 21, a link lifetime outside
/// an hour to 30 days, an exemption without its purpose or name, an empty tracking name.
pub async fn admin_put(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ChildrenSettings>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let s = st
        .engine
        .account()
        .set_children_settings(&t, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(s))
}

/// `POST /admin/v1/children/run`: erases now the children's accounts whose parent link
/// expired (the periodic job does the same).
pub async fn admin_run(
    req: HttpRequest,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let erased = st.engine.account().expire_children().await?;
    Ok(HttpResponse::Ok().json(ChildrenRun { erased }))
}
