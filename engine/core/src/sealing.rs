//! Users' data keys at work: sealing and opening personal data (records, audit event
//! details) under the owner's key, blind indexes for lookups, and crypto-shredding.

use crate::crypto::{MasterKey, b64, b64_decode, random_bytes};
use crate::engine::Engine;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::{Event, User, UserRecord};
use crate::runtime::vault::*;
use crate::store::StoreError;
use std::sync::Arc;

impl Engine {
    fn vault(&self) -> &Vault {
        &self.0.vault
    }

    /// The blind index of a login email in a tenant.
    pub(crate) fn email_key(&self, tenant: &TenantId, email: &Email) -> String {
        self.blind_index(tenant, email.as_str())
    }

    /// A blind index: hex HMAC-SHA-256 of `value` under a per-tenant key, so equal values
    /// are found without storing them, and the same value differs between tenants.
    pub(crate) fn blind_index(&self, tenant: &TenantId, value: &str) -> String {
        let tenant_key = ring::hmac::sign(&self.vault().index, tenant.as_str().as_bytes());
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, tenant_key.as_ref());
        let tag = ring::hmac::sign(&k, value.as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Seals one personal value of a user (a phone number) under its data key.
    pub(crate) fn seal_personal(
        &self,
        tenant: &TenantId,
        user: &UserId,
        key: &MasterKey,
        value: &str,
    ) -> String {
        b64(&key.seal(&record_aad(tenant, user), value.as_bytes()))
    }

    /// Opens what `seal_personal` sealed.
    pub(crate) fn open_personal(
        &self,
        tenant: &TenantId,
        user: &UserId,
        key: &MasterKey,
        sealed: &str,
    ) -> EngineResult<String> {
        let raw = b64_decode(sealed).ok_or_else(|| corrupt("sealed value"))?;
        let plain = key.open(&record_aad(tenant, user), &raw)?;
        String::from_utf8(plain).map_err(|_| corrupt("sealed value"))
    }

    /// A user's data key, or `None` once destroyed.
    pub(crate) async fn data_key(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Option<Arc<MasterKey>>> {
        let ck = (tenant.clone(), user.clone());
        if let Some(k) = self.vault().keys.get(&ck) {
            return Ok(Some(k));
        }
        let Some(wrapped) = self.0.store.get_user_key(tenant, user).await? else {
            return Ok(None);
        };
        let raw = self.vault().wrap.open(&key_aad(tenant, user), &wrapped)?;
        let raw: [u8; 32] = raw.try_into().map_err(|_| corrupt("user key"))?;
        let k = Arc::new(MasterKey::from_bytes(raw));
        self.vault().keys.insert(ck, k.clone());
        Ok(Some(k))
    }

    /// Gives a new user a data key and seals its record under it.
    pub(crate) async fn seal_new_user(&self, user: &User) -> EngineResult<UserRecord> {
        let (k, wrapped) = self.new_data_key(&user.tenant, &user.id);
        self.0
            .store
            .put_user_key(&user.tenant, &user.id, &wrapped)
            .await
            .map_err(|e| match e {
                StoreError::Conflict => EngineError::Conflict("user"),
                e => EngineError::from(e),
            })?;
        self.vault()
            .keys
            .insert((user.tenant.clone(), user.id.clone()), k.clone());
        Ok(self.seal_user(user, &k))
    }

    /// Stores a new user: its data key first, then the record sealed under it;
    /// `Conflict("user")` if the email or id is taken.
    pub(crate) async fn insert_new_user(&self, user: &User) -> EngineResult<()> {
        let record = self.seal_new_user(user).await?;
        if let Err(e) = self.0.store.create_user(&record).await {
            // The key of a user that was never created opens nothing; drop it anyway.
            let _ = self.shred(&user.tenant, &user.id).await;
            return Err(match e {
                StoreError::Conflict => EngineError::Conflict("user"),
                e => EngineError::from(e),
            });
        }
        // The account's dormancy clock starts now.
        self.account().note_created(&user.tenant, &user.id).await
    }

    /// A fresh data key and its wrapped form.
    pub(crate) fn new_data_key(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> (Arc<MasterKey>, Vec<u8>) {
        let raw = random_bytes::<32>();
        let wrapped = self.vault().wrap.seal(&key_aad(tenant, user), &raw);
        (Arc::new(MasterKey::from_bytes(raw)), wrapped)
    }

    /// Seals a user's personal fields under its key.
    pub(crate) fn seal_user(&self, user: &User, key: &MasterKey) -> UserRecord {
        let personal = Personal {
            email: user.email.as_str().to_owned(),
            name: user.name.clone(),
            profile: user.profile.clone(),
        };
        let plain = crate::json::to_vec(&personal);
        UserRecord {
            tenant: user.tenant.clone(),
            id: user.id.clone(),
            email_key: match user.deleted_at {
                Some(_) => String::new(),
                None => self.email_key(&user.tenant, &user.email),
            },
            personal: b64(&key.seal(&record_aad(&user.tenant, &user.id), &plain)),
            email_verified: user.email_verified,
            password_hash: user.password_hash.clone(),
            created_at: user.created_at,
            deleted_at: user.deleted_at,
        }
    }

    /// Opens a live user's record; `None` for a deleted user (its key is gone).
    pub(crate) async fn open_user(&self, rec: UserRecord) -> EngineResult<Option<User>> {
        if rec.deleted_at.is_some() {
            return Ok(None);
        }
        let Some(key) = self.data_key(&rec.tenant, &rec.id).await? else {
            return Ok(None);
        };
        let sealed = b64_decode(&rec.personal).ok_or_else(|| corrupt("user record"))?;
        let plain = key.open(&record_aad(&rec.tenant, &rec.id), &sealed)?;
        let p: Personal = serde_json::from_slice(&plain).map_err(|_| corrupt("user record"))?;
        Ok(Some(User {
            email: Email::parse(&p.email)?,
            tenant: rec.tenant,
            id: rec.id,
            email_verified: rec.email_verified,
            name: p.name,
            profile: p.profile,
            password_hash: rec.password_hash,
            created_at: rec.created_at,
            deleted_at: None,
        }))
    }

    /// Destroys a user's data key, here and in this node's cache.
    pub(crate) async fn shred(&self, tenant: &TenantId, user: &UserId) -> EngineResult<()> {
        self.0.store.destroy_user_key(tenant, user).await?;
        self.vault()
            .keys
            .invalidate(&(tenant.clone(), user.clone()));
        Ok(())
    }

    /// Seals an event's personal details under its owner's key when that key is in memory
    /// (it is, right after the owner signed in); otherwise says whose key to load.
    pub(crate) fn seal_event_cached(&self, event: &mut Event) -> Option<UserId> {
        if event.ip.is_none() && event.detail.is_none() {
            return None;
        }
        let owner = event_owner(event)?;
        match self
            .vault()
            .keys
            .get(&(event.tenant.clone(), owner.clone()))
        {
            Some(k) => {
                seal_event(event, &k);
                None
            }
            None => Some(owner),
        }
    }

    /// Seals an event's personal details under its owner's key, loading it. Without a key
    /// (the owner is deleted) the IP address is dropped: nothing new is kept about them.
    pub(crate) async fn seal_event(&self, event: &mut Event) -> EngineResult<()> {
        if let Some(owner) = self.seal_event_cached(event) {
            match self.data_key(&event.tenant, &owner).await? {
                Some(k) => seal_event(event, &k),
                None => event.ip = None,
            }
        }
        Ok(())
    }

    /// Opens the sealed details of events read back; those of deleted users are marked
    /// `erased`.
    pub async fn open_events(&self, events: &mut [Event]) -> EngineResult<()> {
        for ev in events.iter_mut() {
            let Some(sealed) = ev.sealed.take() else {
                continue;
            };
            let key = match event_owner(ev) {
                Some(owner) => self.data_key(&ev.tenant, &owner).await?,
                None => None,
            };
            let opened = key.and_then(|k| {
                let raw = b64_decode(&sealed)?;
                let plain = k.open(&event_aad(ev), &raw).ok()?;
                serde_json::from_slice::<EventPersonal>(&plain).ok()
            });
            match opened {
                Some(p) => {
                    ev.ip = p.ip;
                    ev.detail = p.detail;
                }
                None => ev.erased = true,
            }
        }
        Ok(())
    }
}

impl Engine {
    /// Reads a user; a deleted one is gone.
    pub async fn user(
        &self,
        tenant: &TenantId,
        id: &crate::ids::UserId,
    ) -> EngineResult<Option<User>> {
        match self.0.store.get_user(tenant, id).await? {
            Some(rec) => self.open_user(rec).await,
            None => Ok(None),
        }
    }

    /// Finds a user by login id; a deleted one is gone.
    pub async fn user_by_email(
        &self,
        tenant: &TenantId,
        email: &Email,
    ) -> EngineResult<Option<User>> {
        let key = self.email_key(tenant, email);
        match self.0.store.find_user_by_email(tenant, &key).await? {
            Some(rec) => self.open_user(rec).await,
            None => Ok(None),
        }
    }

    /// Saves changes to a user's record (not its login id); `false` if the user is gone.
    pub async fn save_user(&self, user: &User) -> EngineResult<bool> {
        let Some(key) = self.data_key(&user.tenant, &user.id).await? else {
            return Ok(false);
        };
        let rec = self.seal_user(user, &key);
        self.0
            .store
            .update_user(&rec)
            .await
            .map_err(EngineError::from)
    }
}
