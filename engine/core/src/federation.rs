//! Federation: signing in through an upstream identity provider, behind the tenant's one
//! issuer. Relying parties still see Tollgate's tokens and Tollgate's `sub`.
//!
//! - **Connectors** are per-tenant: a generic OpenID Connect one (discovery, code + PKCE,
//!   nonce, ID token checked against the upstream JWKS), a generic OAuth 2.0 one with a
//!   userinfo mapping, and presets (Google, Microsoft, Apple, GitHub, LinkedIn, DigiLocker)
//!   that fill in endpoints, scopes and the mapping. Client secrets are sealed at rest.
//! - **The gateway does the HTTP** (discovery, JWKS, token and userinfo calls); this module
//!   decides: it keeps the pending sign-in (state, nonce, PKCE verifier; single use, bound
//!   to the browser), checks ID tokens, maps claims and links or provisions the user.
//! - **Linking rules:** an upstream identity already linked signs its user in. Otherwise an
//!   existing account with the same email is linked only when the upstream says the email
//!   is verified *and* the connector allows linking by email; else the user must prove the
//!   account (its password) first. With no such account, a new one is provisioned.
//! - **Links** are keyed by a keyed hash of (tenant, provider, upstream subject), so the
//!   upstream identifier is not an index in the clear; the mapped profile and any upstream
//!   tokens kept are sealed with AES-256-GCM under the user's data key (bound to tenant,
//!   user and provider), so deleting the account erases them.
//! - **Audit:** `login.federated` for every federated sign-in (success or the reason it
//!   failed), `federation.linked`, `federation.unlinked`, `federation.provisioned`. Events
//!   carry the provider id and reason codes, never emails or tokens.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::clock::UnixTime;
use crate::crypto::{self, MasterKey, b64, b64_decode, random_token};
use crate::engine::{Engine, RequestMeta};
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::federation::{
    AppleSigning, ClaimMapping, Connector, Link, MappingInput, Protocol, TokenAuth,
};
use crate::model::signin::SignInStep;
use crate::model::{Challenge, FactorKind, Hash32, User};
use crate::store::StoreError;

/// How long a pending federated sign-in (the round trip to the upstream) may take.
pub const PENDING_TTL: u64 = 600;
/// How long a user has to prove an existing account before a link is made.
pub const LINK_TTL: u64 = 600;
/// Password attempts allowed when proving an existing account.
pub const LINK_TRIES: u32 = 5;
/// Clock skew allowed on upstream ID tokens, seconds.
pub const ID_TOKEN_LEEWAY: u64 = 60;

const PURPOSE_PENDING: &str = "federation";
const PURPOSE_LINK: &str = "federation_link";

/// The presets a connector can start from.
pub const PRESETS: [&str; 8] = [
    "oidc",
    "oauth2",
    "google",
    "microsoft",
    "apple",
    "github",
    "linkedin",
    "digilocker",
];

/// The admin API's connector document (`PUT /admin/v1/tenants/{t}/connectors/{id}`).
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectorInput {
    /// One of [`PRESETS`]; `oidc` if absent.
    pub preset: Option<String>,
    /// Button text; the preset's name if absent.
    pub display_name: Option<String>,
    /// `false` hides the button and refuses sign-ins; `true` if absent.
    pub enabled: Option<bool>,
    /// Our client id at the upstream.
    pub client_id: String,
    /// The client secret (Apple: the `.p8` private key, PEM). Absent on an update: kept.
    pub client_secret: Option<String>,
    /// OIDC issuer.
    pub issuer: Option<String>,
    /// Authorization endpoint.
    pub authorization_endpoint: Option<String>,
    /// Token endpoint.
    pub token_endpoint: Option<String>,
    /// Userinfo endpoint.
    pub userinfo_endpoint: Option<String>,
    /// GitHub-shaped email list endpoint.
    pub emails_endpoint: Option<String>,
    /// Scopes; the preset's if absent.
    pub scopes: Option<Vec<String>>,
    /// Mapping changes.
    pub mapping: Option<MappingInput>,
    /// Link to an existing account by verified email.
    pub link_by_email: Option<bool>,
    /// Keep upstream tokens (sealed).
    pub store_tokens: Option<bool>,
    /// Token endpoint authentication.
    pub token_auth: Option<TokenAuth>,
    /// Apple team id.
    pub apple_team_id: Option<String>,
    /// Apple key id.
    pub apple_key_id: Option<String>,
}

impl fmt::Debug for ConnectorInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorInput")
            .field("preset", &self.preset)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<hidden>"),
            )
            .finish_non_exhaustive()
    }
}

struct Preset {
    name: &'static str,
    display: &'static str,
    protocol: Protocol,
    issuer: Option<&'static str>,
    authorization: Option<&'static str>,
    token: Option<&'static str>,
    userinfo: Option<&'static str>,
    emails: Option<&'static str>,
    scopes: &'static [&'static str],
    mapping: ClaimMapping,
    response_mode: Option<&'static str>,
}

fn preset(name: &str) -> Option<Preset> {
    let oidc = |display, issuer, scopes: &'static [&'static str]| Preset {
        name: "",
        display,
        protocol: Protocol::Oidc,
        issuer,
        authorization: None,
        token: None,
        userinfo: None,
        emails: None,
        scopes,
        mapping: ClaimMapping::default(),
        response_mode: None,
    };
    const OIDC_SCOPES: &[&str] = &["openid", "email", "profile"];
    let mut p = match name {
        "oidc" => oidc("OpenID Connect", None, OIDC_SCOPES),
        "google" => oidc("Google", Some("https://accounts.google.com"), OIDC_SCOPES),
        "microsoft" => {
            let mut p = oidc(
                "Microsoft",
                Some("https://login.microsoftonline.com/common/v2.0"),
                OIDC_SCOPES,
            );
            // Microsoft does not say whether it verified an address: never link by it.
            p.mapping.email_verified = None;
            p.mapping.picture = None;
            p
        }
        "apple" => {
            let mut p = oidc(
                "Apple",
                Some("https://appleid.apple.com"),
                &["openid", "email", "name"],
            );
            // Apple sends name and email only with form_post.
            p.response_mode = Some("form_post");
            p.mapping.picture = None;
            p.mapping.locale = None;
            p.mapping.name = None;
            p
        }
        "linkedin" => oidc(
            "LinkedIn",
            Some("https://www.linkedin.com/oauth"),
            OIDC_SCOPES,
        ),
        "oauth2" => Preset {
            name: "",
            display: "OAuth 2.0",
            protocol: Protocol::Oauth2,
            issuer: None,
            authorization: None,
            token: None,
            userinfo: None,
            emails: None,
            scopes: &[],
            mapping: ClaimMapping {
                subject: "id".into(),
                ..ClaimMapping::default()
            },
            response_mode: None,
        },
        "github" => Preset {
            name: "",
            display: "GitHub",
            protocol: Protocol::Oauth2,
            issuer: None,
            authorization: Some("https://github.com/login/oauth/authorize"),
            token: Some("https://github.com/login/oauth/access_token"),
            userinfo: Some("https://api.github.com/user"),
            emails: Some("https://api.github.com/user/emails"),
            scopes: &["read:user", "user:email"],
            mapping: ClaimMapping {
                subject: "id".into(),
                // The address comes, with its verification, from /user/emails.
                email: None,
                email_verified: None,
                name: Some("name".into()),
                picture: Some("avatar_url".into()),
                locale: None,
                groups: None,
                keep: Vec::new(),
            },
            response_mode: None,
        },
        "digilocker" => Preset {
            name: "",
            display: "DigiLocker",
            protocol: Protocol::Oauth2,
            issuer: None,
            authorization: Some("https://digilocker.meripehchaan.gov.in/public/oauth2/1/authorize"),
            token: Some("https://digilocker.meripehchaan.gov.in/public/oauth2/1/token"),
            userinfo: Some("https://digilocker.meripehchaan.gov.in/public/oauth2/1/user"),
            emails: None,
            scopes: &[],
            // The name is the one DigiLocker verified against Aadhaar; other identifiers
            // (dob, gender, eaadhaar, reference_key...) are kept only if the tenant lists
            // them in `keep`.
            mapping: ClaimMapping {
                subject: "digilockerid".into(),
                email: None,
                email_verified: None,
                name: Some("name".into()),
                picture: None,
                locale: None,
                groups: None,
                keep: Vec::new(),
            },
            response_mode: None,
        },
        _ => return None,
    };
    p.name = PRESETS.iter().copied().find(|n| *n == name)?;
    Some(p)
}

/// Whether `s` can be a connector id: 1-40 of `a-z 0-9 -`, starting with a letter or digit.
pub fn valid_connector_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks an upstream URL: absolute `https`, or `http` on a loopback host (development and
/// tests). Never userinfo or a fragment.
pub fn check_upstream_url(what: &str, u: &str) -> EngineResult<()> {
    let bad = |why: &str| Err(EngineError::Invalid(format!("{what} {u:?} {why}")));
    let Ok(url) = url::Url::parse(u) else {
        return bad("is not an absolute URL");
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return bad("must not carry credentials or a fragment");
    }
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => bad("must use https (plain http is allowed only for loopback addresses)"),
        _ => bad("must be an https URL"),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// What the upstream said about the user, after the mapping: only mapped fields.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UpstreamIdentity {
    /// Stable upstream identifier.
    pub subject: String,
    /// Email, if mapped and given.
    pub email: Option<String>,
    /// Whether the upstream asserts it verified the email.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Groups.
    pub groups: Vec<String>,
    /// The `keep` claims.
    pub extra: BTreeMap<String, Value>,
}

impl fmt::Debug for UpstreamIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamIdentity")
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

/// Upstream tokens, kept (sealed) only when the connector says so.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamTokens {
    /// Access token.
    pub access_token: String,
    /// Refresh token, if any.
    pub refresh_token: Option<String>,
    /// When the access token expires, if said.
    pub expires_at: Option<UnixTime>,
    /// Granted scope, if said.
    pub scope: Option<String>,
}

impl fmt::Debug for UpstreamTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UpstreamTokens(<hidden>)")
    }
}

/// A linked identity as the account page shows it.
#[derive(Clone, Debug)]
pub struct LinkedIdentity {
    /// Connector id.
    pub provider: String,
    /// Connector name (or the id, if the connector was removed).
    pub display_name: String,
    /// The link's key, hex: names it in the unlink form.
    pub key: String,
    /// The upstream email, if mapped.
    pub email: Option<String>,
    /// Linked.
    pub created_at: UnixTime,
    /// Last used.
    pub last_login_at: UnixTime,
}

/// What the gateway needs to send the browser upstream.
#[derive(Debug)]
pub struct FederationStart {
    /// The connector.
    pub connector: Connector,
    /// `state`: 256 random bits, single use.
    pub state: String,
    /// `nonce` (OIDC).
    pub nonce: String,
    /// PKCE S256 challenge.
    pub code_challenge: String,
}

/// A pending federated sign-in, taken (once) at the callback.
#[derive(Debug)]
pub struct FederationPending {
    /// The connector.
    pub connector: Connector,
    /// The nonce sent upstream.
    pub nonce: String,
    /// The PKCE verifier.
    pub code_verifier: String,
    /// The sealed authorization request it continues, if any.
    pub tx: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct PendingData {
    connector: String,
    nonce: String,
    verifier: String,
    tx: Option<String>,
    binding: Hash32,
}

#[derive(Serialize, Deserialize)]
struct LinkData {
    connector: String,
    /// Sealed (identity, tokens), AAD: tenant/user/provider.
    sealed: String,
    tx: Option<String>,
}

/// A federated sign-in, as the callback learned it.
#[derive(Debug)]
pub struct FederatedSignIn<'a> {
    /// Through which connector.
    pub connector: &'a Connector,
    /// Who the upstream says the user is (mapped).
    pub identity: UpstreamIdentity,
    /// The upstream's tokens (kept only if the connector says so).
    pub tokens: Option<UpstreamTokens>,
    /// The sealed authorization request being continued, if any.
    pub tx: Option<String>,
    /// The relying party asked for two factors.
    pub want_two: bool,
}

/// How a federated sign-in ended.
#[derive(Debug)]
pub enum FederatedOutcome {
    /// Signed in (or a second factor is next).
    Step(SignInStep),
    /// An account with the upstream's email exists but may not be linked without proof:
    /// ask for its password (the handle goes into the form).
    ConfirmLink {
        /// Opaque, single use.
        handle: String,
    },
}

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
    use jsonwebtoken::{Algorithm as A, DecodingKey, Validation, jwk::Jwk};
    let header = jsonwebtoken::decode_header(token).map_err(|_| IdTokenError::Malformed)?;
    let alg = header.alg;
    if !matches!(
        alg,
        A::RS256
            | A::RS384
            | A::RS512
            | A::PS256
            | A::PS384
            | A::PS512
            | A::ES256
            | A::ES384
            | A::EdDSA
    ) {
        return Err(IdTokenError::Algorithm);
    }
    let keys: Vec<Jwk> = jwks["keys"]
        .as_array()
        .map(|ks| {
            ks.iter()
                .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    let usable = |k: &&Jwk| {
        k.common.public_key_use != Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
            && k.common
                .key_algorithm
                .is_none_or(|ka| ka.to_string() == format!("{alg:?}"))
    };
    let jwk = match &header.kid {
        Some(kid) => keys
            .iter()
            .filter(usable)
            .find(|k| k.common.key_id.as_deref() == Some(kid.as_str())),
        None => {
            let mut it = keys.iter().filter(usable);
            match (it.next(), it.next()) {
                (Some(k), None) => Some(k),
                _ => None,
            }
        }
    }
    .ok_or(IdTokenError::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| IdTokenError::UnknownKey)?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let claims = match jsonwebtoken::decode::<Value>(token, &key, &v) {
        Ok(d) => d.claims,
        Err(e) => {
            return Err(match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => IdTokenError::Signature,
                jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => IdTokenError::Algorithm,
                _ => IdTokenError::Malformed,
            });
        }
    };
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
    if exp + ID_TOKEN_LEEWAY <= expect.now {
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
            e["email"].as_str()?.to_owned(),
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

fn pending_expired() -> EngineError {
    EngineError::Invalid(
        "This sign-in attempt expired or was already used. Go back to the application and start again."
            .into(),
    )
}

impl Engine {
    fn secrets_key(&self) -> MasterKey {
        MasterKey::from_bytes(self.0.master.derive("tollgate federation secrets v1"))
    }

    fn profile_key(&self) -> MasterKey {
        MasterKey::from_bytes(self.0.master.derive("tollgate federation profiles v1"))
    }

    fn link_aad(tenant: &TenantId, user: &UserId, provider: &str) -> Vec<u8> {
        format!("{tenant}/{user}/{provider}").into_bytes()
    }

    /// The link key of an upstream subject.
    pub fn link_key(&self, tenant: &TenantId, provider: &str, subject: &str) -> Hash32 {
        let k = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            &self.0.master.derive("tollgate federation subjects v1"),
        );
        let tag = ring::hmac::sign(&k, format!("{tenant}\0{provider}\0{subject}").as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Hash32(out)
    }

    /// `{public_url}/{tenant}/federation/{connector}/callback`: registered at the upstream.
    pub fn federation_redirect_uri(&self, tenant: &TenantId, connector: &str) -> String {
        format!(
            "{}/{tenant}/federation/{connector}/callback",
            self.0.config.public_url
        )
    }

    // ---- Administration ----------------------------------------------------------------

    /// Creates or replaces a connector. On a replacement without `client_secret`, the
    /// stored secret is kept.
    pub async fn put_connector(
        &self,
        tenant: &TenantId,
        id: &str,
        input: ConnectorInput,
    ) -> EngineResult<Connector> {
        self.tenant(tenant).await?;
        if !valid_connector_id(id) {
            return Err(EngineError::Invalid(
                "connector id must be 1-40 characters of a-z, 0-9 and '-'".into(),
            ));
        }
        let preset_name = input.preset.as_deref().unwrap_or("oidc");
        let p = preset(preset_name).ok_or_else(|| {
            EngineError::Invalid(format!(
                "unknown preset {preset_name:?}; one of: {}",
                PRESETS.join(", ")
            ))
        })?;
        let client_id = input.client_id.trim().to_owned();
        if client_id.is_empty() || client_id.len() > 512 {
            return Err(EngineError::Invalid(
                "client_id (our client id at the upstream) is required".into(),
            ));
        }
        let old = self.0.store.get_connector(tenant, id).await?;
        let pick = |given: Option<String>, default: Option<&str>| {
            given
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .or(default.map(str::to_owned))
        };
        let issuer = pick(input.issuer, p.issuer).map(|s| s.trim_end_matches('/').to_owned());
        let authorization_endpoint = pick(input.authorization_endpoint, p.authorization);
        let token_endpoint = pick(input.token_endpoint, p.token);
        let userinfo_endpoint = pick(input.userinfo_endpoint, p.userinfo);
        let emails_endpoint = pick(input.emails_endpoint, p.emails);
        for (what, u) in [
            ("issuer", &issuer),
            ("authorization_endpoint", &authorization_endpoint),
            ("token_endpoint", &token_endpoint),
            ("userinfo_endpoint", &userinfo_endpoint),
            ("emails_endpoint", &emails_endpoint),
        ] {
            if let Some(u) = u {
                check_upstream_url(what, u)?;
            }
        }
        match p.protocol {
            Protocol::Oidc if issuer.is_none() => {
                return Err(EngineError::Invalid(
                    "an OpenID Connect connector needs issuer (its discovery document is at {issuer}/.well-known/openid-configuration)".into(),
                ));
            }
            Protocol::Oauth2
                if authorization_endpoint.is_none()
                    || token_endpoint.is_none()
                    || (userinfo_endpoint.is_none() && emails_endpoint.is_none()) =>
            {
                return Err(EngineError::Invalid(
                    "an OAuth 2.0 connector needs authorization_endpoint, token_endpoint and userinfo_endpoint".into(),
                ));
            }
            _ => {}
        }
        let mut mapping = p.mapping.clone();
        if let Some(m) = input.mapping {
            let set = |slot: &mut Option<String>, v: Option<String>| {
                if let Some(v) = v {
                    *slot = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
                }
            };
            if let Some(s) = m.subject.filter(|s| !s.trim().is_empty()) {
                mapping.subject = s.trim().to_owned();
            }
            set(&mut mapping.email, m.email);
            set(&mut mapping.email_verified, m.email_verified);
            set(&mut mapping.name, m.name);
            set(&mut mapping.picture, m.picture);
            set(&mut mapping.locale, m.locale);
            set(&mut mapping.groups, m.groups);
            if let Some(k) = m.keep {
                mapping.keep = k.into_iter().filter(|k| !k.trim().is_empty()).collect();
            }
        }
        if mapping.keep.len() > 20 {
            return Err(EngineError::Invalid("at most 20 claims may be kept".into()));
        }
        let apple = match (input.apple_team_id, input.apple_key_id) {
            (Some(team_id), Some(key_id)) => Some(AppleSigning { team_id, key_id }),
            (None, None) => old.as_ref().and_then(|o| o.apple.clone()),
            _ => {
                return Err(EngineError::Invalid(
                    "apple_team_id and apple_key_id go together".into(),
                ));
            }
        };
        if p.name == "apple" && apple.is_none() {
            return Err(EngineError::Invalid(
                "the apple preset needs apple_team_id, apple_key_id and the .p8 private key as client_secret".into(),
            ));
        }
        let aad = format!("{tenant}/connector/{id}");
        let sealed_secret = match input.client_secret {
            Some(s) if !s.trim().is_empty() => {
                if let Some(a) = &apple {
                    // Fail now, not at the first sign-in.
                    apple_client_secret(a, &client_id, s.trim(), self.now())?;
                }
                Some(b64(&self
                    .secrets_key()
                    .seal(aad.as_bytes(), s.trim().as_bytes())))
            }
            _ => old.as_ref().and_then(|o| o.sealed_secret.clone()),
        };
        if p.name == "apple" && sealed_secret.is_none() {
            return Err(EngineError::Invalid(
                "the apple preset needs the .p8 private key as client_secret".into(),
            ));
        }
        let scopes = input
            .scopes
            .unwrap_or_else(|| p.scopes.iter().map(|s| (*s).to_owned()).collect());
        if scopes
            .iter()
            .any(|s| s.is_empty() || s.contains(' ') || s.len() > 200)
        {
            return Err(EngineError::Invalid(
                "scopes are single words without spaces".into(),
            ));
        }
        if p.protocol == Protocol::Oidc && !scopes.iter().any(|s| s == "openid") {
            return Err(EngineError::Invalid(
                "an OpenID Connect connector must ask for the openid scope".into(),
            ));
        }
        let display_name = input
            .display_name
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| p.display.to_owned());
        if display_name.len() > 100 {
            return Err(EngineError::Invalid(
                "display_name is at most 100 characters".into(),
            ));
        }
        let now = self.now();
        let c = Connector {
            tenant: tenant.clone(),
            id: id.to_owned(),
            display_name,
            preset: p.name.to_owned(),
            protocol: p.protocol,
            enabled: input.enabled.unwrap_or(true),
            client_id,
            sealed_secret,
            issuer,
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint,
            emails_endpoint,
            scopes,
            mapping,
            link_by_email: input.link_by_email.unwrap_or(false),
            store_tokens: input.store_tokens.unwrap_or(false),
            token_auth: input.token_auth.unwrap_or_default(),
            response_mode: p.response_mode.map(str::to_owned),
            apple,
            created_at: old.as_ref().map_or(now, |o| o.created_at),
            updated_at: now,
        };
        self.0.store.put_connector(&c).await?;
        let mut ev = self.event(tenant, "admin.connector_saved", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("provider={id} preset={}", c.preset));
        self.record_now(ev).await?;
        Ok(c)
    }

    /// A tenant's connectors, by id.
    pub async fn connectors(&self, tenant: &TenantId) -> EngineResult<Vec<Connector>> {
        self.tenant(tenant).await?;
        let mut all = self.0.store.list_connectors(tenant).await?;
        all.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(all)
    }

    /// One connector.
    pub async fn connector(&self, tenant: &TenantId, id: &str) -> EngineResult<Option<Connector>> {
        if !valid_connector_id(id) {
            return Ok(None);
        }
        self.0
            .store
            .get_connector(tenant, id)
            .await
            .map_err(EngineError::from)
    }

    /// Removes a connector. Its links stay (the account page lists them) but cannot be
    /// used to sign in until a connector with this id exists again.
    pub async fn delete_connector(&self, tenant: &TenantId, id: &str) -> EngineResult<()> {
        self.tenant(tenant).await?;
        if !self.0.store.delete_connector(tenant, id).await? {
            return Err(EngineError::NotFound("connector"));
        }
        let mut ev = self.event(tenant, "admin.connector_deleted", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("provider={id}"));
        self.record_now(ev).await
    }

    /// The secret to authenticate at the upstream token endpoint (Apple: a fresh JWT).
    pub fn connector_client_secret(&self, c: &Connector) -> EngineResult<Option<String>> {
        let Some(sealed) = &c.sealed_secret else {
            return Ok(None);
        };
        let raw =
            b64_decode(sealed).ok_or_else(|| EngineError::Internal("bad sealed secret".into()))?;
        let aad = format!("{}/connector/{}", c.tenant, c.id);
        let plain = self.secrets_key().open(aad.as_bytes(), &raw)?;
        let secret = String::from_utf8(plain)
            .map_err(|_| EngineError::Internal("connector secret is not text".into()))?;
        match &c.apple {
            Some(a) => apple_client_secret(a, &c.client_id, &secret, self.now()).map(Some),
            None => Ok(Some(secret)),
        }
    }

    // ---- The round trip ----------------------------------------------------------------

    /// Starts a federated sign-in: a single-use pending record keyed by the hash of
    /// `state`, bound to the browser by `binding` (a random cookie value; only its hash is
    /// kept). `tx` is the sealed authorization request to continue afterwards.
    pub async fn begin_federation(
        &self,
        tenant: &TenantId,
        connector: &str,
        tx: Option<String>,
        binding: &str,
        meta: &RequestMeta,
    ) -> EngineResult<FederationStart> {
        self.tenant(tenant).await?;
        self.0
            .federation_starts
            .try_send(tenant, "", meta.ip.as_deref())
            .map_err(|retry_after_secs| EngineError::RateLimited { retry_after_secs })?;
        let c = self
            .connector(tenant, connector)
            .await?
            .filter(|c| c.enabled)
            .ok_or(EngineError::NotFound("connector"))?;
        let state = random_token::<32>();
        let nonce = random_token::<32>();
        let verifier = random_token::<32>();
        let data = PendingData {
            connector: c.id.clone(),
            nonce: nonce.clone(),
            verifier: verifier.clone(),
            tx,
            binding: Hash32::of(binding.as_bytes()),
        };
        let ch = Challenge {
            tenant: tenant.clone(),
            key: Hash32::of(state.as_bytes()),
            purpose: PURPOSE_PENDING.into(),
            user_id: None,
            data: serde_json::to_value(&data).expect("json"),
            tries_left: 1,
            expires_at: self.now() + PENDING_TTL,
        };
        self.0.store.put_challenge(&ch).await?;
        Ok(FederationStart {
            code_challenge: crypto::pkce_s256(&verifier),
            connector: c,
            state,
            nonce,
        })
    }

    /// Takes the pending sign-in named by `state` (once): it must be for this connector,
    /// unexpired, and presented by the browser that started it.
    pub async fn take_federation(
        &self,
        tenant: &TenantId,
        connector: &str,
        state: &str,
        binding: Option<&str>,
    ) -> EngineResult<FederationPending> {
        if state.len() != 43 {
            return Err(pending_expired());
        }
        let ch = self
            .0
            .store
            .take_challenge(tenant, &Hash32::of(state.as_bytes()))
            .await?
            .filter(|c| {
                c.purpose == PURPOSE_PENDING && c.expires_at > self.now() && &c.tenant == tenant
            })
            .ok_or_else(pending_expired)?;
        let data: PendingData =
            serde_json::from_value(ch.data).map_err(|e| EngineError::Internal(e.to_string()))?;
        let bound =
            binding.is_some_and(|b| crypto::ct_eq(&Hash32::of(b.as_bytes()).0, &data.binding.0));
        if data.connector != connector || !bound {
            return Err(pending_expired());
        }
        let c = self
            .connector(tenant, connector)
            .await?
            .filter(|c| c.enabled)
            .ok_or(EngineError::NotFound("connector"))?;
        Ok(FederationPending {
            connector: c,
            nonce: data.nonce,
            code_verifier: data.verifier,
            tx: data.tx,
        })
    }

    /// Records a federated sign-in that failed before an identity was known (upstream
    /// error, bad token): `reason` is a code, never upstream text.
    pub fn federation_failed(
        &self,
        tenant: &TenantId,
        connector: &str,
        reason: &str,
        meta: &RequestMeta,
    ) {
        let mut ev = self.event(tenant, "login.federated", false);
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("provider={connector} reason={reason}"));
        self.record(ev);
    }

    /// Signs in with an upstream identity: the linked user; or an existing account with
    /// the same verified email, when the connector allows linking by email; or a proof of
    /// the existing account first; or a new account.
    pub async fn federated_sign_in(
        &self,
        tenant: &TenantId,
        sign_in: FederatedSignIn<'_>,
        meta: &RequestMeta,
    ) -> EngineResult<FederatedOutcome> {
        let FederatedSignIn {
            connector,
            identity,
            tokens,
            tx,
            want_two,
        } = sign_in;
        let provider = connector.id.as_str();
        let key = self.link_key(tenant, provider, &identity.subject);
        let tokens = tokens.filter(|_| connector.store_tokens);
        if let Some(link) = self.0.store.find_link(tenant, provider, &key).await?
            && let Some(user) = self.user(tenant, &link.user_id).await?
        {
            return self
                .sign_in_linked(tenant, link, &user, &identity, tokens, want_two, meta)
                .await
                .map(FederatedOutcome::Step);
        }
        let email = identity.email.as_deref().and_then(|e| Email::parse(e).ok());
        let existing = match &email {
            Some(e) => self.user_by_email(tenant, e).await?,
            None => None,
        };
        if let Some(user) = existing {
            // Both sides must have proven the address: an unverified local account may
            // have been registered by someone else in advance (pre-account takeover).
            if connector.link_by_email && identity.email_verified && user.email_verified {
                let link = self
                    .create_link(
                        tenant,
                        &user,
                        provider,
                        &identity,
                        tokens.as_ref(),
                        "verified_email",
                        meta,
                    )
                    .await?;
                return self
                    .sign_in_linked(tenant, link, &user, &identity, None, want_two, meta)
                    .await
                    .map(FederatedOutcome::Step);
            }
            // Not allowed to link on the upstream's word: the user proves the account.
            let sealed = b64(&self.profile_key().seal(
                &Self::link_aad(tenant, &user.id, provider),
                &serde_json::to_vec(&(&identity, &tokens)).expect("json"),
            ));
            let handle = random_token::<32>();
            let ch = Challenge {
                tenant: tenant.clone(),
                key: Hash32::of(handle.as_bytes()),
                purpose: PURPOSE_LINK.into(),
                user_id: Some(user.id.clone()),
                data: serde_json::to_value(LinkData {
                    connector: provider.to_owned(),
                    sealed,
                    tx,
                })
                .expect("json"),
                tries_left: LINK_TRIES,
                expires_at: self.now() + LINK_TTL,
            };
            self.0.store.put_challenge(&ch).await?;
            let mut ev = self.event(tenant, "federation.link_required", true);
            ev.subject = Some(user.id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some(format!(
                "provider={provider} reason={}",
                if !connector.link_by_email {
                    "link_by_email_off"
                } else if !identity.email_verified {
                    "email_not_verified"
                } else {
                    "local_email_not_verified"
                }
            ));
            self.record(ev);
            return Ok(FederatedOutcome::ConfirmLink { handle });
        }
        let user = self
            .provision_user(tenant, connector, &identity, email)
            .await?;
        let link = match self
            .create_link(
                tenant,
                &user,
                provider,
                &identity,
                tokens.as_ref(),
                "provisioned",
                meta,
            )
            .await
        {
            Ok(l) => l,
            // Another sign-in of the same upstream identity won the race: use its link
            // (the user made here stays unused, with no way to sign in).
            Err(EngineError::Conflict(_)) => {
                let link = self
                    .0
                    .store
                    .find_link(tenant, provider, &key)
                    .await?
                    .ok_or(EngineError::Conflict("link"))?;
                let user = self
                    .user(tenant, &link.user_id)
                    .await?
                    .ok_or(EngineError::NotFound("user"))?;
                return self
                    .sign_in_linked(tenant, link, &user, &identity, None, want_two, meta)
                    .await
                    .map(FederatedOutcome::Step);
            }
            Err(e) => return Err(e),
        };
        self.sign_in_linked(tenant, link, &user, &identity, None, want_two, meta)
            .await
            .map(FederatedOutcome::Step)
    }

    /// A new user from an upstream identity (just-in-time provisioning): no password; the
    /// email if the upstream verified it, else an address under the reserved `.invalid`
    /// domain that can receive nothing. An unverified upstream address never becomes a
    /// login id: whoever owns it could otherwise not sign up, and a password reset sent
    /// there would hand them an account the upstream identity also signs into. (The
    /// upstream address stays in the sealed profile of the link.)
    async fn provision_user(
        &self,
        tenant: &TenantId,
        connector: &Connector,
        identity: &UpstreamIdentity,
        email: Option<Email>,
    ) -> EngineResult<User> {
        let id = UserId::generate();
        let (email, verified) = match email.filter(|_| identity.email_verified) {
            Some(e) => (e, true),
            None => (
                Email::parse(&format!("{}@{}.federated.invalid", id, connector.id))?,
                false,
            ),
        };
        // Picture and locale go to the profile fields; groups and kept claims stay with
        // the link.
        let mut profile = std::collections::BTreeMap::new();
        if let Some(p) = &identity.picture {
            profile.insert("picture".to_owned(), p.clone());
        }
        if let Some(l) = &identity.locale {
            profile.insert("locale".to_owned(), l.clone());
        }
        let user = User {
            tenant: tenant.clone(),
            id,
            email,
            email_verified: verified,
            name: identity.name.clone(),
            profile,
            password_hash: None,
            created_at: self.now(),
            deleted_at: None,
        };
        self.insert_new_user(&user).await?;
        let mut ev = self.event(tenant, "federation.provisioned", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.detail = Some(format!("provider={}", connector.id));
        self.record(ev);
        Ok(user)
    }

    /// The user's data key: what the link's profile and upstream tokens are sealed under,
    /// so deleting the account (which destroys the key) erases them, backups included.
    async fn user_vault(&self, tenant: &TenantId, user: &UserId) -> EngineResult<Arc<MasterKey>> {
        self.data_key(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))
    }

    fn seal_for_link<T: Serialize>(
        key: &MasterKey,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        what: &str,
        value: &T,
    ) -> String {
        let mut aad = Self::link_aad(tenant, user, provider);
        aad.extend_from_slice(format!("/{what}").as_bytes());
        b64(&key.seal(&aad, &serde_json::to_vec(value).expect("json")))
    }

    fn open_for_link<T: serde::de::DeserializeOwned>(
        key: &MasterKey,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        what: &str,
        sealed: &str,
    ) -> Option<T> {
        let mut aad = Self::link_aad(tenant, user, provider);
        aad.extend_from_slice(format!("/{what}").as_bytes());
        let plain = key.open(&aad, &b64_decode(sealed)?).ok()?;
        serde_json::from_slice(&plain).ok()
    }

    #[allow(clippy::too_many_arguments)]
    async fn create_link(
        &self,
        tenant: &TenantId,
        user: &User,
        provider: &str,
        identity: &UpstreamIdentity,
        tokens: Option<&UpstreamTokens>,
        how: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Link> {
        let now = self.now();
        let key = self.user_vault(tenant, &user.id).await?;
        let link = Link {
            tenant: tenant.clone(),
            provider: provider.to_owned(),
            key: self.link_key(tenant, provider, &identity.subject),
            user_id: user.id.clone(),
            created_at: now,
            last_login_at: now,
            sealed_profile: Self::seal_for_link(
                &key, tenant, &user.id, provider, "profile", identity,
            ),
            sealed_tokens: tokens
                .map(|t| Self::seal_for_link(&key, tenant, &user.id, provider, "tokens", t)),
        };
        self.0.store.create_link(&link).await.map_err(|e| match e {
            StoreError::Conflict => EngineError::Conflict("link"),
            e => EngineError::from(e),
        })?;
        let mut ev = self.event(tenant, "federation.linked", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("provider={provider} by={how}"));
        self.record_now(ev).await?;
        Ok(link)
    }

    /// Refreshes the link (profile, tokens, last use), records the sign-in and continues
    /// as after any first factor (the tenant's MFA policy still applies).
    #[allow(clippy::too_many_arguments)]
    async fn sign_in_linked(
        &self,
        tenant: &TenantId,
        mut link: Link,
        user: &User,
        identity: &UpstreamIdentity,
        tokens: Option<UpstreamTokens>,
        want_two: bool,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        link.last_login_at = self.now();
        let key = self.user_vault(tenant, &user.id).await?;
        link.sealed_profile =
            Self::seal_for_link(&key, tenant, &user.id, &link.provider, "profile", identity);
        if let Some(t) = &tokens {
            link.sealed_tokens = Some(Self::seal_for_link(
                &key,
                tenant,
                &user.id,
                &link.provider,
                "tokens",
                t,
            ));
        }
        self.0.store.update_link(&link).await?;
        let mut ev = self.event(tenant, "login.federated", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("provider={}", link.provider));
        self.record(ev);
        self.after_first_factor(tenant, user, vec!["fed".into()], want_two)
            .await
    }

    /// Who a pending link concerns and through which connector (for the form).
    pub async fn pending_link(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<Option<(String, Option<String>)>> {
        let ch = self.link_challenge(tenant, handle).await?;
        Ok(match ch {
            Some(c) => {
                let d: LinkData = serde_json::from_value(c.data)
                    .map_err(|e| EngineError::Internal(e.to_string()))?;
                Some((d.connector, d.tx))
            }
            None => None,
        })
    }

    /// Completes a pending link with the existing account's password: links the upstream
    /// identity and signs in (`amr` fed and pwd). A wrong password spends one of
    /// [`LINK_TRIES`]; the answer is `InvalidCredentials` either way.
    pub async fn confirm_link(
        &self,
        tenant: &TenantId,
        handle: &str,
        password: &str,
        want_two: bool,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        let (key, user_id, data) = self.spend_link_try(tenant, handle).await?;
        let user = self.user(tenant, &user_id).await?;
        // The same per-account and per-address limits as the sign-in form: a new pending
        // link (another round trip upstream) must not buy more guesses.
        let account = user
            .as_ref()
            .map(|u| u.email.as_str().to_owned())
            .unwrap_or_default();
        let ip = meta.ip.as_deref();
        if let Some(retry_after_secs) = self.0.throttle.check(tenant, &account, ip) {
            return Err(EngineError::RateLimited { retry_after_secs });
        }
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = self.0.passwords.verify(password, hash).await?;
        if ok {
            self.0.throttle.succeeded(tenant, &account);
        } else {
            self.0.throttle.failed(tenant, &account, ip);
        }
        let (true, Some(user)) = (ok, user) else {
            let mut ev = self.event(tenant, "federation.link_proof", false);
            ev.subject = Some(user_id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some(format!("provider={}", data.connector));
            self.record(ev);
            return Err(EngineError::InvalidCredentials);
        };
        self.finish_link(tenant, &key, &data, &user, "password", meta)
            .await?;
        self.after_first_factor(tenant, &user, vec!["fed".into(), "pwd".into()], want_two)
            .await
    }

    /// Starts proving the account of a pending link with one of its passkeys.
    pub async fn start_link_passkey(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<crate::passkeys::Ceremony> {
        let user = self
            .link_challenge(tenant, handle)
            .await?
            .and_then(|c| c.user_id)
            .ok_or_else(pending_expired)?;
        self.start_passkey_check(
            tenant,
            &user,
            crate::passkeys::LINK,
            Hash32::of(handle.as_bytes()),
        )
        .await
    }

    /// Completes a pending link with a passkey of the existing account: links the
    /// upstream identity and signs in (`amr` fed, hwk and mfa: a passkey is a second
    /// factor on its own, as at passkey sign-in). A failed proof spends one of
    /// [`LINK_TRIES`] and answers as a failed passkey second factor does.
    pub async fn finish_link_passkey(
        &self,
        tenant: &TenantId,
        ceremony: &str,
        handle: &str,
        credential: &Value,
        meta: &RequestMeta,
    ) -> EngineResult<crate::model::signin::NewSession> {
        let (who, state) = self
            .take_passkey_check(
                tenant,
                ceremony,
                crate::passkeys::LINK,
                &Hash32::of(handle.as_bytes()),
            )
            .await?;
        let (key, user_id, data) = self.spend_link_try(tenant, handle).await?;
        let user = self
            .user(tenant, &user_id)
            .await?
            .filter(|_| who.as_ref() == Some(&user_id))
            .ok_or_else(pending_expired)?;
        if !self
            .passkey_check_passes(tenant, &user_id, state, credential)
            .await?
        {
            let mut ev = self.event(tenant, "federation.link_proof", false);
            ev.subject = Some(user_id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some(format!("provider={} method=passkey", data.connector));
            self.record(ev);
            return Err(crate::passkeys::not_verified());
        }
        self.finish_link(tenant, &key, &data, &user, "passkey", meta)
            .await?;
        let amr = vec!["fed".into(), FactorKind::Passkey.amr().into(), "mfa".into()];
        self.start_session(tenant, &user, amr).await
    }

    /// The live challenge of a pending link, without spending a try.
    async fn link_challenge(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<Option<Challenge>> {
        if handle.len() != 43 {
            return Ok(None);
        }
        Ok(self
            .0
            .store
            .get_challenge(tenant, &Hash32::of(handle.as_bytes()))
            .await?
            .filter(|c| c.purpose == PURPOSE_LINK && c.expires_at > self.now() && c.tries_left > 0))
    }

    /// Spends one try of a pending link: its key, whose account it is and what to link.
    async fn spend_link_try(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<(Hash32, UserId, LinkData)> {
        if handle.len() != 43 {
            return Err(pending_expired());
        }
        let key = Hash32::of(handle.as_bytes());
        let ch = self
            .0
            .store
            .spend_try(tenant, &key)
            .await?
            .filter(|c| c.purpose == PURPOSE_LINK && c.expires_at > self.now())
            .ok_or_else(pending_expired)?;
        let user_id = ch.user_id.clone().ok_or_else(pending_expired)?;
        let data: LinkData =
            serde_json::from_value(ch.data).map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok((key, user_id, data))
    }

    /// Links the pending identity to `user`, who proved the account by `method`, and
    /// records the federated sign-in.
    async fn finish_link(
        &self,
        tenant: &TenantId,
        key: &Hash32,
        data: &LinkData,
        user: &User,
        method: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        // Single use: of two right answers at once, one links.
        self.0
            .store
            .take_challenge(tenant, key)
            .await?
            .ok_or_else(pending_expired)?;
        let raw = b64_decode(&data.sealed).ok_or_else(pending_expired)?;
        let plain = self
            .profile_key()
            .open(&Self::link_aad(tenant, &user.id, &data.connector), &raw)?;
        let (identity, tokens): (UpstreamIdentity, Option<UpstreamTokens>) =
            serde_json::from_slice(&plain).map_err(|e| EngineError::Internal(e.to_string()))?;
        let link = self
            .create_link(
                tenant,
                user,
                &data.connector,
                &identity,
                tokens.as_ref(),
                method,
                meta,
            )
            .await?;
        link_login_event(self, tenant, user, &link, method, meta);
        Ok(())
    }

    // ---- The account page -----------------------------------------------------------------

    /// A user's linked identities, oldest first.
    pub async fn linked_identities(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Vec<LinkedIdentity>> {
        let names: BTreeMap<String, String> = self
            .0
            .store
            .list_connectors(tenant)
            .await?
            .into_iter()
            .map(|c| (c.id, c.display_name))
            .collect();
        let mut links = self.0.store.list_links(tenant, user).await?;
        links.sort_by(|a, b| (a.created_at, &a.provider).cmp(&(b.created_at, &b.provider)));
        let key = self.data_key(tenant, user).await?;
        Ok(links
            .into_iter()
            .map(|l| {
                let profile: Option<UpstreamIdentity> = key.as_ref().and_then(|k| {
                    Self::open_for_link(k, tenant, user, &l.provider, "profile", &l.sealed_profile)
                });
                LinkedIdentity {
                    display_name: names
                        .get(&l.provider)
                        .cloned()
                        .unwrap_or(l.provider.clone()),
                    provider: l.provider,
                    key: l.key.to_hex(),
                    email: profile.and_then(|p| p.email),
                    created_at: l.created_at,
                    last_login_at: l.last_login_at,
                }
            })
            .collect())
    }

    /// Whether removing one link would leave the user a way to sign in: a password, a
    /// passkey, or another linked identity.
    pub async fn can_unlink(&self, tenant: &TenantId, user: &User) -> EngineResult<bool> {
        if user.password_hash.is_some() {
            return Ok(true);
        }
        let links = self.0.store.list_links(tenant, &user.id).await?;
        if links.len() > 1 {
            return Ok(true);
        }
        let factors = self.0.store.list_factors(tenant, &user.id).await?;
        Ok(factors.iter().any(|f| f.kind == FactorKind::Passkey))
    }

    /// Removes one of the user's links (the user's own choice), never the last way to
    /// sign in.
    pub async fn unlink_identity(
        &self,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        key_hex: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let key = Hash32::try_from(key_hex.to_owned())
            .map_err(|_| EngineError::NotFound("linked identity"))?;
        if !self.can_unlink(tenant, &u).await? {
            return Err(EngineError::Invalid(
                "This is your only way to sign in. Set a password or add a passkey before removing it.".into(),
            ));
        }
        self.0
            .store
            .delete_link(tenant, user, provider, &key)
            .await?
            .ok_or(EngineError::NotFound("linked identity"))?;
        let mut ev = self.event(tenant, "federation.unlinked", true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("provider={provider}"));
        self.record_now(ev).await
    }

    /// A user's linked identities for the data-subject export: provider, when linked and
    /// last used, and the mapped profile (never upstream tokens).
    pub async fn export_links(&self, tenant: &TenantId, user: &UserId) -> EngineResult<Value> {
        let links = self.0.store.list_links(tenant, user).await?;
        let key = self.data_key(tenant, user).await?;
        let out: Vec<Value> = links
            .iter()
            .map(|l| {
                let profile: Option<UpstreamIdentity> = key.as_ref().and_then(|k| {
                    Self::open_for_link(k, tenant, user, &l.provider, "profile", &l.sealed_profile)
                });
                json!({
                    "provider": l.provider,
                    "linked_at": l.created_at,
                    "last_sign_in_at": l.last_login_at,
                    "upstream_tokens_kept": l.sealed_tokens.is_some(),
                    "profile": profile.map(|p| json!({
                        "subject": p.subject,
                        "email": p.email,
                        "email_verified": p.email_verified,
                        "name": p.name,
                        "picture": p.picture,
                        "locale": p.locale,
                        "groups": p.groups,
                        "claims": p.extra,
                    })),
                })
            })
            .collect();
        Ok(Value::Array(out))
    }

    /// Removes every link of a user (account deletion): the upstream identities are free
    /// to sign up again. Returns how many there were.
    pub async fn delete_user_links(&self, tenant: &TenantId, user: &UserId) -> EngineResult<usize> {
        let links = self.0.store.list_links(tenant, user).await?;
        let mut n = 0;
        for l in &links {
            if self
                .0
                .store
                .delete_link(tenant, user, &l.provider, &l.key)
                .await?
                .is_some()
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The upstream tokens kept with a user's link to `provider`, opened.
    pub async fn upstream_tokens(
        &self,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
    ) -> EngineResult<Vec<UpstreamTokens>> {
        let links = self.0.store.list_links(tenant, user).await?;
        let key = self.user_vault(tenant, user).await?;
        let mut out = Vec::new();
        for l in links.iter().filter(|l| l.provider == provider) {
            if let Some(sealed) = &l.sealed_tokens {
                out.push(
                    Self::open_for_link(&key, tenant, user, provider, "tokens", sealed)
                        .ok_or_else(|| {
                            EngineError::Internal("cannot open upstream tokens".into())
                        })?,
                );
            }
        }
        Ok(out)
    }
}

fn link_login_event(
    e: &Engine,
    tenant: &TenantId,
    user: &User,
    link: &Link,
    method: &str,
    meta: &RequestMeta,
) {
    let mut ev = e.event(tenant, "login.federated", true);
    ev.actor = Some(user.id.to_string());
    ev.subject = ev.actor.clone();
    ev.ip = meta.ip.clone();
    ev.detail = Some(format!("provider={} linked_by={method}", link.provider));
    e.record(ev);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_reads_paths_numbers_and_kept_claims_only() {
        let m = ClaimMapping {
            subject: "id".into(),
            groups: Some("org.teams".into()),
            keep: vec!["dob".into()],
            ..ClaimMapping::default()
        };
        let claims = json!({
            "id": 4242, "email": "A@Example.com", "email_verified": "true",
            "name": " Ada ", "org": {"teams": ["x", "y"]}, "dob": "1815-12-10",
            "gender": "F",
        });
        let id = map_claims(&m, &claims).unwrap();
        assert_eq!(id.subject, "4242");
        assert!(id.email_verified);
        assert_eq!(id.name.as_deref(), Some("Ada"));
        assert_eq!(id.groups, vec!["x", "y"]);
        assert_eq!(id.extra.len(), 1);
        assert_eq!(id.extra["dob"], "1815-12-10");
        assert!(map_claims(&m, &json!({"email": "a@b.c"})).is_err());
        // No verification claim mapped: never verified.
        let m = ClaimMapping {
            email_verified: None,
            ..ClaimMapping::default()
        };
        let id = map_claims(&m, &json!({"sub": "s", "email_verified": true})).unwrap();
        assert!(!id.email_verified);
    }

    #[test]
    fn github_email_lists_prefer_the_verified_primary() {
        let list = json!([
            {"email": "old@x.io", "primary": false, "verified": true},
            {"email": "main@x.io", "primary": true, "verified": true},
        ]);
        assert_eq!(pick_email(&list), Some(("main@x.io".into(), true)));
        let list = json!([{"email": "p@x.io", "primary": true, "verified": false}]);
        assert_eq!(pick_email(&list), Some(("p@x.io".into(), false)));
        assert_eq!(pick_email(&json!({})), None);
    }

    #[test]
    fn upstream_urls_need_https_except_on_loopback() {
        assert!(check_upstream_url("issuer", "https://accounts.google.com").is_ok());
        assert!(check_upstream_url("issuer", "http://127.0.0.1:8080/t").is_ok());
        assert!(check_upstream_url("issuer", "http://localhost:8080/t").is_ok());
        assert!(check_upstream_url("issuer", "http://[::1]:8080/t").is_ok());
        assert!(check_upstream_url("issuer", "http://example.com").is_err());
        assert!(check_upstream_url("issuer", "https://u:p@example.com").is_err());
        assert!(check_upstream_url("issuer", "ftp://example.com").is_err());
        assert!(check_upstream_url("issuer", "/relative").is_err());
    }

    #[test]
    fn every_preset_resolves() {
        for p in PRESETS {
            assert_eq!(preset(p).unwrap().name, p);
        }
        assert!(preset("myspace").is_none());
        assert!(valid_connector_id("google-work"));
        assert!(!valid_connector_id("Google"));
        assert!(!valid_connector_id("-x"));
    }

    #[test]
    fn apple_client_secret_is_an_es256_jwt() {
        let key = aws_lc_rs::signature::EcdsaKeyPair::generate(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        )
        .unwrap();
        let der = key.to_pkcs8v1().unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der.as_ref())
        );
        let apple = AppleSigning {
            team_id: "TEAM123".into(),
            key_id: "KEY456".into(),
        };
        let jwt = apple_client_secret(&apple, "com.example.web", &pem, 1_000).unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("KEY456"));
        let claims: Value =
            serde_json::from_slice(&b64_decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(claims["iss"], "TEAM123");
        assert_eq!(claims["sub"], "com.example.web");
        assert_eq!(claims["aud"], "https://appleid.apple.com");
        assert_eq!(claims["exp"], 1_300);
        assert!(apple_client_secret(&apple, "x", "not a key", 1).is_err());
    }

    #[test]
    fn id_tokens_are_checked_for_signature_issuer_audience_expiry_and_nonce() {
        use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
        let gen_key = || {
            let key = aws_lc_rs::signature::EcdsaKeyPair::generate(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            )
            .unwrap();
            let der = key.to_pkcs8v1().unwrap().as_ref().to_vec();
            use aws_lc_rs::signature::KeyPair;
            let public = key.public_key().as_ref().to_vec();
            (der, public)
        };
        let (der, public) = gen_key();
        let (other_der, _) = gen_key();
        let jwks = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
            "x": b64(&public[1..33]), "y": b64(&public[33..65]),
        }]});
        let sign = |der: &[u8], claims: Value| {
            let mut h = Header::new(Algorithm::ES256);
            h.kid = Some("k1".into());
            encode(&h, &claims, &EncodingKey::from_ec_der(der)).unwrap()
        };
        let good = json!({"iss": "https://up.example", "aud": "cid", "sub": "u1",
            "exp": 2_000, "iat": 1_000, "nonce": "n-1"});
        let expect = IdTokenExpectations {
            issuer: "https://up.example",
            client_id: "cid",
            nonce: "n-1",
            now: 1_500,
        };
        let ok = validate_id_token(&sign(&der, good.clone()), &jwks, &expect).unwrap();
        assert_eq!(ok["sub"], "u1");
        let with = |k: &str, v: Value| {
            let mut c = good.clone();
            c[k] = v;
            sign(&der, c)
        };
        let check = |t: String| validate_id_token(&t, &jwks, &expect).unwrap_err();
        assert_eq!(
            check(sign(&other_der, good.clone())),
            IdTokenError::Signature
        );
        assert_eq!(check(with("aud", json!("other"))), IdTokenError::Audience);
        assert_eq!(
            check(with("iss", json!("https://evil"))),
            IdTokenError::Issuer
        );
        assert_eq!(check(with("nonce", json!("n-2"))), IdTokenError::Nonce);
        assert_eq!(check(with("exp", json!(1_400))), IdTokenError::Expired);
        assert_eq!(
            check(with("azp", json!("someone-else"))),
            IdTokenError::Audience
        );
        // An HMAC token "signed" with the public key is refused outright.
        let hs = encode(
            &Header::new(Algorithm::HS256),
            &good,
            &EncodingKey::from_secret(b"k"),
        )
        .unwrap();
        assert_eq!(check(hs), IdTokenError::Algorithm);
        // Microsoft's multi-tenant issuer template.
        let ms = IdTokenExpectations {
            issuer: "https://login.example/{tenantid}/v2.0",
            ..expect
        };
        let mut c = good.clone();
        c["iss"] = json!("https://login.example/abc/v2.0");
        c["tid"] = json!("abc");
        assert!(validate_id_token(&sign(&der, c), &jwks, &ms).is_ok());
    }
}
