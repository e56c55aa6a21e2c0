//! Dormancy erasure (DPDP Rules 2025, Rule 8 and the Third Schedule): an account unused
//! for the tenant's period is erased through the same crypto-shredding as a deletion,
//! after a notice sent at least 48 hours before; signing in keeps it, and a legal hold
//! stops it.
//!
//! **Last activity.** A sign-in writes it every time (and says so in the audit trail when
//! it saved an account that had been sent a notice). A refresh writes it at most once a
//! day per user on each node (an in-memory note of the last write), so the store sees no
//! extra write for most refreshes: the recorded time is at most a day behind the last
//! refresh (and exact for sign-ins). Periods are at least 30 days, so that lag never makes
//! an account in use look dormant. A new account starts its clock at creation.
//!
//! **The job** ([`Account::run_dormancy`]) walks, per tenant with a policy, the users
//! whose last activity is older than the period less the notice lead. For each, the
//! state in the store says what to do, so any run on any node, after any restart, carries
//! on where the last stopped:
//! - a *cycle* is named by the `last_active` it started from; activity since then starts
//!   a new cycle, in which an older notice counts for nothing;
//! - no notice for this cycle: the job claims it (compare-and-set: of two runs, one wins),
//!   sends the notice by mail (else by text to the user's phone factor), and records it
//!   sent with the erasure it announced (`now` + the lead, and never before the period
//!   ends). A failed send releases the claim for the next run;
//! - a claim never marked sent is taken over after [`CLAIM_LEASE`]: only a node that died
//!   between handing the notice over and recording it can cause a second notice;
//! - a notice sent at least the lead time ago, for this cycle, with the period over and no
//!   hold: the account is erased ([`Account::delete_user`], actor `system`).
//!
//! Each step is an audit event: `dormancy.notice_sent`, `dormancy.notice_failed`,
//! `dormancy.kept` (a sign-in after a notice), `dormancy.erased`, `dormancy.hold_set`,
//! `dormancy.hold_cleared`.

use tollgate_i18n::Arg;

use super::Account;
use crate::clock::UnixTime;
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::retention::{
    Activity, DAY, DormancyNotice, DormancyPolicy, LegalHold, MAX_HOLD_REASON,
};
use crate::model::{FactorKind, Tenant, User};
use crate::runtime::delivery::{Channel, Mail, TextMessage};
use crate::store::EventQuery;

/// Inactive users read from the store at once.
const PAGE: usize = 200;

/// How long a claimed notice may stay unsent before another run takes it over (the
/// claiming node is taken to have died).
pub const CLAIM_LEASE: u64 = 3600;

/// What one run of the dormancy job did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DormancyRun {
    /// Notices sent.
    pub notices: u64,
    /// Accounts erased.
    pub erased: u64,
    /// Accounts left alone because of a legal hold.
    pub held: u64,
    /// Sends that failed (tried again next run).
    pub failed: u64,
}

impl DormancyRun {
    /// Everything done, for the job's log line.
    pub fn total(&self) -> u64 {
        self.notices + self.erased + self.failed
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time.
pub fn date(at: UnixTime) -> String {
    // Civil-from-days (H. Hinnant's algorithm).
    let days = i64::try_from(at / DAY).unwrap_or(i64::MAX / 2) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

impl Account<'_> {
    /// Records a sign-in as the user's activity. A sign-in after a dormancy notice keeps
    /// the account: the notice is withdrawn and `dormancy.kept` recorded.
    pub(crate) async fn note_sign_in(&self, tenant: &TenantId, user: &UserId) -> EngineResult<()> {
        let store = &self.rt().store;
        let now = self.now();
        if let Some(a) = store.get_activity(tenant, user).await?
            && let Some(n) = a.notice.as_ref().filter(|n| n.sent_at.is_some())
            && store
                .update_dormancy_notice(tenant, user, Some(n), None)
                .await?
        {
            let mut ev = self.event(tenant, "dormancy.kept", true);
            ev.actor = Some(user.to_string());
            ev.subject = ev.actor.clone();
            ev.detail = Some(format!("notice of {} withdrawn", date(n.claimed_at)));
            self.record(ev);
        }
        store.touch_activity(tenant, user, now).await?;
        self.rt()
            .activity_written
            .insert((tenant.clone(), user.clone()), now);
        Ok(())
    }

    /// Records a refresh as the user's activity, at most once a day per user on this
    /// node. Best effort: a refresh is never refused for it.
    pub(crate) fn note_refresh(&self, tenant: &TenantId, user: &UserId) {
        let now = self.now();
        let key = (tenant.clone(), user.clone());
        let written = &self.rt().activity_written;
        if written
            .get(&key)
            .is_some_and(|at| now < at.saturating_add(DAY) && at <= now)
        {
            return;
        }
        // Off the refresh's path: the answer does not wait for this write. Noted first,
        // so a burst of refreshes makes one write; a failed write is forgotten, so the
        // next refresh tries again.
        written.insert(key.clone(), now);
        let written = written.clone();
        let store = self.rt().store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.touch_activity(&key.0, &key.1, now).await {
                tracing::warn!(error = %e, "last activity not recorded");
                written.invalidate(&key);
            }
        });
    }

    /// Records a new account's creation as its first activity.
    pub(crate) async fn note_created(&self, tenant: &TenantId, user: &UserId) -> EngineResult<()> {
        Ok(self
            .rt()
            .store
            .touch_activity(tenant, user, self.now())
            .await?)
    }

    /// A user's dormancy record (last activity, the current notice, a legal hold); an
    /// account without one (older than this feature, never signed in since) gets one from
    /// its creation time.
    pub async fn dormancy(&self, tenant: &TenantId, user: &UserId) -> EngineResult<Activity> {
        let store = &self.rt().store;
        if let Some(a) = store.get_activity(tenant, user).await? {
            return Ok(a);
        }
        let u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        store.touch_activity(tenant, user, u.created_at).await?;
        store
            .get_activity(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))
    }

    /// Sets a legal hold on an account: it is never erased for dormancy while held.
    pub async fn set_legal_hold(
        &self,
        tenant: &TenantId,
        user: &UserId,
        reason: &str,
        actor: &str,
    ) -> EngineResult<Activity> {
        let reason = reason.trim();
        if reason.is_empty()
            || reason.len() > MAX_HOLD_REASON
            || reason.chars().any(char::is_control)
        {
            return Err(EngineError::Invalid(format!(
                "a legal hold needs a reason of 1-{MAX_HOLD_REASON} characters"
            )));
        }
        self.dormancy(tenant, user).await?;
        let hold = LegalHold {
            reason: reason.to_owned(),
            set_by: actor.to_owned(),
            set_at: self.now(),
        };
        if !self
            .rt()
            .store
            .set_legal_hold(tenant, user, Some(&hold))
            .await?
        {
            return Err(EngineError::NotFound("user"));
        }
        let mut ev = self.event(tenant, "dormancy.hold_set", true);
        ev.actor = Some(actor.to_owned());
        ev.subject = Some(user.to_string());
        ev.detail = Some(hold.reason.clone());
        self.record_now(ev).await?;
        self.dormancy(tenant, user).await
    }

    /// Clears a legal hold; the account's dormancy clock runs on from its last activity,
    /// and a notice sent before the hold is withdrawn (a new one is sent if still due).
    pub async fn clear_legal_hold(
        &self,
        tenant: &TenantId,
        user: &UserId,
        actor: &str,
    ) -> EngineResult<Activity> {
        let a = self.dormancy(tenant, user).await?;
        if a.hold.is_none() {
            return Ok(a);
        }
        self.rt().store.set_legal_hold(tenant, user, None).await?;
        // A notice sent before the hold is not the one an erasure after it relies on: the
        // user is told again, at least the lead time ahead.
        if let Some(n) = &a.notice {
            self.rt()
                .store
                .update_dormancy_notice(tenant, user, Some(n), None)
                .await?;
        }
        let mut ev = self.event(tenant, "dormancy.hold_cleared", true);
        ev.actor = Some(actor.to_owned());
        ev.subject = Some(user.to_string());
        self.record_now(ev).await?;
        self.dormancy(tenant, user).await
    }

    /// One run of the dormancy job over every tenant this node serves that has a policy.
    pub async fn run_dormancy(&self) -> EngineResult<DormancyRun> {
        let mut run = DormancyRun::default();
        for t in self.rt().store.list_tenants().await? {
            if !self.rt().config.regions.contains(&t.region) {
                continue;
            }
            if let Some(p) = t.retention.dormancy {
                self.backfill_activity(&t).await?;
                self.dormancy_of_tenant(&t, p, &mut run).await?;
            }
        }
        if run.total() > 0 {
            tracing::info!(
                notices = run.notices,
                erased = run.erased,
                failed = run.failed,
                "dormancy job"
            );
        }
        Ok(run)
    }

    /// Gives every account of `t` that has no activity record one, once per tenant: an
    /// account older than this feature (or imported before it) that never signed in since
    /// has none, and the walk of inactive records would never find it. Its last activity
    /// is taken as its newest event in the audit trail (a sign-in, a change), else its
    /// creation, and never before the trail's retention window begins. Two nodes walking
    /// at once do no harm: a record only ever moves forward. Marked done in the tenant's
    /// retention settings.
    async fn backfill_activity(&self, t: &Tenant) -> EngineResult<()> {
        if t.retention.activity_backfilled_at.is_some() {
            return Ok(());
        }
        let store = &self.rt().store;
        // Where the trail is purged, a use older than what it keeps leaves no event: such
        // an account is taken as used when the kept trail begins, never earlier.
        let kept_from = t
            .retention
            .event_days
            .map_or(0, |d| self.now().saturating_sub(u64::from(d) * DAY));
        let mut after: Option<UserId> = None;
        let mut given = 0u64;
        loop {
            let page = store.list_users(&t.id, after.as_ref(), PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            for u in page {
                if u.deleted_at.is_some() || store.get_activity(&t.id, &u.id).await?.is_some() {
                    continue;
                }
                let newest = store
                    .query_events(
                        &t.id,
                        &EventQuery {
                            user: Some(u.id.to_string()),
                            limit: 1,
                            ..EventQuery::default()
                        },
                    )
                    .await?
                    .first()
                    .map_or(0, |e| e.at_ms / 1000);
                store
                    .touch_activity(&t.id, &u.id, newest.max(u.created_at).max(kept_from))
                    .await?;
                given += 1;
            }
        }
        let now = self.now();
        self.admin()
            .change_tenant(
                &t.id,
                "tenant.activity_backfilled",
                format!("accounts={given}"),
                |t| {
                    t.retention.activity_backfilled_at = Some(now);
                    Ok(())
                },
            )
            .await?;
        Ok(())
    }

    async fn dormancy_of_tenant(
        &self,
        t: &Tenant,
        p: DormancyPolicy,
        run: &mut DormancyRun,
    ) -> EngineResult<()> {
        let now = self.now();
        // Due for a notice: inactive for the period less the lead.
        let due = now
            .saturating_sub(p.period_secs())
            .saturating_add(p.notice_secs())
            .saturating_add(1);
        let mut after: Option<UserId> = None;
        loop {
            let page = self
                .rt()
                .store
                .list_inactive(&t.id, due, after.as_ref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.user_id.clone());
            for a in page {
                self.dormancy_step(t, p, a, now, run).await?;
            }
        }
        Ok(())
    }

    async fn dormancy_step(
        &self,
        t: &Tenant,
        p: DormancyPolicy,
        a: Activity,
        now: UnixTime,
        run: &mut DormancyRun,
    ) -> EngineResult<()> {
        let store = &self.rt().store;
        let Some(user) = self.user(&t.id, &a.user_id).await? else {
            // Deleted or purged meanwhile: nothing left to keep a clock for.
            store.delete_activity(&t.id, &a.user_id).await?;
            return Ok(());
        };
        if user.deleted_at.is_some() {
            store.delete_activity(&t.id, &a.user_id).await?;
            return Ok(());
        }
        if a.hold.is_some() {
            run.held += 1;
            return Ok(());
        }
        let current = a.notice.clone().filter(|n| n.cycle == a.last_active);
        match current {
            Some(DormancyNotice {
                sent_at: Some(sent),
                erase_after: Some(erase_after),
                ..
            }) => {
                let period_over = now >= a.last_active.saturating_add(p.period_secs());
                if period_over && now >= erase_after && now >= sent.saturating_add(p.notice_secs())
                {
                    self.erase_dormant(t, &a, sent).await?;
                    run.erased += 1;
                }
                Ok(())
            }
            Some(n) if n.sent_at.is_none() && now < n.claimed_at.saturating_add(CLAIM_LEASE) => {
                // Another run is sending it now.
                Ok(())
            }
            _ => self.send_notice(t, p, &a, &user, now, run).await,
        }
    }

    /// Claims this cycle's notice, sends it and records it sent (or releases the claim).
    async fn send_notice(
        &self,
        t: &Tenant,
        p: DormancyPolicy,
        a: &Activity,
        user: &User,
        now: UnixTime,
        run: &mut DormancyRun,
    ) -> EngineResult<()> {
        let store = &self.rt().store;
        let claim = DormancyNotice {
            cycle: a.last_active,
            claimed_at: now,
            sent_at: None,
            channel: None,
            erase_after: None,
        };
        if !store
            .update_dormancy_notice(&t.id, &a.user_id, a.notice.as_ref(), Some(&claim))
            .await?
        {
            return Ok(());
        }
        let erase_after = now
            .saturating_add(p.notice_secs())
            .max(a.last_active.saturating_add(p.period_secs()));
        let channel = self
            .deliver_notice(t, user, a.last_active, erase_after)
            .await?;
        let mut ev = self.event(&t.id, "dormancy.notice_sent", channel.is_some());
        ev.actor = Some("system".into());
        ev.subject = Some(a.user_id.to_string());
        match channel {
            Some(channel) => {
                let sent = DormancyNotice {
                    sent_at: Some(now),
                    channel: Some(channel.into()),
                    erase_after: Some(erase_after),
                    ..claim.clone()
                };
                store
                    .update_dormancy_notice(&t.id, &a.user_id, Some(&claim), Some(&sent))
                    .await?;
                ev.detail = Some(format!(
                    "by {channel}; erasure on or after {}",
                    date(erase_after)
                ));
                run.notices += 1;
            }
            None => {
                store
                    .update_dormancy_notice(&t.id, &a.user_id, Some(&claim), None)
                    .await?;
                ev.kind = "dormancy.notice_failed".into();
                ev.detail = Some("not sent; tried again next run".into());
                run.failed += 1;
            }
        }
        self.record_now(ev).await
    }

    /// Sends the notice by mail, else by text to the user's phone factor; the channel
    /// that took it.
    async fn deliver_notice(
        &self,
        t: &Tenant,
        user: &User,
        last: UnixTime,
        erase_after: UnixTime,
    ) -> EngineResult<Option<&'static str>> {
        let catalog = self.rt().catalogs.of(t);
        let saved = user.profile.get("locale").map(String::as_str);
        let lang = crate::runtime::catalogs::recipient_language(&catalog, saved, None);
        let m = catalog.messages(lang);
        let brand = t
            .branding
            .theme
            .name
            .clone()
            .unwrap_or_else(|| t.display_name.clone());
        let args = [
            ("tenant", Arg::Text(brand.clone())),
            ("last", Arg::Text(date(last))),
            ("erase", Arg::Text(date(erase_after))),
        ];
        let mail = Mail {
            to: user.email.clone(),
            subject: m.get("dorm-subject", &args),
            text: format!(
                "{}\n\n{}\n{}\n",
                m.get("dorm-body", &args),
                m.get("dorm-keep", &args),
                m.get("dorm-ignore", &args),
            ),
        };
        if self.send_mail_now(&mail).await? {
            return Ok(Some("email"));
        }
        for f in self.rt().store.list_factors(&t.id, &user.id).await? {
            if f.kind != FactorKind::Phone {
                continue;
            }
            let Some(number) = self.signin().factor_phone(&f).await? else {
                continue;
            };
            let Ok(to) = crate::model::phone::PhoneNumber::parse(&number, None) else {
                continue;
            };
            let msg = TextMessage {
                to,
                channel: Channel::Sms,
                code: String::new(),
                text: m.get("dorm-text", &args),
                tenant: t.id.clone(),
                tenant_name: brand.clone(),
                minutes: 0,
            };
            if self.send_text_now(&msg).await? {
                return Ok(Some("sms"));
            }
        }
        Ok(None)
    }

    /// Erases a dormant account, after reading its record once more: a sign-in or a hold
    /// that landed since the walk read it keeps the account.
    async fn erase_dormant(&self, t: &Tenant, seen: &Activity, sent: UnixTime) -> EngineResult<()> {
        let store = &self.rt().store;
        let fresh = store.get_activity(&t.id, &seen.user_id).await?;
        if fresh.as_ref().is_none_or(|f| {
            f.last_active != seen.last_active || f.hold.is_some() || f.notice != seen.notice
        }) {
            return Ok(());
        }
        self.delete_user(&t.id, &seen.user_id, "system", &RequestMeta::default())
            .await?;
        store.delete_activity(&t.id, &seen.user_id).await?;
        let mut ev = self.event(&t.id, "dormancy.erased", true);
        ev.actor = Some("system".into());
        ev.subject = Some(seen.user_id.to_string());
        ev.detail = Some(format!(
            "inactive since {}; notice sent {}",
            date(seen.last_active),
            date(sent)
        ));
        self.record_now(ev).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(86_399), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_798_675_200), "2026-12-31");
    }
}
