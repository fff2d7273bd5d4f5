//! Helpers for tests that drive the real binary: run a command (with standard input), read
//! its JSON, and a real `serve` process stopped by its own pid.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use octavia_integrator::daemon::api::{self, Health, StatusReport};
use octavia_integrator::daemon::DaemonClient;
use openstack_sim::SimHandle;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use crate::daemon_support::{eventually, settings_in, tempdir};

pub const BIN: &str = env!("CARGO_BIN_EXE_octavia-integrator");

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

pub fn cli(config: &Path) -> Command {
    let mut c = Command::new(BIN);
    // The settings name the cloud; nothing of the caller's environment may (a developer's
    // sourced openrc would point a `from_env` test at a real cloud).
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("OS_") {
            c.env_remove(name);
        }
    }
    c.arg("--config")
        .arg(config)
        .env_remove("OCTAVIA_INTEGRATOR_LOG")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

/// Runs `args` with `stdin` as standard input.
pub async fn run_with_input(config: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = cli(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command that fails before reading its input closes it: that is its answer to check.
    let _ = input.write_all(stdin.as_bytes()).await;
    drop(input);
    child.wait_with_output().await.unwrap()
}

pub async fn run(config: &Path, args: &[&str]) -> Output {
    cli(config).args(args).output().await.unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A hook envelope from the fixtures, as text.
pub fn envelope(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("relation/{name}"))).unwrap()
}

/// `kcp-requests.json` without `api-server-internal`: the requirer dropped that request.
pub fn external_only() -> String {
    let mut v: Value = serde_json::from_str(&envelope("kcp-requests.json")).unwrap();
    v["relations"][0]["app_data"]
        .as_object_mut()
        .unwrap()
        .remove("request_api-server-internal");
    v.to_string()
}

/// The published responses of one hook run, by key.
pub fn responses(out: &Output) -> Vec<String> {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["relations"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["set"].as_object().into_iter().flatten())
        .filter(|(k, _)| k.starts_with("response_"))
        .map(|(k, _)| k.clone())
        .collect()
}

pub async fn status(config: &Path) -> StatusReport {
    let out = run(config, &["status", "--json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A real `serve` process, stopped by its own pid.
pub struct Serve {
    /// The process.
    pub child: Child,
    /// Its socket.
    pub socket: PathBuf,
}

impl Serve {
    pub async fn start(config: &Path, dir: &Path, stderr: Stdio) -> Serve {
        let child = cli(config).arg("serve").stderr(stderr).spawn().unwrap();
        let socket = dir.join("d.sock");
        let probe = socket.clone();
        eventually("the daemon's socket", || {
            let p = probe.clone();
            async move { p.exists() }
        })
        .await;
        Serve { child, socket }
    }

    /// Starts `serve` at `verbosity` (e.g. `-vv`) with standard error a pipe, returned to the
    /// caller to break (drop it) or to leave unread.
    pub async fn start_with_piped_log(
        config: &Path,
        dir: &Path,
        verbosity: &str,
    ) -> (Serve, tokio::process::ChildStderr) {
        let mut child = cli(config)
            .args([verbosity, "serve"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = child.stderr.take().expect("piped");
        let socket = dir.join("d.sock");
        let probe = socket.clone();
        eventually("the daemon's socket", || {
            let p = probe.clone();
            async move { p.exists() }
        })
        .await;
        (Serve { child, socket }, log)
    }

    /// Waits until the daemon has nothing queued or running (what it was handed is done).
    pub async fn idle(&self) {
        let client = DaemonClient::new(&self.socket);
        eventually("the daemon to go idle", || {
            let client = client.clone();
            async move {
                client
                    .get::<Health>(api::HEALTH)
                    .await
                    .is_ok_and(|h| h.queued == 0 && h.running == 0)
            }
        })
        .await;
    }

    /// SIGTERM to our own child; its exit code.
    pub async fn stop(mut self) -> Option<i32> {
        let pid = self.child.id().unwrap().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the daemon stops on SIGTERM")
            .unwrap();
        assert!(!self.socket.exists(), "the socket is removed on shutdown");
        status.code()
    }
}

/// Hooks until `want` responses are published (the daemon converges in the background).
pub async fn hook_until(config: &Path, input: &str, want: usize) -> Output {
    for _ in 0..3000 {
        let out = run_with_input(config, &["lb-consumers"], input).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        if responses(&out).len() >= want {
            return out;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never answered");
}

pub fn setup(sim: &SimHandle) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    settings_in(sim, dir.path(), "");
    let config = dir.path().join("settings.toml");
    (dir, config)
}
