use super::*;
use std::collections::BTreeMap;

fn frame(look: &Look, lang: &str) -> Frame {
    Frame {
        messages: look.catalog().messages(lang),
        tenant: "acme".into(),
        brand: "Acme <Shop>".into(),
        path: "/acme/login".into(),
        keep: vec![("tx".into(), "t\"x".into())],
        globals: Default::default(),
    }
}

fn with_templates(pairs: &[(&str, &str)]) -> Branding {
    Branding {
        revision: 7,
        templates: pairs
            .iter()
            .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
            .collect(),
        ..Branding::default()
    }
}

#[test]
fn every_shipped_template_renders_in_every_shipped_language() {
    let look = Look::shipped();
    for lang in ["en", "hi"] {
        for (name, _) in TEMPLATES {
            let html = look.preview(&frame(&look, lang), name).unwrap();
            assert!(
                html.contains(&format!("<html lang=\"{lang}\" dir=\"ltr\">")),
                "{name}"
            );
            // The switcher offers both languages and keeps the transaction, escaped.
            assert!(html.contains("value=\"t&quot;x\""), "{name}: {html}");
            assert!(html.contains("/acme/theme.css?v=0"));
            let mut outside = frame(&look, lang);
            outside.tenant.clear();
            let html = look.preview(&outside, name).unwrap();
            assert!(html.contains("href=\"/assets/tollgate.css\""), "{name}");
        }
    }
    let hi = look.preview(&frame(&look, "hi"), "login.html").unwrap();
    assert!(hi.contains("साइन इन करें"), "{hi}");
    assert!(hi.contains("Acme &lt;Shop&gt;"), "{hi}");
}

#[test]
fn values_are_escaped_and_messages_cannot_carry_markup() {
    let mut b = Branding::default();
    b.messages.insert(
        "en".into(),
        "sign-in-button = <script>alert(1)</script>\n".into(),
    );
    let look = Look::build(&b).unwrap();
    let ctx = minijinja::context! { email => "\"><script>alert(2)</script>", csrf => "c", tx => "x", signup_url => "/acme/signup" };
    let html = look.render(&frame(&look, "en"), "login.html", ctx);
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)"), "{html}");
}

#[test]
fn a_tenant_template_replaces_the_shipped_one_and_keeps_the_words() {
    let b = with_templates(&[(
        "login.html",
        "<h1 class=\"acme\">{{ t('sign-in-title', tenant=brand) }}</h1><form method=\"post\" action=\"/{{ tenant }}/login\"><input type=\"hidden\" name=\"csrf\" value=\"{{ csrf }}\"><button>{{ t('sign-in-button') }}</button></form>",
    )]);
    validate(&b).unwrap();
    let look = Look::build(&b).unwrap();
    let html = look.render(
        &frame(&look, "hi"),
        "login.html",
        minijinja::context! { csrf => "c" },
    );
    assert!(html.starts_with("<h1 class=\"acme\">"), "{html}");
    assert!(html.contains("साइन इन करें"));
    assert_eq!(look.revision(), 7);
}

#[test]
fn hostile_templates_are_refused_with_a_clear_reason() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "login.html",
            "{% include '/etc/passwd' %}",
            "does not exist",
        ),
        (
            "login.html",
            "{% include '../../../../etc/passwd' %}",
            "does not exist",
        ),
        (
            "login.html",
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "out of fuel",
        ),
        (
            "login.html",
            "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
            "fails when rendered",
        ),
        ("login.html", "<script>alert(1)</script>", "<script>"),
        ("login.html", "<SCRIPT src=//evil></SCRIPT>", "<script>"),
        ("login.html", "{{ email | safe }}", "safe filter"),
        (
            "login.html",
            "{% autoescape false %}{{ email }}{% endautoescape %}",
            "autoescape",
        ),
        (
            "login.html",
            "<a href=\"javascript:alert(1)\">x</a>",
            "javascript:",
        ),
        ("login.html", "<iframe src=//evil></iframe>", "<iframe>"),
        ("login.html", "{% if %}", "line 1"),
        ("head.html", "<title>x</title>", "not a template"),
        ("../secrets", "x", "not a template"),
    ];
    for (name, src, why) in cases {
        let err = validate(&with_templates(&[(name, src)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{src}: {err}");
    }
    let big = "x".repeat(MAX_TEMPLATE + 1);
    let err = validate(&with_templates(&[("login.html", &big)])).unwrap_err();
    assert!(err.to_string().contains("at most"), "{err}");
}

#[test]
fn a_template_that_fails_at_run_time_falls_back_to_the_shipped_one() {
    // Passes the sample check (short email), runs away on a long one.
    let b = with_templates(&[(
        "login.html",
        "{% for i in range(email|length * 5) %}{% for j in range(email|length * 5) %}x{% endfor %}{% endfor %}",
    )]);
    validate(&b).unwrap();
    let look = Look::build(&b).unwrap();
    let ctx =
        minijinja::context! { email => "a".repeat(300), csrf => "c", signup_url => "/acme/signup" };
    let html = look.render(&frame(&look, "en"), "login.html", ctx);
    assert!(
        html.contains("name=\"password\""),
        "{}",
        &html[..html.len().min(200)]
    );
}

#[test]
fn a_bad_theme_or_catalogue_is_refused() {
    let mut b = Branding::default();
    b.theme.primary = Some("#fff".into());
    assert!(matches!(Look::build(&b), Err(BrandingError::Theme(_))));
    let mut b = Branding::default();
    b.messages.insert("ta".into(), "broken {".into());
    assert!(matches!(Look::build(&b), Err(BrandingError::Messages(_))));
    let mut b = Branding::default();
    b.messages
        .insert("ta".into(), "sign-in-button = உள்நுழைக\n".into());
    b.default_language = Some("ta".into());
    let look = Look::build(&b).unwrap();
    assert_eq!(look.catalog().default_language(), "ta");
    let _ = BTreeMap::<String, String>::new();
}

#[test]
fn a_kept_output_filled_in_equals_a_fresh_render() {
    let look = Look::shipped();
    let render_both = |csrf: &str, tx: Option<&str>, email: &str, lang: &str| {
        let f = frame(&look, lang);
        let mut fills = vec![
            Fill {
                name: "csrf",
                value: csrf,
                safe: false,
            },
            Fill {
                name: "email",
                value: email,
                safe: false,
            },
            Fill {
                name: "federation",
                value: "<p>fed</p>",
                safe: true,
            },
        ];
        if let Some(tx) = tx {
            fills.push(Fill {
                name: "tx",
                value: tx,
                safe: false,
            });
        }
        let stable = [
            ("error", Value::from(Option::<&str>::None)),
            ("passkeys", Value::from(true)),
        ];
        let kept = look.render_filled(&f, "login.html", &stable, &fills);
        // Built independently of the cache's own context helpers.
        let fresh = look.render(
            &f,
            "login.html",
            minijinja::context! {
                csrf, email, tx, error => Option::<&str>::None, passkeys => true,
                federation => Value::from_safe_string("<p>fed</p>".into()),
            },
        );
        assert_eq!(kept, fresh, "{csrf} {tx:?} {email} {lang}");
        let page = look.page(&f, "Sign in", kept.clone());
        let fresh_page = look.render(
            &f,
            "layout.html",
            minijinja::context! { title => "Sign in", body => Value::from_safe_string(kept) },
        );
        assert_eq!(page, fresh_page);
        page
    };
    // The first of each shape learns it, the next ones fill it in: all equal fresh renders,
    // with hostile values escaped where they land.
    for lang in ["en", "hi"] {
        for tx in [None, Some("tx-1"), Some("\"><script>x</script>")] {
            render_both("c1", tx, "", lang);
            let page = render_both("c2\"<", tx, "a@b.example\"><i>", lang);
            assert!(page.contains("value=\"c2&quot;&lt;\""), "{page}");
            assert!(page.contains("<p>fed</p>"));
            assert!(!page.contains("<script>x") && !page.contains("<i>"));
        }
    }
}
