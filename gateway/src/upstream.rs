//! The outbound HTTP client the engine uses to reach upstream identity providers:
//! bounded in time and size, never following redirects (a token endpoint that redirects
//! elsewhere could send our code and secret to another host).

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tollgate_engine::runtime::outbound::UpstreamHttp;

/// Largest upstream answer read (discovery, JWKS, token, userinfo).
const MAX_UPSTREAM_BYTES: usize = 256 * 1024;

/// [`UpstreamHttp`] on reqwest (rustls), and DNS TXT lookups on hickory's resolver.
pub struct HttpUpstream {
    client: reqwest::Client,
    /// None: no name server to ask (no `dns_servers` and no usable resolv.conf).
    dns: Option<TokioResolver>,
}

/// A resolver asking `servers` (UDP, then TCP), or the system's name servers when empty.
/// Nothing cached: an admin verifying a domain right after publishing its record must
/// not get an earlier "no such record" back.
fn resolver(servers: &[SocketAddr]) -> Option<TokioResolver> {
    let mut builder = if servers.is_empty() {
        TokioResolver::builder_tokio()
            .map_err(|e| tracing::warn!(error = %e, "no system DNS configuration"))
            .ok()?
    } else {
        let group: Vec<NameServerConfig> = servers
            .iter()
            .flat_map(|a| {
                [
                    NameServerConfig::new(*a, Protocol::Udp),
                    NameServerConfig::new(*a, Protocol::Tcp),
                ]
            })
            .collect();
        TokioResolver::builder_with_config(
            ResolverConfig::from_parts(None, Vec::new(), group),
            TokioConnectionProvider::default(),
        )
    };
    let o = builder.options_mut();
    o.timeout = Duration::from_secs(3);
    o.attempts = 2;
    o.cache_size = 0;
    Some(builder.build())
}

impl HttpUpstream {
    /// Builds the client; `dns_servers` are the name servers asked for TXT records (the
    /// system's when empty).
    pub fn new(dns_servers: &[SocketAddr]) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Tollgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the outbound HTTP client: {e}"))?;
        Ok(Self {
            client,
            dns: resolver(dns_servers),
        })
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

    async fn txt_records(&self, name: &str) -> Result<Vec<String>, String> {
        let dns = self.dns.as_ref().ok_or("no DNS resolver is configured")?;
        // Fully qualified: never completed with the host's search domains.
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match dns.txt_lookup(fqdn).await {
            Ok(found) => Ok(found
                .iter()
                .take(64)
                .map(|txt| {
                    txt.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>()
                })
                .collect()),
            Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        }
    }
}
