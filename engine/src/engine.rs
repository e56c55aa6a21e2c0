//! The [`Engine`] handle: what the gateway, the CLI and the benches call. Cheap to clone.

use dashmap::DashMap;
use moka::sync::Cache;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use std::sync::Arc;

use crate::clock::{SharedClock, UnixTime};
use crate::crypto::{MasterKey, random_token};
use crate::error::{EngineError, EngineResult};
use crate::ids::{ClientId, TenantId};
use crate::keys::KeyRing;
use crate::model::{Client, Event, Tenant};
use crate::password::{PasswordConfig, PasswordPool};
use crate::shard::{ShardConfig, ShardRegistry, store_err};
use crate::store::Store;

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Public base URL; a tenant's issuer is `{public_url}/{tenant}`. No trailing slash.
    pub public_url: String,
    /// Authorization code lifetime, seconds.
    pub code_ttl: u64,
    /// Lifetime of a sign-in transaction (the sealed authorization request), seconds.
    pub login_ttl: u64,
    /// Shard sizing.
    pub shards: ShardConfig,
    /// Arbiter threads for shards; 0 means one per core.
    pub arbiters: usize,
    /// Password hashing.
    pub passwords: PasswordConfig,
    /// Failed sign-in limits.
    pub throttle: crate::throttle::ThrottleConfig,
    /// Residency regions this node serves; a tenant in any other is refused.
    pub regions: Vec<String>,
    /// Passkeys' relying-party id and origin; `None` turns passkeys off.
    pub webauthn: Option<crate::passkeys::WebauthnConfig>,
    /// One-time codes and links by email and phone.
    pub otp: crate::otp::OtpConfig,
    /// How long a deleted user's (unreadable) row is kept before the purge job removes
    /// it, seconds.
    pub purge_after_secs: u64,
}

impl EngineConfig {
    /// Defaults for `public_url` (passkeys bound to its host, when it is a domain).
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            code_ttl: 60,
            login_ttl: 600,
            shards: ShardConfig::default(),
            arbiters: 0,
            passwords: PasswordConfig::default(),
            throttle: crate::throttle::ThrottleConfig::default(),
            regions: vec![crate::model::DEFAULT_REGION.to_owned()],
            webauthn: crate::passkeys::WebauthnConfig::from_public_url(public_url),
            otp: crate::otp::OtpConfig::default(),
            purge_after_secs: 30 * 86_400,
        }
    }
}

/// Who made a request, for the audit trail.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    /// Client address.
    pub ip: Option<String>,
}

/// Counters and gauges the engine keeps.
#[derive(Clone)]
pub struct EngineMetrics {
    /// Tokens issued, by grant.
    pub tokens_issued: IntCounterVec,
    /// Refresh-token reuse detections.
    pub reuse_detected: IntCounter,
    /// Password sign-ins by result.
    pub logins: IntCounterVec,
    /// Password jobs waiting.
    pub password_queue: IntGauge,
    /// Password jobs refused because the queue was full.
    pub password_rejected: IntCounter,
    /// Jobs per store batch.
    pub store_batch_jobs: Histogram,
    /// Seconds per store batch commit (with fsync).
    pub store_batch_seconds: Histogram,
    /// Shard cache lookups by cache (`chain`, `session`) and result (`hit`, `miss`).
    pub cache: IntCounterVec,
    /// Messages waiting in or being handled by shards.
    pub shard_queue: IntGauge,
    /// Shard actors running now.
    pub shards_running: IntGauge,
    /// Write jobs waiting for the store's writer.
    pub store_queue: IntGauge,
    /// Requests refused because a bounded queue was full, by queue (`shard`, `store`).
    pub overloaded: IntCounterVec,
}

impl EngineMetrics {
    /// Creates and registers the metrics.
    pub fn register(registry: &Registry) -> Self {
        let m = Self {
            tokens_issued: IntCounterVec::new(
                Opts::new(
                    "tollgate_tokens_issued_total",
                    "Token responses issued, by grant type",
                ),
                &["grant"],
            )
            .expect("metric"),
            reuse_detected: IntCounter::new(
                "tollgate_refresh_reuse_detected_total",
                "Refresh tokens presented again after rotation (chain revoked)",
            )
            .expect("metric"),
            logins: IntCounterVec::new(
                Opts::new("tollgate_logins_total", "Password sign-ins by result"),
                &["result"],
            )
            .expect("metric"),
            password_queue: IntGauge::new(
                "tollgate_password_queue_depth",
                "Password hashing jobs waiting",
            )
            .expect("metric"),
            password_rejected: IntCounter::new(
                "tollgate_password_rejected_total",
                "Password jobs refused because the hashing queue was full",
            )
            .expect("metric"),
            store_batch_jobs: Histogram::with_opts(
                HistogramOpts::new("tollgate_store_batch_jobs", "Write jobs per group commit")
                    .buckets(vec![
                        1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0,
                    ]),
            )
            .expect("metric"),
            store_batch_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "tollgate_store_batch_seconds",
                    "Group commit latency, with fsync",
                )
                .buckets(prometheus::exponential_buckets(0.0001, 2.0, 14).expect("buckets")),
            )
            .expect("metric"),
            cache: IntCounterVec::new(
                Opts::new(
                    "tollgate_cache_lookups_total",
                    "Shard cache lookups by cache and result",
                ),
                &["cache", "result"],
            )
            .expect("metric"),
            shard_queue: IntGauge::new(
                "tollgate_shard_queue_depth",
                "Messages queued or in progress in shard actors",
            )
            .expect("metric"),
            shards_running: IntGauge::new("tollgate_shards_running", "Shard actors running now")
                .expect("metric"),
            store_queue: IntGauge::new(
                "tollgate_store_queue_depth",
                "Write jobs waiting for the store writer",
            )
            .expect("metric"),
            overloaded: IntCounterVec::new(
                Opts::new(
                    "tollgate_overloaded_total",
                    "Requests refused because a bounded queue was full",
                ),
                &["queue"],
            )
            .expect("metric"),
        };
        for c in [
            Box::new(m.tokens_issued.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(m.reuse_detected.clone()),
            Box::new(m.logins.clone()),
            Box::new(m.password_queue.clone()),
            Box::new(m.password_rejected.clone()),
            Box::new(m.store_batch_jobs.clone()),
            Box::new(m.store_batch_seconds.clone()),
            Box::new(m.cache.clone()),
            Box::new(m.shard_queue.clone()),
            Box::new(m.store_queue.clone()),
            Box::new(m.shards_running.clone()),
            Box::new(m.overloaded.clone()),
        ] {
            // A second engine in one process (tests) registers into its own registry.
            let _ = registry.register(c);
        }
        // Export every known series from the start, so dashboards and alerts see zeros
        // rather than nothing before the first event.
        for grant in ["authorization_code", "refresh_token"] {
            m.tokens_issued.with_label_values(&[grant]);
        }
        for result in ["success", "failure", "throttled"] {
            m.logins.with_label_values(&[result]);
        }
        for cache in ["chain", "session"] {
            for result in ["hit", "miss"] {
                m.cache.with_label_values(&[cache, result]);
            }
        }
        for queue in ["shard", "store"] {
            m.overloaded.with_label_values(&[queue]);
        }
        m
    }
}

impl crate::store::embedded::BatchObserver for EngineMetrics {
    fn batch_committed(&self, jobs: usize, seconds: f64) {
        self.store_batch_jobs.observe(jobs as f64);
        self.store_batch_seconds.observe(seconds);
    }

    fn rejected(&self) {
        self.overloaded.with_label_values(&["store"]).inc();
    }
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: SharedClock,
    pub(crate) master: MasterKey,
    pub(crate) passwords: PasswordPool,
    pub(crate) shards: ShardRegistry,
    pub(crate) config: EngineConfig,
    pub(crate) metrics: EngineMetrics,
    pub(crate) throttle: crate::throttle::LoginThrottle,
    pub(crate) otp: crate::otp::OtpState,
    pub(crate) vault: crate::vault::Vault,
    pub(crate) federation_starts: crate::otp::SendLimiter,
    tenants: Cache<TenantId, Arc<Tenant>>,
    clients: Cache<(TenantId, ClientId), Arc<Client>>,
    keyrings: DashMap<TenantId, Arc<KeyRing>>,
    pub(crate) discovery: DashMap<TenantId, Arc<crate::discovery::Rendered>>,
    /// Tenants' consent purposes and profiling rules, read at every sign-in.
    pub(crate) privacy: Cache<TenantId, Arc<crate::purposes::PrivacySettings>>,
}

/// The identity engine. Start it inside an actix System.
#[derive(Clone)]
pub struct Engine(pub(crate) Arc<Inner>);

impl Engine {
    /// Starts the hashing pool and the shard arbiters.
    pub fn start(
        store: Arc<dyn Store>,
        clock: SharedClock,
        master: MasterKey,
        config: EngineConfig,
        metrics: EngineMetrics,
    ) -> EngineResult<Self> {
        let passwords = PasswordPool::start(&config.passwords)?;
        let throttle = crate::throttle::LoginThrottle::new(config.throttle.clone());
        let arbiters = if config.arbiters == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            config.arbiters
        };
        let shards = ShardRegistry::start(
            store.clone(),
            config.shards.clone(),
            arbiters,
            metrics.clone(),
        );
        // With other nodes on the same store, a tenant moved or changed elsewhere is seen
        // here within ten seconds (as long as the ScyllaDB store's own tenant directory).
        let tenants = match config.shards.shared {
            true => Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(10))
                .build(),
            false => Cache::new(100_000),
        };
        let otp = crate::otp::OtpState::new(&config.otp, &master);
        Ok(Self(Arc::new(Inner {
            otp,
            vault: crate::vault::Vault::new(&master),
            federation_starts: crate::otp::SendLimiter::new(&crate::federation::start_limits()),
            store,
            clock,
            master,
            passwords,
            shards,
            config,
            throttle,
            metrics,
            tenants,
            clients: Cache::new(100_000),
            keyrings: DashMap::new(),
            discovery: DashMap::new(),
            // Short-lived, as tenants are with several nodes: a change made on another
            // node is seen here within ten seconds.
            privacy: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(10))
                .build(),
        })))
    }

    /// Now, by the engine's clock.
    pub fn now(&self) -> UnixTime {
        self.0.clock.now()
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.0.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    /// The master key (the gateway derives its CSRF key from it).
    pub fn master_key(&self) -> &MasterKey {
        &self.0.master
    }

    /// A tenant's issuer URL.
    pub fn issuer(&self, tenant: &TenantId) -> String {
        format!("{}/{}", self.0.config.public_url, tenant)
    }

    /// Reads a tenant (cached; misses are not cached, so a new tenant is seen at once).
    pub async fn tenant(&self, id: &TenantId) -> EngineResult<Arc<Tenant>> {
        let t = self.tenant_anywhere(id).await?;
        if !self.0.config.regions.contains(&t.region) {
            return Err(EngineError::WrongRegion(t.region.clone()));
        }
        Ok(t)
    }

    /// Drops a tenant from this node's cache (after it changed).
    pub(crate) fn forget_tenant(&self, id: &TenantId) {
        self.0.tenants.invalidate(id);
    }

    /// Reads a tenant whatever its region (administration only).
    pub(crate) async fn tenant_anywhere(&self, id: &TenantId) -> EngineResult<Arc<Tenant>> {
        if let Some(t) = self.0.tenants.get(id) {
            return Ok(t);
        }
        let t = self
            .0
            .store
            .get_tenant(id)
            .await
            .map_err(store_err)?
            .ok_or(EngineError::NotFound("tenant"))?;
        let t = Arc::new(t);
        self.0.tenants.insert(id.clone(), t.clone());
        Ok(t)
    }

    /// Reads a client (cached).
    pub async fn client(
        &self,
        tenant: &TenantId,
        id: &ClientId,
    ) -> EngineResult<Option<Arc<Client>>> {
        let k = (tenant.clone(), id.clone());
        if let Some(c) = self.0.clients.get(&k) {
            return Ok(Some(c));
        }
        match self
            .0
            .store
            .get_client(tenant, id)
            .await
            .map_err(store_err)?
        {
            Some(c) => {
                let c = Arc::new(c);
                self.0.clients.insert(k, c.clone());
                Ok(Some(c))
            }
            None => Ok(None),
        }
    }

    /// The tenant's key ring, loaded and unsealed once.
    pub async fn keyring(&self, tenant: &TenantId) -> EngineResult<Arc<KeyRing>> {
        if let Some(r) = self.0.keyrings.get(tenant) {
            return Ok(r.clone());
        }
        self.reload_keyring(tenant).await
    }

    pub(crate) async fn reload_keyring(&self, tenant: &TenantId) -> EngineResult<Arc<KeyRing>> {
        let t = self.tenant(tenant).await?;
        let keys = self.0.store.list_keys(tenant).await.map_err(store_err)?;
        let ring = Arc::new(KeyRing::build(&t, &keys, &self.0.master, self.now())?);
        self.0.keyrings.insert(tenant.clone(), ring.clone());
        self.0.discovery.remove(tenant);
        Ok(ring)
    }

    /// Appends an audit event without making the caller wait for it: it joins the store's
    /// next group commit (at most ~50 ms later on the embedded store). Used on hot paths;
    /// security events (reuse, revocation, admin actions) use `record_now`.
    pub fn record(&self, mut event: Event) {
        if self.seal_event_cached(&mut event).is_some() {
            // The owner's data key is not in memory: load it off the caller's path.
            let engine = self.clone();
            tokio::spawn(async move {
                if let Err(e) = engine.record_now(event).await {
                    tracing::error!(error = %e, "audit event lost");
                }
            });
            return;
        }
        let Err(event) = self.0.store.enqueue_event(Box::new(event)) else {
            return;
        };
        let store = self.0.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.append_events(std::slice::from_ref(&event)).await {
                tracing::error!(kind = %event.kind, error = %e, "audit event lost");
            }
        });
    }

    /// Appends an audit event and waits until it is durable.
    pub async fn record_now(&self, mut event: Event) -> EngineResult<()> {
        self.seal_event(&mut event).await?;
        self.0
            .store
            .append_events(&[event])
            .await
            .map_err(store_err)
    }

    /// Builds an event stamped now.
    pub fn event(&self, tenant: &TenantId, kind: &str, success: bool) -> Event {
        Event {
            tenant: tenant.clone(),
            id: random_token::<9>(),
            at_ms: self.0.clock.now_millis(),
            kind: kind.to_owned(),
            actor: None,
            subject: None,
            client: None,
            ip: None,
            result: if success { "success" } else { "failure" }.to_owned(),
            detail: None,
            sealed: None,
            erased: false,
        }
    }

    /// Metrics.
    pub fn metrics(&self) -> &EngineMetrics {
        &self.0.metrics
    }

    /// Refreshes the gauges that are read rather than counted.
    pub fn update_gauges(&self) {
        self.0
            .metrics
            .password_queue
            .set(self.0.passwords.queue_depth() as i64);
        let m = &self.0.metrics;
        m.shard_queue.set(self.0.shards.queued() as i64);
        m.shards_running.set(self.0.shards.shard_count() as i64);
        m.store_queue.set(self.0.store.queue_depth() as i64);
        let rejected = self.0.passwords.rejected_total();
        let seen = self.0.metrics.password_rejected.get();
        if rejected > seen {
            self.0.metrics.password_rejected.inc_by(rejected - seen);
        }
    }

    /// Whether the engine can serve (readiness): the store answers.
    pub async fn ready(&self) -> EngineResult<()> {
        self.0.store.ping().await.map_err(store_err)
    }

    /// Starts the task that stops idle shards, until the engine is dropped.
    pub fn spawn_shard_reaper(&self) {
        let weak = Arc::downgrade(&self.0);
        let every = self.0.shards.idle_check_interval();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let n = inner.shards.retire_idle();
                inner
                    .metrics
                    .shards_running
                    .set(inner.shards.shard_count() as i64);
                if n > 0 {
                    tracing::debug!(shards = n, "stopped idle shards");
                }
            }
        });
    }

    /// Runs the purge of deleted users every `every`, off the request path.
    pub fn spawn_purger(&self, every: std::time::Duration) {
        self.spawn_every(every, "purge", |e| async move {
            e.purge_deleted_users().await.map(|n| n as u64)
        });
    }

    /// Starts the sweeper: deletes expired rows every `every` seconds until the engine
    /// is dropped.
    pub fn spawn_sweeper(&self, every: std::time::Duration) {
        self.spawn_every(every, "sweep", |e| async move {
            e.0.store
                .sweep_expired(e.now())
                .await
                .map_err(crate::shard::store_err)
        });
    }

    /// Runs `job` every `every` until the engine is dropped; `what` names it in the logs.
    fn spawn_every<F, Fut>(&self, every: std::time::Duration, what: &'static str, job: F)
    where
        F: Fn(Engine) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = EngineResult<u64>> + Send,
    {
        let weak = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                match job(Engine(inner)).await {
                    Ok(n) if n > 0 => tracing::debug!(rows = n, job = what, "background job done"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, job = what, "background job failed"),
                }
            }
        });
    }
}

impl EngineError {
    /// Whether a token endpoint should say `invalid_client` (with 401).
    pub fn is_invalid_client(&self) -> bool {
        matches!(self, EngineError::OAuth(e) if e.code == crate::error::OAuthErrorCode::InvalidClient)
    }
}
