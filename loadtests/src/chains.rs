//! The seeded refresh-token chains, shared by concurrent refresh requests.
//!
//! Tollgate rotates refresh tokens and treats a replayed one as theft,
//! revoking the whole chain. So every chain has at most one request in
//! flight, and each request presents the newest token of its chain:
//! [`ChainPool::take`] hands out a free chain as a [`Lease`] (oldest-freed
//! first, so chains are used round-robin), and the lease puts the rotated
//! token back with [`Lease::rotated`]. A lease dropped without being given
//! back retires its chain, because after a timeout or an unexpected answer
//! nobody knows which token of the chain is the newest.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::report::ChainStats;

/// A set of refresh chains, each identified by its index in the seed file.
#[derive(Debug)]
pub struct ChainPool {
    seeded: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Chains with no request in flight, with their newest token.
    free: VecDeque<(usize, String)>,
    retired: usize,
}

impl ChainPool {
    pub fn new(tokens: Vec<String>) -> Arc<Self> {
        Arc::new(Self {
            seeded: tokens.len(),
            inner: Mutex::new(Inner {
                free: tokens.into_iter().enumerate().collect(),
                retired: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the queue inconsistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The chain that has been free longest, or `None` if every chain is
    /// in use (or retired).
    pub fn take(self: &Arc<Self>) -> Option<Lease> {
        let (index, token) = self.lock().free.pop_front()?;
        Some(Lease {
            pool: self.clone(),
            index,
            token: Some(token),
        })
    }

    pub fn stats(&self) -> ChainStats {
        ChainStats {
            seeded: self.seeded,
            retired: self.lock().retired,
        }
    }

    /// The newest token of every chain that is free and not retired, in
    /// seed order. Call once no request is in flight.
    pub fn live_tokens(&self) -> Vec<String> {
        let mut live: Vec<(usize, String)> = self.lock().free.iter().cloned().collect();
        live.sort_by_key(|(i, _)| *i);
        live.into_iter().map(|(_, t)| t).collect()
    }
}

/// Exclusive use of one chain. Give it back with [`Lease::rotated`] or
/// [`Lease::unused`]; dropping it retires the chain.
#[derive(Debug)]
pub struct Lease {
    pool: Arc<ChainPool>,
    index: usize,
    token: Option<String>,
}

impl Lease {
    /// The chain's newest refresh token, to present.
    pub fn token(&self) -> &str {
        self.token.as_deref().expect("present until the lease ends")
    }

    /// The server rotated the chain: `new_token` is its newest token now.
    pub fn rotated(mut self, new_token: String) {
        self.token = None;
        self.pool.lock().free.push_back((self.index, new_token));
    }

    /// The server did not use the token (e.g. it shed the request with
    /// 503): the chain is free again with the same token.
    pub fn unused(mut self) {
        let token = self.token.take().expect("present until the lease ends");
        self.pool.lock().free.push_back((self.index, token));
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.token.is_some() {
            self.pool.lock().retired += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> Arc<ChainPool> {
        ChainPool::new((0..n).map(|i| format!("t{i}")).collect())
    }

    #[test]
    fn hands_out_each_chain_once_round_robin() {
        let p = pool(2);
        let a = p.take().unwrap();
        let b = p.take().unwrap();
        assert_eq!((a.token(), b.token()), ("t0", "t1"));
        assert!(p.take().is_none(), "both chains are in flight");
        a.rotated("t0'".into());
        b.unused();
        // t0 was freed first, so it comes back first.
        let a = p.take().unwrap();
        assert_eq!(a.token(), "t0'");
        a.rotated("t0''".into());
        assert_eq!(p.take().unwrap().token(), "t1");
    }

    #[test]
    fn dropping_a_lease_retires_the_chain() {
        let p = pool(3);
        let a = p.take().unwrap();
        p.take().unwrap().rotated("t1'".into());
        drop(a);
        assert_eq!(
            p.stats(),
            ChainStats {
                seeded: 3,
                retired: 1
            }
        );
        assert_eq!(p.live_tokens(), ["t1'", "t2"]);
        let taken: Vec<_> = std::iter::from_fn(|| p.take()).collect();
        assert_eq!(taken.len(), 2);
    }
}
