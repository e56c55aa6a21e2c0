//! The device authorization grant (RFC 8628) over HTTP: a device asks for codes, the user
//! enters the code on the hosted page, signs in and allows (or denies) it while the device
//! polls; every bad input gets the RFC's error code and changes nothing. The engine runs
//! on a `ManualClock`, so intervals and expiry are crossed without waiting.

mod common;

use common::{Browser, PASSWORD, TestServer, TestTenant, hidden, jwt_claims, token_with};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_engine::clock::{Clock, ManualClock, SystemClock};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn start() -> (TestServer, ManualClock) {
    let clock = ManualClock::new(SystemClock.now());
    let s = TestServer::start_with_clock(Arc::new(clock.clone())).await;
    (s, clock)
}

/// A tenant with one user, and a public client for TVs allowed the device grant.
async fn setup(s: &TestServer, id: &str) -> TestTenant {
    let t = s.tenant(id, false, false).await;
    let c = s
        .admin(
            &format!("/tenants/{id}/clients"),
            json!({
                "name": "Living room TV",
                "public": true,
                "grant_types": [DEVICE_GRANT, "refresh_token"],
            }),
        )
        .await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: None,
        ..t
    }
}

async fn device_authorization(t: &TestTenant, scope: &str) -> (u16, Value) {
    let mut form = vec![("client_id", t.client_id.as_str()), ("scope", scope)];
    if let Some(secret) = &t.client_secret {
        form.push(("client_secret", secret));
    }
    let r = reqwest::Client::new()
        .post(format!("{}/device_authorization", t.issuer))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form).unwrap())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn poll(t: &TestTenant, device_code: &str) -> (u16, Value) {
    token_with(
        &reqwest::Client::new(),
        t,
        &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
    )
    .await
}

fn error(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

/// Types a code on the device page; returns status, Location and body.
async fn enter(b: &Browser, t: &TestTenant, code: &str) -> (u16, Option<String>, String) {
    let (status, _, page) = b.get(&format!("{}/device", t.issuer)).await;
    assert_eq!(status, 200, "{page}");
    let csrf = hidden(&page, "csrf").expect("csrf field");
    b.post_form(
        &format!("{}/device", t.issuer),
        &[("user_code", code), ("csrf", &csrf)],
    )
    .await
}

/// Enters the code, signs in and answers the confirmation page; returns its body.
async fn answer(b: &Browser, t: &TestTenant, code: &str, decision: &str) -> String {
    let (status, loc, body) = enter(b, t, code).await;
    assert_eq!(status, 303, "{body}");
    let confirm = b.authorize(&loc.unwrap(), &t.email, PASSWORD).await;
    assert!(confirm.contains("/device/confirm?tx="), "{confirm}");
    let (status, _, page) = b.get(&confirm).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Living room TV"),
        "the page names the client: {page}"
    );
    // The code as typed, shown back to compare with the device's screen (RFC 8628 §5.4).
    let letters: String = code
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let shown = format!("{}-{}", &letters[..4], &letters[4..]);
    assert!(
        page.contains(&format!("<strong class=\"code\">{shown}</strong>")),
        "the page shows the user code: {page}"
    );
    assert!(
        page.contains("Know who you are"),
        "the page names the scopes: {page}"
    );
    let (tx, csrf) = (hidden(&page, "tx").unwrap(), hidden(&page, "csrf").unwrap());
    let (status, _, done) = b
        .post_form(
            &format!("{}/device/confirm", t.issuer),
            &[("decision", decision), ("tx", &tx), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, 200, "{done}");
    done
}

#[actix_web::test]
async fn a_device_signs_in_through_the_hosted_page_and_gets_its_tokens_once() {
    let (s, clock) = start().await;
    let t = setup(&s, "living").await;
    let (status, d) = device_authorization(&t, "openid offline_access").await;
    assert_eq!(status, 200, "{d}");
    let user_code = d["user_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9, "{d}");
    assert_eq!(&user_code[4..5], "-");
    assert!(
        user_code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert_eq!(d["verification_uri"], format!("{}/device", t.issuer));
    assert_eq!(
        d["verification_uri_complete"],
        format!("{}/device?user_code={user_code}", t.issuer)
    );
    assert_eq!(
        (d["expires_in"].as_u64(), d["interval"].as_u64()),
        (Some(600), Some(5))
    );
    let device_code = d["device_code"].as_str().unwrap().to_owned();
    assert!(device_code.len() >= 43);

    // Pending; polling again at once is too fast, and the interval grows by 5 s.
    let (status, v) = poll(&t, &device_code).await;
    assert_eq!((status, error(&v)), (400, "authorization_pending"), "{v}");
    let (status, v) = poll(&t, &device_code).await;
    assert_eq!((status, error(&v)), (400, "slow_down"), "{v}");
    clock.advance(5);
    let (_, v) = poll(&t, &device_code).await;
    assert_eq!(error(&v), "slow_down", "5 s is no longer enough: {v}");
    // Two slow-downs: 15 s from the last poll.
    clock.advance(15);
    let (_, v) = poll(&t, &device_code).await;
    assert_eq!(error(&v), "authorization_pending", "{v}");

    // The complete URI fills the code in.
    let b = s.browser();
    let (_, _, page) = b
        .get(d["verification_uri_complete"].as_str().unwrap())
        .await;
    assert!(page.contains(&format!("value=\"{user_code}\"")), "{page}");
    // Typed in lower case without the dash, it is the same code.
    let typed = user_code.replace('-', "").to_lowercase();
    let done = answer(&b, &t, &typed, "allow").await;
    assert!(done.contains("Your device is connected"), "{done}");

    clock.advance(15);
    let (status, tokens) = poll(&t, &device_code).await;
    assert_eq!(status, 200, "{tokens}");
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(id["aud"], t.client_id.as_str());
    assert_eq!(access["client_id"], t.client_id.as_str());
    assert_eq!(access["sub"], id["sub"]);
    assert_eq!(tokens["scope"], "openid offline_access");
    let userinfo: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["sub"], id["sub"], "{userinfo}");

    // Issued once: the same device code again is refused, however slowly it comes.
    clock.advance(30);
    let (status, v) = poll(&t, &device_code).await;
    assert_eq!((status, error(&v)), (400, "invalid_grant"), "{v}");
    // The refresh token works like any other.
    let (status, refreshed) = common::refresh(&t, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    // The user code was spent by the answer: it leads nowhere any more.
    let (status, loc, page) = enter(&b, &t, &user_code).await;
    assert_eq!((status, loc), (400, None));
    assert!(page.contains("That code is not right"), "{page}");

    let events = s.events("living", "kind=device.").await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"device.approved"), "{kinds:?}");
}

#[actix_web::test]
async fn a_denied_device_is_told_so_and_gets_nothing() {
    let (s, clock) = start().await;
    let t = setup(&s, "denied").await;
    let (_, d) = device_authorization(&t, "openid").await;
    let device_code = d["device_code"].as_str().unwrap();
    let b = s.browser();
    let (status, loc, body) = enter(&b, &t, d["user_code"].as_str().unwrap()).await;
    assert_eq!(status, 303, "{body}");
    let confirm = b.authorize(&loc.unwrap(), &t.email, PASSWORD).await;
    let (_, _, page) = b.get(&confirm).await;
    let (tx, csrf) = (hidden(&page, "tx").unwrap(), hidden(&page, "csrf").unwrap());
    let url = format!("{}/device/confirm", t.issuer);
    // Without its CSRF token (or with another browser's) the answer is not taken.
    let other_csrf = common::fresh_csrf(&s.browser(), &format!("{}/device", t.issuer)).await;
    for bad in ["", other_csrf.as_str()] {
        let (status, _, body) = b
            .post_form(&url, &[("decision", "allow"), ("tx", &tx), ("csrf", bad)])
            .await;
        assert_eq!(status, 403, "{body}");
    }
    clock.advance(6);
    let (_, v) = poll(&t, device_code).await;
    assert_eq!(error(&v), "authorization_pending", "{v}");
    let (status, _, done) = b
        .post_form(&url, &[("decision", "deny"), ("tx", &tx), ("csrf", &csrf)])
        .await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Request denied"), "{done}");
    // Answered once: allowing now changes nothing.
    let (status, _, body) = b
        .post_form(&url, &[("decision", "allow"), ("tx", &tx), ("csrf", &csrf)])
        .await;
    assert_eq!(status, 400, "{body}");
    for _ in 0..2 {
        clock.advance(6);
        let (status, v) = poll(&t, device_code).await;
        assert_eq!((status, error(&v)), (400, "access_denied"), "{v}");
    }
}

#[actix_web::test]
async fn bad_codes_and_bad_clients_get_the_protocols_answers() {
    let (s, clock) = start().await;
    let t = setup(&s, "badcodes").await;
    let (_, d) = device_authorization(&t, "openid").await;
    let device_code = d["device_code"].as_str().unwrap();
    let user_code = d["user_code"].as_str().unwrap();
    let b = s.browser();

    // Unknown and malformed user codes: the form again, with the reason, no redirect.
    for wrong in ["BBBB-BBBB", "not a code", ""] {
        let (status, loc, page) = enter(&b, &t, wrong).await;
        assert_eq!((status, loc), (400, None), "{wrong}: {page}");
        assert!(page.contains("That code is not right"), "{page}");
    }
    // A form without its CSRF token changes nothing.
    let (status, loc, _) = b
        .post_form(&format!("{}/device", t.issuer), &[("user_code", user_code)])
        .await;
    assert_eq!((status, loc), (403, None));

    // Another client cannot poll with this device code; an unknown code is refused.
    let other = TestTenant {
        client_id: setup_other(&s, "badcodes").await,
        ..t.clone()
    };
    clock.advance(6);
    let (status, v) = poll(&other, device_code).await;
    assert_eq!((status, error(&v)), (400, "invalid_grant"), "{v}");
    let (_, v) = poll(&t, "made-up").await;
    assert_eq!(error(&v), "invalid_grant", "{v}");
    let (status, v) = poll(&t, device_code).await;
    assert_eq!(
        (status, error(&v)),
        (400, "authorization_pending"),
        "still pending: {v}"
    );

    // A client without the device grant, an unknown scope, no device_code.
    let browser_client = TestTenant {
        client_id: s
            .admin(
                "/tenants/badcodes/clients",
                json!({"name": "Web", "redirect_uris": ["http://127.0.0.1:9/cb"], "public": true}),
            )
            .await["client_id"]
            .as_str()
            .unwrap()
            .into(),
        ..t.clone()
    };
    let (status, v) = device_authorization(&browser_client, "openid").await;
    assert_eq!((status, error(&v)), (400, "unauthorized_client"), "{v}");
    let (status, v) = device_authorization(&t, "openid admin").await;
    assert_eq!((status, error(&v)), (400, "invalid_scope"), "{v}");
    // A confidential client with a wrong secret; an unknown API as resource.
    let wrong_secret = TestTenant {
        client_secret: Some("not-the-secret".into()),
        ..t.clone()
    };
    let (status, v) = device_authorization(&wrong_secret, "openid").await;
    assert_eq!((status, error(&v)), (401, "invalid_client"), "{v}");
    let r = reqwest::Client::new()
        .post(format!("{}/device_authorization", t.issuer))
        .form(&[
            ("client_id", t.client_id.as_str()),
            ("scope", "openid"),
            ("resource", "https://nowhere.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(error(&v), "invalid_target", "{v}");
    let (status, v) =
        token_with(&reqwest::Client::new(), &t, &[("grant_type", DEVICE_GRANT)]).await;
    assert_eq!((status, error(&v)), (400, "invalid_request"), "{v}");

    // Past its ten minutes: the user code is refused and the device told expired_token.
    clock.advance(600);
    let (status, _, page) = enter(&b, &t, user_code).await;
    assert_eq!(status, 400);
    assert!(page.contains("That code"), "{page}");
    let (status, v) = poll(&t, device_code).await;
    assert_eq!((status, error(&v)), (400, "expired_token"), "{v}");
}

/// A second device client of the tenant; its id.
async fn setup_other(s: &TestServer, id: &str) -> String {
    s.admin(
        &format!("/tenants/{id}/clients"),
        json!({"name": "Other TV", "public": true, "grant_types": [DEVICE_GRANT]}),
    )
    .await["client_id"]
        .as_str()
        .unwrap()
        .into()
}

#[actix_web::test]
async fn guessing_user_codes_is_cut_off() {
    let (s, _clock) = start().await;
    let t = setup(&s, "guessing").await;
    let (_, d) = device_authorization(&t, "openid").await;
    let b = s.browser();
    for i in 0..10 {
        let (status, _, _) = enter(&b, &t, "BBBB-BBBB").await;
        assert_eq!(status, 400, "guess {i}");
    }
    // Out of guesses: even the right code is refused until the window ends.
    let (status, loc, page) = enter(&b, &t, d["user_code"].as_str().unwrap()).await;
    assert_eq!((status, loc), (429, None), "{page}");
}

#[actix_web::test]
async fn discovery_advertises_the_device_grant() {
    let s = TestServer::start().await;
    let t = s.tenant("disco", true, false).await;
    let doc: Value = common::discovery(&t).await;
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{}/device_authorization", t.issuer)
    );
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == DEVICE_GRANT), "{doc}");
}

#[actix_web::test]
async fn a_device_allowed_from_a_session_that_has_ended_gets_nothing() {
    let (s, clock) = start().await;
    let t = setup(&s, "ended").await;
    let (_, d) = device_authorization(&t, "openid offline_access").await;
    let device_code = d["device_code"].as_str().unwrap();
    let b = s.browser();
    let done = answer(&b, &t, d["user_code"].as_str().unwrap(), "allow").await;
    assert!(done.contains("Your device is connected"), "{done}");
    // The user signs out before the device polls.
    let csrf = common::fresh_csrf(&b, &format!("{}/account", t.issuer)).await;
    let (status, _, body) = b
        .post_form(
            &format!("{}/logout", t.issuer),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert!(status == 200 || status == 303, "{status} {body}");
    clock.advance(6);
    let (status, v) = poll(&t, device_code).await;
    assert_eq!((status, error(&v)), (400, "invalid_grant"), "{v}");
}
