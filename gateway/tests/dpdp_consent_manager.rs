//! DPDP Rules 2025, Rule 4: consent receipts and consent managers. A user grants on the
//! hosted pages; every answer leaves a receipt (notice version, language, time, channel)
//! the user downloads; a consent manager registered with the tenant lists the user's
//! consents and withdraws one on their behalf, audited, and the next sign-in asks again.
//! Bad callers and bad targets get clear errors.

mod common;

use common::*;
use serde_json::{Value, json};

async fn admin_put(srv: &TestServer, path: &str, body: Value) -> (u16, Value) {
    let r = srv
        .http
        .put(format!("{}/admin/v1{path}", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn sign_in(b: &Browser, t: &TestTenant) -> String {
    let (_, _, page) = b.get(&format!("{}/login", t.issuer)).await;
    let csrf = hidden(&page, "csrf").expect("csrf");
    let (s, loc, body) = b
        .post_form(
            &format!("{}/login", t.issuer),
            &[("email", &t.email), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    loc.unwrap_or_default()
}

/// The consent-manager API as a client with these credentials.
async fn cm(
    srv: &TestServer,
    method: reqwest::Method,
    url: &str,
    creds: (&str, &str),
) -> (u16, Value) {
    let r = srv
        .http
        .request(method, url)
        .basic_auth(creds.0, Some(creds.1))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn receipts(b: &Browser, t: &TestTenant) -> Value {
    let r = b
        .http
        .get(format!("{}/account/consent-receipts", t.issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("consent-receipts.json")
    );
    r.json().await.unwrap()
}

#[actix_web::test]
async fn a_consent_manager_withdraws_a_consent_and_the_next_sign_in_asks_again() {
    let srv = TestServer::start().await;
    let t = srv.tenant("cmgr", false, true).await;
    let (s, v) = admin_put(
        &srv,
        "/tenants/cmgr/purposes",
        json!({"purposes": [
            {"id": "terms", "description": "The terms of service", "version": 1, "required": true},
            {"id": "news", "description": "Product news by email", "version": 3},
        ]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let manager = srv
        .admin(
            "/tenants/cmgr/clients",
            json!({"name": "Consent manager", "redirect_uris": ["http://127.0.0.1:9/cm"]}),
        )
        .await;
    let (cm_id, cm_secret) = (
        manager["client_id"].as_str().unwrap().to_owned(),
        manager["client_secret"].as_str().unwrap().to_owned(),
    );
    let public = srv
        .admin(
            "/tenants/cmgr/clients",
            json!({"name": "SPA", "redirect_uris": ["http://127.0.0.1:9/spa"], "public": true}),
        )
        .await;

    // Registering: only the tenant's confidential clients can be consent managers.
    for (managers, says) in [
        (json!(["nosuchclient"]), "no such client in this tenant"),
        (
            json!([public["client_id"]]),
            "a confidential client is needed",
        ),
        (json!([cm_id, cm_id]), "listed twice"),
    ] {
        let (s, v) = admin_put(
            &srv,
            "/tenants/cmgr/notices",
            json!({"consent_managers": managers}),
        )
        .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_request")),
            "{v}"
        );
        assert!(
            v["error_description"].as_str().unwrap().contains(says),
            "{v}"
        );
    }
    let (s, v) = admin_put(
        &srv,
        "/tenants/cmgr/notices",
        json!({"consent_managers": [cm_id]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["consent_managers"], json!([cm_id]));
    let got = srv.admin_get("/tenants/cmgr/notices").await;
    assert_eq!(got["consent_managers"], json!([cm_id]), "{got}");

    // The user agrees to the terms at sign-in (English) and to news on the account page.
    let b = srv.browser();
    assert!(sign_in(&b, &t).await.ends_with("/account/complete"));
    let (_, _, page) = b.get(&format!("{}/account/complete", t.issuer)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/complete", t.issuer),
            &[("csrf", &csrf), ("purpose.terms", "1")],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let (_, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    assert!(
        page.contains("/cmgr/account/consent-receipts"),
        "the account page links the receipts"
    );
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/purposes", t.issuer),
            &[
                ("purpose", "news"),
                ("version", "3"),
                ("decision", "grant"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 303, "{body}");
    let doc = receipts(&b, &t).await;
    assert_eq!(doc["format"], "tollgate.consent-receipts.v1");
    let sub = doc["sub"].as_str().unwrap().to_owned();
    let r = doc["receipts"].as_array().unwrap();
    assert_eq!(r.len(), 2, "{doc}");
    assert_eq!(
        (&r[0]["purpose"], &r[0]["version"], &r[0]["granted"]),
        (&json!("terms"), &json!(1), &json!(true))
    );
    assert_eq!(
        (&r[0]["channel"], &r[0]["language"]),
        (&json!("sign_up_page"), &json!("en"))
    );
    assert_eq!(
        (&r[1]["purpose"], &r[1]["version"], &r[1]["channel"]),
        (&json!("news"), &json!(3), &json!("account_page"))
    );
    assert!(r[0]["at"].as_u64().unwrap() > 0);
    assert!(r[0].get("manager").is_none());

    // The consent manager lists the user's consents.
    let base = format!("{}/api/consent-manager/users", t.issuer);
    let creds = (cm_id.as_str(), cm_secret.as_str());
    let (s, v) = cm(
        &srv,
        reqwest::Method::GET,
        &format!("{base}/{sub}/consents"),
        creds,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["sub"], sub.as_str());
    let consents = v["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 2);
    assert_eq!(
        (&consents[0]["purpose"], &consents[0]["granted"]),
        (&json!("terms"), &json!(true))
    );
    assert_eq!(consents[0]["answer"]["language"], "en");
    assert_eq!(consents[1]["answer"]["notice_version"], 3);

    // It withdraws the terms (DELETE), and the news (POST …/withdraw).
    let (s, v) = cm(
        &srv,
        reqwest::Method::DELETE,
        &format!("{base}/{sub}/consents/terms"),
        creds,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (&v["purpose"], &v["granted"], &v["consent_manager"]),
        (&json!("terms"), &json!(false), &json!(cm_id))
    );
    let (s, v) = cm(
        &srv,
        reqwest::Method::POST,
        &format!("{base}/{sub}/consents/news/withdraw"),
        creds,
    )
    .await;
    assert_eq!((s, &v["granted"]), (200, &json!(false)), "{v}");
    let (_, v) = cm(
        &srv,
        reqwest::Method::GET,
        &format!("{base}/{sub}/consents"),
        creds,
    )
    .await;
    assert!(
        v["consents"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["granted"] == false),
        "{v}"
    );

    // Each call is audited, naming the manager; the receipts say who acted.
    let withdrawn = srv.events("cmgr", "kind=consent.purpose_withdrawn").await;
    assert_eq!(withdrawn.len(), 2, "{withdrawn:?}");
    for e in &withdrawn {
        assert_eq!(e["actor"], format!("consent_manager:{cm_id}"));
        assert_eq!(e["subject"], sub.as_str());
    }
    let listed = srv.events("cmgr", "kind=consent_manager.listed").await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["actor"], format!("consent_manager:{cm_id}"));
    let doc = receipts(&b, &t).await;
    let r = doc["receipts"].as_array().unwrap();
    assert_eq!(r.len(), 4, "{doc}");
    for w in &r[2..] {
        assert_eq!(
            (&w["channel"], &w["granted"], &w["manager"]),
            (&json!("consent_manager"), &json!(false), &json!(cm_id)),
            "{w}"
        );
    }
    // The tenant's own back end records an answer it collected (channel `api`).
    let api = format!("/tenants/cmgr/users/{sub}/purposes/news");
    let (s, v) = admin_put(&srv, &api, json!({"granted": true, "language": "hi"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            &v["granted"],
            &v["notice_version"],
            &v["language"],
            &v["channel"]
        ),
        (&json!(true), &json!(3), &json!("hi"), &json!("api"))
    );
    for (path, body, status, says) in [
        (
            api.clone(),
            json!({"granted": true, "language": "fr"}),
            400,
            "language \"fr\"",
        ),
        (
            format!("/tenants/cmgr/users/{sub}/purposes/shoe_size"),
            json!({"granted": true}),
            404,
            "",
        ),
        (
            "/tenants/cmgr/users/nobody/purposes/news".to_owned(),
            json!({"granted": true}),
            404,
            "",
        ),
    ] {
        let (s, v) = admin_put(&srv, &path, body).await;
        assert_eq!(s, status, "{path}: {v}");
        assert!(
            v["error_description"].as_str().unwrap_or("").contains(says),
            "{v}"
        );
    }
    let unauthenticated = srv
        .http
        .put(format!("{}/admin/v1{api}", srv.base))
        .json(&json!({"granted": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
    let granted = srv.events("cmgr", "kind=consent.purpose_granted").await;
    assert_eq!(granted[0]["actor"], "admin", "{granted:?}");
    assert_eq!(granted[0]["subject"], sub.as_str());
    let doc = receipts(&b, &t).await;
    let r = doc["receipts"].as_array().unwrap();
    assert_eq!(r.len(), 5, "{doc}");
    assert_eq!(
        (&r[4]["channel"], &r[4]["language"], &r[4]["granted"]),
        (&json!("api"), &json!("hi"), &json!(true))
    );
    // Withdraw it again through the manager, for what follows.
    let (s, _) = cm(
        &srv,
        reqwest::Method::DELETE,
        &format!("{base}/{sub}/consents/news"),
        creds,
    )
    .await;
    assert_eq!(s, 200);

    // The data-subject export carries the receipts too.
    let (_, _, export) = b.get(&format!("{}/account/export", t.issuer)).await;
    let export: Value = serde_json::from_str(&export).unwrap();
    assert_eq!(export["consent_receipts"].as_array().unwrap().len(), 6);

    // The next sign-in asks for the terms again.
    let c = srv.browser();
    assert!(sign_in(&c, &t).await.ends_with("/account/complete"));
    let (_, _, page) = c.get(&format!("{}/account/complete", t.issuer)).await;
    assert!(page.contains("The terms of service"), "{page}");

    // Bad callers and bad targets.
    let wrong_secret = cm(
        &srv,
        reqwest::Method::GET,
        &format!("{base}/{sub}/consents"),
        (&cm_id, "not-the-secret"),
    )
    .await;
    assert_eq!(
        (wrong_secret.0, wrong_secret.1["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let app = (t.client_id.as_str(), t.client_secret.as_deref().unwrap());
    let (s, v) = cm(
        &srv,
        reqwest::Method::DELETE,
        &format!("{base}/{sub}/consents/news"),
        app,
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{v}"
    );
    assert_eq!(
        v["error_description"],
        "this client is not a consent manager of this tenant"
    );
    let (s, v) = cm(
        &srv,
        reqwest::Method::DELETE,
        &format!("{base}/{sub}/consents/shoe_size"),
        creds,
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{v}");
    // Another tenant's user is not this tenant's to touch.
    let other = srv.tenant("cmother", false, true).await;
    let o = srv.browser();
    sign_in(&o, &other).await;
    let (_, _, export) = o.get(&format!("{}/account/export", other.issuer)).await;
    let other_sub = serde_json::from_str::<Value>(&export).unwrap()["profile"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for url in [
        format!("{base}/{other_sub}/consents"),
        format!("{base}/not%20an%20id/consents"),
    ] {
        let (s, v) = cm(&srv, reqwest::Method::GET, &url, creds).await;
        assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{v}");
    }
    let refused = srv.events("cmgr", "kind=consent_manager.refused").await;
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(refused[0]["actor"], format!("consent_manager:{cm_id}"));
    assert_eq!(refused[0]["result"], "failure", "{refused:?}");
}
