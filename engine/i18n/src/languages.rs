//! The languages Tollgate knows by name: English and the 22 languages of the Eighth
//! Schedule of the Constitution of India. Knowing a language here only gives it a name
//! in its own script (for the switcher) and a writing direction; its messages come from
//! a catalogue, shipped (English, Hindi) or added by a tenant. A tenant may add any other
//! BCP 47 language too, naming it with the `language-name` and `language-dir` messages.

/// Which way a script runs, for `<html dir>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Left to right.
    Ltr,
    /// Right to left (Urdu, Kashmiri and Sindhi in Perso-Arabic script).
    Rtl,
}

impl Direction {
    /// The `dir` attribute's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ltr => "ltr",
            Self::Rtl => "rtl",
        }
    }
}

/// A language Tollgate can name.
#[derive(Clone, Copy, Debug)]
pub struct Language {
    /// BCP 47 tag (ISO 639-1 where there is one, else 639-3).
    pub tag: &'static str,
    /// Its name in English.
    pub english: &'static str,
    /// Its name in itself.
    pub autonym: &'static str,
    /// Its usual script's direction.
    pub dir: Direction,
    /// Digits grouped as in India (12,34,567) rather than in threes (1,234,567).
    pub indian_grouping: bool,
}

const fn lang(
    tag: &'static str,
    english: &'static str,
    autonym: &'static str,
    dir: Direction,
) -> Language {
    Language {
        tag,
        english,
        autonym,
        dir,
        indian_grouping: true,
    }
}

use Direction::{Ltr, Rtl};

/// English, then the Eighth Schedule in its order.
pub const KNOWN: &[Language] = &[
    Language {
        tag: "en",
        english: "English",
        autonym: "English",
        dir: Ltr,
        indian_grouping: false,
    },
    lang("as", "Assamese", "অসমীয়া", Ltr),
    lang("bn", "Bengali", "বাংলা", Ltr),
    lang("brx", "Bodo", "बड़ो", Ltr),
    lang("doi", "Dogri", "डोगरी", Ltr),
    lang("gu", "Gujarati", "ગુજરાતી", Ltr),
    lang("hi", "Hindi", "हिन्दी", Ltr),
    lang("kn", "Kannada", "ಕನ್ನಡ", Ltr),
    lang("ks", "Kashmiri", "کٲشُر", Rtl),
    lang("kok", "Konkani", "कोंकणी", Ltr),
    lang("mai", "Maithili", "मैथिली", Ltr),
    lang("ml", "Malayalam", "മലയാളം", Ltr),
    lang("mni", "Manipuri", "মৈতৈলোন্", Ltr),
    lang("mr", "Marathi", "मराठी", Ltr),
    lang("ne", "Nepali", "नेपाली", Ltr),
    lang("or", "Odia", "ଓଡ଼ିଆ", Ltr),
    lang("pa", "Punjabi", "ਪੰਜਾਬੀ", Ltr),
    lang("sa", "Sanskrit", "संस्कृतम्", Ltr),
    lang("sat", "Santali", "ᱥᱟᱱᱛᱟᱲᱤ", Ltr),
    lang("sd", "Sindhi", "سنڌي", Rtl),
    lang("ta", "Tamil", "தமிழ்", Ltr),
    lang("te", "Telugu", "తెలుగు", Ltr),
    lang("ur", "Urdu", "اردو", Rtl),
];

/// The known language of a tag, by its primary subtag (`hi-IN` is Hindi).
pub fn known(tag: &str) -> Option<&'static Language> {
    let primary = tag.split(['-', '_']).next().unwrap_or(tag);
    KNOWN.iter().find(|l| l.tag.eq_ignore_ascii_case(primary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eighth_schedule_is_all_there() {
        // English plus the 22 scheduled languages, each once.
        assert_eq!(KNOWN.len(), 23);
        let mut tags: Vec<_> = KNOWN.iter().map(|l| l.tag).collect();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), 23);
        assert_eq!(known("hi-IN").map(|l| l.autonym), Some("हिन्दी"));
        assert_eq!(known("UR").map(|l| l.dir), Some(Direction::Rtl));
        assert!(known("xx").is_none());
    }
}
