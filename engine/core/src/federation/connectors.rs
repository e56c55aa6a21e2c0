//! Connectors: presets, the admin document, validation, and sealed client secrets.

use super::Federation;
use crate::model::federation::valid_connector_id;
pub use crate::runtime::outbound::check_upstream_url;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

use super::upstream::apple_client_secret;
use crate::crypto::{MasterKey, b64, b64_decode};
use crate::error::{EngineError, EngineResult};
use crate::ids::TenantId;
use crate::model::federation::{
    AppleSigning, ClaimMapping, Connector, MappingInput, Protocol, TokenAuth,
};

/// The presets a connector can start from.
pub const PRESETS: [&str; 9] = [
    "oidc",
    "oauth2",
    "google",
    "microsoft",
    "apple",
    "github",
    "linkedin",
    "digilocker",
    "truecaller",
];

/// The admin API's connector document (`PUT /admin/v1/tenants/{t}/connectors/{id}`).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectorInput {
    /// One of [`PRESETS`]; `oidc` if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Button text; the preset's name if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `false` hides the button and refuses sign-ins; `true` if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Our client id at the upstream.
    pub client_id: String,
    /// The client secret (Apple: the `.p8` private key, PEM). Absent on an update: kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// OIDC issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Authorization endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// Token endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// Userinfo endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    /// GitHub-shaped email list endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails_endpoint: Option<String>,
    /// Scopes; the preset's if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Mapping changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<MappingInput>,
    /// Link to an existing account by verified email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_by_email: Option<bool>,
    /// Keep upstream tokens (sealed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_tokens: Option<bool>,
    /// Token endpoint authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_auth: Option<TokenAuth>,
    /// Apple team id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apple_team_id: Option<String>,
    /// Apple key id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apple_key_id: Option<String>,
}

impl fmt::Debug for ConnectorInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectorInput")
            .field("preset", &self.preset)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<hidden>"),
            )
            .finish_non_exhaustive()
    }
}

pub(super) struct Preset {
    pub(super) name: &'static str,
    pub(super) display: &'static str,
    pub(super) protocol: Protocol,
    pub(super) issuer: Option<&'static str>,
    pub(super) authorization: Option<&'static str>,
    pub(super) token: Option<&'static str>,
    pub(super) userinfo: Option<&'static str>,
    pub(super) emails: Option<&'static str>,
    pub(super) scopes: &'static [&'static str],
    pub(super) mapping: ClaimMapping,
    pub(super) response_mode: Option<&'static str>,
}

pub(super) fn preset(name: &str) -> Option<Preset> {
    let oidc = |display, issuer, scopes: &'static [&'static str]| Preset {
        name: "",
        display,
        protocol: Protocol::Oidc,
        issuer,
        authorization: None,
        token: None,
        userinfo: None,
        emails: None,
        scopes,
        mapping: ClaimMapping::default(),
        response_mode: None,
    };
    const OIDC_SCOPES: &[&str] = &["openid", "email", "profile"];
    let mut p = match name {
        "oidc" => oidc("OpenID Connect", None, OIDC_SCOPES),
        "google" => oidc("Google", Some("https://accounts.google.com"), OIDC_SCOPES),
        "microsoft" => {
            let mut p = oidc(
                "Microsoft",
                Some("https://login.microsoftonline.com/common/v2.0"),
                OIDC_SCOPES,
            );
            // Microsoft does not say whether it verified an address: never link by it.
            p.mapping.email_verified = None;
            p.mapping.picture = None;
            p
        }
        "apple" => {
            let mut p = oidc(
                "Apple",
                Some("https://appleid.apple.com"),
                &["openid", "email", "name"],
            );
            // Apple sends name and email only with form_post.
            p.response_mode = Some("form_post");
            p.mapping.picture = None;
            p.mapping.locale = None;
            p.mapping.name = None;
            p
        }
        "linkedin" => oidc(
            "LinkedIn",
            Some("https://www.linkedin.com/oauth"),
            OIDC_SCOPES,
        ),
        "oauth2" => Preset {
            name: "",
            display: "OAuth 2.0",
            protocol: Protocol::Oauth2,
            issuer: None,
            authorization: None,
            token: None,
            userinfo: None,
            emails: None,
            scopes: &[],
            mapping: ClaimMapping {
                subject: "id".into(),
                ..ClaimMapping::default()
            },
            response_mode: None,
        },
        "github" => Preset {
            name: "",
            display: "GitHub",
            protocol: Protocol::Oauth2,
            issuer: None,
            authorization: Some("https://github.com/login/oauth/authorize"),
            token: Some("https://github.com/login/oauth/access_token"),
            userinfo: Some("https://api.github.com/user"),
            emails: Some("https://api.github.com/user/emails"),
            scopes: &["read:user", "user:email"],
            mapping: ClaimMapping {
                subject: "id".into(),
                // The address comes, with its verification, from /user/emails.
                email: None,
                email_verified: None,
                name: Some("name".into()),
                picture: Some("avatar_url".into()),
                locale: None,
                groups: None,
                keep: Vec::new(),
            },
            response_mode: None,
        },
        "digilocker" => Preset {
            name: "",
            display: "DigiLocker",
            protocol: Protocol::Oauth2,
            issuer: None,
            authorization: Some("https://digilocker.meripehchaan.gov.in/public/oauth2/1/authorize"),
            token: Some("https://digilocker.meripehchaan.gov.in/public/oauth2/1/token"),
            userinfo: Some("https://digilocker.meripehchaan.gov.in/public/oauth2/1/user"),
            emails: None,
            scopes: &[],
            // The name is the one DigiLocker verified against Aadhaar; other identifiers
            // (dob, gender, eaadhaar, reference_key...) are kept only if the tenant lists
            // them in `keep`.
            mapping: ClaimMapping {
                subject: "digilockerid".into(),
                email: None,
                email_verified: None,
                name: Some("name".into()),
                picture: None,
                locale: None,
                groups: None,
                keep: Vec::new(),
            },
            response_mode: None,
        },
        // Truecaller's OAuth 2.0 + PKCE flow, as its OAuth SDK pages document it
        // (docs.truecaller.com, "Integrating with your Backend": token and userinfo at
        // oauth-account-noneu.truecaller.com/v1/…, a public client: client_id and the
        // PKCE verifier, no secret; scopes openid, profile, phone, email, address,
        // offline_access). The authorization endpoint (`/v1/auth`) is not on those pages
        // (the SDK opens it); it is what Truecaller's discovery document is reported to
        // name, unconfirmed here: set `authorization_endpoint` if yours differs.
        // Userinfo's `phone_number` (verified) becomes a Phone factor
        // (`federation/truecaller.rs`); its email is the user's own word, never a link.
        "truecaller" => Preset {
            name: "",
            display: "Truecaller",
            protocol: Protocol::Oauth2,
            issuer: None,
            authorization: Some("https://oauth-account-noneu.truecaller.com/v1/auth"),
            token: Some("https://oauth-account-noneu.truecaller.com/v1/token"),
            userinfo: Some("https://oauth-account-noneu.truecaller.com/v1/userinfo"),
            emails: None,
            scopes: &["openid", "profile", "phone"],
            mapping: ClaimMapping {
                subject: "sub".into(),
                email: None,
                email_verified: None,
                name: Some("given_name".into()),
                picture: Some("picture".into()),
                locale: None,
                groups: None,
                keep: vec![
                    "phone_number".into(),
                    "phone_number_verified".into(),
                    "phone_number_country_code".into(),
                ],
            },
            response_mode: None,
        },
        _ => return None,
    };
    p.name = PRESETS.iter().copied().find(|n| *n == name)?;
    Some(p)
}

impl Federation<'_> {
    pub(super) fn secrets_key(&self) -> MasterKey {
        MasterKey::from_bytes(self.rt().master.derive("tollgate federation secrets v1"))
    }

    // ---- Administration ----------------------------------------------------------------

    /// Creates or replaces a connector. On a replacement without `client_secret`, the
    /// stored secret is kept.
    pub async fn put_connector(
        &self,
        tenant: &TenantId,
        id: &str,
        input: ConnectorInput,
    ) -> EngineResult<Connector> {
        self.tenant(tenant).await?;
        if !valid_connector_id(id) {
            return Err(EngineError::Invalid(
                "connector id must be 1-40 characters of a-z, 0-9 and '-'".into(),
            ));
        }
        let preset_name = input.preset.as_deref().unwrap_or("oidc");
        let p = preset(preset_name).ok_or_else(|| {
            EngineError::Invalid(format!(
                "unknown preset {preset_name:?}; one of: {}",
                PRESETS.join(", ")
            ))
        })?;
        let client_id = input.client_id.trim().to_owned();
        if client_id.is_empty() || client_id.len() > 512 {
            return Err(EngineError::Invalid(
                "client_id (our client id at the upstream) is required".into(),
            ));
        }
        let old = self.rt().store.get_connector(tenant, id).await?;
        let pick = |given: Option<String>, default: Option<&str>| {
            given
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .or(default.map(str::to_owned))
        };
        let issuer = pick(input.issuer, p.issuer).map(|s| s.trim_end_matches('/').to_owned());
        let authorization_endpoint = pick(input.authorization_endpoint, p.authorization);
        let token_endpoint = pick(input.token_endpoint, p.token);
        let userinfo_endpoint = pick(input.userinfo_endpoint, p.userinfo);
        let emails_endpoint = pick(input.emails_endpoint, p.emails);
        for (what, u) in [
            ("issuer", &issuer),
            ("authorization_endpoint", &authorization_endpoint),
            ("token_endpoint", &token_endpoint),
            ("userinfo_endpoint", &userinfo_endpoint),
            ("emails_endpoint", &emails_endpoint),
        ] {
            if let Some(u) = u {
                check_upstream_url(what, u)?;
            }
        }
        match p.protocol {
            Protocol::Oidc if issuer.is_none() => {
                return Err(EngineError::Invalid(
                    "an OpenID Connect connector needs issuer (its discovery document is at {issuer}/.well-known/openid-configuration)".into(),
                ));
            }
            Protocol::Oauth2
                if authorization_endpoint.is_none()
                    || token_endpoint.is_none()
                    || (userinfo_endpoint.is_none() && emails_endpoint.is_none()) =>
            {
                return Err(EngineError::Invalid(
                    "an OAuth 2.0 connector needs authorization_endpoint, token_endpoint and userinfo_endpoint".into(),
                ));
            }
            _ => {}
        }
        let mut mapping = p.mapping.clone();
        if let Some(m) = input.mapping {
            let set = |slot: &mut Option<String>, v: Option<String>| {
                if let Some(v) = v {
                    *slot = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
                }
            };
            if let Some(s) = m.subject.filter(|s| !s.trim().is_empty()) {
                mapping.subject = s.trim().to_owned();
            }
            set(&mut mapping.email, m.email);
            set(&mut mapping.email_verified, m.email_verified);
            set(&mut mapping.name, m.name);
            set(&mut mapping.picture, m.picture);
            set(&mut mapping.locale, m.locale);
            set(&mut mapping.groups, m.groups);
            if let Some(k) = m.keep {
                mapping.keep = k.into_iter().filter(|k| !k.trim().is_empty()).collect();
            }
        }
        if mapping.keep.len() > 20 {
            return Err(EngineError::Invalid("at most 20 claims may be kept".into()));
        }
        let apple = match (input.apple_team_id, input.apple_key_id) {
            (Some(team_id), Some(key_id)) => Some(AppleSigning { team_id, key_id }),
            (None, None) => old.as_ref().and_then(|o| o.apple.clone()),
            _ => {
                return Err(EngineError::Invalid(
                    "apple_team_id and apple_key_id go together".into(),
                ));
            }
        };
        if p.name == "apple" && apple.is_none() {
            return Err(EngineError::Invalid(
                "the apple preset needs apple_team_id, apple_key_id and the .p8 private key as client_secret".into(),
            ));
        }
        let aad = format!("{tenant}/connector/{id}");
        let sealed_secret = match input.client_secret {
            Some(s) if !s.trim().is_empty() => {
                if let Some(a) = &apple {
                    // Fail now, not at the first sign-in.
                    apple_client_secret(a, &client_id, s.trim(), self.now())?;
                }
                Some(b64(&self
                    .secrets_key()
                    .seal(aad.as_bytes(), s.trim().as_bytes())))
            }
            _ => old.as_ref().and_then(|o| o.sealed_secret.clone()),
        };
        if p.name == "apple" && sealed_secret.is_none() {
            return Err(EngineError::Invalid(
                "the apple preset needs the .p8 private key as client_secret".into(),
            ));
        }
        let scopes = input
            .scopes
            .unwrap_or_else(|| p.scopes.iter().map(|s| (*s).to_owned()).collect());
        if scopes
            .iter()
            .any(|s| s.is_empty() || s.contains(' ') || s.len() > 200)
        {
            return Err(EngineError::Invalid(
                "scopes are single words without spaces".into(),
            ));
        }
        if p.protocol == Protocol::Oidc && !scopes.iter().any(|s| s == "openid") {
            return Err(EngineError::Invalid(
                "an OpenID Connect connector must ask for the openid scope".into(),
            ));
        }
        let display_name = input
            .display_name
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| p.display.to_owned());
        if display_name.len() > 100 {
            return Err(EngineError::Invalid(
                "display_name is at most 100 characters".into(),
            ));
        }
        let now = self.now();
        let c = Connector {
            tenant: tenant.clone(),
            id: id.to_owned(),
            display_name,
            preset: p.name.to_owned(),
            protocol: p.protocol,
            enabled: input.enabled.unwrap_or(true),
            client_id,
            sealed_secret,
            issuer,
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint,
            emails_endpoint,
            scopes,
            mapping,
            link_by_email: input.link_by_email.unwrap_or(false),
            store_tokens: input.store_tokens.unwrap_or(false),
            token_auth: input.token_auth.unwrap_or_default(),
            response_mode: p.response_mode.map(str::to_owned),
            apple,
            created_at: old.as_ref().map_or(now, |o| o.created_at),
            updated_at: now,
        };
        self.rt().store.put_connector(&c).await?;
        self.rt().connectors.invalidate(tenant);
        let mut ev = self.event(tenant, "admin.connector_saved", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("provider={id} preset={}", c.preset));
        self.record_now(ev).await?;
        Ok(c)
    }

    /// A tenant's connectors, by id.
    /// Cached like the tenant: every sign-in page shows them, and a store scan per page
    /// was a twentieth of its cost.
    pub async fn connectors(&self, tenant: &TenantId) -> EngineResult<Arc<Vec<Connector>>> {
        self.tenant(tenant).await?;
        if let Some(all) = self.rt().connectors.get(tenant) {
            return Ok(all);
        }
        let mut all = self.rt().store.list_connectors(tenant).await?;
        all.sort_by(|a, b| a.id.cmp(&b.id));
        let all = Arc::new(all);
        self.rt().connectors.insert(tenant.clone(), all.clone());
        Ok(all)
    }

    /// One connector.
    pub async fn connector(&self, tenant: &TenantId, id: &str) -> EngineResult<Option<Connector>> {
        if !valid_connector_id(id) {
            return Ok(None);
        }
        self.rt()
            .store
            .get_connector(tenant, id)
            .await
            .map_err(EngineError::from)
    }

    /// Removes a connector. Its links stay (the account page lists them) but cannot be
    /// used to sign in until a connector with this id exists again.
    pub async fn delete_connector(&self, tenant: &TenantId, id: &str) -> EngineResult<()> {
        self.tenant(tenant).await?;
        let deleted = self.rt().store.delete_connector(tenant, id).await?;
        self.rt().connectors.invalidate(tenant);
        if !deleted {
            return Err(EngineError::NotFound("connector"));
        }
        let mut ev = self.event(tenant, "admin.connector_deleted", true);
        ev.actor = Some("admin".into());
        ev.detail = Some(format!("provider={id}"));
        self.record_now(ev).await
    }

    /// `{public_url}/{tenant}/federation/{connector}/callback`: registered at the upstream.
    pub fn federation_redirect_uri(&self, tenant: &TenantId, connector: &str) -> String {
        format!(
            "{}/{tenant}/federation/{connector}/callback",
            self.rt().config.public_url
        )
    }

    /// The secret to authenticate at the upstream token endpoint (Apple: a fresh JWT).
    pub fn connector_client_secret(&self, c: &Connector) -> EngineResult<Option<String>> {
        let Some(sealed) = &c.sealed_secret else {
            return Ok(None);
        };
        let raw =
            b64_decode(sealed).ok_or_else(|| EngineError::Internal("bad sealed secret".into()))?;
        let aad = format!("{}/connector/{}", c.tenant, c.id);
        let plain = self.secrets_key().open(aad.as_bytes(), &raw)?;
        let secret = String::from_utf8(plain)
            .map_err(|_| EngineError::Internal("connector secret is not text".into()))?;
        match &c.apple {
            Some(a) => apple_client_secret(a, &c.client_id, &secret, self.now()).map(Some),
            None => Ok(Some(secret)),
        }
    }
}
