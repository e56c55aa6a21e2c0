//! Identity verification with Aadhaar Paperless Offline e-KYC: the hosted page
//! `/{tenant}/verify/aadhaar` (a signed-in user uploads the file; CSRF-protected) and the
//! JSON API `/{tenant}/api/verify/aadhaar` for apps (the user's access token with scope
//! `verify`). Both read the same multipart upload and call one engine function,
//! [`tollgate_engine::verify::Verify::aadhaar`].
//!
//! The upload is read in memory with its size bounded while it is read (the API refuses
//! a `Content-Length` over the bound before reading): 413 and a clear message. The
//! page's CSRF token is checked as soon as its field arrives.
//! actix-multipart is used without its `tempfile` feature, so nothing reaches the disk;
//! the bytes are dropped when the request ends. Nothing here logs the upload or what is
//! in it.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use serde_json::json;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::verification::{Verification, VerificationMethod};
use tollgate_engine::oauth::dpop::Presented;
use tollgate_engine::verify::aadhaar::{AadhaarRejected, AadhaarUpload, limits};
use tollgate_engine::{EngineError, OAuthErrorCode as C};

use crate::pages::portal::signed_in;
use crate::pages::verify::{self as pages, AadhaarForm};
use crate::state::AppState;
use crate::web::cookies::CSRF_COOKIE;
use crate::web::csrf::{session_cookie, view_form_page};
use crate::web::dpop;
use crate::web::error::{PageError, ProtocolError, insufficient_scope};
use crate::web::request::meta;
use crate::web::respond::see_other;
use crate::web::session::current_session;
use crate::web::tenant::tenant;
use crate::web::view::View;

type PageResult = Result<HttpResponse, PageError>;

/// The scope an app's access token needs for the API.
const SCOPE: &str = tollgate_engine::verify::truecaller::VERIFY_SCOPE;
/// The short form fields (share code, mobile, email, CSRF token) are bounded each.
const MAX_FIELD: usize = 1024;
/// Room for the form fields and the multipart framing around the file.
const OVERHEAD: usize = 16 * 1024;

/// The largest request body accepted.
fn max_body() -> usize {
    limits().zip.max_upload + OVERHEAD
}

/// What the form sent. No `Debug`: it holds the file and the share code.
#[derive(Default)]
struct Upload {
    file: Option<Vec<u8>>,
    share_code: String,
    mobile: String,
    email: String,
    csrf: String,
}

impl Upload {
    fn engine(&self) -> Option<AadhaarUpload<'_>> {
        Some(AadhaarUpload {
            file: self.file.as_deref()?,
            share_code: &self.share_code,
            mobile: Some(self.mobile.as_str()),
            email: Some(self.email.as_str()),
        })
    }
}

/// Why an upload could not be read.
enum ReadError {
    /// Over the bound (413). `vouched`: the form's CSRF token had arrived and matched
    /// before the bound was hit, so the request is the user's own.
    TooLarge { vouched: bool },
    /// Not multipart, or broken.
    Bad,
    /// A page's form whose CSRF token is missing or not this browser's (or whose body
    /// cannot be read to find it).
    Stale,
}

impl ReadError {
    fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Bad => "bad_upload",
            Self::Stale => "stale_form",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Bad => StatusCode::BAD_REQUEST,
            Self::Stale => StatusCode::FORBIDDEN,
        }
    }
}

/// Reads the multipart body: the `file` and the short fields, everything bounded. With
/// `csrf` (the page's form), the token is checked as soon as its field has arrived, and a
/// body without a good one is [`ReadError::Stale`].
async fn read_upload(
    req: &HttpRequest,
    payload: web::Payload,
    csrf: Option<&dyn Fn(&str) -> bool>,
) -> Result<Upload, ReadError> {
    let max = max_body();
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(if csrf.is_some() {
            ReadError::Stale
        } else {
            ReadError::Bad
        });
    }
    let mut vouched = false;
    let mut form = Multipart::new(req.headers(), payload);
    let mut upload = Upload::default();
    let mut total = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| ReadError::Bad)?;
        let name = field.name().unwrap_or_default().to_owned();
        let is_file = name == "file";
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| ReadError::Bad)?;
            total += chunk.len();
            if total > max {
                return Err(ReadError::TooLarge { vouched });
            }
            if !is_file && bytes.len() + chunk.len() > MAX_FIELD {
                return Err(ReadError::Bad);
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8(bytes.clone()).map_err(|_| ReadError::Bad);
        match name.as_str() {
            "file" => upload.file = Some(bytes),
            "share_code" => upload.share_code = text()?,
            "mobile" => upload.mobile = text()?,
            "email" => upload.email = text()?,
            "csrf" => {
                upload.csrf = text()?;
                if let Some(check) = csrf {
                    if !check(&upload.csrf) {
                        return Err(ReadError::Stale);
                    }
                    vouched = true;
                }
            }
            _ => {}
        }
    }
    if csrf.is_some() && !vouched {
        return Err(ReadError::Stale);
    }
    Ok(upload)
}

/// The audit event of an upload refused before the engine saw it (too large, broken):
/// like every refusal, a `verify.aadhaar_offline` failure with its code, nothing stored.
async fn refused(
    st: &AppState,
    tenant: &tollgate_engine::model::Tenant,
    user: &tollgate_engine::ids::UserId,
    req: &HttpRequest,
    code: &str,
) -> Result<(), EngineError> {
    st.engine
        .verify()
        .failed(
            tenant,
            user,
            VerificationMethod::AadhaarOffline,
            code,
            &meta(req),
        )
        .await
}

fn read_error_json(e: ReadError) -> HttpResponse {
    match e {
        ReadError::TooLarge { .. } => document_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the upload is larger than allowed",
        ),
        ReadError::Bad | ReadError::Stale => document_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send multipart/form-data with a file field",
        ),
    }
}

/// The page's view for the signed-in user, or the redirect to sign in.
async fn signed_in_view(
    st: &AppState,
    req: &HttpRequest,
    path: &str,
) -> Result<Result<(TenantId, tollgate_engine::ids::UserId, View), HttpResponse>, PageError> {
    let (t, tenant) = tenant(st, path).await?;
    let Some(session) = current_session(st, req, &t).await? else {
        return Ok(Err(see_other(&format!("/{t}/login"))));
    };
    let (_, v) = signed_in(st, req, &tenant, &session.user_id).await?;
    let v = v.switch_to(format!("/{t}/verify/aadhaar"), Vec::new());
    Ok(Ok((t, session.user_id, v)))
}

fn form_page(
    st: &AppState,
    req: &HttpRequest,
    v: &View,
    t: &TenantId,
    status: StatusCode,
    f: &AadhaarForm<'_>,
) -> HttpResponse {
    view_form_page(st, req, v, t, status, "kyc-title", |csrf| {
        pages::form(v, t, csrf, f)
    })
}

/// `GET /{tenant}/verify/aadhaar`
pub async fn aadhaar_page(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, _, v) = match signed_in_view(&st, &req, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    Ok(form_page(
        &st,
        &req,
        &v,
        &t,
        StatusCode::OK,
        &AadhaarForm::default(),
    ))
}

/// `POST /{tenant}/verify/aadhaar` (multipart): verifies the upload and shows the result,
/// or the form again with the reason.
pub async fn aadhaar_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let (t, user, v) = match signed_in_view(&st, &req, &path).await? {
        Ok(x) => x,
        Err(r) => return Ok(r),
    };
    let cookie = st
        .cookies
        .read(&req, CSRF_COOKIE, t.as_str())
        .map(|c| c.value().to_owned());
    let session = session_cookie(st.cookies, &req, t.as_str());
    let csrf_ok = |token: &str| {
        st.csrf
            .check(cookie.as_deref(), session.as_deref(), Some(token))
    };
    let upload = match read_upload(&req, payload, Some(&csrf_ok)).await {
        Ok(u) => u,
        Err(e) => {
            // Only a request the form's token vouches for is the user's attempt; a forged
            // one must not fill their audit trail.
            if let ReadError::TooLarge { vouched: true } = e {
                let tenant = st.engine.tenant(&t).await?;
                refused(&st, &tenant, &user, &req, e.code()).await?;
            }
            let f = AadhaarForm {
                error: Some(pages::refusal(&v, e.code())),
                ..AadhaarForm::default()
            };
            return Ok(form_page(&st, &req, &v, &t, e.status(), &f));
        }
    };
    let again = |status, code: &str| {
        let f = AadhaarForm {
            error: Some(pages::refusal(&v, code)),
            mobile: &upload.mobile,
            email: &upload.email,
        };
        form_page(&st, &req, &v, &t, status, &f)
    };
    let Some(input) = upload.engine().filter(|u| !u.file.is_empty()) else {
        return Ok(again(StatusCode::BAD_REQUEST, "no_file"));
    };
    let tenant = st.engine.tenant(&t).await?;
    match st
        .engine
        .verify()
        .aadhaar(&tenant, &user, input, &meta(&req))
        .await?
    {
        Ok(verification) => Ok(v.page(
            StatusCode::OK,
            "kyc-result-title",
            pages::result(&v, &t, &verification),
        )),
        Err(rejected) => Ok(again(StatusCode::BAD_REQUEST, rejected.code)),
    }
}

fn json_answer(status: StatusCode, body: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

fn document_error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    json_answer(
        status,
        json!({"error": code, "error_description": description}),
    )
}

fn invalid_token(description: &'static str) -> HttpResponse {
    use actix_web::ResponseError as _;
    ProtocolError(EngineError::oauth(C::InvalidToken, description)).error_response()
}

/// What the API answers about a kept verification (no keyed hash).
fn verification_json(v: &Verification) -> serde_json::Value {
    json!({
        "id": v.id,
        "method": v.method.as_str(),
        "verified_at": v.verified_at,
        "issued_at": v.issued_at,
        "name_match": v.name_match.as_str(),
        "aadhaar_last4": v.aadhaar_last4,
        "mobile_match": v.mobile_match,
        "email_match": v.email_match,
    })
}

/// `POST /{tenant}/api/verify/aadhaar` (multipart, `Authorization: Bearer` with scope
/// `verify`): the same check for apps, answered in JSON.
pub async fn aadhaar_api(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ProtocolError> {
    let t = crate::web::tenant::tenant_id(&path)?;
    let tenant = st.engine.tenant(&t).await?;
    let token = match dpop::presented(&req) {
        Ok(Presented::Bearer(token)) => token,
        Ok(Presented::Dpop { .. }) => {
            return Ok(invalid_token("present the access token as Bearer"));
        }
        Err(_) => {
            return Ok(invalid_token(
                "an access token is required (Authorization: Bearer)",
            ));
        }
    };
    // The same check as every `{issuer}/api/...` endpoint: a user's bearer token of this
    // tenant, not DPoP-bound, granted the scope.
    let user = match st.engine.verify().api_user(&t, &token).await {
        Ok(user) => user,
        Err(EngineError::OAuth(o)) if o.code == C::InsufficientScope => {
            return Ok(insufficient_scope(SCOPE));
        }
        Err(e) => return Err(e.into()),
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let read = match declared {
        // Refused before a byte of it is read.
        Some(n) if n > max_body() => Err(ReadError::TooLarge { vouched: true }),
        _ => read_upload(&req, payload, None).await,
    };
    let upload = match read {
        Ok(u) => u,
        Err(e) => {
            refused(&st, &tenant, &user, &req, e.code()).await?;
            return Ok(read_error_json(e));
        }
    };
    let Some(input) = upload.engine().filter(|u| !u.file.is_empty()) else {
        return Ok(document_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the file field is missing or empty",
        ));
    };
    Ok(
        match st
            .engine
            .verify()
            .aadhaar(&tenant, &user, input, &meta(&req))
            .await?
        {
            Ok(v) => json_answer(StatusCode::OK, verification_json(&v)),
            Err(AadhaarRejected { code, message }) => {
                document_error(StatusCode::BAD_REQUEST, code, &message)
            }
        },
    )
}
