//! Row mapping: model records to and from column values, and rows read back into records.

use ::scylla::response::query_result::QueryResult;
use ::scylla::value::{CqlValue, Row};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::errors::corrupt;
use tollgate_store::{StoreError, StoreResult};
use tollgate_vocab::clock::{Clock, SystemClock, UnixTime};
use tollgate_vocab::crypto::sha256;
use tollgate_vocab::model::{Chain, Challenge, Factor, Hash32, RevokeReason};

/// Buckets of the users, chain_index and denied partitions (see schema/0002_region.cql):
/// 10 M users make ~2.4 k rows per `users` partition, 100 M ~24 k. The count and
/// [`bucket`] are part of those tables' primary keys: changing either needs a migration
/// that rewrites them.
pub(super) const BUCKETS: i32 = 4096;

/// ScyllaDB refuses TTLs above 20 years.
const MAX_TTL: i64 = 630_720_000;
/// ScyllaDB still stores expiry times as 32-bit seconds (scylladb/scylladb#15116): stay
/// below 2038-01-19.
const MAX_EXPIRY: i64 = 2_147_483_000;

pub(super) fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    tollgate_vocab::json::to_vec(v)
}

pub(super) fn decode<T: DeserializeOwned>(v: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(v).map_err(corrupt)
}

pub(super) fn int(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

pub(super) fn uint(x: i64) -> StoreResult<u64> {
    u64::try_from(x).map_err(corrupt)
}

fn hash32(b: &[u8]) -> StoreResult<Hash32> {
    Ok(Hash32(b.try_into().map_err(|_| {
        StoreError::Corrupt("hash is not 32 bytes".into())
    })?))
}

/// Seconds from now (wall clock: ScyllaDB expires rows by its own clock) until
/// `expires_at`, capped to what ScyllaDB accepts; `None` if that moment has passed.
pub(super) fn ttl_until(expires_at: UnixTime) -> Option<i32> {
    let now = int(SystemClock.now());
    let end = int(expires_at)
        .min(MAX_EXPIRY)
        .min(now.saturating_add(MAX_TTL));
    let ttl = end - now;
    (ttl > 0).then(|| i32::try_from(ttl).unwrap_or(i32::MAX))
}

/// The bucket of a user id, chain id or jti: the first two bytes of SHA-256(s) as a
/// big-endian u16, mod [`BUCKETS`] (which divides 65536, so buckets are equally likely).
/// Stable forever: it is part of the primary key.
pub(super) fn bucket(s: &str) -> i32 {
    let h = sha256(s.as_bytes());
    i32::from(u16::from_be_bytes([h[0], h[1]])) % BUCKETS
}

/// The hour of a deletion (Unix seconds / 3600): the `user_deletions` partition its
/// queue entry lands in.
pub(super) fn hour(at: UnixTime) -> i32 {
    i32::try_from(at / 3600).unwrap_or(i32::MAX)
}

pub(super) fn reason_str(r: RevokeReason) -> &'static str {
    match r {
        RevokeReason::Reuse => "reuse",
        RevokeReason::Revoked => "revoked",
        RevokeReason::Logout => "logout",
    }
}

fn parse_reason(s: &str) -> StoreResult<RevokeReason> {
    match s {
        "reuse" => Ok(RevokeReason::Reuse),
        "revoked" => Ok(RevokeReason::Revoked),
        "logout" => Ok(RevokeReason::Logout),
        _ => Err(StoreError::Corrupt(format!("unknown revoke reason `{s}`"))),
    }
}

/// Whether a lightweight transaction applied: the `[applied]` column, always first.
pub(super) fn applied(r: QueryResult) -> StoreResult<bool> {
    let rows = r.into_rows_result().map_err(corrupt)?;
    let row = rows.maybe_first_row::<Row>().map_err(corrupt)?;
    match row.as_ref().and_then(|r| r.columns.first()) {
        Some(Some(CqlValue::Boolean(b))) => Ok(*b),
        _ => Err(StoreError::Corrupt(
            "conditional statement answered without [applied]".into(),
        )),
    }
}

/// The answer of a lightweight transaction: whether it applied, and the named columns of
/// the row as it was. ScyllaDB sends the old row whether or not the statement applied;
/// Cassandra sends the condition's columns when it did not. A column the answer lacks, or
/// a row that does not exist, reads as `None`.
pub(super) fn lwt_answer<const N: usize>(
    r: QueryResult,
    names: [&str; N],
) -> StoreResult<(bool, [Option<CqlValue>; N])> {
    let rows = r.into_rows_result().map_err(corrupt)?;
    let row = rows.maybe_first_row::<Row>().map_err(corrupt)?;
    let columns = row.map(|r| r.columns).unwrap_or_default();
    let Some(Some(CqlValue::Boolean(applied))) = columns.first() else {
        return Err(StoreError::Corrupt(
            "conditional statement answered without [applied]".into(),
        ));
    };
    let specs = rows.column_specs();
    let values = names.map(|n| {
        specs
            .get_by_name(n)
            .and_then(|(i, _)| columns.get(i).cloned().flatten())
    });
    Ok((*applied, values))
}

/// A count as an `int` column holds it.
pub(super) fn int32(x: u32) -> i32 {
    i32::try_from(x).unwrap_or(i32::MAX)
}

/// The chain's state columns, as `chain_get` selects them.
pub(super) type ChainRow = (
    Option<i64>,
    Option<Vec<u8>>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>,
);

/// A row of `chain_all`: one token, with the chain's (static) state repeated.
pub(super) type ChainTokenRow = (
    Vec<u8>,
    Option<i64>,
    Option<i64>,
    Option<Vec<u8>>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>,
);

/// A factor's row, as `factor_get` selects it: lookup, version, written_by, record.
pub(super) type FactorRow = (Option<String>, Option<i64>, Option<String>, Option<Vec<u8>>);

/// A row of `factor_list`: the factor's id, then a [`FactorRow`].
pub(super) type FactorListRow = (
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>,
);

/// A lookup claim, as `lookup_get` selects it: user_id, id, claim, claimed_at.
pub(super) type LookupRow = (Option<String>, Option<String>, Option<String>, Option<i64>);

/// A challenge's row, as `challenge_get` selects it: record, tries_left, taken_by, spent_by.
pub(super) type ChallengeRow = (
    Option<Vec<u8>>,
    Option<i32>,
    Option<String>,
    Option<Vec<String>>,
);

/// A stored factor with the columns its conditions use.
pub(super) struct StoredFactor {
    pub(super) factor: Factor,
    pub(super) lookup: Option<String>,
    pub(super) version: i64,
    /// The random id of the call that wrote it last.
    pub(super) written_by: Option<String>,
}

pub(super) fn factor_from_row(row: FactorRow) -> StoreResult<Option<StoredFactor>> {
    let (lookup, version, written_by, record) = row;
    let Some(record) = record else {
        return Ok(None);
    };
    let factor: Factor = decode(&record)?;
    Ok(Some(StoredFactor {
        version: version.unwrap_or_else(|| int(factor.version)),
        factor,
        lookup,
        written_by,
    }))
}

/// A stored challenge: the record with its live `tries_left`, and who took or spent it.
pub(super) struct StoredChallenge {
    pub(super) challenge: Challenge,
    pub(super) taken_by: Option<String>,
    pub(super) spent_by: Vec<String>,
}

impl StoredChallenge {
    /// Still usable: not taken, and with a try left.
    pub(super) fn open(&self) -> bool {
        self.taken_by.is_none() && self.challenge.tries_left > 0
    }
}

pub(super) fn challenge_from_row(row: ChallengeRow) -> StoreResult<Option<StoredChallenge>> {
    let (record, tries_left, taken_by, spent_by) = row;
    let Some(record) = record else {
        return Ok(None);
    };
    let mut challenge: Challenge = decode(&record)?;
    if let Some(n) = tries_left {
        challenge.tries_left = u32::try_from(n).map_err(corrupt)?;
    }
    Ok(Some(StoredChallenge {
        challenge,
        taken_by,
        spent_by: spent_by.unwrap_or_default(),
    }))
}

/// The chain a row of its state describes: the immutable record, with the columns
/// that rotations and revocations change laid over it.
pub(super) fn chain_from_row(row: ChainRow) -> StoreResult<Option<Chain>> {
    let (generation, hash, rotated_at, _expires_at, revoked, record) = row;
    let Some(record) = record else {
        return Ok(None);
    };
    let mut c: Chain = decode(&record)?;
    if let Some(g) = generation {
        c.generation = uint(g)?;
    }
    if let Some(h) = hash {
        c.current_hash = hash32(&h)?;
    }
    if let Some(r) = rotated_at {
        c.rotated_at = uint(r)?;
    }
    c.revoked = revoked.as_deref().map(parse_reason).transpose()?;
    Ok(Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_follow_the_wall_clock_and_stay_within_limits() {
        let now = SystemClock.now();
        assert_eq!(ttl_until(now.saturating_sub(10)), None);
        let ttl = ttl_until(now + 60).unwrap();
        assert!((59..=60).contains(&ttl));
        let far = ttl_until(u64::MAX / 2).unwrap();
        assert!(i64::from(far) <= MAX_TTL && int(now) + i64::from(far) <= MAX_EXPIRY);
        assert!((0..BUCKETS).contains(&bucket("some-user")));
    }

    #[test]
    fn buckets_are_stable_and_spread() {
        // Part of the primary key: these values must never change.
        assert_eq!((bucket("some-user"), bucket("user-1")), (3728, 1730));
        let used: std::collections::HashSet<i32> =
            (0..20_000).map(|i| bucket(&format!("user-{i}"))).collect();
        assert!(
            used.len() > 3_900,
            "only {} of 4096 buckets used",
            used.len()
        );
        assert!(used.iter().all(|b| (0..BUCKETS).contains(b)));
        assert_eq!((hour(0), hour(3_599), hour(3_600)), (0, 0, 1));
    }
}
