//! Request helpers shared by the handlers: bounded form bodies, client credentials,
//! cookies, CSRF tokens and the caller's address.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use base64::Engine as _;
use futures::StreamExt;
use std::collections::HashMap;
use tollgate_engine::grants::{ClientAuthMethod, ClientCredentials};
use tollgate_engine::{EngineError, OAuthErrorCode as C, RequestMeta};

use crate::error::ApiError;

/// Largest form body accepted by the OAuth endpoints and pages.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// Reads an `application/x-www-form-urlencoded` body of at most `MAX_FORM_BYTES`.
/// Each parameter may appear once (RFC 6749 §3.1).
pub async fn read_form(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<HashMap<String, String>, ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(ApiError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::invalid_request("the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(ApiError::invalid_request(format!(
                "the request body exceeds {MAX_FORM_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    parse_unique(&body)
}

/// Parses urlencoded pairs, refusing repeated names.
pub fn parse_unique(raw: &[u8]) -> Result<HashMap<String, String>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw)
        .map_err(|_| ApiError::invalid_request("the form is not valid urlencoded data"))?;
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), v).is_some() {
            return Err(ApiError::invalid_request(format!(
                "parameter {k} appears more than once"
            )));
        }
    }
    Ok(map)
}

fn form_decode(s: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// The client credentials of a token, revocation or introspection request (RFC 6749 §2.3):
/// HTTP Basic, or the body, or `client_id` alone; never two methods at once.
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

/// The audit metadata of a request: the peer address (proxies are not trusted blindly).
pub fn meta(req: &HttpRequest) -> RequestMeta {
    RequestMeta {
        ip: req.peer_addr().map(|a| a.ip().to_string()),
    }
}

/// Cookie names.
pub const SESSION_COOKIE: &str = "tg_session";
/// CSRF cookie name.
pub const CSRF_COOKIE: &str = "tg_csrf";

/// A cookie scoped to one tenant's paths: HttpOnly, SameSite=Lax (it must travel on the
/// top-level redirect from a relying party), Secure whenever the issuer is https.
pub fn tenant_cookie(
    name: &'static str,
    value: String,
    tenant: &str,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(format!("/{tenant}"))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish()
}

/// A cookie that deletes `name`.
pub fn removal(name: &'static str, tenant: &str, secure: bool) -> Cookie<'static> {
    let mut c = tenant_cookie(name, String::new(), tenant, secure);
    c.make_removal();
    c
}

/// CSRF protection for forms: the form carries HMAC(key, cookie value), the cookie is
/// random and HttpOnly. A cross-site page can neither read the cookie nor forge the MAC.
#[derive(Clone)]
pub struct Csrf {
    key: ring::hmac::Key,
}

impl Csrf {
    /// From a key derived from the master key.
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
        }
    }

    /// The form token for a cookie value.
    pub fn token(&self, cookie: &str) -> String {
        tollgate_engine::crypto::b64(ring::hmac::sign(&self.key, cookie.as_bytes()).as_ref())
    }

    /// Whether a form token matches the cookie.
    pub fn check(&self, cookie: Option<&str>, token: Option<&str>) -> bool {
        match (cookie, token.and_then(tollgate_engine::crypto::b64_decode)) {
            (Some(c), Some(t)) if !c.is_empty() => {
                ring::hmac::verify(&self.key, c.as_bytes(), &t).is_ok()
            }
            _ => false,
        }
    }
}
