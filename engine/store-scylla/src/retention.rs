//! [`RetentionStore`]: users' last activity and legal holds (`user_activity`, in the users
//! table's buckets), dormancy notices (`dormancy_notices`, every write conditional), both
//! from schema/0011_retention.cql; and the purge of the audit trail by whole hours.
//!
//! The trail is filed by tenant, UTC hour and bucket (see `events`), so a purge walks the
//! tenant's hours older than the cut-off (from `event_hours`), deletes each event's copies
//! under its users, then the hour's partitions and its index row. An hour is removed only
//! when all of it is older than the cut-off: the hour the cut-off falls in waits for a
//! later run (at most one hour late).

use std::collections::BTreeSet;

use async_trait::async_trait;
use futures::TryStreamExt;

use crate::events::{EVENT_BUCKETS, MAX_PAGE, hour, month, users_of};
use crate::rows::{BUCKETS, bucket, decode, encode, int, uint};
use crate::{Region, ScyllaStore};
use tollgate_store::{RetentionStore, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Event;
use tollgate_vocab::model::retention::{Activity, DormancyNotice, LegalHold};

/// Index rows (hours) read at once by a purge.
const HOURS_PAGE: i32 = 48;

impl ScyllaStore {
    async fn notice_of(
        &self,
        r: &Region,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Option<DormancyNotice>> {
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&r.st.notice_get, (tenant.as_str(), user.as_str()))
            .await?;
        row.and_then(|(n,)| n).map(|n| decode(&n)).transpose()
    }

    /// A user's activity as a record (the notice read beside it), if it has a time.
    async fn activity_of(
        &self,
        r: &Region,
        tenant: &TenantId,
        user: &UserId,
        last_active: Option<i64>,
        hold: Option<Vec<u8>>,
    ) -> StoreResult<Option<Activity>> {
        let Some(at) = last_active else {
            return Ok(None);
        };
        Ok(Some(Activity {
            tenant: tenant.clone(),
            user_id: user.clone(),
            last_active: uint(at)?,
            notice: self.notice_of(r, tenant, user).await?,
            hold: hold.map(|h| decode(&h)).transpose()?,
        }))
    }
}

#[async_trait]
impl RetentionStore for ScyllaStore {
    /// Read, then write when later: two sign-ins at once both write, the later write
    /// winning (both are "now", a moment apart).
    async fn touch_activity(
        &self,
        tenant: &TenantId,
        user: &UserId,
        at: UnixTime,
    ) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        let row: Option<(Option<i64>, Option<Vec<u8>>)> =
            self.one(&r.st.activity_get, (t, bucket(u), u)).await?;
        if let Some((Some(last), _)) = row
            && uint(last)? >= at
        {
            return Ok(());
        }
        self.write(&r.st.activity_touch, (int(at), t, bucket(u), u))
            .await
    }

    async fn get_activity(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Option<Activity>> {
        let r = self.region_of(tenant).await?;
        let u = user.as_str();
        let row: Option<(Option<i64>, Option<Vec<u8>>)> = self
            .one(&r.st.activity_get, (tenant.as_str(), bucket(u), u))
            .await?;
        match row {
            Some((last, hold)) => self.activity_of(&r, tenant, user, last, hold).await,
            None => Ok(None),
        }
    }

    async fn update_dormancy_notice(
        &self,
        tenant: &TenantId,
        user: &UserId,
        expected: Option<&DormancyNotice>,
        next: Option<&DormancyNotice>,
    ) -> StoreResult<bool> {
        if self.get_activity(tenant, user).await?.is_none() {
            return Ok(false);
        }
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        match (expected, next) {
            (None, None) => Ok(self.notice_of(&r, tenant, user).await?.is_none()),
            (None, Some(n)) => self.lwt(&r.st.notice_insert, (t, u, encode(n))).await,
            (Some(e), Some(n)) => {
                self.lwt(&r.st.notice_update, (encode(n), t, u, encode(e)))
                    .await
            }
            (Some(e), None) => self.lwt(&r.st.notice_remove, (t, u, encode(e))).await,
        }
    }

    async fn set_legal_hold(
        &self,
        tenant: &TenantId,
        user: &UserId,
        hold: Option<&LegalHold>,
    ) -> StoreResult<bool> {
        if self.get_activity(tenant, user).await?.is_none() {
            return Ok(false);
        }
        let r = self.region_of(tenant).await?;
        let u = user.as_str();
        let values = (hold.map(encode), tenant.as_str(), bucket(u), u);
        self.write(&r.st.activity_hold, values).await?;
        Ok(true)
    }

    async fn delete_activity(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        self.lwt(&r.st.notice_delete, (t, u)).await?;
        self.write(&r.st.activity_delete, (t, bucket(u), u)).await
    }

    /// Buckets in order, user ids ascending within each: the walk's order.
    async fn list_inactive(
        &self,
        tenant: &TenantId,
        before: UnixTime,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<Activity>> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let mut out = Vec::new();
        let (mut b, mut from) = match after {
            Some(u) => (bucket(u.as_str()), u.as_str().to_owned()),
            None => (0, String::new()),
        };
        let page = i32::try_from(MAX_PAGE).unwrap_or(i32::MAX);
        while b < BUCKETS && out.len() < limit {
            let rows: Vec<(String, Option<i64>, Option<Vec<u8>>)> = self
                .all(&r.st.activity_after, (t, b, from.as_str(), page))
                .await?;
            let full = rows.len() == MAX_PAGE;
            let last = rows.last().map(|(u, _, _)| u.clone());
            for (u, at, hold) in rows {
                if out.len() >= limit {
                    return Ok(out);
                }
                if at.is_some_and(|a| a < int(before)) {
                    let user = UserId::from_stored(u);
                    if let Some(a) = self.activity_of(&r, tenant, &user, at, hold).await? {
                        out.push(a);
                    }
                }
            }
            match (full, last) {
                (true, Some(l)) => from = l,
                _ => {
                    b += 1;
                    from = String::new();
                }
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
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        // Only hours wholly before the cut-off.
        let below = hour(before_ms);
        let hours: Vec<(i32,)> = self.all(&r.st.event_hours, (t, below, HOURS_PAGE)).await?;
        let mut removed = 0u64;
        for (h,) in hours {
            if removed >= limit as u64 {
                break;
            }
            let mut months = BTreeSet::new();
            for b in 0..EVENT_BUCKETS {
                let values = (t, h, b, i64::MAX, i32::MAX);
                let mut rows = self.rows(&r.st.events_of_hour, values, MAX_PAGE).await?;
                let mut events: Vec<Event> = Vec::new();
                while let Some(e) = rows.try_next().await? {
                    events.push(e);
                }
                futures::future::try_join_all(events.iter().flat_map(|e| {
                    let (at, m) = (int(e.at_ms), month(e.at_ms));
                    users_of(e)
                        .into_iter()
                        .map(|u| self.write(&r.st.user_event_delete, (t, u, m, at, e.id.as_str())))
                        .collect::<Vec<_>>()
                }))
                .await?;
                for e in &events {
                    for u in users_of(e) {
                        months.insert((u.to_owned(), month(e.at_ms)));
                    }
                }
                removed += events.len() as u64;
                self.write(&r.st.events_delete, (t, h, b)).await?;
            }
            // A user's month index row goes once the whole month is before the cut-off.
            let open_month = month(before_ms);
            futures::future::try_join_all(
                months
                    .iter()
                    .filter(|(_, m)| *m < open_month)
                    .map(|(u, m)| self.write(&r.st.user_event_month_delete, (t, u.as_str(), *m))),
            )
            .await?;
            self.write(&r.st.event_hour_delete, (t, h)).await?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_hours_before_the_cut_off_are_purged() {
        // The hour the cut-off falls in is not below it.
        assert_eq!(hour(3_600_000 + 5), 1);
        assert!(hour(3_600_000 - 1) < hour(3_600_000 + 5));
        assert!(hour(3_600_000) >= hour(3_600_000 + 5));
    }
}
