//! Second-factor pages: the step after the password, enrolling an authenticator app
//! (during sign-in when the policy requires one, or from the account page), step-up when
//! a client asks for two factors, recovery codes, and removing factors.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::EngineError;
use tollgate_engine::ids::UserId;
use tollgate_engine::model::FactorKind;
use tollgate_engine::signin::mfa::Completed;

use crate::journey::{after_first_factor, authorize_error, completed, continue_to, continue_url};
use crate::pages::mfa::{self as pages, TotpForm, factor_page, totp_enrol_page};
use crate::pages::otp::user_view;
use crate::state::AppState;
use crate::web::cookies::SESSION_COOKIE;
use crate::web::error::PageError;
use crate::web::form::{SubmittedForm, credential_form};
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::{current_session, reauth_url, recent_user};
use crate::web::tenant::tenant;
use crate::web::tx::{TxQuery, open_tx, sealed};
use crate::web::view::View;

type PageResult = Result<HttpResponse, PageError>;

/// `POST /{tenant}/login/factor`: a code for the pending sign-in.
pub async fn factor_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let v = f.view(&st, &req, "login");
    let handle = f.get("handle").to_owned();
    let info = st.engine.signin().pending(&f.t, &handle).await?;
    let again = |status, msg: &str, factors: &[FactorKind]| {
        factor_page(
            &st,
            &req,
            &v,
            &f.t,
            status,
            &handle,
            f.tx(),
            factors,
            Some(msg),
        )
    };
    if !f.csrf_ok {
        let factors = info.map(|i| i.factors).unwrap_or_default();
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired"), &factors));
    }
    let kind = FactorKind::parse(f.get("method")).unwrap_or(FactorKind::Totp);
    match st
        .engine
        .signin()
        .second_factor_code(&f.t, &handle, kind, f.get("code"), &meta(&req))
        .await
    {
        Ok(done) => Ok(completed(&st, &req, &f.t, done, f.areq.clone()).await),
        Err(EngineError::Invalid(msg)) => {
            // Still alive: try again on the same page; used up: say so.
            match st.engine.signin().pending(&f.t, &handle).await? {
                Some(i) => Ok(again(StatusCode::UNAUTHORIZED, &msg, &i.factors)),
                None => Err(PageError::Id(
                    StatusCode::UNAUTHORIZED,
                    "mfa-too-many-attempts",
                )),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /{tenant}/login/enrol`: the first code of an authenticator app enrolled during
/// sign-in; completes the sign-in and shows the recovery codes.
pub async fn enrol_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let handle = f.get("handle").to_owned();
    let info = st
        .engine
        .signin()
        .pending(&f.t, &handle)
        .await?
        .filter(|i| i.enrol)
        .ok_or_else(|| PageError::bad_request_id("mfa-step-expired"))?;
    if !f.csrf_ok {
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    let v = f.view(&st, &req, "login");
    let meta = meta(&req);
    let codes = match st
        .engine
        .signin()
        .confirm_totp_enrolment(
            &f.t,
            &info.user_id,
            f.get("enrol"),
            f.get("code"),
            f.get("label"),
            &meta,
        )
        .await
    {
        Ok(codes) => codes,
        Err(EngineError::Invalid(msg)) => {
            return enrol_again(&st, &req, &v, &f, &info.user_id, Some(&handle), &msg).await;
        }
        Err(e) => return Err(e.into()),
    };
    let done = st
        .engine
        .signin()
        .complete_pending(&f.t, &handle, FactorKind::Totp, &meta)
        .await?;
    let Completed::Session(ns) = done else {
        return Ok(completed(&st, &req, &f.t, done, f.areq.clone()).await);
    };
    let next = continue_url(&st, &f.t, f.areq.clone());
    let cookie = st.cookies.cookie(SESSION_COOKIE, ns.cookie, f.t.as_str());
    // Codes shown once: no switcher to navigate away from them.
    let v = v.without_switcher();
    let mut r = v.page(
        StatusCode::OK,
        "mfa-recovery-title",
        pages::recovery_codes(&v, &codes.unwrap_or_default(), &next),
    );
    let _ = r.add_cookie(&cookie);
    Ok(r)
}

async fn enrol_again(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    f: &SubmittedForm,
    user: &UserId,
    handle: Option<&str>,
    msg: &str,
) -> PageResult {
    let action = match handle {
        Some(_) => format!("/{}/login/enrol", f.t),
        None => format!("/{}/account/totp", f.t),
    };
    let e = match st
        .engine
        .signin()
        .resume_totp_enrolment(&f.t, user, f.get("enrol"))
        .await?
    {
        Some(e) => e,
        // Out of tries: a new secret to scan.
        None => st.engine.signin().start_totp_enrolment(&f.t, user).await?,
    };
    let form = TotpForm {
        action: &action,
        enrolment: &e,
        handle,
        tx: f.tx(),
    };
    Ok(totp_enrol_page(
        st,
        req,
        v,
        &f.t,
        StatusCode::BAD_REQUEST,
        &form,
        Some(msg),
    ))
}

/// `GET /{tenant}/stepup?tx=…`: the client asked for two factors; the session has one.
pub async fn step_up(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let Some(session) = current_session(&st, &req, &t).await? else {
        let tx = sealed(&st, &t, areq.as_ref()).unwrap_or_default();
        return Ok(see_other(&format!("/{t}/login?tx={tx}")));
    };
    let step = match st.engine.signin().begin_step_up(&t, &session).await {
        // No factor to step up with, and enrolling one needs a recent sign-in.
        Err(EngineError::ReauthRequired) => {
            let tx = sealed(&st, &t, areq.as_ref()).unwrap_or_default();
            return Ok(see_other(&reauth_url(&t, &format!("/{t}/stepup?tx={tx}"))));
        }
        other => other?,
    };
    after_first_factor(&st, &req, &t, step, areq).await
}

/// `GET /{tenant}/continue?tx=…`: carries on an authorization after a page in between
/// (the recovery codes), with the session just made.
pub async fn continue_authorization(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    let Some(areq) = open_tx(&st, &t, q.tx.as_ref())? else {
        return Ok(see_other(&format!("/{t}/account")));
    };
    let session = current_session(&st, &req, &t).await?;
    Ok(
        match st
            .engine
            .oauth()
            .next_step(&t, &areq, session.as_ref(), false, false, &meta(&req))
            .await
        {
            Ok(step) => continue_to(&st, &t, &areq, step),
            Err(e) => authorize_error(&st, &t, e),
        },
    )
}

/// `GET /{tenant}/account/totp`
pub async fn account_totp(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let user = match recent_user(&st, &req, &t, "/account/totp").await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let v = user_view(&st, &req, &tenant, &user).await?;
    let e = st.engine.signin().start_totp_enrolment(&t, &user).await?;
    let action = format!("/{t}/account/totp");
    let form = TotpForm {
        action: &action,
        enrolment: &e,
        handle: None,
        tx: None,
    };
    Ok(totp_enrol_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        &form,
        None,
    ))
}

/// `POST /{tenant}/account/totp`
pub async fn account_totp_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, user) = match credential_form(&req, &path, payload, &st, "/account/totp").await? {
        Ok((f, session)) => (f, session.user_id),
        Err(r) => return Ok(r),
    };
    let v = user_view(&st, &req, &f.tenant, &user)
        .await?
        .switch_to(format!("/{}/account/totp", f.t), Vec::new());
    match st
        .engine
        .signin()
        .confirm_totp_enrolment(
            &f.t,
            &user,
            f.get("enrol"),
            f.get("code"),
            f.get("label"),
            &meta(&req),
        )
        .await
    {
        Ok(Some(codes)) => {
            let v = v.without_switcher();
            Ok(v.page(
                StatusCode::OK,
                "mfa-recovery-title",
                pages::recovery_codes(&v, &codes, &format!("/{}/account", f.t)),
            ))
        }
        Ok(None) => Ok(see_other(&format!("/{}/account", f.t))),
        Err(EngineError::Invalid(msg)) => enrol_again(&st, &req, &v, &f, &user, None, &msg).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /{tenant}/account/factors/remove`
pub async fn remove_factor(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, user) = match credential_form(&req, &path, payload, &st, "/account").await? {
        Ok((f, session)) => (f, session.user_id),
        Err(r) => return Ok(r),
    };
    match st
        .engine
        .signin()
        .remove_factor(&f.t, &user, f.get("id"), &meta(&req))
        .await
    {
        Ok(()) | Err(EngineError::NotFound(_)) => Ok(see_other(&format!("/{}/account", f.t))),
        Err(e) => Err(e.into()),
    }
}

/// `POST /{tenant}/account/recovery-codes`
pub async fn new_recovery_codes(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, user) = match credential_form(&req, &path, payload, &st, "/account").await? {
        Ok((f, session)) => (f, session.user_id),
        Err(r) => return Ok(r),
    };
    let codes = st
        .engine
        .signin()
        .new_recovery_codes(&f.t, &user, &meta(&req))
        .await?;
    let v = user_view(&st, &req, &f.tenant, &user)
        .await?
        .without_switcher();
    Ok(v.page(
        StatusCode::OK,
        "mfa-recovery-title",
        pages::recovery_codes(&v, &codes, &format!("/{}/account", f.t)),
    ))
}
