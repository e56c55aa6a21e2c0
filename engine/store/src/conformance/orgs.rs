//! Organisations: unique names per tenant, renames, memberships of a user in several
//! organisations, role assignments from both sides with pages, invitations taken once,
//! and deletions (of an organisation, a role, a user) that leave nothing behind.

use super::{now, tenant};
use crate::*;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Hash32;
use tollgate_vocab::model::org::{Invitation, Membership, OrgSettings, Organization, Role};

fn org(t: &TenantId, id: &str, name: &str) -> Organization {
    Organization {
        tenant: t.clone(),
        id: id.into(),
        name: name.into(),
        display_name: format!("{name} Ltd"),
        created_at: 1_000,
        settings: OrgSettings {
            allowed_email_domains: vec![format!("{name}.example")],
            ..OrgSettings::default()
        },
    }
}

fn member(t: &TenantId, org: &str, u: &UserId, roles: &[&str]) -> Membership {
    Membership {
        tenant: t.clone(),
        org_id: org.into(),
        user_id: u.clone(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        joined_at: 2_000,
    }
}

fn role(t: &TenantId, id: &str, perms: &[&str]) -> Role {
    Role {
        tenant: t.clone(),
        id: id.into(),
        description: String::new(),
        permissions: perms.iter().map(|p| p.to_string()).collect(),
    }
}

fn invitation(t: &TenantId, org: &str, id: &str, secret: &str) -> Invitation {
    Invitation {
        tenant: t.clone(),
        id: id.into(),
        org_id: org.into(),
        token_hash: Hash32::of(secret.as_bytes()),
        email_key: format!("key-{id}"),
        email_masked: "a***@e***.com".into(),
        roles: vec!["viewer".into()],
        created_at: 1_000,
        expires_at: now() + 3_600,
    }
}

/// `n` user ids in ascending order.
fn sorted_users(n: usize) -> Vec<UserId> {
    let mut v: Vec<UserId> = (0..n).map(|_| UserId::generate()).collect();
    v.sort();
    v
}

pub(super) async fn organisations_are_unique_and_renamed<S: Store>(s: &S) {
    let (t, other) = (tenant(), tenant());
    let acme = org(&t, "org_a", "acme");
    s.create_org(&acme).await.unwrap();
    // The name is unique in the tenant, and so is the id.
    assert_eq!(
        s.create_org(&org(&t, "org_b", "acme")).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        s.create_org(&org(&t, "org_a", "other")).await,
        Err(StoreError::Conflict)
    );
    // Another tenant may use both.
    s.create_org(&org(&other, "org_a", "acme")).await.unwrap();
    assert_eq!(s.get_org(&t, "org_a").await.unwrap(), Some(acme.clone()));
    assert_eq!(
        s.find_org_by_name(&t, "acme").await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(s.get_org(&t, "org_zz").await.unwrap(), None);
    assert_eq!(s.find_org_by_name(&t, "zz").await.unwrap(), None);

    // A rename frees the old name and takes the new one, from the state it was made from.
    let globex = org(&t, "org_b", "globex");
    s.create_org(&globex).await.unwrap();
    let mut renamed = acme.clone();
    renamed.name = "acme-corp".into();
    assert!(s.update_org(&renamed, &acme).await.unwrap());
    assert_eq!(s.find_org_by_name(&t, "acme").await.unwrap(), None);
    assert_eq!(
        s.find_org_by_name(&t, "acme-corp").await.unwrap(),
        Some(renamed.clone())
    );
    // A change made from an older state is refused; a name held by another is a conflict.
    let mut stale = acme.clone();
    stale.display_name = "Stale".into();
    assert!(!s.update_org(&stale, &acme).await.unwrap());
    let mut clash = renamed.clone();
    clash.name = "globex".into();
    assert_eq!(
        s.update_org(&clash, &renamed).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(s.get_org(&t, "org_a").await.unwrap(), Some(renamed.clone()));
    let ghost = org(&t, "org_ghost", "ghost");
    assert!(!s.update_org(&ghost, &ghost).await.unwrap());
    // The old name can be taken again.
    s.create_org(&org(&t, "org_c", "acme")).await.unwrap();

    // Pages in id order.
    let all = s.list_orgs(&t, None, 100).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["org_a", "org_b", "org_c"]);
    let first = s.list_orgs(&t, None, 2).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = s.list_orgs(&t, Some(&first[1].id), 2).await.unwrap();
    assert_eq!(
        rest.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["org_c"]
    );
    assert_eq!(s.list_orgs(&other, None, 100).await.unwrap().len(), 1);
}

pub(super) async fn memberships_and_roles_from_both_sides<S: Store>(s: &S) {
    let t = tenant();
    s.create_org(&org(&t, "org_a", "acme")).await.unwrap();
    s.create_org(&org(&t, "org_b", "globex")).await.unwrap();
    s.put_role(&role(&t, "admin", &["orders:write"]))
        .await
        .unwrap();
    s.put_role(&role(&t, "viewer", &["orders:read"]))
        .await
        .unwrap();
    let users = sorted_users(5);
    let u = &users[0];

    // A user in several organisations, with roles in each.
    assert!(
        s.put_membership(&member(&t, "org_a", u, &["viewer", "admin"]))
            .await
            .unwrap()
    );
    assert!(
        s.put_membership(&member(&t, "org_b", u, &["viewer"]))
            .await
            .unwrap()
    );
    // No membership of an organisation that does not exist.
    assert!(
        !s.put_membership(&member(&t, "org_zz", u, &[]))
            .await
            .unwrap()
    );
    let mine = s.list_user_memberships(&t, u).await.unwrap();
    assert_eq!(
        mine.iter().map(|m| m.org_id.as_str()).collect::<Vec<_>>(),
        ["org_a", "org_b"]
    );
    // Roles come back sorted.
    assert_eq!(mine[0].roles, ["admin", "viewer"]);
    assert_eq!(
        s.list_role_members(&t, "admin", Some("org_a"), None, 10)
            .await
            .unwrap(),
        vec![u.clone()]
    );
    assert!(
        s.list_role_members(&t, "admin", Some("org_b"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Replacing a membership's roles moves the index with them.
    assert!(
        s.put_membership(&member(&t, "org_a", u, &["viewer"]))
            .await
            .unwrap()
    );
    assert!(
        s.list_role_members(&t, "admin", Some("org_a"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Assignments in an organisation need a membership and a role; tenant-wide ones a role.
    let v = &users[1];
    assert!(!s.assign_role(&t, v, "admin", Some("org_a")).await.unwrap());
    assert!(!s.assign_role(&t, u, "nope", Some("org_a")).await.unwrap());
    assert!(!s.assign_role(&t, u, "nope", None).await.unwrap());
    assert!(s.assign_role(&t, u, "admin", Some("org_a")).await.unwrap());
    assert!(
        s.assign_role(&t, u, "admin", Some("org_a")).await.unwrap(),
        "idempotent"
    );
    assert_eq!(
        s.get_membership(&t, "org_a", u)
            .await
            .unwrap()
            .unwrap()
            .roles,
        ["admin", "viewer"]
    );
    assert!(s.assign_role(&t, v, "admin", None).await.unwrap());
    assert_eq!(s.tenant_roles(&t, v).await.unwrap(), ["admin"]);
    assert!(s.tenant_roles(&t, u).await.unwrap().is_empty());
    assert_eq!(
        s.list_role_members(&t, "admin", None, None, 10)
            .await
            .unwrap(),
        vec![v.clone()]
    );

    // Members of an organisation and holders of a role, in pages of two.
    for w in &users[1..] {
        assert!(
            s.put_membership(&member(&t, "org_b", w, &["viewer"]))
                .await
                .unwrap()
        );
    }
    let mut seen = Vec::new();
    let mut after: Option<UserId> = None;
    loop {
        let page = s
            .list_members(&t, "org_b", after.as_ref(), 2)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = Some(page[page.len() - 1].user_id.clone());
        seen.extend(page.into_iter().map(|m| m.user_id));
    }
    assert_eq!(seen, users);
    let first = s
        .list_role_members(&t, "viewer", Some("org_b"), None, 3)
        .await
        .unwrap();
    assert_eq!(first, users[..3]);
    let rest = s
        .list_role_members(&t, "viewer", Some("org_b"), Some(&first[2]), 3)
        .await
        .unwrap();
    assert_eq!(rest, users[3..]);

    // Taking roles back.
    assert!(
        s.unassign_role(&t, u, "admin", Some("org_a"))
            .await
            .unwrap()
    );
    assert!(
        !s.unassign_role(&t, u, "admin", Some("org_a"))
            .await
            .unwrap()
    );
    assert_eq!(
        s.get_membership(&t, "org_a", u)
            .await
            .unwrap()
            .unwrap()
            .roles,
        ["viewer"]
    );
    assert!(s.unassign_role(&t, v, "admin", None).await.unwrap());
    assert!(s.tenant_roles(&t, v).await.unwrap().is_empty());
    assert!(
        s.list_role_members(&t, "admin", None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting a role removes every assignment of it.
    assert!(s.assign_role(&t, v, "viewer", None).await.unwrap());
    assert!(s.delete_role(&t, "viewer").await.unwrap());
    assert!(!s.delete_role(&t, "viewer").await.unwrap());
    assert_eq!(s.get_role(&t, "viewer").await.unwrap(), None);
    assert!(s.tenant_roles(&t, v).await.unwrap().is_empty());
    assert!(
        s.get_membership(&t, "org_b", v)
            .await
            .unwrap()
            .unwrap()
            .roles
            .is_empty()
    );
    assert!(
        s.list_role_members(&t, "viewer", Some("org_b"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.list_roles(&t).await.unwrap(),
        vec![role(&t, "admin", &["orders:write"])]
    );

    // Leaving one organisation keeps the other.
    assert!(s.delete_membership(&t, "org_b", u).await.unwrap());
    assert!(!s.delete_membership(&t, "org_b", u).await.unwrap());
    assert_eq!(
        s.list_user_memberships(&t, u)
            .await
            .unwrap()
            .iter()
            .map(|m| m.org_id.as_str())
            .collect::<Vec<_>>(),
        ["org_a"]
    );

    // Deleting a user's memberships (account deletion) removes all, tenant-wide roles too.
    assert!(s.assign_role(&t, u, "admin", None).await.unwrap());
    assert!(s.assign_role(&t, u, "admin", Some("org_a")).await.unwrap());
    s.delete_user_memberships(&t, u).await.unwrap();
    s.delete_user_memberships(&t, u).await.unwrap();
    assert!(s.list_user_memberships(&t, u).await.unwrap().is_empty());
    assert!(s.tenant_roles(&t, u).await.unwrap().is_empty());
    assert_eq!(s.get_membership(&t, "org_a", u).await.unwrap(), None);
    assert!(
        s.list_role_members(&t, "admin", None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.list_role_members(&t, "admin", Some("org_a"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Others are untouched.
    assert_eq!(
        s.list_members(&t, "org_b", None, 10).await.unwrap().len(),
        4
    );
}

pub(super) async fn invitations_are_taken_once<S: Store>(s: &S) {
    let (t, other) = (tenant(), tenant());
    s.create_org(&org(&t, "org_a", "acme")).await.unwrap();
    let inv = invitation(&t, "org_a", "inv1", "secret-1");
    assert!(s.put_invitation(&inv).await.unwrap());
    assert!(
        !s.put_invitation(&invitation(&t, "org_zz", "inv9", "x"))
            .await
            .unwrap()
    );
    let second = Invitation {
        created_at: 1_500,
        ..invitation(&t, "org_a", "inv2", "secret-2")
    };
    assert!(s.put_invitation(&second).await.unwrap());
    let hash = Hash32::of(b"secret-1");
    assert_eq!(
        s.get_invitation(&t, &hash).await.unwrap(),
        Some(inv.clone())
    );
    // Another tenant does not find it.
    assert_eq!(s.get_invitation(&other, &hash).await.unwrap(), None);
    assert_eq!(s.take_invitation(&other, &hash).await.unwrap(), None);
    assert_eq!(
        s.list_invitations(&t, "org_a").await.unwrap(),
        vec![inv.clone(), second.clone()]
    );

    // Of two takes at once, one gets it.
    let (a, b) = tokio::join!(s.take_invitation(&t, &hash), s.take_invitation(&t, &hash));
    let got: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(got, vec![inv.clone()]);
    assert_eq!(s.get_invitation(&t, &hash).await.unwrap(), None);
    assert_eq!(
        s.list_invitations(&t, "org_a").await.unwrap(),
        vec![second.clone()]
    );

    // Withdrawn by its public id.
    assert!(!s.delete_invitation(&t, "org_a", "inv1").await.unwrap());
    assert!(s.delete_invitation(&t, "org_a", "inv2").await.unwrap());
    assert_eq!(
        s.get_invitation(&t, &Hash32::of(b"secret-2"))
            .await
            .unwrap(),
        None
    );
    assert!(s.list_invitations(&t, "org_a").await.unwrap().is_empty());
}

pub(super) async fn deleting_an_organisation_removes_what_it_had<S: Store>(s: &S) {
    let t = tenant();
    let acme = org(&t, "org_a", "acme");
    s.create_org(&acme).await.unwrap();
    s.create_org(&org(&t, "org_b", "globex")).await.unwrap();
    s.put_role(&role(&t, "admin", &["x"])).await.unwrap();
    let users = sorted_users(3);
    for u in &users {
        assert!(
            s.put_membership(&member(&t, "org_a", u, &["admin"]))
                .await
                .unwrap()
        );
    }
    assert!(
        s.put_membership(&member(&t, "org_b", &users[0], &["admin"]))
            .await
            .unwrap()
    );
    assert!(s.assign_role(&t, &users[1], "admin", None).await.unwrap());
    let inv = invitation(&t, "org_a", "inv1", "secret-a");
    assert!(s.put_invitation(&inv).await.unwrap());

    assert!(s.delete_org(&t, "org_a").await.unwrap());
    assert!(!s.delete_org(&t, "org_a").await.unwrap());
    assert_eq!(s.get_org(&t, "org_a").await.unwrap(), None);
    assert_eq!(s.find_org_by_name(&t, "acme").await.unwrap(), None);
    assert!(
        s.list_members(&t, "org_a", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.list_role_members(&t, "admin", Some("org_a"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.get_invitation(&t, &Hash32::of(b"secret-a"))
            .await
            .unwrap(),
        None
    );
    assert!(s.list_invitations(&t, "org_a").await.unwrap().is_empty());
    for u in &users {
        assert_eq!(s.get_membership(&t, "org_a", u).await.unwrap(), None);
    }
    // Nothing joins it afterwards.
    assert!(
        !s.put_membership(&member(&t, "org_a", &users[0], &[]))
            .await
            .unwrap()
    );
    assert!(!s.put_invitation(&inv).await.unwrap());
    // Its members keep their other organisations and tenant-wide roles.
    assert_eq!(
        s.list_user_memberships(&t, &users[0]).await.unwrap(),
        vec![member(&t, "org_b", &users[0], &["admin"])]
    );
    assert_eq!(s.tenant_roles(&t, &users[1]).await.unwrap(), ["admin"]);
    // The name is free again.
    s.create_org(&org(&t, "org_c", "acme")).await.unwrap();
}
