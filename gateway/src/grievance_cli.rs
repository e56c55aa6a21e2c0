//! `tollgate admin privacy-contact ...`: a tenant's Data Protection Officer or contact
//! person (DPDP Rules 9 and 14), through the admin API's shared types.

use clap::{Args, Subcommand};
use tollgate_http::api;

use super::{Payload, body};

#[derive(Subcommand)]
pub(crate) enum PrivacyContactCmd {
    /// The contact the tenant publishes.
    Show {
        /// Tenant.
        tenant: String,
    },
    /// Publish a contact, replacing the one before. The server checks every value and
    /// names a bad one.
    Set(Box<ContactSet>),
    /// Stop publishing a contact.
    Remove {
        /// Tenant.
        tenant: String,
    },
}

#[derive(Args)]
pub(crate) struct ContactSet {
    /// Tenant.
    tenant: String,
    /// The person's or office's name.
    #[arg(long)]
    name: String,
    /// Where to write.
    #[arg(long)]
    email: String,
    /// `dpo` (a Significant Data Fiduciary's Data Protection Officer) or `contact`.
    #[arg(long, value_parser = ["dpo", "contact"], default_value = "contact")]
    role: String,
    /// A telephone number (E.164, e.g. +919876543210).
    #[arg(long)]
    phone: Option<String>,
    /// A postal address (use \n between lines).
    #[arg(long)]
    address: Option<String>,
    /// A page about privacy and grievances (https).
    #[arg(long)]
    url: Option<String>,
    /// Days within which grievances are answered (1 to 90; 30 by default).
    #[arg(long)]
    response_days: Option<u32>,
}

/// The admin API request of a `privacy-contact` command.
pub(crate) fn contact_request(
    cmd: PrivacyContactCmd,
) -> anyhow::Result<(&'static str, String, Payload)> {
    let path = |t: &str| format!("/admin/v1/tenants/{t}/privacy-contact");
    Ok(match cmd {
        PrivacyContactCmd::Show { tenant } => ("GET", path(&tenant), Payload::None),
        PrivacyContactCmd::Remove { tenant } => ("DELETE", path(&tenant), Payload::None),
        PrivacyContactCmd::Set(s) => {
            let input = api::PrivacyContactInput {
                role: if s.role == "dpo" {
                    api::ContactRole::DataProtectionOfficer
                } else {
                    api::ContactRole::ContactPerson
                },
                name: s.name,
                email: s.email,
                phone: s.phone,
                address: s.address.map(|a| a.replace("\\n", "\n")),
                url: s.url,
                response_days: s.response_days,
            };
            ("PUT", path(&s.tenant), Payload::Json(body(&input)?))
        }
    })
}

#[derive(Subcommand)]
pub(crate) enum GrievanceCmd {
    /// The tenant's grievances, the oldest due first.
    List {
        /// Tenant.
        tenant: String,
        /// Only `open`, `answered` or `closed` ones.
        #[arg(long)]
        status: Option<String>,
        /// Only open ones past their due time.
        #[arg(long)]
        overdue: bool,
    },
    /// One grievance with its messages.
    Show {
        /// Tenant.
        tenant: String,
        /// The ticket id.
        id: String,
    },
    /// Answer a grievance (the user is mailed and reads it on the account page).
    Answer {
        /// Tenant.
        tenant: String,
        /// The ticket id.
        id: String,
        /// The answer.
        #[arg(long)]
        text: String,
        /// Close the ticket with this answer.
        #[arg(long)]
        close: bool,
    },
    /// Close a grievance.
    Close {
        /// Tenant.
        tenant: String,
        /// The ticket id.
        id: String,
    },
}

/// The admin API request of a `grievance` command.
pub(crate) fn grievance_request(
    cmd: GrievanceCmd,
) -> anyhow::Result<(&'static str, String, Payload)> {
    let path = |t: &str| format!("/admin/v1/tenants/{t}/grievances");
    Ok(match cmd {
        GrievanceCmd::List {
            tenant,
            status,
            overdue,
        } => {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            if let Some(s) = status {
                q.append_pair("status", &s);
            }
            if overdue {
                q.append_pair("overdue", "true");
            }
            let q = q.finish();
            let sep = if q.is_empty() { "" } else { "?" };
            ("GET", format!("{}{sep}{q}", path(&tenant)), Payload::None)
        }
        GrievanceCmd::Show { tenant, id } => {
            ("GET", format!("{}/{id}", path(&tenant)), Payload::None)
        }
        GrievanceCmd::Answer {
            tenant,
            id,
            text,
            close,
        } => (
            "POST",
            format!("{}/{id}/answer", path(&tenant)),
            Payload::Json(body(&api::GrievanceAnswer { text, close })?),
        ),
        GrievanceCmd::Close { tenant, id } => (
            "POST",
            format!("{}/{id}/close", path(&tenant)),
            Payload::None,
        ),
    })
}
