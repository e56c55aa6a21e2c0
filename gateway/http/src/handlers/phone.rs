//! Pages of the phone flows: adding a mobile number from the account page, and signing
//! in by a code sent to it (SMS or WhatsApp). Sending is limited per number, address and
//! tenant; past a limit the answer is 429 with `Retry-After`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::runtime::delivery::Channel;

use crate::journey::after_first_factor;
use crate::pages::otp::{self as pages, CodeForm, code_failed, code_page, start_failed};
use crate::state::AppState;
use crate::web::csrf::view_form_page;
use crate::web::error::PageError;
use crate::web::form::SubmittedForm;
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::{recent_user, signed_in_user};
use crate::web::tenant::tenant;
use crate::web::tx::{TxQuery, open_tx};
use crate::web::view::View;

type PageResult = Result<HttpResponse, PageError>;

const SIGN_IN_TITLE: &str = "otp-phone-sign-in-title";
const SIGN_IN_INTRO: &str = "otp-phone-sign-in-intro";
const ENROL_TITLE: &str = "otp-phone-add-title";
const ENROL_INTRO: &str = "otp-phone-add-intro";

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
    let (t, tenant) = tenant(&st, &path).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let v = View::new(&st, &req, &tenant, areq.as_ref());
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        SIGN_IN_TITLE,
        |csrf| {
            pages::phone_form(
                &v,
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
        title: "otp-check-phone-title",
        intro,
        handle: Some(handle),
        method: None,
        tx: f.tx(),
        new_password: false,
        button: "sign-in-button",
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
    let v = f.view(&st, &req, "login/phone");
    let again = |status, msg: &str| {
        view_form_page(&st, &req, &v, &f.t, status, SIGN_IN_TITLE, |csrf| {
            pages::phone_form(
                &v,
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
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
    }
    match st
        .engine
        .signin()
        .phone_sign_in_start(
            &f.t,
            f.get("phone"),
            channel(&f),
            f.tx().map(str::to_owned),
            Some(v.lang()),
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = sign_in_code_form(
                &f,
                pages::sent_if_exists(&v, &sent.masked, false),
                &sent.handle,
            );
            Ok(code_page(&st, &req, &v, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(&v, e, again),
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
    let v = f.view(&st, &req, "login/phone");
    let form = sign_in_code_form(&f, v.t("otp-enter-phone-code"), f.get("handle"));
    let again = |status, msg: &str| code_page(&st, &req, &v, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
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
    let (t, tenant) = tenant(&st, &path).await?;
    let user = match recent_user(&st, &req, &t, "/account/phone").await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let v = pages::user_view(&st, &req, &tenant, &user).await?;
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        ENROL_TITLE,
        |csrf| {
            pages::phone_form(
                &v,
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
        title: "otp-check-phone-title",
        intro,
        handle: Some(handle),
        method: None,
        tx: None,
        new_password: false,
        button: "otp-phone-add-button",
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
    let v = pages::user_view(&st, &req, &f.tenant, &user)
        .await?
        .switch_to(format!("/{}/account/phone", f.t), Vec::new());
    let again = |status, msg: &str| {
        view_form_page(&st, &req, &v, &f.t, status, ENROL_TITLE, |csrf| {
            pages::phone_form(
                &v,
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
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
    }
    match st
        .engine
        .signin()
        .phone_enrol_start(
            &f.t,
            &user,
            f.get("phone"),
            channel(&f),
            Some(v.lang()),
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = enrol_code_form(&f, pages::sent_to(&v, &sent.masked), &sent.handle);
            Ok(code_page(&st, &req, &v, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(&v, e, again),
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
    let v = pages::user_view(&st, &req, &f.tenant, &user)
        .await?
        .switch_to(format!("/{}/account/phone", f.t), Vec::new());
    let form = enrol_code_form(&f, v.t("otp-enter-phone-code"), f.get("handle"));
    let again = |status, msg: &str| code_page(&st, &req, &v, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
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
