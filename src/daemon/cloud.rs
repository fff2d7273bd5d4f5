//! Reaching the cloud from the settings: a session (reporting every call to the metrics) and
//! a reconciler. Used by the daemon's connect loop and by the commands that work in-process.

use std::sync::Arc;

use super::metrics::Metrics;
use crate::config::Settings;
use crate::reconcile::{self, Reconciler};

/// Builds a session (reporting every call to `metrics`) and a reconciler for `settings`.
///
/// # Errors
/// What failed, with the fix (bad credentials, unknown subnet…).
pub async fn connect(
    settings: &Settings,
    metrics: &Arc<Metrics>,
    options: Option<reconcile::Options>,
) -> Result<Reconciler, ConnectFailure> {
    let config = settings.session_config()?;
    let session = openstack::Session::new(config)
        .map_err(ConnectFailure::Session)?
        .with_observer(metrics.clone());
    let reconciler = Reconciler::connect(session, settings).await?;
    Ok(match options {
        Some(options) => reconciler.with_options(options),
        None => reconciler,
    })
}

/// Why [`connect`] could not connect to the cloud.
#[derive(Debug, thiserror::Error)]
pub enum ConnectFailure {
    /// The credentials in the settings do not resolve.
    #[error(transparent)]
    Settings(#[from] crate::config::ConfigError),
    /// No session could be made from them (a bad URL or CA bundle).
    #[error(transparent)]
    Session(openstack::Error),
    /// The cloud refused, failed, or lacks what a setting names.
    #[error(transparent)]
    Connect(#[from] reconcile::ConnectError),
}

impl ConnectFailure {
    /// Whether the operator must fix the settings or credentials (rather than wait for the
    /// cloud): what decides exit code 3 over 1.
    pub fn is_settings_problem(&self) -> bool {
        match self {
            ConnectFailure::Settings(_) => true,
            ConnectFailure::Session(e) => reconcile::is_settings_problem(e),
            ConnectFailure::Connect(e) => e.is_settings_problem(),
        }
    }
}
