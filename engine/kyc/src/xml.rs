//! Parsing the `OfflinePaperlessKyc` XML, safely, with `tollgate-xmldsig`'s parser.
//!
//! roxmltree refuses any document type declaration by default (`allow_dtd: false`), so no
//! entity can be declared and none is ever expanded or fetched: an XXE attempt fails at its
//! `<!DOCTYPE`. Only UTF-8 is read (UIDAI's files declare UTF-8). The text, the number of
//! nodes and the nesting depth are bounded before the tree is walked.

use roxmltree::Document;
use tollgate_xmldsig::xml as generic;

/// Limits on the XML.
pub use tollgate_xmldsig::XmlLimits;

/// Why the XML was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    /// Longer than allowed.
    #[error("The XML file is too large.")]
    TooLarge,
    /// Not UTF-8.
    #[error("The XML file is not UTF-8 text.")]
    NotUtf8,
    /// A document type declaration (and so possibly entities) was refused.
    #[error("The XML file declares a document type, which UIDAI's files never do; it was refused.")]
    DtdRefused,
    /// Not well-formed, or more nodes than allowed.
    #[error("The XML file is malformed.")]
    Malformed,
    /// Nested deeper than allowed.
    #[error("The XML file is nested too deeply.")]
    TooDeep,
    /// Well-formed but not an offline e-KYC document.
    #[error("The XML file is not an Aadhaar offline e-KYC document.")]
    NotOfflineKyc,
}

impl From<generic::XmlError> for XmlError {
    fn from(e: generic::XmlError) -> Self {
        match e {
            generic::XmlError::TooLarge => Self::TooLarge,
            generic::XmlError::NotUtf8 => Self::NotUtf8,
            generic::XmlError::DtdRefused => Self::DtdRefused,
            generic::XmlError::Malformed => Self::Malformed,
            generic::XmlError::TooDeep => Self::TooDeep,
        }
    }
}

impl XmlError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::NotUtf8 => "malformed_xml",
            Self::DtdRefused => "dtd_refused",
            Self::Malformed => "malformed_xml",
            Self::TooDeep => "malformed_xml",
            Self::NotOfflineKyc => "not_offline_kyc",
        }
    }
}

/// The root element's name.
pub const ROOT: &str = "OfflinePaperlessKyc";

/// The upload's bytes as text: bounded, UTF-8, without a byte-order mark.
pub fn as_text<'a>(bytes: &'a [u8], limits: &XmlLimits) -> Result<&'a str, XmlError> {
    Ok(generic::as_text(bytes, limits)?)
}

/// Parses `text` as an offline e-KYC document: no DTD, bounded nodes and depth (the
/// generic parse), root `OfflinePaperlessKyc` in no namespace.
pub fn parse<'a>(text: &'a str, limits: &XmlLimits) -> Result<Document<'a>, XmlError> {
    let doc = generic::parse(text, limits)?;
    let root = doc.root_element();
    if root.tag_name().name() != ROOT || root.tag_name().namespace().is_some() {
        return Err(XmlError::NotOfflineKyc);
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<(), XmlError> {
        parse(text, &XmlLimits::default()).map(|_| ())
    }

    #[test]
    fn refuses_a_doctype_and_so_any_entity() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><OfflinePaperlessKyc referenceId="&x;"/>"#;
        assert_eq!(parse_str(xxe), Err(XmlError::DtdRefused));
        let laughs =
            r#"<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><OfflinePaperlessKyc/>"#;
        assert_eq!(parse_str(laughs), Err(XmlError::DtdRefused));
        assert_eq!(XmlError::DtdRefused.code(), "dtd_refused");
    }

    #[test]
    fn an_undeclared_entity_is_malformed() {
        assert_eq!(
            parse_str("<OfflinePaperlessKyc a=\"&x;\"/>"),
            Err(XmlError::Malformed)
        );
    }

    #[test]
    fn malformed_and_foreign_documents() {
        assert_eq!(parse_str("<OfflinePaperlessKyc>"), Err(XmlError::Malformed));
        assert_eq!(parse_str("<Other/>"), Err(XmlError::NotOfflineKyc));
        assert_eq!(
            parse_str("<OfflinePaperlessKyc xmlns=\"urn:x\"/>"),
            Err(XmlError::NotOfflineKyc)
        );
        assert_eq!(XmlError::Malformed.code(), "malformed_xml");
    }

    #[test]
    fn bounds_depth_nodes_and_size() {
        let deep = format!(
            "<OfflinePaperlessKyc>{}{}</OfflinePaperlessKyc>",
            "<a>".repeat(40),
            "</a>".repeat(40)
        );
        assert_eq!(parse_str(&deep), Err(XmlError::TooDeep));
        let wide = format!(
            "<OfflinePaperlessKyc>{}</OfflinePaperlessKyc>",
            "<a/>".repeat(20_000)
        );
        assert_eq!(parse_str(&wide), Err(XmlError::Malformed));
        let limits = XmlLimits {
            max_bytes: 10,
            ..XmlLimits::default()
        };
        assert_eq!(
            as_text(b"<OfflinePaperlessKyc/>", &limits),
            Err(XmlError::TooLarge)
        );
        assert_eq!(
            as_text(b"<a>\xff</a>", &XmlLimits::default()),
            Err(XmlError::NotUtf8)
        );
    }
}
