//! [`DenyListStore`]: revoked access tokens, kept until they expire by TTL.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{bucket, int, ttl_until};
use tollgate_store::{DenyListStore, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::TenantId;

#[async_trait]
impl DenyListStore for ScyllaStore {
    async fn deny_token(
        &self,
        tenant: &TenantId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<()> {
        let Some(ttl) = ttl_until(expires_at) else {
            return Ok(());
        };
        let r = self.region_of(tenant).await?;
        let values = (tenant.as_str(), bucket(jti), jti, int(expires_at), ttl);
        self.write(&r.st.deny_put, values).await
    }

    async fn is_token_denied(&self, tenant: &TenantId, jti: &str) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<i64>,)> = self
            .one(&r.st.deny_get, (tenant.as_str(), bucket(jti), jti))
            .await?;
        Ok(row.is_some())
    }
}
