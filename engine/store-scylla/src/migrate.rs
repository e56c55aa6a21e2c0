//! Migrations: the CQL in `schema/`, applied by `tollgate migrate` and checked on connect.

use std::collections::HashMap;
use std::time::Duration;

use ::scylla::client::session::Session as CqlSession;
use ::scylla::statement::unprepared::Statement;
use ::scylla::value::CqlTimestamp;

use crate::config::{Plan, Scope, ScyllaConfig, open_session};
use crate::errors::{corrupt, short, unavailable};
use crate::rows::int;
use crate::statements::{CatalogueEntry, Kind};
use tollgate_store::{StoreError, StoreResult};
use tollgate_vocab::clock::{Clock, SystemClock};
use tollgate_vocab::crypto::sha256;

/// The message `connect` fails with when `tollgate migrate` has not been run.
const SCHEMA_OUTDATED: &str = "schema is missing or older than this binary: run `tollgate migrate`";

struct Migration {
    version: i32,
    name: &'static str,
    scope: Scope,
    cql: &'static str,
}

/// Every migration this binary knows, in order. A migration is named `NNNN_<what>` after
/// its file; its scope (the first line of the file says it too) is `Global` (the global
/// keyspace) or `Region` (every region keyspace).
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_global",
        scope: Scope::Global,
        cql: include_str!("../../../schema/0001_global.cql"),
    },
    Migration {
        version: 2,
        name: "0002_region",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0002_region.cql"),
    },
    Migration {
        version: 3,
        name: "0003_factors",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0003_factors.cql"),
    },
    Migration {
        version: 4,
        name: "0004_user_index",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0004_user_index.cql"),
    },
    Migration {
        version: 5,
        name: "0005_privacy",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0005_privacy.cql"),
    },
    Migration {
        version: 6,
        name: "0006_federation",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0006_federation.cql"),
    },
    Migration {
        version: 7,
        name: "0007_consent_purposes",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0007_consent_purposes.cql"),
    },
    Migration {
        version: 8,
        name: "0008_logout_outbox",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0008_logout_outbox.cql"),
    },
    Migration {
        version: 9,
        name: "0009_verifications",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0009_verifications.cql"),
    },
    Migration {
        version: 10,
        name: "0010_grievances",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0010_grievances.cql"),
    },
    Migration {
        version: 11,
        name: "0011_retention",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0011_retention.cql"),
    },
    Migration {
        version: 12,
        name: "0012_consent_receipts",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0012_consent_receipts.cql"),
    },
    Migration {
        version: 13,
        name: "0013_children",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0013_children.cql"),
    },
    Migration {
        version: 14,
        name: "0014_breaches",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0014_breaches.cql"),
    },
    Migration {
        version: 15,
        name: "0015_orgs",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0015_orgs.cql"),
    },
    Migration {
        version: 16,
        name: "0016_scim",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0016_scim.cql"),
    },
    Migration {
        version: 18,
        name: "0018_org_domains",
        scope: Scope::Region,
        cql: include_str!("../../../schema/0018_org_domains.cql"),
    },
];

impl Migration {
    fn checksum(&self) -> String {
        sha256(self.cql.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The statements, with `{keyspace}` and `{replication}` filled in.
    fn statements(&self, keyspace: &str, replication: &str) -> Vec<String> {
        split_cql(self.cql)
            .into_iter()
            .map(|s| {
                s.replace("{keyspace}", keyspace)
                    .replace("{replication}", replication)
            })
            .collect()
    }
}

/// Every migration statement, in order, as `(migration, statement)`: global migrations on
/// `global`, region migrations on `region`, both with `replication` filled in.
pub fn migration_catalogue(
    global: &str,
    region: &str,
    replication: &str,
) -> Vec<(&'static str, String)> {
    MIGRATIONS
        .iter()
        .flat_map(|m| {
            let keyspace = match m.scope {
                Scope::Global => global,
                Scope::Region => region,
            };
            m.statements(keyspace, replication)
                .into_iter()
                .map(move |s| (m.name, s))
        })
        .collect()
}

/// Whether a table exists: the ledger's own check, before the first migration.
const TABLE_EXISTS: &str =
    "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?";

/// The migrations recorded for a keyspace.
fn ledger_read(global: &str) -> String {
    format!("SELECT version, checksum FROM {global}.schema_migrations WHERE keyspace_name = ?")
}

/// Records an applied migration.
fn ledger_record(global: &str) -> String {
    format!(
        "INSERT INTO {global}.schema_migrations (keyspace_name, version, name, checksum, applied_at) \
         VALUES (?, ?, ?, ?, ?)"
    )
}

/// The ledger's statements, run unprepared by `tollgate migrate` and on connect: their
/// part of the statement catalogue.
pub(crate) fn ledger_catalogue(global: &str) -> Vec<CatalogueEntry> {
    let entry = |name, kind, cql| CatalogueEntry {
        set: "migrate",
        name,
        kind,
        cql,
    };
    vec![
        entry("table_exists", Kind::Read, TABLE_EXISTS.to_owned()),
        entry("ledger_read", Kind::Read, ledger_read(global)),
        entry("ledger_record", Kind::Write, ledger_record(global)),
    ]
}

/// Splits a CQL script on `;`, dropping `--` comments (outside string literals).
fn split_cql(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_str = !in_str;
                cur.push(c);
            }
            '-' if !in_str && chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        cur.push('\n');
                        break;
                    }
                }
            }
            ';' if !in_str => {
                let s = cur.trim();
                if !s.is_empty() {
                    out.push(s.to_owned());
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    let s = cur.trim();
    if !s.is_empty() {
        out.push(s.to_owned());
    }
    out
}

/// Whether a table exists (the migration ledger, before the first migration).
async fn table_exists(session: &CqlSession, keyspace: &str, table: &str) -> StoreResult<bool> {
    let r = session
        .query_unpaged(TABLE_EXISTS, (keyspace, table))
        .await
        .map_err(unavailable)?
        .into_rows_result()
        .map_err(corrupt)?;
    Ok(r.rows_num() > 0)
}

/// version -> checksum of the migrations recorded for a keyspace.
async fn recorded(
    session: &CqlSession,
    plan: &Plan,
    keyspace: &str,
) -> StoreResult<HashMap<i32, String>> {
    if !table_exists(session, &plan.global, "schema_migrations").await? {
        return Ok(HashMap::new());
    }
    let r = session
        .query_unpaged(ledger_read(&plan.global), (keyspace,))
        .await
        .map_err(unavailable)?
        .into_rows_result()
        .map_err(corrupt)?;
    let rows = r.rows::<(i32, Option<String>)>().map_err(corrupt)?;
    let mut out = HashMap::new();
    for row in rows {
        let (v, sum) = row.map_err(corrupt)?;
        out.insert(v, sum.unwrap_or_default());
    }
    Ok(out)
}

pub(super) async fn check_schema(session: &CqlSession, plan: &Plan) -> StoreResult<()> {
    for (keyspace, _, scope) in plan.targets() {
        let done = recorded(session, plan, keyspace).await?;
        if let Some(m) = MIGRATIONS
            .iter()
            .find(|m| m.scope == scope && !done.contains_key(&m.version))
        {
            tracing::error!(
                keyspace,
                migration = m.name,
                "ScyllaDB schema is behind this binary"
            );
            return Err(StoreError::Unavailable(SCHEMA_OUTDATED.into()));
        }
    }
    Ok(())
}

/// Applies the migrations in `schema/` that are not yet recorded: the global ones to the
/// global keyspace, the region ones to every configured region's keyspace. Statements are
/// idempotent (`IF NOT EXISTS`), each migration is recorded with its checksum once all its
/// statements succeeded and the cluster agrees on the schema, and a migration whose text
/// changed after it was applied is an error. Returns `keyspace/migration` for each one
/// applied (empty: the schema is up to date).
pub async fn migrate(cfg: &ScyllaConfig) -> StoreResult<Vec<String>> {
    let plan = Plan::new(cfg)?;
    let session = open_session(cfg, &plan).await?;
    let mut applied_now = Vec::new();
    for (keyspace, replication, scope) in plan.targets() {
        let done = recorded(&session, &plan, keyspace).await?;
        for m in MIGRATIONS.iter().filter(|m| m.scope == scope) {
            let checksum = m.checksum();
            if let Some(recorded_sum) = done.get(&m.version) {
                if *recorded_sum != checksum {
                    return Err(StoreError::Unavailable(format!(
                        "migration {} was changed after it was applied to {keyspace}: add a new migration instead",
                        m.name
                    )));
                }
                continue;
            }
            for cql in m.statements(keyspace, replication) {
                let mut st = Statement::new(cql);
                // DDL waits for the cluster's schema changes, far longer than a request.
                st.set_request_timeout(Some(Duration::from_secs(120)));
                session.query_unpaged(st, ()).await.map_err(|e| {
                    StoreError::Unavailable(short(format!(
                        "migration {} on {keyspace} failed: {e}",
                        m.name
                    )))
                })?;
            }
            session.await_schema_agreement().await.map_err(|e| {
                StoreError::Unavailable(short(format!(
                    "the cluster did not agree on the schema after {}: {e}",
                    m.name
                )))
            })?;
            session
                .query_unpaged(
                    ledger_record(&plan.global),
                    (
                        keyspace,
                        m.version,
                        m.name,
                        checksum.as_str(),
                        CqlTimestamp(int(SystemClock.now_millis())),
                    ),
                )
                .await
                .map_err(unavailable)?;
            tracing::info!(keyspace, migration = m.name, "applied migration");
            applied_now.push(format!("{keyspace}/{}", m.name));
        }
    }
    Ok(applied_now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_split_into_statements_without_comments() {
        for m in MIGRATIONS {
            let statements = m.statements("ks", "{'class': 'NetworkTopologyStrategy', 'dc1': 3}");
            assert!(!statements.is_empty(), "{} is empty", m.name);
            for s in &statements {
                assert!(!s.contains("--"), "comment left in {}: {s}", m.name);
                assert!(!s.contains("{keyspace}") && !s.contains("{replication}"));
                assert!(!s.contains("ALLOW FILTERING") && !s.contains("INDEX"));
                assert!(s.starts_with("CREATE "), "{}: {s}", m.name);
            }
            assert!(
                statements[0].contains("tablets = {'enabled': false}"),
                "{}: keyspaces with lightweight transactions need tablets off",
                m.name
            );
        }
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
        assert!(
            MIGRATIONS
                .iter()
                .all(|m| m.name.starts_with(&format!("{:04}_", m.version)))
        );
    }
}
