//! Token exchange (RFC 8693) over HTTP: a service exchanges a user's access token for one
//! with another audience (an API) or fewer scopes, and with its own token as actor gets a
//! delegated token (`act`); the client's policy decides the subject token types, the
//! audiences and delegation. Every bad input gets the RFC's error code and changes
//! nothing.

mod common;

use common::{
    PASSWORD, TestServer, TestTenant, authorize_url, jwt_claims, pkce, query_param, redeem,
    token_with,
};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const ID: &str = "urn:ietf:params:oauth:token-type:id_token";
const ORDERS: &str = "https://orders.example/api";
const FULFILMENT: &str = "https://fulfilment.example/";
const SECRET: &str = "https://secret.example/";

struct Fixture {
    s: TestServer,
    /// The web app the user signs in to.
    web: TestTenant,
    /// The orders service: exchanges for fulfilment and orders, may delegate.
    orders: TestTenant,
    /// A service that may exchange but not delegate.
    plain: TestTenant,
    /// The user's tokens at the web app, for the orders API.
    user: Value,
}

async fn confidential(s: &TestServer, t: &TestTenant, body: Value) -> TestTenant {
    let c = s.admin(&format!("/tenants/{}/clients", t.id), body).await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t.clone()
    }
}

async fn setup(id: &str) -> Fixture {
    let s = TestServer::start().await;
    let web = s.tenant(id, false, true).await;
    for (identifier, scopes) in [
        (ORDERS, json!(["read:orders", "write:orders"])),
        (FULFILMENT, json!(["read:orders", "ship"])),
        (SECRET, json!(["admin"])),
    ] {
        s.admin(
            &format!("/tenants/{id}/apis"),
            json!({"identifier": identifier, "name": identifier, "scopes": scopes}),
        )
        .await;
    }
    let orders = confidential(
        &s,
        &web,
        json!({
            "name": "Orders service",
            "grant_types": [EXCHANGE, "client_credentials"],
            "api_grants": {FULFILMENT: ["ship"]},
            "token_exchange": {
                "subject_token_types": [ACCESS, ID],
                "audiences": [FULFILMENT, ORDERS],
                "delegation": true,
            },
        }),
    )
    .await;
    let plain = confidential(
        &s,
        &web,
        json!({
            "name": "Reports",
            "grant_types": [EXCHANGE],
            "token_exchange": {"audiences": [FULFILMENT]},
        }),
    )
    .await;
    let b = s.browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &web,
        "openid email offline_access read:orders write:orders",
        &challenge,
        &[("resource", ORDERS)],
    );
    let back = b.authorize(&url, &web.email, PASSWORD).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (status, user) = redeem(&reqwest::Client::new(), &web, &code, &verifier).await;
    assert_eq!(status, 200, "{user}");
    Fixture {
        s,
        web,
        orders,
        plain,
        user,
    }
}

async fn exchange(c: &TestTenant, params: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![("grant_type", EXCHANGE)];
    form.extend_from_slice(params);
    token_with(&reqwest::Client::new(), c, &form).await
}

/// A token request's parameters, owned.
type Params = Vec<(&'static str, String)>;

fn error(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

async fn userinfo(t: &TestTenant, access: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[actix_web::test]
async fn a_service_exchanges_a_users_token_for_another_audience_or_fewer_scopes() {
    let f = setup("xchg").await;
    let subject = f.user["access_token"].as_str().unwrap();
    let before = jwt_claims(subject);
    let (status, v) = exchange(
        &f.orders,
        &[
            ("subject_token", subject),
            ("subject_token_type", ACCESS),
            ("resource", FULFILMENT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["issued_token_type"], ACCESS);
    assert_eq!(v["token_type"], "Bearer");
    assert!(
        v.get("refresh_token").is_none() && v.get("id_token").is_none(),
        "{v}"
    );
    // What the subject token had that means something at fulfilment.
    assert_eq!(v["scope"], "openid email read:orders");
    let at = jwt_claims(v["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], FULFILMENT);
    assert_eq!(at["sub"], before["sub"]);
    assert_eq!(at["client_id"], f.orders.client_id.as_str());
    assert!(at.get("act").is_none(), "{at}");
    assert!(
        at["exp"].as_u64() <= before["exp"].as_u64(),
        "never outlives the subject"
    );
    assert_eq!(
        userinfo(&f.web, v["access_token"].as_str().unwrap()).await,
        200
    );

    // Downscoping at the same API, named as `audience`.
    let (status, v) = exchange(
        &f.orders,
        &[
            ("subject_token", subject),
            ("subject_token_type", ACCESS),
            ("audience", ORDERS),
            ("scope", "read:orders"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        jwt_claims(v["access_token"].as_str().unwrap())["scope"],
        "read:orders"
    );

    // An ID token as the subject (this client's policy allows it).
    let (status, v) = exchange(
        &f.orders,
        &[
            ("subject_token", f.user["id_token"].as_str().unwrap()),
            ("subject_token_type", ID),
            ("resource", FULFILMENT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["scope"], "openid");

    let events = f.s.events("xchg", "kind=token.exchange").await;
    assert_eq!(events.len(), 3, "{events:?}");
}

#[actix_web::test]
async fn delegation_names_the_actor_and_chains() {
    let f = setup("deleg").await;
    let subject = f.user["access_token"].as_str().unwrap();
    let (status, own) = token_with(
        &reqwest::Client::new(),
        &f.orders,
        &[
            ("grant_type", "client_credentials"),
            ("resource", FULFILMENT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{own}");
    let actor = own["access_token"].as_str().unwrap();
    let (status, v) = exchange(
        &f.orders,
        &[
            ("subject_token", subject),
            ("subject_token_type", ACCESS),
            ("actor_token", actor),
            ("actor_token_type", ACCESS),
            ("resource", ORDERS),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let delegated = v["access_token"].as_str().unwrap().to_owned();
    let at = jwt_claims(&delegated);
    assert_eq!(
        at["sub"],
        jwt_claims(subject)["sub"],
        "still the user's token"
    );
    assert_eq!(at["act"]["sub"], f.orders.client_id.as_str(), "{at}");
    assert_eq!(at["act"]["client_id"], f.orders.client_id.as_str());

    // Exchanged again by the same actor: the earlier delegation nests (RFC 8693 §4.1).
    let (status, v) = exchange(
        &f.orders,
        &[
            ("subject_token", &delegated),
            ("subject_token_type", ACCESS),
            ("actor_token", actor),
            ("actor_token_type", ACCESS),
            ("resource", FULFILMENT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let at = jwt_claims(v["access_token"].as_str().unwrap());
    assert_eq!(at["act"]["act"]["sub"], f.orders.client_id.as_str(), "{at}");

    // A client whose policy has no delegation; an actor token of another client.
    let (status, v) = exchange(
        &f.plain,
        &[
            ("subject_token", subject),
            ("subject_token_type", ACCESS),
            ("actor_token", actor),
            ("actor_token_type", ACCESS),
        ],
    )
    .await;
    assert_eq!((status, error(&v)), (400, "unauthorized_client"), "{v}");
    let (status, v) = exchange(
        &f.orders,
        &[
            ("subject_token", subject),
            ("subject_token_type", ACCESS),
            ("actor_token", subject),
            ("actor_token_type", ACCESS),
            ("resource", ORDERS),
        ],
    )
    .await;
    assert_eq!((status, error(&v)), (400, "invalid_grant"), "{v}");
    let (status, v) = exchange(
        &f.orders,
        &[
            ("subject_token", subject),
            ("subject_token_type", ACCESS),
            ("actor_token", actor),
            ("resource", ORDERS),
        ],
    )
    .await;
    assert_eq!((status, error(&v)), (400, "invalid_request"), "{v}");
}

#[actix_web::test]
async fn bad_exchanges_get_the_protocols_answers_and_change_nothing() {
    let f = setup("badx").await;
    let subject = f.user["access_token"].as_str().unwrap();
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut p: Vec<(&str, String)> = vec![
            ("subject_token", subject.to_owned()),
            ("subject_token_type", ACCESS.to_owned()),
        ];
        for (k, v) in extra {
            p.retain(|(pk, _)| pk != k);
            p.push((k, (*v).to_owned()));
        }
        p
    };
    let cases: Vec<(&TestTenant, Params, &str)> = vec![
        // Forbidden audiences: an API outside the policy, an unknown one, two at once.
        (&f.orders, with(&[("resource", SECRET)]), "invalid_target"),
        (
            &f.orders,
            with(&[("resource", "https://nowhere.example/")]),
            "invalid_target",
        ),
        (&f.orders, with(&[]), "invalid_target"),
        (
            &f.orders,
            with(&[("resource", ORDERS), ("audience", FULFILMENT)]),
            "invalid_target",
        ),
        // More scope than the subject token has, or one meaningless at the audience.
        (
            &f.orders,
            with(&[("resource", FULFILMENT), ("scope", "read:orders ship")]),
            "invalid_scope",
        ),
        (
            &f.orders,
            with(&[("resource", FULFILMENT), ("scope", "write:orders")]),
            "invalid_scope",
        ),
        (
            &f.orders,
            with(&[("resource", ORDERS), ("scope", "profile")]),
            "invalid_scope",
        ),
        // Bad subject tokens and types.
        (
            &f.orders,
            with(&[("resource", ORDERS), ("subject_token", "not.a.token")]),
            "invalid_grant",
        ),
        (
            &f.orders,
            with(&[
                ("resource", ORDERS),
                ("subject_token_type", "urn:example:saml"),
            ]),
            "invalid_request",
        ),
        (
            &f.plain,
            with(&[("subject_token_type", ID)]),
            "unauthorized_client",
        ),
        (
            &f.orders,
            with(&[("resource", ORDERS), ("requested_token_type", ID)]),
            "invalid_request",
        ),
        // A client without the grant.
        (&f.web, with(&[("resource", ORDERS)]), "unauthorized_client"),
    ];
    for (client, params, want) in &cases {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, v) = exchange(client, &params).await;
        assert_eq!((status, error(&v)), (400, *want), "{params:?}: {v}");
    }
    let (status, v) = exchange(&f.orders, &[("subject_token_type", ACCESS)]).await;
    assert_eq!((status, error(&v)), (400, "invalid_request"), "{v}");
    // Nothing changed: no exchange was recorded, the subject token still works, and a
    // good exchange still succeeds.
    assert!(f.s.events("badx", "kind=token.exchange").await.is_empty());
    assert_eq!(userinfo(&f.web, subject).await, 200);
    let (status, good) = exchange(
        &f.orders,
        &[
            ("subject_token", subject),
            ("subject_token_type", ACCESS),
            ("resource", FULFILMENT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{good}");

    // Revoking the user's refresh chain revokes what was exchanged from its tokens.
    let secret = f.web.client_secret.clone().unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/revoke", f.web.issuer))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("token", f.user["refresh_token"].as_str().unwrap()),
                ("client_id", &f.web.client_id),
                ("client_secret", &secret),
            ])
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        userinfo(&f.web, good["access_token"].as_str().unwrap()).await,
        401
    );
    let (status, v) = exchange(
        &f.orders,
        &[
            ("subject_token", subject),
            ("subject_token_type", ACCESS),
            ("resource", FULFILMENT),
        ],
    )
    .await;
    assert_eq!(
        (status, error(&v)),
        (400, "invalid_grant"),
        "revoked subject: {v}"
    );
}

#[actix_web::test]
async fn policies_are_checked_when_clients_are_made() {
    let s = TestServer::start().await;
    let t = s.tenant("xpolicy", false, false).await;
    s.admin(
        "/tenants/xpolicy/apis",
        json!({"identifier": ORDERS, "name": "Orders", "scopes": ["read:orders"]}),
    )
    .await;
    for body in [
        json!({"name": "Public", "public": true, "grant_types": [EXCHANGE]}),
        json!({"name": "Unknown API", "grant_types": [EXCHANGE],
               "token_exchange": {"audiences": [SECRET]}}),
        json!({"name": "Odd type", "grant_types": [EXCHANGE],
               "token_exchange": {"subject_token_types": ["urn:example:saml"]}}),
        json!({"name": "No grant", "redirect_uris": ["https://a.example/cb"],
               "token_exchange": {"audiences": [ORDERS]}}),
    ] {
        let r = s
            .http
            .post(format!("{}/admin/v1/tenants/{}/clients", s.base, t.id))
            .bearer_auth(&s.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}: {}", r.text().await.unwrap());
    }
    let doc: Value = common::discovery(&t).await;
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == EXCHANGE), "{doc}");
}
