//! The sign-in journey: where a browser goes next. Several handlers end a step the same
//! way (a password, a code, a link, a passkey, an upstream provider all finish a first
//! factor; a session may be reused or just made), so the decisions live here, once:
//! which second factor to ask for, when the required consent purposes and profile fields
//! come first, when to offer a passkey, and how the authorization then goes on.
//!
//! Handlers call this module; it names only the state, the web helpers and the pages,
//! never a handler.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tollgate_engine::EngineError;
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::privacy::ProfileRule;
use tollgate_engine::model::privacy::Purpose;
use tollgate_engine::model::signin::NewSession;
use tollgate_engine::model::signin::SignInStep;
use tollgate_engine::model::{FactorKind, Session, Tenant};
use tollgate_engine::oauth::authorize::{AuthRequest, AuthorizeError, NextStep};
use tollgate_engine::signin::mfa::Completed;

use crate::pages::mfa::{TotpForm, factor_page, passkey_enrol_page, totp_enrol_page};
use crate::state::AppState;
use crate::web::cookies::SESSION_COOKIE;
use crate::web::error::{ErrorText, PageError, engine_error_page, error_page};
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::tx::sealed;
use crate::web::view::View;

type PageResult = Result<HttpResponse, PageError>;

// ---- Continuing the authorization -----------------------------------------------------

/// Where to go once signed in: the authorization in progress, or the account page.
pub fn continue_url(st: &AppState, t: &TenantId, areq: Option<AuthRequest>) -> String {
    match areq {
        Some(mut a) => {
            // The user has just authenticated: prompt=login and max_age are met.
            a.prompt.retain(|p| p != "login" && p != "select_account");
            a.max_age = None;
            format!("/{t}/continue?tx={}", st.engine.oauth().seal_request(t, &a))
        }
        None => format!("/{t}/account"),
    }
}

/// Sends the browser to the next step of an authorization.
pub fn continue_to(
    st: &AppState,
    t: &TenantId,
    areq: &AuthRequest,
    step: NextStep,
) -> HttpResponse {
    let location = match step {
        NextStep::Login => match &areq.idp_hint {
            Some(idp) => format!(
                "/{t}/federation/{idp}/start?tx={}",
                st.engine.oauth().seal_request(t, areq)
            ),
            None => format!("/{t}/login?tx={}", st.engine.oauth().seal_request(t, areq)),
        },
        NextStep::Consent { .. } => format!(
            "/{t}/consent?tx={}",
            st.engine.oauth().seal_request(t, areq)
        ),
        NextStep::StepUp => format!("/{t}/stepup?tx={}", st.engine.oauth().seal_request(t, areq)),
        NextStep::PickOrganization => format!(
            "/{t}/organization?tx={}",
            st.engine.oauth().seal_request(t, areq)
        ),
        NextStep::Redirect(url) => url,
    };
    see_other(&location)
}

/// Renders an authorization failure: a page when the client cannot be trusted with a
/// redirect, an error redirect otherwise.
pub fn authorize_error(st: &AppState, t: &TenantId, e: AuthorizeError) -> HttpResponse {
    match &e {
        AuthorizeError::Page(msg) => {
            error_page(StatusCode::BAD_REQUEST, ErrorText::Text(msg.clone()), None)
        }
        AuthorizeError::Redirect { .. } => match e.redirect_url(&st.engine.issuer(t)) {
            Some(url) => see_other(&url),
            None => error_page(
                StatusCode::BAD_REQUEST,
                ErrorText::id("err-cannot-complete"),
                None,
            ),
        },
        AuthorizeError::Engine(err) => engine_error_page(err),
    }
}

// ---- After a factor -------------------------------------------------------------------

/// After a sign-in or sign-up: set the session cookie and continue the authorization.
pub async fn signed_in(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    ns: NewSession,
    areq: Option<AuthRequest>,
) -> HttpResponse {
    let cookie = st.cookies.cookie(SESSION_COOKIE, ns.cookie, t.as_str());
    // Required consent purposes and progressive profiling come before the authorization
    // goes on (or the account page opens).
    let ask = after_sign_in(st, req, t, &ns.session, areq.as_ref()).await;
    let mut r = match (ask, areq) {
        (Ok(Some(url)), _) => see_other(&url),
        (Err(e), _) => engine_error_page(&e),
        (Ok(None), areq) => match areq {
            Some(mut areq) => match st
                .engine
                .oauth()
                .next_step(t, &areq, Some(&ns.session), true, false, &meta(req))
                .await
            {
                Ok(step) => {
                    // The user has just signed in: prompt=login and max_age are satisfied
                    // for the rest of this request.
                    areq.prompt
                        .retain(|p| p != "login" && p != "select_account");
                    areq.max_age = None;
                    continue_to(st, t, &areq, step)
                }
                Err(e) => authorize_error(st, t, e),
            },
            None => see_other(&format!("/{t}/account")),
        },
    };
    let _ = r.add_cookie(&cookie);
    r
}

/// The view of a sign-in step answering a form (a password, a code, a link): its language
/// switcher goes to the sign-in page, keeping `tx`.
async fn step_view(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    areq: Option<&AuthRequest>,
    tx: Option<&str>,
) -> Result<View, PageError> {
    let tenant = st.engine.tenant(t).await?;
    let keep = tx
        .map(|tx| vec![("tx".to_owned(), tx.to_owned())])
        .unwrap_or_default();
    Ok(View::new(st, req, &tenant, areq).switch_to(format!("/{t}/login"), keep))
}

/// Renders what a sign-in needs after its first factor.
pub async fn after_first_factor(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    step: SignInStep,
    areq: Option<AuthRequest>,
) -> PageResult {
    let tx = sealed(st, t, areq.as_ref());
    match step {
        SignInStep::Done(ns) => Ok(signed_in(st, req, t, ns, areq).await),
        SignInStep::SecondFactor(p) => {
            let v = step_view(st, req, t, areq.as_ref(), tx.as_deref()).await?;
            Ok(factor_page(
                st,
                req,
                &v,
                t,
                StatusCode::OK,
                &p.handle,
                tx.as_deref(),
                &p.factors,
                None,
            ))
        }
        SignInStep::Enrol(p) => {
            let info = st
                .engine
                .signin()
                .pending(t, &p.handle)
                .await?
                .ok_or_else(|| PageError::bad_request_id("form-expired"))?;
            let passkey =
                p.factors.contains(&FactorKind::Passkey) && st.engine.signin().passkeys_available();
            let totp = match p.factors.contains(&FactorKind::Totp) {
                true => Some(
                    st.engine
                        .signin()
                        .start_totp_enrolment(t, &info.user_id)
                        .await?,
                ),
                false => None,
            };
            let v = step_view(st, req, t, areq.as_ref(), tx.as_deref()).await?;
            if passkey {
                return Ok(passkey_enrol_page(
                    st,
                    req,
                    &v,
                    t,
                    &p.handle,
                    tx.as_deref(),
                    totp.as_ref(),
                ));
            }
            let Some(e) = totp else {
                return Err(PageError::bad_request_id("err-passkey-required"));
            };
            let action = format!("/{t}/login/enrol");
            let form = TotpForm {
                action: &action,
                enrolment: &e,
                handle: Some(&p.handle),
                tx: tx.as_deref(),
            };
            Ok(totp_enrol_page(st, req, &v, t, StatusCode::OK, &form, None))
        }
        SignInStep::Review(p) => {
            crate::pages::portal::reset_review_page(
                st,
                req,
                t,
                &p.factors,
                &p.handle,
                tx.as_deref(),
            )
            .await
        }
    }
}

/// Finishes a sign-in or step-up the engine has completed.
pub async fn completed(
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
                .oauth()
                .next_step(t, &a, Some(&session), true, false, &meta(req))
                .await
            {
                Ok(step) => continue_to(st, t, &a, step),
                Err(e) => authorize_error(st, t, e),
            },
            None => see_other(&format!("/{t}/account")),
        },
    }
}

/// Whether to offer a passkey right after sign-up.
pub fn offer_after_sign_up(st: &AppState, tenant: &Tenant) -> bool {
    st.engine.signin().passkeys_allowed(tenant)
}

/// After sign-up: set the session cookie and go to the passkey offer.
pub fn offer_redirect(
    st: &AppState,
    t: &TenantId,
    ns: NewSession,
    areq: Option<&AuthRequest>,
) -> HttpResponse {
    let location = match areq {
        Some(a) => format!(
            "/{t}/passkeys/offer?tx={}",
            st.engine.oauth().seal_request(t, a)
        ),
        None => format!("/{t}/passkeys/offer"),
    };
    let mut r = see_other(&location);
    let _ = r.add_cookie(&st.cookies.cookie(SESSION_COOKIE, ns.cookie, t.as_str()));
    r
}

// ---- The step after sign-in: required purposes and progressive profiling -------------

/// Optional profile fields skipped in this browser session (not asked again until the
/// browser closes). Only a convenience: nothing depends on it being honest.
pub const SKIP_COOKIE: &str = "tg_profile_skip";

/// The optional fields this browser skipped (see [`SKIP_COOKIE`]).
pub fn skipped(st: &AppState, req: &HttpRequest, t: &TenantId) -> Vec<String> {
    st.cookies
        .read(req, SKIP_COOKIE, t.as_str())
        .map(|c| {
            c.value()
                .split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What to ask a user who has just signed in.
pub struct Ask {
    /// Required purposes not granted at their current version.
    pub purposes: Vec<Purpose>,
    /// Profile fields to fill in.
    pub fields: Vec<ProfileRule>,
}

impl Ask {
    /// Whether there is nothing to ask.
    pub fn is_empty(&self) -> bool {
        self.purposes.is_empty() && self.fields.is_empty()
    }
}

/// What to ask `user` now: required purposes, and the profile fields the tenant's rules
/// (and the scopes of `areq`) call for that this browser did not skip.
pub async fn what_to_ask(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    user: &UserId,
    sign_in_before_ms: Option<u64>,
    areq: Option<&AuthRequest>,
) -> Result<Ask, EngineError> {
    let purposes = st.engine.account().purposes_to_ask(t, user).await?;
    let scopes = areq.map(|a| a.scopes.clone()).unwrap_or_default();
    let fields = st
        .engine
        .account()
        .profile_fields_to_ask(t, user, &scopes, &skipped(st, req, t), sign_in_before_ms)
        .await?;
    Ok(Ask { purposes, fields })
}

/// Where a sign-in goes once the session exists: the step that asks for required
/// purposes and profile fields when any apply, `None` otherwise.
pub async fn after_sign_in(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    session: &Session,
    areq: Option<&AuthRequest>,
) -> Result<Option<String>, EngineError> {
    let ask = what_to_ask(
        st,
        req,
        t,
        &session.user_id,
        Some(session.created_at * 1000),
        areq,
    )
    .await?;
    if ask.is_empty() {
        return Ok(None);
    }
    Ok(Some(match areq {
        Some(a) => {
            let mut a = a.clone();
            a.prompt.retain(|p| p != "login" && p != "select_account");
            a.max_age = None;
            format!(
                "/{t}/account/complete?tx={}",
                st.engine.oauth().seal_request(t, &a)
            )
        }
        None => format!("/{t}/account/complete"),
    }))
}

/// Where a sign-in answered with a URL rather than a redirect (the passkey ceremonies,
/// the offer after sign-up) goes next: the step after sign-in when it applies, otherwise
/// on with the authorization (or to the account page).
pub async fn next_after_sign_in(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    session: &Session,
    areq: Option<AuthRequest>,
) -> Result<String, EngineError> {
    Ok(
        match after_sign_in(st, req, t, session, areq.as_ref()).await? {
            Some(url) => url,
            None => continue_url(st, t, areq),
        },
    )
}

/// Before an authorization is answered from an existing session (no sign-in): the step
/// that asks for required purposes not granted at their current version, and for profile
/// fields whose scope the client requests; `None` when nothing applies, or when the
/// request cannot show a page (`prompt=none`) or will sign in anyway (`prompt=login`).
pub async fn before_session_reuse(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    session: &Session,
    areq: &AuthRequest,
) -> Result<Option<String>, EngineError> {
    if areq.prompt.iter().any(|p| p == "none" || p == "login") {
        return Ok(None);
    }
    let ask = what_to_ask(st, req, t, &session.user_id, None, Some(areq)).await?;
    if ask.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "/{t}/account/complete?tx={}",
        st.engine.oauth().seal_request(t, areq)
    )))
}
