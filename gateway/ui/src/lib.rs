//! The hosted pages' look: templates (minijinja), the words in them (the tenant's
//! [`Catalog`]), and the tenant's theme.
//!
//! minijinja rather than a compiled engine because tenants replace templates at run time.
//! Every value is escaped on output; the words come from the catalogue through `t(...)`,
//! escaped like any other value; pre-rendered parts are marked safe in Rust, so no
//! template needs `|safe`, and a tenant's template may not use it. A tenant's templates
//! run in a sandbox: no loader (no file or network access: only the shipped templates and
//! the tenant's own can be included), a fuel budget that bounds render time, a cap on
//! output, and no script, frame, object or base elements.
//!
//! A page is a fragment (e.g. `login.html`) inside the frame (`layout.html`); both can
//! be overridden. [`Look`] is what one tenant's pages are rendered with; [`Frame`] is what
//! one request adds (language, brand, the switcher).

mod cache;
mod sandbox;
mod shipped;
pub mod theme;

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind, State};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use tollgate_i18n::{Arg, Catalog, Messages};
use tollgate_vocab::model::branding::Branding;

pub use cache::Fill;
pub use sandbox::{MAX_OUTPUT, MAX_TEMPLATE, TENANT_FUEL, TemplateError};
pub use shipped::{FIXED, SAMPLES, TEMPLATES};
pub use theme::ThemeError;

/// Why a tenant's branding was refused, for the admin.
#[derive(Debug, thiserror::Error)]
pub enum BrandingError {
    /// The theme.
    #[error(transparent)]
    Theme(#[from] ThemeError),
    /// A template.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// The messages.
    #[error(transparent)]
    Messages(#[from] tollgate_i18n::CatalogError),
}

thread_local! {
    /// The messages of the page being rendered on this thread, which `t()` reads: a
    /// render is synchronous, so the thread is the render (cheaper than looking a
    /// context variable up through the page's and the frame's maps at every word).
    static PAGE_WORDS: std::cell::RefCell<Option<Messages>> = const { std::cell::RefCell::new(None) };
    /// The shape key of the cached output being looked up (see `render_filled`).
    static SHAPE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Sets the page's messages for the renders inside it; clears them after, even if
/// the render fails.
struct WordsScope;

impl WordsScope {
    fn enter(messages: &Messages) -> WordsScope {
        PAGE_WORDS.with(|w| *w.borrow_mut() = Some(messages.clone()));
        WordsScope
    }
}

impl Drop for WordsScope {
    fn drop(&mut self) {
        PAGE_WORDS.with(|w| *w.borrow_mut() = None);
    }
}

fn with_words<R>(f: impl FnOnce(&Messages) -> R) -> Result<R, Error> {
    PAGE_WORDS.with(|w| {
        w.borrow()
            .as_ref()
            .map(f)
            .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "no messages in this render"))
    })
}

/// `t("id", name=value, ...)`: a message in the page's language. Integer arguments are
/// numbers (plural forms, digit grouping); everything else is text.
fn t(id: &str, kwargs: Kwargs) -> Result<String, Error> {
    let mut args = Vec::new();
    for key in kwargs.args() {
        let v: Value = kwargs.get(key)?;
        let arg = match v.as_i64() {
            Some(n) if v.is_integer() => Arg::Number(n),
            _ => Arg::Text(if v.is_undefined() || v.is_none() {
                String::new()
            } else {
                v.to_string()
            }),
        };
        args.push((key, arg));
    }
    with_words(|w| w.get(id, &args))
}

fn number(n: i64) -> Result<String, Error> {
    with_words(|w| w.number(n))
}

fn datetime(unix: i64) -> Result<String, Error> {
    with_words(|w| w.datetime(unix))
}

fn date(unix: i64) -> Result<String, Error> {
    with_words(|w| w.date(unix))
}

/// Writes `s` escaped for HTML text and quoted attributes: the five characters that
/// matter there, and nothing else (minijinja's own escaper also escapes `/`, which
/// only lengthens every URL).
fn write_html<W: std::fmt::Write + ?Sized>(out: &mut W, s: &str) -> std::fmt::Result {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => continue,
        };
        out.write_str(&s[last..i])?;
        out.write_str(rep)?;
        last = i + 1;
    }
    out.write_str(&s[last..])
}

/// [`write_html`] into a string.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    // Writing to a String cannot fail.
    let _ = write_html(out, s);
}

fn format_value(
    out: &mut minijinja::Output,
    state: &mut State,
    value: &Value,
) -> Result<(), Error> {
    if value.is_safe() || !matches!(state.auto_escape(), minijinja::AutoEscape::Html) {
        return minijinja::escape_formatter(out, state, value);
    }
    if value.is_none() || value.is_undefined() {
        // `None` prints nothing, as an unset value does, instead of "none".
        return Ok(());
    }
    match value.as_str() {
        Some(s) => write_html(out, s).map_err(Error::from),
        None => write_html(out, &value.to_string()).map_err(Error::from),
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_formatter(format_value);
    // `safe` is the only way around escaping: nothing shipped needs it (fragments are
    // marked safe in Rust), and a tenant's template must not have it.
    env.remove_filter("safe");
    env.add_function("t", t);
    env.add_function("number", number);
    env.add_function("datetime", datetime);
    env.add_function("date", date);
    env
}

fn shipped_env() -> Result<Environment<'static>, Error> {
    let mut env = environment();
    for (name, src) in TEMPLATES {
        env.add_template(name, src)?;
    }
    Ok(env)
}

/// One language on the switcher.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LanguageChoice {
    /// Its tag.
    pub tag: String,
    /// Its name in itself.
    pub name: String,
    /// The page's language.
    pub current: bool,
}

/// What a request adds to every template: who, in which language, and how to switch.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The page's messages (their language is the page's).
    pub messages: Messages,
    /// The tenant's id (the issuer's path segment).
    pub tenant: String,
    /// The name shown: the theme's, else the tenant's display name.
    pub brand: String,
    /// The page's path, for the switcher's form.
    pub path: String,
    /// The query parameters the switcher must keep (e.g. `tx`).
    pub keep: Vec<(String, String)>,
    /// The templates' globals for this frame, made on first use: a page renders its
    /// fragments and its layout with the same ones.
    pub globals: OnceLock<Value>,
}

/// One tenant's compiled look: its templates, catalogue, stylesheet and images.
pub struct Look {
    env: Environment<'static>,
    /// The switcher's list, per page language (which one is current differs).
    switchers: std::collections::HashMap<String, Value>,
    shipped: Option<Arc<Look>>,
    catalog: Arc<Catalog>,
    css: String,
    revision: u64,
    logo: Option<String>,
    favicon: Option<String>,
    name: Option<String>,
    /// Rendered outputs by shape: the shipped look only (see [`cache`]).
    outputs: Option<cache::Outputs>,
}

impl std::fmt::Debug for Look {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Look")
            .field("revision", &self.revision)
            .field("catalog", &self.catalog)
            .finish_non_exhaustive()
    }
}

/// The switcher's list for a page in `lang`.
fn switcher(catalog: &Catalog, lang: &str) -> Value {
    let languages: Vec<LanguageChoice> = catalog
        .language_names()
        .into_iter()
        .map(|(tag, name)| LanguageChoice {
            current: tag == lang,
            tag,
            name,
        })
        .collect();
    Value::from(minijinja::value::Serde(&languages))
}

fn switchers(catalog: &Catalog) -> std::collections::HashMap<String, Value> {
    catalog
        .languages()
        .iter()
        .map(|l| (l.clone(), switcher(catalog, l)))
        .collect()
}

impl Look {
    /// The shipped look, shared by every tenant that changed nothing.
    pub fn shipped() -> Arc<Look> {
        static SHIPPED: OnceLock<Arc<Look>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| {
                // The shipped templates and theme are checked by this crate's tests; one
                // that does not compile is a build mistake, fatal at start-up.
                let env = shipped_env().unwrap_or_else(|e| panic!("shipped templates: {e:#}"));
                let css = theme::stylesheet(&Default::default())
                    .unwrap_or_else(|e| panic!("shipped theme: {e}"));
                let catalog = Catalog::shipped();
                Arc::new(Look {
                    env,
                    switchers: switchers(&catalog),
                    shipped: None,
                    outputs: Some(cache::Outputs::default()),
                    catalog,
                    css,
                    revision: 0,
                    logo: None,
                    favicon: None,
                    name: None,
                })
            })
            .clone()
    }

    /// A tenant's look: checks everything, so what an admin stored always renders.
    pub fn build(branding: &Branding) -> Result<Look, BrandingError> {
        let css = theme::stylesheet(&branding.theme)?;
        let default = branding
            .default_language
            .as_deref()
            .unwrap_or(tollgate_i18n::FALLBACK);
        let catalog = Arc::new(Catalog::with_overrides(&branding.messages, default)?);
        let env = sandbox::tenant_env(&branding.templates)?;
        Ok(Look {
            env,
            switchers: switchers(&catalog),
            shipped: Some(Self::shipped()),
            outputs: None,
            catalog,
            css,
            revision: branding.revision,
            logo: branding.theme.logo.clone(),
            favicon: branding.theme.favicon.clone(),
            name: branding.theme.name.clone(),
        })
    }

    /// The tenant's catalogue: languages, negotiation, messages.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The stylesheet (`/{tenant}/theme.css`).
    pub fn css(&self) -> &str {
        &self.css
    }

    /// The branding revision this look was built from.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The name pages show, if the theme sets one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn globals(&self, frame: &Frame) -> Value {
        frame
            .globals
            .get_or_init(|| self.make_globals(frame))
            .clone()
    }

    fn make_globals(&self, frame: &Frame) -> Value {
        let lang = frame.messages.lang();
        let languages = self
            .switchers
            .get(lang)
            .cloned()
            .unwrap_or_else(|| switcher(&self.catalog, lang));
        minijinja::context! {
            lang => lang,
            dir => frame.messages.dir().as_str(),
            tenant => &frame.tenant,
            brand => self.name.as_deref().unwrap_or(&frame.brand),
            logo => &self.logo,
            favicon => &self.favicon,
            // A page outside any tenant (an unknown one, the demo switched off) links
            // the shipped stylesheet, which every deployment serves.
            stylesheet => if frame.tenant.is_empty() {
                SHIPPED_STYLESHEET.to_owned()
            } else {
                format!("/{}/theme.css?v={}", frame.tenant, self.revision)
            },
            languages => languages,
            switch_path => &frame.path,
            switch_keep => Value::from(minijinja::value::Serde(&frame.keep)),
        }
    }

    fn render_in(&self, messages: &Messages, name: &str, ctx: Value) -> Result<String, Error> {
        let _words = WordsScope::enter(messages);
        let out = self.env.get_template(name)?.render(ctx)?;
        if out.len() > MAX_OUTPUT {
            return Err(Error::new(ErrorKind::InvalidOperation, "output too large"));
        }
        Ok(out)
    }

    /// Renders template `name` with `ctx` (any serialisable value) and the frame's
    /// globals. A tenant's template that fails at run time (out of fuel, too large) is
    /// logged by name and replaced by the shipped one, so a page always renders.
    pub fn render(&self, frame: &Frame, name: &str, ctx: Value) -> String {
        let globals = self.globals(frame);
        let full = minijinja::value::merge_maps([ctx, globals]);
        match self.render_in(&frame.messages, name, full.clone()) {
            Ok(html) => html,
            Err(e) => {
                tracing::warn!(template = name, error = %e.kind(), "template failed; shipped one used");
                let shipped = self.shipped.clone().unwrap_or_else(Self::shipped);
                shipped
                    .render_in(&frame.messages, name, full)
                    .unwrap_or_else(|e| {
                        tracing::error!(template = name, error = %e, "shipped template failed");
                        String::new()
                    })
            }
        }
    }

    /// A whole page: `body` (already rendered, so trusted) inside the frame, with its
    /// title (plain text).
    pub fn page(&self, frame: &Frame, title: &str, body: String) -> String {
        self.page_with(frame, title, body, &[])
    }

    /// [`Self::page`] with more of the frame's values: `extra` names what the layout
    /// shows besides the body, such as the tenant's privacy `contact` (its footer).
    pub fn page_with(
        &self,
        frame: &Frame,
        title: &str,
        body: String,
        extra: &[(&str, Value)],
    ) -> String {
        let mut stable = Vec::with_capacity(1 + extra.len());
        stable.push(("title", Value::from(title)));
        stable.extend(extra.iter().cloned());
        self.render_filled(
            frame,
            "layout.html",
            &stable,
            &[Fill {
                name: "body",
                value: &body,
                safe: true,
            }],
        )
    }

    /// [`Self::render`] of `stable` (what shapes the page) and `fills` (a request's own
    /// values, each printed plainly by the template). With the shipped look the output is
    /// kept per shape and later requests only fill it in (see [`cache`]).
    pub fn render_filled(
        &self,
        frame: &Frame,
        name: &str,
        stable: &[(&str, Value)],
        fills: &[Fill<'_>],
    ) -> String {
        let Some(outputs) = &self.outputs else {
            return self.render(frame, name, cache::filled_context(map(stable), fills));
        };
        // The holes: the fills with a value, then the frame's own per-request values (the
        // switcher's kept parameters). An empty value can change what the template shows
        // (`{% if tx %}`): it is part of the shape, not a hole.
        let mut all: Vec<Fill<'_>> = Vec::with_capacity(fills.len() + frame.keep.len());
        all.extend(fills.iter().copied().filter(|f| !f.value.is_empty()));
        let holes = all.len();
        all.extend(frame.keep.iter().map(|(_, v)| Fill {
            name: "",
            value: v,
            safe: false,
        }));
        // The shape is written into one buffer per thread: a hit then allocates nothing
        // but its output.
        let looked_up = SHAPE.with_borrow_mut(|shape| {
            shape.clear();
            for part in [
                name,
                frame.messages.lang(),
                &frame.tenant,
                &frame.brand,
                &frame.path,
            ] {
                shape.extend_from_slice(part.as_bytes());
                shape.push(0);
            }
            for (k, v) in &frame.keep {
                shape.extend_from_slice(k.as_bytes());
                shape.push(if v.is_empty() { b'0' } else { b'1' });
            }
            shape.push(0);
            for f in fills {
                shape.extend_from_slice(f.name.as_bytes());
                shape.push(match (f.value.is_empty(), f.safe) {
                    (true, _) => b'0',
                    (false, true) => b's',
                    (false, false) => b'e',
                });
            }
            shape.push(0);
            cache::write_stable(shape, stable).ok()?;
            Some(match outputs.get(shape, &all) {
                Some(out) => Ok(out),
                None => Err(shape.clone().into_boxed_slice()),
            })
        });
        let shape = match looked_up {
            Some(Ok(out)) => return out,
            Some(Err(shape)) => shape,
            None => return self.render(frame, name, cache::filled_context(map(stable), fills)),
        };
        let stable = map(stable);
        let empty: Vec<Fill<'_>> = fills
            .iter()
            .copied()
            .filter(|f| f.value.is_empty())
            .collect();
        let stable = if empty.is_empty() {
            stable
        } else {
            cache::filled_context(stable, &empty)
        };
        let holes = &all[..holes];
        if outputs.is_full() {
            return self.render(frame, name, cache::filled_context(stable, holes));
        }
        let mut marked_frame = frame.clone();
        marked_frame.globals = Default::default();
        for (i, (_, v)) in marked_frame.keep.iter_mut().enumerate() {
            if !v.is_empty() {
                *v = cache::marker(holes.len() + i);
            }
        }
        let marked = cache::marked_context(stable.clone(), holes);
        let globals = self.globals(&marked_frame);
        let full = minijinja::value::merge_maps([marked, globals]);
        // Kept only if the shipped template renders; otherwise the usual path (which
        // logs) answers.
        if let Ok(html) = self.render_in(&frame.messages, name, full)
            && let Some(out) = outputs.learn(shape, &html, &all)
        {
            return out;
        }
        self.render(frame, name, cache::filled_context(stable, holes))
    }

    /// A template rendered with its sample data (the admin preview, and the tests).
    pub fn preview(&self, frame: &Frame, name: &str) -> Result<String, TemplateError> {
        let sample =
            shipped::sample(name).ok_or_else(|| TemplateError::UnknownName(name.to_owned()))?;
        let body = self.render_checked(frame, name, sample.clone())?;
        if name == "layout.html" {
            return Ok(body);
        }
        self.render_checked(
            frame,
            "layout.html",
            minijinja::context! { title => "Preview", body => Value::from_safe_string(body) },
        )
    }

    fn render_checked(
        &self,
        frame: &Frame,
        name: &str,
        ctx: Value,
    ) -> Result<String, TemplateError> {
        let full = minijinja::value::merge_maps([ctx, self.globals(frame)]);
        self.render_in(&frame.messages, name, full)
            .map_err(|e| TemplateError::from_render(name, &e))
    }
}

/// Every template's sample context, by name (for previews and tests).
pub fn samples() -> BTreeMap<&'static str, Value> {
    SAMPLES
        .iter()
        .filter_map(|(n, _)| shipped::sample(n).map(|v| (*n, v)))
        .collect()
}

/// Checks a tenant's branding (what the admin API calls before storing it).
pub fn validate(branding: &Branding) -> Result<(), BrandingError> {
    let look = Look::build(branding)?;
    // Every overridden template renders with its sample, in every language.
    for name in branding.templates.keys() {
        for lang in look.catalog.languages() {
            let frame = Frame {
                messages: look.catalog.messages(lang),
                tenant: "preview".into(),
                brand: "Preview".into(),
                path: "/preview/login".into(),
                keep: vec![],
                globals: Default::default(),
            };
            look.preview(&frame, name)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// Where the shipped stylesheet is served, for pages that belong to no tenant.
pub const SHIPPED_STYLESHEET: &str = "/assets/tollgate.css";

/// Each tenant's compiled look, rebuilt once per branding revision on this node.
#[derive(Default)]
pub struct Looks {
    built: std::sync::RwLock<std::collections::HashMap<String, Arc<Look>>>,
}

impl Looks {
    /// The look for a tenant's current branding. Branding is checked before it is
    /// stored, so building fails only if the rules tightened since: then the tenant gets
    /// the shipped look (and the log says so) rather than no page.
    pub fn get(&self, tenant: &str, branding: &Branding) -> Arc<Look> {
        if branding.is_default() {
            return Look::shipped();
        }
        if let Ok(map) = self.built.read()
            && let Some(look) = map.get(tenant)
            && look.revision == branding.revision
        {
            return look.clone();
        }
        let look = match Look::build(branding) {
            Ok(l) => Arc::new(l),
            Err(e) => {
                tracing::warn!(tenant, error = %e, "stored branding does not build; shipped look used");
                Look::shipped()
            }
        };
        if let Ok(mut map) = self.built.write() {
            map.insert(tenant.to_owned(), look.clone());
        }
        look
    }
}

/// A context map of `pairs`.
fn map(pairs: &[(&str, Value)]) -> Value {
    Value::from_pairs(pairs.iter().map(|(k, v)| (*k, v.clone())))
}
