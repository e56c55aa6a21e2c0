//! The embedded backend against the shared conformance suite, plus what only a local
//! database has to show: data survives a reopen, and the group commit batches.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tollgate_store::{ChainStore, TenantStore, conformance};
use tollgate_store_embedded::{BatchObserver, EmbeddedOptions, EmbeddedStore};
use tollgate_vocab::ids::{ChainId, ClientId, TenantId, UserId};
use tollgate_vocab::model::{AuthContext, Chain, Hash32, Tenant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap();
    conformance::run(store).await;
}

#[tokio::test]
async fn acknowledged_writes_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tenant::new(TenantId::parse("acme").unwrap(), "Acme".into(), 1);
    {
        let store = EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap();
        store.create_tenant(&t).await.unwrap();
    }
    // The writer thread holds the database (and its lock) until it sees its channel
    // close: reopen as soon as it has let go.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let store = loop {
        match EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None) {
            Ok(store) => break store,
            Err(e) => assert!(
                std::time::Instant::now() < deadline,
                "the store cannot be reopened: {e}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(store.get_tenant(&t.id).await.unwrap(), Some(t));
}

struct Counter(AtomicUsize, AtomicUsize);

impl BatchObserver for Counter {
    fn batch_committed(&self, jobs: usize, _seconds: f64) {
        self.0.fetch_add(1, Ordering::SeqCst);
        self.1.fetch_add(jobs, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let counter = Arc::new(Counter(AtomicUsize::new(0), AtomicUsize::new(0)));
    let store = EmbeddedStore::open(
        dir.path(),
        EmbeddedOptions::default(),
        Some(counter.clone()),
    )
    .unwrap();
    let t = TenantId::parse("acme").unwrap();
    let tasks: Vec<_> = (0..400)
        .map(|i: u32| {
            let store = store.clone();
            let t = t.clone();
            tokio::spawn(async move {
                let chain = Chain {
                    tenant: t,
                    id: ChainId::generate(),
                    client_id: ClientId::parse("app").unwrap(),
                    user_id: UserId::generate(),
                    scope: "openid".into(),
                    auth: AuthContext {
                        auth_time: 1,
                        amr: vec![],
                        org: None,
                    },
                    sid: None,
                    generation: 0,
                    current_hash: Hash32::of(&i.to_be_bytes()),
                    created_at: 1,
                    rotated_at: 1,
                    expires_at: u64::MAX / 2,
                    resource: None,
                    dpop_jkt: None,
                    revoked: None,
                };
                store.create_chain(&chain).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let (batches, jobs) = (
        counter.0.load(Ordering::SeqCst),
        counter.1.load(Ordering::SeqCst),
    );
    assert_eq!(jobs, 400);
    // Not a timing assertion: 400 writers in flight at once cannot need 400 fsyncs.
    assert!(
        batches < 400,
        "no write shared a commit ({batches} batches)"
    );
}

fn event(t: &TenantId, kind: &str) -> tollgate_vocab::model::Event {
    tollgate_vocab::model::Event {
        tenant: t.clone(),
        id: tollgate_vocab::crypto::random_token::<8>(),
        at_ms: 1,
        kind: kind.into(),
        actor: None,
        subject: None,
        client: None,
        ip: None,
        result: "success".into(),
        detail: None,
        sealed: None,
        erased: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueued_events_ride_with_the_next_commit_or_land_on_their_own() {
    use tollgate_store::{EventStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let counter = Arc::new(Counter(AtomicUsize::new(0), AtomicUsize::new(0)));
    // A long linger, so the write below surely comes while the event waits.
    let options = EmbeddedOptions {
        event_linger: std::time::Duration::from_secs(10),
        ..EmbeddedOptions::default()
    };
    let store = EmbeddedStore::open(dir.path(), options, Some(counter.clone())).unwrap();
    let t = TenantId::parse("acme").unwrap();

    // With a write right behind it, the event shares that write's commit.
    store.enqueue_event(Box::new(event(&t, "rides"))).unwrap();
    store
        .create_tenant(&Tenant::new(t.clone(), "Acme".into(), 1))
        .await
        .unwrap();
    let kinds: Vec<_> = store
        .recent_events(&t, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["rides"], "the event was not in the tenant's commit");
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        1,
        "the event took a commit of its own"
    );

    // Alone, it is committed once the (default, 50 ms) linger has passed.
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap();
    store.enqueue_event(Box::new(event(&t, "alone"))).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.recent_events(&t, 10).await.unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "a lone event was never committed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
