//! Organisations, roles and permissions (issue 19).
//!
//! Admin API (inside `/admin/v1`, admin bearer token; the engine checks every value and a
//! bad one is a 400 `invalid_request` naming it, an unknown one a 404 `not_found`, a name
//! taken a 409 `conflict`):
//! - `POST`/`GET /tenants/{t}/organizations[?after=&limit=]`,
//!   `GET`/`PATCH`/`DELETE /tenants/{t}/organizations/{o}` (`{o}`: id or name);
//! - `GET`/`POST …/organizations/{o}/members`, `PUT`/`DELETE …/members/{u}`;
//! - `GET`/`POST …/organizations/{o}/invitations`, `DELETE …/invitations/{id}`;
//! - `GET …/organizations/{o}/roles` (each role with its holders there);
//! - `GET /tenants/{t}/roles`, `PUT`/`DELETE /tenants/{t}/roles/{r}`;
//!   `PUT`/`DELETE /tenants/{t}/users/{u}/roles/{r}` (tenant-wide);
//! - `GET /tenants/{t}/permissions` (the catalogue), `GET`/`PUT /tenants/{t}/org-settings`;
//! - `GET /tenants/{t}/users/{u}/permissions[?org=]`.
//!
//! Hosted pages: `GET`/`POST {issuer}/organization?tx=` (the picker, after sign-in, when
//! the user belongs to several organisations); `GET`/`POST {issuer}/invitations/{token}`
//! (accept an invitation signed in; a visitor who is not is sent to sign in or up, and
//! the account page brings them back here).
//!
//! For apps: `POST {issuer}/api/permissions/check` with the user's access token (Bearer)
//! and `{"permission", "organization"?}` answers `{"allowed": bool}`; the organisation is
//! the token's when the body names none.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::journey::{authorize_error, continue_to};
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::csrf::view_form_page;
use crate::web::error::{ApiError, PageError, ProtocolError};
use crate::web::form::SubmittedForm;
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::{tenant, tenant_id};
use crate::web::view::{Value, View, context};
use tollgate_engine::EngineError;
use tollgate_engine::OAuthErrorCode as C;
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::org::OrgsSettings;
use tollgate_engine::oauth::authorize::AuthRequest;
use tollgate_engine::orgs::invitations::InvitationProblem;
use tollgate_engine::orgs::invitations::NewInvitation;
use tollgate_engine::orgs::manage::{MemberInput, NewOrg, OrgChange, RoleInput};

/// `?after=&limit=` of a list.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// `?org=` of the user's permissions.
#[derive(Debug, Default, Deserialize)]
pub struct OrgQuery {
    org: Option<String>,
}

/// `POST /admin/v1/tenants/{t}/organizations`
pub async fn create(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<NewOrg>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let org = st.engine.orgs().create(&t, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(org))
}

/// `GET /admin/v1/tenants/{t}/organizations`
pub async fn list(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let page = st
        .engine
        .orgs()
        .list(&t, q.after.as_deref(), q.limit)
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /admin/v1/tenants/{t}/organizations/{o}`
pub async fn get(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o) = path.into_inner();
    let t = tenant_id(&t)?;
    Ok(HttpResponse::Ok().json(st.engine.orgs().find(&t, &o).await?))
}

/// `PATCH /admin/v1/tenants/{t}/organizations/{o}`
pub async fn change(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<OrgChange>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o) = path.into_inner();
    let t = tenant_id(&t)?;
    let org = st.engine.orgs().change(&t, &o, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(org))
}

/// `DELETE /admin/v1/tenants/{t}/organizations/{o}`
pub async fn delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.orgs().delete(&t, &o).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /admin/v1/tenants/{t}/organizations/{o}/members`
pub async fn members(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<PageQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o) = path.into_inner();
    let t = tenant_id(&t)?;
    let page = st
        .engine
        .orgs()
        .members(&t, &o, q.after.as_deref(), q.limit)
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /admin/v1/tenants/{t}/organizations/{o}/members` (`{"user_id", "roles"}`)
pub async fn add_member(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<MemberInput>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o) = path.into_inner();
    let t = tenant_id(&t)?;
    let body = body.into_inner();
    let user = body
        .user_id
        .ok_or_else(|| EngineError::Invalid("user_id: required".into()))?;
    let m = st
        .engine
        .orgs()
        .put_member(&t, &o, &user, &body.roles)
        .await?;
    Ok(HttpResponse::Created().json(m))
}

/// `PUT /admin/v1/tenants/{t}/organizations/{o}/members/{u}` (`{"roles"}`)
pub async fn put_member(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    body: web::Json<MemberInput>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o, u) = path.into_inner();
    let t = tenant_id(&t)?;
    let m = st.engine.orgs().put_member(&t, &o, &u, &body.roles).await?;
    Ok(HttpResponse::Ok().json(m))
}

/// `DELETE /admin/v1/tenants/{t}/organizations/{o}/members/{u}`
pub async fn remove_member(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o, u) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.orgs().remove_member(&t, &o, &u).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/tenants/{t}/organizations/{o}/invitations`: the answer holds the link
/// (also mailed), shown this once.
pub async fn invite(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<NewInvitation>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o) = path.into_inner();
    let t = tenant_id(&t)?;
    let inv = st.engine.orgs().invite(&t, &o, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(inv))
}

/// `GET /admin/v1/tenants/{t}/organizations/{o}/invitations`
pub async fn invitations(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o) = path.into_inner();
    let t = tenant_id(&t)?;
    Ok(HttpResponse::Ok().json(st.engine.orgs().invitations(&t, &o).await?))
}

/// `DELETE /admin/v1/tenants/{t}/organizations/{o}/invitations/{id}`
pub async fn withdraw(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o, id) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.orgs().withdraw(&t, &o, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /admin/v1/tenants/{t}/organizations/{o}/roles`: each role, with its holders there.
pub async fn org_roles(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, o) = path.into_inner();
    let t = tenant_id(&t)?;
    Ok(HttpResponse::Ok().json(st.engine.orgs().org_roles(&t, &o).await?))
}

/// `GET /admin/v1/tenants/{t}/roles`
pub async fn roles(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.orgs().roles(&t).await?))
}

/// `PUT /admin/v1/tenants/{t}/roles/{r}` (`{"description", "permissions"}`)
pub async fn put_role(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<RoleInput>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, r) = path.into_inner();
    let t = tenant_id(&t)?;
    let role = st.engine.orgs().put_role(&t, &r, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(role))
}

/// `DELETE /admin/v1/tenants/{t}/roles/{r}`
pub async fn delete_role(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, r) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.orgs().delete_role(&t, &r).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /admin/v1/tenants/{t}/users/{u}/roles/{r}`: a tenant-wide role.
pub async fn grant_tenant_role(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, u, r) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.orgs().tenant_role(&t, &u, &r, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /admin/v1/tenants/{t}/users/{u}/roles/{r}`
pub async fn revoke_tenant_role(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, u, r) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.orgs().tenant_role(&t, &u, &r, false).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /admin/v1/tenants/{t}/permissions`: the catalogue.
pub async fn permissions(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.orgs().permissions(&t).await?))
}

/// `GET /admin/v1/tenants/{t}/org-settings`
pub async fn get_settings(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.orgs().settings(&t).await?))
}

/// `PUT /admin/v1/tenants/{t}/org-settings`: named permissions, and the clients that
/// require an organisation.
pub async fn put_settings(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<OrgsSettings>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let s = st.engine.orgs().set_settings(&t, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(s))
}

/// `GET /admin/v1/tenants/{t}/users/{u}/permissions[?org=]`
pub async fn user_permissions(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<OrgQuery>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (t, u) = path.into_inner();
    let t = tenant_id(&t)?;
    let claims = st
        .engine
        .orgs()
        .user_claims(&t, &u, q.org.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(claims))
}

/// The body of a permission check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    permission: String,
    #[serde(default)]
    organization: Option<String>,
}

/// The answer of a permission check.
#[derive(Debug, Serialize)]
struct Checked {
    allowed: bool,
}

/// `POST {issuer}/api/permissions/check` with `Authorization: Bearer <access token>`.
pub async fn check(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<CheckBody>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path)?;
    let bearer = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            EngineError::oauth(
                C::InvalidToken,
                "an access token is required (Authorization: Bearer)",
            )
        })?;
    let token = st
        .engine
        .oauth()
        .verify_access_token(&t, bearer)
        .await
        .map_err(|_| EngineError::oauth(C::InvalidToken, "the access token is not valid"))?;
    let user = token
        .user()
        .ok_or_else(|| EngineError::oauth(C::InvalidToken, "the access token is not a user's"))?;
    let body = body.into_inner();
    if body.permission.is_empty() || body.permission.len() > 128 {
        return Err(
            EngineError::oauth(C::InvalidRequest, "permission: 1 to 128 characters").into(),
        );
    }
    let org = body.organization.or(token.org.org_id);
    let allowed = st
        .engine
        .orgs()
        .allowed(&t, &user, &body.permission, org.as_deref())
        .await?;
    Ok(HttpResponse::build(StatusCode::OK).json(Checked { allowed }))
}

// ---- Hosted pages: the organisation picker and invitations ------------------------------

type PageResult = Result<HttpResponse, PageError>;

/// The cookie that remembers an invitation while its visitor signs in or up: the account
/// page, where a sign-in without an authorization lands, sends them back to it.
pub const INVITATION_COOKIE: &str = "tg_invitation";

/// `?tx=` of the picker.
#[derive(Debug, Default, Deserialize)]
pub struct TxQuery {
    tx: Option<String>,
}

async fn pick_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    areq: &AuthRequest,
    tx: &str,
    user: &UserId,
    error: Option<&str>,
) -> PageResult {
    let tenant = st.engine.tenant(t).await?;
    let client = st
        .engine
        .client(t, &areq.client_id)
        .await?
        .ok_or_else(|| PageError::bad_request_id("err-app-gone"))?;
    let orgs: Vec<Value> = st
        .engine
        .orgs()
        .of_user(t, user)
        .await?
        .into_iter()
        .map(|o| context! { id => o.id, display_name => o.display_name })
        .collect();
    let v = View::new(st, req, &tenant, Some(areq));
    let error = error.map(|id| v.t(id));
    let status = match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    Ok(view_form_page(
        st,
        req,
        &v,
        t,
        status,
        "org-pick-title",
        |csrf| {
            v.render(
                "orgs_pick.html",
                context! { client => client.name.clone(), orgs, tx, csrf, error },
            )
        },
    ))
}

/// `GET {issuer}/organization?tx=`: the organisation picker, after sign-in.
pub async fn pick(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    let tx = q.tx.clone().unwrap_or_default();
    let areq = st
        .engine
        .oauth()
        .open_request(&t, &tx)
        .ok_or_else(|| PageError::bad_request_id("err-stale-link"))?;
    let Some(session) = current_session(&st, &req, &t).await? else {
        return Ok(see_other(&format!("/{t}/login?tx={tx}")));
    };
    pick_page(&st, &req, &t, &areq, &tx, &session.user_id, None).await
}

/// `POST {issuer}/organization`: the organisation chosen; the authorization goes on
/// for it (where it may still be refused by the organisation's rules).
pub async fn picked(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    if !f.csrf_ok {
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    let mut areq = f
        .areq
        .clone()
        .ok_or_else(|| PageError::bad_request_id("err-stale-link"))?;
    let Some(session) = current_session(&st, &req, &f.t).await? else {
        return Ok(see_other(&format!(
            "/{}/login?tx={}",
            f.t,
            st.engine.oauth().seal_request(&f.t, &areq)
        )));
    };
    let chosen = f.get("org");
    let mine = st.engine.orgs().of_user(&f.t, &session.user_id).await?;
    if !mine.iter().any(|o| o.id == chosen) {
        let tx = f.get("tx").to_owned();
        return pick_page(
            &st,
            &req,
            &f.t,
            &areq,
            &tx,
            &session.user_id,
            Some("org-pick-invalid"),
        )
        .await;
    }
    areq.organization = Some(chosen.to_owned());
    Ok(
        match st
            .engine
            .oauth()
            .next_step(&f.t, &areq, Some(&session), false, false, &meta(&req))
            .await
        {
            Ok(step) => continue_to(&st, &f.t, &areq, step),
            Err(e) => authorize_error(&st, &f.t, e),
        },
    )
}

fn invitation_page(v: &View, status: StatusCode, ctx: Value) -> HttpResponse {
    v.page(
        status,
        "org-inv-problem-title",
        v.render("orgs_invitation.html", ctx),
    )
}

fn problem_page(v: &View, p: InvitationProblem) -> HttpResponse {
    let status = match p {
        InvitationProblem::Unknown => StatusCode::NOT_FOUND,
        InvitationProblem::Expired => StatusCode::GONE,
        InvitationProblem::OtherAddress | InvitationProblem::Domain => StatusCode::FORBIDDEN,
    };
    invitation_page(v, status, context! { problem => v.t(p.message_id()) })
}

/// `GET {issuer}/invitations/{token}`: who invites; signed in, the form to accept;
/// otherwise the way to sign in or up, after which the account page comes back here.
pub async fn invitation(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, token) = path.into_inner();
    let (t, tenant) = tenant(&st, &t).await?;
    let v = View::new(&st, &req, &tenant, None);
    let org = match st.engine.orgs().invitation_org(&t, &token).await? {
        Ok(org) => org,
        Err(p) => return Ok(problem_page(&v, p)),
    };
    let signed_in = current_session(&st, &req, &t).await?.is_some();
    let mut r = view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "org-inv-problem-title",
        |csrf| {
            v.render(
            "orgs_invitation.html",
            context! { org => org.display_name.clone(), token => token.clone(), csrf, signed_in },
        )
        },
    );
    let cookie = match signed_in {
        true => st.cookies.removal(INVITATION_COOKIE, t.as_str(), ""),
        false => st
            .cookies
            .cookie(INVITATION_COOKIE, token.clone(), t.as_str()),
    };
    let _ = r.add_cookie(&cookie);
    Ok(r)
}

/// `POST {issuer}/invitations/{token}`: the signed-in user accepts.
pub async fn accept(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, token) = path.into_inner();
    let f = SubmittedForm::read(&req, &t, payload, &st).await?;
    if !f.csrf_ok {
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    let v = View::new(&st, &req, &f.tenant, None);
    let Some(session) = current_session(&st, &req, &f.t).await? else {
        return Ok(see_other(&format!("/{}/invitations/{token}", f.t)));
    };
    match st
        .engine
        .orgs()
        .accept(&f.t, &token, &session.user_id)
        .await?
    {
        Ok(org) => Ok(invitation_page(
            &v,
            StatusCode::OK,
            context! { joined => true, org => org.display_name },
        )),
        Err(p) => Ok(problem_page(&v, p)),
    }
}

/// Where the account page sends a browser that was on an invitation before signing in.
pub fn pending_invitation(st: &AppState, req: &HttpRequest, t: &TenantId) -> Option<String> {
    let c = st.cookies.read(req, INVITATION_COOKIE, t.as_str())?;
    let token = c.value();
    let ok = !token.is_empty()
        && token.len() <= 64
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| format!("/{t}/invitations/{token}"))
}
