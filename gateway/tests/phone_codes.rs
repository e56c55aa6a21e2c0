//! Phone one-time codes, end to end: the server calls a provider stand-in started here
//! on loopback, configured as a real deployment would be (DLT fields, a secret header
//! from a file, a JSON body for SMS and a form for WhatsApp); each test takes the code
//! from the captured request.

mod common;
mod otp_support;

use common::*;
use otp_support::{Provider, jwt_claims, six_digits};
use serde_json::json;
use std::collections::BTreeMap;
use tollgate_engine::runtime::sends::{Limit, SendLimits};
use tollgate_gateway::sms::{BodyFormat, HeaderValue, HttpChannel, SmsMode};

const PE_ID: &str = "1201159100000000001";
const TEMPLATE_ID: &str = "1207161234567890123";

async fn server(provider: &Provider, secrets: &std::path::Path) -> TestServer {
    let token_file = secrets.join("provider.token");
    std::fs::write(&token_file, "provider-secret-42\n").unwrap();
    let base = provider.base.clone();
    TestServer::start_configured(false, move |c| {
        // One send at a time, in queue order: see `barrier_sms`.
        c.otp.delivery.concurrency = 1;
        c.otp.default_region = Some("IN".into());
        c.sms.mode = SmsMode::Http;
        let mut headers = BTreeMap::new();
        headers.insert(
            "Authorization".to_owned(),
            HeaderValue::Secret {
                file: Some(token_file),
                env: None,
                prefix: "Bearer ".into(),
            },
        );
        headers.insert(
            "X-Sender-Id".to_owned(),
            HeaderValue::Plain("TLGATE".into()),
        );
        c.sms.sms = Some(HttpChannel {
            url: format!("{base}/sms/send"),
            method: "POST".into(),
            format: BodyFormat::Json,
            headers: headers.clone(),
            body: json!({
                "sender": "TLGATE",
                "to": "{{recipient}}",
                "msisdn": "{{recipient_digits}}",
                "otp": "{{code}}",
                "text": "{{message}}",
                "dlt": {"pe_id": PE_ID, "template_id": TEMPLATE_ID}
            }),
            message: Some(
                "{{code}} is your OTP for {{tenant_name}}. Valid for {{minutes}} minutes. - TLGATE"
                    .into(),
            ),
        });
        c.sms.whatsapp = Some(HttpChannel {
            url: format!("{base}/wa/messages?to={{{{recipient_digits}}}}"),
            method: "POST".into(),
            format: BodyFormat::Form,
            headers,
            body: json!({"template": "otp_login", "code": "{{code}}", "to": "{{recipient}}"}),
            message: None,
        });
    })
    .await
}

async fn events(srv: &TestServer, tenant: &str) -> Vec<serde_json::Value> {
    srv.events(tenant, "").await
}

/// The server sends one message at a time, in queue order (`server` sets
/// `otp.delivery.concurrency = 1`): when the SMS a later request asked for is the next
/// request the provider sees, nothing asked for before it was sent.
async fn barrier_sms(provider: &mut Provider, to: &str) {
    let req = provider.next().await;
    assert_eq!(
        (req.path.as_str(), req.json()["to"].as_str()),
        ("/sms/send", Some(to)),
        "an unexpected send reached the provider first: {req:?}"
    );
}

fn amr(claims: &serde_json::Value) -> Vec<String> {
    claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

async fn begin(b: &Browser, t: &TestTenant) -> (String, String, String) {
    let (verifier, challenge) = pkce();
    let (s, loc, _) = b.get(&authorize_url(t, "openid", &challenge, &[])).await;
    assert_eq!(s, 303);
    let (_, _, page) = b.get(&loc.unwrap()).await;
    (
        hidden(&page, "tx").unwrap(),
        hidden(&page, "csrf").unwrap(),
        verifier,
    )
}

async fn claims_of(t: &TestTenant, redirect: &str, verifier: &str) -> serde_json::Value {
    assert!(redirect.starts_with(&t.redirect_uri), "{redirect}");
    let code = query_param(redirect, "code").unwrap();
    let (s, v) = redeem(&reqwest::Client::new(), t, &code, verifier).await;
    assert_eq!(s, 200, "{v}");
    jwt_claims(v["id_token"].as_str().unwrap())
}

fn off_by_one(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[actix_web::test]
async fn phone_enrolment_second_factor_and_sign_in() {
    let mut provider = Provider::start().await;
    let secrets = tempfile::tempdir().unwrap();
    let srv = server(&provider, secrets.path()).await;
    let t = srv.tenant("phones", false, true).await;

    // Add a number from the account page, typed without the country code (default
    // region IN): the provider gets E.164 and the DLT fields.
    let b = srv.browser();
    let (verifier, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(&t, "openid", &challenge, &[]),
            &t.email,
            PASSWORD,
        )
        .await;
    let _ = claims_of(&t, &back, &verifier).await;
    let (s, _, page) = b.get(&format!("{}/account/phone", t.issuer)).await;
    assert_eq!(s, 200);
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, page) = b
        .post_form(
            &format!("{}/account/phone", t.issuer),
            &[
                ("phone", "098765 43210"),
                ("channel", "sms"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("+91********10"), "{page}");
    let handle = hidden(&page, "handle").unwrap();
    let req = provider.next().await;
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/sms/send")
    );
    assert_eq!(req.headers["authorization"], "Bearer provider-secret-42");
    assert_eq!(req.headers["x-sender-id"], "TLGATE");
    assert!(req.headers["content-type"].starts_with("application/json"));
    let body = req.json();
    assert_eq!(body["to"], "+919876543210");
    assert_eq!(body["msisdn"], "919876543210");
    assert_eq!(body["dlt"]["pe_id"], PE_ID);
    assert_eq!(body["dlt"]["template_id"], TEMPLATE_ID);
    assert_eq!(body["sender"], "TLGATE");
    let code = body["otp"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert_eq!(
        body["text"],
        format!("{code} is your OTP for Tenant phones. Valid for 10 minutes. - TLGATE")
    );
    let confirm = format!("{}/account/phone/confirm", t.issuer);
    let (s, _, page) = b
        .post_form(
            &confirm,
            &[
                ("handle", &handle),
                ("code", &off_by_one(&code)),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 401);
    assert!(page.contains("not right"));
    let (s, loc, _) = b
        .post_form(
            &confirm,
            &[("handle", &handle), ("code", &code), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().ends_with("/phones/account"));
    let (_, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    assert!(
        page.contains("Code by text message") && page.contains("+91********10"),
        "{page}"
    );
    // The number is the user's data: it is in their export, opened from its sealed form.
    let (s, _, export) = b.get(&format!("{}/account/export", t.issuer)).await;
    assert_eq!(s, 200);
    let export: serde_json::Value = serde_json::from_str(&export).unwrap();
    let phones: Vec<&str> = export["second_factors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["phone"].as_str())
        .collect();
    assert_eq!(phones, ["+919876543210"]);
    let (s, _, refused) = b
        .post_form(
            &confirm,
            &[("handle", &handle), ("code", &code), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 400, "a used code must not work again");
    assert!(refused.contains("expired or was already used"), "{refused}");

    // The number is now a second factor: with MFA optional, a password sign-in asks for it.
    let r = reqwest::Client::new()
        .put(format!("{}/admin/v1/tenants/phones/mfa", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&json!({"mode": "optional", "factors": ["totp", "phone"]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let c = srv.browser();
    let (tx, csrf, verifier) = begin(&c, &t).await;
    let (s, _, page) = c
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
    assert_eq!(s, 200);
    assert!(page.contains("Text me a code"), "{page}");
    let handle = hidden(&page, "handle").unwrap();
    let (s, _, page) = c
        .post_form(
            &format!("{}/login/factor/send", t.issuer),
            &[
                ("handle", &handle),
                ("method", "phone"),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    let req = provider.next().await;
    assert_eq!(req.path, "/sms/send", "the channel chosen at enrolment");
    assert_eq!(req.json()["to"], "+919876543210");
    let code = req.json()["otp"].as_str().unwrap().to_owned();
    let (s, loc, body) = c
        .post_form(
            &format!("{}/login/factor", t.issuer),
            &[
                ("handle", &handle),
                ("method", "phone"),
                ("code", &code),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let claims = claims_of(&t, &loc.unwrap(), &verifier).await;
    let a = amr(&claims);
    for m in ["pwd", "sms", "mfa"] {
        assert!(a.contains(&m.to_owned()), "{m} missing from {a:?}");
    }

    // Sign in by a code alone, over WhatsApp (form body, recipient in the URL too).
    let d = srv.browser();
    let (tx, csrf, verifier) = begin(&d, &t).await;
    let (s, _, page) = d.get(&format!("{}/login/phone?tx={tx}", t.issuer)).await;
    assert_eq!(s, 200);
    assert!(page.contains("whatsapp"));
    let (s, _, page) = d
        .post_form(
            &format!("{}/login/phone", t.issuer),
            &[
                ("phone", "+91 98765-43210"),
                ("channel", "whatsapp"),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("If an account exists for"));
    let handle = hidden(&page, "handle").unwrap();
    let req = provider.next().await;
    assert_eq!(req.path, "/wa/messages");
    assert_eq!(req.query, "to=919876543210");
    assert!(req.headers["content-type"].starts_with("application/x-www-form-urlencoded"));
    let form = req.form();
    assert_eq!(form["template"], "otp_login");
    assert_eq!(form["to"], "+919876543210");
    let code = form["code"].clone();
    assert_eq!(six_digits(&code).as_deref(), Some(code.as_str()));
    let (s, loc, body) = d
        .post_form(
            &format!("{}/login/phone/code", t.issuer),
            &[
                ("handle", &handle),
                ("code", &code),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let claims = claims_of(&t, &loc.unwrap(), &verifier).await;
    assert_eq!(
        amr(&claims),
        vec!["sms"],
        "the phone cannot also be the second factor"
    );

    // A number no account has: the same answer, and nothing is sent. (A fresh form: the
    // browser is signed in now, and CSRF tokens are bound to the session.)
    let csrf = fresh_csrf(&d, &format!("{}/login/phone", t.issuer)).await;
    let (s, _, page) = d
        .post_form(
            &format!("{}/login/phone", t.issuer),
            &[
                ("phone", "+91 91234 56789"),
                ("channel", "sms"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("If an account exists for"));
    // A later request for the account's number: its SMS must be the next send.
    let (s, _, page) = d
        .post_form(
            &format!("{}/login/phone", t.issuer),
            &[
                ("phone", "+919876543210"),
                ("channel", "sms"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    barrier_sms(&mut provider, "+919876543210").await;

    // Removing the number: an event, and it no longer signs in.
    let (_, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    let id = hidden(&page, "id").expect("the factor's remove form");
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, _) = b
        .post_form(
            &format!("{}/account/factors/remove", t.issuer),
            &[("id", &id), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let d_csrf = fresh_csrf(&d, &format!("{}/login/phone", t.issuer)).await;
    let (s, _, page) = d
        .post_form(
            &format!("{}/login/phone", t.issuer),
            &[
                ("phone", "+919876543210"),
                ("channel", "sms"),
                ("csrf", &d_csrf),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("If an account exists for"), "{page}");
    // A later send (the signed-in user adds another number): it must be the next one.
    let b_csrf = fresh_csrf(&b, &format!("{}/account/phone", t.issuer)).await;
    let (s, _, page) = b
        .post_form(
            &format!("{}/account/phone", t.issuer),
            &[
                ("phone", "+91 91111 22222"),
                ("channel", "sms"),
                ("csrf", &b_csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    barrier_sms(&mut provider, "+919111122222").await;

    let evs = events(&srv, "phones").await;
    let kinds: Vec<&str> = evs.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in [
        "otp.sent",
        "otp.rejected",
        "mfa.enrolled",
        "mfa.removed",
        "login.phone_code",
        "mfa.completed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let details: Vec<&str> = evs.iter().filter_map(|e| e["detail"].as_str()).collect();
    assert!(
        details.iter().any(|d| d.contains("+91********10")),
        "{details:?}"
    );
    let all = serde_json::to_string(&evs).unwrap();
    assert!(
        !all.contains("9876543210") && !all.contains("9123456789"),
        "{all}"
    );
    assert!(
        !details.iter().any(|d| d.contains(&code)),
        "a code in the audit trail"
    );
    provider.stop().await;
}

async fn start_phone_sign_in(srv: &TestServer, tenant: &str, number: &str) -> (u16, Option<u64>) {
    let b = srv.browser();
    let (_, _, page) = b.get(&format!("{}/{tenant}/login/phone", srv.base)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let r = b
        .http
        .post(format!("{}/{tenant}/login/phone", srv.base))
        .form(&[("phone", number), ("channel", "sms"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (r.status().as_u16(), retry)
}

#[actix_web::test]
async fn send_limits_per_number_address_and_tenant_answer_429() {
    let srv = TestServer::start_configured(false, |c| {
        c.otp.phone_limits = SendLimits {
            recipient: Limit {
                max: 2,
                window_secs: 60,
            },
            ip: Limit {
                max: 5,
                window_secs: 600,
            },
            tenant: Limit {
                max: 4,
                window_secs: 3600,
            },
        };
    })
    .await;
    srv.tenant("lim-a", false, true).await;
    srv.tenant("lim-b", false, true).await;
    // Per number (whether or not an account has it).
    assert_eq!(
        start_phone_sign_in(&srv, "lim-a", "+919876500001").await,
        (200, None)
    );
    assert_eq!(
        start_phone_sign_in(&srv, "lim-a", "+919876500001").await,
        (200, None)
    );
    let (s, retry) = start_phone_sign_in(&srv, "lim-a", "+919876500001").await;
    assert_eq!(s, 429);
    assert!(retry.is_some_and(|r| r > 0 && r <= 60), "{retry:?}");
    // Per tenant: two more numbers reach its four.
    assert_eq!(
        start_phone_sign_in(&srv, "lim-a", "+919876500002").await.0,
        200
    );
    assert_eq!(
        start_phone_sign_in(&srv, "lim-a", "+919876500003").await.0,
        200
    );
    let (s, retry) = start_phone_sign_in(&srv, "lim-a", "+919876500004").await;
    assert_eq!(s, 429);
    assert!(retry.is_some_and(|r| r > 600 && r <= 3600), "{retry:?}");
    // Per client address, across tenants: the fifth send from 127.0.0.1 is the last.
    assert_eq!(
        start_phone_sign_in(&srv, "lim-b", "+919876500005").await.0,
        200
    );
    let (s, retry) = start_phone_sign_in(&srv, "lim-b", "+919876500006").await;
    assert_eq!(s, 429);
    assert!(retry.is_some_and(|r| r > 60 && r <= 600), "{retry:?}");
    let kinds: Vec<String> = events(&srv, "lim-a")
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "otp.limited").count(), 2);
}

#[actix_web::test]
async fn numbers_that_cannot_take_a_code_are_refused_before_any_send() {
    let mut provider = Provider::start().await;
    let secrets = tempfile::tempdir().unwrap();
    let srv = server(&provider, secrets.path()).await;
    let t = srv.tenant("badnum", false, true).await;
    let b = srv.browser();
    let (_, _, page) = b.get(&format!("{}/badnum/login/phone", srv.base)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    for (number, why) in [
        (
            "+1 900 555 0123",
            "Codes can only be sent to mobile numbers.",
        ),
        ("+91 98765", "That is not a valid phone number."),
        (
            "call me",
            "A phone number has only digits, spaces, dashes, brackets and a leading +.",
        ),
        (
            "+44 20 7946 0018",
            "Codes can only be sent to mobile numbers.",
        ),
    ] {
        let (s, _, page) = b
            .post_form(
                &format!("{}/badnum/login/phone", srv.base),
                &[("phone", number), ("channel", "sms"), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(s, 400, "{number}: {page}");
        assert!(page.contains(why), "{number}: {page}");
    }
    // A later send that must go out (the user adds a number): it must be the first.
    let (verifier, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(&t, "openid", &challenge, &[]),
            &t.email,
            PASSWORD,
        )
        .await;
    let _ = claims_of(&t, &back, &verifier).await;
    let csrf = fresh_csrf(&b, &format!("{}/account/phone", t.issuer)).await;
    let (s, _, page) = b
        .post_form(
            &format!("{}/account/phone", t.issuer),
            &[
                ("phone", "+91 98765 43210"),
                ("channel", "sms"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    barrier_sms(&mut provider, "+919876543210").await;
    provider.stop().await;
}

#[actix_web::test]
async fn a_provider_that_cannot_be_reached_is_an_audited_failure() {
    let provider = Provider::start().await;
    let secrets = tempfile::tempdir().unwrap();
    let srv = server(&provider, secrets.path()).await;
    provider.stop().await;
    let t = srv.tenant("down", false, true).await;
    let b = srv.browser();
    let (verifier, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(&t, "openid", &challenge, &[]),
            &t.email,
            PASSWORD,
        )
        .await;
    let _ = claims_of(&t, &back, &verifier).await;
    let (_, _, page) = b.get(&format!("{}/account/phone", t.issuer)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, _) = b
        .post_form(
            &format!("{}/account/phone", t.issuer),
            &[
                ("phone", "+91 98765 43210"),
                ("channel", "sms"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "sending happens after the answer");
    let failed = srv
        .events_until("down", "kind=otp.send_failed", |evs| !evs.is_empty())
        .await;
    let failed = &failed[0];
    assert_eq!(failed["result"], "failure");
    assert_eq!(failed["detail"], "phone_enrol +91********10 sms");
}
