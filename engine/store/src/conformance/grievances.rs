//! Grievances: a tenant's tickets by id and in its list, a user's tickets, rewrites in
//! place, and erasure of one user's tickets only.

use super::tenant;
use crate::*;
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::grievance::{Grievance, GrievanceCategory, GrievanceStatus};

fn ticket(t: &TenantId, u: &UserId, id: &str, at: UnixTime) -> Grievance {
    Grievance {
        tenant: t.clone(),
        id: id.into(),
        user_id: u.clone(),
        category: GrievanceCategory::Access,
        status: GrievanceStatus::Open,
        created_at: at,
        due_at: at + 90 * 86_400,
        updated_at: at,
        sealed: format!("c2VhbGVk{id}"),
    }
}

pub(super) async fn grievances_by_tenant_and_user<S: Store>(s: &S) {
    let (t, other) = (tenant(), tenant());
    let (u, v) = (UserId::generate(), UserId::generate());
    assert!(s.list_grievances(&t, 100).await.unwrap().is_empty());
    assert!(s.list_user_grievances(&t, &u).await.unwrap().is_empty());
    assert_eq!(s.get_grievance(&t, "nope").await.unwrap(), None);

    let late = ticket(&t, &u, "b", 2_000);
    let early = ticket(&t, &u, "z", 1_000);
    let same_time = ticket(&t, &u, "a", 2_000);
    let theirs = ticket(&t, &v, "c", 1_500);
    let elsewhere = ticket(&other, &u, "d", 1_500);
    for g in [&late, &early, &same_time, &theirs, &elsewhere] {
        s.put_grievance(g).await.unwrap();
    }
    assert_eq!(s.get_grievance(&t, "b").await.unwrap(), Some(late.clone()));
    // Another tenant's ticket is not found by its id here.
    assert_eq!(s.get_grievance(&t, "d").await.unwrap(), None);
    assert_eq!(
        s.list_user_grievances(&t, &u).await.unwrap(),
        vec![early.clone(), same_time.clone(), late.clone()]
    );
    assert_eq!(
        s.list_grievances(&t, 100).await.unwrap(),
        vec![
            early.clone(),
            theirs.clone(),
            same_time.clone(),
            late.clone()
        ]
    );
    assert_eq!(s.list_grievances(&t, 2).await.unwrap().len(), 2);
    assert_eq!(
        s.list_grievances(&other, 100).await.unwrap(),
        vec![elsewhere.clone()]
    );

    // The next state of a ticket replaces it, wherever it is listed, only from the state
    // it was made from: a change made from an older state is refused.
    let mut answered = late.clone();
    answered.status = GrievanceStatus::Answered;
    answered.updated_at = 3_000;
    answered.sealed = "YW5zd2VyZWQ".into();
    assert!(s.update_grievance(&answered, &late).await.unwrap());
    let mut closed = late.clone();
    closed.status = GrievanceStatus::Closed;
    assert!(!s.update_grievance(&closed, &late).await.unwrap());
    let mut gone = ticket(&t, &u, "missing", 1);
    assert!(!s.update_grievance(&gone.clone(), &gone).await.unwrap());
    // The state of ticket `b` does not stand for ticket `a`.
    gone.id = "a".into();
    assert!(
        !s.update_grievance(&gone, &answered).await.unwrap(),
        "another ticket's state"
    );
    assert_eq!(
        s.get_grievance(&t, "b").await.unwrap(),
        Some(answered.clone())
    );
    assert_eq!(
        s.list_user_grievances(&t, &u).await.unwrap(),
        vec![early, same_time, answered]
    );

    // Erasing a user's removes theirs only, everywhere, and can be repeated.
    s.delete_user_grievances(&t, &u).await.unwrap();
    s.delete_user_grievances(&t, &u).await.unwrap();
    assert!(s.list_user_grievances(&t, &u).await.unwrap().is_empty());
    assert_eq!(s.get_grievance(&t, "b").await.unwrap(), None);
    assert_eq!(
        s.list_grievances(&t, 100).await.unwrap(),
        vec![theirs.clone()]
    );
    assert_eq!(s.list_user_grievances(&t, &v).await.unwrap(), vec![theirs]);
    assert_eq!(
        s.list_user_grievances(&other, &u).await.unwrap(),
        vec![elsewhere]
    );
}
