//! The SAML 2.0 identity provider through HTTP: SP-initiated SSO in both bindings with
//! signed requests, the signed response's conditions, IdP-initiated SSO, single logout,
//! the admin API, and every bad input refused with its code (or the protocol's status)
//! and nothing changed. The SP side is played with `tollgate-saml`'s message builders and
//! an RSA key made here; `saml_clients.rs` plays it with an independent library.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};
use tollgate_saml::binding;
use tollgate_xmldsig::testkit::TestKey;

const SP: &str = "https://sp.example/saml";
const ACS: &str = "https://sp.example/acs";
const SLO: &str = "https://sp.example/slo";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sp_metadata(entity: &str, key: Option<&TestKey>) -> String {
    let key_xml = key
        .map(|k| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                base64::engine::general_purpose::STANDARD.encode(k.cert_der())
            )
        })
        .unwrap_or_default();
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity}"><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{key_xml}<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{SLO}"/><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{ACS}" index="0" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>"#
    )
}

fn authn_request(id: &str, issuer: &str, idp: &str, format: Option<&str>, instant: u64) -> String {
    let policy = format
        .map(|f| format!("<samlp:NameIDPolicy Format=\"{f}\"/>"))
        .unwrap_or_default();
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{}" Destination="{idp}/saml/sso" AssertionConsumerServiceURL="{ACS}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{issuer}</saml:Issuer>{policy}</samlp:AuthnRequest>"#,
        tollgate_saml::time::format(instant)
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The Redirect binding's query, signed over its own bytes by `key`.
fn signed_query(xml: &str, relay: Option<&str>, key: &TestKey) -> String {
    let mut q = binding::encode_redirect(xml, "SAMLRequest", relay);
    q.push_str("&SigAlg=");
    q.push_str(&enc(binding::SIGALG_RSA_SHA256));
    let sig = key.sign(q.as_bytes());
    q.push_str("&Signature=");
    q.push_str(&enc(&base64::engine::general_purpose::STANDARD.encode(sig)));
    q
}

/// The HTTP-POST binding's field: the request signed inside.
fn signed_post(xml: &str, id: &str, key: &TestKey) -> String {
    let signed =
        tollgate_xmldsig::dsig::sign_element(xml, id, Some("Issuer"), Some(key.cert_der()), |d| {
            Some(key.sign(d))
        })
        .unwrap();
    binding::encode_post(&signed)
}

async fn admin_call(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/admin/v1{path}", s.base);
    let mut rb = match method {
        "DELETE" => s.http.delete(&url),
        "POST" => s.http.post(&url),
        _ => s.http.get(&url),
    }
    .bearer_auth(&s.admin_token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The form a page carries to the SP: (action, decoded XML, RelayState).
fn carried(page: &str) -> (String, String, Option<String>) {
    let start = page.find("action=\"").expect("a form") + 8;
    let action = page[start..start + page[start..].find('"').unwrap()].replace("&#x2f;", "/");
    let b64 = hidden(page, "SAMLResponse").expect("a SAMLResponse field");
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap();
    (action, xml, hidden(page, "RelayState"))
}

/// Follows redirects (signing in when the sign-in page shows up) to the page at the end.
async fn drive(b: &Browser, url: &str, email: &str) -> (u16, String) {
    let mut next = url.to_owned();
    for _ in 0..8 {
        let (status, loc, body) = b.get(&next).await;
        if status != 303 && status != 302 {
            return (status, body);
        }
        let loc = loc.expect("a Location");
        if loc.ends_with("/login") {
            let csrf = fresh_csrf(b, &loc).await;
            let (s, after, page) = b
                .post_form(
                    &loc,
                    &[("email", email), ("password", PASSWORD), ("csrf", &csrf)],
                )
                .await;
            assert_eq!(s, 303, "sign-in failed: {page}");
            next = after.unwrap();
        } else {
            next = loc;
        }
    }
    panic!("too many redirects from {url}");
}

fn idp_key(metadata: &str) -> tollgate_xmldsig::VerifyingKey {
    let doc = roxmltree::Document::parse(metadata).unwrap();
    let cert = doc
        .descendants()
        .find(|n| n.tag_name().name() == "X509Certificate")
        .and_then(|n| n.text())
        .unwrap();
    tollgate_xmldsig::VerifyingKey::from_certificate_text(cert).unwrap()
}

fn element<'a, 'i>(doc: &'a roxmltree::Document<'i>, name: &str) -> roxmltree::Node<'a, 'i> {
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

struct Fixture {
    s: TestServer,
    t: TestTenant,
    sp_key: TestKey,
}

async fn fixture(id: &str) -> Fixture {
    let s = TestServer::start().await;
    let t = s.tenant(id, false, true).await;
    let sp_key = TestKey::new("sp");
    let (status, sp) = admin_call(
        &s,
        "POST",
        &format!("/tenants/{id}/saml/sps"),
        Some(json!({
            "metadata": sp_metadata(SP, Some(&sp_key)),
            "attributes": [{"claim": "email", "attribute": "urn:oid:0.9.2342.19200300.100.1.3"}, {"claim": "name", "attribute": "displayName"}],
        })),
    )
    .await;
    assert_eq!(status, 201, "{sp}");
    assert_eq!(sp["entity_id"], SP);
    assert_eq!(sp["acs_urls"], json!([ACS]));
    assert_eq!(sp["slo_url"], SLO);
    assert_eq!(sp["name_id_format"], "persistent");
    Fixture { s, t, sp_key }
}

#[actix_web::test]
async fn sp_initiated_sso_in_both_bindings_then_single_logout() {
    let Fixture { s, t, sp_key } = fixture("saml1").await;
    let idp = &t.issuer;
    let r = s
        .http
        .get(format!("{idp}/saml/metadata"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/samlmetadata+xml"
    );
    let metadata = r.text().await.unwrap();
    assert!(
        metadata.contains(&format!("entityID=\"{idp}\"")),
        "{metadata}"
    );
    assert!(metadata.contains(&format!("Location=\"{idp}/saml/sso\"")));
    assert!(metadata.contains("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"));
    let key = idp_key(&metadata);

    // HTTP-Redirect, signed; the user signs in on the hosted pages.
    let b = s.browser();
    let q = signed_query(
        &authn_request("_r1", SP, idp, None, now()),
        Some("back to /cart"),
        &sp_key,
    );
    let (status, page) = drive(&b, &format!("{idp}/saml/sso?{q}"), &t.email).await;
    assert_eq!(status, 200, "{page}");
    let (action, xml, relay) = carried(&page);
    assert_eq!(action, ACS);
    assert_eq!(relay.as_deref(), Some("back to /cart"));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("Destination"), Some(ACS));
    assert_eq!(root.attribute("InResponseTo"), Some("_r1"));
    assert!(
        element(&doc, "StatusCode")
            .attribute("Value")
            .unwrap()
            .ends_with(":Success")
    );
    let assertion = element(&doc, "Assertion");
    tollgate_xmldsig::dsig::verify_element(assertion, std::slice::from_ref(&key)).unwrap();
    assert_eq!(element(&doc, "Audience").text(), Some(SP));
    let scd = element(&doc, "SubjectConfirmationData");
    assert_eq!(scd.attribute("Recipient"), Some(ACS));
    assert_eq!(scd.attribute("InResponseTo"), Some("_r1"));
    let until = tollgate_saml::time::parse(scd.attribute("NotOnOrAfter").unwrap()).unwrap();
    assert!(until > now() && until <= now() + 300, "{until}");
    let from =
        tollgate_saml::time::parse(element(&doc, "Conditions").attribute("NotBefore").unwrap())
            .unwrap();
    assert!(from <= now());
    let name_id = element(&doc, "NameID");
    assert_eq!(
        name_id.attribute("Format"),
        Some(tollgate_saml::NAMEID_PERSISTENT)
    );
    let name_id = name_id.text().unwrap().to_owned();
    let values: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "AttributeValue")
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(values, vec![t.email.as_str(), "Ada Lovelace"]);
    let session_index = element(&doc, "AuthnStatement")
        .attribute("SessionIndex")
        .unwrap()
        .to_owned();

    // The same request again is a replay.
    let (status, _, page) = b.get(&format!("{idp}/saml/sso?{q}")).await;
    assert_eq!(status, 400);
    assert!(page.contains("(replayed)"), "{page}");

    // HTTP-POST, signed inside; the session is reused and the same NameID comes back.
    let field = signed_post(
        &authn_request(
            "_r2",
            SP,
            idp,
            Some(tollgate_saml::NAMEID_PERSISTENT),
            now(),
        ),
        "_r2",
        &sp_key,
    );
    let (status, loc, _) = b
        .post_form(
            &format!("{idp}/saml/sso"),
            &[("SAMLRequest", &field), ("RelayState", "r2")],
        )
        .await;
    assert_eq!(status, 303);
    let (status, page) = drive(&b, &loc.unwrap(), &t.email).await;
    assert_eq!(status, 200, "{page}");
    let (_, xml, relay) = carried(&page);
    assert_eq!(relay.as_deref(), Some("r2"));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().attribute("InResponseTo"), Some("_r2"));
    tollgate_xmldsig::dsig::verify_element(element(&doc, "Assertion"), std::slice::from_ref(&key))
        .unwrap();
    assert_eq!(element(&doc, "NameID").text(), Some(name_id.as_str()));

    // Single logout: the SP's signed LogoutRequest ends the session.
    let logout = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lo1" Version="2.0" IssueInstant="{}" Destination="{idp}/saml/slo"><saml:Issuer>{SP}</saml:Issuer><saml:NameID Format="{}">{name_id}</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#,
        tollgate_saml::time::format(now()),
        tollgate_saml::NAMEID_PERSISTENT
    );
    let (status, _, page) = b
        .get(&format!(
            "{idp}/saml/slo?{}",
            signed_query(&logout, Some("bye"), &sp_key)
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    let (action, xml, relay) = carried(&page);
    assert_eq!(action, SLO);
    assert_eq!(relay.as_deref(), Some("bye"));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "LogoutResponse");
    assert_eq!(root.attribute("InResponseTo"), Some("_lo1"));
    assert!(
        element(&doc, "StatusCode")
            .attribute("Value")
            .unwrap()
            .ends_with(":Success")
    );
    tollgate_xmldsig::dsig::verify_element(root, &[key]).unwrap();
    let (status, loc, _) = b.get(&format!("{idp}/account")).await;
    assert_eq!(
        (status, loc),
        (303, Some(format!("{idp}/login"))),
        "the session ended"
    );

    let events = s.events("saml1", "kind=saml.").await;
    let kinds: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["result"].as_str().unwrap(),
                e["detail"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for expected in [
        ("saml.slo", "success", "sessions_ended=1"),
        ("saml.sso", "success", "sp_initiated"),
        ("saml.sso_request", "failure", "replayed"),
        ("saml.sso_request", "success", "accepted"),
        (
            "saml.sp_registered",
            "success",
            "entity_id=https://sp.example/saml",
        ),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} not in {kinds:?}");
    }
    assert!(
        !Value::Array(events.clone()).to_string().contains(&t.email),
        "no personal data in clear"
    );
    let user_id = events
        .iter()
        .find(|e| e["kind"] == "saml.sso")
        .and_then(|e| e["subject"].as_str())
        .unwrap();
    assert_ne!(user_id, name_id, "the persistent NameID is not the user id");
    assert!(!name_id.contains(user_id));
}

#[actix_web::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let Fixture { s, t, sp_key } = fixture("saml2").await;
    let idp = &t.issuer;
    let b = s.browser();
    let other = TestKey::new("other");
    let refused = |q: String| {
        let b = b.clone();
        let url = format!("{idp}/saml/sso?{q}");
        async move {
            let (status, _, page) = b.get(&url).await;
            (status, page)
        }
    };
    let code_of = |page: &str| {
        let end = page.rfind(")").unwrap();
        let start = page[..end].rfind('(').unwrap();
        page[start + 1..end].to_owned()
    };
    let t0 = now();
    let cases: Vec<(&str, String)> = vec![
        (
            "unknown_sp",
            signed_query(
                &authn_request("_b1", "https://unknown.example", idp, None, t0),
                None,
                &sp_key,
            ),
        ),
        (
            "acs_not_registered",
            signed_query(
                &authn_request("_b2", SP, idp, None, t0).replace(ACS, "https://evil.example/acs"),
                None,
                &sp_key,
            ),
        ),
        (
            "signature_missing",
            binding::encode_redirect(
                &authn_request("_b3", SP, idp, None, t0),
                "SAMLRequest",
                None,
            ),
        ),
        (
            "bad_signature",
            signed_query(&authn_request("_b4", SP, idp, None, t0), None, &other),
        ),
        (
            "dtd_refused",
            signed_query(
                &format!(
                    "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}",
                    authn_request("_b5", SP, idp, None, t0)
                ),
                None,
                &sp_key,
            ),
        ),
        (
            "too_deep",
            signed_query(
                &format!("{}{}", "<a>".repeat(50), "</a>".repeat(50)),
                None,
                &sp_key,
            ),
        ),
        (
            "too_large",
            binding::encode_redirect(
                &format!("<a>{}</a>", "x".repeat(70_000)),
                "SAMLRequest",
                None,
            ),
        ),
        ("bad_base64", "SAMLRequest=%25%25%25".to_owned()),
        ("bad_deflate", "SAMLRequest=bm90IGRlZmxhdGU%3D".to_owned()),
        ("missing_message", "RelayState=x".to_owned()),
        (
            "request_expired",
            signed_query(
                &authn_request("_b6", SP, idp, None, t0 - 3600),
                None,
                &sp_key,
            ),
        ),
        (
            "wrong_destination",
            signed_query(
                &authn_request("_b7", SP, "https://other.example/t", None, t0),
                None,
                &sp_key,
            ),
        ),
        (
            "version_mismatch",
            signed_query(
                &authn_request("_b8", SP, idp, None, t0)
                    .replace("Version=\"2.0\"", "Version=\"1.1\""),
                None,
                &sp_key,
            ),
        ),
    ];
    for (code, q) in cases {
        let (status, page) = refused(q).await;
        assert_eq!(status, 400, "{code}: {page}");
        assert_eq!(code_of(&page), code, "{page}");
    }
    // A POST with a tampered signed request.
    let field = signed_post(&authn_request("_b9", SP, idp, None, t0), "_b9", &sp_key);
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&field)
            .unwrap(),
    )
    .unwrap();
    let tampered = binding::encode_post(
        &xml.replace("IssueInstant=\"", "ForceAuthn=\"true\" IssueInstant=\""),
    );
    let (status, _, page) = b
        .post_form(&format!("{idp}/saml/sso"), &[("SAMLRequest", &tampered)])
        .await;
    assert_eq!(
        (status, code_of(&page)),
        (400, "bad_signature".to_owned()),
        "{page}"
    );

    // An unknown NameID format is told to the SP: a signed Requester/InvalidNameIDPolicy
    // response without an assertion.
    let q = signed_query(
        &authn_request(
            "_b10",
            SP,
            idp,
            Some("urn:oasis:names:tc:SAML:2.0:nameid-format:transient"),
            t0,
        ),
        Some("rs"),
        &sp_key,
    );
    let (status, page) = refused(q).await;
    assert_eq!(status, 200, "{page}");
    let (action, xml, relay) = carried(&page);
    assert_eq!((action.as_str(), relay.as_deref()), (ACS, Some("rs")));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let codes: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "StatusCode")
        .filter_map(|n| n.attribute("Value"))
        .collect();
    assert_eq!(
        codes,
        vec![
            "urn:oasis:names:tc:SAML:2.0:status:Requester",
            "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
        ]
    );
    assert!(!xml.contains("Assertion"));

    // Nothing was kept: the request IDs refused above are still fresh, and no sign-in
    // is pending for this browser.
    let (status, _, page) = b.get(&format!("{idp}/saml/resume")).await;
    assert_eq!(status, 400, "{page}");
    let q = signed_query(&authn_request("_b4", SP, idp, None, now()), None, &sp_key);
    let (status, loc, _) = b.get(&format!("{idp}/saml/sso?{q}")).await;
    assert_eq!((status, loc), (303, Some(format!("{idp}/saml/resume"))));
    let events = s.events("saml2", "kind=saml.sso").await;
    assert!(
        events.iter().all(|e| e["kind"] != "saml.sso"),
        "no sign-in was answered"
    );
}

#[actix_web::test]
async fn idp_initiated_sso_and_the_admin_api() {
    let Fixture { s, t, sp_key: _ } = fixture("saml3").await;
    let idp = &t.issuer;
    let b = s.browser();
    let (status, page) = drive(&b, &format!("{idp}/saml/idp-init?sp={}", enc(SP)), &t.email).await;
    assert_eq!(status, 200, "{page}");
    let (action, xml, relay) = carried(&page);
    assert_eq!((action.as_str(), relay), (ACS, None));
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().attribute("InResponseTo"), None);
    assert_eq!(
        element(&doc, "SubjectConfirmationData").attribute("InResponseTo"),
        None
    );
    assert_eq!(element(&doc, "Audience").text(), Some(SP));
    let (status, _, page) = b.get(&format!("{idp}/saml/idp-init?sp=nobody")).await;
    assert_eq!(status, 400);
    assert!(page.contains("(unknown_sp)"), "{page}");

    // Registration by fields: an email NameID, the response signed too.
    let (status, sp) = admin_call(
        &s,
        "POST",
        "/tenants/saml3/saml/sps",
        Some(json!({
            "entity_id": "urn:sp:two", "acs_urls": ["https://two.example/acs"],
            "name_id_format": "email", "sign_response": true,
        })),
    )
    .await;
    assert_eq!(status, 201, "{sp}");
    assert_eq!(sp["sign_assertion"], true);
    let (_, page) = drive(&b, &format!("{idp}/saml/idp-init?sp=urn:sp:two"), &t.email).await;
    let (_, xml, _) = carried(&page);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(element(&doc, "NameID").text(), Some(t.email.as_str()));
    let metadata = s
        .http
        .get(format!("{idp}/saml/metadata"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = idp_key(&metadata);
    tollgate_xmldsig::dsig::verify_element(doc.root_element(), std::slice::from_ref(&key)).unwrap();
    tollgate_xmldsig::dsig::verify_element(element(&doc, "Assertion"), &[key]).unwrap();

    for (body, says) in [
        (
            json!({"entity_id": "urn:sp:x"}),
            "between 1 and 20 acs_urls",
        ),
        (
            json!({"entity_id": "urn:sp:x", "acs_urls": ["javascript:alert(1)"]}),
            "acs_urls must be an http(s) URL",
        ),
        (
            json!({"entity_id": "urn:sp:x", "acs_urls": ["https://x.example/acs"], "certificate": "AAAA"}),
            "not an X.509 certificate",
        ),
        (
            json!({"entity_id": "urn:sp:x", "acs_urls": ["https://x.example/acs"], "attributes": [{"claim": "password", "attribute": "p"}]}),
            "is not one of",
        ),
        (
            json!({"entity_id": "urn:sp:x", "acs_urls": ["https://x.example/acs"], "sign_assertion": false}),
            "must be signed",
        ),
        (json!({"metadata": "<!DOCTYPE x []><x/>"}), "document type"),
        (
            json!({"metadata": "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>"}),
            "not one EntityDescriptor",
        ),
    ] {
        let (status, v) = admin_call(&s, "POST", "/tenants/saml3/saml/sps", Some(body)).await;
        assert_eq!(status, 400, "{v}");
        assert!(v.to_string().contains(says), "{says}: {v}");
    }
    let (_, list) = admin_call(&s, "GET", "/tenants/saml3/saml/sps", None).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["entity_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![SP, "urn:sp:two"]);
    let (status, _) = admin_call(
        &s,
        "DELETE",
        &format!("/tenants/saml3/saml/sps?entity_id={}", enc("urn:sp:two")),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, v) = admin_call(
        &s,
        "DELETE",
        "/tenants/saml3/saml/sps?entity_id=urn:sp:two",
        None,
    )
    .await;
    assert_eq!(status, 404, "{v}");
    let (status, _, page) = b.get(&format!("{idp}/saml/idp-init?sp=urn:sp:two")).await;
    assert_eq!((status, page.contains("(unknown_sp)")), (400, true));
    // A tenant without SPs has no SAML metadata.
    let other = s.tenant("saml4", false, true).await;
    let r = s
        .http
        .get(format!("{}/saml/metadata", other.issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[actix_web::test]
async fn the_cli_registers_lists_and_removes_sps() {
    let s = TestServer::start().await;
    s.tenant("saml5", false, true).await;
    let sp_key = TestKey::new("sp");
    let dir = tempfile::tempdir().unwrap();
    let metadata = dir.path().join("sp.xml");
    std::fs::write(&metadata, sp_metadata(SP, Some(&sp_key))).unwrap();
    let env = [("TOLLGATE_ADMIN_TOKEN", s.admin_token.as_str())];
    let run = |extra: &[&str]| {
        let mut args = vec!["admin", "--url", &s.base, "saml-sp"];
        args.extend_from_slice(extra);
        tollgate(&args, &env)
    };
    let (ok, out, err) = run(&[
        "register",
        "saml5",
        "--metadata-file",
        metadata.to_str().unwrap(),
        "--name-id-format",
        "email",
        "--attribute",
        "email=mail",
    ]);
    assert!(ok, "{err}");
    let sp: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sp["entity_id"], SP);
    assert_eq!(sp["name_id_format"], "email");
    assert_eq!(
        sp["attributes"],
        json!([{"claim": "email", "attribute": "mail"}])
    );
    assert!(sp["certificate"].is_string());
    let (ok, out, err) = run(&[
        "register",
        "saml5",
        "--entity-id",
        "urn:b",
        "--acs-url",
        "https://b.example/acs",
        "--sign-response",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("\"sign_response\": true"), "{out}");
    let (ok, _, err) = run(&[
        "register",
        "saml5",
        "--entity-id",
        "urn:c",
        "--attribute",
        "nonsense",
    ]);
    assert!(!ok);
    assert!(err.contains("claim=AttributeName"), "{err}");
    let (ok, _, err) = run(&["register", "saml5", "--entity-id", "urn:c"]);
    assert!(!ok);
    assert!(err.contains("between 1 and 20 acs_urls"), "{err}");
    let (ok, out, err) = run(&["remove", "saml5", SP]);
    assert!(ok, "{err}: {out}");
    let (ok, out, err) = run(&["list", "saml5"]);
    assert!(ok, "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["entity_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["urn:b"]);
}
