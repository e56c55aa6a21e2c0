//! Discovery and JWKS documents, rendered once per key change and served as bytes.

use serde_json::json;
use std::sync::Arc;

use super::OAuth;
use crate::error::EngineResult;
use crate::ids::TenantId;
use crate::runtime::keys::Rendered;

/// Scopes every tenant supports.
/// `phone` releases a verified phone number; `verified_claims`, identity verification
/// results to the clients the tenant allows (`oauth::assurance`); `verify` lets an app
/// send its user's evidence to the verification APIs (`{issuer}/api/verify/...`);
/// `organization` asks for the organisation picker and the `org_*`, `roles` and
/// `permissions` claims (see `orgs`).
pub const SCOPES: [&str; 8] = [
    "openid",
    "profile",
    "email",
    "phone",
    "offline_access",
    "verified_claims",
    "verify",
    "organization",
];

impl OAuth<'_> {
    /// The tenant's OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414).
    pub async fn discovery(&self, tenant: &TenantId) -> EngineResult<Arc<Rendered>> {
        if let Some(d) = self.rt().discovery.get(tenant) {
            return Ok(d.clone());
        }
        let t = self.tenant(tenant).await?;
        let iss = self.issuer(tenant);
        let mut doc = json!({
            "issuer": iss,
            "authorization_endpoint": format!("{iss}/authorize"),
            "token_endpoint": format!("{iss}/token"),
            "userinfo_endpoint": format!("{iss}/userinfo"),
            "jwks_uri": format!("{iss}/jwks.json"),
            "revocation_endpoint": format!("{iss}/revoke"),
            "introspection_endpoint": format!("{iss}/introspect"),
            "end_session_endpoint": format!("{iss}/logout"),
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
            "frontchannel_logout_supported": true,
            "frontchannel_logout_session_supported": true,
            "device_authorization_endpoint": format!("{iss}/device_authorization"),
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": [t.signing_alg.as_str()],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
            "token_endpoint_auth_signing_alg_values_supported": super::assertion::CLIENT_SIGNING_ALGS,
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
            "revocation_endpoint_auth_signing_alg_values_supported": super::assertion::CLIENT_SIGNING_ALGS,
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "introspection_endpoint_auth_signing_alg_values_supported": super::assertion::CLIENT_SIGNING_ALGS,
            "code_challenge_methods_supported": ["S256"],
            "dpop_signing_alg_values_supported": super::dpop::ALGS,
            "prompt_values_supported": ["none", "login", "consent"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "email", "email_verified", "name", "locale", "phone_number", "phone_number_verified", "verified_claims"],
            "acr_values_supported": crate::model::signin::ACR_VALUES,
            "authorization_response_iss_parameter_supported": true,
            "claims_parameter_supported": false,
            "request_parameter_supported": true,
            "request_object_signing_alg_values_supported": super::assertion::CLIENT_SIGNING_ALGS,
            // Only the request_uri of a pushed request (RFC 9126): none is fetched.
            "request_uri_parameter_supported": false,
            "pushed_authorization_request_endpoint": format!("{iss}/par"),
            "registration_endpoint": format!("{iss}/register"),
            "require_pushed_authorization_requests": false,
        });
        // OpenID Connect for Identity Assurance 1.0 §9 (the mapping is in
        // oauth::assurance); released by scope only (no `claims` parameter).
        doc["verified_claims_supported"] = json!(true);
        doc["trust_frameworks_supported"] = json!(super::assurance::TRUST_FRAMEWORKS);
        doc["evidence_supported"] = json!(super::assurance::EVIDENCE);
        doc["electronic_records_supported"] = json!(super::assurance::ELECTRONIC_RECORDS);
        doc["claims_in_verified_claims_supported"] =
            json!(super::assurance::CLAIMS_IN_VERIFIED_CLAIMS);
        // Extension (DPDP Rules 9 and 14): where the tenant's Data Protection Officer or
        // contact person is published; it answers 404 while the tenant has set none.
        doc["privacy_contact_uri"] = json!(format!("{iss}/.well-known/privacy-contact"));
        let body: Vec<u8> = crate::json::to_vec(&doc);
        let etag = format!(
            "\"{}\"",
            &crate::crypto::b64(&crate::crypto::sha256(&body))[..22]
        );
        let r = Arc::new(Rendered {
            body: bytes::Bytes::from(body),
            etag,
        });
        self.rt().discovery.insert(tenant.clone(), r.clone());
        Ok(r)
    }

    /// The tenant's JWKS: public keys only.
    pub async fn jwks(&self, tenant: &TenantId) -> EngineResult<Rendered> {
        let ring = self.keyring(tenant).await?;
        Ok(Rendered {
            body: ring.jwks.clone(),
            etag: ring.jwks_etag.clone(),
        })
    }
}
