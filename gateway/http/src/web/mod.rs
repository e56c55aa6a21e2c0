//! Web helpers the handlers share. Each is a leaf, or names only [`crate::state`] and
//! other helpers here, without rings; none names a page, the journey or a handler.
//!
//! - [`error`]: the one mapping from engine errors to HTTP, as OAuth JSON or as a page.
//! - [`respond`]: the 303 redirect.
//! - [`request`]: bounded form bodies, unique parameters, the caller's address.
//! - [`client_auth`]: OAuth client credentials and the admin token.
//! - [`cookies`]: cookie names and tenant-scoped cookies.
//! - [`csrf`]: the CSRF cookie, checking a form's token, form pages that carry one.
//! - [`tenant`]: the `{tenant}` path segment.
//! - [`session`]: the browser's session.
//! - [`tx`]: the sealed authorization request (`tx`) a sign-in carries along.
//! - [`form`]: a submitted page form, read and checked once.
//! - [`metrics`]: the middleware that records every request.
//! - [`view`]: a page's look and language (templates, catalogue, theme), and its response.
//! - [`dpop`]: the DPoP proof and scheme of a request, `DPoP-Nonce`, DPoP challenges.

pub mod client_auth;
pub mod cookies;
pub mod csrf;
pub mod dpop;
pub mod error;
pub mod form;
pub mod metrics;
pub mod request;
pub mod respond;
pub mod session;
pub mod tenant;
pub mod tx;
pub mod view;
