//! Brute-force protection for password sign-in: failures are counted per account and per
//! client address in a fixed window; past the limit, sign-in answers "too many attempts"
//! (429 with Retry-After) without checking the password.
//!
//! Accounts are keyed by the normalised email as typed, whether or not it exists, so the
//! throttle itself does not reveal which accounts exist. Counts live in this node's memory:
//! with several gateway nodes each enforces its own limit.

use moka::sync::Cache;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::ids::TenantId;

/// Limits on failed sign-ins.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottleConfig {
    /// Failed sign-ins per account in a window before it is throttled (0 turns it off).
    pub account_failures: u32,
    /// Failed sign-ins per client address in a window (0 turns it off).
    pub ip_failures: u32,
    /// Window length, seconds.
    pub window_secs: u64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            account_failures: 10,
            ip_failures: 100,
            window_secs: 900,
        }
    }
}

struct Window {
    failures: AtomicU32,
    started: Instant,
}

/// The failure counters of one node.
pub struct LoginThrottle {
    config: ThrottleConfig,
    // Keyed by (tenant, "a:" + email) or (tenant, "i:" + address); an entry lives one window.
    windows: Cache<(TenantId, String), Arc<Window>>,
}

impl LoginThrottle {
    /// Counters for `config`.
    pub fn new(config: ThrottleConfig) -> Self {
        let window = Duration::from_secs(config.window_secs.max(1));
        Self {
            windows: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(window)
                .build(),
            config,
        }
    }

    fn keys(
        tenant: &TenantId,
        account: &str,
        ip: Option<&str>,
    ) -> [Option<((TenantId, String), u32)>; 2] {
        [
            Some(((tenant.clone(), format!("a:{account}")), 0)),
            ip.map(|ip| ((tenant.clone(), format!("i:{ip}")), 1)),
        ]
    }

    fn limit(&self, which: u32) -> u32 {
        if which == 0 {
            self.config.account_failures
        } else {
            self.config.ip_failures
        }
    }

    /// Seconds until sign-in is allowed again, if the account or address is throttled.
    pub fn check(&self, tenant: &TenantId, account: &str, ip: Option<&str>) -> Option<u64> {
        let window = self.config.window_secs.max(1);
        Self::keys(tenant, account, ip)
            .into_iter()
            .flatten()
            .filter_map(|(k, which)| {
                let limit = self.limit(which);
                let w = self.windows.get(&k)?;
                (limit > 0 && w.failures.load(Ordering::Relaxed) >= limit)
                    .then(|| window.saturating_sub(w.started.elapsed().as_secs()).max(1))
            })
            .max()
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, tenant: &TenantId, account: &str, ip: Option<&str>) {
        for (k, _) in Self::keys(tenant, account, ip).into_iter().flatten() {
            let w = self.windows.get_with(k, || {
                Arc::new(Window {
                    failures: AtomicU32::new(0),
                    started: Instant::now(),
                })
            });
            w.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A successful sign-in clears the account's count (not the address's).
    pub fn succeeded(&self, tenant: &TenantId, account: &str) {
        self.windows
            .invalidate(&(tenant.clone(), format!("a:{account}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_addresses_are_throttled_separately() {
        let t = TenantId::parse("acme").unwrap();
        let th = LoginThrottle::new(ThrottleConfig {
            account_failures: 3,
            ip_failures: 5,
            window_secs: 900,
        });
        for _ in 0..3 {
            assert_eq!(th.check(&t, "a@x.example", Some("10.0.0.1")), None);
            th.failed(&t, "a@x.example", Some("10.0.0.1"));
        }
        let wait = th
            .check(&t, "a@x.example", Some("10.0.0.9"))
            .expect("account throttled");
        assert!(wait > 0 && wait <= 900);
        assert_eq!(
            th.check(&t, "b@x.example", Some("10.0.0.1")),
            None,
            "address not yet at its limit"
        );
        assert_eq!(
            th.check(&TenantId::parse("other").unwrap(), "a@x.example", None),
            None,
            "tenants share counts"
        );
        for _ in 0..2 {
            th.failed(&t, "c@x.example", Some("10.0.0.1"));
        }
        assert!(
            th.check(&t, "d@x.example", Some("10.0.0.1")).is_some(),
            "address throttled after 5"
        );
        th.succeeded(&t, "a@x.example");
        assert_eq!(th.check(&t, "a@x.example", Some("10.0.0.9")), None);
    }
}
