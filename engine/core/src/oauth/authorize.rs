//! The authorization endpoint: validating the request (RFC 6749 §4.1.1, RFC 7636,
//! OIDC Core §3.1.2), deciding what the user must do next, and issuing the code.
//!
//! A validated request travels through the sign-in and consent pages sealed (AES-GCM
//! under a key derived from the master key), so any gateway node can continue it and
//! the browser cannot alter it.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::OAuth;
use crate::clock::UnixTime;
use crate::crypto::{self, b64, b64_decode, random_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult, OAuthError, OAuthErrorCode as C};
use crate::ids::{ClientId, TenantId};
use crate::model::{AuthCode, Client, Hash32, Session};

/// Longest value accepted for any authorization parameter.
pub const MAX_PARAM_LEN: usize = 2048;

/// A validated authorization request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    /// Client.
    pub client_id: ClientId,
    /// Exact registered redirect URI.
    pub redirect_uri: String,
    /// Requested scopes (known ones, deduplicated, in request order).
    pub scopes: Vec<String>,
    /// Opaque client state.
    pub state: Option<String>,
    /// OIDC nonce.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: String,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// `max_age`, seconds.
    pub max_age: Option<u64>,
    /// `login_hint`, pre-filled on the sign-in form.
    pub login_hint: Option<String>,
    /// `acr_values` this server knows, in request order (others are ignored: OIDC makes
    /// them voluntary).
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// `idp_hint`: the connector to send the user to directly instead of the sign-in page
    /// (an id that is not a connector's leads to the sign-in page).
    #[serde(default)]
    pub idp_hint: Option<String>,
    /// `resource` (RFC 8707): the API the access tokens are for; the client if none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The device authorization this sign-in approves (RFC 8628), by the hash of its
    /// device code: no code is issued; the user confirms on the device page instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Hash32>,
    /// The user code the person typed for that device, as `XXXX-XXXX`: shown again on the
    /// confirmation page, to compare with the device's screen (RFC 8628 §5.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_code: Option<String>,
    /// `dpop_jkt` (RFC 9449 §10): the DPoP key the code will be bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// `ui_locales` (OIDC Core §3.1.2.1): the languages the app would like the pages in,
    /// preferred first. Only tags' characters are kept, and at most 10 of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales: Option<String>,
    /// `organization` (issue 19): the organisation to sign in to, by id or name; set by
    /// the organisation picker too. Checked after sign-in (`orgs::Orgs::for_request`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// When this sealed request stops being accepted.
    pub expires_at: UnixTime,
}

impl AuthRequest {
    /// Whether a session authenticated by `amr` meets the requested `acr_values`: one of
    /// them is the session's level, or a weaker one.
    pub fn satisfied_by(&self, amr: &[String]) -> bool {
        let have = crate::model::signin::acr_for(amr);
        self.acr_values.is_empty()
            || self
                .acr_values
                .iter()
                .any(|v| v == have || v == crate::model::signin::ACR_ONE_FACTOR)
    }

    /// The scopes as consent records them: an API's scope qualified by the API
    /// (`{identifier}#{scope}`; an identifier has no fragment), so consent to `read` at
    /// one API is not consent to `read` at another.
    pub fn consent_scopes(&self) -> Vec<String> {
        self.scopes
            .iter()
            .map(|s| match &self.resource {
                Some(r) if !crate::oauth::discovery::SCOPES.contains(&s.as_str()) => {
                    format!("{r}#{s}")
                }
                _ => s.clone(),
            })
            .collect()
    }

    /// Whether the client asked for two factors.
    pub fn wants_two_factors(&self) -> bool {
        !self.satisfied_by(&["pwd".to_owned()])
    }
}

/// Why an authorization request failed.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect.
    Page(String),
    /// Tell the client, at its redirect URI.
    Redirect {
        /// Where.
        redirect_uri: String,
        /// Echoed state.
        state: Option<String>,
        /// What.
        error: OAuthError,
    },
    /// Something else went wrong (store, overload).
    Engine(EngineError),
}

impl From<EngineError> for AuthorizeError {
    fn from(e: EngineError) -> Self {
        Self::Engine(e)
    }
}

impl From<crate::store::StoreError> for AuthorizeError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Engine(e.into())
    }
}

/// What the user must do next.
#[derive(Debug)]
pub enum NextStep {
    /// Sign in (no session, `prompt=login`, or `max_age` passed).
    Login,
    /// The session lacks the second factor the client asked for (`acr_values`): step up.
    StepUp,
    /// Approve the client's access.
    Consent {
        /// Client's display name.
        client_name: String,
        /// Scopes to approve.
        scopes: Vec<String>,
    },
    /// The user belongs to several organisations and must choose one (issue 19).
    PickOrganization,
    /// Done: send the browser here (the redirect URI with `code`, `state`, `iss`).
    Redirect(String),
}

fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Appends query parameters to a redirect URI, keeping any query it has.
pub fn redirect_with(uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        // Nothing to add: the registered URI as it is (no stray `?`).
        Ok(_) if params.is_empty() => uri.to_owned(),
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

impl AuthorizeError {
    /// The error redirect URL, if this error is redirected.
    pub fn redirect_url(&self, issuer: &str) -> Option<String> {
        match self {
            Self::Redirect {
                redirect_uri,
                state,
                error,
            } => Some(error_redirect(
                redirect_uri,
                state.as_deref(),
                error,
                issuer,
            )),
            _ => None,
        }
    }
}

/// The client's redirect URI carrying an OAuth error (RFC 6749 §4.1.2.1, RFC 9207).
fn error_redirect(
    redirect_uri: &str,
    state: Option<&str>,
    error: &OAuthError,
    issuer: &str,
) -> String {
    let mut p = vec![
        ("error", error.code.as_str()),
        ("error_description", &*error.description),
    ];
    if let Some(s) = state {
        p.push(("state", s));
    }
    p.push(("iss", issuer));
    redirect_with(redirect_uri, &p)
}

impl OAuth<'_> {
    /// Validates the authorization request's parameters (each may appear once): its own,
    /// or those of the pushed request its `request_uri` names (RFC 9126), or of its
    /// signed request object (RFC 9101).
    pub async fn validate_authorize(
        &self,
        tenant: &TenantId,
        params: &[(String, String)],
    ) -> Result<AuthRequest, AuthorizeError> {
        self.tenant(tenant).await?;
        match self.expand_authorize(tenant, params).await {
            Ok((params, pushed)) => self.validate_params(tenant, &params, pushed).await,
            // A refused request_uri or request object is told to the redirect URI the
            // request names, if it is the client's; else on a page. The plain parameters,
            // still holding request or request_uri, can only fail, and show which.
            Err(EngineError::OAuth(error)) => {
                Err(match self.validate_params(tenant, params, false).await {
                    Err(AuthorizeError::Redirect {
                        redirect_uri,
                        state,
                        ..
                    }) => AuthorizeError::Redirect {
                        redirect_uri,
                        state,
                        error,
                    },
                    Err(AuthorizeError::Engine(e)) => AuthorizeError::Engine(e),
                    _ => AuthorizeError::Page(format!(
                        "{} ({})",
                        error.description,
                        error.code.as_str()
                    )),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Validates an authorization request's own parameters; `pushed` if they came
    /// through the PAR endpoint.
    pub(crate) async fn validate_params(
        &self,
        tenant: &TenantId,
        params: &[(String, String)],
        pushed: bool,
    ) -> Result<AuthRequest, AuthorizeError> {
        self.tenant(tenant).await?;
        let mut map: HashMap<&str, &str> = HashMap::new();
        let mut duplicate = None;
        // Whether client_id or redirect_uri came twice, whatever else did: then no redirect
        // can be trusted (not only when it was the last parameter repeated).
        let mut two_targets = false;
        for (k, v) in params {
            if map.insert(k.as_str(), v.as_str()).is_some() {
                two_targets |= k == "client_id" || k == "redirect_uri";
                duplicate.get_or_insert_with(|| k.clone());
            }
        }
        let get = |k: &str| map.get(k).copied().filter(|v| !v.is_empty());

        // Until the client and redirect URI are known good, errors go to a page.
        let client_id = get("client_id")
            .ok_or_else(|| AuthorizeError::Page("The request has no client_id.".into()))?;
        let client_id = ClientId::parse(client_id)
            .map_err(|_| AuthorizeError::Page("The client_id is not valid.".into()))?;
        let client = self.client(tenant, &client_id).await?.ok_or_else(|| {
            AuthorizeError::Page("The application (client_id) is not known.".into())
        })?;
        let redirect_uri = get("redirect_uri")
            .ok_or_else(|| AuthorizeError::Page("The request has no redirect_uri.".into()))?;
        if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
            return Err(AuthorizeError::Page(
                "The redirect_uri does not match any registered for this application.".into(),
            ));
        }
        if two_targets {
            return Err(AuthorizeError::Page(
                "client_id and redirect_uri may each appear once.".into(),
            ));
        }
        let state = get("state").map(str::to_owned);
        let fail = |code, desc: String| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone().filter(|s| s.len() <= MAX_PARAM_LEN),
            error: OAuthError::new(code, desc),
        };
        if let Some(d) = duplicate {
            return Err(fail(
                C::InvalidRequest,
                format!("parameter {d} appears more than once"),
            ));
        }
        if let Some((k, _)) = map.iter().find(|(_, v)| v.len() > MAX_PARAM_LEN) {
            return Err(fail(
                C::InvalidRequest,
                format!("parameter {k} is too long"),
            ));
        }
        // Left after expansion, they were inside a request object or a pushed request.
        for nested in ["request", "request_uri"] {
            if get(nested).is_some() {
                return Err(fail(
                    C::InvalidRequest,
                    format!("{nested} cannot appear inside a pushed request or request object"),
                ));
            }
        }
        if client.require_pushed_authorization_requests && !pushed {
            return Err(fail(
                C::InvalidRequest,
                "this client must push its authorization requests first (PAR)".into(),
            ));
        }
        if !client.allows(crate::model::GrantType::AuthorizationCode) {
            return Err(fail(
                C::UnauthorizedClient,
                "this client may not use the authorization code flow".into(),
            ));
        }
        match get("response_type") {
            Some("code") => {}
            None => return Err(fail(C::InvalidRequest, "response_type is required".into())),
            Some(_) => {
                return Err(fail(
                    C::UnsupportedResponseType,
                    "only response_type=code is supported".into(),
                ));
            }
        }
        if let Some(mode) = get("response_mode")
            && mode != "query"
        {
            return Err(fail(
                C::InvalidRequest,
                "only response_mode=query is supported".into(),
            ));
        }
        let code_challenge = get("code_challenge").ok_or_else(|| {
            fail(
                C::InvalidRequest,
                "code_challenge is required (PKCE with S256)".into(),
            )
        })?;
        match get("code_challenge_method") {
            Some("S256") => {}
            _ => {
                return Err(fail(
                    C::InvalidRequest,
                    "code_challenge_method must be S256".into(),
                ));
            }
        }
        if code_challenge.len() != 43 || !is_pkce_value(code_challenge) {
            return Err(fail(
                C::InvalidRequest,
                "code_challenge must be a base64url SHA-256 (43 characters)".into(),
            ));
        }
        // The API the tokens are for (RFC 8707 §2): one registered API, whose scopes may
        // then be asked for beside the OpenID ones.
        let t = self.tenant(tenant).await?;
        let resource = get("resource");
        let api = match resource {
            None => None,
            Some(r) => Some(t.api(r).ok_or_else(|| {
                fail(
                    C::InvalidTarget,
                    "the resource is not an API of this tenant".into(),
                )
            })?),
        };
        let mut scopes: Vec<String> = Vec::new();
        for s in get("scope")
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
        {
            let api_scope = api.is_some_and(|a| a.scopes.iter().any(|x| x == s));
            if !crate::oauth::discovery::SCOPES.contains(&s) && !api_scope {
                return Err(fail(C::InvalidScope, format!("unknown scope {s:?}")));
            }
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_owned());
            }
        }
        if scopes.is_empty() {
            return Err(fail(
                C::InvalidScope,
                "scope is required (for example \"openid\")".into(),
            ));
        }
        let prompt: Vec<String> = get("prompt")
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        for p in &prompt {
            if !["none", "login", "consent", "select_account"].contains(&p.as_str()) {
                return Err(fail(
                    C::InvalidRequest,
                    format!("unknown prompt value {p:?}"),
                ));
            }
        }
        if prompt.len() > 1 && prompt.iter().any(|p| p == "none") {
            return Err(fail(
                C::InvalidRequest,
                "prompt=none cannot be combined with other values".into(),
            ));
        }
        let dpop_jkt = match get("dpop_jkt") {
            Some(j) if crate::oauth::dpop::is_thumbprint(j) => Some(j.to_owned()),
            Some(_) => {
                return Err(fail(
                    C::InvalidRequest,
                    "dpop_jkt must be a JWK SHA-256 thumbprint (RFC 9449 §10)".into(),
                ));
            }
            None => None,
        };
        let organization = match get("organization") {
            Some(o) if crate::orgs::valid_reference(o) => Some(o.to_owned()),
            Some(_) => {
                return Err(fail(
                    C::InvalidRequest,
                    "organization must be an organization's id or name".into(),
                ));
            }
            None => None,
        };
        let max_age = match get("max_age") {
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                fail(
                    C::InvalidRequest,
                    "max_age must be a number of seconds".into(),
                )
            })?),
            None => None,
        };
        Ok(AuthRequest {
            client_id,
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            state,
            nonce: get("nonce").map(str::to_owned),
            code_challenge: code_challenge.to_owned(),
            prompt,
            max_age,
            login_hint: get("login_hint").map(str::to_owned),
            acr_values: get("acr_values")
                .unwrap_or("")
                .split(' ')
                .filter(|v| crate::model::signin::ACR_VALUES.contains(v))
                .map(str::to_owned)
                .collect(),
            idp_hint: get("idp_hint")
                .filter(|h| crate::model::federation::valid_connector_id(h))
                .map(str::to_owned),
            resource: resource.map(str::to_owned),
            device: None,
            user_code: None,
            dpop_jkt,
            ui_locales: get("ui_locales").and_then(clean_ui_locales),
            organization,
            expires_at: self.now() + self.rt().config.login_ttl,
        })
    }

    fn tx_key(&self) -> crate::crypto::MasterKey {
        crate::crypto::MasterKey::from_bytes(
            self.rt()
                .master
                .derive("tollgate authorization transaction v1"),
        )
    }

    /// Seals a request for the sign-in and consent pages.
    pub fn seal_request(&self, tenant: &TenantId, req: &AuthRequest) -> String {
        let json = crate::json::to_vec(req);
        b64(&self.tx_key().seal(tenant.as_str().as_bytes(), &json))
    }

    /// Opens a sealed request; `None` if tampered with, from another tenant, or expired.
    pub fn open_request(&self, tenant: &TenantId, sealed: &str) -> Option<AuthRequest> {
        let raw = b64_decode(sealed)?;
        let json = self.tx_key().open(tenant.as_str().as_bytes(), &raw).ok()?;
        let req: AuthRequest = serde_json::from_slice(&json).ok()?;
        (req.expires_at > self.now()).then_some(req)
    }

    /// Decides the next step for a validated request. `fresh_login` is true right after the
    /// user signed in (so `prompt=login` and `max_age` are satisfied); `consented` right
    /// after they approved the consent page.
    pub async fn next_step(
        &self,
        tenant: &TenantId,
        req: &AuthRequest,
        session: Option<&Session>,
        fresh_login: bool,
        consented: bool,
        meta: &RequestMeta,
    ) -> Result<NextStep, AuthorizeError> {
        let redirect_error = |code, desc: &str| AuthorizeError::Redirect {
            redirect_uri: req.redirect_uri.clone(),
            state: req.state.clone(),
            error: OAuthError::new(code, desc.to_owned()),
        };
        let prompt = |p: &str| req.prompt.iter().any(|x| x == p);
        let now = self.now();
        let Some(session) = session else {
            return if prompt("none") {
                Err(redirect_error(
                    C::LoginRequired,
                    "the user is not signed in",
                ))
            } else {
                Ok(NextStep::Login)
            };
        };
        let too_old = req
            .max_age
            // At max_age seconds the authentication is too old: max_age=0 always asks.
            .is_some_and(|m| now.saturating_sub(session.auth.auth_time) >= m);
        if !fresh_login && (prompt("login") || prompt("select_account") || too_old) {
            return if prompt("none") {
                Err(redirect_error(
                    C::LoginRequired,
                    "the session is older than max_age",
                ))
            } else {
                Ok(NextStep::Login)
            };
        }
        if !req.satisfied_by(&session.auth.amr) {
            return if prompt("none") {
                Err(redirect_error(
                    C::InteractionRequired,
                    "the client asked for a second factor this session lacks",
                ))
            } else {
                Ok(NextStep::StepUp)
            };
        }
        // A device's request is confirmed on its own page, which names the device flow;
        // it never turns into an authorization code.
        if req.device.is_some() {
            return Ok(NextStep::Redirect(format!(
                "/{tenant}/device/confirm?tx={}",
                self.seal_request(tenant, req)
            )));
        }
        // Which organisation this sign-in is for, and whether the user may enter it.
        let scopes = &req.scopes;
        let choice = self
            .orgs()
            .for_request(
                tenant,
                &req.client_id,
                scopes,
                req.organization.as_deref(),
                session,
            )
            .await?;
        let org = match choice {
            crate::orgs::OrgChoice::Org(id) => Some(id),
            crate::orgs::OrgChoice::Neither => None,
            crate::orgs::OrgChoice::Refused(why) => {
                return Err(redirect_error(C::AccessDenied, why.description()));
            }
            crate::orgs::OrgChoice::Pick if prompt("none") => {
                return Err(redirect_error(
                    C::InteractionRequired,
                    "the user must choose an organization",
                ));
            }
            crate::orgs::OrgChoice::Pick => return Ok(NextStep::PickOrganization),
        };
        let client = self.client(tenant, &req.client_id).await?.ok_or_else(|| {
            AuthorizeError::Page("The application is no longer registered.".into())
        })?;
        let granted = self
            .rt()
            .store
            .get_consent(tenant, &session.user_id, &client.id)
            .await?;
        let covered = client.first_party
            || granted
                .as_ref()
                .is_some_and(|g| req.consent_scopes().iter().all(|s| g.scopes.contains(s)));
        if !consented && (prompt("consent") || !covered) {
            return if prompt("none") {
                Err(redirect_error(
                    C::ConsentRequired,
                    "the user has not approved this application",
                ))
            } else {
                Ok(NextStep::Consent {
                    client_name: client.name.clone(),
                    scopes: req.scopes.clone(),
                })
            };
        }
        if consented {
            let consent = crate::model::Consent {
                tenant: tenant.clone(),
                user_id: session.user_id.clone(),
                client_id: client.id.clone(),
                scopes: req.consent_scopes(),
                granted_at: now,
            };
            self.rt().store.put_consent(&consent).await?;
            let mut ev = self.event(tenant, "consent.granted", true);
            ev.actor = Some(session.user_id.to_string());
            ev.subject = ev.actor.clone();
            ev.client = Some(client.id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some(req.scopes.join(" "));
            self.record(ev);
        }
        let code = self.issue_code(tenant, req, &client, session, org).await?;
        let mut p = vec![("code", code.as_str())];
        if let Some(s) = &req.state {
            p.push(("state", s));
        }
        let iss = self.issuer(tenant);
        p.push(("iss", &iss));
        Ok(NextStep::Redirect(redirect_with(&req.redirect_uri, &p)))
    }

    /// Records the user's refusal and builds the `access_denied` redirect.
    pub fn consent_denied(&self, tenant: &TenantId, req: &AuthRequest) -> String {
        let mut ev = self.event(tenant, "consent.denied", true);
        ev.client = Some(req.client_id.to_string());
        self.record(ev);
        error_redirect(
            &req.redirect_uri,
            req.state.as_deref(),
            &OAuthError::new(C::AccessDenied, "the user declined"),
            &self.issuer(tenant),
        )
    }

    async fn issue_code(
        &self,
        tenant: &TenantId,
        req: &AuthRequest,
        client: &Client,
        session: &Session,
        org: Option<String>,
    ) -> EngineResult<String> {
        let code = random_token::<32>();
        let record = AuthCode {
            tenant: tenant.clone(),
            key: Hash32::of(code.as_bytes()),
            client_id: client.id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            code_challenge: req.code_challenge.clone(),
            scope: req.scopes.join(" "),
            nonce: req.nonce.clone(),
            user_id: session.user_id.clone(),
            auth: crate::model::AuthContext {
                org,
                ..session.auth.clone()
            },
            sid: Some(session.sid.clone()),
            resource: req.resource.clone(),
            dpop_jkt: req.dpop_jkt.clone(),
            expires_at: self.now() + self.rt().config.code_ttl,
        };
        self.rt().store.put_code(&record).await?;
        if !session.clients.contains(&client.id) {
            // Who is told when the session ends (back-channel logout).
            let shard = self.rt().shards.shard_for(tenant, &session.key);
            let add = crate::runtime::shard::AddSessionClient {
                tenant: tenant.clone(),
                key: session.key,
                client: client.id.clone(),
            };
            self.rt().shards.ask(shard, add).await?;
        }
        Ok(code)
    }
}

/// Checks a PKCE verifier against a challenge (RFC 7636 §4.6), in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    is_pkce_value(verifier)
        && crypto::ct_eq(crypto::pkce_s256(verifier).as_bytes(), challenge.as_bytes())
}

/// `ui_locales` reduced to what a language tag can hold: it is only a hint, so a malformed
/// entry is dropped rather than refused (OIDC Core says unsupported values are ignored).
fn clean_ui_locales(raw: &str) -> Option<String> {
    let tags: Vec<&str> = raw
        .split(' ')
        .filter(|t| {
            !t.is_empty()
                && t.len() <= 35
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .take(10)
        .collect();
    (!tags.is_empty()).then(|| tags.join(" "))
}

#[cfg(test)]
mod tests {
    use super::redirect_with;

    #[test]
    fn redirects_add_their_parameters_and_nothing_else() {
        assert_eq!(
            redirect_with("https://app.example/bye", &[]),
            "https://app.example/bye"
        );
        assert_eq!(
            redirect_with("https://app.example/cb?x=1", &[("state", "a b")]),
            "https://app.example/cb?x=1&state=a+b"
        );
    }
}
