//! The HTML of the account portal: the account page's self-service sections (profile,
//! sign-in email, phone, password, privacy choices, deletion), the one-form pages shown
//! again after a failed action, and the step after sign-in that asks for required
//! consent purposes and profile fields.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tollgate_engine::account::portal::DELETE_WORD;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::User;
use tollgate_engine::model::privacy::{PROFILE_FIELDS, ProfileRule, field_label};
use tollgate_engine::model::privacy::{Purpose, PurposeStatus};

use crate::state::AppState;
use crate::web::csrf::form_page;
use crate::web::error::PageError;
use crate::web::html::{error_block, esc, hidden};

/// A labelled input.
pub fn input(id: &str, name: &str, label: &str, value: &str, kind: &str, extra: &str) -> String {
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
pub struct AccountPortal {
    user: User,
    fields: Vec<String>,
    purposes: Vec<PurposeStatus>,
    phone: Option<String>,
}

impl AccountPortal {
    /// Loads what the section shows (here, because rendering runs in a synchronous closure).
    pub async fn load(st: &AppState, t: &TenantId, user: &User) -> Result<Self, PageError> {
        let settings = st.engine.account().privacy_settings(t).await?;
        let purposes = st.engine.account().purpose_statuses(t, &user.id).await?;
        let phone = st.engine.account().masked_phone(t, &user.id).await?;
        Ok(Self {
            fields: profile_fields(&settings.profile_fields, user),
            user: user.clone(),
            purposes,
            phone,
        })
    }

    /// The sections above the sessions: profile, sign-in email, phone, password,
    /// privacy choices.
    pub fn render_top(&self, tenant: &str, csrf: &str) -> String {
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
    pub fn render_bottom(tenant: &str) -> String {
        format!(
            "<section id=\"delete\"><h2>Delete your account</h2><p class=\"muted\">Signs you out everywhere and removes your data.</p>\
<p><a href=\"/{}/account/delete\">Delete my account</a></p></section>",
            esc(tenant)
        )
    }
}

/// The current password, asked before an email change (for accounts that have one).
pub fn email_password(has_password: bool) -> String {
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

/// The password form's fields: the current password (for accounts that have one) and the new one.
pub fn password_fields(has_password: bool) -> String {
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
pub fn form_again(
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
            err = error_block(Some(error)),
            csrf = hidden("csrf", csrf),
            button = esc(button),
        )
    })
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

/// The page that asks to confirm deleting the account.
pub fn delete_body(t: &TenantId, has_password: bool, csrf: &str, error: Option<&str>) -> String {
    format!(
        "<h1>Delete your account</h1>{err}<p>This signs you out on every device, removes the apps' access \
and your second factors, and deletes your personal data. It cannot be undone.</p>\
<form method=\"post\" action=\"/{t}/account/delete\">{csrf}{fields}\
<button type=\"submit\">Delete my account</button></form><p><a href=\"/{t}/account\">Keep my account</a></p>",
        err = error_block(error),
        csrf = hidden("csrf", csrf),
        fields = delete_form(has_password),
    )
}

/// After the account was deleted.
pub fn deleted(tenant_name: &str) -> String {
    format!(
        "<h1 id=\"deleted\">Your account was deleted</h1><p>You were signed out everywhere, and \
the apps you used no longer have access. {name} keeps no personal data of yours beyond what the law \
requires it to keep for a while.</p>",
        name = esc(tenant_name)
    )
}

/// The step after sign-in: the required purposes to agree to and the profile fields to
/// fill in (optional ones may be skipped).
pub fn complete_body(
    t: &TenantId,
    purposes: &[Purpose],
    fields: &[ProfileRule],
    tx: Option<&str>,
    csrf: &str,
    error: Option<&str>,
) -> String {
    // Decided before `purposes` and `fields` are shadowed by their HTML.
    let skip = if purposes.is_empty() && fields.iter().all(|r| !r.required) {
        "<button type=\"submit\" name=\"skip\" value=\"yes\" class=\"secondary\" formnovalidate>Not now</button>"
    } else {
        ""
    };
    let purposes: String = purposes
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
    let fields: String = fields
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
    format!(
        "<h1>One more step</h1>{err}<form method=\"post\" action=\"/{t}/account/complete\">{csrf}{tx}{purposes}{fields}\
<button type=\"submit\">Continue</button>{skip}</form>",
        err = error_block(error),
        csrf = hidden("csrf", csrf),
        tx = tx.map(|tx| hidden("tx", tx)).unwrap_or_default(),
    )
}

/// "Confirm it's you": the password, or another way, before a credential change.
pub fn reauth_body(
    tenant: &str,
    next: &str,
    has_password: bool,
    has_factors: bool,
    csrf: &str,
    error: Option<&str>,
) -> String {
    let t = esc(tenant);
    let password = match has_password {
        true => format!(
            "<form method=\"post\" action=\"/{t}/account/reauth\">{csrf}{next}{field}\
<button type=\"submit\">Continue</button></form>",
            csrf = hidden("csrf", csrf),
            next = hidden("next", next),
            field = input(
                "reauth-password",
                "password",
                "Password",
                "",
                "password",
                "autocomplete=\"current-password\" required autofocus",
            ),
        ),
        false => String::new(),
    };
    let factor = match has_factors {
        true => format!(
            "<p><a href=\"/{t}/stepup\">{verb} your second factor</a></p>",
            verb = if has_password { "Or use" } else { "Use" }
        ),
        false => String::new(),
    };
    format!(
        "<h1>Confirm it's you</h1><p>You signed in a while ago. Before you change how you sign \
in, confirm it's you.</p>{err}{password}{factor}\
<p class=\"muted\">Or <a href=\"/{t}/logout\">sign out</a> and sign in again.</p>",
        err = error_block(error),
    )
}

/// After a password reset: the account's other ways to sign in, with an offer to remove
/// them all (someone who had the account may have added their own).
pub fn reset_review_body(
    tenant: &str,
    methods: &[&str],
    handle: &str,
    tx: Option<&str>,
    csrf: &str,
) -> String {
    let t = esc(tenant);
    let items: String = methods
        .iter()
        .map(|m| format!("<li>{}</li>", esc(m)))
        .collect();
    format!(
        "<h1>Your password is changed</h1><p>Your account can also be signed in to with:</p>\
<ul>{items}</ul><p>If you did not add all of these yourself, remove them: you can add your \
own again from your account page.</p>\
<form method=\"post\" action=\"/{t}/password/reset/review\">{csrf}{handle}{tx}\
<button type=\"submit\" name=\"choice\" value=\"remove\">Remove them all</button> \
<button type=\"submit\" name=\"choice\" value=\"keep\" class=\"secondary\">Keep them</button>\
</form>",
        csrf = hidden("csrf", csrf),
        handle = hidden("handle", handle),
        tx = tx.map(|tx| hidden("tx", tx)).unwrap_or_default(),
    )
}
