//! [`ChildStore`]: children's records.
//!
//! One keyspace, two key shapes: `tenant \0 c \0 user` holds the record, and
//! `tenant \0 p \0 expires_at (8 bytes, big-endian) user` indexes a pending one (empty
//! value), so the expiry job walks the pending records soonest first.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use crate::writer::Txn;
use tollgate_store::{ChildStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::children::ChildRecord;

fn record_key(tenant: &TenantId, user: &UserId) -> Vec<u8> {
    key(tenant, &[b"c", user.as_str().as_bytes()])
}

fn pending_prefix(tenant: &TenantId) -> Vec<u8> {
    key(tenant, &[b"p", b""])
}

fn pending_key(r: &ChildRecord) -> Option<Vec<u8>> {
    let at = r.expires_at()?;
    let mut k = pending_prefix(&r.tenant);
    k.extend_from_slice(&at.to_be_bytes());
    k.extend_from_slice(r.user.as_str().as_bytes());
    Some(k)
}

/// Writes `next` over `current` (if any), keeping the pending index in step.
fn replace(tx: &mut Txn<'_>, current: Option<&ChildRecord>, next: &ChildRecord) {
    if let Some(old) = current.and_then(pending_key) {
        tx.delete(Ks::Children, old);
    }
    if let Some(k) = pending_key(next) {
        tx.put(Ks::Children, k, Vec::new());
    }
    tx.put_json(Ks::Children, record_key(&next.tenant, &next.user), next);
}

#[async_trait]
impl ChildStore for EmbeddedStore {
    async fn put_child(&self, record: &ChildRecord) -> StoreResult<()> {
        let r = record.clone();
        self.write(move |tx| {
            let current: Option<ChildRecord> =
                tx.get_json(Ks::Children, &record_key(&r.tenant, &r.user))?;
            replace(tx, current.as_ref(), &r);
            Ok(())
        })
        .await
    }

    async fn get_child(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Option<ChildRecord>> {
        self.get_json(Ks::Children, &record_key(tenant, user))
    }

    async fn update_child(&self, next: &ChildRecord, expected: &ChildRecord) -> StoreResult<bool> {
        let (next, expected) = (next.clone(), expected.clone());
        self.write(move |tx| {
            if (&next.tenant, &next.user) != (&expected.tenant, &expected.user) {
                return Ok(false);
            }
            let current: Option<ChildRecord> =
                tx.get_json(Ks::Children, &record_key(&next.tenant, &next.user))?;
            if current.as_ref() != Some(&expected) {
                return Ok(false);
            }
            replace(tx, current.as_ref(), &next);
            Ok(true)
        })
        .await
    }

    async fn list_pending_children(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> StoreResult<Vec<ChildRecord>> {
        let prefix = pending_prefix(tenant);
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::Children).prefix(&prefix) {
            if out.len() >= limit {
                break;
            }
            let k = kv.key().map_err(io)?;
            let Some(user) = k
                .get(prefix.len() + 8..)
                .map(|u| UserId::from_stored(String::from_utf8_lossy(u).into_owned()))
            else {
                continue;
            };
            // An index entry whose record moved on is skipped.
            if let Some(r) = self.get_child(tenant, &user).await?
                && pending_key(&r).as_deref() == Some(&k[..])
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn delete_child(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let k = record_key(tenant, user);
        self.write(move |tx| {
            let current: Option<ChildRecord> = tx.get_json(Ks::Children, &k)?;
            if let Some(idx) = current.as_ref().and_then(pending_key) {
                tx.delete(Ks::Children, idx);
            }
            tx.delete(Ks::Children, k);
            Ok(())
        })
        .await
    }
}
