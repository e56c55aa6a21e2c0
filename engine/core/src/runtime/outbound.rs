//! Outbound HTTP to upstream identity providers (discovery, JWKS, the token exchange,
//! userinfo), as a port the engine owns. The binary supplies the client, bounded in time
//! and size and never following redirects; the engine decides what to ask and what to
//! trust.

use async_trait::async_trait;
use serde_json::Value;

use crate::error::{EngineError, EngineResult};

/// Makes the engine's outbound calls. Errors are detail for logs, never shown to users.
#[async_trait]
pub trait UpstreamHttp: Send + Sync + 'static {
    /// GETs a JSON document, with a bearer token if given.
    async fn get_json(&self, url: &str, bearer: Option<&str>) -> Result<Value, String>;

    /// POSTs a form and reads a JSON answer. `basic` is HTTP Basic credentials, already
    /// encoded as the protocol wants them.
    async fn post_form(
        &self,
        url: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Result<Value, String>;

    /// POSTs a form whose answer carries nothing but its status (a back-channel logout
    /// token); gives back the status code.
    async fn post_form_status(&self, url: &str, form: &[(&str, &str)]) -> Result<u16, String> {
        let _ = (url, form);
        Err("outbound HTTP is not configured".into())
    }

    /// The TXT records at a DNS name (each record's strings joined), for an organisation
    /// proving it holds a domain; an empty list when the name has none.
    async fn txt_records(&self, name: &str) -> Result<Vec<String>, String> {
        let _ = name;
        Err("DNS lookups are not configured".into())
    }
}

/// Calls nothing: outbound HTTP that is not configured.
pub struct NoUpstream;

#[async_trait]
impl UpstreamHttp for NoUpstream {
    async fn get_json(&self, _: &str, _: Option<&str>) -> Result<Value, String> {
        Err("outbound HTTP is not configured".into())
    }

    async fn post_form(
        &self,
        _: &str,
        _: Option<(&str, &str)>,
        _: &[(&str, &str)],
    ) -> Result<Value, String> {
        Err("outbound HTTP is not configured".into())
    }
}
/// Least time between two fetches of one `jwks_uri` forced by an unknown `kid`, seconds.
pub const REFETCH_EVERY: u64 = 10;

/// Checks an upstream URL: absolute `https`, or `http` on a loopback host (development and
/// tests). Never userinfo or a fragment.
pub fn check_upstream_url(what: &str, u: &str) -> EngineResult<()> {
    let bad = |why: &str| Err(EngineError::Invalid(format!("{what} {u:?} {why}")));
    let Ok(url) = url::Url::parse(u) else {
        return bad("is not an absolute URL");
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return bad("must not carry credentials or a fragment");
    }
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => bad("must use https (plain http is allowed only for loopback addresses)"),
        _ => bad("must be an https URL"),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
