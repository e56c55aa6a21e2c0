//! [`SessionStore`]: SSO sessions and their per-user index, expiring by TTL.

use async_trait::async_trait;

use crate::rows::{decode, encode, ttl_until};
use crate::{LWT_ATTEMPTS, ScyllaStore};
use tollgate_store::{SessionChange, SessionStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::{Hash32, Session};

#[async_trait]
impl SessionStore for ScyllaStore {
    async fn put_session(&self, session: &Session) -> StoreResult<()> {
        // Already expired: nothing to keep (a sweep would remove it at once).
        let Some(ttl) = ttl_until(session.expires_at) else {
            return Ok(());
        };
        let r = self.region_of(&session.tenant).await?;
        let (t, u) = (session.tenant.as_str(), session.user_id.as_str());
        self.write(&r.st.session_user_put, (t, u, &session.key.0[..], ttl))
            .await?;
        let values = (t, &session.key.0[..], encode(session), ttl);
        self.write(&r.st.session_put, values).await
    }

    async fn list_sessions(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Session>> {
        let r = self.region_of(tenant).await?;
        let keys: Vec<(Vec<u8>,)> = self
            .all(&r.st.session_user_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut out = Vec::new();
        for (k,) in keys {
            let row: Option<(Option<Vec<u8>>,)> = self
                .one(&r.st.session_get, (tenant.as_str(), &k[..]))
                .await?;
            if let Some(rec) = row.and_then(|(r,)| r) {
                out.push(decode(&rec)?);
            }
        }
        Ok(out)
    }

    async fn update_session(
        &self,
        tenant: &TenantId,
        key: &Hash32,
        change: SessionChange,
    ) -> StoreResult<Option<Session>> {
        let r = self.region_of(tenant).await?;
        let k = (tenant.as_str(), &key.0[..]);
        let mut serial = false;
        for _ in 0..LWT_ATTEMPTS {
            let st = match serial {
                true => &r.st.session_get_serial,
                false => &r.st.session_get,
            };
            let row: Option<(Option<Vec<u8>>,)> = self.one(st, k).await?;
            let Some(old) = row.and_then(|(r,)| r) else {
                return Ok(None);
            };
            let mut s: Session = decode(&old)?;
            if !change(&mut s) {
                return Ok(Some(s));
            }
            let Some(ttl) = ttl_until(s.expires_at) else {
                return Ok(None);
            };
            let new = encode(&s);
            match self
                .lwt(&r.st.session_update, (ttl, &new, k.0, k.1, &old))
                .await
            {
                Ok(true) => return Ok(Some(s)),
                // Changed or ended meanwhile: read it again, through Paxos.
                Ok(false) => serial = true,
                // Unknown outcome: a serial read settles it next round (ours landed if
                // the record is what we wrote; then `change` finds nothing to do).
                Err(_) => serial = true,
            }
        }
        Err(crate::errors::unavailable(
            "the session change did not complete",
        ))
    }

    async fn get_session(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<Session>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&r.st.session_get, (tenant.as_str(), &key.0[..]))
            .await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }

    async fn delete_session(
        &self,
        tenant: &TenantId,
        key: &Hash32,
    ) -> StoreResult<Option<Session>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&r.st.session_get, (tenant.as_str(), &key.0[..]))
            .await?;
        let Some(record) = row.and_then(|(r,)| r) else {
            return Ok(None);
        };
        let session: Session = decode(&record)?;
        // Not applied: another node deleted it meanwhile; ended either way.
        self.lwt(&r.st.session_delete, (tenant.as_str(), &key.0[..]))
            .await?;
        let index = (tenant.as_str(), session.user_id.as_str(), &key.0[..]);
        self.write(&r.st.session_user_delete, index).await?;
        Ok(Some(session))
    }
}
