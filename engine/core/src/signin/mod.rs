//! Signing in: every way a user proves who they are, and the sessions that follow.
//! Reached through [`Engine::signin`].
//!
//! Parts, lowest first (each names only parts above it in this list):
//! - [`mails`]: the words of mails and texts, in the recipient's language;
//! - [`login`]: passwords, sign-up, sessions;
//! - [`mfa`]: the second factor and step-up (TOTP, recovery codes, the pending sign-in);
//! - [`otp`]: one-time codes and links, their limits and delivery;
//! - [`email_codes`]: email sign-in, password reset, email verification;
//! - [`phone`]: phone numbers, and sign-in and enrolment by text message;
//! - [`passkeys`]: WebAuthn registration and sign-in, as a first or second factor.

use crate::engine::Engine;

pub mod email_codes;
pub mod login;
pub mod mails;
pub mod mfa;
pub mod otp;
pub mod passkeys;
pub mod phone;

/// The sign-in area of the engine.
#[derive(Clone, Copy)]
pub struct SignIn<'e>(&'e Engine);

impl std::ops::Deref for SignIn<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.0
    }
}

impl Engine {
    /// Sign-in: passwords, sessions, second factors, codes, passkeys.
    pub fn signin(&self) -> SignIn<'_> {
        SignIn(self)
    }
}
