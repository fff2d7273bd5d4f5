//! The daemon's main loop: workers pulling from the queue, periodic resync, leadership,
//! settings reload, graceful shutdown. [`run`] is the entry point.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use tokio::net::UnixListener;
use tokio::sync::watch;

use super::engine::{Engine, Pass};
use super::http;
use super::metrics::Metrics;
use super::notify::Notifier;
use super::queue::WorkQueue;
use super::routes;
use super::shutdown::Shutdown;
use crate::config::Settings;
use crate::reconcile::{self, Reconciler};
use crate::relation::answer::{Interface, RequestKey};
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
    /// First delay between failed attempts to connect to the cloud (doubles up to 5 min).
    pub connect_retry: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 8,
            shutdown_grace: Duration::from_secs(20),
            reconciler: None,
            reload_on_sighup: false,
            connect_retry: Duration::from_secs(5),
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

/// State shared by the workers, the API handlers and the background loops.
#[derive(Debug)]
pub(crate) struct Daemon {
    pub(crate) engine: Arc<Engine>,
    pub(crate) queue: WorkQueue<RequestKey>,
    pub(crate) leader: watch::Sender<bool>,
    deep: StdMutex<HashSet<RequestKey>>,
    /// Interfaces whose complete request set a hook has sent since this daemon last became
    /// the leader. Garbage is collected only when both are known: a new leader's store may be
    /// stale until its first hooks run, and must not be taken as "nothing is wanted".
    fresh: StdMutex<HashSet<Interface>>,
    /// Set on gaining leadership until the next check of every request against one listing
    /// ([`Daemon::recheck_all`]) has run: meanwhile a hook's known but unanswered requests
    /// are left to that check (1000 of them cost a few list calls, not 1000 reconciles).
    adopting: std::sync::atomic::AtomicBool,
    settings: StdMutex<Settings>,
    options: Options,
    pub(crate) stop: Shutdown,
    abandon: Shutdown,
    reconnect: tokio::sync::Notify,
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
    let metrics = Arc::new(Metrics::new());
    let store = Store::open(&settings.daemon.state_file)?;
    let leader = store.leader().unwrap_or(settings.daemon.leader);
    // Only a store last written while the hooks told us we lead is known to hold every
    // request; anything else (a new unit's empty store, a follower's stale one) must not be
    // taken as "nothing else is wanted" by the garbage collector until the hooks have run.
    let fresh: HashSet<Interface> = if store.leader() == Some(true) {
        [Interface::LoadBalancer, Interface::PublicAddress].into()
    } else {
        HashSet::new()
    };
    let metrics_listener = match settings.daemon.metrics_address {
        Some(address) => Some(http::bind_metrics(address).await?),
        None => None,
    };
    let engine = Arc::new(Engine::new(store, None, metrics.clone()));
    let stop = Shutdown::new();
    stop.trigger_on(shutdown);
    engine.set_notifier(notifier_for(&settings, &metrics, &stop));
    metrics.set_leader(leader);
    let (leader_tx, _) = watch::channel(leader);
    let daemon = Arc::new(Daemon {
        engine,
        queue: WorkQueue::new(),
        leader: leader_tx,
        deep: StdMutex::new(HashSet::new()),
        fresh: StdMutex::new(fresh),
        adopting: std::sync::atomic::AtomicBool::new(false),
        settings: StdMutex::new(settings),
        options,
        stop: stop.clone(),
        abandon: Shutdown::new(),
        reconnect: tokio::sync::Notify::new(),
    });
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
    for _ in 0..daemon.options.workers.max(1) {
        workers.push(tokio::spawn(worker(daemon.clone())));
    }
    tokio::spawn(connect_loop(daemon.clone()));
    tokio::spawn(resync_loop(daemon.clone()));
    if daemon.options.reload_on_sighup {
        tokio::spawn(sighup_loop(daemon.clone()));
    }
    let api = tokio::spawn(routes::serve(listener, daemon.clone()));

    stop.wait().await;
    tracing::info!("stopping: no new work; letting in-flight reconciles finish");
    daemon.queue.close();
    let grace = daemon.options.shutdown_grace;
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
    Ok(())
}

impl Daemon {
    /// Whether this daemon acts on the cloud.
    pub(crate) fn is_leader(&self) -> bool {
        *self.leader.borrow()
    }

    /// Changes leadership: persists it. On gaining it, the store is not trusted until the
    /// hooks have sent the complete request sets ([`Daemon::retained`]); then every request
    /// is re-read (adopting what exists by tags) and garbage collected. On losing it,
    /// in-flight reconciles are abandoned and nothing more is done.
    pub(crate) async fn set_leader(self: &Arc<Self>, leader: bool) -> Result<(), StoreError> {
        self.engine.store_leader(leader).await?;
        if leader && !self.is_leader() {
            // Before the flag flips, so no hook in between queues its requests one by one.
            self.adopting
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let was = self.leader.send_replace(leader);
        self.engine.metrics().set_leader(leader);
        if was != leader {
            tracing::info!(leader, "leadership changed");
            if leader {
                lock(&self.fresh).clear();
            }
        }
        Ok(())
    }

    /// Whether a check of every request against one listing is due after gaining leadership
    /// (known but unanswered requests wait for it instead of taking a pass each).
    pub(crate) fn adopting(&self) -> bool {
        self.adopting.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Queues `key` if this daemon is the leader.
    pub(crate) fn enqueue(&self, key: RequestKey) {
        if self.is_leader() {
            self.queue.push(key);
        }
    }

    /// Checks every stored request with one listing of the cluster ([`Engine::resync`]):
    /// unchanged ones are answered at once, the others queued for a pass of their own (a deep
    /// one when `deep`). Nothing while not the leader.
    async fn recheck_all(&self, deep: bool) {
        if !self.is_leader() {
            return;
        }
        let again = self.engine.resync().await;
        self.adopting
            .store(false, std::sync::atomic::Ordering::SeqCst);
        self.engine.save_learned().await;
        if deep {
            lock(&self.deep).extend(again.iter().cloned());
        }
        for key in again {
            self.enqueue(key);
        }
        for key in self.engine.pending_removals(&self.confirmed()).await {
            self.enqueue(key);
        }
    }

    /// The interfaces whose complete request sets the store is known to hold (see `fresh`).
    fn confirmed(&self) -> Vec<Interface> {
        lock(&self.fresh).iter().copied().collect()
    }

    /// A hook sent every current request of `interface` (`whole`: no relation of it was held
    /// for want of a `version`). The first whole set since gaining leadership checks every
    /// request against one listing of the cluster (adopting what exists by tags,
    /// [`Engine::resync`]): unchanged ones are answered from it, only the others get a pass of
    /// their own. Removals of the interface still pending are carried out; once both
    /// interfaces are known, garbage is collected. A set with a held relation confirms nothing: the
    /// store may lack that relation's requests, and garbage collection must not take their
    /// load balancers for orphans.
    pub(crate) async fn retained(self: &Arc<Self>, interface: Interface, whole: bool) {
        if !whole {
            tracing::info!(
                ?interface,
                "a relation is not ready (no usable `version`): the store is not taken as \
                 complete, so nothing is garbage collected meanwhile"
            );
            // The check against one listing only reads: the other requests need not wait.
            if self.adopting() {
                let me = self.clone();
                tokio::spawn(async move { me.recheck_all(false).await });
            }
            return;
        }
        let (first, complete) = {
            let mut fresh = lock(&self.fresh);
            let first = fresh.is_empty();
            let added = fresh.insert(interface);
            (first && added, added && fresh.len() == 2)
        };
        if first {
            // In the background: the hook that triggered it is not held for the listing.
            let me = self.clone();
            tokio::spawn(async move { me.recheck_all(false).await });
        } else if self.is_leader() {
            for key in self.engine.pending_removals(&[interface]).await {
                self.enqueue(key);
            }
        }
        if complete {
            let me = self.clone();
            tokio::spawn(async move { me.collect_garbage().await });
        }
    }

    async fn collect_garbage(&self) {
        if !self.is_leader() {
            return;
        }
        if lock(&self.fresh).len() < 2 {
            tracing::debug!("garbage collection waits for the hooks to send every request");
            return;
        }
        if let Err(e) = self.engine.collect_garbage().await {
            tracing::warn!(error = %e, "garbage collection failed; retried at the next resync");
        }
    }

    /// Re-reads the settings file and reconnects; keeps the old settings on error.
    pub(crate) async fn reload(&self) -> Result<(), String> {
        let path = lock(&self.settings).path.clone().ok_or_else(|| {
            "these settings were not read from a file, so there is nothing to reload".to_string()
        })?;
        let fresh = Settings::load(&path).map_err(|e| e.to_string())?;
        {
            let old = lock(&self.settings);
            for (what, changed) in [
                ("socket", old.daemon.socket != fresh.daemon.socket),
                (
                    "state_file",
                    old.daemon.state_file != fresh.daemon.state_file,
                ),
                (
                    "metrics_address",
                    old.daemon.metrics_address != fresh.daemon.metrics_address,
                ),
            ] {
                if changed {
                    tracing::warn!(setting = what, "this setting changes only after a restart");
                }
            }
        }
        let notifier = notifier_for(&fresh, self.engine.metrics(), &self.stop);
        self.engine.set_notifier(notifier);
        *lock(&self.settings) = fresh;
        self.reconnect.notify_one();
        tracing::info!(path = %path.display(), "settings reloaded");
        Ok(())
    }

    /// Re-checks every request (drift, deleted or ERROR load balancers) and collects garbage
    /// (returns once that is done). One listing of the whole cluster vouches for the
    /// unchanged requests ([`Engine::resync`]); only the others are queued for a deep pass of
    /// their own, which repairs them.
    pub(crate) async fn resync_now(self: &Arc<Self>) {
        self.recheck_all(true).await;
        self.collect_garbage().await;
    }

    fn take_deep(&self, key: &RequestKey) -> bool {
        lock(&self.deep).remove(key)
    }

    fn resync_period(&self) -> Duration {
        lock(&self.settings)
            .daemon
            .resync
            .max(Duration::from_secs(1))
    }
}

fn notifier_for(settings: &Settings, metrics: &Arc<Metrics>, stop: &Shutdown) -> Notifier {
    match &settings.daemon.notify_command {
        Some(command) if !command.is_empty() => {
            Notifier::start(command.clone(), metrics.clone(), stop.clone())
        }
        _ => Notifier::disabled(),
    }
}

/// One queue worker: reconcile keys until the queue closes.
async fn worker(daemon: Arc<Daemon>) {
    while let Some(lease) = daemon.queue.next().await {
        let key = lease.key().clone();
        let metrics = daemon.engine.metrics().clone();
        metrics.set_queue(daemon.queue.waiting(), daemon.queue.running());
        if !daemon.is_leader() {
            metrics.observe_reconcile("apply", "skipped", 0.0);
            continue;
        }
        let deep = daemon.take_deep(&key);
        let mut leader_rx = daemon.leader.subscribe();
        let lost = async move {
            let _ = leader_rx.wait_for(|leader| !*leader).await;
        };
        let pass = tokio::select! {
            pass = daemon.engine.reconcile(&key, deep) => Some(pass),
            () = lost => {
                tracing::info!(request = %key, "no longer the leader: abandoning this reconcile");
                None
            }
            () = daemon.abandon.wait() => {
                tracing::warn!(request = %key, "shutting down: abandoning this reconcile");
                None
            }
        };
        if let Some(Pass::Again(after)) = pass {
            daemon.queue.push_after(key, after);
        }
        drop(lease);
        metrics.set_queue(daemon.queue.waiting(), daemon.queue.running());
    }
}

/// Connects to the cloud (retrying with backoff), and again after each settings reload.
async fn connect_loop(daemon: Arc<Daemon>) {
    let stopped = daemon.stop.wait();
    tokio::pin!(stopped);
    loop {
        let mut delay = daemon.options.connect_retry;
        loop {
            let settings = lock(&daemon.settings).clone();
            let attempt = connect(
                &settings,
                daemon.engine.metrics(),
                daemon.options.reconciler.clone(),
            );
            let result = tokio::select! {
                r = attempt => r,
                () = &mut stopped => return,
            };
            match result {
                Ok(reconciler) => {
                    daemon.engine.set_cloud(reconciler).await;
                    tracing::info!("connected to the cloud");
                    // Every stored request, checked with one listing of the cluster: a
                    // restart costs a few list calls, not a reconcile per request.
                    daemon.recheck_all(false).await;
                    daemon.collect_garbage().await;
                    break;
                }
                Err(e) => {
                    daemon.engine.set_connect_error(e.to_string());
                    tracing::error!(error = %e, retry_secs = delay.as_secs(), "cannot connect to the cloud; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = daemon.reconnect.notified() => {}
                        () = &mut stopped => return,
                    }
                    delay = (delay * 2).min(Duration::from_secs(300));
                }
            }
        }
        tokio::select! {
            () = daemon.reconnect.notified() => {}
            () = &mut stopped => return,
        }
    }
}

/// Builds a session (reporting every call to `metrics`) and a reconciler for `settings`.
///
/// # Errors
/// What failed, with the fix (bad credentials, unknown subnet…).
pub async fn connect(
    settings: &Settings,
    metrics: &Arc<Metrics>,
    options: Option<reconcile::Options>,
) -> Result<Reconciler, ConnectFailure> {
    let config = settings.session_config()?;
    let session = openstack::Session::new(config)
        .map_err(ConnectFailure::Session)?
        .with_observer(metrics.clone());
    let reconciler = Reconciler::connect(session, settings).await?;
    Ok(match options {
        Some(options) => reconciler.with_options(options),
        None => reconciler,
    })
}

/// Why [`connect`] could not connect to the cloud.
#[derive(Debug, thiserror::Error)]
pub enum ConnectFailure {
    /// The credentials in the settings do not resolve.
    #[error(transparent)]
    Settings(#[from] crate::config::ConfigError),
    /// No session could be made from them (a bad URL or CA bundle).
    #[error(transparent)]
    Session(openstack::Error),
    /// The cloud refused, failed, or lacks what a setting names.
    #[error(transparent)]
    Connect(#[from] reconcile::ConnectError),
}

impl ConnectFailure {
    /// Whether the operator must fix the settings or credentials (rather than wait for the
    /// cloud): what decides exit code 3 over 1.
    pub fn is_settings_problem(&self) -> bool {
        match self {
            ConnectFailure::Settings(_) => true,
            ConnectFailure::Session(e) => reconcile::is_settings_problem(e),
            ConnectFailure::Connect(e) => e.is_settings_problem(),
        }
    }
}

/// Every resync period: re-check every request (drift, deleted load balancers, ERROR) and
/// collect garbage — only while leader.
async fn resync_loop(daemon: Arc<Daemon>) {
    let stopped = daemon.stop.wait();
    tokio::pin!(stopped);
    loop {
        let period = daemon.resync_period();
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            () = &mut stopped => return,
        }
        if !daemon.is_leader() || daemon.engine.cloud().await.is_none() {
            continue;
        }
        tracing::debug!("periodic resync");
        // Also refreshes the "load balancers by status" gauge (from the same listing).
        daemon.resync_now().await;
    }
}

async fn sighup_loop(daemon: Arc<Daemon>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; use `octavia-integrator reload` instead");
        return;
    };
    let stopped = daemon.stop.wait();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            got = hup.recv() => {
                if got.is_none() {
                    return;
                }
                if let Err(e) = daemon.reload().await {
                    tracing::error!(error = %e, "settings reload failed; keeping the old settings");
                }
            }
            () = &mut stopped => return,
        }
    }
}

fn lock<T>(m: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
