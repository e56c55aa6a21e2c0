//! Aadhaar Paperless Offline e-KYC: the tenant's settings, the checks of `tollgate_kyc`, the
//! name compared with the profile's, and then [`Verify::record`] (or [`Verify::failed`]).
//!
//! Everything read from the document lives in memory for the length of this call. What
//! is kept is a [`Verification`]: the last four digits, the generation time, the name
//! match, keyed hashes of the normalised name (and of the date of birth if the tenant
//! asks) and whether the typed mobile and email matched. The XML, photo, address, full
//! name, date of birth and share code are never stored, logged or put in events.

use tollgate_kyc::names;
use tollgate_kyc::{Limits, OfflineKyc, TrustedCertificates};

use super::Verify;
use crate::crypto::random_token;
use crate::engine::RequestMeta;
use crate::error::EngineResult;
use crate::ids::UserId;
use crate::model::Tenant;
use crate::model::verification::{AadhaarSettings, NameMatch, Verification, VerificationMethod};

/// Purpose of the keyed hash of the normalised name.
pub const NAME_HASH_PURPOSE: &str = "kyc-name";
/// Purpose of the keyed hash of the date of birth.
pub const DOB_HASH_PURPOSE: &str = "kyc-dob";

/// What the user hands over: the file from UIDAI, its share code, and optionally the
/// mobile number and email to check against the document's hashes.
#[derive(Clone, Copy)]
pub struct AadhaarUpload<'a> {
    /// The ZIP downloaded from UIDAI, or the XML in it.
    pub file: &'a [u8],
    /// The share code the user chose when downloading it (the ZIP's password).
    pub share_code: &'a str,
    /// A mobile number to check, if typed.
    pub mobile: Option<&'a str>,
    /// An email address to check, if typed.
    pub email: Option<&'a str>,
}

impl std::fmt::Debug for AadhaarUpload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AadhaarUpload")
            .field("file_len", &self.file.len())
            .finish_non_exhaustive()
    }
}

/// Why a document was refused: a stable machine code (the catalogue's message id is
/// `kyc-error-<code>`) and an English message for APIs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AadhaarRejected {
    /// `bad_signature`, `too_old`, `wrong_share_code`, `zip_bomb`, ...
    pub code: &'static str,
    /// User-presentable, in English.
    pub message: String,
}

impl From<tollgate_kyc::KycError> for AadhaarRejected {
    fn from(e: tollgate_kyc::KycError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// The limits applied to an upload (the gateway bounds its reading of the request by
/// `max_upload`).
pub fn limits() -> Limits {
    Limits::default()
}

/// The name a profile gives: `name`, else `given_name family_name`.
fn profile_name(user: &crate::model::User) -> String {
    if let Some(name) = user.name.as_deref().filter(|n| !n.trim().is_empty()) {
        return name.to_owned();
    }
    let part = |key: &str| user.profile.get(key).map(String::as_str).unwrap_or("");
    format!("{} {}", part("given_name"), part("family_name"))
        .trim()
        .to_owned()
}

/// A typed field, trimmed; `None` when left empty.
fn typed(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

fn check(
    settings: &AadhaarSettings,
    upload: &AadhaarUpload<'_>,
    now: u64,
) -> Result<OfflineKyc, AadhaarRejected> {
    let trusted = TrustedCertificates::from_pem(&settings.certificates)
        .map_err(tollgate_kyc::KycError::from)?
        .checking_dates(settings.check_certificate_dates);
    Ok(tollgate_kyc::verify_offline_kyc(
        upload.file,
        upload.share_code,
        &trusted,
        now,
        settings.max_age_secs,
        &limits(),
    )?)
}

impl Verify<'_> {
    /// Verifies `user`'s Aadhaar offline e-KYC upload against the tenant's settings and
    /// keeps the result. The outer error is the engine's (store, user gone); the inner one
    /// a refused document, already recorded as a failure event.
    pub async fn aadhaar(
        &self,
        tenant: &Tenant,
        user: &UserId,
        upload: AadhaarUpload<'_>,
        meta: &RequestMeta,
    ) -> EngineResult<Result<Verification, AadhaarRejected>> {
        let method = VerificationMethod::AadhaarOffline;
        let settings = &tenant.verification.aadhaar;
        let now = self.now();
        let kyc = match check(settings, &upload, now) {
            Ok(kyc) => kyc,
            Err(rejected) => {
                self.failed(tenant, user, method, rejected.code, meta)
                    .await?;
                return Ok(Err(rejected));
            }
        };
        let profile = self
            .user(&tenant.id, user)
            .await?
            .ok_or(crate::error::EngineError::NotFound("user"))?;
        let name_match = match profile_name(&profile) {
            name if name.is_empty() => NameMatch::None,
            name => names::compare(kyc.name(), &name),
        };
        let v = Verification {
            id: random_token::<12>(),
            method,
            verified_at: now,
            issued_at: Some(kyc.generated_at()),
            name_match,
            aadhaar_last4: Some(kyc.last4().to_owned()),
            name_hash: Some(self.keyed_hash(
                &tenant.id,
                NAME_HASH_PURPOSE,
                &names::normalised(kyc.name()),
            )),
            dob_hash: settings
                .keep_dob_hash
                .then(|| self.keyed_hash(&tenant.id, DOB_HASH_PURPOSE, kyc.dob())),
            mobile_match: typed(upload.mobile)
                .and_then(|m| kyc.mobile_matches(m, upload.share_code)),
            email_match: typed(upload.email).and_then(|e| kyc.email_matches(e)),
        };
        self.record(tenant, user, v.clone(), meta).await?;
        Ok(Ok(v))
    }
}
