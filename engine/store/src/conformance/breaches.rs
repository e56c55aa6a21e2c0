//! Breaches: an incident with its durable list of affected users, its compare-and-set
//! updates, the paged walk of its notices, and the compare-and-set that lets one job
//! only claim a user's notice.

use std::collections::HashSet;

use super::tenant;
use crate::*;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::breach::{BreachNotice, Incident, JobStatus, NoticeState};

fn incident(t: &TenantId, id: &str, at: u64, affected: u64) -> Incident {
    Incident {
        id: id.into(),
        tenant: t.clone(),
        declared_at: at,
        declared_by: "admin".into(),
        window_start: at.saturating_sub(100),
        window_end: at.saturating_sub(10),
        nature: "n".into(),
        extent: "e".into(),
        consequences: "c".into(),
        mitigation: "m".into(),
        user_actions: "a".into(),
        contact: "dpo@example.com".into(),
        location: None,
        cause: Some("c".into()),
        responsible: None,
        remedial: None,
        query: "users (3 given)".into(),
        affected,
        job: JobStatus::NotStarted,
        notify_started_at: None,
        notify_finished_at: None,
    }
}

async fn walk<S: Store>(s: &S, t: &TenantId, id: &str, page: usize) -> Vec<BreachNotice> {
    let mut out = Vec::new();
    let mut after: Option<UserId> = None;
    for _ in 0..1_000 {
        let got = s
            .list_breach_notices(t, id, after.as_ref(), page)
            .await
            .unwrap();
        assert!(got.len() <= page, "a page holds at most the limit");
        let Some(last) = got.last() else {
            return out;
        };
        after = Some(last.user_id.clone());
        out.extend(got);
    }
    panic!("the walk must end");
}

pub(super) async fn incidents_keep_their_affected_users<S: Store>(s: &S) {
    let (t, other) = (tenant(), tenant());
    assert!(s.list_incidents(&t).await.unwrap().is_empty());
    assert_eq!(s.get_incident(&t, "b1").await.unwrap(), None);
    let users: Vec<UserId> = (0..23).map(|_| UserId::generate()).collect();
    let first = incident(&t, "b1", 5_000, 23);
    s.create_incident(&first, &users).await.unwrap();
    // Same id again: refused, and the first list is untouched.
    assert_eq!(
        s.create_incident(&first, &users[..1]).await,
        Err(StoreError::Conflict)
    );
    let second = incident(&t, "b0", 6_000, 1);
    s.create_incident(&second, &users[..1]).await.unwrap();
    // Another tenant's incident with the same id is its own.
    s.create_incident(&incident(&other, "b1", 1, 0), &[])
        .await
        .unwrap();

    assert_eq!(s.get_incident(&t, "b1").await.unwrap(), Some(first.clone()));
    let ids: Vec<String> = s
        .list_incidents(&t)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids, ["b1", "b0"], "oldest first");

    // Every affected user once, pending, over pages of any size.
    let all = walk(s, &t, "b1", 5).await;
    let seen: HashSet<UserId> = all.iter().map(|n| n.user_id.clone()).collect();
    assert_eq!(seen.len(), 23);
    assert_eq!(seen, users.iter().cloned().collect());
    assert!(all.iter().all(|n| n.state == NoticeState::Pending
        && n.incident == "b1"
        && n.tenant == t
        && n.attempts == 0));
    assert_eq!(walk(s, &t, "b0", 100).await.len(), 1);
    assert!(walk(s, &other, "b1", 100).await.is_empty());
    assert!(
        s.list_breach_notices(&t, "b1", None, 0)
            .await
            .unwrap()
            .is_empty()
    );

    // The incident is a compare-and-set.
    let mut running = first.clone();
    running.job = JobStatus::Running;
    running.notify_started_at = Some(5_001);
    assert!(s.update_incident(&running, &first).await.unwrap());
    assert!(!s.update_incident(&running, &first).await.unwrap());
    assert_eq!(s.get_incident(&t, "b1").await.unwrap(), Some(running));

    // A notice is claimed once: the second claim from the same old state loses.
    let n = all[7].clone();
    let claimed = BreachNotice {
        state: NoticeState::Sending { at: 5_002 },
        attempts: 1,
        ..n.clone()
    };
    assert!(s.update_breach_notice(&claimed, &n).await.unwrap());
    assert!(!s.update_breach_notice(&claimed, &n).await.unwrap());
    let sent = BreachNotice {
        state: NoticeState::Sent {
            at: 5_003,
            channel: "email".into(),
        },
        ..claimed.clone()
    };
    assert!(s.update_breach_notice(&sent, &claimed).await.unwrap());
    // A notice of another incident, or of no incident, is not there to update.
    let stray = BreachNotice {
        incident: "b9".into(),
        ..n.clone()
    };
    assert!(!s.update_breach_notice(&stray, &stray).await.unwrap());
    // Many at once, each on its own: a stale one fails alone.
    let (a, b) = (all[1].clone(), all[2].clone());
    let claim = |n: &BreachNotice| BreachNotice {
        state: NoticeState::Sending { at: 5_004 },
        attempts: 1,
        ..n.clone()
    };
    let done = s
        .update_breach_notices(&[
            (claim(&a), a.clone()),
            (claim(&n), n.clone()),
            (claim(&b), b.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(done, [true, false, true]);
    assert!(s.update_breach_notices(&[]).await.unwrap().is_empty());
    let after = walk(s, &t, "b1", 100).await;
    let claimed_now = after
        .iter()
        .filter(|x| x.state == NoticeState::Sending { at: 5_004 })
        .count();
    assert_eq!(claimed_now, 2);
    assert_eq!(after.len(), 23);
    assert_eq!(
        after.iter().find(|x| x.user_id == n.user_id),
        Some(&sent),
        "the update is what a later walk reads"
    );
}
