//! Second factors: the step after the first factor, enrolling an authenticator app or a
//! passkey during sign-in or from the account page, recovery codes, and the account
//! page's two-step verification section. Templates `mfa-*.html`, through [`View`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::FactorKind;
use tollgate_engine::signin::mfa::TotpEnrolment;

use crate::pages::otp::shown;
use crate::state::AppState;
use crate::web::csrf::view_form_page;
use crate::web::error::PageError;
use crate::web::view::{Value, View, context};

/// The user's enrolled factors on the account page (metadata only).
pub struct FactorRow {
    /// Id, for removal.
    pub id: String,
    /// What kind.
    pub kind: &'static str,
    /// The user's label.
    pub label: String,
    /// Unused recovery codes, for that kind.
    pub left: Option<usize>,
}

/// The message id that names a factor kind.
fn factor_name_id(kind: &str) -> &'static str {
    match kind {
        "totp" => "mfa-kind-totp",
        "passkey" => "mfa-kind-passkey",
        "email" => "mfa-kind-email",
        "phone" => "mfa-kind-phone",
        "recovery_codes" => "mfa-kind-recovery_codes",
        _ => "mfa-kind-other",
    }
}

/// A factor kind as the pages name it, in the page's language.
pub fn factor_name(v: &View, kind: &str) -> String {
    v.t(factor_name_id(kind))
}

/// The kinds the second-factor page has a form for, in the order given.
fn kinds(factors: &[FactorKind]) -> Vec<&'static str> {
    factors
        .iter()
        .map(|k| k.as_str())
        .filter(|k| {
            matches!(
                *k,
                "totp" | "passkey" | "email" | "phone" | "recovery_codes"
            )
        })
        .collect()
}

/// The second-factor page of a pending sign-in or step-up: a code from one of
/// `factors`, or a passkey.
#[allow(clippy::too_many_arguments)]
pub fn factor_page(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    status: StatusCode,
    handle: &str,
    tx: Option<&str>,
    factors: &[FactorKind],
    error: Option<&str>,
) -> HttpResponse {
    view_form_page(st, req, v, t, status, "mfa-title", |csrf| {
        v.render(
            "mfa-factor.html",
            context! {
                factors => kinds(factors),
                handle => handle,
                tx => tx,
                csrf => csrf,
                error => shown(v, error),
            },
        )
    })
}

/// Where the first code of an authenticator app goes: `action` receives it with
/// `handle` (a pending sign-in, when enrolling during sign-in).
pub struct TotpForm<'a> {
    /// The form's action.
    pub action: &'a str,
    /// The enrolment: secret, QR code, handle.
    pub enrolment: &'a TotpEnrolment,
    /// The pending sign-in, when enrolling during one.
    pub handle: Option<&'a str>,
    /// The authorization request in progress.
    pub tx: Option<&'a str>,
}

/// Enrolling an authenticator app: the QR code, the secret for typing in, and a field for
/// the first code. `nested` puts it under another page's heading.
fn enrol_totp(v: &View, f: &TotpForm<'_>, csrf: &str, error: Option<&str>, nested: bool) -> String {
    // The SVG is the qrcode crate's rendering of the otpauth URI, made by the engine: it
    // holds no text from a request (only path data and colours), so it is passed as
    // markup rather than escaped.
    let qr = Value::from_safe_string(f.enrolment.qr_svg.clone());
    v.render(
        "mfa-totp.html",
        context! {
            nested => nested,
            qr => qr,
            secret => &f.enrolment.secret_base32,
            action => f.action,
            enrol => &f.enrolment.handle,
            handle => f.handle,
            tx => f.tx,
            csrf => csrf,
            error => shown(v, error),
        },
    )
}

/// The page that enrols an authenticator app.
pub fn totp_enrol_page(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    status: StatusCode,
    f: &TotpForm<'_>,
    error: Option<&str>,
) -> HttpResponse {
    view_form_page(st, req, v, t, status, "mfa-totp-title", |csrf| {
        enrol_totp(v, f, csrf, error, false)
    })
}

/// The page of a sign-in that must enrol a second factor and may enrol a passkey: the
/// passkey first and, when the policy also allows it, the authenticator app below.
pub fn passkey_enrol_page(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    pending: &str,
    tx: Option<&str>,
    totp: Option<&TotpEnrolment>,
) -> HttpResponse {
    view_form_page(st, req, v, t, StatusCode::OK, "mfa-enrol-title", |csrf| {
        let action = format!("/{t}/login/enrol");
        let app = totp.map(|e| {
            let f = TotpForm {
                action: &action,
                enrolment: e,
                handle: Some(pending),
                tx,
            };
            Value::from_safe_string(enrol_totp(v, &f, csrf, None, true))
        });
        v.render(
            "mfa-enrol.html",
            context! { pending => pending, tx => tx, csrf => csrf, totp => app },
        )
    })
}

/// Recovery codes, shown once, with a link onwards.
pub fn recovery_codes(v: &View, codes: &[String], next: &str) -> String {
    v.render(
        "mfa-recovery.html",
        context! { codes => codes.to_vec(), next => next },
    )
}

/// The account page's two-step verification section.
pub fn account_factors(v: &View, factors: &[FactorRow], csrf: &str) -> String {
    let rows: Vec<Value> = factors
        .iter()
        .map(|f| {
            context! {
                id => &f.id,
                name => factor_name(v, f.kind),
                label => &f.label,
                left => f.left,
            }
        })
        .collect();
    v.render(
        "mfa-account.html",
        context! { factors => rows, csrf => csrf },
    )
}

/// The account page's list of factors.
pub async fn factor_rows(
    st: &AppState,
    t: &TenantId,
    user: &UserId,
) -> Result<Vec<FactorRow>, PageError> {
    Ok(st
        .engine
        .signin()
        .factors(t, user)
        .await?
        .into_iter()
        // Passkeys have their own section (they also sign in alone).
        .filter(|f| f.kind != FactorKind::Passkey)
        .map(|f| {
            let left = match f.kind {
                FactorKind::RecoveryCodes => {
                    Some(f.data["hashes"].as_array().map(Vec::len).unwrap_or(0))
                }
                _ => None,
            };
            FactorRow {
                id: f.id,
                kind: f.kind.as_str(),
                label: f.label,
                left,
            }
        })
        .collect())
}
