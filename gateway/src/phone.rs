//! Pages of the phone flows: adding a mobile number from the account page, and signing
//! in by a code sent to it (SMS or WhatsApp). Sending is limited per number, address and
//! tenant; past a limit the answer is 429 with `Retry-After`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::delivery::Channel;

use crate::email::{STALE_FORM, code_failed, code_page, signed_in_user, start_failed};
use crate::hosted::{SubmittedForm, TxQuery, form_page, open_tx, tenant};
use crate::otp_pages::{self, CodeForm};
use crate::pages::PageError;
use crate::server::AppState;
use crate::{http, mfa, oidc};

type PageResult = Result<HttpResponse, PageError>;

/// Registers the routes (inside the `/{tenant}` scope).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login/phone", web::get().to(sign_in_page))
        .route("/login/phone", web::post().to(sign_in_start))
        .route("/login/phone/code", web::post().to(sign_in_code))
        .route("/account/phone", web::get().to(enrol_page))
        .route("/account/phone", web::post().to(enrol_start))
        .route("/account/phone/confirm", web::post().to(enrol_confirm));
}

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
            otp_pages::phone_form(
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
            otp_pages::phone_form(
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
        .phone_sign_in_start(
            &f.t,
            f.get("phone"),
            channel(&f),
            f.tx().map(str::to_owned),
            &http::meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = sign_in_code_form(
                &f,
                otp_pages::sent_if_exists(&sent.masked, false),
                &sent.handle,
            );
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
        .phone_sign_in_code(&f.t, f.get("handle"), f.get("code"), &http::meta(&req))
        .await
    {
        Ok(step) => mfa::after_first_factor(&st, &req, &f.t, step, f.areq.clone()).await,
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
    if let Err(r) = signed_in_user(&st, &req, &t).await? {
        return Ok(r);
    }
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        ENROL_TITLE,
        |csrf| {
            otp_pages::phone_form(
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
    let user = match signed_in_user(&st, &req, &f.t).await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, ENROL_TITLE, |csrf| {
            otp_pages::phone_form(
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
        .phone_enrol_start(&f.t, &user, f.get("phone"), channel(&f), &http::meta(&req))
        .await
    {
        Ok(sent) => {
            let form = enrol_code_form(&f, otp_pages::sent_to(&sent.masked), &sent.handle);
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
        .phone_enrol_confirm(
            &f.t,
            &user,
            f.get("handle"),
            f.get("code"),
            &http::meta(&req),
        )
        .await
    {
        Ok(()) => Ok(oidc::see_other(&format!("/{}/account", f.t))),
        Err(e) => code_failed(e, again),
    }
}
