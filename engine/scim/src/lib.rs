//! SCIM 2.0 (RFC 7643 schemas, RFC 7644 protocol) as pure functions over JSON, for the
//! engine's SCIM flows and the gateway's handlers:
//!
//! - [`schema`]: the User (with the enterprise extension) and Group schemas as one
//!   attribute table, the `/Schemas`, `/ResourceTypes` and `/ServiceProviderConfig`
//!   documents, and input checking against the table;
//! - [`filter`]: the filter language (parser with length, depth and size limits,
//!   schema check, evaluator, sort keys);
//! - [`patch`]: PATCH operations on a resource's JSON, all or nothing;
//! - [`error`]: SCIM error responses (`scimType`s of RFC 7644 §3.12).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod error;
pub mod filter;
pub mod patch;
pub mod schema;

pub use error::{ScimError, ScimResult, ScimType};
