//! Progress on a terminal for a command that waits on the cloud (`apply`): one line on
//! standard error saying what it is waiting for and for how long, rewritten in place, without
//! `-vv`.
//!
//! [`ProgressLayer`] reads the two events that say what is going on — the waiter's "still
//! waiting" (`openstack::wait`, debug) and the reconciler's "changed the cloud" (info) — into
//! one shared line; [`Ticker`] redraws it every second and clears it when dropped.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer};

/// What the command is doing now, as the last event said.
static NOW: Mutex<Option<String>> = Mutex::new(None);

/// Whether the progress layer is installed (see [`crate::cli::logging::init`]).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether progress is drawn for this command: a person at a terminal, no `-v` (logs would
/// interleave with the line).
pub fn wanted(verbose: u8) -> bool {
    verbose == 0 && std::io::stderr().is_terminal()
}

/// Records that the layer is installed, so [`Ticker::start`] draws.
pub(crate) fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Sets the progress line (what is being waited for, or the last change made).
fn set(line: String) {
    *NOW.lock().unwrap_or_else(|p| p.into_inner()) = Some(line);
}

fn current() -> Option<String> {
    NOW.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// A `tracing` layer that turns the waiter's and the reconciler's events into the progress
/// line; give it [`ProgressLayer::targets`] as its filter.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProgressLayer;

impl ProgressLayer {
    /// The events the layer reads (and only those, whatever the log level).
    pub fn targets() -> Targets {
        Targets::new()
            .with_target("openstack::wait", tracing::Level::DEBUG)
            .with_target("octavia_integrator::reconcile", tracing::Level::INFO)
    }
}

/// The fields of one event, as text.
#[derive(Default)]
struct Fields {
    message: String,
    what: Option<String>,
    status: Option<String>,
    action: Option<String>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.record_text(field, text.trim_matches('"').to_string());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_text(field, value.to_string());
    }
}

impl Fields {
    fn record_text(&mut self, field: &Field, text: String) {
        match field.name() {
            "message" => self.message = text,
            "what" => self.what = Some(text),
            "status" => self.status = Some(text),
            "action" => self.action = Some(text),
            _ => {}
        }
    }
}

impl<S: Subscriber> Layer<S> for ProgressLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        match (
            fields.message.as_str(),
            fields.what,
            fields.status,
            fields.action,
        ) {
            ("still waiting", Some(what), Some(status), _) => {
                set(format!("waiting for {what}: {status}"))
            }
            ("changed the cloud", _, _, Some(action)) => set(action),
            _ => {}
        }
    }
}

/// Redraws the progress line on standard error every second, with the time since it started;
/// clears it when dropped.
#[derive(Debug)]
pub struct Ticker {
    task: tokio::task::JoinHandle<()>,
}

impl Ticker {
    /// Starts drawing when progress is enabled (call inside a tokio runtime).
    pub fn start() -> Option<Ticker> {
        ENABLED
            .load(Ordering::Relaxed)
            .then(Ticker::draw_every_second)
    }

    fn draw_every_second() -> Ticker {
        let started = Instant::now();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let what = current().unwrap_or_else(|| "asking the cloud".to_string());
                draw(&format!("… {what} ({} s)", started.elapsed().as_secs()));
            }
        });
        Ticker { task }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.task.abort();
        draw("");
    }
}

/// Rewrites the current terminal line (errors ignored: progress is a courtesy).
fn draw(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{line}");
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn waits_and_changes_become_the_progress_line() {
        let subscriber = tracing_subscriber::registry()
            .with(ProgressLayer.with_filter(ProgressLayer::targets()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "openstack::wait", what = %"load balancer lb-1", status = "PENDING_CREATE", poll = 3, "still waiting");
            assert_eq!(
                current().as_deref(),
                Some("waiting for load balancer lb-1: PENDING_CREATE")
            );
            tracing::info!(target: "octavia_integrator::reconcile::act", action = %"created floating IP 203.0.113.5", "changed the cloud");
            assert_eq!(
                current().as_deref(),
                Some("created floating IP 203.0.113.5")
            );
            // Other events, and other targets, leave the line alone.
            tracing::info!(target: "octavia_integrator::daemon", action = %"x", "changed the cloud");
            tracing::warn!(target: "openstack::wait", "transient error while waiting; polling on");
            assert_eq!(
                current().as_deref(),
                Some("created floating IP 203.0.113.5")
            );
        });
    }
}
