//! Service providers (registered by an admin, kept in the tenant record) and the IdP's
//! signing key and metadata.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::Saml;
use crate::crypto::{b64, b64_decode};
use crate::error::{EngineError, EngineResult};
use crate::ids::TenantId;
use crate::model::Tenant;
use crate::model::saml::{AttributeMapping, MAX_SPS, NameIdFormat, SamlKey, ServiceProvider};

/// The claims an SP may have as attributes.
pub const CLAIMS: &[&str] = &[
    "sub",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "phone_number",
];

/// A service provider to register: its metadata document, or its fields (fields given
/// beside a metadata document override what the document says).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewServiceProvider {
    /// The SP's metadata (an `EntityDescriptor`).
    pub metadata: Option<String>,
    /// Its entity ID.
    pub entity_id: Option<String>,
    /// Its ACS URLs (HTTP-POST).
    pub acs_urls: Option<Vec<String>>,
    /// Its logout URL (HTTP-POST).
    pub slo_url: Option<String>,
    /// Its signing certificate (PEM or base64 DER): its requests must then be signed.
    pub certificate: Option<String>,
    /// Sign the assertion (default: yes).
    pub sign_assertion: Option<bool>,
    /// Sign the response (default: no).
    pub sign_response: Option<bool>,
    /// `persistent` (default) or `email`.
    pub name_id_format: Option<NameIdFormat>,
    /// Claims sent as attributes.
    pub attributes: Option<Vec<AttributeMapping>>,
}

fn invalid(msg: &str) -> EngineError {
    EngineError::Invalid(msg.into())
}

fn check_url(what: &str, u: &str) -> EngineResult<()> {
    let ok = url::Url::parse(u)
        .ok()
        .is_some_and(|p| matches!(p.scheme(), "https" | "http") && p.host().is_some());
    if ok && u.len() <= 1024 {
        Ok(())
    } else {
        Err(EngineError::Invalid(format!(
            "{what} must be an http(s) URL"
        )))
    }
}

/// Builds the record from the request (and its metadata), checking every field.
pub fn service_provider(new: NewServiceProvider, now: u64) -> EngineResult<ServiceProvider> {
    let md = match &new.metadata {
        Some(doc) => Some(
            tollgate_saml::metadata::parse_sp_metadata(doc, &tollgate_saml::Limits::default())
                .map_err(|e| EngineError::Invalid(e.to_string()))?,
        ),
        None => None,
    };
    let entity_id = new
        .entity_id
        .or_else(|| md.as_ref().map(|m| m.entity_id.clone()))
        .filter(|e| !e.trim().is_empty() && e.len() <= 1024)
        .ok_or_else(|| invalid("entity_id is required (or a metadata document)"))?;
    let acs_urls = new
        .acs_urls
        .or_else(|| md.as_ref().map(|m| m.acs_urls.clone()))
        .unwrap_or_default();
    if acs_urls.is_empty() || acs_urls.len() > 20 {
        return Err(invalid("between 1 and 20 acs_urls are required"));
    }
    for u in &acs_urls {
        check_url("acs_urls", u)?;
    }
    let slo_url = new
        .slo_url
        .or_else(|| md.as_ref().and_then(|m| m.slo_url.clone()));
    if let Some(u) = &slo_url {
        check_url("slo_url", u)?;
    }
    let certificate = match new
        .certificate
        .or_else(|| md.as_ref().and_then(|m| m.certificate.clone()))
    {
        Some(text) => {
            tollgate_xmldsig::VerifyingKey::from_certificate_text(&text)
                .map_err(|_| invalid("certificate is not an X.509 certificate with an RSA key"))?;
            Some(certificate_base64(&text).ok_or_else(|| invalid("certificate is unreadable"))?)
        }
        None => None,
    };
    let attributes = new.attributes.unwrap_or_default();
    for a in &attributes {
        if !CLAIMS.contains(&a.claim.as_str()) {
            return Err(EngineError::Invalid(format!(
                "attribute claim {:?} is not one of {}",
                a.claim,
                CLAIMS.join(", ")
            )));
        }
        if a.attribute.trim().is_empty() || a.attribute.len() > 256 {
            return Err(invalid(
                "an attribute needs a name (at most 256 characters)",
            ));
        }
    }
    let sign_assertion = new.sign_assertion.unwrap_or(true);
    let sign_response = new.sign_response.unwrap_or(false);
    if !sign_assertion && !sign_response {
        return Err(invalid(
            "the assertion or the response (or both) must be signed",
        ));
    }
    Ok(ServiceProvider {
        entity_id,
        acs_urls,
        slo_url,
        certificate,
        sign_assertion,
        sign_response,
        name_id_format: new.name_id_format.unwrap_or_default(),
        attributes,
        created_at: now,
    })
}

/// The base64 DER of a PEM or base64 certificate.
fn certificate_base64(text: &str) -> Option<String> {
    let text = text.trim();
    if !text.contains("-----BEGIN") {
        return Some(text.split_whitespace().collect());
    }
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(der))
}

fn key_aad(tenant: &TenantId) -> Vec<u8> {
    format!("tollgate-saml-key/{tenant}").into_bytes()
}

/// A new signing key and its self-signed certificate (valid 20 years: SPs pin it).
fn new_key(
    tenant: &TenantId,
    master: &crate::crypto::MasterKey,
    now: u64,
) -> EngineResult<SamlKey> {
    let bad = |what: &str| EngineError::Internal(format!("SAML key: {what}"));
    let generated = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|_| bad("generation"))?;
    let pkcs8 = generated.as_der().map_err(|_| bad("export"))?;
    let rc_key = rcgen::KeyPair::try_from(pkcs8.as_ref()).map_err(|_| bad("import"))?;
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|_| bad("params"))?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("Tollgate SAML IdP {tenant}"),
    );
    let start = rcgen::date_time_ymd(1970, 1, 1)
        + std::time::Duration::from_secs(now.saturating_sub(86_400));
    params.not_before = start;
    params.not_after = start + std::time::Duration::from_secs(20 * 365 * 86_400);
    let cert = params
        .self_signed(&rc_key)
        .map_err(|_| bad("certificate"))?;
    Ok(SamlKey {
        sealed_private: b64(&master.seal(&key_aad(tenant), pkcs8.as_ref())),
        certificate: base64::engine::general_purpose::STANDARD.encode(cert.der()),
        created_at: now,
    })
}

/// The IdP's key, ready to sign.
pub(crate) struct IdpKey {
    key: RsaKeyPair,
    pub(crate) certificate_der: Vec<u8>,
}

impl IdpKey {
    /// RSA-SHA256 of `data`.
    pub(crate) fn sign(&self, data: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                data,
                &mut out,
            )
            .ok()?;
        Some(out)
    }
}

impl Saml<'_> {
    /// Registers (or replaces, by entity ID) a service provider; makes the IdP's key if
    /// it has none.
    pub async fn register_sp(
        &self,
        tenant: &TenantId,
        new: NewServiceProvider,
    ) -> EngineResult<ServiceProvider> {
        let now = self.now();
        let sp = service_provider(new, now)?;
        // The key is made once, with the first SP; replacing an SP keeps it.
        let key = match &self.admin().stored_tenant(tenant).await?.saml.key {
            Some(k) => k.clone(),
            None => new_key(tenant, &self.rt().master, now)?,
        };
        let record = sp.clone();
        self.admin()
            .change_tenant(
                tenant,
                "saml.sp_registered",
                format!("entity_id={}", sp.entity_id),
                move |t: &mut Tenant| {
                    t.saml.sps.retain(|s| s.entity_id != record.entity_id);
                    if t.saml.sps.len() >= MAX_SPS {
                        return Err(EngineError::Invalid(format!(
                            "at most {MAX_SPS} service providers"
                        )));
                    }
                    t.saml.sps.push(record.clone());
                    if t.saml.key.is_none() {
                        t.saml.key = Some(key.clone());
                    }
                    Ok(())
                },
            )
            .await?;
        Ok(sp)
    }

    /// The registered service providers.
    pub async fn service_providers(&self, tenant: &TenantId) -> EngineResult<Vec<ServiceProvider>> {
        Ok(self.tenant(tenant).await?.saml.sps.clone())
    }

    /// Removes a service provider.
    pub async fn remove_sp(&self, tenant: &TenantId, entity_id: &str) -> EngineResult<()> {
        if self.tenant(tenant).await?.saml.sp(entity_id).is_none() {
            return Err(EngineError::NotFound("service provider"));
        }
        let id = entity_id.to_owned();
        self.admin()
            .change_tenant(
                tenant,
                "saml.sp_removed",
                format!("entity_id={entity_id}"),
                move |t: &mut Tenant| {
                    t.saml.sps.retain(|s| s.entity_id != id);
                    Ok(())
                },
            )
            .await?;
        Ok(())
    }

    /// The IdP's signing key; `NotFound` until an SP was registered.
    pub(crate) fn idp_key(&self, tenant: &Tenant) -> EngineResult<IdpKey> {
        let stored = tenant.saml.key.as_ref().ok_or(EngineError::NotFound(
            "SAML identity provider (no service provider registered)",
        ))?;
        let bad = |what: &str| EngineError::Internal(format!("SAML key: {what}"));
        let sealed = b64_decode(&stored.sealed_private).ok_or_else(|| bad("not base64url"))?;
        let pkcs8 = self.rt().master.open(&key_aad(&tenant.id), &sealed)?;
        Ok(IdpKey {
            key: RsaKeyPair::from_pkcs8(&pkcs8).map_err(|_| bad("does not parse"))?,
            certificate_der: base64::engine::general_purpose::STANDARD
                .decode(&stored.certificate)
                .map_err(|_| bad("certificate"))?,
        })
    }

    /// The IdP's metadata document, for the issuer `issuer`.
    pub async fn metadata(&self, tenant: &TenantId, issuer: &str) -> EngineResult<String> {
        let t = self.tenant(tenant).await?;
        let key = t.saml.key.as_ref().ok_or(EngineError::NotFound(
            "SAML identity provider (no service provider registered)",
        ))?;
        Ok(tollgate_saml::metadata::IdpMetadata {
            entity_id: issuer.to_owned(),
            sso_url: format!("{issuer}/saml/sso"),
            slo_url: format!("{issuer}/saml/slo"),
            certificate_der: base64::engine::general_purpose::STANDARD
                .decode(&key.certificate)
                .map_err(|_| EngineError::Internal("SAML certificate".into()))?,
        }
        .to_xml())
    }
}
