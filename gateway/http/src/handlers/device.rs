//! The device authorization grant (RFC 8628): the endpoint devices call, and the hosted
//! page where the user enters the code, then (after the usual sign-in journey) allows or
//! denies the device. Polling is at the token endpoint.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::EngineError;
use tollgate_engine::oauth::device::UserCodeProblem;

use crate::journey::continue_url;
use crate::pages::device as pages;
use crate::state::AppState;
use crate::web::client_auth::client_credentials;
use crate::web::csrf::view_form_page;
use crate::web::error::{PageError, ProtocolError};
use crate::web::form::SubmittedForm;
use crate::web::request::{meta, read_form};
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::{tenant, tenant_id};
use crate::web::tx::{TxQuery, open_tx};
use crate::web::view::View;

type PageResult = Result<HttpResponse, PageError>;

/// `POST /{tenant}/device_authorization` (RFC 8628 §3.1-3.2)
pub async fn authorization(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path)?;
    let mut form = read_form(&req, payload).await?;
    let creds = client_credentials(&req, &form)?;
    let mut param = |k: &str| form.remove(k).filter(|v| !v.is_empty());
    let (scope, resource) = (param("scope"), param("resource"));
    let answer = st
        .engine
        .oauth()
        .device_authorization(&t, &creds, scope, resource)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(&answer))
}

/// The `?user_code=` of the verification URI (`verification_uri_complete`).
#[derive(serde::Deserialize)]
pub struct CodeQuery {
    user_code: Option<String>,
}

/// `GET /{tenant}/device`: the form for the code.
pub async fn enter_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<CodeQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let code = q.user_code.as_deref().unwrap_or("");
    let code = if code.len() <= 16 { code } else { "" };
    let v = View::new(&st, &req, &tenant, None);
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "device-title",
        |csrf| pages::enter_code(&v, csrf, code, None),
    ))
}

/// `POST /{tenant}/device`: a known code continues to sign-in (or straight to the
/// confirmation, with a session); a wrong one is counted.
pub async fn enter_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let typed = f.get("user_code");
    let v = f.view(&st, &req, "device");
    let again = |status, id: &str| {
        let shown = if typed.len() <= 16 { typed } else { "" };
        view_form_page(&st, &req, &v, &f.t, status, "device-title", |csrf| {
            pages::enter_code(&v, csrf, shown, Some(&v.t(id)))
        })
    };
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, "form-expired"));
    }
    match st
        .engine
        .oauth()
        .device_user_code(&f.t, typed, &meta(&req))
        .await?
    {
        Ok(areq) => Ok(see_other(&continue_url(&st, &f.t, Some(areq)))),
        Err(UserCodeProblem::Unknown) => Ok(again(StatusCode::BAD_REQUEST, "device-code-unknown")),
        Err(UserCodeProblem::Expired) => Ok(again(StatusCode::BAD_REQUEST, "device-code-expired")),
    }
}

/// `GET /{tenant}/device/confirm?tx=`: allow or deny, once signed in.
pub async fn confirm_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?
        .filter(|a| a.device.is_some())
        .ok_or_else(|| PageError::bad_request_id("err-stale-link"))?;
    if current_session(&st, &req, &t).await?.is_none() {
        return Ok(see_other(&continue_url(&st, &t, Some(areq))));
    }
    let client = st
        .engine
        .client(&t, &areq.client_id)
        .await?
        .ok_or_else(|| PageError::bad_request_id("err-app-gone"))?;
    let api = areq
        .resource
        .as_deref()
        .and_then(|r| tenant.api(r))
        .map(|a| a.name.as_str());
    let tx = q.tx.clone().unwrap_or_default();
    let v = View::new(&st, &req, &tenant, Some(&areq));
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "device-title",
        |csrf| {
            let code = areq.user_code.as_deref();
            pages::confirm(&v, &client.name, &areq.scopes, api, code, &tx, csrf)
        },
    ))
}

/// `POST /{tenant}/device/confirm`: records the answer the device's polls will find.
pub async fn confirm_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    if !f.csrf_ok {
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    let areq = f
        .areq
        .clone()
        .filter(|a| a.device.is_some())
        .ok_or_else(|| PageError::bad_request_id("err-stale-link"))?;
    let Some(session) = current_session(&st, &req, &f.t).await? else {
        return Ok(see_other(&continue_url(&st, &f.t, Some(areq))));
    };
    let approved = match f.get("decision") {
        "allow" => true,
        "deny" => false,
        _ => return Err(PageError::bad_request_id("device-choose")),
    };
    match st
        .engine
        .oauth()
        .device_decide(&f.t, &areq, &session, approved, &meta(&req))
        .await
    {
        Ok(()) => {
            let v = f.view(&st, &req, "device");
            Ok(v.page(StatusCode::OK, "device-title", pages::done(&v, approved)))
        }
        Err(EngineError::Invalid(msg)) => Err(PageError::bad_request(msg)),
        Err(e) => Err(e.into()),
    }
}
