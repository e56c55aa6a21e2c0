//! Upstream identity providers (connectors) and the identities linked through them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;

use crate::clock::UnixTime;
use crate::ids::{TenantId, UserId};
use crate::model::Hash32;

/// Which protocol a connector speaks to its upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// OpenID Connect: discovery, an ID token checked against the upstream JWKS.
    Oidc,
    /// OAuth 2.0 with a userinfo endpoint (and a mapping of its fields).
    Oauth2,
}

/// How the connector authenticates at the upstream token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// `client_id` and `client_secret` in the form (what most providers accept).
    #[default]
    ClientSecretPost,
    /// HTTP Basic.
    ClientSecretBasic,
}

/// Where each profile value is found in the upstream claims (ID token and userinfo,
/// merged) or userinfo document: a field name, or a dotted path (`address.country`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClaimMapping {
    /// The stable upstream identifier (`sub`; GitHub's `id`, DigiLocker's `digilockerid`).
    pub subject: String,
    /// Email address.
    pub email: Option<String>,
    /// Whether the upstream verified that address (`true` or `"true"`); absent: never.
    pub email_verified: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Groups (a list of strings, or one string).
    pub groups: Option<String>,
    /// Other claims to keep with the link (e.g. DigiLocker's `dob`): only these are stored.
    pub keep: Vec<String>,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self {
            subject: "sub".into(),
            email: Some("email".into()),
            email_verified: Some("email_verified".into()),
            name: Some("name".into()),
            picture: Some("picture".into()),
            locale: Some("locale".into()),
            groups: None,
            keep: Vec::new(),
        }
    }
}

/// Changes to a preset's mapping: each field given replaces the preset's (an empty string
/// turns a field off).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MappingInput {
    /// See [`ClaimMapping::subject`].
    pub subject: Option<String>,
    /// See [`ClaimMapping::email`].
    pub email: Option<String>,
    /// See [`ClaimMapping::email_verified`].
    pub email_verified: Option<String>,
    /// See [`ClaimMapping::name`].
    pub name: Option<String>,
    /// See [`ClaimMapping::picture`].
    pub picture: Option<String>,
    /// See [`ClaimMapping::locale`].
    pub locale: Option<String>,
    /// See [`ClaimMapping::groups`].
    pub groups: Option<String>,
    /// See [`ClaimMapping::keep`].
    pub keep: Option<Vec<String>>,
}

/// Apple's client secret is an ES256 JWT signed with a key from the developer account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppleSigning {
    /// Team id (`iss`).
    pub team_id: String,
    /// Key id (`kid`).
    pub key_id: String,
}

/// An upstream identity provider configured for a tenant.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connector {
    /// Owner.
    pub tenant: TenantId,
    /// Slug in URLs (`/{tenant}/federation/{id}/…`) and in `idp_hint`.
    pub id: String,
    /// Button text: "Continue with {display_name}".
    pub display_name: String,
    /// The preset it was made from.
    pub preset: String,
    /// OIDC or OAuth 2.0.
    pub protocol: Protocol,
    /// Disabled connectors show no button and accept no sign-in.
    pub enabled: bool,
    /// Our client id at the upstream.
    pub client_id: String,
    /// The client secret (for Apple: the ES256 private key, PEM), sealed; base64url.
    pub sealed_secret: Option<String>,
    /// OIDC issuer (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: Option<String>,
    /// Overrides (OIDC) or sets (OAuth 2.0) the authorization endpoint.
    pub authorization_endpoint: Option<String>,
    /// Overrides or sets the token endpoint.
    pub token_endpoint: Option<String>,
    /// Overrides or sets the userinfo endpoint.
    pub userinfo_endpoint: Option<String>,
    /// A GitHub-shaped list of the user's addresses (`[{email, primary, verified}]`).
    pub emails_endpoint: Option<String>,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// Where the profile is found.
    pub mapping: ClaimMapping,
    /// The tenant allows linking to an existing account whose email the upstream asserts
    /// as verified.
    pub link_by_email: bool,
    /// Keep the upstream access and refresh tokens (sealed) with the link.
    pub store_tokens: bool,
    /// Token endpoint authentication.
    pub token_auth: TokenAuth,
    /// `form_post` for Apple; `None` is the query.
    pub response_mode: Option<String>,
    /// Apple's client-secret signing, for the `apple` preset.
    pub apple: Option<AppleSigning>,
    /// Created.
    pub created_at: UnixTime,
    /// Last changed.
    pub updated_at: UnixTime,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("tenant", &self.tenant)
            .field("id", &self.id)
            .field("preset", &self.preset)
            .field("enabled", &self.enabled)
            .field("sealed_secret", &"<hidden>")
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// What the admin API shows: everything but the secret.
    pub fn public_view(&self, redirect_uri: &str) -> Value {
        json!({
            "id": self.id,
            "display_name": self.display_name,
            "preset": self.preset,
            "protocol": self.protocol,
            "enabled": self.enabled,
            "client_id": self.client_id,
            "has_client_secret": self.sealed_secret.is_some(),
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "userinfo_endpoint": self.userinfo_endpoint,
            "emails_endpoint": self.emails_endpoint,
            "scopes": self.scopes,
            "mapping": self.mapping,
            "link_by_email": self.link_by_email,
            "store_tokens": self.store_tokens,
            "token_auth": self.token_auth,
            "response_mode": self.response_mode,
            "apple": self.apple,
            "redirect_uri": redirect_uri,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// A federated identity linked to a user. The upstream subject appears only inside the
/// sealed profile; `key` is a keyed hash of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Owner.
    pub tenant: TenantId,
    /// Connector id.
    pub provider: String,
    /// HMAC-SHA-256 of (tenant, provider, upstream subject) under a key derived from the
    /// master key: unique per tenant and provider.
    pub key: Hash32,
    /// The local user.
    pub user_id: UserId,
    /// Linked.
    pub created_at: UnixTime,
    /// Last federated sign-in.
    pub last_login_at: UnixTime,
    /// The mapped `UpstreamIdentity`, sealed under the user's data key (AAD: tenant,
    /// user, provider); base64url.
    pub sealed_profile: String,
    /// `UpstreamTokens`, sealed likewise, when the connector keeps them.
    pub sealed_tokens: Option<String>,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("tenant", &self.tenant)
            .field("provider", &self.provider)
            .field("key", &self.key)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Whether `s` can be a connector id: 1-40 of `a-z 0-9 -`, starting with a letter or digit.
pub fn valid_connector_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
