//! The account portal in the user's language: the account page follows `Accept-Language`
//! until the user saves a language on it (the `locale` profile field, a normal audited
//! profile change); then the saved language wins over the browser's, and the page's
//! switcher (`?lang=`) wins over the saved one in that browser until the next save. A
//! language the tenant's pages are not offered in, or markup, is refused and nothing is
//! saved. Pages answering a form speak the saved language too, with the engine's refusals
//! translated.

mod common;

use common::*;
use serde_json::Value;

/// GETs `url` with `Accept-Language: {lang}`: status and body.
async fn get_in(b: &Browser, url: &str, lang: &str) -> (u16, String) {
    let r = b
        .http
        .get(url)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// POSTs a form with `Accept-Language: {lang}`: status, Location, the names of the
/// cookies removed (`Max-Age=0`), and the body.
async fn post_in(
    b: &Browser,
    url: &str,
    lang: &str,
    form: &[(&str, &str)],
) -> (u16, Option<String>, Vec<String>, String) {
    let r = b
        .http
        .post(url)
        .header("accept-language", lang)
        .form(form)
        .send()
        .await
        .unwrap();
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let removed = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|c| c.contains("Max-Age=0"))
        .filter_map(|c| c.split('=').next().map(str::to_owned))
        .collect();
    (r.status().as_u16(), loc, removed, r.text().await.unwrap())
}

/// The language the page is in, from `<html lang="…"`.
fn page_lang(page: &str) -> &str {
    let start = page.find("<html lang=\"").expect("an html element") + 12;
    let end = page[start..].find('"').unwrap();
    &page[start..start + end]
}

/// The value of the language setting's selected option ("" = the browser's).
fn saved_choice(page: &str) -> String {
    let start = page
        .find("<select id=\"locale\"")
        .expect("the language setting");
    let select = &page[start..start + page[start..].find("</select>").unwrap()];
    let option = select
        .split("<option")
        .find(|o| o.contains(" selected"))
        .expect("a selected option");
    hidden(&format!("name=\"x\" {}", option.trim_start()), "x").unwrap_or_default()
}

/// The user's profile-change events, newest first.
async fn profile_events(srv: &TestServer) -> Vec<Value> {
    srv.events("lang", "kind=user.profile_updated").await
}

#[actix_web::test]
async fn a_saved_language_beats_the_browser_and_the_switcher_beats_it() {
    let srv = TestServer::start().await;
    let t = srv.tenant("lang", false, true).await;
    let b = srv.browser();
    let account = format!("{}/account", t.issuer);
    let language = format!("{}/account/language", t.issuer);

    // Signed in on the tenant's own page, in Hindi.
    let (_, login) = get_in(&b, &format!("{}/login", t.issuer), "hi").await;
    let csrf = hidden(&login, "csrf").unwrap();
    let (s, _, _, _) = post_in(
        &b,
        &format!("{}/login", t.issuer),
        "hi",
        &[("email", &t.email), ("password", PASSWORD), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, 303);

    // The account page follows Accept-Language: Hindi, with the language setting on
    // "the browser's".
    let (s, page) = get_in(&b, &account, "hi-IN,hi;q=0.9,en;q=0.5").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page_lang(&page), "hi", "{page}");
    assert!(page.contains("<html lang=\"hi\" dir=\"ltr\">"));
    assert!(page.contains("<h2>प्रोफ़ाइल</h2>"), "{page}");
    assert!(page.contains("id=\"language\"") && page.contains("भाषा सहेजें"));
    assert!(page.contains("मेरे ब्राउज़र की भाषा"));
    assert_eq!(saved_choice(&page), "");
    assert!(page.contains("<option value=\"en\" lang=\"en\">English</option>"));
    let (_, page) = get_in(&b, &account, "en").await;
    assert_eq!(page_lang(&page), "en");
    assert!(page.contains("<h2>Profile</h2>") && page.contains("Save language"));

    // Saving English: a profile change (audited), and this browser's switcher choice is
    // forgotten so that the saved language shows.
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, loc, removed, body) =
        post_in(&b, &language, "hi", &[("locale", "en"), ("csrf", &csrf)]).await;
    assert_eq!(s, 303, "{body}");
    assert!(loc.unwrap().ends_with("/lang/account#language"));
    assert!(removed.iter().any(|c| c == "tg_lang"), "{removed:?}");
    let ev = profile_events(&srv).await;
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0]["detail"], "locale");
    assert_eq!(ev[0]["result"], "success");

    // Now English even when the browser asks for Hindi.
    let (_, page) = get_in(&b, &account, "hi").await;
    assert_eq!(page_lang(&page), "en", "{page}");
    assert!(page.contains("<h2>Profile</h2>"));
    assert_eq!(saved_choice(&page), "en");
    // The profile form does not offer the language as a free-text field.
    assert!(!page.contains("name=\"field.locale\""), "{page}");

    // The switcher beats the saved language, and keeps doing so in this browser.
    let (_, page) = get_in(&b, &format!("{account}?lang=hi"), "en").await;
    assert_eq!(page_lang(&page), "hi", "{page}");
    assert_eq!(saved_choice(&page), "en");
    let (_, page) = get_in(&b, &account, "en").await;
    assert_eq!(
        page_lang(&page),
        "hi",
        "the switcher's choice is kept: {page}"
    );

    // Saving Hindi; then the pages answering a form are in Hindi too, with the engine's
    // refusal in Hindi.
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, _, _) = post_in(&b, &language, "en", &[("locale", "hi-IN"), ("csrf", &csrf)]).await;
    assert_eq!(s, 303);
    let (_, page) = get_in(&b, &account, "en").await;
    assert_eq!(page_lang(&page), "hi");
    assert_eq!(
        saved_choice(&page),
        "hi",
        "hi-IN is saved as the offered hi"
    );
    let (s, _, _, body) = post_in(
        &b,
        &format!("{}/account/profile", t.issuer),
        "en",
        &[("field.birthdate", "yesterday"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(page_lang(&body), "hi", "{body}");
    assert!(
        body.contains("<p class=\"error\" id=\"form-error\" role=\"alert\">जन्म तिथि YYYY-MM-DD के रूप में लिखें।</p>"),
        "{body}"
    );
    assert!(body.contains("aria-describedby=\"form-error\""));
    // Back to the browser's language ("" removes the saved one).
    let (s, _, _, _) = post_in(&b, &language, "en", &[("locale", ""), ("csrf", &csrf)]).await;
    assert_eq!(s, 303);
    let (_, page) = get_in(&b, &account, "en").await;
    assert_eq!(page_lang(&page), "en");
    assert_eq!(saved_choice(&page), "");
    assert_eq!(profile_events(&srv).await.len(), 3);
}

#[actix_web::test]
async fn an_unknown_language_or_markup_is_refused_and_nothing_is_saved() {
    let srv = TestServer::start().await;
    let t = srv.tenant("lang", false, true).await;
    let b = srv.browser();
    let account = format!("{}/account", t.issuer);
    let csrf = fresh_csrf(&b, &format!("{}/login", t.issuer)).await;
    let (s, _, _) = b
        .post_form(
            &format!("{}/login", t.issuer),
            &[("email", &t.email), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let (_, page) = get_in(&b, &account, "en").await;
    let csrf = hidden(&page, "csrf").unwrap();

    for wanted in [
        // Well-formed, but the tenant's pages are not offered in Tamil.
        "ta",
        "<script>alert(1)</script>",
        "en\" onmouseover=\"x",
    ] {
        let (s, loc, _, body) = post_in(
            &b,
            &format!("{}/account/language", t.issuer),
            "en",
            &[("locale", wanted), ("csrf", &csrf)],
        )
        .await;
        assert_eq!((s, loc), (400, None), "{wanted}: {body}");
        assert!(
            body.contains(
                "<p class=\"error\" id=\"form-error\" role=\"alert\">Choose one of the languages in the list. Your language was not changed.</p>"
            ),
            "{wanted}: {body}"
        );
        // The form again, with the choice linked to the message, and nothing echoed.
        assert!(body.contains("aria-describedby=\"locale-hint form-error\""));
        assert!(
            !body.contains("<script>alert") && !body.contains("onmouseover"),
            "{body}"
        );
        assert!(!body.contains("value=\"ta\""), "{body}");
    }
    // In the user's language: the same refusal in Hindi.
    let (s, _, _, body) = post_in(
        &b,
        &format!("{}/account/language", t.issuer),
        "hi",
        &[("locale", "xx"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("सूची में से कोई एक भाषा चुनें।"), "{body}");
    // The profile form cannot save one either.
    let (s, _, _, body) = post_in(
        &b,
        &format!("{}/account/profile", t.issuer),
        "en",
        &[("field.locale", "<script>"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("Choose one of the languages in the list."));
    // Without the CSRF token: refused.
    let (s, _, _, body) = post_in(
        &b,
        &format!("{}/account/language", t.issuer),
        "en",
        &[("locale", "hi")],
    )
    .await;
    assert_eq!(s, 403, "{body}");

    // Nothing was saved: no profile change, and the page still follows the browser.
    assert!(profile_events(&srv).await.is_empty());
    let (_, page) = get_in(&b, &account, "hi").await;
    assert_eq!(page_lang(&page), "hi");
    assert_eq!(saved_choice(&page), "");
    let (_, page) = get_in(&b, &account, "en").await;
    assert_eq!(page_lang(&page), "en");
}
