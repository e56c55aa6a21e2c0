//! Tollgate's vocabulary: the words every other crate speaks. No async, no I/O.
//!
//! - [`ids`]: tenant, client, user, chain and key ids; a case-insensitive [`ids::Email`].
//! - [`clock`]: Unix time and the clocks (system, manual for tests).
//! - [`crypto`]: random tokens, SHA-256, constant-time comparison, PKCE, the master key.
//! - [`model`]: the records the engine keeps, and the types several flows share
//!   (connectors and links, privacy settings, phone numbers, sign-in steps).
//! - [`json`]: encoding of our own records, which cannot fail.
//! - [`error`]: the engine's error and the OAuth error codes, named by their RFCs.

// A panic in a request path takes a worker with it; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod clock;
pub mod crypto;
pub mod error;
pub mod ids;
pub mod json;
pub mod model;
