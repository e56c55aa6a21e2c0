//! The handlers: one module per flow, each a thin layer (extract, call the engine or the
//! journey, render). A handler module never names another handler module: what two of
//! them share lives below, in [`crate::journey`], [`crate::pages`] or [`crate::web`].
//! Only [`crate::routes`] names them.
//!
//! - [`oidc`]: discovery, JWKS, authorize, token, userinfo, revoke, introspect.
//! - [`par`]: pushed authorization requests (RFC 9126).
//! - [`registration`]: dynamic client registration (RFC 7591, 7592), initial access tokens.
//! - [`hosted`]: sign-in, sign-up, consent, the account page, sign-out.
//! - [`mfa`]: second factors, enrolment, step-up, recovery codes.
//! - [`passkeys`]: passkey ceremonies (JSON endpoints and their script), the offer.
//! - [`email`], [`phone`]: codes and links by email and by phone.
//! - [`portal`]: account self-service (profile, email, phone, password, privacy,
//!   deletion); [`complete`]: the step after sign-in.
//! - [`federation`]: upstream providers: the round trip, linking, connectors' admin API.
//! - [`device`]: the device authorization grant: its endpoint and the page for the code.
//! - [`branding`]: the tenant's stylesheet; the admin API for themes, templates, messages.
//! - [`admin`]: the admin API; [`messaging_admin`]: a tenant's WhatsApp number and DLT
//!   registration; [`whatsapp`]: that number's status webhook.
//! - [`truecaller`]: the Truecaller verification API (an app's signed profile).
//! - [`verification_admin`]: a tenant's identity verification settings.
//! - [`retention_admin`]: dormancy, legal holds and event retention (DPDP Rules 6, 8).
//! - [`verify`]: identity verification with Aadhaar offline e-KYC: the page and the API.
//! - [`notices`]: consent receipts for the user (DPDP Rule 4).
//! - [`consent_manager`]: the consent-manager API (DPDP Rule 4).
//! - [`grievances`]: the tenant's privacy contact (public document, admin API).
//! - [`breach`]: personal data breaches: incidents, notification, Board reports (Rule 7).
//! - [`scim`]: SCIM 2.0 provisioning (`{issuer}/scim/v2`) and the admin API of its tokens.
//! - [`demo`]: the built-in demo relying party (development mode).
//! - [`ops`]: health, readiness, `/metrics`, the JSON 404.

pub mod admin;
pub mod apis;
pub mod branding;
pub mod breach;
pub mod children;
pub mod complete;
pub mod consent_manager;
pub mod demo;
pub mod device;
pub mod email;
pub mod federation;
pub mod grievances;
pub mod hosted;
pub mod messaging_admin;
pub mod mfa;
pub mod notices;
pub mod oidc;
pub mod ops;
pub mod orgs;
pub mod par;
pub mod passkeys;
pub mod phone;
pub mod portal;
pub mod realm;
pub mod registration;
pub mod retention_admin;
pub mod saml;
pub mod scim;
pub mod truecaller;
pub mod verification_admin;
pub mod verify;
pub mod whatsapp;
