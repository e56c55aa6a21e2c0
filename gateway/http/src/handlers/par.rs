//! The pushed authorization request endpoint (RFC 9126 §2).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;
use crate::web::client_auth::client_credentials;
use crate::web::error::ProtocolError;
use crate::web::request::read_form;
use crate::web::tenant::tenant_id;

/// `POST /{tenant}/par`: 201 with the `request_uri` the browser's request will name.
pub async fn push(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path)?;
    let form = read_form(&req, payload).await?;
    let creds = client_credentials(&req, &form)?;
    let pushed = st
        .engine
        .oauth()
        .push_authorization_request(&t, &creds, form.into_iter().collect())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(pushed))
}
