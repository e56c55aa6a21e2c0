//! Signing keys across nodes (issue 13, finding 6): two engines on one store and one
//! manual clock. A rotation or revocation made on one node is served by the other within
//! `key_check_secs`, at once when a token names a key it does not know; a retired key
//! leaves JWKS and stops verifying when its tokens' lifetime has passed; a revoked key
//! stops verifying everywhere.

mod common;

use std::sync::Arc;

use serde_json::Value;
use tollgate_engine::clock::ManualClock;
use tollgate_engine::crypto::MasterKey;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::{KeyStatus, SigningAlg};
use tollgate_engine::oauth::token::ClientCredentials;
use tollgate_engine::store::Store;
use tollgate_engine::{Engine, EngineConfig, EngineError, EngineMetrics};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

const START: u64 = 1_800_000_000;

fn node(store: Arc<dyn Store>, clock: &ManualClock) -> Engine {
    let mut config = EngineConfig::new("https://id.example.com");
    config.shards.shared = true;
    Engine::start(
        store,
        Arc::new(clock.clone()),
        MasterKey::from_bytes([9; 32]),
        config,
        EngineMetrics::register(&prometheus::Registry::new()),
    )
    .unwrap()
}

struct Cluster {
    a: Engine,
    b: Engine,
    clock: ManualClock,
    t: TenantId,
    creds: ClientCredentials,
    _dir: tempfile::TempDir,
}

async fn cluster() -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap());
    let clock = ManualClock::new(START);
    let (a, b) = (node(store.clone(), &clock), node(store, &clock));
    a.admin()
        .create_tenant("keys", "Keys", SigningAlg::ES256)
        .await
        .unwrap();
    let t = TenantId::parse("keys").unwrap();
    a.admin()
        .create_user(&t, "u@keys.example", "keys password 1", None, true)
        .await
        .unwrap();
    let creds = common::web_client(&a, &t).await;
    Cluster {
        a,
        b,
        clock,
        t,
        creds,
        _dir: dir,
    }
}

/// Signs in on `e` and redeems a code there: (access token, ID token).
async fn tokens(e: &Engine, c: &Cluster) -> (String, String) {
    let who = ("u@keys.example", "keys password 1");
    let (_, resp) = common::sign_in(e, &c.t, &c.creds, who, "openid").await;
    (resp.access_token, resp.id_token.unwrap())
}

async fn jwks_kids(e: &Engine, t: &TenantId) -> Vec<String> {
    let doc: Value = serde_json::from_slice(&e.oauth().jwks(t).await.unwrap().body).unwrap();
    doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn kid_of(jwt: &str) -> String {
    jsonwebtoken::decode_header(jwt).unwrap().kid.unwrap()
}

async fn verifies(e: &Engine, c: &Cluster, access_token: &str) -> bool {
    match e.oauth().userinfo(&c.t, access_token).await {
        Ok(_) => true,
        Err(EngineError::OAuth(o)) if o.code == tollgate_engine::OAuthErrorCode::InvalidToken => {
            false
        }
        Err(other) => panic!("userinfo failed for another reason: {other:?}"),
    }
}

async fn hint_accepted(e: &Engine, c: &Cluster, id_token: &str) -> bool {
    e.oauth()
        .plan_logout(&c.t, Some(id_token), None, None, None, None)
        .await
        .is_ok()
}

#[test]
fn a_rotation_reaches_the_other_node_within_the_check_interval() {
    actix::System::new().block_on(async {
        let c = cluster().await;
        let before = jwks_kids(&c.b, &c.t).await;
        let rotated = c.a.admin().rotate_keys(&c.t).await.unwrap();
        assert!(!before.contains(&rotated.next_kid));
        assert_eq!(
            jwks_kids(&c.b, &c.t).await,
            before,
            "b re-read its ring before the interval: the test no longer proves the interval"
        );
        c.clock.advance(4);
        assert!(!jwks_kids(&c.b, &c.t).await.contains(&rotated.next_kid));
        c.clock.advance(1);
        let after = jwks_kids(&c.b, &c.t).await;
        assert!(after.contains(&rotated.next_kid), "{after:?}");
        assert_eq!(after, jwks_kids(&c.a, &c.t).await);
    });
}

#[test]
fn a_token_signed_with_a_key_new_to_this_node_verifies_at_once() {
    actix::System::new().block_on(async {
        let c = cluster().await;
        let known = jwks_kids(&c.b, &c.t).await;
        // Twice: the key that signs now was not even the published next key b holds.
        c.a.admin().rotate_keys(&c.t).await.unwrap();
        let rotated = c.a.admin().rotate_keys(&c.t).await.unwrap();
        let (at, _) = tokens(&c.a, &c).await;
        assert_eq!(kid_of(&at), rotated.active_kid);
        assert!(!known.contains(&rotated.active_kid));
        assert!(
            verifies(&c.b, &c, &at).await,
            "b refused a token of a's new key"
        );
        // A kid nobody issued is refused (and does not keep the store busy).
        let forged = {
            let mut parts: Vec<String> = at.split('.').map(str::to_owned).collect();
            let header = serde_json::json!({"alg": "ES256", "typ": "at+jwt", "kid": "nope"});
            parts[0] = tollgate_engine::crypto::b64(header.to_string().as_bytes());
            parts.join(".")
        };
        assert!(!verifies(&c.b, &c, &forged).await);
        assert!(!verifies(&c.b, &c, &forged).await);
    });
}

#[test]
fn a_retired_key_leaves_jwks_and_stops_verifying_when_its_tokens_have_expired() {
    actix::System::new().block_on(async {
        let c = cluster().await;
        let (_, id_token) = tokens(&c.a, &c).await;
        let old = kid_of(&id_token);
        let rotated = c.a.admin().rotate_keys(&c.t).await.unwrap();
        assert_eq!(rotated.retired_kid.as_deref(), Some(old.as_str()));
        for e in [&c.a, &c.b] {
            assert!(jwks_kids(e, &c.t).await.contains(&old));
            assert!(hint_accepted(e, &c, &id_token).await);
        }
        let tenant = c.a.tenant(&c.t).await.unwrap();
        c.clock.advance(tenant.max_jwt_ttl() - 1);
        for e in [&c.a, &c.b] {
            assert!(jwks_kids(e, &c.t).await.contains(&old), "left too early");
        }
        c.clock.advance(1);
        for e in [&c.a, &c.b] {
            assert!(!jwks_kids(e, &c.t).await.contains(&old), "still published");
            assert!(
                !hint_accepted(e, &c, &id_token).await,
                "an ID token of a key no longer published still counts as a hint"
            );
        }
    });
}

#[test]
fn a_revoked_key_stops_verifying_everywhere() {
    actix::System::new().block_on(async {
        let c = cluster().await;
        let (at, id_token) = tokens(&c.a, &c).await;
        let leaked = kid_of(&at);
        assert!(verifies(&c.b, &c, &at).await);
        let revoked = c.a.admin().revoke_key(&c.t, &leaked).await.unwrap();
        assert_eq!(revoked.revoked_kid, leaked);
        assert_ne!(revoked.active_kid, leaked);
        assert!(
            !verifies(&c.a, &c, &at).await,
            "the revoking node still trusts it"
        );
        assert!(!hint_accepted(&c.a, &c, &id_token).await);
        assert!(!jwks_kids(&c.a, &c.t).await.contains(&leaked));
        c.clock.advance(5);
        assert!(
            !verifies(&c.b, &c, &at).await,
            "the other node still trusts it"
        );
        assert!(!jwks_kids(&c.b, &c.t).await.contains(&leaked));
        // Tokens go on being issued, by the key that took over, and verify on both.
        let (fresh, _) = tokens(&c.b, &c).await;
        assert_eq!(kid_of(&fresh), revoked.active_kid);
        assert!(verifies(&c.a, &c, &fresh).await);

        let keys = c.a.admin().list_keys(&c.t).await.unwrap();
        let status = |kid: &str| keys.iter().find(|k| k.kid == kid).map(|k| k.status);
        assert_eq!(status(&leaked), Some(KeyStatus::Revoked));
        assert_eq!(status(&revoked.active_kid), Some(KeyStatus::Active));
        let next: Vec<_> = keys
            .iter()
            .filter(|k| k.status == KeyStatus::Next)
            .collect();
        assert_eq!(next.len(), 1, "{keys:?}");

        // The published next key can be withdrawn too: a fresh one replaces it.
        let next_kid = next[0].kid.clone();
        c.a.admin().revoke_key(&c.t, &next_kid).await.unwrap();
        let kids = jwks_kids(&c.a, &c.t).await;
        assert!(!kids.contains(&next_kid));
        assert_eq!(kids.len(), 2, "active + a new next: {kids:?}");

        // Again: nothing changes, nothing more is recorded. Unknown: not found.
        c.a.admin().revoke_key(&c.t, &leaked).await.unwrap();
        let events = c.a.admin().recent_events(&c.t, 100).await.unwrap();
        let n = events
            .iter()
            .filter(|e| e.kind == "admin.key_revoked")
            .count();
        assert_eq!(n, 2);
        assert!(matches!(
            c.a.admin().revoke_key(&c.t, "no-such-kid").await,
            Err(EngineError::NotFound("key"))
        ));
    });
}
