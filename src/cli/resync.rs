//! `octavia-integrator [--config PATH] resync`: ask the running daemon to re-check every
//! request against the cloud now (what the resync timer does), e.g. after fixing a quota.

use super::output::outln;
use std::path::Path;
use std::process::ExitCode;

use super::context::{self, Failure};
use super::exit;
use crate::daemon::api::{self, Health};
use crate::daemon::{ClientError, DaemonClient};

/// Arguments of `resync`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

/// Runs `resync`: exit 0 once the daemon has queued every request (and collected garbage).
pub fn run(config: Option<&Path>, _args: &Args) -> ExitCode {
    context::finish((|| {
        let daemon = context::load_daemon_settings(config)?;
        let rt = context::current_thread()?;
        let client = DaemonClient::new(&daemon.socket);
        match rt.block_on(client.post::<_, Health>(api::RESYNC, &serde_json::json!({}))) {
            Ok(health) => {
                outln!(
                    "resync queued: {} request(s) waiting, {} in progress",
                    health.queued,
                    health.running
                );
                Ok(())
            }
            Err(e @ ClientError::NotRunning { .. }) => Err(Failure::new(exit::UNAVAILABLE, e)),
            Err(e) => Err(Failure::new(exit::FAILURE, e)),
        }
    })())
}
