//! How driver failures become [`StoreError`]s, with messages kept short.

use std::fmt;

use ::scylla::errors::{DbError, ExecutionError, NextRowError, PrepareError, RequestAttemptError};

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

/// A failed request. One the cluster refuses as written (syntax, an unknown table or
/// column, permissions, configuration) is `Invalid`: a bug or a broken deployment,
/// logged as such and never answered as a passing outage (503); anything else is
/// `Unavailable`.
pub(super) fn execution(e: ExecutionError) -> StoreError {
    let refused = match &e {
        ExecutionError::BadQuery(_) => true,
        ExecutionError::LastAttemptError(a) => refused_statement(a),
        ExecutionError::PrepareError(PrepareError::AllAttemptsFailed { first_attempt }) => {
            refused_statement(first_attempt)
        }
        _ => false,
    };
    match refused {
        true => StoreError::Invalid(short(format!("scylla refused a statement: {e}"))),
        false => unavailable(e),
    }
}

/// Whether a server error says the statement itself is wrong for this cluster.
pub(super) fn refused_statement(a: &RequestAttemptError) -> bool {
    matches!(
        a,
        RequestAttemptError::DbError(
            DbError::SyntaxError
                | DbError::Invalid
                | DbError::Unauthorized
                | DbError::ConfigError
                | DbError::AlreadyExists { .. },
            _
        )
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_statement_is_invalid_and_an_outage_is_unavailable() {
        let db = |e: DbError| {
            ExecutionError::LastAttemptError(RequestAttemptError::DbError(e, "why".into()))
        };
        for refused in [
            DbError::SyntaxError,
            DbError::Invalid,
            DbError::Unauthorized,
        ] {
            assert!(matches!(execution(db(refused)), StoreError::Invalid(_)));
        }
        let timeout = ExecutionError::RequestTimeout(std::time::Duration::from_secs(2));
        assert!(matches!(execution(timeout), StoreError::Unavailable(_)));
        assert!(matches!(
            execution(db(DbError::Overloaded)),
            StoreError::Unavailable(_)
        ));
    }
}
