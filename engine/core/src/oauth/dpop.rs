//! DPoP (RFC 9449): a proof of possession of a key, sent with a request as a signed JWT
//! in the `DPoP` header, and the tokens bound to that key.
//!
//! A proof is checked ([`check_proof`], pure) for its form (§4.2: `typ` `dpop+jwt`, an
//! asymmetric `alg` we support, a public `jwk` and no private part of it), its signature
//! by that key, and the request it was made for (§4.3: `htm`, `htu` without query and
//! fragment, `iat` within [`WINDOW`], `ath` when it comes with an access token). Then, with
//! the engine ([`OAuth::check_dpop`]): the `nonce` when the client or tenant asks for one
//! (stateless: an HMAC of a time slot under a key derived from the master key, the current
//! and the previous slot accepted, so any node can check any node's nonce), and the `jti`
//! not seen before: its record goes through the ChallengeStore, whose `put_challenge`
//! conflicts on an existing key on every node, and lives as long as the proof could pass.
//!
//! What the proof proves is the key's RFC 7638 thumbprint (`jkt`): access tokens carry it
//! as `cnf.jkt` (§6.1), a public client's refresh chain records it (§5), and a bound
//! access token is accepted only with `Authorization: DPoP` and a proof by that key (§7).

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use serde_json::Value;

use super::OAuth;
use super::claims::AccessTokenClaims;
use crate::clock::UnixTime;
use crate::crypto::{b64, b64_decode, sha256};
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::TenantId;
use crate::model::{Challenge, Client, Hash32};
use crate::runtime::keys::jwk_thumbprint;
use crate::store::StoreError;

/// The proof algorithms accepted (`dpop_signing_alg_values_supported`): asymmetric only.
/// `Ed25519` is EdDSA on that curve under its fully-specified name (RFC 9864), which
/// oauth4webapi and openid-client put in the proofs of Ed25519 keys.
pub const ALGS: [&str; 4] = ["ES256", "EdDSA", "Ed25519", "RS256"];

/// How far a proof's `iat` may be from now, either side, in seconds; its `jti` is
/// remembered for twice as long, past the last moment it could pass.
pub const WINDOW: u64 = 60;

/// The length of a nonce's time slot, in seconds: a nonce lives one to two slots.
pub const NONCE_SLOT: u64 = 300;

/// The longest proof read: an RSA-4096 key and every claim fit well within it.
const MAX_PROOF: usize = 8192;

/// The members of a JWK that are private key material (RFC 7518 §6.2.2, §6.3.2, §6.4;
/// RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A DPoP proof as it came with a request: the `DPoP` header's one value and the
/// request's method.
#[derive(Clone, Debug)]
pub struct Proof {
    /// The compact JWS.
    pub jwt: String,
    /// The HTTP method the request used.
    pub method: String,
}

/// The endpoint a proof was sent to: its `htu` must be the issuer's URL of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `/token`.
    Token,
    /// `/userinfo`.
    Userinfo,
    /// `/par`: a proof there binds the pushed request's code (§10.1).
    Par,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Self::Token => "/token",
            Self::Userinfo => "/userinfo",
            Self::Par => "/par",
        }
    }
}

/// How an access token came with a request (RFC 6750 §2.1, RFC 9449 §7.1).
#[derive(Clone, Debug)]
pub enum Presented {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: DPoP <token>`, with the `DPoP` proof if there was one.
    Dpop {
        /// The access token.
        token: String,
        /// The proof.
        proof: Option<Proof>,
    },
}

impl From<&str> for Presented {
    fn from(token: &str) -> Self {
        Self::Bearer(token.to_owned())
    }
}

impl Presented {
    /// The access token.
    pub fn token(&self) -> &str {
        match self {
            Self::Bearer(t) | Self::Dpop { token: t, .. } => t,
        }
    }
}

/// What a proof that passed its pure checks says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The key's RFC 7638 thumbprint.
    pub jkt: String,
    /// The proof's id.
    pub jti: String,
    /// The nonce it carries, if any.
    pub nonce: Option<String>,
}

/// What the request a proof comes with is.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// The method.
    pub htm: &'a str,
    /// The URL of the endpoint (no query, no fragment).
    pub htu: &'a str,
    /// The access token it comes with, if any: `ath` must be its hash.
    pub access_token: Option<&'a str>,
    /// Now.
    pub now: UnixTime,
}

fn invalid(desc: &'static str) -> EngineError {
    EngineError::oauth(C::InvalidDpopProof, desc)
}

/// Whether `s` has the form of a JWK SHA-256 thumbprint (RFC 7638): 43 base64url
/// characters.
pub fn is_thumbprint(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `ath` (§4.2): the access token's SHA-256, base64url.
pub fn ath(access_token: &str) -> String {
    b64(&sha256(access_token.as_bytes()))
}

/// A URL as §4.3 compares `htu`: scheme, host and port normalised (RFC 3986 §6.2.2,
/// §6.2.3: case, default port, empty path), query and fragment dropped.
fn normal_htu(u: &str) -> Option<(String, String, u16, String)> {
    let u = url::Url::parse(u).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    let port = u.port_or_known_default()?;
    let path = if u.path().is_empty() { "/" } else { u.path() };
    Some((u.scheme().to_owned(), host, port, path.to_owned()))
}

/// Verifies `sig` over `input` by the public `jwk` with `alg`; `None` when the key does
/// not fit the algorithm.
fn signature_ok(
    alg: &str,
    jwk: &serde_json::Map<String, Value>,
    input: &[u8],
    sig: &[u8],
) -> Option<bool> {
    let member = |k: &str| jwk.get(k).and_then(Value::as_str).and_then(b64_decode);
    let kty = jwk.get("kty").and_then(Value::as_str)?;
    let crv = jwk.get("crv").and_then(Value::as_str);
    Some(match (alg, kty) {
        ("ES256", "EC") if crv == Some("P-256") => {
            let (x, y) = (member("x")?, member("y")?);
            if x.len() != 32 || y.len() != 32 {
                return None;
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(input, sig)
                .is_ok()
        }
        ("EdDSA" | "Ed25519", "OKP") if crv == Some("Ed25519") => {
            let x = member("x")?;
            if x.len() != 32 {
                return None;
            }
            UnparsedPublicKey::new(&ED25519, x)
                .verify(input, sig)
                .is_ok()
        }
        ("RS256", "RSA") => {
            let (n, e) = (member("n")?, member("e")?);
            RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, input, sig)
                .is_ok()
        }
        _ => return None,
    })
}

/// The pure checks of a proof (RFC 9449 §4.3, all but the nonce's validity and the
/// `jti`'s novelty). Every failure is `invalid_dpop_proof`.
pub fn check_proof(jwt: &str, want: &Expected<'_>) -> EngineResult<Checked> {
    if jwt.len() > MAX_PROOF {
        return Err(invalid("the DPoP proof is too long"));
    }
    let mut parts = jwt.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("the DPoP proof is not a signed JWT"));
    };
    let json = |s: &str| -> Option<serde_json::Map<String, Value>> {
        match serde_json::from_slice(&b64_decode(s)?).ok()? {
            Value::Object(m) => Some(m),
            _ => None,
        }
    };
    let (Some(header), Some(claims), Some(sig)) = (json(h64), json(p64), b64_decode(s64)) else {
        return Err(invalid("the DPoP proof is not a signed JWT"));
    };
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(invalid("the DPoP proof's typ must be dpop+jwt"));
    }
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !ALGS.contains(&alg) {
        return Err(invalid(
            "the DPoP proof's alg must be one of ES256, EdDSA, Ed25519, RS256",
        ));
    }
    let Some(Value::Object(jwk)) = header.get("jwk") else {
        return Err(invalid("the DPoP proof has no jwk header"));
    };
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(invalid("the DPoP proof's jwk must be a public key"));
    }
    let input = &jwt.as_bytes()[..h64.len() + 1 + p64.len()];
    match signature_ok(alg, jwk, input, &sig) {
        Some(true) => {}
        Some(false) => return Err(invalid("the DPoP proof's signature does not verify")),
        None => return Err(invalid("the DPoP proof's jwk does not fit its alg")),
    }
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    let jti = text("jti")
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| invalid("the DPoP proof needs a jti"))?;
    if text("htm") != Some(want.htm) {
        return Err(invalid("the DPoP proof's htm is not this request's method"));
    }
    let htu = text("htu").and_then(normal_htu);
    if htu.is_none() || htu != normal_htu(want.htu) {
        return Err(invalid("the DPoP proof's htu is not this endpoint's URL"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid("the DPoP proof needs an iat"))?;
    if iat.abs_diff(want.now) > WINDOW {
        return Err(invalid("the DPoP proof's iat is too far from now"));
    }
    if let Some(at) = want.access_token
        && text("ath") != Some(ath(at).as_str())
    {
        return Err(invalid(
            "the DPoP proof's ath is not the access token's hash",
        ));
    }
    let nonce = match claims.get("nonce") {
        None => None,
        Some(Value::String(n)) if n.len() <= 256 => Some(n.clone()),
        Some(_) => return Err(invalid("the DPoP proof's nonce is malformed")),
    };
    Ok(Checked {
        jkt: jwk_thumbprint(&Value::Object(jwk.clone())),
        jti: jti.to_owned(),
        nonce,
    })
}

impl OAuth<'_> {
    fn nonce_for_slot(&self, tenant: &TenantId, slot: u64) -> String {
        let key = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            &self.rt().master.derive("dpop-nonce"),
        );
        let tag = ring::hmac::sign(&key, format!("{tenant}:{slot}").as_bytes());
        b64(&tag.as_ref()[..16])
    }

    /// The tenant's DPoP nonce now (`DPoP-Nonce`, §8): the same on every node for a
    /// slot of [`NONCE_SLOT`] seconds, accepted for one slot more.
    pub fn dpop_nonce(&self, tenant: &TenantId) -> String {
        self.nonce_for_slot(tenant, self.now() / NONCE_SLOT)
    }

    fn nonce_ok(&self, tenant: &TenantId, nonce: &str) -> bool {
        let slot = self.now() / NONCE_SLOT;
        [slot, slot.saturating_sub(1)].iter().any(|s| {
            crate::crypto::ct_eq(self.nonce_for_slot(tenant, *s).as_bytes(), nonce.as_bytes())
        })
    }

    /// Checks a proof sent to `endpoint`: the pure checks, then the nonce (when
    /// `nonce_required`; a missing or stale one is `use_dpop_nonce`), then its `jti` is
    /// recorded, once across every node (a replay is `invalid_dpop_proof`). Returns the
    /// key's thumbprint.
    pub async fn check_dpop(
        &self,
        tenant: &TenantId,
        proof: &Proof,
        endpoint: Endpoint,
        access_token: Option<&str>,
        nonce_required: bool,
    ) -> EngineResult<String> {
        let htu = format!("{}{}", self.issuer(tenant), endpoint.path());
        let now = self.now();
        let checked = check_proof(
            &proof.jwt,
            &Expected {
                htm: &proof.method,
                htu: &htu,
                access_token,
                now,
            },
        )?;
        if nonce_required
            && !checked
                .nonce
                .as_deref()
                .is_some_and(|n| self.nonce_ok(tenant, n))
        {
            return Err(EngineError::oauth(
                C::UseDpopNonce,
                "a DPoP nonce is required: use the one in the DPoP-Nonce header",
            ));
        }
        let seen = Challenge {
            tenant: tenant.clone(),
            key: Hash32::of(format!("dpop-jti\0{}\0{}", checked.jkt, checked.jti).as_bytes()),
            purpose: "dpop_jti".into(),
            user_id: None,
            data: Value::Null,
            tries_left: 0,
            expires_at: now + 2 * WINDOW,
        };
        match self.rt().store.put_challenge(&seen).await {
            Ok(()) => Ok(checked.jkt),
            Err(StoreError::Conflict) => Err(invalid("the DPoP proof was used before")),
            Err(e) => Err(e.into()),
        }
    }

    /// The token endpoint's proof (§5): required when the client says so, its nonce when
    /// the client or the tenant asks for one. Returns the key the tokens are bound to.
    pub(crate) async fn token_dpop(
        &self,
        tenant: &TenantId,
        client: &Client,
        proof: Option<&Proof>,
    ) -> EngineResult<Option<String>> {
        let Some(proof) = proof else {
            if client.dpop_bound_access_tokens {
                return Err(invalid("this client must send a DPoP proof"));
            }
            return Ok(None);
        };
        let t = self.tenant(tenant).await?;
        let nonce = client.dpop_nonce_required || t.dpop_nonce_required;
        let jkt = self
            .check_dpop(tenant, proof, Endpoint::Token, None, nonce)
            .await?;
        Ok(Some(jkt))
    }

    /// A proof sent with a pushed authorization request (§10.1): its key becomes the
    /// request's `dpop_jkt` (one given already must be that key's), so the code is
    /// redeemed only with a proof by it.
    pub(crate) async fn bind_pushed(
        &self,
        tenant: &TenantId,
        client: &Client,
        proof: &Proof,
        params: &mut Vec<(String, String)>,
    ) -> EngineResult<()> {
        let t = self.tenant(tenant).await?;
        let nonce = client.dpop_nonce_required || t.dpop_nonce_required;
        let jkt = self
            .check_dpop(tenant, proof, Endpoint::Par, None, nonce)
            .await?;
        match params.iter().find(|(k, _)| k == "dpop_jkt") {
            Some((_, j)) if *j != jkt => Err(invalid(
                "dpop_jkt is not the thumbprint of the DPoP proof's key",
            )),
            Some(_) => Ok(()),
            None => {
                params.push(("dpop_jkt".into(), jkt));
                Ok(())
            }
        }
    }

    /// Verifies an access token as presented at a protected resource (§7.1): a bound
    /// token only with `DPoP` and a proof by its key over this request, an unbound one
    /// only as `Bearer`.
    pub async fn verify_presented(
        &self,
        tenant: &TenantId,
        presented: &Presented,
        endpoint: Endpoint,
    ) -> EngineResult<AccessTokenClaims> {
        let at = self.verify_access_token(tenant, presented.token()).await?;
        let bound = at.cnf.as_ref().map(|c| c.jkt.as_str());
        let Presented::Dpop { token, proof } = presented else {
            if bound.is_some() {
                return Err(EngineError::oauth(
                    C::InvalidToken,
                    "the access token is DPoP-bound: present it with the DPoP scheme and a proof",
                ));
            }
            return Ok(at);
        };
        let proof = proof
            .as_ref()
            .ok_or_else(|| invalid("a DPoP proof is required with the DPoP scheme"))?;
        let t = self.tenant(tenant).await?;
        let client_wants = match self.client(tenant, &at.client_id).await? {
            Some(c) => c.dpop_nonce_required,
            None => false,
        };
        let jkt = self
            .check_dpop(
                tenant,
                proof,
                endpoint,
                Some(token),
                t.dpop_nonce_required || client_wants,
            )
            .await?;
        if bound != Some(jkt.as_str()) {
            return Err(EngineError::oauth(
                C::InvalidToken,
                "the access token is not bound to the DPoP proof's key",
            ));
        }
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
    };
    use serde_json::json;

    const HTU: &str = "https://id.example/acme/token";

    fn es256() -> EcdsaKeyPair {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap()
    }

    fn es256_jwk(k: &EcdsaKeyPair) -> Value {
        let p = k.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "x": b64(&p[1..33]), "y": b64(&p[33..65])})
    }

    fn sign_es256(k: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = k.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }

    fn claims(now: u64) -> Value {
        json!({"jti": "j1", "htm": "POST", "htu": HTU, "iat": now})
    }

    fn want(now: u64) -> Expected<'static> {
        Expected {
            htm: "POST",
            htu: HTU,
            access_token: None,
            now,
        }
    }

    fn err(r: EngineResult<Checked>) -> String {
        match r {
            Err(EngineError::OAuth(o)) if o.code == C::InvalidDpopProof => o.description.into(),
            other => panic!("expected invalid_dpop_proof, got {other:?}"),
        }
    }

    #[test]
    fn a_good_proof_gives_its_keys_rfc7638_thumbprint() {
        let k = es256();
        let jwk = es256_jwk(&k);
        let h = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
        let c = check_proof(&sign_es256(&k, &h, &claims(1000)), &want(1000)).unwrap();
        assert_eq!(c.jkt, jwk_thumbprint(&jwk));
        assert_eq!(c.jti, "j1");
        // htu compares without query and fragment, with case and default port normalised.
        let mut cl = claims(1000);
        cl["htu"] = json!("HTTPS://ID.example:443/acme/token?x=1#f");
        check_proof(&sign_es256(&k, &h, &cl), &want(1000)).unwrap();
    }

    #[test]
    fn ed25519_proofs_verify() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let k = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let h = json!({"typ": "dpop+jwt", "alg": "EdDSA",
            "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64(k.public_key().as_ref())}});
        let input = format!(
            "{}.{}",
            b64(h.to_string().as_bytes()),
            b64(claims(5).to_string().as_bytes())
        );
        let jwt = format!("{input}.{}", b64(k.sign(input.as_bytes()).as_ref()));
        check_proof(&jwt, &want(5)).unwrap();
        // The same signature over other claims.
        let other = format!(
            "{}.{}",
            b64(h.to_string().as_bytes()),
            b64(claims(6).to_string().as_bytes())
        );
        let forged = format!("{other}.{}", b64(k.sign(input.as_bytes()).as_ref()));
        assert!(err(check_proof(&forged, &want(5))).contains("signature"));
        // The fully-specified name (RFC 9864), as oauth4webapi writes it, is the same.
        let mut named = h.clone();
        named["alg"] = json!("Ed25519");
        let input = format!(
            "{}.{}",
            b64(named.to_string().as_bytes()),
            b64(claims(7).to_string().as_bytes())
        );
        let jwt = format!("{input}.{}", b64(k.sign(input.as_bytes()).as_ref()));
        check_proof(&jwt, &want(7)).unwrap();
    }

    #[test]
    fn each_bad_part_is_invalid_dpop_proof() {
        let k = es256();
        let jwk = es256_jwk(&k);
        let good_h = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
        let with = |h: &Value, c: &Value| sign_es256(&k, h, c);
        let mut private = jwk.clone();
        private["d"] = json!(b64(&[1u8; 32]));
        let mut other_key = good_h.clone();
        other_key["jwk"] = es256_jwk(&es256());
        let cases: Vec<(String, &str)> = vec![
            ("a.b".into(), "not a signed JWT"),
            (
                with(
                    &json!({"typ": "JWT", "alg": "ES256", "jwk": jwk}),
                    &claims(9),
                ),
                "typ",
            ),
            (
                with(
                    &json!({"typ": "dpop+jwt", "alg": "none", "jwk": jwk}),
                    &claims(9),
                ),
                "alg",
            ),
            (
                with(
                    &json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": jwk}),
                    &claims(9),
                ),
                "alg",
            ),
            (
                with(&json!({"typ": "dpop+jwt", "alg": "ES256"}), &claims(9)),
                "jwk",
            ),
            (
                with(
                    &json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private}),
                    &claims(9),
                ),
                "public key",
            ),
            (
                with(
                    &json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": jwk}),
                    &claims(9),
                ),
                "fit",
            ),
            (with(&other_key, &claims(9)), "signature"),
            (
                with(&good_h, &json!({"htm": "POST", "htu": HTU, "iat": 9})),
                "jti",
            ),
            (
                with(
                    &good_h,
                    &json!({"jti": "j", "htm": "GET", "htu": HTU, "iat": 9}),
                ),
                "htm",
            ),
            (
                with(
                    &good_h,
                    &json!({"jti": "j", "htm": "POST", "htu": "https://id.example/acme/userinfo", "iat": 9}),
                ),
                "htu",
            ),
            (
                with(
                    &good_h,
                    &json!({"jti": "j", "htm": "POST", "htu": "https://id.example:8443/acme/token", "iat": 9}),
                ),
                "htu",
            ),
            (
                with(&good_h, &json!({"jti": "j", "htm": "POST", "htu": HTU})),
                "iat",
            ),
            (with(&good_h, &claims(9 + WINDOW + 1)), "iat"),
        ];
        for (jwt, says) in cases {
            let e = err(check_proof(&jwt, &want(9)));
            assert!(e.contains(says), "{says}: {e}");
        }
        // Unsigned (alg none, empty signature) is refused before any key is looked at.
        let none = format!(
            "{}.{}.",
            b64(json!({"typ": "dpop+jwt", "alg": "none", "jwk": jwk})
                .to_string()
                .as_bytes()),
            b64(claims(9).to_string().as_bytes())
        );
        assert!(err(check_proof(&none, &want(9))).contains("alg"));
    }

    #[test]
    fn ath_binds_the_proof_to_its_access_token() {
        let k = es256();
        let h = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": es256_jwk(&k)});
        let mut c = claims(50);
        c["ath"] = json!(ath("token-a"));
        let jwt = sign_es256(&k, &h, &c);
        let mut w = want(50);
        w.access_token = Some("token-a");
        check_proof(&jwt, &w).unwrap();
        w.access_token = Some("token-b");
        assert!(err(check_proof(&jwt, &w)).contains("ath"));
    }
}
