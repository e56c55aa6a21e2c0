//! [`PurposeStore`]: a tenant's privacy settings and users' answers per purpose.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode};
use tollgate_store::{PurposeStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::privacy::{PrivacySettings, PurposeGrant};

#[async_trait]
impl PurposeStore for ScyllaStore {
    async fn put_privacy_settings(
        &self,
        tenant: &TenantId,
        settings: &PrivacySettings,
    ) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        self.write(&r.st.privacy_put, (tenant.as_str(), encode(settings)))
            .await
    }

    async fn get_privacy_settings(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Option<PrivacySettings>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> =
            self.one(&r.st.privacy_get, (tenant.as_str(),)).await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }

    async fn put_purpose_grant(&self, grant: &PurposeGrant) -> StoreResult<()> {
        let r = self.region_of(&grant.tenant).await?;
        let values = (
            grant.tenant.as_str(),
            grant.user_id.as_str(),
            grant.purpose.as_str(),
            encode(grant),
        );
        self.write(&r.st.grant_put, values).await
    }

    async fn list_purpose_grants(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<PurposeGrant>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Vec<u8>)> = self
            .all(&r.st.grant_list, (tenant.as_str(), user.as_str()))
            .await?;
        rows.iter().map(|(_, rec)| decode(rec)).collect()
    }

    async fn delete_purpose_grants(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        self.write(&r.st.grants_delete, (tenant.as_str(), user.as_str()))
            .await
    }
}
