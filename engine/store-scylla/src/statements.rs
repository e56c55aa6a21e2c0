//! Prepared statements: the global and region statement sets, each prepared once, and the
//! catalogue of every statement the store runs.
//!
//! A set is declared once with [`statement_set!`]: the same list makes the struct of
//! prepared statements, prepares it, and lists it in [`crate::catalogue`], which the checks in
//! `tests/cql_check.rs` parse and resolve against the schema without a server. A statement
//! cannot be prepared without being in the catalogue.

use ::scylla::client::execution_profile::ExecutionProfileHandle;
use ::scylla::client::session::Session as CqlSession;
use ::scylla::statement::Consistency;
use ::scylla::statement::batch::{Batch, BatchType};
use ::scylla::statement::prepared::PreparedStatement;

use crate::errors::short;
use tollgate_store::{StoreError, StoreResult};

/// How a statement may be retried and read: what it is prepared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A plain read: idempotent.
    Read,
    /// An upsert or delete without condition: idempotent.
    Write,
    /// A lightweight transaction: never retried blindly.
    Lwt,
    /// A read at serial consistency: sees (and settles) Paxos rounds in flight.
    SerialRead,
}

/// One statement the store runs, as the catalogue lists it.
#[derive(Clone, Debug)]
pub struct CatalogueEntry {
    /// Where it belongs: `GlobalStatements`, `RegionStatements` or `migrate`.
    pub set: &'static str,
    /// Its name: the field it is prepared into.
    pub name: &'static str,
    /// How it is prepared (consistency, idempotence).
    pub kind: Kind,
    /// Its CQL, with the keyspace filled in.
    pub cql: String,
}

/// Declares a statement set: a struct with one prepared statement per entry (and one batch
/// per batch entry), `prepare`, which prepares them all, and `catalogue`, which lists them
/// with their CQL. Each entry is `name: Kind => "CQL"`, where the CQL may name the
/// keyspace parameter (`{k}`) and constants in scope.
macro_rules! statement_set {
    (
        $(#[$doc:meta])*
        $set:ident on $ks:ident {
            $( $(#[$fdoc:meta])* $field:ident: $kind:ident => $cql:literal, )*
        }
        batches {
            $( $(#[$bdoc:meta])* $batch:ident = [$($member:ident),+ $(,)?], )*
        }
    ) => {
        $(#[$doc])*
        pub(crate) struct $set {
            $( $(#[$fdoc])* pub(crate) $field: ::scylla::statement::prepared::PreparedStatement, )*
            $( $(#[$bdoc])* pub(crate) $batch: ::scylla::statement::batch::Batch, )*
        }

        impl $set {
            /// Every statement of the set, in order, on the given keyspace.
            pub(crate) fn catalogue($ks: &str) -> Vec<$crate::statements::CatalogueEntry> {
                vec![$(
                    $crate::statements::CatalogueEntry {
                        set: stringify!($set),
                        name: stringify!($field),
                        kind: $crate::statements::Kind::$kind,
                        cql: format!($cql),
                    },
                )*]
            }

            /// The set's batches, each with the names of its statements.
            pub(crate) fn batches() -> Vec<(&'static str, &'static [&'static str])> {
                vec![$( (stringify!($batch), &[$(stringify!($member)),+]), )*]
            }

            /// Prepares every statement of the set on the given keyspace.
            pub(crate) async fn prepare(
                p: &$crate::statements::Preparer<'_>,
                $ks: &str,
            ) -> ::tollgate_store::StoreResult<Self> {
                $( let $field = p
                    .prep(stringify!($field), format!($cql), $crate::statements::Kind::$kind)
                    .await?; )*
                $( let $batch = p.batch(&[$(&$member),+]); )*
                Ok(Self { $($field,)* $($batch,)* })
            }
        }
    };
}
pub(crate) use statement_set;

pub(crate) struct Preparer<'a> {
    pub(crate) session: &'a CqlSession,
    pub(crate) profile: ExecutionProfileHandle,
    pub(crate) serial_read: Consistency,
}

impl Preparer<'_> {
    /// Prepares one statement. A statement the cluster refuses (syntax, an unknown table
    /// or column: a schema the migrations did not make) stops the start with the statement
    /// named; a cluster that does not answer is `Unavailable`.
    pub(crate) async fn prep(
        &self,
        name: &str,
        cql: String,
        kind: Kind,
    ) -> StoreResult<PreparedStatement> {
        let mut p = self.session.prepare(cql.clone()).await.map_err(|e| {
            let refused = matches!(
                &e,
                ::scylla::errors::PrepareError::AllAttemptsFailed { first_attempt }
                    if crate::errors::refused_statement(first_attempt)
            );
            let msg = short(format!("preparing statement `{name}` failed: {e} ({cql})"));
            match refused {
                true => StoreError::Invalid(format!(
                    "{msg}; has `tollgate migrate` run with this binary's schema?"
                )),
                false => StoreError::Unavailable(msg),
            }
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

    /// A batch of prepared statements on one partition.
    pub(crate) fn batch(&self, members: &[&PreparedStatement]) -> Batch {
        // A logged batch on one partition runs as an unlogged one; conditional batches
        // must stay in one partition, and these do.
        let mut b = Batch::new(BatchType::Logged);
        for m in members {
            b.append_statement((*m).clone());
        }
        b.set_execution_profile_handle(Some(self.profile.clone()));
        b
    }
}

statement_set! {
    /// Statements on the global keyspace.
    GlobalStatements on g {
        ping: Read => "SELECT version FROM {g}.schema_migrations WHERE keyspace_name = ? LIMIT 1",
        tenant_insert: Lwt => "INSERT INTO {g}.tenants (tenant, region, record) VALUES (?, ?, ?) IF NOT EXISTS",
        tenant_get: Read => "SELECT record, moving_to FROM {g}.tenants WHERE tenant = ?",
        tenant_get_serial: SerialRead => "SELECT region, record, moving_to FROM {g}.tenants WHERE tenant = ?",
        tenant_region: Read => "SELECT region, moving_to FROM {g}.tenants WHERE tenant = ?",
        tenant_list: Read => "SELECT record FROM {g}.tenants",
        tenant_move: Lwt => "UPDATE {g}.tenants SET region = ?, record = ?, moving_to = null \
            WHERE tenant = ? IF region = ? AND moving_to = ?",
        tenant_update: Lwt => "UPDATE {g}.tenants SET record = ? WHERE tenant = ? \
            IF region = ? AND moving_to = null",
        tenant_update_if: Lwt => "UPDATE {g}.tenants SET record = ? WHERE tenant = ? \
            IF region = ? AND moving_to = null AND record = ?",
        tenant_fence: Lwt => "UPDATE {g}.tenants SET moving_to = ? WHERE tenant = ? \
            IF region = ? AND moving_to = null",
        tenant_unfence: Lwt => "UPDATE {g}.tenants SET moving_to = null WHERE tenant = ? IF moving_to = ?",
    }
    batches {}
}
