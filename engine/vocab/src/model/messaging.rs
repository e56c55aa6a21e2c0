//! A tenant's messaging settings: WhatsApp Cloud API authentication templates as a
//! channel of its own, and India's DLT registration for SMS; the shapes the admin API
//! and the CLI share; and the pure parts of both rails (the Cloud API request, its
//! status webhook, the DLT template match), so that they are tested without a network.
//!
//! The WhatsApp access token, app secret and webhook verify token are stored only
//! sealed (AES-256-GCM under a key derived from the deployment's master key) and are
//! never shown again: the admin view says whether each is set.
//!
//! References (checked December 2026):
//! - Sending an authentication template: Meta, "Copy code authentication templates" and
//!   "One-tap autofill authentication templates", section *Sending authentication
//!   templates*: `POST https://graph.facebook.com/{version}/{phone-number-id}/messages`
//!   with `messaging_product: "whatsapp"`, `type: "template"`, a `body` component whose
//!   one text parameter is the code, and a `button` component `sub_type: "url"`,
//!   `index: "0"` whose one text parameter is the code again. The request is the same
//!   for copy-code and one-tap templates: the button kind, the Android package name and
//!   its signature hash are fixed when the template is registered, not when it is sent.
//! - Registering one: `POST /{version}/{waba-id}/message_templates` with `category:
//!   "authentication"`, a `body` with `add_security_recommendation`, a `footer` with
//!   `code_expiration_minutes` (1 to 90), and one `otp` button (`otp_type` `copy_code`
//!   or `one_tap` with `supported_apps [{package_name, signature_hash}]`).
//!   [`WhatsappCloud::template_registration`] writes that body for the operator.
//! - Status webhooks: `entry[].changes[].value.statuses[]` with `id` (the `wamid` the
//!   send answered), `status` (`sent`, `delivered`, `read`, `failed`) and, when failed,
//!   `errors[] {code, title}`; each POST carries `X-Hub-Signature-256: sha256=<hex>`,
//!   HMAC-SHA256 of the raw body under the app secret; the subscription is confirmed by
//!   a GET with `hub.mode=subscribe`, `hub.verify_token` and `hub.challenge` (Meta,
//!   "Create a webhook endpoint").
//! - DLT (TRAI, TCCCPR 2018): a principal entity id and a template id (numeric, issued by
//!   the operator's DLT platform), a six-character header (sender id), and the
//!   registered wording, whose variable parts are written `{#var#}`. Operators scrub
//!   each SMS against the registered wording and drop it silently when it differs; a
//!   variable stands for at most [`DLT_VAR_MAX`] characters.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use std::fmt;

/// Meta's Graph API, where the Cloud API lives.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
/// The Graph API version used when none is set.
pub const DEFAULT_API_VERSION: &str = "v21.0";
/// The longest run of text one DLT `{#var#}` stands for (operators' scrubbing limit).
pub const DLT_VAR_MAX: usize = 30;
/// The variable of a DLT template.
pub const DLT_VAR: &str = "{#var#}";
/// The longest registered DLT wording accepted.
pub const DLT_TEMPLATE_MAX: usize = 2000;

/// A tenant's messaging settings, in the tenant record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessagingSettings {
    /// Codes by WhatsApp through the tenant's own Cloud API number.
    pub whatsapp: Option<WhatsappCloud>,
    /// The tenant's DLT registration: SMS texts are matched against it before sending.
    pub dlt: Option<Dlt>,
}

/// Which button the authentication template was registered with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OtpButton {
    /// Copies the code to the clipboard.
    #[default]
    CopyCode,
    /// Hands the code to the Android app (which must have done WhatsApp's handshake);
    /// other devices show a copy-code button instead.
    OneTap {
        /// The app's package name, e.g. `com.example.app`.
        package_name: String,
        /// The app's signing key hash (11 characters, as for the SMS Retriever API).
        signature_hash: String,
    },
}

impl OtpButton {
    /// The `otp_type` of the template registration.
    pub fn otp_type(&self) -> &'static str {
        match self {
            Self::CopyCode => "copy_code",
            Self::OneTap { .. } => "one_tap",
        }
    }
}

/// WhatsApp Cloud API settings of one tenant, as stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsappCloud {
    /// The business phone number id (numeric, from WhatsApp Manager).
    pub phone_number_id: String,
    /// The approved authentication template's name.
    pub template: String,
    /// Its language code, e.g. `en` or `en_US`.
    pub language: String,
    /// The button it was registered with.
    #[serde(default)]
    pub button: OtpButton,
    /// Graph API base URL (Meta's unless a test points it at loopback).
    pub graph_url: String,
    /// Graph API version, e.g. `v21.0`.
    pub api_version: String,
    /// When a message cannot be delivered (a send error, or a `failed` status), send
    /// the same code once by SMS.
    pub fallback_to_sms: bool,
    /// The access token (system user token), sealed; base64url.
    pub sealed_access_token: String,
    /// The app secret that signs status webhooks, sealed; without it no status is
    /// accepted.
    #[serde(default)]
    pub sealed_app_secret: Option<String>,
    /// The token Meta echoes when the webhook is subscribed, sealed.
    #[serde(default)]
    pub sealed_verify_token: Option<String>,
}

impl fmt::Debug for WhatsappCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsappCloud")
            .field("phone_number_id", &self.phone_number_id)
            .field("template", &self.template)
            .field("language", &self.language)
            .field("button", &self.button.otp_type())
            .field("graph_url", &self.graph_url)
            .field("sealed_access_token", &"<hidden>")
            .finish_non_exhaustive()
    }
}

/// The messages endpoint of a phone number.
pub fn messages_url(graph_url: &str, api_version: &str, phone_number_id: &str) -> String {
    format!(
        "{}/{api_version}/{phone_number_id}/messages",
        graph_url.trim_end_matches('/')
    )
}

/// The Cloud API request body that sends `code` to `to_digits` (E.164 without `+`) with
/// an authentication template (see the module's references).
pub fn template_message(template: &str, language: &str, to_digits: &str, code: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_digits,
        "type": "template",
        "template": {
            "name": template,
            "language": {"code": language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": code}]},
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": code}]
                }
            ]
        }
    })
}

impl WhatsappCloud {
    /// The messages endpoint.
    pub fn messages_url(&self) -> String {
        messages_url(&self.graph_url, &self.api_version, &self.phone_number_id)
    }

    /// The body to register the template with (`POST /{version}/{waba-id}/message_templates`):
    /// what this tenant's sends assume. `minutes` is the code lifetime, clamped to
    /// Meta's 1..=90.
    pub fn template_registration(&self, minutes: u64) -> Value {
        template_registration(&self.template, &self.language, &self.button, minutes)
    }
}

/// See [`WhatsappCloud::template_registration`].
pub fn template_registration(
    name: &str,
    language: &str,
    button: &OtpButton,
    minutes: u64,
) -> Value {
    let mut otp = json!({"type": "otp", "otp_type": button.otp_type()});
    if let OtpButton::OneTap {
        package_name,
        signature_hash,
    } = button
    {
        otp["supported_apps"] = json!([{
            "package_name": package_name,
            "signature_hash": signature_hash
        }]);
    }
    json!({
        "name": name,
        "language": language,
        "category": "authentication",
        "components": [
            {"type": "body", "add_security_recommendation": true},
            {"type": "footer", "code_expiration_minutes": minutes.clamp(1, 90)},
            {"type": "buttons", "buttons": [otp]}
        ]
    })
}

/// A tenant's DLT registration (India).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dlt {
    /// Principal entity id.
    pub entity_id: String,
    /// The registered template's id.
    pub template_id: String,
    /// The header (sender id).
    pub header: String,
    /// The registered wording, with `{#var#}` for each variable part.
    pub template: String,
}

impl Dlt {
    /// Whether `text` is what operators will accept for this template: the fixed parts
    /// exactly, each `{#var#}` 1 to [`DLT_VAR_MAX`] characters.
    pub fn matches(&self, text: &str) -> bool {
        dlt_matches(&self.template, text)
    }
}

/// See [`Dlt::matches`]. Linear in the text for each part: the positions reachable after
/// each part are tracked as a set, so no input makes it backtrack.
pub fn dlt_matches(template: &str, text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let mut reach = vec![false; chars.len() + 1];
    if let Some(r) = reach.first_mut() {
        *r = true;
    }
    let mut parts = template.split(DLT_VAR).peekable();
    while let Some(fixed) = parts.next() {
        let fixed: Vec<char> = fixed.chars().collect();
        let mut next = vec![false; chars.len() + 1];
        for (pos, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
            let end = pos + fixed.len();
            if chars.get(pos..end).is_some_and(|s| s == fixed.as_slice())
                && let Some(n) = next.get_mut(end)
            {
                *n = true;
            }
        }
        reach = next;
        if parts.peek().is_some() {
            // A variable follows this fixed part.
            let mut next = vec![false; chars.len() + 1];
            for (pos, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
                for len in 1..=DLT_VAR_MAX {
                    match next.get_mut(pos + len) {
                        Some(n) => *n = true,
                        None => break,
                    }
                }
            }
            reach = next;
        }
    }
    reach.last().copied().unwrap_or(false)
}

// ---- The admin API's shapes ---------------------------------------------------------

/// `Some(value)` for a field that is present, even when it is `null`: absent leaves a
/// setting as it is, `null` removes it.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Body of `PUT /admin/v1/tenants/{tenant}/messaging`. A part left out is unchanged; a
/// part given as `null` is removed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MessagingInput {
    /// WhatsApp Cloud API settings.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub whatsapp: Option<Option<WhatsappInput>>,
    /// DLT registration.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub dlt: Option<Option<Dlt>>,
}

/// WhatsApp settings as an admin gives them. Secrets left out keep their stored value
/// (the access token must be given the first time).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappInput {
    /// The business phone number id (digits).
    pub phone_number_id: String,
    /// The authentication template's name (lower case letters, digits, `_`).
    pub template: String,
    /// Its language code (`en`, `en_US`, `hi`).
    pub language: String,
    /// The button it was registered with; copy-code when left out.
    #[serde(default)]
    pub button: OtpButton,
    /// Graph API base URL: https, or http to a loopback address (tests); Meta's when
    /// left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_url: Option<String>,
    /// Graph API version (`v21.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Resend by SMS when WhatsApp cannot deliver (default on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_to_sms: Option<bool>,
    /// The access token (write-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// The app secret that signs webhooks (write-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_secret: Option<String>,
    /// The webhook verify token (write-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_token: Option<String>,
}

impl fmt::Debug for WhatsappInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsappInput")
            .field("phone_number_id", &self.phone_number_id)
            .field("template", &self.template)
            .field("secrets", &"<hidden>")
            .finish_non_exhaustive()
    }
}

/// Answer of `GET` (and `PUT`) `/admin/v1/tenants/{tenant}/messaging`: never a secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagingView {
    /// The WhatsApp settings, secrets as `*_set` flags.
    pub whatsapp: Option<WhatsappView>,
    /// The DLT registration (none of it is secret).
    pub dlt: Option<Dlt>,
}

/// WhatsApp settings as shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WhatsappView {
    /// Phone number id.
    pub phone_number_id: String,
    /// Template name.
    pub template: String,
    /// Template language.
    pub language: String,
    /// Button kind.
    pub button: OtpButton,
    /// Graph API base URL.
    pub graph_url: String,
    /// Graph API version.
    pub api_version: String,
    /// Whether undelivered codes are resent by SMS.
    pub fallback_to_sms: bool,
    /// Whether an access token is stored.
    pub access_token_set: bool,
    /// Whether an app secret is stored (status webhooks need it).
    pub app_secret_set: bool,
    /// Whether a verify token is stored.
    pub verify_token_set: bool,
    /// Where Meta should send status webhooks.
    pub webhook_url: String,
    /// The body to register the template with, as these settings assume it.
    pub template_registration: Value,
}

impl WhatsappCloud {
    /// The admin view, for a tenant whose issuer is `issuer` and whose codes live
    /// `minutes`.
    pub fn view(&self, issuer: &str, minutes: u64) -> WhatsappView {
        WhatsappView {
            phone_number_id: self.phone_number_id.clone(),
            template: self.template.clone(),
            language: self.language.clone(),
            button: self.button.clone(),
            graph_url: self.graph_url.clone(),
            api_version: self.api_version.clone(),
            fallback_to_sms: self.fallback_to_sms,
            access_token_set: !self.sealed_access_token.is_empty(),
            app_secret_set: self.sealed_app_secret.is_some(),
            verify_token_set: self.sealed_verify_token.is_some(),
            webhook_url: format!("{issuer}/webhooks/whatsapp"),
            template_registration: self.template_registration(minutes),
        }
    }
}

// ---- Checks --------------------------------------------------------------------------

fn digits(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
}

/// A Graph API base URL: https, or http to a loopback host (for tests); no query,
/// fragment or credentials.
pub fn check_graph_url(raw: &str) -> Result<(), String> {
    let bad = || {
        format!(
            "graph_url {raw:?} must be an https URL (or http to 127.0.0.1, [::1] or localhost), without query or credentials"
        )
    };
    let (scheme, rest) = raw.split_once("://").ok_or_else(bad)?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains('@')
        || raw.contains('?')
        || raw.contains('#')
        || raw.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    match scheme {
        "https" => Ok(()),
        "http" if matches!(host, "127.0.0.1" | "::1" | "localhost") => Ok(()),
        _ => Err(bad()),
    }
}

impl WhatsappInput {
    /// Checks what can be checked without Meta: ids numeric where Meta's are, the
    /// template name's syntax, the URL.
    pub fn check(&self) -> Result<(), String> {
        if !digits(&self.phone_number_id, 32) {
            return Err("phone_number_id must be the numeric id WhatsApp Manager shows".into());
        }
        let t = &self.template;
        if t.is_empty()
            || t.len() > 512
            || !t
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(
                "template must be the template's name: lower-case letters, digits and _ (at most 512)".into(),
            );
        }
        let (head, region) = match self.language.split_once('_') {
            Some((h, r)) => (h, Some(r)),
            None => (self.language.as_str(), None),
        };
        let lang_ok = (2..=3).contains(&head.len())
            && head.bytes().all(|b| b.is_ascii_lowercase())
            && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()));
        if !lang_ok {
            return Err("language must be a template language code such as en, en_US or hi".into());
        }
        if let Some(u) = &self.graph_url {
            check_graph_url(u)?;
        }
        if let Some(v) = &self.api_version {
            let ok = v
                .strip_prefix('v')
                .and_then(|n| n.split_once('.'))
                .is_some_and(|(a, b)| digits(a, 3) && digits(b, 3));
            if !ok {
                return Err("api_version must look like v21.0".into());
            }
        }
        if let OtpButton::OneTap {
            package_name,
            signature_hash,
        } = &self.button
        {
            let segment_ok = |s: &str| {
                s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            };
            if package_name.len() > 224
                || package_name.split('.').count() < 2
                || !package_name.split('.').all(segment_ok)
            {
                return Err(
                    "button.package_name must be an Android package name such as com.example.app"
                        .into(),
                );
            }
            if signature_hash.len() != 11
                || !signature_hash
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_'))
            {
                return Err("button.signature_hash must be the app's 11-character hash".into());
            }
        }
        for (name, v) in [
            ("access_token", &self.access_token),
            ("app_secret", &self.app_secret),
            ("verify_token", &self.verify_token),
        ] {
            if let Some(v) = v
                && (v.trim().is_empty() || v.len() > 4096)
            {
                return Err(format!(
                    "{name} must not be empty (at most 4096 characters)"
                ));
            }
        }
        Ok(())
    }
}

impl Dlt {
    /// Checks the registration's shape (the operator's platform issued the ids).
    pub fn check(&self) -> Result<(), String> {
        if !digits(&self.entity_id, 30) {
            return Err("dlt.entity_id must be the numeric principal entity id".into());
        }
        if !digits(&self.template_id, 30) {
            return Err("dlt.template_id must be the numeric DLT template id".into());
        }
        if self.header.len() != 6 || !self.header.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("dlt.header must be the six-character header (sender id)".into());
        }
        if self.template.trim().is_empty() || self.template.chars().count() > DLT_TEMPLATE_MAX {
            return Err(format!(
                "dlt.template must be the registered wording (at most {DLT_TEMPLATE_MAX} characters, {DLT_VAR} for each variable)"
            ));
        }
        Ok(())
    }
}

// ---- Status webhooks -----------------------------------------------------------------

/// A delivery status Meta reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Accepted by WhatsApp.
    Sent,
    /// On the device.
    Delivered,
    /// Opened.
    Read,
    /// Not deliverable.
    Failed,
    /// A status this version does not know.
    Other,
}

impl DeliveryStatus {
    /// Parses Meta's name.
    pub fn parse(s: &str) -> Self {
        match s {
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "failed" => Self::Failed,
            _ => Self::Other,
        }
    }

    /// Its name (a metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
            Self::Other => "other",
        }
    }
}

/// One entry of `statuses[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusUpdate {
    /// The message id (`wamid.…`) the send was answered with.
    pub message_id: String,
    /// What happened.
    pub status: DeliveryStatus,
    /// The first error code of a failure, e.g. `131026` (undeliverable).
    pub error_code: Option<i64>,
}

/// The statuses in a webhook body (messages and other fields are ignored); an error
/// when the body is not a WhatsApp webhook.
pub fn parse_statuses(body: &[u8]) -> Result<Vec<StatusUpdate>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_owned())?;
    if v.get("object").and_then(Value::as_str) != Some("whatsapp_business_account") {
        return Err("not a whatsapp_business_account webhook".into());
    }
    let empty = Vec::new();
    let mut out = Vec::new();
    for entry in v.get("entry").and_then(Value::as_array).unwrap_or(&empty) {
        for change in entry
            .get("changes")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
        {
            let statuses = change
                .pointer("/value/statuses")
                .and_then(Value::as_array)
                .unwrap_or(&empty);
            for s in statuses {
                let (Some(id), Some(status)) = (
                    s.get("id").and_then(Value::as_str),
                    s.get("status").and_then(Value::as_str),
                ) else {
                    continue;
                };
                out.push(StatusUpdate {
                    message_id: id.chars().take(256).collect(),
                    status: DeliveryStatus::parse(status),
                    error_code: s.pointer("/errors/0/code").and_then(Value::as_i64),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dlt_variables_match_bounded_runs() {
        let t = "{#var#} is your OTP for {#var#}. Valid for {#var#} minutes. - ACMEID";
        assert!(dlt_matches(
            t,
            "042042 is your OTP for Acme Bazaar. Valid for 10 minutes. - ACMEID"
        ));
        // A fixed part differs.
        assert!(!dlt_matches(
            t,
            "042042 is your code for Acme Bazaar. Valid for 10 minutes. - ACMEID"
        ));
        // A variable longer than operators allow.
        let long = "x".repeat(DLT_VAR_MAX + 1);
        assert!(!dlt_matches(
            t,
            &format!("042042 is your OTP for {long}. Valid for 10 minutes. - ACMEID")
        ));
        let max = "x".repeat(DLT_VAR_MAX);
        assert!(dlt_matches(
            t,
            &format!("042042 is your OTP for {max}. Valid for 10 minutes. - ACMEID")
        ));
        // An empty variable, and trailing text.
        assert!(!dlt_matches(
            t,
            " is your OTP for A. Valid for 1 minutes. - ACMEID"
        ));
        assert!(!dlt_matches(
            t,
            "1 is your OTP for A. Valid for 1 minutes. - ACMEID!"
        ));
        // A variable may hold text that looks like the fixed parts.
        assert!(dlt_matches("{#var#} is {#var#}", "a is b is c"));
        assert!(dlt_matches("no variables", "no variables"));
        assert!(!dlt_matches("no variables", "no variables."));
        // Characters, not bytes.
        assert!(dlt_matches("कोड {#var#} है", "कोड १२३४५६ है"));
    }

    #[test]
    fn the_cloud_api_request_is_metas_documented_shape() {
        let body = template_message("otp_login", "en_US", "919876543210", "042042");
        assert_eq!(body["messaging_product"], "whatsapp");
        assert_eq!(body["type"], "template");
        assert_eq!(body["to"], "919876543210");
        assert_eq!(body["template"]["language"]["code"], "en_US");
        let c = &body["template"]["components"];
        assert_eq!(c[0]["parameters"][0]["text"], "042042");
        assert_eq!(c[1]["sub_type"], "url");
        assert_eq!(c[1]["index"], "0");
        assert_eq!(c[1]["parameters"][0]["text"], "042042");
        assert_eq!(
            messages_url("http://127.0.0.1:9/", "v21.0", "1234"),
            "http://127.0.0.1:9/v21.0/1234/messages"
        );
    }

    #[test]
    fn the_registration_body_names_the_button() {
        let one_tap = OtpButton::OneTap {
            package_name: "com.example.app".into(),
            signature_hash: "K8a/AINcGX7".into(),
        };
        let r = template_registration("otp_login", "en", &one_tap, 600);
        assert_eq!(r["category"], "authentication");
        assert_eq!(r["components"][0]["add_security_recommendation"], true);
        assert_eq!(r["components"][1]["code_expiration_minutes"], 90);
        let b = &r["components"][2]["buttons"][0];
        assert_eq!(b["otp_type"], "one_tap");
        assert_eq!(b["supported_apps"][0]["package_name"], "com.example.app");
        let r = template_registration("otp_login", "en", &OtpButton::CopyCode, 10);
        assert_eq!(r["components"][2]["buttons"][0]["otp_type"], "copy_code");
        assert_eq!(r["components"][1]["code_expiration_minutes"], 10);
    }

    #[test]
    fn inputs_are_checked() {
        let ok = WhatsappInput {
            phone_number_id: "106540352242922".into(),
            template: "otp_login".into(),
            language: "en_US".into(),
            access_token: Some("EAAJB".into()),
            ..WhatsappInput::default()
        };
        assert_eq!(ok.check(), Ok(()));
        for bad in [
            WhatsappInput {
                phone_number_id: "12a4".into(),
                ..ok.clone()
            },
            WhatsappInput {
                template: "OTP Login".into(),
                ..ok.clone()
            },
            WhatsappInput {
                language: "english".into(),
                ..ok.clone()
            },
            WhatsappInput {
                graph_url: Some("http://graph.example".into()),
                ..ok.clone()
            },
            WhatsappInput {
                graph_url: Some("https://user@graph.example".into()),
                ..ok.clone()
            },
            WhatsappInput {
                api_version: Some("21".into()),
                ..ok.clone()
            },
            WhatsappInput {
                button: OtpButton::OneTap {
                    package_name: "app".into(),
                    signature_hash: "K8a/AINcGX7".into(),
                },
                ..ok.clone()
            },
            WhatsappInput {
                access_token: Some(" ".into()),
                ..ok.clone()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        assert!(check_graph_url("http://127.0.0.1:8080").is_ok());
        assert!(check_graph_url("http://[::1]:8080/").is_ok());
        assert!(check_graph_url("http://127.0.0.1.example").is_err());
        assert!(check_graph_url("https://graph.facebook.com").is_ok());
        assert!(check_graph_url("ftp://graph.facebook.com").is_err());
        let dlt = Dlt {
            entity_id: "1201159100000000001".into(),
            template_id: "1207161234567890123".into(),
            header: "ACMEID".into(),
            template: "{#var#} is your OTP".into(),
        };
        assert_eq!(dlt.check(), Ok(()));
        assert!(
            Dlt {
                entity_id: "PE-1".into(),
                ..dlt.clone()
            }
            .check()
            .is_err()
        );
        assert!(
            Dlt {
                header: "ACME".into(),
                ..dlt.clone()
            }
            .check()
            .is_err()
        );
    }

    #[test]
    fn absent_and_null_differ_in_a_change() {
        let i: MessagingInput = serde_json::from_str(r#"{"dlt": null}"#).unwrap();
        assert!(i.whatsapp.is_none());
        assert!(matches!(i.dlt, Some(None)));
    }

    #[test]
    fn statuses_are_read_from_every_entry() {
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "statuses": [
                    {"id": "wamid.A", "status": "delivered", "timestamp": "1", "recipient_id": "91"},
                    {"id": "wamid.B", "status": "failed", "errors": [{"code": 131026, "title": "Message undeliverable"}]}
                ]
            }}]}]
        });
        let s = parse_statuses(body.to_string().as_bytes()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].status, DeliveryStatus::Delivered);
        assert_eq!(s[1].error_code, Some(131026));
        assert!(parse_statuses(b"{\"object\":\"page\"}").is_err());
        assert!(parse_statuses(b"not json").is_err());
    }
}
