//! Catalogues: per language, the shipped Fluent messages with a tenant's own on top.
//!
//! A lookup tries the reader's language, then the tenant's default, then English, so a
//! language a tenant has only partly translated still shows every text. Messages are
//! plain text: pages escape them like any other value, so a message cannot carry markup.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use unic_langid::LanguageIdentifier;

use crate::languages::{self, Direction};
use crate::negotiate::{Preferences, negotiate};
use crate::time::civil;

type Bundle = FluentBundle<FluentResource>;

/// The language every lookup falls back to last, and whose catalogue is complete.
pub const FALLBACK: &str = "en";

/// Largest catalogue a tenant may upload for one language.
pub const MAX_TENANT_CATALOGUE: usize = 64 * 1024;
/// Most languages a tenant may add or override.
pub const MAX_TENANT_LANGUAGES: usize = 40;

/// Why a tenant's catalogue was refused; the text is for the admin who uploaded it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    /// Not a BCP 47 language tag.
    #[error("`{0}` is not a language tag (BCP 47, e.g. `ta` or `ta-IN`)")]
    Tag(String),
    /// Too large.
    #[error("the catalogue for `{lang}` is {size} bytes; at most {max} are allowed")]
    TooLarge {
        /// Its language.
        lang: String,
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Too many languages.
    #[error("{0} languages; at most {MAX_TENANT_LANGUAGES} may be added")]
    TooMany(usize),
    /// Not Fluent syntax.
    #[error("the catalogue for `{lang}` has an error on line {line}: {detail}")]
    Syntax {
        /// Its language.
        lang: String,
        /// 1-based line of the first error.
        line: usize,
        /// What the parser found.
        detail: String,
    },
    /// The default language has no catalogue.
    #[error("the default language `{0}` has no catalogue: add one or choose another")]
    NoDefault(String),
}

/// One argument of a message.
#[derive(Clone, Debug)]
pub enum Arg {
    /// Text, shown as given.
    Text(String),
    /// A number: chooses plural forms (`{ $count -> [one] ... }`) and is shown with the
    /// language's digit grouping.
    Number(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Self {
        Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// The catalogues of one tenant (or the shipped ones alone), ready to look up.
pub struct Catalog {
    bundles: HashMap<String, Arc<Bundle>>,
    languages: Vec<String>,
    default: String,
    /// Each language's messages, resolved once (fallback chain, direction, grouping), so
    /// a request only clones a few handles.
    resolved: HashMap<String, Messages>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("languages", &self.languages)
            .field("default", &self.default)
            .finish()
    }
}

fn parse_tag(tag: &str) -> Result<LanguageIdentifier, CatalogError> {
    if tag.is_empty() || tag.len() > 35 {
        return Err(CatalogError::Tag(tag.chars().take(40).collect()));
    }
    tag.parse::<LanguageIdentifier>()
        .map_err(|_| CatalogError::Tag(tag.to_owned()))
}

fn parse(lang: &str, source: String) -> Result<FluentResource, CatalogError> {
    FluentResource::try_new(source).map_err(|(res, errors)| {
        let first = errors.into_iter().next();
        let (line, detail) = match first {
            Some(e) => {
                let src = res.source();
                // The line where the broken entry starts (the parser may only notice on
                // a later line: a placeable can span lines), which is what to fix.
                let at = e
                    .slice
                    .as_ref()
                    .map(|r| {
                        r.start
                            + src
                                .get(r.start..)
                                .map_or(0, |t| t.len() - t.trim_start().len())
                    })
                    .unwrap_or(e.pos.start)
                    .min(src.len());
                let line = src[..at].matches('\n').count() + 1;
                (line, e.kind.to_string())
            }
            None => (1, "unreadable".to_owned()),
        };
        CatalogError::Syntax {
            lang: lang.to_owned(),
            line,
            detail,
        }
    })
}

/// Checks a tenant's catalogues without building them: tags, sizes, syntax.
pub fn validate(overrides: &BTreeMap<String, String>) -> Result<(), CatalogError> {
    if overrides.len() > MAX_TENANT_LANGUAGES {
        return Err(CatalogError::TooMany(overrides.len()));
    }
    for (lang, source) in overrides {
        parse_tag(lang)?;
        if source.len() > MAX_TENANT_CATALOGUE {
            return Err(CatalogError::TooLarge {
                lang: lang.clone(),
                size: source.len(),
                max: MAX_TENANT_CATALOGUE,
            });
        }
        parse(lang, source.clone())?;
    }
    Ok(())
}

impl Catalog {
    /// The shipped catalogues (English and Hindi), English by default.
    pub fn shipped() -> Arc<Catalog> {
        static SHIPPED: OnceLock<Arc<Catalog>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| {
                // The shipped sources are checked by this crate's tests; a syntax error
                // in one is a build mistake, so it is fatal here rather than skipped.
                Arc::new(
                    Self::build(&BTreeMap::new(), FALLBACK)
                        .unwrap_or_else(|e| panic!("shipped catalogue: {e}")),
                )
            })
            .clone()
    }

    /// The shipped catalogues with a tenant's on top: `overrides` maps a language tag to
    /// Fluent source whose messages replace or add to the shipped ones of that language.
    pub fn with_overrides(
        overrides: &BTreeMap<String, String>,
        default: &str,
    ) -> Result<Catalog, CatalogError> {
        validate(overrides)?;
        Self::build(overrides, default)
    }

    fn build(overrides: &BTreeMap<String, String>, default: &str) -> Result<Catalog, CatalogError> {
        let mut sources: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
        for (lang, src) in crate::shipped::SOURCES {
            sources
                .entry((*lang).to_owned())
                .or_default()
                .push(((*src).to_owned(), false));
        }
        for (lang, src) in overrides {
            // Tags are compared case-insensitively: `ta-in` adds to `ta-IN`.
            let key = sources
                .keys()
                .find(|k| k.eq_ignore_ascii_case(lang))
                .cloned()
                .unwrap_or_else(|| lang.clone());
            sources.entry(key).or_default().push((src.clone(), true));
        }
        let mut bundles = HashMap::new();
        for (lang, srcs) in &sources {
            let id = parse_tag(lang)?;
            let mut bundle = Bundle::new_concurrent(vec![id]);
            // Unicode isolation marks only where a right-to-left script meets values
            // that may be left-to-right; elsewhere they would only clutter the text.
            bundle.set_use_isolating(direction_of(lang, None) == Direction::Rtl);
            for (src, overriding) in srcs {
                let res = parse(lang, src.clone())?;
                if *overriding {
                    bundle.add_resource_overriding(res);
                } else if let Err(errors) = bundle.add_resource(res) {
                    // A message defined twice among the shipped files.
                    return Err(CatalogError::Syntax {
                        lang: lang.clone(),
                        line: 1,
                        detail: format!("{errors:?}"),
                    });
                }
            }
            bundles.insert(lang.clone(), Arc::new(bundle));
        }
        let default = bundles
            .keys()
            .find(|k| k.eq_ignore_ascii_case(default))
            .cloned()
            .ok_or_else(|| CatalogError::NoDefault(default.to_owned()))?;
        let mut languages: Vec<String> = bundles.keys().cloned().collect();
        languages.sort();
        let mut catalog = Catalog {
            bundles,
            languages,
            default,
            resolved: HashMap::new(),
        };
        catalog.resolved = catalog
            .languages
            .iter()
            .map(|l| (l.clone(), catalog.resolve(l)))
            .collect();
        Ok(catalog)
    }

    /// Every language with a catalogue, sorted by tag.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// The tenant's default language.
    pub fn default_language(&self) -> &str {
        &self.default
    }

    /// The language to use for a reader.
    pub fn negotiate(&self, prefs: &Preferences<'_>) -> &str {
        negotiate(prefs, &self.languages, &self.default)
    }

    /// The messages of `lang` (one of [`Self::languages`], else the default).
    pub fn messages(&self, lang: &str) -> Messages {
        if let Some(m) = self.resolved.get(lang) {
            return m.clone();
        }
        self.resolve(lang)
    }

    fn resolve(&self, lang: &str) -> Messages {
        let lang = self
            .languages
            .iter()
            .find(|l| l.eq_ignore_ascii_case(lang))
            .unwrap_or(&self.default)
            .clone();
        let mut chain = Vec::with_capacity(3);
        for l in [lang.as_str(), self.default.as_str(), FALLBACK] {
            if let Some(b) = self.bundles.get(l)
                && !chain.iter().any(|c| Arc::ptr_eq(c, b))
            {
                chain.push(b.clone());
            }
        }
        let dir = direction_of(&lang, chain.first().map(|b| b.as_ref()));
        let indian = match lookup_plain(&chain, "number-grouping").as_deref() {
            Some("indian") => true,
            Some("western") => false,
            _ => languages::known(&lang).is_some_and(|l| l.indian_grouping),
        };
        Messages {
            lang,
            chain,
            dir,
            indian_grouping: indian,
            plain: Arc::default(),
        }
    }

    /// Each language's name in itself, for the switcher: the `language-name` message if
    /// its catalogue has one, else the known name, else the tag.
    pub fn language_names(&self) -> Vec<(String, String)> {
        self.languages
            .iter()
            .map(|l| {
                let own = self
                    .bundles
                    .get(l)
                    .and_then(|b| lookup_plain(std::slice::from_ref(b), "language-name"));
                let name = own
                    .or_else(|| languages::known(l).map(|k| k.autonym.to_owned()))
                    .unwrap_or_else(|| l.clone());
                (l.clone(), name)
            })
            .collect()
    }

    /// Whether a message exists in `lang`'s own catalogue (no fallback).
    pub fn has_own(&self, lang: &str, id: &str) -> bool {
        self.bundles.get(lang).is_some_and(|b| b.has_message(id))
    }
}

fn direction_of(lang: &str, bundle: Option<&Bundle>) -> Direction {
    let own = bundle.and_then(|b| plain(b, "language-dir"));
    match own.as_deref() {
        Some("rtl") => Direction::Rtl,
        Some("ltr") => Direction::Ltr,
        _ => languages::known(lang).map_or(Direction::Ltr, |l| l.dir),
    }
}

fn plain(bundle: &Bundle, id: &str) -> Option<String> {
    let pattern = bundle.get_message(id)?.value()?;
    let mut errors = vec![];
    Some(
        bundle
            .format_pattern(pattern, None, &mut errors)
            .trim()
            .to_owned(),
    )
}

fn lookup_plain(chain: &[Arc<Bundle>], id: &str) -> Option<String> {
    chain.iter().find_map(|b| plain(b, id))
}

/// The messages of one language, with fallbacks: what a page or a mail reads from.
#[derive(Clone)]
pub struct Messages {
    lang: String,
    chain: Vec<Arc<Bundle>>,
    dir: Direction,
    indian_grouping: bool,
    /// Messages without arguments, formatted once: most of a page's words. Shared by
    /// every clone of the language's messages (a page's view is one).
    plain: Arc<std::sync::RwLock<HashMap<String, Arc<str>>>>,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages")
            .field("lang", &self.lang)
            .finish()
    }
}

impl Messages {
    /// The language's tag (`<html lang>`).
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// Its writing direction (`<html dir>`).
    pub fn dir(&self) -> Direction {
        self.dir
    }

    /// Whether any language in the chain has the message.
    pub fn has(&self, id: &str) -> bool {
        let (id, attr) = split_id(id);
        self.chain.iter().any(|b| {
            b.get_message(id)
                .is_some_and(|m| attr.is_none_or(|a| m.get_attribute(a).is_some()))
        })
    }

    /// The text of message `id` (or `id.attribute`) with `args`; the id itself when no
    /// catalogue has it, so a missing translation shows up instead of vanishing.
    pub fn get(&self, id: &str, args: &[(&str, Arg)]) -> String {
        if args.is_empty() {
            if let Ok(plain) = self.plain.read()
                && let Some(text) = plain.get(id)
            {
                return text.to_string();
            }
            let (text, complete) = self.format(id, args);
            // Only a message that needed no argument is kept (one that wanted some
            // shows its placeholders, and is formatted again with them next time).
            if complete
                && let Ok(mut plain) = self.plain.write()
                && plain.len() < 4096
            {
                plain.insert(id.to_owned(), Arc::from(text.as_str()));
            }
            return text;
        }
        self.format(id, args).0
    }

    /// Formats message `id`; whether it formatted without errors.
    fn format(&self, id: &str, args: &[(&str, Arg)]) -> (String, bool) {
        let (mid, attr) = split_id(id);
        for bundle in &self.chain {
            let Some(msg) = bundle.get_message(mid) else {
                continue;
            };
            let pattern = match attr {
                Some(a) => msg.get_attribute(a).map(|a| a.value()),
                None => msg.value(),
            };
            let Some(pattern) = pattern else { continue };
            let mut fargs = FluentArgs::with_capacity(args.len());
            for (k, v) in args {
                match v {
                    Arg::Text(s) => fargs.set(*k, FluentValue::from(s.as_str())),
                    Arg::Number(n) => fargs.set(*k, FluentValue::from(*n)),
                }
            }
            let mut errors = vec![];
            let text = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
            let complete = errors.is_empty();
            return (self.group_numbers_in(text.into_owned(), args), complete);
        }
        (id.to_owned(), false)
    }

    /// Fluent shows numbers without grouping; this puts the language's grouping on the
    /// numbers passed as arguments (only those: digits in the message text stay).
    fn group_numbers_in(&self, text: String, args: &[(&str, Arg)]) -> String {
        let mut text = text;
        for (_, a) in args {
            if let Arg::Number(n) = a
                && n.unsigned_abs() >= 1000
            {
                text = text.replace(&n.to_string(), &self.number(*n));
            }
        }
        text
    }

    /// A number with the language's digit grouping: 12,34,567 in Indian languages (and
    /// where the catalogue says `number-grouping = indian`), 1,234,567 otherwise.
    pub fn number(&self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let mut groups: Vec<&str> = Vec::new();
        let mut end = digits.len();
        let mut first = true;
        while end > 0 {
            let size = if first || !self.indian_grouping { 3 } else { 2 };
            let start = end.saturating_sub(size);
            groups.push(&digits[start..end]);
            end = start;
            first = false;
        }
        groups.reverse();
        let body = groups.join(&self.get("number-separator", &[]));
        if n < 0 { format!("-{body}") } else { body }
    }

    /// A moment (Unix seconds, UTC) as the language writes a date and time: the pattern
    /// is the `datetime` message, with the `month-N` names.
    pub fn datetime(&self, unix: i64) -> String {
        let c = civil(unix);
        let month = self.get(&format!("month-{}", c.month), &[]);
        self.get(
            "datetime",
            &[
                ("day", Arg::Text(c.day.to_string())),
                ("month", Arg::Text(month)),
                ("year", Arg::Text(c.year.to_string())),
                ("time", Arg::Text(format!("{:02}:{:02}", c.hour, c.minute))),
            ],
        )
    }

    /// A day (Unix seconds, UTC): the `date` message.
    pub fn date(&self, unix: i64) -> String {
        let c = civil(unix);
        let month = self.get(&format!("month-{}", c.month), &[]);
        self.get(
            "date",
            &[
                ("day", Arg::Text(c.day.to_string())),
                ("month", Arg::Text(month)),
                ("year", Arg::Text(c.year.to_string())),
            ],
        )
    }
}

fn split_id(id: &str) -> (&str, Option<&str>) {
    match id.split_once('.') {
        Some((m, a)) => (m, Some(a)),
        None => (id, None),
    }
}
