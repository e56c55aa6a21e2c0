//! The SAML 2.0 identity provider's settings in the tenant record: the service providers
//! registered, and the IdP's own signing key.
//!
//! The signing key is a dedicated RSA-2048 key, not the tenant's JWT signing key: JWT keys
//! rotate on their own schedule, while SPs pin the certificate from the IdP's metadata, so
//! a SAML key changes only when an admin says so. Its private half is sealed under the
//! master key; its certificate is self-signed and published in the metadata.

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;

/// Most SPs per tenant: the list is read from the (cached) tenant record.
pub const MAX_SPS: usize = 100;

/// A tenant's SAML settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamlSettings {
    /// The registered service providers.
    pub sps: Vec<ServiceProvider>,
    /// The IdP's signing key, made when the first SP is registered.
    pub key: Option<SamlKey>,
}

impl SamlSettings {
    /// Whether nothing is set (the tenant record leaves the field out).
    pub fn is_empty(&self) -> bool {
        self.sps.is_empty() && self.key.is_none()
    }

    /// The SP with this entity ID.
    pub fn sp(&self, entity_id: &str) -> Option<&ServiceProvider> {
        self.sps.iter().find(|s| s.entity_id == entity_id)
    }
}

/// The IdP's signing key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlKey {
    /// The PKCS#8 private key sealed under the master key (base64url).
    pub sealed_private: String,
    /// The self-signed certificate, DER, base64 (standard).
    pub certificate: String,
    /// When it was made.
    pub created_at: UnixTime,
}

impl std::fmt::Debug for SamlKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlKey")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// How the user is named to an SP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameIdFormat {
    /// A pairwise, stable, opaque id: the same user gets a different one at each SP.
    #[default]
    Persistent,
    /// The user's email address.
    Email,
}

/// One claim sent as a SAML attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeMapping {
    /// The claim (`email`, `name`, `given_name`, `family_name`, `phone_number`, `sub`).
    pub claim: String,
    /// The attribute's `Name` at the SP (a URI or a plain name).
    pub attribute: String,
}

/// A registered service provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceProvider {
    /// Its entity ID (the `Issuer` of its requests, the `Audience` of assertions).
    pub entity_id: String,
    /// Its AssertionConsumerService URLs (HTTP-POST), matched exactly; the first is the
    /// default.
    pub acs_urls: Vec<String>,
    /// Its SingleLogoutService URL (HTTP-POST), if it takes part in logout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_url: Option<String>,
    /// Its signing certificate (base64 DER): when set, its requests must be signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// Sign the assertion (on by default; SAML's profile needs the assertion or the
    /// response signed, and this IdP signs at least one).
    #[serde(default = "yes")]
    pub sign_assertion: bool,
    /// Sign the response too.
    #[serde(default)]
    pub sign_response: bool,
    /// How the user is named.
    #[serde(default)]
    pub name_id_format: NameIdFormat,
    /// The claims sent as attributes.
    #[serde(default)]
    pub attributes: Vec<AttributeMapping>,
    /// When it was registered.
    pub created_at: UnixTime,
}

fn yes() -> bool {
    true
}
