//! DPoP (RFC 9449) over HTTP, with proofs made by real keys (ES256, EdDSA, RS256): the
//! code flow, refreshes and userinfo with bound tokens, the per-client and per-tenant
//! rules, and each bad proof answered with the RFC's error code while nothing changes
//! (the code or refresh token still works afterwards with a good proof).

mod common;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use common::{PASSWORD, TestServer, TestTenant, authorize_url, code_for, hidden, jwt_claims, pkce};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};
use tollgate_engine::crypto::{b64, random_token, sha256};

enum Pair {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

/// A client's DPoP key.
struct Key {
    alg: &'static str,
    pair: Pair,
    jwk: Value,
}

impl Key {
    fn es256() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let kp =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let p = kp.public_key().as_ref();
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&p[1..33]), "y": b64(&p[33..65])});
        Self {
            alg: "ES256",
            pair: Pair::Ec(kp),
            jwk,
        }
    }

    fn ed25519() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(kp.public_key().as_ref())});
        Self {
            alg: "EdDSA",
            pair: Pair::Ed(kp),
            jwk,
        }
    }

    fn rs256() -> Self {
        let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let pk = kp.public_key();
        let jwk = json!({
            "kty": "RSA",
            "n": b64(pk.modulus().big_endian_without_leading_zero()),
            "e": b64(pk.exponent().big_endian_without_leading_zero()),
        });
        Self {
            alg: "RS256",
            pair: Pair::Rsa(kp),
            jwk,
        }
    }

    /// RFC 7638 thumbprint, computed here from the required members.
    fn jkt(&self) -> String {
        let j = &self.jwk;
        let canonical = match self.alg {
            "ES256" => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                j["x"].as_str().unwrap(),
                j["y"].as_str().unwrap()
            ),
            "EdDSA" => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                j["x"].as_str().unwrap()
            ),
            _ => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                j["e"].as_str().unwrap(),
                j["n"].as_str().unwrap()
            ),
        };
        b64(&sha256(canonical.as_bytes()))
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let sig = match &self.pair {
            Pair::Ec(k) => k.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            Pair::Ed(k) => k.sign(input.as_bytes()).as_ref().to_vec(),
            Pair::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig)
                    .unwrap();
                sig
            }
        };
        format!("{input}.{}", b64(&sig))
    }

    fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk})
    }

    /// A fresh proof for `htm` `htu`; `extra` claims are merged in (and may override).
    fn proof(&self, htm: &str, htu: &str, extra: Value) -> String {
        let mut claims = json!({"jti": random_token::<12>(), "htm": htm, "htu": htu, "iat": now()});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        self.sign(&self.header(), &claims)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ath(token: &str) -> String {
    b64(&sha256(token.as_bytes()))
}

/// An answer: status, JSON body, `DPoP-Nonce`, `WWW-Authenticate`.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    nonce: Option<String>,
    challenge: Option<String>,
}

impl Answer {
    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    #[track_caller]
    fn assert_error(&self, status: u16, error: &str, says: &str) {
        assert_eq!((self.status, self.error()), (status, error), "{self:?}");
        let d = self.body["error_description"].as_str().unwrap_or("");
        assert!(d.contains(says), "{d:?} does not say {says:?}");
    }
}

async fn answer(r: reqwest::Response) -> Answer {
    let h = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_owned());
    let (nonce, challenge) = (h("dpop-nonce"), h("www-authenticate"));
    Answer {
        status: r.status().as_u16(),
        nonce,
        challenge,
        body: r.json().await.unwrap_or(Value::Null),
    }
}

/// A token request with the client's credentials and these `DPoP` headers.
async fn token(t: &TestTenant, params: &[(&str, &str)], proofs: &[&str]) -> Answer {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("client_id", &t.client_id));
    if let Some(s) = &t.client_secret {
        form.push(("client_secret", s));
    }
    let mut req = reqwest::Client::new()
        .post(format!("{}/token", t.issuer))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form).unwrap());
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    answer(req.send().await.unwrap()).await
}

fn token_url(t: &TestTenant) -> String {
    format!("{}/token", t.issuer)
}

fn redeem_params<'a>(
    t: &'a TestTenant,
    code: &'a str,
    verifier: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &t.redirect_uri),
        ("code_verifier", verifier),
    ]
}

fn refresh_params(rt: &str) -> [(&str, &str); 2] {
    [("grant_type", "refresh_token"), ("refresh_token", rt)]
}

/// GET /userinfo with this `Authorization` and these `DPoP` headers.
async fn userinfo(t: &TestTenant, authorization: &str, proofs: &[&str]) -> Answer {
    let mut req = reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .header("Authorization", authorization);
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    answer(req.send().await.unwrap()).await
}

/// A userinfo proof for `access`.
fn userinfo_proof(k: &Key, t: &TestTenant, access: &str, extra: Value) -> String {
    let mut claims = json!({"ath": ath(access)});
    for (key, v) in extra.as_object().unwrap() {
        claims[key] = v.clone();
    }
    k.proof("GET", &format!("{}/userinfo", t.issuer), claims)
}

const SCOPE: &str = "openid profile offline_access";

#[actix_web::test]
async fn a_public_client_gets_bound_tokens_and_every_bad_proof_changes_nothing() {
    let s = TestServer::start().await;
    let t = s.tenant("dpop-public", true, true).await;
    let disco: Value = common::discovery(&t).await;
    assert_eq!(
        disco["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "Ed25519", "RS256"])
    );
    let key = Key::es256();
    let (code, verifier) = code_for(&s.browser(), &t, SCOPE).await;
    let first = key.proof("POST", &token_url(&t), json!({}));
    let a = token(&t, &redeem_params(&t, &code, &verifier), &[&first]).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["token_type"], "DPoP");
    assert!(a.nonce.is_some(), "a DPoP answer carries a fresh nonce");
    let access = a.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&access)["cnf"]["jkt"], key.jkt());
    let mut rt = a.body["refresh_token"].as_str().unwrap().to_owned();

    // Userinfo: with the DPoP scheme and a proof over that request.
    let u = userinfo(
        &t,
        &format!("DPoP {access}"),
        &[&userinfo_proof(&key, &t, &access, json!({}))],
    )
    .await;
    assert_eq!(u.status, 200, "{u:?}");
    assert!(u.body["sub"].is_string());
    // As Bearer, a bound token is refused.
    let u = userinfo(&t, &format!("Bearer {access}"), &[]).await;
    u.assert_error(401, "invalid_token", "DPoP-bound");
    assert!(u.challenge.unwrap().starts_with("Bearer"));
    // The DPoP scheme without a proof; with a proof for another token; by another key.
    let u = userinfo(&t, &format!("DPoP {access}"), &[]).await;
    u.assert_error(401, "invalid_dpop_proof", "proof is required");
    assert!(
        u.challenge
            .unwrap()
            .starts_with("DPoP error=\"invalid_dpop_proof\"")
    );
    let other_ath = userinfo_proof(&key, &t, &access, json!({"ath": ath("another")}));
    let u = userinfo(&t, &format!("DPoP {access}"), &[&other_ath]).await;
    u.assert_error(401, "invalid_dpop_proof", "ath");
    let stranger = Key::ed25519();
    let u = userinfo(
        &t,
        &format!("DPoP {access}"),
        &[&userinfo_proof(&stranger, &t, &access, json!({}))],
    )
    .await;
    u.assert_error(401, "invalid_token", "not bound to the DPoP proof's key");

    // Every bad refresh is refused with its code, and the refresh token stays current.
    let url = token_url(&t);
    let mut private = key.header();
    private["jwk"]["d"] = json!(b64(&[7u8; 32]));
    let unsigned = format!(
        "{}.{}.",
        b64(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk})
            .to_string()
            .as_bytes()),
        b64(
            json!({"jti": random_token::<12>(), "htm": "POST", "htu": url, "iat": now()})
                .to_string()
                .as_bytes()
        )
    );
    let hs256 = {
        let h =
            json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": b64(b"shared")}});
        let c = json!({"jti": random_token::<12>(), "htm": "POST", "htu": url, "iat": now()});
        let input = format!(
            "{}.{}",
            b64(h.to_string().as_bytes()),
            b64(c.to_string().as_bytes())
        );
        let tag = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"shared"),
            input.as_bytes(),
        );
        format!("{input}.{}", b64(tag.as_ref()))
    };
    let two = [
        key.proof("POST", &url, json!({})),
        key.proof("POST", &url, json!({})),
    ];
    let bad: Vec<(Vec<String>, &str, &str)> = vec![
        (vec![first.clone()], "invalid_dpop_proof", "used before"),
        (
            vec![key.proof("GET", &url, json!({}))],
            "invalid_dpop_proof",
            "htm",
        ),
        (
            vec![key.proof("POST", &format!("{}/userinfo", t.issuer), json!({}))],
            "invalid_dpop_proof",
            "htu",
        ),
        (
            vec![key.proof("POST", &url, json!({"iat": now() - 300}))],
            "invalid_dpop_proof",
            "iat",
        ),
        (
            vec![key.proof("POST", &url, json!({"iat": now() + 300}))],
            "invalid_dpop_proof",
            "iat",
        ),
        (
            vec![key.sign(
                &private,
                &json!({"jti": random_token::<12>(), "htm": "POST", "htu": url, "iat": now()}),
            )],
            "invalid_dpop_proof",
            "public key",
        ),
        (vec![unsigned], "invalid_dpop_proof", "alg"),
        (vec![hs256], "invalid_dpop_proof", "alg"),
        (two.to_vec(), "invalid_dpop_proof", "exactly one"),
        (
            vec!["not-a-jwt".into()],
            "invalid_dpop_proof",
            "not a signed JWT",
        ),
        (
            vec![Key::rs256().proof("POST", &url, json!({}))],
            "invalid_grant",
            "another DPoP key",
        ),
        (vec![], "invalid_grant", "DPoP-bound"),
    ];
    for (proofs, error, says) in bad {
        let refs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let a = token(&t, &refresh_params(&rt), &refs).await;
        a.assert_error(400, error, says);
    }
    // Nothing changed: the same refresh token works with the right key, and the new
    // access token is bound to it again.
    let a = token(
        &t,
        &refresh_params(&rt),
        &[&key.proof("POST", &url, json!({}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["token_type"], "DPoP");
    let access = a.body["access_token"].as_str().unwrap();
    assert_eq!(jwt_claims(access)["cnf"]["jkt"], key.jkt());
    rt = a.body["refresh_token"].as_str().unwrap().to_owned();
    let a = token(
        &t,
        &refresh_params(&rt),
        &[&key.proof("POST", &url, json!({}))],
    )
    .await;
    assert_eq!(a.status, 200, "the chain is still live: {a:?}");
}

#[actix_web::test]
async fn a_confidential_clients_refresh_token_is_not_bound_but_its_access_tokens_are() {
    let s = TestServer::start().await;
    let t = s.tenant("dpop-conf", false, true).await;
    let (ed, rsa) = (Key::ed25519(), Key::rs256());
    let (code, verifier) = code_for(&s.browser(), &t, SCOPE).await;
    let a = token(
        &t,
        &redeem_params(&t, &code, &verifier),
        &[&ed.proof("POST", &token_url(&t), json!({}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    let access = a.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&access)["cnf"]["jkt"], ed.jkt());
    // Introspection tells a resource server the binding (RFC 9449 §6.2).
    let i: Value = reqwest::Client::new()
        .post(format!("{}/introspect", t.issuer))
        .form(&[
            ("token", access.as_str()),
            ("client_id", &t.client_id),
            ("client_secret", t.client_secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(i["active"], true, "{i}");
    assert_eq!(i["token_type"], "DPoP");
    assert_eq!(i["cnf"]["jkt"], ed.jkt());
    // Userinfo with the EdDSA key.
    let u = userinfo(
        &t,
        &format!("DPoP {access}"),
        &[&userinfo_proof(&ed, &t, &access, json!({}))],
    )
    .await;
    assert_eq!(u.status, 200, "{u:?}");
    // The refresh token is the client's (RFC 9449 §5): another key binds the new access
    // token to itself; no proof gives a Bearer token.
    let rt = a.body["refresh_token"].as_str().unwrap();
    let a = token(
        &t,
        &refresh_params(rt),
        &[&rsa.proof("POST", &token_url(&t), json!({}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    let access = a.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&access)["cnf"]["jkt"], rsa.jkt());
    let u = userinfo(
        &t,
        &format!("DPoP {access}"),
        &[&userinfo_proof(&rsa, &t, &access, json!({}))],
    )
    .await;
    assert_eq!(u.status, 200, "{u:?}");
    let rt = a.body["refresh_token"].as_str().unwrap();
    let a = token(&t, &refresh_params(rt), &[]).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["token_type"], "Bearer");
    let access = a.body["access_token"].as_str().unwrap();
    assert!(jwt_claims(access).get("cnf").is_none());
    // An unbound token is a Bearer token: not accepted with the DPoP scheme.
    let u = userinfo(
        &t,
        &format!("DPoP {access}"),
        &[&userinfo_proof(&rsa, &t, access, json!({}))],
    )
    .await;
    u.assert_error(401, "invalid_token", "not bound");
    let u = userinfo(&t, &format!("Bearer {access}"), &[]).await;
    assert_eq!(u.status, 200, "{u:?}");
}

#[actix_web::test]
async fn a_client_that_requires_dpop_and_nonces_is_refused_until_it_complies() {
    let s = TestServer::start().await;
    let base = s.tenant("dpop-strict", true, true).await;
    let c = s
        .admin(
            "/tenants/dpop-strict/clients",
            json!({
                "name": "Mobile app",
                "redirect_uris": [base.redirect_uri],
                "public": true,
                "first_party": true,
                "dpop_bound_access_tokens": true,
                "dpop_nonce_required": true,
            }),
        )
        .await;
    let t = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        ..base
    };
    let key = Key::es256();
    let (code, verifier) = code_for(&s.browser(), &t, SCOPE).await;
    let params = redeem_params(&t, &code, &verifier);
    // No proof: refused, and the code is not spent.
    let a = token(&t, &params, &[]).await;
    a.assert_error(400, "invalid_dpop_proof", "must send a DPoP proof");
    // A proof with no nonce, then a made-up one: use_dpop_nonce, with a nonce to use.
    let a = token(
        &t,
        &params,
        &[&key.proof("POST", &token_url(&t), json!({}))],
    )
    .await;
    a.assert_error(400, "use_dpop_nonce", "nonce");
    let nonce = a.nonce.clone().expect("DPoP-Nonce with use_dpop_nonce");
    let a = token(
        &t,
        &params,
        &[&key.proof("POST", &token_url(&t), json!({"nonce": "made-up"}))],
    )
    .await;
    a.assert_error(400, "use_dpop_nonce", "nonce");
    // With the server's nonce: the code is redeemed.
    let a = token(
        &t,
        &params,
        &[&key.proof("POST", &token_url(&t), json!({"nonce": nonce}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["token_type"], "DPoP");
    let nonce = a.nonce.clone().expect("a fresh nonce on success");
    let rt = a.body["refresh_token"].as_str().unwrap();
    let a = token(
        &t,
        &refresh_params(rt),
        &[&key.proof("POST", &token_url(&t), json!({"nonce": nonce}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
}

#[actix_web::test]
async fn a_tenant_nonce_applies_at_the_token_endpoint_and_at_userinfo() {
    let s = TestServer::start().await;
    let t = s.tenant("dpop-nonce", true, true).await;
    let set = reqwest::Client::new()
        .put(format!("{}/admin/v1/tenants/dpop-nonce/dpop", s.base))
        .bearer_auth(&s.admin_token)
        .json(&json!({"nonce_required": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let key = Key::rs256();
    let (verifier, challenge) = pkce();
    let back = s
        .browser()
        .authorize(
            &authorize_url(&t, "openid", &challenge, &[]),
            &t.email,
            PASSWORD,
        )
        .await;
    let code = common::query_param(&back, "code").unwrap();
    let params = redeem_params(&t, &code, &verifier);
    let a = token(
        &t,
        &params,
        &[&key.proof("POST", &token_url(&t), json!({}))],
    )
    .await;
    a.assert_error(400, "use_dpop_nonce", "nonce");
    let a = token(
        &t,
        &params,
        &[&key.proof("POST", &token_url(&t), json!({"nonce": a.nonce.unwrap()}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    let access = a.body["access_token"].as_str().unwrap();
    let u = userinfo(
        &t,
        &format!("DPoP {access}"),
        &[&userinfo_proof(&key, &t, access, json!({}))],
    )
    .await;
    u.assert_error(401, "use_dpop_nonce", "nonce");
    let challenge = u.challenge.unwrap();
    assert!(
        challenge.starts_with("DPoP error=\"use_dpop_nonce\""),
        "{challenge}"
    );
    let nonce = u.nonce.expect("DPoP-Nonce with use_dpop_nonce");
    let u = userinfo(
        &t,
        &format!("DPoP {access}"),
        &[&userinfo_proof(&key, &t, access, json!({"nonce": nonce}))],
    )
    .await;
    assert_eq!(u.status, 200, "{u:?}");
}

#[actix_web::test]
async fn a_device_that_polls_with_proofs_gets_tokens_bound_to_its_key() {
    const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";
    let s = TestServer::start().await;
    let base = s.tenant("dpop-tv", true, false).await;
    let c = s
        .admin(
            "/tenants/dpop-tv/clients",
            json!({"name": "Living room TV", "public": true,
                "grant_types": [DEVICE, "refresh_token"]}),
        )
        .await;
    let t = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        ..base
    };
    let d: Value = reqwest::Client::new()
        .post(format!("{}/device_authorization", t.issuer))
        .form(&[
            ("client_id", t.client_id.as_str()),
            ("scope", "openid offline_access"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device_code = d["device_code"].as_str().expect("a device code").to_owned();
    // The user enters the code, signs in and allows the device.
    let b = s.browser();
    let (_, _, page) = b.get(&format!("{}/device", t.issuer)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let (status, loc, body) = b
        .post_form(
            &format!("{}/device", t.issuer),
            &[
                ("user_code", d["user_code"].as_str().unwrap()),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    let confirm = b.authorize(&loc.unwrap(), &t.email, PASSWORD).await;
    let (_, _, page) = b.get(&confirm).await;
    let (tx, csrf) = (hidden(&page, "tx").unwrap(), hidden(&page, "csrf").unwrap());
    let (status, _, done) = b
        .post_form(
            &format!("{}/device/confirm", t.issuer),
            &[("decision", "allow"), ("tx", &tx), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, 200, "{done}");
    // The device polls with a proof: its tokens are bound to its key.
    let key = Key::ed25519();
    let url = token_url(&t);
    let a = token(
        &t,
        &[("grant_type", DEVICE), ("device_code", &device_code)],
        &[&key.proof("POST", &url, json!({}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["token_type"], "DPoP");
    assert_eq!(
        jwt_claims(a.body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.jkt()
    );
    let rt = a.body["refresh_token"].as_str().unwrap();
    let other = Key::es256().proof("POST", &url, json!({}));
    token(&t, &refresh_params(rt), &[&other])
        .await
        .assert_error(400, "invalid_grant", "another DPoP key");
    let a = token(
        &t,
        &refresh_params(rt),
        &[&key.proof("POST", &url, json!({}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
}

#[actix_web::test]
async fn a_code_bound_with_dpop_jkt_is_redeemed_only_by_that_key() {
    let s = TestServer::start().await;
    let t = s.tenant("dpop-jkt", true, true).await;
    let (key, other) = (Key::es256(), Key::ed25519());
    let b = s.browser();
    // A malformed dpop_jkt is the authorization request's error.
    let (_, challenge) = pkce();
    let (status, loc, _) = b
        .get(&authorize_url(
            &t,
            "openid",
            &challenge,
            &[("dpop_jkt", "short")],
        ))
        .await;
    assert_eq!(status, 303);
    let loc = loc.unwrap();
    assert_eq!(
        common::query_param(&loc, "error").as_deref(),
        Some("invalid_request"),
        "{loc}"
    );
    let (verifier, challenge) = pkce();
    let jkt = key.jkt();
    let back = b
        .authorize(
            &authorize_url(&t, SCOPE, &challenge, &[("dpop_jkt", &jkt)]),
            &t.email,
            PASSWORD,
        )
        .await;
    let code = common::query_param(&back, "code").unwrap();
    let params = redeem_params(&t, &code, &verifier);
    let url = token_url(&t);
    token(&t, &params, &[&other.proof("POST", &url, json!({}))])
        .await
        .assert_error(400, "invalid_grant", "dpop_jkt");
    token(&t, &params, &[])
        .await
        .assert_error(400, "invalid_grant", "dpop_jkt");
    // Neither spent the code.
    let a = token(&t, &params, &[&key.proof("POST", &url, json!({}))]).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        jwt_claims(a.body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        jkt
    );
}

/// Pushes an authorization request (RFC 9126) with these `DPoP` headers.
async fn push(t: &TestTenant, params: &[(&str, &str)], proofs: &[&str]) -> Answer {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("client_id", &t.client_id));
    let mut req = reqwest::Client::new()
        .post(format!("{}/par", t.issuer))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form).unwrap());
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    answer(req.send().await.unwrap()).await
}

#[actix_web::test]
async fn a_proof_with_a_pushed_request_binds_its_code_to_the_key() {
    let s = TestServer::start().await;
    let t = s.tenant("dpop-par", true, true).await;
    let (key, other) = (Key::rs256(), Key::es256());
    let par = format!("{}/par", t.issuer);
    let (verifier, challenge) = pkce();
    let request = [
        ("response_type", "code"),
        ("redirect_uri", t.redirect_uri.as_str()),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    // A dpop_jkt that is not the proof's key is refused, and nothing is pushed.
    let other_jkt = other.jkt();
    let mut mismatched = request.to_vec();
    mismatched.push(("dpop_jkt", &other_jkt));
    let a = push(&t, &mismatched, &[&key.proof("POST", &par, json!({}))]).await;
    a.assert_error(400, "invalid_dpop_proof", "dpop_jkt");
    assert!(a.body.get("request_uri").is_none());
    // A proof for another endpoint is refused too.
    push(
        &t,
        &request,
        &[&key.proof("POST", &token_url(&t), json!({}))],
    )
    .await
    .assert_error(400, "invalid_dpop_proof", "htu");
    let a = push(&t, &request, &[&key.proof("POST", &par, json!({}))]).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert!(a.nonce.is_some(), "a DPoP answer carries a nonce");
    let uri = a.body["request_uri"].as_str().unwrap();
    let mut url = url::Url::parse(&format!("{}/authorize", t.issuer)).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", &t.client_id)
        .append_pair("request_uri", uri);
    let back = s
        .browser()
        .authorize(url.as_str(), &t.email, PASSWORD)
        .await;
    let code = common::query_param(&back, "code").unwrap_or_else(|| panic!("{back}"));
    let params = redeem_params(&t, &code, &verifier);
    token(
        &t,
        &params,
        &[&other.proof("POST", &token_url(&t), json!({}))],
    )
    .await
    .assert_error(400, "invalid_grant", "dpop_jkt");
    let a = token(
        &t,
        &params,
        &[&key.proof("POST", &token_url(&t), json!({}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        jwt_claims(a.body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.jkt()
    );
}

#[actix_web::test]
async fn a_token_exchange_with_a_proof_issues_a_token_bound_to_the_key() {
    const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
    const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
    const ORDERS: &str = "https://orders.example/api";
    let s = TestServer::start().await;
    let web = s.tenant("dpop-exchange", false, true).await;
    s.admin(
        "/tenants/dpop-exchange/apis",
        json!({"identifier": ORDERS, "name": "Orders", "scopes": ["read:orders"]}),
    )
    .await;
    let c = s
        .admin(
            "/tenants/dpop-exchange/clients",
            json!({"name": "Orders service", "grant_types": [EXCHANGE],
                "token_exchange": {"audiences": [ORDERS]}}),
        )
        .await;
    let service = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..web.clone()
    };
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &web,
        "openid read:orders",
        &challenge,
        &[("resource", ORDERS)],
    );
    let back = s.browser().authorize(&url, &web.email, PASSWORD).await;
    let code = common::query_param(&back, "code").unwrap();
    let user = token(&web, &redeem_params(&web, &code, &verifier), &[]).await;
    assert_eq!(user.status, 200, "{user:?}");
    let key = Key::es256();
    let a = token(
        &service,
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", user.body["access_token"].as_str().unwrap()),
            ("subject_token_type", ACCESS),
            ("resource", ORDERS),
        ],
        &[&key.proof("POST", &token_url(&service), json!({}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body["token_type"], "DPoP");
    assert_eq!(
        jwt_claims(a.body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        key.jkt()
    );
}

#[actix_web::test]
async fn a_nonce_lives_its_slot_and_the_next_then_is_refused() {
    use std::sync::Arc;
    use tollgate_engine::clock::{Clock, ManualClock, SystemClock};
    use tollgate_engine::oauth::dpop::NONCE_SLOT;
    let clock = ManualClock::new(SystemClock.now());
    let s = TestServer::start_with_clock(Arc::new(clock.clone())).await;
    let t = s.tenant("dpop-slots", true, true).await;
    s.http
        .put(format!("{}/admin/v1/tenants/dpop-slots/dpop", s.base))
        .bearer_auth(&s.admin_token)
        .json(&json!({"nonce_required": true}))
        .send()
        .await
        .unwrap();
    let key = Key::es256();
    let url = token_url(&t);
    // Proofs are made at the server's (manual) time.
    let proof = |extra: Value| {
        let mut claims = json!({"iat": clock.now()});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        key.proof("POST", &url, claims)
    };
    let (verifier, challenge) = pkce();
    let back = s
        .browser()
        .authorize(
            &authorize_url(&t, SCOPE, &challenge, &[]),
            &t.email,
            PASSWORD,
        )
        .await;
    let code = common::query_param(&back, "code").unwrap();
    let first = token(
        &t,
        &redeem_params(&t, &code, &verifier),
        &[&proof(json!({}))],
    )
    .await;
    first.assert_error(400, "use_dpop_nonce", "nonce");
    let nonce = first.nonce.unwrap();
    let a = token(
        &t,
        &redeem_params(&t, &code, &verifier),
        &[&proof(json!({"nonce": nonce}))],
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    let mut rt = a.body["refresh_token"].as_str().unwrap().to_owned();
    // One slot later the nonce is still good (the previous slot's)...
    clock.advance(NONCE_SLOT);
    let a = token(&t, &refresh_params(&rt), &[&proof(json!({"nonce": nonce}))]).await;
    assert_eq!(a.status, 200, "{a:?}");
    rt = a.body["refresh_token"].as_str().unwrap().to_owned();
    // ...two slots later it is not, and the answer carries the current one.
    clock.advance(NONCE_SLOT);
    let a = token(&t, &refresh_params(&rt), &[&proof(json!({"nonce": nonce}))]).await;
    a.assert_error(400, "use_dpop_nonce", "nonce");
    let fresh = a.nonce.unwrap();
    assert_ne!(fresh, nonce);
    let a = token(&t, &refresh_params(&rt), &[&proof(json!({"nonce": fresh}))]).await;
    assert_eq!(a.status, 200, "the refused request changed nothing: {a:?}");
}
