//! Residency and the storage backend through the `tollgate` command: tenants are created
//! in a configured region, a move is explicit and in the audit trail, a node refuses the
//! tenants of regions it does not serve, and a ScyllaDB backend that cannot be reached
//! (or an embedded one asked to migrate) fails at once with a clear message.

mod common;

use common::{spawn_binary, tollgate};

fn write_config(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_live_in_configured_regions_and_move_on_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let both = write_config(
        dir.path(),
        "both.toml",
        "[regions.eu]\ndatacenters = { dc_frankfurt = 3 }\n[regions.in]\ndatacenters = { dc_mumbai = 3 }\n",
    );
    let mut server = spawn_binary(&data, &[("TOLLGATE_CONFIG", &both)]);
    let data_s = data.to_str().unwrap();
    let admin = |extra: &[&str]| {
        let mut args = vec!["admin", "--url", &server.base, "--data-dir", data_s];
        args.extend_from_slice(extra);
        tollgate(&args, &[])
    };
    let (ok, out, err) = admin(&["tenant", "create", "acme", "--region", "eu"]);
    assert!(ok, "{err}");
    assert!(out.contains("\"region\": \"eu\""), "{out}");
    let (ok, _, err) = admin(&["tenant", "create", "other", "--region", "mars"]);
    assert!(
        !ok && err.contains("region mars is not configured"),
        "{err}"
    );
    let (ok, _, err) = admin(&["tenant", "create", "other", "--region", "Bad-Name"]);
    assert!(!ok && err.contains("lowercase"), "{err}");
    let discovery = |base: &str| {
        let url = format!("{base}/acme/.well-known/openid-configuration");
        async move { reqwest::get(url).await.unwrap() }
    };
    assert_eq!(discovery(&server.base).await.status(), 200);

    let (ok, out, err) = admin(&["tenant", "move", "acme", "--region", "in"]);
    assert!(ok, "{err}");
    assert!(out.contains("\"region\": \"in\""), "{out}");
    let (ok, out, _) = admin(&["tenant", "list"]);
    assert!(ok && out.contains("\"region\": \"in\""), "{out}");
    let token = std::fs::read_to_string(data.join("admin.token")).unwrap();
    let events: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/admin/v1/tenants/acme/events", server.base))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let moved = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "admin.tenant_moved")
        .unwrap_or_else(|| panic!("no move event in {events}"));
    assert_eq!(moved["detail"], "from eu to in");
    assert_eq!(moved["actor"], "admin");
    let _ = server.child.kill();
    let _ = server.child.wait();

    // The same data on a node that serves only the EU: the tenant now kept in India is
    // refused with 421, saying why, and nothing else changes.
    let eu_only = write_config(
        dir.path(),
        "eu.toml",
        "[regions.eu]\ndatacenters = { dc_frankfurt = 3 }\n",
    );
    let mut server = spawn_binary(&data, &[("TOLLGATE_CONFIG", &eu_only)]);
    let r = discovery(&server.base).await;
    assert_eq!(r.status(), 421);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("region in"),
        "{body}"
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
}

#[test]
fn an_unusable_backend_fails_at_once_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let unreachable = write_config(
        dir.path(),
        "scylla.toml",
        "[store]\nbackend = \"scylla\"\n[store.scylla]\nnodes = [\"127.0.0.1:1\"]\n",
    );
    let (ok, _, err) = tollgate(&["migrate", "--config", &unreachable], &[]);
    assert!(!ok, "migrate succeeded against nothing");
    assert!(
        err.contains("migration failed") && err.contains("cannot connect to ScyllaDB"),
        "{err}"
    );
    let data = dir.path().join("data");
    let (ok, _, err) = tollgate(
        &[
            "serve",
            "--config",
            &unreachable,
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[("TOLLGATE_LOG", "off")],
    );
    assert!(!ok, "serve started without its store");
    assert!(err.contains("cannot use the ScyllaDB store"), "{err}");

    let (ok, _, err) = tollgate(&["migrate"], &[]);
    assert!(
        !ok && err.contains("store.backend is \"embedded\""),
        "{err}"
    );
    let no_nodes = write_config(
        dir.path(),
        "empty.toml",
        "[store]\nbackend = \"scylla\"\n[store.scylla]\nnodes = []\n",
    );
    let (ok, _, err) = tollgate(&["migrate", "--config", &no_nodes], &[]);
    assert!(!ok && err.contains("at least one ScyllaDB node"), "{err}");
}
