//! Tollgate's gateway: actix-web handlers over the engine, and the `tollgate` command.
//!
//! Layers, each naming only those below it (a lower one never names a higher one):
//!
//! 1. [`state`]: `AppState` and what it holds (engine, CSRF key, metrics). A leaf.
//! 2. [`web`]: request helpers (forms, client authentication, cookies, CSRF, the sealed
//!    `tx`, error mapping, metrics middleware, the page shell); [`upstream`]: outgoing
//!    calls to upstream identity providers.
//! 3. [`pages`]: page rendering, apart from the handlers.
//! 4. [`journey`]: where a sign-in goes next, decided once for every handler.
//! 5. [`handlers`]: one module per flow; a handler never names another handler.
//! 6. [`routes`]: the one place that names handlers; [`server`]: start-up.
//!
//! Beside them, for the binary: [`config`] (layered configuration) and the senders
//! [`mail`] and [`sms`], which [`server`] wires into the engine.

pub mod config;
pub mod handlers;
pub mod journey;
pub mod mail;
pub mod pages;
pub mod routes;
pub mod server;
pub mod sms;
pub mod state;
pub mod upstream;
pub mod web;

/// Chooses rustls's process-wide crypto provider. Both ring and aws-lc-rs are in the
/// dependency tree, and rustls refuses to guess; calling this twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
