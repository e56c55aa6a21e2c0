//! Federation over HTTP: the round trip to an upstream identity provider, the link
//! confirmation and unlink forms, the sign-in buttons and account section, and the admin
//! API for connectors. The engine decides (state, nonce, ID-token checks, linking); this
//! module makes the outgoing calls, bounded by timeouts and never following redirects.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tollgate_engine::EngineError;
use tollgate_engine::federation::{
    self as fed, Connector, ConnectorInput, FederatedOutcome, IdTokenError, IdTokenExpectations,
    Protocol, TokenAuth, UpstreamTokens,
};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::User;

use crate::error::ApiError;
use crate::hosted::{SubmittedForm, TxQuery, current_session, form_page, open_tx, tenant};
use crate::http;
use crate::oidc::{see_other, tenant_id};
use crate::pages::{self, PageError, esc, hidden};
use crate::server::AppState;

type PageResult = Result<HttpResponse, PageError>;

/// Cookie binding a pending federated sign-in to the browser that started it.
const BINDING_COOKIE: &str = "tg_fed";
/// Largest upstream answer read (discovery, JWKS, token, userinfo).
const MAX_UPSTREAM_BYTES: usize = 256 * 1024;
/// How long discovery documents and JWKS are reused.
const DOC_TTL: Duration = Duration::from_secs(300);

const FAILED: &str = "We could not sign you in with that provider. Please try again, or choose another way to sign in.";
const UNREACHABLE: &str = "That sign-in provider cannot be reached right now. Please try again later, or choose another way to sign in.";
const BAD_LINK_PASSWORD: &str = "That password is not correct.";

/// Registers the tenant-scoped routes (inside `/{tenant}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/federation/{connector}/start", web::get().to(start))
        .route("/federation/{connector}/callback", web::get().to(callback))
        // Apple answers with response_mode=form_post.
        .route("/federation/{connector}/callback", web::post().to(callback))
        .route("/federation/link", web::post().to(link_submit))
        .route("/account/identities/unlink", web::post().to(unlink));
}

/// Registers the admin routes (inside `/admin/v1`).
pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/tenants/{tenant}/connectors", web::get().to(admin_list))
        .route(
            "/tenants/{tenant}/connectors/{connector}",
            web::get().to(admin_get),
        )
        .route(
            "/tenants/{tenant}/connectors/{connector}",
            web::put().to(admin_put),
        )
        .route(
            "/tenants/{tenant}/connectors/{connector}",
            web::delete().to(admin_delete),
        );
}

// ---- Outgoing HTTP ------------------------------------------------------------------------

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
struct Upstream {
    reason: &'static str,
    detail: String,
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
struct Endpoints {
    authorization: String,
    token: String,
    userinfo: Option<String>,
    jwks: Option<String>,
    issuer: Option<String>,
}

async fn endpoints(c: &Connector) -> Result<Endpoints, Upstream> {
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

// ---- Pages and cookies --------------------------------------------------------------------

fn binding_cookie(st: &AppState, t: &TenantId, value: String, c: &Connector) -> Cookie<'static> {
    // A form_post callback is a cross-site POST: only SameSite=None (which needs Secure)
    // brings the cookie along.
    let same_site = match (st.secure_cookies, c.response_mode.as_deref()) {
        (true, Some("form_post")) => SameSite::None,
        _ => SameSite::Lax,
    };
    Cookie::build(BINDING_COOKIE, value)
        .path(format!("/{t}/federation"))
        .http_only(true)
        .secure(st.secure_cookies)
        .same_site(same_site)
        .max_age(actix_web::cookie::time::Duration::seconds(
            fed::PENDING_TTL as i64,
        ))
        .finish()
}

fn binding_removal(st: &AppState, t: &TenantId) -> Cookie<'static> {
    let mut c = Cookie::build(BINDING_COOKIE, "")
        .path(format!("/{t}/federation"))
        .http_only(true)
        .secure(st.secure_cookies)
        .finish();
    c.make_removal();
    c
}

fn login_url(t: &TenantId, tx: Option<&str>) -> String {
    match tx {
        Some(tx) => format!("/{t}/login?tx={tx}"),
        None => format!("/{t}/login"),
    }
}

fn failure_page(t: &TenantId, status: StatusCode, msg: &str, tx: Option<&str>) -> HttpResponse {
    pages::page(
        status,
        "Sign-in failed",
        &format!(
            "<h1>Sign-in failed</h1><p class=\"error\" role=\"alert\">{}</p>\
<p><a href=\"{}\">Back to sign-in</a></p>",
            esc(msg),
            esc(&login_url(t, tx))
        ),
    )
}

/// The "continue with …" buttons for the tenant's enabled connectors (empty if none).
pub(crate) async fn login_buttons(st: &AppState, t: &TenantId, tx: Option<&str>) -> String {
    let Ok(connectors) = st.engine.connectors(t).await else {
        return String::new();
    };
    let buttons: String = connectors
        .iter()
        .filter(|c| c.enabled)
        .map(|c| {
            format!(
                "<form method=\"get\" action=\"/{t}/federation/{id}/start\">{tx}\
<button class=\"secondary\" type=\"submit\">Continue with {name}</button></form>",
                id = esc(&c.id),
                tx = tx.map(|v| hidden("tx", v)).unwrap_or_default(),
                name = esc(&c.display_name),
            )
        })
        .collect();
    if buttons.is_empty() {
        return buttons;
    }
    format!("<div class=\"federation\"><p class=\"muted\">Or sign in with</p>{buttons}</div>")
}

#[allow(clippy::too_many_arguments)]
fn link_page(
    st: &AppState,
    req: &HttpRequest,
    t: &TenantId,
    status: StatusCode,
    provider: &str,
    handle: &str,
    tx: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    form_page(st, req, t, status, "Link your account", |csrf| {
        format!(
            "<h1>You already have an account</h1>{err}\
<p>An account with the email address {provider} gave us already exists here. \
To sign in with {provider} from now on, confirm it is yours with its password or one of its passkeys.</p>\
<form method=\"post\" action=\"/{t}/federation/link\">{handle}{csrf}\
<label for=\"password\">Password</label>\
<input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" required autofocus>\
<button type=\"submit\">Link and sign in</button></form>{passkey}\
<p class=\"muted\"><a href=\"{back}\">Cancel</a></p>",
            err = pages::error_block(error),
            passkey = if st.engine.passkeys_available() {
                crate::passkeys::link_block(t.as_str(), csrf, handle, tx)
            } else {
                String::new()
            },
            provider = esc(provider),
            handle = hidden("handle", handle),
            csrf = hidden("csrf", csrf),
            back = esc(&login_url(t, tx)),
        )
    })
}

// ---- The round trip -----------------------------------------------------------------------

/// `GET /{tenant}/federation/{connector}/start`: sends the browser to the upstream.
pub async fn start(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<TxQuery>,
    st: web::Data<AppState>,
) -> PageResult {
    let (raw_t, connector) = path.into_inner();
    let (t, _) = tenant(&st, &raw_t).await?;
    let areq = open_tx(&st, &t, q.tx.as_ref())?;
    let tx = areq.as_ref().and(q.tx.clone());
    let binding = tollgate_engine::crypto::random_token::<32>();
    let started = match st
        .engine
        .begin_federation(&t, &connector, tx.clone(), &binding, &http::meta(&req))
        .await
    {
        Ok(s) => s,
        // An unknown or disabled connector (a stale idp_hint): the ordinary sign-in page.
        Err(EngineError::NotFound(_)) => return Ok(see_other(&login_url(&t, tx.as_deref()))),
        Err(e) => return Err(e.into()),
    };
    let c = &started.connector;
    let ep = match endpoints(c).await {
        Ok(ep) => ep,
        Err(e) => {
            tracing::warn!(provider = %c.id, reason = e.reason, detail = %e.detail, "upstream unavailable");
            st.engine
                .federation_failed(&t, &c.id, e.reason, &http::meta(&req));
            return Ok(failure_page(
                &t,
                StatusCode::BAD_GATEWAY,
                UNREACHABLE,
                tx.as_deref(),
            ));
        }
    };
    let mut url =
        url::Url::parse(&ep.authorization).map_err(|_| PageError::bad_request(UNREACHABLE))?;
    {
        let mut qp = url.query_pairs_mut();
        qp.append_pair("response_type", "code")
            .append_pair("client_id", &c.client_id)
            .append_pair(
                "redirect_uri",
                &st.engine.federation_redirect_uri(&t, &c.id),
            )
            .append_pair("state", &started.state)
            .append_pair("code_challenge", &started.code_challenge)
            .append_pair("code_challenge_method", "S256");
        if !c.scopes.is_empty() {
            qp.append_pair("scope", &c.scopes.join(" "));
        }
        if c.protocol == Protocol::Oidc {
            qp.append_pair("nonce", &started.nonce);
        }
        if let Some(m) = &c.response_mode {
            qp.append_pair("response_mode", m);
        }
    }
    let mut r = see_other(url.as_str());
    let _ = r.add_cookie(&binding_cookie(&st, &t, binding, c));
    Ok(r)
}

/// What the upstream's token endpoint answered.
struct TokenAnswer {
    access_token: String,
    id_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    scope: Option<String>,
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

/// `GET|POST /{tenant}/federation/{connector}/callback`: the upstream's answer.
pub async fn callback(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    st: web::Data<AppState>,
) -> PageResult {
    let (raw_t, connector) = path.into_inner();
    let (t, _) = tenant(&st, &raw_t).await?;
    let meta = http::meta(&req);
    let raw: &[u8] = if req.method() == actix_web::http::Method::POST {
        &body
    } else {
        req.query_string().as_bytes()
    };
    if raw.len() > http::MAX_FORM_BYTES {
        return Err(PageError::bad_request(
            "The answer from the provider is too large.",
        ));
    }
    let params = http::parse_unique(raw)?;
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let binding = req.cookie(BINDING_COOKIE).map(|c| c.value().to_owned());
    // Single use, bound to this browser, for this connector: whatever else the answer
    // says, the pending sign-in is gone after this.
    let pending = match st
        .engine
        .take_federation(
            &t,
            &connector,
            get("state").unwrap_or(""),
            binding.as_deref(),
        )
        .await
    {
        Ok(p) => p,
        Err(EngineError::Invalid(msg)) => {
            st.engine.federation_failed(&t, &connector, "state", &meta);
            return Ok(failure_page(&t, StatusCode::BAD_REQUEST, &msg, None));
        }
        Err(e) => return Err(e.into()),
    };
    let c = pending.connector;
    let tx = pending.tx.as_deref();
    let fail = |reason: &str, status: StatusCode, msg: &str| {
        st.engine.federation_failed(&t, &c.id, reason, &meta);
        let mut r = failure_page(&t, status, msg, tx);
        let _ = r.add_cookie(&binding_removal(&st, &t));
        r
    };
    if let Some(err) = get("error") {
        // Only a code-shaped value reaches the audit trail.
        let code: String = err
            .chars()
            .filter(|c| c.is_ascii_lowercase() || *c == '_')
            .take(40)
            .collect();
        return Ok(fail(
            &format!("upstream_{code}"),
            StatusCode::BAD_REQUEST,
            "Sign-in with that provider was cancelled or refused.",
        ));
    }
    let Some(code) = get("code") else {
        return Ok(fail("no_code", StatusCode::BAD_REQUEST, FAILED));
    };
    let areq = match tx {
        Some(tx) => match st.engine.open_request(&t, tx) {
            Some(a) => Some(a),
            None => {
                return Ok(fail(
                    "expired",
                    StatusCode::BAD_REQUEST,
                    "This sign-in took too long. Go back to the application and try again.",
                ));
            }
        },
        None => None,
    };
    let result = async {
        let ep = endpoints(&c).await?;
        let tokens = exchange_code(&st, &t, &c, &ep.token, code, &pending.code_verifier).await?;
        let claims = upstream_claims(&st, &c, &ep, &tokens, &pending.nonce).await?;
        let mut identity =
            fed::map_claims(&c.mapping, &claims).map_err(|e| upstream("mapping", e.to_string()))?;
        if let Some(u) = &c.emails_endpoint {
            let list = get_json(u, Some(&tokens.access_token), "emails").await?;
            if let Some((email, verified)) = fed::pick_email(&list) {
                identity.email = Some(email);
                identity.email_verified = verified;
            }
        }
        Ok::<_, Upstream>((identity, tokens))
    }
    .await;
    let (identity, tokens) = match result {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(provider = %c.id, reason = e.reason, detail = %e.detail, "federated sign-in refused");
            let status = if e.reason.starts_with("id_token") || e.reason == "mapping" {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::BAD_GATEWAY
            };
            return Ok(fail(e.reason, status, FAILED));
        }
    };
    let now = st.engine.now();
    let kept = UpstreamTokens {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_at: tokens.expires_in.map(|s| now + s),
        scope: tokens.scope,
    };
    let want_two = areq.as_ref().is_some_and(|a| a.wants_two_factors());
    let outcome = st
        .engine
        .federated_sign_in(
            &t,
            fed::FederatedSignIn {
                connector: &c,
                identity,
                tokens: Some(kept),
                tx: pending.tx.clone(),
                want_two,
            },
            &meta,
        )
        .await?;
    let mut r = match outcome {
        FederatedOutcome::Step(step) => {
            crate::mfa::after_first_factor(&st, &req, &t, step, areq).await?
        }
        FederatedOutcome::ConfirmLink { handle } => link_page(
            &st,
            &req,
            &t,
            StatusCode::OK,
            &c.display_name,
            &handle,
            tx,
            None,
        ),
    };
    let _ = r.add_cookie(&binding_removal(&st, &t));
    Ok(r)
}

/// `POST /{tenant}/federation/link`: the existing account's password, to link it.
pub async fn link_submit(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let handle = f.get("handle").to_owned();
    let Some((provider, tx)) = st.engine.pending_link(&f.t, &handle).await? else {
        return Ok(failure_page(
            &f.t,
            StatusCode::BAD_REQUEST,
            "This step expired or was used up. Start again from the sign-in page.",
            None,
        ));
    };
    let name = st
        .engine
        .connector(&f.t, &provider)
        .await?
        .map_or(provider.clone(), |c| c.display_name);
    if !f.csrf_ok {
        return Ok(link_page(
            &st,
            &req,
            &f.t,
            StatusCode::FORBIDDEN,
            &name,
            &handle,
            tx.as_deref(),
            Some("This form expired. Please try again."),
        ));
    }
    let areq = match &tx {
        Some(tx) => Some(st.engine.open_request(&f.t, tx).ok_or_else(|| {
            PageError::bad_request(
                "This sign-in took too long. Go back to the application and try again.",
            )
        })?),
        None => None,
    };
    let want_two = areq.as_ref().is_some_and(|a| a.wants_two_factors());
    match st
        .engine
        .confirm_link(
            &f.t,
            &handle,
            f.get("password"),
            want_two,
            &http::meta(&req),
        )
        .await
    {
        Ok(step) => crate::mfa::after_first_factor(&st, &req, &f.t, step, areq).await,
        Err(EngineError::InvalidCredentials) => Ok(link_page(
            &st,
            &req,
            &f.t,
            StatusCode::UNAUTHORIZED,
            &name,
            &handle,
            tx.as_deref(),
            Some(BAD_LINK_PASSWORD),
        )),
        Err(EngineError::Invalid(msg)) => {
            Ok(failure_page(&f.t, StatusCode::BAD_REQUEST, &msg, None))
        }
        Err(e) => Err(e.into()),
    }
}

// ---- The account page ---------------------------------------------------------------------

/// The account page's "Sign-in methods" section.
pub(crate) struct AccountIdentities {
    rows: Vec<fed::LinkedIdentity>,
    has_password: bool,
    can_unlink: bool,
}

impl AccountIdentities {
    pub(crate) async fn load(st: &AppState, t: &TenantId, user: &User) -> Result<Self, PageError> {
        Ok(Self {
            rows: st.engine.linked_identities(t, &user.id).await?,
            has_password: user.password_hash.is_some(),
            can_unlink: st.engine.can_unlink(t, user).await?,
        })
    }

    pub(crate) fn render(&self, t: &str, csrf: &str) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let day = |s: u64| {
            time::OffsetDateTime::from_unix_timestamp(s as i64)
                .ok()
                .and_then(|d| {
                    d.format(time::macros::format_description!("[year]-[month]-[day]"))
                        .ok()
                })
                .unwrap_or_default()
        };
        let mut rows = String::new();
        if self.has_password {
            rows.push_str("<li>Password</li>");
        }
        for r in &self.rows {
            let unlink = if self.can_unlink {
                format!(
                    "<form method=\"post\" action=\"/{t}/account/identities/unlink\">{}{}{}\
<button class=\"secondary\" type=\"submit\">Unlink {}</button></form>",
                    hidden("csrf", csrf),
                    hidden("provider", &r.provider),
                    hidden("key", &r.key),
                    esc(&r.display_name),
                )
            } else {
                "<p class=\"muted\">This is your only way to sign in, so it cannot be removed.</p>"
                    .to_owned()
            };
            rows.push_str(&format!(
                "<li><strong>{name}</strong>{email} <span class=\"muted\">linked {linked}, last used {used}</span>{unlink}</li>",
                name = esc(&r.display_name),
                email = r
                    .email
                    .as_deref()
                    .map(|e| format!(" ({})", esc(e)))
                    .unwrap_or_default(),
                linked = day(r.created_at),
                used = day(r.last_login_at),
            ));
        }
        format!("<h2>Sign-in methods</h2><ul class=\"identities\">{rows}</ul>")
    }
}

/// `POST /{tenant}/account/identities/unlink`: removes one of the user's linked identities.
pub async fn unlink(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    st: web::Data<AppState>,
) -> PageResult {
    let f = SubmittedForm::read(&req, &path, payload, &st).await?;
    let Some(session) = current_session(&st, &req, &f.t).await? else {
        return Ok(see_other(&format!("/{}/login", f.t)));
    };
    if !f.csrf_ok {
        return Err(PageError::Message(
            StatusCode::FORBIDDEN,
            "This form expired. Please try again.".into(),
        ));
    }
    match st
        .engine
        .unlink_identity(
            &f.t,
            &session.user_id,
            f.get("provider"),
            f.get("key"),
            &http::meta(&req),
        )
        .await
    {
        Ok(()) => Ok(see_other(&format!("/{}/account", f.t))),
        Err(EngineError::Invalid(msg)) => Err(PageError::bad_request(msg)),
        Err(EngineError::NotFound(_)) => Err(PageError::bad_request(
            "That sign-in method is not linked to your account.",
        )),
        Err(e) => Err(e.into()),
    }
}

// ---- Admin API ----------------------------------------------------------------------------

/// `GET /admin/v1/tenants/{tenant}/connectors`
pub async fn admin_list(
    req: HttpRequest,
    path: web::Path<String>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    crate::admin::authorize(&req, &st)?;
    let t = tenant_id(&path)?;
    let all = st.engine.connectors(&t).await?;
    let out: Vec<Value> = all
        .iter()
        .map(|c| c.public_view(&st.engine.federation_redirect_uri(&t, &c.id)))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /admin/v1/tenants/{tenant}/connectors/{connector}`
pub async fn admin_get(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    crate::admin::authorize(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.tenant(&t).await?;
    let c = st
        .engine
        .connector(&t, &id)
        .await?
        .ok_or(EngineError::NotFound("connector"))?;
    Ok(HttpResponse::Ok().json(c.public_view(&st.engine.federation_redirect_uri(&t, &c.id))))
}

/// `PUT /admin/v1/tenants/{tenant}/connectors/{connector}`: creates or replaces it.
pub async fn admin_put(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    crate::admin::authorize(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    let input: ConnectorInput = serde_json::from_value(body.into_inner())
        .map_err(|e| ApiError::invalid_request(format!("connector: {e}")))?;
    let c = st.engine.put_connector(&t, &id, input).await?;
    Ok(HttpResponse::Ok().json(c.public_view(&st.engine.federation_redirect_uri(&t, &c.id))))
}

/// `DELETE /admin/v1/tenants/{tenant}/connectors/{connector}`
pub async fn admin_delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    st: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    crate::admin::authorize(&req, &st)?;
    let (t, id) = path.into_inner();
    let t = tenant_id(&t)?;
    st.engine.delete_connector(&t, &id).await?;
    Ok(HttpResponse::Ok().json(json!({"deleted": id})))
}
