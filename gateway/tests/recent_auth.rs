//! Issue 13, finding 7: a stolen session cannot add lasting credentials. Every credential
//! change needs a sign-in from the last five minutes (else "confirm it's you" with the
//! password or a second factor), each factor added or removed is mailed to the user, and a
//! password reset offers to remove every other way into the account. Time is a
//! `ManualClock`, so "five minutes later" takes no time.

mod common;
mod otp_support;

use common::*;
use otp_support::SmtpSink;
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_engine::clock::{Clock, ManualClock};
use tollgate_gateway::mail::{MailMode, SmtpTls};

const STALE: u64 = 301;

fn wall_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn totp_code(secret: &str, at: u64) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(at)
        .to_string()
}

async fn server(sink: &SmtpSink, clock: &ManualClock) -> TestServer {
    let port = sink.addr.port();
    TestServer::start_configured_with_clock(false, Arc::new(clock.clone()), |c| {
        c.mail.mode = MailMode::Smtp;
        c.mail.host = "127.0.0.1".into();
        c.mail.port = Some(port);
        c.mail.tls = SmtpTls::None;
        c.mail.from = "Tollgate Test <no-reply@tollgate.test>".into();
    })
    .await
}

async fn tenant(srv: &TestServer, id: &str) -> TestTenant {
    tenant_with(srv, id, json!({"mode": "optional"})).await
}

async fn tenant_with(srv: &TestServer, id: &str, policy: Value) -> TestTenant {
    let t = srv.tenant(id, false, true).await;
    let r = srv
        .http
        .put(format!("{}/admin/v1/tenants/{id}/mfa", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    t
}

/// Enrols an authenticator app from the account page at `now`; returns its secret.
async fn enrol_totp(b: &Browser, t: &TestTenant, now: u64) -> String {
    let (s, _, page) = b.get(&format!("{}/account/totp", t.issuer)).await;
    assert_eq!(s, 200, "{page}");
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    let code = totp_code(&secret, now);
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/totp", t.issuer),
            &[
                ("enrol", &hidden(&page, "enrol").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
                ("label", "Phone"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("Save your recovery codes"), "{body}");
    secret
}

/// The next mail whose subject or text contains `needle` (others are skipped: the courier
/// sends concurrently, so order is not kept; bounded).
async fn mail_with(sink: &mut SmtpSink, needle: &str) -> otp_support::Delivered {
    for _ in 0..10 {
        let m = sink.next().await;
        if m.header("Subject").unwrap_or_default().contains(needle) || m.text().contains(needle) {
            return m;
        }
    }
    panic!("no mail with {needle:?}");
}

/// The id in the account page's "remove" form of the authenticator app.
fn app_factor_id(page: &str) -> String {
    page.split("<strong>Authenticator app</strong>")
        .nth(1)
        .and_then(|r| r.split("name=\"id\" value=\"").nth(1))
        .and_then(|r| r.split('"').next())
        .expect("the authenticator app's id on the account page")
        .to_owned()
}

fn reauth_target(loc: &str) -> String {
    assert!(
        loc.contains("/account/reauth?next="),
        "not sent to confirm it's you: {loc}"
    );
    let next = loc.split("next=").nth(1).unwrap();
    url::form_urlencoded::parse(format!("n={next}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned()
}

#[actix_web::test]
async fn credential_changes_need_a_recent_sign_in() {
    let mut sink = SmtpSink::start().await;
    let clock = ManualClock::new(wall_now());
    let srv = server(&sink, &clock).await;
    let t = tenant(&srv, "fresh").await;
    let b = srv.browser();
    login_tokens(&b, &t, "openid").await;
    enrol_totp(&b, &t, clock.now()).await;
    mail_with(&mut sink, "was added").await;
    let account = format!("{}/account", t.issuer);
    let (_, _, page) = b.get(&account).await;
    assert!(page.contains("10 left"), "{page}");
    let factor_id = app_factor_id(&page);

    // Five minutes and a second later: the session is live, but not recent.
    clock.advance(STALE);
    let (s, _, _) = b.get(&account).await;
    assert_eq!(s, 200, "the session itself must still be live");
    let csrf = fresh_csrf(&b, &account).await;
    let id = t.id.as_str();
    for (path, back) in [
        ("/account/totp", "/account/totp"),
        ("/account/phone", "/account/phone"),
        ("/account/phone/change", "/account/phone/change"),
        ("/account/delete", "/account/delete"),
    ] {
        let (s, loc, body) = b.get(&format!("{}{path}", t.issuer)).await;
        assert_eq!(s, 303, "GET {path}: {body}");
        assert_eq!(
            reauth_target(&loc.unwrap()),
            format!("/{id}{back}"),
            "{path}"
        );
    }
    let posts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/account/totp", vec![("enrol", "x"), ("code", "000000")]),
        ("/account/factors/remove", vec![("id", factor_id.as_str())]),
        ("/account/recovery-codes", vec![]),
        ("/account/phone", vec![("phone", "+919876543210")]),
        ("/account/phone/change", vec![("phone", "+919876543210")]),
        (
            "/account/email/change",
            vec![("email", "new@fresh.example"), ("password", PASSWORD)],
        ),
        ("/account/delete", vec![("confirmation", "DELETE")]),
    ];
    for (path, fields) in &posts {
        let mut form = fields.clone();
        form.push(("csrf", &csrf));
        let (s, loc, body) = b.post_form(&format!("{}{path}", t.issuer), &form).await;
        assert_eq!(s, 303, "POST {path}: {body}");
        reauth_target(&loc.unwrap());
    }
    let r = b
        .http
        .post(format!("{}/passkeys/register/start", t.issuer))
        .header("x-csrf-token", &csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "reauth_required", "{v}");
    assert_eq!(
        reauth_target(v["redirect"].as_str().unwrap()),
        format!("/{id}/account")
    );
    // Nothing changed: the factor and its ten recovery codes, the email, the account.
    let (s, _, page) = b.get(&account).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Authenticator app") && page.contains("10 left"),
        "{page}"
    );
    assert!(page.contains(&t.email) && !page.contains("new@fresh.example"));

    // Confirm it's you: wrong password, a form from elsewhere, then the right one.
    let target = format!("/{id}/account/totp");
    let reauth = format!(
        "{}/account/reauth?next={}",
        t.issuer,
        url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>()
    );
    let (s, _, page) = b.get(&reauth).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Confirm it") && page.contains("type=\"password\""));
    assert!(
        page.contains("second factor"),
        "a user with a factor may use it"
    );
    let csrf = hidden(&page, "csrf").unwrap();
    let post = |password: &str, next: &str, csrf: &str| {
        let (b, url) = (&b, format!("{}/account/reauth", t.issuer));
        let f = [
            ("password", password.to_owned()),
            ("next", next.to_owned()),
            ("csrf", csrf.to_owned()),
        ];
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post_form(&url, &f).await
        }
    };
    let (s, _, page) = post("not the password", &target, &csrf).await;
    assert_eq!(s, 400);
    assert!(page.contains("That password is not right"), "{page}");
    let (s, _, _) = post(PASSWORD, &target, "forged").await;
    assert_eq!(s, 403);
    let (s, _, _) = b.get(&format!("{}/account/totp", t.issuer)).await;
    assert_eq!(
        s, 303,
        "a refused re-authentication made the session recent"
    );
    // `next` stays on this tenant's pages.
    let (s, loc, _) = post(PASSWORD, "https://evil.example/x", &csrf).await;
    assert_eq!(s, 303);
    assert_eq!(loc.unwrap(), format!("{}/{id}/account", srv.base));
    let (s, _, page) = b.get(&format!("{}/account/totp", t.issuer)).await;
    assert_eq!(s, 200, "{page}");
    let events = srv
        .admin_get(&format!(
            "/tenants/{id}/events?kind=session.reauthenticated"
        ))
        .await;
    let mut outcomes: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["result"].as_str().unwrap())
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, ["failure", "success"], "{events}");

    // It lasts five minutes, like a sign-in.
    clock.advance(STALE);
    let (s, loc, _) = b.get(&format!("{}/account/totp", t.issuer)).await;
    assert_eq!(s, 303);
    reauth_target(&loc.unwrap());
}

#[actix_web::test]
async fn factor_changes_are_mailed_and_a_stepped_up_session_may_remove_one() {
    let mut sink = SmtpSink::start().await;
    let clock = ManualClock::new(wall_now());
    let srv = server(&sink, &clock).await;
    let t = tenant(&srv, "notify").await;
    let b = srv.browser();
    login_tokens(&b, &t, "openid").await;
    let secret = enrol_totp(&b, &t, clock.now()).await;
    let added = mail_with(&mut sink, "(an authenticator app) was added").await;
    assert_eq!(added.to, vec![t.email.clone()]);
    assert!(
        added.text().contains("authenticator app"),
        "{}",
        added.text()
    );
    assert!(added.text().contains("reset your password"));

    clock.advance(STALE);
    let (s, _, page) = b.get(&format!("{}/stepup", t.issuer)).await;
    assert_eq!(s, 200, "{page}");
    let code = totp_code(&secret, clock.now());
    let (s, loc, body) = b
        .post_form(
            &format!("{}/login/factor", t.issuer),
            &[
                ("handle", &hidden(&page, "handle").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
                ("method", "totp"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    assert!(loc.unwrap().ends_with("/account"));
    let account = format!("{}/account", t.issuer);
    let (_, _, page) = b.get(&account).await;
    let factor_id = app_factor_id(&page);
    let (s, loc, _) = b
        .post_form(
            &format!("{}/account/factors/remove", t.issuer),
            &[
                ("id", &factor_id),
                ("csrf", &hidden(&page, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(
        (s, loc),
        (303, Some(format!("{}/notify/account", srv.base)))
    );
    let removed = mail_with(&mut sink, "was removed").await;
    assert_eq!(removed.to, vec![t.email.clone()]);
    let (_, _, page) = b.get(&account).await;
    assert!(!page.contains("Authenticator app"), "{page}");
}

#[actix_web::test]
async fn enrolling_a_first_factor_by_step_up_needs_a_recent_sign_in() {
    let sink = SmtpSink::start().await;
    let clock = ManualClock::new(wall_now());
    let srv = server(&sink, &clock).await;
    // Codes by email would re-prove the user; this tenant allows only app and passkey.
    let policy = json!({"mode": "optional", "factors": ["totp", "passkey", "recovery_codes"]});
    let t = tenant_with(&srv, "noenrol", policy).await;
    let b = srv.browser();
    login_tokens(&b, &t, "openid").await;
    clock.advance(STALE);
    // No factor to step up with: a step-up would enrol one, so the password comes first.
    let (s, loc, _) = b.get(&format!("{}/stepup", t.issuer)).await;
    assert_eq!(s, 303);
    let next = reauth_target(&loc.clone().unwrap());
    assert!(next.starts_with("/noenrol/stepup"), "{next}");
    let (s, _, page) = b.get(&loc.unwrap()).await;
    assert_eq!(s, 200);
    assert!(
        !page.contains("second factor"),
        "no factor to offer: {page}"
    );
}

/// Asks for a reset code and submits it with a new password; returns the answer.
async fn reset(b: &Browser, sink: &mut SmtpSink, t: &TestTenant) -> (u16, Option<String>, String) {
    let forgot = format!("{}/password/forgot", t.issuer);
    let csrf = fresh_csrf(b, &forgot).await;
    let (s, _, page) = b
        .post_form(&forgot, &[("email", &t.email), ("csrf", &csrf)])
        .await;
    assert_eq!(s, 200, "{page}");
    let handle = hidden(&page, "handle").unwrap();
    let mail = mail_with(sink, "Reset your").await;
    b.post_form(
        &format!("{}/password/reset", t.issuer),
        &[
            ("handle", &handle),
            ("code", &mail.code()),
            ("password", "a brand new passphrase"),
            ("csrf", &csrf),
        ],
    )
    .await
}

#[actix_web::test]
async fn a_password_reset_offers_to_remove_every_other_way_in() {
    let mut sink = SmtpSink::start().await;
    let clock = ManualClock::new(wall_now());
    let srv = server(&sink, &clock).await;
    let t = tenant(&srv, "review").await;
    // Someone with the session added an authenticator app.
    let intruder = srv.browser();
    login_tokens(&intruder, &t, "openid").await;
    enrol_totp(&intruder, &t, clock.now()).await;
    mail_with(&mut sink, "was added").await;

    // The owner resets the password and keeps it: the second factor is then asked for.
    let b = srv.browser();
    let (s, _, page) = reset(&b, &mut sink, &t).await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Your password is changed"), "{page}");
    assert!(
        page.contains("Authenticator app") && page.contains("Recovery code"),
        "{page}"
    );
    let handle = hidden(&page, "handle").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let review = format!("{}/password/reset/review", t.issuer);
    let (s, _, body) = b
        .post_form(
            &review,
            &[("handle", &handle), ("csrf", &csrf), ("choice", "maybe")],
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("keep or remove"), "{body}");
    let (s, _, body) = b
        .post_form(
            &review,
            &[
                ("handle", &handle),
                ("csrf", "forged"),
                ("choice", "remove"),
            ],
        )
        .await;
    assert_eq!(s, 403, "{body}");
    let (s, _, body) = b
        .post_form(
            &review,
            &[("handle", &handle), ("csrf", &csrf), ("choice", "keep")],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(
        hidden(&body, "handle").is_some(),
        "the second-factor step: {body}"
    );
    // The handle was single use.
    let (s, _, body) = b
        .post_form(
            &review,
            &[("handle", &handle), ("csrf", &csrf), ("choice", "remove")],
        )
        .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("expired or was already used"), "{body}");

    // Reset again and remove them all: signed in, no factor left, and told by mail.
    clock.advance(60);
    let b = srv.browser();
    let (s, _, page) = reset(&b, &mut sink, &t).await;
    assert_eq!(s, 200, "{page}");
    let (s, loc, body) = b
        .post_form(
            &review,
            &[
                ("handle", &hidden(&page, "handle").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
                ("choice", "remove"),
            ],
        )
        .await;
    let home = format!("{}/review/account", srv.base);
    assert_eq!((s, loc), (303, Some(home)), "{body}");
    let (s, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 200);
    assert!(
        !page.contains("Authenticator app") && page.contains("No second factor yet"),
        "{page}"
    );
    mail_with(&mut sink, "was removed").await;
    // And the intruder's session ended with the reset.
    let (s, _, _) = intruder.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 303);
}
