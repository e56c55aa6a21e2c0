//! Single logout, SP-initiated: an SP's `LogoutRequest` ends the sessions its
//! `SessionIndex` values name (sealed user and `sid`, checked against the `NameID` the SP
//! knows that user by), and is answered with a signed `LogoutResponse` POSTed to the SP's
//! logout URL. A session already ended is not an error: logout is idempotent.

use tollgate_saml::{StatusCode, binding, request, response};

use super::{Incoming, PostForm, Refusal, Saml};
use crate::crypto::random_token;
use crate::engine::RequestMeta;
use crate::error::EngineError;
use crate::ids::TenantId;

impl Saml<'_> {
    /// Handles a `LogoutRequest`.
    pub async fn logout(
        &self,
        tenant: &TenantId,
        issuer: &str,
        incoming: Incoming,
        meta: &RequestMeta,
    ) -> Result<PostForm, Refusal> {
        let result = self.logout_inner(tenant, issuer, incoming, meta).await;
        if let Err(Refusal::Page(code, _)) = &result {
            let mut ev = self.event(tenant, "saml.slo", false);
            ev.ip = meta.ip.clone();
            ev.detail = Some((*code).to_owned());
            self.record(ev);
        }
        result
    }

    async fn logout_inner(
        &self,
        tenant: &TenantId,
        issuer: &str,
        incoming: Incoming,
        meta: &RequestMeta,
    ) -> Result<PostForm, Refusal> {
        let limits = tollgate_saml::Limits::default();
        let (xml, relay_state, query) = match incoming {
            Incoming::Redirect(q) => {
                let m = binding::decode_redirect(&q, "SAMLRequest", &limits)
                    .map_err(|e| Refusal::page(&e))?;
                (m.xml.clone(), m.relay_state.clone(), Some(m))
            }
            Incoming::Post {
                message,
                relay_state,
            } => (
                binding::decode_post(&message, &limits).map_err(|e| Refusal::page(&e))?,
                relay_state,
                None,
            ),
        };
        let req = request::parse_logout_request(&xml, &limits).map_err(|e| Refusal::page(&e))?;
        let t = self.tenant(tenant).await?;
        let Some(sp) = t.saml.sp(&req.issuer) else {
            return Err(Refusal::Page(
                "unknown_sp",
                "The application asking for logout is not registered.".into(),
            ));
        };
        let Some(slo_url) = sp.slo_url.clone() else {
            return Err(Refusal::Page(
                "no_slo_url",
                "The application has no logout URL registered.".into(),
            ));
        };
        if let Some(cert) = &sp.certificate {
            let key = tollgate_xmldsig::VerifyingKey::from_certificate_text(cert)
                .map_err(|_| EngineError::Internal("stored SP certificate".into()))?;
            let keys = [key];
            let checked = match &query {
                Some(m) => m.verify(&keys),
                None => request::verify_embedded(&xml, &keys, &limits),
            };
            checked.map_err(|e| Refusal::page(&e))?;
        }
        if req
            .destination
            .as_deref()
            .is_some_and(|d| d != format!("{issuer}/saml/slo"))
        {
            return Err(Refusal::Page(
                "wrong_destination",
                "The request was meant for another endpoint (Destination).".into(),
            ));
        }
        let now = self.now();
        if req.not_on_or_after.is_some_and(|t| t <= now)
            || req.issue_instant + super::sso::REQUEST_LIFETIME < now
        {
            return Err(Refusal::Page(
                "request_expired",
                "The logout request has expired.".into(),
            ));
        }
        let mut ended = 0;
        let mut subject = None;
        for index in &req.session_indexes {
            let Some((user_id, sid)) = self.open_session_index(tenant, index) else {
                continue;
            };
            let Some(user) = self.user(tenant, &user_id).await? else {
                continue;
            };
            // The SessionIndex must belong to the user the SP names.
            if self.name_id(tenant, sp, &user) != req.name_id {
                continue;
            }
            ended += self
                .signin()
                .end_user_sessions(tenant, &user_id, &[sid], meta)
                .await?;
            subject = Some(user_id);
        }
        let mut ev = self.event(tenant, "saml.slo", true);
        ev.client = Some(sp.entity_id.clone());
        ev.subject = subject.map(|u| u.to_string());
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("sessions_ended={ended}"));
        self.record(ev);

        let key = self.idp_key(&t)?;
        let xml = response::LogoutResponse {
            id: format!("_{}", random_token::<16>()),
            issuer: issuer.to_owned(),
            issued_at: now,
            destination: slo_url.clone(),
            in_response_to: req.id,
            status: StatusCode::Success,
            substatus: None,
        }
        .signed_xml(&key.certificate_der, &|d| key.sign(d))
        .map_err(|e| EngineError::Internal(format!("SAML signing: {e}")))?;
        Ok(PostForm {
            action: slo_url,
            saml_response: binding::encode_post(&xml),
            relay_state,
        })
    }
}
