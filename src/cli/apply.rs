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

use crate::cli::{exit, progress};
use crate::config::Settings;
use std::sync::Arc;

use crate::daemon::api::{self, Health};
use crate::daemon::metrics::Metrics;
use crate::daemon::{cloud, ClientError, DaemonClient};
use crate::reconcile::{Outcome, Reconciler};
use crate::relation::v1::Request;
use crate::spec::RequestKey;

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
    let key = RequestKey::new(args.app.clone(), request.name.clone());
    with_reconciler(config, |rec, settings| async move {
        if daemon_answers(&settings.daemon.socket).await {
            eprintln!(
                "error: a daemon answers on {}: what `apply` builds is not in the daemon's store, \
                 so its garbage collection would delete it. Hand the request to the daemon with \
                 `lb-consumers` (a hook envelope carrying every request), or stop the daemon to \
                 try `apply` by hand",
                settings.daemon.socket.display()
            );
            return ExitCode::from(exit::FAILURE);
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

/// Whether a daemon may be running on `socket`: only a socket nobody listens on counts as
/// "no daemon". Anything else (it answers, or the socket exists but cannot be used: wrong
/// permissions, a daemon that does not answer) counts as running, so a command that must not
/// run beside a daemon refuses rather than guesses.
pub async fn daemon_answers(socket: &Path) -> bool {
    !matches!(
        DaemonClient::new(socket).get::<Health>(api::HEALTH).await,
        Err(ClientError::NotRunning { .. })
    )
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

/// Loads the settings, opens a session, connects a reconciler and runs `work` on a
/// current-thread runtime. Settings and connection errors become the matching exit codes.
pub fn with_reconciler<F, Fut>(config: Option<&Path>, work: F) -> ExitCode
where
    F: FnOnce(Reconciler, Settings) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let Some(path) = config else {
        eprintln!("error: no settings: pass --config PATH (or set OCTAVIA_INTEGRATOR_CONFIG)");
        return ExitCode::from(exit::CONFIG);
    };
    let settings = match Settings::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    runtime.block_on(async move {
        let metrics = Arc::new(Metrics::new());
        match cloud::connect(&settings, &metrics, None).await {
            Ok(rec) => work(rec, settings).await,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(exit::of_connect(&e))
            }
        }
    })
}
