//! [`OrgStore`]: organisations, memberships, roles and invitations
//! (schema/0015_orgs.cql).
//!
//! An organisation's name is claimed (`org_names`, `IF NOT EXISTS`) before the record is
//! written, and given up (`IF org_id = ?`) after a rename or a deletion, so no two
//! organisations ever hold one name. Index rows (`user_orgs`, `role_holders`) are written
//! before the record they find and removed after it, so a record is never unfindable; an
//! index row whose record is gone is skipped where it is read. Something joining an
//! organisation reads it serially first; one that joins while it is being deleted can
//! leave a membership behind, which `list_user_memberships` skips (its organisation is
//! gone) and the user's erasure removes.

use async_trait::async_trait;

use crate::rows::{decode, encode, int32, ttl_until};
use crate::{LWT_ATTEMPTS, ScyllaStore};
use tollgate_store::{OrgStore, RoleScope, StoreError, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Hash32;
use tollgate_vocab::model::org::{Invitation, Membership, Organization, Role};

fn limit32(limit: usize) -> i32 {
    int32(u32::try_from(limit).unwrap_or(u32::MAX))
}

fn records<T: serde::de::DeserializeOwned>(rows: Vec<(Vec<u8>,)>) -> StoreResult<Vec<T>> {
    rows.iter().map(|(r,)| decode(r)).collect()
}

impl ScyllaStore {
    /// Whether an organisation exists, read serially (before something joins it).
    async fn org_exists(&self, tenant: &TenantId, org: &str) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self
            .one(&r.st.org_get_serial, (tenant.as_str(), org))
            .await?;
        Ok(row.is_some())
    }

    async fn release_name(&self, tenant: &TenantId, name: &str, org: &str) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        self.lwt(&r.st.org_name_release, (tenant.as_str(), name, org))
            .await
            .map(drop)
    }

    /// Changes a membership's record by `change` (compare and set on the record read),
    /// retrying a few times when another change lands in between. `None` if there is no
    /// membership; otherwise whether `change` changed it.
    async fn change_membership(
        &self,
        tenant: &TenantId,
        org: &str,
        user: &UserId,
        change: impl Fn(&mut Membership) -> bool + Send + Sync,
    ) -> StoreResult<Option<bool>> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        for _ in 0..LWT_ATTEMPTS {
            let row: Option<(Vec<u8>,)> = self.one(&r.st.member_get, (t, org, u)).await?;
            let Some((old,)) = row else {
                return Ok(None);
            };
            let mut m: Membership = decode(&old)?;
            if !change(&mut m) {
                return Ok(Some(false));
            }
            if self
                .lwt(&r.st.member_update_if, (encode(&m), t, org, u, &old))
                .await?
            {
                return Ok(Some(true));
            }
        }
        Err(StoreError::Unavailable(
            "membership changed repeatedly; try again".into(),
        ))
    }

    async fn remove_membership(&self, tenant: &TenantId, m: &Membership) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        let (t, org, u) = (tenant.as_str(), m.org_id.as_str(), m.user_id.as_str());
        self.lwt(&r.st.member_remove, (t, org, u)).await?;
        for role in &m.roles {
            self.write(&r.st.holder_delete, (t, role.as_str(), org, u))
                .await?;
        }
        self.write(&r.st.user_org_delete, (t, u, org)).await
    }
}

#[async_trait]
impl OrgStore for ScyllaStore {
    async fn create_org(&self, org: &Organization) -> StoreResult<()> {
        let r = self.region_of(&org.tenant).await?;
        let t = org.tenant.as_str();
        let claim = (t, org.name.as_str(), org.id.as_str());
        if !self.lwt(&r.st.org_name_claim, claim).await? {
            return Err(StoreError::Conflict);
        }
        let values = (t, org.id.as_str(), encode(org));
        if !self.lwt(&r.st.org_insert, values).await? {
            self.release_name(&org.tenant, &org.name, &org.id).await?;
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    async fn get_org(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Organization>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self.one(&r.st.org_get, (tenant.as_str(), id)).await?;
        row.map(|(rec,)| decode(&rec)).transpose()
    }

    async fn find_org_by_name(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> StoreResult<Option<Organization>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(String,)> = self
            .one(&r.st.org_name_get, (tenant.as_str(), name))
            .await?;
        let Some((id,)) = row else {
            return Ok(None);
        };
        Ok(self.get_org(tenant, &id).await?.filter(|o| o.name == name))
    }

    async fn list_orgs(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Organization>> {
        let r = self.region_of(tenant).await?;
        let (t, n) = (tenant.as_str(), limit32(limit));
        let rows: Vec<(Vec<u8>,)> = match after {
            Some(a) => self.all(&r.st.org_list_after, (t, a, n)).await?,
            None => self.all(&r.st.org_list, (t, n)).await?,
        };
        records(rows)
    }

    async fn update_org(&self, next: &Organization, expected: &Organization) -> StoreResult<bool> {
        if next.id != expected.id || next.tenant != expected.tenant {
            return Ok(false);
        }
        let r = self.region_of(&next.tenant).await?;
        let t = next.tenant.as_str();
        let renamed = next.name != expected.name;
        if renamed {
            let claim = (t, next.name.as_str(), next.id.as_str());
            if !self.lwt(&r.st.org_name_claim, claim).await? {
                return Err(StoreError::Conflict);
            }
        }
        let values = (encode(next), t, next.id.as_str(), encode(expected));
        let applied = self.lwt(&r.st.org_update_if, values).await?;
        if renamed {
            // The name given up is the old one if the change landed, else the new one.
            let free = if applied { &expected.name } else { &next.name };
            self.release_name(&next.tenant, free, &next.id).await?;
        }
        Ok(applied)
    }

    async fn delete_org(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let old = self.get_org(tenant, id).await?;
        let existed = self.lwt(&r.st.org_remove, (t, id)).await?;
        if let Some(o) = &old {
            self.release_name(tenant, &o.name, id).await?;
        }
        let members: Vec<(Vec<u8>,)> = self.all(&r.st.members_all, (t, id)).await?;
        for m in records::<Membership>(members)? {
            self.remove_membership(tenant, &m).await?;
        }
        let invitations: Vec<(Vec<u8>,)> = self.all(&r.st.invitation_id_list, (t, id)).await?;
        for (hash,) in invitations {
            self.lwt(&r.st.invitation_remove, (t, hash)).await?;
        }
        self.write(&r.st.invitation_ids_delete, (t, id)).await?;
        Ok(existed)
    }

    async fn put_membership(&self, membership: &Membership) -> StoreResult<bool> {
        let mut m = membership.clone();
        m.roles.sort();
        m.roles.dedup();
        let tenant = &m.tenant;
        if !self.org_exists(tenant, &m.org_id).await? {
            return Ok(false);
        }
        let r = self.region_of(tenant).await?;
        let (t, org, u) = (tenant.as_str(), m.org_id.as_str(), m.user_id.as_str());
        self.write(&r.st.user_org_put, (t, u, org)).await?;
        for role in &m.roles {
            self.write(&r.st.holder_put, (t, role.as_str(), org, u))
                .await?;
        }
        let record = encode(&m);
        let mut replaced = None;
        for _ in 0..LWT_ATTEMPTS {
            let row: Option<(Vec<u8>,)> = self.one(&r.st.member_get, (t, org, u)).await?;
            let applied = match &row {
                None => self.lwt(&r.st.member_insert, (t, org, u, &record)).await?,
                Some((old,)) => {
                    self.lwt(&r.st.member_update_if, (&record, t, org, u, old))
                        .await?
                }
            };
            if applied {
                replaced = Some(row);
                break;
            }
        }
        let Some(old) = replaced else {
            return Err(StoreError::Unavailable(
                "membership changed repeatedly; try again".into(),
            ));
        };
        let old: Option<Membership> = old.map(|(rec,)| decode(&rec)).transpose()?;
        for role in old.iter().flat_map(|o| &o.roles) {
            if !m.roles.contains(role) {
                self.write(&r.st.holder_delete, (t, role.as_str(), org, u))
                    .await?;
            }
        }
        Ok(true)
    }

    async fn get_membership(
        &self,
        tenant: &TenantId,
        org: &str,
        user: &UserId,
    ) -> StoreResult<Option<Membership>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self
            .one(&r.st.member_get, (tenant.as_str(), org, user.as_str()))
            .await?;
        row.map(|(rec,)| decode(&rec)).transpose()
    }

    async fn delete_membership(
        &self,
        tenant: &TenantId,
        org: &str,
        user: &UserId,
    ) -> StoreResult<bool> {
        match self.get_membership(tenant, org, user).await? {
            Some(m) => {
                self.remove_membership(tenant, &m).await?;
                Ok(true)
            }
            None => {
                let r = self.region_of(tenant).await?;
                self.write(&r.st.user_org_delete, (tenant.as_str(), user.as_str(), org))
                    .await?;
                Ok(false)
            }
        }
    }

    async fn list_members(
        &self,
        tenant: &TenantId,
        org: &str,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<Membership>> {
        let r = self.region_of(tenant).await?;
        let (t, n) = (tenant.as_str(), limit32(limit));
        let rows: Vec<(Vec<u8>,)> = match after {
            Some(a) => {
                self.all(&r.st.member_list_after, (t, org, a.as_str(), n))
                    .await?
            }
            None => self.all(&r.st.member_list, (t, org, n)).await?,
        };
        records(rows)
    }

    async fn list_user_memberships(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<Membership>> {
        let r = self.region_of(tenant).await?;
        let orgs: Vec<(String,)> = self
            .all(&r.st.user_org_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut out = Vec::with_capacity(orgs.len());
        for (org,) in orgs {
            // A membership left behind by a deletion it raced is not one.
            if let Some(m) = self.get_membership(tenant, &org, user).await?
                && self.get_org(tenant, &org).await?.is_some()
            {
                out.push(m);
            }
        }
        Ok(out)
    }

    async fn delete_user_memberships(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        let orgs: Vec<(String,)> = self.all(&r.st.user_org_list, (t, u)).await?;
        for (org,) in orgs {
            self.delete_membership(tenant, &org, user).await?;
        }
        let roles: Vec<(String,)> = self.all(&r.st.user_role_list, (t, u)).await?;
        for (role,) in roles {
            self.write(&r.st.holder_delete, (t, role.as_str(), "", u))
                .await?;
        }
        self.write(&r.st.user_roles_delete, (t, u)).await
    }

    async fn put_role(&self, role: &Role) -> StoreResult<()> {
        let r = self.region_of(&role.tenant).await?;
        let values = (role.tenant.as_str(), role.id.as_str(), encode(role));
        self.write(&r.st.role_put, values).await
    }

    async fn get_role(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Role>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self.one(&r.st.role_get, (tenant.as_str(), id)).await?;
        row.map(|(rec,)| decode(&rec)).transpose()
    }

    async fn list_roles(&self, tenant: &TenantId) -> StoreResult<Vec<Role>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(Vec<u8>,)> = self.all(&r.st.role_list, (tenant.as_str(),)).await?;
        records(rows)
    }

    async fn delete_role(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let existed = self.get_role(tenant, id).await?.is_some();
        self.write(&r.st.role_delete, (t, id)).await?;
        let holders: Vec<(String, String)> = self.all(&r.st.holders_all, (t, id)).await?;
        for (scope, user) in holders {
            let user = UserId::from_stored(user);
            if scope.is_empty() {
                self.write(&r.st.user_role_delete, (t, user.as_str(), id))
                    .await?;
            } else {
                self.change_membership(tenant, &scope, &user, |m| {
                    let before = m.roles.len();
                    m.roles.retain(|x| x != id);
                    m.roles.len() != before
                })
                .await?;
            }
        }
        self.write(&r.st.holders_delete, (t, id)).await?;
        Ok(existed)
    }

    async fn assign_role(
        &self,
        tenant: &TenantId,
        user: &UserId,
        role: &str,
        scope: RoleScope<'_>,
    ) -> StoreResult<bool> {
        if self.get_role(tenant, role).await?.is_none() {
            return Ok(false);
        }
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        match scope {
            Some(org) => {
                if self.get_membership(tenant, org, user).await?.is_none() {
                    return Ok(false);
                }
                self.write(&r.st.holder_put, (t, role, org, u)).await?;
                let changed = self
                    .change_membership(tenant, org, user, |m| {
                        if m.roles.iter().any(|x| x == role) {
                            return false;
                        }
                        m.roles.push(role.to_owned());
                        m.roles.sort();
                        true
                    })
                    .await?;
                if changed.is_none() {
                    // It left in between: the index row goes with it.
                    self.write(&r.st.holder_delete, (t, role, org, u)).await?;
                    return Ok(false);
                }
            }
            None => {
                self.write(&r.st.holder_put, (t, role, "", u)).await?;
                self.write(&r.st.user_role_put, (t, u, role)).await?;
            }
        }
        Ok(true)
    }

    async fn unassign_role(
        &self,
        tenant: &TenantId,
        user: &UserId,
        role: &str,
        scope: RoleScope<'_>,
    ) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        let held = match scope {
            Some(org) => self
                .change_membership(tenant, org, user, |m| {
                    let before = m.roles.len();
                    m.roles.retain(|x| x != role);
                    m.roles.len() != before
                })
                .await?
                .unwrap_or(false),
            None => {
                let row: Option<(String,)> = self.one(&r.st.user_role_get, (t, u, role)).await?;
                self.write(&r.st.user_role_delete, (t, u, role)).await?;
                row.is_some()
            }
        };
        self.write(&r.st.holder_delete, (t, role, scope.unwrap_or(""), u))
            .await?;
        Ok(held)
    }

    async fn list_role_members(
        &self,
        tenant: &TenantId,
        role: &str,
        scope: RoleScope<'_>,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<UserId>> {
        let r = self.region_of(tenant).await?;
        let (t, s, n) = (tenant.as_str(), scope.unwrap_or(""), limit32(limit));
        let rows: Vec<(String,)> = match after {
            Some(a) => {
                self.all(&r.st.holder_list_after, (t, role, s, a.as_str(), n))
                    .await?
            }
            None => self.all(&r.st.holder_list, (t, role, s, n)).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(u,)| UserId::from_stored(u))
            .collect())
    }

    async fn tenant_roles(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<String>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String,)> = self
            .all(&r.st.user_role_list, (tenant.as_str(), user.as_str()))
            .await?;
        Ok(rows.into_iter().map(|(r,)| r).collect())
    }

    async fn put_invitation(&self, invitation: &Invitation) -> StoreResult<bool> {
        let inv = invitation;
        if !self.org_exists(&inv.tenant, &inv.org_id).await? {
            return Ok(false);
        }
        // An invitation already past its expiry is as good as taken.
        let Some(ttl) = ttl_until(inv.expires_at) else {
            return Ok(true);
        };
        let r = self.region_of(&inv.tenant).await?;
        let (t, hash) = (inv.tenant.as_str(), &inv.token_hash.0[..]);
        let index = (t, inv.org_id.as_str(), inv.id.as_str(), hash, ttl);
        self.write(&r.st.invitation_id_put, index).await?;
        self.write(&r.st.invitation_put, (t, hash, encode(inv), ttl))
            .await?;
        Ok(true)
    }

    async fn get_invitation(
        &self,
        tenant: &TenantId,
        token_hash: &Hash32,
    ) -> StoreResult<Option<Invitation>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self
            .one(&r.st.invitation_get, (tenant.as_str(), &token_hash.0[..]))
            .await?;
        row.map(|(rec,)| decode(&rec)).transpose()
    }

    async fn take_invitation(
        &self,
        tenant: &TenantId,
        token_hash: &Hash32,
    ) -> StoreResult<Option<Invitation>> {
        let r = self.region_of(tenant).await?;
        let (t, hash) = (tenant.as_str(), &token_hash.0[..]);
        let row: Option<(Vec<u8>,)> = self.one(&r.st.invitation_get, (t, hash)).await?;
        let Some((record,)) = row else {
            return Ok(None);
        };
        if !self.lwt(&r.st.invitation_take, (t, hash, &record)).await? {
            return Ok(None);
        }
        let inv: Invitation = decode(&record)?;
        self.write(
            &r.st.invitation_id_delete,
            (t, inv.org_id.as_str(), inv.id.as_str()),
        )
        .await?;
        Ok(Some(inv))
    }

    async fn list_invitations(&self, tenant: &TenantId, org: &str) -> StoreResult<Vec<Invitation>> {
        let r = self.region_of(tenant).await?;
        let hashes: Vec<(Vec<u8>,)> = self
            .all(&r.st.invitation_id_list, (tenant.as_str(), org))
            .await?;
        let mut out = Vec::with_capacity(hashes.len());
        for (hash,) in hashes {
            let Ok(hash) = <[u8; 32]>::try_from(&hash[..]) else {
                continue;
            };
            if let Some(inv) = self.get_invitation(tenant, &Hash32(hash)).await? {
                out.push(inv);
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn delete_invitation(&self, tenant: &TenantId, org: &str, id: &str) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let row: Option<(Vec<u8>,)> = self.one(&r.st.invitation_id_get, (t, org, id)).await?;
        let Some((hash,)) = row else {
            return Ok(false);
        };
        let there: Option<(Vec<u8>,)> = self.one(&r.st.invitation_get, (t, &hash)).await?;
        self.lwt(&r.st.invitation_remove, (t, &hash)).await?;
        self.write(&r.st.invitation_id_delete, (t, org, id)).await?;
        Ok(there.is_some())
    }
}

impl ScyllaStore {
    /// A tenant move: copies the tenant's organisations, members, roles, who holds them
    /// and the open invitations to another region. Upserts only: a copy run again
    /// writes the same rows.
    pub(super) async fn copy_orgs(
        &self,
        from: &crate::Region,
        to: &crate::Region,
        tenant: &TenantId,
    ) -> StoreResult<()> {
        let t = tenant.as_str();
        let (f, n) = (&from.st, &to.st);
        let orgs: Vec<(Vec<u8>,)> = self.all(&f.org_list, (t, i32::MAX)).await?;
        for o in records::<Organization>(orgs)? {
            let id = o.id.as_str();
            self.write(&n.org_name_put, (t, o.name.as_str(), id))
                .await?;
            self.write(&n.org_put, (t, id, encode(&o))).await?;
            let members: Vec<(Vec<u8>,)> = self.all(&f.members_all, (t, id)).await?;
            for m in records::<Membership>(members)? {
                let u = m.user_id.as_str();
                self.write(&n.user_org_put, (t, u, id)).await?;
                self.write(&n.member_put, (t, id, u, encode(&m))).await?;
            }
        }
        for role in self.list_roles(tenant).await? {
            let r = role.id.as_str();
            self.write(&n.role_put, (t, r, encode(&role))).await?;
            let holders: Vec<(String, String)> = self.all(&f.holders_all, (t, r)).await?;
            for (scope, user) in holders {
                if scope.is_empty() {
                    self.write(&n.user_role_put, (t, user.as_str(), r)).await?;
                }
                self.write(&n.holder_put, (t, r, scope.as_str(), user.as_str()))
                    .await?;
            }
        }
        let invitations: Vec<(Vec<u8>,)> = self.all(&f.invitations_all, (t,)).await?;
        for inv in records::<Invitation>(invitations)? {
            let Some(ttl) = ttl_until(inv.expires_at) else {
                continue;
            };
            let hash = &inv.token_hash.0[..];
            let index = (t, inv.org_id.as_str(), inv.id.as_str(), hash, ttl);
            self.write(&n.invitation_id_put, index).await?;
            self.write(&n.invitation_put, (t, hash, encode(&inv), ttl))
                .await?;
        }
        Ok(())
    }

    /// A tenant move: removes the tenant's organisations and roles from the old region.
    pub(super) async fn purge_orgs(
        &self,
        from: &crate::Region,
        tenant: &TenantId,
    ) -> StoreResult<()> {
        let t = tenant.as_str();
        let f = &from.st;
        let orgs: Vec<(Vec<u8>,)> = self.all(&f.org_list, (t, i32::MAX)).await?;
        for o in records::<Organization>(orgs)? {
            let id = o.id.as_str();
            let members: Vec<(Vec<u8>,)> = self.all(&f.members_all, (t, id)).await?;
            for m in records::<Membership>(members)? {
                self.write(&f.user_orgs_delete, (t, m.user_id.as_str()))
                    .await?;
            }
            self.write(&f.members_delete, (t, id)).await?;
            self.write(&f.invitation_ids_delete, (t, id)).await?;
        }
        let roles: Vec<(Vec<u8>,)> = self.all(&f.role_list, (t,)).await?;
        for role in records::<Role>(roles)? {
            let r = role.id.as_str();
            let holders: Vec<(String, String)> = self.all(&f.holders_all, (t, r)).await?;
            for (scope, user) in holders {
                if scope.is_empty() {
                    self.write(&f.user_roles_delete, (t, user.as_str())).await?;
                }
            }
            self.write(&f.holders_delete, (t, r)).await?;
        }
        self.write(&f.roles_delete, (t,)).await?;
        self.write(&f.invitations_delete, (t,)).await?;
        self.write(&f.org_names_delete, (t,)).await?;
        self.write(&f.orgs_delete, (t,)).await
    }
}
