//! Tollgate's engine: the identity domain, with no HTTP in it. Layers, lowest first (a
//! module names only modules below it):
//!
//! - the vocabulary and the storage ports, re-exported from their crates: [`model`],
//!   [`ids`], [`crypto`], [`clock`], [`error`], [`store`];
//! - [`runtime`]: config, metrics, shards, password pool, throttle, send limits,
//!   delivery queue, signing keys, the user-key vault;
//! - [`engine`]: the [`Engine`] context (store, caches, runtime), naming no flow;
//!   [`audit`] and [`sealing`]: the audit trail and users' data keys, on the context;
//! - the flows, each adding calls to the context, a flow naming only flows below it:
//!   [`password_policy`] <- [`login`] <- [`mfa`] <- [`otp`] <- [`email_codes`] <- [`phone`];
//!   [`passkeys`]; [`profiling`] <- [`purposes`]; [`oauth`] (discovery, authorize,
//!   token/{code, refresh, mint}, access, userinfo, revoke, introspect, logout; reached
//!   through `engine.oauth()`); [`privacy`], [`portal`], [`admin`], [`federation`];
//! - [`jobs`]: the periodic sweep and purge.

// A panic in a request path takes a worker with it; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod admin;
pub mod audit;
pub mod email_codes;
pub mod engine;
pub mod federation;
pub mod jobs;
pub mod login;
pub mod mfa;
pub mod oauth;
pub mod otp;
pub mod passkeys;
pub mod phone;
pub mod portal;
pub mod privacy;
pub mod profiling;
pub mod purposes;
pub mod runtime;
pub mod sealing;

pub use engine::{Engine, RequestMeta};
pub use runtime::config::EngineConfig;
pub use runtime::metrics::EngineMetrics;
pub use tollgate_store as store;
pub use tollgate_vocab::error::{EngineError, EngineResult, OAuthError, OAuthErrorCode};
pub use tollgate_vocab::{clock, crypto, error, ids, json, model};
