//! Per-tenant shard actors: the single writer, on this node, of the sessions and refresh
//! chains hashed to them.
//!
//! A shard handles one message at a time *including* its durable write (an atomic
//! response), so two uses of one refresh token are ordered: exactly one rotates, and a
//! reuse-revocation can never overtake the rotation before it. Throughput comes from
//! many shards per tenant, spread over the arbiters, all feeding one group commit: a
//! batch holds up to one write per shard.

use actix::prelude::*;
use dashmap::DashMap;
use moka::sync::Cache;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::clock::UnixTime;
use crate::error::{EngineError, EngineResult};
use crate::ids::{ChainId, ClientId, TenantId};
use crate::model::{Chain, Hash32, RevokeReason, Session};
use crate::runtime::metrics::EngineMetrics;
use crate::store::{Rotation, Store};

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// Rotated: the chain's new state (its `current_hash` is the new token's).
    Rotated(Chain),
    /// An earlier token was presented: the chain is now revoked.
    ReuseDetected(Chain),
    /// Not a live token of this chain.
    Refused(RefreshRefusal),
}

/// Why a refresh token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// No such chain, or not its current or an earlier token.
    Unknown,
    /// The chain belongs to another client.
    OtherClient,
    /// The chain was revoked.
    Revoked,
    /// The chain expired.
    Expired,
    /// The chain is bound to a DPoP key (RFC 9449 §5) and the request proved none.
    DpopProofMissing,
    /// The chain is bound to another DPoP key than the request's proof.
    DpopKeyMismatch,
}

impl RefreshRefusal {
    /// The `error_description` of the `invalid_grant` it becomes.
    pub fn description(self) -> &'static str {
        match self {
            Self::Unknown => "unknown refresh token",
            Self::OtherClient => "refresh token was issued to another client",
            Self::Revoked => "refresh token was revoked",
            Self::Expired => "refresh token expired",
            Self::DpopProofMissing => {
                "the refresh token is DPoP-bound: send a DPoP proof by its key"
            }
            Self::DpopKeyMismatch => "the refresh token is bound to another DPoP key",
        }
    }
}

/// Sizes of a shard's caches.
#[derive(Clone, Debug)]
pub struct ShardConfig {
    /// Shards per tenant.
    pub shards_per_tenant: usize,
    /// Most chains cached per shard.
    pub chains_per_shard: u64,
    /// Most sessions cached per shard.
    pub sessions_per_shard: u64,
    /// Messages per shard waiting or in progress before new ones answer `Overloaded`.
    pub mailbox: usize,
    /// A shard unused this long is stopped (its state is in the store).
    pub idle: std::time::Duration,
    /// Other nodes write the same store: a cached chain or session may be stale, so
    /// lookups that decide whether something is still valid read the store. Rotation
    /// checks the store either way (its write is conditional).
    pub shared: bool,
}

impl Default for ShardConfig {
    fn default() -> Self {
        Self {
            shards_per_tenant: 32,
            chains_per_shard: 100_000,
            sessions_per_shard: 100_000,
            mailbox: 1_024,
            idle: std::time::Duration::from_secs(300),
            shared: false,
        }
    }
}

/// One shard of one tenant.
pub struct TenantShard {
    store: Arc<dyn Store>,
    chains: Cache<ChainId, Chain>,
    sessions: Cache<Hash32, Session>,
    metrics: EngineMetrics,
    shared: bool,
}

impl TenantShard {
    fn cached<K, V>(&self, cache: &Cache<K, V>, name: &str, key: &K) -> Option<V>
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        let v = cache.get(key);
        let result = if v.is_some() { "hit" } else { "miss" };
        self.metrics.cache.with_label_values(&[name, result]).inc();
        v
    }
}

impl Actor for TenantShard {
    type Context = Context<Self>;
}

/// Present a refresh token of `chain`.
#[derive(Message)]
#[rtype(result = "EngineResult<RefreshOutcome>")]
pub struct Rotate {
    /// Tenant.
    pub tenant: TenantId,
    /// Chain named by the token.
    pub chain: ChainId,
    /// Hash of the presented token.
    pub presented: Hash32,
    /// Hash of the token to issue if it rotates.
    pub new_hash: Hash32,
    /// The authenticated client.
    pub client: ClientId,
    /// The DPoP key the request proved, if any: a bound chain rotates only with its own.
    pub dpop_jkt: Option<String>,
    /// Now.
    pub now: UnixTime,
}

/// Warm the cache with a chain the store already holds (one just created with its code).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CacheChain(pub Chain);

/// Revoke a chain.
#[derive(Message)]
#[rtype(result = "EngineResult<Option<Chain>>")]
pub struct RevokeChain {
    /// Tenant.
    pub tenant: TenantId,
    /// Chain.
    pub chain: ChainId,
    /// Why.
    pub reason: RevokeReason,
}

/// Read a chain (for introspection and revocation checks).
#[derive(Message)]
#[rtype(result = "EngineResult<Option<Chain>>")]
pub struct GetChain {
    /// Tenant.
    pub tenant: TenantId,
    /// Chain.
    pub chain: ChainId,
}

/// Create a session.
#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct PutSession(pub Session);

/// Read a session.
#[derive(Message)]
#[rtype(result = "EngineResult<Option<Session>>")]
pub struct GetSession {
    /// Tenant.
    pub tenant: TenantId,
    /// Hash of the cookie.
    pub key: Hash32,
}

/// End a session.
#[derive(Message)]
#[rtype(result = "EngineResult<Option<Session>>")]
pub struct EndSession {
    /// Tenant.
    pub tenant: TenantId,
    /// Hash of the cookie.
    pub key: Hash32,
}

impl Handler<Rotate> for TenantShard {
    type Result = AtomicResponse<Self, EngineResult<RefreshOutcome>>;

    fn handle(&mut self, m: Rotate, _ctx: &mut Self::Context) -> Self::Result {
        let store = self.store.clone();
        let cached = self.cached(&self.chains, "chain", &m.chain);
        let chain_id = m.chain.clone();
        let fut = async move {
            // A cached chain may be stale when other nodes share the store: it is only
            // trusted to say "revoked", never to call a token reuse.
            let mut fresh = cached.is_none();
            let mut candidate = cached;
            if fresh {
                candidate = store.get_chain(&m.tenant, &m.chain).await?;
            }
            let chain = loop {
                let Some(chain) = candidate.take() else {
                    return Ok((None, RefreshOutcome::Refused(RefreshRefusal::Unknown)));
                };
                if chain.client_id != m.client {
                    return Ok((
                        Some(chain),
                        RefreshOutcome::Refused(RefreshRefusal::OtherClient),
                    ));
                }
                if chain.revoked.is_some() {
                    return Ok((
                        Some(chain),
                        RefreshOutcome::Refused(RefreshRefusal::Revoked),
                    ));
                }
                if chain.expires_at <= m.now {
                    return Ok((
                        Some(chain),
                        RefreshOutcome::Refused(RefreshRefusal::Expired),
                    ));
                }
                if crate::crypto::ct_eq(&chain.current_hash.0, &m.presented.0) {
                    break chain;
                }
                if fresh {
                    // Not the current token: an earlier token of this chain means the
                    // chain leaked.
                    return match store
                        .token_generation(&m.tenant, &m.chain, &m.presented)
                        .await?
                    {
                        Some(_) => revoke_for_reuse(&*store, &m).await,
                        None => Ok((
                            Some(chain),
                            RefreshOutcome::Refused(RefreshRefusal::Unknown),
                        )),
                    };
                }
                // Another node may have rotated it since we cached it: ask the store.
                candidate = store.get_chain(&m.tenant, &m.chain).await?;
                fresh = true;
            };
            // The current token with no proof, or another key's: refused, and it stays
            // current for a request by the right key.
            if let Some(bound) = &chain.dpop_jkt
                && m.dpop_jkt.as_ref() != Some(bound)
            {
                let why = match m.dpop_jkt {
                    None => RefreshRefusal::DpopProofMissing,
                    Some(_) => RefreshRefusal::DpopKeyMismatch,
                };
                return Ok((Some(chain), RefreshOutcome::Refused(why)));
            }
            let rotated = store
                .rotate_chain(&m.tenant, &m.chain, chain.generation, m.new_hash, m.now)
                .await?;
            match rotated {
                Rotation::Rotated(c) => Ok((Some(c.clone()), RefreshOutcome::Rotated(c))),
                Rotation::Missing => Ok((None, RefreshOutcome::Refused(RefreshRefusal::Unknown))),
                // Another node rotated it first from this same token: it was used twice.
                Rotation::Stale(c) if c.revoked.is_none() => revoke_for_reuse(&*store, &m).await,
                Rotation::Stale(c) => {
                    Ok((Some(c), RefreshOutcome::Refused(RefreshRefusal::Revoked)))
                }
            }
        };
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(
            move |res: EngineResult<(Option<Chain>, RefreshOutcome)>, act, _ctx| match res {
                Ok((state, outcome)) => {
                    if let Some(c) = state {
                        act.chains.insert(c.id.clone(), c);
                    }
                    Ok(outcome)
                }
                Err(e) => {
                    // The write may or may not have landed: forget what we knew of this chain.
                    act.chains.invalidate(&chain_id);
                    Err(e)
                }
            },
        )))
    }
}

async fn revoke_for_reuse(
    store: &dyn Store,
    m: &Rotate,
) -> EngineResult<(Option<Chain>, RefreshOutcome)> {
    match store
        .revoke_chain(&m.tenant, &m.chain, RevokeReason::Reuse)
        .await?
    {
        Some(c) => Ok((Some(c.clone()), RefreshOutcome::ReuseDetected(c))),
        None => Ok((None, RefreshOutcome::Refused(RefreshRefusal::Unknown))),
    }
}

impl Handler<CacheChain> for TenantShard {
    type Result = ();

    fn handle(&mut self, m: CacheChain, _ctx: &mut Self::Context) {
        self.chains.insert(m.0.id.clone(), m.0);
    }
}

impl Handler<RevokeChain> for TenantShard {
    type Result = AtomicResponse<Self, EngineResult<Option<Chain>>>;

    fn handle(&mut self, m: RevokeChain, _ctx: &mut Self::Context) -> Self::Result {
        let store = self.store.clone();
        AtomicResponse::new(Box::pin(
            async move {
                store
                    .revoke_chain(&m.tenant, &m.chain, m.reason)
                    .await
                    .map_err(EngineError::from)
            }
            .into_actor(self)
            .map(|res, act, _| {
                if let Ok(Some(c)) = &res {
                    act.chains.insert(c.id.clone(), c.clone());
                }
                res
            }),
        ))
    }
}

impl Handler<GetChain> for TenantShard {
    type Result = AtomicResponse<Self, EngineResult<Option<Chain>>>;

    fn handle(&mut self, m: GetChain, _ctx: &mut Self::Context) -> Self::Result {
        // Shared store: another node may have revoked it since it was cached.
        if !self.shared
            && let Some(c) = self.cached(&self.chains, "chain", &m.chain)
        {
            return AtomicResponse::new(Box::pin(actix::fut::ready(Ok(Some(c)))));
        }
        let store = self.store.clone();
        AtomicResponse::new(Box::pin(
            async move {
                store
                    .get_chain(&m.tenant, &m.chain)
                    .await
                    .map_err(EngineError::from)
            }
            .into_actor(self)
            .map(|res, act, _| {
                if let Ok(Some(c)) = &res {
                    act.chains.insert(c.id.clone(), c.clone());
                }
                res
            }),
        ))
    }
}

impl Handler<PutSession> for TenantShard {
    type Result = AtomicResponse<Self, EngineResult<()>>;

    fn handle(&mut self, m: PutSession, _ctx: &mut Self::Context) -> Self::Result {
        let store = self.store.clone();
        let s = m.0;
        let s2 = s.clone();
        AtomicResponse::new(Box::pin(
            async move { store.put_session(&s2).await.map_err(EngineError::from) }
                .into_actor(self)
                .map(move |res, act, _| {
                    if res.is_ok() {
                        act.sessions.insert(s.key, s);
                    }
                    res
                }),
        ))
    }
}

impl Handler<GetSession> for TenantShard {
    type Result = AtomicResponse<Self, EngineResult<Option<Session>>>;

    fn handle(&mut self, m: GetSession, _ctx: &mut Self::Context) -> Self::Result {
        // Shared store: another node may have ended it since it was cached.
        if !self.shared
            && let Some(s) = self.cached(&self.sessions, "session", &m.key)
        {
            return AtomicResponse::new(Box::pin(actix::fut::ready(Ok(Some(s)))));
        }
        let store = self.store.clone();
        AtomicResponse::new(Box::pin(
            async move {
                store
                    .get_session(&m.tenant, &m.key)
                    .await
                    .map_err(EngineError::from)
            }
            .into_actor(self)
            .map(|res, act, _| {
                if let Ok(Some(s)) = &res {
                    act.sessions.insert(s.key, s.clone());
                }
                res
            }),
        ))
    }
}

/// Changes a live session in place (a re-authentication, a step-up); `None` if it
/// ended meanwhile, which the change never undoes.
#[derive(Message)]
#[rtype(result = "EngineResult<Option<Session>>")]
pub struct UpdateSession {
    /// Tenant.
    pub tenant: TenantId,
    /// Hash of the cookie.
    pub key: Hash32,
    /// The change.
    pub change: crate::store::SessionChange,
}

impl Handler<UpdateSession> for TenantShard {
    type Result = AtomicResponse<Self, EngineResult<Option<Session>>>;

    fn handle(&mut self, m: UpdateSession, _ctx: &mut Self::Context) -> Self::Result {
        let store = self.store.clone();
        let key = m.key;
        AtomicResponse::new(Box::pin(
            async move {
                let s = store.update_session(&m.tenant, &m.key, m.change).await?;
                Ok(s.filter(|s| s.tenant == m.tenant))
            }
            .into_actor(self)
            .map(move |res: EngineResult<Option<Session>>, act, _| {
                match &res {
                    Ok(Some(s)) => act.sessions.insert(s.key, s.clone()),
                    _ => act.sessions.invalidate(&key),
                }
                res
            }),
        ))
    }
}

/// Records that a session issued a code to a client (who is told when it ends).
#[derive(Message)]
#[rtype(result = "EngineResult<()>")]
pub struct AddSessionClient {
    /// Tenant.
    pub tenant: TenantId,
    /// Hash of the cookie.
    pub key: Hash32,
    /// The client.
    pub client: ClientId,
}

impl Handler<AddSessionClient> for TenantShard {
    type Result = AtomicResponse<Self, EngineResult<()>>;

    fn handle(&mut self, m: AddSessionClient, _ctx: &mut Self::Context) -> Self::Result {
        let store = self.store.clone();
        let key = m.key;
        AtomicResponse::new(Box::pin(
            async move {
                // In place, in the store: a session another node ended meanwhile is not
                // written back, and a concurrent change of it is not overwritten.
                let client = m.client;
                let change: crate::store::SessionChange = Box::new(move |s: &mut Session| {
                    let add = !s.clients.contains(&client);
                    if add {
                        s.clients.push(client.clone());
                    }
                    add
                });
                let s = store.update_session(&m.tenant, &m.key, change).await?;
                Ok(s.filter(|s| s.tenant == m.tenant))
            }
            .into_actor(self)
            .map(
                move |res: EngineResult<Option<Session>>, act, _| match res {
                    Ok(Some(s)) => {
                        act.sessions.insert(s.key, s);
                        Ok(())
                    }
                    Ok(None) => {
                        act.sessions.invalidate(&key);
                        Ok(())
                    }
                    Err(e) => {
                        act.sessions.invalidate(&key);
                        Err(e)
                    }
                },
            ),
        ))
    }
}

impl Handler<EndSession> for TenantShard {
    type Result = AtomicResponse<Self, EngineResult<Option<Session>>>;

    fn handle(&mut self, m: EndSession, _ctx: &mut Self::Context) -> Self::Result {
        self.sessions.invalidate(&m.key);
        let store = self.store.clone();
        AtomicResponse::new(Box::pin(
            async move {
                store
                    .delete_session(&m.tenant, &m.key)
                    .await
                    .map_err(EngineError::from)
            }
            .into_actor(self),
        ))
    }
}

/// The chain cache of one shard, configured as the shards configure it (exposed so the
/// memory bench measures the real thing).
pub fn chain_cache(capacity: u64) -> Cache<ChainId, Chain> {
    Cache::new(capacity)
}

/// A running shard and the number of messages sent to it and not yet answered.
#[derive(Clone)]
pub struct ShardHandle {
    addr: Addr<TenantShard>,
    in_flight: Arc<AtomicUsize>,
    /// When it was last asked something, in milliseconds since the registry started.
    last_used: Arc<AtomicU64>,
}

/// Finds or starts the shard that owns a key.
#[derive(Clone)]
pub struct ShardRegistry {
    store: Arc<dyn Store>,
    config: ShardConfig,
    metrics: EngineMetrics,
    arbiters: Arc<Vec<ArbiterHandle>>,
    shards: Arc<DashMap<(TenantId, usize), ShardHandle>>,
    started: std::time::Instant,
    /// SipHash with random keys, drawn once per process.
    placement: Placement,
}

/// Which of a tenant's shards a key lives in: a hash keyed with this process's random key,
/// so crafted keys (session cookies, chain ids) cannot be aimed at one shard.
#[derive(Clone)]
pub(crate) struct Placement {
    hasher: std::collections::hash_map::RandomState,
    shards: usize,
}

impl Placement {
    pub(crate) fn new(shards: usize) -> Self {
        Self {
            hasher: std::collections::hash_map::RandomState::new(),
            shards: shards.max(1),
        }
    }

    pub(crate) fn index<K: Hash>(&self, key: &K) -> usize {
        (self.hasher.hash_one(key) as usize) % self.shards
    }
}

impl ShardRegistry {
    /// Starts `arbiters` threads for the shards. Must run inside an actix System.
    pub fn start(
        store: Arc<dyn Store>,
        config: ShardConfig,
        arbiters: usize,
        metrics: EngineMetrics,
    ) -> Self {
        let arbiters = (0..arbiters.max(1))
            .map(|_| Arbiter::new().handle())
            .collect();
        let placement = Placement::new(config.shards_per_tenant);
        Self {
            store,
            config,
            metrics,
            arbiters: Arc::new(arbiters),
            shards: Arc::new(DashMap::new()),
            placement,
            started: std::time::Instant::now(),
        }
    }

    /// The shard of `tenant` that owns `key`.
    pub fn shard_for<K: Hash>(&self, tenant: &TenantId, key: &K) -> ShardHandle {
        let idx = self.placement.index(key);
        let slot = (tenant.clone(), idx);
        if let Some(s) = self.shards.get(&slot)
            && s.addr.connected()
        {
            return s.clone();
        }
        let mut entry = self.shards.entry(slot).or_insert_with(|| self.spawn(idx));
        if !entry.addr.connected() {
            *entry = self.spawn(idx);
        }
        entry.clone()
    }

    fn spawn(&self, idx: usize) -> ShardHandle {
        let arbiter = &self.arbiters[idx % self.arbiters.len()];
        let store = self.store.clone();
        let c = self.config.clone();
        let metrics = self.metrics.clone();
        let addr = TenantShard::start_in_arbiter(arbiter, move |_| TenantShard {
            store,
            chains: chain_cache(c.chains_per_shard),
            sessions: Cache::new(c.sessions_per_shard),
            metrics,
            shared: c.shared,
        });
        ShardHandle {
            addr,
            in_flight: Arc::new(AtomicUsize::new(0)),
            last_used: Arc::new(AtomicU64::new(self.millis())),
        }
    }

    /// Sends `msg` to a shard and waits for the answer. actix's `send` would queue past
    /// the mailbox's capacity, so the bound is kept here: a full shard is `Overloaded`.
    pub async fn ask<M, R>(&self, shard: ShardHandle, msg: M) -> EngineResult<R>
    where
        M: Message<Result = EngineResult<R>> + Send + 'static,
        R: Send + 'static,
        TenantShard: Handler<M>,
    {
        shard.last_used.store(self.millis(), Ordering::Relaxed);
        if shard.in_flight.fetch_add(1, Ordering::AcqRel) >= self.config.mailbox {
            shard.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.metrics.overloaded.with_label_values(&["shard"]).inc();
            return Err(EngineError::Overloaded {
                retry_after_secs: 1,
            });
        }
        let res = shard.addr.send(msg).await;
        shard.in_flight.fetch_sub(1, Ordering::AcqRel);
        res.map_err(|_| EngineError::Internal("shard stopped".into()))?
    }

    /// Sends `msg` without waiting, only if the shard's mailbox has room: for work that
    /// may be dropped under load (cache warming).
    pub fn tell<M>(&self, shard: ShardHandle, msg: M)
    where
        M: Message<Result = ()> + Send + 'static,
        TenantShard: Handler<M>,
    {
        shard.last_used.store(self.millis(), Ordering::Relaxed);
        let _ = shard.addr.try_send(msg);
    }

    /// Shards running now.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    fn millis(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Forgets shards that have been idle for `config.idle` with nothing in flight. A
    /// forgotten shard stops once the last address to it is gone and its mailbox is empty;
    /// the next request for its keys starts a fresh one, which reloads from the store.
    pub fn retire_idle(&self) -> usize {
        let now = self.millis();
        let idle = self.config.idle.as_millis() as u64;
        let before = self.shards.len();
        self.shards.retain(|_, h| {
            h.in_flight.load(Ordering::Acquire) > 0
                || now.saturating_sub(h.last_used.load(Ordering::Relaxed)) < idle
        });
        before - self.shards.len()
    }

    /// How often to look for idle shards.
    pub fn idle_check_interval(&self) -> std::time::Duration {
        (self.config.idle / 2).clamp(
            std::time::Duration::from_millis(100),
            std::time::Duration::from_secs(60),
        )
    }

    /// Messages waiting in or being handled by all shards.
    pub fn queued(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.in_flight.load(Ordering::Relaxed))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::Placement;

    #[test]
    fn placement_is_keyed_per_process_and_spreads_keys() {
        let (a, b) = (Placement::new(32), Placement::new(32));
        let keys: Vec<String> = (0..64).map(|i| format!("key {i}")).collect();
        let map = |p: &Placement| keys.iter().map(|k| p.index(k)).collect::<Vec<_>>();
        // With a fixed key (DefaultHasher), both would agree on all 64: 32^-64 by chance.
        assert_ne!(map(&a), map(&b), "two processes place keys alike");
        let mut counts = [0usize; 32];
        for i in 0..3_200 {
            counts[a.index(&format!("session {i}"))] += 1;
        }
        assert!(counts.iter().all(|&n| n > 40), "{counts:?}");
    }
}
