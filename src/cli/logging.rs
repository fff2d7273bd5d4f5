//! Log setup for every subcommand: `tracing` to standard error (standard output is for data),
//! human-readable by default, JSON lines with `--log-format json`.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use super::progress::{self, ProgressLayer};
use crate::log_sink::{FlushGuard, LossyStderr};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for journald/log shippers).
    Json,
}

/// The environment variable that overrides the level filter (`tracing` filter syntax, e.g.
/// `octavia_integrator=debug,openstack=trace`).
pub const LOG_FILTER_ENV: &str = "OCTAVIA_INTEGRATOR_LOG";

/// The level filter for `verbose` (`-v` count) on top of the subcommand's default level:
/// 0 → `base`, 1 → info, 2 → debug, 3+ → trace (never quieter than `base`).
pub fn level_for(base: tracing::Level, verbose: u8) -> tracing::Level {
    let wanted = match verbose {
        0 => base,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    // `Level` orders TRACE as the greatest (most verbose).
    wanted.max(base)
}

/// Installs the global subscriber. `base` is the subcommand's default level (the daemon logs
/// at info, hook commands only warn). `OCTAVIA_INTEGRATOR_LOG` overrides the level. With
/// `progress`, a [`ProgressLayer`] also reads the wait and change events (whatever the level)
/// for the progress line. Keep the returned guard until the program ends: dropping it writes
/// out what is still queued.
pub fn init(format: LogFormat, verbose: u8, base: tracing::Level, progress: bool) -> FlushGuard {
    let level = level_for(base, verbose);
    let filter = std::env::var(LOG_FILTER_ENV)
        .ok()
        .and_then(|text| EnvFilter::try_new(text).ok())
        .unwrap_or_else(|| EnvFilter::new(level.as_str().to_ascii_lowercase()));
    let (sink, guard) = LossyStderr::start();
    // Colour only for a person at a terminal: never in journald, files or pipes.
    let lines = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false)
        .with_writer(sink);
    let lines: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => lines.with_target(false).boxed(),
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    let progress_layer = progress.then(|| ProgressLayer.with_filter(ProgressLayer::targets()));
    // A second init (tests calling several commands in one process) keeps the first subscriber.
    let installed = tracing_subscriber::registry()
        .with(lines.with_filter(filter))
        .with(progress_layer)
        .try_init()
        .is_ok();
    if installed && progress {
        progress::enable();
    }
    guard
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn verbosity_raises_but_never_lowers_the_level() {
        assert_eq!(level_for(Level::WARN, 0), Level::WARN);
        assert_eq!(level_for(Level::WARN, 1), Level::INFO);
        assert_eq!(level_for(Level::WARN, 2), Level::DEBUG);
        assert_eq!(level_for(Level::WARN, 9), Level::TRACE);
        assert_eq!(level_for(Level::INFO, 0), Level::INFO);
        assert_eq!(level_for(Level::DEBUG, 1), Level::DEBUG);
    }
}
