//! What the operator commands share: finding the settings, where the work runs ([`Runner`]:
//! the daemon or this process, decided once per command), a runtime, reporting errors.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::anyhow;

use super::exit;
use crate::config::{DaemonSettings, Settings};
use crate::daemon::api::{self, Health};
use crate::daemon::metrics::Metrics;
use crate::daemon::{cloud, ClientError, DaemonAnswerer, DaemonClient};
use crate::reconcile::Reconciler;
use crate::relation::Interface;

/// Where a command's work runs. Every command that can go either way (`status`, `leader`,
/// the hooks, and `apply` / `remove`, which refuse beside a daemon) asks [`Runner::find`]
/// once and follows the answer.
#[derive(Debug, Clone)]
pub enum Runner {
    /// A daemon answers on the socket: the work is handed to it (it holds the store and the
    /// credentials).
    Daemon(RunningDaemon),
    /// Nobody listens on the socket: the work runs in this process.
    InProcess,
}

/// A daemon that answered, with the version it said it runs.
#[derive(Debug, Clone)]
pub struct RunningDaemon {
    /// The client that reached it.
    pub client: DaemonClient,
    /// Its version (its health answer).
    pub version: String,
}

impl RunningDaemon {
    /// The answerer that hands `interface`'s requests to this daemon.
    pub fn answerer(&self, interface: Interface) -> DaemonAnswerer {
        DaemonAnswerer::for_version(self.client.clone(), interface, &self.version)
    }
}

impl Runner {
    /// Asks the daemon on `socket` whether it runs: only a socket nobody listens on means
    /// [`Runner::InProcess`].
    ///
    /// # Errors
    /// The socket is there but the daemon cannot be used (permissions, no answer in time, an
    /// answer that does not load): a command must not guess which way to go.
    pub async fn find(socket: &Path) -> Result<Runner, ClientError> {
        let client = DaemonClient::new(socket);
        match client.get::<Health>(api::HEALTH).await {
            Ok(health) => Ok(Runner::Daemon(RunningDaemon {
                client,
                version: health.version,
            })),
            Err(ClientError::NotRunning { .. }) => Ok(Runner::InProcess),
            Err(e) => Err(e),
        }
    }
}

/// A command failure with its exit code.
#[derive(Debug)]
pub struct Failure {
    /// One of [`exit`]'s codes.
    pub code: u8,
    /// What failed and what to do.
    pub error: anyhow::Error,
}

impl Failure {
    /// A failure with `code`.
    pub fn new(code: u8, error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code,
            error: error.into(),
        }
    }

    /// Prints the error and returns its exit code.
    pub fn report(self) -> ExitCode {
        exit::report(&self.error, self.code)
    }
}

/// Loads the settings named by `--config` / `OCTAVIA_INTEGRATOR_CONFIG`.
///
/// # Errors
/// [`exit::CONFIG`] when no file is named or it does not load.
pub fn load_settings(config: Option<&Path>) -> Result<Settings, Failure> {
    let path = config.ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            anyhow!(
                "no settings file: pass --config PATH or set OCTAVIA_INTEGRATOR_CONFIG \
                 (deploy/settings.example.toml documents every setting; \
                 `octavia-integrator demo` needs none)"
            ),
        )
    })?;
    Settings::load(path).map_err(|e| Failure::new(exit::CONFIG, e))
}

/// Loads only the `[daemon]` section of the settings (socket, store): for commands that talk
/// to the daemon or its store and never to the cloud, so credentials that do not resolve in
/// this environment (e.g. `OS_*` variables a hook lacks) do not stop them.
///
/// # Errors
/// [`exit::CONFIG`] when no file is named or it does not load.
pub fn load_daemon_settings(config: Option<&Path>) -> Result<DaemonSettings, Failure> {
    let path = config.ok_or_else(|| {
        Failure::new(
            exit::CONFIG,
            anyhow!("no settings file: pass --config PATH or set OCTAVIA_INTEGRATOR_CONFIG"),
        )
    })?;
    Settings::load_daemon(path).map_err(|e| Failure::new(exit::CONFIG, e))
}

/// A current-thread runtime for short commands.
///
/// # Errors
/// [`exit::FAILURE`] when the runtime cannot start.
pub fn current_thread() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                exit::FAILURE,
                anyhow!("cannot start the async runtime: {e}"),
            )
        })
}

/// A multi-thread runtime for the daemon and the demo.
///
/// # Errors
/// [`exit::FAILURE`] when the runtime cannot start.
pub fn multi_thread() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                exit::FAILURE,
                anyhow!("cannot start the async runtime: {e}"),
            )
        })
}

/// Loads the settings, opens a session, connects a reconciler and runs `work` in this process
/// on a current-thread runtime. Settings and connection errors become the matching exit codes.
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
    let runtime = match current_thread() {
        Ok(rt) => rt,
        Err(failure) => return failure.report(),
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

/// For a command that must not run beside a daemon (what it does would be undone or fought
/// by it): `None` when the work may run in this process, else the exit code after printing
/// `refusal` (given the socket). A socket that exists but cannot be used counts as a daemon.
pub async fn refuse_beside_daemon(
    socket: &Path,
    refusal: impl FnOnce(&Path) -> String,
) -> Option<ExitCode> {
    match Runner::find(socket).await {
        Ok(Runner::InProcess) => None,
        Ok(Runner::Daemon(_)) | Err(_) => {
            eprintln!("error: {}", refusal(socket));
            Some(ExitCode::from(exit::FAILURE))
        }
    }
}

/// Runs `body` and turns its result into an exit code.
pub fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(failure) => failure.report(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    /// A daemon stand-in on `path` answering `/v1/health` with `status` and `body`.
    fn serve(path: &Path, status: u16, body: serde_json::Value) -> tokio::task::JoinHandle<()> {
        let listener = tokio::net::UnixListener::bind(path).unwrap();
        let status = axum::http::StatusCode::from_u16(status).unwrap();
        let app = axum::Router::new().route(
            api::HEALTH,
            get(move || async move { (status, axum::Json(body)) }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        })
    }

    #[tokio::test]
    async fn only_a_socket_nobody_listens_on_means_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.sock");
        assert!(matches!(
            Runner::find(&missing).await,
            Ok(Runner::InProcess)
        ));
        assert_eq!(
            refuse_beside_daemon(&missing, |_| unreachable!()).await,
            None
        );

        let answering = dir.path().join("d.sock");
        let health = serde_json::json!({
            "version": "9.9.9", "leader": true, "queued": 0, "running": 0
        });
        let daemon = serve(&answering, 200, health);
        match Runner::find(&answering).await {
            Ok(Runner::Daemon(d)) => {
                assert_eq!(d.version, "9.9.9");
                assert_eq!(d.client.socket(), answering);
            }
            other => panic!("expected the daemon: {other:?}"),
        }
        let refused = refuse_beside_daemon(&answering, |s| format!("busy {}", s.display()));
        assert_eq!(refused.await, Some(ExitCode::from(exit::FAILURE)));
        daemon.abort();

        // A socket that answers but not as a daemon should: no guessing either way.
        let broken = dir.path().join("broken.sock");
        let daemon = serve(&broken, 500, serde_json::json!({"error": "down"}));
        assert!(Runner::find(&broken).await.is_err());
        let refused = refuse_beside_daemon(&broken, |s| format!("busy {}", s.display()));
        assert_eq!(refused.await, Some(ExitCode::from(exit::FAILURE)));
        daemon.abort();
    }
}
