//! The operator commands through the real binary: `serve` (signals, JSON logs), `status`,
//! `leader`, `check-cloud`, and `--help` with exit codes on every subcommand.

mod common;
mod daemon_support;

use std::process::Stdio;
use std::time::Duration;

use daemon_support::*;
use octavia_integrator::daemon::api::StatusReport;
use openstack_sim::Provider;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_octavia-integrator");

fn cli(config: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--config")
        .arg(config)
        .env_remove("OCTAVIA_INTEGRATOR_LOG")
        .stdin(Stdio::null());
    c
}

#[tokio::test]
async fn every_subcommand_has_help_with_exit_codes() {
    for sub in [
        "serve",
        "status",
        "leader",
        "resync",
        "check-cloud",
        "demo",
        "lb-consumers",
        "public-address",
        "apply",
        "remove",
        "plan",
        "gc",
        "sim",
    ] {
        let out = Command::new(BIN)
            .args([sub, "--help"])
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{sub} --help failed");
        assert!(
            text.contains("Exit codes:"),
            "{sub} --help has no exit codes:\n{text}"
        );
    }
    let out = Command::new(BIN).arg("--help").output().await.unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("4  the daemon"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_json_reloads_on_sighup_and_stops_cleanly_on_sigterm() {
    let sim = common::start_sim(Provider::Ovn).await;
    let dir = tempdir();
    settings_in(&sim, dir.path(), "");
    let config = dir.path().join("settings.toml");
    let socket = dir.path().join("d.sock");
    let mut child = cli(&config)
        .args(["--log-format", "json", "serve"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("a log line");
    let event: Value = serde_json::from_str(&first).expect("JSON log lines");
    assert_eq!(event["level"], "INFO", "{event}");
    assert_eq!(event["message"], "daemon started", "{event}");
    assert_eq!(
        event["socket"],
        socket.display().to_string(),
        "the socket is logged as a plain path: {event}"
    );
    assert!(socket.exists());

    // status and leader through the binary, talking to the daemon.
    let out = cli(&config)
        .args(["status", "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: StatusReport = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report.leader && report.requests.is_empty());
    let out = cli(&config).arg("resync").output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("resync queued"));
    let out = cli(&config)
        .args(["leader", "false"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&config).args(["status"]).output().await.unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("no requests"));
    let out = cli(&config)
        .args(["status", "--json"])
        .output()
        .await
        .unwrap();
    let report: StatusReport = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!report.leader);

    // SIGHUP (to our own child, by pid) re-reads the settings file.
    let pid = child.id().unwrap().to_string();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "metrics_address = \"off\"",
            "metrics_address = \"off\"\nresync_seconds = 60",
        ),
    )
    .unwrap();
    let hup = Command::new("bash")
        .args(["-c", &format!("kill -HUP {pid}")])
        .status()
        .await
        .unwrap();
    assert!(hup.success());
    loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("a log line after SIGHUP")
            .unwrap()
            .expect("the daemon keeps running");
        let event: Value = serde_json::from_str(&line).expect("JSON log lines");
        if event["message"] == "settings reloaded" {
            break;
        }
    }

    // SIGTERM (to our own child, by pid): exit 0, socket removed.
    let killed = Command::new("bash")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the daemon stops")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!socket.exists(), "the socket is removed on shutdown");
    while let Ok(Some(line)) = lines.next_line().await {
        let _: Value = serde_json::from_str(&line).expect("every log line is JSON");
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_cloud_passes_and_explains_failures() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    settings_in(&sim, dir.path(), "");
    let config = dir.path().join("settings.toml");
    let out = cli(&config).args(["check-cloud"]).output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for check in [
        "credentials",
        "catalog: load-balancer",
        "catalog: network",
        "Octavia API version",
        "Octavia providers",
        "VIP subnet",
        "floating network",
    ] {
        assert!(text.contains(check), "{check} missing:\n{text}");
    }
    assert!(text.contains("all checks passed"));

    // A VIP subnet that does not exist: exit 1, the failing check named, with a fix.
    let good = std::fs::read_to_string(&config).unwrap();
    let vip = sim.seed_ids().vip_subnet_id;
    std::fs::write(&config, good.replace(&vip, "no-such-subnet")).unwrap();
    let out = cli(&config)
        .args(["check-cloud", "--json"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let checks: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<&Value> = checks.iter().filter(|c| c["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "{checks:?}");
    assert_eq!(failed[0]["check"], "VIP subnet");
    assert!(failed[0]["detail"]
        .as_str()
        .unwrap()
        .contains("no-such-subnet"));
    assert!(failed[0]["fix"].as_str().is_some());

    // Wrong password: the credentials check fails and says what to check.
    std::fs::write(
        &config,
        good.replace(
            &format!("password = \"{}\"", sim.credentials().password),
            "password = \"nope\"",
        ),
    )
    .unwrap();
    let out = cli(&config).args(["check-cloud"]).output().await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  credentials"), "{text}");
    assert!(
        text.contains("fix: Keystone refused the credentials"),
        "{text}"
    );

    // No settings at all: exit 3 with the fix.
    let out = Command::new(BIN)
        .arg("check-cloud")
        .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));

    // resync needs a running daemon: exit 4.
    std::fs::write(&config, &good).unwrap();
    let out = cli(&config).arg("resync").output().await.unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_standard_output_ends_data_commands_quietly() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    settings_in(&sim, dir.path(), "");
    let config = dir.path().join("settings.toml");
    for args in [&["check-cloud", "--json"][..], &["check-cloud"][..]] {
        // The reader is gone before the command writes a byte (`| head -0`).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let child = cli(&config)
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.wait_with_output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_to_a_pipe_carry_no_colour_codes() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    settings_in(&sim, dir.path(), "");
    let config = dir.path().join("settings.toml");
    // -v: info lines (the Keystone login) on standard error, which is a pipe here.
    let out = cli(&config)
        .args(["-v", "check-cloud"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INFO"), "no log lines to check: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "ANSI codes in piped logs: {stderr:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_refuses_while_a_daemon_runs() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    let settings = settings_in(&sim, dir.path(), "");
    let config = dir.path().join("settings.toml");
    let d = TestDaemon::start(settings, options());
    d.health().await;
    let request = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/requests/api-server-external.json");
    let out = cli(&config)
        .arg("apply")
        .arg("--request")
        .arg(&request)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("a daemon answers on"), "{stderr}");
    assert!(stderr.contains("garbage collection"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(live_lbs(&sim).is_empty(), "apply built beside the daemon");
    d.stop().await.expect("clean shutdown");
    sim.shutdown().await;
}

#[test]
fn the_systemd_unit_is_hardened_and_runs_serve() {
    let unit = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy/systemd/octavia-integrator.service"),
    )
    .unwrap();
    let directives: Vec<(&str, &str)> = unit
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .collect();
    let value = |key: &str| {
        directives
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{key} is missing from the unit"))
    };
    assert!(value("ExecStart").ends_with(" serve"));
    assert!(value("ExecReload").contains("-HUP"));
    for (key, want) in [
        ("Restart", "on-failure"),
        ("StateDirectory", "octavia-integrator"),
        ("RuntimeDirectory", "octavia-integrator"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("CapabilityBoundingSet", ""),
    ] {
        assert_eq!(value(key), want, "{key}");
    }
}
