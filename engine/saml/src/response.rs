//! The IdP's answers: `Response` with one `Assertion` (SAML core 2.3.3, 3.3.3; the Web
//! Browser SSO profile's rules in profiles 4.1.4.2) and `LogoutResponse` (core 3.7.2),
//! built as text with every value escaped, then signed with exclusive C14N and RSA-SHA256.
//!
//! The assertion holds what the profile demands of a bearer assertion: `Issuer`; a
//! `Subject` with the `NameID` and a bearer `SubjectConfirmation` whose data names the
//! `Recipient` (the ACS URL), `NotOnOrAfter` and, for an SP's request, `InResponseTo`;
//! `Conditions` with `NotBefore`/`NotOnOrAfter` and the SP as the one `Audience`; an
//! `AuthnStatement` with the sign-in instant and the session index; the mapped attributes.

use crate::time::format;
use crate::{ASSERTION_NS, CM_BEARER, DsigError, PROTOCOL_NS, StatusCode, esc};

/// What goes in an assertion.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// `ID` (unique, starting with a letter or `_`).
    pub id: String,
    /// The IdP's entity ID.
    pub issuer: String,
    /// Issue instant, Unix seconds.
    pub issued_at: u64,
    /// `Conditions/@NotBefore`.
    pub not_before: u64,
    /// `Conditions/@NotOnOrAfter` and the confirmation's.
    pub not_on_or_after: u64,
    /// The SP's entity ID: the one audience.
    pub audience: String,
    /// The ACS URL: the confirmation's recipient.
    pub recipient: String,
    /// The request answered, if SP-initiated.
    pub in_response_to: Option<String>,
    /// The subject's NameID.
    pub name_id: String,
    /// Its format.
    pub name_id_format: String,
    /// When the user signed in, Unix seconds.
    pub authn_instant: u64,
    /// The session index (an opaque handle of the IdP session, for logout).
    pub session_index: String,
    /// The authentication context class.
    pub authn_context: String,
    /// Attributes: name, name format, values.
    pub attributes: Vec<(String, String, Vec<String>)>,
}

/// A `Response`.
#[derive(Debug, Clone)]
pub struct Response {
    /// `ID`.
    pub id: String,
    /// The IdP's entity ID.
    pub issuer: String,
    /// Issue instant, Unix seconds.
    pub issued_at: u64,
    /// The ACS URL it is sent to.
    pub destination: String,
    /// The request answered, if SP-initiated.
    pub in_response_to: Option<String>,
    /// The status; an assertion only with success.
    pub status: StatusCode,
    /// A second-level status code.
    pub substatus: Option<&'static str>,
    /// A message for the SP's logs.
    pub message: Option<String>,
    /// The assertion (success only).
    pub assertion: Option<Assertion>,
}

fn status_xml(status: StatusCode, substatus: Option<&str>, message: Option<&str>) -> String {
    let inner = substatus
        .map(|s| format!("<samlp:StatusCode Value=\"{}\"/>", esc(s)))
        .unwrap_or_default();
    let message = message
        .map(|m| format!("<samlp:StatusMessage>{}</samlp:StatusMessage>", esc(m)))
        .unwrap_or_default();
    format!(
        "<samlp:Status><samlp:StatusCode Value=\"{}\">{inner}</samlp:StatusCode>{message}</samlp:Status>",
        status.uri()
    )
}

fn in_response_to(irt: Option<&String>) -> String {
    irt.map(|i| format!(" InResponseTo=\"{}\"", esc(i)))
        .unwrap_or_default()
}

impl Assertion {
    /// The assertion's XML (unsigned), with its own namespace declarations so that it
    /// stays valid when an SP takes it out of the response.
    pub fn to_xml(&self) -> String {
        let attributes = if self.attributes.is_empty() {
            String::new()
        } else {
            let mut out = String::from("<saml:AttributeStatement>");
            for (name, name_format, values) in &self.attributes {
                out.push_str(&format!(
                    "<saml:Attribute Name=\"{}\" NameFormat=\"{}\">",
                    esc(name),
                    esc(name_format)
                ));
                for v in values {
                    out.push_str(&format!(
                        "<saml:AttributeValue xsi:type=\"xs:string\">{}</saml:AttributeValue>",
                        esc(v)
                    ));
                }
                out.push_str("</saml:Attribute>");
            }
            out.push_str("</saml:AttributeStatement>");
            out
        };
        format!(
            concat!(
                "<saml:Assertion xmlns:saml=\"{ans}\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{issued}\">",
                "<saml:Issuer>{issuer}</saml:Issuer>",
                "<saml:Subject><saml:NameID Format=\"{nf}\" NameQualifier=\"{issuer}\" SPNameQualifier=\"{aud}\">{name_id}</saml:NameID>",
                "<saml:SubjectConfirmation Method=\"{cm}\"><saml:SubjectConfirmationData{irt} NotOnOrAfter=\"{nooa}\" Recipient=\"{recipient}\"/></saml:SubjectConfirmation></saml:Subject>",
                "<saml:Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{nooa}\"><saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction></saml:Conditions>",
                "<saml:AuthnStatement AuthnInstant=\"{authn}\" SessionIndex=\"{si}\"><saml:AuthnContext><saml:AuthnContextClassRef>{ac}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>",
                "{attributes}</saml:Assertion>"
            ),
            ans = ASSERTION_NS,
            id = esc(&self.id),
            issued = format(self.issued_at),
            issuer = esc(&self.issuer),
            nf = esc(&self.name_id_format),
            aud = esc(&self.audience),
            name_id = esc(&self.name_id),
            cm = CM_BEARER,
            irt = in_response_to(self.in_response_to.as_ref()),
            nooa = format(self.not_on_or_after),
            recipient = esc(&self.recipient),
            nb = format(self.not_before),
            authn = format(self.authn_instant),
            si = esc(&self.session_index),
            ac = esc(&self.authn_context),
            attributes = attributes,
        )
    }
}

impl Response {
    /// The response's XML, unsigned.
    pub fn to_xml(&self) -> String {
        format!(
            "<samlp:Response xmlns:samlp=\"{PROTOCOL_NS}\" xmlns:saml=\"{ASSERTION_NS}\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{issued}\" Destination=\"{dest}\"{irt}><saml:Issuer>{issuer}</saml:Issuer>{status}{assertion}</samlp:Response>",
            id = esc(&self.id),
            issued = format(self.issued_at),
            dest = esc(&self.destination),
            irt = in_response_to(self.in_response_to.as_ref()),
            issuer = esc(&self.issuer),
            status = status_xml(self.status, self.substatus, self.message.as_deref()),
            assertion = self
                .assertion
                .as_ref()
                .map(Assertion::to_xml)
                .unwrap_or_default(),
        )
    }

    /// The response's XML, its assertion and/or itself signed by `sign` (RSA-SHA256 of
    /// the bytes it is given), with `certificate_der` in `KeyInfo`. The assertion is
    /// signed first, so a signed response covers the signed assertion.
    pub fn signed_xml(
        &self,
        sign_assertion: bool,
        sign_response: bool,
        certificate_der: &[u8],
        sign: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
    ) -> Result<String, DsigError> {
        let mut xml = self.to_xml();
        if let Some(a) = self.assertion.as_ref().filter(|_| sign_assertion) {
            xml = tollgate_xmldsig::dsig::sign_element(
                &xml,
                &a.id,
                Some("Issuer"),
                Some(certificate_der),
                sign,
            )?;
        }
        if sign_response {
            xml = tollgate_xmldsig::dsig::sign_element(
                &xml,
                &self.id,
                Some("Issuer"),
                Some(certificate_der),
                sign,
            )?;
        }
        Ok(xml)
    }
}

/// A `LogoutResponse`.
#[derive(Debug, Clone)]
pub struct LogoutResponse {
    /// `ID`.
    pub id: String,
    /// The IdP's entity ID.
    pub issuer: String,
    /// Issue instant, Unix seconds.
    pub issued_at: u64,
    /// The SP's logout URL.
    pub destination: String,
    /// The `LogoutRequest` answered.
    pub in_response_to: String,
    /// The status.
    pub status: StatusCode,
    /// A second-level status code.
    pub substatus: Option<&'static str>,
}

impl LogoutResponse {
    /// The signed XML.
    pub fn signed_xml(
        &self,
        certificate_der: &[u8],
        sign: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
    ) -> Result<String, DsigError> {
        let xml = format!(
            "<samlp:LogoutResponse xmlns:samlp=\"{PROTOCOL_NS}\" xmlns:saml=\"{ASSERTION_NS}\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"{issued}\" Destination=\"{dest}\" InResponseTo=\"{irt}\"><saml:Issuer>{issuer}</saml:Issuer>{status}</samlp:LogoutResponse>",
            id = esc(&self.id),
            issued = format(self.issued_at),
            dest = esc(&self.destination),
            irt = esc(&self.in_response_to),
            issuer = esc(&self.issuer),
            status = status_xml(self.status, self.substatus, None),
        );
        tollgate_xmldsig::dsig::sign_element(
            &xml,
            &self.id,
            Some("Issuer"),
            Some(certificate_der),
            sign,
        )
    }
}
