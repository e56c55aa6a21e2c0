//! The calls out: where a connector's endpoints are (discovery for OIDC), the URL the
//! browser is sent to, and redeeming the upstream's code (the token exchange, the ID
//! token checked against the upstream JWKS, userinfo, the claim mapping). The HTTP itself
//! goes through [`UpstreamHttp`], which the binary supplies.

use super::Federation;
use serde_json::Value;

use super::connectors::check_upstream_url;
use super::types::{FederationStart, UpstreamFailure, UpstreamIdentity, UpstreamTokens};
use super::upstream::{
    IdTokenError, IdTokenExpectations, map_claims, pick_email, validate_id_token,
};
use crate::ids::TenantId;
use crate::model::federation::{Connector, Protocol, TokenAuth};
use crate::runtime::outbound::{NoUpstream, UpstreamHttp};

fn failure(reason: &'static str, detail: impl Into<String>) -> UpstreamFailure {
    UpstreamFailure {
        reason,
        detail: detail.into(),
    }
}

/// Where a connector's endpoints are.
struct Endpoints {
    authorization: String,
    token: String,
    userinfo: Option<String>,
    jwks: Option<String>,
    issuer: Option<String>,
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

impl Federation<'_> {
    fn upstream_http(&self) -> &dyn UpstreamHttp {
        match self.rt().upstream_http.get() {
            Some(h) => h.as_ref(),
            None => &NoUpstream,
        }
    }

    async fn get_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        what: &'static str,
    ) -> Result<Value, UpstreamFailure> {
        self.upstream_http()
            .get_json(url, bearer)
            .await
            .map_err(|d| failure(what, d))
    }

    /// A discovery document or JWKS, reused for five minutes (`fresh` refetches: the
    /// upstream may have a new key).
    async fn upstream_doc(
        &self,
        url: &str,
        fresh: bool,
        what: &'static str,
    ) -> Result<Value, UpstreamFailure> {
        if !fresh && let Some(v) = self.rt().upstream_docs.get(url) {
            return Ok(v);
        }
        let v = self.get_json(url, None, what).await?;
        self.rt().upstream_docs.insert(url.to_owned(), v.clone());
        Ok(v)
    }

    async fn endpoints(&self, c: &Connector) -> Result<Endpoints, UpstreamFailure> {
        let checked = |what: &'static str, u: String| -> Result<String, UpstreamFailure> {
            check_upstream_url(what, &u).map_err(|e| failure("discovery", e.to_string()))?;
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
                let doc = self
                    .upstream_doc(
                        &format!("{issuer}/.well-known/openid-configuration"),
                        false,
                        "discovery",
                    )
                    .await?;
                let doc_issuer = doc["issuer"].as_str().unwrap_or("").trim_end_matches('/');
                // OIDC Discovery §4.3: the document's issuer is the one configured
                // (Microsoft's multi-tenant document names a template, matched per token).
                if doc_issuer != issuer && !doc_issuer.contains("{tenantid}") {
                    return Err(failure(
                        "discovery",
                        "the discovery document names another issuer",
                    ));
                }
                let field = |k: &str| doc[k].as_str().map(str::to_owned);
                let need = |given: &Option<String>, k: &'static str| {
                    given
                        .clone()
                        .or_else(|| field(k))
                        .ok_or_else(|| failure("discovery", format!("no {k}")))
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

    /// The upstream authorization URL a started sign-in sends the browser to: code +
    /// PKCE, with the nonce for OIDC.
    pub async fn federation_redirect(
        &self,
        tenant: &TenantId,
        started: &FederationStart,
    ) -> Result<String, UpstreamFailure> {
        let c = &started.connector;
        let ep = self.endpoints(c).await?;
        let mut url = url::Url::parse(&ep.authorization)
            .map_err(|_| failure("discovery", "the authorization endpoint is not a URL"))?;
        {
            let mut qp = url.query_pairs_mut();
            qp.append_pair("response_type", "code")
                .append_pair("client_id", &c.client_id)
                .append_pair("redirect_uri", &self.federation_redirect_uri(tenant, &c.id))
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
        Ok(url.into())
    }

    async fn exchange_code(
        &self,
        tenant: &TenantId,
        c: &Connector,
        token_endpoint: &str,
        code: &str,
        verifier: &str,
    ) -> Result<TokenAnswer, UpstreamFailure> {
        let secret = self
            .connector_client_secret(c)
            .map_err(|e| failure("client_secret", e.to_string()))?;
        let redirect_uri = self.federation_redirect_uri(tenant, &c.id);
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", verifier),
        ];
        // RFC 6749 §2.3.1: both parts form-urlencoded before Basic.
        let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let basic = match (c.token_auth, secret.as_deref()) {
            (TokenAuth::ClientSecretBasic, Some(s)) => Some((enc(&c.client_id), enc(s))),
            (_, s) => {
                form.push(("client_id", &c.client_id));
                if let Some(s) = s {
                    form.push(("client_secret", s));
                }
                None
            }
        };
        let v = self
            .upstream_http()
            .post_form(
                token_endpoint,
                basic.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
                &form,
            )
            .await
            .map_err(|d| failure("token", d))?;
        let Some(access_token) = v["access_token"].as_str().map(str::to_owned) else {
            // GitHub answers errors with 200 and an `error` field.
            let err = v["error"].as_str().unwrap_or("no access_token");
            return Err(failure("token", format!("token endpoint: {err}")));
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

    /// The upstream's claims about the user: the ID token's (checked) merged with
    /// userinfo (OIDC), or the userinfo document (OAuth 2.0).
    async fn upstream_claims(
        &self,
        c: &Connector,
        ep: &Endpoints,
        tokens: &TokenAnswer,
        nonce: &str,
    ) -> Result<Value, UpstreamFailure> {
        match c.protocol {
            Protocol::Oidc => {
                let id_token = tokens
                    .id_token
                    .as_deref()
                    .ok_or_else(|| failure("id_token_missing", "no id_token"))?;
                let jwks_uri = ep.jwks.as_deref().unwrap_or_default();
                let expect = IdTokenExpectations {
                    issuer: ep.issuer.as_deref().unwrap_or_default(),
                    client_id: &c.client_id,
                    nonce,
                    now: self.now(),
                };
                let jwks = self.upstream_doc(jwks_uri, false, "jwks").await?;
                let checked = match validate_id_token(id_token, &jwks, &expect) {
                    // The upstream may have rotated its keys since we cached them.
                    Err(IdTokenError::UnknownKey) => {
                        let jwks = self.upstream_doc(jwks_uri, true, "jwks").await?;
                        validate_id_token(id_token, &jwks, &expect)
                    }
                    other => other,
                };
                let mut claims = checked.map_err(|e| failure(e.as_str(), "id token refused"))?;
                if let Some(u) = &ep.userinfo {
                    match self
                        .get_json(u, Some(&tokens.access_token), "userinfo")
                        .await
                    {
                        // OIDC Core §5.3.2: userinfo about another subject is ignored.
                        Ok(Value::Object(info)) if info.get("sub") == claims.get("sub") => {
                            for (k, v) in info {
                                if claims.get(&k).is_none() {
                                    claims[k] = v;
                                }
                            }
                        }
                        Ok(_) => {
                            tracing::warn!(provider = %c.id, "userinfo ignored: another subject")
                        }
                        Err(e) => {
                            tracing::warn!(provider = %c.id, detail = %e.detail, "userinfo failed")
                        }
                    }
                }
                Ok(claims)
            }
            Protocol::Oauth2 => match &ep.userinfo {
                Some(u) => {
                    self.get_json(u, Some(&tokens.access_token), "userinfo")
                        .await
                }
                None => Ok(tokens.raw.clone()),
            },
        }
    }

    /// Redeems the upstream's code and maps what it says about the user: the token
    /// exchange, the claims (ID token and userinfo), the claim mapping, and the emails
    /// endpoint if the connector has one.
    pub async fn redeem_upstream(
        &self,
        tenant: &TenantId,
        c: &Connector,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<(UpstreamIdentity, UpstreamTokens), UpstreamFailure> {
        let ep = self.endpoints(c).await?;
        let tokens = self
            .exchange_code(tenant, c, &ep.token, code, verifier)
            .await?;
        let claims = self.upstream_claims(c, &ep, &tokens, nonce).await?;
        let mut identity =
            map_claims(&c.mapping, &claims).map_err(|e| failure("mapping", e.to_string()))?;
        if let Some(u) = &c.emails_endpoint {
            let list = self
                .get_json(u, Some(&tokens.access_token), "emails")
                .await?;
            if let Some((email, verified)) = pick_email(&list) {
                identity.email = Some(email);
                identity.email_verified = verified;
            }
        }
        let now = self.now();
        let kept = UpstreamTokens {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            // The upstream says how long: any number, so no overflow.
            expires_at: tokens.expires_in.map(|s| now.saturating_add(s)),
            scope: tokens.scope,
        };
        Ok((identity, kept))
    }
}
