//! The behaviour every [`Store`] backend must show. Backends call [`run`] from their
//! tests (the embedded store always; ScyllaDB when a node is named). Each check uses
//! fresh random tenants, so runs can share a database.
//!
//! Expiry times are set from the wall clock: a backend may expire rows by its own clock
//! (ScyllaDB's native TTLs), so a row meant to be live must expire in the future.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a step that fails is a failed test"
)]

mod breaches;
mod children;
mod domains;
mod grievances;
mod orgs;
mod retention;
mod scim;
mod users;

use crate::*;
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::clock::{Clock, SystemClock};
use tollgate_vocab::crypto::random_token;
use tollgate_vocab::ids::{ChainId, ClientId, TenantId, UserId};
use tollgate_vocab::model::{
    AuthCode, Chain, Client, Consent, Event, Hash32, RevokeReason, Session, StoredKey, Tenant,
    UserRecord,
};
use tollgate_vocab::model::{AuthContext, KeyStatus, SigningAlg};

fn tenant() -> TenantId {
    TenantId::parse(&format!(
        "t{}",
        random_token::<6>().to_lowercase().replace(['_', '-'], "x")
    ))
    .unwrap()
}

/// Now, by the wall clock: the base of every expiry below.
fn now() -> UnixTime {
    SystemClock.now()
}

fn auth() -> AuthContext {
    AuthContext {
        auth_time: 1_000,
        amr: vec!["pwd".into()],
        org: None,
    }
}

/// A user record; the engine computes the email key (a blind index), which the store
/// only compares, so a lower-cased address stands in for it here.
fn user(t: &TenantId, email: &str) -> UserRecord {
    UserRecord {
        tenant: t.clone(),
        id: UserId::generate(),
        email_key: email.to_lowercase(),
        personal: "c2VhbGVk".into(),
        email_verified: false,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        created_at: 1_000,
        deleted_at: None,
    }
}

fn chain(t: &TenantId, first: Hash32) -> Chain {
    Chain {
        tenant: t.clone(),
        id: ChainId::generate(),
        client_id: ClientId::parse("app").unwrap(),
        user_id: UserId::generate(),
        scope: "openid offline_access".into(),
        auth: auth(),
        sid: None,
        generation: 0,
        current_hash: first,
        created_at: 1_000,
        rotated_at: 1_000,
        expires_at: now() + 100_000,
        // Carried in the record, so every read of a chain must give it back.
        resource: Some("https://api.example/orders".into()),
        dpop_jkt: None,
        revoked: None,
    }
}

/// Runs every check against `store`. Panics (with the check's name) on the first failure.
pub async fn run<S: Store + Clone>(store: S) {
    tenants_are_unique(&store).await;
    clients_are_scoped_by_tenant(&store).await;
    user_emails_are_unique_per_tenant(&store).await;
    users::users_are_walked_once_in_pages(&store).await;
    deleted_users_free_their_email_and_are_purged(&store).await;
    double_deletes_and_stale_entries_do_not_stop_the_purge(&store).await;
    user_keys_are_single_and_destroyable(&store).await;
    sessions_round_trip(&store).await;
    sessions_change_in_place_and_ended_ones_stay_ended(&store).await;
    codes_are_taken_once(&store).await;
    codes_redeem_with_their_chain(&store).await;
    a_code_raced_for_leaves_one_live_chain(&store).await;
    chains_rotate_only_from_the_expected_generation(&store).await;
    concurrent_rotations_have_one_winner(&store).await;
    revocation_is_final(&store).await;
    keys_and_consent_round_trip(&store).await;
    denied_tokens_are_remembered(&store).await;
    events_come_back_newest_first(&store).await;
    a_users_events_are_theirs_newest_first_across_months(&store).await;
    event_windows_and_pages_cross_hours_and_days(&store).await;
    factors_are_per_user_and_update_conditionally(&store).await;
    challenges_spend_tries_and_are_taken_once(&store).await;
    challenges_are_replaced_under_their_key(&store).await;
    user_emails_change_atomically(&store).await;
    purposes_and_grants_round_trip(&store).await;
    connectors_are_per_tenant(&store).await;
    links_are_unique_and_belong_to_their_user(&store).await;
    logout_deliveries_are_claimed_once_and_survive(&store).await;
    verifications_are_per_user_oldest_first(&store).await;
    grievances::grievances_by_tenant_and_user(&store).await;
    children::child_records_change_once_from_pending(&store).await;
    breaches::incidents_keep_their_affected_users(&store).await;
    scim::scim_users_change_by_version_with_their_index(&store).await;
    orgs::organisations_are_unique_and_renamed(&store).await;
    orgs::memberships_and_roles_from_both_sides(&store).await;
    orgs::invitations_are_taken_once(&store).await;
    orgs::deleting_an_organisation_removes_what_it_had(&store).await;
    consent_receipts_are_per_user_oldest_first(&store).await;
    retention::activity_notices_and_holds(&store).await;
    retention::inactive_users_are_walked_once(&store).await;
    retention::events_are_purged_before_a_time(&store).await;
    domains::domains_are_claimed_once_per_tenant(&store).await;
    expired_rows_are_swept(&store).await;
}

fn verification(
    t: &TenantId,
    u: &UserId,
    id: &str,
    at: UnixTime,
) -> tollgate_vocab::model::verification::VerificationRecord {
    tollgate_vocab::model::verification::VerificationRecord {
        tenant: t.clone(),
        user_id: u.clone(),
        id: id.into(),
        created_at: at,
        sealed: format!("c2VhbGVk{id}"),
    }
}

fn receipt(
    t: &TenantId,
    u: &UserId,
    id: &str,
    at: UnixTime,
) -> tollgate_vocab::model::notice::ConsentReceipt {
    tollgate_vocab::model::notice::ConsentReceipt {
        tenant: t.clone(),
        user_id: u.clone(),
        id: id.into(),
        purpose: "marketing".into(),
        version: 2,
        language: "hi".into(),
        granted: at.is_multiple_of(2),
        at,
        channel: tollgate_vocab::model::notice::ConsentChannel::ConsentManager,
        manager: Some("cm-client".into()),
    }
}

async fn consent_receipts_are_per_user_oldest_first<S: Store>(s: &S) {
    let (t, other) = (tenant(), tenant());
    let (u, v) = (UserId::generate(), UserId::generate());
    assert!(s.list_receipts(&t, &u).await.unwrap().is_empty());
    let late = receipt(&t, &u, "b", 2_000);
    let early = receipt(&t, &u, "z", 1_001);
    let same_time = receipt(&t, &u, "a", 2_000);
    for r in [&late, &early, &same_time] {
        s.put_receipt(r).await.unwrap();
    }
    let theirs = receipt(&t, &v, "c", 1_500);
    s.put_receipt(&theirs).await.unwrap();
    let elsewhere = receipt(&other, &u, "d", 1_500);
    s.put_receipt(&elsewhere).await.unwrap();
    // Every field comes back as written, oldest first, then by id.
    assert_eq!(
        s.list_receipts(&t, &u).await.unwrap(),
        vec![early.clone(), same_time.clone(), late.clone()]
    );
    assert_eq!(
        s.list_receipts(&other, &u).await.unwrap(),
        vec![elsewhere.clone()]
    );
    // Erasure removes one user's receipts in one tenant, and only theirs; twice is fine.
    s.delete_receipts(&t, &u).await.unwrap();
    s.delete_receipts(&t, &u).await.unwrap();
    assert!(s.list_receipts(&t, &u).await.unwrap().is_empty());
    assert_eq!(s.list_receipts(&t, &v).await.unwrap(), vec![theirs]);
    assert_eq!(s.list_receipts(&other, &u).await.unwrap(), vec![elsewhere]);
}

async fn verifications_are_per_user_oldest_first<S: Store>(s: &S) {
    let (t, other) = (tenant(), tenant());
    let (u, v) = (UserId::generate(), UserId::generate());
    assert!(s.list_verifications(&t, &u).await.unwrap().is_empty());
    let late = verification(&t, &u, "b", 2_000);
    let early = verification(&t, &u, "z", 1_000);
    let same_time = verification(&t, &u, "a", 2_000);
    for r in [&late, &early, &same_time] {
        s.put_verification(r).await.unwrap();
    }
    let theirs = verification(&t, &v, "c", 1_500);
    s.put_verification(&theirs).await.unwrap();
    // Another tenant's user with the same id sees nothing of this tenant's.
    let elsewhere = verification(&other, &u, "d", 1_500);
    s.put_verification(&elsewhere).await.unwrap();
    assert_eq!(
        s.list_verifications(&t, &u).await.unwrap(),
        vec![early.clone(), same_time.clone(), late.clone()]
    );
    assert_eq!(
        s.list_verifications(&other, &u).await.unwrap(),
        vec![elsewhere.clone()]
    );
    // Writing the same id again replaces it.
    let mut again = late.clone();
    again.sealed = "b3RoZXI".into();
    s.put_verification(&again).await.unwrap();
    assert_eq!(
        s.list_verifications(&t, &u).await.unwrap(),
        vec![early, same_time, again]
    );
    // Deleting a user's removes theirs only, and can be repeated.
    s.delete_verifications(&t, &u).await.unwrap();
    s.delete_verifications(&t, &u).await.unwrap();
    assert!(s.list_verifications(&t, &u).await.unwrap().is_empty());
    assert_eq!(s.list_verifications(&t, &v).await.unwrap(), vec![theirs]);
    assert_eq!(
        s.list_verifications(&other, &u).await.unwrap(),
        vec![elsewhere]
    );
}

fn delivery(t: &TenantId, next_at: UnixTime) -> tollgate_vocab::model::LogoutDelivery {
    tollgate_vocab::model::LogoutDelivery {
        tenant: t.clone(),
        id: random_token::<16>(),
        client_id: ClientId::parse("rp").unwrap(),
        user_id: Some(UserId::generate()),
        sid: Some("sid-1".into()),
        reason: "logout".into(),
        created_at: 1_000,
        attempts: 0,
        next_at,
    }
}

/// The logout outbox: queued deliveries are listed per tenant, a claim is a lease only
/// one caller gets, only the lease holder reschedules, and completion removes.
async fn logout_deliveries_are_claimed_once_and_survive<S: Store + Clone>(s: &S) {
    let (t, other) = (tenant(), tenant());
    let a = delivery(&t, 100);
    let b = delivery(&t, 200);
    s.enqueue_logouts(&[a.clone(), b.clone()]).await.unwrap();
    s.enqueue_logouts(&[delivery(&other, 100)]).await.unwrap();
    // Queuing an id again changes nothing.
    s.enqueue_logouts(&[tollgate_vocab::model::LogoutDelivery {
        next_at: 999,
        ..a.clone()
    }])
    .await
    .unwrap();
    let mut listed = s.list_logouts(&t, 100).await.unwrap();
    listed.sort_by_key(|d| d.next_at);
    assert_eq!(listed, vec![a.clone(), b.clone()]);
    assert_eq!(s.list_logouts(&t, 1).await.unwrap().len(), 1);

    // Two claims from what both read: one lease.
    let (s1, s2) = (s.clone(), s.clone());
    let (t1, t2) = (t.clone(), t.clone());
    let (id1, id2) = (a.id.clone(), a.id.clone());
    let (c1, c2) = tokio::join!(
        async move { s1.claim_logout(&t1, &id1, 100, 160).await.unwrap() },
        async move { s2.claim_logout(&t2, &id2, 100, 170).await.unwrap() },
    );
    assert!(c1 ^ c2, "exactly one claim wins: {c1} {c2}");
    let lease = if c1 { 160 } else { 170 };
    assert!(!s.claim_logout(&t, &a.id, 100, 180).await.unwrap());
    assert!(!s.claim_logout(&t, "no-such-id", 100, 180).await.unwrap());
    // Only the lease holder reschedules.
    assert!(!s.reschedule_logout(&t, &a.id, 1, 1, 300).await.unwrap());
    assert!(s.reschedule_logout(&t, &a.id, lease, 1, 300).await.unwrap());
    let again = s.list_logouts(&t, 100).await.unwrap();
    let a2 = again.iter().find(|d| d.id == a.id).unwrap();
    assert_eq!((a2.attempts, a2.next_at), (1, 300));
    assert_eq!(a2.sid, a.sid);
    // Completed: gone, and completing again is fine.
    s.complete_logout(&t, &a.id).await.unwrap();
    s.complete_logout(&t, &a.id).await.unwrap();
    assert_eq!(s.list_logouts(&t, 100).await.unwrap(), vec![b]);
    assert_eq!(s.list_logouts(&other, 100).await.unwrap().len(), 1);
}

fn connector(t: &TenantId, id: &str) -> tollgate_vocab::model::federation::Connector {
    tollgate_vocab::model::federation::Connector {
        tenant: t.clone(),
        id: id.into(),
        display_name: "Upstream".into(),
        preset: "oidc".into(),
        protocol: tollgate_vocab::model::federation::Protocol::Oidc,
        enabled: true,
        client_id: "cid".into(),
        sealed_secret: Some("c2VhbGVk".into()),
        issuer: Some("https://up.example".into()),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        emails_endpoint: None,
        scopes: vec!["openid".into()],
        mapping: tollgate_vocab::model::federation::ClaimMapping::default(),
        link_by_email: false,
        store_tokens: false,
        token_auth: tollgate_vocab::model::federation::TokenAuth::default(),
        response_mode: None,
        apple: None,
        created_at: 1_000,
        updated_at: 1_000,
    }
}

async fn connectors_are_per_tenant<S: Store>(s: &S) {
    let (a, b) = (tenant(), tenant());
    s.put_connector(&connector(&a, "up")).await.unwrap();
    s.put_connector(&connector(&a, "gh")).await.unwrap();
    let mut changed = connector(&a, "up");
    changed.enabled = false;
    s.put_connector(&changed).await.unwrap();
    assert_eq!(s.get_connector(&a, "up").await.unwrap(), Some(changed));
    assert_eq!(s.get_connector(&b, "up").await.unwrap(), None);
    assert_eq!(s.list_connectors(&a).await.unwrap().len(), 2);
    assert!(s.list_connectors(&b).await.unwrap().is_empty());
    assert!(!s.delete_connector(&b, "up").await.unwrap());
    assert!(s.delete_connector(&a, "up").await.unwrap());
    assert!(!s.delete_connector(&a, "up").await.unwrap());
    assert_eq!(s.list_connectors(&a).await.unwrap().len(), 1);
}

async fn links_are_unique_and_belong_to_their_user<S: Store + Clone>(s: &S) {
    let t = tenant();
    let (alice, bob) = (UserId::generate(), UserId::generate());
    let link =
        |user: &UserId, provider: &str, subject: &[u8]| tollgate_vocab::model::federation::Link {
            tenant: t.clone(),
            provider: provider.into(),
            key: Hash32::of(subject),
            user_id: user.clone(),
            created_at: 1_000,
            last_login_at: 1_000,
            sealed_profile: "cHJvZmlsZQ".into(),
            sealed_tokens: None,
        };
    // Two links of one upstream identity at once: one wins.
    let (x, y) = (s.clone(), s.clone());
    let (la, lb) = (link(&alice, "up", b"s1"), link(&bob, "up", b"s1"));
    let (ra, rb) = tokio::join!(x.create_link(&la), y.create_link(&lb));
    let (winner, loser) = match (&ra, &rb) {
        (Ok(()), Err(StoreError::Conflict)) => (&alice, &bob),
        (Err(StoreError::Conflict), Ok(())) => (&bob, &alice),
        _ => panic!("exactly one link of an identity wins, the other conflicts: {ra:?} {rb:?}"),
    };
    assert_eq!(
        s.create_link(&link(winner, "up", b"s1")).await,
        Err(StoreError::Conflict)
    );
    let found = s
        .find_link(&t, "up", &Hash32::of(b"s1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&found.user_id, winner);
    assert!(s.list_links(&t, loser).await.unwrap().is_empty());
    // The same subject at another provider, and another tenant, are other identities.
    s.create_link(&link(winner, "gh", b"s1")).await.unwrap();
    assert_eq!(
        s.find_link(&tenant(), "up", &Hash32::of(b"s1"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(s.list_links(&t, winner).await.unwrap().len(), 2);
    // Updates and deletes touch only the owner's link.
    let mut moved = found.clone();
    moved.user_id = loser.clone();
    assert!(!s.update_link(&moved).await.unwrap());
    let mut used = found.clone();
    used.last_login_at = 2_000;
    used.sealed_tokens = Some("dG9rZW5z".into());
    assert!(s.update_link(&used).await.unwrap());
    assert_eq!(
        s.find_link(&t, "up", &Hash32::of(b"s1")).await.unwrap(),
        Some(used.clone())
    );
    assert_eq!(
        s.delete_link(&t, loser, "up", &Hash32::of(b"s1"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.delete_link(&t, winner, "up", &Hash32::of(b"s1"))
            .await
            .unwrap(),
        Some(used)
    );
    assert_eq!(
        s.find_link(&t, "up", &Hash32::of(b"s1")).await.unwrap(),
        None
    );
    assert_eq!(s.list_links(&t, winner).await.unwrap().len(), 1);
    // Once removed, the identity can be linked again (to anyone).
    s.create_link(&link(loser, "up", b"s1")).await.unwrap();
    assert_eq!(s.list_links(&t, loser).await.unwrap().len(), 1);
}

async fn factors_are_per_user_and_update_conditionally<S: Store + Clone>(s: &S) {
    use tollgate_vocab::model::{Factor, FactorKind};
    let t = tenant();
    let (alice, bob) = (UserId::generate(), UserId::generate());
    let factor = |user: &UserId, id: &str, lookup: Option<&str>, at: u64| Factor {
        tenant: t.clone(),
        user_id: user.clone(),
        id: id.into(),
        kind: FactorKind::Passkey,
        label: format!("key {id}"),
        lookup: lookup.map(str::to_owned),
        data: serde_json::json!({"n": 0}),
        version: 0,
        created_at: at,
        last_used_at: None,
    };
    let a1 = factor(&alice, "f1", Some("cred-1"), 10);
    let a2 = factor(&alice, "f2", None, 20);
    s.create_factor(&a2).await.unwrap();
    s.create_factor(&a1).await.unwrap();
    assert_eq!(s.create_factor(&a1).await, Err(StoreError::Conflict));
    // A lookup key is unique in the tenant, whoever owns it.
    assert_eq!(
        s.create_factor(&factor(&bob, "f9", Some("cred-1"), 30))
            .await,
        Err(StoreError::Conflict)
    );
    s.create_factor(&factor(&bob, "f3", Some("cred-3"), 30))
        .await
        .unwrap();
    let ids: Vec<String> = s
        .list_factors(&t, &alice)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(ids, ["f1", "f2"], "alice's factors, oldest first");
    assert!(s.list_factors(&tenant(), &alice).await.unwrap().is_empty());
    assert_eq!(s.find_factor(&t, "cred-1").await.unwrap(), Some(a1.clone()));
    assert_eq!(s.find_factor(&tenant(), "cred-1").await.unwrap(), None);
    // Conditional updates: of two writers from version 0, one wins.
    let mut next = a1.clone();
    next.version = 1;
    next.data = serde_json::json!({"n": 1});
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (s, next) = (s.clone(), next.clone());
            tokio::spawn(async move { s.update_factor(&next, 0).await.unwrap() })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1, "a conditional factor update won more than once");
    assert_eq!(
        s.get_factor(&t, &alice, "f1").await.unwrap(),
        Some(next.clone())
    );
    assert_eq!(s.delete_factor(&t, &alice, "f1").await.unwrap(), Some(next));
    assert_eq!(s.find_factor(&t, "cred-1").await.unwrap(), None);
    assert_eq!(s.get_factor(&t, &alice, "f1").await.unwrap(), None);
    assert!(
        !s.update_factor(&a1, 1).await.unwrap(),
        "a deleted factor updated"
    );
    // Its credential id is free again.
    s.create_factor(&factor(&bob, "f4", Some("cred-1"), 40))
        .await
        .unwrap();
}

/// "Send another code": a new challenge under the same key, over a live one or a taken
/// one, and the first one's expiry does not sweep it away.
async fn challenges_are_replaced_under_their_key<S: Store>(s: &S) {
    let t = tenant();
    let key = Hash32::of(random_token::<16>().as_bytes());
    let first = Challenge {
        tenant: t.clone(),
        key,
        purpose: "email_code".into(),
        user_id: None,
        data: serde_json::json!({"n": 1}),
        tries_left: 5,
        expires_at: now() + 2,
    };
    s.put_challenge(&first).await.unwrap();
    s.spend_try(&t, &key).await.unwrap().unwrap();
    let second = Challenge {
        data: serde_json::json!({"n": 2}),
        expires_at: now() + 600,
        ..first.clone()
    };
    s.replace_challenge(&second).await.unwrap();
    assert_eq!(
        s.get_challenge(&t, &key).await.unwrap(),
        Some(second.clone()),
        "a live challenge was not replaced (or kept its spent tries)"
    );
    assert_eq!(
        s.take_challenge(&t, &key).await.unwrap(),
        Some(second.clone())
    );
    let third = Challenge {
        data: serde_json::json!({"n": 3}),
        ..second.clone()
    };
    s.replace_challenge(&third).await.unwrap();
    assert_eq!(
        s.get_challenge(&t, &key).await.unwrap(),
        Some(third.clone()),
        "a taken challenge's key could not be used again"
    );
    s.sweep_expired(now() + 10).await.unwrap();
    assert_eq!(
        s.get_challenge(&t, &key).await.unwrap(),
        Some(third.clone()),
        "the first challenge's expiry swept its replacement away"
    );
    assert!(
        matches!(s.put_challenge(&first).await, Err(StoreError::Conflict)),
        "put_challenge overwrote a live challenge"
    );
    assert_eq!(s.take_challenge(&t, &key).await.unwrap(), Some(third));
}

async fn challenges_spend_tries_and_are_taken_once<S: Store + Clone>(s: &S) {
    use tollgate_vocab::model::Challenge;
    let t = tenant();
    let c = Challenge {
        tenant: t.clone(),
        key: Hash32::of(b"handle"),
        purpose: "email_code".into(),
        user_id: Some(UserId::generate()),
        data: serde_json::json!({"code_hash": "x"}),
        tries_left: 5,
        expires_at: now() + 600,
    };
    s.put_challenge(&c).await.unwrap();
    assert_eq!(s.put_challenge(&c).await, Err(StoreError::Conflict));
    assert_eq!(s.get_challenge(&t, &c.key).await.unwrap(), Some(c.clone()));
    assert_eq!(s.get_challenge(&tenant(), &c.key).await.unwrap(), None);
    // Twenty guesses at once: exactly five are allowed to be checked.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (s, t, k) = (s.clone(), t.clone(), c.key);
            tokio::spawn(async move { s.spend_try(&t, &k).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        if let Some(before) = task.await.unwrap() {
            seen.push(before.tries_left);
        }
    }
    seen.sort();
    assert_eq!(seen, [1, 2, 3, 4, 5], "tries were not spent one at a time");
    assert_eq!(s.spend_try(&t, &c.key).await.unwrap(), None);
    let taken = s.take_challenge(&t, &c.key).await.unwrap().unwrap();
    assert_eq!(taken.tries_left, 0);
    assert_eq!(s.take_challenge(&t, &c.key).await.unwrap(), None);
    assert_eq!(s.get_challenge(&t, &c.key).await.unwrap(), None);
}

async fn user_emails_change_atomically<S: Store + Clone>(s: &S) {
    let t = tenant();
    let ada = user(&t, "ada@x.example");
    let bob = user(&t, "bob@x.example");
    s.create_user(&ada).await.unwrap();
    s.create_user(&bob).await.unwrap();
    let old = ada.email_key.clone();

    // Taken by another user: refused, nothing changes.
    let mut taken = ada.clone();
    taken.email_key = bob.email_key.clone();
    assert_eq!(
        s.change_user_email(&taken, &old).await,
        Err(StoreError::Conflict)
    );
    let by_bob = s
        .find_user_by_email(&t, &bob.email_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_bob.id, bob.id);
    assert_eq!(
        s.get_user(&t, &ada.id).await.unwrap().unwrap().email_key,
        old
    );

    // A free address: the new one finds the user, the old one nobody, and the old one
    // can be taken by someone else.
    let mut moved = ada.clone();
    moved.email_key = "ada.new@x.example".into();
    moved.email_verified = true;
    assert_eq!(s.change_user_email(&moved, &old).await, Ok(true));
    let found = s
        .find_user_by_email(&t, &moved.email_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, ada.id);
    assert!(found.email_verified);
    assert!(s.find_user_by_email(&t, &old).await.unwrap().is_none());
    s.create_user(&user(&t, "ada@x.example")).await.unwrap();

    // A stale `old` (the email changed meanwhile) or a missing user: false.
    assert_eq!(s.change_user_email(&moved, &old).await, Ok(false));
    let ghost = user(&t, "ghost@x.example");
    assert_eq!(
        s.change_user_email(&ghost, &ghost.email_key).await,
        Ok(false)
    );

    // Two users racing for one free address: exactly one gets it.
    let target = "wanted@x.example".to_owned();
    let (mut a, mut b) = (moved.clone(), bob.clone());
    a.email_key = target.clone();
    b.email_key = target.clone();
    let (s1, s2) = (s.clone(), s.clone());
    let (old_a, old_b) = (moved.email_key.clone(), bob.email_key.clone());
    let (ra, rb) = tokio::join!(
        async move { s1.change_user_email(&a, &old_a).await },
        async move { s2.change_user_email(&b, &old_b).await }
    );
    let wins = [&ra, &rb].iter().filter(|r| ***r == Ok(true)).count();
    let conflicts = [&ra, &rb]
        .iter()
        .filter(|r| ***r == Err(StoreError::Conflict))
        .count();
    assert_eq!((wins, conflicts), (1, 1), "{ra:?} {rb:?}");
    let owner = s.find_user_by_email(&t, &target).await.unwrap().unwrap();
    assert!(owner.id == ada.id || owner.id == bob.id);
}

async fn purposes_and_grants_round_trip<S: Store>(s: &S) {
    use tollgate_vocab::model::privacy::{PrivacySettings, Purpose, PurposeGrant};
    let (t, other) = (tenant(), tenant());
    assert_eq!(s.get_privacy_settings(&t).await.unwrap(), None);
    let settings = PrivacySettings {
        purposes: vec![Purpose {
            id: "terms".into(),
            description: "The terms of service".into(),
            version: 2,
            required: true,
        }],
        profile_fields: vec![tollgate_vocab::model::privacy::ProfileRule {
            field: "given_name".into(),
            required: false,
            after_sign_ins: Some(2),
            scope: None,
        }],
        // Notices in two languages and a consent manager come back as written.
        notices: tollgate_vocab::model::notice::NoticeSettings {
            board_url: Some("https://board.example/complaints".into()),
            notices: vec![tollgate_vocab::model::notice::PurposeNotice {
                purpose: "terms".into(),
                texts: ["en", "hi"]
                    .into_iter()
                    .map(|l| {
                        (
                            l.to_owned(),
                            tollgate_vocab::model::notice::NoticeText {
                                data_items: vec![format!("email ({l})")],
                                purpose: "to run the service".into(),
                                service: "the account".into(),
                            },
                        )
                    })
                    .collect(),
            }],
            consent_managers: vec!["cm-client".into()],
        },
    };
    s.put_privacy_settings(&t, &settings).await.unwrap();
    assert_eq!(s.get_privacy_settings(&t).await.unwrap(), Some(settings));
    assert_eq!(s.get_privacy_settings(&other).await.unwrap(), None);

    let u = UserId::generate();
    let mut g = PurposeGrant {
        tenant: t.clone(),
        user_id: u.clone(),
        purpose: "terms".into(),
        version: 1,
        granted: true,
        at: 1_000,
        language: Some("hi".into()),
    };
    s.put_purpose_grant(&g).await.unwrap();
    g.version = 2;
    s.put_purpose_grant(&g).await.unwrap();
    let mut m = g.clone();
    m.purpose = "marketing".into();
    m.granted = false;
    s.put_purpose_grant(&m).await.unwrap();
    let mut all = s.list_purpose_grants(&t, &u).await.unwrap();
    all.sort_by(|a, b| a.purpose.cmp(&b.purpose));
    assert_eq!(all, vec![m, g.clone()]);
    assert!(
        s.list_purpose_grants(&t, &UserId::generate())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.list_purpose_grants(&other, &u).await.unwrap().is_empty());
    // Account deletion removes one user's answers, and only theirs.
    let mut v = g.clone();
    v.user_id = UserId::generate();
    s.put_purpose_grant(&v).await.unwrap();
    s.delete_purpose_grants(&t, &u).await.unwrap();
    assert!(s.list_purpose_grants(&t, &u).await.unwrap().is_empty());
    assert_eq!(
        s.list_purpose_grants(&t, &v.user_id).await.unwrap(),
        vec![v]
    );
}

async fn tenants_are_unique<S: Store>(s: &S) {
    let t = Tenant::new(tenant(), "Acme".into(), 1_000);
    s.create_tenant(&t).await.unwrap();
    assert_eq!(
        s.create_tenant(&t).await,
        Err(StoreError::Conflict),
        "tenant created twice"
    );
    assert_eq!(s.get_tenant(&t.id).await.unwrap(), Some(t.clone()));
    assert!(s.list_tenants().await.unwrap().contains(&t));
    let mut changed = t.clone();
    changed.mfa.mode = tollgate_vocab::model::MfaMode::Required;
    assert!(s.update_tenant(&changed).await.unwrap());
    assert_eq!(s.get_tenant(&t.id).await.unwrap(), Some(changed.clone()));
    let mut elsewhere = changed.clone();
    elsewhere.region = "elsewhere".into();
    assert!(
        !s.update_tenant(&elsewhere).await.unwrap(),
        "an update moved a tenant"
    );
    let missing = Tenant::new(tenant(), "Nobody".into(), 1_000);
    assert!(!s.update_tenant(&missing).await.unwrap());
    assert_eq!(s.get_tenant(&missing.id).await.unwrap(), None);
    // Compare-and-set: two changes from the same record; the second is refused.
    let mut first = changed.clone();
    first.branding.revision = 1;
    let mut second = changed.clone();
    second.display_name = "Acme, again".into();
    assert!(s.update_tenant_if(&first, &changed).await.unwrap());
    assert!(
        !s.update_tenant_if(&second, &changed).await.unwrap(),
        "a change from a stale record undid another"
    );
    assert_eq!(s.get_tenant(&t.id).await.unwrap(), Some(first.clone()));
    let mut moved = first.clone();
    moved.region = "elsewhere".into();
    assert!(!s.update_tenant_if(&moved, &first).await.unwrap());
    assert!(!s.update_tenant_if(&missing, &missing).await.unwrap());
    assert_eq!(s.get_tenant(&missing.id).await.unwrap(), None);
}

async fn clients_are_scoped_by_tenant<S: Store>(s: &S) {
    let (a, b) = (tenant(), tenant());
    let c = Client {
        secret_hash: Some(Hash32::of(b"secret")),
        redirect_uris: vec!["https://app.example/cb".into()],
        ..Client::new(
            a.clone(),
            ClientId::parse("web").unwrap(),
            "Web".into(),
            1_000,
        )
    };
    s.create_client(&c).await.unwrap();
    assert_eq!(s.create_client(&c).await, Err(StoreError::Conflict));
    assert_eq!(s.get_client(&a, &c.id).await.unwrap(), Some(c.clone()));
    assert_eq!(
        s.get_client(&b, &c.id).await.unwrap(),
        None,
        "client visible in another tenant"
    );
    assert_eq!(s.list_clients(&a).await.unwrap(), vec![c.clone()]);
    assert!(s.list_clients(&b).await.unwrap().is_empty());
    // Updates replace the record of an existing client only, in its own tenant.
    let mut renamed = c.clone();
    renamed.name = "Web, renamed".into();
    renamed.redirect_uris.push("https://app.example/cb2".into());
    assert!(s.update_client(&renamed).await.unwrap());
    assert_eq!(
        s.get_client(&a, &c.id).await.unwrap(),
        Some(renamed.clone())
    );
    let elsewhere = Client {
        tenant: b.clone(),
        ..renamed.clone()
    };
    assert!(
        !s.update_client(&elsewhere).await.unwrap(),
        "an update created a client"
    );
    assert_eq!(s.get_client(&b, &c.id).await.unwrap(), None);
    // Deletes remove it once, and only in its tenant.
    let gone = Client {
        id: ClientId::parse("gone").unwrap(),
        ..c.clone()
    };
    s.create_client(&gone).await.unwrap();
    assert!(!s.delete_client(&b, &gone.id).await.unwrap());
    assert!(s.delete_client(&a, &gone.id).await.unwrap());
    assert!(!s.delete_client(&a, &gone.id).await.unwrap());
    assert_eq!(s.get_client(&a, &gone.id).await.unwrap(), None);
    assert_eq!(s.list_clients(&a).await.unwrap(), vec![renamed.clone()]);
    // Its id can be registered again.
    s.create_client(&gone).await.unwrap();
    assert!(s.delete_client(&a, &gone.id).await.unwrap());
    // Same id in another tenant is a different client.
    s.create_client(&Client {
        tenant: b.clone(),
        ..c
    })
    .await
    .unwrap();
}

async fn user_emails_are_unique_per_tenant<S: Store + Clone>(s: &S) {
    let (a, b) = (tenant(), tenant());
    let mut u = user(&a, "Alice@Example.com");
    s.create_user(&u).await.unwrap();
    u.email_verified = true;
    assert!(s.update_user(&u).await.unwrap());
    assert_eq!(s.get_user(&a, &u.id).await.unwrap(), Some(u.clone()));
    let mut renamed = u.clone();
    renamed.email_key = "other@example.com".into();
    assert!(
        !s.update_user(&renamed).await.unwrap(),
        "an update changed the login id"
    );
    assert!(
        !s.update_user(&user(&a, "nobody@example.com"))
            .await
            .unwrap()
    );
    let dup = user(&a, "alice@example.com");
    assert_eq!(
        s.create_user(&dup).await,
        Err(StoreError::Conflict),
        "email reused in tenant"
    );
    let found = s.find_user_by_email(&a, "alice@example.com").await.unwrap();
    assert_eq!(found.map(|f| f.id), Some(u.id.clone()));
    assert!(
        s.find_user_by_email(&b, &u.email_key)
            .await
            .unwrap()
            .is_none(),
        "user visible in another tenant"
    );
    assert!(s.get_user(&b, &u.id).await.unwrap().is_none());
    s.create_user(&user(&b, "alice@example.com")).await.unwrap();

    // Racing sign-ups with one email: exactly one account.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            let u = user(&a, "race@example.com");
            tokio::spawn(async move { s.create_user(&u).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("a racing sign-up failed otherwise than by conflict: {e}"),
        }
    }
    assert_eq!(ok, 1, "concurrent sign-ups with one email");

    // Imports report each user; duplicates inside one import and against existing users
    // are refused, the rest are created.
    let batch = vec![
        user(&a, "i1@example.com"),
        user(&a, "alice@example.com"),
        user(&a, "i1@example.com"),
        user(&a, "i2@example.com"),
    ];
    use crate::Imported::{Created, Taken};
    assert_eq!(
        s.create_users(&batch).await.unwrap(),
        vec![Created, Taken, Taken, Created]
    );
    // The same import again (as after an interrupted run): nothing is created twice.
    assert_eq!(
        s.create_users(&batch).await.unwrap(),
        vec![Taken, Taken, Taken, Taken]
    );
    let found = s.find_user_by_email(&a, "i2@example.com").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(batch[3].id.clone()));
}

async fn deleted_users_free_their_email_and_are_purged<S: Store>(s: &S) {
    let (a, b) = (tenant(), tenant());
    let u = user(&a, "gone@example.com");
    s.create_user(&u).await.unwrap();
    let keep = user(&a, "kept@example.com");
    s.create_user(&keep).await.unwrap();
    let mut del = u.clone();
    del.deleted_at = Some(5_000);
    del.email_key = String::new();
    del.password_hash = None;
    assert!(
        !s.soft_delete_user(
            &UserRecord {
                tenant: b.clone(),
                ..del.clone()
            },
            &u.email_key
        )
        .await
        .unwrap(),
        "deleted a user of another tenant"
    );
    assert!(s.soft_delete_user(&del, &u.email_key).await.unwrap());
    assert!(
        !s.soft_delete_user(&del, &u.email_key).await.unwrap(),
        "deleted twice"
    );
    assert_eq!(s.get_user(&a, &u.id).await.unwrap(), Some(del.clone()));
    assert!(
        s.find_user_by_email(&a, &u.email_key)
            .await
            .unwrap()
            .is_none(),
        "a deleted user is found by email"
    );
    assert!(
        !s.update_user(&del).await.unwrap(),
        "a deleted user was updated"
    );
    // The address is free again.
    s.create_user(&user(&a, "gone@example.com")).await.unwrap();
    // Queued for the purge once its retention has passed, and only in its tenant.
    assert!(s.deleted_users(&a, 5_000, 10).await.unwrap().is_empty());
    assert_eq!(
        s.deleted_users(&a, 5_001, 10).await.unwrap(),
        vec![u.id.clone()]
    );
    assert!(s.deleted_users(&b, 9_999, 10).await.unwrap().is_empty());
    assert!(
        !s.purge_user(&a, &keep.id).await.unwrap(),
        "purged a live user"
    );
    assert!(s.purge_user(&a, &u.id).await.unwrap());
    assert!(s.get_user(&a, &u.id).await.unwrap().is_none());
    assert!(s.deleted_users(&a, 9_999, 10).await.unwrap().is_empty());
    assert!(s.get_user(&a, &keep.id).await.unwrap().is_some());
}

/// Issue 14, finding 7: the purge queue. Every user is deleted twice at once (an hour
/// or more apart, so the two entries would land in different places of a time-ordered
/// queue); exactly one deletion applies, and the purge job, run as the engine runs it
/// (batches of 500, a run ends on a short batch or one that purged nothing), purges all
/// 600 users within a few runs: more than a batch of stale or already purged entries
/// never stops it. A deletion that is not yet due stays queued.
async fn double_deletes_and_stale_entries_do_not_stop_the_purge<S: Store>(s: &S) {
    use futures::StreamExt;
    const USERS: usize = 600;
    const BATCH: usize = 500;
    let a = tenant();
    let users: Vec<UserRecord> = (0..USERS)
        .map(|i| user(&a, &format!("queued{i}@example.com")))
        .collect();
    let created = s.create_users(&users).await.unwrap();
    assert!(
        created.iter().all(|c| *c == Imported::Created),
        "{created:?}"
    );
    let deleted = |u: &UserRecord, at: UnixTime| UserRecord {
        deleted_at: Some(at),
        email_key: String::new(),
        password_hash: None,
        ..u.clone()
    };
    let results: Vec<(bool, bool)> = futures::stream::iter(users.iter().enumerate())
        .map(|(i, u)| {
            let (early, late) = (deleted(u, 7_200 + i as u64), deleted(u, 18_000 + i as u64));
            async move {
                let (x, y) = futures::join!(
                    s.soft_delete_user(&early, &u.email_key),
                    s.soft_delete_user(&late, &u.email_key)
                );
                (x.unwrap(), y.unwrap())
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(
        results.iter().all(|(x, y)| x != y),
        "a double soft delete did not apply exactly once"
    );
    // Deleted later: not due at `before`, so it must outlive the purge runs.
    let later = user(&a, "later@example.com");
    s.create_user(&later).await.unwrap();
    assert!(
        s.soft_delete_user(&deleted(&later, 50_000), &later.email_key)
            .await
            .unwrap()
    );

    let before = 36_000;
    let mut purged = std::collections::HashSet::new();
    for run in 1.. {
        assert!(
            run <= 4,
            "the purge stopped progressing: {} of {USERS} purged",
            purged.len()
        );
        loop {
            let ids = s.deleted_users(&a, before, BATCH).await.unwrap();
            let (n, done) = (ids.len(), purged.len());
            assert!(n <= BATCH, "deleted_users returned more than its limit");
            let outcomes: Vec<(UserId, bool)> = futures::stream::iter(ids)
                .map(|id| async {
                    let p = s.purge_user(&a, &id).await.unwrap();
                    (id, p)
                })
                .buffer_unordered(32)
                .collect()
                .await;
            purged.extend(outcomes.into_iter().filter(|(_, p)| *p).map(|(id, _)| id));
            if n < BATCH || purged.len() == done {
                break;
            }
        }
        if s.deleted_users(&a, before, BATCH).await.unwrap().is_empty() {
            break;
        }
    }
    assert_eq!(purged.len(), USERS, "not every deleted user was purged");
    for u in users.iter().step_by(50) {
        assert!(
            s.get_user(&a, &u.id).await.unwrap().is_none(),
            "a purged user is still there"
        );
    }
    assert_eq!(
        s.deleted_users(&a, 50_001, BATCH).await.unwrap(),
        vec![later.id.clone()],
        "the queue holds more, or less, than the deletion not yet due"
    );
    assert!(s.purge_user(&a, &later.id).await.unwrap());
    assert!(s.deleted_users(&a, 50_001, BATCH).await.unwrap().is_empty());
}

async fn user_keys_are_single_and_destroyable<S: Store>(s: &S) {
    let (a, b) = (tenant(), tenant());
    let (u, v) = (UserId::generate(), UserId::generate());
    s.put_user_key(&a, &u, b"wrapped-u").await.unwrap();
    s.put_user_key(&a, &v, b"wrapped-v").await.unwrap();
    assert_eq!(
        s.put_user_key(&a, &u, b"other").await,
        Err(StoreError::Conflict),
        "a user key was replaced"
    );
    assert_eq!(
        s.get_user_key(&a, &u).await.unwrap().as_deref(),
        Some(&b"wrapped-u"[..])
    );
    assert!(s.get_user_key(&b, &u).await.unwrap().is_none());
    s.destroy_user_key(&a, &u).await.unwrap();
    s.destroy_user_key(&a, &u).await.unwrap();
    assert!(s.get_user_key(&a, &u).await.unwrap().is_none());
    assert_eq!(
        s.get_user_key(&a, &v).await.unwrap().as_deref(),
        Some(&b"wrapped-v"[..]),
        "destroying one key touched another"
    );
}

/// `update_session`: concurrent changes all land; a session ended before (or while) a
/// change is made is not written back, whatever the change.
async fn sessions_change_in_place_and_ended_ones_stay_ended<S: Store + Clone>(s: &S) {
    let t = tenant();
    let sess = Session {
        tenant: t.clone(),
        key: Hash32::of(b"changing"),
        user_id: UserId::generate(),
        auth: auth(),
        sid: "sid-c".into(),
        created_at: 1_000,
        expires_at: now() + 3_600,
        clients: vec![],
    };
    s.put_session(&sess).await.unwrap();
    let add = |id: String| -> crate::SessionChange {
        Box::new(move |x: &mut Session| {
            let c = ClientId::parse(&id).unwrap();
            let new = !x.clients.contains(&c);
            if new {
                x.clients.push(c);
            }
            new
        })
    };
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (s, t, add) = (s.clone(), t.clone(), add(format!("app-{i}")));
            tokio::spawn(async move { s.update_session(&t, &Hash32::of(b"changing"), add).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap().is_some());
    }
    let stored = s.get_session(&t, &sess.key).await.unwrap().unwrap();
    let mut names: Vec<String> = stored.clients.iter().map(|c| c.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        (0..6).map(|i| format!("app-{i}")).collect::<Vec<_>>()
    );
    // No change: nothing written, the stored session answered.
    let same = s
        .update_session(&t, &sess.key, add("app-0".into()))
        .await
        .unwrap();
    assert_eq!(same, Some(stored.clone()));
    // Ended: a change finds nothing and brings nothing back.
    assert!(s.delete_session(&t, &sess.key).await.unwrap().is_some());
    let after = s
        .update_session(&t, &sess.key, add("late".into()))
        .await
        .unwrap();
    assert_eq!(after, None);
    assert_eq!(s.get_session(&t, &sess.key).await.unwrap(), None);
    assert!(
        s.list_sessions(&t, &sess.user_id).await.unwrap().is_empty(),
        "an ended session came back"
    );
    // Another tenant's key is not this tenant's session.
    assert_eq!(
        s.update_session(&tenant(), &sess.key, add("x".into()))
            .await
            .unwrap(),
        None
    );
}

async fn sessions_round_trip<S: Store>(s: &S) {
    let t = tenant();
    let sess = Session {
        tenant: t.clone(),
        key: Hash32::of(b"cookie"),
        user_id: UserId::generate(),
        auth: auth(),
        sid: "sid1".into(),
        created_at: 1_000,
        expires_at: now() + 3_600,
        clients: vec![ClientId::parse("web").unwrap()],
    };
    s.put_session(&sess).await.unwrap();
    assert_eq!(
        s.get_session(&t, &sess.key).await.unwrap(),
        Some(sess.clone())
    );
    assert_eq!(s.get_session(&tenant(), &sess.key).await.unwrap(), None);
    assert_eq!(
        s.delete_session(&t, &sess.key).await.unwrap(),
        Some(sess.clone())
    );
    assert_eq!(s.get_session(&t, &sess.key).await.unwrap(), None);
    assert_eq!(s.delete_session(&t, &sess.key).await.unwrap(), None);

    // A user's sessions, chains and consents are listed by user, and only theirs.
    let (me, other) = (sess.user_id.clone(), UserId::generate());
    let mine: Vec<Session> = [b"one".as_slice(), b"two"]
        .iter()
        .map(|k| Session {
            key: Hash32::of(k),
            ..sess.clone()
        })
        .collect();
    for m in &mine {
        s.put_session(m).await.unwrap();
    }
    s.put_session(&Session {
        key: Hash32::of(b"theirs"),
        user_id: other.clone(),
        ..sess.clone()
    })
    .await
    .unwrap();
    let mut listed = s.list_sessions(&t, &me).await.unwrap();
    listed.sort_by_key(|x| x.key.0);
    let mut want = mine.clone();
    want.sort_by_key(|x| x.key.0);
    assert_eq!(listed, want);
    s.delete_session(&t, &mine[0].key).await.unwrap();
    assert_eq!(s.list_sessions(&t, &me).await.unwrap().len(), 1);
    assert!(s.list_sessions(&tenant(), &me).await.unwrap().is_empty());

    let mut c = chain(&t, Hash32::of(b"listed"));
    c.user_id = me.clone();
    s.create_chain(&c).await.unwrap();
    let mut theirs = chain(&t, Hash32::of(b"not mine"));
    theirs.user_id = other.clone();
    s.create_chain(&theirs).await.unwrap();
    s.revoke_chain(&t, &c.id, RevokeReason::Revoked)
        .await
        .unwrap();
    let chains = s.list_chains(&t, &me).await.unwrap();
    assert_eq!(chains.len(), 1);
    assert_eq!((&chains[0].id, chains[0].revoked.is_some()), (&c.id, true));

    for client in ["app-a", "app-b"] {
        s.put_consent(&Consent {
            tenant: t.clone(),
            user_id: me.clone(),
            client_id: ClientId::parse(client).unwrap(),
            scopes: vec!["openid".into()],
            granted_at: 1_000,
        })
        .await
        .unwrap();
    }
    let mut clients: Vec<String> = s
        .list_consents(&t, &me)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id.to_string())
        .collect();
    clients.sort();
    assert_eq!(clients, ["app-a", "app-b"]);
    assert!(s.list_consents(&t, &other).await.unwrap().is_empty());
    let a = ClientId::parse("app-a").unwrap();
    assert!(s.delete_consent(&t, &me, &a).await.unwrap().is_some());
    assert_eq!(s.get_consent(&t, &me, &a).await.unwrap(), None);
    assert_eq!(s.delete_consent(&t, &me, &a).await.unwrap(), None);
    assert_eq!(s.list_consents(&t, &me).await.unwrap().len(), 1);
}

async fn codes_are_taken_once<S: Store + Clone>(s: &S) {
    let t = tenant();
    let code = AuthCode {
        tenant: t.clone(),
        key: Hash32::of(b"code"),
        client_id: ClientId::parse("app").unwrap(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: "x".into(),
        scope: "openid".into(),
        nonce: None,
        user_id: UserId::generate(),
        auth: auth(),
        sid: None,
        resource: Some("https://api.example/orders".into()),
        dpop_jkt: None,
        expires_at: now() + 60,
    };
    s.put_code(&code).await.unwrap();
    assert_eq!(
        s.take_code(&tenant(), &code.key).await.unwrap(),
        None,
        "code taken from another tenant"
    );
    assert_eq!(
        s.get_code(&tenant(), &code.key).await.unwrap(),
        None,
        "code read from another tenant"
    );
    // Reading a code (to check its client before taking it) leaves it to take.
    assert_eq!(s.get_code(&t, &code.key).await.unwrap(), Some(code.clone()));
    assert_eq!(s.get_code(&t, &code.key).await.unwrap(), Some(code.clone()));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            let (t, k) = (t.clone(), code.key);
            tokio::spawn(async move { s.take_code(&t, &k).await.unwrap() })
        })
        .collect();
    let mut got = 0;
    for task in tasks {
        if let Some(c) = task.await.unwrap() {
            assert_eq!(c, code);
            got += 1;
        }
    }
    assert_eq!(got, 1, "a code was taken more than once");
    assert_eq!(
        s.get_code(&t, &code.key).await.unwrap(),
        None,
        "a taken code still reads as there to take"
    );
}

async fn codes_redeem_with_their_chain<S: Store>(s: &S) {
    let t = tenant();
    let code = |key: &[u8]| AuthCode {
        tenant: t.clone(),
        key: Hash32::of(key),
        client_id: ClientId::parse("app").unwrap(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: "x".into(),
        scope: "openid offline_access".into(),
        nonce: None,
        user_id: UserId::generate(),
        auth: auth(),
        sid: None,
        resource: None,
        dpop_jkt: None,
        expires_at: now() + 600,
    };
    let (with, without) = (code(b"with chain"), code(b"without chain"));
    s.put_code(&with).await.unwrap();
    s.put_code(&without).await.unwrap();
    let c = chain(&t, Hash32::of(b"first"));
    let made = c.clone();
    let (got, created) = s
        .redeem_code(&t, &with.key, Box::new(move |_| Some(made)))
        .await
        .unwrap()
        .expect("code not redeemed");
    assert_eq!((got, created.as_ref()), (with.clone(), Some(&c)));
    assert_eq!(s.get_chain(&t, &c.id).await.unwrap(), Some(c.clone()));
    assert_eq!(
        s.token_generation(&t, &c.id, &c.current_hash)
            .await
            .unwrap(),
        Some(0)
    );
    let again = chain(&t, Hash32::of(b"second"));
    let again_id = again.id.clone();
    assert!(
        s.redeem_code(&t, &with.key, Box::new(move |_| Some(again)))
            .await
            .unwrap()
            .is_none(),
        "a code was redeemed twice"
    );
    assert_eq!(s.get_chain(&t, &again_id).await.unwrap(), None);
    // A code that gets no chain (a wrong verifier) is consumed all the same.
    let (got, created) = s
        .redeem_code(&t, &without.key, Box::new(|_| None))
        .await
        .unwrap()
        .expect("code not redeemed");
    assert_eq!((got, created), (without.clone(), None));
    assert_eq!(s.take_code(&t, &without.key).await.unwrap(), None);
}

/// Many redemptions of one code at once: one wins; every chain the losers may have
/// written on the way is revoked or absent, so only the winner's token is live.
async fn a_code_raced_for_leaves_one_live_chain<S: Store>(s: &S) {
    let t = tenant();
    let code = AuthCode {
        tenant: t.clone(),
        key: Hash32::of(b"raced"),
        client_id: ClientId::parse("app").unwrap(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: "x".into(),
        scope: "openid offline_access".into(),
        nonce: None,
        user_id: UserId::generate(),
        auth: auth(),
        sid: None,
        resource: None,
        dpop_jkt: None,
        expires_at: now() + 600,
    };
    s.put_code(&code).await.unwrap();
    let chains: Vec<Chain> = (0..8u8)
        .map(|i| chain(&t, Hash32::of(&[b'r', i])))
        .collect();
    let answers = futures::future::join_all(chains.iter().map(|c| {
        let c = c.clone();
        s.redeem_code(&t, &code.key, Box::new(move |_| Some(c)))
    }))
    .await;
    let winners: Vec<&Chain> = answers
        .iter()
        .filter_map(|a| a.as_ref().ok()?.as_ref()?.1.as_ref())
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for c in &chains {
        let stored = s.get_chain(&t, &c.id).await.unwrap();
        if c.id == winners[0].id {
            assert_eq!(stored.and_then(|c| c.revoked), None, "the winner's chain");
        } else {
            assert!(
                stored.as_ref().is_none_or(|c| c.revoked.is_some()),
                "a losing redemption left a live chain: {stored:?}"
            );
        }
    }
}

async fn chains_rotate_only_from_the_expected_generation<S: Store>(s: &S) {
    let t = tenant();
    let h0 = Hash32::of(b"t0");
    let c = chain(&t, h0);
    s.create_chain(&c).await.unwrap();
    assert_eq!(s.create_chain(&c).await, Err(StoreError::Conflict));
    let h1 = Hash32::of(b"t1");
    let Rotation::Rotated(r) = s.rotate_chain(&t, &c.id, 0, h1, 1_500).await.unwrap() else {
        panic!("first rotation refused");
    };
    assert_eq!((r.generation, r.current_hash, r.rotated_at), (1, h1, 1_500));
    let Rotation::Stale(st) = s
        .rotate_chain(&t, &c.id, 0, Hash32::of(b"x"), 1_600)
        .await
        .unwrap()
    else {
        panic!("rotation from a stale generation accepted");
    };
    assert_eq!(st.generation, 1);
    assert_eq!(s.token_generation(&t, &c.id, &h0).await.unwrap(), Some(0));
    assert_eq!(s.token_generation(&t, &c.id, &h1).await.unwrap(), Some(1));
    assert_eq!(
        s.token_generation(&t, &c.id, &Hash32::of(b"x"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.rotate_chain(&tenant(), &c.id, 1, Hash32::of(b"y"), 1_600)
            .await
            .unwrap(),
        Rotation::Missing,
        "chain rotated through another tenant"
    );
    assert_eq!(s.get_chain(&t, &c.id).await.unwrap(), Some(r));
}

async fn concurrent_rotations_have_one_winner<S: Store + Clone>(s: &S) {
    let t = tenant();
    let c = chain(&t, Hash32::of(b"start"));
    s.create_chain(&c).await.unwrap();
    let tasks: Vec<_> = (0..16u8)
        .map(|i| {
            let (s, t, id) = (s.clone(), t.clone(), c.id.clone());
            tokio::spawn(async move {
                s.rotate_chain(&t, &id, 0, Hash32::of(&[i]), 2_000)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            Rotation::Rotated(_) => winners += 1,
            // A loser sees the chain as the winner left it.
            Rotation::Stale(now) => assert_eq!(now.generation, 1, "{now:?}"),
            Rotation::Missing => panic!("a racing rotation lost the chain"),
        }
    }
    assert_eq!(winners, 1, "concurrent rotations from one generation");
}

async fn revocation_is_final<S: Store>(s: &S) {
    let t = tenant();
    let c = chain(&t, Hash32::of(b"r0"));
    s.create_chain(&c).await.unwrap();
    let r = s
        .revoke_chain(&t, &c.id, RevokeReason::Reuse)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.revoked, Some(RevokeReason::Reuse));
    // A second revocation keeps the first reason.
    let r2 = s
        .revoke_chain(&t, &c.id, RevokeReason::Revoked)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r2.revoked, Some(RevokeReason::Reuse));
    assert!(matches!(
        s.rotate_chain(&t, &c.id, 0, Hash32::of(b"r1"), 2_000)
            .await
            .unwrap(),
        Rotation::Stale(_)
    ));
    assert_eq!(
        s.revoke_chain(&t, &ChainId::generate(), RevokeReason::Revoked)
            .await
            .unwrap(),
        None
    );
}

async fn keys_and_consent_round_trip<S: Store>(s: &S) {
    let t = tenant();
    let k = |kid: &str, status| StoredKey {
        tenant: t.clone(),
        kid: tollgate_vocab::ids::KeyId::new(kid.into()),
        alg: SigningAlg::RS256,
        status,
        created_at: 1_000,
        retired_at: None,
        public_jwk: serde_json::json!({"kty": "RSA", "kid": kid}),
        sealed_private: "c2VhbGVk".into(),
    };
    s.put_keys(&[k("a", KeyStatus::Active), k("b", KeyStatus::Next)])
        .await
        .unwrap();
    s.put_keys(&[k("a", KeyStatus::Retired)]).await.unwrap();
    let mut keys = s.list_keys(&t).await.unwrap();
    keys.sort_by(|x, y| x.kid.cmp(&y.kid));
    assert_eq!(
        keys.iter().map(|k| k.status).collect::<Vec<_>>(),
        vec![KeyStatus::Retired, KeyStatus::Next]
    );
    assert!(s.list_keys(&tenant()).await.unwrap().is_empty());

    let consent = Consent {
        tenant: t.clone(),
        user_id: UserId::generate(),
        client_id: ClientId::parse("app").unwrap(),
        scopes: vec!["openid".into(), "offline_access".into()],
        granted_at: 1_000,
    };
    s.put_consent(&consent).await.unwrap();
    assert_eq!(
        s.get_consent(&t, &consent.user_id, &consent.client_id)
            .await
            .unwrap(),
        Some(consent.clone())
    );
    assert_eq!(
        s.get_consent(&tenant(), &consent.user_id, &consent.client_id)
            .await
            .unwrap(),
        None
    );
}

async fn denied_tokens_are_remembered<S: Store>(s: &S) {
    let t = tenant();
    s.deny_token(&t, "jti-1", now() + 600).await.unwrap();
    assert!(s.is_token_denied(&t, "jti-1").await.unwrap());
    assert!(!s.is_token_denied(&t, "jti-2").await.unwrap());
    assert!(!s.is_token_denied(&tenant(), "jti-1").await.unwrap());
}

async fn events_come_back_newest_first<S: Store>(s: &S) {
    let t = tenant();
    let ev = |at_ms: u64, kind: &str| Event {
        tenant: t.clone(),
        id: random_token::<8>(),
        at_ms,
        kind: kind.into(),
        actor: None,
        subject: None,
        client: None,
        ip: None,
        result: "success".into(),
        detail: None,
        sealed: None,
        erased: false,
    };
    s.append_events(&[ev(1, "a"), ev(3, "c")]).await.unwrap();
    s.append_events(&[ev(2, "b")]).await.unwrap();
    let kinds: Vec<_> = s
        .recent_events(&t, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["c", "b", "a"]);
    assert_eq!(s.recent_events(&t, 1).await.unwrap().len(), 1);
    assert!(s.recent_events(&tenant(), 10).await.unwrap().is_empty());

    // Queries: by user (actor or subject), kind (exact or prefix), time, pages.
    let by = |at_ms: u64, kind: &str, actor: Option<&str>, subject: Option<&str>| {
        let mut e = ev(at_ms, kind);
        e.actor = actor.map(str::to_owned);
        e.subject = subject.map(str::to_owned);
        e
    };
    s.append_events(&[
        by(10, "login.password", Some("u1"), Some("u1")),
        by(11, "mfa.verify", Some("u1"), Some("u1")),
        by(12, "admin.client_created", Some("admin"), None),
        by(13, "mfa.enrolled", Some("u2"), Some("u2")),
        by(14, "admin.user_created", Some("admin"), Some("u1")),
    ])
    .await
    .unwrap();
    let q = |user: Option<&str>, kind: Option<&str>, since: Option<u64>, until: Option<u64>| {
        EventQuery {
            user: user.map(str::to_owned),
            kind: kind.map(str::to_owned),
            since_ms: since,
            until_ms: until,
            before: None,
            limit: 100,
        }
    };
    let t = &t;
    let run = |q: EventQuery| async move {
        s.query_events(t, &q)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.at_ms)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(q(Some("u1"), None, None, None)).await, [14, 11, 10]);
    assert_eq!(run(q(Some("admin"), None, None, None)).await, [14, 12]);
    assert_eq!(run(q(None, Some("mfa."), None, None)).await, [13, 11]);
    assert_eq!(run(q(None, Some("mfa.verify"), None, None)).await, [11]);
    assert_eq!(run(q(Some("u1"), Some("mfa."), None, None)).await, [11]);
    assert_eq!(run(q(None, None, Some(11), Some(14))).await, [13, 12, 11]);
    assert!(run(q(Some("nobody"), None, None, None)).await.is_empty());
    // Pages of two, continued from the last event of each.
    let mut page_q = q(None, None, Some(10), None);
    page_q.limit = 2;
    let mut seen = Vec::new();
    loop {
        let page = s.query_events(t, &page_q).await.unwrap();
        seen.extend(page.iter().map(|e| e.at_ms));
        match page.last() {
            Some(last) if page.len() == 2 => page_q.before = Some((last.at_ms, last.id.clone())),
            _ => break,
        }
    }
    assert_eq!(seen, [14, 13, 12, 11, 10]);
    assert!(
        s.query_events(&tenant(), &q(Some("u1"), None, None, None))
            .await
            .unwrap()
            .is_empty(),
        "another tenant's events"
    );
}

/// 2026-01-31T23:00:00Z: an hour before a day and a month end.
const JAN_31_23H: u64 = 1_769_900_400_000;
const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

fn event(
    t: &TenantId,
    at_ms: u64,
    kind: &str,
    actor: Option<&str>,
    subject: Option<&str>,
) -> Event {
    Event {
        tenant: t.clone(),
        id: random_token::<8>(),
        at_ms,
        kind: kind.into(),
        actor: actor.map(str::to_owned),
        subject: subject.map(str::to_owned),
        client: None,
        ip: None,
        result: "success".into(),
        detail: None,
        sealed: None,
        erased: false,
    }
}

/// The ids of `events`, newest first (time, then id, descending): what a query returns.
fn newest_first<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<String> {
    let mut v: Vec<&Event> = events.into_iter().collect();
    v.sort_by(|a, b| (b.at_ms, &b.id).cmp(&(a.at_ms, &a.id)));
    v.into_iter().map(|e| e.id.clone()).collect()
}

/// Every page of `q` (pages of `q.limit`, each continued from the last event of the one
/// before), as ids; also checks that no page is longer than the limit.
async fn all_pages<S: Store>(s: &S, t: &TenantId, mut q: EventQuery) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let page = s.query_events(t, &q).await.unwrap();
        assert!(page.len() <= q.limit, "a page longer than its limit");
        seen.extend(page.iter().map(|e| e.id.clone()));
        match page.last() {
            Some(last) if page.len() == q.limit => q.before = Some((last.at_ms, last.id.clone())),
            _ => return seen,
        }
        assert!(seen.len() < 10_000, "pages never end");
    }
}

/// Issue 14, finding 3: a user's events (the sign-in count, the data export) are theirs
/// alone, newest first, across month boundaries, and a limit is a limit.
async fn a_users_events_are_theirs_newest_first_across_months<S: Store>(s: &S) {
    let t = tenant();
    let (u1, u2) = (
        UserId::generate().to_string(),
        UserId::generate().to_string(),
    );
    let (u1, u2) = (u1.as_str(), u2.as_str());
    let mut mine = Vec::new();
    let mut all = Vec::new();
    // u1's events over four months (December to March), some at the month's edges, two
    // in one millisecond; u2's and the tenant's own in between.
    let at = [
        JAN_31_23H - 40 * DAY,
        JAN_31_23H - 1,
        JAN_31_23H + HOUR - 1,
        JAN_31_23H + HOUR,
        JAN_31_23H + HOUR,
        JAN_31_23H + HOUR + 1,
        JAN_31_23H + 35 * DAY,
    ];
    for (i, at) in at.into_iter().enumerate() {
        let e = match i % 3 {
            0 => event(&t, at, "login.password", Some(u1), Some(u1)),
            1 => event(&t, at, "admin.user_updated", Some("admin"), Some(u1)),
            _ => event(&t, at, "mfa.verify", Some(u1), None),
        };
        mine.push(e.clone());
        all.push(e);
        all.push(event(&t, at, "login.password", Some(u2), Some(u2)));
        all.push(event(
            &t,
            at + 1,
            "admin.client_created",
            Some("admin"),
            None,
        ));
    }
    all.push(event(
        &t,
        JAN_31_23H,
        "user.purged",
        Some("system"),
        Some(u2),
    ));
    for chunk in all.chunks(5) {
        s.append_events(chunk).await.unwrap();
    }
    let by = |user: &str, limit: usize| EventQuery {
        user: Some(user.to_owned()),
        limit,
        ..EventQuery::default()
    };
    let ids = |events: Vec<Event>| events.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let expected = newest_first(&mine);
    assert_eq!(
        ids(s.query_events(&t, &by(u1, 100)).await.unwrap()),
        expected
    );
    assert_eq!(
        ids(s.query_events(&t, &by(u1, 3)).await.unwrap()),
        expected[..3],
        "the newest three, not any three"
    );
    assert_eq!(all_pages(s, &t, by(u1, 2)).await, expected, "pages of two");
    assert_eq!(all_pages(s, &t, by(u1, 1)).await, expected, "pages of one");
    // A window that starts and ends on a month boundary (since inclusive, until exclusive).
    let feb = EventQuery {
        since_ms: Some(JAN_31_23H + HOUR),
        until_ms: Some(JAN_31_23H + 35 * DAY),
        ..by(u1, 100)
    };
    let in_feb = newest_first(
        mine.iter()
            .filter(|e| e.at_ms >= JAN_31_23H + HOUR && e.at_ms < JAN_31_23H + 35 * DAY),
    );
    assert_eq!(in_feb.len(), 3);
    assert_eq!(ids(s.query_events(&t, &feb).await.unwrap()), in_feb);
    assert_eq!(
        all_pages(s, &t, EventQuery { limit: 1, ..feb }).await,
        in_feb
    );
    // Kinds, as the sign-in count asks for them.
    let logins = EventQuery {
        kind: Some("login.".into()),
        ..by(u1, 100)
    };
    let expected_logins = newest_first(mine.iter().filter(|e| e.kind.starts_with("login.")));
    assert_eq!(
        ids(s.query_events(&t, &logins).await.unwrap()),
        expected_logins
    );
    assert_eq!(
        all_pages(s, &t, EventQuery { limit: 1, ..logins }).await,
        expected_logins
    );
    // u2: their own events and the one a system job recorded about them, nothing of u1's.
    let theirs = newest_first(
        all.iter()
            .filter(|e| e.actor.as_deref() == Some(u2) || e.subject.as_deref() == Some(u2)),
    );
    assert_eq!(theirs.len(), 8);
    assert_eq!(ids(s.query_events(&t, &by(u2, 100)).await.unwrap()), theirs);
    assert!(
        s.query_events(&t, &by("nobody", 100))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.query_events(&tenant(), &by(u1, 100))
            .await
            .unwrap()
            .is_empty(),
        "another tenant's user of the same id"
    );
}

/// Issue 14, finding 3: the tenant's trail, however it is partitioned (by hour and
/// bucket on ScyllaDB), reads back newest first; windows and pages cross hours, days and
/// gaps of empty days exactly; limits are limits.
async fn event_windows_and_pages_cross_hours_and_days<S: Store>(s: &S) {
    let t = tenant();
    let mut all = Vec::new();
    // Every 7 minutes for 3 hours around midnight (several events per hour, so over
    // several buckets), a burst of 20 in one hour, 3 in one millisecond, then one event
    // three days earlier (a gap of empty hours and days).
    for k in 0..26 {
        let kind = if k % 4 == 0 {
            "mfa.verify"
        } else {
            "login.password"
        };
        all.push(event(
            &t,
            JAN_31_23H - HOUR + k * 7 * 60_000,
            kind,
            None,
            None,
        ));
    }
    for k in 0..20 {
        all.push(event(
            &t,
            JAN_31_23H + 10 * 60_000 + k,
            "token.issued",
            None,
            None,
        ));
    }
    for _ in 0..3 {
        all.push(event(&t, JAN_31_23H + HOUR, "token.issued", None, None));
    }
    all.push(event(
        &t,
        JAN_31_23H - 3 * DAY,
        "tenant.created",
        Some("admin"),
        None,
    ));
    s.append_events(&all[..10]).await.unwrap();
    for e in &all[10..] {
        s.append_events(std::slice::from_ref(e)).await.unwrap();
    }
    let expected = newest_first(&all);
    let ids = |events: Vec<Event>| events.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(s.recent_events(&t, 1000).await.unwrap()), expected);
    assert_eq!(ids(s.recent_events(&t, 7).await.unwrap()), expected[..7]);
    let q = |since: Option<u64>, until: Option<u64>, limit: usize| EventQuery {
        since_ms: since,
        until_ms: until,
        limit,
        ..EventQuery::default()
    };
    let within =
        |since: Option<u64>, until: Option<u64>| {
            newest_first(all.iter().filter(|e| {
                since.is_none_or(|s| e.at_ms >= s) && until.is_none_or(|u| e.at_ms < u)
            }))
        };
    // Windows on hour and day boundaries, and inside an hour.
    for (since, until) in [
        (None, None),
        (Some(JAN_31_23H), Some(JAN_31_23H + HOUR)),
        (Some(JAN_31_23H), Some(JAN_31_23H + HOUR + 1)),
        (Some(JAN_31_23H - HOUR), Some(JAN_31_23H + 2 * HOUR)),
        (
            Some(JAN_31_23H + 10 * 60_000 + 5),
            Some(JAN_31_23H + 10 * 60_000 + 15),
        ),
        (None, Some(JAN_31_23H - HOUR)),
        (Some(JAN_31_23H - 3 * DAY), Some(JAN_31_23H - 3 * DAY + 1)),
        (Some(JAN_31_23H + 2 * HOUR), None),
        (None, Some(0)),
    ] {
        let want = within(since, until);
        let got = ids(s.query_events(&t, &q(since, until, 1000)).await.unwrap());
        assert_eq!(got, want, "window {since:?}..{until:?}");
        for limit in [1, 3, 8] {
            assert_eq!(
                all_pages(s, &t, q(since, until, limit)).await,
                want,
                "window {since:?}..{until:?} in pages of {limit}"
            );
        }
    }
    // A kind filter, paged across the hours.
    let mfa = EventQuery {
        kind: Some("mfa.".into()),
        ..q(None, None, 2)
    };
    assert_eq!(
        all_pages(s, &t, mfa).await,
        newest_first(all.iter().filter(|e| e.kind == "mfa.verify"))
    );
    let admin = EventQuery {
        user: Some("admin".into()),
        ..q(None, None, 10)
    };
    assert_eq!(
        ids(s.query_events(&t, &admin).await.unwrap()),
        newest_first(all.iter().filter(|e| e.actor.as_deref() == Some("admin")))
    );
}

/// Whatever removes expired rows (the backend's sweep, or its native TTLs), an expired
/// row is gone once the sweep has run, and a live one is not.
async fn expired_rows_are_swept<S: Store>(s: &S) {
    let t = tenant();
    let expires_at = now() + 1;
    let code = AuthCode {
        tenant: t.clone(),
        key: Hash32::of(b"old-code"),
        client_id: ClientId::parse("app").unwrap(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: "x".into(),
        scope: "openid".into(),
        nonce: None,
        user_id: UserId::generate(),
        auth: auth(),
        sid: None,
        resource: None,
        dpop_jkt: None,
        expires_at,
    };
    s.put_code(&code).await.unwrap();
    let live = Session {
        tenant: t.clone(),
        key: Hash32::of(b"live"),
        user_id: UserId::generate(),
        auth: auth(),
        sid: "s".into(),
        created_at: 1,
        expires_at: u64::MAX / 2,
        clients: Vec::new(),
    };
    s.put_session(&live).await.unwrap();
    // A chain, a session and a challenge that expire with the code, beside live ones.
    let old_chain = Chain {
        expires_at,
        ..chain(&t, Hash32::of(b"old-chain"))
    };
    s.create_chain(&old_chain).await.unwrap();
    let live_chain = chain(&t, Hash32::of(b"live-chain"));
    s.create_chain(&live_chain).await.unwrap();
    let old_session = Session {
        key: Hash32::of(b"old-session"),
        expires_at,
        ..live.clone()
    };
    s.put_session(&old_session).await.unwrap();
    let challenge = |key: &[u8], expires_at| Challenge {
        tenant: t.clone(),
        key: Hash32::of(key),
        purpose: "email_code".into(),
        user_id: None,
        data: serde_json::json!({}),
        tries_left: 5,
        expires_at,
    };
    s.put_challenge(&challenge(b"old-challenge", expires_at))
        .await
        .unwrap();
    s.put_challenge(&challenge(b"live-challenge", now() + 600))
        .await
        .unwrap();
    // Let the wall clock pass the expiry, with a second to spare for a server whose clock
    // is slightly behind (a backend with TTLs expires rows by its own clock).
    while now() <= expires_at + 1 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    s.sweep_expired(now()).await.unwrap();
    assert_eq!(
        s.take_code(&t, &code.key).await.unwrap(),
        None,
        "expired code survived the sweep"
    );
    assert!(
        s.get_session(&t, &live.key).await.unwrap().is_some(),
        "sweep removed a live row"
    );
    assert_eq!(
        s.get_chain(&t, &old_chain.id).await.unwrap(),
        None,
        "expired chain"
    );
    assert!(s.get_chain(&t, &live_chain.id).await.unwrap().is_some());
    assert_eq!(
        s.get_session(&t, &old_session.key).await.unwrap(),
        None,
        "expired session"
    );
    assert_eq!(
        s.get_challenge(&t, &Hash32::of(b"old-challenge"))
            .await
            .unwrap(),
        None,
        "expired challenge"
    );
    assert!(
        s.get_challenge(&t, &Hash32::of(b"live-challenge"))
            .await
            .unwrap()
            .is_some()
    );
}
