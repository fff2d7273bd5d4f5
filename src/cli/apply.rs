//! `octavia-integrator [--config PATH] apply --request FILE [--app APP] [--wait SECS]`:
//! builds (or brings up to date) the load balancer of one request, in this process, and prints
//! the relation Response JSON.
//!
//! For trials without a daemon: what `apply` builds is not recorded in the daemon's store, so a
//! running daemon's garbage collection would delete it. `apply` therefore refuses (exit 1) when
//! a daemon answers on the configured socket; hand the request to the daemon through a hook
//! envelope (`lb-consumers`) instead.
//!
//! Exit codes: 0 answered with an address; 1 answered with an error (the Response is still
//! printed), not ready within `--wait` (run it again), a cloud failure, or a daemon runs; 2 the
//! request file is unreadable or invalid; 3 settings or credentials missing or invalid.

use super::output::outln;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::context::{refuse_beside_daemon, with_reconciler};
use crate::cli::{exit, progress};
use crate::reconcile::Outcome;
use crate::relation::v1::Request;
use crate::spec::LbIdentity;

/// The application a request is filed under when `--app` is not given.
pub const DEFAULT_APP: &str = "manual";

/// Arguments of `apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The request: the JSON text of a `request_<name>` relation value (with `backends`).
    #[arg(long, value_name = "FILE")]
    pub request: PathBuf,
    /// The consuming application the request belongs to (part of the load balancer's
    /// identity: two applications with one request name get two load balancers).
    #[arg(long, value_name = "APP", default_value = DEFAULT_APP)]
    pub app: String,
    /// Wait at most SECS for Octavia (default: the settings' `wait_seconds`).
    #[arg(long, value_name = "SECS")]
    pub wait: Option<u64>,
}

/// Runs `apply`.
pub fn run(config: Option<&Path>, args: &Args) -> ExitCode {
    let request = match read_request(&args.request) {
        Ok(r) => r,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let key = LbIdentity::new(args.app.clone(), request.name.clone());
    with_reconciler(config, |rec, settings| async move {
        let refused = refuse_beside_daemon(&settings.daemon.socket, |socket| {
            format!(
                "a daemon answers on {}: what `apply` builds is not in the daemon's store, \
                 so its garbage collection would delete it. Hand the request to the daemon with \
                 `lb-consumers` (a hook envelope carrying every request), or stop the daemon to \
                 try `apply` by hand",
                socket.display()
            )
        });
        if let Some(code) = refused.await {
            return code;
        }
        let budget = args
            .wait
            .map(Duration::from_secs)
            .unwrap_or(rec.wait_budget());
        let ticker = progress::Ticker::start();
        let outcome = rec.apply_within(&key, &request, budget).await;
        drop(ticker);
        match outcome.response(&request) {
            Some(response) => {
                if let Outcome::Ready(r) = &outcome {
                    for a in &r.actions {
                        eprintln!("{a}");
                    }
                }
                outln!("{}", response.canonical_json());
                match response.error() {
                    // The answer is printed either way; the exit code says it is a refusal.
                    Some(kind) => {
                        eprintln!(
                            "error: request {key} is answered `{}`: {}",
                            kind.as_str(),
                            response.why()
                        );
                        ExitCode::from(exit::FAILURE)
                    }
                    None => ExitCode::from(exit::OK),
                }
            }
            None => {
                let why = match &outcome {
                    Outcome::Converging { why, .. } => why.clone(),
                    _ => String::from("not ready"),
                };
                eprintln!(
                    "not ready yet: {why}; run `apply` again later (the work done so far is kept)"
                );
                ExitCode::from(exit::FAILURE)
            }
        }
    })
}

/// Reads and validates a request file.
///
/// # Errors
/// A message naming the file and what is wrong with it.
pub fn read_request(path: &Path) -> Result<Request, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the request file {}: {e}", path.display()))?;
    Request::parse(&text).map_err(|e| {
        format!(
            "the request file {} is not a valid loadbalancer request: {}",
            path.display(),
            e.describe()
        )
    })
}
