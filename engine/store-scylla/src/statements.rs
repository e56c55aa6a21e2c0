//! Prepared statements: the global and region statement sets, each prepared once.

use ::scylla::client::execution_profile::ExecutionProfileHandle;
use ::scylla::client::session::Session as CqlSession;
use ::scylla::statement::Consistency;
use ::scylla::statement::batch::Batch;
use ::scylla::statement::prepared::PreparedStatement;

use crate::errors::short;
use tollgate_store::{StoreError, StoreResult};

/// How a statement may be retried and read.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// A plain read: idempotent.
    Read,
    /// An upsert or delete without condition: idempotent.
    Write,
    /// A lightweight transaction: never retried blindly.
    Lwt,
    /// A read at serial consistency: sees (and settles) Paxos rounds in flight.
    SerialRead,
}

pub(super) struct Preparer<'a> {
    pub(super) session: &'a CqlSession,
    pub(super) profile: ExecutionProfileHandle,
    pub(super) serial_read: Consistency,
}

impl Preparer<'_> {
    pub(super) async fn prep(&self, cql: String, kind: Kind) -> StoreResult<PreparedStatement> {
        let mut p = self.session.prepare(cql).await.map_err(|e| {
            StoreError::Unavailable(short(format!("preparing a statement failed: {e}")))
        })?;
        p.set_execution_profile_handle(Some(self.profile.clone()));
        match kind {
            Kind::Read | Kind::Write => p.set_is_idempotent(true),
            Kind::Lwt => {}
            Kind::SerialRead => {
                p.set_consistency(self.serial_read);
                p.set_is_idempotent(true);
            }
        }
        Ok(p)
    }
}

/// Statements on the global keyspace.
pub(super) struct GlobalStatements {
    pub(super) ping: PreparedStatement,
    pub(super) tenant_insert: PreparedStatement,
    pub(super) tenant_get: PreparedStatement,
    pub(super) tenant_get_serial: PreparedStatement,
    pub(super) tenant_region: PreparedStatement,
    pub(super) tenant_list: PreparedStatement,
    pub(super) tenant_move: PreparedStatement,
    pub(super) tenant_update: PreparedStatement,
    pub(super) tenant_fence: PreparedStatement,
    pub(super) tenant_unfence: PreparedStatement,
}

impl GlobalStatements {
    pub(super) async fn prepare(p: &Preparer<'_>, g: &str) -> StoreResult<Self> {
        use Kind::*;
        Ok(Self {
            ping: p
                .prep(
                    format!("SELECT version FROM {g}.schema_migrations WHERE keyspace = ? LIMIT 1"),
                    Read,
                )
                .await?,
            tenant_insert: p
                .prep(
                    format!("INSERT INTO {g}.tenants (tenant, region, record) VALUES (?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            tenant_get: p
                .prep(
                    format!("SELECT record, moving_to FROM {g}.tenants WHERE tenant = ?"),
                    Read,
                )
                .await?,
            tenant_get_serial: p
                .prep(
                    format!(
                        "SELECT region, record, moving_to FROM {g}.tenants WHERE tenant = ?"
                    ),
                    SerialRead,
                )
                .await?,
            tenant_region: p
                .prep(
                    format!("SELECT region, moving_to FROM {g}.tenants WHERE tenant = ?"),
                    Read,
                )
                .await?,
            tenant_list: p
                .prep(format!("SELECT record FROM {g}.tenants"), Read)
                .await?,
            tenant_move: p
                .prep(
                    format!(
                        "UPDATE {g}.tenants SET region = ?, record = ?, moving_to = null \
                         WHERE tenant = ? IF region = ? AND moving_to = ?"
                    ),
                    Lwt,
                )
                .await?,
            tenant_update: p
                .prep(
                    format!(
                        "UPDATE {g}.tenants SET record = ? WHERE tenant = ? \
                         IF region = ? AND moving_to = null"
                    ),
                    Lwt,
                )
                .await?,
            tenant_fence: p
                .prep(
                    format!(
                        "UPDATE {g}.tenants SET moving_to = ? WHERE tenant = ? \
                         IF region = ? AND moving_to = null"
                    ),
                    Lwt,
                )
                .await?,
            tenant_unfence: p
                .prep(
                    format!(
                        "UPDATE {g}.tenants SET moving_to = null WHERE tenant = ? IF moving_to = ?"
                    ),
                    Lwt,
                )
                .await?,
        })
    }
}

/// Statements on one region keyspace.
pub(super) struct RegionStatements {
    pub(super) client_insert: PreparedStatement,
    pub(super) client_put: PreparedStatement,
    pub(super) client_get: PreparedStatement,
    pub(super) client_list: PreparedStatement,
    pub(super) clients_delete: PreparedStatement,
    pub(super) user_insert: PreparedStatement,
    pub(super) user_put: PreparedStatement,
    pub(super) user_get: PreparedStatement,
    pub(super) user_remove: PreparedStatement,
    pub(super) user_list: PreparedStatement,
    pub(super) users_delete: PreparedStatement,
    pub(super) email_claim: PreparedStatement,
    pub(super) email_put: PreparedStatement,
    pub(super) email_get: PreparedStatement,
    pub(super) email_get_serial: PreparedStatement,
    pub(super) email_delete: PreparedStatement,
    pub(super) user_delete: PreparedStatement,
    pub(super) user_update_if: PreparedStatement,
    pub(super) user_key_insert: PreparedStatement,
    pub(super) user_key_put: PreparedStatement,
    pub(super) user_key_get: PreparedStatement,
    pub(super) user_key_delete: PreparedStatement,
    pub(super) deletion_put: PreparedStatement,
    pub(super) deletion_list: PreparedStatement,
    pub(super) deletion_delete: PreparedStatement,
    pub(super) deletions_delete: PreparedStatement,
    pub(super) session_put: PreparedStatement,
    pub(super) session_get: PreparedStatement,
    pub(super) session_delete: PreparedStatement,
    pub(super) session_user_put: PreparedStatement,
    pub(super) session_user_list: PreparedStatement,
    pub(super) session_user_delete: PreparedStatement,
    pub(super) chain_user_put: PreparedStatement,
    pub(super) chain_user_list: PreparedStatement,
    pub(super) code_put: PreparedStatement,
    pub(super) code_get: PreparedStatement,
    pub(super) code_get_serial: PreparedStatement,
    pub(super) code_take: PreparedStatement,
    pub(super) chain_get: PreparedStatement,
    pub(super) chain_get_serial: PreparedStatement,
    pub(super) chain_all: PreparedStatement,
    pub(super) chain_token_get: PreparedStatement,
    pub(super) chain_revoke: PreparedStatement,
    pub(super) chain_put: PreparedStatement,
    pub(super) chain_token_put: PreparedStatement,
    pub(super) chain_delete: PreparedStatement,
    pub(super) chain_index_put: PreparedStatement,
    pub(super) chain_index_list: PreparedStatement,
    pub(super) chain_index_delete: PreparedStatement,
    pub(super) key_put: PreparedStatement,
    pub(super) key_list: PreparedStatement,
    pub(super) keys_delete: PreparedStatement,
    pub(super) consent_put: PreparedStatement,
    pub(super) consent_get: PreparedStatement,
    pub(super) consent_delete: PreparedStatement,
    pub(super) consent_list: PreparedStatement,
    pub(super) consents_delete: PreparedStatement,
    pub(super) privacy_put: PreparedStatement,
    pub(super) privacy_get: PreparedStatement,
    pub(super) privacy_delete: PreparedStatement,
    pub(super) grant_put: PreparedStatement,
    pub(super) grant_list: PreparedStatement,
    pub(super) grants_delete: PreparedStatement,
    pub(super) deny_put: PreparedStatement,
    pub(super) deny_get: PreparedStatement,
    pub(super) deny_list: PreparedStatement,
    pub(super) deny_delete: PreparedStatement,
    pub(super) event_put: PreparedStatement,
    pub(super) event_day_put: PreparedStatement,
    pub(super) event_days: PreparedStatement,
    pub(super) events_of_day: PreparedStatement,
    pub(super) events_all_of_day: PreparedStatement,
    pub(super) events_delete: PreparedStatement,
    pub(super) event_days_delete: PreparedStatement,
    pub(super) factor_insert: PreparedStatement,
    pub(super) factor_put: PreparedStatement,
    pub(super) factor_get: PreparedStatement,
    pub(super) factor_get_serial: PreparedStatement,
    pub(super) factor_list: PreparedStatement,
    /// `IF version = ? AND lookup = ?`, for factors with a lookup key.
    pub(super) factor_update: PreparedStatement,
    /// `IF version = ? AND lookup = null`, for factors without one.
    pub(super) factor_update_unkeyed: PreparedStatement,
    pub(super) factor_remove: PreparedStatement,
    pub(super) factors_delete: PreparedStatement,
    pub(super) lookup_claim: PreparedStatement,
    pub(super) lookup_put: PreparedStatement,
    pub(super) lookup_get: PreparedStatement,
    pub(super) lookup_get_serial: PreparedStatement,
    /// `IF claim = ?`: a creation gives back its own claim.
    pub(super) lookup_release: PreparedStatement,
    /// `IF user_id = ? AND id = ?`: a deletion removes its factor's claim.
    pub(super) lookup_remove: PreparedStatement,
    pub(super) lookup_delete: PreparedStatement,
    pub(super) challenge_insert: PreparedStatement,
    pub(super) challenge_replace: PreparedStatement,
    pub(super) challenge_get: PreparedStatement,
    pub(super) challenge_get_serial: PreparedStatement,
    pub(super) challenge_spend: PreparedStatement,
    pub(super) challenge_take: PreparedStatement,
    pub(super) connector_put: PreparedStatement,
    pub(super) connector_get: PreparedStatement,
    pub(super) connector_list: PreparedStatement,
    pub(super) connector_delete: PreparedStatement,
    pub(super) link_insert: PreparedStatement,
    pub(super) link_get: PreparedStatement,
    /// `IF user_id = ?`: only the owner's link is rewritten.
    pub(super) link_update: PreparedStatement,
    /// `IF user_id = ?`: only the owner's link is removed.
    pub(super) link_remove: PreparedStatement,
    pub(super) link_user_put: PreparedStatement,
    pub(super) link_user_list: PreparedStatement,
    pub(super) link_user_delete: PreparedStatement,
    /// Tenant moves: plain copies and partition deletes.
    pub(super) connectors_delete: PreparedStatement,
    pub(super) link_put: PreparedStatement,
    pub(super) link_delete: PreparedStatement,
    pub(super) links_of_user_delete: PreparedStatement,
    /// `[create the chain's state IF NOT EXISTS, its first token]`: one partition.
    pub(super) chain_create: Batch,
    /// `[UPDATE the state IF generation = ? AND revoked = null, the new token]`: one partition.
    pub(super) chain_rotate: Batch,
}
