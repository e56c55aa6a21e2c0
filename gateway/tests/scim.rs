//! SCIM 2.0 (RFC 7644) over HTTP: users created, read, filtered, sorted, paged, patched
//! and replaced with ETags; tokens per tenant, revoked, refused elsewhere; deprovisioning
//! (`active: false`, DELETE) ending sessions, refresh chains and access tokens at once;
//! Bulk with its limits; and each bad input answered with its SCIM error and nothing
//! changed.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

struct Scim {
    base: String,
    token: String,
    token_id: String,
    http: reqwest::Client,
}

/// An answer: status, ETag header, body (JSON, or Null).
struct Answer {
    status: StatusCode,
    etag: Option<String>,
    location: Option<String>,
    body: Value,
}

impl Scim {
    async fn new(s: &TestServer, tenant: &str) -> Self {
        let t = s
            .admin(
                &format!("/tenants/{tenant}/scim-tokens"),
                json!({"name": "HR system"}),
            )
            .await;
        Self {
            base: format!("{}/{tenant}/scim/v2", s.base),
            token: t["token"].as_str().unwrap().to_owned(),
            token_id: t["id"].as_str().unwrap().to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (etag, location) = (header("etag"), header("location"));
        if status.as_u16() >= 400 {
            assert_eq!(
                header("content-type").as_deref(),
                Some("application/scim+json"),
                "{path}"
            );
        }
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            etag,
            location,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(reqwest::Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(reqwest::Method::POST, path, Some(body), &[])
            .await
    }

    async fn patch(&self, id: &str, ops: Value, headers: &[(&str, &str)]) -> Answer {
        let body = json!({"schemas": [PATCH], "Operations": ops});
        self.call(
            reqwest::Method::PATCH,
            &format!("/Users/{id}"),
            Some(body),
            headers,
        )
        .await
    }

    async fn list(&self, query: &[(&str, &str)]) -> Answer {
        let q = serde_urlencoded::to_string(query).unwrap();
        self.get(&format!("/Users?{q}")).await
    }

    async fn user_names(&self, filter: &str) -> Vec<String> {
        let a = self.list(&[("filter", filter)]).await;
        assert_eq!(a.status, 200, "{filter}: {}", a.body);
        names(&a.body)
    }
}

fn names(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_owned())
        .collect()
}

/// The error answer says exactly this.
fn scim_error(a: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(a.status.as_u16(), status, "{}", a.body);
    assert_eq!(a.body["schemas"], json!([ERROR]), "{}", a.body);
    assert_eq!(a.body["status"], status.to_string(), "{}", a.body);
    assert_eq!(
        a.body.get("scimType").and_then(Value::as_str),
        scim_type,
        "{}",
        a.body
    );
}

fn new_user(email: &str, external: &str, dept: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "userName": email,
        "externalId": external,
        "name": {"givenName": "Barbara", "familyName": email.split('@').next().unwrap()},
        "emails": [{"value": email, "type": "work", "primary": true},
                   {"value": format!("home.{email}"), "type": "home"}],
        "phoneNumbers": [{"value": "+919800000000", "type": "mobile"}],
        "title": "Tour Guide",
        ENTERPRISE: {"employeeNumber": external, "department": dept},
    })
}

#[actix_web::test]
async fn users_are_provisioned_filtered_sorted_paged_and_patched_with_etags() {
    let s = TestServer::start().await;
    let t0 = s.tenant("acme", false, true).await;
    let scim = Scim::new(&s, "acme").await;

    // Discovery.
    let spc = scim.get("/ServiceProviderConfig").await;
    assert_eq!(spc.status, 200);
    assert_eq!(spc.body["bulk"]["maxOperations"], 100);
    assert_eq!(spc.body["bulk"]["maxPayloadSize"], 1_048_576);
    assert_eq!(spc.body["etag"]["supported"], true);
    let schemas = scim.get("/Schemas").await;
    assert_eq!(schemas.body["totalResults"], 3);
    let user_schema = scim.get(&format!("/Schemas/{USER}")).await;
    assert_eq!(user_schema.body["name"], "User");
    let rts = scim.get("/ResourceTypes").await;
    assert_eq!(
        rts.body["Resources"][0]["schemaExtensions"][0]["schema"],
        ENTERPRISE
    );

    // Create: 201 with Location and ETag; the password is never shown.
    let mut body = new_user("carol@acme.example", "E-300", "Sales");
    body["password"] = json!("a long enough passphrase 1");
    let created = scim.post("/Users", body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.location.as_deref(),
        Some(format!("{}/Users/{id}", scim.base).as_str())
    );
    assert_eq!(
        created.etag.as_deref(),
        created.body["meta"]["version"].as_str()
    );
    assert!(created.body.get("password").is_none());
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body[ENTERPRISE]["department"], "Sales");
    assert_eq!(created.body["schemas"], json!([USER, ENTERPRISE]));
    // The new user signs in with that password.
    let t = TestTenant {
        email: "carol@acme.example".into(),
        ..t0
    };
    sign_in(&s, &t, "a long enough passphrase 1").await;
    for (email, ext, dept) in [
        ("alice@acme.example", "E-100", "Tours"),
        ("bob@acme.example", "E-200", "Tours"),
        ("dave@other.example", "E-400", "Sales"),
    ] {
        let a = scim.post("/Users", new_user(email, ext, dept)).await;
        assert_eq!(a.status, 201, "{}", a.body);
    }

    // Duplicate userName (in any case): 409 uniqueness, and still one such user.
    let dup = scim
        .post("/Users", new_user("CAROL@acme.example", "E-999", "X"))
        .await;
    scim_error(&dup, 409, Some("uniqueness"));
    assert_eq!(
        scim.user_names(r#"userName eq "carol@acme.example""#).await,
        ["carol@acme.example"]
    );
    assert!(scim.user_names(r#"externalId eq "E-999""#).await.is_empty());

    // Filters: indexed and walked.
    assert_eq!(
        scim.user_names(r#"externalId eq "E-200""#).await,
        ["bob@acme.example"]
    );
    assert_eq!(
        scim.user_names(&format!(r#"id eq "{id}""#)).await,
        ["carol@acme.example"]
    );
    let mut tours = scim
        .user_names(&format!(r#"{ENTERPRISE}:department eq "Tours""#))
        .await;
    tours.sort();
    assert_eq!(tours, ["alice@acme.example", "bob@acme.example"]);
    let mut some = scim
        .user_names(r#"(userName sw "a" or userName ew "other.example") and not (title pr and externalId eq "E-400")"#)
        .await;
    some.sort();
    assert_eq!(some, ["alice@acme.example"]);
    assert_eq!(
        scim.user_names(r#"emails[type eq "home" and value co "home.bob"]"#)
            .await,
        ["bob@acme.example"]
    );
    assert_eq!(
        scim.user_names(r#"name.familyName co "aro""#).await,
        ["carol@acme.example"]
    );
    // The tenant's first user (made by the admin API) is listed too.
    assert_eq!(scim.user_names("title pr").await.len(), 4);
    assert_eq!(scim.list(&[]).await.body["totalResults"], 5);

    // Sorting and pages.
    let page = scim
        .list(&[
            ("filter", "title pr"),
            ("sortBy", "userName"),
            ("sortOrder", "descending"),
            ("startIndex", "2"),
            ("count", "2"),
        ])
        .await;
    assert_eq!(page.body["totalResults"], 4);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(
        names(&page.body),
        ["carol@acme.example", "bob@acme.example"]
    );
    let only = scim
        .list(&[
            ("filter", r#"userName eq "bob@acme.example""#),
            ("attributes", "userName"),
        ])
        .await;
    let r = &only.body["Resources"][0];
    assert!(r.get("userName").is_some() && r.get("emails").is_none() && r.get("id").is_some());

    // Bad filters and list parameters: invalidFilter / invalidValue.
    let deep = format!("{}title pr{}", "(".repeat(9), ")".repeat(9));
    for (f, detail) in [
        (r#"userName eq"#, "expected a value at the end"),
        (r#"userName xx "a""#, "unknown operator \"xx\""),
        (
            r#"(userName eq "a""#,
            "expected a closing parenthesis at the end",
        ),
        (r#"bogus eq "a""#, "no attribute bogus"),
        (r#"password eq "a""#, "password cannot be filtered on"),
        (
            deep.as_str(),
            "the filter is nested more than 8 levels deep",
        ),
    ] {
        let a = scim.list(&[("filter", f)]).await;
        scim_error(&a, 400, Some("invalidFilter"));
        assert_eq!(a.body["detail"], detail, "{f}");
    }
    let long = format!(r#"userName eq "{}""#, "a".repeat(2100));
    scim_error(
        &scim.list(&[("filter", &long)]).await,
        400,
        Some("invalidFilter"),
    );
    scim_error(
        &scim.list(&[("sortOrder", "sideways")]).await,
        400,
        Some("invalidValue"),
    );
    scim_error(
        &scim.list(&[("count", "many")]).await,
        400,
        Some("invalidValue"),
    );

    // GET with If-None-Match: 304.
    let one = scim.get(&format!("/Users/{id}")).await;
    let etag = one.etag.clone().unwrap();
    let nm = scim
        .call(
            reqwest::Method::GET,
            &format!("/Users/{id}"),
            None,
            &[("If-None-Match", &etag)],
        )
        .await;
    assert_eq!(nm.status, 304);

    // PATCH with paths; the ETag moves.
    let p = scim
        .patch(
            &id,
            json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "carol.w@acme.example"},
                {"op": "add", "path": "nickName", "value": "CJ"},
                {"op": "remove", "path": "phoneNumbers"},
                {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Tours"},
            ]),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["emails"][0]["value"], "carol.w@acme.example");
    assert_eq!(p.body["nickName"], "CJ");
    assert!(p.body.get("phoneNumbers").is_none());
    assert_eq!(p.body[ENTERPRISE]["department"], "Tours");
    let etag2 = p.etag.clone().unwrap();
    assert_ne!(etag2, etag);

    // Bad PATCHes and a stale If-Match: each its error, and the user unchanged.
    let bad: Vec<(Value, u16, Option<&str>)> = vec![
        (
            json!([{"op": "replace", "path": "bogus", "value": "x"}]),
            400,
            Some("invalidPath"),
        ),
        (
            json!([{"op": "replace", "path": "name.bogus", "value": "x"}]),
            400,
            Some("invalidPath"),
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"fax\"].value", "value": "x"}]),
            400,
            Some("noTarget"),
        ),
        (json!([{"op": "remove"}]), 400, Some("noTarget")),
        (
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            400,
            Some("mutability"),
        ),
        (
            json!([{"op": "replace", "path": "active", "value": 7}]),
            400,
            Some("invalidValue"),
        ),
        (
            json!([{"op": "replace", "path": "userName", "value": "alice@acme.example"}]),
            409,
            Some("uniqueness"),
        ),
    ];
    for (ops, status, t) in bad {
        let a = scim
            .patch(
                &id,
                json!([{"op": "add", "path": "title", "value": "Changed"}, ops[0].clone()]),
                &[],
            )
            .await;
        scim_error(&a, status, t);
    }
    let stale = scim
        .patch(
            &id,
            json!([{"op": "add", "path": "title", "value": "Changed"}]),
            &[("If-Match", &etag)],
        )
        .await;
    scim_error(&stale, 412, None);
    let put_stale = scim
        .call(
            reqwest::Method::PUT,
            &format!("/Users/{id}"),
            Some(new_user("carol@acme.example", "E-300", "Changed")),
            &[("If-Match", "W/\"0000000000000000\"")],
        )
        .await;
    scim_error(&put_stale, 412, None);
    let after = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(after.etag.as_deref(), Some(etag2.as_str()));
    assert_eq!(after.body["title"], "Tour Guide");
    assert_eq!(after.body["userName"], "carol@acme.example");

    // PUT replaces: what is left out goes; renaming the login id works.
    let put = scim
        .call(
            reqwest::Method::PUT,
            &format!("/Users/{id}"),
            Some(json!({"schemas": [USER], "userName": "caroline@acme.example", "externalId": "E-301"})),
            &[("If-Match", &etag2)],
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert!(put.body.get("nickName").is_none() && put.body.get(ENTERPRISE).is_none());
    assert_eq!(
        scim.user_names(r#"userName eq "caroline@acme.example""#)
            .await,
        ["caroline@acme.example"]
    );
    assert!(scim.user_names(r#"externalId eq "E-300""#).await.is_empty());
    assert!(
        scim.user_names(r#"userName eq "carol@acme.example""#)
            .await
            .is_empty()
    );

    // A bad body: invalidSyntax / invalidValue, nothing created.
    let before = scim.list(&[]).await.body["totalResults"].clone();
    let a = scim
        .call(
            reqwest::Method::POST,
            "/Users",
            None,
            &[("content-type", "application/scim+json")],
        )
        .await;
    scim_error(&a, 400, Some("invalidSyntax"));
    scim_error(
        &scim
            .post("/Users", json!({"userName": "x@acme.example"}))
            .await,
        400,
        Some("invalidSyntax"),
    );
    scim_error(
        &scim
            .post(
                "/Users",
                json!({"schemas": [USER], "userName": "no-at-sign"}),
            )
            .await,
        400,
        Some("invalidValue"),
    );
    scim_error(
        &scim
            .post(
                "/Users",
                json!({"schemas": [USER], "userName": "p@acme.example", "password": "short"}),
            )
            .await,
        400,
        Some("invalidValue"),
    );
    assert_eq!(scim.list(&[]).await.body["totalResults"], before);
    scim_error(&scim.get("/Users/nope").await, 404, None);

    // Every change is an event by the token, with no personal data in it.
    let events = s.events("acme", "kind=scim.").await;
    let actor = format!("scim_token:{}", scim.token_id);
    assert!(events.len() >= 6, "{events:?}");
    for e in &events {
        assert_eq!(e["actor"], actor.as_str(), "{e}");
        assert!(!e.to_string().contains("acme.example"), "{e}");
    }
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "scim.user_created" && e["subject"] == id.as_str())
    );
    assert!(events.iter().any(|e| e["kind"] == "scim.user_patched"));
    assert!(events.iter().any(|e| e["kind"] == "scim.user_replaced"));
}

#[actix_web::test]
async fn tokens_belong_to_one_tenant_and_die_when_revoked() {
    let s = TestServer::start().await;
    s.tenant("one", false, true).await;
    s.tenant("two", false, true).await;
    let one = Scim::new(&s, "one").await;
    let two = Scim::new(&s, "two").await;
    assert_eq!(one.get("/Users").await.status, 200);

    // Another tenant's token, no token, a malformed one: 401, nothing created.
    let mut cross = Scim {
        base: two.base.clone(),
        token: one.token.clone(),
        token_id: String::new(),
        http: reqwest::Client::new(),
    };
    let a = cross
        .post("/Users", new_user("x@two.example", "X", "Y"))
        .await;
    scim_error(&a, 401, None);
    cross.token = "tgscim_not-a-token".into();
    scim_error(&cross.get("/Users").await, 401, None);
    let r = reqwest::get(format!("{}/Users", two.base)).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"scim\"");
    scim_error(
        &Scim {
            base: format!("{}/nosuch/scim/v2", s.base),
            ..cross
        }
        .get("/Users")
        .await,
        401,
        None,
    );
    assert_eq!(two.list(&[]).await.body["totalResults"], 1);

    // The list never shows the token; a revoked token is refused at once.
    let listed = s.admin_get("/tenants/one/scim-tokens").await;
    assert_eq!(listed[0]["id"], one.token_id.as_str());
    assert!(!listed.to_string().contains(&one.token));
    let r = s
        .http
        .delete(format!(
            "{}/admin/v1/tenants/one/scim-tokens/{}",
            s.base, one.token_id
        ))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v["revoked_at"].as_u64().is_some());
    scim_error(&one.get("/Users").await, 401, None);
    assert_eq!(two.get("/Users").await.status, 200);
    let r = s
        .http
        .delete(format!("{}/admin/v1/tenants/one/scim-tokens/nope", s.base))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Token admin needs the admin token; names are checked.
    let r = s
        .http
        .post(format!("{}/admin/v1/tenants/one/scim-tokens", s.base))
        .bearer_auth(&one.token)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .http
        .post(format!("{}/admin/v1/tenants/one/scim-tokens", s.base))
        .bearer_auth(&s.admin_token)
        .json(&json!({"name": " "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let events = s.events("one", "kind=admin.").await;
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| k.starts_with("admin.scim_token"))
        .collect();
    assert_eq!(
        kinds,
        ["admin.scim_token_revoked", "admin.scim_token_created"]
    );
}

/// Signs in through the hosted pages with the browser; returns the token response
/// (with `offline_access`: a refresh token).
async fn sign_in(s: &TestServer, t: &TestTenant, password: &str) -> (Browser, Value) {
    let b = s.browser();
    let (verifier, challenge) = pkce();
    let url = authorize_url(
        t,
        "openid offline_access",
        &challenge,
        &[("prompt", "consent")],
    );
    let back = b.authorize(&url, &t.email, password).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (st, v) = redeem(&reqwest::Client::new(), t, &code, &verifier).await;
    assert_eq!(st, 200, "{v}");
    (b, v)
}

/// Whether the browser's session still signs it in silently (`prompt=none`).
async fn session_alive(b: &Browser, t: &TestTenant) -> bool {
    let (_, challenge) = pkce();
    let url = authorize_url(t, "openid", &challenge, &[("prompt", "none")]);
    let (status, loc, _) = b.get(&url).await;
    assert_eq!(status, 303);
    let loc = loc.unwrap();
    if query_param(&loc, "code").is_some() {
        return true;
    }
    assert_eq!(
        query_param(&loc, "error").as_deref(),
        Some("login_required"),
        "{loc}"
    );
    false
}

async fn introspect(t: &TestTenant, token: &str) -> Value {
    let form = [
        ("token", token),
        ("client_id", t.client_id.as_str()),
        ("client_secret", t.client_secret.as_deref().unwrap()),
    ];
    reqwest::Client::new()
        .post(format!("{}/introspect", t.issuer))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A sign-in attempt on the hosted login page: whether it got through.
async fn can_sign_in(s: &TestServer, t: &TestTenant) -> bool {
    let b = s.browser();
    let (_, challenge) = pkce();
    let url = authorize_url(t, "openid", &challenge, &[]);
    let (_, loc, _) = b.get(&url).await;
    let login = loc.unwrap();
    let (_, _, page) = b.get(&login).await;
    let tx = hidden(&page, "tx").unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let action = format!("{}/login", t.issuer);
    let (status, _, _) = b
        .post_form(
            &action,
            &[
                ("email", &t.email),
                ("password", PASSWORD),
                ("tx", &tx),
                ("csrf", &csrf),
            ],
        )
        .await;
    status == 303
}

#[actix_web::test]
async fn deprovisioning_ends_sessions_refresh_chains_and_access_tokens_at_once() {
    let s = TestServer::start().await;
    let t = s.tenant("corp", false, true).await;
    let scim = Scim::new(&s, "corp").await;
    let found = scim
        .list(&[("filter", &format!(r#"userName eq "{}""#, t.email))])
        .await;
    let id = found.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(found.body["Resources"][0]["active"], true);

    // active: false by PATCH (as Entra ID sends it: a string, no path).
    let (b, tokens) = sign_in(&s, &t, PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    assert!(session_alive(&b, &t).await);
    assert_eq!(introspect(&t, access).await["active"], true);
    let off = scim
        .patch(
            &id,
            json!([{"op": "Replace", "value": {"active": "False"}}]),
            &[],
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["active"], false);
    let (st, v) = refresh(&t, refresh_token).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    assert_eq!(introspect(&t, access).await["active"], false);
    assert!(!session_alive(&b, &t).await);
    assert!(!can_sign_in(&s, &t).await, "a deactivated user signed in");
    let events = s.events("corp", "kind=scim.user_deactivated").await;
    assert_eq!(events[0]["detail"], "sessions=1 chains=1", "{events:?}");

    // Back on (PUT): signs in again.
    let on = scim
        .call(
            reqwest::Method::PUT,
            &format!("/Users/{id}"),
            Some(json!({"schemas": [USER], "userName": t.email, "active": true})),
            &[],
        )
        .await;
    assert_eq!(on.status, 200, "{}", on.body);
    let (b, tokens) = sign_in(&s, &t, PASSWORD).await;

    // DELETE: the same at once, and the user is gone (its login id free again).
    let gone = scim
        .call(
            reqwest::Method::DELETE,
            &format!("/Users/{id}"),
            None,
            &[("If-Match", "W/\"stale\"")],
        )
        .await;
    scim_error(&gone, 412, None);
    let del = scim
        .call(reqwest::Method::DELETE, &format!("/Users/{id}"), None, &[])
        .await;
    assert_eq!(del.status, 204);
    let (st, _) = refresh(&t, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(st, 400);
    assert_eq!(
        introspect(&t, tokens["access_token"].as_str().unwrap()).await["active"],
        false
    );
    assert!(!session_alive(&b, &t).await);
    scim_error(&scim.get(&format!("/Users/{id}")).await, 404, None);
    assert!(
        scim.user_names(&format!(r#"userName eq "{}""#, t.email))
            .await
            .is_empty()
    );
    let again = scim
        .post("/Users", json!({"schemas": [USER], "userName": t.email}))
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
    let deleted = s.events("corp", "kind=user.deleted").await;
    assert_eq!(
        deleted[0]["actor"],
        format!("scim_token:{}", scim.token_id).as_str()
    );
}

#[actix_web::test]
async fn bulk_runs_operations_in_order_within_its_limits() {
    let s = TestServer::start().await;
    s.tenant("bulk", false, true).await;
    let scim = Scim::new(&s, "bulk").await;
    let ok = scim
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "q1", "data": new_user("q1@bulk.example", "Q1", "A")},
                {"method": "PATCH", "path": "/Users/bulkId:q1", "data": {"schemas": [PATCH], "Operations": [{"op": "add", "path": "nickName", "value": "Q"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "q2", "data": new_user("q1@bulk.example", "Q2", "A")},
                {"method": "DELETE", "path": "/Users/nope"},
            ]}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let ops = ok.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "200", "409", "404"]);
    assert_eq!(ops[2]["response"]["scimType"], "uniqueness");
    assert_eq!(
        scim.user_names(r#"nickName eq "Q""#).await,
        ["q1@bulk.example"]
    );

    // Over the operation limit, or over the size limit: 413 and nothing done.
    let before = scim.list(&[]).await.body["totalResults"].clone();
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": new_user(&format!("b{i}@bulk.example"), "B", "A")}))
        .collect();
    let a = scim
        .post("/Bulk", json!({"schemas": [BULK], "Operations": many}))
        .await;
    scim_error(&a, 413, None);
    assert_eq!(
        a.body["detail"],
        "the Bulk request has more than maxOperations (100) operations"
    );
    let big = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "big", "data": {"schemas": [USER], "userName": "big@bulk.example", "title": "x".repeat(1_100_000)}}]});
    let a = scim.post("/Bulk", big).await;
    scim_error(&a, 413, None);
    assert_eq!(scim.list(&[]).await.body["totalResults"], before);
    let a = scim.post("/Bulk", json!({"Operations": []})).await;
    scim_error(&a, 400, Some("invalidSyntax"));
}

#[actix_web::test]
async fn groups_are_roles_and_their_members_the_holders() {
    let s = TestServer::start().await;
    let t = s.tenant("rbac", false, true).await;
    let scim = Scim::new(&s, "rbac").await;
    let ada = scim
        .list(&[("filter", &format!(r#"userName eq "{}""#, t.email))])
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = scim
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "bob@rbac.example"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

    let g = scim
        .post("/Groups", json!({"schemas": [GROUP], "displayName": "billing-admin", "members": [{"value": ada}]}))
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    assert_eq!(g.body["id"], "billing-admin");
    assert_eq!(g.body["members"][0]["value"], ada.as_str());
    // The role exists for the rest of Tollgate (tokens' `roles`, the admin API).
    let role = s
        .running
        .engine
        .store()
        .get_role(
            &tollgate_engine::ids::TenantId::parse("rbac").unwrap(),
            "billing-admin",
        )
        .await
        .unwrap();
    assert!(role.is_some());

    // Bad groups: each its error, nothing made.
    scim_error(
        &scim
            .post(
                "/Groups",
                json!({"schemas": [GROUP], "displayName": "billing-admin"}),
            )
            .await,
        409,
        Some("uniqueness"),
    );
    scim_error(
        &scim
            .post(
                "/Groups",
                json!({"schemas": [GROUP], "displayName": "Billing Admins"}),
            )
            .await,
        400,
        Some("invalidValue"),
    );
    scim_error(
        &scim
            .post(
                "/Groups",
                json!({"schemas": [GROUP], "displayName": "ops", "members": [{"value": "nobody"}]}),
            )
            .await,
        400,
        Some("invalidValue"),
    );
    scim_error(&scim.get("/Groups/ops").await, 404, None);

    // PATCH members in and out, the way Entra ID and Okta send them.
    let p = scim
        .call(
            reqwest::Method::PATCH,
            "/Groups/billing-admin",
            Some(json!({"schemas": [PATCH], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": bob}]},
                {"op": "remove", "path": format!("members[value eq \"{ada}\"]")},
            ]})),
            &[("If-Match", g.etag.as_deref().unwrap())],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let members: Vec<&str> = p.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [bob.as_str()]);
    let stale = scim
        .call(reqwest::Method::PATCH, "/Groups/billing-admin", Some(json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": ada}]}]})), &[("If-Match", g.etag.as_deref().unwrap())])
        .await;
    scim_error(&stale, 412, None);
    let rename = scim
        .call(reqwest::Method::PATCH, "/Groups/billing-admin", Some(json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "other"}]})), &[])
        .await;
    scim_error(&rename, 400, Some("mutability"));
    let listed = scim
        .get("/Groups?filter=displayName%20eq%20%22billing-admin%22")
        .await;
    assert_eq!(listed.body["totalResults"], 1);
    assert_eq!(
        listed.body["Resources"][0]["members"][0]["value"],
        bob.as_str()
    );

    // PUT replaces the holders; DELETE removes the role.
    let put = scim
        .call(
            reqwest::Method::PUT,
            "/Groups/billing-admin",
            Some(json!({"schemas": [GROUP], "displayName": "billing-admin", "members": []})),
            &[],
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["members"], json!([]));
    let del = scim
        .call(reqwest::Method::DELETE, "/Groups/billing-admin", None, &[])
        .await;
    assert_eq!(del.status, 204);
    scim_error(&scim.get("/Groups/billing-admin").await, 404, None);
    let events = s.events("rbac", "kind=scim.").await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"scim.group_created")
            && kinds.contains(&"scim.group_changed")
            && kinds.contains(&"scim.group_deleted"),
        "{kinds:?}"
    );
}

#[actix_web::test]
async fn an_organisation_token_sees_and_changes_only_its_members() {
    use tollgate_engine::model::org::{Organization, Role};
    let s = TestServer::start().await;
    let t = s.tenant("b2b", false, true).await;
    let tid = tollgate_engine::ids::TenantId::parse("b2b").unwrap();
    let store = s.running.engine.store();
    for id in ["acme", "globex"] {
        store
            .create_org(&Organization {
                tenant: tid.clone(),
                id: id.into(),
                name: id.into(),
                display_name: id.into(),
                created_at: 1,
                settings: Default::default(),
            })
            .await
            .unwrap();
    }
    store
        .put_role(&Role {
            tenant: tid.clone(),
            id: "viewer".into(),
            description: String::new(),
            permissions: vec![],
        })
        .await
        .unwrap();
    let tenant_wide = Scim::new(&s, "b2b").await;
    let mk = |org: &str| json!({"name": format!("{org} HR"), "organization": org});
    let acme_t = s.admin("/tenants/b2b/scim-tokens", mk("acme")).await;
    let globex_t = s.admin("/tenants/b2b/scim-tokens", mk("globex")).await;
    let as_org = |tok: &Value| Scim {
        base: tenant_wide.base.clone(),
        token: tok["token"].as_str().unwrap().to_owned(),
        token_id: tok["id"].as_str().unwrap().to_owned(),
        http: reqwest::Client::new(),
    };
    let (acme, globex) = (as_org(&acme_t), as_org(&globex_t));
    let r = s
        .http
        .post(format!("{}/admin/v1/tenants/b2b/scim-tokens", s.base))
        .bearer_auth(&s.admin_token)
        .json(&mk("nosuch"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The tenant's own user is no member of either organisation.
    assert_eq!(acme.list(&[]).await.body["totalResults"], 0);
    let ada = tenant_wide
        .list(&[("filter", &format!(r#"userName eq "{}""#, t.email))])
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    scim_error(&acme.get(&format!("/Users/{ada}")).await, 404, None);
    assert!(
        acme.user_names(&format!(r#"userName eq "{}""#, t.email))
            .await
            .is_empty()
    );
    scim_error(
        &acme
            .patch(
                &ada,
                json!([{"op": "replace", "path": "active", "value": false}]),
                &[],
            )
            .await,
        404,
        None,
    );

    // What an organisation token creates is a member there, and nowhere else.
    let wile = acme
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "wile@acme.example"}),
        )
        .await;
    assert_eq!(wile.status, 201, "{}", wile.body);
    let wile = wile.body["id"].as_str().unwrap().to_owned();
    assert_eq!(acme.user_names("userName pr").await, ["wile@acme.example"]);
    assert_eq!(globex.list(&[]).await.body["totalResults"], 0);
    scim_error(&globex.get(&format!("/Users/{wile}")).await, 404, None);
    assert!(
        store
            .get_membership(
                &tid,
                "acme",
                &tollgate_engine::ids::UserId::from_stored(wile.clone())
            )
            .await
            .unwrap()
            .is_some()
    );

    // Groups: roles are the tenant's; an organisation token changes holders in its own.
    let group =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x"});
    scim_error(&acme.post("/Groups", group).await, 403, None);
    let add = |who: &str| json!([{"op": "add", "path": "members", "value": [{"value": who}]}]);
    let p = acme
        .call(
            reqwest::Method::PATCH,
            "/Groups/viewer",
            Some(json!({"schemas": [PATCH], "Operations": add(&wile)})),
            &[],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["members"][0]["value"], wile.as_str());
    let outsider = acme
        .call(
            reqwest::Method::PATCH,
            "/Groups/viewer",
            Some(json!({"schemas": [PATCH], "Operations": add(&ada)})),
            &[],
        )
        .await;
    scim_error(&outsider, 400, Some("invalidValue"));
    // Tenant-wide, and in the other organisation, nobody holds it.
    assert_eq!(
        tenant_wide.get("/Groups/viewer").await.body["members"],
        json!([])
    );
    assert_eq!(
        globex.get("/Groups/viewer").await.body["members"],
        json!([])
    );

    // The organisation's DELETE takes the user out of it: the account stays only if it
    // belongs to another organisation; here it was acme's alone, so it is deleted.
    let del = acme
        .call(
            reqwest::Method::DELETE,
            &format!("/Users/{wile}"),
            None,
            &[],
        )
        .await;
    assert_eq!(del.status, 204);
    scim_error(&tenant_wide.get(&format!("/Users/{wile}")).await, 404, None);
}
