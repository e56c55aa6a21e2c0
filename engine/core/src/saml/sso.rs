//! Single sign-on: an SP's `AuthnRequest` (either binding) checked and held, sealed, while
//! the user signs in on the hosted pages; then the signed `Response` for the SP's ACS.
//! IdP-initiated SSO answers without a request.
//!
//! Checks, in order, each refusing before anything is stored: the message decodes and
//! parses (no DTD, bounded); the issuer is a registered SP; the ACS URL, if named, is one
//! it registered (exact match), and the binding is HTTP-POST; a signature, when the SP
//! has a certificate (query signature for HTTP-Redirect, enveloped for HTTP-POST); the
//! `Destination`, if given, is this endpoint; the instant is recent; the request ID was
//! never seen (remembered until the request would expire anyway). Up to there the browser
//! sees a page, as nothing proves where to send an answer. A NameID format the SP cannot
//! have is told to the SP in a `Response` with `InvalidNameIDPolicy`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tollgate_saml::{StatusCode, binding, request, response};

use super::sps::IdpKey;
use super::{Incoming, PostForm, Refusal, Saml};
use crate::crypto::{MasterKey, b64, b64_decode, random_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::saml::{NameIdFormat, ServiceProvider};
use crate::model::{Challenge, Hash32, Session, Tenant, User};
use crate::store::StoreError;

/// How far a request's instant may be from now (clock skew), seconds.
pub const SKEW: u64 = 180;
/// How long a request stays acceptable, and its ID remembered, seconds.
pub const REQUEST_LIFETIME: u64 = 600;
/// How long an assertion is valid for the SP, seconds.
pub const ASSERTION_LIFETIME: u64 = 300;

/// A checked request waiting for the user to sign in (sealed in the browser).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The SP's entity ID.
    pub sp: String,
    /// The request's ID (`InResponseTo`); none for IdP-initiated SSO.
    pub request_id: Option<String>,
    /// The ACS URL to answer at.
    pub acs_url: String,
    /// `RelayState`.
    pub relay_state: Option<String>,
    /// `ForceAuthn`: only a sign-in after `created_at` will do.
    pub force_authn: bool,
    /// When the request was accepted.
    pub created_at: u64,
}

fn format_uri(f: NameIdFormat) -> &'static str {
    match f {
        NameIdFormat::Persistent => tollgate_saml::NAMEID_PERSISTENT,
        NameIdFormat::Email => tollgate_saml::NAMEID_EMAIL,
    }
}

impl Saml<'_> {
    fn pending_key(&self) -> MasterKey {
        MasterKey::from_bytes(self.rt().master.derive("tollgate saml pending v1"))
    }

    fn session_index_key(&self) -> MasterKey {
        MasterKey::from_bytes(self.rt().master.derive("tollgate saml session index v1"))
    }

    /// Opens a sealed pending request; `None` if tampered with, of another tenant, or
    /// older than the request lifetime.
    pub fn open_pending(&self, tenant: &TenantId, sealed: &str) -> Option<Pending> {
        let raw = b64_decode(sealed)?;
        let json = self
            .pending_key()
            .open(tenant.as_str().as_bytes(), &raw)
            .ok()?;
        let p: Pending = serde_json::from_slice(&json).ok()?;
        (p.created_at + REQUEST_LIFETIME > self.now()).then_some(p)
    }

    /// The NameID an SP knows a user by: a pairwise value (HMAC of the SP and the user
    /// under a key of the tenant), or the email address.
    pub(crate) fn name_id(&self, tenant: &TenantId, sp: &ServiceProvider, user: &User) -> String {
        match sp.name_id_format {
            NameIdFormat::Persistent => {
                let key = self
                    .rt()
                    .master
                    .derive(&format!("tollgate saml nameid v1\0{tenant}"));
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
                b64(
                    ring::hmac::sign(&key, format!("{}|{}", sp.entity_id, user.id).as_bytes())
                        .as_ref(),
                )
            }
            NameIdFormat::Email => user.email.to_string(),
        }
    }

    /// The session index given to SPs: the user and the session's `sid`, sealed, so that
    /// a `LogoutRequest` names the session without a cookie.
    fn session_index(&self, tenant: &TenantId, session: &Session) -> String {
        let plain = format!("{}\0{}", session.user_id, session.sid);
        b64(&self
            .session_index_key()
            .seal(tenant.as_str().as_bytes(), plain.as_bytes()))
    }

    /// The user and `sid` a session index names.
    pub(crate) fn open_session_index(
        &self,
        tenant: &TenantId,
        index: &str,
    ) -> Option<(UserId, String)> {
        let raw = b64_decode(index)?;
        let plain = self
            .session_index_key()
            .open(tenant.as_str().as_bytes(), &raw)
            .ok()?;
        let text = String::from_utf8(plain).ok()?;
        let (user, sid) = text.split_once('\0')?;
        Some((UserId::from_stored(user.to_owned()), sid.to_owned()))
    }

    fn audit(
        &self,
        tenant: &TenantId,
        kind: &str,
        ok: bool,
        (sp, user): (Option<&str>, Option<&UserId>),
        detail: &str,
        meta: &RequestMeta,
    ) {
        let mut ev = self.event(tenant, kind, ok);
        ev.client = sp.map(str::to_owned);
        ev.subject = user.map(|u| u.to_string());
        ev.actor = user.map(|u| u.to_string());
        ev.ip = meta.ip.clone();
        ev.detail = Some(detail.to_owned());
        self.record(ev);
    }

    /// Checks an SP's `AuthnRequest` and returns it sealed, to carry through the sign-in.
    pub async fn start_sso(
        &self,
        tenant: &TenantId,
        issuer: &str,
        incoming: Incoming,
        meta: &RequestMeta,
    ) -> Result<String, Refusal> {
        let result = self.check_request(tenant, issuer, incoming).await;
        match &result {
            Ok((p, _)) => self.audit(
                tenant,
                "saml.sso_request",
                true,
                (Some(&p.sp), None),
                "accepted",
                meta,
            ),
            Err(Refusal::Page(code, _)) => {
                self.audit(tenant, "saml.sso_request", false, (None, None), code, meta)
            }
            Err(Refusal::Respond(_)) => self.audit(
                tenant,
                "saml.sso_request",
                false,
                (None, None),
                "invalid_nameid_policy",
                meta,
            ),
            Err(Refusal::Engine(_)) => {}
        }
        let (pending, _) = result?;
        Ok(self.seal_pending(tenant, &pending))
    }

    async fn check_request(
        &self,
        tenant: &TenantId,
        issuer: &str,
        incoming: Incoming,
    ) -> Result<(Pending, ()), Refusal> {
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
        if relay_state.as_ref().is_some_and(|r| r.len() > 1024) {
            return Err(Refusal::Page(
                "relay_state_too_long",
                "RelayState is longer than 1024 characters.".into(),
            ));
        }
        let req = request::parse_authn_request(&xml, &limits).map_err(|e| Refusal::page(&e))?;
        let t = self.tenant(tenant).await?;
        let Some(sp) = t.saml.sp(&req.issuer) else {
            return Err(Refusal::Page(
                "unknown_sp",
                "The application asking for sign-in is not registered.".into(),
            ));
        };
        let acs_url = match (&req.acs_url, req.acs_index) {
            (Some(u), _) => sp
                .acs_urls
                .iter()
                .find(|a| *a == u)
                .cloned()
                .ok_or_else(|| {
                    Refusal::Page(
                        "acs_not_registered",
                        "The application's AssertionConsumerServiceURL is not registered.".into(),
                    )
                })?,
            (None, Some(i)) => sp.acs_urls.get(i as usize).cloned().ok_or_else(|| {
                Refusal::Page(
                    "acs_not_registered",
                    "The application's AssertionConsumerServiceIndex is not registered.".into(),
                )
            })?,
            (None, None) => sp.acs_urls.first().cloned().ok_or_else(|| {
                Refusal::Page(
                    "acs_not_registered",
                    "The application has no ACS URL.".into(),
                )
            })?,
        };
        if req
            .protocol_binding
            .as_deref()
            .is_some_and(|b| b != tollgate_saml::BINDING_POST)
        {
            return Err(Refusal::Page(
                "unsupported_binding",
                "Only the HTTP-POST binding is offered for responses.".into(),
            ));
        }
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
            .is_some_and(|d| d != format!("{issuer}/saml/sso"))
        {
            return Err(Refusal::Page(
                "wrong_destination",
                "The request was meant for another endpoint (Destination).".into(),
            ));
        }
        let now = self.now();
        if req.issue_instant + REQUEST_LIFETIME < now || req.issue_instant > now + SKEW {
            return Err(Refusal::Page(
                "request_expired",
                "The request is too old or from the future (IssueInstant).".into(),
            ));
        }
        let known = [
            tollgate_saml::NAMEID_UNSPECIFIED,
            format_uri(sp.name_id_format),
        ];
        if req
            .name_id_format
            .as_deref()
            .is_some_and(|f| !known.contains(&f))
        {
            let key = self.idp_key(&t)?;
            let form = error_response(issuer, &acs_url, &req.id, relay_state, now, &key)?;
            return Err(Refusal::Respond(form));
        }
        let seen = Challenge {
            tenant: tenant.clone(),
            key: Hash32::of(format!("saml_request\0{}\0{}", sp.entity_id, req.id).as_bytes()),
            purpose: "saml_request_id".into(),
            user_id: None,
            data: Value::Null,
            tries_left: 0,
            expires_at: req.issue_instant + REQUEST_LIFETIME + SKEW,
        };
        match self.rt().store.put_challenge(&seen).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(Refusal::Page(
                    "replayed",
                    "This sign-in request was already used.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        Ok((
            Pending {
                sp: sp.entity_id.clone(),
                request_id: Some(req.id),
                acs_url,
                relay_state,
                force_authn: req.force_authn,
                created_at: now,
            },
            (),
        ))
    }

    /// The signed response to a pending request, for the signed-in `session`.
    pub async fn answer_sso(
        &self,
        tenant: &TenantId,
        issuer: &str,
        pending: &Pending,
        session: &Session,
        meta: &RequestMeta,
    ) -> Result<PostForm, Refusal> {
        let t = self.tenant(tenant).await?;
        let sp = t.saml.sp(&pending.sp).ok_or_else(|| {
            Refusal::Page(
                "unknown_sp",
                "The application is no longer registered.".into(),
            )
        })?;
        let form = self
            .respond(
                &t,
                issuer,
                sp,
                &pending.acs_url,
                pending.request_id.as_deref(),
                pending.relay_state.clone(),
                session,
            )
            .await?;
        let how = match pending.request_id {
            Some(_) => "sp_initiated",
            None => "idp_initiated",
        };
        self.audit(
            tenant,
            "saml.sso",
            true,
            (Some(&sp.entity_id), Some(&session.user_id)),
            how,
            meta,
        );
        Ok(form)
    }

    /// IdP-initiated SSO: a pending sign-in for `sp_entity_id` at its default ACS, without
    /// a request (the response will have no `InResponseTo`), sealed like an SP's.
    pub async fn start_idp_initiated(
        &self,
        tenant: &TenantId,
        sp_entity_id: &str,
        meta: &RequestMeta,
    ) -> Result<String, Refusal> {
        let t = self.tenant(tenant).await?;
        let Some(sp) = t.saml.sp(sp_entity_id) else {
            self.audit(
                tenant,
                "saml.sso_request",
                false,
                (None, None),
                "unknown_sp",
                meta,
            );
            return Err(Refusal::Page(
                "unknown_sp",
                "No such application is registered.".into(),
            ));
        };
        let pending = Pending {
            sp: sp.entity_id.clone(),
            request_id: None,
            acs_url: sp.acs_urls.first().cloned().unwrap_or_default(),
            relay_state: None,
            force_authn: false,
            created_at: self.now(),
        };
        Ok(self.seal_pending(tenant, &pending))
    }

    fn seal_pending(&self, tenant: &TenantId, pending: &Pending) -> String {
        let json = crate::json::to_vec(pending);
        b64(&self.pending_key().seal(tenant.as_str().as_bytes(), &json))
    }

    #[allow(clippy::too_many_arguments)]
    async fn respond(
        &self,
        t: &Tenant,
        issuer: &str,
        sp: &ServiceProvider,
        acs_url: &str,
        in_response_to: Option<&str>,
        relay_state: Option<String>,
        session: &Session,
    ) -> Result<PostForm, Refusal> {
        let user = self
            .user(&t.id, &session.user_id)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let name_id = self.name_id(&t.id, sp, &user);
        let attributes = sp
            .attributes
            .iter()
            .filter_map(|m| {
                let value = match m.claim.as_str() {
                    "sub" => Some(name_id.clone()),
                    "email" => Some(user.email.to_string()),
                    "email_verified" => Some(user.email_verified.to_string()),
                    "name" => user.name.clone(),
                    other => user.profile.get(other).cloned(),
                }?;
                let format = if m.attribute.contains(':') {
                    tollgate_saml::ATTRNAME_URI
                } else {
                    tollgate_saml::ATTRNAME_BASIC
                };
                Some((m.attribute.clone(), format.to_owned(), vec![value]))
            })
            .collect();
        let now = self.now();
        let assertion = response::Assertion {
            id: format!("_{}", random_token::<16>()),
            issuer: issuer.to_owned(),
            issued_at: now,
            not_before: now.saturating_sub(SKEW),
            not_on_or_after: now + ASSERTION_LIFETIME,
            audience: sp.entity_id.clone(),
            recipient: acs_url.to_owned(),
            in_response_to: in_response_to.map(str::to_owned),
            name_id,
            name_id_format: format_uri(sp.name_id_format).to_owned(),
            authn_instant: session.auth.auth_time,
            session_index: self.session_index(&t.id, session),
            authn_context: tollgate_saml::AC_PASSWORD_PROTECTED.to_owned(),
            attributes,
        };
        let resp = response::Response {
            id: format!("_{}", random_token::<16>()),
            issuer: issuer.to_owned(),
            issued_at: now,
            destination: acs_url.to_owned(),
            in_response_to: in_response_to.map(str::to_owned),
            status: StatusCode::Success,
            substatus: None,
            message: None,
            assertion: Some(assertion),
        };
        let key = self.idp_key(t)?;
        let xml = resp
            .signed_xml(
                sp.sign_assertion,
                sp.sign_response,
                &key.certificate_der,
                &|d| key.sign(d),
            )
            .map_err(|e| EngineError::Internal(format!("SAML signing: {e}")))?;
        Ok(PostForm {
            action: acs_url.to_owned(),
            saml_response: binding::encode_post(&xml),
            relay_state,
        })
    }
}

/// A signed `Response` with `Requester`/`InvalidNameIDPolicy` and no assertion.
fn error_response(
    issuer: &str,
    acs_url: &str,
    request_id: &str,
    relay_state: Option<String>,
    now: u64,
    key: &IdpKey,
) -> EngineResult<PostForm> {
    let resp = response::Response {
        id: format!("_{}", random_token::<16>()),
        issuer: issuer.to_owned(),
        issued_at: now,
        destination: acs_url.to_owned(),
        in_response_to: Some(request_id.to_owned()),
        status: StatusCode::Requester,
        substatus: Some(tollgate_saml::substatus::INVALID_NAMEID_POLICY),
        message: Some("The NameID format asked for is not available to this application.".into()),
        assertion: None,
    };
    let xml = resp
        .signed_xml(false, true, &key.certificate_der, &|d| key.sign(d))
        .map_err(|e| EngineError::Internal(format!("SAML signing: {e}")))?;
    Ok(PostForm {
        action: acs_url.to_owned(),
        saml_response: binding::encode_post(&xml),
        relay_state,
    })
}
