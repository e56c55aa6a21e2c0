//! SCIM: a user's SCIM record changes only from the version it was read at, and the
//! `externalId` index follows it (moved, shared by two users, removed with the record).

use super::tenant;
use crate::*;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::scim::ScimUser;

fn record(t: &TenantId, u: &UserId, version: u64, external: Option<&str>) -> ScimUser {
    ScimUser {
        tenant: t.clone(),
        user_id: u.clone(),
        active: true,
        version,
        external_key: external.map(str::to_owned),
        attributes: format!("c2VhbGVk{version}"),
        created_at: 1_000,
        updated_at: 1_000 + version,
    }
}

pub(super) async fn scim_users_change_by_version_with_their_index<S: Store>(s: &S) {
    let (t, other) = (tenant(), tenant());
    let (u, v) = (UserId::generate(), UserId::generate());
    assert_eq!(s.get_scim_user(&t, &u).await.unwrap(), None);
    assert!(
        s.find_scim_users_by_external(&t, "k1")
            .await
            .unwrap()
            .is_empty()
    );

    // The first write needs "none yet"; a second "first write" loses.
    let first = record(&t, &u, 1, Some("k1"));
    assert!(s.put_scim_user(&first, None).await.unwrap());
    assert!(
        !s.put_scim_user(&record(&t, &u, 1, Some("k9")), None)
            .await
            .unwrap()
    );
    assert_eq!(s.get_scim_user(&t, &u).await.unwrap(), Some(first.clone()));
    assert_eq!(
        s.find_scim_users_by_external(&t, "k1").await.unwrap(),
        vec![u.clone()]
    );
    assert!(
        s.find_scim_users_by_external(&t, "k9")
            .await
            .unwrap()
            .is_empty()
    );

    // A write from a stale version changes nothing; from the current one it lands and
    // moves the index to the new key.
    let mut second = record(&t, &u, 2, Some("k2"));
    second.active = false;
    assert!(!s.put_scim_user(&second, Some(0)).await.unwrap());
    assert!(s.put_scim_user(&second, Some(1)).await.unwrap());
    assert!(
        !s.put_scim_user(&record(&t, &u, 2, None), Some(1))
            .await
            .unwrap()
    );
    assert_eq!(s.get_scim_user(&t, &u).await.unwrap(), Some(second.clone()));
    assert!(
        s.find_scim_users_by_external(&t, "k1")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.find_scim_users_by_external(&t, "k2").await.unwrap(),
        vec![u.clone()]
    );

    // Two users may share an external key; another tenant sees neither.
    assert!(
        s.put_scim_user(&record(&t, &v, 1, Some("k2")), None)
            .await
            .unwrap()
    );
    let mut both = s.find_scim_users_by_external(&t, "k2").await.unwrap();
    both.sort();
    let mut want = vec![u.clone(), v.clone()];
    want.sort();
    assert_eq!(both, want);
    assert!(
        s.find_scim_users_by_external(&other, "k2")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.get_scim_user(&other, &u).await.unwrap(), None);

    // Dropping the key clears the index entry.
    assert!(
        s.put_scim_user(&record(&t, &v, 2, None), Some(1))
            .await
            .unwrap()
    );
    assert_eq!(
        s.find_scim_users_by_external(&t, "k2").await.unwrap(),
        vec![u.clone()]
    );

    // Deletion removes the record and its entry, idempotently, and only that user's.
    s.delete_scim_user(&t, &u).await.unwrap();
    s.delete_scim_user(&t, &u).await.unwrap();
    assert_eq!(s.get_scim_user(&t, &u).await.unwrap(), None);
    assert!(
        s.find_scim_users_by_external(&t, "k2")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.get_scim_user(&t, &v).await.unwrap().is_some());
    // A deleted record can be written afresh.
    assert!(
        s.put_scim_user(&record(&t, &u, 1, None), None)
            .await
            .unwrap()
    );
}
