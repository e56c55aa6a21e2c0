//! Users: the paged walk of a tenant's users.

use std::collections::HashSet;

use super::{tenant, user};
use crate::*;

pub(super) async fn users_are_walked_once_in_pages<S: Store>(s: &S) {
    let t = tenant();
    let other = tenant();
    assert!(s.list_users(&t, None, 10).await.unwrap().is_empty());
    let mut made = HashSet::new();
    for i in 0..23 {
        let u = user(&t, &format!("walk{i}@example.com"));
        s.create_user(&u).await.unwrap();
        made.insert(u.id.clone());
    }
    // Another tenant's users never show up.
    s.create_user(&user(&other, "walk0@example.com"))
        .await
        .unwrap();
    // A deleted user is still walked, with its deletion time.
    let mut gone = user(&t, "walk-gone@example.com");
    s.create_user(&gone).await.unwrap();
    gone.deleted_at = Some(2_000);
    assert!(s.soft_delete_user(&gone, &gone.email_key).await.unwrap());
    made.insert(gone.id.clone());

    let mut seen = HashSet::new();
    let mut after: Option<UserId> = None;
    let mut pages = 0;
    loop {
        let page = s.list_users(&t, after.as_ref(), 5).await.unwrap();
        assert!(page.len() <= 5, "a page holds at most the limit");
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for u in page {
            assert_eq!(u.tenant, t);
            if u.id == gone.id {
                assert_eq!(u.deleted_at, Some(2_000));
            }
            assert!(seen.insert(u.id), "a user came back twice in one walk");
        }
        pages += 1;
        assert!(pages < 100, "the walk must end");
    }
    assert_eq!(seen, made);
    assert!(s.list_users(&t, None, 0).await.unwrap().is_empty());
}
