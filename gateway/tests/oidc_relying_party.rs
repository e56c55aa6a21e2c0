//! An independent OpenID Connect relying party (the `openidconnect` crate) against a
//! running server, over real HTTP: discovery, code + PKCE through the hosted sign-in
//! form, ID token validation against JWKS, userinfo, refresh with rotation, revocation
//! and RP-initiated logout.

mod common;

use common::{Browser, PASSWORD, TestServer, query_param};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreProviderMetadata,
    CoreRevocableToken, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl, IssuerUrl, LogoutRequest,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl, RedirectUrl,
    RequestTokenError, RevocationUrl, Scope, TokenResponse, UserInfoError,
};

/// The relying party's HTTP client: trusts the test certificate, follows no redirect.
fn rp_http(server: &TestServer) -> openidconnect::reqwest::Client {
    let ca =
        openidconnect::reqwest::Certificate::from_pem(server.tls_ca.as_ref().unwrap().as_bytes())
            .unwrap();
    openidconnect::reqwest::ClientBuilder::new()
        .add_root_certificate(ca)
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[actix_web::test]
async fn openidconnect_relying_party_completes_every_step() {
    // Over https: the relying-party library refuses plain-http revocation endpoints.
    let server = TestServer::start_tls().await;
    let t = server.tenant("acme", false, false).await;
    let http = rp_http(&server);

    // Discovery.
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(t.issuer.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(t.client_id.clone()),
        Some(ClientSecret::new(t.client_secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(t.redirect_uri.clone()).unwrap())
    .set_revocation_url(RevocationUrl::new(format!("{}/revoke", t.issuer)).unwrap());

    // Authorization code + PKCE through the hosted sign-in and consent pages.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_prompt(openidconnect::core::CoreAuthPrompt::Consent)
        .set_pkce_challenge(challenge)
        .url();
    let browser = server.browser();
    let back = browser
        .authorize(auth_url.as_str(), &t.email, PASSWORD)
        .await;
    assert!(back.starts_with(&t.redirect_uri), "redirected to {back}");
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        query_param(&back, "iss").as_deref(),
        Some(t.issuer.as_str())
    );
    let code = query_param(&back, "code").expect("code");

    // Token exchange and ID token validation against the JWKS.
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("id token").clone();
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("valid ID token");
    assert_eq!(claims.issuer().as_str(), t.issuer);
    assert!(claims.auth_time().is_some());
    let refresh = tokens
        .refresh_token()
        .expect("offline_access granted a refresh token")
        .clone();

    // Userinfo.
    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some(t.email.as_str()));
    assert_eq!(info.email_verified(), Some(true));

    // Refresh rotates: a new refresh token each time, the new one works.
    let r1 = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    let refresh2 = r1.refresh_token().expect("rotated").clone();
    assert_ne!(refresh2.secret(), refresh.secret());
    let r1_id = r1.id_token().expect("id token on refresh");
    r1_id
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("refreshed ID token is valid");
    let r2 = client
        .exchange_refresh_token(&refresh2)
        .unwrap()
        .request_async(&http)
        .await
        .expect("second refresh");
    let refresh3 = r2.refresh_token().unwrap().clone();

    // Revocation: the chain is dead afterwards.
    client
        .revoke_token(CoreRevocableToken::from(refresh3.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("revocation");
    // RFC 7009 §2.1: the access tokens of the revoked chain are revoked with it.
    let userinfo_after: Result<CoreUserInfoClaims, _> = client
        .user_info(r2.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await;
    match userinfo_after {
        Err(UserInfoError::Response(status, _, _)) => assert_eq!(status.as_u16(), 401),
        other => panic!("an access token of a revoked chain still works: {other:?}"),
    }
    match client
        .exchange_refresh_token(&refresh3)
        .unwrap()
        .request_async(&http)
        .await
    {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), CoreErrorResponseType::InvalidGrant, "{e:?}")
        }
        other => panic!("a revoked refresh token was not refused as invalid_grant: {other:?}"),
    }

    // RP-initiated logout with id_token_hint: back to the registered URI with state, and
    // the SSO session is gone (prompt=none now answers login_required).
    let logout_url =
        LogoutRequest::from(EndSessionUrl::new(format!("{}/logout", t.issuer)).unwrap())
            .set_id_token_hint(&id_token)
            .set_post_logout_redirect_uri(
                PostLogoutRedirectUrl::new("http://127.0.0.1:9/bye".into()).unwrap(),
            )
            .set_state(CsrfToken::new("bye-state".into()))
            .http_get_url();
    let (status, loc, _) = browser.get(logout_url.as_str()).await;
    assert_eq!(status, 303);
    let loc = loc.unwrap();
    assert!(loc.starts_with("http://127.0.0.1:9/bye"), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("bye-state"));
    let (_, challenge) = common::pkce();
    let again = common::authorize_url(&t, "openid", &challenge, &[("prompt", "none")]);
    let (_, loc, _) = browser.get(&again).await;
    assert_eq!(
        query_param(&loc.unwrap(), "error").as_deref(),
        Some("login_required")
    );
}

#[actix_web::test]
async fn discovery_and_jwks_are_cacheable_and_public_only() {
    let server = TestServer::start().await;
    let t = server.tenant("keys", false, false).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/jwks.json", t.issuer))
        .send()
        .await
        .unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let jwks: serde_json::Value = r.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "active and next key are published");
    for k in keys {
        assert!(
            k.get("d").is_none() && k.get("p").is_none(),
            "private member published"
        );
    }
    let r = http
        .get(format!("{}/jwks.json", t.issuer))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    // Rotation: the next key signs, a new next key appears, the old one stays published.
    let rot = server
        .admin("/tenants/keys/keys/rotate", serde_json::json!({}))
        .await;
    let jwks2: serde_json::Value = http
        .get(format!("{}/jwks.json", t.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks2["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 3);
    assert!(kids.contains(&rot["active_kid"].as_str().unwrap()));
    assert!(kids.contains(&rot["retired_kid"].as_str().unwrap()));
    assert_eq!(
        rot["active_kid"], keys[1]["kid"],
        "the published next key became active"
    );
    // Tokens are signed by the new active key.
    let b = Browser::new(&server.base);
    let tokens = common::login_tokens(&b, &t, "openid").await;
    let header = tokens["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&tollgate_engine::crypto::b64_decode(header).unwrap()).unwrap();
    assert_eq!(header["kid"], rot["active_kid"]);
}

/// Issue 15: a client may ask for refreshes without a new ID token (OIDC Core §12.2), one
/// signature per refresh. The openidconnect library takes such a response as valid; the
/// code exchange still carries its ID token, and other clients still get one on refresh.
#[actix_web::test]
async fn a_client_may_refresh_without_a_new_id_token() {
    let server = TestServer::start_tls().await;
    let t = server.tenant("lean", false, true).await;
    let created = server
        .admin(
            "/tenants/lean/clients",
            serde_json::json!({
                "name": "Lean app",
                "redirect_uris": [t.redirect_uri],
                "first_party": true,
                "refresh_without_id_token": true,
            }),
        )
        .await;
    let listed = server.admin_get("/tenants/lean/clients").await;
    let view = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_id"] == created["client_id"])
        .unwrap();
    assert_eq!(view["refresh_without_id_token"], true, "{view}");
    let http = rp_http(&server);
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(t.issuer.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    for (client_id, secret, lean) in [
        (
            created["client_id"].as_str().unwrap().to_owned(),
            created["client_secret"].as_str().unwrap().to_owned(),
            true,
        ),
        (t.client_id.clone(), t.client_secret.clone().unwrap(), false),
    ] {
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(client_id),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(RedirectUrl::new(t.redirect_uri.clone()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, _, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("offline_access".into()))
            .set_pkce_challenge(challenge)
            .url();
        let back = server
            .browser()
            .authorize(auth_url.as_str(), &t.email, PASSWORD)
            .await;
        let code = query_param(&back, "code").expect("code");
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("code exchange");
        let id_token = tokens.id_token().expect("the code exchange's ID token");
        let claims = id_token
            .claims(&client.id_token_verifier(), &nonce)
            .expect("valid ID token");
        let refreshed = client
            .exchange_refresh_token(tokens.refresh_token().unwrap())
            .unwrap()
            .request_async(&http)
            .await
            .expect("refresh");
        assert_eq!(refreshed.id_token().is_none(), lean, "lean = {lean}");
        // The refreshed access token works.
        let info: CoreUserInfoClaims = client
            .user_info(
                refreshed.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .unwrap()
            .request_async(&http)
            .await
            .expect("userinfo with the refreshed access token");
        assert_eq!(info.subject(), claims.subject());
    }
}
