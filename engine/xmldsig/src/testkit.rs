//! An RSA-2048 key with a self-signed certificate, made on the spot, that signs the way
//! [`crate::dsig::sign_element`] wants (feature `testkit`).
//!
//! Test support: its functions panic on failure rather than return errors.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// A signing key and its certificate.
pub struct TestKey {
    key: RsaKeyPair,
    pkcs8: Vec<u8>,
    cert_der: Vec<u8>,
    cert_pem: String,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey").finish_non_exhaustive()
    }
}

impl TestKey {
    /// A new RSA-2048 key and a self-signed certificate for `common_name`.
    pub fn new(common_name: &str) -> Self {
        let generated = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .expect("RSA key generation");
        let pkcs8 = generated.as_der().expect("PKCS#8 export").as_ref().to_vec();
        let key = RsaKeyPair::from_pkcs8(&pkcs8).expect("RSA key");
        let rc_key = rcgen::KeyPair::try_from(pkcs8.as_slice()).expect("rcgen key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2050, 1, 1);
        let cert = params.self_signed(&rc_key).expect("certificate");
        Self {
            key,
            pkcs8,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
        }
    }

    /// The certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key, PKCS#8 DER.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key as a verifier trusts it.
    pub fn verifying_key(&self) -> crate::VerifyingKey {
        crate::VerifyingKey::from_certificate_der(&self.cert_der).expect("own certificate")
    }

    /// The RSA-SHA256 (PKCS#1 v1.5) signature of `data`.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let mut out = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                data,
                &mut out,
            )
            .expect("RSA signature");
        out
    }
}
