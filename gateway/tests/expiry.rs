//! Everything that expires, at its boundary, on a clock the test moves (no sleeping): the
//! engine runs on a `ManualClock`, and each thing is shown to work one second before its
//! lifetime ends and to fail, with its exact protocol error or page message, one second
//! after. Authorization codes, access tokens (userinfo and introspection), refresh chains
//! (their absolute lifetime: there is no idle one), SSO sessions (`prompt=none`), the
//! sign-in transaction a login page carries, emailed codes, and the TOTP window (the
//! adjacent step is accepted, two steps away is not).

mod common;
mod otp_support;

use common::*;
use otp_support::SmtpSink;
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_engine::clock::{Clock, ManualClock};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::Tenant;
use tollgate_gateway::mail::{MailMode, SmtpTls};

/// A manual clock starting at the wall clock's second (JWTs then carry ordinary times).
fn manual_clock() -> ManualClock {
    ManualClock::new(tollgate_engine::clock::SystemClock.now())
}

/// Moves `clock` forward to `at` (never back: the test would be wrong).
fn move_to(clock: &ManualClock, at: u64) {
    let now = clock.now();
    assert!(at >= now, "the clock cannot go back from {now} to {at}");
    clock.advance(at - now);
}

/// A server on `clock`.
async fn server(clock: &ManualClock) -> TestServer {
    TestServer::start_with_clock(Arc::new(clock.clone())).await
}

/// The lifetimes a new tenant gets (the admin API does not change them).
fn tenant_defaults() -> Tenant {
    Tenant::new(TenantId::parse("defaults").unwrap(), String::new(), 0)
}

fn assert_oauth_error(s: u16, v: &Value, status: u16, error: &str, says: &str) {
    assert_eq!((s, v["error"].as_str()), (status, Some(error)), "{v}");
    let d = v["error_description"].as_str().unwrap_or_default();
    assert!(d.contains(says), "{d:?} does not say {says:?}");
}

async fn userinfo(t: &TestTenant, access: &str) -> (u16, Option<String>, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        r.status().as_u16(),
        challenge,
        r.json().await.unwrap_or(Value::Null),
    )
}

async fn introspect(t: &TestTenant, token: &str) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/introspect", t.issuer))
        .basic_auth(&t.client_id, t.client_secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[actix_web::test]
async fn codes_and_access_tokens_work_until_their_last_second() {
    let clock = manual_clock();
    let srv = server(&clock).await;
    let t = srv.tenant("codes", false, true).await;
    let http = reqwest::Client::new();
    let b = srv.browser();
    // Two codes minted in the same second.
    let minted = clock.now();
    let (first, first_verifier) = code_for(&b, &t, "openid").await;
    let (second, second_verifier) = code_for(&b, &t, "openid").await;
    let code_ttl = srv.running.engine.config().code_ttl;
    assert_eq!(code_ttl, 60, "the configured code lifetime");

    let redeemed = minted + code_ttl - 1;
    move_to(&clock, redeemed);
    let (s, tokens) = redeem(&http, &t, &first, &first_verifier).await;
    assert_eq!(s, 200, "a code one second before its expiry: {tokens}");
    move_to(&clock, minted + code_ttl + 1);
    let (s, v) = redeem(&http, &t, &second, &second_verifier).await;
    assert_oauth_error(s, &v, 400, "invalid_grant", "expired");

    // The access token from the first code: its `exp` is the tenant's lifetime after now.
    let access = tokens["access_token"].as_str().unwrap();
    let claims = jwt_claims(access);
    let exp = claims["exp"].as_u64().unwrap();
    assert_eq!(exp, redeemed + tenant_defaults().access_token_ttl);
    assert_eq!(
        tokens["expires_in"],
        json!(tenant_defaults().access_token_ttl)
    );

    move_to(&clock, exp - 1);
    let (s, _, info) = userinfo(&t, access).await;
    assert_eq!((s, &info["sub"]), (200, &claims["sub"]), "{info}");
    let v = introspect(&t, access).await;
    assert_eq!(
        (&v["active"], &v["exp"]),
        (&json!(true), &json!(exp)),
        "{v}"
    );

    move_to(&clock, exp + 1);
    let (s, challenge, info) = userinfo(&t, access).await;
    assert_oauth_error(s, &info, 401, "invalid_token", "expired");
    let challenge = challenge.expect("a WWW-Authenticate challenge");
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(introspect(&t, access).await, json!({"active": false}));
}

#[actix_web::test]
async fn a_refresh_chain_rotates_until_its_absolute_lifetime_ends() {
    let clock = manual_clock();
    let srv = server(&clock).await;
    let t = srv.tenant("chains", false, true).await;
    let b = srv.browser();
    let started = clock.now();
    let tokens = login_tokens(&b, &t, "openid offline_access").await;
    let token = tokens["refresh_token"].as_str().unwrap();
    let v = introspect(&t, token).await;
    let ends = started + tenant_defaults().refresh_token_ttl;
    assert_eq!(
        (&v["active"], &v["exp"]),
        (&json!(true), &json!(ends)),
        "{v}"
    );

    // Rotating does not extend the chain: its lifetime is absolute.
    move_to(&clock, ends - 1);
    let (s, v) = refresh(&t, token).await;
    assert_eq!(s, 200, "a chain one second before its end: {v}");
    let rotated = v["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&t, &rotated).await["exp"], json!(ends));

    move_to(&clock, ends + 1);
    let (s, v) = refresh(&t, &rotated).await;
    assert_oauth_error(s, &v, 400, "invalid_grant", "refresh token expired");
    assert_eq!(introspect(&t, &rotated).await, json!({"active": false}));
}

/// `prompt=none` from the browser's session: the redirect back to the client.
async fn silent(b: &Browser, t: &TestTenant) -> String {
    let (_, challenge) = pkce();
    let (s, loc, body) = b
        .get(&authorize_url(
            t,
            "openid",
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert_eq!(s, 303, "{body}");
    let back = loc.unwrap();
    assert!(back.starts_with(&t.redirect_uri), "{back}");
    back
}

#[actix_web::test]
async fn a_session_answers_prompt_none_until_it_expires() {
    let clock = manual_clock();
    let srv = server(&clock).await;
    let t = srv.tenant("sso", false, true).await;
    let b = srv.browser();
    let signed_in = clock.now();
    code_for(&b, &t, "openid").await;
    let ends = signed_in + tenant_defaults().session_ttl;

    move_to(&clock, ends - 1);
    let back = silent(&b, &t).await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    let (s, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 200, "{page}");

    move_to(&clock, ends + 1);
    let back = silent(&b, &t).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required"),
        "{back}"
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-123"));
    let (s, loc, _) = b.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 303);
    assert_eq!(loc, Some(format!("{}/login", t.issuer)));
}

/// Starts an authorization without a session: the sign-in page's URL.
async fn login_url(b: &Browser, t: &TestTenant) -> String {
    let (_, challenge) = pkce();
    let (s, loc, _) = b.get(&authorize_url(t, "openid", &challenge, &[])).await;
    assert_eq!(s, 303);
    let login = loc.unwrap();
    assert!(login.contains("/login?tx="), "{login}");
    login
}

#[actix_web::test]
async fn a_sign_in_transaction_expires_with_its_login_page() {
    let clock = manual_clock();
    let srv = server(&clock).await;
    let t = srv.tenant("tx", false, true).await;
    let (early, late) = (srv.browser(), srv.browser());
    let started = clock.now();
    let early_login = login_url(&early, &t).await;
    let late_login = login_url(&late, &t).await;
    let ttl = srv.running.engine.config().login_ttl;
    assert_eq!(ttl, 600, "the configured transaction lifetime");

    move_to(&clock, started + ttl - 1);
    let (s, _, page) = early.get(&early_login).await;
    assert_eq!(s, 200, "{page}");
    let (s, loc, body) = early
        .post_form(
            &format!("{}/login", t.issuer),
            &[
                ("email", &t.email),
                ("password", PASSWORD),
                ("tx", &hidden(&page, "tx").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let back = loc.unwrap();
    assert!(
        back.starts_with(&t.redirect_uri) && query_param(&back, "code").is_some(),
        "{back}"
    );

    move_to(&clock, started + ttl + 1);
    let stale = "This link expired. Go back to the application and try again.";
    let (s, _, page) = late.get(&late_login).await;
    assert_eq!(s, 400);
    assert!(page.contains(stale), "{page}");
    // The form posted with it (a fresh CSRF token) is refused the same way.
    let csrf = fresh_csrf(&late, &format!("{}/login", t.issuer)).await;
    let tx = query_param(&late_login, "tx").unwrap();
    let (s, loc, page) = late
        .post_form(
            &format!("{}/login", t.issuer),
            &[
                ("email", &t.email),
                ("password", PASSWORD),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!((s, loc), (400, None));
    assert!(page.contains(stale), "{page}");
}

#[actix_web::test]
async fn an_emailed_code_works_until_its_lifetime_ends() {
    let mut sink = SmtpSink::start().await;
    let clock = manual_clock();
    let port = sink.addr.port();
    let srv = TestServer::start_configured_with_clock(false, Arc::new(clock.clone()), |c| {
        c.mail.mode = MailMode::Smtp;
        c.mail.host = "127.0.0.1".into();
        c.mail.port = Some(port);
        c.mail.tls = SmtpTls::None;
        // Shorter than the sign-in transaction (600 s), so that the code, not the
        // transaction it continues, is what expires.
        c.otp.ttl_secs = 300;
    })
    .await;
    let t = srv.tenant("mailed", false, true).await;
    let other = "second@mailed.example";
    srv.admin(
        "/tenants/mailed/users",
        json!({"email": other, "password": PASSWORD, "email_verified": true}),
    )
    .await;
    let ttl = srv.running.engine.config().otp.ttl_secs;
    assert_eq!(ttl, 300);

    // Two sign-ins by email code, one per user, both sent in the same second.
    let sent = clock.now();
    let mut pending = Vec::new();
    for email in [t.email.as_str(), other] {
        let b = srv.browser();
        let login = login_url(&b, &t).await;
        let (_, _, page) = b.get(&login).await;
        let tx = hidden(&page, "tx").unwrap();
        let (s, _, page) = b
            .post_form(
                &format!("{}/login/email", t.issuer),
                &[
                    ("email", email),
                    ("tx", &tx),
                    ("csrf", &hidden(&page, "csrf").unwrap()),
                ],
            )
            .await;
        assert_eq!(s, 200, "{page}");
        pending.push((b, email, tx, page));
    }
    let mut codes = std::collections::HashMap::new();
    for _ in 0..2 {
        let mail = sink.next().await;
        codes.insert(mail.to[0].clone(), mail.code());
    }
    let submit = |i: usize| {
        let (b, email, tx, page) = &pending[i];
        let code = codes[*email].clone();
        let url = format!("{}/login/email/code", t.issuer);
        async move {
            b.post_form(
                &url,
                &[
                    ("handle", &hidden(page, "handle").unwrap()),
                    ("code", &code),
                    ("tx", tx),
                    ("csrf", &hidden(page, "csrf").unwrap()),
                ],
            )
            .await
        }
    };

    move_to(&clock, sent + ttl - 1);
    let (s, loc, body) = submit(0).await;
    assert_eq!(s, 303, "a code one second before its expiry: {body}");
    assert!(query_param(&loc.unwrap(), "code").is_some());

    move_to(&clock, sent + ttl + 1);
    let (s, loc, body) = submit(1).await;
    assert_eq!((s, loc), (400, None));
    assert!(
        body.contains("This code or link has expired or was already used. Ask for a new one."),
        "{body}"
    );
}

fn totp(secret: &str) -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
}

/// The code an authenticator app shows during 30-second step `step`.
fn code_at_step(secret: &str, step: u64) -> String {
    totp(secret).generate(step * 30).to_string()
}

/// Starts an authorization in a fresh browser and submits the password: the second-factor
/// page that follows.
async fn factor_page(srv: &TestServer, t: &TestTenant) -> (Browser, String) {
    let b = srv.browser();
    let login = login_url(&b, t).await;
    let (_, _, page) = b.get(&login).await;
    let (s, _, page) = b
        .post_form(
            &format!("{}/login", t.issuer),
            &[
                ("email", &t.email),
                ("password", PASSWORD),
                ("tx", &hidden(&page, "tx").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert!(hidden(&page, "handle").is_some(), "{page}");
    (b, page)
}

async fn submit_totp(
    b: &Browser,
    t: &TestTenant,
    page: &str,
    code: &str,
) -> (u16, Option<String>, String) {
    let (handle, csrf) = (
        hidden(page, "handle").unwrap(),
        hidden(page, "csrf").unwrap(),
    );
    let tx = hidden(page, "tx").unwrap_or_default();
    b.post_form(
        &format!("{}/login/factor", t.issuer),
        &[
            ("handle", handle.as_str()),
            ("csrf", &csrf),
            ("tx", &tx),
            ("method", "totp"),
            ("code", code),
        ],
    )
    .await
}

fn assert_refused(answer: (u16, Option<String>, String), what: &str) {
    let (s, loc, body) = answer;
    assert_eq!((s, loc), (401, None), "{what}: {body}");
    assert!(
        body.contains("That code is not valid. Check it and try again."),
        "{what}: {body}"
    );
}

fn assert_accepted(answer: (u16, Option<String>, String), t: &TestTenant, what: &str) {
    let (s, loc, body) = answer;
    assert_eq!(s, 303, "{what}: {body}");
    let back = loc.unwrap();
    assert!(
        back.starts_with(&t.redirect_uri) && query_param(&back, "code").is_some(),
        "{what}: {back}"
    );
}

#[actix_web::test]
async fn a_totp_code_is_good_for_the_adjacent_step_and_not_two_away() {
    let clock = manual_clock();
    let srv = server(&clock).await;
    let t = srv.tenant("steps", false, true).await;
    srv.http
        .put(format!("{}/admin/v1/tenants/steps/mfa", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&json!({"mode": "optional"}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();

    // Enrol an authenticator app, confirmed with the current step's code.
    let b = srv.browser();
    code_for(&b, &t, "openid").await;
    let (s, _, page) = b.get(&format!("{}/account/totp", t.issuer)).await;
    assert_eq!(s, 200, "{page}");
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    let enrolled_at = clock.now() / 30;
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/totp", t.issuer),
            &[
                ("enrol", &hidden(&page, "enrol").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
                ("label", "Phone"),
                ("code", &code_at_step(&secret, enrolled_at)),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");

    // The last second of step k: step k+2's code is two steps ahead.
    let k = enrolled_at + 10;
    move_to(&clock, k * 30 + 29);
    let (b1, page) = factor_page(&srv, &t).await;
    let ahead = code_at_step(&secret, k + 2);
    assert_refused(submit_totp(&b1, &t, &page, &ahead).await, "two steps ahead");
    // One second later, step k+1: step k+2 is adjacent, step k-1 two steps behind.
    move_to(&clock, (k + 1) * 30);
    let behind = code_at_step(&secret, k - 1);
    assert_refused(
        submit_totp(&b1, &t, &page, &behind).await,
        "two steps behind",
    );
    assert_accepted(submit_totp(&b1, &t, &page, &ahead).await, &t, "one ahead");

    // The last second of step j+1 accepts step j's code (one behind); one second later
    // that code is two steps behind (shown above for k-1).
    let j = k + 3;
    move_to(&clock, (j + 2) * 30 - 1);
    let (b2, page) = factor_page(&srv, &t).await;
    let code = code_at_step(&secret, j);
    assert_accepted(submit_totp(&b2, &t, &page, &code).await, &t, "one behind");
}
