//! Operations endpoints: liveness, readiness, Prometheus metrics, and the JSON 404.

use actix_web::{HttpResponse, web};
use prometheus::{Encoder, TextEncoder};

use crate::state::AppState;

/// `GET /healthz`
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

/// `GET /readyz`: whether the engine can reach its storage.
pub async fn readyz(st: web::Data<AppState>) -> HttpResponse {
    match st.engine.ready().await {
        Ok(()) => HttpResponse::Ok().body("ready"),
        Err(_) => HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .body("not ready"),
    }
}

/// Any path no route matches.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .json(serde_json::json!({"error": "not_found", "error_description": "no such endpoint"}))
}

/// `GET /metrics`
pub async fn metrics(st: web::Data<AppState>) -> HttpResponse {
    st.engine.update_gauges();
    let mut buf = Vec::new();
    if TextEncoder::new()
        .encode(&st.registry.gather(), &mut buf)
        .is_err()
    {
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(buf)
}
