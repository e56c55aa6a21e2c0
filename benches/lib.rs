//! Criterion benches of Tollgate's engine without HTTP (`cargo bench -p tollgate-benches`).
//! The benches are in `engine.rs` and `dpop.rs`; measured results, with commands and
//! machine, in `RESULTS.md`. This library holds the set-up they share.

use std::sync::Arc;
use tollgate_engine::clock::SystemClock;
use tollgate_engine::crypto::{MasterKey, pkce_s256, random_token};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::Session;
use tollgate_engine::oauth::authorize::NextStep;
use tollgate_engine::oauth::token::GrantRequest;
use tollgate_engine::{Engine, EngineConfig, EngineMetrics, RequestMeta};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

/// The issuer of the benches' engines.
pub const ISSUER: &str = "https://id.example.com";
/// The redirect URI of the benches' clients.
pub const REDIRECT: &str = "https://app.example/cb";

/// An engine on an embedded store in `dir`, with a fixed master key.
pub fn engine(dir: &std::path::Path) -> Engine {
    let store = EmbeddedStore::open(dir, EmbeddedOptions::default(), None).unwrap();
    Engine::start(
        Arc::new(store),
        Arc::new(SystemClock),
        MasterKey::from_bytes([2; 32]),
        EngineConfig::new(ISSUER),
        EngineMetrics::register(&prometheus::Registry::new()),
    )
    .unwrap()
}

/// Authorizes `client` for `scope` with a signed-in `session` (straight to a code, as a
/// first-party client), and returns the code's token request.
pub async fn code_grant(
    engine: &Engine,
    tenant: &TenantId,
    client: &str,
    scope: &str,
    session: &Session,
) -> GrantRequest {
    let verifier = random_token::<32>();
    let params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("code_challenge", &pkce_s256(&verifier)),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let req = engine
        .oauth()
        .validate_authorize(tenant, &params)
        .await
        .ok()
        .unwrap();
    let meta = RequestMeta::default();
    let Ok(NextStep::Redirect(url)) = engine
        .oauth()
        .next_step(tenant, &req, Some(session), false, false, &meta)
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
    GrantRequest::AuthorizationCode {
        code,
        redirect_uri: REDIRECT.into(),
        code_verifier: verifier,
        resource: None,
    }
}
