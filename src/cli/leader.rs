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
        let write_store = || {
            let mut store =
                Store::open(&daemon.state_file).map_err(|e| Failure::new(exit::FAILURE, e))?;
            store.set_leader(args.leader);
            store.save().map_err(|e| Failure::new(exit::FAILURE, e))
        };
        match rt.block_on(Runner::find(&daemon.socket)) {
            Ok(Runner::Daemon(d)) => {
                let change = LeaderChange {
                    leader: args.leader,
                };
                match rt.block_on(d.client.post::<_, Health>(api::LEADER, &change)) {
                    Ok(_) => Ok(()),
                    // It went away since it answered: its store holds the flag for the next start.
                    Err(ClientError::NotRunning { .. }) => write_store(),
                    Err(e) => Err(not_passed(e)),
                }
            }
            Ok(Runner::InProcess) => write_store(),
            Err(e) => Err(not_passed(e)),
        }
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A daemon that answers its health once and is gone before the next call: the flag must
    /// still land in the store, as it did when `leader` made a single call.
    #[test]
    fn a_daemon_gone_after_its_health_answer_leaves_the_flag_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("d.sock");
        let state = dir.path().join("state.json");
        let config = dir.path().join("settings.toml");
        std::fs::write(
            &config,
            format!(
                "[daemon]\nsocket = {:?}\nstate_file = {:?}\n",
                socket.display().to_string(),
                state.display().to_string()
            ),
        )
        .unwrap();
        let mut store = Store::open(&state).unwrap();
        store.set_leader(true);
        store.save().unwrap();
        drop(store);

        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let gone = socket.clone();
        let daemon = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).unwrap();
            // Gone before it answers, so the next call surely finds nobody listening.
            drop(listener);
            std::fs::remove_file(&gone).unwrap();
            let body = r#"{"version":"9.9.9","leader":true,"queued":0,"running":0}"#;
            write!(
                conn,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        });

        let code = run(Some(&config), &Args { leader: false });
        daemon.join().unwrap();
        assert_eq!(code, ExitCode::from(exit::OK));
        assert_eq!(Store::open(&state).unwrap().leader(), Some(false));
    }
}
