//! After a sign-in or link through the `digilocker` preset: a `digilocker` verification is
//! kept (`engine.verify()`), as identity evidence for `verified_claims`.
//!
//! DigiLocker's userinfo gives the name it verified against Aadhaar; it is compared with the
//! profile's name (`tollgate_kyc::names`, the documented normalisation: match, partial or
//! none) and only a keyed hash of the normalised name is kept, never the name, date of
//! birth or any other identifier DigiLocker returns. Without a name from DigiLocker, or a
//! profile name, the match is `none`.
//!
//! One verification is kept when the identity is linked (the first sign-in, or a link to
//! an existing account), and again at a later sign-in once the newest is older than
//! [`REFRESH_SECS`]: a user who signs in daily does not pile up a record a day, and the
//! verification time stays within a month of the last DigiLocker sign-in. A failure to
//! keep it is logged and never stops the sign-in.

use super::Federation;
use super::types::UpstreamIdentity;
use crate::engine::RequestMeta;
use crate::error::EngineResult;
use crate::ids::TenantId;
use crate::model::User;
use crate::model::verification::{NameMatch, Verification, VerificationMethod};

/// The preset whose sign-ins count as identity verification.
pub const DIGILOCKER_PRESET: &str = "digilocker";

/// A newer DigiLocker verification is kept at sign-in once the newest is this old.
pub const REFRESH_SECS: u64 = 30 * 86_400;

impl Federation<'_> {
    /// Keeps a `digilocker` verification of `user` if `provider` is a DigiLocker
    /// connector (and none was kept in the last [`REFRESH_SECS`]). Costs one cached
    /// connector read for other connectors.
    pub(super) async fn digilocker_verification(
        &self,
        tenant: &TenantId,
        user: &User,
        provider: &str,
        identity: &UpstreamIdentity,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        match self.connector(tenant, provider).await? {
            Some(c) if c.preset == DIGILOCKER_PRESET => {}
            _ => return Ok(()),
        }
        if let Err(e) = self.keep_digilocker(tenant, user, identity, meta).await {
            // The user signed in at DigiLocker all the same; the evidence is kept at the
            // next sign-in.
            tracing::warn!(error = %e, "digilocker verification not kept");
        }
        Ok(())
    }

    async fn keep_digilocker(
        &self,
        tenant: &TenantId,
        user: &User,
        identity: &UpstreamIdentity,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let now = self.now();
        let verify = self.verify();
        let recent = verify.list(tenant, &user.id).await?.iter().any(|v| {
            v.method == VerificationMethod::Digilocker
                && now.saturating_sub(v.verified_at) < REFRESH_SECS
        });
        if recent {
            return Ok(());
        }
        let upstream = identity.name.as_deref().map(str::trim).unwrap_or("");
        let profile = user.name.as_deref().map(str::trim).unwrap_or("");
        let name_match = match (upstream, profile) {
            ("", _) | (_, "") => NameMatch::None,
            (u, p) => tollgate_kyc::names::compare(u, p),
        };
        let name_hash = (!upstream.is_empty()).then(|| {
            verify.keyed_hash(
                tenant,
                crate::verify::NAME_HASH_PURPOSE,
                &tollgate_kyc::names::normalised(upstream),
            )
        });
        let t = self.tenant(tenant).await?;
        let v = Verification {
            id: String::new(),
            method: VerificationMethod::Digilocker,
            verified_at: now,
            issued_at: None,
            name_match,
            aadhaar_last4: None,
            name_hash,
            dob_hash: None,
            mobile_match: None,
            email_match: None,
        };
        verify.record(&t, &user.id, v, meta).await
    }
}
