//! The state shared by the API handlers, the queue workers and the background loops
//! ([`Daemon`]), with what it decides: leadership, and when the store is trusted enough to
//! remove or collect garbage (the `fresh` set).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};

use super::engine::Engine;
use super::metrics::Metrics;
use super::notify::Notifier;
use super::queue::WorkQueue;
use super::shutdown::Shutdown;
use crate::config::Settings;
use crate::reconcile;
use crate::relation::answer::{Interface, RequestKey};
use crate::store::StoreError;

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
    adopting: AtomicBool,
    settings: StdMutex<Settings>,
    /// Reconciler tunables for each connection (`None`: from the settings).
    pub(crate) reconciler: Option<reconcile::Options>,
    /// First delay between failed attempts to connect to the cloud.
    pub(crate) connect_retry: Duration,
    /// Stop accepting calls and work.
    pub(crate) stop: Shutdown,
    /// Abandon in-flight reconciles (the shutdown grace ran out).
    pub(crate) abandon: Shutdown,
    /// Connect again (the settings were reloaded).
    pub(crate) reconnect: Notify,
}

impl Daemon {
    /// The state at start: `leader` as last stored (or configured), and whether the store is
    /// trusted to hold every request (`trusted`: it was last written while we led).
    pub(crate) fn new(
        engine: Arc<Engine>,
        leader: bool,
        trusted: bool,
        settings: Settings,
        reconciler: Option<reconcile::Options>,
        connect_retry: Duration,
        stop: Shutdown,
    ) -> Self {
        // Only a store last written while the hooks told us we lead is known to hold every
        // request; anything else (a new unit's empty store, a follower's stale one) must not be
        // taken as "nothing else is wanted" by the garbage collector until the hooks have run.
        let fresh: HashSet<Interface> = if trusted {
            [Interface::LoadBalancer, Interface::PublicAddress].into()
        } else {
            HashSet::new()
        };
        let (leader_tx, _) = watch::channel(leader);
        Daemon {
            engine,
            queue: WorkQueue::new(),
            leader: leader_tx,
            deep: StdMutex::new(HashSet::new()),
            fresh: StdMutex::new(fresh),
            adopting: AtomicBool::new(false),
            settings: StdMutex::new(settings),
            reconciler,
            connect_retry,
            stop,
            abandon: Shutdown::new(),
            reconnect: Notify::new(),
        }
    }

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
            self.adopting.store(true, Ordering::SeqCst);
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
        self.adopting.load(Ordering::SeqCst)
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
    pub(crate) async fn recheck_all(&self, deep: bool) {
        if !self.is_leader() {
            return;
        }
        let again = self.engine.resync().await;
        self.adopting.store(false, Ordering::SeqCst);
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

    /// Collects garbage if this daemon leads and the hooks have confirmed every interface.
    pub(crate) async fn collect_garbage(&self) {
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

    /// Whether `key`'s next pass is a deep one (it was queued by a resync); forgets it.
    pub(crate) fn take_deep(&self, key: &RequestKey) -> bool {
        lock(&self.deep).remove(key)
    }

    /// The settings now in force.
    pub(crate) fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// How long between periodic resyncs (at least a second).
    pub(crate) fn resync_period(&self) -> Duration {
        lock(&self.settings)
            .daemon
            .resync
            .max(Duration::from_secs(1))
    }
}

/// The notifier the settings ask for (disabled without a notify command).
pub(crate) fn notifier_for(
    settings: &Settings,
    metrics: &Arc<Metrics>,
    stop: &Shutdown,
) -> Notifier {
    match &settings.daemon.notify_command {
        Some(command) if !command.is_empty() => {
            Notifier::start(command.clone(), metrics.clone(), stop.clone())
        }
        _ => Notifier::disabled(),
    }
}

fn lock<T>(m: &StdMutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
