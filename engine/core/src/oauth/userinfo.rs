//! The UserInfo endpoint (OIDC Core §5.3): the claims the access token's scopes allow.

use serde_json::{Value, json};

use super::OAuth;
use super::access::invalid_token;
use super::dpop::{Endpoint, Presented};
use crate::error::{EngineError, EngineResult, OAuthErrorCode as C};
use crate::ids::TenantId;

impl OAuth<'_> {
    /// The UserInfo response for a valid access token, as `Bearer` (a `&str`) or with
    /// DPoP (RFC 9449 §7).
    pub async fn userinfo(
        &self,
        tenant: &TenantId,
        presented: impl Into<Presented>,
    ) -> EngineResult<Value> {
        let at = self
            .verify_presented(tenant, &presented.into(), Endpoint::Userinfo)
            .await?;
        if !at.has_scope("openid") {
            return Err(EngineError::oauth(
                C::InvalidToken,
                "the access token was not granted the openid scope",
            ));
        }
        // A machine client's own token has no user, and so no userinfo.
        let uid = at.user().ok_or_else(invalid_token)?;
        let user = self.user(tenant, &uid).await?.ok_or_else(invalid_token)?;
        let client = self.client(tenant, &at.client_id).await?;
        let sub = match &client {
            Some(c) => self.subject_for(tenant, c, &user.id),
            None => return Err(invalid_token()),
        };
        let mut out = json!({"sub": sub});
        if at.has_scope("email") {
            out["email"] = json!(user.email.as_str());
            out["email_verified"] = json!(user.email_verified);
        }
        if at.has_scope("profile") {
            if let Some(n) = &user.name {
                out["name"] = json!(n);
            }
            // The standard claims of the `profile` scope (OIDC Core §5.4) that the user
            // gave, e.g. through progressive profiling.
            for claim in [
                "given_name",
                "family_name",
                "nickname",
                "locale",
                "zoneinfo",
                "birthdate",
            ] {
                if let Some(v) = user.profile.get(claim) {
                    out[claim] = json!(v);
                }
            }
        }
        // Claims from verification (see `oauth::assurance`): a phone confirmed by a code
        // or by Truecaller, and identity verification for the clients the tenant allows.
        let t = self.tenant(tenant).await?;
        if at.has_scope("phone")
            && let Some(number) = self.verified_phone(&t, &user.id).await?
        {
            out["phone_number"] = json!(number);
            out["phone_number_verified"] = json!(true);
        }
        if let Some(vc) = self
            .release_verified_claims(&t, &at.client_id, &user.id, |s| at.has_scope(s))
            .await?
        {
            out["verified_claims"] = vc;
        }
        // A child's account never gives the claims its tenant lists as tracking.
        if let Some(c) = self.account().child_limits(&t, &user.id).await?
            && let Some(obj) = out.as_object_mut()
        {
            obj.retain(|k, _| k == "sub" || !c.claim_barred(k));
        }
        Ok(out)
    }
}
