//! The words of every mail and text message the engine sends: code mails, notices about
//! the account, and codes by SMS or WhatsApp. Each comes from the tenant's catalogue
//! (`mail-…` and `sms-…` messages, with the tenant's own on top) in the recipient's
//! language: the one they saved, else the one of the page they asked from, else the
//! tenant's default (see [`recipient_language`]).
//!
//! Mails are plain text. A code and a link each stand on a line of their own after the
//! message that introduces them, outside any message: no translation can move, break or
//! drop them, and readers (and tests) find them where they always were.

use tollgate_i18n::{Arg, Messages};

use super::SignIn;
use crate::ids::Email;
use crate::model::{FactorKind, Tenant, User};
use crate::runtime::catalogs::recipient_language;
use crate::runtime::delivery::Mail;

/// Why a code is mailed: each has its own subject and wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeMail {
    /// Passwordless sign-in (with a link).
    SignIn,
    /// A forgotten password (with a link).
    Reset,
    /// Proving the account's address (with a link).
    Verify,
    /// Proving the address of an account being created.
    SignUp,
    /// Proving a new sign-in address.
    ChangeEmail,
    /// A second factor of a pending sign-in.
    Factor,
}

impl CodeMail {
    /// The prefix of its messages: `{prefix}-subject`, `-intro`, `-link`.
    fn prefix(self) -> &'static str {
        match self {
            Self::SignIn => "mail-sign-in",
            Self::Reset => "mail-reset",
            Self::Verify => "mail-verify",
            Self::SignUp => "mail-sign-up",
            Self::ChangeEmail => "mail-change-email",
            Self::Factor => "mail-factor",
        }
    }
}

/// Writes mails and texts for one recipient: their language's messages and the name the
/// tenant shows.
pub(crate) struct Writer {
    m: Messages,
    brand: String,
}

impl Writer {
    /// A writer with messages `m` (one language of the tenant's catalogue), for `t`.
    pub(crate) fn new(m: Messages, t: &Tenant) -> Self {
        // The name the pages show: the theme's, else the tenant's display name.
        let brand = t
            .branding
            .theme
            .name
            .clone()
            .unwrap_or_else(|| t.display_name.clone());
        Self { m, brand }
    }

    fn say(&self, id: &str) -> String {
        self.m.get(id, &[("tenant", Arg::Text(self.brand.clone()))])
    }

    fn say_with(&self, id: &str, more: &[(&str, Arg)]) -> String {
        let mut args = vec![("tenant", Arg::Text(self.brand.clone()))];
        args.extend(more.iter().cloned());
        self.m.get(id, &args)
    }

    /// A mail with a one-time code (and a link, for the kinds that have one) that
    /// expires in `minutes`.
    pub(crate) fn code_mail(
        &self,
        to: Email,
        kind: CodeMail,
        code: &str,
        link: Option<&str>,
        minutes: u64,
    ) -> Mail {
        let p = kind.prefix();
        let mut text = format!("{}\n\n    {code}\n\n", self.say(&format!("{p}-intro")));
        if let Some(url) = link {
            text.push_str(&format!("{}\n{url}\n\n", self.say(&format!("{p}-link"))));
        }
        text.push_str(&self.say_with("mail-code-expiry", &[("minutes", Arg::from(minutes))]));
        text.push('\n');
        Mail {
            to,
            subject: self.say(&format!("{p}-subject")),
            text,
        }
    }

    /// To an address that has an account, when someone tried to sign up with it.
    pub(crate) fn existing_address_mail(&self, to: Email) -> Mail {
        Mail {
            to,
            subject: self.say("mail-existing-subject"),
            text: format!(
                "{}\n\n{}\n{}\n",
                self.say("mail-existing-body"),
                self.say("mail-existing-if-you"),
                self.say("mail-existing-if-not"),
            ),
        }
    }

    /// To the old sign-in address, when it was changed to `new_masked`.
    pub(crate) fn email_changed_mail(&self, to: Email, new_masked: &str) -> Mail {
        Mail {
            to,
            subject: self.say("mail-email-changed-subject"),
            text: format!(
                "{}\n\n{}\n",
                self.say_with(
                    "mail-email-changed-body",
                    &[("address", Arg::from(new_masked))]
                ),
                self.say("mail-email-changed-advice"),
            ),
        }
    }

    /// A grievance was answered: where to read the answer (not the answer itself, which
    /// the user reads signed in).
    pub(crate) fn grievance_answered_mail(&self, to: Email, url: &str) -> Mail {
        Mail {
            to,
            subject: self.say("grv-mail-subject"),
            text: format!("{}\n\n{url}\n", self.say("grv-mail-body")),
        }
    }

    /// An invitation to join an organisation: the link to accept it, and for how long.
    pub(crate) fn org_invitation_mail(&self, to: Email, org: &str, url: &str, days: u64) -> Mail {
        let org = Arg::Text(org.to_owned());
        let days = Arg::Number(i64::try_from(days).unwrap_or(i64::MAX));
        Mail {
            to,
            subject: self.say_with("org-mail-subject", &[("org", org.clone())]),
            text: format!(
                "{}\n\n{url}\n\n{}\n",
                self.say_with("org-mail-body", &[("org", org)]),
                self.say_with("org-mail-expiry", &[("days", days)])
            ),
        }
    }

    /// A child named the recipient as their parent: the link to read the child's notice
    /// and consent or refuse, and how long it works.
    pub(crate) fn parent_consent_mail(
        &self,
        to: Email,
        child: Option<&str>,
        url: &str,
        days: u64,
    ) -> Mail {
        let child = Arg::Text(child.unwrap_or_default().to_owned());
        let days = Arg::Number(i64::try_from(days).unwrap_or(i64::MAX));
        Mail {
            to,
            subject: self.say("child-mail-subject"),
            text: format!(
                "{}\n\n{url}\n\n{}\n",
                self.say_with("child-mail-body", &[("child", child)]),
                self.say_with("child-mail-expiry", &[("days", days)])
            ),
        }
    }

    /// A sign-in method was added to (or removed from) the account.
    pub(crate) fn factor_notice_mail(&self, to: Email, removed: bool, factor: FactorKind) -> Mail {
        let method = self.m.get(
            match factor {
                FactorKind::Totp => "mail-method-totp",
                FactorKind::Passkey => "mail-method-passkey",
                FactorKind::Phone => "mail-method-phone",
                FactorKind::RecoveryCodes => "mail-method-recovery-codes",
                FactorKind::Email => "mail-method-email",
            },
            &[],
        );
        let (subject, body) = match removed {
            false => ("mail-factor-added-subject", "mail-factor-added-body"),
            true => ("mail-factor-removed-subject", "mail-factor-removed-body"),
        };
        Mail {
            to,
            subject: self.say(subject),
            text: format!(
                "{}\n\n{}\n",
                self.say_with(body, &[("method", Arg::Text(method))]),
                self.say("mail-factor-advice"),
            ),
        }
    }

    /// The whole text of a code by SMS or WhatsApp.
    pub(crate) fn code_text(&self, code: &str, minutes: u64) -> String {
        self.say_with(
            "sms-code",
            &[("code", Arg::from(code)), ("minutes", Arg::from(minutes))],
        )
    }
}

impl SignIn<'_> {
    /// A writer for `t` in the recipient's language: `user`'s saved `locale` if they have
    /// one, else `page` (the language of the page the request came from), else the
    /// tenant's default.
    pub(crate) fn writer(&self, t: &Tenant, user: Option<&User>, page: Option<&str>) -> Writer {
        let catalog = self.rt().catalogs.of(t);
        let saved = user
            .and_then(|u| u.profile.get("locale"))
            .map(String::as_str);
        let lang = recipient_language(&catalog, saved, page);
        Writer::new(catalog.messages(lang), t)
    }

    /// The catalogue's own tag for `lang` if the tenant's catalogue has that language
    /// (or a form of it), to keep as a user's `locale`; `None` otherwise.
    pub(crate) fn known_language(&self, t: &Tenant, lang: &str) -> Option<String> {
        let catalog = self.rt().catalogs.of(t);
        tollgate_i18n::negotiate::best([lang], catalog.languages()).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TenantId;
    use std::collections::BTreeMap;
    use tollgate_i18n::Catalog;

    fn tenant() -> Tenant {
        Tenant::new(TenantId::parse("shop").unwrap(), "Shop".into(), 0)
    }

    fn writer(lang: &str) -> Writer {
        Writer::new(Catalog::shipped().messages(lang), &tenant())
    }

    fn to() -> Email {
        Email::parse("asha@example.com").unwrap()
    }

    #[test]
    fn english_code_mails_keep_their_wording() {
        let m = writer("en").code_mail(
            to(),
            CodeMail::SignIn,
            "123456",
            Some("https://id.example/shop/login/link?token=abc"),
            10,
        );
        assert_eq!(m.subject, "Your sign-in code for Shop");
        assert_eq!(
            m.text,
            "Your code to sign in to Shop is\n\n    123456\n\n\
Or open this link to sign in:\nhttps://id.example/shop/login/link?token=abc\n\n\
It expires in 10 minutes and works once. If you did not ask for this, ignore this \
email: nothing changes without the code.\n"
        );
        let m = writer("en").code_mail(to(), CodeMail::SignUp, "654321", None, 1);
        assert_eq!(m.subject, "Your code to create your Shop account");
        assert!(m.text.contains("\n    654321\n"), "{}", m.text);
        assert!(m.text.contains("It expires in 1 minute and"), "{}", m.text);
        assert!(!m.text.contains("link"), "{}", m.text);
    }

    #[test]
    fn hindi_mails_carry_the_code_and_link_untouched() {
        let link = "https://id.example/shop/password/reset?token=abc";
        let m = writer("hi").code_mail(to(), CodeMail::Reset, "123456", Some(link), 10);
        assert_eq!(m.subject, "अपना Shop पासवर्ड रीसेट करें");
        assert!(
            m.text.starts_with("अपना Shop पासवर्ड रीसेट करने के लिए"),
            "{}",
            m.text
        );
        assert!(m.text.contains("\n    123456\n"), "{}", m.text);
        assert!(m.text.contains(&format!(":\n{link}\n")), "{}", m.text);
        assert!(m.text.contains("10 मिनट"), "{}", m.text);
        // No bidi isolation marks in a left-to-right language.
        assert!(!m.text.contains('\u{2068}'), "{:?}", m.text);
        let sms = writer("hi").code_text("123456", 10);
        assert_eq!(
            sms,
            "123456 आपका Shop सत्यापन कोड है। यह 10 मिनट में समाप्त हो जाएगा। इसे किसी के साथ साझा न करें।"
        );
    }

    #[test]
    fn every_kind_of_mail_has_its_own_words_in_both_languages() {
        for lang in ["en", "hi"] {
            let w = writer(lang);
            let mut subjects = vec![];
            for kind in [
                CodeMail::SignIn,
                CodeMail::Reset,
                CodeMail::Verify,
                CodeMail::SignUp,
                CodeMail::ChangeEmail,
                CodeMail::Factor,
            ] {
                // Only these three carry a link.
                let link = matches!(kind, CodeMail::SignIn | CodeMail::Reset | CodeMail::Verify)
                    .then_some("https://x.example/l");
                let m = w.code_mail(to(), kind, "123456", link, 10);
                // A missing message shows its id: none may.
                assert!(
                    !m.subject.contains("mail-"),
                    "{lang} {kind:?}: {}",
                    m.subject
                );
                assert!(!m.text.contains("mail-"), "{lang} {kind:?}: {}", m.text);
                assert!(m.subject.contains("Shop"), "{lang} {kind:?}: {}", m.subject);
                subjects.push(m.subject);
            }
            for removed in [false, true] {
                for f in [
                    FactorKind::Totp,
                    FactorKind::Passkey,
                    FactorKind::Phone,
                    FactorKind::RecoveryCodes,
                    FactorKind::Email,
                ] {
                    let m = w.factor_notice_mail(to(), removed, f);
                    assert!(!m.text.contains("mail-"), "{lang}: {}", m.text);
                    subjects.push(m.subject);
                }
            }
            let m = w.existing_address_mail(to());
            assert!(!m.text.contains("mail-"), "{lang}: {}", m.text);
            subjects.push(m.subject);
            let m = w.email_changed_mail(to(), "n***@example.com");
            assert!(m.text.contains("n***@example.com"), "{lang}: {}", m.text);
            subjects.push(m.subject);
            subjects.sort();
            subjects.dedup();
            // Six code mails, two factor notices, two more.
            assert_eq!(subjects.len(), 10, "{lang}: {subjects:?}");
        }
        let en = writer("en").factor_notice_mail(to(), true, FactorKind::Passkey);
        assert_eq!(
            en.subject,
            "A sign-in method was removed from your account at Shop"
        );
        assert!(
            en.text.starts_with(
                "A sign-in method (a passkey) was removed from your Shop account.\n\n"
            ),
            "{}",
            en.text
        );
    }

    #[test]
    fn the_tenants_messages_and_theme_name_win() {
        let mut t = tenant();
        t.branding.theme.name = Some("Shop & Co".into());
        let mut o = BTreeMap::new();
        o.insert(
            "en".to_owned(),
            "sms-code = { $tenant }: { $code } (valid { $minutes } min)\n".to_owned(),
        );
        let c = Catalog::with_overrides(&o, "en").unwrap();
        let w = Writer::new(c.messages("en"), &t);
        assert_eq!(
            w.code_text("123456", 10),
            "Shop & Co: 123456 (valid 10 min)"
        );
        // What the tenant left alone keeps the shipped words.
        let m = w.code_mail(to(), CodeMail::Factor, "123456", None, 10);
        assert_eq!(m.subject, "Your Shop & Co verification code");
    }
}
