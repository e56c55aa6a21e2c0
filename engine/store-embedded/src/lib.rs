//! The embedded store: a fjall (LSM) database in a data directory.
//!
//! Reads go straight to fjall from any thread. Every write is a job sent to one writer
//! thread, which takes all jobs waiting, runs each against the state as the batch so far
//! leaves it (so conditional writes such as "take this code" or "rotate if still at
//! generation n" are atomic), commits them as one batch with one fsync, and only then
//! answers each caller. Many rotations share one fsync: that is the group commit.
//!
//! Audit events handed over with `enqueue_event` do not get a commit of their own: they
//! ride in the next batch, and wait at most `EmbeddedOptions::event_linger` for one.
//!
//! Keys are `tenant \0 rest`, so every tenant's rows are one contiguous range. Rows that
//! expire also get an entry in the `expiry` keyspace (`expires_at ‖ keyspace ‖ key`) that
//! the sweeper walks in time order.

// A panic in a request path takes a worker with it; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod breaches;
mod chains;
mod challenges;
mod children;
mod consents;
mod domains;
mod events;
mod factors;
mod grievances;
mod identities;
mod keyspaces;
mod orgs;
mod outbox;
mod receipts;
mod retention;
mod scim;
mod sessions;
mod tenants;
mod user_log;
mod users;
mod verifications;
mod writer;

use async_trait::async_trait;
use fjall::{Database, KeyspaceCreateOptions};
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

// Backends report batches through the port trait; re-exported for whoever wires one up.
pub use tollgate_store::BatchObserver;

use keyspaces::{ALL_KS, Inner, Ks, decode, io, ks_from_u8};
use tollgate_store::{Store, StoreError, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::model::Event;
use writer::{Completion, Job, Txn, writer_loop};

/// Tuning of the writer.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Jobs that may wait for the writer before callers are told `Overloaded`.
    pub queue_capacity: usize,
    /// Most jobs in one batch.
    pub max_batch: usize,
    /// How long audit events wait for a state change to share its commit.
    pub event_linger: Duration,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 65_536,
            max_batch: 4_096,
            event_linger: Duration::from_millis(50),
        }
    }
}

/// A handle to the embedded store; cheap to clone. The writer thread stops when the
/// last handle is dropped.
#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    jobs: crossbeam_channel::Sender<Job>,
    events: crossbeam_channel::Sender<Box<Event>>,
    queue_capacity: usize,
    observer: Option<Arc<dyn BatchObserver>>,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`, recovering from the journal after a crash.
    pub fn open(
        dir: &Path,
        options: EmbeddedOptions,
        observer: Option<Arc<dyn BatchObserver>>,
    ) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let db = Database::builder(dir.join("fjall"))
            // We persist explicitly once per batch; fjall's own timer would only add fsyncs.
            .manual_journal_persist(true)
            .open()
            .map_err(io)?;
        let ks = ALL_KS
            .iter()
            .map(|(_, name)| db.keyspace(name, KeyspaceCreateOptions::default))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io)?;
        let inner = Arc::new(Inner { db, ks });
        let (tx, rx) = crossbeam_channel::bounded::<Job>(options.queue_capacity);
        let (events_tx, events_rx) =
            crossbeam_channel::bounded::<Box<Event>>(options.queue_capacity);
        let writer_inner = inner.clone();
        let (max_batch, linger) = (options.max_batch, options.event_linger);
        let writer_observer = observer.clone();
        std::thread::Builder::new()
            .name("tollgate-store-writer".into())
            .spawn(move || {
                writer_loop(
                    writer_inner,
                    rx,
                    events_rx,
                    max_batch,
                    linger,
                    writer_observer,
                )
            })
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            inner,
            jobs: tx,
            events: events_tx,
            queue_capacity: options.queue_capacity,
            observer,
        })
    }

    /// Jobs waiting for the writer now.
    pub fn queue_depth(&self) -> usize {
        self.jobs.len()
    }

    /// The writer queue's bound.
    pub fn queue_capacity(&self) -> usize {
        self.queue_capacity
    }

    /// Runs `f` on the writer thread; resolves once its writes are durable.
    async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> StoreResult<R> + Send + 'static,
    ) -> StoreResult<R> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |txn| {
            let result = f(txn);
            let ok = result.is_ok();
            let done: Completion = Box::new(move |commit| {
                let _ = tx.send(commit.and(result));
            });
            (ok, done)
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(crossbeam_channel::TrySendError::Full(_)) => {
                if let Some(o) = &self.observer {
                    o.rejected();
                }
                return Err(StoreError::Overloaded);
            }
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                return Err(StoreError::Unavailable("store writer stopped".into()));
            }
        }
        rx.await
            .map_err(|_| StoreError::Unavailable("store writer stopped".into()))?
    }

    fn get_json<T: DeserializeOwned>(&self, ks: Ks, k: &[u8]) -> StoreResult<Option<T>> {
        self.inner
            .ks(ks)
            .get(k)
            .map_err(io)?
            .map(|v| decode(&v))
            .transpose()
    }

    fn scan_json<T: DeserializeOwned>(&self, ks: Ks, prefix: &[u8]) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        for kv in self.inner.ks(ks).prefix(prefix) {
            let (_, v) = kv.into_inner().map_err(io)?;
            out.push(decode(&v)?);
        }
        Ok(out)
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn sweep_expired(&self, now: UnixTime) -> StoreResult<u64> {
        // Collect a bounded slice of due entries, then delete them in one write job. Rows
        // are re-checked inside the job: a chain's index entry may be older than the row.
        let due: Vec<Vec<u8>> = self
            .inner
            .ks(Ks::Expiry)
            .range(..now.to_be_bytes().to_vec())
            .take(10_000)
            .map(|kv| kv.key().map(|k| k.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        if due.is_empty() {
            return Ok(0);
        }
        self.write(move |tx| {
            let mut n = 0;
            for ek in due {
                tx.delete(Ks::Expiry, ek.clone());
                let (Some(ks), rest) = (ks_from_u8(ek[8]), &ek[9..]) else {
                    continue;
                };
                let Some(row) = tx.get(ks, rest)? else {
                    continue;
                };
                // A row written again with a later expiry (a code sent again) has an
                // entry of its own for that time: this older entry must not delete it.
                let entry_at = u64::from_be_bytes(ek[..8].try_into().unwrap_or_default());
                if expires_after(&row, entry_at) {
                    continue;
                }
                tx.delete(ks, rest.to_vec());
                n += 1;
            }
            Ok(n)
        })
        .await
    }

    async fn ping(&self) -> StoreResult<()> {
        if self.jobs.len() >= self.queue_capacity {
            return Err(StoreError::Overloaded);
        }
        self.inner.ks(Ks::Tenants).first_key_value();
        Ok(())
    }

    fn queue_depth(&self) -> usize {
        self.jobs.len()
    }

    fn enqueue_event(&self, event: Box<Event>) -> Result<(), Box<Event>> {
        self.events.try_send(event).map_err(|e| e.into_inner())
    }
}

/// Whether a stored record says it expires after `at` (records with an `expires_at`).
fn expires_after(row: &[u8], at: UnixTime) -> bool {
    #[derive(serde::Deserialize)]
    struct Expiry {
        expires_at: Option<UnixTime>,
    }
    matches!(
        serde_json::from_slice::<Expiry>(row),
        Ok(Expiry { expires_at: Some(e) }) if e > at
    )
}
