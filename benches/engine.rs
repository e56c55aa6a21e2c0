//! Engine benches: JWT signing per algorithm, group-committed store writes, the refresh
//! grant through shard + store + signing, the client_credentials grant, and password
//! verification.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::time::{Duration, Instant};
use tollgate_engine::admin::NewClient;
use tollgate_engine::crypto::MasterKey;
use tollgate_engine::ids::{ChainId, ClientId, TenantId, UserId};
use tollgate_engine::model::{AuthContext, Chain, Hash32, KeyStatus, SigningAlg, Tenant};
use tollgate_engine::oauth::token::{ClientAuthMethod, ClientCredentials, GrantRequest};
use tollgate_engine::runtime::keys::{KeyRing, generate};
use tollgate_engine::runtime::password::{PasswordConfig, PasswordPool};
use tollgate_engine::store::ChainStore;
use tollgate_engine::{Engine, RequestMeta};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

fn jwt_sign(c: &mut Criterion) {
    let master = MasterKey::from_bytes([1; 32]);
    let mut g = c.benchmark_group("jwt_sign");
    let claims = serde_json::json!({
        "iss": "https://id.example.com/acme", "sub": "3mJ9rQ2xT0aLk7bV1cYh8w", "aud": "web",
        "client_id": "web", "exp": 1_900_000_600u64, "iat": 1_900_000_000u64,
        "jti": "Zx8d1QmH3kP0wR5tY2uV9a", "scope": "openid offline_access", "auth_time": 1_900_000_000u64,
    });
    for alg in [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA] {
        let mut tenant = Tenant::new(TenantId::parse("acme").unwrap(), "Acme".into(), 0);
        tenant.signing_alg = alg;
        let key = generate(&tenant.id, alg, KeyStatus::Active, 0, &master).unwrap();
        let ring = KeyRing::build(&tenant, &[key], &master, 0).unwrap();
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::from_parameter(alg.as_str()), |b| {
            b.iter(|| ring.active.sign_jwt("at+jwt", &claims).unwrap())
        });
    }
    g.finish();
}

fn chain(t: &TenantId, i: u64) -> Chain {
    Chain {
        tenant: t.clone(),
        id: ChainId::generate(),
        client_id: ClientId::parse("web").unwrap(),
        user_id: UserId::generate(),
        scope: "openid offline_access".into(),
        auth: AuthContext {
            auth_time: 0,
            amr: vec!["pwd".into()],
            org: None,
        },
        sid: None,
        generation: 0,
        current_hash: Hash32::of(&i.to_be_bytes()),
        created_at: 0,
        rotated_at: 0,
        expires_at: u64::MAX / 2,
        resource: None,
        dpop_jkt: None,
        revoked: None,
    }
}

fn store_group_commit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap();
    let t = TenantId::parse("acme").unwrap();
    let mut g = c.benchmark_group("store_durable_writes");
    for concurrency in [1u64, 16, 256] {
        g.throughput(Throughput::Elements(concurrency));
        g.bench_function(BenchmarkId::new("create_chain", concurrency), |b| {
            b.to_async(&rt).iter(|| {
                let (store, t) = (store.clone(), t.clone());
                async move {
                    let tasks: Vec<_> = (0..concurrency)
                        .map(|i| {
                            let (store, t) = (store.clone(), t.clone());
                            tokio::spawn(
                                async move { store.create_chain(&chain(&t, i)).await.unwrap() },
                            )
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                }
            })
        });
    }
    g.finish();
}

/// An engine with one tenant, a first-party client (`lean`: one that refreshes without a
/// new ID token), a user, and `n` refresh chains.
async fn engine_with_chains(
    dir: &std::path::Path,
    alg: SigningAlg,
    n: usize,
    lean: bool,
) -> (Engine, TenantId, ClientCredentials, Vec<String>) {
    let engine = tollgate_benches::engine(dir);
    let t = TenantId::parse("bench").unwrap();
    engine
        .admin()
        .create_tenant("bench", "Bench", alg)
        .await
        .unwrap();
    let created = engine
        .admin()
        .create_client(
            &t,
            NewClient {
                client_id: Some("web".into()),
                name: "Web".into(),
                redirect_uris: vec!["https://app.example/cb".into()],
                first_party: true,
                refresh_without_id_token: lean,
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
        client_id: "web".into(),
        secret: created.client_secret,
        method: ClientAuthMethod::Basic,
    };
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        let grant =
            tollgate_benches::code_grant(&engine, &t, "web", "openid offline_access", &session)
                .await;
        let resp = engine
            .oauth()
            .token(&t, &creds, grant, &meta)
            .await
            .unwrap();
        tokens.push(resp.refresh_token.unwrap());
    }
    (engine, t, creds, tokens)
}

fn refresh_grant(c: &mut Criterion) {
    const CHAINS: usize = 64;
    let mut g = c.benchmark_group("refresh_grant_engine");
    g.throughput(Throughput::Elements(CHAINS as u64));
    // RS256 and ES256 with an ID token on every refresh; RS256 also without (one signature).
    for (alg, lean) in [
        (SigningAlg::RS256, false),
        (SigningAlg::ES256, false),
        (SigningAlg::RS256, true),
    ] {
        let sys = actix::System::new();
        let dir = tempfile::tempdir().unwrap();
        let (engine, t, creds, tokens) =
            sys.block_on(engine_with_chains(dir.path(), alg, CHAINS, lean));
        let tokens = std::rc::Rc::new(std::cell::RefCell::new(tokens));
        let name = match lean {
            true => format!("{}_without_id_token", alg.as_str()),
            false => alg.as_str().to_owned(),
        };
        g.bench_function(BenchmarkId::new("64_chains_concurrently", name), |b| {
            b.iter_custom(|iters| {
                sys.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let current = tokens.borrow().clone();
                        let tasks: Vec<_> = current
                            .into_iter()
                            .map(|rt| {
                                let (engine, t, creds) = (engine.clone(), t.clone(), creds.clone());
                                actix::spawn(async move {
                                    let req = GrantRequest::RefreshToken {
                                        refresh_token: rt,
                                        scope: None,
                                        resource: None,
                                    };
                                    engine
                                        .oauth()
                                        .token(&t, &creds, req, &RequestMeta::default())
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
                        *tokens.borrow_mut() = next;
                    }
                    start.elapsed()
                })
            })
        });
    }
    g.finish();
}

fn password_verify(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = PasswordPool::start(&PasswordConfig {
        threads: 1,
        ..Default::default()
    })
    .unwrap();
    let hash = rt.block_on(pool.hash("correct horse battery")).unwrap();
    let mut g = c.benchmark_group("password");
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify_argon2id_owasp", |b| {
        b.to_async(&rt).iter(|| async {
            assert!(
                pool.verify("correct horse battery", Some(hash.clone()))
                    .await
                    .unwrap()
            )
        })
    });
    g.finish();
}

/// The `client_credentials` grant, 64 at once: client authentication (a SHA-256 of the
/// secret), the tenant's API, one signature; nothing stored.
fn client_credentials_grant(c: &mut Criterion) {
    const AT_ONCE: usize = 64;
    let sys = actix::System::new();
    let dir = tempfile::tempdir().unwrap();
    let (engine, t, creds) = sys.block_on(async {
        let engine = tollgate_benches::engine(dir.path());
        let t = TenantId::parse("bench").unwrap();
        let admin = engine.admin();
        admin
            .create_tenant("bench", "Bench", SigningAlg::RS256)
            .await
            .unwrap();
        let api = tollgate_engine::admin::apis::NewApi {
            identifier: "https://api.bench.example/".into(),
            name: "Bench API".into(),
            scopes: vec!["read".into()],
            access_token_ttl: None,
        };
        admin.create_api(&t, api).await.unwrap();
        let created = admin
            .create_client(
                &t,
                NewClient {
                    name: "Job".into(),
                    grant_types: Some(vec![tollgate_engine::model::GrantType::ClientCredentials]),
                    api_grants: [("https://api.bench.example/".into(), vec!["read".into()])].into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let creds = ClientCredentials {
            client_id: created.client_id,
            secret: created.client_secret,
            method: ClientAuthMethod::Basic,
        };
        (engine, t, creds)
    });
    let mut g = c.benchmark_group("client_credentials_engine");
    g.throughput(Throughput::Elements(AT_ONCE as u64));
    g.bench_function(BenchmarkId::new("64_concurrently", "RS256"), |b| {
        b.iter_custom(|iters| {
            sys.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = (0..AT_ONCE)
                        .map(|_| {
                            let (engine, t, creds) = (engine.clone(), t.clone(), creds.clone());
                            actix::spawn(async move {
                                let req = GrantRequest::ClientCredentials {
                                    scope: None,
                                    resource: None,
                                };
                                engine
                                    .oauth()
                                    .token(&t, &creds, req, &RequestMeta::default())
                                    .await
                                    .unwrap()
                                    .access_token
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = jwt_sign, store_group_commit, refresh_grant, client_credentials_grant, password_verify
}
criterion_main!(benches);
