//! What the engine tests share: a confidential first-party client, and a sign-in that ends
//! in a code redeemed at the token endpoint, through the engine's public calls.
#![allow(dead_code)]

use tollgate_engine::admin::NewClient;
use tollgate_engine::crypto::{pkce_s256, random_token};
use tollgate_engine::ids::TenantId;
use tollgate_engine::oauth::authorize::NextStep;
use tollgate_engine::oauth::token::{
    ClientAuthMethod, ClientCredentials, GrantRequest, TokenResponse,
};
use tollgate_engine::{Engine, RequestMeta};

pub const REDIRECT: &str = "https://app.example/cb";

/// Creates the confidential, first-party client `web` (redirect [`REDIRECT`]); returns
/// how it authenticates.
pub async fn web_client(e: &Engine, t: &TenantId) -> ClientCredentials {
    let created = e
        .admin()
        .create_client(
            t,
            NewClient {
                client_id: Some("web".into()),
                name: "Web".into(),
                redirect_uris: vec![REDIRECT.into()],
                first_party: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    ClientCredentials {
        client_id: "web".into(),
        secret: created.client_secret,
        method: ClientAuthMethod::Basic,
    }
}

/// Signs in on `e` with a password and redeems a code for `scope` there: the session
/// cookie and the token response.
pub async fn sign_in(
    e: &Engine,
    t: &TenantId,
    creds: &ClientCredentials,
    (email, password): (&str, &str),
    scope: &str,
) -> (String, TokenResponse) {
    let meta = RequestMeta::default();
    let login = e
        .signin()
        .password_login(t, email, password, &meta)
        .await
        .unwrap()
        .session()
        .unwrap();
    let verifier = random_token::<32>();
    let params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "web"),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("code_challenge", &pkce_s256(&verifier)),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let req = e.oauth().validate_authorize(t, &params).await.ok().unwrap();
    let Ok(NextStep::Redirect(url)) = e
        .oauth()
        .next_step(t, &req, Some(&login.session), false, false, &meta)
        .await
    else {
        panic!("no code");
    };
    let code = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let grant = GrantRequest::AuthorizationCode {
        code,
        redirect_uri: REDIRECT.into(),
        code_verifier: verifier,
        resource: None,
    };
    let resp = e.oauth().token(t, creds, grant, &meta).await.unwrap();
    (login.cookie, resp)
}
