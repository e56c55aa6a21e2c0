//! `tollgate admin retention ...`: a tenant's dormancy erasure and event retention (DPDP
//! Rules 6 and 8), users' legal holds, and a run of the retention jobs now, through the
//! admin API's shared types.

use clap::{Args, Subcommand};
use tollgate_http::api;

use super::{Payload, body};

#[derive(Subcommand)]
pub(crate) enum RetentionCmd {
    /// The tenant's retention settings.
    Show {
        /// Tenant.
        tenant: String,
    },
    /// Sets both settings at once (a part not given is switched off).
    Set(Box<RetentionSet>),
    /// A user's last activity, dormancy notice and legal hold.
    User {
        /// Tenant.
        tenant: String,
        /// User id (ids may start with '-').
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Puts a legal hold on a user's account: it is never erased for dormancy while held.
    Hold {
        /// Tenant.
        tenant: String,
        /// User id (ids may start with '-').
        #[arg(allow_hyphen_values = true)]
        user: String,
        /// Why (recorded in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// Lifts a user's legal hold.
    Release {
        /// Tenant.
        tenant: String,
        /// User id (ids may start with '-').
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Runs the dormancy job and the event purge now (they also run on their own).
    Run,
}

#[derive(Args)]
pub(crate) struct RetentionSet {
    /// Tenant.
    tenant: String,
    /// Erase accounts unused for this many days (at least 30; e.g. 1095 for three years).
    #[arg(long)]
    dormant_days: Option<u32>,
    /// Hours before the erasure at which the user is told (at least 48).
    #[arg(long, default_value_t = 48)]
    notice_hours: u32,
    /// Remove audit events older than this many days (at least 365).
    #[arg(long)]
    event_days: Option<u32>,
}

/// The admin API request of a `retention` command.
pub(crate) fn retention_request(
    cmd: RetentionCmd,
) -> anyhow::Result<(&'static str, String, Payload)> {
    let path = |t: &str| format!("/admin/v1/tenants/{t}/retention");
    let user = |t: &str, u: &str, what: &str| format!("/admin/v1/tenants/{t}/users/{u}/{what}");
    Ok(match cmd {
        RetentionCmd::Show { tenant } => ("GET", path(&tenant), Payload::None),
        RetentionCmd::Set(s) => {
            let settings = api::RetentionSettings {
                dormancy: s.dormant_days.map(|after_days| api::DormancyPolicy {
                    after_days,
                    notice_hours: s.notice_hours,
                }),
                event_days: s.event_days,
                activity_backfilled_at: None,
            };
            ("PUT", path(&s.tenant), Payload::Json(body(&settings)?))
        }
        RetentionCmd::User { tenant, user: u } => {
            ("GET", user(&tenant, &u, "dormancy"), Payload::None)
        }
        RetentionCmd::Hold {
            tenant,
            user: u,
            reason,
        } => (
            "PUT",
            user(&tenant, &u, "legal-hold"),
            Payload::Json(body(&api::LegalHoldInput { reason })?),
        ),
        RetentionCmd::Release { tenant, user: u } => {
            ("DELETE", user(&tenant, &u, "legal-hold"), Payload::None)
        }
        RetentionCmd::Run => ("POST", "/admin/v1/retention/run".into(), Payload::None),
    })
}
