//! The group-commit writer: one thread runs every write job and commits each batch at once.

use fjall::PersistMode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;

use std::time::{Duration, Instant};
use tollgate_store::BatchObserver;

use crate::keyspaces::{Inner, Ks, decode, encode, event_key, event_user_keys, expiry_key, io};
use tollgate_store::StoreResult;
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::model::Event;

pub(super) type Completion = Box<dyn FnOnce(StoreResult<()>) + Send>;
pub(super) type Job = Box<dyn FnOnce(&mut Txn<'_>) -> (bool, Completion) + Send>;

/// A write job's view: reads see what earlier jobs of the same batch wrote.
pub(crate) struct Txn<'a> {
    inner: &'a Inner,
    overlay: &'a HashMap<(Ks, Vec<u8>), Option<Vec<u8>>>,
    staged: Vec<(Ks, Vec<u8>, Option<Vec<u8>>)>,
}

impl Txn<'_> {
    pub(super) fn get(&self, ks: Ks, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        if let Some((_, _, v)) = self
            .staged
            .iter()
            .rev()
            .find(|(k, kk, _)| *k == ks && kk == key)
        {
            return Ok(v.clone());
        }
        if let Some(v) = self.overlay.get(&(ks, key.to_vec())) {
            return Ok(v.clone());
        }
        Ok(self.inner.ks(ks).get(key).map_err(io)?.map(|v| v.to_vec()))
    }

    pub(super) fn get_json<T: DeserializeOwned>(
        &self,
        ks: Ks,
        key: &[u8],
    ) -> StoreResult<Option<T>> {
        self.get(ks, key)?.map(|v| decode(&v)).transpose()
    }

    pub(super) fn put(&mut self, ks: Ks, key: Vec<u8>, value: Vec<u8>) {
        self.staged.push((ks, key, Some(value)));
    }

    pub(super) fn put_json<T: Serialize>(&mut self, ks: Ks, key: Vec<u8>, value: &T) {
        self.put(ks, key, encode(value));
    }

    /// Writes a row and indexes its expiry for the sweeper.
    pub(super) fn put_expiring<T: Serialize>(
        &mut self,
        ks: Ks,
        key: Vec<u8>,
        value: &T,
        expires_at: UnixTime,
    ) {
        self.put(Ks::Expiry, expiry_key(expires_at, ks, &key), Vec::new());
        self.put_json(ks, key, value);
    }

    pub(super) fn delete(&mut self, ks: Ks, key: Vec<u8>) {
        self.staged.push((ks, key, None));
    }
}

pub(super) fn writer_loop(
    inner: Arc<Inner>,
    rx: crossbeam_channel::Receiver<Job>,
    events_rx: crossbeam_channel::Receiver<Box<Event>>,
    max_batch: usize,
    linger: Duration,
    observer: Option<Arc<dyn BatchObserver>>,
) {
    let mut overlay = HashMap::new();
    let mut pending: Vec<Box<Event>> = Vec::new();
    let mut open = true;
    while open {
        let started = Instant::now();
        let mut jobs = Vec::new();
        if pending.is_empty() {
            crossbeam_channel::select! {
                recv(rx) -> j => match j {
                    Ok(j) => jobs.push(j),
                    Err(_) => open = false,
                },
                recv(events_rx) -> e => match e {
                    Ok(e) => pending.push(e),
                    Err(_) => open = false,
                },
            }
        }
        if open && jobs.is_empty() && !pending.is_empty() {
            match rx.recv_timeout(linger) {
                Ok(j) => jobs.push(j),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => open = false,
            }
        }
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        pending.extend(events_rx.try_iter());
        if jobs.is_empty() && pending.is_empty() {
            continue;
        }
        overlay.clear();
        let mut batch = inner.db.batch().durability(Some(PersistMode::SyncData));
        let mut completions = Vec::with_capacity(jobs.len());
        let n = jobs.len();
        for job in jobs {
            let mut txn = Txn {
                inner: &inner,
                overlay: &overlay,
                staged: Vec::new(),
            };
            // A panicking job must not take the writer (and every later write) with it.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut txn)));
            let staged = std::mem::take(&mut txn.staged);
            match outcome {
                Ok((ok, done)) => {
                    if ok {
                        for (ks, k, v) in staged {
                            match &v {
                                Some(val) => batch.insert(inner.ks(ks), k.clone(), val.clone()),
                                None => batch.remove(inner.ks(ks), k.clone()),
                            }
                            overlay.insert((ks, k), v);
                        }
                    }
                    completions.push(done);
                }
                Err(_) => tracing::error!("a store write job panicked; its writes were dropped"),
            }
        }
        let events = pending.len();
        for e in pending.drain(..) {
            for ik in event_user_keys(&e) {
                batch.insert(inner.ks(Ks::EventsByUser), ik, event_key(&e));
            }
            batch.insert(inner.ks(Ks::Events), event_key(&e), encode(&*e));
        }
        let result = batch.commit().map_err(io);
        if let Err(e) = &result {
            tracing::error!(error = %e, events, "store batch commit failed");
        }
        if let Some(o) = &observer {
            o.batch_committed(n, started.elapsed().as_secs_f64());
        }
        for done in completions {
            done(result.clone());
        }
    }
}
