//! The verification record keeper (`engine.verify()`), on the embedded store: results are
//! stored sealed under the user's data key and come back opened; every result and failure
//! is an audit event with a machine code and no personal data; keyed hashes differ per
//! tenant and purpose; deleting the account removes them and the export has none.

use std::sync::Arc;

use tollgate_engine::clock::SystemClock;
use tollgate_engine::crypto::{MasterKey, random_token};
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_engine::model::SigningAlg;
use tollgate_engine::model::verification::{NameMatch, Verification, VerificationMethod};
use tollgate_engine::store::{EventQuery, Store};
use tollgate_engine::{Engine, EngineConfig, EngineMetrics, RequestMeta};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

fn engine(store: Arc<dyn Store>, master: [u8; 32]) -> Engine {
    Engine::start(
        store,
        Arc::new(SystemClock),
        MasterKey::from_bytes(master),
        EngineConfig::new("https://id.example.com"),
        EngineMetrics::register(&prometheus::Registry::new()),
    )
    .unwrap()
}

fn tenant_id() -> String {
    format!(
        "t{}",
        random_token::<6>().to_lowercase().replace(['_', '-'], "x")
    )
}

fn aadhaar(e: &Engine, t: &TenantId) -> Verification {
    Verification {
        id: String::new(),
        method: VerificationMethod::AadhaarOffline,
        verified_at: e.now(),
        issued_at: Some(e.now() - 3600),
        name_match: NameMatch::Partial,
        aadhaar_last4: Some("4821".into()),
        name_hash: Some(e.verify().keyed_hash(t, "kyc-name", "ravi kumar")),
        dob_hash: None,
        mobile_match: Some(true),
        email_match: None,
    }
}

#[test]
fn results_are_sealed_audited_listed_and_erased() {
    actix::System::new().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap());
        let e = engine(store.clone(), [7; 32]);
        let id = tenant_id();
        e.admin()
            .create_tenant(&id, "Shop", SigningAlg::RS256)
            .await
            .unwrap();
        let t = TenantId::parse(&id).unwrap();
        let tenant = e.tenant(&t).await.unwrap();
        let user = e
            .admin()
            .create_user(&t, "ravi@example.com", "ravi password 1", None, true)
            .await
            .unwrap();
        let meta = RequestMeta {
            ip: Some("203.0.113.9".into()),
        };

        assert!(e.verify().list(&t, &user.id).await.unwrap().is_empty());
        let v = aadhaar(&e, &t);
        e.verify()
            .record(&tenant, &user.id, v.clone(), &meta)
            .await
            .unwrap();
        e.verify()
            .failed(
                &tenant,
                &user.id,
                VerificationMethod::Truecaller,
                "bad_signature",
                &meta,
            )
            .await
            .unwrap();
        // A caller passing free text instead of a code does not reach the trail.
        e.verify()
            .failed(
                &tenant,
                &user.id,
                VerificationMethod::AadhaarOffline,
                "Ravi Kumar 4821",
                &meta,
            )
            .await
            .unwrap();

        let listed = e.verify().list(&t, &user.id).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(
            !listed[0].id.is_empty(),
            "an empty id is given a random one"
        );
        assert_eq!(
            Verification {
                id: listed[0].id.clone(),
                ..v
            },
            listed[0]
        );

        // At rest: sealed. The last four digits and the hash are not in the clear.
        let rows = store.list_verifications(&t, &user.id).await.unwrap();
        assert_eq!(rows.len(), 1);
        let raw = format!("{:?} {}", rows[0], rows[0].sealed);
        assert!(
            !raw.contains("4821") && !raw.contains("aadhaar_offline"),
            "{raw}"
        );
        // Another engine (another master key) cannot open it.
        let stranger = engine(store.clone(), [8; 32]);
        assert!(stranger.verify().list(&t, &user.id).await.is_err());

        // Events: method and result, a machine code, no personal data.
        let mut events = store
            .query_events(
                &t,
                &EventQuery {
                    kind: Some("verify.".into()),
                    limit: 10,
                    ..EventQuery::default()
                },
            )
            .await
            .unwrap();
        e.open_events(&mut events).await.unwrap();
        let mut seen: Vec<(String, String, Option<String>)> = events
            .iter()
            .map(|ev| (ev.kind.clone(), ev.result.clone(), ev.detail.clone()))
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                (
                    "verify.aadhaar_offline".into(),
                    "failure".into(),
                    Some("invalid_code".into())
                ),
                (
                    "verify.aadhaar_offline".into(),
                    "success".into(),
                    Some("name_match:partial".into())
                ),
                (
                    "verify.truecaller".into(),
                    "failure".into(),
                    Some("bad_signature".into())
                ),
            ]
        );
        for ev in &events {
            assert_eq!(ev.subject.as_deref(), Some(user.id.as_str()));
            let all = format!("{ev:?}");
            assert!(!all.contains("4821") && !all.contains("Ravi"), "{all}");
        }

        // Keyed hashes: stable, per tenant, per purpose.
        let other = TenantId::parse(&tenant_id()).unwrap();
        let h = |t: &TenantId, p: &str, v: &str| e.verify().keyed_hash(t, p, v);
        assert_eq!(h(&t, "kyc-name", "ravi kumar").len(), 64);
        assert_eq!(
            h(&t, "kyc-name", "ravi kumar"),
            h(&t, "kyc-name", "ravi kumar")
        );
        assert_ne!(
            h(&t, "kyc-name", "ravi kumar"),
            h(&other, "kyc-name", "ravi kumar")
        );
        assert_ne!(
            h(&t, "kyc-name", "ravi kumar"),
            h(&t, "kyc-dob", "ravi kumar")
        );
        assert_ne!(
            h(&t, "kyc-name", "ravi kumar"),
            h(&t, "kyc-name", "ravi kumar ")
        );
        assert_ne!(
            h(&t, "kyc-name", "ravi kumar"),
            stranger.verify().keyed_hash(&t, "kyc-name", "ravi kumar")
        );

        // The export carries them, opened.
        let export = e
            .account()
            .export_user(&t, &user.id, user.id.as_str(), &meta)
            .await
            .unwrap();
        let exported = &export["verifications"];
        assert_eq!(exported.as_array().map(Vec::len), Some(1), "{export}");
        assert_eq!(exported[0]["method"], "aadhaar_offline");
        assert_eq!(exported[0]["aadhaar_last4"], "4821");
        assert_eq!(exported[0]["name_match"], "partial");

        // Deletion removes them from the store; nothing opens for the deleted user.
        e.account()
            .delete_user(&t, &user.id, user.id.as_str(), &meta)
            .await
            .unwrap();
        assert!(
            store
                .list_verifications(&t, &user.id)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(e.verify().list(&t, &user.id).await.unwrap().is_empty());
        // A deleted (or unknown) user gets nothing recorded.
        assert!(
            e.verify()
                .record(&tenant, &user.id, aadhaar(&e, &t), &meta)
                .await
                .is_err()
        );
        assert!(
            e.verify()
                .record(&tenant, &UserId::generate(), aadhaar(&e, &t), &meta)
                .await
                .is_err()
        );
        assert!(
            store
                .list_verifications(&t, &user.id)
                .await
                .unwrap()
                .is_empty()
        );
    });
}
