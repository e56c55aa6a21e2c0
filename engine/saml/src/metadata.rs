//! Metadata (SAML metadata 2.0): the IdP's own document, and what is read from an SP's.

use base64::Engine as _;
use roxmltree::Node;
use tollgate_xmldsig::dsig::DSIG_NS;

use crate::{
    BINDING_POST, BINDING_REDIRECT, Limits, METADATA_NS, NAMEID_EMAIL, NAMEID_PERSISTENT,
    SamlError, VerifyingKey, esc,
};

/// The IdP's endpoints and signing certificate.
#[derive(Debug, Clone)]
pub struct IdpMetadata {
    /// Entity ID.
    pub entity_id: String,
    /// SingleSignOnService location (Redirect and POST).
    pub sso_url: String,
    /// SingleLogoutService location (Redirect and POST).
    pub slo_url: String,
    /// The signing certificate, DER.
    pub certificate_der: Vec<u8>,
}

impl IdpMetadata {
    /// The `EntityDescriptor`.
    pub fn to_xml(&self) -> String {
        let cert = base64::engine::general_purpose::STANDARD.encode(&self.certificate_der);
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor xmlns:md=\"{METADATA_NS}\" xmlns:ds=\"{DSIG_NS}\" entityID=\"{}\"><md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"><md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
            esc(&self.entity_id)
        );
        for binding in [BINDING_REDIRECT, BINDING_POST] {
            out.push_str(&format!(
                "<md:SingleLogoutService Binding=\"{binding}\" Location=\"{}\"/>",
                esc(&self.slo_url)
            ));
        }
        for format in [NAMEID_PERSISTENT, NAMEID_EMAIL] {
            out.push_str(&format!("<md:NameIDFormat>{format}</md:NameIDFormat>"));
        }
        for binding in [BINDING_REDIRECT, BINDING_POST] {
            out.push_str(&format!(
                "<md:SingleSignOnService Binding=\"{binding}\" Location=\"{}\"/>",
                esc(&self.sso_url)
            ));
        }
        out.push_str("</md:IDPSSODescriptor></md:EntityDescriptor>\n");
        out
    }
}

/// What an SP's metadata says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpMetadata {
    /// Entity ID.
    pub entity_id: String,
    /// AssertionConsumerService URLs of the HTTP-POST binding, the default first.
    pub acs_urls: Vec<String>,
    /// SingleLogoutService URL (HTTP-POST preferred, else HTTP-Redirect), if any.
    pub slo_url: Option<String>,
    /// The signing certificate (base64 DER), if any.
    pub certificate: Option<String>,
    /// `AuthnRequestsSigned`.
    pub authn_requests_signed: bool,
    /// `WantAssertionsSigned`.
    pub want_assertions_signed: bool,
    /// NameID formats the SP lists, in its order.
    pub name_id_formats: Vec<String>,
}

fn md<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| {
        c.is_element()
            && c.tag_name().namespace() == Some(METADATA_NS)
            && c.tag_name().name() == name
    })
}

/// Reads an SP's `EntityDescriptor` (one SP; an `EntitiesDescriptor` is refused).
pub fn parse_sp_metadata(xml: &str, limits: &Limits) -> Result<SpMetadata, SamlError> {
    let xml_limits = tollgate_xmldsig::XmlLimits {
        max_bytes: limits.xml.max_bytes.max(256 * 1024),
        max_nodes: limits.xml.max_nodes.max(10_000),
        max_depth: limits.xml.max_depth.max(16),
    };
    let doc = tollgate_xmldsig::xml::parse(xml, &xml_limits)?;
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(METADATA_NS)
        || root.tag_name().name() != "EntityDescriptor"
    {
        return Err(SamlError::Metadata("not one EntityDescriptor"));
    }
    let entity_id = root
        .attribute("entityID")
        .filter(|e| !e.trim().is_empty() && e.len() <= 1024)
        .ok_or(SamlError::Metadata("no entityID"))?
        .to_owned();
    let sp = md(root, "SPSSODescriptor")
        .next()
        .ok_or(SamlError::Metadata("no SPSSODescriptor"))?;
    let mut acs: Vec<(bool, u32, String)> = md(sp, "AssertionConsumerService")
        .filter(|a| a.attribute("Binding") == Some(BINDING_POST))
        .filter_map(|a| {
            let location = a.attribute("Location")?.to_owned();
            let index = a
                .attribute("index")
                .and_then(|i| i.parse().ok())
                .unwrap_or(u32::MAX);
            Some((a.attribute("isDefault") != Some("true"), index, location))
        })
        .collect();
    acs.sort();
    if acs.is_empty() {
        return Err(SamlError::Metadata("no HTTP-POST AssertionConsumerService"));
    }
    let slo = |binding: &str| {
        md(sp, "SingleLogoutService")
            .find(|s| s.attribute("Binding") == Some(binding))
            .and_then(|s| s.attribute("Location"))
            .map(str::to_owned)
    };
    let certificate = md(sp, "KeyDescriptor")
        .filter(|k| matches!(k.attribute("use"), None | Some("signing")))
        .find_map(|k| {
            k.descendants()
                .find(|n| {
                    n.tag_name().namespace() == Some(DSIG_NS)
                        && n.tag_name().name() == "X509Certificate"
                })
                .and_then(|n| n.text())
                .map(|t| t.split_whitespace().collect::<String>())
        });
    if let Some(c) = &certificate {
        VerifyingKey::from_certificate_text(c)
            .map_err(|_| SamlError::Metadata("unreadable signing certificate"))?;
    }
    Ok(SpMetadata {
        entity_id,
        acs_urls: acs.into_iter().map(|(_, _, l)| l).collect(),
        slo_url: slo(BINDING_POST).or_else(|| slo(BINDING_REDIRECT)),
        certificate,
        authn_requests_signed: sp.attribute("AuthnRequestsSigned") == Some("true"),
        want_assertions_signed: sp.attribute("WantAssertionsSigned") == Some("true"),
        name_id_formats: md(sp, "NameIDFormat")
            .filter_map(|n| n.text().map(|t| t.trim().to_owned()))
            .collect(),
    })
}
