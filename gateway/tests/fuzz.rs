//! Fuzz targets at the binary's edges (the harness is `tollgate-fuzzkit`; seeds in
//! `tests/corpus/<target>/`; `TOLLGATE_FUZZ_SECS` for a longer run):
//!
//! - `sms_template`: the SMS provider request (URL, body template, message template) filled
//!   with a message's values, against a one-pass reading of the placeholders;
//! - `passkey_json`: the JSON bodies `POST /{tenant}/passkeys/login/finish` accepts, over
//!   HTTP on a running server with a registered passkey. Bodies are templates: `$HANDLE`,
//!   `$CHALLENGE`, `$ORIGIN`, `$CRED_ID`, `$USER_HANDLE`, `$AUTH_DATA` are filled with the
//!   live values, and a `clientDataJSON` written as JSON is encoded as a browser would,
//!   so mutations reach webauthn-rs's checks of the client data and authenticator data.

mod common;

use common::passkey::{Device, data_attr};
use common::{Browser, PASSWORD, TestTenant, hidden, start_localhost};
use reqwest::header::{CONTENT_TYPE, SET_COOKIE};
use serde_json::{Map, Value, json};
use tollgate_engine::crypto::{b64, sha256};
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::phone::PhoneNumber;
use tollgate_engine::runtime::delivery::{Channel, TextMessage};
use tollgate_fuzzkit::{Fuzz, Unstructured};
use tollgate_gateway::sms::{form_pairs, render};

/// The placeholders, filled in one pass: a value is inserted as it is, never read again
/// for placeholders (a tenant named `{{code}}` is named that). Written differently from
/// the sender's: each placeholder becomes a private-use marker first, then each marker
/// its value.
fn one_pass(template: &str, vars: &[(&str, &str)]) -> String {
    let marker = |i: usize| format!("\u{E000}{i}\u{E001}");
    let mut out = template.to_owned();
    for (i, (k, _)) in vars.iter().enumerate() {
        out = out.replace(&format!("{{{{{k}}}}}"), &marker(i));
    }
    for (i, (_, v)) in vars.iter().enumerate() {
        out = out.replace(&marker(i), v);
    }
    out
}

fn one_pass_value(v: &Value, vars: &[(&str, &str)]) -> Value {
    match v {
        Value::String(s) => Value::String(one_pass(s, vars)),
        Value::Array(a) => Value::Array(a.iter().map(|x| one_pass_value(x, vars)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), one_pass_value(x, vars)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A JSON value from raw bytes, a few levels deep.
fn arbitrary_value(u: &mut Unstructured<'_>, depth: u32) -> Value {
    let pick = u.choose_index(if depth == 0 { 4 } else { 6 }).unwrap_or(0);
    match pick {
        0 => Value::String(u.arbitrary().unwrap_or_default()),
        1 => json!(u.arbitrary::<i64>().unwrap_or(0)),
        2 => json!(u.arbitrary::<bool>().unwrap_or(false)),
        3 => Value::Null,
        4 => Value::Array(
            (0..u.int_in_range(0..=3).unwrap_or(0))
                .map(|_| arbitrary_value(u, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..u.int_in_range(0..=4).unwrap_or(0))
                .map(|_| {
                    let k: String = u.arbitrary().unwrap_or_default();
                    (k, arbitrary_value(u, depth - 1))
                })
                .collect::<Map<String, Value>>(),
        ),
    }
}

/// A provider request and a message: a JSON document as the seeds are written, or
/// anything else read as raw material by `arbitrary`.
fn sms_case(input: &[u8]) -> Value {
    if let Ok(v @ Value::Object(_)) = serde_json::from_slice::<Value>(input) {
        return v;
    }
    let mut u = Unstructured::new(input);
    let mut s = || u.arbitrary::<String>().unwrap_or_default();
    let (url, message, tenant_name, code, to) = (s(), s(), s(), s(), s());
    json!({
        "url": url, "message": message, "tenant_name": tenant_name, "code": code, "to": to,
        "body": arbitrary_value(&mut Unstructured::new(input), 3),
    })
}

#[test]
fn sms_template() {
    Fuzz::new(env!("CARGO_MANIFEST_DIR"), "sms_template")
        .dictionary([
            "{{recipient}}",
            "{{recipient_digits}}",
            "{{code}}",
            "{{message}}",
        ])
        .dictionary([
            "{{tenant}}",
            "{{tenant_name}}",
            "{{minutes}}",
            "{{",
            "}}",
            "{{}}",
        ])
        .dictionary([
            "\"url\"",
            "\"body\"",
            "\"message\"",
            "\"tenant_name\"",
            "\"to\"",
        ])
        .dictionary(["+919876543210", "+44 7911 123456", "098765 43210", "(+91)"])
        .run(|input| {
            if String::from_utf8_lossy(input).contains(['\u{E000}', '\u{E001}']) {
                return;
            }
            let case = sms_case(input);
            let s = |k: &str| case[k].as_str().unwrap_or("").to_owned();
            // Numbers as users type them: whatever parses is E.164.
            let to = match PhoneNumber::parse(&s("to"), Some("IN")) {
                Ok(p) => {
                    assert!(p.as_str().starts_with('+') && p.as_str().len() <= 16);
                    assert_eq!(&p.as_str()[1..], p.digits());
                    assert!(p.digits().bytes().all(|b| b.is_ascii_digit()));
                    assert_eq!(PhoneNumber::parse(p.as_str(), None).unwrap(), p);
                    p
                }
                Err(_) => PhoneNumber::parse("+919876543210", None).unwrap(),
            };
            let msg = TextMessage {
                to,
                channel: Channel::Sms,
                code: s("code"),
                text: format!("{} is your code for {}", s("code"), s("tenant_name")),
                tenant: TenantId::parse(&s("tenant")).unwrap_or(TenantId::parse("acme").unwrap()),
                tenant_name: s("tenant_name"),
                minutes: case["minutes"].as_u64().unwrap_or(10),
            };
            let message = case["message"].as_str();
            let body = case.get("body").cloned().unwrap_or(Value::Null);
            let (url, filled) = render(&s("url"), &body, message, &msg);

            let minutes = msg.minutes.to_string();
            let mut vars = vec![
                ("recipient", msg.to.as_str()),
                ("recipient_digits", msg.to.digits()),
                ("code", msg.code.as_str()),
                ("tenant", msg.tenant.as_str()),
                ("tenant_name", msg.tenant_name.as_str()),
                ("minutes", minutes.as_str()),
            ];
            let text = match message {
                Some(t) => one_pass(t, &vars),
                None => msg.text.clone(),
            };
            vars.push(("message", &text));
            assert_eq!(filled, one_pass_value(&body, &vars), "the body");
            // In the URL every value is URL-encoded, so none can add a parameter or a path.
            let encoded: Vec<(&str, String)> = vars
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        url::form_urlencoded::byte_serialize(v.as_bytes()).collect(),
                    )
                })
                .collect();
            let url_vars: Vec<(&str, &str)> =
                encoded.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(url, one_pass(&s("url"), &url_vars), "the URL");
            // A flat body becomes one form pair per member.
            if let Some(o) = filled.as_object() {
                let pairs = form_pairs(&filled);
                assert_eq!(pairs.len(), o.len());
                for (k, v) in &pairs {
                    match &o[k] {
                        Value::String(s) => assert_eq!(v, s),
                        other => assert_eq!(v, &other.to_string()),
                    }
                }
            }
        });
}

/// A JSON POST from a browser's page, with its CSRF token: (status, body, whether a
/// session cookie was set).
async fn post_json(b: &Browser, url: &str, csrf: &str, body: Vec<u8>) -> (u16, String, bool) {
    let r = b
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header("X-CSRF-Token", csrf)
        .body(body)
        .send()
        .await
        .unwrap();
    let session = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap_or("").starts_with("tg_session="));
    (r.status().as_u16(), r.text().await.unwrap(), session)
}

/// A passkey sign-in with the real authenticator, in a new browser: it signs in.
async fn genuine_sign_in(base: &str, t: &TestTenant, device: &mut Device) {
    let b = Browser::new(base);
    let (_, _, page) = b.get(&format!("{base}/{}/login", t.id)).await;
    let csrf = data_attr(&page, "csrf").expect("the sign-in page offers passkeys");
    let start = format!("{base}/{}/passkeys/login/start", t.id);
    let (s, started, _) = post_json(&b, &start, &csrf, b"{}".to_vec()).await;
    assert_eq!(s, 200, "{started}");
    let started: Value = serde_json::from_str(&started).unwrap();
    let credential = device.sign(&started["options"], None);
    let body = json!({"handle": started["handle"], "credential": credential});
    let finish = format!("{base}/{}/passkeys/login/finish", t.id);
    let (s, answer, session) = post_json(&b, &finish, &csrf, body.to_string().into_bytes()).await;
    assert_eq!(s, 200, "{answer}");
    assert!(session, "a session cookie");
}

/// Encodes a `clientDataJSON` written as JSON, as a browser sends it (base64url).
fn encode_client_data(body: &mut Value) {
    if let Some(cd) = body
        .get_mut("credential")
        .and_then(|c| c.get_mut("response"))
        .and_then(|r| r.get_mut("clientDataJSON"))
        && !cd.is_string()
    {
        *cd = json!(b64(cd.to_string().as_bytes()));
    }
}

#[actix_web::test]
async fn passkey_json() {
    let server = start_localhost().await;
    let t = server.tenant("acme", false, true).await;
    let base = server.base.clone();
    let origin = server.running.engine.config().public_url.clone();
    let mut device = Device::new(&server);

    // The user registers a passkey from the account page.
    let owner = Browser::new(&base);
    let login = format!("{base}/{}/login", t.id);
    let (_, _, page) = owner.get(&login).await;
    let csrf = hidden(&page, "csrf").unwrap();
    let (s, _, _) = owner
        .post_form(
            &login,
            &[("email", &t.email), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303);
    let (_, _, account) = owner.get(&format!("{base}/{}/account", t.id)).await;
    let csrf = data_attr(&account, "csrf").unwrap();
    let url = |p: &str| format!("{base}/{}/passkeys/{p}", t.id);
    let (s, started, _) = post_json(&owner, &url("register/start"), &csrf, b"{}".to_vec()).await;
    assert_eq!(s, 200, "{started}");
    let started: Value = serde_json::from_str(&started).unwrap();
    let credential = device.register(&started["options"]);
    let finish = json!({"handle": started["handle"], "credential": credential, "label": "Key"});
    let (s, done, _) = post_json(
        &owner,
        &url("register/finish"),
        &csrf,
        finish.to_string().into_bytes(),
    )
    .await;
    assert_eq!(s, 200, "{done}");
    genuine_sign_in(&base, &t, &mut device).await;

    // A browser that is not signed in tries every body.
    let b = Browser::new(&base);
    let (_, _, page) = b.get(&login).await;
    let csrf = data_attr(&page, "csrf").unwrap();
    let mut auth_data = sha256(b"localhost").to_vec();
    auth_data.extend_from_slice(&[0x05, 0, 0, 0, 0x64]);
    let auth_data = b64(&auth_data);
    let cred_id = device.credential_id.clone().unwrap();
    let user_handle = device.user_handle.clone().unwrap();
    // Answers that came from checking the assertion itself, not from reading the body.
    let checked = std::cell::Cell::new(0);
    let checked = &checked;
    Fuzz::new(env!("CARGO_MANIFEST_DIR"), "passkey_json")
        .dictionary([
            "$HANDLE",
            "$CHALLENGE",
            "$ORIGIN",
            "$CRED_ID",
            "$USER_HANDLE",
        ])
        .dictionary(["$AUTH_DATA", "\"clientDataJSON\"", "\"authenticatorData\""])
        .dictionary([
            "\"signature\"",
            "\"userHandle\"",
            "\"rawId\"",
            "\"public-key\"",
        ])
        .dictionary([
            "webauthn.get",
            "webauthn.create",
            "\"crossOrigin\"",
            "\"tx\"",
        ])
        .max_len(8192)
        .run_async(|input| {
            let (b, csrf, url, origin) = (&b, &csrf, &url, &origin);
            let (auth_data, cred_id, user_handle) = (&auth_data, &cred_id, &user_handle);
            async move {
                let (s, started, _) = post_json(b, &url("login/start"), csrf, b"{}".to_vec()).await;
                assert_eq!(s, 200, "{started}");
                let started: Value = serde_json::from_str(&started).unwrap();
                let text = String::from_utf8_lossy(&input)
                    .replace("$HANDLE", started["handle"].as_str().unwrap())
                    .replace(
                        "$CHALLENGE",
                        started["options"]["publicKey"]["challenge"]
                            .as_str()
                            .unwrap(),
                    )
                    .replace("$ORIGIN", origin)
                    .replace("$CRED_ID", cred_id)
                    .replace("$USER_HANDLE", user_handle)
                    .replace("$AUTH_DATA", auth_data);
                let body = match serde_json::from_str::<Value>(&text) {
                    Ok(mut v) => {
                        encode_client_data(&mut v);
                        v.to_string().into_bytes()
                    }
                    Err(_) => input.clone(),
                };
                let (s, answer, session) = post_json(b, &url("login/finish"), csrf, body).await;
                // No signature of the passkey is in any input: nothing signs in, nothing
                // breaks, and the answer says why in JSON.
                assert!(!session, "a session from a forged assertion: {answer}");
                assert!((400..500).contains(&s), "status {s}: {answer}");
                let v: Value =
                    serde_json::from_str(&answer).unwrap_or_else(|_| panic!("not JSON: {answer}"));
                assert!(
                    v["error"].is_string() && v["error_description"].is_string(),
                    "{v}"
                );
                if v["error_description"]
                    .as_str()
                    .is_some_and(|d| d.contains("could not be verified"))
                {
                    checked.set(checked.get() + 1);
                }
            }
        })
        .await;
    assert!(checked.get() > 0, "no body reached the assertion checks");

    // The passkey still works after all that.
    genuine_sign_in(&base, &t, &mut device).await;
}
