//! Property tests of the refresh-chain state machine, against the real engine over the
//! embedded store in a temporary directory. proptest draws sequences of operations over
//! a few chains of one user:
//!
//! - rotate with the chain's newest token, or with two concurrent requests at once;
//! - present an older token of the chain (reuse), or one the chain never issued;
//! - revoke the chain (RFC 7009) with its newest or an older token;
//! - unload every idle shard, so that chains are read back from the store;
//! - restart: drop the engine and the store, reopen the same data directory.
//!
//! A simple model follows along (every token each chain issued, and whether it is
//! revoked) and each answer is checked against it. After every step, every token ever
//! issued is introspected: a chain has at most one live token, its newest while it lives
//! and none once revoked; a reused token always revoked its chain, and a revoked chain
//! never comes back. `PROPTEST_CASES=500` runs more cases.

use std::sync::Arc;

use proptest::prelude::*;
mod common;

use proptest::test_runner::TestCaseError;
use tollgate_engine::clock::SystemClock;
use tollgate_engine::crypto::{MasterKey, pkce_s256, random_token};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::SigningAlg;
use tollgate_engine::oauth::authorize::NextStep;
use tollgate_engine::oauth::token::{ClientCredentials, GrantRequest};
use tollgate_engine::store::Store;
use tollgate_engine::{Engine, EngineConfig, EngineError, EngineMetrics, OAuthErrorCode};
use tollgate_engine::{RequestMeta, runtime::password::PasswordConfig};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

const CHAINS: usize = 3;
use common::REDIRECT;
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "refresh chains 1";

const REVOKED: &str = "refresh token was revoked";
const REUSED: &str = "refresh token was already used; the session was revoked";
const UNKNOWN: &str = "unknown refresh token";

#[derive(Clone, Debug)]
enum Op {
    /// Refresh with the chain's newest token.
    Rotate(usize),
    /// Two refreshes with the newest token at the same time.
    Race(usize),
    /// Refresh with an earlier token (which one: an index into the older ones).
    Reuse(usize, usize),
    /// Refresh with a token of the chain's shape that it never issued.
    Forged(usize),
    /// Revoke with the newest token (`true`) or an older one.
    Revoke(usize, bool),
    /// Every idle shard unloaded.
    Unload,
    /// Engine and store closed, the data directory opened again.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    let chain = 0..CHAINS;
    prop_oneof![
        5 => chain.clone().prop_map(Op::Rotate),
        1 => chain.clone().prop_map(Op::Race),
        2 => (chain.clone(), any::<usize>()).prop_map(|(c, i)| Op::Reuse(c, i)),
        1 => chain.clone().prop_map(Op::Forged),
        1 => (chain, any::<bool>()).prop_map(|(c, newest)| Op::Revoke(c, newest)),
        2 => Just(Op::Unload),
        1 => Just(Op::Restart),
    ]
}

/// What the model knows of a chain.
#[derive(Debug, Default)]
struct Model {
    /// Every refresh token the chain issued, oldest first.
    tokens: Vec<String>,
    revoked: bool,
}

fn engine(store: Arc<dyn Store>) -> Engine {
    let mut config = EngineConfig::new("https://id.example.com");
    config.arbiters = 1;
    config.passwords = PasswordConfig {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
        threads: 1,
        queue: 0,
    };
    // Few shards, each caching at most two chains: chains share shards and get evicted.
    config.shards.shards_per_tenant = 2;
    config.shards.chains_per_shard = 2;
    // Every shard counts as idle, so `retire_idle_shards` unloads them all.
    config.shards.idle = std::time::Duration::ZERO;
    Engine::start(
        store,
        Arc::new(SystemClock),
        MasterKey::from_bytes([11; 32]),
        config,
        EngineMetrics::register(&prometheus::Registry::new()),
    )
    .unwrap()
}

/// Opens the store, waiting (bounded) for a previous one on the same directory to let go.
async fn open(dir: &std::path::Path) -> Arc<dyn Store> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match EmbeddedStore::open(dir, EmbeddedOptions::default(), None) {
            Ok(s) => return Arc::new(s),
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the store did not reopen: {e}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    }
}

struct World {
    dir: tempfile::TempDir,
    engine: Option<Engine>,
    t: TenantId,
    creds: ClientCredentials,
    chains: Vec<Model>,
}

impl World {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(open(dir.path()).await);
        e.admin()
            .create_tenant("acme", "Acme", SigningAlg::EdDSA)
            .await
            .unwrap();
        let t = TenantId::parse("acme").unwrap();
        let creds = common::web_client(&e, &t).await;
        e.admin()
            .create_user(&t, EMAIL, PASSWORD, None, true)
            .await
            .unwrap();
        let mut w = Self {
            dir,
            engine: Some(e),
            t,
            creds,
            chains: Vec::new(),
        };
        let meta = RequestMeta::default();
        let session = w
            .e()
            .signin()
            .password_login(&w.t, EMAIL, PASSWORD, &meta)
            .await
            .unwrap()
            .session()
            .unwrap()
            .session;
        for _ in 0..CHAINS {
            let verifier = random_token::<32>();
            let params: Vec<(String, String)> = [
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid offline_access"),
                ("code_challenge", &pkce_s256(&verifier)),
                ("code_challenge_method", "S256"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let oauth = w.e().oauth();
            let req = oauth.validate_authorize(&w.t, &params).await.ok().unwrap();
            let Ok(NextStep::Redirect(url)) = oauth
                .next_step(&w.t, &req, Some(&session), false, false, &meta)
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
            let resp = oauth.token(&w.t, &w.creds, grant, &meta).await.unwrap();
            w.chains.push(Model {
                tokens: vec![resp.refresh_token.unwrap()],
                revoked: false,
            });
        }
        w
    }

    async fn refresh(&self, token: &str) -> Result<String, EngineError> {
        let grant = GrantRequest::RefreshToken {
            refresh_token: token.to_owned(),
            scope: None,
            resource: None,
        };
        let resp = self
            .e()
            .oauth()
            .token(&self.t, &self.creds, grant, &RequestMeta::default())
            .await?;
        Ok(resp
            .refresh_token
            .expect("a rotation issues a refresh token"))
    }

    async fn live(&self, token: &str) -> bool {
        self.e()
            .oauth()
            .introspect(&self.t, &self.creds, token)
            .await
            .unwrap()
            .active
    }

    /// Closes the engine and its store, then opens the same directory again.
    async fn restart(&mut self) {
        drop(self.engine.take());
        self.engine = Some(engine(open(self.dir.path()).await));
    }

    fn e(&self) -> &Engine {
        self.engine.as_ref().unwrap()
    }
}

/// The refusal a refresh must meet: `invalid_grant` with this description.
fn refused(r: Result<String, EngineError>, why: &str) -> Result<(), TestCaseError> {
    match r {
        Err(EngineError::OAuth(o)) => {
            prop_assert_eq!(o.code, OAuthErrorCode::InvalidGrant);
            prop_assert_eq!(o.description.as_ref(), why);
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!("{other:?}, not {why:?}"))),
        Ok(_) => Err(TestCaseError::fail(format!("rotated, not {why:?}"))),
    }
}

async fn step(w: &mut World, op: &Op) -> Result<(), TestCaseError> {
    match *op {
        Op::Rotate(c) => {
            let newest = w.chains[c].tokens.last().unwrap().clone();
            let r = w.refresh(&newest).await;
            if w.chains[c].revoked {
                refused(r, REVOKED)?;
            } else {
                let next = r.map_err(|e| TestCaseError::fail(format!("rotation: {e:?}")))?;
                w.chains[c].tokens.push(next);
            }
        }
        Op::Race(c) => {
            let newest = w.chains[c].tokens.last().unwrap().clone();
            let (a, b) = futures::join!(w.refresh(&newest), w.refresh(&newest));
            if w.chains[c].revoked {
                refused(a, REVOKED)?;
                refused(b, REVOKED)?;
            } else {
                // Exactly one wins; the other presented a token that was just rotated:
                // a reuse, which revokes the chain with the winner's token.
                let (won, lost) = match (a, b) {
                    (Ok(t), other) | (other, Ok(t)) => (t, other),
                    (a, b) => {
                        return Err(TestCaseError::fail(format!("both lost: {a:?} {b:?}")));
                    }
                };
                refused(lost, REUSED)?;
                w.chains[c].tokens.push(won);
                w.chains[c].revoked = true;
            }
        }
        Op::Reuse(c, i) => {
            let tokens = &w.chains[c].tokens;
            if tokens.len() < 2 {
                return Ok(());
            }
            let older = tokens[i % (tokens.len() - 1)].clone();
            let r = w.refresh(&older).await;
            if w.chains[c].revoked {
                refused(r, REVOKED)?;
            } else {
                refused(r, REUSED)?;
                w.chains[c].revoked = true;
            }
        }
        Op::Forged(c) => {
            let newest = w.chains[c].tokens.last().unwrap();
            let chain_id = newest.split('.').next().unwrap();
            let forged = format!("{chain_id}.{}", random_token::<32>());
            let r = w.refresh(&forged).await;
            refused(
                r,
                if w.chains[c].revoked {
                    REVOKED
                } else {
                    UNKNOWN
                },
            )?;
        }
        Op::Revoke(c, newest) => {
            let tokens = &w.chains[c].tokens;
            let token = if newest || tokens.len() < 2 {
                tokens.last().unwrap().clone()
            } else {
                tokens[0].clone()
            };
            w.e()
                .oauth()
                .revoke(&w.t, &w.creds, &token, None, &RequestMeta::default())
                .await
                .map_err(|e| TestCaseError::fail(format!("revoke: {e:?}")))?;
            w.chains[c].revoked = true;
        }
        Op::Unload => {
            let unloaded = w.e().retire_idle_shards();
            prop_assert!(
                unloaded > 0,
                "the last check used a shard, none was unloaded"
            );
        }
        Op::Restart => w.restart().await,
    }
    Ok(())
}

/// At most one live token per chain: its newest while it lives, none once revoked.
async fn check(w: &World, after: &Op) -> Result<(), TestCaseError> {
    for (c, m) in w.chains.iter().enumerate() {
        let mut live = Vec::new();
        for (i, token) in m.tokens.iter().enumerate() {
            if w.live(token).await {
                live.push(i);
            }
        }
        let want = if m.revoked {
            vec![]
        } else {
            vec![m.tokens.len() - 1]
        };
        prop_assert_eq!(
            &live,
            &want,
            "chain {} after {:?}: live tokens {:?} of {}",
            c,
            after,
            live,
            m.tokens.len()
        );
    }
    Ok(())
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let sys = actix::System::new();
    let result = sys.block_on(async {
        let mut w = World::new().await;
        check(&w, &Op::Unload).await?;
        for op in ops {
            step(&mut w, op).await?;
            check(&w, op).await?;
        }
        Ok(())
    });
    // Stop the arbiter threads the engines started, with the system that owns them.
    actix::System::current().stop();
    sys.run().unwrap();
    result
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_interleaving_keeps_one_live_token_per_chain(ops in prop::collection::vec(op(), 1..14)) {
        run(&ops)?;
    }
}

/// The operations the properties rely on, each shown to happen at least once, so that a
/// change that made one of them a no-op cannot leave the property test passing vacuously.
#[test]
fn each_operation_does_what_the_model_says() {
    run(&[
        Op::Rotate(0),
        Op::Unload,
        Op::Rotate(0),
        Op::Restart,
        Op::Rotate(0),
        Op::Reuse(0, 0),
        Op::Rotate(0),
        Op::Race(1),
        Op::Forged(2),
        Op::Revoke(2, false),
        Op::Restart,
        Op::Rotate(2),
    ])
    .unwrap();
}
