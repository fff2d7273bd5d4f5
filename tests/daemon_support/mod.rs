//! Helpers for the daemon, hook and demo tests: a daemon on a temp socket and store, driven
//! the way the charm's hooks drive it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use octavia_integrator::cli::demo::scenario;
use octavia_integrator::config::Settings;
use octavia_integrator::daemon::api::{self, Health, StatusReport};
use octavia_integrator::daemon::{self, DaemonAnswerer, DaemonClient, DaemonError};
use octavia_integrator::hook::{self, HookResult};
use octavia_integrator::relation::databag::HookOutput;
use octavia_integrator::relation::v1::Response;
use octavia_integrator::relation::{HookInput, Interface};
use openstack_sim::SimHandle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::common;

/// The settings file text for a daemon in `dir` talking to `sim`, plus `daemon_extra` lines
/// in its `[daemon]` section.
pub fn settings_text(sim: &SimHandle, dir: &Path, daemon_extra: &str) -> String {
    // Several daemons run at once: no fixed metrics port unless a test asks for one.
    let metrics = if daemon_extra.contains("metrics_address") {
        ""
    } else {
        "metrics_address = \"off\"\n"
    };
    format!(
        "{}\n[daemon]\nsocket = {:?}\nstate_file = {:?}\n{metrics}{daemon_extra}\n",
        common::settings_toml(sim, openstack_sim::Provider::Amphora, ""),
        dir.join("d.sock").display().to_string(),
        dir.join("state.json").display().to_string(),
    )
}

/// Writes the settings file (0600) and loads it, so reload works.
pub fn settings_in(sim: &SimHandle, dir: &Path, daemon_extra: &str) -> Settings {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("settings.toml");
    let text = settings_text(sim, dir, daemon_extra);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true).mode(0o600);
    std::io::Write::write_all(&mut opts.open(&path).unwrap(), text.as_bytes()).unwrap();
    Settings::load(&path).expect("test settings load")
}

/// Daemon options for the simulated cloud: scaled waits, quick shutdown.
pub fn options() -> daemon::Options {
    daemon::Options {
        workers: 4,
        shutdown_grace: Duration::from_secs(2),
        reconciler: Some(common::options()),
        reload_on_sighup: false,
        connect_retry: Duration::from_millis(50),
    }
}

/// A daemon running in this test's runtime.
pub struct TestDaemon {
    pub settings: Settings,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), DaemonError>>>,
}

impl TestDaemon {
    /// Starts a daemon with `settings` and `options`.
    pub fn start(settings: Settings, options: daemon::Options) -> TestDaemon {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_writer(std::io::stderr)
                .try_init();
        }
        let listener = daemon::bind_socket(&settings.daemon.socket).expect("socket binds");
        let (tx, rx) = oneshot::channel();
        let run = daemon::run_with(listener, settings.clone(), options, async {
            let _ = rx.await;
        });
        let task = tokio::spawn(async move {
            let result = run.await;
            if let Err(e) = &result {
                eprintln!("the daemon failed: {e}");
            }
            result
        });
        TestDaemon {
            settings,
            stop: Some(tx),
            task: Some(task),
        }
    }

    /// A client for its socket.
    pub fn client(&self) -> DaemonClient {
        DaemonClient::new(&self.settings.daemon.socket)
    }

    /// The hook-side answerer for `lb-consumers`.
    pub fn answerer(&self) -> DaemonAnswerer {
        DaemonAnswerer::new(self.client(), Interface::LoadBalancer)
    }

    /// The hook-side answerer for the legacy `public-address` interface.
    pub fn legacy_answerer(&self) -> DaemonAnswerer {
        DaemonAnswerer::new(self.client(), Interface::PublicAddress)
    }

    /// Runs the `lb-consumers` hook flow against this daemon.
    pub async fn hook(&self, input: &HookInput) -> HookResult {
        let result = hook::lb_consumers(input, &self.answerer()).await;
        assert!(
            result.problems.is_empty(),
            "hook problems: {:?} (daemon stopped: {})",
            result.problems,
            self.task.as_ref().is_none_or(|t| t.is_finished())
        );
        result
    }

    /// `GET /v1/status`.
    pub async fn status(&self) -> StatusReport {
        self.client().get(api::STATUS).await.expect("status")
    }

    /// `GET /v1/health`.
    pub async fn health(&self) -> Health {
        self.client().get(api::HEALTH).await.expect("health")
    }

    /// Tells it whether it leads.
    pub async fn set_leader(&self, leader: bool) {
        let _: Health = self
            .client()
            .post(api::LEADER, &api::LeaderChange { leader })
            .await
            .expect("leader change");
    }

    /// Asks for an immediate resync.
    pub async fn resync(&self) {
        let _: Health = self
            .client()
            .post(api::RESYNC, &serde_json::json!({}))
            .await
            .expect("resync");
    }

    /// Waits until nothing is queued or running.
    pub async fn idle(&self) {
        eventually("the daemon to go idle", || async {
            let h = self.health().await;
            h.queued == 0 && h.running == 0
        })
        .await;
    }

    /// Stops it (as SIGTERM would) and returns how `run` ended.
    pub async fn stop(mut self) -> Result<(), DaemonError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.take().unwrap().await.expect("daemon task")
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A fresh temporary folder.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Polls `check` until it holds (every 5 ms, for at most 30 s of real time: a deadline for a
/// broken build, never a timing assertion).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..6000 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("gave up waiting for {what}");
}

/// Our app databags per relation, as the hooks have written them.
pub type Local = BTreeMap<u64, BTreeMap<String, String>>;

/// Applies a hook's writes (as relation-set does).
pub fn apply(local: &mut Local, output: &HookOutput) {
    for rel in &output.relations {
        let data = local.entry(rel.id).or_default();
        for (k, v) in &rel.set {
            data.insert(k.clone(), v.clone());
        }
        for k in &rel.unset {
            data.remove(k);
        }
    }
}

/// The address published for `name` on `relation`, if any.
pub fn address(local: &Local, relation: u64, name: &str) -> Option<String> {
    let text = local.get(&relation)?.get(&format!("response_{name}"))?;
    let response = Response::parse(text).expect("published responses always load");
    response.address().map(str::to_string)
}

/// Runs the hook until both kubernetes-control-plane requests are answered; returns the
/// databags.
pub async fn until_both_answered(d: &TestDaemon) -> Local {
    let mut local = Local::new();
    for _ in 0..6000 {
        let out = d.hook(&scenario::both(&local)).await;
        apply(&mut local, &out.output);
        if address(&local, scenario::EXTERNAL_RELATION, "api-server-external").is_some()
            && address(&local, scenario::INTERNAL_RELATION, "api-server-internal").is_some()
        {
            return local;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the requests were never answered: {:?}", d.status().await);
}

/// Load balancers in the simulator that are not being deleted.
pub fn live_lbs(sim: &SimHandle) -> Vec<serde_json::Value> {
    sim.snapshot()
        .load_balancers
        .into_iter()
        .filter(|lb| {
            !matches!(
                lb["provisioning_status"].as_str(),
                Some("DELETED") | Some("PENDING_DELETE")
            )
        })
        .collect()
}

/// The path of a file in `dir`.
pub fn file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
