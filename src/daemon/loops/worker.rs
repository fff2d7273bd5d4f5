//! One queue worker: reconcile keys until the queue closes, requeueing as each pass asks.

use std::sync::Arc;

use crate::daemon::state::Daemon;

/// Reconciles keys from the queue until it closes. A pass is abandoned when leadership is
/// lost or the shutdown grace runs out (safe: every pass starts again from the cloud).
pub(crate) async fn run(daemon: Arc<Daemon>) {
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
        let action = tokio::select! {
            action = daemon.engine.reconcile(&key, deep) => Some(action),
            () = lost => {
                tracing::info!(request = %key, "no longer the leader: abandoning this reconcile");
                None
            }
            () = daemon.abandon.wait() => {
                tracing::warn!(request = %key, "shutting down: abandoning this reconcile");
                None
            }
        };
        if let Some(after) = action.and_then(|a| a.requeue_after) {
            daemon.queue.push_after(key, after);
        }
        drop(lease);
        metrics.set_queue(daemon.queue.waiting(), daemon.queue.running());
    }
}
