//! [`OrgStore`]: organisations, memberships, roles and invitations, in one keyspace.
//!
//! Key shapes (after `tenant \0`):
//! - `o \0 org` the organisation; `n \0 name` its id (the unique name);
//! - `m \0 org \0 user` a membership; `u \0 user \0 org` the user's index of them;
//! - `r \0 role` a role; `a \0 role \0 scope \0 user` who holds it (scope: an org id, or
//!   empty for tenant-wide); `w \0 user \0 role` a user's tenant-wide roles;
//! - `i \0 token hash` an invitation (expiring); `j \0 org \0 id` its token hash.
//!
//! Every check of "does the organisation exist" runs inside the write job that depends
//! on it, so once `delete_org` has removed the organisation nothing can join it, and the
//! walk that follows removes everything it had.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use crate::writer::Txn;
use tollgate_store::{OrgStore, RoleScope, StoreError, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Hash32;
use tollgate_vocab::model::org::{Invitation, Membership, Organization, Role};

fn org_key(t: &TenantId, id: &str) -> Vec<u8> {
    key(t, &[b"o", id.as_bytes()])
}
fn name_key(t: &TenantId, name: &str) -> Vec<u8> {
    key(t, &[b"n", name.as_bytes()])
}
fn member_key(t: &TenantId, org: &str, user: &UserId) -> Vec<u8> {
    key(t, &[b"m", org.as_bytes(), user.as_str().as_bytes()])
}
fn user_org_key(t: &TenantId, user: &UserId, org: &str) -> Vec<u8> {
    key(t, &[b"u", user.as_str().as_bytes(), org.as_bytes()])
}
fn role_key(t: &TenantId, role: &str) -> Vec<u8> {
    key(t, &[b"r", role.as_bytes()])
}
fn holder_key(t: &TenantId, role: &str, scope: RoleScope<'_>, user: &UserId) -> Vec<u8> {
    key(
        t,
        &[
            b"a",
            role.as_bytes(),
            scope.unwrap_or("").as_bytes(),
            user.as_str().as_bytes(),
        ],
    )
}
fn tenant_role_key(t: &TenantId, user: &UserId, role: &str) -> Vec<u8> {
    key(t, &[b"w", user.as_str().as_bytes(), role.as_bytes()])
}
fn invitation_key(t: &TenantId, hash: &Hash32) -> Vec<u8> {
    key(t, &[b"i", &hash.0])
}
fn org_invitation_key(t: &TenantId, org: &str, id: &str) -> Vec<u8> {
    key(t, &[b"j", org.as_bytes(), id.as_bytes()])
}

/// `prefix` followed by the separator: the range of keys under it.
fn under(mut k: Vec<u8>) -> Vec<u8> {
    k.push(0);
    k
}

/// What follows `prefix` in a key, as text.
fn tail(k: &[u8], prefix: &[u8]) -> String {
    String::from_utf8_lossy(&k[prefix.len()..]).into_owned()
}

/// Writes a membership's role index for `roles`, dropping what `old` had.
fn index_roles(tx: &mut Txn<'_>, m: &Membership, old: Option<&Membership>) {
    let t = &m.tenant;
    if let Some(old) = old {
        for r in old.roles.iter().filter(|r| !m.roles.contains(r)) {
            tx.delete(Ks::Orgs, holder_key(t, r, Some(&m.org_id), &m.user_id));
        }
    }
    for r in &m.roles {
        tx.put(
            Ks::Orgs,
            holder_key(t, r, Some(&m.org_id), &m.user_id),
            Vec::new(),
        );
    }
}

/// Removes a membership and its index entries, inside a write job.
fn remove_membership(
    tx: &mut Txn<'_>,
    t: &TenantId,
    org: &str,
    user: &UserId,
) -> StoreResult<bool> {
    let k = member_key(t, org, user);
    let Some(m) = tx.get_json::<Membership>(Ks::Orgs, &k)? else {
        tx.delete(Ks::Orgs, user_org_key(t, user, org));
        return Ok(false);
    };
    for r in &m.roles {
        tx.delete(Ks::Orgs, holder_key(t, r, Some(org), user));
    }
    tx.delete(Ks::Orgs, user_org_key(t, user, org));
    tx.delete(Ks::Orgs, k);
    Ok(true)
}

impl EmbeddedStore {
    /// Keys under `prefix` (in order), after the item `after` if given, at most `limit`.
    fn keys_under(
        &self,
        prefix: &[u8],
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Vec<u8>>> {
        let lo = match after {
            Some(a) => {
                let mut k = prefix.to_vec();
                k.extend_from_slice(a.as_bytes());
                under(k)
            }
            None => prefix.to_vec(),
        };
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::Orgs).range(lo..) {
            if out.len() >= limit {
                break;
            }
            let k = kv.key().map_err(io)?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push(k.to_vec());
        }
        Ok(out)
    }
}

#[async_trait]
impl OrgStore for EmbeddedStore {
    async fn create_org(&self, org: &Organization) -> StoreResult<()> {
        let org = org.clone();
        self.write(move |tx| {
            let (ok, nk) = (
                org_key(&org.tenant, &org.id),
                name_key(&org.tenant, &org.name),
            );
            if tx.get(Ks::Orgs, &ok)?.is_some() || tx.get(Ks::Orgs, &nk)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put(Ks::Orgs, nk, org.id.as_bytes().to_vec());
            tx.put_json(Ks::Orgs, ok, &org);
            Ok(())
        })
        .await
    }

    async fn get_org(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Organization>> {
        self.get_json(Ks::Orgs, &org_key(tenant, id))
    }

    async fn find_org_by_name(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> StoreResult<Option<Organization>> {
        let Some(id) = self
            .inner
            .ks(Ks::Orgs)
            .get(name_key(tenant, name))
            .map_err(io)?
        else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        Ok(self.get_org(tenant, &id).await?.filter(|o| o.name == name))
    }

    async fn list_orgs(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Organization>> {
        let prefix = under(key(tenant, &[b"o"]));
        let mut out = Vec::new();
        for k in self.keys_under(&prefix, after, limit)? {
            if let Some(o) = self.get_json(Ks::Orgs, &k)? {
                out.push(o);
            }
        }
        Ok(out)
    }

    async fn update_org(&self, next: &Organization, expected: &Organization) -> StoreResult<bool> {
        let (next, expected) = (next.clone(), expected.clone());
        self.write(move |tx| {
            let k = org_key(&next.tenant, &next.id);
            let current: Option<Organization> = tx.get_json(Ks::Orgs, &k)?;
            if current.as_ref() != Some(&expected) || next.tenant != expected.tenant {
                return Ok(false);
            }
            if next.name != expected.name {
                let nk = name_key(&next.tenant, &next.name);
                if tx.get(Ks::Orgs, &nk)?.is_some() {
                    return Err(StoreError::Conflict);
                }
                tx.put(Ks::Orgs, nk, next.id.as_bytes().to_vec());
                tx.delete(Ks::Orgs, name_key(&next.tenant, &expected.name));
            }
            tx.put_json(Ks::Orgs, k, &next);
            Ok(true)
        })
        .await
    }

    async fn delete_org(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let (t, org) = (tenant.clone(), id.to_owned());
        let existed = self
            .write(move |tx| {
                let k = org_key(&t, &org);
                let Some(o) = tx.get_json::<Organization>(Ks::Orgs, &k)? else {
                    return Ok(false);
                };
                tx.delete(Ks::Orgs, name_key(&t, &o.name));
                tx.delete(Ks::Orgs, k);
                Ok(true)
            })
            .await?;
        // Nothing joins a missing organisation, so this walk sees all it had.
        let members = under(key(tenant, &[b"m", id.as_bytes()]));
        let invites = under(key(tenant, &[b"j", id.as_bytes()]));
        let member_keys = self.keys_under(&members, None, usize::MAX)?;
        let invite_keys = self.keys_under(&invites, None, usize::MAX)?;
        if member_keys.is_empty() && invite_keys.is_empty() {
            return Ok(existed);
        }
        let (t, org) = (tenant.clone(), id.to_owned());
        self.write(move |tx| {
            for k in member_keys {
                let user = UserId::from_stored(tail(&k, &members));
                remove_membership(tx, &t, &org, &user)?;
            }
            for k in invite_keys {
                if let Some(hash) = tx.get(Ks::Orgs, &k)?
                    && let Ok(hash) = <[u8; 32]>::try_from(&hash[..])
                {
                    tx.delete(Ks::Orgs, invitation_key(&t, &Hash32(hash)));
                }
                tx.delete(Ks::Orgs, k);
            }
            Ok(())
        })
        .await?;
        Ok(existed)
    }

    async fn put_membership(&self, membership: &Membership) -> StoreResult<bool> {
        let mut m = membership.clone();
        m.roles.sort();
        m.roles.dedup();
        self.write(move |tx| {
            let t = &m.tenant;
            if tx.get(Ks::Orgs, &org_key(t, &m.org_id))?.is_none() {
                return Ok(false);
            }
            let k = member_key(t, &m.org_id, &m.user_id);
            let old: Option<Membership> = tx.get_json(Ks::Orgs, &k)?;
            index_roles(tx, &m, old.as_ref());
            tx.put(Ks::Orgs, user_org_key(t, &m.user_id, &m.org_id), Vec::new());
            tx.put_json(Ks::Orgs, k, &m);
            Ok(true)
        })
        .await
    }

    async fn get_membership(
        &self,
        tenant: &TenantId,
        org: &str,
        user: &UserId,
    ) -> StoreResult<Option<Membership>> {
        self.get_json(Ks::Orgs, &member_key(tenant, org, user))
    }

    async fn delete_membership(
        &self,
        tenant: &TenantId,
        org: &str,
        user: &UserId,
    ) -> StoreResult<bool> {
        let (t, org, user) = (tenant.clone(), org.to_owned(), user.clone());
        self.write(move |tx| remove_membership(tx, &t, &org, &user))
            .await
    }

    async fn list_members(
        &self,
        tenant: &TenantId,
        org: &str,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<Membership>> {
        let prefix = under(key(tenant, &[b"m", org.as_bytes()]));
        let mut out = Vec::new();
        for k in self.keys_under(&prefix, after.map(UserId::as_str), limit)? {
            if let Some(m) = self.get_json(Ks::Orgs, &k)? {
                out.push(m);
            }
        }
        Ok(out)
    }

    async fn list_user_memberships(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<Membership>> {
        let prefix = under(key(tenant, &[b"u", user.as_str().as_bytes()]));
        let mut out = Vec::new();
        for k in self.keys_under(&prefix, None, usize::MAX)? {
            let org = tail(&k, &prefix);
            if let Some(m) = self.get_membership(tenant, &org, user).await? {
                out.push(m);
            }
        }
        Ok(out)
    }

    async fn delete_user_memberships(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let orgs_prefix = under(key(tenant, &[b"u", user.as_str().as_bytes()]));
        let roles_prefix = under(key(tenant, &[b"w", user.as_str().as_bytes()]));
        let orgs = self.keys_under(&orgs_prefix, None, usize::MAX)?;
        let roles = self.keys_under(&roles_prefix, None, usize::MAX)?;
        if orgs.is_empty() && roles.is_empty() {
            return Ok(());
        }
        let (t, user) = (tenant.clone(), user.clone());
        self.write(move |tx| {
            for k in orgs {
                remove_membership(tx, &t, &tail(&k, &orgs_prefix), &user)?;
            }
            for k in roles {
                let role = tail(&k, &roles_prefix);
                tx.delete(Ks::Orgs, holder_key(&t, &role, None, &user));
                tx.delete(Ks::Orgs, k);
            }
            Ok(())
        })
        .await
    }

    async fn put_role(&self, role: &Role) -> StoreResult<()> {
        let role = role.clone();
        self.write(move |tx| {
            tx.put_json(Ks::Orgs, role_key(&role.tenant, &role.id), &role);
            Ok(())
        })
        .await
    }

    async fn get_role(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Role>> {
        self.get_json(Ks::Orgs, &role_key(tenant, id))
    }

    async fn list_roles(&self, tenant: &TenantId) -> StoreResult<Vec<Role>> {
        self.scan_json(Ks::Orgs, &under(key(tenant, &[b"r"])))
    }

    async fn delete_role(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let (t, role) = (tenant.clone(), id.to_owned());
        let existed = self
            .write(move |tx| {
                let k = role_key(&t, &role);
                let there = tx.get(Ks::Orgs, &k)?.is_some();
                tx.delete(Ks::Orgs, k);
                Ok(there)
            })
            .await?;
        // Assigning a missing role writes nothing, so this walk sees every holder.
        let prefix = under(key(tenant, &[b"a", id.as_bytes()]));
        let holders = self.keys_under(&prefix, None, usize::MAX)?;
        if holders.is_empty() {
            return Ok(existed);
        }
        let (t, role) = (tenant.clone(), id.to_owned());
        self.write(move |tx| {
            for k in holders {
                let rest = tail(&k, &prefix);
                let Some((scope, user)) = rest.split_once('\0') else {
                    continue;
                };
                let user = UserId::from_stored(user.to_owned());
                if scope.is_empty() {
                    tx.delete(Ks::Orgs, tenant_role_key(&t, &user, &role));
                } else {
                    let mk = member_key(&t, scope, &user);
                    if let Some(mut m) = tx.get_json::<Membership>(Ks::Orgs, &mk)? {
                        m.roles.retain(|r| *r != role);
                        tx.put_json(Ks::Orgs, mk, &m);
                    }
                }
                tx.delete(Ks::Orgs, k);
            }
            Ok(())
        })
        .await?;
        Ok(existed)
    }

    async fn assign_role(
        &self,
        tenant: &TenantId,
        user: &UserId,
        role: &str,
        scope: RoleScope<'_>,
    ) -> StoreResult<bool> {
        let (t, user, role, scope) = (
            tenant.clone(),
            user.clone(),
            role.to_owned(),
            scope.map(str::to_owned),
        );
        self.write(move |tx| {
            if tx.get(Ks::Orgs, &role_key(&t, &role))?.is_none() {
                return Ok(false);
            }
            match &scope {
                Some(org) => {
                    let mk = member_key(&t, org, &user);
                    let Some(mut m) = tx.get_json::<Membership>(Ks::Orgs, &mk)? else {
                        return Ok(false);
                    };
                    if !m.roles.contains(&role) {
                        m.roles.push(role.clone());
                        m.roles.sort();
                    }
                    tx.put_json(Ks::Orgs, mk, &m);
                }
                None => tx.put(Ks::Orgs, tenant_role_key(&t, &user, &role), Vec::new()),
            }
            tx.put(
                Ks::Orgs,
                holder_key(&t, &role, scope.as_deref(), &user),
                Vec::new(),
            );
            Ok(true)
        })
        .await
    }

    async fn unassign_role(
        &self,
        tenant: &TenantId,
        user: &UserId,
        role: &str,
        scope: RoleScope<'_>,
    ) -> StoreResult<bool> {
        let (t, user, role, scope) = (
            tenant.clone(),
            user.clone(),
            role.to_owned(),
            scope.map(str::to_owned),
        );
        self.write(move |tx| {
            let held = match &scope {
                Some(org) => {
                    let mk = member_key(&t, org, &user);
                    match tx.get_json::<Membership>(Ks::Orgs, &mk)? {
                        Some(mut m) if m.roles.contains(&role) => {
                            m.roles.retain(|r| *r != role);
                            tx.put_json(Ks::Orgs, mk, &m);
                            true
                        }
                        _ => false,
                    }
                }
                None => {
                    let k = tenant_role_key(&t, &user, &role);
                    let held = tx.get(Ks::Orgs, &k)?.is_some();
                    tx.delete(Ks::Orgs, k);
                    held
                }
            };
            tx.delete(Ks::Orgs, holder_key(&t, &role, scope.as_deref(), &user));
            Ok(held)
        })
        .await
    }

    async fn list_role_members(
        &self,
        tenant: &TenantId,
        role: &str,
        scope: RoleScope<'_>,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<UserId>> {
        let prefix = under(key(
            tenant,
            &[b"a", role.as_bytes(), scope.unwrap_or("").as_bytes()],
        ));
        Ok(self
            .keys_under(&prefix, after.map(UserId::as_str), limit)?
            .iter()
            .map(|k| UserId::from_stored(tail(k, &prefix)))
            .collect())
    }

    async fn tenant_roles(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<String>> {
        let prefix = under(key(tenant, &[b"w", user.as_str().as_bytes()]));
        Ok(self
            .keys_under(&prefix, None, usize::MAX)?
            .iter()
            .map(|k| tail(k, &prefix))
            .collect())
    }

    async fn put_invitation(&self, invitation: &Invitation) -> StoreResult<bool> {
        let inv = invitation.clone();
        self.write(move |tx| {
            let t = &inv.tenant;
            if tx.get(Ks::Orgs, &org_key(t, &inv.org_id))?.is_none() {
                return Ok(false);
            }
            tx.put(
                Ks::Orgs,
                org_invitation_key(t, &inv.org_id, &inv.id),
                inv.token_hash.0.to_vec(),
            );
            tx.put_expiring(
                Ks::Orgs,
                invitation_key(t, &inv.token_hash),
                &inv,
                inv.expires_at,
            );
            Ok(true)
        })
        .await
    }

    async fn get_invitation(
        &self,
        tenant: &TenantId,
        token_hash: &Hash32,
    ) -> StoreResult<Option<Invitation>> {
        self.get_json(Ks::Orgs, &invitation_key(tenant, token_hash))
    }

    async fn take_invitation(
        &self,
        tenant: &TenantId,
        token_hash: &Hash32,
    ) -> StoreResult<Option<Invitation>> {
        let (t, hash) = (tenant.clone(), *token_hash);
        self.write(move |tx| {
            let k = invitation_key(&t, &hash);
            let Some(inv) = tx.get_json::<Invitation>(Ks::Orgs, &k)? else {
                return Ok(None);
            };
            tx.delete(Ks::Orgs, org_invitation_key(&t, &inv.org_id, &inv.id));
            tx.delete(Ks::Orgs, k);
            Ok(Some(inv))
        })
        .await
    }

    async fn list_invitations(&self, tenant: &TenantId, org: &str) -> StoreResult<Vec<Invitation>> {
        let prefix = under(key(tenant, &[b"j", org.as_bytes()]));
        let mut out: Vec<Invitation> = Vec::new();
        for kv in self.inner.ks(Ks::Orgs).prefix(&prefix) {
            let (_, hash) = kv.into_inner().map_err(io)?;
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
        let (t, org, id) = (tenant.clone(), org.to_owned(), id.to_owned());
        self.write(move |tx| {
            let jk = org_invitation_key(&t, &org, &id);
            let Some(hash) = tx.get(Ks::Orgs, &jk)? else {
                return Ok(false);
            };
            tx.delete(Ks::Orgs, jk);
            let Ok(hash) = <[u8; 32]>::try_from(&hash[..]) else {
                return Ok(true);
            };
            let k = invitation_key(&t, &Hash32(hash));
            let there = tx.get(Ks::Orgs, &k)?.is_some();
            tx.delete(Ks::Orgs, k);
            Ok(there)
        })
        .await
    }
}
