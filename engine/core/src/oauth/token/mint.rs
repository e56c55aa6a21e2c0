//! Signing what a grant granted: the access token (RFC 9068) and, with `openid`, the ID
//! token (OIDC Core §3.1.3.3), outside any shard.

use super::TokenResponse;
use crate::crypto::random_token;
use crate::error::EngineResult;
use crate::ids::{ChainId, TenantId};
use crate::model::{AuthContext, Client};
use crate::oauth::OAuth;
use crate::oauth::claims::{AccessTokenClaims, IdTokenClaims};

impl OAuth<'_> {
    /// Signs the access token and, if `openid` is in scope, the ID token (not on a
    /// refresh for a client that asked for none then). Runs on the caller's thread,
    /// outside any shard. Returns the access token's claims too, for what must later
    /// revoke it.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn mint(
        &self,
        tenant: &TenantId,
        client: &Client,
        user: &crate::ids::UserId,
        scope: &str,
        auth: &AuthContext,
        sid: Option<&str>,
        nonce: Option<&str>,
        refresh: Option<(ChainId, String)>,
        skip_id_token: bool,
    ) -> EngineResult<(TokenResponse, AccessTokenClaims)> {
        let t = self.tenant(tenant).await?;
        let ring = self.keyring(tenant).await?;
        let iss = self.issuer(tenant);
        let now = self.now();
        let access = AccessTokenClaims {
            iss: iss.clone(),
            sub: user.to_string(),
            aud: client.id.to_string(),
            client_id: client.id.clone(),
            exp: now + t.access_token_ttl,
            iat: now,
            jti: random_token::<16>(),
            scope: scope.to_owned(),
            auth_time: Some(auth.auth_time),
            sid: sid.map(str::to_owned),
            cid: refresh.as_ref().map(|(chain, _)| chain.clone()),
        };
        let access_token = ring.active.sign_jwt("at+jwt", &access)?;
        // `skip_id_token`: a refresh, for a client that asked for no new ID token then
        // (OIDC Core §12.2 makes it optional).
        let wants_id_token = !(skip_id_token && client.refresh_without_id_token);
        let id_token = if access.has_scope("openid") && wants_id_token {
            // at_hash (OIDC Core §3.1.3.6) with the hash of the JWS algorithm: SHA-256 for
            // RS256 and ES256. EdDSA has no agreed hash, so it is left out there.
            let at_hash = matches!(
                ring.active.alg(),
                crate::model::SigningAlg::RS256 | crate::model::SigningAlg::ES256
            )
            .then(|| crate::crypto::b64(&crate::crypto::sha256(access_token.as_bytes())[..16]));
            let claims = IdTokenClaims {
                iss,
                sub: user.clone(),
                aud: client.id.clone(),
                exp: now + t.id_token_ttl,
                iat: now,
                auth_time: auth.auth_time,
                amr: auth.amr.clone(),
                acr: crate::model::signin::acr_for(&auth.amr).to_owned(),
                nonce: nonce.map(str::to_owned),
                sid: sid.map(str::to_owned),
                at_hash,
            };
            Some(ring.active.sign_jwt("JWT", &claims)?)
        } else {
            None
        };
        let resp = TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: t.access_token_ttl,
            scope: scope.to_owned(),
            id_token,
            refresh_token: refresh.map(|(_, token)| token),
        };
        Ok((resp, access))
    }
}
