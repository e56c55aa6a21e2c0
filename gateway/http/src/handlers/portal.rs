//! The account portal's self-service pages: profile, sign-in email (proven by a code to
//! the new address), phone number change, password change, consent purposes, deleting the
//! account. The step after sign-in has its own module (`complete.rs`); the HTML is in
//! [`crate::pages::portal`].
//!
//! Every form is CSRF-protected and works without JavaScript. Handlers are thin: they
//! read the form, call one engine function and render the answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::BTreeMap;
use tollgate_engine::EngineError;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::privacy::field_label;
use tollgate_engine::runtime::delivery::Channel;

use crate::pages::otp::{self, CodeForm, code_failed, code_page, start_failed};
use crate::pages::portal::{
    delete_body, deleted, email_password, form_again, input, password_fields, reauth_body,
};
use crate::state::AppState;
use crate::web::cookies::SESSION_COOKIE;
use crate::web::csrf::form_page;
use crate::web::error::PageError;
use crate::web::form::{account_form, credential_form};
use crate::web::html::page;
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::{current_session, recent_session};
use crate::web::tenant::tenant;

type PageResult = Result<HttpResponse, PageError>;

/// `POST /{tenant}/account/profile`: name and profile fields.
pub async fn profile_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let fields: BTreeMap<String, String> = f
        .form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("field.").map(|k| (k.to_owned(), v.clone())))
        .collect();
    let name = f.form.get("name").cloned();
    match st
        .engine
        .account()
        .update_profile(&f.t, &session.user_id, name, fields.clone(), &meta(&req))
        .await
    {
        Ok(()) => Ok(see_other(&format!("/{}/account#profile", f.t))),
        Err(EngineError::Invalid(msg)) => {
            let mut inputs = input("name", "name", "Name", f.get("name"), "text", "");
            for (k, v) in &fields {
                inputs.push_str(&input(
                    &format!("field-{k}"),
                    &format!("field.{k}"),
                    field_label(k),
                    v,
                    "text",
                    "",
                ));
            }
            Ok(form_again(
                &st,
                &req,
                &f.t,
                StatusCode::BAD_REQUEST,
                "Edit your profile",
                "/account/profile",
                &inputs,
                "Save profile",
                &msg,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

fn email_code_form<'a>(t: &TenantId, intro: String, handle: &'a str) -> CodeForm<'a> {
    CodeForm {
        action: format!("/{t}/account/email/change/confirm"),
        title: "Check your new address",
        intro,
        handle: Some(handle),
        method: None,
        tx: None,
        new_password: false,
        button: "Use this address",
    }
}

/// `POST /{tenant}/account/email/change`: mails a code to the new address.
pub async fn email_start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match credential_form(&req, &path, payload, &st, "/account").await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let has_password = st
        .engine
        .user(&f.t, &session.user_id)
        .await?
        .is_some_and(|u| u.password_hash.is_some());
    let again = |status, msg: &str| {
        let fields = input(
            "new-email",
            "new_email",
            "New email address",
            f.get("new_email"),
            "email",
            "required",
        ) + &email_password(has_password);
        form_again(
            &st,
            &req,
            &f.t,
            status,
            "Change your sign-in email",
            "/account/email/change",
            &fields,
            "Change email",
            msg,
        )
    };
    match st
        .engine
        .account()
        .change_email_start(
            &f.t,
            &session.user_id,
            f.get("new_email"),
            f.get("current_password"),
            None,
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = email_code_form(
                &f.t,
                format!(
                    "{} It becomes your sign-in address once you enter the code.",
                    otp::sent_to(&sent.masked)
                ),
                &sent.handle,
            );
            Ok(code_page(&st, &req, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(e, again),
    }
}

/// `POST /{tenant}/account/email/change/confirm`
pub async fn email_confirm(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let form = email_code_form(
        &f.t,
        "Enter the 6-digit code we sent to your new address.".into(),
        f.get("handle"),
    );
    let again = |status, msg: &str| code_page(&st, &req, &f.t, status, &form, Some(msg));
    match st
        .engine
        .account()
        .change_email_confirm(
            &f.t,
            &session.user_id,
            f.get("handle"),
            f.get("code"),
            &meta(&req),
        )
        .await
    {
        Ok(()) => Ok(see_other(&format!("/{}/account#sign-in-email", f.t))),
        Err(EngineError::Conflict(_)) => {
            let has_password = st
                .engine
                .user(&f.t, &session.user_id)
                .await?
                .is_some_and(|u| u.password_hash.is_some());
            let fields = input(
                "new-email",
                "new_email",
                "New email address",
                "",
                "email",
                "required",
            ) + &email_password(has_password);
            Ok(form_again(
                &st,
                &req,
                &f.t,
                StatusCode::CONFLICT,
                "Change your sign-in email",
                "/account/email/change",
                &fields,
                "Change email",
                EMAIL_TAKEN,
            ))
        }
        Err(e) => code_failed(e, again),
    }
}

const EMAIL_TAKEN: &str = "This address cannot be used for your account. If it is yours and belongs to another account, sign in to that one.";

const PHONE_TITLE: &str = "Change your mobile number";
const PHONE_INTRO: &str =
    "We will send a code to the new number; it replaces the old one once you enter it.";

/// `GET /{tenant}/account/phone/change`
pub async fn phone_page(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    if let Err(r) = recent_session(&st, &req, &t, "/account/phone/change").await? {
        return Ok(r);
    }
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        PHONE_TITLE,
        |csrf| {
            otp::phone_form(
                &format!("/{t}/account/phone/change"),
                PHONE_TITLE,
                PHONE_INTRO,
                None,
                csrf,
                "",
                None,
            )
        },
    ))
}

fn phone_code_form<'a>(t: &TenantId, intro: String, handle: &'a str) -> CodeForm<'a> {
    CodeForm {
        action: format!("/{t}/account/phone/change/confirm"),
        title: "Check your phone",
        intro,
        handle: Some(handle),
        method: None,
        tx: None,
        new_password: false,
        button: "Use this number",
    }
}

/// `POST /{tenant}/account/phone/change`: sends a code to the new number.
pub async fn phone_start(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) =
        match credential_form(&req, &path, payload, &st, "/account/phone/change").await? {
            Ok(x) => x,
            Err(r) => return Ok(r),
        };
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, PHONE_TITLE, |csrf| {
            otp::phone_form(
                &format!("/{}/account/phone/change", f.t),
                PHONE_TITLE,
                PHONE_INTRO,
                None,
                csrf,
                f.get("phone"),
                Some(msg),
            )
        })
    };
    let channel = Channel::parse(f.get("channel")).unwrap_or_default();
    match st
        .engine
        .signin()
        .phone_enrol_start(
            &f.t,
            &session.user_id,
            f.get("phone"),
            channel,
            None,
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = phone_code_form(&f.t, otp::sent_to(&sent.masked), &sent.handle);
            Ok(code_page(&st, &req, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(e, again),
    }
}

/// `POST /{tenant}/account/phone/change/confirm`
pub async fn phone_confirm(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let form = phone_code_form(
        &f.t,
        "Enter the 6-digit code we sent to your new number.".into(),
        f.get("handle"),
    );
    let again = |status, msg: &str| code_page(&st, &req, &f.t, status, &form, Some(msg));
    match st
        .engine
        .account()
        .change_phone_confirm(
            &f.t,
            &session.user_id,
            f.get("handle"),
            f.get("code"),
            &meta(&req),
        )
        .await
    {
        Ok(()) => Ok(see_other(&format!("/{}/account#sign-in-email", f.t))),
        Err(e) => code_failed(e, again),
    }
}

/// `POST /{tenant}/account/password`: the current password and a new one; other
/// sessions are signed out.
pub async fn password_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    match st
        .engine
        .account()
        .change_password(
            &f.t,
            &session.user_id,
            f.get("current_password"),
            f.get("new_password"),
            Some(&session),
            &meta(&req),
        )
        .await
    {
        Ok(renewed) => Ok(with_session(
            &st,
            &f.t,
            renewed,
            form_page(&st, &req, &f.t, StatusCode::OK, "Password changed", |_| {
                otp::notice(
                    "Password changed",
                    "Your password was changed. Every other session was signed out.",
                    &format!("/{}/account", f.t),
                    "Back to your account",
                )
            }),
        )),
        Err(EngineError::Invalid(msg)) => {
            let has_password = st
                .engine
                .user(&f.t, &session.user_id)
                .await?
                .is_some_and(|u| u.password_hash.is_some());
            Ok(form_again(
                &st,
                &req,
                &f.t,
                StatusCode::BAD_REQUEST,
                "Change your password",
                "/account/password",
                &password_fields(has_password),
                "Change password",
                &msg,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /{tenant}/account/purposes`: grants or withdraws one purpose at the version
/// shown.
pub async fn purpose_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let version: u32 = f.get("version").parse().unwrap_or(0);
    let granted = match f.get("decision") {
        "grant" => true,
        "withdraw" => false,
        _ => return Err(PageError::bad_request("Choose to agree or to withdraw.")),
    };
    match st
        .engine
        .account()
        .answer_purpose(
            &f.t,
            &session.user_id,
            f.get("purpose"),
            version,
            granted,
            &meta(&req),
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!("/{}/account#purposes", f.t))),
        Err(EngineError::NotFound(_)) => Err(PageError::bad_request(
            "That choice is no longer offered. Reload your account page.",
        )),
        Err(EngineError::Invalid(msg)) => Err(PageError::bad_request(msg)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /{tenant}/account/delete`: asks to confirm.
pub async fn delete_page(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    let session = match recent_session(&st, &req, &t, "/account/delete").await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let Some(u) = st.engine.user(&t, &session.user_id).await? else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    let has_password = u.password_hash.is_some();
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        "Delete your account",
        |csrf| delete_body(&t, has_password, csrf, None),
    ))
}

/// `POST /{tenant}/account/delete`: deletes the account and signs this browser out.
pub async fn delete_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match credential_form(&req, &path, payload, &st, "/account/delete").await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    match st
        .engine
        .account()
        .delete_own_account(&f.t, &session.user_id, f.get("confirmation"), &meta(&req))
        .await
    {
        Ok(()) => {
            let mut r = page(
                StatusCode::OK,
                "Account deleted",
                &deleted(&f.tenant.display_name),
            );
            let _ = r.add_cookie(&st.cookies.removal(SESSION_COOKIE, f.t.as_str(), ""));
            Ok(r)
        }
        Err(EngineError::Invalid(msg)) => {
            let has_password = st
                .engine
                .user(&f.t, &session.user_id)
                .await?
                .is_some_and(|u| u.password_hash.is_some());
            Ok(form_page(
                &st,
                &req,
                &f.t,
                StatusCode::BAD_REQUEST,
                "Delete your account",
                |csrf| delete_body(&f.t, has_password, csrf, Some(&msg)),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets the browser's new session cookie, when an action renewed its session.
fn with_session(
    st: &AppState,
    t: &tollgate_engine::ids::TenantId,
    renewed: Option<tollgate_engine::model::signin::NewSession>,
    mut r: HttpResponse,
) -> HttpResponse {
    if let Some(ns) = renewed {
        let cookie = st.cookies.cookie(SESSION_COOKIE, ns.cookie, t.as_str());
        let _ = r.add_cookie(&cookie);
    }
    r
}

/// `?next=` of the pages that send the browser somewhere afterwards.
#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

impl NextQuery {
    /// The `next` given, if any.
    pub fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

/// A `next` that stays on this tenant's own pages; anything else is the account page.
pub fn local_next(t: &TenantId, next: Option<&str>) -> String {
    let prefix = format!("/{t}/");
    match next {
        Some(n)
            if n.starts_with(&prefix)
                && !n.contains("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => format!("/{t}/account"),
    }
}

async fn reauth_form(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    session: &tollgate_engine::model::Session,
    next: &str,
    status: StatusCode,
    error: Option<&str>,
) -> PageResult {
    let user = st
        .engine
        .user(t, &session.user_id)
        .await?
        .ok_or_else(|| PageError::bad_request("This account no longer exists."))?;
    let has_factors = st.engine.signin().can_step_up(t, session).await?;
    let has_password = user.password_hash.is_some();
    Ok(form_page(st, req, t, status, "Confirm it's you", |csrf| {
        reauth_body(t.as_str(), next, has_password, has_factors, csrf, error)
    }))
}

/// `GET /{tenant}/account/reauth?next=…`: "confirm it's you" before a credential change.
pub async fn reauth_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<NextQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    let next = local_next(&t, q.next.as_deref());
    let Some(session) = current_session(&st, &req, &t).await? else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    if st.engine.signin().is_recent(&session) {
        return Ok(see_other(&next));
    }
    reauth_form(&st, &req, &t, &session, &next, StatusCode::OK, None).await
}

/// `POST /{tenant}/account/reauth`: the password; then on to `next`.
pub async fn reauth_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let next = local_next(&f.t, Some(f.get("next")));
    match st
        .engine
        .signin()
        .reauthenticate(&f.t, &session, f.get("password"), &meta(&req))
        .await
    {
        Ok(_) => Ok(see_other(&next)),
        Err(EngineError::InvalidCredentials) => {
            let msg = "That password is not right. Try again, or use another way.";
            let status = StatusCode::BAD_REQUEST;
            reauth_form(&st, &req, &f.t, &session, &next, status, Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}
