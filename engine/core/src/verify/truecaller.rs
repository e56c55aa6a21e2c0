//! Truecaller, the signed-profile rail: an app that signed its user in with Truecaller's
//! SDK hands over the signed profile (`POST {issuer}/api/verify/truecaller`, with the
//! user's access token carrying the scope `verify`). The signature is checked against the
//! tenant's pinned keys ([`tollgate_kyc::truecaller::verify`]); the verified number becomes
//! a `Phone` factor of the account, usable for phone sign-in, and a `truecaller`
//! verification is kept (method, time, the profile's request time: no name, no number
//! beyond what the Phone factor already holds, sealed).
//!
//! A refusal (bad signature, too old, another request's nonce, a number on another
//! account...) stores nothing and appends the failure event `verify.truecaller` with its
//! code. The number never reaches an event or a log unmasked.

pub use tollgate_kyc::truecaller::SignedProfile;
use tollgate_kyc::truecaller::{self as tc, TruecallerError};

use super::Verify;
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{TenantId, UserId};
use crate::model::FactorKind;
use crate::model::verification::{NameMatch, Verification, VerificationMethod};
use crate::runtime::delivery::Channel;

/// The scope an access token needs to hand over verification evidence.
pub const VERIFY_SCOPE: &str = "verify";

/// What the app sends, as the SDK gave it to the app.
#[derive(Clone, Copy, Debug)]
pub struct TruecallerRequest<'a> {
    /// The signed profile.
    pub signed: SignedProfile<'a>,
    /// The `requestNonce` the app set, if it wants it checked.
    pub nonce: Option<&'a str>,
}

/// A verification done: what the caller is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TruecallerVerified {
    /// The kept verification's id.
    pub id: String,
    /// The number, masked (`+91********10`).
    pub phone_masked: String,
    /// Whether the number was new on the account (else it was already its Phone factor).
    pub phone_added: bool,
}

/// A refusal the caller can act on: a stable code and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// `bad_signature`, `expired`, `phone_unavailable`, ...
    pub code: &'static str,
    /// What to tell the user.
    pub message: String,
}

impl From<TruecallerError> for Refusal {
    fn from(e: TruecallerError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

fn invalid_token(why: &'static str) -> EngineError {
    EngineError::oauth(C::InvalidToken, why)
}

impl Verify<'_> {
    /// The user a bearer token for `POST {issuer}/api/verify/truecaller` speaks for:
    /// an access token of this tenant about a user, with the scope [`VERIFY_SCOPE`].
    pub async fn api_user(&self, tenant: &TenantId, bearer: &str) -> EngineResult<UserId> {
        self.oauth().bearer_user(tenant, bearer, VERIFY_SCOPE).await
    }

    /// Verifies a Truecaller signed profile for `user`. `Ok(Err(_))` is a refusal of the
    /// evidence (nothing stored, the failure audited); `Err(_)` is everything else.
    pub async fn truecaller(
        &self,
        tenant: &TenantId,
        user: &UserId,
        req: &TruecallerRequest<'_>,
        meta: &RequestMeta,
    ) -> EngineResult<Result<TruecallerVerified, Refusal>> {
        let t = self.tenant(tenant).await?;
        self.user(tenant, user)
            .await?
            .ok_or_else(|| invalid_token("the access token's user is gone"))?;
        let settings = &t.verification.truecaller;
        let now = self.now();
        let profile = match tc::verify(
            &req.signed,
            &settings.keys,
            now,
            settings.max_age_secs,
            req.nonce,
        ) {
            Ok(p) => p,
            Err(e) => {
                self.failed(&t, user, VerificationMethod::Truecaller, e.code(), meta)
                    .await?;
                return Ok(Err(e.into()));
            }
        };
        let added = match self
            .signin()
            .attach_phone(tenant, user, &profile.phone, Channel::Sms)
            .await
        {
            Ok(added) => added,
            // On another account: the same answer whoever holds it.
            Err(EngineError::Invalid(message)) => {
                self.failed(
                    &t,
                    user,
                    VerificationMethod::Truecaller,
                    "phone_unavailable",
                    meta,
                )
                .await?;
                return Ok(Err(Refusal {
                    code: "phone_unavailable",
                    message,
                }));
            }
            Err(e) => return Err(e),
        };
        if added {
            self.signin()
                .factor_event(tenant, user, "mfa.enrolled", FactorKind::Phone, meta)
                .await?;
        }
        let v = truecaller_verification(now, profile.requested_at);
        let id = v.id.clone();
        self.record(&t, user, v, meta).await?;
        Ok(Ok(TruecallerVerified {
            id,
            phone_masked: profile.phone.masked(),
            phone_added: added,
        }))
    }
}

/// What is kept of a Truecaller verification: when, and when the profile was asked for.
pub(crate) fn truecaller_verification(now: u64, requested_at: u64) -> Verification {
    Verification {
        id: crate::crypto::random_token::<12>(),
        method: VerificationMethod::Truecaller,
        verified_at: now,
        issued_at: Some(requested_at),
        // Truecaller's names are the user's own words, not evidence: not compared, not kept.
        name_match: NameMatch::None,
        aadhaar_last4: None,
        name_hash: None,
        dob_hash: None,
        mobile_match: None,
        email_match: None,
    }
}
