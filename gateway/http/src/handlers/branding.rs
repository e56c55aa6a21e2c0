//! The tenant's look as the browser fetches it: its stylesheet (theme colours, the shipped
//! rules, the tenant's extra CSS), served from this origin so pages need no inline style.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::tenant::tenant;

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
