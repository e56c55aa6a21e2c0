//! The SAML 2.0 identity provider: apps that only speak SAML sign their users in through
//! Tollgate. The messages are `tollgate-saml`'s; this area holds what needs the tenant,
//! the keys, the store and the clock:
//!
//! - [`sps`]: the service providers an admin registers (by metadata or by fields), kept
//!   in the tenant record, and the IdP's own signing key and metadata;
//! - [`sso`]: an SP's `AuthnRequest` checked (SP known, ACS registered, signature when the
//!   SP has a certificate, instant, replay, NameID format), the pending sign-in sealed for
//!   the browser, and the signed `Response` once the user is signed in; IdP-initiated SSO;
//! - [`slo`]: an SP's `LogoutRequest` ends the session and is answered.
//!
//! Every SSO and SLO is an audit event (`saml.sso`, `saml.slo`), success or refusal.

use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::EngineError;

pub mod slo;
pub mod sps;
pub mod sso;

/// The SAML area's handle.
pub struct Saml<'e>(&'e Engine);

impl std::ops::Deref for Saml<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.0
    }
}

impl Engine {
    /// The SAML identity provider.
    pub fn saml(&self) -> Saml<'_> {
        Saml(self)
    }
}

/// A message the browser brought, in its binding.
#[derive(Clone, Debug)]
pub enum Incoming {
    /// HTTP-Redirect: the raw query string (signature checked over its bytes).
    Redirect(String),
    /// HTTP-POST: the `SAMLRequest` field and `RelayState`.
    Post {
        /// The base64 message.
        message: String,
        /// `RelayState`.
        relay_state: Option<String>,
    },
}

/// An answer the browser carries to the SP in an HTTP-POST form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostForm {
    /// Where the form goes (the ACS or SLO URL).
    pub action: String,
    /// `SAMLResponse`.
    pub saml_response: String,
    /// `RelayState`, as the SP sent it.
    pub relay_state: Option<String>,
}

/// Why a SAML request was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Nowhere trustworthy to answer (unknown SP, ACS not registered, bad signature,
    /// unreadable message, replay): the browser is shown a page with this code.
    Page(&'static str, String),
    /// The SP is told with a SAML status in a response POSTed to its ACS.
    Respond(PostForm),
    /// Something failed inside.
    Engine(EngineError),
}

impl From<EngineError> for Refusal {
    fn from(e: EngineError) -> Self {
        Self::Engine(e)
    }
}

impl From<tollgate_store::StoreError> for Refusal {
    fn from(e: tollgate_store::StoreError) -> Self {
        Self::Engine(e.into())
    }
}

impl Refusal {
    fn page(e: &tollgate_saml::SamlError) -> Self {
        Self::Page(e.code(), e.to_string())
    }
}
