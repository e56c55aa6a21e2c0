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

use async_trait::async_trait;
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

use tollgate_store::*;
// Backends report batches through the port trait; re-exported for whoever wires one up.
pub use tollgate_store::BatchObserver;
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{ChainId, ClientId, TenantId, UserId};
use tollgate_vocab::model::privacy::{PrivacySettings, PurposeGrant};
use tollgate_vocab::model::{
    AuthCode, Chain, Challenge, Client, Consent, Event, Factor, Hash32, RevokeReason, Session,
    StoredKey, Tenant, UserRecord,
};

/// The keyspaces, by a small number used in the expiry index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
enum Ks {
    Tenants = 0,
    Clients = 1,
    Users = 2,
    Emails = 3,
    Sessions = 4,
    Codes = 5,
    Chains = 6,
    Tokens = 7,
    Keys = 8,
    Consents = 9,
    Denied = 10,
    Events = 11,
    Expiry = 12,
    Factors = 13,
    FactorLookup = 14,
    Challenges = 15,
    EventsByUser = 16,
    SessionsByUser = 17,
    ChainsByUser = 18,
    UserKeys = 19,
    Deletions = 20,
    PrivacySettings = 21,
    PurposeGrants = 22,
    Connectors = 23,
    Links = 24,
    LinksByUser = 25,
}

const ALL_KS: [(Ks, &str); 26] = [
    (Ks::Tenants, "tenants"),
    (Ks::Clients, "clients"),
    (Ks::Users, "users"),
    (Ks::Emails, "emails"),
    (Ks::Sessions, "sessions"),
    (Ks::Codes, "codes"),
    (Ks::Chains, "chains"),
    (Ks::Tokens, "tokens"),
    (Ks::Keys, "keys"),
    (Ks::Consents, "consents"),
    (Ks::Denied, "denied"),
    (Ks::Events, "events"),
    (Ks::Expiry, "expiry"),
    (Ks::Factors, "factors"),
    (Ks::FactorLookup, "factor_lookup"),
    (Ks::Challenges, "challenges"),
    (Ks::EventsByUser, "events_by_user"),
    (Ks::SessionsByUser, "sessions_by_user"),
    (Ks::ChainsByUser, "chains_by_user"),
    (Ks::UserKeys, "user_keys"),
    (Ks::Deletions, "deletions"),
    (Ks::PrivacySettings, "privacy_settings"),
    (Ks::PurposeGrants, "purpose_grants"),
    (Ks::Connectors, "connectors"),
    (Ks::Links, "links"),
    (Ks::LinksByUser, "links_by_user"),
];

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

struct Inner {
    db: Database,
    ks: Vec<Keyspace>,
}

impl Inner {
    fn ks(&self, k: Ks) -> &Keyspace {
        &self.ks[k as usize]
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

type Completion = Box<dyn FnOnce(StoreResult<()>) + Send>;
type Job = Box<dyn FnOnce(&mut Txn<'_>) -> (bool, Completion) + Send>;

/// A write job's view: reads see what earlier jobs of the same batch wrote.
pub(crate) struct Txn<'a> {
    inner: &'a Inner,
    overlay: &'a HashMap<(Ks, Vec<u8>), Option<Vec<u8>>>,
    staged: Vec<(Ks, Vec<u8>, Option<Vec<u8>>)>,
}

impl Txn<'_> {
    fn get(&self, ks: Ks, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        if let Some((_, _, v)) = self
            .staged
            .iter()
            .rev()
            .find(|(k, kk, _)| *k == ks && kk == key)
        {
            return Ok(v.clone());
        }
        if let Some(v) = self.overlay.get(&(ks, key.to_vec())) {
            return Ok(v.clone());
        }
        Ok(self.inner.ks(ks).get(key).map_err(io)?.map(|v| v.to_vec()))
    }

    fn get_json<T: DeserializeOwned>(&self, ks: Ks, key: &[u8]) -> StoreResult<Option<T>> {
        self.get(ks, key)?.map(|v| decode(&v)).transpose()
    }

    fn put(&mut self, ks: Ks, key: Vec<u8>, value: Vec<u8>) {
        self.staged.push((ks, key, Some(value)));
    }

    fn put_json<T: Serialize>(&mut self, ks: Ks, key: Vec<u8>, value: &T) {
        self.put(ks, key, encode(value));
    }

    /// Writes a row and indexes its expiry for the sweeper.
    fn put_expiring<T: Serialize>(
        &mut self,
        ks: Ks,
        key: Vec<u8>,
        value: &T,
        expires_at: UnixTime,
    ) {
        self.put(Ks::Expiry, expiry_key(expires_at, ks, &key), Vec::new());
        self.put_json(ks, key, value);
    }

    fn delete(&mut self, ks: Ks, key: Vec<u8>) {
        self.staged.push((ks, key, None));
    }
}

fn io(e: fjall::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records serialise")
}

fn decode<T: DeserializeOwned>(v: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `tenant \0 part \0 part …`. Tenant ids cannot contain NUL, so prefixes never collide.
fn key(tenant: &TenantId, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(64);
    k.extend_from_slice(tenant.as_str().as_bytes());
    for p in parts {
        k.push(0);
        k.extend_from_slice(p);
    }
    k
}

fn tenant_prefix(tenant: &TenantId) -> Vec<u8> {
    let mut k = tenant.as_str().as_bytes().to_vec();
    k.push(0);
    k
}

fn expiry_key(at: UnixTime, ks: Ks, k: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + k.len());
    out.extend_from_slice(&at.to_be_bytes());
    out.push(ks as u8);
    out.extend_from_slice(k);
    out
}

fn ks_from_u8(b: u8) -> Option<Ks> {
    ALL_KS.iter().map(|(k, _)| *k).find(|k| *k as u8 == b)
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

fn event_key(e: &Event) -> Vec<u8> {
    key(&e.tenant, &[&e.at_ms.to_be_bytes(), e.id.as_bytes()])
}

/// Index entries that find an event by its actor and by its subject.
fn event_user_keys(e: &Event) -> Vec<Vec<u8>> {
    let mut users: Vec<&str> = e
        .actor
        .iter()
        .chain(e.subject.iter())
        .map(String::as_str)
        .collect();
    users.dedup();
    users
        .into_iter()
        .map(|u| {
            key(
                &e.tenant,
                &[u.as_bytes(), &e.at_ms.to_be_bytes(), e.id.as_bytes()],
            )
        })
        .collect()
}

fn writer_loop(
    inner: Arc<Inner>,
    rx: crossbeam_channel::Receiver<Job>,
    events_rx: crossbeam_channel::Receiver<Box<Event>>,
    max_batch: usize,
    linger: Duration,
    observer: Option<Arc<dyn BatchObserver>>,
) {
    let mut overlay = HashMap::new();
    let mut pending: Vec<Box<Event>> = Vec::new();
    let mut open = true;
    while open {
        let started = Instant::now();
        let mut jobs = Vec::new();
        if pending.is_empty() {
            crossbeam_channel::select! {
                recv(rx) -> j => match j {
                    Ok(j) => jobs.push(j),
                    Err(_) => open = false,
                },
                recv(events_rx) -> e => match e {
                    Ok(e) => pending.push(e),
                    Err(_) => open = false,
                },
            }
        }
        if open && jobs.is_empty() && !pending.is_empty() {
            match rx.recv_timeout(linger) {
                Ok(j) => jobs.push(j),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => open = false,
            }
        }
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        pending.extend(events_rx.try_iter());
        if jobs.is_empty() && pending.is_empty() {
            continue;
        }
        overlay.clear();
        let mut batch = inner.db.batch().durability(Some(PersistMode::SyncData));
        let mut completions = Vec::with_capacity(jobs.len());
        let n = jobs.len();
        for job in jobs {
            let mut txn = Txn {
                inner: &inner,
                overlay: &overlay,
                staged: Vec::new(),
            };
            // A panicking job must not take the writer (and every later write) with it.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut txn)));
            let staged = std::mem::take(&mut txn.staged);
            match outcome {
                Ok((ok, done)) => {
                    if ok {
                        for (ks, k, v) in staged {
                            match &v {
                                Some(val) => batch.insert(inner.ks(ks), k.clone(), val.clone()),
                                None => batch.remove(inner.ks(ks), k.clone()),
                            }
                            overlay.insert((ks, k), v);
                        }
                    }
                    completions.push(done);
                }
                Err(_) => tracing::error!("a store write job panicked; its writes were dropped"),
            }
        }
        let events = pending.len();
        for e in pending.drain(..) {
            for ik in event_user_keys(&e) {
                batch.insert(inner.ks(Ks::EventsByUser), ik, event_key(&e));
            }
            batch.insert(inner.ks(Ks::Events), event_key(&e), encode(&*e));
        }
        let result = batch.commit().map_err(io);
        if let Err(e) = &result {
            tracing::error!(error = %e, events, "store batch commit failed");
        }
        if let Some(o) = &observer {
            o.batch_committed(n, started.elapsed().as_secs_f64());
        }
        for done in completions {
            done(result.clone());
        }
    }
}

#[async_trait]
impl TenantStore for EmbeddedStore {
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let t = tenant.clone();
        self.write(move |tx| {
            let k = t.id.as_str().as_bytes().to_vec();
            if tx.get(Ks::Tenants, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put_json(Ks::Tenants, k, &t);
            Ok(())
        })
        .await
    }

    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>> {
        self.get_json(Ks::Tenants, id.as_str().as_bytes())
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.scan_json(Ks::Tenants, b"")
    }

    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<bool> {
        let t = tenant.clone();
        self.write(move |tx| {
            let k = t.id.as_str().as_bytes().to_vec();
            match tx.get_json::<Tenant>(Ks::Tenants, &k)? {
                Some(cur) if cur.region == t.region => {
                    tx.put_json(Ks::Tenants, k, &t);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn move_tenant(&self, id: &TenantId, region: &str) -> StoreResult<Option<Tenant>> {
        // One data directory holds every region it is given: only the record changes.
        let (k, region) = (id.as_str().as_bytes().to_vec(), region.to_owned());
        self.write(move |tx| {
            let Some(mut t) = tx.get_json::<Tenant>(Ks::Tenants, &k)? else {
                return Ok(None);
            };
            t.region = region;
            tx.put_json(Ks::Tenants, k, &t);
            Ok(Some(t))
        })
        .await
    }
}

#[async_trait]
impl ClientStore for EmbeddedStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        let c = client.clone();
        self.write(move |tx| {
            let k = key(&c.tenant, &[c.id.as_str().as_bytes()]);
            if tx.get(Ks::Clients, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put_json(Ks::Clients, k, &c);
            Ok(())
        })
        .await
    }

    async fn get_client(&self, tenant: &TenantId, id: &ClientId) -> StoreResult<Option<Client>> {
        self.get_json(Ks::Clients, &key(tenant, &[id.as_str().as_bytes()]))
    }

    async fn list_clients(&self, tenant: &TenantId) -> StoreResult<Vec<Client>> {
        self.scan_json(Ks::Clients, &tenant_prefix(tenant))
    }
}

#[async_trait]
impl UserStore for EmbeddedStore {
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()> {
        let u = user.clone();
        self.write(move |tx| {
            let ek = key(&u.tenant, &[u.email_key.as_bytes()]);
            let uk = key(&u.tenant, &[u.id.as_str().as_bytes()]);
            if tx.get(Ks::Emails, &ek)?.is_some() || tx.get(Ks::Users, &uk)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put(Ks::Emails, ek, u.id.as_str().as_bytes().to_vec());
            tx.put_json(Ks::Users, uk, &u);
            Ok(())
        })
        .await
    }

    async fn create_users(&self, users: &[UserRecord]) -> StoreResult<Vec<bool>> {
        let users = users.to_vec();
        self.write(move |tx| {
            let mut created = Vec::with_capacity(users.len());
            for u in users {
                let ek = key(&u.tenant, &[u.email_key.as_bytes()]);
                let uk = key(&u.tenant, &[u.id.as_str().as_bytes()]);
                // Reads see this job's own earlier writes, so duplicates within one
                // import are caught too.
                if tx.get(Ks::Emails, &ek)?.is_some() || tx.get(Ks::Users, &uk)?.is_some() {
                    created.push(false);
                    continue;
                }
                tx.put(Ks::Emails, ek, u.id.as_str().as_bytes().to_vec());
                tx.put_json(Ks::Users, uk, &u);
                created.push(true);
            }
            Ok(created)
        })
        .await
    }

    async fn update_user(&self, user: &UserRecord) -> StoreResult<bool> {
        let u = user.clone();
        self.write(move |tx| {
            let k = key(&u.tenant, &[u.id.as_str().as_bytes()]);
            match tx.get_json::<UserRecord>(Ks::Users, &k)? {
                Some(cur) if cur.email_key == u.email_key && cur.deleted_at.is_none() => {
                    tx.put_json(Ks::Users, k, &u);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<UserRecord>> {
        self.get_json(Ks::Users, &key(tenant, &[id.as_str().as_bytes()]))
    }

    async fn change_user_email(&self, user: &UserRecord, old_email_key: &str) -> StoreResult<bool> {
        let (u, old) = (user.clone(), old_email_key.to_owned());
        // One job: the claim of the new email, the release of the old one and the record
        // commit together or not at all.
        self.write(move |tx| {
            let uk = key(&u.tenant, &[u.id.as_str().as_bytes()]);
            match tx.get_json::<UserRecord>(Ks::Users, &uk)? {
                Some(cur) if cur.email_key == old && cur.deleted_at.is_none() => {}
                _ => return Ok(false),
            }
            let new_k = key(&u.tenant, &[u.email_key.as_bytes()]);
            match tx.get(Ks::Emails, &new_k)? {
                Some(owner) if owner != u.id.as_str().as_bytes() => {
                    return Err(StoreError::Conflict);
                }
                _ => {}
            }
            if old != u.email_key {
                tx.delete(Ks::Emails, key(&u.tenant, &[old.as_bytes()]));
            }
            tx.put(Ks::Emails, new_k, u.id.as_str().as_bytes().to_vec());
            tx.put_json(Ks::Users, uk, &u);
            Ok(true)
        })
        .await
    }

    async fn find_user_by_email(
        &self,
        tenant: &TenantId,
        email_key: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let id = self
            .inner
            .ks(Ks::Emails)
            .get(key(tenant, &[email_key.as_bytes()]))
            .map_err(io)?;
        match id {
            Some(id) => {
                let id = String::from_utf8(id.to_vec())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let u = self.get_user(tenant, &UserId::from_stored(id)).await?;
                Ok(u.filter(|u| u.deleted_at.is_none()))
            }
            None => Ok(None),
        }
    }

    async fn soft_delete_user(&self, user: &UserRecord, old_email_key: &str) -> StoreResult<bool> {
        let (u, old) = (user.clone(), old_email_key.to_owned());
        self.write(move |tx| {
            let k = key(&u.tenant, &[u.id.as_str().as_bytes()]);
            let Some(at) = u.deleted_at else {
                return Err(StoreError::Corrupt("soft delete without deleted_at".into()));
            };
            match tx.get_json::<UserRecord>(Ks::Users, &k)? {
                Some(cur) if cur.deleted_at.is_none() => {}
                _ => return Ok(false),
            }
            let ek = key(&u.tenant, &[old.as_bytes()]);
            if tx.get(Ks::Emails, &ek)?.as_deref() == Some(u.id.as_str().as_bytes()) {
                tx.delete(Ks::Emails, ek);
            }
            tx.put(
                Ks::Deletions,
                key(&u.tenant, &[&at.to_be_bytes(), u.id.as_str().as_bytes()]),
                Vec::new(),
            );
            tx.put_json(Ks::Users, k, &u);
            Ok(true)
        })
        .await
    }

    async fn deleted_users(
        &self,
        tenant: &TenantId,
        before: UnixTime,
        limit: usize,
    ) -> StoreResult<Vec<UserId>> {
        let prefix = tenant_prefix(tenant);
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::Deletions).prefix(&prefix) {
            let (k, _) = kv.into_inner().map_err(io)?;
            let rest = &k[prefix.len()..];
            let (at, id) = rest.split_at(8.min(rest.len()));
            let at = u64::from_be_bytes(at.try_into().map_err(|_| corrupt_key())?);
            if at >= before || out.len() >= limit {
                break;
            }
            let id = id.strip_prefix(&[0u8][..]).ok_or_else(corrupt_key)?;
            let id = String::from_utf8(id.to_vec()).map_err(|_| corrupt_key())?;
            out.push(UserId::from_stored(id));
        }
        Ok(out)
    }

    async fn purge_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<bool> {
        let (t, id) = (tenant.clone(), id.clone());
        self.write(move |tx| {
            let k = key(&t, &[id.as_str().as_bytes()]);
            let Some(at) = tx
                .get_json::<UserRecord>(Ks::Users, &k)?
                .and_then(|u| u.deleted_at)
            else {
                return Ok(false);
            };
            tx.delete(Ks::Users, k.clone());
            tx.delete(Ks::UserKeys, k);
            tx.delete(
                Ks::Deletions,
                key(&t, &[&at.to_be_bytes(), id.as_str().as_bytes()]),
            );
            Ok(true)
        })
        .await
    }
}

fn corrupt_key() -> StoreError {
    StoreError::Corrupt("bad deletion index key".into())
}

#[async_trait]
impl UserKeyStore for EmbeddedStore {
    async fn put_user_key(
        &self,
        tenant: &TenantId,
        user: &UserId,
        wrapped: &[u8],
    ) -> StoreResult<()> {
        let (k, w) = (key(tenant, &[user.as_str().as_bytes()]), wrapped.to_vec());
        self.write(move |tx| {
            if tx.get(Ks::UserKeys, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put(Ks::UserKeys, k, w);
            Ok(())
        })
        .await
    }

    async fn get_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Option<Vec<u8>>> {
        let k = key(tenant, &[user.as_str().as_bytes()]);
        Ok(self
            .inner
            .ks(Ks::UserKeys)
            .get(k)
            .map_err(io)?
            .map(|v| v.to_vec()))
    }

    async fn destroy_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let k = key(tenant, &[user.as_str().as_bytes()]);
        self.write(move |tx| {
            tx.delete(Ks::UserKeys, k);
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl SessionStore for EmbeddedStore {
    async fn put_session(&self, session: &Session) -> StoreResult<()> {
        let s = session.clone();
        self.write(move |tx| {
            let by_user = key(&s.tenant, &[s.user_id.as_str().as_bytes(), &s.key.0]);
            tx.put_expiring(Ks::SessionsByUser, by_user, &s.key, s.expires_at);
            tx.put_expiring(Ks::Sessions, key(&s.tenant, &[&s.key.0]), &s, s.expires_at);
            Ok(())
        })
        .await
    }

    async fn get_session(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<Session>> {
        self.get_json(Ks::Sessions, &key(tenant, &[&k.0]))
    }

    async fn delete_session(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<Session>> {
        let k = key(tenant, &[&k.0]);
        self.write(move |tx| {
            let old: Option<Session> = tx.get_json(Ks::Sessions, &k)?;
            if let Some(s) = &old {
                tx.delete(
                    Ks::SessionsByUser,
                    key(&s.tenant, &[s.user_id.as_str().as_bytes(), &s.key.0]),
                );
                tx.delete(Ks::Sessions, k);
            }
            Ok(old)
        })
        .await
    }

    async fn list_sessions(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Session>> {
        let keys: Vec<Hash32> = self.scan_json(
            Ks::SessionsByUser,
            &key(tenant, &[user.as_str().as_bytes(), b""]),
        )?;
        let mut out = Vec::new();
        for k in keys {
            if let Some(s) = self.get_json::<Session>(Ks::Sessions, &key(tenant, &[&k.0]))? {
                out.push(s);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl CodeStore for EmbeddedStore {
    async fn put_code(&self, code: &AuthCode) -> StoreResult<()> {
        let c = code.clone();
        self.write(move |tx| {
            tx.put_expiring(Ks::Codes, key(&c.tenant, &[&c.key.0]), &c, c.expires_at);
            Ok(())
        })
        .await
    }

    async fn take_code(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<AuthCode>> {
        let k = key(tenant, &[&k.0]);
        self.write(move |tx| {
            let code: Option<AuthCode> = tx.get_json(Ks::Codes, &k)?;
            if code.is_some() {
                tx.delete(Ks::Codes, k);
            }
            Ok(code)
        })
        .await
    }

    async fn redeem_code(
        &self,
        tenant: &TenantId,
        k: &Hash32,
        chain_for: tollgate_store::ChainFor,
    ) -> StoreResult<Option<(AuthCode, Option<Chain>)>> {
        let k = key(tenant, &[&k.0]);
        // One job on the writer thread: the code's removal and its chain commit together.
        self.write(move |tx| {
            let Some(code) = tx.get_json::<AuthCode>(Ks::Codes, &k)? else {
                return Ok(None);
            };
            tx.delete(Ks::Codes, k);
            let chain = chain_for(&code);
            if let Some(c) = &chain {
                let ck = key(&c.tenant, &[c.id.as_str().as_bytes()]);
                if tx.get(Ks::Chains, &ck)?.is_some() {
                    return Err(StoreError::Conflict);
                }
                let tk = token_key(&c.tenant, &c.id, &c.current_hash);
                tx.put_expiring(Ks::Tokens, tk, &c.generation, c.expires_at);
                tx.put_expiring(Ks::ChainsByUser, chain_user_key(c), &c.id, c.expires_at);
                tx.put_expiring(Ks::Chains, ck, c, c.expires_at);
            }
            Ok(Some((code, chain)))
        })
        .await
    }
}

fn chain_user_key(c: &Chain) -> Vec<u8> {
    key(
        &c.tenant,
        &[c.user_id.as_str().as_bytes(), c.id.as_str().as_bytes()],
    )
}

fn token_key(tenant: &TenantId, chain: &ChainId, hash: &Hash32) -> Vec<u8> {
    key(tenant, &[chain.as_str().as_bytes(), &hash.0])
}

#[async_trait]
impl ChainStore for EmbeddedStore {
    async fn create_chain(&self, chain: &Chain) -> StoreResult<()> {
        let c = chain.clone();
        self.write(move |tx| {
            let k = key(&c.tenant, &[c.id.as_str().as_bytes()]);
            if tx.get(Ks::Chains, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            let tk = token_key(&c.tenant, &c.id, &c.current_hash);
            tx.put_expiring(Ks::Tokens, tk, &c.generation, c.expires_at);
            tx.put_expiring(Ks::ChainsByUser, chain_user_key(&c), &c.id, c.expires_at);
            tx.put_expiring(Ks::Chains, k, &c, c.expires_at);
            Ok(())
        })
        .await
    }

    async fn get_chain(&self, tenant: &TenantId, id: &ChainId) -> StoreResult<Option<Chain>> {
        self.get_json(Ks::Chains, &key(tenant, &[id.as_str().as_bytes()]))
    }

    async fn list_chains(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Chain>> {
        let ids: Vec<ChainId> = self.scan_json(
            Ks::ChainsByUser,
            &key(tenant, &[user.as_str().as_bytes(), b""]),
        )?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(c) =
                self.get_json::<Chain>(Ks::Chains, &key(tenant, &[id.as_str().as_bytes()]))?
            {
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
        self.get_json(Ks::Tokens, &token_key(tenant, chain, hash))
    }

    async fn rotate_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        expected_generation: u64,
        new_hash: Hash32,
        now: UnixTime,
    ) -> StoreResult<Rotation> {
        let k = key(tenant, &[id.as_str().as_bytes()]);
        self.write(move |tx| {
            let Some(mut chain) = tx.get_json::<Chain>(Ks::Chains, &k)? else {
                return Ok(Rotation::Missing);
            };
            if chain.generation != expected_generation || chain.revoked.is_some() {
                return Ok(Rotation::Stale(chain));
            }
            chain.generation += 1;
            chain.current_hash = new_hash;
            chain.rotated_at = now;
            let tk = token_key(&chain.tenant, &chain.id, &new_hash);
            // The chain's expiry index entry already exists (expires_at is unchanged).
            tx.put_expiring(Ks::Tokens, tk, &chain.generation, chain.expires_at);
            tx.put_json(Ks::Chains, k, &chain);
            Ok(Rotation::Rotated(chain))
        })
        .await
    }

    async fn revoke_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        reason: RevokeReason,
    ) -> StoreResult<Option<Chain>> {
        let k = key(tenant, &[id.as_str().as_bytes()]);
        self.write(move |tx| {
            let Some(mut chain) = tx.get_json::<Chain>(Ks::Chains, &k)? else {
                return Ok(None);
            };
            if chain.revoked.is_none() {
                chain.revoked = Some(reason);
                tx.put_json(Ks::Chains, k, &chain);
            }
            Ok(Some(chain))
        })
        .await
    }
}

#[async_trait]
impl KeyStore for EmbeddedStore {
    async fn put_keys(&self, keys: &[StoredKey]) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.write(move |tx| {
            for k in keys {
                tx.put_json(Ks::Keys, key(&k.tenant, &[k.kid.as_str().as_bytes()]), &k);
            }
            Ok(())
        })
        .await
    }

    async fn list_keys(&self, tenant: &TenantId) -> StoreResult<Vec<StoredKey>> {
        self.scan_json(Ks::Keys, &tenant_prefix(tenant))
    }
}

#[async_trait]
impl ConsentStore for EmbeddedStore {
    async fn put_consent(&self, consent: &Consent) -> StoreResult<()> {
        let c = consent.clone();
        self.write(move |tx| {
            let k = key(
                &c.tenant,
                &[
                    c.user_id.as_str().as_bytes(),
                    c.client_id.as_str().as_bytes(),
                ],
            );
            tx.put_json(Ks::Consents, k, &c);
            Ok(())
        })
        .await
    }

    async fn delete_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>> {
        let k = key(
            tenant,
            &[user.as_str().as_bytes(), client.as_str().as_bytes()],
        );
        self.write(move |tx| {
            let old: Option<Consent> = tx.get_json(Ks::Consents, &k)?;
            if old.is_some() {
                tx.delete(Ks::Consents, k);
            }
            Ok(old)
        })
        .await
    }

    async fn list_consents(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Consent>> {
        self.scan_json(Ks::Consents, &key(tenant, &[user.as_str().as_bytes(), b""]))
    }

    async fn get_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>> {
        self.get_json(
            Ks::Consents,
            &key(
                tenant,
                &[user.as_str().as_bytes(), client.as_str().as_bytes()],
            ),
        )
    }
}

#[async_trait]
impl DenyListStore for EmbeddedStore {
    async fn deny_token(
        &self,
        tenant: &TenantId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<()> {
        let k = key(tenant, &[jti.as_bytes()]);
        self.write(move |tx| {
            tx.put_expiring(Ks::Denied, k, &expires_at, expires_at);
            Ok(())
        })
        .await
    }

    async fn is_token_denied(&self, tenant: &TenantId, jti: &str) -> StoreResult<bool> {
        Ok(self
            .inner
            .ks(Ks::Denied)
            .contains_key(key(tenant, &[jti.as_bytes()]))
            .map_err(io)?)
    }
}

#[async_trait]
impl EventStore for EmbeddedStore {
    async fn append_events(&self, events: &[Event]) -> StoreResult<()> {
        let events = events.to_vec();
        self.write(move |tx| {
            for e in events {
                for ik in event_user_keys(&e) {
                    tx.put(Ks::EventsByUser, ik, event_key(&e));
                }
                tx.put_json(Ks::Events, event_key(&e), &e);
            }
            Ok(())
        })
        .await
    }

    async fn recent_events(&self, tenant: &TenantId, limit: usize) -> StoreResult<Vec<Event>> {
        let mut out = Vec::new();
        for kv in self
            .inner
            .ks(Ks::Events)
            .prefix(tenant_prefix(tenant))
            .rev()
            .take(limit)
        {
            let (_, v) = kv.into_inner().map_err(io)?;
            out.push(decode(&v)?);
        }
        Ok(out)
    }

    async fn query_events(&self, tenant: &TenantId, q: &EventQuery) -> StoreResult<Vec<Event>> {
        // Keys end in `at (big-endian) \0 id`, so a time window is a key range under the
        // prefix: the tenant's, or the user's in the index.
        let (ks, mut prefix) = match &q.user {
            Some(u) => (Ks::EventsByUser, key(tenant, &[u.as_bytes()])),
            None => (Ks::Events, tenant.as_str().as_bytes().to_vec()),
        };
        prefix.push(0);
        let mut lo = prefix.clone();
        lo.extend_from_slice(&q.since_ms.unwrap_or(0).to_be_bytes());
        let mut hi = prefix.clone();
        hi.extend_from_slice(&q.until_ms.unwrap_or(u64::MAX).to_be_bytes());
        if let Some((at, id)) = &q.before {
            let mut cursor = prefix.clone();
            cursor.extend_from_slice(&at.to_be_bytes());
            cursor.push(0);
            cursor.extend_from_slice(id.as_bytes());
            hi = hi.min(cursor);
        }
        let mut out = Vec::new();
        for kv in self.inner.ks(ks).range(lo..hi).rev() {
            if out.len() >= q.limit {
                break;
            }
            let (_, v) = kv.into_inner().map_err(io)?;
            let e: Event = match ks {
                Ks::EventsByUser => match self.get_json(Ks::Events, &v)? {
                    Some(e) => e,
                    None => continue,
                },
                _ => decode(&v)?,
            };
            if q.matches(&e) && q.in_window(&e) {
                out.push(e);
            }
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
                if tx.get(ks, rest)?.is_some() {
                    tx.delete(ks, rest.to_vec());
                    n += 1;
                }
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

fn factor_key(tenant: &TenantId, user: &UserId, id: &str) -> Vec<u8> {
    key(tenant, &[user.as_str().as_bytes(), id.as_bytes()])
}

#[async_trait]
impl FactorStore for EmbeddedStore {
    async fn create_factor(&self, factor: &Factor) -> StoreResult<()> {
        let f = factor.clone();
        self.write(move |tx| {
            let k = factor_key(&f.tenant, &f.user_id, &f.id);
            if tx.get(Ks::Factors, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            if let Some(l) = &f.lookup {
                let lk = key(&f.tenant, &[l.as_bytes()]);
                if tx.get(Ks::FactorLookup, &lk)?.is_some() {
                    return Err(StoreError::Conflict);
                }
                tx.put(Ks::FactorLookup, lk, k.clone());
            }
            tx.put_json(Ks::Factors, k, &f);
            Ok(())
        })
        .await
    }

    async fn list_factors(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Factor>> {
        let mut all: Vec<Factor> =
            self.scan_json(Ks::Factors, &key(tenant, &[user.as_str().as_bytes(), b""]))?;
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    async fn get_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>> {
        self.get_json(Ks::Factors, &factor_key(tenant, user, id))
    }

    async fn find_factor(&self, tenant: &TenantId, lookup: &str) -> StoreResult<Option<Factor>> {
        let lk = key(tenant, &[lookup.as_bytes()]);
        let Some(fk) = self.inner.ks(Ks::FactorLookup).get(&lk).map_err(io)? else {
            return Ok(None);
        };
        self.get_json(Ks::Factors, &fk)
    }

    async fn update_factor(&self, factor: &Factor, expected_version: u64) -> StoreResult<bool> {
        let f = factor.clone();
        self.write(move |tx| {
            let k = factor_key(&f.tenant, &f.user_id, &f.id);
            match tx.get_json::<Factor>(Ks::Factors, &k)? {
                Some(cur) if cur.version == expected_version && cur.lookup == f.lookup => {
                    tx.put_json(Ks::Factors, k, &f);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn delete_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>> {
        let k = factor_key(tenant, user, id);
        self.write(move |tx| {
            let Some(f) = tx.get_json::<Factor>(Ks::Factors, &k)? else {
                return Ok(None);
            };
            if let Some(l) = &f.lookup {
                tx.delete(Ks::FactorLookup, key(&f.tenant, &[l.as_bytes()]));
            }
            tx.delete(Ks::Factors, k);
            Ok(Some(f))
        })
        .await
    }
}

#[async_trait]
impl ChallengeStore for EmbeddedStore {
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        let c = challenge.clone();
        self.write(move |tx| {
            let k = key(&c.tenant, &[&c.key.0]);
            if tx.get(Ks::Challenges, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put_expiring(Ks::Challenges, k, &c, c.expires_at);
            Ok(())
        })
        .await
    }

    async fn get_challenge(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<Challenge>> {
        self.get_json(Ks::Challenges, &key(tenant, &[&k.0]))
    }

    async fn take_challenge(
        &self,
        tenant: &TenantId,
        k: &Hash32,
    ) -> StoreResult<Option<Challenge>> {
        let k = key(tenant, &[&k.0]);
        self.write(move |tx| {
            let c: Option<Challenge> = tx.get_json(Ks::Challenges, &k)?;
            if c.is_some() {
                tx.delete(Ks::Challenges, k);
            }
            Ok(c)
        })
        .await
    }

    async fn spend_try(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<Challenge>> {
        let k = key(tenant, &[&k.0]);
        self.write(move |tx| {
            let Some(c) = tx.get_json::<Challenge>(Ks::Challenges, &k)? else {
                return Ok(None);
            };
            if c.tries_left == 0 {
                return Ok(None);
            }
            let mut spent = c.clone();
            spent.tries_left -= 1;
            // The expiry index entry already exists (expires_at is unchanged).
            tx.put_json(Ks::Challenges, k, &spent);
            Ok(Some(c))
        })
        .await
    }
}

fn link_key(tenant: &TenantId, provider: &str, k: &Hash32) -> Vec<u8> {
    key(tenant, &[provider.as_bytes(), &k.0])
}

fn link_user_key(tenant: &TenantId, user: &UserId, provider: &str, k: &Hash32) -> Vec<u8> {
    key(
        tenant,
        &[user.as_str().as_bytes(), provider.as_bytes(), &k.0],
    )
}

#[async_trait]
impl IdentityStore for EmbeddedStore {
    async fn put_connector(
        &self,
        connector: &tollgate_vocab::model::federation::Connector,
    ) -> StoreResult<()> {
        let c = connector.clone();
        self.write(move |tx| {
            tx.put_json(Ks::Connectors, key(&c.tenant, &[c.id.as_bytes()]), &c);
            Ok(())
        })
        .await
    }

    async fn get_connector(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Connector>> {
        self.get_json(Ks::Connectors, &key(tenant, &[id.as_bytes()]))
    }

    async fn list_connectors(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Vec<tollgate_vocab::model::federation::Connector>> {
        self.scan_json(Ks::Connectors, &tenant_prefix(tenant))
    }

    async fn delete_connector(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let k = key(tenant, &[id.as_bytes()]);
        self.write(move |tx| {
            let existed = tx.get(Ks::Connectors, &k)?.is_some();
            if existed {
                tx.delete(Ks::Connectors, k);
            }
            Ok(existed)
        })
        .await
    }

    async fn create_link(&self, link: &tollgate_vocab::model::federation::Link) -> StoreResult<()> {
        let l = link.clone();
        self.write(move |tx| {
            let k = link_key(&l.tenant, &l.provider, &l.key);
            if tx.get(Ks::Links, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put(
                Ks::LinksByUser,
                link_user_key(&l.tenant, &l.user_id, &l.provider, &l.key),
                k.clone(),
            );
            tx.put_json(Ks::Links, k, &l);
            Ok(())
        })
        .await
    }

    async fn find_link(
        &self,
        tenant: &TenantId,
        provider: &str,
        k: &Hash32,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Link>> {
        self.get_json(Ks::Links, &link_key(tenant, provider, k))
    }

    async fn list_links(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<tollgate_vocab::model::federation::Link>> {
        let mut out = Vec::new();
        let prefix = key(tenant, &[user.as_str().as_bytes(), b""]);
        for kv in self.inner.ks(Ks::LinksByUser).prefix(&prefix) {
            let (_, lk) = kv.into_inner().map_err(io)?;
            if let Some(l) =
                self.get_json::<tollgate_vocab::model::federation::Link>(Ks::Links, &lk)?
                && &l.user_id == user
            {
                out.push(l);
            }
        }
        Ok(out)
    }

    async fn update_link(
        &self,
        link: &tollgate_vocab::model::federation::Link,
    ) -> StoreResult<bool> {
        let l = link.clone();
        self.write(move |tx| {
            let k = link_key(&l.tenant, &l.provider, &l.key);
            match tx.get_json::<tollgate_vocab::model::federation::Link>(Ks::Links, &k)? {
                Some(cur) if cur.user_id == l.user_id => {
                    tx.put_json(Ks::Links, k, &l);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn delete_link(
        &self,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        k: &Hash32,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Link>> {
        let lk = link_key(tenant, provider, k);
        let uk = link_user_key(tenant, user, provider, k);
        let user = user.clone();
        self.write(move |tx| {
            match tx.get_json::<tollgate_vocab::model::federation::Link>(Ks::Links, &lk)? {
                Some(l) if l.user_id == user => {
                    tx.delete(Ks::Links, lk);
                    tx.delete(Ks::LinksByUser, uk);
                    Ok(Some(l))
                }
                _ => Ok(None),
            }
        })
        .await
    }
}

#[async_trait]
impl PurposeStore for EmbeddedStore {
    async fn put_privacy_settings(
        &self,
        tenant: &TenantId,
        settings: &PrivacySettings,
    ) -> StoreResult<()> {
        let (k, v) = (tenant.as_str().as_bytes().to_vec(), settings.clone());
        self.write(move |tx| {
            tx.put_json(Ks::PrivacySettings, k, &v);
            Ok(())
        })
        .await
    }

    async fn get_privacy_settings(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Option<PrivacySettings>> {
        self.get_json(Ks::PrivacySettings, tenant.as_str().as_bytes())
    }

    async fn put_purpose_grant(&self, grant: &PurposeGrant) -> StoreResult<()> {
        let g = grant.clone();
        self.write(move |tx| {
            let k = key(
                &g.tenant,
                &[g.user_id.as_str().as_bytes(), g.purpose.as_bytes()],
            );
            tx.put_json(Ks::PurposeGrants, k, &g);
            Ok(())
        })
        .await
    }

    async fn list_purpose_grants(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<PurposeGrant>> {
        self.scan_json(
            Ks::PurposeGrants,
            &key(tenant, &[user.as_str().as_bytes(), b""]),
        )
    }

    async fn delete_purpose_grants(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let prefix = key(tenant, &[user.as_str().as_bytes(), b""]);
        let mut keys = Vec::new();
        for kv in self.inner.ks(Ks::PurposeGrants).prefix(&prefix) {
            keys.push(kv.key().map_err(io)?.to_vec());
        }
        self.write(move |tx| {
            for k in keys {
                tx.delete(Ks::PurposeGrants, k);
            }
            Ok(())
        })
        .await
    }
}
