//! JWTs a client signs with its own keys: client assertions (`private_key_jwt`, RFC 7523
//! §2.2 and §3, OIDC Core §9) and request objects (RFC 9101). Both are checked against the
//! client's JWKS, given by value or fetched from its `jwks_uri` through the outbound HTTP
//! port (bounded in time and size, cached five minutes, fetched again when a `kid` is
//! unknown, at most once per [`REFETCH_EVERY`] per URL so made-up kids cannot turn into
//! requests). Only asymmetric algorithms: a shared secret would let the server sign as the
//! client.

use serde_json::Value;

use super::OAuth;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::TenantId;
use crate::model::{Challenge, Client, Hash32};
use crate::runtime::outbound::NoUpstream;
use crate::store::StoreError;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Algorithms a client may sign with, in the order discovery lists them.
/// `Ed25519` is EdDSA under its fully-specified name (RFC 9864).
pub const CLIENT_SIGNING_ALGS: [&str; 5] = ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"];

/// Clock skew allowed on `exp`, `nbf` and `iat`, seconds.
pub const LEEWAY: u64 = 30;

/// How far ahead a client assertion's `exp` may be: it is a one-time credential, and its
/// `jti` is remembered until then.
pub const MAX_ASSERTION_LIFETIME: u64 = 300;

pub use crate::runtime::outbound::REFETCH_EVERY;

/// Most keys a client may register.
const MAX_KEYS: usize = 20;

/// A client assertion as presented, and the endpoint it was presented at (its last path
/// segment: `token`, `par`, `introspect`, `revoke`), which its `aud` may name.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientAssertion {
    /// The JWT.
    pub jwt: String,
    /// Where it was sent.
    pub endpoint: String,
}

impl std::fmt::Debug for ClientAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientAssertion(<hidden>, at {})", self.endpoint)
    }
}

/// The `sub` of a JWT's payload, unverified: which client an assertion claims to be, when
/// the request names none (RFC 7523 §3 makes `client_id` optional).
pub fn unverified_subject(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = crate::crypto::b64_decode(payload)?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v["sub"].as_str().map(str::to_owned)
}

/// Why a client's JWT was refused (for logs; the caller sees only the protocol error).
pub use crate::runtime::jws::JwsError as ClientJwtError;

impl ClientJwtError {
    /// The reason, for descriptions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "not a signed JWT",
            Self::Algorithm => "the algorithm is not one of RS256, PS256, ES256, EdDSA, Ed25519",
            Self::UnknownKey => "no key of the client matches the JWT's kid and algorithm",
            Self::Signature => "the signature does not verify",
        }
    }
}

/// Verifies a JWT's signature against a JWKS; returns its claims. No claim is checked.
pub fn verify_with_jwks(jwt: &str, jwks: &Value) -> Result<Value, ClientJwtError> {
    use jsonwebtoken::Algorithm as A;
    crate::runtime::jws::verify(jwt, jwks, &[A::RS256, A::PS256, A::ES256, A::EdDSA])
}

/// Checks a JWKS a client registers: an object with 1 to 20 public keys we can use, none
/// of them private or symmetric. Returns a reason to show the operator.
pub fn check_client_jwks(jwks: &Value) -> Result<(), String> {
    let keys = jwks["keys"]
        .as_array()
        .ok_or("jwks must be an object with a \"keys\" array")?;
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(format!("jwks must hold 1 to {MAX_KEYS} keys"));
    }
    for k in keys {
        if ["d", "p", "q", "k"].iter().any(|f| k.get(f).is_some()) {
            return Err("jwks must hold public keys only (no private or symmetric key)".into());
        }
        let jwk = crate::runtime::jws::jwk_of(k)
            .ok_or_else(|| "jwks holds a key that is not a usable JWK".to_owned())?;
        jsonwebtoken::DecodingKey::from_jwk(&jwk)
            .map_err(|_| "jwks holds a key that is not a usable public key".to_owned())?;
    }
    Ok(())
}

fn invalid_client(desc: &'static str) -> EngineError {
    EngineError::oauth(C::InvalidClient, desc)
}

fn audiences(claims: &Value) -> Vec<&str> {
    match &claims["aud"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

impl OAuth<'_> {
    /// The client's JWKS: by value, or fetched from its `jwks_uri` (cached; `fresh`
    /// fetches again unless that was done in the last [`REFETCH_EVERY`] seconds).
    async fn client_jwks(&self, client: &Client, fresh: bool) -> Option<Value> {
        if let Some(j) = &client.jwks {
            return Some(j.clone());
        }
        let url = client.jwks_uri.as_deref()?;
        if crate::runtime::outbound::check_upstream_url("jwks_uri", url).is_err() {
            return None;
        }
        let cached = self.rt().upstream_docs.get(url);
        let refetch = fresh && !self.rt().client_jwks_refetched.contains_key(url);
        if let Some(v) = &cached
            && !refetch
        {
            return Some(v.clone());
        }
        if refetch {
            self.rt().client_jwks_refetched.insert(url.to_owned(), ());
        }
        let http = match self.rt().upstream_http.get() {
            Some(h) => h.clone(),
            None => std::sync::Arc::new(NoUpstream),
        };
        match http.get_json(url, None).await {
            Ok(v) if check_client_jwks(&v).is_ok() => {
                self.rt().upstream_docs.insert(url.to_owned(), v.clone());
                Some(v)
            }
            Ok(_) => {
                tracing::warn!(client = %client.id, "the client's jwks_uri answered no usable JWKS");
                cached
            }
            Err(e) => {
                tracing::warn!(client = %client.id, error = %e, "cannot fetch the client's jwks_uri");
                cached
            }
        }
    }

    /// Verifies a JWT the client signed (signature only), fetching its keys again once if
    /// the `kid` is unknown (the client may have rotated them).
    pub(crate) async fn verify_client_jwt(
        &self,
        client: &Client,
        jwt: &str,
    ) -> Result<Value, ClientJwtError> {
        let jwks = self
            .client_jwks(client, false)
            .await
            .ok_or(ClientJwtError::UnknownKey)?;
        match verify_with_jwks(jwt, &jwks) {
            Err(ClientJwtError::UnknownKey) if client.jwks.is_none() => {
                let jwks = self
                    .client_jwks(client, true)
                    .await
                    .ok_or(ClientJwtError::UnknownKey)?;
                verify_with_jwks(jwt, &jwks)
            }
            other => other,
        }
    }

    /// Checks a client assertion (RFC 7523 §3): signed by one of the client's keys, `iss`
    /// and `sub` the client, `aud` the issuer or the endpoint it was sent to, unexpired and
    /// not valid for long, and its `jti` never seen: the `jti` is remembered (in the
    /// store, so by every node) until the assertion expires. Every failure is
    /// `invalid_client`, and a refused assertion leaves no trace.
    pub(crate) async fn check_client_assertion(
        &self,
        tenant: &TenantId,
        client: &Client,
        assertion: &ClientAssertion,
    ) -> EngineResult<()> {
        let claims = self
            .verify_client_jwt(client, &assertion.jwt)
            .await
            .map_err(|e| {
                tracing::debug!(client = %client.id, reason = e.as_str(), "client assertion refused");
                invalid_client("the client assertion is not signed by a key of the client")
            })?;
        let id = client.id.as_str();
        if claims["iss"].as_str() != Some(id) || claims["sub"].as_str() != Some(id) {
            return Err(invalid_client(
                "the client assertion's iss and sub must be the client_id",
            ));
        }
        let iss = self.issuer(tenant);
        let endpoint = format!("{iss}/{}", assertion.endpoint);
        if !audiences(&claims)
            .iter()
            .any(|a| *a == iss || *a == endpoint)
        {
            return Err(invalid_client(
                "the client assertion's aud must be the issuer or this endpoint",
            ));
        }
        let now = self.now();
        let exp = claims["exp"]
            .as_u64()
            .ok_or_else(|| invalid_client("the client assertion has no exp"))?;
        if exp.saturating_add(LEEWAY) <= now {
            return Err(invalid_client("the client assertion has expired"));
        }
        if exp > now + MAX_ASSERTION_LIFETIME + LEEWAY {
            return Err(invalid_client(
                "the client assertion is valid for too long (at most 5 minutes)",
            ));
        }
        for early in ["nbf", "iat"] {
            if claims[early].as_u64().is_some_and(|t| t > now + LEEWAY) {
                return Err(invalid_client("the client assertion is not valid yet"));
            }
        }
        let jti = claims["jti"]
            .as_str()
            .filter(|j| !j.is_empty() && j.len() <= 256)
            .ok_or_else(|| invalid_client("the client assertion needs a jti"))?;
        let seen = Challenge {
            tenant: tenant.clone(),
            key: Hash32::of(format!("client_assertion\0{id}\0{jti}").as_bytes()),
            purpose: "client_assertion_jti".into(),
            user_id: None,
            data: Value::Null,
            tries_left: 0,
            expires_at: exp.saturating_add(LEEWAY),
        };
        match self.rt().store.put_challenge(&seen).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict) => Err(invalid_client(
                "the client assertion was used before (jti replayed)",
            )),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_jwks_hold_public_asymmetric_keys_only() {
        let ec = serde_json::json!({"kty": "EC", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        assert!(check_client_jwks(&serde_json::json!({"keys": [ec.clone()]})).is_ok());
        let mut private = ec.clone();
        private["d"] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI".into();
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"keys": []}),
            serde_json::json!({"keys": [private]}),
            serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
            serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256"}]}),
        ] {
            assert!(check_client_jwks(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn symmetric_and_unsigned_jwts_are_refused_before_any_key_is_looked_at() {
        let jwks = serde_json::json!({"keys": []});
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &serde_json::json!({"iss": "c"}),
            &jsonwebtoken::EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert_eq!(verify_with_jwks(&hs, &jwks), Err(ClientJwtError::Algorithm));
        let none = format!(
            "{}.{}.",
            crate::crypto::b64(br#"{"alg":"none"}"#),
            crate::crypto::b64(br#"{"iss":"c"}"#)
        );
        assert!(matches!(
            verify_with_jwks(&none, &jwks),
            Err(ClientJwtError::Malformed | ClientJwtError::Algorithm)
        ));
        assert_eq!(unverified_subject(&hs), None);
    }
}
