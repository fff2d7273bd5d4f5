//! What the operator commands share: finding the settings, a runtime, reporting errors.

use std::path::Path;
use std::process::ExitCode;

use anyhow::anyhow;

use super::exit;
use crate::config::{DaemonSettings, Settings};

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

/// Runs `body` and turns its result into an exit code.
pub fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(failure) => failure.report(),
    }
}
