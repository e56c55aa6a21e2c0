//! The cost of DPoP (RFC 9449) on a refresh: the refresh grant of a public client, 64
//! chains at once, with no proof, and with an ES256 proof whose key the chain is bound
//! to (the proof's signature checked, its `jti` written once to the store, the new
//! access token carrying `cnf.jkt`). Proofs are made by the client, so they are made
//! before the clock starts.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tollgate_engine::admin::NewClient;
use tollgate_engine::crypto::{b64, random_token};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::SigningAlg;
use tollgate_engine::oauth::dpop::Proof;
use tollgate_engine::oauth::token::{ClientAuthMethod, ClientCredentials, GrantRequest};
use tollgate_engine::{Engine, RequestMeta};

use tollgate_benches::ISSUER;
const CHAINS: usize = 64;

/// The client's DPoP key.
struct Key {
    pair: EcdsaKeyPair,
    jwk: Value,
}

impl Key {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let p = pair.public_key().as_ref();
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&p[1..33]), "y": b64(&p[33..65])});
        Self { pair, jwk }
    }

    /// A fresh proof for the bench tenant's token endpoint.
    fn proof(&self) -> Proof {
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let claims = json!({"jti": random_token::<12>(), "htm": "POST",
            "htu": format!("{ISSUER}/bench/token"), "iat": iat});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        Proof {
            jwt: format!("{input}.{}", b64(sig.as_ref())),
            method: "POST".into(),
        }
    }
}

/// An engine on a fresh embedded store with an RS256 tenant, a public first-party client
/// that refreshes without an ID token, a user, and `CHAINS` refresh chains: bound to
/// `key` when there is one (the codes redeemed with its proofs).
async fn engine_with_chains(
    dir: &std::path::Path,
    key: Option<&Key>,
) -> (Engine, TenantId, ClientCredentials, Vec<String>) {
    let engine = tollgate_benches::engine(dir);
    let t = TenantId::parse("bench").unwrap();
    engine
        .admin()
        .create_tenant("bench", "Bench", SigningAlg::RS256)
        .await
        .unwrap();
    engine
        .admin()
        .create_client(
            &t,
            NewClient {
                client_id: Some("mobile".into()),
                name: "Mobile".into(),
                redirect_uris: vec!["https://app.example/cb".into()],
                public: true,
                first_party: true,
                refresh_without_id_token: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    engine
        .admin()
        .create_user(&t, "u@bench.example", "bench password 1", None, true)
        .await
        .unwrap();
    let meta = RequestMeta::default();
    let session = engine
        .signin()
        .password_login(&t, "u@bench.example", "bench password 1", &meta)
        .await
        .unwrap()
        .session()
        .unwrap()
        .session;
    let creds = ClientCredentials {
        client_id: "mobile".into(),
        secret: None,
        method: ClientAuthMethod::None,
    };
    let mut tokens = Vec::with_capacity(CHAINS);
    for _ in 0..CHAINS {
        let grant =
            tollgate_benches::code_grant(&engine, &t, "mobile", "openid offline_access", &session)
                .await;
        let proof = key.map(Key::proof);
        let resp = engine
            .oauth()
            .token_with_dpop(&t, &creds, grant, proof.as_ref(), &meta)
            .await
            .unwrap();
        assert_eq!(
            resp.token_type,
            if key.is_some() { "DPoP" } else { "Bearer" }
        );
        tokens.push(resp.refresh_token.unwrap());
    }
    (engine, t, creds, tokens)
}

fn refresh_with_and_without_dpop(c: &mut Criterion) {
    let mut g = c.benchmark_group("refresh_grant_dpop");
    g.throughput(Throughput::Elements(CHAINS as u64));
    for with_dpop in [false, true] {
        let sys = actix::System::new();
        let dir = tempfile::tempdir().unwrap();
        let key = with_dpop.then(Key::new);
        let (engine, t, creds, tokens) = sys.block_on(engine_with_chains(dir.path(), key.as_ref()));
        let key = std::rc::Rc::new(key);
        let tokens = std::rc::Rc::new(std::cell::RefCell::new(tokens));
        let name = if with_dpop { "es256_proof" } else { "no_proof" };
        g.bench_function(BenchmarkId::new("64_chains_concurrently", name), |b| {
            b.iter_custom(|iters| {
                sys.block_on(async {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let current = tokens.borrow().clone();
                        // The client's part, not timed.
                        let proofs: Vec<Option<Proof>> = current
                            .iter()
                            .map(|_| key.as_ref().as_ref().map(Key::proof))
                            .collect();
                        let start = Instant::now();
                        let tasks: Vec<_> = current
                            .into_iter()
                            .zip(proofs)
                            .map(|(rt, proof)| {
                                let (engine, t, creds) = (engine.clone(), t.clone(), creds.clone());
                                actix::spawn(async move {
                                    let req = GrantRequest::RefreshToken {
                                        refresh_token: rt,
                                        scope: None,
                                        resource: None,
                                    };
                                    engine
                                        .oauth()
                                        .token_with_dpop(
                                            &t,
                                            &creds,
                                            req,
                                            proof.as_ref(),
                                            &RequestMeta::default(),
                                        )
                                        .await
                                        .unwrap()
                                        .refresh_token
                                        .unwrap()
                                })
                            })
                            .collect();
                        let mut next = Vec::with_capacity(CHAINS);
                        for task in tasks {
                            next.push(task.await.unwrap());
                        }
                        spent += start.elapsed();
                        *tokens.borrow_mut() = next;
                    }
                    spent
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = refresh_with_and_without_dpop
}
criterion_main!(benches);
