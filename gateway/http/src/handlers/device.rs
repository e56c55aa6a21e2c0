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
use crate::web::csrf::{STALE_FORM, form_page};
use crate::web::error::{PageError, ProtocolError};
use crate::web::form::SubmittedForm;
use crate::web::html::page;
use crate::web::request::{meta, read_form};
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::{tenant, tenant_id};
use crate::web::tx::{STALE_LINK, TxQuery, open_tx};

type PageResult = Result<HttpResponse, PageError>;

const UNKNOWN_CODE: &str = "That code is not right. Check the code on your device and try again.";
const EXPIRED_CODE: &str =
    "That code has expired or was already used. Start again on your device for a new one.";

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
    let (t, _) = tenant(&st, &path).await?;
    let code = q.user_code.as_deref().unwrap_or("");
    let code = if code.len() <= 16 { code } else { "" };
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        "Connect a device",
        |csrf| pages::enter_code(t.as_str(), csrf, code, None),
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
    let again = |status, msg: &str| {
        let shown = if typed.len() <= 16 { typed } else { "" };
        form_page(&st, &req, &f.t, status, "Connect a device", |csrf| {
            pages::enter_code(f.t.as_str(), csrf, shown, Some(msg))
        })
    };
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .oauth()
        .device_user_code(&f.t, typed, &meta(&req))
        .await?
    {
        Ok(areq) => Ok(see_other(&continue_url(&st, &f.t, Some(areq)))),
        Err(UserCodeProblem::Unknown) => Ok(again(StatusCode::BAD_REQUEST, UNKNOWN_CODE)),
        Err(UserCodeProblem::Expired) => Ok(again(StatusCode::BAD_REQUEST, EXPIRED_CODE)),
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
        .ok_or_else(|| PageError::bad_request(STALE_LINK))?;
    if current_session(&st, &req, &t).await?.is_none() {
        return Ok(see_other(&continue_url(&st, &t, Some(areq))));
    }
    let client = st
        .engine
        .client(&t, &areq.client_id)
        .await?
        .ok_or_else(|| PageError::bad_request("The application is no longer registered."))?;
    let api = areq
        .resource
        .as_deref()
        .and_then(|r| tenant.api(r))
        .map(|a| a.name.as_str());
    let tx = q.tx.clone().unwrap_or_default();
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        "Connect a device",
        |csrf| {
            let code = areq.user_code.as_deref();
            pages::confirm(t.as_str(), &client.name, &areq.scopes, api, code, &tx, csrf)
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
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    let areq = f
        .areq
        .clone()
        .filter(|a| a.device.is_some())
        .ok_or_else(|| PageError::bad_request(STALE_LINK))?;
    let Some(session) = current_session(&st, &req, &f.t).await? else {
        return Ok(see_other(&continue_url(&st, &f.t, Some(areq))));
    };
    let approved = match f.get("decision") {
        "allow" => true,
        "deny" => false,
        _ => return Err(PageError::bad_request("Choose Allow or Deny.")),
    };
    match st
        .engine
        .oauth()
        .device_decide(&f.t, &areq, &session, approved, &meta(&req))
        .await
    {
        Ok(()) => Ok(page(
            StatusCode::OK,
            "Connect a device",
            &pages::done(approved),
        )),
        Err(EngineError::Invalid(msg)) => Err(PageError::bad_request(msg)),
        Err(e) => Err(e.into()),
    }
}
