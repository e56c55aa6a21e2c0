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
];

/// Templates a tenant cannot replace: the document head (charset, the stylesheet and
/// favicon links) is the same for every look, and carries what the CSP relies on; the
/// parts that load the shipped script are included, not rewritten.
pub const FIXED: &[&str] = &["head.html", "passkey-login.html"];

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
