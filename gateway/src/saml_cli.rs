//! `tollgate admin saml-sp ...`: the SAML service providers of a tenant's identity
//! provider, through the admin API's shared types.

use clap::Subcommand;
use tollgate_http::api;

use super::{Payload, body};

#[derive(Subcommand)]
pub(crate) enum SamlSpCmd {
    /// The tenant's registered service providers.
    List {
        /// Tenant.
        tenant: String,
    },
    /// Register a service provider (or replace the one with its entity ID), by its
    /// metadata document and/or fields (fields override the document).
    Register {
        /// Tenant.
        tenant: String,
        /// A file with the SP's metadata (`EntityDescriptor`).
        #[arg(long)]
        metadata_file: Option<std::path::PathBuf>,
        /// Its entity ID.
        #[arg(long)]
        entity_id: Option<String>,
        /// An AssertionConsumerService URL (HTTP-POST); repeat for several, the default first.
        #[arg(long = "acs-url")]
        acs_urls: Vec<String>,
        /// Its SingleLogoutService URL (HTTP-POST).
        #[arg(long)]
        slo_url: Option<String>,
        /// A file with its signing certificate (PEM): its requests must then be signed.
        #[arg(long)]
        certificate_file: Option<std::path::PathBuf>,
        /// `persistent` (a pairwise id; the default) or `email`.
        #[arg(long, value_parser = ["persistent", "email"])]
        name_id_format: Option<String>,
        /// Sign the response as well as the assertion.
        #[arg(long)]
        sign_response: bool,
        /// A claim sent as an attribute, `claim=AttributeName`; repeat for several.
        #[arg(long = "attribute")]
        attributes: Vec<String>,
    },
    /// Remove a service provider.
    Remove {
        /// Tenant.
        tenant: String,
        /// Its entity ID.
        entity_id: String,
    },
}

/// The admin API request of a `saml-sp` command.
pub(crate) fn saml_sp_request(cmd: SamlSpCmd) -> anyhow::Result<(&'static str, String, Payload)> {
    let path = |t: &str| format!("/admin/v1/tenants/{t}/saml/sps");
    Ok(match cmd {
        SamlSpCmd::List { tenant } => ("GET", path(&tenant), Payload::None),
        SamlSpCmd::Remove { tenant, entity_id } => {
            let q: String = url::form_urlencoded::byte_serialize(entity_id.as_bytes()).collect();
            (
                "DELETE",
                format!("{}?entity_id={q}", path(&tenant)),
                Payload::None,
            )
        }
        SamlSpCmd::Register {
            tenant,
            metadata_file,
            entity_id,
            acs_urls,
            slo_url,
            certificate_file,
            name_id_format,
            sign_response,
            attributes,
        } => {
            let read = |p: Option<std::path::PathBuf>| -> anyhow::Result<Option<String>> {
                Ok(match p {
                    Some(p) => Some(
                        std::fs::read_to_string(&p)
                            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
                    ),
                    None => None,
                })
            };
            let attributes = attributes
                .iter()
                .map(|a| match a.split_once('=') {
                    Some((claim, attribute)) => Ok(api::SamlAttributeMapping {
                        claim: claim.trim().to_owned(),
                        attribute: attribute.trim().to_owned(),
                    }),
                    None => Err(anyhow::anyhow!(
                        "--attribute takes claim=AttributeName, not {a:?}"
                    )),
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let input = api::NewSamlSp {
                metadata: read(metadata_file)?,
                entity_id,
                acs_urls: (!acs_urls.is_empty()).then_some(acs_urls),
                slo_url,
                certificate: read(certificate_file)?,
                sign_assertion: None,
                sign_response: sign_response.then_some(true),
                name_id_format: name_id_format.map(|f| match f.as_str() {
                    "email" => api::SamlNameIdFormat::Email,
                    _ => api::SamlNameIdFormat::Persistent,
                }),
                attributes: (!attributes.is_empty()).then_some(attributes),
            };
            ("POST", path(&tenant), Payload::Json(body(&input)?))
        }
    })
}
