//! Connecting to the cloud in the background (retrying with backoff), and again after each
//! settings reload; hooks get answers from the store meanwhile.

use crate::daemon::cloud::connect;
use crate::daemon::state::Daemon;
use crate::reconcile::requeue::next_connect_delay;
use std::sync::Arc;

/// Connects (retrying with backoff), then waits for a reload to connect again; returns on
/// shutdown. Each connection re-checks every stored request against one listing.
pub(crate) async fn run(daemon: Arc<Daemon>) {
    let stopped = daemon.stop.wait();
    tokio::pin!(stopped);
    loop {
        let mut delay = daemon.connect_retry;
        loop {
            let settings = daemon.settings();
            let attempt = connect(
                &settings,
                daemon.engine.metrics(),
                daemon.reconciler.clone(),
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
                    delay = next_connect_delay(delay);
                }
            }
        }
        tokio::select! {
            () = daemon.reconnect.notified() => {}
            () = &mut stopped => return,
        }
    }
}
