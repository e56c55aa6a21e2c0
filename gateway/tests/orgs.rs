//! Organisations, roles and permissions through the public interface (issue 19): the
//! admin API and each bad input's exact error; the `organization` authorization parameter
//! and its refusals on the redirect; `org_id`/`org_name`/`roles`/`permissions` in ID and
//! access tokens and introspection; refreshes that follow role changes and are refused
//! once the member is removed; the permission check for apps; invitations.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// An admin API call with any method: status and JSON body (`Null` when empty).
async fn call(srv: &TestServer, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = srv
        .http
        .request(method, format!("{}/admin/v1{path}", srv.base))
        .bearer_auth(&srv.admin_token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Asserts an admin error: status, `error` and `error_description`.
fn refused(got: (u16, Value), status: u16, error: &str, description: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error"], error, "{}", got.1);
    assert_eq!(got.1["error_description"], description, "{}", got.1);
}

async fn new_user(srv: &TestServer, t: &str, email: &str) -> String {
    let u = srv
        .admin(
            &format!("/tenants/{t}/users"),
            json!({"email": email, "password": PASSWORD, "email_verified": true}),
        )
        .await;
    u["id"].as_str().unwrap().to_owned()
}

/// Named permissions, and two roles over them.
async fn catalogue(srv: &TestServer, t: &str) {
    let (s, v) = call(
        srv,
        Method::PUT,
        &format!("/tenants/{t}/org-settings"),
        Some(json!({"permissions": [
            {"name": "invoices:read", "description": "Read invoices"},
            {"name": "invoices:approve"}
        ]})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    for (role, perms) in [
        ("viewer", json!(["invoices:read"])),
        ("approver", json!(["invoices:read", "invoices:approve"])),
    ] {
        let (s, v) = call(
            srv,
            Method::PUT,
            &format!("/tenants/{t}/roles/{role}"),
            Some(json!({ "permissions": perms })),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
}

async fn create_org(srv: &TestServer, t: &str, body: Value) -> Value {
    let (s, v) = call(
        srv,
        Method::POST,
        &format!("/tenants/{t}/organizations"),
        Some(body),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v
}

async fn put_member(srv: &TestServer, t: &str, org: &str, user: &str, roles: Value) {
    let (s, v) = call(
        srv,
        Method::PUT,
        &format!("/tenants/{t}/organizations/{org}/members/{user}"),
        Some(json!({ "roles": roles })),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

#[actix_web::test]
async fn the_admin_api_manages_organisations_roles_and_members() {
    let srv = TestServer::start().await;
    let t = srv.tenant("orga", false, true).await;
    srv.tenant("orgz", false, true).await;
    catalogue(&srv, "orga").await;
    let ann = new_user(&srv, "orga", "ann@acme.example").await;
    let eve = new_user(&srv, "orga", "eve@evil.example").await;

    // Roles name only permissions of the catalogue.
    refused(
        call(
            &srv,
            Method::PUT,
            "/tenants/orga/roles/bad",
            Some(json!({"permissions": ["invoices:delete"]})),
        )
        .await,
        400,
        "invalid_request",
        "permissions: unknown permission \"invoices:delete\"",
    );
    let roles = srv.admin_get("/tenants/orga/roles").await;
    let ids: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["approver", "viewer"]);
    let perms = srv.admin_get("/tenants/orga/permissions").await;
    assert_eq!(perms[0]["name"], "invoices:approve");
    // A permission a role still uses cannot leave the catalogue.
    refused(
        call(
            &srv,
            Method::PUT,
            "/tenants/orga/org-settings",
            Some(json!({"permissions": [{"name": "invoices:read"}]})),
        )
        .await,
        400,
        "invalid_request",
        "permissions: \"invoices:approve\" is still used by role \"approver\"",
    );

    // Organisations: unique names, checked settings.
    let acme = create_org(
        &srv,
        "orga",
        json!({"name": "acme", "display_name": "Acme Ltd",
               "settings": {"allowed_email_domains": ["ACME.example"]}}),
    )
    .await;
    let acme_id = acme["id"].as_str().unwrap().to_owned();
    assert!(acme_id.starts_with("org_"), "{acme}");
    assert_eq!(
        acme["settings"]["allowed_email_domains"],
        json!(["acme.example"])
    );
    let orgs = "/tenants/orga/organizations";
    refused(
        call(&srv, Method::POST, orgs, Some(json!({"name": "acme"}))).await,
        409,
        "conflict",
        "organization name already exists",
    );
    refused(
        call(&srv, Method::POST, orgs, Some(json!({"name": "Acme Corp"}))).await,
        400,
        "invalid_request",
        "name must be 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit",
    );
    refused(
        call(
            &srv,
            Method::POST,
            orgs,
            Some(json!({"name": "x", "settings": {"allowed_methods": ["magic"]}})),
        )
        .await,
        400,
        "invalid_request",
        "settings.allowed_methods: unknown method \"magic\" (one of pwd, otp, sms, hwk, fed)",
    );
    refused(
        call(
            &srv,
            Method::POST,
            orgs,
            Some(json!({"name": "x", "settings": {"just_in_time": true}})),
        )
        .await,
        400,
        "invalid_request",
        "settings.just_in_time: needs allowed_email_domains (whose users join)",
    );
    // By id or by name; unknown ones and another tenant's are not found.
    assert_eq!(srv.admin_get(&format!("{orgs}/acme")).await["id"], acme_id);
    assert_eq!(
        srv.admin_get(&format!("{orgs}/{acme_id}")).await["name"],
        "acme"
    );
    refused(
        call(&srv, Method::GET, &format!("{orgs}/nope"), None).await,
        404,
        "not_found",
        "organization not found",
    );
    refused(
        call(
            &srv,
            Method::GET,
            &format!("/tenants/orgz/organizations/{acme_id}"),
            None,
        )
        .await,
        404,
        "not_found",
        "organization not found",
    );

    // Members: known users at an allowed domain, with known roles.
    let members = format!("{orgs}/acme/members");
    refused(
        call(
            &srv,
            Method::POST,
            &members,
            Some(json!({"user_id": "nobody", "roles": []})),
        )
        .await,
        404,
        "not_found",
        "user not found",
    );
    refused(
        call(
            &srv,
            Method::POST,
            &members,
            Some(json!({"user_id": ann, "roles": ["ghost"]})),
        )
        .await,
        400,
        "invalid_request",
        "roles: unknown role \"ghost\"",
    );
    refused(
        call(
            &srv,
            Method::POST,
            &members,
            Some(json!({"user_id": eve, "roles": []})),
        )
        .await,
        400,
        "invalid_request",
        "the user's email is outside the organization's allowed domains",
    );
    let (s, m) = call(
        &srv,
        Method::POST,
        &members,
        Some(json!({"user_id": ann, "roles": ["viewer", "approver", "viewer"]})),
    )
    .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["roles"], json!(["approver", "viewer"]));
    let page = srv.admin_get(&members).await;
    assert_eq!(page["items"][0]["user_id"], ann.as_str());
    // Each role with its holders in this organisation.
    let by_role = srv.admin_get(&format!("{orgs}/acme/roles")).await;
    assert_eq!(by_role[0]["role"]["id"], "approver");
    assert_eq!(by_role[0]["members"], json!([ann]));
    assert_eq!(by_role[1]["role"]["id"], "viewer");
    assert_eq!(by_role[1]["members"], json!([ann]));

    // A rename keeps the id; the old name is free.
    let (s, renamed) = call(
        &srv,
        Method::PATCH,
        &format!("{orgs}/acme"),
        Some(json!({"name": "acme-corp"})),
    )
    .await;
    assert_eq!(s, 200, "{renamed}");
    assert_eq!(renamed["id"], acme_id);
    refused(
        call(&srv, Method::GET, &format!("{orgs}/acme"), None).await,
        404,
        "not_found",
        "organization not found",
    );
    let other = create_org(&srv, "orga", json!({"name": "globex"})).await;
    refused(
        call(
            &srv,
            Method::PATCH,
            &format!("{orgs}/globex"),
            Some(json!({"name": "acme-corp"})),
        )
        .await,
        409,
        "conflict",
        "organization name already exists",
    );

    // What a user holds, per organisation and tenant-wide.
    let claims = srv
        .admin_get(&format!(
            "/tenants/orga/users/{ann}/permissions?org=acme-corp"
        ))
        .await;
    assert_eq!(claims["org_id"], acme_id);
    assert_eq!(claims["org_name"], "acme-corp");
    assert_eq!(claims["roles"], json!(["approver", "viewer"]));
    assert_eq!(
        claims["permissions"],
        json!(["invoices:approve", "invoices:read"])
    );
    refused(
        call(
            &srv,
            Method::GET,
            &format!("/tenants/orga/users/{ann}/permissions?org=globex"),
            None,
        )
        .await,
        404,
        "not_found",
        "membership not found",
    );
    let (s, _) = call(
        &srv,
        Method::PUT,
        &format!("/tenants/orga/users/{eve}/roles/viewer"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let claims = srv
        .admin_get(&format!("/tenants/orga/users/{eve}/permissions"))
        .await;
    assert_eq!(claims["roles"], json!(["viewer"]));
    assert!(claims.get("org_id").is_none(), "{claims}");
    refused(
        call(
            &srv,
            Method::PUT,
            &format!("/tenants/orga/users/{eve}/roles/ghost"),
            None,
        )
        .await,
        404,
        "not_found",
        "role not found",
    );

    let members = format!("{orgs}/acme-corp/members");
    // Deleting a role takes it from every holder.
    let (s, _) = call(&srv, Method::DELETE, "/tenants/orga/roles/approver", None).await;
    assert_eq!(s, 204);
    let page = srv.admin_get(&members).await;
    assert_eq!(page["items"][0]["roles"], json!(["viewer"]));

    // Deleting an organisation deletes its memberships.
    let (s, _) = call(&srv, Method::DELETE, &format!("{orgs}/acme-corp"), None).await;
    assert_eq!(s, 204);
    refused(
        call(&srv, Method::GET, &members, None).await,
        404,
        "not_found",
        "organization not found",
    );
    let claims = srv
        .admin_get(&format!("/tenants/orga/users/{ann}/permissions"))
        .await;
    assert_eq!(claims["roles"], json!([]));
    let list = srv.admin_get(orgs).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["id"], other["id"]);

    // Every change is an event, without the users' addresses.
    srv.settle_events().await;
    let events = srv.events("orga", "kind=org.").await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in [
        "org.created",
        "org.changed",
        "org.member_set",
        "org.deleted",
        "org.settings",
    ] {
        assert!(kinds.contains(&k), "{k} missing in {kinds:?}");
    }
    assert!(
        !serde_json::to_string(&events)
            .unwrap()
            .contains("acme.example"),
        "{events:?}"
    );
    let _ = t;
}

/// A signed-in authorization's last redirect to the client.
async fn authorize_to(
    b: &Browser,
    t: &TestTenant,
    email: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(t, "openid offline_access", &challenge, extra),
            email,
            PASSWORD,
        )
        .await;
    (back, verifier)
}

fn bearer_check(t: &TestTenant, token: &str, body: Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}/api/permissions/check", t.issuer))
        .bearer_auth(token)
        .json(&body)
}

async fn allowed(t: &TestTenant, token: &str, body: Value) -> bool {
    let r = bearer_check(t, token, body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["allowed"].as_bool().unwrap()
}

#[actix_web::test]
async fn tokens_carry_the_organisation_signed_in_to() {
    let srv = TestServer::start().await;
    let t = srv.tenant("orgt", false, true).await;
    catalogue(&srv, "orgt").await;
    let email = "bo@acme.example";
    let bo = new_user(&srv, "orgt", email).await;
    let acme = create_org(&srv, "orgt", json!({"name": "acme"})).await;
    let acme_id = acme["id"].as_str().unwrap().to_owned();
    create_org(&srv, "orgt", json!({"name": "globex"})).await;
    create_org(&srv, "orgt", json!({"name": "initech"})).await;
    create_org(
        &srv,
        "orgt",
        json!({"name": "keys-only", "settings": {"allowed_methods": ["hwk"]}}),
    )
    .await;
    create_org(
        &srv,
        "orgt",
        json!({"name": "strict", "settings": {"require_mfa": true}}),
    )
    .await;
    put_member(&srv, "orgt", "acme", &bo, json!(["approver"])).await;
    put_member(&srv, "orgt", "globex", &bo, json!(["viewer"])).await;
    put_member(&srv, "orgt", "keys-only", &bo, json!([])).await;
    put_member(&srv, "orgt", "strict", &bo, json!([])).await;

    // Signed in to acme by name: its id, name, roles and permissions in both tokens.
    let b = srv.browser();
    let (back, verifier) = authorize_to(&b, &t, email, &[("organization", "acme")]).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let (s, tokens) = redeem(&reqwest::Client::new(), &t, &code, &verifier).await;
    assert_eq!(s, 200, "{tokens}");
    let at = jwt_claims(tokens["access_token"].as_str().unwrap());
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    for c in [&at, &id] {
        assert_eq!(c["org_id"], acme_id, "{c}");
        assert_eq!(c["org_name"], "acme", "{c}");
        assert_eq!(c["roles"], json!(["approver"]), "{c}");
        assert_eq!(
            c["permissions"],
            json!(["invoices:approve", "invoices:read"]),
            "{c}"
        );
    }
    // Introspection says the same.
    let intro: Value = reqwest::Client::new()
        .post(format!("{}/introspect", t.issuer))
        .form(&[
            ("token", tokens["access_token"].as_str().unwrap()),
            ("client_id", &t.client_id),
            ("client_secret", t.client_secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(intro["active"], true, "{intro}");
    assert_eq!(intro["org_id"], acme_id, "{intro}");
    assert_eq!(
        intro["permissions"],
        json!(["invoices:approve", "invoices:read"])
    );

    // The permission check: the token's organisation unless another is named.
    let access = tokens["access_token"].as_str().unwrap();
    assert!(allowed(&t, access, json!({"permission": "invoices:approve"})).await);
    assert!(
        !allowed(
            &t,
            access,
            json!({"permission": "invoices:approve", "organization": "globex"})
        )
        .await
    );
    assert!(
        allowed(
            &t,
            access,
            json!({"permission": "invoices:read", "organization": "globex"})
        )
        .await
    );
    assert!(
        !allowed(
            &t,
            access,
            json!({"permission": "invoices:read", "organization": "nowhere"})
        )
        .await
    );
    let r = reqwest::Client::new()
        .post(format!("{}/api/permissions/check", t.issuer))
        .json(&json!({"permission": "invoices:read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_token");
    let r = bearer_check(&t, "not-a-token", json!({"permission": "invoices:read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A refresh keeps the organisation and reads the roles again.
    put_member(&srv, "orgt", "acme", &bo, json!(["viewer"])).await;
    let (s, next) = refresh(&t, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{next}");
    let at = jwt_claims(next["access_token"].as_str().unwrap());
    assert_eq!(at["org_id"], acme_id);
    assert_eq!(at["roles"], json!(["viewer"]));
    assert_eq!(at["permissions"], json!(["invoices:read"]));

    // Removed from the organisation: the refresh is refused and the chain revoked.
    let (s, _) = call(
        &srv,
        Method::DELETE,
        &format!("/tenants/orgt/organizations/acme/members/{bo}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, v) = refresh(&t, next["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"], "invalid_grant");
    assert_eq!(
        v["error_description"],
        "the user is no longer a member of the organization"
    );
    let (s, v) = refresh(&t, next["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );

    // The organization parameter's refusals, on the redirect.
    let cases = [
        (
            "acme",
            "access_denied",
            "the user is not a member of the requested organization",
        ),
        (
            "initech",
            "access_denied",
            "the user is not a member of the requested organization",
        ),
        (
            "no-such-org",
            "access_denied",
            "the user is not a member of the requested organization",
        ),
        (
            "keys-only",
            "access_denied",
            "the organization does not allow this sign-in method",
        ),
        (
            "strict",
            "access_denied",
            "the organization requires a second factor",
        ),
        (
            "a b",
            "invalid_request",
            "organization must be an organization's id or name",
        ),
    ];
    for (org, error, description) in cases {
        let (back, _) = authorize_to(&b, &t, email, &[("organization", org)]).await;
        assert!(back.starts_with(&t.redirect_uri), "{org}: {back}");
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some(error),
            "{org}: {back}"
        );
        assert_eq!(
            query_param(&back, "error_description").as_deref(),
            Some(description),
            "{org}: {back}"
        );
        assert_eq!(query_param(&back, "state").as_deref(), Some("st-123"));
    }
    // Another tenant's organisation id is unknown here.
    let other = srv.tenant("orgu", false, true).await;
    let theirs = create_org(&srv, "orgu", json!({"name": "acme"})).await;
    let (back, _) = authorize_to(
        &b,
        &t,
        email,
        &[("organization", theirs["id"].as_str().unwrap())],
    )
    .await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied"),
        "{back}"
    );
    let _ = other;

    // By id, a member of globex gets globex.
    let globex = srv.admin_get("/tenants/orgt/organizations/globex").await;
    let (back, verifier) = authorize_to(
        &b,
        &t,
        email,
        &[("organization", globex["id"].as_str().unwrap())],
    )
    .await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("{back}"));
    let (_, tokens) = redeem(&reqwest::Client::new(), &t, &code, &verifier).await;
    let at = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(at["org_name"], "globex");

    // Without the parameter and without the scope: no organisation claims at all.
    let (back, verifier) = authorize_to(&b, &t, email, &[]).await;
    let code = query_param(&back, "code").unwrap();
    let (_, tokens) = redeem(&reqwest::Client::new(), &t, &code, &verifier).await;
    let at = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert!(
        at.get("org_id").is_none() && at.get("roles").is_none(),
        "{at}"
    );

    // With the organization scope and several organisations: the picker.
    let (_, challenge) = pkce();
    let back = b
        .authorize(
            &authorize_url(&t, "openid organization", &challenge, &[]),
            email,
            PASSWORD,
        )
        .await;
    assert!(
        back.starts_with(&format!("{}/organization?tx=", t.issuer)),
        "not the picker: {back}"
    );
}

#[actix_web::test]
async fn invitations_are_single_use_expiring_and_for_their_address() {
    let srv = TestServer::start().await;
    srv.tenant("orgi", false, true).await;
    catalogue(&srv, "orgi").await;
    create_org(
        &srv,
        "orgi",
        json!({"name": "acme", "display_name": "Acme Ltd",
               "settings": {"allowed_email_domains": ["acme.example"]}}),
    )
    .await;
    let invitations = "/tenants/orgi/organizations/acme/invitations";
    refused(
        call(
            &srv,
            Method::POST,
            invitations,
            Some(json!({"email": "cy@evil.example"})),
        )
        .await,
        400,
        "invalid_request",
        "email: outside the organization's allowed domains",
    );
    refused(
        call(
            &srv,
            Method::POST,
            invitations,
            Some(json!({"email": "cy@acme.example", "roles": ["ghost"]})),
        )
        .await,
        400,
        "invalid_request",
        "roles: unknown role \"ghost\"",
    );
    refused(
        call(
            &srv,
            Method::POST,
            invitations,
            Some(json!({"email": "cy@acme.example", "expires_in_days": 31})),
        )
        .await,
        400,
        "invalid_request",
        "expires_in_days: must be 1 to 30",
    );
    let (s, inv) = call(
        &srv,
        Method::POST,
        invitations,
        Some(json!({"email": "Cy@Acme.example", "roles": ["viewer"]})),
    )
    .await;
    assert_eq!(s, 201, "{inv}");
    let url = inv["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/orgi/invitations/", srv.base)),
        "{url}"
    );
    assert_eq!(inv["email_masked"], "c***@a***.example");
    // Listed without the token or the address.
    let list = srv.admin_get(invitations).await;
    assert_eq!(list[0]["id"], inv["id"]);
    assert!(!list.to_string().contains("cy@acme"), "{list}");
    let token = url.rsplit('/').next().unwrap();
    assert!(!list.to_string().contains(token));
    // The invitation mail carries the link, in the tenant's words (polled: the courier
    // sends off the request path).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mail = loop {
        let found = std::fs::read_dir(srv.dir.path().join("outbox"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|m| m.contains("To: cy@acme.example"));
        if let Some(m) = found {
            break mail_text(&m);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the invitation mail was not sent"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(mail.contains("invited to join Acme Ltd"), "{mail}");
    assert!(mail.contains(&url), "{mail}");
    assert!(mail.contains("works for 7 days, once"), "{mail}");
    // Withdrawn: gone, and a second withdrawal is not found.
    let id = inv["id"].as_str().unwrap();
    let (s, _) = call(&srv, Method::DELETE, &format!("{invitations}/{id}"), None).await;
    assert_eq!(s, 204);
    refused(
        call(&srv, Method::DELETE, &format!("{invitations}/{id}"), None).await,
        404,
        "not_found",
        "invitation not found",
    );
    assert_eq!(srv.admin_get(invitations).await, json!([]));
}

#[actix_web::test]
async fn the_cli_drives_organisations_and_roles() {
    let srv = TestServer::start().await;
    srv.tenant("orgc", false, true).await;
    let dee = new_user(&srv, "orgc", "dee@acme.example").await;
    let run = |args: &[&str]| {
        let mut all = vec!["admin", "--url", &srv.base, "--token", &srv.admin_token];
        all.extend_from_slice(args);
        tollgate(&all, &[])
    };
    let (ok, _, err) = run(&[
        "role",
        "set-permissions",
        "orgc",
        "--permission",
        "reports:read=Read reports",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&[
        "role",
        "set",
        "orgc",
        "analyst",
        "--permission",
        "reports:write",
    ]);
    assert!(
        !ok && err.contains("permissions: unknown permission \"reports:write\""),
        "{err}"
    );
    let (ok, out, err) = run(&[
        "role",
        "set",
        "orgc",
        "analyst",
        "--permission",
        "reports:read",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("\"reports:read\""), "{out}");
    let (ok, out, err) = run(&[
        "org",
        "create",
        "orgc",
        "acme",
        "--display-name",
        "Acme Ltd",
        "--allowed-domain",
        "acme.example",
    ]);
    assert!(ok, "{err}");
    let org: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        org["settings"]["allowed_email_domains"],
        json!(["acme.example"])
    );
    let (ok, _, err) = run(&["org", "create", "orgc", "acme"]);
    assert!(
        !ok && err.contains("conflict (409): organization name already exists"),
        "{err}"
    );
    let (ok, _, err) = run(&[
        "org",
        "add-member",
        "orgc",
        "acme",
        &dee,
        "--role",
        "analyst",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["org", "rename", "orgc", "acme", "acme-corp"]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["role", "of", "orgc", &dee, "--org", "acme-corp"]);
    assert!(ok, "{err}");
    let claims: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(claims["org_id"], org["id"]);
    assert_eq!(claims["permissions"], json!(["reports:read"]));
    let (ok, out, err) = run(&[
        "org",
        "invite",
        "orgc",
        "acme-corp",
        "eli@acme.example",
        "--days",
        "3",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("/orgc/invitations/"), "{out}");
    let (ok, _, err) = run(&["org", "invite", "orgc", "acme-corp", "eli@evil.example"]);
    assert!(
        !ok && err.contains("email: outside the organization's allowed domains"),
        "{err}"
    );
    let (ok, out, err) = run(&["org", "remove-member", "orgc", "acme-corp", &dee]);
    assert!(ok && out.trim() == "done", "{out} {err}");
    let (ok, _, err) = run(&["org", "delete", "orgc", "acme-corp"]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&["org", "show", "orgc", "acme-corp"]);
    assert!(
        !ok && err.contains("not_found (404): organization not found"),
        "{err}"
    );
}

#[actix_web::test]
async fn domains_join_just_in_time_and_a_deleted_account_leaves() {
    let srv = TestServer::start().await;
    let t = srv.tenant("orgr", false, true).await;
    let email = "ann@acme.example";
    let ann = new_user(&srv, "orgr", email).await;
    new_user(&srv, "orgr", "bob@else.example").await;
    create_org(
        &srv,
        "orgr",
        json!({"name": "acme", "settings": {"allowed_email_domains": ["acme.example"], "just_in_time": true}}),
    )
    .await;

    // Not a member yet, but at the organisation's domain: joins on sign-in, without roles.
    let b = srv.browser();
    let (back, verifier) = authorize_to(&b, &t, email, &[("organization", "acme")]).await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("{back}"));
    let (_, tokens) = redeem(&reqwest::Client::new(), &t, &code, &verifier).await;
    let at = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(at["org_name"], "acme", "{at}");
    assert_eq!(at["roles"], json!([]));
    let members = srv
        .admin_get("/tenants/orgr/organizations/acme/members")
        .await;
    assert_eq!(members["items"][0]["user_id"], ann.as_str());
    let events = srv.events("orgr", "kind=org.joined_jit").await;
    assert_eq!(events.len(), 1, "{events:?}");

    // Someone at another domain does not join, and is refused.
    let other = srv.browser();
    let (back, _) = authorize_to(&other, &t, "bob@else.example", &[("organization", "acme")]).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied"),
        "{back}"
    );
    assert_eq!(
        query_param(&back, "error_description").as_deref(),
        Some("the user is not a member of the requested organization")
    );

    // The domains change: a member outside them is refused at sign-in.
    let (s, v) = call(
        &srv,
        Method::PATCH,
        "/tenants/orgr/organizations/acme",
        Some(json!({"settings": {"allowed_email_domains": ["acme.test"]}})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (back, _) = authorize_to(&b, &t, email, &[("organization", "acme")]).await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied"),
        "{back}"
    );
    assert_eq!(
        query_param(&back, "error_description").as_deref(),
        Some("the user's email domain is not allowed by the organization")
    );

    // Deleting the account removes its memberships.
    let (s, v) = call(
        &srv,
        Method::DELETE,
        &format!("/tenants/orgr/users/{ann}"),
        None,
    )
    .await;
    assert!(s == 200 || s == 204, "{s} {v}");
    let members = srv
        .admin_get("/tenants/orgr/organizations/acme/members")
        .await;
    assert_eq!(members["items"], json!([]), "{members}");
}
