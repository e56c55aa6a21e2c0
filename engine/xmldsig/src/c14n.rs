//! Canonical XML without comments, over a parsed roxmltree document: inclusive C14N 1.0
//! (W3C REC-xml-c14n-20010315, what UIDAI's signatures name) and exclusive C14N 1.0
//! (W3C REC-xml-exc-c14n-20020718, what SAML signatures name).
//!
//! Written here rather than taken from a crate: the pure-Rust XMLDSig crates found on
//! crates.io either bind libxml2/xmlsec (C), or canonicalise by re-serialising a DOM
//! without the namespace and escaping rules, or are unmaintained. What signed documents
//! need is small: elements, attributes, text, processing instructions and namespaces.
//!
//! The rules implemented (C14N 1.0 section 2.3; the input is the XPath data model, so line
//! ends are already LF, attribute values normalised and entities and CDATA resolved by the
//! parser):
//! - the XML declaration and document type are dropped; comments are dropped;
//! - processing instructions outside the document element are followed (before it) or
//!   preceded (after it) by a line feed; whitespace outside the document element is dropped;
//! - empty elements become start-end tag pairs;
//! - namespace declarations come first, sorted by prefix (the default one first); a
//!   declaration is output only where it differs from the nearest output ancestor's (at
//!   the apex of a subset, every namespace in scope is output: inclusive C14N); a default
//!   namespace undeclared below a declared one outputs `xmlns=""`;
//! - exclusive C14N outputs only the declarations an element visibly uses (its own prefix
//!   and its attributes' prefixes) plus those of the `InclusiveNamespaces` prefix list, and
//!   does not carry the ancestors' `xml:` attributes to the apex;
//! - attributes follow, sorted by namespace URI then local name (no namespace first); at
//!   the apex of an inclusive subset the `xml:` attributes of its ancestors are added;
//! - text escapes `&`, `<`, `>` and CR; attribute values escape `&`, `<`, `"`, TAB, LF
//!   and CR.
//!
//! A document that binds one namespace URI to two prefixes is refused
//! ([`C14nError::AmbiguousPrefix`]): the parsed tree keeps URIs, not prefixes, so the
//! prefix to print would be a guess.

use roxmltree::{Document, Node, NodeId, NodeType};

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Why a document cannot be canonicalised.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum C14nError {
    /// One namespace URI bound to two prefixes in one scope.
    #[error("The XML file binds one namespace to two prefixes, which is not supported.")]
    AmbiguousPrefix,
}

impl C14nError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AmbiguousPrefix => "unsupported_xml",
        }
    }
}

type Scope<'a> = Vec<(Option<&'a str>, &'a str)>;

/// Which canonicalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode<'p> {
    /// Inclusive C14N 1.0 (`http://www.w3.org/TR/2001/REC-xml-c14n-20010315`).
    Inclusive,
    /// Exclusive C14N 1.0 (`http://www.w3.org/2001/10/xml-exc-c14n#`), with the
    /// `InclusiveNamespaces` prefix list (`#default` names the default namespace).
    Exclusive(&'p [&'p str]),
}

/// The whole document (`Reference URI=""`), without the `exclude` element and its
/// subtree (the enveloped-signature transform).
pub fn document(doc: &Document<'_>, exclude: Option<NodeId>) -> Result<Vec<u8>, C14nError> {
    check_prefixes(doc)?;
    let mut out = String::new();
    let mut seen_root = false;
    for child in doc.root().children() {
        match child.node_type() {
            NodeType::Element => {
                if Some(child.id()) != exclude {
                    element(child, &Vec::new(), true, exclude, Mode::Inclusive, &mut out);
                }
                seen_root = true;
            }
            NodeType::PI => {
                if seen_root {
                    out.push('\n');
                }
                pi(child, &mut out);
                if !seen_root {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
    Ok(out.into_bytes())
}

/// The subtree at `apex` as its own document subset (how `SignedInfo` is canonicalised):
/// the namespaces and `xml:` attributes it inherits are written on it.
pub fn subtree(apex: Node<'_, '_>) -> Result<Vec<u8>, C14nError> {
    subset(apex, None, Mode::Inclusive)
}

/// The subtree at `apex` as a document subset in `mode`, without the `exclude` element
/// and its subtree (the enveloped-signature transform of a `#id` reference).
pub fn subset(
    apex: Node<'_, '_>,
    exclude: Option<NodeId>,
    mode: Mode<'_>,
) -> Result<Vec<u8>, C14nError> {
    check_prefixes(apex.document())?;
    let mut out = String::new();
    element(apex, &Vec::new(), true, exclude, mode, &mut out);
    Ok(out.into_bytes())
}

fn check_prefixes(doc: &Document<'_>) -> Result<(), C14nError> {
    for node in doc.descendants().filter(|n| n.is_element()) {
        let uris: Vec<&str> = node
            .namespaces()
            .filter(|ns| ns.name() != Some("xml"))
            .map(|ns| ns.uri())
            .filter(|uri| !uri.is_empty())
            .collect();
        for (i, uri) in uris.iter().enumerate() {
            if uris.iter().skip(i + 1).any(|other| other == uri) {
                return Err(C14nError::AmbiguousPrefix);
            }
        }
    }
    Ok(())
}

fn element<'a>(
    node: Node<'a, '_>,
    rendered: &Scope<'a>,
    apex: bool,
    exclude: Option<NodeId>,
    mode: Mode<'_>,
    out: &mut String,
) {
    let scope: Scope<'a> = node
        .namespaces()
        .filter(|ns| ns.name() != Some("xml"))
        .map(|ns| (ns.name(), ns.uri()))
        .collect();
    let lookup = |s: &Scope<'a>, prefix: Option<&str>| -> &'a str {
        s.iter()
            .find(|(p, _)| *p == prefix)
            .map(|(_, uri)| *uri)
            .unwrap_or("")
    };

    // Namespace declarations that differ from the nearest output ancestor's; exclusive
    // C14N considers only the prefixes this element visibly uses and the listed ones.
    let used = match mode {
        Mode::Inclusive => None,
        Mode::Exclusive(list) => Some(visibly_used(node, &scope, list)),
    };
    let considered = |prefix: Option<&str>| used.as_ref().is_none_or(|u| u.contains(&prefix));
    let mut decls: Vec<(Option<&'a str>, &'a str)> = Vec::new();
    let default_uri = lookup(&scope, None);
    if considered(None) && default_uri != lookup(rendered, None) {
        decls.push((None, default_uri));
    }
    for (prefix, uri) in scope.iter().filter(|(p, _)| p.is_some()) {
        if considered(*prefix)
            && rendered.iter().find(|(p, _)| p == prefix).map(|(_, u)| *u) != Some(*uri)
        {
            decls.push((*prefix, uri));
        }
    }
    decls.sort_by(|a, b| a.0.unwrap_or("").cmp(b.0.unwrap_or("")));
    let mut now_rendered = rendered.clone();
    for (prefix, uri) in &decls {
        now_rendered.retain(|(p, _)| p != prefix);
        now_rendered.push((*prefix, uri));
    }

    let qname = qualified(
        node,
        node.tag_name().namespace(),
        node.tag_name().name(),
        &scope,
    );
    out.push('<');
    out.push_str(&qname);
    for (prefix, uri) in &decls {
        match prefix {
            None => out.push_str(" xmlns=\""),
            Some(p) => {
                out.push_str(" xmlns:");
                out.push_str(p);
                out.push_str("=\"");
            }
        }
        escape_attr(uri, out);
        out.push('"');
    }

    let mut attrs: Vec<(&str, &str, String, &str)> = node
        .attributes()
        .map(|a| {
            let ns = a.namespace().unwrap_or("");
            (
                ns,
                a.name(),
                qualified(node, a.namespace(), a.name(), &Vec::new()),
                a.value(),
            )
        })
        .collect();
    if apex && mode == Mode::Inclusive {
        // C14N 1.0: a subset's apex carries the xml:lang, xml:space... of its ancestors.
        for ancestor in node.ancestors().skip(1).filter(|n| n.is_element()) {
            for a in ancestor
                .attributes()
                .filter(|a| a.namespace() == Some(XML_NS))
            {
                if !attrs
                    .iter()
                    .any(|(ns, name, _, _)| *ns == XML_NS && *name == a.name())
                {
                    attrs.push((XML_NS, a.name(), format!("xml:{}", a.name()), a.value()));
                }
            }
        }
    }
    attrs.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for (_, _, name, value) in &attrs {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_attr(value, out);
        out.push('"');
    }
    out.push('>');

    for child in node.children() {
        match child.node_type() {
            NodeType::Element if Some(child.id()) == exclude => {}
            NodeType::Element => element(child, &now_rendered, false, exclude, mode, out),
            NodeType::Text => escape_text(child.text().unwrap_or(""), out),
            NodeType::PI => pi(child, out),
            _ => {}
        }
    }
    out.push_str("</");
    out.push_str(&qname);
    out.push('>');
}

/// The prefixes an element visibly uses (exclusive C14N): its own (`None` for the default
/// namespace, also when it is in no namespace, so that `xmlns=""` is output where needed),
/// its namespaced attributes', and the inclusive list's that are in scope.
fn visibly_used<'a>(node: Node<'a, '_>, scope: &Scope<'a>, list: &[&str]) -> Vec<Option<&'a str>> {
    let mut used = vec![prefix_of(node, node.tag_name().namespace(), scope, true)];
    for a in node.attributes() {
        if let Some(uri) = a.namespace().filter(|u| *u != XML_NS) {
            used.push(prefix_of(node, Some(uri), scope, false));
        }
    }
    for name in list {
        if *name == "#default" {
            used.push(None);
        } else if let Some((p, _)) = scope.iter().find(|(p, _)| *p == Some(*name)) {
            used.push(*p);
        }
    }
    used
}

fn prefix_of<'a>(
    node: Node<'a, '_>,
    ns: Option<&str>,
    scope: &Scope<'a>,
    element: bool,
) -> Option<&'a str> {
    let uri = ns.filter(|u| !u.is_empty())?;
    if element && scope.iter().any(|(p, u)| p.is_none() && *u == uri) {
        return None;
    }
    node.namespaces()
        .find(|n| n.uri() == uri && n.name().is_some())
        .and_then(|n| n.name())
}

/// `prefix:local` for a namespaced name, `local` otherwise. An element in the default
/// namespace prints unprefixed; attributes never take the default namespace.
fn qualified(node: Node<'_, '_>, ns: Option<&str>, local: &str, scope: &Scope<'_>) -> String {
    let Some(uri) = ns.filter(|u| !u.is_empty()) else {
        return local.to_owned();
    };
    if uri == XML_NS {
        return format!("xml:{local}");
    }
    if scope.iter().any(|(p, u)| p.is_none() && *u == uri) {
        return local.to_owned();
    }
    match node
        .namespaces()
        .find(|n| n.uri() == uri && n.name().is_some())
        .and_then(|n| n.name())
    {
        Some(prefix) => format!("{prefix}:{local}"),
        None => local.to_owned(),
    }
}

fn pi(node: Node<'_, '_>, out: &mut String) {
    if let Some(pi) = node.pi() {
        out.push_str("<?");
        out.push_str(pi.target);
        if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
            out.push(' ');
            out.push_str(value);
        }
        out.push_str("?>");
    }
}

fn escape_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(text: &str) -> String {
        let doc = Document::parse(text).unwrap();
        String::from_utf8(document(&doc, None).unwrap()).unwrap()
    }

    // Expected outputs follow the examples of C14N 1.0 section 3 (3.1 PIs and comments,
    // 3.2 whitespace, 3.3 start and end tags, 3.4 character modifications), cut to what a
    // parser without a DTD reads.
    #[test]
    fn pis_comments_and_the_declaration() {
        let input = "<?xml version=\"1.0\"?>\n\n<?xml-stylesheet   href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n\n<doc>Hello, world!<!-- Comment 1 --></doc>\n\n<?pi-without-data     ?>\n\n<!-- Comment 2 -->\n\n<!-- Comment 3 -->";
        assert_eq!(
            c14n(input),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!</doc>\n<?pi-without-data?>"
        );
    }

    #[test]
    fn tags_attributes_and_namespaces() {
        let input = r#"<doc>
   <e1   />
   <e2   ></e2>
   <e3   name = "elem3"   id="elem3"   />
   <e4   name="elem4"   id="elem4"   ></e4>
   <e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm"
      xmlns:b="http://www.ietf.org"
      xmlns:a="http://www.w3.org"
      xmlns="http://example.org"/>
   <e6 xmlns="" xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="" xmlns:a="http://www.w3.org">
            <e9 xmlns="" xmlns:a="http://www.ietf.org"/>
         </e8>
      </e7>
   </e6>
</doc>"#;
        let expected = r#"<doc>
   <e1></e1>
   <e2></e2>
   <e3 id="elem3" name="elem3"></e3>
   <e4 id="elem4" name="elem4"></e4>
   <e5 xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5>
   <e6 xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="">
            <e9 xmlns:a="http://www.ietf.org"></e9>
         </e8>
      </e7>
   </e6>
</doc>"#;
        assert_eq!(c14n(input), expected);
    }

    #[test]
    fn character_modifications() {
        let input = "<doc>\r\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
        let expected = "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n</doc>";
        assert_eq!(c14n(input), expected);
    }

    #[test]
    fn a_subset_apex_carries_inherited_namespaces_and_xml_attributes() {
        let doc = Document::parse(
            "<r xml:lang=\"en\"><Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><SignedInfo><A x=\"1\"/></SignedInfo></Signature></r>",
        )
        .unwrap();
        let si = doc
            .descendants()
            .find(|n| n.has_tag_name("SignedInfo") || n.tag_name().name() == "SignedInfo")
            .unwrap();
        assert_eq!(
            String::from_utf8(subtree(si).unwrap()).unwrap(),
            "<SignedInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\" xml:lang=\"en\"><A x=\"1\"></A></SignedInfo>"
        );
    }

    #[test]
    fn excluding_the_signature_keeps_the_whitespace_around_it() {
        let doc = Document::parse(
            "<r a=\"1\">\n <x/>\n <Signature xmlns=\"urn:s\"><y/></Signature>\n</r>",
        )
        .unwrap();
        let sig = doc
            .descendants()
            .find(|n| n.tag_name().name() == "Signature")
            .unwrap();
        assert_eq!(
            String::from_utf8(document(&doc, Some(sig.id())).unwrap()).unwrap(),
            "<r a=\"1\">\n <x></x>\n \n</r>"
        );
    }

    #[test]
    fn refuses_one_uri_under_two_prefixes() {
        let doc = Document::parse("<r xmlns:a=\"urn:x\" xmlns:b=\"urn:x\"/>").unwrap();
        assert_eq!(document(&doc, None), Err(C14nError::AmbiguousPrefix));
    }
}
