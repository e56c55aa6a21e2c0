//! [`EventStore`]: the audit trail, in bounded partitions.
//!
//! A tenant's trail is split by UTC hour and by [`EVENT_BUCKETS`] buckets (`events`), with
//! the hours that have events listed newest first (`event_hours`). Each event is also
//! copied under each user it names (`events_by_user`, one partition per user and month,
//! with the months listed in `event_user_months`): a user's events are read from there,
//! never from the tenant's trail. Every read names one partition, reads newest first with
//! `at < ?` and a `LIMIT`, in pages, and stops as soon as the answer is complete.

use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Stream, TryStreamExt};
use scylla::serialize::row::SerializeRow;
use scylla::statement::prepared::PreparedStatement;

use crate::errors::{corrupt, next_row_error, unavailable};
use crate::rows::{decode, encode, int};
use crate::{Region, ScyllaStore};
use tollgate_store::{EventQuery, EventStore, StoreResult};
use tollgate_vocab::crypto::sha256;
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::Event;

/// Buckets of one hour of a tenant's trail: one tenant's writes land on this many replica
/// sets. Part of the primary key: changing it needs a migration that rewrites `events`.
pub(super) const EVENT_BUCKETS: i32 = 8;

/// Index rows (hours, months) read at once.
const INDEX_PAGE: i32 = 48;

/// Rows fetched at once from one partition.
pub(super) const MAX_PAGE: usize = 1000;

/// Actors that are not users: their events are found in the tenant's trail only.
const NOT_USERS: [&str; 2] = ["admin", "system"];

/// Events of one partition (or of several, merged), newest first.
type Rows = Pin<Box<dyn Stream<Item = StoreResult<Event>> + Send>>;

/// The hour of the trail an event lands in (hours since the epoch, UTC).
pub(super) fn hour(at_ms: u64) -> i32 {
    i32::try_from(at_ms / 3_600_000).unwrap_or(i32::MAX)
}

/// The calendar month of a user's partition (months since 1970-01, UTC).
pub(super) fn month(at_ms: u64) -> i32 {
    // Civil-from-days (H. Hinnant's algorithm), for the year and month of a day.
    let days = i64::try_from(at_ms / 86_400_000).unwrap_or(i64::MAX / 2) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    i32::try_from((y - 1970) * 12 + m - 1).unwrap_or(i32::MAX)
}

/// The bucket of an event within its hour (a stable hash of its id).
fn event_bucket(id: &str) -> i32 {
    i32::from(sha256(id.as_bytes())[0]) % EVENT_BUCKETS
}

/// The users an event is filed under: its actor and its subject, when they are users.
pub(super) fn users_of(e: &Event) -> BTreeSet<&str> {
    e.actor
        .iter()
        .chain(e.subject.iter())
        .map(String::as_str)
        .filter(|u| !NOT_USERS.contains(u))
        .collect()
}

/// The time bounds of a query, as the store reads them.
struct Window {
    /// Events strictly before this (ms): the least of `until_ms` and just after the
    /// cursor's millisecond (the cursor's own millisecond is filtered by id).
    upper: Option<u64>,
    /// Events at or after this (ms).
    since: Option<u64>,
}

impl Window {
    fn of(q: &EventQuery) -> Self {
        let upper = q
            .until_ms
            .into_iter()
            .chain(q.before.as_ref().map(|(at, _)| at.saturating_add(1)))
            .min();
        Self {
            upper,
            since: q.since_ms,
        }
    }

    /// `at < ?` of a partition read.
    fn at_below(&self) -> i64 {
        self.upper.map_or(i64::MAX, int)
    }

    /// `hour < ?` or `month < ?` of an index read (`None`: the window is empty).
    fn key_below(&self, key: fn(u64) -> i32) -> Option<i32> {
        match self.upper {
            None => Some(i32::MAX),
            Some(0) => None,
            Some(u) => Some(key(u - 1).saturating_add(1)),
        }
    }
}

/// Merges streams that are each newest first into one stream newest first.
struct Merge {
    streams: Vec<Rows>,
    heads: Vec<Option<Event>>,
}

impl Merge {
    async fn new(mut streams: Vec<Rows>) -> StoreResult<Self> {
        let heads = futures::future::try_join_all(streams.iter_mut().map(|s| s.try_next())).await?;
        Ok(Self { streams, heads })
    }

    async fn next(&mut self) -> StoreResult<Option<Event>> {
        let newest = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|e| (i, (e.at_ms, e.id.as_str()))))
            .max_by(|a, b| a.1.cmp(&b.1))
            .map(|(i, _)| i);
        let Some(i) = newest else { return Ok(None) };
        let next = match self.streams.get_mut(i) {
            Some(s) => s.try_next().await?,
            None => None,
        };
        Ok(self
            .heads
            .get_mut(i)
            .and_then(|h| std::mem::replace(h, next)))
    }
}

#[async_trait]
impl EventStore for ScyllaStore {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        let mut regions: HashMap<&TenantId, Arc<Region>> = HashMap::new();
        let mut hours = BTreeSet::new();
        for e in events {
            if !regions.contains_key(&e.tenant) {
                regions.insert(&e.tenant, self.region_of(&e.tenant).await?);
            }
            hours.insert((&e.tenant, hour(e.at_ms)));
        }
        // The hour index first: an event in an unindexed hour would never be read back.
        // A node writes each hour once (then remembers it for as long as it trusts its
        // directory, so a tenant moved away and back gets its index rows again).
        futures::future::try_join_all(hours.into_iter().map(|(t, h)| {
            let r = &regions[t];
            async move {
                let key = (r.keyspace.clone(), t.clone(), h);
                if !self.inner.event_hours.contains_key(&key) {
                    self.write(&r.st.event_hour_put, (t.as_str(), h)).await?;
                    self.inner.event_hours.insert(key, ());
                }
                StoreResult::Ok(())
            }
        }))
        .await?;
        futures::future::try_join_all(
            events
                .iter()
                .map(|e| self.put_event(&regions[&e.tenant], e, encode(e))),
        )
        .await?;
        Ok(())
    }

    async fn recent_events(&self, tenant: &TenantId, limit: usize) -> StoreResult<Vec<Event>> {
        self.query_events(
            tenant,
            &EventQuery {
                limit,
                ..EventQuery::default()
            },
        )
        .await
    }

    /// A user's events come from their own partitions (`events_by_user`), months newest
    /// first; other queries walk the tenant's hours of the window newest first, the
    /// buckets of each hour merged. Without a `kind` filter a query reads about `limit`
    /// rows; with one, the events of the window until `limit` match (narrow it with
    /// `since_ms`).
    async fn query_events(&self, tenant: &TenantId, q: &EventQuery) -> StoreResult<Vec<Event>> {
        let mut out = Vec::new();
        if q.limit == 0 {
            return Ok(out);
        }
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let w = Window::of(q);
        let user = q.user.as_deref().filter(|u| !NOT_USERS.contains(u));
        let (key, index, index_values): (fn(u64) -> i32, _, _) = match user {
            Some(u) => (month, &r.st.user_event_months, Some(u)),
            None => (hour, &r.st.event_hours, None),
        };
        let Some(mut below) = w.key_below(key) else {
            return Ok(out);
        };
        let oldest = w.since.map(key);
        // Rows that a filter may drop: past the cursor, of another kind, of another user.
        let exact = q.kind.is_none() && q.before.is_none() && (user.is_some() || q.user.is_none());
        loop {
            let keys: Vec<(i32,)> = match index_values {
                Some(u) => self.all(index, (t, u, below, INDEX_PAGE)).await?,
                None => self.all(index, (t, below, INDEX_PAGE)).await?,
            };
            let full_page = keys.len() == usize::try_from(INDEX_PAGE).unwrap_or(usize::MAX);
            for (k,) in keys {
                if oldest.is_some_and(|o| k < o) {
                    return Ok(out);
                }
                below = k;
                let remaining = q.limit - out.len();
                let limit = if exact {
                    i32::try_from(remaining).unwrap_or(i32::MAX)
                } else {
                    i32::MAX
                };
                let page = remaining.clamp(1, MAX_PAGE) + 1;
                let mut rows = match user {
                    Some(u) => {
                        let values = (t, u, k, w.at_below(), limit);
                        self.rows(&r.st.user_events_of_month, values, page).await?
                    }
                    None => {
                        let buckets = (0..EVENT_BUCKETS).map(|b| {
                            let values = (t, k, b, w.at_below(), limit);
                            self.rows(&r.st.events_of_hour, values, page)
                        });
                        let merge = Merge::new(futures::future::try_join_all(buckets).await?);
                        merged(merge.await?)
                    }
                };
                while let Some(e) = rows.try_next().await? {
                    if w.since.is_some_and(|s| e.at_ms < s) {
                        return Ok(out);
                    }
                    if q.matches(&e) && q.in_window(&e) {
                        out.push(e);
                        if out.len() >= q.limit {
                            return Ok(out);
                        }
                    }
                }
            }
            if !full_page {
                return Ok(out);
            }
        }
    }
}

/// A [`Merge`] as a stream.
fn merged(m: Merge) -> Rows {
    Box::pin(futures::stream::try_unfold(m, |mut m| async move {
        Ok(m.next().await?.map(|e| (e, m)))
    }))
}

impl ScyllaStore {
    /// Writes an event's rows: in the trail, and under each of its users (the month
    /// index first, so no row is written where no read would look).
    async fn put_event(&self, r: &Region, e: &Event, record: Vec<u8>) -> StoreResult<()> {
        let t = e.tenant.as_str();
        let (at, m) = (int(e.at_ms), month(e.at_ms));
        let users = users_of(e);
        futures::future::try_join_all(
            users
                .iter()
                .map(|u| self.write(&r.st.user_event_month_put, (t, *u, m))),
        )
        .await?;
        let trail = self.write(
            &r.st.event_put,
            (
                t,
                hour(e.at_ms),
                event_bucket(&e.id),
                at,
                e.id.as_str(),
                &record,
            ),
        );
        let per_user = futures::future::try_join_all(
            users
                .iter()
                .map(|u| self.write(&r.st.user_event_put, (t, *u, m, at, e.id.as_str(), &record))),
        );
        futures::future::try_join(trail, per_user).await?;
        Ok(())
    }

    /// The events of one partition read, newest first, fetched `page` rows at a time.
    pub(super) async fn rows(
        &self,
        st: &PreparedStatement,
        values: impl SerializeRow,
        page: usize,
    ) -> StoreResult<Rows> {
        let mut st = st.clone();
        st.set_page_size(i32::try_from(page.max(1)).unwrap_or(i32::MAX));
        let rows = self
            .session()
            .execute_iter(st, values)
            .await
            .map_err(unavailable)?
            .rows_stream::<(Option<Vec<u8>>,)>()
            .map_err(corrupt)?
            .map_err(next_row_error)
            .try_filter_map(|(rec,)| async move { rec.map(|r| decode(&r)).transpose() });
        Ok(Box::pin(rows))
    }

    /// A tenant move: copies the trail and the users' copies, hour by hour. Upserts only.
    pub(super) async fn copy_events(
        &self,
        from: &Region,
        to: &Region,
        tenant: &TenantId,
    ) -> StoreResult<()> {
        let t = tenant.as_str();
        let hours = (t, i32::MAX, i32::MAX);
        self.each(&from.st.event_hours, hours, |(h,): (i32,)| async move {
            self.write(&to.st.event_hour_put, (t, h)).await?;
            for b in 0..EVENT_BUCKETS {
                let values = (t, h, b, i64::MAX, i32::MAX);
                self.each(
                    &from.st.events_of_hour,
                    values,
                    |(rec,): (Option<Vec<u8>>,)| async move {
                        let Some(rec) = rec else { return Ok(()) };
                        let e: Event = decode(&rec)?;
                        self.put_event(to, &e, rec).await
                    },
                )
                .await?;
            }
            Ok(())
        })
        .await
    }

    /// A tenant move, once copied: deletes the trail and the users' copies (found from
    /// the trail, so a purged user's copies go too), one partition at a time.
    pub(super) async fn purge_events(&self, from: &Region, tenant: &TenantId) -> StoreResult<()> {
        let t = tenant.as_str();
        let hours = (t, i32::MAX, i32::MAX);
        self.each(&from.st.event_hours, hours, |(h,): (i32,)| async move {
            for b in 0..EVENT_BUCKETS {
                let values = (t, h, b, i64::MAX, i32::MAX);
                let mut rows = self.rows(&from.st.events_of_hour, values, MAX_PAGE).await?;
                let mut partitions = BTreeSet::new();
                while let Some(e) = rows.try_next().await? {
                    for u in users_of(&e) {
                        partitions.insert((u.to_owned(), month(e.at_ms)));
                    }
                }
                let users: BTreeSet<&str> = partitions.iter().map(|(u, _)| u.as_str()).collect();
                futures::future::try_join_all(
                    partitions
                        .iter()
                        .map(|(u, m)| self.write(&from.st.user_events_delete, (t, u, *m))),
                )
                .await?;
                futures::future::try_join_all(
                    users
                        .iter()
                        .map(|u| self.write(&from.st.user_event_months_delete, (t, *u))),
                )
                .await?;
                self.write(&from.st.events_delete, (t, h, b)).await?;
            }
            Ok(())
        })
        .await?;
        self.write(&from.st.event_hours_delete, (t,)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_calendar_months_since_1970() {
        let at = |y: i64, days: i64| {
            // ms at the start of the day `days` after Jan 1 of year y (y >= 1970).
            let mut d = 0;
            for yy in 1970..y {
                let leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
                d += if leap { 366 } else { 365 };
            }
            u64::try_from((d + days) * 86_400_000).unwrap()
        };
        assert_eq!(month(0), 0);
        assert_eq!(month(at(1970, 31) - 1), 0, "Jan 31 1970, last ms");
        assert_eq!(month(at(1970, 31)), 1, "Feb 1 1970");
        assert_eq!(month(at(2024, 59)), 54 * 12 + 1, "Feb 29 2024");
        assert_eq!(month(at(2024, 60)), 54 * 12 + 2, "Mar 1 2024");
        assert_eq!(month(at(2026, 364)), 56 * 12 + 11, "Dec 31 2026");
        assert_eq!(month(at(2027, 0)), 57 * 12, "Jan 1 2027");
    }

    #[test]
    fn hours_and_buckets_are_stable() {
        assert_eq!(hour(3_599_999), 0);
        assert_eq!(hour(3_600_000), 1);
        assert!((0..EVENT_BUCKETS).contains(&event_bucket("abc")));
        assert_eq!(event_bucket("abc"), event_bucket("abc"));
    }

    #[test]
    fn admin_and_system_are_not_users() {
        let mut e = Event {
            tenant: TenantId::parse("acme").unwrap(),
            id: "e".into(),
            at_ms: 0,
            kind: "k".into(),
            actor: Some("admin".into()),
            subject: Some("u1".into()),
            client: None,
            ip: None,
            result: "success".into(),
            detail: None,
            sealed: None,
            erased: false,
        };
        assert_eq!(users_of(&e).into_iter().collect::<Vec<_>>(), ["u1"]);
        e.actor = Some("u1".into());
        assert_eq!(users_of(&e).len(), 1);
        e.actor = Some("system".into());
        e.subject = None;
        assert!(users_of(&e).is_empty());
    }
}
