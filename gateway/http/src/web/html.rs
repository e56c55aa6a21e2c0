//! Escaping and the page shell. Every hosted page goes through [`page`]: plain HTML forms
//! that work without JavaScript (passkeys, which need it, load one script from this
//! origin); every value is escaped; pages cannot be framed and are never cached.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}\
main{max-width:380px;margin:8vh auto;background:#fff;padding:32px;border-radius:10px;box-shadow:0 2px 10px #0001}\
h1{font-size:1.4em;margin:0 0 20px}label{display:block;margin:14px 0 4px;font-weight:600}\
input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:10px;border:1px solid #c5c9d3;border-radius:6px;font-size:1em}\
button{margin-top:20px;width:100%;padding:11px;border:0;border-radius:6px;background:#2d5bd7;color:#fff;font-size:1em;cursor:pointer}\
button.secondary{background:#e6e8ee;color:#1d2330}.error{background:#fdecea;color:#8a1c12;padding:10px;border-radius:6px}\
.muted{color:#5b6270;font-size:.9em}ul{padding-left:20px}code{word-break:break-all}";

/// Wraps a body in the page layout.
pub fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title>\
<style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        esc(title)
    );
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .body(html)
}

/// An error page with a message safe to show.
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    page(
        status,
        "Something went wrong",
        &format!(
            "<h1>Something went wrong</h1><p class=\"error\">{}</p>",
            esc(message)
        ),
    )
}

/// A hidden form field.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

/// A form's error message, if any.
pub fn error_block(error: Option<&str>) -> String {
    error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default()
}
