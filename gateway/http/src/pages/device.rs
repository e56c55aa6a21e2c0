//! The device page (RFC 8628 §3.3): entering the user code, confirming the device's
//! access, and the end; templates `device-*.html`.

use minijinja::value::Serde;

use crate::pages::hosted::scope_lines;
use crate::web::view::{Value, View, context};

/// The form that asks for the code the device shows; `error` is a message already in the
/// page's language.
pub fn enter_code(v: &View, csrf: &str, code: &str, error: Option<&str>) -> String {
    v.render("device-code.html", context! { csrf, code, error })
}

/// Asks the signed-in user to allow or deny the device, naming the application, what it
/// will be able to do and the code to compare with the device's screen (RFC 8628 §5.4).
pub fn confirm(
    v: &View,
    client: &str,
    scopes: &[String],
    api: Option<&str>,
    user_code: Option<&str>,
    tx: &str,
    csrf: &str,
) -> String {
    let scopes = scope_lines(v, scopes, api);
    v.render(
        "device-confirm.html",
        context! { client, user_code, tx, csrf, scopes => Value::from(Serde(&scopes)) },
    )
}

/// After the answer.
pub fn done(v: &View, approved: bool) -> String {
    v.render("device-done.html", context! { approved })
}
