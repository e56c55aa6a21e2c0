//! The engine's settings: one struct the binary fills from its configuration.

use crate::runtime::password::PasswordConfig;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use url::Url;
use webauthn_rs::prelude::{Webauthn, WebauthnBuilder};

/// How long a passkey ceremony may take, seconds.
pub const CEREMONY_TTL: u64 = 300;
use crate::runtime::shard::ShardConfig;

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Public base URL; a tenant's issuer is `{public_url}/{tenant}`. No trailing slash.
    pub public_url: String,
    /// Authorization code lifetime, seconds.
    pub code_ttl: u64,
    /// Lifetime of a sign-in transaction (the sealed authorization request), seconds.
    pub login_ttl: u64,
    /// Shard sizing.
    pub shards: ShardConfig,
    /// Arbiter threads for shards; 0 means one per core.
    pub arbiters: usize,
    /// Password hashing.
    pub passwords: PasswordConfig,
    /// Failed sign-in limits.
    pub throttle: crate::runtime::throttle::ThrottleConfig,
    /// Residency regions this node serves; a tenant in any other is refused.
    pub regions: Vec<String>,
    /// Passkeys' relying-party id and origin; `None` turns passkeys off.
    pub webauthn: Option<crate::runtime::config::WebauthnConfig>,
    /// One-time codes and links by email and phone.
    pub otp: crate::runtime::sends::OtpConfig,
    /// How long a deleted user's (unreadable) row is kept before the purge job removes
    /// it, seconds.
    pub purge_after_secs: u64,
    /// How often a node compares a tenant's key ring with the store, seconds: a rotation
    /// or revocation made on another node is served here within this time.
    pub key_check_secs: u64,
    /// Back-channel logout: how logout tokens are delivered and retried.
    pub logout: LogoutConfig,
}

impl EngineConfig {
    /// Defaults for `public_url` (passkeys bound to its host, when it is a domain).
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            code_ttl: 60,
            login_ttl: 600,
            shards: ShardConfig::default(),
            arbiters: 0,
            passwords: PasswordConfig::default(),
            throttle: crate::runtime::throttle::ThrottleConfig::default(),
            regions: vec![crate::model::DEFAULT_REGION.to_owned()],
            webauthn: crate::runtime::config::WebauthnConfig::from_public_url(public_url),
            otp: crate::runtime::sends::OtpConfig::default(),
            purge_after_secs: 30 * 86_400,
            key_check_secs: 5,
            logout: Default::default(),
        }
    }
}

/// Where passkeys are bound. Credentials are tied to `rp_id` for good: changing it
/// orphans every passkey registered under the old one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebauthnConfig {
    /// The relying-party id: a domain, the public host or a parent of it (`localhost` in
    /// development).
    pub rp_id: String,
    /// The origin browsers show the pages on (`https://id.example.com`), port included.
    pub origin: String,
}

impl WebauthnConfig {
    /// The public URL's host and origin, or `None` when its host is an IP address
    /// (WebAuthn needs a domain: passkeys are then off unless configured).
    pub fn from_public_url(public_url: &str) -> Option<Self> {
        let url = Url::parse(public_url).ok()?;
        let rp_id = url.domain()?.to_owned();
        Some(Self {
            rp_id,
            origin: url.origin().ascii_serialization(),
        })
    }

    /// Refuses an origin that is not a URL, or an rp id that is not its host or a parent
    /// domain of it.
    pub fn check(&self) -> Result<(), String> {
        self.site("check").map(|_| ())
    }

    pub(crate) fn site(&self, rp_name: &str) -> Result<Webauthn, String> {
        let origin = Url::parse(&self.origin)
            .map_err(|e| format!("webauthn origin {:?} is not a URL: {e}", self.origin))?;
        WebauthnBuilder::new(&self.rp_id, &origin)
            .and_then(|b| {
                b.rp_name(rp_name)
                    .timeout(Duration::from_secs(CEREMONY_TTL))
                    .build()
            })
            .map_err(|_| {
                format!(
                    "webauthn rp_id {:?} must be the host of origin {:?} or a parent domain of it",
                    self.rp_id, self.origin
                )
            })
    }
}

/// `[logout]`: how logout tokens are delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogoutConfig {
    /// How often the sender reads the outbox at the least, seconds. It also wakes when
    /// this node queues a token, and when a retry it scheduled is due; the poll finds
    /// what other nodes queued and could not send, and what a restart left.
    pub poll_secs: u64,
    /// The first retry waits about this long, seconds; each further one twice as long.
    pub retry_base_secs: u64,
    /// The longest wait between two attempts, seconds.
    pub retry_max_secs: u64,
    /// A delivery still failing this long after it was queued is given up, seconds.
    pub give_up_after_secs: u64,
    /// How long a node holds a delivery it claimed before another may, seconds.
    pub lease_secs: u64,
    /// Logout tokens' lifetime (`exp` - `iat`), seconds.
    pub token_ttl_secs: u64,
    /// Deliveries sent at once.
    pub concurrency: usize,
    /// Most deliveries read per tenant per pass.
    pub batch: usize,
}

impl Default for LogoutConfig {
    fn default() -> Self {
        Self {
            poll_secs: 30,
            retry_base_secs: 5,
            retry_max_secs: 3_600,
            give_up_after_secs: 2 * 86_400,
            lease_secs: 60,
            token_ttl_secs: 120,
            concurrency: 16,
            batch: 512,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_from_the_public_url() {
        let c = WebauthnConfig::from_public_url("https://id.example.com/").unwrap();
        assert_eq!(c.rp_id, "id.example.com");
        assert_eq!(c.origin, "https://id.example.com");
        c.check().unwrap();
        let c = WebauthnConfig::from_public_url("http://localhost:8080").unwrap();
        assert_eq!(c.origin, "http://localhost:8080");
        // An IP address cannot be a relying-party id.
        assert!(WebauthnConfig::from_public_url("http://127.0.0.1:8080").is_none());
        let parent = WebauthnConfig {
            rp_id: "example.com".into(),
            origin: "https://id.example.com".into(),
        };
        parent.check().unwrap();
        let foreign = WebauthnConfig {
            rp_id: "other.com".into(),
            origin: "https://id.example.com".into(),
        };
        assert!(foreign.check().is_err());
    }
}
