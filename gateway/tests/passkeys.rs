//! Passkeys through HTTP, with webauthn-authenticator-rs's software passkey (P-256,
//! real attestation and assertion signatures over what the server sent): register from
//! the account page's endpoints, sign in with the passkey alone, use it as a second
//! factor, rename, remove; and what must be refused (a removed passkey, another origin,
//! a replayed finish, a missing CSRF token, malformed input).
//!
//! The software passkey keeps no resident credentials, so for a sign-in without an email
//! the test plays the authenticator's part of a discoverable credential: it names the
//! credential (`allowCredentials`) and returns the user handle it registered. Neither is
//! signed; the server checks both against what it stored.

mod common;

use common::passkey::{Device, data_attr};
use common::{
    PASSWORD, TestServer, TestTenant, authorize_url, hidden, jwt_claims, outbox_code, pkce,
    query_param, redeem, start_localhost,
};
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

/// A cookie-keeping client on one server, like `common::Browser`, with JSON posts.
struct Client {
    http: reqwest::Client,
    base: String,
}

struct Answer {
    status: u16,
    location: Option<String>,
    set_cookie: bool,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Asserts that an answer is the JSON error `code` and that its description says `says`.
fn assert_refused(a: &Answer, code: &str, says: &str) {
    let v = a.json();
    assert_eq!(v["error"], code, "{}", a.body);
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| d.contains(says)),
        "{}",
        a.body
    );
}

impl Client {
    fn new(server: &TestServer) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: server.base.clone(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn answer(r: reqwest::Response) -> Answer {
        Answer {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            set_cookie: r
                .headers()
                .get_all(SET_COOKIE)
                .iter()
                .any(|v| v.to_str().unwrap().starts_with("tg_session=")),
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        Self::answer(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    async fn form(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let r = self
            .http
            .post(self.url(path))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        Self::answer(r).await
    }

    async fn json(&self, path: &str, csrf: Option<&str>, body: &Value) -> Answer {
        let mut r = self
            .http
            .post(self.url(path))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(c) = csrf {
            r = r.header("X-CSRF-Token", c);
        }
        Self::answer(r.send().await.unwrap()).await
    }

    /// Signs in with the password on a page without an authorization; returns the
    /// answer to the form (a redirect, or a second-factor page).
    async fn password(&self, t: &TestTenant) -> Answer {
        let page = self.get(&format!("/{}/login", t.id)).await;
        let csrf = hidden(&page.body, "csrf").unwrap();
        self.form(
            &format!("/{}/login", t.id),
            &[("email", &t.email), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await
    }
}

async fn tenant(server: &TestServer, id: &str) -> TestTenant {
    server.tenant(id, false, true).await
}

async fn set_policy(server: &TestServer, t: &TestTenant, policy: Value) {
    let r = reqwest::Client::new()
        .put(format!("{}/admin/v1/tenants/{}/mfa", server.base, t.id))
        .bearer_auth(&server.admin_token)
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

async fn events(server: &TestServer, t: &TestTenant) -> Vec<Value> {
    server.events(&t.id, "").await
}

fn count(events: &[Value], kind: &str, result: &str) -> usize {
    events
        .iter()
        .filter(|e| e["kind"] == kind && e["result"] == result)
        .count()
}

/// Registers a passkey from the account page of a signed-in client.
async fn register_from_account(c: &Client, t: &TestTenant, device: &mut Device, label: &str) {
    let account = c.get(&format!("/{}/account", t.id)).await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("<h2>Passkeys</h2>"));
    assert!(account.body.contains("data-passkey=\"register\""));
    assert!(account.body.contains("src=\"/assets/passkeys.js\""));
    let csrf = data_attr(&account.body, "csrf").unwrap();
    let start = c
        .json(
            &format!("/{}/passkeys/register/start", t.id),
            Some(&csrf),
            &json!({}),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    let started = start.json();
    let credential = device.register(&started["options"]);
    let finish = json!({"handle": started["handle"], "credential": credential, "label": label});
    let done = c
        .json(
            &format!("/{}/passkeys/register/finish", t.id),
            Some(&csrf),
            &finish,
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["redirect"], format!("/{}/account", t.id));
    // The same finish again: its challenge was used.
    let again = c
        .json(
            &format!("/{}/passkeys/register/finish", t.id),
            Some(&csrf),
            &finish,
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(
        again.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("expired or was already used")
    );
}

/// Starts an authorization in a new client and returns it with the sign-in page's CSRF
/// token and `tx`, and the PKCE verifier.
async fn authorization(server: &TestServer, t: &TestTenant) -> (Client, String, String, String) {
    let c = Client::new(server);
    let (verifier, challenge) = pkce();
    let url = authorize_url(t, "openid email", &challenge, &[]);
    let a = c.get(&url).await;
    assert_eq!(a.status, 303);
    let login = a.location.unwrap();
    let page = c.get(&login).await;
    assert!(
        page.body.contains("autocomplete=\"username webauthn\""),
        "the email field offers passkeys (conditional UI)"
    );
    assert!(page.body.contains("Sign in with a passkey"));
    let csrf = data_attr(&page.body, "csrf").unwrap();
    let tx = data_attr(&page.body, "tx").unwrap();
    (c, csrf, tx, verifier)
}

/// A passkey sign-in: start, sign, finish.
async fn passkey_login(
    c: &Client,
    t: &TestTenant,
    csrf: &str,
    tx: &str,
    device: &mut Device,
    origin: Option<&str>,
) -> (Answer, Value) {
    let start = c
        .json(
            &format!("/{}/passkeys/login/start", t.id),
            Some(csrf),
            &json!({}),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    let started = start.json();
    assert_eq!(started["options"]["mediation"], "conditional");
    let credential = device.sign(&started["options"], origin);
    let body = json!({"handle": started["handle"], "credential": credential, "tx": tx});
    let done = c
        .json(
            &format!("/{}/passkeys/login/finish", t.id),
            Some(csrf),
            &body,
        )
        .await;
    (done, body)
}

/// Follows a finished sign-in to the client's redirect and redeems the code.
async fn tokens(c: &Client, t: &TestTenant, done: &Answer, verifier: &str) -> Value {
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.set_cookie, "a session cookie is set");
    let next = done.json()["redirect"].as_str().unwrap().to_owned();
    assert!(
        next.starts_with(&format!("/{}/continue?tx=", t.id)),
        "{next}"
    );
    let back = c.get(&next).await;
    assert_eq!(back.status, 303);
    let back = back.location.unwrap();
    assert!(back.starts_with(&t.redirect_uri), "{back}");
    let code = query_param(&back, "code").expect("a code");
    let (s, v) = redeem(&reqwest::Client::new(), t, &code, verifier).await;
    assert_eq!(s, 200, "{v}");
    v
}

#[actix_web::test]
async fn passkey_registers_signs_in_alone_and_as_a_second_factor_then_is_renamed_and_removed() {
    let server = start_localhost().await;
    let t = tenant(&server, "acme").await;
    let mut device = Device::new(&server);

    // Register from the account page.
    let owner = Client::new(&server);
    assert_eq!(owner.password(&t).await.status, 303);
    register_from_account(&owner, &t, &mut device, "Laptop").await;
    let account = owner.get(&format!("/{}/account", t.id)).await;
    assert!(account.body.contains("<strong>Laptop</strong>"));

    // Sign in with the passkey alone, continuing an authorization.
    let (c, csrf, tx, verifier) = authorization(&server, &t).await;
    let (done, replay) = passkey_login(&c, &t, &csrf, &tx, &mut device, None).await;
    let v = tokens(&c, &t, &done, &verifier).await;
    let claims = jwt_claims(v["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["hwk", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], "urn:tollgate:loa:2");

    // The signature counter moved (the software passkey counts its signatures) and the
    // write was conditional on the factor's version.
    let user = claims["sub"].as_str().unwrap();
    let factors = server
        .running
        .engine
        .signin()
        .factors(
            &tollgate_engine::ids::TenantId::parse("acme").unwrap(),
            &serde_json::from_value(json!(user)).unwrap(),
        )
        .await
        .unwrap();
    let pk = factors
        .iter()
        .find(|f| f.kind == tollgate_engine::model::FactorKind::Passkey)
        .unwrap();
    assert_eq!(pk.version, 1);
    assert_eq!(pk.data["passkey"]["cred"]["counter"], 1, "{}", pk.data);
    assert!(pk.last_used_at.is_some());

    // The same finish again is refused: its challenge was used up. (A fresh token: the
    // browser is signed in now, and CSRF tokens are bound to the session.)
    let csrf = data_attr(&c.get(&format!("/{}/account", t.id)).await.body, "csrf").unwrap();
    let again = c
        .json(
            &format!("/{}/passkeys/login/finish", t.id),
            Some(&csrf),
            &replay,
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_refused(&again, "invalid_request", "expired or was already used");
    // And the same signed assertion under a fresh challenge does not verify.
    let start = c
        .json(
            &format!("/{}/passkeys/login/start", t.id),
            Some(&csrf),
            &json!({}),
        )
        .await;
    let mut stale = replay.clone();
    stale["handle"] = start.json()["handle"].clone();
    let again = c
        .json(
            &format!("/{}/passkeys/login/finish", t.id),
            Some(&csrf),
            &stale,
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_refused(
        &again,
        "invalid_request",
        "That passkey could not be verified.",
    );
    assert!(!again.set_cookie);

    // Another origin (another port of localhost) is refused.
    let (c2, csrf2, tx2, _) = authorization(&server, &t).await;
    let (wrong, _) = passkey_login(
        &c2,
        &t,
        &csrf2,
        &tx2,
        &mut device,
        Some("http://localhost:1"),
    )
    .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert_refused(
        &wrong,
        "invalid_request",
        "That passkey could not be verified.",
    );
    assert!(!wrong.set_cookie);
    // A challenge started in one browser cannot be finished in another.
    let start = c2
        .json(
            &format!("/{}/passkeys/login/start", t.id),
            Some(&csrf2),
            &json!({}),
        )
        .await;
    let started = start.json();
    let credential = device.sign(&started["options"], None);
    let body = json!({"handle": started["handle"], "credential": credential});
    let elsewhere = c
        .json(
            &format!("/{}/passkeys/login/finish", t.id),
            Some(&csrf),
            &body,
        )
        .await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
    assert_refused(&elsewhere, "invalid_request", "expired or was already used");

    // As a second factor: the tenant asks those who have one for it.
    set_policy(
        &server,
        &t,
        json!({"mode": "optional", "factors": ["totp", "passkey", "recovery_codes"]}),
    )
    .await;
    let c3 = Client::new(&server);
    let (verifier, challenge) = pkce();
    let a = c3.get(&authorize_url(&t, "openid", &challenge, &[])).await;
    let page = c3.get(&a.location.unwrap()).await;
    let csrf3 = hidden(&page.body, "csrf").unwrap();
    let tx3 = hidden(&page.body, "tx").unwrap();
    let step = c3
        .form(
            &format!("/{}/login", t.id),
            &[
                ("email", &t.email),
                ("password", PASSWORD),
                ("tx", &tx3),
                ("csrf", &csrf3),
            ],
        )
        .await;
    assert_eq!(step.status, 200, "a second-factor page");
    assert!(
        step.body.contains("data-passkey=\"factor\""),
        "{}",
        step.body
    );
    let pending = data_attr(&step.body, "pending").unwrap();
    let csrf3 = data_attr(&step.body, "csrf").unwrap();
    let start = c3
        .json(
            &format!("/{}/passkeys/factor/start", t.id),
            Some(&csrf3),
            &json!({"pending": pending}),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    let started = start.json();
    let allowed = started["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(allowed.len(), 1, "only this user's passkeys");
    assert_eq!(allowed[0]["id"].as_str(), device.credential_id.as_deref());
    let credential = device.sign(&started["options"], None);
    let body = json!({"handle": started["handle"], "pending": pending, "credential": credential, "tx": tx3});
    let done = c3
        .json(
            &format!("/{}/passkeys/factor/finish", t.id),
            Some(&csrf3),
            &body,
        )
        .await;
    let v = tokens(&c3, &t, &done, &verifier).await;
    let claims = jwt_claims(v["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]), "{claims}");
    // The pending sign-in is over: the same finish is refused (sent with a token for the
    // session the browser has now).
    let csrf3 = data_attr(&c3.get(&format!("/{}/account", t.id)).await.body, "csrf").unwrap();
    let again = c3
        .json(
            &format!("/{}/passkeys/factor/finish", t.id),
            Some(&csrf3),
            &body,
        )
        .await;
    assert_eq!(again.status, 400);
    assert_refused(&again, "invalid_request", "expired or was already used");
    set_policy(
        &server,
        &t,
        json!({"mode": "off", "factors": ["totp", "passkey", "recovery_codes"]}),
    )
    .await;

    // Rename, then remove, from the account page.
    let account = owner.get(&format!("/{}/account", t.id)).await;
    let csrf = hidden(&account.body, "csrf").unwrap();
    let id = hidden(&account.body, "id").unwrap();
    let renamed = owner
        .form(
            &format!("/{}/account/passkeys/rename", t.id),
            &[("csrf", &csrf), ("id", &id), ("label", "Work <laptop>")],
        )
        .await;
    assert_eq!(renamed.status, 303);
    let account = owner.get(&format!("/{}/account", t.id)).await;
    assert!(
        account
            .body
            .contains("<strong>Work &lt;laptop&gt;</strong>")
    );
    let removed = owner
        .form(
            &format!("/{}/account/factors/remove", t.id),
            &[("csrf", &csrf), ("id", &id)],
        )
        .await;
    assert_eq!(removed.status, 303);
    let account = owner.get(&format!("/{}/account", t.id)).await;
    assert!(account.body.contains("No passkey yet."));

    // A removed passkey no longer signs in.
    let (c4, csrf4, tx4, _) = authorization(&server, &t).await;
    let (refused, _) = passkey_login(&c4, &t, &csrf4, &tx4, &mut device, None).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_refused(
        &refused,
        "invalid_request",
        "That passkey could not be verified.",
    );
    assert!(!refused.set_cookie);

    // Every step is in the audit trail.
    let ev = events(&server, &t).await;
    let passkey_detail = |kind: &str| {
        ev.iter()
            .any(|e| e["kind"] == kind && e["detail"] == "passkey" && e["result"] == "success")
    };
    assert!(passkey_detail("mfa.enrolled"));
    assert!(passkey_detail("mfa.verify"));
    assert!(passkey_detail("passkey.renamed"));
    assert!(passkey_detail("mfa.removed"));
    assert_eq!(count(&ev, "login.passkey", "success"), 1);
    // Replayed twice, wrong origin, wrong browser, removed.
    assert!(count(&ev, "login.passkey", "failure") >= 5, "{ev:?}");
    assert!(
        ev.iter()
            .any(|e| e["kind"] == "login.passkey" && e["detail"] == "unknown_credential"),
        "the removed passkey's attempt"
    );
}

#[actix_web::test]
async fn sign_up_offers_a_passkey_and_a_required_second_factor_can_be_one() {
    let server = start_localhost().await;
    let t = tenant(&server, "shop").await;
    let mut device = Device::new(&server);

    // Right after sign-up, in an authorization: the offer, then on to the client.
    let c = Client::new(&server);
    let (verifier, challenge) = pkce();
    let a = c.get(&authorize_url(&t, "openid", &challenge, &[])).await;
    let tx = query_param(&c.url(&a.location.unwrap()), "tx").unwrap();
    let page = c.get(&format!("/{}/signup?tx={tx}", t.id)).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let code_page = c
        .form(
            &format!("/{}/signup", t.id),
            &[
                ("email", "new@shop.example"),
                ("password", "a long new password"),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(code_page.status, 200, "{}", code_page.body);
    let code = outbox_code(server.dir.path(), "new@shop.example", "create your").await;
    let signed_up = c
        .form(
            &format!("/{}/signup/code", t.id),
            &[
                ("handle", &hidden(&code_page.body, "handle").unwrap()),
                ("code", &code),
                ("tx", &tx),
                ("csrf", &hidden(&code_page.body, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(signed_up.status, 303, "{}", signed_up.body);
    let offer = signed_up.location.unwrap();
    assert!(
        offer.starts_with(&format!("/{}/passkeys/offer?tx=", t.id)),
        "{offer}"
    );
    let page = c.get(&offer).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-passkey=\"register\""));
    let csrf = data_attr(&page.body, "csrf").unwrap();
    let offer_tx = data_attr(&page.body, "tx").unwrap();
    let start = c
        .json(
            &format!("/{}/passkeys/register/start", t.id),
            Some(&csrf),
            &json!({}),
        )
        .await;
    let started = start.json();
    let credential = device.register(&started["options"]);
    let done = c
        .json(
            &format!("/{}/passkeys/register/finish", t.id),
            Some(&csrf),
            &json!({"handle": started["handle"], "credential": credential, "tx": offer_tx}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let next = done.json()["redirect"].as_str().unwrap().to_owned();
    let back = c.get(&next).await.location.unwrap();
    let code = query_param(&back, "code").expect("on to the client");
    assert_eq!(
        redeem(&reqwest::Client::new(), &t, &code, &verifier)
            .await
            .0,
        200
    );
    // With a passkey already, the offer steps aside.
    assert_eq!(c.get(&offer).await.status, 303);

    // A tenant that requires a second factor and allows only passkeys: a user without
    // one enrols a passkey during sign-in, which completes the sign-in.
    set_policy(
        &server,
        &t,
        json!({"mode": "required", "factors": ["passkey"]}),
    )
    .await;
    let mut other = Device::new(&server);
    let c = Client::new(&server);
    let step = c.password(&t).await;
    assert_eq!(step.status, 200, "{}", step.body);
    assert!(step.body.contains("Add a second step"));
    assert!(
        !step.body.contains("authenticator app"),
        "TOTP is not allowed"
    );
    let pending = data_attr(&step.body, "pending").unwrap();
    let csrf = data_attr(&step.body, "csrf").unwrap();
    let start = c
        .json(
            &format!("/{}/passkeys/register/start", t.id),
            Some(&csrf),
            &json!({"pending": pending}),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    let started = start.json();
    let credential = other.register(&started["options"]);
    let done = c
        .json(
            &format!("/{}/passkeys/register/finish", t.id),
            Some(&csrf),
            &json!({"handle": started["handle"], "pending": pending, "credential": credential, "label": "Phone"}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.set_cookie);
    assert_eq!(done.json()["redirect"], format!("/{}/account", t.id));
    let account = c.get(&format!("/{}/account", t.id)).await;
    assert!(account.body.contains("<strong>Phone</strong>"));
}

#[actix_web::test]
async fn ceremony_endpoints_refuse_bad_requests_with_json_errors() {
    let server = start_localhost().await;
    let t = tenant(&server, "acme").await;
    let c = Client::new(&server);
    let page = c.get(&format!("/{}/login", t.id)).await;
    let csrf = data_attr(&page.body, "csrf").unwrap();
    let start = format!("/{}/passkeys/login/start", t.id);
    let finish = format!("/{}/passkeys/login/finish", t.id);

    // No CSRF token, or another browser's.
    let r = c.json(&start, None, &json!({})).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "invalid_request");
    let stranger = Client::new(&server);
    let r = stranger.json(&start, Some(&csrf), &json!({})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_request", "{}", r.body);
    // Not JSON, not an object, too large.
    let r = c.form(&start, &[("x", "y")]).await;
    assert_eq!(r.status, 400);
    assert_refused(&r, "invalid_request", "must be application/json");
    assert!(r.json()["error_description"].is_string());
    let r = c.json(&start, Some(&csrf), &json!([1, 2])).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_request", "{}", r.body);
    let big = json!({"pad": "x".repeat(100 * 1024)});
    let r = c.json(&start, Some(&csrf), &big).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_request", "{}", r.body);
    // Garbage where a credential should be, unknown handles, an expired link.
    let started = c.json(&start, Some(&csrf), &json!({})).await.json();
    for body in [
        json!({"handle": started["handle"], "credential": {"id": 1, "response": "no"}}),
        json!({"handle": "nope", "credential": null}),
        json!({"handle": started["handle"], "credential": {}}),
    ] {
        let r = c.json(&finish, Some(&csrf), &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.json()["error_description"].is_string(), "{}", r.body);
    }
    let r = c
        .json(
            &finish,
            Some(&csrf),
            &json!({"handle": "x", "tx": "tampered"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("link expired"));
    // Registration needs a session; a second factor needs a live pending sign-in.
    let r = c
        .json(
            &format!("/{}/passkeys/register/start", t.id),
            Some(&csrf),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_refused(&r, "login_required", "You are not signed in.");
    let r = c
        .json(
            &format!("/{}/passkeys/factor/start", t.id),
            Some(&csrf),
            &json!({"pending": "x".repeat(43)}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_refused(&r, "invalid_request", "expired or was already used");
    // The script is served, cacheable, to pages that allow only their own scripts.
    let js = c.get("/assets/passkeys.js").await;
    assert_eq!(js.status, 200);
    assert!(js.body.contains("navigator.credentials"));
    let r = reqwest::get(format!("{}/{}/login", server.base, t.id))
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.split(';').any(|d| d.trim() == "script-src 'self'"),
        "{csp}"
    );
    assert!(
        !r.text().await.unwrap().contains("<script>"),
        "no inline script"
    );

    // A server whose public URL is an IP address has no passkeys at all.
    let plain = TestServer::start().await;
    let t = plain.tenant("acme", false, true).await;
    let page = reqwest::get(format!("{}/{}/login", plain.base, t.id))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("webauthn") && !page.contains("data-passkey"));
}
