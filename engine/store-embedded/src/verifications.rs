//! [`VerificationStore`]: identity verification results, sealed by the engine, in the
//! user's record log (see `user_log`).

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::Ks;
use tollgate_store::{StoreResult, VerificationStore};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::verification::VerificationRecord;

#[async_trait]
impl VerificationStore for EmbeddedStore {
    async fn put_verification(&self, record: &VerificationRecord) -> StoreResult<()> {
        let r = record.clone();
        let owner = (&record.tenant, &record.user_id);
        self.append_user_record(Ks::Verifications, owner, (r.created_at, &record.id), r)
            .await
    }

    async fn list_verifications(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<VerificationRecord>> {
        self.user_records(Ks::Verifications, tenant, user)
    }

    async fn delete_verifications(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        self.delete_user_records(Ks::Verifications, tenant, user)
            .await
    }
}
