//! [`VerificationStore`]: identity verification results (`verifications`,
//! schema/0009_verifications.cql), sealed by the engine. One partition per user, clustered
//! by time and id: a user's list is one partition read, oldest first, and deleting them
//! all is one partition delete.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode, int};
use tollgate_store::{StoreResult, VerificationStore};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::verification::VerificationRecord;

#[async_trait]
impl VerificationStore for ScyllaStore {
    async fn put_verification(&self, record: &VerificationRecord) -> StoreResult<()> {
        let r = self.region_of(&record.tenant).await?;
        let values = (
            record.tenant.as_str(),
            record.user_id.as_str(),
            int(record.created_at),
            record.id.as_str(),
            encode(record),
        );
        self.write(&r.st.verification_put, values).await
    }

    async fn list_verifications(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<VerificationRecord>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(i64, String, Vec<u8>)> = self
            .all(&r.st.verification_list, (tenant.as_str(), user.as_str()))
            .await?;
        rows.iter().map(|(_, _, rec)| decode(rec)).collect()
    }

    async fn delete_verifications(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        self.write(&r.st.verifications_delete, (tenant.as_str(), user.as_str()))
            .await
    }
}
