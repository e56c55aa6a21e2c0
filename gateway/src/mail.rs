//! `[mail]`: how the engine's emails leave. `outbox` (the development default) writes
//! each message as an `.eml` file under `data_dir/outbox/` and logs its path; `smtp`
//! hands it to a mail server with lettre's async transport (pooled connections, never a
//! blocked worker thread).

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tollgate_engine::runtime::delivery::{DeliveryError, Mail, Mailer};

/// Where mail goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailMode {
    /// Files in a directory, for development.
    #[default]
    Outbox,
    /// An SMTP server.
    Smtp,
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or network.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// `[mail]`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    /// `outbox` or `smtp`.
    pub mode: MailMode,
    /// SMTP server host name (checked against its certificate with TLS).
    pub host: String,
    /// Port; defaults to 25, 587 or 465 by `tls`.
    pub port: Option<u16>,
    /// `none`, `starttls` or `tls`.
    pub tls: SmtpTls,
    /// SMTP user name, if the server wants one.
    pub username: Option<String>,
    /// File holding the SMTP password.
    pub password_file: Option<PathBuf>,
    /// The SMTP password itself (prefer `password_file`).
    pub password: Option<String>,
    /// Sender, e.g. `"Acme <no-reply@acme.example>"`.
    pub from: String,
    /// Outbox directory; defaults to `data_dir/outbox`.
    pub outbox_dir: Option<PathBuf>,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            mode: MailMode::Outbox,
            host: "localhost".into(),
            port: None,
            tls: SmtpTls::Starttls,
            username: None,
            password_file: None,
            password: None,
            from: "Tollgate <no-reply@localhost>".into(),
            outbox_dir: None,
        }
    }
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("mode", &self.mode)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

fn message(from: &Mailbox, mail: &Mail) -> Result<Message, DeliveryError> {
    message_with_id(from, mail, None)
}

/// The message, with the Message-ID `<{id_left}@{the sender's domain}>` when given (lettre
/// makes a random one otherwise).
fn message_with_id(
    from: &Mailbox,
    mail: &Mail,
    id_left: Option<&str>,
) -> Result<Message, DeliveryError> {
    let to: Mailbox = mail
        .to
        .as_str()
        .parse()
        .map_err(|_| DeliveryError("recipient address refused by the mail builder".into()))?;
    let id = id_left.map(|l| format!("<{l}@{}>", from.email.domain()));
    Message::builder()
        .message_id(id)
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())
        .map_err(|e| DeliveryError(format!("cannot build the message: {e}")))
}

/// Writes messages to a directory.
pub struct OutboxMailer {
    dir: PathBuf,
    from: Mailbox,
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        self.write(message(&self.from, mail)?.formatted()).await
    }

    async fn send_identified(&self, mail: &Mail, id_left: &str) -> Result<(), DeliveryError> {
        self.write(message_with_id(&self.from, mail, Some(id_left))?.formatted())
            .await
    }
}

impl OutboxMailer {
    async fn write(&self, bytes: Vec<u8>) -> Result<(), DeliveryError> {
        let name = format!(
            "{}-{}.eml",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0),
            tollgate_engine::crypto::random_token::<6>()
        );
        let path = self.dir.join(name);
        write_whole(&path, &bytes).await?;
        tracing::info!(path = %path.display(), "mail written to the outbox");
        Ok(())
    }
}

/// Writes an outbox file so that it appears whole or not at all: written beside the
/// outbox first, then renamed into it (a reader watching the folder never sees half a
/// message).
pub(crate) async fn write_whole(path: &std::path::Path, bytes: &[u8]) -> Result<(), DeliveryError> {
    let fail = |e: std::io::Error| DeliveryError(format!("cannot write {}: {e}", path.display()));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = path
        .parent()
        .and_then(|dir| dir.parent())
        .unwrap_or_else(|| std::path::Path::new("."))
        .join(format!(".outbox-{name}.part"));
    tokio::fs::write(&staging, bytes).await.map_err(fail)?;
    tokio::fs::rename(&staging, path).await.map_err(fail)
}

/// Sends through an SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        self.send_message(message(&self.from, mail)?).await
    }

    async fn send_identified(&self, mail: &Mail, id_left: &str) -> Result<(), DeliveryError> {
        self.send_message(message_with_id(&self.from, mail, Some(id_left))?)
            .await
    }
}

impl SmtpMailer {
    async fn send_message(&self, msg: Message) -> Result<(), DeliveryError> {
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| DeliveryError(format!("SMTP: {e}")))
    }
}

impl MailConfig {
    /// Checks the settings (at start, before anything is sent).
    pub fn check(&self) -> anyhow::Result<()> {
        self.from
            .parse::<Mailbox>()
            .map_err(|e| anyhow::anyhow!("mail.from {:?} is not an address: {e}", self.from))?;
        if self.mode == MailMode::Smtp {
            anyhow::ensure!(!self.host.is_empty(), "mail.host must name the SMTP server");
        }
        Ok(())
    }

    /// Builds the mailer. Call inside the runtime that will send (the pool lives there).
    pub fn build(&self, data_dir: &Path) -> anyhow::Result<Arc<dyn Mailer>> {
        self.check()?;
        let from: Mailbox = self.from.parse()?;
        match self.mode {
            MailMode::Outbox => {
                let dir = self
                    .outbox_dir
                    .clone()
                    .unwrap_or_else(|| data_dir.join("outbox"));
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
                Ok(Arc::new(OutboxMailer { dir, from }))
            }
            MailMode::Smtp => {
                let builder = match self.tls {
                    SmtpTls::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
                            .port(self.port.unwrap_or(25))
                    }
                    SmtpTls::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host)?
                            .port(self.port.unwrap_or(587))
                    }
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host)?
                        .port(self.port.unwrap_or(465)),
                };
                let mut builder = builder.timeout(Some(Duration::from_secs(20)));
                if let Some(user) = &self.username {
                    let password = match (&self.password, &self.password_file) {
                        (Some(p), _) => p.clone(),
                        (None, Some(f)) => std::fs::read_to_string(f)
                            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?
                            .trim()
                            .to_owned(),
                        (None, None) => anyhow::bail!(
                            "mail.username is set: mail.password_file (or mail.password) must be too"
                        ),
                    };
                    builder = builder.credentials(Credentials::new(user.clone(), password));
                }
                Ok(Arc::new(SmtpMailer {
                    transport: builder.build(),
                    from,
                }))
            }
        }
    }
}
