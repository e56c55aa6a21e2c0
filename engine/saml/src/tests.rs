use base64::Engine as _;
use tollgate_xmldsig::testkit::TestKey;

use crate::binding::{self, SIGALG_RSA_SHA256};
use crate::metadata::{IdpMetadata, parse_sp_metadata};
use crate::request::{parse_authn_request, parse_logout_request, verify_embedded};
use crate::response::{Assertion, LogoutResponse, Response};
use crate::*;

const AUTHN: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_req1" Version="2.0" IssueInstant="2026-12-07T18:35:00Z" Destination="https://idp.example/t/saml/sso" AssertionConsumerServiceURL="https://sp.example/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>https://sp.example</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/></samlp:AuthnRequest>"#;

fn url_enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn signed_query(xml: &str, relay: Option<&str>, key: &TestKey) -> String {
    let mut q = binding::encode_redirect(xml, "SAMLRequest", relay);
    q.push_str("&SigAlg=");
    q.push_str(&url_enc(SIGALG_RSA_SHA256));
    let sig = key.sign(q.as_bytes());
    q.push_str("&Signature=");
    q.push_str(&url_enc(
        &base64::engine::general_purpose::STANDARD.encode(sig),
    ));
    q
}

#[test]
fn reads_an_authn_request_from_the_redirect_binding() {
    let limits = Limits::default();
    let q = binding::encode_redirect(AUTHN, "SAMLRequest", Some("state &1"));
    let m = binding::decode_redirect(&q, "SAMLRequest", &limits).unwrap();
    assert_eq!(m.relay_state.as_deref(), Some("state &1"));
    assert!(m.signature.is_none());
    let r = parse_authn_request(&m.xml, &limits).unwrap();
    assert_eq!(r.id, "_req1");
    assert_eq!(r.issuer, "https://sp.example");
    assert_eq!(r.issue_instant, 1_796_668_500);
    assert_eq!(r.acs_url.as_deref(), Some("https://sp.example/acs"));
    assert_eq!(r.name_id_format.as_deref(), Some(NAMEID_EMAIL));
    assert!(!r.signed_in_xml && !r.force_authn && !r.is_passive);
}

#[test]
fn checks_the_query_signature() {
    let limits = Limits::default();
    let key = TestKey::new("sp");
    let other = TestKey::new("other");
    let q = signed_query(AUTHN, Some("rs"), &key);
    let m = binding::decode_redirect(&q, "SAMLRequest", &limits).unwrap();
    assert_eq!(m.verify(&[key.verifying_key()]), Ok(()));
    assert_eq!(
        m.verify(&[other.verifying_key()]),
        Err(SamlError::Signature(DsigError::BadSignature))
    );
    // A changed RelayState breaks the signature.
    let changed = q.replace("RelayState=rs", "RelayState=rt");
    let m = binding::decode_redirect(&changed, "SAMLRequest", &limits).unwrap();
    assert_eq!(
        m.verify(&[key.verifying_key()]).unwrap_err().code(),
        "bad_signature"
    );
    let unsigned = binding::encode_redirect(AUTHN, "SAMLRequest", None);
    let m = binding::decode_redirect(&unsigned, "SAMLRequest", &limits).unwrap();
    assert_eq!(
        m.verify(&[key.verifying_key()]).unwrap_err().code(),
        "signature_missing"
    );
}

#[test]
fn refuses_bad_encodings() {
    let limits = Limits::default();
    let code = |q: &str| {
        binding::decode_redirect(q, "SAMLRequest", &limits)
            .unwrap_err()
            .code()
    };
    assert_eq!(code("SAMLRequest=%%%"), "bad_base64");
    assert_eq!(code("SAMLRequest=bm90IGRlZmxhdGU%3D"), "bad_deflate");
    assert_eq!(code("RelayState=x"), "missing_message");
    assert_eq!(code("SAMLRequest=a&SAMLRequest=b"), "invalid_message");
    // A deflate bomb: 1 MiB of spaces inflates past the limit.
    let bomb = binding::encode_redirect(&" ".repeat(1 << 20), "SAMLRequest", None);
    assert_eq!(code(&bomb), "too_large");
    assert_eq!(
        binding::decode_post("", &limits).unwrap_err().code(),
        "missing_message"
    );
    assert_eq!(
        binding::decode_post("***", &limits).unwrap_err().code(),
        "bad_base64"
    );
}

#[test]
fn refuses_dtds_and_foreign_messages() {
    let limits = Limits::default();
    let xxe = format!(
        "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}",
        AUTHN.replace("https://sp.example<", "&x;<")
    );
    assert_eq!(
        parse_authn_request(&xxe, &limits).unwrap_err().code(),
        "dtd_refused"
    );
    let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
    assert_eq!(
        parse_authn_request(&deep, &limits).unwrap_err().code(),
        "too_deep"
    );
    assert_eq!(
        parse_authn_request(
            &AUTHN.replace("Version=\"2.0\"", "Version=\"1.1\""),
            &limits
        )
        .unwrap_err(),
        SamlError::Version
    );
    assert_eq!(
        parse_authn_request(
            &AUTHN.replace("<saml:Issuer>https://sp.example</saml:Issuer>", ""),
            &limits
        )
        .unwrap_err(),
        SamlError::Invalid("AuthnRequest")
    );
    assert_eq!(
        parse_logout_request(AUTHN, &limits).unwrap_err(),
        SamlError::Invalid("LogoutRequest")
    );
}

#[test]
fn verifies_a_signed_post_request() {
    let limits = Limits::default();
    let key = TestKey::new("sp");
    let signed = tollgate_xmldsig::dsig::sign_element(AUTHN, "_req1", Some("Issuer"), None, |d| {
        Some(key.sign(d))
    })
    .unwrap();
    let r = parse_authn_request(&signed, &limits).unwrap();
    assert!(r.signed_in_xml);
    assert_eq!(
        verify_embedded(&signed, &[key.verifying_key()], &limits),
        Ok(())
    );
    assert_eq!(
        verify_embedded(AUTHN, &[key.verifying_key()], &limits)
            .unwrap_err()
            .code(),
        "signature_missing"
    );
    let tampered = signed.replace("https://sp.example/acs", "https://evil.example/acs");
    assert_eq!(
        verify_embedded(&tampered, &[key.verifying_key()], &limits),
        Err(SamlError::Signature(DsigError::Tampered))
    );
    let b64 = binding::encode_post(&signed);
    assert_eq!(binding::decode_post(&b64, &limits).unwrap(), signed);
}

fn response() -> Response {
    Response {
        id: "_resp".into(),
        issuer: "https://idp.example/t".into(),
        issued_at: 1_796_668_500,
        destination: "https://sp.example/acs".into(),
        in_response_to: Some("_req1".into()),
        status: StatusCode::Success,
        substatus: None,
        message: None,
        assertion: Some(Assertion {
            id: "_asrt".into(),
            issuer: "https://idp.example/t".into(),
            issued_at: 1_796_668_500,
            not_before: 1_796_668_440,
            not_on_or_after: 1_796_668_800,
            audience: "https://sp.example".into(),
            recipient: "https://sp.example/acs".into(),
            in_response_to: Some("_req1".into()),
            name_id: "a<b>".into(),
            name_id_format: NAMEID_PERSISTENT.into(),
            authn_instant: 1_796_668_400,
            session_index: "_s1".into(),
            authn_context: AC_PASSWORD_PROTECTED.into(),
            attributes: vec![(
                "email".into(),
                ATTRNAME_BASIC.into(),
                vec!["a@example.com".into()],
            )],
        }),
    }
}

#[test]
fn builds_and_signs_a_response() {
    let key = TestKey::new("idp");
    let sign = |d: &[u8]| Some(key.sign(d));
    let xml = response()
        .signed_xml(true, true, key.cert_der(), &sign)
        .unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    let assertion = root
        .children()
        .find(|n| n.tag_name().name() == "Assertion")
        .unwrap();
    tollgate_xmldsig::dsig::verify_element(root, &[key.verifying_key()]).unwrap();
    tollgate_xmldsig::dsig::verify_element(assertion, &[key.verifying_key()]).unwrap();
    let text_of = |name: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == name)
            .unwrap()
    };
    assert_eq!(text_of("NameID").text(), Some("a<b>"));
    assert_eq!(text_of("Audience").text(), Some("https://sp.example"));
    let scd = text_of("SubjectConfirmationData");
    assert_eq!(scd.attribute("Recipient"), Some("https://sp.example/acs"));
    assert_eq!(scd.attribute("InResponseTo"), Some("_req1"));
    assert_eq!(scd.attribute("NotOnOrAfter"), Some("2026-12-07T18:40:00Z"));
    assert_eq!(
        text_of("Conditions").attribute("NotBefore"),
        Some("2026-12-07T18:34:00Z")
    );
    assert_eq!(
        root.attribute("Destination"),
        Some("https://sp.example/acs")
    );
    assert_eq!(text_of("AttributeValue").text(), Some("a@example.com"));

    // Only the assertion signed: the response carries no signature of its own.
    let xml = response()
        .signed_xml(true, false, key.cert_der(), &sign)
        .unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        tollgate_xmldsig::dsig::verify_element(doc.root_element(), &[key.verifying_key()]),
        Err(DsigError::NoSignature)
    );
}

#[test]
fn an_error_response_has_no_assertion() {
    let mut r = response();
    r.status = StatusCode::Requester;
    r.substatus = Some(substatus::INVALID_NAMEID_POLICY);
    r.assertion = None;
    let xml = r.to_xml();
    assert!(xml.contains("<samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Requester\"><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy\"/></samlp:StatusCode>"));
    assert!(!xml.contains("Assertion"));
    let key = TestKey::new("idp");
    let lr = LogoutResponse {
        id: "_lr".into(),
        issuer: "https://idp.example/t".into(),
        issued_at: 1_796_668_500,
        destination: "https://sp.example/slo".into(),
        in_response_to: "_lo1".into(),
        status: StatusCode::Success,
        substatus: None,
    }
    .signed_xml(key.cert_der(), &|d| Some(key.sign(d)))
    .unwrap();
    let doc = roxmltree::Document::parse(&lr).unwrap();
    assert_eq!(doc.root_element().attribute("InResponseTo"), Some("_lo1"));
    tollgate_xmldsig::dsig::verify_element(doc.root_element(), &[key.verifying_key()]).unwrap();
}

#[test]
fn writes_idp_metadata_and_reads_sp_metadata() {
    let key = TestKey::new("idp");
    let idp = IdpMetadata {
        entity_id: "https://idp.example/t".into(),
        sso_url: "https://idp.example/t/saml/sso".into(),
        slo_url: "https://idp.example/t/saml/slo".into(),
        certificate_der: key.cert_der().to_vec(),
    }
    .to_xml();
    let doc = roxmltree::Document::parse(&idp).unwrap();
    assert_eq!(
        doc.root_element().attribute("entityID"),
        Some("https://idp.example/t")
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.tag_name().name() == "SingleSignOnService")
            .count(),
        2
    );

    let cert = base64::engine::general_purpose::STANDARD.encode(key.cert_der());
    let sp = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.example"><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
{cert}
</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://sp.example/slo-r"/><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/slo"/><md:NameIDFormat>{NAMEID_PERSISTENT}</md:NameIDFormat><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://sp.example/art" index="0"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs2" index="2"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs" index="1" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>"#
    );
    let m = parse_sp_metadata(&sp, &Limits::default()).unwrap();
    assert_eq!(m.entity_id, "https://sp.example");
    assert_eq!(
        m.acs_urls,
        vec!["https://sp.example/acs", "https://sp.example/acs2"]
    );
    assert_eq!(m.slo_url.as_deref(), Some("https://sp.example/slo"));
    assert_eq!(m.certificate, Some(cert));
    assert!(m.authn_requests_signed && m.want_assertions_signed);
    assert_eq!(m.name_id_formats, vec![NAMEID_PERSISTENT]);
    assert_eq!(
        parse_sp_metadata(&idp, &Limits::default()).unwrap_err(),
        SamlError::Metadata("no SPSSODescriptor")
    );
}
