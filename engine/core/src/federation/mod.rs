//! Federation: signing in through an upstream identity provider, behind the tenant's one
//! issuer. Relying parties still see Tollgate's tokens and Tollgate's `sub`.
//!
//! - **Connectors** are per-tenant: a generic OpenID Connect one (discovery, code + PKCE,
//!   nonce, ID token checked against the upstream JWKS), a generic OAuth 2.0 one with a
//!   userinfo mapping, and presets (Google, Microsoft, Apple, GitHub, LinkedIn, DigiLocker,
//!   Truecaller)
//!   that fill in endpoints, scopes and the mapping. Client secrets are sealed at rest.
//! - **The calls out** (discovery, JWKS, token and userinfo) go through the
//!   [`UpstreamHttp`](crate::runtime::outbound::UpstreamHttp) port the binary supplies; this
//!   module decides what to ask and what to trust: it keeps the pending sign-in (state, nonce, PKCE verifier; single use, bound
//!   to the browser), checks ID tokens, maps claims and links or provisions the user.
//! - **Linking rules:** an upstream identity already linked signs its user in. Otherwise an
//!   existing account with the same email is linked only when the upstream says the email
//!   is verified *and* the connector allows linking by email; else the user must prove the
//!   account (its password) first. With no such account, a new one is provisioned.
//! - **Links** are keyed by a keyed hash of (tenant, provider, upstream subject), so the
//!   upstream identifier is not an index in the clear; the mapped profile and any upstream
//!   tokens kept are sealed with AES-256-GCM under the user's data key (bound to tenant,
//!   user and provider), so deleting the account erases them.
//! - **Audit:** `login.federated` for every federated sign-in (success or the reason it
//!   failed), `federation.linked`, `federation.unlinked`, `federation.provisioned`. Events
//!   carry the provider id and reason codes, never emails or tokens.
//!
//! Parts, lowest first: [`types`] (shared), [`upstream`] (tokens and claims),
//! [`connectors`], [`redeem`] (the calls out), `truecaller` (the verified number a
//! Truecaller sign-in brings), `digilocker` (the identity verification a DigiLocker
//! sign-in brings), [`linking`], [`realm`] (organisations' domains: home-realm
//! discovery), [`signin`] (the round trip). Each part names
//! only [`types`] and parts listed before it.

use crate::engine::Engine;

pub mod connectors;
mod digilocker;
pub mod linking;
pub mod realm;
pub mod redeem;
pub mod signin;
mod truecaller;
pub mod types;
pub mod upstream;

pub use crate::model::federation::valid_connector_id;
pub use connectors::{ConnectorInput, PRESETS, check_upstream_url};
pub use realm::HomeRealm;
pub use types::*;
pub use upstream::{
    IdTokenError, IdTokenExpectations, apple_client_secret, map_claims, pick_email,
    validate_id_token,
};

/// The federation area of the engine.
#[derive(Clone, Copy)]
pub struct Federation<'e>(&'e Engine);

impl std::ops::Deref for Federation<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.0
    }
}

impl Engine {
    /// Federation: connectors, the upstream round trip, links.
    pub fn federation(&self) -> Federation<'_> {
        Federation(self)
    }
}

#[cfg(test)]
mod tests;
