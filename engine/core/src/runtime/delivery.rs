//! Sending one-time codes: the [`Mailer`] and [`TextSender`] traits the gateway
//! implements (SMTP or an outbox directory; an HTTP SMS/WhatsApp provider), and the
//! [`Courier`] that runs every send off the request path.
//!
//! A request only queues its message (a bounded queue: full means `Overloaded`), so no
//! HTTP worker waits on a mail server or an SMS provider, and an answer takes as long
//! whether or not a message was sent (which keeps "is there an account?" unanswerable
//! by timing). The courier sends a few messages at a time on the runtime that started
//! it and appends an `otp.sent` or `otp.send_failed` event for each.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId};
use crate::model::Event;
use crate::model::phone::PhoneNumber;
use crate::store::Store;

/// Why a message could not be handed over. The text is for logs: it must not hold the
/// code or the full recipient.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

/// An email to send. Its text holds a code, so `Debug` hides it.
#[derive(Clone)]
pub struct Mail {
    /// Recipient.
    pub to: Email,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("text", &"<hidden>")
            .finish()
    }
}

/// How a code reaches a phone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A text message.
    #[default]
    Sms,
    /// A WhatsApp message (an approved template on the provider's side).
    Whatsapp,
}

impl Channel {
    /// Its name in forms and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sms" => Some(Self::Sms),
            "whatsapp" => Some(Self::Whatsapp),
            _ => None,
        }
    }
}

/// A code for a phone. `Debug` hides the code and most of the number.
#[derive(Clone)]
pub struct TextMessage {
    /// Recipient, E.164.
    pub to: PhoneNumber,
    /// SMS or WhatsApp.
    pub channel: Channel,
    /// The code alone (providers with templates want it as a parameter).
    pub code: String,
    /// The whole message, for providers that take free text.
    pub text: String,
    /// Whose code it is.
    pub tenant: TenantId,
    /// The tenant's display name.
    pub tenant_name: String,
    /// Minutes until the code expires.
    pub minutes: u64,
}

impl fmt::Debug for TextMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TextMessage")
            .field("to", &self.to.masked())
            .field("channel", &self.channel)
            .field("code", &"<hidden>")
            .finish_non_exhaustive()
    }
}

/// Sends email.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Hands one message to the mail system.
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError>;
}

/// Sends codes to phones.
#[async_trait]
pub trait TextSender: Send + Sync + 'static {
    /// Hands one message to the provider.
    async fn send(&self, msg: &TextMessage) -> Result<(), DeliveryError>;
}

/// Sends nothing: a channel that is not configured.
pub struct Unconfigured(pub &'static str);

#[async_trait]
impl Mailer for Unconfigured {
    async fn send(&self, _: &Mail) -> Result<(), DeliveryError> {
        Err(DeliveryError(format!("{} is not configured", self.0)))
    }
}

#[async_trait]
impl TextSender for Unconfigured {
    async fn send(&self, _: &TextMessage) -> Result<(), DeliveryError> {
        Err(DeliveryError(format!("{} is not configured", self.0)))
    }
}

enum Payload {
    Mail(Mail),
    Text(TextMessage),
}

struct Job {
    payload: Payload,
    /// The audit event to append once the send is done (kind and result are set then).
    event: Event,
}

/// How many messages may wait, and how many are sent at once.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct CourierConfig {
    /// Messages that may wait; past this a request is told to come back (503).
    pub queue: usize,
    /// Messages being sent at once.
    pub concurrency: usize,
    /// Longest a single send may take, seconds.
    pub timeout_secs: u64,
}

impl Default for CourierConfig {
    fn default() -> Self {
        Self {
            queue: 1024,
            concurrency: 16,
            timeout_secs: 30,
        }
    }
}

/// The send queue: a cheap handle; the sending task stops when the last handle drops.
#[derive(Clone)]
pub struct Courier {
    tx: mpsc::Sender<Job>,
}

impl Courier {
    /// Starts the sending task on the current tokio runtime.
    pub fn start(
        mailer: Arc<dyn Mailer>,
        texter: Arc<dyn TextSender>,
        store: Arc<dyn Store>,
        config: &CourierConfig,
    ) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(config.queue.max(1));
        let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let (mailer, texter, store) = (mailer.clone(), texter.clone(), store.clone());
                tokio::spawn(async move {
                    let Job { payload, mut event } = job;
                    let sent = match &payload {
                        Payload::Mail(m) => tokio::time::timeout(timeout, mailer.send(m)).await,
                        Payload::Text(t) => tokio::time::timeout(timeout, texter.send(t)).await,
                    };
                    let outcome = match sent {
                        Ok(r) => r,
                        Err(_) => Err(DeliveryError("timed out".into())),
                    };
                    match outcome {
                        Ok(()) => event.kind = "otp.sent".into(),
                        Err(e) => {
                            tracing::warn!(
                                tenant = %event.tenant,
                                to = event.detail.as_deref().unwrap_or(""),
                                error = %e,
                                "one-time code not delivered"
                            );
                            event.kind = "otp.send_failed".into();
                            event.result = "failure".into();
                        }
                    }
                    if let Err(e) = store.append_events(std::slice::from_ref(&event)).await {
                        tracing::error!(kind = %event.kind, error = %e, "audit event lost");
                    }
                    drop(permit);
                });
            }
        });
        Self { tx }
    }

    fn queue(&self, payload: Payload, event: Event) -> EngineResult<()> {
        self.tx
            .try_send(Job { payload, event })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => EngineError::Overloaded {
                    retry_after_secs: 1,
                },
                mpsc::error::TrySendError::Closed(_) => {
                    EngineError::Internal("the send queue has stopped".into())
                }
            })
    }

    /// Queues an email; `event` is appended once it is sent (or failed).
    pub fn mail(&self, mail: Mail, event: Event) -> EngineResult<()> {
        self.queue(Payload::Mail(mail), event)
    }

    /// Queues a text message; likewise.
    pub fn text(&self, msg: TextMessage, event: Event) -> EngineResult<()> {
        self.queue(Payload::Text(msg), event)
    }
}
