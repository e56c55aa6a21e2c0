//! [`UserStore`]: users, their unique email claims and the deletion queue.

use std::collections::HashSet;

use async_trait::async_trait;
use futures::StreamExt;

use crate::errors::unavailable;
use crate::events::MAX_PAGE;
use crate::rows::{BUCKETS, bucket, decode, encode, hour, int};
use crate::{LWT_ATTEMPTS, Region, ScyllaStore};
use tollgate_store::{Imported, StoreError, StoreResult, UserStore};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::UserRecord;

/// Hours of the purge queue read per `deleted_users` call (the oldest first).
const PURGE_HOURS: i32 = 64;
/// Queue entries read per `deleted_users` call at most, stale ones included: a call is
/// bounded however many stale entries there are, and removes the ones it reads.
const PURGE_SCAN: usize = 2_000;
/// Seconds an entry of a user who is not (yet) deleted is left alone: a deletion writes
/// its entry just before the record, so a younger entry may belong to one still landing.
const IN_FLIGHT: i64 = 3_600;

impl ScyllaStore {
    /// One user of an import: whether it was created.
    async fn import_user(&self, user: &UserRecord, fresh: bool) -> Imported {
        if !fresh {
            return Imported::Taken;
        }
        match self.create_user(user).await {
            Ok(()) => Imported::Created,
            Err(StoreError::Conflict) => Imported::Taken,
            Err(e) => Imported::Failed(e.to_string()),
        }
    }
}

impl ScyllaStore {
    /// The user's live record (decoded and as stored), if it passes `ok`.
    async fn current_user(
        &self,
        r: &Region,
        user: &UserRecord,
        ok: impl Fn(&UserRecord) -> bool,
    ) -> StoreResult<Option<(UserRecord, Vec<u8>)>> {
        let (t, id) = (user.tenant.as_str(), user.id.as_str());
        let row: Option<(Option<Vec<u8>>,)> = self.one(&r.st.user_get, (t, bucket(id), id)).await?;
        let Some(raw) = row.and_then(|(r,)| r) else {
            return Ok(None);
        };
        let cur: UserRecord = decode(&raw)?;
        Ok((cur.deleted_at.is_none() && ok(&cur)).then_some((cur, raw)))
    }
}

#[async_trait]
impl UserStore for ScyllaStore {
    /// Inserts the user row (`IF NOT EXISTS` on the id), then claims the email
    /// (`IF NOT EXISTS`); a lost claim removes the user row again. A user row without
    /// its claim is unreachable, so a crash between the two leaves nothing visible.
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()> {
        let r = self.region_of(&user.tenant).await?;
        let (t, id, email) = (
            user.tenant.as_str(),
            user.id.as_str(),
            user.email_key.as_str(),
        );
        let b = bucket(id);
        if !self
            .lwt(&r.st.user_insert, (t, b, id, encode(user)))
            .await?
        {
            return Err(StoreError::Conflict);
        }
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let answer = self.lwt(&r.st.email_claim, (t, email, id)).await;
            match answer {
                Ok(true) => return Ok(()),
                Ok(false) if last_error.is_none() => break,
                // Not applied after a lost answer: the claim may be the one that attempt
                // made. Never remove our user row under our own claim.
                Ok(false) | Err(_) => {
                    let e = match answer {
                        Err(e) => e,
                        Ok(_) => unavailable("email claim: an earlier attempt may have applied"),
                    };
                    // Unknown outcome: a serial read settles the round and tells.
                    let owner: Option<(Option<String>,)> =
                        match self.one(&r.st.email_get_serial, (t, email)).await {
                            Ok(o) => o,
                            Err(_) => {
                                last_error = Some(e);
                                break;
                            }
                        };
                    match owner.and_then(|(o,)| o) {
                        Some(o) if o == id => return Ok(()),
                        Some(_) => break,
                        None => last_error = Some(e),
                    }
                }
            }
        }
        if let Err(e) = self.lwt(&r.st.user_remove, (t, b, id)).await {
            tracing::warn!(error = %e, "could not remove the user row of a failed sign-up; it is unreachable");
        }
        Err(last_error.unwrap_or(StoreError::Conflict))
    }

    /// Conditional on the record read: a profile save racing an email change or a
    /// deletion cannot write back the old login id or revive the user.
    async fn update_user(&self, user: &UserRecord) -> StoreResult<bool> {
        let r = self.region_of(&user.tenant).await?;
        let (t, id) = (user.tenant.as_str(), user.id.as_str());
        let b = bucket(id);
        let new = encode(user);
        for _ in 0..LWT_ATTEMPTS {
            let row: Option<(Option<Vec<u8>>,)> = self.one(&r.st.user_get, (t, b, id)).await?;
            let Some(raw) = row.and_then(|(r,)| r) else {
                return Ok(false);
            };
            let cur: UserRecord = decode(&raw)?;
            if cur.email_key != user.email_key || cur.deleted_at.is_some() {
                return Ok(false);
            }
            if self
                .lwt(&r.st.user_update_if, (&new, t, b, id, &raw))
                .await?
            {
                return Ok(true);
            }
        }
        Err(StoreError::Unavailable(
            "the user record kept changing under an update".into(),
        ))
    }

    /// Concurrently, each user on its own: one that times out does not stop the others.
    async fn create_users(&self, users: &[UserRecord]) -> StoreResult<Vec<Imported>> {
        // Within one import the first of two users with one email (or id) wins, as if
        // they were created in order; the rest run concurrently.
        let (mut emails, mut ids) = (HashSet::new(), HashSet::new());
        let fresh: Vec<bool> = users
            .iter()
            .map(|u| {
                let e = emails.insert((u.tenant.clone(), u.email_key.clone()));
                let i = ids.insert((u.tenant.clone(), u.id.clone()));
                e && i
            })
            .collect();
        let imports: Vec<_> = users
            .iter()
            .zip(fresh)
            .map(|(u, fresh)| self.import_user(u, fresh))
            .collect();
        Ok(futures::stream::iter(imports).buffered(16).collect().await)
    }

    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<UserRecord>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(
                &r.st.user_get,
                (tenant.as_str(), bucket(id.as_str()), id.as_str()),
            )
            .await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }

    /// Claims the new email (`IF NOT EXISTS`, settled by a serial read when the outcome
    /// is unknown), then writes the user, then deletes the old email row. A crash after
    /// the claim leaves the user reachable by the old address only; one after the write
    /// leaves an old row pointing to a user whose email differs, which
    /// `find_user_by_email` ignores.
    async fn change_user_email(&self, user: &UserRecord, old: &str) -> StoreResult<bool> {
        let r = self.region_of(&user.tenant).await?;
        let Some((_, raw)) = self
            .current_user(&r, user, |cur| cur.email_key == old)
            .await?
        else {
            return Ok(false);
        };
        let (t, id, email) = (
            user.tenant.as_str(),
            user.id.as_str(),
            user.email_key.as_str(),
        );
        if old != user.email_key {
            let mut claimed = false;
            let mut last_error = None;
            for _ in 0..LWT_ATTEMPTS {
                let owner: Option<(Option<String>,)> =
                    match self.lwt(&r.st.email_claim, (t, email, id)).await {
                        Ok(true) => {
                            claimed = true;
                            break;
                        }
                        Ok(false) => self.one(&r.st.email_get_serial, (t, email)).await?,
                        Err(e) => match self.one(&r.st.email_get_serial, (t, email)).await {
                            Ok(o) => {
                                last_error = Some(e);
                                o
                            }
                            Err(_) => return Err(e),
                        },
                    };
                match owner.and_then(|(o,)| o) {
                    // Ours: an earlier attempt of this change landed.
                    Some(o) if o == id => {
                        claimed = true;
                        break;
                    }
                    Some(_) => return Err(StoreError::Conflict),
                    None => {}
                }
            }
            if !claimed {
                return Err(last_error.unwrap_or(StoreError::Conflict));
            }
        }
        // Conditional on the record read, like every other write of a user row.
        let new = encode(user);
        if !self
            .lwt(&r.st.user_update_if, (&new, t, bucket(id), id, &raw))
            .await?
        {
            // Changed meanwhile: give the new address back.
            if old != user.email_key {
                self.lwt(&r.st.email_delete, (t, email, id)).await?;
            }
            return Ok(false);
        }
        if old != user.email_key {
            self.lwt(&r.st.email_delete, (t, old, id)).await?;
        }
        Ok(true)
    }

    async fn find_user_by_email(
        &self,
        tenant: &TenantId,
        email_key: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<String>,)> = self
            .one(&r.st.email_get, (tenant.as_str(), email_key))
            .await?;
        match row.and_then(|(id,)| id) {
            // An email row left behind by an interrupted email change points to a user
            // who no longer has that address.
            Some(id) => Ok(self
                .get_user(tenant, &UserId::from_stored(id))
                .await?
                .filter(|u| u.deleted_at.is_none() && u.email_key == email_key)),
            None => Ok(None),
        }
    }

    /// Queues the user for the purge first (its hour, then the entry), then writes the
    /// deleted record, then frees the login id: a crash in between leaves a user that is
    /// deleted or still whole, and the purge job finishes what was started. An entry left
    /// by a deletion that did not apply is removed here, or by the purge if that fails.
    /// Bucket by bucket, user ids ascending within one: `after` names the bucket and the
    /// position to go on from.
    async fn list_users(
        &self,
        tenant: &TenantId,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<UserRecord>> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let mut out = Vec::new();
        let (mut b, mut from) = match after {
            Some(u) => (bucket(u.as_str()), u.as_str().to_owned()),
            None => (0, String::new()),
        };
        let page = i32::try_from(MAX_PAGE).unwrap_or(i32::MAX);
        while b < BUCKETS && out.len() < limit {
            let rows: Vec<(String, Option<Vec<u8>>)> = self
                .all(&r.st.user_after, (t, b, from.as_str(), page))
                .await?;
            let full = rows.len() == MAX_PAGE;
            let last = rows.last().map(|(u, _)| u.clone());
            for (_, record) in rows {
                if out.len() >= limit {
                    return Ok(out);
                }
                if let Some(record) = record {
                    out.push(decode(&record)?);
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

    async fn soft_delete_user(&self, user: &UserRecord, old_email_key: &str) -> StoreResult<bool> {
        let Some(at) = user.deleted_at else {
            return Err(StoreError::Corrupt("soft delete without deleted_at".into()));
        };
        let r = self.region_of(&user.tenant).await?;
        let Some((_, raw)) = self.current_user(&r, user, |_| true).await? else {
            return Ok(false);
        };
        let (t, id) = (user.tenant.as_str(), user.id.as_str());
        let entry = (t, hour(at), int(at), id);
        self.write(&r.st.deletion_hour_put, (t, hour(at))).await?;
        self.write(&r.st.deletion_put, entry).await?;
        // Conditional on the record read: an update racing the deletion cannot win it back.
        if !self
            .lwt(
                &r.st.user_update_if,
                (encode(user), t, bucket(id), id, &raw),
            )
            .await?
        {
            // Another change (or deletion) won: this entry names no deletion of ours.
            if let Err(e) = self.write(&r.st.deletion_delete, entry).await {
                tracing::warn!(error = %e, "a stale purge entry stays until the purge removes it");
            }
            return Ok(false);
        }
        // Only while the claim is still this user's (IF user_id = ?).
        self.lwt(&r.st.email_delete, (t, old_email_key, id)).await?;
        Ok(true)
    }

    /// Reads the queue hour by hour, oldest first, at most `PURGE_SCAN` entries per
    /// call, and returns only entries that name a deletion still to purge: an entry whose
    /// user is gone, is deleted at another time, or (after `IN_FLIGHT`) is not deleted
    /// at all is removed as it is read, so stale entries never pile up at the head. An
    /// hour that is over and has nothing left is dropped whole (one partition tombstone
    /// instead of its rows'), with its row in `user_deletion_hours`.
    async fn deleted_users(
        &self,
        tenant: &TenantId,
        before: UnixTime,
        limit: usize,
    ) -> StoreResult<Vec<UserId>> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let last = hour(before);
        let hours: Vec<(i32,)> = self
            .all(&r.st.deletion_hours, (t, last, PURGE_HOURS))
            .await?;
        let (mut out, mut scanned) = (Vec::new(), 0usize);
        for (h,) in hours {
            if out.len() >= limit || scanned >= PURGE_SCAN {
                break;
            }
            let budget = i32::try_from(PURGE_SCAN - scanned).unwrap_or(i32::MAX);
            let entries: Vec<(i64, String)> = self
                .all(&r.st.deletion_list, (t, h, int(before), budget))
                .await?;
            if entries.is_empty() {
                // Over for more than an hour (no deletion can still be landing in it)
                // and empty: drop it whole.
                if h < last - 1 {
                    self.write(&r.st.deletions_delete, (t, h)).await?;
                    self.write(&r.st.deletion_hour_delete, (t, h)).await?;
                }
                continue;
            }
            for (at, id) in entries {
                scanned += 1;
                let uid = UserId::from_stored(id);
                let deleted_at = self.get_user(tenant, &uid).await?.map(|u| u.deleted_at);
                match deleted_at {
                    // The deletion this entry queued: to purge.
                    Some(Some(d)) if int(d) == at => {
                        out.push(uid);
                        if out.len() >= limit {
                            break;
                        }
                    }
                    // Not deleted, and young: a deletion that may still be landing.
                    Some(None) if at.saturating_add(IN_FLIGHT) >= int(before) => {}
                    // Gone (purged), deleted at another time (its own entry is queued), or
                    // never deleted (a deletion that failed half-way): stale.
                    _ => {
                        self.write(&r.st.deletion_delete, (t, h, at, uid.as_str()))
                            .await?;
                    }
                }
            }
        }
        Ok(out)
    }

    async fn purge_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<bool> {
        let Some(at) = self.get_user(tenant, id).await?.and_then(|u| u.deleted_at) else {
            return Ok(false);
        };
        let r = self.region_of(tenant).await?;
        let (t, id) = (tenant.as_str(), id.as_str());
        self.lwt(&r.st.user_key_remove, (t, id)).await?;
        // Conditional, like every write of a user row (a plain delete could lose to, or
        // hide, a conditional write from a coordinator whose clock differs).
        self.lwt(&r.st.user_remove, (t, bucket(id), id)).await?;
        // If this fails, the entry names a user that is gone: the next read removes it.
        self.write(&r.st.deletion_delete, (t, hour(at), int(at), id))
            .await?;
        Ok(true)
    }
}
