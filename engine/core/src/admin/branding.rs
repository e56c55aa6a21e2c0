//! A tenant's branding (theme, templates, messages, default language) and whether its
//! pages offer passkeys. The rules of what a branding may contain belong to the hosted
//! pages (the gateway checks a branding before handing it here); this module stores it.
//!
//! Every change is a compare-and-set on the tenant record ([`TenantStore::update_tenant_if`]):
//! the branding is replaced only if its revision is still the one the change was made
//! from, and the revision is bumped in the same write. So two admins editing at once
//! cannot both win from one revision (the loser is told, and the gateway starts over
//! from the new one), and no two different brandings ever share a revision, which is
//! what every node's cache of compiled looks is keyed on.
//!
//! [`TenantStore::update_tenant_if`]: crate::store::TenantStore::update_tenant_if

use super::Admin;
use crate::error::{EngineError, EngineResult};
use crate::ids::TenantId;
use crate::model::branding::Branding;
use crate::model::{FactorKind, MfaMode, Tenant};

/// How often a change is tried again when another change to the tenant record (not to
/// the branding) landed between its read and its write.
const ATTEMPTS: usize = 5;

impl Admin<'_> {
    /// The tenant record as stored now (not this node's cached copy, which may be up to
    /// ten seconds old when several nodes serve the tenant).
    pub(crate) async fn stored_tenant(&self, id: &TenantId) -> EngineResult<Tenant> {
        let t = self
            .rt()
            .store
            .get_tenant(id)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        if !self.rt().config.regions.contains(&t.region) {
            return Err(EngineError::WrongRegion(t.region));
        }
        Ok(t)
    }

    /// Changes the stored tenant record with `change` in one compare-and-set, tried again
    /// from a fresh read if something else changed the record meanwhile; records `kind`
    /// with `detail` in the audit trail.
    pub(crate) async fn change_tenant(
        &self,
        id: &TenantId,
        kind: &str,
        detail: String,
        change: impl Fn(&mut Tenant) -> EngineResult<()>,
    ) -> EngineResult<Tenant> {
        for _ in 0..ATTEMPTS {
            let current = self.stored_tenant(id).await?;
            let mut next = current.clone();
            change(&mut next)?;
            if self.rt().store.update_tenant_if(&next, &current).await? {
                self.forget_tenant(id);
                let mut ev = self.event(id, kind, true);
                ev.actor = Some("admin".into());
                ev.detail = Some(detail);
                self.record_now(ev).await?;
                return Ok(next);
            }
        }
        Err(EngineError::Invalid(
            "the tenant kept changing meanwhile (is it being moved?); try again".into(),
        ))
    }

    /// A tenant's branding as stored now.
    pub async fn branding(&self, id: &TenantId) -> EngineResult<Branding> {
        Ok(self.stored_tenant(id).await?.branding)
    }

    /// Replaces a tenant's branding with `branding` (already checked by the caller), made
    /// from revision `from`: stored as revision `from + 1`, or `Conflict("branding")`
    /// if the stored branding is no longer at `from` (start over from a fresh read).
    /// `what` says in the audit trail what changed (e.g. `template login.html`).
    pub async fn replace_branding(
        &self,
        id: &TenantId,
        from: u64,
        branding: Branding,
        what: &str,
    ) -> EngineResult<Branding> {
        let next = from
            .checked_add(1)
            .ok_or_else(|| EngineError::Internal("branding revision overflow".into()))?;
        let t = self
            .change_tenant(id, "admin.branding", what.to_owned(), |t| {
                if t.branding.revision != from {
                    return Err(EngineError::Conflict("branding"));
                }
                t.branding = Branding {
                    revision: next,
                    ..branding.clone()
                };
                Ok(())
            })
            .await?;
        Ok(t.branding)
    }

    /// Turns passkeys on or off for a tenant: sign-in with a passkey (the button and
    /// autofill), registering one after sign-up and on the account page, and passkeys as
    /// a second factor. On by default. Refused when second factors are required and a
    /// passkey is the only strong factor left (nobody could enrol one).
    pub async fn set_passkeys(&self, id: &TenantId, enabled: bool) -> EngineResult<Tenant> {
        let detail = if enabled { "on" } else { "off" };
        self.change_tenant(id, "admin.passkeys", detail.into(), |t| {
            let factors = &mut t.mfa.factors;
            if enabled {
                if !factors.contains(&FactorKind::Passkey) {
                    factors.push(FactorKind::Passkey);
                }
                return Ok(());
            }
            factors.retain(|f| *f != FactorKind::Passkey);
            if t.mfa.mode == MfaMode::Required && !factors.contains(&FactorKind::Totp) {
                return Err(EngineError::Invalid(
                    "second factors are required and passkeys are the only strong factor allowed: allow totp first (tenant mfa), then turn passkeys off".into(),
                ));
            }
            Ok(())
        })
        .await
    }
}
