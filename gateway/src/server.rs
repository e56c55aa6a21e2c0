//! Start-up: opens the store, starts the engine with the senders and the outbound client,
//! builds the shared state and serves the routes. Names the HTTP crate's state and routes,
//! never a handler.

use actix_web::{App, HttpServer, middleware, web};
use prometheus::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use tollgate_engine::admin::Demo;
use tollgate_engine::clock::{SharedClock, SystemClock};
use tollgate_engine::store::Store;
use tollgate_engine::{Engine, EngineConfig, EngineMetrics};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};
use tollgate_store_scylla::ScyllaStore;

use tollgate_http::routes::configure;
use tollgate_http::state::{AppState, Csrf, HttpMetrics};
use tollgate_http::web::metrics;

use crate::config::{Backend, Config};
use crate::upstream::HttpUpstream;

/// A running server.
pub struct Running {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    /// Stops the server.
    pub handle: actix_web::dev::ServerHandle,
    /// The engine behind it.
    pub engine: Engine,
    /// The demo set-up, if enabled.
    pub demo: Option<Demo>,
    /// The admin token.
    pub admin_token: String,
    /// Resolves when the server stops.
    pub done: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Where `/metrics` is served when `[metrics] listen` gives it an address of its own.
    pub metrics_addr: Option<SocketAddr>,
}

/// Opens the store, starts the engine and the HTTP server. Call inside an actix System.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    start_with_clock(config, Arc::new(SystemClock)).await
}

/// [`start`], with the engine reading time from `clock`: tests move a `ManualClock` to
/// reach an expiry instead of sleeping until it.
pub async fn start_with_clock(config: Config, clock: SharedClock) -> anyhow::Result<Running> {
    config.check()?;
    let tls = config.tls()?;
    let master = config.master_key()?;
    let admin_token = config.admin_token()?;
    let listener = std::net::TcpListener::bind(&config.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr()?;
    let public_url = config.public_url(Some(addr));
    let registry = Registry::new();
    let engine_metrics = EngineMetrics::register(&registry);
    let store: Arc<dyn Store> = match config.store.backend {
        Backend::Embedded => Arc::new(
            EmbeddedStore::open(
                &config.data_dir,
                EmbeddedOptions::default(),
                Some(Arc::new(engine_metrics.clone())),
            )
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot open the data directory {}: {e}",
                    config.data_dir.display()
                )
            })?,
        ),
        Backend::Scylla => Arc::new(
            ScyllaStore::connect(&config.scylla())
                .await
                .map_err(|e| anyhow::anyhow!("cannot use the ScyllaDB store: {e}"))?,
        ),
    };
    let mut ec = EngineConfig::new(&public_url);
    ec.passwords = config.passwords.clone();
    ec.throttle = config.login_throttle.clone();
    ec.shards.shards_per_tenant = config.shards_per_tenant.max(1);
    ec.shards.idle = std::time::Duration::from_secs(config.shard_idle_secs.max(1));
    // Other gateways write the same cluster: caches may be stale, the store decides.
    ec.shards.shared = config.store.backend == Backend::Scylla;
    ec.regions = config.regions().into_keys().collect();
    ec.webauthn = config.webauthn(&public_url);
    ec.otp = config.otp.clone();
    ec.purge_after_secs = config.privacy.purge_after_days.saturating_mul(86_400);
    ec.logout = config.logout.clone();
    let engine = Engine::start(store, clock, master.clone(), ec, engine_metrics)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if config.mode == crate::config::Mode::Production
        && (config.mail.mode == crate::mail::MailMode::Outbox
            || config.sms.mode == crate::sms::SmsMode::Outbox)
    {
        tracing::warn!(
            "mail.mode or sms.mode is \"outbox\": codes are written to files under the data directory, not sent"
        );
    }
    // The send queue runs on this runtime, with the senders built here.
    engine.set_delivery(
        config.mail.build(&config.data_dir)?,
        config.sms.build(&config.data_dir)?,
    );
    if let Some((app_secret, verify_token)) = config.sms.whatsapp_webhook()? {
        engine
            .messaging()
            .set_deployment_webhook(app_secret, verify_token);
    }
    engine.set_upstream_http(Arc::new(HttpUpstream::new(&config.dns_servers()?)?));
    engine.spawn_sweeper(std::time::Duration::from_secs(30));
    engine.spawn_purger(std::time::Duration::from_secs(
        config.privacy.purge_every_secs.max(1),
    ));
    // Dormancy notices and erasures, and the purge of old audit events, on the same beat.
    engine.spawn_retention(std::time::Duration::from_secs(
        config.privacy.purge_every_secs.max(1),
    ));
    engine.spawn_shard_reaper();
    // Breach notification jobs that were running when the last process stopped (DPDP
    // Rule 7); after the delivery set-up, which they send through.
    engine.resume_breach_jobs();
    // After the outbound client: delivers what an earlier run left in the outbox too.
    engine.spawn_logout_sender();
    let demo = if config.demo_enabled() {
        Some(
            engine
                .admin()
                .ensure_demo()
                .await
                .map_err(|e| anyhow::anyhow!("demo set-up failed: {e}"))?,
        )
    } else {
        None
    };
    let state = web::Data::new(AppState {
        engine: engine.clone(),
        csrf: Csrf::new(master.derive("tollgate csrf v1")),
        cookies: tollgate_http::web::cookies::CookieScope {
            secure: public_url.starts_with("https://"),
            host_prefix: config.host_cookies,
        },
        admin_token: admin_token.clone(),
        http_metrics: HttpMetrics::register(&registry),
        registry,
        demo: demo.clone(),
        metrics_token: config.metrics.token.clone().filter(|t| !t.is_empty()),
        looks: tollgate_ui::Looks::default(),
    });
    let workers = if config.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        config.workers
    };
    // `/metrics` on an address of its own, when configured, and then not on the main one.
    let metrics_addr = match &config.metrics.listen {
        Some(listen) => {
            let l = std::net::TcpListener::bind(listen)
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen} for metrics: {e}"))?;
            let addr = l.local_addr()?;
            let state = state.clone();
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(state.clone())
                    .configure(tollgate_http::routes::metrics)
            })
            .workers(1)
            .listen(l)?
            .run();
            tokio::spawn(server);
            Some(addr)
        }
        None => None,
    };
    let metrics_here = metrics_addr.is_none();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(middleware::from_fn(metrics::record))
            // Before the table: registration order is match order.
            .configure(|cfg| {
                if metrics_here {
                    tollgate_http::routes::metrics(cfg);
                }
            })
            .configure(configure)
    })
    .workers(workers)
    .backlog(4096);
    let server = match tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls)?,
        None => server.listen(listener)?,
    }
    .run();
    let handle = server.handle();
    let done = tokio::spawn(server);
    Ok(Running {
        addr,
        handle,
        engine,
        demo,
        admin_token,
        done,
        metrics_addr,
    })
}
