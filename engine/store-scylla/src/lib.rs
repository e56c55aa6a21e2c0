//! The ScyllaDB store: every region a keyspace, every statement prepared once.
//!
//! A residency region is a keyspace replicated only in that region's datacenters; the
//! global keyspace holds the migration ledger and the tenant directory (tenant -> region),
//! nothing personal. Each tenant-scoped call looks the tenant's region up (cached for a
//! few seconds) and runs against that region's prepared statements, with an execution
//! profile that routes token-aware to a datacenter of the region.
//!
//! Conditions that two nodes can race on are lightweight transactions: tenant, client,
//! email, factor, lookup-key and challenge creation (`IF NOT EXISTS`), code and challenge
//! redemption (`IF taken_by = null`), factor updates (`IF version = ?`), spent challenge
//! tries (`IF tries_left = ?`) and refresh rotation (a single-partition conditional batch,
//! `IF generation = ? AND revoked = null`).
//! When a lightweight transaction times out its outcome is unknown, so the store reads the
//! row back at serial consistency, which settles any round still in flight, and answers
//! from that. Rows that expire carry native TTLs, so [`Store::sweep_expired`] has nothing
//! to do. `schema/README.md` maps every method to its table and CQL.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ::scylla::client::execution_profile::{ExecutionProfile, ExecutionProfileHandle};
use ::scylla::client::session::Session as CqlSession;
use ::scylla::client::session_builder::SessionBuilder;
use ::scylla::deserialize::row::DeserializeRow;
use ::scylla::errors::NextRowError;
use ::scylla::policies::load_balancing::DefaultPolicy;
use ::scylla::response::query_result::QueryResult;
use ::scylla::serialize::batch::BatchValues;
use ::scylla::serialize::row::SerializeRow;
use ::scylla::statement::batch::{Batch, BatchType};
use ::scylla::statement::prepared::PreparedStatement;
use ::scylla::statement::unprepared::Statement;
use ::scylla::statement::{Consistency, SerialConsistency};
use ::scylla::value::{CqlTimestamp, CqlValue, Row};
use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use tollgate_store::RegionConfig;
use tollgate_store::*;
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::clock::{Clock, SystemClock};
use tollgate_vocab::crypto::{random_token, sha256};
use tollgate_vocab::ids::{ChainId, ClientId, TenantId, UserId};
use tollgate_vocab::model::DEFAULT_REGION;
use tollgate_vocab::model::privacy::{PrivacySettings, PurposeGrant};
use tollgate_vocab::model::{
    AuthCode, Chain, Challenge, Client, Consent, Event, Factor, Hash32, RevokeReason, Session,
    StoredKey, Tenant, UserRecord,
};

/// How Tollgate reaches its ScyllaDB cluster (`[store.scylla]`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScyllaConfig {
    /// Contact points, `host:port`; the driver discovers the rest of the cluster.
    pub nodes: Vec<String>,
    /// The datacenter this node runs in: token-aware routing prefers its replicas.
    pub local_dc: Option<String>,
    /// Consistency of reads and writes: one, two, three, quorum, all, local_quorum,
    /// each_quorum or local_one.
    pub consistency: String,
    /// Consistency of the Paxos rounds of lightweight transactions in region keyspaces:
    /// local_serial, or serial when one region spans several datacenters that all write.
    pub serial_consistency: String,
    /// The global keyspace (migration ledger and tenant directory).
    pub keyspace: String,
    /// Datacenter -> replication factor of the global keyspace.
    pub global_replication: BTreeMap<String, u32>,
    /// Client-side limit on each request, in milliseconds.
    pub request_timeout_ms: u64,
    /// User name, if the cluster authenticates.
    pub username: Option<String>,
    /// Password (prefer `password_file`). Never serialised, never in `Debug`.
    #[serde(skip_serializing)]
    pub password: Option<String>,
    /// File holding the password (trailing newline ignored); used when `password` is unset.
    pub password_file: Option<PathBuf>,
    /// The residency regions this deployment serves (filled from the top-level `[regions]`).
    pub regions: BTreeMap<String, RegionConfig>,
}

impl Default for ScyllaConfig {
    fn default() -> Self {
        Self {
            nodes: vec!["127.0.0.1:9042".into()],
            local_dc: None,
            consistency: "local_quorum".into(),
            serial_consistency: "local_serial".into(),
            keyspace: "tollgate".into(),
            global_replication: BTreeMap::from([("datacenter1".into(), 1)]),
            request_timeout_ms: 2_000,
            username: None,
            password: None,
            password_file: None,
            regions: BTreeMap::from([(
                DEFAULT_REGION.into(),
                RegionConfig {
                    datacenters: BTreeMap::from([("datacenter1".into(), 1)]),
                    keyspace: None,
                },
            )]),
        }
    }
}

impl fmt::Debug for ScyllaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScyllaConfig")
            .field("nodes", &self.nodes)
            .field("local_dc", &self.local_dc)
            .field("consistency", &self.consistency)
            .field("serial_consistency", &self.serial_consistency)
            .field("keyspace", &self.keyspace)
            .field("global_replication", &self.global_replication)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("password_file", &self.password_file)
            .field("regions", &self.regions)
            .finish()
    }
}

/// The message `connect` fails with when `tollgate migrate` has not been run.
const SCHEMA_OUTDATED: &str = "schema is missing or older than this binary: run `tollgate migrate`";

/// Buckets of the users, chain_index and denied partitions (see schema/0002_region.cql).
/// Changing it needs a migration that rewrites those tables.
const BUCKETS: i32 = 64;

/// Attempts of a lightweight transaction whose outcome a serial read showed was not decided.
const LWT_ATTEMPTS: usize = 3;

/// Age (seconds) after which a lookup claim that points to no factor is known to be left
/// behind by a crash rather than a creation in flight, and may be taken over.
const ORPHAN_CLAIM_AGE: u64 = 600;

/// Rows written at once while a tenant moves.
const MOVE_CONCURRENCY: usize = 32;

/// How long a node trusts its cached copy of a tenant's region.
const DIRECTORY_TTL: Duration = Duration::from_secs(10);

/// ScyllaDB refuses TTLs above 20 years.
const MAX_TTL: i64 = 630_720_000;
/// ScyllaDB still stores expiry times as 32-bit seconds (scylladb/scylladb#15116): stay
/// below 2038-01-19.
const MAX_EXPIRY: i64 = 2_147_483_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Global,
    Region,
}

struct Migration {
    version: i32,
    name: &'static str,
    scope: Scope,
    cql: &'static str,
}

/// Every migration this binary knows, in order. A migration is named `NNNN_<what>` after
/// its file; its scope (the first line of the file says it too) is `Global` (the global
/// keyspace) or `Region` (every region keyspace).
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_global",
        scope: Scope::Global,
        cql: include_str!("../../../schema/0001_global.cql"),
    },
    Migration {
        version: 2,
        name: "0002_region",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0002_region.cql"),
    },
    Migration {
        version: 3,
        name: "0003_factors",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0003_factors.cql"),
    },
    Migration {
        version: 4,
        name: "0004_user_index",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0004_user_index.cql"),
    },
    Migration {
        version: 5,
        name: "0005_privacy",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0005_privacy.cql"),
    },
    Migration {
        version: 6,
        name: "0006_federation",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0006_federation.cql"),
    },
    Migration {
        version: 7,
        name: "0007_consent_purposes",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0007_consent_purposes.cql"),
    },
];

impl Migration {
    fn checksum(&self) -> String {
        sha256(self.cql.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The statements, with `{keyspace}` and `{replication}` filled in.
    fn statements(&self, keyspace: &str, replication: &str) -> Vec<String> {
        split_cql(self.cql)
            .into_iter()
            .map(|s| {
                s.replace("{keyspace}", keyspace)
                    .replace("{replication}", replication)
            })
            .collect()
    }
}

/// Splits a CQL script on `;`, dropping `--` comments (outside string literals).
fn split_cql(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_str = !in_str;
                cur.push(c);
            }
            '-' if !in_str && chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        cur.push('\n');
                        break;
                    }
                }
            }
            ';' if !in_str => {
                let s = cur.trim();
                if !s.is_empty() {
                    out.push(s.to_owned());
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    let s = cur.trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
    out
}

/// What a configuration resolves to: checked names and the keyspaces to serve.
struct Plan {
    global: String,
    global_replication: String,
    regions: Vec<RegionPlan>,
    consistency: Consistency,
    serial: SerialConsistency,
    timeout: Duration,
}

struct RegionPlan {
    name: String,
    keyspace: String,
    replication: String,
    /// Where this region's statements are coordinated: `local_dc` if the region has
    /// replicas there, else the region's first datacenter. LOCAL_* consistency levels
    /// count replicas in the coordinator's datacenter, which must hold the region's data.
    prefer_dc: Option<String>,
}

fn valid_keyspace(s: &str) -> bool {
    s.len() <= 48
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn replication(what: &str, dcs: &BTreeMap<String, u32>) -> StoreResult<String> {
    if dcs.is_empty() {
        return Err(StoreError::Unavailable(format!(
            "{what} names no datacenters"
        )));
    }
    let mut s = String::from("{'class': 'NetworkTopologyStrategy'");
    for (dc, rf) in dcs {
        s.push_str(&format!(", '{}': {rf}", dc.replace('\'', "''")));
    }
    s.push('}');
    Ok(s)
}

fn parse_consistency(s: &str) -> StoreResult<Consistency> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "one" => Consistency::One,
        "two" => Consistency::Two,
        "three" => Consistency::Three,
        "quorum" => Consistency::Quorum,
        "all" => Consistency::All,
        "local_quorum" => Consistency::LocalQuorum,
        "each_quorum" => Consistency::EachQuorum,
        "local_one" => Consistency::LocalOne,
        _ => {
            return Err(StoreError::Unavailable(format!(
                "store.scylla.consistency `{s}` is not one of one, two, three, quorum, all, local_quorum, each_quorum, local_one"
            )));
        }
    })
}

fn parse_serial(s: &str) -> StoreResult<SerialConsistency> {
    match s.to_ascii_lowercase().as_str() {
        "serial" => Ok(SerialConsistency::Serial),
        "local_serial" => Ok(SerialConsistency::LocalSerial),
        _ => Err(StoreError::Unavailable(format!(
            "store.scylla.serial_consistency `{s}` is not serial or local_serial"
        ))),
    }
}

/// A read that takes part in Paxos, for the given serial consistency.
fn serial_read(s: SerialConsistency) -> Consistency {
    match s {
        SerialConsistency::Serial => Consistency::Serial,
        SerialConsistency::LocalSerial => Consistency::LocalSerial,
    }
}

impl Plan {
    fn new(cfg: &ScyllaConfig) -> StoreResult<Self> {
        if !valid_keyspace(&cfg.keyspace) {
            return Err(StoreError::Unavailable(format!(
                "store.scylla.keyspace `{}` must be 1-48 characters of a-z, 0-9 and _, starting with a letter",
                cfg.keyspace
            )));
        }
        if cfg.nodes.is_empty() {
            return Err(StoreError::Unavailable(
                "store.scylla.nodes names no node".into(),
            ));
        }
        let mut regions = Vec::new();
        for (name, rc) in &cfg.regions {
            let keyspace = rc
                .keyspace
                .clone()
                .unwrap_or_else(|| format!("{}_{name}", cfg.keyspace));
            if !valid_keyspace(&keyspace) || keyspace == cfg.keyspace {
                return Err(StoreError::Unavailable(format!(
                    "region `{name}`: keyspace `{keyspace}` must be 1-48 characters of a-z, 0-9 and _, starting with a letter, and differ from the global keyspace"
                )));
            }
            let prefer_dc = match &cfg.local_dc {
                Some(dc) if rc.datacenters.contains_key(dc) => Some(dc.clone()),
                _ => rc.datacenters.keys().next().cloned(),
            };
            regions.push(RegionPlan {
                name: name.clone(),
                replication: replication(&format!("region `{name}`"), &rc.datacenters)?,
                keyspace,
                prefer_dc,
            });
        }
        let mut seen = HashSet::new();
        if let Some(r) = regions.iter().find(|r| !seen.insert(r.keyspace.clone())) {
            return Err(StoreError::Unavailable(format!(
                "two regions share the keyspace `{}`",
                r.keyspace
            )));
        }
        Ok(Self {
            global: cfg.keyspace.clone(),
            global_replication: replication(
                "store.scylla.global_replication",
                &cfg.global_replication,
            )?,
            regions,
            consistency: parse_consistency(&cfg.consistency)?,
            serial: parse_serial(&cfg.serial_consistency)?,
            timeout: Duration::from_millis(cfg.request_timeout_ms.max(1)),
        })
    }

    /// The keyspaces and the scope of migrations each one gets, global first.
    fn targets(&self) -> Vec<(&str, &str, Scope)> {
        let mut t = vec![(
            self.global.as_str(),
            self.global_replication.as_str(),
            Scope::Global,
        )];
        for r in &self.regions {
            t.push((r.keyspace.as_str(), r.replication.as_str(), Scope::Region));
        }
        t
    }

    fn profile(
        &self,
        prefer_dc: Option<&str>,
        serial: SerialConsistency,
    ) -> ExecutionProfileHandle {
        let mut lb = DefaultPolicy::builder().token_aware(true);
        if let Some(dc) = prefer_dc {
            lb = lb.prefer_datacenter(dc.to_owned());
        }
        ExecutionProfile::builder()
            .consistency(self.consistency)
            .serial_consistency(Some(serial))
            .request_timeout(Some(self.timeout))
            .load_balancing_policy(lb.build())
            .build()
            .into_handle()
    }
}

fn credentials(cfg: &ScyllaConfig) -> StoreResult<Option<(String, String)>> {
    let Some(user) = &cfg.username else {
        return Ok(None);
    };
    let password = match (&cfg.password, &cfg.password_file) {
        (Some(p), _) => p.clone(),
        (None, Some(file)) => std::fs::read_to_string(file)
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot read store.scylla.password_file {}: {e}",
                    file.display()
                ))
            })?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        (None, None) => {
            return Err(StoreError::Unavailable(
                "store.scylla.username is set without password or password_file".into(),
            ));
        }
    };
    Ok(Some((user.clone(), password)))
}

async fn open_session(cfg: &ScyllaConfig, plan: &Plan) -> StoreResult<CqlSession> {
    let mut b = SessionBuilder::new()
        .known_nodes(&cfg.nodes)
        .connection_timeout(plan.timeout.max(Duration::from_secs(5)))
        // The default profile serves the global keyspace and migrations; directory writes
        // are linearizable across every datacenter holding it.
        .default_execution_profile_handle(
            plan.profile(cfg.local_dc.as_deref(), SerialConsistency::Serial),
        );
    if let Some(dc) = &cfg.local_dc {
        b = b.prefer_datacenter(dc.clone());
    }
    if let Some((user, password)) = credentials(cfg)? {
        b = b.user(user, password);
    }
    b.build().await.map_err(|e| {
        StoreError::Unavailable(short(format!(
            "cannot connect to ScyllaDB at {}: {e}",
            cfg.nodes.join(", ")
        )))
    })
}

fn short(mut s: String) -> String {
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// A request the cluster did not answer (timeout, unavailable replicas, lost connection).
fn unavailable(e: impl fmt::Display) -> StoreError {
    StoreError::Unavailable(short(format!("scylla: {e}")))
}

fn corrupt(e: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(short(e.to_string()))
}

fn next_row_error(e: NextRowError) -> StoreError {
    match e {
        NextRowError::RowDeserializationError(e) => corrupt(e),
        e => unavailable(e),
    }
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records serialise")
}

fn decode<T: DeserializeOwned>(v: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(v).map_err(corrupt)
}

fn int(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

fn uint(x: i64) -> StoreResult<u64> {
    u64::try_from(x).map_err(corrupt)
}

fn hash32(b: &[u8]) -> StoreResult<Hash32> {
    Ok(Hash32(b.try_into().map_err(|_| {
        StoreError::Corrupt("hash is not 32 bytes".into())
    })?))
}

/// Seconds from now (wall clock: ScyllaDB expires rows by its own clock) until
/// `expires_at`, capped to what ScyllaDB accepts; `None` if that moment has passed.
fn ttl_until(expires_at: UnixTime) -> Option<i32> {
    let now = int(SystemClock.now());
    let end = int(expires_at)
        .min(MAX_EXPIRY)
        .min(now.saturating_add(MAX_TTL));
    let ttl = end - now;
    (ttl > 0).then(|| i32::try_from(ttl).unwrap_or(i32::MAX))
}

/// The bucket of a user id or jti (a stable hash: it is part of the primary key).
fn bucket(s: &str) -> i32 {
    i32::from(sha256(s.as_bytes())[0]) % BUCKETS
}

/// The UTC day of an event: the partition of the audit trail it lands in.
fn day(at_ms: u64) -> i32 {
    i32::try_from(at_ms / 86_400_000).unwrap_or(i32::MAX)
}

fn reason_str(r: RevokeReason) -> &'static str {
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
fn applied(r: QueryResult) -> StoreResult<bool> {
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
fn lwt_answer<const N: usize>(
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
fn int32(x: u32) -> i32 {
    i32::try_from(x).unwrap_or(i32::MAX)
}

/// How a statement may be retried and read.
#[derive(Clone, Copy)]
enum Kind {
    /// A plain read: idempotent.
    Read,
    /// An upsert or delete without condition: idempotent.
    Write,
    /// A lightweight transaction: never retried blindly.
    Lwt,
    /// A read at serial consistency: sees (and settles) Paxos rounds in flight.
    SerialRead,
}

struct Preparer<'a> {
    session: &'a CqlSession,
    profile: ExecutionProfileHandle,
    serial_read: Consistency,
}

impl Preparer<'_> {
    async fn prep(&self, cql: String, kind: Kind) -> StoreResult<PreparedStatement> {
        let mut p = self.session.prepare(cql).await.map_err(|e| {
            StoreError::Unavailable(short(format!("preparing a statement failed: {e}")))
        })?;
        p.set_execution_profile_handle(Some(self.profile.clone()));
        match kind {
            Kind::Read | Kind::Write => p.set_is_idempotent(true),
            Kind::Lwt => {}
            Kind::SerialRead => {
                p.set_consistency(self.serial_read);
                p.set_is_idempotent(true);
            }
        }
        Ok(p)
    }
}

/// Statements on the global keyspace.
struct GlobalStatements {
    ping: PreparedStatement,
    tenant_insert: PreparedStatement,
    tenant_get: PreparedStatement,
    tenant_get_serial: PreparedStatement,
    tenant_region: PreparedStatement,
    tenant_list: PreparedStatement,
    tenant_move: PreparedStatement,
}

impl GlobalStatements {
    async fn prepare(p: &Preparer<'_>, g: &str) -> StoreResult<Self> {
        use Kind::*;
        Ok(Self {
            ping: p
                .prep(
                    format!("SELECT version FROM {g}.schema_migrations WHERE keyspace = ? LIMIT 1"),
                    Read,
                )
                .await?,
            tenant_insert: p
                .prep(
                    format!("INSERT INTO {g}.tenants (tenant, region, record) VALUES (?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            tenant_get: p
                .prep(format!("SELECT record FROM {g}.tenants WHERE tenant = ?"), Read)
                .await?,
            tenant_get_serial: p
                .prep(
                    format!("SELECT region, record FROM {g}.tenants WHERE tenant = ?"),
                    SerialRead,
                )
                .await?,
            tenant_region: p
                .prep(format!("SELECT region FROM {g}.tenants WHERE tenant = ?"), Read)
                .await?,
            tenant_list: p
                .prep(format!("SELECT record FROM {g}.tenants"), Read)
                .await?,
            tenant_move: p
                .prep(
                    format!("UPDATE {g}.tenants SET region = ?, record = ? WHERE tenant = ? IF region = ?"),
                    Lwt,
                )
                .await?,
        })
    }
}

/// Statements on one region keyspace.
struct RegionStatements {
    client_insert: PreparedStatement,
    client_put: PreparedStatement,
    client_get: PreparedStatement,
    client_list: PreparedStatement,
    clients_delete: PreparedStatement,
    user_insert: PreparedStatement,
    user_put: PreparedStatement,
    user_get: PreparedStatement,
    user_remove: PreparedStatement,
    user_list: PreparedStatement,
    users_delete: PreparedStatement,
    email_claim: PreparedStatement,
    email_put: PreparedStatement,
    email_get: PreparedStatement,
    email_get_serial: PreparedStatement,
    email_delete: PreparedStatement,
    user_delete: PreparedStatement,
    user_update_if: PreparedStatement,
    user_key_insert: PreparedStatement,
    user_key_put: PreparedStatement,
    user_key_get: PreparedStatement,
    user_key_delete: PreparedStatement,
    deletion_put: PreparedStatement,
    deletion_list: PreparedStatement,
    deletion_delete: PreparedStatement,
    deletions_delete: PreparedStatement,
    session_put: PreparedStatement,
    session_get: PreparedStatement,
    session_delete: PreparedStatement,
    session_user_put: PreparedStatement,
    session_user_list: PreparedStatement,
    session_user_delete: PreparedStatement,
    chain_user_put: PreparedStatement,
    chain_user_list: PreparedStatement,
    code_put: PreparedStatement,
    code_get: PreparedStatement,
    code_get_serial: PreparedStatement,
    code_take: PreparedStatement,
    chain_get: PreparedStatement,
    chain_get_serial: PreparedStatement,
    chain_all: PreparedStatement,
    chain_token_get: PreparedStatement,
    chain_revoke: PreparedStatement,
    chain_put: PreparedStatement,
    chain_token_put: PreparedStatement,
    chain_delete: PreparedStatement,
    chain_index_put: PreparedStatement,
    chain_index_list: PreparedStatement,
    chain_index_delete: PreparedStatement,
    key_put: PreparedStatement,
    key_list: PreparedStatement,
    keys_delete: PreparedStatement,
    consent_put: PreparedStatement,
    consent_get: PreparedStatement,
    consent_delete: PreparedStatement,
    consent_list: PreparedStatement,
    consents_delete: PreparedStatement,
    privacy_put: PreparedStatement,
    privacy_get: PreparedStatement,
    privacy_delete: PreparedStatement,
    grant_put: PreparedStatement,
    grant_list: PreparedStatement,
    grants_delete: PreparedStatement,
    deny_put: PreparedStatement,
    deny_get: PreparedStatement,
    deny_list: PreparedStatement,
    deny_delete: PreparedStatement,
    event_put: PreparedStatement,
    event_day_put: PreparedStatement,
    event_days: PreparedStatement,
    events_of_day: PreparedStatement,
    events_all_of_day: PreparedStatement,
    events_delete: PreparedStatement,
    event_days_delete: PreparedStatement,
    factor_insert: PreparedStatement,
    factor_put: PreparedStatement,
    factor_get: PreparedStatement,
    factor_get_serial: PreparedStatement,
    factor_list: PreparedStatement,
    /// `IF version = ? AND lookup = ?`, for factors with a lookup key.
    factor_update: PreparedStatement,
    /// `IF version = ? AND lookup = null`, for factors without one.
    factor_update_unkeyed: PreparedStatement,
    factor_remove: PreparedStatement,
    factors_delete: PreparedStatement,
    lookup_claim: PreparedStatement,
    lookup_put: PreparedStatement,
    lookup_get: PreparedStatement,
    lookup_get_serial: PreparedStatement,
    /// `IF claim = ?`: a creation gives back its own claim.
    lookup_release: PreparedStatement,
    /// `IF user_id = ? AND id = ?`: a deletion removes its factor's claim.
    lookup_remove: PreparedStatement,
    lookup_delete: PreparedStatement,
    challenge_insert: PreparedStatement,
    challenge_get: PreparedStatement,
    challenge_get_serial: PreparedStatement,
    challenge_spend: PreparedStatement,
    challenge_take: PreparedStatement,
    connector_put: PreparedStatement,
    connector_get: PreparedStatement,
    connector_list: PreparedStatement,
    connector_delete: PreparedStatement,
    link_insert: PreparedStatement,
    link_get: PreparedStatement,
    /// `IF user_id = ?`: only the owner's link is rewritten.
    link_update: PreparedStatement,
    /// `IF user_id = ?`: only the owner's link is removed.
    link_remove: PreparedStatement,
    link_user_put: PreparedStatement,
    link_user_list: PreparedStatement,
    link_user_delete: PreparedStatement,
    /// Tenant moves: plain copies and partition deletes.
    connectors_delete: PreparedStatement,
    link_put: PreparedStatement,
    link_delete: PreparedStatement,
    links_of_user_delete: PreparedStatement,
    /// `[create the chain's state IF NOT EXISTS, its first token]`: one partition.
    chain_create: Batch,
    /// `[UPDATE the state IF generation = ? AND revoked = null, the new token]`: one partition.
    chain_rotate: Batch,
}

impl RegionStatements {
    async fn prepare(p: &Preparer<'_>, k: &str) -> StoreResult<Self> {
        use Kind::*;
        let chain_create_state = p
            .prep(
                format!(
                    "INSERT INTO {k}.chains (tenant, chain_id, generation, current_hash, rotated_at, expires_at, record) \
                     VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?"
                ),
                Lwt,
            )
            .await?;
        let chain_token_put = p
            .prep(
                format!(
                    "INSERT INTO {k}.chains (tenant, chain_id, token_hash, token_generation) \
                     VALUES (?, ?, ?, ?) USING TTL ?"
                ),
                Write,
            )
            .await?;
        let chain_rotate_state = p
            .prep(
                format!(
                    "UPDATE {k}.chains USING TTL ? SET generation = ?, current_hash = ?, rotated_at = ? \
                     WHERE tenant = ? AND chain_id = ? IF generation = ? AND revoked = null"
                ),
                Lwt,
            )
            .await?;
        let batch = |first: &PreparedStatement| {
            // A logged batch on one partition runs as an unlogged one; conditional batches
            // must stay in one partition, and these do.
            let mut b = Batch::new(BatchType::Logged);
            b.append_statement(first.clone());
            b.append_statement(chain_token_put.clone());
            b.set_execution_profile_handle(Some(p.profile.clone()));
            b
        };
        let chain_create = batch(&chain_create_state);
        let chain_rotate = batch(&chain_rotate_state);
        let chain_cols = "generation, current_hash, rotated_at, expires_at, revoked, record";
        let factor_cols = "lookup, version, written_by, record";
        let lookup_cols = "user_id, id, claim, claimed_at";
        let challenge_cols = "record, tries_left, taken_by, spent_by";
        let factor_update = |condition: &str| {
            format!(
                "UPDATE {k}.factors SET version = ?, written_by = ?, record = ? \
                 WHERE tenant = ? AND user_id = ? AND id = ? IF version = ? AND {condition}"
            )
        };
        Ok(Self {
            client_insert: p
                .prep(
                    format!("INSERT INTO {k}.clients (tenant, client_id, record) VALUES (?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            client_put: p
                .prep(
                    format!("INSERT INTO {k}.clients (tenant, client_id, record) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            client_get: p
                .prep(
                    format!("SELECT record FROM {k}.clients WHERE tenant = ? AND client_id = ?"),
                    Read,
                )
                .await?,
            client_list: p
                .prep(
                    format!("SELECT client_id, record FROM {k}.clients WHERE tenant = ?"),
                    Read,
                )
                .await?,
            clients_delete: p
                .prep(format!("DELETE FROM {k}.clients WHERE tenant = ?"), Write)
                .await?,
            user_insert: p
                .prep(
                    format!("INSERT INTO {k}.users (tenant, bucket, user_id, record) VALUES (?, ?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            user_put: p
                .prep(
                    format!("INSERT INTO {k}.users (tenant, bucket, user_id, record) VALUES (?, ?, ?, ?)"),
                    Write,
                )
                .await?,
            user_get: p
                .prep(
                    format!("SELECT record FROM {k}.users WHERE tenant = ? AND bucket = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            user_remove: p
                .prep(
                    format!("DELETE FROM {k}.users WHERE tenant = ? AND bucket = ? AND user_id = ? IF EXISTS"),
                    Lwt,
                )
                .await?,
            user_list: p
                .prep(
                    format!("SELECT user_id, record FROM {k}.users WHERE tenant = ? AND bucket = ?"),
                    Read,
                )
                .await?,
            users_delete: p
                .prep(
                    format!("DELETE FROM {k}.users WHERE tenant = ? AND bucket = ?"),
                    Write,
                )
                .await?,
            email_claim: p
                .prep(
                    format!("INSERT INTO {k}.user_emails (tenant, email, user_id) VALUES (?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            email_put: p
                .prep(
                    format!("INSERT INTO {k}.user_emails (tenant, email, user_id) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            email_get: p
                .prep(
                    format!("SELECT user_id FROM {k}.user_emails WHERE tenant = ? AND email = ?"),
                    Read,
                )
                .await?,
            email_get_serial: p
                .prep(
                    format!("SELECT user_id FROM {k}.user_emails WHERE tenant = ? AND email = ?"),
                    SerialRead,
                )
                .await?,
            email_delete: p
                .prep(
                    format!("DELETE FROM {k}.user_emails WHERE tenant = ? AND email = ?"),
                    Write,
                )
                .await?,
            user_update_if: p
                .prep(
                    format!("UPDATE {k}.users SET record = ? WHERE tenant = ? AND bucket = ? AND user_id = ? IF record = ?"),
                    Lwt,
                )
                .await?,
            user_delete: p
                .prep(
                    format!("DELETE FROM {k}.users WHERE tenant = ? AND bucket = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            user_key_insert: p
                .prep(
                    format!("INSERT INTO {k}.user_keys (tenant, user_id, key) VALUES (?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            user_key_put: p
                .prep(
                    format!("INSERT INTO {k}.user_keys (tenant, user_id, key) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            user_key_get: p
                .prep(
                    format!("SELECT key FROM {k}.user_keys WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            user_key_delete: p
                .prep(
                    format!("DELETE FROM {k}.user_keys WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            deletion_put: p
                .prep(
                    format!("INSERT INTO {k}.user_deletions (tenant, deleted_at, user_id) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            deletion_list: p
                .prep(
                    format!("SELECT user_id FROM {k}.user_deletions WHERE tenant = ? AND deleted_at < ? LIMIT ?"),
                    Read,
                )
                .await?,
            deletion_delete: p
                .prep(
                    format!("DELETE FROM {k}.user_deletions WHERE tenant = ? AND deleted_at = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            deletions_delete: p
                .prep(
                    format!("DELETE FROM {k}.user_deletions WHERE tenant = ?"),
                    Write,
                )
                .await?,
            session_put: p
                .prep(
                    format!("INSERT INTO {k}.sessions (tenant, key, record) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            session_get: p
                .prep(
                    format!("SELECT record FROM {k}.sessions WHERE tenant = ? AND key = ?"),
                    Read,
                )
                .await?,
            session_delete: p
                .prep(
                    format!("DELETE FROM {k}.sessions WHERE tenant = ? AND key = ?"),
                    Write,
                )
                .await?,
            session_user_put: p
                .prep(
                    format!("INSERT INTO {k}.sessions_by_user (tenant, user_id, key) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            session_user_list: p
                .prep(
                    format!("SELECT key FROM {k}.sessions_by_user WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            session_user_delete: p
                .prep(
                    format!("DELETE FROM {k}.sessions_by_user WHERE tenant = ? AND user_id = ? AND key = ?"),
                    Write,
                )
                .await?,
            chain_user_put: p
                .prep(
                    format!("INSERT INTO {k}.chains_by_user (tenant, user_id, chain_id) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            chain_user_list: p
                .prep(
                    format!("SELECT chain_id FROM {k}.chains_by_user WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            code_put: p
                .prep(
                    format!("INSERT INTO {k}.codes (tenant, key, record) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            code_get: p
                .prep(
                    format!("SELECT record, taken_by FROM {k}.codes WHERE tenant = ? AND key = ?"),
                    Read,
                )
                .await?,
            code_get_serial: p
                .prep(
                    format!("SELECT record, taken_by FROM {k}.codes WHERE tenant = ? AND key = ?"),
                    SerialRead,
                )
                .await?,
            code_take: p
                .prep(
                    format!(
                        "UPDATE {k}.codes USING TTL ? SET taken_by = ? WHERE tenant = ? AND key = ? \
                         IF taken_by = null AND record = ?"
                    ),
                    Lwt,
                )
                .await?,
            chain_get: p
                .prep(
                    format!("SELECT {chain_cols} FROM {k}.chains WHERE tenant = ? AND chain_id = ? LIMIT 1"),
                    Read,
                )
                .await?,
            chain_get_serial: p
                .prep(
                    format!("SELECT {chain_cols} FROM {k}.chains WHERE tenant = ? AND chain_id = ? LIMIT 1"),
                    SerialRead,
                )
                .await?,
            chain_all: p
                .prep(
                    format!("SELECT token_hash, token_generation, {chain_cols} FROM {k}.chains WHERE tenant = ? AND chain_id = ?"),
                    Read,
                )
                .await?,
            chain_token_get: p
                .prep(
                    format!("SELECT token_generation FROM {k}.chains WHERE tenant = ? AND chain_id = ? AND token_hash = ?"),
                    Read,
                )
                .await?,
            chain_revoke: p
                .prep(
                    format!(
                        "UPDATE {k}.chains USING TTL ? SET revoked = ? WHERE tenant = ? AND chain_id = ? \
                         IF revoked = null AND expires_at = ?"
                    ),
                    Lwt,
                )
                .await?,
            chain_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.chains (tenant, chain_id, generation, current_hash, rotated_at, expires_at, revoked, record) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?"
                    ),
                    Write,
                )
                .await?,
            chain_token_put,
            chain_delete: p
                .prep(
                    format!("DELETE FROM {k}.chains WHERE tenant = ? AND chain_id = ?"),
                    Write,
                )
                .await?,
            chain_index_put: p
                .prep(
                    format!("INSERT INTO {k}.chain_index (tenant, bucket, chain_id) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            chain_index_list: p
                .prep(
                    format!("SELECT chain_id FROM {k}.chain_index WHERE tenant = ? AND bucket = ?"),
                    Read,
                )
                .await?,
            chain_index_delete: p
                .prep(
                    format!("DELETE FROM {k}.chain_index WHERE tenant = ? AND bucket = ?"),
                    Write,
                )
                .await?,
            key_put: p
                .prep(
                    format!("INSERT INTO {k}.keys (tenant, kid, record) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            key_list: p
                .prep(
                    format!("SELECT kid, record FROM {k}.keys WHERE tenant = ?"),
                    Read,
                )
                .await?,
            keys_delete: p
                .prep(format!("DELETE FROM {k}.keys WHERE tenant = ?"), Write)
                .await?,
            consent_put: p
                .prep(
                    format!("INSERT INTO {k}.consents (tenant, user_id, client_id, record) VALUES (?, ?, ?, ?)"),
                    Write,
                )
                .await?,
            consent_get: p
                .prep(
                    format!("SELECT record FROM {k}.consents WHERE tenant = ? AND user_id = ? AND client_id = ?"),
                    Read,
                )
                .await?,
            consent_delete: p
                .prep(
                    format!("DELETE FROM {k}.consents WHERE tenant = ? AND user_id = ? AND client_id = ?"),
                    Write,
                )
                .await?,
            consent_list: p
                .prep(
                    format!("SELECT client_id, record FROM {k}.consents WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            consents_delete: p
                .prep(
                    format!("DELETE FROM {k}.consents WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            privacy_put: p
                .prep(
                    format!("INSERT INTO {k}.privacy_settings (tenant, record) VALUES (?, ?)"),
                    Write,
                )
                .await?,
            privacy_get: p
                .prep(
                    format!("SELECT record FROM {k}.privacy_settings WHERE tenant = ?"),
                    Read,
                )
                .await?,
            privacy_delete: p
                .prep(
                    format!("DELETE FROM {k}.privacy_settings WHERE tenant = ?"),
                    Write,
                )
                .await?,
            grant_put: p
                .prep(
                    format!("INSERT INTO {k}.purpose_grants (tenant, user_id, purpose, record) VALUES (?, ?, ?, ?)"),
                    Write,
                )
                .await?,
            grant_list: p
                .prep(
                    format!("SELECT purpose, record FROM {k}.purpose_grants WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            grants_delete: p
                .prep(
                    format!("DELETE FROM {k}.purpose_grants WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            deny_put: p
                .prep(
                    format!("INSERT INTO {k}.denied (tenant, bucket, jti, expires_at) VALUES (?, ?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            deny_get: p
                .prep(
                    format!("SELECT expires_at FROM {k}.denied WHERE tenant = ? AND bucket = ? AND jti = ?"),
                    Read,
                )
                .await?,
            deny_list: p
                .prep(
                    format!("SELECT jti, expires_at FROM {k}.denied WHERE tenant = ? AND bucket = ?"),
                    Read,
                )
                .await?,
            deny_delete: p
                .prep(
                    format!("DELETE FROM {k}.denied WHERE tenant = ? AND bucket = ?"),
                    Write,
                )
                .await?,
            event_put: p
                .prep(
                    format!("INSERT INTO {k}.events (tenant, day, at, id, record) VALUES (?, ?, ?, ?, ?)"),
                    Write,
                )
                .await?,
            event_day_put: p
                .prep(
                    format!("INSERT INTO {k}.event_days (tenant, day) VALUES (?, ?)"),
                    Write,
                )
                .await?,
            event_days: p
                .prep(
                    format!("SELECT day FROM {k}.event_days WHERE tenant = ?"),
                    Read,
                )
                .await?,
            events_of_day: p
                .prep(
                    format!("SELECT record FROM {k}.events WHERE tenant = ? AND day = ? LIMIT ?"),
                    Read,
                )
                .await?,
            events_all_of_day: p
                .prep(
                    format!("SELECT at, id, record FROM {k}.events WHERE tenant = ? AND day = ?"),
                    Read,
                )
                .await?,
            events_delete: p
                .prep(
                    format!("DELETE FROM {k}.events WHERE tenant = ? AND day = ?"),
                    Write,
                )
                .await?,
            event_days_delete: p
                .prep(format!("DELETE FROM {k}.event_days WHERE tenant = ?"), Write)
                .await?,
            factor_insert: p
                .prep(
                    format!(
                        "INSERT INTO {k}.factors (tenant, user_id, id, lookup, version, written_by, record) \
                         VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS"
                    ),
                    Lwt,
                )
                .await?,
            factor_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.factors (tenant, user_id, id, lookup, version, written_by, record) \
                         VALUES (?, ?, ?, ?, ?, ?, ?)"
                    ),
                    Write,
                )
                .await?,
            factor_get: p
                .prep(
                    format!("SELECT {factor_cols} FROM {k}.factors WHERE tenant = ? AND user_id = ? AND id = ?"),
                    Read,
                )
                .await?,
            factor_get_serial: p
                .prep(
                    format!("SELECT {factor_cols} FROM {k}.factors WHERE tenant = ? AND user_id = ? AND id = ?"),
                    SerialRead,
                )
                .await?,
            factor_list: p
                .prep(
                    format!("SELECT id, {factor_cols} FROM {k}.factors WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            factor_update: p.prep(factor_update("lookup = ?"), Lwt).await?,
            factor_update_unkeyed: p.prep(factor_update("lookup = null"), Lwt).await?,
            factor_remove: p
                .prep(
                    format!("DELETE FROM {k}.factors WHERE tenant = ? AND user_id = ? AND id = ? IF version = ?"),
                    Lwt,
                )
                .await?,
            factors_delete: p
                .prep(
                    format!("DELETE FROM {k}.factors WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            lookup_claim: p
                .prep(
                    format!(
                        "INSERT INTO {k}.factor_lookup (tenant, lookup, {lookup_cols}) \
                         VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS"
                    ),
                    Lwt,
                )
                .await?,
            lookup_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.factor_lookup (tenant, lookup, {lookup_cols}) VALUES (?, ?, ?, ?, ?, ?)"
                    ),
                    Write,
                )
                .await?,
            lookup_get: p
                .prep(
                    format!("SELECT {lookup_cols} FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ?"),
                    Read,
                )
                .await?,
            lookup_get_serial: p
                .prep(
                    format!("SELECT {lookup_cols} FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ?"),
                    SerialRead,
                )
                .await?,
            lookup_release: p
                .prep(
                    format!("DELETE FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ? IF claim = ?"),
                    Lwt,
                )
                .await?,
            lookup_remove: p
                .prep(
                    format!(
                        "DELETE FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ? IF user_id = ? AND id = ?"
                    ),
                    Lwt,
                )
                .await?,
            lookup_delete: p
                .prep(
                    format!("DELETE FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ?"),
                    Write,
                )
                .await?,
            challenge_insert: p
                .prep(
                    format!(
                        "INSERT INTO {k}.challenges (tenant, key, record, tries_left) VALUES (?, ?, ?, ?) \
                         IF NOT EXISTS USING TTL ?"
                    ),
                    Lwt,
                )
                .await?,
            challenge_get: p
                .prep(
                    format!("SELECT {challenge_cols} FROM {k}.challenges WHERE tenant = ? AND key = ?"),
                    Read,
                )
                .await?,
            challenge_get_serial: p
                .prep(
                    format!("SELECT {challenge_cols} FROM {k}.challenges WHERE tenant = ? AND key = ?"),
                    SerialRead,
                )
                .await?,
            challenge_spend: p
                .prep(
                    format!(
                        "UPDATE {k}.challenges USING TTL ? SET tries_left = ?, spent_by = spent_by + ? \
                         WHERE tenant = ? AND key = ? IF taken_by = null AND tries_left = ?"
                    ),
                    Lwt,
                )
                .await?,
            challenge_take: p
                .prep(
                    format!(
                        "UPDATE {k}.challenges USING TTL ? SET taken_by = ? \
                         WHERE tenant = ? AND key = ? IF taken_by = null AND tries_left = ?"
                    ),
                    Lwt,
                )
                .await?,
            connector_put: p
                .prep(
                    format!("INSERT INTO {k}.connectors (tenant, id, record) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            connector_get: p
                .prep(
                    format!("SELECT record FROM {k}.connectors WHERE tenant = ? AND id = ?"),
                    Read,
                )
                .await?,
            connector_list: p
                .prep(
                    format!("SELECT id, record FROM {k}.connectors WHERE tenant = ?"),
                    Read,
                )
                .await?,
            connector_delete: p
                .prep(
                    format!("DELETE FROM {k}.connectors WHERE tenant = ? AND id = ?"),
                    Write,
                )
                .await?,
            link_insert: p
                .prep(
                    format!(
                        "INSERT INTO {k}.links (tenant, provider, key, user_id, record) \
                         VALUES (?, ?, ?, ?, ?) IF NOT EXISTS"
                    ),
                    Lwt,
                )
                .await?,
            link_get: p
                .prep(
                    format!(
                        "SELECT user_id, record FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ?"
                    ),
                    Read,
                )
                .await?,
            link_update: p
                .prep(
                    format!(
                        "UPDATE {k}.links SET record = ? WHERE tenant = ? AND provider = ? AND key = ? \
                         IF user_id = ?"
                    ),
                    Lwt,
                )
                .await?,
            link_remove: p
                .prep(
                    format!(
                        "DELETE FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ? IF user_id = ?"
                    ),
                    Lwt,
                )
                .await?,
            link_user_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.links_by_user (tenant, user_id, provider, key) VALUES (?, ?, ?, ?)"
                    ),
                    Write,
                )
                .await?,
            link_user_list: p
                .prep(
                    format!(
                        "SELECT provider, key FROM {k}.links_by_user WHERE tenant = ? AND user_id = ?"
                    ),
                    Read,
                )
                .await?,
            link_user_delete: p
                .prep(
                    format!(
                        "DELETE FROM {k}.links_by_user WHERE tenant = ? AND user_id = ? AND provider = ? AND key = ?"
                    ),
                    Write,
                )
                .await?,
            connectors_delete: p
                .prep(format!("DELETE FROM {k}.connectors WHERE tenant = ?"), Write)
                .await?,
            link_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.links (tenant, provider, key, user_id, record) VALUES (?, ?, ?, ?, ?)"
                    ),
                    Write,
                )
                .await?,
            link_delete: p
                .prep(
                    format!("DELETE FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ?"),
                    Write,
                )
                .await?,
            links_of_user_delete: p
                .prep(
                    format!("DELETE FROM {k}.links_by_user WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            chain_create,
            chain_rotate,
        })
    }
}

/// A region this node serves: its keyspace and statements.
struct Region {
    name: String,
    keyspace: String,
    st: RegionStatements,
}

struct Inner {
    session: CqlSession,
    global_keyspace: String,
    global: GlobalStatements,
    regions: HashMap<String, Arc<Region>>,
    /// tenant -> region. Entries live a few seconds: after a move, other nodes follow
    /// within [`DIRECTORY_TTL`].
    directory: moka::sync::Cache<TenantId, String>,
}

/// A handle to the ScyllaDB store; cheap to clone (one shared session inside).
#[derive(Clone)]
pub struct ScyllaStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for ScyllaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut regions: Vec<_> = self
            .inner
            .regions
            .values()
            .map(|r| (r.name.as_str(), r.keyspace.as_str()))
            .collect();
        regions.sort();
        f.debug_struct("ScyllaStore")
            .field("keyspace", &self.inner.global_keyspace)
            .field("regions", &regions)
            .finish_non_exhaustive()
    }
}

/// The chain's state columns, as `chain_get` selects them.
type ChainRow = (
    Option<i64>,
    Option<Vec<u8>>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>,
);

/// A row of `chain_all`: one token, with the chain's (static) state repeated.
type ChainTokenRow = (
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
type FactorRow = (Option<String>, Option<i64>, Option<String>, Option<Vec<u8>>);

/// A row of `factor_list`: the factor's id, then a [`FactorRow`].
type FactorListRow = (
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<Vec<u8>>,
);

/// A lookup claim, as `lookup_get` selects it: user_id, id, claim, claimed_at.
type LookupRow = (Option<String>, Option<String>, Option<String>, Option<i64>);

/// A challenge's row, as `challenge_get` selects it: record, tries_left, taken_by, spent_by.
type ChallengeRow = (
    Option<Vec<u8>>,
    Option<i32>,
    Option<String>,
    Option<Vec<String>>,
);

/// A stored factor with the columns its conditions use.
struct StoredFactor {
    factor: Factor,
    lookup: Option<String>,
    version: i64,
    /// The random id of the call that wrote it last.
    written_by: Option<String>,
}

fn factor_from_row(row: FactorRow) -> StoreResult<Option<StoredFactor>> {
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
struct StoredChallenge {
    challenge: Challenge,
    taken_by: Option<String>,
    spent_by: Vec<String>,
}

impl StoredChallenge {
    /// Still usable: not taken, and with a try left.
    fn open(&self) -> bool {
        self.taken_by.is_none() && self.challenge.tries_left > 0
    }
}

fn challenge_from_row(row: ChallengeRow) -> StoreResult<Option<StoredChallenge>> {
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
fn chain_from_row(row: ChainRow) -> StoreResult<Option<Chain>> {
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

impl ScyllaStore {
    /// Connects to the cluster, checks that `tollgate migrate` has brought every keyspace
    /// to this binary's schema, and prepares every statement once per region keyspace.
    pub async fn connect(cfg: &ScyllaConfig) -> StoreResult<ScyllaStore> {
        let plan = Plan::new(cfg)?;
        let session = open_session(cfg, &plan).await?;
        check_schema(&session, &plan).await?;
        let serial_read_consistency = serial_read(plan.serial);
        let global = GlobalStatements::prepare(
            &Preparer {
                session: &session,
                profile: plan.profile(cfg.local_dc.as_deref(), SerialConsistency::Serial),
                serial_read: Consistency::Serial,
            },
            &plan.global,
        )
        .await?;
        let mut regions = HashMap::new();
        for r in &plan.regions {
            let p = Preparer {
                session: &session,
                profile: plan.profile(r.prefer_dc.as_deref(), plan.serial),
                serial_read: serial_read_consistency,
            };
            let st = RegionStatements::prepare(&p, &r.keyspace).await?;
            regions.insert(
                r.name.clone(),
                Arc::new(Region {
                    name: r.name.clone(),
                    keyspace: r.keyspace.clone(),
                    st,
                }),
            );
        }
        Ok(Self {
            inner: Arc::new(Inner {
                session,
                global_keyspace: plan.global.clone(),
                global,
                regions,
                directory: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(DIRECTORY_TTL)
                    .build(),
            }),
        })
    }

    fn session(&self) -> &CqlSession {
        &self.inner.session
    }

    /// A region this node serves, by name.
    fn region(&self, name: &str) -> StoreResult<&Arc<Region>> {
        self.inner.regions.get(name).ok_or_else(|| {
            StoreError::Unavailable(format!(
                "region `{name}` is not served here: it has no keyspace in this node's configuration"
            ))
        })
    }

    /// The region holding a tenant's data. A tenant missing from the directory is in the
    /// default region (where data written before regions existed lives); the engine
    /// refuses unknown tenants before it gets here.
    async fn region_of(&self, tenant: &TenantId) -> StoreResult<Arc<Region>> {
        let name = match self.inner.directory.get(tenant) {
            Some(name) => name,
            None => {
                let row: Option<(Option<String>,)> = self
                    .one(&self.inner.global.tenant_region, (tenant.as_str(),))
                    .await?;
                match row.and_then(|(r,)| r) {
                    Some(name) => {
                        self.inner.directory.insert(tenant.clone(), name.clone());
                        name
                    }
                    None => DEFAULT_REGION.to_owned(),
                }
            }
        };
        self.region(&name).cloned().map_err(|_| {
            StoreError::Unavailable(format!(
                "tenant {tenant} is in region `{name}`, which this node does not serve"
            ))
        })
    }

    async fn exec(
        &self,
        st: &PreparedStatement,
        values: impl SerializeRow,
    ) -> StoreResult<QueryResult> {
        self.session()
            .execute_unpaged(st, values)
            .await
            .map_err(unavailable)
    }

    async fn write(&self, st: &PreparedStatement, values: impl SerializeRow) -> StoreResult<()> {
        self.exec(st, values).await.map(drop)
    }

    /// Runs a lightweight transaction; whether it applied.
    async fn lwt(&self, st: &PreparedStatement, values: impl SerializeRow) -> StoreResult<bool> {
        applied(self.exec(st, values).await?)
    }

    async fn lwt_batch(&self, batch: &Batch, values: impl BatchValues) -> StoreResult<bool> {
        applied(
            self.session()
                .batch(batch, values)
                .await
                .map_err(unavailable)?,
        )
    }

    /// The first row of a single-partition read.
    async fn one<R>(
        &self,
        st: &PreparedStatement,
        values: impl SerializeRow,
    ) -> StoreResult<Option<R>>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm>,
    {
        let rows = self
            .exec(st, values)
            .await?
            .into_rows_result()
            .map_err(corrupt)?;
        rows.maybe_first_row::<R>().map_err(corrupt)
    }

    /// Every row, page by page.
    async fn all<R>(&self, st: &PreparedStatement, values: impl SerializeRow) -> StoreResult<Vec<R>>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm>,
    {
        let pager = self
            .session()
            .execute_iter(st.clone(), values)
            .await
            .map_err(unavailable)?;
        pager
            .rows_stream::<R>()
            .map_err(corrupt)?
            .map_err(next_row_error)
            .try_collect()
            .await
    }

    /// Runs `f` on every row, page by page, a few rows at a time (tenant moves).
    async fn each<R, F, Fut>(
        &self,
        st: &PreparedStatement,
        values: impl SerializeRow,
        f: F,
    ) -> StoreResult<()>
    where
        R: for<'f, 'm> DeserializeRow<'f, 'm>,
        F: FnMut(R) -> Fut,
        Fut: Future<Output = StoreResult<()>>,
    {
        let pager = self
            .session()
            .execute_iter(st.clone(), values)
            .await
            .map_err(unavailable)?;
        pager
            .rows_stream::<R>()
            .map_err(corrupt)?
            .map_err(next_row_error)
            .try_for_each_concurrent(MOVE_CONCURRENCY, f)
            .await
    }

    /// One user of an import: whether it was created.
    async fn import_user(&self, user: &UserRecord, fresh: bool) -> StoreResult<bool> {
        if !fresh {
            return Ok(false);
        }
        match self.create_user(user).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn read_chain(
        &self,
        region: &Region,
        tenant: &TenantId,
        id: &ChainId,
        serial: bool,
    ) -> StoreResult<Option<Chain>> {
        let st = if serial {
            &region.st.chain_get_serial
        } else {
            &region.st.chain_get
        };
        match self
            .one::<ChainRow>(st, (tenant.as_str(), id.as_str()))
            .await?
        {
            Some(row) => chain_from_row(row),
            None => Ok(None),
        }
    }

    async fn read_factor(
        &self,
        region: &Region,
        tenant: &str,
        user: &str,
        id: &str,
        serial: bool,
    ) -> StoreResult<Option<StoredFactor>> {
        let st = if serial {
            &region.st.factor_get_serial
        } else {
            &region.st.factor_get
        };
        match self.one::<FactorRow>(st, (tenant, user, id)).await? {
            Some(row) => factor_from_row(row),
            None => Ok(None),
        }
    }

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

    /// Claims a factor's lookup key for it (`INSERT ... IF NOT EXISTS`), with the random
    /// claim id `me`; `Conflict` if another factor holds it. A claim left behind by a
    /// crash (old, pointing to no factor that has this key) is taken over once.
    async fn claim_lookup(
        &self,
        region: &Region,
        factor: &Factor,
        lookup: &str,
        me: &str,
    ) -> StoreResult<()> {
        let (t, u, id) = (
            factor.tenant.as_str(),
            factor.user_id.as_str(),
            factor.id.as_str(),
        );
        let mut took_over = false;
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let values = (t, lookup, u, id, me, int(SystemClock.now()));
            let error = match self.lwt(&region.st.lookup_claim, values).await {
                Ok(true) => return Ok(()),
                Ok(false) => None,
                Err(e) => Some(e),
            };
            // Not applied, or unknown: a serial read settles any round in flight and tells
            // who holds the key.
            let holder: Option<LookupRow> =
                match self.one(&region.st.lookup_get_serial, (t, lookup)).await {
                    Ok(h) => h,
                    Err(read_error) => return Err(error.unwrap_or(read_error)),
                };
            let Some((Some(hu), Some(hid), Some(claim), claimed_at)) = holder else {
                // Free (released meanwhile, or this caller's claim did not land): again.
                last_error = error;
                continue;
            };
            if claim == me {
                return Ok(());
            }
            let old = claimed_at.is_some_and(|at| {
                at.saturating_add(int(ORPHAN_CLAIM_AGE)) < int(SystemClock.now())
            });
            if took_over || !old {
                return Err(StoreError::Conflict);
            }
            let owner = self.read_factor(region, t, &hu, &hid, false).await?;
            if owner.is_some_and(|f| f.lookup.as_deref() == Some(lookup)) {
                return Err(StoreError::Conflict);
            }
            tracing::warn!(
                tenant = t,
                "taking over a factor lookup claim left behind by a crash"
            );
            took_over = true;
            // Conditional on its claim id: a claim renewed meanwhile stays.
            self.lwt(&region.st.lookup_release, (t, lookup, claim.as_str()))
                .await?;
        }
        Err(last_error.unwrap_or(StoreError::Conflict))
    }

    /// Inserts a factor row (`IF NOT EXISTS`) written by `me`; `Conflict` if its id is taken.
    async fn insert_factor(&self, region: &Region, factor: &Factor, me: &str) -> StoreResult<()> {
        let (t, u, id) = (
            factor.tenant.as_str(),
            factor.user_id.as_str(),
            factor.id.as_str(),
        );
        let record = encode(factor);
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let values = (
                t,
                u,
                id,
                factor.lookup.as_deref(),
                int(factor.version),
                me,
                &record,
            );
            match self.lwt(&region.st.factor_insert, values).await {
                Ok(true) => return Ok(()),
                Ok(false) => return Err(StoreError::Conflict),
                Err(e) => match self.read_factor(region, t, u, id, true).await {
                    Ok(None) => last_error = Some(e),
                    Ok(Some(s)) if s.written_by.as_deref() == Some(me) => return Ok(()),
                    Ok(Some(_)) => return Err(StoreError::Conflict),
                    Err(_) => return Err(e),
                },
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("factor creation did not complete")))
    }

    /// Removes the lookup claim of a deleted factor (`IF user_id = ? AND id = ?`: a claim
    /// that is another factor's stays). A claim that cannot be removed points to no
    /// factor: `find_factor` ignores it, and a later claim takes it over when it is old.
    async fn remove_lookup(&self, region: &Region, factor: &Factor) {
        let Some(lookup) = &factor.lookup else {
            return;
        };
        let values = (
            factor.tenant.as_str(),
            lookup.as_str(),
            factor.user_id.as_str(),
            factor.id.as_str(),
        );
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            // Idempotent: running it again after an unknown outcome is harmless.
            match self.lwt(&region.st.lookup_remove, values).await {
                Ok(_) => return,
                Err(e) => last_error = Some(e),
            }
        }
        if let Some(e) = last_error {
            tracing::warn!(error = %e, "could not remove the lookup key of a deleted factor; it is taken over when old");
        }
    }

    /// Copies a tenant's long-lived data from one region keyspace to another. Upserts
    /// only, so an interrupted copy can simply run again.
    async fn copy_tenant(&self, from: &Region, to: &Region, tenant: &TenantId) -> StoreResult<()> {
        let t = tenant.as_str();
        let (f, n) = (&from.st, &to.st);
        self.each(&f.client_list, (t,), |(id, rec): (String, Vec<u8>)| async move {
            self.write(&n.client_put, (t, id, rec)).await
        })
        .await?;
        self.each(&f.key_list, (t,), |(kid, rec): (String, Vec<u8>)| async move {
            self.write(&n.key_put, (t, kid, rec)).await
        })
        .await?;
        let privacy: Option<(Option<Vec<u8>>,)> = self.one(&f.privacy_get, (t,)).await?;
        if let Some((Some(rec),)) = privacy {
            self.write(&n.privacy_put, (t, rec)).await?;
        }
        self.each(
            &f.connector_list,
            (t,),
            |(id, rec): (String, Option<Vec<u8>>)| async move {
                match rec {
                    Some(rec) => self.write(&n.connector_put, (t, id, rec)).await,
                    None => Ok(()),
                }
            },
        )
        .await?;
        for b in 0..BUCKETS {
            self.each(
                &f.user_list,
                (t, b),
                |(id, rec): (String, Vec<u8>)| async move {
                    let user: UserRecord = decode(&rec)?;
                    if user.email_key.is_empty() {
                        // Deleted: its key is gone, so it is left behind and goes with
                        // the old copy, as if purged early.
                        return Ok(());
                    }
                    let owner: Option<(Option<String>,)> =
                        self.one(&f.email_get, (t, user.email_key.as_str())).await?;
                    // A user row whose email claim is not its own lost a sign-up race (or its
                    // claim never landed): it is invisible, and stays behind.
                    if owner.and_then(|(o,)| o).as_deref() != Some(id.as_str()) {
                        return Ok(());
                    }
                    let key: Option<(Option<Vec<u8>>,)> =
                        self.one(&f.user_key_get, (t, id.as_str())).await?;
                    if let Some(key) = key.and_then(|(k,)| k) {
                        self.write(&n.user_key_put, (t, id.as_str(), key)).await?;
                    }
                    self.write(&n.user_put, (t, b, id.as_str(), &rec)).await?;
                    self.write(&n.email_put, (t, user.email_key.as_str(), id.as_str()))
                        .await?;
                    let id = id.as_str();
                    self.each(
                        &f.consent_list,
                        (t, id),
                        |(client, rec): (String, Vec<u8>)| async move {
                            self.write(&n.consent_put, (t, id, client, rec)).await
                        },
                    )
                    .await?;
                    self.each(
                        &f.grant_list,
                        (t, id),
                        |(purpose, rec): (String, Vec<u8>)| async move {
                            self.write(&n.grant_put, (t, id, purpose, rec)).await
                        },
                    )
                    .await?;
                    self.each(&f.factor_list, (t, id), |row: FactorListRow| async move {
                        self.copy_factor(from, to, t, id, row).await
                    })
                    .await?;
                    // Linked identities: only links that are this user's (an index entry
                    // whose claim was lost stays behind).
                    self.each(
                        &f.link_user_list,
                        (t, id),
                        |(provider, key): (String, Vec<u8>)| async move {
                            let row: Option<(Option<String>, Option<Vec<u8>>)> = self
                                .one(&f.link_get, (t, provider.as_str(), key.clone()))
                                .await?;
                            let Some((Some(owner), Some(rec))) = row else {
                                return Ok(());
                            };
                            if owner != id {
                                return Ok(());
                            }
                            self.write(&n.link_user_put, (t, id, provider.as_str(), key.clone()))
                                .await?;
                            self.write(&n.link_put, (t, provider.as_str(), key, id, rec))
                                .await
                        },
                    )
                    .await
                },
            )
            .await?;
            self.each(&f.chain_index_list, (t, b), |(id,): (String,)| async move {
                self.copy_chain(from, to, tenant, b, &id).await
            })
            .await?;
            self.each(
                &f.deny_list,
                (t, b),
                |(jti, exp): (String, i64)| async move {
                    match ttl_until(uint(exp)?) {
                        Some(ttl) => self.write(&n.deny_put, (t, b, jti, exp, ttl)).await,
                        None => Ok(()),
                    }
                },
            )
            .await?;
        }
        self.each(&f.event_days, (t,), |(d,): (i32,)| async move {
            self.write(&n.event_day_put, (t, d)).await?;
            self.each(
                &f.events_all_of_day,
                (t, d),
                |(at, id, rec): (i64, String, Vec<u8>)| async move {
                    self.write(&n.event_put, (t, d, at, id, rec)).await
                },
            )
            .await
        })
        .await
    }

    async fn copy_chain(
        &self,
        from: &Region,
        to: &Region,
        tenant: &TenantId,
        b: i32,
        id: &str,
    ) -> StoreResult<()> {
        let t = tenant.as_str();
        let rows: Vec<ChainTokenRow> = self.all(&from.st.chain_all, (t, id)).await?;
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let (_, _, generation, hash, rotated_at, expires_at, revoked, record) = first.clone();
        let (Some(expires_at), Some(record)) = (expires_at, record) else {
            return Ok(());
        };
        let Some(ttl) = ttl_until(uint(expires_at)?) else {
            return Ok(());
        };
        let n = &to.st;
        self.write(&n.chain_index_put, (t, b, id, ttl)).await?;
        let chain: Chain = decode(&record)?;
        self.write(&n.chain_user_put, (t, chain.user_id.as_str(), id, ttl))
            .await?;
        self.write(
            &n.chain_put,
            (
                t, id, generation, hash, rotated_at, expires_at, revoked, record, ttl,
            ),
        )
        .await?;
        for (token, token_generation, ..) in rows {
            self.write(&n.chain_token_put, (t, id, token, token_generation, ttl))
                .await?;
        }
        Ok(())
    }

    /// Copies one factor of a user, and its lookup claim if the claim is its own.
    async fn copy_factor(
        &self,
        from: &Region,
        to: &Region,
        t: &str,
        user: &str,
        row: FactorListRow,
    ) -> StoreResult<()> {
        let (id, lookup, version, written_by, record) = row;
        let Some(record) = record else {
            return Ok(());
        };
        let values = (
            t,
            user,
            id.as_str(),
            lookup.as_deref(),
            version,
            written_by,
            record,
        );
        self.write(&to.st.factor_put, values).await?;
        let Some(lookup) = lookup else {
            return Ok(());
        };
        let claim: Option<LookupRow> = self.one(&from.st.lookup_get, (t, lookup.as_str())).await?;
        if let Some((Some(cu), Some(cid), claim, claimed_at)) = claim
            && cu == user
            && cid == id
        {
            let values = (t, lookup.as_str(), cu, cid, claim, claimed_at);
            self.write(&to.st.lookup_put, values).await?;
        }
        Ok(())
    }

    /// Deletes a tenant's data from a region keyspace (all but sessions, codes and
    /// challenges, which cannot be listed by tenant and expire by themselves).
    async fn purge_tenant(&self, from: &Region, tenant: &TenantId) -> StoreResult<()> {
        let t = tenant.as_str();
        let f = &from.st;
        self.write(&f.clients_delete, (t,)).await?;
        self.write(&f.keys_delete, (t,)).await?;
        self.write(&f.deletions_delete, (t,)).await?;
        self.write(&f.privacy_delete, (t,)).await?;
        self.write(&f.connectors_delete, (t,)).await?;
        for b in 0..BUCKETS {
            self.each(
                &f.user_list,
                (t, b),
                |(id, rec): (String, Vec<u8>)| async move {
                    let user: UserRecord = decode(&rec)?;
                    if !user.email_key.is_empty() {
                        self.write(&f.email_delete, (t, user.email_key.as_str()))
                            .await?;
                    }
                    self.write(&f.user_key_delete, (t, id.as_str())).await?;
                    self.write(&f.consents_delete, (t, id.as_str())).await?;
                    self.write(&f.grants_delete, (t, id.as_str())).await?;
                    self.each(
                        &f.link_user_list,
                        (t, id.as_str()),
                        |(provider, key): (String, Vec<u8>)| async move {
                            self.write(&f.link_delete, (t, provider, key)).await
                        },
                    )
                    .await?;
                    self.write(&f.links_of_user_delete, (t, id.as_str()))
                        .await?;
                    self.each(
                        &f.factor_list,
                        (t, id.as_str()),
                        |(_, lookup, ..): FactorListRow| async move {
                            match lookup {
                                Some(l) => self.write(&f.lookup_delete, (t, l)).await,
                                None => Ok(()),
                            }
                        },
                    )
                    .await?;
                    self.write(&f.factors_delete, (t, id)).await
                },
            )
            .await?;
            self.write(&f.users_delete, (t, b)).await?;
            self.each(&f.chain_index_list, (t, b), |(id,): (String,)| async move {
                self.write(&f.chain_delete, (t, id)).await
            })
            .await?;
            self.write(&f.chain_index_delete, (t, b)).await?;
            self.write(&f.deny_delete, (t, b)).await?;
        }
        self.each(&f.event_days, (t,), |(d,): (i32,)| async move {
            self.write(&f.events_delete, (t, d)).await
        })
        .await?;
        self.write(&f.event_days_delete, (t,)).await
    }
}

/// Whether a table exists (the migration ledger, before the first migration).
async fn table_exists(session: &CqlSession, keyspace: &str, table: &str) -> StoreResult<bool> {
    let r = session
        .query_unpaged(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?",
            (keyspace, table),
        )
        .await
        .map_err(unavailable)?
        .into_rows_result()
        .map_err(corrupt)?;
    Ok(r.rows_num() > 0)
}

/// version -> checksum of the migrations recorded for a keyspace.
async fn recorded(
    session: &CqlSession,
    plan: &Plan,
    keyspace: &str,
) -> StoreResult<HashMap<i32, String>> {
    if !table_exists(session, &plan.global, "schema_migrations").await? {
        return Ok(HashMap::new());
    }
    let r = session
        .query_unpaged(
            format!(
                "SELECT version, checksum FROM {}.schema_migrations WHERE keyspace = ?",
                plan.global
            ),
            (keyspace,),
        )
        .await
        .map_err(unavailable)?
        .into_rows_result()
        .map_err(corrupt)?;
    let rows = r.rows::<(i32, Option<String>)>().map_err(corrupt)?;
    let mut out = HashMap::new();
    for row in rows {
        let (v, sum) = row.map_err(corrupt)?;
        out.insert(v, sum.unwrap_or_default());
    }
    Ok(out)
}

async fn check_schema(session: &CqlSession, plan: &Plan) -> StoreResult<()> {
    for (keyspace, _, scope) in plan.targets() {
        let done = recorded(session, plan, keyspace).await?;
        if let Some(m) = MIGRATIONS
            .iter()
            .find(|m| m.scope == scope && !done.contains_key(&m.version))
        {
            tracing::error!(
                keyspace,
                migration = m.name,
                "ScyllaDB schema is behind this binary"
            );
            return Err(StoreError::Unavailable(SCHEMA_OUTDATED.into()));
        }
    }
    Ok(())
}

/// Applies the migrations in `schema/` that are not yet recorded: the global ones to the
/// global keyspace, the region ones to every configured region's keyspace. Statements are
/// idempotent (`IF NOT EXISTS`), each migration is recorded with its checksum once all its
/// statements succeeded and the cluster agrees on the schema, and a migration whose text
/// changed after it was applied is an error. Returns `keyspace/migration` for each one
/// applied (empty: the schema is up to date).
pub async fn migrate(cfg: &ScyllaConfig) -> StoreResult<Vec<String>> {
    let plan = Plan::new(cfg)?;
    let session = open_session(cfg, &plan).await?;
    let mut applied_now = Vec::new();
    for (keyspace, replication, scope) in plan.targets() {
        let done = recorded(&session, &plan, keyspace).await?;
        for m in MIGRATIONS.iter().filter(|m| m.scope == scope) {
            let checksum = m.checksum();
            if let Some(recorded_sum) = done.get(&m.version) {
                if *recorded_sum != checksum {
                    return Err(StoreError::Unavailable(format!(
                        "migration {} was changed after it was applied to {keyspace}: add a new migration instead",
                        m.name
                    )));
                }
                continue;
            }
            for cql in m.statements(keyspace, replication) {
                let mut st = Statement::new(cql);
                // DDL waits for the cluster's schema changes, far longer than a request.
                st.set_request_timeout(Some(Duration::from_secs(120)));
                session.query_unpaged(st, ()).await.map_err(|e| {
                    StoreError::Unavailable(short(format!(
                        "migration {} on {keyspace} failed: {e}",
                        m.name
                    )))
                })?;
            }
            session.await_schema_agreement().await.map_err(|e| {
                StoreError::Unavailable(short(format!(
                    "the cluster did not agree on the schema after {}: {e}",
                    m.name
                )))
            })?;
            session
                .query_unpaged(
                    format!(
                        "INSERT INTO {}.schema_migrations (keyspace, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)",
                        plan.global
                    ),
                    (
                        keyspace,
                        m.version,
                        m.name,
                        checksum.as_str(),
                        CqlTimestamp(int(SystemClock.now_millis())),
                    ),
                )
                .await
                .map_err(unavailable)?;
            tracing::info!(keyspace, migration = m.name, "applied migration");
            applied_now.push(format!("{keyspace}/{}", m.name));
        }
    }
    Ok(applied_now)
}

#[async_trait]
impl TenantStore for ScyllaStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let g = &self.inner.global;
        let values = (tenant.id.as_str(), tenant.region.as_str(), encode(tenant));
        if !self.lwt(&g.tenant_insert, values).await? {
            return Err(StoreError::Conflict);
        }
        self.inner
            .directory
            .insert(tenant.id.clone(), tenant.region.clone());
        Ok(())
    }

    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&self.inner.global.tenant_get, (id.as_str(),))
            .await?;
        let Some(record) = row.and_then(|(r,)| r) else {
            return Ok(None);
        };
        let t: Tenant = decode(&record)?;
        self.inner.directory.insert(t.id.clone(), t.region.clone());
        Ok(Some(t))
    }

    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<bool> {
        // Conditional on the region, so a concurrent move is never undone.
        let g = &self.inner.global;
        let r = tenant.region.as_str();
        let values = (r, encode(tenant), tenant.id.as_str(), r);
        self.lwt(&g.tenant_move, values).await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let rows: Vec<(Option<Vec<u8>>,)> = self.all(&self.inner.global.tenant_list, ()).await?;
        rows.into_iter()
            .filter_map(|(r,)| r)
            .map(|r| decode(&r))
            .collect()
    }

    /// Copies the tenant's clients, keys, users (with their email claims, consents and
    /// second factors with their lookup claims), refresh chains (with every token row),
    /// denied tokens and audit events to the new region's keyspace, then points the
    /// directory there, then deletes them from the old keyspace. Sessions, codes and
    /// challenges are not moved (they cannot be listed by tenant and are short-lived): the
    /// tenant's users are signed out, sign-ins and one-time codes in flight fail, and those
    /// rows expire in the old region by TTL. Writes that other nodes make to the old region while the move
    /// runs, or until their directory cache expires, are lost: move tenants when idle.
    /// Moving a tenant to the region it is in deletes what an interrupted move left in
    /// the other regions.
    async fn move_tenant(&self, id: &TenantId, region: &str) -> StoreResult<Option<Tenant>> {
        let g = &self.inner.global;
        let row: Option<(Option<String>, Option<Vec<u8>>)> =
            self.one(&g.tenant_get_serial, (id.as_str(),)).await?;
        let Some((current, Some(record))) = row else {
            return Ok(None);
        };
        let mut tenant: Tenant = decode(&record)?;
        let current = current.unwrap_or_else(|| tenant.region.clone());
        let to = self.region(region)?.clone();
        if current == region {
            for other in self.inner.regions.values().filter(|r| r.name != region) {
                self.purge_tenant(other, id).await?;
            }
            self.inner.directory.insert(id.clone(), current);
            return Ok(Some(tenant));
        }
        let from = self.region(&current)?.clone();
        tracing::info!(tenant = %id, from = %current, to = %region, "moving tenant: copying its data");
        self.copy_tenant(&from, &to, id).await?;
        tenant.region = region.to_owned();
        let values = (region, encode(&tenant), id.as_str(), current.as_str());
        if !self.lwt(&g.tenant_move, values).await? {
            // Another move or a deletion came first; what was copied stays unreferenced.
            return Err(StoreError::Conflict);
        }
        self.inner.directory.insert(id.clone(), region.to_owned());
        tracing::info!(tenant = %id, from = %current, to = %region, "tenant moved: deleting its data from the old region");
        self.purge_tenant(&from, id).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "tenant {id} moved to `{region}`, but deleting its data from `{current}` failed ({e}); moving it to `{region}` again finishes the deletion"
            ))
        })?;
        Ok(Some(tenant))
    }
}

#[async_trait]
impl ClientStore for ScyllaStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        let r = self.region_of(&client.tenant).await?;
        let values = (client.tenant.as_str(), client.id.as_str(), encode(client));
        if self.lwt(&r.st.client_insert, values).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn get_client(&self, tenant: &TenantId, id: &ClientId) -> StoreResult<Option<Client>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&r.st.client_get, (tenant.as_str(), id.as_str()))
            .await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }

    async fn list_clients(&self, tenant: &TenantId) -> StoreResult<Vec<Client>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Option<Vec<u8>>)> =
            self.all(&r.st.client_list, (tenant.as_str(),)).await?;
        rows.into_iter()
            .filter_map(|(_, r)| r)
            .map(|r| decode(&r))
            .collect()
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
            match self.lwt(&r.st.email_claim, (t, email, id)).await {
                Ok(true) => return Ok(()),
                Ok(false) => break,
                Err(e) => {
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

    async fn create_users(&self, users: &[UserRecord]) -> StoreResult<Vec<bool>> {
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
        futures::stream::iter(imports)
            .buffered(16)
            .try_collect()
            .await
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
        match self.get_user(&user.tenant, &user.id).await? {
            Some(cur) if cur.email_key == old && cur.deleted_at.is_none() => {}
            _ => return Ok(false),
        }
        let r = self.region_of(&user.tenant).await?;
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
        self.write(&r.st.user_put, (t, bucket(id), id, encode(user)))
            .await?;
        if old != user.email_key {
            self.write(&r.st.email_delete, (t, old)).await?;
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

    /// Queues the user for the purge first, then writes the deleted record, then frees
    /// the login id: a crash in between leaves a user that is deleted or still whole,
    /// and the purge job finishes what was started.
    async fn soft_delete_user(&self, user: &UserRecord, old_email_key: &str) -> StoreResult<bool> {
        let Some(at) = user.deleted_at else {
            return Err(StoreError::Corrupt("soft delete without deleted_at".into()));
        };
        match self.get_user(&user.tenant, &user.id).await? {
            Some(cur) if cur.deleted_at.is_none() => {}
            _ => return Ok(false),
        }
        let r = self.region_of(&user.tenant).await?;
        let (t, id) = (user.tenant.as_str(), user.id.as_str());
        self.write(&r.st.deletion_put, (t, at as i64, id)).await?;
        self.write(&r.st.user_put, (t, bucket(id), id, encode(user)))
            .await?;
        let owner: Option<(Option<String>,)> =
            self.one(&r.st.email_get, (t, old_email_key)).await?;
        if owner.and_then(|(o,)| o).as_deref() == Some(id) {
            self.write(&r.st.email_delete, (t, old_email_key)).await?;
        }
        Ok(true)
    }

    async fn deleted_users(
        &self,
        tenant: &TenantId,
        before: UnixTime,
        limit: usize,
    ) -> StoreResult<Vec<UserId>> {
        let r = self.region_of(tenant).await?;
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let rows: Vec<(String,)> = self
            .all(&r.st.deletion_list, (tenant.as_str(), before as i64, limit))
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id,)| UserId::from_stored(id))
            .collect())
    }

    async fn purge_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<bool> {
        let Some(at) = self.get_user(tenant, id).await?.and_then(|u| u.deleted_at) else {
            return Ok(false);
        };
        let r = self.region_of(tenant).await?;
        let (t, id) = (tenant.as_str(), id.as_str());
        self.write(&r.st.user_key_delete, (t, id)).await?;
        self.write(&r.st.user_delete, (t, bucket(id), id)).await?;
        self.write(&r.st.deletion_delete, (t, at as i64, id))
            .await?;
        Ok(true)
    }
}

#[async_trait]
impl UserKeyStore for ScyllaStore {
    async fn put_user_key(
        &self,
        tenant: &TenantId,
        user: &UserId,
        wrapped: &[u8],
    ) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        match self
            .lwt(
                &r.st.user_key_insert,
                (tenant.as_str(), user.as_str(), wrapped),
            )
            .await?
        {
            true => Ok(()),
            false => Err(StoreError::Conflict),
        }
    }

    async fn get_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Option<Vec<u8>>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&r.st.user_key_get, (tenant.as_str(), user.as_str()))
            .await?;
        Ok(row.and_then(|(k,)| k))
    }

    async fn destroy_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        self.write(&r.st.user_key_delete, (tenant.as_str(), user.as_str()))
            .await
    }
}

#[async_trait]
impl SessionStore for ScyllaStore {
    async fn put_session(&self, session: &Session) -> StoreResult<()> {
        // Already expired: nothing to keep (a sweep would remove it at once).
        let Some(ttl) = ttl_until(session.expires_at) else {
            return Ok(());
        };
        let r = self.region_of(&session.tenant).await?;
        let (t, u) = (session.tenant.as_str(), session.user_id.as_str());
        self.write(&r.st.session_user_put, (t, u, &session.key.0[..], ttl))
            .await?;
        let values = (t, &session.key.0[..], encode(session), ttl);
        self.write(&r.st.session_put, values).await
    }

    async fn list_sessions(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Session>> {
        let r = self.region_of(tenant).await?;
        let keys: Vec<(Vec<u8>,)> = self
            .all(&r.st.session_user_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut out = Vec::new();
        for (k,) in keys {
            let row: Option<(Option<Vec<u8>>,)> = self
                .one(&r.st.session_get, (tenant.as_str(), &k[..]))
                .await?;
            if let Some(rec) = row.and_then(|(r,)| r) {
                out.push(decode(&rec)?);
            }
        }
        Ok(out)
    }

    async fn get_session(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<Session>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&r.st.session_get, (tenant.as_str(), &key.0[..]))
            .await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }

    async fn delete_session(
        &self,
        tenant: &TenantId,
        key: &Hash32,
    ) -> StoreResult<Option<Session>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&r.st.session_get, (tenant.as_str(), &key.0[..]))
            .await?;
        let Some(record) = row.and_then(|(r,)| r) else {
            return Ok(None);
        };
        let session: Session = decode(&record)?;
        self.write(&r.st.session_delete, (tenant.as_str(), &key.0[..]))
            .await?;
        let index = (tenant.as_str(), session.user_id.as_str(), &key.0[..]);
        self.write(&r.st.session_user_delete, index).await?;
        Ok(Some(session))
    }
}

#[async_trait]
impl CodeStore for ScyllaStore {
    async fn put_code(&self, code: &AuthCode) -> StoreResult<()> {
        let Some(ttl) = ttl_until(code.expires_at) else {
            return Ok(());
        };
        let r = self.region_of(&code.tenant).await?;
        let values = (code.tenant.as_str(), &code.key.0[..], encode(code), ttl);
        self.write(&r.st.code_put, values).await
    }

    /// Marks the code taken with a random taker id (`IF taken_by = null`) rather than
    /// deleting it: after a timeout, a serial read tells whether this caller took it.
    /// A taken code stays, unusable, until its TTL ends.
    async fn take_code(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<AuthCode>> {
        let r = self.region_of(tenant).await?;
        let (t, k) = (tenant.as_str(), &key.0[..]);
        let row: Option<(Option<Vec<u8>>, Option<String>)> =
            self.one(&r.st.code_get, (t, k)).await?;
        let Some((Some(record), None)) = row else {
            return Ok(None);
        };
        let code: AuthCode = decode(&record)?;
        let me = random_token::<12>();
        let ttl = ttl_until(code.expires_at).unwrap_or(1);
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            match self
                .lwt(&r.st.code_take, (ttl, me.as_str(), t, k, &record))
                .await
            {
                Ok(taken) => return Ok(taken.then_some(code)),
                Err(e) => {
                    let row: Option<(Option<Vec<u8>>, Option<String>)> =
                        match self.one(&r.st.code_get_serial, (t, k)).await {
                            Ok(row) => row,
                            Err(_) => return Err(e),
                        };
                    match row {
                        Some((Some(_), Some(taker))) if taker == me => return Ok(Some(code)),
                        Some((Some(_), None)) => last_error = Some(e),
                        _ => return Ok(None),
                    }
                }
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("code redemption did not complete")))
    }
}

#[async_trait]
impl ChainStore for ScyllaStore {
    async fn create_chain(&self, chain: &Chain) -> StoreResult<()> {
        let Some(ttl) = ttl_until(chain.expires_at) else {
            return Ok(());
        };
        let r = self.region_of(&chain.tenant).await?;
        let (t, id) = (chain.tenant.as_str(), chain.id.as_str());
        // The index first: an entry without its chain is harmless, a chain a move cannot
        // find is not.
        self.write(&r.st.chain_index_put, (t, bucket(id), id, ttl))
            .await?;
        self.write(&r.st.chain_user_put, (t, chain.user_id.as_str(), id, ttl))
            .await?;
        let hash = &chain.current_hash.0[..];
        let generation = int(chain.generation);
        let values = (
            (
                t,
                id,
                generation,
                hash,
                int(chain.rotated_at),
                int(chain.expires_at),
                encode(chain),
                ttl,
            ),
            (t, id, hash, generation, ttl),
        );
        if self.lwt_batch(&r.st.chain_create, values).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn get_chain(&self, tenant: &TenantId, id: &ChainId) -> StoreResult<Option<Chain>> {
        let r = self.region_of(tenant).await?;
        self.read_chain(&r, tenant, id, false).await
    }

    async fn list_chains(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Chain>> {
        let r = self.region_of(tenant).await?;
        let ids: Vec<(String,)> = self
            .all(&r.st.chain_user_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut out = Vec::new();
        for (id,) in ids {
            let id = ChainId::from_stored(id);
            if let Some(c) = self.read_chain(&r, tenant, &id, false).await? {
                out.push(c);
            }
        }
        Ok(out)
    }

    async fn token_generation(
        &self,
        tenant: &TenantId,
        chain: &ChainId,
        hash: &Hash32,
    ) -> StoreResult<Option<u64>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<i64>,)> = self
            .one(
                &r.st.chain_token_get,
                (tenant.as_str(), chain.as_str(), &hash.0[..]),
            )
            .await?;
        row.and_then(|(g,)| g).map(uint).transpose()
    }

    /// A plain read first answers Missing and Stale without Paxos (generations only grow,
    /// and revocation is final); otherwise the conditional batch decides. When it does
    /// not apply or its outcome is unknown, a serial read says what the chain is now.
    async fn rotate_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        expected_generation: u64,
        new_hash: Hash32,
        now: UnixTime,
    ) -> StoreResult<Rotation> {
        let r = self.region_of(tenant).await?;
        let Some(chain) = self.read_chain(&r, tenant, id, false).await? else {
            return Ok(Rotation::Missing);
        };
        if chain.generation != expected_generation || chain.revoked.is_some() {
            return Ok(Rotation::Stale(chain));
        }
        let next = expected_generation + 1;
        let ttl = ttl_until(chain.expires_at).unwrap_or(1);
        let (t, cid, h) = (tenant.as_str(), id.as_str(), &new_hash.0[..]);
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let values = (
                (
                    ttl,
                    int(next),
                    h,
                    int(now),
                    t,
                    cid,
                    int(expected_generation),
                ),
                (t, cid, h, int(next), ttl),
            );
            let outcome = self.lwt_batch(&r.st.chain_rotate, values).await;
            if let Ok(true) = outcome {
                return Ok(Rotation::Rotated(Chain {
                    generation: next,
                    current_hash: new_hash,
                    rotated_at: now,
                    ..chain
                }));
            }
            let state = match self.read_chain(&r, tenant, id, true).await {
                Ok(s) => s,
                Err(e) => return Err(outcome.err().unwrap_or(e)),
            };
            match state {
                None => return Ok(Rotation::Missing),
                // This caller's rotation landed although its answer was lost.
                Some(s) if s.generation == next && s.current_hash == new_hash => {
                    return Ok(Rotation::Rotated(s));
                }
                Some(s) if s.generation != expected_generation || s.revoked.is_some() => {
                    return Ok(Rotation::Stale(s));
                }
                Some(_) => last_error = outcome.err(),
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("refresh rotation did not complete")))
    }

    async fn revoke_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        reason: RevokeReason,
    ) -> StoreResult<Option<Chain>> {
        let r = self.region_of(tenant).await?;
        let Some(chain) = self.read_chain(&r, tenant, id, false).await? else {
            return Ok(None);
        };
        if chain.revoked.is_some() {
            return Ok(Some(chain));
        }
        let ttl = ttl_until(chain.expires_at).unwrap_or(1);
        let (t, cid) = (tenant.as_str(), id.as_str());
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            // `expires_at = ?` never changes: it only makes sure the chain still exists.
            let values = (ttl, reason_str(reason), t, cid, int(chain.expires_at));
            let outcome = self.lwt(&r.st.chain_revoke, values).await;
            let serial = !matches!(outcome, Ok(true));
            let state = match self.read_chain(&r, tenant, id, serial).await {
                Ok(s) => s,
                Err(e) => return Err(outcome.err().unwrap_or(e)),
            };
            match state {
                None if outcome == Ok(true) => {
                    return Ok(Some(Chain {
                        revoked: Some(reason),
                        ..chain
                    }));
                }
                None => return Ok(None),
                Some(s) if s.revoked.is_some() => return Ok(Some(s)),
                Some(_) => last_error = outcome.err(),
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("revocation did not complete")))
    }
}

#[async_trait]
impl KeyStore for ScyllaStore {
    /// One batch on the tenant's key-ring partition: applied atomically.
    async fn put_keys(&self, keys: &[StoredKey]) -> StoreResult<()> {
        let mut by_tenant: BTreeMap<&TenantId, Vec<&StoredKey>> = BTreeMap::new();
        for k in keys {
            by_tenant.entry(&k.tenant).or_default().push(k);
        }
        for (tenant, keys) in by_tenant {
            let r = self.region_of(tenant).await?;
            let mut batch = Batch::new(BatchType::Unlogged);
            for _ in &keys {
                batch.append_statement(r.st.key_put.clone());
            }
            if let Some(p) = r.st.key_put.get_execution_profile_handle() {
                batch.set_execution_profile_handle(Some(p.clone()));
            }
            batch.set_is_idempotent(true);
            let values: Vec<(&str, &str, Vec<u8>)> = keys
                .iter()
                .map(|k| (tenant.as_str(), k.kid.as_str(), encode(*k)))
                .collect();
            self.session()
                .batch(&batch, values)
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    async fn list_keys(&self, tenant: &TenantId) -> StoreResult<Vec<StoredKey>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Option<Vec<u8>>)> =
            self.all(&r.st.key_list, (tenant.as_str(),)).await?;
        rows.into_iter()
            .filter_map(|(_, r)| r)
            .map(|r| decode(&r))
            .collect()
    }
}

#[async_trait]
impl ConsentStore for ScyllaStore {
    async fn put_consent(&self, consent: &Consent) -> StoreResult<()> {
        let r = self.region_of(&consent.tenant).await?;
        let values = (
            consent.tenant.as_str(),
            consent.user_id.as_str(),
            consent.client_id.as_str(),
            encode(consent),
        );
        self.write(&r.st.consent_put, values).await
    }

    async fn delete_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>> {
        let old = self.get_consent(tenant, user, client).await?;
        if old.is_some() {
            let r = self.region_of(tenant).await?;
            let values = (tenant.as_str(), user.as_str(), client.as_str());
            self.write(&r.st.consent_delete, values).await?;
        }
        Ok(old)
    }

    async fn list_consents(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Consent>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Vec<u8>)> = self
            .all(&r.st.consent_list, (tenant.as_str(), user.as_str()))
            .await?;
        rows.iter().map(|(_, rec)| decode(rec)).collect()
    }

    async fn get_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(
                &r.st.consent_get,
                (tenant.as_str(), user.as_str(), client.as_str()),
            )
            .await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }
}

#[async_trait]
impl PurposeStore for ScyllaStore {
    async fn put_privacy_settings(
        &self,
        tenant: &TenantId,
        settings: &PrivacySettings,
    ) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        self.write(&r.st.privacy_put, (tenant.as_str(), encode(settings)))
            .await
    }

    async fn get_privacy_settings(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Option<PrivacySettings>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> =
            self.one(&r.st.privacy_get, (tenant.as_str(),)).await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }

    async fn put_purpose_grant(&self, grant: &PurposeGrant) -> StoreResult<()> {
        let r = self.region_of(&grant.tenant).await?;
        let values = (
            grant.tenant.as_str(),
            grant.user_id.as_str(),
            grant.purpose.as_str(),
            encode(grant),
        );
        self.write(&r.st.grant_put, values).await
    }

    async fn list_purpose_grants(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<PurposeGrant>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Vec<u8>)> = self
            .all(&r.st.grant_list, (tenant.as_str(), user.as_str()))
            .await?;
        rows.iter().map(|(_, rec)| decode(rec)).collect()
    }

    async fn delete_purpose_grants(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        self.write(&r.st.grants_delete, (tenant.as_str(), user.as_str()))
            .await
    }
}

#[async_trait]
impl DenyListStore for ScyllaStore {
    async fn deny_token(
        &self,
        tenant: &TenantId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<()> {
        let Some(ttl) = ttl_until(expires_at) else {
            return Ok(());
        };
        let r = self.region_of(tenant).await?;
        let values = (tenant.as_str(), bucket(jti), jti, int(expires_at), ttl);
        self.write(&r.st.deny_put, values).await
    }

    async fn is_token_denied(&self, tenant: &TenantId, jti: &str) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<i64>,)> = self
            .one(&r.st.deny_get, (tenant.as_str(), bucket(jti), jti))
            .await?;
        Ok(row.is_some())
    }
}

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

#[async_trait]
impl FactorStore for ScyllaStore {
    /// Claims the lookup key first (`INSERT INTO factor_lookup ... IF NOT EXISTS`), then
    /// inserts the factor (`IF NOT EXISTS`); a factor that loses gives its claim back
    /// (`DELETE ... IF claim = ?`). A claim without its factor is invisible: `find_factor`
    /// checks that the factor it points to has this key.
    async fn create_factor(&self, factor: &Factor) -> StoreResult<()> {
        let r = self.region_of(&factor.tenant).await?;
        let me = random_token::<12>();
        if let Some(lookup) = &factor.lookup {
            self.claim_lookup(&r, factor, lookup, &me).await?;
        }
        let created = self.insert_factor(&r, factor, &me).await;
        // Only a known loss releases the claim: after an unknown outcome the factor may
        // exist, and an unneeded claim is taken over once old.
        if let (Err(StoreError::Conflict), Some(lookup)) = (&created, &factor.lookup) {
            let values = (factor.tenant.as_str(), lookup.as_str(), me.as_str());
            if let Err(e) = self.lwt(&r.st.lookup_release, values).await {
                tracing::warn!(error = %e, "could not release the lookup key of a factor that was not created; it is taken over when old");
            }
        }
        created
    }

    async fn list_factors(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Factor>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<FactorListRow> = self
            .all(&r.st.factor_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut factors = rows
            .into_iter()
            .filter_map(|(_, _, _, _, record)| record)
            .map(|r| decode::<Factor>(&r))
            .collect::<StoreResult<Vec<_>>>()?;
        factors.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(factors)
    }

    async fn get_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>> {
        let r = self.region_of(tenant).await?;
        let f = self
            .read_factor(&r, tenant.as_str(), user.as_str(), id, false)
            .await?;
        Ok(f.map(|f| f.factor))
    }

    async fn find_factor(&self, tenant: &TenantId, lookup: &str) -> StoreResult<Option<Factor>> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let claim: Option<LookupRow> = self.one(&r.st.lookup_get, (t, lookup)).await?;
        let Some((Some(user), Some(id), ..)) = claim else {
            return Ok(None);
        };
        let f = self.read_factor(&r, t, &user, &id, false).await?;
        // A claim left by a failed creation or deletion may point elsewhere.
        Ok(f.filter(|f| f.lookup.as_deref() == Some(lookup))
            .map(|f| f.factor))
    }

    /// `UPDATE ... SET version = ?, written_by = <random>, record = ? IF version = ? AND
    /// lookup = ?` (or `lookup = null`): the lookup key cannot change, and a missing row
    /// never matches. After a timeout a serial read tells whether this caller wrote it.
    async fn update_factor(&self, factor: &Factor, expected_version: u64) -> StoreResult<bool> {
        let r = self.region_of(&factor.tenant).await?;
        let (t, u, id) = (
            factor.tenant.as_str(),
            factor.user_id.as_str(),
            factor.id.as_str(),
        );
        let me = random_token::<12>();
        let record = encode(factor);
        let (version, expected) = (int(factor.version), int(expected_version));
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let set = (version, me.as_str(), &record, t, u, id, expected);
            let outcome = match &factor.lookup {
                Some(l) => {
                    let (a, b, c, d, e, f, g) = set;
                    let values = (a, b, c, d, e, f, g, l.as_str());
                    self.lwt(&r.st.factor_update, values).await
                }
                None => self.lwt(&r.st.factor_update_unkeyed, set).await,
            };
            let e = match outcome {
                Ok(applied) => return Ok(applied),
                Err(e) => e,
            };
            match self.read_factor(&r, t, u, id, true).await {
                Ok(Some(s)) if s.written_by.as_deref() == Some(me.as_str()) => return Ok(true),
                Ok(Some(s)) if s.version == expected && s.lookup == factor.lookup => {
                    last_error = Some(e);
                }
                Ok(_) => return Ok(false),
                Err(_) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("factor update did not complete")))
    }

    /// `DELETE ... IF version = ?` with the version read first (a concurrent update makes
    /// it read again), then the lookup claim (`DELETE ... IF user_id = ? AND id = ?`).
    async fn delete_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        let mut current = self.read_factor(&r, t, u, id, false).await?;
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let Some(f) = current else {
                return Ok(None);
            };
            let outcome = self.lwt(&r.st.factor_remove, (t, u, id, f.version)).await;
            if let Ok(true) = outcome {
                self.remove_lookup(&r, &f.factor).await;
                return Ok(Some(f.factor));
            }
            current = match self.read_factor(&r, t, u, id, true).await {
                // Gone after an unknown outcome: deleted, by this call or a concurrent one.
                Ok(None) if outcome.is_err() => {
                    self.remove_lookup(&r, &f.factor).await;
                    return Ok(Some(f.factor));
                }
                Ok(c) => c,
                Err(e) => return Err(outcome.err().unwrap_or(e)),
            };
            last_error = outcome.err();
        }
        Err(last_error.unwrap_or_else(|| unavailable("factor deletion did not complete")))
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
            match self.lwt(&r.st.challenge_insert, values).await {
                Ok(true) => return Ok(()),
                Ok(false) => return Err(StoreError::Conflict),
                Err(e) => {
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

#[async_trait]
impl IdentityStore for ScyllaStore {
    async fn put_connector(
        &self,
        connector: &tollgate_vocab::model::federation::Connector,
    ) -> StoreResult<()> {
        let r = self.region_of(&connector.tenant).await?;
        let values = (
            connector.tenant.as_str(),
            connector.id.as_str(),
            encode(connector),
        );
        self.write(&r.st.connector_put, values).await
    }

    async fn get_connector(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Connector>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> =
            self.one(&r.st.connector_get, (tenant.as_str(), id)).await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }

    async fn list_connectors(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Vec<tollgate_vocab::model::federation::Connector>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Option<Vec<u8>>)> =
            self.all(&r.st.connector_list, (tenant.as_str(),)).await?;
        rows.into_iter()
            .filter_map(|(_, r)| r)
            .map(|r| decode(&r))
            .collect()
    }

    async fn delete_connector(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let existed = self.get_connector(tenant, id).await?.is_some();
        if existed {
            let r = self.region_of(tenant).await?;
            self.write(&r.st.connector_delete, (tenant.as_str(), id))
                .await?;
        }
        Ok(existed)
    }

    /// Writes the user's index entry first, then claims the link (`IF NOT EXISTS`); a
    /// lost claim removes the entry again. An entry whose link is missing or another
    /// user's is skipped by `list_links`, so a crash between the two shows nothing.
    async fn create_link(&self, link: &tollgate_vocab::model::federation::Link) -> StoreResult<()> {
        let r = self.region_of(&link.tenant).await?;
        let (t, u, p, k) = (
            link.tenant.as_str(),
            link.user_id.as_str(),
            link.provider.as_str(),
            link.key.0.to_vec(),
        );
        self.write(&r.st.link_user_put, (t, u, p, k.clone()))
            .await?;
        if self
            .lwt(&r.st.link_insert, (t, p, k.clone(), u, encode(link)))
            .await?
        {
            return Ok(());
        }
        self.write(&r.st.link_user_delete, (t, u, p, k)).await?;
        Err(StoreError::Conflict)
    }

    async fn find_link(
        &self,
        tenant: &TenantId,
        provider: &str,
        key: &Hash32,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Link>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<String>, Option<Vec<u8>>)> = self
            .one(&r.st.link_get, (tenant.as_str(), provider, key.0.to_vec()))
            .await?;
        row.and_then(|(_, r)| r).map(|r| decode(&r)).transpose()
    }

    async fn list_links(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<tollgate_vocab::model::federation::Link>> {
        let r = self.region_of(tenant).await?;
        let entries: Vec<(String, Vec<u8>)> = self
            .all(&r.st.link_user_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut out = Vec::with_capacity(entries.len());
        for (provider, key) in entries {
            let row: Option<(Option<String>, Option<Vec<u8>>)> = self
                .one(&r.st.link_get, (tenant.as_str(), provider.as_str(), key))
                .await?;
            if let Some((Some(owner), Some(rec))) = row
                && owner == user.as_str()
            {
                out.push(decode(&rec)?);
            }
        }
        Ok(out)
    }

    async fn update_link(
        &self,
        link: &tollgate_vocab::model::federation::Link,
    ) -> StoreResult<bool> {
        let r = self.region_of(&link.tenant).await?;
        self.lwt(
            &r.st.link_update,
            (
                encode(link),
                link.tenant.as_str(),
                link.provider.as_str(),
                link.key.0.to_vec(),
                link.user_id.as_str(),
            ),
        )
        .await
    }

    async fn delete_link(
        &self,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        key: &Hash32,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Link>> {
        let Some(link) = self
            .find_link(tenant, provider, key)
            .await?
            .filter(|l| &l.user_id == user)
        else {
            return Ok(None);
        };
        let r = self.region_of(tenant).await?;
        let (t, u, k) = (tenant.as_str(), user.as_str(), key.0.to_vec());
        if !self
            .lwt(&r.st.link_remove, (t, provider, k.clone(), u))
            .await?
        {
            return Ok(None);
        }
        self.write(&r.st.link_user_delete, (t, u, provider, k))
            .await?;
        Ok(Some(link))
    }
}

#[async_trait]
impl Store for ScyllaStore {
    /// Expiring rows carry native TTLs: ScyllaDB drops them itself.
    async fn sweep_expired(&self, _now: UnixTime) -> StoreResult<u64> {
        Ok(0)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.exec(
            &self.inner.global.ping,
            (self.inner.global_keyspace.as_str(),),
        )
        .await
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_split_into_statements_without_comments() {
        for m in MIGRATIONS {
            let statements = m.statements("ks", "{'class': 'NetworkTopologyStrategy', 'dc1': 3}");
            assert!(!statements.is_empty(), "{} is empty", m.name);
            for s in &statements {
                assert!(!s.contains("--"), "comment left in {}: {s}", m.name);
                assert!(!s.contains("{keyspace}") && !s.contains("{replication}"));
                assert!(!s.contains("ALLOW FILTERING") && !s.contains("INDEX"));
                assert!(s.starts_with("CREATE "), "{}: {s}", m.name);
            }
            assert!(
                statements[0].contains("tablets = {'enabled': false}"),
                "{}: keyspaces with lightweight transactions need tablets off",
                m.name
            );
        }
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
        assert!(
            MIGRATIONS
                .iter()
                .all(|m| m.name.starts_with(&format!("{:04}_", m.version)))
        );
    }

    #[test]
    fn names_and_replication_are_checked() {
        let mut cfg = ScyllaConfig::default();
        let plan = Plan::new(&cfg).unwrap();
        assert_eq!(plan.regions[0].keyspace, "tollgate_default");
        assert_eq!(
            plan.global_replication,
            "{'class': 'NetworkTopologyStrategy', 'datacenter1': 1}"
        );
        cfg.keyspace = "x; DROP".into();
        assert!(Plan::new(&cfg).is_err());
        let mut cfg = ScyllaConfig::default();
        cfg.regions
            .get_mut(DEFAULT_REGION)
            .unwrap()
            .datacenters
            .clear();
        assert!(Plan::new(&cfg).is_err());
        let cfg = ScyllaConfig {
            consistency: "most".into(),
            ..ScyllaConfig::default()
        };
        assert!(Plan::new(&cfg).is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let cfg = ScyllaConfig {
            password: Some("hunter2".into()),
            ..ScyllaConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&cfg).unwrap().contains("hunter2"));
    }

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
}
