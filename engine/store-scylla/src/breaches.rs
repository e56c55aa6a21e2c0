//! [`BreachStore`]: declared breaches (`breach_incidents`) and each affected user's
//! notification (`breach_notices`, schema/0014_breaches.cql). An incident's notices are
//! spread over [`NOTICE_BUCKETS`] partitions; the paged walk goes bucket by bucket, user
//! ids ascending, so the last user returned says where the next page starts.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{bucket, decode, encode, int};
use tollgate_store::{BreachStore, StoreError, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::breach::{BreachNotice, Incident, NoticeState};

/// Partitions per incident for its notices.
const NOTICE_BUCKETS: i32 = 16;

/// Notices written at once while an incident is declared.
const WRITES_IN_FLIGHT: usize = 64;

fn notice_bucket(user: &UserId) -> i32 {
    bucket(user.as_str()) % NOTICE_BUCKETS
}

#[async_trait]
impl BreachStore for ScyllaStore {
    async fn create_incident(&self, incident: &Incident, users: &[UserId]) -> StoreResult<()> {
        let r = self.region_of(&incident.tenant).await?;
        let (t, id) = (incident.tenant.as_str(), incident.id.as_str());
        // Refused before its list is written: a taken id keeps the list it has.
        let existing: Option<(Vec<u8>,)> = self.one(&r.st.breach_get_serial, (t, id)).await?;
        if existing.is_some() {
            return Err(StoreError::Conflict);
        }
        let rows: Vec<(i32, &str, Vec<u8>)> = users
            .iter()
            .map(|u| {
                let n = BreachNotice {
                    tenant: incident.tenant.clone(),
                    incident: incident.id.clone(),
                    user_id: u.clone(),
                    state: NoticeState::Pending,
                    attempts: 0,
                };
                (notice_bucket(u), u.as_str(), encode(&n))
            })
            .collect();
        let st = &r.st.breach_notice_put;
        for part in rows.chunks(WRITES_IN_FLIGHT) {
            // Collected before the await: a lazy stream over the closure is not `Send`
            // for every lifetime, as `async_trait` needs.
            let writes: Vec<_> = part
                .iter()
                .map(|(b, u, rec)| self.lwt(st, (t, id, *b, *u, rec.as_slice())))
                .collect();
            // `false`: written already (the same declaration tried again); it stays.
            futures::future::try_join_all(writes).await?;
        }
        // The incident last: it is never read without its whole list.
        let values = (t, id, int(incident.declared_at), encode(incident));
        if self.lwt(&r.st.breach_insert, values).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn get_incident(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Incident>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self.one(&r.st.breach_get, (tenant.as_str(), id)).await?;
        row.map(|(rec,)| decode(&rec)).transpose()
    }

    async fn list_incidents(&self, tenant: &TenantId) -> StoreResult<Vec<Incident>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(Vec<u8>,)> = self.all(&r.st.breach_list, (tenant.as_str(),)).await?;
        let mut all = rows
            .iter()
            .map(|(rec,)| decode(rec))
            .collect::<StoreResult<Vec<Incident>>>()?;
        all.sort_by(|a, b| (a.declared_at, &a.id).cmp(&(b.declared_at, &b.id)));
        Ok(all)
    }

    async fn update_incident(&self, next: &Incident, expected: &Incident) -> StoreResult<bool> {
        if next.tenant != expected.tenant || next.id != expected.id {
            return Ok(false);
        }
        let r = self.region_of(&next.tenant).await?;
        let values = (
            encode(next),
            next.tenant.as_str(),
            next.id.as_str(),
            encode(expected),
        );
        self.lwt(&r.st.breach_update_if, values).await
    }

    async fn list_breach_notices(
        &self,
        tenant: &TenantId,
        incident: &str,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<BreachNotice>> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let (mut b, mut from) = match after {
            Some(u) => (notice_bucket(u), u.as_str().to_owned()),
            None => (0, String::new()),
        };
        let mut out = Vec::new();
        while b < NOTICE_BUCKETS && out.len() < limit {
            let want = i32::try_from(limit - out.len()).unwrap_or(i32::MAX);
            let rows: Vec<(String, Vec<u8>)> = self
                .all(
                    &r.st.breach_notices_after,
                    (t, incident, b, from.as_str(), want),
                )
                .await?;
            let full = rows.len() >= usize::try_from(want).unwrap_or(usize::MAX);
            for (_, rec) in &rows {
                out.push(decode(rec)?);
            }
            if !full {
                b += 1;
                from = String::new();
            }
        }
        Ok(out)
    }

    async fn update_breach_notice(
        &self,
        next: &BreachNotice,
        expected: &BreachNotice,
    ) -> StoreResult<bool> {
        if next.tenant != expected.tenant
            || next.incident != expected.incident
            || next.user_id != expected.user_id
        {
            return Ok(false);
        }
        let r = self.region_of(&next.tenant).await?;
        let u = next.user_id.as_str();
        let values = (
            encode(next),
            next.tenant.as_str(),
            next.incident.as_str(),
            notice_bucket(&next.user_id),
            u,
            encode(expected),
        );
        self.lwt(&r.st.breach_notice_update_if, values).await
    }

    /// One lightweight transaction per notice (a conditional batch must stay in one
    /// partition, and notices spread over several), a few at once.
    async fn update_breach_notices(
        &self,
        changes: &[(BreachNotice, BreachNotice)],
    ) -> StoreResult<Vec<bool>> {
        let mut done = Vec::with_capacity(changes.len());
        for part in changes.chunks(WRITES_IN_FLIGHT) {
            let updates: Vec<_> = part
                .iter()
                .map(|(next, expected)| self.update_breach_notice(next, expected))
                .collect();
            done.extend(futures::future::try_join_all(updates).await?);
        }
        Ok(done)
    }
}
