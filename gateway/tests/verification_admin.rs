//! The admin API and CLI for a tenant's identity verification settings
//! (`/admin/v1/tenants/{tenant}/verification`, `tollgate admin verification ...`): round
//! trips, a part left out staying as it is, every bad value refused with a message that
//! names it and nothing stored, and one audit event per change that names what changed
//! but holds no certificate or key. Certificates and keys are made here.

mod common;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use common::*;
use serde_json::{Value, json};

/// A self-signed certificate with an RSA key, as UIDAI's signing certificate has.
fn rsa_certificate(cn: &str) -> String {
    rsa_cert(cn, false)
}

/// The same, as a CA certificate.
fn rsa_certificate_authority(cn: &str) -> String {
    rsa_cert(cn, true)
}

fn rsa_cert(cn: &str, ca: bool) -> String {
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8: Pkcs8V1Der = rsa.as_der().unwrap();
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec());
    let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    if ca {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    params.self_signed(&key).unwrap().pem()
}

/// The base64 inside a PEM block, on one line (UIDAI's `.cer` download, Truecaller's key).
fn bare(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// A Truecaller-like public key: base64 DER SubjectPublicKeyInfo of an RSA key.
fn rsa_spki_b64() -> String {
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let spki: PublicKeyX509Der = rsa.public_key().as_der().unwrap();
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(spki.as_ref())
}

async fn call(s: &TestServer, method: &str, tenant: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/admin/v1/tenants/{tenant}/verification", s.base);
    let req = match method {
        "PUT" => s.http.put(&url),
        _ => s.http.get(&url),
    }
    .bearer_auth(&s.admin_token);
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A 400 `invalid_request` whose description contains `says`.
fn refused(answer: &(u16, Value), says: &str) {
    let (status, v) = answer;
    assert_eq!(*status, 400, "{v}");
    assert_eq!(v["error"], "invalid_request", "{v}");
    let d = v["error_description"].as_str().unwrap_or_default();
    assert!(d.contains(says), "{says:?} not in {d:?}");
}

#[actix_web::test]
async fn settings_round_trip_and_bad_values_are_refused() {
    let s = TestServer::start().await;
    let t = s.tenant("kycadmin", false, true).await;

    // Defaults: nothing trusted, UIDAI's three days, no date-of-birth hash, no keys.
    let (status, v) = call(&s, "GET", &t.id, None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({
            "aadhaar": {
                "certificates": [],
                "max_age_secs": 259200,
                "keep_dob_hash": false,
                "check_certificate_dates": false,
            },
            "truecaller": {"keys": [], "max_age_secs": 600},
            "release": {"clients": []},
        })
    );

    // The new certificate as UIDAI's `.cer` download holds it: the DER's base64, no PEM.
    let (old, new) = (
        rsa_certificate("UIDAI 2025"),
        bare(&rsa_certificate("UIDAI 2026")),
    );
    let tc = rsa_spki_b64();
    let tc_pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        rsa_spki_b64()
    );
    let ec_pem = rcgen::KeyPair::generate().unwrap().public_key_pem();
    let (status, v) = call(
        &s,
        "PUT",
        &t.id,
        Some(json!({
            "aadhaar": {
                "certificates": [old, new],
                "max_age_secs": 86400,
                "keep_dob_hash": true,
                "check_certificate_dates": true,
            },
            "truecaller": {"keys": [{"id": "k1", "public_key": tc}, {"id": "k2", "public_key": tc_pem}], "max_age_secs": 300},
            "release": {"clients": [t.client_id]},
        })),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["aadhaar"]["certificates"].as_array().unwrap().len(), 2);
    assert!(
        v["aadhaar"]["certificates"][0]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert_eq!(v["aadhaar"]["max_age_secs"], 86400);
    assert_eq!(v["aadhaar"]["keep_dob_hash"], true);
    assert_eq!(v["aadhaar"]["check_certificate_dates"], true);
    assert_eq!(
        v["truecaller"]["keys"][0],
        json!({"id": "k1", "public_key": tc})
    );
    assert_eq!(v["truecaller"]["max_age_secs"], 300);
    assert_eq!(v["release"]["clients"], json!([t.client_id]));
    let (_, read) = call(&s, "GET", &t.id, None).await;
    assert_eq!(read, v, "GET shows what PUT stored");

    // A part left out stays as it is.
    let (status, v) = call(
        &s,
        "PUT",
        &t.id,
        Some(json!({"aadhaar": {"max_age_secs": 3600}})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["aadhaar"]["max_age_secs"], 3600);
    assert_eq!(
        v["aadhaar"]["certificates"],
        read["aadhaar"]["certificates"]
    );
    assert_eq!(v["truecaller"], read["truecaller"]);
    assert_eq!(v["release"], read["release"]);
    let before = v;

    // Each bad value: a clear message, and nothing stored.
    let bad_pem = json!({"aadhaar": {"certificates": ["not a certificate"]}});
    refused(&call(&s, "PUT", &t.id, Some(bad_pem)).await, "is not PEM");
    let key_not_cert = json!({"aadhaar": {"certificates": [ec_pem]}});
    refused(
        &call(&s, "PUT", &t.id, Some(key_not_cert)).await,
        "not a CERTIFICATE",
    );
    let garbage = "-----BEGIN CERTIFICATE-----\nTUlJQm9uZXNlbnNl\n-----END CERTIFICATE-----\n";
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"aadhaar": {"certificates": [garbage]}})),
        )
        .await,
        "not a valid X.509 certificate",
    );
    let ec_cert = rcgen::generate_simple_self_signed(vec!["uidai.test".to_owned()])
        .unwrap()
        .cert
        .pem();
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"aadhaar": {"certificates": [rsa_certificate("ok"), ec_cert]}})),
        )
        .await,
        "certificate 2 does not have an RSA key",
    );
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"aadhaar": {"certificates": [rsa_certificate_authority("UIDAI CA")]}})),
        )
        .await,
        "certificate 1 is a CA certificate",
    );
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"truecaller": {"keys": [{"id": "ec", "public_key": ec_pem}]}})),
        )
        .await,
        "Truecaller key \"ec\" is an EC key",
    );
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"release": {"clients": ["no-such-client"]}})),
        )
        .await,
        "client \"no-such-client\" does not exist",
    );
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"aadhaar": {"max_age_secs": 0}})),
        )
        .await,
        "aadhaar.max_age_secs must be between 1 and",
    );
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"aadhaar": {"max_age_secs": -60}})),
        )
        .await,
        "invalid JSON body",
    );
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"truecaller": {"max_age_secs": 0}})),
        )
        .await,
        "truecaller.max_age_secs must be between 1 and",
    );
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"truecaller": {"keys": [{"id": "k", "public_key": "bm90IGEga2V5"}]}})),
        )
        .await,
        "Truecaller key \"k\" is not a public key",
    );
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"truecaller": {"keys": [{"id": "k", "public_key": "%%%"}]}})),
        )
        .await,
        "neither PEM nor base64",
    );
    refused(
        &call(
            &s,
            "PUT",
            &t.id,
            Some(json!({"truecaller": {"keys": [{"id": "k", "public_key": tc}, {"id": "k", "public_key": tc}]}})),
        )
        .await,
        "listed twice",
    );
    refused(
        &call(&s, "PUT", &t.id, Some(json!({"aadhar": {}}))).await,
        "invalid JSON body",
    );
    refused(
        &call(&s, "PUT", &t.id, Some(json!({}))).await,
        "nothing to change",
    );
    let (_, after) = call(&s, "GET", &t.id, None).await;
    assert_eq!(after, before, "a refused change stores nothing");

    // Only the admin may read or change them; an unknown tenant is a 404.
    let r = s
        .http
        .get(format!("{}/admin/v1/tenants/{}/verification", s.base, t.id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, _) = call(&s, "GET", "no-such-tenant", None).await;
    assert_eq!(status, 404);

    // One event per change, naming what changed, holding no certificate or key.
    let events = s.events(&t.id, "kind=admin.verification").await;
    let details: Vec<&str> = events
        .iter()
        .map(|e| e["detail"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        details,
        [
            "aadhaar.max_age_secs=3600",
            "aadhaar.certificates=2 aadhaar.max_age_secs=86400 aadhaar.keep_dob_hash=true \
             aadhaar.check_certificate_dates=true truecaller.keys=2 truecaller.max_age_secs=300 release.clients=1",
        ],
        "{events:?}"
    );
    for e in &events {
        assert_eq!(e["actor"], "admin");
        let text = e.to_string();
        assert!(
            !text.contains("BEGIN") && !text.contains(&tc[..40]),
            "{text}"
        );
    }
}

#[actix_web::test]
async fn the_cli_sets_and_shows_them() {
    let s = TestServer::start().await;
    let t = s.tenant("kyccli", false, true).await;
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("uidai.pem");
    std::fs::write(&cert, rsa_certificate("UIDAI")).unwrap();
    let key = dir.path().join("tc.key");
    std::fs::write(&key, rsa_spki_b64()).unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(
        &bad,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let data = s.dir.path().to_str().unwrap().to_owned();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "admin",
            "--url",
            &s.base,
            "--data-dir",
            &data,
            "verification",
        ];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        tollgate(&args, &[])
    };

    let (ok, out, err) = run(&[
        "set",
        &t.id,
        "--uidai-cert",
        cert.to_str().unwrap(),
        "--max-document-age",
        "7200",
        "--keep-dob-hash",
        "on",
        "--check-certificate-dates",
        "on",
        "--truecaller-key",
        &format!("main={}", key.display()),
        "--truecaller-max-age",
        "120",
        "--release-clients",
        &t.client_id,
    ]);
    assert!(ok, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["aadhaar"]["max_age_secs"], 7200);
    assert_eq!(v["aadhaar"]["keep_dob_hash"], true);
    assert_eq!(v["aadhaar"]["check_certificate_dates"], true);
    assert_eq!(v["truecaller"]["keys"][0]["id"], "main");
    assert_eq!(v["truecaller"]["max_age_secs"], 120);
    assert_eq!(v["release"]["clients"], json!([t.client_id]));

    let (ok, out, err) = run(&["show", &t.id]);
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown, v);

    // Bad values fail the command with the server's message; nothing changes.
    let (ok, _, err) = run(&["set", &t.id, "--uidai-cert", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("not a CERTIFICATE"), "{err}");
    let (ok, _, err) = run(&["set", &t.id, "--release-clients", "ghost"]);
    assert!(!ok);
    assert!(err.contains("client \"ghost\" does not exist"), "{err}");
    let (ok, _, err) = run(&["set", &t.id, "--max-document-age", "0"]);
    assert!(!ok);
    assert!(err.contains("between 1 and"), "{err}");
    let (ok, _, err) = run(&["set", &t.id, "--max-document-age", "-5"]);
    assert!(!ok, "a negative age is not even sent");
    assert!(err.contains("-5"), "{err}");
    let (ok, _, err) = run(&["set", &t.id]);
    assert!(!ok);
    assert!(err.contains("nothing to change"), "{err}");
    let (ok, out, _) = run(&["show", &t.id]);
    assert!(ok);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), v);

    // Clearing: no certificates, no keys, no released clients.
    let (ok, out, err) = run(&[
        "set",
        &t.id,
        "--no-uidai-certs",
        "--no-truecaller-keys",
        "--release-clients",
        "",
    ]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["aadhaar"]["certificates"], json!([]));
    assert_eq!(v["truecaller"]["keys"], json!([]));
    assert_eq!(v["release"]["clients"], json!([]));
    assert_eq!(v["aadhaar"]["max_age_secs"], 7200, "the rest stays");
}
