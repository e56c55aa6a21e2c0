//! Tollgate's vocabulary: the words every other crate speaks. No async, no I/O.
//!
//! - [`ids`]: tenant, client, user, chain and key ids; a case-insensitive [`ids::Email`].
//! - [`clock`]: Unix time and the clocks (system, manual for tests).
//! - [`crypto`]: random tokens, SHA-256, constant-time comparison, PKCE, the master key.
//! - [`model`]: the records the engine keeps, and the types several flows share
//!   (connectors and links, privacy settings, phone numbers, sign-in steps).
//! - [`error`]: the engine's error and the OAuth error codes, named by their RFCs.

pub mod clock;
pub mod crypto;
pub mod error;
pub mod ids;
pub mod model;
