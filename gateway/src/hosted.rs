//! Hosted pages: sign-in, sign-up, consent, account and logout. Forms are CSRF-protected;
//! sign-in failures say the same whatever was wrong.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;
use std::sync::Arc;
use tollgate_engine::EngineError;
use tollgate_engine::authorize::AuthRequest;
use tollgate_engine::ids::TenantId;
use tollgate_engine::login::NewSession;
use tollgate_engine::mfa::SignInStep;
use tollgate_engine::model::{Session, Tenant};

use crate::http::{self, CSRF_COOKIE, SESSION_COOKIE, read_form, removal, tenant_cookie};
use crate::oidc::{authorize_error, continue_to, see_other, tenant_id};
use crate::pages::{self, PageError};
use crate::server::AppState;

const BAD_LOGIN: &str = "Incorrect email or password.";
const BAD_SIGNUP: &str =
    "We could not create an account with those details. If you already have one, sign in instead.";
const STALE_FORM: &str = "This form expired. Please try again.";
const STALE_LINK: &str = "This link expired. Go back to the application and try again.";

type PageResult = Result<HttpResponse, PageError>;

/// The CSRF cookie value for this browser, making one if it has none.
pub(crate) fn csrf_cookie(req: &HttpRequest) -> (String, bool) {
    match req.cookie(CSRF_COOKIE) {
        Some(c) if c.value().len() == 43 => (c.value().to_owned(), false),
        _ => (tollgate_engine::crypto::random_token::<32>(), true),
    }
}

/// Renders a form page, setting the CSRF cookie when it is new.
pub(crate) fn form_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    status: StatusCode,
    title: &str,
    body: impl FnOnce(&str) -> String,
) -> HttpResponse {
    let (cookie, fresh) = csrf_cookie(req);
    let token = st.csrf.token(&cookie);
    let mut r = pages::page(status, title, &body(&token));
    if fresh {
        let _ = r.add_cookie(&tenant_cookie(
            CSRF_COOKIE,
            cookie,
            t.as_str(),
            st.secure_cookies,
        ));
    }
    r
}

pub(crate) fn csrf_ok(st: &AppState, req: &HttpRequest, form: &HashMap<String, String>) -> bool {
    st.csrf.check(
        req.cookie(CSRF_COOKIE).as_ref().map(|c| c.value()),
        form.get("csrf").map(String::as_str),
    )
}

/// The sealed authorization request named by `tx`: `None` without one, an error page if
/// it is present but expired or tampered with.
pub(crate) fn open_tx(
    st: &AppState,
    t: &TenantId,
    tx: Option<&String>,
) -> Result<Option<AuthRequest>, PageError> {
    match tx {
        None => Ok(None),
        Some(tx) => st
            .engine
            .open_request(t, tx)
            .map(Some)
            .ok_or_else(|| PageError::bad_request(STALE_LINK)),
    }
}

/// The tenant named in the path.
pub(crate) async fn tenant(
    st: &AppState,
    path: &str,
) -> Result<(TenantId, Arc<Tenant>), PageError> {
    let t = tenant_id(path)?;
    let tenant = st.engine.tenant(&t).await?;
    Ok((t, tenant))
}

/// The session behind this browser's cookie, if any.
pub(crate) async fn current_session(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
) -> Result<Option<Session>, PageError> {
    match req.cookie(SESSION_COOKIE) {
        Some(c) => Ok(st.engine.session(t, c.value()).await?),
        None => Ok(None),
    }
}

#[derive(serde::Deserialize)]
pub struct TxQuery {
    pub(crate) tx: Option<String>,
}

/// `GET /{tenant}/login`
pub async fn login_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let hint = areq.and_then(|a| a.login_hint).unwrap_or_default();
    let federation = crate::federation::login_buttons(&st, &t, q.tx.as_deref()).await;
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        "Sign in",
        |csrf| {
            pages::login(
                t.as_str(),
                &tenant.display_name,
                q.tx.as_deref(),
                csrf,
                &hint,
                None,
                st.engine.passkeys_allowed(&tenant),
            ) + &federation
        },
    ))
}

/// `GET /{tenant}/signup`
pub async fn signup_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    open_tx(&st, &t, q.tx.as_ref())?;
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        "Create account",
        |csrf| {
            pages::signup(
                t.as_str(),
                &tenant.display_name,
                q.tx.as_deref(),
                csrf,
                "",
                None,
            )
        },
    ))
}

/// After a sign-in or sign-up: set the session cookie and continue the authorization.
pub(crate) async fn signed_in(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    ns: NewSession,
    areq: Option<AuthRequest>,
) -> HttpResponse {
    let cookie = tenant_cookie(SESSION_COOKIE, ns.cookie, t.as_str(), st.secure_cookies);
    // Required consent purposes and progressive profiling come before the authorization
    // goes on (or the account page opens).
    let ask = crate::portal::after_sign_in(st, req, t, &ns.session, areq.as_ref()).await;
    let mut r = match (ask, areq) {
        (Ok(Some(url)), _) => see_other(&url),
        (Err(e), _) => pages::engine_error_page(&e),
        (Ok(None), areq) => match areq {
            Some(mut areq) => match st
                .engine
                .next_step(t, &areq, Some(&ns.session), true, false, &http::meta(req))
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

/// What the sign-in and sign-up forms share: the tenant, the checked form and its request.
pub(crate) struct SubmittedForm {
    pub(crate) t: TenantId,
    pub(crate) tenant: Arc<Tenant>,
    pub(crate) form: HashMap<String, String>,
    pub(crate) areq: Option<AuthRequest>,
    pub(crate) csrf_ok: bool,
}

impl SubmittedForm {
    pub(crate) async fn read(
        req: &HttpRequest,
        path: &str,
        payload: web::Payload,
        st: &AppState,
    ) -> Result<Self, PageError> {
        let (t, tenant) = tenant(st, path).await?;
        let form = read_form(req, payload).await?;
        let areq = open_tx(st, &t, form.get("tx").filter(|v| !v.is_empty()))?;
        let csrf_ok = csrf_ok(st, req, &form);
        Ok(Self {
            t,
            tenant,
            form,
            areq,
            csrf_ok,
        })
    }

    pub(crate) fn get(&self, k: &str) -> &str {
        self.form.get(k).map(String::as_str).unwrap_or("")
    }

    pub(crate) fn tx(&self) -> Option<&str> {
        self.form
            .get("tx")
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// `POST /{tenant}/login`
pub async fn login_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, "Sign in", |csrf| {
            pages::login(
                f.t.as_str(),
                &f.tenant.display_name,
                f.tx(),
                csrf,
                f.get("email"),
                Some(msg),
                st.engine.passkeys_allowed(&f.tenant),
            )
        })
    };
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .password_login(&f.t, f.get("email"), f.get("password"), &http::meta(&req))
        .await
    {
        Ok(step) => crate::mfa::after_first_factor(&st, &req, &f.t, step, f.areq.clone()).await,
        Err(EngineError::InvalidCredentials) => Ok(again(StatusCode::UNAUTHORIZED, BAD_LOGIN)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /{tenant}/signup`
pub async fn signup_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, "Create account", |csrf| {
            pages::signup(
                f.t.as_str(),
                &f.tenant.display_name,
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
    let name = Some(f.get("name").trim().to_owned()).filter(|n| !n.is_empty() && n.len() <= 200);
    match st
        .engine
        .sign_up(
            &f.t,
            f.get("email"),
            f.get("password"),
            name,
            &http::meta(&req),
        )
        .await
    {
        // Signed in: offer a passkey before going on, where passkeys can be used.
        Ok(SignInStep::Done(ns)) if crate::passkeys::offer_after_sign_up(&st, &f.tenant) => Ok(
            crate::passkeys::offer_redirect(&st, &f.t, ns, f.areq.as_ref()),
        ),
        Ok(step) => crate::mfa::after_first_factor(&st, &req, &f.t, step, f.areq.clone()).await,
        Err(EngineError::InvalidCredentials) => Ok(again(StatusCode::BAD_REQUEST, BAD_SIGNUP)),
        Err(EngineError::Invalid(msg)) => Ok(again(StatusCode::BAD_REQUEST, &msg)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /{tenant}/consent`
pub async fn consent_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let t = tenant_id(&path)?;
    let areq =
        open_tx(&st, &t, q.tx.as_ref())?.ok_or_else(|| PageError::bad_request(STALE_LINK))?;
    let client = st
        .engine
        .client(&t, &areq.client_id)
        .await?
        .ok_or_else(|| PageError::bad_request("The application is no longer registered."))?;
    let tx = q.tx.clone().unwrap_or_default();
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        "Allow access",
        |csrf| pages::consent(t.as_str(), &client.name, &areq.scopes, &tx, csrf),
    ))
}

/// `POST /{tenant}/consent`
pub async fn consent_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    let mut areq = f
        .areq
        .clone()
        .ok_or_else(|| PageError::bad_request(STALE_LINK))?;
    if f.get("decision") != "allow" {
        return Ok(see_other(&st.engine.consent_denied(&f.t, &areq)));
    }
    let session = current_session(&st, &req, &f.t).await?;
    areq.prompt.retain(|p| p != "consent");
    Ok(
        match st
            .engine
            .next_step(
                &f.t,
                &areq,
                session.as_ref(),
                false,
                true,
                &http::meta(&req),
            )
            .await
        {
            Ok(step) => continue_to(&st, &f.t, &areq, step),
            Err(e) => authorize_error(&st, &f.t, e),
        },
    )
}

/// `GET /{tenant}/account`
pub async fn account(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let t = tenant_id(&path)?;
    let session = current_session(&st, &req, &t).await?;
    let user = match &session {
        Some(s) => st.engine.user(&t, &s.user_id).await?,
        None => None,
    };
    let (Some(u), Some(session)) = (user, session) else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    let factor_rows = crate::mfa::factor_rows(&st, &t, &u.id).await?;
    let apps = st.engine.connected_apps(&t, &u.id).await?;
    let current = Some(session.sid.clone());
    let session_rows: Vec<pages::SessionRow> = st
        .engine
        .user_sessions(&t, &u.id)
        .await?
        .into_iter()
        .map(|s| pages::SessionRow {
            current: Some(&s.sid) == current.as_ref(),
            signed_in: time::OffsetDateTime::from_unix_timestamp(s.auth.auth_time as i64)
                .ok()
                .and_then(|d| {
                    d.format(time::macros::format_description!(
                        "[year]-[month]-[day] [hour]:[minute]"
                    ))
                    .ok()
                })
                .unwrap_or_default(),
            methods: s.auth.amr.join(", "),
            sid: s.sid,
        })
        .collect();
    let passkeys = crate::passkeys::AccountPasskeys::load(&st, &t, &u.id).await?;
    let portal = crate::portal::AccountPortal::load(&st, &t, &u).await?;
    let identities = crate::federation::AccountIdentities::load(&st, &t, &u).await?;
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        "Your account",
        |csrf| {
            let sections = portal.render_top(t.as_str(), csrf)
                + &pages::account_sessions(t.as_str(), &session_rows, csrf)
                + &pages::account_apps(t.as_str(), &apps, csrf)
                + &passkeys.render(t.as_str(), csrf)
                + &pages::account_factors(t.as_str(), &factor_rows, csrf)
                + &crate::otp_pages::account_contact(t.as_str(), u.email_verified, csrf)
                + &identities.render(t.as_str(), csrf);
            let sections = sections + &crate::portal::AccountPortal::render_bottom(t.as_str());
            pages::account(
                t.as_str(),
                u.email.as_str(),
                u.name.as_deref(),
                csrf,
                &sections,
            )
        },
    ))
}

/// `POST /{tenant}/account/sessions/end`: signs out one of the user's other sessions
/// (`sid`), or all the others (`others=yes`).
pub async fn end_sessions(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let Some(session) = current_session(&st, &req, &f.t).await? else {
        return Ok(see_other(&format!("/{}/login", f.t)));
    };
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    let sids: Vec<String> = if f.get("others") == "yes" {
        st.engine
            .user_sessions(&f.t, &session.user_id)
            .await?
            .into_iter()
            .map(|s| s.sid)
            .filter(|sid| *sid != session.sid)
            .collect()
    } else {
        vec![f.get("sid").to_owned()]
    };
    st.engine
        .end_user_sessions(&f.t, &session.user_id, &sids, &http::meta(&req))
        .await?;
    Ok(see_other(&format!("/{}/account", f.t)))
}

/// `POST /{tenant}/account/apps/remove`: withdraws an app's access (`client_id`).
pub async fn remove_app(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let Some(session) = current_session(&st, &req, &f.t).await? else {
        return Ok(see_other(&format!("/{}/login", f.t)));
    };
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    let client = tollgate_engine::ids::ClientId::parse(f.get("client_id"))
        .map_err(|_| PageError::bad_request("That app is not known."))?;
    st.engine
        .disconnect_app(&f.t, &session.user_id, &client, &http::meta(&req))
        .await?;
    Ok(see_other(&format!("/{}/account", f.t)))
}

/// `GET /{tenant}/account/export`: "download my data", as a JSON file.
pub async fn account_export(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let t = tenant_id(&path)?;
    let Some(session) = current_session(&st, &req, &t).await? else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    let user = session.user_id.to_string();
    let doc = st
        .engine
        .export_user(&t, &session.user_id, &user, &http::meta(&req))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{t}-my-data.json\""),
        ))
        .json(doc))
}

/// `GET|POST /{tenant}/logout` (OIDC RP-Initiated Logout 1.0)
pub async fn logout(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> PageResult {
    let t = tenant_id(&path)?;
    let is_post = req.method() == actix_web::http::Method::POST;
    let raw: &[u8] = if is_post {
        &body
    } else {
        req.query_string().as_bytes()
    };
    if raw.len() > http::MAX_FORM_BYTES {
        return Err(PageError::bad_request("The logout request is too large."));
    }
    let params = http::parse_unique(raw)?;
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let cookie = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let session = current_session(&st, &req, &t).await?;
    let plan = st
        .engine
        .plan_logout(
            &t,
            get("id_token_hint"),
            get("client_id"),
            get("post_logout_redirect_uri"),
            get("state"),
            session.as_ref().map(|s| &s.user_id),
        )
        .await?;
    let confirmed = plan.confirmed_by_hint
        || (is_post && get("confirm") == Some("yes") && csrf_ok(&st, &req, &params));
    if !confirmed {
        let keep: Vec<(&str, &str)> = [
            "id_token_hint",
            "client_id",
            "post_logout_redirect_uri",
            "state",
        ]
        .into_iter()
        .filter_map(|k| get(k).map(|v| (k, v)))
        .collect();
        return Ok(form_page(
            &st,
            &req,
            &t,
            StatusCode::OK,
            "Sign out",
            |csrf| pages::logout_confirm(t.as_str(), &keep, csrf),
        ));
    }
    if let Some(c) = &cookie {
        st.engine.end_session(&t, c, &http::meta(&req)).await?;
    }
    let mut r = match plan.redirect {
        Some(url) => see_other(&url),
        None => pages::page(StatusCode::OK, "Signed out", &pages::signed_out()),
    };
    let _ = r.add_cookie(&removal(SESSION_COOKIE, t.as_str(), st.secure_cookies));
    Ok(r)
}
