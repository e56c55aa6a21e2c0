//! [`ReceiptStore`]: consent receipts (`consent_receipts`, schema/0012_consent_receipts.cql).
//! One partition per user, clustered by time and id: a user's list is one partition read,
//! oldest first, and deleting them all is one partition delete.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode, int};
use tollgate_store::{ReceiptStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::notice::ConsentReceipt;

#[async_trait]
impl ReceiptStore for ScyllaStore {
    async fn put_receipt(&self, receipt: &ConsentReceipt) -> StoreResult<()> {
        let r = self.region_of(&receipt.tenant).await?;
        let values = (
            receipt.tenant.as_str(),
            receipt.user_id.as_str(),
            int(receipt.at),
            receipt.id.as_str(),
            encode(receipt),
        );
        self.write(&r.st.receipt_put, values).await
    }

    async fn list_receipts(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<ConsentReceipt>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(i64, String, Vec<u8>)> = self
            .all(&r.st.receipt_list, (tenant.as_str(), user.as_str()))
            .await?;
        rows.iter().map(|(_, _, rec)| decode(rec)).collect()
    }

    async fn delete_receipts(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        self.write(&r.st.receipts_delete, (tenant.as_str(), user.as_str()))
            .await
    }
}
