//! Criterion benches of Tollgate's engine without HTTP (`cargo bench -p tollgate-benches`).
//! The benches are in `engine.rs`; measured results, with commands and machine, in
//! `RESULTS.md`.
