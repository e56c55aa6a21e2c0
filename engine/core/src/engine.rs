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
use crate::model::Event;
use crate::model::{Client, Tenant};
use crate::runtime::config::EngineConfig;
use crate::runtime::delivery::{Courier, Mail, Mailer, TextMessage, TextSender};
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
    keyrings: DashMap<TenantId, CachedRing>,
    /// Tenants whose ring one caller is re-reading; the others keep serving the one they have.
    keyring_checks: DashMap<TenantId, ()>,
    pub(crate) discovery: DashMap<TenantId, Arc<crate::runtime::keys::Rendered>>,
    /// Tenants' consent purposes and profiling rules, read at every sign-in.
    pub(crate) privacy: Cache<TenantId, Arc<crate::model::privacy::PrivacySettings>>,
    /// Tenants' federation connectors, read by every sign-in page for its buttons.
    pub(crate) connectors: Cache<TenantId, Arc<Vec<crate::model::federation::Connector>>>,
    /// Wakes the logout token sender when this node queues a token.
    pub(crate) logout_wake: Arc<tokio::sync::Notify>,
    /// Outbound HTTP to upstream identity providers, set by the binary.
    pub(crate) upstream_http: std::sync::OnceLock<Arc<dyn UpstreamHttp>>,
    /// Upstream discovery documents and JWKS, by URL, reused for five minutes.
    pub(crate) upstream_docs: Cache<String, serde_json::Value>,
    /// Clients' `jwks_uri`s fetched again for an unknown `kid` lately (one refetch per
    /// URL per ten seconds).
    pub(crate) client_jwks_refetched: Cache<String, ()>,
    /// Tenants' message catalogues for mails and texts, one build per branding revision.
    pub(crate) catalogs: crate::runtime::catalogs::Catalogs,
    /// Users whose activity a refresh wrote lately, and when (engine time): a refresh
    /// writes it at most once a day per user on this node.
    pub(crate) activity_written: Cache<(TenantId, crate::ids::UserId), UnixTime>,
    /// Breach notification jobs running on this node (tenant, incident).
    pub(crate) breach_jobs: DashMap<(TenantId, String), ()>,
}

/// A tenant's key ring as this node holds it, and when it last compared it with the store.
#[derive(Clone)]
struct CachedRing {
    ring: Arc<KeyRing>,
    checked_at: UnixTime,
    /// Last re-read forced by a token with an unknown `kid` (at most one a second, so
    /// made-up kids cannot turn into store reads).
    forced_at: UnixTime,
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
        // Clients change too (dynamic registration, RFC 7592): the same ten seconds.
        let clients = match config.shards.shared {
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
            clients,
            keyrings: DashMap::new(),
            keyring_checks: DashMap::new(),
            discovery: DashMap::new(),
            // Short-lived, as tenants are with several nodes: a change made on another
            // node is seen here within ten seconds.
            privacy: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(10))
                .build(),
            // The same ten seconds for another node's change; this node's own changes
            // drop the entry at once.
            connectors: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(std::time::Duration::from_secs(10))
                .build(),
            logout_wake: Arc::new(tokio::sync::Notify::new()),
            upstream_http: std::sync::OnceLock::new(),
            upstream_docs: Cache::builder()
                .max_capacity(1_000)
                .time_to_live(std::time::Duration::from_secs(300))
                .build(),
            client_jwks_refetched: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(
                    crate::runtime::outbound::REFETCH_EVERY,
                ))
                .build(),
            catalogs: crate::runtime::catalogs::Catalogs::new(),
            activity_written: Cache::builder().max_capacity(1_000_000).build(),
            breach_jobs: DashMap::new(),
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

    /// Drops a client from this node's cache after it changed.
    pub(crate) fn forget_client(&self, tenant: &TenantId, id: &ClientId) {
        self.0.clients.invalidate(&(tenant.clone(), id.clone()));
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

    /// The tenant's key ring. Other nodes rotate and revoke keys too, so the ring is
    /// compared with the store's key rows every `key_check_secs` (and rebuilt when a
    /// retired key's tokens have all expired); while one caller re-reads, the others keep
    /// serving the ring they have.
    pub async fn keyring(&self, tenant: &TenantId) -> EngineResult<Arc<KeyRing>> {
        let now = self.now();
        let cached = self.0.keyrings.get(tenant).map(|c| c.clone());
        let Some(cached) = cached else {
            return self.reload_keyring(tenant).await;
        };
        let fresh =
            now < cached.checked_at + self.0.config.key_check_secs && now < cached.ring.valid_until;
        if fresh || self.0.keyring_checks.insert(tenant.clone(), ()).is_some() {
            return Ok(cached.ring);
        }
        let checked = self.check_keyring(tenant, &cached, now).await;
        self.0.keyring_checks.remove(tenant);
        match checked {
            Ok(ring) => Ok(ring),
            // The store is unreachable: keep signing and verifying with what we have.
            Err(e) => {
                tracing::warn!(tenant = %tenant, error = %e, "key ring check failed");
                Ok(cached.ring)
            }
        }
    }

    /// Verifies a JWT this tenant issued. A `kid` the ring does not know may be a key
    /// another node has just made active: re-read the ring once and try again.
    pub(crate) async fn verify_jwt<C: serde::de::DeserializeOwned>(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> EngineResult<Option<(C, Option<String>)>> {
        let issuer = self.issuer(tenant);
        let ring = self.keyring(tenant).await?;
        if let Some(v) = ring.verify::<C>(token, &issuer) {
            return Ok(Some(v));
        }
        let kid = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid);
        let Some(kid) = kid.filter(|k| !ring.knows(k)) else {
            return Ok(None);
        };
        let now = self.now();
        let may_force = self
            .0
            .keyrings
            .get_mut(tenant)
            .map(|mut c| {
                let ok = c.forced_at < now;
                c.forced_at = now;
                ok
            })
            .unwrap_or(true);
        if !may_force {
            return Ok(None);
        }
        let ring = self.reload_keyring(tenant).await?;
        if !ring.knows(&kid) {
            return Ok(None);
        }
        Ok(ring.verify::<C>(token, &issuer))
    }

    async fn check_keyring(
        &self,
        tenant: &TenantId,
        cached: &CachedRing,
        now: UnixTime,
    ) -> EngineResult<Arc<KeyRing>> {
        let keys = self.0.store.list_keys(tenant).await?;
        if KeyRing::version_of(&keys) == cached.ring.version && now < cached.ring.valid_until {
            if let Some(mut c) = self.0.keyrings.get_mut(tenant) {
                c.checked_at = now;
            }
            return Ok(cached.ring.clone());
        }
        self.install_keyring(tenant, &keys, now).await
    }

    pub(crate) async fn reload_keyring(&self, tenant: &TenantId) -> EngineResult<Arc<KeyRing>> {
        let keys = self.0.store.list_keys(tenant).await?;
        self.install_keyring(tenant, &keys, self.now()).await
    }

    async fn install_keyring(
        &self,
        tenant: &TenantId,
        keys: &[crate::model::StoredKey],
        now: UnixTime,
    ) -> EngineResult<Arc<KeyRing>> {
        let t = self.tenant(tenant).await?;
        let ring = Arc::new(KeyRing::build(&t, keys, &self.0.master, now)?);
        let forced_at = self.0.keyrings.get(tenant).map_or(0, |c| c.forced_at);
        self.0.keyrings.insert(
            tenant.clone(),
            CachedRing {
                ring: ring.clone(),
                checked_at: now,
                forced_at,
            },
        );
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

    /// What the reaper does on each tick, now: forgets the shards idle for
    /// `config.shards.idle` (all of them when that is zero), so that the next request for
    /// their keys reloads from the store. For tests of the unload path.
    #[doc(hidden)]
    pub fn retire_idle_shards(&self) -> usize {
        self.0.shards.retire_idle()
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
        let courier = Courier::start_routed(
            mailer,
            texter,
            self.0.store.clone(),
            &self.0.otp.config.delivery,
            Some(crate::runtime::delivery::Routing {
                key: crate::runtime::delivery::messaging_key(&self.0.master),
                statuses: self.0.metrics.whatsapp_statuses.clone(),
            }),
        );
        let _ = self.0.otp.courier.set(courier);
    }

    fn courier(&self) -> EngineResult<&Courier> {
        self.rt()
            .otp
            .courier
            .get()
            .ok_or_else(|| EngineError::Internal("no message delivery configured".into()))
    }

    /// Queues an email; its event says `otp.sent` or `otp.send_failed` once done.
    pub(crate) fn queue_mail(&self, mail: Mail, mut event: Event) -> EngineResult<()> {
        self.seal_for_courier(&mut event);
        self.courier()?.mail(mail, event)
    }

    /// Queues a text message, likewise.
    pub(crate) fn queue_text(&self, msg: TextMessage, mut event: Event) -> EngineResult<()> {
        self.seal_for_courier(&mut event);
        self.courier()?.text(msg, event)
    }

    /// Sends a mail now (not queued): whether the mail system took it.
    pub(crate) async fn send_mail_now(&self, mail: &Mail) -> EngineResult<bool> {
        match self.courier()?.send_mail_now(mail).await {
            Ok(()) => Ok(true),
            Err(e) => {
                tracing::warn!(error = %e, "mail not sent");
                Ok(false)
            }
        }
    }

    /// Sends a mail now with the Message-ID's left part given: whether the mail system
    /// took it.
    pub(crate) async fn send_mail_now_identified(
        &self,
        mail: &Mail,
        id_left: &str,
    ) -> EngineResult<bool> {
        match self
            .courier()?
            .send_mail_now_identified(mail, id_left)
            .await
        {
            Ok(()) => Ok(true),
            Err(e) => {
                tracing::warn!(error = %e, "mail not sent");
                Ok(false)
            }
        }
    }

    /// Sends a text now (not queued): whether the provider took it.
    pub(crate) async fn send_text_now(&self, msg: &TextMessage) -> EngineResult<bool> {
        match self.courier()?.send_text_now(msg).await {
            Ok(()) => Ok(true),
            Err(e) => {
                tracing::warn!(error = %e, "text not sent");
                Ok(false)
            }
        }
    }

    /// The courier appends the event itself, so its personal details are sealed now; the
    /// owner's key is in memory after the lookup that led here, and if it is not, the
    /// address is not kept (the recipient is masked already).
    fn seal_for_courier(&self, event: &mut Event) {
        if self.seal_event_cached(event).is_some() {
            event.ip = None;
        }
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
