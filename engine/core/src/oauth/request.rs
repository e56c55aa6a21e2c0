//! Authorization requests that do not travel in the browser's address bar: signed
//! request objects (JAR, RFC 9101), whose claims are the request's parameters, signed by
//! one of the client's keys; and pushed requests (PAR, RFC 9126; the endpoint is
//! [`super::par`]), kept single-use for [`PAR_TTL`] seconds and named by a `request_uri`.
//! Both end as the plain parameters the authorization endpoint checks like any other.

use serde_json::Value;

use super::OAuth;
use super::assertion::LEEWAY;
use crate::crypto::random_token;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ClientId, TenantId};
use crate::model::{Challenge, Client, Hash32};

/// How a pushed request's `request_uri` begins (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request waits for its browser, seconds.
pub const PAR_TTL: u64 = 90;

const PURPOSE: &str = "par";

/// Request-object claims that are about the JWT, not parameters of the request.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];

/// The answer to a pushed authorization request (RFC 9126 §2.2).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Pushed {
    /// Where the browser's authorization request points (`request_uri`).
    pub request_uri: String,
    /// Seconds it stays usable.
    pub expires_in: u64,
}

fn key_of(request_uri: &str) -> Hash32 {
    Hash32::of(request_uri.as_bytes())
}

fn object_error(desc: impl Into<std::borrow::Cow<'static, str>>) -> EngineError {
    EngineError::oauth(C::InvalidRequestObject, desc)
}

/// A JSON claim as a parameter value: strings as they are, anything else as JSON text.
fn param_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl OAuth<'_> {
    /// A request object's parameters (RFC 9101 §4, §6.3): signed with an asymmetric key of
    /// the client, `iss` the client, `aud` the issuer, unexpired, naming the client if it
    /// names one, and no `request` or `request_uri` inside. Errors are
    /// `invalid_request_object`.
    pub(crate) async fn request_object_params(
        &self,
        tenant: &TenantId,
        client: &Client,
        jwt: &str,
    ) -> EngineResult<Vec<(String, String)>> {
        let claims = self.verify_client_jwt(client, jwt).await.map_err(|e| {
            object_error(format!(
                "the request object is not signed by a key of the client: {}",
                e.as_str()
            ))
        })?;
        let Value::Object(claims) = claims else {
            return Err(object_error(
                "the request object's claims are not an object",
            ));
        };
        let id = client.id.as_str();
        if claims.get("iss").and_then(Value::as_str) != Some(id) {
            return Err(object_error(
                "the request object's iss must be the client_id",
            ));
        }
        let iss = self.issuer(tenant);
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => *a == iss,
            Some(Value::Array(a)) => a.iter().any(|a| a.as_str() == Some(iss.as_str())),
            _ => false,
        };
        if !aud_ok {
            return Err(object_error("the request object's aud must be the issuer"));
        }
        let now = self.now();
        if let Some(exp) = claims.get("exp") {
            match exp.as_u64() {
                Some(exp) if exp.saturating_add(LEEWAY) > now => {}
                _ => return Err(object_error("the request object has expired")),
            }
        }
        if claims
            .get("nbf")
            .and_then(Value::as_u64)
            .is_some_and(|nbf| nbf > now + LEEWAY)
        {
            return Err(object_error("the request object is not valid yet"));
        }
        if claims
            .get("client_id")
            .is_some_and(|c| c.as_str() != Some(id))
        {
            return Err(object_error(
                "the request object's client_id is not the request's",
            ));
        }
        if claims.contains_key("request") || claims.contains_key("request_uri") {
            return Err(object_error(
                "a request object cannot hold request or request_uri",
            ));
        }
        let mut params: Vec<(String, String)> = claims
            .iter()
            .filter(|(k, _)| !JWT_CLAIMS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), param_value(v)))
            .collect();
        if !claims.contains_key("client_id") {
            params.push(("client_id".into(), id.to_owned()));
        }
        Ok(params)
    }

    /// Keeps a validated pushed request for [`PAR_TTL`] seconds; returns its name.
    pub(crate) async fn store_pushed(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        params: &[(String, String)],
    ) -> EngineResult<Pushed> {
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token::<32>());
        let stored = Challenge {
            tenant: tenant.clone(),
            key: key_of(&request_uri),
            purpose: PURPOSE.into(),
            user_id: None,
            data: serde_json::json!({"client_id": client.as_str(), "params": params}),
            tries_left: 1,
            expires_at: self.now() + PAR_TTL,
        };
        self.rt().store.put_challenge(&stored).await?;
        Ok(Pushed {
            request_uri,
            expires_in: PAR_TTL,
        })
    }

    /// The parameters an authorization request stands for, and whether they were pushed:
    /// a pushed request's (taken, so once only, and only by its client), a request
    /// object's (verified), or the request's own. Refusals are OAuth errors
    /// (`invalid_request`, `invalid_request_uri`, `invalid_request_object`); a refused
    /// request spends nothing.
    pub(crate) async fn expand_authorize(
        &self,
        tenant: &TenantId,
        params: &[(String, String)],
    ) -> EngineResult<(Vec<(String, String)>, bool)> {
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, v)| n == k && !v.is_empty())
                .map(|(_, v)| v.as_str())
        };
        let (request_uri, request) = (get("request_uri"), get("request"));
        if request_uri.is_none() && request.is_none() {
            return Ok((params.to_vec(), false));
        }
        let bad = |m: &'static str| EngineError::oauth(C::InvalidRequest, m);
        // A repeated parameter is refused as in any request, before anything is spent.
        let mut names = std::collections::HashSet::new();
        if !params.iter().all(|(k, _)| names.insert(k.as_str())) {
            return Ok((params.to_vec(), false));
        }
        if request_uri.is_some() && request.is_some() {
            return Err(bad("the request has both request and request_uri"));
        }
        let client_id = get("client_id")
            .and_then(|c| ClientId::parse(c).ok())
            .ok_or_else(|| bad("the request has no valid client_id"))?;
        if let Some(uri) = request_uri {
            let gone = || {
                EngineError::oauth(
                    C::InvalidRequestUri,
                    "the request_uri is unknown, expired, already used or another client's",
                )
            };
            if !uri.starts_with(REQUEST_URI_PREFIX) {
                return Err(gone());
            }
            let key = key_of(uri);
            // Read first: another client's attempt must not spend the request.
            let live = self.rt().store.get_challenge(tenant, &key).await?;
            let ok = live.as_ref().is_some_and(|c| {
                c.purpose == PURPOSE
                    && c.expires_at > self.now()
                    && c.data["client_id"].as_str() == Some(client_id.as_str())
            });
            if !ok {
                return Err(gone());
            }
            let taken = self
                .rt()
                .store
                .take_challenge(tenant, &key)
                .await?
                .ok_or_else(gone)?;
            let stored: Vec<(String, String)> =
                serde_json::from_value(taken.data["params"].clone()).map_err(|_| gone())?;
            return Ok((stored, true));
        }
        let client = self
            .client(tenant, &client_id)
            .await?
            .ok_or_else(|| bad("the client_id is not a known client"))?;
        let params = self
            .request_object_params(tenant, &client, request.unwrap_or_default())
            .await?;
        Ok((params, false))
    }
}
