//! The [`Engine`] handle: the context every flow is handed, and what the gateway, the CLI
//! and the benches call. Cheap to clone. It holds the runtime (store, clock, shards,
//! caches, pools, limiters) and names no flow: flows add their calls on top of it.

use dashmap::DashMap;
use moka::sync::Cache;
use std::sync::Arc;

use crate::clock::{SharedClock, UnixTime};
use crate::crypto::MasterKey;
use crate::error::{EngineError, EngineResult};
use crate::ids::{ClientId, TenantId};
use crate::model::{Client, Tenant};
use crate::runtime::config::EngineConfig;
use crate::runtime::delivery::{Courier, Mailer, TextSender};
use crate::runtime::keys::KeyRing;
use crate::runtime::metrics::EngineMetrics;
use crate::runtime::outbound::UpstreamHttp;
use crate::runtime::password::PasswordPool;
use crate::runtime::sends::OtpConfig;
use crate::runtime::shard::ShardRegistry;
use crate::store::Store;

/// Who made a request, for the audit trail.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    /// Client address.
    pub ip: Option<String>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: SharedClock,
    pub(crate) master: MasterKey,
    pub(crate) passwords: PasswordPool,
    pub(crate) shards: ShardRegistry,
    pub(crate) config: EngineConfig,
    pub(crate) metrics: EngineMetrics,
    pub(crate) throttle: crate::runtime::throttle::LoginThrottle,
    pub(crate) otp: crate::runtime::sends::OtpState,
    pub(crate) vault: crate::runtime::vault::Vault,
    pub(crate) federation_starts: crate::runtime::sends::SendLimiter,
    tenants: Cache<TenantId, Arc<Tenant>>,
    clients: Cache<(TenantId, ClientId), Arc<Client>>,
    keyrings: DashMap<TenantId, Arc<KeyRing>>,
    pub(crate) discovery: DashMap<TenantId, Arc<crate::runtime::keys::Rendered>>,
    /// Tenants' consent purposes and profiling rules, read at every sign-in.
    pub(crate) privacy: Cache<TenantId, Arc<crate::model::privacy::PrivacySettings>>,
    /// Outbound HTTP to upstream identity providers, set by the binary.
    pub(crate) upstream_http: std::sync::OnceLock<Arc<dyn UpstreamHttp>>,
    /// Upstream discovery documents and JWKS, by URL, reused for five minutes.
    pub(crate) upstream_docs: Cache<String, serde_json::Value>,
}

/// The identity engine. Start it inside an actix System.
#[derive(Clone)]
pub struct Engine(pub(crate) Arc<Inner>);

impl Engine {
    /// The runtime behind the handle, for the flows (and the area handles, through
    /// `Deref`).
    pub(crate) fn rt(&self) -> &Inner {
        &self.0
    }

    /// Starts the hashing pool and the shard arbiters.
    pub fn start(
        store: Arc<dyn Store>,
        clock: SharedClock,
        master: MasterKey,
        config: EngineConfig,
        metrics: EngineMetrics,
    ) -> EngineResult<Self> {
        let passwords = PasswordPool::start(&config.passwords)?;
        let throttle = crate::runtime::throttle::LoginThrottle::new(config.throttle.clone());
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
        let otp = crate::runtime::sends::OtpState::new(&config.otp, &master);
        Ok(Self(Arc::new(Inner {
            otp,
            vault: crate::runtime::vault::Vault::new(&master),
            federation_starts: crate::runtime::sends::SendLimiter::new(
                &crate::runtime::sends::federation_start_limits(),
            ),
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
            upstream_http: std::sync::OnceLock::new(),
            upstream_docs: Cache::builder()
                .max_capacity(1_000)
                .time_to_live(std::time::Duration::from_secs(300))
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
            .await?
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
        match self.0.store.get_client(tenant, id).await? {
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
        let keys = self.0.store.list_keys(tenant).await?;
        let ring = Arc::new(KeyRing::build(&t, &keys, &self.0.master, self.now())?);
        self.0.keyrings.insert(tenant.clone(), ring.clone());
        self.0.discovery.remove(tenant);
        Ok(ring)
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
        self.0.store.ping().await.map_err(EngineError::from)
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
}

/// Wiring: what the binary hands the engine after it starts.
impl Engine {
    /// Gives the engine its mail and phone senders and starts the send queue on the
    /// current runtime. Until then, flows that send answer that sending is unavailable.
    pub fn set_delivery(&self, mailer: Arc<dyn Mailer>, texter: Arc<dyn TextSender>) {
        let courier = Courier::start(
            mailer,
            texter,
            self.0.store.clone(),
            &self.0.otp.config.delivery,
        );
        let _ = self.0.otp.courier.set(courier);
    }

    /// The code settings.
    pub fn otp_config(&self) -> &OtpConfig {
        &self.0.otp.config
    }

    /// Supplies the outbound HTTP client (once; later calls are ignored).
    pub fn set_upstream_http(&self, http: Arc<dyn UpstreamHttp>) {
        let _ = self.0.upstream_http.set(http);
    }
}
