//! Federation's unit tests: mapping, email lists, URLs, presets, Apple secrets, ID tokens.

use super::connectors::preset;
use super::*;
use crate::crypto::{b64, b64_decode};
use crate::model::federation::{AppleSigning, ClaimMapping};
use serde_json::{Value, json};

#[test]
fn mapping_reads_paths_numbers_and_kept_claims_only() {
    let m = ClaimMapping {
        subject: "id".into(),
        groups: Some("org.teams".into()),
        keep: vec!["dob".into()],
        ..ClaimMapping::default()
    };
    let claims = json!({
        "id": 4242, "email": "A@Example.com", "email_verified": "true",
        "name": " Ada ", "org": {"teams": ["x", "y"]}, "dob": "1815-12-10",
        "gender": "F",
    });
    let id = map_claims(&m, &claims).unwrap();
    assert_eq!(id.subject, "4242");
    assert!(id.email_verified);
    assert_eq!(id.name.as_deref(), Some("Ada"));
    assert_eq!(id.groups, vec!["x", "y"]);
    assert_eq!(id.extra.len(), 1);
    assert_eq!(id.extra["dob"], "1815-12-10");
    assert!(map_claims(&m, &json!({"email": "a@b.c"})).is_err());
    // No verification claim mapped: never verified.
    let m = ClaimMapping {
        email_verified: None,
        ..ClaimMapping::default()
    };
    let id = map_claims(&m, &json!({"sub": "s", "email_verified": true})).unwrap();
    assert!(!id.email_verified);
}

#[test]
fn github_email_lists_prefer_the_verified_primary() {
    let list = json!([
        {"email": "old@x.io", "primary": false, "verified": true},
        {"email": "main@x.io", "primary": true, "verified": true},
    ]);
    assert_eq!(pick_email(&list), Some(("main@x.io".into(), true)));
    let list = json!([{"email": "p@x.io", "primary": true, "verified": false}]);
    assert_eq!(pick_email(&list), Some(("p@x.io".into(), false)));
    assert_eq!(pick_email(&json!({})), None);
}

#[test]
fn upstream_urls_need_https_except_on_loopback() {
    assert!(check_upstream_url("issuer", "https://accounts.google.com").is_ok());
    assert!(check_upstream_url("issuer", "http://127.0.0.1:8080/t").is_ok());
    assert!(check_upstream_url("issuer", "http://localhost:8080/t").is_ok());
    assert!(check_upstream_url("issuer", "http://[::1]:8080/t").is_ok());
    assert!(check_upstream_url("issuer", "http://example.com").is_err());
    assert!(check_upstream_url("issuer", "https://u:p@example.com").is_err());
    assert!(check_upstream_url("issuer", "ftp://example.com").is_err());
    assert!(check_upstream_url("issuer", "/relative").is_err());
}

#[test]
fn every_preset_resolves() {
    for p in PRESETS {
        assert_eq!(preset(p).unwrap().name, p);
    }
    assert!(preset("myspace").is_none());
    assert!(valid_connector_id("google-work"));
    assert!(!valid_connector_id("Google"));
    assert!(!valid_connector_id("-x"));
}

#[test]
fn apple_client_secret_is_an_es256_jwt() {
    let key = aws_lc_rs::signature::EcdsaKeyPair::generate(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    )
    .unwrap();
    let der = key.to_pkcs8v1().unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der.as_ref())
    );
    let apple = AppleSigning {
        team_id: "TEAM123".into(),
        key_id: "KEY456".into(),
    };
    let jwt = apple_client_secret(&apple, "com.example.web", &pem, 1_000).unwrap();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some("KEY456"));
    let claims: Value =
        serde_json::from_slice(&b64_decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["iss"], "TEAM123");
    assert_eq!(claims["sub"], "com.example.web");
    assert_eq!(claims["aud"], "https://appleid.apple.com");
    assert_eq!(claims["exp"], 1_300);
    assert!(apple_client_secret(&apple, "x", "not a key", 1).is_err());
}

#[test]
fn id_tokens_are_checked_for_signature_issuer_audience_expiry_and_nonce() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let gen_key = || {
        let key = aws_lc_rs::signature::EcdsaKeyPair::generate(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        )
        .unwrap();
        let der = key.to_pkcs8v1().unwrap().as_ref().to_vec();
        use aws_lc_rs::signature::KeyPair;
        let public = key.public_key().as_ref().to_vec();
        (der, public)
    };
    let (der, public) = gen_key();
    let (other_der, _) = gen_key();
    let jwks = json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": b64(&public[1..33]), "y": b64(&public[33..65]),
    }]});
    let sign = |der: &[u8], claims: Value| {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some("k1".into());
        encode(&h, &claims, &EncodingKey::from_ec_der(der)).unwrap()
    };
    let good = json!({"iss": "https://up.example", "aud": "cid", "sub": "u1",
        "exp": 2_000, "iat": 1_000, "nonce": "n-1"});
    let expect = IdTokenExpectations {
        issuer: "https://up.example",
        client_id: "cid",
        nonce: "n-1",
        now: 1_500,
    };
    let ok = validate_id_token(&sign(&der, good.clone()), &jwks, &expect).unwrap();
    assert_eq!(ok["sub"], "u1");
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        sign(&der, c)
    };
    let check = |t: String| validate_id_token(&t, &jwks, &expect).unwrap_err();
    assert_eq!(
        check(sign(&other_der, good.clone())),
        IdTokenError::Signature
    );
    assert_eq!(check(with("aud", json!("other"))), IdTokenError::Audience);
    assert_eq!(
        check(with("iss", json!("https://evil"))),
        IdTokenError::Issuer
    );
    assert_eq!(check(with("nonce", json!("n-2"))), IdTokenError::Nonce);
    assert_eq!(check(with("exp", json!(1_400))), IdTokenError::Expired);
    assert_eq!(
        check(with("azp", json!("someone-else"))),
        IdTokenError::Audience
    );
    // An HMAC token "signed" with the public key is refused outright.
    let hs = encode(
        &Header::new(Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap();
    assert_eq!(check(hs), IdTokenError::Algorithm);
    // Microsoft's multi-tenant issuer template.
    let ms = IdTokenExpectations {
        issuer: "https://login.example/{tenantid}/v2.0",
        ..expect
    };
    let mut c = good.clone();
    c["iss"] = json!("https://login.example/abc/v2.0");
    c["tid"] = json!("abc");
    assert!(validate_id_token(&sign(&der, c), &jwks, &ms).is_ok());
}
