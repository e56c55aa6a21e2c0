//! OAuth 2.0 and OpenID Connect: what relying parties and resource servers call. Reached
//! through [`Engine::oauth`], a handle over the engine's context.
//!
//! Parts, lowest first (each names only parts above it in this list):
//! - [`claims`]: the access-token and ID-token claims, one type each to sign and to verify;
//! - [`assurance`]: claims from verification (`phone_number`, `verified_claims`) and who
//!   receives them;
//! - [`discovery`]: the provider metadata and the JWKS;
//! - [`assertion`]: JWTs clients sign (`private_key_jwt` assertions, request objects);
//! - [`request`]: request objects (RFC 9101), and pushed requests (RFC 9126) kept;
//! - [`authorize`]: the authorization request, the sealed transaction, consent, codes;
//! - [`token`]: client authentication and the grants, parsed once into [`GrantRequest`]
//!   ([`token::code`], [`token::refresh`], signed by [`token::mint`]);
//! - [`par`]: the pushed authorization request endpoint (RFC 9126);
//! - [`registration`]: dynamic client registration and its management (RFC 7591, 7592);
//! - [`device`]: the device authorization grant (RFC 8628): codes, the user's answer, polls;
//! - [`pairwise`]: pairwise subject identifiers, and the sealed user id behind them;
//! - [`access`]: verifying an access token (signature, expiry, denial, its chain);
//! - [`dpop`]: DPoP proofs (RFC 9449) and the key a token is bound to;
//! - [`userinfo`], [`revoke`], [`introspect`], [`logout`]: using and ending tokens;
//! - [`backchannel`]: logout tokens to relying parties when sessions end, through the
//!   durable outbox, and their sender.

use std::ops::Deref;

use crate::engine::Engine;

pub mod access;
pub mod assertion;
pub mod assurance;
pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod introspect;
pub mod logout;
pub mod pairwise;
pub mod par;
pub mod registration;
pub mod request;
pub mod revoke;
pub mod token;
pub mod userinfo;

pub use authorize::{AuthRequest, AuthorizeError, NextStep};
pub use claims::{AccessTokenClaims, IdTokenClaims};
pub use token::{ClientAuthMethod, ClientCredentials, GrantRequest, TokenResponse};

/// The OAuth 2.0 / OpenID Connect area of the engine.
#[derive(Clone, Copy)]
pub struct OAuth<'e>(&'e Engine);

impl Deref for OAuth<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.0
    }
}

impl Engine {
    /// OAuth 2.0 and OpenID Connect: authorize, token, userinfo, revoke, introspect,
    /// logout, discovery.
    pub fn oauth(&self) -> OAuth<'_> {
        OAuth(self)
    }
}
