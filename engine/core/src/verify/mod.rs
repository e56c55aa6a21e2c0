//! Identity verification through India's rails (Aadhaar Paperless Offline e-KYC,
//! DigiLocker, Truecaller): the results kept, sealed, audited, listed and erased. Reached
//! through [`Engine::verify`].
//!
//! This module is the record keeper every rail shares, and names no other area: the
//! claims (`oauth`), the data export and account deletion (`account`) read through it.
//! The rails' flows sit beside it, one file each (`aadhaar`, `truecaller`), and end in
//! [`Verify::record`] or [`Verify::failed`].
//!
//! Data is minimised by design. A [`Verification`] holds the least that proves a result
//! (method, time, name match, last four digits, keyed hashes); it is stored sealed under
//! the user's data key, so deleting the user (crypto-shredding) erases it in every copy.
//! Audit events carry the method, the result and a machine code, never personal data.

pub mod aadhaar;
pub mod truecaller;

use std::ops::Deref;

use crate::crypto::{b64, b64_decode, random_token};
use crate::engine::{Engine, RequestMeta};
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::Tenant;
use crate::model::verification::{Verification, VerificationMethod, VerificationRecord};

/// The verification area of the engine.
#[derive(Clone, Copy)]
pub struct Verify<'e>(&'e Engine);

impl Deref for Verify<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.0
    }
}

impl Engine {
    /// Identity verification: recording results, listing them, keyed hashes.
    pub fn verify(&self) -> Verify<'_> {
        Verify(self)
    }
}

/// The purpose of the keyed hash of a normalised name (`tollgate_kyc::names::normalised`)
/// that a verification keeps: what a later match, and the release of a verified name,
/// compare with.
pub const NAME_HASH_PURPOSE: &str = "kyc-name";

/// The audit event kind of a method: `verify.aadhaar_offline`, `verify.digilocker`,
/// `verify.truecaller`.
pub fn event_kind(method: VerificationMethod) -> String {
    format!("verify.{}", method.as_str())
}

/// A failure code as it may appear in an event: a machine code (`bad_signature`), never
/// free text. Anything else is replaced by `invalid_code`, so a caller's mistake cannot
/// put personal data in the audit trail.
fn machine_code(code: &str) -> &str {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok { code } else { "invalid_code" }
}

/// Binds a sealed verification to its tenant, user and id: it cannot be moved to another
/// record or user.
fn aad(tenant: &TenantId, user: &UserId, id: &str) -> Vec<u8> {
    format!("verification/{tenant}/{user}/{id}").into_bytes()
}

impl Verify<'_> {
    /// Keeps a verification of `user`: seals it under the user's data key, stores it and
    /// appends the audit event `verify.<method>` (result and name match only). An empty
    /// `v.id` is given a random one. `NotFound` if the user is gone (deleted: nothing is
    /// kept about them).
    pub async fn record(
        &self,
        tenant: &Tenant,
        user: &UserId,
        mut v: Verification,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        if v.id.is_empty() {
            v.id = random_token::<12>();
        }
        let key = self
            .data_key(&tenant.id, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let plain = crate::json::to_vec(&v);
        let record = VerificationRecord {
            tenant: tenant.id.clone(),
            user_id: user.clone(),
            id: v.id.clone(),
            created_at: v.verified_at,
            sealed: b64(&key.seal(&aad(&tenant.id, user, &v.id), &plain)),
        };
        self.rt().store.put_verification(&record).await?;
        let mut ev = self.event(&tenant.id, &event_kind(v.method), true);
        ev.actor = Some(user.as_str().to_owned());
        ev.subject = Some(user.as_str().to_owned());
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("name_match:{}", v.name_match.as_str()));
        self.record_now(ev).await
    }

    /// Appends the audit event of a failed verification: `verify.<method>`, result
    /// failure, detail the machine code (`bad_signature`, `too_old`, ...). Nothing is
    /// stored about the attempt.
    pub async fn failed(
        &self,
        tenant: &Tenant,
        user: &UserId,
        method: VerificationMethod,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let mut ev = self.event(&tenant.id, &event_kind(method), false);
        ev.actor = Some(user.as_str().to_owned());
        ev.subject = Some(user.as_str().to_owned());
        ev.ip = meta.ip.clone();
        ev.detail = Some(machine_code(code).to_owned());
        self.record_now(ev).await
    }

    /// A user's verifications, opened, oldest first. Empty for a deleted user (its key is
    /// gone, so nothing sealed under it opens).
    pub async fn list(&self, tenant: &TenantId, user: &UserId) -> EngineResult<Vec<Verification>> {
        let records = self.rt().store.list_verifications(tenant, user).await?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let Some(key) = self.data_key(tenant, user).await? else {
            return Ok(Vec::new());
        };
        records
            .iter()
            .map(|r| {
                let raw = b64_decode(&r.sealed).ok_or_else(unreadable)?;
                let plain = key.open(&aad(tenant, user, &r.id), &raw)?;
                serde_json::from_slice::<Verification>(&plain).map_err(|_| unreadable())
            })
            .collect()
    }

    /// Removes all of a user's verifications (account deletion; crypto-shredding has
    /// made them unreadable already).
    pub async fn delete_all(&self, tenant: &TenantId, user: &UserId) -> EngineResult<()> {
        Ok(self.rt().store.delete_verifications(tenant, user).await?)
    }

    /// A keyed hash of `value` for `purpose` (`kyc-name`, `kyc-dob`): hex HMAC-SHA-256
    /// under a key derived from the master key, the tenant and the purpose. Equal values
    /// match later without being stored; they differ between tenants and purposes, and
    /// cannot be guessed without the master key.
    pub fn keyed_hash(&self, tenant: &TenantId, purpose: &str, value: &str) -> String {
        let root = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            &self.rt().master.derive("verification-keyed-hash"),
        );
        let per = ring::hmac::sign(&root, format!("{tenant}\0{purpose}").as_bytes());
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, per.as_ref());
        let tag = ring::hmac::sign(&k, value.as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn unreadable() -> EngineError {
    EngineError::Internal("unreadable verification record".into())
}

#[cfg(test)]
mod tests {
    use super::machine_code;

    #[test]
    fn only_machine_codes_reach_events() {
        assert_eq!(machine_code("bad_signature"), "bad_signature");
        assert_eq!(machine_code("too_old"), "too_old");
        assert_eq!(machine_code("Ravi Kumar"), "invalid_code");
        assert_eq!(machine_code("9876543210@x"), "invalid_code");
        assert_eq!(machine_code(""), "invalid_code");
        assert_eq!(machine_code(&"a".repeat(65)), "invalid_code");
    }
}
