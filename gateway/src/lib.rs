//! Tollgate's gateway: actix-web handlers over the engine, and the `tollgate` command.
//!
//! - [`server`]: shared state, routes, start-up.
//! - [`oidc`]: discovery, JWKS, authorize, token, userinfo, revoke, introspect.
//! - [`hosted`]: sign-in, sign-up, consent, account and logout pages.
//! - [`passkeys`]: passkey ceremonies (JSON endpoints and their script) and pages.
//! - [`email`], [`phone`]: sign-in, reset and verification by emailed or texted codes
//!   and links; [`otp_pages`] renders them; [`mail`] and [`sms`] send them.
//! - [`portal`]: account self-service (profile, email, phone, password, privacy
//!   choices, deletion) and the consent/profile step after sign-in.
//! - [`federation`]: sign-in through upstream OIDC / OAuth 2.0 providers, linking.
//! - [`admin`]: the admin API.
//! - [`demo`]: the built-in demo relying party (development mode).
//! - [`metrics`]: Prometheus metrics and `/metrics`.
//! - [`config`]: layered configuration.
//! - [`error`], [`http`], [`pages`]: error mapping, request helpers, HTML.

pub mod admin;
pub mod config;
pub mod demo;
pub mod email;
pub mod error;
pub mod federation;
pub mod hosted;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod mfa;
pub mod oidc;
pub mod otp_pages;
pub mod pages;
pub mod passkeys;
pub mod phone;
pub mod portal;
pub mod server;
pub mod sms;

/// Chooses rustls's process-wide crypto provider. Both ring and aws-lc-rs are in the
/// dependency tree, and rustls refuses to guess; calling this twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
