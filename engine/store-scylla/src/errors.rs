//! How driver failures become [`StoreError`]s, with messages kept short.

use std::fmt;

use ::scylla::errors::NextRowError;

use tollgate_store::StoreError;

pub(super) fn short(mut s: String) -> String {
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// A request the cluster did not answer (timeout, unavailable replicas, lost connection).
pub(super) fn unavailable(e: impl fmt::Display) -> StoreError {
    StoreError::Unavailable(short(format!("scylla: {e}")))
}

pub(super) fn corrupt(e: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(short(e.to_string()))
}

pub(super) fn next_row_error(e: NextRowError) -> StoreError {
    match e {
        NextRowError::RowDeserializationError(e) => corrupt(e),
        e => unavailable(e),
    }
}
