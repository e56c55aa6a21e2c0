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
    ("scopes.html", include_str!("../templates/scopes.html")),
    ("consent.html", include_str!("../templates/consent.html")),
    ("sign-out.html", include_str!("../templates/sign-out.html")),
    (
        "signed-out.html",
        include_str!("../templates/signed-out.html"),
    ),
    (
        "logout-frames.html",
        include_str!("../templates/logout-frames.html"),
    ),
    ("account.html", include_str!("../templates/account.html")),
    (
        "account-sessions.html",
        include_str!("../templates/account-sessions.html"),
    ),
    (
        "account-apps.html",
        include_str!("../templates/account-apps.html"),
    ),
    (
        "device-code.html",
        include_str!("../templates/device-code.html"),
    ),
    (
        "device-confirm.html",
        include_str!("../templates/device-confirm.html"),
    ),
    (
        "device-done.html",
        include_str!("../templates/device-done.html"),
    ),
    (
        "saml-post.html",
        include_str!("../templates/saml-post.html"),
    ),
    (
        "fed-buttons.html",
        include_str!("../templates/fed-buttons.html"),
    ),
    (
        "fed-failed.html",
        include_str!("../templates/fed-failed.html"),
    ),
    ("fed-link.html", include_str!("../templates/fed-link.html")),
    (
        "fed-identities.html",
        include_str!("../templates/fed-identities.html"),
    ),
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
    // The account portal, the step after sign-in and the demo (PAGES-C).
    (
        "portal-account.html",
        include_str!("../templates/portal-account.html"),
    ),
    (
        "portal-account-delete.html",
        include_str!("../templates/portal-account-delete.html"),
    ),
    // Grievances (DPDP Rule 14): the signed-in user's page and one ticket.
    (
        "grievances.html",
        include_str!("../templates/grievances.html"),
    ),
    (
        "grievance.html",
        include_str!("../templates/grievance.html"),
    ),
    (
        "portal-profile-fields.html",
        include_str!("../templates/portal-profile-fields.html"),
    ),
    (
        "portal-email-fields.html",
        include_str!("../templates/portal-email-fields.html"),
    ),
    (
        "portal-password-fields.html",
        include_str!("../templates/portal-password-fields.html"),
    ),
    (
        "portal-language-fields.html",
        include_str!("../templates/portal-language-fields.html"),
    ),
    (
        "portal-form.html",
        include_str!("../templates/portal-form.html"),
    ),
    (
        "portal-delete.html",
        include_str!("../templates/portal-delete.html"),
    ),
    (
        "portal-deleted.html",
        include_str!("../templates/portal-deleted.html"),
    ),
    (
        "portal-password-changed.html",
        include_str!("../templates/portal-password-changed.html"),
    ),
    (
        "portal-reauth.html",
        include_str!("../templates/portal-reauth.html"),
    ),
    (
        "portal-reset-review.html",
        include_str!("../templates/portal-reset-review.html"),
    ),
    (
        "complete-step.html",
        include_str!("../templates/complete-step.html"),
    ),
    // The itemised notice of a purpose (DPDP Rule 3), part of the consent step
    // (complete-step.html) and of the account page.
    (
        "notice-itemised.html",
        include_str!("../templates/notice-itemised.html"),
    ),
    (
        "demo-signed-in.html",
        include_str!("../templates/demo-signed-in.html"),
    ),
    (
        "demo-signed-out.html",
        include_str!("../templates/demo-signed-out.html"),
    ),
    // Identity verification: the Aadhaar upload and its result.
    (
        "verify-aadhaar.html",
        include_str!("../templates/verify-aadhaar.html"),
    ),
    (
        "verify-result.html",
        include_str!("../templates/verify-result.html"),
    ),
    (
        "verify-account.html",
        include_str!("../templates/verify-account.html"),
    ),
    // Children's accounts (DPDP s. 9): the sign-up page's age fields, the pending page,
    // the parent's page and its answer.
    (
        "children_signup.html",
        include_str!("../templates/children_signup.html"),
    ),
    (
        "children_pending.html",
        include_str!("../templates/children_pending.html"),
    ),
    (
        "children_parent.html",
        include_str!("../templates/children_parent.html"),
    ),
    (
        "children_done.html",
        include_str!("../templates/children_done.html"),
    ),
    (
        "orgs_pick.html",
        include_str!("../templates/orgs_pick.html"),
    ),
    (
        "orgs_invitation.html",
        include_str!("../templates/orgs_invitation.html"),
    ),
];

/// Templates a tenant cannot replace: the document head (charset, the stylesheet and
/// favicon links) is the same for every look, and carries what the CSP relies on; the
/// parts that load the shipped script are included, not rewritten.
pub const FIXED: &[&str] = &[
    "head.html",
    "passkey-login.html",
    "logout-frames.html",
    "passkey-register.html",
    "passkey-check.html",
    "passkey-messages.html",
];

/// `(name, JSON context)`: data each template is previewed and checked with.
pub const SAMPLES: &[(&str, &str)] = &[
    ("head.html", r#"{"title": "Preview"}"#),
    (
        "layout.html",
        r#"{"title": "Preview", "body": "Preview", "contact": {"role": "data_protection_officer", "name": "Asha Rao", "email": "dpo@example.in", "phone": "+919876543210", "response_days": 30, "url": "https://example.in/privacy"}}"#,
    ),
    ("switcher.html", r#"{}"#),
    (
        "grievances.html",
        r#"{"action": "/acme/account/grievances", "csrf": "sample-csrf", "days": 30, "max": 4000, "error": "Write your grievance.", "text": "My <data>", "categories": [{"value": "access", "selected": true}, {"value": "other", "selected": false}], "tickets": [{"href": "/acme/account/grievances/abc", "category": "erasure", "status": "answered", "created_at": 1780000000, "due_at": 1782592000}]}"#,
    ),
    (
        "grievance.html",
        r#"{"id": "abc", "category": "access", "status": "answered", "created_at": 1780000000, "due_at": 1782592000, "entries": [{"by": "user", "at": 1780000000, "text": "Please send my data."}, {"by": "admin", "at": 1780086400, "text": "Sent."}, {"by": "admin", "at": 1780086400, "text": ""}]}"#,
    ),
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
        "scopes.html",
        r#"{"scopes": [{"before": "Know who you are (your account id)", "code": null, "after": ""}, {"before": "", "code": "read:orders", "after": " at Orders"}]}"#,
    ),
    (
        "consent.html",
        r#"{"client": "Acme Shop", "tx": "sample-tx", "csrf": "sample-csrf", "scopes": [{"before": "Know who you are (your account id)", "code": null, "after": ""}, {"before": "", "code": "read:orders", "after": " at Orders"}]}"#,
    ),
    (
        "sign-out.html",
        r#"{"csrf": "sample-csrf", "params": [["client_id", "sample-client"], ["state", "s1"]]}"#,
    ),
    ("signed-out.html", r#"{"next": "https://app.example/bye"}"#),
    (
        "logout-frames.html",
        r#"{"frames": ["https://app.example/logout?sid=s1"]}"#,
    ),
    (
        "account.html",
        r#"{"email": "asha@example.com", "name": "Asha", "csrf": "sample-csrf", "sections": ""}"#,
    ),
    (
        "account-sessions.html",
        r#"{"csrf": "sample-csrf", "others": true, "sessions": [{"sid": "s1", "signed_in": 1796648700, "methods": "pwd", "current": true}, {"sid": "s2", "signed_in": 1796562300, "methods": "pwd, otp", "current": false}]}"#,
    ),
    (
        "account-apps.html",
        r#"{"csrf": "sample-csrf", "apps": [{"name": "Acme Shop", "client_id": "sample-client", "scopes": "openid, email", "active": 2}]}"#,
    ),
    (
        "device-code.html",
        r#"{"csrf": "sample-csrf", "code": "BCDF-GHJK", "error": "That code is not right. Check the code on your device and try again."}"#,
    ),
    (
        "device-confirm.html",
        r#"{"client": "Living room TV", "user_code": "BCDF-GHJK", "tx": "sample-tx", "csrf": "sample-csrf", "scopes": [{"before": "Know who you are (your account id)", "code": null, "after": ""}, {"before": "", "code": "read:orders", "after": " at Orders"}]}"#,
    ),
    ("device-done.html", r#"{"approved": true}"#),
    (
        "saml-post.html",
        r#"{"action": "https://sp.example/acs", "saml_response": "PHNhbWxwOlJlc3BvbnNlLz4=", "relay_state": "r1"}"#,
    ),
    (
        "fed-buttons.html",
        r#"{"tx": "sample-tx", "connectors": [{"id": "google", "name": "Google"}]}"#,
    ),
    (
        "fed-failed.html",
        r#"{"message": "We could not sign you in with that provider. Please try again, or choose another way to sign in.", "back": "/acme/login"}"#,
    ),
    (
        "fed-link.html",
        r#"{"provider": "Google", "handle": "sample-handle", "csrf": "sample-csrf", "error": "That password is not correct.", "back": "/acme/login", "passkey": ""}"#,
    ),
    (
        "fed-identities.html",
        r#"{"csrf": "sample-csrf", "has_password": true, "can_unlink": true, "rows": [{"name": "Google", "email": "asha@example.com", "provider": "google", "key": "sample-key", "linked": 1796648700, "used": 1796648700}]}"#,
    ),
    (
        "login.html",
        r#"{"tx": "sample-tx", "csrf": "sample-csrf", "email": "asha@example.com", "error": "Incorrect email or password.", "passkeys": true, "sso": true}"#,
    ),
    (
        "signup.html",
        r#"{"tx": "sample-tx", "csrf": "sample-csrf", "email": "asha@example.com", "name": "Asha", "error": null, "age": {"birthdate": "", "parent_email": "", "parental": true, "age": 18}}"#,
    ),
    (
        "portal-account.html",
        r#"{"csrf": "sample-csrf", "name": "Asha Rao", "fields": [{"field": "given_name", "label": "First name", "value": "Asha", "required": false}], "email": "asha@example.com", "has_password": true, "phone": "+91********10", "saved_language": "hi", "purposes": [{"id": "news", "description": "Product news by email", "version": 2, "state": "agreed-earlier", "granted": false, "needed": false}, {"id": "terms", "description": "The terms of service", "version": 1, "state": "agreed", "granted": true, "needed": true}]}"#,
    ),
    ("portal-account-delete.html", r#"{}"#),
    (
        "portal-profile-fields.html",
        r#"{"name": "Asha Rao", "fields": [{"field": "given_name", "label": "First name", "value": "Asha", "required": false}], "error": null}"#,
    ),
    (
        "portal-email-fields.html",
        r#"{"new_email": "asha.new@example.com", "has_password": true, "error": null}"#,
    ),
    (
        "portal-password-fields.html",
        r#"{"has_password": true, "error": null}"#,
    ),
    (
        "portal-language-fields.html",
        r#"{"saved_language": "hi", "error": null}"#,
    ),
    (
        "portal-form.html",
        r#"{"form": "profile", "action": "profile", "title": "Edit your profile", "button": "Save profile", "csrf": "sample-csrf", "error": "Enter the date of birth as YYYY-MM-DD.", "name": "Asha Rao", "fields": [{"field": "birthdate", "label": "Date of birth (YYYY-MM-DD)", "value": "yesterday", "required": false}]}"#,
    ),
    (
        "portal-delete.html",
        r#"{"has_password": false, "csrf": "sample-csrf", "error": "Type DELETE to confirm. Your account was not deleted.", "word": "DELETE"}"#,
    ),
    ("portal-deleted.html", r#"{}"#),
    ("portal-password-changed.html", r#"{}"#),
    (
        "portal-reauth.html",
        r#"{"next": "/acme/account/delete", "has_password": true, "has_factors": true, "csrf": "sample-csrf", "error": "That password is not right. Try again, or use another way."}"#,
    ),
    (
        "portal-reset-review.html",
        r#"{"methods": ["Authenticator app", "Recovery code"], "handle": "sample-handle", "tx": "sample-tx", "csrf": "sample-csrf"}"#,
    ),
    (
        "complete-step.html",
        r#"{"purposes": [{"id": "terms", "description": "The terms of service", "version": 2, "notice": {"lang": "hi", "data_items": ["ईमेल पता", "मोबाइल नंबर"], "purpose": "खाता चलाने के लिए", "service": "ऑर्डर और डिलीवरी", "board_url": "https://www.dpb.gov.in/"}}], "fields": [{"field": "company", "label": "Company", "value": "", "required": true}, {"field": "locale", "label": "Language", "value": "", "required": false}], "tx": "sample-tx", "csrf": "sample-csrf", "error": "Please agree to each item to continue.", "skip": false}"#,
    ),
    (
        "notice-itemised.html",
        r#"{"p": {"id": "terms", "version": 2, "notice": {"lang": "en", "data_items": ["Email address", "Order history"], "purpose": "To run your account", "service": "Orders and delivery", "board_url": "https://www.dpb.gov.in/"}}}"#,
    ),
    (
        "demo-signed-in.html",
        r#"{"claims": "{\n  \"iss\": \"http://127.0.0.1:8080/demo\",\n  \"sub\": \"u1\"\n}", "scope": "openid email profile offline_access", "refresh": true, "logout": "/demo/logout?id_token_hint=sample"}"#,
    ),
    ("demo-signed-out.html", r#"{}"#),
    (
        "verify-aadhaar.html",
        r#"{"action": "/acme/verify/aadhaar", "csrf": "sample-csrf", "error": "The share code does not open this file.", "mobile": "98765 43210", "email": "asha@example.com", "back": "/acme/account"}"#,
    ),
    ("verify-account.html", r#"{"href": "/acme/verify/aadhaar"}"#),
    (
        "verify-result.html",
        r#"{"name_match": "partial", "name": "The name on it partly matches your profile.", "mobile": "The mobile number you typed is the one registered with Aadhaar.", "email": null, "last4": "7058", "dob_kept": false, "back": "/acme/account"}"#,
    ),
    (
        "orgs_pick.html",
        r#"{"client": "Acme Shop", "tx": "sample-tx", "csrf": "sample-csrf", "orgs": [{"id": "org_1", "display_name": "Acme Ltd"}, {"id": "org_2", "display_name": "Globex"}], "error": null}"#,
    ),
    (
        "orgs_invitation.html",
        r#"{"org": "Acme Ltd", "token": "sample-token", "csrf": "sample-csrf", "signed_in": true}"#,
    ),
    (
        "children_signup.html",
        r#"{"age": {"birthdate": "2012-05-01", "parent_email": "parent@example.com", "parental": true, "age": 18}}"#,
    ),
    ("children_pending.html", r#"{}"#),
    (
        "children_parent.html",
        r#"{"csrf": "sample-csrf", "link": "sample-link", "error": "Only an adult account with a date of birth on record can consent for a child.", "child": "Asha", "purposes": [{"id": "terms", "description": "The terms of service", "required": true}]}"#,
    ),
    ("children_done.html", r#"{"given": true}"#),
];

/// The sample context of a template, if it has one.
pub(crate) fn sample(name: &str) -> Option<Value> {
    let (_, json) = SAMPLES.iter().find(|(n, _)| *n == name)?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    Some(Value::from(minijinja::value::Serde(&v)))
}
