//! Hosted pages: sign-in, sign-up, consent, account and logout. Forms are CSRF-protected;
//! sign-in failures say the same whatever was wrong.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use tollgate_engine::EngineError;
use tollgate_engine::account::children::AgeAnswers;
use tollgate_engine::model::signin::SignInStep;

use crate::journey::{
    after_first_factor, authorize_error, continue_to, offer_after_sign_up, offer_redirect,
};
use crate::pages::children;
use crate::pages::federation::{AccountIdentities, login_buttons};
use crate::pages::hosted as pages;
use crate::pages::mfa::{account_factors, factor_rows};
use crate::pages::otp::{CodeForm, account_contact, code_failed, code_page, sent_to, start_failed};
use crate::pages::passkeys::AccountPasskeys;
use crate::pages::portal::AccountPortal;
use crate::state::AppState;
use crate::web::cookies::SESSION_COOKIE;
use crate::web::csrf::{STALE_FORM, csrf_ok, view_form_page};
use crate::web::error::PageError;
use crate::web::form::{SubmittedForm, account_form};
use crate::web::request::{self, meta};
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::{tenant, tenant_id};
use crate::web::tx::{TxQuery, open_tx};
use crate::web::view::{PAGE_CSP, View};

type PageResult = Result<HttpResponse, PageError>;

/// `GET /{tenant}/login`
pub async fn login_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let v = View::new(&st, &req, &tenant, areq.as_ref());
    let hint = areq.and_then(|a| a.login_hint).unwrap_or_default();
    let federation = login_buttons(&st, &v, &t, q.tx.as_deref()).await;
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "sign-in-button",
        |csrf| {
            pages::login(
                &v,
                q.tx.as_deref(),
                csrf,
                &hint,
                None,
                st.engine.signin().passkeys_allowed(&tenant),
                federation,
            )
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
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let v = View::new(&st, &req, &tenant, areq.as_ref());
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "sign-up-link",
        |csrf| {
            let age = children::age_fields(&tenant, "", "");
            pages::signup(&v, q.tx.as_deref(), csrf, "", "", None, age)
        },
    ))
}

/// `POST /{tenant}/login`
pub async fn login_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let v = f.view(&st, &req, "login");
    let again = |status, msg: &str| {
        view_form_page(&st, &req, &v, &f.t, status, "sign-in-button", |csrf| {
            pages::login(
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
    // Home-realm discovery: an address at an organisation's verified domain goes to its
    // company's identity provider; no password is checked here (nor kept).
    if let Some(to) = home_realm_start(&st, &f).await? {
        return Ok(to);
    }
    match st
        .engine
        .signin()
        .password_login(&f.t, f.get("email"), f.get("password"), &meta(&req))
        .await
    {
        Ok(step) => after_first_factor(&st, &req, &f.t, step, f.areq.clone()).await,
        Err(EngineError::InvalidCredentials) => {
            Ok(again(StatusCode::UNAUTHORIZED, &v.t("sign-in-failed")))
        }
        Err(e) if children::is_pending(&e) => Ok(children::pending_page(&v)),
        Err(e) => Err(e.into()),
    }
}

/// Where an address at an organisation's verified, routed domain starts its sign-in: the
/// organisation's connector, carrying the authorization request.
async fn home_realm_start(
    st: &AppState,
    f: &SubmittedForm,
) -> Result<Option<HttpResponse>, PageError> {
    let Some(realm) = st
        .engine
        .federation()
        .home_realm(&f.t, f.get("email"))
        .await?
    else {
        return Ok(None);
    };
    let tx = f
        .areq
        .as_ref()
        .and(f.tx())
        .map(|tx| {
            let tx: String = url::form_urlencoded::byte_serialize(tx.as_bytes()).collect();
            format!("?tx={tx}")
        })
        .unwrap_or_default();
    Ok(Some(see_other(&format!(
        "/{}/federation/{}/start{tx}",
        f.t, realm.connector
    ))))
}

/// `POST /{tenant}/login/sso`: "Sign in with your organisation" on the sign-in page (the
/// address only): its organisation's identity provider, or the page again saying that
/// no organisation signs in that address's domain.
pub async fn login_sso(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let v = f.view(&st, &req, "login");
    let federation = login_buttons(&st, &v, &f.t, f.tx()).await;
    let again = |status, msg: &str| {
        view_form_page(&st, &req, &v, &f.t, status, "sign-in-button", |csrf| {
            pages::login(
                &v,
                f.tx(),
                csrf,
                f.get("email"),
                Some(msg),
                st.engine.signin().passkeys_allowed(&f.tenant),
                federation.clone(),
            )
        })
    };
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
    }
    match home_realm_start(&st, &f).await? {
        Some(to) => Ok(to),
        None => Ok(again(StatusCode::BAD_REQUEST, &v.t("sso-no-organization"))),
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
    let v = f.view(&st, &req, "signup");
    let again = |status, msg: &str| {
        view_form_page(&st, &req, &v, &f.t, status, "sign-up-link", |csrf| {
            let age = children::age_fields(&f.tenant, f.get("birthdate"), f.get("parent_email"));
            pages::signup(
                &v,
                f.tx(),
                csrf,
                f.get("name"),
                f.get("email"),
                Some(msg),
                age,
            )
        })
    };
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, &v.t("form-expired")));
    }
    let name = Some(f.get("name").trim().to_owned()).filter(|n| !n.is_empty() && n.len() <= 200);
    // Taken or not, the address gets the same answer: "we sent you a code".
    match st
        .engine
        .signin()
        .sign_up_start(
            &f.t,
            f.get("email"),
            f.get("password"),
            name,
            f.tx().map(str::to_owned),
            // The form's language (kept as the account's), else this page's.
            Some(f.get("locale"))
                .filter(|l| !l.is_empty())
                .or(Some(v.lang())),
            AgeAnswers {
                birthdate: Some(f.get("birthdate")),
                parent_email: Some(f.get("parent_email")),
            },
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = signup_code_form(&f.t, sent_to(&v, &sent.masked), &sent.handle, f.tx());
            Ok(code_page(&st, &req, &v, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(&v, e, again),
    }
}

fn signup_code_form<'a>(
    t: &tollgate_engine::ids::TenantId,
    intro: String,
    handle: &'a str,
    tx: Option<&'a str>,
) -> CodeForm<'a> {
    CodeForm::emailed(
        format!("/{t}/signup/code"),
        intro,
        handle,
        tx,
        "otp-create-account-button",
    )
}

/// `POST /{tenant}/signup/code`: the code from the sign-up mail creates the account.
pub async fn signup_code_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let v = f.view(&st, &req, "signup");
    let form = signup_code_form(&f.t, v.t("otp-enter-emailed-code"), f.get("handle"), f.tx());
    let again = |status, msg: &str| code_page(&st, &req, &v, &f.t, status, &form, Some(msg));
    if !f.csrf_ok {
        return Ok(again(StatusCode::FORBIDDEN, STALE_FORM));
    }
    match st
        .engine
        .signin()
        .sign_up_finish(&f.t, f.get("handle"), f.get("code"), &meta(&req))
        .await
    {
        Ok((step, tx)) => {
            let areq = tx
                .and_then(|tx| st.engine.oauth().open_request(&f.t, &tx))
                .or_else(|| f.areq.clone());
            match step {
                // Signed in: offer a passkey before going on, where passkeys can be used.
                SignInStep::Done(ns) if offer_after_sign_up(&st, &f.tenant) => {
                    Ok(offer_redirect(&st, &f.t, ns, areq.as_ref()))
                }
                step => after_first_factor(&st, &req, &f.t, step, areq).await,
            }
        }
        // A child's account: it waits for a parent, who was mailed.
        Err(e) if children::is_pending(&e) => Ok(children::pending_page(&v)),
        Err(e) => code_failed(e, again),
    }
}

/// `GET /{tenant}/consent`
pub async fn consent_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?
        .ok_or_else(|| PageError::bad_request_id("err-stale-link"))?;
    let client = st
        .engine
        .client(&t, &areq.client_id)
        .await?
        .ok_or_else(|| PageError::bad_request_id("err-app-gone"))?;
    let tx = q.tx.clone().unwrap_or_default();
    let api = areq
        .resource
        .as_deref()
        .and_then(|r| tenant.api(r))
        .map(|a| a.name.as_str());
    let v = View::new(&st, &req, &tenant, Some(&areq));
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "consent-page-title",
        |csrf| pages::consent(&v, &client.name, &areq.scopes, api, &tx, csrf),
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
        return Err(PageError::Id(StatusCode::FORBIDDEN, "form-expired"));
    }
    let mut areq = f
        .areq
        .clone()
        .ok_or_else(|| PageError::bad_request_id("err-stale-link"))?;
    if f.get("decision") != "allow" {
        return Ok(see_other(&st.engine.oauth().consent_denied(&f.t, &areq)));
    }
    let session = current_session(&st, &req, &f.t).await?;
    areq.prompt.retain(|p| p != "consent");
    Ok(
        match st
            .engine
            .oauth()
            .next_step(&f.t, &areq, session.as_ref(), false, true, &meta(&req))
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
    let (t, tenant) = tenant(&st, &path).await?;
    let session = current_session(&st, &req, &t).await?;
    let user = match &session {
        Some(s) => st.engine.user(&t, &s.user_id).await?,
        None => None,
    };
    let (Some(u), Some(session)) = (user, session) else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    // Signed in with a SAML sign-in waiting: the application gets its answer.
    if crate::handlers::saml::pending(&st, &req, &t) {
        return Ok(see_other(&format!("/{t}/saml/resume")));
    }
    // Signed in after opening an invitation: back to it, to accept.
    if let Some(url) = crate::handlers::orgs::pending_invitation(&st, &req, &t) {
        return Ok(see_other(&url));
    }
    let factor_rows = factor_rows(&st, &t, &u.id).await?;
    let apps = st.engine.account().connected_apps(&t, &u.id).await?;
    let session_rows: Vec<pages::SessionRow> = st
        .engine
        .signin()
        .user_sessions(&t, &u.id)
        .await?
        .into_iter()
        .map(|s| pages::SessionRow::of(s, &session.sid))
        .collect();
    let passkeys = AccountPasskeys::load(&st, &t, &u.id).await?;
    let portal = AccountPortal::load(&st, &t, &u).await?;
    let identities = AccountIdentities::load(&st, &t, &u).await?;
    let saved = u.profile.get("locale").map(String::as_str);
    let v = View::with_saved(&st, &req, &tenant, None, saved);
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "account-title",
        |csrf| {
            let sections = portal.render_top(&v, csrf)
                + &pages::account_sessions(&v, &session_rows, csrf)
                + &pages::account_apps(&v, &apps, csrf)
                + &passkeys.render(&v, csrf)
                + &account_factors(&v, &factor_rows, csrf)
                + &account_contact(&v, u.email_verified, csrf)
                + &identities.render(&v, csrf)
                + &crate::pages::verify::account_section(&v, &tenant);
            let sections = sections + &AccountPortal::render_bottom(&v);
            pages::account(&v, u.email.as_str(), u.name.as_deref(), csrf, sections)
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
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let sids: Vec<String> = if f.get("others") == "yes" {
        st.engine
            .signin()
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
        .signin()
        .end_user_sessions(&f.t, &session.user_id, &sids, &meta(&req))
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
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let client = tollgate_engine::ids::ClientId::parse(f.get("client_id"))
        .map_err(|_| PageError::bad_request_id("err-app-unknown"))?;
    st.engine
        .account()
        .disconnect_app(&f.t, &session.user_id, &client, &meta(&req))
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
        .account()
        .export_user(&t, &session.user_id, &user, &meta(&req))
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
    let (t, tenant) = tenant(&st, &path).await?;
    let is_post = req.method() == actix_web::http::Method::POST;
    let raw: &[u8] = if is_post {
        &body
    } else {
        req.query_string().as_bytes()
    };
    if raw.len() > request::MAX_FORM_BYTES {
        return Err(PageError::bad_request_id("err-logout-too-large"));
    }
    let params = request::parse_unique(raw)?;
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let cookie = st
        .cookies
        .read(&req, SESSION_COOKIE, t.as_str())
        .map(|c| c.value().to_owned());
    let session = current_session(&st, &req, &t).await?;
    let plan = st
        .engine
        .oauth()
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
        || (is_post && get("confirm") == Some("yes") && csrf_ok(&st, &req, &t, &params));
    let keep: Vec<(&str, &str)> = [
        "id_token_hint",
        "client_id",
        "post_logout_redirect_uri",
        "state",
    ]
    .into_iter()
    .filter_map(|k| get(k).map(|v| (k, v)))
    .collect();
    // The switcher shows this request again, in another language.
    let v = View::new(&st, &req, &tenant, None).switch_to(
        format!("/{t}/logout"),
        keep.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    if !confirmed {
        return Ok(view_form_page(
            &st,
            &req,
            &v,
            &t,
            StatusCode::OK,
            "sign-out-title",
            |csrf| pages::logout_confirm(&v, &keep, csrf),
        ));
    }
    let ended = match &cookie {
        Some(c) => st.engine.signin().end_session(&t, c, &meta(&req)).await?,
        None => None,
    };
    let front = match &ended {
        Some(s) => st.engine.frontchannel_logout(s).await?,
        None => Default::default(),
    };
    let mut r = match plan.redirect {
        _ if !front.uris.is_empty() => {
            let body = pages::signed_out(&v, &front.uris, plan.redirect.as_deref());
            let mut r = v.page(StatusCode::OK, "signed-out-title", body);
            // The apps' logout pages are framed; nothing else may be.
            let csp = PAGE_CSP.replacen(
                "default-src 'none'; ",
                &format!(
                    "default-src 'none'; frame-src {}; ",
                    front.origins.join(" ")
                ),
                1,
            );
            if let Ok(value) = HeaderValue::from_str(&csp) {
                r.headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, value);
            }
            if let Some(next) = plan.redirect.as_deref()
                && let Ok(value) = HeaderValue::from_str(&format!("2; url={next}"))
            {
                r.headers_mut()
                    .insert(header::HeaderName::from_static("refresh"), value);
            }
            r
        }
        Some(url) => see_other(&url),
        None => v.page(
            StatusCode::OK,
            "signed-out-title",
            pages::signed_out(&v, &[], None),
        ),
    };
    let _ = r.add_cookie(&st.cookies.removal(SESSION_COOKIE, t.as_str(), ""));
    Ok(r)
}
