//! Truecaller end to end. The test is Truecaller: it makes its own RSA keys, pins one in
//! the tenant through the admin API, and signs profile payloads the way Truecaller's SDK
//! hands them to an app (the signature over the base64 payload text, `SHA512withRSA`).
//! A good profile makes the number a Phone factor that then signs in by an SMS code (the
//! development outbox); each bad one is a JSON error with its code, stores nothing and is
//! an audited failure. The OAuth 2.0 + PKCE connector meets a small Truecaller-shaped
//! server on loopback (token and userinfo as Truecaller's OAuth SDK pages show them).

mod common;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA512, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use reqwest::header::{LOCATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::FactorKind;

const NUMBER: &str = "+919876543210";
const MASKED: &str = "+91********10";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A Truecaller signing key of the test's own.
struct Signer(RsaKeyPair);

impl Signer {
    fn new() -> Self {
        Self(RsaKeyPair::generate(KeySize::Rsa2048).unwrap())
    }

    /// As Truecaller's key endpoint serves it: base64 DER SubjectPublicKeyInfo.
    fn public_key(&self) -> String {
        let der: PublicKeyX509Der = self.0.public_key().as_der().unwrap();
        STANDARD.encode(der.as_ref())
    }

    /// `{payload, signature, signatureAlgorithm}` for a profile: the signature is over
    /// the base64 text, as Truecaller signs.
    fn profile(&self, profile: &Value) -> Value {
        let payload = STANDARD.encode(profile.to_string());
        let mut sig = vec![0; self.0.public_modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA512,
                &aws_lc_rs::rand::SystemRandom::new(),
                payload.as_bytes(),
                &mut sig,
            )
            .unwrap();
        json!({
            "payload": payload,
            "signature": STANDARD.encode(sig),
            "signatureAlgorithm": "SHA512withRSA",
        })
    }
}

fn profile(number: &str, time: u64, nonce: &str) -> Value {
    json!({
        "requestNonce": nonce,
        "requestTime": time,
        "phoneNumber": number,
        "countryCode": "in",
        "firstName": "Asha",
        "lastName": "Raghunathan",
        "email": "asha.raghunathan@example.in",
        "gender": "F",
        "isTrueName": true,
        "isAmbassador": false,
    })
}

/// Pins `keys` (`[(id, public key)]`) through the admin API, as an operator would.
async fn pin(srv: &TestServer, tenant: &str, keys: &[(&str, String)]) {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(id, k)| json!({"id": id, "public_key": k}))
        .collect();
    let r = srv
        .http
        .put(format!(
            "{}/admin/v1/tenants/{tenant}/verification",
            srv.base
        ))
        .bearer_auth(&srv.admin_token)
        .json(&json!({"truecaller": {"keys": keys}}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert!(status.is_success(), "{status} {}", r.text().await.unwrap());
}

async fn call(
    srv: &TestServer,
    tenant: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Option<String>, Value) {
    let mut rb = srv
        .http
        .post(format!("{}/{tenant}/api/verify/truecaller", srv.base))
        .json(body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    let challenge = r
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    (
        r.status().as_u16(),
        challenge,
        r.json().await.unwrap_or(Value::Null),
    )
}

/// The code in the newest text message to `to` in the development outbox.
async fn sms_code(dir: &std::path::Path, to: &str) -> String {
    let outbox = dir.join("outbox");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut found: Vec<(String, Value)> = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .filter_map(|e| {
                let v: Value = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
                (v["to"] == to).then(|| (e.file_name().to_string_lossy().into_owned(), v))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some((_, v)) = found.pop() {
            let text = v["text"].as_str().unwrap();
            let code: String = text
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .expect("a 6-digit code")
                .to_owned();
            return code;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no text to {to} in {}",
            outbox.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Whether any text message was written to `to`.
fn texted(dir: &std::path::Path, to: &str) -> bool {
    std::fs::read_dir(dir.join("outbox"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            std::fs::read(e.path())
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .is_some_and(|v| v["to"] == to)
        })
}

/// Signs in by a code sent to `number`; returns the user the session is for.
async fn phone_sign_in(srv: &TestServer, tenant: &str, number: &str) -> String {
    let b = srv.browser();
    let csrf = fresh_csrf(&b, &format!("{}/{tenant}/login/phone", srv.base)).await;
    let (s, _, page) = b
        .post_form(
            &format!("{}/{tenant}/login/phone", srv.base),
            &[("phone", number), ("channel", "sms"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    let handle = hidden(&page, "handle").expect("the code form");
    let csrf = hidden(&page, "csrf").unwrap();
    let code = sms_code(srv.dir.path(), number).await;
    let (s, _, body) = b
        .post_form(
            &format!("{}/{tenant}/login/phone/code", srv.base),
            &[("handle", &handle), ("code", &code), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303, "the code did not sign in: {body}");
    let events = srv.events(tenant, "kind=login.phone_code").await;
    let ok = events
        .iter()
        .find(|e| e["result"] == "success")
        .expect("a successful phone sign-in event");
    ok["subject"].as_str().unwrap().to_owned()
}

/// The user a token response is about (a first-party client: `sub` is the user id).
fn user_of(tokens: &Value) -> UserId {
    let claims = jwt_claims(tokens["id_token"].as_str().expect("an id token"));
    UserId::from_stored(claims["sub"].as_str().unwrap().to_owned())
}

#[actix_web::test]
async fn a_signed_profile_makes_the_number_a_phone_that_signs_in() {
    let srv = TestServer::start().await;
    let t = srv.tenant("tc", false, true).await;
    let key = Signer::new();
    pin(&srv, "tc", &[("tc-2024", key.public_key())]).await;
    let tokens = login_tokens(&srv.browser(), &t, "openid verify").await;
    let at = tokens["access_token"].as_str().unwrap();

    let mut body = key.profile(&profile(NUMBER, now() - 5, "nonce-1"));
    body["nonce"] = json!("nonce-1");
    let (s, _, v) = call(&srv, "tc", Some(at), &body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["verified"], true);
    assert_eq!(v["method"], "truecaller");
    assert_eq!(v["phone_number"], MASKED);
    assert_eq!(v["phone_added"], true);

    // The number signs in, to this account.
    let user = user_of(&tokens);
    assert_eq!(phone_sign_in(&srv, "tc", NUMBER).await, user.as_str());

    // Kept: one truecaller verification (time, request time); the factor's number sealed.
    let engine = &srv.running.engine;
    let tid = TenantId::parse("tc").unwrap();
    let kept = engine.verify().list(&tid, &user).await.unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].method.as_str(), "truecaller");
    assert!(kept[0].issued_at.is_some_and(|t| t + 60 > now()));
    assert!(kept[0].aadhaar_last4.is_none() && kept[0].name_hash.is_none());
    let factors = engine.store().list_factors(&tid, &user).await.unwrap();
    let phone = factors
        .iter()
        .find(|f| f.kind == FactorKind::Phone)
        .expect("a phone factor");
    assert_eq!(phone.label, MASKED);

    // Handing over the same number again: verified, nothing new on the account.
    let body = key.profile(&profile(NUMBER, now(), "nonce-2"));
    let (s, _, v) = call(&srv, "tc", Some(at), &body).await;
    assert_eq!((s, &v["phone_added"]), (200, &json!(false)), "{v}");

    // Nothing of the profile is stored or audited: no name, email or full number.
    let events = srv.events("tc", "").await;
    let verified: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "verify.truecaller" && e["result"] == "success")
        .collect();
    assert_eq!(verified.len(), 2, "{events:?}");
    assert!(events.iter().any(|e| e["kind"] == "mfa.enrolled"));
    let all = serde_json::to_string(&events).unwrap();
    let records = serde_json::to_string(
        &engine
            .store()
            .list_verifications(&tid, &user)
            .await
            .unwrap(),
    )
    .unwrap();
    let factor_json = serde_json::to_string(&factors).unwrap();
    // The data export shows the verification (opened), and nothing else of the profile.
    let export = srv
        .admin_get(&format!("/tenants/tc/users/{}/export", user.as_str()))
        .await
        .to_string();
    assert!(export.contains("truecaller"), "{export}");
    for secret in [
        "9876543210",
        "Asha",
        "Raghunathan",
        "asha.raghunathan",
        "nonce-1",
    ] {
        // (The user's own number is theirs to see in the export: its Phone factor.)
        assert!(
            secret == "9876543210" || !export.contains(secret),
            "{secret} in the export"
        );
        assert!(!all.contains(secret), "{secret} in the events");
        assert!(
            !records.contains(secret),
            "{secret} in the verification records"
        );
        assert!(!factor_json.contains(secret), "{secret} in the factor");
    }
}

#[actix_web::test]
async fn bad_profiles_and_tokens_are_refused_and_audited_and_nothing_is_kept() {
    let srv = TestServer::start().await;
    let t = srv.tenant("tcbad", false, true).await;
    let (key, other) = (Signer::new(), Signer::new());
    let at_of = |v: &Value| v["access_token"].as_str().unwrap().to_owned();
    let tokens = login_tokens(&srv.browser(), &t, "openid verify").await;
    let at = at_of(&tokens);

    // No keys pinned yet.
    let good = key.profile(&profile(NUMBER, now(), "n"));
    let (s, _, v) = call(&srv, "tcbad", Some(&at), &good).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("no_keys")), "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("not set up")
    );

    pin(
        &srv,
        "tcbad",
        &[("k1", key.public_key()), ("k2", other.public_key())],
    )
    .await;
    let mut cases: Vec<(&str, Value)> = Vec::new();
    // Tampered: another number in the payload, the signature kept.
    let mut tampered = good.clone();
    tampered["payload"] = json!(STANDARD.encode(profile("+919876500000", now(), "n").to_string()));
    cases.push(("bad_signature", tampered));
    // Signed by a key that is not pinned.
    let stranger = Signer::new();
    cases.push((
        "bad_signature",
        stranger.profile(&profile(NUMBER, now(), "n")),
    ));
    // Signed by k2 but naming k1.
    let mut named = other.profile(&profile(NUMBER, now(), "n"));
    named["keyId"] = json!("k1");
    cases.push(("bad_signature", named));
    let mut unknown = good.clone();
    unknown["keyId"] = json!("k9");
    cases.push(("unknown_key", unknown));
    cases.push(("expired", key.profile(&profile(NUMBER, now() - 3600, "n"))));
    let mut wrong_nonce = good.clone();
    wrong_nonce["nonce"] = json!("another");
    cases.push(("nonce_mismatch", wrong_nonce));
    for alg in ["none", "SHA1withRSA"] {
        let mut b = good.clone();
        b["signatureAlgorithm"] = json!(alg);
        cases.push(("unsupported_algorithm", b));
    }
    let mut garbled = good.clone();
    garbled["signature"] = json!("%%%");
    cases.push(("malformed", garbled));
    cases.push((
        "malformed",
        key.profile(&json!({"requestTime": now(), "phoneNumber": "+1 900 555 0123"})),
    ));
    for (code, body) in &cases {
        let (s, _, v) = call(&srv, "tcbad", Some(&at), body).await;
        assert_eq!((s, v["error"].as_str()), (400, Some(*code)), "{body}: {v}");
        assert!(!v["error_description"].as_str().unwrap().is_empty());
    }

    // The number on another account: refused, whoever holds it.
    srv.admin(
        "/tenants/tcbad/users",
        json!({"email": "holder@tcbad.example", "password": PASSWORD, "email_verified": true}),
    )
    .await;
    let engine = &srv.running.engine;
    let tid = TenantId::parse("tcbad").unwrap();
    let holder_tokens = {
        let mut h = t.clone();
        h.email = "holder@tcbad.example".into();
        login_tokens(&srv.browser(), &h, "openid verify").await
    };
    let holder_id = user_of(&holder_tokens);
    let other_number = "+919876511111";
    let (s, _, v) = call(
        &srv,
        "tcbad",
        Some(&at_of(&holder_tokens)),
        &key.profile(&profile(other_number, now(), "n")),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, _, v) = call(
        &srv,
        "tcbad",
        Some(&at),
        &key.profile(&profile(other_number, now(), "n")),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("phone_unavailable")),
        "{v}"
    );

    // Tokens: none, garbage, and one without the verify scope.
    let (s, challenge, v) = call(&srv, "tcbad", None, &good).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_token")),
        "{v}"
    );
    assert!(
        challenge
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );
    let (s, _, v) = call(&srv, "tcbad", Some("not-a-token"), &good).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_token")),
        "{v}"
    );
    let plain = at_of(&login_tokens(&srv.browser(), &t, "openid").await);
    let (s, challenge, v) = call(&srv, "tcbad", Some(&plain), &good).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (403, Some("insufficient_scope")),
        "{v}"
    );
    let challenge = challenge.unwrap();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("scope=\"verify\""),
        "{challenge}"
    );
    // A body that is not the SDK's.
    let (s, _, v) = call(&srv, "tcbad", Some(&at), &json!({"payload": "x"})).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );

    // Nothing kept for the user: no verification, no phone.
    let user = user_of(&tokens);
    assert!(engine.verify().list(&tid, &user).await.unwrap().is_empty());
    assert!(
        engine
            .store()
            .list_factors(&tid, &user)
            .await
            .unwrap()
            .iter()
            .all(|f| f.kind != FactorKind::Phone)
    );
    assert_eq!(
        engine.verify().list(&tid, &holder_id).await.unwrap().len(),
        1
    );
    // Each refusal is a failure event with its code, and no personal data.
    let events = srv.events("tcbad", "kind=verify.truecaller").await;
    let failed: Vec<&str> = events
        .iter()
        .filter(|e| e["result"] == "failure")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    for code in [
        "no_keys",
        "bad_signature",
        "unknown_key",
        "expired",
        "nonce_mismatch",
        "unsupported_algorithm",
        "malformed",
        "phone_unavailable",
    ] {
        assert!(
            failed.iter().any(|d| d.contains(code)),
            "{code} not audited: {failed:?}"
        );
    }
    assert_eq!(failed.len(), cases.len() + 2, "{failed:?}");
    let all = serde_json::to_string(&events).unwrap();
    assert!(!all.contains("9876") && !all.contains("Asha"), "{all}");
}

#[actix_web::test]
async fn the_truecaller_connector_gives_the_account_its_verified_number() {
    let srv = TestServer::start().await;
    let t = srv.tenant("tcfed", false, true).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tc = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<HashMap<String, String>>>> = Arc::default();
    let s2 = seen.clone();
    let server = HttpServer::new(move || {
        let s3 = s2.clone();
        App::new()
            .route(
                "/v1/token",
                web::post().to(move |form: web::Form<HashMap<String, String>>| {
                    let s3 = s3.clone();
                    async move {
                        s3.lock().unwrap().push(form.into_inner());
                        HttpResponse::Ok().json(json!({
                            "access_token": "tc-access", "expires_in": 3600, "token_type": "Bearer",
                        }))
                    }
                }),
            )
            .route(
                "/v1/userinfo",
                web::get().to(|req: HttpRequest| async move {
                    if req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        != Some("Bearer tc-access")
                    {
                        return HttpResponse::Unauthorized().finish();
                    }
                    // As Truecaller's "Fetching User Profile" page shows it: digits with
                    // the dialling code and no +.
                    HttpResponse::Ok().json(json!({
                        "sub": "13627101294235520",
                        "given_name": "Asha",
                        "family_name": "Raghunathan",
                        "phone_number": "919876522222",
                        "phone_number_country_code": "IN",
                        "phone_number_verified": true,
                        "gender": "female",
                    }))
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);

    let r = srv
        .http
        .put(format!(
            "{}/admin/v1/tenants/tcfed/connectors/truecaller",
            srv.base
        ))
        .bearer_auth(&srv.admin_token)
        .json(&json!({
            "preset": "truecaller",
            "client_id": "tc-client",
            "authorization_endpoint": format!("{tc}/v1/auth"),
            "token_endpoint": format!("{tc}/v1/token"),
            "userinfo_endpoint": format!("{tc}/v1/userinfo"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    let b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |url: String| {
        let b = b.clone();
        async move {
            let r = b.get(&url).send().await.unwrap();
            let loc = r.headers().get(LOCATION).map(|v| {
                url::Url::parse(&url)
                    .unwrap()
                    .join(v.to_str().unwrap())
                    .unwrap()
                    .to_string()
            });
            (r.status().as_u16(), loc, r.text().await.unwrap())
        }
    };
    let (verifier, challenge) = pkce();
    let url = authorize_url(&t, "openid", &challenge, &[("idp_hint", "truecaller")]);
    let (_, loc, _) = get(url).await;
    let (s, loc, _) = get(loc.unwrap()).await;
    assert_eq!(s, 303);
    let upstream = loc.unwrap();
    assert!(
        upstream.starts_with(&format!("{tc}/v1/auth?")),
        "{upstream}"
    );
    assert_eq!(
        query_param(&upstream, "scope").unwrap(),
        "openid profile phone"
    );
    assert_eq!(
        query_param(&upstream, "code_challenge_method").unwrap(),
        "S256"
    );
    assert_eq!(query_param(&upstream, "client_id").unwrap(), "tc-client");
    let state = query_param(&upstream, "state").unwrap();
    let (s, loc, body) = get(format!(
        "{}/tcfed/federation/truecaller/callback?code=tc-code&state={state}",
        srv.base
    ))
    .await;
    assert_eq!(s, 303, "{body}");
    let code = query_param(&loc.unwrap(), "code").expect("back at the client with a code");
    let (s, tokens) = redeem(&reqwest::Client::new(), &t, &code, &verifier).await;
    assert_eq!(s, 200, "{tokens}");
    let sub = jwt_claims(tokens["id_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();

    // Truecaller's token endpoint takes the PKCE verifier and our client id, no secret.
    let form = seen.lock().unwrap()[0].clone();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["client_id"], "tc-client");
    assert_eq!(form["code"], "tc-code");
    assert!(form.get("code_verifier").is_some_and(|v| v.len() >= 43));
    assert!(!form.contains_key("client_secret"));

    // The account (provisioned) holds the verified number: a phone factor, a truecaller
    // verification, and phone sign-in reaches it.
    let tid = TenantId::parse("tcfed").unwrap();
    let user = UserId::from_stored(sub);
    let engine = &srv.running.engine;
    let factors = engine.store().list_factors(&tid, &user).await.unwrap();
    assert!(
        factors
            .iter()
            .any(|f| f.kind == FactorKind::Phone && f.label == "+91********22"),
        "{factors:?}"
    );
    let kept = engine.verify().list(&tid, &user).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].method.as_str(), "truecaller");
    // The link keeps what the preset keeps, sealed: no number or name in the clear.
    let links =
        serde_json::to_string(&engine.store().list_links(&tid, &user).await.unwrap()).unwrap();
    for secret in ["9876522222", "Asha", "Raghunathan", "13627101294235520"] {
        assert!(!links.contains(secret), "{secret} in the link");
    }
    assert_eq!(
        phone_sign_in(&srv, "tcfed", "+919876522222").await,
        user.as_str()
    );
    assert!(texted(srv.dir.path(), "+919876522222"));
    let events = srv.events("tcfed", "kind=verify.truecaller").await;
    assert!(
        events.iter().any(|e| e["result"] == "success"),
        "{events:?}"
    );
}
