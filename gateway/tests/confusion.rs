//! The confusion suite: one party's tokens, codes, cookies and ids presented where they
//! belong to someone else, over HTTP, each case with its exact answer and, after it, a
//! check that the victim's tokens, sessions, factor and link are all still there.
//!
//! The cast: tenants `alpha` and `beta`; in `alpha`, confidential clients 1 and 2, a
//! public client, user 1 (the victim: tokens from client 1, a session in this browser
//! and in two others, an authenticator app, an identity linked from an upstream
//! provider) and user 2 (the attacker, signed in); in `beta`, a client and a signed-in
//! user.

mod common;

use common::*;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION};
use serde_json::{Value, json};

/// What an attack got back.
#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Answer {
    async fn of(r: reqwest::Response) -> Self {
        Self {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: r.text().await.unwrap(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// The exact answer a case must get.
#[derive(Debug)]
enum Want {
    /// An RFC 6749 §5.2 error: status and `error`.
    Error(u16, &'static str),
    /// An `invalid_grant` whose description says this.
    InvalidGrant(&'static str),
    /// This JSON body, exactly, with 200.
    Json(&'static str),
    /// 200 with an empty body (RFC 7009: revocation reveals nothing).
    Empty,
    /// A redirect to the client with this `error`.
    ErrorRedirect(&'static str),
    /// A redirect to this path.
    SeeOther(&'static str),
    /// A page with this status saying this.
    Page(u16, &'static str),
}

impl Want {
    fn check(&self, name: &str, a: &Answer) {
        let fail = || format!("{name}: got {a:?}");
        match self {
            Want::Error(status, error) => {
                assert_eq!(
                    (a.status, a.json()["error"].as_str()),
                    (*status, Some(*error)),
                    "{}",
                    fail()
                );
            }
            Want::InvalidGrant(says) => {
                let v = a.json();
                assert_eq!(
                    (a.status, v["error"].as_str()),
                    (400, Some("invalid_grant")),
                    "{}",
                    fail()
                );
                let d = v["error_description"].as_str().unwrap_or_default();
                assert!(d.contains(says), "{}", fail());
            }
            Want::Json(body) => {
                let want: Value = serde_json::from_str(body).unwrap();
                assert_eq!((a.status, a.json()), (200, want), "{}", fail());
            }
            Want::Empty => assert_eq!((a.status, a.body.as_str()), (200, ""), "{}", fail()),
            Want::ErrorRedirect(error) => {
                assert_eq!(a.status, 303, "{}", fail());
                let to = a.location.as_deref().unwrap_or_default();
                assert!(to.starts_with("http://127.0.0.1:9/cb?"), "{}", fail());
                assert_eq!(
                    query_param(to, "error").as_deref(),
                    Some(*error),
                    "{}",
                    fail()
                );
                assert!(query_param(to, "code").is_none(), "{}", fail());
            }
            Want::SeeOther(path) => {
                assert_eq!(
                    (a.status, a.location.as_deref()),
                    (303, Some(*path)),
                    "{}",
                    fail()
                );
            }
            Want::Page(status, says) => {
                assert_eq!(
                    (a.status, a.location.as_deref()),
                    (*status, None),
                    "{}",
                    fail()
                );
                assert!(a.body.contains(says), "{}", fail());
            }
        }
    }
}

/// Who does what, with whose thing.
#[derive(Debug, Clone, Copy)]
enum Attack {
    /// User 1's access token at beta's userinfo.
    AccessTokenAtOtherTenantsUserinfo,
    /// User 1's access token introspected at beta by beta's client.
    AccessTokenAtOtherTenantsIntrospection,
    /// User 1's refresh token introspected at beta by beta's client.
    RefreshTokenAtOtherTenantsIntrospection,
    /// User 1's refresh token at beta's token endpoint, with beta's client.
    RefreshTokenAtOtherTenantsTokenEndpoint,
    /// Client 1's own credentials at beta's token endpoint.
    ClientCredentialsAtOtherTenant,
    /// Beta's client revoking user 1's refresh token at beta.
    RevokeAtOtherTenant,
    /// A code for client 1 redeemed at beta by beta's client.
    CodeAtOtherTenant,
    /// A code for client 1 redeemed by client 2.
    CodeByOtherClient,
    /// Client 2 refreshing client 1's refresh token.
    RefreshByOtherClient,
    /// Client 2 revoking client 1's refresh token.
    RevokeRefreshByOtherClient,
    /// Client 2 revoking client 1's access token.
    RevokeAccessByOtherClient,
    /// Client 2 introspecting client 1's access token.
    IntrospectAccessByOtherClient,
    /// Client 2 introspecting client 1's refresh token.
    IntrospectRefreshByOtherClient,
    /// The public client introspecting client 1's access token.
    IntrospectByPublicClient,
    /// User 1's session cookie at beta's authorize, `prompt=none`.
    SessionCookieAtOtherTenantsAuthorize,
    /// User 1's session cookie at beta's account page.
    SessionCookieAtOtherTenantsAccount,
    /// User 1's ID token as `id_token_hint` at beta's logout, from a browser signed in
    /// at beta.
    IdTokenHintAtOtherTenantsLogout,
    /// User 2 ending one of user 1's sessions by its `sid`.
    EndOtherUsersSession,
    /// User 2 removing user 1's authenticator app by its id.
    RemoveOtherUsersFactor,
    /// User 2 unlinking user 1's upstream identity.
    UnlinkOtherUsersIdentity,
}

/// The table: every attack and its exact answer.
fn cases() -> Vec<(Attack, Want)> {
    use Attack as A;
    use Want as W;
    const INACTIVE: &str = r#"{"active":false}"#;
    vec![
        (
            A::AccessTokenAtOtherTenantsUserinfo,
            W::Error(401, "invalid_token"),
        ),
        (A::AccessTokenAtOtherTenantsIntrospection, W::Json(INACTIVE)),
        (
            A::RefreshTokenAtOtherTenantsIntrospection,
            W::Json(INACTIVE),
        ),
        (
            A::RefreshTokenAtOtherTenantsTokenEndpoint,
            W::InvalidGrant("unknown refresh token"),
        ),
        (
            A::ClientCredentialsAtOtherTenant,
            W::Error(401, "invalid_client"),
        ),
        (A::RevokeAtOtherTenant, W::Empty),
        (
            A::CodeAtOtherTenant,
            W::InvalidGrant("invalid, expired or already used"),
        ),
        (
            A::CodeByOtherClient,
            W::InvalidGrant("issued to another client"),
        ),
        (
            A::RefreshByOtherClient,
            W::InvalidGrant("refresh token was issued to another client"),
        ),
        (A::RevokeRefreshByOtherClient, W::Empty),
        (A::RevokeAccessByOtherClient, W::Empty),
        (A::IntrospectAccessByOtherClient, W::Json(INACTIVE)),
        (A::IntrospectRefreshByOtherClient, W::Json(INACTIVE)),
        (A::IntrospectByPublicClient, W::Error(401, "invalid_client")),
        (
            A::SessionCookieAtOtherTenantsAuthorize,
            W::ErrorRedirect("login_required"),
        ),
        (
            A::SessionCookieAtOtherTenantsAccount,
            W::SeeOther("/beta/login"),
        ),
        (
            A::IdTokenHintAtOtherTenantsLogout,
            W::Page(400, "id_token_hint is not an ID token issued here"),
        ),
        (A::EndOtherUsersSession, W::SeeOther("/alpha/account")),
        (A::RemoveOtherUsersFactor, W::SeeOther("/alpha/account")),
        (
            A::UnlinkOtherUsersIdentity,
            W::Page(400, "That sign-in method is not linked to your account."),
        ),
    ]
}

/// What user 1's account page lists: session ids (other browsers), factor ids and
/// linked identities' keys.
#[derive(Debug, PartialEq)]
struct Listed {
    sids: Vec<String>,
    factors: Vec<String>,
    links: Vec<(String, String)>,
}

/// Every value of a hidden input named `name`.
fn all_hidden(html: &str, name: &str) -> Vec<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.match_indices(&marker)
        .map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

struct Fixture {
    srv: TestServer,
    /// The upstream provider user 1's identity comes from (kept running).
    _up: upstream::Upstream,
    /// Client 1 of alpha (user 1's email).
    c1: TestTenant,
    /// Client 2 of alpha.
    c2: TestTenant,
    /// A public client of alpha.
    public: TestTenant,
    /// Beta's client.
    beta: TestTenant,
    /// User 1's browser (also client 1's sign-ins).
    victim: Browser,
    /// The value of another of user 1's session cookies, at alpha.
    victim_cookie: String,
    /// User 1's tokens from client 1.
    access: String,
    refresh: String,
    id_token: String,
    /// What user 1's account page listed at the start.
    listed: Listed,
    /// User 2, signed in at alpha.
    attacker: Browser,
    /// A user of beta, signed in at beta.
    beta_user: Browser,
}

/// Signs in without a cookie store: the session cookie's value.
async fn raw_session(t: &TestTenant) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!("{}/login", t.issuer))
        .send()
        .await
        .unwrap();
    let jar: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let page = r.text().await.unwrap();
    let r = http
        .post(format!("{}/login", t.issuer))
        .header(COOKIE, jar.join("; "))
        .form(&[
            ("email", t.email.as_str()),
            ("password", PASSWORD),
            ("csrf", &hidden(&page, "csrf").unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    r.headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|c| c.to_str().unwrap().strip_prefix("tg_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("a session cookie")
}

/// A client of alpha with the test redirect URI.
async fn client(srv: &TestServer, t: &TestTenant, public: bool) -> TestTenant {
    let c = srv
        .admin(
            &format!("/tenants/{}/clients", t.id),
            json!({
                "name": "Another app",
                "redirect_uris": [t.redirect_uri],
                "first_party": true,
                "public": public,
            }),
        )
        .await;
    TestTenant {
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        ..t.clone()
    }
}

/// Signs user 1 in through an upstream Tollgate whose account has the same verified
/// address: the connector links it by email. Returns the upstream.
async fn link_upstream_identity(srv: &TestServer, c1: &TestTenant) -> upstream::Upstream {
    let up = upstream::start(srv, "alpha", &["idp"], &c1.email).await;
    up.connect(srv, "alpha", "idp", true).await;
    let (_, challenge) = pkce();
    let url = authorize_url(c1, "openid", &challenge, &[("idp_hint", "idp")]);
    match upstream::follow(&srv.browser(), &url, &c1.email).await {
        upstream::Stop::AtClient(back) => assert!(query_param(&back, "code").is_some(), "{back}"),
        stop => panic!("the federated sign-in stopped: {stop:?}"),
    }
    up
}

/// Enrols an authenticator app for the browser's user.
async fn enrol_totp(b: &Browser, t: &TestTenant) {
    let (s, _, page) = b.get(&format!("{}/account/totp", t.issuer)).await;
    assert_eq!(s, 200, "{page}");
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap();
    let code = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate_current()
        .to_string();
    let (s, _, body) = b
        .post_form(
            &format!("{}/account/totp", t.issuer),
            &[
                ("enrol", &hidden(&page, "enrol").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
                ("label", "Phone"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
}

async fn listed(b: &Browser, t: &TestTenant) -> Listed {
    let (s, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 200, "{page}");
    Listed {
        sids: all_hidden(&page, "sid"),
        factors: all_hidden(&page, "id"),
        links: all_hidden(&page, "provider")
            .into_iter()
            .zip(all_hidden(&page, "key"))
            .collect(),
    }
}

async fn fixture() -> Fixture {
    let srv = TestServer::start().await;
    let c1 = srv.tenant("alpha", false, true).await;
    let c2 = client(&srv, &c1, false).await;
    let public = client(&srv, &c1, true).await;
    let beta = srv.tenant("beta", false, true).await;
    let user2 = "second@alpha.example";
    srv.admin(
        "/tenants/alpha/users",
        json!({"email": user2, "password": PASSWORD, "email_verified": true}),
    )
    .await;

    // User 1: a session in a browser whose cookie the test holds, the identity linked
    // from upstream (a session too), then this browser's tokens and an authenticator app.
    let victim_cookie = raw_session(&c1).await;
    let up = link_upstream_identity(&srv, &c1).await;
    let victim = srv.browser();
    let tokens = login_tokens(&victim, &c1, "openid offline_access").await;
    srv.http
        .put(format!("{}/admin/v1/tenants/alpha/mfa", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&json!({"mode": "optional"}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    enrol_totp(&victim, &c1).await;
    let listed = listed(&victim, &c1).await;
    assert_eq!(listed.sids.len(), 2, "{listed:?}");
    // The app and the recovery codes that came with it.
    assert_eq!(listed.factors.len(), 2, "{listed:?}");
    assert_eq!(listed.links.len(), 1, "{listed:?}");

    let attacker = srv.browser();
    let as_user2 = TestTenant {
        email: user2.into(),
        ..c1.clone()
    };
    login_tokens(&attacker, &as_user2, "openid").await;
    let beta_user = srv.browser();
    login_tokens(&beta_user, &beta, "openid").await;

    Fixture {
        srv,
        _up: up,
        c1,
        c2,
        public,
        beta,
        victim,
        victim_cookie,
        access: tokens["access_token"].as_str().unwrap().into(),
        refresh: tokens["refresh_token"].as_str().unwrap().into(),
        id_token: tokens["id_token"].as_str().unwrap().into(),
        listed,
        attacker,
        beta_user,
    }
}

/// A form request to a client-authenticated endpoint (`token`, `revoke`, `introspect`)
/// of `at`'s issuer, authenticated as `as_client` (client_secret_basic).
async fn client_post(
    at: &TestTenant,
    endpoint: &str,
    as_client: &TestTenant,
    form: &[(&str, &str)],
) -> Answer {
    let mut form = form.to_vec();
    let mut r = reqwest::Client::new().post(format!("{}/{endpoint}", at.issuer));
    match &as_client.client_secret {
        Some(secret) => r = r.basic_auth(&as_client.client_id, Some(secret)),
        None => form.push(("client_id", &as_client.client_id)),
    }
    Answer::of(
        r.header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&form).unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A code of user 1 for client 1 (from the browser's session), not redeemed.
async fn fresh_code(fx: &Fixture) -> (String, String) {
    let (verifier, challenge) = pkce();
    let back = silent(&fx.victim, &fx.c1, &challenge, None).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    (code, verifier)
}

/// `prompt=none` at `t`'s authorize, from `b` or with a session cookie sent by hand.
async fn silent(b: &Browser, t: &TestTenant, challenge: &str, cookie: Option<&str>) -> String {
    let url = authorize_url(t, "openid", challenge, &[("prompt", "none")]);
    let mut r = b.http.get(url);
    if let Some(c) = cookie {
        r = r.header(COOKIE, format!("tg_session={c}"));
    }
    let a = Answer::of(r.send().await.unwrap()).await;
    assert_eq!(a.status, 303, "{a:?}");
    a.location.unwrap()
}

fn token_form<'a>(grant: &'a str, key: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("grant_type", grant), (key, value)]
}

/// Runs an attack; for the code cases, also returns the code for its own client to redeem.
async fn run(fx: &Fixture, attack: Attack) -> (Answer, Option<(String, String)>) {
    use Attack as A;
    let (c1, c2, beta) = (&fx.c1, &fx.c2, &fx.beta);
    let answer = match attack {
        A::AccessTokenAtOtherTenantsUserinfo => {
            let r = reqwest::Client::new()
                .get(format!("{}/userinfo", beta.issuer))
                .bearer_auth(&fx.access)
                .send()
                .await
                .unwrap();
            Answer::of(r).await
        }
        A::AccessTokenAtOtherTenantsIntrospection => {
            client_post(beta, "introspect", beta, &[("token", &fx.access)]).await
        }
        A::RefreshTokenAtOtherTenantsIntrospection => {
            client_post(beta, "introspect", beta, &[("token", &fx.refresh)]).await
        }
        A::RefreshTokenAtOtherTenantsTokenEndpoint => {
            let form = token_form("refresh_token", "refresh_token", &fx.refresh);
            client_post(beta, "token", beta, &form).await
        }
        A::ClientCredentialsAtOtherTenant => {
            let form = token_form("refresh_token", "refresh_token", &fx.refresh);
            client_post(beta, "token", c1, &form).await
        }
        A::RevokeAtOtherTenant => {
            client_post(beta, "revoke", beta, &[("token", &fx.refresh)]).await
        }
        A::CodeAtOtherTenant | A::CodeByOtherClient => {
            let (code, verifier) = fresh_code(fx).await;
            let (at, by) = match attack {
                A::CodeAtOtherTenant => (beta, beta),
                _ => (c1, c2),
            };
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", by.redirect_uri.as_str()),
                ("code_verifier", verifier.as_str()),
            ];
            let a = client_post(at, "token", by, &form).await;
            return (a, Some((code, verifier)));
        }
        A::RefreshByOtherClient => {
            let form = token_form("refresh_token", "refresh_token", &fx.refresh);
            client_post(c1, "token", c2, &form).await
        }
        A::RevokeRefreshByOtherClient => {
            client_post(c1, "revoke", c2, &[("token", &fx.refresh)]).await
        }
        A::RevokeAccessByOtherClient => {
            client_post(c1, "revoke", c2, &[("token", &fx.access)]).await
        }
        A::IntrospectAccessByOtherClient => {
            client_post(c1, "introspect", c2, &[("token", &fx.access)]).await
        }
        A::IntrospectRefreshByOtherClient => {
            client_post(c1, "introspect", c2, &[("token", &fx.refresh)]).await
        }
        A::IntrospectByPublicClient => {
            client_post(c1, "introspect", &fx.public, &[("token", &fx.access)]).await
        }
        A::SessionCookieAtOtherTenantsAuthorize => {
            // A browser with no cookies of its own: only user 1's, sent to beta.
            let (_, challenge) = pkce();
            let b = fx.srv.browser();
            let to = silent(&b, beta, &challenge, Some(&fx.victim_cookie)).await;
            Answer {
                status: 303,
                location: Some(to),
                body: String::new(),
            }
        }
        A::SessionCookieAtOtherTenantsAccount => {
            let r = fx
                .srv
                .browser()
                .http
                .get(format!("{}/account", beta.issuer))
                .header(COOKIE, format!("tg_session={}", fx.victim_cookie))
                .send()
                .await
                .unwrap();
            Answer::of(r).await
        }
        A::IdTokenHintAtOtherTenantsLogout => {
            let mut u = url::Url::parse(&format!("{}/logout", beta.issuer)).unwrap();
            u.query_pairs_mut()
                .append_pair("id_token_hint", &fx.id_token)
                .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9/bye");
            Answer::of(fx.beta_user.http.get(u).send().await.unwrap()).await
        }
        A::EndOtherUsersSession => {
            attacker_post(fx, "account/sessions/end", &[("sid", &fx.listed.sids[0])]).await
        }
        A::RemoveOtherUsersFactor => {
            attacker_post(
                fx,
                "account/factors/remove",
                &[("id", &fx.listed.factors[0])],
            )
            .await
        }
        A::UnlinkOtherUsersIdentity => {
            let (provider, key) = &fx.listed.links[0];
            attacker_post(
                fx,
                "account/identities/unlink",
                &[("provider", provider), ("key", key)],
            )
            .await
        }
    };
    (answer, None)
}

/// User 2 posts an account form with their own, valid CSRF token.
async fn attacker_post(fx: &Fixture, path: &str, fields: &[(&str, &str)]) -> Answer {
    let csrf = fresh_csrf(&fx.attacker, &format!("{}/account", fx.c1.issuer)).await;
    let mut form = fields.to_vec();
    form.push(("csrf", &csrf));
    let (status, location, body) = fx
        .attacker
        .post_form(&format!("{}/{path}", fx.c1.issuer), &form)
        .await;
    Answer {
        status,
        location: location.map(|l| l.trim_start_matches(&fx.srv.base).to_owned()),
        body,
    }
}

/// Everything of user 1's is as it was: the tokens work for client 1, the sessions and
/// the factor and link are listed, the session whose cookie went to beta is alive at
/// alpha, and beta's user is still signed in at beta.
async fn assert_intact(fx: &Fixture, after: &str) {
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", fx.c1.issuer))
        .bearer_auth(&fx.access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "after {after}: the access token stopped working"
    );
    let v = client_post(&fx.c1, "introspect", &fx.c1, &[("token", &fx.refresh)])
        .await
        .json();
    assert_eq!(
        v["active"],
        json!(true),
        "after {after}: the refresh token: {v}"
    );
    assert_eq!(
        listed(&fx.victim, &fx.c1).await,
        fx.listed,
        "after {after}: user 1's account changed"
    );
    let r = fx
        .srv
        .browser()
        .http
        .get(format!("{}/account", fx.c1.issuer))
        .header(COOKIE, format!("tg_session={}", fx.victim_cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "after {after}: user 1's other session ended"
    );
    assert!(r.text().await.unwrap().contains(&fx.c1.email));
    let (s, _, _) = fx
        .beta_user
        .get(&format!("{}/account", fx.beta.issuer))
        .await;
    assert_eq!(s, 200, "after {after}: beta's user was signed out");
}

#[actix_web::test]
async fn nobody_uses_what_belongs_to_another_tenant_client_or_user() {
    let fx = fixture().await;
    let cases = cases();
    assert_eq!(cases.len(), 20);
    for (attack, want) in &cases {
        let name = format!("{attack:?}");
        let (answer, code) = run(&fx, *attack).await;
        want.check(&name, &answer);
        if let Some((code, verifier)) = code {
            // The refused attempt did not burn the code: its own client redeems it.
            let (s, v) = redeem(&reqwest::Client::new(), &fx.c1, &code, &verifier).await;
            assert_eq!(s, 200, "{name}: the code was burned: {v}");
        }
        assert_intact(&fx, &name).await;
    }
    // The victim's refresh token still rotates for its own client.
    let (s, v) = refresh(&fx.c1, &fx.refresh).await;
    assert_eq!(s, 200, "{v}");
}
