//! The enveloped XML signature (XMLDSig) of an offline e-KYC document, checked against the
//! UIDAI certificates the deployment configured.
//!
//! What UIDAI's documents carry, as seen in published samples (2019 to 2025): one
//! `Signature` in the `http://www.w3.org/2000/09/xmldsig#` namespace as the last child of
//! the root; `CanonicalizationMethod` C14N 1.0 (REC-xml-c14n-20010315); `SignatureMethod`
//! `rsa-sha1`; one `Reference URI=""` with the enveloped-signature transform and a SHA-256
//! digest (`xmlenc#sha256`). So the signature is RSA PKCS#1 v1.5 over SHA-1, verified with
//! ring's legacy verifier; `rsa-sha256` is accepted too. Nothing weaker: no SHA-1 digest,
//! no key under 2048 bits, no HMAC, no other transform.
//!
//! The certificate in `KeyInfo` is ignored: only configured certificates are trusted.
//! Each is tried in turn (several during a rollover), and the one that verifies must have
//! been valid when the document was generated (its `referenceId` time).

use base64::Engine as _;
use ring::digest;
use ring::signature::{self, UnparsedPublicKey};
use roxmltree::{Document, Node};
use tollgate_vocab::clock::UnixTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use tollgate_xmldsig::c14n;

/// The XMLDSig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const C14N_10: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";

/// Why a signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DsigError {
    /// No UIDAI certificate configured for the deployment.
    #[error("Aadhaar verification is not set up: no UIDAI signing certificate is configured.")]
    NoCertificates,
    /// A configured certificate cannot be read (an operator's mistake).
    #[error("A configured UIDAI certificate cannot be read.")]
    BadCertificate,
    /// The document is not signed.
    #[error("The document is not signed by UIDAI.")]
    NoSignature,
    /// More than one signature.
    #[error("The document carries more than one signature, which UIDAI's documents never do.")]
    TwoSignatures,
    /// The signature does not cover the whole document.
    #[error("The document's signature does not cover the whole document.")]
    NotCoveringRoot,
    /// An algorithm or transform UIDAI does not use.
    #[error("The document's signature uses an algorithm that is not accepted.")]
    UnsupportedAlgorithm,
    /// The signature's structure is broken.
    #[error("The document's signature is malformed.")]
    Malformed,
    /// The content does not match the signed digest: changed after signing.
    #[error("The document was changed after UIDAI signed it.")]
    Tampered,
    /// No configured certificate verifies the signature.
    #[error("The document's signature is not UIDAI's.")]
    BadSignature,
    /// Verified, but by a certificate not valid when the document was generated.
    #[error("The document was signed with a UIDAI certificate that was not valid at the time.")]
    CertificateNotValid,
}

impl DsigError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoCertificates => "no_certificates",
            Self::BadCertificate => "bad_certificate",
            Self::NoSignature => "no_signature",
            Self::TwoSignatures => "two_signatures",
            Self::NotCoveringRoot => "signature_not_covering_root",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::Malformed => "malformed_signature",
            Self::Tampered => "tampered",
            Self::BadSignature => "bad_signature",
            Self::CertificateNotValid => "certificate_not_valid",
        }
    }
}

/// One configured certificate: its RSA public key and validity.
#[derive(Clone)]
struct Trusted {
    /// The RSAPublicKey DER (the SubjectPublicKeyInfo's bit string).
    public_key: Vec<u8>,
    not_before: i64,
    not_after: i64,
}

/// The UIDAI signing certificates a deployment trusts (several during a rollover).
#[derive(Clone, Default)]
pub struct TrustedCertificates {
    certs: Vec<Trusted>,
    /// Refuse a document generated outside the signing certificate's validity. Off
    /// unless asked: the certificates are pinned by the operator (trusted by their key,
    /// as SAML metadata certificates are), and UIDAI has gone on signing documents with
    /// a certificate past its `notAfter`.
    check_dates: bool,
}

impl std::fmt::Debug for TrustedCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedCertificates")
            .field("count", &self.certs.len())
            .finish()
    }
}

impl TrustedCertificates {
    /// Reads certificates given as PEM (one or several blocks each) or as the bare base64
    /// of the DER (UIDAI's `.cer` download). CA certificates in a pasted chain are skipped;
    /// any other certificate must hold an RSA key (its size is checked when verifying:
    /// 2048 bits or more).
    pub fn from_pem<S: AsRef<str>>(pems: &[S]) -> Result<Self, DsigError> {
        let mut certs = Vec::new();
        for pem in pems {
            let text = pem.as_ref().trim();
            if text.is_empty() {
                continue;
            }
            if text.contains("-----BEGIN") {
                for block in x509_parser::pem::Pem::iter_from_buffer(text.as_bytes()) {
                    let block = block.map_err(|_| DsigError::BadCertificate)?;
                    if block.label == "CERTIFICATE" {
                        certs.extend(Self::from_der(&block.contents)?);
                    }
                }
            } else {
                let der = decode_base64(text).ok_or(DsigError::BadCertificate)?;
                certs.extend(Self::from_der(&der)?);
            }
        }
        Ok(Self {
            certs,
            check_dates: false,
        })
    }

    /// Also refuses documents generated outside the signing certificate's validity.
    pub fn checking_dates(mut self, check: bool) -> Self {
        self.check_dates = check;
        self
    }

    /// A CA certificate pasted with the chain is skipped: CAs issue certificates, they do
    /// not sign documents.
    fn from_der(der: &[u8]) -> Result<Option<Trusted>, DsigError> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|_| DsigError::BadCertificate)?;
        if cert.is_ca() {
            return Ok(None);
        }
        let spki = cert.public_key();
        if spki.algorithm.algorithm.to_id_string() != RSA_ENCRYPTION_OID {
            return Err(DsigError::BadCertificate);
        }
        Ok(Some(Trusted {
            public_key: spki.subject_public_key.data.to_vec(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
        }))
    }

    /// No certificate configured.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// How many are configured.
    pub fn len(&self) -> usize {
        self.certs.len()
    }
}

/// Base64 with the line breaks (and `&#13;` carriage returns) UIDAI's files wrap it in.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

fn dsig_child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Result<Node<'a, 'i>, DsigError> {
    let mut found = node.children().filter(|c| {
        c.is_element() && c.tag_name().namespace() == Some(DSIG_NS) && c.tag_name().name() == name
    });
    let first = found.next().ok_or(DsigError::Malformed)?;
    if found.next().is_some() {
        return Err(DsigError::Malformed);
    }
    Ok(first)
}

fn algorithm<'a>(node: Node<'a, '_>) -> Result<&'a str, DsigError> {
    node.attribute("Algorithm").ok_or(DsigError::Malformed)
}

/// Verifies the document's one enveloped signature: it covers the root, its digest
/// matches the canonical document without it, and a configured certificate, valid at
/// `generated_at`, verifies the canonical `SignedInfo`.
pub fn verify_enveloped(
    doc: &Document<'_>,
    trusted: &TrustedCertificates,
    generated_at: UnixTime,
) -> Result<(), DsigError> {
    if trusted.is_empty() {
        return Err(DsigError::NoCertificates);
    }
    let root = doc.root_element();
    // Every Signature element counts, whatever its namespace or place: a second one is
    // refused rather than ignored.
    let mut signatures = doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Signature");
    let signature = signatures.next().ok_or(DsigError::NoSignature)?;
    if signatures.next().is_some() {
        return Err(DsigError::TwoSignatures);
    }
    if signature.tag_name().namespace() != Some(DSIG_NS) {
        return Err(DsigError::NoSignature);
    }
    // Enveloped: a child of the root it signs.
    if signature.parent_element().map(|p| p.id()) != Some(root.id()) {
        return Err(DsigError::NotCoveringRoot);
    }

    let signed_info = dsig_child(signature, "SignedInfo")?;
    let c14n_method = dsig_child(signed_info, "CanonicalizationMethod")?;
    if algorithm(c14n_method)? != C14N_10 {
        return Err(DsigError::UnsupportedAlgorithm);
    }
    let signature_method = algorithm(dsig_child(signed_info, "SignatureMethod")?)?;
    let verification: &dyn signature::VerificationAlgorithm = match signature_method {
        RSA_SHA1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        RSA_SHA256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        _ => return Err(DsigError::UnsupportedAlgorithm),
    };

    let mut references = signed_info
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "Reference");
    let reference = references.next().ok_or(DsigError::NotCoveringRoot)?;
    if references.next().is_some() {
        return Err(DsigError::NotCoveringRoot);
    }
    if reference.tag_name().namespace() != Some(DSIG_NS) || reference.attribute("URI") != Some("") {
        return Err(DsigError::NotCoveringRoot);
    }
    let mut enveloped = false;
    if let Some(transforms) = reference
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "Transforms")
    {
        for transform in transforms.children().filter(|c| c.is_element()) {
            match algorithm(transform)? {
                ENVELOPED => enveloped = true,
                C14N_10 => {}
                _ => return Err(DsigError::UnsupportedAlgorithm),
            }
        }
    }
    if !enveloped {
        return Err(DsigError::UnsupportedAlgorithm);
    }
    if algorithm(dsig_child(reference, "DigestMethod")?)? != SHA256 {
        return Err(DsigError::UnsupportedAlgorithm);
    }
    let expected_digest = dsig_child(reference, "DigestValue")?
        .text()
        .and_then(decode_base64)
        .ok_or(DsigError::Malformed)?;

    let canonical = c14n::document(doc, Some(signature.id())).map_err(|_| DsigError::Malformed)?;
    let digest = digest::digest(&digest::SHA256, &canonical);
    if digest.as_ref() != expected_digest.as_slice() {
        return Err(DsigError::Tampered);
    }

    let signature_value = dsig_child(signature, "SignatureValue")?
        .text()
        .and_then(decode_base64)
        .ok_or(DsigError::Malformed)?;
    let signed = c14n::subtree(signed_info).map_err(|_| DsigError::Malformed)?;
    let at = i64::try_from(generated_at).unwrap_or(i64::MAX);
    let mut verified_out_of_validity = false;
    for cert in &trusted.certs {
        let key = UnparsedPublicKey::new(verification, &cert.public_key);
        if key.verify(&signed, &signature_value).is_ok() {
            if !trusted.check_dates || (cert.not_before <= at && at <= cert.not_after) {
                return Ok(());
            }
            verified_out_of_validity = true;
        }
    }
    if verified_out_of_validity {
        return Err(DsigError::CertificateNotValid);
    }
    Err(DsigError::BadSignature)
}
