//! Tollgate's HTTP surface: actix-web handlers, pages and routes over the engine. It names
//! no store backend and no sender; the `tollgate` binary wires those in.
//!
//! Layers, each naming only those below it (a lower one never names a higher one):
//!
//! 1. [`state`]: `AppState` and what it holds (engine, CSRF key, metrics). A leaf.
//!    [`api`]: the admin API's wire types, shared with the `tollgate admin` command.
//! 2. [`web`]: request helpers (forms, client authentication, cookies, CSRF, the sealed
//!    `tx`, error mapping, metrics middleware, the page shell).
//! 3. [`pages`]: page rendering, apart from the handlers.
//! 4. [`journey`]: where a sign-in goes next, decided once for every handler.
//! 5. [`handlers`]: one module per flow; a handler never names another handler.
//! 6. [`routes`]: the one place that names handlers.

// A panic in a request path takes a worker with it; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod api;
pub mod handlers;
pub mod journey;
pub mod pages;
pub mod routes;
pub mod state;
pub mod web;
