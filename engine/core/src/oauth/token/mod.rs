//! The token endpoint: client authentication, then one of the grants, each in its file:
//! [`code`] (`authorization_code`, RFC 6749 §4.1.3 with RFC 7636) and [`refresh`]
//! (`refresh_token`, RFC 6749 §6, rotated); [`mint`] signs what they grant.

use serde::Serialize;
use std::sync::Arc;

use super::OAuth;
use crate::crypto::{ct_eq, random_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ChainId, ClientId, TenantId};
use crate::model::{Client, EndpointAuthMethod, GrantType, Hash32};
use crate::oauth::assertion::ClientAssertion;
use crate::oauth::dpop::Proof;

pub mod client_credentials;
pub mod code;
pub mod exchange;
pub mod mint;
pub mod refresh;

/// How the client authenticated at the endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// HTTP Basic (`client_secret_basic`).
    Basic,
    /// Form body (`client_secret_post`).
    Post,
    /// `client_id` only (public clients with PKCE).
    None,
    /// A JWT signed with one of the client's keys (`private_key_jwt`, RFC 7523 §2.2).
    PrivateKeyJwt(ClientAssertion),
}

/// The client credentials presented with a request.
#[derive(Clone)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, if any.
    pub secret: Option<String>,
    /// Where they came from.
    pub method: ClientAuthMethod,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<hidden>"))
            .field("method", &self.method)
            .finish()
    }
}

/// A token request, parsed once where it arrives (RFC 6749 §4.1.3, §6).
#[derive(Clone)]
pub enum GrantRequest {
    /// `authorization_code`, with PKCE (RFC 7636).
    AuthorizationCode {
        /// `code`.
        code: String,
        /// `redirect_uri`: exactly the one of the authorization request.
        redirect_uri: String,
        /// `code_verifier`.
        code_verifier: String,
        /// `resource` (RFC 8707 §2.2): if given, the one of the authorization request.
        resource: Option<String>,
    },
    /// `refresh_token`, rotated.
    RefreshToken {
        /// `refresh_token`.
        refresh_token: String,
        /// `scope`: a subset of the granted scope, if given.
        scope: Option<String>,
        /// `resource` (RFC 8707 §2.2): if given, the chain's.
        resource: Option<String>,
    },
    /// Token exchange (RFC 8693 §2.1): a token for another audience, or to act for its
    /// subject.
    TokenExchange {
        /// `subject_token`.
        subject_token: String,
        /// `subject_token_type`.
        subject_token_type: String,
        /// `actor_token` with its `actor_token_type` (delegation).
        actor: Option<(String, String)>,
        /// `resource` or `audience`: the API.
        target: Option<String>,
        /// `scope`.
        scope: Option<String>,
    },
    /// The device authorization grant's poll (RFC 8628 §3.4).
    DeviceCode {
        /// `device_code`.
        device_code: String,
    },
    /// `client_credentials` (RFC 6749 §4.4): a machine client, for itself.
    ClientCredentials {
        /// `scope`: some of what the client was granted at the API; all of it if absent.
        scope: Option<String>,
        /// `resource` (RFC 8707; `audience` is accepted as another name): the API.
        resource: Option<String>,
    },
}

impl GrantRequest {
    /// Parses a token request's parameters; `param` gives each (empty ones count as
    /// absent). Errors are the protocol's: `invalid_request`, `unsupported_grant_type`.
    pub fn parse(mut param: impl FnMut(&str) -> Option<String>) -> EngineResult<Self> {
        let mut need = |p: &str| {
            param(p)
                .ok_or_else(|| EngineError::oauth(C::InvalidRequest, format!("{p} is required")))
        };
        match need("grant_type")?.as_str() {
            "authorization_code" => Ok(Self::AuthorizationCode {
                code: need("code")?,
                redirect_uri: need("redirect_uri")?,
                code_verifier: need("code_verifier").map_err(|_| {
                    EngineError::oauth(C::InvalidRequest, "code_verifier (PKCE) is required")
                })?,
                resource: param("resource"),
            }),
            "refresh_token" => Ok(Self::RefreshToken {
                refresh_token: need("refresh_token")?,
                scope: param("scope"),
                resource: param("resource"),
            }),
            "client_credentials" => {
                let (resource, audience) = (param("resource"), param("audience"));
                if resource.is_some() && audience.is_some() && resource != audience {
                    return Err(EngineError::oauth(
                        C::InvalidRequest,
                        "resource and audience name different APIs",
                    ));
                }
                Ok(Self::ClientCredentials {
                    scope: param("scope"),
                    resource: resource.or(audience),
                })
            }
            "urn:ietf:params:oauth:grant-type:token-exchange" => {
                let subject = (need("subject_token")?, need("subject_token_type")?);
                let (resource, audience) = (param("resource"), param("audience"));
                if resource.is_some() && audience.is_some() && resource != audience {
                    return Err(EngineError::oauth(
                        C::InvalidTarget,
                        "resource and audience name different targets: name one",
                    ));
                }
                if let Some(t) = param("requested_token_type")
                    && t != crate::model::TOKEN_TYPE_ACCESS
                {
                    return Err(EngineError::oauth(
                        C::InvalidRequest,
                        "only access tokens are issued by exchange",
                    ));
                }
                let actor = match (param("actor_token"), param("actor_token_type")) {
                    (None, None) => None,
                    (Some(t), Some(k)) => Some((t, k)),
                    _ => {
                        return Err(EngineError::oauth(
                            C::InvalidRequest,
                            "actor_token and actor_token_type go together",
                        ));
                    }
                };
                Ok(Self::TokenExchange {
                    subject_token: subject.0,
                    subject_token_type: subject.1,
                    actor,
                    target: resource.or(audience),
                    scope: param("scope"),
                })
            }
            "urn:ietf:params:oauth:grant-type:device_code" => Ok(Self::DeviceCode {
                device_code: need("device_code")?,
            }),
            _ => Err(EngineError::oauth(
                C::UnsupportedGrantType,
                "supported grant types: authorization_code, refresh_token, client_credentials, \
                 urn:ietf:params:oauth:grant-type:device_code, \
                 urn:ietf:params:oauth:grant-type:token-exchange",
            )),
        }
    }

    /// The `grant_type`, as metrics and the audit trail name it.
    pub fn grant_type(&self) -> &'static str {
        match self {
            Self::AuthorizationCode { .. } => "authorization_code",
            Self::RefreshToken { .. } => "refresh_token",
            Self::ClientCredentials { .. } => "client_credentials",
            Self::DeviceCode { .. } => "urn:ietf:params:oauth:grant-type:device_code",
            Self::TokenExchange { .. } => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }
}

impl std::fmt::Debug for GrantRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GrantRequest({}, <hidden>)", self.grant_type())
    }
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    /// JWT access token (RFC 9068).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: u64,
    /// Granted scope.
    pub scope: String,
    /// Present when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Present when `offline_access` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// What a token exchange issued (RFC 8693 §2.2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenResponse(<hidden>)")
    }
}

/// Refresh tokens are `chain_id.secret`: the chain id routes the token to its shard with no
/// lookup; the 256-bit secret is what makes it unguessable. Only the hash is stored.
pub(crate) fn parse_refresh_token(token: &str) -> Option<(ChainId, Hash32)> {
    let (chain, secret) = token.split_once('.')?;
    let b64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if chain.len() != 22 || secret.len() != 43 || !b64url(chain) || !b64url(secret) {
        return None;
    }
    Some((
        ChainId::from_stored(chain.to_owned()),
        Hash32::of(token.as_bytes()),
    ))
}

pub(crate) fn new_refresh_token(chain: &ChainId) -> (String, Hash32) {
    let token = format!("{}.{}", chain, random_token::<32>());
    let hash = Hash32::of(token.as_bytes());
    (token, hash)
}

fn invalid_grant(desc: &'static str) -> EngineError {
    EngineError::oauth(C::InvalidGrant, desc)
}

impl OAuth<'_> {
    /// Authenticates a client (RFC 6749 §2.3). Confidential clients must present their
    /// secret, or a client assertion for `private_key_jwt` (RFC 7523), and only in the way
    /// they registered; public clients must not have one. Every failure is
    /// `invalid_client`.
    pub async fn authenticate_client(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
    ) -> EngineResult<Arc<Client>> {
        let fail = || EngineError::oauth(C::InvalidClient, "client authentication failed");
        let id = ClientId::parse(&creds.client_id).map_err(|_| fail())?;
        let client = self.client(tenant, &id).await?.ok_or_else(fail)?;
        type M = EndpointAuthMethod;
        match (&creds.method, client.token_endpoint_auth_method) {
            (ClientAuthMethod::PrivateKeyJwt(a), Some(M::PrivateKeyJwt)) => {
                self.check_client_assertion(tenant, &client, a).await?;
                return Ok(client);
            }
            (ClientAuthMethod::PrivateKeyJwt(_), _) | (_, Some(M::PrivateKeyJwt)) => {
                return Err(EngineError::oauth(
                    C::InvalidClient,
                    "this client does not authenticate this way (token_endpoint_auth_method)",
                ));
            }
            (ClientAuthMethod::Basic, Some(M::ClientSecretPost))
            | (ClientAuthMethod::Post, Some(M::ClientSecretBasic)) => {
                return Err(EngineError::oauth(
                    C::InvalidClient,
                    "this client does not authenticate this way (token_endpoint_auth_method)",
                ));
            }
            _ => {}
        }
        match (&client.secret_hash, &creds.secret) {
            (Some(hash), Some(secret)) if ct_eq(&Hash32::of(secret.as_bytes()).0, &hash.0) => {
                Ok(client)
            }
            (None, None) => Ok(client),
            _ => Err(fail()),
        }
    }

    /// Handles a token request: authenticates the client, then runs its grant.
    pub async fn token(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
        grant: GrantRequest,
        meta: &RequestMeta,
    ) -> EngineResult<TokenResponse> {
        self.token_with_dpop(tenant, creds, grant, None, meta).await
    }

    /// Handles a token request that may carry a DPoP proof (RFC 9449 §5): checked after
    /// the client authenticates, before its grant runs; the tokens are bound to its key.
    pub async fn token_with_dpop(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
        grant: GrantRequest,
        dpop: Option<&Proof>,
        meta: &RequestMeta,
    ) -> EngineResult<TokenResponse> {
        self.tenant(tenant).await?;
        let client = self.authenticate_client(tenant, creds).await?;
        if GrantType::parse(grant.grant_type()).is_some_and(|g| !client.allows(g)) {
            return Err(EngineError::oauth(
                C::UnauthorizedClient,
                format!("this client may not use {}", grant.grant_type()),
            ));
        }
        let dpop_jkt = self.token_dpop(tenant, &client, dpop).await?;
        match grant {
            GrantRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
                resource,
            } => {
                let proof = code::Presented {
                    code,
                    redirect_uri,
                    verifier: code_verifier,
                    resource,
                    dpop_jkt,
                };
                self.code_grant(tenant, &client, proof, meta).await
            }
            GrantRequest::RefreshToken {
                refresh_token,
                scope,
                resource,
            } => {
                let asked = refresh::Presented {
                    token: refresh_token,
                    scope,
                    resource,
                    dpop_jkt,
                };
                self.refresh_grant(tenant, &client, asked, meta).await
            }
            GrantRequest::TokenExchange {
                subject_token,
                subject_token_type,
                actor,
                target,
                scope,
            } => {
                let ask = exchange::Exchange {
                    subject: (subject_token, subject_token_type),
                    actor,
                    target,
                    scope,
                    dpop_jkt,
                };
                self.token_exchange(tenant, &client, ask).await
            }
            GrantRequest::DeviceCode { device_code } => {
                self.device_grant(tenant, &client, &device_code, dpop_jkt.as_deref(), meta)
                    .await
            }
            GrantRequest::ClientCredentials { scope, resource } => {
                self.client_credentials_grant(tenant, &client, scope, resource, dpop_jkt)
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_parse_only_in_their_own_shape() {
        let chain = ChainId::generate();
        let (token, hash) = new_refresh_token(&chain);
        assert_eq!(parse_refresh_token(&token), Some((chain, hash)));
        for bad in [
            "",
            "abc",
            "a.b",
            &format!("{token}x"),
            &token.replace('.', ""),
        ] {
            assert!(parse_refresh_token(bad).is_none(), "{bad:?} parsed");
        }
    }

    fn form(pairs: &[(&str, &str)]) -> impl FnMut(&str) -> Option<String> {
        let m: std::collections::HashMap<String, String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn grant_requests_parse_into_their_grant_or_the_protocol_error() {
        let code = GrantRequest::parse(form(&[
            ("grant_type", "authorization_code"),
            ("code", "c"),
            ("redirect_uri", "https://app/cb"),
            ("code_verifier", "v"),
        ]))
        .unwrap();
        assert!(matches!(code, GrantRequest::AuthorizationCode { ref code, .. } if code == "c"));
        let refresh = GrantRequest::parse(form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "r"),
            ("scope", "openid"),
        ]))
        .unwrap();
        assert!(
            matches!(refresh, GrantRequest::RefreshToken { ref scope, .. } if scope.as_deref() == Some("openid"))
        );
        let code_of = |e: EngineError| match e {
            EngineError::OAuth(o) => (o.code, o.description.to_string()),
            other => panic!("not an OAuth error: {other:?}"),
        };
        for (pairs, want, says) in [
            (vec![], C::InvalidRequest, "grant_type"),
            (vec![("grant_type", "")], C::InvalidRequest, "grant_type"),
            (
                vec![("grant_type", "password")],
                C::UnsupportedGrantType,
                "supported",
            ),
            (
                vec![("grant_type", "authorization_code"), ("code", "c")],
                C::InvalidRequest,
                "redirect_uri",
            ),
            (
                vec![
                    ("grant_type", "authorization_code"),
                    ("code", "c"),
                    ("redirect_uri", "https://app/cb"),
                ],
                C::InvalidRequest,
                "PKCE",
            ),
            (
                vec![("grant_type", "refresh_token")],
                C::InvalidRequest,
                "refresh_token",
            ),
        ] {
            let (code, desc) = code_of(GrantRequest::parse(form(&pairs)).unwrap_err());
            assert_eq!(code, want, "{pairs:?}");
            assert!(desc.contains(says), "{pairs:?}: {desc}");
        }
    }
}
