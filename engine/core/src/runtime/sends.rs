//! Sends of one-time codes and other unauthenticated writes, limited per recipient, per
//! client address and per tenant, each in its own window, so the forms cannot be used to
//! pump paid SMS (toll fraud) or mail; and the engine's code state (MAC key, limiters,
//! the delivery queue) that every email and phone flow shares.

use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::crypto::MasterKey;
use crate::ids::TenantId;
use crate::runtime::delivery::{Courier, CourierConfig};

/// One limit: at most `max` sends in a window of `window_secs` (0 turns it off).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    /// Sends allowed per window.
    pub max: u32,
    /// Window length, seconds.
    pub window_secs: u64,
}

/// Send limits of one channel (email, or phone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendLimits {
    /// Per recipient (address or number as typed, whether or not an account has it).
    pub recipient: Limit,
    /// Per client address, across tenants.
    pub ip: Limit,
    /// Per tenant.
    pub tenant: Limit,
}

impl SendLimits {
    /// Defaults for phones, where each message costs money.
    pub fn phone() -> Self {
        Self {
            recipient: Limit {
                max: 5,
                window_secs: 3600,
            },
            ip: Limit {
                max: 20,
                window_secs: 3600,
            },
            tenant: Limit {
                max: 1000,
                window_secs: 3600,
            },
        }
    }

    /// Defaults for email.
    pub fn email() -> Self {
        Self {
            recipient: Limit {
                max: 10,
                window_secs: 3600,
            },
            ip: Limit {
                max: 50,
                window_secs: 3600,
            },
            tenant: Limit {
                max: 10_000,
                window_secs: 3600,
            },
        }
    }
}

impl Default for SendLimits {
    fn default() -> Self {
        Self::phone()
    }
}

/// `[otp]`: codes and links by email and phone.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct OtpConfig {
    /// Lifetime of a code or link, seconds.
    pub ttl_secs: u64,
    /// Region (ISO 3166 code, e.g. `IN`) of numbers typed without `+country code`;
    /// without one, numbers must start with `+`.
    pub default_region: Option<String>,
    /// Limits on emailed codes.
    pub email_limits: SendLimits,
    /// Limits on codes sent by SMS or WhatsApp.
    pub phone_limits: SendLimits,
    /// The send queue.
    pub delivery: CourierConfig,
}

impl Default for OtpConfig {
    fn default() -> Self {
        Self {
            ttl_secs: 600,
            default_region: None,
            email_limits: SendLimits::email(),
            phone_limits: SendLimits::phone(),
            delivery: CourierConfig::default(),
        }
    }
}

struct Window {
    count: AtomicU32,
    started: Instant,
}

impl Window {
    /// Counts one send if the window has room.
    fn take(&self, max: u32) -> bool {
        self.count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }
}

struct Windows {
    limit: Limit,
    windows: Cache<String, Arc<Window>>,
}

impl Windows {
    fn new(limit: Limit) -> Self {
        Self {
            limit,
            windows: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(limit.window_secs.max(1)))
                .build(),
        }
    }

    fn get(&self, key: &str) -> Arc<Window> {
        self.windows.get_with(key.to_owned(), || {
            Arc::new(Window {
                count: AtomicU32::new(0),
                started: Instant::now(),
            })
        })
    }

    fn retry_after(&self, w: &Window) -> u64 {
        self.limit
            .window_secs
            .max(1)
            .saturating_sub(w.started.elapsed().as_secs())
            .max(1)
    }
}

/// Send counters of one node, in fixed windows (like the sign-in throttle, each node
/// counts alone).
pub struct SendLimiter {
    recipient: Windows,
    ip: Windows,
    tenant: Windows,
}

impl SendLimiter {
    /// Counters for `limits`.
    pub fn new(limits: &SendLimits) -> Self {
        Self {
            recipient: Windows::new(limits.recipient),
            ip: Windows::new(limits.ip),
            tenant: Windows::new(limits.tenant),
        }
    }

    /// Counts one send, or says how many seconds to wait when any limit is reached (and
    /// then counts nothing).
    pub fn try_send(
        &self,
        tenant: &TenantId,
        recipient: &str,
        ip: Option<&str>,
    ) -> Result<(), u64> {
        let mut keys = vec![
            (&self.recipient, format!("{tenant}/{recipient}")),
            (&self.tenant, tenant.to_string()),
        ];
        if let Some(ip) = ip {
            keys.insert(1, (&self.ip, ip.to_owned()));
        }
        let mut taken: Vec<Arc<Window>> = Vec::new();
        for (windows, key) in keys {
            if windows.limit.max == 0 {
                continue;
            }
            let w = windows.get(&key);
            if !w.take(windows.limit.max) {
                for t in taken {
                    t.count.fetch_sub(1, Ordering::AcqRel);
                }
                return Err(windows.retry_after(&w));
            }
            taken.push(w);
        }
        Ok(())
    }
}

/// Federated sign-ins one client address may start per minute: each writes a pending
/// record before anyone is authenticated, so starts are limited like code sends.
pub const STARTS_PER_MINUTE: u32 = 30;

/// Limits on starting federated sign-ins: per client address, and per tenant.
pub(crate) fn federation_start_limits() -> SendLimits {
    SendLimits {
        recipient: Limit {
            max: 0,
            window_secs: 60,
        },
        ip: Limit {
            max: STARTS_PER_MINUTE,
            window_secs: 60,
        },
        tenant: Limit {
            max: 100 * STARTS_PER_MINUTE,
            window_secs: 60,
        },
    }
}

/// The engine's one-time code state.
pub(crate) struct OtpState {
    pub(crate) mac_key: ring::hmac::Key,
    pub(crate) config: OtpConfig,
    pub(crate) email_limits: SendLimiter,
    pub(crate) phone_limits: SendLimiter,
    pub(crate) courier: OnceLock<Courier>,
    /// The app secret that signs the deployment's WhatsApp number's webhooks.
    pub(crate) whatsapp_app_secret: OnceLock<String>,
    /// The token Meta echoes when that webhook is subscribed.
    pub(crate) whatsapp_verify_token: OnceLock<String>,
}

impl OtpState {
    pub(crate) fn new(config: &OtpConfig, master: &MasterKey) -> Self {
        Self {
            mac_key: ring::hmac::Key::new(
                ring::hmac::HMAC_SHA256,
                &master.derive("tollgate otp codes v1"),
            ),
            config: config.clone(),
            email_limits: SendLimiter::new(&config.email_limits),
            phone_limits: SendLimiter::new(&config.phone_limits),
            courier: OnceLock::new(),
            whatsapp_app_secret: OnceLock::new(),
            whatsapp_verify_token: OnceLock::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_answers_with_its_own_wait() {
        let t = TenantId::parse("acme").unwrap();
        let l = SendLimiter::new(&SendLimits {
            recipient: Limit {
                max: 2,
                window_secs: 60,
            },
            ip: Limit {
                max: 5,
                window_secs: 600,
            },
            tenant: Limit {
                max: 4,
                window_secs: 3600,
            },
        });
        let ip = Some("10.0.0.1");
        assert!(l.try_send(&t, "+15550001", ip).is_ok());
        assert!(l.try_send(&t, "+15550001", ip).is_ok());
        let wait = l.try_send(&t, "+15550001", ip).unwrap_err();
        assert!(wait <= 60 && wait > 0, "recipient window: {wait}");
        assert!(l.try_send(&t, "+15550002", ip).is_ok());
        assert!(l.try_send(&t, "+15550003", ip).is_ok());
        let wait = l.try_send(&t, "+15550004", ip).unwrap_err();
        assert!(wait > 600, "tenant window: {wait}");
        let other = TenantId::parse("other").unwrap();
        assert!(l.try_send(&other, "+15550005", ip).is_ok());
        let wait = l.try_send(&other, "+15550006", ip).unwrap_err();
        assert!(wait > 60 && wait <= 600, "address window: {wait}");
        assert!(l.try_send(&other, "+15550006", Some("10.0.0.2")).is_ok());
    }
}
