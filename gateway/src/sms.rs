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
//! | `{{dlt_entity_id}}` | the tenant's DLT principal entity id (empty when it has none) |
//! | `{{dlt_template_id}}` | the tenant's DLT template id (likewise) |
//! | `{{dlt_header}}` | the tenant's DLT header, its sender id (likewise) |
//!
//! **WhatsApp Cloud API.** A tenant that sets its own WhatsApp number through the admin
//! API (`/admin/v1/tenants/{tenant}/messaging`, `tollgate admin messaging`) gets its
//! WhatsApp codes sent straight to Meta's Cloud API as an `authentication` template
//! ([`crate::whatsapp`]), whatever `mode` says; the others use the deployment's number,
//! `[sms.whatsapp_cloud]` (`phone_number_id`, `template`, `language`, `access_token =
//! { file | env }`, `app_secret` and `verify_token` for its webhook at
//! `{public_url}/webhooks/whatsapp`), else the generic `[sms.whatsapp]` request. When
//! WhatsApp cannot deliver (the send fails, or a status webhook says `failed`) the same
//! code goes once by SMS, if the tenant allows it (the default).
//!
//! **DLT (India).** A tenant that registers its DLT principal entity id, template id,
//! header and template wording has every SMS text matched against that wording before
//! it is sent: the fixed parts exactly, each `{#var#}` one to 30 characters. The text
//! matched is the one the provider gets as `{{message}}` (the channel's `message`
//! template when set, else the tenant's catalogue text), so the registered wording is
//! written to fit it, e.g. `{#var#} is your OTP for {#var#}. Valid for {#var#}
//! minutes. - ACMEID`. A mismatch is not sent: the send fails with the event
//! `otp.send_failed` and the ops event `messaging.dlt_mismatch`, rather than being
//! dropped silently by the operator's scrubbing. Deployments without per-tenant DLT
//! may still write constant DLT fields as plain values in the body template.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tollgate_engine::model::messaging::{
    DEFAULT_API_VERSION, DEFAULT_GRAPH_URL, Dlt, OtpButton, WhatsappInput, messages_url,
};
use tollgate_engine::runtime::delivery::{
    Channel, CloudRoute, DeliveryError, Route, RouteError, Sent, TextMessage, TextSender,
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
    /// The deployment's own WhatsApp Cloud API number: authentication templates for
    /// tenants without a number of their own (before `whatsapp`).
    pub whatsapp_cloud: Option<CloudConfig>,
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
            whatsapp_cloud: None,
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
            .field(
                "whatsapp_cloud",
                &self.whatsapp_cloud.as_ref().map(|c| &c.phone_number_id),
            )
            .finish_non_exhaustive()
    }
}

/// A secret read at start from a file (trimmed) or an environment variable.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct SecretSource {
    /// File holding it.
    pub file: Option<PathBuf>,
    /// Environment variable holding it.
    pub env: Option<String>,
}

impl SecretSource {
    fn read(&self, name: &str) -> anyhow::Result<String> {
        let v = match (&self.file, &self.env) {
            (Some(f), _) => std::fs::read_to_string(f)
                .map_err(|e| anyhow::anyhow!("{name}: cannot read {}: {e}", f.display()))?,
            (None, Some(var)) => {
                std::env::var(var).map_err(|_| anyhow::anyhow!("{name}: {var} is not set"))?
            }
            (None, None) => anyhow::bail!("{name}: give a file or env"),
        };
        let v = v.trim().to_owned();
        anyhow::ensure!(!v.is_empty(), "{name} is empty");
        Ok(v)
    }
}

/// `[sms.whatsapp_cloud]`: the deployment's own WhatsApp Cloud API number. Its status
/// webhook is `{public_url}/webhooks/whatsapp` (signed with `app_secret`, subscribed
/// with `verify_token`).
#[derive(Clone, Serialize, Deserialize)]
pub struct CloudConfig {
    /// The business phone number id (digits).
    pub phone_number_id: String,
    /// The approved authentication template's name.
    pub template: String,
    /// Its language code.
    #[serde(default = "default_language")]
    pub language: String,
    /// The button it was registered with (copy-code unless set).
    #[serde(default)]
    pub button: OtpButton,
    /// Graph API base URL; Meta's when absent.
    pub graph_url: Option<String>,
    /// Graph API version.
    pub api_version: Option<String>,
    /// Resend undelivered codes by SMS (default on).
    #[serde(default = "default_true")]
    pub fallback_to_sms: bool,
    /// The access token.
    pub access_token: SecretSource,
    /// The app secret that signs status webhooks.
    pub app_secret: Option<SecretSource>,
    /// The webhook verify token.
    pub verify_token: Option<SecretSource>,
}

fn default_language() -> String {
    "en".into()
}

fn default_true() -> bool {
    true
}

impl CloudConfig {
    /// Checked like a tenant's settings, secrets read.
    fn route(&self) -> anyhow::Result<CloudRoute> {
        let input = WhatsappInput {
            phone_number_id: self.phone_number_id.clone(),
            template: self.template.clone(),
            language: self.language.clone(),
            button: self.button.clone(),
            graph_url: self.graph_url.clone(),
            api_version: self.api_version.clone(),
            ..WhatsappInput::default()
        };
        input
            .check()
            .map_err(|e| anyhow::anyhow!("sms.whatsapp_cloud: {e}"))?;
        Ok(CloudRoute {
            messages_url: messages_url(
                self.graph_url.as_deref().unwrap_or(DEFAULT_GRAPH_URL),
                self.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION),
                &self.phone_number_id,
            ),
            access_token: self.access_token.read("sms.whatsapp_cloud.access_token")?,
            template: self.template.clone(),
            language: self.language.clone(),
            button: self.button.clone(),
            fallback_to_sms: self.fallback_to_sms,
        })
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
    let (url, body, _) = render_for(url, body, message, msg, None);
    (url, body)
}

/// The text a channel sends as `{{message}}`: its `message` template filled, else the
/// catalogue's text.
fn message_text(message: Option<&str>, msg: &TextMessage) -> String {
    let minutes = msg.minutes.to_string();
    let vars = [
        ("recipient", msg.to.as_str()),
        ("recipient_digits", msg.to.digits()),
        ("code", msg.code.as_str()),
        ("tenant", msg.tenant.as_str()),
        ("tenant_name", msg.tenant_name.as_str()),
        ("minutes", minutes.as_str()),
    ];
    match message {
        Some(t) => fill(t, &vars),
        None => msg.text.clone(),
    }
}

/// [`render`] with the tenant's DLT fields; also answers the text.
fn render_for(
    url: &str,
    body: &Value,
    message: Option<&str>,
    msg: &TextMessage,
    dlt: Option<&Dlt>,
) -> (String, Value, String) {
    let minutes = msg.minutes.to_string();
    let text = message_text(message, msg);
    let field = |f: fn(&Dlt) -> &str| dlt.map(f).unwrap_or_default();
    let vars = [
        ("recipient", msg.to.as_str()),
        ("recipient_digits", msg.to.digits()),
        ("code", msg.code.as_str()),
        ("tenant", msg.tenant.as_str()),
        ("tenant_name", msg.tenant_name.as_str()),
        ("minutes", minutes.as_str()),
        ("message", text.as_str()),
        ("dlt_entity_id", field(|d| &d.entity_id)),
        ("dlt_template_id", field(|d| &d.template_id)),
        ("dlt_header", field(|d| &d.header)),
    ];
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
    (fill(url, &url_vars), body, text)
}

/// Refuses an SMS whose text does not match the tenant's DLT template.
fn check_dlt(msg: &TextMessage, dlt: Option<&Dlt>, text: &str) -> Result<(), RouteError> {
    match dlt {
        Some(d) if msg.channel == Channel::Sms && !d.matches(text) => Err(RouteError::Refused {
            code: "dlt_mismatch",
            why: format!(
                "the SMS text does not match DLT template {} of tenant {}: fix the registered wording (tollgate admin messaging) or the message, else operators drop it",
                d.template_id, msg.tenant
            ),
        }),
        _ => Ok(()),
    }
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

impl HttpTexter {
    async fn deliver(&self, msg: &TextMessage, dlt: Option<&Dlt>) -> Result<(), RouteError> {
        let failed = |why: String| RouteError::Failed(DeliveryError(why));
        let ch = match msg.channel {
            Channel::Sms => self.sms.as_ref(),
            Channel::Whatsapp => self.whatsapp.as_ref(),
        }
        .ok_or_else(|| failed(format!("no {} provider", msg.channel.as_str())))?;
        let (url, body, text) = render_for(&ch.url, &ch.body, ch.message.as_deref(), msg, dlt);
        check_dlt(msg, dlt, &text)?;
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
            .map_err(|e| failed(format!("provider unreachable: {}", e.without_url())))?;
        // The answer's body is not logged: providers echo the message, code and all.
        match resp.status() {
            s if s.is_success() => Ok(()),
            s => Err(failed(format!("provider answered {s}"))),
        }
    }
}

/// Writes messages to a directory (development).
pub struct OutboxTexter {
    dir: PathBuf,
}

impl OutboxTexter {
    async fn deliver(&self, msg: &TextMessage, dlt: Option<&Dlt>) -> Result<(), RouteError> {
        check_dlt(msg, dlt, &msg.text)?;
        let mut doc = serde_json::json!({
            "to": msg.to.as_str(),
            "channel": msg.channel.as_str(),
            "text": msg.text,
        });
        if let (Some(d), Channel::Sms) = (dlt, msg.channel) {
            doc["dlt"] = serde_json::json!({
                "entity_id": d.entity_id,
                "template_id": d.template_id,
                "header": d.header,
            });
        }
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
        let body = serde_json::to_vec_pretty(&doc).map_err(|e| {
            RouteError::Failed(DeliveryError(format!("cannot encode the message: {e}")))
        })?;
        crate::mail::write_whole(&path, &body)
            .await
            .map_err(RouteError::Failed)?;
        tracing::info!(path = %path.display(), "text message written to the outbox");
        Ok(())
    }
}

/// Where the deployment sends texts a tenant's own route does not take.
enum Base {
    Outbox(OutboxTexter),
    Http(Box<HttpTexter>),
    Unconfigured,
}

/// The sender the engine is given: a tenant's WhatsApp Cloud API number for its
/// WhatsApp codes, else the deployment's outbox or provider, with the tenant's DLT
/// registration checked and filled in for SMS.
pub struct Texter {
    base: Base,
    cloud: reqwest::Client,
    deployment: Option<CloudRoute>,
}

#[async_trait]
impl TextSender for Texter {
    async fn send(&self, msg: &TextMessage) -> Result<(), DeliveryError> {
        match self.send_routed(msg, &Route::default()).await {
            Ok(_) => Ok(()),
            Err(RouteError::Failed(e)) => Err(e),
            Err(e @ RouteError::Refused { .. }) => Err(DeliveryError(e.to_string())),
        }
    }

    async fn send_routed(&self, msg: &TextMessage, route: &Route) -> Result<Sent, RouteError> {
        if let (Channel::Whatsapp, Some(cloud)) = (msg.channel, &route.whatsapp) {
            return crate::whatsapp::send(&self.cloud, cloud, msg).await;
        }
        let dlt = route.dlt.as_ref();
        match &self.base {
            Base::Outbox(o) => o.deliver(msg, dlt).await?,
            Base::Http(h) => h.deliver(msg, dlt).await?,
            Base::Unconfigured => {
                return Err(RouteError::Failed(DeliveryError(
                    "sms is not configured".into(),
                )));
            }
        }
        Ok(Sent::default())
    }

    fn whatsapp_cloud(&self) -> Option<CloudRoute> {
        self.deployment.clone()
    }
}

impl SmsConfig {
    /// Builds the sender, resolving secrets; an error names the bad setting.
    pub fn build(&self, data_dir: &Path) -> anyhow::Result<Arc<dyn TextSender>> {
        let timeout = Duration::from_secs(self.timeout_secs.max(1));
        let client = || {
            reqwest::Client::builder()
                .timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
        };
        let base = match self.mode {
            SmsMode::Outbox => {
                let dir = self
                    .outbox_dir
                    .clone()
                    .unwrap_or_else(|| data_dir.join("outbox"));
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
                Base::Outbox(OutboxTexter { dir })
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
                    Base::Unconfigured
                } else {
                    Base::Http(Box::new(HttpTexter {
                        client: client()?,
                        sms,
                        whatsapp,
                    }))
                }
            }
        };
        Ok(Arc::new(Texter {
            base,
            cloud: client()?,
            deployment: self
                .whatsapp_cloud
                .as_ref()
                .map(CloudConfig::route)
                .transpose()?,
        }))
    }

    /// The app secret and verify token of `[sms.whatsapp_cloud]`'s webhook, read.
    pub fn whatsapp_webhook(&self) -> anyhow::Result<Option<(String, Option<String>)>> {
        let Some(c) = &self.whatsapp_cloud else {
            return Ok(None);
        };
        let Some(secret) = &c.app_secret else {
            return Ok(None);
        };
        let verify = c
            .verify_token
            .as_ref()
            .map(|v| v.read("sms.whatsapp_cloud.verify_token"))
            .transpose()?;
        Ok(Some((
            secret.read("sms.whatsapp_cloud.app_secret")?,
            verify,
        )))
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
    fn the_deployments_number_is_checked_at_start() {
        let c: SmsConfig = {
            use figment::providers::{Format, Toml};
            figment::Figment::new()
                .merge(Toml::string(
                    r#"
[whatsapp_cloud]
phone_number_id = "106540352242922"
template = "otp_login"
access_token = { env = "WA_TEST_UNSET_VARIABLE" }
"#,
                ))
                .extract()
                .unwrap()
        };
        let cloud = c.whatsapp_cloud.unwrap();
        assert_eq!(cloud.language, "en");
        assert!(cloud.fallback_to_sms);
        let err = cloud.route().err().unwrap().to_string();
        assert!(err.contains("WA_TEST_UNSET_VARIABLE"), "{err}");
        let bad = CloudConfig {
            phone_number_id: "not-digits".into(),
            ..cloud.clone()
        };
        let err = bad.route().err().unwrap().to_string();
        assert!(err.contains("phone_number_id"), "{err}");
        let bad = CloudConfig {
            graph_url: Some("http://graph.example".into()),
            ..cloud
        };
        assert!(bad.route().err().unwrap().to_string().contains("graph_url"));
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
