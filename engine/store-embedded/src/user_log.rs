//! A user's append-only records in one keyspace (verification results, consent receipts):
//! key `tenant \0 user \0 at (big-endian) \0 id`, so a user's records are one range,
//! oldest first, and deleting them all is one prefix walk.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use tollgate_store::StoreResult;
use tollgate_vocab::ids::{TenantId, UserId};

fn user_prefix(tenant: &TenantId, user: &UserId) -> Vec<u8> {
    key(tenant, &[user.as_str().as_bytes(), b""])
}

impl EmbeddedStore {
    /// Appends `record`, written at `at` with id `id`, to the user's log in `ks`.
    pub(crate) async fn append_user_record<T: Serialize + Send + 'static>(
        &self,
        ks: Ks,
        (tenant, user): (&TenantId, &UserId),
        (at, id): (u64, &str),
        record: T,
    ) -> StoreResult<()> {
        let k = key(
            tenant,
            &[user.as_str().as_bytes(), &at.to_be_bytes(), id.as_bytes()],
        );
        self.write(move |tx| {
            tx.put_json(ks, k, &record);
            Ok(())
        })
        .await
    }

    /// The user's records in `ks`, oldest first (the key order).
    pub(crate) fn user_records<T: DeserializeOwned>(
        &self,
        ks: Ks,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<T>> {
        self.scan_json(ks, &user_prefix(tenant, user))
    }

    /// Deletes every record of the user in `ks`.
    pub(crate) async fn delete_user_records(
        &self,
        ks: Ks,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<()> {
        let keys: Vec<Vec<u8>> = self
            .inner
            .ks(ks)
            .prefix(user_prefix(tenant, user))
            .map(|kv| kv.key().map(|k| k.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        if keys.is_empty() {
            return Ok(());
        }
        self.write(move |tx| {
            for k in keys {
                tx.delete(ks, k);
            }
            Ok(())
        })
        .await
    }
}
