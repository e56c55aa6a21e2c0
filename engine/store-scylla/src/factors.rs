//! [`FactorStore`]: second factors, with their lookup-key claims and versioned updates.

use async_trait::async_trait;

use crate::errors::unavailable;
use crate::rows::{
    FactorListRow, FactorRow, LookupRow, StoredFactor, decode, encode, factor_from_row, int,
};
use crate::{LWT_ATTEMPTS, Region, ScyllaStore};
use tollgate_store::{FactorStore, StoreError, StoreResult};
use tollgate_vocab::clock::{Clock, SystemClock};
use tollgate_vocab::crypto::random_token;
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Factor;

/// Age (seconds) after which a lookup claim that points to no factor is known to be left
/// behind by a crash rather than a creation in flight, and may be taken over.
const ORPHAN_CLAIM_AGE: u64 = 600;

impl ScyllaStore {
    async fn read_factor(
        &self,
        region: &Region,
        tenant: &str,
        user: &str,
        id: &str,
        serial: bool,
    ) -> StoreResult<Option<StoredFactor>> {
        let st = if serial {
            &region.st.factor_get_serial
        } else {
            &region.st.factor_get
        };
        match self.one::<FactorRow>(st, (tenant, user, id)).await? {
            Some(row) => factor_from_row(row),
            None => Ok(None),
        }
    }

    /// Claims a factor's lookup key for it (`INSERT ... IF NOT EXISTS`), with the random
    /// claim id `me`; `Conflict` if another factor holds it. A claim left behind by a
    /// crash (old, pointing to no factor that has this key) is taken over once.
    async fn claim_lookup(
        &self,
        region: &Region,
        factor: &Factor,
        lookup: &str,
        me: &str,
    ) -> StoreResult<()> {
        let (t, u, id) = (
            factor.tenant.as_str(),
            factor.user_id.as_str(),
            factor.id.as_str(),
        );
        let mut took_over = false;
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let values = (t, lookup, u, id, me, int(SystemClock.now()));
            let error = match self.lwt(&region.st.lookup_claim, values).await {
                Ok(true) => return Ok(()),
                Ok(false) => None,
                Err(e) => Some(e),
            };
            // Not applied, or unknown: a serial read settles any round in flight and tells
            // who holds the key.
            let holder: Option<LookupRow> =
                match self.one(&region.st.lookup_get_serial, (t, lookup)).await {
                    Ok(h) => h,
                    Err(read_error) => return Err(error.unwrap_or(read_error)),
                };
            let Some((Some(hu), Some(hid), Some(claim), claimed_at)) = holder else {
                // Free (released meanwhile, or this caller's claim did not land): again.
                last_error = error;
                continue;
            };
            if claim == me {
                return Ok(());
            }
            let old = claimed_at.is_some_and(|at| {
                at.saturating_add(int(ORPHAN_CLAIM_AGE)) < int(SystemClock.now())
            });
            if took_over || !old {
                return Err(StoreError::Conflict);
            }
            let owner = self.read_factor(region, t, &hu, &hid, false).await?;
            if owner.is_some_and(|f| f.lookup.as_deref() == Some(lookup)) {
                return Err(StoreError::Conflict);
            }
            tracing::warn!(
                tenant = t,
                "taking over a factor lookup claim left behind by a crash"
            );
            took_over = true;
            // Conditional on its claim id: a claim renewed meanwhile stays.
            self.lwt(&region.st.lookup_release, (t, lookup, claim.as_str()))
                .await?;
        }
        Err(last_error.unwrap_or(StoreError::Conflict))
    }

    /// Inserts a factor row (`IF NOT EXISTS`) written by `me`; `Conflict` if its id is taken.
    async fn insert_factor(&self, region: &Region, factor: &Factor, me: &str) -> StoreResult<()> {
        let (t, u, id) = (
            factor.tenant.as_str(),
            factor.user_id.as_str(),
            factor.id.as_str(),
        );
        let record = encode(factor);
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let values = (
                t,
                u,
                id,
                factor.lookup.as_deref(),
                int(factor.version),
                me,
                &record,
            );
            match self.lwt(&region.st.factor_insert, values).await {
                Ok(true) => return Ok(()),
                Ok(false) => return Err(StoreError::Conflict),
                Err(e) => match self.read_factor(region, t, u, id, true).await {
                    Ok(None) => last_error = Some(e),
                    Ok(Some(s)) if s.written_by.as_deref() == Some(me) => return Ok(()),
                    Ok(Some(_)) => return Err(StoreError::Conflict),
                    Err(_) => return Err(e),
                },
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("factor creation did not complete")))
    }

    /// Removes the lookup claim of a deleted factor (`IF user_id = ? AND id = ?`: a claim
    /// that is another factor's stays). A claim that cannot be removed points to no
    /// factor: `find_factor` ignores it, and a later claim takes it over when it is old.
    async fn remove_lookup(&self, region: &Region, factor: &Factor) {
        let Some(lookup) = &factor.lookup else {
            return;
        };
        let values = (
            factor.tenant.as_str(),
            lookup.as_str(),
            factor.user_id.as_str(),
            factor.id.as_str(),
        );
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            // Idempotent: running it again after an unknown outcome is harmless.
            match self.lwt(&region.st.lookup_remove, values).await {
                Ok(_) => return,
                Err(e) => last_error = Some(e),
            }
        }
        if let Some(e) = last_error {
            tracing::warn!(error = %e, "could not remove the lookup key of a deleted factor; it is taken over when old");
        }
    }
}

#[async_trait]
impl FactorStore for ScyllaStore {
    /// Claims the lookup key first (`INSERT INTO factor_lookup ... IF NOT EXISTS`), then
    /// inserts the factor (`IF NOT EXISTS`); a factor that loses gives its claim back
    /// (`DELETE ... IF claim = ?`). A claim without its factor is invisible: `find_factor`
    /// checks that the factor it points to has this key.
    async fn create_factor(&self, factor: &Factor) -> StoreResult<()> {
        let r = self.region_of(&factor.tenant).await?;
        let me = random_token::<12>();
        if let Some(lookup) = &factor.lookup {
            self.claim_lookup(&r, factor, lookup, &me).await?;
        }
        let created = self.insert_factor(&r, factor, &me).await;
        // Only a known loss releases the claim: after an unknown outcome the factor may
        // exist, and an unneeded claim is taken over once old.
        if let (Err(StoreError::Conflict), Some(lookup)) = (&created, &factor.lookup) {
            let values = (factor.tenant.as_str(), lookup.as_str(), me.as_str());
            if let Err(e) = self.lwt(&r.st.lookup_release, values).await {
                tracing::warn!(error = %e, "could not release the lookup key of a factor that was not created; it is taken over when old");
            }
        }
        created
    }

    async fn list_factors(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Factor>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<FactorListRow> = self
            .all(&r.st.factor_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut factors = rows
            .into_iter()
            .filter_map(|(_, _, _, _, record)| record)
            .map(|r| decode::<Factor>(&r))
            .collect::<StoreResult<Vec<_>>>()?;
        factors.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(factors)
    }

    async fn get_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>> {
        let r = self.region_of(tenant).await?;
        let f = self
            .read_factor(&r, tenant.as_str(), user.as_str(), id, false)
            .await?;
        Ok(f.map(|f| f.factor))
    }

    async fn find_factor(&self, tenant: &TenantId, lookup: &str) -> StoreResult<Option<Factor>> {
        let r = self.region_of(tenant).await?;
        let t = tenant.as_str();
        let claim: Option<LookupRow> = self.one(&r.st.lookup_get, (t, lookup)).await?;
        let Some((Some(user), Some(id), ..)) = claim else {
            return Ok(None);
        };
        let f = self.read_factor(&r, t, &user, &id, false).await?;
        // A claim left by a failed creation or deletion may point elsewhere.
        Ok(f.filter(|f| f.lookup.as_deref() == Some(lookup))
            .map(|f| f.factor))
    }

    /// `UPDATE ... SET version = ?, written_by = <random>, record = ? IF version = ? AND
    /// lookup = ?` (or `lookup = null`): the lookup key cannot change, and a missing row
    /// never matches. After a timeout a serial read tells whether this caller wrote it.
    async fn update_factor(&self, factor: &Factor, expected_version: u64) -> StoreResult<bool> {
        let r = self.region_of(&factor.tenant).await?;
        let (t, u, id) = (
            factor.tenant.as_str(),
            factor.user_id.as_str(),
            factor.id.as_str(),
        );
        let me = random_token::<12>();
        let record = encode(factor);
        let (version, expected) = (int(factor.version), int(expected_version));
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let set = (version, me.as_str(), &record, t, u, id, expected);
            let outcome = match &factor.lookup {
                Some(l) => {
                    let (a, b, c, d, e, f, g) = set;
                    let values = (a, b, c, d, e, f, g, l.as_str());
                    self.lwt(&r.st.factor_update, values).await
                }
                None => self.lwt(&r.st.factor_update_unkeyed, set).await,
            };
            let e = match outcome {
                Ok(applied) => return Ok(applied),
                Err(e) => e,
            };
            match self.read_factor(&r, t, u, id, true).await {
                Ok(Some(s)) if s.written_by.as_deref() == Some(me.as_str()) => return Ok(true),
                Ok(Some(s)) if s.version == expected && s.lookup == factor.lookup => {
                    last_error = Some(e);
                }
                Ok(_) => return Ok(false),
                Err(_) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("factor update did not complete")))
    }

    /// `DELETE ... IF version = ?` with the version read first (a concurrent update makes
    /// it read again), then the lookup claim (`DELETE ... IF user_id = ? AND id = ?`).
    async fn delete_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &str,
    ) -> StoreResult<Option<Factor>> {
        let r = self.region_of(tenant).await?;
        let (t, u) = (tenant.as_str(), user.as_str());
        let mut current = self.read_factor(&r, t, u, id, false).await?;
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let Some(f) = current else {
                return Ok(None);
            };
            let outcome = self.lwt(&r.st.factor_remove, (t, u, id, f.version)).await;
            if let Ok(true) = outcome {
                self.remove_lookup(&r, &f.factor).await;
                return Ok(Some(f.factor));
            }
            current = match self.read_factor(&r, t, u, id, true).await {
                // Gone after an unknown outcome: deleted, by this call or a concurrent one.
                Ok(None) if outcome.is_err() => {
                    self.remove_lookup(&r, &f.factor).await;
                    return Ok(Some(f.factor));
                }
                Ok(c) => c,
                Err(e) => return Err(outcome.err().unwrap_or(e)),
            };
            last_error = outcome.err();
        }
        Err(last_error.unwrap_or_else(|| unavailable("factor deletion did not complete")))
    }
}
