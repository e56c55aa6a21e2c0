//! The SAML 2.0 identity provider's endpoints (inside `/{tenant}`), and its admin API.
//!
//! - `GET /{tenant}/saml/metadata`: the IdP's metadata;
//! - `GET`/`POST /{tenant}/saml/sso`: an SP's `AuthnRequest` (HTTP-Redirect, HTTP-POST):
//!   checked, held in a short-lived cookie, and answered at `/saml/resume` once signed in;
//! - `GET /{tenant}/saml/resume`: the answer, or the sign-in page first;
//! - `GET /{tenant}/saml/idp-init?sp=`: IdP-initiated SSO for a signed-in user;
//! - `GET`/`POST /{tenant}/saml/slo`: an SP's `LogoutRequest`;
//! - `GET`/`POST /admin/v1/tenants/{tenant}/saml/sps`, `DELETE …/saml/sps?entity_id=`.
//!
//! Answers go to the SP in a form the user submits (`saml-post.html`): the pages' CSP
//! allows no inline script.

use std::collections::HashMap;

use actix_web::cookie::SameSite;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::ids::TenantId;
use tollgate_engine::saml::sps::NewServiceProvider;
use tollgate_engine::saml::{Incoming, PostForm, Refusal};

use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::{ApiError, PageError};
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::{tenant, tenant_id};
use crate::web::view::{View, context};

/// The cookie that holds a checked request while the user signs in.
pub const PENDING_COOKIE: &str = "tg_saml";

type PageResult = Result<HttpResponse, PageError>;

fn refused(r: Refusal, v: &View) -> PageResult {
    match r {
        Refusal::Page(code, msg) => Err(PageError::Message(
            StatusCode::BAD_REQUEST,
            format!("{msg} ({code})"),
        )),
        Refusal::Respond(form) => Ok(post_page(v, &form)),
        Refusal::Engine(e) => Err(e.into()),
    }
}

fn post_page(v: &View, form: &PostForm) -> HttpResponse {
    let body = v.render(
        "saml-post.html",
        context! { action => &form.action, saml_response => &form.saml_response, relay_state => &form.relay_state },
    );
    v.page(StatusCode::OK, "saml-post-title", body)
}

/// `GET /{tenant}/saml/metadata`
pub async fn metadata(path: web::Path<String>, st: web::Data<AppState>) -> PageResult {
    let t = tenant_id(&path)?;
    let xml = st.engine.saml().metadata(&t, &st.engine.issuer(&t)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/samlmetadata+xml")
        .body(xml))
}

async fn start(
    req: &HttpRequest,
    st: &AppState,
    raw_tenant: &str,
    incoming: Incoming,
) -> PageResult {
    let (t, tenant_rec) = tenant(st, raw_tenant).await?;
    let v = View::new(st, req, &tenant_rec, None);
    let issuer = st.engine.issuer(&t);
    match st
        .engine
        .saml()
        .start_sso(&t, &issuer, incoming, &meta(req))
        .await
    {
        Ok(sealed) => Ok(held(st, &t, sealed)),
        Err(r) => refused(r, &v),
    }
}

/// Holds a sealed pending sign-in in its cookie and goes on to `/saml/resume`.
fn held(st: &AppState, t: &TenantId, sealed: String) -> HttpResponse {
    let mut r = see_other(&format!("/{t}/saml/resume"));
    let c = st
        .cookies
        .scoped(PENDING_COOKIE, sealed, t.as_str(), "", SameSite::Lax, 600);
    let _ = r.add_cookie(&c);
    r
}

/// A message of the HTTP-POST binding, as its form brings it.
fn posted(form: web::Form<HashMap<String, String>>) -> Incoming {
    let mut form = form.into_inner();
    Incoming::Post {
        message: form.remove("SAMLRequest").unwrap_or_default(),
        relay_state: form.remove("RelayState"),
    }
}

/// `GET /{tenant}/saml/sso` (HTTP-Redirect binding)
pub async fn sso_redirect(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let q = req.query_string().to_owned();
    start(&req, &st, &path, Incoming::Redirect(q)).await
}

/// `POST /{tenant}/saml/sso` (HTTP-POST binding)
pub async fn sso_post(
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
    st: web::Data<AppState>,
) -> PageResult {
    start(&req, &st, &path, posted(form)).await
}

/// `GET /{tenant}/saml/resume`: answers the held request if signed in (recently enough
/// for `ForceAuthn`), else sends the user to sign in first.
pub async fn resume(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant_rec) = tenant(&st, &path).await?;
    let v = View::new(&st, &req, &tenant_rec, None);
    let saml = st.engine.saml();
    let Some(pending) = st
        .cookies
        .read(&req, PENDING_COOKIE, t.as_str())
        .and_then(|c| saml.open_pending(&t, c.value()))
    else {
        return Err(PageError::bad_request(
            "This sign-in request expired. Go back to the application and try again.",
        ));
    };
    let session = current_session(&st, &req, &t).await?;
    let Some(session) =
        session.filter(|s| !pending.force_authn || s.auth.auth_time >= pending.created_at)
    else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    let issuer = st.engine.issuer(&t);
    match saml
        .answer_sso(&t, &issuer, &pending, &session, &meta(&req))
        .await
    {
        Ok(form) => {
            let mut r = post_page(&v, &form);
            let _ = r.add_cookie(&st.cookies.removal(PENDING_COOKIE, t.as_str(), ""));
            Ok(r)
        }
        Err(r) => refused(r, &v),
    }
}

/// Whether a SAML sign-in is waiting for this browser (the account page sends it on).
pub fn pending(st: &AppState, req: &HttpRequest, t: &TenantId) -> bool {
    st.cookies.read(req, PENDING_COOKIE, t.as_str()).is_some()
}

/// `?sp=` of IdP-initiated SSO.
#[derive(serde::Deserialize)]
pub struct IdpInitQuery {
    /// The SP's entity ID.
    pub sp: String,
}

/// `GET /{tenant}/saml/idp-init?sp=`: held like an SP's request, answered at
/// `/saml/resume` once signed in.
pub async fn idp_init(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<IdpInitQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant_rec) = tenant(&st, &path).await?;
    let v = View::new(&st, &req, &tenant_rec, None);
    match st
        .engine
        .saml()
        .start_idp_initiated(&t, &q.sp, &meta(&req))
        .await
    {
        Ok(sealed) => Ok(held(&st, &t, sealed)),
        Err(r) => refused(r, &v),
    }
}

async fn logout(
    req: &HttpRequest,
    st: &AppState,
    raw_tenant: &str,
    incoming: Incoming,
) -> PageResult {
    let (t, tenant_rec) = tenant(st, raw_tenant).await?;
    let v = View::new(st, req, &tenant_rec, None);
    let issuer = st.engine.issuer(&t);
    match st
        .engine
        .saml()
        .logout(&t, &issuer, incoming, &meta(req))
        .await
    {
        Ok(form) => Ok(post_page(&v, &form)),
        Err(r) => refused(r, &v),
    }
}

/// `GET /{tenant}/saml/slo` (HTTP-Redirect binding)
pub async fn slo_redirect(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let q = req.query_string().to_owned();
    logout(&req, &st, &path, Incoming::Redirect(q)).await
}

/// `POST /{tenant}/saml/slo` (HTTP-POST binding)
pub async fn slo_post(
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
    st: web::Data<AppState>,
) -> PageResult {
    logout(&req, &st, &path, posted(form)).await
}

/// `GET /admin/v1/tenants/{tenant}/saml/sps`
pub async fn admin_list(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.saml().service_providers(&t).await?))
}

/// `POST /admin/v1/tenants/{tenant}/saml/sps`: registers (or replaces) an SP from its
/// metadata document and/or fields.
pub async fn admin_register(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewServiceProvider>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let sp = st.engine.saml().register_sp(&t, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(sp))
}

/// `?entity_id=` of a removal.
#[derive(serde::Deserialize)]
pub struct EntityQuery {
    /// The SP's entity ID.
    pub entity_id: String,
}

/// `DELETE /admin/v1/tenants/{tenant}/saml/sps?entity_id=`
pub async fn admin_remove(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<EntityQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    st.engine.saml().remove_sp(&t, &q.entity_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
