//! The pushed authorization request endpoint (PAR, RFC 9126 §2): the client
//! authenticates as at the token endpoint and posts its authorization request (plain, or
//! as a request object in `request`); it is validated as `/authorize` would, then kept
//! for the browser ([`super::request`]). A DPoP proof with it binds the code to its key
//! (RFC 9449 §10.1).

use super::OAuth;
use super::authorize::AuthorizeError;
use super::dpop::Proof;
use super::request::Pushed;
use super::token::ClientCredentials;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::TenantId;

/// Parameters of a pushed request that authenticate the client: not part of the request.
const CLIENT_AUTH: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

impl OAuth<'_> {
    /// Stores a pushed authorization request (RFC 9126 §2.1). Errors are the protocol's
    /// (`invalid_client`, `invalid_request`, `invalid_request_object`, the authorization
    /// request's own codes) and store nothing.
    pub async fn push_authorization_request(
        &self,
        tenant: &TenantId,
        creds: &ClientCredentials,
        form: Vec<(String, String)>,
        dpop: Option<&Proof>,
    ) -> EngineResult<Pushed> {
        self.tenant(tenant).await?;
        let client = self.authenticate_client(tenant, creds).await?;
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("request_uri").is_some() {
            return Err(EngineError::oauth(
                C::InvalidRequest,
                "a pushed request cannot carry a request_uri",
            ));
        }
        if get("client_id").is_some_and(|c| c != client.id.as_str()) {
            return Err(EngineError::oauth(
                C::InvalidRequest,
                "client_id is not the authenticated client",
            ));
        }
        let mut params: Vec<(String, String)> = match get("request").filter(|r| !r.is_empty()) {
            Some(jwt) => self.request_object_params(tenant, &client, jwt).await?,
            None => form
                .iter()
                .filter(|(k, _)| !CLIENT_AUTH.contains(&k.as_str()))
                .cloned()
                .collect(),
        };
        if !params.iter().any(|(k, _)| k == "client_id") {
            params.push(("client_id".into(), client.id.to_string()));
        }
        if let Some(proof) = dpop {
            self.bind_pushed(tenant, &client, proof, &mut params)
                .await?;
        }
        self.validate_params(tenant, &params, true)
            .await
            .map_err(|e| match e {
                AuthorizeError::Page(msg) => EngineError::oauth(C::InvalidRequest, msg),
                AuthorizeError::Redirect { error, .. } => EngineError::OAuth(error),
                AuthorizeError::Engine(e) => e,
            })?;
        self.store_pushed(tenant, &client.id, &params).await
    }
}
