//! `octavia-integrator [--config PATH] leader true|false`: tell the daemon whether this unit
//! is the Juju leader (the charm's hooks run it on every hook, from `is-leader`).
//!
//! A leader acts on the cloud; a non-leader stops creating, deleting and resyncing until told
//! otherwise. Without a running daemon the flag is written to the store, so the daemon starts
//! with it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;

use super::context::{self, Failure, Runner};
use super::exit;
use crate::daemon::api::{self, Health, LeaderChange};
use crate::daemon::ClientError;
use crate::store::Store;

/// Arguments of `leader`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// `true` when this unit is the leader (the output of `is-leader --format=json`).
    #[arg(value_name = "true|false", action = clap::ArgAction::Set)]
    pub leader: bool,
}

/// Runs `leader`.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    context::finish((|| {
        let daemon = context::load_daemon_settings(config)?;
        let rt = context::current_thread()?;
        let not_passed = |e: ClientError| {
            Failure::new(
                exit::UNAVAILABLE,
                anyhow!("{e}; leadership ({}) not passed", args.leader),
            )
        };
        match rt.block_on(Runner::find(&daemon.socket)) {
            Ok(Runner::Daemon(d)) => {
                let change = LeaderChange {
                    leader: args.leader,
                };
                rt.block_on(d.client.post::<_, Health>(api::LEADER, &change))
                    .map_err(not_passed)?;
                Ok(())
            }
            Ok(Runner::InProcess) => {
                let mut store =
                    Store::open(&daemon.state_file).map_err(|e| Failure::new(exit::FAILURE, e))?;
                store.set_leader(args.leader);
                store.save().map_err(|e| Failure::new(exit::FAILURE, e))?;
                Ok(())
            }
            Err(e) => Err(not_passed(e)),
        }
    })())
}
