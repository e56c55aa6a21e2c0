//! Pushed authorization requests (PAR, RFC 9126) and signed request objects (JAR, RFC
//! 9101) over HTTP: the request pushed or signed by the client, then the browser's
//! `/authorize` naming it, through sign-in to a code that redeems; and each bad input
//! refused with its code, spending nothing.

mod common;

#[allow(dead_code)]
#[path = "common/client_keys.rs"]
mod client_keys;

use client_keys::{ClientKey, jwks, now};
use common::{Browser, TestServer, TestTenant, pkce, query_param, redeem};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_engine::clock::ManualClock;
use tollgate_engine::model::SigningAlg;

const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// The authorization parameters of a code flow for `t`'s client, with PKCE.
fn request(t: &TestTenant, challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", t.client_id.clone()),
        ("redirect_uri", t.redirect_uri.clone()),
        ("scope", "openid".into()),
        ("state", "st-par".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// POSTs a pushed request with the client's secret in the body (and `extra`).
async fn push(t: &TestTenant, params: &[(&str, String)]) -> (u16, Value) {
    let mut form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Some(s) = &t.client_secret {
        form.push(("client_secret", s));
    }
    if !form.iter().any(|(k, _)| *k == "client_id") {
        form.push(("client_id", &t.client_id));
    }
    let r = reqwest::Client::new()
        .post(format!("{}/par", t.issuer))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form).unwrap())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn authorize_at(t: &TestTenant, params: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&format!("{}/authorize", t.issuer)).unwrap();
    u.query_pairs_mut().extend_pairs(params);
    u.to_string()
}

fn error(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

/// Signs in through `url` and redeems the code with `verifier`: the flow completes.
async fn completes(b: &Browser, t: &TestTenant, url: &str, verifier: &str) {
    let back = b.authorize(url, &t.email, common::PASSWORD).await;
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some("st-par"),
        "{back}"
    );
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (status, v) = redeem(&reqwest::Client::new(), t, &code, verifier).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["id_token"].is_string(), "{v}");
}

/// `/authorize` refuses on a page (no redirect URI can be trusted) naming `code`.
async fn refused_on_page(b: &Browser, url: &str, code: &str) {
    let (status, loc, body) = b.get(url).await;
    assert_eq!((status, loc), (400, None), "{body}");
    assert!(body.contains(code), "{code} not in {body}");
}

#[actix_web::test]
async fn a_pushed_request_is_used_once_by_its_client() {
    let clock = Arc::new(ManualClock::new(now()));
    let s = TestServer::start_with_clock(clock.clone()).await;
    let t = s.tenant("par", false, true).await;
    let b = s.browser();
    let (verifier, challenge) = pkce();
    let (status, v) = push(&t, &request(&t, &challenge)).await;
    assert_eq!(status, 201, "{v}");
    let uri = v["request_uri"].as_str().unwrap().to_owned();
    assert!(uri.starts_with(PREFIX), "{v}");
    assert_eq!(v["expires_in"], 90);
    let url = authorize_at(&t, &[("client_id", &t.client_id), ("request_uri", &uri)]);

    // Another client naming it is refused, and does not spend it.
    let other = s
        .admin(
            "/tenants/par/clients",
            json!({"name": "Other", "redirect_uris": ["http://127.0.0.1:9/other"]}),
        )
        .await;
    let stolen = authorize_at(
        &t,
        &[
            ("client_id", other["client_id"].as_str().unwrap()),
            ("request_uri", &uri),
        ],
    );
    refused_on_page(&b, &stolen, "invalid_request_uri").await;
    // A made-up one, and one without client_id.
    let made_up = format!("{PREFIX}nothing-here");
    refused_on_page(
        &b,
        &authorize_at(
            &t,
            &[("client_id", &t.client_id), ("request_uri", &made_up)],
        ),
        "invalid_request_uri",
    )
    .await;
    refused_on_page(
        &b,
        &authorize_at(&t, &[("request_uri", &uri)]),
        "invalid_request",
    )
    .await;

    completes(&b, &t, &url, &verifier).await;
    // Once only.
    refused_on_page(&s.browser(), &url, "invalid_request_uri").await;

    // One left unused past its 90 seconds is gone.
    let (_, v) = push(&t, &request(&t, &challenge)).await;
    let late = authorize_at(
        &t,
        &[
            ("client_id", &t.client_id),
            ("request_uri", v["request_uri"].as_str().unwrap()),
        ],
    );
    clock.advance(91);
    refused_on_page(&s.browser(), &late, "invalid_request_uri").await;
}

#[actix_web::test]
async fn bad_pushed_requests_get_the_protocol_error_and_no_request_uri() {
    let s = TestServer::start().await;
    let t = s.tenant("parbad", false, true).await;
    let (_, challenge) = pkce();
    let with = |k: &'static str, v: &str| {
        let mut p = request(&t, &challenge);
        p.retain(|(n, _)| *n != k);
        if !v.is_empty() {
            p.push((k, v.to_owned()));
        }
        p
    };
    for (params, status, want) in [
        (
            with("request_uri", &format!("{PREFIX}x")),
            400,
            "invalid_request",
        ),
        (
            with("redirect_uri", "https://evil.example/cb"),
            400,
            "invalid_request",
        ),
        (with("code_challenge", ""), 400, "invalid_request"),
        (with("scope", "openid admin"), 400, "invalid_scope"),
        (
            with("response_type", "token"),
            400,
            "unsupported_response_type",
        ),
        // Authenticated as the client the body names, which has no such secret.
        (with("client_id", "someone-else"), 401, "invalid_client"),
    ] {
        let (got, v) = push(&t, &params).await;
        assert_eq!((got, error(&v)), (status, want), "{params:?}: {v}");
        assert!(v.get("request_uri").is_none());
    }
    // A wrong secret, and no authentication at all.
    let wrong = TestTenant {
        client_secret: Some("wrong".into()),
        ..t.clone()
    };
    let (got, v) = push(&wrong, &request(&t, &challenge)).await;
    assert_eq!((got, error(&v)), (401, "invalid_client"), "{v}");
    let public = TestTenant {
        client_secret: None,
        ..t.clone()
    };
    let (got, v) = push(&public, &request(&t, &challenge)).await;
    assert_eq!((got, error(&v)), (401, "invalid_client"), "{v}");
    // The refusals changed nothing for the client: its next request is taken.
    let (got, v) = push(&t, &request(&t, &challenge)).await;
    assert_eq!(got, 201, "{v}");
}

#[actix_web::test]
async fn a_client_that_requires_par_cannot_skip_it() {
    let s = TestServer::start().await;
    let t = s.tenant("parreq", false, true).await;
    let c = s
        .admin(
            "/tenants/parreq/clients",
            json!({
                "name": "Strict",
                "redirect_uris": [t.redirect_uri],
                "first_party": true,
                "require_pushed_authorization_requests": true,
            }),
        )
        .await;
    let strict = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t.clone()
    };
    let b = s.browser();
    let (verifier, challenge) = pkce();
    let plain = common::authorize_url(&strict, "openid", &challenge, &[]);
    let (status, loc, _) = b.get(&plain).await;
    let loc = loc.unwrap_or_default();
    assert_eq!(status, 303);
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("invalid_request"),
        "{loc}"
    );
    assert!(query_param(&loc, "code").is_none());
    let (_, v) = push(&strict, &request(&strict, &challenge)).await;
    let url = authorize_at(
        &strict,
        &[
            ("client_id", &strict.client_id),
            ("request_uri", v["request_uri"].as_str().unwrap()),
        ],
    );
    completes(&b, &strict, &url, &verifier).await;

    let d: Value = common::discovery(&t).await;
    assert_eq!(
        d["pushed_authorization_request_endpoint"],
        format!("{}/par", t.issuer)
    );
    assert_eq!(d["require_pushed_authorization_requests"], false);
    assert_eq!(d["request_parameter_supported"], true);
    assert_eq!(
        d["request_object_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA", "Ed25519"])
    );
}

/// A confidential client that also registered its keys, for request objects.
async fn signing_client(s: &TestServer, tenant: &str, key: &ClientKey) -> TestTenant {
    let t = s.tenant(tenant, false, true).await;
    let c = s
        .admin(
            &format!("/tenants/{tenant}/clients"),
            json!({
                "name": "Signs its requests",
                "redirect_uris": [t.redirect_uri],
                "first_party": true,
                "jwks": jwks(&[key]),
            }),
        )
        .await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t
    }
}

/// A request object of the code flow, signed with `key`; `edit` changes its claims.
fn request_object(
    key: &ClientKey,
    t: &TestTenant,
    challenge: &str,
    edit: impl FnOnce(&mut Value),
) -> String {
    let mut c: Value = request(t, challenge)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    c["iss"] = json!(t.client_id);
    c["aud"] = json!(t.issuer);
    c["exp"] = json!(now() + 60);
    c["max_age"] = json!(3600);
    edit(&mut c);
    key.sign("oauth-authz-req+jwt", &c)
}

#[actix_web::test]
async fn a_signed_request_object_carries_the_request() {
    let s = TestServer::start().await;
    let key = ClientKey::new(SigningAlg::ES256);
    let t = signing_client(&s, "jar", &key).await;
    let b = s.browser();
    // At /authorize.
    let (verifier, challenge) = pkce();
    let jwt = request_object(&key, &t, &challenge, |_| {});
    let url = authorize_at(&t, &[("client_id", &t.client_id), ("request", &jwt)]);
    completes(&b, &t, &url, &verifier).await;
    // Pushed (JAR inside PAR).
    let (verifier, challenge) = pkce();
    let jwt = request_object(&key, &t, &challenge, |_| {});
    let (status, v) = push(&t, &[("request", jwt)]).await;
    assert_eq!(status, 201, "{v}");
    let url = authorize_at(
        &t,
        &[
            ("client_id", &t.client_id),
            ("request_uri", v["request_uri"].as_str().unwrap()),
        ],
    );
    completes(&b, &t, &url, &verifier).await;
}

#[actix_web::test]
async fn bad_request_objects_are_refused() {
    let s = TestServer::start().await;
    let key = ClientKey::new(SigningAlg::ES256);
    let t = signing_client(&s, "jarbad", &key).await;
    let stranger = ClientKey::new(SigningAlg::ES256);
    let (_, challenge) = pkce();
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"iss": t.client_id, "aud": t.issuer, "client_id": t.client_id}),
        &jsonwebtoken::EncodingKey::from_secret(b"not a key of the client"),
    )
    .unwrap();
    let cases = [
        (
            "another key",
            request_object(&stranger, &t, &challenge, |_| {}),
        ),
        ("HS256", hs256),
        (
            "wrong aud",
            request_object(&key, &t, &challenge, |c| {
                c["aud"] = json!("https://other.example")
            }),
        ),
        (
            "wrong iss",
            request_object(&key, &t, &challenge, |c| c["iss"] = json!("someone")),
        ),
        (
            "expired",
            request_object(&key, &t, &challenge, |c| c["exp"] = json!(now() - 600)),
        ),
        (
            "another client_id inside",
            request_object(&key, &t, &challenge, |c| c["client_id"] = json!("someone")),
        ),
        (
            "a request_uri inside",
            request_object(&key, &t, &challenge, |c| {
                c["request_uri"] = json!(format!("{PREFIX}x"))
            }),
        ),
    ];
    let b = s.browser();
    for (what, jwt) in &cases {
        // Without a redirect URI outside the object: a page.
        let url = authorize_at(&t, &[("client_id", &t.client_id), ("request", jwt)]);
        let (status, loc, body) = b.get(&url).await;
        assert_eq!((status, loc), (400, None), "{what}: {body}");
        assert!(body.contains("invalid_request_object"), "{what}: {body}");
        // With the client's registered redirect URI outside: told there.
        let url = authorize_at(
            &t,
            &[
                ("client_id", &t.client_id),
                ("redirect_uri", &t.redirect_uri),
                ("request", jwt),
            ],
        );
        let (status, loc, _) = b.get(&url).await;
        let loc = loc.unwrap_or_default();
        assert_eq!(status, 303, "{what}");
        assert_eq!(
            query_param(&loc, "error").as_deref(),
            Some("invalid_request_object"),
            "{what}: {loc}"
        );
        // At the PAR endpoint: the JSON error, nothing stored.
        let (status, v) = push(&t, &[("request", jwt.clone())]).await;
        assert_eq!(
            (status, error(&v)),
            (400, "invalid_request_object"),
            "{what}: {v}"
        );
    }
    // A client without keys cannot sign requests.
    let plain = s.tenant("jarbad2", false, true).await;
    let jwt = request_object(&key, &plain, &challenge, |_| {});
    refused_on_page(
        &b,
        &authorize_at(
            &plain,
            &[("client_id", &plain.client_id), ("request", &jwt)],
        ),
        "invalid_request_object",
    )
    .await;
}

#[actix_web::test]
async fn one_request_uri_opened_many_times_at_once_starts_one_sign_in() {
    let s = TestServer::start().await;
    let t = s.tenant("parrace", false, true).await;
    let (_, challenge) = pkce();
    let (_, v) = push(&t, &request(&t, &challenge)).await;
    let url = authorize_at(
        &t,
        &[
            ("client_id", &t.client_id),
            ("request_uri", v["request_uri"].as_str().unwrap()),
        ],
    );
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (b, url) = (s.browser(), url.clone());
        set.spawn(async move { b.get(&url).await });
    }
    let mut answers = Vec::new();
    while let Some(r) = set.join_next().await {
        answers.push(r.unwrap());
    }
    let started = answers
        .iter()
        .filter(|(s, loc, _)| *s == 303 && loc.as_deref().is_some_and(|l| l.contains("/login?")))
        .count();
    assert_eq!(started, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, _, body)| *s == 303 || (*s == 400 && body.contains("invalid_request_uri"))),
        "{answers:?}"
    );
}
