//! The account portal's pages: the account page's self-service sections (profile,
//! sign-in email, phone, password, language, privacy choices, deletion), the one-form pages
//! shown again after a failed action, "confirm it's you", the review after a password
//! reset, and the step after sign-in that asks for required consent purposes and profile
//! fields. Each is a template (`gateway/ui/templates/portal-*.html`, `complete-step.html`)
//! rendered through [`View`] in the user's language: their saved one (the `locale` profile
//! field) unless the page's switcher or the app chose another.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use tollgate_engine::account::portal::DELETE_WORD;
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::privacy::{PROFILE_FIELDS, ProfileRule};
use tollgate_engine::model::privacy::{Purpose, PurposeStatus};
use tollgate_engine::model::{FactorKind, Tenant, User};

use crate::state::AppState;
use crate::web::csrf::view_form_page;
use crate::web::error::{ErrorText, PageError, say, view_error_page};
use crate::web::view::{Value, View, context};

pub use crate::web::view::{LOCALE_FIELD, saved_locale};

/// The view of a signed-in user's page: their saved language counts (after the switcher).
pub fn user_view(st: &AppState, req: &HttpRequest, tenant: &Tenant, user: &User) -> View {
    View::for_user(st, req, tenant, user)
}

/// The signed-in user's record and the view of their page.
pub async fn signed_in(
    st: &AppState,
    req: &HttpRequest,
    tenant: &Tenant,
    user: &UserId,
) -> Result<(User, View), PageError> {
    let u = st
        .engine
        .user(&tenant.id, user)
        .await?
        .ok_or(PageError::bad_request_id("portal-account-gone"))?;
    let v = user_view(st, req, tenant, &u);
    Ok((u, v))
}

/// The language tag of the view's catalogue that `wanted` names (`hi-IN` is `hi` where
/// only `hi` is offered), if any: what a language form may save.
pub fn offered_language<'a>(v: &'a View, wanted: &str) -> Option<&'a str> {
    let wanted = wanted.trim();
    if wanted.is_empty() || wanted.len() > 35 {
        return None;
    }
    tollgate_i18n::negotiate::best([wanted], v.languages())
}

/// A profile field's label in the page's language.
pub fn field_label(v: &View, field: &str) -> String {
    let id = format!("portal-field-{field}");
    if PROFILE_FIELDS.iter().any(|(f, _)| *f == field) && v.messages().has(&id) {
        v.t(&id)
    } else {
        v.t("portal-field-other")
    }
}

/// An engine refusal shown on a portal page, in the page's language: the profile and
/// deletion texts the portal's actions raise (some name a field), else the shared ones
/// ([`say`]). Unknown texts show as they are.
pub fn engine_text(v: &View, msg: &str) -> String {
    const VALUE: &str = " is too long or holds characters that cannot be shown.";
    if let Some(label) = msg.strip_suffix(VALUE) {
        let field = PROFILE_FIELDS
            .iter()
            .find(|(_, l)| *l == label)
            .map_or("name", |(f, _)| *f);
        let label = match field {
            "name" => v.t("name-label"),
            f => field_label(v, f),
        };
        return v.tr("portal-err-field-value", &[("field", label.into())]);
    }
    if let Some(field) = msg
        .strip_prefix("Unknown profile field ")
        .and_then(|f| f.strip_suffix('.'))
    {
        return v.tr("portal-err-unknown-field", &[("field", field.into())]);
    }
    let id = match msg {
        "Enter the date of birth as YYYY-MM-DD." => "portal-err-birthdate",
        "Your password is not correct. Your account was not deleted." => {
            "portal-err-delete-password"
        }
        "the password must have at least 8 characters" => "portal-err-password-short",
        "the password must have at most 1024 bytes" => "portal-err-password-long",
        _ if msg == format!("Type {DELETE_WORD} to confirm. Your account was not deleted.") => {
            return v.tr("portal-err-delete-word", &[("word", DELETE_WORD.into())]);
        }
        _ => return say(v.messages(), msg),
    };
    v.t(id)
}

/// The page saying `id` (a catalogue message) in the view's language.
pub fn error(v: &View, status: StatusCode, id: &'static str) -> HttpResponse {
    view_error_page(v, status, &ErrorText::id(id))
}

/// The page saying engine refusal `msg` (see [`engine_text`]) in the view's language.
pub fn error_text(v: &View, status: StatusCode, msg: &str) -> HttpResponse {
    view_error_page(v, status, &ErrorText::Text(engine_text(v, msg)))
}

/// One profile field of a form.
#[derive(Debug, Serialize)]
pub struct FieldRow {
    field: String,
    label: String,
    value: String,
    required: bool,
}

impl FieldRow {
    /// Field `field` with its label in the page's language and `value`.
    pub fn new(v: &View, field: &str, value: &str, required: bool) -> Self {
        Self {
            field: field.to_owned(),
            label: field_label(v, field),
            value: value.to_owned(),
            required,
        }
    }
}

/// The fields the profile form shows: the tenant's profiling fields, then any others the
/// user has; not the language, which has its own setting.
fn profile_fields(rules: &[ProfileRule], user: &User) -> Vec<String> {
    let mut out: Vec<String> = rules
        .iter()
        .map(|r| r.field.clone())
        .filter(|f| f != LOCALE_FIELD)
        .collect();
    for (f, _) in PROFILE_FIELDS {
        if *f != LOCALE_FIELD && user.profile.contains_key(*f) && !out.iter().any(|o| o == f) {
            out.push((*f).to_owned());
        }
    }
    out
}

/// A consent purpose on the account page.
#[derive(Debug, Serialize)]
struct PurposeRow<'a> {
    id: &'a str,
    description: &'a str,
    version: u32,
    /// `agreed`, `agreed-earlier`, `refused` or `not-asked` (a `portal-purpose-…` message).
    state: &'static str,
    granted: bool,
    /// Required and granted: it cannot be withdrawn here.
    needed: bool,
    /// The itemised notice (DPDP Rule 3), shown before the user agrees here.
    notice: Option<crate::pages::notices::NoticeRow<'a>>,
}

/// What the account page's self-service sections need.
pub struct AccountPortal {
    user: User,
    fields: Vec<String>,
    purposes: Vec<PurposeStatus>,
    phone: Option<String>,
    /// The tenant's itemised notices.
    notices: tollgate_engine::model::notice::NoticeSettings,
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
            notices: settings.notices.clone(),
        })
    }

    /// The sections above the sessions: profile, sign-in email, phone, password,
    /// language, privacy choices.
    pub fn render_top(&self, v: &View, csrf: &str) -> String {
        let u = &self.user;
        let fields: Vec<FieldRow> = self
            .fields
            .iter()
            .map(|f| {
                let value = u.profile.get(f).map(String::as_str).unwrap_or("");
                FieldRow::new(v, f, value, false)
            })
            .collect();
        let purposes: Vec<PurposeRow> = self
            .purposes
            .iter()
            .map(|s| {
                let granted = s.granted_now();
                PurposeRow {
                    id: &s.purpose.id,
                    description: &s.purpose.description,
                    version: s.purpose.version,
                    state: match (&s.grant, granted) {
                        (_, true) => "agreed",
                        (Some(g), false) if g.granted => "agreed-earlier",
                        (Some(_), false) => "refused",
                        (None, false) => "not-asked",
                    },
                    granted,
                    needed: s.purpose.required && granted,
                    notice: crate::pages::notices::itemised(&self.notices, &s.purpose.id, v.lang()),
                }
            })
            .collect();
        let saved_language = saved_locale(u).and_then(|l| offered_language(v, l));
        v.render(
            "portal-account.html",
            context! {
                csrf,
                name => u.name.as_deref().unwrap_or(""),
                fields => Value::from(minijinja::value::Serde(&fields)),
                email => u.email.as_str(),
                has_password => u.password_hash.is_some(),
                phone => self.phone.as_deref(),
                saved_language,
                purposes => Value::from(minijinja::value::Serde(&purposes)),
            },
        )
    }

    /// The last section: deleting the account.
    pub fn render_bottom(v: &View) -> String {
        v.render("portal-account-delete.html", context! {})
    }
}

/// An account form that has a page of its own when it must be shown again.
#[derive(Clone, Copy, Debug)]
pub enum AccountForm {
    /// The name and profile fields.
    Profile,
    /// A new sign-in email.
    Email,
    /// A new password.
    Password,
    /// The saved language.
    Language,
}

impl AccountForm {
    /// Its fields' template (`portal-{name}-fields.html`), where it posts under
    /// `/{tenant}/account/`, its title and its button.
    fn parts(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::Profile => (
                "profile",
                "profile",
                "portal-profile-edit-title",
                "portal-profile-save",
            ),
            Self::Email => (
                "email",
                "email/change",
                "portal-email-change-title",
                "portal-email-change",
            ),
            Self::Password => (
                "password",
                "password",
                "portal-password-change-title",
                "portal-password-change",
            ),
            Self::Language => (
                "language",
                "language",
                "portal-language-title",
                "portal-language-save",
            ),
        }
    }
}

/// An account form shown again with `error` after a failed action; `fields` is what its
/// fields' template reads (values typed, whether the account has a password...).
#[allow(clippy::too_many_arguments)]
pub fn form_again(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    status: StatusCode,
    form: AccountForm,
    fields: Value,
    error: &str,
) -> HttpResponse {
    let (name, action, title, button) = form.parts();
    view_form_page(st, req, v, t, status, title, |csrf| {
        let ctx = context! {
            form => name, action, csrf, error,
            title => v.t(title),
            button => v.t(button),
        };
        v.render(
            "portal-form.html",
            minijinja::value::merge_maps([ctx, fields]),
        )
    })
}

/// The page that asks to confirm deleting the account.
pub fn delete(v: &View, has_password: bool, csrf: &str, error: Option<&str>) -> String {
    v.render(
        "portal-delete.html",
        context! { has_password, csrf, error, word => DELETE_WORD },
    )
}

/// After the account was deleted.
pub fn deleted(v: &View) -> String {
    v.render("portal-deleted.html", context! {})
}

/// After a password change.
pub fn password_changed(v: &View) -> String {
    v.render("portal-password-changed.html", context! {})
}

/// One purpose to agree to in the step after sign-in.
#[derive(Debug, Serialize)]
struct AgreeRow<'a> {
    id: &'a str,
    description: &'a str,
    version: u32,
    /// The itemised notice (DPDP Rule 3), when the tenant wrote one.
    notice: Option<crate::pages::notices::NoticeRow<'a>>,
}

/// The step after sign-in: the required purposes to agree to and the profile fields to
/// fill in (optional ones may be skipped; the language is chosen from the catalogue's).
#[allow(
    clippy::too_many_arguments,
    reason = "the step's parts, as the handler has them"
)]
pub fn complete(
    v: &View,
    purposes: &[Purpose],
    notices: &tollgate_engine::model::notice::NoticeSettings,
    fields: &[ProfileRule],
    tx: Option<&str>,
    csrf: &str,
    error: Option<&str>,
) -> String {
    let skip = purposes.is_empty() && fields.iter().all(|r| !r.required);
    let purposes: Vec<AgreeRow> = purposes
        .iter()
        .map(|p| AgreeRow {
            id: &p.id,
            description: &p.description,
            version: p.version,
            notice: crate::pages::notices::itemised(notices, &p.id, v.lang()),
        })
        .collect();
    let fields: Vec<FieldRow> = fields
        .iter()
        .map(|r| FieldRow::new(v, &r.field, "", r.required))
        .collect();
    v.render(
        "complete-step.html",
        context! {
            purposes => Value::from(minijinja::value::Serde(&purposes)),
            fields => Value::from(minijinja::value::Serde(&fields)),
            tx, csrf, error, skip,
        },
    )
}

/// "Confirm it's you": the password, or another way, before a credential change.
pub fn reauth(
    v: &View,
    next: &str,
    has_password: bool,
    has_factors: bool,
    csrf: &str,
    error: Option<&str>,
) -> String {
    v.render(
        "portal-reauth.html",
        context! { next, has_password, has_factors, csrf, error },
    )
}

/// After a password reset: the account's other ways to sign in (`factors`), with an offer
/// to remove them all (someone who had the account may have added their own). `tx` is the
/// sign-in in progress, if any.
pub async fn reset_review_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    factors: &[FactorKind],
    handle: &str,
    tx: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let tenant = st.engine.tenant(t).await?;
    let areq = tx.and_then(|tx| st.engine.oauth().open_request(t, tx));
    // It answers the reset form, so the switcher goes to the sign-in page.
    let keep = tx
        .map(|tx| vec![("tx".to_owned(), tx.to_owned())])
        .unwrap_or_default();
    let v = View::new(st, req, &tenant, areq.as_ref()).switch_to(format!("/{t}/login"), keep);
    let methods: Vec<String> = factors
        .iter()
        .map(|k| crate::pages::mfa::factor_name(&v, k.as_str()))
        .collect();
    Ok(view_form_page(
        st,
        req,
        &v,
        t,
        StatusCode::OK,
        "portal-review-title",
        |csrf| {
            v.render(
                "portal-reset-review.html",
                context! { methods, handle, tx, csrf },
            )
        },
    ))
}
