//! The requests an SP sends: `AuthnRequest` (SAML core 3.4.1) and `LogoutRequest`
//! (3.7.1), read from XML parsed without DTDs and within limits.

use roxmltree::{Document, Node};
use tollgate_xmldsig::dsig;

use crate::{ASSERTION_NS, Limits, PROTOCOL_NS, SamlError, VerifyingKey};

/// The longest request ID kept (IDs are compared and remembered against replay).
pub const MAX_ID: usize = 256;

/// An SP's request to authenticate a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// `ID`: echoed as `InResponseTo`, remembered against replay.
    pub id: String,
    /// The SP's entity ID (`Issuer`).
    pub issuer: String,
    /// `IssueInstant`, Unix seconds.
    pub issue_instant: u64,
    /// `Destination`, if given: must be this IdP's endpoint.
    pub destination: Option<String>,
    /// `AssertionConsumerServiceURL`, if given: must be one the SP registered.
    pub acs_url: Option<String>,
    /// `AssertionConsumerServiceIndex`, if given.
    pub acs_index: Option<u32>,
    /// `ProtocolBinding`, if given.
    pub protocol_binding: Option<String>,
    /// `NameIDPolicy/@Format`, if given.
    pub name_id_format: Option<String>,
    /// `ForceAuthn`.
    pub force_authn: bool,
    /// `IsPassive`.
    pub is_passive: bool,
    /// Whether the XML carries its own signature (POST binding).
    pub signed_in_xml: bool,
}

/// An SP's request to end a user's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// `ID`: echoed as `InResponseTo`.
    pub id: String,
    /// The SP's entity ID.
    pub issuer: String,
    /// `IssueInstant`, Unix seconds.
    pub issue_instant: u64,
    /// `Destination`, if given.
    pub destination: Option<String>,
    /// `NotOnOrAfter`, if given.
    pub not_on_or_after: Option<u64>,
    /// The `NameID` the SP knows the user by.
    pub name_id: String,
    /// `SessionIndex` values.
    pub session_indexes: Vec<String>,
    /// Whether the XML carries its own signature (POST binding).
    pub signed_in_xml: bool,
}

fn parse<'i>(xml: &'i str, limits: &Limits) -> Result<Document<'i>, SamlError> {
    Ok(tollgate_xmldsig::xml::parse(xml, &limits.xml)?)
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| {
        c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == name
    })
}

fn flag(node: Node<'_, '_>, name: &str) -> bool {
    matches!(node.attribute(name), Some("true" | "1"))
}

/// The common header of a protocol request: root element, version, ID, instant, issuer.
fn header<'a, 'i>(
    doc: &'a Document<'i>,
    name: &'static str,
) -> Result<(Node<'a, 'i>, String, u64, String), SamlError> {
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(PROTOCOL_NS) || root.tag_name().name() != name {
        return Err(SamlError::Invalid(name));
    }
    if root.attribute("Version") != Some("2.0") {
        return Err(SamlError::Version);
    }
    let id = root
        .attribute("ID")
        .filter(|id| !id.is_empty() && id.len() <= MAX_ID)
        .ok_or(SamlError::Invalid(name))?
        .to_owned();
    let instant = root
        .attribute("IssueInstant")
        .and_then(crate::time::parse)
        .ok_or(SamlError::Invalid(name))?;
    let issuer = child(root, ASSERTION_NS, "Issuer")
        .and_then(|i| i.text())
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .ok_or(SamlError::Invalid(name))?
        .to_owned();
    Ok((root, id, instant, issuer))
}

/// Reads an `AuthnRequest`.
pub fn parse_authn_request(xml: &str, limits: &Limits) -> Result<AuthnRequest, SamlError> {
    let doc = parse(xml, limits)?;
    let (root, id, issue_instant, issuer) = header(&doc, "AuthnRequest")?;
    let acs_index = match root.attribute("AssertionConsumerServiceIndex") {
        Some(i) => Some(i.parse().map_err(|_| SamlError::Invalid("AuthnRequest"))?),
        None => None,
    };
    Ok(AuthnRequest {
        id,
        issuer,
        issue_instant,
        destination: root.attribute("Destination").map(str::to_owned),
        acs_url: root
            .attribute("AssertionConsumerServiceURL")
            .map(str::to_owned),
        acs_index,
        protocol_binding: root.attribute("ProtocolBinding").map(str::to_owned),
        name_id_format: child(root, PROTOCOL_NS, "NameIDPolicy")
            .and_then(|p| p.attribute("Format"))
            .map(str::to_owned),
        force_authn: flag(root, "ForceAuthn"),
        is_passive: flag(root, "IsPassive"),
        signed_in_xml: dsig::signature_of(root)?.is_some(),
    })
}

/// Reads a `LogoutRequest`.
pub fn parse_logout_request(xml: &str, limits: &Limits) -> Result<LogoutRequest, SamlError> {
    let doc = parse(xml, limits)?;
    let (root, id, issue_instant, issuer) = header(&doc, "LogoutRequest")?;
    let name_id = child(root, ASSERTION_NS, "NameID")
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or(SamlError::Invalid("LogoutRequest"))?
        .to_owned();
    let not_on_or_after = match root.attribute("NotOnOrAfter") {
        Some(t) => Some(crate::time::parse(t).ok_or(SamlError::Invalid("LogoutRequest"))?),
        None => None,
    };
    Ok(LogoutRequest {
        id,
        issuer,
        issue_instant,
        destination: root.attribute("Destination").map(str::to_owned),
        not_on_or_after,
        name_id,
        session_indexes: root
            .children()
            .filter(|c| {
                c.is_element()
                    && c.tag_name().namespace() == Some(PROTOCOL_NS)
                    && c.tag_name().name() == "SessionIndex"
            })
            .filter_map(|c| c.text().map(|t| t.trim().to_owned()))
            .collect(),
        signed_in_xml: dsig::signature_of(root)?.is_some(),
    })
}

/// Checks the signature inside a request's XML (POST binding) against the SP's keys: the
/// root element must be the one signed.
pub fn verify_embedded(xml: &str, keys: &[VerifyingKey], limits: &Limits) -> Result<(), SamlError> {
    let doc = parse(xml, limits)?;
    dsig::verify_element(doc.root_element(), keys)?;
    Ok(())
}
