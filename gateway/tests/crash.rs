//! Crash safety: the server is killed with SIGKILL in the middle of a refresh storm and
//! restarted on the same data directory. Every refresh token a client had received (and
//! not yet presented) before the kill must rotate exactly once afterwards.

mod common;

use common::{Browser, PASSWORD, authorize_url, pkce, query_param, spawn_binary, token_with};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
struct ChainState {
    /// The newest token the client received.
    latest: String,
    /// Whether that token has been presented and no answer came back yet.
    in_flight: bool,
}

/// How one refresh request of the storm ended.
enum Outcome {
    /// 200 with a new refresh token.
    Rotated(String),
    /// No HTTP answer at all: the connection was refused, reset or cut.
    NoAnswer(reqwest::Error),
}

/// Presents `token`; any HTTP answer but a 200 with a refresh token is an error.
async fn rotate(
    http: &reqwest::Client,
    t: &common::TestTenant,
    token: &str,
) -> Result<Outcome, String> {
    let sent = http
        .post(format!("{}/token", t.issuer))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", &t.client_id),
            ("client_secret", t.client_secret.as_deref().unwrap_or("")),
        ])
        .send()
        .await;
    let r = match sent {
        Ok(r) => r,
        // Refused, reset or closed before an answer.
        Err(e) if e.is_connect() || e.is_request() => return Ok(Outcome::NoAnswer(e)),
        Err(e) => return Err(format!("the request failed: {e}")),
    };
    let status = r.status();
    let body = match r.bytes().await {
        Ok(b) => b,
        // The answer was cut off mid-body: the process died while sending it.
        Err(e) if e.is_body() || e.is_request() => return Ok(Outcome::NoAnswer(e)),
        Err(e) => return Err(format!("HTTP {status}, then the body failed: {e}")),
    };
    let v: Value = serde_json::from_slice(&body).map_err(|e| {
        format!(
            "HTTP {status} with a body that is not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    })?;
    match (status.as_u16(), v["refresh_token"].as_str()) {
        (200, Some(rt)) => Ok(Outcome::Rotated(rt.to_owned())),
        _ => Err(format!("HTTP {status} during the storm: {v}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_refresh_storm_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn_binary(dir.path(), &[]);
    let admin_token = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
    let http = reqwest::Client::new();
    let admin = |path: &str, body: Value| {
        let (http, base, tok) = (http.clone(), server.base.clone(), admin_token.clone());
        let path = path.to_owned();
        async move {
            let r = http
                .post(format!("{base}/admin/v1{path}"))
                .bearer_auth(tok)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let v = r.json::<Value>().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "admin {path}: {status} {v}");
            v
        }
    };
    admin("/tenants", json!({"id": "crash"})).await;
    let c = admin(
        "/tenants/crash/clients",
        json!({"name": "App", "redirect_uris": ["http://127.0.0.1:9/cb"], "first_party": true}),
    )
    .await;
    admin(
        "/tenants/crash/users",
        json!({"email": "u@crash.example", "password": PASSWORD}),
    )
    .await;
    let mut t = common::TestTenant {
        id: "crash".into(),
        issuer: format!("{}/crash", server.base),
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        redirect_uri: "http://127.0.0.1:9/cb".into(),
        email: "u@crash.example".into(),
    };

    // One password sign-in; the SSO session then yields a code per authorization.
    const CHAINS: usize = 40;
    let b = Browser::new(&server.base);
    let mut chains = Vec::new();
    for i in 0..CHAINS {
        let (verifier, challenge) = pkce();
        let url = authorize_url(&t, "openid offline_access", &challenge, &[]);
        let back = if i == 0 {
            b.authorize(&url, &t.email, PASSWORD).await
        } else {
            b.get(&url).await.1.unwrap()
        };
        let code = query_param(&back, "code").expect("code");
        let (s, v) = common::redeem(&http, &t, &code, &verifier).await;
        assert_eq!(s, 200, "{v}");
        chains.push(ChainState {
            latest: v["refresh_token"].as_str().unwrap().into(),
            in_flight: false,
        });
    }

    // The storm: 8 workers rotate chains taken from a shared pool, so at any moment at
    // most 8 chains have a token in flight and the rest hold an unpresented token. A
    // worker ends cleanly only when its request got no answer after the kill; an HTTP
    // error status, a connection lost before the kill, or a panic fails the test.
    let state = Arc::new(Mutex::new(chains));
    let next = Arc::new(AtomicUsize::new(0));
    let rotations = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (state, next, rotations, killed, http, t) = (
                state.clone(),
                next.clone(),
                rotations.clone(),
                killed.clone(),
                http.clone(),
                t.clone(),
            );
            tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(30);
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::SeqCst) % CHAINS;
                    let token = {
                        let mut s = state.lock().unwrap();
                        if s[i].in_flight {
                            continue;
                        }
                        s[i].in_flight = true;
                        s[i].latest.clone()
                    };
                    match rotate(&http, &t, &token).await? {
                        Outcome::Rotated(rt) => {
                            let mut s = state.lock().unwrap();
                            s[i].latest = rt;
                            s[i].in_flight = false;
                            rotations.fetch_add(1, Ordering::SeqCst);
                        }
                        // The server died under this request: the token stays "in flight".
                        Outcome::NoAnswer(_) if killed.load(Ordering::SeqCst) => return Ok(()),
                        Outcome::NoAnswer(e) => {
                            return Err(format!("no answer while the server was running: {e}"));
                        }
                    }
                }
                Err("the storm outlived its deadline: the server was never killed".to_owned())
            })
        })
        .collect();
    let started = Instant::now();
    while rotations.load(Ordering::SeqCst) < 300 && started.elapsed() < Duration::from_secs(20) {
        // Poll the workers' count (each rotation is a round trip, so this is not busy).
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Set before the kill: any request the kill cuts off sees it set.
    killed.store(true, Ordering::SeqCst);
    server.child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    server.child.wait().unwrap();
    for w in workers {
        match w.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("a storm worker failed: {e}"),
            Err(e) => panic!("a storm worker panicked: {e}"),
        }
    }
    let before = rotations.load(Ordering::SeqCst);
    assert!(before >= 50, "the storm barely ran ({before} rotations)");

    // Restart on the same data directory.
    let mut server = spawn_binary(dir.path(), &[]);
    t.issuer = format!("{}/crash", server.base);
    let snapshot = state.lock().unwrap().clone();
    let idle: Vec<&ChainState> = snapshot.iter().filter(|c| !c.in_flight).collect();
    assert!(idle.len() >= CHAINS - 8);
    for c in idle {
        let (s, v) = token_with(
            &http,
            &t,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &c.latest),
            ],
        )
        .await;
        assert_eq!(
            s, 200,
            "an acknowledged refresh token was lost in the crash: {v}"
        );
        let (s, v) = token_with(
            &http,
            &t,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &c.latest),
            ],
        )
        .await;
        assert_eq!(
            (s, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "a token rotated twice"
        );
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
    eprintln!("crash test: {before} rotations before SIGKILL");
}
