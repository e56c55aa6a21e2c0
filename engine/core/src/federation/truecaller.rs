//! After a sign-in or link through the `truecaller` preset: the number Truecaller's
//! userinfo says it verified becomes a `Phone` factor of the account (usable for phone
//! sign-in), and a `truecaller` verification is kept, as when an app hands over a signed
//! profile (`verify/truecaller.rs`).
//!
//! The preset keeps `phone_number`, `phone_number_verified` and
//! `phone_number_country_code` from userinfo (its `keep` list), so they reach here in the
//! mapped identity (and, like everything a connector keeps, the link's sealed profile).
//! A number that cannot be used (unverified, unreadable, another account's) never stops
//! the sign-in: it is audited as a failed `verify.truecaller` and the user signs in; a
//! failure to keep it (the store) is logged, and the next sign-in tries again.

use super::Federation;
use super::types::UpstreamIdentity;
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::TenantId;
use crate::model::phone::PhoneNumber;
use crate::model::verification::{NameMatch, Verification, VerificationMethod};
use crate::model::{FactorKind, User};
use crate::runtime::delivery::Channel;

/// The preset whose userinfo numbers are taken as verified.
pub const TRUECALLER_PRESET: &str = "truecaller";

/// The number in Truecaller's userinfo, which its "Fetching User Profile" page shows as
/// `phone_number` in digits with the country's dialling code and no `+`
/// (`91xxxxxxxxxx`), beside `phone_number_country_code` (`IN`). A leading `+` is taken
/// as given; digits alone are read in the country code's region (libphonenumber strips
/// that region's dialling code), or as international digits when no region is given.
fn userinfo_phone(number: &str, country: Option<&str>) -> Option<PhoneNumber> {
    let s = number.trim();
    if s.starts_with('+') {
        return PhoneNumber::parse(s, None).ok();
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let region = country
        .map(str::trim)
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()));
    match region {
        Some(r) => PhoneNumber::parse(s, Some(r)),
        None => PhoneNumber::parse(&format!("+{s}"), None),
    }
    .ok()
}

impl Federation<'_> {
    /// Gives `user` the number Truecaller verified, if `provider` is a Truecaller
    /// connector and its userinfo says so. Costs nothing for other connectors (no
    /// `phone_number` kept, no read).
    pub(super) async fn truecaller_phone(
        &self,
        tenant: &TenantId,
        user: &User,
        provider: &str,
        identity: &UpstreamIdentity,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let Some(number) = identity.extra.get("phone_number").and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        }) else {
            return Ok(());
        };
        if let Err(e) = self
            .keep_truecaller_phone(tenant, user, provider, &number, identity, meta)
            .await
        {
            // The user signed in at Truecaller all the same; the number is taken at the
            // next sign-in.
            tracing::warn!(error = %e, "truecaller number not kept");
        }
        Ok(())
    }

    async fn keep_truecaller_phone(
        &self,
        tenant: &TenantId,
        user: &User,
        provider: &str,
        number: &str,
        identity: &UpstreamIdentity,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        match self.connector(tenant, provider).await? {
            Some(c) if c.preset == TRUECALLER_PRESET => {}
            _ => return Ok(()),
        }
        let t = self.tenant(tenant).await?;
        let verify = self.verify();
        let fail = |code: &'static str| {
            verify.failed(&t, &user.id, VerificationMethod::Truecaller, code, meta)
        };
        // OIDC Core §5.1: only `true` says the number was verified.
        if identity.extra.get("phone_number_verified") != Some(&serde_json::Value::Bool(true)) {
            return fail("phone_not_verified").await;
        }
        let country = identity
            .extra
            .get("phone_number_country_code")
            .and_then(|v| v.as_str());
        let Some(phone) = userinfo_phone(number, country) else {
            return fail("malformed").await;
        };
        let signin = self.signin();
        match signin
            .attach_phone(tenant, &user.id, &phone, Channel::Sms)
            .await
        {
            Ok(true) => {}
            // Already the account's: nothing new to keep.
            Ok(false) => return Ok(()),
            Err(EngineError::Invalid(_)) => return fail("phone_unavailable").await,
            Err(e) => return Err(e),
        }
        signin
            .factor_event(tenant, &user.id, "mfa.enrolled", FactorKind::Phone, meta)
            .await?;
        let now = self.now();
        let v = Verification {
            id: String::new(),
            method: VerificationMethod::Truecaller,
            verified_at: now,
            issued_at: None,
            name_match: NameMatch::None,
            aadhaar_last4: None,
            name_hash: None,
            dob_hash: None,
            mobile_match: None,
            email_match: None,
        };
        verify.record(&t, &user.id, v, meta).await
    }
}

#[cfg(test)]
mod tests {
    use super::userinfo_phone;

    #[test]
    fn userinfo_numbers_are_read_with_or_without_plus() {
        let ok = |n: &str, c: Option<&str>| userinfo_phone(n, c).map(|p| p.as_str().to_owned());
        assert_eq!(
            ok("919876543210", Some("IN")).as_deref(),
            Some("+919876543210")
        );
        assert_eq!(
            ok("9876543210", Some("in")).as_deref(),
            Some("+919876543210")
        );
        assert_eq!(ok("+919876543210", None).as_deref(), Some("+919876543210"));
        assert_eq!(ok("919876543210", None).as_deref(), Some("+919876543210"));
        for (n, c) in [
            ("", Some("IN")),
            ("98765x43210", Some("IN")),
            ("12", Some("IN")),
        ] {
            assert_eq!(ok(n, c), None, "{n} {c:?}");
        }
    }
}
