//! Log retention (DPDP Rules 2025, Rule 6(1)(e) and Rule 8(3)): a tenant's audit events
//! are kept at least a year, then removed by [`Account::purge_old_events`]; and a
//! tenant's retention settings, changed by its admin.
//!
//! What survives of an erased user (deleted by the user, an admin or the dormancy job),
//! for as long as the trail keeps the events: each event's kind, time, result, the
//! client, and the user's random id as actor or subject (an id nothing maps back to a
//! person once the record is gone). Its IP address and detail were sealed under the
//! user's data key when recorded (`Event.sealed`); that key is destroyed at erasure, so
//! they read back as `erased` and cannot be opened in the store or in any backup. Events
//! without a user (admin and system actions) keep their detail in the clear, and never
//! carry a user's personal data.

use super::Account;
use crate::error::EngineResult;
use crate::ids::TenantId;
use crate::model::retention::{DAY, RetentionSettings};

/// Events removed per store call.
const PURGE_BATCH: usize = 1000;

/// Most events one run removes per tenant (the next run goes on).
const PURGE_PER_RUN: u64 = 200_000;

impl Account<'_> {
    /// Removes, in every tenant this node serves that sets `event_days`, the events older
    /// than that; records `events.purged` with the count. Returns how many went.
    pub async fn purge_old_events(&self) -> EngineResult<u64> {
        let mut total = 0;
        let now = self.now();
        for t in self.rt().store.list_tenants().await? {
            if !self.rt().config.regions.contains(&t.region) {
                continue;
            }
            let Some(days) = t.retention.event_days else {
                continue;
            };
            let cut = now.saturating_sub(u64::from(days) * DAY);
            let before_ms = cut.saturating_mul(1000);
            let mut n = 0;
            while n < PURGE_PER_RUN {
                let k = self
                    .rt()
                    .store
                    .purge_events(&t.id, before_ms, PURGE_BATCH)
                    .await?;
                if k == 0 {
                    break;
                }
                n += k;
            }
            if n > 0 {
                let mut ev = self.event(&t.id, "events.purged", true);
                ev.actor = Some("system".into());
                ev.detail = Some(format!(
                    "{n} events older than {} ({days} days)",
                    super::dormancy::date(cut)
                ));
                self.record_now(ev).await?;
                total += n;
            }
        }
        if total > 0 {
            tracing::info!(events = total, "purged old audit events");
        }
        Ok(total)
    }

    /// A tenant's retention settings.
    pub async fn retention_settings(&self, tenant: &TenantId) -> EngineResult<RetentionSettings> {
        Ok(self.tenant(tenant).await?.retention.clone())
    }

    /// Replaces a tenant's retention settings, checked first (Rule 8(2)'s 48 hours, a
    /// year of events); recorded as `tenant.retention_changed`.
    pub async fn set_retention_settings(
        &self,
        tenant: &TenantId,
        settings: RetentionSettings,
    ) -> EngineResult<RetentionSettings> {
        settings.check()?;
        let detail = format!(
            "dormancy={} event_days={}",
            settings
                .dormancy
                .map(|d| format!("{}d/{}h", d.after_days, d.notice_hours))
                .unwrap_or_else(|| "off".into()),
            settings
                .event_days
                .map(|d| d.to_string())
                .unwrap_or_else(|| "forever".into()),
        );
        let t = self
            .admin()
            .change_tenant(tenant, "tenant.retention_changed", detail, |t| {
                // The job's own mark is not the admin's to set or clear.
                let backfilled = t.retention.activity_backfilled_at;
                t.retention = settings.clone();
                t.retention.activity_backfilled_at = backfilled;
                Ok(())
            })
            .await?;
        Ok(t.retention)
    }
}
