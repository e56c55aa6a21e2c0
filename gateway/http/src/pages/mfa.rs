//! The HTML of second factors: the step after the first factor, enrolling an
//! authenticator app or a passkey during sign-in or from the account page, recovery
//! codes, and the account page's two-step verification section.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::FactorKind;
use tollgate_engine::signin::mfa::TotpEnrolment;

use crate::pages::{otp, passkeys};
use crate::state::AppState;
use crate::web::csrf::form_page;
use crate::web::error::PageError;
use crate::web::html::{error_block, esc, hidden};

/// The user's enrolled factors on the account page (metadata only).
pub struct FactorRow {
    /// Id, for removal.
    pub id: String,
    /// What kind.
    pub kind: &'static str,
    /// The user's label.
    pub label: String,
    /// Extra, e.g. "7 codes left".
    pub note: String,
}

/// A factor kind as the pages name it.
pub fn factor_name(kind: &str) -> &'static str {
    match kind {
        "totp" => "Authenticator app",
        "passkey" => "Passkey",
        "email" => "Code by email",
        "phone" => "Code by text message",
        "recovery_codes" => "Recovery code",
        _ => "Second factor",
    }
}

/// The second-factor step of a sign-in (or of a step-up): a code from one of `kinds`.
pub fn second_factor(
    tenant: &str,
    handle: &str,
    tx: Option<&str>,
    kinds: &[&str],
    csrf: &str,
    error: Option<&str>,
) -> String {
    let tx_field = tx.map(|t| hidden("tx", t)).unwrap_or_default();
    let mut forms = String::new();
    for kind in kinds {
        if *kind == "passkey" {
            forms.push_str(&passkeys::factor_block(tenant, csrf, handle, tx));
            continue;
        }
        let (label, input) = match *kind {
            "totp" => (
                "The 6-digit code from your authenticator app",
                "<input id=\"code-totp\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9 ]{6,7}\" required autofocus>",
            ),
            "recovery_codes" => (
                "One of your recovery codes",
                "<input id=\"code-recovery_codes\" name=\"code\" autocomplete=\"off\" required>",
            ),
            "email" | "phone" => {
                forms.push_str(&otp::send_factor_code(tenant, handle, tx, kind, csrf));
                otp::factor_code_input(kind)
            }
            _ => continue,
        };
        forms.push_str(&format!(
            "<form method=\"post\" action=\"/{t}/login/factor\">{tx_field}{csrf}{handle}{method}\
<label for=\"code-{kind}\">{label}</label>{input}<button type=\"submit\">Verify</button></form>",
            t = esc(tenant),
            csrf = hidden("csrf", csrf),
            handle = hidden("handle", handle),
            method = hidden("method", kind),
            label = esc(label),
        ));
    }
    format!(
        "<h1>Confirm it is you</h1><p>Your account is protected with a second step. Use one of these:</p>{err}{forms}",
        err = error_block(error),
    )
}

/// Enrolling an authenticator app: the QR code (rendered here), the secret for typing in,
/// and a field for the first code. `action` receives it with `handle` (a pending sign-in,
/// when enrolling during sign-in) and `enrol`.
#[allow(clippy::too_many_arguments)]
pub fn enrol_totp(
    action: &str,
    qr_svg: &str,
    secret: &str,
    enrol: &str,
    handle: Option<&str>,
    tx: Option<&str>,
    csrf: &str,
    error: Option<&str>,
) -> String {
    // The SVG comes from the QR encoder here, not from input: it holds no user text.
    format!(
        "<h1>Set up an authenticator app</h1>{err}<p>Scan this code with your authenticator app.</p>\
<div class=\"qr\">{qr_svg}</div><p>Or enter this key by hand: <code id=\"totp-secret\">{secret}</code></p>\
<form method=\"post\" action=\"{action}\">{csrf}{enrol}{handle}{tx}\
<label for=\"label\">Name it <span class=\"muted\">(optional)</span></label><input id=\"label\" name=\"label\" maxlength=\"60\">\
<label for=\"code\">Then type the 6-digit code it shows</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required>\
<button type=\"submit\">Turn on</button></form>",
        err = error_block(error),
        secret = esc(secret),
        action = esc(action),
        csrf = hidden("csrf", csrf),
        enrol = hidden("enrol", enrol),
        handle = handle.map(|h| hidden("handle", h)).unwrap_or_default(),
        tx = tx.map(|t| hidden("tx", t)).unwrap_or_default(),
    )
}

/// Recovery codes, shown once.
pub fn recovery_codes(codes: &[String], continue_url: &str) -> String {
    let items: String = codes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>", esc(c)))
        .collect();
    format!(
        "<h1>Save your recovery codes</h1><p>Each code signs you in once if you lose your second factor. \
Keep them somewhere safe: they are not shown again.</p><ul class=\"codes\">{items}</ul>\
<p><a class=\"button\" href=\"{url}\">Continue</a></p>",
        url = esc(continue_url),
    )
}

/// The account page's two-step verification section.
pub fn account_factors(tenant: &str, factors: &[FactorRow], csrf: &str) -> String {
    let t = esc(tenant);
    let rows: String = factors
        .iter()
        .map(|f| {
            format!(
                "<li><strong>{name}</strong> {label} <span class=\"muted\">{note}</span>\
<form method=\"post\" action=\"/{t}/account/factors/remove\" class=\"inline\">{csrf}{id}\
<button type=\"submit\" class=\"secondary\">Remove</button></form></li>",
                name = factor_name(f.kind),
                label = esc(&f.label),
                note = esc(&f.note),
                csrf = hidden("csrf", csrf),
                id = hidden("id", &f.id),
            )
        })
        .collect();
    let list = if factors.is_empty() {
        "<p class=\"muted\">No second factor yet.</p>".to_owned()
    } else {
        format!("<ul class=\"factors\">{rows}</ul>")
    };
    format!(
        "<h2>Two-step verification</h2>{list}<p><a href=\"/{t}/account/totp\">Add an authenticator app</a></p>\
<form method=\"post\" action=\"/{t}/account/recovery-codes\">{csrf}<button type=\"submit\" class=\"secondary\">New recovery codes</button></form>",
        csrf = hidden("csrf", csrf),
    )
}

fn kinds(factors: &[FactorKind]) -> Vec<&'static str> {
    factors.iter().map(|k| k.as_str()).collect()
}

/// The second-factor page of a pending sign-in or step-up.
#[allow(clippy::too_many_arguments)]
pub fn factor_page(
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
        second_factor(t.as_str(), handle, tx, &kinds(factors), csrf, error)
    })
}

/// The page that enrols an authenticator app: `action` receives the first code.
#[allow(clippy::too_many_arguments)]
pub fn totp_enrol_page(
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
        enrol_totp(
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

/// The page of a sign-in that must enrol a second factor and may enrol a passkey: the
/// passkey first and, when the policy also allows it, the authenticator app below.
pub fn passkey_enrol_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    pending: &str,
    tx: Option<&str>,
    totp: Option<&TotpEnrolment>,
) -> HttpResponse {
    form_page(st, req, t, StatusCode::OK, "Add a second step", |csrf| {
        let app = totp
            .map(|e| {
                format!(
                    "<h2>Or use an authenticator app</h2>{}",
                    enrol_totp(
                        &format!("/{t}/login/enrol"),
                        &e.qr_svg,
                        &e.secret_base32,
                        &e.handle,
                        Some(pending),
                        tx,
                        csrf,
                        None,
                    )
                )
            })
            .unwrap_or_default();
        format!(
            "<h1>Add a second step</h1><p>This organisation requires a second step when you sign in. \
Add a passkey: your fingerprint, face or screen lock will confirm it is you.</p>{block}{app}",
            block = passkeys::register_block(t.as_str(), csrf, Some(pending), tx, "Add a passkey"),
        )
    })
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
