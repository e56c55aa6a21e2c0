//! Small response builders shared by handlers and the journey.

use actix_web::HttpResponse;
use actix_web::http::header;

/// A 303 redirect, never cached.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}
