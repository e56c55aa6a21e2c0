//! The claims Tollgate signs, one type each, used both to sign and to read back.

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::ids::{ChainId, ClientId, UserId};

/// An access token's claims (RFC 9068, `typ` `at+jwt`): signed at the token endpoint,
/// read back at userinfo, revocation and introspection.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The issuer (the tenant's).
    pub iss: String,
    /// The user; for a machine client's own token (`client_credentials`), the client
    /// (RFC 9068 §2.2).
    pub sub: String,
    /// The resource it is for: an API's identifier (RFC 8707 `resource`), or else the
    /// client it was issued to.
    pub aud: String,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// Expiry.
    pub exp: UnixTime,
    /// Issued at.
    pub iat: UnixTime,
    /// Unique id: what revocation denies.
    pub jti: String,
    /// Granted scope, space separated.
    #[serde(default)]
    pub scope: String,
    /// When the user authenticated; absent on a token that no user is behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<UnixTime>,
    /// The browser session, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The refresh chain behind the token: revoking the chain (or detecting its reuse)
    /// revokes this token too, at userinfo and introspection (RFC 7009 §2.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<ChainId>,
    /// The DPoP key the token is bound to (RFC 9449 §6.1): it is accepted only with a
    /// proof by that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// For a client with pairwise subjects, whose `sub` is then the pairwise value: the
    /// user id, sealed for this engine alone (see `oauth::pairwise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Who acts for the subject (RFC 8693 §4.1): a token issued by delegation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// The organisation signed in to, its roles and permissions (issue 19).
    #[serde(flatten)]
    pub org: OrgTokenClaims,
}

/// What a token says of the organisation it was issued for (issue 19): the organisation
/// signed in to and the user's roles and permissions there (with their tenant-wide
/// roles). Absent on a token with no organisation unless the `organization` scope asked
/// for the tenant-wide roles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgTokenClaims {
    /// The organisation's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    /// Role ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Permission names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// The actor claim (RFC 8693 §4.1): who acts, and before them (nested) who acted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The actor, as the token's client knows it.
    pub sub: String,
    /// The client the actor's token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    /// The earlier actor in a chain of delegations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

/// A token's confirmation claim (RFC 7800 `cnf`), for DPoP (RFC 9449 §6.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The RFC 7638 SHA-256 thumbprint of the key.
    pub jkt: String,
}

impl AccessTokenClaims {
    /// The user behind the token: none on a machine client's own token.
    pub fn user(&self) -> Option<UserId> {
        self.auth_time?;
        // The token is ours (its signature was checked), so its `sub` is a user id we made.
        Some(UserId::from_stored(self.sub.clone()))
    }

    /// `DPoP` for a token bound to a DPoP key (RFC 9449 §5), `Bearer` otherwise.
    pub fn token_type(&self) -> &'static str {
        if self.cnf.is_some() { "DPoP" } else { "Bearer" }
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// An ID token's claims (OIDC Core §2): signed at the token endpoint, read back as an
/// `id_token_hint` at logout.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// The issuer (the tenant's).
    pub iss: String,
    /// The user.
    pub sub: UserId,
    /// The client it was issued to.
    pub aud: ClientId,
    /// Expiry.
    pub exp: UnixTime,
    /// Issued at.
    pub iat: UnixTime,
    /// When the user authenticated.
    pub auth_time: UnixTime,
    /// How (RFC 8176 values).
    #[serde(default)]
    pub amr: Vec<String>,
    /// The assurance level that follows from `amr`.
    #[serde(default)]
    pub acr: String,
    /// The nonce of the authorization request, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The browser session, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Left half of the access token's SHA-256 (OIDC Core §3.1.3.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The user's language (OIDC Core §5.1), when the `profile` scope was granted and
    /// the user has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Identity verification results (OpenID Connect for Identity Assurance 1.0), for a
    /// client the tenant releases them to, with the `verified_claims` scope (see
    /// `oauth::assurance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_claims: Option<serde_json::Value>,
    /// The organisation signed in to, its roles and permissions (issue 19).
    #[serde(flatten)]
    pub org: OrgTokenClaims,
}
