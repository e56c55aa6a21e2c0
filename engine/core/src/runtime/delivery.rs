//! Sending one-time codes: the [`Mailer`] and [`TextSender`] traits the gateway
//! implements (SMTP or an outbox directory; an HTTP SMS/WhatsApp provider), and the
//! [`Courier`] that runs every send off the request path.
//!
//! A request only queues its message (a bounded queue: full means `Overloaded`), so no
//! HTTP worker waits on a mail server or an SMS provider, and an answer takes as long
//! whether or not a message was sent (which keeps "is there an account?" unanswerable
//! by timing). The courier sends a few messages at a time on the runtime that started
//! it and appends an `otp.sent` or `otp.send_failed` event for each.
//!
//! Before a text is sent the courier reads its tenant's messaging settings into a
//! [`Route`]: a WhatsApp code goes through the tenant's own Cloud API number when it has
//! one (secrets opened here, in memory only), and an SMS carries the tenant's DLT
//! registration so the sender can match the text against it and refuse a mismatch
//! ([`RouteError::Refused`]) rather than let the operator drop it silently. A WhatsApp
//! send answers a message id; the courier keeps it with the message (code included, in
//! memory, for the code's lifetime) so that a `failed` status from the webhook
//! ([`Courier::whatsapp_status`]) sends the same code once by SMS. A send that fails at
//! once falls back the same way.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

use crate::crypto::{MasterKey, b64_decode, random_token};
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId};
use crate::model::Event;
use crate::model::messaging::{DeliveryStatus, Dlt, OtpButton, StatusUpdate, WhatsappCloud};
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

    /// Hands one message over with the Message-ID's left part (RFC 5322 s. 3.6.4) chosen
    /// by the caller, so that a message sent again after a crash is the same message,
    /// which receiving systems and mail clients recognise as a duplicate (breach
    /// notices). A mailer that cannot set it sends as [`Self::send`] does.
    async fn send_identified(&self, mail: &Mail, id_left: &str) -> Result<(), DeliveryError> {
        let _ = id_left;
        self.send(mail).await
    }
}

/// Sends codes to phones.
#[async_trait]
pub trait TextSender: Send + Sync + 'static {
    /// Hands one message to the provider.
    async fn send(&self, msg: &TextMessage) -> Result<(), DeliveryError>;

    /// Hands one message over by its tenant's route, answering the provider's message
    /// id when it gives one. Senders that know no routes send as [`Self::send`] does.
    async fn send_routed(&self, msg: &TextMessage, route: &Route) -> Result<Sent, RouteError> {
        let _ = route;
        self.send(msg).await.map_err(RouteError::Failed)?;
        Ok(Sent::default())
    }

    /// The deployment's own WhatsApp Cloud API number (`[sms.whatsapp_cloud]`), used for
    /// tenants that have none of their own.
    fn whatsapp_cloud(&self) -> Option<CloudRoute> {
        None
    }
}

/// What a sender answers for a message it handed over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    /// The provider's id of the message (a WhatsApp `wamid`), to match delivery statuses.
    pub message_id: Option<String>,
}

/// Why a routed message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The provider could not be reached or refused it.
    #[error("{0}")]
    Failed(DeliveryError),
    /// Refused before sending, e.g. an SMS that does not match the tenant's DLT
    /// template. `code` is a stable machine code (`dlt_mismatch`).
    #[error("{why}")]
    Refused {
        /// Machine code, for events and metrics.
        code: &'static str,
        /// For logs (never the code or the whole number).
        why: String,
    },
}

/// A tenant's WhatsApp Cloud API number, secrets opened. `Debug` hides the token.
#[derive(Clone)]
pub struct CloudRoute {
    /// Where to `POST` (`{graph}/{version}/{phone-number-id}/messages`).
    pub messages_url: String,
    /// The bearer token.
    pub access_token: String,
    /// Template name.
    pub template: String,
    /// Template language.
    pub language: String,
    /// The button the template was registered with (the request is the same for both).
    pub button: OtpButton,
    /// Resend by SMS when undelivered.
    pub fallback_to_sms: bool,
}

impl fmt::Debug for CloudRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudRoute")
            .field("messages_url", &self.messages_url)
            .field("template", &self.template)
            .field("access_token", &"<hidden>")
            .finish_non_exhaustive()
    }
}

/// How one tenant's texts go out: its own WhatsApp number, its DLT registration.
#[derive(Clone, Debug, Default)]
pub struct Route {
    /// The tenant's WhatsApp Cloud API number, if it has one.
    pub whatsapp: Option<CloudRoute>,
    /// The tenant's DLT registration, if it gave one.
    pub dlt: Option<Dlt>,
}

/// The key that seals tenants' messaging secrets (WhatsApp tokens), derived from the
/// master key.
pub fn messaging_key(master: &MasterKey) -> MasterKey {
    MasterKey::from_bytes(master.derive("tollgate messaging secrets v1"))
}

/// The associated data a messaging secret is sealed with: the tenant and the secret's
/// name, so that a sealed value cannot be moved to another tenant or field.
pub fn messaging_aad(tenant: &TenantId, name: &str) -> Vec<u8> {
    format!("{tenant}/messaging/{name}").into_bytes()
}

/// Opens one sealed messaging secret.
pub fn open_messaging_secret(
    key: &MasterKey,
    tenant: &TenantId,
    name: &str,
    sealed: &str,
) -> EngineResult<String> {
    let raw =
        b64_decode(sealed).ok_or_else(|| EngineError::Internal(format!("bad sealed {name}")))?;
    let plain = key.open(&messaging_aad(tenant, name), &raw)?;
    String::from_utf8(plain).map_err(|_| EngineError::Internal(format!("{name} is not text")))
}

impl Route {
    /// The route of a tenant's settings, secrets opened with `key`.
    pub fn of(
        tenant: &TenantId,
        settings: &crate::model::messaging::MessagingSettings,
        key: &MasterKey,
    ) -> EngineResult<Self> {
        let whatsapp = match &settings.whatsapp {
            Some(w) => Some(cloud_route(tenant, w, key)?),
            None => None,
        };
        Ok(Self {
            whatsapp,
            dlt: settings.dlt.clone(),
        })
    }
}

fn cloud_route(tenant: &TenantId, w: &WhatsappCloud, key: &MasterKey) -> EngineResult<CloudRoute> {
    Ok(CloudRoute {
        messages_url: w.messages_url(),
        access_token: open_messaging_secret(key, tenant, "access_token", &w.sealed_access_token)?,
        template: w.template.clone(),
        language: w.language.clone(),
        button: w.button.clone(),
        fallback_to_sms: w.fallback_to_sms,
    })
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

/// What the courier needs to route texts by tenant: the key that opens messaging
/// secrets, and the counter of WhatsApp statuses (by `status`: `sent`, `delivered`,
/// `read`, `failed`, `other`, and `send_error`, `fallback`, `unknown`).
#[derive(Clone)]
pub struct Routing {
    /// See [`messaging_key`].
    pub key: MasterKey,
    /// Counter by status.
    pub statuses: prometheus::IntCounterVec,
}

/// A WhatsApp message sent and not yet known delivered: kept (code included) in memory
/// until the code expires, so a `failed` status can resend it by SMS.
struct Pending {
    msg: TextMessage,
    event: Event,
    until: std::time::Instant,
    fallback: bool,
    fell_back: std::sync::atomic::AtomicBool,
}

/// What a delivery status did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusOutcome {
    /// No message of this tenant with that id is waiting (unknown, or its code expired).
    Unknown,
    /// Counted.
    Recorded,
    /// The message failed and its code was queued again by SMS.
    FellBack,
}

/// Each pending message is forgotten when its code expires.
struct UntilCodeExpires;

impl moka::Expiry<String, Arc<Pending>> for UntilCodeExpires {
    fn expire_after_create(
        &self,
        _: &String,
        p: &Arc<Pending>,
        now: std::time::Instant,
    ) -> Option<Duration> {
        Some(p.until.saturating_duration_since(now))
    }
}

/// Messages waiting for a status, at most.
const PENDING_MAX: u64 = 100_000;

/// The send queue: a cheap handle; the sending task stops when the last handle drops.
#[derive(Clone)]
pub struct Courier {
    tx: mpsc::Sender<Job>,
    pending: moka::sync::Cache<String, Arc<Pending>>,
    routing: Option<Routing>,
    store: Arc<dyn Store>,
    work: Arc<Work>,
}

/// The state every send task shares.
struct Work {
    mailer: Arc<dyn Mailer>,
    texter: Arc<dyn TextSender>,
    store: Arc<dyn Store>,
    routing: Option<Routing>,
    pending: moka::sync::Cache<String, Arc<Pending>>,
    timeout: Duration,
}

impl Work {
    fn count(&self, status: &str) {
        if let Some(r) = &self.routing {
            r.statuses.with_label_values(&[status]).inc();
        }
    }

    /// The tenant's route; the deployment's (an empty one) when it has none or its
    /// settings cannot be read (logged: the send still goes out the default way).
    async fn route(&self, tenant: &TenantId) -> Route {
        let mut route = self.tenant_route(tenant).await;
        if route.whatsapp.is_none() {
            route.whatsapp = self.texter.whatsapp_cloud();
        }
        route
    }

    async fn tenant_route(&self, tenant: &TenantId) -> Route {
        let Some(routing) = &self.routing else {
            return Route::default();
        };
        let t = match self.store.get_tenant(tenant).await {
            Ok(Some(t)) => t,
            Ok(None) => return Route::default(),
            Err(e) => {
                tracing::warn!(%tenant, error = %e, "messaging settings not read; default route");
                return Route::default();
            }
        };
        Route::of(tenant, &t.messaging, &routing.key).unwrap_or_else(|e| {
            tracing::error!(%tenant, error = %e, "messaging secrets cannot be opened; default route");
            Route::default()
        })
    }

    async fn text(&self, msg: &TextMessage, route: &Route) -> Result<Sent, RouteError> {
        match tokio::time::timeout(self.timeout, self.texter.send_routed(msg, route)).await {
            Ok(r) => r,
            Err(_) => Err(RouteError::Failed(DeliveryError("timed out".into()))),
        }
    }

    async fn append(&self, events: &[Event]) {
        if let Err(e) = self.store.append_events(events).await {
            tracing::error!(error = %e, "audit events lost");
        }
    }

    async fn run(&self, job: Job) {
        let Job { payload, mut event } = job;
        let mut extra = Vec::new();
        let outcome = match &payload {
            Payload::Mail(m) => match tokio::time::timeout(self.timeout, self.mailer.send(m)).await
            {
                Ok(r) => r.map_err(RouteError::Failed),
                Err(_) => Err(RouteError::Failed(DeliveryError("timed out".into()))),
            },
            Payload::Text(t) => self.run_text(t, &mut event, &mut extra).await,
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
                if let RouteError::Refused { code, .. } = &e {
                    // The ops event: what was refused and why, nothing personal.
                    extra.push(derived(
                        &event,
                        &format!("messaging.{code}"),
                        false,
                        (*code).into(),
                    ));
                }
            }
        }
        extra.insert(0, event);
        self.append(&extra).await;
    }

    /// Sends a text by its tenant's route; a WhatsApp message that fails at once is
    /// sent again by SMS (once) when the tenant allows it.
    async fn run_text(
        &self,
        t: &TextMessage,
        event: &mut Event,
        extra: &mut Vec<Event>,
    ) -> Result<(), RouteError> {
        let route = self.route(&t.tenant).await;
        let cloud = match (&route.whatsapp, t.channel) {
            (Some(c), Channel::Whatsapp) => Some(c.fallback_to_sms),
            _ => None,
        };
        match (self.text(t, &route).await, cloud) {
            (Ok(sent), Some(fallback)) => {
                self.count("sent");
                if let Some(id) = sent.message_id {
                    let secs = t.minutes.saturating_mul(60).max(60);
                    self.pending.insert(
                        id,
                        Arc::new(Pending {
                            msg: t.clone(),
                            event: event.clone(),
                            until: std::time::Instant::now() + Duration::from_secs(secs),
                            fallback,
                            fell_back: std::sync::atomic::AtomicBool::new(false),
                        }),
                    );
                }
                Ok(())
            }
            (Ok(_), None) => Ok(()),
            (Err(e), Some(true)) => {
                self.count("send_error");
                self.count("fallback");
                tracing::warn!(tenant = %t.tenant, error = %e, "WhatsApp send failed; resending by SMS");
                extra.push(derived(
                    event,
                    "messaging.whatsapp.fallback",
                    true,
                    "reason=send_error".into(),
                ));
                let sms = TextMessage {
                    channel: Channel::Sms,
                    ..t.clone()
                };
                mark_fallback(event);
                self.text(&sms, &route).await.map(|_| ())
            }
            (Err(e), _) => {
                if cloud.is_some() {
                    self.count("send_error");
                }
                Err(e)
            }
        }
    }
}

/// An event beside `of` (same tenant, subject, client), without its personal details.
fn derived(of: &Event, kind: &str, success: bool, detail: String) -> Event {
    Event {
        id: random_token::<9>(),
        kind: kind.to_owned(),
        ip: None,
        result: if success { "success" } else { "failure" }.to_owned(),
        detail: Some(detail),
        sealed: None,
        erased: false,
        ..of.clone()
    }
}

/// Marks a send event as the SMS fallback of a WhatsApp message (its detail, when not
/// sealed, names the channel).
fn mark_fallback(event: &mut Event) {
    if let Some(d) = event.detail.as_mut() {
        if let Some(head) = d.strip_suffix(" whatsapp") {
            *d = format!("{head} sms fallback");
        } else {
            d.push_str(" fallback");
        }
    }
}

impl Courier {
    /// Starts the sending task on the current tokio runtime, texts going out the
    /// deployment's way only.
    pub fn start(
        mailer: Arc<dyn Mailer>,
        texter: Arc<dyn TextSender>,
        store: Arc<dyn Store>,
        config: &CourierConfig,
    ) -> Self {
        Self::start_routed(mailer, texter, store, config, None)
    }

    /// Starts the sending task, routing texts by their tenant's messaging settings when
    /// `routing` is given.
    pub fn start_routed(
        mailer: Arc<dyn Mailer>,
        texter: Arc<dyn TextSender>,
        store: Arc<dyn Store>,
        config: &CourierConfig,
        routing: Option<Routing>,
    ) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(config.queue.max(1));
        let permits = Arc::new(Semaphore::new(config.concurrency.max(1)));
        let pending = moka::sync::Cache::builder()
            .max_capacity(PENDING_MAX)
            .expire_after(UntilCodeExpires)
            .build();
        let shared = Arc::new(Work {
            mailer,
            texter,
            store: store.clone(),
            routing: routing.clone(),
            pending: pending.clone(),
            timeout: Duration::from_secs(config.timeout_secs.max(1)),
        });
        let work = shared.clone();
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                let work = work.clone();
                tokio::spawn(async move {
                    work.run(job).await;
                    drop(permit);
                });
            }
        });
        Self {
            tx,
            pending,
            routing,
            store,
            work: shared,
        }
    }

    /// Sends a mail now, off the queue, and says whether the mail system took it: for
    /// notices whose sending must be known before anything follows (a dormancy notice
    /// must be sent before the erasure it announces).
    pub async fn send_mail_now(&self, mail: &Mail) -> Result<(), DeliveryError> {
        match tokio::time::timeout(self.work.timeout, self.work.mailer.send(mail)).await {
            Ok(r) => r,
            Err(_) => Err(DeliveryError("timed out".into())),
        }
    }

    /// Sends a mail now with the Message-ID's left part given ([`Mailer::send_identified`]).
    pub async fn send_mail_now_identified(
        &self,
        mail: &Mail,
        id_left: &str,
    ) -> Result<(), DeliveryError> {
        let send = self.work.mailer.send_identified(mail, id_left);
        match tokio::time::timeout(self.work.timeout, send).await {
            Ok(r) => r,
            Err(_) => Err(DeliveryError("timed out".into())),
        }
    }

    /// Sends a text now by its tenant's route, likewise.
    pub async fn send_text_now(&self, msg: &TextMessage) -> Result<(), RouteError> {
        let route = self.work.route(&msg.tenant).await;
        self.work.text(msg, &route).await.map(drop)
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

    /// Applies a WhatsApp delivery status reported for `tenant` (by its own number's
    /// webhook; `None`: by the deployment's number, for any tenant): counts it, and on
    /// `failed` queues the same code once by SMS (when allowed), appending a
    /// `messaging.whatsapp.fallback` event dated `now_ms`.
    pub async fn whatsapp_status(
        &self,
        tenant: Option<&TenantId>,
        update: &StatusUpdate,
        now_ms: u64,
    ) -> EngineResult<StatusOutcome> {
        let count = |s: &str| {
            if let Some(r) = &self.routing {
                r.statuses.with_label_values(&[s]).inc();
            }
        };
        let pending = self.pending.get(&update.message_id).filter(|p| {
            tenant.is_none_or(|t| p.msg.tenant == *t) && p.until > std::time::Instant::now()
        });
        let Some(p) = pending else {
            count("unknown");
            return Ok(StatusOutcome::Unknown);
        };
        count(update.status.as_str());
        match update.status {
            DeliveryStatus::Failed
                if p.fallback && !p.fell_back.swap(true, std::sync::atomic::Ordering::AcqRel) =>
            {
                let mut event = p.event.clone();
                event.id = random_token::<9>();
                mark_fallback(&mut event);
                let queued = self.text(
                    TextMessage {
                        channel: Channel::Sms,
                        ..p.msg.clone()
                    },
                    event,
                );
                if let Err(e) = queued {
                    // Not sent: Meta retries the webhook, and the retry may try again.
                    p.fell_back
                        .store(false, std::sync::atomic::Ordering::Release);
                    return Err(e);
                }
                count("fallback");
                let detail = match update.error_code {
                    Some(c) => format!("reason=failed error={c}"),
                    None => "reason=failed".into(),
                };
                let fallback_event = Event {
                    at_ms: now_ms,
                    actor: Some("system".into()),
                    ..derived(&p.event, "messaging.whatsapp.fallback", true, detail)
                };
                self.store.append_events(&[fallback_event]).await?;
                Ok(StatusOutcome::FellBack)
            }
            DeliveryStatus::Read => {
                // Read is the last status a message gets: the code need not be kept.
                self.pending.invalidate(&update.message_id);
                Ok(StatusOutcome::Recorded)
            }
            _ => Ok(StatusOutcome::Recorded),
        }
    }
}
