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

use common::{Browser, PASSWORD, TestServer, TestTenant, token_with};
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
        let ca = server.dir.path().join("node-ca.pem");
        std::fs::write(&ca, server.tls_ca.as_deref().expect("an https server")).unwrap();
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

/// The person at the other end of a scenario: a browser and the account it signs in with.
struct Person {
    browser: Browser,
    email: String,
}

impl Person {
    fn new(server: &TestServer, t: &TestTenant) -> Self {
        Self {
            browser: server.browser(),
            email: t.email.clone(),
        }
    }

    /// Does what node asks and returns the answer it waits for.
    async fn act(&self, ask: &Value) -> Value {
        match ask["ask"].as_str() {
            Some("authorize") => {
                let url = ask["url"].as_str().expect("an authorization URL");
                let callback = self.browser.authorize(url, &self.email, PASSWORD).await;
                json!({ "callback": callback })
            }
            other => panic!("node asked for something this test cannot do: {other:?} {ask}"),
        }
    }
}

/// Runs `library:scenario` to its end, acting as `person` whenever node asks; returns
/// the result node reported. Fails the test with node's report if node failed.
async fn drive(
    server: &TestServer,
    library: &str,
    scenario: &str,
    person: &Person,
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

fn input(t: &TestTenant) -> Value {
    json!({
        "issuer": t.issuer,
        "client_id": t.client_id,
        "client_secret": t.client_secret,
        "redirect_uri": t.redirect_uri,
    })
}

// ---- 1. Authorization code + PKCE + nonce ---------------------------------------------

async fn code_flow(server: &TestServer, t: &TestTenant, library: &str) {
    let person = Person::new(server, t);
    let r = drive(server, library, "code", &person, &input(t)).await;
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
}

#[ignore = "needs the npm packages in gateway/tests/node: ops/test.sh installs them"]
#[actix_web::test]
async fn code_flow_with_pkce_and_nonce() {
    let server = TestServer::start_tls().await;
    let t = server.tenant("libs", false, false).await;
    for library in LIBRARIES {
        code_flow(&server, &t, library).await;
    }
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
    let server = TestServer::start_tls().await;
    let m2m = machine_client(&server, "mach").await;
    for library in LIBRARIES {
        client_credentials(&server, &m2m, library).await;
    }
}
