//! `[sms]`: how codes reach phones. `outbox` (the development default) writes each
//! message as a JSON file under `data_dir/outbox/`; `http` calls a provider whose request
//! is entirely configuration, one per channel (`[sms.sms]`, `[sms.whatsapp]`): URL,
//! method, headers (secret values from files or the environment), and a body template,
//! sent as JSON or as a form, whose string values may hold placeholders:
//!
//! | placeholder | value |
//! |---|---|
//! | `{{recipient}}` | the number in E.164, `+919876543210` |
//! | `{{recipient_digits}}` | the same without `+` |
//! | `{{code}}` | the code |
//! | `{{message}}` | the whole message (the channel's `message` template, or the default) |
//! | `{{tenant}}`, `{{tenant_name}}` | the tenant's id and display name |
//! | `{{minutes}}` | minutes until the code expires |
//!
//! Constant fields such as India's DLT principal entity id and template id are plain
//! values in the body template; a DLT-registered wording goes in `message`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tollgate_engine::runtime::delivery::{
    Channel, DeliveryError, TextMessage, TextSender, Unconfigured,
};

/// Where text messages go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsMode {
    /// Files in a directory, for development.
    #[default]
    Outbox,
    /// A provider's HTTP API.
    Http,
}

/// How the body is encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// `application/json`.
    #[default]
    Json,
    /// `application/x-www-form-urlencoded` (or the query string of a GET).
    Form,
}

/// A header value: plain text, or a secret read at start from a file or a variable.
#[derive(Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeaderValue {
    /// A value written in the configuration.
    Plain(String),
    /// A secret.
    Secret {
        /// File holding it (trimmed).
        file: Option<PathBuf>,
        /// Environment variable holding it.
        env: Option<String>,
        /// Put before it, e.g. `"Bearer "`.
        #[serde(default)]
        prefix: String,
    },
}

/// One channel's provider request.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpChannel {
    /// Endpoint; placeholders in it are URL-encoded.
    pub url: String,
    /// `POST` (default) or `GET`.
    pub method: String,
    /// `json` or `form`.
    pub format: BodyFormat,
    /// Headers.
    pub headers: BTreeMap<String, HeaderValue>,
    /// The body template (a table; for `form`, a flat one).
    pub body: Value,
    /// The message template (`{{message}}`); the default wording when absent.
    pub message: Option<String>,
}

impl Default for HttpChannel {
    fn default() -> Self {
        Self {
            url: String::new(),
            method: "POST".into(),
            format: BodyFormat::Json,
            headers: BTreeMap::new(),
            body: Value::Object(Default::default()),
            message: None,
        }
    }
}

/// `[sms]`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SmsConfig {
    /// `outbox` or `http`.
    pub mode: SmsMode,
    /// The SMS request.
    pub sms: Option<HttpChannel>,
    /// The WhatsApp request.
    pub whatsapp: Option<HttpChannel>,
    /// Longest a provider may take to answer, seconds.
    pub timeout_secs: u64,
    /// Outbox directory; defaults to `data_dir/outbox`.
    pub outbox_dir: Option<PathBuf>,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            mode: SmsMode::Outbox,
            sms: None,
            whatsapp: None,
            timeout_secs: 10,
            outbox_dir: None,
        }
    }
}

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("mode", &self.mode)
            .field("sms", &self.sms.as_ref().map(|c| &c.url))
            .field("whatsapp", &self.whatsapp.as_ref().map(|c| &c.url))
            .finish_non_exhaustive()
    }
}

/// Replaces `{{name}}` placeholders in one pass: a value goes in as it is and is never
/// read again for placeholders (a tenant named `{{code}}` keeps that name, and one named
/// `{{message}}` does not copy the message into its field).
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let after = tail.get(2..).unwrap_or_default();
        let hit = after.find("}}").and_then(|end| {
            let name = after.get(..end)?;
            let (_, v) = vars.iter().find(|(k, _)| *k == name)?;
            Some((end, *v))
        });
        match hit {
            Some((end, v)) => {
                out.push_str(v);
                rest = after.get(end + 2..).unwrap_or_default();
            }
            // Not a placeholder: keep one brace and look again from the next character.
            None => {
                out.push('{');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

fn fill_value(v: &Value, vars: &[(&str, &str)]) -> Value {
    match v {
        Value::String(s) => Value::String(fill(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_value(x, vars)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), fill_value(x, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A flat body as form pairs: strings as they are, other values as JSON. Public for the
/// fuzz tests.
#[doc(hidden)]
pub fn form_pairs(body: &Value) -> Vec<(String, String)> {
    body.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What a channel sends for one message: its URL with the placeholders filled (each
/// value URL-encoded) and its body template filled. Public for the fuzz tests.
#[doc(hidden)]
pub fn render(
    url: &str,
    body: &Value,
    message: Option<&str>,
    msg: &TextMessage,
) -> (String, Value) {
    let minutes = msg.minutes.to_string();
    let mut vars = vec![
        ("recipient", msg.to.as_str()),
        ("recipient_digits", msg.to.digits()),
        ("code", msg.code.as_str()),
        ("tenant", msg.tenant.as_str()),
        ("tenant_name", msg.tenant_name.as_str()),
        ("minutes", minutes.as_str()),
    ];
    let text = match message {
        Some(t) => fill(t, &vars),
        None => msg.text.clone(),
    };
    vars.push(("message", text.as_str()));
    let body = fill_value(body, &vars);
    let encoded: Vec<(&str, String)> = vars
        .iter()
        .map(|(k, v)| {
            (
                *k,
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect(),
            )
        })
        .collect();
    let url_vars: Vec<(&str, &str)> = encoded.iter().map(|(k, v)| (*k, v.as_str())).collect();
    (fill(url, &url_vars), body)
}

/// A channel ready to send: secrets resolved, checked.
struct ReadyChannel {
    url: String,
    method: reqwest::Method,
    format: BodyFormat,
    headers: reqwest::header::HeaderMap,
    body: Value,
    message: Option<String>,
}

impl ReadyChannel {
    fn new(name: &str, c: &HttpChannel) -> anyhow::Result<Self> {
        anyhow::ensure!(
            c.url.starts_with("https://") || c.url.starts_with("http://"),
            "sms.{name}.url must be an http(s) URL"
        );
        let method = match c.method.to_ascii_uppercase().as_str() {
            "POST" => reqwest::Method::POST,
            "GET" => reqwest::Method::GET,
            m => anyhow::bail!("sms.{name}.method {m:?}: use POST or GET"),
        };
        anyhow::ensure!(c.body.is_object(), "sms.{name}.body must be a table");
        if c.format == BodyFormat::Form || method == reqwest::Method::GET {
            anyhow::ensure!(
                c.body
                    .as_object()
                    .is_some_and(|o| o.values().all(|v| !v.is_object() && !v.is_array())),
                "sms.{name}.body must be a flat table for a form or a GET"
            );
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in &c.headers {
            let value = match v {
                HeaderValue::Plain(s) => s.clone(),
                HeaderValue::Secret { file, env, prefix } => {
                    let secret = match (file, env) {
                        (Some(f), _) => std::fs::read_to_string(f)
                            .map_err(|e| {
                                anyhow::anyhow!(
                                    "sms.{name}.headers.{k}: cannot read {}: {e}",
                                    f.display()
                                )
                            })?
                            .trim()
                            .to_owned(),
                        (None, Some(var)) => std::env::var(var).map_err(|_| {
                            anyhow::anyhow!("sms.{name}.headers.{k}: {var} is not set")
                        })?,
                        (None, None) => {
                            anyhow::bail!("sms.{name}.headers.{k}: give a value, file or env")
                        }
                    };
                    format!("{prefix}{secret}")
                }
            };
            let mut hv = reqwest::header::HeaderValue::from_str(&value)
                .map_err(|_| anyhow::anyhow!("sms.{name}.headers.{k} is not a valid value"))?;
            hv.set_sensitive(true);
            headers.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes())
                    .map_err(|_| anyhow::anyhow!("sms.{name}.headers: {k:?} is not a name"))?,
                hv,
            );
        }
        Ok(Self {
            url: c.url.clone(),
            method,
            format: c.format,
            headers,
            body: c.body.clone(),
            message: c.message.clone(),
        })
    }
}

/// Calls a provider's HTTP API.
pub struct HttpTexter {
    client: reqwest::Client,
    sms: Option<ReadyChannel>,
    whatsapp: Option<ReadyChannel>,
}

#[async_trait]
impl TextSender for HttpTexter {
    async fn send(&self, msg: &TextMessage) -> Result<(), DeliveryError> {
        let ch = match msg.channel {
            Channel::Sms => self.sms.as_ref(),
            Channel::Whatsapp => self.whatsapp.as_ref(),
        }
        .ok_or_else(|| DeliveryError(format!("no {} provider", msg.channel.as_str())))?;
        let (url, body) = render(&ch.url, &ch.body, ch.message.as_deref(), msg);
        let mut req = self
            .client
            .request(ch.method.clone(), url)
            .headers(ch.headers.clone());
        req = match (&ch.method, ch.format) {
            (&reqwest::Method::GET, _) => req.query(&form_pairs(&body)),
            (_, BodyFormat::Json) => req.json(&body),
            (_, BodyFormat::Form) => req.form(&form_pairs(&body)),
        };
        let resp = req
            .send()
            .await
            .map_err(|e| DeliveryError(format!("provider unreachable: {}", e.without_url())))?;
        // The answer's body is not logged: providers echo the message, code and all.
        match resp.status() {
            s if s.is_success() => Ok(()),
            s => Err(DeliveryError(format!("provider answered {s}"))),
        }
    }
}

/// Writes messages to a directory (development).
pub struct OutboxTexter {
    dir: PathBuf,
}

#[async_trait]
impl TextSender for OutboxTexter {
    async fn send(&self, msg: &TextMessage) -> Result<(), DeliveryError> {
        let doc = serde_json::json!({
            "to": msg.to.as_str(),
            "channel": msg.channel.as_str(),
            "text": msg.text,
        });
        let name = format!(
            "{}-{}-{}.json",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0),
            msg.channel.as_str(),
            tollgate_engine::crypto::random_token::<6>()
        );
        let path = self.dir.join(name);
        let body = serde_json::to_vec_pretty(&doc)
            .map_err(|e| DeliveryError(format!("cannot encode the message: {e}")))?;
        crate::mail::write_whole(&path, &body).await?;
        tracing::info!(path = %path.display(), "text message written to the outbox");
        Ok(())
    }
}

impl SmsConfig {
    /// Builds the sender, resolving secrets; an error names the bad setting.
    pub fn build(&self, data_dir: &Path) -> anyhow::Result<Arc<dyn TextSender>> {
        match self.mode {
            SmsMode::Outbox => {
                let dir = self
                    .outbox_dir
                    .clone()
                    .unwrap_or_else(|| data_dir.join("outbox"));
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
                Ok(Arc::new(OutboxTexter { dir }))
            }
            SmsMode::Http => {
                let sms = self
                    .sms
                    .as_ref()
                    .map(|c| ReadyChannel::new("sms", c))
                    .transpose()?;
                let whatsapp = self
                    .whatsapp
                    .as_ref()
                    .map(|c| ReadyChannel::new("whatsapp", c))
                    .transpose()?;
                if sms.is_none() && whatsapp.is_none() {
                    return Ok(Arc::new(Unconfigured("sms")));
                }
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(self.timeout_secs.max(1)))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?;
                Ok(Arc::new(HttpTexter {
                    client,
                    sms,
                    whatsapp,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_every_string_leaf() {
        let body = serde_json::json!({
            "to": "{{recipient_digits}}",
            "nested": {"list": ["{{code}}", 7]},
            "pe_id": "1201159000000000001"
        });
        let out = fill_value(
            &body,
            &[("recipient_digits", "919876543210"), ("code", "042042")],
        );
        assert_eq!(
            out,
            serde_json::json!({
                "to": "919876543210",
                "nested": {"list": ["042042", 7]},
                "pe_id": "1201159000000000001"
            })
        );
    }

    #[test]
    fn the_documented_toml_shape_loads() {
        use figment::providers::{Format, Toml};
        let c: SmsConfig = figment::Figment::new()
            .merge(Toml::string(
                r#"
mode = "http"
[sms]
url = "https://sms.provider.example/v1/send"
format = "form"
message = "{{code}} is your OTP. - ACMEID"
headers = { Authorization = { env = "SMS_TEST_TOKEN_VARIABLE", prefix = "Bearer " }, X-Api = "plain" }
body = { to = "{{recipient_digits}}", text = "{{message}}", pe_id = "1201159100000000001" }
[whatsapp]
url = "https://graph.example/messages"
body = { to = "{{recipient_digits}}", template = { name = "otp", components = [{ type = "body" }] } }
"#,
            ))
            .extract()
            .unwrap();
        assert_eq!(c.mode, SmsMode::Http);
        let sms = c.sms.unwrap();
        assert_eq!(sms.format, BodyFormat::Form);
        assert_eq!(sms.body["pe_id"], "1201159100000000001");
        assert!(matches!(sms.headers["X-Api"], HeaderValue::Plain(_)));
        assert!(matches!(
            &sms.headers["Authorization"],
            HeaderValue::Secret { env: Some(_), .. }
        ));
        let wa = c.whatsapp.unwrap();
        assert_eq!(wa.method, "POST");
        assert_eq!(wa.body["template"]["components"][0]["type"], "body");
        assert!(ReadyChannel::new("whatsapp", &wa).is_ok());
    }

    #[test]
    fn bad_channels_are_refused_at_start() {
        let mut c = HttpChannel {
            url: "ftp://x".into(),
            ..HttpChannel::default()
        };
        assert!(ReadyChannel::new("sms", &c).is_err());
        c.url = "https://sms.example/send".into();
        c.format = BodyFormat::Form;
        c.body = serde_json::json!({"a": {"b": 1}});
        assert!(ReadyChannel::new("sms", &c).is_err());
        c.body = serde_json::json!({"a": "b"});
        c.headers.insert(
            "Authorization".into(),
            HeaderValue::Secret {
                file: None,
                env: Some("SMS_TEST_UNSET_VARIABLE".into()),
                prefix: "Bearer ".into(),
            },
        );
        assert!(ReadyChannel::new("sms", &c).is_err());
    }
}
