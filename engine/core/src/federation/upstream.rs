//! What comes back from an upstream: ID tokens checked (OIDC Core §3.1.3.7), claims
//! mapped, GitHub-shaped email lists, and Apple's client-secret JWT.

use serde_json::{Value, json};

use super::types::{ID_TOKEN_LEEWAY, UpstreamIdentity};
use crate::clock::UnixTime;
use crate::crypto::{self};
use crate::error::{EngineError, EngineResult};
use crate::model::federation::{AppleSigning, ClaimMapping};

/// Why an upstream ID token was refused (a reason code for logs and audit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdTokenError {
    /// Not a JWT, or a header we cannot use.
    Malformed,
    /// `alg` is not an asymmetric algorithm we accept, or differs from the key's.
    Algorithm,
    /// No key in the JWKS with this `kid`.
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// `iss` is not the upstream's.
    Issuer,
    /// `aud` (or `azp`) is not our client id.
    Audience,
    /// Expired, or issued in the future.
    Expired,
    /// `nonce` differs from the one sent.
    Nonce,
}

impl IdTokenError {
    /// The reason code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "id_token_malformed",
            Self::Algorithm => "id_token_bad_alg",
            Self::UnknownKey => "id_token_unknown_key",
            Self::Signature => "id_token_bad_signature",
            Self::Issuer => "id_token_wrong_issuer",
            Self::Audience => "id_token_wrong_audience",
            Self::Expired => "id_token_expired",
            Self::Nonce => "id_token_wrong_nonce",
        }
    }
}

/// What an upstream ID token must show.
#[derive(Debug)]
pub struct IdTokenExpectations<'a> {
    /// The upstream issuer (`{tenantid}` in it matches the token's `tid`, as Microsoft's
    /// multi-tenant discovery document says).
    pub issuer: &'a str,
    /// Our client id.
    pub client_id: &'a str,
    /// The nonce sent.
    pub nonce: &'a str,
    /// Now.
    pub now: UnixTime,
}

/// Checks an upstream ID token (OIDC Core §3.1.3.7) against the upstream's JWKS: an
/// asymmetric algorithm matching the key, signature, `iss`, `aud`/`azp`, `exp`/`iat` (with
/// [`ID_TOKEN_LEEWAY`]) and `nonce`. Returns its claims.
pub fn validate_id_token(
    token: &str,
    jwks: &Value,
    expect: &IdTokenExpectations<'_>,
) -> Result<Value, IdTokenError> {
    use crate::runtime::jws::{self, JwsError};
    use jsonwebtoken::Algorithm as A;
    let algs = [
        A::RS256,
        A::RS384,
        A::RS512,
        A::PS256,
        A::PS384,
        A::PS512,
        A::ES256,
        A::ES384,
        A::EdDSA,
    ];
    let claims = jws::verify(token, jwks, &algs).map_err(|e| match e {
        JwsError::Malformed => IdTokenError::Malformed,
        JwsError::Algorithm => IdTokenError::Algorithm,
        JwsError::UnknownKey => IdTokenError::UnknownKey,
        JwsError::Signature => IdTokenError::Signature,
    })?;
    let iss = claims["iss"].as_str().unwrap_or("");
    let expected_iss = match claims["tid"].as_str() {
        Some(tid) if expect.issuer.contains("{tenantid}") => {
            expect.issuer.replace("{tenantid}", tid)
        }
        _ => expect.issuer.to_owned(),
    };
    if iss.is_empty() || iss != expected_iss {
        return Err(IdTokenError::Issuer);
    }
    let auds: Vec<&str> = match &claims["aud"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !auds.contains(&expect.client_id) {
        return Err(IdTokenError::Audience);
    }
    // OIDC Core §3.1.3.7: an azp, when present, must be our client id.
    if claims["azp"]
        .as_str()
        .is_some_and(|azp| azp != expect.client_id)
    {
        return Err(IdTokenError::Audience);
    }
    let exp = claims["exp"].as_u64().ok_or(IdTokenError::Expired)?;
    // The upstream signed any number: no overflow.
    if exp.saturating_add(ID_TOKEN_LEEWAY) <= expect.now {
        return Err(IdTokenError::Expired);
    }
    if claims["iat"]
        .as_u64()
        .is_some_and(|iat| iat > expect.now + ID_TOKEN_LEEWAY)
    {
        return Err(IdTokenError::Expired);
    }
    let nonce = claims["nonce"].as_str().unwrap_or("");
    if !crypto::ct_eq(nonce.as_bytes(), expect.nonce.as_bytes()) {
        return Err(IdTokenError::Nonce);
    }
    Ok(claims)
}

/// The value at a dotted path.
fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn short(s: Option<String>, max: usize) -> Option<String> {
    s.filter(|s| s.len() <= max)
}

/// Applies a connector's mapping to the upstream's claims (ID token and userinfo merged,
/// or the userinfo document). Fails if the subject is missing.
pub fn map_claims(mapping: &ClaimMapping, claims: &Value) -> EngineResult<UpstreamIdentity> {
    fn field(f: &Option<String>) -> Option<&str> {
        f.as_deref().filter(|f| !f.is_empty())
    }
    let subject = text(at(claims, &mapping.subject))
        .filter(|s| s.len() <= 255)
        .ok_or_else(|| {
            EngineError::Invalid(format!(
                "the upstream's answer has no usable {:?} (the subject mapping)",
                mapping.subject
            ))
        })?;
    let get = |f: &Option<String>, max| short(text(field(f).and_then(|f| at(claims, f))), max);
    let email = get(&mapping.email, 254);
    let email_verified = field(&mapping.email_verified)
        .and_then(|f| at(claims, f))
        .is_some_and(|v| v == &Value::Bool(true) || v.as_str() == Some("true"));
    let groups = match field(&mapping.groups).and_then(|f| at(claims, f)) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|g| text(Some(g)))
            .filter(|g| g.len() <= 200)
            .take(100)
            .collect(),
        Some(v) => text(Some(v)).into_iter().collect(),
        None => Vec::new(),
    };
    let extra = mapping
        .keep
        .iter()
        .filter_map(|k| at(claims, k).map(|v| (k.clone(), v.clone())))
        .filter(|(_, v)| v.to_string().len() <= 2048)
        .collect();
    Ok(UpstreamIdentity {
        subject,
        email,
        email_verified,
        name: get(&mapping.name, 200),
        picture: get(&mapping.picture, 2048),
        locale: get(&mapping.locale, 35),
        groups,
        extra,
    })
}

/// Picks the address from a GitHub-shaped email list: the primary if verified, else the
/// first verified, else the primary (unverified).
pub fn pick_email(list: &Value) -> Option<(String, bool)> {
    let items = list.as_array()?;
    let entry = |e: &Value| {
        Some((
            // As long as `map_claims` allows (RFC 5321's 254), or not an address.
            e["email"].as_str().filter(|m| m.len() <= 254)?.to_owned(),
            e["verified"].as_bool().unwrap_or(false),
            e["primary"].as_bool().unwrap_or(false),
        ))
    };
    let all: Vec<_> = items.iter().filter_map(entry).collect();
    all.iter()
        .find(|(_, v, p)| *v && *p)
        .or_else(|| all.iter().find(|(_, v, _)| *v))
        .or_else(|| all.iter().find(|(_, _, p)| *p))
        .map(|(e, v, _)| (e.clone(), *v))
}

/// Apple's client secret: an ES256 JWT (`iss` team id, `sub` client id, `aud` Apple),
/// valid five minutes, signed with the developer key (PKCS#8 PEM).
pub fn apple_client_secret(
    apple: &AppleSigning,
    client_id: &str,
    private_key_pem: &str,
    now: UnixTime,
) -> EngineResult<String> {
    let bad =
        || EngineError::Invalid("the Apple private key must be an ES256 key in PEM (.p8)".into());
    let body: String = private_key_pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body)
        .map_err(|_| bad())?;
    // Parse now: jsonwebtoken would only fail when signing.
    aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &der,
    )
    .map_err(|_| bad())?;
    let key = jsonwebtoken::EncodingKey::from_ec_der(&der);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(apple.key_id.clone());
    let claims = json!({
        "iss": apple.team_id,
        "iat": now,
        "exp": now + 300,
        "aud": "https://appleid.apple.com",
        "sub": client_id,
    });
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| EngineError::Internal(format!("apple client secret: {e}")))
}
