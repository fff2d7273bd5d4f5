//! Reloading the settings on SIGHUP (the `serve` command; tests use `/v1/reload`).

use std::sync::Arc;

use crate::daemon::state::Daemon;

/// Reloads the settings at each SIGHUP until shutdown; a failed reload keeps the old ones.
pub(crate) async fn run(daemon: Arc<Daemon>) {
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
