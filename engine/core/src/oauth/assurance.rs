//! Claims that come from verification: `phone_number` and `phone_number_verified` (OIDC
//! Core §5.1, scope `phone`), and identity verification as `verified_claims` (OpenID
//! Connect for Identity Assurance 1.0, scope `verified_claims`).
//!
//! ## What is released, to whom
//!
//! - `phone_number` (E.164) and `phone_number_verified: true`: at userinfo, with the
//!   `phone` scope, when the user has a `Phone` factor (every one was confirmed by a code
//!   sent to it, or by a Truecaller-verified profile). Without one, neither is present.
//! - `verified_claims`: only when the tenant lists the client in
//!   `verification.release.clients` **and** the scope `verified_claims` was granted; in
//!   the ID token and at userinfo. The `claims` request parameter is not supported
//!   (`claims_parameter_supported: false`), so the scope is the only way to ask.
//!
//! ## The mapping
//!
//! One `verified_claims` object per method, from the user's latest verification by it
//! (Aadhaar Paperless Offline e-KYC, DigiLocker; Truecaller verifies a phone, not an
//! identity, and shows as `phone_number_verified`). An array when there are both.
//!
//! | element | Aadhaar offline e-KYC | DigiLocker |
//! |---|---|---|
//! | `verification.trust_framework` | `in_uidai_offline_ekyc` | `in_digilocker` |
//! | `verification.assurance_level` | `substantial` when the name matched, else `low` | the same |
//! | `verification.time` | when Tollgate verified it | when the user signed in through DigiLocker |
//! | `verification.verification_process` | the verification's id (in the user's export) | the same |
//! | `evidence[0].type` | `electronic_record` | `electronic_record` |
//! | `evidence[0].method` (Tollgate's extension) | `aadhaar_offline` | `digilocker` |
//! | `evidence[0].check_details[0].check_method` | `vcrypt` (UIDAI's signature checked) | `auth` (the user authenticated at DigiLocker) |
//! | `evidence[0].record.type` | `population_register` (Aadhaar) | `population_register` |
//! | `evidence[0].record.source.name` | `UIDAI` | `DigiLocker` |
//! | `evidence[0].record.created_at` | the document's generation time | absent |
//! | `claims.name` | the profile's name, when it matched the document's and is unchanged since | the same |
//!
//! No trust framework for India is registered with the OpenID Foundation, so the values
//! are Tollgate's own, prefixed with the country (`in_`) as the registry's are. The
//! assurance levels are likewise this framework's: `substantial` says a government-signed
//! record of the person was checked and its name is the account's; `low`, that the record
//! was genuine but its name differs (or the profile has none), so the account is only
//! loosely bound to it. Nothing else is inside `claims`: Tollgate keeps no date of birth,
//! address or document number, so it has none to release. The Aadhaar number, even its
//! last four digits, is never released.

use serde_json::{Value, json};

use super::OAuth;
use crate::clock::UnixTime;
use crate::error::EngineResult;
use crate::ids::{ClientId, UserId};
use crate::model::Tenant;
use crate::model::verification::{NameMatch, Verification, VerificationMethod};

/// The scope that asks for `verified_claims`.
pub const VERIFIED_CLAIMS_SCOPE: &str = "verified_claims";
/// The trust framework of Aadhaar Paperless Offline e-KYC results.
pub const TRUST_FRAMEWORK_AADHAAR: &str = "in_uidai_offline_ekyc";
/// The trust framework of DigiLocker sign-ins.
pub const TRUST_FRAMEWORK_DIGILOCKER: &str = "in_digilocker";
/// Discovery: `trust_frameworks_supported`.
pub const TRUST_FRAMEWORKS: [&str; 2] = [TRUST_FRAMEWORK_AADHAAR, TRUST_FRAMEWORK_DIGILOCKER];
/// Discovery: `evidence_supported`.
pub const EVIDENCE: [&str; 1] = ["electronic_record"];
/// Discovery: `electronic_records_supported` (required with `electronic_record`).
pub const ELECTRONIC_RECORDS: [&str; 1] = ["population_register"];
/// Discovery: `claims_in_verified_claims_supported`.
pub const CLAIMS_IN_VERIFIED_CLAIMS: [&str; 1] = ["name"];

/// The profile's current name, and its keyed hash as verification flows keep it
/// (`kyc-name` over the normalised name): a name is released inside `verified_claims`
/// only while it is still the one that matched.
pub struct CurrentName<'a> {
    /// The profile's `name`.
    pub name: &'a str,
    /// `keyed_hash(tenant, "kyc-name", names::normalised(name))`.
    pub hash: String,
}

/// The `verified_claims` for a user's verifications (see the module's mapping): `None`
/// when none is an identity verification. `name` is the profile's current name.
pub fn verified_claims(
    verifications: &[Verification],
    name: Option<&CurrentName<'_>>,
) -> Option<Value> {
    let mut out: Vec<Value> = Vec::new();
    for method in [
        VerificationMethod::AadhaarOffline,
        VerificationMethod::Digilocker,
    ] {
        // Listed oldest first: the last of a method is its latest.
        if let Some(v) = verifications.iter().rev().find(|v| v.method == method) {
            out.push(one(v, name));
        }
    }
    match out.len() {
        0 => None,
        1 => out.pop(),
        _ => Some(Value::Array(out)),
    }
}

fn one(v: &Verification, name: Option<&CurrentName<'_>>) -> Value {
    let (framework, check, source) = match v.method {
        VerificationMethod::Digilocker => (TRUST_FRAMEWORK_DIGILOCKER, "auth", "DigiLocker"),
        _ => (TRUST_FRAMEWORK_AADHAAR, "vcrypt", "UIDAI"),
    };
    let matched = v.name_match == NameMatch::Match;
    let mut record = json!({
        "type": ELECTRONIC_RECORDS[0],
        "source": {"name": source, "country_code": "IND"},
    });
    if let Some(at) = v.issued_at {
        record["created_at"] = json!(iso8601(at));
    }
    let time = iso8601(v.verified_at);
    let mut claims = json!({});
    // The name that matched, if the profile still has it: a name changed since (its
    // hash differs from the one kept) was never verified.
    if let Some(n) = name.filter(|n| {
        matched && !n.name.trim().is_empty() && v.name_hash.as_ref().is_none_or(|h| *h == n.hash)
    }) {
        claims["name"] = json!(n.name);
    }
    json!({
        "verification": {
            "trust_framework": framework,
            "assurance_level": if matched { "substantial" } else { "low" },
            "time": time,
            "verification_process": v.id,
            "evidence": [{
                "type": EVIDENCE[0],
                "method": v.method.as_str(),
                "check_details": [{"check_method": check, "organization": source, "time": time}],
                "time": time,
                "record": record,
            }],
        },
        "claims": claims,
    })
}

/// `YYYY-MM-DDThh:mm:ssZ` (UTC), the date-time form of the Identity Assurance claims.
pub fn iso8601(t: UnixTime) -> String {
    let secs = t % 86_400;
    let days = i64::try_from(t / 86_400).unwrap_or(i64::MAX / 2);
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm, proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

impl OAuth<'_> {
    /// The `verified_claims` a client receives for a user, if the tenant releases them to
    /// it and `verified_claims` was granted (see the module's rules); `None` otherwise.
    pub(crate) async fn release_verified_claims(
        &self,
        t: &Tenant,
        client: &ClientId,
        user: &UserId,
        granted: impl Fn(&str) -> bool,
    ) -> EngineResult<Option<Value>> {
        if !granted(VERIFIED_CLAIMS_SCOPE)
            || !t
                .verification
                .release
                .clients
                .iter()
                .any(|c| c == client.as_str())
        {
            return Ok(None);
        }
        let verifications = self.verify().list(&t.id, user).await?;
        if verifications.is_empty() {
            return Ok(None);
        }
        let name = self.user(&t.id, user).await?.and_then(|u| u.name);
        let current = name.as_deref().map(|n| CurrentName {
            name: n,
            hash: self.verify().keyed_hash(
                &t.id,
                crate::verify::NAME_HASH_PURPOSE,
                &tollgate_kyc::names::normalised(n),
            ),
        });
        Ok(verified_claims(&verifications, current.as_ref()))
    }

    /// The user's verified phone number (E.164), for the `phone` scope's claims.
    pub(crate) async fn verified_phone(
        &self,
        t: &Tenant,
        user: &UserId,
    ) -> EngineResult<Option<String>> {
        Ok(self
            .signin()
            .user_phone(&t.id, user)
            .await?
            .map(|(number, _)| number.as_str().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(method: VerificationMethod, at: UnixTime, name_match: NameMatch) -> Verification {
        Verification {
            id: format!("v{at}"),
            method,
            verified_at: at,
            issued_at: (method == VerificationMethod::AadhaarOffline)
                .then_some(at.saturating_sub(3600)),
            name_match,
            aadhaar_last4: Some("4821".into()),
            name_hash: Some(HASH.into()),
            dob_hash: None,
            mobile_match: Some(true),
            email_match: None,
        }
    }

    const HASH: &str = "the keyed hash of the normalised name";

    fn ravi() -> CurrentName<'static> {
        CurrentName {
            name: "Ravi Kumar",
            hash: HASH.into(),
        }
    }

    #[test]
    fn dates_are_utc_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_796_601_600 + 3_723), "2026-12-07T01:02:03Z");
        assert_eq!(iso8601(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn the_latest_of_each_identity_method_is_released() {
        let list = [
            v(
                VerificationMethod::AadhaarOffline,
                1_000_000,
                NameMatch::None,
            ),
            v(VerificationMethod::Truecaller, 1_500_000, NameMatch::None),
            v(
                VerificationMethod::AadhaarOffline,
                2_000_000,
                NameMatch::Match,
            ),
        ];
        let vc = verified_claims(&list, Some(&ravi())).unwrap();
        assert_eq!(
            vc,
            json!({
                "verification": {
                    "trust_framework": "in_uidai_offline_ekyc",
                    "assurance_level": "substantial",
                    "time": "1970-01-24T03:33:20Z",
                    "verification_process": "v2000000",
                    "evidence": [{
                        "type": "electronic_record",
                        "method": "aadhaar_offline",
                        "check_details": [{"check_method": "vcrypt", "organization": "UIDAI", "time": "1970-01-24T03:33:20Z"}],
                        "time": "1970-01-24T03:33:20Z",
                        "record": {
                            "type": "population_register",
                            "source": {"name": "UIDAI", "country_code": "IND"},
                            "created_at": "1970-01-24T02:33:20Z",
                        },
                    }],
                },
                "claims": {"name": "Ravi Kumar"},
            })
        );
        // Nothing of the Aadhaar number, not even its last digits, leaves.
        assert!(!vc.to_string().contains("4821"));
    }

    #[test]
    fn a_name_is_inside_only_when_it_matched() {
        let partial = [v(VerificationMethod::Digilocker, 5, NameMatch::Partial)];
        let vc = verified_claims(&partial, Some(&ravi())).unwrap();
        assert_eq!(vc["claims"], json!({}));
        assert_eq!(vc["verification"]["assurance_level"], "low");
        assert_eq!(vc["verification"]["trust_framework"], "in_digilocker");
        assert_eq!(
            vc["verification"]["evidence"][0]["check_details"][0]["check_method"],
            "auth"
        );
        assert!(vc["verification"]["evidence"][0]["record"]["created_at"].is_null());
        let matched = [v(VerificationMethod::Digilocker, 5, NameMatch::Match)];
        assert_eq!(
            verified_claims(&matched, None).unwrap()["claims"],
            json!({})
        );
    }

    #[test]
    fn both_methods_make_an_array_and_phone_checks_none() {
        let list = [
            v(VerificationMethod::Digilocker, 5, NameMatch::Match),
            v(VerificationMethod::AadhaarOffline, 9, NameMatch::Match),
        ];
        let vc = verified_claims(&list, Some(&ravi())).unwrap();
        let methods: Vec<&str> = vc
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["verification"]["evidence"][0]["method"].as_str().unwrap())
            .collect();
        assert_eq!(methods, ["aadhaar_offline", "digilocker"]);
        let only_phone = [v(VerificationMethod::Truecaller, 5, NameMatch::None)];
        assert_eq!(verified_claims(&only_phone, Some(&ravi())), None);
        assert_eq!(verified_claims(&[], Some(&ravi())), None);
    }
}
