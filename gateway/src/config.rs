//! Configuration: defaults < TOML file < `TOLLGATE_*` environment (`__` nests) < flags.
//! Secrets may come from files (`master_key_file`, `admin_token_file`).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tollgate_engine::crypto::MasterKey;
use tollgate_engine::runtime::config::WebauthnConfig;
use tollgate_engine::runtime::password::PasswordConfig;
use tollgate_engine::store::RegionConfig;
use tollgate_store_scylla::ScyllaConfig;

/// Development (safe defaults, demo data, generated secrets) or production (refuses
/// anything unsafe).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Local use.
    #[default]
    Development,
    /// Real users.
    Production,
}

/// Everything `tollgate serve` reads.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Development or production.
    pub mode: Mode,
    /// Address to listen on.
    pub listen: String,
    /// Public base URL (issuers are `{public_url}/{tenant}`); defaults to `http://{listen}`,
    /// or `http://localhost:{port}` for the demo (development mode) on a loopback address.
    pub public_url: Option<String>,
    /// Data directory of the embedded store.
    pub data_dir: PathBuf,
    /// 32-byte master key (base64 or hex) that seals private keys.
    pub master_key: Option<String>,
    /// File holding the master key.
    pub master_key_file: Option<PathBuf>,
    /// Bearer token of the admin API.
    pub admin_token: Option<String>,
    /// File holding the admin token.
    pub admin_token_file: Option<PathBuf>,
    /// Create the demo tenant, client and user (development only; default on there).
    pub demo: Option<bool>,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Log filter (`RUST_LOG` syntax).
    pub log: String,
    /// Shards per tenant.
    pub shards_per_tenant: usize,
    /// Seconds a shard may stay unused before it is stopped (its state is in the store).
    pub shard_idle_secs: u64,
    /// Argon2id parameters and pool.
    pub passwords: PasswordConfig,
    /// Failed sign-ins allowed per account and per address in a window.
    pub login_throttle: tollgate_engine::runtime::throttle::ThrottleConfig,
    /// PEM certificate chain, to terminate TLS here rather than at a proxy.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key for `tls_cert_file`.
    pub tls_key_file: Option<PathBuf>,
    /// Where data is kept: the embedded store (default) or a ScyllaDB cluster.
    pub store: StoreConfig,
    /// Residency regions this deployment serves, by name. Empty means one region named
    /// `default`. Tenants in a region not listed here are refused.
    pub regions: BTreeMap<String, RegionConfig>,
    /// `[webauthn]`: where passkeys are bound.
    pub webauthn: WebauthnSettings,
    /// `[mail]`: how emails (codes, links) leave.
    pub mail: crate::mail::MailConfig,
    /// `[sms]`: the SMS and WhatsApp provider.
    pub sms: crate::sms::SmsConfig,
    /// `[otp]`: code lifetime, default phone region, send limits.
    pub otp: tollgate_engine::runtime::sends::OtpConfig,
    /// `[privacy]`: retention of deleted accounts.
    pub privacy: PrivacyConfig,
    /// `[metrics]`: who may read `/metrics`.
    pub metrics: MetricsConfig,
    /// `[logout]`: delivery of back-channel logout tokens (retries, give-up age).
    pub logout: tollgate_engine::oauth::backchannel::LogoutConfig,
    /// `__Host-` cookies (named per tenant, `Path=/`, Secure): a sibling subdomain can
    /// then neither plant nor overwrite them. Needs an https `public_url`; recommended
    /// wherever the issuer has an origin of its own.
    pub host_cookies: bool,
    /// Name servers (`ip:port`) asked for the TXT records organisations publish to prove
    /// their email domains; empty: the system's (`/etc/resolv.conf`).
    pub dns_servers: Vec<String>,
}

/// `[metrics]`: `/metrics` is open on the main address unless a token or a separate
/// address is set (recommended in production: it reveals traffic and tenants' load).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// Serve `/metrics` on this address only (for example `127.0.0.1:9100`), not on
    /// `listen`.
    pub listen: Option<String>,
    /// Bearer token that `/metrics` requires.
    pub token: Option<String>,
}

/// `[privacy]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct PrivacyConfig {
    /// Days a deleted account's (already unreadable) row is kept before the purge job
    /// removes it. Its personal data is unreadable from the moment of deletion.
    pub purge_after_days: u64,
    /// How often the purge job runs, seconds.
    pub purge_every_secs: u64,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            purge_after_days: 30,
            purge_every_secs: 3600,
        }
    }
}

/// `[webauthn]`. Both default from `public_url`: its host and its origin. Passkeys are
/// off when neither is set and the public host is an IP address.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebauthnSettings {
    /// Relying-party id: the public host or a parent domain. Passkeys are bound to it for
    /// good: changing it later orphans every registered passkey.
    pub rp_id: Option<String>,
    /// The origin the hosted pages are shown on (`https://id.example.com`).
    pub origin: Option<String>,
}

/// The storage backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A database in `data_dir` (one node).
    #[default]
    Embedded,
    /// A ScyllaDB cluster shared by every gateway node.
    Scylla,
}

/// `[store]`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreConfig {
    /// Which backend.
    pub backend: Backend,
    /// `[store.scylla]`, used when `backend = "scylla"`.
    pub scylla: ScyllaConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: Mode::Development,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            data_dir: PathBuf::from("tollgate-data"),
            master_key: None,
            master_key_file: None,
            admin_token: None,
            admin_token_file: None,
            demo: None,
            workers: 0,
            log: "info".into(),
            shards_per_tenant: 32,
            shard_idle_secs: 300,
            passwords: PasswordConfig::default(),
            login_throttle: Default::default(),
            tls_cert_file: None,
            tls_key_file: None,
            store: StoreConfig::default(),
            regions: BTreeMap::new(),
            webauthn: WebauthnSettings::default(),
            mail: Default::default(),
            sms: Default::default(),
            otp: Default::default(),
            privacy: Default::default(),
            metrics: Default::default(),
            logout: Default::default(),
            host_cookies: false,
            dns_servers: Vec::new(),
        }
    }
}

impl Config {
    /// `dns_servers`, parsed.
    pub fn dns_servers(&self) -> anyhow::Result<Vec<std::net::SocketAddr>> {
        self.dns_servers
            .iter()
            .map(|s| {
                s.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "dns_servers: {s:?} is not an ip:port address (e.g. \"10.0.0.2:53\")"
                    )
                })
            })
            .collect()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mode", &self.mode)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field("master_key", &self.master_key.as_ref().map(|_| "<hidden>"))
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<hidden>"),
            )
            .finish_non_exhaustive()
    }
}

/// Top-level keys, to warn about misspelt `TOLLGATE_*` variables.
const KNOWN: &[&str] = &[
    "mode",
    "listen",
    "public_url",
    "data_dir",
    "master_key",
    "master_key_file",
    "admin_token",
    "admin_token_file",
    "demo",
    "workers",
    "log",
    "shards_per_tenant",
    "shard_idle_secs",
    "passwords",
    "login_throttle",
    "tls_cert_file",
    "tls_key_file",
    "store",
    "regions",
    "webauthn",
    "mail",
    "sms",
    "otp",
    "privacy",
    "logout",
];
/// Variables read by other parts (the CLI, tests, the load generator), not by `serve`.
const OTHER_VARS: &[&str] = &[
    "config",
    "url",
    "user_password",
    "test_scylla",
    "skip_browser",
    "base_url",
    "tenant",
];

/// Flags that override everything else.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--public-url`.
    pub public_url: Option<String>,
}

impl Config {
    /// Loads the layers. `file` is optional; a named file that does not exist is an error.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            anyhow::ensure!(
                f.exists(),
                "configuration file {} does not exist",
                f.display()
            );
            fig = fig.merge(Toml::file(f));
        }
        fig = fig.merge(Env::prefixed("TOLLGATE_").split("__"));
        let mut c: Config = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        if let Some(l) = &overrides.listen {
            c.listen = l.clone();
        }
        if let Some(d) = &overrides.data_dir {
            c.data_dir = d.clone();
        }
        if let Some(u) = &overrides.public_url {
            c.public_url = Some(u.clone());
        }
        for (k, _) in std::env::vars() {
            if let Some(rest) = k.strip_prefix("TOLLGATE_") {
                let top = rest.split("__").next().unwrap_or("").to_lowercase();
                if !KNOWN.contains(&top.as_str()) && !OTHER_VARS.contains(&top.as_str()) {
                    eprintln!("warning: unknown configuration variable {k} is ignored");
                }
            }
        }
        Ok(c)
    }

    /// The public URL, without a trailing slash.
    pub fn public_url(&self, bound: Option<std::net::SocketAddr>) -> String {
        if let Some(u) = &self.public_url {
            return u.trim_end_matches('/').to_owned();
        }
        let scheme = if self.tls_cert_file.is_some() {
            "https"
        } else {
            "http"
        };
        let addr = bound
            .map(|a| a.to_string())
            .unwrap_or_else(|| self.listen.clone());
        // The demo on a loopback address is served as `localhost`: a browser treats
        // http://localhost as a secure context and WebAuthn needs a domain, so the demo
        // offers passkeys out of the box (an IP address cannot have them).
        let loopback = addr
            .parse::<std::net::SocketAddr>()
            .ok()
            .filter(|a| a.ip().is_loopback());
        match loopback {
            Some(a) if self.demo_enabled() && scheme == "http" => {
                format!("http://localhost:{}", a.port())
            }
            _ => format!("{scheme}://{addr}"),
        }
    }

    /// The regions served, `default` when none is configured.
    pub fn regions(&self) -> BTreeMap<String, RegionConfig> {
        if self.regions.is_empty() {
            let mut r = BTreeMap::new();
            r.insert(
                tollgate_engine::model::DEFAULT_REGION.to_owned(),
                ScyllaConfig::default()
                    .regions
                    .into_values()
                    .next()
                    .unwrap_or_default(),
            );
            return r;
        }
        self.regions.clone()
    }

    /// The ScyllaDB settings with the served regions filled in.
    pub fn scylla(&self) -> ScyllaConfig {
        let mut c = self.store.scylla.clone();
        c.regions = self.regions();
        c
    }

    /// Passkeys' relying-party id and origin: `[webauthn]`, each defaulting from the
    /// public URL; `None` (passkeys off) when nothing names a domain.
    pub fn webauthn(&self, public_url: &str) -> Option<WebauthnConfig> {
        let derived = WebauthnConfig::from_public_url(public_url);
        let origin = self
            .webauthn
            .origin
            .as_ref()
            .map(|o| o.trim_end_matches('/').to_owned())
            .or_else(|| derived.as_ref().map(|d| d.origin.clone()))?;
        let rp_id = match &self.webauthn.rp_id {
            Some(r) => r.clone(),
            None => WebauthnConfig::from_public_url(&origin)?.rp_id,
        };
        Some(WebauthnConfig { rp_id, origin })
    }

    /// Whether to create the demo data.
    pub fn demo_enabled(&self) -> bool {
        self.demo.unwrap_or(self.mode == Mode::Development)
    }

    /// Refuses unsafe production settings, with every problem in one message.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.tls_cert_file.is_some() == self.tls_key_file.is_some(),
            "tls_cert_file and tls_key_file must be set together"
        );
        for name in self.regions.keys() {
            anyhow::ensure!(
                tollgate_engine::model::valid_region(name),
                "region {name:?}: names are lowercase letters, digits and _, starting with a letter (at most 32)"
            );
        }
        if let Some(w) = self.webauthn(&self.public_url(None)) {
            w.check().map_err(|e| anyhow::anyhow!("[webauthn]: {e}"))?;
        } else {
            anyhow::ensure!(
                self.webauthn.rp_id.is_none() && self.webauthn.origin.is_none(),
                "[webauthn] needs a domain name: webauthn.origin (or public_url) must name a host, not an IP address"
            );
        }
        self.mail.check()?;
        self.dns_servers()?;
        anyhow::ensure!(
            !self.host_cookies || self.public_url(None).starts_with("https://"),
            "host_cookies needs an https public_url (browsers accept __Host- cookies only over https)"
        );
        if self.store.backend == Backend::Scylla {
            anyhow::ensure!(
                !self.store.scylla.nodes.is_empty(),
                "store.scylla.nodes must name at least one ScyllaDB node (host:port)"
            );
        }
        if self.mode != Mode::Production {
            return Ok(());
        }
        let mut problems = Vec::new();
        match &self.public_url {
            Some(u) if u.starts_with("https://") => {}
            Some(_) => problems
                .push("public_url must use https in production (issuers and cookies depend on it)"),
            None => problems.push("public_url must be set in production (https://…)"),
        }
        if self.master_key.is_none() && self.master_key_file.is_none() {
            problems.push("master_key (or master_key_file) must be set in production: it seals the signing keys");
        }
        let token_ok = self.admin_token.as_ref().is_some_and(|t| t.len() >= 32)
            || self.admin_token_file.is_some();
        if !token_ok {
            problems.push("admin_token (or admin_token_file) of at least 32 characters must be set in production");
        }
        if self.demo == Some(true) {
            problems
                .push("demo must be off in production (it creates a user with a known password)");
        }
        let local = ["localhost", "127.0.0.1", "::1"].contains(&self.mail.host.as_str());
        if self.mail.mode == crate::mail::MailMode::Smtp
            && self.mail.tls == crate::mail::SmtpTls::None
            && !local
        {
            problems.push("mail.tls = \"none\" would send codes and links in clear text to a remote server: use starttls or tls");
        }
        anyhow::ensure!(
            problems.is_empty(),
            "refusing to start in production mode:\n  - {}",
            problems.join("\n  - ")
        );
        Ok(())
    }

    /// The master key: configured, from its file, or (development only) generated once and
    /// kept in the data directory.
    pub fn master_key(&self) -> anyhow::Result<MasterKey> {
        let text = self.secret(
            &self.master_key,
            &self.master_key_file,
            "master.key",
            MasterKey::generate_encoded,
        )?;
        MasterKey::parse(&text).map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// The admin token, likewise.
    pub fn admin_token(&self) -> anyhow::Result<String> {
        self.secret(
            &self.admin_token,
            &self.admin_token_file,
            "admin.token",
            tollgate_engine::crypto::random_token::<32>,
        )
    }

    /// The rustls server configuration, when TLS is terminated here.
    pub fn tls(&self) -> anyhow::Result<Option<rustls::ServerConfig>> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let (Some(cert), Some(key)) = (&self.tls_cert_file, &self.tls_key_file) else {
            return Ok(None);
        };
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                anyhow::anyhow!("cannot read certificates from {}: {e}", cert.display())
            })?;
        anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", cert.display());
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
            anyhow::anyhow!("cannot read the private key from {}: {e}", key.display())
        })?;
        crate::install_crypto_provider();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| anyhow::anyhow!("TLS certificate and key do not fit together: {e}"))?;
        Ok(Some(config))
    }

    fn secret(
        &self,
        value: &Option<String>,
        file: &Option<PathBuf>,
        dev_name: &str,
        generate: impl FnOnce() -> String,
    ) -> anyhow::Result<String> {
        if let Some(v) = value {
            return Ok(v.trim().to_owned());
        }
        if let Some(f) = file {
            return std::fs::read_to_string(f)
                .map(|s| s.trim().to_owned())
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()));
        }
        anyhow::ensure!(
            self.mode == Mode::Development,
            "{dev_name} is not configured"
        );
        let path = self.data_dir.join(dev_name);
        if let Ok(s) = std::fs::read_to_string(&path) {
            return Ok(s.trim().to_owned());
        }
        std::fs::create_dir_all(&self.data_dir)?;
        let v = generate();
        write_private(&path, &v)?;
        eprintln!(
            "development mode: generated {} (keep it; production needs it configured)",
            path.display()
        );
        Ok(v)
    }
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_unsafe_settings_with_every_reason() {
        let c = Config {
            mode: Mode::Production,
            public_url: Some("http://id.example".into()),
            demo: Some(true),
            ..Config::default()
        };
        let msg = c.check().unwrap_err().to_string();
        for needle in ["https", "master_key", "admin_token", "demo"] {
            assert!(msg.contains(needle), "{needle} missing from: {msg}");
        }
        let mut clear = Config {
            mode: Mode::Production,
            public_url: Some("https://id.example".into()),
            master_key: Some(MasterKey::generate_encoded()),
            admin_token: Some("x".repeat(40)),
            ..Config::default()
        };
        clear.mail.mode = crate::mail::MailMode::Smtp;
        clear.mail.host = "smtp.example.com".into();
        clear.mail.tls = crate::mail::SmtpTls::None;
        assert!(clear.check().unwrap_err().to_string().contains("mail.tls"));
        clear.mail.tls = crate::mail::SmtpTls::Starttls;
        clear.check().unwrap();
        let ok = Config {
            mode: Mode::Production,
            public_url: Some("https://id.example".into()),
            master_key: Some(MasterKey::generate_encoded()),
            admin_token: Some("x".repeat(40)),
            ..Config::default()
        };
        ok.check().unwrap();
        assert!(!ok.demo_enabled());
    }

    #[test]
    fn webauthn_defaults_from_the_public_url_and_can_be_set() {
        let c = Config {
            public_url: Some("https://id.example.com/".into()),
            ..Config::default()
        };
        let w = c.webauthn("https://id.example.com").unwrap();
        assert_eq!(
            (w.rp_id.as_str(), w.origin.as_str()),
            ("id.example.com", "https://id.example.com")
        );
        c.check().unwrap();
        // An IP address has no passkeys unless configured.
        assert!(
            Config::default()
                .webauthn("http://127.0.0.1:8080")
                .is_none()
        );
        Config::default().check().unwrap();
        let set = Config {
            webauthn: WebauthnSettings {
                rp_id: Some("example.com".into()),
                origin: Some("https://login.example.com".into()),
            },
            ..Config::default()
        };
        let w = set.webauthn("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (w.rp_id.as_str(), w.origin.as_str()),
            ("example.com", "https://login.example.com")
        );
        set.check().unwrap();
        for (rp_id, origin) in [
            (Some("other.com"), Some("https://login.example.com")),
            (Some("example.com"), None),
            (None, Some("http://10.0.0.1:8080")),
        ] {
            let bad = Config {
                webauthn: WebauthnSettings {
                    rp_id: rp_id.map(Into::into),
                    origin: origin.map(Into::into),
                },
                ..Config::default()
            };
            let msg = bad.check().unwrap_err().to_string();
            assert!(msg.contains("webauthn"), "{msg}");
        }
    }

    #[test]
    fn the_example_file_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/tollgate.example.toml");
        let c = Config::load(Some(&path), &Overrides::default()).unwrap();
        assert_eq!(c.otp.ttl_secs, 600);
        assert_eq!(c.otp.phone_limits.recipient.max, 5);
        assert_eq!(c.mail.mode, crate::mail::MailMode::Outbox);
        c.mail.check().unwrap();
    }

    #[test]
    fn dns_servers_must_be_socket_addresses() {
        let mut c = Config {
            dns_servers: vec!["10.0.0.2:53".into(), "[::1]:5353".into()],
            ..Config::default()
        };
        assert_eq!(c.dns_servers().unwrap().len(), 2);
        c.check().unwrap();
        c.dns_servers = vec!["ns1.example".into()];
        let msg = c.check().unwrap_err().to_string();
        assert!(
            msg.contains("dns_servers") && msg.contains("ns1.example"),
            "{msg}"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let c = Config {
            master_key: Some("super-secret".into()),
            admin_token: Some("admin-secret".into()),
            ..Config::default()
        };
        let d = format!("{c:?}");
        assert!(!d.contains("super-secret") && !d.contains("admin-secret"));
    }
}
