//! The user's own account: the portal's changes (email, phone, password, deletion), the
//! privacy rights (export, connected apps, sign out everywhere, erasure), consent
//! purposes, progressive profiling and grievances. Reached through [`Engine::account`].
//!
//! Parts, lowest first (each names only parts above it in this list):
//! [`profiling`], [`grievances`], [`notices`], [`purposes`], [`consent_managers`],
//! [`privacy`], [`portal`], [`dormancy`], [`retention`], [`children`].

use crate::engine::Engine;

pub mod children;
pub mod consent_managers;
pub mod dormancy;
pub mod grievances;
pub mod notices;
pub mod portal;
pub mod privacy;
pub mod profiling;
pub mod purposes;
pub mod retention;

/// The account area of the engine.
#[derive(Clone, Copy)]
pub struct Account<'e>(&'e Engine);

impl std::ops::Deref for Account<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.0
    }
}

impl Engine {
    /// The user's account: portal changes, privacy rights, purposes, profile.
    pub fn account(&self) -> Account<'_> {
        Account(self)
    }
}
