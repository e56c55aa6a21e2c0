//! Links between upstream identities and local users: keys, sealed profiles and tokens,
//! proving an existing account before linking, the account page's list, unlinking, export
//! and deletion.

use super::Federation;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::types::{
    LinkData, LinkedIdentity, PURPOSE_LINK, UpstreamIdentity, UpstreamTokens, pending_expired,
};
use crate::crypto::{MasterKey, b64_decode};
use crate::engine::{Engine, RequestMeta};
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::federation::Link;
use crate::model::signin::SignInStep;
use crate::model::{Challenge, FactorKind, Hash32, User};

impl Federation<'_> {
    pub(super) fn profile_key(&self) -> MasterKey {
        MasterKey::from_bytes(self.rt().master.derive("tollgate federation profiles v1"))
    }

    pub(super) fn link_aad(tenant: &TenantId, user: &UserId, provider: &str) -> Vec<u8> {
        format!("{tenant}/{user}/{provider}").into_bytes()
    }

    /// The link key of an upstream subject.
    pub fn link_key(&self, tenant: &TenantId, provider: &str, subject: &str) -> Hash32 {
        let k = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            &self.rt().master.derive("tollgate federation subjects v1"),
        );
        let tag = ring::hmac::sign(&k, format!("{tenant}\0{provider}\0{subject}").as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Hash32(out)
    }

    /// Who a pending link concerns and through which connector (for the form).
    pub async fn pending_link(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<Option<(String, Option<String>)>> {
        let ch = self.link_challenge(tenant, handle).await?;
        Ok(match ch {
            Some(c) => {
                let d: LinkData = serde_json::from_value(c.data)
                    .map_err(|e| EngineError::Internal(e.to_string()))?;
                Some((d.connector, d.tx))
            }
            None => None,
        })
    }

    /// Completes a pending link with the existing account's password: links the upstream
    /// identity and signs in (`amr` fed and pwd). A wrong password spends one of
    /// [`LINK_TRIES`]; the answer is `InvalidCredentials` either way.
    pub async fn confirm_link(
        &self,
        tenant: &TenantId,
        handle: &str,
        password: &str,
        want_two: bool,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        let (key, user_id, data) = self.spend_link_try(tenant, handle).await?;
        let user = self.user(tenant, &user_id).await?;
        // The same per-account and per-address limits as the sign-in form: a new pending
        // link (another round trip upstream) must not buy more guesses.
        let account = user
            .as_ref()
            .map(|u| u.email.as_str().to_owned())
            .unwrap_or_default();
        let ip = meta.ip.as_deref();
        let attempt = self
            .rt()
            .throttle
            .reserve(tenant, &account, ip)
            .map_err(|retry_after_secs| EngineError::RateLimited { retry_after_secs })?;
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = self.rt().passwords.verify(password, hash).await?;
        if ok {
            attempt.succeeded();
        } else {
            attempt.failed();
        }
        let (true, Some(user)) = (ok, user) else {
            let mut ev = self.event(tenant, "federation.link_proof", false);
            ev.subject = Some(user_id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some(format!("provider={}", data.connector));
            self.record(ev);
            return Err(EngineError::InvalidCredentials);
        };
        self.finish_link(tenant, &key, &data, &user, "password", meta)
            .await?;
        self.signin()
            .after_first_factor(tenant, &user, vec!["fed".into(), "pwd".into()], want_two)
            .await
    }

    /// Starts proving the account of a pending link with one of its passkeys.
    pub async fn start_link_passkey(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<crate::signin::passkeys::Ceremony> {
        let user = self
            .link_challenge(tenant, handle)
            .await?
            .and_then(|c| c.user_id)
            .ok_or_else(pending_expired)?;
        self.signin()
            .start_passkey_check(
                tenant,
                &user,
                crate::signin::passkeys::LINK,
                Hash32::of(handle.as_bytes()),
            )
            .await
    }

    /// Completes a pending link with a passkey of the existing account: links the
    /// upstream identity and signs in (`amr` fed, hwk and mfa: a passkey is a second
    /// factor on its own, as at passkey sign-in). A failed proof spends one of
    /// [`LINK_TRIES`] and answers as a failed passkey second factor does.
    pub async fn finish_link_passkey(
        &self,
        tenant: &TenantId,
        ceremony: &str,
        handle: &str,
        credential: &Value,
        meta: &RequestMeta,
    ) -> EngineResult<crate::model::signin::NewSession> {
        let (who, state) = self
            .signin()
            .take_passkey_check(
                tenant,
                ceremony,
                crate::signin::passkeys::LINK,
                &Hash32::of(handle.as_bytes()),
            )
            .await?;
        let (key, user_id, data) = self.spend_link_try(tenant, handle).await?;
        let user = self
            .user(tenant, &user_id)
            .await?
            .filter(|_| who.as_ref() == Some(&user_id))
            .ok_or_else(pending_expired)?;
        if !self
            .signin()
            .passkey_check_passes(tenant, &user_id, state, credential)
            .await?
        {
            let mut ev = self.event(tenant, "federation.link_proof", false);
            ev.subject = Some(user_id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some(format!("provider={} method=passkey", data.connector));
            self.record(ev);
            return Err(crate::signin::passkeys::not_verified());
        }
        self.finish_link(tenant, &key, &data, &user, "passkey", meta)
            .await?;
        let amr = vec!["fed".into(), FactorKind::Passkey.amr().into(), "mfa".into()];
        self.signin().start_session(tenant, &user, amr).await
    }

    /// The live challenge of a pending link, without spending a try.
    pub(super) async fn link_challenge(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<Option<Challenge>> {
        if handle.len() != 43 {
            return Ok(None);
        }
        Ok(self
            .rt()
            .store
            .get_challenge(tenant, &Hash32::of(handle.as_bytes()))
            .await?
            .filter(|c| c.purpose == PURPOSE_LINK && c.expires_at > self.now() && c.tries_left > 0))
    }

    /// Spends one try of a pending link: its key, whose account it is and what to link.
    pub(super) async fn spend_link_try(
        &self,
        tenant: &TenantId,
        handle: &str,
    ) -> EngineResult<(Hash32, UserId, LinkData)> {
        if handle.len() != 43 {
            return Err(pending_expired());
        }
        let key = Hash32::of(handle.as_bytes());
        let ch = self
            .rt()
            .store
            .spend_try(tenant, &key)
            .await?
            .filter(|c| c.purpose == PURPOSE_LINK && c.expires_at > self.now())
            .ok_or_else(pending_expired)?;
        let user_id = ch.user_id.clone().ok_or_else(pending_expired)?;
        let data: LinkData =
            serde_json::from_value(ch.data).map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok((key, user_id, data))
    }

    /// Links the pending identity to `user`, who proved the account by `method`, and
    /// records the federated sign-in.
    pub(super) async fn finish_link(
        &self,
        tenant: &TenantId,
        key: &Hash32,
        data: &LinkData,
        user: &User,
        method: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        // Single use: of two right answers at once, one links.
        self.rt()
            .store
            .take_challenge(tenant, key)
            .await?
            .ok_or_else(pending_expired)?;
        let raw = b64_decode(&data.sealed).ok_or_else(pending_expired)?;
        let plain = self
            .profile_key()
            .open(&Self::link_aad(tenant, &user.id, &data.connector), &raw)?;
        let (identity, tokens): (UpstreamIdentity, Option<UpstreamTokens>) =
            serde_json::from_slice(&plain).map_err(|e| EngineError::Internal(e.to_string()))?;
        let link = self
            .create_link(
                tenant,
                user,
                &data.connector,
                &identity,
                tokens.as_ref(),
                method,
                meta,
            )
            .await?;
        link_login_event(self, tenant, user, &link, method, meta);
        self.truecaller_phone(tenant, user, &data.connector, &identity, meta)
            .await?;
        self.digilocker_verification(tenant, user, &data.connector, &identity, meta)
            .await
    }

    // ---- The account page -----------------------------------------------------------------

    /// A user's linked identities, oldest first.
    pub async fn linked_identities(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Vec<LinkedIdentity>> {
        let names: BTreeMap<String, String> = self
            .rt()
            .store
            .list_connectors(tenant)
            .await?
            .into_iter()
            .map(|c| (c.id, c.display_name))
            .collect();
        let mut links = self.rt().store.list_links(tenant, user).await?;
        links.sort_by(|a, b| (a.created_at, &a.provider).cmp(&(b.created_at, &b.provider)));
        let key = self.data_key(tenant, user).await?;
        Ok(links
            .into_iter()
            .map(|l| {
                let profile: Option<UpstreamIdentity> = key.as_ref().and_then(|k| {
                    Self::open_for_link(k, tenant, user, &l.provider, "profile", &l.sealed_profile)
                });
                LinkedIdentity {
                    display_name: names
                        .get(&l.provider)
                        .cloned()
                        .unwrap_or(l.provider.clone()),
                    provider: l.provider,
                    key: l.key.to_hex(),
                    email: profile.and_then(|p| p.email),
                    created_at: l.created_at,
                    last_login_at: l.last_login_at,
                }
            })
            .collect())
    }

    /// Whether removing one link would leave the user a way to sign in: a password, a
    /// passkey, or another linked identity.
    pub async fn can_unlink(&self, tenant: &TenantId, user: &User) -> EngineResult<bool> {
        if user.password_hash.is_some() {
            return Ok(true);
        }
        let links = self.rt().store.list_links(tenant, &user.id).await?;
        if links.len() > 1 {
            return Ok(true);
        }
        let factors = self.rt().store.list_factors(tenant, &user.id).await?;
        Ok(factors.iter().any(|f| f.kind == FactorKind::Passkey))
    }

    /// Removes one of the user's links (the user's own choice), never the last way to
    /// sign in.
    pub async fn unlink_identity(
        &self,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        key_hex: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let u = self
            .user(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let key = Hash32::try_from(key_hex.to_owned())
            .map_err(|_| EngineError::NotFound("linked identity"))?;
        if !self.can_unlink(tenant, &u).await? {
            return Err(EngineError::Invalid(
                "This is your only way to sign in. Set a password or add a passkey before removing it.".into(),
            ));
        }
        self.rt()
            .store
            .delete_link(tenant, user, provider, &key)
            .await?
            .ok_or(EngineError::NotFound("linked identity"))?;
        let mut ev = self.event(tenant, "federation.unlinked", true);
        ev.actor = Some(user.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("provider={provider}"));
        self.record_now(ev).await
    }

    /// A user's linked identities for the data-subject export: provider, when linked and
    /// last used, and the mapped profile (never upstream tokens).
    pub async fn export_links(&self, tenant: &TenantId, user: &UserId) -> EngineResult<Value> {
        let links = self.rt().store.list_links(tenant, user).await?;
        let key = self.data_key(tenant, user).await?;
        let out: Vec<Value> = links
            .iter()
            .map(|l| {
                let profile: Option<UpstreamIdentity> = key.as_ref().and_then(|k| {
                    Self::open_for_link(k, tenant, user, &l.provider, "profile", &l.sealed_profile)
                });
                json!({
                    "provider": l.provider,
                    "linked_at": l.created_at,
                    "last_sign_in_at": l.last_login_at,
                    "upstream_tokens_kept": l.sealed_tokens.is_some(),
                    "profile": profile.map(|p| json!({
                        "subject": p.subject,
                        "email": p.email,
                        "email_verified": p.email_verified,
                        "name": p.name,
                        "picture": p.picture,
                        "locale": p.locale,
                        "groups": p.groups,
                        "claims": p.extra,
                    })),
                })
            })
            .collect();
        Ok(Value::Array(out))
    }

    /// Removes every link of a user (account deletion): the upstream identities are free
    /// to sign up again. Returns how many there were.
    pub async fn delete_user_links(&self, tenant: &TenantId, user: &UserId) -> EngineResult<usize> {
        let links = self.rt().store.list_links(tenant, user).await?;
        let mut n = 0;
        for l in &links {
            if self
                .rt()
                .store
                .delete_link(tenant, user, &l.provider, &l.key)
                .await?
                .is_some()
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The upstream tokens kept with a user's link to `provider`, opened.
    pub async fn upstream_tokens(
        &self,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
    ) -> EngineResult<Vec<UpstreamTokens>> {
        let links = self.rt().store.list_links(tenant, user).await?;
        let key = self.user_vault(tenant, user).await?;
        let mut out = Vec::new();
        for l in links.iter().filter(|l| l.provider == provider) {
            if let Some(sealed) = &l.sealed_tokens {
                out.push(
                    Self::open_for_link(&key, tenant, user, provider, "tokens", sealed)
                        .ok_or_else(|| {
                            EngineError::Internal("cannot open upstream tokens".into())
                        })?,
                );
            }
        }
        Ok(out)
    }
}

pub(super) fn link_login_event(
    e: &Engine,
    tenant: &TenantId,
    user: &User,
    link: &Link,
    method: &str,
    meta: &RequestMeta,
) {
    let mut ev = e.event(tenant, "login.federated", true);
    ev.actor = Some(user.id.to_string());
    ev.subject = ev.actor.clone();
    ev.ip = meta.ip.clone();
    ev.detail = Some(format!("provider={} linked_by={method}", link.provider));
    e.record(ev);
}
