//! RP-initiated logout (OIDC RP-Initiated Logout 1.0): the post-logout redirect is
//! honoured only for an identified client and a URI it registered, exactly.

use super::OAuth;
use super::claims::IdTokenClaims;
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::{ClientId, TenantId, UserId};
use crate::model::Client;

/// Where to send the browser after logout.
#[derive(Debug)]
pub struct LogoutPlan {
    /// The validated post-logout redirect, with `state`.
    pub redirect: Option<String>,
    /// Whether the hint proved the request came from the session's own relying party
    /// (then no confirmation page is needed).
    pub confirmed_by_hint: bool,
}

impl OAuth<'_> {
    /// Validates an RP-initiated logout request. The post-logout redirect is honoured only
    /// when the client is identified (by `id_token_hint` or `client_id`) and the URI is
    /// one it registered, exactly.
    pub async fn plan_logout(
        &self,
        tenant: &TenantId,
        id_token_hint: Option<&str>,
        client_id: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
        session_user: Option<&UserId>,
    ) -> EngineResult<LogoutPlan> {
        let bad = |d: &'static str| EngineError::oauth(C::InvalidRequest, d);
        let mut hint_sub = None;
        let mut client: Option<std::sync::Arc<Client>> = None;
        if let Some(hint) = id_token_hint {
            // An expired ID token is still a good hint (the spec allows it); the signature is not optional.
            let (claims, _) = self
                .verify_jwt::<IdTokenClaims>(tenant, hint)
                .await?
                .ok_or_else(|| bad("id_token_hint is not an ID token issued here"))?;
            if client_id.is_some_and(|c| c != claims.aud.as_str()) {
                return Err(bad("client_id does not match the id_token_hint"));
            }
            client = self.client(tenant, &claims.aud).await?;
            hint_sub = Some(claims.sub);
        } else if let Some(c) = client_id {
            let id = ClientId::parse(c).map_err(|_| bad("client_id is not valid"))?;
            client = self.client(tenant, &id).await?;
        }
        let redirect = match post_logout_redirect_uri {
            Some(uri) => {
                let c = client.as_ref().ok_or_else(|| {
                    bad("post_logout_redirect_uri needs id_token_hint or client_id")
                })?;
                if !c.post_logout_redirect_uris.iter().any(|u| u == uri) {
                    return Err(bad(
                        "post_logout_redirect_uri is not registered for this client",
                    ));
                }
                let mut p = Vec::new();
                if let Some(s) = state {
                    p.push(("state", s));
                }
                Some(crate::oauth::authorize::redirect_with(uri, &p))
            }
            None => None,
        };
        let confirmed_by_hint = match (hint_sub, session_user) {
            // The hint names the user as its client sees them (pairwise or not).
            (Some(h), Some(u)) => match &client {
                Some(c) => h.as_str() == self.subject_for(tenant, c, u),
                None => false,
            },
            // No session: nothing to confirm.
            (_, None) => true,
            _ => false,
        };
        Ok(LogoutPlan {
            redirect,
            confirmed_by_hint,
        })
    }
}
