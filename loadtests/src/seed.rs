//! `tollgate-load seed`: prepare a tenant for the `refresh`, `login`,
//! `mixed` and `spike` scenarios and write what they need to a seed file.
//!
//! 1. Create the tenant (fine if it exists) and a first-party confidential
//!    client (if it exists its secret cannot be read back: pass
//!    `--client-secret`).
//! 2. Import `--users` users `user{i}@<tenant>.example` (`i = 1..=N`) in
//!    batches of 10,000, all with one argon2id hash computed here once, so
//!    a million users take minutes rather than hours of hashing.
//! 3. Mint `--chains` refresh chains: sign in once through the hosted form,
//!    then for each chain authorize with that session (straight to a code)
//!    and exchange the code, `--concurrency` at a time.
//!
//! The seed file holds the newest token of each chain; `run` writes the
//! rotated tokens back after a refresh run so the file stays usable.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use clap::Args;
use reqwest::{Client, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::oauth::{CookieJar, OAuth};
use crate::report::{ErrorKind, Status};
use crate::runner::http_client;

type Error = Box<dyn std::error::Error>;

/// Users per import request (the server's maximum).
pub const IMPORT_BATCH: usize = 10_000;

/// What the scenarios need from a seeding, as written to `--out`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedFile {
    pub base_url: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    /// Password of every seeded user.
    pub password: String,
    /// Number of users: `email_pattern` with `{i}` replaced by `1..=users`.
    pub users: u64,
    pub email_pattern: String,
    /// The newest refresh token of each chain.
    pub refresh_tokens: Vec<String>,
}

impl SeedFile {
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        Ok(serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))?)
    }

    /// Write atomically (temporary file, then rename), so an interrupted
    /// write never loses the chains.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)? + "\n";
        std::fs::write(&tmp, text).map_err(|e| format!("writing {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("renaming to {}: {e}", path.display()))?;
        Ok(())
    }
}

/// `user{i}@<tenant>.example`.
pub fn email_pattern(tenant: &str) -> String {
    format!("user{{i}}@{tenant}.example")
}

/// The import request bodies for users `1..=users`, `batch` at a time,
/// each with the number of users it carries.
pub fn import_batches(
    pattern: &str,
    users: u64,
    batch: usize,
    hash: &str,
) -> impl Iterator<Item = (u64, Value)> {
    let batch = batch.max(1) as u64;
    let (pattern, hash) = (pattern.to_owned(), hash.to_owned());
    (0..users.div_ceil(batch)).map(move |b| {
        let first = b * batch + 1;
        let last = ((b + 1) * batch).min(users);
        let list: Vec<Value> = (first..=last)
            .map(|i| {
                json!({
                    "email": pattern.replace("{i}", &i.to_string()),
                    "password_hash": hash,
                    "email_verified": true,
                })
            })
            .collect();
        (last - first + 1, json!({ "users": list }))
    })
}

/// An argon2id PHC string for `password` with the given cost and a random
/// salt.
pub fn argon2id_hash(password: &str, m: u32, t: u32, p: u32) -> Result<String, Error> {
    let params = Params::new(m, t, p, None).map_err(|e| format!("argon2 parameters: {e}"))?;
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| "the system RNG failed")?;
    Ok(hasher
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| format!("argon2: {e}"))?
        .to_string())
}

#[derive(Args)]
pub struct SeedArgs {
    /// Base URL of the Tollgate server.
    #[arg(
        long,
        env = "TOLLGATE_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    base_url: String,
    /// Tenant to create (or reuse).
    #[arg(long, env = "TOLLGATE_TENANT", default_value = "load")]
    tenant: String,
    /// Signing algorithm of a newly created tenant.
    #[arg(long, default_value = "RS256", value_parser = ["RS256", "ES256", "EdDSA"])]
    alg: String,
    /// Users to import: `user{i}@<tenant>.example`, `i = 1..=N`.
    #[arg(long, default_value_t = 1000)]
    users: u64,
    /// Refresh chains to mint (all for `user1`).
    #[arg(long, default_value_t = 100)]
    chains: usize,
    /// Password of every imported user.
    #[arg(long, default_value = "load-test-password")]
    password: String,
    /// Where to write the seed file.
    #[arg(long, default_value = "seed.json")]
    out: PathBuf,
    /// Admin API token (else read from `<data-dir>/admin.token`).
    #[arg(long, env = "TOLLGATE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The server's data directory, to read `admin.token` from.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Id of the client to create (or reuse).
    #[arg(long, default_value = "load")]
    client_id: String,
    /// Secret of the client, needed when it already exists.
    #[arg(long, env = "TOLLGATE_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Redirect URI registered for the client (never fetched).
    #[arg(long, default_value = "http://127.0.0.1:9/cb")]
    redirect_uri: String,
    /// Chains minted at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// argon2id memory cost (KiB) of the imported hash.
    #[arg(long, default_value_t = 19_456)]
    m: u32,
    /// argon2id iterations of the imported hash.
    #[arg(long, default_value_t = 2)]
    t: u32,
    /// argon2id parallelism of the imported hash.
    #[arg(long, default_value_t = 1)]
    p: u32,
}

impl SeedArgs {
    fn admin_token(&self) -> Result<String, Error> {
        if let Some(t) = &self.admin_token {
            return Ok(t.clone());
        }
        let Some(dir) = &self.data_dir else {
            return Err(
                "an admin token is needed: --admin-token, TOLLGATE_ADMIN_TOKEN \
                        or --data-dir (to read <data-dir>/admin.token)"
                    .into(),
            );
        };
        let path = dir.join("admin.token");
        let token = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        Ok(token.trim().to_owned())
    }
}

/// The admin API of one server.
struct Admin {
    http: Client,
    base: String,
    token: String,
}

impl Admin {
    /// `POST` JSON; the status and the parsed body (`Null` if not JSON).
    async fn post(&self, path: &str, body: &Value) -> Result<(StatusCode, Value), Error> {
        let response = self
            .http
            .post(format!("{}/admin/v1/{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST /admin/v1/{path}: {e}"))?;
        let status = response.status();
        let bytes = response.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}

fn unexpected(what: &str, status: StatusCode, body: &Value) -> Error {
    format!("{what}: unexpected {status}: {body}").into()
}

pub async fn seed(args: SeedArgs) -> Result<(), Error> {
    let base = args.base_url.trim_end_matches('/').to_owned();
    reqwest::Url::parse(&base).map_err(|e| format!("invalid --base-url {base:?}: {e}"))?;
    if args.chains > 0 && args.users == 0 {
        return Err("minting chains needs at least one user (--users)".into());
    }
    let http = http_client(args.concurrency as usize, Duration::from_secs(10))?;
    let admin = Admin {
        http: http.clone(),
        base: base.clone(),
        token: args.admin_token()?,
    };
    let t = &args.tenant;

    let (status, body) = admin
        .post(
            "tenants",
            &json!({"id": t, "display_name": t, "signing_alg": args.alg}),
        )
        .await?;
    match status.as_u16() {
        201 => println!("tenant     {t}: created ({})", args.alg),
        409 => println!("tenant     {t}: exists (kept as it is, whatever its algorithm)"),
        _ => return Err(unexpected("creating the tenant", status, &body)),
    }

    let (status, body) = admin
        .post(
            &format!("tenants/{t}/clients"),
            &json!({
                "client_id": args.client_id,
                "name": "tollgate-load",
                "redirect_uris": [args.redirect_uri],
                "first_party": true,
            }),
        )
        .await?;
    let client_secret = match (status.as_u16(), &args.client_secret) {
        (201, _) => {
            println!("client     {}: created", args.client_id);
            body["client_secret"]
                .as_str()
                .ok_or("the created client has no client_secret")?
                .to_owned()
        }
        (409, Some(secret)) => {
            println!(
                "client     {}: exists, using --client-secret",
                args.client_id
            );
            secret.clone()
        }
        (409, None) => {
            return Err(format!(
                "client {:?} already exists in tenant {t:?} and its secret is only shown \
                 when it is created: pass --client-secret, or pick another --client-id",
                args.client_id
            )
            .into());
        }
        _ => return Err(unexpected("creating the client", status, &body)),
    };

    let pattern = email_pattern(t);
    import_users(&admin, &args, &pattern).await?;

    let oauth = OAuth::new(
        http,
        &base,
        t,
        &args.client_id,
        &client_secret,
        &args.redirect_uri,
    )?;
    let refresh_tokens = if args.chains > 0 {
        let first_user = pattern.replace("{i}", "1");
        mint_chains(
            &oauth,
            &first_user,
            &args.password,
            args.chains,
            args.concurrency,
        )
        .await?
    } else {
        Vec::new()
    };

    let file = SeedFile {
        base_url: base,
        tenant: t.clone(),
        client_id: args.client_id.clone(),
        client_secret,
        redirect_uri: args.redirect_uri.clone(),
        password: args.password.clone(),
        users: args.users,
        email_pattern: pattern,
        refresh_tokens,
    };
    file.save(&args.out)?;
    println!(
        "seed       {}: {} users, {} chains",
        args.out.display(),
        file.users,
        file.refresh_tokens.len()
    );
    Ok(())
}

async fn import_users(admin: &Admin, args: &SeedArgs, pattern: &str) -> Result<(), Error> {
    if args.users == 0 {
        return Ok(());
    }
    let started = Instant::now();
    let hash = argon2id_hash(&args.password, args.m, args.t, args.p)?;
    println!(
        "hash       argon2id m={},t={},p={} computed once in {:.0} ms",
        args.m,
        args.t,
        args.p,
        started.elapsed().as_secs_f64() * 1000.0
    );
    let path = format!("tenants/{}/users/import", args.tenant);
    let (mut sent, mut created, mut existing) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    for (n, body) in import_batches(pattern, args.users, IMPORT_BATCH, &hash) {
        let (status, reply) = admin.post(&path, &body).await?;
        if status != StatusCode::OK {
            return Err(unexpected("importing users", status, &reply));
        }
        sent += n;
        created += reply["created"].as_u64().unwrap_or(0);
        existing += reply["existing"].as_u64().unwrap_or(0);
        let secs = started.elapsed().as_secs_f64();
        println!(
            "users      {sent}/{} ({created} created, {existing} existed) {:.1} s, {:.0} users/s",
            args.users,
            secs,
            sent as f64 / secs.max(1e-9)
        );
    }
    if existing > 0 {
        println!(
            "           note: users that already existed keep their old password; \
             sign-ins need the --password they were seeded with"
        );
    }
    Ok(())
}

/// How often a chain is retried when the server sheds the request.
const OVERLOAD_RETRIES: u32 = 50;

/// Sign in as `email` once, then mint `count` chains with that session.
async fn mint_chains(
    oauth: &OAuth,
    email: &str,
    password: &str,
    count: usize,
    concurrency: u32,
) -> Result<Vec<String>, Error> {
    let started = Instant::now();
    let mut jar = CookieJar::default();
    let first = oauth
        .sign_in(email, password, &mut jar)
        .await
        .map_err(|s| flow_error(&format!("signing in as {email}"), s))?;
    let first = first
        .refresh_token
        .ok_or("the sign-in issued no refresh token")?;
    if jar.get("tg_session").is_none() {
        return Err("the sign-in set no tg_session cookie".into());
    }
    println!(
        "sign-in    {email}: {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );

    let jar = Arc::new(jar);
    let next = Arc::new(AtomicUsize::new(1));
    let done = Arc::new(AtomicUsize::new(1));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(count as u32) {
        let (oauth, jar, next, done) = (oauth.clone(), jar.clone(), next.clone(), done.clone());
        workers.spawn(async move {
            let mut minted = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, String>(minted);
                }
                minted.push((i, mint_one(&oauth, &jar).await?));
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let progress = {
        let done = done.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                print_chain_progress(done.load(Ordering::Relaxed), count, started);
            }
        })
    };
    let mut tokens = vec![String::new(); count];
    tokens[0] = first;
    let mut failure = None;
    while let Some(joined) = workers.join_next().await {
        match joined.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(minted) => minted.into_iter().for_each(|(i, t)| tokens[i] = t),
            Err(e) => {
                failure.get_or_insert(e);
                workers.abort_all();
            }
        }
    }
    progress.abort();
    if let Some(e) = failure {
        return Err(e.into());
    }
    print_chain_progress(count, count, started);
    Ok(tokens)
}

fn print_chain_progress(done: usize, count: usize, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "chains     {done}/{count} {secs:.1} s, {:.0} chains/s",
        done as f64 / secs.max(1e-9)
    );
}

/// One chain: authorize with the session, exchange the code. Overload
/// answers are retried after a pause.
async fn mint_one(oauth: &OAuth, jar: &CookieJar) -> Result<String, String> {
    for _ in 0..OVERLOAD_RETRIES {
        match oauth.authorize_with_session(jar).await {
            Ok(tokens) => {
                return tokens
                    .refresh_token
                    .ok_or_else(|| "a code exchange issued no refresh token".into());
            }
            Err(Status::Overloaded { .. }) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(s) => return Err(flow_error("minting a chain", s).to_string()),
        }
    }
    Err("minting a chain: the server stayed overloaded".into())
}

fn flow_error(what: &str, status: Status) -> Error {
    match status {
        Status::Http(401) => format!(
            "{what}: wrong password (401); users imported earlier keep the --password \
             they were seeded with"
        ),
        Status::Http(code) => format!("{what}: unexpected HTTP {code}"),
        Status::Overloaded { code, .. } => format!("{what}: server overloaded ({code})"),
        Status::Error(ErrorKind::Protocol(p)) => format!("{what}: {p}"),
        Status::Error(kind) => format!("{what}: {kind:?} error"),
        Status::Dropped(_) => format!("{what}: dropped"),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_every_user_once() {
        let pattern = email_pattern("t1");
        assert_eq!(pattern, "user{i}@t1.example");
        let batches: Vec<_> = import_batches(&pattern, 25, 10, "$argon2id$x").collect();
        assert_eq!(batches.len(), 3);
        assert_eq!(
            batches.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [10, 10, 5]
        );
        let users = batches[2].1["users"].as_array().unwrap();
        assert_eq!(users.len(), 5);
        assert_eq!(users[0]["email"], "user21@t1.example");
        assert_eq!(users[4]["email"], "user25@t1.example");
        assert_eq!(users[4]["password_hash"], "$argon2id$x");
        assert_eq!(users[4]["email_verified"], true);
        assert_eq!(import_batches(&pattern, 0, 10, "h").count(), 0);
        assert_eq!(
            import_batches(&pattern, 20_000, IMPORT_BATCH, "h").count(),
            2
        );
    }

    #[test]
    fn hashes_are_argon2id_phc_strings() {
        // Small parameters keep the test fast; the format is what matters.
        let h = argon2id_hash("pw", 64, 1, 1).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{h}");
        assert_ne!(h, argon2id_hash("pw", 64, 1, 1).unwrap(), "salted");
        use argon2::{PasswordHash, PasswordVerifier};
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(Argon2::default().verify_password(b"pw", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"no", &parsed).is_err());
    }

    #[test]
    fn seed_file_round_trips() {
        let dir = std::env::temp_dir().join(format!("tollgate-load-seed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("seed.json");
        let file = SeedFile {
            base_url: "http://127.0.0.1:1".into(),
            tenant: "t1".into(),
            client_id: "load".into(),
            client_secret: "s".into(),
            redirect_uri: "http://127.0.0.1:9/cb".into(),
            password: "pw".into(),
            users: 2,
            email_pattern: email_pattern("t1"),
            refresh_tokens: vec!["a".into(), "b".into()],
        };
        file.save(&path).unwrap();
        assert_eq!(SeedFile::load(&path).unwrap(), file);
        assert!(!path.with_extension("json.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
