//! The outbound HTTP client the engine uses to reach upstream identity providers:
//! bounded in time and size, never following redirects (a token endpoint that redirects
//! elsewhere could send our code and secret to another host).

use async_trait::async_trait;
use serde_json::Value;
use std::time::Duration;
use tollgate_engine::runtime::outbound::UpstreamHttp;

/// Largest upstream answer read (discovery, JWKS, token, userinfo).
const MAX_UPSTREAM_BYTES: usize = 256 * 1024;

/// [`UpstreamHttp`] on reqwest (rustls).
pub struct HttpUpstream {
    client: reqwest::Client,
}

impl HttpUpstream {
    /// Builds the client.
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Tollgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the outbound HTTP client: {e}"))?;
        Ok(Self { client })
    }
}

async fn read_json(resp: reqwest::Response) -> Result<Value, String> {
    let status = resp.status();
    if resp
        .content_length()
        .is_some_and(|l| l as usize > MAX_UPSTREAM_BYTES)
    {
        return Err("answer too large".into());
    }
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > MAX_UPSTREAM_BYTES {
        return Err("answer too large".into());
    }
    if !status.is_success() {
        return Err(format!("status {status}"));
    }
    serde_json::from_slice(&body).map_err(|_| "answer is not JSON".into())
}

#[async_trait]
impl UpstreamHttp for HttpUpstream {
    async fn get_json(&self, url: &str, bearer: Option<&str>) -> Result<Value, String> {
        let mut rb = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(t) = bearer {
            rb = rb.bearer_auth(t);
        }
        read_json(rb.send().await.map_err(|e| e.to_string())?).await
    }

    async fn post_form(
        &self,
        url: &str,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Result<Value, String> {
        let mut rb = self
            .client
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some((user, password)) = basic {
            rb = rb.basic_auth(user, Some(password));
        }
        let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
        let resp = rb
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        read_json(resp).await
    }

    async fn post_form_status(&self, url: &str, form: &[(&str, &str)]) -> Result<u16, String> {
        let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
        let resp = self
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        // The answer's body carries nothing we need: dropped unread.
        Ok(resp.status().as_u16())
    }
}
