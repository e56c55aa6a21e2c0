//! Grievances and contact (DPDP Rules 9 and 14): a tenant's Data Protection Officer or
//! contact person, set through the admin API and the CLI with every bad value refused by
//! name; shown in the footer of every hosted page in the page's language (escaped);
//! published at `{issuer}/.well-known/privacy-contact` and linked from discovery
//! (`privacy_contact_uri`); each change one `admin.privacy_contact` event that holds no
//! contact detail.

mod common;

use common::*;
use serde_json::{Value, json};

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
            "grievance_uri": format!("{}/account#grievances", t.issuer),
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
