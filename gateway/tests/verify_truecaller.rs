//! Truecaller end to end. The OAuth 2.0 + PKCE connector meets a small Truecaller-shaped
//! server on loopback (token and userinfo as Truecaller's OAuth SDK pages show them): the
//! verified number in userinfo becomes a Phone factor that signs in by an SMS code (the
//! development outbox).

mod common;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use common::*;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::FactorKind;

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
