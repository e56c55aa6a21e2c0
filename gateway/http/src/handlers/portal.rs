//! The account portal's self-service pages: profile, language, sign-in email (proven by a
//! code to the new address), phone number change, password change, consent purposes,
//! deleting the account. The step after sign-in has its own module (`complete.rs`); the
//! pages are in [`crate::pages::portal`].
//!
//! Every form is CSRF-protected and works without JavaScript. Handlers are thin: they
//! read the form, call one engine function and render the answer, in the user's language.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::BTreeMap;
use tollgate_engine::EngineError;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::notice::{ConsentChannel, ConsentVia};
use tollgate_engine::model::privacy::PROFILE_FIELDS;
use tollgate_engine::runtime::delivery::Channel;

use crate::pages::notices::shown_language;
use crate::pages::otp::{CodeForm, code_failed, code_page, phone_form, sent_to, start_failed};
use crate::pages::portal::{
    self, AccountForm, FieldRow, LOCALE_FIELD, engine_text, form_again, offered_language, signed_in,
};
use crate::state::AppState;
use crate::web::cookies::SESSION_COOKIE;
use crate::web::csrf::view_form_page;
use crate::web::error::PageError;
use crate::web::form::{SubmittedForm, account_form, credential_form};
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::{current_session, recent_session};
use crate::web::tenant::tenant;
use crate::web::view::{LANG_COOKIE, Value, View, context};

type PageResult = Result<HttpResponse, PageError>;

/// The view of a page answering an account form: the user's language, and a switcher
/// that goes to the GET page `back` (under the tenant) the form is on.
async fn form_view(
    st: &AppState,
    req: &HttpRequest,
    f: &SubmittedForm,
    user: &tollgate_engine::ids::UserId,
    back: &str,
) -> Result<(tollgate_engine::model::User, View), PageError> {
    let (u, v) = signed_in(st, req, &f.tenant, user).await?;
    Ok((u, v.switch_to(format!("/{}{back}", f.t), Vec::new())))
}

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
    let (u, v) = form_view(&st, &req, &f, &session.user_id, "/account").await?;
    // The language has its own form, which saves only languages the pages are offered in.
    if let Some(l) = fields.get(LOCALE_FIELD)
        && !l.trim().is_empty()
        && offered_language(&v, l).is_none()
    {
        return Ok(language_refused(&st, &req, &v, &f.t, &u));
    }
    match st
        .engine
        .account()
        .update_profile(&f.t, &session.user_id, name, fields.clone(), &meta(&req))
        .await
    {
        Ok(()) => Ok(see_other(&format!("/{}/account#profile", f.t))),
        Err(EngineError::Invalid(msg)) => {
            // What was typed, for the fields the form has.
            let rows: Vec<FieldRow> = fields
                .iter()
                .filter(|(k, _)| PROFILE_FIELDS.iter().any(|(p, _)| p == k))
                .map(|(k, val)| FieldRow::new(&v, k, val, false))
                .collect();
            Ok(form_again(
                &st,
                &req,
                &v,
                &f.t,
                StatusCode::BAD_REQUEST,
                AccountForm::Profile,
                context! { name => f.get("name"), fields => Value::from(minijinja::value::Serde(&rows)) },
                &engine_text(&v, &msg),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The language form again, saying the language is not one the pages are offered in;
/// the choice shown is the one saved (`saved`).
fn language_refused(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    saved: &tollgate_engine::model::User,
) -> HttpResponse {
    let saved_language = portal::saved_locale(saved).and_then(|l| offered_language(v, l));
    form_again(
        st,
        req,
        v,
        t,
        StatusCode::BAD_REQUEST,
        AccountForm::Language,
        context! { saved_language },
        &v.t("portal-language-unknown"),
    )
}

/// `POST /{tenant}/account/language`: saves the language pages and messages use for this
/// user (the `locale` profile field, a normal profile change), one of the tenant's
/// languages, or none (the browser's). The switcher's choice in this browser gives way to it.
pub async fn language_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let (u, v) = form_view(&st, &req, &f, &session.user_id, "/account").await?;
    let wanted = f.get("locale").trim();
    let tag = match wanted {
        "" => String::new(),
        w => match offered_language(&v, w) {
            Some(tag) => tag.to_owned(),
            None => return Ok(language_refused(&st, &req, &v, &f.t, &u)),
        },
    };
    let mut fields = BTreeMap::new();
    fields.insert(LOCALE_FIELD.to_owned(), tag);
    st.engine
        .account()
        .update_profile(&f.t, &session.user_id, None, fields, &meta(&req))
        .await?;
    let mut r = see_other(&format!("/{}/account#language", f.t));
    let _ = r.add_cookie(&st.cookies.removal(LANG_COOKIE, f.t.as_str(), ""));
    Ok(r)
}

fn email_code_form<'a>(t: &TenantId, intro: String, handle: &'a str) -> CodeForm<'a> {
    CodeForm {
        action: format!("/{t}/account/email/change/confirm"),
        title: "portal-email-code-title",
        intro,
        handle: Some(handle),
        method: None,
        tx: None,
        new_password: false,
        button: "portal-email-code-button",
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
    let (u, v) = form_view(&st, &req, &f, &session.user_id, "/account").await?;
    let has_password = u.password_hash.is_some();
    let again = |status, msg: &str| {
        form_again(
            &st,
            &req,
            &v,
            &f.t,
            status,
            AccountForm::Email,
            context! { new_email => f.get("new_email"), has_password },
            &engine_text(&v, msg),
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
            Some(v.lang()),
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let intro = format!(
                "{} {}",
                sent_to(&v, &sent.masked),
                v.t("portal-email-code-sent")
            );
            let form = email_code_form(&f.t, intro, &sent.handle);
            Ok(code_page(&st, &req, &v, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(&v, e, again),
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
    let (u, v) = form_view(&st, &req, &f, &session.user_id, "/account").await?;
    let form = email_code_form(&f.t, v.t("portal-email-code-intro"), f.get("handle"));
    let again = |status, msg: &str| code_page(&st, &req, &v, &f.t, status, &form, Some(msg));
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
        Err(EngineError::Conflict(_)) => Ok(form_again(
            &st,
            &req,
            &v,
            &f.t,
            StatusCode::CONFLICT,
            AccountForm::Email,
            context! { new_email => "", has_password => u.password_hash.is_some() },
            &v.t("portal-email-taken"),
        )),
        Err(e) => code_failed(e, again),
    }
}

/// `GET /{tenant}/account/phone/change`
pub async fn phone_page(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let session = match recent_session(&st, &req, &t, "/account/phone/change").await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let (_, v) = signed_in(&st, &req, &tenant, &session.user_id).await?;
    let action = format!("/{t}/account/phone/change");
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "portal-phone-title",
        |csrf| {
            phone_form(
                &v,
                &action,
                "portal-phone-title",
                "portal-phone-intro",
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
        title: "portal-phone-code-title",
        intro,
        handle: Some(handle),
        method: None,
        tx: None,
        new_password: false,
        button: "portal-phone-code-button",
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
    let (_, v) = form_view(&st, &req, &f, &session.user_id, "/account/phone/change").await?;
    let action = format!("/{}/account/phone/change", f.t);
    let again = |status, msg: &str| {
        view_form_page(&st, &req, &v, &f.t, status, "portal-phone-title", |csrf| {
            phone_form(
                &v,
                &action,
                "portal-phone-title",
                "portal-phone-intro",
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
            Some(v.lang()),
            &meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = phone_code_form(&f.t, sent_to(&v, &sent.masked), &sent.handle);
            Ok(code_page(&st, &req, &v, &f.t, StatusCode::OK, &form, None))
        }
        Err(e) => start_failed(&v, e, again),
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
    let (_, v) = form_view(&st, &req, &f, &session.user_id, "/account/phone/change").await?;
    let form = phone_code_form(&f.t, v.t("portal-phone-code-intro"), f.get("handle"));
    let again = |status, msg: &str| code_page(&st, &req, &v, &f.t, status, &form, Some(msg));
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
    let (u, v) = form_view(&st, &req, &f, &session.user_id, "/account").await?;
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
            v.page(
                StatusCode::OK,
                "portal-password-changed-title",
                portal::password_changed(&v),
            ),
        )),
        Err(EngineError::Invalid(msg)) => Ok(form_again(
            &st,
            &req,
            &v,
            &f.t,
            StatusCode::BAD_REQUEST,
            AccountForm::Password,
            context! { has_password => u.password_hash.is_some() },
            &engine_text(&v, &msg),
        )),
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
    let (_, v) = form_view(&st, &req, &f, &session.user_id, "/account").await?;
    let bad = StatusCode::BAD_REQUEST;
    let version: u32 = f.get("version").parse().unwrap_or(0);
    let notices = st.engine.account().privacy_settings(&f.t).await?;
    let granted = match f.get("decision") {
        "grant" => true,
        "withdraw" => false,
        _ => return Ok(portal::error(&v, bad, "portal-purpose-bad-decision")),
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
            &ConsentVia::page(
                ConsentChannel::AccountPage,
                shown_language(&notices.notices, f.get("purpose"), v.lang()),
            ),
            &meta(&req),
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!("/{}/account#purposes", f.t))),
        Err(EngineError::NotFound(_)) => Ok(portal::error(&v, bad, "portal-purpose-gone")),
        Err(EngineError::Invalid(msg)) => Ok(portal::error_text(&v, bad, &msg)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /{tenant}/account/delete`: asks to confirm.
pub async fn delete_page(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let session = match recent_session(&st, &req, &t, "/account/delete").await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let Some(u) = st.engine.user(&t, &session.user_id).await? else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    let v = portal::user_view(&st, &req, &tenant, &u);
    let has_password = u.password_hash.is_some();
    Ok(view_form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        "portal-delete-title",
        |csrf| portal::delete(&v, has_password, csrf, None),
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
    // Read before the account goes: the last page is in the user's language.
    let (u, v) = form_view(&st, &req, &f, &session.user_id, "/account/delete").await?;
    match st
        .engine
        .account()
        .delete_own_account(&f.t, &session.user_id, f.get("confirmation"), &meta(&req))
        .await
    {
        Ok(()) => {
            let v = v.switch_to(format!("/{}/login", f.t), Vec::new());
            let mut r = v.page(
                StatusCode::OK,
                "portal-deleted-page-title",
                portal::deleted(&v),
            );
            let _ = r.add_cookie(&st.cookies.removal(SESSION_COOKIE, f.t.as_str(), ""));
            Ok(r)
        }
        Err(EngineError::Invalid(msg)) => {
            let has_password = u.password_hash.is_some();
            let error = engine_text(&v, &msg);
            Ok(view_form_page(
                &st,
                &req,
                &v,
                &f.t,
                StatusCode::BAD_REQUEST,
                "portal-delete-title",
                |csrf| portal::delete(&v, has_password, csrf, Some(&error)),
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
    tenant: &tollgate_engine::model::Tenant,
    session: &tollgate_engine::model::Session,
    next: &str,
    status: StatusCode,
    error: Option<&str>,
) -> PageResult {
    let t = &tenant.id;
    let (user, v) = signed_in(st, req, tenant, &session.user_id).await?;
    // The switcher shows this page again, going to the same place afterwards.
    let v = v.switch_to(
        format!("/{t}/account/reauth"),
        vec![("next".to_owned(), next.to_owned())],
    );
    let has_factors = st.engine.signin().can_step_up(t, session).await?;
    let has_password = user.password_hash.is_some();
    let error = error.map(|id| v.t(id));
    Ok(view_form_page(
        st,
        req,
        &v,
        t,
        status,
        "portal-reauth-title",
        |csrf| portal::reauth(&v, next, has_password, has_factors, csrf, error.as_deref()),
    ))
}

/// `GET /{tenant}/account/reauth?next=…`: "confirm it's you" before a credential change.
pub async fn reauth_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<NextQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, tenant) = tenant(&st, &path).await?;
    let next = local_next(&t, q.next.as_deref());
    let Some(session) = current_session(&st, &req, &t).await? else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    if st.engine.signin().is_recent(&session) {
        return Ok(see_other(&next));
    }
    reauth_form(&st, &req, &tenant, &session, &next, StatusCode::OK, None).await
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
            let wrong = Some("portal-reauth-wrong");
            let status = StatusCode::BAD_REQUEST;
            reauth_form(&st, &req, &f.tenant, &session, &next, status, wrong).await
        }
        Err(e) => Err(e.into()),
    }
}
