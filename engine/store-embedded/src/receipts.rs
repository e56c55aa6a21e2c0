//! [`ReceiptStore`]: consent receipts, one per grant or withdrawal, in the user's record
//! log (see `user_log`).

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::Ks;
use tollgate_store::{ReceiptStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::notice::ConsentReceipt;

#[async_trait]
impl ReceiptStore for EmbeddedStore {
    async fn put_receipt(&self, receipt: &ConsentReceipt) -> StoreResult<()> {
        let r = receipt.clone();
        let owner = (&receipt.tenant, &receipt.user_id);
        self.append_user_record(Ks::ConsentReceipts, owner, (r.at, &receipt.id), r)
            .await
    }

    async fn list_receipts(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<ConsentReceipt>> {
        self.user_records(Ks::ConsentReceipts, tenant, user)
    }

    async fn delete_receipts(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        self.delete_user_records(Ks::ConsentReceipts, tenant, user)
            .await
    }
}
