//! Second-factor pages: the step after the password, enrolling an authenticator app
//! (during sign-in when the policy requires one, or from the account page), step-up when
//! a client asks for two factors, recovery codes, and removing factors.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::EngineError;
use tollgate_engine::authorize::AuthRequest;
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::mfa::{Completed, SignInStep, TotpEnrolment};
use tollgate_engine::model::FactorKind;

use crate::hosted::{
    SubmittedForm, TxQuery, current_session, form_page, open_tx, signed_in, tenant,
};
use crate::http::{self, SESSION_COOKIE, tenant_cookie};
use crate::oidc::{authorize_error, continue_to, see_other};
use crate::pages::{self, FactorRow, PageError};
use crate::server::AppState;

type PageResult = Result<HttpResponse, PageError>;

const STALE_FORM: &str = "This form expired. Please try again.";

fn kinds(factors: &[FactorKind]) -> Vec<&'static str> {
    factors.iter().map(|k| k.as_str()).collect()
}

fn sealed(st: &AppState, t: &TenantId, areq: Option<&AuthRequest>) -> Option<String> {
    areq.map(|a| st.engine.seal_request(t, a))
}

/// Where to go once signed in: the authorization in progress, or the account page.
pub(crate) fn continue_url(st: &AppState, t: &TenantId, areq: Option<AuthRequest>) -> String {
    match areq {
        Some(mut a) => {
            // The user has just authenticated: prompt=login and max_age are met.
            a.prompt.retain(|p| p != "login" && p != "select_account");
            a.max_age = None;
            format!("/{t}/continue?tx={}", st.engine.seal_request(t, &a))
        }
        None => format!("/{t}/account"),
    }
}

#[allow(clippy::too_many_arguments)]
fn factor_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    status: StatusCode,
    handle: &str,
    tx: Option<&str>,
    factors: &[FactorKind],
    error: Option<&str>,
) -> HttpResponse {
    form_page(st, req, t, status, "Confirm it is you", |csrf| {
        pages::second_factor(t.as_str(), handle, tx, &kinds(factors), csrf, error)
    })
}

#[allow(clippy::too_many_arguments)]
fn enrol_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    status: StatusCode,
    action: &str,
    e: &TotpEnrolment,
    handle: Option<&str>,
    tx: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    form_page(st, req, t, status, "Set up an authenticator app", |csrf| {
        pages::enrol_totp(
            action,
            &e.qr_svg,
            &e.secret_base32,
            &e.handle,
            handle,
            tx,
            csrf,
            error,
        )
    })
}

/// Renders what a sign-in needs after its first factor.
pub(crate) async fn after_first_factor(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    step: SignInStep,
    areq: Option<AuthRequest>,
) -> PageResult {
    let tx = sealed(st, t, areq.as_ref());
    match step {
        SignInStep::Done(ns) => Ok(signed_in(st, req, t, ns, areq).await),
        SignInStep::SecondFactor(p) => Ok(factor_page(
            st,
            req,
            t,
            StatusCode::OK,
            &p.handle,
            tx.as_deref(),
            &p.factors,
            None,
        )),
        SignInStep::Enrol(p) => {
            let info = st
                .engine
                .pending(t, &p.handle)
                .await?
                .ok_or_else(|| PageError::bad_request(STALE_FORM))?;
            let passkey =
                p.factors.contains(&FactorKind::Passkey) && st.engine.passkeys_available();
            let totp = match p.factors.contains(&FactorKind::Totp) {
                true => Some(st.engine.start_totp_enrolment(t, &info.user_id).await?),
                false => None,
            };
            if passkey {
                return Ok(crate::passkeys::enrol_page(
                    st,
                    req,
                    t,
                    &p.handle,
                    tx.as_deref(),
                    totp.as_ref(),
                ));
            }
            let Some(e) = totp else {
                return Err(PageError::bad_request(
                    "This organisation requires a passkey as a second step. Add one from a device that supports passkeys.",
                ));
            };
            Ok(enrol_page(
                st,
                req,
                t,
                StatusCode::OK,
                &format!("/{t}/login/enrol"),
                &e,
                Some(&p.handle),
                tx.as_deref(),
                None,
            ))
        }
    }
}

/// Finishes a sign-in or step-up the engine has completed.
async fn completed(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    done: Completed,
    areq: Option<AuthRequest>,
) -> HttpResponse {
    match done {
        Completed::Session(ns) => signed_in(st, req, t, ns, areq).await,
        Completed::SteppedUp(session) => match areq {
            Some(a) => match st
                .engine
                .next_step(t, &a, Some(&session), true, false, &http::meta(req))
                .await
            {
                Ok(step) => continue_to(st, t, &a, step),
                Err(e) => authorize_error(st, t, e),
            },
            None => see_other(&format!("/{t}/account")),
        },
    }
}

/// `POST /{tenant}/login/factor`: a code for the pending sign-in.
pub async fn factor_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let handle = f.get("handle").to_owned();
    let info = st.engine.pending(&f.t, &handle).await?;
    let again = |status, msg: &str, factors: &[FactorKind]| {
        factor_page(&st, &req, &f.t, status, &handle, f.tx(), factors, Some(msg))
    };
    if !f.csrf_ok {
        let factors = info.map(|i| i.factors).unwrap_or_default();
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM, &factors));
    }
    let kind = FactorKind::parse(f.get("method")).unwrap_or(FactorKind::Totp);
    match st
        .engine
        .second_factor_code(&f.t, &handle, kind, f.get("code"), &http::meta(&req))
        .await
    {
        Ok(done) => Ok(completed(&st, &req, &f.t, done, f.areq.clone()).await),
        Err(EngineError::Invalid(msg)) => {
            // Still alive: try again on the same page; used up: say so.
            match st.engine.pending(&f.t, &handle).await? {
                Some(i) => Ok(again(StatusCode::UNAUTHORIZED, &msg, &i.factors)),
                None => Err(PageError::Message(
                    StatusCode::UNAUTHORIZED,
                    "Too many attempts, or this step expired. Start again from the sign-in page."
                        .into(),
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
        .pending(&f.t, &handle)
        .await?
        .filter(|i| i.enrol)
        .ok_or_else(|| {
            PageError::bad_request("This step expired. Start again from the sign-in page.")
        })?;
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    let meta = http::meta(&req);
    let codes = match st
        .engine
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
            return enrol_again(&st, &req, &f, &info.user_id, Some(&handle), &msg).await;
        }
        Err(e) => return Err(e.into()),
    };
    let done = st
        .engine
        .complete_pending(&f.t, &handle, FactorKind::Totp, &meta)
        .await?;
    let Completed::Session(ns) = done else {
        return Ok(completed(&st, &req, &f.t, done, f.areq.clone()).await);
    };
    let next = continue_url(&st, &f.t, f.areq.clone());
    let cookie = tenant_cookie(SESSION_COOKIE, ns.cookie, f.t.as_str(), st.secure_cookies);
    let mut r = pages::page(
        StatusCode::OK,
        "Save your recovery codes",
        &pages::recovery_codes(&codes.unwrap_or_default(), &next),
    );
    let _ = r.add_cookie(&cookie);
    Ok(r)
}

async fn enrol_again(
    st: &AppState,
    req: &HttpRequest,
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
        .resume_totp_enrolment(&f.t, user, f.get("enrol"))
        .await?
    {
        Some(e) => e,
        // Out of tries: a new secret to scan.
        None => st.engine.start_totp_enrolment(&f.t, user).await?,
    };
    Ok(enrol_page(
        st,
        req,
        &f.t,
        StatusCode::BAD_REQUEST,
        &action,
        &e,
        handle,
        f.tx(),
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
    let step = st.engine.begin_step_up(&t, &session).await?;
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
            .next_step(&t, &areq, session.as_ref(), false, false, &http::meta(&req))
            .await
        {
            Ok(step) => continue_to(&st, &t, &areq, step),
            Err(e) => authorize_error(&st, &t, e),
        },
    )
}

/// The signed-in user of an account page, or a redirect to sign in.
async fn account_user(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
) -> Result<Result<UserId, HttpResponse>, PageError> {
    Ok(match current_session(st, req, t).await? {
        Some(s) => Ok(s.user_id),
        None => Err(see_other(&format!("/{t}/login"))),
    })
}

/// A submitted account-page form with its signed-in user, CSRF checked; or the redirect
/// to sign in.
async fn account_form(
    req: &HttpRequest,
    path: &str,
    payload: web::Payload,
    st: &AppState,
) -> Result<Result<(SubmittedForm, UserId), HttpResponse>, PageError> {
    let f = SubmittedForm::read(req, path, payload, st).await?;
    let user = match account_user(st, req, &f.t).await? {
        Ok(u) => u,
        Err(r) => return Ok(Err(r)),
    };
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    Ok(Ok((f, user)))
}

/// `GET /{tenant}/account/totp`
pub async fn account_totp(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    let user = match account_user(&st, &req, &t).await? {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let e = st.engine.start_totp_enrolment(&t, &user).await?;
    Ok(enrol_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        &format!("/{t}/account/totp"),
        &e,
        None,
        None,
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
    let (f, user) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    match st
        .engine
        .confirm_totp_enrolment(
            &f.t,
            &user,
            f.get("enrol"),
            f.get("code"),
            f.get("label"),
            &http::meta(&req),
        )
        .await
    {
        Ok(Some(codes)) => Ok(pages::page(
            StatusCode::OK,
            "Save your recovery codes",
            &pages::recovery_codes(&codes, &format!("/{}/account", f.t)),
        )),
        Ok(None) => Ok(see_other(&format!("/{}/account", f.t))),
        Err(EngineError::Invalid(msg)) => enrol_again(&st, &req, &f, &user, None, &msg).await,
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
    let (f, user) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    match st
        .engine
        .remove_factor(&f.t, &user, f.get("id"), &http::meta(&req))
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
    let (f, user) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let codes = st
        .engine
        .new_recovery_codes(&f.t, &user, &http::meta(&req))
        .await?;
    Ok(pages::page(
        StatusCode::OK,
        "Save your recovery codes",
        &pages::recovery_codes(&codes, &format!("/{}/account", f.t)),
    ))
}

/// The account page's list of factors.
pub(crate) async fn factor_rows(
    st: &AppState,
    t: &TenantId,
    user: &UserId,
) -> Result<Vec<FactorRow>, PageError> {
    Ok(st
        .engine
        .factors(t, user)
        .await?
        .into_iter()
        // Passkeys have their own section (they also sign in alone).
        .filter(|f| f.kind != FactorKind::Passkey)
        .map(|f| {
            let note = match f.kind {
                FactorKind::RecoveryCodes => format!(
                    "{} left",
                    f.data["hashes"].as_array().map(Vec::len).unwrap_or(0)
                ),
                _ => String::new(),
            };
            FactorRow {
                id: f.id,
                kind: f.kind.as_str(),
                label: f.label,
                note,
            }
        })
        .collect())
}
