//! Claims from verification through a real code flow: `phone_number` and
//! `phone_number_verified` with the `phone` scope once the user has a confirmed phone, and
//! `verified_claims` (OpenID Connect for Identity Assurance 1.0) in the ID token and at
//! userinfo only for a client the tenant releases them to, with the `verified_claims`
//! scope; absent otherwise. Discovery lists what is supported.

mod common;

use common::*;
use serde_json::{Value, json};
use tollgate_engine::RequestMeta;
use tollgate_engine::ids::{Email, TenantId};
use tollgate_engine::model::verification::{NameMatch, Verification, VerificationMethod};
use tollgate_engine::runtime::delivery::Channel;

const NUMBER: &str = "+919876543210";

async fn userinfo(t: &TestTenant, access_token: &str) -> Value {
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// The ID token's claims and the userinfo answer of a fresh sign-in with `scope`.
async fn claims(b: &Browser, t: &TestTenant, scope: &str) -> (Value, Value) {
    let tokens = login_tokens(b, t, scope).await;
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    let info = userinfo(t, tokens["access_token"].as_str().unwrap()).await;
    (id, info)
}

/// The code of the newest text to `to` in the development outbox (waits for it).
async fn texted_code(dir: &std::path::Path, to: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = std::fs::read_dir(dir.join("outbox"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|text| serde_json::from_str::<Value>(&text).ok())
            .find(|m| m["to"] == to);
        if let Some(m) = found {
            let text = m["text"].as_str().unwrap();
            return text
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .unwrap_or_else(|| panic!("no code in {text}"))
                .to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no text to {to} in the outbox"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn verification_claims_reach_released_clients_only() {
    let s = TestServer::start().await;
    let t = s.tenant("vclaims", false, true).await;
    let c = s
        .admin(
            &format!("/tenants/{}/clients", t.id),
            json!({
                "name": "Not released",
                "redirect_uris": [t.redirect_uri],
                "public": false,
                "first_party": true,
            }),
        )
        .await;
    let other = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t.clone()
    };
    let r = s
        .http
        .put(format!("{}/admin/v1/tenants/{}/verification", s.base, t.id))
        .bearer_auth(&s.admin_token)
        .json(&json!({"release": {"clients": [t.client_id]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Discovery says what is supported.
    let d = discovery(&t).await;
    assert_eq!(d["verified_claims_supported"], true);
    assert_eq!(
        d["trust_frameworks_supported"],
        json!(["in_uidai_offline_ekyc", "in_digilocker"])
    );
    assert_eq!(d["evidence_supported"], json!(["electronic_record"]));
    assert_eq!(
        d["electronic_records_supported"],
        json!(["population_register"])
    );
    assert_eq!(d["claims_in_verified_claims_supported"], json!(["name"]));
    assert_eq!(d["claims_parameter_supported"], false);
    for claim in ["phone_number", "phone_number_verified", "verified_claims"] {
        assert!(
            d["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(claim)),
            "{claim} not in {}",
            d["claims_supported"]
        );
    }
    for scope in ["phone", "verified_claims", "verify"] {
        assert!(
            d["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(scope)),
            "{scope}"
        );
    }

    // Nothing verified yet: no such claims, even where they would be released.
    let b = s.browser();
    let all = "openid profile phone verified_claims";
    let (id, info) = claims(&b, &t, all).await;
    for v in [&id, &info] {
        assert!(v.get("verified_claims").is_none(), "{v}");
        assert!(v.get("phone_number").is_none(), "{v}");
        assert!(v.get("phone_number_verified").is_none(), "{v}");
    }

    // The user confirms a phone, and passes an Aadhaar offline e-KYC check.
    let e = &s.running.engine;
    let tid = TenantId::parse(&t.id).unwrap();
    let user = e
        .user_by_email(&tid, &Email::parse(&t.email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let meta = RequestMeta::default();
    let sent = e
        .signin()
        .phone_enrol_start(&tid, &user.id, NUMBER, Channel::Sms, None, &meta)
        .await
        .unwrap();
    let code = texted_code(s.dir.path(), NUMBER).await;
    e.signin()
        .phone_enrol_confirm(&tid, &user.id, &sent.handle, &code, &meta)
        .await
        .unwrap();
    let tenant = e.tenant(&tid).await.unwrap();
    let now = e.now();
    e.verify()
        .record(
            &tenant,
            &user.id,
            Verification {
                id: String::new(),
                method: VerificationMethod::AadhaarOffline,
                verified_at: now,
                issued_at: Some(now - 600),
                name_match: NameMatch::Match,
                aadhaar_last4: Some("4821".into()),
                name_hash: Some(e.verify().keyed_hash(&tid, "kyc-name", "ada lovelace")),
                dob_hash: None,
                mobile_match: Some(true),
                email_match: None,
            },
            &meta,
        )
        .await
        .unwrap();

    // The released client, with the scope: in the ID token and at userinfo.
    let (id, info) = claims(&b, &t, all).await;
    let vc = &id["verified_claims"];
    assert_eq!(vc["claims"], json!({"name": "Ada Lovelace"}), "{id}");
    let v = &vc["verification"];
    assert_eq!(v["trust_framework"], "in_uidai_offline_ekyc");
    assert_eq!(v["assurance_level"], "substantial");
    assert!(v["time"].as_str().unwrap().ends_with('Z'), "{v}");
    let ev = &v["evidence"][0];
    assert_eq!(ev["type"], "electronic_record");
    assert_eq!(ev["method"], "aadhaar_offline");
    assert_eq!(ev["check_details"][0]["check_method"], "vcrypt");
    assert_eq!(ev["record"]["type"], "population_register");
    assert_eq!(ev["record"]["source"]["name"], "UIDAI");
    assert_eq!(info["verified_claims"], *vc, "userinfo says the same");
    assert!(
        !id.to_string().contains("4821") && !info.to_string().contains("4821"),
        "no Aadhaar digits leave"
    );
    assert_eq!(info["phone_number"], NUMBER);
    assert_eq!(info["phone_number_verified"], true);

    // The released client without the scope: no verified_claims; phone only with `phone`.
    let (id, info) = claims(&b, &t, "openid profile").await;
    for v in [&id, &info] {
        assert!(v.get("verified_claims").is_none(), "{v}");
        assert!(v.get("phone_number").is_none(), "{v}");
    }

    // Another client, not released, even with the scope: none; its phone claims stand.
    let (id, info) = claims(&b, &other, all).await;
    assert!(id.get("verified_claims").is_none(), "{id}");
    assert!(info.get("verified_claims").is_none(), "{info}");
    assert_eq!(info["phone_number"], NUMBER);
    assert_eq!(info["phone_number_verified"], true);

    // The data export carries the verification (opened); deleting the account removes
    // it from the store, and nothing is left to export.
    let export = s
        .admin_get(&format!("/tenants/{}/users/{}/export", t.id, user.id))
        .await;
    let kept = export["verifications"].as_array().unwrap();
    assert_eq!(kept.len(), 1, "{export}");
    assert_eq!(kept[0]["method"], "aadhaar_offline");
    assert_eq!(kept[0]["aadhaar_last4"], "4821");
    let r = s
        .http
        .delete(format!(
            "{}/admin/v1/tenants/{}/users/{}",
            s.base, t.id, user.id
        ))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert!(
        e.store()
            .list_verifications(&tid, &user.id)
            .await
            .unwrap()
            .is_empty()
    );
    let r = s
        .http
        .get(format!(
            "{}/admin/v1/tenants/{}/users/{}/export",
            s.base, t.id, user.id
        ))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// A DigiLocker stand-in on loopback: token and userinfo (`/user`), as the preset calls them.
fn digilocker_upstream() -> String {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(|| {
        App::new()
            .route(
                "/token",
                web::post().to(|| async {
                    HttpResponse::Ok().json(json!({
                        "access_token": "dl-access", "expires_in": 3600, "token_type": "Bearer",
                    }))
                }),
            )
            .route(
                "/user",
                web::get().to(|req: HttpRequest| async move {
                    let auth = req.headers().get("authorization");
                    if auth.and_then(|v| v.to_str().ok()) != Some("Bearer dl-access") {
                        return HttpResponse::Unauthorized().finish();
                    }
                    HttpResponse::Ok().json(json!({
                        "digilockerid": "d1a2b3c4-0000-4000-8000-000000000001",
                        "name": "Smt. Meera  BAI",
                        "dob": "01011990",
                        "gender": "F",
                    }))
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    base
}

/// Signs in through the DigiLocker connector (a new account on first use); the tokens.
async fn digilocker_sign_in(b: &reqwest::Client, t: &TestTenant, dl: &str, scope: &str) -> Value {
    let get = |url: String| async move {
        let r = b.get(&url).send().await.unwrap();
        let loc = r.headers().get(reqwest::header::LOCATION).map(|v| {
            url::Url::parse(&url)
                .unwrap()
                .join(v.to_str().unwrap())
                .unwrap()
                .to_string()
        });
        (r.status().as_u16(), loc)
    };
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        t,
        scope,
        &challenge,
        &[("idp_hint", "digilocker"), ("prompt", "login")],
    );
    let (_, loc) = get(url).await;
    let (_, loc) = get(loc.unwrap()).await;
    let upstream = loc.unwrap();
    assert!(
        upstream.starts_with(&format!("{dl}/authorize?")),
        "{upstream}"
    );
    let state = query_param(&upstream, "state").unwrap();
    let (s, loc) = get(format!(
        "{}/federation/digilocker/callback?code=dl-code&state={state}",
        t.issuer
    ))
    .await;
    assert_eq!(s, 303);
    let back = loc.unwrap();
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (s, tokens) = redeem(&reqwest::Client::new(), t, &code, &verifier).await;
    assert_eq!(s, 200, "{tokens}");
    tokens
}

#[actix_web::test]
async fn a_digilocker_sign_in_is_kept_as_verification_evidence() {
    let s = TestServer::start().await;
    let t = s.tenant("vcdl", false, true).await;
    let dl = digilocker_upstream();
    let r = s
        .http
        .put(format!(
            "{}/admin/v1/tenants/vcdl/connectors/digilocker",
            s.base
        ))
        .bearer_auth(&s.admin_token)
        .json(&json!({
            "preset": "digilocker",
            "client_id": "dl-client",
            "client_secret": "dl-secret",
            "authorization_endpoint": format!("{dl}/authorize"),
            "token_endpoint": format!("{dl}/token"),
            "userinfo_endpoint": format!("{dl}/user"),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let r = s
        .http
        .put(format!("{}/admin/v1/tenants/vcdl/verification", s.base))
        .bearer_auth(&s.admin_token)
        .json(&json!({"release": {"clients": [t.client_id]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let tokens = digilocker_sign_in(&b, &t, &dl, "openid profile verified_claims").await;
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    // The provisioned profile took DigiLocker's name, so it matches after normalisation
    // (honorific, case, spacing); DigiLocker's date of birth is nowhere.
    let vc = &id["verified_claims"];
    assert_eq!(vc["claims"], json!({"name": "Smt. Meera  BAI"}), "{id}");
    assert_eq!(vc["verification"]["trust_framework"], "in_digilocker");
    assert_eq!(vc["verification"]["assurance_level"], "substantial");
    let ev = &vc["verification"]["evidence"][0];
    assert_eq!(ev["method"], "digilocker");
    assert_eq!(ev["check_details"][0]["check_method"], "auth");
    assert_eq!(ev["record"]["source"]["name"], "DigiLocker");
    assert!(!id.to_string().contains("1990"), "{id}");

    // Kept once: a second sign-in soon after adds no record.
    let _ = digilocker_sign_in(&b, &t, &dl, "openid").await;
    let e = &s.running.engine;
    let tid = TenantId::parse("vcdl").unwrap();
    let user = tollgate_engine::ids::UserId::from_stored(id["sub"].as_str().unwrap().to_owned());
    let kept = e.verify().list(&tid, &user).await.unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].method, VerificationMethod::Digilocker);
    assert_eq!(kept[0].name_match, NameMatch::Match);
    assert_eq!(kept[0].aadhaar_last4, None);
    let events = s.events("vcdl", "kind=verify.digilocker").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["result"], "success");
    assert_eq!(events[0]["detail"], "name_match:match");
    let all = serde_json::to_string(&events).unwrap();
    assert!(!all.contains("Meera") && !all.contains("1990"), "{all}");
}
