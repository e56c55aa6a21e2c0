//! SAML 2.0 for Tollgate's identity provider, as pure functions: no async, no store, no
//! HTTP. The engine's `saml/` flows call these with the time and keys they hold.
//!
//! - [`binding`]: the HTTP-Redirect binding (DEFLATE + base64 in the query, the query's
//!   own RSA-SHA256 signature) and the HTTP-POST binding (base64 in a form), with limits;
//! - [`request`]: `AuthnRequest` and `LogoutRequest` read from the XML (parsed by
//!   `tollgate-xmldsig`: no DTD, bounded), and an embedded signature checked;
//! - [`response`]: the `Response` with its `Assertion` (Audience, Recipient, Destination,
//!   InResponseTo, NotBefore/NotOnOrAfter, SubjectConfirmation), the `LogoutResponse`,
//!   signed with exclusive C14N and RSA-SHA256;
//! - [`metadata`]: the IdP's metadata document, and an SP's metadata read;
//! - [`time`]: `xs:dateTime` in UTC.
//!
//! Nothing here logs; callers audit.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod binding;
pub mod metadata;
pub mod request;
pub mod response;
pub mod time;

pub use tollgate_xmldsig::{DsigError, VerifyingKey, XmlError, XmlLimits};

/// The protocol namespace (`samlp`).
pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The assertion namespace (`saml`).
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The metadata namespace (`md`).
pub const METADATA_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// The HTTP-Redirect binding.
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The HTTP-POST binding.
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// NameID format: a pairwise, stable, opaque identifier.
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// NameID format: the email address.
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// NameID format: the SP does not mind.
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
/// Attribute names are URIs.
pub const ATTRNAME_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
/// Attribute names are plain strings.
pub const ATTRNAME_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
/// The bearer subject confirmation.
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// Authentication by password over a protected transport.
pub const AC_PASSWORD_PROTECTED: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// Top-level status codes (SAML core 3.2.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusCode {
    /// The request succeeded.
    Success,
    /// The request could not be performed because of an error on the requester's part.
    Requester,
    /// The request could not be performed because of an error on the responder's part.
    Responder,
    /// The SAML version of the request is not supported.
    VersionMismatch,
}

impl StatusCode {
    /// The URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Success => "urn:oasis:names:tc:SAML:2.0:status:Success",
            Self::Requester => "urn:oasis:names:tc:SAML:2.0:status:Requester",
            Self::Responder => "urn:oasis:names:tc:SAML:2.0:status:Responder",
            Self::VersionMismatch => "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
        }
    }
}

/// Second-level status codes used here.
pub mod substatus {
    /// The NameID format asked for is not supported.
    pub const INVALID_NAMEID_POLICY: &str =
        "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
    /// The request was refused (signature, replay).
    pub const REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
    /// `IsPassive` and no session.
    pub const NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
    /// Logout done for some sessions only.
    pub const PARTIAL_LOGOUT: &str = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout";
}

/// Why a SAML message was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SamlError {
    /// The message parameter is not base64.
    #[error("The SAML message is not valid base64.")]
    BadBase64,
    /// The Redirect binding's message does not inflate (or inflates past the limit).
    #[error("The SAML message is not valid DEFLATE data, or too large once inflated.")]
    BadDeflate,
    /// The message parameter is missing.
    #[error("The SAML message is missing.")]
    Missing,
    /// The XML was refused (DTD, size, depth, malformed).
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// Not the expected message, or a required part is missing.
    #[error("The SAML message is not a valid {0}.")]
    Invalid(&'static str),
    /// Version other than 2.0.
    #[error("Only SAML 2.0 is supported.")]
    Version,
    /// A signature was refused.
    #[error("The SAML message's signature was refused: {0}")]
    Signature(#[from] DsigError),
    /// The Redirect binding's signature algorithm is not accepted.
    #[error("The SAML message's signature algorithm is not accepted.")]
    SigAlg,
    /// An SP's metadata cannot be used.
    #[error("The SAML metadata cannot be used: {0}")]
    Metadata(&'static str),
}

impl SamlError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadBase64 => "bad_base64",
            Self::BadDeflate => "bad_deflate",
            Self::Missing => "missing_message",
            Self::Xml(XmlError::DtdRefused) => "dtd_refused",
            Self::Xml(XmlError::TooLarge) => "too_large",
            Self::Xml(XmlError::TooDeep) => "too_deep",
            Self::Xml(_) => "malformed_xml",
            Self::Invalid(_) => "invalid_message",
            Self::Version => "version_mismatch",
            Self::Signature(DsigError::NoSignature) => "signature_missing",
            Self::Signature(_) => "bad_signature",
            Self::SigAlg => "bad_signature",
            Self::Metadata(_) => "bad_metadata",
        }
    }
}

/// Limits on an incoming SAML message.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest XML (after base64, after inflating).
    pub xml: XmlLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            xml: XmlLimits {
                max_bytes: 64 * 1024,
                max_nodes: 2_000,
                max_depth: 12,
            },
        }
    }
}

/// Escapes text for element content or a double-quoted attribute.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\n' => out.push_str("&#xA;"),
            '\t' => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
