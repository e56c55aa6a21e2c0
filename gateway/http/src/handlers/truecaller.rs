//! `POST {issuer}/api/verify/truecaller`: an app hands over the signed profile Truecaller's
//! SDK gave it, with its user's access token (scope `verify`) as `Authorization: Bearer`.
//!
//! Body (JSON, the SDK's names): `payload`, `signature`, `signatureAlgorithm`, and
//! optionally `keyId` (only that pinned key is tried) and `nonce` (the `requestNonce` the
//! app set; checked when given). 200 answers `{"verified": true, "method": "truecaller",
//! "id", "phone_number" (masked), "phone_added"}`; refused evidence answers 400
//! `{"error": code, "error_description": message}`; a missing, bad or under-scoped token
//! answers as RFC 6750 says (401 `invalid_token`, 403 `insufficient_scope`, with
//! `WWW-Authenticate`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tollgate_engine::verify::truecaller::{SignedProfile, TruecallerRequest, VERIFY_SCOPE};
use tollgate_engine::{EngineError, OAuthErrorCode};

use crate::state::AppState;
use crate::web::error::{ApiError, ProtocolError, insufficient_scope};
use crate::web::request::meta;
use crate::web::tenant::tenant_id;

/// The request body. No `Debug`: it holds a person's profile.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Body {
    payload: String,
    signature: String,
    signature_algorithm: String,
    #[serde(default)]
    key_id: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

fn bearer(req: &HttpRequest) -> Result<&str, ProtocolError> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ProtocolError(EngineError::oauth(
                OAuthErrorCode::InvalidToken,
                "an access token with the verify scope is required (Authorization: Bearer)",
            ))
        })
}

fn no_store(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// `POST /{tenant}/api/verify/truecaller`
pub async fn verify(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path)?;
    let user = match st.engine.verify().api_user(&t, bearer(&req)?).await {
        Ok(user) => user,
        Err(EngineError::OAuth(o)) if o.code == OAuthErrorCode::InsufficientScope => {
            return Ok(insufficient_scope(VERIFY_SCOPE));
        }
        Err(e) => return Err(e.into()),
    };
    let b: Body = serde_json::from_slice(&body).map_err(|_| {
        ApiError::invalid_request(
            "the body is JSON with payload, signature and signatureAlgorithm (and optionally keyId and nonce)",
        )
    })?;
    let request = TruecallerRequest {
        signed: SignedProfile {
            payload: &b.payload,
            signature: &b.signature,
            algorithm: &b.signature_algorithm,
            key_id: b.key_id.as_deref(),
        },
        nonce: b.nonce.as_deref(),
    };
    let done = st
        .engine
        .verify()
        .truecaller(&t, &user, &request, &meta(&req))
        .await?;
    Ok(match done {
        Ok(v) => no_store(
            StatusCode::OK,
            &json!({
                "verified": true,
                "method": "truecaller",
                "id": v.id,
                "phone_number": v.phone_masked,
                "phone_added": v.phone_added,
            }),
        ),
        Err(r) => no_store(
            StatusCode::BAD_REQUEST,
            &json!({"error": r.code, "error_description": r.message}),
        ),
    })
}
