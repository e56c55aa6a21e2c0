//! Identity verification through India's rails, as pure functions: no async, no store, no
//! HTTP. The engine's `verify/` flows call these and keep only what proves the result.
//!
//! Aadhaar Paperless Offline e-KYC, in the order an upload goes through it:
//! - [`zip`]: the share-code ZIP UIDAI hands out (or a bare XML), opened in memory with hard
//!   limits on the upload, the entries and the inflated size;
//! - [`xml`]: the `OfflinePaperlessKyc` XML parsed with DTDs (so any entity) refused and its
//!   size and depth bounded;
//! - [`dsig`]: the enveloped XML signature checked against the UIDAI certificates the
//!   deployment configured (parsing limits and canonicalisation from `tollgate-xmldsig`,
//!   re-exported as [`c14n`]);
//! - [`document`]: the few fields read from the signed document (last four digits, time,
//!   name, date of birth, the mobile and email hashes), its age, and the hash checks;
//! - [`names`]: the documented comparison of the document's name with the profile's.
//!
//! [`verify_offline_kyc`] runs them in that order. [`testkit`] (feature `testkit`) makes
//! signed documents and share-code ZIPs for tests.
//!
//! Truecaller: [`truecaller`] checks the signed profile an app receives from Truecaller's
//! SDK against the deployment's pinned keys, and gives only the verified number.
//!
//! Nothing here logs, and the parsed document's `Debug` shows no personal data.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod document;
pub mod dsig;
pub mod names;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod truecaller;
pub mod xml;
pub mod zip;

pub use tollgate_xmldsig::c14n;

use tollgate_vocab::clock::UnixTime;

pub use document::{DocumentError, OfflineKyc};
pub use dsig::{DsigError, TrustedCertificates};
pub use xml::{XmlError, XmlLimits};
pub use zip::{ZipError, ZipLimits};

/// Everything that can reject an Aadhaar offline e-KYC upload, by stage.
#[derive(Debug, thiserror::Error)]
pub enum KycError {
    /// Opening the upload.
    #[error(transparent)]
    Zip(#[from] ZipError),
    /// Parsing the XML.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// Checking the signature.
    #[error(transparent)]
    Dsig(#[from] DsigError),
    /// Reading and checking the signed document.
    #[error(transparent)]
    Document(#[from] DocumentError),
}

impl KycError {
    /// The stable machine code (`bad_signature`, `too_old`, `wrong_share_code`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Zip(e) => e.code(),
            Self::Xml(e) => e.code(),
            Self::Dsig(e) => e.code(),
            Self::Document(e) => e.code(),
        }
    }
}

/// The limits of one verification.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// The upload and the ZIP.
    pub zip: ZipLimits,
    /// The XML.
    pub xml: XmlLimits,
}

/// Verifies an Aadhaar Paperless Offline e-KYC upload (the share-code ZIP or the XML in it)
/// and returns the signed document's few fields, once its signature is checked against
/// `certificates` and its age against `max_age_secs` at `now`.
///
/// Checks run cheapest first: no certificate configured is refused before the upload is
/// even opened.
pub fn verify_offline_kyc(
    upload: &[u8],
    share_code: &str,
    certificates: &TrustedCertificates,
    now: UnixTime,
    max_age_secs: u64,
    limits: &Limits,
) -> Result<OfflineKyc, KycError> {
    if certificates.is_empty() {
        return Err(DsigError::NoCertificates.into());
    }
    let bytes = zip::open_upload(upload, share_code, &limits.zip)?;
    let text = xml::as_text(&bytes, &limits.xml)?;
    let doc = xml::parse(text, &limits.xml)?;
    // The generation time decides which certificate was valid when UIDAI signed; it is
    // read before the signature is checked but trusted only after.
    let generated_at = document::generated_at(&doc)?;
    dsig::verify_enveloped(&doc, certificates, generated_at)?;
    let kyc = OfflineKyc::from_signed(&doc)?;
    kyc.check_age(now, max_age_secs)?;
    Ok(kyc)
}

#[cfg(test)]
mod tests;
