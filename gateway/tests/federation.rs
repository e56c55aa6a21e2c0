//! Federation end to end. The upstream OpenID Connect provider is a second, real Tollgate
//! server ("up"), and the downstream tenant ("down") signs its users in through it. The
//! refusals of bad ID tokens use a tiny provider served by this test on loopback, which
//! signs tokens the test crafts; the OAuth 2.0 connector meets a small GitHub-shaped
//! server (token, /user and /user/emails).

mod common;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use common::*;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const UP_EMAIL: &str = "ada@example.com";
const UNVERIFIED_EMAIL: &str = "bob@example.com";

/// A browser for several servers at once: keeps cookies, follows nothing by itself.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn absolute(base: &str, location: &str) -> String {
    url::Url::parse(base)
        .unwrap()
        .join(location)
        .unwrap()
        .to_string()
}

async fn get(b: &reqwest::Client, url: &str) -> (u16, Option<String>, String) {
    let r = b.get(url).send().await.unwrap();
    let loc = r
        .headers()
        .get(LOCATION)
        .map(|v| absolute(url, v.to_str().unwrap()));
    (r.status().as_u16(), loc, r.text().await.unwrap())
}

async fn post(
    b: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let r = b
        .post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    let loc = r
        .headers()
        .get(LOCATION)
        .map(|v| absolute(url, v.to_str().unwrap()));
    (r.status().as_u16(), loc, r.text().await.unwrap())
}

async fn admin_call(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/admin/v1{path}", s.base);
    let mut rb = match method {
        "PUT" => s.http.put(&url),
        "DELETE" => s.http.delete(&url),
        "POST" => s.http.post(&url),
        _ => s.http.get(&url),
    }
    .bearer_auth(&s.admin_token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// How a browser's trip through the federation ended.
#[derive(Debug)]
enum End {
    /// Back at the relying party with this URL (code or error).
    AtClient(String),
    /// Stopped on a page: status, URL, body.
    Page(u16, String, String),
}

/// Follows redirects from `url`, signing in at the upstream's sign-in page with
/// `email`/`password` when it shows up.
async fn drive(b: &reqwest::Client, url: &str, email: &str, password: &str) -> End {
    let mut next = url.to_owned();
    for _ in 0..15 {
        if next.starts_with("http://127.0.0.1:9/") {
            return End::AtClient(next);
        }
        let (s, loc, body) = get(b, &next).await;
        if s == 303 || s == 302 {
            next = loc.expect("a redirect has a location");
            continue;
        }
        if s == 200 && body.contains("action=\"/up/login\"") {
            let tx = hidden(&body, "tx").expect("tx");
            let csrf = hidden(&body, "csrf").expect("csrf");
            let login = absolute(&next, "/up/login");
            let (s, loc, body) = post(
                b,
                &login,
                &[
                    ("email", email),
                    ("password", password),
                    ("tx", &tx),
                    ("csrf", &csrf),
                ],
            )
            .await;
            assert_eq!(s, 303, "upstream sign-in failed: {body}");
            next = loc.unwrap();
            continue;
        }
        return End::Page(s, next, body);
    }
    panic!("too many redirects");
}

struct Fixture {
    up: TestServer,
    down: TestServer,
    down_tenant: TestTenant,
    up_client_id: String,
    up_client_secret: String,
}

/// "up": a tenant with a verified and an unverified user, and a confidential client whose
/// redirect URIs are the downstream connectors' callbacks. "down": a tenant with a
/// first-party client, and connector `idp` (linking by email off) to "up".
async fn fixture() -> Fixture {
    let up = TestServer::start().await;
    let down = TestServer::start().await;
    up.admin("/tenants", json!({"id": "up", "display_name": "Upstream"}))
        .await;
    let callbacks: Vec<String> = ["idp", "idp2"]
        .iter()
        .map(|c| format!("{}/down/federation/{c}/callback", down.base))
        .collect();
    let client = up
        .admin(
            "/tenants/up/clients",
            json!({"name": "Downstream", "redirect_uris": callbacks, "first_party": true}),
        )
        .await;
    up.admin(
        "/tenants/up/users",
        json!({"email": UP_EMAIL, "password": PASSWORD, "name": "Ada Lovelace", "email_verified": true}),
    )
    .await;
    up.admin(
        "/tenants/up/users",
        json!({"email": UNVERIFIED_EMAIL, "password": PASSWORD, "name": "Bob", "email_verified": false}),
    )
    .await;
    for (email, verified) in [("cy@example.com", true), ("dee@example.com", false)] {
        up.admin(
            "/tenants/up/users",
            json!({"email": email, "password": PASSWORD, "email_verified": verified}),
        )
        .await;
    }
    let down_tenant = down.tenant("down", false, true).await;
    let f = Fixture {
        up_client_id: client["client_id"].as_str().unwrap().to_owned(),
        up_client_secret: client["client_secret"].as_str().unwrap().to_owned(),
        up,
        down,
        down_tenant,
    };
    f.connector("idp", false).await;
    f
}

impl Fixture {
    async fn connector(&self, id: &str, link_by_email: bool) {
        let (s, v) = admin_call(
            &self.down,
            "PUT",
            &format!("/tenants/down/connectors/{id}"),
            Some(json!({
                "preset": "oidc",
                "display_name": "Upstream Co",
                "issuer": format!("{}/up", self.up.base),
                "client_id": self.up_client_id,
                "client_secret": self.up_client_secret,
                "link_by_email": link_by_email,
                "store_tokens": true,
            })),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v["redirect_uri"],
            format!("{}/down/federation/{id}/callback", self.down.base)
        );
        assert_eq!(v["has_client_secret"], true);
        assert!(!v.to_string().contains(&self.up_client_secret));
    }

    /// Signs in at "down" through `connector` as the upstream user `email`; returns the
    /// downstream `sub` and userinfo, or the page the browser stopped on.
    async fn sign_in(
        &self,
        b: &reqwest::Client,
        connector: &str,
        email: &str,
    ) -> Result<(String, Value), (u16, String, String)> {
        let (verifier, challenge) = pkce();
        let url = authorize_url(
            &self.down_tenant,
            "openid email profile",
            &challenge,
            &[("idp_hint", connector), ("nonce", "rp-nonce")],
        );
        match drive(b, &url, email, PASSWORD).await {
            End::AtClient(back) => Ok(self.redeem(&back, &verifier).await),
            End::Page(s, u, body) => Err((s, u, body)),
        }
    }

    async fn redeem(&self, back: &str, verifier: &str) -> (String, Value) {
        let code = query_param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
        assert_eq!(query_param(back, "iss").unwrap(), self.down_tenant.issuer);
        let (s, tokens) = redeem(&reqwest::Client::new(), &self.down_tenant, &code, verifier).await;
        assert_eq!(s, 200, "{tokens}");
        let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
        assert_eq!(claims["iss"], self.down_tenant.issuer);
        assert_eq!(claims["nonce"], "rp-nonce");
        let info: Value = reqwest::Client::new()
            .get(format!("{}/userinfo", self.down_tenant.issuer))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (claims["sub"].as_str().unwrap().to_owned(), info)
    }

    /// The events at "down" whose kind starts with `kind`, once all recorded so far are
    /// readable (hot-path events ride in the store's next commit).
    async fn events(&self, kind: &str) -> Vec<Value> {
        self.down.events("down", &format!("kind={kind}")).await
    }
}

#[actix_web::test]
async fn a_user_signs_in_through_a_second_tollgate_and_lands_on_the_same_account() {
    let f = fixture().await;
    let b = browser();
    let (sub, info) = f.sign_in(&b, "idp", UP_EMAIL).await.expect("signed in");
    // Provisioned from the upstream's claims.
    assert_eq!(info["email"], UP_EMAIL);
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Ada Lovelace");
    assert_eq!(info["sub"], sub);

    // Again, from a fresh browser, through the button on the sign-in page: same account.
    let b = browser();
    let (_, challenge) = pkce();
    let url = authorize_url(&f.down_tenant, "openid", &challenge, &[]);
    let (s, login, _) = get(&b, &url).await;
    assert_eq!(s, 303);
    let login = login.unwrap();
    assert!(login.contains("/down/login?tx="), "{login}");
    let (_, _, page) = get(&b, &login).await;
    assert!(page.contains("Continue with Upstream Co"), "{page}");
    assert!(page.contains("action=\"/down/federation/idp/start\""));
    let tx = hidden(&page, "tx").unwrap();
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &f.down_tenant,
        "openid email",
        &challenge,
        &[("nonce", "rp-nonce")],
    );
    let (_, login, _) = get(&b, &url).await;
    let tx2 = query_param(&login.unwrap(), "tx").unwrap();
    assert_ne!(tx, tx2);
    let start = format!(
        "{}/down/federation/idp/start?tx={}",
        f.down.base,
        url::form_urlencoded::byte_serialize(tx2.as_bytes()).collect::<String>()
    );
    let End::AtClient(back) = drive(&b, &start, UP_EMAIL, PASSWORD).await else {
        panic!("second sign-in did not come back");
    };
    let (sub2, _) = f.redeem(&back, &verifier).await;
    assert_eq!(
        sub2, sub,
        "the second federated sign-in is the same account"
    );

    // Audit: every federated sign-in, the provisioning and the link; no emails in events.
    let logins = f.events("login.federated").await;
    let ok: Vec<_> = logins.iter().filter(|e| e["result"] == "success").collect();
    assert_eq!(ok.len(), 2, "{logins:?}");
    assert!(
        ok.iter()
            .all(|e| e["detail"] == "provider=idp" && e["subject"] == sub.as_str())
    );
    assert_eq!(f.events("federation.provisioned").await.len(), 1);
    assert_eq!(f.events("federation.linked").await.len(), 1);
    let all = f.events("").await;
    assert!(!serde_json::to_string(&all).unwrap().contains(UP_EMAIL));

    // The upstream tokens were kept (the connector says so), sealed at rest.
    let engine = &f.down.running.engine;
    let t = tollgate_engine::ids::TenantId::parse("down").unwrap();
    let user = tollgate_engine::ids::UserId::from_stored(sub.clone());
    let kept = engine
        .federation()
        .upstream_tokens(&t, &user, "idp")
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert!(!kept[0].access_token.is_empty());
    let links = engine.store().list_links(&t, &user).await.unwrap();
    let sealed = links[0].sealed_tokens.as_deref().unwrap();
    assert!(!sealed.contains(&kept[0].access_token));
    assert!(!serde_json::to_string(&links[0]).unwrap().contains(UP_EMAIL));

    // The data-subject export's part, and account deletion's clean-up.
    let exported = engine.federation().export_links(&t, &user).await.unwrap();
    assert_eq!(exported[0]["provider"], "idp");
    assert_eq!(exported[0]["profile"]["email"], UP_EMAIL);
    assert_eq!(exported[0]["upstream_tokens_kept"], true);
    assert!(!exported.to_string().contains(&kept[0].access_token));

    // The account page lists the identity; as the account's only way to sign in, it
    // cannot be unlinked.
    let (s, _, page) = get(&b, &format!("{}/down/account", f.down.base)).await;
    assert_eq!(s, 200);
    assert!(page.contains("Sign-in methods"), "{page}");
    assert!(page.contains("Upstream Co"));
    assert!(page.contains("only way to sign in"));
    let csrf = hidden(&page, "csrf").unwrap();
    let key = links[0].key;
    let (s, _, body) = post(
        &b,
        &format!("{}/down/account/identities/unlink", f.down.base),
        &[("csrf", &csrf), ("provider", "idp"), ("key", &key.to_hex())],
    )
    .await;
    assert_eq!(s, 400, "{body}");
    assert!(body.contains("only way to sign in"), "{body}");
    assert_eq!(engine.store().list_links(&t, &user).await.unwrap().len(), 1);

    // The data-subject export names the linked identity; deleting the account removes
    // its links, so the upstream identity makes a new account next time.
    let (s, doc) = admin_call(
        &f.down,
        "GET",
        &format!("/tenants/down/users/{sub}/export"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{doc}");
    assert_eq!(doc["linked_identities"][0]["provider"], "idp");
    assert!(!doc.to_string().contains(&kept[0].access_token));
    let (s, v) = admin_call(
        &f.down,
        "DELETE",
        &format!("/tenants/down/users/{sub}"),
        None,
    )
    .await;
    assert!(s == 204 || s == 200, "{s} {v}");
    assert!(
        engine
            .store()
            .list_links(&t, &user)
            .await
            .unwrap()
            .is_empty()
    );
    let (again, _) = f
        .sign_in(&browser(), "idp", UP_EMAIL)
        .await
        .expect("signed in");
    assert_ne!(again, sub, "a deleted account does not come back");
}

#[actix_web::test]
async fn linking_needs_a_verified_email_and_the_tenants_consent_or_the_password() {
    let f = fixture().await;
    let existing = f
        .down
        .admin(
            "/tenants/down/users",
            json!({"email": UP_EMAIL, "password": PASSWORD, "name": "Ada (local)", "email_verified": true}),
        )
        .await;
    let existing_id = existing["id"].as_str().unwrap().to_owned();

    // Linking by email is off for `idp`: the verified email alone does not link; the
    // user is asked for the existing account's password.
    let b = browser();
    let (status, at, page) = f.sign_in(&b, "idp", UP_EMAIL).await.unwrap_err();
    assert_eq!(status, 200, "{page}");
    assert!(at.contains("/down/federation/idp/callback"), "{at}");
    assert!(page.contains("You already have an account"), "{page}");
    assert!(
        !page.contains(UP_EMAIL),
        "the page does not echo the address"
    );
    let handle = hidden(&page, "handle").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let link = format!("{}/down/federation/link", f.down.base);
    let (s, _, again) = post(
        &b,
        &link,
        &[
            ("handle", &handle),
            ("csrf", &csrf),
            ("password", "wrong password!"),
        ],
    )
    .await;
    assert_eq!(s, 401, "{again}");
    assert!(again.contains("That password is not correct."));
    // No CSRF token: refused.
    let (s, _, body) = post(&b, &link, &[("handle", &handle), ("password", PASSWORD)]).await;
    assert_eq!(s, 403);
    assert!(body.contains("This form expired"), "{body}");
    let (s, loc, body) = post(
        &b,
        &link,
        &[("handle", &handle), ("csrf", &csrf), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let back = loc.unwrap();
    assert!(back.starts_with("http://127.0.0.1:9/cb"), "{back}");
    // The handle is single use.
    let (s, _, body) = post(
        &b,
        &link,
        &[("handle", &handle), ("csrf", &csrf), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("This step expired or was used up."), "{body}");
    // That code belongs to the existing account (its verifier is the test's own PKCE,
    // which drive() does not know here: check the link instead).
    let engine = &f.down.running.engine;
    let t = tollgate_engine::ids::TenantId::parse("down").unwrap();
    let user = tollgate_engine::ids::UserId::from_stored(existing_id.clone());
    let links = engine.store().list_links(&t, &user).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].provider, "idp");

    // From now on, the upstream identity signs straight into the existing account.
    let (sub, _) = f
        .sign_in(&browser(), "idp", UP_EMAIL)
        .await
        .expect("linked");
    assert_eq!(sub, existing_id);
    let linked = f.events("federation.linked").await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0]["detail"], "provider=idp by=password");

    // `idp2` allows linking by verified email: a new identity at it links at once.
    f.connector("idp2", true).await;
    let (sub, _) = f
        .sign_in(&browser(), "idp2", UP_EMAIL)
        .await
        .expect("linked by email");
    assert_eq!(sub, existing_id);
    assert!(
        f.events("federation.linked")
            .await
            .iter()
            .any(|e| e["detail"] == "provider=idp2 by=verified_email")
    );

    // ...but not when the upstream did not verify the address.
    f.down
        .admin(
            "/tenants/down/users",
            json!({"email": UNVERIFIED_EMAIL, "password": PASSWORD, "email_verified": true}),
        )
        .await;
    let (status, _, page) = f
        .sign_in(&browser(), "idp2", UNVERIFIED_EMAIL)
        .await
        .unwrap_err();
    assert_eq!(status, 200);
    assert!(page.contains("You already have an account"), "{page}");
    assert!(
        f.events("federation.link_required")
            .await
            .iter()
            .any(|e| e["detail"] == "provider=idp2 reason=email_not_verified")
    );

    // Nor when the local account's address is unverified: whoever registered it may not
    // own it (pre-account takeover).
    f.down
        .admin(
            "/tenants/down/users",
            json!({"email": "cy@example.com", "password": PASSWORD, "email_verified": false}),
        )
        .await;
    let (status, _, page) = f
        .sign_in(&browser(), "idp2", "cy@example.com")
        .await
        .unwrap_err();
    assert_eq!(status, 200);
    assert!(page.contains("You already have an account"), "{page}");
    assert!(
        f.events("federation.link_required")
            .await
            .iter()
            .any(|e| e["detail"] == "provider=idp2 reason=local_email_not_verified")
    );

    // An unverified upstream address matching nobody does not become a login id: the new
    // account gets an address that can receive nothing.
    let (_, info) = f
        .sign_in(&browser(), "idp", "dee@example.com")
        .await
        .expect("provisioned");
    assert_eq!(info["email_verified"], false);
    assert!(
        info["email"]
            .as_str()
            .unwrap()
            .ends_with("@idp.federated.invalid"),
        "{info}"
    );

    // The account page lists both identities and the password; one can be unlinked.
    let b = browser();
    let (verifier, challenge) = pkce();
    let _ = verifier;
    let url = authorize_url(&f.down_tenant, "openid", &challenge, &[]);
    let back = b_authorize(&b, &f, &url).await;
    assert!(back.contains("code="));
    let (_, _, page) = get(&b, &format!("{}/down/account", f.down.base)).await;
    assert!(page.contains("<li>Password</li>"), "{page}");
    assert_eq!(page.matches("Unlink Upstream Co").count(), 2, "{page}");
    let csrf = hidden(&page, "csrf").unwrap();
    let keys = {
        let ls = engine.store().list_links(&t, &user).await.unwrap();
        ls.iter()
            .map(|l| (l.provider.clone(), l.key.to_hex()))
            .collect::<Vec<_>>()
    };
    let (p, k) = keys.iter().find(|(p, _)| p == "idp").unwrap();
    let unlink = format!("{}/down/account/identities/unlink", f.down.base);
    // Another user's link, or no CSRF: refused.
    let (s, _, body) = post(&b, &unlink, &[("provider", p), ("key", k)]).await;
    assert_eq!(s, 403);
    assert!(body.contains("This form expired"), "{body}");
    let (s, _, body) = post(
        &b,
        &unlink,
        &[("csrf", &csrf), ("provider", p), ("key", &"0".repeat(64))],
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body.contains("That sign-in method is not linked to your account."),
        "{body}"
    );
    let (s, loc, _) = post(&b, &unlink, &[("csrf", &csrf), ("provider", p), ("key", k)]).await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().ends_with("/down/account"));
    let left = engine.store().list_links(&t, &user).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].provider, "idp2");
    let unlinked = f.events("federation.unlinked").await;
    assert_eq!(unlinked.len(), 1);
    assert_eq!(unlinked[0]["detail"], "provider=idp");

    // Unlinked: `idp` no longer knows the account, and linking by email is off there, so
    // it asks for the password again.
    let (status, _, page) = f.sign_in(&browser(), "idp", UP_EMAIL).await.unwrap_err();
    assert_eq!(status, 200);
    assert!(page.contains("You already have an account"));
}

/// Password sign-in at "down" (the pre-existing account), through the test browser.
async fn b_authorize(b: &reqwest::Client, f: &Fixture, url: &str) -> String {
    let (_, loc, _) = get(b, url).await;
    let login = loc.unwrap();
    let (_, _, page) = get(b, &login).await;
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, loc, body) = post(
        b,
        &format!("{}/down/login", f.down.base),
        &[
            ("email", UP_EMAIL),
            ("password", PASSWORD),
            ("tx", &tx),
            ("csrf", &csrf),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    loc.unwrap()
}

// ---- A crafted upstream, for the tokens a real one would never send -------------------------

struct Crafted {
    base: String,
    /// PKCS#8 DER of the key the JWKS publishes, and of another key.
    key: Vec<u8>,
    other_key: Vec<u8>,
    /// The ID token the token endpoint answers next.
    next_id_token: Arc<Mutex<String>>,
    /// Forms the token endpoint received.
    token_requests: Arc<Mutex<Vec<Value>>>,
}

fn ec_key() -> (Vec<u8>, Value) {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let raw = kp.public_key_raw().to_vec();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1",
        "x": tollgate_engine::crypto::b64(&raw[1..33]),
        "y": tollgate_engine::crypto::b64(&raw[33..65]),
    });
    (kp.serialize_der(), jwk)
}

async fn crafted_upstream() -> Crafted {
    let (key, jwk) = ec_key();
    let (other_key, _) = ec_key();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let next_id_token = Arc::new(Mutex::new(String::new()));
    let token_requests = Arc::new(Mutex::new(Vec::new()));
    let (b, j, n, r) = (
        base.clone(),
        jwk.clone(),
        next_id_token.clone(),
        token_requests.clone(),
    );
    let server = HttpServer::new(move || {
        let (b, j, n, r) = (b.clone(), j.clone(), n.clone(), r.clone());
        App::new()
            .route(
                "/.well-known/openid-configuration",
                web::get().to(move || {
                    let b = b.clone();
                    async move {
                        HttpResponse::Ok().json(json!({
                            "issuer": b,
                            "authorization_endpoint": format!("{b}/authorize"),
                            "token_endpoint": format!("{b}/token"),
                            "jwks_uri": format!("{b}/jwks"),
                        }))
                    }
                }),
            )
            .route(
                "/jwks",
                web::get().to(move || {
                    let j = j.clone();
                    async move { HttpResponse::Ok().json(json!({"keys": [j]})) }
                }),
            )
            .route(
                "/token",
                web::post().to(
                    move |form: web::Form<std::collections::HashMap<String, String>>| {
                        let (n, r) = (n.clone(), r.clone());
                        async move {
                            r.lock().unwrap().push(json!(form.into_inner()));
                            HttpResponse::Ok().json(json!({
                                "access_token": "crafted-at", "token_type": "Bearer",
                                "expires_in": 60, "id_token": n.lock().unwrap().clone(),
                            }))
                        }
                    },
                ),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    Crafted {
        base,
        key,
        other_key,
        next_id_token,
        token_requests,
    }
}

/// Builds the ID token for a nonce.
type MakeToken<'a> = Box<dyn Fn(&str) -> String + 'a>;

fn sign(der: &[u8], claims: &Value) -> String {
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("k1".into());
    jsonwebtoken::encode(&h, claims, &jsonwebtoken::EncodingKey::from_ec_der(der)).unwrap()
}

#[actix_web::test]
async fn upstream_id_tokens_with_a_bad_signature_audience_or_nonce_are_refused() {
    let down = TestServer::start().await;
    down.tenant("down", false, true).await;
    let up = crafted_upstream().await;
    let (s, v) = admin_call(
        &down,
        "PUT",
        "/tenants/down/connectors/crafted",
        Some(
            json!({"issuer": up.base, "client_id": "down-client", "client_secret": "s3cret-value"}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let b = browser();
    // Starts a sign-in; returns the state and nonce sent upstream.
    let begin = || async {
        let (s, loc, _) = get(&b, &format!("{}/down/federation/crafted/start", down.base)).await;
        assert_eq!(s, 303);
        let loc = loc.unwrap();
        assert!(loc.starts_with(&format!("{}/authorize?", up.base)), "{loc}");
        assert_eq!(query_param(&loc, "code_challenge_method").unwrap(), "S256");
        assert_eq!(query_param(&loc, "client_id").unwrap(), "down-client");
        assert_eq!(
            query_param(&loc, "redirect_uri").unwrap(),
            format!("{}/down/federation/crafted/callback", down.base)
        );
        (
            query_param(&loc, "state").unwrap(),
            query_param(&loc, "nonce").unwrap(),
        )
    };
    let claims = |nonce: &str| {
        json!({"iss": up.base, "aud": "down-client", "sub": "crafted-user",
               "email": "crafted@example.com", "email_verified": true,
               "iat": now(), "exp": now() + 300, "nonce": nonce})
    };
    let finish = |state: String| {
        let b = &b;
        let url = format!(
            "{}/down/federation/crafted/callback?code=c0de&state={state}",
            down.base
        );
        async move { get(b, &url).await }
    };
    let cases: Vec<(&str, MakeToken)> = vec![
        (
            "id_token_bad_signature",
            Box::new(|n: &str| sign(&up.other_key, &claims(n))),
        ),
        (
            "id_token_wrong_audience",
            Box::new(|n: &str| {
                let mut c = claims(n);
                c["aud"] = json!("someone-else");
                sign(&up.key, &c)
            }),
        ),
        (
            "id_token_wrong_nonce",
            Box::new(|_: &str| sign(&up.key, &claims("not-the-nonce"))),
        ),
        (
            "id_token_wrong_issuer",
            Box::new(|n: &str| {
                let mut c = claims(n);
                c["iss"] = json!("https://evil.example");
                sign(&up.key, &c)
            }),
        ),
        (
            "id_token_expired",
            Box::new(|n: &str| {
                let mut c = claims(n);
                c["exp"] = json!(now() - 3600);
                sign(&up.key, &c)
            }),
        ),
    ];
    for (reason, make) in &cases {
        let (state, nonce) = begin().await;
        *up.next_id_token.lock().unwrap() = make(&nonce);
        let (s, loc, body) = finish(state).await;
        assert_eq!(s, 400, "{reason}: {loc:?} {body}");
        assert!(
            body.contains("We could not sign you in"),
            "{reason}: {body}"
        );
        down.settle_events().await;
        let events = down
            .running
            .engine
            .admin()
            .query_events(
                &tollgate_engine::ids::TenantId::parse("down").unwrap(),
                tollgate_engine::store::EventQuery {
                    kind: Some("login.federated".into()),
                    limit: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(events[0].result, "failure");
        assert_eq!(
            events[0].detail.as_deref(),
            Some(format!("provider=crafted reason={reason}").as_str())
        );
    }
    // The token endpoint got the PKCE verifier and our credentials, and the code.
    let reqs = up.token_requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), cases.len());
    assert_eq!(reqs[0]["code"], "c0de");
    assert_eq!(reqs[0]["client_secret"], "s3cret-value");
    assert_eq!(reqs[0]["code_verifier"].as_str().unwrap().len(), 43);

    // A good token signs in (no authorization request: the account page).
    let (state, nonce) = begin().await;
    *up.next_id_token.lock().unwrap() = sign(&up.key, &claims(&nonce));
    let (s, loc, body) = finish(state.clone()).await;
    assert_eq!(s, 303, "{body}");
    assert_eq!(loc.unwrap(), format!("{}/down/account", down.base));
    // The state is single use.
    let (s, _, body) = finish(state).await;
    assert_eq!(s, 400);
    assert!(body.contains("expired or was already used"), "{body}");
    // A state started in another browser is refused here.
    let (state, nonce) = begin().await;
    *up.next_id_token.lock().unwrap() = sign(&up.key, &claims(&nonce));
    let (s, _, body) = get(
        &browser(),
        &format!(
            "{}/down/federation/crafted/callback?code=c0de&state={state}",
            down.base
        ),
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("expired or was already used"), "{body}");
    // Apple's shape: form_post answers, and a client secret that is an ES256 JWT signed
    // with the developer key, fresh for each token request.
    let apple_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let (s, v) = admin_call(
        &down,
        "PUT",
        "/tenants/down/connectors/apple",
        Some(
            json!({"preset": "apple", "issuer": up.base, "client_id": "com.example.down",
                    "client_secret": apple_key.serialize_pem(),
                    "apple_team_id": "TEAM123", "apple_key_id": "KEY456"}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, loc, _) = get(&b, &format!("{}/down/federation/apple/start", down.base)).await;
    assert_eq!(s, 303);
    let loc = loc.unwrap();
    assert_eq!(query_param(&loc, "response_mode").unwrap(), "form_post");
    assert_eq!(query_param(&loc, "scope").unwrap(), "openid email name");
    let (state, nonce) = (
        query_param(&loc, "state").unwrap(),
        query_param(&loc, "nonce").unwrap(),
    );
    let mut c = claims(&nonce);
    c["aud"] = json!("com.example.down");
    c["sub"] = json!("000123.apple");
    c["email"] = json!("ada@privaterelay.example");
    c["email_verified"] = json!("true");
    *up.next_id_token.lock().unwrap() = sign(&up.key, &c);
    let (s, loc, body) = post(
        &b,
        &format!("{}/down/federation/apple/callback", down.base),
        &[("code", "apple-code"), ("state", &state)],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    assert_eq!(loc.unwrap(), format!("{}/down/account", down.base));
    let secret = up.token_requests.lock().unwrap().last().unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let header = jsonwebtoken::decode_header(&secret).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some("KEY456"));
    let sc = jwt_claims(&secret);
    assert_eq!(sc["iss"], "TEAM123");
    assert_eq!(sc["sub"], "com.example.down");
    assert_eq!(sc["aud"], "https://appleid.apple.com");

    // An upstream error answer is reported, not trusted.
    let (state, _) = begin().await;
    let (s, _, body) = get(
        &b,
        &format!(
            "{}/down/federation/crafted/callback?error=access_denied&state={state}",
            down.base
        ),
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("cancelled or refused"));
}

// ---- OAuth 2.0: a GitHub-shaped server --------------------------------------------------------

#[actix_web::test]
async fn the_oauth2_connector_maps_a_github_shaped_user_and_its_verified_email() {
    let down = TestServer::start().await;
    let dt = down.tenant("down", false, true).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gh = format!("http://{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let s2 = seen.clone();
    let server = HttpServer::new(move || {
        let s3 = s2.clone();
        App::new()
            .route(
                "/login/oauth/access_token",
                web::post().to(move |req: HttpRequest, form: web::Form<std::collections::HashMap<String, String>>| {
                    let s3 = s3.clone();
                    async move {
                        let accept = req
                            .headers()
                            .get("accept")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        s3.lock().unwrap().push(json!({"form": form.into_inner(), "accept": accept}));
                        HttpResponse::Ok().json(json!({
                            "access_token": "gho_test_token", "token_type": "bearer",
                            "scope": "read:user,user:email",
                        }))
                    }
                }),
            )
            .route(
                "/user",
                web::get().to(|req: HttpRequest| async move {
                    if req.headers().get("authorization").and_then(|v| v.to_str().ok())
                        != Some("Bearer gho_test_token")
                    {
                        return HttpResponse::Unauthorized().finish();
                    }
                    HttpResponse::Ok().json(json!({
                        "id": 583231, "login": "octocat", "name": "Octo Cat",
                        "avatar_url": "https://avatars.example/u/583231", "email": null,
                    }))
                }),
            )
            .route(
                "/user/emails",
                web::get().to(|req: HttpRequest| async move {
                    if req.headers().get("authorization").is_none() {
                        return HttpResponse::Unauthorized().finish();
                    }
                    HttpResponse::Ok().json(json!([
                        {"email": "octo@old.example", "primary": false, "verified": true},
                        {"email": "octo@example.com", "primary": true, "verified": true},
                    ]))
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);

    // Through the CLI, as an operator would: the secret from the environment.
    let (ok, out, err) = tollgate(
        &[
            "admin",
            "--url",
            &down.base,
            "--token",
            &down.admin_token,
            "connector",
            "set",
            "down",
            "gh",
            "--preset",
            "github",
            "--client-id",
            "gh-client",
            "--authorization-endpoint",
            &format!("{gh}/login/oauth/authorize"),
            "--token-endpoint",
            &format!("{gh}/login/oauth/access_token"),
            "--userinfo-endpoint",
            &format!("{gh}/user"),
            "--emails-endpoint",
            &format!("{gh}/user/emails"),
            "--store-tokens",
        ],
        &[("TOLLGATE_CONNECTOR_SECRET", "gh-secret-value")],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("\"has_client_secret\": true"), "{out}");
    assert!(!out.contains("gh-secret-value"));

    let b = browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        &dt,
        "openid email profile",
        &challenge,
        &[("idp_hint", "gh")],
    );
    let (_, loc, _) = get(&b, &url).await;
    let (s, loc, _) = get(&b, &loc.unwrap()).await;
    assert_eq!(s, 303);
    let upstream = loc.unwrap();
    assert!(
        upstream.starts_with(&format!("{gh}/login/oauth/authorize?")),
        "{upstream}"
    );
    assert_eq!(
        query_param(&upstream, "scope").unwrap(),
        "read:user user:email"
    );
    assert!(query_param(&upstream, "nonce").is_none());
    let state = query_param(&upstream, "state").unwrap();
    let (s, loc, body) = get(
        &b,
        &format!(
            "{}/down/federation/gh/callback?code=gh-code&state={state}",
            down.base
        ),
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let back = loc.unwrap();
    let code = query_param(&back, "code").unwrap();
    let (s, tokens) = redeem(&reqwest::Client::new(), &dt, &code, &verifier).await;
    assert_eq!(s, 200, "{tokens}");
    let info: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", dt.issuer))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], "octo@example.com");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Octo Cat");

    let req = seen.lock().unwrap()[0].clone();
    assert_eq!(req["accept"], "application/json");
    assert_eq!(req["form"]["client_id"], "gh-client");
    assert_eq!(req["form"]["client_secret"], "gh-secret-value");
    assert_eq!(req["form"]["code"], "gh-code");
    assert_eq!(
        req["form"]["redirect_uri"],
        format!("{}/down/federation/gh/callback", down.base)
    );
    assert!(req["form"]["code_verifier"].as_str().is_some());

    // The upstream token was kept, encrypted.
    let engine = &down.running.engine;
    let t = tollgate_engine::ids::TenantId::parse("down").unwrap();
    let user = tollgate_engine::ids::UserId::from_stored(info["sub"].as_str().unwrap().to_owned());
    let kept = engine
        .federation()
        .upstream_tokens(&t, &user, "gh")
        .await
        .unwrap();
    assert_eq!(kept[0].access_token, "gho_test_token");
    let link = &engine.store().list_links(&t, &user).await.unwrap()[0];
    assert!(
        !serde_json::to_string(link)
            .unwrap()
            .contains("gho_test_token")
    );
    assert!(!serde_json::to_string(link).unwrap().contains("583231"));

    // The CLI lists and removes connectors; bad input gets a clear message.
    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "--url", &down.base, "--token", &down.admin_token];
        all.extend_from_slice(args);
        tollgate(&all, &[])
    };
    let (ok, out, _) = admin(&["connector", "list", "down"]);
    assert!(
        ok && out.contains("\"gh\"") && !out.contains("gh-secret-value"),
        "{out}"
    );
    let (ok, _, err) = admin(&[
        "connector",
        "set",
        "down",
        "bad",
        "--client-id",
        "x",
        "--issuer",
        "http://idp.example.com",
    ]);
    assert!(!ok);
    assert!(err.contains("must use https"), "{err}");
    let (ok, _, err) = admin(&[
        "connector",
        "set",
        "down",
        "bad",
        "--preset",
        "myspace",
        "--client-id",
        "x",
    ]);
    assert!(!ok);
    assert!(err.contains("unknown preset"), "{err}");
    let (ok, out, err) = admin(&["connector", "delete", "down", "gh"]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = admin(&["connector", "show", "down", "gh"]);
    assert!(!ok);
    assert!(err.contains("not found") || err.contains("404"), "{err}");
    // A deleted connector signs nobody in, and its idp_hint falls back to the sign-in page.
    let (_, challenge) = pkce();
    let url = authorize_url(&dt, "openid", &challenge, &[("idp_hint", "gh")]);
    let b = browser();
    let (_, loc, _) = get(&b, &url).await;
    let (s, loc, _) = get(&b, &loc.unwrap()).await;
    assert_eq!(s, 303);
    assert!(loc.unwrap().contains("/down/login?tx="));
}

#[actix_web::test]
async fn presets_fill_in_their_provider_and_check_what_they_need() {
    let down = TestServer::start().await;
    down.tenant("down", false, true).await;
    let put = |id: &str, body: Value| {
        let down = &down;
        let path = format!("/tenants/down/connectors/{id}");
        async move { admin_call(down, "PUT", &path, Some(body)).await }
    };
    let (s, v) = put(
        "google",
        json!({"preset": "google", "client_id": "g", "client_secret": "x"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["issuer"], "https://accounts.google.com");
    assert_eq!(v["display_name"], "Google");
    let (s, v) = put(
        "github",
        json!({"preset": "github", "client_id": "g", "client_secret": "x"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["protocol"], "oauth2");
    assert_eq!(v["emails_endpoint"], "https://api.github.com/user/emails");
    assert_eq!(v["mapping"]["subject"], "id");
    let (s, v) = put(
        "digilocker",
        json!({"preset": "digilocker", "client_id": "d", "client_secret": "x", "mapping": {"keep": ["dob"]}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["mapping"]["subject"], "digilockerid");
    assert_eq!(v["mapping"]["keep"], json!(["dob"]));
    let (s, v) = put(
        "ms",
        json!({"preset": "microsoft", "client_id": "m", "client_secret": "x"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["mapping"]["email_verified"], Value::Null);
    let (s, v) = put(
        "li",
        json!({"preset": "linkedin", "client_id": "l", "client_secret": "x"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["issuer"], "https://www.linkedin.com/oauth");
    // Apple needs its team, key id and a real ES256 key.
    let (s, v) = put(
        "apple",
        json!({"preset": "apple", "client_id": "com.example"}),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"], "invalid_request", "{v}");
    assert!(
        v["error_description"].as_str().unwrap().contains("team"),
        "{v}"
    );
    let (s, v) = put(
        "apple",
        json!({"preset": "apple", "client_id": "com.example", "client_secret": "nope",
               "apple_team_id": "T", "apple_key_id": "K"}),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error_description"].as_str().unwrap().contains("ES256"),
        "{v}"
    );
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let (s, v) = put(
        "apple",
        json!({"preset": "apple", "client_id": "com.example", "client_secret": kp.serialize_pem(),
               "apple_team_id": "T", "apple_key_id": "K"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["response_mode"], "form_post");
    // Unknown fields and bad ids are refused with a message.
    let (s, v) = put(
        "x",
        json!({"client_id": "x", "issuer": "https://a.example", "colour": "red"}),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error_description"].as_str().unwrap().contains("colour"),
        "{v}"
    );
    let (s, v) = put(
        "Bad_Id",
        json!({"client_id": "x", "issuer": "https://a.example"}),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    let (s, v) = admin_call(&down, "GET", "/tenants/down/connectors", None).await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 6);
    assert!(!v.to_string().contains("PRIVATE KEY"));
    // Without the admin token: refused.
    let r = reqwest::Client::new()
        .get(format!("{}/admin/v1/tenants/down/connectors", down.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

/// POSTs JSON with the page's CSRF token, as passkeys.js does.
async fn post_json(b: &reqwest::Client, url: &str, csrf: &str, body: &Value) -> (u16, Value) {
    let r = b
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header("X-CSRF-Token", csrf)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn a_passkey_of_the_existing_account_proves_it_for_linking() {
    // WebAuthn needs a domain: "down" is served as http://localhost:PORT, and the browser
    // uses that name throughout so its cookies meet the upstream's redirects.
    let up = TestServer::start().await;
    let down = start_localhost().await;
    let down_url = down.running.engine.config().public_url.clone();
    up.admin("/tenants", json!({"id": "up", "display_name": "Upstream"}))
        .await;
    let client = up
        .admin(
            "/tenants/up/clients",
            json!({"name": "Downstream", "first_party": true,
                   "redirect_uris": [format!("{down_url}/down/federation/idp/callback")]}),
        )
        .await;
    up.admin(
        "/tenants/up/users",
        json!({"email": UP_EMAIL, "password": PASSWORD, "email_verified": true}),
    )
    .await;
    down.tenant("down", false, true).await;
    let existing = down
        .admin(
            "/tenants/down/users",
            json!({"email": UP_EMAIL, "password": PASSWORD, "email_verified": true}),
        )
        .await;
    let (s, v) = admin_call(
        &down,
        "PUT",
        "/tenants/down/connectors/idp",
        Some(json!({
            "preset": "oidc",
            "display_name": "Upstream Co",
            "issuer": format!("{}/up", up.base),
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "link_by_email": false,
        })),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // The existing account has a passkey, registered from its account page.
    let owner = browser();
    let (_, _, page) = get(&owner, &format!("{down_url}/down/login")).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, _) = post(
        &owner,
        &format!("{down_url}/down/login"),
        &[("email", UP_EMAIL), ("password", PASSWORD), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, 303);
    let (_, _, account) = get(&owner, &format!("{down_url}/down/account")).await;
    let csrf = passkey::data_attr(&account, "csrf").unwrap();
    let mut device = passkey::Device::new(&down);
    let (s, started) = post_json(
        &owner,
        &format!("{down_url}/down/passkeys/register/start"),
        &csrf,
        &json!({}),
    )
    .await;
    assert_eq!(s, 200, "{started}");
    let credential = device.register(&started["options"]);
    let (s, v) = post_json(
        &owner,
        &format!("{down_url}/down/passkeys/register/finish"),
        &csrf,
        &json!({"handle": started["handle"], "credential": credential}),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // Signing in through the upstream with that address: the link page offers the
    // passkey next to the password.
    let b = browser();
    let start = format!("{down_url}/down/federation/idp/start");
    let End::Page(s, _, page) = drive(&b, &start, UP_EMAIL, PASSWORD).await else {
        panic!("no link page");
    };
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("data-passkey=\"factor\""), "{page}");
    assert!(page.contains("/down/passkeys/link/start"));
    let handle = passkey::data_attr(&page, "pending").unwrap();
    let csrf = passkey::data_attr(&page, "csrf").unwrap();
    let link_start = format!("{down_url}/down/passkeys/link/start");
    let link_finish = format!("{down_url}/down/passkeys/link/finish");

    // An assertion made for another origin proves nothing.
    let (s, started) = post_json(&b, &link_start, &csrf, &json!({"pending": handle})).await;
    assert_eq!(s, 200, "{started}");
    let forged = device.sign(&started["options"], Some("http://localhost:1"));
    let (s, v) = post_json(
        &b,
        &link_finish,
        &csrf,
        &json!({"handle": started["handle"], "pending": handle, "credential": forged}),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("could not be verified"),
        "{v}"
    );
    // Without the CSRF header: refused before anything is spent.
    let r = b
        .post(&link_start)
        .header(CONTENT_TYPE, "application/json")
        .body(json!({"pending": handle}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The account's own passkey links and signs in.
    let (s, started) = post_json(&b, &link_start, &csrf, &json!({"pending": handle})).await;
    assert_eq!(s, 200, "{started}");
    let proof = device.sign(&started["options"], None);
    let (s, v) = post_json(
        &b,
        &link_finish,
        &csrf,
        &json!({"handle": started["handle"], "pending": handle, "credential": proof}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["redirect"].as_str().is_some(), "{v}");
    // The pending link is used up (asked with a token for the session the browser has
    // now: CSRF tokens are bound to the session).
    let login_page = b
        .get(format!("{down_url}/down/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = passkey::data_attr(&login_page, "csrf").unwrap();
    let (s, v) = post_json(&b, &link_start, &csrf, &json!({"pending": handle})).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"], "invalid_request", "{v}");

    let t = tollgate_engine::ids::TenantId::parse("down").unwrap();
    let user = tollgate_engine::ids::UserId::from_stored(existing["id"].as_str().unwrap().into());
    let links = down
        .running
        .engine
        .store()
        .list_links(&t, &user)
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].provider, "idp");
    let events = down.events("down", "kind=login.federated").await;
    let details: Vec<&str> = events.iter().filter_map(|e| e["detail"].as_str()).collect();
    assert!(
        details.iter().any(|d| d.contains("linked_by=passkey")),
        "{details:?}"
    );
    // From now on the upstream identity signs straight in.
    let c = browser();
    let End::Page(s, at, _) = drive(&c, &start, UP_EMAIL, PASSWORD).await else {
        panic!("expected the account page");
    };
    assert_eq!(s, 200);
    assert!(at.ends_with("/down/account"), "{at}");
}

#[actix_web::test]
async fn starting_federated_sign_ins_is_limited_per_client_address() {
    let f = fixture().await;
    let b = browser();
    let start = format!("{}/down/federation/idp/start", f.down.base);
    // Each start writes a pending record before anyone is authenticated.
    for i in 0..tollgate_engine::runtime::sends::STARTS_PER_MINUTE {
        let (s, loc, _) = get(&b, &start).await;
        assert_eq!(s, 303, "start {i}");
        assert!(loc.unwrap().starts_with(&f.up.base));
    }
    let r = b.get(&start).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
}
