//! Wiring: the shared state, the routes (one `configure` for `main` and the tests), and
//! starting the server.

use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use prometheus::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use tollgate_engine::admin::Demo;
use tollgate_engine::clock::SystemClock;
use tollgate_engine::store::Store;
use tollgate_engine::store::embedded::{EmbeddedOptions, EmbeddedStore};
use tollgate_engine::store::scylla::ScyllaStore;
use tollgate_engine::{Engine, EngineConfig, EngineMetrics};

use crate::config::{Backend, Config};
use crate::http::Csrf;
use crate::metrics::HttpMetrics;
use crate::{admin, demo, email, federation, hosted, metrics, mfa, oidc, passkeys, phone, portal};

/// What every handler shares.
pub struct AppState {
    /// The engine.
    pub engine: Engine,
    /// CSRF token maker.
    pub csrf: Csrf,
    /// Whether cookies get `Secure` (the issuer is https).
    pub secure_cookies: bool,
    /// The admin API's bearer token.
    pub admin_token: String,
    /// All metrics.
    pub registry: Registry,
    /// HTTP metrics.
    pub http_metrics: HttpMetrics,
    /// The demo set-up, in development mode.
    pub demo: Option<Demo>,
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

async fn readyz(st: web::Data<AppState>) -> HttpResponse {
    match st.engine.ready().await {
        Ok(()) => HttpResponse::Ok().body("ready"),
        Err(_) => HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .body("not ready"),
    }
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .json(serde_json::json!({"error": "not_found", "error_description": "no such endpoint"}))
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(admin::json_config())
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics::metrics))
        .service(
            web::scope("/admin/v1")
                .route("/tenants", web::post().to(admin::create_tenant))
                .route("/tenants", web::get().to(admin::list_tenants))
                .route(
                    "/tenants/{tenant}/clients",
                    web::post().to(admin::create_client),
                )
                .route(
                    "/tenants/{tenant}/clients",
                    web::get().to(admin::list_clients),
                )
                .route(
                    "/tenants/{tenant}/users",
                    web::post().to(admin::create_user),
                )
                .service(
                    web::resource("/tenants/{tenant}/users/import")
                        .app_data(admin::json_config_limited(8 * 1024 * 1024))
                        .route(web::post().to(admin::import_users)),
                )
                .route(
                    "/tenants/{tenant}/keys/rotate",
                    web::post().to(admin::rotate_keys),
                )
                .route("/tenants/{tenant}/events", web::get().to(admin::events))
                .route(
                    "/tenants/{tenant}/events/export",
                    web::get().to(admin::export_events),
                )
                .route("/tenants/{tenant}/move", web::post().to(admin::move_tenant))
                .route(
                    "/tenants/{tenant}/mfa",
                    web::put().to(admin::set_mfa_policy),
                )
                .route(
                    "/tenants/{tenant}/purposes",
                    web::put().to(admin::set_purposes),
                )
                .route(
                    "/tenants/{tenant}/purposes",
                    web::get().to(admin::get_privacy_settings),
                )
                .route(
                    "/tenants/{tenant}/profile-fields",
                    web::put().to(admin::set_profile_fields),
                )
                .route(
                    "/tenants/{tenant}/profile-fields",
                    web::get().to(admin::get_privacy_settings),
                )
                .route(
                    "/tenants/{tenant}/users/{user}/export",
                    web::get().to(admin::export_user),
                )
                .route(
                    "/tenants/{tenant}/users/{user}",
                    web::delete().to(admin::delete_user),
                )
                .route("/purge", web::post().to(admin::purge))
                .configure(federation::admin_routes),
        )
        .route("/assets/passkeys.js", web::get().to(passkeys::script))
        .route("/demo", web::get().to(demo::start))
        .route("/demo/callback", web::get().to(demo::callback))
        .route("/demo/signed-out", web::get().to(demo::signed_out))
        .service(
            web::scope("/{tenant}")
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(oidc::discovery),
                )
                .route("/jwks.json", web::get().to(oidc::jwks))
                .route("/authorize", web::get().to(oidc::authorize))
                .route("/authorize", web::post().to(oidc::authorize))
                .route("/token", web::post().to(oidc::token))
                .route("/userinfo", web::get().to(oidc::userinfo))
                .route("/userinfo", web::post().to(oidc::userinfo))
                .route("/revoke", web::post().to(oidc::revoke))
                .route("/introspect", web::post().to(oidc::introspect))
                .route("/logout", web::get().to(hosted::logout))
                .route("/logout", web::post().to(hosted::logout))
                .route("/login", web::get().to(hosted::login_page))
                .route("/login", web::post().to(hosted::login_submit))
                .route("/signup", web::get().to(hosted::signup_page))
                .route("/signup", web::post().to(hosted::signup_submit))
                .route("/consent", web::get().to(hosted::consent_page))
                .route("/consent", web::post().to(hosted::consent_submit))
                .route("/account", web::get().to(hosted::account))
                .route("/account/export", web::get().to(hosted::account_export))
                .route("/account/apps/remove", web::post().to(hosted::remove_app))
                .route(
                    "/account/sessions/end",
                    web::post().to(hosted::end_sessions),
                )
                .route("/login/factor", web::post().to(mfa::factor_submit))
                .route("/login/enrol", web::post().to(mfa::enrol_submit))
                .route("/stepup", web::get().to(mfa::step_up))
                .route("/continue", web::get().to(mfa::continue_authorization))
                .route("/account/totp", web::get().to(mfa::account_totp))
                .route("/account/totp", web::post().to(mfa::account_totp_submit))
                .route(
                    "/account/factors/remove",
                    web::post().to(mfa::remove_factor),
                )
                .route(
                    "/account/recovery-codes",
                    web::post().to(mfa::new_recovery_codes),
                )
                .route(
                    "/passkeys/register/start",
                    web::post().to(passkeys::register_start),
                )
                .route(
                    "/passkeys/register/finish",
                    web::post().to(passkeys::register_finish),
                )
                .route(
                    "/passkeys/login/start",
                    web::post().to(passkeys::login_start),
                )
                .route(
                    "/passkeys/login/finish",
                    web::post().to(passkeys::login_finish),
                )
                .route(
                    "/passkeys/factor/start",
                    web::post().to(passkeys::factor_start),
                )
                .route(
                    "/passkeys/factor/finish",
                    web::post().to(passkeys::factor_finish),
                )
                .route("/passkeys/link/start", web::post().to(passkeys::link_start))
                .route(
                    "/passkeys/link/finish",
                    web::post().to(passkeys::link_finish),
                )
                .route("/passkeys/offer", web::get().to(passkeys::offer))
                .route("/account/passkeys/rename", web::post().to(passkeys::rename))
                .configure(email::routes)
                .configure(phone::routes)
                .configure(portal::routes)
                .configure(federation::routes),
        )
        .default_service(web::to(not_found));
}

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
}

/// Opens the store, starts the engine and the HTTP server. Call inside an actix System.
pub async fn start(config: Config) -> anyhow::Result<Running> {
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
    let engine = Engine::start(
        store,
        Arc::new(SystemClock),
        master.clone(),
        ec,
        engine_metrics,
    )
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
    engine.spawn_sweeper(std::time::Duration::from_secs(30));
    engine.spawn_purger(std::time::Duration::from_secs(
        config.privacy.purge_every_secs.max(1),
    ));
    engine.spawn_shard_reaper();
    let demo = if config.demo_enabled() {
        Some(
            engine
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
        secure_cookies: public_url.starts_with("https://"),
        admin_token: admin_token.clone(),
        http_metrics: HttpMetrics::register(&registry),
        registry,
        demo: demo.clone(),
    });
    let workers = if config.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        config.workers
    };
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(middleware::from_fn(metrics::record))
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
    })
}
