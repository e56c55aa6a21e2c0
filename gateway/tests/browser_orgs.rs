//! Organisations in a real browser (headless Chromium through chromedriver): an
//! invitation opened signed out, accepted after signing up (the mailed code read from the
//! development outbox); the organisation picker after sign-in for a user in two
//! organisations; and `organization` in the authorization request, granted and refused.
//! The codes the browser brings back are redeemed over HTTP and the tokens' claims read.
//!
//! Needs `chromium` and `chromedriver`, so it is `#[ignore]`d: ops/test.sh installs both
//! and runs it with `--ignored`, where a browser that cannot start fails it.

mod common;

use common::chrome::{Failed, Flow, callback_server, shop, start_chromedriver, wait_for};
use common::{
    PASSWORD, TestServer, TestTenant, authorize_url, jwt_claims, outbox_code, pkce, query_param,
    redeem,
};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::time::Duration;

const NEWCOMER: &str = "newcomer@shop.example";

async fn click(browser: &Client, css: &str) -> Flow<()> {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await?
        .click()
        .await?;
    Ok(())
}

async fn fill(browser: &Client, css: &str, text: &str) -> Flow<()> {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await?
        .send_keys(text)
        .await?;
    Ok(())
}

/// Opens the invitation signed out, signs up with the invited address, and accepts.
async fn invitation_flow(browser: &Client, server: &TestServer, url: &str) -> Flow<()> {
    browser.goto(url).await?;
    wait_for(browser, 10, "the invitation page", |_, s| {
        s.contains("Join Acme Ltd") && s.contains("You have been invited")
    })
    .await?;
    click(browser, "a[href='/shop/login']").await?;
    click(browser, "a[href='/shop/signup']").await?;
    fill(browser, "#email", NEWCOMER).await?;
    fill(browser, "#password", PASSWORD).await?;
    click(browser, "form[action='/shop/signup'] button[type=submit]").await?;
    wait_for(browser, 10, "the code form", |_, s| {
        s.contains("name=\"code\"")
    })
    .await?;
    let code = outbox_code(server.dir.path(), NEWCOMER, "create your").await;
    fill(browser, "#code", &code).await?;
    click(browser, "form button[type=submit]").await?;
    // A passkey may be offered first; skipping it lands on the account page, which sends
    // the browser back to the invitation.
    wait_for(browser, 15, "the offer or the invitation", |u, s| {
        s.contains("passkey-skip") || (u.contains("/invitations/") && s.contains("Accept"))
    })
    .await?;
    if browser.source().await?.contains("passkey-skip") {
        click(browser, "#passkey-skip").await?;
    }
    wait_for(browser, 15, "the invitation, signed in", |u, s| {
        u.contains("/shop/invitations/") && s.contains("Accept and join")
    })
    .await?;
    click(
        browser,
        "form[action^='/shop/invitations/'] button[type=submit]",
    )
    .await?;
    wait_for(browser, 10, "the welcome", |_, s| {
        s.contains("Welcome to Acme Ltd") && s.contains("You are now a member of Acme Ltd")
    })
    .await?;
    // Used: the link does not work twice.
    browser.goto(url).await?;
    wait_for(browser, 10, "the used invitation", |_, s| {
        s.contains("This invitation is not valid")
    })
    .await?;
    Ok(())
}

/// Signs in at the authorization, picks the organisation `choose` (an id), and returns
/// the URL the browser came back to the app with.
async fn picker_flow(browser: &Client, auth: &str, cb: &str, choose: &str) -> Flow<String> {
    browser.goto(auth).await?;
    wait_for(browser, 10, "the sign-in page", |u, _| {
        u.contains("/shop/login")
    })
    .await?;
    fill(browser, "input[type=email]", NEWCOMER).await?;
    fill(browser, "input[type=password]", PASSWORD).await?;
    click(browser, "form[action='/shop/login'] button[type=submit]").await?;
    wait_for(browser, 10, "the picker", |u, s| {
        u.contains("/shop/organization") && s.contains("Choose an organisation")
    })
    .await?;
    let choices = browser.find_all(Locator::Css("input[name=org]")).await?;
    if choices.len() != 2 {
        return Err(Failed::Wrong(format!(
            "{} organisations offered",
            choices.len()
        )));
    }
    click(browser, &format!("input[name=org][value='{choose}']")).await?;
    click(
        browser,
        "form[action='/shop/organization'] button[type=submit]",
    )
    .await?;
    wait_for(browser, 10, "the app", |u, _| u.starts_with(cb)).await?;
    Ok(browser.current_url().await?.to_string())
}

async fn back_to_app(browser: &Client, auth: &str, cb: &str) -> Flow<String> {
    browser.goto(auth).await?;
    wait_for(browser, 10, "the app", |u, _| u.starts_with(cb)).await?;
    Ok(browser.current_url().await?.to_string())
}

async fn org_of(t: &TestTenant, back: &str, verifier: &str) -> Value {
    let code = query_param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (s, tokens) = redeem(&reqwest::Client::new(), t, &code, verifier).await;
    assert_eq!(s, 200, "{tokens}");
    jwt_claims(tokens["access_token"].as_str().unwrap())
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: ops/test.sh installs them and runs it with --ignored"]
async fn chromium_accepts_an_invitation_after_sign_up_picks_an_organisation_and_asks_for_one() {
    let (_driver, driver_port) = start_chromedriver().expect(
        "chromedriver is needed (apt-get install chromium chromium-driver, or run ops/test.sh)",
    );
    let server = TestServer::start().await;
    let cb_port = callback_server();
    let cb = format!("http://127.0.0.1:{cb_port}/callback");
    let c = shop(&server, &cb).await;
    let t = TestTenant {
        id: "shop".into(),
        issuer: format!("{}/shop", server.base),
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        redirect_uri: cb.clone(),
        email: "buyer@shop.example".into(),
    };
    let admin = |method: reqwest::Method, path: &str, body: Value| {
        server
            .http
            .request(
                method,
                format!("{}/admin/v1/tenants/shop{path}", server.base),
            )
            .bearer_auth(&server.admin_token)
            .json(&body)
    };
    let r = admin(
        reqwest::Method::PUT,
        "/org-settings",
        json!({"permissions": [{"name": "orders:read"}]}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = admin(
        reqwest::Method::PUT,
        "/roles/viewer",
        json!({"permissions": ["orders:read"]}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    for (name, display) in [
        ("acme", "Acme Ltd"),
        ("globex", "Globex"),
        ("initech", "Initech"),
    ] {
        let r = admin(
            reqwest::Method::POST,
            "/organizations",
            json!({"name": name, "display_name": display}),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 201);
    }
    let inv: Value = admin(
        reqwest::Method::POST,
        "/organizations/acme/invitations",
        json!({"email": NEWCOMER, "roles": ["viewer"]}),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let url = inv["url"].as_str().expect("the invitation link").to_owned();

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
    let outcome = invitation_flow(&browser, &server, &url).await;
    if let Err(e) = outcome {
        let _ = browser.close().await;
        panic!("the invitation flow: {e:?}");
    }
    // The newcomer is a viewer of acme.
    let members: Value = admin(
        reqwest::Method::GET,
        "/organizations/acme/members",
        json!(null),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(members["items"].as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members["items"][0]["roles"], json!(["viewer"]));
    let newcomer = members["items"][0]["user_id"].as_str().unwrap().to_owned();
    // Put the newcomer in globex too: they now belong to two organisations.
    let r = admin(
        reqwest::Method::PUT,
        &format!("/organizations/globex/members/{newcomer}"),
        json!({"roles": []}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let _ = browser.delete_all_cookies().await;

    // The picker: the organization scope, two organisations, the second one chosen.
    let t = TestTenant {
        email: NEWCOMER.into(),
        ..t
    };
    let (verifier, challenge) = pkce();
    let auth = authorize_url(&t, "openid organization", &challenge, &[]);
    let globex: Value = admin(reqwest::Method::GET, "/organizations/globex", json!(null))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let globex = globex["id"].as_str().unwrap().to_owned();
    let picked = match picker_flow(&browser, &auth, &cb, &globex).await {
        Ok(u) => u,
        Err(e) => {
            let _ = browser.close().await;
            panic!("the picker flow: {e:?}");
        }
    };
    let at = org_of(&t, &picked, &verifier).await;
    assert_eq!(at["org_name"], "globex", "{at}");
    assert_eq!(at["roles"], json!([]));

    // `organization` in the request, signed in already: acme, with its role.
    let (verifier, challenge) = pkce();
    let auth = authorize_url(&t, "openid", &challenge, &[("organization", "acme")]);
    let back = back_to_app(&browser, &auth, &cb).await;
    let back = match back {
        Ok(u) => u,
        Err(e) => {
            let _ = browser.close().await;
            panic!("organization=acme: {e:?}");
        }
    };
    let at = org_of(&t, &back, &verifier).await;
    assert_eq!(at["org_name"], "acme", "{at}");
    assert_eq!(at["permissions"], json!(["orders:read"]));

    // And one the user is not a member of: access_denied at the app.
    let (_, challenge) = pkce();
    let auth = authorize_url(&t, "openid", &challenge, &[("organization", "initech")]);
    let back = back_to_app(&browser, &auth, &cb).await;
    let _ = browser.close().await;
    let back = back.expect("organization=initech");
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied"),
        "{back}"
    );
    assert_eq!(
        query_param(&back, "error_description").as_deref(),
        Some("the user is not a member of the requested organization")
    );
}
