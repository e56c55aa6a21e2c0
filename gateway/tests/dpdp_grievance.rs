//! Grievances and contact (DPDP Rules 9 and 14): a tenant's Data Protection Officer or
//! contact person, set through the admin API and the CLI with every bad value refused by
//! name; shown in the footer of every hosted page in the page's language (escaped);
//! published at `{issuer}/.well-known/privacy-contact` and linked from discovery
//! (`privacy_contact_uri`); each change one `admin.privacy_contact` event that holds no
//! contact detail.
//!
//! Tickets: a signed-in user raises a grievance on the account page (CSRF, categories,
//! bounded text) and sees it with its reference, status and due date (the tenant's
//! response time, on a controlled clock); another user's ticket is a 404 like an unknown
//! one; admins list them (by status, overdue), answer and close them through the API and
//! the CLI; the user is mailed and reads the answer; a closed ticket takes nothing more;
//! every step is an event without the text; the text is in the export and gone with the
//! account.

mod common;

use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_engine::clock::{Clock, ManualClock, SystemClock};

async fn contact_call(
    s: &TestServer,
    method: &str,
    tenant: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}/admin/v1/tenants/{tenant}/privacy-contact", s.base);
    let req = match method {
        "PUT" => s.http.put(&url),
        "DELETE" => s.http.delete(&url),
        _ => s.http.get(&url),
    }
    .bearer_auth(&s.admin_token);
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A 400 `invalid_request` whose description contains `says`.
#[track_caller]
fn refused(answer: &(u16, Value), says: &str) {
    let (status, v) = answer;
    assert_eq!(*status, 400, "{v}");
    assert_eq!(v["error"], "invalid_request", "{v}");
    let d = v["error_description"].as_str().unwrap_or_default();
    assert!(d.contains(says), "{says:?} not in {d:?}");
}

async fn public_document(s: &TestServer, t: &TestTenant) -> (u16, Value) {
    let r = s
        .http
        .get(format!("{}/.well-known/privacy-contact", t.issuer))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn page(b: &Browser, url: &str) -> String {
    let (status, _, html) = b.get(url).await;
    assert_eq!(status, 200, "{html}");
    html
}

fn good_contact() -> Value {
    json!({
        "role": "data_protection_officer",
        "name": "Asha <b>Rao</b>",
        "email": " DPO@Example.IN ",
        "phone": "+91 98765-43210",
        "address": "1 MG Road\nBengaluru 560001",
        "url": "https://example.in/privacy",
        "response_days": 15,
    })
}

#[actix_web::test]
async fn contact_is_checked_published_and_shown_on_every_page() {
    let s = TestServer::start().await;
    let t = s.tenant("grvcontact", false, true).await;
    let b = s.browser();

    // Nothing published yet: the document and the admin API say so; no footer; discovery
    // links the document all the same.
    let (status, v) = contact_call(&s, "GET", &t.id, None).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (404, Some("not_found")),
        "{v}"
    );
    let (status, v) = public_document(&s, &t).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (404, Some("not_found")),
        "{v}"
    );
    assert_eq!(
        discovery(&t).await["privacy_contact_uri"],
        format!("{}/.well-known/privacy-contact", t.issuer)
    );
    let login = page(&b, &format!("{}/login", t.issuer)).await;
    assert!(!login.contains("privacy-contact"), "{login}");

    // Every bad value is refused by name, and nothing is stored.
    let with = |k: &str, v: Value| {
        let mut c = good_contact();
        c[k] = v;
        c
    };
    let bad = [
        (with("name", json!("  ")), "name:"),
        (with("name", json!("x".repeat(201))), "name:"),
        (with("email", json!("not-an-address")), "email:"),
        (with("phone", json!("98765")), "phone:"),
        (with("url", json!("http://example.in/privacy")), "url:"),
        (with("url", json!("javascript:alert(1)")), "url:"),
        (with("url", json!("not a url")), "url:"),
        (with("response_days", json!(0)), "response_days:"),
        (with("response_days", json!(91)), "response_days:"),
        (with("address", json!("a\u{7}b")), "address:"),
    ];
    for (body, says) in bad {
        refused(&contact_call(&s, "PUT", &t.id, Some(body)).await, says);
    }
    let (status, v) = contact_call(&s, "PUT", &t.id, Some(with("role", json!("ceo")))).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    let (status, v) = contact_call(&s, "PUT", &t.id, Some(with("fax", json!("1")))).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    assert_eq!(contact_call(&s, "GET", &t.id, None).await.0, 404);

    // A good one is stored normalised.
    let (status, stored) = contact_call(&s, "PUT", &t.id, Some(good_contact())).await;
    assert_eq!(status, 200, "{stored}");
    let expected = json!({
        "role": "data_protection_officer",
        "name": "Asha <b>Rao</b>",
        "email": "dpo@example.in",
        "phone": "+919876543210",
        "address": "1 MG Road\nBengaluru 560001",
        "url": "https://example.in/privacy",
        "response_days": 15,
    });
    assert_eq!(stored, expected);
    assert_eq!(contact_call(&s, "GET", &t.id, None).await, (200, expected));

    // The public document.
    let (status, doc) = public_document(&s, &t).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc,
        json!({
            "issuer": t.issuer,
            "organisation": "Tenant grvcontact",
            "role": "data_protection_officer",
            "name": "Asha <b>Rao</b>",
            "email": "dpo@example.in",
            "phone": "+919876543210",
            "address": "1 MG Road\nBengaluru 560001",
            "url": "https://example.in/privacy",
            "grievance_response_days": 15,
            "grievance_uri": format!("{}/account/grievances", t.issuer),
        })
    );

    // The footer, escaped, in English and in Hindi, on the sign-in page and on an error
    // page alike.
    let login = page(&b, &format!("{}/login", t.issuer)).await;
    assert!(
        login.contains("<footer class=\"privacy-contact\">"),
        "{login}"
    );
    assert!(
        login.contains("Data Protection Officer: Asha &lt;b&gt;Rao&lt;/b&gt;"),
        "{login}"
    );
    assert!(!login.contains("<b>Rao"), "{login}");
    assert!(
        login.contains("<a href=\"mailto:dpo@example.in\">dpo@example.in</a>"),
        "{login}"
    );
    assert!(login.contains("<a href=\"tel:+919876543210\">"), "{login}");
    assert!(
        login.contains("Grievances are answered within 15 days."),
        "{login}"
    );
    assert!(
        login.contains("<a href=\"https://example.in/privacy\">Privacy and grievances</a>"),
        "{login}"
    );
    let hindi = page(&b, &format!("{}/login?lang=hi", t.issuer)).await;
    assert!(hindi.contains("<html lang=\"hi\""), "{hindi}");
    assert!(
        hindi.contains("डेटा संरक्षण अधिकारी: Asha &lt;b&gt;Rao&lt;/b&gt;"),
        "{hindi}"
    );
    assert!(
        hindi.contains("शिकायतों का उत्तर 15 दिनों के भीतर दिया जाता है।"),
        "{hindi}"
    );
    let (status, _, error_page) = b
        .get(&format!("{}/password/reset?token=nope", t.issuer))
        .await;
    assert!(status >= 400, "{status} {error_page}");
    assert!(
        error_page.contains("<footer class=\"privacy-contact\">"),
        "{error_page}"
    );

    // A contact person (not a DPO) is worded as one, without the optional parts.
    let (status, v) = contact_call(
        &s,
        "PUT",
        &t.id,
        Some(json!({"name": "Grievance Desk", "email": "help@example.in"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["role"].as_str(), v["response_days"].as_u64()),
        (Some("contact_person"), Some(30))
    );
    let login = page(&b, &format!("{}/login?lang=en", t.issuer)).await;
    assert!(
        login.contains("Questions about your personal data: Grievance Desk"),
        "{login}"
    );
    assert!(
        !login.contains("tel:") && !login.contains("example.in/privacy"),
        "{login}"
    );

    // Removing it: gone from the document, the pages and the admin API.
    let (status, _) = contact_call(&s, "DELETE", &t.id, None).await;
    assert_eq!(status, 204);
    assert_eq!(public_document(&s, &t).await.0, 404);
    assert_eq!(contact_call(&s, "DELETE", &t.id, None).await.0, 404);
    let login = page(&b, &format!("{}/login?lang=en", t.issuer)).await;
    assert!(!login.contains("privacy-contact"), "{login}");

    // One event per change, naming what changed and none of the values.
    let events = s.events(&t.id, "kind=admin.privacy_contact").await;
    let details: Vec<&str> = events
        .iter()
        .map(|e| e["detail"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        details,
        [
            "removed",
            "changed role,name,email,phone,address,url,response_days",
            "set"
        ],
        "{events:?}"
    );
    let all = serde_json::to_string(&events).unwrap();
    assert!(
        !all.contains("example.in") && !all.contains("Asha"),
        "{all}"
    );

    // Another tenant publishes nothing of this one's.
    let other = s.tenant("grvother", false, true).await;
    assert_eq!(public_document(&s, &other).await.0, 404);
    assert_eq!(contact_call(&s, "GET", "nosuchtenant", None).await.0, 404);
}

#[actix_web::test]
async fn contact_through_the_cli() {
    let s = TestServer::start().await;
    let t = s.tenant("grvcli", false, true).await;
    let run = |args: &[&str]| {
        let mut all = vec![
            "admin",
            "--url",
            &s.base,
            "--token",
            &s.admin_token,
            "privacy-contact",
        ];
        all.extend_from_slice(args);
        tollgate(&all, &[])
    };
    let (ok, _, err) = run(&["set", &t.id, "--name", "Asha Rao", "--email", "nope"]);
    assert!(!ok && err.contains("email: not an email address"), "{err}");
    let (ok, out, err) = run(&[
        "set",
        &t.id,
        "--name",
        "Asha Rao",
        "--email",
        "dpo@example.in",
        "--role",
        "dpo",
        "--phone",
        "+919876543210",
        "--address",
        "1 MG Road\\nBengaluru",
        "--response-days",
        "45",
    ]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["role"], "data_protection_officer");
    assert_eq!(v["address"], "1 MG Road\nBengaluru");
    assert_eq!(v["response_days"], 45);
    let (ok, out, err) = run(&["show", &t.id]);
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), v);
    let (ok, out, err) = run(&["remove", &t.id]);
    assert!(ok && out.trim() == "done", "{out} {err}");
    let (ok, _, err) = run(&["show", &t.id]);
    assert!(!ok && err.contains("not_found (404)"), "{err}");
}

async fn sign_in(b: &Browser, t: &TestTenant, email: &str) {
    let csrf = fresh_csrf(b, &format!("{}/login", t.issuer)).await;
    let (s, loc, page) = b
        .post_form(
            &format!("{}/login", t.issuer),
            &[("email", email), ("password", PASSWORD), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(s, 303, "{page}");
    assert!(loc.unwrap_or_default().contains("/account"));
}

/// Posts the grievance form; returns status, location and page.
async fn raise(
    b: &Browser,
    t: &TestTenant,
    category: &str,
    text: &str,
) -> (u16, Option<String>, String) {
    let url = format!("{}/account/grievances", t.issuer);
    let csrf = fresh_csrf(b, &url).await;
    b.post_form(
        &url,
        &[("category", category), ("text", text), ("csrf", &csrf)],
    )
    .await
}

async fn admin_call(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/admin/v1{path}", s.base);
    let req = match method {
        "POST" => s.http.post(&url),
        _ => s.http.get(&url),
    }
    .bearer_auth(&s.admin_token);
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The newest development-outbox mail to `to` whose text contains `says` (bounded wait:
/// the courier sends off the request path).
async fn mail_to(s: &TestServer, to: &str, says: &str) -> String {
    let outbox = s.dir.path().join("outbox");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .map(|m| mail_text(&m) + &m)
            .find(|m| m.contains(&format!("To: {to}")) && m.contains(says));
        if let Some(m) = found {
            return m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to {to} saying {says:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn tickets_are_raised_answered_and_closed() {
    let clock = ManualClock::new(SystemClock.now());
    let s = TestServer::start_with_clock(Arc::new(clock.clone())).await;
    let t = s.tenant("grvtickets", false, true).await;
    let (status, v) = contact_call(
        &s,
        "PUT",
        &t.id,
        Some(json!({"name": "Grievance Desk", "email": "desk@example.in", "response_days": 10})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let other_email = "other@grvtickets.example";
    s.admin(
        &format!("/tenants/{}/users", t.id),
        json!({"email": other_email, "password": PASSWORD, "email_verified": true}),
    )
    .await;

    // Signed out: to the sign-in page.
    let b = s.browser();
    let (status, loc, body) = b.get(&format!("{}/account/grievances", t.issuer)).await;
    assert_eq!(status, 303, "{body}");
    assert!(
        loc.unwrap_or_default()
            .ends_with(&format!("/{}/login", t.id))
    );
    sign_in(&b, &t, &t.email).await;
    let (_, _, account) = b.get(&format!("{}/account", t.issuer)).await;
    assert!(
        account.contains(&format!("href=\"/{}/account/grievances\"", t.id)),
        "{account}"
    );
    let (status, _, page) = b.get(&format!("{}/account/grievances", t.issuer)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("We answer within 10 days."), "{page}");
    assert!(
        page.contains("You have not raised any grievance."),
        "{page}"
    );
    assert!(page.contains("<label for=\"grv-text\">"), "{page}");

    // Bad input: each a clear error on the form, in an alert, the text kept; nothing filed.
    let long = "x".repeat(4001);
    for (category, text, says) in [
        ("access", "   ", "Write your grievance."),
        ("access", long.as_str(), "Your grievance is too long"),
        (
            "refund",
            "Where is my data?",
            "Choose what the grievance is about.",
        ),
    ] {
        let (status, _, page) = raise(&b, &t, category, text).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("role=\"alert\""), "{page}");
        assert!(page.contains(says), "{says}: {page}");
    }
    // No CSRF token: refused, nothing filed.
    let (status, _, _) = b
        .post_form(
            &format!("{}/account/grievances", t.issuer),
            &[("category", "access"), ("text", "forged")],
        )
        .await;
    assert_eq!(status, 403);

    // Raised: its page shows the reference, status, due date and the text (escaped).
    let filed_at = clock.now();
    let (status, loc, page) = raise(&b, &t, "erasure", "Please erase <my> data.").await;
    assert_eq!(status, 303, "{page}");
    let loc = loc.unwrap();
    let loc = loc.strip_prefix(&s.base).unwrap_or(&loc).to_owned();
    let id = loc.rsplit('/').next().unwrap().to_owned();
    assert!(
        loc.starts_with(&format!("/{}/account/grievances/", t.id)),
        "{loc}"
    );
    assert!(id.len() >= 22, "an unguessable id: {id}");
    let (status, _, page) = b.get(&format!("{}{loc}", s.base)).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&id) && page.contains("Erasing my data") && page.contains("Open"),
        "{page}"
    );
    assert!(page.contains("Please erase &lt;my&gt; data."), "{page}");
    let (_, _, list) = b.get(&format!("{}/account/grievances", t.issuer)).await;
    assert!(
        list.contains(&format!("/account/grievances/{id}")),
        "{list}"
    );

    // Another user, and an unknown id: the same 404.
    let ob = s.browser();
    sign_in(&ob, &t, other_email).await;
    let (theirs, _, p1) = ob.get(&format!("{}{loc}", s.base)).await;
    let (unknown, _, p2) = ob
        .get(&format!(
            "{}/account/grievances/AAAAAAAAAAAAAAAAAAAAAA",
            t.issuer
        ))
        .await;
    assert_eq!((theirs, unknown), (404, 404));
    assert!(!p1.contains("erase"), "{p1}");
    let strip = |p: &str| p.replace(&id, "").replace("AAAAAAAAAAAAAAAAAAAAAA", "");
    assert_eq!(strip(&p1), strip(&p2));

    // The admin's list: the ticket, due in 10 days; not overdue yet.
    let base = format!("/tenants/{}/grievances", t.id);
    let (status, v) = admin_call(&s, "GET", &base, None).await;
    assert_eq!(status, 200, "{v}");
    let g = &v["grievances"][0];
    assert_eq!(v["grievances"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(
        (
            g["id"].as_str(),
            g["status"].as_str(),
            g["category"].as_str()
        ),
        (Some(id.as_str()), Some("open"), Some("erasure"))
    );
    assert_eq!(g["due_at"].as_u64().unwrap(), filed_at + 10 * 86_400);
    assert_eq!(g["entries"][0]["text"], "Please erase <my> data.");
    assert_eq!(
        admin_call(&s, "GET", &format!("{base}?overdue=true"), None)
            .await
            .1["grievances"],
        json!([])
    );
    let (status, v) = admin_call(&s, "GET", &format!("{base}?status=pending"), None).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );

    // Eleven days on, it is overdue.
    clock.advance(11 * 86_400);
    let (_, v) = admin_call(&s, "GET", &format!("{base}?overdue=true"), None).await;
    assert_eq!(v["grievances"][0]["id"], id.as_str(), "{v}");
    assert_eq!(v["grievances"][0]["overdue"], true);

    // Answered through the API: bad answers refused, then the user is mailed.
    let (status, v) = admin_call(
        &s,
        "POST",
        &format!("{base}/{id}/answer"),
        Some(json!({"text": ""})),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    let (status, v) = admin_call(
        &s,
        "POST",
        &format!("{base}/nope/answer"),
        Some(json!({"text": "x"})),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (404, Some("not_found")),
        "{v}"
    );
    let (status, v) = admin_call(
        &s,
        "POST",
        &format!("{base}/{id}/answer"),
        Some(json!({"text": "Erased on 5 May."})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["overdue"].as_bool()),
        (Some("answered"), Some(false))
    );
    assert_eq!(
        admin_call(&s, "GET", &format!("{base}?status=answered"), None)
            .await
            .1["grievances"][0]["id"],
        id.as_str()
    );
    let mail = mail_to(&s, &t.email, "has answered your grievance").await;
    assert!(
        mail.contains(&format!("/account/grievances/{id}")),
        "{mail}"
    );
    assert!(
        !mail.contains("Erased on 5 May."),
        "the answer is read signed in: {mail}"
    );

    // The user reads it (signed in again: the clock moved past the session).
    let b = s.browser();
    sign_in(&b, &t, &t.email).await;
    let (_, _, page) = b.get(&format!("{}{loc}", s.base)).await;
    assert!(
        page.contains("Erased on 5 May.") && page.contains("Answered"),
        "{page}"
    );

    // Closed through the CLI; a closed ticket takes nothing more.
    let cli = |args: &[&str]| {
        let mut all = vec![
            "admin",
            "--url",
            &s.base,
            "--token",
            &s.admin_token,
            "grievance",
        ];
        all.extend_from_slice(args);
        tollgate(&all, &[])
    };
    let (ok, out, err) = cli(&["list", &t.id, "--status", "answered"]);
    assert!(ok && out.contains(&id), "{out} {err}");
    let (ok, out, err) = cli(&["close", &t.id, &id]);
    assert!(ok, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["status"],
        "closed"
    );
    let (ok, _, err) = cli(&["answer", &t.id, &id, "--text", "More."]);
    assert!(!ok && err.contains("closed"), "{err}");
    let (status, v) = admin_call(&s, "POST", &format!("{base}/{id}/close"), None).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    assert!(
        v["error_description"].as_str().unwrap().contains("closed"),
        "{v}"
    );

    // Every step an event, without the text.
    let events = s.events(&t.id, "kind=grievance.").await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in ["grievance.filed", "grievance.answered", "grievance.closed"] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    let all = serde_json::to_string(&events).unwrap();
    assert!(
        !all.contains("erase <my>") && !all.contains("Erased on"),
        "{all}"
    );

    // The export carries the ticket opened; deleting the account erases it.
    let export: Value = b
        .http
        .get(format!("{}/account/export", t.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["grievances"][0]["entries"][0]["text"], "Please erase <my> data.",
        "{export}"
    );
    let user_id = export["user"]["id"]
        .as_str()
        .or(export["id"].as_str())
        .map(str::to_owned);
    let user_id = user_id.unwrap_or_else(|| events[0]["subject"].as_str().unwrap().to_owned());
    let r = s
        .http
        .delete(format!(
            "{}/admin/v1/tenants/{}/users/{user_id}",
            s.base, t.id
        ))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let (status, v) = admin_call(&s, "GET", &base, None).await;
    assert_eq!((status, v["grievances"].clone()), (200, json!([])), "{v}");
    assert_eq!(
        admin_call(&s, "GET", &format!("{base}/{id}"), None).await.0,
        404
    );
}

/// The browser flow: the Hindi footer on the sign-in page, then the grievance raised from
/// the account page's link; returns the ticket page's address.
async fn browser_flow(browser: &fantoccini::Client, origin: &str) -> common::chrome::Flow<String> {
    use common::chrome::{Failed, wait_for};
    use fantoccini::Locator;
    browser
        .goto(&format!("{origin}/shop/login?lang=hi"))
        .await?;
    wait_for(browser, 10, "the Hindi footer", |_, s| {
        s.contains("डेटा संरक्षण अधिकारी: Asha Rao")
            && s.contains("शिकायतों का उत्तर 15 दिनों के भीतर दिया जाता है।")
    })
    .await?;
    browser
        .find(Locator::Css("input[type=email]"))
        .await?
        .send_keys("buyer@shop.example")
        .await?;
    browser
        .find(Locator::Css("input[type=password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    browser
        .find(Locator::Css(
            "form[action='/shop/login'] button[type=submit]",
        ))
        .await?
        .click()
        .await?;
    wait_for(browser, 15, "the account page", |u, _| {
        u.ends_with("/shop/account")
    })
    .await?;
    browser
        .find(Locator::Css("a[href='/shop/account/grievances']"))
        .await?
        .click()
        .await?;
    wait_for(browser, 10, "the grievance form", |_, s| {
        s.contains("आपकी शिकायत") && s.contains("grv-category")
    })
    .await?;
    browser
        .find(Locator::Css("#grv-category option[value='erasure']"))
        .await?
        .click()
        .await?;
    browser
        .find(Locator::Css("#grv-text"))
        .await?
        .send_keys("मेरा डेटा मिटा दें।")
        .await?;
    browser
        .find(Locator::Css(
            "form[action='/shop/account/grievances'] button[type=submit]",
        ))
        .await?
        .click()
        .await?;
    wait_for(browser, 10, "the ticket page", |u, s| {
        u.contains("/shop/account/grievances/") && s.contains("मेरा डेटा मिटा दें।")
    })
    .await?;
    let page = browser.source().await?;
    if !(page.contains("मेरा डेटा मिटाना") && page.contains("खुली"))
    {
        return Err(Failed::Wrong(format!("category or status missing: {page}")));
    }
    Ok(browser.current_url().await?.to_string())
}

#[actix_web::test]
#[ignore = "needs chromium and chromedriver: ops/test.sh installs them and runs it with --ignored"]
async fn chromium_shows_the_hindi_footer_and_raises_a_grievance() {
    let (_driver, driver_port) = common::chrome::start_chromedriver().expect(
        "chromedriver is needed (apt-get install chromium chromium-driver, or run ops/test.sh)",
    );
    let s = TestServer::start().await;
    let cb_port = common::chrome::callback_server();
    common::chrome::shop(&s, &format!("http://127.0.0.1:{cb_port}/callback")).await;
    let (status, v) = contact_call(
        &s,
        "PUT",
        "shop",
        Some(
            json!({"role": "data_protection_officer", "name": "Asha Rao",
            "email": "dpo@shop.example", "response_days": 15}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{v}");

    let profile = tempfile::tempdir().unwrap();
    let chrome = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let caps = json!({
        "goog:chromeOptions": {
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    tollgate_gateway::install_crypto_provider();
    let browser = fantoccini::ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("chromium starts under chromedriver");
    let outcome = browser_flow(&browser, &s.base).await;
    // The admin answers; the page shows it on the next load, in Hindi.
    let answered = match &outcome {
        Ok(url) => {
            let id = url.rsplit('/').next().unwrap_or_default().to_owned();
            let (status, v) = admin_call(
                &s,
                "POST",
                &format!("/tenants/shop/grievances/{id}/answer"),
                Some(json!({"text": "आपका डेटा मिटा दिया गया।"})),
            )
            .await;
            assert_eq!(status, 200, "{v}");
            browser.goto(url).await.unwrap();
            common::chrome::wait_for(&browser, 10, "the answer", |_, p| {
                p.contains("आपका डेटा मिटा दिया गया।") && p.contains("उत्तर दिया गया")
            })
            .await
        }
        Err(_) => Ok(()),
    };
    let _ = browser.close().await;
    outcome.expect("the browser flow");
    answered.expect("the answer shown");
}
