//! [`ChallengeStore`]: single-use challenges, their tries spent and taken atomically.

use ::scylla::value::CqlValue;
use async_trait::async_trait;

use crate::errors::{corrupt, unavailable};
use crate::rows::{
    ChallengeRow, StoredChallenge, challenge_from_row, encode, int32, lwt_answer, ttl_until,
};
use crate::{LWT_ATTEMPTS, Region, ScyllaStore};
use tollgate_store::{ChallengeStore, StoreError, StoreResult};
use tollgate_vocab::crypto::random_token;
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::{Challenge, Hash32};

impl ScyllaStore {
    async fn read_challenge(
        &self,
        region: &Region,
        tenant: &str,
        key: &[u8],
        serial: bool,
    ) -> StoreResult<Option<StoredChallenge>> {
        let st = if serial {
            &region.st.challenge_get_serial
        } else {
            &region.st.challenge_get
        };
        match self.one::<ChallengeRow>(st, (tenant, key)).await? {
            Some(row) => challenge_from_row(row),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl ChallengeStore for ScyllaStore {
    /// `INSERT ... IF NOT EXISTS USING TTL ?`; an already expired challenge is not written.
    /// A taken challenge keeps its key until its TTL ends (keys are hashes of random
    /// handles, never reused).
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        let Some(ttl) = ttl_until(challenge.expires_at) else {
            return Ok(());
        };
        let r = self.region_of(&challenge.tenant).await?;
        let (t, k) = (challenge.tenant.as_str(), &challenge.key.0[..]);
        let record = encode(challenge);
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let values = (t, k, &record, int32(challenge.tries_left), ttl);
            let answer = self.lwt(&r.st.challenge_insert, values).await;
            match answer {
                Ok(true) => return Ok(()),
                // Not applied, and no earlier attempt of ours can have been.
                Ok(false) if last_error.is_none() => return Err(StoreError::Conflict),
                // Unknown outcome now or before: "not applied" may be our own row.
                Ok(false) | Err(_) => {
                    let e = match answer {
                        Err(e) => e,
                        Ok(_) => {
                            unavailable("challenge creation: an earlier attempt may have applied")
                        }
                    };
                    let row: Option<ChallengeRow> =
                        match self.one(&r.st.challenge_get_serial, (t, k)).await {
                            Ok(row) => row,
                            Err(_) => return Err(e),
                        };
                    match row {
                        Some((Some(stored), ..)) if stored == record => return Ok(()),
                        Some(_) => return Err(StoreError::Conflict),
                        None => last_error = Some(e),
                    }
                }
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("challenge creation did not complete")))
    }

    /// `UPDATE ... IF EXISTS` over the old row, taken or not (both Paxos rounds, like
    /// every other write of a challenge), or `INSERT ... IF NOT EXISTS` when there is none.
    async fn replace_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        let Some(ttl) = ttl_until(challenge.expires_at) else {
            return Ok(());
        };
        let r = self.region_of(&challenge.tenant).await?;
        let (t, k) = (challenge.tenant.as_str(), &challenge.key.0[..]);
        let record = encode(challenge);
        let tries = int32(challenge.tries_left);
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let written = match self
                .lwt(&r.st.challenge_replace, (ttl, &record, tries, t, k))
                .await
            {
                Ok(true) => Ok(true),
                // No row: create it (a concurrent creation sends us round again).
                Ok(false) => {
                    self.lwt(&r.st.challenge_insert, (t, k, &record, tries, ttl))
                        .await
                }
                Err(e) => Err(e),
            };
            match written {
                Ok(true) => return Ok(()),
                Ok(false) => continue,
                Err(e) => {
                    let row: Option<ChallengeRow> =
                        match self.one(&r.st.challenge_get_serial, (t, k)).await {
                            Ok(row) => row,
                            Err(_) => return Err(e),
                        };
                    match row {
                        Some((Some(stored), _, None, _)) if stored == record => return Ok(()),
                        _ => last_error = Some(e),
                    }
                }
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("challenge replacement did not complete")))
    }

    async fn get_challenge(
        &self,
        tenant: &TenantId,
        key: &Hash32,
    ) -> StoreResult<Option<Challenge>> {
        let r = self.region_of(tenant).await?;
        let c = self
            .read_challenge(&r, tenant.as_str(), &key.0, false)
            .await?;
        Ok(c.filter(|c| c.taken_by.is_none()).map(|c| c.challenge))
    }

    /// Marks the challenge taken with a random taker id, `IF taken_by = null AND
    /// tries_left = ?` (the count proves the row exists and is the one returned); a
    /// concurrent spent try makes it go again from the count the answer carries. After a
    /// timeout a serial read tells whether this caller took it. A taken challenge stays,
    /// unusable, until its TTL ends.
    async fn take_challenge(
        &self,
        tenant: &TenantId,
        key: &Hash32,
    ) -> StoreResult<Option<Challenge>> {
        let r = self.region_of(tenant).await?;
        let (t, k) = (tenant.as_str(), &key.0[..]);
        let Some(mut state) = self.read_challenge(&r, t, k, false).await? else {
            return Ok(None);
        };
        let me = random_token::<12>();
        let ttl = ttl_until(state.challenge.expires_at).unwrap_or(1);
        let (mut stalled, mut last_error) = (0, None);
        // Every lost round either ends the loop or shows a lower count, so it ends.
        while stalled < LWT_ATTEMPTS {
            if state.taken_by.is_some() {
                return Ok(None);
            }
            let left = int32(state.challenge.tries_left);
            let values = (ttl, me.as_str(), t, k, left);
            let answer = self
                .exec(&r.st.challenge_take, values)
                .await
                .and_then(|a| lwt_answer(a, ["tries_left", "taken_by"]));
            match answer {
                Ok((true, _)) => return Ok(Some(state.challenge)),
                // An earlier attempt of ours, whose answer was lost, took it.
                Ok((false, [_, Some(CqlValue::Text(by))])) if by == me => {
                    return Ok(Some(state.challenge));
                }
                Ok((false, [Some(CqlValue::Int(now_left)), None])) => {
                    if now_left >= left {
                        stalled += 1;
                    }
                    state.challenge.tries_left = u32::try_from(now_left).map_err(corrupt)?;
                }
                // Taken by another caller, or gone.
                Ok((false, _)) => return Ok(None),
                Err(e) => {
                    let now = match self.read_challenge(&r, t, k, true).await {
                        Ok(now) => now,
                        Err(_) => return Err(e),
                    };
                    match now {
                        Some(s) if s.taken_by.as_deref() == Some(me.as_str()) => {
                            return Ok(Some(state.challenge));
                        }
                        Some(s) => state = s,
                        None => return Ok(None),
                    }
                    stalled += 1;
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("taking the challenge did not complete")))
    }

    /// `UPDATE ... SET tries_left = <n - 1>, spent_by = spent_by + {<random>} IF taken_by =
    /// null AND tries_left = <n>`. Of racing callers one wins each round; the others go
    /// again from the count the answer carries, so each try is spent exactly once. After a
    /// timeout a serial read tells (by `spent_by`) whether this caller spent one.
    async fn spend_try(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<Challenge>> {
        let r = self.region_of(tenant).await?;
        let (t, k) = (tenant.as_str(), &key.0[..]);
        let Some(mut state) = self.read_challenge(&r, t, k, false).await? else {
            return Ok(None);
        };
        let me = random_token::<12>();
        let ttl = ttl_until(state.challenge.expires_at).unwrap_or(1);
        let (mut stalled, mut last_error) = (0, None);
        // Every lost round either ends the loop or shows a lower count, so it ends.
        while stalled < LWT_ATTEMPTS {
            if !state.open() {
                return Ok(None);
            }
            let left = int32(state.challenge.tries_left);
            let values = (ttl, left - 1, vec![me.as_str()], t, k, left);
            let answer = self
                .exec(&r.st.challenge_spend, values)
                .await
                .and_then(|a| lwt_answer(a, ["tries_left", "taken_by"]));
            match answer {
                Ok((true, _)) => return Ok(Some(state.challenge)),
                Ok((false, [Some(CqlValue::Int(now_left)), None])) => {
                    // After a lost answer, the lower count may be our own spend: the
                    // serial read's `spent_by` says, so one guess never spends two tries.
                    if last_error.is_some()
                        && let Some(s) = self.read_challenge(&r, t, k, true).await?
                        && s.spent_by.contains(&me)
                    {
                        return Ok(Some(state.challenge));
                    }
                    if now_left >= left {
                        stalled += 1;
                    }
                    state.challenge.tries_left = u32::try_from(now_left).map_err(corrupt)?;
                }
                // Taken, or gone.
                Ok((false, _)) => return Ok(None),
                Err(e) => {
                    let now = match self.read_challenge(&r, t, k, true).await {
                        Ok(now) => now,
                        Err(_) => return Err(e),
                    };
                    match now {
                        Some(s) if s.spent_by.contains(&me) => {
                            return Ok(Some(state.challenge));
                        }
                        Some(s) => state = s,
                        None => return Ok(None),
                    }
                    stalled += 1;
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("spending a try did not complete")))
    }
}
