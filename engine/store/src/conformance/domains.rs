//! Organisations' email domains: one claim per domain in a tenant, changed and given up
//! only by the organisation that holds it.

use super::tenant;
use crate::*;
use tollgate_vocab::model::org_domain::OrgDomain;

fn claim(t: &TenantId, org: &str, domain: &str) -> OrgDomain {
    OrgDomain {
        tenant: t.clone(),
        domain: domain.into(),
        org_id: org.into(),
        connector: None,
        token: format!("token-{org}-{domain}"),
        created_at: 1_000,
        verified_at: None,
    }
}

pub(super) async fn domains_are_claimed_once_per_tenant<S: Store>(s: &S) {
    let t = tenant();
    let other = tenant();
    assert_eq!(s.get_domain(&t, "acme.example").await.unwrap(), None);
    let acme = claim(&t, "org_acme", "acme.example");
    s.create_domain(&acme).await.unwrap();
    s.create_domain(&claim(&t, "org_acme", "acme.test"))
        .await
        .unwrap();
    // The same domain for another organisation, or again: refused, the claim unchanged.
    for again in [claim(&t, "org_rival", "acme.example"), acme.clone()] {
        assert!(matches!(
            s.create_domain(&again).await,
            Err(StoreError::Conflict)
        ));
    }
    assert_eq!(
        s.get_domain(&t, "acme.example").await.unwrap(),
        Some(acme.clone())
    );
    // Another tenant may claim the same name.
    s.create_domain(&claim(&other, "org_x", "acme.example"))
        .await
        .unwrap();
    let names = |v: Vec<OrgDomain>| v.into_iter().map(|d| d.domain).collect::<Vec<_>>();
    assert_eq!(
        names(s.list_org_domains(&t, "org_acme").await.unwrap()),
        ["acme.example", "acme.test"]
    );
    assert!(
        s.list_org_domains(&t, "org_rival")
            .await
            .unwrap()
            .is_empty()
    );

    // Verified and routed by its organisation; not by another.
    let mut verified = acme.clone();
    verified.verified_at = Some(2_000);
    verified.connector = Some("corp-idp".into());
    assert!(s.update_domain(&verified).await.unwrap());
    let mut stolen = verified.clone();
    stolen.org_id = "org_rival".into();
    assert!(!s.update_domain(&stolen).await.unwrap());
    assert_eq!(
        s.get_domain(&t, "acme.example").await.unwrap(),
        Some(verified)
    );

    // Given up only by its organisation; then free for another.
    assert!(
        !s.delete_domain(&t, "org_rival", "acme.example")
            .await
            .unwrap()
    );
    assert!(
        s.delete_domain(&t, "org_acme", "acme.example")
            .await
            .unwrap()
    );
    assert!(
        !s.delete_domain(&t, "org_acme", "acme.example")
            .await
            .unwrap()
    );
    assert_eq!(s.get_domain(&t, "acme.example").await.unwrap(), None);
    assert!(!s.update_domain(&acme).await.unwrap(), "nothing to update");
    assert_eq!(
        names(s.list_org_domains(&t, "org_acme").await.unwrap()),
        ["acme.test"]
    );
    s.create_domain(&claim(&t, "org_rival", "acme.example"))
        .await
        .unwrap();
    assert_eq!(
        names(s.list_org_domains(&t, "org_rival").await.unwrap()),
        ["acme.example"]
    );
    assert_eq!(
        s.get_domain(&other, "acme.example")
            .await
            .unwrap()
            .unwrap()
            .org_id,
        "org_x"
    );
}
