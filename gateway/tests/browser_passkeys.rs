//! A real browser (headless Chromium through chromedriver) with Chromium's virtual
//! authenticator (the W3C WebAuthn WebDriver extension: CTAP2, internal transport,
//! resident keys, user verification): sign in with the password, add a passkey on the
//! account page by clicking, sign out, then sign in to a relying party with the passkey
//! alone from the sign-in page, and reach its redirect with a code that redeems for an
//! ID token whose `amr` says `hwk`.
//!
//! The server's public URL is `http://localhost:PORT`: WebAuthn needs a domain, and
//! Chromium treats http://localhost as a secure context. Needs `chromium` and
//! `chromedriver`, so it is `#[ignore]`d: a plain `cargo test` reports it as ignored;
//! ops/test.sh installs both and runs it with `--ignored`, where a browser that cannot
//! start fails it.

mod common;

use common::chrome::{Failed, Flow, callback_server, shop, start_chromedriver, wait_for};
use common::{PASSWORD, jwt_claims, start_localhost};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A command of the WebAuthn WebDriver extension (W3C WebAuthn §11), which fantoccini
/// does not wrap: `path` is under `/session/{id}/webauthn/`.
#[derive(Debug)]
struct WebAuthnCommand {
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for WebAuthnCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (reqwest::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

async fn webauthn(
    browser: &Client,
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
) -> Flow<Value> {
    let v = browser
        .issue_cmd(WebAuthnCommand { method, path, body })
        .await?;
    // Some drivers answer the whole `{"value": …}` envelope.
    Ok(match v {
        Value::Object(mut m) if m.contains_key("value") => m.remove("value").unwrap_or_default(),
        v => v,
    })
}

/// Clicks an element once the passkey script has shown it. The element is looked up
/// afresh on each try: a page that re-renders (or a script that replaces it) leaves a
/// stale reference behind, which is retried rather than failed on.
async fn click_visible(browser: &Client, css: &str) -> Flow<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let attempt = async {
            let el = browser.find(Locator::Css(css)).await?;
            if el.is_displayed().await? {
                el.click().await?;
                Ok::<bool, fantoccini::error::CmdError>(true)
            } else {
                Ok(false)
            }
        }
        .await;
        match attempt {
            Ok(true) => return Ok(()),
            Ok(false) | Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(false) => return Err(Failed::Timeout(format!("{css} to become visible"))),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Signs in with the password on the sign-in page the browser is on.
async fn password_form(browser: &Client) -> Flow<()> {
    let email = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("input[type=email]"))
        .await?;
    assert_eq!(
        email.attr("autocomplete").await?.as_deref(),
        Some("username webauthn"),
        "the email field offers passkeys (conditional UI)"
    );
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
    Ok(())
}

/// Signs out from the account page.
async fn sign_out(browser: &Client, origin: &str) -> Flow<()> {
    browser.goto(&format!("{origin}/shop/account")).await?;
    click_visible(browser, "form[action='/shop/logout'] button").await?;
    wait_for(browser, 10, "the signed-out page", |_, s| {
        s.contains("You are signed out")
    })
    .await
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: ops/test.sh installs them and runs it with --ignored"]
async fn chromium_adds_a_passkey_and_signs_in_with_it_alone() {
    let (_driver, driver_port) = start_chromedriver().expect(
        "chromedriver is needed (apt-get install chromium chromium-driver, or run ops/test.sh)",
    );
    let server = start_localhost().await;
    let origin = server.running.engine.config().public_url.clone();
    let cb_port = callback_server();
    let redirect_uri = format!("http://127.0.0.1:{cb_port}/callback");
    let c = shop(&server, &redirect_uri).await;

    // The relying party, through discovery at http://localhost:PORT/shop.
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(format!("{origin}/shop")).unwrap(),
        &http,
    )
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
    let authorize = || {
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
        (url, state, nonce, verifier)
    };
    let first = authorize();
    let second = authorize();
    let third = authorize();
    // A code dies with the session it came from, and this flow signs out between its
    // sign-ins: each code is redeemed as soon as the browser lands, as a relying party
    // does. Returns what the checks below need.
    let redeem = |landed: String, which: &(url::Url, CsrfToken, Nonce, PkceCodeVerifier)| {
        let (rp, http) = (&rp, &http);
        let (state, nonce) = (which.1.secret().clone(), which.2.clone());
        let verifier = PkceCodeVerifier::new(which.3.secret().clone());
        async move {
            assert_eq!(
                common::query_param(&landed, "state").as_deref(),
                Some(state.as_str())
            );
            let code = common::query_param(&landed, "code").expect("code in the redirect");
            let tokens = rp
                .exchange_code(AuthorizationCode::new(code))
                .unwrap()
                .set_pkce_verifier(verifier)
                .request_async(http)
                .await
                .expect("code exchange");
            let id_token = tokens.id_token().unwrap();
            id_token
                .claims(&rp.id_token_verifier(), &nonce)
                .expect("valid ID token");
            jwt_claims(&id_token.to_string())
        }
    };

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

    let flow = async {
        // A platform authenticator that holds discoverable credentials and verifies the
        // user (as a fingerprint reader would), approving every request.
        let auth = webauthn(
            &browser,
            reqwest::Method::POST,
            "authenticator".into(),
            Some(json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserVerified": true,
            })),
        )
        .await?;
        let auth = auth.as_str().expect("an authenticator id").to_owned();
        let credentials = format!("authenticator/{auth}/credentials");

        // Sign in with the password; the account page follows.
        browser.goto(&format!("{origin}/shop/login")).await?;
        password_form(&browser).await?;
        wait_for(&browser, 15, "the account page", |u, _| {
            u.ends_with("/shop/account")
        })
        .await?;

        // Add a passkey by clicking.
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#passkey-label"))
            .await?
            .send_keys("Chromium")
            .await?;
        click_visible(&browser, "#passkey-register").await?;
        wait_for(
            &browser,
            20,
            "the new passkey on the account page",
            |_, s| s.contains("<strong>Chromium</strong>"),
        )
        .await?;
        let creds = webauthn(&browser, reqwest::Method::GET, credentials.clone(), None).await?;
        let creds = creds.as_array().cloned().unwrap_or_default();
        assert_eq!(creds.len(), 1, "{creds:?}");
        assert_eq!(
            creds[0]["isResidentCredential"], true,
            "a discoverable passkey"
        );
        sign_out(&browser, &origin).await?;

        // The relying party sends the browser to sign in, and the passkey alone does it:
        // Chromium's virtual authenticator answers the email field's autofill request
        // (conditional mediation) by itself, as a person choosing it would.
        browser.goto(first.0.as_str()).await?;
        wait_for(
            &browser,
            20,
            "the passkey sign-in through autofill",
            |u, _| u.starts_with(&redirect_uri),
        )
        .await?;
        let landed_first = redeem(browser.current_url().await?.to_string(), &first).await;

        // Again with the "Sign in with a passkey" button: the authenticator forgets the
        // passkey while the page loads (so that the autofill request finds none) and gets
        // it back before the click, which cancels the autofill request for its own.
        let saved = webauthn(&browser, reqwest::Method::GET, credentials.clone(), None).await?;
        let saved = saved[0].clone();
        let forget = || webauthn(&browser, reqwest::Method::DELETE, credentials.clone(), None);
        let restore = || {
            webauthn(
                &browser,
                reqwest::Method::POST,
                format!("authenticator/{auth}/credential"),
                Some(saved.clone()),
            )
        };
        sign_out(&browser, &origin).await?;
        forget().await?;
        browser.goto(third.0.as_str()).await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("div[data-passkey=login]:not([hidden])"))
            .await?;
        restore().await?;
        // Chromium may hand the restored passkey to the still-pending autofill request
        // before the click lands (the page then leaves for the relying party): that is a
        // passkey sign-in too, so either way the browser must arrive there.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if browser
                .current_url()
                .await?
                .as_str()
                .starts_with(&redirect_uri)
            {
                break;
            }
            if let Ok(el) = browser.find(Locator::Css("#passkey-login")).await
                && el.is_displayed().await.unwrap_or(false)
                && el.click().await.is_ok()
            {
                break;
            }
            if Instant::now() > deadline {
                return Err(Failed::Timeout("the passkey button".into()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        wait_for(
            &browser,
            20,
            "the passkey sign-in through the button",
            |u, _| u.starts_with(&redirect_uri),
        )
        .await?;
        let landed_third = redeem(browser.current_url().await?.to_string(), &third).await;

        // As a second factor: the tenant now asks those who have one for it. The
        // authenticator forgets the passkey while the password is typed (so that the
        // autofill cannot sign in first) and gets it back for the second step. Its
        // signature counter comes back with it.
        let r = reqwest::Client::new()
            .put(format!("{}/admin/v1/tenants/shop/mfa", server.base))
            .bearer_auth(&server.admin_token)
            .json(&json!({"mode": "optional", "factors": ["totp", "passkey", "recovery_codes"]}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let saved = webauthn(&browser, reqwest::Method::GET, credentials.clone(), None).await?;
        let saved = saved[0].clone();
        sign_out(&browser, &origin).await?;
        webauthn(&browser, reqwest::Method::DELETE, credentials.clone(), None).await?;
        browser.goto(second.0.as_str()).await?;
        password_form(&browser).await?;
        wait_for(&browser, 15, "the second-factor page", |_, s| {
            s.contains("Use a passkey")
        })
        .await?;
        webauthn(
            &browser,
            reqwest::Method::POST,
            format!("authenticator/{auth}/credential"),
            Some(saved),
        )
        .await?;
        click_visible(&browser, "#passkey-factor").await?;
        wait_for(&browser, 20, "the relying party's redirect", |u, _| {
            u.starts_with(&redirect_uri)
        })
        .await?;
        let landed_second = redeem(browser.current_url().await?.to_string(), &second).await;
        let _ = webauthn(
            &browser,
            reqwest::Method::DELETE,
            format!("authenticator/{auth}"),
            None,
        )
        .await;
        Ok::<_, Failed>((landed_first, landed_second, landed_third))
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), flow).await;
    let _ = browser.close().await;
    let (landed_first, landed_second, landed_third) = outcome
        .expect("the browser flow finishes within two minutes")
        .expect("browser flow");
    for (claims, amr) in [
        (landed_first, json!(["hwk", "mfa"])),
        (landed_second, json!(["pwd", "hwk", "mfa"])),
        (landed_third, json!(["hwk", "mfa"])),
    ] {
        assert_eq!(claims["amr"], amr, "{claims}");
        assert_eq!(claims["acr"], "urn:tollgate:loa:2");
    }
}
