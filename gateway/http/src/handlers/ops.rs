//! Operations endpoints: liveness, readiness, Prometheus metrics, and the JSON 404.

use actix_web::{HttpRequest, HttpResponse, web};
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
pub async fn metrics(req: HttpRequest, st: web::Data<AppState>) -> HttpResponse {
    if let Some(token) = &st.metrics_token {
        let presented = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let sha = tollgate_engine::crypto::sha256;
        if !tollgate_engine::crypto::ct_eq(&sha(presented.as_bytes()), &sha(token.as_bytes())) {
            return HttpResponse::Unauthorized()
                .insert_header((actix_web::http::header::WWW_AUTHENTICATE, "Bearer"))
                .finish();
        }
    }
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
