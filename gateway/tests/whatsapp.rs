//! WhatsApp authentication templates through a tenant's own Cloud API number, end to
//! end: a receiver standing in for Meta's Graph API on loopback checks each request
//! (path, bearer token, the template body); status webhooks are signed here with the
//! tenant's app secret; a failed message is resent by SMS (seen in the development
//! outbox); DLT templates are matched before an SMS reaches the provider; the admin API
//! never shows a secret and explains what it refuses.

mod common;
mod otp_support;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use common::*;
use otp_support::Provider;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tollgate_engine::runtime::sends::{Limit, SendLimits};
use tollgate_gateway::sms::{BodyFormat, HttpChannel, SmsMode};

const WAIT: Duration = Duration::from_secs(15);
/// The phone number id the receiver refuses every message for (as Meta does for a
/// recipient outside a test number's allowed list).
const REFUSING_NUMBER_ID: &str = "999000111";

/// One request the Graph API stand-in received.
#[derive(Debug, Clone)]
struct GraphRequest {
    path: String,
    headers: HashMap<String, String>,
    body: Value,
    /// The `wamid` it answered with, if it accepted the message.
    wamid: Option<String>,
}

struct Graph {
    base: String,
    rx: mpsc::UnboundedReceiver<GraphRequest>,
}

struct GraphState {
    tx: mpsc::UnboundedSender<GraphRequest>,
    sent: AtomicUsize,
}

async fn graph_messages(
    req: HttpRequest,
    body: web::Bytes,
    st: web::Data<GraphState>,
) -> HttpResponse {
    let refuse = req.path().contains(REFUSING_NUMBER_ID);
    let wamid =
        (!refuse).then(|| format!("wamid.HBgM{}", st.sent.fetch_add(1, Ordering::SeqCst) + 1));
    let _ = st.tx.send(GraphRequest {
        path: req.path().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        wamid: wamid.clone(),
    });
    match wamid {
        // Meta's answer to a send (Cloud API reference, "Send messages").
        Some(id) => HttpResponse::Ok().json(json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": "919876543210", "wa_id": "919876543210"}],
            "messages": [{"id": id}]
        })),
        None => HttpResponse::BadRequest().json(json!({
            "error": {"message": "(#131030) Recipient phone number not in allowed list",
                      "type": "OAuthException", "code": 131030}
        })),
    }
}

impl Graph {
    async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let st = web::Data::new(GraphState {
            tx,
            sent: AtomicUsize::new(0),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(st.clone())
                .route("/{version}/{id}/messages", web::post().to(graph_messages))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        tokio::spawn(server.run());
        Self {
            base: format!("http://{addr}"),
            rx,
        }
    }

    async fn next(&mut self) -> GraphRequest {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("a Cloud API request within the time limit")
            .expect("the receiver is running")
    }
}

/// A server writing SMS to its outbox, with room for many sends to one number.
async fn server(adjust: impl FnOnce(&mut tollgate_gateway::config::Config)) -> TestServer {
    TestServer::start_configured(false, |c| {
        c.otp.default_region = Some("IN".into());
        c.otp.phone_limits = SendLimits {
            recipient: Limit {
                max: 100,
                window_secs: 3600,
            },
            ..SendLimits::phone()
        };
        adjust(c);
    })
    .await
}

async fn put_messaging(srv: &TestServer, tenant: &str, body: Value) -> (u16, Value) {
    let r = srv
        .http
        .put(format!("{}/admin/v1/tenants/{tenant}/messaging", srv.base))
        .bearer_auth(&srv.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

const ACCESS_TOKEN: &str = "EAAJB-test-access-token-7f3a";
const APP_SECRET: &str = "app-secret-5c1d9e";
const VERIFY_TOKEN: &str = "verify-token-b2e8";

fn whatsapp_settings(graph: &str, number_id: &str, button: Value) -> Value {
    json!({"whatsapp": {
        "phone_number_id": number_id,
        "template": "otp_login",
        "language": "en_US",
        "button": button,
        "graph_url": graph,
        "api_version": "v21.0",
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN
    }})
}

/// A signed-in browser on the tenant's account pages.
async fn signed_in(srv: &TestServer, t: &TestTenant) -> Browser {
    let b = srv.browser();
    let (_, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(t, "openid", &challenge, &[]),
            &t.email,
            PASSWORD,
        )
        .await;
    assert!(back.starts_with(&t.redirect_uri), "{back}");
    b
}

/// Asks for a code to add `number` by `channel`; answers the page's handle and CSRF.
async fn ask_code(b: &Browser, t: &TestTenant, number: &str, channel: &str) -> (String, String) {
    let csrf = fresh_csrf(b, &format!("{}/account/phone", t.issuer)).await;
    let (s, _, page) = b
        .post_form(
            &format!("{}/account/phone", t.issuer),
            &[("phone", number), ("channel", channel), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 200, "{page}");
    (hidden(&page, "handle").expect("a handle"), csrf)
}

async fn confirm(b: &Browser, t: &TestTenant, handle: &str, csrf: &str, code: &str) -> u16 {
    let (s, _, _) = b
        .post_form(
            &format!("{}/account/phone/confirm", t.issuer),
            &[("handle", handle), ("code", code), ("csrf", csrf)],
        )
        .await;
    s
}

fn sign(body: &[u8], secret: &str) -> String {
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&k, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn status_body(wamid: &str, status: &str) -> Vec<u8> {
    let mut s = json!({"id": wamid, "status": status, "timestamp": "1765100000", "recipient_id": "919876543210"});
    if status == "failed" {
        s["errors"] = json!([{"code": 131026, "title": "Message undeliverable"}]);
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [s]
        }}]}]
    })
    .to_string()
    .into_bytes()
}

async fn webhook(
    srv: &TestServer,
    tenant: &str,
    body: &[u8],
    signature: Option<&str>,
) -> (u16, Value) {
    let mut r = srv
        .http
        .post(format!("{}/{tenant}/webhooks/whatsapp", srv.base))
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        r = r.header("X-Hub-Signature-256", s);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The SMS texts in the outbox to `to`, oldest first.
fn outbox_sms(srv: &TestServer, to: &str) -> Vec<Value> {
    let mut found: Vec<(String, Value)> = std::fs::read_dir(srv.dir.path().join("outbox"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: Value = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
            (v["to"] == to && v["channel"] == "sms")
                .then(|| (e.file_name().to_string_lossy().into_owned(), v))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, v)| v).collect()
}

/// Waits (bounded) until the outbox holds `n` SMS to `to`; answers the newest.
async fn nth_outbox_sms(srv: &TestServer, to: &str, n: usize) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let all = outbox_sms(srv, to);
        if all.len() >= n {
            return all[n - 1].clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no SMS number {n} to {to} in the outbox: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (bounded) until the tenant has `n` `otp.sent` events: the courier has the
/// Cloud API's answer (and the message id) once the event is written.
async fn sends_done(srv: &TestServer, tenant: &str, n: usize) {
    srv.events_until(tenant, "", |e| {
        e.iter().filter(|e| e["kind"] == "otp.sent").count() >= n
    })
    .await;
}

fn check_template_request(req: &GraphRequest, number_id: &str, to_digits: &str) -> String {
    assert_eq!(req.path, format!("/v21.0/{number_id}/messages"));
    assert_eq!(
        req.headers["authorization"],
        format!("Bearer {ACCESS_TOKEN}")
    );
    assert!(req.headers["content-type"].starts_with("application/json"));
    let b = &req.body;
    let code = b["template"]["components"][0]["parameters"][0]["text"]
        .as_str()
        .expect("the code as the body parameter")
        .to_owned();
    assert_eq!(code.len(), 6);
    assert_eq!(
        *b,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to_digits,
            "type": "template",
            "template": {
                "name": "otp_login",
                "language": {"code": "en_US"},
                "components": [
                    {"type": "body", "parameters": [{"type": "text", "text": code}]},
                    {"type": "button", "sub_type": "url", "index": "0",
                     "parameters": [{"type": "text", "text": code}]}
                ]
            }
        })
    );
    code
}

#[actix_web::test]
async fn cloud_api_request_status_webhook_and_sms_fallback() {
    let mut graph = Graph::start().await;
    let srv = server(|_| {}).await;
    let t = srv.tenant("wa", false, true).await;
    let (s, v) = put_messaging(
        &srv,
        "wa",
        whatsapp_settings(&graph.base, "106540352242922", json!({"kind": "copy_code"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // The admin view: flags for the secrets, never a secret.
    let view = srv.admin_get("/tenants/wa/messaging").await;
    let text = view.to_string();
    for secret in [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN] {
        assert!(!text.contains(secret), "a secret in the admin view: {text}");
        assert!(
            !v.to_string().contains(secret),
            "a secret in the PUT answer: {v}"
        );
    }
    let wa = &view["whatsapp"];
    assert_eq!(
        (
            wa["access_token_set"].as_bool(),
            wa["app_secret_set"].as_bool(),
            wa["verify_token_set"].as_bool()
        ),
        (Some(true), Some(true), Some(true))
    );
    assert_eq!(wa["webhook_url"], format!("{}/webhooks/whatsapp", t.issuer));
    assert_eq!(wa["fallback_to_sms"], true);
    let reg = &wa["template_registration"];
    assert_eq!(reg["category"], "authentication");
    assert_eq!(reg["components"][0]["add_security_recommendation"], true);
    assert_eq!(reg["components"][1]["code_expiration_minutes"], 10);
    assert_eq!(reg["components"][2]["buttons"][0]["otp_type"], "copy_code");
    // Nor is it in the tenant record as the admin API lists it.
    let tenants = srv.admin_get("/tenants").await.to_string();
    for secret in [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN] {
        assert!(!tenants.contains(secret));
    }

    // The webhook subscription check.
    let sub = |token: &str, mode: &str| {
        format!(
            "{}/webhooks/whatsapp?hub.mode={mode}&hub.verify_token={token}&hub.challenge=1158201444",
            t.issuer
        )
    };
    let r = srv
        .http
        .get(sub(VERIFY_TOKEN, "subscribe"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = srv
        .http
        .get(sub("guess", "subscribe"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = srv
        .http
        .get(sub(VERIFY_TOKEN, "unsubscribe"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    // A code by WhatsApp: the Cloud API request as Meta documents it, and the code works.
    let b = signed_in(&srv, &t).await;
    let (handle, csrf) = ask_code(&b, &t, "098765 43210", "whatsapp").await;
    let req = graph.next().await;
    let code = check_template_request(&req, "106540352242922", "919876543210");
    let first = req.wamid.clone().unwrap();
    sends_done(&srv, "wa", 1).await;
    assert_eq!(confirm(&b, &t, &handle, &csrf, &code).await, 303);

    // Statuses: signed ones are matched to the message; unsigned or mis-signed ones are
    // refused and change nothing.
    let delivered = status_body(&first, "delivered");
    let before = metric(
        &srv.base,
        "tollgate_whatsapp_messages_total{status=\"delivered\"}",
    )
    .await;
    let (s, v) = webhook(&srv, "wa", &delivered, None).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_signature")),
        "{v}"
    );
    let (s, v) = webhook(
        &srv,
        "wa",
        &delivered,
        Some(&sign(&delivered, "another-secret")),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (401, Some("invalid_signature")),
        "{v}"
    );
    let mut tampered = delivered.clone();
    let n = tampered.len();
    tampered[n - 3] = b' ';
    let (s, _) = webhook(&srv, "wa", &tampered, Some(&sign(&delivered, APP_SECRET))).await;
    assert_eq!(s, 401);
    assert_eq!(
        metric(
            &srv.base,
            "tollgate_whatsapp_messages_total{status=\"delivered\"}"
        )
        .await,
        before,
        "a refused webhook was counted"
    );
    let (s, v) = webhook(&srv, "wa", &delivered, Some(&sign(&delivered, APP_SECRET))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v,
        json!({"statuses": 1, "matched": 1, "fell_back": 0, "unknown": []})
    );
    assert_eq!(
        metric(
            &srv.base,
            "tollgate_whatsapp_messages_total{status=\"delivered\"}"
        )
        .await,
        before + 1.0
    );

    // An id this server never sent is reported back, not acted on.
    let stray = status_body("wamid.NOT-OURS", "failed");
    let (s, v) = webhook(&srv, "wa", &stray, Some(&sign(&stray, APP_SECRET))).await;
    assert_eq!(s, 200);
    assert_eq!(v["unknown"], json!(["wamid.NOT-OURS"]));
    assert_eq!(v["fell_back"], 0);
    // A body that is not a WhatsApp webhook, signed: a clear error.
    let odd = br#"{"object":"page","entry":[]}"#;
    let (s, v) = webhook(&srv, "wa", odd, Some(&sign(odd, APP_SECRET))).await;
    assert_eq!(s, 400);
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("whatsapp_business_account"),
        "{v}"
    );

    // A message that fails: the same code comes by SMS, once, and the fallback is audited.
    let (handle, csrf) = ask_code(&b, &t, "+91 91234 56780", "whatsapp").await;
    let req = graph.next().await;
    let code = check_template_request(&req, "106540352242922", "919123456780");
    let failed_id = req.wamid.clone().unwrap();
    sends_done(&srv, "wa", 2).await;
    assert!(outbox_sms(&srv, "+919123456780").is_empty());
    let failed = status_body(&failed_id, "failed");
    let (s, v) = webhook(&srv, "wa", &failed, Some(&sign(&failed, APP_SECRET))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["fell_back"], 1, "{v}");
    let sms = nth_outbox_sms(&srv, "+919123456780", 1).await;
    assert!(sms["text"].as_str().unwrap().contains(&code), "{sms}");
    // Meta may repeat a status: no second SMS.
    let (_, v) = webhook(&srv, "wa", &failed, Some(&sign(&failed, APP_SECRET))).await;
    assert_eq!(v["fell_back"], 0, "{v}");
    assert_eq!(confirm(&b, &t, &handle, &csrf, &code).await, 303);
    let events = srv
        .events_until("wa", "", |e| {
            e.iter().any(|e| e["kind"] == "messaging.whatsapp.fallback")
                && e.iter().filter(|e| e["kind"] == "otp.sent").count() >= 3
        })
        .await;
    let fallbacks: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "messaging.whatsapp.fallback")
        .collect();
    assert_eq!(fallbacks.len(), 1, "{events:?}");
    assert_eq!(fallbacks[0]["detail"], "reason=failed error=131026");
    assert_eq!(
        metric(
            &srv.base,
            "tollgate_whatsapp_messages_total{status=\"fallback\"}"
        )
        .await,
        1.0
    );
    // No event carries a code or a whole number.
    for e in &events {
        let said = format!("{} {}", e["detail"], e["ip"]);
        assert!(!said.contains(&code) && !said.contains("9123456780"), "{e}");
    }
}

#[actix_web::test]
async fn a_refused_send_falls_back_at_once_and_one_tap_sends_the_same_request() {
    let mut graph = Graph::start().await;
    let srv = server(|_| {}).await;
    let t = srv.tenant("watap", false, true).await;
    let one_tap = json!({"kind": "one_tap", "package_name": "com.example.bazaar", "signature_hash": "K8a/AINcGX7"});
    let (s, v) = put_messaging(
        &srv,
        "watap",
        whatsapp_settings(&graph.base, "106540352242923", one_tap),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let reg = &v["whatsapp"]["template_registration"]["components"][2]["buttons"][0];
    assert_eq!(reg["otp_type"], "one_tap");
    assert_eq!(
        reg["supported_apps"][0]["package_name"],
        "com.example.bazaar"
    );
    assert_eq!(reg["supported_apps"][0]["signature_hash"], "K8a/AINcGX7");

    // One-tap templates are sent exactly like copy-code ones.
    let b = signed_in(&srv, &t).await;
    let _ = ask_code(&b, &t, "+919876500001", "whatsapp").await;
    let req = graph.next().await;
    check_template_request(&req, "106540352242923", "919876500001");

    // Meta refuses the message outright: the same code goes by SMS at once.
    let (s, v) = put_messaging(
        &srv,
        "watap",
        whatsapp_settings(
            &graph.base,
            REFUSING_NUMBER_ID,
            json!({"kind": "copy_code"}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (handle, csrf) = ask_code(&b, &t, "+919876500002", "whatsapp").await;
    let req = graph.next().await;
    assert!(req.wamid.is_none());
    let code = check_template_request(&req, REFUSING_NUMBER_ID, "919876500002");
    let sms = nth_outbox_sms(&srv, "+919876500002", 1).await;
    assert!(sms["text"].as_str().unwrap().contains(&code), "{sms}");
    assert_eq!(confirm(&b, &t, &handle, &csrf, &code).await, 303);
    let events = srv
        .events_until("watap", "", |e| {
            e.iter().any(|e| e["kind"] == "messaging.whatsapp.fallback")
        })
        .await;
    let fb = events
        .iter()
        .find(|e| e["kind"] == "messaging.whatsapp.fallback")
        .unwrap();
    assert_eq!(fb["detail"], "reason=send_error");

    // Without fallback, the failure stays a failure: nothing by SMS.
    let mut no_fallback = whatsapp_settings(
        &graph.base,
        REFUSING_NUMBER_ID,
        json!({"kind": "copy_code"}),
    );
    no_fallback["whatsapp"]["fallback_to_sms"] = json!(false);
    no_fallback["whatsapp"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.ends_with("token") && k != "app_secret");
    let (s, v) = put_messaging(&srv, "watap", no_fallback).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["whatsapp"]["access_token_set"], true,
        "secrets left out are kept: {v}"
    );
    let _ = ask_code(&b, &t, "+919876500003", "whatsapp").await;
    let req = graph.next().await;
    assert_eq!(
        req.headers["authorization"],
        format!("Bearer {ACCESS_TOKEN}")
    );
    srv.events_until("watap", "", |e| {
        e.iter().any(|e| e["kind"] == "otp.send_failed")
    })
    .await;
    assert!(outbox_sms(&srv, "+919876500003").is_empty());
}

const PE_ID: &str = "1201159100000000001";
const TEMPLATE_ID: &str = "1207161234567890123";

#[actix_web::test]
async fn dlt_templates_are_matched_before_an_sms_is_sent() {
    let mut provider = Provider::start().await;
    let base = provider.base.clone();
    let srv = server(move |c| {
        c.otp.delivery.concurrency = 1;
        c.sms.mode = SmsMode::Http;
        c.sms.sms = Some(HttpChannel {
            url: format!("{base}/sms/send"),
            method: "POST".into(),
            format: BodyFormat::Json,
            headers: Default::default(),
            body: json!({
                "to": "{{recipient_digits}}",
                "text": "{{message}}",
                "pe_id": "{{dlt_entity_id}}",
                "template_id": "{{dlt_template_id}}",
                "sender": "{{dlt_header}}"
            }),
            message: Some(
                "{{code}} is your OTP for {{tenant_name}}. Valid for {{minutes}} minutes. - TLGATE"
                    .into(),
            ),
        });
    })
    .await;
    let t = srv.tenant("dlt", false, true).await;
    let dlt = |template: &str| json!({"dlt": {"entity_id": PE_ID, "template_id": TEMPLATE_ID, "header": "TLGATE", "template": template}});
    let (s, v) = put_messaging(
        &srv,
        "dlt",
        dlt("{#var#} is your OTP for {#var#}. Valid for {#var#} minutes. - TLGATE"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["dlt"]["template_id"], TEMPLATE_ID);
    assert_eq!(v["whatsapp"], Value::Null);

    // A text that matches: sent, with the DLT fields filled in.
    let b = signed_in(&srv, &t).await;
    let (handle, csrf) = ask_code(&b, &t, "+919876511111", "sms").await;
    let req = provider.next().await;
    let body = req.json();
    assert_eq!(body["pe_id"], PE_ID);
    assert_eq!(body["template_id"], TEMPLATE_ID);
    assert_eq!(body["sender"], "TLGATE");
    let text = body["text"].as_str().unwrap();
    let code = &text[..6];
    assert_eq!(
        text,
        format!("{code} is your OTP for Tenant dlt. Valid for 10 minutes. - TLGATE")
    );
    assert_eq!(confirm(&b, &t, &handle, &csrf, code).await, 303);

    // The registered wording no longer fits the text: refused before the provider, with
    // an ops event that says why.
    let (s, v) = put_messaging(
        &srv,
        "dlt",
        dlt("Your {#var#} login code is {#var#}. - TLGATE"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let _ = ask_code(&b, &t, "+919876522222", "sms").await;
    let events = srv
        .events_until("dlt", "", |e| {
            e.iter().any(|e| e["kind"] == "messaging.dlt_mismatch")
        })
        .await;
    let ev = events
        .iter()
        .find(|e| e["kind"] == "messaging.dlt_mismatch")
        .unwrap();
    assert_eq!(
        (ev["result"].as_str(), ev["detail"].as_str()),
        (Some("failure"), Some("dlt_mismatch"))
    );
    assert!(events.iter().any(|e| e["kind"] == "otp.send_failed"));
    // Nothing reached the provider: with one send at a time, the next request it sees
    // is the next send asked for (after the wording is fixed again).
    let (s, _) = put_messaging(
        &srv,
        "dlt",
        dlt("{#var#} is your OTP for {#var#}. Valid for {#var#} minutes. - TLGATE"),
    )
    .await;
    assert_eq!(s, 200);
    let _ = ask_code(&b, &t, "+919876533333", "sms").await;
    let req = provider.next().await;
    assert_eq!(
        req.json()["to"],
        "919876533333",
        "the refused SMS reached the provider"
    );

    // Removed: texts go out unchecked and the placeholders are empty.
    let (s, v) = put_messaging(&srv, "dlt", json!({"dlt": null})).await;
    assert_eq!((s, &v["dlt"]), (200, &Value::Null));
    let _ = ask_code(&b, &t, "+919876544444", "sms").await;
    let req = provider.next().await;
    assert_eq!(req.json()["pe_id"], "");
}

#[actix_web::test]
async fn the_admin_api_explains_what_it_refuses() {
    let srv = server(|_| {}).await;
    srv.tenant("waadm", false, true).await;
    let good = whatsapp_settings(
        "https://graph.facebook.com",
        "106540352242922",
        json!({"kind": "copy_code"}),
    );
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut v = good.clone();
                v["whatsapp"]["graph_url"] = json!("http://graph.example.com");
                v
            },
            "graph_url",
        ),
        (
            {
                let mut v = good.clone();
                v["whatsapp"]["graph_url"] = json!("javascript:alert(1)");
                v
            },
            "graph_url",
        ),
        (
            {
                let mut v = good.clone();
                v["whatsapp"]["phone_number_id"] = json!("+1 555 0100");
                v
            },
            "phone_number_id",
        ),
        (
            {
                let mut v = good.clone();
                v["whatsapp"]["template"] = json!("OTP Login!");
                v
            },
            "template",
        ),
        (
            {
                let mut v = good.clone();
                v["whatsapp"]["language"] = json!("English");
                v
            },
            "language",
        ),
        (
            {
                let mut v = good.clone();
                v["whatsapp"]["api_version"] = json!("latest");
                v
            },
            "api_version",
        ),
        (
            {
                let mut v = good.clone();
                v["whatsapp"]["button"] = json!({"kind": "one_tap", "package_name": "bazaar", "signature_hash": "K8a/AINcGX7"});
                v
            },
            "package_name",
        ),
        (
            {
                let mut v = good.clone();
                v["whatsapp"]
                    .as_object_mut()
                    .unwrap()
                    .remove("access_token");
                v
            },
            "access_token",
        ),
        (
            json!({"dlt": {"entity_id": "PE12", "template_id": TEMPLATE_ID, "header": "TLGATE", "template": "{#var#}"}}),
            "entity_id",
        ),
        (
            json!({"dlt": {"entity_id": PE_ID, "template_id": "T-1", "header": "TLGATE", "template": "{#var#}"}}),
            "template_id",
        ),
        (
            json!({"dlt": {"entity_id": PE_ID, "template_id": TEMPLATE_ID, "header": "TOOLONGHEADER", "template": "{#var#}"}}),
            "header",
        ),
        (
            json!({"dlt": {"entity_id": PE_ID, "template_id": TEMPLATE_ID, "header": "TLGATE", "template": " "}}),
            "template",
        ),
    ];
    for (body, names) in cases {
        let (s, v) = put_messaging(&srv, "waadm", body.clone()).await;
        assert_eq!(s, 400, "{body} -> {v}");
        assert_eq!(v["error"], "invalid_request", "{v}");
        let d = v["error_description"].as_str().unwrap();
        assert!(d.contains(names), "{body}: {d}");
        assert!(!d.contains(ACCESS_TOKEN));
    }
    // Nothing was stored by any of them.
    assert_eq!(
        srv.admin_get("/tenants/waadm/messaging").await,
        json!({"whatsapp": null, "dlt": null})
    );

    // Without an app secret, no webhook is accepted, however it is signed.
    let mut no_secret = good.clone();
    no_secret["whatsapp"]
        .as_object_mut()
        .unwrap()
        .remove("app_secret");
    let (s, v) = put_messaging(&srv, "waadm", no_secret).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["whatsapp"]["app_secret_set"], false);
    let body = status_body("wamid.X", "delivered");
    let (s, _) = webhook(&srv, "waadm", &body, Some(&sign(&body, ""))).await;
    assert_eq!(s, 401);
    // A tenant without WhatsApp has no webhook.
    srv.tenant("plain", false, true).await;
    let (s, v) = webhook(&srv, "plain", &body, Some(&sign(&body, APP_SECRET))).await;
    assert_eq!(s, 404, "{v}");

    // The CLI shares the API's shapes: it shows the settings and never a secret.
    let token = srv.admin_token.clone();
    let secrets = tempfile::tempdir().unwrap();
    let token_file = secrets.path().join("wa.token");
    std::fs::write(&token_file, "EAAJB-from-a-file\n").unwrap();
    let (ok, out, err) = tollgate(
        &[
            "admin",
            "--url",
            &srv.base,
            "--token",
            &token,
            "messaging",
            "whatsapp",
            "waadm",
            "--phone-number-id",
            "106540352242999",
            "--template",
            "otp_login",
            "--language",
            "hi",
            "--access-token-file",
            token_file.to_str().unwrap(),
        ],
        &[],
    );
    assert!(ok, "{out}{err}");
    assert!(!out.contains("EAAJB-from-a-file"), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["whatsapp"]["phone_number_id"], "106540352242999");
    assert_eq!(v["whatsapp"]["language"], "hi");
    assert_eq!(v["whatsapp"]["access_token_set"], true);
    let (ok, _, err) = tollgate(
        &[
            "admin",
            "--url",
            &srv.base,
            "--token",
            &token,
            "messaging",
            "dlt",
            "waadm",
            "--entity-id",
            PE_ID,
            "--template-id",
            "T-1",
            "--header",
            "TLGATE",
            "--template",
            "{#var#} is your OTP",
        ],
        &[],
    );
    assert!(!ok);
    assert!(err.contains("dlt.template_id"), "{err}");
    let (ok, out, err) = tollgate(
        &[
            "admin",
            "--url",
            &srv.base,
            "--token",
            &token,
            "messaging",
            "remove",
            "waadm",
            "whatsapp",
        ],
        &[],
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["whatsapp"], Value::Null);
}

#[actix_web::test]
async fn the_deployments_own_number_serves_tenants_without_one() {
    use tollgate_gateway::sms::{CloudConfig, SecretSource};
    let mut graph = Graph::start().await;
    let secrets = tempfile::tempdir().unwrap();
    let file = |name: &str, value: &str| {
        let p = secrets.path().join(name);
        std::fs::write(&p, format!("{value}\n")).unwrap();
        SecretSource {
            file: Some(p),
            env: None,
        }
    };
    let cloud = CloudConfig {
        phone_number_id: "106540352240000".into(),
        template: "otp_login".into(),
        language: "en_US".into(),
        button: Default::default(),
        graph_url: Some(graph.base.clone()),
        api_version: Some("v21.0".into()),
        fallback_to_sms: true,
        access_token: file("token", ACCESS_TOKEN),
        app_secret: Some(file("secret", "deployment-app-secret")),
        verify_token: Some(file("verify", "deployment-verify")),
    };
    let srv = server(move |c| c.sms.whatsapp_cloud = Some(cloud)).await;
    let t = srv.tenant("plainwa", false, true).await;
    assert_eq!(
        srv.admin_get("/tenants/plainwa/messaging").await,
        json!({"whatsapp": null, "dlt": null})
    );

    let r = srv
        .http
        .get(format!(
            "{}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=deployment-verify&hub.challenge=42",
            srv.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "42");

    let b = signed_in(&srv, &t).await;
    let (handle, csrf) = ask_code(&b, &t, "+919876566666", "whatsapp").await;
    let req = graph.next().await;
    let code = check_template_request(&req, "106540352240000", "919876566666");
    sends_done(&srv, "plainwa", 1).await;
    let failed = status_body(&req.wamid.unwrap(), "failed");
    let post = |sig: String| {
        srv.http
            .post(format!("{}/webhooks/whatsapp", srv.base))
            .header("X-Hub-Signature-256", sig)
            .body(failed.clone())
            .send()
    };
    // Signed with a tenant's kind of secret, not the deployment's: refused.
    let r = post(sign(&failed, APP_SECRET)).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = post(sign(&failed, "deployment-app-secret")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["fell_back"], 1, "{v}");
    let sms = nth_outbox_sms(&srv, "+919876566666", 1).await;
    assert!(sms["text"].as_str().unwrap().contains(&code), "{sms}");
    assert_eq!(confirm(&b, &t, &handle, &csrf, &code).await, 303);
    let events = srv
        .events_until("plainwa", "", |e| {
            e.iter().any(|e| e["kind"] == "messaging.whatsapp.fallback")
        })
        .await;
    let fb = events
        .iter()
        .find(|e| e["kind"] == "messaging.whatsapp.fallback")
        .unwrap();
    assert_eq!(fb["detail"], "reason=failed error=131026");
    assert_eq!(fb["actor"], "system");
}
