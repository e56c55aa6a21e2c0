//! The `tollgate` command through its public interface: `serve` with no configuration
//! (demo tenant, client and user, printed as NAME=value lines a script can read), the
//! `admin` subcommands, and refusal of unsafe production settings.

mod common;

use common::{Browser, spawn_binary, tollgate};
use serde_json::{Value, json};
use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_a_demo_a_script_can_sign_in_with() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn_binary(dir.path(), &[("TOLLGATE_DEMO", "true")]);
    let vars: HashMap<String, String> = server
        .printed
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for k in [
        "ISSUER",
        "CLIENT_ID",
        "CLIENT_SECRET",
        "REDIRECT_URI",
        "USERNAME",
        "PASSWORD",
        "M2M_CLIENT_ID",
        "M2M_CLIENT_SECRET",
        "M2M_RESOURCE",
    ] {
        assert!(
            vars.contains_key(k),
            "{k}= missing from {:?}",
            server.printed
        );
    }
    let t = common::TestTenant {
        id: "demo".into(),
        issuer: vars["ISSUER"].clone(),
        client_id: vars["CLIENT_ID"].clone(),
        client_secret: Some(vars["CLIENT_SECRET"].clone()),
        redirect_uri: vars["REDIRECT_URI"].clone(),
        email: vars["USERNAME"].clone(),
    };
    // The demo machine client gets a token for the demo API with what was printed.
    let m2m: Value = reqwest::Client::new()
        .post(format!("{}/token", vars["ISSUER"]))
        .basic_auth(&vars["M2M_CLIENT_ID"], Some(&vars["M2M_CLIENT_SECRET"]))
        .form(&[
            ("grant_type", "client_credentials"),
            ("resource", &vars["M2M_RESOURCE"]),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let at = m2m["access_token"].as_str().expect("a machine token");
    assert_eq!(
        common::jwt_claims(at)["aud"],
        vars["M2M_RESOURCE"].as_str(),
        "{m2m}"
    );
    // The demo is served as localhost (WebAuthn needs a domain; http://localhost is a
    // secure context): its sign-in page offers a passkey, the button and autofill.
    let public = t.issuer.trim_end_matches("/demo").to_owned();
    assert!(public.starts_with("http://localhost:"), "{public}");
    let b = Browser::new(&public);
    let (_, _, login) = b.get(&format!("{}/login", t.issuer)).await;
    assert!(
        login.contains("data-passkey=\"login\"")
            && login.contains("autocomplete=\"username webauthn\""),
        "{login}"
    );
    let (verifier, challenge) = common::pkce();
    let back = b
        .authorize(
            &common::authorize_url(&t, "openid email", &challenge, &[]),
            &t.email,
            &vars["PASSWORD"],
        )
        .await;
    let code = common::query_param(&back, "code").expect("code");
    let (s, v) = common::redeem(&reqwest::Client::new(), &t, &code, &verifier).await;
    assert_eq!(s, 200, "{v}");
    // The built-in demo app completes the same flow by itself and shows the claims.
    let (s, loc, _) = b.get(&format!("{public}/demo")).await;
    assert_eq!(s, 303);
    let back = b.get(&loc.unwrap()).await.1.unwrap(); // consent page (prompt=consent)
    assert!(back.contains("/consent?"), "{back}");
    let (_, _, page) = b.get(&back).await;
    let (s, loc, _) = b
        .post_form(
            &format!("{}/consent", t.issuer),
            &[
                ("decision", "allow"),
                ("tx", &common::hidden(&page, "tx").unwrap()),
                ("csrf", &common::hidden(&page, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (s, _, page) = b.get(&loc.unwrap()).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("ID token claims") && page.contains(&t.issuer),
        "{page}"
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
    // A second start on the same directory prints the same credentials (nothing stored in the clear).
    let mut again = spawn_binary(dir.path(), &[("TOLLGATE_DEMO", "true")]);
    assert!(
        again
            .printed
            .iter()
            .any(|l| l == &format!("PASSWORD={}", vars["PASSWORD"]))
    );
    // On its new port the demo app's redirect URI follows, so its sign-in still starts.
    let printed = |key: &str| {
        again
            .printed
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
            .unwrap()
    };
    let moved = common::TestTenant {
        issuer: printed("ISSUER"),
        redirect_uri: printed("REDIRECT_URI"),
        ..t.clone()
    };
    assert_ne!(
        moved.redirect_uri, t.redirect_uri,
        "the second start has its own port"
    );
    let (s, loc, page) = Browser::new(&moved.issuer)
        .get(&common::authorize_url(&moved, "openid", &challenge, &[]))
        .await;
    assert_eq!(s, 303, "{page}");
    assert!(loc.unwrap().contains("/demo/login?tx="));
    let _ = again.child.kill();
    let _ = again.child.wait();
}

#[test]
fn admin_subcommands_manage_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn_binary(dir.path(), &[]);
    let data = dir.path().to_str().unwrap();
    let base = ["admin", "--url", &server.base, "--data-dir", data];
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        tollgate(&args, env)
    };
    let (ok, out, err) = run(
        &[
            "tenant", "create", "acme", "--name", "Acme Inc", "--alg", "ES256",
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert!(out.contains("\"signing_alg\": \"ES256\""), "{out}");
    let (ok, out, err) = run(
        &[
            "client",
            "create",
            "acme",
            "--name",
            "Web",
            "--redirect-uri",
            "https://app.example/cb",
            "--client-id",
            "web",
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert!(out.contains("\"client_secret\""));
    // Pairwise subjects and the device grant; a pairwise client without a sector is refused.
    let device = "urn:ietf:params:oauth:grant-type:device_code";
    let tv = [
        "client",
        "create",
        "acme",
        "--name",
        "TV",
        "--public",
        "--grant-type",
        device,
        "--subject-type",
        "pairwise",
    ];
    let (ok, _, err) = run(&tv, &[]);
    assert!(!ok && err.contains("sector"), "{err}");
    // The sector's document (OIDC Core §8.1), served on loopback: a JSON array of the
    // client's redirect URIs (it has none).
    let doc = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sector = format!(
        "http://localhost:{}/sector.json",
        doc.local_addr().unwrap().port()
    );
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut sock in doc.incoming().take(4).flatten() {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf);
            let _ = sock.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]",
            );
        }
    });
    let with_sector: Vec<&str> = tv
        .iter()
        .copied()
        .chain(["--sector-identifier-uri", &sector])
        .collect();
    let (ok, _, err) = run(&with_sector, &[]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["client", "list", "acme"], &[]);
    assert!(ok, "{err}");
    let clients: Vec<Value> = serde_json::from_str(&out).unwrap();
    let tv = clients.iter().find(|c| c["name"] == "TV").expect("listed");
    assert_eq!(
        (&tv["subject_type"], &tv["sector"], &tv["grant_types"]),
        (&json!("pairwise"), &json!("localhost"), &json!([device])),
        "{out}"
    );
    let (ok, _, err) = run(
        &["user", "create", "acme", "--email", "a@acme.example"],
        &[("TOLLGATE_USER_PASSWORD", "long enough password")],
    );
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["key", "rotate", "acme"], &[]);
    assert!(ok, "{err}");
    let rotated: Value = serde_json::from_str(&out).unwrap();
    let active = rotated["active_kid"].as_str().unwrap().to_owned();
    // A leaked key is withdrawn at once: out of JWKS, marked revoked, replaced.
    let (ok, out, err) = run(&["key", "revoke", "acme", &active], &[]);
    assert!(ok, "{err}");
    let revoked: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(revoked["revoked_kid"], active.as_str());
    assert_eq!(revoked["active_kid"], rotated["next_kid"]);
    let (ok, out, err) = run(&["key", "list", "acme"], &[]);
    assert!(ok, "{err}");
    let keys: Vec<Value> = serde_json::from_str(&out).unwrap();
    let status = |kid: &str| {
        keys.iter()
            .find(|k| k["kid"] == kid)
            .map(|k| k["status"].clone())
    };
    assert_eq!(status(&active), Some(json!("Revoked")), "{out}");
    assert!(
        keys.iter()
            .all(|k| k.get("sealed_private").is_none() && k.get("d").is_none())
    );
    let jwks_url = format!("{}/acme/jwks.json", server.base);
    let jwks: Value = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async { reqwest::get(jwks_url).await.unwrap().json().await.unwrap() });
    assert!(!jwks.to_string().contains(&active), "{jwks}");
    let (ok, _, err) = run(&["key", "revoke", "acme", "no-such-kid"], &[]);
    assert!(!ok && err.contains("404") && err.contains("key"), "{err}");
    let (ok, out, _) = run(&["tenant", "list"], &[]);
    assert!(ok && out.contains("\"acme\""));
    // What the CLI prints is the admin API's answer, in the types both ends share.
    let tenants: Vec<tollgate_http::api::TenantView> = serde_json::from_str(&out).unwrap();
    let acme = tenants.iter().find(|t| t.id == "acme").unwrap();
    assert_eq!(
        (acme.signing_alg.as_str(), acme.display_name.as_str()),
        ("ES256", "Acme Inc")
    );
    assert!(acme.issuer.ends_with("/acme"), "{}", acme.issuer);
    let (ok, out, err) = run(
        &[
            "tenant",
            "mfa",
            "acme",
            "--mode",
            "optional",
            "--factors",
            "totp,passkey",
        ],
        &[],
    );
    assert!(ok, "{err}");
    let mfa: tollgate_http::api::MfaView = serde_json::from_str(&out).unwrap();
    assert_eq!(mfa.mfa.factors.len(), 2, "{out}");
    // Bad input the CLI can see itself is refused before anything is sent.
    let (ok, _, err) = run(
        &[
            "tenant",
            "mfa",
            "acme",
            "--mode",
            "sometimes",
            "--factors",
            "totp",
        ],
        &[],
    );
    assert!(
        !ok && err.contains("--mode is off, optional or required"),
        "{err}"
    );
    let (ok, _, err) = run(
        &[
            "connector",
            "set",
            "acme",
            "gh",
            "--preset",
            "github",
            "--client-id",
            "x",
            "--map",
            "shoe=size",
        ],
        &[],
    );
    assert!(!ok && err.contains("--map \"shoe\""), "{err}");
    let (ok, _, err) = run(
        &[
            "connector",
            "set",
            "acme",
            "gh",
            "--preset",
            "github",
            "--client-id",
            "x",
            "--token-auth",
            "mtls",
        ],
        &[],
    );
    assert!(
        !ok && err.contains("client_secret_basic or client_secret_post"),
        "{err}"
    );
    let (ok, out, err) = run(
        &[
            "tenant",
            "purposes",
            "acme",
            "--set",
            r#"[{"id":"terms","description":"Terms of service","version":1,"required":true}]"#,
        ],
        &[],
    );
    assert!(ok, "{err}");
    assert!(out.contains("\"terms\""), "{out}");
    let (ok, _, err) = run(
        &[
            "tenant",
            "profile-fields",
            "acme",
            "--set",
            r#"[{"field":"given_name","after_sign_ins":3}]"#,
        ],
        &[],
    );
    assert!(ok, "{err}");
    let (ok, out, _) = run(&["tenant", "purposes", "acme"], &[]);
    assert!(
        ok && out.contains("Terms of service") && out.contains("given_name"),
        "{out}"
    );
    let (ok, _, err) = run(
        &[
            "tenant",
            "profile-fields",
            "acme",
            "--set",
            r#"[{"field":"shoe_size"}]"#,
        ],
        &[],
    );
    assert!(!ok && err.contains("unknown profile field"), "{err}");

    // Bad input: a clear message and a failing exit code.
    let (ok, _, err) = run(&["tenant", "create", "Bad Name"], &[]);
    assert!(!ok);
    assert!(err.contains("tenant id must be"), "{err}");
    let (ok, _, err) = run(
        &[
            "client",
            "create",
            "acme",
            "--name",
            "X",
            "--redirect-uri",
            "http://evil.example/cb",
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("must use https"), "{err}");
    let (ok, _, err) = run(
        &["user", "create", "acme", "--email", "b@acme.example"],
        &[("TOLLGATE_USER_PASSWORD", "short")],
    );
    assert!(!ok && err.contains("at least 8"), "{err}");
    let (ok, _, err) = run(&["tenant", "create", "acme"], &[]);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = tollgate(
        &[
            "admin",
            "--url",
            &server.base,
            "--token",
            "wrong",
            "tenant",
            "list",
        ],
        &[],
    );
    assert!(!ok && err.contains("401"), "{err}");
    // Generated tokens are base64url: one may begin with '-' and is still a token.
    let (ok, _, err) = tollgate(
        &[
            "admin",
            "--url",
            &server.base,
            "--token",
            "-Bwrong",
            "tenant",
            "list",
        ],
        &[],
    );
    assert!(!ok && err.contains("401"), "{err}");
    let _ = server.child.kill();
    let _ = server.child.wait();
    let (ok, _, err) = run(&["tenant", "list"], &[]);
    assert!(!ok && err.contains("cannot reach"), "{err}");
}

#[test]
fn production_mode_refuses_unsafe_settings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (ok, _, err) = tollgate(
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", data],
        &[
            ("TOLLGATE_MODE", "production"),
            ("TOLLGATE_PUBLIC_URL", "http://id.example"),
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("refusing to start in production mode"),
        "{err}"
    );
    assert!(
        err.contains("https") && err.contains("master_key") && err.contains("admin_token"),
        "{err}"
    );
    assert!(
        !dir.path().join("master.key").exists(),
        "production generated a key"
    );
    let (ok, _, err) = tollgate(&["serve", "--config", "/nonexistent/tollgate.toml"], &[]);
    assert!(!ok && err.contains("does not exist"), "{err}");
}

#[test]
fn migrate_refuses_local_serial_for_a_region_across_datacenters() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("tollgate.toml");
    let write = |serial: &str| {
        std::fs::write(
            &cfg,
            format!(
                "[store]\nbackend = \"scylla\"\n[store.scylla]\nnodes = [\"127.0.0.1:1\"]\n\
                 serial_consistency = \"{serial}\"\nrequest_timeout_ms = 2500\n\
                 [regions.eu]\ndatacenters = {{ dc_frankfurt = 3, dc_dublin = 3 }}\n"
            ),
        )
        .unwrap();
    };
    write("local_serial");
    let (ok, _, err) = tollgate(&["migrate", "--config", cfg.to_str().unwrap()], &[]);
    assert!(!ok);
    assert!(
        err.contains("region `eu`") && err.contains("serial_consistency = \"serial\""),
        "{err}"
    );
    // With serial, the plan is accepted and the failure is the (absent) node's.
    write("serial");
    let (ok, _, err) = tollgate(&["migrate", "--config", cfg.to_str().unwrap()], &[]);
    assert!(!ok);
    assert!(
        err.contains("cannot connect") && !err.contains("region `eu`"),
        "{err}"
    );
}
