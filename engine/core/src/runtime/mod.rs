//! The runtime: the engine's long-lived machinery, below every flow and unaware of them.
//!
//! - [`config`]: the engine's settings.
//! - [`metrics`]: Prometheus counters and gauges.
//! - [`shard`]: per-tenant actors, single writers of sessions and refresh chains.
//! - [`password`]: argon2id on a bounded pool (Overloaded when full).
//! - [`throttle`]: failed sign-ins per account and address.
//! - [`sends`]: limits on code sends and other unauthenticated writes; the code state.
//! - [`delivery`]: the mail and SMS/WhatsApp sender traits and the send queue.
//! - [`catalogs`]: tenants' message catalogues for mails and texts, and the recipient's language.
//! - [`outbound`]: the outbound HTTP port, for upstream identity providers.
//! - [`keys`]: signing keys, sealed at rest; JWT signing; the rendered documents.
//! - [`vault`]: users' data keys, wrapped under the master key.

pub mod catalogs;
pub mod config;
pub mod delivery;
pub mod jws;
pub mod keys;
pub mod metrics;
pub mod outbound;
pub mod password;
pub mod sends;
pub mod shard;
pub mod throttle;
pub mod vault;
