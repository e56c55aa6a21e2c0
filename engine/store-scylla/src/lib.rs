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

// A panic in a request path takes a worker with it; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod breaches;
mod catalogue;
mod chains;
mod challenges;
mod children;
mod clients;
mod codes;
mod config;
mod consents;
mod denylist;
mod domains;
mod errors;
mod events;
mod factors;
mod grievances;
mod identities;
mod keys;
mod migrate;
mod moves;
mod orgs;
mod outbox;
mod purposes;
mod receipts;
mod region_statements;
mod retention;
mod rows;
mod scim;
mod sessions;
mod statements;
mod tenants;
mod user_keys;
mod users;
mod verifications;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ::scylla::client::session::Session as CqlSession;
use ::scylla::deserialize::row::DeserializeRow;
use ::scylla::response::query_result::QueryResult;
use ::scylla::serialize::batch::BatchValues;
use ::scylla::serialize::row::SerializeRow;
use ::scylla::statement::batch::Batch;
use ::scylla::statement::prepared::PreparedStatement;
use ::scylla::statement::{Consistency, SerialConsistency};
use async_trait::async_trait;
use futures::TryStreamExt;

pub use catalogue::{catalogue, catalogue_batches};
pub use config::ScyllaConfig;
pub use migrate::{migrate, migration_catalogue};
pub use statements::{CatalogueEntry, Kind};
pub use tollgate_store::RegionConfig;

use config::{Plan, open_session, serial_read};
use errors::{corrupt, execution, next_row_error, unavailable};
use migrate::check_schema;
use region_statements::RegionStatements;
use rows::applied;
use statements::{GlobalStatements, Preparer};
use tollgate_store::{Store, StoreError, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::crypto::random_bytes;
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::DEFAULT_REGION;

/// Attempts of a lightweight transaction whose outcome a serial read showed was not decided.
const LWT_ATTEMPTS: usize = 3;

/// Rows written at once while a tenant moves.
const MOVE_CONCURRENCY: usize = 32;

/// How long a node trusts its cached copy of a tenant's region.
const DIRECTORY_TTL: Duration = Duration::from_secs(10);

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
    directory: moka::sync::Cache<TenantId, Placement>,
    /// (keyspace, tenant, hour) whose `event_hours` row this node wrote: each hour is
    /// indexed once per node, not with every event. Kept no longer than a directory entry,
    /// so a tenant moved away and back is indexed again.
    event_hours: moka::sync::Cache<(String, TenantId, i32), ()>,
    /// How long a move waits after fencing a tenant before it copies: every node's cached
    /// directory entry has expired by then, and a write it began before has timed out.
    fence_wait: Duration,
    /// Per mille of answers to lose after their statement ran (tests only: 0 otherwise).
    lost_answers: std::sync::atomic::AtomicU32,
}

/// Where a tenant's data is, as the directory says.
#[derive(Clone, Debug)]
struct Placement {
    region: String,
    /// Set while a move to that region runs: the tenant is fenced.
    moving_to: Option<String>,
}

impl Placement {
    fn settled(region: &str) -> Self {
        Self {
            region: region.to_owned(),
            moving_to: None,
        }
    }
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
                event_hours: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(DIRECTORY_TTL)
                    .build(),
                fence_wait: DIRECTORY_TTL + Duration::from_millis(cfg.request_timeout_ms),
                lost_answers: std::sync::atomic::AtomicU32::new(0),
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
        let placement = match self.inner.directory.get(tenant) {
            Some(p) => p,
            None => {
                let row: Option<(Option<String>, Option<String>)> = self
                    .one(&self.inner.global.tenant_region, (tenant.as_str(),))
                    .await?;
                match row {
                    Some((Some(region), moving_to)) => {
                        let p = Placement { region, moving_to };
                        self.inner.directory.insert(tenant.clone(), p.clone());
                        p
                    }
                    _ => Placement::settled(DEFAULT_REGION),
                }
            }
        };
        // Fenced: nothing is read or written until the move ends, so no write can land in
        // the old region after its copy began (and be lost) or resurrect what it revoked.
        if let Some(to) = &placement.moving_to {
            return Err(StoreError::Unavailable(format!(
                "tenant {tenant} is being moved to region `{to}`; try again shortly"
            )));
        }
        let name = placement.region;
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
        let answer = self
            .session()
            .execute_unpaged(st, values)
            .await
            .map_err(execution)?;
        let lose = self.inner.lost_answers.load(Ordering::Relaxed);
        if lose > 0 && u32::from(random_bytes::<2>()[0]) * 1000 / 256 < lose {
            return Err(StoreError::Unavailable(
                "injected: the statement ran, its answer was lost".into(),
            ));
        }
        Ok(answer)
    }

    /// For tests of unknown outcomes: from now on, the answer to about `per_mille` of every
    /// thousand statements is replaced by an error after the statement has run (as when a
    /// coordinator times out after the replicas applied a write). 0 turns it off.
    #[doc(hidden)]
    pub fn lose_answers(&self, per_mille: u32) {
        self.inner
            .lost_answers
            .store(per_mille.min(1000), Ordering::Relaxed);
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
                .map_err(execution)?,
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
