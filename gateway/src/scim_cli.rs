//! `tollgate admin scim-token ...`: the bearer tokens of a tenant's SCIM provisioning
//! clients, through the admin API's shared types. `create` prints the token (once: only
//! its hash is kept).

use clap::Subcommand;
use tollgate_http::api;

use super::{Payload, body};

#[derive(Subcommand)]
pub(crate) enum ScimTokenCmd {
    /// Make a token; the answer holds it (`token`), shown this once.
    Create {
        /// Tenant.
        tenant: String,
        /// Your name for it ("Okta production").
        #[arg(long)]
        name: String,
        /// Limit it to this organisation's members (an organisation id).
        #[arg(long)]
        organization: Option<String>,
    },
    /// The tenant's tokens (never the tokens themselves), revoked ones included.
    List {
        /// Tenant.
        tenant: String,
    },
    /// Revoke a token: refused from then on.
    Revoke {
        /// Tenant.
        tenant: String,
        /// The token's id (from `list` or `create`).
        id: String,
    },
}

/// The admin API request of a `scim-token` command.
pub(crate) fn scim_token_request(
    cmd: ScimTokenCmd,
) -> anyhow::Result<(&'static str, String, Payload)> {
    let path = |t: &str| format!("/admin/v1/tenants/{t}/scim-tokens");
    Ok(match cmd {
        ScimTokenCmd::Create {
            tenant,
            name,
            organization,
        } => {
            let b = api::NewScimToken { name, organization };
            ("POST", path(&tenant), Payload::Json(body(&b)?))
        }
        ScimTokenCmd::List { tenant } => ("GET", path(&tenant), Payload::None),
        ScimTokenCmd::Revoke { tenant, id } => {
            ("DELETE", format!("{}/{id}", path(&tenant)), Payload::None)
        }
    })
}
