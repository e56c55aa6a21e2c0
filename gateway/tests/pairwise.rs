//! Pairwise subject identifiers (OIDC Core §8.1) over HTTP: a pairwise client sees one
//! `sub` per sector in its ID token, access token, userinfo and introspection, never the
//! user id; clients of one sector agree, other sectors and public clients do not; the
//! engine still finds the user for userinfo, revocation and logout.

mod common;

use common::{TestServer, TestTenant, jwt_claims, login_tokens};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

/// A confidential client of tenant `t` with these options; as a `TestTenant`.
async fn client(s: &TestServer, t: &TestTenant, name: &str, extra: Value) -> TestTenant {
    let mut body = json!({
        "name": name,
        "redirect_uris": [t.redirect_uri],
        "post_logout_redirect_uris": ["http://127.0.0.1:9/bye"],
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let c = s.admin(&format!("/tenants/{}/clients", t.id), body).await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t.clone()
    }
}

/// Serves `doc` as a sector identifier document on loopback (`localhost`, so its host is
/// not the redirect URIs' `127.0.0.1`) to the first few requests; returns its URL.
async fn sector_doc(doc: Value) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = doc.to_string();
    tokio::spawn(async move {
        for _ in 0..8 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(answer.as_bytes()).await;
        }
    });
    format!("http://localhost:{port}/sector.json")
}

async fn post_form(url: &str, form: &[(&str, &str)], bearer: Option<&str>) -> (u16, Value) {
    let mut r = reqwest::Client::new()
        .post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap());
    if let Some(b) = bearer {
        r = r.bearer_auth(b);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn userinfo(t: &TestTenant, access: &str) -> (u16, Value) {
    post_form(&format!("{}/userinfo", t.issuer), &[], Some(access)).await
}

async fn introspect(t: &TestTenant, token: &str) -> Value {
    let secret = t.client_secret.as_deref().unwrap();
    let (status, v) = post_form(
        &format!("{}/introspect", t.issuer),
        &[
            ("token", token),
            ("client_id", &t.client_id),
            ("client_secret", secret),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

#[actix_web::test]
async fn a_pairwise_client_sees_its_sectors_sub_everywhere_and_never_the_user_id() {
    let s = TestServer::start().await;
    let t = s.tenant("pair", false, true).await;
    let pairwise = json!({"subject_type": "pairwise", "first_party": true});
    let a = client(&s, &t, "Shop", pairwise.clone()).await;
    let same_sector = client(&s, &t, "Shop admin", pairwise).await;
    let other_sector = client(
        &s,
        &t,
        "Partner",
        json!({"subject_type": "pairwise", "first_party": true,
               "sector_identifier_uri": sector_doc(json!([t.redirect_uri])).await}),
    )
    .await;

    let b = s.browser();
    let public = login_tokens(&b, &t, "openid offline_access").await;
    let user_id = jwt_claims(public["id_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let tokens = login_tokens(&b, &a, "openid email offline_access").await;
    let (id, access) = (
        tokens["id_token"].as_str().unwrap(),
        tokens["access_token"].as_str().unwrap(),
    );
    let sub = jwt_claims(id)["sub"].as_str().unwrap().to_owned();
    assert_ne!(sub, user_id);
    assert_eq!(sub.len(), 43, "base64url of a SHA-256 HMAC: {sub}");
    assert_eq!(jwt_claims(access)["sub"], sub.as_str());
    // The user id appears nowhere in the client's tokens, not even inside a claim.
    for jwt in [id, access] {
        assert!(
            !jwt_claims(jwt).to_string().contains(&user_id),
            "{}",
            jwt_claims(jwt)
        );
    }
    let (status, info) = userinfo(&a, access).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["sub"], sub.as_str());
    assert_eq!(
        info["email"],
        t.email.as_str(),
        "the engine found the user: {info}"
    );
    let at = introspect(&a, access).await;
    assert_eq!(
        (at["active"].as_bool(), at["sub"].as_str()),
        (Some(true), Some(sub.as_str()))
    );
    let rt = introspect(&a, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(rt["sub"], sub.as_str(), "{rt}");
    // A refresh keeps the sub.
    let (status, refreshed) = common::refresh(&a, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(
        jwt_claims(refreshed["access_token"].as_str().unwrap())["sub"],
        sub.as_str()
    );

    // One sector, one sub; another sector, another.
    let same = login_tokens(&b, &same_sector, "openid").await;
    assert_eq!(
        jwt_claims(same["id_token"].as_str().unwrap())["sub"],
        sub.as_str()
    );
    let other = login_tokens(&b, &other_sector, "openid").await;
    let other_sub = jwt_claims(other["id_token"].as_str().unwrap())["sub"].clone();
    assert_ne!(other_sub, sub.as_str());
    assert_ne!(other_sub, user_id.as_str());

    // Revocation finds the token; userinfo then refuses it.
    let secret = a.client_secret.as_deref().unwrap();
    let (status, _) = post_form(
        &format!("{}/revoke", a.issuer),
        &[
            ("token", access),
            ("client_id", &a.client_id),
            ("client_secret", secret),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = userinfo(&a, access).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (401, Some("invalid_token")),
        "{v}"
    );
    let revoked = s.events("pair", "kind=token.revoked").await;
    assert!(
        revoked.iter().any(|e| e["subject"] == user_id.as_str()),
        "the audit trail names the user: {revoked:?}"
    );

    // The pairwise ID token is a good logout hint for the user's session: no confirmation.
    let mut u = url::Url::parse(&format!("{}/logout", a.issuer)).unwrap();
    u.query_pairs_mut()
        .append_pair("id_token_hint", id)
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9/bye")
        .append_pair("state", "s");
    let (status, loc, page) = b.get(u.as_str()).await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(loc.as_deref(), Some("http://127.0.0.1:9/bye?state=s"));
    let (status, loc, _) = b.get(&format!("{}/account", a.issuer)).await;
    assert_eq!(status, 303, "signed out: {loc:?}");
}

#[actix_web::test]
async fn a_pairwise_client_without_a_sector_is_refused() {
    let s = TestServer::start().await;
    let t = s.tenant("nosector", false, false).await;
    let before = s.admin_get("/tenants/nosector/clients").await;
    for body in [
        json!({"name": "Two hosts", "subject_type": "pairwise",
               "redirect_uris": ["https://a.example/cb", "https://b.example/cb"]}),
        json!({"name": "Native", "subject_type": "pairwise",
               "redirect_uris": ["com.example.app:/cb"]}),
        json!({"name": "Plain http sector", "subject_type": "pairwise",
               "redirect_uris": ["https://a.example/cb"],
               "sector_identifier_uri": "http://a.example/s.json"}),
        json!({"name": "Unknown type", "subject_type": "secret",
               "redirect_uris": ["https://a.example/cb"]}),
        // The sector's document must list every redirect URI (OIDC Core §8.1)...
        json!({"name": "Not listed", "subject_type": "pairwise",
               "redirect_uris": ["https://a.example/cb", "https://b.example/cb"],
               "sector_identifier_uri": sector_doc(json!(["https://a.example/cb"])).await}),
        // ...be a JSON array...
        json!({"name": "Not a list", "subject_type": "pairwise",
               "redirect_uris": ["https://a.example/cb"],
               "sector_identifier_uri": sector_doc(json!({"uris": ["https://a.example/cb"]})).await}),
        // ...and be there.
        json!({"name": "Nothing there", "subject_type": "pairwise",
               "redirect_uris": ["https://a.example/cb"],
               "sector_identifier_uri": "http://127.0.0.1:9/sector.json"}),
    ] {
        let r = s
            .http
            .post(format!("{}/admin/v1/tenants/{}/clients", s.base, t.id))
            .bearer_auth(&s.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert!((400..500).contains(&status), "{body}: {status} {text}");
        if body["name"] == "Not listed" {
            assert!(text.contains("does not list the redirect URI"), "{text}");
        }
    }
    assert_eq!(
        s.admin_get("/tenants/nosector/clients").await,
        before,
        "nothing was created"
    );
    // Two hosts with a sector_identifier_uri are fine.
    s.admin(
        "/tenants/nosector/clients",
        json!({"name": "Two hosts", "subject_type": "pairwise",
               "redirect_uris": ["https://a.example/cb", "https://b.example/cb"],
               "sector_identifier_uri": sector_doc(json!(["https://b.example/cb", "https://a.example/cb"])).await}),
    )
    .await;
    let doc: Value = common::discovery(&t).await;
    assert_eq!(
        doc["subject_types_supported"],
        json!(["public", "pairwise"])
    );
}
