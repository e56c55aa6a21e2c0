//! Storage: one small trait per concern, combined into [`Store`]. Every call takes the
//! tenant, and every backend keys its data by tenant first, so isolation is a property of
//! the key, not of a filter applied afterwards.
//!
//! The ports between the engine and its backends:
//!
//! - the per-concern traits ([`TenantStore`], [`UserStore`], [`ChainStore`], ...) and
//!   [`Store`], which combines them; [`StoreError`] and how it maps to the engine's error;
//! - [`BatchObserver`], through which a group-committing backend reports its batches;
//! - `conformance` (feature `conformance`): the behaviour every backend must show, as
//!   one suite that each backend's tests run.
//!
//! Backends live in crates of their own (`tollgate-store-embedded`, `tollgate-store-scylla`)
//! and only the binary names one.

// A panic in a request path takes a worker with it; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "conformance")]
pub mod conformance;
mod domains;
mod orgs;
mod scim;

pub use domains::DomainStore;
pub use orgs::{OrgStore, RoleScope};
pub use scim::ScimStore;

use async_trait::async_trait;

use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{ChainId, ClientId, TenantId, UserId};
use tollgate_vocab::model::breach::{BreachNotice, Incident};
use tollgate_vocab::model::children::ChildRecord;
use tollgate_vocab::model::federation::{Connector, Link};
use tollgate_vocab::model::grievance::Grievance;
use tollgate_vocab::model::notice::ConsentReceipt;
use tollgate_vocab::model::privacy::{PrivacySettings, PurposeGrant};
use tollgate_vocab::model::retention::{Activity, DormancyNotice, LegalHold};
use tollgate_vocab::model::verification::VerificationRecord;
use tollgate_vocab::model::{
    AuthCode, Chain, Challenge, Client, Consent, Event, Factor, Hash32, LogoutDelivery,
    RevokeReason, Session, StoredKey, Tenant, UserRecord,
};

/// Where a residency region's data lives. The embedded store keeps every region it is
/// configured for in its one directory; ScyllaDB gives each region a keyspace replicated
/// only in that region's datacenters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RegionConfig {
    /// ScyllaDB: datacenter name to replication factor. Only these datacenters hold a copy.
    pub datacenters: std::collections::BTreeMap<String, u32>,
    /// ScyllaDB: the keyspace; defaults to `{global keyspace}_{region}`.
    pub keyspace: Option<String>,
}

/// What a backend can fail with.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A uniqueness or existence condition did not hold.
    #[error("conflict")]
    Conflict,
    /// The backend is overloaded (its write queue is full).
    #[error("overloaded")]
    Overloaded,
    /// The backend cannot be reached or failed to write; nothing was acknowledged.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A stored record could not be read back.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The backend refused a statement as written (syntax, an unknown table or column,
    /// permissions, configuration): a bug or a broken deployment, which retrying cannot
    /// mend. Never reported as "unavailable".
    #[error("statement refused: {0}")]
    Invalid(String),
}

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// What became of one user of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    /// Written.
    Created,
    /// Its email key (or id) was taken, in the store or earlier in the same import.
    Taken,
    /// Not known to be written (the store failed or did not answer); the same import run
    /// again settles it.
    Failed(String),
}

/// `?` turns a store failure into the engine's error: a broken condition is a conflict,
/// a full queue asks the caller to come back, and a corrupt record is a bug for the logs.
impl From<StoreError> for tollgate_vocab::error::EngineError {
    fn from(e: StoreError) -> Self {
        use tollgate_vocab::error::EngineError;
        match e {
            StoreError::Conflict => EngineError::Conflict("record"),
            StoreError::Overloaded => EngineError::Overloaded {
                retry_after_secs: 1,
            },
            StoreError::Unavailable(m) => EngineError::Unavailable(m),
            StoreError::Corrupt(m) | StoreError::Invalid(m) => EngineError::Internal(m),
        }
    }
}

/// Batch statistics, for metrics: a backend that group-commits reports each batch here.
pub trait BatchObserver: Send + Sync + 'static {
    /// One batch committed: how many jobs, and how long the commit (with fsync) took.
    fn batch_committed(&self, jobs: usize, seconds: f64);
    /// A write was refused because the writer's queue was full.
    fn rejected(&self) {}
}

/// The outcome of a conditional rotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The chain moved to the next generation; here is its new state.
    Rotated(Chain),
    /// The chain was not at the expected generation, or is revoked: here is what it is.
    Stale(Chain),
    /// No such chain.
    Missing,
}

/// Tenants.
#[async_trait]
pub trait TenantStore {
    /// Creates a tenant; `Conflict` if the id is taken.
    async fn create_tenant(&self, tenant: &Tenant) -> StoreResult<()>;
    /// Reads a tenant.
    async fn get_tenant(&self, id: &TenantId) -> StoreResult<Option<Tenant>>;
    /// All tenants.
    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>>;
    /// Replaces a tenant's settings; `false` if it does not exist or its region differs
    /// (regions change only through [`TenantStore::move_tenant`]).
    async fn update_tenant(&self, tenant: &Tenant) -> StoreResult<bool>;
    /// [`TenantStore::update_tenant`] only if the stored record still equals `expected`,
    /// in one atomic step (compare-and-set): of two changes made from the same record, one
    /// is written and the other is told (`false`), instead of the later one silently
    /// undoing the earlier. `false` also as `update_tenant` answers it.
    async fn update_tenant_if(&self, tenant: &Tenant, expected: &Tenant) -> StoreResult<bool>;
    /// Moves a tenant to another residency region: where a backend keeps regions apart
    /// (ScyllaDB keyspaces), its data is copied there and removed from the old region
    /// before the tenant record says so. Returns the updated tenant, `None` if missing.
    async fn move_tenant(&self, id: &TenantId, region: &str) -> StoreResult<Option<Tenant>>;
}

/// OAuth clients.
#[async_trait]
pub trait ClientStore {
    /// Creates a client; `Conflict` if the id is taken in this tenant.
    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    /// Reads a client.
    async fn get_client(&self, tenant: &TenantId, id: &ClientId) -> StoreResult<Option<Client>>;
    /// The tenant's clients.
    async fn list_clients(&self, tenant: &TenantId) -> StoreResult<Vec<Client>>;
    /// Replaces a client's record; `false` if it does not exist (it is not created).
    async fn update_client(&self, client: &Client) -> StoreResult<bool>;
    /// Removes a client; whether it existed.
    async fn delete_client(&self, tenant: &TenantId, id: &ClientId) -> StoreResult<bool>;
}

/// Users, with a unique login id (email) per tenant.
#[async_trait]
pub trait UserStore {
    /// Creates a user; `Conflict` if the email key is taken in this tenant. Atomic: two
    /// concurrent sign-ups with one email give one user.
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()>;
    /// Creates many users at once (imports); returns, per user in order, what became of
    /// it. A user that could not be written does not stop the others: running the same
    /// import again finds the created ones taken and retries the rest (resumable).
    /// Backends batch this; the default creates them one by one.
    async fn create_users(&self, users: &[UserRecord]) -> StoreResult<Vec<Imported>> {
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            out.push(match self.create_user(u).await {
                Ok(()) => Imported::Created,
                Err(StoreError::Conflict) => Imported::Taken,
                Err(e) => Imported::Failed(e.to_string()),
            });
        }
        Ok(out)
    }
    /// Replaces a live user's record; `false` if it does not exist, is deleted, or its
    /// email key differs (the login id is not changed this way).
    async fn update_user(&self, user: &UserRecord) -> StoreResult<bool>;
    /// Reads a user by id (deleted ones too, until purged).
    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<UserRecord>>;
    /// Finds a live user by the blind index of its login id, without scanning.
    async fn find_user_by_email(
        &self,
        tenant: &TenantId,
        email_key: &str,
    ) -> StoreResult<Option<UserRecord>>;
    /// Marks a user deleted: writes `user` (whose `deleted_at` is set and `email_key`
    /// empty), frees the login id `old_email_key`, and lists the user for the purge job.
    /// `false` if the user does not exist or is already deleted.
    async fn soft_delete_user(&self, user: &UserRecord, old_email_key: &str) -> StoreResult<bool>;
    /// The tenant's users (deleted ones too, with `deleted_at` set), at most `limit`, in
    /// an order the backend keeps from call to call: pass the last user returned as
    /// `after` for the next page. Every user that exists for the whole walk is returned
    /// once over its pages; one created or purged during the walk may or may not be.
    async fn list_users(
        &self,
        tenant: &TenantId,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<UserRecord>>;
    /// Users deleted before `before`, oldest first, at most `limit`.
    async fn deleted_users(
        &self,
        tenant: &TenantId,
        before: UnixTime,
        limit: usize,
    ) -> StoreResult<Vec<UserId>>;
    /// Removes a deleted user's row for good (the purge job); `false` if it is not a
    /// deleted user.
    async fn purge_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<bool>;
    /// Changes a user's login id from `old_email_key` to `user.email_key` and writes the
    /// record: `Conflict` if another user has the new email, `false` if the user does not
    /// exist, is deleted, or its email key is no longer `old_email_key`. The new id is
    /// claimed before the old one is given up, so no two users ever hold one email.
    async fn change_user_email(&self, user: &UserRecord, old_email_key: &str) -> StoreResult<bool>;
}

/// Each user's data key, wrapped under a key derived from the master key. Kept apart
/// from the records it opens: destroying it is what makes a deleted user's personal
/// data unreadable everywhere, backups of the records and the event log included.
#[async_trait]
pub trait UserKeyStore {
    /// Stores a new user's wrapped data key; `Conflict` if the user already has one.
    async fn put_user_key(
        &self,
        tenant: &TenantId,
        user: &UserId,
        wrapped: &[u8],
    ) -> StoreResult<()>;
    /// The wrapped key, or `None` once destroyed.
    async fn get_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Option<Vec<u8>>>;
    /// Destroys it (crypto-shredding); idempotent.
    async fn destroy_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()>;
}

/// A tenant's consent purposes and profiling rules (one small record), and users'
/// answers per purpose.
#[async_trait]
pub trait PurposeStore {
    /// Replaces the tenant's privacy settings.
    async fn put_privacy_settings(
        &self,
        tenant: &TenantId,
        settings: &PrivacySettings,
    ) -> StoreResult<()>;
    /// Reads them (`None` if never set).
    async fn get_privacy_settings(&self, tenant: &TenantId)
    -> StoreResult<Option<PrivacySettings>>;
    /// Records (replaces) a user's answer for one purpose.
    async fn put_purpose_grant(&self, grant: &PurposeGrant) -> StoreResult<()>;
    /// A user's answers, one per purpose.
    async fn list_purpose_grants(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<PurposeGrant>>;
    /// Removes a user's answers (account deletion).
    async fn delete_purpose_grants(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()>;
}

/// SSO sessions.
#[async_trait]
pub trait SessionStore {
    /// Writes a session (durable on return).
    async fn put_session(&self, session: &Session) -> StoreResult<()>;
    /// Reads a session by the hash of its cookie; expired ones may still be returned
    /// until swept, so callers check `expires_at`.
    async fn get_session(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<Session>>;
    /// Ends a session; returns it if it existed.
    async fn delete_session(&self, tenant: &TenantId, key: &Hash32)
    -> StoreResult<Option<Session>>;
    /// A user's sessions (expired ones may be included until swept).
    async fn list_sessions(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Session>>;
    /// Changes a stored session in place, atomically: `change` sees the session as
    /// stored and says whether it changed it. Returns the session as stored afterwards;
    /// `None`, writing nothing, if it is gone. An ended session is never written back,
    /// and two changes at once both land (a backend may run `change` more than once).
    async fn update_session(
        &self,
        tenant: &TenantId,
        key: &Hash32,
        change: SessionChange,
    ) -> StoreResult<Option<Session>>;
}

/// A change to a stored session, for [`SessionStore::update_session`]: whether it
/// changed anything.
pub type SessionChange = Box<dyn Fn(&mut Session) -> bool + Send + Sync>;

/// Authorization codes.
#[async_trait]
pub trait CodeStore: ChainStore {
    /// Writes a code (durable on return).
    async fn put_code(&self, code: &AuthCode) -> StoreResult<()>;
    /// Reads a code that is still there to take (not taken, maybe expired: callers
    /// check), without taking it.
    async fn get_code(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<AuthCode>>;
    /// Removes and returns a code, atomically: of two concurrent takes, one gets it.
    async fn take_code(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<AuthCode>>;
    /// Takes a code and creates the refresh chain that `chain_for` builds from it (if
    /// any), so that a code is never consumed while its chain is lost. Backends that can
    /// make both one durable write do; the default takes, then creates.
    async fn redeem_code(
        &self,
        tenant: &TenantId,
        key: &Hash32,
        chain_for: ChainFor,
    ) -> StoreResult<Option<(AuthCode, Option<Chain>)>> {
        let Some(code) = self.take_code(tenant, key).await? else {
            return Ok(None);
        };
        let chain = chain_for(&code);
        if let Some(c) = &chain {
            self.create_chain(c).await?;
        }
        Ok(Some((code, chain)))
    }
}

/// Builds the refresh chain a redeemed code starts (`None`: the code gets no chain, for
/// example because its PKCE verifier is wrong; it is consumed all the same).
pub type ChainFor = Box<dyn FnOnce(&AuthCode) -> Option<Chain> + Send>;

/// Refresh-token chains.
#[async_trait]
pub trait ChainStore {
    /// Creates a chain with its first token (generation 0).
    async fn create_chain(&self, chain: &Chain) -> StoreResult<()>;
    /// Reads a chain.
    async fn get_chain(&self, tenant: &TenantId, id: &ChainId) -> StoreResult<Option<Chain>>;
    /// A user's refresh chains, revoked ones included (expired ones until swept).
    async fn list_chains(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Chain>>;
    /// The generation a token hash had in this chain, if it was ever one of its tokens.
    async fn token_generation(
        &self,
        tenant: &TenantId,
        chain: &ChainId,
        hash: &Hash32,
    ) -> StoreResult<Option<u64>>;
    /// Moves the chain from `expected_generation` to the next, with `new_hash` as its
    /// token, if and only if it is still at that generation and not revoked. The old
    /// token stays recorded so that presenting it again is recognised as reuse.
    async fn rotate_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        expected_generation: u64,
        new_hash: Hash32,
        now: UnixTime,
    ) -> StoreResult<Rotation>;
    /// Revokes a chain for good; returns its new state (or `None` if missing).
    async fn revoke_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        reason: RevokeReason,
    ) -> StoreResult<Option<Chain>>;
}

/// Signing keys.
#[async_trait]
pub trait KeyStore {
    /// Writes several keys atomically (a rotation changes two or three at once).
    async fn put_keys(&self, keys: &[StoredKey]) -> StoreResult<()>;
    /// The tenant's keys.
    async fn list_keys(&self, tenant: &TenantId) -> StoreResult<Vec<StoredKey>>;
}

/// Consent grants.
#[async_trait]
pub trait ConsentStore {
    /// Records (replaces) what a user granted a client.
    async fn put_consent(&self, consent: &Consent) -> StoreResult<()>;
    /// Everything a user granted, one record per client.
    async fn list_consents(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Consent>>;
    /// Withdraws what a user granted a client; returns it if there was a grant.
    async fn delete_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>>;
    /// Reads it.
    async fn get_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>>;
}

/// Revoked access tokens (by `jti`), kept until they would have expired anyway.
#[async_trait]
pub trait DenyListStore {
    /// Denies a token id until `expires_at`.
    async fn deny_token(
        &self,
        tenant: &TenantId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<()>;
    /// Whether a token id is denied.
    async fn is_token_denied(&self, tenant: &TenantId, jti: &str) -> StoreResult<bool>;
}

/// The audit trail: append and read, never update.
#[async_trait]
pub trait EventStore {
    /// Appends events (durable on return).
    async fn append_events(&self, events: &[Event]) -> StoreResult<()>;
    /// The newest `limit` events of a tenant, newest first.
    async fn recent_events(&self, tenant: &TenantId, limit: usize) -> StoreResult<Vec<Event>>;
    /// The tenant's events matching `q`, newest first (by time, then id), at most
    /// `q.limit`. A query by user reads only that user's events (a per-user index, never
    /// the tenant's whole trail): it is on the sign-in path (progressive profiling) and
    /// serves the data export. Other queries read the window's events newest first and
    /// stop at `q.limit`, so an unfiltered page costs about `q.limit` rows.
    async fn query_events(&self, tenant: &TenantId, q: &EventQuery) -> StoreResult<Vec<Event>>;
}

/// Which events to return (all conditions hold). Pages continue with `before` set to the
/// last event returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Events whose actor or subject is this (a user id, or `admin`).
    pub user: Option<String>,
    /// Events of this kind (`login.password`), or of kinds starting with it when it ends
    /// with `.` (`mfa.`).
    pub kind: Option<String>,
    /// At or after this time (ms since the epoch).
    pub since_ms: Option<u64>,
    /// Before this time (ms since the epoch).
    pub until_ms: Option<u64>,
    /// Strictly older than this event (`at_ms`, `id`): the cursor of the next page.
    pub before: Option<(u64, String)>,
    /// At most this many.
    pub limit: usize,
}

impl EventQuery {
    /// Whether `e` matches the conditions that are not about time.
    pub fn matches(&self, e: &Event) -> bool {
        let user_ok = self.user.as_ref().is_none_or(|u| {
            e.actor.as_deref() == Some(u.as_str()) || e.subject.as_deref() == Some(u.as_str())
        });
        let kind_ok = self.kind.as_ref().is_none_or(|k| {
            if k.ends_with('.') {
                e.kind.starts_with(k.as_str())
            } else {
                &e.kind == k
            }
        });
        user_ok && kind_ok
    }

    /// Whether `e` lies inside the time window and before the cursor.
    pub fn in_window(&self, e: &Event) -> bool {
        self.since_ms.is_none_or(|s| e.at_ms >= s)
            && self.until_ms.is_none_or(|u| e.at_ms < u)
            && self
                .before
                .as_ref()
                .is_none_or(|(at, id)| (e.at_ms, e.id.as_str()) < (*at, id.as_str()))
    }
}

/// Users' enrolled second factors.
#[async_trait]
pub trait FactorStore {
    /// Creates a factor; `Conflict` if its id, or its `lookup` key, is taken in the tenant.
    async fn create_factor(&self, factor: &Factor) -> StoreResult<()>;
    /// A user's factors, oldest first.
    async fn list_factors(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Factor>>;
    /// One factor of a user.
    async fn get_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>>;
    /// The factor with this `lookup` key (a passkey by credential id).
    async fn find_factor(&self, tenant: &TenantId, lookup: &str) -> StoreResult<Option<Factor>>;
    /// Replaces a factor if, and only if, it is still at `expected_version`; the stored
    /// copy gets `factor.version`. `false` when it moved on or is gone (a TOTP step or a
    /// recovery code used twice at once is accepted once).
    async fn update_factor(&self, factor: &Factor, expected_version: u64) -> StoreResult<bool>;
    /// Removes a factor (and its lookup key); returns it.
    async fn delete_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>>;
}

/// Short-lived single-use challenges: one-time codes, pending sign-ins, ceremonies.
#[async_trait]
pub trait ChallengeStore {
    /// Writes a challenge (durable on return); `Conflict` if its key exists.
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()>;
    /// Writes a challenge in place of whatever its key holds, live or taken ("send
    /// another code" keeps the handle the browser has). Its tries, expiry and takers are
    /// the new challenge's; the old one cannot be answered any more.
    async fn replace_challenge(&self, challenge: &Challenge) -> StoreResult<()>;
    /// Reads one; expired ones may still be returned until swept, so callers check.
    async fn get_challenge(
        &self,
        tenant: &TenantId,
        key: &Hash32,
    ) -> StoreResult<Option<Challenge>>;
    /// Removes and returns one, atomically: of two concurrent takes, one gets it.
    async fn take_challenge(
        &self,
        tenant: &TenantId,
        key: &Hash32,
    ) -> StoreResult<Option<Challenge>>;
    /// Spends one try, atomically: returns the challenge as it was if it had a try left
    /// (its stored `tries_left` is now one less), `None` if it is missing or out of tries.
    /// A guess is checked only after its try is spent, so no more than the allowed number
    /// of guesses is ever checked, however many arrive at once.
    async fn spend_try(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<Challenge>>;
}

/// Federation: a tenant's upstream identity providers, and the identities linked to users.
#[async_trait]
pub trait IdentityStore {
    /// Creates or replaces a connector.
    async fn put_connector(&self, connector: &Connector) -> StoreResult<()>;
    /// Reads a connector.
    async fn get_connector(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Connector>>;
    /// The tenant's connectors.
    async fn list_connectors(&self, tenant: &TenantId) -> StoreResult<Vec<Connector>>;
    /// Removes a connector; whether it existed.
    async fn delete_connector(&self, tenant: &TenantId, id: &str) -> StoreResult<bool>;
    /// Links an upstream identity to a user; `Conflict` if (tenant, provider, key) is
    /// linked already. Atomic: of two concurrent links of one identity, one wins.
    async fn create_link(&self, link: &Link) -> StoreResult<()>;
    /// The link of an upstream identity.
    async fn find_link(
        &self,
        tenant: &TenantId,
        provider: &str,
        key: &Hash32,
    ) -> StoreResult<Option<Link>>;
    /// A user's links.
    async fn list_links(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Link>>;
    /// Replaces a link's record if it exists and still belongs to `link.user_id`.
    async fn update_link(&self, link: &Link) -> StoreResult<bool>;
    /// Removes one of a user's links (only if it is theirs); returns it.
    async fn delete_link(
        &self,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        key: &Hash32,
    ) -> StoreResult<Option<Link>>;
}

/// The durable outbox of back-channel logout tokens: what must reach a relying party
/// survives a restart and the relying party's outage. Gateway nodes that share a store
/// claim a delivery (a lease on its `next_at`) before sending it, so two nodes do not
/// both send it routinely; delivery is at least once all the same (receivers drop a
/// repeated `jti`).
#[async_trait]
pub trait OutboxStore {
    /// Queues deliveries (durable on return). An id already queued is left as it is.
    async fn enqueue_logouts(&self, items: &[LogoutDelivery]) -> StoreResult<()>;
    /// Up to `limit` of the tenant's queued deliveries, due or not, in no set order.
    async fn list_logouts(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> StoreResult<Vec<LogoutDelivery>>;
    /// Claims a delivery: moves its `next_at` from `seen` (as the caller read it) to
    /// `lease_until`, if and only if it is still `seen`. Of two concurrent claims, one
    /// wins; `false` for the other, and for a delivery that is gone.
    async fn claim_logout(
        &self,
        tenant: &TenantId,
        id: &str,
        seen: UnixTime,
        lease_until: UnixTime,
    ) -> StoreResult<bool>;
    /// After a failed attempt: sets its attempts and next due time, if the caller's lease
    /// (`next_at` = `lease_until`) still holds.
    async fn reschedule_logout(
        &self,
        tenant: &TenantId,
        id: &str,
        lease_until: UnixTime,
        attempts: u32,
        next_at: UnixTime,
    ) -> StoreResult<bool>;
    /// Removes a delivery (sent, or given up); idempotent.
    async fn complete_logout(&self, tenant: &TenantId, id: &str) -> StoreResult<()>;
}

/// Identity verification results (Aadhaar offline e-KYC, DigiLocker, Truecaller): the
/// little kept of each, sealed by the engine under the user's data key. Only the ids and
/// the time are in the clear.
#[async_trait]
pub trait VerificationStore {
    /// Stores one (durable on return); a record with the same id is replaced.
    async fn put_verification(&self, record: &VerificationRecord) -> StoreResult<()>;
    /// A user's verifications, oldest first (by time, then id).
    async fn list_verifications(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<VerificationRecord>>;
    /// Removes all of a user's verifications (account deletion); idempotent.
    async fn delete_verifications(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()>;
}

/// Consent receipts (DPDP Rule 4): every grant and withdrawal of a consent purpose, kept
/// per user and never changed once written.
#[async_trait]
pub trait ReceiptStore {
    /// Appends one (durable on return); a receipt with the same id is replaced.
    async fn put_receipt(&self, receipt: &ConsentReceipt) -> StoreResult<()>;
    /// A user's receipts, oldest first (by time, then id).
    async fn list_receipts(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<ConsentReceipt>>;
    /// Removes all of a user's receipts (account erasure); idempotent.
    async fn delete_receipts(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()>;
}

/// Retention (DPDP Rules 6 and 8): each user's last activity, the dormancy notice of the
/// current cycle and a legal hold (one small record per user); and the purge of the audit
/// trail past its retention.
#[async_trait]
pub trait RetentionStore {
    /// Records activity at `at`: `last_active` becomes `at` unless it is later already
    /// (creating the record if there is none). The notice and the hold stay as they are.
    async fn touch_activity(
        &self,
        tenant: &TenantId,
        user: &UserId,
        at: UnixTime,
    ) -> StoreResult<()>;
    /// A user's record.
    async fn get_activity(&self, tenant: &TenantId, user: &UserId)
    -> StoreResult<Option<Activity>>;
    /// Replaces the notice with `next` if, and only if, it is still `expected` (compare
    /// and set, so two jobs never both start one cycle's notice); `false` otherwise, and
    /// when there is no record.
    async fn update_dormancy_notice(
        &self,
        tenant: &TenantId,
        user: &UserId,
        expected: Option<&DormancyNotice>,
        next: Option<&DormancyNotice>,
    ) -> StoreResult<bool>;
    /// Sets (or, with `None`, clears) a legal hold; `false` if there is no record.
    async fn set_legal_hold(
        &self,
        tenant: &TenantId,
        user: &UserId,
        hold: Option<&LegalHold>,
    ) -> StoreResult<bool>;
    /// Removes a user's record (erased, or no longer there); idempotent.
    async fn delete_activity(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()>;
    /// Records whose `last_active` is before `before`, at most `limit`, in an order the
    /// backend keeps from call to call: pass the last user returned as `after` for the
    /// next page. Every such record is returned once over the pages of a walk.
    async fn list_inactive(
        &self,
        tenant: &TenantId,
        before: UnixTime,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<Activity>>;
    /// Removes the tenant's events older than `before_ms` (from the trail and from the
    /// per-user index), about `limit` at a time; returns how many went (0: none left).
    /// Never removes one at or after `before_ms`. A backend that files the trail by hour
    /// may leave the events of the hour `before_ms` falls in for a later call.
    async fn purge_events(
        &self,
        tenant: &TenantId,
        before_ms: u64,
        limit: usize,
    ) -> StoreResult<u64>;
}

/// Grievances (DPDP s. 13, Rule 14): a tenant's tickets, each filed by one user, its
/// messages sealed by the engine under that user's data key. Only ids, category, status
/// and times are in the clear.
#[async_trait]
pub trait GrievanceStore {
    /// Writes a new ticket (durable on return); its id is fresh and random.
    async fn put_grievance(&self, grievance: &Grievance) -> StoreResult<()>;
    /// Replaces a ticket with its next state if, and only if, the stored one still equals
    /// `expected`, in one atomic step: of two admins changing one ticket at once, one
    /// writes and the other is told (`false`, also when it is gone) and starts again.
    async fn update_grievance(&self, next: &Grievance, expected: &Grievance) -> StoreResult<bool>;
    /// One of the tenant's tickets, whoever filed it.
    async fn get_grievance(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Grievance>>;
    /// The tenant's tickets, at most `limit` of them (which ones, past the limit, is the
    /// backend's choice), oldest first (by filing time, then id).
    async fn list_grievances(&self, tenant: &TenantId, limit: usize)
    -> StoreResult<Vec<Grievance>>;
    /// A user's tickets, oldest first (by filing time, then id).
    async fn list_user_grievances(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<Grievance>>;
    /// Removes all of a user's tickets (account erasure); idempotent.
    async fn delete_user_grievances(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()>;
}

/// Personal data breaches (DPDP Rule 7): a tenant's declared incidents and, per incident,
/// each affected user's notification (pending, sending, sent or failed). Ids only: no
/// personal data in the clear.
#[async_trait]
pub trait BreachStore {
    /// Writes a new incident with one pending notice per user in `users` (durable on
    /// return); `Conflict` if its id is taken. A backend that writes a long list in parts
    /// writes the incident last, so an incident is never read without its whole list.
    async fn create_incident(&self, incident: &Incident, users: &[UserId]) -> StoreResult<()>;
    /// One incident of the tenant.
    async fn get_incident(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Incident>>;
    /// The tenant's incidents, oldest first (by declaration time, then id).
    async fn list_incidents(&self, tenant: &TenantId) -> StoreResult<Vec<Incident>>;
    /// Replaces an incident with `next` if, and only if, the stored one still equals
    /// `expected` (compare and set); `false` otherwise.
    async fn update_incident(&self, next: &Incident, expected: &Incident) -> StoreResult<bool>;
    /// An incident's notices, at most `limit`, in an order the backend keeps from call to
    /// call: pass the last user returned as `after` for the next page. Every notice is
    /// returned once over the pages of a walk.
    async fn list_breach_notices(
        &self,
        tenant: &TenantId,
        incident: &str,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<BreachNotice>>;
    /// Replaces a notice with `next` if, and only if, the stored one still equals
    /// `expected` (compare and set: of two jobs claiming one user, one wins); `false`
    /// otherwise, and when there is no such notice.
    async fn update_breach_notice(
        &self,
        next: &BreachNotice,
        expected: &BreachNotice,
    ) -> StoreResult<bool>;
    /// [`Self::update_breach_notice`] for many notices (`(next, expected)` pairs), each on
    /// its own, durable on return, in one write where the backend can (a job claims its
    /// next users so); whether each was written, in order.
    async fn update_breach_notices(
        &self,
        changes: &[(BreachNotice, BreachNotice)],
    ) -> StoreResult<Vec<bool>>;
}

/// Children's accounts (DPDP s. 9, Rule 10): what is kept beside a child's account while it
/// waits for a parent and after one consented. No personal data: ids, a link hash, times.
#[async_trait]
pub trait ChildStore {
    /// Writes a child's record (durable on return), replacing any earlier one.
    async fn put_child(&self, record: &ChildRecord) -> StoreResult<()>;
    /// A user's child record, if the user is a child.
    async fn get_child(&self, tenant: &TenantId, user: &UserId)
    -> StoreResult<Option<ChildRecord>>;
    /// Replaces a record with its next state if, and only if, the stored one still equals
    /// `expected`, in one atomic step: of two uses of one parent link at once, one wins
    /// and the other is told (`false`, also when it is gone).
    async fn update_child(&self, next: &ChildRecord, expected: &ChildRecord) -> StoreResult<bool>;
    /// The tenant's pending records, at most `limit`, soonest expiry first.
    async fn list_pending_children(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> StoreResult<Vec<ChildRecord>>;
    /// Removes a user's record (account erasure); idempotent.
    async fn delete_child(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()>;
}

/// Everything the engine needs from storage.
#[async_trait]
pub trait Store:
    TenantStore
    + ClientStore
    + UserStore
    + UserKeyStore
    + SessionStore
    + CodeStore
    + ChainStore
    + KeyStore
    + ConsentStore
    + DenyListStore
    + EventStore
    + FactorStore
    + ChallengeStore
    + PurposeStore
    + IdentityStore
    + OutboxStore
    + VerificationStore
    + GrievanceStore
    + ChildStore
    + BreachStore
    + RetentionStore
    + ReceiptStore
    + ScimStore
    + OrgStore
    + DomainStore
    + Send
    + Sync
    + 'static
{
    /// Deletes rows whose expiry has passed; returns how many.
    async fn sweep_expired(&self, now: UnixTime) -> StoreResult<u64>;
    /// Whether the backend can serve requests (readiness).
    async fn ping(&self) -> StoreResult<()>;
    /// Hands an event to the backend to append with its next write, without waiting for
    /// it to be durable (audit events off the hot path). Gives the event back when the
    /// backend cannot take it this way now; the caller then appends it itself.
    fn enqueue_event(&self, event: Box<Event>) -> Result<(), Box<Event>> {
        Err(event)
    }

    /// Writes waiting in the backend's own queue, if it has one (for metrics).
    fn queue_depth(&self) -> usize {
        0
    }
}
