//! Tollgate's engine: the identity domain, with no HTTP in it.
//!
//! - [`engine`]: the [`Engine`] handle, its configuration, metrics and audit helpers.
//! - [`authorize`]: validating authorization requests, sign-in/consent steps, codes.
//! - [`login`]: password sign-in, sign-up and SSO sessions.
//! - [`mfa`]: second factors (TOTP, recovery codes), the MFA policy and step-up.
//! - [`federation`]: upstream OIDC and OAuth 2.0 providers, account linking, JIT users.
//! - [`passkeys`]: WebAuthn registration, passkey sign-in and passkeys as a second factor.
//! - [`grants`]: the token endpoint (authorization code + PKCE, rotating refresh tokens).
//! - [`tokens`]: userinfo, revocation, introspection, logout.
//! - [`admin`]: tenants, clients, users, key rotation, the demo set-up.
//! - [`discovery`]: discovery and JWKS documents, rendered once.
//! - [`shard`]: the per-tenant actors that own sessions and refresh chains.
//! - [`keys`]: signing keys, sealed at rest; JWT signing and verification.
//! - [`otp`]: one-time codes and links (hashed, single use, limited tries and sends).
//! - [`email_codes`]: passwordless sign-in, magic links, address proof, password reset.
//! - [`phone`]: E.164 numbers; phone enrolment, second factor and sign-in by code.
//! - [`delivery`]: the mail and SMS/WhatsApp sender traits and the send queue.
//! - [`password`]: argon2id on a bounded pool.
//! - [`privacy`]: data-subject export.
//! - [`purposes`]: consent purposes per tenant and users' grants.
//! - [`profiling`]: progressive profiling (further profile fields at later sign-ins).
//! - [`portal`]: account portal changes: email, phone, password, deleting the account.
//! - [`throttle`]: failed sign-ins per account and address, and the 429 past the limit.
//! - [`store`]: the storage traits, the embedded backend and the conformance suite.
//! - [`model`], [`ids`], [`crypto`], [`clock`], [`error`]: the vocabulary.

pub mod admin;
pub mod authorize;
pub mod clock;
pub mod crypto;
pub mod delivery;
pub mod discovery;
pub mod email_codes;
pub mod engine;
pub mod error;
pub mod federation;
pub mod grants;
pub mod ids;
pub mod keys;
pub mod login;
pub mod mfa;
pub mod model;
pub mod otp;
pub mod passkeys;
pub mod password;
pub mod phone;
pub mod portal;
pub mod privacy;
pub mod profiling;
pub mod purposes;
pub mod shard;
pub mod store;
pub mod throttle;
pub mod tokens;
mod vault;

pub use engine::{Engine, EngineConfig, EngineMetrics, RequestMeta};
pub use error::{EngineError, EngineResult, OAuthError, OAuthErrorCode};
