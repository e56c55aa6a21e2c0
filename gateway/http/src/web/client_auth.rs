//! Who is calling an API: an OAuth client's credentials (token, revocation and
//! introspection requests), or the operator's admin token (the admin API).

use actix_web::HttpRequest;
use actix_web::http::header;
use base64::Engine as _;
use std::collections::HashMap;
use tollgate_engine::oauth::assertion::{
    ClientAssertion, JWT_BEARER_ASSERTION, unverified_subject,
};
use tollgate_engine::oauth::token::{ClientAuthMethod, ClientCredentials};
use tollgate_engine::{EngineError, OAuthErrorCode as C};

use crate::state::AppState;
use crate::web::error::ApiError;

fn form_decode(s: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// The client credentials of a token, PAR, revocation or introspection request (RFC 6749
/// §2.3): HTTP Basic, or the body, or a client assertion (RFC 7523), or `client_id` alone;
/// never two methods at once.
pub fn client_credentials(
    req: &HttpRequest,
    form: &HashMap<String, String>,
) -> Result<ClientCredentials, ApiError> {
    let invalid_client = || {
        ApiError(EngineError::oauth(
            C::InvalidClient,
            "client authentication failed",
        ))
    };
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let body_secret = form.get("client_secret").cloned();
    if form.contains_key("client_assertion") || form.contains_key("client_assertion_type") {
        if basic.is_some() || body_secret.is_some() {
            return Err(ApiError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        return client_assertion(req, form);
    }
    if let Some(b) = basic {
        if body_secret.is_some() {
            return Err(ApiError::invalid_request(
                "use one client authentication method, not two",
            ));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(invalid_client)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
        let (id, secret) = (
            form_decode(id).ok_or_else(invalid_client)?,
            form_decode(secret).ok_or_else(invalid_client)?,
        );
        if form.get("client_id").is_some_and(|c| *c != id) {
            return Err(ApiError::invalid_request(
                "client_id in the body differs from the Authorization header",
            ));
        }
        return Ok(ClientCredentials {
            client_id: id,
            secret: Some(secret),
            method: ClientAuthMethod::Basic,
        });
    }
    let client_id = form.get("client_id").cloned().ok_or_else(invalid_client)?;
    Ok(match body_secret {
        Some(secret) => ClientCredentials {
            client_id,
            secret: Some(secret),
            method: ClientAuthMethod::Post,
        },
        None => ClientCredentials {
            client_id,
            secret: None,
            method: ClientAuthMethod::None,
        },
    })
}

/// A client assertion (`private_key_jwt`, RFC 7523 §2.2): the JWT, and the endpoint it
/// was sent to (the last segment of the path), which its `aud` may name. The client is
/// the one `client_id` names, or else the assertion's subject (RFC 7523 §3 makes
/// `client_id` optional); the engine checks that they agree.
fn client_assertion(
    req: &HttpRequest,
    form: &HashMap<String, String>,
) -> Result<ClientCredentials, ApiError> {
    let invalid_client = |d: &'static str| ApiError(EngineError::oauth(C::InvalidClient, d));
    if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER_ASSERTION) {
        return Err(invalid_client(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ));
    }
    let jwt = form
        .get("client_assertion")
        .filter(|j| !j.is_empty())
        .ok_or_else(|| invalid_client("client_assertion is required"))?;
    let client_id = match form.get("client_id").filter(|c| !c.is_empty()) {
        Some(c) => c.clone(),
        None => unverified_subject(jwt)
            .ok_or_else(|| invalid_client("the client assertion names no client"))?,
    };
    let endpoint = req.path().rsplit('/').next().unwrap_or_default().to_owned();
    Ok(ClientCredentials {
        client_id,
        secret: None,
        method: ClientAuthMethod::PrivateKeyJwt(ClientAssertion {
            jwt: jwt.clone(),
            endpoint,
        }),
    })
}

/// Checks the admin API's bearer token.
pub fn authorize_admin(req: &HttpRequest, st: &AppState) -> Result<(), ApiError> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compare digests so the comparison time does not depend on the token's length either.
    let ok = tollgate_engine::crypto::ct_eq(
        &tollgate_engine::crypto::sha256(presented.as_bytes()),
        &tollgate_engine::crypto::sha256(st.admin_token.as_bytes()),
    );
    if ok && !presented.is_empty() {
        Ok(())
    } else {
        Err(ApiError(EngineError::oauth(
            tollgate_engine::OAuthErrorCode::InvalidToken,
            "a valid admin token is required",
        )))
    }
}
