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
use crate::pages::otp::LinkForm;
use crate::pages::otp::{self as pages, CodeForm, code_failed, code_page, start_failed};
use crate::state::AppState;
use crate::web::csrf::view_form_page;
use crate::web::error::{ErrorText, PageError, view_error_page};
use crate::web::form::SubmittedForm;
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::signed_in_user;
use crate::web::tenant::tenant;
use crate::web::tx::{TxQuery, open_tx};
use crate::web::view::View;

type PageResult = Result<HttpResponse, PageError>;

/// What a mailed link says when it is dead (expired, used, or made for another flow).
const DEAD_LINK: &str = "otp-dead-link";

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
        "sign-in-button",
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
    let v = f.view(&st, &req, "login");
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
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
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
                pages::sent_if_exists(&v, &sent.masked, true),
                &sent.handle,
                f.tx(),
            );
            Ok(code_page(&st, &req, &v, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(&v, e, again),
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
    let v = f.view(&st, &req, "login");
    let form = sign_in_code_form(&f.t, v.t("otp-enter-emailed-code"), f.get("handle"), f.tx());
    let again = |status, msg: &str| code_page(&st, &req, &v, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
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

/// The page a mailed link opens, if the link is alive and made for `flow`.
async fn link_page_for(
    req: &HttpRequest,
    path: &str,
    token: Option<&String>,
    st: &AppState,
    flow: Flow,
    form: impl FnOnce(&TenantId) -> LinkForm<'static>,
) -> PageResult {
    let (t, tenant) = tenant(st, path).await?;
    let token = token.map(String::as_str).unwrap_or("");
    match st.engine.signin().link_info(&t, token).await? {
        Some(info) if info.flow == flow => {
            let v = View::new(st, req, &tenant, None);
            let form = form(&t);
            Ok(view_form_page(
                st,
                req,
                &v,
                &t,
                StatusCode::OK,
                form.title,
                |csrf| pages::link_confirm(&v, &form, token, csrf, None),
            ))
        }
        _ => Err(PageError::bad_request_id(DEAD_LINK)),
    }
}

/// `GET /{tenant}/login/link?token=…`: the magic link; one press signs in.
pub async fn link_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TokenQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    link_page_for(&req, &path, q.token.as_ref(), &st, Flow::EmailSignIn, |t| {
        LinkForm {
            action: format!("/{t}/login/link"),
            title: "sign-in-button",
            intro: "otp-link-sign-in-intro",
            button: "sign-in-button",
            new_password: false,
        }
    })
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
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
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
        Err(EngineError::Invalid(_)) => Err(PageError::bad_request_id(DEAD_LINK)),
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
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    let v = f.view(&st, &req, "login");
    let kind = match f.get("method") {
        "phone" => FactorKind::Phone,
        _ => FactorKind::Email,
    };
    let handle = f.get("handle");
    match st
        .engine
        .signin()
        .send_factor_code(&f.t, handle, kind, Some(v.lang()), &meta(&req))
        .await
    {
        Ok(sent) => {
            let form = CodeForm {
                action: format!("/{}/login/factor", f.t),
                title: "mfa-title",
                intro: pages::sent_to(&v, &sent.masked),
                handle: Some(handle),
                method: Some(kind.as_str()),
                tx: f.tx(),
                new_password: false,
                button: "otp-verify-button",
            };
            Ok(code_page(&st, &req, &v, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(&v, e, |status, msg| {
            view_error_page(&v, status, &ErrorText::Text(msg.to_owned()))
        }),
    }
}

/// `GET /{tenant}/password/forgot`
pub async fn forgot_page(
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
        "otp-forgot-title",
        |csrf| {
            pages::email_form(
                &v,
                &format!("/{t}/password/forgot"),
                "otp-forgot-title",
                "otp-forgot-intro",
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
        title: "otp-reset-title",
        intro,
        handle: Some(handle),
        method: None,
        tx,
        new_password: true,
        button: "otp-reset-button",
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
    let v = f.view(&st, &req, "password/forgot");
    let again = |status, msg: &str| {
        view_form_page(&st, &req, &v, &f.t, status, "otp-forgot-title", |csrf| {
            pages::email_form(
                &v,
                &format!("/{}/password/forgot", f.t),
                "otp-forgot-title",
                "otp-forgot-intro",
                f.tx(),
                csrf,
                f.get("email"),
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
        .password_reset_start(
            &f.t,
            f.get("email"),
            f.tx().map(str::to_owned),
            Some(v.lang()),
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = reset_code_form(
                &f.t,
                pages::sent_if_exists(&v, &sent.masked, true),
                &sent.handle,
                f.tx(),
            );
            Ok(code_page(&st, &req, &v, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(&v, e, again),
    }
}

fn reset_link_form(t: &TenantId) -> LinkForm<'static> {
    LinkForm {
        action: format!("/{t}/password/reset"),
        title: "otp-reset-title",
        intro: "otp-reset-link-intro",
        button: "otp-reset-button",
        new_password: true,
    }
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
        reset_link_form,
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
    let v = f.view(&st, &req, "password/forgot");
    let meta = meta(&req);
    let token = f.get("token");
    if !token.is_empty() {
        let form = reset_link_form(&f.t);
        let again = |status, msg: &str| {
            view_form_page(&st, &req, &v, &f.t, status, form.title, |csrf| {
                pages::link_confirm(&v, &form, token, csrf, Some(msg))
            })
        };
        if !f.csrf_ok {
            return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
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
    let form = reset_code_form(&f.t, v.t("otp-reset-code-intro"), f.get("handle"), f.tx());
    let again = |status, msg: &str| code_page(&st, &req, &v, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
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
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    let remove_all = match f.get("choice") {
        "remove" => true,
        "keep" => false,
        _ => return Err(PageError::bad_request_id("otp-keep-or-remove")),
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
    link_page_for(&req, &path, q.token.as_ref(), &st, Flow::VerifyEmail, |t| {
        LinkForm {
            action: format!("/{t}/verify"),
            title: "otp-verify-link-title",
            intro: "otp-verify-link-intro",
            button: "otp-confirm-button",
            new_password: false,
        }
    })
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
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    match st
        .engine
        .signin()
        .verify_email_link(&f.t, f.get("token"), &meta(&req))
        .await
    {
        Ok(()) => {
            let v = View::new(&st, &req, &f.tenant, None);
            Ok(v.page(
                StatusCode::OK,
                "otp-verified-title",
                pages::notice(
                    &v,
                    "otp-verified-title",
                    "otp-verified-message",
                    &format!("/{}/account", f.t),
                    "otp-go-to-account",
                ),
            ))
        }
        Err(EngineError::Invalid(_)) => Err(PageError::bad_request_id(DEAD_LINK)),
        Err(e) => Err(e.into()),
    }
}

fn verify_code_form<'a>(t: &TenantId, intro: String) -> CodeForm<'a> {
    CodeForm {
        action: format!("/{t}/account/email/verify"),
        title: "otp-verify-email-title",
        intro,
        handle: None,
        method: None,
        tx: None,
        new_password: false,
        button: "otp-verify-button",
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
    let v = pages::user_view(&st, &req, &f.tenant, &user)
        .await?
        .switch_to(format!("/{}/account", f.t), Vec::new());
    let form = verify_code_form(&f.t, v.t("otp-enter-emailed-code"));
    let again = |status, msg: &str| code_page(&st, &req, &v, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
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
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    let v = pages::user_view(&st, &req, &f.tenant, &user)
        .await?
        .switch_to(format!("/{}/account", f.t), Vec::new());
    match st
        .engine
        .signin()
        .send_email_verification(&f.t, &user, Some(v.lang()), &meta(&req))
        .await
    {
        Ok(()) => {
            let form = verify_code_form(&f.t, v.t("otp-new-code-sent"));
            Ok(code_page(&st, &req, &v, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(&v, e, |status, msg| {
            view_error_page(&v, status, &ErrorText::Text(msg.to_owned()))
        }),
    }
}
