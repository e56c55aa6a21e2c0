//! The hosted pages of issue 16 in the reader's language: consent, the account page,
//! sign-out, the device pages and error pages in Hindi, chosen by `Accept-Language` or by
//! the switcher (`?lang=hi`, then remembered); and the same pages in English, worded as
//! before.

mod common;

use common::*;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A browser whose requests say `Accept-Language: {lang}` (a request may say otherwise).
fn browser_in(srv: &TestServer, lang: &str) -> Browser {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_str(lang).unwrap());
    let mut b = srv.browser();
    b.http = client_builder(srv.tls_ca.as_deref())
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap();
    b
}

/// The page is in `lang`, left to right, in the shipped frame: the language switcher
/// offers English and Hindi with `lang` chosen, and nothing is styled inline (the pages'
/// CSP allows only the stylesheet).
#[track_caller]
fn assert_frame(page: &str, lang: &str) {
    assert!(
        page.contains(&format!("<html lang=\"{lang}\" dir=\"ltr\">")),
        "not in {lang}: {page}"
    );
    assert!(
        page.contains("<select id=\"tg-lang\" name=\"lang\">"),
        "no switcher: {page}"
    );
    assert!(
        page.contains(&format!(
            "<option value=\"{lang}\" lang=\"{lang}\" selected>"
        )),
        "{lang} not chosen: {page}"
    );
    for tag in ["en", "hi"] {
        assert!(
            page.contains(&format!("<option value=\"{tag}\" lang=\"{tag}\"")),
            "{tag} not offered: {page}"
        );
    }
    assert!(page.contains("/theme.css?v="), "{page}");
    assert!(
        !page.contains("style=") && !page.contains("<style"),
        "inline style: {page}"
    );
}

/// The switcher's form goes to `path`.
#[track_caller]
fn assert_switches_to(page: &str, path: &str) {
    assert!(
        page.contains(&format!("<form method=\"get\" action=\"{path}\">")),
        "the switcher does not go to {path}: {page}"
    );
}

/// Follows an authorization in `b` to its consent page; returns the page's URL.
async fn to_consent(b: &Browser, t: &TestTenant) -> String {
    let (_, challenge) = pkce();
    let url = authorize_url(t, "openid profile email", &challenge, &[]);
    let (s, loc, body) = b.get(&url).await;
    assert_eq!(s, 303, "{body}");
    let login = loc.unwrap();
    let (_, _, page) = b.get(&login).await;
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, loc, body) = b
        .post_form(
            &format!("{}/login", t.issuer),
            &[
                ("email", t.email.as_str()),
                ("password", PASSWORD),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let consent = loc.unwrap();
    assert!(consent.contains("/consent?tx="), "{consent}");
    consent
}

/// GETs `url` in `lang` (overriding the browser's own `Accept-Language`).
async fn get_in(b: &Browser, url: &str, lang: &str) -> (u16, String) {
    let r = b
        .http
        .get(url)
        .header(ACCEPT_LANGUAGE, lang)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[actix_web::test]
async fn consent_account_and_sign_out_follow_the_reader_s_language() {
    let srv = TestServer::start().await;
    let t = srv.tenant("bhasha", false, false).await;
    let b = browser_in(&srv, "hi");

    // Consent, in Hindi by Accept-Language.
    let consent = to_consent(&b, &t).await;
    let (s, _, page) = b.get(&consent).await;
    assert_eq!(s, 200, "{page}");
    assert_frame(&page, "hi");
    assert!(
        page.contains("<title>पहुँच की अनुमति दें · Tenant bhasha</title>"),
        "{page}"
    );
    assert!(
        page.contains("<h1>Test app आपके खाते तक पहुँच चाहता है</h1>"),
        "{page}"
    );
    assert!(page.contains("<li>आपकी पहचान जानना (आपकी खाता आईडी)</li>"));
    assert!(page.contains("<li>आपका ईमेल पता देखना</li>"));
    assert!(page.contains(">अनुमति दें</button>") && page.contains(">मना करें</button>"));
    // The switcher comes back to this consent, transaction and all.
    assert_switches_to(&page, "/bhasha/consent");
    let tx = hidden(&page, "tx").unwrap();
    assert_eq!(
        page.matches(&format!("value=\"{tx}\"")).count(),
        2,
        "{page}"
    );

    // The same page in English, worded as before.
    let (s, en) = get_in(&b, &consent, "en").await;
    assert_eq!(s, 200, "{en}");
    assert_frame(&en, "en");
    assert!(
        en.contains("<h1>Test app wants access to your account</h1>"),
        "{en}"
    );
    assert!(en.contains("<p>It will be able to:</p>"));
    assert!(en.contains("<li>Know who you are (your account id)</li>"));
    assert!(en.contains("<li>See your name</li>"));
    assert!(en.contains(">Allow</button>") && en.contains(">Deny</button>"));
    assert!(en.contains("<title>Allow access · Tenant bhasha</title>"));

    let csrf = hidden(&page, "csrf").unwrap();
    let (s, loc, body) = b
        .post_form(
            &format!("{}/consent", t.issuer),
            &[("decision", "allow"), ("tx", &tx), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    assert!(loc.unwrap().contains("code="));

    // The account page, in Hindi: sessions (with the date in Hindi) and the app.
    let account = format!("{}/account", t.issuer);
    let (s, _, page) = b.get(&account).await;
    assert_eq!(s, 200, "{page}");
    assert_frame(&page, "hi");
    assert!(page.contains("<h1>आपका खाता</h1>"), "{page}");
    assert!(page.contains("इस रूप में साइन इन <strong>user@bhasha.example</strong> (Ada Lovelace)"));
    assert!(page.contains("<h2>आप कहाँ-कहाँ साइन इन हैं</h2>"), "{page}");
    assert!(page.contains("UTC पर साइन इन"), "{page}");
    assert!(page.contains("<span class=\"muted\">यह ब्राउज़र</span>"));
    assert!(page.contains("<h2>जिन ऐप के पास पहुँच है</h2>"));
    assert!(page.contains("<strong>Test app</strong>") && page.contains(">पहुँच हटाएँ</button>"));
    assert!(page.contains(">मेरा डेटा डाउनलोड करें</a>"));
    assert!(page.contains("<button type=\"submit\" class=\"secondary\">साइन आउट करें</button>"));
    let months = [
        "जन॰",
        "फ़र॰",
        "मार्च",
        "अप्रैल",
        "मई",
        "जून",
        "जुल॰",
        "अग॰",
        "सित॰",
        "अक्तू॰",
        "नव॰",
        "दिस॰",
    ];
    assert!(
        months.iter().any(|m| page.contains(m)),
        "no Hindi date: {page}"
    );

    // In English, as before.
    let (s, en) = get_in(&b, &account, "en").await;
    assert_eq!(s, 200);
    assert_frame(&en, "en");
    assert!(en.contains("<h1>Your account</h1>"), "{en}");
    assert!(en.contains("Signed in as <strong>user@bhasha.example</strong> (Ada Lovelace)"));
    assert!(en.contains("<h2>Where you are signed in</h2>"));
    assert!(
        en.contains(" UTC <span class=\"muted\">(pwd)</span>"),
        "{en}"
    );
    assert!(en.contains("this browser"));
    assert!(en.contains("<h2>Apps with access</h2>") && en.contains(">Remove access</button>"));
    assert!(en.contains(">Download my data</a>"));

    // The switcher: `?lang=en` shows English and is remembered over Accept-Language.
    let (s, _, page) = b.get(&format!("{account}?lang=en")).await;
    assert_eq!(s, 200);
    assert_frame(&page, "en");
    let (_, _, page) = b.get(&account).await;
    assert_frame(&page, "en");
    assert!(page.contains("<h1>Your account</h1>"));
    let (_, _, page) = b.get(&format!("{account}?lang=hi")).await;
    assert_frame(&page, "hi");

    // Sign-out: the question, then the answer, in Hindi.
    let logout = format!("{}/logout", t.issuer);
    let (s, _, page) = b.get(&logout).await;
    assert_eq!(s, 200, "{page}");
    assert_frame(&page, "hi");
    assert!(page.contains("<h1>साइन आउट करें?</h1>"), "{page}");
    assert!(page.contains("क्या आप Tenant bhasha से साइन आउट करना चाहते हैं?"));
    assert_switches_to(&page, "/bhasha/logout");
    let (_, en) = get_in(&b, &logout, "en").await;
    // `?lang=hi` chose Hindi a moment ago: the cookie wins over the header.
    assert_frame(&en, "hi");
    let (_, _, en) = b.get(&format!("{logout}?lang=en")).await;
    assert_frame(&en, "en");
    assert!(
        en.contains("<h1>Sign out?</h1>")
            && en.contains("Do you want to sign out of Tenant bhasha?")
    );
    let (_, _, page) = b.get(&format!("{logout}?lang=hi")).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, page) = b
        .post_form(&logout, &[("confirm", "yes"), ("csrf", &csrf)])
        .await;
    assert_eq!(s, 200, "{page}");
    assert_frame(&page, "hi");
    assert!(page.contains("<h1>आप साइन आउट हो गए हैं</h1>"), "{page}");
    assert!(page.contains("<p>अब आप यह विंडो बंद कर सकते हैं।</p>"));
    // Signed out: the account page sends the browser to sign in.
    let (s, loc, _) = b.get(&account).await;
    assert_eq!((s, loc), (303, Some(format!("{}/login", t.issuer))));
}

/// A public client for TVs allowed the device grant; its id.
async fn device_client(srv: &TestServer, tenant: &str) -> String {
    srv.admin(
        &format!("/tenants/{tenant}/clients"),
        json!({"name": "Living room TV", "public": true, "grant_types": [DEVICE_GRANT]}),
    )
    .await["client_id"]
        .as_str()
        .unwrap()
        .into()
}

async fn device_codes(t: &TestTenant, client_id: &str) -> Value {
    let form = [("client_id", client_id), ("scope", "openid offline_access")];
    let r = reqwest::Client::new()
        .post(format!("{}/device_authorization", t.issuer))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Types `code` on the device page; returns status and body.
async fn enter_code(b: &Browser, t: &TestTenant, code: &str) -> (u16, Option<String>, String) {
    let csrf = fresh_csrf(b, &format!("{}/device", t.issuer)).await;
    b.post_form(
        &format!("{}/device", t.issuer),
        &[("user_code", code), ("csrf", &csrf)],
    )
    .await
}

#[actix_web::test]
async fn the_device_pages_in_hindi_and_in_english() {
    let srv = TestServer::start().await;
    let t = srv.tenant("tv", false, false).await;
    let client = device_client(&srv, "tv").await;
    let b = browser_in(&srv, "hi");
    let device = format!("{}/device", t.issuer);

    let (s, _, page) = b.get(&device).await;
    assert_eq!(s, 200, "{page}");
    assert_frame(&page, "hi");
    assert!(page.contains("<h1>डिवाइस जोड़ें</h1>"), "{page}");
    assert!(page.contains("<label for=\"user_code\">कोड</label>"));
    assert!(page.contains("आठ अक्षर; डैश लगाना ज़रूरी नहीं है।"));
    let (_, en) = get_in(&srv.browser(), &device, "en").await;
    assert_frame(&en, "en");
    assert!(en.contains("<h1>Connect a device</h1>"), "{en}");
    assert!(en.contains("Enter the code shown on your TV, console or other device."));
    assert!(en.contains("Eight letters; the dash is optional."));

    // A wrong code: the error, linked to the field, in Hindi; the switcher goes back to
    // the device page (a POST has no page of its own).
    let (s, _, page) = enter_code(&b, &t, "BBBB-BBBB").await;
    assert_eq!(s, 400, "{page}");
    assert_frame(&page, "hi");
    assert!(
        page.contains("<p class=\"error\" id=\"form-error\" role=\"alert\">यह कोड सही नहीं है।"),
        "{page}"
    );
    assert!(page.contains("aria-describedby=\"form-error user_code_help\""));
    assert_switches_to(&page, "/tv/device");
    let (_, _, en) = enter_code(&srv.browser(), &t, "BBBB-BBBB").await;
    assert!(
        en.contains("That code is not right. Check the code on your device and try again."),
        "{en}"
    );

    // The right code, sign-in, then the confirmation in Hindi with the code to compare.
    let codes = device_codes(&t, &client).await;
    let user_code = codes["user_code"].as_str().unwrap();
    let (s, loc, page) = enter_code(&b, &t, user_code).await;
    assert_eq!(s, 303, "{page}");
    let confirm = b.authorize(&loc.unwrap(), &t.email, PASSWORD).await;
    assert!(confirm.contains("/device/confirm?tx="), "{confirm}");
    let (s, _, page) = b.get(&confirm).await;
    assert_eq!(s, 200, "{page}");
    assert_frame(&page, "hi");
    assert!(
        page.contains("<h1>क्या अपने डिवाइस पर Living room TV को अनुमति दें?</h1>"),
        "{page}"
    );
    assert!(page.contains(&format!("<strong class=\"code\">{user_code}</strong>")));
    assert!(page.contains("<li>आपकी पहचान जानना (आपकी खाता आईडी)</li>"));
    let (_, en) = get_in(&b, &confirm, "en").await;
    assert!(
        en.contains("<h1>Allow Living room TV on your device?</h1>"),
        "{en}"
    );
    assert!(en.contains("<li>Stay signed in and act for you while you are away</li>"));
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, page) = b
        .post_form(
            &format!("{}/device/confirm", t.issuer),
            &[("decision", "allow"), ("tx", &tx), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert_frame(&page, "hi");
    assert!(page.contains("<h1>आपका डिवाइस जुड़ गया है</h1>"), "{page}");

    // Too many wrong codes: the error page in Hindi keeps its status and Retry-After.
    let mut last = None;
    for _ in 0..12 {
        let csrf = fresh_csrf(&b, &device).await;
        let r = b
            .http
            .post(&device)
            .form(&[("user_code", "CCCC-CCCC"), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            last = Some(r);
            break;
        }
        assert_eq!(r.status(), 400);
    }
    let r = last.expect("wrong codes are cut off");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0);
    let page = r.text().await.unwrap();
    assert_frame(&page, "hi");
    assert!(page.contains("<h1>कुछ गड़बड़ हो गई</h1>"), "{page}");
    assert!(
        page.contains("साइन इन की बहुत सारी कोशिशें विफल रहीं।"),
        "{page}"
    );
    assert_switches_to(&page, "/tv/login");
}

#[actix_web::test]
async fn error_pages_in_the_reader_s_language_and_the_tenant_s_frame() {
    let srv = TestServer::start().await;
    let t = srv.tenant("galti", false, false).await;
    let hi = browser_in(&srv, "hi");
    let en = srv.browser();

    // An expired (here: forged) transaction.
    let stale = format!("{}/consent?tx=forged", t.issuer);
    let (s, _, page) = hi.get(&stale).await;
    assert_eq!(s, 400, "{page}");
    assert_frame(&page, "hi");
    assert!(
        page.contains("<title>कुछ गड़बड़ हो गई · Tenant galti</title>"),
        "{page}"
    );
    assert!(page.contains(
        "<p class=\"error\" role=\"alert\">इस लिंक की समय-सीमा ख़त्म हो गई है। ऐप्लिकेशन पर वापस जाएँ और फिर से कोशिश करें।</p>"
    ));
    // Its switcher shows the same page again, in another language.
    assert_switches_to(&page, "/galti/consent");
    let (s, _, page) = en.get(&stale).await;
    assert_eq!(s, 400);
    assert_frame(&page, "en");
    assert!(page.contains("<h1>Something went wrong</h1>"));
    assert!(page.contains("This link expired. Go back to the application and try again."));
    let (s, _, page) = en.get(&format!("{stale}&lang=hi")).await;
    assert_eq!(s, 400);
    assert_frame(&page, "hi");

    // The engine's refusal of an authorization request it cannot send back.
    let (_, challenge) = pkce();
    let unknown = TestTenant {
        client_id: "no-such-app".into(),
        ..t.clone()
    };
    let url = authorize_url(&unknown, "openid", &challenge, &[]);
    let (s, _, page) = hi.get(&url).await;
    assert_eq!(s, 400, "{page}");
    assert_frame(&page, "hi");
    assert!(
        page.contains("यह ऐप्लिकेशन (client_id) जाना-पहचाना नहीं है।"),
        "{page}"
    );
    // (`en` chose Hindi on the switcher above: a new browser.)
    let en = srv.browser();
    let (_, page) = get_in(&en, &url, "en").await;
    assert!(
        page.contains("The application (client_id) is not known."),
        "{page}"
    );

    // A stale form, answering a POST: its switcher goes to the sign-in page.
    let (s, _, page) = hi
        .post_form(
            &format!("{}/consent", t.issuer),
            &[("decision", "allow"), ("csrf", "stale")],
        )
        .await;
    assert_eq!(s, 403, "{page}");
    assert_frame(&page, "hi");
    assert!(
        page.contains("यह फ़ॉर्म पुराना हो गया है। कृपया फिर से कोशिश करें।"),
        "{page}"
    );
    assert_switches_to(&page, "/galti/login");

    // A tenant that does not exist: the shipped look, in the reader's language.
    let (s, _, page) = hi.get(&format!("{}/nowhere/login", srv.base)).await;
    assert_eq!(s, 404, "{page}");
    assert!(page.contains("<html lang=\"hi\" dir=\"ltr\">"), "{page}");
    assert!(page.contains("यह साइन-इन पता मौजूद नहीं है।"), "{page}");
    assert!(
        page.contains("<link rel=\"stylesheet\" href=\"/assets/tollgate.css\">"),
        "{page}"
    );
    // Nothing is remembered for a tenant that does not exist.
    let r = hi
        .http
        .get(format!("{}/nowhere/login?lang=en", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains("<html lang=\"en\""));
    let (s, _, page) = en.get(&format!("{}/nowhere/login", srv.base)).await;
    assert_eq!(s, 404);
    assert!(
        page.contains("This sign-in address does not exist."),
        "{page}"
    );
}
