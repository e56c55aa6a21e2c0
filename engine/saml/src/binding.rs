//! The two bindings a browser carries messages in (SAML bindings, sections 3.4 and 3.5).
//!
//! HTTP-Redirect: the message is DEFLATE-compressed (raw, RFC 1951), base64-encoded and
//! URL-encoded in `SAMLRequest`/`SAMLResponse`; a signature, when there is one, is over
//! the query's own bytes `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as they were sent
//! (still URL-encoded), in `Signature`, never inside the XML. HTTP-POST: the message is
//! base64 in a form field, and any signature is inside the XML.
//!
//! Both are bounded: the encoded text before decoding, the inflated text while inflating.

use std::io::Read as _;

use base64::Engine as _;

use crate::{Limits, SamlError, VerifyingKey};

/// The Redirect binding's signature algorithm accepted (and used).
pub const SIGALG_RSA_SHA256: &str = tollgate_xmldsig::dsig::RSA_SHA256;

/// A message received in the Redirect binding's query.
#[derive(Debug, Clone)]
pub struct RedirectMessage {
    /// The inflated XML.
    pub xml: String,
    /// `RelayState`, decoded.
    pub relay_state: Option<String>,
    /// The query signature, if the sender signed: what was signed, the algorithm and the
    /// signature bytes.
    pub signature: Option<QuerySignature>,
}

/// The Redirect binding's signature of a query.
#[derive(Debug, Clone)]
pub struct QuerySignature {
    signed: String,
    sig_alg: String,
    value: Vec<u8>,
}

impl RedirectMessage {
    /// Checks the query signature against `keys`: refused if missing, of another
    /// algorithm than RSA-SHA256, or made by none of them.
    pub fn verify(&self, keys: &[VerifyingKey]) -> Result<(), SamlError> {
        let sig = self.signature.as_ref().ok_or(SamlError::Signature(
            tollgate_xmldsig::DsigError::NoSignature,
        ))?;
        if sig.sig_alg != SIGALG_RSA_SHA256 {
            return Err(SamlError::SigAlg);
        }
        if keys
            .iter()
            .any(|k| k.verify_rsa_sha256(sig.signed.as_bytes(), &sig.value))
        {
            Ok(())
        } else {
            Err(SamlError::Signature(
                tollgate_xmldsig::DsigError::BadSignature,
            ))
        }
    }
}

fn decode_component(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Reads a Redirect-binding message from the raw query string (`param` is `SAMLRequest`
/// or `SAMLResponse`).
pub fn decode_redirect(
    raw_query: &str,
    param: &str,
    limits: &Limits,
) -> Result<RedirectMessage, SamlError> {
    let mut message = None;
    let mut relay = None;
    let mut sig_alg = None;
    let mut signature = None;
    for pair in raw_query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match name {
            n if n == param => &mut message,
            "RelayState" => &mut relay,
            "SigAlg" => &mut sig_alg,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(SamlError::Invalid("query (a parameter is repeated)"));
        }
        *slot = Some(value);
    }
    let raw_message = message
        .filter(|m| !m.is_empty())
        .ok_or(SamlError::Missing)?;
    // base64 is at most 4/3 of the deflated bytes, which are at most the XML's.
    if raw_message.len() > limits.xml.max_bytes * 3 {
        return Err(SamlError::Xml(crate::XmlError::TooLarge));
    }
    let deflated = decode_base64(&decode_component(raw_message))?;
    let xml = inflate(&deflated, limits.xml.max_bytes)?;
    let relay_state = relay.map(decode_component);
    let signature = match (sig_alg, signature) {
        (Some(alg), Some(sig)) => {
            let mut signed = format!("{param}={raw_message}");
            if let Some(r) = relay {
                signed.push_str("&RelayState=");
                signed.push_str(r);
            }
            signed.push_str("&SigAlg=");
            signed.push_str(alg);
            Some(QuerySignature {
                signed,
                sig_alg: decode_component(alg),
                value: decode_base64(&decode_component(sig))?,
            })
        }
        (None, None) => None,
        _ => {
            return Err(SamlError::Invalid(
                "query (SigAlg and Signature go together)",
            ));
        }
    };
    Ok(RedirectMessage {
        xml,
        relay_state,
        signature,
    })
}

/// Reads a POST-binding message (the form field's value).
pub fn decode_post(field: &str, limits: &Limits) -> Result<String, SamlError> {
    if field.is_empty() {
        return Err(SamlError::Missing);
    }
    if field.len() > limits.xml.max_bytes * 2 {
        return Err(SamlError::Xml(crate::XmlError::TooLarge));
    }
    let bytes = decode_base64(field)?;
    if bytes.len() > limits.xml.max_bytes {
        return Err(SamlError::Xml(crate::XmlError::TooLarge));
    }
    String::from_utf8(bytes).map_err(|_| SamlError::Xml(crate::XmlError::NotUtf8))
}

/// A message for a POST-binding form field.
pub fn encode_post(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml.as_bytes())
}

/// The query of a Redirect-binding message (`param=…[&RelayState=…]`), unsigned; the
/// other side's tests use it to send requests.
pub fn encode_redirect(xml: &str, param: &str, relay_state: Option<&str>) -> String {
    use std::io::Write as _;
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let deflated = encoder
        .write_all(xml.as_bytes())
        .and_then(|()| encoder.finish())
        .unwrap_or_default();
    let b64 = base64::engine::general_purpose::STANDARD.encode(deflated);
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair(param, &b64);
    if let Some(r) = relay_state {
        query.append_pair("RelayState", r);
    }
    query.finish()
}

fn decode_base64(text: &str) -> Result<Vec<u8>, SamlError> {
    tollgate_xmldsig::dsig::decode_base64(text).ok_or(SamlError::BadBase64)
}

/// Inflates raw DEFLATE, refusing output past `max` bytes (a deflate bomb stops there).
fn inflate(deflated: &[u8], max: usize) -> Result<String, SamlError> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(deflated)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| SamlError::BadDeflate)?;
    if out.len() > max {
        return Err(SamlError::Xml(crate::XmlError::TooLarge));
    }
    String::from_utf8(out).map_err(|_| SamlError::Xml(crate::XmlError::NotUtf8))
}
