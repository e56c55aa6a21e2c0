//! The OAuth and hosted-page flows the generator drives, the way a browser
//! and a confidential client would, plus the pure helpers they need (PKCE,
//! a minimal cookie jar, reading the sign-in form, reading redirects).
//!
//! Redirects are never followed automatically: each step checks the status
//! and `Location` it expects. A step fails with the [`Status`] the run
//! should record: the server's status (503/429 become overload answers), a
//! transport error, or a protocol error saying what was unexpected.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{COOKIE, HeaderMap, LOCATION, RETRY_AFTER, SET_COOKIE};
use reqwest::{Client, RequestBuilder, Response, Url};
use serde::Deserialize;

use crate::report::{ErrorKind, Status};

/// The result of one step of a flow: the value it produced, or the status
/// to record for the whole flow.
pub type Step<T> = Result<T, Status>;

/// Scopes requested by every authorization (refresh tokens need
/// `offline_access`).
const SCOPE: &str = "openid offline_access";

/// Send a request, mapping transport failures to [`Status::Error`].
pub async fn send(request: RequestBuilder) -> Step<Response> {
    request.send().await.map_err(transport_error)
}

/// Read the whole body.
pub async fn body(response: Response) -> Step<impl std::ops::Deref<Target = [u8]>> {
    response.bytes().await.map_err(transport_error)
}

/// Whether the response tells when to retry.
pub fn has_retry_after(response: &Response) -> bool {
    response.headers().contains_key(RETRY_AFTER)
}

/// Check that `response` has status `wanted`. Otherwise drain its body (to
/// keep the connection reusable) and fail with its status; an unexpected
/// 2xx is a protocol error named `unexpected_2xx`, so it is never counted as
/// a success of the flow.
async fn expect(response: Response, wanted: u16, unexpected_2xx: &'static str) -> Step<Response> {
    let code = response.status().as_u16();
    if code == wanted {
        return Ok(response);
    }
    let retry_after = has_retry_after(&response);
    body(response).await?;
    Err(match Status::from_response(code, retry_after) {
        Status::Http(c) if (200..300).contains(&c) => protocol(unexpected_2xx),
        other => other,
    })
}

/// Classify a reqwest failure.
pub fn transport_error(e: reqwest::Error) -> Status {
    Status::Error(if e.is_timeout() {
        ErrorKind::Timeout
    } else if e.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Other
    })
}

fn protocol(what: &'static str) -> Status {
    Status::Error(ErrorKind::Protocol(what))
}

/// `n` random bytes, base64url without padding.
pub fn random_b64(n: usize) -> String {
    let mut buf = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut buf).expect("the system RNG works");
    URL_SAFE_NO_PAD.encode(buf)
}

/// A PKCE pair (RFC 7636, method S256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// A fresh random verifier (32 bytes, 43 characters).
    pub fn random() -> Self {
        Self::from_verifier(random_b64(32))
    }

    pub fn from_verifier(verifier: String) -> Self {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        Self {
            challenge: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            verifier,
        }
    }
}

/// Just enough of a browser's cookie jar for one server and one tenant:
/// names and values, no paths or expiry (every Tollgate cookie a flow sees
/// is scoped to the tenant's path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar {
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    /// Apply one `Set-Cookie` header value. An empty value or `Max-Age=0`
    /// deletes the cookie.
    pub fn store(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';').map(str::trim);
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        let removed = value.is_empty()
            || parts.any(|a| {
                a.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("max-age") && v.trim().starts_with(['0', '-'])
                })
            });
        self.cookies.retain(|(n, _)| n != name);
        if !removed {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    /// Apply every `Set-Cookie` header of a response.
    pub fn store_all(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            if let Ok(v) = v.to_str() {
                self.store(v);
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Cookie` request header, if there is anything to send.
    pub fn header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn attach(&self, request: RequestBuilder) -> RequestBuilder {
        match self.header() {
            Some(h) => request.header(COOKIE, h),
            None => request,
        }
    }
}

/// The value of the hidden input `name` in an HTML form, as Tollgate's
/// pages write it: `name="tx" value="..."`, HTML-escaped.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(unescape_html(&html[start..start + len]))
}

fn unescape_html(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Where an authorization (or sign-in) redirected the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// Back to the client with a code.
    Code { code: String, state: Option<String> },
    /// Back to the client with an OAuth error.
    Denied(String),
    /// To the tenant's sign-in page.
    Login(Url),
    /// Anywhere else (e.g. the consent page).
    Elsewhere(Url),
}

/// Resolve `location` against the server's `base` and classify it.
pub fn classify_redirect(
    base: &Url,
    tenant: &str,
    redirect_uri: &str,
    location: &str,
) -> Option<Redirect> {
    let url = base.join(location).ok()?;
    let mut bare = url.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    if bare.as_str() == redirect_uri {
        let query = |key: &str| {
            url.query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        return Some(match (query("code"), query("error")) {
            (Some(code), _) => Redirect::Code {
                code,
                state: query("state"),
            },
            (None, error) => Redirect::Denied(error.unwrap_or_default()),
        });
    }
    if url.path() == format!("/{tenant}/login") {
        return Some(Redirect::Login(url));
    }
    Some(Redirect::Elsewhere(url))
}

/// The hidden fields of the sign-in form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginForm {
    pub tx: String,
    pub csrf: String,
}

/// What a token response carried.
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// One client of one tenant, and the endpoints it drives.
#[derive(Debug, Clone)]
pub struct OAuth {
    http: Client,
    base: Url,
    tenant: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    authorize_url: Url,
    login_url: String,
    token_url: String,
}

impl OAuth {
    /// `http` must not follow redirects.
    pub fn new(
        http: Client,
        base_url: &str,
        tenant: &str,
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
    ) -> Result<Self, String> {
        let base =
            Url::parse(base_url).map_err(|e| format!("invalid base URL {base_url:?}: {e}"))?;
        let tenant_url = |path: &str| format!("{}/{tenant}/{path}", base_url.trim_end_matches('/'));
        Ok(Self {
            authorize_url: Url::parse(&tenant_url("authorize")).map_err(|e| e.to_string())?,
            login_url: tenant_url("login"),
            token_url: tenant_url("token"),
            http,
            base,
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        })
    }

    pub fn authorize_url(&self) -> &str {
        self.authorize_url.as_str()
    }

    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    fn redirect_of(&self, response: &Response) -> Step<Redirect> {
        response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| classify_redirect(&self.base, &self.tenant, &self.redirect_uri, l))
            .ok_or_else(|| protocol("redirect without a usable Location"))
    }

    /// `GET /authorize` with the browser's cookies: 303 to the sign-in page
    /// without a session, straight back with a code with one.
    async fn authorize(&self, jar: &CookieJar, pkce: &Pkce, state: &str) -> Step<Redirect> {
        let request = self.http.get(self.authorize_url.clone()).query(&[
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", SCOPE),
            ("state", state),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ]);
        let response = send(jar.attach(request)).await?;
        let response = expect(response, 303, "authorize answered 2xx, not a redirect").await?;
        let redirect = self.redirect_of(&response);
        body(response).await?;
        redirect
    }

    /// `GET` the sign-in page: its hidden fields, and the CSRF cookie.
    async fn login_page(&self, url: Url, jar: &mut CookieJar) -> Step<LoginForm> {
        let response = send(jar.attach(self.http.get(url))).await?;
        let response = expect(response, 200, "sign-in page answered another 2xx").await?;
        jar.store_all(response.headers());
        let html = body(response).await?;
        let html = String::from_utf8_lossy(&html);
        match (hidden_field(&html, "tx"), hidden_field(&html, "csrf")) {
            (Some(tx), Some(csrf)) => Ok(LoginForm { tx, csrf }),
            _ => Err(protocol("sign-in page without tx and csrf fields")),
        }
    }

    /// `POST` the sign-in form: 303 onwards, and the session cookie.
    async fn submit_login(
        &self,
        form: &LoginForm,
        email: &str,
        password: &str,
        jar: &mut CookieJar,
    ) -> Step<Redirect> {
        let request = self.http.post(&self.login_url).form(&[
            ("email", email),
            ("password", password),
            ("tx", &form.tx),
            ("csrf", &form.csrf),
        ]);
        let response = send(jar.attach(request)).await?;
        let response = expect(response, 303, "sign-in answered 2xx, not a redirect").await?;
        jar.store_all(response.headers());
        let redirect = self.redirect_of(&response);
        body(response).await?;
        redirect
    }

    /// `POST /token` with HTTP Basic client authentication.
    async fn token(&self, form: &[(&str, &str)]) -> Step<Tokens> {
        let request = self
            .http
            .post(&self.token_url)
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .form(form);
        let response = expect(
            send(request).await?,
            200,
            "token endpoint answered another 2xx",
        )
        .await?;
        let tokens: Tokens = serde_json::from_slice(&body(response).await?)
            .map_err(|_| protocol("token response is not JSON"))?;
        if tokens.access_token.is_none() {
            return Err(protocol("token response without access_token"));
        }
        Ok(tokens)
    }

    async fn exchange_code(&self, code: &str, pkce: &Pkce) -> Step<Tokens> {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", &pkce.verifier),
        ])
        .await
    }

    /// One refresh grant. On success the response carries the chain's new
    /// refresh token (checked here).
    pub async fn refresh(&self, refresh_token: &str) -> Step<String> {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await?
        .refresh_token
        .ok_or_else(|| protocol("refresh response without refresh_token"))
    }

    /// The code of a redirect back to the client, checking `state`.
    fn code_of(redirect: Redirect, state: &str) -> Step<String> {
        match redirect {
            Redirect::Code {
                code,
                state: Some(s),
            } if s == state => Ok(code),
            Redirect::Code { .. } => Err(protocol("redirect with a wrong state")),
            Redirect::Denied(_) => Err(protocol("authorization denied (error redirect)")),
            Redirect::Login(_) => Err(protocol("sent to the sign-in page again")),
            Redirect::Elsewhere(_) => Err(protocol(
                "redirect elsewhere (consent page? the client must be first_party)",
            )),
        }
    }

    /// A whole hosted sign-in, as a browser with the cookies in `jar`:
    /// authorize, sign-in page, credentials, code, token exchange. Leaves
    /// the session cookie in `jar`.
    pub async fn sign_in(&self, email: &str, password: &str, jar: &mut CookieJar) -> Step<Tokens> {
        let (pkce, state) = (Pkce::random(), random_b64(16));
        let code = match self.authorize(jar, &pkce, &state).await? {
            Redirect::Login(url) => {
                let form = self.login_page(url, jar).await?;
                let next = self.submit_login(&form, email, password, jar).await?;
                Self::code_of(next, &state)?
            }
            other => Self::code_of(other, &state)?,
        };
        self.exchange_code(&code, &pkce).await
    }

    /// Authorize with the session in `jar` (no sign-in page) and exchange
    /// the code: a new refresh chain for the signed-in user.
    pub async fn authorize_with_session(&self, jar: &CookieJar) -> Step<Tokens> {
        let (pkce, state) = (Pkce::random(), random_b64(16));
        let code = Self::code_of(self.authorize(jar, &pkce, &state).await?, &state)?;
        self.exchange_code(&code, &pkce).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let r = Pkce::random();
        assert_eq!(r.verifier.len(), 43);
        assert_ne!(r, Pkce::random());
    }

    #[test]
    fn jar_keeps_names_and_values() {
        let mut jar = CookieJar::default();
        assert_eq!(jar.header(), None);
        jar.store("tg_csrf=abc; Path=/t1; HttpOnly; SameSite=Lax");
        jar.store("tg_session=s1; Path=/t1");
        assert_eq!(jar.header().unwrap(), "tg_csrf=abc; tg_session=s1");
        jar.store("tg_session=s2; Path=/t1");
        assert_eq!(jar.get("tg_session"), Some("s2"));
        jar.store("tg_csrf=; Path=/t1; Max-Age=0");
        assert_eq!(jar.header().unwrap(), "tg_session=s2");
        jar.store("tg_session=x; Max-Age=0; Path=/t1");
        assert_eq!(jar.header(), None);
        jar.store("garbage");
        assert_eq!(jar.header(), None);
    }

    #[test]
    fn reads_hidden_fields_of_the_sign_in_form() {
        // As gateway/src/pages.rs writes them.
        let html = "<form method=\"post\" action=\"/t1/login\">\
<input type=\"hidden\" name=\"tx\" value=\"a.b-c_d&amp;e\">\
<input type=\"hidden\" name=\"csrf\" value=\"Zm9v\">\
<input id=\"email\" type=\"email\" name=\"email\" value=\"\">";
        assert_eq!(hidden_field(html, "tx").unwrap(), "a.b-c_d&e");
        assert_eq!(hidden_field(html, "csrf").unwrap(), "Zm9v");
        assert_eq!(hidden_field(html, "email").unwrap(), "");
        assert_eq!(hidden_field(html, "nope"), None);
    }

    #[test]
    fn classifies_redirects() {
        let base = Url::parse("http://127.0.0.1:18300").unwrap();
        let cb = "http://127.0.0.1:9/cb";
        let c = |l| classify_redirect(&base, "t1", cb, l).unwrap();
        assert_eq!(
            c("http://127.0.0.1:9/cb?code=abc&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A18300%2Ft1"),
            Redirect::Code {
                code: "abc".into(),
                state: Some("xyz".into())
            }
        );
        assert_eq!(
            c("http://127.0.0.1:9/cb?error=access_denied&state=xyz"),
            Redirect::Denied("access_denied".into())
        );
        match c("/t1/login?tx=T%2Bx") {
            Redirect::Login(url) => {
                assert_eq!(url.as_str(), "http://127.0.0.1:18300/t1/login?tx=T%2Bx");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(c("/t1/consent?tx=1"), Redirect::Elsewhere(_)));
        assert!(matches!(c("/t2/login?tx=1"), Redirect::Elsewhere(_)));
    }

    #[test]
    fn only_a_matching_state_yields_the_code() {
        let code = |state: Option<&str>| Redirect::Code {
            code: "c".into(),
            state: state.map(str::to_owned),
        };
        assert_eq!(OAuth::code_of(code(Some("s")), "s"), Ok("c".into()));
        assert!(OAuth::code_of(code(Some("t")), "s").is_err());
        assert!(OAuth::code_of(code(None), "s").is_err());
        let e = OAuth::code_of(Redirect::Denied("x".into()), "s").unwrap_err();
        assert!(matches!(e, Status::Error(ErrorKind::Protocol(_))));
    }
}
