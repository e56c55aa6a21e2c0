//! Phone numbers and the flows that send codes to them: adding a number to an account
//! (which makes it a `Phone` factor whose `lookup` is the E.164 number), a code as a
//! second factor, and signing in by a code.
//!
//! Numbers are parsed with libphonenumber's metadata (the `phonenumber` crate) and kept
//! in E.164. Only numbers that can be mobile are accepted: premium-rate, shared-cost and
//! other service numbers are how toll fraud makes money from one-time-code forms.

use super::SignIn;
use serde_json::json;

use crate::crypto::random_token;
use crate::engine::RequestMeta;
use crate::error::{EngineError, EngineResult};
use crate::ids::{TenantId, UserId};
use crate::model::phone::PhoneNumber;
use crate::model::signin::SignInStep;
use crate::model::{Factor, FactorKind, Hash32, Tenant};
use crate::runtime::delivery::{Channel, TextMessage};
use crate::signin::email_codes::{CodeSent, handle_key};
use crate::signin::mails::Writer;
use crate::signin::otp::{CodeData, Flow};
use crate::store::StoreError;

fn dead() -> EngineError {
    EngineError::Invalid(
        "This code or link has expired or was already used. Ask for a new one.".into(),
    )
}

impl SignIn<'_> {
    /// Parses a number with the configured default region.
    pub fn parse_phone(&self, input: &str) -> EngineResult<PhoneNumber> {
        PhoneNumber::parse(input, self.rt().otp.config.default_region.as_deref())
    }

    /// Queues a code for a phone, written by `w` (in the recipient's language).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_phone_code(
        &self,
        w: &Writer,
        t: &Tenant,
        to: &PhoneNumber,
        channel: Channel,
        code: String,
        user: Option<&UserId>,
        flow: Flow,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let minutes = self.otp_minutes();
        let text = w.code_text(&code, minutes);
        let mut ev = self.otp_event(&t.id, "otp.sent", true, user, flow, &to.masked(), meta);
        if let Some(d) = ev.detail.as_mut() {
            d.push(' ');
            d.push_str(channel.as_str());
        }
        self.queue_text(
            TextMessage {
                to: to.clone(),
                channel,
                code,
                text,
                tenant: t.id.clone(),
                tenant_name: t.display_name.clone(),
                minutes,
            },
            ev,
        )
    }

    /// Starts adding a phone number to an account: sends it a code, in the user's saved
    /// language, else `lang` (the page's), else the tenant's default.
    pub async fn phone_enrol_start(
        &self,
        tenant: &TenantId,
        user: &UserId,
        number: &str,
        channel: Channel,
        lang: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<CodeSent> {
        let t = self.tenant(tenant).await?;
        if !t.mfa.factors.contains(&FactorKind::Phone) {
            return Err(EngineError::invalid(
                "This organisation does not use phone numbers.",
            ));
        }
        let phone = self.parse_phone(number)?;
        self.limit_send(tenant, true, phone.as_str(), Flow::PhoneEnrol, meta)
            .await?;
        let handle = random_token::<32>();
        let code = self
            .put_code(
                tenant,
                Hash32::of(handle.as_bytes()),
                Flow::PhoneEnrol,
                Some(user),
                CodeData {
                    phone: Some(phone.as_str().to_owned()),
                    channel: Some(channel),
                    ..CodeData::default()
                },
            )
            .await?;
        let owner = self.user(tenant, user).await?;
        self.send_phone_code(
            &self.writer(&t, owner.as_ref(), lang),
            &t,
            &phone,
            channel,
            code,
            Some(user),
            Flow::PhoneEnrol,
            meta,
        )?;
        Ok(CodeSent {
            handle,
            masked: phone.masked(),
        })
    }

    /// Confirms a number with the code sent to it: it becomes a `Phone` factor.
    pub async fn phone_enrol_confirm(
        &self,
        tenant: &TenantId,
        user: &UserId,
        handle: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<()> {
        let r = self
            .check_code(tenant, &handle_key(handle)?, Flow::PhoneEnrol, code, meta)
            .await?;
        let (Some(number), true) = (r.data.phone, r.user_id.as_ref() == Some(user)) else {
            return Err(dead());
        };
        let phone = PhoneNumber::from_stored(number);
        let channel = r.data.channel.unwrap_or_default();
        if !self.attach_phone(tenant, user, &phone, channel).await? {
            return Ok(());
        }
        self.factor_event(tenant, user, "mfa.enrolled", FactorKind::Phone, meta)
            .await
    }

    /// Makes a number the user has proven theirs (a code sent to it; a Truecaller
    /// verification) a `Phone` factor: found by a blind index, the number itself sealed
    /// under the user's data key, so deleting the account shreds it like the rest of the
    /// profile. `Ok(false)` if it is already the user's. A number on another account is
    /// refused with the same words whoever holds it.
    pub(crate) async fn attach_phone(
        &self,
        tenant: &TenantId,
        user: &UserId,
        phone: &PhoneNumber,
        channel: Channel,
    ) -> EngineResult<bool> {
        let key = self.data_key(tenant, user).await?.ok_or_else(dead)?;
        let factor = Factor {
            tenant: tenant.clone(),
            user_id: user.clone(),
            id: random_token::<12>(),
            kind: FactorKind::Phone,
            label: phone.masked(),
            lookup: Some(self.phone_key(tenant, phone)),
            data: json!({
                "channel": channel,
                "number": self.seal_personal(tenant, user, &key, phone.as_str()),
            }),
            version: 0,
            created_at: self.now(),
            last_used_at: None,
        };
        match self.rt().store.create_factor(&factor).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => {
                let mine = self
                    .rt()
                    .store
                    .find_factor(tenant, &self.phone_key(tenant, phone))
                    .await?
                    .is_some_and(|f| &f.user_id == user);
                if mine {
                    Ok(false)
                } else {
                    Err(EngineError::invalid(
                        "This number cannot be added to your account. Contact support if it is yours.",
                    ))
                }
            }
            Err(e) => Err(EngineError::from(e)),
        }
    }

    /// The user's phone factor (the first enrolled), as number and channel.
    pub(crate) async fn user_phone(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> EngineResult<Option<(PhoneNumber, Channel)>> {
        let factor = self
            .rt()
            .store
            .list_factors(tenant, user)
            .await?
            .into_iter()
            .find(|f| f.kind == FactorKind::Phone);
        let Some(f) = factor else { return Ok(None) };
        let channel = serde_json::from_value(f.data["channel"].clone()).unwrap_or_default();
        Ok(self
            .factor_phone(&f)
            .await?
            .map(|n| (PhoneNumber::from_stored(n), channel)))
    }

    /// The number of a phone factor, opened with its user's data key.
    pub(crate) async fn factor_phone(&self, f: &Factor) -> EngineResult<Option<String>> {
        let Some(sealed) = f.data["number"].as_str() else {
            return Ok(None);
        };
        let Some(key) = self.data_key(&f.tenant, &f.user_id).await? else {
            return Ok(None);
        };
        self.open_personal(&f.tenant, &f.user_id, &key, sealed)
            .map(Some)
    }

    /// The blind index of a phone number, the factor's lookup key.
    fn phone_key(&self, tenant: &TenantId, phone: &PhoneNumber) -> String {
        format!("phone:{}", self.blind_index(tenant, phone.as_str()))
    }

    /// Starts signing in by a phone code. The answer is the same whether or not an
    /// account has the number (the same records are written; the message is only sent
    /// when one does), and the number counts against the limits either way.
    ///
    /// The code is written in `lang`, the page's language (else the tenant's default):
    /// reading the account's saved language would take a read only when an account
    /// exists, and that difference in time would tell whether the number has one.
    pub async fn phone_sign_in_start(
        &self,
        tenant: &TenantId,
        number: &str,
        channel: Channel,
        tx: Option<String>,
        lang: Option<&str>,
        meta: &RequestMeta,
    ) -> EngineResult<CodeSent> {
        let t = self.tenant(tenant).await?;
        let phone = self.parse_phone(number)?;
        self.limit_send(tenant, true, phone.as_str(), Flow::PhoneSignIn, meta)
            .await?;
        let user = self
            .rt()
            .store
            .find_factor(tenant, &self.phone_key(tenant, &phone))
            .await?
            .filter(|f| f.kind == FactorKind::Phone)
            .map(|f| f.user_id);
        let handle = random_token::<32>();
        let code = self
            .put_code(
                tenant,
                Hash32::of(handle.as_bytes()),
                Flow::PhoneSignIn,
                user.as_ref(),
                CodeData {
                    tx,
                    channel: Some(channel),
                    ..CodeData::default()
                },
            )
            .await?;
        match &user {
            Some(u) => self.send_phone_code(
                &self.writer(&t, None, lang),
                &t,
                &phone,
                channel,
                code,
                Some(u),
                Flow::PhoneSignIn,
                meta,
            )?,
            None => self.record(self.otp_event(
                tenant,
                "otp.no_account",
                false,
                None,
                Flow::PhoneSignIn,
                &phone.masked(),
                meta,
            )),
        }
        Ok(CodeSent {
            handle,
            masked: phone.masked(),
        })
    }

    /// Finishes a phone sign-in with its code.
    pub async fn phone_sign_in_code(
        &self,
        tenant: &TenantId,
        handle: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> EngineResult<SignInStep> {
        let r = self
            .check_code(tenant, &handle_key(handle)?, Flow::PhoneSignIn, code, meta)
            .await;
        let user = match r {
            Ok(r) => match r.user_id {
                Some(u) => self.user(tenant, &u).await?,
                None => None,
            },
            Err(e) => {
                self.sign_in_event(tenant, "login.phone_code", None, meta);
                return Err(e);
            }
        };
        let Some(user) = user else {
            self.sign_in_event(tenant, "login.phone_code", None, meta);
            return Err(dead());
        };
        self.sign_in_event(tenant, "login.phone_code", Some(&user.id), meta);
        self.after_first_factor_by(
            tenant,
            &user,
            vec![FactorKind::Phone.amr().into()],
            false,
            Some(FactorKind::Phone),
        )
        .await
    }
}
