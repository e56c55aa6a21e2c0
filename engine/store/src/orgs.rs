//! [`OrgStore`]: organisations, memberships, roles, role assignments and invitations.

use async_trait::async_trait;

use crate::StoreResult;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Hash32;
use tollgate_vocab::model::org::{Invitation, Membership, Organization, Role};

/// Where a role is assigned: inside one organisation's membership, or tenant-wide.
pub type RoleScope<'a> = Option<&'a str>;

/// Organisations and roles (RBAC). A role is held either inside a membership (its
/// `roles`, counted only in that organisation) or tenant-wide; both are found from the
/// role's side too ([`OrgStore::list_role_members`]), which is how SCIM Groups see them.
///
/// Lists that can grow with the tenant take a cursor (`after`: the last item of the
/// previous page) and a `limit`, in an order the backend keeps from call to call.
#[async_trait]
pub trait OrgStore {
    /// Creates an organisation; `Conflict` if its id or its name is taken in the tenant.
    /// Atomic: of two creations with one name, one wins.
    async fn create_org(&self, org: &Organization) -> StoreResult<()>;
    /// Reads one by id.
    async fn get_org(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Organization>>;
    /// Reads one by name.
    async fn find_org_by_name(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> StoreResult<Option<Organization>>;
    /// The tenant's organisations in id order, after the id `after`, at most `limit`.
    async fn list_orgs(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Organization>>;
    /// Replaces an organisation's record (a rename, its settings) if the stored one still
    /// equals `expected` (compare and set): `false` if it changed or is gone; `Conflict`
    /// if `next` renames it to a name another organisation holds. A new name is claimed
    /// before the old one is given up.
    async fn update_org(&self, next: &Organization, expected: &Organization) -> StoreResult<bool>;
    /// Deletes an organisation with its memberships (and the roles held in them) and its
    /// invitations; whether it existed. Nothing can join it once this has begun.
    async fn delete_org(&self, tenant: &TenantId, id: &str) -> StoreResult<bool>;

    /// Writes a membership (joining, or replacing its roles); `false`, writing nothing, if
    /// the organisation does not exist. The role index follows the roles written.
    async fn put_membership(&self, membership: &Membership) -> StoreResult<bool>;
    /// Reads one.
    async fn get_membership(
        &self,
        tenant: &TenantId,
        org: &str,
        user: &UserId,
    ) -> StoreResult<Option<Membership>>;
    /// Ends one (with the roles held in it); whether it existed.
    async fn delete_membership(
        &self,
        tenant: &TenantId,
        org: &str,
        user: &UserId,
    ) -> StoreResult<bool>;
    /// An organisation's members in user-id order, after `after`, at most `limit`.
    async fn list_members(
        &self,
        tenant: &TenantId,
        org: &str,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<Membership>>;
    /// A user's memberships (few), in organisation-id order.
    async fn list_user_memberships(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<Membership>>;
    /// Removes all of a user's memberships and tenant-wide roles (account deletion);
    /// idempotent.
    async fn delete_user_memberships(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()>;

    /// Creates or replaces a role.
    async fn put_role(&self, role: &Role) -> StoreResult<()>;
    /// Reads one.
    async fn get_role(&self, tenant: &TenantId, id: &str) -> StoreResult<Option<Role>>;
    /// The tenant's roles (few), in id order.
    async fn list_roles(&self, tenant: &TenantId) -> StoreResult<Vec<Role>>;
    /// Deletes a role and every assignment of it, tenant-wide and in memberships;
    /// whether it existed.
    async fn delete_role(&self, tenant: &TenantId, id: &str) -> StoreResult<bool>;

    /// Assigns a role to a user in an organisation (`Some(org)`: the user's membership
    /// there gets it) or tenant-wide (`None`). Idempotent; `false`, writing nothing, if
    /// the role does not exist or, in an organisation, the user is not a member.
    async fn assign_role(
        &self,
        tenant: &TenantId,
        user: &UserId,
        role: &str,
        scope: RoleScope<'_>,
    ) -> StoreResult<bool>;
    /// Takes an assignment back; whether it was there.
    async fn unassign_role(
        &self,
        tenant: &TenantId,
        user: &UserId,
        role: &str,
        scope: RoleScope<'_>,
    ) -> StoreResult<bool>;
    /// Who holds a role in an organisation (`Some(org)`) or tenant-wide (`None`), in
    /// user-id order, after `after`, at most `limit`.
    async fn list_role_members(
        &self,
        tenant: &TenantId,
        role: &str,
        scope: RoleScope<'_>,
        after: Option<&UserId>,
        limit: usize,
    ) -> StoreResult<Vec<UserId>>;
    /// A user's tenant-wide roles, in id order.
    async fn tenant_roles(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<String>>;

    /// Stores an invitation; `false`, writing nothing, if its organisation does not exist.
    async fn put_invitation(&self, invitation: &Invitation) -> StoreResult<bool>;
    /// Reads one by the hash of its token, without taking it (expired ones may be
    /// returned until swept: callers check).
    async fn get_invitation(
        &self,
        tenant: &TenantId,
        token_hash: &Hash32,
    ) -> StoreResult<Option<Invitation>>;
    /// Removes and returns one, atomically: of two acceptances at once, one gets it.
    async fn take_invitation(
        &self,
        tenant: &TenantId,
        token_hash: &Hash32,
    ) -> StoreResult<Option<Invitation>>;
    /// An organisation's open invitations (expired ones until swept), oldest first.
    async fn list_invitations(&self, tenant: &TenantId, org: &str) -> StoreResult<Vec<Invitation>>;
    /// Withdraws one by its public id; whether it was there.
    async fn delete_invitation(&self, tenant: &TenantId, org: &str, id: &str) -> StoreResult<bool>;
}
