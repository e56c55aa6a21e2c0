//! What federation's parts share: limits, the upstream identity as mapped, pending and
//! finished federated sign-ins.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

use crate::clock::UnixTime;
use crate::error::EngineError;
use crate::model::Hash32;
use crate::model::federation::Connector;
use crate::model::signin::SignInStep;
/// How long a pending federated sign-in (the round trip to the upstream) may take.
pub const PENDING_TTL: u64 = 600;
/// How long a user has to prove an existing account before a link is made.
pub const LINK_TTL: u64 = 600;
/// Password attempts allowed when proving an existing account.
pub const LINK_TRIES: u32 = 5;
/// Clock skew allowed on upstream ID tokens, seconds.
pub const ID_TOKEN_LEEWAY: u64 = 60;

pub(super) const PURPOSE_PENDING: &str = "federation";
pub(super) const PURPOSE_LINK: &str = "federation_link";

/// What the upstream said about the user, after the mapping: only mapped fields.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UpstreamIdentity {
    /// Stable upstream identifier.
    pub subject: String,
    /// Email, if mapped and given.
    pub email: Option<String>,
    /// Whether the upstream asserts it verified the email.
    pub email_verified: bool,
    /// Display name.
    pub name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Locale.
    pub locale: Option<String>,
    /// Groups.
    pub groups: Vec<String>,
    /// The `keep` claims.
    pub extra: BTreeMap<String, Value>,
}

impl fmt::Debug for UpstreamIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamIdentity")
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

/// Upstream tokens, kept (sealed) only when the connector says so.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamTokens {
    /// Access token.
    pub access_token: String,
    /// Refresh token, if any.
    pub refresh_token: Option<String>,
    /// When the access token expires, if said.
    pub expires_at: Option<UnixTime>,
    /// Granted scope, if said.
    pub scope: Option<String>,
}

impl fmt::Debug for UpstreamTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UpstreamTokens(<hidden>)")
    }
}

/// A linked identity as the account page shows it.
#[derive(Clone, Debug)]
pub struct LinkedIdentity {
    /// Connector id.
    pub provider: String,
    /// Connector name (or the id, if the connector was removed).
    pub display_name: String,
    /// The link's key, hex: names it in the unlink form.
    pub key: String,
    /// The upstream email, if mapped.
    pub email: Option<String>,
    /// Linked.
    pub created_at: UnixTime,
    /// Last used.
    pub last_login_at: UnixTime,
}

/// Why a call to an upstream failed: a reason code for the audit trail, and detail for
/// logs (never shown to the user).
#[derive(Debug)]
pub struct UpstreamFailure {
    /// The reason code (audit).
    pub reason: &'static str,
    /// What went wrong (logs only).
    pub detail: String,
}

/// What the gateway needs to send the browser upstream.
#[derive(Debug)]
pub struct FederationStart {
    /// The connector.
    pub connector: Connector,
    /// `state`: 256 random bits, single use.
    pub state: String,
    /// `nonce` (OIDC).
    pub nonce: String,
    /// PKCE S256 challenge.
    pub code_challenge: String,
}

/// A pending federated sign-in, taken (once) at the callback.
#[derive(Debug)]
pub struct FederationPending {
    /// The connector.
    pub connector: Connector,
    /// The nonce sent upstream.
    pub nonce: String,
    /// The PKCE verifier.
    pub code_verifier: String,
    /// The sealed authorization request it continues, if any.
    pub tx: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct PendingData {
    pub(super) connector: String,
    pub(super) nonce: String,
    pub(super) verifier: String,
    pub(super) tx: Option<String>,
    pub(super) binding: Hash32,
}

#[derive(Serialize, Deserialize)]
pub(super) struct LinkData {
    pub(super) connector: String,
    /// Sealed (identity, tokens), AAD: tenant/user/provider.
    pub(super) sealed: String,
    pub(super) tx: Option<String>,
}

/// A federated sign-in, as the callback learned it.
#[derive(Debug)]
pub struct FederatedSignIn<'a> {
    /// Through which connector.
    pub connector: &'a Connector,
    /// Who the upstream says the user is (mapped).
    pub identity: UpstreamIdentity,
    /// The upstream's tokens (kept only if the connector says so).
    pub tokens: Option<UpstreamTokens>,
    /// The sealed authorization request being continued, if any.
    pub tx: Option<String>,
    /// The relying party asked for two factors.
    pub want_two: bool,
}

/// How a federated sign-in ended.
#[derive(Debug)]
pub enum FederatedOutcome {
    /// Signed in (or a second factor is next).
    Step(SignInStep),
    /// An account with the upstream's email exists but may not be linked without proof:
    /// ask for its password (the handle goes into the form).
    ConfirmLink {
        /// Opaque, single use.
        handle: String,
    },
}

pub(super) fn pending_expired() -> EngineError {
    EngineError::Invalid(
        "This sign-in attempt expired or was already used. Go back to the application and start again."
            .into(),
    )
}
