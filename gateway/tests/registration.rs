//! Dynamic client registration over HTTP (RFC 7591) and its management (RFC 7592):
//! initial access tokens from the admin API (and the CLI), a registered client signing a
//! user in, its registration read, replaced and deleted with the registration access
//! token; every bad input answered with the RFC's code, spending and changing nothing.

mod common;

#[allow(dead_code)]
#[path = "common/client_keys.rs"]
mod client_keys;

use client_keys::{ClientKey, assertion, jwks};
use common::{TestServer, TestTenant, query_param};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_engine::clock::ManualClock;
use tollgate_engine::model::SigningAlg;

const CB: &str = "http://127.0.0.1:9/registered";

/// A tenant with a user; returns its issuer.
async fn tenant(s: &TestServer, id: &str) -> TestTenant {
    s.tenant(id, false, false).await
}

async fn iat(s: &TestServer, tenant: &str, body: Value) -> String {
    let v = s
        .admin(&format!("/tenants/{tenant}/initial-access-tokens"), body)
        .await;
    v["token"].as_str().unwrap().to_owned()
}

async fn call(
    method: reqwest::Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, url);
    if let Some(b) = bearer {
        r = r.bearer_auth(b);
    }
    if let Some(b) = body {
        r = r
            .header(CONTENT_TYPE, "application/json")
            .body(b.to_string());
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn register(t: &TestTenant, bearer: Option<&str>, body: &Value) -> (u16, Value) {
    call(
        reqwest::Method::POST,
        &format!("{}/register", t.issuer),
        bearer,
        Some(body),
    )
    .await
}

fn error(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

fn metadata() -> Value {
    json!({
        "client_name": "Partner app",
        "redirect_uris": [CB],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_post",
        "logo_uri": "https://partner.example/logo.png",
        "backchannel_logout_uri": "https://partner.example/logout",
        "backchannel_logout_session_required": true,
    })
}

#[actix_web::test]
async fn a_registered_client_signs_users_in_and_manages_its_registration() {
    let s = TestServer::start().await;
    let t = tenant(&s, "dcr").await;
    let token = iat(&s, "dcr", json!({})).await;
    let (status, reg) = register(&t, Some(&token), &metadata()).await;
    assert_eq!(status, 201, "{reg}");
    let id = reg["client_id"].as_str().unwrap().to_owned();
    let uri = reg["registration_client_uri"].as_str().unwrap().to_owned();
    let rat = reg["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(uri, format!("{}/register/{id}", t.issuer));
    assert_eq!(reg["client_name"], "Partner app");
    assert_eq!(reg["redirect_uris"], json!([CB]));
    assert_eq!(
        reg["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(reg["client_secret_expires_at"], 0);
    assert_eq!(
        (
            &reg["backchannel_logout_uri"],
            &reg["backchannel_logout_session_required"]
        ),
        (&json!("https://partner.example/logout"), &json!(true)),
        "{reg}"
    );
    let listed = s.admin_get("/tenants/dcr/clients").await;
    let listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == id.as_str())
        .unwrap();
    assert_eq!(listed["dynamically_registered"], true, "{listed}");
    assert_eq!(listed["first_party"], false, "{listed}");
    assert_eq!(listed["token_endpoint_auth_method"], "client_secret_post");
    assert!(
        reg.get("logo_uri").is_none(),
        "unknown metadata is ignored: {reg}"
    );

    // The client signs a user in (third-party: through consent) and refreshes.
    let client = TestTenant {
        client_id: id.clone(),
        client_secret: reg["client_secret"].as_str().map(str::to_owned),
        redirect_uri: CB.into(),
        ..t.clone()
    };
    let tokens = common::login_tokens(&s.browser(), &client, "openid offline_access").await;
    let (status, refreshed) =
        common::refresh(&client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    // It registered client_secret_post: Basic is refused.
    let (status, v) = call_basic(&client).await;
    assert_eq!((status, error(&v)), (401, "invalid_client"), "{v}");

    // RFC 7592: read, replace, delete.
    let (status, v) = call(reqwest::Method::GET, &uri, Some(&rat), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["client_id"], id.as_str());
    assert!(v.get("client_secret").is_none() && v.get("registration_access_token").is_none());
    let mut changed = metadata();
    changed["client_id"] = json!(id);
    changed["client_name"] = json!("Partner app v2");
    changed["redirect_uris"] = json!([CB, "https://partner.example/cb"]);
    let (status, v) = call(reqwest::Method::PUT, &uri, Some(&rat), Some(&changed)).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["client_name"], "Partner app v2");
    let (_, v) = call(reqwest::Method::GET, &uri, Some(&rat), None).await;
    assert_eq!(
        v["redirect_uris"],
        json!([CB, "https://partner.example/cb"])
    );
    // The secret still works after the update.
    let (status, v) = common::refresh(&client, refreshed["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = call(reqwest::Method::DELETE, &uri, Some(&rat), None).await;
    assert_eq!(status, 204, "{v}");
    let (status, v) = call(reqwest::Method::GET, &uri, Some(&rat), None).await;
    assert_eq!((status, error(&v)), (401, "invalid_token"), "{v}");
    let (status, v) = common::token(
        &client,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!((status, error(&v)), (401, "invalid_client"), "deleted: {v}");

    let d: Value = common::discovery(&t).await;
    assert_eq!(d["registration_endpoint"], format!("{}/register", t.issuer));
}

/// A token request with the client's secret in HTTP Basic.
async fn call_basic(c: &TestTenant) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/token", c.issuer))
        .basic_auth(&c.client_id, c.client_secret.as_deref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn bad_registrations_get_the_rfc_codes_and_spend_nothing() {
    let clock = Arc::new(ManualClock::new(client_keys::now()));
    let s = TestServer::start_with_clock(clock.clone()).await;
    let t = tenant(&s, "dcrbad").await;
    let token = iat(&s, "dcrbad", json!({"max_uses": 1, "expires_in": 600})).await;
    let with = |k: &str, v: Value| {
        let mut m = metadata();
        m[k] = v;
        m
    };
    for (bearer, body, status, want) in [
        (None, metadata(), 401, "invalid_token"),
        (Some("made-up"), metadata(), 401, "invalid_token"),
        (
            Some(token.as_str()),
            with("redirect_uris", json!(["http://partner.example/cb"])),
            400,
            "invalid_redirect_uri",
        ),
        (
            Some(token.as_str()),
            with("redirect_uris", json!([])),
            400,
            "invalid_redirect_uri",
        ),
        (
            Some(token.as_str()),
            with("redirect_uris", json!(["com.partner.app:/cb"])),
            400,
            "invalid_redirect_uri",
        ),
        (
            Some(token.as_str()),
            with("grant_types", json!(["client_credentials"])),
            400,
            "invalid_client_metadata",
        ),
        (
            Some(token.as_str()),
            with("token_endpoint_auth_method", json!("private_key_jwt")),
            400,
            "invalid_client_metadata",
        ),
        (
            Some(token.as_str()),
            with("jwks", json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
            400,
            "invalid_client_metadata",
        ),
        (
            Some(token.as_str()),
            with("client_name", json!(7)),
            400,
            "invalid_client_metadata",
        ),
        (
            Some(token.as_str()),
            json!(["not", "an object"]),
            400,
            "invalid_client_metadata",
        ),
    ] {
        let (got, v) = register(&t, bearer, &body).await;
        assert_eq!((got, error(&v)), (status, want), "{body}: {v}");
        assert!(v.get("client_id").is_none());
    }
    let clients = s.admin_get("/tenants/dcrbad/clients").await;
    assert_eq!(
        clients.as_array().unwrap().len(),
        1,
        "only the harness's client: {clients}"
    );
    // The refusals spent nothing: the single use registers now, and only once.
    let (status, reg) = register(&t, Some(&token), &metadata()).await;
    assert_eq!(status, 201, "{reg}");
    let (status, v) = register(&t, Some(&token), &metadata()).await;
    assert_eq!((status, error(&v)), (401, "invalid_token"), "used up: {v}");
    // An expired one.
    let late = iat(&s, "dcrbad", json!({"expires_in": 60})).await;
    clock.advance(61);
    let (status, v) = register(&t, Some(&late), &metadata()).await;
    assert_eq!((status, error(&v)), (401, "invalid_token"), "expired: {v}");
    // Another tenant's token is no token here.
    let other = tenant(&s, "dcrbad2").await;
    let theirs = iat(&s, "dcrbad2", json!({})).await;
    let (status, _) = register(&t, Some(&theirs), &metadata()).await;
    assert_eq!(status, 401);
    let (status, _) = register(&other, Some(&theirs), &metadata()).await;
    assert_eq!(status, 201);

    // RFC 7592 with the wrong token, another client's token, a body naming another
    // client, or bad metadata: refused, the registration unchanged.
    let uri = reg["registration_client_uri"].as_str().unwrap();
    let rat = reg["registration_access_token"].as_str().unwrap();
    let second = iat(&s, "dcrbad", json!({})).await;
    let (_, reg2) = register(&t, Some(&second), &metadata()).await;
    let rat2 = reg2["registration_access_token"].as_str().unwrap();
    for bearer in [None, Some("made-up"), Some(rat2)] {
        for m in [reqwest::Method::GET, reqwest::Method::DELETE] {
            let (status, v) = call(m.clone(), uri, bearer, None).await;
            assert_eq!(
                (status, error(&v)),
                (401, "invalid_token"),
                "{m} {bearer:?}: {v}"
            );
        }
    }
    let mut named = metadata();
    named["client_id"] = reg2["client_id"].clone();
    let (status, v) = call(reqwest::Method::PUT, uri, Some(rat), Some(&named)).await;
    assert_eq!((status, error(&v)), (400, "invalid_request"), "{v}");
    named["client_id"] = reg["client_id"].clone();
    named["redirect_uris"] = json!(["http://partner.example/cb"]);
    let (status, v) = call(reqwest::Method::PUT, uri, Some(rat), Some(&named)).await;
    assert_eq!((status, error(&v)), (400, "invalid_redirect_uri"), "{v}");
    named["redirect_uris"] = json!([CB]);
    named["client_secret"] = json!("not the secret");
    let (status, v) = call(reqwest::Method::PUT, uri, Some(rat), Some(&named)).await;
    assert_eq!((status, error(&v)), (400, "invalid_client_metadata"), "{v}");
    let (status, v) = call(reqwest::Method::GET, uri, Some(rat), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["redirect_uris"], reg["redirect_uris"]);
    assert_eq!(v["client_name"], reg["client_name"]);

    // The admin API checks what it issues.
    for body in [
        json!({"max_uses": 0}),
        json!({"expires_in": 31 * 24 * 3600}),
    ] {
        let r = s
            .http
            .post(format!(
                "{}/admin/v1/tenants/dcrbad/initial-access-tokens",
                s.base
            ))
            .bearer_auth(&s.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
    }
    let r = s
        .http
        .post(format!(
            "{}/admin/v1/tenants/dcrbad/initial-access-tokens",
            s.base
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "without the admin token");
}

#[actix_web::test]
async fn a_registered_client_can_sign_its_requests_and_assertions() {
    let s = TestServer::start().await;
    let t = tenant(&s, "dcrkeys").await;
    let key = ClientKey::new(SigningAlg::ES256);
    let token = iat(&s, "dcrkeys", json!({})).await;
    let mut m = metadata();
    m["token_endpoint_auth_method"] = json!("private_key_jwt");
    m["jwks"] = jwks(&[&key]);
    m["require_pushed_authorization_requests"] = json!(true);
    let (status, reg) = register(&t, Some(&token), &m).await;
    assert_eq!(status, 201, "{reg}");
    assert!(reg.get("client_secret").is_none(), "{reg}");
    assert_eq!(reg["require_pushed_authorization_requests"], true);
    let id = reg["client_id"].as_str().unwrap();
    let (_, challenge) = common::pkce();
    let form = [
        ("response_type", "code"),
        ("client_id", id),
        ("redirect_uri", CB),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        (
            "client_assertion",
            &assertion(&key, id, &format!("{}/par", t.issuer), |_| {}),
        ),
    ];
    let r = reqwest::Client::new()
        .post(format!("{}/par", t.issuer))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert!(v["request_uri"].is_string(), "{v}");
    // Without PAR, refused at its redirect URI.
    let mut u = url::Url::parse(&format!("{}/authorize", t.issuer)).unwrap();
    u.query_pairs_mut().extend_pairs(&form[..6]);
    let (status, loc, _) = s.browser().get(u.as_str()).await;
    assert_eq!(status, 303);
    assert_eq!(
        query_param(&loc.unwrap(), "error").as_deref(),
        Some("invalid_request")
    );
}

#[test]
fn the_cli_issues_initial_access_tokens_and_registers_signing_clients() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = common::spawn_binary(dir.path(), &[]);
    let data = dir.path().to_str().unwrap();
    let base = ["admin", "--url", &server.base, "--data-dir", data];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        common::tollgate(&args, &[])
    };
    let (ok, _, err) = run(&["tenant", "create", "cli"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["client", "initial-access-token", "cli", "--max-uses", "1"]);
    assert!(ok, "{err}");
    let issued: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(issued["max_uses"], 1);
    let (ok, _, err) = run(&["client", "initial-access-token", "cli", "--max-uses", "0"]);
    assert!(!ok && err.contains("max_uses"), "{err}");
    let key = ClientKey::new(SigningAlg::EdDSA);
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&[&key]).to_string()).unwrap();
    let (ok, out, err) = run(&[
        "client",
        "create",
        "cli",
        "--name",
        "Signer",
        "--redirect-uri",
        CB,
        "--token-endpoint-auth-method",
        "private_key_jwt",
        "--jwks-file",
        file.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert!(created["client_secret"].is_null(), "{out}");
    let (ok, _, err) = run(&[
        "client",
        "create",
        "cli",
        "--name",
        "Signer",
        "--redirect-uri",
        CB,
        "--token-endpoint-auth-method",
        "private_key_jwt",
    ]);
    assert!(!ok && err.contains("jwks"), "{err}");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = TestTenant {
        id: "cli".into(),
        issuer: format!("{}/cli", server.base),
        client_id: String::new(),
        client_secret: None,
        redirect_uri: CB.into(),
        email: String::new(),
    };
    let (status, v) = rt.block_on(register(&t, issued["token"].as_str(), &metadata()));
    assert_eq!(status, 201, "{v}");
    let _ = server.child.kill();
    let _ = server.child.wait();
}
