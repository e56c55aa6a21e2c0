//! [`VerificationStore`]: identity verification results, sealed by the engine.
//!
//! Key: `tenant \0 user \0 created_at (big-endian) \0 id`, so a user's records are one
//! range, oldest first, and deleting them all is one prefix walk.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use tollgate_store::{StoreResult, VerificationStore};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::verification::VerificationRecord;

fn user_prefix(tenant: &TenantId, user: &UserId) -> Vec<u8> {
    key(tenant, &[user.as_str().as_bytes(), b""])
}

#[async_trait]
impl VerificationStore for EmbeddedStore {
    async fn put_verification(&self, record: &VerificationRecord) -> StoreResult<()> {
        let r = record.clone();
        self.write(move |tx| {
            let k = key(
                &r.tenant,
                &[
                    r.user_id.as_str().as_bytes(),
                    &r.created_at.to_be_bytes(),
                    r.id.as_bytes(),
                ],
            );
            tx.put_json(Ks::Verifications, k, &r);
            Ok(())
        })
        .await
    }

    async fn list_verifications(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<VerificationRecord>> {
        let mut all: Vec<VerificationRecord> =
            self.scan_json(Ks::Verifications, &user_prefix(tenant, user))?;
        // Keys sort by time already; ids of one second sort by their bytes, as here.
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(all)
    }

    async fn delete_verifications(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let keys: Vec<Vec<u8>> = self
            .inner
            .ks(Ks::Verifications)
            .prefix(user_prefix(tenant, user))
            .map(|kv| kv.key().map(|k| k.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        if keys.is_empty() {
            return Ok(());
        }
        self.write(move |tx| {
            for k in keys {
                tx.delete(Ks::Verifications, k);
            }
            Ok(())
        })
        .await
    }
}
