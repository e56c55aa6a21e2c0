//! The records the engine keeps. Secrets appear here only as hashes or sealed bytes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub mod branding;
pub mod breach;
pub mod children;
pub mod federation;
pub mod grievance;
pub mod messaging;
pub mod notice;
pub mod org;
pub mod org_domain;
pub mod phone;
pub mod privacy;
pub mod retention;
pub mod saml;
pub mod scim;
pub mod signin;
pub mod verification;

use crate::clock::UnixTime;
use crate::ids::{ChainId, ClientId, Email, KeyId, TenantId, UserId};

/// A SHA-256 digest of a high-entropy secret; hex in storage, shortened in logs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    /// Hashes a secret.
    pub fn of(secret: &[u8]) -> Self {
        Self(crate::crypto::sha256(secret))
    }
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl From<Hash32> for String {
    fn from(h: Hash32) -> String {
        h.to_hex()
    }
}

impl TryFrom<String> for Hash32 {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.len() != 64 {
            return Err("hash must be 64 hex digits".into());
        }
        let mut out = [0u8; 32];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(chunk).map_err(|e| e.to_string())?;
            out[i] = u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
        }
        Ok(Self(out))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash32({}…)", &self.to_hex()[..8])
    }
}

/// JWS algorithms a tenant can sign with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys: what every client library verifies.
    #[default]
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl SigningAlg {
    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }
    /// Parses a JOSE `alg` name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Self::RS256),
            "ES256" => Some(Self::ES256),
            "EdDSA" => Some(Self::EdDSA),
            _ => None,
        }
    }
}

/// An organisation using Tollgate: its own issuer, keys, clients and users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Path segment of the issuer.
    pub id: TenantId,
    /// Shown on hosted pages.
    pub display_name: String,
    /// Algorithm of new signing keys.
    pub signing_alg: SigningAlg,
    /// Lifetime of access tokens, seconds.
    pub access_token_ttl: u64,
    /// Lifetime of ID tokens, seconds.
    pub id_token_ttl: u64,
    /// Absolute lifetime of a refresh chain, seconds.
    pub refresh_token_ttl: u64,
    /// Lifetime of an SSO session, seconds.
    pub session_ttl: u64,
    /// When it was created.
    pub created_at: UnixTime,
    /// Residency region: where this organisation's data is stored. A node serves only
    /// the regions it is configured for; records written before regions existed are in
    /// [`DEFAULT_REGION`].
    #[serde(default = "default_region")]
    pub region: String,
    /// Who must use a second factor, and which factors are allowed.
    #[serde(default)]
    pub mfa: MfaPolicy,
    /// The APIs (resource servers) its clients get access tokens for. Few per tenant, read
    /// on every grant, so they live in the (cached) tenant record.
    #[serde(default)]
    pub apis: Vec<Api>,
    /// Every DPoP proof (RFC 9449 §8) must carry a nonce the server gave (`DPoP-Nonce`).
    #[serde(default)]
    pub dpop_nonce_required: bool,
    /// The hosted pages' theme, templates and messages.
    #[serde(default)]
    pub branding: branding::Branding,
    /// Identity verification (Aadhaar offline e-KYC, Truecaller) and who gets the results.
    #[serde(default)]
    pub verification: verification::VerificationSettings,
    /// WhatsApp Cloud API credentials (sealed) and the DLT registration of its SMS.
    #[serde(default)]
    pub messaging: messaging::MessagingSettings,
    /// Dormancy erasure and audit-trail retention (DPDP Rules 6 and 8); off by default.
    #[serde(default, skip_serializing_if = "is_default_retention")]
    pub retention: retention::RetentionSettings,
    /// The Data Protection Officer or contact person its pages publish (DPDP Rules 9, 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_contact: Option<grievance::PrivacyContact>,
    /// The SAML 2.0 identity provider: registered SPs and the IdP's signing key.
    #[serde(default, skip_serializing_if = "saml::SamlSettings::is_empty")]
    pub saml: saml::SamlSettings,
    /// Organisations: the tenant's named permissions (beside its APIs' scopes).
    #[serde(default, skip_serializing_if = "is_default_orgs")]
    pub orgs: org::OrgsSettings,
    /// SCIM provisioning: the provisioning clients' tokens (hashed).
    #[serde(default, skip_serializing_if = "scim::ScimSettings::is_empty")]
    pub scim: scim::ScimSettings,
    /// Breach notification (DPDP Rule 7): how fast affected users are notified.
    #[serde(default, skip_serializing_if = "is_default_breach")]
    pub breach: breach::BreachSettings,
    /// Children's accounts: adults only, or verifiable parental consent (DPDP s. 9).
    #[serde(default, skip_serializing_if = "is_default_children")]
    pub children: children::ChildrenSettings,
}

fn is_default_children(c: &children::ChildrenSettings) -> bool {
    *c == children::ChildrenSettings::default()
}

fn is_default_orgs(o: &org::OrgsSettings) -> bool {
    *o == org::OrgsSettings::default()
}

fn is_default_breach(b: &breach::BreachSettings) -> bool {
    *b == breach::BreachSettings::default()
}

fn is_default_retention(r: &retention::RetentionSettings) -> bool {
    *r == retention::RetentionSettings::default()
}

/// An API (resource server, RFC 9068): its identifier is the `aud` of the access tokens
/// issued for it, and what a client names with `resource` (RFC 8707) to get one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Api {
    /// An absolute URI without a fragment, e.g. `https://api.example.com/orders`.
    pub identifier: String,
    /// Shown to people (consent, the console).
    pub name: String,
    /// The scopes it defines (e.g. `read:orders`).
    pub scopes: Vec<String>,
    /// Lifetime of its access tokens, seconds; the tenant's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<u64>,
}

/// An OAuth grant type a client may use (RFC 7591 §2 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GrantType {
    /// `authorization_code` (RFC 6749 §4.1).
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    /// `refresh_token` (RFC 6749 §6).
    #[serde(rename = "refresh_token")]
    RefreshToken,
    /// `client_credentials` (RFC 6749 §4.4): a machine client, for itself.
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    /// The device authorization grant (RFC 8628).
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    /// Token exchange (RFC 8693).
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

impl GrantType {
    /// Every grant type, in the order discovery lists them.
    pub const ALL: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::DeviceCode,
        GrantType::TokenExchange,
    ];

    /// Its name on the wire (`grant_type`, `grant_types`).
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    /// The grant type a wire name names.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// The `sub` a client sees (OIDC Core §8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectType {
    /// The user id, the same for every client.
    #[default]
    Public,
    /// One value per sector (OIDC Core §8.1).
    Pairwise,
}

/// The token types of RFC 8693 §3 that Tollgate issues and accepts.
pub const TOKEN_TYPE_ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
/// An ID token as a token-exchange subject or actor (RFC 8693 §3).
pub const TOKEN_TYPE_ID: &str = "urn:ietf:params:oauth:token-type:id_token";

/// A client's token-exchange policy (RFC 8693 §1.1 leaves it to the server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenExchangePolicy {
    /// The subject token types it may present ([`TOKEN_TYPE_ACCESS`], [`TOKEN_TYPE_ID`]).
    pub subject_token_types: Vec<String>,
    /// The APIs (identifiers) it may get tokens for.
    pub audiences: Vec<String>,
    /// Whether it may act for the subject with an `actor_token` (delegation, `act`).
    pub delegation: bool,
}

impl Default for TokenExchangePolicy {
    fn default() -> Self {
        Self {
            subject_token_types: vec![TOKEN_TYPE_ACCESS.to_owned()],
            audiences: Vec::new(),
            delegation: false,
        }
    }
}

/// What a client that names no grant types may use: the browser flow and its refreshes.
pub fn default_grant_types() -> Vec<GrantType> {
    vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
}

/// Whether a second factor is asked for at sign-in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaMode {
    /// Never (relying parties can still ask for it with `acr_values`).
    #[default]
    Off,
    /// Users who enrolled a factor use it at every sign-in.
    Optional,
    /// Every user needs a second factor; those without one enrol at sign-in.
    Required,
}

/// A tenant's multi-factor policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MfaPolicy {
    /// Off, optional or required.
    pub mode: MfaMode,
    /// Factors users may enrol and use as a second factor.
    pub factors: Vec<FactorKind>,
}

impl Default for MfaPolicy {
    fn default() -> Self {
        Self {
            mode: MfaMode::Off,
            factors: vec![
                FactorKind::Totp,
                FactorKind::Passkey,
                FactorKind::Email,
                FactorKind::Phone,
                FactorKind::RecoveryCodes,
            ],
        }
    }
}

/// A way to prove who one is, besides the password.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    /// RFC 6238 authenticator app.
    Totp,
    /// WebAuthn credential.
    Passkey,
    /// One-time code sent to the account's verified email address.
    Email,
    /// One-time code sent by SMS or WhatsApp to a verified phone number.
    Phone,
    /// Single-use recovery codes.
    RecoveryCodes,
}

impl FactorKind {
    /// Its name in configuration and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Passkey => "passkey",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::RecoveryCodes => "recovery_codes",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Totp,
            Self::Passkey,
            Self::Email,
            Self::Phone,
            Self::RecoveryCodes,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Its RFC 8176 `amr` value.
    pub fn amr(self) -> &'static str {
        match self {
            Self::Totp | Self::Email | Self::RecoveryCodes => "otp",
            Self::Passkey => "hwk",
            Self::Phone => "sms",
        }
    }
}

/// An enrolled factor of a user. Secrets in `data` are sealed or hashed, never plain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    /// Owner.
    pub tenant: TenantId,
    /// Whose.
    pub user_id: UserId,
    /// Random id.
    pub id: String,
    /// What it is.
    pub kind: FactorKind,
    /// The user's name for it ("Work laptop").
    pub label: String,
    /// For lookups without the user (a passkey's credential id, base64url): unique per
    /// tenant.
    pub lookup: Option<String>,
    /// Kind-specific state (sealed TOTP secret and last step; passkey; hashed codes).
    pub data: serde_json::Value,
    /// Bumped by every update, for conditional writes.
    pub version: u64,
    /// Enrolled.
    pub created_at: UnixTime,
    /// Last used to sign in.
    pub last_used_at: Option<UnixTime>,
}

/// A short-lived, single-use secret exchange in progress: a one-time code sent by email
/// or SMS, a pending second-factor sign-in, a WebAuthn ceremony, a magic link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// Owner.
    pub tenant: TenantId,
    /// SHA-256 of the handle the browser holds.
    pub key: Hash32,
    /// What it is for (`mfa`, `email_code`, `webauthn_register`, ...).
    pub purpose: String,
    /// Who it concerns, when known.
    pub user_id: Option<UserId>,
    /// Purpose-specific state (hashes, sealed data, ceremony state).
    pub data: serde_json::Value,
    /// Wrong answers still allowed; at zero the challenge is dead.
    pub tries_left: u32,
    /// Dead after this.
    pub expires_at: UnixTime,
}

/// The region of a deployment that names none.
pub const DEFAULT_REGION: &str = "default";

fn default_region() -> String {
    DEFAULT_REGION.to_owned()
}

/// Whether `s` can name a region: it becomes part of a keyspace name, so lowercase
/// letters, digits and `_`, starting with a letter, at most 32 characters.
pub fn valid_region(s: &str) -> bool {
    s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Tenant {
    /// A tenant with the defaults: RS256, 10-minute access tokens, 30-day refresh chains,
    /// 12-hour SSO sessions.
    pub fn new(id: TenantId, display_name: String, now: UnixTime) -> Self {
        Self {
            id,
            display_name,
            signing_alg: SigningAlg::RS256,
            access_token_ttl: 600,
            id_token_ttl: 600,
            refresh_token_ttl: 30 * 24 * 3600,
            session_ttl: 12 * 3600,
            created_at: now,
            region: default_region(),
            mfa: MfaPolicy::default(),
            apis: Vec::new(),
            dpop_nonce_required: false,
            branding: branding::Branding::default(),
            verification: verification::VerificationSettings::default(),
            messaging: messaging::MessagingSettings::default(),
            retention: retention::RetentionSettings::default(),
            privacy_contact: None,
            children: children::ChildrenSettings::default(),
            saml: saml::SamlSettings::default(),
            orgs: org::OrgsSettings::default(),
            scim: scim::ScimSettings::default(),
            breach: breach::BreachSettings::default(),
        }
    }

    /// The longest a token signed now can stay valid: how long a retired key stays in JWKS.
    pub fn max_jwt_ttl(&self) -> u64 {
        let apis = self.apis.iter().filter_map(|a| a.access_token_ttl);
        apis.fold(self.access_token_ttl.max(self.id_token_ttl), u64::max)
    }

    /// The API an identifier names.
    pub fn api(&self, identifier: &str) -> Option<&Api> {
        self.apis.iter().find(|a| a.identifier == identifier)
    }
}

/// An OAuth client (relying party).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// Owner.
    pub tenant: TenantId,
    /// `client_id`.
    pub id: ClientId,
    /// Shown on the consent page.
    pub name: String,
    /// SHA-256 of the generated secret (256 bits of entropy, so no slow hash is needed);
    /// `None` for a public client, which authenticates with PKCE alone.
    pub secret_hash: Option<Hash32>,
    /// Exact redirect URIs; no wildcards, no prefix matching.
    pub redirect_uris: Vec<String>,
    /// Exact URIs allowed after RP-initiated logout.
    pub post_logout_redirect_uris: Vec<String>,
    /// A first-party client is trusted to receive the scopes it asks for without a
    /// consent page (OIDC Core §11's "other conditions" for `offline_access`).
    pub first_party: bool,
    /// When it was created.
    pub created_at: UnixTime,
    /// Refreshes answer without a new ID token (OIDC Core §12.2 allows it): one signature
    /// per refresh instead of two, for clients that keep the first ID token.
    #[serde(default)]
    pub refresh_without_id_token: bool,
    /// The grants it may use; the browser flow and refreshes unless it names others.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<GrantType>,
    /// The APIs it may get tokens for as itself (`client_credentials`), each with the
    /// scopes it may have there: API identifier -> scopes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_grants: BTreeMap<String, Vec<String>>,
    /// Every token request must carry a DPoP proof (RFC 9449 §5.2
    /// `dpop_bound_access_tokens`): its access tokens are always DPoP-bound.
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// Its DPoP proofs must carry a nonce the server gave (RFC 9449 §8).
    #[serde(default)]
    pub dpop_nonce_required: bool,
    /// Whether it sees users by their id or by a pairwise `sub` (OIDC Core §8).
    #[serde(default)]
    pub subject_type: SubjectType,
    /// The sector of its pairwise subjects (a host): the same `sub` for every client of
    /// the sector, unrelated across sectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// What it may exchange, for which audiences (RFC 8693), with the token-exchange grant.
    #[serde(default)]
    pub token_exchange: TokenExchangePolicy,
    /// How it authenticates at the token, PAR, revocation and introspection endpoints;
    /// `None` (clients made before the option): by its secret, Basic or in the body, or
    /// by `client_id` alone when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<EndpointAuthMethod>,
    /// Its public keys by value (a JWKS document), for `private_key_jwt` and request objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Where its JWKS is published (`https`, or `http` on loopback), fetched and cached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Authorization requests must be pushed first (RFC 9126 §6).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// SHA-256 of the registration access token of a dynamically registered client
    /// (RFC 7592); `None` for clients the operator made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_token_hash: Option<Hash32>,
    /// Where logout tokens are POSTed when a session it took part in ends (OIDC
    /// Back-Channel Logout 1.0): `https`, or `http` on loopback; no fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Its logout tokens must carry `sid`.
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
    /// Where the end-of-logout page points a hidden iframe (OIDC Front-Channel Logout 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// The iframe's URI carries `iss` and `sid`.
    #[serde(default)]
    pub frontchannel_logout_session_required: bool,
}

impl Client {
    /// A client with no redirect URIs, no secret and every option at its default. Options
    /// are set on the result, so a new option needs no change where clients are made.
    pub fn new(tenant: TenantId, id: ClientId, name: String, created_at: UnixTime) -> Self {
        Self {
            tenant,
            id,
            name,
            secret_hash: None,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            first_party: false,
            created_at,
            refresh_without_id_token: false,
            grant_types: default_grant_types(),
            api_grants: BTreeMap::new(),
            dpop_bound_access_tokens: false,
            dpop_nonce_required: false,
            subject_type: SubjectType::Public,
            sector: None,
            token_exchange: TokenExchangePolicy::default(),
            token_endpoint_auth_method: None,
            jwks: None,
            jwks_uri: None,
            require_pushed_authorization_requests: false,
            registration_token_hash: None,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            frontchannel_logout_uri: None,
            frontchannel_logout_session_required: false,
        }
    }

    /// Whether it may use a grant type.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether it can authenticate: it has a secret, or keys it signs assertions with.
    pub fn is_confidential(&self) -> bool {
        self.secret_hash.is_some()
            || self.token_endpoint_auth_method == Some(EndpointAuthMethod::PrivateKeyJwt)
    }
}

/// How a client authenticates at the endpoints that need it (RFC 7591 §2
/// `token_endpoint_auth_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EndpointAuthMethod {
    /// Its secret in HTTP Basic (RFC 6749 §2.3.1).
    #[serde(rename = "client_secret_basic")]
    ClientSecretBasic,
    /// Its secret in the form body (RFC 6749 §2.3.1).
    #[serde(rename = "client_secret_post")]
    ClientSecretPost,
    /// A JWT signed with one of its keys (RFC 7523 §2.2, OIDC Core §9).
    #[serde(rename = "private_key_jwt")]
    PrivateKeyJwt,
    /// None: a public client (PKCE).
    #[serde(rename = "none")]
    None,
}

impl EndpointAuthMethod {
    /// Every method, in the order discovery lists them.
    pub const ALL: [EndpointAuthMethod; 4] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
        Self::None,
    ];

    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    /// The method a wire name names.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A customer account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Owner.
    pub tenant: TenantId,
    /// `sub`.
    pub id: UserId,
    /// Login id, unique per tenant.
    pub email: Email,
    /// Whether the address was proven.
    pub email_verified: bool,
    /// Display name, if given.
    pub name: Option<String>,
    /// Further profile fields the tenant asks for (`given_name`, `locale`, ...).
    #[serde(default)]
    pub profile: std::collections::BTreeMap<String, String>,
    /// Argon2id PHC string.
    pub password_hash: Option<String>,
    /// When it was created.
    pub created_at: UnixTime,
    /// When the account was deleted; a deleted user is kept (unreadable) until purged.
    #[serde(default)]
    pub deleted_at: Option<UnixTime>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("tenant", &self.tenant)
            .field("id", &self.id)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A user as stored. The personal fields (email, name, profile) are sealed under the
/// user's own data key (see `vault`), and the login id is found through a blind index,
/// so destroying that key leaves nothing personal readable in the record or its backups.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Owner.
    pub tenant: TenantId,
    /// `sub`.
    pub id: UserId,
    /// Blind index of the login email (hex HMAC-SHA-256 under a per-tenant key); empty
    /// once the user is deleted.
    pub email_key: String,
    /// The sealed personal fields (base64 of AES-256-GCM nonce, ciphertext and tag).
    pub personal: String,
    /// Whether the address was proven.
    pub email_verified: bool,
    /// Argon2id PHC string.
    pub password_hash: Option<String>,
    /// When it was created.
    pub created_at: UnixTime,
    /// When the account was deleted.
    #[serde(default)]
    pub deleted_at: Option<UnixTime>,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("tenant", &self.tenant)
            .field("id", &self.id)
            .field("deleted_at", &self.deleted_at)
            .finish_non_exhaustive()
    }
}

/// How the user authenticated (`amr` values, RFC 8176), and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthContext {
    /// `auth_time`.
    pub auth_time: UnixTime,
    /// `amr`.
    pub amr: Vec<String>,
    /// The organisation signed in to (its id), on a code and the refresh chain it
    /// starts; never on a session, which serves every organisation of its user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

/// An SSO session, keyed by the hash of the cookie value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Owner.
    pub tenant: TenantId,
    /// SHA-256 of the session cookie.
    pub key: Hash32,
    /// Who signed in.
    pub user_id: UserId,
    /// How.
    pub auth: AuthContext,
    /// The public session id (`sid` claim): not the cookie, which never leaves the browser.
    pub sid: String,
    /// Created.
    pub created_at: UnixTime,
    /// Hard expiry.
    pub expires_at: UnixTime,
    /// The clients it issued codes to: who gets a logout token when it ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientId>,
}

/// A logout token waiting in the durable outbox for its client's back-channel logout URI
/// (OIDC Back-Channel Logout 1.0 §2.5). The token is signed at each attempt (its `exp` is
/// short), always with this item's id as its `jti`, so a receiver can drop a repeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutDelivery {
    /// Owner.
    pub tenant: TenantId,
    /// Unique in the tenant; the logout token's `jti`.
    pub id: String,
    /// The relying party told (the token's `aud`).
    pub client_id: ClientId,
    /// The user, as the tenant knows them (the token's `sub` is derived from it).
    pub user_id: Option<UserId>,
    /// The session that ended (`sid`), if one did.
    pub sid: Option<String>,
    /// Why (`logout`, `password_reset`, `refresh_reuse`, ...): for the audit trail.
    pub reason: String,
    /// Enqueued.
    pub created_at: UnixTime,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it is next due: after a failure, the retry time; while a node sends it, the
    /// end of that node's lease.
    pub next_at: UnixTime,
}

/// An authorization code, keyed by its hash: single use, short-lived, bound to the
/// client, redirect URI and PKCE challenge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthCode {
    /// Owner.
    pub tenant: TenantId,
    /// SHA-256 of the code.
    pub key: Hash32,
    /// Who may redeem it.
    pub client_id: ClientId,
    /// The redirect URI it was sent to, which the token request must repeat.
    pub redirect_uri: String,
    /// PKCE S256 challenge.
    pub code_challenge: String,
    /// Granted scope, space-separated.
    pub scope: String,
    /// OIDC nonce to echo in the ID token.
    pub nonce: Option<String>,
    /// The user.
    pub user_id: UserId,
    /// How they authenticated.
    pub auth: AuthContext,
    /// The session's public id.
    pub sid: Option<String>,
    /// Expiry.
    /// The API the access tokens are for (RFC 8707 `resource`); the client if none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The DPoP key the code is bound to (RFC 9449 §10 `dpop_jkt`): it is redeemed only
    /// with a proof by that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    pub expires_at: UnixTime,
}

/// Why a chain was revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevokeReason {
    /// An earlier token of the chain was presented again.
    Reuse,
    /// The client or user revoked it (RFC 7009).
    Revoked,
    /// The user logged out or was deleted.
    Logout,
}

/// A refresh-token chain: every rotation makes a new token of the same chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    /// Owner.
    pub tenant: TenantId,
    /// Id, also embedded in each of its tokens.
    pub id: ChainId,
    /// The client the chain was issued to.
    pub client_id: ClientId,
    /// The user.
    pub user_id: UserId,
    /// Granted scope.
    pub scope: String,
    /// How the user authenticated when the chain began.
    pub auth: AuthContext,
    /// The session's public id, if any.
    pub sid: Option<String>,
    /// Number of rotations so far; the current token is of this generation.
    pub generation: u64,
    /// Hash of the only token that may be presented now.
    pub current_hash: Hash32,
    /// Created.
    pub created_at: UnixTime,
    /// Last rotation.
    pub rotated_at: UnixTime,
    /// Absolute expiry.
    pub expires_at: UnixTime,
    /// The API its access tokens are for (RFC 8707 `resource`); the client if none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The DPoP key a public client's chain is bound to (RFC 9449 §5: its RFC 7638
    /// thumbprint): each refresh must carry a proof by that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// Set once: revoked chains never come back.
    pub revoked: Option<RevokeReason>,
}

/// Lifecycle of a signing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    /// Published in JWKS, not yet signing: verifiers learn it before they see it.
    Next,
    /// Signing now.
    Active,
    /// No longer signs; published until tokens it signed have expired.
    Retired,
    /// Withdrawn at once (a leaked key): never published, never verifies. `retired_at`
    /// holds the revocation time.
    Revoked,
}

/// A signing key at rest: public JWK in the clear, private key sealed under the master key.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKey {
    /// Owner.
    pub tenant: TenantId,
    /// `kid`.
    pub kid: KeyId,
    /// Algorithm.
    pub alg: SigningAlg,
    /// Where it is in its life.
    pub status: KeyStatus,
    /// Created.
    pub created_at: UnixTime,
    /// When it was retired; it leaves JWKS once every token it signed has expired.
    pub retired_at: Option<UnixTime>,
    /// The public JWK (no private members).
    pub public_jwk: serde_json::Value,
    /// PKCS#8 private key, AES-256-GCM sealed, base64url.
    pub sealed_private: String,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("tenant", &self.tenant)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("status", &self.status)
            .field("sealed_private", &"<hidden>")
            .finish()
    }
}

/// Scopes a user granted a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Owner.
    pub tenant: TenantId,
    /// Who consented.
    pub user_id: UserId,
    /// To whom.
    pub client_id: ClientId,
    /// What.
    pub scopes: Vec<String>,
    /// When.
    pub granted_at: UnixTime,
}

/// One entry of the append-only audit trail. Never updated, never holds secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Owner.
    pub tenant: TenantId,
    /// Unique id (random), which also orders events in the same millisecond.
    pub id: String,
    /// Milliseconds since the epoch.
    pub at_ms: u64,
    /// What happened, e.g. `login`, `refresh.reuse_detected`.
    pub kind: String,
    /// Who did it: a user id, `admin`, or `system`.
    pub actor: Option<String>,
    /// Whom it concerned (a user id).
    pub subject: Option<String>,
    /// Through which client.
    pub client: Option<String>,
    /// From which address.
    pub ip: Option<String>,
    /// `success` or `failure`.
    pub result: String,
    /// Detail (a reason code, a masked address).
    pub detail: Option<String>,
    /// `ip` and `detail` of an event about a user, sealed under that user's data key
    /// (base64); opened when read, unreadable once the user is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// Set when read: the sealed details belonged to a deleted user and are gone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}
