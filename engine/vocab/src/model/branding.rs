//! How a tenant's hosted pages, mails and texts look and read: its theme, its own
//! templates and its own messages. Checked when an admin sets them (the hosted-pages
//! crate holds the rules); stored in the tenant record, which every page reads anyway.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A tenant's look and words. `revision` changes with every update, so each node
/// rebuilds its compiled templates and catalogues once per change, not per request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Branding {
    /// Bumped by every change.
    pub revision: u64,
    /// Colours, logo, fonts, extra CSS.
    pub theme: Theme,
    /// Template name (e.g. `login.html`) → the tenant's template replacing the shipped one.
    pub templates: BTreeMap<String, String>,
    /// Language tag → Fluent source whose messages replace or add to the shipped ones.
    pub messages: BTreeMap<String, String>,
    /// The language pages fall back to; `None` is English.
    pub default_language: Option<String>,
}

impl Branding {
    /// Whether the tenant changed nothing: it shares the shipped, compiled look.
    pub fn is_default(&self) -> bool {
        self.theme == Theme::default()
            && self.templates.is_empty()
            && self.messages.is_empty()
            && self.default_language.is_none()
    }
}

/// The visual theme. Every field is optional: what is unset keeps the shipped look.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Theme {
    /// Name shown on the pages instead of the tenant's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Logo, a `data:image/...;base64,` URI of bounded size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Favicon, a `data:image/...;base64,` URI of bounded size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favicon: Option<String>,
    /// Buttons and links, `#rrggbb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// Page background, `#rrggbb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    /// The card the form sits on, `#rrggbb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surface: Option<String>,
    /// Body text, `#rrggbb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A CSS font stack, e.g. `"Noto Sans", system-ui, sans-serif`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub font: Option<String>,
    /// Extra CSS appended to the stylesheet (no imports, no outside URLs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub css: Option<String>,
}
