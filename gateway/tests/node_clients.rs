//! Independent client libraries against the real server: openid-client 6 and oauth4webapi 3
//! (npm, pinned in tests/node/package.json) run as `node tests/node/run.mjs <lib>:<scenario>`
//! over https, each scenario once per library. The test makes the tenant and clients through
//! the admin API and hands them to node in `TG_INPUT`; where a person is needed node asks
//! (`{"ask": "authorize", "url": ...}`) and the test answers as one, signing in with the
//! [`Browser`]; node reports `{"result": ...}` and exits 0, or the failure and exits 1.
//! Both sides assert: the libraries check what they check (discovery, state, `iss`, nonce,
//! ID token signature against the JWKS, RFC 9068 access tokens), and the test checks what
//! they report and what the server then holds.
//!
//! The tests are `#[ignore]`d because they need `npm ci` in tests/node first; ops/test.sh
//! does that and runs them with `--ignored`.

mod common;

use common::{Browser, PASSWORD, TestServer, TestTenant, fresh_csrf, hidden, token_with};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

const LIBRARIES: [&str; 2] = ["openid-client", "oauth4webapi"];

/// How long node may take to say its next line (one grant or one whole library check).
const STEP: Duration = Duration::from_secs(30);

/// A running node scenario and its side of the conversation.
struct Node {
    name: String,
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Option<tokio::task::JoinHandle<String>>,
}

impl Node {
    /// Starts `run.mjs <scenario>` with `input` in its environment, trusting the server's
    /// test certificate.
    fn start(server: &TestServer, scenario: &str, input: &Value) -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
        assert!(
            dir.join("node_modules/openid-client").is_dir()
                && dir.join("node_modules/oauth4webapi").is_dir(),
            "run `npm ci` in {} first (ops/test.sh does)",
            dir.display()
        );
        // Written once: a node started earlier may be reading it.
        let ca = server.dir.path().join("node-ca.pem");
        if !ca.exists() {
            std::fs::write(&ca, server.tls_ca.as_deref().expect("an https server")).unwrap();
        }
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("run.mjs"))
            .arg(scenario)
            .current_dir(&dir)
            .env("TG_INPUT", input.to_string())
            .env("NODE_EXTRA_CA_CERTS", &ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts (ops/test.sh installs it)");
        let mut err = child.stderr.take().unwrap();
        let stderr = Some(tokio::spawn(async move {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s).await;
            s
        }));
        Self {
            name: scenario.to_owned(),
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()).lines(),
            child,
            stderr,
        }
    }

    /// The next JSON line node prints; fails the test on silence, exit or garbage.
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(STEP, self.stdout.next_line())
            .await
            .unwrap_or_else(|_| panic!("{}: silent for {STEP:?}", self.name))
            .unwrap();
        let Some(line) = line else {
            let status = self.child.wait().await.unwrap();
            let stderr = self.stderr().await;
            panic!(
                "{}: exited ({status}) without a result; stderr:\n{stderr}",
                self.name
            );
        };
        serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "{}: printed a line that is not JSON ({e}): {line}",
                self.name
            )
        })
    }

    /// What node wrote to stderr, once it has exited.
    async fn stderr(&mut self) -> String {
        match self.stderr.take() {
            Some(h) => tokio::time::timeout(STEP, h)
                .await
                .map_or_else(|_| "(stderr still open)".into(), |r| r.unwrap_or_default()),
            None => String::new(),
        }
    }

    async fn answer(&mut self, v: Value) {
        let mut line = v.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }
}

/// The person at the other end of a scenario: signs in with a browser of their own when
/// node asks, and registers the clients node brings keys for, as an operator would.
struct Person<'a> {
    server: &'a TestServer,
    tenant: &'a TestTenant,
    browser: Browser,
    /// The admin API's client body for `ask: register` (node adds `jwks`).
    client: Value,
}

impl<'a> Person<'a> {
    fn new(server: &'a TestServer, tenant: &'a TestTenant) -> Self {
        Self {
            server,
            tenant,
            browser: server.browser(),
            client: Value::Null,
        }
    }

    /// Registers the client node asks for as `client` (with node's keys added).
    fn registering(self, client: Value) -> Self {
        Self { client, ..self }
    }

    /// Does what node asks and returns the answer it waits for.
    async fn act(&self, ask: &Value) -> Value {
        match ask["ask"].as_str() {
            Some("authorize") => {
                let url = ask["url"].as_str().expect("an authorization URL");
                let callback = self
                    .browser
                    .authorize(url, &self.tenant.email, PASSWORD)
                    .await;
                json!({ "callback": callback })
            }
            Some("device") => {
                self.allow_device(ask["user_code"].as_str().expect("a user code"))
                    .await;
                json!({ "allowed": true })
            }
            Some("register") => {
                assert!(self.client.is_object(), "no client to register: {ask}");
                let mut body = self.client.clone();
                body["jwks"] = ask["jwks"].clone();
                let c = self
                    .server
                    .admin(&format!("/tenants/{}/clients", self.tenant.id), body)
                    .await;
                json!({ "client_id": c["client_id"], "client_secret": c["client_secret"] })
            }
            other => panic!("node asked for something this test cannot do: {other:?} {ask}"),
        }
    }

    /// Enters the user code on the hosted device page, signs in and allows the device.
    async fn allow_device(&self, user_code: &str) {
        let (b, issuer) = (&self.browser, &self.tenant.issuer);
        let csrf = fresh_csrf(b, &format!("{issuer}/device")).await;
        let (status, loc, page) = b
            .post_form(
                &format!("{issuer}/device"),
                &[("user_code", user_code), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(status, 303, "the user code was not taken: {page}");
        let confirm = b
            .authorize(&loc.unwrap(), &self.tenant.email, PASSWORD)
            .await;
        let (status, _, page) = b.get(&confirm).await;
        assert_eq!(status, 200, "{confirm}: {page}");
        let tx = hidden(&page, "tx").expect("the confirmation's tx");
        let csrf = hidden(&page, "csrf").expect("the confirmation's csrf");
        let (status, _, done) = b
            .post_form(
                &format!("{issuer}/device/confirm"),
                &[("decision", "allow"), ("tx", &tx), ("csrf", &csrf)],
            )
            .await;
        assert_eq!(status, 200, "{done}");
    }
}

/// Runs `library:scenario` to its end, acting as `person` whenever node asks; returns
/// the result node reported. Fails the test with node's report if node failed.
async fn drive(
    server: &TestServer,
    library: &str,
    scenario: &str,
    person: &Person<'_>,
    input: &Value,
) -> Value {
    let mut node = Node::start(server, &format!("{library}:{scenario}"), input);
    loop {
        let msg = node.next().await;
        if msg.get("ask").is_some() {
            let answer = person.act(&msg).await;
            node.answer(answer).await;
            continue;
        }
        let status = tokio::time::timeout(STEP, node.child.wait())
            .await
            .expect("node exits after its result")
            .unwrap();
        if let Some(result) = msg.get("result") {
            assert!(
                status.success(),
                "{}: reported a result but exited {status}",
                node.name
            );
            return result.clone();
        }
        let stderr = node.stderr().await;
        panic!(
            "{}: failed: {}\n{}\nstderr:\n{stderr}",
            node.name,
            msg["error"],
            serde_json::to_string_pretty(&msg).unwrap(),
        );
    }
}

/// Runs a scenario with both libraries at once (they share nothing but the server), so
/// waits inside one (a device's polling interval) do not add up.
async fn both<T, F: std::future::Future<Output = T>>(check: impl Fn(&'static str) -> F) {
    let [a, b] = LIBRARIES;
    tokio::join!(check(a), check(b));
}

/// The server, over https (the libraries refuse plain http). Each test signs in several
/// times at once (both libraries, sometimes several clients), more than the password
/// pool's default queue takes on two cores: the queue is made long enough for that.
async fn start() -> TestServer {
    TestServer::start_configured(true, |c| c.passwords.queue = 16).await
}

fn input(t: &TestTenant) -> Value {
    json!({
        "issuer": t.issuer,
        "client_id": t.client_id,
        "client_secret": t.client_secret,
        "redirect_uri": t.redirect_uri,
    })
}

// ---- 1. Authorization code + PKCE + nonce ---------------------------------------------

/// Runs the code flow scenario and checks what the library reports and what the server
/// then holds; returns the report. `refresh_id_token`: whether the client's refreshes
/// bring a new ID token (OIDC Core §12.2 lets a client do without).
async fn code_flow(
    server: &TestServer,
    t: &TestTenant,
    library: &str,
    refresh_id_token: bool,
) -> Value {
    let person = Person::new(server, t);
    let r = drive(server, library, "code", &person, &input(t)).await;
    assert_eq!(
        r["refresh_had_id_token"], refresh_id_token,
        "{library}: {r}"
    );
    let id = &r["id_token"];
    assert_eq!(id["iss"], t.issuer.as_str(), "{library}: {r}");
    assert_eq!(id["aud"], t.client_id.as_str(), "{library}: {r}");
    assert!(id["auth_time"].is_u64(), "{library}: {r}");
    assert_eq!(r["userinfo"]["sub"], id["sub"], "{library}: {r}");
    assert_eq!(r["userinfo"]["email"], t.email.as_str(), "{library}: {r}");
    assert_eq!(r["userinfo"]["email_verified"], true, "{library}: {r}");
    assert_eq!(r["introspection"]["active"], true, "{library}: {r}");
    assert_eq!(r["introspection"]["sub"], id["sub"], "{library}: {r}");
    assert_eq!(r["introspection"]["client_id"], t.client_id.as_str());
    assert_eq!(r["access_token"]["sub"], id["sub"], "{library}: {r}");
    assert_eq!(r["access_token"]["client_id"], t.client_id.as_str());
    // What node revoked, or reused (which revokes the chain), is refused here too.
    let gone: Vec<&str> = ["revoked_refresh_token", "reused_refresh_token"]
        .iter()
        .filter_map(|k| r[k].as_str())
        .collect();
    assert!(!gone.is_empty(), "{library}: no refused refresh token: {r}");
    for rt in gone {
        let (status, v) = token_with(
            &server.http,
            t,
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        )
        .await;
        assert_eq!(
            (status, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "{library}: {v}"
        );
    }
    r
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn code_flow_with_pkce_and_nonce() {
    let server = start().await;
    let t = server.tenant("libs", false, false).await;
    // A client whose refreshes answer without an ID token: the libraries take that too.
    let c = server
        .admin(
            "/tenants/libs/clients",
            json!({
                "name": "Refreshes lean",
                "redirect_uris": [t.redirect_uri],
                "refresh_without_id_token": true,
            }),
        )
        .await;
    let lean = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t.clone()
    };
    tokio::join!(
        both(|library| code_flow(&server, &t, library, true)),
        both(|library| code_flow(&server, &lean, library, false)),
    );
}

// ---- 2. client_credentials with resource (RFC 8707) -------------------------------------

const ORDERS: &str = "https://orders.example/api";
const BILLING: &str = "https://billing.example/";

/// A tenant with two APIs and a machine client granted `read:orders` on one of them.
async fn machine_client(server: &TestServer, id: &str) -> TestTenant {
    let t = server.tenant(id, false, false).await;
    for (identifier, scopes) in [
        (ORDERS, json!(["read:orders", "write:orders"])),
        (BILLING, json!(["pay"])),
    ] {
        server
            .admin(
                &format!("/tenants/{id}/apis"),
                json!({"identifier": identifier, "name": "An API", "scopes": scopes}),
            )
            .await;
    }
    let c = server
        .admin(
            &format!("/tenants/{id}/clients"),
            json!({
                "name": "Nightly job",
                "grant_types": ["client_credentials"],
                "api_grants": {ORDERS: ["read:orders"]},
            }),
        )
        .await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t
    }
}

async fn client_credentials(server: &TestServer, m2m: &TestTenant, library: &str) {
    let person = Person::new(server, m2m);
    let mut i = input(m2m);
    i["resource"] = json!(ORDERS);
    i["scope"] = json!("read:orders");
    i["forbidden_resource"] = json!(BILLING);
    let r = drive(server, library, "client_credentials", &person, &i).await;
    assert_eq!(r["token_type"], "bearer", "{library}: {r}");
    assert_eq!(r["scope"], "read:orders", "{library}: {r}");
    let at = &r["access_token"];
    assert_eq!(at["iss"], m2m.issuer.as_str(), "{library}: {r}");
    assert_eq!(at["aud"], ORDERS, "{library}: {r}");
    assert_eq!(at["sub"], m2m.client_id.as_str(), "{library}: {r}");
    assert_eq!(at["client_id"], m2m.client_id.as_str(), "{library}: {r}");
    assert!(at.get("auth_time").is_none(), "{library}: {r}");
    assert_eq!(r["refused"], "invalid_target", "{library}: {r}");
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn client_credentials_for_an_api() {
    let server = start().await;
    let m2m = machine_client(&server, "mach").await;
    both(|library| client_credentials(&server, &m2m, library)).await;
}

// ---- 3. Device authorization grant (RFC 8628) --------------------------------------------

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn device(server: &TestServer, tv: &TestTenant, library: &str) {
    let person = Person::new(server, tv);
    let r = drive(server, library, "device", &person, &input(tv)).await;
    assert_eq!(r["id_token"]["iss"], tv.issuer.as_str(), "{library}: {r}");
    assert_eq!(
        r["id_token"]["aud"],
        tv.client_id.as_str(),
        "{library}: {r}"
    );
    assert_eq!(r["userinfo"]["sub"], r["id_token"]["sub"], "{library}: {r}");
    assert_eq!(r["scope"], "openid offline_access", "{library}: {r}");
    if library == "oauth4webapi" {
        assert_eq!(r["pending"], "authorization_pending", "{library}: {r}");
    } else {
        // openid-client's device polls with DPoP proofs: its tokens are bound to its key.
        assert_eq!(r["token_type"], "dpop", "{r}");
        let jkt = r["jkt"].as_str().expect("the key's thumbprint");
        assert_eq!(r["access_token_claims"]["cnf"]["jkt"], jkt, "{r}");
    }
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn device_authorization_grant() {
    let server = start().await;
    let t = server.tenant("tv", false, false).await;
    let c = server
        .admin(
            "/tenants/tv/clients",
            json!({"name": "Living room TV", "public": true, "grant_types": [DEVICE_GRANT, "refresh_token"]}),
        )
        .await;
    let tv = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: None,
        ..t
    };
    both(|library| device(&server, &tv, library)).await;
}

// ---- 4. private_key_jwt (RFC 7523) --------------------------------------------------------

async fn private_key_jwt(server: &TestServer, t: &TestTenant, library: &str) {
    // The library makes its key pair; the operator registers the public half.
    let person = Person::new(server, t).registering(json!({
        "name": format!("Signed job ({library})"),
        "grant_types": ["client_credentials"],
        "api_grants": {ORDERS: ["read:orders"]},
        "token_endpoint_auth_method": "private_key_jwt",
    }));
    let mut i = input(t);
    i["resource"] = json!(ORDERS);
    let r = drive(server, library, "private_key_jwt", &person, &i).await;
    let client_id = r["client_id"].as_str().expect("the registered client");
    assert_ne!(client_id, t.client_id);
    assert_eq!(r["access_token"]["sub"], client_id, "{library}: {r}");
    assert_eq!(r["access_token"]["client_id"], client_id, "{library}: {r}");
    assert_eq!(r["access_token"]["aud"], ORDERS, "{library}: {r}");
    assert_eq!(r["introspection"]["active"], true, "{library}: {r}");
    assert_eq!(r["introspection"]["client_id"], client_id, "{library}: {r}");
    // The library's assertion, made to name another audience or to repeat a jti.
    assert_eq!(r["misaddressed_error"], "invalid_client", "{library}: {r}");
    assert_eq!(r["replayed_error"], "invalid_client", "{library}: {r}");
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn private_key_jwt_client_authentication() {
    let server = start().await;
    let t = machine_client(&server, "signed").await;
    both(|library| private_key_jwt(&server, &t, library)).await;
}

// ---- 5. PAR (RFC 9126) and request objects (RFC 9101) -------------------------------------

async fn pushed(server: &TestServer, t: &TestTenant, library: &str) {
    let person = Person::new(server, t);
    let r = drive(server, library, "par", &person, &input(t)).await;
    assert_eq!(r["id_token"]["aud"], t.client_id.as_str(), "{library}: {r}");
    assert_eq!(r["userinfo"]["email"], t.email.as_str(), "{library}: {r}");
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn pushed_authorization_requests() {
    let server = start().await;
    let t = server.tenant("pushed", false, false).await;
    let c = server
        .admin(
            "/tenants/pushed/clients",
            json!({
                "name": "Pushes first",
                "redirect_uris": [t.redirect_uri],
                "require_pushed_authorization_requests": true,
            }),
        )
        .await;
    let t = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t
    };
    // Unpushed, its requests are refused.
    let (_, challenge) = common::pkce();
    let (status, loc, body) = server
        .browser()
        .get(&common::authorize_url(&t, "openid", &challenge, &[]))
        .await;
    let loc = loc.unwrap_or_else(|| panic!("an error redirect, not {status}: {body}"));
    assert_eq!(
        common::query_param(&loc, "error").as_deref(),
        Some("invalid_request"),
        "{loc}"
    );
    let discovery: Value = server
        .http
        .get(format!("{}/.well-known/openid-configuration", t.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        format!("{}/par", t.issuer),
        "{discovery}"
    );
    both(|library| pushed(&server, &t, library)).await;
}

async fn request_object(server: &TestServer, t: &TestTenant, library: &str) {
    // The library makes its key pair; the operator registers the public half.
    let person = Person::new(server, t).registering(json!({
        "name": format!("Signs its requests ({library})"),
        "redirect_uris": [t.redirect_uri],
    }));
    // openid-client pushes its request object (JAR inside PAR); oauth4webapi sends it in
    // the authorization URL.
    let mut i = input(t);
    i["par"] = json!(library == "openid-client");
    let r = drive(server, library, "jar", &person, &i).await;
    let client_id = r["client_id"].as_str().expect("the registered client");
    assert_eq!(r["id_token"]["aud"], client_id, "{library}: {r}");
    assert_eq!(r["userinfo"]["email"], t.email.as_str(), "{library}: {r}");
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn signed_request_objects() {
    let server = start().await;
    let t = server.tenant("jar", false, false).await;
    both(|library| request_object(&server, &t, library)).await;
}

// ---- 6. Pairwise subject identifiers (OIDC Core §8.1) ------------------------------------

/// A pairwise client whose sector is the host of `redirect_uri`.
async fn pairwise_client(server: &TestServer, t: &TestTenant, redirect_uri: &str) -> TestTenant {
    let c = server
        .admin(
            &format!("/tenants/{}/clients", t.id),
            json!({
                "name": format!("Pairwise at {redirect_uri}"),
                "redirect_uris": [redirect_uri],
                "subject_type": "pairwise",
            }),
        )
        .await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        redirect_uri: redirect_uri.into(),
        ..t.clone()
    }
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn pairwise_subjects() {
    let server = start().await;
    let public = server.tenant("pair", false, false).await;
    let a = pairwise_client(&server, &public, "http://127.0.0.1:9/cb").await;
    let b = pairwise_client(&server, &public, "http://localhost:9/cb").await;
    // The code flow as usual (the libraries check that userinfo's sub is the ID token's,
    // the test that introspection and the access token say the same): for one sector with
    // both libraries, for another sector, and for a public client.
    let (a1, a2, b1, p1) = tokio::join!(
        code_flow(&server, &a, "openid-client", true),
        code_flow(&server, &a, "oauth4webapi", true),
        code_flow(&server, &b, "openid-client", true),
        code_flow(&server, &public, "oauth4webapi", true),
    );
    let sub = |r: &Value| r["id_token"]["sub"].as_str().unwrap().to_owned();
    assert_eq!(sub(&a1), sub(&a2), "one sector, one subject");
    assert_ne!(sub(&a1), sub(&b1), "another sector, another subject");
    assert_ne!(
        sub(&a1),
        sub(&p1),
        "the public subject differs from a pairwise one"
    );
    assert_ne!(sub(&b1), sub(&p1));
}

// ---- 7. DPoP (RFC 9449) -------------------------------------------------------------------

/// A public client for DPoP: openid-client's may use it (and does), oauth4webapi's must,
/// with a server nonce in every proof.
async fn dpop(server: &TestServer, t: &TestTenant, library: &str) {
    let required = library == "oauth4webapi";
    let c = server
        .admin(
            &format!("/tenants/{}/clients", t.id),
            json!({
                "name": format!("Mobile app ({library})"),
                "public": true,
                "redirect_uris": [t.redirect_uri],
                "dpop_bound_access_tokens": required,
                "dpop_nonce_required": required,
            }),
        )
        .await;
    let app = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: None,
        ..t.clone()
    };
    let person = Person::new(server, &app);
    let mut i = input(&app);
    // openid-client pushes its request, with a proof (DPoP with PAR, RFC 9449 §10.1).
    i["par"] = json!(library == "openid-client");
    i["wrong_key_error"] = json!("invalid_grant");
    // Without a proof: a bound refresh token is refused; a client that must send proofs
    // is refused before its token is looked at.
    i["no_proof_error"] = json!(if required {
        "invalid_dpop_proof"
    } else {
        "invalid_grant"
    });
    let r = drive(server, library, "dpop", &person, &i).await;
    assert_eq!(r["token_type"], "dpop", "{library}: {r}");
    let jkt = r["jkt"].as_str().expect("the key's thumbprint");
    assert_eq!(
        r["access_token_claims"]["cnf"]["jkt"], jkt,
        "{library}: {r}"
    );
    assert_eq!(r["userinfo"]["email"], t.email.as_str(), "{library}: {r}");
    if required {
        // The server asked for a nonce (token endpoint, userinfo) and the library answered.
        assert!(r["nonce_retries"].as_u64() >= Some(1), "{library}: {r}");
    }
    if library == "openid-client" {
        assert_eq!(r["replayed_proof_error"], "invalid_dpop_proof", "{r}");
    }
    // The bound token is worthless as a bearer token.
    let at = r["access_token"].as_str().unwrap();
    let resp = server
        .http
        .get(format!("{}/userinfo", app.issuer))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        401,
        "{library}: a DPoP-bound token used as Bearer"
    );
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn dpop_bound_tokens() {
    let server = start().await;
    let t = server.tenant("dpop", false, false).await;
    both(|library| dpop(&server, &t, library)).await;
}

// ---- 8. Token exchange (RFC 8693) ---------------------------------------------------------

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const FULFILMENT: &str = "https://fulfilment.example/";

async fn token_exchange(server: &TestServer, t: &TestTenant, library: &str) {
    let person = Person::new(server, t);
    let mut i = input(t);
    // The user's token is for the orders API; the client exchanges it for fulfilment,
    // which its policy allows, and then for orders, which it does not.
    i["subject_scope"] = json!("openid read:orders");
    i["subject_resource"] = json!(ORDERS);
    i["resource"] = json!(FULFILMENT);
    i["scope"] = json!("read:orders");
    i["forbidden_resource"] = json!(ORDERS);
    i["forbidden_error"] = json!("invalid_target");
    i["actor_resource"] = json!(FULFILMENT);
    let r = drive(server, library, "token_exchange", &person, &i).await;
    assert_eq!(r["subject"]["aud"], ORDERS, "{library}: {r}");
    assert_eq!(
        r["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token",
        "{library}: {r}"
    );
    assert_eq!(r["token_type"], "bearer", "{library}: {r}");
    let at = &r["access_token"];
    assert_eq!(at["aud"], FULFILMENT, "{library}: {r}");
    assert_eq!(at["sub"], r["subject"]["sub"], "{library}: {r}");
    assert_eq!(at["scope"], "read:orders", "{library}: {r}");
    assert_eq!(at["client_id"], t.client_id.as_str(), "{library}: {r}");
    assert_eq!(r["refused"], "invalid_target", "{library}: {r}");
    // Delegated: still the user's token, naming the client as the actor (RFC 8693 §4.1).
    let delegated = &r["delegated"];
    assert_eq!(delegated["sub"], r["subject"]["sub"], "{library}: {r}");
    assert_eq!(delegated["aud"], FULFILMENT, "{library}: {r}");
    assert_eq!(
        delegated["act"]["sub"],
        t.client_id.as_str(),
        "{library}: {r}"
    );
    assert_eq!(
        delegated["act"]["client_id"],
        t.client_id.as_str(),
        "{library}: {r}"
    );
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn token_exchange_for_another_api() {
    let server = start().await;
    let t = server.tenant("swap", false, false).await;
    for (identifier, scopes) in [
        (ORDERS, json!(["read:orders", "write:orders"])),
        (FULFILMENT, json!(["read:orders", "ship"])),
    ] {
        server
            .admin(
                "/tenants/swap/apis",
                json!({"identifier": identifier, "name": identifier, "scopes": scopes}),
            )
            .await;
    }
    let c = server
        .admin(
            "/tenants/swap/clients",
            json!({
                "name": "Orders web app and service",
                "redirect_uris": [t.redirect_uri],
                "grant_types": ["authorization_code", "refresh_token", EXCHANGE, "client_credentials"],
                "api_grants": {FULFILMENT: ["ship"]},
                "token_exchange": {"audiences": [FULFILMENT], "delegation": true},
            }),
        )
        .await;
    let t = TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t
    };
    both(|library| token_exchange(&server, &t, library)).await;
}

// ---- 9. Dynamic client registration (RFC 7591, RFC 7592) ---------------------------------

async fn registration(server: &TestServer, t: &TestTenant, library: &str) -> String {
    let iat = server
        .admin(
            &format!("/tenants/{}/initial-access-tokens", t.id),
            json!({"max_uses": 1}),
        )
        .await;
    let person = Person::new(server, t);
    let mut i = input(t);
    i["initial_access_token"] = iat["token"].clone();
    let r = drive(server, library, "registration", &person, &i).await;
    let client_id = r["client"]["client_id"]
        .as_str()
        .expect("a registered client_id")
        .to_owned();
    assert_ne!(client_id, t.client_id);
    assert_eq!(r["id_token"]["aud"], client_id.as_str(), "{library}: {r}");
    assert_eq!(r["userinfo"]["email"], t.email.as_str(), "{library}: {r}");
    if library == "oauth4webapi" {
        assert_eq!(r["read_back"]["client_id"], client_id.as_str(), "{r}");
    }
    // The initial access token was good for one client: it is spent.
    let again = server
        .http
        .post(format!("{}/register", t.issuer))
        .bearer_auth(iat["token"].as_str().unwrap())
        .json(&json!({"redirect_uris": [t.redirect_uri]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        401,
        "{library}: a spent initial access token"
    );
    client_id
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn dynamic_client_registration() {
    let server = start().await;
    let t = server.tenant("dcr", false, false).await;
    let (a, b) = tokio::join!(
        registration(&server, &t, "openid-client"),
        registration(&server, &t, "oauth4webapi"),
    );
    assert_ne!(a, b);
}
