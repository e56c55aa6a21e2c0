//! Children's records: one per user and tenant, replaced only from the state read (one
//! winner of two uses of a parent link), pending ones listed soonest expiry first, erased
//! per user.

use super::tenant;
use crate::*;
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::children::{ChildRecord, ChildState, ParentRef};

fn pending(t: &TenantId, u: &UserId, expires_at: UnixTime) -> ChildRecord {
    ChildRecord {
        tenant: t.clone(),
        user: u.clone(),
        created_at: 1_000,
        state: ChildState::Pending {
            link: Hash32::of(u.as_str().as_bytes()),
            expires_at,
        },
    }
}

pub(super) async fn child_records_change_once_from_pending<S: Store + Clone>(s: &S) {
    let (t, other) = (tenant(), tenant());
    let (a, b, c) = (UserId::generate(), UserId::generate(), UserId::generate());
    assert_eq!(s.get_child(&t, &a).await.unwrap(), None);
    assert!(s.list_pending_children(&t, 10).await.unwrap().is_empty());

    let (pa, pb, pc) = (
        pending(&t, &a, 9_000),
        pending(&t, &b, 5_000),
        pending(&t, &c, 7_000),
    );
    for r in [&pa, &pb, &pc] {
        s.put_child(r).await.unwrap();
    }
    s.put_child(&pending(&other, &a, 1)).await.unwrap();
    assert_eq!(s.get_child(&t, &a).await.unwrap(), Some(pa.clone()));
    assert_eq!(
        s.list_pending_children(&t, 10).await.unwrap(),
        vec![pb.clone(), pc.clone(), pa.clone()]
    );
    assert_eq!(
        s.list_pending_children(&t, 2).await.unwrap(),
        vec![pb.clone(), pc.clone()]
    );

    // Two consents from the same pending state at once: exactly one is written.
    let active = |parent: &str| ChildRecord {
        state: ChildState::Active {
            parent: ParentRef::Verified {
                connector: "digilocker".into(),
                subject_hash: parent.into(),
            },
            consented_at: 2_000,
        },
        ..pa.clone()
    };
    let (x, y) = (active("x"), active("y"));
    let (s1, s2) = (s.clone(), s.clone());
    let (pa1, pa2) = (pa.clone(), pa.clone());
    let (xx, yy) = (x.clone(), y.clone());
    let (r1, r2) = tokio::join!(
        async move { s1.update_child(&xx, &pa1).await.unwrap() },
        async move { s2.update_child(&yy, &pa2).await.unwrap() }
    );
    assert!(r1 ^ r2, "one of two updates from one state wins");
    let now = s.get_child(&t, &a).await.unwrap().unwrap();
    assert_eq!(now, if r1 { x.clone() } else { y.clone() });
    // An active record is no longer listed as pending; a stale update is refused.
    assert_eq!(
        s.list_pending_children(&t, 10).await.unwrap(),
        vec![pb.clone(), pc.clone()]
    );
    assert!(!s.update_child(&pa, &pa).await.unwrap());
    // Replacing an active record back to pending lists it again (a fresh sign-up).
    assert!(s.update_child(&pending(&t, &a, 8_000), &now).await.unwrap());
    assert_eq!(s.list_pending_children(&t, 10).await.unwrap().len(), 3);

    s.delete_child(&t, &b).await.unwrap();
    s.delete_child(&t, &b).await.unwrap();
    assert_eq!(s.get_child(&t, &b).await.unwrap(), None);
    assert!(
        !s.update_child(&pb, &pb).await.unwrap(),
        "gone: nothing to update"
    );
    assert_eq!(
        s.list_pending_children(&t, 10).await.unwrap(),
        vec![pc.clone(), pending(&t, &a, 8_000)]
    );
    // The other tenant's record is untouched by all of this.
    assert_eq!(
        s.list_pending_children(&other, 10).await.unwrap(),
        vec![pending(&other, &a, 1)]
    );
}
