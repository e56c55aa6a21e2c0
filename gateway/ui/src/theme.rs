//! A tenant's theme, checked and turned into its stylesheet.
//!
//! The rules keep the pages accessible and the CSP strict whatever an admin uploads:
//! colours must keep WCAG 2.2 AA contrast (4.5:1 for text), images are `data:` URIs of
//! bounded size (no request leaves the origin), and extra CSS may not import or fetch.

use base64::Engine as _;
use tollgate_vocab::model::branding::Theme;

/// Largest logo, decoded.
pub const MAX_LOGO: usize = 48 * 1024;
/// Largest favicon, decoded.
pub const MAX_FAVICON: usize = 16 * 1024;
/// Largest extra CSS.
pub const MAX_CSS: usize = 16 * 1024;

/// The shipped stylesheet; themes set its custom properties and may append rules.
pub const BASE_CSS: &str = include_str!("../assets/base.css");

const DEFAULT_PRIMARY: Rgb = Rgb(0x2d, 0x5b, 0xd7);
const DEFAULT_BACKGROUND: Rgb = Rgb(0xf4, 0xf5, 0xf7);
const DEFAULT_SURFACE: Rgb = Rgb(0xff, 0xff, 0xff);
const DEFAULT_TEXT: Rgb = Rgb(0x1d, 0x23, 0x30);
const DEFAULT_FONT: &str = "system-ui, \"Noto Sans\", \"Noto Sans Devanagari\", sans-serif";

/// What is wrong with a theme, for the admin who set it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ThemeError {
    /// A colour that is not `#rrggbb`.
    #[error("theme.{0} must be a colour as #rrggbb")]
    Colour(&'static str),
    /// Two colours too close for text to be read (WCAG 2.2 AA asks 4.5:1).
    #[error("{what} contrast {ratio:.2}:1, below the 4.5:1 that WCAG 2.2 AA asks for text")]
    Contrast {
        /// Which pair.
        what: &'static str,
        /// Their ratio.
        ratio: f64,
    },
    /// An image that is not a bounded `data:image/...;base64,` URI.
    #[error(
        "theme.{field} must be a data:image/(png|jpeg|webp|gif|svg+xml);base64, URI of at most {max} bytes"
    )]
    Image {
        /// Which field.
        field: &'static str,
        /// Its limit, decoded.
        max: usize,
    },
    /// A font stack with characters a font stack has no use for.
    #[error(
        "theme.font must be a CSS font stack (letters, digits, spaces, commas, quotes, hyphens), at most 200 characters"
    )]
    Font,
    /// A name that cannot be shown.
    #[error("theme.name must be 1 to 80 characters without control characters")]
    Name,
    /// Extra CSS that could fetch, import or break out.
    #[error("theme.css {0}")]
    Css(String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Rgb(u8, u8, u8);

impl Rgb {
    fn parse(s: &str, field: &'static str) -> Result<Rgb, ThemeError> {
        let hex = s
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or(ThemeError::Colour(field))?;
        let byte = |i: usize| {
            u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| ThemeError::Colour(field))
        };
        Ok(Rgb(byte(0)?, byte(2)?, byte(4)?))
    }

    fn css(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2.x relative luminance.
    fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// `self` moved `t` of the way toward `other`.
    fn mix(self, other: Rgb, t: f64) -> Rgb {
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Rgb(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }
}

fn colour(v: &Option<String>, field: &'static str, default: Rgb) -> Result<Rgb, ThemeError> {
    v.as_deref().map_or(Ok(default), |s| Rgb::parse(s, field))
}

fn check_contrast(a: Rgb, b: Rgb, what: &'static str) -> Result<(), ThemeError> {
    let ratio = a.contrast(b);
    if ratio < 4.5 {
        return Err(ThemeError::Contrast { what, ratio });
    }
    Ok(())
}

fn check_image(v: &Option<String>, field: &'static str, max: usize) -> Result<(), ThemeError> {
    let Some(uri) = v else { return Ok(()) };
    let bad = || ThemeError::Image { field, max };
    let rest = uri.strip_prefix("data:image/").ok_or_else(bad)?;
    let (kind, data) = rest.split_once(";base64,").ok_or_else(bad)?;
    if !["png", "jpeg", "webp", "gif", "svg+xml"].contains(&kind) || data.len() > max * 4 / 3 + 4 {
        return Err(bad());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| bad())?;
    if bytes.is_empty() || bytes.len() > max {
        return Err(bad());
    }
    Ok(())
}

/// Extra CSS may style anything but may not reach outside: no `@import`, no URL other
/// than `data:`, no escapes (which could spell either), nothing that ends a style
/// context, no legacy script hooks.
fn check_css(css: &str) -> Result<(), ThemeError> {
    if css.len() > MAX_CSS {
        return Err(ThemeError::Css(format!(
            "is {} bytes; at most {MAX_CSS}",
            css.len()
        )));
    }
    let lower = css.to_ascii_lowercase();
    for banned in [
        "@import",
        "expression(",
        "javascript:",
        "behavior:",
        "-moz-binding",
        "</",
        "<!--",
        "@namespace",
    ] {
        if lower.contains(banned) {
            return Err(ThemeError::Css(format!("may not contain `{banned}`")));
        }
    }
    if css.contains('\\') {
        return Err(ThemeError::Css("may not contain backslash escapes".into()));
    }
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("url(") {
        let after = rest[i + 4..].trim_start_matches([' ', '"', '\'']);
        if !after.starts_with("data:") {
            return Err(ThemeError::Css(
                "may load images and fonts only as data: URIs (url(data:...))".into(),
            ));
        }
        rest = &rest[i + 4..];
    }
    if css
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ThemeError::Css("may not contain control characters".into()));
    }
    Ok(())
}

/// Checks a theme; the error says what to change.
pub fn validate(theme: &Theme) -> Result<(), ThemeError> {
    stylesheet(theme).map(|_| ())
}

/// The stylesheet for a theme: its colours as custom properties, the shipped rules, then
/// its extra CSS. Fails as [`validate`] does.
pub fn stylesheet(theme: &Theme) -> Result<String, ThemeError> {
    if let Some(n) = &theme.name
        && (n.trim().is_empty() || n.chars().count() > 80 || n.chars().any(char::is_control))
    {
        return Err(ThemeError::Name);
    }
    let primary = colour(&theme.primary, "primary", DEFAULT_PRIMARY)?;
    let background = colour(&theme.background, "background", DEFAULT_BACKGROUND)?;
    let surface = colour(&theme.surface, "surface", DEFAULT_SURFACE)?;
    let text = colour(&theme.text, "text", DEFAULT_TEXT)?;
    check_contrast(text, surface, "text on surface")?;
    check_contrast(text, background, "text on background")?;
    // Links are the primary colour on the card.
    check_contrast(primary, surface, "primary (links) on surface")?;
    // Button labels take whichever of white and near-black reads better on the primary.
    let white = Rgb(0xff, 0xff, 0xff);
    let dark = Rgb(0x11, 0x11, 0x11);
    let on_primary = if primary.contrast(white) >= primary.contrast(dark) {
        white
    } else {
        dark
    };
    check_contrast(on_primary, primary, "button text on primary")?;
    // Secondary text: a step toward the surface, as long as it stays readable.
    let muted = [0.35, 0.25, 0.15, 0.0]
        .into_iter()
        .map(|t| text.mix(surface, t))
        .find(|m| m.contrast(surface) >= 4.5)
        .unwrap_or(text);
    let font = match &theme.font {
        Some(f) => {
            let ok = !f.trim().is_empty()
                && f.len() <= 200
                && f.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, ' ' | ',' | '"' | '\'' | '-'));
            if !ok {
                return Err(ThemeError::Font);
            }
            f.clone()
        }
        None => DEFAULT_FONT.to_owned(),
    };
    check_image(&theme.logo, "logo", MAX_LOGO)?;
    check_image(&theme.favicon, "favicon", MAX_FAVICON)?;
    if let Some(css) = &theme.css {
        check_css(css)?;
    }
    let mut out = String::with_capacity(BASE_CSS.len() + 512);
    out.push_str(&format!(
        ":root{{--tg-primary:{};--tg-on-primary:{};--tg-bg:{};--tg-surface:{};--tg-text:{};--tg-muted:{};--tg-font:{}}}\n",
        primary.css(),
        on_primary.css(),
        background.css(),
        surface.css(),
        text.css(),
        muted.css(),
        font
    ));
    out.push_str(BASE_CSS);
    if let Some(css) = &theme.css {
        out.push_str("\n/* tenant */\n");
        out.push_str(css);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme() -> Theme {
        Theme::default()
    }

    #[test]
    fn the_default_theme_passes_and_sets_every_property() {
        let css = stylesheet(&theme()).unwrap();
        for p in [
            "--tg-primary:#2d5bd7",
            "--tg-on-primary:#ffffff",
            "--tg-muted:",
        ] {
            assert!(css.contains(p), "{p}");
        }
    }

    #[test]
    fn unreadable_colours_are_refused_with_the_ratio() {
        let t = Theme {
            text: Some("#777777".into()),
            surface: Some("#888888".into()),
            ..theme()
        };
        let e = validate(&t).unwrap_err();
        assert!(
            matches!(
                e,
                ThemeError::Contrast {
                    what: "text on surface",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("4.5:1"));
        let t = Theme {
            primary: Some("#ffff00".into()),
            ..theme()
        };
        assert!(matches!(validate(&t), Err(ThemeError::Contrast { .. })));
        let t = Theme {
            primary: Some("red".into()),
            ..theme()
        };
        assert_eq!(validate(&t), Err(ThemeError::Colour("primary")));
        // A dark theme is fine: the button label turns dark on a light primary.
        let t = Theme {
            primary: Some("#9ecbff".into()),
            background: Some("#0d1117".into()),
            surface: Some("#161b22".into()),
            text: Some("#e6edf3".into()),
            ..theme()
        };
        let css = stylesheet(&t).unwrap();
        assert!(css.contains("--tg-on-primary:#111111"), "{css}");
    }

    #[test]
    fn css_cannot_reach_outside_or_break_out() {
        for css in [
            "@import url(https://evil.example/x.css);",
            "body{background:url(https://evil.example/?leak)}",
            "body{background:url( 'http://x')}",
            "a{b:c}</style><script>alert(1)</script>",
            "body{background:u\\72l(https://x)}",
            "x{behavior:url(x.htc)}",
        ] {
            let t = Theme {
                css: Some(css.into()),
                ..theme()
            };
            assert!(matches!(validate(&t), Err(ThemeError::Css(_))), "{css}");
        }
        let ok = Theme {
            css: Some("main{border-radius:0}h1{letter-spacing:.02em;background:url(data:image/png;base64,AA==)}".into()),
            ..theme()
        };
        assert!(stylesheet(&ok).unwrap().ends_with("AA==)}"));
    }

    #[test]
    fn images_are_bounded_data_uris() {
        let png = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode([137u8, 80, 78, 71])
        );
        let ok = Theme {
            logo: Some(png.clone()),
            favicon: Some(png),
            ..theme()
        };
        validate(&ok).unwrap();
        let big = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(vec![0u8; MAX_LOGO + 1])
        );
        for logo in [
            "https://cdn.example/logo.png".to_owned(),
            "data:text/html;base64,PHNjcmlwdD4=".to_owned(),
            "data:image/png;base64,not base64!".to_owned(),
            big,
        ] {
            let t = Theme {
                logo: Some(logo.clone()),
                ..theme()
            };
            assert!(
                matches!(validate(&t), Err(ThemeError::Image { field: "logo", .. })),
                "{logo}"
            );
        }
        let t = Theme {
            font: Some("x;}body{display:none".into()),
            ..theme()
        };
        assert_eq!(validate(&t), Err(ThemeError::Font));
    }
}
