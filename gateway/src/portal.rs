//! The account portal's self-service pages: profile, sign-in email (proven by a code to
//! the new address), phone number change, password change, consent purposes, deleting the
//! account; and the step after sign-in that asks for required consent purposes and
//! progressive-profiling fields before the authorization continues.
//!
//! Every form is CSRF-protected and works without JavaScript. Handlers are thin: they
//! read the form, call one engine function and render the answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::BTreeMap;
use tollgate_engine::EngineError;
use tollgate_engine::authorize::AuthRequest;
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::{Session, User};
use tollgate_engine::portal::DELETE_WORD;
use tollgate_engine::profiling::{PROFILE_FIELDS, ProfileRule, field_label};
use tollgate_engine::purposes::{Purpose, PurposeStatus};

use crate::email::{code_failed, code_page, start_failed};
use crate::hosted::{SubmittedForm, TxQuery, current_session, form_page, open_tx, tenant};
use crate::http::{self, SESSION_COOKIE, removal, tenant_cookie};
use crate::oidc::see_other;
use crate::otp_pages::{self, CodeForm};
use crate::pages::{self, PageError, esc, hidden};
use crate::server::AppState;

type PageResult = Result<HttpResponse, PageError>;

const STALE_FORM: &str = "This form expired. Please try again.";

/// Optional profile fields skipped in this browser session (not asked again until the
/// browser closes). Only a convenience: nothing depends on it being honest.
const SKIP_COOKIE: &str = "tg_profile_skip";

/// Registers the routes (inside the `/{tenant}` scope).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account/profile", web::post().to(profile_submit))
        .route("/account/email/change", web::post().to(email_start))
        .route(
            "/account/email/change/confirm",
            web::post().to(email_confirm),
        )
        .route("/account/phone/change", web::get().to(phone_page))
        .route("/account/phone/change", web::post().to(phone_start))
        .route(
            "/account/phone/change/confirm",
            web::post().to(phone_confirm),
        )
        .route("/account/password", web::post().to(password_submit))
        .route("/account/purposes", web::post().to(purpose_submit))
        .route("/account/delete", web::get().to(delete_page))
        .route("/account/delete", web::post().to(delete_submit))
        .route("/account/complete", web::get().to(complete_page))
        .route("/account/complete", web::post().to(complete_submit));
}

/// A submitted account form with its session, CSRF checked; or the redirect to sign in.
async fn account_form(
    req: &HttpRequest,
    path: &str,
    payload: web::Payload,
    st: &AppState,
) -> Result<Result<(SubmittedForm, Session), HttpResponse>, PageError> {
    let f = SubmittedForm::read(req, path, payload, st).await?;
    let Some(session) = current_session(st, req, &f.t).await? else {
        return Ok(Err(see_other(&format!("/{}/login", f.t))));
    };
    if !f.csrf_ok {
        return Err(PageError::Message(StatusCode::FORBIDDEN, STALE_FORM.into()));
    }
    Ok(Ok((f, session)))
}

fn input(id: &str, name: &str, label: &str, value: &str, kind: &str, extra: &str) -> String {
    format!(
        "<label for=\"{id}\">{label}</label><input id=\"{id}\" type=\"{kind}\" name=\"{name}\" value=\"{value}\" {extra}>",
        id = esc(id),
        name = esc(name),
        label = esc(label),
        value = esc(value),
    )
}

/// The fields the profile form shows: the tenant's profiling fields, then any others the
/// user has.
fn profile_fields(rules: &[ProfileRule], user: &User) -> Vec<String> {
    let mut out: Vec<String> = rules.iter().map(|r| r.field.clone()).collect();
    for (f, _) in PROFILE_FIELDS {
        if user.profile.contains_key(*f) && !out.iter().any(|o| o == f) {
            out.push((*f).to_owned());
        }
    }
    out
}

/// What the account page's self-service sections need.
pub(crate) struct AccountPortal {
    user: User,
    fields: Vec<String>,
    purposes: Vec<PurposeStatus>,
    phone: Option<String>,
}

impl AccountPortal {
    pub(crate) async fn load(st: &AppState, t: &TenantId, user: &User) -> Result<Self, PageError> {
        let settings = st.engine.privacy_settings(t).await?;
        let purposes = st.engine.purpose_statuses(t, &user.id).await?;
        let phone = st.engine.masked_phone(t, &user.id).await?;
        Ok(Self {
            fields: profile_fields(&settings.profile_fields, user),
            user: user.clone(),
            purposes,
            phone,
        })
    }

    /// The sections above the sessions: profile, sign-in email, phone, password,
    /// privacy choices.
    pub(crate) fn render_top(&self, tenant: &str, csrf: &str) -> String {
        let t = esc(tenant);
        let c = hidden("csrf", csrf);
        let u = &self.user;
        let mut fields = input(
            "name",
            "name",
            "Name",
            u.name.as_deref().unwrap_or(""),
            "text",
            "autocomplete=\"name\" maxlength=\"200\"",
        );
        for f in &self.fields {
            fields.push_str(&input(
                &format!("field-{f}"),
                &format!("field.{f}"),
                field_label(f),
                u.profile.get(f).map(String::as_str).unwrap_or(""),
                "text",
                "maxlength=\"200\"",
            ));
        }
        let phone = match &self.phone {
            Some(p) => format!(
                "<p>Mobile number: <strong>{}</strong> <a href=\"/{t}/account/phone/change\">Change number</a></p>",
                esc(p)
            ),
            None => String::new(),
        };
        format!(
            "<section id=\"profile\"><h2>Profile</h2><form method=\"post\" action=\"/{t}/account/profile\">{c}{fields}\
<button type=\"submit\">Save profile</button></form></section>\
<section id=\"sign-in-email\"><h2>Sign-in email</h2><p>You sign in with <strong>{email}</strong>.</p>\
<form method=\"post\" action=\"/{t}/account/email/change\">{c}\
{new_email}{email_pw}<button type=\"submit\" class=\"secondary\">Change email</button></form>{phone}</section>\
<section id=\"password\"><h2>Password</h2><form method=\"post\" action=\"/{t}/account/password\">{c}{pw}\
<button type=\"submit\" class=\"secondary\">Change password</button></form>\
<p class=\"muted\">Changing it signs you out everywhere else.</p></section>{purposes}",
            email = esc(u.email.as_str()),
            new_email = input(
                "new-email",
                "new_email",
                "New email address",
                "",
                "email",
                "autocomplete=\"email\" required"
            ),
            email_pw = email_password(u.password_hash.is_some()),
            pw = password_fields(u.password_hash.is_some()),
            purposes = purposes_section(tenant, &self.purposes, csrf),
        )
    }

    /// The last section: deleting the account.
    pub(crate) fn render_bottom(tenant: &str) -> String {
        format!(
            "<section id=\"delete\"><h2>Delete your account</h2><p class=\"muted\">Signs you out everywhere and removes your data.</p>\
<p><a href=\"/{}/account/delete\">Delete my account</a></p></section>",
            esc(tenant)
        )
    }
}

/// The current password, asked before an email change (for accounts that have one).
fn email_password(has_password: bool) -> String {
    if has_password {
        input(
            "email-current-password",
            "current_password",
            "Your password",
            "",
            "password",
            "autocomplete=\"current-password\" required",
        )
    } else {
        String::new()
    }
}

fn password_fields(has_password: bool) -> String {
    let current = if has_password {
        input(
            "current-password",
            "current_password",
            "Current password",
            "",
            "password",
            "autocomplete=\"current-password\" required",
        )
    } else {
        String::new()
    };
    current
        + &input(
            "new-password",
            "new_password",
            "New password",
            "",
            "password",
            "autocomplete=\"new-password\" minlength=\"8\" required",
        )
}

fn purposes_section(tenant: &str, purposes: &[PurposeStatus], csrf: &str) -> String {
    if purposes.is_empty() {
        return String::new();
    }
    let t = esc(tenant);
    let items: String = purposes
        .iter()
        .map(|s| {
            let p = &s.purpose;
            let granted = s.granted_now();
            let state = match (&s.grant, granted) {
                (_, true) => "You agreed".to_owned(),
                (Some(g), false) if g.granted => "You agreed to an earlier version".to_owned(),
                (Some(_), false) => "You said no".to_owned(),
                (None, false) => "Not asked yet".to_owned(),
            };
            let action = if p.required && granted {
                "<span class=\"muted\">Needed to use the service</span>".to_owned()
            } else {
                let (decision, label) = if granted {
                    ("withdraw", "Withdraw")
                } else {
                    ("grant", "Agree")
                };
                format!(
                    "<form method=\"post\" action=\"/{t}/account/purposes\" class=\"inline\">{csrf}{id}{v}{d}\
<button type=\"submit\" class=\"secondary\">{label}</button></form>",
                    csrf = hidden("csrf", csrf),
                    id = hidden("purpose", &p.id),
                    v = hidden("version", &p.version.to_string()),
                    d = hidden("decision", decision),
                )
            };
            format!(
                "<li class=\"purpose\" id=\"purpose-{id}\"><strong>{desc}</strong> <span class=\"muted\">(version {v}) {state}</span> {action}</li>",
                id = esc(&p.id),
                desc = esc(&p.description),
                v = p.version,
                state = esc(&state),
            )
        })
        .collect();
    format!(
        "<section id=\"purposes\"><h2>Your privacy choices</h2><ul class=\"purposes\">{items}</ul></section>"
    )
}

/// A one-form page with an error, for a failed account action.
#[allow(clippy::too_many_arguments)]
fn form_again(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    status: StatusCode,
    title: &str,
    action: &str,
    fields: &str,
    button: &str,
    error: &str,
) -> HttpResponse {
    form_page(st, req, t, status, title, |csrf| {
        format!(
            "<h1>{title}</h1>{err}<form method=\"post\" action=\"/{t}{action}\">{csrf}{fields}\
<button type=\"submit\">{button}</button></form><p><a href=\"/{t}/account\">Back to your account</a></p>",
            title = esc(title),
            err = pages::error_block(Some(error)),
            csrf = hidden("csrf", csrf),
            button = esc(button),
        )
    })
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
    match st
        .engine
        .update_profile(
            &f.t,
            &session.user_id,
            name,
            fields.clone(),
            &http::meta(&req),
        )
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
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
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
        .change_email_start(
            &f.t,
            &session.user_id,
            f.get("new_email"),
            f.get("current_password"),
            &http::meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = email_code_form(
                &f.t,
                format!(
                    "{} It becomes your sign-in address once you enter the code.",
                    otp_pages::sent_to(&sent.masked)
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
        .change_email_confirm(
            &f.t,
            &session.user_id,
            f.get("handle"),
            f.get("code"),
            &http::meta(&req),
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
    if current_session(&st, &req, &t).await?.is_none() {
        return Ok(see_other(&format!("/{t}/login")));
    }
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        PHONE_TITLE,
        |csrf| {
            otp_pages::phone_form(
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
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, PHONE_TITLE, |csrf| {
            otp_pages::phone_form(
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
    let channel = tollgate_engine::delivery::Channel::parse(f.get("channel")).unwrap_or_default();
    match st
        .engine
        .phone_enrol_start(
            &f.t,
            &session.user_id,
            f.get("phone"),
            channel,
            &http::meta(&req),
        )
        .await
    {
        Ok(sent) => {
            let form = phone_code_form(&f.t, otp_pages::sent_to(&sent.masked), &sent.handle);
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
        .change_phone_confirm(
            &f.t,
            &session.user_id,
            f.get("handle"),
            f.get("code"),
            &http::meta(&req),
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
        .change_password(
            &f.t,
            &session.user_id,
            f.get("current_password"),
            f.get("new_password"),
            Some(&session.sid),
            &http::meta(&req),
        )
        .await
    {
        Ok(()) => Ok(form_page(
            &st,
            &req,
            &f.t,
            StatusCode::OK,
            "Password changed",
            |_| {
                otp_pages::notice(
                    "Password changed",
                    "Your password was changed. Every other session was signed out.",
                    &format!("/{}/account", f.t),
                    "Back to your account",
                )
            },
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
        .answer_purpose(
            &f.t,
            &session.user_id,
            f.get("purpose"),
            version,
            granted,
            &http::meta(&req),
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

fn delete_form(has_password: bool) -> String {
    if has_password {
        input(
            "confirm-password",
            "confirmation",
            "Your password",
            "",
            "password",
            "autocomplete=\"current-password\" required",
        )
    } else {
        input(
            "confirm-word",
            "confirmation",
            &format!("Type {DELETE_WORD} to confirm"),
            "",
            "text",
            "autocomplete=\"off\" required",
        )
    }
}

fn delete_body(t: &TenantId, has_password: bool, csrf: &str, error: Option<&str>) -> String {
    format!(
        "<h1>Delete your account</h1>{err}<p>This signs you out on every device, removes the apps' access \
and your second factors, and deletes your personal data. It cannot be undone.</p>\
<form method=\"post\" action=\"/{t}/account/delete\">{csrf}{fields}\
<button type=\"submit\">Delete my account</button></form><p><a href=\"/{t}/account\">Keep my account</a></p>",
        err = pages::error_block(error),
        csrf = hidden("csrf", csrf),
        fields = delete_form(has_password),
    )
}

/// `GET /{tenant}/account/delete`: asks to confirm.
pub async fn delete_page(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    let user = match current_session(&st, &req, &t).await? {
        Some(s) => st.engine.user(&t, &s.user_id).await?,
        None => None,
    };
    let Some(u) = user else {
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
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    match st
        .engine
        .delete_own_account(
            &f.t,
            &session.user_id,
            f.get("confirmation"),
            &http::meta(&req),
        )
        .await
    {
        Ok(()) => {
            let mut r = pages::page(
                StatusCode::OK,
                "Account deleted",
                &format!(
                    "<h1 id=\"deleted\">Your account was deleted</h1><p>You were signed out everywhere, and \
the apps you used no longer have access. {name} keeps no personal data of yours beyond what the law \
requires it to keep for a while.</p>",
                    name = esc(&f.tenant.display_name)
                ),
            );
            let _ = r.add_cookie(&removal(SESSION_COOKIE, f.t.as_str(), st.secure_cookies));
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

// ---------------------------------------------------------------------------------
// The step after sign-in: required purposes and progressive profiling.

fn skipped(req: &HttpRequest) -> Vec<String> {
    req.cookie(SKIP_COOKIE)
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
struct Ask {
    purposes: Vec<Purpose>,
    fields: Vec<ProfileRule>,
}

async fn what_to_ask(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    user: &UserId,
    sign_in_before_ms: Option<u64>,
    areq: Option<&AuthRequest>,
) -> Result<Ask, EngineError> {
    let purposes = st.engine.purposes_to_ask(t, user).await?;
    let scopes = areq.map(|a| a.scopes.clone()).unwrap_or_default();
    let fields = st
        .engine
        .profile_fields_to_ask(t, user, &scopes, &skipped(req), sign_in_before_ms)
        .await?;
    Ok(Ask { purposes, fields })
}

/// Where a sign-in goes once the session exists: the step that asks for required
/// purposes and profile fields when any apply, `None` otherwise.
pub(crate) async fn after_sign_in(
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
    if ask.purposes.is_empty() && ask.fields.is_empty() {
        return Ok(None);
    }
    Ok(Some(match areq {
        Some(a) => {
            let mut a = a.clone();
            a.prompt.retain(|p| p != "login" && p != "select_account");
            a.max_age = None;
            format!("/{t}/account/complete?tx={}", st.engine.seal_request(t, &a))
        }
        None => format!("/{t}/account/complete"),
    }))
}

/// Before an authorization is answered from an existing session (no sign-in): the step
/// that asks for required purposes not granted at their current version, and for profile
/// fields whose scope the client requests; `None` when nothing applies, or when the
/// request cannot show a page (`prompt=none`) or will sign in anyway (`prompt=login`).
pub(crate) async fn before_session_reuse(
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
    if ask.purposes.is_empty() && ask.fields.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "/{t}/account/complete?tx={}",
        st.engine.seal_request(t, areq)
    )))
}

fn complete_body(
    t: &TenantId,
    ask: &Ask,
    tx: Option<&str>,
    csrf: &str,
    error: Option<&str>,
) -> String {
    let purposes: String = ask
        .purposes
        .iter()
        .map(|p| {
            format!(
                "<p class=\"purpose\"><label><input type=\"checkbox\" name=\"purpose.{id}\" value=\"{v}\" required> {desc}</label></p>",
                id = esc(&p.id),
                v = p.version,
                desc = esc(&p.description),
            )
        })
        .collect();
    let purposes = if purposes.is_empty() {
        String::new()
    } else {
        format!("<h2>Please agree to continue</h2>{purposes}")
    };
    let fields: String = ask
        .fields
        .iter()
        .map(|r| {
            input(
                &format!("field-{}", r.field),
                &format!("field.{}", r.field),
                &format!(
                    "{}{}",
                    field_label(&r.field),
                    if r.required { "" } else { " (optional)" }
                ),
                "",
                "text",
                if r.required {
                    "maxlength=\"200\" required"
                } else {
                    "maxlength=\"200\""
                },
            )
        })
        .collect();
    let fields = if fields.is_empty() {
        String::new()
    } else {
        format!("<h2>Tell us a little more</h2>{fields}")
    };
    let skip = if ask.purposes.is_empty() && ask.fields.iter().all(|r| !r.required) {
        "<button type=\"submit\" name=\"skip\" value=\"yes\" class=\"secondary\" formnovalidate>Not now</button>"
    } else {
        ""
    };
    format!(
        "<h1>One more step</h1>{err}<form method=\"post\" action=\"/{t}/account/complete\">{csrf}{tx}{purposes}{fields}\
<button type=\"submit\">Continue</button>{skip}</form>",
        err = pages::error_block(error),
        csrf = hidden("csrf", csrf),
        tx = tx.map(|tx| hidden("tx", tx)).unwrap_or_default(),
    )
}

/// `GET /{tenant}/account/complete`: required purposes and profile fields after sign-in.
pub async fn complete_page(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _) = tenant(&st, &path).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let Some(session) = current_session(&st, &req, &t).await? else {
        return Ok(see_other(&format!("/{t}/login")));
    };
    let ask = what_to_ask(
        &st,
        &req,
        &t,
        &session.user_id,
        Some(session.created_at * 1000),
        areq.as_ref(),
    )
    .await?;
    if ask.purposes.is_empty() && ask.fields.is_empty() {
        return Ok(see_other(&crate::mfa::continue_url(&st, &t, areq)));
    }
    Ok(form_page(
        &st,
        &req,
        &t,
        StatusCode::OK,
        "One more step",
        |csrf| complete_body(&t, &ask, q.tx.as_deref(), csrf, None),
    ))
}

/// `POST /{tenant}/account/complete`
pub async fn complete_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (f, session) = match account_form(&req, &path, payload, &st).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let meta = http::meta(&req);
    let user = &session.user_id;
    let ask = what_to_ask(
        &st,
        &req,
        &f.t,
        user,
        Some(session.created_at * 1000),
        f.areq.as_ref(),
    )
    .await?;
    let again = |status, msg: &str| {
        form_page(&st, &req, &f.t, status, "One more step", |csrf| {
            complete_body(&f.t, &ask, f.tx(), csrf, Some(msg))
        })
    };
    let skip = f.get("skip") == "yes";
    // Required purposes: each must be ticked, at the version shown.
    for p in &ask.purposes {
        let ticked = f.form.get(&format!("purpose.{}", p.id));
        let Some(v) = ticked.and_then(|v| v.parse::<u32>().ok()) else {
            return Ok(again(
                StatusCode::BAD_REQUEST,
                "Please agree to each item to continue.",
            ));
        };
        match st
            .engine
            .answer_purpose(&f.t, user, &p.id, v, true, &meta)
            .await
        {
            Ok(_) => {}
            Err(EngineError::Invalid(msg)) => return Ok(again(StatusCode::BAD_REQUEST, &msg)),
            Err(e) => return Err(e.into()),
        }
    }
    let mut values = BTreeMap::new();
    let mut newly_skipped = Vec::new();
    for r in &ask.fields {
        let v = f
            .form
            .get(&format!("field.{}", r.field))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        if v.is_empty() || skip {
            if r.required {
                return Ok(again(
                    StatusCode::BAD_REQUEST,
                    &format!("{} is needed to continue.", field_label(&r.field)),
                ));
            }
            newly_skipped.push(r.field.clone());
        } else {
            values.insert(r.field.clone(), v);
        }
    }
    if !values.is_empty() {
        match st
            .engine
            .update_profile(&f.t, user, None, values, &meta)
            .await
        {
            Ok(()) => {}
            Err(EngineError::Invalid(msg)) => return Ok(again(StatusCode::BAD_REQUEST, &msg)),
            Err(e) => return Err(e.into()),
        }
    }
    let mut r = see_other(&crate::mfa::continue_url(&st, &f.t, f.areq.clone()));
    if !newly_skipped.is_empty() {
        let mut all = skipped(&req);
        all.extend(newly_skipped);
        all.sort();
        all.dedup();
        let _ = r.add_cookie(&tenant_cookie(
            SKIP_COOKIE,
            all.join("."),
            f.t.as_str(),
            st.secure_cookies,
        ));
    }
    Ok(r)
}
