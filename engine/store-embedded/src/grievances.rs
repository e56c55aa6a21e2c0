//! [`GrievanceStore`]: a tenant's grievance tickets, their messages sealed by the engine.
//!
//! One keyspace, two key shapes: `tenant \0 g \0 id` holds the ticket, and
//! `tenant \0 u \0 user \0 id` indexes it under its user (empty value), so a user's
//! tickets and their erasure are one prefix walk, and the tenant's list is another.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use tollgate_store::{GrievanceStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::grievance::Grievance;

fn ticket_key(tenant: &TenantId, id: &str) -> Vec<u8> {
    key(tenant, &[b"g", id.as_bytes()])
}

fn user_prefix(tenant: &TenantId, user: &UserId) -> Vec<u8> {
    key(tenant, &[b"u", user.as_str().as_bytes(), b""])
}

fn oldest_first(all: &mut [Grievance]) {
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
}

#[async_trait]
impl GrievanceStore for EmbeddedStore {
    async fn put_grievance(&self, grievance: &Grievance) -> StoreResult<()> {
        let g = grievance.clone();
        self.write(move |tx| {
            let index = key(
                &g.tenant,
                &[b"u", g.user_id.as_str().as_bytes(), g.id.as_bytes()],
            );
            tx.put(Ks::Grievances, index, Vec::new());
            tx.put_json(Ks::Grievances, ticket_key(&g.tenant, &g.id), &g);
            Ok(())
        })
        .await
    }

    async fn update_grievance(&self, next: &Grievance, expected: &Grievance) -> StoreResult<bool> {
        let (next, expected) = (next.clone(), expected.clone());
        self.write(move |tx| {
            let k = ticket_key(&next.tenant, &next.id);
            let current: Option<Grievance> = tx.get_json(Ks::Grievances, &k)?;
            if current.as_ref() != Some(&expected) || next.user_id != expected.user_id {
                return Ok(false);
            }
            tx.put_json(Ks::Grievances, k, &next);
            Ok(true)
        })
        .await
    }

    async fn get_grievance(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Grievance>> {
        self.get_json(Ks::Grievances, &ticket_key(tenant, id))
    }

    async fn list_grievances(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> StoreResult<Vec<Grievance>> {
        let mut all: Vec<Grievance> = self.scan_json(Ks::Grievances, &key(tenant, &[b"g", b""]))?;
        oldest_first(&mut all);
        all.truncate(limit);
        Ok(all)
    }

    async fn list_user_grievances(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<Grievance>> {
        let prefix = user_prefix(tenant, user);
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::Grievances).prefix(&prefix) {
            let k = kv.key().map_err(io)?;
            let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            // An index entry whose ticket is gone (or another user's) is skipped.
            if let Some(g) = self.get_grievance(tenant, &id).await?
                && g.user_id == *user
            {
                out.push(g);
            }
        }
        oldest_first(&mut out);
        Ok(out)
    }

    async fn delete_user_grievances(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let prefix = user_prefix(tenant, user);
        let keys: Vec<Vec<u8>> = self
            .inner
            .ks(Ks::Grievances)
            .prefix(&prefix)
            .map(|kv| kv.key().map(|k| k.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        if keys.is_empty() {
            return Ok(());
        }
        let tenant = tenant.clone();
        let user = user.clone();
        self.write(move |tx| {
            for k in keys {
                let id = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                let ticket = ticket_key(&tenant, &id);
                let theirs = tx
                    .get_json::<Grievance>(Ks::Grievances, &ticket)?
                    .is_some_and(|g| g.user_id == user);
                if theirs {
                    tx.delete(Ks::Grievances, ticket);
                }
                tx.delete(Ks::Grievances, k);
            }
            Ok(())
        })
        .await
    }
}
