//! Every text Tollgate shows or sends, in the reader's language.
//!
//! Pages, mails and SMS read their words from Fluent catalogues ([`Catalog`]): English
//! and Hindi are shipped complete; a tenant adds or overrides any language's messages by
//! uploading Fluent source, so each of the 22 languages of the Eighth Schedule (or any
//! other) is added without code. [`negotiate`] picks the reader's language; [`Messages`]
//! formats a message, a number or a date in it.
//!
//! The map (DESIGN.md) puts catalogues in the gateway; they are a leaf crate here because
//! the engine composes mails and SMS, and both it and the pages read the same words.

mod catalog;
pub mod languages;
pub mod negotiate;
mod shipped;
mod time;

pub use catalog::{
    Arg, Catalog, CatalogError, FALLBACK, MAX_TENANT_CATALOGUE, MAX_TENANT_LANGUAGES, Messages,
    validate,
};
pub use languages::Direction;
pub use negotiate::Preferences;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Message ids (and `id.attribute`s) of a Fluent source.
    fn ids(source: &str) -> Vec<String> {
        let mut out = vec![];
        let mut current = None::<String>;
        for line in source.lines() {
            let trimmed = line.trim_start();
            if line.starts_with(|c: char| c.is_ascii_alphabetic())
                && let Some((id, _)) = line.split_once('=')
            {
                let id = id.trim().to_owned();
                out.push(id.clone());
                current = Some(id);
            } else if let (Some(m), Some(rest)) = (&current, trimmed.strip_prefix('.'))
                && line.starts_with(' ')
                && let Some((attr, _)) = rest.split_once('=')
            {
                out.push(format!("{m}.{}", attr.trim()));
            } else if line.starts_with('-') || line.starts_with('#') {
                current = None;
            }
        }
        out
    }

    #[test]
    fn the_shipped_catalogues_parse_and_hindi_is_complete() {
        let catalog = Catalog::shipped();
        assert_eq!(catalog.languages(), ["en", "hi"]);
        let mut missing = vec![];
        for (lang, src) in shipped::SOURCES {
            if *lang != FALLBACK {
                continue;
            }
            for id in ids(src) {
                let (m, attr) = id
                    .split_once('.')
                    .map_or((id.as_str(), None), |(m, a)| (m, Some(a)));
                let _ = attr;
                if !catalog.has_own("hi", m) {
                    missing.push(id.clone());
                }
            }
        }
        assert!(missing.is_empty(), "Hindi lacks: {missing:?}");
        let hi = catalog.messages("hi");
        assert_eq!(hi.lang(), "hi");
        assert_ne!(
            hi.get("sign-in-button", &[]),
            catalog.messages("en").get("sign-in-button", &[])
        );
    }

    #[test]
    fn a_tenant_adds_a_language_and_overrides_a_message() {
        let mut o = BTreeMap::new();
        o.insert("ta".to_owned(), "sign-in-button = உள்நுழைக\n".to_owned());
        o.insert(
            "en".to_owned(),
            "sign-in-button = Log in to the shop\n".to_owned(),
        );
        let c = Catalog::with_overrides(&o, "en").unwrap();
        assert_eq!(c.languages(), ["en", "hi", "ta"]);
        assert_eq!(c.messages("ta").get("sign-in-button", &[]), "உள்நுழைக");
        assert_eq!(
            c.messages("en").get("sign-in-button", &[]),
            "Log in to the shop"
        );
        // What Tamil lacks comes from the default language.
        assert_eq!(
            c.messages("ta").get("sign-up-button", &[]),
            c.messages("en").get("sign-up-button", &[])
        );
        let names = c.language_names();
        assert!(names.contains(&("ta".to_owned(), "தமிழ்".to_owned())));
        // An unknown id shows itself, so a gap is visible.
        assert_eq!(
            c.messages("en").get("no-such-message", &[]),
            "no-such-message"
        );
    }

    #[test]
    fn bad_catalogues_are_refused_with_the_line() {
        let one = |lang: &str, src: &str| {
            let mut o = BTreeMap::new();
            o.insert(lang.to_owned(), src.to_owned());
            Catalog::with_overrides(&o, "en").map(|_| ())
        };
        assert!(matches!(
            one("ta", "ok = fine\nbroken {\n"),
            Err(CatalogError::Syntax { line: 2, .. })
        ));
        for src in ["ok = fine\nbroken = {\nnext = x\n", "ok = fine\nbroken = {"] {
            assert!(
                matches!(one("ta", src), Err(CatalogError::Syntax { line: 2, .. })),
                "{src:?}: {:?}",
                one("ta", src)
            );
        }
        assert!(matches!(
            one("not a tag!", "a = b\n"),
            Err(CatalogError::Tag(_))
        ));
        assert!(matches!(
            one("ta", &"x".repeat(MAX_TENANT_CATALOGUE + 1)),
            Err(CatalogError::TooLarge { .. })
        ));
        assert!(matches!(
            Catalog::with_overrides(&BTreeMap::new(), "ta"),
            Err(CatalogError::NoDefault(_))
        ));
    }

    #[test]
    fn numbers_dates_and_direction_follow_the_language() {
        let c = Catalog::shipped();
        let en = c.messages("en");
        let hi = c.messages("hi");
        assert_eq!(en.number(1234567), "1,234,567");
        assert_eq!(hi.number(1234567), "12,34,567");
        assert_eq!(hi.number(-999), "-999");
        assert_eq!(en.datetime(1_796_648_700), "7 Dec 2026, 13:05");
        assert!(
            hi.datetime(1_796_648_700).contains("दिस"),
            "{}",
            hi.datetime(1_796_648_700)
        );
        assert_eq!(en.dir(), Direction::Ltr);
        let mut o = BTreeMap::new();
        o.insert(
            "ur".to_owned(),
            "sign-in-button = سائن ان کریں\n".to_owned(),
        );
        let c = Catalog::with_overrides(&o, "en").unwrap();
        assert_eq!(c.messages("ur").dir(), Direction::Rtl);
    }
}
