//! The code, second-factor and passkey pages in the reader's language: the email-code
//! sign-in page, the phone page, the second-factor page and the passkey offer after
//! sign-up, in Hindi (`Accept-Language: hi`, or the app's `ui_locales=hi`) with
//! `<html lang="hi">`, and in English as before. The passkey blocks carry the script's
//! status texts in the page's language.

mod common;

use common::*;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, LOCATION};
use serde_json::json;

/// GETs `url` in `b` as a browser that prefers `lang`.
async fn get_in(b: &Browser, url: &str, lang: &str) -> (u16, Option<String>, String) {
    let r = b
        .http
        .get(url)
        .header(ACCEPT_LANGUAGE, lang)
        .send()
        .await
        .unwrap();
    let loc = r
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), loc, r.text().await.unwrap())
}

/// POSTs a form in `b` as a browser that prefers `lang`.
async fn post_in(
    b: &Browser,
    url: &str,
    form: &[(&str, &str)],
    lang: &str,
) -> (u16, Option<String>, String) {
    let r = b
        .http
        .post(url)
        .header(ACCEPT_LANGUAGE, lang)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    let loc = r
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), loc, r.text().await.unwrap())
}

/// Starts an authorization (with `extra` parameters) and opens its sign-in page; returns
/// the page's `tx` and CSRF token.
async fn begin(b: &Browser, t: &TestTenant, extra: &[(&str, &str)]) -> (String, String) {
    let (_, challenge) = pkce();
    let (s, loc, _) = b.get(&authorize_url(t, "openid", &challenge, extra)).await;
    assert_eq!(s, 303);
    let (s, _, page) = b.get(&loc.expect("the sign-in page")).await;
    assert_eq!(s, 200, "{page}");
    (hidden(&page, "tx").unwrap(), hidden(&page, "csrf").unwrap())
}

fn assert_hindi(page: &str) {
    assert!(page.contains("<html lang=\"hi\" dir=\"ltr\">"), "{page}");
}

fn assert_english(page: &str) {
    assert!(page.contains("<html lang=\"en\" dir=\"ltr\">"), "{page}");
}

#[actix_web::test]
async fn the_email_code_pages_speak_hindi_and_english() {
    let srv = TestServer::start().await;
    let t = srv.tenant("kodh", false, true).await;

    // "Email me a code" from the sign-in page, in Hindi.
    let b = srv.browser();
    let (tx, csrf) = begin(&b, &t, &[]).await;
    let url = format!("{}/login/email", t.issuer);
    let form = [
        ("email", t.email.as_str()),
        ("tx", &tx),
        ("csrf", &csrf),
        ("password", ""),
    ];
    let (s, _, page) = post_in(&b, &url, &form, "hi-IN,hi;q=0.9,en;q=0.5").await;
    assert_eq!(s, 200, "{page}");
    assert_hindi(&page);
    assert!(page.contains("<h1>अपना ईमेल देखें</h1>"), "{page}");
    assert!(
        page.contains(&format!(
            "अगर {} का कोई खाता है, तो हमने उस पर 6 अंकों का कोड और एक लिंक भेजा है।",
            t.email
        )),
        "{page}"
    );
    assert!(page.contains("<label for=\"code\">कोड</label>"), "{page}");
    assert!(!page.contains("Check your email"), "{page}");
    // The form is the same form: same action and fields.
    assert!(page.contains(&format!("action=\"/{}/login/email/code\"", t.id)));
    let handle = hidden(&page, "handle").expect("the code form's handle");

    // A wrong code: the refusal in Hindi too, tied to the field.
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, page) = post_in(
        &b,
        &format!("{}/login/email/code", t.issuer),
        &[
            ("handle", &handle),
            ("code", "000000"),
            ("tx", &tx),
            ("csrf", &csrf),
        ],
        "hi",
    )
    .await;
    assert_eq!(s, 401, "{page}");
    assert_hindi(&page);
    assert!(
        page.contains("<p class=\"error\" id=\"form-error\" role=\"alert\">"),
        "{page}"
    );
    assert!(page.contains("aria-describedby=\"form-error\""), "{page}");
    assert!(!page.contains("That code is not right"), "{page}");

    // The same page in English, as before.
    let b = srv.browser();
    let (tx, csrf) = begin(&b, &t, &[]).await;
    let form = [
        ("email", t.email.as_str()),
        ("tx", &tx),
        ("csrf", &csrf),
        ("password", ""),
    ];
    let (s, _, page) = b.post_form(&url, &form).await;
    assert_eq!(s, 200, "{page}");
    assert_english(&page);
    assert!(page.contains("<h1>Check your email</h1>"), "{page}");
    assert!(
        page.contains(&format!(
            "If an account exists for {}, we sent it a 6-digit code and a link.",
            t.email
        )),
        "{page}"
    );

    // A dead link says so in the reader's language.
    let (s, _, page) = get_in(&b, &format!("{}/login/link?token=nope", t.issuer), "hi").await;
    assert_eq!(s, 400, "{page}");
    assert_hindi(&page);
    assert!(page.contains("इस लिंक का समय ख़त्म हो गया है"), "{page}");

    // What was typed is shown escaped, in either language.
    let b = srv.browser();
    let (s, _, page) = get_in(&b, &format!("{}/password/forgot", t.issuer), "hi").await;
    assert_eq!(s, 200);
    assert_hindi(&page);
    assert!(page.contains("<h1>अपना पासवर्ड रीसेट करें</h1>"), "{page}");
    let csrf = hidden(&page, "csrf").unwrap();
    let (_, _, page) = post_in(
        &b,
        &format!("{}/password/forgot", t.issuer),
        &[("email", "\"><script>alert(1)</script>"), ("csrf", &csrf)],
        "hi",
    )
    .await;
    assert!(!page.contains("<script>alert"), "{page}");
}

#[actix_web::test]
async fn the_phone_page_speaks_hindi_and_english() {
    let srv = TestServer::start().await;
    let t = srv.tenant("fonh", false, true).await;
    let b = srv.browser();
    let url = format!("{}/login/phone", t.issuer);

    let (s, _, page) = get_in(&b, &url, "hi").await;
    assert_eq!(s, 200, "{page}");
    assert_hindi(&page);
    assert!(page.contains("<h1>अपने फ़ोन से साइन इन करें</h1>"), "{page}");
    assert!(
        page.contains("<label for=\"phone\">मोबाइल नंबर</label>"),
        "{page}"
    );
    assert!(
        page.contains("<label for=\"channel-whatsapp\">व्हाट्सऐप</label>"),
        "{page}"
    );
    assert!(page.contains("<legend>कोड कैसे भेजें</legend>"), "{page}");
    // The switcher offers English, and the form posts what it always posted.
    assert!(
        page.contains("<select id=\"tg-lang\" name=\"lang\">"),
        "{page}"
    );
    assert!(page.contains(&format!("action=\"/{}/login/phone\"", t.id)));
    assert!(page.contains("name=\"channel\" value=\"sms\" checked"));

    // A number that is not one: the refusal in Hindi, the number kept.
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, page) = post_in(
        &b,
        &url,
        &[("phone", "12"), ("channel", "sms"), ("csrf", &csrf)],
        "hi",
    )
    .await;
    assert_eq!(s, 400, "{page}");
    assert_hindi(&page);
    assert!(page.contains("value=\"12\""), "{page}");
    assert!(page.contains("id=\"form-error\""), "{page}");

    // English, as before.
    let (s, _, page) = b.get(&url).await;
    assert_eq!(s, 200);
    assert_english(&page);
    assert!(page.contains("<h1>Sign in with your phone</h1>"), "{page}");
    assert!(page.contains("Text message (SMS)"), "{page}");
}

#[actix_web::test]
async fn the_second_factor_page_speaks_the_language_the_app_asked_for() {
    let srv = TestServer::start().await;
    let t = srv.tenant("dvih", false, true).await;
    let r = srv
        .http
        .put(format!("{}/admin/v1/tenants/dvih/mfa", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&json!({"mode": "required", "factors": ["totp", "email"]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    // The app asks for Hindi (ui_locales); the browser says nothing.
    let b = srv.browser();
    let (tx, csrf) = begin(&b, &t, &[("ui_locales", "hi")]).await;
    let form = [
        ("email", t.email.as_str()),
        ("password", PASSWORD),
        ("tx", &tx),
        ("csrf", &csrf),
    ];
    let (s, _, page) = b.post_form(&format!("{}/login", t.issuer), &form).await;
    assert_eq!(s, 200, "{page}");
    assert_hindi(&page);
    assert!(page.contains("<h1>पुष्टि करें कि यह आप ही हैं</h1>"), "{page}");
    assert!(page.contains("मुझे कोड ईमेल करें"), "{page}");
    assert!(
        page.contains("<label for=\"code-email\">हमने जो 6 अंकों का कोड ईमेल किया है</label>"),
        "{page}"
    );
    assert!(page.contains(&format!("action=\"/{}/login/factor/send\"", t.id)));

    // "Email me a code": the code page in Hindi too.
    let handle = hidden(&page, "handle").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, page) = b
        .post_form(
            &format!("{}/login/factor/send", t.issuer),
            &[
                ("handle", &handle),
                ("method", "email"),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert_hindi(&page);
    assert!(page.contains("हमने "), "{page}");
    assert!(page.contains("पर 6 अंकों का कोड भेजा है।"), "{page}");

    // The same step in English when nobody asks for Hindi.
    let b = srv.browser();
    let (tx, csrf) = begin(&b, &t, &[]).await;
    let form = [
        ("email", t.email.as_str()),
        ("password", PASSWORD),
        ("tx", &tx),
        ("csrf", &csrf),
    ];
    let (s, _, page) = b.post_form(&format!("{}/login", t.issuer), &form).await;
    assert_eq!(s, 200, "{page}");
    assert_english(&page);
    assert!(page.contains("<h1>Confirm it is you</h1>"), "{page}");
    assert!(page.contains("Email me a code"), "{page}");
}

#[actix_web::test]
async fn the_passkey_offer_after_a_sign_up_in_hindi_speaks_hindi() {
    let srv = start_localhost().await;
    let t = srv.tenant("pkhi", false, true).await;
    let b = srv.browser();

    // Sign up in Hindi: the code page too, and the account keeps the language.
    let (s, _, page) = get_in(&b, &format!("{}/signup", t.issuer), "hi").await;
    assert_eq!(s, 200, "{page}");
    let csrf = hidden(&page, "csrf").unwrap();
    let email = "naya@pkhi.example";
    let (s, _, page) = post_in(
        &b,
        &format!("{}/signup", t.issuer),
        &[
            ("email", email),
            ("password", "a long new password"),
            ("locale", "hi"),
            ("csrf", &csrf),
        ],
        "hi",
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert_hindi(&page);
    assert!(
        page.contains("पर 6 अंकों का कोड भेजा है। उसे यहाँ डालें।"),
        "{page}"
    );
    assert!(page.contains(">खाता बनाएँ</button>"), "{page}");
    let code = outbox_code(srv.dir.path(), email, "").await;
    let (s, loc, page) = post_in(
        &b,
        &format!("{}/signup/code", t.issuer),
        &[
            ("handle", &hidden(&page, "handle").unwrap()),
            ("code", &code),
            ("csrf", &hidden(&page, "csrf").unwrap()),
        ],
        "hi",
    )
    .await;
    assert_eq!(s, 303, "{page}");
    let offer = format!("{}{}", srv.base, loc.expect("on to the offer"));
    assert!(offer.contains("/pkhi/passkeys/offer"), "{offer}");

    // The offer, in the saved language even when the browser says nothing.
    let (s, _, page) = b.get(&offer).await;
    assert_eq!(s, 200, "{page}");
    assert_hindi(&page);
    assert!(
        page.contains("<h1>अगली बार और जल्दी साइन इन करें</h1>"),
        "{page}"
    );
    assert!(page.contains("data-passkey=\"register\""), "{page}");
    assert!(page.contains(">पासकी जोड़ें</button>"), "{page}");
    assert!(page.contains(">अभी नहीं</a>"), "{page}");
    // The script's status texts come with the page, in its language.
    assert!(
        page.contains("data-msg-cancelled=\"पासकी का अनुरोध रद्द हो गया"),
        "{page}"
    );
    assert!(page.contains("data-msg-failed=\"कुछ गड़बड़ हो गई"), "{page}");

    // The switcher beats the saved language.
    let (s, _, page) = b.get(&format!("{offer}?lang=en")).await;
    assert_eq!(s, 200);
    assert_english(&page);
    assert!(page.contains("<h1>Sign in faster next time</h1>"), "{page}");
    assert!(page.contains("Not now"), "{page}");
    assert!(
        page.contains("data-msg-cancelled=\"The passkey request was cancelled or timed out.\""),
        "{page}"
    );

    // The script itself carries no words of its own.
    let (s, _, js) = b.get(&format!("{}/assets/passkeys.js", srv.base)).await;
    assert_eq!(s, 200);
    assert!(js.contains("msgCancelled"));
    assert!(
        !js.contains("Something went wrong"),
        "English left in the script"
    );
}
