//! Pages of the phone flows: adding a mobile number from the account page, and signing
//! in by a code sent to it (SMS or WhatsApp). Sending is limited per number, address and
//! tenant; past a limit the answer is 429 with `Retry-After`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::runtime::delivery::Channel;

use crate::journey::after_first_factor;
use crate::pages::otp::{self as pages, CodeForm, code_failed, code_page, start_failed};
use crate::state::AppState;
use crate::web::csrf::{STALE_FORM, form_page};
use crate::web::error::PageError;
use crate::web::form::SubmittedForm;
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::{recent_user, signed_in_user};
use crate::web::tenant::tenant;
use crate::web::tx::{TxQuery, open_tx};

type PageResult = Result<HttpResponse, PageError>;

const SIGN_IN_TITLE: &str = "Sign in with your phone";
const SIGN_IN_INTRO: &str = "We will send a code to the mobile number on your account.";
const ENROL_TITLE: &str = "Add a mobile number";
const ENROL_INTRO: &str = "We will send it a code to check that it is yours.";

fn channel(f: &SubmittedForm) -> Channel {
    Channel::parse(f.get("channel")).unwrap_or_default()
}

/// `GET /{tenant}/login/phone`
pub async fn sign_in_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    open_tx(&st, &t, q.tx.as_ref())?;
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        SIGN_IN_TITLE,
        |csrf| {
            pages::phone_form(
                &format!("/{t}/login/phone"),
                SIGN_IN_TITLE,
                SIGN_IN_INTRO,
                q.tx.as_deref(),
                csrf,
                "",
                None,
            )
        },
    ))
}

fn sign_in_code_form<'a>(f: &'a SubmittedForm, intro: String, handle: &'a str) -> CodeForm<'a> {
    CodeForm {
        action: format!("/{}/login/phone/code", f.t),
        title: "Check your phone",
        intro,
        handle: Some(handle),
        method: None,
        tx: f.tx(),
        new_password: false,
        button: "Sign in",
    }
}

/// `POST /{tenant}/login/phone`
pub async fn sign_in_start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, SIGN_IN_TITLE, |csrf| {
            pages::phone_form(
                &format!("/{}/login/phone", f.t),
                SIGN_IN_TITLE,
                SIGN_IN_INTRO,
                f.tx(),
                csrf,
                f.get("phone"),
                Some(msg),
            )
        })
    };
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .signin()
        .phone_sign_in_start(
            &f.t,
            f.get("phone"),
            channel(&f),
            f.tx().map(str::to_owned),
            None,
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form =
                sign_in_code_form(&f, pages::sent_if_exists(&sent.masked, false), &sent.handle);
            Ok(code_page(&st, &req, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(e, again),
    }
}

/// `POST /{tenant}/login/phone/code`
pub async fn sign_in_code(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let form = sign_in_code_form(
        &f,
        "Enter the 6-digit code we sent to your phone.".into(),
        f.get("handle"),
    );
    let again = |status, msg: &str| code_page(&st, &req, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .signin()
        .phone_sign_in_code(&f.t, f.get("handle"), f.get("code"), &meta(&req))
        .await
    {
        Ok(step) => after_first_factor(&st, &req, &f.t, step, f.areq.clone()).await,
        Err(e) => code_failed(e, again),
    }
}

/// `GET /{tenant}/account/phone`
pub async fn enrol_page(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    if let Err(r) = recent_user(&st, &req, &t, "/account/phone").await? {
        return Ok(r);
    }
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        ENROL_TITLE,
        |csrf| {
            pages::phone_form(
                &format!("/{t}/account/phone"),
                ENROL_TITLE,
                ENROL_INTRO,
                None,
                csrf,
                "",
                None,
            )
        },
    ))
}

fn enrol_code_form<'a>(f: &'a SubmittedForm, intro: String, handle: &'a str) -> CodeForm<'a> {
    CodeForm {
        action: format!("/{}/account/phone/confirm", f.t),
        title: "Check your phone",
        intro,
        handle: Some(handle),
        method: None,
        tx: None,
        new_password: false,
        button: "Add this number",
    }
}

/// `POST /{tenant}/account/phone`
pub async fn enrol_start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let user = match recent_user(&st, &req, &f.t, "/account/phone").await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, ENROL_TITLE, |csrf| {
            pages::phone_form(
                &format!("/{}/account/phone", f.t),
                ENROL_TITLE,
                ENROL_INTRO,
                None,
                csrf,
                f.get("phone"),
                Some(msg),
            )
        })
    };
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .signin()
        .phone_enrol_start(&f.t, &user, f.get("phone"), channel(&f), None, &meta(&req))
        .await
    {
        Ok(sent) => {
            let form = enrol_code_form(&f, pages::sent_to(&sent.masked), &sent.handle);
            Ok(code_page(&st, &req, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(e, again),
    }
}

/// `POST /{tenant}/account/phone/confirm`
pub async fn enrol_confirm(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let user = match signed_in_user(&st, &req, &f.t).await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let form = enrol_code_form(
        &f,
        "Enter the 6-digit code we sent to your phone.".into(),
        f.get("handle"),
    );
    let again = |status, msg: &str| code_page(&st, &req, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .signin()
        .phone_enrol_confirm(&f.t, &user, f.get("handle"), f.get("code"), &meta(&req))
        .await
    {
        Ok(()) => Ok(see_other(&format!("/{}/account", f.t))),
        Err(e) => code_failed(e, again),
    }
}
