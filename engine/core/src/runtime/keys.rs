//! Signing keys: generation, sealing at rest, the per-tenant key ring, JWT signing with a
//! key parsed once, JWKS rendered once per key change, and verification.
//!
//! Signing uses aws-lc-rs directly with the parsed key kept in memory: jsonwebtoken's
//! encoder re-parses the PKCS#8 key on every call, which halves RS256 throughput
//! (see shared/DEPENDENCIES.md). Verification uses jsonwebtoken.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::clock::UnixTime;
use crate::crypto::{MasterKey, b64, b64_decode, sha256};
use crate::error::{EngineError, EngineResult};
use crate::ids::{KeyId, TenantId};
use crate::model::{KeyStatus, SigningAlg, StoredKey, Tenant};

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private key ready to sign.
pub struct SigningKey {
    kid: KeyId,
    alg: SigningAlg,
    signer: Signer,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({}, {}, <hidden>)",
            self.kid,
            self.alg.as_str()
        )
    }
}

fn aad(tenant: &TenantId, kid: &KeyId) -> Vec<u8> {
    format!("tollgate-key/{tenant}/{kid}").into_bytes()
}

/// RFC 7638 thumbprint: SHA-256 of the required members, sorted, without white space.
pub fn jwk_thumbprint(jwk: &Value) -> String {
    let canonical = match jwk["kty"].as_str() {
        Some("RSA") => json!({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}),
        Some("EC") => json!({"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}),
        _ => json!({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}),
    };
    // serde_json writes object keys in sorted order (no preserve_order feature) and compactly.
    b64(&sha256(canonical.to_string().as_bytes()))
}

fn public_jwk(alg: SigningAlg, pkcs8: &[u8]) -> EngineResult<Value> {
    let bad = |e: &dyn std::fmt::Display| EngineError::Internal(format!("bad private key: {e}"));
    Ok(match alg {
        SigningAlg::RS256 => {
            let kp = RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| bad(&e))?;
            let pk = kp.public_key();
            json!({
                "kty": "RSA",
                "n": b64(pk.modulus().big_endian_without_leading_zero()),
                "e": b64(pk.exponent().big_endian_without_leading_zero()),
            })
        }
        SigningAlg::ES256 => {
            let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map_err(|e| bad(&e))?;
            let p = kp.public_key().as_ref();
            json!({"kty": "EC", "crv": "P-256", "x": b64(&p[1..33]), "y": b64(&p[33..65])})
        }
        SigningAlg::EdDSA => {
            let kp = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| bad(&e))?;
            json!({"kty": "OKP", "crv": "Ed25519", "x": b64(kp.public_key().as_ref())})
        }
    })
}

/// Generates a key for `tenant`, sealed under `master`.
pub fn generate(
    tenant: &TenantId,
    alg: SigningAlg,
    status: KeyStatus,
    now: UnixTime,
    master: &MasterKey,
) -> EngineResult<StoredKey> {
    let rng = SystemRandom::new();
    let fail = |what: &str| EngineError::Internal(format!("key generation failed: {what}"));
    let pkcs8: Vec<u8> = match alg {
        SigningAlg::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| fail("rsa"))?
            .as_der()
            .map_err(|_| fail("rsa der"))?
            .as_ref()
            .to_vec(),
        SigningAlg::ES256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| fail("ec"))?
            .as_ref()
            .to_vec(),
        SigningAlg::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| fail("ed25519"))?
            .as_ref()
            .to_vec(),
    };
    let mut jwk = public_jwk(alg, &pkcs8)?;
    let kid = KeyId::new(jwk_thumbprint(&jwk));
    jwk["kid"] = json!(kid.as_str());
    jwk["alg"] = json!(alg.as_str());
    jwk["use"] = json!("sig");
    let sealed = master.seal(&aad(tenant, &kid), &pkcs8);
    Ok(StoredKey {
        tenant: tenant.clone(),
        kid,
        alg,
        status,
        created_at: now,
        retired_at: None,
        public_jwk: jwk,
        sealed_private: b64(&sealed),
    })
}

impl SigningKey {
    /// Unseals a stored key.
    pub fn unseal(stored: &StoredKey, master: &MasterKey) -> EngineResult<Self> {
        let sealed = b64_decode(&stored.sealed_private)
            .ok_or_else(|| EngineError::Internal("sealed key is not base64url".into()))?;
        let pkcs8 = master.open(&aad(&stored.tenant, &stored.kid), &sealed)?;
        let bad = |_| EngineError::Internal("stored private key does not parse".into());
        let signer = match stored.alg {
            SigningAlg::RS256 => Signer::Rsa(RsaKeyPair::from_pkcs8(&pkcs8).map_err(bad)?),
            SigningAlg::ES256 => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).map_err(bad)?,
            ),
            SigningAlg::EdDSA => Signer::Ed(Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(bad)?),
        };
        Ok(Self {
            kid: stored.kid.clone(),
            alg: stored.alg,
            signer,
            rng: SystemRandom::new(),
        })
    }

    /// The key's id.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    /// The key's algorithm.
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// Signs `claims` as a compact JWS with header `typ`.
    pub fn sign_jwt<C: Serialize>(&self, typ: &str, claims: &C) -> EngineResult<String> {
        let header = json!({"alg": self.alg.as_str(), "kid": self.kid.as_str(), "typ": typ});
        let mut out = b64(header.to_string().as_bytes());
        out.push('.');
        out.push_str(&b64(
            &serde_json::to_vec(claims).map_err(|e| EngineError::Internal(e.to_string()))?
        ));
        let sig = match &self.signer {
            Signer::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&RSA_PKCS1_SHA256, &self.rng, out.as_bytes(), &mut sig)
                    .map_err(|_| EngineError::Internal("RSA signing failed".into()))?;
                sig
            }
            Signer::Ec(kp) => kp
                .sign(&self.rng, out.as_bytes())
                .map_err(|_| EngineError::Internal("ECDSA signing failed".into()))?
                .as_ref()
                .to_vec(),
            Signer::Ed(kp) => kp.sign(out.as_bytes()).as_ref().to_vec(),
        };
        out.push('.');
        out.push_str(&b64(&sig));
        Ok(out)
    }
}

struct VerifyKey {
    alg: Algorithm,
    key: DecodingKey,
}

/// A tenant's keys as served: the active signer, every published verification key, and
/// the JWKS document rendered once.
pub struct KeyRing {
    /// Signs new tokens.
    pub active: SigningKey,
    verify: HashMap<String, VerifyKey>,
    /// The JWKS document.
    pub jwks: bytes::Bytes,
    /// Strong ETag of `jwks`.
    pub jwks_etag: String,
    /// Digest of the stored key rows it was built from: a node compares it with the store's
    /// rows to learn of a rotation or revocation made elsewhere.
    pub version: [u8; 32],
    /// When the ring must be rebuilt even if no row changed: the moment the first retired
    /// key's tokens have all expired and it leaves JWKS.
    pub valid_until: UnixTime,
}

impl KeyRing {
    /// Builds the ring from the stored keys: the active key signs; next, active and
    /// recently retired keys are published.
    pub fn build(
        tenant: &Tenant,
        keys: &[StoredKey],
        master: &MasterKey,
        now: UnixTime,
    ) -> EngineResult<Self> {
        let active = keys
            .iter()
            .filter(|k| k.status == KeyStatus::Active)
            .max_by_key(|k| k.created_at)
            .ok_or_else(|| {
                EngineError::Internal(format!("tenant {} has no active key", tenant.id))
            })?;
        let active = SigningKey::unseal(active, master)?;
        let mut valid_until = UnixTime::MAX;
        let mut published: Vec<&StoredKey> = keys
            .iter()
            .filter(|k| match (k.status, k.retired_at) {
                (KeyStatus::Retired, Some(at)) => {
                    let gone = at + tenant.max_jwt_ttl();
                    if gone > now {
                        valid_until = valid_until.min(gone);
                    }
                    gone > now
                }
                (KeyStatus::Retired, None) | (KeyStatus::Revoked, _) => false,
                _ => true,
            })
            .collect();
        // Active first, then next, then retired: clients that take the first key still work.
        published.sort_by_key(|k| match k.status {
            KeyStatus::Active => 0,
            KeyStatus::Next => 1,
            KeyStatus::Retired | KeyStatus::Revoked => 2,
        });
        let mut verify = HashMap::new();
        for k in &published {
            let j = &k.public_jwk;
            let s = |name: &str| j[name].as_str().unwrap_or_default().to_owned();
            let (alg, key) = match k.alg {
                SigningAlg::RS256 => (
                    Algorithm::RS256,
                    DecodingKey::from_rsa_components(&s("n"), &s("e")),
                ),
                SigningAlg::ES256 => (
                    Algorithm::ES256,
                    DecodingKey::from_ec_components(&s("x"), &s("y")),
                ),
                SigningAlg::EdDSA => (Algorithm::EdDSA, DecodingKey::from_ed_components(&s("x"))),
            };
            let key = key.map_err(|e| EngineError::Internal(format!("bad public key: {e}")))?;
            verify.insert(k.kid.as_str().to_owned(), VerifyKey { alg, key });
        }
        let doc = json!({"keys": published.iter().map(|k| &k.public_jwk).collect::<Vec<_>>()});
        let jwks: Vec<u8> =
            serde_json::to_vec(&doc).map_err(|e| EngineError::Internal(e.to_string()))?;
        let jwks_etag = format!("\"{}\"", &b64(&sha256(&jwks))[..22]);
        Ok(Self {
            active,
            verify,
            jwks: bytes::Bytes::from(jwks),
            jwks_etag,
            version: Self::version_of(keys),
            valid_until,
        })
    }

    /// Digest of what decides a ring's contents: each key's id, status and retirement
    /// time, in kid order.
    pub fn version_of(keys: &[StoredKey]) -> [u8; 32] {
        let mut rows: Vec<String> = keys
            .iter()
            .map(|k| format!("{}:{:?}:{:?}", k.kid, k.status, k.retired_at))
            .collect();
        rows.sort();
        sha256(rows.join("\n").as_bytes())
    }

    /// Whether a token's `kid` is one this ring verifies.
    pub fn knows(&self, kid: &str) -> bool {
        self.verify.contains_key(kid)
    }

    /// Verifies a JWT's signature against the published keys and returns its claims and
    /// header `typ`. Expiry and audience are the caller's to check (with the engine clock).
    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
    ) -> Option<(C, Option<String>)> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let key = self.verify.get(header.kid.as_deref()?)?;
        if header.alg != key.alg {
            return None;
        }
        let mut v = Validation::new(key.alg);
        v.validate_exp = false;
        v.validate_aud = false;
        // jsonwebtoken checks `iss` only when present: require it, or a token without one
        // would pass as this issuer's.
        v.set_required_spec_claims(&["iss"]);
        v.set_issuer(&[issuer]);
        let data = jsonwebtoken::decode::<C>(token, &key.key, &v).ok()?;
        Some((data.claims, data.header.typ))
    }
}

/// A pre-rendered document with its validator.
pub struct Rendered {
    /// Body (cheap to clone: served without copying).
    pub body: bytes::Bytes,
    /// Strong ETag.
    pub etag: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            jwk_thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn every_algorithm_signs_what_jsonwebtoken_verifies() {
        let master = MasterKey::from_bytes([3; 32]);
        let mut tenant = Tenant::new(TenantId::parse("acme").unwrap(), "Acme".into(), 1_000);
        for alg in [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA] {
            tenant.signing_alg = alg;
            let key = generate(&tenant.id, alg, KeyStatus::Active, 1_000, &master).unwrap();
            assert!(
                key.public_jwk.get("d").is_none(),
                "private member in the public JWK"
            );
            let ring = KeyRing::build(&tenant, &[key], &master, 1_000).unwrap();
            let jwt = ring
                .active
                .sign_jwt(
                    "JWT",
                    &json!({"iss": "https://id.example/acme", "sub": "u1"}),
                )
                .unwrap();
            let (claims, typ): (Value, _) = ring
                .verify(&jwt, "https://id.example/acme")
                .expect("verifies");
            assert_eq!(claims["sub"], "u1");
            assert_eq!(typ.as_deref(), Some("JWT"));
            assert!(
                ring.verify::<Value>(&jwt, "https://other.example/acme")
                    .is_none(),
                "wrong issuer accepted"
            );
            let mut tampered = jwt.clone();
            tampered.insert(jwt.find('.').unwrap() + 2, 'A');
            assert!(
                ring.verify::<Value>(&tampered, "https://id.example/acme")
                    .is_none()
            );
        }
    }

    #[test]
    fn a_key_sealed_for_one_tenant_does_not_open_for_another() {
        let master = MasterKey::from_bytes([3; 32]);
        let mut key = generate(
            &TenantId::parse("a").unwrap(),
            SigningAlg::EdDSA,
            KeyStatus::Active,
            1,
            &master,
        )
        .unwrap();
        key.tenant = TenantId::parse("b").unwrap();
        assert!(SigningKey::unseal(&key, &master).is_err());
    }
}
