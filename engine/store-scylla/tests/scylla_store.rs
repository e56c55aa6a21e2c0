//! The ScyllaDB backend against the shared conformance suite, plus what only a store with
//! region keyspaces has to show: migrations are idempotent, and moving a tenant moves its
//! data. Every test needs a node, so every test is `#[ignore]`d: the runner reports it as
//! ignored, with the reason, unless run with `--ignored` and `TOLLGATE_TEST_SCYLLA` naming
//! a node (`host:port`; ops/scylla-test.sh starts one and does this). Selected without a
//! node, a test fails. The node's datacenter is `TOLLGATE_TEST_SCYLLA_DC`, or asked of the
//! node. Each test works in fresh keyspaces and drops them when it ends, passed or not.

use std::collections::BTreeMap;

use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use tollgate_store::{
    ChainStore, ClientStore, ConsentStore, DenyListStore, EventStore, KeyStore, Rotation, Store,
    StoreError, TenantStore, UserStore, conformance,
};
use tollgate_store_scylla::{RegionConfig, ScyllaConfig, ScyllaStore, migrate};
use tollgate_vocab::crypto::random_bytes;
use tollgate_vocab::ids::{ChainId, ClientId, KeyId, TenantId, UserId};
use tollgate_vocab::model::{
    AuthContext, Chain, Client, Consent, Event, Hash32, KeyStatus, RevokeReason, SigningAlg,
    StoredKey, Tenant, UserRecord,
};

/// The node to test against. A test that runs without one fails: it was selected on
/// purpose (`--ignored`), so passing would claim a check that never happened.
fn node() -> String {
    match std::env::var("TOLLGATE_TEST_SCYLLA") {
        Ok(n) if !n.trim().is_empty() => n.trim().to_owned(),
        _ => panic!(
            "TOLLGATE_TEST_SCYLLA is not set: this test needs a ScyllaDB node \
             (set TOLLGATE_TEST_SCYLLA=host:port, or run ops/scylla-test.sh)"
        ),
    }
}

async fn raw_session(node: &str) -> Session {
    SessionBuilder::new()
        .known_node(node)
        .build()
        .await
        .expect("TOLLGATE_TEST_SCYLLA is set but the node cannot be reached")
}

/// The node's datacenter: keyspaces must name it in their replication.
async fn datacenter(session: &Session) -> String {
    if let Ok(dc) = std::env::var("TOLLGATE_TEST_SCYLLA_DC") {
        return dc;
    }
    let rows = session
        .query_unpaged("SELECT data_center FROM system.local", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap();
    rows.maybe_first_row::<(String,)>()
        .unwrap()
        .map(|(dc,)| dc)
        .unwrap_or_else(|| "datacenter1".into())
}

/// Replicas per keyspace: 1 for a single node; ops/scylla-test.sh sets 3 for its
/// three-node cluster (`TOLLGATE_TEST_SCYLLA_RF`), so quorum and Paxos are real.
fn replicas() -> u32 {
    std::env::var("TOLLGATE_TEST_SCYLLA_RF")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A configuration with a fresh global keyspace and one keyspace per region, all with
/// one replica in the node's datacenter.
fn config(node: &str, dc: &str, regions: &[&str]) -> ScyllaConfig {
    let one_replica = BTreeMap::from([(dc.to_owned(), replicas())]);
    ScyllaConfig {
        nodes: vec![node.to_owned()],
        local_dc: Some(dc.to_owned()),
        keyspace: format!("tg_test_{}", hex(&random_bytes::<6>())),
        global_replication: one_replica.clone(),
        // A single test node under a test run's load can be slow; failures should be real.
        request_timeout_ms: 10_000,
        regions: regions
            .iter()
            .map(|r| {
                (
                    (*r).to_owned(),
                    RegionConfig {
                        datacenters: one_replica.clone(),
                        keyspace: None,
                    },
                )
            })
            .collect(),
        ..ScyllaConfig::default()
    }
}

/// Drops the test's keyspaces when the test ends, even by a panic (best effort).
struct Keyspaces {
    node: String,
    names: Vec<String>,
}

impl Keyspaces {
    fn of(node: &str, cfg: &ScyllaConfig) -> Self {
        let mut names = vec![cfg.keyspace.clone()];
        names.extend(cfg.regions.keys().map(|r| format!("{}_{r}", cfg.keyspace)));
        Self {
            node: node.to_owned(),
            names,
        }
    }
}

impl Drop for Keyspaces {
    fn drop(&mut self) {
        let (node, names) = (self.node.clone(), std::mem::take(&mut self.names));
        // Its own thread and runtime: the test's runtime may be the one unwinding.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(s) = SessionBuilder::new().known_node(&node).build().await {
                    for ks in names {
                        let _ = s
                            .query_unpaged(format!("DROP KEYSPACE IF EXISTS {ks}"), ())
                            .await;
                    }
                }
            });
        })
        .join();
    }
}

/// Fresh keyspaces for `regions`, migrated: a raw session (to look underneath the store),
/// the configuration, and what drops the keyspaces at the end.
async fn migrated(regions: &[&str]) -> (Session, ScyllaConfig, Keyspaces) {
    let node = node();
    let raw = raw_session(&node).await;
    let dc = datacenter(&raw).await;
    let cfg = config(&node, &dc, regions);
    let cleanup = Keyspaces::of(&node, &cfg);
    migrate(&cfg).await.unwrap();
    (raw, cfg, cleanup)
}

/// Rows a query returns (checks on a keyspace the store no longer routes to).
async fn count(session: &Session, cql: String, tenant: &str) -> usize {
    session
        .query_unpaged(cql, (tenant,))
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows_num()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a ScyllaDB node: set TOLLGATE_TEST_SCYLLA=host:port"]
async fn scylla_store_passes_the_conformance_suite() {
    let node = node();
    let dc = datacenter(&raw_session(&node).await).await;
    let cfg = config(&node, &dc, &["default"]);
    let _cleanup = Keyspaces::of(&node, &cfg);

    match ScyllaStore::connect(&cfg).await {
        Err(StoreError::Unavailable(m)) => assert!(m.contains("tollgate migrate"), "{m}"),
        other => panic!("connected without a schema: {other:?}"),
    }
    let applied = migrate(&cfg).await.unwrap();
    // 0001 to the global keyspace, 0002-0007 to the region.
    assert_eq!(applied.len(), 7, "{applied:?}");
    assert!(
        migrate(&cfg).await.unwrap().is_empty(),
        "a second migrate applied something"
    );

    let store = ScyllaStore::connect(&cfg).await.unwrap();
    store.ping().await.unwrap();
    conformance::run(store).await;
}

/// A stored user; the store only compares email keys, so the address stands in for the
/// engine's blind index.
fn user(t: &TenantId, email: &str) -> UserRecord {
    UserRecord {
        tenant: t.clone(),
        id: UserId::generate(),
        email_key: email.to_owned(),
        personal: "c2VhbGVk".into(),
        email_verified: true,
        password_hash: None,
        created_at: 1_000,
        deleted_at: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a ScyllaDB node: set TOLLGATE_TEST_SCYLLA=host:port"]
async fn moving_a_tenant_moves_its_data() {
    let (raw, cfg, _cleanup) = migrated(&["default", "second"]).await;
    let store = ScyllaStore::connect(&cfg).await.unwrap();
    let (old_ks, new_ks) = (
        format!("{}_default", cfg.keyspace),
        format!("{}_second", cfg.keyspace),
    );

    let id = TenantId::parse(&format!("t{}", hex(&random_bytes::<5>()))).unwrap();
    let tenant = Tenant::new(id.clone(), "Acme".into(), 1_000);
    store.create_tenant(&tenant).await.unwrap();
    let ada = user(&id, "ada@example.com");
    store.create_user(&ada).await.unwrap();
    let client = Client {
        redirect_uris: vec!["https://app.example/cb".into()],
        first_party: true,
        ..Client::new(
            id.clone(),
            ClientId::parse("web").unwrap(),
            "Web".into(),
            1_000,
        )
    };
    store.create_client(&client).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let h0 = Hash32::of(b"first");
    let chain = Chain {
        tenant: id.clone(),
        id: ChainId::generate(),
        client_id: client.id.clone(),
        user_id: ada.id.clone(),
        scope: "openid offline_access".into(),
        auth: AuthContext {
            auth_time: now,
            amr: vec!["pwd".into()],
            org: None,
        },
        sid: None,
        generation: 0,
        current_hash: h0,
        created_at: now,
        rotated_at: now,
        expires_at: now + 3_600,
        resource: None,
        dpop_jkt: None,
        revoked: None,
    };
    store.create_chain(&chain).await.unwrap();
    store
        .put_keys(&[StoredKey {
            tenant: id.clone(),
            kid: KeyId::new("k1".into()),
            alg: SigningAlg::ES256,
            status: KeyStatus::Active,
            created_at: now,
            retired_at: None,
            public_jwk: serde_json::json!({"kty": "EC", "kid": "k1"}),
            sealed_private: "c2VhbGVk".into(),
        }])
        .await
        .unwrap();
    let consent = Consent {
        tenant: id.clone(),
        user_id: ada.id.clone(),
        client_id: client.id.clone(),
        scopes: vec!["openid".into()],
        granted_at: now,
    };
    store.put_consent(&consent).await.unwrap();
    store.deny_token(&id, "jti-1", now + 600).await.unwrap();
    store
        .append_events(&[Event {
            tenant: id.clone(),
            id: "e1".into(),
            at_ms: now * 1000,
            kind: "user.created".into(),
            actor: Some("admin".into()),
            subject: Some(ada.id.to_string()),
            client: None,
            ip: None,
            result: "success".into(),
            detail: None,
            sealed: None,
            erased: false,
        }])
        .await
        .unwrap();

    assert!(matches!(
        store.move_tenant(&id, "nowhere").await,
        Err(StoreError::Unavailable(_))
    ));
    let moved = store.move_tenant(&id, "second").await.unwrap().unwrap();
    assert_eq!(moved.region, "second");
    assert_eq!(store.get_tenant(&id).await.unwrap(), Some(moved));

    // Everything is served from the new region…
    let found = store
        .find_user_by_email(&id, &ada.email_key)
        .await
        .unwrap()
        .expect("user not found by email after the move");
    assert_eq!(found.id, ada.id);
    assert_eq!(store.list_clients(&id).await.unwrap(), vec![client.clone()]);
    assert_eq!(
        store.token_generation(&id, &chain.id, &h0).await.unwrap(),
        Some(0)
    );
    assert!(matches!(
        store
            .rotate_chain(&id, &chain.id, 0, Hash32::of(b"second"), now)
            .await
            .unwrap(),
        Rotation::Rotated(_)
    ));
    assert_eq!(store.list_keys(&id).await.unwrap().len(), 1);
    assert_eq!(
        store.get_consent(&id, &ada.id, &client.id).await.unwrap(),
        Some(consent)
    );
    assert!(store.is_token_denied(&id, "jti-1").await.unwrap());
    assert_eq!(store.recent_events(&id, 10).await.unwrap().len(), 1);
    // …and the email stays unique there.
    assert_eq!(
        store.create_user(&user(&id, "ada@example.com")).await,
        Err(StoreError::Conflict)
    );

    // …and nothing is left in the old one.
    let t = id.as_str();
    for (table, key) in [
        ("clients", "tenant = ?"),
        ("keys", "tenant = ?"),
        ("event_days", "tenant = ?"),
    ] {
        assert_eq!(
            count(
                &raw,
                format!("SELECT * FROM {old_ks}.{table} WHERE {key}"),
                t
            )
            .await,
            0,
            "{table} left in the old region"
        );
    }
    assert_eq!(
        count(
            &raw,
            format!(
                "SELECT * FROM {old_ks}.user_emails WHERE tenant = ? AND email = 'ada@example.com'"
            ),
            t
        )
        .await,
        0,
        "email left in the old region"
    );
    assert_eq!(
        count(
            &raw,
            format!(
                "SELECT * FROM {old_ks}.chains WHERE tenant = ? AND chain_id = '{}'",
                chain.id
            ),
            t
        )
        .await,
        0,
        "chain left in the old region"
    );
    assert_eq!(
        count(
            &raw,
            format!(
                "SELECT * FROM {new_ks}.user_emails WHERE tenant = ? AND email = 'ada@example.com'"
            ),
            t
        )
        .await,
        1
    );
}

/// Issue 13, finding 9: while a tenant moves, a second node ("gateway") that knew the
/// tenant's old region stops writing there once its cached directory entry expires, and
/// answers "unavailable" until the move ends; a revocation it made before the move stays
/// revoked after it; afterwards it writes to the new region.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a ScyllaDB node: set TOLLGATE_TEST_SCYLLA=host:port"]
async fn a_moving_tenant_is_fenced_on_every_node() {
    let (raw, cfg, _cleanup) = migrated(&["default", "second"]).await;
    let mover = ScyllaStore::connect(&cfg).await.unwrap();
    let other = ScyllaStore::connect(&cfg).await.unwrap();
    let id = TenantId::parse(&format!("t{}", hex(&random_bytes::<5>()))).unwrap();
    mover
        .create_tenant(&Tenant::new(id.clone(), "Acme".into(), 1_000))
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let chain = |n: u8| Chain {
        tenant: id.clone(),
        id: ChainId::generate(),
        client_id: ClientId::parse("web").unwrap(),
        user_id: UserId::generate(),
        scope: "openid".into(),
        auth: AuthContext {
            auth_time: now,
            amr: vec!["pwd".into()],
            org: None,
        },
        sid: None,
        generation: 0,
        current_hash: Hash32::of(&[n]),
        created_at: now,
        rotated_at: now,
        expires_at: now + 3_600,
        resource: None,
        dpop_jkt: None,
        revoked: None,
    };
    // The other node knows the tenant (its directory caches the old region) and revokes.
    let revoked = chain(0);
    other.create_chain(&revoked).await.unwrap();
    other
        .revoke_chain(&id, &revoked.id, RevokeReason::Revoked)
        .await
        .unwrap();

    let moving = {
        let (mover, id) = (mover.clone(), id.clone());
        tokio::spawn(async move { mover.move_tenant(&id, "second").await })
    };
    // Until the move ends, the other node's writes either land before the copy (its cache
    // still names the old region; the mover waits those out) or are refused.
    let mut refused = 0;
    let mut n = 1u8;
    while !moving.is_finished() {
        match other.create_chain(&chain(n)).await {
            Ok(()) => {}
            Err(StoreError::Unavailable(why)) => {
                assert!(why.contains("being moved"), "{why}");
                refused += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
        n = n.wrapping_add(1);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    moving.await.unwrap().unwrap();
    assert!(refused > 0, "the other node never saw the fence");
    // Its fenced directory entry expires within seconds; then it writes to the new region.
    let after = chain(255);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match other.create_chain(&after).await {
            Ok(()) => break,
            Err(StoreError::Unavailable(_)) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    let new_ks = format!("{}_second", cfg.keyspace);
    assert_eq!(
        count(
            &raw,
            format!(
                "SELECT generation FROM {new_ks}.chains WHERE tenant = ? AND chain_id = '{}'",
                after.id
            ),
            id.as_str()
        )
        .await,
        1
    );
    let back = mover.get_chain(&id, &revoked.id).await.unwrap().unwrap();
    assert!(
        back.revoked.is_some(),
        "a revocation came undone in the move"
    );
}

/// Runs `op` until it answers something other than "unavailable" (which may be a lost
/// answer: the statement ran), at most 50 times.
async fn settled<T, F, Fut>(mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    for _ in 0..50 {
        match op().await {
            Err(StoreError::Unavailable(_)) => continue,
            other => return other,
        }
    }
    panic!("no answer in 50 tries")
}

/// Issue 14, finding 4: the store's own answers are lost at random after their
/// statements ran (a coordinator timing out after the replicas applied the write). What
/// each operation leaves behind must be what it says, or what a retry can settle: a
/// sign-up never leaves its email claim pointing at nothing, a challenge written is the
/// one there, a code is taken at most once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a ScyllaDB node: set TOLLGATE_TEST_SCYLLA=host:port"]
async fn lost_answers_leave_nothing_half_done() {
    use tollgate_store::{ChallengeStore, CodeStore};
    use tollgate_vocab::model::{AuthCode, Challenge};

    let (_, cfg, _cleanup) = migrated(&["default"]).await;
    let store = ScyllaStore::connect(&cfg).await.unwrap();
    let id = TenantId::parse(&format!("t{}", hex(&random_bytes::<5>()))).unwrap();
    store
        .create_tenant(&Tenant::new(id.clone(), "Acme".into(), 1_000))
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    for i in 0..20 {
        let u = user(&id, &format!("lost{i}@example.com"));
        store.lose_answers(300);
        let answer = settled(|| store.create_user(&u)).await;
        store.lose_answers(0);
        assert!(
            matches!(answer, Ok(()) | Err(StoreError::Conflict)),
            "{answer:?}"
        );
        let found = store.find_user_by_email(&id, &u.email_key).await.unwrap();
        assert_eq!(
            found.map(|f| f.id),
            Some(u.id.clone()),
            "user {i}: its email claim points at nothing ({answer:?})"
        );
    }

    for i in 0..20u8 {
        let c = Challenge {
            tenant: id.clone(),
            key: Hash32::of(&[b'c', i]),
            purpose: "email_code".into(),
            user_id: None,
            data: serde_json::json!({"i": i}),
            tries_left: 5,
            expires_at: now + 600,
        };
        store.lose_answers(300);
        let answer = settled(|| store.put_challenge(&c)).await;
        store.lose_answers(0);
        assert!(
            matches!(answer, Ok(()) | Err(StoreError::Conflict)),
            "{answer:?}"
        );
        assert_eq!(store.get_challenge(&id, &c.key).await.unwrap(), Some(c));
    }

    for i in 0..20u8 {
        let code = AuthCode {
            tenant: id.clone(),
            key: Hash32::of(&[b'k', i]),
            client_id: ClientId::parse("web").unwrap(),
            redirect_uri: "https://app.example/cb".into(),
            code_challenge: "x".into(),
            scope: "openid".into(),
            nonce: None,
            user_id: UserId::generate(),
            auth: AuthContext {
                auth_time: now,
                amr: vec!["pwd".into()],
                org: None,
            },
            sid: None,
            resource: None,
            dpop_jkt: None,
            expires_at: now + 600,
        };
        store.put_code(&code).await.unwrap();
        store.lose_answers(300);
        // Until one answer comes (of a lost one the code may be taken already), then twice
        // more: one taker at most, whatever was lost.
        let mut taken = 0;
        let mut answered = 0;
        for _ in 0..50 {
            match store.take_code(&id, &code.key).await {
                Ok(Some(_)) => {
                    taken += 1;
                    answered += 1;
                }
                Ok(None) => answered += 1,
                Err(_) => {}
            }
            if answered == 3 {
                break;
            }
        }
        store.lose_answers(0);
        assert!(taken <= 1, "code {i} taken {taken} times");
        assert_eq!(store.get_code(&id, &code.key).await.unwrap(), None);
    }
}
