//! Identity verification through India's rails (Aadhaar Paperless Offline e-KYC,
//! DigiLocker, Truecaller): what a tenant allows and trusts, and the little that is kept
//! of each result. Data is minimised by design: a record holds the least that proves the
//! result, sealed under the user's data key so deleting the user erases it.

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::ids::{TenantId, UserId};

/// A tenant's verification settings, in the tenant record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VerificationSettings {
    /// Aadhaar Paperless Offline e-KYC.
    pub aadhaar: AadhaarSettings,
    /// Truecaller's signed profiles.
    pub truecaller: TruecallerSettings,
    /// Who receives the results as claims.
    pub release: ClaimRelease,
}

/// Aadhaar Paperless Offline e-KYC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AadhaarSettings {
    /// UIDAI's signing certificates (PEM), several during a rollover. None is compiled
    /// in: with none configured, Aadhaar verification answers that it is not set up.
    pub certificates: Vec<String>,
    /// The oldest document accepted, in seconds since its generation (`referenceId`).
    pub max_age_secs: u64,
    /// Also keep a keyed hash of the date of birth, for a later match.
    pub keep_dob_hash: bool,
    /// Refuse documents generated outside the signing certificate's validity dates. Off
    /// by default: the certificates are pinned (trusted by their key), and UIDAI has
    /// signed documents with a certificate past its `notAfter`.
    pub check_certificate_dates: bool,
}

impl Default for AadhaarSettings {
    fn default() -> Self {
        Self {
            certificates: Vec::new(),
            // UIDAI's own guidance: service providers should not accept documents older
            // than three days.
            max_age_secs: 3 * 24 * 3600,
            keep_dob_hash: false,
            check_certificate_dates: false,
        }
    }
}

/// Truecaller: the public keys its signed profile payloads are checked against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TruecallerSettings {
    /// Pinned keys, by id.
    pub keys: Vec<TruecallerKey>,
    /// The oldest payload accepted, seconds after its `requestTime`.
    pub max_age_secs: u64,
}

impl Default for TruecallerSettings {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            max_age_secs: 600,
        }
    }
}

/// One pinned Truecaller public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruecallerKey {
    /// The key id the deployment knows it by.
    pub id: String,
    /// The public key: base64 DER SubjectPublicKeyInfo (as Truecaller publishes it) or
    /// PEM.
    pub public_key: String,
}

/// Which clients may receive verification results as claims (`verified_claims`, `kyc`),
/// and under which scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClaimRelease {
    /// Client ids; empty releases them to none.
    pub clients: Vec<String>,
}

/// How an identity was verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// An Aadhaar Paperless Offline e-KYC document, signed by UIDAI.
    AadhaarOffline,
    /// DigiLocker sign-in.
    Digilocker,
    /// A Truecaller signed profile or its OAuth flow.
    Truecaller,
}

impl VerificationMethod {
    /// Its name in claims and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AadhaarOffline => "aadhaar_offline",
            Self::Digilocker => "digilocker",
            Self::Truecaller => "truecaller",
        }
    }
}

/// How the name on the document compared with the profile's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameMatch {
    /// The same after normalisation.
    Match,
    /// Compatible (initials, a missing middle name).
    Partial,
    /// Different, or the profile has no name.
    None,
}

impl NameMatch {
    /// Its name in claims and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Partial => "partial",
            Self::None => "none",
        }
    }
}

/// What is kept of one verification (opened). Never a name, date of birth, address,
/// photo, document or share code: only what proves the result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Random id.
    pub id: String,
    /// How.
    pub method: VerificationMethod,
    /// When it was verified.
    pub verified_at: UnixTime,
    /// When the evidence was issued (the document's generation time), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<UnixTime>,
    /// The name comparison.
    pub name_match: NameMatch,
    /// The last four digits of the Aadhaar number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aadhaar_last4: Option<String>,
    /// Keyed hash (per-tenant HMAC) of the normalised name, for a later match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_hash: Option<String>,
    /// Keyed hash of the date of birth, when the tenant asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dob_hash: Option<String>,
    /// Whether the mobile number the user typed matched the document's hash (`None`:
    /// not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_match: Option<bool>,
    /// Whether the email typed matched the document's hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_match: Option<bool>,
}

/// A verification as stored: everything but the ids and time sealed under the user's
/// data key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationRecord {
    /// Owner.
    pub tenant: TenantId,
    /// Whose.
    pub user_id: UserId,
    /// Random id.
    pub id: String,
    /// When it was verified.
    pub created_at: UnixTime,
    /// The sealed [`Verification`] (base64 of AES-256-GCM nonce, ciphertext and tag).
    pub sealed: String,
}

impl std::fmt::Debug for VerificationRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationRecord")
            .field("tenant", &self.tenant)
            .field("user_id", &self.user_id)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
