//! A real browser (Debian's Chromium, headless, driven through chromedriver) signs in on
//! the hosted page: an ordinary HTML form, filled in and submitted like a person would.
//! The relying party is the `openidconnect` crate; the redirect must carry `code` and
//! `state`, and the code must redeem.
//!
//! Needs `chromium` and `chromedriver`, so it is `#[ignore]`d: a plain `cargo test`
//! reports it as ignored; ops/test.sh installs both and runs it with `--ignored`, where a
//! browser that cannot start fails it.

mod common;

use common::chrome::{callback_server, shop, start_chromedriver};
use common::{PASSWORD, TestServer};
use fantoccini::{ClientBuilder, Locator};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};
use serde_json::json;
use std::time::{Duration, Instant};

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: ops/test.sh installs them and runs it with --ignored"]
async fn chromium_signs_in_through_the_hosted_form() {
    let (_driver, driver_port) = start_chromedriver().expect(
        "chromedriver is needed (apt-get install chromium chromium-driver, or run ops/test.sh)",
    );
    let server = TestServer::start().await;
    let cb_port = callback_server();
    let redirect_uri = format!("http://127.0.0.1:{cb_port}/callback");
    let c = shop(&server, &redirect_uri).await;

    // The relying party builds the request.
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let issuer = format!("{}/shop", server.base);
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer).unwrap(), &http)
        .await
        .unwrap();
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(c["client_id"].as_str().unwrap().into()),
        Some(ClientSecret::new(
            c["client_secret"].as_str().unwrap().into(),
        )),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser signs in.
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
    let outcome = async {
        browser.goto(url.as_str()).await?;
        let email = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("input[type=email]"))
            .await?;
        assert_eq!(email.attr("name").await?.as_deref(), Some("email"));
        email.send_keys("buyer@shop.example").await?;
        browser
            .find(Locator::Css("input[type=password]"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        browser
            .find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = browser.current_url().await?;
            if now.as_str().starts_with(&redirect_uri) || Instant::now() > deadline {
                return Ok::<_, fantoccini::error::CmdError>(now.to_string());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    .await;
    let _ = browser.close().await;
    let landed = outcome.expect("browser session");
    assert!(
        landed.starts_with(&redirect_uri),
        "the browser ended at {landed}"
    );
    assert_eq!(
        common::query_param(&landed, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = common::query_param(&landed, "code").expect("code in the redirect");

    // And the code redeems for a valid ID token.
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    tokens
        .id_token()
        .unwrap()
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("valid ID token");
}
