//! The Aadhaar verification pages: the upload form and the result, which says what was
//! checked and the little that was kept.

use tollgate_engine::ids::TenantId;
use tollgate_engine::model::Tenant;
use tollgate_engine::model::verification::{NameMatch, Verification};

use crate::web::view::{View, context};

/// What the form shows again after a refusal: the message, and the optional fields as
/// typed (never the share code or the file).
#[derive(Default)]
pub struct AadhaarForm<'a> {
    /// The refusal, in the page's language.
    pub error: Option<String>,
    /// The mobile number typed.
    pub mobile: &'a str,
    /// The email typed.
    pub email: &'a str,
}

/// The upload form.
pub fn form(v: &View, t: &TenantId, csrf: &str, f: &AadhaarForm<'_>) -> String {
    v.render(
        "verify-aadhaar.html",
        context! {
            action => format!("/{t}/verify/aadhaar"),
            csrf => csrf,
            error => f.error.as_deref(),
            mobile => f.mobile,
            email => f.email,
            back => format!("/{t}/account"),
        },
    )
}

/// The account page's link to the verification page, when the tenant has Aadhaar
/// verification set up (a UIDAI certificate configured); nothing otherwise.
pub fn account_section(v: &View, tenant: &Tenant) -> String {
    if tenant.verification.aadhaar.certificates.is_empty() {
        return String::new();
    }
    v.render(
        "verify-account.html",
        context! { href => format!("/{}/verify/aadhaar", tenant.id) },
    )
}

/// The message of a refusal code, in the page's language (`kyc-error-<code>`), or the
/// generic one when the catalogue has none for it.
pub fn refusal(v: &View, code: &str) -> String {
    let id = format!("kyc-error-{code}");
    let text = v.t(&id);
    if text == id || text.is_empty() {
        v.t("kyc-error-generic")
    } else {
        text
    }
}

/// The result: what was checked, and what was kept.
pub fn result(v: &View, t: &TenantId, verification: &Verification) -> String {
    let name = match verification.name_match {
        NameMatch::Match => "kyc-result-name-match",
        NameMatch::Partial => "kyc-result-name-partial",
        NameMatch::None => "kyc-result-name-none",
    };
    let contact = |checked: Option<bool>, yes: &str, no: &str| match checked {
        Some(true) => Some(v.t(yes)),
        Some(false) => Some(v.t(no)),
        None => None,
    };
    v.render(
        "verify-result.html",
        context! {
            name_match => verification.name_match.as_str(),
            name => v.t(name),
            mobile => contact(verification.mobile_match, "kyc-result-mobile-yes", "kyc-result-mobile-no"),
            email => contact(verification.email_match, "kyc-result-email-yes", "kyc-result-email-no"),
            last4 => verification.aadhaar_last4.as_deref().unwrap_or(""),
            dob_kept => verification.dob_hash.is_some(),
            back => format!("/{t}/account"),
        },
    )
}
