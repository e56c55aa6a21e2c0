//! Dynamic client registration (RFC 7591) and its management protocol (RFC 7592).
//!
//! Registration is open only to holders of an initial access token, which the operator
//! issues through the admin API (shown once, kept as a hash, with an expiry and a number
//! of uses, in the challenge store so that every node sees one count). A registered
//! client is third-party (it always meets the consent page), may use the code flow and
//! refresh tokens, and gets a registration access token (kept as a hash on the client)
//! with which it reads, replaces and deletes its registration.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::OAuth;
use super::assertion::check_client_jwks;
use crate::admin::Admin;
use crate::clock::UnixTime;
use crate::crypto::{ct_eq, random_token};
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ClientId, TenantId};
use crate::model::{Challenge, Client, EndpointAuthMethod, GrantType, Hash32};

const IAT_PURPOSE: &str = "initial_access_token";
/// Longest an initial access token can live, seconds (30 days).
pub const MAX_IAT_LIFETIME: u64 = 30 * 24 * 3600;
/// Most registrations one initial access token allows.
pub const MAX_IAT_USES: u32 = 1000;
const MAX_URIS: usize = 20;
const MAX_URI_LEN: usize = 2048;

/// Asks for an initial access token (admin API and CLI).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NewInitialAccessToken {
    /// Seconds it stays valid: one day if absent, at most 30 days.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// How many clients it may register: one if absent, at most 1000.
    #[serde(default)]
    pub max_uses: Option<u32>,
}

/// An issued initial access token: shown this once, kept only as a hash.
#[derive(Clone, Serialize, Deserialize)]
pub struct InitialAccessToken {
    /// The bearer token the registering party presents.
    pub token: String,
    /// When it stops being accepted (Unix seconds).
    pub expires_at: UnixTime,
    /// How many clients it may register.
    pub max_uses: u32,
}

impl std::fmt::Debug for InitialAccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitialAccessToken")
            .field("token", &"<hidden>")
            .field("expires_at", &self.expires_at)
            .field("max_uses", &self.max_uses)
            .finish()
    }
}

/// A client's registration as RFC 7591 §3.2.1 and RFC 7592 §3 answer it.
#[derive(Clone, Serialize)]
pub struct ClientRegistration {
    /// `client_id`.
    pub client_id: String,
    /// Its secret, shown when it is made (registration, or a change to a secret method).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// `0`: secrets do not expire. Present when the client has a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<u64>,
    /// When the client was registered.
    pub client_id_issued_at: UnixTime,
    /// The token that manages this registration; shown once, at registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<String>,
    /// Where the registration is read, replaced and deleted (RFC 7592).
    pub registration_client_uri: String,
    /// `client_name`.
    pub client_name: String,
    /// `redirect_uris`.
    pub redirect_uris: Vec<String>,
    /// `post_logout_redirect_uris`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// `grant_types`.
    pub grant_types: Vec<&'static str>,
    /// Always `["code"]`.
    pub response_types: [&'static str; 1],
    /// `token_endpoint_auth_method`.
    pub token_endpoint_auth_method: &'static str,
    /// `jwks`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// `jwks_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `require_pushed_authorization_requests` (RFC 9126 §6).
    pub require_pushed_authorization_requests: bool,
    /// `backchannel_logout_uri` (OIDC Back-Channel Logout 1.0 §2.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// `backchannel_logout_session_required`.
    pub backchannel_logout_session_required: bool,
    /// `frontchannel_logout_uri` (OIDC Front-Channel Logout 1.0 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// `frontchannel_logout_session_required`.
    pub frontchannel_logout_session_required: bool,
}

impl std::fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClientRegistration({}, <secrets hidden>)",
            self.client_id
        )
    }
}

/// The metadata a client may register (RFC 7591 §2); others are ignored, as §2 asks.
#[derive(Default, Deserialize)]
struct Metadata {
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    client_name: Option<String>,
    jwks: Option<Value>,
    jwks_uri: Option<String>,
    require_pushed_authorization_requests: Option<bool>,
    backchannel_logout_uri: Option<String>,
    backchannel_logout_session_required: Option<bool>,
    frontchannel_logout_uri: Option<String>,
    frontchannel_logout_session_required: Option<bool>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Metadata that passed the checks, ready to set on a client.
struct Checked {
    name: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    grant_types: Vec<GrantType>,
    method: EndpointAuthMethod,
    jwks: Option<Value>,
    jwks_uri: Option<String>,
    require_par: bool,
    /// Back-channel logout URI, and whether its tokens must carry `sid`.
    backchannel: (Option<String>, bool),
    /// Front-channel logout URI, and whether it gets `iss` and `sid`.
    frontchannel: (Option<String>, bool),
}

fn metadata_error(desc: impl Into<std::borrow::Cow<'static, str>>) -> EngineError {
    EngineError::oauth(C::InvalidClientMetadata, desc)
}

fn invalid_token() -> EngineError {
    EngineError::oauth(
        C::InvalidToken,
        "a valid registration token is required (Authorization: Bearer)",
    )
}

/// A redirect URI a registering party may give: exact, `https`, or `http` on a loopback
/// host (RFC 8252 §7.3); no fragment, no credentials.
fn check_uri(u: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{u:?} {why}"));
    if u.len() > MAX_URI_LEN {
        return bad("is too long");
    }
    let Ok(url) = url::Url::parse(u) else {
        return bad("is not an absolute URI");
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return bad("must not have a fragment or credentials");
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => bad("must be https (or http on a loopback address)"),
    }
}

fn check_uris(uris: &[String]) -> EngineResult<()> {
    if uris.len() > MAX_URIS {
        return Err(EngineError::oauth(
            C::InvalidRedirectUri,
            format!("at most {MAX_URIS} redirect URIs"),
        ));
    }
    for u in uris {
        check_uri(u).map_err(|e| EngineError::oauth(C::InvalidRedirectUri, e))?;
    }
    Ok(())
}

/// Checks registration metadata (RFC 7591 §2, §3.2.2).
fn check(m: Metadata) -> EngineResult<Checked> {
    let grant_types = match &m.grant_types {
        None => vec![GrantType::AuthorizationCode],
        Some(names) => {
            let mut out = Vec::new();
            for n in names {
                match GrantType::parse(n) {
                    Some(g @ (GrantType::AuthorizationCode | GrantType::RefreshToken)) => {
                        if !out.contains(&g) {
                            out.push(g);
                        }
                    }
                    _ => {
                        return Err(metadata_error(format!(
                            "grant type {n:?} cannot be registered (authorization_code, refresh_token)"
                        )));
                    }
                }
            }
            out
        }
    };
    if !grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(metadata_error(
            "grant_types must include authorization_code",
        ));
    }
    if m.response_types
        .as_ref()
        .is_some_and(|r| r.iter().any(|t| t != "code") || r.is_empty())
    {
        return Err(metadata_error("response_types may only be [\"code\"]"));
    }
    let redirect_uris = m.redirect_uris.unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err(EngineError::oauth(
            C::InvalidRedirectUri,
            "redirect_uris must name at least one URI",
        ));
    }
    check_uris(&redirect_uris)?;
    let post_logout_redirect_uris = m.post_logout_redirect_uris.unwrap_or_default();
    check_uris(&post_logout_redirect_uris)?;
    let method = match m.token_endpoint_auth_method.as_deref() {
        None => EndpointAuthMethod::ClientSecretBasic,
        Some(s) => EndpointAuthMethod::parse(s).ok_or_else(|| {
            metadata_error(format!(
                "token_endpoint_auth_method {s:?} is not supported (client_secret_basic, client_secret_post, private_key_jwt, none)"
            ))
        })?,
    };
    if m.jwks.is_some() && m.jwks_uri.is_some() {
        return Err(metadata_error("give jwks or jwks_uri, not both"));
    }
    if let Some(j) = &m.jwks {
        check_client_jwks(j).map_err(metadata_error)?;
    }
    if let Some(u) = &m.jwks_uri {
        check_uri(u).map_err(|e| metadata_error(format!("jwks_uri {e}")))?;
    }
    // Logout URIs (OIDC Back-/Front-Channel Logout 1.0 §2.2): as redirect URIs are.
    for (what, u) in [
        ("backchannel_logout_uri", &m.backchannel_logout_uri),
        ("frontchannel_logout_uri", &m.frontchannel_logout_uri),
    ] {
        if let Some(u) = u {
            check_uri(u).map_err(|e| metadata_error(format!("{what} {e}")))?;
        }
    }
    if method == EndpointAuthMethod::PrivateKeyJwt && m.jwks.is_none() && m.jwks_uri.is_none() {
        return Err(metadata_error(
            "private_key_jwt needs the client's keys: jwks or jwks_uri",
        ));
    }
    let name = m
        .client_name
        .map(|n| n.trim().to_owned())
        .unwrap_or_else(|| "Registered application".into());
    if name.is_empty() || name.chars().count() > 200 {
        return Err(metadata_error("client_name must be 1-200 characters"));
    }
    Ok(Checked {
        name,
        redirect_uris,
        post_logout_redirect_uris,
        grant_types,
        method,
        jwks: m.jwks,
        jwks_uri: m.jwks_uri,
        require_par: m.require_pushed_authorization_requests.unwrap_or(false),
        backchannel: (
            m.backchannel_logout_uri,
            m.backchannel_logout_session_required.unwrap_or(false),
        ),
        frontchannel: (
            m.frontchannel_logout_uri,
            m.frontchannel_logout_session_required.unwrap_or(false),
        ),
    })
}

fn parse(body: &[u8]) -> EngineResult<Metadata> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| metadata_error("the body must be a JSON object"))?;
    if !v.is_object() {
        return Err(metadata_error("the body must be a JSON object"));
    }
    serde_json::from_value(v)
        .map_err(|e| metadata_error(format!("the metadata does not parse: {e}")))
}

fn uses_secret(m: EndpointAuthMethod) -> bool {
    matches!(
        m,
        EndpointAuthMethod::ClientSecretBasic | EndpointAuthMethod::ClientSecretPost
    )
}

/// Sets the registered metadata on a client (the rest of it is kept).
fn apply(c: &mut Client, k: Checked) {
    c.name = k.name;
    c.redirect_uris = k.redirect_uris;
    c.post_logout_redirect_uris = k.post_logout_redirect_uris;
    c.grant_types = k.grant_types;
    c.token_endpoint_auth_method = Some(k.method);
    c.jwks = k.jwks;
    c.jwks_uri = k.jwks_uri;
    c.require_pushed_authorization_requests = k.require_par;
    (
        c.backchannel_logout_uri,
        c.backchannel_logout_session_required,
    ) = k.backchannel;
    (
        c.frontchannel_logout_uri,
        c.frontchannel_logout_session_required,
    ) = k.frontchannel;
}

fn iat_key(token: &str) -> Hash32 {
    Hash32::of(format!("{IAT_PURPOSE}\0{token}").as_bytes())
}

impl Admin<'_> {
    /// Issues an initial access token for dynamic registration at `tenant`.
    pub async fn issue_initial_access_token(
        &self,
        tenant: &TenantId,
        ask: NewInitialAccessToken,
    ) -> EngineResult<InitialAccessToken> {
        self.tenant(tenant).await?;
        let lifetime = ask.expires_in.unwrap_or(24 * 3600);
        if lifetime == 0 || lifetime > MAX_IAT_LIFETIME {
            return Err(EngineError::Invalid(format!(
                "expires_in must be 1 to {MAX_IAT_LIFETIME} seconds"
            )));
        }
        let max_uses = ask.max_uses.unwrap_or(1);
        if max_uses == 0 || max_uses > MAX_IAT_USES {
            return Err(EngineError::Invalid(format!(
                "max_uses must be 1 to {MAX_IAT_USES}"
            )));
        }
        let token = random_token::<32>();
        let expires_at = self.now() + lifetime;
        self.rt()
            .store
            .put_challenge(&Challenge {
                tenant: tenant.clone(),
                key: iat_key(&token),
                purpose: IAT_PURPOSE.into(),
                user_id: None,
                data: Value::Null,
                tries_left: max_uses,
                expires_at,
            })
            .await?;
        let mut ev = self.event(tenant, "admin.initial_access_token_issued", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("max_uses: {max_uses}, expires_at: {expires_at}"));
        self.record_now(ev).await?;
        Ok(InitialAccessToken {
            token,
            expires_at,
            max_uses,
        })
    }
}

impl OAuth<'_> {
    fn registration(&self, tenant: &TenantId, c: &Client) -> ClientRegistration {
        let method = c
            .token_endpoint_auth_method
            .unwrap_or(if c.secret_hash.is_some() {
                EndpointAuthMethod::ClientSecretBasic
            } else {
                EndpointAuthMethod::None
            });
        ClientRegistration {
            client_id: c.id.to_string(),
            client_secret: None,
            client_secret_expires_at: c.secret_hash.map(|_| 0),
            client_id_issued_at: c.created_at,
            registration_access_token: None,
            registration_client_uri: format!("{}/register/{}", self.issuer(tenant), c.id),
            client_name: c.name.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            grant_types: c.grant_types.iter().map(|g| g.as_str()).collect(),
            response_types: ["code"],
            token_endpoint_auth_method: method.as_str(),
            jwks: c.jwks.clone(),
            jwks_uri: c.jwks_uri.clone(),
            require_pushed_authorization_requests: c.require_pushed_authorization_requests,
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: c.backchannel_logout_session_required,
            frontchannel_logout_uri: c.frontchannel_logout_uri.clone(),
            frontchannel_logout_session_required: c.frontchannel_logout_session_required,
        }
    }

    /// Registers a client (RFC 7591 §3): `bearer` is an initial access token with a use
    /// left; `body` the JSON metadata. The token's use is spent only by a registration
    /// that succeeds.
    pub async fn register_client(
        &self,
        tenant: &TenantId,
        bearer: Option<&str>,
        body: &[u8],
    ) -> EngineResult<ClientRegistration> {
        self.tenant(tenant).await?;
        let token = bearer.filter(|t| !t.is_empty()).ok_or_else(invalid_token)?;
        let key = iat_key(token);
        let now = self.now();
        let live =
            |c: &Challenge| c.purpose == IAT_PURPOSE && c.expires_at > now && c.tries_left > 0;
        match self.rt().store.get_challenge(tenant, &key).await? {
            Some(c) if live(&c) => {}
            _ => return Err(invalid_token()),
        }
        let checked = check(parse(body)?)?;
        match self.rt().store.spend_try(tenant, &key).await? {
            Some(c) if live(&c) => {}
            _ => return Err(invalid_token()),
        }
        let mut client = Client::new(tenant.clone(), ClientId::generate(), String::new(), now);
        let secret = uses_secret(checked.method).then(random_token::<32>);
        client.secret_hash = secret.as_ref().map(|s| Hash32::of(s.as_bytes()));
        apply(&mut client, checked);
        let rat = random_token::<32>();
        client.registration_token_hash = Some(Hash32::of(rat.as_bytes()));
        self.rt().store.create_client(&client).await?;
        let mut ev = self.event(tenant, "client.registered", true);
        ev.client = Some(client.id.to_string());
        self.record_now(ev).await?;
        let mut out = self.registration(tenant, &client);
        out.client_secret = secret;
        out.registration_access_token = Some(rat);
        Ok(out)
    }

    /// The client a registration access token manages (RFC 7592 §2): any mismatch,
    /// including an unknown client, is `invalid_token`.
    async fn managed_client(
        &self,
        tenant: &TenantId,
        client_id: &str,
        bearer: Option<&str>,
    ) -> EngineResult<Client> {
        self.tenant(tenant).await?;
        let token = bearer.filter(|t| !t.is_empty()).ok_or_else(invalid_token)?;
        let id = ClientId::parse(client_id).map_err(|_| invalid_token())?;
        let client = self.client(tenant, &id).await?.ok_or_else(invalid_token)?;
        match &client.registration_token_hash {
            Some(h) if ct_eq(&Hash32::of(token.as_bytes()).0, &h.0) => Ok((*client).clone()),
            _ => Err(invalid_token()),
        }
    }

    /// Reads a registration (RFC 7592 §2.1).
    pub async fn read_registration(
        &self,
        tenant: &TenantId,
        client_id: &str,
        bearer: Option<&str>,
    ) -> EngineResult<ClientRegistration> {
        let c = self.managed_client(tenant, client_id, bearer).await?;
        Ok(self.registration(tenant, &c))
    }

    /// Replaces a registration's metadata (RFC 7592 §2.2): the body names the client and,
    /// if it gives the secret, the right one. A change to a secret method makes a new
    /// secret (returned); a change away from one drops it.
    pub async fn update_registration(
        &self,
        tenant: &TenantId,
        client_id: &str,
        bearer: Option<&str>,
        body: &[u8],
    ) -> EngineResult<ClientRegistration> {
        let mut c = self.managed_client(tenant, client_id, bearer).await?;
        let m = parse(body)?;
        if m.client_id.as_deref() != Some(c.id.as_str()) {
            return Err(EngineError::oauth(
                C::InvalidRequest,
                "the body's client_id must be this client's",
            ));
        }
        if let Some(s) = &m.client_secret {
            let same = c
                .secret_hash
                .is_some_and(|h| ct_eq(&Hash32::of(s.as_bytes()).0, &h.0));
            if !same {
                return Err(metadata_error("client_secret is not this client's"));
            }
        }
        let checked = check(m)?;
        let secret = match (uses_secret(checked.method), c.secret_hash.is_some()) {
            (true, false) => Some(random_token::<32>()),
            (false, true) => {
                c.secret_hash = None;
                None
            }
            _ => None,
        };
        if let Some(s) = &secret {
            c.secret_hash = Some(Hash32::of(s.as_bytes()));
        }
        apply(&mut c, checked);
        if !self.rt().store.update_client(&c).await? {
            return Err(invalid_token());
        }
        self.forget_client(tenant, &c.id);
        let mut ev = self.event(tenant, "client.registration_updated", true);
        ev.client = Some(c.id.to_string());
        self.record_now(ev).await?;
        let mut out = self.registration(tenant, &c);
        out.client_secret = secret;
        Ok(out)
    }

    /// Deletes a registration (RFC 7592 §2.3): the client can no longer authenticate.
    pub async fn delete_registration(
        &self,
        tenant: &TenantId,
        client_id: &str,
        bearer: Option<&str>,
    ) -> EngineResult<()> {
        let c = self.managed_client(tenant, client_id, bearer).await?;
        if !self.rt().store.delete_client(tenant, &c.id).await? {
            return Err(invalid_token());
        }
        self.forget_client(tenant, &c.id);
        let mut ev = self.event(tenant, "client.registration_deleted", true);
        ev.client = Some(c.id.to_string());
        self.record_now(ev).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_http() {
        for ok in [
            "https://app.example/cb",
            "https://app.example:8443/cb?x=1",
            "http://127.0.0.1:9000/cb",
            "http://localhost/cb",
            "http://[::1]/cb",
        ] {
            assert!(check_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "https://user:pw@app.example/cb",
            "com.example.app:/cb",
            "javascript:alert(1)",
            "/relative",
            "",
        ] {
            assert!(check_uri(bad).is_err(), "{bad}");
        }
    }

    fn meta(v: Value) -> EngineResult<Checked> {
        check(parse(v.to_string().as_bytes())?)
    }

    fn code(r: EngineResult<Checked>) -> &'static str {
        match r {
            Err(EngineError::OAuth(o)) => o.code.as_str(),
            Err(e) => panic!("not an OAuth error: {e}"),
            Ok(_) => "ok",
        }
    }

    #[test]
    fn metadata_errors_are_the_rfc_codes() {
        let ok = serde_json::json!({"redirect_uris": ["https://app.example/cb"]});
        let k = meta(ok.clone()).unwrap();
        assert_eq!(k.method, EndpointAuthMethod::ClientSecretBasic);
        assert_eq!(k.grant_types, vec![GrantType::AuthorizationCode]);
        let with = |k: &str, v: Value| {
            let mut m = ok.clone();
            m[k] = v;
            m
        };
        for (m, want) in [
            (serde_json::json!({}), "invalid_redirect_uri"),
            (
                with(
                    "redirect_uris",
                    serde_json::json!(["http://app.example/cb"]),
                ),
                "invalid_redirect_uri",
            ),
            (
                with("redirect_uris", serde_json::json!("https://app.example/cb")),
                "invalid_client_metadata",
            ),
            (
                with("grant_types", serde_json::json!(["client_credentials"])),
                "invalid_client_metadata",
            ),
            (
                with("grant_types", serde_json::json!(["refresh_token"])),
                "invalid_client_metadata",
            ),
            (
                with("response_types", serde_json::json!(["token"])),
                "invalid_client_metadata",
            ),
            (
                with(
                    "token_endpoint_auth_method",
                    serde_json::json!("client_secret_jwt"),
                ),
                "invalid_client_metadata",
            ),
            (
                with(
                    "token_endpoint_auth_method",
                    serde_json::json!("private_key_jwt"),
                ),
                "invalid_client_metadata",
            ),
            (
                with(
                    "jwks",
                    serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
                ),
                "invalid_client_metadata",
            ),
            (
                with("jwks_uri", serde_json::json!("http://keys.example/jwks")),
                "invalid_client_metadata",
            ),
            (
                with("client_name", serde_json::json!("  ")),
                "invalid_client_metadata",
            ),
            (
                with("post_logout_redirect_uris", serde_json::json!(["ftp://x"])),
                "invalid_redirect_uri",
            ),
            (
                with(
                    "backchannel_logout_uri",
                    serde_json::json!("http://app.example/logout"),
                ),
                "invalid_client_metadata",
            ),
            (
                with(
                    "frontchannel_logout_uri",
                    serde_json::json!("https://app.example/logout#x"),
                ),
                "invalid_client_metadata",
            ),
        ] {
            assert_eq!(code(meta(m.clone())), want, "{m}");
        }
        assert_eq!(
            code(parse(b"[1]").map(|_| unreachable!())),
            "invalid_client_metadata"
        );
        // Logout URIs are kept with their session flags.
        let mut logout = with(
            "backchannel_logout_uri",
            serde_json::json!("https://app.example/logout"),
        );
        logout["backchannel_logout_session_required"] = serde_json::json!(true);
        let k = meta(logout).unwrap();
        assert_eq!(
            k.backchannel,
            (Some("https://app.example/logout".to_owned()), true)
        );
        assert_eq!(k.frontchannel, (None, false));
        // Unknown metadata is ignored (RFC 7591 §2).
        assert_eq!(
            code(meta(with("logo_uri", serde_json::json!("https://x/l.png")))),
            "ok"
        );
    }
}
