//! Tenants' templates: checked on upload, then run with bounded fuel and output.

use minijinja::{Environment, Error, ErrorKind};
use std::collections::BTreeMap;

use crate::shipped::TEMPLATES;

/// Largest template a tenant may upload.
pub const MAX_TEMPLATE: usize = 32 * 1024;
/// Largest page a template may produce.
pub const MAX_OUTPUT: usize = 512 * 1024;
/// Fuel for one render of a tenant's template: the shipped sign-in page uses a few
/// thousand units, so this leaves room for rich templates and stops runaway loops within
/// milliseconds.
pub const TENANT_FUEL: u64 = 200_000;

/// Why a tenant's template was refused, for the admin who uploaded it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    /// Not a template Tollgate renders.
    #[error("`{0}` is not a template Tollgate renders; see GET /admin/v1/templates for the names")]
    UnknownName(String),
    /// Too large.
    #[error("template `{name}` is {size} bytes; at most {MAX_TEMPLATE} are allowed")]
    TooLarge {
        /// The template.
        name: String,
        /// Its size.
        size: usize,
    },
    /// Uses something a tenant's template may not.
    #[error("template `{name}` may not contain {what}")]
    Forbidden {
        /// The template.
        name: String,
        /// What.
        what: &'static str,
    },
    /// Does not compile.
    #[error("template `{name}` line {line}: {detail}")]
    Syntax {
        /// The template.
        name: String,
        /// 1-based line.
        line: usize,
        /// The compiler's message.
        detail: String,
    },
    /// Fails when rendered with sample data (a missing include, out of fuel...).
    #[error("template `{name}` fails when rendered: {detail}")]
    Render {
        /// The template.
        name: String,
        /// What went wrong.
        detail: String,
    },
}

impl TemplateError {
    pub(crate) fn from_render(name: &str, e: &Error) -> Self {
        let detail = match e.kind() {
            ErrorKind::OutOfFuel => "it runs too long (out of fuel)".to_owned(),
            ErrorKind::TemplateNotFound => format!(
                "it includes a template that does not exist: {}",
                e.detail().unwrap_or("")
            ),
            _ => e
                .detail()
                .map_or_else(|| e.kind().to_string(), str::to_owned),
        };
        Self::Render {
            name: name.to_owned(),
            detail,
        }
    }
}

/// What a tenant's template may not contain (compared without case): elements that run
/// or load code or change where links go, the one way around escaping, and raw blocks
/// that could hide either from this check.
const FORBIDDEN: &[(&str, &str)] = &[
    ("<script", "a <script> element"),
    ("<iframe", "an <iframe> element"),
    ("<frame", "a <frame> element"),
    ("<object", "an <object> element"),
    ("<embed", "an <embed> element"),
    ("<base", "a <base> element"),
    ("<meta", "a <meta> element"),
    (
        "<link",
        "a <link> element (the theme's stylesheet is linked by the layout)",
    ),
    ("javascript:", "javascript: URLs"),
    ("autoescape", "autoescape blocks"),
    ("{% raw", "raw blocks"),
    ("{%- raw", "raw blocks"),
];

fn check_source(name: &str, src: &str) -> Result<(), TemplateError> {
    if !TEMPLATES.iter().any(|(n, _)| *n == name) || crate::shipped::FIXED.contains(&name) {
        return Err(TemplateError::UnknownName(name.chars().take(80).collect()));
    }
    if src.len() > MAX_TEMPLATE {
        return Err(TemplateError::TooLarge {
            name: name.to_owned(),
            size: src.len(),
        });
    }
    let lower = src.to_lowercase();
    for (needle, what) in FORBIDDEN {
        if lower.contains(needle) {
            return Err(TemplateError::Forbidden {
                name: name.to_owned(),
                what,
            });
        }
    }
    // `|safe` (with any spacing) would print a value unescaped.
    let squashed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    if squashed.contains("|safe") || squashed.contains("|escape(false") {
        return Err(TemplateError::Forbidden {
            name: name.to_owned(),
            what: "the safe filter",
        });
    }
    Ok(())
}

/// The shipped templates with the tenant's in their place, compiled, with fuel.
pub(crate) fn tenant_env(
    templates: &BTreeMap<String, String>,
) -> Result<Environment<'static>, TemplateError> {
    let mut env = crate::environment();
    env.set_fuel(Some(TENANT_FUEL));
    env.set_recursion_limit(50);
    for (name, src) in TEMPLATES {
        if !templates.contains_key(*name) {
            env.add_template(name, src)
                .map_err(|e| TemplateError::Syntax {
                    name: (*name).to_owned(),
                    line: e.line().unwrap_or(0),
                    detail: e.to_string(),
                })?;
        }
    }
    for (name, src) in templates {
        check_source(name, src)?;
        env.add_template_owned(name.clone(), src.clone())
            .map_err(|e| TemplateError::Syntax {
                name: name.clone(),
                line: e.line().unwrap_or(0),
                detail: e
                    .detail()
                    .map_or_else(|| e.kind().to_string(), str::to_owned),
            })?;
    }
    Ok(env)
}
