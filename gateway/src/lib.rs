//! The `tollgate` command's library: what only the binary decides. It names the store
//! backends and the senders; [`tollgate_http`] and the engine name neither.
//!
//! - [`config`]: layered configuration (file, environment, flags).
//! - [`mail`] and [`sms`]: the senders behind the engine's delivery traits;
//!   [`whatsapp`]: the WhatsApp Cloud API sender that [`sms`] uses for tenants' numbers.
//! - [`upstream`]: the outbound HTTP client behind the engine's upstream port.
//! - [`server`]: start-up: opens the store, starts the engine with those, serves
//!   [`tollgate_http::routes`].

// A panic in a request path takes a worker with it; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod mail;
pub mod server;
pub mod sms;
pub mod upstream;
pub mod whatsapp;

/// Chooses rustls's process-wide crypto provider. Both ring and aws-lc-rs are in the
/// dependency tree, and rustls refuses to guess; calling this twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
