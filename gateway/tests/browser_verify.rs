//! The Aadhaar verification page in a real browser (headless Chromium through
//! chromedriver): sign in, open `/{tenant}/verify/aadhaar`, choose the share-code ZIP the
//! test signed in the file input, type the share code, submit. First with a wrong share
//! code (the form comes back with the reason), then with the right one (the result page
//! says what was checked and what was kept).
//!
//! Needs `chromium` and `chromedriver`, so it is `#[ignore]`d: a plain `cargo test`
//! reports it as ignored; ops/test.sh installs both and runs it with `--ignored`, where a
//! browser that cannot start fails it.

mod common;

use common::chrome::{Failed, Flow, start_chromedriver, wait_for};
use common::{PASSWORD, TestServer};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::time::Duration;
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_kyc::testkit::{self, DocOptions, Resident};

const SHARE: &str = "Kv9#share";
const EMAIL: &str = "kavya@kycweb.example";

async fn sign_in(browser: &Client, origin: &str) -> Flow<()> {
    browser.goto(&format!("{origin}/kycweb/login")).await?;
    let email = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("input[type=email]"))
        .await?;
    email.send_keys(EMAIL).await?;
    browser
        .find(Locator::Css("input[type=password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    browser
        .find(Locator::Css(
            "form[action='/kycweb/login'] button[type=submit]",
        ))
        .await?
        .click()
        .await?;
    wait_for(browser, 15, "the account page", |u, _| {
        u.ends_with("/kycweb/account")
    })
    .await
}

/// Chooses `zip` in the file input, types `share_code`, submits.
async fn upload(
    browser: &Client,
    origin: &str,
    zip: &std::path::Path,
    share_code: &str,
) -> Flow<()> {
    browser
        .goto(&format!("{origin}/kycweb/verify/aadhaar"))
        .await?;
    let file = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("input#kyc-file[type=file]"))
        .await?;
    file.send_keys(&zip.display().to_string()).await?;
    browser
        .find(Locator::Css("input#kyc-share-code"))
        .await?
        .send_keys(share_code)
        .await?;
    browser
        .find(Locator::Css(
            "form[action='/kycweb/verify/aadhaar'] button[type=submit]",
        ))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn verify_flow(browser: &Client, origin: &str, zip: &std::path::Path) -> Flow<()> {
    sign_in(browser, origin).await?;

    upload(browser, origin, zip, "wrong-code").await?;
    wait_for(browser, 15, "the refusal", |_, s| {
        s.contains("role=\"alert\"") && s.contains("The share code does not open this file")
    })
    .await?;

    upload(browser, origin, zip, SHARE).await?;
    wait_for(browser, 15, "the result page", |_, s| {
        s.contains("Your identity is verified")
    })
    .await?;
    let source = browser.source().await?;
    for shown in ["data-name-match=\"match\"", "7058", "We kept only"] {
        if !source.contains(shown) {
            return Err(Failed::Wrong(format!(
                "no {shown:?} on the result page:\n{source}"
            )));
        }
    }
    for hidden in ["14-08-1991", "Gulmohar", SHARE] {
        if source.contains(hidden) {
            return Err(Failed::Wrong(format!("{hidden:?} is on the result page")));
        }
    }
    Ok(())
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: ops/test.sh installs them and runs it with --ignored"]
async fn chromium_uploads_the_share_code_zip_through_the_form() {
    let (_driver, driver_port) = start_chromedriver().expect(
        "chromedriver is needed (apt-get install chromium chromium-driver, or run ops/test.sh)",
    );
    let server = TestServer::start().await;
    server
        .admin(
            "/tenants",
            json!({"id": "kycweb", "display_name": "KYC web"}),
        )
        .await;
    let u = server
        .admin(
            "/tenants/kycweb/users",
            json!({"email": EMAIL, "password": PASSWORD, "name": Resident::default().name, "email_verified": true}),
        )
        .await;
    let r = server
        .http
        .put(format!(
            "{}/admin/v1/tenants/kycweb/verification",
            server.base
        ))
        .bearer_auth(&server.admin_token)
        .json(&json!({"aadhaar": {"certificates": [testkit::uidai().cert_pem()]}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let xml = testkit::signed_xml(
        &Resident::default(),
        &DocOptions::new(now - 300, SHARE),
        testkit::uidai(),
    );
    let files = tempfile::tempdir().unwrap();
    let zip = files.path().join("offlineaadhaar20261207.zip");
    std::fs::write(&zip, testkit::share_code_zip(xml.as_bytes(), SHARE)).unwrap();

    let profile = tempfile::tempdir().unwrap();
    let chrome = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let caps = json!({
        "goog:chromeOptions": {
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    tollgate_gateway::install_crypto_provider();
    let browser = ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("chromium starts under chromedriver");
    let outcome = verify_flow(&browser, &server.base, &zip).await;
    let _ = browser.close().await;
    outcome.expect("the browser flow");

    // Kept: one verification, the names matching; the refusal kept nothing.
    let kept = server
        .running
        .engine
        .verify()
        .list(
            &TenantId::parse("kycweb").unwrap(),
            &UserId::from_stored(u["id"].as_str().unwrap().to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].name_match.as_str(), "match");
    assert_eq!(kept[0].aadhaar_last4.as_deref(), Some("7058"));
    let events = server.events("kycweb", "kind=verify.aadhaar_offline").await;
    assert!(
        events
            .iter()
            .any(|e| e["result"] != "success" && e["detail"] == "wrong_share_code"),
        "{events:?}"
    );
}
