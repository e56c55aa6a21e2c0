//! Email one-time codes and magic links, end to end: the server sends real mail over SMTP
//! to a receiver started here on loopback, and each test follows the code or link it
//! finds in the delivered message.

mod common;
mod otp_support;

use common::*;
use otp_support::{SmtpSink, jwt_claims};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tollgate_engine::clock::{Clock, ManualClock, SharedClock, SystemClock};
use tollgate_gateway::config::Config;
use tollgate_gateway::mail::{MailMode, SmtpTls};

async fn server(sink: &SmtpSink, adjust: impl FnOnce(&mut Config)) -> TestServer {
    server_on(sink, Arc::new(SystemClock), adjust).await
}

/// [`server`] with the engine reading time from `clock`.
async fn server_on(
    sink: &SmtpSink,
    clock: SharedClock,
    adjust: impl FnOnce(&mut Config),
) -> TestServer {
    let port = sink.addr.port();
    TestServer::start_configured_with_clock(false, clock, |c| {
        c.mail.mode = MailMode::Smtp;
        c.mail.host = "127.0.0.1".into();
        c.mail.port = Some(port);
        c.mail.tls = SmtpTls::None;
        c.mail.from = "Tollgate Test <no-reply@tollgate.test>".into();
        adjust(c);
    })
    .await
}

/// Starts an authorization in `b`: returns the login page, its tx and CSRF token, and
/// the PKCE verifier.
async fn begin(b: &Browser, t: &TestTenant) -> (String, String, String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(t, "openid email", &challenge, &[]);
    let (s, loc, _) = b.get(&url).await;
    assert_eq!(s, 303);
    let login = loc.expect("redirect to the sign-in page");
    assert!(login.contains("/login?tx="), "{login}");
    let (s, _, page) = b.get(&login).await;
    assert_eq!(s, 200);
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    (page, tx, csrf, verifier)
}

/// An account whose address is not proven yet (made by an administrator), signed in in
/// `b`, which then asks for a code from the account page.
async fn unverified_signed_in(srv: &TestServer, t: &TestTenant, b: &Browser, email: &str) {
    srv.admin(
        &format!("/tenants/{}/users", t.id),
        json!({"email": email, "password": PASSWORD, "email_verified": false}),
    )
    .await;
    let who = TestTenant {
        email: email.into(),
        ..t.clone()
    };
    login_tokens(b, &who, "openid").await;
    let csrf = fresh_csrf(b, &format!("{}/account", t.issuer)).await;
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/email/send", t.issuer),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

/// Redeems the code in a redirect to the client; returns the ID token's claims.
async fn id_claims(t: &TestTenant, redirect: &str, verifier: &str) -> serde_json::Value {
    assert!(
        redirect.starts_with(&t.redirect_uri),
        "not back at the client: {redirect}"
    );
    assert_eq!(query_param(redirect, "state").as_deref(), Some("st-123"));
    let code = query_param(redirect, "code").expect("an authorization code");
    let (s, v) = redeem(&reqwest::Client::new(), t, &code, verifier).await;
    assert_eq!(s, 200, "{v}");
    jwt_claims(v["id_token"].as_str().unwrap())
}

async fn events(srv: &TestServer, tenant: &str) -> Vec<serde_json::Value> {
    srv.events(tenant, "").await
}

/// Sends are queued and sent one at a time in queue order (these tests configure
/// `otp.delivery.concurrency = 1`), so when the mail a later request asked for is the next
/// to arrive, nothing asked for before it was sent. Returns that mail.
async fn barrier_mail(sink: &mut SmtpSink, to: &str) -> otp_support::Delivered {
    let mail = sink.next().await;
    assert_eq!(
        mail.to,
        vec![to.to_owned()],
        "an unexpected mail arrived first"
    );
    mail
}

fn amr(claims: &serde_json::Value) -> Vec<String> {
    claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn passwordless_sign_in_by_code_and_by_magic_link() {
    let mut sink = SmtpSink::start().await;
    let srv = server(&sink, |c| c.otp.delivery.concurrency = 1).await;
    let t = srv.tenant("mailin", false, true).await;

    // By code, from the sign-in page's "Email me a code".
    let b = srv.browser();
    let (page, tx, csrf, verifier) = begin(&b, &t).await;
    assert!(page.contains("/mailin/login/email") && page.contains("Forgot password?"));
    let (s, _, page) = b
        .post_form(
            &format!("{}/login/email", t.issuer),
            &[
                ("email", &t.email),
                ("tx", &tx),
                ("csrf", &csrf),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("If an account exists for"), "{page}");
    let handle = hidden(&page, "handle").unwrap();
    let mail = sink.next().await;
    assert_eq!(mail.to, vec![t.email.clone()]);
    assert_eq!(mail.from, "no-reply@tollgate.test");
    assert!(mail.header("Subject").unwrap().contains("sign-in code"));
    let code = mail.code();
    let link = mail.link();
    assert!(
        link.starts_with(&format!("{}/login/link?token=", t.issuer)),
        "{link}"
    );

    let post_code = |code: String| {
        let (b, handle, tx, csrf, issuer) = (
            &b,
            handle.clone(),
            tx.clone(),
            csrf.clone(),
            t.issuer.clone(),
        );
        async move {
            b.post_form(
                &format!("{issuer}/login/email/code"),
                &[
                    ("handle", &handle),
                    ("code", &code),
                    ("tx", &tx),
                    ("csrf", &csrf),
                ],
            )
            .await
        }
    };
    let (s, loc, _) = post_code(code.clone()).await;
    assert_eq!(s, 303);
    let claims = id_claims(&t, &loc.unwrap(), &verifier).await;
    assert_eq!(amr(&claims), vec!["otp"]);
    assert_eq!(claims["acr"], "urn:tollgate:loa:1");

    // The code worked once; its link went with it. (A fresh form: CSRF tokens are bound
    // to the session, which the browser now has.)
    let csrf = fresh_csrf(&b, &format!("{}/login", t.issuer)).await;
    let (s, _, page) = b
        .post_form(
            &format!("{}/login/email/code", t.issuer),
            &[
                ("handle", &handle),
                ("code", &code),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert!(page.contains("expired or was already used"), "{page}");
    let (s, _, refused) = srv.browser().get(&link).await;
    assert_eq!(s, 400, "the link of a used code still works");
    assert!(refused.contains("expired or was already used"), "{refused}");

    // By the link, opened in another browser (as from a mail app): it continues the
    // authorization that asked for it.
    let a = srv.browser();
    let (_, tx, csrf, verifier) = begin(&a, &t).await;
    let (s, _, page) = a
        .post_form(
            &format!("{}/login/email", t.issuer),
            &[
                ("email", &t.email.to_uppercase()),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let handle = hidden(&page, "handle").unwrap();
    let mail = sink.next().await;
    let link = mail.link();
    let other = srv.browser();
    let (s, _, page) = other.get(&link).await;
    assert_eq!(s, 200, "a GET must not use the link: {page}");
    let token = hidden(&page, "token").unwrap();
    let csrf2 = hidden(&page, "csrf").unwrap();
    let (s, loc, body) = other
        .post_form(
            &format!("{}/login/link", t.issuer),
            &[("token", &token), ("csrf", &csrf2)],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let claims = id_claims(&t, &loc.unwrap(), &verifier).await;
    assert_eq!(amr(&claims), vec!["otp"]);
    // Reused link: refused, by GET and by POST; the mail's code died with it.
    let (s, _, refused) = other.get(&link).await;
    assert_eq!(s, 400);
    assert!(refused.contains("expired or was already used"), "{refused}");
    let csrf2 = fresh_csrf(&other, &format!("{}/login", t.issuer)).await;
    let (s, _, page) = other
        .post_form(
            &format!("{}/login/link", t.issuer),
            &[("token", &token), ("csrf", &csrf2)],
        )
        .await;
    assert_eq!(s, 400);
    assert!(page.contains("expired or was already used"));
    let (s, _, refused) = a
        .post_form(
            &format!("{}/login/email/code", t.issuer),
            &[("handle", &handle), ("code", &mail.code()), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 400);
    assert!(refused.contains("expired or was already used"), "{refused}");

    // An address without an account gets the same answer, and no mail.
    let (s, _, page) = a
        .post_form(
            &format!("{}/login/email", t.issuer),
            &[("email", "nobody@mailin.example"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("If an account exists for"));
    assert!(hidden(&page, "handle").is_some());
    // A later request for the account's address: its mail must be the next to arrive.
    let (s, _, page) = a
        .post_form(
            &format!("{}/login/email", t.issuer),
            &[("email", &t.email), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    barrier_mail(&mut sink, &t.email).await;

    // The audit trail saw the sends and sign-ins, with masked addresses and no codes.
    // (`otp.sent` is appended once a send is done: wait for all three.)
    let evs = srv
        .events_until("mailin", "", |evs| {
            evs.iter().filter(|e| e["kind"] == "otp.sent").count() == 3
        })
        .await;
    let kinds: Vec<&str> = evs.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in ["otp.sent", "login.email_code", "otp.no_account"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let all = serde_json::to_string(&evs).unwrap();
    assert!(!all.contains(&t.email) && !all.contains("nobody@"), "{all}");
    assert!(all.contains("u***@m***.example"), "{all}");
    let details: Vec<&str> = evs.iter().filter_map(|e| e["detail"].as_str()).collect();
    assert!(
        !details.iter().any(|d| d.contains(&mail.code())),
        "a code leaked into the audit trail: {details:?}"
    );
}

#[actix_web::test]
async fn wrong_codes_count_and_five_kill_the_code() {
    let mut sink = SmtpSink::start().await;
    let srv = server(&sink, |_| {}).await;
    let t = srv.tenant("tries", false, true).await;
    let b = srv.browser();
    let (_, tx, csrf, _) = begin(&b, &t).await;
    let (_, _, page) = b
        .post_form(
            &format!("{}/login/email", t.issuer),
            &[("email", &t.email), ("tx", &tx), ("csrf", &csrf)],
        )
        .await;
    let handle = hidden(&page, "handle").unwrap();
    let code = sink.next().await.code();
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let post = |c: String| {
        let (b, handle, tx, csrf, issuer) = (
            &b,
            handle.clone(),
            tx.clone(),
            csrf.clone(),
            t.issuer.clone(),
        );
        async move {
            b.post_form(
                &format!("{issuer}/login/email/code"),
                &[
                    ("handle", &handle),
                    ("code", &c),
                    ("tx", &tx),
                    ("csrf", &csrf),
                ],
            )
            .await
        }
    };
    for i in 1..=4 {
        let (s, _, page) = post(wrong.clone()).await;
        assert_eq!(s, 401, "wrong code {i}");
        assert!(page.contains("That code is not right"), "{page}");
        assert!(hidden(&page, "handle").is_some(), "the form is shown again");
    }
    let (s, _, page) = post(wrong).await;
    assert_eq!(s, 400, "the fifth wrong code ends it");
    assert!(page.contains("expired or was already used"));
    let (s, _, refused) = post(code).await;
    assert_eq!(s, 400, "the right code after five wrong ones must not work");
    assert!(refused.contains("expired or was already used"), "{refused}");
    // Each refusal is in the audit trail.
    let mut details: Vec<String> = events(&srv, "tries")
        .await
        .iter()
        .filter(|e| e["kind"] == "otp.rejected")
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect();
    details.sort();
    assert_eq!(
        details,
        [
            "email_sign_in expired or used up",
            "email_sign_in wrong",
            "email_sign_in wrong",
            "email_sign_in wrong",
            "email_sign_in wrong",
            "email_sign_in wrong, now dead",
        ]
    );
}

#[actix_web::test]
async fn an_expired_code_is_refused() {
    let mut sink = SmtpSink::start().await;
    let clock = ManualClock::new(SystemClock.now());
    let srv = server_on(&sink, Arc::new(clock.clone()), |c| c.otp.ttl_secs = 1).await;
    let t = srv.tenant("expiry", false, true).await;
    let b = srv.browser();
    let (_, tx, csrf, _) = begin(&b, &t).await;
    let (_, _, page) = b
        .post_form(
            &format!("{}/login/email", t.issuer),
            &[("email", &t.email), ("tx", &tx), ("csrf", &csrf)],
        )
        .await;
    let handle = hidden(&page, "handle").unwrap();
    let mail = sink.next().await;
    clock.advance(2);
    let (s, _, page) = b
        .post_form(
            &format!("{}/login/email/code", t.issuer),
            &[
                ("handle", &handle),
                ("code", &mail.code()),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert!(page.contains("expired or was already used"), "{page}");
    let (s, _, refused) = b.get(&mail.link()).await;
    assert_eq!(s, 400, "an expired link must not open");
    assert!(refused.contains("expired or was already used"), "{refused}");
}

#[actix_web::test]
async fn an_unproven_address_is_verified_by_code_or_by_link() {
    let mut sink = SmtpSink::start().await;
    let srv = server(&sink, |_| {}).await;
    let t = srv.tenant("verify", false, true).await;
    let signup = |b: &Browser, email: &'static str| {
        let (srv, t, b) = (&srv, &t, b.clone());
        async move { unverified_signed_in(srv, t, &b, email).await }
    };
    let account = |b: &Browser| {
        let url = format!("{}/account", t.issuer);
        let b = b.http.clone();
        async move { b.get(url).send().await.unwrap().text().await.unwrap() }
    };

    // By code, on the account page.
    let b = srv.browser();
    signup(&b, "new@verify.example").await;
    let mail = sink.next().await;
    assert_eq!(mail.to, vec!["new@verify.example"]);
    assert!(
        mail.header("Subject")
            .unwrap()
            .contains("Confirm your email")
    );
    let page = account(&b).await;
    assert!(page.contains("not verified"), "{page}");
    let csrf = hidden(&page, "csrf").unwrap();
    let verify = format!("{}/account/email/verify", t.issuer);
    let wrong = format!(
        "{:06}",
        (mail.code().parse::<u32>().unwrap() + 7) % 1_000_000
    );
    let (s, _, page) = b
        .post_form(&verify, &[("code", &wrong), ("csrf", &csrf)])
        .await;
    assert_eq!(s, 401);
    assert!(page.contains("not right"));
    let (s, loc, _) = b
        .post_form(&verify, &[("code", &mail.code()), ("csrf", &csrf)])
        .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().ends_with("/verify/account"));
    let page = account(&b).await;
    assert!(page.contains("<strong>verified</strong>"), "{page}");
    let (s, _, refused) = b
        .post_form(&verify, &[("code", &mail.code()), ("csrf", &csrf)])
        .await;
    assert_eq!(s, 400, "a used code must not work again");
    assert!(refused.contains("expired or was already used"), "{refused}");

    // By the link, in a browser without a session.
    let c = srv.browser();
    signup(&c, "other@verify.example").await;
    let mail = sink.next().await;
    assert_eq!(mail.to, vec!["other@verify.example"]);
    let link = mail.link();
    assert!(link.starts_with(&format!("{}/verify?token=", t.issuer)));
    let fresh = srv.browser();
    let (s, _, page) = fresh.get(&link).await;
    assert_eq!(s, 200);
    let token = hidden(&page, "token").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let form = [("token", token.as_str()), ("csrf", csrf.as_str())];
    let (s, _, page) = fresh
        .post_form(&format!("{}/verify", t.issuer), &form)
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("confirmed"));
    assert!(account(&c).await.contains("<strong>verified</strong>"));
    let (s, _, refused) = fresh
        .post_form(&format!("{}/verify", t.issuer), &form)
        .await;
    assert_eq!(s, 400, "a used link must not work again");
    assert!(refused.contains("expired or was already used"), "{refused}");
    let kinds: Vec<String> = events(&srv, "verify")
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "email.verified").count(), 2);
}

#[actix_web::test]
async fn password_reset_by_code_and_by_link_signs_in_with_the_new_password() {
    let mut sink = SmtpSink::start().await;
    let srv = server(&sink, |c| c.otp.delivery.concurrency = 1).await;
    let t = srv.tenant("reset", false, true).await;
    // Signed in elsewhere with the old password, with a refresh token: a reset ends both.
    let elsewhere = srv.browser();
    let old_tokens = login_tokens(&elsewhere, &t, "openid offline_access").await;
    let b = srv.browser();
    let (s, _, page) = b.get(&format!("{}/password/forgot", t.issuer)).await;
    assert_eq!(s, 200);
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, page) = b
        .post_form(
            &format!("{}/password/forgot", t.issuer),
            &[("email", &t.email), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("If an account exists for"));
    let handle = hidden(&page, "handle").unwrap();
    let mail = sink.next().await;
    assert!(mail.header("Subject").unwrap().contains("Reset your"));
    let reset = format!("{}/password/reset", t.issuer);
    // A password the policy refuses costs no try and changes nothing.
    let (s, _, page) = b
        .post_form(
            &reset,
            &[
                ("handle", &handle),
                ("code", &mail.code()),
                ("password", "short"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 401);
    assert!(page.contains("at least 8"), "{page}");
    let new_pw = "a brand new passphrase";
    let (s, loc, _) = b
        .post_form(
            &reset,
            &[
                ("handle", &handle),
                ("code", &mail.code()),
                ("password", new_pw),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 303, "the reset signs in");
    assert!(loc.unwrap().ends_with("/reset/account"));
    let (s, loc, _) = elsewhere.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(
        (s, loc.as_deref()),
        (303, Some(format!("{}/login", t.issuer).as_str())),
        "a session from before the reset survived it"
    );
    let (s, v) = refresh(&t, old_tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "a refresh token from before the reset survived it: {v}"
    );
    let (s, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 200);
    assert!(page.contains(&t.email));
    // The old password no longer works; the new one does.
    let c = srv.browser();
    let (_, tx, csrf2, _) = begin(&c, &t).await;
    let login = format!("{}/login", t.issuer);
    assert_eq!(
        c.sign_in_post(&login, &t.email, PASSWORD, &tx, &csrf2)
            .await
            .0,
        401
    );
    assert_eq!(
        c.sign_in_post(&login, &t.email, new_pw, &tx, &csrf2)
            .await
            .0,
        303
    );
    // Reused code (a fresh form: the browser is signed in now).
    let csrf = fresh_csrf(&b, &format!("{}/login", t.issuer)).await;
    let (s, _, refused) = b
        .post_form(
            &reset,
            &[
                ("handle", &handle),
                ("code", &mail.code()),
                ("password", "yet another one"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert!(refused.contains("expired or was already used"), "{refused}");

    // By link, continuing an authorization.
    let d = srv.browser();
    let (_, tx, csrf, verifier) = begin(&d, &t).await;
    let (s, _, page) = d
        .get(&format!("{}/password/forgot?tx={tx}", t.issuer))
        .await;
    assert_eq!(s, 200);
    assert_eq!(hidden(&page, "tx").as_deref(), Some(tx.as_str()));
    let (s, _, _) = d
        .post_form(
            &format!("{}/password/forgot", t.issuer),
            &[("email", &t.email), ("tx", &tx), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200);
    let link = sink.next().await.link();
    assert!(link.starts_with(&format!("{reset}?token=")), "{link}");
    let (s, _, page) = d.get(&link).await;
    assert_eq!(s, 200);
    let token = hidden(&page, "token").unwrap();
    let newest = "the third password here";
    let (s, loc, body) = d
        .post_form(
            &reset,
            &[("token", &token), ("password", newest), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let claims = id_claims(&t, &loc.unwrap(), &verifier).await;
    assert_eq!(amr(&claims), vec!["otp"]);
    let csrf = fresh_csrf(&d, &format!("{}/login", t.issuer)).await;
    let (s, _, refused) = d
        .post_form(
            &reset,
            &[
                ("token", &token),
                ("password", "and a fourth one"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400, "a used reset link must not work again");
    assert!(refused.contains("expired or was already used"), "{refused}");
    let e = srv.browser();
    let (_, tx, csrf, _) = begin(&e, &t).await;
    assert_eq!(
        e.sign_in_post(&login, &t.email, newest, &tx, &csrf).await.0,
        303
    );

    // Unknown address: the same answer, no mail.
    let csrf = fresh_csrf(&e, &format!("{}/password/forgot", t.issuer)).await;
    let (s, _, page) = e
        .post_form(
            &format!("{}/password/forgot", t.issuer),
            &[("email", "ghost@reset.example"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("If an account exists for"));
    // A later request for the account's address: its mail must be the next to arrive.
    let (s, _, page) = e
        .post_form(
            &format!("{}/password/forgot", t.issuer),
            &[("email", &t.email), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    barrier_mail(&mut sink, &t.email).await;
    let kinds: Vec<String> = events(&srv, "reset")
        .await
        .iter()
        .filter(|e| e["result"] == "success")
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "password.reset").count(), 2);
}

#[actix_web::test]
async fn an_emailed_code_completes_the_second_factor() {
    let mut sink = SmtpSink::start().await;
    let srv = server(&sink, |_| {}).await;
    let t = srv.tenant("second", false, true).await;
    let r = reqwest::Client::new()
        .put(format!("{}/admin/v1/tenants/second/mfa", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&json!({"mode": "required", "factors": ["totp", "email"]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let b = srv.browser();
    let (_, tx, csrf, verifier) = begin(&b, &t).await;
    let (s, _, page) = b
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
    assert_eq!(s, 200, "a second factor is asked for");
    assert!(
        page.contains("/second/login/factor/send") && page.contains("Email me a code"),
        "{page}"
    );
    let handle = hidden(&page, "handle").unwrap();
    let send = [
        ("handle", handle.as_str()),
        ("method", "email"),
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
    ];
    let (s, _, page) = b
        .post_form(&format!("{}/login/factor/send", t.issuer), &send)
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("u***@s***.example"), "{page}");
    let mail = sink.next().await;
    assert_eq!(mail.to, vec![t.email.clone()]);
    assert!(
        mail.header("Subject")
            .unwrap()
            .contains("verification code")
    );
    let factor = format!("{}/login/factor", t.issuer);
    let submit = |code: String| {
        let (b, handle, tx, csrf, factor) =
            (&b, handle.clone(), tx.clone(), csrf.clone(), factor.clone());
        async move {
            b.post_form(
                &factor,
                &[
                    ("handle", &handle),
                    ("method", "email"),
                    ("code", &code),
                    ("tx", &tx),
                    ("csrf", &csrf),
                ],
            )
            .await
        }
    };
    let wrong = format!(
        "{:06}",
        (mail.code().parse::<u32>().unwrap() + 3) % 1_000_000
    );
    let (s, _, refused) = submit(wrong).await;
    assert_eq!(s, 401);
    assert!(refused.contains("That code is not valid"), "{refused}");
    let (s, loc, body) = submit(mail.code()).await;
    assert_eq!(s, 303, "{body}");
    let claims = id_claims(&t, &loc.unwrap(), &verifier).await;
    let amr = amr(&claims);
    for a in ["pwd", "otp", "mfa"] {
        assert!(amr.contains(&a.to_owned()), "{a} missing from {amr:?}");
    }
    assert_eq!(claims["acr"], "urn:tollgate:loa:2");

    // Five wrong codes end the pending sign-in: the right one is refused afterwards.
    let c = srv.browser();
    let (_, tx, csrf, _) = begin(&c, &t).await;
    let (_, _, page) = c
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
    let handle = hidden(&page, "handle").unwrap();
    let send = [
        ("handle", handle.as_str()),
        ("method", "email"),
        ("tx", tx.as_str()),
        ("csrf", csrf.as_str()),
    ];
    let (s, _, _) = c
        .post_form(&format!("{}/login/factor/send", t.issuer), &send)
        .await;
    assert_eq!(s, 200);
    let code = sink.next().await.code();
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 5) % 1_000_000);
    for _ in 0..5 {
        let (s, _, _) = c
            .post_form(
                &factor,
                &[
                    ("handle", &handle),
                    ("method", "email"),
                    ("code", &wrong),
                    ("tx", &tx),
                    ("csrf", &csrf),
                ],
            )
            .await;
        assert_eq!(s, 401);
    }
    let (s, _, page) = c
        .post_form(
            &factor,
            &[
                ("handle", &handle),
                ("method", "email"),
                ("code", &code),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 401);
    assert!(page.contains("Too many attempts"), "{page}");
}

#[actix_web::test]
async fn the_development_outbox_holds_each_mail_as_an_eml_file() {
    let srv = TestServer::start().await;
    let t = srv.tenant("outbox", false, true).await;
    let b = srv.browser();
    let (_, tx, csrf, verifier) = begin(&b, &t).await;
    let (s, _, page) = b
        .post_form(
            &format!("{}/login/email", t.issuer),
            &[("email", &t.email), ("tx", &tx), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200);
    let handle = hidden(&page, "handle").unwrap();
    let dir = srv.dir.path().join("outbox");
    let mut found = None;
    for _ in 0..100 {
        if let Some(e) = std::fs::read_dir(&dir)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
        {
            found = Some(e.path());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let path = found.expect("an .eml file in data_dir/outbox");
    assert_eq!(path.extension().unwrap(), "eml");
    let mail = otp_support::Delivered {
        from: String::new(),
        to: vec![],
        data: std::fs::read_to_string(&path).unwrap(),
    };
    assert_eq!(mail.header("To").as_deref(), Some(t.email.as_str()));
    let (s, loc, _) = b
        .post_form(
            &format!("{}/login/email/code", t.issuer),
            &[
                ("handle", &handle),
                ("code", &mail.code()),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(
        amr(&id_claims(&t, &loc.unwrap(), &verifier).await),
        vec!["otp"]
    );
}

#[actix_web::test]
async fn sending_a_code_again_does_not_buy_more_guesses() {
    let mut sink = SmtpSink::start().await;
    let srv = server(&sink, |_| {}).await;
    let t = srv.tenant("guess", false, true).await;
    let b = srv.browser();
    unverified_signed_in(&srv, &t, &b, "guess@guess.example").await;
    let first = sink.next().await;
    let (_, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let verify = format!("{}/account/email/verify", t.issuer);
    let wrong = |right: &str| format!("{:06}", (right.parse::<u32>().unwrap() + 7) % 1_000_000);
    for _ in 0..3 {
        let (s, _, refused) = b
            .post_form(&verify, &[("code", &wrong(&first.code())), ("csrf", &csrf)])
            .await;
        assert_eq!(s, 401);
        assert!(refused.contains("not right"), "{refused}");
    }
    // A new code keeps the two tries the first one had left.
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/email/send", t.issuer),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let second = sink.next().await;
    // The fourth wrong guess in all is refused; the fifth uses the code up.
    for (status, says) in [(401, "not right"), (400, "expired or was already used")] {
        let (s, _, page) = b
            .post_form(
                &verify,
                &[("code", &wrong(&second.code())), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(s, status, "{page}");
        assert!(page.contains(says), "{page}");
    }
    let (s, _, refused) = b
        .post_form(&verify, &[("code", &second.code()), ("csrf", &csrf)])
        .await;
    assert_eq!(
        s, 400,
        "the resent code allowed more than five guesses in all"
    );
    assert!(refused.contains("expired or was already used"), "{refused}");
    // And no new code comes until the used-up one would have expired.
    let (s, _, refused) = b
        .post_form(
            &format!("{}/account/email/send", t.issuer),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(s, 429);
    assert!(refused.contains("Too many"), "{refused}");
}

/// Issue 13, finding 4: sign-up does not tell whether an address has an account. Taken or
/// new, the form answers alike ("we sent you a code"); the new address's code creates the
/// account (its address proven), and the taken address's owner is told someone tried.
#[actix_web::test]
async fn sign_up_answers_alike_for_new_and_taken_addresses() {
    let mut sink = SmtpSink::start().await;
    let srv = server(&sink, |c| c.otp.delivery.concurrency = 1).await;
    let t = srv.tenant("alike", false, true).await;
    let submit = |email: &'static str| {
        let (b, issuer) = (srv.browser(), t.issuer.clone());
        async move {
            let csrf = fresh_csrf(&b, &format!("{issuer}/signup")).await;
            let form = [
                ("email", email),
                ("password", PASSWORD),
                ("name", "Eve"),
                ("csrf", &csrf),
            ];
            let (s, loc, page) = b.post_form(&format!("{issuer}/signup"), &form).await;
            (b, s, loc, page)
        }
    };
    let (taken_b, taken_s, taken_loc, taken) = submit("user@alike.example").await;
    let (new_b, new_s, new_loc, fresh) = submit("new@alike.example").await;
    // The same page but for the address typed and the form's random values.
    let normalise = |page: &str, email: &str| {
        let mut p = page.replace(email, "EMAIL");
        for name in ["handle", "csrf"] {
            if let Some(v) = hidden(page, name) {
                p = p.replace(&v, "X");
            }
        }
        p
    };
    assert_eq!((taken_s, taken_loc), (200, None));
    assert_eq!((new_s, new_loc), (200, None));
    assert_eq!(
        normalise(&taken, "user@alike.example"),
        normalise(&fresh, "new@alike.example")
    );
    assert!(fresh.contains("We sent a 6-digit code"), "{fresh}");

    // The owner of the taken address hears of it; no code is in that mail.
    let notice = sink.next().await;
    assert_eq!(notice.to, vec!["user@alike.example"]);
    assert!(
        notice.header("Subject").unwrap().contains("Someone tried"),
        "{:?}",
        notice.header("Subject")
    );
    assert!(
        otp_support::six_digits(&notice.text()).is_none(),
        "{}",
        notice.text()
    );
    // Guessing at the taken address's form gets the wrong-code answer.
    let guess = [
        ("handle", hidden(&taken, "handle").unwrap()),
        ("code", "123456".to_owned()),
        ("csrf", hidden(&taken, "csrf").unwrap()),
    ];
    let guess: Vec<(&str, &str)> = guess.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _, page) = taken_b
        .post_form(&format!("{}/signup/code", t.issuer), &guess)
        .await;
    assert_eq!(s, 401);
    assert!(page.contains("not right"), "{page}");

    // The new address's code creates the account, proven, and signs it in.
    let mail = sink.next().await;
    assert_eq!(mail.to, vec!["new@alike.example"]);
    assert!(mail.header("Subject").unwrap().contains("create your"));
    let code = [
        ("handle", hidden(&fresh, "handle").unwrap()),
        ("code", mail.code()),
        ("csrf", hidden(&fresh, "csrf").unwrap()),
    ];
    let code: Vec<(&str, &str)> = code.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let wrong: Vec<(&str, &str)> = code
        .iter()
        .map(|&(k, v)| (k, if k == "code" { "000000" } else { v }))
        .collect();
    let (s, _, _) = new_b
        .post_form(&format!("{}/signup/code", t.issuer), &wrong)
        .await;
    assert_eq!(s, 401);
    let (_, _, before) = new_b.get(&format!("{}/account", t.issuer)).await;
    assert!(
        !before.contains("new@alike.example"),
        "an account before its code"
    );
    let (s, loc, body) = new_b
        .post_form(&format!("{}/signup/code", t.issuer), &code)
        .await;
    assert_eq!(s, 303, "{body}");
    assert!(loc.unwrap().ends_with("/alike/account"));
    let (s, _, page) = new_b.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("new@alike.example") && page.contains("Eve"),
        "{page}"
    );
    assert!(page.contains("<strong>verified</strong>"), "{page}");
    // The code works once (the form's token is bound to the old session: take a new one).
    let csrf = fresh_csrf(&new_b, &format!("{}/signup", t.issuer)).await;
    let again: Vec<(&str, &str)> = code
        .iter()
        .map(|&(k, v)| (k, if k == "csrf" { csrf.as_str() } else { v }))
        .collect();
    let (s, _, page) = new_b
        .post_form(&format!("{}/signup/code", t.issuer), &again)
        .await;
    assert_eq!(s, 400);
    assert!(page.contains("expired or was already used"), "{page}");
    // Bad input: an address that is not one, a password the policy refuses.
    for (email, password, says) in [
        ("not an address", "a long new password", "email"),
        ("x@alike.example", "short", "at least 8"),
    ] {
        let b = srv.browser();
        let csrf = fresh_csrf(&b, &format!("{}/signup", t.issuer)).await;
        let (s, _, page) = b
            .post_form(
                &format!("{}/signup", t.issuer),
                &[("email", email), ("password", password), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(s, 400, "{email}: {page}");
        assert!(page.contains(says), "{email}: {page}");
    }
    // The chosen password signs in.
    let who = TestTenant {
        email: "new@alike.example".into(),
        ..t.clone()
    };
    let tokens = login_tokens(&srv.browser(), &who, "openid").await;
    assert!(tokens["id_token"].is_string(), "{tokens}");
    // The events name what happened, for the operator.
    let kinds: Vec<String> = events(&srv, "alike")
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.iter().any(|k| k == "signup.existing_address"),
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|k| *k == "user.signed_up").count(), 1);
}
