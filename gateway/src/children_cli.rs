//! `tollgate admin children ...`: a tenant's children setting (DPDP s. 9, Rules 10 and
//! 12) and a run of the expiry of children's accounts no parent consented to, through
//! the admin API's shared types.

use clap::{Args, Subcommand, ValueEnum};
use tollgate_http::api;

use super::{Payload, body};

#[derive(Subcommand)]
pub(crate) enum ChildrenCmd {
    /// The tenant's children setting.
    Show {
        /// Tenant.
        tenant: String,
    },
    /// Replaces the setting (what is not given takes its default).
    Set(Box<ChildrenSet>),
    /// Erases now the children's accounts whose parent link expired (also runs on its own).
    Run,
}

/// The policy, as the CLI spells it.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Policy {
    /// No age asked (the default).
    Off,
    /// Sign-up refuses anyone under the age of majority.
    AdultsOnly,
    /// A child's account waits for a parent's consent.
    ParentalConsent,
}

#[derive(Args)]
pub(crate) struct ChildrenSet {
    /// Tenant.
    tenant: String,
    /// What sign-up does with users under the age of majority.
    #[arg(long, value_enum)]
    policy: Policy,
    /// The age of majority (18 under the Act; up to 21).
    #[arg(long, default_value_t = 18)]
    age_of_majority: u8,
    /// A purpose exempt under Rule 12, as `purpose=exemption` (e.g. `health=health`);
    /// repeatable.
    #[arg(long = "exempt", value_name = "PURPOSE=EXEMPTION")]
    exempt: Vec<String>,
    /// A purpose id or claim name children never get (tracking); repeatable.
    #[arg(long = "tracking", value_name = "NAME")]
    tracking: Vec<String>,
    /// How many days a parent's link works.
    #[arg(long, default_value_t = 7)]
    link_days: u64,
}

/// The admin API request of a `children` command.
pub(crate) fn children_request(
    cmd: ChildrenCmd,
) -> anyhow::Result<(&'static str, String, Payload)> {
    let path = |t: &str| format!("/admin/v1/tenants/{t}/children");
    Ok(match cmd {
        ChildrenCmd::Show { tenant } => ("GET", path(&tenant), Payload::None),
        ChildrenCmd::Set(s) => {
            let exempt_purposes = s
                .exempt
                .iter()
                .map(|e| match e.split_once('=') {
                    Some((purpose, exemption)) => Ok(api::Exemption {
                        purpose: purpose.trim().to_owned(),
                        exemption: exemption.trim().to_owned(),
                    }),
                    None => Err(anyhow::anyhow!(
                        "--exempt takes purpose=exemption, e.g. health=health (got {e:?})"
                    )),
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let settings = api::ChildrenSettings {
                policy: match s.policy {
                    Policy::Off => api::ChildrenPolicy::Off,
                    Policy::AdultsOnly => api::ChildrenPolicy::AdultsOnly,
                    Policy::ParentalConsent => api::ChildrenPolicy::ParentalConsent,
                },
                age_of_majority: s.age_of_majority,
                exempt_purposes,
                tracking: s.tracking.clone(),
                link_ttl_secs: s.link_days.saturating_mul(86_400),
            };
            ("PUT", path(&s.tenant), Payload::Json(body(&settings)?))
        }
        ChildrenCmd::Run => ("POST", "/admin/v1/children/run".into(), Payload::None),
    })
}
