//! Keyspaces and encoding: what lives where, the open database, key layouts and values.

use fjall::{Database, Keyspace};
use serde::Serialize;
use serde::de::DeserializeOwned;

use tollgate_store::{StoreError, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{ChainId, TenantId};
use tollgate_vocab::model::{Chain, Event, Hash32};

/// The keyspaces, by a small number used in the expiry index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(super) enum Ks {
    Tenants = 0,
    Clients = 1,
    Users = 2,
    Emails = 3,
    Sessions = 4,
    Codes = 5,
    Chains = 6,
    Tokens = 7,
    Keys = 8,
    Consents = 9,
    Denied = 10,
    Events = 11,
    Expiry = 12,
    Factors = 13,
    FactorLookup = 14,
    Challenges = 15,
    EventsByUser = 16,
    SessionsByUser = 17,
    ChainsByUser = 18,
    UserKeys = 19,
    Deletions = 20,
    PrivacySettings = 21,
    PurposeGrants = 22,
    Connectors = 23,
    Links = 24,
    LinksByUser = 25,
    LogoutOutbox = 26,
    Verifications = 27,
    Activity = 28,
    ConsentReceipts = 29,
    Grievances = 30,
    Children = 31,
    Breaches = 32,
    Orgs = 35,
    ScimUsers = 42,
    ScimExternal = 43,
    Domains = 48,
}

pub(super) const ALL_KS: [(Ks, &str); 37] = [
    (Ks::Tenants, "tenants"),
    (Ks::Clients, "clients"),
    (Ks::Users, "users"),
    (Ks::Emails, "emails"),
    (Ks::Sessions, "sessions"),
    (Ks::Codes, "codes"),
    (Ks::Chains, "chains"),
    (Ks::Tokens, "tokens"),
    (Ks::Keys, "keys"),
    (Ks::Consents, "consents"),
    (Ks::Denied, "denied"),
    (Ks::Events, "events"),
    (Ks::Expiry, "expiry"),
    (Ks::Factors, "factors"),
    (Ks::FactorLookup, "factor_lookup"),
    (Ks::Challenges, "challenges"),
    (Ks::EventsByUser, "events_by_user"),
    (Ks::SessionsByUser, "sessions_by_user"),
    (Ks::ChainsByUser, "chains_by_user"),
    (Ks::UserKeys, "user_keys"),
    (Ks::Deletions, "deletions"),
    (Ks::PrivacySettings, "privacy_settings"),
    (Ks::PurposeGrants, "purpose_grants"),
    (Ks::Connectors, "connectors"),
    (Ks::Links, "links"),
    (Ks::LinksByUser, "links_by_user"),
    (Ks::LogoutOutbox, "logout_outbox"),
    (Ks::Verifications, "verifications"),
    (Ks::Activity, "activity"),
    (Ks::ConsentReceipts, "consent_receipts"),
    (Ks::Grievances, "grievances"),
    (Ks::Children, "children"),
    (Ks::Breaches, "breaches"),
    (Ks::Orgs, "orgs"),
    (Ks::ScimUsers, "scim_users"),
    (Ks::ScimExternal, "scim_external"),
    (Ks::Domains, "org_domains"),
];

pub(super) struct Inner {
    pub(super) db: Database,
    pub(super) ks: Vec<Keyspace>,
}

impl Inner {
    pub(super) fn ks(&self, k: Ks) -> &Keyspace {
        &self.ks[KS_POSITION[k as usize]]
    }
}

/// Where each keyspace is in [`ALL_KS`] (and so in `Inner::ks`), by its number: numbers
/// may leave gaps (each part of the code takes a range of its own).
const KS_POSITION: [usize; 256] = {
    let mut pos = [usize::MAX; 256];
    let mut i = 0;
    while i < ALL_KS.len() {
        pos[ALL_KS[i].0 as usize] = i;
        i += 1;
    }
    pos
};

pub(super) fn io(e: fjall::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(super) fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    tollgate_vocab::json::to_vec(v)
}

pub(super) fn decode<T: DeserializeOwned>(v: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// `tenant \0 part \0 part …`. Tenant ids cannot contain NUL, so prefixes never collide.
pub(super) fn key(tenant: &TenantId, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(64);
    k.extend_from_slice(tenant.as_str().as_bytes());
    for p in parts {
        k.push(0);
        k.extend_from_slice(p);
    }
    k
}

pub(super) fn tenant_prefix(tenant: &TenantId) -> Vec<u8> {
    let mut k = tenant.as_str().as_bytes().to_vec();
    k.push(0);
    k
}

pub(super) fn expiry_key(at: UnixTime, ks: Ks, k: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + k.len());
    out.extend_from_slice(&at.to_be_bytes());
    out.push(ks as u8);
    out.extend_from_slice(k);
    out
}

pub(super) fn ks_from_u8(b: u8) -> Option<Ks> {
    ALL_KS.iter().map(|(k, _)| *k).find(|k| *k as u8 == b)
}

pub(super) fn event_key(e: &Event) -> Vec<u8> {
    key(&e.tenant, &[&e.at_ms.to_be_bytes(), e.id.as_bytes()])
}

/// Index entries that find an event by its actor and by its subject.
pub(super) fn event_user_keys(e: &Event) -> Vec<Vec<u8>> {
    let mut users: Vec<&str> = e
        .actor
        .iter()
        .chain(e.subject.iter())
        .map(String::as_str)
        .collect();
    users.dedup();
    users
        .into_iter()
        .map(|u| {
            key(
                &e.tenant,
                &[u.as_bytes(), &e.at_ms.to_be_bytes(), e.id.as_bytes()],
            )
        })
        .collect()
}

pub(super) fn chain_user_key(c: &Chain) -> Vec<u8> {
    key(
        &c.tenant,
        &[c.user_id.as_str().as_bytes(), c.id.as_str().as_bytes()],
    )
}

pub(super) fn token_key(tenant: &TenantId, chain: &ChainId, hash: &Hash32) -> Vec<u8> {
    key(tenant, &[chain.as_str().as_bytes(), &hash.0])
}
