//! Tollgate's SAML identity provider with an independent SAML library on the other side:
//! pysaml2 (which verifies XML signatures with the xmlsec1 program) plays the service
//! provider: registration by its metadata, SP-initiated SSO in both bindings, IdP-initiated
//! SSO, bad requests and single logout (gateway/tests/python/saml_sp.py says what each step
//! asserts).
//!
//! `#[ignore]`d: it needs pysaml2 (gateway/tests/python/requirements.txt) and xmlsec1,
//! which ops/test.sh installs; it names the venv's Python in `TOLLGATE_PYTHON`.

mod common;

use common::*;

#[actix_web::test]
#[ignore = "needs pysaml2 and xmlsec1: ops/test.sh installs them and sets TOLLGATE_PYTHON"]
async fn pysaml2_as_the_service_provider() {
    let python = std::env::var("TOLLGATE_PYTHON")
        .expect("TOLLGATE_PYTHON names the Python with pysaml2 (ops/test.sh sets it)");
    let s = TestServer::start().await;
    let t = s.tenant("samlpy", false, true).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/saml_sp.py");
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(&python)
            .args([
                script,
                &s.base,
                &s.admin_token,
                "samlpy",
                &t.email,
                PASSWORD,
            ])
            .output(),
    )
    .await
    .expect("the SAML SP script finishes within two minutes")
    .expect("the Python interpreter runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("all SAML SP checks passed"), "{stdout}");
    let events = s.events("samlpy", "kind=saml.").await;
    let seen = |kind: &str, detail: &str| {
        events
            .iter()
            .any(|e| e["kind"] == kind && e["detail"].as_str() == Some(detail))
    };
    assert!(seen("saml.sso", "sp_initiated"), "{events:?}");
    assert!(seen("saml.sso", "idp_initiated"), "{events:?}");
    assert!(seen("saml.sso_request", "bad_signature"), "{events:?}");
    assert!(seen("saml.slo", "sessions_ended=1"), "{events:?}");
}
