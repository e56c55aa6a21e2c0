//! Test harness: a real server in-process on port 0 with its own data directory, admin
//! helpers over HTTP, and a cookie-keeping client that fills in the hosted forms.
#![allow(dead_code)]

pub mod chrome;
pub mod passkey;
pub mod upstream;

use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_engine::clock::{SharedClock, SystemClock};
use tollgate_gateway::config::{Config, Mode};
use tollgate_gateway::server::{Running, start_with_clock};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub base: String,
    /// PEM of the server's self-signed certificate, when it serves https.
    pub tls_ca: Option<String>,
    pub admin_token: String,
    pub running: Running,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

pub fn config(dir: &std::path::Path) -> Config {
    Config {
        mode: Mode::Development,
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        demo: Some(false),
        workers: 2,
        log: "warn".into(),
        ..Config::default()
    }
}

/// An HTTP client that trusts the test certificate, if any.
pub fn client_builder(ca: Option<&str>) -> reqwest::ClientBuilder {
    let mut b = reqwest::Client::builder();
    if let Some(pem) = ca {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
    }
    b
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// Serves https with a fresh self-signed certificate for 127.0.0.1.
    pub async fn start_tls() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(tls: bool) -> Self {
        Self::start_configured(tls, |_| {}).await
    }

    /// Starts with a configuration adjusted by `adjust`.
    pub async fn start_configured(tls: bool, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_configured_with_clock(tls, Arc::new(SystemClock), adjust).await
    }

    /// Starts with the engine reading time from `clock` (a `ManualClock` the test moves).
    pub async fn start_with_clock(clock: SharedClock) -> Self {
        Self::start_configured_with_clock(false, clock, |_| {}).await
    }

    /// [`Self::start_configured`] with the engine reading time from `clock`.
    pub async fn start_configured_with_clock(
        tls: bool,
        clock: SharedClock,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path());
        adjust(&mut cfg);
        let mut ca = None;
        if tls {
            let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
            let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            std::fs::write(&cert, ck.cert.pem()).unwrap();
            std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
            cfg.tls_cert_file = Some(cert);
            cfg.tls_key_file = Some(key);
            ca = Some(ck.cert.pem());
        }
        let running = start_with_clock(cfg, clock).await.expect("server starts");
        let scheme = if tls { "https" } else { "http" };
        Self {
            base: format!("{scheme}://{}", running.addr),
            tls_ca: ca.clone(),
            admin_token: running.admin_token.clone(),
            running,
            dir,
            http: client_builder(ca.as_deref()).build().unwrap(),
        }
    }

    pub fn browser(&self) -> Browser {
        Browser::with_ca(&self.base, self.tls_ca.as_deref())
    }

    /// Returns once every audit event recorded so far can be read. Hot paths hand their
    /// events to the store's next group commit instead of waiting; a write (here an empty
    /// append) completes only with a commit that carries every event handed over before
    /// it. (Events appended after later work, such as a send, need [`Self::events_until`].)
    pub async fn settle_events(&self) {
        self.running
            .engine
            .store()
            .append_events(&[])
            .await
            .expect("the store commits");
    }

    /// A tenant's audit events, newest first, read once every event recorded so far is
    /// readable; `query` adds parameters (`kind=login.`). Anything but a JSON array fails.
    pub async fn events(&self, tenant: &str, query: &str) -> Vec<Value> {
        self.settle_events().await;
        let v = self
            .admin_get(&format!("/tenants/{tenant}/events?limit=1000&{query}"))
            .await;
        match v {
            Value::Array(events) => events,
            other => panic!("the events of {tenant} are not a JSON array: {other}"),
        }
    }

    /// [`Self::events`], polled until `done` holds: for events appended after work that
    /// outlives the request (a mail or SMS send). Fails after 15 s, showing the events.
    pub async fn events_until(
        &self,
        tenant: &str,
        query: &str,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let events = self.events(tenant, query).await;
            if done(&events) {
                return events;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the awaited events never came: {}",
                Value::Array(events)
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// GETs an admin API path (with the admin token); fails the test unless it answers 2xx.
    pub async fn admin_get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/admin/v1{path}", self.base))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "admin GET {path} failed: {status} {v}");
        v
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/admin/v1{path}", self.base))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "admin {path} failed: {status} {v}");
        v
    }

    /// A tenant with one user, and a client of the given kind.
    pub async fn tenant(&self, id: &str, public: bool, first_party: bool) -> TestTenant {
        self.admin(
            "/tenants",
            json!({"id": id, "display_name": format!("Tenant {id}")}),
        )
        .await;
        let c = self
            .admin(
                &format!("/tenants/{id}/clients"),
                json!({
                    "name": "Test app",
                    "redirect_uris": ["http://127.0.0.1:9/cb"],
                    "post_logout_redirect_uris": ["http://127.0.0.1:9/bye"],
                    "public": public,
                    "first_party": first_party,
                }),
            )
            .await;
        let email = format!("user@{id}.example");
        self.admin(
            &format!("/tenants/{id}/users"),
            json!({"email": email, "password": PASSWORD, "name": "Ada Lovelace", "email_verified": true}),
        )
        .await;
        TestTenant {
            issuer: format!("{}/{id}", self.base),
            id: id.into(),
            client_id: c["client_id"].as_str().unwrap().into(),
            client_secret: c["client_secret"].as_str().map(str::to_owned),
            redirect_uri: "http://127.0.0.1:9/cb".into(),
            email,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TestTenant {
    pub id: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: String,
    pub email: String,
}

/// A browser stand-in: keeps cookies, never follows redirects on its own.
#[derive(Clone)]
pub struct Browser {
    pub http: reqwest::Client,
    base: String,
}

/// The value of a hidden input in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].replace("&amp;", "&"))
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self::with_ca(base, None)
    }

    pub fn with_ca(base: &str, ca: Option<&str>) -> Self {
        Self {
            http: client_builder(ca)
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.into(),
        }
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.into()
        }
    }

    /// GETs and returns (status, Location if any, body).
    pub async fn get(&self, url: &str) -> (u16, Option<String>, String) {
        let r = self.http.get(url).send().await.unwrap();
        let loc = r
            .headers()
            .get(LOCATION)
            .map(|v| self.absolute(v.to_str().unwrap()));
        (r.status().as_u16(), loc, r.text().await.unwrap())
    }

    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> (u16, Option<String>, String) {
        let r = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).unwrap())
            .send()
            .await
            .unwrap();
        let loc = r
            .headers()
            .get(LOCATION)
            .map(|v| self.absolute(v.to_str().unwrap()));
        (r.status().as_u16(), loc, r.text().await.unwrap())
    }

    /// Submits the sign-in form of a pending authorization; returns status and whether
    /// `Retry-After` was set.
    pub async fn sign_in_post(
        &self,
        login: &str,
        email: &str,
        password: &str,
        tx: &str,
        csrf: &str,
    ) -> (u16, bool) {
        let r = self
            .http
            .post(login)
            .form(&[
                ("email", email),
                ("password", password),
                ("tx", tx),
                ("csrf", csrf),
            ])
            .send()
            .await
            .unwrap();
        (
            r.status().as_u16(),
            r.headers().get("retry-after").is_some(),
        )
    }

    /// Follows an authorization through sign-in and, if asked, consent; returns the final
    /// redirect to the client (with `code` or `error`).
    pub async fn authorize(&self, url: &str, email: &str, password: &str) -> String {
        let (status, mut loc, _) = self.get(url).await;
        assert_eq!(status, 303, "authorize did not redirect");
        for _ in 0..4 {
            let next = loc.clone().expect("a redirect");
            if next.contains("/login?") {
                let (_, _, page) = self.get(&next).await;
                let tx = hidden(&page, "tx").expect("tx field");
                let csrf = hidden(&page, "csrf").expect("csrf field");
                let (s, l, body) = self
                    .post_form(
                        &format!("{}/login", next.split("/login?").next().unwrap()),
                        &[
                            ("email", email),
                            ("password", password),
                            ("tx", &tx),
                            ("csrf", &csrf),
                        ],
                    )
                    .await;
                assert_eq!(s, 303, "sign-in failed: {body}");
                loc = l;
            } else if next.contains("/consent?") {
                let (_, _, page) = self.get(&next).await;
                let tx = hidden(&page, "tx").expect("tx field");
                let csrf = hidden(&page, "csrf").expect("csrf field");
                let (s, l, _) = self
                    .post_form(
                        &format!("{}/consent", next.split("/consent?").next().unwrap()),
                        &[("decision", "allow"), ("tx", &tx), ("csrf", &csrf)],
                    )
                    .await;
                assert_eq!(s, 303);
                loc = l;
            } else {
                return next;
            }
        }
        panic!("too many steps");
    }
}

/// A PKCE pair (RFC 7636): verifier and S256 challenge.
pub fn pkce() -> (String, String) {
    let v = tollgate_engine::crypto::random_token::<32>();
    let c = tollgate_engine::crypto::pkce_s256(&v);
    (v, c)
}

/// An authorization URL for a test tenant.
pub fn authorize_url(
    t: &TestTenant,
    scope: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut u = url::Url::parse(&format!("{}/authorize", t.issuer)).unwrap();
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &t.client_id)
            .append_pair("redirect_uri", &t.redirect_uri)
            .append_pair("scope", scope)
            .append_pair("state", "st-123")
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

/// The tenant's discovery document.
pub async fn discovery(t: &TestTenant) -> Value {
    let url = format!("{}/.well-known/openid-configuration", t.issuer);
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// POSTs a token request with client_secret_post (or none for public clients).
pub async fn token(t: &TestTenant, params: &[(&str, &str)]) -> (u16, Value) {
    token_with(&reqwest::Client::new(), t, params).await
}

pub async fn token_with(
    http: &reqwest::Client,
    t: &TestTenant,
    params: &[(&str, &str)],
) -> (u16, Value) {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("client_id", &t.client_id));
    if let Some(s) = &t.client_secret {
        form.push(("client_secret", s));
    }
    let sent = http
        .post(format!("{}/token", t.issuer))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&form).unwrap())
        .send()
        .await;
    match sent {
        Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
        // No answer at all (the crash test kills the server): status 0.
        Err(_) => (0, Value::Null),
    }
}

/// Presents a refresh token.
pub async fn refresh(t: &TestTenant, refresh_token: &str) -> (u16, Value) {
    token(
        t,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Redeems an authorization code with its PKCE verifier.
pub async fn redeem(
    http: &reqwest::Client,
    t: &TestTenant,
    code: &str,
    verifier: &str,
) -> (u16, Value) {
    token_with(
        http,
        t,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &t.redirect_uri),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// Signs in and redeems a code; returns the token response.
pub async fn login_tokens(b: &Browser, t: &TestTenant, scope: &str) -> Value {
    let (verifier, challenge) = pkce();
    let url = authorize_url(t, scope, &challenge, &[("prompt", "consent")]);
    let back = b.authorize(&url, &t.email, PASSWORD).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (s, v) = redeem(&reqwest::Client::new(), t, &code, &verifier).await;
    assert_eq!(s, 200, "{v}");
    v
}

/// The `tollgate` binary running as a child process.
pub struct BinaryServer {
    pub child: std::process::Child,
    pub base: String,
    /// Every line it printed before `LISTEN=` and up to the demo block's end.
    pub printed: Vec<String>,
}

/// A test that fails must not leave its server running (it would hold the port, the data
/// directory and whatever its parent shared with it).
impl Drop for BinaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tollgate serve` on port 0 in `dir` (demo off unless `env` turns it on) and
/// waits for its `LISTEN=` line.
pub fn spawn_binary(dir: &std::path::Path, env: &[(&str, &str)]) -> BinaryServer {
    use std::io::{BufRead, BufReader};
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("TOLLGATE_DEMO", "false")
        .env("TOLLGATE_LOG", "warn")
        .env("TOLLGATE_WORKERS", "2")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("the tollgate binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let mut addr = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("LISTEN=") {
            addr = Some(a.to_owned());
        }
        let done = addr.is_some()
            && (line.starts_with("Admin API token")
                || !env
                    .iter()
                    .any(|(k, v)| *k == "TOLLGATE_DEMO" && *v == "true"));
        printed.push(line);
        if done {
            break;
        }
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    BinaryServer {
        child,
        base: format!("http://{}", addr.expect("server printed LISTEN=")),
        printed,
    }
}

/// The value of one series in the server's `/metrics`, e.g. `tollgate_shards_running` or
/// `tollgate_logins_total{result="success"}`.
pub async fn metric(base: &str, series: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| {
            l.strip_prefix(series)
                .is_some_and(|rest| rest.starts_with(' '))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{series} missing from /metrics"))
}

/// Runs the `tollgate` binary (no admin token or configuration from the environment);
/// returns whether it succeeded, its stdout and its stderr.
#[allow(dead_code)]
pub fn tollgate(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"));
    cmd.args(args)
        .env_remove("TOLLGATE_ADMIN_TOKEN")
        .env_remove("TOLLGATE_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A server whose public URL is `http://localhost:PORT` (WebAuthn needs a domain, and
/// browsers treat http://localhost as a secure context). It listens on 127.0.0.1; the
/// port is reserved first, so a rare collision with another process is possible.
pub async fn start_localhost() -> TestServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    TestServer::start_configured(false, |c| {
        c.listen = format!("127.0.0.1:{port}");
        c.public_url = Some(format!("http://localhost:{port}"));
    })
    .await
}

/// The claims of a JWT, unverified (the tests that use this check only what it says).
pub fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&tollgate_engine::crypto::b64_decode(payload).expect("base64url"))
        .expect("JSON claims")
}

pub fn jwt_header(jwt: &str) -> Value {
    let header = jwt.split('.').next().expect("a JWT");
    serde_json::from_slice(&tollgate_engine::crypto::b64_decode(header).expect("base64url"))
        .expect("JSON header")
}

/// A CSRF token for the browser as it is now: tokens are bound to the session, so a
/// form fetched before signing in is stale after.
pub async fn fresh_csrf(b: &Browser, page_url: &str) -> String {
    let (s, _, page) = b.get(page_url).await;
    assert_eq!(s, 200, "{page_url}: {page}");
    hidden(&page, "csrf").expect("a form with a CSRF token")
}

/// The code in the newest mail to `to` in the development outbox whose text contains
/// `says` (waits for it, bounded: the courier sends off the request path).
pub async fn outbox_code(dir: &std::path::Path, to: &str, says: &str) -> String {
    let outbox = dir.join("outbox");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let mut found: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let text = std::fs::read_to_string(e.path()).ok()?;
                let to_line = format!("To: {to}");
                if !(text.contains(&to_line) && text.contains(says)) {
                    return None;
                }
                Some((e.metadata().ok()?.modified().ok()?, text))
            })
            .collect();
        found.sort();
        if let Some((_, text)) = found.pop() {
            return first_six_digits(&mail_text(&text)).expect("a 6-digit code in the mail");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to {to} saying {says:?} in {}",
            outbox.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn first_six_digits(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 6 {
            return Some(text[start..i].to_owned());
        }
        i = i.max(start + 1);
    }
    None
}

/// Signs up in `b` through the hosted pages (the form, then the code mailed to the
/// development outbox); returns the answer to the code, which creates the account.
pub async fn sign_up(
    srv: &TestServer,
    b: &Browser,
    tenant: &str,
    email: &str,
    password: &str,
    tx: Option<&str>,
) -> (u16, Option<String>, String) {
    let issuer = format!("{}/{tenant}", srv.base);
    let url = match tx {
        Some(tx) => format!("{issuer}/signup?tx={tx}"),
        None => format!("{issuer}/signup"),
    };
    let csrf = fresh_csrf(b, &url).await;
    let mut form = vec![("email", email), ("password", password), ("csrf", &csrf)];
    if let Some(tx) = tx {
        form.push(("tx", tx));
    }
    let (s, _, page) = b.post_form(&format!("{issuer}/signup"), &form).await;
    assert_eq!(s, 200, "sign-up did not ask for the code: {page}");
    assert!(page.contains("We sent a 6-digit code"), "{page}");
    let code = outbox_code(srv.dir.path(), &email.to_lowercase(), "create your").await;
    let handle = hidden(&page, "handle").expect("the code form's handle");
    let csrf = hidden(&page, "csrf").unwrap();
    let mut form = vec![
        ("handle", handle.as_str()),
        ("code", code.as_str()),
        ("csrf", csrf.as_str()),
    ];
    if let Some(tx) = tx {
        form.push(("tx", tx));
    }
    b.post_form(&format!("{issuer}/signup/code"), &form).await
}

/// The decoded text body of a message as sent (7bit, quoted-printable or base64: the mail
/// library picks whichever suits the text).
pub fn mail_text(message: &str) -> String {
    let (head, body) = message.split_once("\r\n\r\n").unwrap_or((message, ""));
    let encoding = head
        .split("\r\n")
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-transfer-encoding")
                .then(|| value.trim().to_ascii_lowercase())
        })
        .unwrap_or_default();
    match encoding.as_str() {
        "base64" => {
            use base64::Engine as _;
            let joined: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(joined)
                .expect("base64 body");
            String::from_utf8(bytes).unwrap()
        }
        "quoted-printable" => {
            let s = body.replace("=\r\n", "");
            let b = s.as_bytes();
            let mut out = Vec::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'='
                    && i + 2 < b.len()
                    && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
                {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(b[i]);
                i += 1;
            }
            String::from_utf8(out).unwrap()
        }
        _ => body.to_owned(),
    }
}

/// A code from the browser's session (signing in if it has none), not redeemed: the code
/// and its PKCE verifier.
pub async fn code_for(b: &Browser, t: &TestTenant, scope: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(t, scope, &challenge, &[]),
            &t.email,
            PASSWORD,
        )
        .await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    (code, verifier)
}
