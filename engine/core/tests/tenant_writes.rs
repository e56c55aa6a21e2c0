//! Tenant settings changed on two nodes at once: every admin change to the tenant record
//! is a compare-and-set on the stored record, so a node whose cached copy is older (up
//! to ten seconds with several nodes) cannot undo another node's change by writing its
//! copy back: branding, APIs and policies all survive each other.

use std::sync::Arc;

use tollgate_engine::admin::apis::NewApi;
use tollgate_engine::clock::ManualClock;
use tollgate_engine::crypto::MasterKey;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::SigningAlg;
use tollgate_engine::store::Store;
use tollgate_engine::{Engine, EngineConfig, EngineMetrics};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

fn node(store: Arc<dyn Store>, clock: &ManualClock) -> Engine {
    Engine::start(
        store,
        Arc::new(clock.clone()),
        MasterKey::from_bytes([9; 32]),
        EngineConfig::new("https://id.example.com"),
        EngineMetrics::register(&prometheus::Registry::new()),
    )
    .unwrap()
}

#[test]
fn a_stale_node_keeps_the_other_nodes_changes() {
    actix::System::new().block_on(stale_node());
}

async fn stale_node() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap());
    let clock = ManualClock::new(1_800_000_000);
    let (a, b) = (node(store.clone(), &clock), node(store.clone(), &clock));
    a.admin()
        .create_tenant("shop", "Shop", SigningAlg::RS256)
        .await
        .unwrap();
    let t = TenantId::parse("shop").unwrap();
    // Node b caches the tenant as it is now.
    assert_eq!(b.tenant(&t).await.unwrap().branding.revision, 0);
    // Node a changes the branding.
    let mut branding = a.admin().branding(&t).await.unwrap();
    branding.theme.primary = Some("#0b5fff".into());
    a.admin()
        .replace_branding(&t, 0, branding, "theme")
        .await
        .unwrap();
    // Node b, from its older copy, adds an API, changes the MFA policy and DPoP.
    b.admin()
        .create_api(
            &t,
            NewApi {
                identifier: "https://api.shop.example/orders".into(),
                name: "Orders".into(),
                scopes: vec!["orders:read".into()],
                access_token_ttl: None,
            },
        )
        .await
        .unwrap();
    let mut mfa = b.tenant(&t).await.unwrap().mfa.clone();
    mfa.factors.retain(|f| f.as_str() != "phone");
    b.admin().set_mfa_policy(&t, mfa).await.unwrap();
    b.admin().set_dpop_nonce_required(&t, true).await.unwrap();
    // Everything is there, the branding at the revision node a wrote.
    let stored = store.get_tenant(&t).await.unwrap().unwrap();
    assert_eq!(stored.branding.revision, 1);
    assert_eq!(stored.branding.theme.primary.as_deref(), Some("#0b5fff"));
    assert_eq!(stored.apis.len(), 1);
    assert!(stored.dpop_nonce_required);
    assert!(!stored.mfa.factors.iter().any(|f| f.as_str() == "phone"));
    // Removing an API that is not there says so and changes nothing.
    assert!(
        !b.admin()
            .delete_api(&t, "https://nope.example")
            .await
            .unwrap()
    );
    assert!(
        b.admin()
            .delete_api(&t, "https://api.shop.example/orders")
            .await
            .unwrap()
    );
    let stored = store.get_tenant(&t).await.unwrap().unwrap();
    assert!(stored.apis.is_empty() && stored.branding.revision == 1);
}
