//! What the requests of a run look like.
//!
//! A [`Scenario`] is what the user picks on the command line. Each arrival
//! of a run is one request [`Kind`]: a scenario is either a single kind
//! (`jwks`, `refresh`, ...) or a blend of kinds (`mixed`) or a single kind
//! at a changing rate (`spike`); see [`crate::plan`].
//!
//! A kind is one [`Kind`] variant (in [`crate::vocab`]) plus one small
//! function below ([`get`], [`refresh`], [`login`]). [`Ctx::prepare`] runs at the arrival's due time
//! and may refuse (no free refresh chain); [`Job::perform`] then runs on the
//! wire and yields the [`Status`] to record.

use std::sync::Arc;

use clap::ValueEnum;
use reqwest::Client;

use crate::chains::{ChainPool, Lease};
use crate::oauth::{self, CookieJar, OAuth};
use crate::report::{DropReason, Status};
use crate::vocab::{Kind, splitmix64};

/// The server and tenant a run is aimed at.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Tenant slug, the first path segment of every tenant route.
    pub tenant: String,
}

impl Target {
    pub fn new(base_url: &str, tenant: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            tenant: tenant.trim_matches('/').to_owned(),
        }
    }

    /// `{base}/{tenant}/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}/{path}", self.base_url, self.tenant)
    }
}

/// The traffic a run produces, as chosen with `--scenario`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// `GET {base}/{tenant}/jwks.json`
    Jwks,
    /// `GET {base}/{tenant}/.well-known/openid-configuration`
    Discovery,
    /// `GET --url`, any URL (e.g. `tollgate-load minimal-server`).
    Raw,
    /// Refresh grants over the seeded chains (`--seed`).
    Refresh,
    /// Whole hosted sign-ins of random seeded users (`--seed`).
    Login,
    /// `client_credentials` grants of one machine client (`--client-id`,
    /// `--client-secret`, `--resource`).
    Machine,
    /// A weighted blend of kinds (`--mix`).
    Mixed,
    /// `--spike-scenario` at `--rate`, then `--factor` times that, then
    /// `--rate` again.
    Spike,
}

impl Scenario {
    /// Lower-case name as accepted on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Jwks => "jwks",
            Scenario::Discovery => "discovery",
            Scenario::Raw => "raw",
            Scenario::Refresh => "refresh",
            Scenario::Login => "login",
            Scenario::Machine => "machine",
            Scenario::Mixed => "mixed",
            Scenario::Spike => "spike",
        }
    }

    /// The kind of every request, for single-kind scenarios.
    pub fn kind(self) -> Option<Kind> {
        match self {
            Scenario::Jwks => Some(Kind::Jwks),
            Scenario::Discovery => Some(Kind::Discovery),
            Scenario::Raw => Some(Kind::Raw),
            Scenario::Refresh => Some(Kind::Refresh),
            Scenario::Login => Some(Kind::Login),
            Scenario::Machine => Some(Kind::Machine),
            Scenario::Mixed | Scenario::Spike => None,
        }
    }
}

/// The seeded users a `login` picks from: `pattern` with `{i}` replaced by
/// `1..=count`, all with `password`.
#[derive(Debug, Clone)]
pub struct Users {
    pub pattern: String,
    pub count: u64,
    pub password: String,
}

impl Users {
    /// The email of user `i` (1-based).
    pub fn email(&self, i: u64) -> String {
        self.pattern.replace("{i}", &i.to_string())
    }

    /// A pseudo-random user for arrival `n` of the sequence seeded by `seed`.
    pub fn pick(&self, seed: u64, n: u64) -> String {
        self.email(1 + splitmix64(seed.rotate_left(17) ^ n) % self.count.max(1))
    }
}

/// The machine client a `machine` run authenticates as.
#[derive(Debug, Clone)]
pub struct Machine {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The API (RFC 8707 `resource`); the client's only one if absent.
    pub resource: Option<String>,
}

/// Everything requests need at run time.
#[derive(Debug)]
pub struct Ctx {
    /// Keep-alive pool shared by plain GETs and refreshes; never follows
    /// redirects.
    pub http: Client,
    jwks_url: String,
    discovery_url: String,
    /// For `raw`.
    pub raw_url: Option<String>,
    /// For `refresh` and `login` (from the seed file).
    pub oauth: Option<OAuth>,
    /// For `login`.
    pub users: Option<Users>,
    /// For `refresh`.
    pub chains: Option<Arc<ChainPool>>,
    /// For `machine`.
    pub machine: Option<Machine>,
    /// Seed of the user choice.
    pub seed: u64,
}

/// One prepared arrival.
pub enum Job {
    /// A GET of `jwks`, `discovery` or `raw`.
    Get(Kind),
    Refresh(Lease),
    Login {
        email: String,
    },
}

impl Ctx {
    /// A context for `target` without seed, chains or raw URL (set those
    /// fields as needed).
    pub fn new(http: Client, target: &Target) -> Self {
        Self {
            jwks_url: target.url("jwks.json"),
            discovery_url: target.url(".well-known/openid-configuration"),
            http,
            raw_url: None,
            oauth: None,
            users: None,
            chains: None,
            machine: None,
            seed: 0,
        }
    }

    /// The URL a kind hits (`""` if the run lacks what the kind needs).
    pub fn url(&self, kind: Kind) -> &str {
        match kind {
            Kind::Jwks => &self.jwks_url,
            Kind::Discovery => &self.discovery_url,
            Kind::Raw => self.raw_url.as_deref().unwrap_or_default(),
            Kind::Refresh => self.oauth.as_ref().map_or("", |o| o.token_url()),
            Kind::Login => self.oauth.as_ref().map_or("", |o| o.authorize_url()),
            Kind::Machine => self.machine.as_ref().map_or("", |m| &m.token_url),
        }
    }

    /// Take what arrival number `n` of `kind` needs at its due time.
    /// Fails only for a refresh when every chain is busy.
    pub fn prepare(&self, kind: Kind, n: u64) -> Result<Job, DropReason> {
        Ok(match kind {
            Kind::Jwks | Kind::Discovery | Kind::Raw | Kind::Machine => Job::Get(kind),
            Kind::Refresh => {
                let pool = self.chains.as_ref().ok_or(DropReason::NoFreeChain)?;
                Job::Refresh(pool.take().ok_or(DropReason::NoFreeChain)?)
            }
            Kind::Login => Job::Login {
                email: self
                    .users
                    .as_ref()
                    .expect("login runs are checked to have a seed")
                    .pick(self.seed, n),
            },
        })
    }
}

impl Job {
    pub async fn perform(self, ctx: &Ctx) -> Status {
        let oauth = || ctx.oauth.as_ref().expect("checked to have a seed");
        match self {
            Job::Get(Kind::Machine) => match &ctx.machine {
                Some(m) => machine(&ctx.http, m).await,
                None => Status::Error(crate::report::ErrorKind::Other),
            },
            Job::Get(kind) => get(&ctx.http, ctx.url(kind)).await,
            Job::Refresh(lease) => refresh(oauth(), lease).await,
            Job::Login { email } => {
                let password = &ctx.users.as_ref().expect("checked").password;
                login(oauth(), &email, password).await
            }
        }
    }
}

/// `jwks`, `discovery`, `raw`: one GET, whole body read.
pub async fn get(http: &Client, url: &str) -> Status {
    let response = match oauth::send(http.get(url)).await {
        Ok(r) => r,
        Err(status) => return status,
    };
    let status = Status::from_response(
        response.status().as_u16(),
        oauth::has_retry_after(&response),
    );
    match oauth::body(response).await {
        Ok(_) => status,
        Err(error) => error,
    }
}

/// `machine`: one `client_credentials` grant (HTTP Basic). Succeeds (200) only if an
/// access token came back.
pub async fn machine(http: &Client, m: &Machine) -> Status {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(r) = &m.resource {
        form.push(("resource", r));
    }
    let request = http
        .post(&m.token_url)
        .basic_auth(&m.client_id, Some(&m.client_secret))
        .form(&form);
    let response = match oauth::send(request).await {
        Ok(r) => r,
        Err(status) => return status,
    };
    let status = Status::from_response(
        response.status().as_u16(),
        oauth::has_retry_after(&response),
    );
    match oauth::body(response).await {
        Ok(b) if status == Status::Http(200) && !contains(&b, b"\"access_token\"") => {
            Status::Error(crate::report::ErrorKind::Protocol("no access_token"))
        }
        Ok(_) => status,
        Err(error) => error,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `refresh`: one refresh grant on a leased chain. The chain goes back with
/// its new token on success, with the old one when the server shed the
/// request, and is retired otherwise (a 400 `invalid_grant` means the chain
/// was broken).
pub async fn refresh(oauth: &OAuth, lease: Lease) -> Status {
    match oauth.refresh(lease.token()).await {
        Ok(new_token) => {
            lease.rotated(new_token);
            Status::Http(200)
        }
        Err(shed @ Status::Overloaded { .. }) => {
            lease.unused();
            shed
        }
        Err(other) => other,
    }
}

/// `login`: a whole hosted sign-in with a fresh cookie jar, from authorize
/// to tokens. Succeeds (200) only if tokens were issued.
pub async fn login(oauth: &OAuth, email: &str, password: &str) -> Status {
    match oauth
        .sign_in(email, password, &mut CookieJar::default())
        .await
    {
        Ok(_) => Status::Http(200),
        Err(status) => status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_tenant_routes() {
        let t = Target::new("http://127.0.0.1:8080/", "demo");
        assert_eq!(t.url("jwks.json"), "http://127.0.0.1:8080/demo/jwks.json");
        let mut ctx = Ctx::new(Client::new(), &t);
        ctx.raw_url = Some("http://127.0.0.1:9/".into());
        assert_eq!(ctx.url(Kind::Jwks), "http://127.0.0.1:8080/demo/jwks.json");
        assert_eq!(
            ctx.url(Kind::Discovery),
            "http://127.0.0.1:8080/demo/.well-known/openid-configuration"
        );
        assert_eq!(ctx.url(Kind::Raw), "http://127.0.0.1:9/");
        // Without a seed there are no chains: refreshes are dropped.
        assert!(matches!(
            ctx.prepare(Kind::Refresh, 0),
            Err(DropReason::NoFreeChain)
        ));
    }

    /// A token endpoint on loopback that answers by the client it sees.
    async fn token_endpoint() -> String {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        async fn token(req: HttpRequest, form: web::Form<Vec<(String, String)>>) -> HttpResponse {
            let auth = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let cc = form
                .iter()
                .any(|(k, v)| k == "grant_type" && v == "client_credentials");
            let resource = form.iter().any(|(k, v)| k == "resource" && v == "urn:api");
            // "good:pw" and "empty:pw" in Basic.
            match auth {
                "Basic Z29vZDpwdw==" if cc && resource => {
                    HttpResponse::Ok().json(serde_json::json!({"access_token": "x"}))
                }
                "Basic ZW1wdHk6cHc=" => HttpResponse::Ok().json(serde_json::json!({})),
                _ => HttpResponse::Unauthorized().finish(),
            }
        }
        let server = HttpServer::new(|| App::new().route("/t/token", web::post().to(token)))
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
        let addr = server.addrs()[0];
        tokio::spawn(server.run());
        format!("http://{addr}/t/token")
    }

    #[actix_web::test]
    async fn machine_grants_succeed_only_with_a_token() {
        let url = token_endpoint().await;
        let m = |id: &str| Machine {
            token_url: url.clone(),
            client_id: id.into(),
            client_secret: "pw".into(),
            resource: Some("urn:api".into()),
        };
        let http = Client::new();
        assert_eq!(machine(&http, &m("good")).await, Status::Http(200));
        assert_eq!(
            machine(&http, &m("empty")).await,
            Status::Error(crate::report::ErrorKind::Protocol("no access_token"))
        );
        assert_eq!(machine(&http, &m("bad")).await, Status::Http(401));
    }

    #[test]
    fn scenarios_map_to_kinds() {
        assert_eq!(Scenario::Refresh.kind(), Some(Kind::Refresh));
        assert_eq!(Scenario::Spike.kind(), None);
    }

    #[test]
    fn picks_users_within_the_seeded_range() {
        let users = Users {
            pattern: "user{i}@t1.example".into(),
            count: 3,
            password: "pw".into(),
        };
        assert_eq!(users.email(1), "user1@t1.example");
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..300 {
            seen.insert(users.pick(42, n));
        }
        let all: std::collections::BTreeSet<String> = (1..=3).map(|i| users.email(i)).collect();
        assert_eq!(seen, all);
    }
}
