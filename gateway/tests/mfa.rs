//! Second factors through the hosted pages: enrolling an authenticator app (QR code and
//! key, confirmed by a first code), signing in with it, replayed and wrong codes, the
//! five-try limit, recovery codes (single use), a required policy that enrols at sign-in,
//! and step-up when a client asks for two factors (`acr_values`), with `amr`, `acr` and
//! `auth_time` in the ID token.

mod common;

use common::{
    Browser, PASSWORD, TestServer, TestTenant, authorize_url, hidden, jwt_claims, pkce, redeem,
};
use serde_json::{Value, json};

const LOA2: &str = "urn:tollgate:loa:2";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn totp(secret: &str) -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
}

async fn set_policy(server: &TestServer, tenant: &str, body: Value) -> (u16, Value) {
    let r = server
        .http
        .put(format!("{}/admin/v1/tenants/{tenant}/mfa", server.base))
        .bearer_auth(&server.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Starts an authorization and submits the password; returns the page that follows (or
/// the redirect), with the authorization's PKCE verifier.
async fn password_step(
    b: &Browser,
    t: &TestTenant,
    extra: &[(&str, &str)],
) -> (u16, Option<String>, String, String) {
    let (verifier, challenge) = pkce();
    let url = authorize_url(t, "openid", &challenge, extra);
    let (s, loc, _) = b.get(&url).await;
    assert_eq!(s, 303);
    let login = loc.unwrap();
    assert!(login.contains("/login?"), "{login}");
    let (_, _, page) = b.get(&login).await;
    let (s, loc, body) = b
        .post_form(
            &format!("{}/login", t.issuer),
            &[
                ("email", &t.email),
                ("password", PASSWORD),
                ("tx", &hidden(&page, "tx").unwrap()),
                ("csrf", &hidden(&page, "csrf").unwrap()),
            ],
        )
        .await;
    (s, loc, body, verifier)
}

async fn submit_code(
    b: &Browser,
    t: &TestTenant,
    page: &str,
    method: &str,
    code: &str,
) -> (u16, Option<String>, String) {
    let mut form = vec![
        ("handle", hidden(page, "handle").expect("handle")),
        ("csrf", hidden(page, "csrf").expect("csrf")),
        ("method", method.to_owned()),
        ("code", code.to_owned()),
    ];
    if let Some(tx) = hidden(page, "tx") {
        form.push(("tx", tx));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form(&format!("{}/login/factor", t.issuer), &form)
        .await
}

/// Redeems the code in a client redirect; returns the ID token's claims.
async fn id_claims(t: &TestTenant, back: &str, verifier: &str) -> Value {
    let code = common::query_param(back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let (s, v) = redeem(&reqwest::Client::new(), t, &code, verifier).await;
    assert_eq!(s, 200, "{v}");
    jwt_claims(v["id_token"].as_str().unwrap())
}

/// Signs in with the password only (on a fresh browser) and enrols an authenticator app
/// from the account page; returns the browser, the secret and the recovery codes.
async fn enrol(t: &TestTenant, base: &str) -> (Browser, String, Vec<String>) {
    let b = Browser::new(base);
    let (s, loc, body, _) = password_step(&b, t, &[]).await;
    assert_eq!(s, 303, "{body}");
    assert!(!loc.unwrap().contains("/login"));
    let (s, _, page) = b.get(&format!("{}/account/totp", t.issuer)).await;
    assert_eq!(s, 200);
    assert!(page.contains("<svg"), "no QR code rendered");
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    let form = |code: String| {
        vec![
            ("enrol", hidden(&page, "enrol").unwrap()),
            ("csrf", hidden(&page, "csrf").unwrap()),
            ("label", "Phone".to_owned()),
            ("code", code),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let b = &b;
        let url = format!("{}/account/totp", t.issuer);
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post_form(&url, &f).await
        }
    };
    // A wrong first code keeps the same secret on the page.
    let (s, _, again) = post(form("000000".into())).await;
    assert_eq!(s, 400);
    assert!(
        again.contains(&secret),
        "a mistyped code changed the secret"
    );
    let code = totp(&secret).generate(now()).to_string();
    let (s, _, codes_page) = post(form(code)).await;
    assert_eq!(s, 200, "{codes_page}");
    // Codes are shown once: the page offers no language switcher to navigate away with
    // (the account page before it does).
    assert!(!codes_page.contains("name=\"lang\""), "{codes_page}");
    assert!(page.contains("name=\"lang\""), "{page}");
    let codes: Vec<String> = codes_page
        .split("<li><code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{codes_page}");
    let (_, _, account) = b.get(&format!("{}/account", t.issuer)).await;
    assert!(account.contains("Authenticator app") && account.contains("10 left"));
    (b, secret, codes)
}

#[actix_web::test]
async fn an_authenticator_app_guards_sign_in_and_refuses_replays() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, true).await;
    let (s, v) = set_policy(&server, "acme", json!({"mode": "optional"})).await;
    assert_eq!(s, 200, "{v}");
    let (_, secret, codes) = enrol(&t, &server.base).await;
    let app = totp(&secret);

    // Signing in now asks for the code.
    let b = Browser::new(&server.base);
    let (s, _, page, verifier) = password_step(&b, &t, &[]).await;
    assert_eq!(s, 200);
    assert!(page.contains("Confirm it is you"), "{page}");
    let (s, _, again) = submit_code(&b, &t, &page, "totp", "123456").await;
    assert_eq!(s, 401);
    assert!(again.contains("not valid"));
    // The enrolment used this step's code: the next step's is new (±1 step of skew).
    let code = app.generate(now() + 30).to_string();
    let (s, back, body) = submit_code(&b, &t, &again, "totp", &code).await;
    assert_eq!(s, 303, "{body}");
    let c = id_claims(&t, &back.unwrap(), &verifier).await;
    let amr: Vec<&str> = c["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(amr.contains(&"pwd") && amr.contains(&"otp") && amr.contains(&"mfa"));
    assert_eq!(c["acr"], LOA2);

    // The same code again, in another sign-in: refused (RFC 6238 §5.2).
    let b2 = Browser::new(&server.base);
    let (_, _, page, verifier) = password_step(&b2, &t, &[]).await;
    let (s, _, page) = submit_code(&b2, &t, &page, "totp", &code).await;
    assert_eq!(s, 401, "a replayed TOTP code was accepted");
    assert!(page.contains("That code is not valid."), "{page}");
    // A recovery code works once.
    let (s, back, _) =
        submit_code(&b2, &t, &page, "recovery_codes", &codes[0].to_uppercase()).await;
    assert_eq!(s, 303, "recovery code refused");
    id_claims(&t, &back.unwrap(), &verifier).await;
    let b3 = Browser::new(&server.base);
    let (_, _, page, _) = password_step(&b3, &t, &[]).await;
    let (s, _, refused) = submit_code(&b3, &t, &page, "recovery_codes", &codes[0]).await;
    assert_eq!(s, 401, "a recovery code worked twice");
    assert!(refused.contains("That code is not valid."), "{refused}");

    // Five wrong tries in all, then the pending sign-in is dead, even for a right code.
    let b4 = Browser::new(&server.base);
    let (_, _, mut page, _) = password_step(&b4, &t, &[]).await;
    let handle = hidden(&page, "handle").unwrap();
    for i in 0..5 {
        let (s, _, p) = submit_code(&b4, &t, &page, "totp", "000000").await;
        assert_eq!(s, 401, "try {i}");
        if i < 4 {
            page = p;
        }
    }
    let fresh = app.generate(now() + 30).to_string();
    let dead = format!(
        "<input type=\"hidden\" name=\"handle\" value=\"{handle}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        hidden(&page, "csrf").unwrap()
    );
    let (s, loc, body) = submit_code(&b4, &t, &dead, "totp", &fresh).await;
    assert_eq!(s, 401, "{body}");
    assert!(
        loc.is_none() && body.contains("Too many attempts"),
        "{body}"
    );

    // Failures also count per account across sign-ins (6 since the last success): at 10,
    // every code is refused for the rest of the window without being checked, so fresh
    // sign-ins (each with five tries) cannot be used to guess on and on.
    let b5 = Browser::new(&server.base);
    let (_, _, mut page, _) = password_step(&b5, &t, &[]).await;
    for _ in 0..4 {
        let (s, _, p) = submit_code(&b5, &t, &page, "totp", "000000").await;
        assert_eq!(s, 401);
        page = p;
    }
    let r = b5
        .http
        .post(format!("{}/login/factor", t.issuer))
        .form(&[
            ("handle", hidden(&page, "handle").unwrap()),
            ("csrf", hidden(&page, "csrf").unwrap()),
            ("method", "totp".into()),
            ("code", app.generate(now() + 30).to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        429,
        "second-factor guessing is not throttled per account"
    );
    assert!(r.headers().get("retry-after").is_some());

    // The audit trail has the enrolment, the failures and the successes.
    let events = server.events("acme", "").await;
    let kinds: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        ("mfa.enrolled", "success"),
        ("mfa.verify", "failure"),
        ("mfa.verify", "success"),
        ("mfa.completed", "success"),
    ] {
        assert!(
            kinds.iter().any(|(k, r)| k == want.0 && r == want.1),
            "no {want:?} event in {kinds:?}"
        );
    }
}

#[actix_web::test]
async fn a_required_policy_enrols_at_sign_in_and_removing_a_factor_works() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, true).await;
    let (s, _) = set_policy(
        &server,
        "acme",
        json!({"mode": "required", "factors": ["email"]}),
    )
    .await;
    assert_eq!(
        s, 400,
        "a required policy with nothing to enrol was accepted"
    );
    // Without email codes among the factors (a verified address would otherwise do as
    // the second factor), a user with nothing enrolled must enrol at sign-in.
    let (s, _) = set_policy(
        &server,
        "acme",
        json!({"mode": "required", "factors": ["totp", "passkey", "recovery_codes"]}),
    )
    .await;
    assert_eq!(s, 200);

    let b = Browser::new(&server.base);
    let (s, _, page, verifier) = password_step(&b, &t, &[]).await;
    assert_eq!(s, 200);
    assert!(page.contains("Set up an authenticator app") && page.contains("<svg"));
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    let mut form = vec![
        ("handle", hidden(&page, "handle").unwrap()),
        ("enrol", hidden(&page, "enrol").unwrap()),
        ("csrf", hidden(&page, "csrf").unwrap()),
        ("tx", hidden(&page, "tx").unwrap()),
        ("code", totp(&secret).generate(now()).to_string()),
    ];
    form.push(("label", "Laptop".into()));
    let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _, codes_page) = b.post_form(&format!("{}/login/enrol", t.issuer), &f).await;
    assert_eq!(s, 200, "{codes_page}");
    assert_eq!(codes_page.matches("<li><code>").count(), 10);
    let next = codes_page
        .split("class=\"button\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    let (s, back, _) = b.get(&format!("{}{next}", server.base)).await;
    assert_eq!(s, 303);
    let c = id_claims(&t, &back.unwrap(), &verifier).await;
    assert_eq!(c["acr"], LOA2);

    // Removing the factor from the account page: the next sign-in enrols again.
    let (_, _, account) = b.get(&format!("{}/account", t.issuer)).await;
    let totp_row = account
        .split("<li>")
        .find(|row| row.contains("Authenticator app"))
        .unwrap();
    let (s, _, _) = b
        .post_form(
            &format!("{}/account/factors/remove", t.issuer),
            &[
                ("id", &hidden(totp_row, "id").unwrap()),
                ("csrf", &hidden(totp_row, "csrf").unwrap()),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, _, account) = b.get(&format!("{}/account", t.issuer)).await;
    assert!(!account.contains("<strong>Authenticator app</strong>"));
    let (s, _, page, _) = password_step(&Browser::new(&server.base), &t, &[]).await;
    assert_eq!(s, 200);
    assert!(page.contains("Set up an authenticator app"));
}

#[actix_web::test]
async fn clients_asking_for_two_factors_get_a_step_up_not_a_refusal() {
    // The step-up must land in a later second than the sign-in: the clock is moved, not
    // waited for.
    let clock = tollgate_engine::clock::ManualClock::new(now());
    let server = TestServer::start_with_clock(std::sync::Arc::new(clock.clone())).await;
    let t = server.tenant("acme", false, true).await;
    let (b, secret, _) = enrol(&t, &server.base).await;
    // Policy off: the session from the password alone has one factor.
    let (verifier, challenge) = pkce();
    let url = authorize_url(&t, "openid", &challenge, &[]);
    let (s, back, _) = b.get(&url).await;
    assert_eq!(s, 303);
    let one = id_claims(&t, &back.unwrap(), &verifier).await;
    assert_eq!(one["acr"], "urn:tollgate:loa:1");
    assert_eq!(one["amr"], json!(["pwd"]));

    // prompt=none cannot step up.
    let url = authorize_url(
        &t,
        "openid",
        &challenge,
        &[("acr_values", LOA2), ("prompt", "none")],
    );
    let (_, back, _) = b.get(&url).await;
    assert_eq!(
        common::query_param(&back.unwrap(), "error").as_deref(),
        Some("interaction_required")
    );
    // Otherwise: the step-up page, then the code.
    clock.advance(1);
    let (verifier, challenge) = pkce();
    let url = authorize_url(&t, "openid", &challenge, &[("acr_values", LOA2)]);
    let (s, loc, _) = b.get(&url).await;
    assert_eq!(s, 303);
    let step = loc.unwrap();
    assert!(step.contains("/stepup?"), "{step}");
    let (s, _, page) = b.get(&step).await;
    assert_eq!(s, 200);
    assert!(page.contains("Confirm it is you"));
    let code = totp(&secret).generate(now() + 30).to_string();
    let (s, back, body) = submit_code(&b, &t, &page, "totp", &code).await;
    assert_eq!(s, 303, "{body}");
    let two = id_claims(&t, &back.unwrap(), &verifier).await;
    assert_eq!(two["acr"], LOA2);
    assert!(
        two["auth_time"].as_u64() > one["auth_time"].as_u64(),
        "a step-up is an authentication: auth_time moves"
    );
    assert_eq!(two["sid"], one["sid"], "the step-up kept the session");

    // The stepped-up session satisfies the next request without asking again.
    let (verifier, challenge) = pkce();
    let url = authorize_url(&t, "openid", &challenge, &[("acr_values", LOA2)]);
    let (_, back, _) = b.get(&url).await;
    let again = id_claims(&t, &back.unwrap(), &verifier).await;
    assert_eq!(again["acr"], LOA2);

    // prompt=login and max_age force a fresh sign-in despite the session.
    for extra in [[("prompt", "login")], [("max_age", "0")]] {
        let (_, challenge) = pkce();
        let (s, loc, _) = b
            .get(&authorize_url(&t, "openid", &challenge, &extra))
            .await;
        assert_eq!(s, 303);
        assert!(
            loc.unwrap().contains("/login?"),
            "{extra:?} did not ask to sign in"
        );
    }
    // Discovery advertises the levels.
    let d: Value = common::discovery(&t).await;
    assert_eq!(
        d["acr_values_supported"],
        json!(["urn:tollgate:loa:1", LOA2])
    );
}
