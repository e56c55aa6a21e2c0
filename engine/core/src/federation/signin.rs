//! The round trip: starting a federated sign-in, taking it back at the callback, and
//! signing in, linking or provisioning the user.

use super::Federation;
use serde::Serialize;
use std::sync::Arc;

use super::types::{
    FederatedOutcome, FederatedSignIn, FederationPending, FederationStart, LINK_TRIES, LINK_TTL,
    LinkData, PENDING_TTL, PURPOSE_LINK, PURPOSE_PENDING, PendingData, UpstreamIdentity,
    UpstreamTokens, pending_expired,
};
use crate::crypto::{self, MasterKey, b64, b64_decode, random_token};
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::federation::{Connector, Link};
use crate::model::signin::SignInStep;
use crate::model::{Challenge, Hash32, User};
use crate::store::StoreError;

impl Federation<'_> {
    // ---- The round trip ----------------------------------------------------------------

    /// Starts a federated sign-in: a single-use pending record keyed by the hash of
    /// `state`, bound to the browser by `binding` (a random cookie value; only its hash is
    /// kept). `tx` is the sealed authorization request to continue afterwards.
    pub async fn begin_federation(
        &self,
        tenant: &TenantId,
        connector: &str,
        tx: Option<String>,
        binding: &str,
        meta: &RequestMeta,
    ) -> EngineResult<FederationStart> {
        self.tenant(tenant).await?;
        self.rt()
            .federation_starts
            .try_send(tenant, "", meta.ip.as_deref())
            .map_err(|retry_after_secs| EngineError::RateLimited { retry_after_secs })?;
        let c = self
            .connector(tenant, connector)
            .await?
            .filter(|c| c.enabled)
            .ok_or(EngineError::NotFound("connector"))?;
        let state = random_token::<32>();
        let nonce = random_token::<32>();
        let verifier = random_token::<32>();
        let data = PendingData {
            connector: c.id.clone(),
            nonce: nonce.clone(),
            verifier: verifier.clone(),
            tx,
            binding: Hash32::of(binding.as_bytes()),
        };
        let ch = Challenge {
            tenant: tenant.clone(),
            key: Hash32::of(state.as_bytes()),
            purpose: PURPOSE_PENDING.into(),
            user_id: None,
            data: crate::json::to_value(&data),
            tries_left: 1,
            expires_at: self.now() + PENDING_TTL,
        };
        self.rt().store.put_challenge(&ch).await?;
        Ok(FederationStart {
            code_challenge: crypto::pkce_s256(&verifier),
            connector: c,
            state,
            nonce,
        })
    }

    /// Takes the pending sign-in named by `state` (once): it must be for this connector,
    /// unexpired, and presented by the browser that started it.
    pub async fn take_federation(
        &self,
        tenant: &TenantId,
        connector: &str,
        state: &str,
        binding: Option<&str>,
    ) -> EngineResult<FederationPending> {
        if state.len() != 43 {
            return Err(pending_expired());
        }
        let ch = self
            .rt()
            .store
            .take_challenge(tenant, &Hash32::of(state.as_bytes()))
            .await?
            .filter(|c| {
                c.purpose == PURPOSE_PENDING && c.expires_at > self.now() && &c.tenant == tenant
            })
            .ok_or_else(pending_expired)?;
        let data: PendingData =
            serde_json::from_value(ch.data).map_err(|e| EngineError::Internal(e.to_string()))?;
        let bound =
            binding.is_some_and(|b| crypto::ct_eq(&Hash32::of(b.as_bytes()).0, &data.binding.0));
        if data.connector != connector || !bound {
            return Err(pending_expired());
        }
        let c = self
            .connector(tenant, connector)
            .await?
            .filter(|c| c.enabled)
            .ok_or(EngineError::NotFound("connector"))?;
        Ok(FederationPending {
            connector: c,
            nonce: data.nonce,
            code_verifier: data.verifier,
            tx: data.tx,
        })
    }

    /// Records a federated sign-in that failed before an identity was known (upstream
    /// error, bad token): `reason` is a code, never upstream text.
    pub fn federation_failed(
        &self,
        tenant: &TenantId,
        connector: &str,
        reason: &str,
        meta: &RequestMeta,
    ) {
        let mut ev = self.event(tenant, "login.federated", false);
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("provider={connector} reason={reason}"));
        self.record(ev);
    }

    /// Signs in with an upstream identity: the linked user; or an existing account with
    /// the same verified email, when the connector allows linking by email; or a proof of
    /// the existing account first; or a new account.
    pub async fn federated_sign_in(
        &self,
        tenant: &TenantId,
        sign_in: FederatedSignIn<'_>,
        meta: &RequestMeta,
    ) -> EngineResult<FederatedOutcome> {
        let FederatedSignIn {
            connector,
            identity,
            tokens,
            tx,
            want_two,
        } = sign_in;
        let provider = connector.id.as_str();
        let key = self.link_key(tenant, provider, &identity.subject);
        let tokens = tokens.filter(|_| connector.store_tokens);
        if let Some(link) = self.rt().store.find_link(tenant, provider, &key).await?
            && let Some(user) = self.user(tenant, &link.user_id).await?
        {
            return self
                .sign_in_linked(tenant, link, &user, &identity, tokens, want_two, meta)
                .await
                .map(FederatedOutcome::Step);
        }
        let email = identity.email.as_deref().and_then(|e| Email::parse(e).ok());
        let existing = match &email {
            Some(e) => self.user_by_email(tenant, e).await?,
            None => None,
        };
        if let Some(user) = existing {
            // Both sides must have proven the address: an unverified local account may
            // have been registered by someone else in advance (pre-account takeover).
            if connector.link_by_email && identity.email_verified && user.email_verified {
                let link = self
                    .create_link(
                        tenant,
                        &user,
                        provider,
                        &identity,
                        tokens.as_ref(),
                        "verified_email",
                        meta,
                    )
                    .await?;
                return self
                    .sign_in_linked(tenant, link, &user, &identity, None, want_two, meta)
                    .await
                    .map(FederatedOutcome::Step);
            }
            // Not allowed to link on the upstream's word: the user proves the account.
            let sealed = b64(&self.profile_key().seal(
                &Self::link_aad(tenant, &user.id, provider),
                &crate::json::to_vec(&(&identity, &tokens)),
            ));
            let handle = random_token::<32>();
            let ch = Challenge {
                tenant: tenant.clone(),
                key: Hash32::of(handle.as_bytes()),
                purpose: PURPOSE_LINK.into(),
                user_id: Some(user.id.clone()),
                data: crate::json::to_value(&LinkData {
                    connector: provider.to_owned(),
                    sealed,
                    tx,
                }),
                tries_left: LINK_TRIES,
                expires_at: self.now() + LINK_TTL,
            };
            self.rt().store.put_challenge(&ch).await?;
            let mut ev = self.event(tenant, "federation.link_required", true);
            ev.subject = Some(user.id.to_string());
            ev.ip = meta.ip.clone();
            ev.detail = Some(format!(
                "provider={provider} reason={}",
                if !connector.link_by_email {
                    "link_by_email_off"
                } else if !identity.email_verified {
                    "email_not_verified"
                } else {
                    "local_email_not_verified"
                }
            ));
            self.record(ev);
            return Ok(FederatedOutcome::ConfirmLink { handle });
        }
        let user = self
            .provision_user(tenant, connector, &identity, email)
            .await?;
        let link = match self
            .create_link(
                tenant,
                &user,
                provider,
                &identity,
                tokens.as_ref(),
                "provisioned",
                meta,
            )
            .await
        {
            Ok(l) => l,
            // Another sign-in of the same upstream identity won the race: use its link
            // (the user made here stays unused, with no way to sign in).
            Err(EngineError::Conflict(_)) => {
                let link = self
                    .rt()
                    .store
                    .find_link(tenant, provider, &key)
                    .await?
                    .ok_or(EngineError::Conflict("link"))?;
                let user = self
                    .user(tenant, &link.user_id)
                    .await?
                    .ok_or(EngineError::NotFound("user"))?;
                return self
                    .sign_in_linked(tenant, link, &user, &identity, None, want_two, meta)
                    .await
                    .map(FederatedOutcome::Step);
            }
            Err(e) => return Err(e),
        };
        self.sign_in_linked(tenant, link, &user, &identity, None, want_two, meta)
            .await
            .map(FederatedOutcome::Step)
    }

    /// A new user from an upstream identity (just-in-time provisioning): no password; the
    /// email if the upstream verified it, else an address under the reserved `.invalid`
    /// domain that can receive nothing. An unverified upstream address never becomes a
    /// login id: whoever owns it could otherwise not sign up, and a password reset sent
    /// there would hand them an account the upstream identity also signs into. (The
    /// upstream address stays in the sealed profile of the link.)
    pub(super) async fn provision_user(
        &self,
        tenant: &TenantId,
        connector: &Connector,
        identity: &UpstreamIdentity,
        email: Option<Email>,
    ) -> EngineResult<User> {
        let id = UserId::generate();
        let (email, verified) = match email.filter(|_| identity.email_verified) {
            Some(e) => (e, true),
            None => (
                Email::parse(&format!("{}@{}.federated.invalid", id, connector.id))?,
                false,
            ),
        };
        // Picture and locale go to the profile fields; groups and kept claims stay with
        // the link.
        let mut profile = std::collections::BTreeMap::new();
        if let Some(p) = &identity.picture {
            profile.insert("picture".to_owned(), p.clone());
        }
        if let Some(l) = &identity.locale {
            profile.insert("locale".to_owned(), l.clone());
        }
        let user = User {
            tenant: tenant.clone(),
            id,
            email,
            email_verified: verified,
            name: identity.name.clone(),
            profile,
            password_hash: None,
            created_at: self.now(),
            deleted_at: None,
        };
        self.insert_new_user(&user).await?;
        let mut ev = self.event(tenant, "federation.provisioned", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.detail = Some(format!("provider={}", connector.id));
        self.record(ev);
        Ok(user)
    }

    /// The user's data key: what the link's profile and upstream tokens are sealed under,
    /// so deleting the account (which destroys the key) erases them, backups included.
    pub(super) async fn user_vault(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Arc<MasterKey>> {
        self.data_key(tenant, user)
            .await?
            .ok_or(EngineError::NotFound("user"))
    }

    pub(super) fn seal_for_link<T: Serialize>(
        key: &MasterKey,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        what: &str,
        value: &T,
    ) -> String {
        let mut aad = Self::link_aad(tenant, user, provider);
        aad.extend_from_slice(format!("/{what}").as_bytes());
        b64(&key.seal(&aad, &crate::json::to_vec(value)))
    }

    pub(super) fn open_for_link<T: serde::de::DeserializeOwned>(
        key: &MasterKey,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        what: &str,
        sealed: &str,
    ) -> Option<T> {
        let mut aad = Self::link_aad(tenant, user, provider);
        aad.extend_from_slice(format!("/{what}").as_bytes());
        let plain = key.open(&aad, &b64_decode(sealed)?).ok()?;
        serde_json::from_slice(&plain).ok()
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn create_link(
        &self,
        tenant: &TenantId,
        user: &User,
        provider: &str,
        identity: &UpstreamIdentity,
        tokens: Option<&UpstreamTokens>,
        how: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Link> {
        let now = self.now();
        let key = self.user_vault(tenant, &user.id).await?;
        let link = Link {
            tenant: tenant.clone(),
            provider: provider.to_owned(),
            key: self.link_key(tenant, provider, &identity.subject),
            user_id: user.id.clone(),
            created_at: now,
            last_login_at: now,
            sealed_profile: Self::seal_for_link(
                &key, tenant, &user.id, provider, "profile", identity,
            ),
            sealed_tokens: tokens
                .map(|t| Self::seal_for_link(&key, tenant, &user.id, provider, "tokens", t)),
        };
        self.rt()
            .store
            .create_link(&link)
            .await
            .map_err(|e| match e {
                StoreError::Conflict => EngineError::Conflict("link"),
                e => EngineError::from(e),
            })?;
        let mut ev = self.event(tenant, "federation.linked", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("provider={provider} by={how}"));
        self.record_now(ev).await?;
        Ok(link)
    }

    /// Refreshes the link (profile, tokens, last use), records the sign-in and continues
    /// as after any first factor (the tenant's MFA policy still applies).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn sign_in_linked(
        &self,
        tenant: &TenantId,
        mut link: Link,
        user: &User,
        identity: &UpstreamIdentity,
        tokens: Option<UpstreamTokens>,
        want_two: bool,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        link.last_login_at = self.now();
        self.join_by_domain(
            tenant,
            &user.id,
            &link.provider,
            identity.email.as_deref(),
            identity.email_verified,
        )
        .await;
        let key = self.user_vault(tenant, &user.id).await?;
        link.sealed_profile =
            Self::seal_for_link(&key, tenant, &user.id, &link.provider, "profile", identity);
        if let Some(t) = &tokens {
            link.sealed_tokens = Some(Self::seal_for_link(
                &key,
                tenant,
                &user.id,
                &link.provider,
                "tokens",
                t,
            ));
        }
        self.rt().store.update_link(&link).await?;
        let mut ev = self.event(tenant, "login.federated", true);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some(format!("provider={}", link.provider));
        self.record(ev);
        self.truecaller_phone(tenant, user, &link.provider, identity, meta)
            .await?;
        self.digilocker_verification(tenant, user, &link.provider, identity, meta)
            .await?;
        self.signin()
            .after_first_factor(tenant, user, vec!["fed".into()], want_two)
            .await
    }
}
