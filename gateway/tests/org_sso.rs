//! Enterprise sign-in per organisation with home-realm discovery, over HTTP: an
//! organisation claims an email domain, proves it with a DNS TXT record (a name server on
//! loopback answers), routes it to its identity provider (a second Tollgate as the
//! upstream OpenID provider), and its people are sent there from the sign-in page and
//! join the organisation when they come back.

mod common;

use common::upstream::{self, Stop};
use common::*;
use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::TXT;
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};

/// A name server on loopback answering TXT queries from a table the test changes; every
/// other name is NXDOMAIN.
struct DnsStub {
    addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

impl DnsStub {
    fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let records: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let table = records.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            // Ends with the test process; each query is one bounded datagram.
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let Ok(q) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut a = Message::new();
                a.set_id(q.id())
                    .set_message_type(MessageType::Response)
                    .set_op_code(q.op_code())
                    .set_recursion_desired(q.recursion_desired())
                    .set_recursion_available(true)
                    .set_authoritative(true);
                let mut found = false;
                for query in q.queries() {
                    a.add_query(query.clone());
                    let name = query.name().to_ascii().trim_end_matches('.').to_lowercase();
                    if query.query_type() != RecordType::TXT {
                        continue;
                    }
                    if let Some(values) = table.lock().unwrap().get(&name) {
                        found = true;
                        for v in values {
                            a.add_answer(Record::from_rdata(
                                query.name().clone(),
                                60,
                                RData::TXT(TXT::new(vec![v.clone()])),
                            ));
                        }
                    }
                }
                if !found {
                    a.set_response_code(ResponseCode::NXDomain);
                }
                let _ = socket.send_to(&a.to_vec().unwrap(), from);
            }
        });
        DnsStub { addr, records }
    }

    fn publish(&self, name: &str, values: &[&str]) {
        self.records.lock().unwrap().insert(
            name.to_owned(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
    }
}

async fn send(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = s
        .http
        .request(method, format!("{}/admin/v1{path}", s.base))
        .bearer_auth(&s.admin_token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Posts the sign-in page's organisation button (or the password form) with `email`;
/// the status and where it sends the browser, or the page.
async fn sign_in_at(b: &Browser, login_page: &str, action: &str, email: &str) -> (u16, String) {
    let page = b.get(login_page).await.2;
    let mut form = vec![
        ("email", email.to_owned()),
        ("csrf", hidden(&page, "csrf").unwrap()),
    ];
    if let Some(tx) = hidden(&page, "tx") {
        form.push(("tx", tx));
    }
    if action.ends_with("/login") {
        form.push(("password", "not the point".into()));
    }
    let r = b.http.post(action).form(&form).send().await.unwrap();
    let status = r.status().as_u16();
    let to = match r.headers().get(LOCATION) {
        Some(l) => l.to_str().unwrap().to_owned(),
        None => r.text().await.unwrap(),
    };
    (status, to)
}

#[actix_web::test]
async fn a_verified_domain_sends_its_people_to_their_idp_and_they_join_the_organisation() {
    let dns = DnsStub::start();
    let s = TestServer::start_configured(false, |c| {
        c.dns_servers = vec![dns.addr.to_string()];
    })
    .await;
    let t = s.tenant("biz", false, true).await;
    let up = upstream::start(&s, "biz", &["corp"], "jo@corp.example").await;
    up.connect(&s, "biz", "corp", false).await;
    let org = s
        .admin(
            "/tenants/biz/organizations",
            json!({"name": "corp", "display_name": "Corp Ltd"}),
        )
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let domains = format!("/tenants/biz/organizations/{org_id}/domains");

    // Bad claims: not a domain, an unknown organisation, an unknown field.
    for (path, body, status, says) in [
        (
            domains.clone(),
            json!({"domain": "localhost"}),
            400,
            "two labels",
        ),
        (
            domains.clone(),
            json!({"domain": "a_b.example"}),
            400,
            "letters, digits",
        ),
        (
            "/tenants/biz/organizations/org_nope/domains".into(),
            json!({"domain": "corp.example"}),
            404,
            "",
        ),
        (
            domains.clone(),
            json!({"domain": "corp.example", "x": 1}),
            400,
            "",
        ),
    ] {
        let (st, v) = send(&s, reqwest::Method::POST, &path, Some(body)).await;
        assert_eq!(st, status, "{path}: {v}");
        assert!(v.to_string().contains(says), "{v}");
    }
    let (st, claim) = send(
        &s,
        reqwest::Method::POST,
        &domains,
        Some(json!({"domain": "Corp.Example."})),
    )
    .await;
    assert_eq!(st, 201, "{claim}");
    assert_eq!(claim["domain"], "corp.example");
    assert_eq!(claim["txt_name"], "_tollgate-challenge.corp.example");
    let value = claim["txt_value"].as_str().unwrap().to_owned();
    assert!(value.starts_with("tollgate-verification="), "{value}");
    assert!(claim.get("verified_at").is_none());
    // One organisation per domain in a tenant.
    let rival = s
        .admin("/tenants/biz/organizations", json!({"name": "rival"}))
        .await;
    let (st, v) = send(
        &s,
        reqwest::Method::POST,
        &format!(
            "/tenants/biz/organizations/{}/domains",
            rival["id"].as_str().unwrap()
        ),
        Some(json!({"domain": "corp.example"})),
    )
    .await;
    assert_eq!(st, 409, "{v}");

    // Unverified, a domain routes nobody, and cannot be verified without the record.
    let (st, v) = send(
        &s,
        reqwest::Method::PUT,
        &format!("{domains}/corp.example/connector"),
        Some(json!({"connector": "nope"})),
    )
    .await;
    assert_eq!(st, 404, "an unknown connector: {v}");
    let (st, _) = send(
        &s,
        reqwest::Method::PUT,
        &format!("{domains}/corp.example/connector"),
        Some(json!({"connector": "corp"})),
    )
    .await;
    assert_eq!(st, 200);
    let b = s.browser();
    let (_, challenge) = pkce();
    let login = {
        let r = b
            .http
            .get(authorize_url(&t, "openid", &challenge, &[]))
            .send()
            .await
            .unwrap();
        let l = r.headers()[LOCATION].to_str().unwrap().to_owned();
        format!("{}{l}", s.base)
    };
    let page = b.get(&login).await.2;
    assert!(
        page.contains("formaction=\"/biz/login/sso\""),
        "the organisation button"
    );
    let sso = format!("{}/biz/login/sso", s.base);
    let (st, body) = sign_in_at(&b, &login, &sso, "jo@corp.example").await;
    assert_eq!(st, 400, "not verified yet");
    assert!(body.contains("No organisation signs in"), "{body}");
    let verify = format!("{domains}/corp.example/verify");
    let (st, v) = send(&s, reqwest::Method::POST, &verify, None).await;
    assert_eq!(st, 400, "{v}");
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("has no TXT record"),
        "{v}"
    );
    dns.publish(
        "_tollgate-challenge.corp.example",
        &["v=spf1 -all", "tollgate-verification=someone-else"],
    );
    let (st, v) = send(&s, reqwest::Method::POST, &verify, None).await;
    assert_eq!(st, 400, "another value: {v}");
    dns.publish("_tollgate-challenge.corp.example", &["v=spf1 -all", &value]);
    let (st, v) = send(&s, reqwest::Method::POST, &verify, None).await;
    assert_eq!(st, 200, "{v}");
    assert!(v["verified_at"].as_u64().is_some(), "{v}");
    assert_eq!(v["connector"], "corp");

    // Now the address alone goes to the organisation's provider, carrying the request...
    let (st, to) = sign_in_at(&b, &login, &sso, "Jo@Corp.Example").await;
    assert_eq!(st, 303, "{to}");
    assert!(to.starts_with("/biz/federation/corp/start?tx="), "{to}");
    // ...as does the password form (no password is checked for such an address).
    let (st, to2) = sign_in_at(
        &b,
        &login,
        &format!("{}/biz/login", s.base),
        "jo@corp.example",
    )
    .await;
    assert_eq!(
        (st, to2.starts_with("/biz/federation/corp/start?tx=")),
        (303, true),
        "{to2}"
    );
    // Another domain gets the password form as ever.
    let (st, body) = sign_in_at(&b, &login, &sso, "someone@elsewhere.example").await;
    assert_eq!(st, 400);
    assert!(body.contains("No organisation signs in"), "{body}");

    // The round trip through the upstream: back at the client with a code, and a member.
    let back = match upstream::follow(&b, &format!("{}{to}", s.base), "jo@corp.example").await {
        Stop::AtClient(url) => url,
        Stop::Page(st, url, page) => panic!("stopped at {url} ({st}): {page}"),
    };
    assert!(query_param(&back, "code").is_some(), "{back}");
    let joined = s.events("biz", "kind=org.joined_by_domain").await;
    assert_eq!(joined.len(), 1, "{joined:?}");
    let user = joined[0]["subject"].as_str().unwrap().to_owned();
    let members = s
        .admin_get(&format!("/tenants/biz/organizations/{org_id}/members"))
        .await;
    assert!(members.to_string().contains(&user), "{members}");
    assert!(
        !members.to_string().contains("jo@corp.example"),
        "no address in the events"
    );
    for kind in [
        "org.domain_added",
        "org.domain_verified",
        "org.domain_routed",
    ] {
        assert!(
            !s.events("biz", &format!("kind={kind}")).await.is_empty(),
            "{kind}"
        );
    }

    // Given up, the domain routes nobody again.
    let (st, _) = send(
        &s,
        reqwest::Method::DELETE,
        &format!("{domains}/corp.example"),
        None,
    )
    .await;
    assert_eq!(st, 204);
    let (st, _) = sign_in_at(&b, &login, &sso, "jo@corp.example").await;
    assert_eq!(st, 400);
    let (st, v) = send(&s, reqwest::Method::GET, &domains, None).await;
    assert_eq!((st, v["domains"].clone()), (200, json!([])));
}
