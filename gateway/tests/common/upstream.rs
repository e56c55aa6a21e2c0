//! An upstream OpenID provider for federation set-ups: a second Tollgate server with a
//! tenant `up`, one verified user, and a client whose redirect URIs are a downstream
//! tenant's connector callbacks; and a browser walk through a federated sign-in.

use super::{Browser, PASSWORD, TestServer};
use reqwest::header::LOCATION;
use serde_json::{Value, json};

pub struct Upstream {
    pub server: TestServer,
    client: Value,
}

/// Starts the upstream with a verified user `email` (password [`PASSWORD`]), and a
/// client for connectors `connectors` of `tenant` at `down`.
pub async fn start(down: &TestServer, tenant: &str, connectors: &[&str], email: &str) -> Upstream {
    let server = TestServer::start().await;
    server.admin("/tenants", json!({"id": "up"})).await;
    let callbacks: Vec<String> = connectors
        .iter()
        .map(|c| format!("{}/{tenant}/federation/{c}/callback", down.base))
        .collect();
    let client = server
        .admin(
            "/tenants/up/clients",
            json!({"name": "Downstream", "redirect_uris": callbacks, "first_party": true}),
        )
        .await;
    server
        .admin(
            "/tenants/up/users",
            json!({"email": email, "password": PASSWORD, "email_verified": true}),
        )
        .await;
    Upstream { server, client }
}

impl Upstream {
    /// Adds connector `id` to `tenant` at `down`.
    pub async fn connect(&self, down: &TestServer, tenant: &str, id: &str, link_by_email: bool) {
        let r = down
            .http
            .put(format!(
                "{}/admin/v1/tenants/{tenant}/connectors/{id}",
                down.base
            ))
            .bearer_auth(&down.admin_token)
            .json(&json!({
                "preset": "oidc",
                "display_name": "Upstream Co",
                "issuer": format!("{}/up", self.server.base),
                "client_id": self.client["client_id"],
                "client_secret": self.client["client_secret"],
                "link_by_email": link_by_email,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
    }
}

/// Where a federated sign-in stopped.
#[derive(Debug)]
pub enum Stop {
    /// Back at the relying party (`http://127.0.0.1:9/…`) with this URL.
    AtClient(String),
    /// On a page: status, its URL, its body.
    Page(u16, String, String),
}

/// Follows redirects from `url` across both servers, signing in at the upstream's page
/// as `email` when it shows.
pub async fn follow(b: &Browser, url: &str, email: &str) -> Stop {
    let mut next = url.to_owned();
    for _ in 0..12 {
        if next.starts_with("http://127.0.0.1:9/") {
            return Stop::AtClient(next);
        }
        let here = url::Url::parse(&next).unwrap();
        let r = b.http.get(&next).send().await.unwrap();
        if r.status().is_redirection() {
            next = here
                .join(r.headers()[LOCATION].to_str().unwrap())
                .unwrap()
                .to_string();
            continue;
        }
        let status = r.status().as_u16();
        let page = r.text().await.unwrap();
        if status != 200 || !page.contains("action=\"/up/login\"") {
            return Stop::Page(status, next, page);
        }
        let r = b
            .http
            .post(here.join("/up/login").unwrap())
            .form(&[
                ("email", email),
                ("password", PASSWORD),
                ("tx", &super::hidden(&page, "tx").unwrap()),
                ("csrf", &super::hidden(&page, "csrf").unwrap()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "upstream sign-in");
        next = here
            .join(r.headers()[LOCATION].to_str().unwrap())
            .unwrap()
            .to_string();
    }
    panic!("the federated sign-in went round in circles");
}
