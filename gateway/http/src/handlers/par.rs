//! The pushed authorization request endpoint (RFC 9126 §2).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::state::AppState;
use crate::web::client_auth::client_credentials;
use crate::web::dpop;
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
    let (with_proof, result) = match dpop::proof(&req) {
        Ok(p) => {
            let oauth = st.engine.oauth();
            let pushed = oauth.push_authorization_request(
                &t,
                &creds,
                form.into_iter().collect(),
                p.as_ref(),
            );
            (p.is_some(), pushed.await)
        }
        Err(e) => (true, Err(e)),
    };
    // A fresh nonce with every answer to a DPoP request, and with DPoP's errors.
    let send_nonce = with_proof || result.as_ref().is_err_and(dpop::is_dpop_error);
    let mut r = match result {
        Ok(pushed) => HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(pushed),
        Err(e) => ProtocolError(e).error_response(),
    };
    if send_nonce {
        dpop::add_nonce(&mut r, &st.engine.oauth().dpop_nonce(&t));
    }
    Ok(r)
}
