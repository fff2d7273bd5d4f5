//! `octavia-integrator [--config PATH] serve`: run the daemon in the foreground.
//!
//! SIGTERM / SIGINT: stop taking work, let in-flight reconciles finish (or abandon them after
//! a grace period), persist, exit 0; a second signal exits at once. SIGHUP: reload settings.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;

use super::context::{self, Failure};
use super::exit;
use crate::daemon::{self, bind_socket};

/// Arguments of `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Reconciles at once.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub workers: usize,
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    context::finish((|| {
        let settings = context::load_settings(config)?;
        let rt = context::multi_thread()?;
        rt.block_on(async {
            let listener =
                bind_socket(&settings.daemon.socket).map_err(|e| Failure::new(exit::FAILURE, e))?;
            let options = daemon::Options {
                workers: args.workers.max(1),
                reload_on_sighup: true,
                ..daemon::Options::default()
            };
            let shutdown = stop_signal().map_err(|e| Failure::new(exit::FAILURE, e))?;
            daemon::run_with(listener, settings, options, shutdown)
                .await
                .map_err(|e| Failure::new(exit::FAILURE, e))
        })
    })())
}

/// Resolves on the first SIGTERM or SIGINT; a second one exits the process at once.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| anyhow!("cannot listen for SIGTERM: {e}"))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| anyhow!("cannot listen for SIGINT: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        }
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            // Never eprintln!: it panics when standard error is what broke.
            let _ = writeln!(std::io::stderr(), "second signal: exiting now");
            std::process::exit(i32::from(exit::FAILURE));
        });
    })
}
