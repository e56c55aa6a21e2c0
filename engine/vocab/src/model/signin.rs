//! What a first factor leads to: a session, or a second factor still to give. Shared by
//! every sign-in flow (password, codes, passkeys, federation) and by the MFA flow.

use super::{FactorKind, Session};

/// `acr` of a sign-in with one factor.
pub const ACR_ONE_FACTOR: &str = "urn:tollgate:loa:1";
/// `acr` of a sign-in with two factors (`amr` holds `mfa`).
pub const ACR_TWO_FACTORS: &str = "urn:tollgate:loa:2";
/// The `acr` values a relying party may ask for.
pub const ACR_VALUES: [&str; 2] = [ACR_ONE_FACTOR, ACR_TWO_FACTORS];

/// The `acr` a session's `amr` earns.
pub fn acr_for(amr: &[String]) -> &'static str {
    if amr.iter().any(|a| a == "mfa") {
        ACR_TWO_FACTORS
    } else {
        ACR_ONE_FACTOR
    }
}

/// A new session: the cookie value goes to the browser and nowhere else.
#[derive(Debug)]
pub struct NewSession {
    /// The record.
    pub session: Session,
    /// The cookie value (256 random bits); only its hash is stored.
    pub cookie: String,
}

/// What a sign-in needs after its first factor.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in.
    Done(NewSession),
    /// A second factor is needed: one of `factors`.
    SecondFactor(Pending),
    /// The policy requires a second factor and the user has none: enrol one first.
    Enrol(Pending),
    /// A password was just reset and the account has other ways to sign in (`factors`):
    /// the user keeps them or removes them all before going on, since whoever took the
    /// account may have added their own.
    Review(Pending),
}

impl SignInStep {
    /// The session, if signing in is done.
    pub fn session(self) -> Option<NewSession> {
        match self {
            Self::Done(s) => Some(s),
            _ => None,
        }
    }
}

/// A pending sign-in or step-up: the handle goes to the browser (a hidden form field).
#[derive(Debug)]
pub struct Pending {
    /// Opaque, 256 random bits; only its hash is stored.
    pub handle: String,
    /// The factors the user can use (or, when enrolling, may enrol).
    pub factors: Vec<FactorKind>,
}
