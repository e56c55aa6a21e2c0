//! Rendered output of the shipped templates, kept per everything that shapes it, with
//! holes where a request's own values go (the CSRF token, `tx`, a typed address, the
//! page body). A page then costs a lookup and a copy instead of a template run.
//!
//! A hole is found by rendering once with a marker (private-use characters no message or
//! value contains) in place of the value, and the value is later written escaped exactly
//! as the template's `{{ value }}` would have (or as is, for a value that was already
//! safe HTML). That is only equivalent when the template prints the value plainly, which
//! the shipped templates do; tenants' templates are never cached.

use minijinja::value::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Most shapes kept per look: the rest are rendered every time.
const MAX_SHAPES: usize = 512;

const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

/// One part of a cached output.
enum Piece {
    Text(String),
    /// The value of hole `n`.
    Hole(usize),
}

/// Outputs by shape key.
type Shapes = HashMap<Box<[u8]>, Arc<Vec<Piece>>>;

/// Cached outputs by shape.
#[derive(Default)]
pub(crate) struct Outputs {
    shapes: RwLock<Shapes>,
}

/// A request's value for a hole.
#[derive(Clone, Copy, Debug)]
pub struct Fill<'a> {
    /// Its name in the template context.
    pub name: &'a str,
    /// The value.
    pub value: &'a str,
    /// Already HTML (a rendered fragment): written as is.
    pub safe: bool,
}

/// The marker standing for hole `n` while the shape is rendered.
pub(crate) fn marker(n: usize) -> String {
    format!("{OPEN}{n}{CLOSE}")
}

impl Outputs {
    /// The output of `shape` with `fills`, if that shape was cached.
    pub(crate) fn get(&self, shape: &[u8], fills: &[Fill<'_>]) -> Option<String> {
        let pieces = self.shapes.read().ok()?.get(shape)?.clone();
        Some(assemble(&pieces, fills))
    }

    /// Whether no more shapes are kept (later shapes are rendered plainly).
    pub(crate) fn is_full(&self) -> bool {
        self.shapes.read().map_or(true, |s| s.len() >= MAX_SHAPES)
    }

    /// Keeps the output rendered with markers for `shape` (if every hole shows up and
    /// nothing else looks like a marker) and returns it filled.
    pub(crate) fn learn(
        &self,
        shape: Box<[u8]>,
        marked: &str,
        fills: &[Fill<'_>],
    ) -> Option<String> {
        let pieces = split(marked, fills.len())?;
        let out = assemble(&pieces, fills);
        if let Ok(mut shapes) = self.shapes.write()
            && shapes.len() < MAX_SHAPES
        {
            shapes.insert(shape, Arc::new(pieces));
        }
        Some(out)
    }
}

fn assemble(pieces: &[Piece], fills: &[Fill<'_>]) -> String {
    let size: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.len(),
            Piece::Hole(n) => fills.get(*n).map_or(0, |f| f.value.len() + 8),
        })
        .sum();
    let mut out = String::with_capacity(size);
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Hole(n) => {
                if let Some(f) = fills.get(*n) {
                    if f.safe {
                        out.push_str(f.value);
                    } else {
                        crate::escape_into(&mut out, f.value);
                    }
                }
            }
        }
    }
    out
}

/// Splits a marked output into text and holes; `None` if a hole is missing or a marker
/// is malformed (then the output is not cached: rendered every time instead).
fn split(marked: &str, holes: usize) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut seen = vec![false; holes];
    let mut rest = marked;
    while let Some(i) = rest.find(OPEN) {
        let after = &rest[i + OPEN.len_utf8()..];
        let end = after.find(CLOSE)?;
        let n: usize = after[..end].parse().ok()?;
        *seen.get_mut(n)? = true;
        if i > 0 {
            pieces.push(Piece::Text(rest[..i].to_owned()));
        }
        pieces.push(Piece::Hole(n));
        rest = &after[end + CLOSE.len_utf8()..];
    }
    if rest.contains(CLOSE) || !seen.iter().all(|s| *s) {
        return None;
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Some(pieces)
}

/// Writes what shapes the page into its cache key: each name, then its value tagged by
/// kind and length-prefixed (so no two contexts write the same bytes). Strings, numbers,
/// booleans and none are written directly; anything else as JSON.
pub(crate) fn write_stable(key: &mut Vec<u8>, stable: &[(&str, Value)]) -> serde_json::Result<()> {
    use minijinja::value::ValueKind;
    for (name, v) in stable {
        key.extend_from_slice(name.as_bytes());
        key.push(0);
        match v.kind() {
            ValueKind::Undefined | ValueKind::None => key.push(b'n'),
            ValueKind::Bool => key.push(if v.is_true() { b't' } else { b'f' }),
            ValueKind::String => {
                let s = v.as_str().unwrap_or_default();
                key.push(if v.is_safe() { b'h' } else { b's' });
                key.extend_from_slice(&s.len().to_le_bytes());
                key.extend_from_slice(s.as_bytes());
            }
            _ => {
                key.push(b'j');
                let json = serde_json::to_vec(v)?;
                key.extend_from_slice(&json.len().to_le_bytes());
                key.extend_from_slice(&json);
            }
        }
    }
    Ok(())
}

/// The context with each fill's marker in its place (a safe value for a safe fill, so
/// the template prints it as it would print the real one).
pub(crate) fn marked_context(stable: Value, fills: &[Fill<'_>]) -> Value {
    let holes: Vec<(String, Value)> = fills
        .iter()
        .enumerate()
        .map(|(n, f)| {
            let m = marker(n);
            let v = if f.safe {
                Value::from_safe_string(m)
            } else {
                Value::from(m)
            };
            (f.name.to_owned(), v)
        })
        .collect();
    minijinja::value::merge_maps([Value::from_pairs(holes), stable])
}

/// The context with the real values (what a render without the cache gets).
pub(crate) fn filled_context(stable: Value, fills: &[Fill<'_>]) -> Value {
    let values: Vec<(String, Value)> = fills
        .iter()
        .map(|f| {
            let v = if f.safe {
                Value::from_safe_string(f.value.to_owned())
            } else {
                Value::from(f.value)
            };
            (f.name.to_owned(), v)
        })
        .collect();
    minijinja::value::merge_maps([Value::from_pairs(values), stable])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_are_found_and_filled_escaped() {
        let outputs = Outputs::default();
        let marked = format!(
            "<a href=\"?tx={}\">{}</a>{}",
            marker(0),
            marker(1),
            marker(0)
        );
        let fills = [
            Fill {
                name: "tx",
                value: "a\"b",
                safe: false,
            },
            Fill {
                name: "body",
                value: "<b>x</b>",
                safe: true,
            },
        ];
        let out = outputs
            .learn(b"k".to_vec().into(), &marked, &fills)
            .unwrap();
        assert_eq!(out, "<a href=\"?tx=a&quot;b\"><b>x</b></a>a&quot;b");
        let again = outputs.get(b"k", &fills).unwrap();
        assert_eq!(again, out);
        // A hole the output lost, or a stray marker, is not cached.
        assert!(split(&format!("x{}", marker(0)), 2).is_none());
        assert!(split(&format!("x{CLOSE}"), 0).is_none());
        assert!(split(&format!("{OPEN}9{CLOSE}"), 1).is_none());
    }
}
