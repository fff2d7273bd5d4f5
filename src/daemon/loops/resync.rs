//! The periodic resync: every resync period, re-check every request (drift, deleted load
//! balancers, ERROR) and collect garbage — only while leader and connected.

use std::sync::Arc;

use crate::daemon::state::Daemon;

/// Runs a resync every period until shutdown.
pub(crate) async fn run(daemon: Arc<Daemon>) {
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
