//! Brute-force protection for password sign-in: failures are counted per account and per
//! client address in a fixed window; past the limit, sign-in answers "too many attempts"
//! (429 with Retry-After) without checking the password. An attempt takes its place in
//! the counts before the password is checked ([`LoginThrottle::reserve`]), so a burst of
//! concurrent guesses cannot all slip in before the first failure is counted.
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
                (limit > 0 && w.failures.load(Ordering::Acquire) >= limit)
                    .then(|| window.saturating_sub(w.started.elapsed().as_secs()).max(1))
            })
            .max()
    }

    /// Takes a place for one attempt before the secret is checked: the counts go up now,
    /// so concurrent attempts cannot all pass before the first failure is counted. Past
    /// a limit, the place is given back and the answer is the seconds to wait.
    pub fn reserve(
        &self,
        tenant: &TenantId,
        account: &str,
        ip: Option<&str>,
    ) -> Result<Attempt<'_>, u64> {
        let window = self.config.window_secs.max(1);
        let mut taken = Vec::with_capacity(2);
        let mut wait = None;
        for (k, which) in Self::keys(tenant, account, ip).into_iter().flatten() {
            let w = self.windows.get_with(k.clone(), || {
                Arc::new(Window {
                    failures: AtomicU32::new(0),
                    started: Instant::now(),
                })
            });
            let before = w.failures.fetch_add(1, Ordering::AcqRel);
            let limit = self.limit(which);
            if limit > 0 && before >= limit {
                let left = window.saturating_sub(w.started.elapsed().as_secs()).max(1);
                wait = Some(wait.map_or(left, |x: u64| x.max(left)));
            }
            taken.push((k, w));
        }
        let attempt = Attempt {
            throttle: self,
            taken,
            settled: false,
        };
        match wait {
            // Dropping the attempt gives its places back.
            Some(w) => Err(w),
            None => Ok(attempt),
        }
    }
}

/// One attempt's place in the counts (see [`LoginThrottle::reserve`]). Settle it with
/// [`Attempt::failed`] or [`Attempt::succeeded`]; dropped unsettled (the secret could
/// not be checked, say the hashing pool was full), it gives its places back.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    taken: Vec<((TenantId, String), Arc<Window>)>,
    settled: bool,
}

impl Attempt<'_> {
    /// The secret was wrong: the attempt stays counted.
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The secret was right: the account's count is cleared, and the address keeps no
    /// count for this attempt.
    pub fn succeeded(mut self) {
        self.settled = true;
        for ((tenant, key), w) in &self.taken {
            if key.starts_with("a:") {
                self.throttle
                    .windows
                    .invalidate(&(tenant.clone(), key.clone()));
            } else {
                give_back(w);
            }
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            for (_, w) in &self.taken {
                give_back(w);
            }
        }
    }
}

fn give_back(w: &Window) {
    let _ = w
        .failures
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
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
            th.reserve(&t, "a@x.example", Some("10.0.0.1"))
                .expect("under the limit")
                .failed();
        }
        let wait = th
            .reserve(&t, "a@x.example", Some("10.0.0.9"))
            .err()
            .expect("account throttled");
        assert!(wait > 0 && wait <= 900);
        assert!(
            th.check(&t, "b@x.example", Some("10.0.0.1")).is_none(),
            "address not yet at its limit"
        );
        assert!(
            th.check(&TenantId::parse("other").unwrap(), "a@x.example", None)
                .is_none(),
            "tenants share counts"
        );
        for _ in 0..2 {
            th.reserve(&t, "c@x.example", Some("10.0.0.1"))
                .unwrap()
                .failed();
        }
        assert!(
            th.reserve(&t, "d@x.example", Some("10.0.0.1")).is_err(),
            "address throttled after 5"
        );
        // A success clears the account; a refused attempt took nothing.
        th.windows.run_pending_tasks();
        let a = TenantId::parse("fresh").unwrap();
        th.reserve(&a, "e@x.example", None).unwrap().failed();
        th.reserve(&a, "e@x.example", None).unwrap().succeeded();
        for _ in 0..3 {
            th.reserve(&a, "e@x.example", None).unwrap().failed();
        }
        assert!(th.reserve(&a, "e@x.example", None).is_err());
    }

    #[test]
    fn concurrent_attempts_cannot_all_pass_before_one_fails() {
        let t = TenantId::parse("acme").unwrap();
        let th = LoginThrottle::new(ThrottleConfig {
            account_failures: 3,
            ip_failures: 0,
            window_secs: 900,
        });
        // Twenty attempts in flight at once (none has failed yet): three get a place.
        let held: Vec<_> = (0..20)
            .filter_map(|_| th.reserve(&t, "a@x.example", None).ok())
            .collect();
        assert_eq!(held.len(), 3);
        // An attempt that could not be checked gives its place back.
        drop(held);
        let again: Vec<_> = (0..20)
            .filter_map(|_| th.reserve(&t, "a@x.example", None).ok())
            .collect();
        assert_eq!(again.len(), 3);
    }
}
