//! [`EventStore`]: the audit trail, one partition per tenant and day.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;

use crate::errors::{corrupt, next_row_error, unavailable};
use crate::rows::{day, decode, encode, int};
use crate::{Region, ScyllaStore};
use tollgate_store::{EventQuery, EventStore, StoreResult};
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::Event;

#[async_trait]
impl EventStore for ScyllaStore {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        let mut regions: HashMap<&TenantId, Arc<Region>> = HashMap::new();
        let mut days = BTreeSet::new();
        for e in events {
            if !regions.contains_key(&e.tenant) {
                regions.insert(&e.tenant, self.region_of(&e.tenant).await?);
            }
            days.insert((&e.tenant, day(e.at_ms)));
        }
        // The day index first: an event on an unindexed day would never be read back.
        futures::future::try_join_all(days.into_iter().map(|(t, d)| {
            let r = &regions[t];
            self.write(&r.st.event_day_put, (t.as_str(), d))
        }))
        .await?;
        futures::future::try_join_all(events.iter().map(|e| {
            let r = &regions[&e.tenant];
            let values = (
                e.tenant.as_str(),
                day(e.at_ms),
                int(e.at_ms),
                e.id.as_str(),
                encode(e),
            );
            self.write(&r.st.event_put, values)
        }))
        .await?;
        Ok(())
    }

    async fn recent_events(&self, tenant: &TenantId, limit: usize) -> StoreResult<Vec<Event>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let mut days = self
            .session()
            .execute_iter(r.st.event_days.clone(), (t,))
            .await
            .map_err(unavailable)?
            .rows_stream::<(i32,)>()
            .map_err(corrupt)?;
        while let Some(row) = days.next().await {
            let (d,) = row.map_err(next_row_error)?;
            let remaining = i32::try_from(limit - out.len()).unwrap_or(i32::MAX);
            let rows: Vec<(Option<Vec<u8>>,)> =
                self.all(&r.st.events_of_day, (t, d, remaining)).await?;
            for (rec,) in rows {
                if let Some(rec) = rec {
                    out.push(decode(&rec)?);
                }
            }
            if out.len() >= limit {
                break;
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    /// Walks the tenant's days newest first (`event_days`), streaming each day's events
    /// in pages and filtering them here. Queries by user scan the days of the window too:
    /// an admin query, not a hot path; narrow it with `since_ms`.
    async fn query_events(&self, tenant: &TenantId, q: &EventQuery) -> StoreResult<Vec<Event>> {
        let mut out = Vec::new();
        if q.limit == 0 {
            return Ok(out);
        }
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let newest = q
            .until_ms
            .into_iter()
            .chain(q.before.as_ref().map(|(at, _)| at + 1))
            .min()
            .map(day);
        let oldest = q.since_ms.map(day);
        let mut days = self
            .session()
            .execute_iter(r.st.event_days.clone(), (t,))
            .await
            .map_err(unavailable)?
            .rows_stream::<(i32,)>()
            .map_err(corrupt)?;
        while let Some(row) = days.next().await {
            let (d,) = row.map_err(next_row_error)?;
            if newest.is_some_and(|n| d > n) {
                continue;
            }
            if oldest.is_some_and(|o| d < o) {
                break;
            }
            let mut rows = self
                .session()
                .execute_iter(r.st.events_of_day.clone(), (t, d, i32::MAX))
                .await
                .map_err(unavailable)?
                .rows_stream::<(Option<Vec<u8>>,)>()
                .map_err(corrupt)?;
            while let Some(row) = rows.next().await {
                let (rec,) = row.map_err(next_row_error)?;
                let Some(rec) = rec else { continue };
                let e: Event = decode(&rec)?;
                if q.matches(&e) && q.in_window(&e) {
                    out.push(e);
                    if out.len() >= q.limit {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }
}
