//! Aggregation of request outcomes into totals (overall, per request kind,
//! per phase) and a per-second timeline. Everything here is pure (no I/O, no
//! clocks) so it can be tested by feeding it synthetic outcomes.
//!
//! Outcomes are kept apart in four classes throughout: successes (2xx),
//! overload answers (503 or 429, with or without `Retry-After`), other HTTP
//! statuses, and transport or protocol errors. Drops (never sent) are a
//! fifth, separate count.
//!
//! Split by concern; callers use the re-exports below only:
//! - [`outcome`]: what happened to one request ([`Status`], [`Outcome`]),
//! - [`totals`]: counts and latency summaries over a set of requests,
//! - [`model`]: the report's data ([`Report`], [`RunInfo`], [`SecondStats`], ...),
//! - [`aggregate`]: the [`Aggregator`] that builds a report from outcomes,
//! - [`summary`]: the text printed to stdout.
//!
//! Each submodule uses only those listed before it (`aggregate` and
//! `summary` both sit on `model`), and none uses this file, so no ring.

mod aggregate;
mod model;
mod outcome;
mod summary;
pub(crate) mod totals;

pub use aggregate::Aggregator;
pub use model::{ChainStats, PhaseInfo, RunInfo, SecondStats};
pub use outcome::{DropReason, ErrorKind, Outcome, Status};
