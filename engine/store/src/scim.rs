//! [`ScimStore`]: the SCIM side of users (active flag, version, sealed SCIM attributes)
//! and the `externalId` index.

use async_trait::async_trait;

use crate::StoreResult;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::scim::ScimUser;

/// The SCIM records of a tenant's users. One per user at most, written only by SCIM, each
/// write a compare-and-set on its version so that two provisioning clients changing one
/// user at once cannot both win (what makes `If-Match` safe).
#[async_trait]
pub trait ScimStore {
    /// Writes `record` if the stored one is at `expected_version` (`None`: there must be
    /// none), in one atomic step, and moves the `externalId` index with it. `false`,
    /// writing nothing, when the stored version differs.
    async fn put_scim_user(
        &self,
        record: &ScimUser,
        expected_version: Option<u64>,
    ) -> StoreResult<bool>;
    /// A user's record.
    async fn get_scim_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Option<ScimUser>>;
    /// The users whose `external_key` is this (an index read, no scan), in id order.
    async fn find_scim_users_by_external(
        &self,
        tenant: &TenantId,
        external_key: &str,
    ) -> StoreResult<Vec<UserId>>;
    /// Removes a user's record and its index entry (the user was deleted); idempotent.
    async fn delete_scim_user(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()>;
}
