//! A tenant's messaging settings (its own WhatsApp Cloud API number, its DLT
//! registration for SMS), set by an admin, and the WhatsApp status webhook that reports
//! what became of the codes sent through that number.
//!
//! Secrets (the access token, the app secret, the webhook verify token) are sealed here
//! under the messaging key ([`messaging_key`], derived from the master key) with the
//! tenant and the secret's name as associated data, and are never shown again.
//!
//! The webhook is checked before anything is read from it: `X-Hub-Signature-256` must be
//! the HMAC-SHA256 of the raw body under the tenant's app secret. Statuses are matched
//! to the messages this node sent (kept in memory for the code's lifetime); a status
//! for a message this node does not know is counted and reported in the answer, not
//! refused, because Meta retries refused deliveries for days and reports statuses of
//! every message of the number, including those other systems sent.

use serde::Serialize;

use super::Admin;
use crate::crypto::{MasterKey, b64};
use crate::engine::Engine;
use crate::error::{EngineError, EngineResult};
use crate::ids::TenantId;
use crate::model::messaging::{
    DEFAULT_API_VERSION, DEFAULT_GRAPH_URL, DeliveryStatus, MessagingInput, MessagingSettings,
    MessagingView, WhatsappCloud, parse_statuses,
};
use crate::runtime::delivery::{
    StatusOutcome, messaging_aad, messaging_key, open_messaging_secret,
};

/// The messaging area: the status webhook (the settings are under [`Admin`]).
#[derive(Clone, Copy)]
pub struct Messaging<'e>(&'e Engine);

impl Engine {
    /// WhatsApp delivery statuses and the webhook's subscription check.
    pub fn messaging(&self) -> Messaging<'_> {
        Messaging(self)
    }
}

fn key(e: &Engine) -> MasterKey {
    messaging_key(&e.rt().master)
}

fn view(e: &Engine, t: &TenantId, s: &MessagingSettings) -> MessagingView {
    let minutes = e.rt().otp.config.ttl_secs.div_ceil(60).max(1);
    MessagingView {
        whatsapp: s.whatsapp.as_ref().map(|w| w.view(&e.issuer(t), minutes)),
        dlt: s.dlt.clone(),
    }
}

impl Admin<'_> {
    /// A tenant's messaging settings, secrets shown only as whether they are set.
    pub async fn messaging(&self, id: &TenantId) -> EngineResult<MessagingView> {
        let t = self.tenant(id).await?;
        Ok(view(self, id, &t.messaging))
    }

    /// Changes a tenant's messaging settings: a part left out stays, a part given as
    /// `null` is removed; secrets left out keep their stored value.
    pub async fn set_messaging(
        &self,
        id: &TenantId,
        input: MessagingInput,
    ) -> EngineResult<MessagingView> {
        if let Some(Some(w)) = &input.whatsapp {
            w.check().map_err(EngineError::Invalid)?;
        }
        if let Some(Some(d)) = &input.dlt {
            d.check().map_err(EngineError::Invalid)?;
        }
        let key = key(self);
        let seal = |name: &str, v: &Option<String>| {
            v.as_ref()
                .map(|v| b64(&key.seal(&messaging_aad(id, name), v.trim().as_bytes())))
        };
        let sealed = input.whatsapp.as_ref().and_then(Option::as_ref).map(|w| {
            (
                seal("access_token", &w.access_token),
                seal("app_secret", &w.app_secret),
                seal("verify_token", &w.verify_token),
            )
        });
        let mut what = Vec::new();
        if let Some(w) = &input.whatsapp {
            what.push(if w.is_some() {
                "whatsapp=set"
            } else {
                "whatsapp=removed"
            });
        }
        if let Some(d) = &input.dlt {
            what.push(if d.is_some() {
                "dlt=set"
            } else {
                "dlt=removed"
            });
        }
        let t = self
            .change_tenant(id, "admin.messaging", what.join(" "), |t| {
                let m = &mut t.messaging;
                match (&input.whatsapp, &sealed) {
                    (Some(None), _) => m.whatsapp = None,
                    (Some(Some(w)), Some((token, secret, verify))) => {
                        let old = m.whatsapp.as_ref();
                        let sealed_access_token = token
                            .clone()
                            .or_else(|| old.map(|o| o.sealed_access_token.clone()))
                            .ok_or_else(|| {
                                EngineError::invalid(
                                    "access_token is needed the first time WhatsApp is set up",
                                )
                            })?;
                        m.whatsapp = Some(WhatsappCloud {
                            phone_number_id: w.phone_number_id.clone(),
                            template: w.template.clone(),
                            language: w.language.clone(),
                            button: w.button.clone(),
                            graph_url: w
                                .graph_url
                                .clone()
                                .unwrap_or_else(|| DEFAULT_GRAPH_URL.into())
                                .trim_end_matches('/')
                                .to_owned(),
                            api_version: w
                                .api_version
                                .clone()
                                .unwrap_or_else(|| DEFAULT_API_VERSION.into()),
                            fallback_to_sms: w.fallback_to_sms.unwrap_or(true),
                            sealed_access_token,
                            sealed_app_secret: secret
                                .clone()
                                .or_else(|| old.and_then(|o| o.sealed_app_secret.clone())),
                            sealed_verify_token: verify
                                .clone()
                                .or_else(|| old.and_then(|o| o.sealed_verify_token.clone())),
                        });
                    }
                    _ => {}
                }
                if let Some(d) = &input.dlt {
                    m.dlt = d.clone();
                }
                Ok(())
            })
            .await?;
        Ok(view(self, id, &t.messaging))
    }
}

/// What a status webhook did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WebhookReport {
    /// Statuses in the body.
    pub statuses: usize,
    /// Of which about messages this node is waiting on.
    pub matched: usize,
    /// Codes resent by SMS.
    pub fell_back: usize,
    /// Message ids this node does not know (sent elsewhere, or their code expired).
    pub unknown: Vec<String>,
}

/// The challenge, when the mode is `subscribe` and the token the expected one.
fn check_subscription(
    expected: &str,
    mode: &str,
    verify_token: &str,
    challenge: &str,
) -> EngineResult<String> {
    let same: bool =
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), verify_token.as_bytes()).into();
    if mode != "subscribe" || !same {
        return Err(EngineError::InvalidCredentials);
    }
    if challenge.is_empty() || challenge.len() > 256 {
        return Err(EngineError::invalid("hub.challenge is missing or too long"));
    }
    Ok(challenge.to_owned())
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

impl Messaging<'_> {
    fn cloud(&self, tenant: &crate::model::Tenant) -> EngineResult<WhatsappCloud> {
        tenant
            .messaging
            .whatsapp
            .clone()
            .ok_or(EngineError::NotFound("WhatsApp settings"))
    }

    /// The subscription check (`GET …/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`):
    /// the challenge, when the token is the tenant's verify token.
    pub async fn whatsapp_subscribe(
        &self,
        tenant: &TenantId,
        mode: &str,
        verify_token: &str,
        challenge: &str,
    ) -> EngineResult<String> {
        let t = self.0.tenant(tenant).await?;
        let w = self.cloud(&t)?;
        let Some(sealed) = &w.sealed_verify_token else {
            return Err(EngineError::invalid(
                "no verify token is set for this tenant's WhatsApp webhook",
            ));
        };
        let expected = open_messaging_secret(&key(self.0), tenant, "verify_token", sealed)?;
        check_subscription(&expected, mode, verify_token, challenge)
    }

    /// A signed status webhook of a tenant's own number: checked against its app secret
    /// first (nothing is read or recorded from a body that fails), then each status
    /// applied.
    pub async fn whatsapp_statuses(
        &self,
        tenant: &TenantId,
        body: &[u8],
        signature: Option<&str>,
    ) -> EngineResult<WebhookReport> {
        let t = self.0.tenant(tenant).await?;
        let w = self.cloud(&t)?;
        let Some(sealed) = &w.sealed_app_secret else {
            tracing::warn!(%tenant, "WhatsApp webhook refused: no app secret is set");
            return Err(EngineError::InvalidCredentials);
        };
        let secret = open_messaging_secret(&key(self.0), tenant, "app_secret", sealed)?;
        self.apply(Some(tenant), &secret, body, signature).await
    }

    /// Gives the engine the app secret and verify token of the deployment's own
    /// WhatsApp number (`[sms.whatsapp_cloud]`), whose webhook is
    /// `{public_url}/webhooks/whatsapp` (once; later calls are ignored).
    pub fn set_deployment_webhook(&self, app_secret: String, verify_token: Option<String>) {
        let otp = &self.0.rt().otp;
        let _ = otp.whatsapp_app_secret.set(app_secret);
        if let Some(v) = verify_token {
            let _ = otp.whatsapp_verify_token.set(v);
        }
    }

    /// The subscription check of the deployment's number's webhook.
    pub fn deployment_subscribe(
        &self,
        mode: &str,
        verify_token: &str,
        challenge: &str,
    ) -> EngineResult<String> {
        let Some(expected) = self.0.rt().otp.whatsapp_verify_token.get() else {
            return Err(EngineError::NotFound("WhatsApp webhook"));
        };
        check_subscription(expected, mode, verify_token, challenge)
    }

    /// A signed status webhook of the deployment's own number (any tenant's messages).
    pub async fn deployment_statuses(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> EngineResult<WebhookReport> {
        let Some(secret) = self.0.rt().otp.whatsapp_app_secret.get() else {
            return Err(EngineError::NotFound("WhatsApp webhook"));
        };
        self.apply(None, secret, body, signature).await
    }

    async fn apply(
        &self,
        tenant: Option<&TenantId>,
        secret: &str,
        body: &[u8],
        signature: Option<&str>,
    ) -> EngineResult<WebhookReport> {
        let tag = signature
            .and_then(|s| s.strip_prefix("sha256="))
            .and_then(from_hex);
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
        if tag.is_none_or(|tag| ring::hmac::verify(&k, body, &tag).is_err()) {
            tracing::warn!(tenant = ?tenant.map(TenantId::as_str), "WhatsApp webhook refused: bad X-Hub-Signature-256");
            return Err(EngineError::InvalidCredentials);
        }
        let updates = parse_statuses(body).map_err(EngineError::Invalid)?;
        let courier = self
            .0
            .rt()
            .otp
            .courier
            .get()
            .ok_or_else(|| EngineError::Internal("no message delivery configured".into()))?;
        let mut report = WebhookReport {
            statuses: updates.len(),
            ..WebhookReport::default()
        };
        for u in &updates {
            let now = self.0.rt().clock.now_millis();
            match courier.whatsapp_status(tenant, u, now).await? {
                StatusOutcome::Unknown => report.unknown.push(u.message_id.clone()),
                StatusOutcome::Recorded => report.matched += 1,
                StatusOutcome::FellBack => {
                    report.matched += 1;
                    report.fell_back += 1;
                }
            }
            if u.status == DeliveryStatus::Failed {
                tracing::info!(error = ?u.error_code, "WhatsApp reported a code undelivered");
            }
        }
        Ok(report)
    }
}
