//! Password sign-in, sign-up and SSO sessions.
//!
//! Failures are uniform: an unknown email and a wrong password give the same error after
//! the same work (a verification against a dummy hash), so the answer does not reveal
//! whether an account exists.

use super::SignIn;
use crate::crypto::random_token;
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{Email, TenantId, UserId};
use crate::model::signin::NewSession;
use crate::model::signin::SignInStep;
use crate::model::{AuthContext, Hash32, Session, User};
use crate::runtime::password::check_policy;
use crate::runtime::shard::{EndSession, GetSession, PutSession, UpdateSession};

/// How recent a sign-in must be for a credential change (a factor, a passkey, recovery
/// codes, the phone number, deleting the account): a stolen session cookie alone must not
/// be able to add a credential that outlives the session.
pub const RECENT_AUTH_SECS: u64 = 300;

impl SignIn<'_> {
    /// Whether the session's user proved who they are within [`RECENT_AUTH_SECS`].
    pub fn is_recent(&self, session: &Session) -> bool {
        self.now() < session.auth.auth_time.saturating_add(RECENT_AUTH_SECS)
    }

    /// [`Self::is_recent`], as an error the pages turn into "confirm it's you".
    pub fn require_recent(&self, session: &Session) -> EngineResult<()> {
        match self.is_recent(session) {
            true => Ok(()),
            false => Err(EngineError::ReauthRequired),
        }
    }

    /// Re-proves the session's user with their password: the session's `auth_time` moves to
    /// now (its cookie is unchanged). Throttled like a sign-in, under the account's address.
    pub async fn reauthenticate(
        &self,
        tenant: &TenantId,
        session: &Session,
        password: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Session> {
        let user = self
            .user(tenant, &session.user_id)
            .await?
            .ok_or(EngineError::NotFound("user"))?;
        let account = user.email.as_str().to_lowercase();
        let attempt = self
            .rt()
            .throttle
            .reserve(tenant, &account, meta.ip.as_deref())
            .map_err(|retry_after_secs| EngineError::RateLimited { retry_after_secs })?;
        let ok = self
            .rt()
            .passwords
            .verify(password, user.password_hash.clone())
            .await?;
        let mut ev = self.event(tenant, "session.reauthenticated", ok);
        ev.actor = Some(user.id.to_string());
        ev.subject = ev.actor.clone();
        ev.ip = meta.ip.clone();
        ev.detail = Some("pwd".into());
        if !ok {
            attempt.failed();
            self.record(ev);
            return Err(EngineError::InvalidCredentials);
        }
        attempt.succeeded();
        let now = self.now();
        let change: crate::store::SessionChange = Box::new(move |s: &mut Session| {
            s.auth.auth_time = now;
            if !s.auth.amr.iter().any(|a| a == "pwd") {
                s.auth.amr.push("pwd".into());
            }
            true
        });
        let shard = self.rt().shards.shard_for(tenant, &session.key);
        let update = UpdateSession {
            tenant: tenant.clone(),
            key: session.key,
            change,
        };
        // Ended meanwhile (signed out elsewhere): it stays ended.
        let s = self
            .rt()
            .shards
            .ask(shard, update)
            .await?
            .ok_or(EngineError::ReauthRequired)?;
        self.record(ev);
        Ok(s)
    }

    /// Signs a user in with email and password.
    pub async fn password_login(
        &self,
        tenant: &TenantId,
        email: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        self.tenant(tenant).await?;
        // Keyed by what was typed (normalised), so unknown accounts throttle alike.
        let account = email.trim().to_lowercase();
        let ip = meta.ip.as_deref();
        let attempt = match self.rt().throttle.reserve(tenant, &account, ip) {
            Ok(a) => a,
            Err(retry_after_secs) => {
                self.rt()
                    .metrics
                    .logins
                    .with_label_values(&["throttled"])
                    .inc();
                let mut ev = self.event(tenant, "login.throttled", false);
                ev.ip = meta.ip.clone();
                self.record(ev);
                return Err(EngineError::RateLimited { retry_after_secs });
            }
        };
        let user = match Email::parse(email) {
            Ok(e) => self.user_by_email(tenant, &e).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = self.rt().passwords.verify(password, hash).await?;
        let mut ev = self.event(tenant, "login.password", ok);
        ev.ip = meta.ip.clone();
        match (ok, user) {
            (true, Some(user)) => {
                attempt.succeeded();
                self.rt()
                    .metrics
                    .logins
                    .with_label_values(&["success"])
                    .inc();
                ev.actor = Some(user.id.to_string());
                ev.subject = ev.actor.clone();
                self.record(ev);
                self.after_first_factor(tenant, &user, vec!["pwd".into()], false)
                    .await
            }
            (_, user) => {
                attempt.failed();
                self.rt()
                    .metrics
                    .logins
                    .with_label_values(&["failure"])
                    .inc();
                // The subject is recorded when known (for the user's own security log),
                // never the attempted email.
                ev.subject = user.map(|u| u.id.to_string());
                self.record(ev);
                Err(EngineError::InvalidCredentials)
            }
        }
    }

    /// Starts an SSO session for a user who has proven who they are (`amr` says how).
    pub async fn start_session(
        &self,
        tenant: &TenantId,
        user: &User,
        amr: Vec<String>,
    ) -> EngineResult<NewSession> {
        let t = self.tenant(tenant).await?;
        // A child's account waiting for a parent never gets a session (DPDP s. 9).
        self.account().check_child_may_sign_in(&t, user).await?;
        // A user SCIM deactivated cannot sign in, whichever way they proved who they are.
        if self.scim_deactivated(tenant, &user.id).await? {
            return Err(EngineError::InvalidCredentials);
        }
        let cookie = random_token::<32>();
        let now = self.now();
        let session = Session {
            tenant: tenant.clone(),
            key: Hash32::of(cookie.as_bytes()),
            user_id: user.id.clone(),
            auth: AuthContext {
                auth_time: now,
                amr,
                org: None,
            },
            sid: random_token::<16>(),
            created_at: now,
            expires_at: now + t.session_ttl,
            clients: Vec::new(),
        };
        let shard = self.rt().shards.shard_for(tenant, &session.key);
        self.rt()
            .shards
            .ask(shard, PutSession(session.clone()))
            .await?;
        // Last activity, for dormancy erasure (a sign-in keeps a dormant account).
        self.account().note_sign_in(tenant, &user.id).await?;
        Ok(NewSession { session, cookie })
    }

    /// The live session behind a cookie value, if any.
    pub async fn session(&self, tenant: &TenantId, cookie: &str) -> EngineResult<Option<Session>> {
        if cookie.len() != 43 {
            return Ok(None);
        }
        self.session_by_key(tenant, &Hash32::of(cookie.as_bytes()))
            .await
    }

    /// The live session with this key (the hash of its cookie), if any.
    pub(crate) async fn session_by_key(
        &self,
        tenant: &TenantId,
        key: &Hash32,
    ) -> EngineResult<Option<Session>> {
        let key = *key;
        let shard = self.rt().shards.shard_for(tenant, &key);
        let s = self
            .rt()
            .shards
            .ask(
                shard,
                GetSession {
                    tenant: tenant.clone(),
                    key,
                },
            )
            .await?;
        Ok(s.filter(|s| s.expires_at > self.now() && &s.tenant == tenant))
    }

    /// Ends the session behind a cookie value.
    pub async fn end_session(
        &self,
        tenant: &TenantId,
        cookie: &str,
        meta: &RequestMeta,
    ) -> EngineResult<Option<Session>> {
        self.end_session_by_key(tenant, Hash32::of(cookie.as_bytes()), meta)
            .await
    }

    /// A user's live sessions ("signed in on these devices").
    pub async fn user_sessions(
        &self,
        tenant: &TenantId,
        user: &crate::ids::UserId,
    ) -> EngineResult<Vec<Session>> {
        let now = self.now();
        let mut all: Vec<Session> = self
            .rt()
            .store
            .list_sessions(tenant, user)
            .await?
            .into_iter()
            .filter(|s| s.expires_at > now)
            .collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.auth.auth_time));
        Ok(all)
    }

    /// Signs a user out of their sessions with these `sid`s (their own choice on the
    /// account page); returns how many ended. Other users' sessions are never touched.
    pub async fn end_user_sessions(
        &self,
        tenant: &TenantId,
        user: &crate::ids::UserId,
        sids: &[String],
        meta: &RequestMeta,
    ) -> EngineResult<usize> {
        let mut n = 0;
        for s in self.user_sessions(tenant, user).await? {
            if sids.contains(&s.sid) {
                self.end_session_by_key(tenant, s.key, meta).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    async fn end_session_by_key(
        &self,
        tenant: &TenantId,
        key: Hash32,
        meta: &RequestMeta,
    ) -> EngineResult<Option<Session>> {
        // Every relying party the session signed in to is told (back-channel logout), and
        // the tokens are queued before the session ends: a crash in between leaves a
        // token about a session that is still there, never an ended session whose apps
        // were not told.
        let why = crate::oauth::backchannel::SESSION_ENDED;
        let told = match self.session_by_key(tenant, &key).await? {
            Some(s) => {
                self.queue_logouts(tenant, &s.user_id, Some(&s.sid), &s.clients, why)
                    .await?;
                s.clients
            }
            None => Vec::new(),
        };
        let shard = self.rt().shards.shard_for(tenant, &key);
        let ended = self
            .rt()
            .shards
            .ask(
                shard,
                EndSession {
                    tenant: tenant.clone(),
                    key,
                },
            )
            .await?;
        if let Some(s) = &ended {
            // A code issued meanwhile added a client.
            let late: Vec<_> = s
                .clients
                .iter()
                .filter(|c| !told.contains(c))
                .cloned()
                .collect();
            self.queue_logouts(tenant, &s.user_id, Some(&s.sid), &late, why)
                .await?;
            let mut ev = self.event(tenant, "logout", true);
            ev.actor = Some(s.user_id.to_string());
            ev.subject = ev.actor.clone();
            ev.ip = meta.ip.clone();
            self.record(ev);
        }
        Ok(ended)
    }

    /// Ends every session of a user and revokes every refresh chain (and the access tokens
    /// bound to them): after a password reset, and when an account is deleted. Returns
    /// how many sessions and chains were ended.
    pub async fn sign_out_everywhere(
        &self,
        tenant: &TenantId,
        user: &UserId,
        meta: &crate::engine::RequestMeta,
    ) -> EngineResult<(usize, usize)> {
        let live = self.user_sessions(tenant, user).await?;
        let sids: Vec<String> = live.iter().map(|s| s.sid.clone()).collect();
        let told: Vec<_> = live
            .iter()
            .flat_map(|s| s.clients.iter().cloned())
            .collect();
        let sessions = self.end_user_sessions(tenant, user, &sids, meta).await?;
        // Apps holding refresh tokens of sessions already gone are told too.
        self.queue_chain_logouts(tenant, user, &told, "sign_out_everywhere")
            .await?;
        let chains = self
            .revoke_user_chains(tenant, user, None, crate::model::RevokeReason::Logout)
            .await?;
        Ok((sessions, chains))
    }

    /// Revokes a user's live refresh chains (only one client's, if given) through their
    /// shards, so cached copies learn it; returns how many.
    pub(crate) async fn revoke_user_chains(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: Option<&crate::ids::ClientId>,
        reason: crate::model::RevokeReason,
    ) -> EngineResult<usize> {
        let mut n = 0;
        for c in self.rt().store.list_chains(tenant, user).await? {
            if c.revoked.is_none() && client.is_none_or(|id| *id == c.client_id) {
                let shard = self.rt().shards.shard_for(tenant, &c.id);
                let revoke = crate::runtime::shard::RevokeChain {
                    tenant: tenant.clone(),
                    chain: c.id.clone(),
                    reason,
                };
                self.rt().shards.ask(shard, revoke).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Creates a user with a password.
    pub(crate) async fn create_password_user(
        &self,
        tenant: &TenantId,
        email: &str,
        password: &str,
        name: Option<String>,
        email_verified: bool,
    ) -> EngineResult<User> {
        self.tenant(tenant).await?;
        let email = Email::parse(email)?;
        check_policy(password)?;
        let hash = self.rt().passwords.hash(password).await?;
        self.create_hashed_user(
            tenant,
            email,
            hash,
            name,
            Default::default(),
            email_verified,
        )
        .await
    }

    /// Creates a user whose password was hashed already (a sign-up that waited for its
    /// code).
    pub(crate) async fn create_hashed_user(
        &self,
        tenant: &TenantId,
        email: Email,
        hash: String,
        name: Option<String>,
        profile: std::collections::BTreeMap<String, String>,
        email_verified: bool,
    ) -> EngineResult<User> {
        let user = User {
            tenant: tenant.clone(),
            id: UserId::generate(),
            email,
            email_verified,
            name: name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            password_hash: Some(hash),
            created_at: self.now(),
            profile,
            deleted_at: None,
        };
        self.insert_new_user(&user).await?;
        Ok(user)
    }
}
