//! The audit trail through the admin API and CLI: queries by user, kind and time, newest
//! first, paginated with a `Link` header, exported as JSON Lines; every admin action is
//! an event (who did what to whom).

mod common;

use common::{Browser, TestServer, login_tokens, spawn_binary, tollgate};
use serde_json::Value;

async fn get(server: &TestServer, path_and_query: &str) -> (u16, Option<String>, String) {
    let r = server
        .http
        .get(format!("{}{path_and_query}", server.base))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap();
    let link = r
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), link, r.text().await.unwrap())
}

fn kinds(body: &str) -> Vec<String> {
    serde_json::from_str::<Value>(body)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn admins_query_and_export_the_audit_trail() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, true).await;
    for _ in 0..3 {
        // A fresh browser each time, so each signs in with the password.
        login_tokens(&Browser::new(&server.base), &t, "openid").await;
    }
    // Hot-path events ride in the next group commit: wait for it.
    server.settle_events().await;
    let (s, _, all) = get(&server, "/admin/v1/tenants/acme/events?limit=1000").await;
    assert_eq!(s, 200);
    let all: Vec<Value> = serde_json::from_str(&all).unwrap();
    let user = all
        .iter()
        .find(|e| e["kind"] == "admin.user_created")
        .expect("creating a user is an admin event")["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    let times: Vec<u64> = all.iter().map(|e| e["at_ms"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first");

    // Admin actions: who did what to whom.
    let (_, _, admin) = get(&server, "/admin/v1/tenants/acme/events?kind=admin.").await;
    let admin_kinds = kinds(&admin);
    for k in [
        "admin.tenant_created",
        "admin.client_created",
        "admin.user_created",
    ] {
        assert!(
            admin_kinds.iter().any(|x| x == k),
            "{k} missing: {admin_kinds:?}"
        );
    }
    let admin: Vec<Value> = serde_json::from_str(&admin).unwrap();
    assert!(admin.iter().all(|e| e["actor"] == "admin"));

    // By user, one at a time, following the Link header to the end.
    let mut next = Some(format!(
        "/admin/v1/tenants/acme/events?user={user}&kind=login.password&limit=1"
    ));
    let mut logins = 0;
    while let Some(url) = next.take() {
        let (s, link, body) = get(&server, &url).await;
        assert_eq!(s, 200, "{body}");
        let page: Vec<Value> = serde_json::from_str(&body).unwrap();
        assert!(page.len() <= 1);
        for e in &page {
            assert_eq!(e["kind"], "login.password");
            assert!(e["subject"] == user.as_str() || e["actor"] == user.as_str());
            logins += 1;
        }
        next = link.map(|l| {
            l.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_owned()
        });
        assert!(logins <= 3, "pagination does not end");
    }
    assert_eq!(logins, 3);

    // A time window: nothing before the tenant existed, everything up to now.
    let first = *times.last().unwrap();
    let (s, _, none) = get(
        &server,
        &format!("/admin/v1/tenants/acme/events?until={first}"),
    )
    .await;
    assert_eq!(s, 200, "{none}");
    assert!(kinds(&none).is_empty());
    let (s, _, window) = get(
        &server,
        "/admin/v1/tenants/acme/events?since=2020-01-01T00:00:00Z&limit=1000",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(kinds(&window).len(), all.len());
    for bad in ["since=yesterday", "before=not-a-cursor"] {
        let (s, _, body) = get(&server, &format!("/admin/v1/tenants/acme/events?{bad}")).await;
        assert_eq!(s, 400, "{bad}: {body}");
        assert!(body.contains("invalid_request"));
    }

    // Export: JSON Lines, every event.
    let r = server
        .http
        .get(format!(
            "{}/admin/v1/tenants/acme/events/export",
            server.base
        ))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), all.len());
    // Without the admin token, nothing.
    let r = reqwest::get(format!("{}/admin/v1/tenants/acme/events", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_token", "{v}");
}

#[test]
fn the_cli_exports_events_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn_binary(dir.path(), &[]);
    let data = dir.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["admin", "--url", &server.base, "--data-dir", data];
        all.extend_from_slice(args);
        tollgate(&all, &[])
    };
    let (ok, _, err) = run(&["tenant", "create", "acme"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["key", "rotate", "acme"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["events", "acme", "--kind", "admin.", "--jsonl"]);
    assert!(ok, "{err}");
    let kinds: Vec<String> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["admin.keys_rotated", "admin.tenant_created"]);
    let (ok, _, err) = run(&["events", "acme", "--since", "soon"]);
    assert!(!ok && err.contains("RFC 3339"), "{err}");
    let _ = server.child.kill();
    let _ = server.child.wait();
}
