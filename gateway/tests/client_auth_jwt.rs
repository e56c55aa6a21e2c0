//! `private_key_jwt` over HTTP (RFC 7523 §2.2, OIDC Core §9): clients that authenticate
//! with a JWT signed by their own key, given by value or published at a `jwks_uri` this
//! server fetches; every bad assertion answered `invalid_client`, changing nothing.

mod common;

#[allow(dead_code)]
#[path = "common/client_keys.rs"]
mod client_keys;

use client_keys::{ClientKey, assertion, jwks, now};
use common::TestServer;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tollgate_engine::model::SigningAlg;

const API: &str = "https://reports.example/api";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A tenant with an API and a machine client that signs its assertions; returns the
/// issuer and the client id.
async fn machine(s: &TestServer, tenant: &str, keys: Value) -> (String, String) {
    s.admin("/tenants", json!({"id": tenant})).await;
    s.admin(
        &format!("/tenants/{tenant}/apis"),
        json!({"identifier": API, "name": "Reports", "scopes": ["read"]}),
    )
    .await;
    let mut body = json!({
        "name": "Signer",
        "grant_types": ["client_credentials"],
        "api_grants": {API: ["read"]},
        "token_endpoint_auth_method": "private_key_jwt",
    });
    for (k, v) in keys.as_object().unwrap() {
        body[k] = v.clone();
    }
    let c = s.admin(&format!("/tenants/{tenant}/clients"), body).await;
    assert!(
        c["client_secret"].is_null(),
        "a signing client has no secret: {c}"
    );
    (
        format!("{}/{tenant}", s.base),
        c["client_id"].as_str().unwrap().to_owned(),
    )
}

/// POSTs a form to an endpoint of the issuer; returns status and JSON body.
async fn post(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A `client_credentials` request authenticated by `jwt` (and `client_id` if given).
async fn grant(iss: &str, client_id: Option<&str>, jwt: &str) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("resource", API),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", jwt),
    ];
    if let Some(c) = client_id {
        form.push(("client_id", c));
    }
    post(&format!("{iss}/token"), &form).await
}

fn error(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

#[actix_web::test]
async fn a_client_authenticates_with_a_jwt_signed_by_its_key() {
    let s = TestServer::start().await;
    let (es, rs, ed) = (
        ClientKey::new(SigningAlg::ES256),
        ClientKey::new(SigningAlg::RS256),
        ClientKey::new(SigningAlg::EdDSA),
    );
    let (iss, id) = machine(&s, "pkj", json!({"jwks": jwks(&[&es, &rs, &ed])})).await;
    // Each key, `aud` the issuer or the token endpoint, with and without client_id.
    for (key, aud, named) in [
        (&es, iss.clone(), true),
        (&rs, format!("{iss}/token"), false),
        (&ed, iss.clone(), false),
    ] {
        let jwt = assertion(key, &id, &aud, |_| {});
        let (status, v) = grant(&iss, named.then_some(id.as_str()), &jwt).await;
        assert_eq!(status, 200, "{aud}: {v}");
        let claims = common::jwt_claims(v["access_token"].as_str().unwrap());
        assert_eq!(
            (claims["sub"].as_str(), claims["aud"].as_str()),
            (Some(id.as_str()), Some(API))
        );
    }
    // Introspection and revocation take assertions addressed to them.
    let (_, v) = grant(&iss, Some(&id), &assertion(&es, &id, &iss, |_| {})).await;
    let at = v["access_token"].as_str().unwrap();
    let (status, v) = post(
        &format!("{iss}/introspect"),
        &[
            ("token", at),
            ("client_assertion_type", JWT_BEARER),
            (
                "client_assertion",
                &assertion(&es, &id, &format!("{iss}/introspect"), |_| {}),
            ),
        ],
    )
    .await;
    assert_eq!((status, &v["active"]), (200, &json!(true)), "{v}");
    let (status, v) = post(
        &format!("{iss}/revoke"),
        &[
            ("token", at),
            ("client_assertion_type", JWT_BEARER),
            (
                "client_assertion",
                &assertion(&es, &id, &format!("{iss}/revoke"), |_| {}),
            ),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    // The admin API shows how it authenticates: with its keys, as a confidential client.
    let listed = s.admin_get("/tenants/pkj/clients").await;
    let listed = &listed.as_array().unwrap()[0];
    assert_eq!(
        (&listed["token_endpoint_auth_method"], &listed["public"]),
        (&json!("private_key_jwt"), &json!(false)),
        "{listed}"
    );
    assert_eq!(listed["jwks"]["keys"].as_array().map(Vec::len), Some(3));
    // Discovery says so.
    let d: Value = reqwest::get(format!("{iss}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for k in [
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ] {
        assert!(
            d[k].as_array().unwrap().contains(&json!("private_key_jwt")),
            "{k}: {d}"
        );
    }
    assert_eq!(
        d["token_endpoint_auth_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA", "Ed25519"])
    );
}

#[actix_web::test]
async fn bad_assertions_are_invalid_client_and_change_nothing() {
    let s = TestServer::start().await;
    let key = ClientKey::new(SigningAlg::ES256);
    let (iss, id) = machine(&s, "pkjbad", json!({"jwks": jwks(&[&key])})).await;
    let stranger = ClientKey::new(SigningAlg::ES256);
    let used = assertion(&key, &id, &iss, |_| {});
    assert_eq!(grant(&iss, Some(&id), &used).await.0, 200);
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"iss": id, "sub": id, "aud": iss, "exp": now() + 60, "jti": "hs"}),
        &jsonwebtoken::EncodingKey::from_secret(b"the client's secret, were it one"),
    )
    .unwrap();
    let b64 = |v: Value| tollgate_engine::crypto::b64(v.to_string().as_bytes());
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"alg": "none"})),
        b64(json!({"iss": id, "sub": id, "aud": iss, "exp": now() + 60, "jti": "none"}))
    );
    // The jti of a refused assertion is not spent: the good one sent after uses it.
    let reused_jti = "jti-of-a-refused-assertion";
    let cases: Vec<(&str, String)> = vec![
        ("replayed", used.clone()),
        (
            "another tenant's issuer",
            assertion(&key, &id, &format!("{}/other", s.base), |_| {}),
        ),
        (
            "another endpoint",
            assertion(&key, &id, &format!("{iss}/revoke"), |_| {}),
        ),
        (
            "expired",
            assertion(&key, &id, &iss, |c| c["exp"] = json!(now() - 120)),
        ),
        (
            "valid too long",
            assertion(&key, &id, &iss, |c| c["exp"] = json!(now() + 3600)),
        ),
        (
            "no exp",
            assertion(&key, &id, &iss, |c| c["exp"] = Value::Null),
        ),
        (
            "no jti",
            assertion(&key, &id, &iss, |c| c["jti"] = Value::Null),
        ),
        (
            "not yet valid",
            assertion(&key, &id, &iss, |c| c["nbf"] = json!(now() + 600)),
        ),
        (
            "wrong iss",
            assertion(&key, &id, &iss, |c| c["iss"] = json!("someone")),
        ),
        (
            "wrong sub",
            assertion(&key, &id, &iss, |c| c["sub"] = json!("someone")),
        ),
        (
            "a key not the client's",
            assertion(&stranger, &id, &iss, |c| c["jti"] = json!(reused_jti)),
        ),
        ("HS256", hs256),
        ("alg none", unsigned),
        ("not a JWT", "abc".into()),
    ];
    for (what, jwt) in &cases {
        let (status, v) = grant(&iss, Some(&id), jwt).await;
        assert_eq!((status, error(&v)), (401, "invalid_client"), "{what}: {v}");
        assert!(v.get("access_token").is_none(), "{what}");
    }
    // Wrong assertion type, two methods at once, a secret for a client that signs.
    let good = assertion(&key, &id, &iss, |_| {});
    let token = format!("{iss}/token");
    for (extra, want) in [
        (
            vec![
                ("client_assertion_type", "urn:other"),
                ("client_assertion", good.as_str()),
            ],
            "invalid_client",
        ),
        (
            vec![
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", good.as_str()),
                ("client_secret", "x"),
            ],
            "invalid_request",
        ),
        (
            vec![("client_id", id.as_str()), ("client_secret", "x")],
            "invalid_client",
        ),
        (vec![("client_id", id.as_str())], "invalid_client"),
    ] {
        let mut form = vec![("grant_type", "client_credentials"), ("resource", API)];
        form.extend(extra);
        let (_, v) = post(&token, &form).await;
        assert_eq!(error(&v), want, "{form:?}: {v}");
    }
    // A client with a secret cannot sign instead (it registered no keys).
    let secret_client = s
        .admin(
            "/tenants/pkjbad/clients",
            json!({"name": "S", "grant_types": ["client_credentials"], "api_grants": {API: ["read"]}}),
        )
        .await;
    let sid = secret_client["client_id"].as_str().unwrap();
    let (status, v) = grant(&iss, Some(sid), &assertion(&key, sid, &iss, |_| {})).await;
    assert_eq!((status, error(&v)), (401, "invalid_client"), "{v}");
    // Nothing changed: the unused good assertion works, and so does the jti the
    // stranger's assertion carried.
    assert_eq!(grant(&iss, Some(&id), &good).await.0, 200);
    let again = assertion(&key, &id, &iss, |c| c["jti"] = json!(reused_jti));
    let (status, v) = grant(&iss, None, &again).await;
    assert_eq!(status, 200, "{v}");
}

/// A JWKS served on loopback, counting its fetches; the test swaps the keys.
struct KeyHost {
    url: String,
    doc: Arc<Mutex<Value>>,
    hits: Arc<Mutex<u32>>,
}

async fn key_host(doc: Value) -> KeyHost {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let (doc, hits) = (Arc::new(Mutex::new(doc)), Arc::new(Mutex::new(0)));
    let (d, h) = (doc.clone(), hits.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let _ = sock.read(&mut buf).await;
            *h.lock().unwrap() += 1;
            let body = d.lock().unwrap().to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    KeyHost { url, doc, hits }
}

#[actix_web::test]
async fn keys_at_a_jwks_uri_are_cached_and_fetched_again_when_the_client_rotates() {
    let s = TestServer::start().await;
    let (old, new) = (
        ClientKey::new(SigningAlg::ES256),
        ClientKey::new(SigningAlg::RS256),
    );
    let host = key_host(jwks(&[&old])).await;
    let (iss, id) = machine(&s, "pkjuri", json!({"jwks_uri": host.url})).await;
    let hits = || *host.hits.lock().unwrap();
    for _ in 0..2 {
        let (status, v) = grant(&iss, Some(&id), &assertion(&old, &id, &iss, |_| {})).await;
        assert_eq!(status, 200, "{v}");
    }
    assert_eq!(hits(), 1, "the JWKS is fetched once, then cached");
    // The client rotates: a new kid makes the server fetch again, once.
    *host.doc.lock().unwrap() = jwks(&[&old, &new]);
    let (status, v) = grant(&iss, Some(&id), &assertion(&new, &id, &iss, |_| {})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(hits(), 2);
    // Made-up kids do not turn into fetches: the next forced fetch waits its turn.
    let stranger = ClientKey::new(SigningAlg::ES256);
    for _ in 0..3 {
        let (status, v) = grant(&iss, Some(&id), &assertion(&stranger, &id, &iss, |_| {})).await;
        assert_eq!((status, error(&v)), (401, "invalid_client"), "{v}");
    }
    assert_eq!(hits(), 2, "unknown kids are rate limited");
}

#[actix_web::test]
async fn signing_clients_are_checked_when_registered() {
    let s = TestServer::start().await;
    s.admin("/tenants", json!({"id": "pkjreg"})).await;
    let key = ClientKey::new(SigningAlg::ES256);
    let mut private = key.jwk.clone();
    private["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
    let base = json!({"name": "C", "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "private_key_jwt"});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, says) in [
        (with(json!({})), "jwks"),
        (
            with(json!({"jwks": {"keys": [private]}})),
            "public keys only",
        ),
        (
            with(json!({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}})),
            "public keys only",
        ),
        (
            with(json!({"jwks_uri": "http://keys.example/jwks"})),
            "https",
        ),
        (
            with(json!({"jwks": jwks(&[&key]), "jwks_uri": "https://keys.example/jwks"})),
            "not both",
        ),
        (
            with(json!({"jwks": jwks(&[&key]), "public": true})),
            "public client",
        ),
        (
            with(json!({"token_endpoint_auth_method": "client_secret_jwt"})),
            "",
        ),
    ] {
        let r = s
            .http
            .post(format!("{}/admin/v1/tenants/pkjreg/clients", s.base))
            .bearer_auth(&s.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert!((400..500).contains(&status), "{body}: {status} {text}");
        assert!(text.contains(says), "{body}: {text}");
    }
    let clients = s.admin_get("/tenants/pkjreg/clients").await;
    assert_eq!(clients.as_array().map(Vec::len), Some(0), "{clients}");
}

#[actix_web::test]
async fn one_assertion_sent_many_times_at_once_authenticates_once() {
    let s = TestServer::start().await;
    let key = ClientKey::new(SigningAlg::ES256);
    let (iss, id) = machine(&s, "pkjrace", json!({"jwks": jwks(&[&key])})).await;
    let jwt = assertion(&key, &id, &iss, |_| {});
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (iss, id, jwt) = (iss.clone(), id.clone(), jwt.clone());
        set.spawn(async move { grant(&iss, Some(&id), &jwt).await });
    }
    let mut answers = Vec::new();
    while let Some(r) = set.join_next().await {
        answers.push(r.unwrap());
    }
    let won = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(won, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, v)| *s == 200 || (*s == 401 && error(v) == "invalid_client")),
        "{answers:?}"
    );
}
