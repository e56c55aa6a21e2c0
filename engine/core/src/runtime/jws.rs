//! Verifying a JWS against a JSON Web Key Set that someone else publishes: an upstream
//! identity provider's ID tokens, a client's assertions and request objects. Only the
//! signature: each caller checks the claims it cares about.

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters as P, Jwk, PublicKeyUse};
use serde_json::Value;

/// Most keys of a set that are looked at (large providers publish a dozen or so).
pub const MAX_KEYS: usize = 100;

/// Why a JWS does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwsError {
    /// Not a JWS, or a header we cannot use.
    Malformed,
    /// Its `alg` is not one the caller accepts, or not the key's.
    Algorithm,
    /// No key of the set fits its `kid` and algorithm (or, without a `kid`, not exactly one).
    UnknownKey,
    /// The signature does not verify.
    Signature,
}

/// Whether a key's type can verify `alg` (an RSA key cannot check ES256, whatever `kid`).
fn key_fits(k: &Jwk, alg: Algorithm) -> bool {
    use Algorithm as A;
    matches!(
        (&k.algorithm, alg),
        (
            P::RSA(_),
            A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512
        ) | (P::EllipticCurve(_), A::ES256 | A::ES384)
            | (P::OctetKeyPair(_), A::EdDSA)
    )
}

/// The key of `jwks` for a JWS header: the one with its `kid` among those `usable`, or,
/// without a `kid`, the only usable one.
fn select<'k>(
    keys: &'k [Jwk],
    kid: Option<&str>,
    usable: impl Fn(&Jwk) -> bool,
) -> Option<&'k Jwk> {
    let mut it = keys.iter().filter(|k| usable(k));
    match kid {
        Some(kid) => it.find(|k| k.common.key_id.as_deref() == Some(kid)),
        None => match (it.next(), it.next()) {
            (Some(k), None) => Some(k),
            _ => None,
        },
    }
}

/// A JWK as jsonwebtoken reads it. A key marked `"alg": "Ed25519"` (RFC 9864's name, as
/// WebCrypto exports Ed25519 keys) is read as the `EdDSA` key it is.
pub fn jwk_of(v: &Value) -> Option<Jwk> {
    if v["alg"] == "Ed25519" {
        let mut v = v.clone();
        v["alg"] = Value::from("EdDSA");
        return serde_json::from_value(v).ok();
    }
    serde_json::from_value(v.clone()).ok()
}

fn keys_of(jwks: &Value) -> Vec<Jwk> {
    jwks["keys"]
        .as_array()
        .map(|ks| ks.iter().take(MAX_KEYS).filter_map(jwk_of).collect())
        .unwrap_or_default()
}

/// `alg: "Ed25519"`, EdDSA on that curve under its fully-specified name (RFC 9864), as
/// oauth4webapi and openid-client sign with Ed25519 keys. jsonwebtoken does not know the
/// name, so it is verified here; `None` for any other `alg`.
fn verify_ed25519(token: &str, jwks: &Value) -> Option<Result<Value, JwsError>> {
    use crate::crypto::b64_decode;
    let (input, sig64) = token.rsplit_once('.')?;
    let (h64, p64) = input.split_once('.')?;
    let header: Value = serde_json::from_slice(&b64_decode(h64)?).ok()?;
    if header["alg"] != "Ed25519" {
        return None;
    }
    let usable = |k: &Jwk| {
        k.common.public_key_use != Some(PublicKeyUse::Encryption)
            && matches!(&k.algorithm, P::OctetKeyPair(p) if p.curve == jsonwebtoken::jwk::EllipticCurve::Ed25519)
    };
    let keys = keys_of(jwks);
    let Some(P::OctetKeyPair(okp)) =
        select(&keys, header["kid"].as_str(), usable).map(|k| &k.algorithm)
    else {
        return Some(Err(JwsError::UnknownKey));
    };
    let (Some(x), Some(sig)) = (b64_decode(&okp.x), b64_decode(sig64)) else {
        return Some(Err(JwsError::Malformed));
    };
    let key = aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, x);
    if key.verify(input.as_bytes(), &sig).is_err() {
        return Some(Err(JwsError::Signature));
    }
    let claims = b64_decode(p64).and_then(|p| serde_json::from_slice(&p).ok());
    Some(claims.ok_or(JwsError::Malformed))
}

/// Verifies `token`'s signature by a key of `jwks`, with one of `algs`; returns its
/// claims, none of them checked. `Ed25519` counts as `EdDSA`.
pub fn verify(token: &str, jwks: &Value, algs: &[Algorithm]) -> Result<Value, JwsError> {
    use jsonwebtoken::{DecodingKey, Validation};
    if algs.contains(&Algorithm::EdDSA)
        && let Some(verified) = verify_ed25519(token, jwks)
    {
        return verified;
    }
    // `alg: none` and unknown names fail here (jsonwebtoken has no `none`).
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwsError::Malformed)?;
    let alg = header.alg;
    if !algs.contains(&alg) {
        return Err(JwsError::Algorithm);
    }
    let keys = keys_of(jwks);
    let usable = |k: &Jwk| {
        k.common.public_key_use != Some(PublicKeyUse::Encryption)
            && k.common
                .key_algorithm
                .is_none_or(|ka| ka.to_string() == format!("{alg:?}"))
            && key_fits(k, alg)
    };
    let jwk = select(&keys, header.kid.as_deref(), usable).ok_or(JwsError::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| JwsError::UnknownKey)?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    match jsonwebtoken::decode::<Value>(token, &key, &v) {
        Ok(d) => Ok(d.claims),
        Err(e) => Err(match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => JwsError::Signature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => JwsError::Algorithm,
            _ => JwsError::Malformed,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::b64;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use serde_json::json;

    fn key() -> Ed25519KeyPair {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    fn jwks(k: &Ed25519KeyPair, kid: &str) -> Value {
        // Marked as WebCrypto exports it; read as EdDSA.
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "Ed25519",
                         "x": b64(k.public_key().as_ref())}]})
    }

    fn sign(k: &Ed25519KeyPair, alg: &str, kid: &str, claims: &Value) -> String {
        let h = json!({"alg": alg, "kid": kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64(h.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        format!("{input}.{}", b64(k.sign(input.as_bytes()).as_ref()))
    }

    #[test]
    fn ed25519_verifies_under_both_names_and_only_by_its_key() {
        let (k, other) = (key(), key());
        let set = jwks(&k, "k1");
        let claims = json!({"iss": "c", "n": 1});
        let algs = [Algorithm::ES256, Algorithm::EdDSA];
        for alg in ["EdDSA", "Ed25519"] {
            let token = sign(&k, alg, "k1", &claims);
            assert_eq!(verify(&token, &set, &algs), Ok(claims.clone()), "{alg}");
            let forged = sign(&other, alg, "k1", &claims);
            assert_eq!(
                verify(&forged, &set, &algs),
                Err(JwsError::Signature),
                "{alg}"
            );
            let unknown = sign(&k, alg, "k2", &claims);
            assert_eq!(
                verify(&unknown, &set, &algs),
                Err(JwsError::UnknownKey),
                "{alg}"
            );
        }
        // A caller that takes no EdDSA takes neither name.
        let token = sign(&k, "Ed25519", "k1", &claims);
        assert!(verify(&token, &set, &[Algorithm::ES256]).is_err());
        let token = sign(&k, "EdDSA", "k1", &claims);
        assert_eq!(
            verify(&token, &set, &[Algorithm::ES256]),
            Err(JwsError::Algorithm)
        );
    }
}
