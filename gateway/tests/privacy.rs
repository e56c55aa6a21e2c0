//! Data-subject export through the account page ("download my data") and the admin API:
//! one JSON document with the profile, sessions, apps, consents, second factors and the
//! user's events, and no secret of any kind.

mod common;

use common::{Browser, TestServer, login_tokens};
use serde_json::Value;

#[actix_web::test]
async fn users_and_admins_export_a_users_data_without_secrets() {
    let server = TestServer::start().await;
    // A third-party client, so the consent is recorded.
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);
    let tokens = login_tokens(&b, &t, "openid offline_access").await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let r = b
        .http
        .get(format!("{}/account/export", t.issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let text = r.text().await.unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], "tollgate.user-export.v1");
    assert_eq!(doc["profile"]["email"], t.email.as_str());
    assert_eq!(doc["organisation"]["data_region"], "default");
    assert_eq!(doc["sessions"].as_array().unwrap().len(), 1);
    let apps = doc["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0]["client_id"], t.client_id.as_str());
    assert_eq!(doc["consents"][0]["client_id"], t.client_id.as_str());
    let kinds: Vec<&str> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"login.password"), "{kinds:?}");
    assert!(kinds.contains(&"consent.granted"), "{kinds:?}");
    // Nothing secret: no password hash, no token or its parts, no session cookie.
    let cookie = b
        .http
        .get(format!("{}/account", t.issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(cookie.status(), 200);
    for secret in [
        "$argon2",
        "password_hash",
        refresh.as_str(),
        refresh.split('.').nth(1).unwrap(),
        tokens["access_token"].as_str().unwrap(),
    ] {
        assert!(!text.contains(secret), "the export contains {secret:?}");
    }

    // The admin export of the same user, and the event it leaves.
    let user = doc["profile"]["id"].as_str().unwrap();
    let admin_get = |path: String| {
        let server = &server;
        async move {
            server
                .http
                .get(format!("{}{path}", server.base))
                .bearer_auth(&server.admin_token)
                .send()
                .await
                .unwrap()
        }
    };
    let r = admin_get(format!("/admin/v1/tenants/acme/users/{user}/export")).await;
    assert_eq!(r.status(), 200);
    let by_admin: Value = r.json().await.unwrap();
    assert_eq!(by_admin["profile"], doc["profile"]);
    let r = admin_get("/admin/v1/tenants/acme/users/nobody/export".into()).await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "not_found", "{v}");
    let r = reqwest::get(format!(
        "{}/admin/v1/tenants/acme/users/{user}/export",
        server.base
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_token", "{v}");
    let events = server
        .events("acme", &format!("user={user}&kind=user.exported"))
        .await;
    let actors: Vec<&str> = events
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["admin", user], "who exported, newest first");

    // Signed out, there is nothing to download.
    let (s, loc, _) = Browser::new(&server.base)
        .get(&format!("{}/account/export", t.issuer))
        .await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().ends_with("/acme/login"));
}

async fn signed_in(b: &Browser, account: &str) -> bool {
    b.get(account).await.0 == 200
}

#[actix_web::test]
async fn users_see_their_sessions_and_sign_out_the_others() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, true).await;
    let browsers: Vec<Browser> = (0..3).map(|_| Browser::new(&server.base)).collect();
    for b in &browsers {
        login_tokens(b, &t, "openid").await;
    }
    let account = format!("{}/account", t.issuer);
    let (s, _, page) = browsers[0].get(&account).await;
    assert_eq!(s, 200);
    assert_eq!(page.matches("<li class=\"session\">").count(), 3, "{page}");
    assert_eq!(page.matches("this browser").count(), 1);
    let sids: Vec<String> = page
        .split("name=\"sid\" value=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(sids.len(), 2, "a sign-out button for each other session");
    let csrf = common::hidden(&page, "csrf").unwrap();
    let end = format!("{}/account/sessions/end", t.issuer);

    // Without the CSRF token, nothing ends.
    let (s, _, page) = browsers[0].post_form(&end, &[("sid", &sids[0])]).await;
    assert_eq!(s, 403);
    assert!(page.contains("This form expired"), "{page}");
    // Another user's browser cannot end this user's sessions.
    let other = server.tenant("other", false, true).await;
    let stranger = Browser::new(&server.base);
    login_tokens(&stranger, &other, "openid").await;
    let (_, _, their_page) = stranger.get(&format!("{}/account", other.issuer)).await;
    let their_csrf = common::hidden(&their_page, "csrf").unwrap();
    // (It has no session at this tenant, so it is sent to sign in.)
    let (s, loc, _) = stranger
        .post_form(
            &format!("{}/account/sessions/end", t.issuer),
            &[("sid", &sids[0]), ("csrf", &their_csrf)],
        )
        .await;
    assert_eq!(
        (s, loc.as_deref()),
        (303, Some(format!("{}/login", t.issuer).as_str()))
    );

    let mut alive = Vec::new();
    for b in &browsers {
        alive.push(signed_in(b, &account).await);
    }
    assert_eq!(alive, [true, true, true]);

    // One other session, by its sid: exactly one browser is signed out.
    let (s, _, _) = browsers[0]
        .post_form(&end, &[("sid", &sids[0]), ("csrf", &csrf)])
        .await;
    assert_eq!(s, 303);
    let mut alive = Vec::new();
    for b in &browsers {
        alive.push(signed_in(b, &account).await);
    }
    assert!(alive[0]);
    assert_eq!(alive.iter().filter(|a| **a).count(), 2, "{alive:?}");

    // All the others: only this browser stays.
    let (s, _, _) = browsers[0]
        .post_form(&end, &[("others", "yes"), ("csrf", &csrf)])
        .await;
    assert_eq!(s, 303);
    let mut alive = Vec::new();
    for b in &browsers {
        alive.push(signed_in(b, &account).await);
    }
    assert_eq!(alive, [true, false, false]);
    let (_, _, page) = browsers[0].get(&account).await;
    assert_eq!(page.matches("<li class=\"session\">").count(), 1);
}

#[actix_web::test]
async fn removing_an_apps_access_withdraws_consent_and_kills_its_tokens() {
    let server = TestServer::start().await;
    // Third-party: it needs consent.
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);
    let tokens = login_tokens(&b, &t, "openid offline_access").await;
    let account = format!("{}/account", t.issuer);
    let (_, _, page) = b.get(&account).await;
    assert!(
        page.contains("Apps with access") && page.contains("Test app"),
        "{page}"
    );
    assert!(page.contains("signed in 1×"));
    let app = page.split("<li class=\"app\">").nth(1).unwrap();
    let (s, _, _) = b
        .post_form(
            &format!("{}/account/apps/remove", t.issuer),
            &[
                ("client_id", &common::hidden(app, "client_id").unwrap()),
                ("csrf", &common::hidden(app, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, _, page) = b.get(&account).await;
    assert!(!page.contains("Apps with access"), "{page}");
    // Its refresh token is dead, and so is the access token bound to it.
    let (s, v) = common::refresh(&t, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (s, v["error"].as_str(), v["error_description"].as_str()),
        (
            400,
            Some("invalid_grant"),
            Some("refresh token was revoked")
        ),
        "{v}"
    );
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );
    // The next authorization asks for consent again.
    let (_, challenge) = common::pkce();
    let (_, loc, _) = b
        .get(&common::authorize_url(&t, "openid", &challenge, &[]))
        .await;
    assert!(loc.unwrap().contains("/consent?"));
}

/// The admin API's view of a user's events (newest first).
async fn user_events(server: &TestServer, tenant: &str, user: &str) -> Vec<Value> {
    server.events(tenant, &format!("user={user}")).await
}

#[actix_web::test]
async fn deleting_an_account_kills_its_tokens_and_shreds_its_personal_data() {
    let server = TestServer::start_configured(false, |c| {
        c.privacy.purge_after_days = 0;
    })
    .await;
    let t = server.tenant("acme", false, true).await;
    let ada = Browser::new(&server.base);
    let tokens = login_tokens(&ada, &t, "openid offline_access").await;
    let sub = common::jwt_claims(tokens["id_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another user of the tenant, who must lose nothing.
    server
        .admin(
            "/tenants/acme/users",
            serde_json::json!({"email": "bob@acme.example", "password": common::PASSWORD}),
        )
        .await;
    let bob_t = common::TestTenant {
        email: "bob@acme.example".into(),
        ..t.clone()
    };
    let bob = login_tokens(&Browser::new(&server.base), &bob_t, "openid").await;
    let bob_sub = common::jwt_claims(bob["id_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let events = user_events(&server, "acme", &sub).await;
    assert!(
        events.iter().any(|e| e["ip"] == "127.0.0.1"),
        "the sign-in's address is readable while the account lives: {events:?}"
    );

    let delete = |user: String| {
        let server = &server;
        async move {
            server
                .http
                .delete(format!(
                    "{}/admin/v1/tenants/acme/users/{user}",
                    server.base
                ))
                .bearer_auth(&server.admin_token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(delete(sub.clone()).await, 204);
    assert_eq!(delete(sub.clone()).await, 404, "deleted twice");

    // Every token and the browser session are dead at once.
    let (s, v) = common::refresh(&t, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(!signed_in(&ada, &format!("{}/account", t.issuer)).await);
    // The password no longer signs in; the export is gone.
    let b = Browser::new(&server.base);
    let url = common::authorize_url(&t, "openid", &common::pkce().1, &[]);
    let (_, loc, _) = b.get(&url).await;
    let (_, _, page) = b.get(&loc.unwrap()).await;
    let (tx, csrf) = (
        common::hidden(&page, "tx").unwrap(),
        common::hidden(&page, "csrf").unwrap(),
    );
    let login = format!("{}/login", t.issuer);
    let (s, _, page) = b
        .post_form(
            &login,
            &[
                ("email", &t.email),
                ("password", common::PASSWORD),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 401, "a deleted account signed in: {page}");
    assert!(page.contains("Incorrect email or password."), "{page}");
    let r = server
        .http
        .get(format!(
            "{}/admin/v1/tenants/acme/users/{sub}/export",
            server.base
        ))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "not_found", "{v}");

    // The tombstone says who deleted whom; the user's other events keep their shape but
    // their personal details cannot be read any more. Bob's still can.
    let events = user_events(&server, "acme", &sub).await;
    let tomb = &events[0];
    assert_eq!(
        (&tomb["kind"], &tomb["actor"], &tomb["subject"]),
        (
            &Value::from("user.deleted"),
            &Value::from("admin"),
            &Value::from(sub.as_str())
        )
    );
    assert!(
        events
            .iter()
            .all(|e| e.get("ip").is_none_or(Value::is_null)),
        "{events:?}"
    );
    assert!(events.iter().any(|e| e["erased"] == true), "{events:?}");
    let bobs = user_events(&server, "acme", &bob_sub).await;
    assert!(bobs.iter().any(|e| e["ip"] == "127.0.0.1"), "{bobs:?}");
    assert!(bobs.iter().all(|e| e.get("erased").is_none()), "{bobs:?}");

    // The address is free for a new account at once.
    server
        .admin(
            "/tenants/acme/users",
            serde_json::json!({"email": t.email, "password": common::PASSWORD}),
        )
        .await;

    // The purge (here with a zero-day retention window) removes the row, through the CLI.
    let base = [
        "admin",
        "--url",
        &server.base,
        "--token",
        &server.admin_token,
    ];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        common::tollgate(&args, &[])
    };
    let (ok, out, err) = run(&["user", "purge"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["purged"], 1);
    let events = user_events(&server, "acme", &sub).await;
    assert_eq!(events[0]["kind"], "user.purged");
    // Deleting through the CLI: a clear message for a user that does not exist.
    let (ok, _, err) = run(&["user", "delete", "acme", "nobody"]);
    assert!(!ok);
    assert!(err.contains("404"), "{err}");
    // Generated user ids are base64url: one that begins with '-' is still an id.
    let (ok, _, err) = run(&["user", "delete", "acme", "-Bnobody"]);
    assert!(!ok);
    assert!(err.contains("404"), "{err}");
    let (ok, out, err) = run(&["user", "delete", "acme", &bob_sub]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "done");
    let (s, v) = common::refresh(&t, "not-a-token").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(bob["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "bob's access token outlived his account");
}
