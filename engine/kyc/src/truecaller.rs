//! Truecaller's signed profiles: the `payload`, `signature` and `signatureAlgorithm` a
//! Truecaller-enabled app receives from the Truecaller SDK and hands to its back end.
//!
//! What Truecaller documents (docs.truecaller.com, "Server Side Response Validation" for
//! the Android SDK 2.x and for iOS; the samples in github.com/truecaller/backend-sdk-validation):
//! - `payload` is the base64 of a JSON object: `requestNonce`, `requestTime` (Unix
//!   seconds), `phoneNumber` (E.164 with `+`), `countryCode` (ISO 3166, lower case), and
//!   the profile (`firstName`, `lastName`, `email`, `gender`, `isTrueName`, ...).
//! - `signature` is the base64 of an RSA PKCS#1 v1.5 signature, and the algorithm is named
//!   in Java's terms, `SHA512withRSA`.
//! - The signature covers the payload *as sent*, the base64 text itself, not the JSON
//!   inside it: Truecaller's Java sample verifies `payload.getBytes(UTF_8)`, its Node and
//!   PHP samples the payload string. So does [`verify`].
//! - The public keys are served by `https://api4.truecaller.com/v1/key` as a list of
//!   `{"keyType": "RSA", "key": <base64 DER SubjectPublicKeyInfo>}`; the sample key there
//!   is 1024-bit RSA, which is why keys from 1024 bits are accepted (ring's legacy
//!   verifier); Tollgate never fetches them: the deployment pins them
//!   (`tenant.verification.truecaller.keys`), so a compromised network cannot swap them.
//!
//! Checked while this was written: the sample Truecaller publishes in that repository
//! (a payload, its signature and the 1024-bit key) verifies with [`verify`]. It is not
//! kept as a test vector: it is a real person's profile (name, number, email).
//!
//! Not confirmed by anything Truecaller publishes: whether it signs with any algorithm
//! other than `SHA512withRSA` (`SHA256withRSA` is accepted as the only other; SHA-1 and
//! "none" never are), and key ids (the key endpoint names none: the ids are the
//! deployment's own names for the keys it pinned).
//!
//! Pure: no I/O, the time is passed in. Only what proves the result leaves this module:
//! the number, the request's time and nonce, and which key signed. Names, email and the
//! rest of the profile are never decoded into anything.

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::signature::{self, UnparsedPublicKey};
use serde::Deserialize;
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::model::phone::PhoneNumber;
use tollgate_vocab::model::verification::TruecallerKey;

/// The most payload accepted, in characters of base64 (a profile is well under 2 KiB).
pub const MAX_PAYLOAD: usize = 16 * 1024;
/// The most signature accepted, in characters of base64 (an 8192-bit RSA signature is
/// 1368).
pub const MAX_SIGNATURE: usize = 2048;
/// How far in the future a `requestTime` may be: the phone's clock and ours differ.
pub const FUTURE_SKEW_SECS: u64 = 60;

/// Why a signed profile was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TruecallerError {
    /// No Truecaller key is configured for the tenant.
    NoKeys,
    /// The request names a key id that is not pinned.
    UnknownKey,
    /// The algorithm is not one Truecaller signs with (or is too weak).
    UnsupportedAlgorithm,
    /// The signature does not verify with the pinned key(s): tampered, or another key.
    BadSignature,
    /// The profile was requested too long ago, or in the future.
    Expired,
    /// The profile answers another request (`requestNonce`).
    NonceMismatch,
    /// Not base64, not JSON, a field missing, or no usable phone number.
    Malformed,
}

impl TruecallerError {
    /// The stable machine code (API `error`, audit detail).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoKeys => "no_keys",
            Self::UnknownKey => "unknown_key",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NonceMismatch => "nonce_mismatch",
            Self::Malformed => "malformed",
        }
    }
}

impl fmt::Display for TruecallerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoKeys => "Truecaller verification is not set up for this organisation.",
            Self::UnknownKey => "The Truecaller profile names a key this organisation does not trust.",
            Self::UnsupportedAlgorithm => "The Truecaller profile is signed with an algorithm that is not accepted.",
            Self::BadSignature => "The Truecaller profile's signature is not valid.",
            Self::Expired => "The Truecaller profile is too old. Verify with Truecaller again.",
            Self::NonceMismatch => "The Truecaller profile was not made for this request. Verify with Truecaller again.",
            Self::Malformed => "The Truecaller profile could not be read.",
        })
    }
}

impl std::error::Error for TruecallerError {}

/// What the app hands over, as the SDK gave it.
#[derive(Clone, Copy)]
pub struct SignedProfile<'a> {
    /// `payload`: base64 of the profile JSON; the signed text.
    pub payload: &'a str,
    /// `signature`: base64.
    pub signature: &'a str,
    /// `signatureAlgorithm`, e.g. `SHA512withRSA`.
    pub algorithm: &'a str,
    /// The id of the pinned key to check with; `None` tries each.
    pub key_id: Option<&'a str>,
}

impl fmt::Debug for SignedProfile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedProfile")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// A verified profile: only what proves the result.
#[derive(Clone, PartialEq, Eq)]
pub struct TruecallerProfile {
    /// The verified number, E.164.
    pub phone: PhoneNumber,
    /// When the app asked Truecaller (`requestTime`).
    pub requested_at: UnixTime,
    /// The request's `requestNonce`, if it had one.
    pub nonce: Option<String>,
    /// The id of the pinned key the signature verified with.
    pub key_id: String,
}

impl fmt::Debug for TruecallerProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TruecallerProfile")
            .field("phone", &self.phone.masked())
            .field("requested_at", &self.requested_at)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The fields read from the payload; the rest of the profile is skipped unread.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    phone_number: String,
    #[serde(default)]
    country_code: Option<String>,
    request_time: u64,
    #[serde(default)]
    request_nonce: Option<String>,
}

/// Base64 as Java's `Base64.getDecoder()` writes it; padding optional.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn b64(s: &str) -> Option<Vec<u8>> {
    B64.decode(s.trim()).ok()
}

/// The verifier for a Java algorithm name; PKCS#1 v1.5 from 1024 bits (see the module
/// notes), never SHA-1.
fn algorithm(name: &str) -> Option<&'static signature::RsaParameters> {
    match name.trim() {
        n if n.eq_ignore_ascii_case("SHA512withRSA") => {
            Some(&signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY)
        }
        n if n.eq_ignore_ascii_case("SHA256withRSA") => {
            Some(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY)
        }
        _ => None,
    }
}

/// One DER element of `tag` at the start of `input`: its content and what follows.
fn der(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, rest) = rest.split_at(n);
        (
            bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)),
            rest,
        )
    };
    if rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

/// `rsaEncryption`, 1.2.840.113549.1.1.1, as a DER OBJECT IDENTIFIER's content.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The PKCS#1 `RSAPublicKey` inside a SubjectPublicKeyInfo (what ring verifies with).
fn rsa_from_spki(spki: &[u8]) -> Option<&[u8]> {
    let (body, rest) = der(spki, 0x30)?;
    if !rest.is_empty() {
        return None;
    }
    let (alg, body) = der(body, 0x30)?;
    let (oid, _params) = der(alg, 0x06)?;
    if oid != RSA_ENCRYPTION {
        return None;
    }
    let (bits, rest) = der(body, 0x03)?;
    if !rest.is_empty() {
        return None;
    }
    match bits.split_first() {
        Some((0, key)) => Some(key),
        _ => None,
    }
}

/// A pinned key's RSA public key (PKCS#1 DER): base64 DER SubjectPublicKeyInfo as
/// Truecaller's key endpoint serves it, or PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`).
pub fn parse_key(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if let Some(after) = t.strip_prefix("-----BEGIN ") {
        let (label, body) = after.split_once("-----")?;
        let end = format!("-----END {label}-----");
        let body = body.trim().strip_suffix(end.as_str())?;
        let der: String = body.split_whitespace().collect();
        let bytes = b64(&der)?;
        return match label {
            "PUBLIC KEY" => rsa_from_spki(&bytes).map(<[u8]>::to_vec),
            "RSA PUBLIC KEY" => Some(bytes),
            _ => None,
        };
    }
    let compact: String = t.split_whitespace().collect();
    rsa_from_spki(&b64(&compact)?).map(<[u8]>::to_vec)
}

/// Checks a pinned key as the admin API receives it: `Err(Malformed)` if it is not an RSA
/// public key in a form [`parse_key`] reads.
pub fn check_key(text: &str) -> Result<(), TruecallerError> {
    parse_key(text)
        .filter(|k| der(k, 0x30).is_some())
        .map(|_| ())
        .ok_or(TruecallerError::Malformed)
}

/// Verifies a signed profile against the pinned `keys`: the algorithm allow-list, the
/// signature over the payload text (with the named key only, or else each key), then
/// freshness (`requestTime` at most `max_age_secs` old and at most [`FUTURE_SKEW_SECS`]
/// ahead of `now`), the nonce when one is expected, and the number (E.164; the payload's
/// `countryCode` is the region of a number without `+`).
///
/// Nothing in the payload is read before the signature verifies.
pub fn verify(
    signed: &SignedProfile<'_>,
    keys: &[TruecallerKey],
    now: UnixTime,
    max_age_secs: u64,
    expected_nonce: Option<&str>,
) -> Result<TruecallerProfile, TruecallerError> {
    let alg = algorithm(signed.algorithm).ok_or(TruecallerError::UnsupportedAlgorithm)?;
    if keys.is_empty() {
        return Err(TruecallerError::NoKeys);
    }
    let candidates: Vec<&TruecallerKey> = match signed.key_id.map(str::trim) {
        Some(id) if !id.is_empty() => {
            let named: Vec<_> = keys.iter().filter(|k| k.id == id).collect();
            if named.is_empty() {
                return Err(TruecallerError::UnknownKey);
            }
            named
        }
        _ => keys.iter().collect(),
    };
    if signed.payload.len() > MAX_PAYLOAD || signed.signature.len() > MAX_SIGNATURE {
        return Err(TruecallerError::Malformed);
    }
    let sig = b64(signed.signature).ok_or(TruecallerError::Malformed)?;
    let message = signed.payload.as_bytes();
    let key_id = candidates
        .iter()
        .find(|k| {
            parse_key(&k.public_key).is_some_and(|der| {
                UnparsedPublicKey::new(alg, der)
                    .verify(message, &sig)
                    .is_ok()
            })
        })
        .map(|k| k.id.clone())
        .ok_or(TruecallerError::BadSignature)?;
    let json = b64(signed.payload).ok_or(TruecallerError::Malformed)?;
    let p: Payload = serde_json::from_slice(&json).map_err(|_| TruecallerError::Malformed)?;
    if p.request_time > now.saturating_add(FUTURE_SKEW_SECS)
        || now.saturating_sub(p.request_time) > max_age_secs
    {
        return Err(TruecallerError::Expired);
    }
    if let Some(want) = expected_nonce
        && p.request_nonce.as_deref() != Some(want)
    {
        return Err(TruecallerError::NonceMismatch);
    }
    let region = p
        .country_code
        .as_deref()
        .map(str::trim)
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()));
    let phone =
        PhoneNumber::parse(&p.phone_number, region).map_err(|_| TruecallerError::Malformed)?;
    Ok(TruecallerProfile {
        phone,
        requested_at: p.request_time,
        nonce: p.request_nonce,
        key_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA512, RsaKeyPair};

    const NOW: u64 = 1_800_000_000;

    struct Signer {
        kp: RsaKeyPair,
    }

    impl Signer {
        fn new() -> Self {
            Self {
                kp: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
            }
        }

        /// The key as Truecaller's key endpoint serves it: base64 DER SPKI.
        fn spki_b64(&self) -> String {
            let der: PublicKeyX509Der = self.kp.public_key().as_der().unwrap();
            base64::engine::general_purpose::STANDARD.encode(der.as_ref())
        }

        fn pinned(&self, id: &str) -> TruecallerKey {
            TruecallerKey {
                id: id.into(),
                public_key: self.spki_b64(),
            }
        }

        fn sign(&self, payload: &str, sha256: bool) -> String {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            let mut sig = vec![0; self.kp.public_modulus_len()];
            let alg = if sha256 {
                &RSA_PKCS1_SHA256
            } else {
                &RSA_PKCS1_SHA512
            };
            self.kp
                .sign(alg, &rng, payload.as_bytes(), &mut sig)
                .unwrap();
            base64::engine::general_purpose::STANDARD.encode(sig)
        }
    }

    fn payload(time: u64, nonce: &str) -> String {
        let json = serde_json::json!({
            "requestNonce": nonce,
            "requestTime": time,
            "phoneNumber": "+919876543210",
            "firstName": "Asha",
            "lastName": "Rao",
            "countryCode": "in",
            "isTrueName": true,
        });
        base64::engine::general_purpose::STANDARD.encode(json.to_string())
    }

    fn check(
        payload: &str,
        sig: &str,
        alg: &str,
        key_id: Option<&str>,
        keys: &[TruecallerKey],
        nonce: Option<&str>,
    ) -> Result<TruecallerProfile, TruecallerError> {
        verify(
            &SignedProfile {
                payload,
                signature: sig,
                algorithm: alg,
                key_id,
            },
            keys,
            NOW,
            600,
            nonce,
        )
    }

    #[test]
    fn a_signed_profile_gives_its_number_and_nothing_else() {
        let s = Signer::new();
        let p = payload(NOW - 5, "n-1");
        let sig = s.sign(&p, false);
        let got = check(
            &p,
            &sig,
            "SHA512withRSA",
            None,
            &[s.pinned("tc-1")],
            Some("n-1"),
        )
        .unwrap();
        assert_eq!(got.phone.as_str(), "+919876543210");
        assert_eq!(got.requested_at, NOW - 5);
        assert_eq!(got.nonce.as_deref(), Some("n-1"));
        assert_eq!(got.key_id, "tc-1");
        let dbg = format!("{got:?}");
        assert!(
            !dbg.contains("9876543210") && !dbg.contains("Asha"),
            "{dbg}"
        );
        // SHA-256 too, and the key as PEM.
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            s.spki_b64()
        );
        let keys = [TruecallerKey {
            id: "pem".into(),
            public_key: pem,
        }];
        let sig = s.sign(&p, true);
        assert_eq!(
            check(&p, &sig, "SHA256withRSA", Some("pem"), &keys, None)
                .unwrap()
                .key_id,
            "pem"
        );
    }

    #[test]
    fn each_key_is_tried_unless_one_is_named() {
        let (a, b) = (Signer::new(), Signer::new());
        let keys = [a.pinned("a"), b.pinned("b")];
        let p = payload(NOW, "n");
        let sig = b.sign(&p, false);
        assert_eq!(
            check(&p, &sig, "SHA512withRSA", None, &keys, None)
                .unwrap()
                .key_id,
            "b"
        );
        assert_eq!(
            check(&p, &sig, "SHA512withRSA", Some("a"), &keys, None),
            Err(TruecallerError::BadSignature)
        );
        assert_eq!(
            check(&p, &sig, "SHA512withRSA", Some("c"), &keys, None),
            Err(TruecallerError::UnknownKey)
        );
    }

    #[test]
    fn bad_profiles_are_refused_with_their_code() {
        let s = Signer::new();
        let other = Signer::new();
        let keys = [s.pinned("k")];
        let p = payload(NOW, "n");
        let sig = s.sign(&p, false);
        let code = |r: Result<TruecallerProfile, TruecallerError>| r.unwrap_err().code();
        // Tampered: one character of the payload changed (still valid base64).
        let mut t = p.clone().into_bytes();
        t[10] = if t[10] == b'A' { b'B' } else { b'A' };
        let t = String::from_utf8(t).unwrap();
        assert_eq!(
            code(check(&t, &sig, "SHA512withRSA", None, &keys, None)),
            "bad_signature"
        );
        // Another key.
        let sig_other = other.sign(&p, false);
        assert_eq!(
            code(check(&p, &sig_other, "SHA512withRSA", None, &keys, None)),
            "bad_signature"
        );
        // The JSON signed instead of the base64 text is not what Truecaller signs; nor is
        // a SHA-512 signature one made with SHA-256.
        let json = String::from_utf8(b64(&p).unwrap()).unwrap();
        assert_eq!(
            code(check(
                &p,
                &s.sign(&json, false),
                "SHA512withRSA",
                None,
                &keys,
                None
            )),
            "bad_signature"
        );
        assert_eq!(
            code(check(&p, &sig, "SHA256withRSA", None, &keys, None)),
            "bad_signature"
        );
        // Algorithms.
        for alg in [
            "none",
            "",
            "SHA1withRSA",
            "MD5withRSA",
            "SHA512withECDSA",
            "RS512",
        ] {
            assert_eq!(
                code(check(&p, &sig, alg, None, &keys, None)),
                "unsupported_algorithm",
                "{alg}"
            );
        }
        // No keys.
        assert_eq!(
            code(check(&p, &sig, "SHA512withRSA", None, &[], None)),
            "no_keys"
        );
        // Too old, from the future.
        let old = payload(NOW - 601, "n");
        assert_eq!(
            code(check(
                &old,
                &s.sign(&old, false),
                "SHA512withRSA",
                None,
                &keys,
                None
            )),
            "expired"
        );
        let ahead = payload(NOW + 120, "n");
        assert_eq!(
            code(check(
                &ahead,
                &s.sign(&ahead, false),
                "SHA512withRSA",
                None,
                &keys,
                None
            )),
            "expired"
        );
        let skewed = payload(NOW + 30, "n");
        assert!(
            check(
                &skewed,
                &s.sign(&skewed, false),
                "SHA512withRSA",
                None,
                &keys,
                None
            )
            .is_ok()
        );
        // Nonce.
        assert_eq!(
            code(check(&p, &sig, "SHA512withRSA", None, &keys, Some("m"))),
            "nonce_mismatch"
        );
        // Malformed: signature not base64; signed garbage; signed JSON without a number.
        assert_eq!(
            code(check(&p, "***", "SHA512withRSA", None, &keys, None)),
            "malformed"
        );
        let junk = base64::engine::general_purpose::STANDARD.encode("not json");
        assert_eq!(
            code(check(
                &junk,
                &s.sign(&junk, false),
                "SHA512withRSA",
                None,
                &keys,
                None
            )),
            "malformed"
        );
        let no_number = base64::engine::general_purpose::STANDARD
            .encode(serde_json::json!({"requestTime": NOW, "phoneNumber": "12"}).to_string());
        assert_eq!(
            code(check(
                &no_number,
                &s.sign(&no_number, false),
                "SHA512withRSA",
                None,
                &keys,
                None
            )),
            "malformed"
        );
        // An unusable pinned key is no key that verifies.
        let broken = [TruecallerKey {
            id: "x".into(),
            public_key: "bm90IGEga2V5".into(),
        }];
        assert_eq!(
            code(check(&p, &sig, "SHA512withRSA", None, &broken, None)),
            "bad_signature"
        );
        // Messages are for people; codes are stable.
        assert!(TruecallerError::Expired.to_string().contains("too old"));
    }

    #[test]
    fn a_number_without_plus_takes_the_payload_region() {
        let s = Signer::new();
        let json = serde_json::json!({"requestTime": NOW, "phoneNumber": "9876543210", "countryCode": "IN"});
        let p = base64::engine::general_purpose::STANDARD.encode(json.to_string());
        let got = check(
            &p,
            &s.sign(&p, false),
            "SHA512withRSA",
            None,
            &[s.pinned("k")],
            None,
        )
        .unwrap();
        assert_eq!(got.phone.as_str(), "+919876543210");
        assert_eq!(got.nonce, None);
    }

    #[test]
    fn keys_are_read_in_the_forms_truecaller_and_pem_give() {
        let s = Signer::new();
        assert!(check_key(&s.spki_b64()).is_ok());
        assert!(check_key("bm90IGEga2V5").is_err());
        assert!(check_key("").is_err());
        assert!(check_key("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
        // An EC key is not an RSA key.
        let ec = aws_lc_rs::signature::EcdsaKeyPair::generate(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        )
        .unwrap();
        let der: PublicKeyX509Der = ec.public_key().as_der().unwrap();
        let b = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        assert!(check_key(&b).is_err());
    }

    #[test]
    fn truncated_der_is_refused_without_panicking() {
        let s = Signer::new();
        let spki = b64(&s.spki_b64()).unwrap();
        assert!(rsa_from_spki(&spki).is_some());
        for n in 0..spki.len() {
            assert!(rsa_from_spki(&spki[..n]).is_none());
        }
        assert!(der(&[0x30, 0x85, 1, 2, 3, 4, 5], 0x30).is_none());
        assert!(der(&[0x30, 0x82, 0xff, 0xff], 0x30).is_none());
    }
}
