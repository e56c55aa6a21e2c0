//! [`ScimStore`]: the SCIM side of users (`scim_users`, `scim_external`,
//! schema/0016_scim.cql). A user's row changes only by lightweight transaction on its
//! version; the `externalId` index is written before the row and cleared after it, so
//! an index entry may outlive its row's key for a moment (readers check the row).

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode, int};
use tollgate_store::{ScimStore, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::scim::ScimUser;

#[async_trait]
impl ScimStore for ScyllaStore {
    async fn put_scim_user(
        &self,
        rec: &ScimUser,
        expected_version: Option<u64>,
    ) -> StoreResult<bool> {
        let r = self.region_of(&rec.tenant).await?;
        let (t, u) = (rec.tenant.as_str(), rec.user_id.as_str());
        let before = self.get_scim_user(&rec.tenant, &rec.user_id).await?;
        if before.as_ref().map(|b| b.version) != expected_version {
            return Ok(false);
        }
        let old_key = before.and_then(|b| b.external_key);
        if let Some(new) = &rec.external_key
            && old_key.as_ref() != Some(new)
        {
            self.write(&r.st.scim_external_put, (t, new.as_str(), u))
                .await?;
        }
        let applied = match expected_version {
            None => {
                let values = (t, u, int(rec.version), encode(rec));
                self.lwt(&r.st.scim_user_insert, values).await?
            }
            Some(v) => {
                let values = (int(rec.version), encode(rec), t, u, int(v));
                self.lwt(&r.st.scim_user_update, values).await?
            }
        };
        // The key the stored row no longer has leaves the index (the new one's, when the
        // write lost, may stay: readers check the row).
        let stale = if applied {
            old_key.filter(|o| rec.external_key.as_ref() != Some(o))
        } else {
            None
        };
        if let Some(o) = stale {
            self.write(&r.st.scim_external_delete, (t, o.as_str(), u))
                .await?;
        }
        Ok(applied)
    }

    async fn get_scim_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Option<ScimUser>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Vec<u8>,)> = self
            .one(&r.st.scim_user_get, (tenant.as_str(), user.as_str()))
            .await?;
        row.map(|(rec,)| decode(&rec)).transpose()
    }

    async fn find_scim_users_by_external(
        &self,
        tenant: &TenantId,
        external_key: &str,
    ) -> StoreResult<Vec<UserId>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String,)> = self
            .all(&r.st.scim_external_list, (tenant.as_str(), external_key))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id,) in rows {
            let id = UserId::from_stored(id);
            // An entry whose row moved on to another key is left out.
            if self
                .get_scim_user(tenant, &id)
                .await?
                .is_some_and(|s| s.external_key.as_deref() == Some(external_key))
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    async fn delete_scim_user(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        if let Some(rec) = self.get_scim_user(tenant, user).await? {
            self.lwt(&r.st.scim_user_delete, (t, u)).await?;
            if let Some(k) = rec.external_key {
                self.write(&r.st.scim_external_delete, (t, k.as_str(), u))
                    .await?;
            }
        }
        Ok(())
    }
}
