//! [`UserKeyStore`]: users' wrapped data keys.

use async_trait::async_trait;

use crate::ScyllaStore;
use tollgate_store::{StoreError, StoreResult, UserKeyStore};
use tollgate_vocab::ids::{TenantId, UserId};

#[async_trait]
impl UserKeyStore for ScyllaStore {
    async fn put_user_key(
        &self,
        tenant: &TenantId,
        user: &UserId,
        wrapped: &[u8],
    ) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        match self.lwt(&r.st.user_key_insert, (t, u, wrapped)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::Conflict),
            // Unknown outcome: a serial read says whether the key there is this one.
            Err(e) => {
                let row: Option<(Option<Vec<u8>>,)> = self
                    .one(&r.st.user_key_get_serial, (t, u))
                    .await
                    .or(Err(e))?;
                match row.and_then(|(k,)| k) {
                    Some(stored) if stored == wrapped => Ok(()),
                    Some(_) => Err(StoreError::Conflict),
                    None => Err(StoreError::Unavailable(
                        "storing the user's key did not complete".into(),
                    )),
                }
            }
        }
    }

    async fn get_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Option<Vec<u8>>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&r.st.user_key_get, (tenant.as_str(), user.as_str()))
            .await?;
        Ok(row.and_then(|(k,)| k))
    }

    async fn destroy_user_key(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        // Applied or not (already gone), the key is gone.
        self.lwt(&r.st.user_key_remove, (tenant.as_str(), user.as_str()))
            .await
            .map(drop)
    }
}
