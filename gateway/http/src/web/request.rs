//! Reading requests: bounded form bodies with each parameter once, and the caller's
//! address for the audit trail.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use futures::StreamExt;
use std::collections::HashMap;
use tollgate_engine::RequestMeta;

use crate::web::error::ApiError;

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

/// The audit metadata of a request: the peer address (proxies are not trusted blindly).
pub fn meta(req: &HttpRequest) -> RequestMeta {
    RequestMeta {
        ip: req.peer_addr().map(|a| a.ip().to_string()),
    }
}
