//! Pages of the email flows: "Email me a code" and its magic link, "Forgot password?",
//! proving the address (account page and mailed link), and sending an email or phone
//! code for a pending second factor. Each handler reads the form, calls one engine
//! function and renders; the answers to "send me a code" never say whether an account
//! has the address.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::EngineError;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::FactorKind;
use tollgate_engine::signin::otp::Flow;

use crate::journey::after_first_factor;
use crate::pages::hosted::login;
use crate::pages::otp::{self as pages, CodeForm, code_failed, code_page, start_failed};
use crate::state::AppState;
use crate::web::csrf::{STALE_FORM, form_page, view_form_page};
use crate::web::error::PageError;
use crate::web::form::SubmittedForm;
use crate::web::html::{error_page, page};
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::signed_in_user;
use crate::web::tenant::tenant;
use crate::web::tx::{TxQuery, open_tx};
use crate::web::view::View;

type PageResult = Result<HttpResponse, PageError>;

const DEAD_LINK: &str =
    "This link has expired or was already used. Ask for a new one from the sign-in page.";

#[derive(serde::Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn sign_in_code_form<'a>(
    t: &TenantId,
    intro: String,
    handle: &'a str,
    tx: Option<&'a str>,
) -> CodeForm<'a> {
    CodeForm::emailed(
        format!("/{t}/login/email/code"),
        intro,
        handle,
        tx,
        "Sign in",
    )
}

/// `POST /{tenant}/login/email`: "Email me a code" on the sign-in page.
pub async fn email_start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let v = View::for_form(&st, &req, &f, "login");
    let again = |status, msg: &str| {
        view_form_page(&st, &req, &v, &f.t, status, "sign-in-button", |csrf| {
            login(
                &v,
                f.tx(),
                csrf,
                f.get("email"),
                Some(msg),
                st.engine.signin().passkeys_allowed(&f.tenant),
                String::new(),
            )
        })
    };
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .signin()
        .email_sign_in_start(
            &f.t,
            f.get("email"),
            f.tx().map(str::to_owned),
            Some(v.lang()),
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = sign_in_code_form(
                &f.t,
                pages::sent_if_exists(&sent.masked, true),
                &sent.handle,
                f.tx(),
            );
            Ok(code_page(&st, &req, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(e, again),
    }
}

/// `POST /{tenant}/login/email/code`
pub async fn email_code(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let form = sign_in_code_form(
        &f.t,
        "Enter the 6-digit code we emailed you.".into(),
        f.get("handle"),
        f.tx(),
    );
    let again = |status, msg: &str| code_page(&st, &req, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .signin()
        .email_sign_in_code(&f.t, f.get("handle"), f.get("code"), &meta(&req))
        .await
    {
        Ok(step) => after_first_factor(&st, &req, &f.t, step, f.areq.clone()).await,
        Err(e) => code_failed(e, again),
    }
}

async fn link_page_for(
    req: &HttpRequest,
    path: &str,
    token: Option<&String>,
    st: &AppState,
    flow: Flow,
    render: impl FnOnce(&TenantId, &str, &str) -> String,
    title: &str,
) -> PageResult {
    let (t, _) = tenant(st, path).await?;
    let token = token.map(String::as_str).unwrap_or("");
    match st.engine.signin().link_info(&t, token).await? {
        Some(info) if info.flow == flow => {
            Ok(form_page(st, req, &t, StatusCode::OK, title, |csrf| {
                render(&t, token, csrf)
            }))
        }
        _ => Err(PageError::bad_request(DEAD_LINK)),
    }
}

/// `GET /{tenant}/login/link?token=…`: the magic link; one press signs in.
pub async fn link_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TokenQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    link_page_for(
        &req,
        &path,
        q.token.as_ref(),
        &st,
        Flow::EmailSignIn,
        |t, token, csrf| {
            pages::link_confirm(
                &format!("/{t}/login/link"),
                "Sign in",
                "Continue to sign in with the link we emailed you.",
                token,
                csrf,
                "Sign in",
                false,
                None,
            )
        },
        "Sign in",
    )
    .await
}

/// `POST /{tenant}/login/link`
pub async fn link_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    match st
        .engine
        .signin()
        .email_sign_in_link(&f.t, f.get("token"), &meta(&req))
        .await
    {
        Ok((step, tx)) => {
            let areq = tx.and_then(|tx| st.engine.oauth().open_request(&f.t, &tx));
            after_first_factor(&st, &req, &f.t, step, areq).await
        }
        Err(EngineError::Invalid(_)) => Err(PageError::bad_request(DEAD_LINK)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /{tenant}/login/factor/send`: an email or phone code for the pending sign-in.
pub async fn factor_send(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    let kind = match f.get("method") {
        "phone" => FactorKind::Phone,
        _ => FactorKind::Email,
    };
    let handle = f.get("handle");
    match st
        .engine
        .signin()
        .send_factor_code(&f.t, handle, kind, None, &meta(&req))
        .await
    {
        Ok(sent) => {
            let form = CodeForm {
                action: format!("/{}/login/factor", f.t),
                title: "Confirm it is you",
                intro: pages::sent_to(&sent.masked),
                handle: Some(handle),
                method: Some(kind.as_str()),
                tx: f.tx(),
                new_password: false,
                button: "Verify",
            };
            Ok(code_page(&st, &req, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(e, error_page),
    }
}

/// `GET /{tenant}/password/forgot`
pub async fn forgot_page(
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
        "Reset your password",
        |csrf| {
            pages::email_form(
                &format!("/{t}/password/forgot"),
                "Reset your password",
                "Enter your account's email address. We will send it a code and a link to choose a new password.",
                q.tx.as_deref(),
                csrf,
                "",
                None,
            )
        },
    ))
}

fn reset_code_form<'a>(
    t: &TenantId,
    intro: String,
    handle: &'a str,
    tx: Option<&'a str>,
) -> CodeForm<'a> {
    CodeForm {
        action: format!("/{t}/password/reset"),
        title: "Choose a new password",
        intro,
        handle: Some(handle),
        method: None,
        tx,
        new_password: true,
        button: "Set password and sign in",
    }
}

/// `POST /{tenant}/password/forgot`
pub async fn forgot_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, "Reset your password", |csrf| {
            pages::email_form(
                &format!("/{}/password/forgot", f.t),
                "Reset your password",
                "Enter your account's email address.",
                f.tx(),
                csrf,
                f.get("email"),
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
        .password_reset_start(
            &f.t,
            f.get("email"),
            f.tx().map(str::to_owned),
            None,
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = reset_code_form(
                &f.t,
                pages::sent_if_exists(&sent.masked, true),
                &sent.handle,
                f.tx(),
            );
            Ok(code_page(&st, &req, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(e, again),
    }
}

fn reset_link_form(t: &TenantId, token: &str, csrf: &str, error: Option<&str>) -> String {
    pages::link_confirm(
        &format!("/{t}/password/reset"),
        "Choose a new password",
        "Choose the new password for your account.",
        token,
        csrf,
        "Set password and sign in",
        true,
        error,
    )
}

/// `GET /{tenant}/password/reset?token=…`: the mailed link.
pub async fn reset_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TokenQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    link_page_for(
        &req,
        &path,
        q.token.as_ref(),
        &st,
        Flow::Reset,
        |t, token, csrf| reset_link_form(t, token, csrf, None),
        "Choose a new password",
    )
    .await
}

/// `POST /{tenant}/password/reset`: with the mailed code (and the handle), or the link's
/// token; sets the password and signs in.
pub async fn reset_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let meta = meta(&req);
    let token = f.get("token");
    if !token.is_empty() {
        let again = |status, msg: &str| {
            form_page(&st, &req, &f.t, status, "Choose a new password", |csrf| {
                reset_link_form(&f.t, token, csrf, Some(msg))
            })
        };
        if !f.csrf_ok {
            return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
        }
        return match st
            .engine
            .signin()
            .password_reset_link(&f.t, token, f.get("password"), &meta)
            .await
        {
            Ok((step, tx)) => {
                let areq = tx.and_then(|tx| st.engine.oauth().open_request(&f.t, &tx));
                after_first_factor(&st, &req, &f.t, step, areq).await
            }
            Err(e) => code_failed(e, again),
        };
    }
    let form = reset_code_form(
        &f.t,
        "Enter the 6-digit code we emailed you and your new password.".into(),
        f.get("handle"),
        f.tx(),
    );
    let again = |status, msg: &str| code_page(&st, &req, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .signin()
        .password_reset_code(
            &f.t,
            f.get("handle"),
            f.get("code"),
            f.get("password"),
            &meta,
        )
        .await
    {
        Ok(step) => after_first_factor(&st, &req, &f.t, step, f.areq.clone()).await,
        Err(e) => code_failed(e, again),
    }
}

/// `POST /{tenant}/password/reset/review`: after a reset, keep the account's other ways
/// to sign in or remove them all, then go on signing in.
pub async fn reset_review_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    let remove_all = match f.get("choice") {
        "remove" => true,
        "keep" => false,
        _ => return Err(PageError::bad_request("Choose to keep or remove them.")),
    };
    let step = st
        .engine
        .signin()
        .finish_reset_review(&f.t, f.get("handle"), remove_all, &meta(&req))
        .await?;
    after_first_factor(&st, &req, &f.t, step, f.areq.clone()).await
}

/// `GET /{tenant}/verify?token=…`: the link in the sign-up mail.
pub async fn verify_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TokenQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    link_page_for(
        &req,
        &path,
        q.token.as_ref(),
        &st,
        Flow::VerifyEmail,
        |t, token, csrf| {
            pages::link_confirm(
                &format!("/{t}/verify"),
                "Confirm your email address",
                "Press the button to confirm that this email address is yours.",
                token,
                csrf,
                "Confirm",
                false,
                None,
            )
        },
        "Confirm your email address",
    )
    .await
}

/// `POST /{tenant}/verify`
pub async fn verify_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    match st
        .engine
        .signin()
        .verify_email_link(&f.t, f.get("token"), &meta(&req))
        .await
    {
        Ok(()) => Ok(page(
            StatusCode::OK,
            "Email address confirmed",
            &pages::notice(
                "Email address confirmed",
                "Thank you: your email address is confirmed.",
                &format!("/{}/account", f.t),
                "Go to your account",
            ),
        )),
        Err(EngineError::Invalid(_)) => Err(PageError::bad_request(DEAD_LINK)),
        Err(e) => Err(e.into()),
    }
}

fn verify_code_form<'a>(t: &TenantId, intro: String) -> CodeForm<'a> {
    CodeForm {
        action: format!("/{t}/account/email/verify"),
        title: "Verify your email address",
        intro,
        handle: None,
        method: None,
        tx: None,
        new_password: false,
        button: "Verify",
    }
}

/// `POST /{tenant}/account/email/verify`: the code from the sign-up mail.
pub async fn account_verify(
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
    let form = verify_code_form(&f.t, "Enter the 6-digit code we emailed you.".into());
    let again = |status, msg: &str| code_page(&st, &req, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .signin()
        .verify_email_code(&f.t, &user, f.get("code"), &meta(&req))
        .await
    {
        Ok(()) => Ok(see_other(&format!("/{}/account", f.t))),
        Err(e) => code_failed(e, again),
    }
}

/// `POST /{tenant}/account/email/send`: a new code for the address.
pub async fn account_send(
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
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    match st
        .engine
        .signin()
        .send_email_verification(&f.t, &user, None, &meta(&req))
        .await
    {
        Ok(()) => {
            let form = verify_code_form(
                &f.t,
                "We sent a new 6-digit code to your email address. Enter it here.".into(),
            );
            Ok(code_page(&st, &req, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(e, error_page),
    }
}
