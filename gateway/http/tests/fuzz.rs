//! Fuzz targets for what the gateway parses itself from untrusted bytes (the harness is
//! `tollgate-fuzzkit`; seeds in `tests/corpus/<target>/`; `TOLLGATE_FUZZ_SECS` for a
//! longer run):
//!
//! - `form_query`: form bodies and query strings, and the rule that a parameter may
//!   appear once (RFC 6749 §3.1), through `parse_unique`, the bounded `read_form` the
//!   handlers use, and actix's query extractor;
//! - `token_request`: the token endpoint's client credentials (HTTP Basic or the body)
//!   and its grant parameters;
//! - `cookies`: the `Cookie` header, the CSRF and session cookies, and CSRF tokens.
//!
//! Each checks properties against an independent reading of the same bytes, not only
//! that nothing panics.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, HeaderValue};
use actix_web::test::TestRequest;
use actix_web::{FromRequest, web};
use base64::Engine as _;
use std::collections::HashMap;
use tollgate_engine::EngineError;
use tollgate_engine::oauth::token::{ClientAuthMethod, GrantRequest};
use tollgate_fuzzkit::Fuzz;
use tollgate_http::state::Csrf;
use tollgate_http::web::client_auth::client_credentials;
use tollgate_http::web::cookies::{CSRF_COOKIE, CookieScope, SESSION_COOKIE};
use tollgate_http::web::csrf::{csrf_cookie, session_cookie};
use tollgate_http::web::error::ApiError;
use tollgate_http::web::request::{MAX_FORM_BYTES, parse_unique, read_form};
use tollgate_http::web::tx::TxQuery;

const FORM_WORDS: &[&str] = &[
    "grant_type",
    "authorization_code",
    "refresh_token",
    "code",
    "redirect_uri",
    "code_verifier",
    "client_id",
    "client_secret",
    "scope",
    "state",
    "tx",
    "csrf",
    "email",
    "password",
    "=",
    "&",
    "%26",
    "%3D",
    "+",
];

/// The wire code and description of an API error.
fn wire(e: &ApiError) -> (&'static str, String) {
    match &e.0 {
        EngineError::OAuth(o) => (o.code.as_str(), o.description.to_string()),
        other => panic!("not an OAuth error: {other:?}"),
    }
}

/// The pairs of a urlencoded string, read by the `url` crate, in order.
fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw).into_owned().collect()
}

/// The first name that appears twice, if any.
fn first_repeated(pairs: &[(String, String)]) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    pairs
        .iter()
        .find(|(k, _)| !seen.insert(k.as_str()))
        .map(|(k, _)| k.clone())
}

/// `read_form` on a request with this content type and body, as a handler gets it.
fn read(
    sys: &actix_web::rt::SystemRunner,
    content_type: &str,
    body: Vec<u8>,
) -> Result<HashMap<String, String>, ApiError> {
    let (req, mut pl) = TestRequest::post()
        .insert_header((header::CONTENT_TYPE, content_type))
        .set_payload(body)
        .to_http_parts();
    sys.block_on(async {
        let payload = web::Payload::from_request(&req, &mut pl).await.unwrap();
        read_form(&req, payload).await
    })
}

#[test]
fn form_query() {
    let sys = actix_web::rt::System::new();
    Fuzz::new(env!("CARGO_MANIFEST_DIR"), "form_query")
        .dictionary(FORM_WORDS)
        .run(|input| {
            let reference = pairs(input);
            let repeated = first_repeated(&reference);
            let parsed = parse_unique(input);
            match &parsed {
                Ok(map) => {
                    assert_eq!(repeated, None, "a repeated parameter was accepted");
                    let expected: HashMap<String, String> = reference.iter().cloned().collect();
                    assert_eq!(map, &expected);
                    // What it parsed, written out again, parses to the same.
                    let mut sorted: Vec<_> = map.iter().collect();
                    sorted.sort();
                    let again = serde_urlencoded::to_string(&sorted).unwrap();
                    assert_eq!(parse_unique(again.as_bytes()).unwrap(), *map, "{again}");
                }
                Err(e) => {
                    let (code, desc) = wire(e);
                    assert_eq!(code, "invalid_request");
                    let name = repeated
                        .unwrap_or_else(|| panic!("refused with every parameter once: {desc}"));
                    assert_eq!(desc, format!("parameter {name} appears more than once"));
                }
            }

            // The handlers' bounded reader agrees, whatever the case of the content type.
            let ct = if input.len() % 2 == 0 {
                "application/x-www-form-urlencoded"
            } else {
                "Application/X-WWW-Form-Urlencoded; charset=UTF-8"
            };
            let via_reader = read(&sys, ct, input.to_vec());
            assert_eq!(
                via_reader.as_ref().map_err(wire),
                parsed.as_ref().map_err(wire)
            );
            // ... and refuses what it must, for a few of the inputs.
            if input.len() % 8 == 1 {
                let e = read(&sys, "text/plain", input.to_vec()).unwrap_err();
                assert!(wire(&e).1.contains("x-www-form-urlencoded"));
                let mut big = input.to_vec();
                while big.len() <= MAX_FORM_BYTES {
                    big.extend_from_slice(if input.is_empty() { b"a" } else { input });
                }
                let e = read(&sys, "application/x-www-form-urlencoded", big).unwrap_err();
                assert!(wire(&e).1.contains("exceeds"), "{}", wire(&e).1);
            }

            // Query strings through actix's extractor: `tx` at most once.
            let query = String::from_utf8_lossy(input);
            let tx: Vec<String> = pairs(query.as_bytes())
                .into_iter()
                .filter(|(k, _)| k == "tx")
                .map(|(_, v)| v)
                .collect();
            match web::Query::<TxQuery>::from_query(&query) {
                Ok(q) => {
                    assert!(
                        tx.len() <= 1,
                        "tx appeared {} times and was accepted",
                        tx.len()
                    );
                    assert_eq!(q.tx.as_ref(), tx.first());
                }
                Err(e) => assert!(tx.len() > 1, "refused: {e}"),
            }
        });
}

#[test]
fn token_request() {
    Fuzz::new(env!("CARGO_MANIFEST_DIR"), "token_request")
        .dictionary(FORM_WORDS)
        .dictionary([
            "Basic ",
            "basic ",
            "Bearer ",
            ":",
            "%3A",
            "d2ViOnNlY3JldA==",
            "client_assertion",
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.c2ln",
        ])
        .run(|input| {
            // The first line is the Authorization header, the rest the form body.
            let (auth, body) = match input.iter().position(|&b| b == b'\n') {
                Some(i) => (Some(&input[..i]), &input[i + 1..]),
                None => (None, input),
            };
            let Ok(form) = parse_unique(body) else { return };
            let auth = auth.and_then(|a| HeaderValue::from_bytes(a).ok());
            let mut req = TestRequest::post();
            if let Some(v) = &auth {
                req = req.insert_header((header::AUTHORIZATION, v.clone()));
            }
            let req = req.to_http_request();
            let basic = auth
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Basic ") || v.starts_with("basic "));
            let assertion =
                form.contains_key("client_assertion") || form.contains_key("client_assertion_type");
            match client_credentials(&req, &form) {
                Ok(c) => match c.method {
                    ClientAuthMethod::Basic => {
                        assert!(basic);
                        assert!(!form.contains_key("client_secret"), "two methods");
                        if let Some(id) = form.get("client_id") {
                            assert_eq!(id, &c.client_id);
                        }
                        // Encoded again as RFC 6749 §2.3.1 says, the credentials read back.
                        let enc = |v: &str| {
                            url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                        };
                        let secret = c.secret.clone().unwrap();
                        let header = format!(
                            "Basic {}",
                            base64::engine::general_purpose::STANDARD.encode(format!(
                                "{}:{}",
                                enc(&c.client_id),
                                enc(&secret)
                            ))
                        );
                        let req = TestRequest::post()
                            .insert_header((header::AUTHORIZATION, header))
                            .to_http_request();
                        let again = client_credentials(&req, &HashMap::new()).unwrap();
                        assert_eq!((again.client_id, again.secret), (c.client_id, Some(secret)));
                    }
                    ClientAuthMethod::Post => {
                        assert!(!basic);
                        assert_eq!(form.get("client_id"), Some(&c.client_id));
                        assert_eq!(form.get("client_secret"), c.secret.as_ref());
                    }
                    ClientAuthMethod::None => {
                        assert!(!basic);
                        assert_eq!(form.get("client_id"), Some(&c.client_id));
                        assert!(c.secret.is_none() && !form.contains_key("client_secret"));
                    }
                    ClientAuthMethod::PrivateKeyJwt(a) => {
                        assert!(!basic && !form.contains_key("client_secret"), "two methods");
                        assert_eq!(form.get("client_assertion"), Some(&a.jwt));
                        assert!(c.secret.is_none());
                    }
                },
                Err(e) => {
                    let (code, desc) = wire(&e);
                    match code {
                        "invalid_client" => assert!(
                            basic || !form.contains_key("client_id") || assertion,
                            "{desc}"
                        ),
                        "invalid_request" => assert!(basic || assertion, "{desc}"),
                        other => panic!("unexpected error {other}: {desc}"),
                    }
                }
            }

            let given = |k: &str| form.get(k).filter(|v| !v.is_empty()).cloned();
            let mut rest = form.clone();
            match GrantRequest::parse(|k| rest.remove(k).filter(|v| !v.is_empty())) {
                Ok(GrantRequest::AuthorizationCode {
                    code,
                    redirect_uri,
                    code_verifier,
                    resource,
                }) => {
                    assert_eq!(resource, given("resource"));
                    assert_eq!(given("grant_type").as_deref(), Some("authorization_code"));
                    assert_eq!(Some(code), given("code"));
                    assert_eq!(Some(redirect_uri), given("redirect_uri"));
                    assert_eq!(Some(code_verifier), given("code_verifier"));
                }
                Ok(GrantRequest::RefreshToken {
                    refresh_token,
                    scope,
                    resource,
                }) => {
                    assert_eq!(resource, given("resource"));
                    assert_eq!(given("grant_type").as_deref(), Some("refresh_token"));
                    assert_eq!(Some(refresh_token), given("refresh_token"));
                    assert_eq!(scope, given("scope"));
                }
                Ok(GrantRequest::ClientCredentials { scope, resource }) => {
                    assert_eq!(given("grant_type").as_deref(), Some("client_credentials"));
                    assert_eq!(scope, given("scope"));
                    assert_eq!(resource, given("resource").or_else(|| given("audience")));
                }
                // Any other grant: parsed from its own grant_type.
                #[allow(unreachable_patterns)]
                Ok(other) => {
                    assert_eq!(given("grant_type").as_deref(), Some(other.grant_type()));
                }
                Err(EngineError::OAuth(o)) => {
                    let code = o.code.as_str();
                    assert!(
                        code == "invalid_request" || code == "unsupported_grant_type",
                        "{code}"
                    );
                    if code == "unsupported_grant_type" {
                        let g = given("grant_type").unwrap();
                        assert!(
                            !["authorization_code", "refresh_token", "client_credentials"]
                                .contains(&g.as_str())
                        );
                    }
                }
                Err(other) => panic!("not an OAuth error: {other:?}"),
            }
        });
}

#[test]
fn cookies() {
    let key = Csrf::new([7; 32]);
    Fuzz::new(env!("CARGO_MANIFEST_DIR"), "cookies")
        .dictionary([
            "tg_csrf=",
            "tg_session=",
            "__Host-tg_csrf-acme=",
            "__Host-tg_session-acme=",
            "; ",
            ";",
            "=",
            "\"",
            "Path=/",
            "%20",
            "%3B",
        ])
        .run(|input| {
            let Ok(value) = HeaderValue::from_bytes(input) else {
                return;
            };
            let req = TestRequest::get()
                .insert_header((header::COOKIE, value))
                .to_http_request();
            // Either way of naming cookies, chosen by the input.
            let scope = CookieScope {
                secure: true,
                host_prefix: input.first().is_some_and(|b| b & 1 == 1),
            };
            let csrf_name = scope.wire_name(CSRF_COOKIE, "acme");
            let sent = req.cookie(&csrf_name).map(|c| c.value().to_owned());

            // The CSRF cookie: kept when it has the shape we make, otherwise a new one.
            let (csrf, fresh) = csrf_cookie(scope, &req, "acme");
            assert_eq!(csrf.len(), 43);
            match &sent {
                Some(s) if s.len() == 43 => {
                    assert!(!fresh);
                    assert_eq!(&csrf, s);
                }
                _ => {
                    assert!(fresh);
                    assert!(
                        csrf.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    );
                }
            }
            let session = session_cookie(scope, &req, "acme");
            assert_eq!(
                session,
                req.cookie(&scope.wire_name(SESSION_COOKIE, "acme"))
                    .map(|c| c.value().to_owned())
                    .filter(|v| !v.is_empty())
            );

            // A CSRF token checks for the cookie and session it was made for, and for
            // nothing else.
            let token = key.token(&csrf, session.as_deref());
            assert!(key.check(Some(&csrf), session.as_deref(), Some(&token)));
            let other = format!("{}x", session.as_deref().unwrap_or(""));
            assert!(!key.check(Some(&csrf), Some(&other), Some(&token)));
            if session.is_some() {
                assert!(!key.check(Some(&csrf), None, Some(&token)));
            }
            assert!(!key.check(None, session.as_deref(), Some(&token)));
            assert!(!key.check(Some(""), session.as_deref(), Some(&token)));
            // Nothing the browser sent is a valid token (the cookie is not the token).
            for c in req.cookies().map(|c| c.clone()).unwrap_or_default() {
                assert!(
                    !key.check(Some(&csrf), session.as_deref(), Some(c.value())),
                    "{c}"
                );
            }
            let text = String::from_utf8_lossy(input);
            assert!(!key.check(Some(&csrf), session.as_deref(), Some(&text)) || text == token);

            // A new cookie, as the server sets it, reads back the same. (A kept one is not
            // set again: actix percent-decodes what it reads, so it may hold any byte.)
            if !fresh {
                return;
            }
            let set = scope.cookie(CSRF_COOKIE, csrf.clone(), "acme").to_string();
            let back = Cookie::parse(set).unwrap();
            assert_eq!(back.value(), csrf);
            assert_eq!(back.name(), csrf_name);
            let path = if scope.host_prefix { "/" } else { "/acme" };
            assert_eq!(back.path(), Some(path));
            assert_eq!(back.http_only(), Some(true));
            assert_eq!(back.secure(), Some(true));
            assert_eq!(back.same_site(), Some(SameSite::Lax));
        });
}
