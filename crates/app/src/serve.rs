//! `gatehouse serve` and `gatehouse migrate`.
//!
//! Start-up order matters: the listener is bound first, so a taken port fails at once with a clear
//! message; then the data directory, the master key, the database and its migrations, the
//! background task and the router ([`prepare`], which the test server shares); then, while no
//! administrator exists, a one-time bootstrap link is printed. SIGTERM or Ctrl-C stops accepting
//! connections and lets in-flight requests finish.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Instant};

use anyhow::Context;
use axum::Router;
use gatehouse_core::{Clock, Core, Settings, TokenLifetimes, jobs::Jobs};
use gatehouse_store::{OneTimeTokenStore, SchemaStatus, Store, StoreError};
use gatehouse_web::AppState;
use tokio::net::TcpListener;

use crate::{
    cli::LogFormat,
    config::Config,
    crypto::{KeySource, load_master_key},
};

/// A prepared application: the router to serve, the state behind it, and the background jobs
/// (stop them before closing the store).
pub struct App {
    pub router: Router,
    pub state: AppState,
    pub background: Jobs,
}

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn run(cfg: Arc<Config>) -> anyhow::Result<()> {
    let started = Instant::now();
    init_logging(&cfg);
    let listener = bind(cfg.listen).await?;
    let app = prepare(cfg.clone()).await?;
    let dispatcher = crate::events::start_dispatcher(&cfg, &app.state)?;
    let store = app.state.store.clone();
    let background = app.background;

    match gatehouse_web::setup::issue_bootstrap_link_if_needed(&store, &cfg.public_url, app.state.now()).await {
        Ok(Some(link)) => print_bootstrap_link(&link),
        Ok(None) => {}
        Err(e) => return Err(e).context("cannot issue the bootstrap link"),
    }

    tracing::info!(
        listen = %cfg.listen,
        public_url = %cfg.public_url,
        database = %cfg.database_url_redacted(),
        startup_ms = started.elapsed().as_millis() as u64,
        "Gatehouse is ready"
    );
    axum::serve(listener, app.router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the HTTP server failed")?;
    tracing::info!("stopped accepting connections; in-flight requests finished");
    background.abort();
    if let Err(e) = gatehouse_core::tokens::last_used::flush(&app.state.tokens).await {
        tracing::warn!(error = %e, "the last-used times of the last seconds were not stored");
    }
    if let Some(d) = dispatcher {
        d.abort();
    }
    store.close().await;
    Ok(())
}

/// `gatehouse migrate`: applies pending migrations and prints the schema version.
pub async fn migrate_cmd(cfg: Arc<Config>) -> anyhow::Result<()> {
    init_logging(&cfg);
    ensure_data_dir(&cfg.data_dir)?;
    let store = connect(&cfg).await?;
    migrate(&store).await?;
    check_writable(&store, &cfg).await?;
    let version = store.known_schema_version();
    store.close().await;
    println!("database schema is at version {version} (current)");
    Ok(())
}

/// Everything between binding and serving: data directory, master key, database (connected and
/// migrated), the background task, the state and the router.
pub async fn prepare(cfg: Arc<Config>) -> anyhow::Result<App> {
    prepare_with_clock(cfg, Clock::system()).await
}

/// [`prepare`] with a given clock (tests use a manual one to reach expiry without waiting).
pub async fn prepare_with_clock(cfg: Arc<Config>, clock: Clock) -> anyhow::Result<App> {
    ensure_data_dir(&cfg.data_dir)?;
    let (master_key, source) = load_master_key(&cfg)?;
    match source {
        KeySource::Generated => {
            tracing::info!(path = %cfg.master_key_path().display(), "generated a new master key");
            if cfg.uses_postgres() {
                tracing::warn!(
                    "a master key was generated in this node's data directory; every node of a PostgreSQL \
                     deployment must use the same key (set master_key_file)"
                );
            }
        }
        KeySource::File | KeySource::Config => {}
    }
    let store = connect(&cfg).await?;
    migrate(&store).await?;
    check_writable(&store, &cfg).await?;
    let generation = store
        .catalog_generation()
        .await
        .context("cannot read the catalog generation")?;
    let metrics = gatehouse_web::telemetry::metrics_handle();
    let core = Core::new(store, core_settings(&cfg), master_key, clock, generation);
    let background = start_jobs(&core, &metrics);
    let state = AppState {
        core: std::sync::Arc::new(core),
        metrics,
    };
    let router = gatehouse_web::router(state.clone());
    Ok(App {
        router,
        state,
        background,
    })
}

/// Starts the background jobs every node runs (the dispatcher is started by [`run`] alone: tests
/// drive deliveries themselves).
fn start_jobs(core: &Core, metrics: &metrics_exporter_prometheus::PrometheusHandle) -> Jobs {
    let mut jobs = Jobs::default();
    let upkeep = metrics.clone();
    jobs.add("catalog watch", core.catalog_watch.poll(move || upkeep.run_upkeep()));
    jobs.add("token purge", gatehouse_core::tokens::purge::spawn(&core.tokens));
    jobs.add(
        "credential expiry",
        gatehouse_core::console::expiry::spawn(core.clone()),
    );
    if core.store.backend() == gatehouse_store::Backend::Postgres {
        // Other nodes' caches hear of this node's changes within milliseconds, and this node's of
        // theirs; the catalog poll and the deny-list interval remain the bound when a listener is
        // down.
        let store = core.store.clone();
        jobs.add(
            "change announcements",
            tokio::spawn(async move { store.announce_changes_to_other_nodes().await }),
        );
        let store = core.store.clone();
        jobs.add(
            "other nodes' changes",
            tokio::spawn(async move { store.follow_other_nodes_changes().await }),
        );
    }
    jobs.add(
        "gateway usage",
        gatehouse_core::gateway::spawn_usage_flush(core.clone()),
    );
    jobs.add("last used", gatehouse_core::tokens::last_used::spawn(&core.tokens));
    jobs
}

/// The part of the configuration the application core reads.
pub fn core_settings(cfg: &Config) -> Settings {
    let mut s = Settings::new(cfg.public_url.clone());
    s.signup_enabled = cfg.signup.enabled;
    s.org_id_suffix = cfg.org_id_suffix().to_owned();
    s.technical_account_domain = cfg.technical_account_domain().to_owned();
    s.tokens = TokenLifetimes {
        access_token: i64::from(cfg.tokens.access_token_lifetime),
        refresh_token: i64::from(cfg.tokens.refresh_token_lifetime),
        authorization_code: i64::from(cfg.tokens.authorization_code_lifetime),
    };
    // Checked by `Config::validate`; the default stands only if that was skipped.
    s.signing_algorithm =
        gatehouse_domain::token::keys::SigningAlg::parse(&cfg.tokens.signing_algorithm).unwrap_or(s.signing_algorithm);
    s.ims = gatehouse_core::ImsSettings {
        accepted_audience_bases: cfg.ims.accepted_audience_bases.clone(),
        as_: cfg.ims.as_.clone(),
    };
    s.events_allowed_networks = cfg.events.allowed_networks.clone();
    s.events_dispatcher = cfg.events.dispatcher;
    s.identity = crate::identity::settings(cfg);
    s
}

/// Binds the listener, turning the common failures into messages a person can act on.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!("{addr} is already in use; choose another with --listen"),
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "not allowed to listen on {addr} (ports below 1024 need privileges); choose another with --listen"
        ),
        std::io::ErrorKind::AddrNotAvailable => {
            anyhow::anyhow!("{addr} is not an address of this machine; choose another with --listen")
        }
        _ => anyhow::anyhow!("cannot listen on {addr}: {e}"),
    })
}

/// Creates the data directory (owner-only) if needed and proves it is writable.
pub fn ensure_data_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let shown = dir.display();
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                anyhow::anyhow!("cannot create the data directory {shown}: {e}; choose another with --data-dir")
            })?;
    }
    let probe = dir.join(format!(".gatehouse-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| {
        anyhow::anyhow!(
            "the data directory {shown} is not writable: {e}; fix its permissions or choose another with --data-dir"
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

async fn connect(cfg: &Config) -> anyhow::Result<Store> {
    Store::connect(&cfg.database_url, cfg.database_max_connections)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {}: {e}", cfg.database_url_redacted()))
}

/// A write that matches no row proves the (migrated) database is writable now rather than at the
/// first change: a read-only SQLite file opens without complaint. The transaction rolls back.
async fn check_writable(store: &Store, cfg: &Config) -> anyhow::Result<()> {
    let probe = async {
        let mut tx = store.begin().await?;
        tx.revoke_one_time_tokens("startup-write-probe", 0).await
    };
    probe
        .await
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("the database {} is not writable: {e}", cfg.database_url_redacted()))
}

async fn migrate(store: &Store) -> anyhow::Result<()> {
    let before = store
        .schema_status()
        .await
        .context("cannot read the database schema version")?;
    if before == SchemaStatus::Current {
        return Ok(());
    }
    match store.migrate().await {
        Ok(()) => {
            if before == SchemaStatus::Behind {
                tracing::info!(version = store.known_schema_version(), "database migrated");
            }
            Ok(())
        }
        Err(e @ StoreError::SchemaTooNew { .. }) => Err(anyhow::anyhow!("refusing to start: {e}")),
        Err(e) => Err(anyhow::anyhow!("cannot migrate the database: {e}")),
    }
}

fn print_bootstrap_link(link: &str) {
    // Printed, not logged: the link is a credential and log lines travel further than a terminal.
    println!();
    println!("No administrator exists yet. Open this link to create the first one (valid for 24 hours, single use):");
    println!();
    println!("    {link}");
    println!();
    tracing::info!("printed a one-time bootstrap link for the first administrator on standard output");
}

/// Installs the log subscriber (stderr, text or JSON). Does nothing if one is installed already.
pub fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match cfg.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received; shutting down"),
        () = term => tracing::info!("SIGTERM received; shutting down"),
    }
}
