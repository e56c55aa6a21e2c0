//! OAuth 2.1 / OIDC endpoints. Each handler parses, calls one engine function, renders.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;
use tollgate_engine::ids::TenantId;
use tollgate_engine::oauth::authorize::{AuthorizeError, NextStep};
use tollgate_engine::oauth::dpop::Presented;
use tollgate_engine::oauth::token::GrantRequest;
use tollgate_engine::runtime::keys::Rendered;

use crate::journey::{authorize_error, before_session_reuse, continue_to};
use crate::state::AppState;
use crate::web::client_auth::client_credentials;
use crate::web::cookies::SESSION_COOKIE;
use crate::web::dpop;
use crate::web::error::{ApiError, ErrorText, ProtocolError, engine_error_page, error_page};
use crate::web::request::{meta, read_form};
use crate::web::tenant::tenant_id;

fn rendered(req: &HttpRequest, doc: &Rendered, max_age: u32) -> HttpResponse {
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == doc.etag));
    let mut r = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    r.insert_header((header::ETAG, doc.etag.clone()))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .insert_header(("Access-Control-Allow-Origin", "*"));
    if not_modified {
        r.finish()
    } else {
        r.content_type("application/json").body(doc.body.clone())
    }
}

/// `GET /{tenant}/.well-known/openid-configuration`
pub async fn discovery(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let t = tenant_id(&path)?;
    let doc = st.engine.oauth().discovery(&t).await?;
    Ok(rendered(&req, &doc, 3600))
}

/// `GET /{tenant}/jwks.json`
pub async fn jwks(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let t = tenant_id(&path)?;
    let doc = st.engine.oauth().jwks(&t).await?;
    Ok(rendered(&req, &doc, 300))
}

/// Query or form parameters of `/authorize`, in order, duplicates kept (the engine refuses them).
fn authorize_params(req: &HttpRequest, body: &[u8]) -> Option<Vec<(String, String)>> {
    let raw: &[u8] = if req.method() == actix_web::http::Method::POST {
        body
    } else {
        req.query_string().as_bytes()
    };
    serde_urlencoded::from_bytes(raw).ok()
}

/// `GET|POST /{tenant}/authorize`
pub async fn authorize(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> HttpResponse {
    let t = match tenant_id(&path) {
        Ok(t) => t,
        Err(e) => return engine_error_page(&e),
    };
    let Some(params) = authorize_params(&req, &body) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            ErrorText::id("err-malformed-request"),
            None,
        );
    };
    let result = async {
        let areq = st.engine.oauth().validate_authorize(&t, &params).await?;
        let session = match st.cookies.read(&req, SESSION_COOKIE, t.as_str()) {
            Some(c) => st.engine.signin().session(&t, c.value()).await?,
            None => None,
        };
        // Signed in already: required purposes and scope-driven profile fields first.
        if let Some(s) = &session
            && let Some(url) = before_session_reuse(&st, &req, &t, s, &areq).await?
        {
            return Ok::<_, AuthorizeError>((areq, NextStep::Redirect(url)));
        }
        let step = st
            .engine
            .oauth()
            .next_step(&t, &areq, session.as_ref(), false, false, &meta(&req))
            .await?;
        Ok::<_, AuthorizeError>((areq, step))
    }
    .await;
    match result {
        Ok((areq, step)) => continue_to(&st, &t, &areq, step),
        Err(e) => authorize_error(&st, &t, e),
    }
}

fn no_store_json(v: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(v)
}

fn take(form: &mut HashMap<String, String>, k: &str) -> Option<String> {
    form.remove(k).filter(|v| !v.is_empty())
}

/// `POST /{tenant}/token`
pub async fn token(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path)?;
    let mut form = read_form(&req, payload).await?;
    let creds = client_credentials(&req, &form)?;
    let grant = GrantRequest::parse(|k| take(&mut form, k))?;
    let (with_proof, result) = match dpop::proof(&req) {
        Ok(p) => {
            let (oauth, meta) = (st.engine.oauth(), meta(&req));
            let r = oauth.token_with_dpop(&t, &creds, grant, p.as_ref(), &meta);
            (p.is_some(), r.await)
        }
        Err(e) => (true, Err(e)),
    };
    // A fresh nonce with every answer to a DPoP request, and with DPoP's errors (§8).
    let send_nonce = with_proof || result.as_ref().is_err_and(dpop::is_dpop_error);
    let mut r = match result {
        Ok(resp) => no_store_json(&resp),
        Err(e) => actix_web::ResponseError::error_response(&ProtocolError(e)),
    };
    if send_nonce {
        dpop::add_nonce(&mut r, &st.engine.oauth().dpop_nonce(&t));
    }
    Ok(r)
}

/// `GET|POST /{tenant}/userinfo`
pub async fn userinfo(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = tenant_id(&path)?;
    let presented = dpop::presented(&req);
    let dpop_scheme = matches!(presented, Ok(Presented::Dpop { .. }));
    let result = match presented {
        Ok(p) => st.engine.oauth().userinfo(&t, p).await,
        Err(e) => Err(e),
    };
    let nonce = || st.engine.oauth().dpop_nonce(&t);
    Ok(match result {
        Ok(claims) => {
            let mut r = no_store_json(&claims);
            if dpop_scheme {
                dpop::add_nonce(&mut r, &nonce());
            }
            r
        }
        Err(e) => dpop::resource_error(e, dpop_scheme, nonce),
    })
}

/// A client-authenticated form with a `token` (revocation and introspection).
async fn token_form(
    req: &HttpRequest,
    path: &str,
    payload: web::Payload,
) -> Result<
    (
        TenantId,
        HashMap<String, String>,
        tollgate_engine::oauth::token::ClientCredentials,
    ),
    ApiError,
> {
    let t = tenant_id(path)?;
    let form = read_form(req, payload).await?;
    let creds = client_credentials(req, &form)?;
    if form.get("token").is_none_or(|v| v.is_empty()) {
        return Err(ApiError::invalid_request("token is required"));
    }
    Ok((t, form, creds))
}

/// `POST /{tenant}/revoke` (RFC 7009)
pub async fn revoke(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let (t, form, creds) = token_form(&req, &path, payload).await?;
    st.engine
        .oauth()
        .revoke(
            &t,
            &creds,
            &form["token"],
            form.get("token_type_hint").map(String::as_str),
            &meta(&req),
        )
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// `POST /{tenant}/introspect` (RFC 7662)
pub async fn introspect(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let (t, form, creds) = token_form(&req, &path, payload).await?;
    let answer = st
        .engine
        .oauth()
        .introspect(&t, &creds, &form["token"])
        .await?;
    Ok(no_store_json(&answer))
}
