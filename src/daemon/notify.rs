//! The notify command: run once for every answer that changes, so the charm re-runs its hook
//! and publishes the new answer.
//!
//! Runs are sequential (one at a time, in order), each with a timeout; a command that fails is
//! logged and counted, never retried (the next change or the next hook publishes anyway).

use std::sync::Arc;
use std::time::Duration;

use tokio::process::Command;
use tokio::sync::mpsc;

use super::metrics::Metrics;
use super::shutdown::Shutdown;

/// How long one run of the notify command may take before it is killed.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);

/// One changed answer, as the notify command sees it (environment variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The request key, e.g. `kubernetes-control-plane/api-server-external`.
    pub request: String,
    /// The address now answered, if any.
    pub address: Option<String>,
    /// The error kind now answered, if any.
    pub error: Option<String>,
}

/// Hands changes to the background runner; cheap to clone.
#[derive(Debug, Clone)]
pub struct Notifier {
    tx: Option<mpsc::UnboundedSender<Change>>,
}

impl Notifier {
    /// A notifier that does nothing (no command configured).
    pub fn disabled() -> Self {
        Notifier { tx: None }
    }

    /// Starts the runner for `command` (program and arguments, no shell); it stops when
    /// `shutdown` fires, after the run in progress.
    pub fn start(command: Vec<String>, metrics: Arc<Metrics>, shutdown: Shutdown) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(command, rx, metrics, shutdown, NOTIFY_TIMEOUT));
        Notifier { tx: Some(tx) }
    }

    /// Queues one run for `change`.
    pub fn changed(&self, change: Change) {
        if let Some(tx) = &self.tx {
            // The runner only goes away at shutdown; a change then is published by the next
            // hook anyway.
            let _ = tx.send(change);
        }
    }
}

async fn run(
    command: Vec<String>,
    mut rx: mpsc::UnboundedReceiver<Change>,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
    timeout: Duration,
) {
    let stopped = shutdown.wait();
    tokio::pin!(stopped);
    loop {
        let change = tokio::select! {
            biased;
            () = &mut stopped => return,
            change = rx.recv() => match change {
                Some(change) => change,
                None => return,
            },
        };
        let result = run_once(&command, &change, timeout).await;
        metrics.observe_notify(result);
    }
}

/// Runs the command once for `change`; returns `ok`, `failed` or `timeout`.
pub(crate) async fn run_once(
    command: &[String],
    change: &Change,
    timeout: Duration,
) -> &'static str {
    let Some((program, args)) = command.split_first() else {
        tracing::warn!("the notify_command setting is empty; nothing to run");
        return "failed";
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env("OCTAVIA_INTEGRATOR_REQUEST", &change.request)
        .env(
            "OCTAVIA_INTEGRATOR_ADDRESS",
            change.address.as_deref().unwrap_or(""),
        )
        .env(
            "OCTAVIA_INTEGRATOR_ERROR",
            change.error.as_deref().unwrap_or(""),
        )
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(err) => {
            tracing::warn!(request = %change.request, error = %err,
                "could not start the notify command; check the notify_command setting");
            return "failed";
        }
    };
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => {
            tracing::warn!(request = %change.request, timeout_secs = timeout.as_secs(),
                "the notify command did not finish in time and was killed");
            "timeout"
        }
        Ok(Err(err)) => {
            tracing::warn!(request = %change.request, error = %err, "the notify command failed");
            "failed"
        }
        Ok(Ok(output)) if output.status.success() => {
            tracing::debug!(request = %change.request, "notify command ran");
            "ok"
        }
        Ok(Ok(output)) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            tracing::warn!(request = %change.request, status = %output.status,
                stderr = %stderr.trim(), "the notify command exited with an error");
            "failed"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: impl Into<String>) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into()]
    }

    fn change(name: &str) -> Change {
        Change {
            request: name.to_string(),
            address: Some("192.0.2.10".to_string()),
            error: None,
        }
    }

    #[tokio::test]
    async fn the_command_sees_the_change_in_its_environment() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let cmd = format!(
            "printf '%s %s %s\\n' \"$OCTAVIA_INTEGRATOR_REQUEST\" \"$OCTAVIA_INTEGRATOR_ADDRESS\" \"[$OCTAVIA_INTEGRATOR_ERROR]\" >> {}",
            out.display()
        );
        assert_eq!(
            run_once(&sh(cmd), &change("app/x"), NOTIFY_TIMEOUT).await,
            "ok"
        );
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "app/x 192.0.2.10 []\n"
        );
    }

    #[tokio::test]
    async fn a_failing_command_is_reported_as_failed() {
        assert_eq!(
            run_once(&sh("exit 3"), &change("a"), NOTIFY_TIMEOUT).await,
            "failed"
        );
    }

    #[tokio::test]
    async fn a_hanging_command_is_killed_at_the_timeout() {
        let result = run_once(&sh("sleep 30"), &change("a"), Duration::from_millis(50)).await;
        assert_eq!(result, "timeout");
    }

    #[tokio::test]
    async fn the_runner_runs_once_per_change_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let metrics = Arc::new(Metrics::new());
        let shutdown = Shutdown::new();
        let notifier = Notifier::start(
            sh(format!(
                "echo \"$OCTAVIA_INTEGRATOR_REQUEST\" >> {}",
                out.display()
            )),
            metrics.clone(),
            shutdown.clone(),
        );
        notifier.changed(change("one"));
        notifier.changed(change("two"));
        // Wait until both runs are counted (each run is a real process).
        for _ in 0..500 {
            if metrics
                .render()
                .contains("notify_runs_total{result=\"ok\"} 2")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "one\ntwo\n");
        shutdown.trigger();
    }
}
