//! Bad input through HTTP: every case gets a clear OAuth error (or an error page where a
//! redirect cannot be trusted), never a 500.

mod common;

use common::{
    Browser, PASSWORD, TestServer, authorize_url, hidden, login_tokens, pkce, query_param, refresh,
    sign_up, token,
};
use serde_json::Value;

fn error_of(url: &str) -> Option<String> {
    query_param(url, "error")
}

#[actix_web::test]
async fn authorization_requests_are_checked_before_anyone_signs_in() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);
    let (_, challenge) = pkce();

    // Missing PKCE, plain PKCE, malformed challenge: error redirects with invalid_request.
    let mut no_pkce = url::Url::parse(&authorize_url(&t, "openid", &challenge, &[])).unwrap();
    let kept: Vec<(String, String)> = no_pkce
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    no_pkce.query_pairs_mut().clear().extend_pairs(kept);
    let (s, loc, _) = b.get(no_pkce.as_str()).await;
    assert_eq!(s, 303);
    let loc = loc.unwrap();
    assert!(loc.starts_with(&t.redirect_uri));
    assert_eq!(error_of(&loc).as_deref(), Some("invalid_request"));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st-123"));

    let plain = authorize_url(&t, "openid", &challenge, &[])
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let (_, loc, _) = b.get(&plain).await;
    assert_eq!(error_of(&loc.unwrap()).as_deref(), Some("invalid_request"));
    let (_, loc, _) = b.get(&authorize_url(&t, "openid", "short", &[])).await;
    assert_eq!(error_of(&loc.unwrap()).as_deref(), Some("invalid_request"));

    // Other response types and unknown scopes.
    let implicit = authorize_url(&t, "openid", &challenge, &[])
        .replace("response_type=code", "response_type=token");
    let (_, loc, _) = b.get(&implicit).await;
    assert_eq!(
        error_of(&loc.unwrap()).as_deref(),
        Some("unsupported_response_type")
    );
    let (_, loc, _) = b
        .get(&authorize_url(&t, "openid admin", &challenge, &[]))
        .await;
    assert_eq!(error_of(&loc.unwrap()).as_deref(), Some("invalid_scope"));
    // A repeated parameter.
    let (_, loc, _) = b
        .get(&authorize_url(
            &t,
            "openid",
            &challenge,
            &[("state", "again")],
        ))
        .await;
    assert_eq!(error_of(&loc.unwrap()).as_deref(), Some("invalid_request"));

    // Unknown client or a redirect URI that is not registered exactly: a page, no redirect.
    let unknown = authorize_url(&t, "openid", &challenge, &[]).replace(&t.client_id, "nobody");
    let (s, loc, body) = b.get(&unknown).await;
    assert_eq!((s, loc), (400, None));
    assert!(body.contains("not known"));
    for bad in [
        "http://127.0.0.1:9/cb/",
        "http://127.0.0.1:9/cb?x=1",
        "http://evil.example/cb",
    ] {
        let u = authorize_url(&t, "openid", &challenge, &[]).replace(
            &url::form_urlencoded::byte_serialize(t.redirect_uri.as_bytes()).collect::<String>(),
            &url::form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>(),
        );
        let (s, loc, _) = b.get(&u).await;
        assert_eq!((s, loc), (400, None), "redirect_uri {bad} was accepted");
    }
    // A client of another tenant is unknown here.
    let other = server.tenant("other", false, false).await;
    let cross = authorize_url(&other, "openid", &challenge, &[]).replace("/other/", "/acme/");
    let (s, loc, body) = b.get(&cross).await;
    assert_eq!((s, loc), (400, None));
    assert!(body.contains("not known"), "{body}");
    // An unknown tenant.
    let (s, loc, body) = b
        .get(&authorize_url(&t, "openid", &challenge, &[]).replace("/acme/", "/nope/"))
        .await;
    assert_eq!((s, loc), (404, None));
    assert!(
        body.contains("This sign-in address does not exist."),
        "{body}"
    );
}

async fn code_for(b: &Browser, t: &common::TestTenant, scope: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(t, scope, &challenge, &[("prompt", "consent")]),
            &t.email,
            PASSWORD,
        )
        .await;
    (query_param(&back, "code").expect("code"), verifier)
}

#[actix_web::test]
async fn codes_are_single_use_and_bound_to_verifier_client_and_redirect() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);

    // Wrong verifier: refused, and the code is gone afterwards.
    let (code, verifier) = code_for(&b, &t, "openid").await;
    let (s, v) = token(
        &t,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &t.redirect_uri),
            ("code_verifier", &pkce().0),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    let (s, v) = common::redeem(&reqwest::Client::new(), &t, &code, &verifier).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code survived a failed redemption: {v}"
    );

    // Reuse: the second redemption fails.
    let (code, verifier) = code_for(&b, &t, "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", t.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    assert_eq!(token(&t, &form).await.0, 200);
    let (s, v) = token(&t, &form).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));

    // Redirect URI mismatch and a missing verifier.
    let (code, verifier) = code_for(&b, &t, "openid").await;
    let (s, v) = token(
        &t,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    let (code, _) = code_for(&b, &t, "openid").await;
    let (s, v) = token(
        &t,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &t.redirect_uri),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")));

    // Bad client secret, unknown client: 401 invalid_client with a challenge.
    let (code, verifier) = code_for(&b, &t, "openid").await;
    let mut bad = t.clone();
    bad.client_secret = Some("wrong".into());
    let (s, v) = token(
        &bad,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &t.redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    bad.client_id = "nobody".into();
    let (s, v) = refresh(&bad, "x").await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    // A confidential client without its secret is not a public client.
    let mut none = t.clone();
    none.client_secret = None;
    let (s, v) = refresh(&none, "x").await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));

    // client_secret_basic works too.
    let (code, verifier) = code_for(&b, &t, "openid").await;
    let r = reqwest::Client::new()
        .post(format!("{}/token", t.issuer))
        .basic_auth(&t.client_id, t.client_secret.as_ref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &t.redirect_uri),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
}

#[actix_web::test]
async fn public_clients_use_pkce_alone() {
    let server = TestServer::start().await;
    let t = server.tenant("spa", true, true).await;
    assert!(t.client_secret.is_none());
    let b = Browser::new(&server.base);
    let tokens = login_tokens(&b, &t, "openid offline_access").await;
    assert!(
        tokens["refresh_token"].is_string(),
        "first-party public client with offline_access"
    );
    let mut with_secret = t.clone();
    with_secret.client_secret = Some("anything".into());
    let (s, v) = token(
        &with_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_client")),
        "a public client presented a secret: {v}"
    );
    let (s, v) = token(
        &t,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

#[actix_web::test]
async fn refresh_reuse_revokes_the_whole_chain() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);
    let first = login_tokens(&b, &t, "openid offline_access").await;
    let rt0 = first["refresh_token"].as_str().unwrap().to_owned();
    let (s, second) = refresh(&t, &rt0).await;
    assert_eq!(s, 200);
    let rt1 = second["refresh_token"].as_str().unwrap().to_owned();
    let at1 = second["access_token"].as_str().unwrap().to_owned();
    let userinfo = |at: String| {
        let url = format!("{}/userinfo", t.issuer);
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(at)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(userinfo(at1.clone()).await, 200);
    // Presenting the old token again is reuse...
    let (s, v) = refresh(&t, &rt0).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    // ...the chain's access tokens stop working at once...
    assert_eq!(
        userinfo(at1).await,
        401,
        "an access token of a revoked chain still works"
    );
    // ...and the newest token of the chain is dead too.
    let (s, v) = refresh(&t, &rt1).await;
    assert_eq!(
        (s, v["error"].as_str(), v["error_description"].as_str()),
        (
            400,
            Some("invalid_grant"),
            Some("refresh token was revoked")
        )
    );
    // The event is in the audit trail.
    let events: Value = reqwest::Client::new()
        .get(format!("{}/admin/v1/tenants/acme/events", server.base))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "refresh.reuse_detected")
    );
    // A forged token naming the chain does not revoke anything: it is just invalid.
    let other = login_tokens(&b, &t, "openid offline_access").await;
    let real = other["refresh_token"].as_str().unwrap();
    let forged = format!("{}.{}", real.split('.').next().unwrap(), "A".repeat(43));
    let (s, v) = refresh(&t, &forged).await;
    assert_eq!(
        (s, v["error"].as_str(), v["error_description"].as_str()),
        (400, Some("invalid_grant"), Some("unknown refresh token"))
    );
    let (s, v) = refresh(&t, real).await;
    assert_eq!(s, 200, "a forged token revoked the chain it named: {v}");
    // Scope may narrow on refresh, never widen.
    let narrow = login_tokens(&b, &t, "openid offline_access").await;
    let (s, v) = token(
        &t,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", narrow["refresh_token"].as_str().unwrap()),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_scope")));
}

#[actix_web::test]
async fn fifty_concurrent_uses_of_one_refresh_token_have_one_winner() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);
    let tokens = login_tokens(&b, &t, "openid offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (t, rt, http) = (t.clone(), rt.clone(), http.clone());
            actix_web::rt::spawn(async move {
                common::token_with(
                    &http,
                    &t,
                    &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
                )
                .await
            })
        })
        .collect();
    let (mut winners, mut losers) = (Vec::new(), Vec::new());
    for task in tasks {
        let (s, v) = task.await.unwrap();
        match s {
            200 => winners.push(v),
            400 => {
                assert_eq!(v["error"], "invalid_grant", "{v}");
                losers.push(v["error_description"].as_str().unwrap_or("").to_owned());
            }
            other => panic!("unexpected status {other}: {v}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one concurrent use may win");
    assert_eq!(losers.len(), 49);
    // The shard serialises the uses: after the winner's rotation the first loser
    // presented a token that was no longer current, which is reuse (RFC 9700 §4.14.2:
    // the server cannot tell the thief from the client, so the chain is revoked); every
    // later loser found the chain revoked.
    let reuse = "refresh token was already used; the session was revoked";
    losers.sort();
    assert_eq!(
        losers.iter().filter(|d| *d == reuse).count(),
        1,
        "{losers:?}"
    );
    assert!(
        losers
            .iter()
            .all(|d| d == reuse || d == "refresh token was revoked"),
        "{losers:?}"
    );
    assert_eq!(
        common::metric(&server.base, "tollgate_refresh_reuse_detected_total").await,
        1.0
    );
    // So the winner's new tokens die with the chain.
    let won = &winners[0];
    let (s, v) = refresh(&t, won["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (s, v["error"].as_str(), v["error_description"].as_str()),
        (
            400,
            Some("invalid_grant"),
            Some("refresh token was revoked")
        ),
        "the winner's token outlived the reuse: {v}"
    );
    let r = http
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth(won["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "the winner's access token outlived the reuse"
    );
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\""),
        "{:?}",
        r.headers()
    );
}

async fn raw_token(
    server: &TestServer,
    t: &common::TestTenant,
    content_type: &str,
    body: String,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/token", t.issuer))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let _ = server;
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn malformed_and_oversized_requests_get_oauth_errors() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, false).await;
    let form = "application/x-www-form-urlencoded";
    let creds = format!(
        "client_id={}&client_secret={}",
        t.client_id,
        t.client_secret.as_ref().unwrap()
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "application/json",
            "{\"grant_type\":\"refresh_token\"}".into(),
            "invalid_request",
        ),
        (
            form,
            format!("{creds}&grant_type=refresh_token&grant_type=refresh_token"),
            "invalid_request",
        ),
        (
            form,
            format!("{creds}&grant_type=password&username=a&password=b"),
            "unsupported_grant_type",
        ),
        (
            form,
            format!("{creds}&grant_type=implicit"),
            "unsupported_grant_type",
        ),
        (form, creds.clone(), "invalid_request"),
        (
            form,
            format!("{creds}&grant_type=refresh_token"),
            "invalid_request",
        ),
        (
            form,
            format!("{creds}&grant_type=refresh_token&refresh_token=%FF%FE"),
            "invalid_grant",
        ),
        (
            form,
            format!(
                "{creds}&grant_type=refresh_token&refresh_token={}",
                "x".repeat(5000)
            ),
            "invalid_grant",
        ),
        (
            form,
            format!(
                "{creds}&grant_type=authorization_code&code={}&redirect_uri=x&code_verifier=y",
                "c".repeat(3000)
            ),
            "invalid_grant",
        ),
        (
            form,
            format!(
                "{creds}&grant_type=refresh_token&pad={}",
                "p".repeat(20_000)
            ),
            "invalid_request",
        ),
        (form, "%%%".into(), "invalid_client"),
        (form, String::new(), "invalid_client"),
    ];
    for (ct, body, want) in cases {
        let (s, v) = raw_token(&server, &t, ct, body.clone()).await;
        let status = if want == "invalid_client" { 401 } else { 400 };
        assert_eq!(s, status, "for {}: {v}", &body[..body.len().min(80)]);
        assert_eq!(
            v["error"].as_str(),
            Some(want),
            "for {}: {v}",
            &body[..body.len().min(80)]
        );
        assert!(v["error_description"].is_string());
    }
    // A huge body is refused without reading it all.
    let (s, v) = raw_token(&server, &t, form, "a=".to_owned() + &"b".repeat(2_000_000)).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")));
    // Userinfo without or with a bad token: 401 with a Bearer challenge.
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", t.issuer))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );
    // Revocation needs a token; unknown tokens are fine (RFC 7009 §2.2).
    let r = reqwest::Client::new()
        .post(format!("{}/revoke", t.issuer))
        .form(&[
            ("client_id", t.client_id.as_str()),
            ("client_secret", t.client_secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_request", "{v}");
    let r = reqwest::Client::new()
        .post(format!("{}/revoke", t.issuer))
        .form(&[
            ("token", "garbage"),
            ("client_id", &t.client_id),
            ("client_secret", t.client_secret.as_ref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The admin API wants its token.
    let r = reqwest::Client::new()
        .get(format!("{}/admin/v1/tenants", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_token", "{v}");
    let r = reqwest::Client::new()
        .post(format!("{}/admin/v1/tenants", server.base))
        .bearer_auth(&server.admin_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_request", "{v}");
    // Liveness and readiness.
    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let r = reqwest::get(format!("{}{path}", server.base))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.text().await.unwrap(), body);
    }
    // Unknown paths are a JSON 404, not a page or a panic.
    let r = reqwest::get(format!("{}/no/such/thing/here", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "not_found", "{v}");
    // Metrics saw no 5xx at all.
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("tollgate_http_requests_total"));
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("tollgate_http_requests_total") && l.contains("status=\"5")),
        "a 5xx was served"
    );
}

#[actix_web::test]
async fn sign_in_failures_do_not_reveal_whether_an_account_exists() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);
    let (_, challenge) = pkce();
    let (_, loc, _) = b.get(&authorize_url(&t, "openid", &challenge, &[])).await;
    let (_, _, page) = b.get(&loc.unwrap()).await;
    let (tx, csrf) = (hidden(&page, "tx").unwrap(), hidden(&page, "csrf").unwrap());
    let login = format!("{}/login", t.issuer);
    let (s1, _, wrong_pw) = b
        .post_form(
            &login,
            &[
                ("email", &t.email),
                ("password", "wrong password"),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    let (s2, _, no_user) = b
        .post_form(
            &login,
            &[
                ("email", "ghost@acme.example"),
                ("password", "wrong password"),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!((s1, s2), (401, 401));
    let msg = |p: &str| {
        p.split("role=\"alert\">")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .map(str::to_owned)
    };
    assert_eq!(msg(&wrong_pw), msg(&no_user));
    assert!(msg(&wrong_pw).is_some());
    // Sign-up with a taken email gives the answer a new one gets: a code was sent.
    let (_, _, page) = b.get(&format!("{}/signup", t.issuer)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, body) = b
        .post_form(
            &format!("{}/signup", t.issuer),
            &[
                ("email", &t.email),
                ("password", "another password"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("We sent a 6-digit code"), "{body}");
    // A form without its CSRF token is refused.
    let (s, _, body) = b
        .post_form(
            &login,
            &[("email", &t.email), ("password", PASSWORD), ("tx", &tx)],
        )
        .await;
    assert_eq!(s, 403);
    assert!(body.contains("This form expired"), "{body}");
    // From another browser (no CSRF cookie), a stolen token does not help.
    let other = Browser::new(&server.base);
    let (s, _, body) = other
        .post_form(
            &login,
            &[
                ("email", &t.email),
                ("password", PASSWORD),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 403);
    assert!(body.contains("This form expired"), "{body}");
}

#[actix_web::test]
async fn sign_up_then_consent_then_deny() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);
    let (_, challenge) = pkce();
    let (_, loc, _) = b
        .get(&authorize_url(&t, "openid email", &challenge, &[]))
        .await;
    let login_url = loc.unwrap();
    let tx = query_param(&login_url, "tx").unwrap();
    let (_, _, page) = b.get(&format!("{}/signup?tx={tx}", t.issuer)).await;
    let csrf = hidden(&page, "csrf").unwrap();
    // Too short a password is explained.
    let (s, _, body) = b
        .post_form(
            &format!("{}/signup", t.issuer),
            &[
                ("email", "new@acme.example"),
                ("password", "short"),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert!(body.contains("at least 8"));
    let (s, loc, body) = sign_up(
        &server,
        &b,
        "acme",
        "New@Acme.example",
        "a long new password",
        Some(&tx),
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let consent = loc.unwrap();
    assert!(
        consent.contains("/consent?"),
        "a third-party client asks for consent: {consent}"
    );
    let (_, _, page) = b.get(&consent).await;
    assert!(page.contains("Test app"));
    let (s, loc, _) = b
        .post_form(
            &format!("{}/consent", t.issuer),
            &[
                ("decision", "deny"),
                ("tx", &hidden(&page, "tx").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(error_of(&loc.unwrap()).as_deref(), Some("access_denied"));
    // The new account can sign in (email is case-insensitive).
    let (_, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(&t, "openid", &challenge, &[("prompt", "login")]),
            "new@acme.example",
            "a long new password",
        )
        .await;
    assert!(query_param(&back, "code").is_some(), "{back}");
}

#[actix_web::test]
async fn imported_users_sign_in_with_their_existing_hash() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, true).await;
    // A hash made elsewhere (here: by the engine's own hasher), as another IdP exports it.
    let hash = server
        .running
        .engine
        .admin()
        .create_user(
            &tollgate_engine::ids::TenantId::parse("acme").unwrap(),
            "hash-source@acme.example",
            "imported password 1",
            None,
            false,
        )
        .await
        .unwrap()
        .password_hash
        .unwrap();
    let users: Vec<Value> = (0..500)
        .map(
            |i| serde_json::json!({"email": format!("imp{i}@acme.example"), "password_hash": hash}),
        )
        .chain([serde_json::json!({"email": t.email, "password_hash": hash})])
        .collect();
    let report = server
        .admin(
            "/tenants/acme/users/import",
            serde_json::json!({"users": users}),
        )
        .await;
    assert_eq!(
        report,
        serde_json::json!({"created": 500, "existing": 1, "failed": []})
    );
    // The same import again (as after an interrupted one) creates nobody twice.
    let again = server
        .admin(
            "/tenants/acme/users/import",
            serde_json::json!({"users": users}),
        )
        .await;
    assert_eq!(
        again,
        serde_json::json!({"created": 0, "existing": 501, "failed": []})
    );
    let b = Browser::new(&server.base);
    let (_, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(&t, "openid", &challenge, &[]),
            "imp499@acme.example",
            "imported password 1",
        )
        .await;
    assert!(query_param(&back, "code").is_some(), "{back}");
    // One bad entry rejects the whole request, naming it.
    let r = reqwest::Client::new()
        .post(format!("{}/admin/v1/tenants/acme/users/import", server.base))
        .bearer_auth(&server.admin_token)
        .json(&serde_json::json!({"users": [
            {"email": "ok@acme.example", "password_hash": hash},
            {"email": "bad@acme.example", "password_hash": "$2b$12$bcrypthashbcrypthashbcrypthashbcrypthashbcrypthash12"},
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error_description"].as_str().unwrap().contains("user 1"),
        "{v}"
    );
    // ...and creates nobody: the good entry before it is still new to the tenant.
    let report = server
        .admin(
            "/tenants/acme/users/import",
            serde_json::json!({"users": [{"email": "ok@acme.example", "password_hash": hash}]}),
        )
        .await;
    assert_eq!(
        report,
        serde_json::json!({"created": 1, "existing": 0, "failed": []}),
        "a rejected import created some of its users"
    );
}

#[actix_web::test]
async fn a_full_hashing_queue_answers_503_with_retry_after_at_once() {
    // One hashing thread and a queue of one: most of 24 simultaneous sign-ins cannot be
    // admitted, and must be told so immediately rather than wait.
    let server = TestServer::start_configured(false, |c| {
        c.passwords.threads = 1;
        c.passwords.queue = 1;
    })
    .await;
    let t = server.tenant("acme", false, true).await;
    let mut forms = Vec::new();
    for _ in 0..24 {
        let b = Browser::new(&server.base);
        let (_, loc, _) = b.get(&authorize_url(&t, "openid", &pkce().1, &[])).await;
        let (_, _, page) = b.get(&loc.unwrap()).await;
        forms.push((
            b,
            hidden(&page, "tx").unwrap(),
            hidden(&page, "csrf").unwrap(),
        ));
    }
    let login = format!("{}/login", t.issuer);
    let tasks: Vec<_> = forms
        .into_iter()
        .map(|(b, tx, csrf)| {
            let (login, email) = (login.clone(), t.email.clone());
            actix_web::rt::spawn(async move {
                let started = std::time::Instant::now();
                let (status, retry_after) =
                    b.sign_in_post(&login, &email, PASSWORD, &tx, &csrf).await;
                (status, retry_after, started.elapsed())
            })
        })
        .collect();
    let (mut ok, mut busy) = (0, 0);
    for task in tasks {
        let (status, retry_after, took) = task.await.unwrap();
        match status {
            303 => ok += 1,
            503 => {
                assert!(retry_after, "503 without Retry-After");
                assert!(
                    took < std::time::Duration::from_secs(2),
                    "a refusal waited {took:?}"
                );
                busy += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1 && busy >= 1, "admitted {ok}, refused {busy}");
    let rejected = common::metric(&server.base, "tollgate_password_rejected_total").await;
    assert_eq!(rejected as usize, busy);
}

#[actix_web::test]
async fn metrics_count_grants_reuse_and_cache_lookups() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);
    let first = login_tokens(&b, &t, "openid offline_access").await;
    let rt0 = first["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&t, rt0).await.0, 200);
    let (s, v) = refresh(&t, rt0).await;
    assert_eq!(
        (s, v["error"].as_str(), v["error_description"].as_str()),
        (
            400,
            Some("invalid_grant"),
            Some("refresh token was already used; the session was revoked")
        )
    );
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |prefix: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{prefix} missing"))
    };
    assert_eq!(
        value("tollgate_tokens_issued_total{grant=\"authorization_code\"}"),
        1.0
    );
    assert_eq!(
        value("tollgate_tokens_issued_total{grant=\"refresh_token\"}"),
        1.0
    );
    assert_eq!(value("tollgate_refresh_reuse_detected_total"), 1.0);
    assert_eq!(value("tollgate_logins_total{result=\"success\"}"), 1.0);
    assert!(value("tollgate_cache_lookups_total{cache=\"chain\",result=\"hit\"}") >= 2.0);
    assert!(value("tollgate_store_batch_jobs_count") >= 1.0);
    for gauge in [
        "tollgate_shard_queue_depth",
        "tollgate_store_queue_depth",
        "tollgate_password_queue_depth",
    ] {
        assert_eq!(value(gauge), 0.0, "{gauge} is not idle");
    }
    assert!(
        metrics.contains("tollgate_http_request_duration_seconds_bucket{route=\"/{tenant}/token\"")
    );
}

#[actix_web::test]
async fn repeated_failed_sign_ins_are_throttled_alike_for_known_and_unknown_accounts() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, true).await;
    let b = Browser::new(&server.base);
    let (_, loc, _) = b.get(&authorize_url(&t, "openid", &pkce().1, &[])).await;
    let (_, _, page) = b.get(&loc.unwrap()).await;
    let (tx, csrf) = (hidden(&page, "tx").unwrap(), hidden(&page, "csrf").unwrap());
    let login = format!("{}/login", t.issuer);
    let attempt = |email: String, password: &'static str| {
        let (b, login, tx, csrf) = (&b, login.clone(), tx.clone(), csrf.clone());
        async move { b.sign_in_post(&login, &email, password, &tx, &csrf).await }
    };
    for who in [t.email.clone(), "ghost@acme.example".to_owned()] {
        for _ in 0..10 {
            assert_eq!(attempt(who.clone(), "wrong password").await.0, 401);
        }
        // Now even the right password is refused, with a time to come back.
        assert_eq!(
            attempt(who.clone(), PASSWORD).await,
            (429, true),
            "{who} not throttled"
        );
    }
    // Another account from the same address still signs in.
    server
        .admin(
            "/tenants/acme/users",
            serde_json::json!({"email": "other@acme.example", "password": PASSWORD}),
        )
        .await;
    assert_eq!(attempt("other@acme.example".into(), PASSWORD).await.0, 303);
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tollgate_logins_total{result=\"throttled\"} 2"),
        "throttled sign-ins not counted"
    );
}

#[actix_web::test]
async fn idle_shards_stop_and_their_state_survives_in_the_store() {
    let server = TestServer::start_configured(false, |c| c.shard_idle_secs = 1).await;
    let t = server.tenant("acme", false, false).await;
    let b = Browser::new(&server.base);
    let tokens = login_tokens(&b, &t, "openid offline_access").await;
    let running = || common::metric(&server.base, "tollgate_shards_running");
    assert!(running().await >= 1.0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while running().await > 0.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "idle shards were never stopped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // A fresh shard reloads the chain from the store: rotation and reuse detection still work.
    let rt0 = tokens["refresh_token"].as_str().unwrap();
    let (s, v) = refresh(&t, rt0).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = refresh(&t, rt0).await;
    assert_eq!(
        (s, v["error"].as_str(), v["error_description"].as_str()),
        (
            400,
            Some("invalid_grant"),
            Some("refresh token was already used; the session was revoked")
        ),
        "reuse went unnoticed after the shard restarted"
    );
    // And the SSO session still stands: a new authorization needs no password.
    let (_, loc, _) = b.get(&authorize_url(&t, "openid", &pkce().1, &[])).await;
    assert!(query_param(&loc.unwrap(), "code").is_some());
}
