//! Choosing the language of a page or a message from what the reader (and their app)
//! asked for, in order: an explicit choice (the page's switcher), `ui_locales` from the
//! app's authorization request (OIDC Core §3.1.2.1), the user's saved preference, the
//! browser's `Accept-Language`, and last the tenant's default.

/// What is known about the reader's languages, strongest first.
#[derive(Clone, Copy, Debug, Default)]
pub struct Preferences<'a> {
    /// Chosen on the page (the switcher's `lang`, kept in a cookie).
    pub explicit: Option<&'a str>,
    /// `ui_locales`: space-separated BCP 47 tags, preferred first.
    pub ui_locales: Option<&'a str>,
    /// The user's saved language (the `locale` profile field).
    pub saved: Option<&'a str>,
    /// The `Accept-Language` header.
    pub accept_language: Option<&'a str>,
}

/// The first of `wanted` that `available` has: exactly (ignoring case and `_` for `-`),
/// else by primary language (`hi-IN` wanted, `hi` available), else a regional form of
/// it (`en` wanted, only `en-IN` available).
pub fn best<I, S>(wanted: I, available: &[String]) -> Option<&str>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    for tag in wanted {
        let tag = tag.as_ref().trim().replace('_', "-");
        if tag.is_empty() || tag == "*" {
            continue;
        }
        if let Some(a) = available.iter().find(|a| a.eq_ignore_ascii_case(&tag)) {
            return Some(a);
        }
        let primary = tag.split('-').next().unwrap_or(&tag);
        if let Some(a) = available.iter().find(|a| a.eq_ignore_ascii_case(primary)) {
            return Some(a);
        }
        if let Some(a) = available.iter().find(|a| {
            a.split('-')
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case(primary))
        }) {
            return Some(a);
        }
    }
    None
}

/// The tags of an `Accept-Language` header, best first; `q=0` means "not this one".
/// At most 16 entries are read: a header is the client's to make as long as it likes.
pub fn accept_language(header: &str) -> Vec<&str> {
    let mut tags: Vec<(&str, u16)> = header
        .split(',')
        .take(16)
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), |q| {
                    q.trim().parse::<f32>().ok().map(|q| (q * 1000.0) as u16)
                })?;
            (!tag.is_empty() && q > 0).then_some((tag, q))
        })
        .collect();
    // Stable: equal weights keep the header's order.
    tags.sort_by_key(|t| std::cmp::Reverse(t.1));
    tags.into_iter().map(|(t, _)| t).collect()
}

/// Picks the language for `prefs` among `available`, falling back to `default`.
pub fn negotiate<'a>(
    prefs: &Preferences<'_>,
    available: &'a [String],
    default: &'a str,
) -> &'a str {
    let single = |s: Option<&str>| s.and_then(|s| best([s], available));
    single(prefs.explicit)
        .or_else(|| {
            prefs
                .ui_locales
                .and_then(|u| best(u.split_whitespace(), available))
        })
        .or_else(|| single(prefs.saved))
        .or_else(|| {
            prefs
                .accept_language
                .and_then(|h| best(accept_language(h), available))
        })
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> Vec<String> {
        vec!["en".into(), "hi".into(), "ta-IN".into()]
    }

    #[test]
    fn the_order_is_explicit_then_app_then_saved_then_browser_then_tenant() {
        let a = langs();
        let all = Preferences {
            explicit: Some("en"),
            ui_locales: Some("hi"),
            saved: Some("ta"),
            accept_language: Some("hi"),
        };
        assert_eq!(negotiate(&all, &a, "en"), "en");
        let no_explicit = Preferences {
            explicit: None,
            ..all
        };
        assert_eq!(negotiate(&no_explicit, &a, "en"), "hi");
        let saved = Preferences {
            ui_locales: None,
            ..no_explicit
        };
        assert_eq!(negotiate(&saved, &a, "en"), "ta-IN");
        let browser = Preferences {
            saved: None,
            ..saved
        };
        assert_eq!(negotiate(&browser, &a, "en"), "hi");
        assert_eq!(negotiate(&Preferences::default(), &a, "hi"), "hi");
    }

    #[test]
    fn unknown_and_malformed_wishes_fall_through() {
        let a = langs();
        let p = Preferences {
            explicit: Some("<script>"),
            ui_locales: Some("fr de-CH"),
            saved: Some(""),
            accept_language: Some("fr;q=0.9, hi-IN;q=0.8, *;q=0.1"),
        };
        assert_eq!(negotiate(&p, &a, "en"), "hi");
        let p = Preferences {
            accept_language: Some("hi;q=0, en;q=0.5"),
            ..Preferences::default()
        };
        assert_eq!(negotiate(&p, &a, "ta-IN"), "en");
        let p = Preferences {
            accept_language: Some(";;;,q=,=;q=abc,hi;q=zz"),
            ..Preferences::default()
        };
        assert_eq!(negotiate(&p, &a, "en"), "en");
    }

    #[test]
    fn weights_order_the_browser_list() {
        assert_eq!(
            accept_language("en;q=0.5, hi, ta;q=0.7"),
            vec!["hi", "ta", "en"]
        );
    }
}
