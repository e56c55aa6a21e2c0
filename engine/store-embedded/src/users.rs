//! Users: [`UserStore`] (records, email claims, the deletion index) and [`UserKeyStore`].

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, decode, io, key, tenant_prefix};
use tollgate_store::{Imported, StoreError, StoreResult, UserKeyStore, UserStore};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::UserRecord;

#[async_trait]
impl UserStore for EmbeddedStore {
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()> {
        let u = user.clone();
        self.write(move |tx| {
            let ek = key(&u.tenant, &[u.email_key.as_bytes()]);
            let uk = key(&u.tenant, &[u.id.as_str().as_bytes()]);
            if tx.get(Ks::Emails, &ek)?.is_some() || tx.get(Ks::Users, &uk)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put(Ks::Emails, ek, u.id.as_str().as_bytes().to_vec());
            tx.put_json(Ks::Users, uk, &u);
            Ok(())
        })
        .await
    }

    /// One commit: every user of the import is written, or (the commit failing) none is.
    async fn create_users(&self, users: &[UserRecord]) -> StoreResult<Vec<Imported>> {
        let users = users.to_vec();
        self.write(move |tx| {
            let mut created = Vec::with_capacity(users.len());
            for u in users {
                let ek = key(&u.tenant, &[u.email_key.as_bytes()]);
                let uk = key(&u.tenant, &[u.id.as_str().as_bytes()]);
                // Reads see this job's own earlier writes, so duplicates within one
                // import are caught too.
                if tx.get(Ks::Emails, &ek)?.is_some() || tx.get(Ks::Users, &uk)?.is_some() {
                    created.push(Imported::Taken);
                    continue;
                }
                tx.put(Ks::Emails, ek, u.id.as_str().as_bytes().to_vec());
                tx.put_json(Ks::Users, uk, &u);
                created.push(Imported::Created);
            }
            Ok(created)
        })
        .await
    }

    async fn update_user(&self, user: &UserRecord) -> StoreResult<bool> {
        let u = user.clone();
        self.write(move |tx| {
            let k = key(&u.tenant, &[u.id.as_str().as_bytes()]);
            match tx.get_json::<UserRecord>(Ks::Users, &k)? {
                Some(cur) if cur.email_key == u.email_key && cur.deleted_at.is_none() => {
                    tx.put_json(Ks::Users, k, &u);
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn get_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<Option<UserRecord>> {
        self.get_json(Ks::Users, &key(tenant, &[id.as_str().as_bytes()]))
    }

    async fn change_user_email(&self, user: &UserRecord, old_email_key: &str) -> StoreResult<bool> {
        let (u, old) = (user.clone(), old_email_key.to_owned());
        // One job: the claim of the new email, the release of the old one and the record
        // commit together or not at all.
        self.write(move |tx| {
            let uk = key(&u.tenant, &[u.id.as_str().as_bytes()]);
            match tx.get_json::<UserRecord>(Ks::Users, &uk)? {
                Some(cur) if cur.email_key == old && cur.deleted_at.is_none() => {}
                _ => return Ok(false),
            }
            let new_k = key(&u.tenant, &[u.email_key.as_bytes()]);
            match tx.get(Ks::Emails, &new_k)? {
                Some(owner) if owner != u.id.as_str().as_bytes() => {
                    return Err(StoreError::Conflict);
                }
                _ => {}
            }
            if old != u.email_key {
                tx.delete(Ks::Emails, key(&u.tenant, &[old.as_bytes()]));
            }
            tx.put(Ks::Emails, new_k, u.id.as_str().as_bytes().to_vec());
            tx.put_json(Ks::Users, uk, &u);
            Ok(true)
        })
        .await
    }

    async fn find_user_by_email(
        &self,
        tenant: &TenantId,
        email_key: &str,
    ) -> StoreResult<Option<UserRecord>> {
        let id = self
            .inner
            .ks(Ks::Emails)
            .get(key(tenant, &[email_key.as_bytes()]))
            .map_err(io)?;
        match id {
            Some(id) => {
                let id = String::from_utf8(id.to_vec())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let u = self.get_user(tenant, &UserId::from_stored(id)).await?;
                Ok(u.filter(|u| u.deleted_at.is_none()))
            }
            None => Ok(None),
        }
    }

    async fn list_users(
        &self,
        tenant: &TenantId,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<UserRecord>> {
        let prefix = tenant_prefix(tenant);
        let lo = match after {
            Some(u) => {
                // Just past the last user returned.
                let mut k = key(tenant, &[u.as_str().as_bytes()]);
                k.push(0);
                k
            }
            None => prefix.clone(),
        };
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::Users).range(lo..) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = kv.into_inner().map_err(io)?;
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(decode(&v)?);
        }
        Ok(out)
    }

    async fn soft_delete_user(&self, user: &UserRecord, old_email_key: &str) -> StoreResult<bool> {
        let (u, old) = (user.clone(), old_email_key.to_owned());
        self.write(move |tx| {
            let k = key(&u.tenant, &[u.id.as_str().as_bytes()]);
            let Some(at) = u.deleted_at else {
                return Err(StoreError::Corrupt("soft delete without deleted_at".into()));
            };
            match tx.get_json::<UserRecord>(Ks::Users, &k)? {
                Some(cur) if cur.deleted_at.is_none() => {}
                _ => return Ok(false),
            }
            let ek = key(&u.tenant, &[old.as_bytes()]);
            if tx.get(Ks::Emails, &ek)?.as_deref() == Some(u.id.as_str().as_bytes()) {
                tx.delete(Ks::Emails, ek);
            }
            tx.put(
                Ks::Deletions,
                key(&u.tenant, &[&at.to_be_bytes(), u.id.as_str().as_bytes()]),
                Vec::new(),
            );
            tx.put_json(Ks::Users, k, &u);
            Ok(true)
        })
        .await
    }

    async fn deleted_users(
        &self,
        tenant: &TenantId,
        before: UnixTime,
        limit: usize,
    ) -> StoreResult<Vec<UserId>> {
        let prefix = tenant_prefix(tenant);
        let mut out = Vec::new();
        for kv in self.inner.ks(Ks::Deletions).prefix(&prefix) {
            let (k, _) = kv.into_inner().map_err(io)?;
            let rest = &k[prefix.len()..];
            let (at, id) = rest.split_at(8.min(rest.len()));
            let at = u64::from_be_bytes(at.try_into().map_err(|_| corrupt_key())?);
            if at >= before || out.len() >= limit {
                break;
            }
            let id = id.strip_prefix(&[0u8][..]).ok_or_else(corrupt_key)?;
            let id = String::from_utf8(id.to_vec()).map_err(|_| corrupt_key())?;
            out.push(UserId::from_stored(id));
        }
        Ok(out)
    }

    async fn purge_user(&self, tenant: &TenantId, id: &UserId) -> StoreResult<bool> {
        let (t, id) = (tenant.clone(), id.clone());
        self.write(move |tx| {
            let k = key(&t, &[id.as_str().as_bytes()]);
            let Some(at) = tx
                .get_json::<UserRecord>(Ks::Users, &k)?
                .and_then(|u| u.deleted_at)
            else {
                return Ok(false);
            };
            tx.delete(Ks::Users, k.clone());
            tx.delete(Ks::UserKeys, k);
            tx.delete(
                Ks::Deletions,
                key(&t, &[&at.to_be_bytes(), id.as_str().as_bytes()]),
            );
            Ok(true)
        })
        .await
    }
}

fn corrupt_key() -> StoreError {
    StoreError::Corrupt("bad deletion index key".into())
}

#[async_trait]
impl UserKeyStore for EmbeddedStore {
    async fn put_user_key(
        &self,
        tenant: &TenantId,
        user: &UserId,
        wrapped: &[u8],
    ) -> StoreResult<()> {
        let (k, w) = (key(tenant, &[user.as_str().as_bytes()]), wrapped.to_vec());
        self.write(move |tx| {
            if tx.get(Ks::UserKeys, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put(Ks::UserKeys, k, w);
            Ok(())
        })
        .await
    }

    async fn get_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Option<Vec<u8>>> {
        let k = key(tenant, &[user.as_str().as_bytes()]);
        Ok(self
            .inner
            .ks(Ks::UserKeys)
            .get(k)
            .map_err(io)?
            .map(|v| v.to_vec()))
    }

    async fn destroy_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let k = key(tenant, &[user.as_str().as_bytes()]);
        self.write(move |tx| {
            tx.delete(Ks::UserKeys, k);
            Ok(())
        })
        .await
    }
}
