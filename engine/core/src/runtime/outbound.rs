//! Outbound HTTP to upstream identity providers (discovery, JWKS, the token exchange,
//! userinfo), as a port the engine owns. The binary supplies the client, bounded in time
//! and size and never following redirects; the engine decides what to ask and what to
//! trust.

use async_trait::async_trait;
use serde_json::Value;

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
