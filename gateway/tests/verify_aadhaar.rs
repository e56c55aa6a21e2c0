//! Aadhaar Paperless Offline e-KYC over HTTP: the hosted page `/{tenant}/verify/aadhaar`
//! and the API `/{tenant}/api/verify/aadhaar`, with documents the tests sign themselves
//! (`tollgate_kyc::testkit`: their own CA and UIDAI-like certificate, share-code ZIPs).
//!
//! The good flow keeps a verification; every bad input of issue 17 gets its clear message
//! on the page and its JSON error in the API, keeps nothing, and leaves a failure event.
//! Then the store's raw files, the event log and the data export are read to prove that
//! no name, date of birth, address, photo, share code or XML reached them.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};
use tollgate_engine::ids::{TenantId, UserId};
use tollgate_kyc::testkit::{self, DocOptions, Resident, tamper};

const SHARE: &str = "Xy7@k2q";
const DAY: u64 = 86_400;
/// The profile's name: the document's is "Kavya Ramaswamy Iyer", a partial match.
const PROFILE_NAME: &str = "Kavya R. Iyer";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn good_xml() -> String {
    testkit::signed_xml(
        &Resident::default(),
        &DocOptions::new(now() - 600, SHARE),
        testkit::uidai(),
    )
}

fn good_zip() -> Vec<u8> {
    testkit::share_code_zip(good_xml().as_bytes(), SHARE)
}

const BOUNDARY: &str = "----tollgate-kyc-test-4f1c2a";

/// A multipart/form-data body of text fields and the `file`.
fn multipart(fields: &[(&str, &str)], file: Option<&[u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some(file) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"offlineaadhaar.zip\"\r\nContent-Type: application/zip\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

struct Setup {
    srv: TestServer,
    t: TestTenant,
    browser: Browser,
    user: UserId,
    email: String,
}

/// A server, a tenant trusting the test UIDAI certificate, and a signed-in user whose
/// profile name is [`PROFILE_NAME`].
async fn setup(id: &str) -> Setup {
    let srv = TestServer::start().await;
    let t = srv.tenant(id, false, true).await;
    let r = srv
        .http
        .put(format!("{}/admin/v1/tenants/{id}/verification", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&json!({"aadhaar": {
            "certificates": [testkit::uidai().cert_pem()],
            "max_age_secs": 3 * DAY,
            "keep_dob_hash": true,
        }}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let email = format!("kavya@{id}.example");
    let u = srv
        .admin(
            &format!("/tenants/{id}/users"),
            json!({"email": email, "password": PASSWORD, "name": PROFILE_NAME, "email_verified": true}),
        )
        .await;
    let user = UserId::from_stored(u["id"].as_str().unwrap().to_owned());
    let browser = srv.browser();
    let mut as_user = t.clone();
    as_user.email = email.clone();
    let (_, challenge) = pkce();
    let back = browser
        .authorize(
            &authorize_url(&as_user, "openid", &challenge, &[]),
            &email,
            PASSWORD,
        )
        .await;
    assert!(back.contains("code="), "{back}");
    Setup {
        srv,
        t,
        browser,
        user,
        email,
    }
}

/// POSTs the page's form with a fresh CSRF token: (status, page).
async fn submit_page(
    s: &Setup,
    file: &[u8],
    share_code: &str,
    extra: &[(&str, &str)],
) -> (u16, String) {
    let url = format!("{}/verify/aadhaar", s.t.issuer);
    let csrf = fresh_csrf(&s.browser, &url).await;
    let mut fields = vec![("csrf", csrf.as_str()), ("share_code", share_code)];
    fields.extend_from_slice(extra);
    let r = s
        .browser
        .http
        .post(&url)
        .header("content-type", content_type())
        .body(multipart(&fields, Some(file)))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// An access token of the user for `scope`.
async fn access_token(s: &Setup, scope: &str) -> String {
    let b = s.srv.browser();
    let mut as_user = s.t.clone();
    as_user.email = s.email.clone();
    let (verifier, challenge) = pkce();
    let url = authorize_url(&as_user, scope, &challenge, &[("prompt", "consent")]);
    let back = b.authorize(&url, &s.email, PASSWORD).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (status, v) = redeem(&reqwest::Client::new(), &s.t, &code, &verifier).await;
    assert_eq!(status, 200, "{v}");
    v["access_token"].as_str().unwrap().to_owned()
}

/// POSTs to the API: (status, WWW-Authenticate, JSON).
async fn submit_api(
    s: &Setup,
    token: Option<&str>,
    file: &[u8],
    share_code: &str,
) -> (u16, String, Value) {
    let mut rb = s
        .srv
        .http
        .post(format!("{}/api/verify/aadhaar", s.t.issuer))
        .header("content-type", content_type())
        .body(multipart(&[("share_code", share_code)], Some(file)));
    if let Some(token) = token {
        rb = rb.bearer_auth(token);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge, r.json().await.unwrap_or(Value::Null))
}

fn tenant_id(s: &Setup) -> TenantId {
    TenantId::parse(&s.t.id).unwrap()
}

/// Everything of the document that must never be kept, as bytes to look for.
fn never_kept() -> Vec<(String, Vec<u8>)> {
    let r = Resident::default();
    let photo_b64 = base64::engine::general_purpose::STANDARD.encode(&r.photo);
    let mut out: Vec<(String, Vec<u8>)> = [
        ("full name", r.name.clone()),
        ("middle name", "Ramaswamy".to_owned()),
        ("date of birth", r.dob.clone()),
        ("care of", r.careof.clone()),
        ("house", "Gulmohar".to_owned()),
        ("street", "Tulsibaug".to_owned()),
        ("PIN code", r.pc.clone()),
        ("photo (base64)", photo_b64),
        ("photo (bytes)", "TESTPHOTO-JPEG-BYTES".to_owned()),
        ("XML root", "OfflinePaperlessKyc".to_owned()),
        ("XML data", "UidData".to_owned()),
        ("share code", SHARE.to_owned()),
        ("typed mobile", r.mobile.clone().unwrap()),
        ("typed email", r.email.clone().unwrap()),
    ]
    .into_iter()
    .map(|(what, s)| (what.to_owned(), s.into_bytes()))
    .collect();
    // The name as the keyed hash's input (normalised) must not be there either.
    out.push(("normalised name".into(), b"kavya ramaswamy iyer".to_vec()));
    out
}

#[test]
fn the_needles_are_in_the_document() {
    let zip_free = good_xml();
    let r = Resident::default();
    for (what, needle) in never_kept() {
        let typed = [
            SHARE,
            r.mobile.as_deref().unwrap(),
            r.email.as_deref().unwrap(),
            "kavya ramaswamy iyer",
        ];
        // What the user types, and the photo's raw bytes (base64 in the document).
        if what == "photo (bytes)" || typed.iter().any(|t| t.as_bytes() == needle.as_slice()) {
            continue;
        }
        assert!(
            contains(zip_free.as_bytes(), &needle),
            "{what} is not in the document"
        );
    }
}

/// Byte search through std's (optimised) substring search: the store's files are
/// megabytes and a naive scan in a debug build takes seconds per needle. Every needle is
/// text, and invalid UTF-8 around it becomes U+FFFD without touching it.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let needle = std::str::from_utf8(needle).expect("text needles");
    String::from_utf8_lossy(haystack).contains(needle)
}

/// Every file under `dir`, read raw (as text: invalid UTF-8 becomes U+FFFD and leaves
/// any text needle intact).
fn raw_files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    out
}

#[actix_web::test]
async fn the_page_verifies_a_share_code_zip_and_keeps_only_the_minimum() {
    let s = setup("kycpage").await;

    // Signed out: the page sends the browser to sign in.
    let (status, location, _) = s
        .srv
        .browser()
        .get(&format!("{}/verify/aadhaar", s.t.issuer))
        .await;
    assert_eq!(status, 303);
    assert!(location.unwrap().ends_with("/kycpage/login"));

    // The account page links to it.
    let (_, _, account) = s.browser.get(&format!("{}/account", s.t.issuer)).await;
    assert!(
        account.contains("href=\"/kycpage/verify/aadhaar\""),
        "{account}"
    );

    // The form: labelled fields, multipart, CSRF.
    let (status, _, form) = s
        .browser
        .get(&format!("{}/verify/aadhaar", s.t.issuer))
        .await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("enctype=\"multipart/form-data\""), "{form}");
    assert!(form.contains("<label for=\"kyc-file\">"), "{form}");
    assert!(form.contains("<label for=\"kyc-share-code\">"), "{form}");
    assert_eq!(form.matches("<h1").count(), 1);

    let (status, page) = submit_page(
        &s,
        &good_zip(),
        SHARE,
        &[
            ("mobile", "+91 98123 45674"),
            ("email", "Kavya.Iyer@example.in"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your identity is verified"), "{page}");
    assert!(page.contains("data-name-match=\"partial\""), "{page}");
    assert!(
        page.contains("7058"),
        "the kept last four digits are shown: {page}"
    );
    assert!(page.contains("We kept only"), "{page}");
    assert!(
        page.contains("is the one registered with Aadhaar"),
        "{page}"
    );
    assert!(
        !page.contains("Ramaswamy") && !page.contains("14-08-1991"),
        "{page}"
    );

    // What is kept: one verification, opened.
    let kept = s
        .srv
        .running
        .engine
        .verify()
        .list(&tenant_id(&s), &s.user)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let v = &kept[0];
    assert_eq!(v.method.as_str(), "aadhaar_offline");
    assert_eq!(v.aadhaar_last4.as_deref(), Some("7058"));
    assert_eq!(v.name_match.as_str(), "partial");
    assert_eq!(v.mobile_match, Some(true));
    assert_eq!(v.email_match, Some(true));
    assert!(v.issued_at.is_some_and(|t| t + 700 > now()));
    let name_hash = v.name_hash.clone().expect("a keyed hash of the name");
    assert_eq!(name_hash.len(), 64);
    assert!(
        v.dob_hash.is_some(),
        "the tenant asked for the date-of-birth hash"
    );

    // The success event: result, no personal data.
    let events = s.srv.events("kycpage", "kind=verify.aadhaar_offline").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["result"], "success", "{}", events[0]);

    // The data export of the user.
    let (status, _, export) = s
        .browser
        .get(&format!("{}/account/export", s.t.issuer))
        .await;
    assert_eq!(status, 200, "{export}");
    let exported: Value = serde_json::from_str(&export).unwrap();
    assert_eq!(
        exported["verifications"][0]["aadhaar_last4"], "7058",
        "the export carries what is kept: {export}"
    );

    // Nothing of the document anywhere: events, export, the store's raw files.
    let events_text = Value::Array(s.srv.events("kycpage", "").await).to_string();
    let files = raw_files(s.srv.dir.path());
    assert!(!files.is_empty());
    // The raw bytes are readable: the tenant's display name, stored plainly, is found.
    assert!(
        files
            .iter()
            .any(|(_, text)| text.contains("Tenant kycpage")),
        "the raw store files hide even plain text; the search below would prove nothing"
    );
    for (what, needle) in never_kept() {
        assert!(
            !contains(events_text.as_bytes(), &needle),
            "{what} is in the events"
        );
        assert!(
            !contains(export.as_bytes(), &needle),
            "{what} is in the export"
        );
        let needle_text = std::str::from_utf8(&needle).unwrap();
        for (path, text) in &files {
            assert!(
                !text.contains(needle_text),
                "{what} is in {}",
                path.display()
            );
        }
    }
}

/// (case, upload, share code, status, code, the page's message).
type BadCase = (
    &'static str,
    Vec<u8>,
    &'static str,
    u16,
    &'static str,
    &'static str,
);

#[actix_web::test]
async fn every_bad_input_is_refused_clearly_on_the_page_and_in_the_api_and_nothing_is_kept() {
    let s = setup("kycbad").await;
    let token = access_token(&s, "openid verify").await;
    let resident = Resident::default();
    let signed = |options: DocOptions, signer| testkit::signed_xml(&resident, &options, signer);
    let zip = |xml: &str| testkit::share_code_zip(xml.as_bytes(), SHARE);
    let mut not_covering = DocOptions::new(now() - 60, SHARE);
    not_covering.reference_uri = "#UidData".into();

    let cases: Vec<BadCase> = vec![
        (
            "tampered XML",
            zip(&tamper::change_attribute(
                &good_xml(),
                "name",
                "Someone Else",
            )),
            SHARE,
            400,
            "tampered",
            "The document was changed after UIDAI signed it.",
        ),
        (
            "another certificate",
            zip(&signed(
                DocOptions::new(now() - 60, SHARE),
                testkit::impostor(),
            )),
            SHARE,
            400,
            "bad_signature",
            "The document&#x27;s signature is not UIDAI&#x27;s.",
        ),
        (
            "too old",
            zip(&signed(
                DocOptions::new(now() - 4 * DAY, SHARE),
                testkit::uidai(),
            )),
            SHARE,
            400,
            "too_old",
            "The file is too old.",
        ),
        (
            "wrong share code",
            good_zip(),
            "nope123",
            400,
            "wrong_share_code",
            "The share code does not open this file.",
        ),
        (
            "zip bomb",
            testkit::zip_bomb(SHARE, 16 * 1024 * 1024),
            SHARE,
            400,
            "zip_bomb",
            "expands to far more than",
        ),
        (
            "oversized upload",
            vec![b'P'; 3 * 1024 * 1024],
            SHARE,
            413,
            "too_large",
            "The file is too large.",
        ),
        (
            "malformed XML",
            zip(&tamper::truncated(&good_xml())),
            SHARE,
            400,
            "malformed_xml",
            "The XML in the file is malformed.",
        ),
        (
            "XXE",
            zip(&tamper::xxe(&good_xml())),
            SHARE,
            400,
            "dtd_refused",
            "declares a document type",
        ),
        (
            "two signatures",
            zip(&tamper::second_signature(&good_xml())),
            SHARE,
            400,
            "two_signatures",
            "more than one signature",
        ),
        (
            "signature not covering the root",
            zip(&signed(not_covering, testkit::uidai())),
            SHARE,
            400,
            "signature_not_covering_root",
            "does not cover the whole document",
        ),
    ];
    for (case, upload, share_code, status, code, message) in &cases {
        let (got, page) = submit_page(&s, upload, share_code, &[]).await;
        assert_eq!(got, *status, "{case}: {page}");
        assert!(page.contains("role=\"alert\""), "{case}: {page}");
        assert!(page.contains(message), "{case}: no {message:?} in {page}");
        assert!(!page.contains("Your identity is verified"), "{case}");

        let (got, _, body) = submit_api(&s, Some(&token), upload, share_code).await;
        assert_eq!(got, *status, "{case}: {body}");
        assert_eq!(body["error"], *code, "{case}: {body}");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{case}: {body}"
        );
    }

    // Nothing kept, and one failure event per attempt, each with its code only.
    let kept = s
        .srv
        .running
        .engine
        .verify()
        .list(&tenant_id(&s), &s.user)
        .await
        .unwrap();
    assert!(kept.is_empty(), "{kept:?}");
    let events = s.srv.events("kycbad", "kind=verify.aadhaar_offline").await;
    assert_eq!(events.len(), 2 * cases.len(), "{events:?}");
    for (case, _, _, _, code, _) in &cases {
        let n = events
            .iter()
            .filter(|e| e["result"] != "success" && e["detail"] == *code)
            .count();
        assert_eq!(n, 2, "{case}: the failure events of {code}: {events:?}");
    }
    let events_text = Value::Array(events).to_string();
    for (what, needle) in never_kept() {
        assert!(
            !contains(events_text.as_bytes(), &needle),
            "{what} is in the events"
        );
    }
}

#[actix_web::test]
async fn the_api_needs_the_users_token_with_the_verify_scope() {
    let s = setup("kycapi").await;
    let zip = good_zip();

    let (status, challenge, body) = submit_api(&s, None, &zip, SHARE).await;
    assert_eq!(status, 401, "{body}");
    assert!(challenge.contains("invalid_token"), "{challenge}");

    let (status, challenge, body) = submit_api(&s, Some("not-a-token"), &zip, SHARE).await;
    assert_eq!(status, 401, "{body}");
    assert!(challenge.contains("invalid_token"), "{challenge}");

    let without = access_token(&s, "openid").await;
    let (status, challenge, body) = submit_api(&s, Some(&without), &zip, SHARE).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "insufficient_scope", "{body}");
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("scope=\"verify\""),
        "{challenge}"
    );

    let token = access_token(&s, "openid verify").await;
    let (status, _, body) = submit_api(&s, Some(&token), &zip, SHARE).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["method"], "aadhaar_offline", "{body}");
    assert_eq!(body["aadhaar_last4"], "7058", "{body}");
    assert_eq!(body["name_match"], "partial", "{body}");
    assert!(body.get("name_hash").is_none(), "{body}");

    // A bare XML is accepted too.
    let (status, _, body) = submit_api(&s, Some(&token), good_xml().as_bytes(), "").await;
    assert_eq!(status, 200, "{body}");

    // No file.
    let r = s
        .srv
        .http
        .post(format!("{}/api/verify/aadhaar", s.t.issuer))
        .bearer_auth(&token)
        .header("content-type", content_type())
        .body(multipart(&[("share_code", SHARE)], None))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");
}

#[actix_web::test]
async fn without_uidai_certificates_verification_says_it_is_not_set_up() {
    let s = setup("kycnone").await;
    let r = s
        .srv
        .http
        .put(format!(
            "{}/admin/v1/tenants/kycnone/verification",
            s.srv.base
        ))
        .bearer_auth(&s.srv.admin_token)
        .json(&json!({"aadhaar": {"certificates": []}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (_, _, account) = s.browser.get(&format!("{}/account", s.t.issuer)).await;
    assert!(
        account.contains("Your account") || account.contains("<h1"),
        "{account}"
    );
    assert!(
        !account.contains("/verify/aadhaar"),
        "no link while it is not set up"
    );
    let (status, page) = submit_page(&s, &good_zip(), SHARE, &[]).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("not set up for this organisation"), "{page}");
    let token = access_token(&s, "openid verify").await;
    let (status, _, body) = submit_api(&s, Some(&token), &good_zip(), SHARE).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "no_certificates", "{body}");

    // A stale form (no CSRF token) is refused before anything is read.
    let r = s
        .browser
        .http
        .post(format!("{}/verify/aadhaar", s.t.issuer))
        .header("content-type", content_type())
        .body(multipart(&[("share_code", SHARE)], Some(&good_zip())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("This form expired"));

    // So is another browser's token.
    let other = s.srv.browser();
    let foreign = fresh_csrf(&other, &format!("{}/login", s.t.issuer)).await;
    let r = s
        .browser
        .http
        .post(format!("{}/verify/aadhaar", s.t.issuer))
        .header("content-type", content_type())
        .body(multipart(
            &[("csrf", &foreign), ("share_code", SHARE)],
            Some(&good_zip()),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("This form expired"));
    let events = s.srv.events("kycnone", "kind=verify.aadhaar_offline").await;
    assert_eq!(
        events.len(),
        2,
        "only the two real attempts (page and API) are audited: {events:?}"
    );
}
