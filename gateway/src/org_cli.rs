//! `tollgate admin org ...` and `tollgate admin role ...`: organisations, their members
//! and invitations, roles and the permission catalogue, through the admin API's shared
//! types (issue 19).

use clap::Subcommand;
use tollgate_http::api;

use super::{Payload, body};

#[derive(Subcommand)]
pub(crate) enum OrgCmd {
    /// Create an organisation (its name is a unique slug in the tenant).
    Create {
        /// Tenant.
        tenant: String,
        /// Its name (`acme`).
        name: String,
        /// Shown to people; the name when absent.
        #[arg(long)]
        display_name: Option<String>,
        /// An email domain its members must be at (repeat for several).
        #[arg(long = "allowed-domain")]
        allowed_domains: Vec<String>,
        /// A sign-in method (`pwd`, `otp`, `sms`, `hwk`, `fed`) it allows (repeat).
        #[arg(long = "allowed-method")]
        allowed_methods: Vec<String>,
        /// Members must have used a second factor.
        #[arg(long)]
        require_mfa: bool,
        /// Users at an allowed domain join when they first sign in to it.
        #[arg(long)]
        just_in_time: bool,
    },
    /// The tenant's organisations.
    List {
        /// Tenant.
        tenant: String,
    },
    /// One organisation, by id or name.
    Show {
        /// Tenant.
        tenant: String,
        /// Its id or name.
        org: String,
    },
    /// Rename an organisation (its id stays).
    Rename {
        /// Tenant.
        tenant: String,
        /// Its id or name.
        org: String,
        /// The new name.
        new_name: String,
    },
    /// Delete an organisation with its memberships and invitations.
    Delete {
        /// Tenant.
        tenant: String,
        /// Its id or name.
        org: String,
    },
    /// Its members.
    Members {
        /// Tenant.
        tenant: String,
        /// Its id or name.
        org: String,
    },
    /// Add a member, or set a member's roles.
    AddMember {
        /// Tenant.
        tenant: String,
        /// Its id or name.
        org: String,
        /// The user's id.
        user: String,
        /// A role held there (repeat for several).
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Remove a member.
    RemoveMember {
        /// Tenant.
        tenant: String,
        /// Its id or name.
        org: String,
        /// The user's id.
        user: String,
    },
    /// Invite an address (mailed a single-use link, printed here once).
    Invite {
        /// Tenant.
        tenant: String,
        /// Its id or name.
        org: String,
        /// Who.
        email: String,
        /// A role the new member gets (repeat for several).
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Days the link works (1 to 30; 7 when absent).
        #[arg(long)]
        days: Option<u64>,
    },
    /// Its open invitations.
    Invitations {
        /// Tenant.
        tenant: String,
        /// Its id or name.
        org: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum RoleCmd {
    /// The tenant's roles.
    List {
        /// Tenant.
        tenant: String,
    },
    /// Create or replace a role.
    Set {
        /// Tenant.
        tenant: String,
        /// Its id (a slug).
        role: String,
        /// A permission from the catalogue (repeat for several).
        #[arg(long = "permission")]
        permissions: Vec<String>,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a role and every assignment of it.
    Delete {
        /// Tenant.
        tenant: String,
        /// Its id.
        role: String,
    },
    /// Give a user a role tenant-wide.
    Grant {
        /// Tenant.
        tenant: String,
        /// The user's id.
        user: String,
        /// The role.
        role: String,
    },
    /// Take a tenant-wide role back.
    Revoke {
        /// Tenant.
        tenant: String,
        /// The user's id.
        user: String,
        /// The role.
        role: String,
    },
    /// The permission catalogue (named permissions and the APIs' scopes).
    Permissions {
        /// Tenant.
        tenant: String,
    },
    /// Replace the named permissions (`name` or `name=description`, repeat).
    SetPermissions {
        /// Tenant.
        tenant: String,
        /// A permission.
        #[arg(long = "permission")]
        permissions: Vec<String>,
        /// A client whose users must sign in to an organisation (repeat).
        #[arg(long = "require-organization")]
        clients: Vec<String>,
    },
    /// What a user holds, in an organisation or tenant-wide.
    Of {
        /// Tenant.
        tenant: String,
        /// The user's id.
        user: String,
        /// An organisation's id or name.
        #[arg(long)]
        org: Option<String>,
    },
}

/// The admin API request of an `org` command.
pub(crate) fn org_request(cmd: OrgCmd) -> anyhow::Result<(&'static str, String, Payload)> {
    let orgs = |t: &str| format!("/admin/v1/tenants/{t}/organizations");
    Ok(match cmd {
        OrgCmd::Create {
            tenant,
            name,
            display_name,
            allowed_domains,
            allowed_methods,
            require_mfa,
            just_in_time,
        } => {
            let new = api::NewOrg {
                name,
                display_name,
                settings: api::OrgSettings {
                    allowed_methods,
                    require_mfa,
                    allowed_email_domains: allowed_domains,
                    region: None,
                    just_in_time,
                },
            };
            ("POST", orgs(&tenant), Payload::Json(body(&new)?))
        }
        OrgCmd::List { tenant } => ("GET", orgs(&tenant), Payload::None),
        OrgCmd::Show { tenant, org } => ("GET", format!("{}/{org}", orgs(&tenant)), Payload::None),
        OrgCmd::Rename {
            tenant,
            org,
            new_name,
        } => {
            let change = api::OrgChange {
                name: Some(new_name),
                ..api::OrgChange::default()
            };
            (
                "PATCH",
                format!("{}/{org}", orgs(&tenant)),
                Payload::Json(body(&change)?),
            )
        }
        OrgCmd::Delete { tenant, org } => {
            ("DELETE", format!("{}/{org}", orgs(&tenant)), Payload::None)
        }
        OrgCmd::Members { tenant, org } => (
            "GET",
            format!("{}/{org}/members", orgs(&tenant)),
            Payload::None,
        ),
        OrgCmd::AddMember {
            tenant,
            org,
            user,
            roles,
        } => {
            let m = api::MemberInput {
                user_id: None,
                roles,
            };
            (
                "PUT",
                format!("{}/{org}/members/{user}", orgs(&tenant)),
                Payload::Json(body(&m)?),
            )
        }
        OrgCmd::RemoveMember { tenant, org, user } => (
            "DELETE",
            format!("{}/{org}/members/{user}", orgs(&tenant)),
            Payload::None,
        ),
        OrgCmd::Invite {
            tenant,
            org,
            email,
            roles,
            days,
        } => {
            let inv = api::NewInvitation {
                email,
                roles,
                expires_in_days: days,
            };
            (
                "POST",
                format!("{}/{org}/invitations", orgs(&tenant)),
                Payload::Json(body(&inv)?),
            )
        }
        OrgCmd::Invitations { tenant, org } => (
            "GET",
            format!("{}/{org}/invitations", orgs(&tenant)),
            Payload::None,
        ),
    })
}

/// The admin API request of a `role` command.
pub(crate) fn role_request(cmd: RoleCmd) -> anyhow::Result<(&'static str, String, Payload)> {
    let t = |t: &str| format!("/admin/v1/tenants/{t}");
    Ok(match cmd {
        RoleCmd::List { tenant } => ("GET", format!("{}/roles", t(&tenant)), Payload::None),
        RoleCmd::Set {
            tenant,
            role,
            permissions,
            description,
        } => {
            let input = api::RoleInput {
                description,
                permissions,
            };
            (
                "PUT",
                format!("{}/roles/{role}", t(&tenant)),
                Payload::Json(body(&input)?),
            )
        }
        RoleCmd::Delete { tenant, role } => (
            "DELETE",
            format!("{}/roles/{role}", t(&tenant)),
            Payload::None,
        ),
        RoleCmd::Grant { tenant, user, role } => (
            "PUT",
            format!("{}/users/{user}/roles/{role}", t(&tenant)),
            Payload::None,
        ),
        RoleCmd::Revoke { tenant, user, role } => (
            "DELETE",
            format!("{}/users/{user}/roles/{role}", t(&tenant)),
            Payload::None,
        ),
        RoleCmd::Permissions { tenant } => {
            ("GET", format!("{}/permissions", t(&tenant)), Payload::None)
        }
        RoleCmd::SetPermissions {
            tenant,
            permissions,
            clients,
        } => {
            let permissions = permissions
                .into_iter()
                .map(|p| match p.split_once('=') {
                    Some((name, d)) => api::PermissionDef {
                        name: name.to_owned(),
                        description: d.to_owned(),
                    },
                    None => api::PermissionDef {
                        name: p,
                        description: String::new(),
                    },
                })
                .collect();
            let organization_required = clients
                .iter()
                .map(|c| tollgate_engine::ids::ClientId::parse(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("--require-organization: {e}"))?;
            let s = api::OrgsSettings {
                permissions,
                organization_required,
            };
            (
                "PUT",
                format!("{}/org-settings", t(&tenant)),
                Payload::Json(body(&s)?),
            )
        }
        RoleCmd::Of { tenant, user, org } => {
            let q = org
                .map(|o| {
                    format!(
                        "?org={}",
                        url::form_urlencoded::byte_serialize(o.as_bytes()).collect::<String>()
                    )
                })
                .unwrap_or_default();
            (
                "GET",
                format!("{}/users/{user}/permissions{q}", t(&tenant)),
                Payload::None,
            )
        }
    })
}
