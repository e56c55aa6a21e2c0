//! A tenant's identity verification settings (`Tenant.verification`): the UIDAI signing
//! certificates Aadhaar documents are checked against, the oldest document accepted,
//! whether a date-of-birth hash is kept, the pinned Truecaller keys, and which clients
//! receive verification results as claims.
//!
//! Every value is checked before it is stored, so a bad setting fails here, with a message
//! that names it, and never at a user's upload: a certificate must be PEM, an X.509
//! certificate, with an RSA key (UIDAI signs with RSA), read exactly as the Aadhaar
//! verifier reads it; a Truecaller key must be an RSA public key (base64 DER
//! SubjectPublicKeyInfo, as Truecaller publishes it, or PEM; an EC key is refused with
//! that reason: Truecaller signs with RSA), read as the Truecaller verifier reads it;
//! ages are bounded; released clients must exist. A change is a compare-and-set on the
//! tenant record (`Admin::change_tenant`) and an `admin.verification` event that says what
//! changed, never the values.

use serde::{Deserialize, Serialize};

use super::Admin;
use crate::error::{EngineError, EngineResult};
use crate::ids::{ClientId, TenantId};
use crate::model::verification::{TruecallerKey, VerificationSettings};

/// Most UIDAI certificates a tenant may configure (a rollover needs two or three).
pub const MAX_CERTIFICATES: usize = 8;
/// Most Truecaller keys.
pub const MAX_TRUECALLER_KEYS: usize = 16;
/// Most clients verification claims are released to.
pub const MAX_RELEASE_CLIENTS: usize = 200;
/// The oldest Aadhaar document a tenant may accept: 90 days (UIDAI advises 3).
pub const MAX_DOCUMENT_AGE_SECS: u64 = 90 * 86_400;
/// The oldest Truecaller payload a tenant may accept: one day.
pub const MAX_PAYLOAD_AGE_SECS: u64 = 86_400;
/// Longest PEM or base64 key accepted (a 4096-bit certificate is about 2 KB).
const MAX_PEM_LEN: usize = 16 * 1024;

/// A change to a tenant's verification settings: a part left out stays as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationInput {
    /// Aadhaar Paperless Offline e-KYC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aadhaar: Option<AadhaarInput>,
    /// Truecaller's signed profiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truecaller: Option<TruecallerInput>,
    /// Who receives the results as claims.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseInput>,
}

/// A change to the Aadhaar settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AadhaarInput {
    /// UIDAI's signing certificates (PEM), replacing the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificates: Option<Vec<String>>,
    /// The oldest document accepted, seconds since its generation (1 to 90 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age_secs: Option<u64>,
    /// Keep a keyed hash of the date of birth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_dob_hash: Option<bool>,
    /// Refuse documents generated outside the signing certificate's validity dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_certificate_dates: Option<bool>,
}

/// A change to the Truecaller settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TruecallerInput {
    /// The pinned keys, replacing the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<TruecallerKey>>,
    /// The oldest payload accepted, seconds (1 s to one day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age_secs: Option<u64>,
}

/// A change to who receives verification claims.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReleaseInput {
    /// Client ids, replacing the list; each must exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<Vec<String>>,
}

fn invalid(msg: String) -> EngineError {
    EngineError::Invalid(msg)
}

/// Checks one UIDAI certificate as the Aadhaar verifier will read it
/// (`tollgate_kyc::TrustedCertificates`: PEM, or the base64 of the DER as UIDAI's `.cer`
/// download holds it; a pasted chain's CA certificates skipped), and says precisely what
/// is wrong otherwise: not PEM, not a certificate, not X.509, not an RSA key, only a CA.
pub fn check_certificate(n: usize, pem: &str) -> EngineResult<()> {
    if pem.len() > MAX_PEM_LEN {
        return Err(invalid(format!(
            "certificate {n} is longer than {MAX_PEM_LEN} bytes"
        )));
    }
    match tollgate_kyc::TrustedCertificates::from_pem(&[pem]) {
        Ok(c) if !c.is_empty() => Ok(()),
        _ => Err(diagnose_certificate(n, pem)),
    }
}

/// Why the verifier would not take certificate `n`.
fn diagnose_certificate(n: usize, pem: &str) -> EngineError {
    let text = pem.trim();
    if !text.starts_with("-----BEGIN") {
        return invalid(format!(
            "certificate {n} is not PEM (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----) nor the base64 of a DER certificate"
        ));
    }
    let Ok((_, block)) = x509_parser::pem::parse_x509_pem(text.as_bytes()) else {
        return invalid(format!(
            "certificate {n} is not valid PEM (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)"
        ));
    };
    if block.label != "CERTIFICATE" {
        return invalid(format!(
            "certificate {n} is a PEM {:?}, not a CERTIFICATE: give UIDAI's signing certificate",
            block.label
        ));
    }
    let Ok(cert) = block.parse_x509() else {
        return invalid(format!("certificate {n} is not a valid X.509 certificate"));
    };
    if !matches!(
        cert.public_key().parsed(),
        Ok(x509_parser::public_key::PublicKey::RSA(_))
    ) {
        return invalid(format!(
            "certificate {n} does not have an RSA key (UIDAI signs its documents with RSA)"
        ));
    }
    invalid(format!(
        "certificate {n} is a CA certificate: give UIDAI's signing certificate (a CA signs certificates, not documents)"
    ))
}

/// Checks one Truecaller public key as the verifier will read it
/// (`tollgate_kyc::truecaller::check_key`: base64 DER SubjectPublicKeyInfo as Truecaller
/// publishes it, or PEM), and says precisely what is wrong otherwise. Truecaller signs
/// with RSA: an EC key parses, but is refused with that reason, since no signed profile
/// could ever verify against it.
pub fn check_truecaller_key(key: &TruecallerKey) -> EngineResult<()> {
    let id = key.id.trim();
    if id.is_empty() || id.len() > 100 || id.chars().any(char::is_control) {
        return Err(invalid(
            "a Truecaller key id must be 1-100 printable characters".into(),
        ));
    }
    let text = key.public_key.trim();
    if text.len() > MAX_PEM_LEN {
        return Err(invalid(format!(
            "Truecaller key {id:?} is longer than {MAX_PEM_LEN} bytes"
        )));
    }
    match tollgate_kyc::truecaller::check_key(text) {
        Ok(()) => Ok(()),
        Err(_) => Err(diagnose_truecaller_key(id, text)),
    }
}

/// Why the verifier would not take a Truecaller key.
fn diagnose_truecaller_key(id: &str, text: &str) -> EngineError {
    use x509_parser::prelude::FromDer;
    let der = if text.starts_with("-----BEGIN") {
        match x509_parser::pem::parse_x509_pem(text.as_bytes()) {
            Ok((_, block)) if block.label == "PUBLIC KEY" => block.contents,
            Ok((_, block)) => {
                return invalid(format!(
                    "Truecaller key {id:?} is a PEM {:?}, not a PUBLIC KEY",
                    block.label
                ));
            }
            Err(_) => return invalid(format!("Truecaller key {id:?} is not valid PEM")),
        }
    } else {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        let compact: String = text.split_whitespace().collect();
        let decoded = STANDARD
            .decode(&compact)
            .or_else(|_| STANDARD_NO_PAD.decode(&compact))
            .or_else(|_| URL_SAFE_NO_PAD.decode(&compact));
        match decoded {
            Ok(d) => d,
            Err(_) => {
                return invalid(format!(
                    "Truecaller key {id:?} is neither PEM nor base64 (DER SubjectPublicKeyInfo)"
                ));
            }
        }
    };
    let Ok(([], spki)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&der) else {
        return invalid(format!(
            "Truecaller key {id:?} is not a public key (DER SubjectPublicKeyInfo)"
        ));
    };
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::EC(_)) => invalid(format!(
            "Truecaller key {id:?} is an EC key: Truecaller signs its profiles with RSA, so give its RSA key"
        )),
        _ => invalid(format!("Truecaller key {id:?} is not an RSA public key")),
    }
}

fn check_age(what: &str, secs: u64, max: u64) -> EngineResult<()> {
    if secs == 0 || secs > max {
        return Err(invalid(format!(
            "{what} must be between 1 and {max} seconds"
        )));
    }
    Ok(())
}

impl Admin<'_> {
    /// The tenant as stored now (not this node's cached copy).
    async fn stored_tenant_now(&self, id: &TenantId) -> EngineResult<crate::model::Tenant> {
        let t = self
            .rt()
            .store
            .get_tenant(id)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        if !self.rt().config.regions.contains(&t.region) {
            return Err(EngineError::WrongRegion(t.region));
        }
        Ok(t)
    }

    /// A tenant's verification settings as stored now.
    pub async fn verification(&self, id: &TenantId) -> EngineResult<VerificationSettings> {
        Ok(self.stored_tenant_now(id).await?.verification)
    }

    /// Changes a tenant's verification settings: each part given is checked, then
    /// replaces the stored one in one compare-and-set; an `admin.verification` event
    /// names what changed. Nothing is stored if any part is refused.
    pub async fn set_verification(
        &self,
        id: &TenantId,
        input: VerificationInput,
    ) -> EngineResult<VerificationSettings> {
        let mut changed: Vec<String> = Vec::new();
        if let Some(a) = &input.aadhaar {
            if let Some(certs) = &a.certificates {
                if certs.len() > MAX_CERTIFICATES {
                    return Err(invalid(format!(
                        "at most {MAX_CERTIFICATES} UIDAI certificates"
                    )));
                }
                for (i, pem) in certs.iter().enumerate() {
                    check_certificate(i + 1, pem)?;
                }
                changed.push(format!("aadhaar.certificates={}", certs.len()));
            }
            if let Some(age) = a.max_age_secs {
                check_age("aadhaar.max_age_secs", age, MAX_DOCUMENT_AGE_SECS)?;
                changed.push(format!("aadhaar.max_age_secs={age}"));
            }
            if let Some(keep) = a.keep_dob_hash {
                changed.push(format!("aadhaar.keep_dob_hash={keep}"));
            }
            if let Some(check) = a.check_certificate_dates {
                changed.push(format!("aadhaar.check_certificate_dates={check}"));
            }
        }
        if let Some(tc) = &input.truecaller {
            if let Some(keys) = &tc.keys {
                if keys.len() > MAX_TRUECALLER_KEYS {
                    return Err(invalid(format!(
                        "at most {MAX_TRUECALLER_KEYS} Truecaller keys"
                    )));
                }
                for (i, k) in keys.iter().enumerate() {
                    check_truecaller_key(k)?;
                    if keys[..i].iter().any(|o| o.id.trim() == k.id.trim()) {
                        return Err(invalid(format!(
                            "Truecaller key id {:?} is listed twice",
                            k.id.trim()
                        )));
                    }
                }
                changed.push(format!("truecaller.keys={}", keys.len()));
            }
            if let Some(age) = tc.max_age_secs {
                check_age("truecaller.max_age_secs", age, MAX_PAYLOAD_AGE_SECS)?;
                changed.push(format!("truecaller.max_age_secs={age}"));
            }
        }
        let mut clients: Option<Vec<String>> = None;
        if let Some(r) = &input.release
            && let Some(list) = &r.clients
        {
            if list.len() > MAX_RELEASE_CLIENTS {
                return Err(invalid(format!(
                    "at most {MAX_RELEASE_CLIENTS} clients receive verification claims"
                )));
            }
            let mut checked: Vec<String> = Vec::with_capacity(list.len());
            for c in list {
                let cid = ClientId::parse(c.trim())?;
                if self.client(id, &cid).await?.is_none() {
                    return Err(invalid(format!(
                        "client {:?} does not exist in this tenant",
                        cid.as_str()
                    )));
                }
                if !checked.iter().any(|x| x == cid.as_str()) {
                    checked.push(cid.as_str().to_owned());
                }
            }
            changed.push(format!("release.clients={}", checked.len()));
            clients = Some(checked);
        }
        if changed.is_empty() {
            return Err(invalid(
                "nothing to change: give aadhaar, truecaller or release settings".into(),
            ));
        }
        let t = self
            .change_tenant(id, "admin.verification", changed.join(" "), |t| {
                let v = &mut t.verification;
                if let Some(a) = &input.aadhaar {
                    if let Some(certs) = &a.certificates {
                        v.aadhaar.certificates =
                            certs.iter().map(|p| p.trim().to_owned() + "\n").collect();
                    }
                    if let Some(age) = a.max_age_secs {
                        v.aadhaar.max_age_secs = age;
                    }
                    if let Some(keep) = a.keep_dob_hash {
                        v.aadhaar.keep_dob_hash = keep;
                    }
                    if let Some(check) = a.check_certificate_dates {
                        v.aadhaar.check_certificate_dates = check;
                    }
                }
                if let Some(tc) = &input.truecaller {
                    if let Some(keys) = &tc.keys {
                        v.truecaller.keys = keys
                            .iter()
                            .map(|k| TruecallerKey {
                                id: k.id.trim().to_owned(),
                                public_key: k.public_key.trim().to_owned(),
                            })
                            .collect();
                    }
                    if let Some(age) = tc.max_age_secs {
                        v.truecaller.max_age_secs = age;
                    }
                }
                if let Some(c) = &clients {
                    v.release.clients = c.clone();
                }
                Ok(())
            })
            .await?;
        Ok(t.verification)
    }
}
