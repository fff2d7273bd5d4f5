//! Start and stop: [`run`] / [`run_with`] open the store, build the shared
//! `Daemon` state (`state.rs`), start the workers, the background loops and the
//! local API, then on shutdown drain them in order.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::task::JoinHandle;

use super::engine::Engine;
use super::http;
use super::loops;
use super::metrics::Metrics;
use super::routes;
use super::shutdown::Shutdown;
use super::state::{notifier_for, Daemon};
use crate::config::Settings;
use crate::reconcile;
use crate::store::{Store, StoreError};

/// Tunables of [`run_with`] (defaults fit production; tests scale them down).
#[derive(Debug, Clone)]
pub struct Options {
    /// Reconciles at once (queue workers).
    pub workers: usize,
    /// How long in-flight reconciles may run after a shutdown signal before they are
    /// abandoned (safe: every pass starts again from what the cloud has).
    pub shutdown_grace: Duration,
    /// Reconciler tunables (poll timing, repair pacing); `None`: from the settings.
    pub reconciler: Option<reconcile::Options>,
    /// Whether SIGHUP reloads the settings (the `serve` command; tests use `/v1/reload`).
    pub reload_on_sighup: bool,
    /// First delay between failed attempts to connect to the cloud (doubles up to
    /// [`CONNECT_RETRY_CAP`](crate::reconcile::requeue::CONNECT_RETRY_CAP)).
    pub connect_retry: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 8,
            shutdown_grace: Duration::from_secs(20),
            reconciler: None,
            reload_on_sighup: false,
            connect_retry: reconcile::requeue::CONNECT_RETRY,
        }
    }
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The store could not be opened (another daemon holds it, or it is unreadable/corrupt).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The metrics address could not be used.
    #[error(transparent)]
    Metrics(#[from] http::MetricsListenError),
}

/// Runs the daemon on an already bound `listener` until `shutdown` resolves, with default
/// [`Options`].
///
/// # Errors
/// [`DaemonError`] when it cannot start; once running it only stops on `shutdown`.
pub async fn run<F>(
    listener: UnixListener,
    settings: Settings,
    shutdown: F,
) -> Result<(), DaemonError>
where
    F: Future<Output = ()> + Send + 'static,
{
    run_with(listener, settings, Options::default(), shutdown).await
}

/// [`run`] with explicit [`Options`].
///
/// Startup: open (and lock) the store, bind the metrics address, start the workers and the
/// API, then connect to the cloud in the background (retrying), so hooks get answers from the
/// store even while the cloud is unreachable. Shutdown: stop accepting calls and work, give
/// in-flight reconciles `shutdown_grace` to finish, abandon the rest, persist, remove the
/// socket file.
///
/// # Errors
/// [`DaemonError`] when it cannot start.
pub async fn run_with<F>(
    listener: UnixListener,
    settings: Settings,
    options: Options,
    shutdown: F,
) -> Result<(), DaemonError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let socket_path = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(|p| p.to_path_buf()));
    let result = serve(listener, settings, options, shutdown).await;
    if let Some(path) = socket_path {
        let _ = std::fs::remove_file(path);
    }
    result
}

async fn serve<F>(
    listener: UnixListener,
    settings: Settings,
    options: Options,
    shutdown: F,
) -> Result<(), DaemonError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let grace = options.shutdown_grace;
    let running = start(listener, settings, options, shutdown).await?;
    running.daemon.stop.wait().await;
    running.stop(grace).await;
    Ok(())
}

/// The tasks a started daemon runs, for [`Running::stop`] to drain.
struct Running {
    daemon: Arc<Daemon>,
    workers: Vec<JoinHandle<()>>,
    api: JoinHandle<()>,
}

/// Opens (and locks) the store, binds the metrics address, builds the shared state, and
/// spawns the workers, the loops and the local API; `shutdown` triggers the daemon's stop.
async fn start<F>(
    listener: UnixListener,
    settings: Settings,
    options: Options,
    shutdown: F,
) -> Result<Running, DaemonError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let metrics = Arc::new(Metrics::new());
    let store = Store::open(&settings.daemon.state_file)?;
    let leader = store.leader().unwrap_or(settings.daemon.leader);
    let store_trusted = store.leader() == Some(true);
    let metrics_listener = match settings.daemon.metrics_address {
        Some(address) => Some(http::bind_metrics(address).await?),
        None => None,
    };
    let engine = Arc::new(Engine::new(store, None, metrics.clone()));
    let stop = Shutdown::new();
    stop.trigger_on(shutdown);
    engine.set_notifier(notifier_for(&settings, &metrics, &stop));
    metrics.set_leader(leader);
    let daemon = Arc::new(Daemon::new(
        engine,
        leader,
        store_trusted,
        settings,
        options.reconciler,
        options.connect_retry,
        stop.clone(),
    ));
    let socket = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(|p| p.display().to_string()))
        .unwrap_or_else(|| "(unnamed)".to_string());
    tracing::info!(%socket, leader, "daemon started");

    if let Some(l) = metrics_listener {
        tokio::spawn(http::serve_metrics(l, metrics.clone(), stop.clone()));
    }
    let mut workers = Vec::new();
    for _ in 0..options.workers.max(1) {
        workers.push(tokio::spawn(loops::worker::run(daemon.clone())));
    }
    tokio::spawn(loops::connect::run(daemon.clone()));
    tokio::spawn(loops::resync::run(daemon.clone()));
    if options.reload_on_sighup {
        tokio::spawn(loops::sighup::run(daemon.clone()));
    }
    let api = tokio::spawn(routes::serve(listener, daemon.clone()));
    Ok(Running {
        daemon,
        workers,
        api,
    })
}

impl Running {
    /// Stops taking work, gives in-flight reconciles `grace` to finish and abandons the
    /// rest, closes the local API, persists the store.
    async fn stop(self, grace: Duration) {
        let Running {
            daemon,
            workers,
            api,
        } = self;
        tracing::info!("stopping: no new work; letting in-flight reconciles finish");
        daemon.queue.close();
        let all = futures::future::join_all(workers);
        tokio::pin!(all);
        if tokio::time::timeout(grace, &mut all).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "in-flight reconciles did not finish in time; abandoning them (they resume on the next start)"
            );
            daemon.abandon.trigger();
            all.await;
        }
        // Hook clients use one short call per connection; do not wait on a stuck one.
        if tokio::time::timeout(Duration::from_secs(5), api)
            .await
            .is_err()
        {
            tracing::warn!("a local API connection was still open at shutdown; closed it");
        }
        if let Err(e) = daemon.engine.persist().await {
            tracing::error!(error = %e, "could not persist the store on shutdown");
        }
        tracing::info!("stopped");
    }
}
