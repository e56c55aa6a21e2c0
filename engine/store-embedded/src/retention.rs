//! [`RetentionStore`]: users' activity records (`tenant \0 user`, so a tenant's records
//! are one range in user-id order) and the purge of the audit trail by time (its keys
//! end in `at ‖ id`, so the events older than a time are the front of the tenant's range).

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, decode, event_user_keys, io, key, tenant_prefix};
use tollgate_store::{RetentionStore, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Event;
use tollgate_vocab::model::retention::{Activity, DormancyNotice, LegalHold};

fn activity_key(tenant: &TenantId, user: &UserId) -> Vec<u8> {
    key(tenant, &[user.as_str().as_bytes()])
}

#[async_trait]
impl RetentionStore for EmbeddedStore {
    async fn touch_activity(
        &self,
        tenant: &TenantId,
        user: &UserId,
        at: UnixTime,
    ) -> StoreResult<()> {
        let (tenant, user) = (tenant.clone(), user.clone());
        self.write(move |tx| {
            let k = activity_key(&tenant, &user);
            let rec = match tx.get_json::<Activity>(Ks::Activity, &k)? {
                Some(a) if a.last_active >= at => return Ok(()),
                Some(a) => Activity {
                    last_active: at,
                    ..a
                },
                None => Activity {
                    tenant,
                    user_id: user,
                    last_active: at,
                    notice: None,
                    hold: None,
                },
            };
            tx.put_json(Ks::Activity, k, &rec);
            Ok(())
        })
        .await
    }

    async fn get_activity(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Option<Activity>> {
        self.get_json(Ks::Activity, &activity_key(tenant, user))
    }

    async fn update_dormancy_notice(
        &self,
        tenant: &TenantId,
        user: &UserId,
        expected: Option<&DormancyNotice>,
        next: Option<&DormancyNotice>,
    ) -> StoreResult<bool> {
        let k = activity_key(tenant, user);
        let (expected, next) = (expected.cloned(), next.cloned());
        self.write(move |tx| {
            let Some(mut a) = tx.get_json::<Activity>(Ks::Activity, &k)? else {
                return Ok(false);
            };
            if a.notice != expected {
                return Ok(false);
            }
            a.notice = next;
            tx.put_json(Ks::Activity, k, &a);
            Ok(true)
        })
        .await
    }

    async fn set_legal_hold(
        &self,
        tenant: &TenantId,
        user: &UserId,
        hold: Option<&LegalHold>,
    ) -> StoreResult<bool> {
        let k = activity_key(tenant, user);
        let hold = hold.cloned();
        self.write(move |tx| {
            let Some(mut a) = tx.get_json::<Activity>(Ks::Activity, &k)? else {
                return Ok(false);
            };
            a.hold = hold;
            tx.put_json(Ks::Activity, k, &a);
            Ok(true)
        })
        .await
    }

    async fn delete_activity(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let k = activity_key(tenant, user);
        self.write(move |tx| {
            tx.delete(Ks::Activity, k);
            Ok(())
        })
        .await
    }

    async fn list_inactive(
        &self,
        tenant: &TenantId,
        before: UnixTime,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<Activity>> {
        let prefix = tenant_prefix(tenant);
        let mut lo = prefix.clone();
        if let Some(u) = after {
            // Just past the last user returned.
            lo = activity_key(tenant, u);
            lo.push(0);
        }
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::Activity).range(lo..) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = kv.into_inner().map_err(io)?;
            if !k.starts_with(&prefix) {
                break;
            }
            let a: Activity = decode(&v)?;
            if a.last_active < before {
                out.push(a);
            }
        }
        Ok(out)
    }

    async fn purge_events(
        &self,
        tenant: &TenantId,
        before_ms: u64,
        limit: usize,
    ) -> StoreResult<u64> {
        let lo = tenant_prefix(tenant);
        let mut hi = lo.clone();
        hi.extend_from_slice(&before_ms.to_be_bytes());
        let mut doomed: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
        for kv in self.inner.ks(Ks::Events).range(lo..hi).take(limit.max(1)) {
            let (k, v) = kv.into_inner().map_err(io)?;
            let e: Event = decode(&v)?;
            doomed.push((k.to_vec(), event_user_keys(&e)));
        }
        if doomed.is_empty() {
            return Ok(0);
        }
        let n = doomed.len() as u64;
        self.write(move |tx| {
            for (k, index) in doomed {
                for ik in index {
                    tx.delete(Ks::EventsByUser, ik);
                }
                tx.delete(Ks::Events, k);
            }
            Ok(())
        })
        .await?;
        Ok(n)
    }
}
