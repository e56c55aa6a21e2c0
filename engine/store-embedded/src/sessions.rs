//! Sign-in state that expires: [`SessionStore`] and [`DenyListStore`].

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use tollgate_store::{DenyListStore, SessionChange, SessionStore, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::{Hash32, Session};

#[async_trait]
impl SessionStore for EmbeddedStore {
    async fn put_session(&self, session: &Session) -> StoreResult<()> {
        let s = session.clone();
        self.write(move |tx| {
            let by_user = key(&s.tenant, &[s.user_id.as_str().as_bytes(), &s.key.0]);
            tx.put_expiring(Ks::SessionsByUser, by_user, &s.key, s.expires_at);
            tx.put_expiring(Ks::Sessions, key(&s.tenant, &[&s.key.0]), &s, s.expires_at);
            Ok(())
        })
        .await
    }

    async fn get_session(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<Session>> {
        self.get_json(Ks::Sessions, &key(tenant, &[&k.0]))
    }

    async fn delete_session(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<Session>> {
        let k = key(tenant, &[&k.0]);
        self.write(move |tx| {
            let old: Option<Session> = tx.get_json(Ks::Sessions, &k)?;
            if let Some(s) = &old {
                tx.delete(
                    Ks::SessionsByUser,
                    key(&s.tenant, &[s.user_id.as_str().as_bytes(), &s.key.0]),
                );
                tx.delete(Ks::Sessions, k);
            }
            Ok(old)
        })
        .await
    }

    async fn update_session(
        &self,
        tenant: &TenantId,
        k: &Hash32,
        change: SessionChange,
    ) -> StoreResult<Option<Session>> {
        let k = key(tenant, &[&k.0]);
        self.write(move |tx| {
            let Some(mut s) = tx.get_json::<Session>(Ks::Sessions, &k)? else {
                return Ok(None);
            };
            if change(&mut s) {
                tx.put_expiring(Ks::Sessions, k, &s, s.expires_at);
            }
            Ok(Some(s))
        })
        .await
    }

    async fn list_sessions(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Session>> {
        let keys: Vec<Hash32> = self.scan_json(
            Ks::SessionsByUser,
            &key(tenant, &[user.as_str().as_bytes(), b""]),
        )?;
        let mut out = Vec::new();
        for k in keys {
            if let Some(s) = self.get_json::<Session>(Ks::Sessions, &key(tenant, &[&k.0]))? {
                out.push(s);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl DenyListStore for EmbeddedStore {
    async fn deny_token(
        &self,
        tenant: &TenantId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<()> {
        let k = key(tenant, &[jti.as_bytes()]);
        self.write(move |tx| {
            tx.put_expiring(Ks::Denied, k, &expires_at, expires_at);
            Ok(())
        })
        .await
    }

    async fn is_token_denied(&self, tenant: &TenantId, jti: &str) -> StoreResult<bool> {
        Ok(self
            .inner
            .ks(Ks::Denied)
            .contains_key(key(tenant, &[jti.as_bytes()]))
            .map_err(io)?)
    }
}
