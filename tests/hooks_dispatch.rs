//! The bash hook script (deploy/hooks/dispatch) run with stand-in Juju hook tools
//! (tests/hooks/bin) against the simulated cloud: it gathers relation data with relation-ids /
//! relation-list / relation-get, calls the CLI, and writes the answers with relation-set —
//! through the daemon, and in-process when no daemon runs; only on the leader.

mod common;
mod daemon_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use daemon_support::*;
use octavia_integrator::cli::demo::scenario;
use octavia_integrator::relation::v1::Response;
use openstack_sim::Provider;
use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Canned relation data: two lb-consumers relations from kubernetes-control-plane and one
/// legacy `loadbalancer` relation from kubernetes-master.
fn seed(data: &Path) {
    let write = |rel: &str, value: &Value| {
        let path = data.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_string(value).unwrap()).unwrap();
    };
    std::fs::create_dir_all(data.join("endpoints")).unwrap();
    std::fs::write(data.join("leader"), "true").unwrap();
    std::fs::write(
        data.join("endpoints/lb-consumers"),
        "lb-consumers:1\nlb-consumers:2\n",
    )
    .unwrap();
    std::fs::write(data.join("endpoints/loadbalancer"), "loadbalancer:3\n").unwrap();
    for (id, request) in [
        (scenario::EXTERNAL_RELATION, scenario::external_request()),
        (scenario::INTERNAL_RELATION, scenario::internal_request()),
    ] {
        let rel = scenario::relation(id, &[request], None);
        std::fs::create_dir_all(data.join(format!("relations/{id}/remote-units"))).unwrap();
        std::fs::write(data.join(format!("relations/{id}/app")), &rel.app).unwrap();
        let units: Vec<&str> = rel.units.keys().map(String::as_str).collect();
        std::fs::write(data.join(format!("relations/{id}/units")), units.join("\n")).unwrap();
        write(
            &format!("relations/{id}/remote-app.json"),
            &serde_json::to_value(&rel.app_data).unwrap(),
        );
        for (unit, bag) in &rel.units {
            write(
                &format!(
                    "relations/{id}/remote-units/{}.json",
                    unit.replace('/', "_")
                ),
                &serde_json::to_value(bag).unwrap(),
            );
        }
    }
    std::fs::create_dir_all(data.join("relations/3/remote-units")).unwrap();
    std::fs::write(data.join("relations/3/app"), "kubernetes-master").unwrap();
    std::fs::write(
        data.join("relations/3/units"),
        "kubernetes-master/0\nkubernetes-master/1",
    )
    .unwrap();
    write("relations/3/remote-app.json", &json!({}));
    for (n, addr) in [(0, "10.5.0.10"), (1, "10.5.0.11")] {
        write(
            &format!("relations/3/remote-units/kubernetes-master_{n}.json"),
            &json!({"ingress-address": addr, "private-address": addr}),
        );
    }
}

/// Runs the dispatch script once, as Juju would for `hook`.
async fn dispatch(data: &Path, config: &Path, hook: &str, wait: u64) {
    dispatch_with(data, config, hook, wait, &[]).await
}

/// [`dispatch`] with extra environment (e.g. `JUJU_RELATION_ID`).
async fn dispatch_with(data: &Path, config: &Path, hook: &str, wait: u64, env: &[(&str, &str)]) {
    let path = format!(
        "{}:{}",
        repo().join("tests/hooks/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = tokio::process::Command::new("bash")
        .arg(repo().join("deploy/hooks/dispatch"))
        .env("PATH", path)
        .env("HOOK_DATA", data)
        .env("JUJU_DISPATCH_PATH", format!("hooks/{hook}"))
        .env("JUJU_UNIT_NAME", "octavia-integrator/0")
        .env(
            "OCTAVIA_INTEGRATOR_BIN",
            env!("CARGO_BIN_EXE_octavia-integrator"),
        )
        .env("OCTAVIA_INTEGRATOR_CONFIG", config)
        .env("OCTAVIA_INTEGRATOR_WAIT", wait.to_string())
        .env_remove("OCTAVIA_INTEGRATOR_LOG")
        .envs(env.iter().copied())
        .output()
        .await
        .expect("bash runs");
    assert!(
        out.status.success(),
        "dispatch failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn bag(data: &Path, rel: u64, which: &str) -> BTreeMap<String, String> {
    std::fs::read_to_string(data.join(format!("relations/{rel}/{which}.json")))
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_default()
}

fn response(data: &Path, rel: u64, name: &str) -> Option<Response> {
    bag(data, rel, "local-app")
        .get(&format!("response_{name}"))
        .map(|t| Response::parse(t).expect("published responses load"))
}

fn all_answered(data: &Path) -> bool {
    response(data, 1, "api-server-external").is_some()
        && response(data, 2, "api-server-internal").is_some()
        && bag(data, 3, "local-unit").contains_key("public-address")
}

fn calls(data: &Path) -> Vec<Value> {
    std::fs::read_to_string(data.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_publishes_answers_through_the_daemon_and_only_on_the_leader() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    let settings = settings_in(&sim, dir.path(), "");
    let config = dir.path().join("settings.toml");
    let d = TestDaemon::start(settings, options());
    let data = dir.path().join("hook-data");
    seed(&data);

    // Juju re-runs hooks (the daemon's notify command does that in a deployment).
    for _ in 0..2000 {
        dispatch(&data, &config, "lb-consumers-relation-changed", 0).await;
        if all_answered(&data) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        all_answered(&data),
        "never answered: {:?}",
        d.status().await
    );
    let external = response(&data, 1, "api-server-external").unwrap();
    let internal = response(&data, 2, "api-server-internal").unwrap();
    assert_eq!(
        external.received_hash(),
        scenario::external_request().sent_hash.as_deref()
    );
    assert_ne!(external.address(), internal.address());
    assert_eq!(bag(&data, 1, "local-app")["version"], "1");
    let legacy = bag(&data, 3, "local-unit");
    assert_eq!(legacy["port"], "443");
    assert_eq!(
        live_lbs(&sim).len(),
        3,
        "two requests and one legacy relation"
    );

    // relation-set: app data for lb-consumers, unit data for the legacy interface.
    let sets: Vec<Value> = calls(&data)
        .into_iter()
        .filter(|c| c["tool"] == "relation-set")
        .collect();
    assert!(sets
        .iter()
        .any(|c| c["args"][1] == "lb-consumers:1" && c["args"][2] == "--app"));
    assert!(sets
        .iter()
        .any(|c| c["args"][1] == "loadbalancer:3" && c["args"][2] == "--file"));
    assert!(d.health().await.leader);

    // The requirer removes api-server-internal: its response is unset and its load
    // balancer deleted.
    let mut remote = bag(&data, 2, "remote-app");
    remote.remove("request_api-server-internal");
    std::fs::write(
        data.join("relations/2/remote-app.json"),
        serde_json::to_string(&remote).unwrap(),
    )
    .unwrap();
    dispatch(&data, &config, "lb-consumers-relation-changed", 0).await;
    assert!(response(&data, 2, "api-server-internal").is_none());
    eventually("the internal load balancer to go", || async {
        live_lbs(&sim).len() == 2
    })
    .await;

    // The legacy relation is removed: in its -broken hook it no longer counts, so its load
    // balancer is deleted, and nothing is written to it.
    let before = calls(&data).len();
    dispatch_with(
        &data,
        &config,
        "loadbalancer-relation-broken",
        0,
        &[("JUJU_RELATION_ID", "loadbalancer:3")],
    )
    .await;
    let new: Vec<Value> = calls(&data).split_off(before);
    assert!(
        !new.iter()
            .any(|c| c["tool"] == "relation-set" && c["args"][1] == "loadbalancer:3"),
        "wrote to a broken relation: {new:?}"
    );
    eventually("the legacy load balancer to go", || async {
        live_lbs(&sim).len() == 1
    })
    .await;

    // Leadership moves away: the script tells the daemon and writes nothing.
    std::fs::write(data.join("leader"), "false").unwrap();
    let before = calls(&data).len();
    dispatch(&data, &config, "leader-settings-changed", 0).await;
    let new: Vec<Value> = calls(&data).split_off(before);
    assert!(
        new.iter()
            .all(|c| c["tool"] != "relation-set" && c["tool"] != "relation-get"),
        "a non-leader touched relation data: {new:?}"
    );
    assert!(!d.health().await.leader);
    d.stop().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatch_works_in_process_when_no_daemon_runs() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    settings_in(&sim, dir.path(), "");
    let config = dir.path().join("settings.toml");
    let data = dir.path().join("hook-data");
    seed(&data);
    dispatch(&data, &config, "config-changed", 20).await;
    assert!(all_answered(&data), "{:?}", calls(&data));
    assert_ne!(
        response(&data, 1, "api-server-external").unwrap().address(),
        response(&data, 2, "api-server-internal").unwrap().address()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn without_usable_settings_dispatch_still_publishes_version_and_reports_blocked() {
    let dir = tempdir();
    let data = dir.path().join("hook-data");
    seed(&data);
    let missing = dir.path().join("no-such-settings.toml");
    dispatch(&data, &missing, "lb-consumers-relation-changed", 0).await;
    // The output of a failed run is still complete and valid: `version` is published so the
    // requirer sends its requests; no response is invented.
    let ours = bag(&data, 1, "local-app");
    assert_eq!(
        ours.get("version").map(String::as_str),
        Some("1"),
        "{ours:?}"
    );
    assert!(!ours.keys().any(|k| k.starts_with("response_")), "{ours:?}");
    let status: Vec<Value> = calls(&data)
        .into_iter()
        .filter(|c| c["tool"] == "status-set")
        .collect();
    assert_eq!(status.last().unwrap()["args"][0], "blocked", "{status:?}");
}
