//! Branding through the admin API and the CLI, as a tenant's pages show it: a theme (the
//! stylesheet and the logo on the sign-in page), an overridden sign-in template that still
//! signs in, a language added without code (Tamil), the default language, the preview, the
//! passkey switch; and every bad input refused with its reason, changing nothing.

mod common;

use common::{
    PASSWORD, TestServer, authorize_url, pkce, query_param, redeem, spawn_binary, tollgate,
};
use reqwest::Method;
use serde_json::{Value, json};

/// A tiny PNG (signature and an empty IHDR-less body suffice: the server checks the
/// data: URI's shape and size, browsers are not involved here).
const PNG: &[u8] = &[137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 0];

/// A tenant's catalogue of one language is at most this large (tollgate-i18n).
const MAX_CATALOGUE: usize = 64 * 1024;

fn png_uri() -> String {
    use base64::Engine as _;
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(PNG)
    )
}

/// What a request to the admin API carries.
enum Body {
    None,
    Json(Value),
    Text(Vec<u8>),
}

/// An admin API request with the admin token: (status, the JSON answer, or the text of
/// one that is not JSON).
async fn call(s: &TestServer, method: Method, path: &str, body: Body) -> (u16, Value) {
    let mut r = s
        .http
        .request(method, format!("{}/admin/v1{path}", s.base))
        .bearer_auth(&s.admin_token);
    r = match body {
        Body::None => r,
        Body::Json(v) => r.json(&v),
        Body::Text(t) => r
            .header("content-type", "text/plain; charset=utf-8")
            .body(t),
    };
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn text(s: &str) -> Body {
    Body::Text(s.as_bytes().to_vec())
}

/// Asserts an `invalid_request` answer whose description says `says`.
fn assert_refused(answer: &(u16, Value), says: &str) {
    let (status, v) = answer;
    assert_eq!(*status, 400, "{v}");
    assert_eq!(v["error"], "invalid_request", "{v}");
    let d = v["error_description"].as_str().unwrap_or_default();
    assert!(d.contains(says), "expected {says:?} in {d:?}");
}

async fn page(s: &TestServer, path: &str) -> String {
    let r = s
        .http
        .get(format!("{}{path}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn branding(s: &TestServer, t: &str) -> Value {
    s.admin_get(&format!("/tenants/{t}/branding")).await
}

#[actix_web::test]
async fn a_theme_changes_the_stylesheet_and_the_sign_in_page() {
    let s = TestServer::start().await;
    let t = s.tenant("shop", false, false).await;
    let before = page(&s, "/shop/login").await;
    assert!(before.contains("/shop/theme.css?v=0"), "{before}");
    assert!(!before.contains("<img"), "{before}");
    let theme = json!({
        "name": "Acme Shop",
        "logo": png_uri(),
        "favicon": png_uri(),
        "primary": "#0b6e4f",
        "background": "#f7f7f2",
        "surface": "#ffffff",
        "text": "#1b1b1b",
        "font": "\"Noto Sans\", system-ui, sans-serif",
        "css": "h1{letter-spacing:.02em}",
    });
    let (status, b) = call(
        &s,
        Method::PUT,
        "/tenants/shop/branding/theme",
        Body::Json(theme.clone()),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["revision"], 1, "{b}");
    assert_eq!(b["theme"], theme);
    assert_eq!(branding(&s, "shop").await, b);

    let css = s
        .http
        .get(format!("{}/shop/theme.css?v=1", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let css = css.text().await.unwrap();
    assert!(css.contains("--tg-primary:#0b6e4f"), "{css}");
    assert!(css.contains("--tg-bg:#f7f7f2"), "{css}");
    assert!(css.contains("h1{letter-spacing:.02em}"), "{css}");

    let after = page(&s, "/shop/login").await;
    assert!(after.contains("/shop/theme.css?v=1"), "{after}");
    assert!(
        after.contains(&format!("<img src=\"{}\" alt=\"Acme Shop\">", png_uri())),
        "{after}"
    );
    assert!(after.contains("Sign in to Acme Shop"), "{after}");
    // Still a working sign-in page.
    let (verifier, challenge) = pkce();
    let back = s
        .browser()
        .authorize(
            &authorize_url(&t, "openid", &challenge, &[]),
            &t.email,
            PASSWORD,
        )
        .await;
    let code = query_param(&back, "code").expect("a code");
    let (status, tokens) = redeem(&s.http, &t, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
}

/// A sign-in template of the tenant's own: its markup, its words (a message it added),
/// the same form fields.
const LOGIN: &str = r#"<div class="acme-login">
<h1>{{ t("acme-welcome", tenant=brand) }}</h1>
{% if error %}<p class="error" id="form-error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="/{{ tenant }}/login">
{% if tx %}<input type="hidden" name="tx" value="{{ tx }}">{% endif %}
<input type="hidden" name="csrf" value="{{ csrf }}">
<label for="email">{{ t("email-label") }}</label>
<input id="email" type="email" name="email" value="{{ email }}" autocomplete="username" required>
<label for="password">{{ t("password-label") }}</label>
<input id="password" type="password" name="password" autocomplete="current-password" required>
<button type="submit">{{ t("sign-in-button") }}</button>
</form>
</div>
"#;

#[actix_web::test]
async fn an_overridden_sign_in_template_shows_the_tenants_words_and_signs_in() {
    let s = TestServer::start().await;
    let t = s.tenant("own", false, false).await;
    let (status, b) = call(
        &s,
        Method::PUT,
        "/tenants/own/branding/messages/en",
        text("acme-welcome = Welcome back to { $tenant }, friend\n"),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    let (status, b) = call(
        &s,
        Method::PUT,
        "/tenants/own/branding/templates/login.html",
        text(LOGIN),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["revision"], 2, "{b}");
    assert_eq!(b["templates"]["login.html"], LOGIN);

    let (verifier, challenge) = pkce();
    let url = authorize_url(&t, "openid", &challenge, &[]);
    let browser = s.browser();
    let (_, login, _) = browser.get(&url).await;
    let (status, _, html) = browser.get(&login.unwrap()).await;
    assert_eq!(status, 200);
    assert!(html.contains("<div class=\"acme-login\">"), "{html}");
    assert!(
        html.contains("Welcome back to Tenant own, friend"),
        "{html}"
    );
    assert!(!html.contains("Email me a code instead"), "{html}");
    // The harness's browser fills the tenant's form as it fills the shipped one.
    let back = browser.authorize(&url, &t.email, PASSWORD).await;
    let code = query_param(&back, "code").expect("a code");
    let (status, tokens) = redeem(&s.http, &t, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");

    // Removed, the shipped template is back.
    let (status, b) = call(
        &s,
        Method::DELETE,
        "/tenants/own/branding/templates/login.html",
        Body::None,
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["templates"], json!({}));
    let html = page(&s, "/own/login").await;
    assert!(html.contains("Email me a code instead"), "{html}");
    assert!(!html.contains("acme-login"), "{html}");
    // Each change is in the audit trail, newest first.
    let details: Vec<Value> = s
        .events("own", "kind=admin.branding")
        .await
        .iter()
        .map(|e| e["detail"].clone())
        .collect();
    assert_eq!(
        details,
        [
            "template login.html removed",
            "template login.html",
            "messages en"
        ]
    );
}

#[actix_web::test]
async fn a_language_added_through_the_api_joins_the_switcher_and_can_be_the_default() {
    let s = TestServer::start().await;
    s.tenant("tamil", false, false).await;
    let ta =
        "language-name = தமிழ்\nsign-in-title = { $tenant } இல் உள்நுழைக\nsign-in-button = உள்நுழைக\n";
    let (status, b) = call(
        &s,
        Method::PUT,
        "/tenants/tamil/branding/messages/ta",
        text(ta),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["messages"]["ta"], ta);

    let en = page(&s, "/tamil/login").await;
    assert!(en.contains("<html lang=\"en\""), "{en}");
    assert!(
        en.contains("<option value=\"ta\" lang=\"ta\">தமிழ்</option>"),
        "{en}"
    );
    let html = page(&s, "/tamil/login?lang=ta").await;
    assert!(html.contains("<html lang=\"ta\" dir=\"ltr\">"), "{html}");
    assert!(html.contains("Tenant tamil இல் உள்நுழைக"), "{html}");
    assert!(html.contains(">உள்நுழைக</button>"), "{html}");
    // What Tamil does not define comes from the default language.
    assert!(html.contains("Forgot password?"), "{html}");

    // The default language: pages without any preference are in Tamil.
    let (status, b) = call(
        &s,
        Method::PUT,
        "/tenants/tamil/branding/default-language",
        Body::Json(json!({"default_language": "ta"})),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["default_language"], "ta");
    let html = page(&s, "/tamil/login").await;
    assert!(html.contains("<html lang=\"ta\""), "{html}");
    // A default language cannot lose its catalogue.
    let before = branding(&s, "tamil").await;
    let refused = call(
        &s,
        Method::DELETE,
        "/tenants/tamil/branding/messages/ta",
        Body::None,
    )
    .await;
    assert_refused(&refused, "the default language `ta` has no catalogue");
    assert_eq!(branding(&s, "tamil").await, before);
    // Back to English, then the catalogue can go (the tag's case does not matter).
    let (status, _) = call(
        &s,
        Method::PUT,
        "/tenants/tamil/branding/default-language",
        Body::Json(json!({"default_language": null})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, b) = call(
        &s,
        Method::DELETE,
        "/tenants/tamil/branding/messages/TA",
        Body::None,
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["messages"], json!({}));
    assert!(!page(&s, "/tamil/login").await.contains("value=\"ta\""));
}

#[actix_web::test]
async fn bad_branding_is_refused_with_its_reason_and_changes_nothing() {
    let s = TestServer::start().await;
    s.tenant("strict", false, false).await;
    // Something to keep: a theme already set.
    let (status, _) = call(
        &s,
        Method::PUT,
        "/tenants/strict/branding/theme",
        Body::Json(json!({"primary": "#0b6e4f"})),
    )
    .await;
    assert_eq!(status, 200);
    let kept = branding(&s, "strict").await;
    let theme = |v: Value| (Method::PUT, "/theme".to_owned(), Body::Json(v));
    let template = |name: &str, src: &str| {
        (
            Method::PUT,
            format!("/templates/{name}"),
            Body::Text(src.as_bytes().to_vec()),
        )
    };
    let messages = |lang: &str, src: &[u8]| {
        (
            Method::PUT,
            format!("/messages/{lang}"),
            Body::Text(src.to_vec()),
        )
    };
    let cases: Vec<((Method, String, Body), &str)> = vec![
        (
            theme(json!({"text": "#777777", "surface": "#888888"})),
            "below the 4.5:1",
        ),
        (theme(json!({"primary": "#ffff00"})), "4.5:1"),
        (
            theme(json!({"primary": "green"})),
            "theme.primary must be a colour",
        ),
        (
            theme(json!({"logo": "https://cdn.example/logo.png"})),
            "theme.logo must be a data:image/",
        ),
        (
            theme(json!({"css": "@import url(https://evil.example/x.css);"})),
            "may not contain `@import`",
        ),
        (
            theme(json!({"css": "body{background:url(https://evil.example/?leak)}"})),
            "only as data: URIs",
        ),
        (theme(json!({"colour": "#000000"})), "unknown field"),
        (
            template("login.html", "{% include '/etc/passwd' %}"),
            "includes a template that does not exist",
        ),
        (
            template(
                "login.html",
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            ),
            "out of fuel",
        ),
        (
            template("login.html", "<p>hi</p><script>alert(1)</script>"),
            "may not contain a <script> element",
        ),
        (
            template("login.html", "{{ email | safe }}"),
            "may not contain the safe filter",
        ),
        (template("login.html", "{% if %}"), "line 1"),
        (
            template("nope.html", "<p>x</p>"),
            "`nope.html` is not a template Tollgate renders",
        ),
        (
            template("head.html", "<title>x</title>"),
            "is not a template Tollgate renders",
        ),
        (
            messages("ta", b"sign-in-button = fine\nbroken = {}\nother = fine\n"),
            "has an error on line 2",
        ),
        (
            messages("not%20a%20tag", b"x = y\n"),
            "is not a language tag",
        ),
        (messages("ta", &[0xff, 0xfe, 0x00]), "UTF-8"),
        (
            (
                Method::PUT,
                "/default-language".into(),
                Body::Json(json!({"default_language": "te"})),
            ),
            "the default language `te` has no catalogue",
        ),
        (
            (Method::DELETE, "/templates/login.html".into(), Body::None),
            "",
        ),
        // Too large: refused by the check (with the limit) or before reading on.
        (
            template("login.html", &"x".repeat(tollgate_ui::MAX_TEMPLATE + 1)),
            "at most 32768",
        ),
        (
            template("login.html", &"x".repeat(2 * tollgate_ui::MAX_TEMPLATE + 1)),
            "the body is larger than 65536 bytes",
        ),
        (
            messages(
                "ta",
                format!("x = {}\n", "y".repeat(MAX_CATALOGUE)).as_bytes(),
            ),
            "at most 65536",
        ),
        (
            messages("ta", &vec![b'#'; 2 * MAX_CATALOGUE + 1]),
            "the body is larger than 131072 bytes",
        ),
        (
            theme(json!({"css": "a{}".repeat(50_000)})),
            "larger than allowed",
        ),
    ];
    for ((method, rest, body), says) in cases {
        let path = format!("/tenants/strict/branding{rest}");
        let answer = call(&s, method.clone(), &path, body).await;
        if says.is_empty() {
            // Removing what is not there.
            assert_eq!(answer.0, 404, "{method} {path}: {}", answer.1);
            assert_eq!(answer.1["error"], "not_found");
        } else {
            assert_refused(&answer, says);
        }
        assert_eq!(
            branding(&s, "strict").await,
            kept,
            "{method} {path} changed the branding"
        );
    }
    // Without the admin token, or with another, nothing is read or changed.
    let wrong = "x".repeat(s.admin_token.len());
    for token in [None, Some(""), Some("not-the-token"), Some(wrong.as_str())] {
        let json_body = |v: Value| Some(("application/json", v.to_string()));
        let text_body = |t: &str| Some(("text/plain", t.to_owned()));
        for (method, path, body) in [
            (Method::GET, "/tenants/strict/branding", None),
            (
                Method::PUT,
                "/tenants/strict/branding/theme",
                json_body(json!({"primary": "#000000"})),
            ),
            (
                Method::PUT,
                "/tenants/strict/branding/templates/login.html",
                text_body("<p>mine</p>"),
            ),
            (
                Method::DELETE,
                "/tenants/strict/branding/templates/login.html",
                None,
            ),
            (
                Method::PUT,
                "/tenants/strict/branding/messages/ta",
                text_body("sign-in-button = x\n"),
            ),
            (Method::DELETE, "/tenants/strict/branding/messages/en", None),
            (
                Method::PUT,
                "/tenants/strict/branding/default-language",
                json_body(json!({"default_language": "hi"})),
            ),
            (
                Method::POST,
                "/tenants/strict/branding/preview",
                json_body(json!({"template": "login.html"})),
            ),
            (Method::GET, "/templates", None),
            (Method::GET, "/tenants/strict/passkeys", None),
            (
                Method::PUT,
                "/tenants/strict/passkeys",
                json_body(json!({"enabled": false})),
            ),
        ] {
            let mut r = s
                .http
                .request(method.clone(), format!("{}/admin/v1{path}", s.base));
            if let Some(tok) = token {
                r = r.header("authorization", format!("Bearer {tok}"));
            }
            if let Some((kind, b)) = body {
                r = r.header("content-type", kind).body(b);
            }
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!(
                (status, v["error"].as_str()),
                (401, Some("invalid_token")),
                "{method} {path} with {token:?}: {v}"
            );
        }
    }
    assert_eq!(
        s.admin_get("/tenants/strict/passkeys").await["enabled"],
        true
    );
    // Only the first change was recorded.
    let events = s.events("strict", "kind=admin.").await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| k.starts_with("admin.branding"))
            .count(),
        1,
        "{events:?}"
    );
    assert!(!kinds.contains(&"admin.passkeys"), "{events:?}");
    assert_eq!(branding(&s, "strict").await, kept);
    // Another tenant's branding is not found, not created.
    let (status, _) = call(&s, Method::GET, "/tenants/nobody/branding", Body::None).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn the_preview_renders_stored_or_proposed_branding_without_storing_it() {
    let s = TestServer::start().await;
    s.tenant("pre", false, false).await;
    let r = s
        .http
        .post(format!("{}/admin/v1/tenants/pre/branding/preview", s.base))
        .bearer_auth(&s.admin_token)
        .json(&json!({"template": "login.html", "lang": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"hi\""), "{html}");
    assert!(html.contains("साइन इन करें"), "{html}");
    // The sample data.
    assert!(html.contains("asha@example.com"), "{html}");

    // A proposed branding is checked and shown, not stored.
    let proposed = json!({
        "templates": {"login.html": "<h1 class=\"proposed\">{{ t('sign-in-button') }}</h1>"},
        "messages": {"ta": "sign-in-button = உள்நுழைக\n"},
    });
    let (status, html) = call(
        &s,
        Method::POST,
        "/tenants/pre/branding/preview",
        Body::Json(json!({"template": "login.html", "lang": "ta", "branding": proposed})),
    )
    .await;
    assert_eq!(status, 200);
    let html = html.as_str().unwrap();
    assert!(
        html.contains("<h1 class=\"proposed\">உள்நுழைக</h1>"),
        "{html}"
    );
    assert!(html.contains("<html lang=\"ta\""), "{html}");
    assert_eq!(branding(&s, "pre").await["revision"], 0);

    let refused = call(
        &s,
        Method::POST,
        "/tenants/pre/branding/preview",
        Body::Json(json!({
            "template": "login.html",
            "branding": {"templates": {"login.html": "<script>alert(1)</script>"}},
        })),
    )
    .await;
    assert_refused(&refused, "<script>");
    let refused = call(
        &s,
        Method::POST,
        "/tenants/pre/branding/preview",
        Body::Json(json!({"template": "login.html", "lang": "ta"})),
    )
    .await;
    assert_refused(
        &refused,
        "no catalogue for language \"ta\"; this tenant has en, hi",
    );
    let refused = call(
        &s,
        Method::POST,
        "/tenants/pre/branding/preview",
        Body::Json(json!({"template": "../../etc/passwd"})),
    )
    .await;
    assert_refused(&refused, "is not a template Tollgate renders");

    // The templates a tenant may replace, with their source and sample data.
    let list = s.admin_get("/templates").await;
    let list = list.as_array().unwrap();
    let login = list.iter().find(|t| t["name"] == "login.html").unwrap();
    assert!(
        login["source"]
            .as_str()
            .unwrap()
            .contains("name=\"password\"")
    );
    assert_eq!(login["sample"]["csrf"], "sample-csrf");
    assert!(list.iter().all(|t| t["name"] != "head.html"), "{list:?}");
}

#[actix_web::test]
async fn concurrent_changes_are_each_kept_or_told_to_retry() {
    let s = TestServer::start().await;
    s.tenant("busy", false, false).await;
    // A template of its own makes every change's check render it in every language: the
    // changes below overlap between their read and their write.
    let (status, _) = call(
        &s,
        Method::PUT,
        "/tenants/busy/branding/templates/login.html",
        text(LOGIN),
    )
    .await;
    assert_eq!(status, 200);
    let langs = [
        "as", "bn", "brx", "doi", "gu", "kn", "ks", "kok", "mai", "ml", "mni", "mr", "ne", "or",
        "pa", "sa",
    ];
    let tasks: Vec<_> = langs
        .iter()
        .map(|lang| {
            let r = s
                .http
                .put(format!(
                    "{}/admin/v1/tenants/busy/branding/messages/{lang}",
                    s.base
                ))
                .bearer_auth(&s.admin_token)
                .body(format!("sign-in-button = {lang}\n"));
            tokio::spawn(async move {
                let resp = r.send().await.unwrap();
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut kept = Vec::new();
    for (lang, task) in langs.iter().zip(tasks) {
        let (status, v) = task.await.unwrap();
        match status {
            200 => kept.push(*lang),
            _ => assert_refused(&(status, v), "kept changing meanwhile"),
        }
    }
    assert!(!kept.is_empty());
    let b = branding(&s, "busy").await;
    // Every change that was answered 200 is there, each with its own revision.
    let mut stored: Vec<&str> = b["messages"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    stored.sort_unstable();
    kept.sort_unstable();
    assert_eq!(stored, kept, "{b}");
    assert_eq!(b["revision"], kept.len() + 1, "{b}");
}

#[actix_web::test]
async fn passkeys_can_be_turned_off_and_on() {
    // Passkeys need a domain: the server's public URL is http://localhost:PORT.
    let s = common::start_localhost().await;
    s.tenant("keys", false, false).await;
    let on = page(&s, "/keys/login").await;
    assert!(on.contains("data-passkey=\"login\""), "{on}");
    assert!(on.contains("autocomplete=\"username webauthn\""), "{on}");
    let shown = s.admin_get("/tenants/keys/passkeys").await;
    assert_eq!(
        shown,
        json!({"id": "keys", "enabled": true, "available": true})
    );

    let (status, v) = call(
        &s,
        Method::PUT,
        "/tenants/keys/passkeys",
        Body::Json(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["enabled"], false);
    let off = page(&s, "/keys/login").await;
    assert!(!off.contains("data-passkey"), "{off}");
    assert!(!off.contains("passkeys.js"), "{off}");
    assert!(off.contains("autocomplete=\"username\""), "{off}");
    let factors = s.admin_get("/tenants/keys/passkeys").await;
    assert_eq!(factors["enabled"], false);

    let (status, v) = call(
        &s,
        Method::PUT,
        "/tenants/keys/passkeys",
        Body::Json(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["enabled"], true);
    assert!(
        page(&s, "/keys/login")
            .await
            .contains("data-passkey=\"login\"")
    );

    // Required second factors with passkeys as the only strong one: cannot be turned off.
    let (status, v) = call(
        &s,
        Method::PUT,
        "/tenants/keys/mfa",
        Body::Json(json!({"mode": "required", "factors": ["passkey", "email"]})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let refused = call(
        &s,
        Method::PUT,
        "/tenants/keys/passkeys",
        Body::Json(json!({"enabled": false})),
    )
    .await;
    assert_refused(&refused, "allow totp first");
    assert_eq!(s.admin_get("/tenants/keys/passkeys").await["enabled"], true);
}

#[test]
fn the_cli_sets_and_shows_branding() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn_binary(dir.path(), &[]);
    let data = dir.path().to_str().unwrap();
    let base = ["admin", "--url", &server.base, "--data-dir", data];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        tollgate(&args, &[])
    };
    let file = |name: &str, content: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let (ok, _, err) = run(&["tenant", "create", "cli"]);
    assert!(ok, "{err}");

    let logo = file("logo.png", PNG);
    let (ok, out, err) = run(&[
        "branding",
        "set-theme",
        "cli",
        "--name",
        "CLI Shop",
        "--primary",
        "#0b6e4f",
        "--logo",
        &logo,
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("\"revision\": 1"), "{out}");
    assert!(out.contains(&png_uri()), "{out}");
    let (ok, _, err) = run(&["branding", "set-theme", "cli", "--primary", "#ffff00"]);
    assert!(!ok && err.contains("4.5:1"), "{err}");

    let login = file("login.html", LOGIN.as_bytes());
    let ta = file(
        "ta.ftl",
        "acme-welcome = { $tenant } வரவேற்கிறது\n".as_bytes(),
    );
    for args in [
        &["branding", "set-messages", "cli", "ta", &ta][..],
        &["branding", "set-template", "cli", "login.html", &login],
        &["branding", "set-default-language", "cli", "ta"],
    ] {
        let (ok, _, err) = run(args);
        assert!(ok, "{args:?}: {err}");
    }
    let (ok, out, err) = run(&["branding", "show", "cli"]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["revision"], 4, "{shown}");
    assert_eq!(shown["default_language"], "ta");
    assert_eq!(shown["templates"]["login.html"], LOGIN);

    let (ok, html, err) = run(&["branding", "preview", "cli", "login.html"]);
    assert!(ok, "{err}");
    assert!(html.contains("<html lang=\"ta\""), "{html}");
    assert!(html.contains("CLI Shop வரவேற்கிறது"), "{html}");
    let (ok, html, err) = run(&["branding", "preview", "cli", "login.html", "--lang", "en"]);
    assert!(ok, "{err}");
    assert!(html.contains("<html lang=\"en\""), "{html}");

    let head = file("head.html", b"<title>x</title>");
    let (ok, _, err) = run(&["branding", "set-template", "cli", "head.html", &head]);
    assert!(!ok && err.contains("not a template"), "{err}");
    let (ok, _, err) = run(&["branding", "remove-messages", "cli", "ta"]);
    assert!(!ok && err.contains("has no catalogue"), "{err}");
    for args in [
        &["branding", "set-default-language", "cli"][..],
        &["branding", "remove-messages", "cli", "ta"],
        &["branding", "remove-template", "cli", "login.html"],
    ] {
        let (ok, _, err) = run(args);
        assert!(ok, "{args:?}: {err}");
    }
    let (ok, out, _) = run(&["branding", "show", "cli"]);
    assert!(ok);
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["templates"], json!({}));
    assert_eq!(shown["messages"], json!({}));
    assert_eq!(shown["revision"], 7);

    let (ok, out, err) = run(&["branding", "templates"]);
    assert!(ok && out.contains("\"login.html\""), "{err}");
    let (ok, out, err) = run(&["tenant", "passkeys", "cli", "off"]);
    assert!(ok && out.contains("\"enabled\": false"), "{out} {err}");
    let (ok, out, err) = run(&["tenant", "passkeys", "cli"]);
    assert!(ok && out.contains("\"enabled\": false"), "{out} {err}");
    let (ok, out, err) = run(&["tenant", "passkeys", "cli", "on"]);
    assert!(ok && out.contains("\"enabled\": true"), "{out} {err}");
    let (ok, _, err) = run(&["tenant", "passkeys", "cli", "maybe"]);
    assert!(!ok && err.contains("possible values"), "{err}");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
