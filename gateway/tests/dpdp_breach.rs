//! Personal data breaches (DPDP Rule 7) through the admin API: every bad declaration with
//! its exact error; a small incident notified by real SMTP (to a server started here on
//! loopback), at the tenant's rate, with a second `notify` joining the first, a user
//! without a channel failing, the Hindi mail, the audit trail and both reports to the
//! Board; and 10,000 users notified by the real binary, killed with SIGKILL half-way and
//! restarted on the same data, each user getting one message and nobody else any.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tollgate_gateway::mail::{MailMode, SmtpTls};

/// A message the SMTP server accepted.
#[derive(Clone, Debug)]
struct Delivered {
    to: String,
    data: String,
}

impl Delivered {
    fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let prefix = format!("{}:", name.to_ascii_lowercase());
        head.split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    fn text(&self) -> String {
        mail_text(&self.data)
    }
}

/// A small but real SMTP server on loopback (RFC 5321 as lettre speaks it): it records
/// a message when the DATA terminator arrives and only then answers 250, as a real one
/// does. Sessions are not capped: a pooled connection carries thousands of messages.
#[derive(Clone)]
struct Sink {
    port: u16,
    got: Arc<Mutex<Vec<Delivered>>>,
}

impl Sink {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, g.clone()));
            }
        });
        Self { port, got }
    }

    fn all(&self) -> Vec<Delivered> {
        self.got.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}

fn path_arg(line: &str) -> String {
    let start = line.find('<').map(|i| i + 1).unwrap_or(0);
    let end = line.rfind('>').unwrap_or(line.len());
    line[start..end].to_owned()
}

async fn session(stream: TcpStream, got: Arc<Mutex<Vec<Delivered>>>) {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let _ = w.write_all(b"220 sink.test ESMTP ready\r\n").await;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line).await {
            Ok(n) if n > 0 => {}
            _ => return,
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test greets you\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n",
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                to.clear();
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" => {
                to.push(path_arg(&line));
                b"250 2.1.5 OK\r\n"
            }
            "DATA" => {
                let _ = w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    match r.read_line(&mut l).await {
                        Ok(n) if n > 0 => {}
                        // Cut off mid-message (the sender died): nothing delivered.
                        _ => return,
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                }
                let mut g = got.lock().unwrap();
                for rcpt in &to {
                    g.push(Delivered {
                        to: rcpt.clone(),
                        data: data.clone(),
                    });
                }
                b"250 2.0.0 queued\r\n"
            }
            "RSET" => {
                to.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                let _ = w.write_all(b"221 2.0.0 bye\r\n").await;
                return;
            }
            _ => b"502 5.5.2 not implemented\r\n",
        };
        if w.write_all(reply).await.is_err() {
            return;
        }
    }
}

async fn server(sink: &Sink) -> TestServer {
    let port = sink.port;
    TestServer::start_configured(false, |c| {
        c.mail.mode = MailMode::Smtp;
        c.mail.host = "127.0.0.1".into();
        c.mail.port = Some(port);
        c.mail.tls = SmtpTls::None;
        c.mail.from = "Tollgate Test <no-reply@tollgate.test>".into();
    })
    .await
}

/// Any admin request: the status and the JSON (or `Null`).
async fn call(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/admin/v1{path}", s.base);
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut r = reqwest::Client::new()
        .request(m, url)
        .bearer_auth(&s.admin_token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A declaration with every text, for `affected`.
fn declaration(start: u64, end: u64, affected: Value) -> Value {
    json!({
        "window_start": start,
        "window_end": end,
        "nature": "A copy of the user table was read through a leaked support-tool key.",
        "extent": "Names and email addresses; no passwords.",
        "consequences": "Phishing mails that look like ours.",
        "mitigation": "The key was revoked and the tool taken offline.",
        "user_actions": "Ignore mails asking for your password; we never ask.",
        "contact": "Grievance Officer, dpo@acme.example, +91 80 4000 0000",
        "location": "Support tool, ap-south-1",
        "cause": "A support engineer's key was committed to a public repository.",
        "affected": affected,
    })
}

/// Polls an incident's progress until its job is finished (15 s at most).
async fn finished(s: &TestServer, tenant: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, p) = call(
            s,
            "GET",
            &format!("/tenants/{tenant}/breaches/{id}/progress"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{p}");
        if p["job"] == "finished" && !p["running_here"].as_bool().unwrap() {
            return p;
        }
        assert!(Instant::now() < deadline, "the job never finished: {p}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_error(got: (u16, Value), status: u16, code: &str, description: &str) {
    let (s, v) = got;
    assert_eq!(s, status, "{v}");
    assert_eq!(v["error"], code, "{v}");
    assert_eq!(v["error_description"], description, "{v}");
}

#[actix_web::test]
async fn bad_declarations_and_requests_are_refused_with_their_reason() {
    let sink = Sink::start().await;
    let s = server(&sink).await;
    s.tenant("acme", false, true).await;
    s.tenant("other", false, true).await;
    let path = "/tenants/acme/breaches";
    let t = now();
    let users = json!({"kind": "all"});
    let bad = |v: Value| call(&s, "POST", path, Some(v));

    assert_error(
        bad(declaration(t - 10, t - 20, users.clone())).await,
        400,
        "invalid_request",
        "window_end is before window_start",
    );
    assert_error(
        bad(declaration(t - 10, t + 3600, users.clone())).await,
        400,
        "invalid_request",
        "window_end is in the future",
    );
    for (affected, why) in [
        (
            json!({"kind": "users", "ids": []}),
            "affected: the list of users is empty",
        ),
        (
            json!({"kind": "emails", "emails": []}),
            "affected: the list of emails is empty",
        ),
        (
            json!({"kind": "events", "kinds": []}),
            "affected: events needs at least one kind",
        ),
        (
            json!({"kind": "events", "kinds": ["login.", "lgoin.password"]}),
            "affected: unknown event kind \"lgoin.password\"",
        ),
        (
            json!({"kind": "users", "ids": ["not-a-user"]}),
            "affected: user 0 is not a user of this tenant",
        ),
        (
            json!({"kind": "emails", "emails": ["user@acme.example", "no at sign"]}),
            "affected: email 1 is not an email address",
        ),
    ] {
        assert_error(
            bad(declaration(t - 100, t - 10, affected)).await,
            400,
            "invalid_request",
            why,
        );
    }
    // An unknown kind of query is not JSON this API reads.
    let (status, v) = bad(declaration(t - 100, t - 10, json!({"kind": "everyone"}))).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"], "invalid_request");
    let d = v["error_description"].as_str().unwrap();
    assert!(
        d.starts_with("invalid JSON body") && d.contains("unknown variant `everyone`"),
        "{d}"
    );
    let mut blank = declaration(t - 100, t - 10, users.clone());
    blank["nature"] = json!("   ");
    assert_error(bad(blank).await, 400, "invalid_request", "nature: required");
    let mut control = declaration(t - 100, t - 10, users.clone());
    control["contact"] = json!("dpo\u{7}@acme.example");
    assert_error(
        bad(control).await,
        400,
        "invalid_request",
        "contact: contains control characters",
    );
    let mut long = declaration(t - 100, t - 10, users.clone());
    long["extent"] = json!("x".repeat(4_001));
    assert_error(
        bad(long).await,
        400,
        "invalid_request",
        "extent: longer than 4000 characters",
    );
    // Nothing was declared by any of these.
    let (status, list) = call(&s, "GET", path, None).await;
    assert_eq!((status, list.clone()), (200, json!([])), "{list}");

    // Unknown incidents, and another tenant's.
    let (status, i) = call(&s, "POST", path, Some(declaration(t - 100, t - 10, users))).await;
    assert_eq!(status, 201, "{i}");
    let id = i["id"].as_str().unwrap();
    let not_found = "incident not found";
    for p in [
        "/tenants/acme/breaches/br_nope".to_owned(),
        "/tenants/acme/breaches/br_nope/progress".into(),
        "/tenants/acme/breaches/br_nope/report?kind=intimation".into(),
        format!("/tenants/other/breaches/{id}"),
        format!("/tenants/other/breaches/{id}/progress"),
        format!("/tenants/other/breaches/{id}/report?kind=detailed"),
    ] {
        assert_error(call(&s, "GET", &p, None).await, 404, "not_found", not_found);
    }
    for p in [
        "/tenants/acme/breaches/br_nope/notify".to_owned(),
        format!("/tenants/other/breaches/{id}/notify"),
    ] {
        assert_error(
            call(&s, "POST", &p, None).await,
            404,
            "not_found",
            not_found,
        );
    }
    assert_error(
        call(&s, "GET", "/tenants/nosuch/breaches", None).await,
        404,
        "not_found",
        "tenant not found",
    );
    assert_error(
        call(&s, "GET", &format!("{path}/{id}/report?kind=final"), None).await,
        400,
        "invalid_request",
        "kind must be intimation or detailed",
    );
    assert_error(
        call(
            &s,
            "GET",
            &format!("{path}/{id}/report?kind=detailed&format=pdf"),
            None,
        )
        .await,
        400,
        "invalid_request",
        "format must be markdown or json",
    );
    // The rate.
    assert_error(
        call(
            &s,
            "PUT",
            "/tenants/acme/breach-settings",
            Some(json!({"notify_per_sec": 0})),
        )
        .await,
        400,
        "invalid_request",
        "notify_per_sec must be 1 to 10000",
    );
    let (status, v) = call(
        &s,
        "PUT",
        "/tenants/acme/breach-settings",
        Some(json!({"notify_per_sec": 20, "burst": 5})),
    )
    .await;
    assert_eq!(
        (status, v["error"].clone()),
        (400, json!("invalid_request")),
        "{v}"
    );
    let (status, v) = call(&s, "GET", "/tenants/acme/breach-settings", None).await;
    assert_eq!((status, v), (200, json!({"notify_per_sec": 50})));
    // Without the admin token.
    let r = reqwest::Client::new()
        .get(format!("{}/admin/v1{path}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The one declaration is the one event.
    let events = s.events("acme", "kind=breach.").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["kind"], "breach.declared");
    assert_eq!(sink.count(), 0, "nothing was sent");
}

#[actix_web::test]
async fn an_incident_is_notified_once_per_user_and_reported_to_the_board() {
    let sink = Sink::start().await;
    let s = server(&sink).await;
    let t = s.tenant("acme", false, true).await;
    let start = now() - 3600;
    // Ada (the tenant's user) signs in during the window; the other two do not.
    let b = s.browser();
    let (_, _) = code_for(&b, &t, "openid").await;
    let mut ids = BTreeMap::new();
    for (email, verified) in [("bob@acme.example", true), ("cy@acme.example", false)] {
        let u = s
            .admin(
                "/tenants/acme/users",
                json!({"email": email, "password": PASSWORD, "email_verified": verified}),
            )
            .await;
        ids.insert(email, u["id"].as_str().unwrap().to_owned());
    }
    let events = s.events("acme", "kind=login.").await;
    let ada = events[0]["subject"]
        .as_str()
        .or(events[0]["actor"].as_str())
        .unwrap()
        .to_owned();
    let end = now();

    // Who signed in during the window: Ada alone.
    let (status, i) = call(
        &s,
        "POST",
        "/tenants/acme/breaches",
        Some(declaration(start, end, json!({"kind": "signed_in"}))),
    )
    .await;
    assert_eq!(status, 201, "{i}");
    assert_eq!(i["affected"], 1, "{i}");
    assert_eq!(i["query"], "users who signed in during the window");
    let (status, by_events) = call(
        &s,
        "POST",
        "/tenants/acme/breaches",
        Some(declaration(
            start,
            end,
            json!({"kind": "events", "kinds": ["login.password"]}),
        )),
    )
    .await;
    assert_eq!(
        (status, by_events["affected"].clone()),
        (201, json!(1)),
        "{by_events}"
    );
    let (status, by_email) = call(
        &s,
        "POST",
        "/tenants/acme/breaches",
        Some(declaration(
            start,
            end,
            json!({"kind": "emails", "emails": ["BOB@acme.example", "nobody@acme.example"]}),
        )),
    )
    .await;
    assert_eq!(status, 201, "{by_email}");
    assert_eq!(by_email["affected"], 1);
    assert_eq!(by_email["query"], "emails (2 given, 1 not an account)");

    // The incident we notify: the three of them, at one a second.
    let (status, _) = call(
        &s,
        "PUT",
        "/tenants/acme/breach-settings",
        Some(json!({"notify_per_sec": 1})),
    )
    .await;
    assert_eq!(status, 200);
    let listed =
        json!({"kind": "users", "ids": [ada, ids["bob@acme.example"], ids["cy@acme.example"]]});
    let (status, i) = call(
        &s,
        "POST",
        "/tenants/acme/breaches",
        Some(declaration(start, end, listed)),
    )
    .await;
    assert_eq!(status, 201, "{i}");
    assert_eq!(i["affected"], 3);
    assert_eq!(i["job"], "not_started");
    let id = i["id"].as_str().unwrap().to_owned();
    let notify = format!("/tenants/acme/breaches/{id}/notify");
    let began = Instant::now();
    let (first, second) = tokio::join!(
        call(&s, "POST", &notify, None),
        call(&s, "POST", &notify, None)
    );
    assert_eq!((first.0, second.0), (202, 202), "{first:?} {second:?}");
    let mut outcomes = vec![
        first.1["outcome"].as_str().unwrap().to_owned(),
        second.1["outcome"].as_str().unwrap().to_owned(),
    ];
    outcomes.sort();
    assert_eq!(
        outcomes,
        ["joined", "started"],
        "one job; the second call joined it"
    );
    let p = finished(&s, "acme", &id).await;
    // Three claims at one a second: the third starts two seconds after the first.
    assert!(
        began.elapsed() >= Duration::from_millis(1_900),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(
        (
            p["total"].clone(),
            p["sent"].clone(),
            p["failed"].clone(),
            p["pending"].clone(),
            p["sending"].clone()
        ),
        (json!(3), json!(2), json!(1), json!(0), json!(0)),
        "{p}"
    );
    // Cy has no verified address and no phone: failed, and not tried again.
    let (status, again) = call(&s, "POST", &notify, None).await;
    assert_eq!(
        (status, again["outcome"].clone()),
        (202, json!("resumed")),
        "{again}"
    );
    let p = finished(&s, "acme", &id).await;
    assert_eq!(
        (p["sent"].clone(), p["failed"].clone()),
        (json!(2), json!(1)),
        "{p}"
    );

    let mails = sink.all();
    let to: BTreeSet<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(mails.len(), 2, "{to:?}");
    assert_eq!(
        to,
        BTreeSet::from(["bob@acme.example", "user@acme.example"])
    );
    for m in &mails {
        let mid = m.header("Message-ID").unwrap();
        assert!(
            mid.starts_with(&format!("<breach.{id}.")) && mid.ends_with("@tollgate.test>"),
            "{mid}"
        );
        assert_eq!(
            m.header("Subject").unwrap(),
            "Tenant acme: a personal data breach may affect your data"
        );
        let text = m.text();
        for part in [
            "What happened",
            "leaked support-tool key",
            "What you can do to protect yourself",
            "we never ask",
            "Who to contact with questions",
            "dpo@acme.example",
            "Support tool, ap-south-1",
        ] {
            assert!(text.contains(part), "{part:?} missing from {text}");
        }
    }
    assert_ne!(mails[0].header("Message-ID"), mails[1].header("Message-ID"));

    // The audit trail: every step, ids and counts only.
    let events = s
        .events_until("acme", "kind=breach.", |e| {
            e.iter().any(|x| x["kind"] == "breach.notify_finished")
                && e.iter()
                    .filter(|x| x["kind"] == "breach.notice_sent")
                    .count()
                    == 2
        })
        .await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    let n = |k: &str| kinds.iter().filter(|x| **x == k).count();
    assert_eq!(n("breach.declared"), 4, "{kinds:?}");
    assert_eq!(n("breach.notify_started"), 1, "{kinds:?}");
    assert_eq!(n("breach.notify_resumed"), 1, "{kinds:?}");
    assert_eq!(n("breach.notice_sent"), 2, "{kinds:?}");
    assert_eq!(n("breach.notice_failed"), 1, "{kinds:?}");
    assert_eq!(n("breach.notify_finished"), 2, "{kinds:?}");
    let all = Value::Array(events.clone()).to_string();
    assert!(
        !all.contains("@acme.example"),
        "no address in the trail: {all}"
    );

    // The reports to the Board.
    let r = reqwest::Client::new()
        .get(format!(
            "{}/admin/v1/tenants/acme/breaches/{id}/report?kind=intimation",
            s.base
        ))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("{id}-intimation.md"))
    );
    let md = r.text().await.unwrap();
    let declared = i["declared_at"].as_u64().unwrap();
    let due = tollgate_engine::admin::breach::stamp(declared + 72 * 3600);
    for part in [
        "# Intimation of a personal data breach (Rule 7(2)(a))".to_owned(),
        format!("- Detailed report due: {due}"),
        "## Location of occurrence\n\nSupport tool, ap-south-1".into(),
        "## Likely impact\n\nPhishing mails".into(),
        "- Affected: 3\n- Notified: 2".into(),
        "- Could not be notified: 1".into(),
    ] {
        assert!(md.contains(&part), "{part:?} missing from {md}");
    }
    assert!(
        !md.contains("Remedial measures"),
        "the detailed report's sections: {md}"
    );
    let (status, d) = call(
        &s,
        "GET",
        &format!("/tenants/acme/breaches/{id}/report?kind=detailed&format=json"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["kind"], "detailed");
    assert_eq!(d["detailed_report_due"], declared + 72 * 3600);
    assert_eq!(d["data_fiduciary"], "Tenant acme");
    assert_eq!(
        d["incident"]["cause"],
        "A support engineer's key was committed to a public repository."
    );
    assert_eq!(d["notifications"]["sent"], 2);
    let md = reqwest::Client::new()
        .get(format!(
            "{}/admin/v1/tenants/acme/breaches/{id}/report?kind=detailed",
            s.base
        ))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for part in [
        "## Events, circumstances and reasons\n\nA support engineer's key",
        "## Findings about the person who caused it\n\nNot yet established.",
        "## Remedial measures against recurrence\n\nNot yet established.",
    ] {
        assert!(md.contains(part), "{part:?} missing from {md}");
    }
    let events = s.events("acme", "kind=breach.report_generated").await;
    assert_eq!(events.len(), 3, "{events:?}");

    // A tenant whose mails are in Hindi: the notice is in Hindi, the admin's texts as given.
    let h = s.tenant("hindi", false, true).await;
    let (status, v) = call(
        &s,
        "PUT",
        "/tenants/hindi/branding/default-language",
        Some(json!({"default_language": "hi"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, i) = call(
        &s,
        "POST",
        "/tenants/hindi/breaches",
        Some(declaration(start, now(), json!({"kind": "all"}))),
    )
    .await;
    assert_eq!((status, i["affected"].clone()), (201, json!(1)), "{i}");
    let hid = i["id"].as_str().unwrap();
    let (status, _) = call(
        &s,
        "POST",
        &format!("/tenants/hindi/breaches/{hid}/notify"),
        None,
    )
    .await;
    assert_eq!(status, 202);
    finished(&s, "hindi", hid).await;
    let hindi: Vec<Delivered> = sink.all().into_iter().filter(|m| m.to == h.email).collect();
    assert_eq!(hindi.len(), 1);
    let text = hindi[0].text();
    assert!(text.contains("व्यक्तिगत डेटा के एक उल्लंघन"), "{text}");
    assert!(text.contains("अपनी सुरक्षा के लिए आप क्या कर सकते हैं"), "{text}");
    assert!(text.contains("we never ask"), "{text}");
}

/// An admin request to a server run as its own process.
async fn call_at(
    base: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut r = reqwest::Client::new()
        .request(m, format!("{base}/admin/v1{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The Done-when of issue 18: 10,000 users notified through a real SMTP server on
/// loopback by the real binary, which is killed (SIGKILL) half-way and restarted on the
/// same data directory; it resumes by itself, and every affected user ends with exactly
/// one message (one Message-ID; a message the server accepted just before the kill may
/// arrive twice, as the same message) and no one else with any.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_users_killed_half_way_each_get_one_message() {
    const AFFECTED: usize = 10_000;
    const BYSTANDERS: usize = 300;
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = sink.port.to_string();
    let env = [
        ("TOLLGATE_MAIL__MODE", "smtp"),
        ("TOLLGATE_MAIL__HOST", "127.0.0.1"),
        ("TOLLGATE_MAIL__PORT", port.as_str()),
        ("TOLLGATE_MAIL__TLS", "none"),
        ("TOLLGATE_MAIL__FROM", "Leak Ltd <no-reply@tollgate.test>"),
    ];
    let mut server = spawn_binary(dir.path(), &env);
    let token = std::fs::read_to_string(dir.path().join("admin.token"))
        .unwrap()
        .trim()
        .to_owned();
    let base = server.base.clone();
    let (status, v) = call_at(
        &base,
        &token,
        "POST",
        "/tenants",
        Some(json!({"id": "leak"})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    // Seeded through the import API (a hash is only parsed there, never computed).
    let hash =
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    let affected: Vec<String> = (0..AFFECTED)
        .map(|i| format!("u{i}@leak.example"))
        .collect();
    let bystanders: Vec<String> = (0..BYSTANDERS)
        .map(|i| format!("b{i}@leak.example"))
        .collect();
    for list in [&affected, &bystanders] {
        let users: Vec<Value> = list
            .iter()
            .map(|e| json!({"email": e, "password_hash": hash, "email_verified": true}))
            .collect();
        let (status, r) = call_at(
            &base,
            &token,
            "POST",
            "/tenants/leak/users/import",
            Some(json!({ "users": users })),
        )
        .await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["created"], list.len(), "{r}");
    }
    let (status, _) = call_at(
        &base,
        &token,
        "PUT",
        "/tenants/leak/breach-settings",
        Some(json!({"notify_per_sec": 10_000})),
    )
    .await;
    assert_eq!(status, 200);
    let t = now();
    let (status, i) = call_at(
        &base,
        &token,
        "POST",
        "/tenants/leak/breaches",
        Some(declaration(
            t - 7200,
            t - 60,
            json!({"kind": "emails", "emails": affected}),
        )),
    )
    .await;
    assert_eq!(status, 201, "{i}");
    assert_eq!(i["affected"], AFFECTED);
    let id = i["id"].as_str().unwrap().to_owned();
    let progress = format!("/tenants/leak/breaches/{id}/progress");
    let (status, v) = call_at(
        &base,
        &token,
        "POST",
        &format!("/tenants/leak/breaches/{id}/notify"),
        None,
    )
    .await;
    assert_eq!(
        (status, v["outcome"].clone()),
        (202, json!("started")),
        "{v}"
    );

    // Half-way (as the store says), SIGKILL.
    let deadline = Instant::now() + Duration::from_secs(30);
    let sent_before = loop {
        let (_, p) = call_at(&base, &token, "GET", &progress, None).await;
        let sent = p["sent"].as_u64().unwrap();
        if sent >= 3_000 {
            break sent;
        }
        assert!(Instant::now() < deadline, "the job made no progress: {p}");
        // Each look counts every notice: not too often.
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    drop(server);
    let at_kill = sink.count();
    assert!(
        at_kill < AFFECTED,
        "killed half-way, not at the end: {at_kill}"
    );

    // The same data directory: the job resumes by itself.
    let restarted = Instant::now();
    let server = spawn_binary(dir.path(), &env);
    let base = server.base.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    let p = loop {
        let (status, p) = call_at(&base, &token, "GET", &progress, None).await;
        assert_eq!(status, 200, "{p}");
        if p["job"] == "finished" && !p["running_here"].as_bool().unwrap() {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "the resumed job never finished: {p}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let resumed_for = restarted.elapsed();
    assert_eq!(
        (
            p["total"].clone(),
            p["sent"].clone(),
            p["failed"].clone(),
            p["pending"].clone(),
            p["sending"].clone()
        ),
        (
            json!(AFFECTED),
            json!(AFFECTED),
            json!(0),
            json!(0),
            json!(0)
        ),
        "{p}"
    );

    // Exactly one message per affected user, and none for anyone else.
    let mails = sink.all();
    let mut by_user: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &mails {
        let mid = m.header("Message-ID").expect("a Message-ID");
        by_user.entry(m.to.clone()).or_default().insert(mid);
    }
    let wanted: BTreeSet<String> = affected.iter().cloned().collect();
    let got: BTreeSet<String> = by_user.keys().cloned().collect();
    assert_eq!(got.len(), AFFECTED, "every affected user got a message");
    assert_eq!(got, wanted, "nobody else got one");
    let twice: Vec<(&String, &BTreeSet<String>)> =
        by_user.iter().filter(|(_, ids)| ids.len() != 1).collect();
    assert!(
        twice.is_empty(),
        "a user got two different messages: {twice:?}"
    );
    // A message accepted just before the kill but not yet recorded is sent again as the
    // same message: at most the sends in flight at the kill.
    let again = mails.len() - AFFECTED;
    assert!(again <= 16, "{again} messages delivered a second time");
    let resent = (AFFECTED as u64 - sent_before) as f64;
    eprintln!(
        "breach job: {sent_before} sent before SIGKILL, {again} same-message redeliveries; \
         the restarted binary sent the other {resent} in {resumed_for:?} \
         ({:.0} notifications/s, start-up included)",
        resent / resumed_for.as_secs_f64()
    );
    for kind in ["breach.notify_resumed", "breach.notify_finished"] {
        let (status, v) = call_at(
            &base,
            &token,
            "GET",
            &format!("/tenants/leak/events?limit=5&kind={kind}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v.as_array().map(Vec::len), Some(1), "one {kind}: {v}");
    }
}

/// `tollgate admin breach …` drives the same API: a bad window refused with its reason, a
/// declaration from a file of emails, notify, progress until finished, both reports.
#[actix_web::test]
async fn the_cli_declares_notifies_and_reports() {
    let sink = Sink::start().await;
    let s = server(&sink).await;
    let t = s.tenant("clib", false, true).await;
    let (base, token) = (s.base.clone(), s.admin_token.clone());
    let cli = move |extra: Vec<String>| {
        let (base, token) = (base.clone(), token.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let mut args = vec![
                    "admin".to_owned(),
                    "--url".into(),
                    base,
                    "--token".into(),
                    token,
                ];
                args.extend(extra);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                tollgate(&args, &[])
            })
            .await
            .unwrap()
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("emails.txt");
    std::fs::write(&list, format!("{}\n\nnobody@clib.example\n", t.email)).unwrap();
    let n = now();
    let declare = |start: u64, end: u64| {
        let mut w: Vec<String> = [
            "breach", "declare", "clib", "--nature", "N", "--extent", "E",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for (k, v) in [
            ("--consequences", "C"),
            ("--mitigation", "M"),
            ("--user-actions", "Change your password."),
            ("--contact", "dpo@clib.example"),
        ] {
            w.push(k.into());
            w.push(v.into());
        }
        w.extend([
            "--start".into(),
            start.to_string(),
            "--end".into(),
            end.to_string(),
            "--affected".into(),
            format!("emails:{}", list.display()),
        ]);
        w
    };
    let (ok, _, err) = cli(declare(n - 10, n - 100)).await;
    assert!(
        !ok && err.contains("window_end is before window_start"),
        "{err}"
    );
    let (ok, out, err) = cli(declare(n - 100, n - 10)).await;
    assert!(ok, "{err}");
    let i: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(i["affected"], 1, "{i}");
    assert_eq!(i["query"], "emails (2 given, 1 not an account)");
    let id = i["id"].as_str().unwrap().to_owned();
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (ok, out, err) = cli(words(&["breach", "notify", "clib", &id])).await;
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["outcome"],
        "started"
    );
    finished(&s, "clib", &id).await;
    let (ok, out, err) = cli(words(&["breach", "progress", "clib", &id])).await;
    assert!(ok, "{err}");
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (p["sent"].clone(), p["job"].clone()),
        (json!(1), json!("finished")),
        "{p}"
    );
    let (ok, out, err) = cli(words(&[
        "breach", "report", "clib", &id, "--kind", "detailed",
    ]))
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("# Detailed report of a personal data breach (Rule 7(2)(b))"),
        "{out}"
    );
    let (ok, _, err) = cli(words(&["breach", "report", "clib", "br_nope"])).await;
    assert!(!ok && err.contains("incident not found"), "{err}");
    let (ok, out, err) = cli(words(&["breach", "list", "clib"])).await;
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()[0]["id"],
        id.as_str()
    );
    let (ok, _, err) = cli(words(&["breach", "rate", "clib", "0"])).await;
    assert!(
        !ok && err.contains("notify_per_sec must be 1 to 10000"),
        "{err}"
    );
    assert_eq!(sink.all().len(), 1);
}
