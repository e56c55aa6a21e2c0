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
    pub cookies: crate::web::cookies::CookieScope,
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
    /// Each tenant's compiled page look (templates, catalogue, theme).
    pub looks: tollgate_ui::Looks,
}

/// CSRF protection for forms: the form carries HMAC(key, CSRF cookie ‖ session cookie);
/// the CSRF cookie is random and HttpOnly. A cross-site page can neither read the cookies
/// nor forge the MAC; and because the session is in the MAC, a token made for one
/// session (say, by someone who planted their own CSRF cookie in the browser) is
/// worthless in another, and a sign-in or a renewed session makes older forms stale.
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

    fn message(cookie: &str, session: Option<&str>) -> Vec<u8> {
        let mut m = cookie.as_bytes().to_vec();
        m.push(0);
        m.extend_from_slice(session.unwrap_or("").as_bytes());
        m
    }

    /// The form token for a CSRF cookie value and the session cookie (if signed in).
    pub fn token(&self, cookie: &str, session: Option<&str>) -> String {
        let tag = ring::hmac::sign(&self.key, &Self::message(cookie, session));
        tollgate_engine::crypto::b64(tag.as_ref())
    }

    /// Whether a form token matches the CSRF cookie and the session cookie.
    pub fn check(&self, cookie: Option<&str>, session: Option<&str>, token: Option<&str>) -> bool {
        match (cookie, token.and_then(tollgate_engine::crypto::b64_decode)) {
            (Some(c), Some(t)) if !c.is_empty() => {
                ring::hmac::verify(&self.key, &Self::message(c, session), &t).is_ok()
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
