//! [`ConsentStore`]: what users granted clients.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode};
use tollgate_store::{ConsentStore, StoreResult};
use tollgate_vocab::ids::{ClientId, TenantId, UserId};
use tollgate_vocab::model::Consent;

#[async_trait]
impl ConsentStore for ScyllaStore {
    async fn put_consent(&self, consent: &Consent) -> StoreResult<()> {
        let r = self.region_of(&consent.tenant).await?;
        let values = (
            consent.tenant.as_str(),
            consent.user_id.as_str(),
            consent.client_id.as_str(),
            encode(consent),
        );
        self.write(&r.st.consent_put, values).await
    }

    async fn delete_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>> {
        // The delete is unconditional: skipping it when the read found nothing would lose
        // a withdrawal to a grant that landed in between.
        let old = self.get_consent(tenant, user, client).await?;
        let r = self.region_of(tenant).await?;
        let values = (tenant.as_str(), user.as_str(), client.as_str());
        self.write(&r.st.consent_delete, values).await?;
        Ok(old)
    }

    async fn list_consents(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Consent>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Vec<u8>)> = self
            .all(&r.st.consent_list, (tenant.as_str(), user.as_str()))
            .await?;
        rows.iter().map(|(_, rec)| decode(rec)).collect()
    }

    async fn get_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(
                &r.st.consent_get,
                (tenant.as_str(), user.as_str(), client.as_str()),
            )
            .await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }
}
