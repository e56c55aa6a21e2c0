//! Parsing untrusted XML, safely.
//!
//! roxmltree refuses any document type declaration by default (`allow_dtd: false`), so no
//! entity can be declared and none is ever expanded or fetched: an XXE attempt fails at its
//! `<!DOCTYPE`. Only UTF-8 is read (SAML messages and UIDAI's files are UTF-8). The text,
//! the number of nodes and the nesting depth are bounded before the tree is walked.

use roxmltree::{Document, ParsingOptions};

/// Limits on the XML.
#[derive(Clone, Copy, Debug)]
pub struct XmlLimits {
    /// The largest XML text accepted.
    pub max_bytes: usize,
    /// The most nodes (elements, attributes' owners, text) in the tree.
    pub max_nodes: u32,
    /// The deepest element nesting (UIDAI's documents are 5 deep, SAML responses about 8).
    pub max_depth: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        Self {
            max_bytes: 2 * 1024 * 1024,
            max_nodes: 10_000,
            max_depth: 16,
        }
    }
}

/// Why the XML was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    /// Longer than allowed.
    #[error("The XML is too large.")]
    TooLarge,
    /// Not UTF-8.
    #[error("The XML is not UTF-8 text.")]
    NotUtf8,
    /// A document type declaration (and so possibly entities) was refused.
    #[error(
        "The XML declares a document type, which signed documents here never do; it was refused."
    )]
    DtdRefused,
    /// Not well-formed, or more nodes than allowed.
    #[error("The XML is malformed.")]
    Malformed,
    /// Nested deeper than allowed.
    #[error("The XML is nested too deeply.")]
    TooDeep,
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
        }
    }
}

/// The bytes as text: bounded, UTF-8, without a byte-order mark.
pub fn as_text<'a>(bytes: &'a [u8], limits: &XmlLimits) -> Result<&'a str, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(XmlError::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)
}

/// Parses `text`: no DTD, bounded size, nodes and depth.
pub fn parse<'a>(text: &'a str, limits: &XmlLimits) -> Result<Document<'a>, XmlError> {
    if text.len() > limits.max_bytes {
        return Err(XmlError::TooLarge);
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: limits.max_nodes,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => XmlError::DtdRefused,
        _ => XmlError::Malformed,
    })?;
    check_depth(&doc, limits.max_depth)?;
    Ok(doc)
}

/// The walk that enforces the depth is iterative, so the check itself cannot overflow the
/// stack; the canonicaliser's recursion is then bounded by `max_depth`.
fn check_depth(doc: &Document<'_>, max_depth: usize) -> Result<(), XmlError> {
    let mut stack = vec![(doc.root_element(), 1usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > max_depth {
            return Err(XmlError::TooDeep);
        }
        stack.extend(
            node.children()
                .filter(|c| c.is_element())
                .map(|c| (c, depth + 1)),
        );
    }
    Ok(())
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
    fn malformed_documents() {
        assert_eq!(parse_str("<OfflinePaperlessKyc>"), Err(XmlError::Malformed));
        assert_eq!(parse_str("<a></b>"), Err(XmlError::Malformed));
        assert_eq!(parse_str("<Other xmlns=\"urn:x\"/>"), Ok(()));
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
