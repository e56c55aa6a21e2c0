//! The catalogue of every statement the store runs, gathered from the statement sets and
//! the migration ledger: what `tests/cql_check.rs` parses and resolves against the schema
//! without a server. It names the sets; they do not name it.

use crate::region_statements::RegionStatements;
use crate::statements::{CatalogueEntry, GlobalStatements};

/// Every statement the store runs: the global set on `global`, the region set on `region`
/// and the migration ledger's statements (run unprepared by `tollgate migrate`).
pub fn catalogue(global: &str, region: &str) -> Vec<CatalogueEntry> {
    let mut all = GlobalStatements::catalogue(global);
    all.extend(RegionStatements::catalogue(region));
    all.extend(crate::migrate::ledger_catalogue(global));
    all
}

/// The batches the store runs, each with the names of the catalogue statements in it.
pub fn catalogue_batches() -> Vec<(&'static str, &'static [&'static str])> {
    let mut all = GlobalStatements::batches();
    all.extend(RegionStatements::batches());
    all
}
