//! Outgoing calls to upstream identity providers, for federated sign-in: discovery,
//! JWKS, the token exchange, userinfo. Bounded by timeouts and in size, never following
//! redirects. The engine decides (state, nonce, ID-token checks, linking); this module
//! only fetches. It names the state alone: a helper of the federation handler.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tollgate_engine::federation::{
    self as fed, IdTokenError, IdTokenExpectations, UpstreamIdentity,
};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::federation::{Connector, Protocol, TokenAuth};

use crate::state::AppState;

/// Largest upstream answer read (discovery, JWKS, token, userinfo).
const MAX_UPSTREAM_BYTES: usize = 256 * 1024;
/// How long discovery documents and JWKS are reused.
const DOC_TTL: Duration = Duration::from_secs(300);

/// The client for upstream calls: bounded in time, no redirects (a token endpoint that
/// redirects elsewhere could send our code and secret to another host).
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Tollgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds")
    })
}

/// Why an upstream call failed: a reason code for the audit trail, and detail for logs.
#[derive(Debug)]
pub struct Upstream {
    /// The reason code (audit).
    pub reason: &'static str,
    /// What went wrong (logs only).
    pub detail: String,
}

fn upstream(reason: &'static str, detail: impl Into<String>) -> Upstream {
    Upstream {
        reason,
        detail: detail.into(),
    }
}

async fn read_json(resp: reqwest::Response, what: &'static str) -> Result<Value, Upstream> {
    let status = resp.status();
    if resp
        .content_length()
        .is_some_and(|l| l as usize > MAX_UPSTREAM_BYTES)
    {
        return Err(upstream(what, "answer too large"));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| upstream(what, e.to_string()))?;
    if body.len() > MAX_UPSTREAM_BYTES {
        return Err(upstream(what, "answer too large"));
    }
    if !status.is_success() {
        return Err(upstream(what, format!("status {status}")));
    }
    serde_json::from_slice(&body).map_err(|_| upstream(what, "answer is not JSON"))
}

async fn get_json(url: &str, bearer: Option<&str>, what: &'static str) -> Result<Value, Upstream> {
    let mut rb = client()
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(t) = bearer {
        rb = rb.bearer_auth(t);
    }
    let resp = rb.send().await.map_err(|e| upstream(what, e.to_string()))?;
    read_json(resp, what).await
}

type DocCache = Mutex<HashMap<String, (Instant, Value)>>;

/// A discovery document or JWKS, reused for [`DOC_TTL`] (`fresh` refetches: a new key).
async fn cached_doc(url: &str, fresh: bool, what: &'static str) -> Result<Value, Upstream> {
    static CACHE: OnceLock<DocCache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if !fresh
        && let Some((at, v)) = cache.lock().expect("cache lock").get(url)
        && at.elapsed() < DOC_TTL
    {
        return Ok(v.clone());
    }
    let v = get_json(url, None, what).await?;
    let mut c = cache.lock().expect("cache lock");
    if c.len() > 1000 {
        c.clear();
    }
    c.insert(url.to_owned(), (Instant::now(), v.clone()));
    Ok(v)
}

/// Where a connector's endpoints are, with discovery for OIDC.
pub struct Endpoints {
    /// Where the browser goes.
    pub authorization: String,
    token: String,
    userinfo: Option<String>,
    jwks: Option<String>,
    issuer: Option<String>,
}

pub async fn endpoints(c: &Connector) -> Result<Endpoints, Upstream> {
    let checked = |what: &'static str, u: String| -> Result<String, Upstream> {
        fed::check_upstream_url(what, &u).map_err(|e| upstream("discovery", e.to_string()))?;
        Ok(u)
    };
    match c.protocol {
        Protocol::Oauth2 => Ok(Endpoints {
            authorization: c.authorization_endpoint.clone().unwrap_or_default(),
            token: c.token_endpoint.clone().unwrap_or_default(),
            userinfo: c.userinfo_endpoint.clone(),
            jwks: None,
            issuer: None,
        }),
        Protocol::Oidc => {
            let issuer = c.issuer.clone().unwrap_or_default();
            let doc = cached_doc(
                &format!("{issuer}/.well-known/openid-configuration"),
                false,
                "discovery",
            )
            .await?;
            let doc_issuer = doc["issuer"].as_str().unwrap_or("").trim_end_matches('/');
            // OIDC Discovery §4.3: the document's issuer is the one configured (Microsoft's
            // multi-tenant document names a template, matched per token).
            if doc_issuer != issuer && !doc_issuer.contains("{tenantid}") {
                return Err(upstream(
                    "discovery",
                    "the discovery document names another issuer",
                ));
            }
            let field = |k: &str| doc[k].as_str().map(str::to_owned);
            let need = |given: &Option<String>, k: &'static str| {
                given
                    .clone()
                    .or_else(|| field(k))
                    .ok_or_else(|| upstream("discovery", format!("no {k}")))
                    .and_then(|u| checked(k, u))
            };
            Ok(Endpoints {
                authorization: need(&c.authorization_endpoint, "authorization_endpoint")?,
                token: need(&c.token_endpoint, "token_endpoint")?,
                userinfo: match c
                    .userinfo_endpoint
                    .clone()
                    .or_else(|| field("userinfo_endpoint"))
                {
                    Some(u) => Some(checked("userinfo_endpoint", u)?),
                    None => None,
                },
                jwks: Some(need(&None, "jwks_uri")?),
                issuer: Some(doc_issuer.to_owned()),
            })
        }
    }
}

/// What the upstream's token endpoint answered.
pub struct TokenAnswer {
    /// The upstream access token.
    pub access_token: String,
    id_token: Option<String>,
    /// The upstream refresh token, if any.
    pub refresh_token: Option<String>,
    /// Its lifetime, in seconds.
    pub expires_in: Option<u64>,
    /// The scope granted.
    pub scope: Option<String>,
    raw: Value,
}

async fn exchange_code(
    st: &AppState,
    t: &TenantId,
    c: &Connector,
    token_endpoint: &str,
    code: &str,
    verifier: &str,
) -> Result<TokenAnswer, Upstream> {
    let secret = st
        .engine
        .connector_client_secret(c)
        .map_err(|e| upstream("client_secret", e.to_string()))?;
    let redirect_uri = st.engine.federation_redirect_uri(t, &c.id);
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &redirect_uri),
        ("code_verifier", verifier),
    ];
    let mut rb = client()
        .post(token_endpoint)
        .header(reqwest::header::ACCEPT, "application/json");
    match (c.token_auth, secret.as_deref()) {
        (TokenAuth::ClientSecretBasic, Some(s)) => {
            // RFC 6749 §2.3.1: both parts form-urlencoded before Basic.
            let enc =
                |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            rb = rb.basic_auth(enc(&c.client_id), Some(enc(s)));
        }
        (_, s) => {
            form.push(("client_id", &c.client_id));
            if let Some(s) = s {
                form.push(("client_secret", s));
            }
        }
    }
    let body = serde_urlencoded::to_string(&form).map_err(|e| upstream("token", e.to_string()))?;
    let resp = rb
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await
        .map_err(|e| upstream("token", e.to_string()))?;
    let v = read_json(resp, "token").await?;
    let Some(access_token) = v["access_token"].as_str().map(str::to_owned) else {
        // GitHub answers errors with 200 and an `error` field.
        let err = v["error"].as_str().unwrap_or("no access_token");
        return Err(upstream("token", format!("token endpoint: {err}")));
    };
    let s = |k: &str| v[k].as_str().map(str::to_owned);
    Ok(TokenAnswer {
        access_token,
        id_token: s("id_token"),
        refresh_token: s("refresh_token"),
        expires_in: v["expires_in"]
            .as_u64()
            .or_else(|| v["expires_in"].as_str().and_then(|x| x.parse().ok())),
        scope: s("scope"),
        raw: v,
    })
}

/// The upstream's claims about the user: the ID token's (checked) merged with userinfo
/// (OIDC), or the userinfo document (OAuth 2.0).
async fn upstream_claims(
    st: &AppState,
    c: &Connector,
    ep: &Endpoints,
    tokens: &TokenAnswer,
    nonce: &str,
) -> Result<Value, Upstream> {
    match c.protocol {
        Protocol::Oidc => {
            let id_token = tokens
                .id_token
                .as_deref()
                .ok_or_else(|| upstream("id_token_missing", "no id_token"))?;
            let jwks_uri = ep.jwks.as_deref().unwrap_or_default();
            let expect = IdTokenExpectations {
                issuer: ep.issuer.as_deref().unwrap_or_default(),
                client_id: &c.client_id,
                nonce,
                now: st.engine.now(),
            };
            let jwks = cached_doc(jwks_uri, false, "jwks").await?;
            let checked = match fed::validate_id_token(id_token, &jwks, &expect) {
                // The upstream may have rotated its keys since we cached them.
                Err(IdTokenError::UnknownKey) => {
                    let jwks = cached_doc(jwks_uri, true, "jwks").await?;
                    fed::validate_id_token(id_token, &jwks, &expect)
                }
                other => other,
            };
            let mut claims = checked.map_err(|e| upstream(e.as_str(), "id token refused"))?;
            if let Some(u) = &ep.userinfo {
                match get_json(u, Some(&tokens.access_token), "userinfo").await {
                    // OIDC Core §5.3.2: userinfo about another subject is ignored.
                    Ok(Value::Object(info)) if info.get("sub") == claims.get("sub") => {
                        for (k, v) in info {
                            if claims.get(&k).is_none() {
                                claims[k] = v;
                            }
                        }
                    }
                    Ok(_) => tracing::warn!(provider = %c.id, "userinfo ignored: another subject"),
                    Err(e) => {
                        tracing::warn!(provider = %c.id, detail = %e.detail, "userinfo failed")
                    }
                }
            }
            Ok(claims)
        }
        Protocol::Oauth2 => match &ep.userinfo {
            Some(u) => get_json(u, Some(&tokens.access_token), "userinfo").await,
            None => Ok(tokens.raw.clone()),
        },
    }
}

/// Redeems the upstream's code and maps what it says about the user: the token exchange,
/// the claims (ID token and userinfo), the claim mapping, and the emails endpoint if the
/// connector has one.
pub async fn redeem(
    st: &AppState,
    t: &TenantId,
    c: &Connector,
    code: &str,
    verifier: &str,
    nonce: &str,
) -> Result<(UpstreamIdentity, TokenAnswer), Upstream> {
    let ep = endpoints(c).await?;
    let tokens = exchange_code(st, t, c, &ep.token, code, verifier).await?;
    let claims = upstream_claims(st, c, &ep, &tokens, nonce).await?;
    let mut identity =
        fed::map_claims(&c.mapping, &claims).map_err(|e| upstream("mapping", e.to_string()))?;
    if let Some(u) = &c.emails_endpoint {
        let list = get_json(u, Some(&tokens.access_token), "emails").await?;
        if let Some((email, verified)) = fed::pick_email(&list) {
            identity.email = Some(email);
            identity.email_verified = verified;
        }
    }
    Ok((identity, tokens))
}
