//! Back-channel logout (OIDC Back-Channel Logout 1.0), end to end: a relying party's
//! logout endpoint runs here on loopback, checks every logout token it is sent against
//! the tenant's JWKS and its claims, and each test ends sessions one way (RP-initiated
//! logout, the account page, a password reset, account deletion, the admin, refresh
//! token reuse) and waits, bounded, for the tokens that must arrive. The outage test
//! keeps the receiver down (refused, then 503) while sessions end, restarts the real
//! binary on its data directory, and sees every delivery arrive afterwards.

mod common;

use common::*;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// One POST the receiver got.
#[derive(Clone, Debug)]
struct Hit {
    /// The `logout_token` form field.
    token: String,
    /// The status the receiver answered.
    answered: u16,
    /// `POST /path HTTP/1.1`.
    request_line: String,
    content_type: String,
}

/// A relying party's back-channel logout endpoint: answers every POST with `status`
/// (changeable) and keeps what it was sent.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    status: Arc<AtomicU16>,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    async fn start(status: u16) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), status)
    }

    fn start_on(listener: TcpListener, status: u16) -> Self {
        let r = Receiver {
            addr: listener.local_addr().unwrap(),
            status: Arc::new(AtomicU16::new(status)),
            hits: Arc::default(),
        };
        let me = r.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(me.clone().serve(conn));
            }
        });
        r
    }

    fn uri(&self) -> String {
        format!("http://{}/backchannel-logout", self.addr)
    }

    /// Reads one request (headers, then `Content-Length` bytes), records it, answers.
    async fn serve(self, mut conn: tokio::net::TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head_end, length) = loop {
            let Ok(n) = conn.read(&mut chunk).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (i + 4, length);
            }
        };
        while buf.len() < head_end + length {
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let request_line = head.lines().next().unwrap_or_default().to_owned();
        let content_type = head
            .lines()
            .find_map(|l| {
                l.to_lowercase()
                    .strip_prefix("content-type:")
                    .map(|v| v.trim().to_owned())
            })
            .unwrap_or_default();
        let form: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&buf[head_end..head_end + length]).unwrap();
        let token = form
            .iter()
            .find(|(k, _)| k == "logout_token")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let answered = self.status.load(Ordering::SeqCst);
        self.hits.lock().unwrap().push(Hit {
            token,
            answered,
            request_line,
            content_type,
        });
        let reply = format!(
            "HTTP/1.1 {answered} X\r\nContent-Length: 0\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n"
        );
        let _ = conn.write_all(reply.as_bytes()).await;
        let _ = conn.shutdown().await;
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// The tokens it accepted (answered 200), once `done` holds for them; fails after
    /// 20 s showing what came.
    async fn accepted_until(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got: Vec<String> = self
                .hits()
                .into_iter()
                .filter(|h| h.answered == 200)
                .map(|h| h.token)
                .collect();
            if done(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the awaited logout tokens never came; got {:?}",
                got.iter().map(|t| jwt_claims(t)).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Checks a logout token as a relying party must (§2.6): signed by a key of the
/// issuer's JWKS with its algorithm, `typ` logout+jwt, this issuer and audience, not
/// expired, a `jti`, the back-channel logout event, `sid` or `sub`, and no `nonce`.
/// Returns its claims.
async fn verify_logout_token(issuer: &str, token: &str, audience: &str) -> Value {
    let header = jwt_header(token);
    assert_eq!(header["typ"], "logout+jwt", "{header}");
    let jwks: JwkSet = reqwest::get(format!("{issuer}/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = header["kid"].as_str().expect("a kid");
    let jwk = jwks.find(kid).expect("the token's key is in the JWKS");
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[audience]);
    v.set_issuer(&[issuer]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "jti"]);
    let claims = decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .unwrap_or_else(|e| panic!("the logout token does not verify: {e}"))
        .claims;
    assert_eq!(claims["events"], json!({ EVENT: {} }), "{claims}");
    assert!(claims.get("nonce").is_none(), "{claims}");
    assert!(claims["sid"].is_string() || claims["sub"].is_string());
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert!(
        exp > iat && exp - iat <= 300,
        "a short-lived token: {claims}"
    );
    claims
}

/// The server with a sender that polls and retries every second.
async fn server() -> TestServer {
    TestServer::start_configured(false, |c| {
        c.logout.poll_secs = 1;
        c.logout.retry_base_secs = 1;
        c.logout.retry_max_secs = 1;
    })
    .await
}

/// A first-party confidential client of `t` whose back-channel logout URI is `uri`.
async fn rp(srv: &TestServer, t: &TestTenant, uri: &str, session_required: bool) -> TestTenant {
    let c = srv
        .admin(
            &format!("/tenants/{}/clients", t.id),
            json!({
                "name": "Relying party",
                "redirect_uris": [t.redirect_uri],
                "first_party": true,
                "backchannel_logout_uri": uri,
                "backchannel_logout_session_required": session_required,
            }),
        )
        .await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t.clone()
    }
}

/// The claims of the ID token a sign-in at `app` in `b` gets (with a refresh token).
async fn sign_in_at(b: &Browser, app: &TestTenant) -> (Value, Value) {
    let tokens = login_tokens(b, app, "openid offline_access").await;
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert!(id["sid"].is_string(), "{id}");
    (tokens, id)
}

/// The one accepted token for `aud`, verified.
async fn token_for(issuer: &str, tokens: &[String], aud: &str) -> Value {
    let mine: Vec<&String> = tokens
        .iter()
        .filter(|t| jwt_claims(t)["aud"] == aud)
        .collect();
    assert_eq!(mine.len(), 1, "one token for {aud}: {tokens:?}");
    verify_logout_token(issuer, mine[0], aud).await
}

#[actix_web::test]
async fn rp_initiated_logout_tells_every_app_the_session_signed_in_to() {
    let srv = server().await;
    let t = srv.tenant("rpl", false, true).await;
    let recv = Receiver::start(200).await;
    let (a, b) = (
        rp(&srv, &t, &recv.uri(), false).await,
        rp(&srv, &t, &recv.uri(), true).await,
    );
    let disc: Value = common::discovery(&t).await;
    assert_eq!(disc["backchannel_logout_supported"], true);
    assert_eq!(disc["backchannel_logout_session_supported"], true);
    let browser = srv.browser();
    let (tokens, id) = sign_in_at(&browser, &a).await;
    // The same session signs in to the second app (single sign-on).
    let (_, id_b) = sign_in_at(&browser, &b).await;
    assert_eq!(id["sid"], id_b["sid"]);
    // Another user's session at the same app is not touched.
    let other = srv.browser();
    let _ = sign_in_at(&other, &a).await;
    assert!(
        recv.hits().is_empty(),
        "nothing is sent before a session ends"
    );

    let mut u = url::Url::parse(&format!("{}/logout", t.issuer)).unwrap();
    u.query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap());
    let (s, _, page) = browser.get(u.as_str()).await;
    assert_eq!(s, 200, "{page}");
    let got = recv.accepted_until(|g| g.len() >= 2).await;
    for app in [&a, &b] {
        let c = token_for(&t.issuer, &got, &app.client_id).await;
        assert_eq!((&c["sid"], &c["sub"]), (&id["sid"], &id["sub"]), "{c}");
    }
    let hits = recv.hits();
    assert!(
        hits.iter()
            .all(|h| h.request_line == "POST /backchannel-logout HTTP/1.1"
                && h.content_type == "application/x-www-form-urlencoded"),
        "{hits:?}"
    );
    // One token per app, each accepted at once: nothing more was sent.
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(metric(&srv.base, "tollgate_logout_tokens_sent_total").await >= 2.0);
}

#[actix_web::test]
async fn signing_out_other_sessions_on_the_account_page_tells_their_apps() {
    let srv = server().await;
    let t = srv.tenant("acct", false, true).await;
    let recv = Receiver::start(200).await;
    let app = rp(&srv, &t, &recv.uri(), true).await;
    let phone = srv.browser();
    let (_, id) = sign_in_at(&phone, &app).await;
    // The account page, in another browser.
    let desk = srv.browser();
    let login = format!("{}/login", t.issuer);
    let csrf = fresh_csrf(&desk, &login).await;
    let (s, _, _) = desk
        .post_form(
            &login,
            &[("email", &t.email), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let csrf = fresh_csrf(&desk, &format!("{}/account", t.issuer)).await;
    let (s, _, _) = desk
        .post_form(
            &format!("{}/account/sessions/end", t.issuer),
            &[("others", "yes"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let got = recv.accepted_until(|g| !g.is_empty()).await;
    let c = token_for(&t.issuer, &got, &app.client_id).await;
    assert_eq!((&c["sid"], &c["sub"]), (&id["sid"], &id["sub"]), "{c}");
}

#[actix_web::test]
async fn a_password_reset_tells_the_apps_of_every_session() {
    let srv = server().await;
    let t = srv.tenant("reset", false, true).await;
    let recv = Receiver::start(200).await;
    let app = rp(&srv, &t, &recv.uri(), false).await;
    let (_, id) = sign_in_at(&srv.browser(), &app).await;
    let b = srv.browser();
    let forgot = format!("{}/password/forgot", t.issuer);
    let csrf = fresh_csrf(&b, &forgot).await;
    let (s, _, page) = b
        .post_form(&forgot, &[("email", &t.email), ("csrf", &csrf)])
        .await;
    assert_eq!(s, 200, "{page}");
    let handle = hidden(&page, "handle").unwrap();
    let code = outbox_code(srv.dir.path(), &t.email, "Reset").await;
    let (s, _, page) = b
        .post_form(
            &format!("{}/password/reset", t.issuer),
            &[
                ("handle", &handle),
                ("code", &code),
                ("password", "an entirely new passphrase"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 303, "{page}");
    let got = recv.accepted_until(|g| !g.is_empty()).await;
    let c = token_for(&t.issuer, &got, &app.client_id).await;
    assert_eq!((&c["sid"], &c["sub"]), (&id["sid"], &id["sub"]), "{c}");
}

#[actix_web::test]
async fn deleting_the_account_and_the_admin_signing_a_user_out_tell_the_apps() {
    let srv = server().await;
    let t = srv.tenant("del", false, true).await;
    let recv = Receiver::start(200).await;
    let app = rp(&srv, &t, &recv.uri(), false).await;

    // The admin signs the user out everywhere (a breach response): two sessions.
    let (_, first) = sign_in_at(&srv.browser(), &app).await;
    let (_, second) = sign_in_at(&srv.browser(), &app).await;
    let user = first["sub"].as_str().unwrap();
    let out = srv
        .admin(
            &format!("/tenants/{}/users/{user}/sign-out", t.id),
            json!({}),
        )
        .await;
    assert_eq!(out["sessions"], 2, "{out}");
    let got = recv.accepted_until(|g| g.len() >= 2).await;
    let mut sids = Vec::new();
    for tok in &got {
        let c = verify_logout_token(&t.issuer, tok, &app.client_id).await;
        assert_eq!(c["sub"], user);
        sids.push(c["sid"].as_str().unwrap().to_owned());
    }
    sids.sort();
    let mut want = vec![
        first["sid"].as_str().unwrap().to_owned(),
        second["sid"].as_str().unwrap().to_owned(),
    ];
    want.sort();
    assert_eq!(sids, want);
    // An unknown user: 404, nothing sent.
    let r = srv
        .http
        .post(format!(
            "{}/admin/v1/tenants/{}/users/nobody/sign-out",
            srv.base, t.id
        ))
        .bearer_auth(&srv.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The user deletes their own account from a new session.
    let (_, third) = sign_in_at(&srv.browser(), &app).await;
    let b = srv.browser();
    let login = format!("{}/login", t.issuer);
    let csrf = fresh_csrf(&b, &login).await;
    let (s, _, _) = b
        .post_form(
            &login,
            &[("email", &t.email), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let csrf = fresh_csrf(&b, &format!("{}/account/delete", t.issuer)).await;
    let (s, _, page) = b
        .post_form(
            &format!("{}/account/delete", t.issuer),
            &[("confirmation", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    let got = recv.accepted_until(|g| g.len() >= 3).await;
    let c = verify_logout_token(&t.issuer, &got[2], &app.client_id).await;
    assert_eq!(
        (&c["sid"], &c["sub"]),
        (&third["sid"], &third["sub"]),
        "{c}"
    );
}

#[actix_web::test]
async fn refresh_token_reuse_tells_the_chains_app() {
    let srv = server().await;
    let t = srv.tenant("reuse", false, true).await;
    let recv = Receiver::start(200).await;
    let app = rp(&srv, &t, &recv.uri(), false).await;
    let (tokens, id) = sign_in_at(&srv.browser(), &app).await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (s, v) = refresh(&app, first).await;
    assert_eq!(s, 200, "{v}");
    assert!(recv.hits().is_empty(), "a rotation ends nothing");
    let (s, v) = refresh(&app, first).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let got = recv.accepted_until(|g| !g.is_empty()).await;
    let c = token_for(&t.issuer, &got, &app.client_id).await;
    assert_eq!((&c["sid"], &c["sub"]), (&id["sid"], &id["sub"]), "{c}");
}

#[actix_web::test]
async fn a_logout_uri_that_is_not_https_or_has_a_fragment_is_refused_at_registration() {
    let srv = server().await;
    let t = srv.tenant("badbcl", false, true).await;
    let before = srv.admin_get(&format!("/tenants/{}/clients", t.id)).await;
    for (uri, why) in [
        ("http://rp.example/logout", "https"),
        ("https://rp.example/logout#frag", "fragment"),
        ("/logout", "absolute"),
        ("javascript:alert(1)", "host"),
    ] {
        let r = srv
            .http
            .post(format!("{}/admin/v1/tenants/{}/clients", srv.base, t.id))
            .bearer_auth(&srv.admin_token)
            .json(&json!({
                "name": "Bad",
                "redirect_uris": [t.redirect_uri],
                "backchannel_logout_uri": uri,
            }))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        let text = v.to_string();
        assert_eq!(status, 400, "{uri}: {v}");
        assert!(
            text.contains("backchannel_logout_uri") && text.contains(why),
            "{uri}: {v}"
        );
    }
    assert_eq!(
        srv.admin_get(&format!("/tenants/{}/clients", t.id)).await,
        before,
        "a refused client was created"
    );
    // https anywhere, and http on loopback, are fine; the listing shows them.
    let ok = rp(&srv, &t, "https://rp.example/bcl", true).await;
    let listed = srv.admin_get(&format!("/tenants/{}/clients", t.id)).await;
    let c = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == ok.client_id.as_str())
        .unwrap();
    assert_eq!(c["backchannel_logout_uri"], "https://rp.example/bcl");
    assert_eq!(c["backchannel_logout_session_required"], true);
}

/// The admin API of a binary server.
async fn admin_call(base: &str, token: &str, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{base}/admin/v1{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

/// RP-initiated logout of the session behind `id_token` in `b`.
async fn rp_logout(b: &Browser, issuer: &str, id_token: &str) {
    let mut u = url::Url::parse(&format!("{issuer}/logout")).unwrap();
    u.query_pairs_mut().append_pair("id_token_hint", id_token);
    let (s, _, page) = b.get(u.as_str()).await;
    assert_eq!(s, 200, "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_a_receiver_outage_and_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("TOLLGATE_LOGOUT__POLL_SECS", "1"),
        ("TOLLGATE_LOGOUT__RETRY_BASE_SECS", "1"),
        ("TOLLGATE_LOGOUT__RETRY_MAX_SECS", "1"),
        // A delivery the kill cuts off mid-send is free again this soon after.
        ("TOLLGATE_LOGOUT__LEASE_SECS", "2"),
    ];
    let mut server = spawn_binary(dir.path(), &env);
    let token = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
    let token = token.trim();
    // The receiver's port, not listening yet: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("http://127.0.0.1:{port}/backchannel-logout");
    let base = server.base.clone();
    admin_call(
        &base,
        token,
        "/tenants",
        json!({"id": "out", "display_name": "Out"}),
    )
    .await;
    let c = admin_call(
        &base,
        token,
        "/tenants/out/clients",
        json!({
            "name": "RP",
            "redirect_uris": ["http://127.0.0.1:9/cb"],
            "first_party": true,
            "backchannel_logout_uri": uri,
        }),
    )
    .await;
    let email = "user@out.example";
    admin_call(
        &base,
        token,
        "/tenants/out/users",
        json!({"email": email, "password": PASSWORD, "email_verified": true}),
    )
    .await;
    let app = |base: &str| TestTenant {
        id: "out".into(),
        issuer: format!("{base}/out"),
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        redirect_uri: "http://127.0.0.1:9/cb".into(),
        email: email.into(),
    };
    let t = app(&base);
    let (b1, b2, b3) = (
        Browser::new(&base),
        Browser::new(&base),
        Browser::new(&base),
    );
    let (tok1, id1) = sign_in_at(&b1, &t).await;
    let (tok2, id2) = sign_in_at(&b2, &t).await;
    let (tok3, id3) = sign_in_at(&b3, &t).await;

    // Refused: the first logout is queued, and its attempts fail.
    rp_logout(&b1, &t.issuer, tok1["id_token"].as_str().unwrap()).await;
    let failures = || async { metric(&base, "tollgate_logout_token_failures_total").await };
    let deadline = Instant::now() + Duration::from_secs(20);
    while failures().await < 2.0 {
        assert!(Instant::now() < deadline, "no failed attempt was counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Up, but answering 503: the second logout's attempts are refused too.
    let recv = Receiver::start_on(TcpListener::bind(("127.0.0.1", port)).await.unwrap(), 503);
    rp_logout(&b2, &t.issuer, tok2["id_token"].as_str().unwrap()).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tried: std::collections::BTreeSet<String> = recv
            .hits()
            .iter()
            .filter(|h| h.answered == 503)
            .map(|h| jwt_claims(&h.token)["sid"].as_str().unwrap().to_owned())
            .collect();
        if tried.len() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "503s seen for {tried:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The third session ends, and the server dies at once (SIGKILL).
    rp_logout(&b3, &t.issuer, tok3["id_token"].as_str().unwrap()).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert!(metric_unreachable(&base).await, "the server is down");

    // Back up on the same data directory, with the receiver accepting now.
    recv.status.store(200, Ordering::SeqCst);
    let mut server = spawn_binary(dir.path(), &env);
    let t = app(&server.base);
    let got = recv
        .accepted_until(|g| {
            let sids: Vec<Value> = g.iter().map(|x| jwt_claims(x)["sid"].clone()).collect();
            [&id1, &id2, &id3]
                .iter()
                .all(|id| sids.contains(&id["sid"]))
        })
        .await;
    let mut jtis = std::collections::BTreeMap::new();
    for tok in &got {
        let c = verify_logout_token(&t.issuer, tok, &t.client_id).await;
        assert_eq!(c["sub"], id1["sub"]);
        jtis.insert(c["sid"].as_str().unwrap().to_owned(), c["jti"].clone());
    }
    // A token retried keeps its jti, so a receiver can drop a repeat.
    for h in recv.hits().iter().filter(|h| h.answered == 503) {
        let c = jwt_claims(&h.token);
        assert_eq!(jtis[c["sid"].as_str().unwrap()], c["jti"], "{c}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(&server.base, "tollgate_logout_tokens_pending").await > 0.0 {
        assert!(Instant::now() < deadline, "the outbox did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

/// Whether nothing answers at `base` any more.
async fn metric_unreachable(base: &str) -> bool {
    reqwest::get(format!("{base}/healthz")).await.is_err()
}

#[actix_web::test]
async fn front_channel_logout_frames_each_apps_page_with_iss_and_sid() {
    let srv = server().await;
    let t = srv.tenant("front", false, true).await;
    let mut apps = Vec::new();
    for uri in ["https://one.example/fc", "http://127.0.0.1:9/fc?keep=1"] {
        let c = srv
            .admin(
                &format!("/tenants/{}/clients", t.id),
                json!({
                    "name": "Front",
                    "redirect_uris": [t.redirect_uri],
                    "post_logout_redirect_uris": ["http://127.0.0.1:9/bye"],
                    "first_party": true,
                    "frontchannel_logout_uri": uri,
                    "frontchannel_logout_session_required": true,
                }),
            )
            .await;
        apps.push(TestTenant {
            client_id: c["client_id"].as_str().unwrap().into(),
            client_secret: c["client_secret"].as_str().map(str::to_owned),
            ..t.clone()
        });
    }
    let disc: Value = common::discovery(&t).await;
    assert_eq!(disc["frontchannel_logout_supported"], true);
    assert_eq!(disc["frontchannel_logout_session_supported"], true);
    // A bad URI is refused like a back-channel one.
    let r = srv
        .http
        .post(format!("{}/admin/v1/tenants/{}/clients", srv.base, t.id))
        .bearer_auth(&srv.admin_token)
        .json(&json!({"name": "Bad", "redirect_uris": [t.redirect_uri],
            "frontchannel_logout_uri": "https://rp.example/fc#x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("frontchannel_logout_uri"));

    let b = srv.browser();
    let (tokens, id) = sign_in_at(&b, &apps[0]).await;
    let _ = sign_in_at(&b, &apps[1]).await;
    let mut u = url::Url::parse(&format!("{}/logout", t.issuer)).unwrap();
    u.query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap())
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9/bye")
        .append_pair("state", "s1");
    let r = b.http.get(u.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 200, "the page loads the frames before going on");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-src https://one.example http://127.0.0.1:9;"),
        "{csp}"
    );
    let refresh = r.headers()["refresh"].to_str().unwrap().to_owned();
    assert_eq!(refresh, "2; url=http://127.0.0.1:9/bye?state=s1");
    let page = r.text().await.unwrap();
    let sid = id["sid"].as_str().unwrap();
    let iss: String = url::form_urlencoded::byte_serialize(t.issuer.as_bytes()).collect();
    for want in [
        format!("src=\"https://one.example/fc?iss={iss}&amp;sid={sid}\""),
        format!("src=\"http://127.0.0.1:9/fc?keep=1&amp;iss={iss}&amp;sid={sid}\""),
    ] {
        assert!(page.contains(&want), "{want} in {page}");
    }
    assert_eq!(page.matches("<iframe").count(), 2, "{page}");
    assert!(
        page.contains("href=\"http://127.0.0.1:9/bye?state=s1\""),
        "{page}"
    );
    // Signed out: a second logout frames nothing and redirects at once.
    let (s, loc, _) = b.get(u.as_str()).await;
    assert_eq!(
        (s, loc.as_deref()),
        (303, Some("http://127.0.0.1:9/bye?state=s1"))
    );
}

#[actix_web::test]
async fn a_delivery_failing_past_the_give_up_age_is_dropped_with_an_audit_event() {
    let srv = TestServer::start_configured(false, |c| {
        c.logout.poll_secs = 1;
        c.logout.retry_base_secs = 1;
        c.logout.retry_max_secs = 1;
        c.logout.give_up_after_secs = 2;
    })
    .await;
    let t = srv.tenant("giveup", false, true).await;
    let recv = Receiver::start(503).await;
    let app = rp(&srv, &t, &recv.uri(), false).await;
    let (tokens, id) = sign_in_at(&srv.browser(), &app).await;
    let b = srv.browser();
    let _ = sign_in_at(&b, &app).await;
    let mut u = url::Url::parse(&format!("{}/logout", t.issuer)).unwrap();
    u.query_pairs_mut()
        .append_pair("id_token_hint", tokens["id_token"].as_str().unwrap());
    // The other browser's session is the one that ends here; the hint's user is the same.
    let (s, _, page) = b.get(u.as_str()).await;
    assert_eq!(s, 200, "{page}");
    let events = srv
        .events_until("giveup", "kind=logout.backchannel_abandoned", |e| {
            !e.is_empty()
        })
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["client"], app.client_id.as_str());
    assert_eq!(events[0]["subject"], id["sub"]);
    assert_eq!(events[0]["result"], "failure");
    let tried = recv.hits().len();
    assert!(tried >= 2, "retried before giving up: {tried}");
    assert!(metric(&srv.base, "tollgate_logout_tokens_abandoned_total").await >= 1.0);
    assert!(metric(&srv.base, "tollgate_logout_token_failures_total").await >= 2.0);
    // Dropped: no more attempts come.
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(&srv.base, "tollgate_logout_tokens_pending").await > 0.0 {
        assert!(Instant::now() < deadline, "the outbox still holds it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(recv.hits().len(), tried, "{:?}", recv.hits());
}

#[actix_web::test]
async fn a_failed_delivery_is_retried_when_due_not_at_the_next_poll() {
    // Polling only every 5 minutes: the retry must come from the sender's own schedule.
    let srv = TestServer::start_configured(false, |c| {
        c.logout.poll_secs = 300;
        c.logout.retry_base_secs = 1;
        c.logout.retry_max_secs = 1;
    })
    .await;
    let t = srv.tenant("retry", false, true).await;
    let recv = Receiver::start(503).await;
    let app = rp(&srv, &t, &recv.uri(), false).await;
    let b = srv.browser();
    let (tokens, id) = sign_in_at(&b, &app).await;
    rp_logout(&b, &t.issuer, tokens["id_token"].as_str().unwrap()).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while recv.hits().is_empty() {
        assert!(Instant::now() < deadline, "the first attempt never came");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    recv.status.store(200, Ordering::SeqCst);
    let got = recv.accepted_until(|g| !g.is_empty()).await;
    let c = token_for(&t.issuer, &got, &app.client_id).await;
    assert_eq!((&c["sid"], &c["sub"]), (&id["sid"], &id["sub"]), "{c}");
    assert_eq!(c["jti"], jwt_claims(&recv.hits()[0].token)["jti"]);
}

#[actix_web::test]
async fn a_device_allowed_from_a_session_is_told_when_it_ends() {
    const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
    let srv = server().await;
    let t = srv.tenant("dev", false, true).await;
    let recv = Receiver::start(200).await;
    let c = srv
        .admin(
            "/tenants/dev/clients",
            json!({
                "name": "Living room TV",
                "public": true,
                "first_party": true,
                "grant_types": [DEVICE_GRANT],
                "backchannel_logout_uri": recv.uri(),
            }),
        )
        .await;
    let tv = c["client_id"].as_str().unwrap().to_owned();
    // The device asks for codes (no offline_access: no refresh chain to find it by).
    let d: Value = srv
        .http
        .post(format!("{}/device_authorization", t.issuer))
        .form(&[("client_id", tv.as_str()), ("scope", "openid")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_code = d["user_code"].as_str().expect("a user code").to_owned();
    // The person enters it, signs in and allows the device.
    let b = srv.browser();
    let page_url = format!("{}/device", t.issuer);
    let csrf = fresh_csrf(&b, &page_url).await;
    let (s, loc, body) = b
        .post_form(&page_url, &[("user_code", &user_code), ("csrf", &csrf)])
        .await;
    assert_eq!(s, 303, "{body}");
    let confirm = b.authorize(&loc.unwrap(), &t.email, PASSWORD).await;
    let (_, _, page) = b.get(&confirm).await;
    let (s, _, done) = b
        .post_form(
            &format!("{}/device/confirm", t.issuer),
            &[
                ("decision", "allow"),
                ("tx", &hidden(&page, "tx").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(s, 200, "{done}");
    let device_code = d["device_code"].as_str().unwrap();
    let tv_client = TestTenant {
        client_id: tv.clone(),
        client_secret: None,
        ..t.clone()
    };
    let (s, tokens) = token(
        &tv_client,
        &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
    )
    .await;
    assert_eq!(s, 200, "{tokens}");
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert!(recv.hits().is_empty(), "nothing before the session ends");

    // The admin signs the user out: the device hears of the session it was allowed from.
    let user = id["sub"].as_str().unwrap();
    srv.admin(&format!("/tenants/dev/users/{user}/sign-out"), json!({}))
        .await;
    let got = recv.accepted_until(|g| !g.is_empty()).await;
    let c = token_for(&t.issuer, &got, &tv).await;
    assert_eq!((&c["sid"], &c["sub"]), (&id["sid"], &id["sub"]), "{c}");
}
