//! `tollgate admin breach ...`: personal data breaches (DPDP Rule 7): declare one, list,
//! start or resume its notification job, follow its progress, fetch the reports to the
//! Board, through the admin API's shared types.

use clap::{Args, Subcommand};
use tollgate_http::api;

use super::{Payload, body};

#[derive(Subcommand)]
pub(crate) enum BreachCmd {
    /// Declares a breach; its affected users are resolved now into a durable list.
    Declare(Box<BreachDeclare>),
    /// The tenant's incidents, or one of them.
    List {
        /// Tenant.
        tenant: String,
        /// One incident's id.
        id: Option<String>,
    },
    /// Starts (or resumes) notifying the incident's affected users.
    Notify {
        /// Tenant.
        tenant: String,
        /// Incident id.
        id: String,
    },
    /// The notification job's counts.
    Progress {
        /// Tenant.
        tenant: String,
        /// Incident id.
        id: String,
    },
    /// The report to the Board: the first intimation or the detailed report.
    Report {
        /// Tenant.
        tenant: String,
        /// Incident id.
        id: String,
        /// `intimation` or `detailed`.
        #[arg(long, default_value = "intimation")]
        kind: String,
        /// `markdown` or `json`.
        #[arg(long, default_value = "markdown")]
        format: String,
    },
    /// Sets how many notifications per second the tenant's jobs send.
    Rate {
        /// Tenant.
        tenant: String,
        /// Notifications per second (1 to 10000).
        per_sec: u32,
    },
}

#[derive(Args)]
pub(crate) struct BreachDeclare {
    /// Tenant.
    tenant: String,
    /// The breach's start (Unix seconds).
    #[arg(long)]
    start: u64,
    /// Its end (Unix seconds), not in the future.
    #[arg(long)]
    end: u64,
    /// What happened.
    #[arg(long)]
    nature: String,
    /// Which data, how many people.
    #[arg(long)]
    extent: String,
    /// The likely consequences for the people affected.
    #[arg(long)]
    consequences: String,
    /// What was done and is being done to reduce the risk.
    #[arg(long)]
    mitigation: String,
    /// What the people affected can do.
    #[arg(long)]
    user_actions: String,
    /// Who to contact about it.
    #[arg(long)]
    contact: String,
    /// Where it happened.
    #[arg(long)]
    location: Option<String>,
    /// Affected: `all`, `signed-in`, `events:KIND[,KIND...]`, `users:FILE` or
    /// `emails:FILE` (a file with one id or address per line).
    #[arg(long)]
    affected: String,
}

fn affected(spec: &str) -> anyhow::Result<api::AffectedQuery> {
    let lines = |file: &str| -> anyhow::Result<Vec<String>> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    };
    Ok(match spec.split_once(':') {
        None if spec == "all" => api::AffectedQuery::All,
        None if spec == "signed-in" => api::AffectedQuery::SignedIn,
        Some(("events", kinds)) => api::AffectedQuery::Events {
            kinds: kinds.split(',').map(|k| k.trim().to_owned()).collect(),
        },
        Some(("users", file)) => api::AffectedQuery::Users { ids: lines(file)? },
        Some(("emails", file)) => api::AffectedQuery::Emails {
            emails: lines(file)?,
        },
        _ => anyhow::bail!(
            "--affected must be all, signed-in, events:KINDS, users:FILE or emails:FILE"
        ),
    })
}

/// The admin API request of a `breach` command.
pub(crate) fn breach_request(cmd: BreachCmd) -> anyhow::Result<(&'static str, String, Payload)> {
    let path = |t: &str| format!("/admin/v1/tenants/{t}/breaches");
    Ok(match cmd {
        BreachCmd::Declare(d) => {
            let input = api::DeclareBreach {
                window_start: d.start,
                window_end: d.end,
                nature: d.nature,
                extent: d.extent,
                consequences: d.consequences,
                mitigation: d.mitigation,
                user_actions: d.user_actions,
                contact: d.contact,
                location: d.location,
                cause: None,
                responsible: None,
                remedial: None,
                affected: affected(&d.affected)?,
            };
            ("POST", path(&d.tenant), Payload::Json(body(&input)?))
        }
        BreachCmd::List { tenant, id: None } => ("GET", path(&tenant), Payload::None),
        BreachCmd::List {
            tenant,
            id: Some(id),
        } => ("GET", format!("{}/{id}", path(&tenant)), Payload::None),
        BreachCmd::Notify { tenant, id } => (
            "POST",
            format!("{}/{id}/notify", path(&tenant)),
            Payload::None,
        ),
        BreachCmd::Progress { tenant, id } => (
            "GET",
            format!("{}/{id}/progress", path(&tenant)),
            Payload::None,
        ),
        BreachCmd::Report {
            tenant,
            id,
            kind,
            format,
        } => (
            "GET",
            format!("{}/{id}/report?kind={kind}&format={format}", path(&tenant)),
            Payload::None,
        ),
        BreachCmd::Rate { tenant, per_sec } => (
            "PUT",
            format!("/admin/v1/tenants/{tenant}/breach-settings"),
            Payload::Json(body(&api::BreachSettings {
                notify_per_sec: per_sec,
            })?),
        ),
    })
}
