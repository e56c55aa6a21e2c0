//! The tenant's look: the stylesheet as the browser fetches it (theme colours, the shipped
//! rules, the tenant's extra CSS), served from this origin so pages need no inline style;
//! and the admin API that sets it (`/admin/v1/tenants/{tenant}/branding/...`: theme,
//! templates, messages, default language, preview; `/admin/v1/templates`; whether the
//! tenant offers passkeys). A branding is checked whole by the hosted pages' rules
//! ([`tollgate_ui::validate`]) before the engine stores it.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use tollgate_engine::EngineError;
use tollgate_engine::ids::TenantId;
use tollgate_ui::{Frame, Look};

use crate::api::{
    Branding, DefaultLanguageBody, PasskeysBody, PasskeysView, PreviewRequest, TemplateView, Theme,
};
use crate::state::AppState;
use crate::web::client_auth::authorize_admin;
use crate::web::error::{ApiError, PageError};
use crate::web::tenant::{tenant, tenant_id};
use crate::web::view::page_response;

/// `GET /assets/tollgate.css`: the shipped stylesheet, for pages outside any tenant.
pub async fn shipped_css() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(Look::shipped().css().to_owned())
}

/// `GET /{tenant}/theme.css?v={revision}`: cached for a year when `v` names the current
/// revision (pages link it with the revision, so a change is a new URL), else revalidated.
pub async fn theme_css(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (t, tenant) = tenant(&st, &path).await?;
    let look = st.looks.get(t.as_str(), &tenant.branding);
    let etag = format!("\"{}-{}\"", t, look.revision());
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let current = format!("v={}", look.revision());
    let cache = if req.query_string() == current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(look.css().to_owned()))
}

/// Largest template body read: twice what a template may be, so a template somewhat
/// too large is told its size and the limit by the check, not only refused here.
pub const TEMPLATE_BODY_LIMIT: usize = 2 * tollgate_ui::MAX_TEMPLATE;
/// Largest Fluent body read (twice a catalogue's limit, for the same reason).
pub const MESSAGES_BODY_LIMIT: usize = 2 * tollgate_i18n::MAX_TENANT_CATALOGUE;
/// Largest theme body: a logo and a favicon at their limits (base64) and the extra CSS.
pub const THEME_BODY_LIMIT: usize = 128 * 1024;
/// Largest preview body: it may carry a whole proposed branding (every template, and
/// catalogues in many languages).
pub const PREVIEW_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// How often an edit starts over when another admin changed the branding between its
/// read and its write.
const EDIT_ATTEMPTS: usize = 3;

/// A text body (a template, a Fluent catalogue), at most `limit` bytes of UTF-8.
async fn text_body(mut payload: web::Payload, limit: usize) -> Result<String, ApiError> {
    let too_large = || ApiError::invalid_request(format!("the body is larger than {limit} bytes"));
    let mut buf = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::invalid_request(format!("the body cannot be read: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| ApiError::invalid_request("the body must be UTF-8 text"))
}

/// Runs the hosted pages' check of a whole branding off the async workers (it renders
/// every overridden template in every language).
async fn check(branding: Branding) -> Result<(), ApiError> {
    web::block(move || tollgate_ui::validate(&branding))
        .await
        .map_err(|e| ApiError(EngineError::Internal(format!("branding check: {e}"))))?
        .map_err(|e| ApiError::invalid_request(e.to_string()))
}

/// Changes a tenant's branding with `change`, checks the result whole, and stores it if
/// nobody changed the branding meanwhile (else starts over from the new one).
async fn edit(
    st: &AppState,
    t: &TenantId,
    what: &str,
    change: impl Fn(&mut Branding) -> Result<(), ApiError>,
) -> Result<HttpResponse, ApiError> {
    let admin = st.engine.admin();
    for _ in 0..EDIT_ATTEMPTS {
        let current = admin.branding(t).await?;
        let mut next = current.clone();
        change(&mut next)?;
        check(next.clone()).await?;
        match admin
            .replace_branding(t, current.revision, next, what)
            .await
        {
            Err(EngineError::Conflict("branding")) => continue,
            Err(e) => return Err(e.into()),
            Ok(stored) => return Ok(HttpResponse::Ok().json(stored)),
        }
    }
    Err(ApiError::invalid_request(
        "the branding kept changing meanwhile; try again",
    ))
}

/// The key a language's catalogue is kept under: an existing one that differs only in
/// case (`ta-in` and `ta-IN` are one language), else as given.
fn language_key(b: &Branding, lang: &str) -> String {
    b.messages
        .keys()
        .find(|k| k.eq_ignore_ascii_case(lang))
        .cloned()
        .unwrap_or_else(|| lang.to_owned())
}

/// `GET /admin/v1/tenants/{tenant}/branding`: theme, templates, messages, default
/// language and revision.
pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    Ok(HttpResponse::Ok().json(st.engine.admin().branding(&t).await?))
}

/// `PUT /admin/v1/tenants/{tenant}/branding/theme`: the whole theme (JSON).
pub async fn put_theme(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Theme>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let theme = body.into_inner();
    edit(&st, &t, "theme", |b| {
        b.theme = theme.clone();
        Ok(())
    })
    .await
}

/// `PUT /admin/v1/tenants/{tenant}/branding/templates/{name}`: the template's source
/// (any content type, UTF-8), replacing the shipped one.
pub async fn put_template(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Payload,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (tenant, name) = path.into_inner();
    let t = tenant_id(&tenant)?;
    let source = text_body(body, TEMPLATE_BODY_LIMIT).await?;
    edit(&st, &t, &format!("template {name}"), |b| {
        b.templates.insert(name.clone(), source.clone());
        Ok(())
    })
    .await
}

/// `DELETE /admin/v1/tenants/{tenant}/branding/templates/{name}`: back to the shipped one.
pub async fn delete_template(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (tenant, name) = path.into_inner();
    let t = tenant_id(&tenant)?;
    edit(&st, &t, &format!("template {name} removed"), |b| {
        b.templates
            .remove(&name)
            .map(|_| ())
            .ok_or(ApiError(EngineError::NotFound("template")))
    })
    .await
}

/// `PUT /admin/v1/tenants/{tenant}/branding/messages/{lang}`: Fluent source whose
/// messages replace or add to the shipped ones of `lang` (any BCP 47 language).
pub async fn put_messages(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Payload,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (tenant, lang) = path.into_inner();
    let t = tenant_id(&tenant)?;
    let source = text_body(body, MESSAGES_BODY_LIMIT).await?;
    edit(&st, &t, &format!("messages {lang}"), |b| {
        let key = language_key(b, &lang);
        b.messages.insert(key, source.clone());
        Ok(())
    })
    .await
}

/// `DELETE /admin/v1/tenants/{tenant}/branding/messages/{lang}`: the tenant's messages
/// of `lang` go (shipped ones stay).
pub async fn delete_messages(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let (tenant, lang) = path.into_inner();
    let t = tenant_id(&tenant)?;
    edit(&st, &t, &format!("messages {lang} removed"), |b| {
        let key = language_key(b, &lang);
        b.messages
            .remove(&key)
            .map(|_| ())
            .ok_or(ApiError(EngineError::NotFound("messages")))
    })
    .await
}

/// `PUT /admin/v1/tenants/{tenant}/branding/default-language`:
/// `{"default_language": "hi"}`, or `null` for English.
pub async fn put_default_language(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<DefaultLanguageBody>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let lang = body.into_inner().default_language;
    let what = format!("default language {}", lang.as_deref().unwrap_or("en"));
    edit(&st, &t, &what, |b| {
        b.default_language = lang.clone();
        Ok(())
    })
    .await
}

/// `POST /admin/v1/tenants/{tenant}/branding/preview`: a template rendered with its
/// sample data in the tenant's frame, with the stored branding or a proposed one
/// (checked as a change would be, not stored), answered as a hosted page is (same CSP).
pub async fn preview(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<PreviewRequest>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let tenant = st.engine.tenant(&t).await?;
    let PreviewRequest {
        template,
        lang,
        branding,
    } = body.into_inner();
    let look = match branding {
        None => st.looks.get(t.as_str(), &tenant.branding),
        Some(proposed) => {
            check(proposed.clone()).await?;
            let look =
                Look::build(&proposed).map_err(|e| ApiError::invalid_request(e.to_string()))?;
            std::sync::Arc::new(look)
        }
    };
    let catalog = look.catalog();
    let lang = match lang {
        None => catalog.default_language().to_owned(),
        Some(l) => tollgate_i18n::negotiate::best([l.as_str()], catalog.languages())
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::invalid_request(format!(
                    "no catalogue for language {l:?}; this tenant has {}",
                    catalog.languages().join(", ")
                ))
            })?,
    };
    let frame = Frame {
        messages: catalog.messages(&lang),
        tenant: t.to_string(),
        brand: tenant.display_name.clone(),
        path: format!("/{t}/login"),
        keep: vec![],
        globals: Default::default(),
    };
    let html = look
        .preview(&frame, &template)
        .map_err(|e| ApiError::invalid_request(e.to_string()))?;
    Ok(page_response(StatusCode::OK, html))
}

/// `GET /admin/v1/templates`: every template a tenant may override, with its shipped
/// source and the sample data it is checked and previewed with.
pub async fn templates(
    req: HttpRequest,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let list: Vec<TemplateView> = tollgate_ui::TEMPLATES
        .iter()
        .filter(|(name, _)| !tollgate_ui::FIXED.contains(name))
        .map(|(name, source)| TemplateView {
            name: (*name).to_owned(),
            source: (*source).to_owned(),
            sample: tollgate_ui::SAMPLES
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, json)| serde_json::from_str(json).ok())
                .unwrap_or_default(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

fn passkeys_view(st: &AppState, t: &tollgate_engine::model::Tenant) -> PasskeysView {
    PasskeysView {
        id: t.id.to_string(),
        enabled: t
            .mfa
            .factors
            .contains(&tollgate_engine::model::FactorKind::Passkey),
        available: st.engine.signin().passkeys_available(),
    }
}

/// `GET /admin/v1/tenants/{tenant}/passkeys`
pub async fn get_passkeys(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let tenant = st.engine.tenant(&t).await?;
    Ok(HttpResponse::Ok().json(passkeys_view(&st, &tenant)))
}

/// `PUT /admin/v1/tenants/{tenant}/passkeys`: `{"enabled": true|false}`.
pub async fn set_passkeys(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<PasskeysBody>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize_admin(&req, &st)?;
    let t = tenant_id(&path)?;
    let tenant = st.engine.admin().set_passkeys(&t, body.enabled).await?;
    Ok(HttpResponse::Ok().json(passkeys_view(&st, &tenant)))
}
