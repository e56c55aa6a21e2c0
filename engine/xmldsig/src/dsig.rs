//! Enveloped XML signatures (XMLDSig) on an element identified by its ID, as SAML uses
//! them: exclusive C14N, RSA-SHA256 over a SHA-256 digest, one `Reference URI="#id"`.
//!
//! Wrapping-resistant by construction: the caller hands over the element it is going to
//! use, and [`verify_element`] checks that this very element carries the signature (as a
//! direct child), that the signature's one reference names this element's ID, and that no
//! other element in the document has that ID (IDs are unique or the document is refused).
//! A signature that covers some other element, however placed, never vouches for the
//! element used.
//!
//! Only configured keys are trusted: the certificate inside `KeyInfo` is ignored when
//! verifying. Nothing weaker is accepted: no SHA-1, no key under 2048 bits, no HMAC, no
//! transform other than enveloped-signature and canonicalisation.

use base64::Engine as _;
use ring::digest;
use ring::signature::{self, UnparsedPublicKey};
use roxmltree::{Document, Node};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::c14n::{self, Mode};

/// The XMLDSig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Inclusive C14N 1.0.
pub const C14N_10: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// Exclusive C14N 1.0.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// The enveloped-signature transform.
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// RSA PKCS#1 v1.5 with SHA-256.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// SHA-256 digests.
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";

/// Why a signature was refused (or could not be made).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DsigError {
    /// A certificate or key cannot be read, or is not RSA.
    #[error("A certificate cannot be read or does not hold an RSA key.")]
    BadCertificate,
    /// The element carries no signature.
    #[error("The element is not signed.")]
    NoSignature,
    /// The element carries more than one signature.
    #[error("The element carries more than one signature.")]
    TwoSignatures,
    /// Two elements share one ID, or the signed element has none.
    #[error("The document's IDs are missing or not unique.")]
    DuplicateId,
    /// The signature's reference does not name the element used.
    #[error("The signature does not cover the element used.")]
    WrongReference,
    /// An algorithm or transform that is not accepted.
    #[error("The signature uses an algorithm that is not accepted.")]
    UnsupportedAlgorithm,
    /// The signature's structure is broken.
    #[error("The signature is malformed.")]
    Malformed,
    /// The content does not match the signed digest: changed after signing.
    #[error("The element was changed after it was signed.")]
    Tampered,
    /// No trusted key verifies the signature.
    #[error("The signature is not made by a trusted key.")]
    BadSignature,
    /// The signing callback failed.
    #[error("The element could not be signed.")]
    SigningFailed,
}

impl DsigError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadCertificate => "bad_certificate",
            Self::NoSignature => "no_signature",
            Self::TwoSignatures => "two_signatures",
            Self::DuplicateId => "duplicate_id",
            Self::WrongReference => "wrong_reference",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::Malformed => "malformed_signature",
            Self::Tampered => "tampered",
            Self::BadSignature => "bad_signature",
            Self::SigningFailed => "signing_failed",
        }
    }
}

/// A trusted RSA public key, read from an X.509 certificate.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    /// The RSAPublicKey DER (the SubjectPublicKeyInfo's bit string).
    public_key: Vec<u8>,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey").finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// The RSA key of a DER certificate.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, DsigError> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|_| DsigError::BadCertificate)?;
        let spki = cert.public_key();
        if spki.algorithm.algorithm.to_id_string() != RSA_ENCRYPTION_OID {
            return Err(DsigError::BadCertificate);
        }
        Ok(Self {
            public_key: spki.subject_public_key.data.to_vec(),
        })
    }

    /// The RSA key of a certificate given as PEM or as the bare base64 of its DER (what
    /// SAML metadata's `X509Certificate` holds).
    pub fn from_certificate_text(text: &str) -> Result<Self, DsigError> {
        let text = text.trim();
        if text.contains("-----BEGIN") {
            for block in x509_parser::pem::Pem::iter_from_buffer(text.as_bytes()) {
                let block = block.map_err(|_| DsigError::BadCertificate)?;
                if block.label == "CERTIFICATE" {
                    return Self::from_certificate_der(&block.contents);
                }
            }
            return Err(DsigError::BadCertificate);
        }
        let der = decode_base64(text).ok_or(DsigError::BadCertificate)?;
        Self::from_certificate_der(&der)
    }

    /// Whether `signature` is this key's RSA-SHA256 (PKCS#1 v1.5) signature of `data`;
    /// keys under 2048 bits never verify.
    pub fn verify_rsa_sha256(&self, data: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.public_key)
            .verify(data, signature)
            .is_ok()
    }
}

/// Base64 with whatever whitespace and line breaks it was wrapped in.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// The ID attribute of an element: `ID` (SAML), `Id` or `id`, in no namespace.
pub fn id_of<'a>(node: Node<'a, '_>) -> Option<&'a str> {
    node.attributes()
        .find(|a| a.namespace().is_none() && matches!(a.name(), "ID" | "Id" | "id"))
        .map(|a| a.value())
}

/// Refuses a document in which two elements share an ID.
pub fn check_unique_ids(doc: &Document<'_>) -> Result<(), DsigError> {
    let mut ids: Vec<&str> = doc
        .descendants()
        .filter(|n| n.is_element())
        .flat_map(|n| {
            n.attributes()
                .filter(|a| a.namespace().is_none() && matches!(a.name(), "ID" | "Id" | "id"))
                .map(|a| a.value())
        })
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() == count {
        Ok(())
    } else {
        Err(DsigError::DuplicateId)
    }
}

/// The one element whose ID is `id`, in a document whose IDs are unique.
pub fn element_by_id<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Result<Node<'a, 'i>, DsigError> {
    check_unique_ids(doc)?;
    doc.descendants()
        .find(|n| n.is_element() && id_of(*n) == Some(id))
        .ok_or(DsigError::DuplicateId)
}

fn dsig_children<'a, 'i>(
    node: Node<'a, 'i>,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().namespace() == Some(DSIG_NS) && c.tag_name().name() == name
    })
}

fn dsig_child<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> Result<Node<'a, 'i>, DsigError> {
    let mut found = dsig_children(node, name);
    let first = found.next().ok_or(DsigError::Malformed)?;
    if found.next().is_some() {
        return Err(DsigError::Malformed);
    }
    Ok(first)
}

fn algorithm<'a>(node: Node<'a, '_>) -> Result<&'a str, DsigError> {
    node.attribute("Algorithm").ok_or(DsigError::Malformed)
}

/// The `InclusiveNamespaces PrefixList` of an exclusive-C14N method or transform.
fn prefix_list<'a>(method: Node<'a, '_>) -> Vec<&'a str> {
    method
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "InclusiveNamespaces")
        .and_then(|n| n.attribute("PrefixList"))
        .map(|list| list.split_whitespace().collect())
        .unwrap_or_default()
}

/// The enveloped signature that is a direct child of `element`, if any (one at most).
pub fn signature_of<'a, 'i>(element: Node<'a, 'i>) -> Result<Option<Node<'a, 'i>>, DsigError> {
    let mut signatures = dsig_children(element, "Signature");
    let first = signatures.next();
    if signatures.next().is_some() {
        return Err(DsigError::TwoSignatures);
    }
    Ok(first)
}

/// Verifies that `element` is signed by one of `keys`: its one `Signature` child has one
/// reference, to this element's ID (unique in the document), with the enveloped-signature
/// transform and exclusive (or inclusive) C14N, a SHA-256 digest matching the element
/// without its signature, and an RSA-SHA256 signature of the canonical `SignedInfo`.
pub fn verify_element(element: Node<'_, '_>, keys: &[VerifyingKey]) -> Result<(), DsigError> {
    check_unique_ids(element.document())?;
    let id = id_of(element).ok_or(DsigError::DuplicateId)?;
    let signature = signature_of(element)?.ok_or(DsigError::NoSignature)?;

    let signed_info = dsig_child(signature, "SignedInfo")?;
    let c14n_method = dsig_child(signed_info, "CanonicalizationMethod")?;
    let si_list = prefix_list(c14n_method);
    let si_mode = match algorithm(c14n_method)? {
        EXC_C14N => Mode::Exclusive(&si_list),
        C14N_10 => Mode::Inclusive,
        _ => return Err(DsigError::UnsupportedAlgorithm),
    };
    if algorithm(dsig_child(signed_info, "SignatureMethod")?)? != RSA_SHA256 {
        return Err(DsigError::UnsupportedAlgorithm);
    }

    let mut references = dsig_children(signed_info, "Reference");
    let reference = references.next().ok_or(DsigError::Malformed)?;
    if references.next().is_some() {
        return Err(DsigError::WrongReference);
    }
    match reference.attribute("URI").and_then(|u| u.strip_prefix('#')) {
        Some(target) if target == id => {}
        _ => return Err(DsigError::WrongReference),
    }
    let mut enveloped = false;
    let mut canonicalisation: Option<Node<'_, '_>> = None;
    if let Some(transforms) = dsig_children(reference, "Transforms").next() {
        for transform in transforms.children().filter(|c| c.is_element()) {
            match algorithm(transform)? {
                ENVELOPED if !enveloped => enveloped = true,
                EXC_C14N | C14N_10 if canonicalisation.is_none() => {
                    canonicalisation = Some(transform)
                }
                _ => return Err(DsigError::UnsupportedAlgorithm),
            }
        }
    }
    if !enveloped {
        return Err(DsigError::UnsupportedAlgorithm);
    }
    let ref_list = canonicalisation.map(prefix_list).unwrap_or_default();
    let ref_mode = match canonicalisation.map(algorithm).transpose()? {
        Some(EXC_C14N) => Mode::Exclusive(&ref_list),
        _ => Mode::Inclusive,
    };
    if algorithm(dsig_child(reference, "DigestMethod")?)? != SHA256 {
        return Err(DsigError::UnsupportedAlgorithm);
    }
    let expected_digest = dsig_child(reference, "DigestValue")?
        .text()
        .and_then(decode_base64)
        .ok_or(DsigError::Malformed)?;

    let canonical =
        c14n::subset(element, Some(signature.id()), ref_mode).map_err(|_| DsigError::Malformed)?;
    if digest::digest(&digest::SHA256, &canonical).as_ref() != expected_digest.as_slice() {
        return Err(DsigError::Tampered);
    }

    let signature_value = dsig_child(signature, "SignatureValue")?
        .text()
        .and_then(decode_base64)
        .ok_or(DsigError::Malformed)?;
    let signed = c14n::subset(signed_info, None, si_mode).map_err(|_| DsigError::Malformed)?;
    if keys
        .iter()
        .any(|key| key.verify_rsa_sha256(&signed, &signature_value))
    {
        Ok(())
    } else {
        Err(DsigError::BadSignature)
    }
}

/// Signs the element whose ID is `id` in `xml` (enveloped, exclusive C14N, RSA-SHA256 by
/// `sign`, which gets the canonical `SignedInfo`), placing the `ds:Signature` right after
/// the element's first child named `after` (SAML wants it after `Issuer`) or, without one,
/// as its first child; `certificate_der` goes in `KeyInfo`. Returns the signed document.
pub fn sign_element<F>(
    xml: &str,
    id: &str,
    after: Option<&str>,
    certificate_der: Option<&[u8]>,
    sign: F,
) -> Result<String, DsigError>
where
    F: FnOnce(&[u8]) -> Option<Vec<u8>>,
{
    let doc = Document::parse(xml).map_err(|_| DsigError::Malformed)?;
    let element = element_by_id(&doc, id)?;
    let canonical =
        c14n::subset(element, None, Mode::Exclusive(&[])).map_err(|_| DsigError::Malformed)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let digest_value = b64.encode(digest::digest(&digest::SHA256, &canonical).as_ref());
    let position = after
        .and_then(|name| {
            element
                .children()
                .find(|c| c.is_element() && c.tag_name().name() == name)
                .map(|c| c.range().end)
        })
        .or_else(|| element.first_child().map(|c| c.range().start))
        .ok_or(DsigError::Malformed)?;

    let signed_info = format!(
        "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/><ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"/><ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"{ENVELOPED}\"/><ds:Transform Algorithm=\"{EXC_C14N}\"/></ds:Transforms><ds:DigestMethod Algorithm=\"{SHA256}\"/><ds:DigestValue>{digest_value}</ds:DigestValue></ds:Reference></ds:SignedInfo>",
        id = escape_attr(id),
    );
    // Exclusive C14N of SignedInfo depends only on the `ds` binding it uses, so it is
    // canonicalised inside the bare Signature rather than the whole document.
    let bare = format!("<ds:Signature xmlns:ds=\"{DSIG_NS}\">{signed_info}</ds:Signature>");
    let bare_doc = Document::parse(&bare).map_err(|_| DsigError::Malformed)?;
    let si = bare_doc
        .root_element()
        .first_element_child()
        .ok_or(DsigError::Malformed)?;
    let canonical_si =
        c14n::subset(si, None, Mode::Exclusive(&[])).map_err(|_| DsigError::Malformed)?;
    let value = sign(&canonical_si).ok_or(DsigError::SigningFailed)?;
    let key_info = certificate_der
        .map(|der| {
            format!(
                "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>",
                b64.encode(der)
            )
        })
        .unwrap_or_default();
    let signature = format!(
        "<ds:Signature xmlns:ds=\"{DSIG_NS}\">{signed_info}<ds:SignatureValue>{}</ds:SignatureValue>{key_info}</ds:Signature>",
        b64.encode(value)
    );
    let (head, tail) = xml.split_at(position);
    Ok(format!("{head}{signature}{tail}"))
}

fn escape_attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}
