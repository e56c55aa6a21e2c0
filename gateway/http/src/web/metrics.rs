//! The middleware that records every request under its route pattern (never the raw
//! path, which would carry tenant names and grow without bound).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use std::time::Instant;

use crate::state::AppState;

/// Records the request's route, method, status and latency.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.http_metrics.clone());
    let method = method_label(req.method());
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        m.observe(
            route.as_str(),
            method,
            res.status().as_str(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}

/// The method as a label: the standard ones by name, anything else as `other`, so an
/// unauthenticated client cannot add series by inventing methods.
fn method_label(m: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
