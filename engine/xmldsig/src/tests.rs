use roxmltree::Document;

use crate::c14n::{self, Mode};
use crate::dsig::{self, DsigError};
use crate::testkit::TestKey;

fn exclusive(text: &str, name: &str) -> String {
    let doc = Document::parse(text).unwrap();
    let node = doc
        .descendants()
        .find(|n| n.tag_name().name() == name)
        .unwrap();
    String::from_utf8(c14n::subset(node, None, Mode::Exclusive(&[])).unwrap()).unwrap()
}

// The example of Exclusive XML Canonicalization 1.0, section 2.2: the subset apex keeps
// only the namespaces it visibly uses, and a namespace is declared again where used.
#[test]
fn exclusive_c14n_keeps_only_visibly_used_namespaces() {
    let input = "<n0:local xmlns:n0=\"foo:bar\" xmlns:n3=\"ftp://example.org\"><n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\"><n3:stuff xmlns:n3=\"ftp://example.org\"/></n1:elem2></n0:local>";
    assert_eq!(
        exclusive(input, "elem2"),
        "<n1:elem2 xmlns:n1=\"http://example.net\" xml:lang=\"en\"><n3:stuff xmlns:n3=\"ftp://example.org\"></n3:stuff></n1:elem2>"
    );
    let doc = Document::parse(input).unwrap();
    let elem2 = doc
        .descendants()
        .find(|n| n.tag_name().name() == "elem2")
        .unwrap();
    assert_eq!(
        String::from_utf8(c14n::subtree(elem2).unwrap()).unwrap(),
        "<n1:elem2 xmlns:n0=\"foo:bar\" xmlns:n1=\"http://example.net\" xmlns:n3=\"ftp://example.org\" xml:lang=\"en\"><n3:stuff></n3:stuff></n1:elem2>"
    );
}

#[test]
fn exclusive_c14n_default_namespace_and_prefix_list() {
    let input = "<r xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:x=\"urn:x\"><s><a:t a:k=\"1\"><u xmlns=\"\"/></a:t></s></r>";
    assert_eq!(
        exclusive(input, "s"),
        "<s xmlns=\"urn:d\"><a:t xmlns:a=\"urn:a\" a:k=\"1\"><u xmlns=\"\"></u></a:t></s>"
    );
    let doc = Document::parse(input).unwrap();
    let s = doc
        .descendants()
        .find(|n| n.tag_name().name() == "s")
        .unwrap();
    assert_eq!(
        String::from_utf8(c14n::subset(s, None, Mode::Exclusive(&["x"])).unwrap()).unwrap(),
        "<s xmlns=\"urn:d\" xmlns:x=\"urn:x\"><a:t xmlns:a=\"urn:a\" a:k=\"1\"><u xmlns=\"\"></u></a:t></s>"
    );
}

const RESPONSE: &str = "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_r1\" Version=\"2.0\"><saml:Issuer>https://idp.example/t</saml:Issuer><saml:Assertion ID=\"_a1\" Version=\"2.0\"><saml:Issuer>https://idp.example/t</saml:Issuer><saml:Subject><saml:NameID>alice</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>";

fn signed(xml: &str, id: &str, key: &TestKey) -> String {
    dsig::sign_element(xml, id, Some("Issuer"), Some(key.cert_der()), |d| {
        Some(key.sign(d))
    })
    .unwrap()
}

fn verify(xml: &str, id: &str, key: &TestKey) -> Result<(), DsigError> {
    let doc = Document::parse(xml).unwrap();
    let element = doc
        .descendants()
        .find(|n| dsig::id_of(*n) == Some(id))
        .unwrap();
    dsig::verify_element(element, &[key.verifying_key()])
}

#[test]
fn signs_and_verifies_nested_elements() {
    let key = TestKey::new("idp");
    let assertion_signed = signed(RESPONSE, "_a1", &key);
    let both = signed(&assertion_signed, "_r1", &key);
    assert_eq!(verify(&both, "_a1", &key), Ok(()));
    assert_eq!(verify(&both, "_r1", &key), Ok(()));
    // The signature follows the Issuer, as SAML's schema wants.
    assert!(both.contains("</saml:Issuer><ds:Signature"));
    assert_eq!(verify(RESPONSE, "_a1", &key), Err(DsigError::NoSignature));
}

#[test]
fn refuses_tampering_and_other_keys() {
    let key = TestKey::new("idp");
    let other = TestKey::new("other");
    let xml = signed(RESPONSE, "_a1", &key);
    assert_eq!(
        verify(&xml.replace(">alice<", ">mallory<"), "_a1", &key),
        Err(DsigError::Tampered)
    );
    assert_eq!(verify(&xml, "_a1", &other), Err(DsigError::BadSignature));
    let weak = xml.replace(
        dsig::RSA_SHA256,
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    );
    assert_eq!(
        verify(&weak, "_a1", &key),
        Err(DsigError::UnsupportedAlgorithm)
    );
}

#[test]
fn resists_signature_wrapping() {
    let key = TestKey::new("idp");
    let xml = signed(RESPONSE, "_a1", &key);
    // A forged assertion with the same ID beside the signed one: IDs must be unique.
    let forged = "<saml:Assertion ID=\"_a1\" Version=\"2.0\"><saml:Issuer>https://idp.example/t</saml:Issuer><saml:Subject><saml:NameID>mallory</saml:NameID></saml:Subject></saml:Assertion>";
    let twice = xml.replace("</samlp:Response>", &format!("{forged}</samlp:Response>"));
    assert_eq!(verify(&twice, "_a1", &key), Err(DsigError::DuplicateId));
    // The genuine signature copied into a forged assertion with another ID: its reference
    // names the genuine one, so it vouches for nothing else.
    let doc = Document::parse(&xml).unwrap();
    let signature = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Signature")
        .unwrap();
    let sig_text = &xml[signature.range()];
    let moved = format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_r1\"><saml:Assertion ID=\"_evil\"><saml:Issuer>x</saml:Issuer>{sig_text}<saml:NameID>mallory</saml:NameID></saml:Assertion></samlp:Response>"
    );
    assert_eq!(
        verify(&moved, "_evil", &key),
        Err(DsigError::WrongReference)
    );
    assert_eq!(DsigError::WrongReference.code(), "wrong_reference");
}

#[test]
fn reads_certificates_as_pem_or_bare_base64() {
    use base64::Engine as _;
    let key = TestKey::new("idp");
    let from_pem = crate::VerifyingKey::from_certificate_text(key.cert_pem()).unwrap();
    let bare = base64::engine::general_purpose::STANDARD.encode(key.cert_der());
    let from_b64 = crate::VerifyingKey::from_certificate_text(&bare).unwrap();
    assert_eq!(from_pem, from_b64);
    assert_eq!(
        crate::VerifyingKey::from_certificate_text("not a certificate"),
        Err(DsigError::BadCertificate)
    );
}
