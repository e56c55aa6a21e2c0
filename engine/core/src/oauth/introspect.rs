//! Introspection (RFC 7662), for confidential clients. A token, access or refresh, is
//! described only to the client it was issued to; to any other it is `active: false`.

use serde::Serialize;

use super::OAuth;
use super::claims::Confirmation;
use super::token::{ClientCredentials, parse_refresh_token};
use crate::clock::UnixTime;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ClientId, TenantId};

/// An introspection response (RFC 7662 §2.2): `{"active": false}` alone, or the token's
/// metadata.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Introspection {
    /// Whether the token is live.
    pub active: bool,
    /// `Bearer`, `DPoP` (a DPoP-bound access token) or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Granted scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    /// The user (or, on a machine client's own token, the client).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The audience (access tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<UnixTime>,
    /// Issued (a refresh token: last rotated) at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<UnixTime>,
    /// The issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The access token's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The DPoP key a bound access token needs a proof by (RFC 9449 §6.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// The organisation, roles and permissions an access token carries (issue 19).
    #[serde(flatten)]
    pub org: super::claims::OrgTokenClaims,
}

impl OAuth<'_> {
    /// RFC 7662 introspection, for confidential clients (resource servers). Refresh tokens
    /// are described only to the client they were issued to.
    pub async fn introspect(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
        token: &str,
    ) -> EngineResult<Introspection> {
        let client = self.authenticate_client(tenant, creds).await?;
        if !client.is_confidential() {
            return Err(EngineError::oauth(
                C::InvalidClient,
                "introspection requires a confidential client",
            ));
        }
        let inactive = Introspection::default();
        if let Some((chain_id, hash)) = parse_refresh_token(token) {
            let chain = self.chain(tenant, &chain_id).await?;
            return Ok(match chain {
                Some(c)
                    if c.client_id == client.id
                        && c.revoked.is_none()
                        && c.expires_at > self.now()
                        && crate::crypto::ct_eq(&c.current_hash.0, &hash.0) =>
                {
                    Introspection {
                        active: true,
                        token_type: Some("refresh_token"),
                        scope: Some(c.scope),
                        client_id: Some(c.client_id),
                        sub: Some(self.subject_for(tenant, &client, &c.user_id)),
                        exp: Some(c.expires_at),
                        iat: Some(c.rotated_at),
                        iss: Some(self.issuer(tenant)),
                        ..Introspection::default()
                    }
                }
                _ => inactive,
            });
        }
        Ok(match self.verify_access_token(tenant, token).await {
            // Only the client the token was issued to (its audience) learns about it;
            // anyone else is told nothing (RFC 7662 §4, against token scanning).
            Ok(at) if at.client_id == client.id => {
                let sub = match at.user() {
                    Some(user) => self.subject_for(tenant, &client, &user),
                    None => at.sub.clone(),
                };
                Introspection {
                    active: true,
                    token_type: Some(at.token_type()),
                    scope: Some(at.scope),
                    client_id: Some(at.client_id),
                    sub: Some(sub),
                    aud: Some(at.aud),
                    exp: Some(at.exp),
                    iat: Some(at.iat),
                    iss: Some(at.iss),
                    jti: Some(at.jti),
                    cnf: at.cnf,
                    org: at.org,
                }
            }
            Ok(_) | Err(_) => inactive,
        })
    }
}
