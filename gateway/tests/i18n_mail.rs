//! Mails in the reader's language, over HTTP against the development outbox: a sign-up
//! from a Hindi browser gets its code mail in Hindi and keeps Hindi as the account's
//! language (the `locale` claim of its ID token, read by an independent relying party,
//! and of userinfo); an English sign-up gets the English mail; a tenant's own messages
//! change the mail.

mod common;

use common::{Browser, TestServer, hidden, mail_text, query_param};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};
use reqwest::header::{ACCEPT_LANGUAGE, HeaderMap, HeaderValue};
use std::path::Path;
use std::time::{Duration, Instant};

const NEW_PASSWORD: &str = "a long new password";

/// A cookie-keeping client whose every request says `Accept-Language: lang`, following no
/// redirect (as `common::Browser`, which sends no language).
fn browser_in(server: &TestServer, lang: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_str(lang).unwrap());
    common::client_builder(server.tls_ca.as_deref())
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A mail as sent: its subject (RFC 2047 words decoded) and its decoded text.
struct SentMail {
    subject: String,
    text: String,
}

/// Decodes a header value made of plain and `=?utf-8?b?…?=` words (RFC 2047), as the mail
/// library writes non-ASCII subjects: adjacent encoded words join without the space
/// between them (a character may be split across two), whitespace is collapsed.
fn decode_header(value: &str) -> String {
    use base64::Engine as _;
    let unfolded = value.replace("\r\n", "");
    let mut out = String::new();
    let mut bytes: Vec<u8> = vec![];
    let flush = |out: &mut String, bytes: &mut Vec<u8>| {
        if !bytes.is_empty() {
            out.push_str(&String::from_utf8(std::mem::take(bytes)).expect("UTF-8 subject"));
        }
    };
    let mut encoded_before = false;
    for word in unfolded.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") && lower.ends_with("?=") {
            if !encoded_before && !out.is_empty() {
                out.push(' ');
            }
            let b64 = &word["=?utf-8?b?".len()..word.len() - 2];
            bytes.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .expect("base64 word"),
            );
            encoded_before = true;
        } else {
            flush(&mut out, &mut bytes);
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
            encoded_before = false;
        }
    }
    flush(&mut out, &mut bytes);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The newest mail to `to` in the development outbox (waits for it, bounded: the courier
/// sends off the request path).
async fn mail_to(dir: &Path, to: &str) -> SentMail {
    let outbox = dir.join("outbox");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut found: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let raw = std::fs::read_to_string(e.path()).ok()?;
                raw.contains(&format!("\r\nTo: {to}\r\n"))
                    .then_some((e.metadata().ok()?.modified().ok()?, raw))
            })
            .collect();
        found.sort();
        if let Some((_, raw)) = found.pop() {
            let (head, _) = raw.split_once("\r\n\r\n").expect("headers and body");
            // The Subject header, with its continuation lines.
            let start = head.find("Subject: ").expect("a subject") + "Subject: ".len();
            let rest = &head[start..];
            let mut end = rest.len();
            let mut at = 0;
            while let Some(i) = rest[at..].find("\r\n") {
                let next = at + i + 2;
                if !rest[next..].starts_with([' ', '\t']) {
                    end = at + i;
                    break;
                }
                at = next;
            }
            return SentMail {
                subject: decode_header(&rest[..end]),
                // Sent with CRLF line ends, as mail is; written with LF.
                text: mail_text(&raw).replace("\r\n", "\n"),
            };
        }
        assert!(
            Instant::now() < deadline,
            "no mail to {to} in {}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn six_digits(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no 6-digit code in {text:?}"))
        .to_owned()
}

/// Signs up through the hosted pages of `tenant` in `b` (whose requests carry its own
/// `Accept-Language`), posting the form as the page has it (its `locale` field too).
/// Returns the code mail and the page language the form carried.
async fn sign_up(
    server: &TestServer,
    b: &reqwest::Client,
    tenant: &str,
    email: &str,
) -> (SentMail, String) {
    let issuer = format!("{}/{tenant}", server.base);
    let r = b.get(format!("{issuer}/signup")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let locale = hidden(&page, "locale").expect("the sign-up form posts its language");
    assert!(
        page.contains(&format!("<html lang=\"{locale}\"")),
        "the form's language is the page's: {page}"
    );
    let csrf = hidden(&page, "csrf").expect("csrf");
    let r = b
        .post(format!("{issuer}/signup"))
        .form(&[
            ("email", email),
            ("password", NEW_PASSWORD),
            ("csrf", &csrf),
            ("locale", &locale),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let page = r.text().await.unwrap();
    assert_eq!(status, 200, "sign-up did not ask for the code: {page}");
    let mail = mail_to(server.dir.path(), email).await;
    let code = six_digits(&mail.text);
    let r = b
        .post(format!("{issuer}/signup/code"))
        .form(&[
            ("handle", hidden(&page, "handle").expect("handle").as_str()),
            ("code", &code),
            ("csrf", &hidden(&page, "csrf").expect("csrf")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the code did not create the account");
    (mail, locale)
}

/// Signs `email` in through an independent relying party (`openidconnect`) asking for
/// `profile`: the `locale` of its verified ID token, and of userinfo.
async fn locales_of(
    server: &TestServer,
    t: &common::TestTenant,
    email: &str,
) -> (Option<String>, Option<String>) {
    let ca = openidconnect::reqwest::Certificate::from_pem(
        server.tls_ca.as_ref().expect("https").as_bytes(),
    )
    .unwrap();
    let http = openidconnect::reqwest::ClientBuilder::new()
        .add_root_certificate(ca)
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(t.issuer.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    assert!(
        metadata
            .claims_supported()
            .is_some_and(|c| c.iter().any(|c| c.as_str() == "locale")),
        "discovery names the locale claim"
    );
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(t.client_id.clone()),
        Some(ClientSecret::new(t.client_secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(t.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let back = Browser::with_ca(&server.base, server.tls_ca.as_deref())
        .authorize(url.as_str(), email, NEW_PASSWORD)
        .await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&client.id_token_verifier(), &nonce)
        .expect("a valid ID token");
    let from_id_token = claims.locale().map(|l| l.as_str().to_owned());
    let info: CoreUserInfoClaims = client
        .user_info(
            openidconnect::OAuth2TokenResponse::access_token(&tokens).clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    (from_id_token, info.locale().map(|l| l.as_str().to_owned()))
}

#[actix_web::test]
async fn a_hindi_sign_up_gets_its_mail_in_hindi_and_keeps_the_language() {
    let server = TestServer::start_tls().await;
    let t = server.tenant("shop", false, true).await;

    let (mail, locale) = sign_up(
        &server,
        &browser_in(&server, "hi-IN,hi;q=0.9,en;q=0.5"),
        "shop",
        "asha@shop.example",
    )
    .await;
    assert_eq!(locale, "hi");
    assert_eq!(mail.subject, "अपना Tenant shop खाता बनाने के लिए आपका कोड");
    assert!(
        mail.text
            .starts_with("अपना Tenant shop खाता बनाने के लिए आपका कोड यह है:\n\n    "),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("मिनट में समाप्त हो जाएगा"), "{}", mail.text);
    assert!(!mail.text.contains("expires"), "{}", mail.text);
    assert_eq!(
        locales_of(&server, &t, "asha@shop.example").await,
        (Some("hi".to_owned()), Some("hi".to_owned())),
        "the ID token and userinfo carry the saved language"
    );

    // The same pages in English: the English mail, word for word as before.
    let (mail, locale) = sign_up(
        &server,
        &browser_in(&server, "en-GB,en;q=0.8"),
        "shop",
        "ben@shop.example",
    )
    .await;
    assert_eq!(locale, "en");
    assert_eq!(mail.subject, "Your code to create your Tenant shop account");
    let code = six_digits(&mail.text);
    assert_eq!(
        mail.text,
        format!(
            "Your code to create your Tenant shop account is\n\n    {code}\n\n\
It expires in 10 minutes and works once. If you did not ask for this, ignore this \
email: nothing changes without the code.\n"
        )
    );
    assert_eq!(
        locales_of(&server, &t, "ben@shop.example").await.0,
        Some("en".to_owned())
    );
}

#[actix_web::test]
async fn a_tenants_own_messages_change_its_mails() {
    let server = TestServer::start_tls().await;
    let engine = &server.running.engine;
    engine
        .admin()
        .create_tenant("brand", "Brand", tollgate_engine::model::SigningAlg::RS256)
        .await
        .unwrap();
    // The tenant's English subject of the sign-up mail, set in the stored record before
    // the engine first reads it.
    let id = tollgate_engine::ids::TenantId::parse("brand").unwrap();
    let mut tenant = engine.store().get_tenant(&id).await.unwrap().unwrap();
    tenant.branding.revision = 1;
    tenant.branding.messages.insert(
        "en".into(),
        "mail-sign-up-subject = Welcome to { $tenant }: here is your code\n".into(),
    );
    assert!(engine.store().update_tenant(&tenant).await.unwrap());

    let (mail, _) = sign_up(
        &server,
        &browser_in(&server, "en"),
        "brand",
        "cara@brand.example",
    )
    .await;
    assert_eq!(mail.subject, "Welcome to Brand: here is your code");
    // What the tenant left alone keeps the shipped words.
    assert!(
        mail.text
            .starts_with("Your code to create your Brand account is\n"),
        "{}",
        mail.text
    );

    // Hindi readers keep the shipped Hindi: the tenant changed only English.
    let (mail, _) = sign_up(
        &server,
        &browser_in(&server, "hi"),
        "brand",
        "dev@brand.example",
    )
    .await;
    assert_eq!(mail.subject, "अपना Brand खाता बनाने के लिए आपका कोड");
}

#[test]
fn encoded_subjects_decode_across_split_characters() {
    // "खाता" split inside its second character, over a folded line, then a plain word.
    let whole = "खाता".as_bytes();
    use base64::Engine as _;
    let b = |x: &[u8]| base64::engine::general_purpose::STANDARD.encode(x);
    let header = format!(
        "=?utf-8?b?{}?=\r\n =?utf-8?b?{}?= Shop",
        b(&whole[..4]),
        b(&whole[4..])
    );
    assert_eq!(decode_header(&header), "खाता Shop");
}
