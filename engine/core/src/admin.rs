//! Administration: tenants, clients, users and key rotation. Every change is an event
//! with actor `admin`.

use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::crypto::random_token;
use crate::engine::Engine;
use crate::error::{EngineError, EngineResult};
use crate::ids::{ClientId, Email, TenantId, UserId};
use crate::model::{Client, GrantType, Hash32, KeyStatus, SigningAlg, Tenant, User, UserRecord};
use crate::runtime::keys;
use crate::store::{Imported, StoreError};

pub mod apis;
pub mod branding;
pub mod breach;
pub mod grievances;
pub mod messaging;
pub mod verification;

/// A new client. Options left out take their defaults (`..Default::default()`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NewClient {
    /// Wanted id; random if absent.
    pub client_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Exact redirect URIs (at least one, unless it has no authorization_code grant).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Exact post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client has no secret (SPAs, mobile apps).
    #[serde(default)]
    pub public: bool,
    /// Skip the consent page.
    #[serde(default)]
    pub first_party: bool,
    /// Refreshes answer without a new ID token: one signature instead of two.
    #[serde(default)]
    pub refresh_without_id_token: bool,
    /// The grants it may use; the browser flow and refreshes when absent.
    #[serde(default)]
    pub grant_types: Option<Vec<crate::model::GrantType>>,
    /// For a machine client (`client_credentials`): API identifier -> the scopes it may
    /// have there.
    #[serde(default)]
    pub api_grants: std::collections::BTreeMap<String, Vec<String>>,
    /// `public` (the default) or `pairwise` subjects (OIDC Core §8).
    #[serde(default)]
    pub subject_type: Option<crate::model::SubjectType>,
    /// The sector of pairwise subjects, when the redirect URIs do not share one host.
    #[serde(default)]
    pub sector_identifier_uri: Option<String>,
    /// For a client with the token-exchange grant: what it may exchange, for which APIs.
    #[serde(default)]
    pub token_exchange: Option<crate::model::TokenExchangePolicy>,
    /// How it authenticates (RFC 7591 §2): `private_key_jwt` needs `jwks` or `jwks_uri`
    /// and gets no secret; by default, its secret (or nothing, if public).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<crate::model::EndpointAuthMethod>,
    /// Its public keys by value (a JWKS document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Where its public keys are published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Its authorization requests must be pushed first (RFC 9126).
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Every token request must carry a DPoP proof (RFC 9449 §5.2): its access tokens
    /// are always DPoP-bound. Optional otherwise.
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// Its DPoP proofs must carry a nonce the server gave (RFC 9449 §8).
    #[serde(default)]
    pub dpop_nonce_required: bool,
    /// Where logout tokens are POSTed when a session it took part in ends (OIDC
    /// Back-Channel Logout 1.0): `https`, or `http` on loopback; no fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Its logout tokens must carry `sid`.
    #[serde(default)]
    pub backchannel_logout_session_required: bool,
    /// The page the end of logout loads in a hidden iframe (OIDC Front-Channel Logout
    /// 1.0): `https`, or `http` on loopback; no fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// That URI gets `iss` and `sid`.
    #[serde(default)]
    pub frontchannel_logout_session_required: bool,
}

/// Checks how a new client authenticates: the method fits `public`, and keys are given,
/// usable and given once (by value or by URL) when it signs with them.
fn check_auth_method(new: &NewClient) -> EngineResult<()> {
    use crate::model::EndpointAuthMethod as M;
    let invalid = |m: String| Err(EngineError::Invalid(m));
    if new.jwks.is_some() && new.jwks_uri.is_some() {
        return invalid("give jwks or jwks_uri, not both".into());
    }
    if let Some(j) = &new.jwks {
        crate::oauth::assertion::check_client_jwks(j).map_err(EngineError::Invalid)?;
    }
    if let Some(u) = &new.jwks_uri {
        crate::federation::check_upstream_url("jwks_uri", u)?;
    }
    match (new.token_endpoint_auth_method, new.public) {
        (Some(M::PrivateKeyJwt), false) if new.jwks.is_none() && new.jwks_uri.is_none() => {
            invalid("private_key_jwt needs the client's keys: jwks or jwks_uri".into())
        }
        (Some(M::None), false) => {
            invalid("token_endpoint_auth_method none is for public clients".into())
        }
        (Some(m), true) if m != M::None => invalid(format!(
            "a public client has no credentials: token_endpoint_auth_method {} needs a confidential one",
            m.as_str()
        )),
        _ => Ok(()),
    }
}

/// A created client; the secret is shown this once and stored only as a hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreatedClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, for confidential clients.
    pub client_secret: Option<String>,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
}

/// A key rotation's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RotatedKeys {
    /// The key that signs from now on.
    pub active_kid: String,
    /// The key published now that will sign after the next rotation.
    pub next_kid: String,
    /// The key that stopped signing; published until its tokens expire.
    pub retired_kid: Option<String>,
}

/// A signing key as operators see it (no key material).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyInfo {
    /// `kid`.
    pub kid: String,
    /// JOSE algorithm.
    pub alg: String,
    /// `Next`, `Active`, `Retired` or `Revoked`.
    pub status: KeyStatus,
    /// Created, Unix seconds.
    pub created_at: u64,
    /// Retired or revoked, Unix seconds.
    pub retired_at: Option<u64>,
}

/// An emergency revocation's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RevokedKey {
    /// The key withdrawn.
    pub revoked_kid: String,
    /// The key that signs now (a different one if the revoked key was signing).
    pub active_kid: String,
}

/// Checks the grants a new client asks for: known, not repeated; `client_credentials`
/// only for a confidential client; API grants only with it, for registered APIs and scopes.
fn check_grants(tenant: &Tenant, new: &NewClient) -> EngineResult<()> {
    let invalid = |m: &str| Err(EngineError::Invalid(m.into()));
    let grants = new.grant_types.clone().unwrap_or_default();
    if new.grant_types.as_ref().is_some_and(Vec::is_empty) {
        return invalid("grant_types must name at least one grant type");
    }
    if grants
        .iter()
        .enumerate()
        .any(|(i, g)| grants[..i].contains(g))
    {
        return invalid("grant_types lists a grant type twice");
    }
    let machine = grants.contains(&GrantType::ClientCredentials);
    if machine && new.public {
        return invalid(
            "client_credentials needs a confidential client: a public client cannot keep a secret",
        );
    }
    if !new.api_grants.is_empty() && !machine {
        return invalid("api_grants are for clients with the client_credentials grant");
    }
    apis::check_api_grants(tenant, &new.api_grants)?;
    crate::oauth::token::exchange::check_policy(
        tenant,
        &grants,
        new.public,
        new.token_exchange.as_ref(),
    )
}

/// Checks a redirect URI: absolute, no fragment; `https`, or `http` on a loopback host,
/// or a private-use scheme for native apps (RFC 8252 §7.1).
pub fn check_redirect_uri(uri: &str) -> EngineResult<()> {
    let bad = |why: &str| Err(EngineError::Invalid(format!("redirect URI {uri:?} {why}")));
    let Ok(u) = url::Url::parse(uri) else {
        return bad("is not an absolute URI");
    };
    if u.fragment().is_some() {
        return bad("must not have a fragment");
    }
    match u.scheme() {
        "https" => Ok(()),
        "http" => match u.host_str() {
            Some("localhost" | "127.0.0.1" | "[::1]") => Ok(()),
            _ => bad("must use https (http is allowed only for loopback)"),
        },
        s if s.contains('.') => Ok(()),
        _ => bad("must use https, loopback http, or a reverse-domain private scheme"),
    }
}

impl Admin<'_> {
    /// Creates a tenant with an active and a next signing key, in this node's first
    /// residency region.
    pub async fn create_tenant(
        &self,
        id: &str,
        display_name: &str,
        alg: SigningAlg,
    ) -> EngineResult<Tenant> {
        let region = self
            .rt()
            .config
            .regions
            .first()
            .cloned()
            .unwrap_or_default();
        self.create_tenant_in(id, display_name, alg, &region).await
    }

    /// Creates a tenant whose data is kept in `region` (one this node serves).
    pub async fn create_tenant_in(
        &self,
        id: &str,
        display_name: &str,
        alg: SigningAlg,
        region: &str,
    ) -> EngineResult<Tenant> {
        let id = TenantId::parse(id)?;
        self.check_region(region)?;
        let now = self.now();
        let mut tenant = Tenant::new(id.clone(), display_name.to_owned(), now);
        tenant.signing_alg = alg;
        tenant.region = region.to_owned();
        let active = keys::generate(&id, alg, KeyStatus::Active, now, &self.rt().master)?;
        let next = keys::generate(&id, alg, KeyStatus::Next, now, &self.rt().master)?;
        // Keys first: a tenant that exists always has keys.
        self.rt().store.put_keys(&[active, next]).await?;
        self.rt()
            .store
            .create_tenant(&tenant)
            .await
            .map_err(|e| match e {
                StoreError::Conflict => EngineError::Conflict("tenant"),
                e => EngineError::from(e),
            })?;
        let mut ev = self.event(&id, "admin.tenant_created", true);
        ev.actor = Some("admin".into());
        self.record_now(ev).await?;
        Ok(tenant)
    }

    fn check_region(&self, region: &str) -> EngineResult<()> {
        if !crate::model::valid_region(region) {
            return Err(EngineError::Invalid(format!(
                "region {region:?} must be lowercase letters, digits and _, starting with a letter"
            )));
        }
        if !self.rt().config.regions.iter().any(|r| r == region) {
            return Err(EngineError::Invalid(format!(
                "region {region} is not configured on this deployment (configured: {})",
                self.rt().config.regions.join(", ")
            )));
        }
        Ok(())
    }

    /// Moves a tenant's data to another residency region: an explicit operation, recorded
    /// in the audit trail with where it moved from and to.
    pub async fn move_tenant(&self, id: &TenantId, region: &str) -> EngineResult<Tenant> {
        self.check_region(region)?;
        let before = self.tenant_anywhere(id).await?;
        let moved = self
            .rt()
            .store
            .move_tenant(id, region)
            .await?
            .ok_or(EngineError::NotFound("tenant"))?;
        self.forget_tenant(id);
        let mut ev = self.event(id, "admin.tenant_moved", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("from {} to {}", before.region, moved.region));
        self.record_now(ev).await?;
        Ok(moved)
    }

    /// Sets whether every DPoP proof at the tenant must carry a server nonce (RFC 9449 §8).
    pub async fn set_dpop_nonce_required(
        &self,
        id: &TenantId,
        required: bool,
    ) -> EngineResult<Tenant> {
        // A compare-and-set on the stored record: a concurrent change to the tenant
        // (its branding, APIs, policies) is kept, not overwritten with a cached copy.
        self.change_tenant(
            id,
            "admin.dpop_policy",
            format!("nonce_required: {required}"),
            |t| {
                t.dpop_nonce_required = required;
                Ok(())
            },
        )
        .await
    }

    /// Sets a tenant's multi-factor policy.
    pub async fn set_mfa_policy(
        &self,
        id: &TenantId,
        policy: crate::model::MfaPolicy,
    ) -> EngineResult<Tenant> {
        use crate::model::{FactorKind, MfaMode};
        if policy.mode == MfaMode::Required
            && !policy
                .factors
                .iter()
                .any(|k| matches!(k, FactorKind::Totp | FactorKind::Passkey))
        {
            return Err(EngineError::Invalid(
                "a required second factor needs totp or passkey among the allowed factors (users enrol one of them at sign-in)".into(),
            ));
        }
        let detail = format!(
            "{:?}: {}",
            policy.mode,
            policy
                .factors
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(",")
        );
        self.change_tenant(id, "admin.mfa_policy", detail, |t| {
            t.mfa = policy.clone();
            Ok(())
        })
        .await
    }

    /// All tenants.
    pub async fn list_tenants(&self) -> EngineResult<Vec<Tenant>> {
        self.rt()
            .store
            .list_tenants()
            .await
            .map_err(EngineError::from)
    }

    /// Creates a client. A confidential client's secret is 256 random bits, returned once.
    pub async fn create_client(
        &self,
        tenant: &TenantId,
        new: NewClient,
    ) -> EngineResult<CreatedClient> {
        let t = self.tenant(tenant).await?;
        let id = match &new.client_id {
            Some(id) => ClientId::parse(id)?,
            None => ClientId::generate(),
        };
        if new.name.trim().is_empty() || new.name.len() > 200 {
            return Err(EngineError::Invalid(
                "client name must be 1-200 characters".into(),
            ));
        }
        check_grants(&t, &new)?;
        check_auth_method(&new)?;
        let browser = new
            .grant_types
            .as_ref()
            .is_none_or(|g| g.contains(&GrantType::AuthorizationCode));
        if browser && new.redirect_uris.is_empty() {
            return Err(EngineError::Invalid(
                "a client needs at least one redirect URI".into(),
            ));
        }
        for u in new
            .redirect_uris
            .iter()
            .chain(&new.post_logout_redirect_uris)
        {
            check_redirect_uri(u)?;
        }
        let signs =
            new.token_endpoint_auth_method == Some(crate::model::EndpointAuthMethod::PrivateKeyJwt);
        let secret = (!new.public && !signs).then(random_token::<32>);
        self.create_client_with_secret(tenant, id, new, secret)
            .await
    }

    pub(crate) async fn create_client_with_secret(
        &self,
        tenant: &TenantId,
        id: ClientId,
        new: NewClient,
        secret: Option<String>,
    ) -> EngineResult<CreatedClient> {
        let mut client = Client::new(
            tenant.clone(),
            id.clone(),
            new.name.trim().to_owned(),
            self.now(),
        );
        client.secret_hash = secret.as_ref().map(|s| Hash32::of(s.as_bytes()));
        client.redirect_uris = new.redirect_uris.clone();
        client.post_logout_redirect_uris = new.post_logout_redirect_uris;
        client.first_party = new.first_party;
        client.refresh_without_id_token = new.refresh_without_id_token;
        if let Some(grants) = &new.grant_types {
            client.grant_types = grants.clone();
        }
        client.api_grants = new.api_grants.clone();
        client.subject_type = new.subject_type.unwrap_or_default();
        if let Some(policy) = &new.token_exchange {
            client.token_exchange = policy.clone();
        }
        client.sector = crate::oauth::pairwise::sector_for(
            client.subject_type,
            new.sector_identifier_uri.as_deref(),
            &new.redirect_uris,
        )?;
        if client.sector.is_some()
            && let Some(uri) = &new.sector_identifier_uri
        {
            crate::oauth::pairwise::check_sector_document(self, uri, &new.redirect_uris).await?;
        }
        client.token_endpoint_auth_method = new.token_endpoint_auth_method;
        client.jwks = new.jwks.clone();
        client.jwks_uri = new.jwks_uri.clone();
        client.require_pushed_authorization_requests = new.require_pushed_authorization_requests;
        client.dpop_bound_access_tokens = new.dpop_bound_access_tokens;
        client.dpop_nonce_required = new.dpop_nonce_required;
        for (name, uri) in [
            ("backchannel_logout_uri", &new.backchannel_logout_uri),
            ("frontchannel_logout_uri", &new.frontchannel_logout_uri),
        ] {
            if let Some(u) = uri {
                crate::oauth::backchannel::check_logout_uri(u)
                    .map_err(|why| EngineError::Invalid(format!("{name} {u:?} {why}")))?;
            }
        }
        client.backchannel_logout_uri = new.backchannel_logout_uri;
        client.backchannel_logout_session_required = new.backchannel_logout_session_required;
        client.frontchannel_logout_uri = new.frontchannel_logout_uri;
        client.frontchannel_logout_session_required = new.frontchannel_logout_session_required;
        self.rt()
            .store
            .create_client(&client)
            .await
            .map_err(|e| match e {
                StoreError::Conflict => EngineError::Conflict("client"),
                e => EngineError::from(e),
            })?;
        let mut ev = self.event(tenant, "admin.client_created", true);
        ev.actor = Some("admin".into());
        ev.client = Some(id.to_string());
        self.record_now(ev).await?;
        Ok(CreatedClient {
            client_id: id.to_string(),
            client_secret: secret,
            redirect_uris: new.redirect_uris,
        })
    }

    /// The tenant's clients (secrets are never returned).
    pub async fn list_clients(&self, tenant: &TenantId) -> EngineResult<Vec<Client>> {
        self.tenant(tenant).await?;
        self.rt()
            .store
            .list_clients(tenant)
            .await
            .map_err(EngineError::from)
    }

    /// Creates a user with a password.
    pub async fn create_user(
        &self,
        tenant: &TenantId,
        email: &str,
        password: &str,
        name: Option<String>,
        email_verified: bool,
    ) -> EngineResult<User> {
        self.signin()
            .create_password_user(tenant, email, password, name, email_verified)
            .await
    }

    /// Rotates the tenant's keys: next becomes active, active is retired (still published
    /// until its tokens expire), and a new next key is published.
    pub async fn rotate_keys(&self, tenant: &TenantId) -> EngineResult<RotatedKeys> {
        let mut keys = self.rt().store.list_keys(tenant).await?;
        let (rotated, changed) = self
            .rotate_in(tenant, &mut keys, KeyStatus::Retired)
            .await?;
        self.rt().store.put_keys(&changed).await?;
        self.reload_keyring(tenant).await?;
        let mut ev = self.event(tenant, "admin.keys_rotated", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("active={}", rotated.active_kid));
        self.record_now(ev).await?;
        Ok(rotated)
    }

    /// Retires (or revokes) the active key, promotes the next one and publishes a new next
    /// key; returns what changed.
    async fn rotate_in(
        &self,
        tenant: &TenantId,
        keys: &mut [crate::model::StoredKey],
        outgoing: KeyStatus,
    ) -> EngineResult<(RotatedKeys, Vec<crate::model::StoredKey>)> {
        let t = self.tenant(tenant).await?;
        let now = self.now();
        let mut changed = Vec::new();
        let mut retired_kid = None;
        for k in keys.iter_mut().filter(|k| k.status == KeyStatus::Active) {
            k.status = outgoing;
            k.retired_at = Some(now);
            retired_kid = Some(k.kid.to_string());
            changed.push(k.clone());
        }
        let active = match keys.iter_mut().find(|k| k.status == KeyStatus::Next) {
            Some(k) => {
                k.status = KeyStatus::Active;
                k.clone()
            }
            None => keys::generate(
                tenant,
                t.signing_alg,
                KeyStatus::Active,
                now,
                &self.rt().master,
            )?,
        };
        let next = keys::generate(
            tenant,
            t.signing_alg,
            KeyStatus::Next,
            now,
            &self.rt().master,
        )?;
        changed.push(active.clone());
        changed.push(next.clone());
        let rotated = RotatedKeys {
            active_kid: active.kid.to_string(),
            next_kid: next.kid.to_string(),
            retired_kid,
        };
        Ok((rotated, changed))
    }

    /// The tenant's signing keys, newest first, without key material.
    pub async fn list_keys(&self, tenant: &TenantId) -> EngineResult<Vec<KeyInfo>> {
        self.tenant(tenant).await?;
        let mut keys = self.rt().store.list_keys(tenant).await?;
        keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
        Ok(keys
            .into_iter()
            .map(|k| KeyInfo {
                kid: k.kid.to_string(),
                alg: k.alg.as_str().to_owned(),
                status: k.status,
                created_at: k.created_at,
                retired_at: k.retired_at,
            })
            .collect())
    }

    /// Withdraws a key at once (it leaked): it leaves JWKS and stops verifying here now
    /// and on every other node within `key_check_secs`, so every token it signed is
    /// refused. A signing key is replaced by the next one; a next key by a new one.
    /// Revoking a revoked key changes nothing.
    pub async fn revoke_key(&self, tenant: &TenantId, kid: &str) -> EngineResult<RevokedKey> {
        let t = self.tenant(tenant).await?;
        let mut keys = self.rt().store.list_keys(tenant).await?;
        let now = self.now();
        let status = keys
            .iter()
            .find(|k| k.kid.as_str() == kid)
            .map(|k| k.status)
            .ok_or(EngineError::NotFound("key"))?;
        let mut changed = Vec::new();
        match status {
            KeyStatus::Revoked => {}
            KeyStatus::Active => {
                changed = self
                    .rotate_in(tenant, &mut keys, KeyStatus::Revoked)
                    .await?
                    .1;
            }
            KeyStatus::Next | KeyStatus::Retired => {
                for k in keys.iter_mut().filter(|k| k.kid.as_str() == kid) {
                    k.status = KeyStatus::Revoked;
                    k.retired_at = Some(now);
                    changed.push(k.clone());
                }
                if status == KeyStatus::Next {
                    let next = keys::generate(
                        tenant,
                        t.signing_alg,
                        KeyStatus::Next,
                        now,
                        &self.rt().master,
                    )?;
                    changed.push(next);
                }
            }
        }
        if !changed.is_empty() {
            self.rt().store.put_keys(&changed).await?;
        }
        let ring = self.reload_keyring(tenant).await?;
        if status != KeyStatus::Revoked {
            let mut ev = self.event(tenant, "admin.key_revoked", true);
            ev.actor = Some("admin".into());
            ev.detail = Some(format!("kid={kid}"));
            self.record_now(ev).await?;
        }
        Ok(RevokedKey {
            revoked_kid: kid.to_owned(),
            active_kid: ring.active.kid().to_string(),
        })
    }

    /// A tenant's audit events matching `q`, newest first (at most 1,000 per call).
    pub async fn query_events(
        &self,
        tenant: &TenantId,
        mut q: crate::store::EventQuery,
    ) -> EngineResult<Vec<crate::model::Event>> {
        self.tenant(tenant).await?;
        q.limit = q.limit.clamp(1, 1000);
        let mut events = self.rt().store.query_events(tenant, &q).await?;
        self.open_events(&mut events).await?;
        Ok(events)
    }

    /// The newest audit events of a tenant.
    pub async fn recent_events(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> EngineResult<Vec<crate::model::Event>> {
        self.tenant(tenant).await?;
        let mut events = self
            .rt()
            .store
            .recent_events(tenant, limit.min(1000))
            .await?;
        self.open_events(&mut events).await?;
        Ok(events)
    }
}

/// What the demo set-up created (development mode only).
#[derive(Clone, Debug)]
pub struct Demo {
    /// The demo tenant.
    pub tenant: TenantId,
    /// Issuer URL.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret (derived from the master key, so it is the same at every start).
    pub client_secret: String,
    /// Redirect URI.
    pub redirect_uri: String,
    /// Demo user's email.
    pub username: String,
    /// Demo user's password (derived from the master key).
    pub password: String,
    /// The demo machine client (`client_credentials`).
    pub m2m_client_id: String,
    /// Its secret (derived from the master key).
    pub m2m_client_secret: String,
    /// The demo API it may call: the `resource` to ask for.
    pub api: String,
}

/// The demo API's identifier (`.example` is reserved: it names nothing real).
pub const DEMO_API: &str = "https://api.demo.example/";

impl Admin<'_> {
    /// Ensures the demo tenant, client and user exist. Their secrets are derived from the
    /// master key, so nothing secret is stored in the clear and each start prints the same.
    pub async fn ensure_demo(&self) -> EngineResult<Demo> {
        let tenant = TenantId::parse("demo")?;
        let derive = |label: &str| crate::crypto::b64(&self.rt().master.derive(label)[..18]);
        let client_secret = derive("tollgate demo client secret");
        let password = derive("tollgate demo user password");
        let redirect_uri = format!("{}/demo/callback", self.rt().config.public_url);
        match self.create_tenant("demo", "Demo", SigningAlg::RS256).await {
            Ok(_) | Err(EngineError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        let client = NewClient {
            client_id: Some("demo-app".into()),
            name: "Demo app".into(),
            redirect_uris: vec![redirect_uri.clone()],
            post_logout_redirect_uris: vec![format!(
                "{}/demo/signed-out",
                self.rt().config.public_url
            )],
            ..Default::default()
        };
        match self
            .create_client_with_secret(
                &tenant,
                ClientId::parse("demo-app")?,
                client.clone(),
                Some(client_secret.clone()),
            )
            .await
        {
            Ok(_) => {}
            Err(EngineError::Conflict(_)) => {
                // Started again on another address (a new port, or the demo now served as
                // localhost): the demo app's redirect URIs follow, or its sign-in fails.
                let id = ClientId::parse("demo-app")?;
                if let Some(mut stored) = self.rt().store.get_client(&tenant, &id).await?
                    && stored.redirect_uris != client.redirect_uris
                {
                    stored.redirect_uris = client.redirect_uris;
                    stored.post_logout_redirect_uris = client.post_logout_redirect_uris;
                    self.rt().store.update_client(&stored).await?;
                    self.forget_client(&tenant, &id);
                }
            }
            Err(e) => return Err(e),
        }
        let m2m_client_secret = derive("tollgate demo machine client secret");
        let api = apis::NewApi {
            identifier: DEMO_API.into(),
            name: "Demo API".into(),
            scopes: vec!["read:things".into(), "write:things".into()],
            access_token_ttl: None,
        };
        match self.create_api(&tenant, api).await {
            Ok(_) | Err(EngineError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        let machine = NewClient {
            client_id: Some("demo-m2m".into()),
            name: "Demo machine client".into(),
            grant_types: Some(vec![GrantType::ClientCredentials]),
            api_grants: [(
                DEMO_API.to_owned(),
                vec!["read:things".to_owned(), "write:things".to_owned()],
            )]
            .into(),
            ..Default::default()
        };
        match self
            .create_client_with_secret(
                &tenant,
                ClientId::parse("demo-m2m")?,
                machine,
                Some(m2m_client_secret.clone()),
            )
            .await
        {
            Ok(_) | Err(EngineError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        match self
            .create_user(
                &tenant,
                "demo@example.com",
                &password,
                Some("Demo User".into()),
                true,
            )
            .await
        {
            Ok(_) | Err(EngineError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        Ok(Demo {
            issuer: self.issuer(&tenant),
            tenant: tenant.clone(),
            client_id: "demo-app".into(),
            client_secret,
            redirect_uri,
            username: "demo@example.com".into(),
            password,
            m2m_client_id: "demo-m2m".into(),
            m2m_client_secret,
            api: DEMO_API.into(),
        })
    }
}

/// One user of an import: the password comes as an existing argon2id hash (PHC string),
/// as exported by another identity provider or prepared by a load-test seeder.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportUser {
    /// Login email.
    pub email: String,
    /// Argon2id PHC string, e.g. `$argon2id$v=19$m=19456,t=2,p=1$…$…`.
    pub password_hash: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the email was verified at the source.
    #[serde(default)]
    pub email_verified: bool,
}

/// What an import did.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    /// Users created.
    pub created: usize,
    /// Users skipped because their email already exists (or repeats within the import).
    pub existing: usize,
    /// Users the store could not write (or did not say it wrote): their positions in the
    /// import and why. Run the same import again: the users it created count as existing
    /// then, and these are tried again.
    pub failed: Vec<ImportFailure>,
}

/// One user an import could not settle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFailure {
    /// Its position in the import (from 0).
    pub index: usize,
    /// What went wrong.
    pub reason: String,
}

/// Most users in one import request.
pub const MAX_IMPORT: usize = 10_000;

impl Admin<'_> {
    /// Imports users with existing password hashes, atomically per request: every entry
    /// is checked first, and one bad entry rejects the whole request with its position.
    pub async fn import_users(
        &self,
        tenant: &TenantId,
        users: Vec<ImportUser>,
    ) -> EngineResult<ImportReport> {
        self.tenant(tenant).await?;
        if users.len() > MAX_IMPORT {
            return Err(EngineError::Invalid(format!(
                "at most {MAX_IMPORT} users per import"
            )));
        }
        let now = self.now();
        let mut records = Vec::with_capacity(users.len());
        for (i, u) in users.into_iter().enumerate() {
            let email = Email::parse(&u.email)
                .map_err(|_| EngineError::Invalid(format!("user {i}: invalid email")))?;
            let argon2id = argon2::PasswordHash::new(&u.password_hash)
                .is_ok_and(|h| h.algorithm.as_str() == "argon2id");
            if !argon2id {
                return Err(EngineError::Invalid(format!(
                    "user {i}: password_hash must be an argon2id PHC string"
                )));
            }
            records.push(User {
                tenant: tenant.clone(),
                id: UserId::generate(),
                email,
                email_verified: u.email_verified,
                name: u
                    .name
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty()),
                password_hash: Some(u.password_hash),
                created_at: now,
                profile: Default::default(),
                deleted_at: None,
            });
        }
        // Each user gets its data key first; keys of users that turn out to exist already
        // are destroyed after.
        let mut sealed = Vec::with_capacity(records.len());
        for u in &records {
            let (key, wrapped) = self.new_data_key(tenant, &u.id);
            sealed.push((self.seal_user(u, &key), wrapped));
        }
        let store = &self.rt().store;
        futures::stream::iter(
            sealed
                .iter()
                .map(|(r, w)| store.put_user_key(tenant, &r.id, w)),
        )
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await?;
        let sealed: Vec<UserRecord> = sealed.into_iter().map(|(r, _)| r).collect();
        let outcomes = store.create_users(&sealed).await?;
        // A taken user's fresh data key opens nothing: destroy it. A failed one's is kept,
        // as that user may have been written after all.
        for (r, _) in sealed
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| **o == Imported::Taken)
        {
            self.shred(tenant, &r.id).await?;
        }
        // Each created account's dormancy clock starts at its import.
        futures::stream::iter(
            sealed
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| **o == Imported::Created)
                .map(|(r, _)| store.touch_activity(tenant, &r.id, now)),
        )
        .buffer_unordered(64)
        .try_collect::<Vec<()>>()
        .await?;
        let report = ImportReport {
            created: outcomes.iter().filter(|o| **o == Imported::Created).count(),
            existing: outcomes.iter().filter(|o| **o == Imported::Taken).count(),
            failed: outcomes
                .iter()
                .enumerate()
                .filter_map(|(index, o)| match o {
                    Imported::Failed(reason) => Some(ImportFailure {
                        index,
                        reason: reason.clone(),
                    }),
                    _ => None,
                })
                .collect(),
        };
        let mut ev = self.event(tenant, "admin.users_imported", report.failed.is_empty());
        ev.actor = Some("admin".into());
        ev.detail = Some(format!(
            "created={} existing={} failed={}",
            report.created,
            report.existing,
            report.failed.len()
        ));
        self.record_now(ev).await?;
        Ok(report)
    }
}

impl Admin<'_> {
    /// Signs a user out of every session and revokes every refresh chain (a breach
    /// response): each app they were signed in to gets a back-channel logout token.
    /// Returns how many sessions and chains ended; `NotFound` for an unknown user.
    pub async fn sign_out_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
        meta: &crate::engine::RequestMeta,
    ) -> EngineResult<(usize, usize)> {
        self.tenant(tenant).await?;
        if self.rt().store.get_user(tenant, user).await?.is_none() {
            return Err(EngineError::NotFound("user"));
        }
        let (sessions, chains) = self
            .signin()
            .sign_out_everywhere(tenant, user, meta)
            .await?;
        let mut ev = self.event(tenant, "admin.user_signed_out", true);
        ev.actor = Some("admin".into());
        ev.subject = Some(user.to_string());
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("sessions={sessions} chains={chains}"));
        self.record_now(ev).await?;
        Ok((sessions, chains))
    }
}

/// The administration area of the engine.
#[derive(Clone, Copy)]
pub struct Admin<'e>(&'e Engine);

impl std::ops::Deref for Admin<'_> {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        self.0
    }
}

impl Engine {
    /// Administration: tenants, clients, users, keys, the audit trail, imports.
    pub fn admin(&self) -> Admin<'_> {
        Admin(self)
    }
}
