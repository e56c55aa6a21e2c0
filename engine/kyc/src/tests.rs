//! The whole pipeline against documents the testkit signs, one test per bad input.

use crate::testkit::{self, DocOptions, Resident, SignatureAlg, tamper};
use crate::*;

/// 2026-12-07 10:00:00 UTC.
const NOW: u64 = 1_796_637_600;
const DAY: u64 = 86_400;
const SHARE: &str = "Xy7@k2";

fn trusted() -> TrustedCertificates {
    TrustedCertificates::from_pem(&[testkit::uidai().cert_pem()]).unwrap()
}

fn good_xml() -> String {
    testkit::signed_xml(
        &Resident::default(),
        &DocOptions::new(NOW - 3600, SHARE),
        testkit::uidai(),
    )
}

fn verify(upload: &[u8], share_code: &str) -> Result<OfflineKyc, KycError> {
    verify_offline_kyc(
        upload,
        share_code,
        &trusted(),
        NOW,
        3 * DAY,
        &Limits::default(),
    )
}

fn code(result: Result<OfflineKyc, KycError>) -> &'static str {
    match result {
        Ok(kyc) => panic!("accepted: {kyc:?}"),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            e.code()
        }
    }
}

#[test]
fn a_good_share_code_zip_verifies_and_yields_the_fields() {
    let zip = testkit::share_code_zip(good_xml().as_bytes(), SHARE);
    let kyc = verify(&zip, SHARE).unwrap();
    let resident = Resident::default();
    assert_eq!(kyc.last4(), "7058");
    assert_eq!(kyc.generated_at(), NOW - 3600);
    assert_eq!(kyc.name(), resident.name);
    assert_eq!(kyc.dob(), resident.dob);
    assert_eq!(kyc.mobile_matches("+91 98123 45674", SHARE), Some(true));
    assert_eq!(kyc.mobile_matches("9812345675", SHARE), Some(false));
    assert_eq!(kyc.email_matches("Kavya.Iyer@example.in"), Some(true));
    assert_eq!(
        names::compare(kyc.name(), "Kavya R. Iyer"),
        tollgate_vocab::model::verification::NameMatch::Partial
    );
}

#[test]
fn a_bare_xml_an_aes_zip_and_rsa_sha256_verify_too() {
    assert!(verify(good_xml().as_bytes(), "").is_ok());
    assert!(verify(&testkit::aes_zip(good_xml().as_bytes(), SHARE), SHARE).is_ok());
    let mut options = DocOptions::new(NOW - 60, SHARE);
    options.alg = SignatureAlg::RsaSha256;
    let xml = testkit::signed_xml(&Resident::default(), &options, testkit::uidai());
    assert!(verify(xml.as_bytes(), SHARE).is_ok());
}

#[test]
fn several_certificates_for_a_rollover() {
    let both = TrustedCertificates::from_pem(&[
        testkit::impostor().cert_pem().to_owned(),
        format!(
            "{}\n{}",
            testkit::uidai().ca_pem(),
            testkit::uidai().cert_pem()
        ),
    ])
    .unwrap();
    assert_eq!(both.len(), 2, "the CA is skipped");
    let xml = good_xml();
    assert!(
        verify_offline_kyc(xml.as_bytes(), "", &both, NOW, 3 * DAY, &Limits::default()).is_ok()
    );
}

#[test]
fn no_certificate_configured() {
    let none = TrustedCertificates::from_pem::<&str>(&[]).unwrap();
    let result = verify_offline_kyc(
        good_xml().as_bytes(),
        "",
        &none,
        NOW,
        DAY,
        &Limits::default(),
    );
    assert_eq!(code(result), "no_certificates");
    assert_eq!(
        TrustedCertificates::from_pem(&["not a certificate"]).unwrap_err(),
        DsigError::BadCertificate
    );
}

#[test]
fn tampered_xml() {
    let xml = tamper::change_attribute(&good_xml(), "name", "Someone Else");
    assert_eq!(code(verify(xml.as_bytes(), SHARE)), "tampered");
    let xml = tamper::change_attribute(&good_xml(), "dob", "01-01-1970");
    assert_eq!(
        code(verify(
            &testkit::share_code_zip(xml.as_bytes(), SHARE),
            SHARE
        )),
        "tampered"
    );
}

#[test]
fn signed_by_another_certificate() {
    let xml = testkit::signed_xml(
        &Resident::default(),
        &DocOptions::new(NOW - 60, SHARE),
        testkit::impostor(),
    );
    assert_eq!(code(verify(xml.as_bytes(), SHARE)), "bad_signature");
}

#[test]
fn signed_outside_the_certificate_validity() {
    let expired = testkit::Signer::with_validity("EXPIRED", (2015, 1, 1), (2020, 1, 1));
    let xml = testkit::signed_xml(
        &Resident::default(),
        &DocOptions::new(NOW - 60, SHARE),
        &expired,
    );
    let trusted = TrustedCertificates::from_pem(&[expired.cert_pem()])
        .unwrap()
        .checking_dates(true);
    let result = verify_offline_kyc(xml.as_bytes(), "", &trusted, NOW, DAY, &Limits::default());
    assert_eq!(code(result), "certificate_not_valid");
    // By default a pinned certificate is trusted by its key, past its dates.
    let pinned = trusted.checking_dates(false);
    let result = verify_offline_kyc(xml.as_bytes(), "", &pinned, NOW, DAY, &Limits::default());
    assert!(result.is_ok(), "{:?}", result.err());
}

#[test]
fn too_old_and_from_the_future() {
    let old = testkit::signed_xml(
        &Resident::default(),
        &DocOptions::new(NOW - 4 * DAY, SHARE),
        testkit::uidai(),
    );
    assert_eq!(code(verify(old.as_bytes(), SHARE)), "too_old");
    let future = testkit::signed_xml(
        &Resident::default(),
        &DocOptions::new(NOW + DAY, SHARE),
        testkit::uidai(),
    );
    assert_eq!(code(verify(future.as_bytes(), SHARE)), "from_future");
}

#[test]
fn wrong_share_code() {
    let zip = testkit::share_code_zip(good_xml().as_bytes(), SHARE);
    assert_eq!(code(verify(&zip, "wrong1")), "wrong_share_code");
    assert_eq!(code(verify(&zip, "")), "wrong_share_code");
    // ZipCrypto checks one byte of the password: over many wrong codes some pass that
    // check, and must still fail as a wrong share code, never as something else.
    for i in 0..300 {
        assert_eq!(
            code(verify(&zip, &format!("w{i}"))),
            "wrong_share_code",
            "w{i}"
        );
    }
    let aes = testkit::aes_zip(good_xml().as_bytes(), SHARE);
    assert_eq!(code(verify(&aes, "wrong1")), "wrong_share_code");
}

#[test]
fn zip_bomb() {
    // 64 MiB of XML from a few hundred kilobytes.
    let bomb = testkit::zip_bomb(SHARE, 64 * 1024 * 1024);
    assert!(
        bomb.len() < Limits::default().zip.max_upload,
        "{}",
        bomb.len()
    );
    assert_eq!(code(verify(&bomb, SHARE)), "zip_bomb");
}

#[test]
fn oversized_upload() {
    let big = vec![b'<'; Limits::default().zip.max_upload + 1];
    assert_eq!(code(verify(&big, SHARE)), "too_large");
}

#[test]
fn zip_shapes() {
    let xml = good_xml();
    let two = testkit::plain_zip(&[("a.xml", xml.as_bytes()), ("b.xml", xml.as_bytes())]);
    assert_eq!(code(verify(&two, "")), "not_one_xml");
    let none = testkit::plain_zip(&[("a.txt", b"hello")]);
    assert_eq!(code(verify(&none, "")), "not_one_xml");
    let many: Vec<(String, Vec<u8>)> = (0..10).map(|i| (format!("{i}.txt"), vec![b'x'])).collect();
    let refs: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    assert_eq!(
        code(verify(&testkit::plain_zip(&refs), "")),
        "too_many_entries"
    );
    // An unencrypted ZIP of a signed document is still that signed document.
    assert!(verify(&testkit::plain_zip(&[("a.xml", xml.as_bytes())]), "").is_ok());
    assert_eq!(code(verify(b"PK\x03\x04garbage", "")), "malformed_zip");
    assert_eq!(code(verify(b"%PDF-1.4", "")), "malformed_zip");
    assert_eq!(code(verify(b"", "")), "empty_upload");
}

#[test]
fn malformed_xml() {
    let xml = tamper::truncated(&good_xml());
    assert_eq!(code(verify(xml.as_bytes(), SHARE)), "malformed_xml");
    assert_eq!(code(verify(b"<Other/>", SHARE)), "not_offline_kyc");
}

#[test]
fn xxe() {
    let xml = tamper::xxe(&good_xml());
    assert_eq!(code(verify(xml.as_bytes(), SHARE)), "dtd_refused");
    let zip = testkit::share_code_zip(xml.as_bytes(), SHARE);
    assert_eq!(code(verify(&zip, SHARE)), "dtd_refused");
}

#[test]
fn two_signatures() {
    let xml = tamper::second_signature(&good_xml());
    assert_eq!(code(verify(xml.as_bytes(), SHARE)), "two_signatures");
}

#[test]
fn signature_not_covering_the_root() {
    let mut options = DocOptions::new(NOW - 60, SHARE);
    options.reference_uri = "#UidData".into();
    let xml = testkit::signed_xml(&Resident::default(), &options, testkit::uidai());
    assert_eq!(
        code(verify(xml.as_bytes(), SHARE)),
        "signature_not_covering_root"
    );
    // A signature moved inside the data it should envelope.
    let good = good_xml();
    let start = good.find("<Signature").unwrap();
    let end = good.find("</Signature>").unwrap() + "</Signature>".len();
    let signature = &good[start..end];
    let without = format!("{}{}", &good[..start], &good[end..]);
    let moved = without.replacen("</UidData>", &format!("{signature}</UidData>"), 1);
    assert_eq!(
        code(verify(moved.as_bytes(), SHARE)),
        "signature_not_covering_root"
    );
}

#[test]
fn unsigned_and_weaker_algorithms() {
    let unsigned = testkit::unsigned_xml(&Resident::default(), &DocOptions::new(NOW - 60, SHARE));
    assert_eq!(code(verify(unsigned.as_bytes(), SHARE)), "no_signature");
    let weak = good_xml().replace(
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2000/09/xmldsig#sha1",
    );
    assert_eq!(
        code(verify(weak.as_bytes(), SHARE)),
        "unsupported_algorithm"
    );
    let hmac = good_xml().replace(
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
    );
    assert_eq!(
        code(verify(hmac.as_bytes(), SHARE)),
        "unsupported_algorithm"
    );
}

#[test]
fn whitespace_and_a_byte_order_mark_do_not_break_a_good_document() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(good_xml().as_bytes());
    assert!(verify(&bytes, SHARE).is_ok());
}
