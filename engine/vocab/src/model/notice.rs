//! Consent receipts (DPDP Rules 2025, Rule 4 and the First Schedule): an immutable record of
//! every grant and withdrawal of a consent purpose, kept per user and downloadable by them.
//!
//! A receipt holds no personal data beyond the user's random id: the purpose, the notice
//! version and language shown, the time, the channel and (for a consent manager) the
//! manager's client id. It is therefore stored in the clear; the IP address of the request
//! stays in the audit event, which seals it.

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::ids::{TenantId, UserId};

/// Where a consent was given or withdrawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChannel {
    /// The hosted consent step shown before the sign-up (or a sign-in) completes.
    SignUpPage,
    /// The user's account page.
    AccountPage,
    /// A consent manager (Rule 4) acting on the user's behalf.
    ConsentManager,
    /// The tenant's own back end, through the admin API.
    Api,
}

impl ConsentChannel {
    /// The wire name (`sign_up_page`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUpPage => "sign_up_page",
            Self::AccountPage => "account_page",
            Self::ConsentManager => "consent_manager",
            Self::Api => "api",
        }
    }
}

/// How an answer reached the engine: the channel, the language the notice was shown in,
/// and the consent manager's client id when one acted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentVia {
    /// The channel.
    pub channel: ConsentChannel,
    /// The language tag of the notice shown (`en`, `hi`, …).
    pub language: String,
    /// The consent manager's client id (channel `ConsentManager` only).
    pub manager: Option<String>,
}

impl ConsentVia {
    /// An answer given on a hosted page in `language`.
    pub fn page(channel: ConsentChannel, language: &str) -> Self {
        Self {
            channel,
            language: language.to_owned(),
            manager: None,
        }
    }
}

/// One grant or withdrawal, never changed once written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentReceipt {
    /// Owner.
    pub tenant: TenantId,
    /// Whose consent.
    pub user_id: UserId,
    /// Random id of the receipt.
    pub id: String,
    /// The purpose.
    pub purpose: String,
    /// The notice version the answer was given at.
    pub version: u32,
    /// The language the notice was shown in.
    pub language: String,
    /// Granted (`true`) or withdrawn.
    pub granted: bool,
    /// When.
    pub at: UnixTime,
    /// Through which channel.
    pub channel: ConsentChannel,
    /// The consent manager's client id, when one acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
}

/// Where a user complains to the Data Protection Board of India when the tenant sets no
/// other address (DPDP Act s. 5(1)(iii)). Operators check it against the Board's current
/// address.
pub const DEFAULT_BOARD_URL: &str = "https://www.dpb.gov.in/";

/// Languages a notice may be written in: English and the 22 languages of the Eighth
/// Schedule to the Constitution (Rule 3 asks for the notice in English or any of them),
/// by their ISO 639 codes.
pub const NOTICE_LANGUAGES: &[&str] = &[
    "en", "as", "bn", "brx", "doi", "gu", "hi", "kn", "ks", "kok", "mai", "ml", "mni", "mr", "ne",
    "or", "pa", "sa", "sat", "sd", "ta", "te", "ur",
];

/// Most data items one notice lists.
const MAX_ITEMS: usize = 30;
/// Longest text of a notice field.
const MAX_TEXT: usize = 2000;

/// A tenant's itemised notices and consent managers (DPDP Act s. 5, Rules 3 and 4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NoticeSettings {
    /// Where users complain to the Data Protection Board; [`DEFAULT_BOARD_URL`] if unset.
    pub board_url: Option<String>,
    /// One notice per consent purpose that has one.
    pub notices: Vec<PurposeNotice>,
    /// The client ids of the consent managers (Rule 4) registered with the tenant: each a
    /// confidential client that authenticates to the consent-manager API.
    pub consent_managers: Vec<String>,
}

/// The itemised notice of one purpose, written per language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeNotice {
    /// The purpose's id.
    pub purpose: String,
    /// The texts by language tag (one of [`NOTICE_LANGUAGES`]); English is required, as the
    /// fallback for a user whose language has none.
    pub texts: std::collections::BTreeMap<String, NoticeText>,
}

/// What a notice says in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeText {
    /// The personal data the purpose uses, item by item.
    pub data_items: Vec<String>,
    /// The purpose, described for the user.
    pub purpose: String,
    /// The goods or service the processing enables.
    pub service: String,
}

impl NoticeSettings {
    /// The board's address, defaulted.
    pub fn board_url(&self) -> &str {
        self.board_url.as_deref().unwrap_or(DEFAULT_BOARD_URL)
    }

    /// The notice of a purpose in `lang`, else in English: `(language shown, text)`.
    pub fn text_for(&self, purpose: &str, lang: &str) -> Option<(&str, &NoticeText)> {
        let n = self.notices.iter().find(|n| n.purpose == purpose)?;
        n.texts
            .get_key_value(lang)
            .or_else(|| n.texts.get_key_value("en"))
            .map(|(l, t)| (l.as_str(), t))
    }

    /// Checks the notices against the tenant's purpose ids: each names a known purpose
    /// once, has English, only known languages, and bounded non-empty texts; the board URL
    /// is https; consent managers are listed once each.
    pub fn check(&self, purposes: &[&str]) -> Result<(), String> {
        if let Some(u) = &self.board_url
            && (!u.starts_with("https://") || u.len() > 500 || u.contains(char::is_whitespace))
        {
            return Err(format!("board_url {u:?}: an https URL is needed"));
        }
        let mut seen = std::collections::HashSet::new();
        for n in &self.notices {
            if !purposes.contains(&n.purpose.as_str()) {
                return Err(format!(
                    "notice for unknown purpose {:?}; the tenant's purposes: {}",
                    n.purpose,
                    purposes.join(", ")
                ));
            }
            if !seen.insert(n.purpose.as_str()) {
                return Err(format!("purpose {} has two notices", n.purpose));
            }
            if !n.texts.contains_key("en") {
                return Err(format!(
                    "notice for {}: an English text is needed (the fallback)",
                    n.purpose
                ));
            }
            for (lang, t) in &n.texts {
                if !NOTICE_LANGUAGES.contains(&lang.as_str()) {
                    return Err(format!(
                        "notice for {}: language {lang:?} is not English or an Eighth-Schedule language ({})",
                        n.purpose,
                        NOTICE_LANGUAGES.join(", ")
                    ));
                }
                let bad = |s: &str| s.trim().is_empty() || s.len() > MAX_TEXT;
                if bad(&t.purpose) || bad(&t.service) {
                    return Err(format!(
                        "notice for {} ({lang}): purpose and service need 1-{MAX_TEXT} characters",
                        n.purpose
                    ));
                }
                if t.data_items.is_empty()
                    || t.data_items.len() > MAX_ITEMS
                    || t.data_items
                        .iter()
                        .any(|i| i.trim().is_empty() || i.len() > 200)
                {
                    return Err(format!(
                        "notice for {} ({lang}): list 1-{MAX_ITEMS} data items of 1-200 characters",
                        n.purpose
                    ));
                }
            }
        }
        let mut managers = std::collections::HashSet::new();
        for m in &self.consent_managers {
            if !managers.insert(m.as_str()) {
                return Err(format!("consent manager {m} is listed twice"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(purpose: &str) -> NoticeText {
        NoticeText {
            data_items: vec!["Email address".into()],
            purpose: purpose.into(),
            service: "Newsletters".into(),
        }
    }

    fn settings(langs: &[&str]) -> NoticeSettings {
        NoticeSettings {
            notices: vec![PurposeNotice {
                purpose: "news".into(),
                texts: langs.iter().map(|l| (l.to_string(), text(l))).collect(),
            }],
            ..NoticeSettings::default()
        }
    }

    #[test]
    fn notices_name_known_purposes_with_english_and_known_languages() {
        assert!(settings(&["en", "hi", "ta"]).check(&["news"]).is_ok());
        assert!(settings(&["en"]).check(&["terms"]).is_err());
        assert!(settings(&["hi"]).check(&["news"]).is_err());
        assert!(settings(&["en", "fr"]).check(&["news"]).is_err());
        let mut s = settings(&["en"]);
        s.notices.push(s.notices[0].clone());
        assert!(s.check(&["news"]).is_err());
        let mut s = settings(&["en"]);
        s.board_url = Some("http://board.example".into());
        assert!(s.check(&["news"]).is_err());
        let mut s = settings(&["en"]);
        s.consent_managers = vec!["a".into(), "a".into()];
        assert!(s.check(&["news"]).is_err());
        let mut s = settings(&["en"]);
        s.notices[0].texts.get_mut("en").unwrap().data_items.clear();
        assert!(s.check(&["news"]).is_err());
    }

    #[test]
    fn a_notice_falls_back_to_english() {
        let s = settings(&["en", "hi"]);
        assert_eq!(s.text_for("news", "hi").unwrap().0, "hi");
        assert_eq!(s.text_for("news", "ta").unwrap().0, "en");
        assert!(s.text_for("terms", "en").is_none());
        assert_eq!(s.board_url(), DEFAULT_BOARD_URL);
    }
}
