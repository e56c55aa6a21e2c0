//! Signing what a grant granted: the access token (RFC 9068) and, with `openid`, the ID
//! token (OIDC Core §3.1.3.3), outside any shard.

use super::TokenResponse;
use crate::crypto::random_token;
use crate::error::EngineResult;
use crate::ids::{ChainId, TenantId, UserId};
use crate::model::{AuthContext, Client};
use crate::oauth::OAuth;
use crate::oauth::claims::{AccessTokenClaims, Confirmation, IdTokenClaims, OrgTokenClaims};

/// What a grant grants a user's client, for [`OAuth::mint`] to sign.
pub(crate) struct Grant<'a> {
    /// The client.
    pub client: &'a Client,
    /// The user.
    pub user: &'a UserId,
    /// The granted scope.
    pub scope: &'a str,
    /// How and when the user authenticated.
    pub auth: &'a AuthContext,
    /// The browser session, if any.
    pub sid: Option<&'a str>,
    /// The authorization request's nonce (code grant only).
    pub nonce: Option<&'a str>,
    /// The API the access token is for (RFC 8707); the client if none.
    pub resource: Option<&'a str>,
    /// The refresh chain and its new token, when one is issued.
    pub refresh: Option<(ChainId, String)>,
    /// A refresh, for a client that asked for no new ID token then (OIDC Core §12.2).
    pub skip_id_token: bool,
    /// The DPoP key the access token is bound to (RFC 9449 §6), if the request proved one.
    pub dpop_jkt: Option<&'a str>,
}

impl OAuth<'_> {
    /// Signs the access token and, if `openid` is in scope, the ID token (not on a
    /// refresh for a client that asked for none then). Runs on the caller's thread,
    /// outside any shard. Returns the access token's claims too, for what must later
    /// revoke it.
    pub(crate) async fn mint(
        &self,
        tenant: &TenantId,
        g: Grant<'_>,
    ) -> EngineResult<(TokenResponse, AccessTokenClaims)> {
        let t = self.tenant(tenant).await?;
        let ring = self.keyring(tenant).await?;
        let iss = self.issuer(tenant);
        let now = self.now();
        let (client, user) = (g.client, g.user);
        // An API's own token lifetime, if it has one (the API may since have gone: then
        // the tenant's).
        let ttl = g
            .resource
            .and_then(|r| t.api(r))
            .and_then(|a| a.access_token_ttl)
            .unwrap_or(t.access_token_ttl);
        // The organisation signed in to (issue 19), read again at every mint: a member
        // removed since is refused, and the chain is revoked.
        let org = match self
            .org_token_claims(tenant, user, g.auth.org.as_deref(), g.scope)
            .await?
        {
            Some(org) => org,
            None => {
                if let Some((chain, _)) = &g.refresh {
                    self.revoke_chain_for_org(tenant, chain).await?;
                }
                return Err(crate::error::EngineError::oauth(
                    crate::error::OAuthErrorCode::InvalidGrant,
                    "the user is no longer a member of the organization",
                ));
            }
        };
        let access = AccessTokenClaims {
            iss: iss.clone(),
            sub: self.subject_for(tenant, client, user),
            aud: g
                .resource
                .map_or_else(|| client.id.to_string(), str::to_owned),
            client_id: client.id.clone(),
            exp: now + ttl,
            iat: now,
            jti: random_token::<16>(),
            scope: g.scope.to_owned(),
            auth_time: Some(g.auth.auth_time),
            sid: g.sid.map(str::to_owned),
            cid: g.refresh.as_ref().map(|(chain, _)| chain.clone()),
            cnf: g.dpop_jkt.map(|jkt| Confirmation { jkt: jkt.into() }),
            uid: self.seal_uid(tenant, client, user),
            act: None,
            org: org.clone(),
        };
        let access_token = ring.active.sign_jwt("at+jwt", &access)?;
        let wants_id_token = !(g.skip_id_token && client.refresh_without_id_token);
        let id_token = if access.has_scope("openid") && wants_id_token {
            // at_hash (OIDC Core §3.1.3.6) with the hash of the JWS algorithm: SHA-256 for
            // RS256 and ES256. EdDSA has no agreed hash, so it is left out there.
            let at_hash = matches!(
                ring.active.alg(),
                crate::model::SigningAlg::RS256 | crate::model::SigningAlg::ES256
            )
            .then(|| crate::crypto::b64(&crate::crypto::sha256(access_token.as_bytes())[..16]));
            // `locale` is a `profile` claim (OIDC Core §5.4); the user's current one, so a
            // language saved since sign-in shows in the next refresh's ID token.
            let locale = match access.has_scope("profile") {
                true => self
                    .user(tenant, user)
                    .await?
                    .and_then(|u| u.profile.get("locale").cloned()),
                false => None,
            };
            let mut verified_claims = self
                .release_verified_claims(&t, &client.id, user, |s| access.has_scope(s))
                .await?;
            let mut locale = locale;
            // A child's account never gives the claims its tenant lists as tracking.
            if (locale.is_some() || verified_claims.is_some())
                && let Some(c) = self.account().child_limits(&t, user).await?
            {
                locale = locale.filter(|_| !c.claim_barred("locale"));
                verified_claims = verified_claims.filter(|_| !c.claim_barred("verified_claims"));
            }
            let claims = IdTokenClaims {
                iss,
                sub: UserId::from_stored(access.sub.clone()),
                aud: client.id.clone(),
                exp: now + t.id_token_ttl,
                iat: now,
                auth_time: g.auth.auth_time,
                amr: g.auth.amr.clone(),
                acr: crate::model::signin::acr_for(&g.auth.amr).to_owned(),
                nonce: g.nonce.map(str::to_owned),
                sid: g.sid.map(str::to_owned),
                at_hash,
                locale,
                verified_claims,
                org,
            };
            Some(ring.active.sign_jwt("JWT", &claims)?)
        } else {
            None
        };
        let resp = TokenResponse {
            access_token,
            token_type: access.token_type(),
            expires_in: ttl,
            scope: g.scope.to_owned(),
            id_token,
            refresh_token: g.refresh.map(|(_, token)| token),
            issued_token_type: None,
        };
        Ok((resp, access))
    }
}

impl OAuth<'_> {
    /// The organisation claims of a token: for `org` (the organisation signed in to),
    /// `None` when the user is no longer its member; without one, the tenant-wide roles
    /// when `scope` has `organization`, else nothing (no read).
    async fn org_token_claims(
        &self,
        tenant: &TenantId,
        user: &UserId,
        org: Option<&str>,
        scope: &str,
    ) -> EngineResult<Option<OrgTokenClaims>> {
        if org.is_none() && !scope.split(' ').any(|s| s == "organization") {
            return Ok(Some(OrgTokenClaims::default()));
        }
        Ok(self
            .orgs()
            .claims(tenant, user, org)
            .await?
            .map(|c| OrgTokenClaims {
                org_id: c.org_id,
                org_name: c.org_name,
                roles: Some(c.roles),
                permissions: Some(c.permissions),
            }))
    }

    /// Revokes a refresh chain whose user left its organisation, through its shard.
    async fn revoke_chain_for_org(&self, tenant: &TenantId, chain: &ChainId) -> EngineResult<()> {
        let shard = self.rt().shards.shard_for(tenant, chain);
        let revoke = crate::runtime::shard::RevokeChain {
            tenant: tenant.clone(),
            chain: chain.clone(),
            reason: crate::model::RevokeReason::Revoked,
        };
        self.rt().shards.ask(shard, revoke).await?;
        let mut ev = self.event(tenant, "org.chain_revoked", true);
        ev.subject = None;
        ev.detail = Some(format!("chain={chain}"));
        self.record_now(ev).await
    }
}
