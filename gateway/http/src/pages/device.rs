//! The HTML of the device page (RFC 8628 §3.3): entering the user code, confirming the
//! device's access, and the end.

use crate::pages::hosted::describe_scope;
use crate::web::html::{error_block, esc, hidden};

/// The form that asks for the code the device shows.
pub fn enter_code(tenant: &str, csrf: &str, code: &str, error: Option<&str>) -> String {
    format!(
        "<h1>Connect a device</h1><p>Enter the code shown on your TV, console or other device.</p>{err}\
<form method=\"post\" action=\"/{t}/device\">{csrf}\
<label for=\"user_code\">Code</label>\
<input id=\"user_code\" type=\"text\" name=\"user_code\" value=\"{code}\" autocomplete=\"off\" autocapitalize=\"characters\" \
spellcheck=\"false\" inputmode=\"text\" maxlength=\"16\" placeholder=\"XXXX-XXXX\" required autofocus \
aria-describedby=\"user_code_help\">\
<p id=\"user_code_help\" class=\"muted\">Eight letters; the dash is optional.</p>\
<button type=\"submit\">Continue</button></form>",
        t = esc(tenant),
        err = error_block(error),
        csrf = hidden("csrf", csrf),
        code = esc(code),
    )
}

/// Asks the signed-in user to allow or deny the device, naming the application and what
/// it will be able to do.
pub fn confirm(
    tenant: &str,
    client_name: &str,
    scopes: &[String],
    api: Option<&str>,
    user_code: Option<&str>,
    tx: &str,
    csrf: &str,
) -> String {
    let items: String = scopes
        .iter()
        .map(|s| match api {
            Some(api) if describe_scope(s) == "Other access" => {
                format!("<li><code>{}</code> at {}</li>", esc(s), esc(api))
            }
            _ => format!("<li>{}</li>", esc(describe_scope(s))),
        })
        .collect();
    format!(
        "<h1>Allow {client} on your device?</h1>\
<p>A device is asking to use <strong>{client}</strong> with your account. Allow it only if you \
started this yourself and the device shows the code you entered{code}.</p>\
<p>It will be able to:</p><ul>{items}</ul>\
<form method=\"post\" action=\"/{t}/device/confirm\">{tx}{csrf}\
<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>",
        t = esc(tenant),
        client = esc(client_name),
        code = user_code
            .map(|c| format!(", <strong class=\"code\">{}</strong>", esc(c)))
            .unwrap_or_default(),
        tx = hidden("tx", tx),
        csrf = hidden("csrf", csrf),
    )
}

/// After the answer.
pub fn done(approved: bool) -> String {
    if approved {
        "<h1>Your device is connected</h1><p>You can go back to your device now; it will continue on its own.</p>".into()
    } else {
        "<h1>Request denied</h1><p>The device was not given access. You can close this window.</p>"
            .into()
    }
}
