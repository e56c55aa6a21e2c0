//! The shipped templates, and a sample context for each (admin previews, the tests, and
//! the check a tenant's template must pass before it is stored).

use minijinja::value::Value;

/// `(name, source)` of every template Tollgate renders. A tenant may replace any of them
/// but those in [`FIXED`].
pub const TEMPLATES: &[(&str, &str)] = &[
    ("head.html", include_str!("../templates/head.html")),
    ("layout.html", include_str!("../templates/layout.html")),
    ("switcher.html", include_str!("../templates/switcher.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("signup.html", include_str!("../templates/signup.html")),
    (
        "passkey-login.html",
        include_str!("../templates/passkey-login.html"),
    ),
    ("otp-code.html", include_str!("../templates/otp-code.html")),
    (
        "otp-email.html",
        include_str!("../templates/otp-email.html"),
    ),
    (
        "otp-phone.html",
        include_str!("../templates/otp-phone.html"),
    ),
    ("otp-link.html", include_str!("../templates/otp-link.html")),
    (
        "otp-notice.html",
        include_str!("../templates/otp-notice.html"),
    ),
    (
        "otp-contact.html",
        include_str!("../templates/otp-contact.html"),
    ),
    (
        "mfa-factor.html",
        include_str!("../templates/mfa-factor.html"),
    ),
    ("mfa-totp.html", include_str!("../templates/mfa-totp.html")),
    (
        "mfa-enrol.html",
        include_str!("../templates/mfa-enrol.html"),
    ),
    (
        "mfa-recovery.html",
        include_str!("../templates/mfa-recovery.html"),
    ),
    (
        "mfa-account.html",
        include_str!("../templates/mfa-account.html"),
    ),
    (
        "passkey-messages.html",
        include_str!("../templates/passkey-messages.html"),
    ),
    (
        "passkey-register.html",
        include_str!("../templates/passkey-register.html"),
    ),
    (
        "passkey-check.html",
        include_str!("../templates/passkey-check.html"),
    ),
    (
        "passkey-account.html",
        include_str!("../templates/passkey-account.html"),
    ),
    (
        "passkey-offer.html",
        include_str!("../templates/passkey-offer.html"),
    ),
];

/// Templates a tenant cannot replace: the document head (charset, the stylesheet and
/// favicon links) is the same for every look, and carries what the CSP relies on; the
/// parts that load the shipped script are included, not rewritten.
pub const FIXED: &[&str] = &[
    "head.html",
    "passkey-login.html",
    "passkey-register.html",
    "passkey-check.html",
    "passkey-messages.html",
];

/// `(name, JSON context)`: data each template is previewed and checked with.
pub const SAMPLES: &[(&str, &str)] = &[
    ("head.html", r#"{"title": "Preview"}"#),
    ("layout.html", r#"{"title": "Preview", "body": "Preview"}"#),
    ("switcher.html", r#"{}"#),
    (
        "passkey-login.html",
        r#"{"csrf": "sample-csrf", "tx": "sample-tx"}"#,
    ),
    (
        "otp-code.html",
        r#"{"title": "Check your email", "intro": "If an account exists for asha@example.com, we sent it a 6-digit code. Enter the code here.", "action": "/acme/login/email/code", "csrf": "sample-csrf", "handle": "sample-handle", "method": null, "tx": "sample-tx", "new_password": false, "button": "Sign in", "error": "That code is not right."}"#,
    ),
    (
        "otp-email.html",
        r#"{"title": "Reset your password", "intro": "Enter your account's email address.", "action": "/acme/password/forgot", "csrf": "sample-csrf", "tx": "sample-tx", "email": "asha@example.com", "error": null}"#,
    ),
    (
        "otp-phone.html",
        r#"{"title": "Sign in with your phone", "intro": "We will send a code to the mobile number on your account.", "action": "/acme/login/phone", "csrf": "sample-csrf", "tx": "sample-tx", "phone": "+91 98765 43210", "error": "That is not a mobile number."}"#,
    ),
    (
        "otp-link.html",
        r#"{"title": "Choose a new password", "intro": "Choose the new password for your account.", "action": "/acme/password/reset", "csrf": "sample-csrf", "token": "sample-token", "new_password": true, "button": "Set password and sign in", "error": null}"#,
    ),
    (
        "otp-notice.html",
        r#"{"title": "Email address confirmed", "message": "Thank you: your email address is confirmed.", "link": "/acme/account", "link_text": "Go to your account"}"#,
    ),
    (
        "otp-contact.html",
        r#"{"email_verified": false, "csrf": "sample-csrf"}"#,
    ),
    (
        "mfa-factor.html",
        r#"{"factors": ["totp", "passkey", "email", "phone", "recovery_codes"], "handle": "sample-handle", "tx": "sample-tx", "csrf": "sample-csrf", "error": "That code is not right."}"#,
    ),
    (
        "mfa-totp.html",
        r#"{"nested": false, "qr": "(QR code)", "secret": "JBSWY3DPEHPK3PXP", "action": "/acme/account/totp", "enrol": "sample-enrol", "handle": null, "tx": null, "csrf": "sample-csrf", "error": null}"#,
    ),
    (
        "mfa-enrol.html",
        r#"{"pending": "sample-handle", "tx": "sample-tx", "csrf": "sample-csrf", "totp": "(authenticator app)"}"#,
    ),
    (
        "mfa-recovery.html",
        r#"{"codes": ["k3f9-2mxa", "p7qd-81zc"], "next": "/acme/account"}"#,
    ),
    (
        "mfa-account.html",
        r#"{"factors": [{"id": "f1", "name": "Authenticator app", "label": "Phone", "left": null}, {"id": "f2", "name": "Recovery code", "label": "", "left": 9}], "csrf": "sample-csrf"}"#,
    ),
    ("passkey-messages.html", r#"{}"#),
    (
        "passkey-register.html",
        r#"{"csrf": "sample-csrf", "pending": null, "tx": "sample-tx"}"#,
    ),
    (
        "passkey-check.html",
        r#"{"route": "factor", "csrf": "sample-csrf", "pending": "sample-handle", "tx": "sample-tx"}"#,
    ),
    (
        "passkey-account.html",
        r#"{"rows": [{"id": "p1", "label": "Laptop"}], "can_add": true, "csrf": "sample-csrf"}"#,
    ),
    (
        "passkey-offer.html",
        r#"{"csrf": "sample-csrf", "tx": "sample-tx", "next": "/acme/account"}"#,
    ),
    (
        "error.html",
        r#"{"message": "This link has expired. Please start again."}"#,
    ),
    (
        "login.html",
        r#"{"tx": "sample-tx", "csrf": "sample-csrf", "email": "asha@example.com", "error": "Incorrect email or password.", "passkeys": true}"#,
    ),
    (
        "signup.html",
        r#"{"tx": "sample-tx", "csrf": "sample-csrf", "email": "asha@example.com", "name": "Asha", "error": null}"#,
    ),
];

/// The sample context of a template, if it has one.
pub(crate) fn sample(name: &str) -> Option<Value> {
    let (_, json) = SAMPLES.iter().find(|(n, _)| *n == name)?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    Some(Value::from(minijinja::value::Serde(&v)))
}
