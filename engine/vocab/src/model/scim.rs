//! SCIM 2.0 provisioning (RFC 7643/7644): the bearer tokens a tenant gives its
//! provisioning clients (in the tenant record, as SHA-256 hashes), and the SCIM side of a
//! user (whether it is active, its version, and the SCIM attributes Tollgate has no
//! column for, sealed under the user's data key).

use serde::{Deserialize, Serialize};

use super::Hash32;
use crate::clock::UnixTime;
use crate::ids::{TenantId, UserId};

/// Most live SCIM tokens per tenant: they are checked on every SCIM request from the
/// (cached) tenant record.
pub const MAX_TOKENS: usize = 50;

/// A tenant's SCIM settings (in the tenant record).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScimSettings {
    /// The provisioning clients' bearer tokens, revoked ones included (kept for the
    /// audit trail's ids; never accepted again).
    pub tokens: Vec<ScimToken>,
}

impl ScimSettings {
    /// Whether nothing is set (the tenant record leaves the field out).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// A SCIM bearer token: only its hash is stored; the token itself is shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimToken {
    /// Random id, public: the audit trail's actor is `scim_token:{id}`.
    pub id: String,
    /// The operator's name for it ("Okta production").
    pub name: String,
    /// SHA-256 of the token (256 random bits, so no slow hash is needed).
    pub hash: Hash32,
    /// The organisation it is limited to; the whole tenant when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Created.
    pub created_at: UnixTime,
    /// Revoked (never accepted after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<UnixTime>,
}

/// The SCIM side of a user, beside its user record. Written by SCIM only; a user SCIM
/// never touched has none (and is active, at version 0).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimUser {
    /// Owner.
    pub tenant: TenantId,
    /// The user.
    pub user_id: UserId,
    /// `active`: false stops every sign-in (checked when a session starts).
    pub active: bool,
    /// Bumped by every SCIM write: the resource's version (`meta.version`, the ETag),
    /// and the compare-and-set that makes `If-Match` safe against two writers.
    pub version: u64,
    /// Blind index of `externalId` (hex HMAC under a per-tenant key), for `externalId eq`
    /// filters without decrypting anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_key: Option<String>,
    /// The SCIM attributes beyond the user record (externalId, name parts, emails,
    /// phone numbers, addresses, the enterprise extension, ...), as JSON sealed under
    /// the user's data key (base64): unreadable once the user is erased.
    pub attributes: String,
    /// First written by SCIM.
    pub created_at: UnixTime,
    /// Last written by SCIM.
    pub updated_at: UnixTime,
}

impl std::fmt::Debug for ScimUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimUser")
            .field("tenant", &self.tenant)
            .field("user_id", &self.user_id)
            .field("active", &self.active)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}
