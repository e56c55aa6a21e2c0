//! The XML groundwork for signed documents (Aadhaar offline e-KYC, SAML), as pure
//! functions: no async, no store, no HTTP.
//!
//! - [`xml`]: untrusted XML parsed with DTDs (so any entity) refused and its size, node
//!   count and depth bounded;
//! - [`c14n`]: inclusive and exclusive Canonical XML 1.0 over the parsed tree;
//! - [`dsig`]: enveloped XML signatures on an element named by its ID: verified against
//!   configured keys only, wrapping-resistant, and made with RSA-SHA256.
//!
//! [`testkit`] (feature `testkit`) makes an RSA key and certificate that signs, for tests.
//! What is specific to one kind of document (UIDAI's policy, SAML's messages) lives with
//! its users (`tollgate-kyc`, `tollgate-saml`).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod c14n;
pub mod dsig;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod xml;

pub use c14n::{C14nError, Mode};
pub use dsig::{DsigError, VerifyingKey};
pub use xml::{XmlError, XmlLimits};

#[cfg(test)]
mod tests;
