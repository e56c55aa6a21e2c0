//! The account portal through HTTP: profile, sign-in email change (a code to the new
//! address over real SMTP, a notice to the old one), password change (other sessions and
//! refresh tokens die), deleting the account; consent purposes (admin API, asked at
//! sign-in, a new version asks again, optional ones on the account page, events, export);
//! progressive profiling (after N sign-ins, by scope, optional skipped, required not).

mod common;
mod otp_support;

use common::*;
use otp_support::SmtpSink;
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_engine::clock::{Clock, ManualClock, SystemClock};
use tollgate_gateway::mail::{MailMode, SmtpTls};

async fn server(sink: &SmtpSink) -> TestServer {
    let port = sink.addr.port();
    TestServer::start_configured(false, |c| {
        c.mail.mode = MailMode::Smtp;
        c.mail.host = "127.0.0.1".into();
        c.mail.port = Some(port);
        c.mail.tls = SmtpTls::None;
        c.mail.from = "Tollgate Test <no-reply@tollgate.test>".into();
    })
    .await
}

async fn events(srv: &TestServer, tenant: &str, query: &str) -> Vec<Value> {
    srv.events(tenant, query).await
}

async fn admin_put(srv: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let r = srv
        .http
        .put(format!("{}/admin/v1{path}", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Signs in on the tenant's own sign-in page (no application); returns where it went.
async fn sign_in(b: &Browser, t: &TestTenant, email: &str, password: &str) -> (u16, String) {
    let (_, _, page) = b.get(&format!("{}/login", t.issuer)).await;
    let csrf = hidden(&page, "csrf").expect("csrf");
    let (s, loc, _) = b
        .post_form(
            &format!("{}/login", t.issuer),
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
        .await;
    (s, loc.unwrap_or_default())
}

/// The account page and its CSRF token.
async fn account(b: &Browser, t: &TestTenant) -> (String, String) {
    let (s, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 200, "{page}");
    let csrf = hidden(&page, "csrf").unwrap();
    (page, csrf)
}

/// The user's id, from their own export.
async fn my_id(b: &Browser, t: &TestTenant) -> String {
    let doc: Value = b
        .http
        .get(format!("{}/account/export", t.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    doc["profile"]["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn profile_email_and_password_change_from_the_account_page() {
    let mut sink = SmtpSink::start().await;
    let srv = server(&sink).await;
    let t = srv.tenant("portal", false, true).await;
    let b = srv.browser();
    assert_eq!(sign_in(&b, &t, &t.email, PASSWORD).await.0, 303);
    let (page, csrf) = account(&b, &t).await;
    for section in [
        "id=\"profile\"",
        "id=\"sign-in-email\"",
        "id=\"password\"",
        "id=\"delete\"",
    ] {
        assert!(page.contains(section), "no {section}");
    }

    // Profile: the name and a profile field; an unknown field or a bad date is refused.
    let (s, loc, _) = b
        .post_form(
            &format!("{}/account/profile", t.issuer),
            &[
                ("name", "Ada King"),
                ("field.given_name", "Ada"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().contains("/account"));
    let (page, _) = account(&b, &t).await;
    assert!(page.contains("value=\"Ada King\""), "{page}");
    assert!(page.contains("value=\"Ada\""));
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/profile", t.issuer),
            &[("field.birthdate", "yesterday"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 400);
    assert!(body.contains("YYYY-MM-DD"), "{body}");
    let (s, _, refused) = b
        .post_form(
            &format!("{}/account/profile", t.issuer),
            &[("field.password_hash", "x"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        refused.contains("Unknown profile field password_hash."),
        "{refused}"
    );
    // Without the CSRF token: refused.
    let (s, _, refused) = b
        .post_form(
            &format!("{}/account/profile", t.issuer),
            &[("name", "Mallory")],
        )
        .await;
    assert_eq!(s, 403);
    assert!(refused.contains("This form expired."), "{refused}");
    let uid = my_id(&b, &t).await;
    let ev = events(
        &srv,
        "portal",
        &format!("user={uid}&kind=user.profile_updated"),
    )
    .await;
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0]["detail"], "name,given_name");
    let doc: Value = b
        .http
        .get(format!("{}/account/export", t.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["profile"]["fields"]["given_name"], "Ada");

    // Email change: another account's address gets the same answer as a free one (a code
    // to that address), and the code then says it cannot be used.
    srv.admin(
        "/tenants/portal/users",
        json!({"email": "taken@portal.example", "password": PASSWORD}),
    )
    .await;
    // The current password is asked first.
    let (s, _, page) = b
        .post_form(
            &format!("{}/account/email/change", t.issuer),
            &[
                ("new_email", "taken@portal.example"),
                ("current_password", "not it"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("not correct"), "{page}");
    let (s, _, page) = b
        .post_form(
            &format!("{}/account/email/change", t.issuer),
            &[
                ("new_email", "taken@portal.example"),
                ("current_password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    let handle = hidden(&page, "handle").unwrap();
    let mail = sink.next().await;
    assert_eq!(mail.header("To").as_deref(), Some("taken@portal.example"));
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/email/change/confirm", t.issuer),
            &[("handle", &handle), ("code", &mail.code()), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 409, "{body}");
    assert!(body.contains("cannot be used"), "{body}");

    let (s, _, page) = b
        .post_form(
            &format!("{}/account/email/change", t.issuer),
            &[
                ("new_email", "Ada.New@Portal.example"),
                ("current_password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let handle = hidden(&page, "handle").unwrap();
    let mail = sink.next().await;
    assert_eq!(mail.header("To").as_deref(), Some("ada.new@portal.example"));
    // A wrong code first: the form again.
    let wrong = if mail.code() == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (s, _, refused) = b
        .post_form(
            &format!("{}/account/email/change/confirm", t.issuer),
            &[("handle", &handle), ("code", wrong), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 401);
    assert!(refused.contains("That code is not right."), "{refused}");
    let (s, _, _) = b
        .post_form(
            &format!("{}/account/email/change/confirm", t.issuer),
            &[("handle", &handle), ("code", &mail.code()), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let notice = sink.next().await;
    assert_eq!(notice.header("To").as_deref(), Some(t.email.as_str()));
    assert!(notice.text().contains("was changed"), "{}", notice.text());
    let (page, csrf) = account(&b, &t).await;
    assert!(page.contains("ada.new@portal.example"));
    // The old address no longer signs in; the new one does.
    let other = srv.browser();
    assert_eq!(sign_in(&other, &t, &t.email, PASSWORD).await.0, 401);
    assert_eq!(
        sign_in(&other, &t, "ada.new@portal.example", PASSWORD)
            .await
            .0,
        303
    );
    let ev = events(
        &srv,
        "portal",
        &format!("user={uid}&kind=user.email_changed"),
    )
    .await;
    assert_eq!(ev.len(), 1);
    for e in events(&srv, "portal", &format!("user={uid}")).await {
        let text = e.to_string();
        assert!(!text.contains("ada.new@portal.example"), "{text}");
        assert!(!text.contains("taken@portal.example"), "{text}");
    }

    // Password change: the current password is required; then the other session and
    // every refresh token are dead, this browser stays signed in.
    let mut t2 = t.clone();
    t2.email = "ada.new@portal.example".into();
    let app = srv.browser();
    let tokens = login_tokens(&app, &t2, "openid profile offline_access").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    // The profile field is a `profile` claim at userinfo.
    let info: Value = srv
        .http
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["given_name"], "Ada");
    assert_eq!(info["name"], "Ada King");
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/password", t.issuer),
            &[
                ("current_password", "not it"),
                ("new_password", "a brand new passphrase"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert!(body.contains("not correct"), "{body}");
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/password", t.issuer),
            &[
                ("current_password", PASSWORD),
                ("new_password", "short"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400, "{body}");
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/password", t.issuer),
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, v) = refresh_token_status(&t2, &refresh).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "the refresh token still works: {v}"
    );
    let (s, loc, _) = other.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 303, "the other session is still signed in");
    assert!(loc.unwrap().contains("/login"));
    account(&b, &t).await;
    assert_eq!(
        sign_in(&other, &t, "ada.new@portal.example", PASSWORD)
            .await
            .0,
        401
    );
    assert_eq!(
        sign_in(
            &other,
            &t,
            "ada.new@portal.example",
            "a brand new passphrase"
        )
        .await
        .0,
        303
    );
}

async fn refresh_token_status(t: &TestTenant, token: &str) -> (u16, Value) {
    refresh(t, token).await
}

#[actix_web::test]
async fn deleting_the_account_signs_out_everywhere_and_sign_in_fails() {
    let srv = TestServer::start().await;
    let t = srv.tenant("gone", false, true).await;
    let app = srv.browser();
    let tokens = login_tokens(&app, &t, "openid offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    let b = srv.browser();
    assert_eq!(sign_in(&b, &t, &t.email, PASSWORD).await.0, 303);
    let uid = my_id(&b, &t).await;
    let (s, _, page) = b.get(&format!("{}/account/delete", t.issuer)).await;
    assert_eq!(s, 200);
    let csrf = hidden(&page, "csrf").unwrap();
    // The wrong password: nothing happens.
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/delete", t.issuer),
            &[("confirmation", "wrong"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 400);
    assert!(body.contains("was not deleted"), "{body}");
    // Still alive after the refused attempt (one rotation).
    let (s, v) = common::refresh(&t, &rt).await;
    assert_eq!(s, 200, "{v}");
    let rt = v["refresh_token"].as_str().unwrap().to_owned();
    let r = b
        .http
        .post(format!("{}/account/delete", t.issuer))
        .form(&[("confirmation", PASSWORD), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("tg_session=;")),
        "{cookies:?}"
    );
    assert!(r.text().await.unwrap().contains("Your account was deleted"));
    let (s, v) = refresh_token_status(&t, &rt).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let (s, loc, _) = app.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(
        (s, loc.as_deref()),
        (303, Some(format!("{}/login", t.issuer).as_str()))
    );
    assert_eq!(sign_in(&srv.browser(), &t, &t.email, PASSWORD).await.0, 401);
    let ev = events(&srv, "gone", &format!("user={uid}&kind=user.deleted")).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["actor"], uid.as_str());
}

#[actix_web::test]
async fn required_purposes_are_asked_at_sign_in_and_optional_ones_on_the_account_page() {
    let srv = TestServer::start().await;
    let t = srv.tenant("consent", false, true).await;
    let purposes = |terms: u32| {
        json!({"purposes": [
            {"id": "terms", "description": "The terms of service", "version": terms, "required": true},
            {"id": "news", "description": "Product news by email", "version": 1, "required": false},
        ]})
    };
    // Bad lists are refused.
    let (s, v) = admin_put(
        &srv,
        "/tenants/consent/purposes",
        json!({"purposes": [{"id": "Bad Id", "description": "x", "version": 1}]}),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("purpose id \"Bad Id\"")),
        "{v}"
    );
    let (s, v) = admin_put(&srv, "/tenants/consent/purposes", purposes(1)).await;
    assert_eq!(s, 200, "{v}");
    let got: Value = srv
        .http
        .get(format!("{}/admin/v1/tenants/consent/purposes", srv.base))
        .bearer_auth(&srv.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["purposes"][0]["id"], "terms");
    assert_eq!(got["purposes"][1]["required"], false);

    // Signing in through an application: the required purpose comes first.
    let b = srv.browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&t, "openid", &challenge, &[]);
    let (_, loc, _) = b.get(&url).await;
    let (_, _, page) = b.get(&loc.unwrap()).await;
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, loc, _) = b
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
    assert_eq!(s, 303);
    let step = loc.unwrap();
    assert!(step.contains("/account/complete?tx="), "{step}");
    let (s, _, page) = b.get(&step).await;
    assert_eq!(s, 200);
    assert!(page.contains("The terms of service"));
    assert!(
        !page.contains("Product news"),
        "optional purposes are not asked"
    );
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    // Not ticked: asked again.
    let (s, _, refused) = b
        .post_form(
            &format!("{}/account/complete", t.issuer),
            &[("tx", &tx), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        refused.contains("Please agree to each item to continue."),
        "{refused}"
    );
    let (s, loc, _) = b
        .post_form(
            &format!("{}/account/complete", t.issuer),
            &[("tx", &tx), ("csrf", &csrf), ("purpose.terms", "1")],
        )
        .await;
    assert_eq!(s, 303);
    let (s, loc, _) = b.get(&loc.unwrap()).await;
    assert_eq!(s, 303);
    let back = loc.unwrap();
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("{back}"));
    assert_eq!(redeem(&srv.http, &t, &code, &verifier).await.0, 200);

    // The next sign-in does not ask; a new version of the notice does.
    let c = srv.browser();
    let (s, loc) = sign_in(&c, &t, &t.email, PASSWORD).await;
    assert_eq!((s, loc.ends_with("/consent/account")), (303, true), "{loc}");
    admin_put(&srv, "/tenants/consent/purposes", purposes(2)).await;
    // A session from before the new version: the next authorization asks first.
    let (_, challenge) = pkce();
    let (s, loc, _) = c.get(&authorize_url(&t, "openid", &challenge, &[])).await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().contains("/consent/account/complete?tx="));
    let d = srv.browser();
    let (_, loc) = sign_in(&d, &t, &t.email, PASSWORD).await;
    assert!(loc.ends_with("/account/complete"), "{loc}");
    let (_, _, page) = d.get(&format!("{}/account/complete", t.issuer)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    // Agreeing to the old version (a stale page) is refused.
    let (s, _, body) = d
        .post_form(
            &format!("{}/account/complete", t.issuer),
            &[("csrf", &csrf), ("purpose.terms", "1")],
        )
        .await;
    assert_eq!(s, 400, "{body}");
    let (s, loc, _) = d
        .post_form(
            &format!("{}/account/complete", t.issuer),
            &[("csrf", &csrf), ("purpose.terms", "2")],
        )
        .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().ends_with("/consent/account"));

    // Optional purposes: granted and withdrawn on the account page; required ones
    // cannot be withdrawn there.
    let (page, csrf) = account(&d, &t).await;
    assert!(page.contains("Product news by email"));
    let post = |decision: &'static str, id: &'static str, v: &'static str| {
        let (d, csrf, issuer) = (&d, csrf.clone(), t.issuer.clone());
        async move {
            d.post_form(
                &format!("{issuer}/account/purposes"),
                &[
                    ("purpose", id),
                    ("version", v),
                    ("decision", decision),
                    ("csrf", &csrf),
                ],
            )
            .await
            .0
        }
    };
    assert_eq!(post("grant", "news", "1").await, 303);
    assert_eq!(post("withdraw", "news", "1").await, 303);
    assert_eq!(post("withdraw", "terms", "2").await, 400);
    assert_eq!(post("grant", "nothing", "1").await, 400);

    let uid = my_id(&d, &t).await;
    let ev = events(&srv, "consent", &format!("user={uid}&kind=consent.")).await;
    let seen: Vec<(String, String)> = ev
        .iter()
        .filter(|e| e["kind"].as_str().unwrap().starts_with("consent.purpose_"))
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("consent.purpose_withdrawn".into(), "news v1".into()),
            ("consent.purpose_granted".into(), "news v1".into()),
            ("consent.purpose_granted".into(), "terms v2".into()),
            ("consent.purpose_granted".into(), "terms v1".into()),
        ]
    );
    let doc: Value = d
        .http
        .get(format!("{}/account/export", t.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut grants: Vec<(String, u64, bool)> = doc["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["purpose"].as_str().unwrap().to_owned(),
                g["notice_version"].as_u64().unwrap(),
                g["granted"].as_bool().unwrap(),
            )
        })
        .collect();
    grants.sort();
    assert_eq!(
        grants,
        vec![("news".into(), 1, false), ("terms".into(), 2, true)]
    );

    // Signing up: asked at once, before the account page opens.
    let e = srv.browser();
    let (s, loc, body) = sign_up(&srv, &e, "consent", "new@consent.example", PASSWORD, None).await;
    assert_eq!(s, 303, "{body}");
    assert!(loc.unwrap().ends_with("/consent/account/complete"));
    let (_, _, page) = e.get(&format!("{}/account/complete", t.issuer)).await;
    assert!(page.contains("The terms of service") && page.contains("value=\"2\""));
}

#[actix_web::test]
async fn profile_fields_are_asked_after_n_sign_ins_and_by_scope() {
    // Sign-ins are counted up to the second the current session began: a clock the test
    // moves puts the second sign-in a second after the first without waiting for it.
    let clock = ManualClock::new(SystemClock.now());
    let srv = TestServer::start_with_clock(Arc::new(clock.clone())).await;
    let t = srv.tenant("prog", false, true).await;
    let (s, v) = admin_put(
        &srv,
        "/tenants/prog/profile-fields",
        json!({"profile_fields": [{"field": "favourite_colour", "after_sign_ins": 1}]}),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("unknown profile field \"favourite_colour\"")),
        "{v}"
    );
    let (s, v) = admin_put(
        &srv,
        "/tenants/prog/profile-fields",
        json!({"profile_fields": [
            {"field": "given_name", "required": false, "after_sign_ins": 2},
            {"field": "company", "required": true, "scope": "profile"},
        ]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // First sign-in: nothing asked.
    let b = srv.browser();
    let (_, loc) = sign_in(&b, &t, &t.email, PASSWORD).await;
    assert!(loc.ends_with("/prog/account"), "{loc}");
    // Once the first sign-in's event is stored, a second later: asked, and skippable.
    srv.settle_events().await;
    clock.advance(1);
    let b = srv.browser();
    let (_, loc) = sign_in(&b, &t, &t.email, PASSWORD).await;
    assert!(loc.ends_with("/account/complete"), "{loc}");
    let (_, _, page) = b.get(&format!("{}/account/complete", t.issuer)).await;
    assert!(page.contains("First name (optional)"), "{page}");
    assert!(page.contains("Not now"));
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, loc, _) = b
        .post_form(
            &format!("{}/account/complete", t.issuer),
            &[("csrf", &csrf), ("skip", "yes")],
        )
        .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().ends_with("/prog/account"));
    // The skip is remembered in this browser.
    let (_, loc) = sign_in(&b, &t, &t.email, PASSWORD).await;
    assert!(loc.ends_with("/prog/account"), "{loc}");

    // Already signed in, a client asking for `profile` gets the step first; with
    // prompt=none (no page can be shown) it gets its code.
    let (_, challenge) = pkce();
    let (s, loc, _) = b
        .get(&authorize_url(&t, "openid profile", &challenge, &[]))
        .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().contains("/prog/account/complete?tx="));
    let (_, loc, _) = b
        .get(&authorize_url(
            &t,
            "openid profile",
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert!(query_param(&loc.unwrap(), "code").is_some());
    // Without the scope, nothing is asked.
    let (_, loc, _) = b.get(&authorize_url(&t, "openid", &challenge, &[])).await;
    assert!(query_param(&loc.unwrap(), "code").is_some());

    // Signing in for a client asking for `profile`: the required field is asked, and
    // cannot be skipped.
    let (verifier, challenge) = pkce();
    let url = authorize_url(&t, "openid profile", &challenge, &[("prompt", "login")]);
    let (_, loc, _) = b.get(&url).await;
    let (_, _, page) = b.get(&loc.unwrap()).await;
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let (_, loc, _) = b
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
    let step = loc.unwrap();
    assert!(step.contains("/account/complete?tx="), "{step}");
    let (_, _, page) = b.get(&step).await;
    assert!(page.contains("Company"));
    assert!(!page.contains("Not now"));
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, refused) = b
        .post_form(
            &format!("{}/account/complete", t.issuer),
            &[("csrf", &csrf), ("tx", &tx), ("skip", "yes")],
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        refused.contains("Company is needed to continue."),
        "{refused}"
    );
    let (s, loc, _) = b
        .post_form(
            &format!("{}/account/complete", t.issuer),
            &[
                ("csrf", &csrf),
                ("tx", &tx),
                ("field.company", "Analytical Engines"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, loc, _) = b.get(&loc.unwrap()).await;
    let code = query_param(&loc.unwrap(), "code").expect("back at the client with a code");
    assert_eq!(redeem(&srv.http, &t, &code, &verifier).await.0, 200);
    let doc: Value = b
        .http
        .get(format!("{}/account/export", t.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["profile"]["fields"]["company"], "Analytical Engines");
}

/// The code texted to `to`, from the development SMS outbox (a JSON file per message).
async fn texted_code(srv: &TestServer, to: &str) -> String {
    let dir = srv.dir.path().join("outbox");
    for _ in 0..100 {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            files.sort();
            for f in files.iter().rev() {
                let Ok(doc) = serde_json::from_slice::<Value>(&std::fs::read(f).unwrap()) else {
                    continue;
                };
                if doc["to"] == to {
                    std::fs::remove_file(f).unwrap();
                    let text = doc["text"].as_str().unwrap();
                    return otp_support::six_digits(text).expect("a code in the message");
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message to {to} in the outbox");
}

#[actix_web::test]
async fn a_new_mobile_number_is_proven_then_replaces_the_old_one() {
    let srv = TestServer::start().await;
    let t = srv.tenant("phones", false, true).await;
    let b = srv.browser();
    assert_eq!(sign_in(&b, &t, &t.email, PASSWORD).await.0, 303);
    let (page, csrf) = account(&b, &t).await;
    assert!(!page.contains("Change number"));
    // The first number, through the existing enrolment.
    let (s, _, page) = b
        .post_form(
            &format!("{}/account/phone", t.issuer),
            &[("phone", "+919876543210"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    let handle = hidden(&page, "handle").unwrap();
    let code = texted_code(&srv, "+919876543210").await;
    let (s, _, _) = b
        .post_form(
            &format!("{}/account/phone/confirm", t.issuer),
            &[("handle", &handle), ("code", &code), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let (page, _) = account(&b, &t).await;
    assert!(page.contains("Change number") && page.contains("+91********10"));

    // The change: a code to the new number; a wrong one changes nothing.
    let (s, _, page) = b.get(&format!("{}/account/phone/change", t.issuer)).await;
    assert_eq!(s, 200);
    assert!(page.contains("Change your mobile number"));
    let (s, _, page) = b
        .post_form(
            &format!("{}/account/phone/change", t.issuer),
            &[("phone", "+919876543299"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    let handle = hidden(&page, "handle").unwrap();
    let code = texted_code(&srv, "+919876543299").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, _, refused) = b
        .post_form(
            &format!("{}/account/phone/change/confirm", t.issuer),
            &[("handle", &handle), ("code", wrong), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 401);
    assert!(refused.contains("That code is not right."), "{refused}");
    let (page, _) = account(&b, &t).await;
    assert!(page.contains("+91********10"));
    let (s, _, _) = b
        .post_form(
            &format!("{}/account/phone/change/confirm", t.issuer),
            &[("handle", &handle), ("code", &code), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let doc: Value = b
        .http
        .get(format!("{}/account/export", t.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let phones: Vec<&str> = doc["second_factors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "phone")
        .map(|f| f["phone"].as_str().unwrap())
        .collect();
    assert_eq!(phones, vec!["+919876543299"]);
    let uid = my_id(&b, &t).await;
    let ev = events(
        &srv,
        "phones",
        &format!("user={uid}&kind=user.phone_changed"),
    )
    .await;
    assert_eq!(ev.len(), 1);
}

#[actix_web::test]
async fn password_checks_on_the_account_page_count_against_the_sign_in_throttle() {
    let srv = TestServer::start().await;
    let t = srv.tenant("guess", false, true).await;
    let b = srv.browser();
    assert_eq!(sign_in(&b, &t, &t.email, PASSWORD).await.0, 303);
    let (_, csrf) = account(&b, &t).await;
    let mut statuses = Vec::new();
    for i in 0..11 {
        let guess = format!("guess number {i}");
        let r = b
            .http
            .post(format!("{}/account/password", t.issuer))
            .form(&[
                ("current_password", guess.as_str()),
                ("new_password", "a brand new passphrase"),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap();
        statuses.push((r.status().as_u16(), r.headers().contains_key("retry-after")));
    }
    assert!(
        statuses[..10].iter().all(|s| *s == (400, false)),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], (429, true));
    // The sign-in page is throttled for this account too.
    assert_eq!(sign_in(&srv.browser(), &t, &t.email, PASSWORD).await.0, 429);
}
