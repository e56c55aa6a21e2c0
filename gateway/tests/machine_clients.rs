//! Machine clients over HTTP: APIs registered through the admin API (and the CLI), the
//! `client_credentials` grant with `resource` (RFC 8707), its token checked against the
//! tenant's JWKS as a resource server would (RFC 9068), and every bad input answered with
//! the protocol's error code.

mod common;

use common::{TestServer, TestTenant, jwt_claims, jwt_header, token_with};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, jwk::JwkSet};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

const ORDERS: &str = "https://orders.example/api";
const BILLING: &str = "https://billing.example/";

/// A tenant with two APIs and a machine client granted `read:orders` on one of them.
async fn setup(s: &TestServer, id: &str) -> TestTenant {
    let t = s.tenant(id, false, false).await;
    for (identifier, scopes) in [
        (ORDERS, json!(["read:orders", "write:orders"])),
        (BILLING, json!(["pay"])),
    ] {
        let api = s
            .admin(
                &format!("/tenants/{id}/apis"),
                json!({"identifier": identifier, "name": "An API", "scopes": scopes}),
            )
            .await;
        assert_eq!(api["identifier"], identifier, "{api}");
    }
    let c = s
        .admin(
            &format!("/tenants/{id}/clients"),
            json!({
                "name": "Nightly job",
                "grant_types": ["client_credentials"],
                "api_grants": {ORDERS: ["read:orders"]},
            }),
        )
        .await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t
    }
}

async fn grant(m2m: &TestTenant, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    token_with(&reqwest::Client::new(), m2m, &form).await
}

/// Verifies an access token as a resource server does: signature by a key in the JWKS,
/// RS256, this issuer, this audience, not expired.
async fn verify(issuer: &str, token: &str, audience: &str) -> Value {
    let jwks: JwkSet = reqwest::get(format!("{issuer}/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jwt_header(token)["kid"].as_str().unwrap().to_owned();
    let jwk = jwks.find(&kid).expect("the token's key is published");
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[audience]);
    v.set_issuer(&[issuer]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .expect("the token verifies against JWKS")
        .claims
}

fn error(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

#[actix_web::test]
async fn a_machine_client_gets_a_jwt_for_the_api_it_names() {
    let s = TestServer::start().await;
    let m2m = setup(&s, "mach").await;
    let (status, v) = grant(&m2m, &[("resource", ORDERS)]).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "read:orders");
    assert!(v.get("refresh_token").is_none(), "{v}");
    assert!(v.get("id_token").is_none(), "{v}");
    let at = v["access_token"].as_str().unwrap();
    assert_eq!(jwt_header(at)["typ"], "at+jwt");
    let claims = verify(&m2m.issuer, at, ORDERS).await;
    assert_eq!(claims["sub"], m2m.client_id.as_str());
    assert_eq!(claims["client_id"], m2m.client_id.as_str());
    assert_eq!(claims["scope"], "read:orders");
    assert!(claims.get("auth_time").is_none(), "{claims}");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));

    // Its only API is the default; `audience` (Auth0's name) is the same thing.
    let (status, v) = grant(&m2m, &[]).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        jwt_claims(v["access_token"].as_str().unwrap())["aud"],
        ORDERS
    );
    let (status, v) = grant(&m2m, &[("audience", ORDERS), ("scope", "read:orders")]).await;
    assert_eq!(status, 200, "{v}");

    // The client can introspect and revoke its own token; it has no user, so no userinfo.
    let http = reqwest::Client::new();
    let secret = m2m.client_secret.as_deref().unwrap();
    let introspect = |token: String| {
        let http = http.clone();
        let url = format!("{}/introspect", m2m.issuer);
        let id = m2m.client_id.clone();
        async move {
            http.post(url)
                .basic_auth(id, Some(secret))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let i = introspect(at.to_owned()).await;
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["sub"], m2m.client_id.as_str());
    assert_eq!(i["aud"], ORDERS);
    let r = http
        .get(format!("{}/userinfo", m2m.issuer))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(format!("{}/revoke", m2m.issuer))
        .basic_auth(&m2m.client_id, Some(secret))
        .form(&[("token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(introspect(at.to_owned()).await["active"], false);

    let disc: Value = common::discovery(&m2m).await;
    assert!(
        disc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("client_credentials")),
        "{disc}"
    );
}

#[actix_web::test]
async fn bad_machine_requests_get_the_protocol_error_and_change_nothing() {
    let s = TestServer::start().await;
    let m2m = setup(&s, "badm").await;
    for (extra, want, status) in [
        (
            vec![("resource", "https://unknown.example/")],
            "invalid_target",
            400,
        ),
        // Registered, but not granted to this client: the same answer as unknown.
        (vec![("resource", BILLING)], "invalid_target", 400),
        (vec![("resource", "not a uri")], "invalid_target", 400),
        (
            vec![("resource", ORDERS), ("scope", "write:orders")],
            "invalid_scope",
            400,
        ),
        (
            vec![("resource", ORDERS), ("scope", "openid")],
            "invalid_scope",
            400,
        ),
        (
            vec![("resource", ORDERS), ("audience", BILLING)],
            "invalid_request",
            400,
        ),
    ] {
        let (s, v) = grant(&m2m, &extra).await;
        assert_eq!((s, error(&v)), (status, want), "{extra:?}: {v}");
        assert!(v.get("access_token").is_none());
    }
    // A wrong secret.
    let wrong = TestTenant {
        client_secret: Some("wrong".into()),
        ..m2m.clone()
    };
    let (status, v) = grant(&wrong, &[]).await;
    assert_eq!((status, error(&v)), (401, "invalid_client"), "{v}");
    // A browser client (the default grants) may not use client_credentials; the machine
    // client may not use the browser flow or refresh.
    let browser = s.tenant("badm2", false, false).await;
    let (status, v) = grant(&browser, &[("resource", ORDERS)]).await;
    assert_eq!((status, error(&v)), (400, "unauthorized_client"), "{v}");
    let (status, v) = token_with(
        &reqwest::Client::new(),
        &m2m,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!((status, error(&v)), (400, "unauthorized_client"), "{v}");
    // Nothing changed: the same client still gets its token.
    let (status, v) = grant(&m2m, &[("resource", ORDERS)]).await;
    assert_eq!(status, 200, "{v}");
}

/// POSTs to the admin API and returns the status and body (the harness's `admin` asserts
/// success; these are the failures).
async fn admin_raw(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{}/admin/v1{path}", s.base))
        .bearer_auth(&s.admin_token)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn apis_and_machine_clients_are_checked_when_registered() {
    let s = TestServer::start().await;
    setup(&s, "reg").await;
    let post = reqwest::Method::POST;
    for (body, says) in [
        (
            json!({"identifier": "https://x.example/#f", "name": "X", "scopes": []}),
            "fragment",
        ),
        (
            json!({"identifier": "relative/path", "name": "X"}),
            "absolute URI",
        ),
        (
            json!({"identifier": "https://x.example/", "name": "X", "scopes": ["a b"]}),
            "without spaces",
        ),
        (
            json!({"identifier": "https://x.example/", "name": "X", "scopes": ["openid"]}),
            "OpenID Connect scope",
        ),
        (
            json!({"identifier": "https://x.example/", "name": "X", "access_token_ttl": 5}),
            "access_token_ttl",
        ),
        (
            json!({"identifier": "https://x.example/", "name": " "}),
            "name",
        ),
    ] {
        let (status, v) = admin_raw(&s, post.clone(), "/tenants/reg/apis", body.clone()).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert!(v.to_string().contains(says), "{body}: {v}");
    }
    let (status, v) = admin_raw(
        &s,
        post.clone(),
        "/tenants/reg/apis",
        json!({"identifier": ORDERS, "name": "Again"}),
    )
    .await;
    assert_eq!(status, 409, "{v}");
    for (body, says) in [
        (
            json!({"name": "M", "grant_types": ["client_credentials"], "public": true}),
            "confidential",
        ),
        (
            json!({"name": "M", "grant_types": ["client_credentials"], "api_grants": {"https://nope.example/": []}}),
            "no API",
        ),
        (
            json!({"name": "M", "grant_types": ["client_credentials"], "api_grants": {ORDERS: ["delete:orders"]}}),
            "no scope",
        ),
        (
            json!({"name": "M", "redirect_uris": ["http://127.0.0.1:9/cb"], "api_grants": {ORDERS: []}}),
            "client_credentials",
        ),
        (json!({"name": "M", "grant_types": []}), "at least one"),
        (json!({"name": "M", "grant_types": ["password"]}), ""),
        (
            json!({"name": "M", "grant_types": ["authorization_code"]}),
            "redirect URI",
        ),
    ] {
        let (status, v) = admin_raw(&s, post.clone(), "/tenants/reg/clients", body.clone()).await;
        assert!((400..500).contains(&status), "{body}: {status} {v}");
        assert!(v.to_string().contains(says), "{body}: {v}");
    }
    let listed = s.admin_get("/tenants/reg/apis").await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let clients = s.admin_get("/tenants/reg/clients").await;
    let machine = clients
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Nightly job")
        .unwrap();
    assert_eq!(machine["grant_types"], json!(["client_credentials"]));
    assert_eq!(machine["api_grants"], json!({ORDERS: ["read:orders"]}));
}

#[actix_web::test]
async fn a_deleted_api_gets_no_more_tokens() {
    let s = TestServer::start().await;
    let m2m = setup(&s, "gone").await;
    assert_eq!(grant(&m2m, &[("resource", ORDERS)]).await.0, 200);
    let path = format!(
        "/tenants/gone/apis?{}",
        serde_urlencoded::to_string([("identifier", ORDERS)]).unwrap()
    );
    assert_eq!(
        admin_raw(&s, reqwest::Method::DELETE, &path, Value::Null)
            .await
            .0,
        204
    );
    let (status, v) = grant(&m2m, &[("resource", ORDERS)]).await;
    assert_eq!((status, error(&v)), (400, "invalid_target"), "{v}");
}

#[test]
fn the_cli_registers_apis_and_machine_clients() {
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
    let (ok, out, err) = run(&[
        "api",
        "create",
        "cli",
        "--identifier",
        ORDERS,
        "--name",
        "Orders",
        "--scope",
        "read:orders",
        "--scope",
        "write:orders",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("read:orders"), "{out}");
    let (ok, out, err) = run(&[
        "client",
        "create",
        "cli",
        "--name",
        "Job",
        "--grant-type",
        "client_credentials",
        "--api-grant",
        &format!("{ORDERS}=read:orders write:orders"),
    ]);
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    let (ok, out, _) = run(&["api", "list", "cli"]);
    assert!(ok && out.contains(ORDERS), "{out}");
    // Bad input: a clear message, nothing registered.
    let (ok, _, err) = run(&[
        "client",
        "create",
        "cli",
        "--name",
        "Job",
        "--grant-type",
        "password",
    ]);
    assert!(!ok && err.contains("unknown grant type"), "{err}");
    let (ok, _, err) = run(&["client", "create", "cli", "--name", "J", "--api-grant", "x"]);
    assert!(!ok && err.contains("IDENTIFIER=SCOPE"), "{err}");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let m2m = TestTenant {
        id: "cli".into(),
        issuer: format!("{}/cli", server.base),
        client_id: created["client_id"].as_str().unwrap().into(),
        client_secret: created["client_secret"].as_str().map(str::to_owned),
        redirect_uri: String::new(),
        email: String::new(),
    };
    let (status, v) = rt.block_on(grant(&m2m, &[("scope", "write:orders")]));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["scope"], "write:orders");
    let (ok, _, err) = run(&["api", "delete", "cli", "--identifier", ORDERS]);
    assert!(ok, "{err}");
    let (status, v) = rt.block_on(grant(&m2m, &[]));
    assert_eq!((status, error(&v)), (400, "invalid_target"), "{v}");
    let _ = server.child.kill();
    let _ = server.child.wait();
}

/// Signs in through the hosted pages step by step, checking the consent page names the
/// API's scope at the API; returns the final redirect.
async fn consent_through(b: &common::Browser, url: &str, email: &str) -> String {
    let (status, loc, _) = b.get(url).await;
    assert_eq!(status, 303);
    let login = loc.unwrap();
    let (_, _, page) = b.get(&login).await;
    let (s, loc, body) = b
        .post_form(
            &format!("{}/login", login.split("/login?").next().unwrap()),
            &[
                ("email", email),
                ("password", common::PASSWORD),
                ("tx", &common::hidden(&page, "tx").unwrap()),
                ("csrf", &common::hidden(&page, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let consent = loc.unwrap();
    assert!(consent.contains("/consent?"), "{consent}");
    let (_, _, page) = b.get(&consent).await;
    assert!(
        page.contains("<code>read:orders</code> at Orders"),
        "the consent page names the API's scope at the API: {page}"
    );
    let (s, loc, _) = b
        .post_form(
            &format!("{}/consent", consent.split("/consent?").next().unwrap()),
            &[
                ("decision", "allow"),
                ("tx", &common::hidden(&page, "tx").unwrap()),
                ("csrf", &common::hidden(&page, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(s, 303);
    loc.unwrap()
}

#[actix_web::test]
async fn a_user_token_for_an_api_names_it_as_audience() {
    let s = TestServer::start().await;
    let t = s.tenant("uapi", false, false).await;
    s.admin(
        "/tenants/uapi/apis",
        json!({"identifier": ORDERS, "name": "Orders", "scopes": ["read:orders"], "access_token_ttl": 120}),
    )
    .await;
    let b = s.browser();
    let scope = "openid read:orders offline_access";

    // Bad requests first: an unknown API; an API's scope without naming the API.
    let (_, challenge) = common::pkce();
    for (extra, want) in [
        (
            vec![("resource", "https://unknown.example/")],
            "invalid_target",
        ),
        (vec![], "invalid_scope"),
    ] {
        let url = common::authorize_url(&t, scope, &challenge, &extra);
        let (status, loc, _) = b.get(&url).await;
        assert_eq!(status, 303);
        let loc = loc.unwrap();
        assert_eq!(
            common::query_param(&loc, "error").as_deref(),
            Some(want),
            "{extra:?}: {loc}"
        );
    }

    let (verifier, challenge) = common::pkce();
    let url = common::authorize_url(&t, scope, &challenge, &[("resource", ORDERS)]);
    let back = consent_through(&b, &url, &t.email).await;
    let code = common::query_param(&back, "code").expect("a code");
    let http = reqwest::Client::new();
    let redeem = |resource: &'static str| {
        let (http, t, code, verifier) = (http.clone(), t.clone(), code.clone(), verifier.clone());
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", t.redirect_uri.as_str()),
                ("code_verifier", verifier.as_str()),
            ];
            if !resource.is_empty() {
                form.push(("resource", resource));
            }
            token_with(&http, &t, &form).await
        }
    };
    // Another resource at the token endpoint is refused, and the code stays redeemable.
    let (status, v) = redeem(BILLING).await;
    assert_eq!((status, error(&v)), (400, "invalid_target"), "{v}");
    let (status, v) = redeem(ORDERS).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["expires_in"], 120, "the API's own token lifetime");
    let at = v["access_token"].as_str().unwrap();
    let claims = verify(&t.issuer, at, ORDERS).await;
    assert_eq!(claims["scope"], scope);
    assert!(claims["auth_time"].is_u64(), "{claims}");
    // The ID token is still the client's.
    assert_eq!(
        jwt_claims(v["id_token"].as_str().unwrap())["aud"],
        t.client_id.as_str()
    );
    // The user's token still works at userinfo (openid was granted).
    let r = http
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A refresh keeps the API; asking for another API or more scope is refused without
    // rotating, so the same refresh token still works afterwards.
    let rt = v["refresh_token"].as_str().unwrap().to_owned();
    for (extra, want) in [
        (("resource", BILLING), "invalid_target"),
        (("scope", "openid write:orders"), "invalid_scope"),
    ] {
        let (status, v) = token_with(
            &http,
            &t,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                extra,
            ],
        )
        .await;
        assert_eq!((status, error(&v)), (400, want), "{extra:?}: {v}");
    }
    let (status, v) = token_with(
        &http,
        &t,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("resource", ORDERS),
            ("scope", "read:orders"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let claims = verify(&t.issuer, v["access_token"].as_str().unwrap(), ORDERS).await;
    assert_eq!(claims["scope"], "read:orders");
}

/// Discovery names every part of issue 15, each pointing at an endpoint that answers.
#[actix_web::test]
async fn discovery_advertises_machine_clients_and_modern_oauth() {
    let s = TestServer::start().await;
    let t = s.tenant("disc", false, false).await;
    let d: Value = common::discovery(&t).await;
    let has = |key: &str, value: &str| {
        assert!(
            d[key].as_array().is_some_and(|a| a.contains(&json!(value))),
            "{key} lacks {value}: {d}"
        )
    };
    for g in [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    ] {
        has("grant_types_supported", g);
    }
    has("token_endpoint_auth_methods_supported", "private_key_jwt");
    has("token_endpoint_auth_signing_alg_values_supported", "ES256");
    assert!(
        !d["token_endpoint_auth_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a
                .as_str()
                .is_some_and(|a| a.starts_with("HS") || a == "none")),
        "symmetric or no signatures offered: {d}"
    );
    for alg in ["ES256", "EdDSA", "Ed25519", "RS256"] {
        has("dpop_signing_alg_values_supported", alg);
    }
    has("subject_types_supported", "pairwise");
    for key in [
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
        "frontchannel_logout_supported",
        "request_parameter_supported",
    ] {
        assert_eq!(d[key], true, "{key}: {d}");
    }
    assert_eq!(d["require_pushed_authorization_requests"], false);
    // Each endpoint it names is there: a bare POST gets a protocol error, not a 404.
    let http = reqwest::Client::new();
    for key in [
        "device_authorization_endpoint",
        "pushed_authorization_request_endpoint",
        "registration_endpoint",
    ] {
        let url = d[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} missing: {d}"));
        assert!(url.starts_with(&t.issuer), "{key}: {url}");
        let r = http.post(url).form(&[("x", "y")]).send().await.unwrap();
        assert!(
            [400, 401].contains(&r.status().as_u16()),
            "{key} {url}: {}",
            r.status()
        );
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(body["error"].is_string(), "{key}: {body}");
    }
}
