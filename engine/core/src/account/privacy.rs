//! Data-subject rights: everything Tollgate holds about a user, in one document (GDPR
//! Art. 15 and 20, DPDP Act s. 11). Secrets never leave: no password hash, no TOTP secret,
//! no recovery code hashes, no passkey key material, no token hashes.

use super::Account;
use serde_json::{Value, json};

use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::FactorKind;
use crate::store::EventQuery;

/// Most events an export carries (newest first); older ones are named by a count.
const EXPORT_EVENTS: usize = 10_000;

impl Account<'_> {
    /// The user's data as one JSON document: profile, identifiers, sessions, refresh
    /// chains (the apps signed in), consents, second factors (metadata only) and events.
    pub async fn export_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
        actor: &str,
        meta: &crate::engine::RequestMeta,
    ) -> EngineResult<Value> {
        let t = self.tenant(tenant).await?;
        let store = &self.rt().store;
        let u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let now = self.now();
        let sessions: Vec<Value> = store
            .list_sessions(tenant, user)
            .await?
            .into_iter()
            .filter(|s| s.expires_at > now)
            .map(|s| {
                json!({
                    "sid": s.sid,
                    "signed_in_at": s.auth.auth_time,
                    "methods": s.auth.amr,
                    "created_at": s.created_at,
                    "expires_at": s.expires_at,
                })
            })
            .collect();
        let chains: Vec<Value> = store
            .list_chains(tenant, user)
            .await?
            .into_iter()
            .map(|c| {
                json!({
                    "client_id": c.client_id,
                    "scope": c.scope,
                    "created_at": c.created_at,
                    "last_used_at": c.rotated_at,
                    "expires_at": c.expires_at,
                    "revoked": c.revoked.map(|r| format!("{r:?}").to_lowercase()),
                })
            })
            .collect();
        let consents: Vec<Value> = store
            .list_consents(tenant, user)
            .await?
            .into_iter()
            .map(|c| json!({"client_id": c.client_id, "scopes": c.scopes, "granted_at": c.granted_at}))
            .collect();
        let mut factors: Vec<Value> = Vec::new();
        for f in store.list_factors(tenant, user).await? {
            // A phone number is the user's own data; lookups (credential ids, blind
            // indexes) are not, and stay out.
            let phone = match f.kind {
                FactorKind::Phone => self.signin().factor_phone(&f).await?,
                _ => None,
            };
            factors.push(json!({
                "kind": f.kind.as_str(),
                "label": f.label,
                "phone": phone,
                "created_at": f.created_at,
                "last_used_at": f.last_used_at,
            }));
        }
        let purposes: Vec<Value> = self
            .purpose_grants(tenant, user)
            .await?
            .into_iter()
            .map(|g| {
                json!({
                    "purpose": g.purpose,
                    "notice_version": g.version,
                    "granted": g.granted,
                    "at": g.at,
                    "language": g.language,
                })
            })
            .collect();
        // What identity verification kept (opened): method, time, name match, last four
        // digits, keyed hashes. Never a document, name, date of birth or address: those
        // were never stored.
        let verifications = self.verify().list(tenant, user).await?;
        let mut events = store
            .query_events(
                tenant,
                &EventQuery {
                    user: Some(user.to_string()),
                    limit: EXPORT_EVENTS,
                    ..EventQuery::default()
                },
            )
            .await?;
        self.open_events(&mut events).await?;
        let mut ev = self.event(tenant, "user.exported", true);
        ev.actor = Some(actor.to_owned());
        ev.subject = Some(user.to_string());
        ev.ip = meta.ip.clone();
        self.record_now(ev).await?;
        Ok(json!({
            "format": "tollgate.user-export.v1",
            "exported_at": now,
            "organisation": {"id": t.id, "name": t.display_name, "data_region": t.region},
            "profile": {
                "id": u.id,
                "email": u.email.as_str(),
                "email_verified": u.email_verified,
                "name": u.name,
                "created_at": u.created_at,
                "has_password": u.password_hash.is_some(),
                "fields": u.profile,
            },
            "linked_identities": self.federation().export_links(tenant, user).await?,
            "sessions": sessions,
            "apps": chains,
            "consents": consents,
            "purposes": purposes,
            "consent_receipts": self.consent_receipts(tenant, user).await?,
            "second_factors": factors,
            "verifications": verifications,
            // Grievances filed, with every answer (opened).
            "grievances": self.my_grievances(tenant, user).await?,
            "events": events,
            "events_truncated": events.len() == EXPORT_EVENTS,
        }))
    }
}

/// An app (OAuth client) the user gave access to.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConnectedApp {
    /// Client id.
    pub client_id: crate::ids::ClientId,
    /// Its display name.
    pub name: String,
    /// What the user granted (empty for first-party apps, which need no consent).
    pub scopes: Vec<String>,
    /// Refresh chains (signed-in instances) it holds now.
    pub active_sign_ins: usize,
}

impl Account<'_> {
    /// The apps a user consented to or that hold a live refresh chain of theirs.
    pub async fn connected_apps(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Vec<ConnectedApp>> {
        let store = &self.rt().store;
        let now = self.now();
        let mut apps: std::collections::BTreeMap<String, (Vec<String>, usize)> = Default::default();
        for c in store.list_consents(tenant, user).await? {
            apps.entry(c.client_id.to_string()).or_default().0 = c.scopes;
        }
        for c in store.list_chains(tenant, user).await? {
            if c.revoked.is_none() && c.expires_at > now {
                apps.entry(c.client_id.to_string()).or_default().1 += 1;
            }
        }
        let mut out = Vec::new();
        for (id, (scopes, active)) in apps {
            let client_id = crate::ids::ClientId::parse(&id)?;
            let name = match self.client(tenant, &client_id).await? {
                Some(c) => c.name.clone(),
                None => id.clone(),
            };
            out.push(ConnectedApp {
                client_id,
                name,
                scopes,
                active_sign_ins: active,
            });
        }
        Ok(out)
    }

    /// Removes an app's access: withdraws the consent (it asks again next time) and
    /// revokes every refresh chain it holds for the user, with the access tokens bound to
    /// them.
    pub async fn disconnect_app(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &crate::ids::ClientId,
        meta: &crate::engine::RequestMeta,
    ) -> EngineResult<()> {
        let store = &self.rt().store;
        store.delete_consent(tenant, user, client).await?;
        self.signin()
            .revoke_user_chains(
                tenant,
                user,
                Some(client),
                crate::model::RevokeReason::Revoked,
            )
            .await?;
        let mut ev = self.event(tenant, "consent.withdrawn", true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.client = Some(client.to_string());
        ev.ip = meta.ip.clone();
        self.record_now(ev).await
    }
}

impl Account<'_> {}

impl Account<'_> {
    /// Deletes an account (GDPR Art. 17, DPDP Act s. 12): every session and refresh chain
    /// is revoked first, so tokens die at once even if a later step fails; second factors
    /// and consents go; the user is kept soft-deleted, without a password, until the purge
    /// job removes the row; and a tombstone event says who deleted it.
    pub async fn delete_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
        actor: &str,
        meta: &crate::engine::RequestMeta,
    ) -> EngineResult<()> {
        let mut u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let (sessions, chains) = self
            .signin()
            .sign_out_everywhere(tenant, user, meta)
            .await?;
        let store = &self.rt().store;
        for f in store.list_factors(tenant, user).await? {
            store.delete_factor(tenant, user, &f.id).await?;
        }
        store.delete_purpose_grants(tenant, user).await?;
        store.delete_receipts(tenant, user).await?;
        for c in store.list_consents(tenant, user).await? {
            store.delete_consent(tenant, user, &c.client_id).await?;
        }
        // Linked upstream identities go: they could otherwise sign in to nothing, and the
        // upstream identity is free to sign up again.
        self.federation().delete_user_links(tenant, user).await?;
        // Identity verifications go too (sealed under the key shredded below: unreadable
        // already in any copy).
        self.verify().delete_all(tenant, user).await?;
        // And grievances (sealed likewise).
        self.delete_grievances(tenant, user).await?;
        // A child's record (ids and times only).
        store.delete_child(tenant, user).await?;
        // Memberships of organisations and tenant-wide roles (ids only).
        store.delete_user_memberships(tenant, user).await?;
        // Its SCIM record (attributes sealed under the key shredded below).
        store.delete_scim_user(tenant, user).await?;
        // Destroying the data key is the erasure: the record's personal fields and every
        // event's sealed details, in the store and in its backups, cannot be opened again.
        // The record is sealed once more under a key nobody keeps, so it holds nothing
        // readable even before the purge removes it.
        let old_email_key = self.email_key(tenant, &u.email);
        u.deleted_at = Some(self.now());
        u.password_hash = None;
        u.email_verified = false;
        let throwaway = crate::crypto::MasterKey::from_bytes(crate::crypto::random_bytes::<32>());
        let rec = self.seal_user(&u, &throwaway);
        if !self
            .rt()
            .store
            .soft_delete_user(&rec, &old_email_key)
            .await?
        {
            return Err(EngineError::NotFound("user"));
        }
        self.shred(tenant, user).await?;
        let mut ev = self.event(tenant, "user.deleted", true);
        ev.actor = Some(actor.to_owned());
        ev.subject = Some(user.to_string());
        ev.detail = Some(format!("sessions={sessions} chains={chains}"));
        self.record_now(ev).await
    }
}

/// Deleted users purged per store call.
const PURGE_BATCH: usize = 500;

impl Account<'_> {
    /// Removes the rows of users deleted longer ago than `purge_after_secs`, in every
    /// tenant this node serves; returns how many. Each purge is an event. Safe to run on
    /// several nodes at once: a row is removed once, and the data key is destroyed again
    /// first in case a deletion stopped half-way.
    pub async fn purge_deleted_users(&self) -> EngineResult<usize> {
        let before = self
            .now()
            .saturating_sub(self.rt().config.purge_after_secs)
            .saturating_add(1);
        let mut purged = 0;
        for t in self.rt().store.list_tenants().await? {
            if !self.rt().config.regions.contains(&t.region) {
                continue;
            }
            loop {
                let ids = self
                    .rt()
                    .store
                    .deleted_users(&t.id, before, PURGE_BATCH)
                    .await?;
                let (n, done) = (ids.len(), purged);
                for id in ids {
                    self.shred(&t.id, &id).await?;
                    // Verifications went at deletion; again here in case it stopped
                    // half-way (sealed under the shredded key, they open nothing anyway).
                    self.verify().delete_all(&t.id, &id).await?;
                    self.delete_grievances(&t.id, &id).await?;
                    if self.rt().store.purge_user(&t.id, &id).await? {
                        purged += 1;
                        let mut ev = self.event(&t.id, "user.purged", true);
                        ev.actor = Some("system".into());
                        ev.subject = Some(id.to_string());
                        self.record_now(ev).await?;
                    }
                }
                // A full batch of which nothing could be purged would come back forever.
                if n < PURGE_BATCH || purged == done {
                    break;
                }
            }
        }
        if purged > 0 {
            tracing::info!(users = purged, "purged deleted users");
        }
        Ok(purged)
    }
}
