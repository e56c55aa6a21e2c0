//! DPoP across gateway nodes: two engines on one store (as two nodes share a database).
//! A proof presented to both nodes at once passes exactly once (its `jti` is recorded
//! through the store, where the first write wins), and a nonce one node gave is accepted
//! by the other (nonces are derived from the shared master key, not remembered).

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use tollgate_engine::clock::{Clock, SystemClock};
use tollgate_engine::crypto::{MasterKey, b64, random_token};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::SigningAlg;
use tollgate_engine::oauth::dpop::{Endpoint, Proof};
use tollgate_engine::store::Store;
use tollgate_engine::{Engine, EngineConfig, EngineError, EngineMetrics, OAuthErrorCode};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

const ISSUER: &str = "https://id.example.com";

fn node(store: Arc<dyn Store>) -> Engine {
    let mut config = EngineConfig::new(ISSUER);
    config.shards.shared = true;
    Engine::start(
        store,
        Arc::new(SystemClock),
        MasterKey::from_bytes([9; 32]),
        config,
        EngineMetrics::register(&prometheus::Registry::new()),
    )
    .unwrap()
}

fn proof(key: &EcdsaKeyPair, extra: Value) -> Proof {
    let p = key.public_key().as_ref();
    let header = json!({"typ": "dpop+jwt", "alg": "ES256",
        "jwk": {"kty": "EC", "crv": "P-256", "x": b64(&p[1..33]), "y": b64(&p[33..65])}});
    let mut claims = json!({"jti": random_token::<12>(), "htm": "POST",
        "htu": format!("{ISSUER}/nodes/token"), "iat": SystemClock.now()});
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    Proof {
        jwt: format!("{input}.{}", b64(sig.as_ref())),
        method: "POST".into(),
    }
}

fn code(e: &EngineError) -> OAuthErrorCode {
    match e {
        EngineError::OAuth(o) => o.code,
        other => panic!("not an OAuth error: {other:?}"),
    }
}

#[test]
fn a_proof_passes_once_across_nodes_and_a_nonce_from_one_passes_at_the_other() {
    actix::System::new().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap());
        let (a, b) = (node(store.clone()), node(store));
        a.admin()
            .create_tenant("nodes", "Nodes", SigningAlg::ES256)
            .await
            .unwrap();
        let t = TenantId::parse("nodes").unwrap();
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();

        // The same proof, eight times at once, half at each node: one passes.
        let replayed = proof(&key, json!({}));
        let tries: Vec<_> = (0..8)
            .map(|i| {
                let (engine, t, p) = (
                    if i % 2 == 0 { a.clone() } else { b.clone() },
                    t.clone(),
                    replayed.clone(),
                );
                actix::spawn(async move {
                    engine
                        .oauth()
                        .check_dpop(&t, &p, Endpoint::Token, None, false)
                        .await
                })
            })
            .collect();
        let mut passed = 0;
        for r in futures::future::join_all(tries).await {
            match r.unwrap() {
                Ok(_) => passed += 1,
                Err(e) => assert_eq!(code(&e), OAuthErrorCode::InvalidDpopProof, "{e}"),
            }
        }
        assert_eq!(passed, 1, "a proof passes exactly once");

        // A nonce node a gave is good at node b; a made-up one is not.
        let nonce = a.oauth().dpop_nonce(&t);
        assert_eq!(nonce, b.oauth().dpop_nonce(&t));
        let with = proof(&key, json!({"nonce": nonce}));
        b.oauth()
            .check_dpop(&t, &with, Endpoint::Token, None, true)
            .await
            .unwrap();
        let made_up = proof(&key, json!({"nonce": "x".repeat(22)}));
        let e = b
            .oauth()
            .check_dpop(&t, &made_up, Endpoint::Token, None, true)
            .await
            .unwrap_err();
        assert_eq!(code(&e), OAuthErrorCode::UseDpopNonce);
    });
}
