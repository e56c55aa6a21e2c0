//! The CSRF route table: every hosted form POST, posted from a signed-in user's browser
//! (or the browser holding the pending step it continues) with a body that would do
//! something, once without a CSRF token and once with another browser's, is refused
//! with its exact answer and changes nothing: the account page reads the same, the
//! password still works, no account was created, no message was sent, and the pending
//! steps the forms continue still complete with the right token.
//!
//! The table is checked against the routes themselves (`gateway/http/src/routes.rs`):
//! a POST route that is neither in it nor in the list of non-form endpoints fails this
//! test.

mod common;

use common::*;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// POST routes that are not hosted forms, and what protects them instead.
const NOT_FORMS: &[(&str, &str)] = &[
    ("/tenants", "admin API: bearer token (hardening.rs)"),
    ("/tenants/{tenant}/clients", "admin API"),
    ("/tenants/{tenant}/apis", "admin API"),
    ("/tenants/{tenant}/users", "admin API"),
    ("/tenants/{tenant}/users/import", "admin API"),
    ("/tenants/{tenant}/organizations/{org}/domains", "admin API"),
    (
        "/tenants/{tenant}/organizations/{org}/domains/{domain}/verify",
        "admin API",
    ),
    ("/tenants/{tenant}/users/{user}/sign-out", "admin API"),
    ("/tenants/{tenant}/keys/rotate", "admin API"),
    ("/tenants/{tenant}/keys/{kid}/revoke", "admin API"),
    ("/tenants/{tenant}/move", "admin API"),
    ("/tenants/{tenant}/branding/preview", "admin API"),
    ("/purge", "admin API"),
    ("/tenants/{tenant}/saml/sps", "admin API"),
    (
        "/saml/sso",
        "SAML HTTP-POST binding: the SP's request, signed when it has a certificate (saml_idp.rs)",
    ),
    (
        "/saml/slo",
        "SAML HTTP-POST binding: the SP's logout request, its SessionIndex sealed by the IdP (saml_idp.rs)",
    ),
    ("/retention/run", "admin API"),
    ("/children/run", "admin API"),
    ("/tenants/{tenant}/grievances/{id}/answer", "admin API"),
    ("/tenants/{tenant}/grievances/{id}/close", "admin API"),
    ("/tenants/{tenant}/breaches", "admin API"),
    ("/tenants/{tenant}/breaches/{id}/notify", "admin API"),
    ("/tenants/{tenant}/organizations", "admin API"),
    ("/tenants/{tenant}/organizations/{org}/members", "admin API"),
    (
        "/tenants/{tenant}/organizations/{org}/invitations",
        "admin API",
    ),
    (
        "/api/permissions/check",
        "bearer access token, no cookies (orgs.rs)",
    ),
    ("/tenants/{tenant}/scim-tokens", "admin API"),
    ("/scim/v2/Users", "SCIM: a SCIM bearer token, no cookies"),
    ("/scim/v2/Bulk", "SCIM: a SCIM bearer token, no cookies"),
    ("/scim/v2/Groups", "SCIM: a SCIM bearer token, no cookies"),
    (
        "/authorize",
        "an OAuth request: it only starts a sign-in (state and PKCE)",
    ),
    ("/token", "client authentication, no cookies"),
    ("/par", "client authentication, no cookies (RFC 9126)"),
    (
        "/register",
        "an initial access token (bearer), no cookies (RFC 7591)",
    ),
    ("/tenants/{tenant}/initial-access-tokens", "admin API"),
    (
        "/device_authorization",
        "client authentication, no cookies (RFC 8628)",
    ),
    ("/userinfo", "bearer token, no cookies"),
    ("/revoke", "client authentication, no cookies"),
    ("/introspect", "client authentication, no cookies"),
    (
        "/federation/{connector}/callback",
        "the upstream's form_post, bound to the browser's sign-in by `state`",
    ),
    (
        "/api/verify/aadhaar",
        "bearer access token with the verify scope, no cookies (verify_aadhaar.rs)",
    ),
    (
        "/api/verify/truecaller",
        "bearer access token with the verify scope, no cookies (verify_truecaller.rs)",
    ),
    (
        "/api/consent-manager/users/{sub}/consents/{purpose}/withdraw",
        "consent-manager API: client authentication (HTTP Basic), no cookies (dpdp_consent_manager.rs)",
    ),
    (
        "/webhooks/whatsapp",
        "Meta's status webhook: X-Hub-Signature-256 over the body, no cookies (whatsapp.rs)",
    ),
];

/// The path of every POST route in the route table. Each `web::post()` is attributed
/// to the string literal before it (the route's path), and every one must be found.
fn post_routes() -> BTreeSet<String> {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/http/src/routes.rs");
    let source = std::fs::read_to_string(file).unwrap();
    let code: String = source
        .lines()
        .map(|l| l.split("//").next().unwrap())
        .collect::<Vec<_>>()
        .concat();
    let mut found = BTreeSet::new();
    let mut count = 0;
    for (at, _) in code.match_indices("web::post()") {
        count += 1;
        let before = &code[..at];
        let end = before.rfind('"').expect("a path before web::post()");
        let start = before[..end].rfind('"').unwrap();
        found.insert(before[start + 1..end].to_owned());
    }
    // The WhatsApp webhook is served twice under one literal: the deployment's number
    // at the root and a tenant's own number under `/{tenant}`.
    let twice = usize::from(found.contains("/webhooks/whatsapp"));
    assert_eq!(
        found.len() + twice,
        count,
        "two POST routes on one path? {found:?}"
    );
    found
}

/// Which browser posts the form.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// The victim, signed in at `forms`.
    Victim,
    /// A browser in the middle of the victim's sign-in, at the second-factor step.
    AtFactor,
    /// A browser in the middle of linking an upstream identity to the victim's account.
    Linking,
    /// A browser in the middle of a sign-in at `strict`, enrolling an authenticator app.
    Enrolling,
}

/// How a form refuses a bad token.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    /// 403, the page saying the form expired.
    Form,
    /// 403, a JSON error (the passkey ceremonies' endpoints).
    Json,
    /// Sign-out without a good token is not done: it asks to confirm (200).
    Confirm,
}

struct Form {
    path: &'static str,
    who: Who,
    fields: Vec<(&'static str, String)>,
    refusal: Refusal,
}

/// What the set-up left for the forms to act on.
struct Setup {
    srv: TestServer,
    forms: TestTenant,
    strict: TestTenant,
    victim: Browser,
    /// Another of the victim's sessions.
    second: Browser,
    at_factor: (Browser, String),
    linking: (Browser, String),
    enrolling: (Browser, String),
    /// The consent page of an authorization in the victim's browser.
    consent: String,
    /// The page the victim's authenticator app was enrolled from (its secret).
    enrolled: String,
    /// The account's authenticator-app page (a new secret to confirm).
    totp_page: String,
    /// The upstream provider (kept running).
    _up: upstream::Upstream,
    attacker: Browser,
    attacker_email: String,
}

fn totp_code(page: &str, offset: u64) -> String {
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("a TOTP secret on the page");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(now + offset)
        .to_string()
}

/// Starts an authorization in `b` and submits the password: the page that follows.
async fn password_step(b: &Browser, t: &TestTenant, scope_prompt: &[(&str, &str)]) -> String {
    let (_, challenge) = pkce();
    let (s, loc, _) = b
        .get(&authorize_url(t, "openid", &challenge, scope_prompt))
        .await;
    assert_eq!(s, 303);
    let (_, _, page) = b.get(&loc.unwrap()).await;
    let (s, _, page) = b
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
    assert_eq!(s, 200, "{page}");
    page
}

/// Posts a form's fields (with `csrf`) from the page's browser.
async fn post_fields(
    b: &Browser,
    url: &str,
    page: &str,
    names: &[&str],
    extra: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let mut form: Vec<(&str, String)> = names
        .iter()
        .filter_map(|n| hidden(page, n).map(|v| (*n, v)))
        .collect();
    form.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form(url, &form).await
}

async fn set_policy(srv: &TestServer, tenant: &str, policy: Value) {
    srv.http
        .put(format!("{}/admin/v1/tenants/{tenant}/mfa", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&policy)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

async fn setup() -> Setup {
    let srv = TestServer::start().await;
    let forms = srv.tenant("forms", false, true).await;
    let strict = srv.tenant("strict", false, true).await;
    let attacker_email = "attacker@forms.example".to_owned();
    srv.admin(
        "/tenants/forms/users",
        json!({"email": attacker_email, "password": PASSWORD, "email_verified": true}),
    )
    .await;

    // The victim links an upstream identity (through `idp`, with the password); a
    // second link through `idp2` is left waiting for the password.
    let up = upstream::start(&srv, "forms", &["idp", "idp2"], &forms.email).await;
    up.connect(&srv, "forms", "idp", false).await;
    up.connect(&srv, "forms", "idp2", false).await;
    let pending_link = |connector: &'static str| {
        let (b, forms) = (srv.browser(), forms.clone());
        async move {
            let (_, challenge) = pkce();
            let url = authorize_url(&forms, "openid", &challenge, &[("idp_hint", connector)]);
            match upstream::follow(&b, &url, &forms.email).await {
                upstream::Stop::Page(200, _, page) if page.contains("already have an account") => {
                    (b, page)
                }
                stop => panic!("no pending link: {stop:?}"),
            }
        }
    };
    let (b, page) = pending_link("idp").await;
    let (s, _, body) = post_fields(
        &b,
        &format!("{}/federation/link", forms.issuer),
        &page,
        &["handle", "csrf"],
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let linking = pending_link("idp2").await;

    // The victim signs in (consenting to the app), enrols an authenticator app, and
    // signs in elsewhere with a recovery code (one of ten used).
    let victim = srv.browser();
    login_tokens(&victim, &forms, "openid offline_access").await;
    set_policy(&srv, "forms", json!({"mode": "optional"})).await;
    let (_, _, enrolled) = victim.get(&format!("{}/account/totp", forms.issuer)).await;
    let (s, _, codes_page) = post_fields(
        &victim,
        &format!("{}/account/totp", forms.issuer),
        &enrolled,
        &["enrol", "csrf"],
        &[("label", "Phone"), ("code", &totp_code(&enrolled, 0))],
    )
    .await;
    assert_eq!(s, 200, "{codes_page}");
    let recovery = codes_page
        .split("<li><code>")
        .nth(1)
        .and_then(|c| c.split('<').next())
        .unwrap()
        .to_owned();
    let second = srv.browser();
    let page = password_step(&second, &forms, &[]).await;
    let (s, _, body) = post_fields(
        &second,
        &format!("{}/login/factor", forms.issuer),
        &page,
        &["handle", "csrf", "tx"],
        &[("method", "recovery_codes"), ("code", &recovery)],
    )
    .await;
    assert_eq!(s, 303, "{body}");

    // Pending steps the forms continue: a second factor, an enrolment at `strict`, a
    // consent, and a new authenticator app on the account page.
    let at_factor = srv.browser();
    let page = password_step(&at_factor, &forms, &[]).await;
    assert!(page.contains("Confirm it is you"), "{page}");
    let at_factor = (at_factor, page);
    set_policy(
        &srv,
        "strict",
        json!({"mode": "required", "factors": ["totp", "passkey", "recovery_codes"]}),
    )
    .await;
    let enrolling = srv.browser();
    let page = password_step(&enrolling, &strict, &[]).await;
    assert!(page.contains("Set up an authenticator app"), "{page}");
    let enrolling = (enrolling, page);
    let (_, challenge) = pkce();
    let (s, loc, _) = victim
        .get(&authorize_url(
            &forms,
            "openid",
            &challenge,
            &[("prompt", "consent")],
        ))
        .await;
    assert_eq!(s, 303);
    let (s, _, consent) = victim.get(&loc.unwrap()).await;
    assert_eq!(s, 200, "{consent}");
    let (_, _, totp_page) = victim.get(&format!("{}/account/totp", forms.issuer)).await;

    // Another user of `forms`, signed in: their form tokens are the foreign ones.
    let attacker = srv.browser();
    let as_attacker = TestTenant {
        email: attacker_email.clone(),
        ..forms.clone()
    };
    login_tokens(&attacker, &as_attacker, "openid").await;

    Setup {
        srv,
        forms,
        strict,
        victim,
        second,
        at_factor,
        linking,
        enrolling,
        consent,
        enrolled,
        totp_page,
        _up: up,
        attacker,
        attacker_email,
    }
}

/// Every hosted form, with a body that would act if the token were good.
fn table(s: &Setup, account: &str) -> Vec<Form> {
    use Refusal::{Confirm, Form as F, Json};
    use Who::*;
    let v = |k: &'static str, v: &str| (k, v.to_owned());
    let form = |path, who, fields: Vec<(&'static str, String)>, refusal| Form {
        path,
        who,
        fields,
        refusal,
    };
    let page_field = |page: &str, k: &'static str| (k, hidden(page, k).unwrap_or_default());
    let (factor_page, link_page, enrol_page) = (&s.at_factor.1, &s.linking.1, &s.enrolling.1);
    let totp_factor = account
        .split("<li>")
        .find(|row| row.contains("Authenticator app"))
        .and_then(|row| hidden(row, "id"))
        .expect("the authenticator app on the account page");
    let new_password = "an entirely new passphrase";
    let phone = "+14155550123";
    let passkey = |path| form(path, Victim, vec![], Json);
    vec![
        form("/logout", Victim, vec![v("confirm", "yes")], Confirm),
        form(
            "/login",
            Victim,
            vec![v("email", &s.forms.email), v("password", PASSWORD)],
            F,
        ),
        form(
            "/signup",
            Victim,
            vec![
                v("email", "newcomer@forms.example"),
                v("password", new_password),
                v("name", "Newcomer"),
            ],
            F,
        ),
        form(
            "/signup/code",
            Victim,
            vec![v("handle", "h"), v("code", "123456")],
            F,
        ),
        // With a real link too, in dpdp_children.rs (the child stays pending).
        form(
            "/parent-consent",
            Victim,
            vec![
                v("link", "child.link"),
                v("email", &s.forms.email),
                v("password", PASSWORD),
            ],
            F,
        ),
        form(
            "/parent-consent/refuse",
            Victim,
            vec![v("link", "child.link")],
            F,
        ),
        form(
            "/consent",
            Victim,
            vec![v("decision", "allow"), page_field(&s.consent, "tx")],
            F,
        ),
        form("/device", Victim, vec![v("user_code", "BCDF-GHJK")], F),
        form("/organization", Victim, vec![v("org", "org_forged")], F),
        form("/invitations/{token}", Victim, vec![], F),
        form("/device/confirm", Victim, vec![v("decision", "allow")], F),
        form(
            "/account/apps/remove",
            Victim,
            vec![v("client_id", &s.forms.client_id)],
            F,
        ),
        form("/account/sessions/end", Victim, vec![v("others", "yes")], F),
        form(
            "/login/factor",
            AtFactor,
            vec![
                page_field(factor_page, "handle"),
                page_field(factor_page, "tx"),
                v("method", "totp"),
                v("code", &totp_code(&s.enrolled, 30)),
            ],
            F,
        ),
        form(
            "/login/enrol",
            Enrolling,
            vec![
                page_field(enrol_page, "handle"),
                page_field(enrol_page, "enrol"),
                page_field(enrol_page, "tx"),
                v("label", "Laptop"),
                v("code", &totp_code(enrol_page, 0)),
            ],
            F,
        ),
        form(
            "/account/totp",
            Victim,
            vec![
                page_field(&s.totp_page, "enrol"),
                v("label", "Second phone"),
                v("code", &totp_code(&s.totp_page, 0)),
            ],
            F,
        ),
        form(
            "/account/factors/remove",
            Victim,
            vec![v("id", &totp_factor)],
            F,
        ),
        form("/account/recovery-codes", Victim, vec![], F),
        passkey("/passkeys/register/start"),
        passkey("/passkeys/register/finish"),
        passkey("/passkeys/login/start"),
        passkey("/passkeys/login/finish"),
        passkey("/passkeys/factor/start"),
        passkey("/passkeys/factor/finish"),
        passkey("/passkeys/link/start"),
        passkey("/passkeys/link/finish"),
        form(
            "/account/passkeys/rename",
            Victim,
            vec![v("id", &totp_factor), v("label", "Renamed")],
            F,
        ),
        form("/login/email", Victim, vec![v("email", &s.forms.email)], F),
        form("/login/sso", Victim, vec![v("email", &s.forms.email)], F),
        form(
            "/login/email/code",
            Victim,
            vec![v("handle", "h"), v("code", "123456")],
            F,
        ),
        form("/login/link", Victim, vec![v("token", "t")], F),
        form(
            "/login/factor/send",
            AtFactor,
            vec![page_field(factor_page, "handle"), v("method", "email")],
            F,
        ),
        form(
            "/password/forgot",
            Victim,
            vec![v("email", &s.forms.email)],
            F,
        ),
        form(
            "/password/reset",
            Victim,
            vec![
                v("handle", "h"),
                v("code", "123456"),
                v("password", new_password),
            ],
            F,
        ),
        form(
            "/password/reset/review",
            Victim,
            vec![v("handle", "h"), v("choice", "remove")],
            F,
        ),
        form(
            "/account/reauth",
            Victim,
            vec![v("password", PASSWORD), v("next", "/account")],
            F,
        ),
        form("/verify", Victim, vec![v("token", "t")], F),
        form(
            "/account/email/verify",
            Victim,
            vec![v("code", "123456")],
            F,
        ),
        form("/account/email/send", Victim, vec![], F),
        form("/login/phone", Victim, vec![v("phone", phone)], F),
        form(
            "/login/phone/code",
            Victim,
            vec![v("handle", "h"), v("code", "123456")],
            F,
        ),
        form("/account/phone", Victim, vec![v("phone", phone)], F),
        form(
            "/account/phone/confirm",
            Victim,
            vec![v("handle", "h"), v("code", "123456")],
            F,
        ),
        form("/account/profile", Victim, vec![v("name", "Mallory")], F),
        form("/account/language", Victim, vec![v("locale", "hi")], F),
        form(
            "/account/email/change",
            Victim,
            vec![v("email", "mallory@forms.example")],
            F,
        ),
        form(
            "/account/email/change/confirm",
            Victim,
            vec![v("handle", "h"), v("code", "123456")],
            F,
        ),
        form("/account/phone/change", Victim, vec![v("phone", phone)], F),
        form(
            "/account/phone/change/confirm",
            Victim,
            vec![v("handle", "h"), v("code", "123456")],
            F,
        ),
        form(
            "/account/password",
            Victim,
            vec![
                v("current_password", PASSWORD),
                v("new_password", new_password),
            ],
            F,
        ),
        form("/account/purposes", Victim, vec![v("marketing", "yes")], F),
        form(
            "/account/grievances",
            Victim,
            vec![v("category", "other"), v("text", "forged")],
            F,
        ),
        form(
            "/account/delete",
            Victim,
            vec![v("confirmation", PASSWORD)],
            F,
        ),
        form("/account/complete", Victim, vec![v("name", "Mallory")], F),
        // A multipart form: whatever else comes, no good token is no upload read
        // (verify_aadhaar.rs posts real multipart bodies without one).
        form("/verify/aadhaar", Victim, vec![v("share_code", "1234")], F),
        form(
            "/federation/link",
            Linking,
            vec![page_field(link_page, "handle"), v("password", PASSWORD)],
            F,
        ),
        form(
            "/account/identities/unlink",
            Victim,
            vec![
                v(
                    "provider",
                    &hidden(account, "provider").expect("a linked identity"),
                ),
                v("key", &hidden(account, "key").unwrap()),
            ],
            F,
        ),
    ]
}

/// The account page with its form tokens taken out: what the user can see of their
/// account.
async fn account_view(b: &Browser, t: &TestTenant) -> String {
    let (s, _, page) = b.get(&format!("{}/account", t.issuer)).await;
    assert_eq!(s, 200, "{page}");
    let token = hidden(&page, "csrf").unwrap();
    page.replace(&token, "")
}

/// The files in the server's outbox (mail and text messages in development mode).
fn outbox(srv: &TestServer) -> BTreeSet<String> {
    match std::fs::read_dir(srv.dir.path().join("outbox")) {
        Ok(dir) => dir
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// Asks, with a good token, for a password-reset mail to the attacker's own address,
/// and waits (bounded) until it is in the outbox; returns the outbox then.
async fn control_mail(s: &Setup) -> BTreeSet<String> {
    let before = outbox(&s.srv);
    let url = format!("{}/password/forgot", s.forms.issuer);
    let csrf = fresh_csrf(&s.attacker, &url).await;
    let (status, _, body) = s
        .attacker
        .post_form(&url, &[("email", &s.attacker_email), ("csrf", &csrf)])
        .await;
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = outbox(&s.srv);
        if now.len() > before.len() {
            return now;
        }
        assert!(Instant::now() < deadline, "the control mail never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn set_cookie_names(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split('=').next().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn every_form_refuses_a_missing_or_foreign_csrf_token_and_changes_nothing() {
    let s = setup().await;
    let account = s.victim.get(&format!("{}/account", s.forms.issuer)).await.2;
    let forms = table(&s, &account);

    // The table and the route table agree.
    let listed: BTreeSet<String> = forms
        .iter()
        .map(|f| f.path.to_owned())
        .chain(NOT_FORMS.iter().map(|(p, _)| (*p).to_owned()))
        .collect();
    assert_eq!(listed.len(), forms.len() + NOT_FORMS.len(), "a path twice");
    let routes = post_routes();
    let unlisted: Vec<&String> = routes.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "POST routes missing from this table: {unlisted:?}"
    );
    let gone: Vec<&String> = listed.difference(&routes).collect();
    assert!(gone.is_empty(), "no such POST routes: {gone:?}");

    let mail_before = control_mail(&s).await;
    let view_before = account_view(&s.victim, &s.forms).await;
    let second_before = account_view(&s.second, &s.forms).await;
    let foreign_forms = fresh_csrf(&s.attacker, &format!("{}/account", s.forms.issuer)).await;
    let foreign_strict = fresh_csrf(&s.attacker, &format!("{}/login", s.strict.issuer)).await;

    for f in &forms {
        let (b, t) = match f.who {
            Who::Victim => (&s.victim, &s.forms),
            Who::AtFactor => (&s.at_factor.0, &s.forms),
            Who::Linking => (&s.linking.0, &s.forms),
            Who::Enrolling => (&s.enrolling.0, &s.strict),
        };
        let foreign = match f.who {
            Who::Enrolling => &foreign_strict,
            _ => &foreign_forms,
        };
        let url = format!("{}{}", t.issuer, f.path);
        for token in [None, Some(foreign.as_str())] {
            let what = format!(
                "POST {} with {}",
                f.path,
                token.map_or("no token", |_| "a foreign token")
            );
            let r = match f.refusal {
                Refusal::Json => {
                    let mut r = b
                        .http
                        .post(&url)
                        .header(CONTENT_TYPE, "application/json")
                        .body("{}");
                    if let Some(tok) = token {
                        r = r.header("x-csrf-token", tok);
                    }
                    r.send().await.unwrap()
                }
                _ => {
                    let mut fields: Vec<(&str, &str)> =
                        f.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    if let Some(tok) = token {
                        fields.push(("csrf", tok));
                    }
                    b.http
                        .post(&url)
                        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(serde_urlencoded::to_string(&fields).unwrap())
                        .send()
                        .await
                        .unwrap()
                }
            };
            let status = r.status().as_u16();
            let cookies = set_cookie_names(&r);
            let location = r.headers().get("location").cloned();
            let body = r.text().await.unwrap();
            assert!(
                !cookies.iter().any(|c| c == "tg_session"),
                "{what}: the session cookie changed"
            );
            assert_eq!(location, None, "{what}: redirected");
            match f.refusal {
                Refusal::Form => {
                    assert_eq!(status, 403, "{what}: {body}");
                    assert!(
                        body.contains("This form expired. Please try again."),
                        "{what}: {body}"
                    );
                }
                Refusal::Json => {
                    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    assert_eq!(
                        (status, v),
                        (
                            403,
                            json!({"error": "invalid_request", "error_description": "This page expired. Reload it and try again."})
                        ),
                        "{what}"
                    );
                }
                Refusal::Confirm => {
                    assert_eq!(status, 200, "{what}: {body}");
                    assert!(
                        body.contains("Sign out?") && body.contains("name=\"confirm\""),
                        "{what}: {body}"
                    );
                }
            }
        }
    }

    // Nothing changed. The account reads the same in both of the victim's sessions
    // (name, address, sessions, apps, factors and recovery codes left, linked identity).
    assert_eq!(account_view(&s.victim, &s.forms).await, view_before);
    assert_eq!(account_view(&s.second, &s.forms).await, second_before);
    // No message went out: only the next control mail arrives after the first.
    let mail_after = control_mail(&s).await;
    let sent: Vec<&String> = mail_after.difference(&mail_before).collect();
    assert_eq!(sent.len(), 1, "messages sent by refused forms: {sent:?}");
    // The password is unchanged, and no account was created by the sign-up.
    let page = password_step(&srv_browser(&s), &s.forms, &[]).await;
    assert!(page.contains("Confirm it is you"), "{page}");
    let b = srv_browser(&s);
    let csrf = fresh_csrf(&b, &format!("{}/login", s.forms.issuer)).await;
    let (status, _, _) = b
        .post_form(
            &format!("{}/login", s.forms.issuer),
            &[
                ("email", "newcomer@forms.example"),
                ("password", "an entirely new passphrase"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(status, 401, "the refused sign-up created the account");

    // The pending steps were left alone: each completes with its own browser's token.
    let (b, page) = &s.at_factor;
    let (status, loc, body) = post_fields(
        b,
        &format!("{}/login/factor", s.forms.issuer),
        page,
        &["handle", "csrf", "tx"],
        &[("method", "totp"), ("code", &totp_code(&s.enrolled, 30))],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(query_param(&loc.unwrap(), "code").is_some());
    let (b, page) = &s.enrolling;
    let (status, _, body) = post_fields(
        b,
        &format!("{}/login/enrol", s.strict.issuer),
        page,
        &["handle", "enrol", "csrf", "tx"],
        &[("label", "Laptop"), ("code", &totp_code(page, 0))],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Save your recovery codes"), "{body}");
    let (status, loc, body) = post_fields(
        &s.victim,
        &format!("{}/consent", s.forms.issuer),
        &s.consent,
        &["tx", "csrf"],
        &[("decision", "allow")],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(query_param(&loc.unwrap(), "code").is_some());
    let (b, page) = &s.linking;
    let (status, _, body) = post_fields(
        b,
        &format!("{}/federation/link", s.forms.issuer),
        page,
        &["handle", "csrf"],
        &[("password", PASSWORD)],
    )
    .await;
    // The password is right: with an authenticator app, the link goes on to it.
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Confirm it is you"), "{body}");
}

fn srv_browser(s: &Setup) -> Browser {
    s.srv.browser()
}
