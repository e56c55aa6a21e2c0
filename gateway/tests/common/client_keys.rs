//! A client's own signing keys, for `private_key_jwt` assertions and request objects:
//! real keys made here (with the engine's key generator), their public JWKS, and JWTs
//! signed with them.

use serde_json::{Value, json};
use tollgate_engine::crypto::MasterKey;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::{KeyStatus, SigningAlg};
use tollgate_engine::runtime::keys::{SigningKey, generate};

pub struct ClientKey {
    pub jwk: Value,
    key: SigningKey,
}

impl ClientKey {
    /// A fresh key of `alg` (RS256, ES256 or EdDSA).
    pub fn new(alg: SigningAlg) -> Self {
        let master = MasterKey::from_bytes(rand_bytes());
        let t = TenantId::parse("client").unwrap();
        let stored = generate(&t, alg, KeyStatus::Active, 0, &master).unwrap();
        Self {
            jwk: stored.public_jwk.clone(),
            key: SigningKey::unseal(&stored, &master).unwrap(),
        }
    }

    pub fn kid(&self) -> &str {
        self.jwk["kid"].as_str().unwrap()
    }

    /// A JWT of `claims` signed with this key (header `alg`, `kid`, `typ`).
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        self.key.sign_jwt(typ, claims).unwrap()
    }
}

/// A JWKS document of these keys' public halves.
pub fn jwks(keys: &[&ClientKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
}

fn rand_bytes() -> [u8; 32] {
    let t = tollgate_engine::crypto::random_token::<32>();
    tollgate_engine::crypto::sha256(t.as_bytes())
}

/// Now, Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A client assertion (RFC 7523) for `client_id` at `aud`, valid a minute, with a fresh
/// `jti`; `edit` changes its claims first.
pub fn assertion(
    key: &ClientKey,
    client_id: &str,
    aud: &str,
    edit: impl FnOnce(&mut Value),
) -> String {
    let now = now();
    let mut c = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "jti": tollgate_engine::crypto::random_token::<16>(),
    });
    edit(&mut c);
    key.sign("JWT", &c)
}
