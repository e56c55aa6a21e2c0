//! Account deletion with crypto-shredding, on the embedded store: personal fields are
//! sealed at rest under each user's data key; deleting the account destroys that key, so
//! the user's record and the personal details of their events cannot be read again —
//! not even from a copy of the record restored from a backup taken before the deletion —
//! while other users' data stays readable. The purge job then removes the row.

use std::sync::Arc;

use tollgate_engine::clock::SystemClock;
use tollgate_engine::crypto::{MasterKey, random_token};
use tollgate_engine::ids::{Email, TenantId};
use tollgate_engine::model::SigningAlg;
use tollgate_engine::store::{EventQuery, Store};
use tollgate_engine::{Engine, EngineConfig, EngineError, EngineMetrics, RequestMeta};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

const IP: &str = "203.0.113.7";

fn engine(store: Arc<dyn Store>) -> Engine {
    let mut config = EngineConfig::new("https://id.example.com");
    config.purge_after_secs = 0;
    Engine::start(
        store,
        Arc::new(SystemClock),
        MasterKey::from_bytes([9; 32]),
        config,
        EngineMetrics::register(&prometheus::Registry::new()),
    )
    .unwrap()
}

fn by_user(user: &str) -> EventQuery {
    EventQuery {
        user: Some(user.to_owned()),
        limit: 100,
        ..EventQuery::default()
    }
}

#[test]
fn deletion_shreds_personal_data_and_spares_other_users() {
    actix::System::new().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap());
        let e = engine(store.clone());
        let id = format!(
            "t{}",
            random_token::<6>().to_lowercase().replace(['_', '-'], "x")
        );
        e.admin()
            .create_tenant(&id, "Shop", SigningAlg::RS256)
            .await
            .unwrap();
        let t = TenantId::parse(&id).unwrap();
        let ada = e
            .admin()
            .create_user(
                &t,
                "ada@example.com",
                "ada password 1",
                Some("Ada Lovelace".into()),
                true,
            )
            .await
            .unwrap();
        let bob = e
            .admin()
            .create_user(
                &t,
                "bob@example.com",
                "bob password 1",
                Some("Bob Babbage".into()),
                true,
            )
            .await
            .unwrap();
        let meta = RequestMeta {
            ip: Some(IP.into()),
        };
        for (email, pw) in [
            ("ada@example.com", "ada password 1"),
            ("bob@example.com", "bob password 1"),
        ] {
            e.signin()
                .password_login(&t, email, pw, &meta)
                .await
                .unwrap()
                .session()
                .unwrap();
        }

        // Sign-in events ride in the store's next group commit: an empty append is a
        // write, answered only by a commit that carries every event handed over before it.
        store.append_events(&[]).await.unwrap();
        // At rest, the record holds neither the address nor the name, and events hold no IP.
        let backup = store.get_user(&t, &ada.id).await.unwrap().unwrap();
        let raw = serde_json::to_string(&backup).unwrap();
        assert!(
            !raw.contains("ada@example.com") && !raw.contains("Lovelace"),
            "{raw}"
        );
        let raw_events = store
            .query_events(&t, &by_user(ada.id.as_str()))
            .await
            .unwrap();
        assert!(
            raw_events
                .iter()
                .filter(|ev| ev.kind == "login.password")
                .count()
                == 1,
            "{raw_events:?}"
        );
        assert!(
            raw_events.iter().all(|ev| ev.ip.is_none()),
            "an IP address is stored in clear"
        );
        assert!(raw_events.iter().any(|ev| ev.sealed.is_some()));
        // Read through the engine, they open.
        let events = e
            .admin()
            .query_events(&t, by_user(ada.id.as_str()))
            .await
            .unwrap();
        assert!(
            events.iter().any(|ev| ev.ip.as_deref() == Some(IP)),
            "{events:?}"
        );
        let read = e.user(&t, &ada.id).await.unwrap().unwrap();
        assert_eq!(read.name.as_deref(), Some("Ada Lovelace"));

        e.account()
            .delete_user(&t, &ada.id, ada.id.as_str(), &meta)
            .await
            .unwrap();

        // Ada is gone: not found by id or by email, cannot sign in, her key is destroyed.
        assert!(e.user(&t, &ada.id).await.unwrap().is_none());
        let addr = Email::parse("ada@example.com").unwrap();
        assert!(e.user_by_email(&t, &addr).await.unwrap().is_none());
        let refused = e
            .signin()
            .password_login(&t, "ada@example.com", "ada password 1", &meta)
            .await;
        assert!(
            matches!(refused, Err(EngineError::InvalidCredentials)),
            "{:?}",
            refused.map(|_| "signed in")
        );
        assert!(store.get_user_key(&t, &ada.id).await.unwrap().is_none());
        // Her events keep their shape but their personal details are erased (the refused
        // sign-in's event included, once committed); the tombstone says what happened.
        store.append_events(&[]).await.unwrap();
        let events = e
            .admin()
            .query_events(&t, by_user(ada.id.as_str()))
            .await
            .unwrap();
        assert!(events.iter().all(|ev| ev.ip.is_none()), "{events:?}");
        assert!(events.iter().any(|ev| ev.erased));
        let tomb = events
            .iter()
            .find(|ev| ev.kind == "user.deleted")
            .expect("no tombstone");
        assert_eq!(tomb.subject.as_deref(), Some(ada.id.as_str()));
        // Bob is untouched.
        let bob_read = e.user(&t, &bob.id).await.unwrap().unwrap();
        assert_eq!(bob_read.name.as_deref(), Some("Bob Babbage"));
        let events = e
            .admin()
            .query_events(&t, by_user(bob.id.as_str()))
            .await
            .unwrap();
        assert!(
            events.iter().any(|ev| ev.ip.as_deref() == Some(IP)),
            "{events:?}"
        );
        assert!(events.iter().all(|ev| !ev.erased));

        // The purge removes the row; the address can be used for a new account.
        assert_eq!(e.account().purge_deleted_users().await.unwrap(), 1);
        assert_eq!(e.account().purge_deleted_users().await.unwrap(), 0);
        assert!(store.get_user(&t, &ada.id).await.unwrap().is_none());

        // A backup of the record taken before the deletion, restored now, opens nothing.
        store.create_user(&backup).await.unwrap();
        assert!(e.user(&t, &ada.id).await.unwrap().is_none());
        assert!(e.user_by_email(&t, &addr).await.unwrap().is_none());
        // A fresh engine (no cached keys) on the same store cannot read it either.
        let fresh = engine(store.clone());
        assert!(fresh.user(&t, &ada.id).await.unwrap().is_none());
        assert!(fresh.user(&t, &bob.id).await.unwrap().is_some());
    });
}

/// Every byte of every file under `dir`: the journal and old table versions included.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.extend_from_slice(&bytes);
            }
        }
    }
    out
}

/// Case-insensitive search: only positions where the first byte matches are compared
/// (a byte-by-byte window over the files is slow in a debug build).
fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.to_ascii_lowercase().into_bytes();
    let first = needle[0];
    let mut at = 0;
    while let Some(i) = haystack[at..]
        .iter()
        .position(|b| b.to_ascii_lowercase() == first)
    {
        let start = at + i;
        if haystack.len() - start < needle.len() {
            return false;
        }
        if haystack[start..start + needle.len()].eq_ignore_ascii_case(&needle) {
            return true;
        }
        at = start + 1;
    }
    false
}

#[test]
fn personal_data_is_never_in_the_store_files_in_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let (email, name) = ("zebulon.quux.7431@erasure.example", "Zebulon Quux-Erasmus");
    actix::System::new().block_on(async {
        let store: Arc<dyn Store> =
            Arc::new(EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap());
        let e = engine(store.clone());
        e.admin()
            .create_tenant("scan", "Plaintext Control Marker", SigningAlg::RS256)
            .await
            .unwrap();
        let t = TenantId::parse("scan").unwrap();
        let user = e
            .admin()
            .create_user(&t, email, "a long enough password", Some(name.into()), true)
            .await
            .unwrap();
        let meta = RequestMeta {
            ip: Some(IP.into()),
        };
        e.signin()
            .password_login(&t, email, "a long enough password", &meta)
            .await
            .unwrap();
        // A failed sign-in too: its event names the account.
        let _ = e
            .signin()
            .password_login(&t, email, "not the password", &meta)
            .await;
        e.account()
            .delete_user(&t, &user.id, "admin", &meta)
            .await
            .unwrap();
        e.account().purge_deleted_users().await.unwrap();
    });
    let bytes = all_bytes(dir.path());
    eprintln!("scanned {} bytes of store files", bytes.len());
    // The scan sees what is written: a tenant's display name is not personal, and plain.
    assert!(
        contains(&bytes, "Plaintext Control Marker"),
        "the scan does not see the store's data"
    );
    for secret in [email, name, "zebulon", IP] {
        assert!(
            !contains(&bytes, secret),
            "{secret:?} is in the store's files in plain text"
        );
    }
}
