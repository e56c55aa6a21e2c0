//! The outside review's findings (issue 13), each through HTTP: a code dies with the
//! session that issued it; a code presented twice revokes what it issued; one client
//! cannot burn another's code; introspection answers only the token's own client; the
//! metrics labels are bounded; the token endpoint answers RFC 6749 errors only.

mod common;

use common::*;
use serde_json::{Value, json};

/// The account page's CSRF token.
async fn account_csrf(b: &Browser, t: &TestTenant) -> String {
    let (s, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 200, "{page}");
    hidden(&page, "csrf").unwrap()
}

fn assert_invalid_grant(s: u16, v: &Value, says: &str) {
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let d = v["error_description"].as_str().unwrap_or_default();
    assert!(d.contains(says), "{d:?} does not say {says:?}");
}

#[actix_web::test]
async fn a_code_dies_with_the_session_that_issued_it() {
    let srv = TestServer::start().await;
    let t = srv.tenant("ends", false, true).await;
    let http = reqwest::Client::new();

    // A password change ends every session, this browser's too (it gets a new one), so a
    // code fetched before the change no longer redeems.
    let a = srv.browser();
    let (code, verifier) = code_for(&a, &t, "openid offline_access").await;
    let csrf = account_csrf(&a, &t).await;
    let new_password = "a brand new passphrase";
    let (s, _, body) = a
        .post_form(
            &format!("{}/account/password", t.issuer),
            &[
                ("current_password", PASSWORD),
                ("new_password", new_password),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, v) = redeem(&http, &t, &code, &verifier).await;
    assert_invalid_grant(s, &v, "session");
    // The browser that changed it is still signed in, with a new session that works.
    let (code, verifier) = code_for(&a, &t, "openid").await;
    let (s, v) = redeem(&http, &t, &code, &verifier).await;
    assert_eq!(s, 200, "{v}");

    // "Sign out the other sessions" kills the codes those sessions fetched.
    let b = srv.browser();
    let (code, verifier) = {
        let (verifier, challenge) = pkce();
        let back = b
            .authorize(
                &authorize_url(&t, "openid", &challenge, &[]),
                &t.email,
                new_password,
            )
            .await;
        (query_param(&back, "code").unwrap(), verifier)
    };
    let csrf = account_csrf(&a, &t).await;
    let (s, _, _) = a
        .post_form(
            &format!("{}/account/sessions/end", t.issuer),
            &[("others", "yes"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let (s, v) = redeem(&http, &t, &code, &verifier).await;
    assert_invalid_grant(s, &v, "session");

    // Deleting the account kills its codes.
    let (code, verifier) = {
        let (verifier, challenge) = pkce();
        let back = a
            .authorize(
                &authorize_url(&t, "openid", &challenge, &[]),
                &t.email,
                new_password,
            )
            .await;
        (query_param(&back, "code").unwrap(), verifier)
    };
    let (_, _, page) = a.get(&format!("{}/account/delete", t.issuer)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, body) = a
        .post_form(
            &format!("{}/account/delete", t.issuer),
            &[("confirmation", new_password), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, v) = redeem(&http, &t, &code, &verifier).await;
    assert_invalid_grant(s, &v, "session");
}

#[actix_web::test]
async fn a_code_presented_twice_revokes_what_it_issued() {
    let srv = TestServer::start().await;
    let t = srv.tenant("twice", false, true).await;
    let http = reqwest::Client::new();
    let b = srv.browser();
    let (code, verifier) = code_for(&b, &t, "openid offline_access").await;
    let (s, tokens) = redeem(&http, &t, &code, &verifier).await;
    assert_eq!(s, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let userinfo = |token: String| {
        let (http, url) = (http.clone(), format!("{}/userinfo", t.issuer));
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(userinfo(access.to_owned()).await, 200);

    let (s, v) = redeem(&http, &t, &code, &verifier).await;
    assert_invalid_grant(s, &v, "already used");
    // What the first redemption issued is revoked: the refresh chain and the access token.
    let (s, v) = refresh(&t, refresh_token).await;
    assert_invalid_grant(s, &v, "revoked");
    assert_eq!(userinfo(access.to_owned()).await, 401);
    let (s, v) = introspect(&t, access).await;
    assert_eq!((s, &v["active"]), (200, &json!(false)), "{v}");

    // A code redeemed once, without offline access, still takes its access token with it.
    let (code, verifier) = code_for(&b, &t, "openid").await;
    let (s, tokens) = redeem(&http, &t, &code, &verifier).await;
    assert_eq!(s, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(access.clone()).await, 200);
    let (s, v) = redeem(&http, &t, &code, &verifier).await;
    assert_invalid_grant(s, &v, "already used");
    assert_eq!(userinfo(access).await, 401);
}

#[actix_web::test]
async fn another_clients_code_is_refused_and_left_for_its_own_client() {
    let srv = TestServer::start().await;
    let t = srv.tenant("burn", false, true).await;
    let other = second_client(&srv, &t).await;
    let http = reqwest::Client::new();
    let b = srv.browser();
    let (code, verifier) = code_for(&b, &t, "openid").await;
    let (s, v) = redeem(&http, &other, &code, &verifier).await;
    assert_invalid_grant(s, &v, "another client");
    let (s, v) = redeem(&http, &t, &code, &verifier).await;
    assert_eq!(s, 200, "the other client's attempt burned the code: {v}");
}

/// A second confidential client of the same tenant, with the same redirect URI.
async fn second_client(srv: &TestServer, t: &TestTenant) -> TestTenant {
    let c = srv
        .admin(
            &format!("/tenants/{}/clients", t.id),
            json!({
                "name": "Another app",
                "redirect_uris": [t.redirect_uri],
                "first_party": true,
            }),
        )
        .await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t.clone()
    }
}

/// RFC 7662 introspection by `t`'s client.
async fn introspect(t: &TestTenant, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/introspect", t.issuer))
        .basic_auth(&t.client_id, t.client_secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn introspection_answers_only_the_tokens_own_client() {
    let srv = TestServer::start().await;
    let t = srv.tenant("peek", false, true).await;
    let other = second_client(&srv, &t).await;
    let b = srv.browser();
    let tokens = login_tokens(&b, &t, "openid offline_access").await;
    for kind in ["access_token", "refresh_token"] {
        let token = tokens[kind].as_str().unwrap();
        let (s, v) = introspect(&other, token).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v,
            json!({"active": false}),
            "{kind} described to another client"
        );
        let (s, v) = introspect(&t, token).await;
        assert_eq!((s, &v["active"]), (200, &json!(true)), "{kind}: {v}");
        assert_eq!(v["client_id"], json!(t.client_id), "{kind}: {v}");
    }
}

async fn userinfo(t: &TestTenant, access_token: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|h| h.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), challenge)
}

#[actix_web::test]
async fn a_revoked_signing_key_is_withdrawn_at_once() {
    let srv = TestServer::start().await;
    let t = srv.tenant("leak", false, true).await;
    let b = srv.browser();
    let tokens = login_tokens(&b, &t, "openid offline_access").await;
    let at = tokens["access_token"].as_str().unwrap();
    let leaked = jwt_header(at)["kid"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&t, at).await.0, 200);

    let revoked = srv
        .admin(&format!("/tenants/leak/keys/{leaked}/revoke"), json!({}))
        .await;
    assert_eq!(revoked["revoked_kid"], json!(leaked));
    let (s, challenge) = userinfo(&t, at).await;
    assert_eq!(s, 401);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert_eq!(introspect(&t, at).await.1, json!({"active": false}));
    let jwks = reqwest::get(format!("{}/jwks.json", t.issuer))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!jwks.contains(&leaked), "{jwks}");
    let keys = srv.admin_get("/tenants/leak/keys").await;
    let row = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == json!(leaked));
    assert_eq!(row.map(|k| &k["status"]), Some(&json!("Revoked")), "{keys}");

    // The refresh chain is opaque and lives on: its next access token is signed by the key
    // that took over, and verifies.
    let (s, v) = refresh(&t, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{v}");
    let fresh = v["access_token"].as_str().unwrap();
    assert_eq!(jwt_header(fresh)["kid"], revoked["active_kid"]);
    assert_eq!(userinfo(&t, fresh).await.0, 200);

    // Unknown keys and tenants: the admin API's not-found answer, nothing changed.
    for path in [
        "/tenants/leak/keys/nope/revoke",
        "/tenants/nope/keys/x/revoke",
    ] {
        let r = srv
            .http
            .post(format!("{}/admin/v1{path}", srv.base))
            .bearer_auth(&srv.admin_token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (status, v["error"].as_str()),
            (404, Some("not_found")),
            "{path}: {v}"
        );
    }
    assert_eq!(srv.admin_get("/tenants/leak/keys").await, keys);
}

#[actix_web::test]
async fn invented_methods_do_not_add_metric_series() {
    let srv = TestServer::start().await;
    for i in 0..40 {
        let method = reqwest::Method::from_bytes(format!("BREW{i}").as_bytes()).unwrap();
        let r = srv
            .http
            .request(method, format!("{}/healthz", srv.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "BREW{i}");
    }
    let body = srv
        .http
        .get(format!("{}/metrics", srv.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !body.contains("method=\"BREW"),
        "invented methods became labels"
    );
    let other: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("tollgate_http_requests_total") && l.contains("method=\"other\""))
        .collect();
    assert!(!other.is_empty() && other.len() <= 2, "{other:?}");
}

#[actix_web::test]
async fn metrics_can_require_a_token_or_live_on_their_own_address() {
    let srv = TestServer::start_configured(false, |c| {
        c.metrics.token = Some("scrape-me".into());
    })
    .await;
    let get = |auth: Option<&'static str>| {
        let r = srv.http.get(format!("{}/metrics", srv.base));
        let r = match auth {
            Some(a) => r.bearer_auth(a),
            None => r,
        };
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(None).await, 401);
    assert_eq!(get(Some("scrape-you")).await, 401);
    assert_eq!(get(Some("scrape-me")).await, 200);

    let srv = TestServer::start_configured(false, |c| {
        c.metrics.listen = Some("127.0.0.1:0".into());
    })
    .await;
    let main = srv
        .http
        .get(format!("{}/metrics", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 404, "metrics still on the public address");
    let own = srv.running.metrics_addr.expect("a metrics address");
    let r = srv
        .http
        .get(format!("http://{own}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("tollgate_http_requests_total")
    );
}

#[actix_web::test]
async fn protocol_endpoints_answer_only_registered_error_codes() {
    let srv = TestServer::start().await;
    let t = srv.tenant("rfc", false, true).await;
    let gone = TestTenant {
        issuer: format!("{}/no-such-tenant", srv.base),
        ..t.clone()
    };
    let (s, v) = token(
        &gone,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    for endpoint in ["revoke", "introspect"] {
        let r = reqwest::Client::new()
            .post(format!("{}/{endpoint}", gone.issuer))
            .basic_auth(&t.client_id, t.client_secret.as_deref())
            .form(&[("token", "x")])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        // The client cannot exist there: the registered answer to that is invalid_client.
        assert_eq!(
            (status, v["error"].as_str()),
            (401, Some("invalid_client")),
            "{endpoint}: {v}"
        );
    }
}

#[actix_web::test]
async fn concurrent_wrong_passwords_cannot_outrun_the_throttle() {
    let srv = TestServer::start_configured(false, |c| {
        c.login_throttle.account_failures = 3;
        // Room for every attempt to wait for a hashing thread: none is refused as 503.
        c.passwords.queue = 64;
    })
    .await;
    let t = srv.tenant("burst", false, true).await;
    let b = srv.browser();
    let (_, _, page) = b.get(&format!("{}/login", t.issuer)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (http, url, email, csrf) = (
                b.http.clone(),
                format!("{}/login", t.issuer),
                t.email.clone(),
                csrf.clone(),
            );
            tokio::spawn(async move {
                http.post(url)
                    .form(&[
                        ("email", email.as_str()),
                        ("password", "not the password"),
                        ("csrf", csrf.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        checked <= 3,
        "{checked} passwords were checked: {statuses:?}"
    );
    assert_eq!(checked + throttled, 20, "{statuses:?}");
}

#[actix_web::test]
async fn a_form_token_is_bound_to_the_session_it_was_made_for() {
    let srv = TestServer::start().await;
    let t = srv.tenant("bound", false, true).await;
    let b = srv.browser();
    // A token made before signing in (or for another session, say by someone who
    // planted their own CSRF cookie): refused once the browser has a session.
    let before = fresh_csrf(&b, &format!("{}/login", t.issuer)).await;
    let (s, _, _) = b
        .post_form(
            &format!("{}/login", t.issuer),
            &[
                ("email", &t.email),
                ("password", PASSWORD),
                ("csrf", &before),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let end_others = format!("{}/account/sessions/end", t.issuer);
    let (s, _, page) = b
        .post_form(&end_others, &[("others", "yes"), ("csrf", &before)])
        .await;
    assert_eq!(s, 403, "a token from before the sign-in was accepted");
    assert!(page.contains("This form expired"), "{page}");
    let now = account_csrf(&b, &t).await;
    let (s, _, _) = b
        .post_form(&end_others, &[("others", "yes"), ("csrf", &now)])
        .await;
    assert_eq!(s, 303);
    // Another signed-in browser presenting this browser's token: refused.
    let other = srv.browser();
    let theirs = fresh_csrf(&other, &format!("{}/login", t.issuer)).await;
    let (s, _, _) = other
        .post_form(
            &format!("{}/login", t.issuer),
            &[
                ("email", &t.email),
                ("password", PASSWORD),
                ("csrf", &theirs),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (s, _, page) = other
        .post_form(&end_others, &[("others", "yes"), ("csrf", &now)])
        .await;
    assert_eq!(s, 403, "another session's token was accepted");
    assert!(page.contains("This form expired"), "{page}");
}

#[actix_web::test]
async fn every_admin_route_refuses_a_missing_or_wrong_token_and_changes_nothing() {
    let srv = TestServer::start().await;
    let t = srv.tenant("guarded", false, true).await;
    let users = srv.admin_get("/tenants/guarded/events?kind=admin.").await;
    let user = users
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["subject"].as_str())
        .expect("the created user's id in the audit trail")
        .to_owned();
    let jwks = |http: reqwest::Client| {
        let url = format!("{}/jwks.json", t.issuer);
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let keys_before = jwks(srv.http.clone()).await;
    let signing_kid = serde_json::from_str::<Value>(&keys_before).unwrap()["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let tenant = json!({"id": "intruder"});
    let client = json!({"name": "x", "redirect_uris": ["https://x.example/cb"]});
    let new_user = json!({"email": "x@guarded.example", "password": "long enough password"});
    let connector = json!({"preset": "github", "client_id": "x"});
    let routes: Vec<(reqwest::Method, String, Option<Value>)> = {
        use reqwest::Method as M;
        let u = format!("/tenants/guarded/users/{user}");
        vec![
            (M::POST, "/tenants".into(), Some(tenant)),
            (M::GET, "/tenants".into(), None),
            (M::POST, "/tenants/guarded/clients".into(), Some(client)),
            (M::GET, "/tenants/guarded/clients".into(), None),
            (M::POST, "/tenants/guarded/users".into(), Some(new_user)),
            (
                M::POST,
                "/tenants/guarded/users/import".into(),
                Some(json!({"users": []})),
            ),
            (M::POST, "/tenants/guarded/keys/rotate".into(), None),
            (M::GET, "/tenants/guarded/keys".into(), None),
            (
                M::POST,
                format!("/tenants/guarded/keys/{signing_kid}/revoke"),
                None,
            ),
            (M::GET, "/tenants/guarded/events".into(), None),
            (M::GET, "/tenants/guarded/events/export".into(), None),
            (
                M::POST,
                "/tenants/guarded/move".into(),
                Some(json!({"region": "default"})),
            ),
            (
                M::PUT,
                "/tenants/guarded/mfa".into(),
                Some(json!({"mode": "required"})),
            ),
            (
                M::PUT,
                "/tenants/guarded/purposes".into(),
                Some(json!({"purposes": []})),
            ),
            (M::GET, "/tenants/guarded/purposes".into(), None),
            (
                M::PUT,
                "/tenants/guarded/profile-fields".into(),
                Some(json!({"profile_fields": []})),
            ),
            (M::GET, "/tenants/guarded/profile-fields".into(), None),
            (M::GET, format!("{u}/export"), None),
            (M::DELETE, u.clone(), None),
            (M::POST, format!("{u}/sign-out"), None),
            (M::POST, "/purge".into(), None),
            (M::GET, "/tenants/guarded/connectors".into(), None),
            (M::GET, "/tenants/guarded/connectors/gh".into(), None),
            (
                M::PUT,
                "/tenants/guarded/connectors/gh".into(),
                Some(connector),
            ),
            (M::DELETE, "/tenants/guarded/connectors/gh".into(), None),
        ]
    };
    assert_eq!(routes.len(), 25);
    let wrong = "x".repeat(srv.admin_token.len());
    for (method, path, body) in &routes {
        for token in [None, Some(""), Some("not-the-token"), Some(wrong.as_str())] {
            let mut r = srv
                .http
                .request(method.clone(), format!("{}/admin/v1{path}", srv.base));
            if let Some(tok) = token {
                r = r.header("authorization", format!("Bearer {tok}"));
            }
            if let Some(b) = body {
                r = r.json(b);
            }
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!(
                (status, v["error"].as_str()),
                (401, Some("invalid_token")),
                "{method} {path} with {token:?}: {v}"
            );
        }
    }
    // Nothing changed: no tenant, client, user or connector was added, the user was not
    // deleted, and the keys did not rotate.
    let tenants = srv.admin_get("/tenants").await;
    assert_eq!(tenants.as_array().unwrap().len(), 1, "{tenants}");
    let clients = srv.admin_get("/tenants/guarded/clients").await;
    assert_eq!(clients.as_array().unwrap().len(), 1, "{clients}");
    // The user is still there (admin_get fails the test otherwise).
    srv.admin_get(&format!("/tenants/guarded/users/{user}/export"))
        .await;
    assert_eq!(
        jwks(srv.http.clone()).await,
        keys_before,
        "the keys rotated"
    );
    let b = srv.browser();
    let tokens = login_tokens(&b, &t, "openid").await;
    assert!(
        tokens["access_token"].is_string(),
        "sign-in still works: {tokens}"
    );
}

/// The `Set-Cookie` headers of a response.
fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn every_cookie_is_httponly_lax_secure_and_scoped_to_its_tenant() {
    let srv = TestServer::start_tls().await;
    let t = srv.tenant("jar", false, true).await;
    let seen = cookies_of_a_sign_in(&srv, &t).await;
    let names: Vec<&str> = seen.iter().map(|c| c.split('=').next().unwrap()).collect();
    assert!(
        names.contains(&"tg_csrf") && names.contains(&"tg_session"),
        "{seen:?}"
    );
    assert_flags(&seen, "path=/jar");
}

/// Signs in with a client that keeps no cookies; returns every `Set-Cookie` on the way.
async fn cookies_of_a_sign_in(srv: &TestServer, t: &TestTenant) -> Vec<String> {
    // No cookie store: every Set-Cookie is read here, and sent back by hand.
    let http = client_builder(srv.tls_ca.as_deref())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!("{}/login", t.issuer))
        .send()
        .await
        .unwrap();
    let mut seen = set_cookies(&r);
    let page = r.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let jar: Vec<String> = seen
        .iter()
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect();
    let r = http
        .post(format!("{}/login", t.issuer))
        .header("cookie", jar.join("; "))
        .form(&[
            ("email", t.email.as_str()),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    seen.extend(set_cookies(&r));
    seen
}

fn assert_flags(seen: &[String], path: &str) {
    for c in seen {
        let attrs: Vec<String> = c
            .split(';')
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        for want in ["httponly", "secure", "samesite=lax", path] {
            assert!(attrs.iter().any(|a| a == want), "{c}: no {want}");
        }
        assert!(
            !attrs.iter().any(|a| a.starts_with("domain=")),
            "{c}: a Domain widens it"
        );
    }
}

/// Issue 13, finding 12: with `host_cookies`, every cookie is a `__Host-` cookie (Path=/,
/// Secure, no Domain: a sibling subdomain can neither plant nor overwrite it), named per
/// tenant; the server reads only those names.
#[actix_web::test]
async fn host_cookies_are_host_prefixed_and_named_per_tenant() {
    let srv = TestServer::start_configured(true, |c| c.host_cookies = true).await;
    let t = srv.tenant("jar", false, true).await;
    let other = srv.tenant("pot", false, true).await;
    let seen = cookies_of_a_sign_in(&srv, &t).await;
    let mut names: Vec<&str> = seen.iter().map(|c| c.split('=').next().unwrap()).collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names,
        ["__Host-tg_csrf-jar", "__Host-tg_session-jar"],
        "{seen:?}"
    );
    assert_flags(&seen, "path=/");
    let session = seen
        .iter()
        .find(|c| c.starts_with("__Host-tg_session-jar="))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let value = session.split_once('=').unwrap().1.to_owned();
    let http = client_builder(srv.tls_ca.as_deref())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let account = |issuer: &str, cookie: String| {
        let (http, url) = (http.clone(), format!("{issuer}/account"));
        async move {
            let r = http.get(url).header("cookie", cookie).send().await.unwrap();
            r.status().as_u16()
        }
    };
    assert_eq!(account(&t.issuer, session.clone()).await, 200);
    // The same value under the plain name, or at another tenant: not signed in.
    assert_eq!(account(&t.issuer, format!("tg_session={value}")).await, 303);
    assert_eq!(account(&other.issuer, session).await, 303);
}

#[test]
fn host_cookies_need_an_https_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::config(dir.path());
    c.host_cookies = true;
    c.public_url = Some("http://id.example.com".into());
    let err = c.check().unwrap_err().to_string();
    assert!(
        err.contains("host_cookies needs an https public_url"),
        "{err}"
    );
    c.public_url = Some("https://id.example.com".into());
    c.check().unwrap();
}

#[actix_web::test]
async fn logout_refuses_a_post_logout_redirect_the_client_did_not_register() {
    let srv = TestServer::start().await;
    let t = srv.tenant("bye", false, true).await;
    let b = srv.browser();
    let tokens = login_tokens(&b, &t, "openid").await;
    let hint = tokens["id_token"].as_str().unwrap();
    for target in [
        "https://evil.example/",
        "http://127.0.0.1:9/bye/../evil",
        "http://127.0.0.1:9/byex",
    ] {
        let mut u = url::Url::parse(&format!("{}/logout", t.issuer)).unwrap();
        u.query_pairs_mut()
            .append_pair("id_token_hint", hint)
            .append_pair("post_logout_redirect_uri", target)
            .append_pair("state", "s");
        let (s, loc, refused) = b.get(u.as_str()).await;
        assert_eq!(s, 400, "{target}");
        assert!(
            refused.contains("post_logout_redirect_uri is not registered for this client"),
            "{target}: {refused}"
        );
        assert!(loc.is_none(), "{target} redirected to {loc:?}");
    }
    // The registered one is honoured.
    let mut u = url::Url::parse(&format!("{}/logout", t.issuer)).unwrap();
    u.query_pairs_mut()
        .append_pair("id_token_hint", hint)
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9/bye")
        .append_pair("state", "s");
    let (s, loc, _) = b.get(u.as_str()).await;
    assert_eq!(s, 303);
    assert_eq!(loc.as_deref(), Some("http://127.0.0.1:9/bye?state=s"));
}
