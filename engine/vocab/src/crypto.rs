//! Small crypto helpers on ring: randomness, hashing of high-entropy secrets,
//! constant-time comparison, and the master key that seals private keys at rest.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::fmt;
use subtle::ConstantTimeEq;

use crate::error::EngineError;

/// `N` random bytes from the operating system.
#[allow(
    clippy::expect_used,
    reason = "no secret can be made without the OS random source; carrying on would be worse"
)]
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .expect("the operating system's random source failed");
    out
}

/// `N` random bytes, base64url without padding.
pub fn random_token<const N: usize>() -> String {
    b64(&random_bytes::<N>())
}

/// base64url without padding, as JOSE and OAuth use it.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// SHA-256. High-entropy secrets (refresh tokens, codes, session ids) are stored
/// only as this hash: no salt or slow hash is needed when the input has 256 bits.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Compares two byte strings without leaking where they differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The PKCE S256 transform of RFC 7636 §4.2.
pub fn pkce_s256(verifier: &str) -> String {
    b64(&sha256(verifier.as_bytes()))
}

/// The AES-256-GCM key that seals private signing keys (and other secrets) at rest.
#[derive(Clone)]
pub struct MasterKey {
    key: std::sync::Arc<LessSafeKey>,
    raw: [u8; 32],
}

impl MasterKey {
    /// Builds the key from 32 raw bytes.
    #[allow(
        clippy::expect_used,
        reason = "AES-256 takes exactly the 32 bytes the type holds"
    )]
    pub fn from_bytes(raw: [u8; 32]) -> Self {
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &raw).expect("32-byte key"));
        Self {
            key: std::sync::Arc::new(key),
            raw,
        }
    }

    /// Parses the configured form: 32 bytes in base64 (standard or url-safe) or 64 hex digits.
    pub fn parse(s: &str) -> Result<Self, EngineError> {
        let s = s.trim();
        let bytes = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .ok()
                .or_else(|| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
        };
        match bytes {
            Some(b) if b.len() == 32 => {
                let mut raw = [0u8; 32];
                raw.copy_from_slice(&b);
                Ok(Self::from_bytes(raw))
            }
            _ => Err(EngineError::Invalid(
                "the master key must be 32 bytes, written as base64 or 64 hex digits".into(),
            )),
        }
    }

    /// A fresh random key, in its configured (base64) form.
    pub fn generate_encoded() -> String {
        base64::engine::general_purpose::STANDARD.encode(random_bytes::<32>())
    }

    /// Seals `plaintext`; `aad` binds the ciphertext to its owner (tenant and key id),
    /// so a sealed value cannot be moved to another record. Output: nonce ‖ ciphertext ‖ tag.
    #[allow(clippy::expect_used, reason = "ring refuses only inputs over 64 GiB")]
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(aad),
                &mut buf,
            )
            .expect("AES-GCM seal of a small buffer cannot fail");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    /// Opens what `seal` produced with the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, EngineError> {
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(EngineError::Internal("sealed value is truncated".into()));
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| EngineError::Internal("bad nonce".into()))?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buf)
            .map_err(|_| {
                EngineError::Internal("cannot open a sealed value: wrong master key?".into())
            })?;
        Ok(plain.to_vec())
    }

    /// A subkey for one purpose (HMAC-SHA256 of the label under the master key), so the
    /// gateway's CSRF and state keys never equal the sealing key.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.raw);
        let tag = ring::hmac::sign(&k, label.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn master_key_seals_and_binds_aad() {
        let k = MasterKey::parse(&MasterKey::generate_encoded()).unwrap();
        let sealed = k.seal(b"acme/k1", b"secret");
        assert_eq!(k.open(b"acme/k1", &sealed).unwrap(), b"secret");
        assert!(k.open(b"other/k1", &sealed).is_err());
        let other = MasterKey::from_bytes([7; 32]);
        assert!(other.open(b"acme/k1", &sealed).is_err());
        assert!(MasterKey::parse("short").is_err());
        assert_eq!(format!("{k:?}"), "MasterKey(<hidden>)");
    }
}
