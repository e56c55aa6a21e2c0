//! Tollgate's engine: the identity domain, with no HTTP in it and no store backend.
//!
//! [`Engine`] is a thin facade: the context (store, clock, caches, runtime) plus one
//! handle per area, each a view of the same context:
//!
//! | handle | area |
//! |---|---|
//! | [`Engine::oauth`] | [`oauth`]: discovery, authorize, token (code, refresh, mint), userinfo, revoke, introspect, logout |
//! | [`Engine::signin`] | [`signin`]: passwords and sessions, second factors, codes, phone, passkeys |
//! | [`Engine::federation`] | [`federation`]: connectors, the upstream round trip, links |
//! | [`Engine::account`] | [`account`]: the portal's changes, privacy rights, purposes, profiling |
//! | [`Engine::admin`] | [`admin`]: tenants, clients, users, keys, the audit trail, imports |
//! | [`Engine::orgs`] | [`orgs`]: organisations, members, roles and permissions, invitations |
//! | [`Engine::verify`] | [`verify`]: identity verification (India rails): results kept sealed, audited, listed |
//! | [`Engine::scim`] | [`scim`]: SCIM 2.0 provisioning: tokens, `/Users`, `/Bulk`, the sign-in gate of deactivated users |
//!
//! Layers, lowest first (a module names only modules below it; an area reaches a lower
//! area through its handle, never a higher one):
//!
//! - the vocabulary and the storage ports, re-exported from their crates: [`model`],
//!   [`ids`], [`crypto`], [`clock`], [`json`], [`error`], [`store`];
//! - [`runtime`]: config, metrics, shards, password pool, throttle, send limits,
//!   delivery queue, signing keys, the user-key vault, the outbound HTTP port;
//! - [`engine`]: the [`Engine`] context and its wiring, naming no flow; [`audit`] and
//!   [`sealing`]: the audit trail, users' data keys and user records, on the context;
//! - [`verify`]'s record keeper (its `mod.rs`: names no other area), read by the areas
//!   above it; the areas: [`oauth`] (names no other area), [`signin`] <- [`federation`] <-
//!   [`account`] <- [`admin`]; the rails' flows in `verify/` (one file each) sit on top;
//! - [`jobs`]: the periodic sweep and purge.

// A panic in a request path takes a worker with it; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod account;
pub mod admin;
pub mod audit;
pub mod engine;
pub mod federation;
pub mod jobs;
pub mod oauth;
pub mod orgs;
pub mod runtime;
pub mod saml;
pub mod scim;
pub mod sealing;
pub mod signin;
pub mod verify;

pub use engine::{Engine, RequestMeta};
pub use runtime::config::EngineConfig;
pub use runtime::metrics::EngineMetrics;
pub use tollgate_store as store;
pub use tollgate_vocab::error::{EngineError, EngineResult, OAuthError, OAuthErrorCode};
pub use tollgate_vocab::{clock, crypto, error, ids, json, model};
