//! The itemised notice of a purpose (DPDP Act s. 5, Rules 2025, Rule 3), as the consent
//! step shows it before the user agrees: the personal data items, the purpose and the
//! service it enables, in the user's language (else English), with the links to withdraw
//! consent, to exercise their rights and to complain to the Data Protection Board.

use serde::Serialize;
use tollgate_engine::model::notice::NoticeSettings;

/// What the template shows of one purpose's notice.
#[derive(Debug, Serialize)]
pub struct NoticeRow<'a> {
    /// The language the notice text is in (`lang` of its section).
    pub lang: &'a str,
    /// The personal data items.
    pub data_items: &'a [String],
    /// The purpose, as the tenant describes it.
    pub purpose: &'a str,
    /// The goods or service it enables.
    pub service: &'a str,
    /// Where to complain to the Board.
    pub board_url: &'a str,
}

/// The notice of `purpose` in `lang` (else English), if the tenant wrote one.
pub fn itemised<'a>(
    notices: &'a NoticeSettings,
    purpose: &str,
    lang: &str,
) -> Option<NoticeRow<'a>> {
    let (lang, t) = notices.text_for(purpose, lang)?;
    Some(NoticeRow {
        lang,
        data_items: &t.data_items,
        purpose: &t.purpose,
        service: &t.service,
        board_url: notices.board_url(),
    })
}

/// The language a purpose's notice is shown in for a page in `lang`: its own text's
/// language, or the page's when the tenant wrote no itemised notice (the description
/// was shown on a page in that language).
pub fn shown_language<'a>(notices: &'a NoticeSettings, purpose: &str, lang: &'a str) -> &'a str {
    notices
        .text_for(purpose, lang)
        .map(|(l, _)| l)
        .unwrap_or(lang)
}
