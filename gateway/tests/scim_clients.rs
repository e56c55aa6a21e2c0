//! Tollgate's SCIM server driven by independent SCIM libraries from PyPI: scim2-client
//! (with scim2-models validating every answer) runs a user's whole life, and scim2-tester
//! checks discovery (gateway/tests/python/scim_client.py says what each step asserts).
//!
//! `#[ignore]`d: it needs the pinned libraries of gateway/tests/python/requirements.txt,
//! which ops/test.sh installs into a venv it names in `TOLLGATE_PYTHON`.

mod common;

use common::*;
use serde_json::json;

#[actix_web::test]
#[ignore = "needs the pinned Python SCIM libraries: ops/test.sh installs them and sets TOLLGATE_PYTHON"]
async fn scim2_client_and_scim2_tester_drive_the_server() {
    let python = std::env::var("TOLLGATE_PYTHON")
        .expect("TOLLGATE_PYTHON names the Python with the SCIM libraries (ops/test.sh sets it)");
    let s = TestServer::start().await;
    s.tenant("hr", false, true).await;
    let t = s
        .admin("/tenants/hr/scim-tokens", json!({"name": "scim2-client"}))
        .await;
    let token = t["token"].as_str().unwrap().to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/scim_client.py");
    let base = format!("{}/hr/scim/v2", s.base);
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(&python)
            .args([script, &base, &token, "hr.example"])
            .output(),
    )
    .await
    .expect("the SCIM client script finishes within two minutes")
    .expect("the Python interpreter runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("all SCIM client checks passed"), "{stdout}");
    // What the client did is in the audit trail, by its token.
    let events = s.events("hr", "kind=scim.").await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in [
        "scim.user_created",
        "scim.user_patched",
        "scim.user_replaced",
        "scim.user_deleted",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
}
