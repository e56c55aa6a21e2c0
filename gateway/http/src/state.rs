//! The state every handler shares, and what it holds. A leaf: it names no other module of
//! this crate, so every layer above may use it and none of them can pull a handler in.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use tollgate_engine::Engine;
use tollgate_engine::admin::Demo;

/// What every handler shares.
pub struct AppState {
    /// The engine.
    pub engine: Engine,
    /// CSRF token maker.
    pub csrf: Csrf,
    /// Whether cookies get `Secure` (the issuer is https).
    pub secure_cookies: bool,
    /// The admin API's bearer token.
    pub admin_token: String,
    /// All metrics.
    pub registry: Registry,
    /// HTTP metrics.
    pub http_metrics: HttpMetrics,
    /// The demo set-up, in development mode.
    pub demo: Option<Demo>,
    /// Bearer token `/metrics` requires, if any.
    pub metrics_token: Option<String>,
}

/// CSRF protection for forms: the form carries HMAC(key, cookie value), the cookie is
/// random and HttpOnly. A cross-site page can neither read the cookie nor forge the MAC.
#[derive(Clone)]
pub struct Csrf {
    key: ring::hmac::Key,
}

impl Csrf {
    /// From a key derived from the master key.
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
        }
    }

    /// The form token for a cookie value.
    pub fn token(&self, cookie: &str) -> String {
        tollgate_engine::crypto::b64(ring::hmac::sign(&self.key, cookie.as_bytes()).as_ref())
    }

    /// Whether a form token matches the cookie.
    pub fn check(&self, cookie: Option<&str>, token: Option<&str>) -> bool {
        match (cookie, token.and_then(tollgate_engine::crypto::b64_decode)) {
            (Some(c), Some(t)) if !c.is_empty() => {
                ring::hmac::verify(&self.key, c.as_bytes(), &t).is_ok()
            }
            _ => false,
        }
    }
}

/// HTTP metrics: per route and status counters, latency histograms.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl HttpMetrics {
    /// Creates and registers them.
    #[allow(
        clippy::expect_used,
        reason = "constant names and labels, checked by every test that starts a server"
    )]
    pub fn register(registry: &Registry) -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "tollgate_http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tollgate_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route"],
        )
        .expect("metric");
        let _ = registry.register(Box::new(requests.clone()));
        let _ = registry.register(Box::new(latency.clone()));
        Self { requests, latency }
    }

    /// Counts one answered request and its latency under its route pattern.
    pub fn observe(&self, route: &str, method: &str, status: &str, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, status])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }
}
