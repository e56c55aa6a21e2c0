//! Retention: activity records, dormancy notices set by compare-and-set, legal holds, the
//! walk of inactive users, and the purge of the audit trail by time.

use super::{event, tenant};
use crate::*;
use tollgate_vocab::ids::UserId;
use tollgate_vocab::model::retention::{DormancyNotice, LegalHold};

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

pub(super) async fn activity_notices_and_holds<S: Store>(s: &S) {
    let t = tenant();
    let u = UserId::generate();
    assert_eq!(s.get_activity(&t, &u).await.unwrap(), None);
    // Nothing to set a notice or a hold on yet.
    let n1 = DormancyNotice {
        cycle: 1_000,
        claimed_at: 5_000,
        sent_at: None,
        channel: None,
        erase_after: None,
    };
    assert!(
        !s.update_dormancy_notice(&t, &u, None, Some(&n1))
            .await
            .unwrap()
    );
    let hold = LegalHold {
        reason: "litigation 42".into(),
        set_by: "admin".into(),
        set_at: 6_000,
    };
    assert!(!s.set_legal_hold(&t, &u, Some(&hold)).await.unwrap());

    s.touch_activity(&t, &u, 1_000).await.unwrap();
    // An earlier time does not move it back.
    s.touch_activity(&t, &u, 900).await.unwrap();
    let a = s.get_activity(&t, &u).await.unwrap().unwrap();
    assert_eq!((a.last_active, &a.notice, &a.hold), (1_000, &None, &None));
    assert_eq!(
        (a.tenant.clone(), a.user_id.clone()),
        (t.clone(), u.clone())
    );

    // One claim of a cycle wins; a second made from the same (empty) state loses.
    assert!(
        s.update_dormancy_notice(&t, &u, None, Some(&n1))
            .await
            .unwrap()
    );
    assert!(
        !s.update_dormancy_notice(&t, &u, None, Some(&n1))
            .await
            .unwrap()
    );
    let sent = DormancyNotice {
        sent_at: Some(5_001),
        channel: Some("email".into()),
        erase_after: Some(5_001 + 48 * 3600),
        ..n1.clone()
    };
    // From a stale expectation: refused, nothing changes.
    assert!(
        !s.update_dormancy_notice(&t, &u, Some(&sent), Some(&n1))
            .await
            .unwrap()
    );
    assert!(
        s.update_dormancy_notice(&t, &u, Some(&n1), Some(&sent))
            .await
            .unwrap()
    );
    assert!(s.set_legal_hold(&t, &u, Some(&hold)).await.unwrap());
    // A sign-in keeps the notice and the hold (the engine decides what they mean now).
    s.touch_activity(&t, &u, 2_000).await.unwrap();
    let a = s.get_activity(&t, &u).await.unwrap().unwrap();
    assert_eq!(a.last_active, 2_000);
    assert_eq!(a.notice.as_ref(), Some(&sent));
    assert_eq!(a.hold.as_ref(), Some(&hold));
    assert!(s.set_legal_hold(&t, &u, None).await.unwrap());
    assert!(
        s.update_dormancy_notice(&t, &u, Some(&sent), None)
            .await
            .unwrap()
    );
    let a = s.get_activity(&t, &u).await.unwrap().unwrap();
    assert_eq!((a.notice, a.hold), (None, None));

    // Another tenant's user of the same id is another record.
    let other = tenant();
    assert_eq!(s.get_activity(&other, &u).await.unwrap(), None);

    s.delete_activity(&t, &u).await.unwrap();
    s.delete_activity(&t, &u).await.unwrap();
    assert_eq!(s.get_activity(&t, &u).await.unwrap(), None);
}

pub(super) async fn inactive_users_are_walked_once<S: Store>(s: &S) {
    let t = tenant();
    let mut old = Vec::new();
    for i in 0..7u64 {
        let u = UserId::generate();
        s.touch_activity(&t, &u, 1_000 + i).await.unwrap();
        old.push(u.to_string());
    }
    let recent = UserId::generate();
    s.touch_activity(&t, &recent, 50_000).await.unwrap();
    let elsewhere = tenant();
    s.touch_activity(&elsewhere, &UserId::generate(), 10)
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut after: Option<UserId> = None;
    loop {
        let page = s
            .list_inactive(&t, 10_000, after.as_ref(), 3)
            .await
            .unwrap();
        assert!(page.len() <= 3);
        for a in &page {
            assert!(a.last_active < 10_000, "{a:?}");
            seen.push(a.user_id.to_string());
        }
        match page.last() {
            Some(a) => after = Some(a.user_id.clone()),
            None => break,
        }
    }
    let mut expected = old.clone();
    expected.sort();
    let mut got = seen.clone();
    got.sort();
    assert_eq!(got, expected, "every inactive user once, no other");
    // The cut-off is strict.
    let at_1000 = s.list_inactive(&t, 1_001, None, 100).await.unwrap();
    assert_eq!(at_1000.len(), 1);
    assert_eq!(at_1000[0].last_active, 1_000);
}

pub(super) async fn events_are_purged_before_a_time<S: Store>(s: &S) {
    let t = tenant();
    let other = tenant();
    let u = UserId::generate().to_string();
    let base = 400 * DAY; // well inside 1971, hour-aligned
    let old = [
        event(&t, base, "login.password", Some(&u), Some(&u)),
        event(
            &t,
            base + 3 * HOUR + 7,
            "user.updated",
            Some("admin"),
            Some(&u),
        ),
        event(&t, base + 30 * DAY, "mfa.verify", Some(&u), None),
    ];
    let cut = base + 40 * DAY;
    let kept = [
        event(&t, cut, "login.password", Some(&u), Some(&u)),
        event(&t, cut + 2 * HOUR, "token.refresh", None, Some(&u)),
        event(&t, cut + 400 * DAY, "tenant.updated", Some("admin"), None),
    ];
    let theirs = event(&other, base, "login.password", Some(&u), Some(&u));
    let mut all: Vec<Event> = old.iter().chain(kept.iter()).cloned().collect();
    all.push(theirs.clone());
    s.append_events(&all).await.unwrap();

    let mut purged = 0;
    loop {
        let n = s.purge_events(&t, cut, 2).await.unwrap();
        if n == 0 {
            break;
        }
        purged += n;
        assert!(purged <= 3, "only the three older events go");
    }
    assert_eq!(purged, 3);
    let ids = |v: Vec<Event>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let q = EventQuery {
        limit: 100,
        ..EventQuery::default()
    };
    let rest = ids(s.query_events(&t, &q).await.unwrap());
    let want: Vec<String> = kept.iter().rev().map(|e| e.id.clone()).collect();
    assert_eq!(rest, want, "the trail keeps everything from the cut-off on");
    let by_user = EventQuery {
        user: Some(u.clone()),
        limit: 100,
        ..EventQuery::default()
    };
    let mine = ids(s.query_events(&t, &by_user).await.unwrap());
    assert_eq!(
        mine,
        vec![kept[1].id.clone(), kept[0].id.clone()],
        "the user's index loses the purged events too"
    );
    let q_other = ids(s.query_events(&other, &q).await.unwrap());
    assert_eq!(
        q_other,
        vec![theirs.id],
        "another tenant's trail is untouched"
    );
}
