//! [`BreachStore`]: a tenant's declared breaches and each affected user's notification.
//!
//! One keyspace, two key shapes: `tenant \0 i \0 id` holds an incident, and
//! `tenant \0 n \0 incident \0 user` one affected user's notice, so an incident's notices
//! are one prefix walk in user-id order (the order its paged walk keeps).

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, decode, io, key};
use tollgate_store::{BreachStore, StoreError, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::breach::{BreachNotice, Incident, NoticeState};

/// Notices written per write job: a long list is split so that no one batch holds the
/// writer for long; the incident itself is written after the last part.
const PART: usize = 5_000;

fn incident_key(tenant: &TenantId, id: &str) -> Vec<u8> {
    key(tenant, &[b"i", id.as_bytes()])
}

fn notice_key(tenant: &TenantId, incident: &str, user: &UserId) -> Vec<u8> {
    key(
        tenant,
        &[b"n", incident.as_bytes(), user.as_str().as_bytes()],
    )
}

#[async_trait]
impl BreachStore for EmbeddedStore {
    async fn create_incident(&self, incident: &Incident, users: &[UserId]) -> StoreResult<()> {
        if self
            .get_json::<Incident>(Ks::Breaches, &incident_key(&incident.tenant, &incident.id))?
            .is_some()
        {
            return Err(StoreError::Conflict);
        }
        for part in users.chunks(PART) {
            let (tenant, id) = (incident.tenant.clone(), incident.id.clone());
            let part = part.to_vec();
            self.write(move |tx| {
                for user_id in part {
                    let n = BreachNotice {
                        tenant: tenant.clone(),
                        incident: id.clone(),
                        user_id,
                        state: NoticeState::Pending,
                        attempts: 0,
                    };
                    tx.put_json(Ks::Breaches, notice_key(&tenant, &id, &n.user_id), &n);
                }
                Ok(())
            })
            .await?;
        }
        let i = incident.clone();
        self.write(move |tx| {
            let k = incident_key(&i.tenant, &i.id);
            if tx.get(Ks::Breaches, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put_json(Ks::Breaches, k, &i);
            Ok(())
        })
        .await
    }

    async fn get_incident(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Incident>> {
        self.get_json(Ks::Breaches, &incident_key(tenant, id))
    }

    async fn list_incidents(&self, tenant: &TenantId) -> StoreResult<Vec<Incident>> {
        let mut all: Vec<Incident> = self.scan_json(Ks::Breaches, &key(tenant, &[b"i", b""]))?;
        all.sort_by(|a, b| (a.declared_at, &a.id).cmp(&(b.declared_at, &b.id)));
        Ok(all)
    }

    async fn update_incident(&self, next: &Incident, expected: &Incident) -> StoreResult<bool> {
        if next.tenant != expected.tenant || next.id != expected.id {
            return Ok(false);
        }
        let (next, expected) = (next.clone(), expected.clone());
        self.write(move |tx| {
            let k = incident_key(&next.tenant, &next.id);
            let current: Option<Incident> = tx.get_json(Ks::Breaches, &k)?;
            if current.as_ref() != Some(&expected) {
                return Ok(false);
            }
            tx.put_json(Ks::Breaches, k, &next);
            Ok(true)
        })
        .await
    }

    async fn list_breach_notices(
        &self,
        tenant: &TenantId,
        incident: &str,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<BreachNotice>> {
        let prefix = key(tenant, &[b"n", incident.as_bytes(), b""]);
        let lo = match after {
            // Just past the last user returned.
            Some(u) => {
                let mut k = notice_key(tenant, incident, u);
                k.push(0);
                k
            }
            None => prefix.clone(),
        };
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::Breaches).range(lo..) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = kv.into_inner().map_err(io)?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(decode(&v)?);
        }
        Ok(out)
    }

    async fn update_breach_notice(
        &self,
        next: &BreachNotice,
        expected: &BreachNotice,
    ) -> StoreResult<bool> {
        let changes = [(next.clone(), expected.clone())];
        Ok(self.update_breach_notices(&changes).await?.first() == Some(&true))
    }

    async fn update_breach_notices(
        &self,
        changes: &[(BreachNotice, BreachNotice)],
    ) -> StoreResult<Vec<bool>> {
        let changes = changes.to_vec();
        // One write job: every compare-and-set against the state the batch leaves.
        self.write(move |tx| {
            let mut done = Vec::with_capacity(changes.len());
            for (next, expected) in changes {
                let same_notice = next.tenant == expected.tenant
                    && next.incident == expected.incident
                    && next.user_id == expected.user_id;
                let k = notice_key(&next.tenant, &next.incident, &next.user_id);
                let current: Option<BreachNotice> = tx.get_json(Ks::Breaches, &k)?;
                if !same_notice || current.as_ref() != Some(&expected) {
                    done.push(false);
                    continue;
                }
                tx.put_json(Ks::Breaches, k, &next);
                done.push(true);
            }
            Ok(done)
        })
        .await
    }
}
