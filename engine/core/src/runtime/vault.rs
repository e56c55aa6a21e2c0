//! Personal data under per-user keys, so that erasure reaches every copy (crypto-shredding).
//!
//! Each user gets a random 256-bit data key, stored wrapped (AES-256-GCM under a key
//! derived from the master key) apart from the user's record. The record holds the
//! personal fields (email, name, profile) sealed under that key, and events about the
//! user hold their IP address and detail sealed under it too. The login email is found
//! through a blind index: an HMAC under a per-tenant key, never the address itself.
//! Deleting the account destroys the data key, after which the sealed fields in the
//! record, in the append-only log and in any backup of either cannot be opened.

use std::collections::BTreeMap;
use std::sync::Arc;

use moka::sync::Cache;
use serde::{Deserialize, Serialize};

use crate::crypto::{MasterKey, b64};
use crate::error::EngineError;
use crate::ids::{TenantId, UserId};
use crate::model::Event;

/// Data keys kept in memory; a sign-in needs its user's key twice (record and event).
const CACHED_KEYS: u64 = 200_000;

/// The user keys' wrapping key, the blind index key and the cache of unwrapped keys.
pub(crate) struct Vault {
    pub(crate) wrap: MasterKey,
    pub(crate) index: ring::hmac::Key,
    pub(crate) keys: Cache<(TenantId, UserId), Arc<MasterKey>>,
}

impl Vault {
    pub(crate) fn new(master: &MasterKey) -> Self {
        Self {
            wrap: MasterKey::from_bytes(master.derive("user-data-keys")),
            index: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &master.derive("email-index")),
            keys: Cache::builder()
                .max_capacity(CACHED_KEYS)
                // Bounds how long another node may still open a user deleted here.
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
        }
    }
}

/// What is sealed in a user record.
#[derive(Serialize, Deserialize)]
pub(crate) struct Personal {
    pub(crate) email: String,
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) profile: BTreeMap<String, String>,
}

/// What is sealed in an event.
#[derive(Serialize, Deserialize)]
pub(crate) struct EventPersonal {
    pub(crate) ip: Option<String>,
    pub(crate) detail: Option<String>,
}

pub(crate) fn key_aad(tenant: &TenantId, user: &UserId) -> Vec<u8> {
    format!("user-key/{tenant}/{user}").into_bytes()
}

pub(crate) fn record_aad(tenant: &TenantId, user: &UserId) -> Vec<u8> {
    format!("user/{tenant}/{user}").into_bytes()
}

pub(crate) fn event_aad(event: &Event) -> Vec<u8> {
    format!("event/{}/{}", event.tenant, event.id).into_bytes()
}

/// The user an event is about, whose key seals its details: the subject, else an actor
/// that is a user (not `admin` or `system`).
pub(crate) fn event_owner(event: &Event) -> Option<UserId> {
    let id = event.subject.as_deref().or(event
        .actor
        .as_deref()
        .filter(|a| !matches!(*a, "admin" | "system")))?;
    Some(UserId::from_stored(id.to_owned()))
}

pub(crate) fn corrupt(what: &str) -> EngineError {
    EngineError::Internal(format!("unreadable {what}"))
}

pub(crate) fn seal_event(event: &mut Event, key: &MasterKey) {
    let p = EventPersonal {
        ip: event.ip.take(),
        detail: event.detail.take(),
    };
    let plain = crate::json::to_vec(&p);
    event.sealed = Some(b64(&key.seal(&event_aad(event), &plain)));
}
