//! Page rendering, apart from the handlers: what the hosted pages and the sections
//! several handlers share show, rendered from the templates of `tollgate-ui` through
//! [`crate::web::view::View`] (no HTML is built in Rust); a rendering module may load what
//! it shows through the engine, but never names the journey or a handler.
//!
//! - [`children`]: the sign-up page's age fields, a child's account waiting for a parent.
//! - [`hosted`]: sign-in, sign-up, consent, sign-out, the account page's frame.
//! - [`mfa`]: second factors, enrolment, recovery codes.
//! - [`notices`]: the itemised notice of a purpose (DPDP Rule 3).
//! - [`otp`]: code and link pages (email and phone), and their failure answers.
//! - [`passkeys`]: the passkey blocks, the account section, the offer after sign-up.
//! - [`portal`]: account self-service sections and the step after sign-in.
//! - [`device`]: entering a device's code and confirming it.
//! - [`federation`]: provider buttons, linking, failures, linked identities.
//! - [`verify`]: the Aadhaar verification form and its result.

pub mod children;
pub mod device;
pub mod federation;
pub mod hosted;
pub mod mfa;
pub mod notices;
pub mod otp;
pub mod passkeys;
pub mod portal;
pub mod verify;
