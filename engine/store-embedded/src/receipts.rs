//! [`ReceiptStore`]: consent receipts, one per grant or withdrawal.
//!
//! Key: `tenant \0 user \0 at (big-endian) \0 id`, so a user's receipts are one range,
//! oldest first, and deleting them all is one prefix walk.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use tollgate_store::{ReceiptStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::notice::ConsentReceipt;

fn user_prefix(tenant: &TenantId, user: &UserId) -> Vec<u8> {
    key(tenant, &[user.as_str().as_bytes(), b""])
}

#[async_trait]
impl ReceiptStore for EmbeddedStore {
    async fn put_receipt(&self, receipt: &ConsentReceipt) -> StoreResult<()> {
        let r = receipt.clone();
        self.write(move |tx| {
            let k = key(
                &r.tenant,
                &[
                    r.user_id.as_str().as_bytes(),
                    &r.at.to_be_bytes(),
                    r.id.as_bytes(),
                ],
            );
            tx.put_json(Ks::ConsentReceipts, k, &r);
            Ok(())
        })
        .await
    }

    async fn list_receipts(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<ConsentReceipt>> {
        let mut all: Vec<ConsentReceipt> =
            self.scan_json(Ks::ConsentReceipts, &user_prefix(tenant, user))?;
        // Keys sort by time already; ids of one second sort by their bytes, as here.
        all.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        Ok(all)
    }

    async fn delete_receipts(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let keys: Vec<Vec<u8>> = self
            .inner
            .ks(Ks::ConsentReceipts)
            .prefix(user_prefix(tenant, user))
            .map(|kv| kv.key().map(|k| k.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        if keys.is_empty() {
            return Ok(());
        }
        self.write(move |tx| {
            for k in keys {
                tx.delete(Ks::ConsentReceipts, k);
            }
            Ok(())
        })
        .await
    }
}
