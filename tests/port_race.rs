//! No lost update across processes: two `apply` processes (two daemons by mistake, or another
//! tool) put their own security groups on the same member ports at the same time. Each read
//! the ports (and their revision) before either wrote, so without Neutron's
//! `If-Match: revision_number=N` the later write would drop the earlier one's group. With it,
//! Neutron answers the stale write 412, the writer reads the port again and writes both.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;
use openstack_sim::{Provider, Sim};
use serde_json::Value;
use tokio::process::Command;

fn config_for(dir: &Path, sim: &openstack_sim::SimHandle, name: &str) -> PathBuf {
    let state = dir.join(format!("{name}-state.json"));
    let text = format!(
        "{}wait_seconds = 60\n\n[daemon]\nstate_file = \"{}\"\n",
        settings_toml(sim, Provider::Amphora, "manage_security_groups = true"),
        state.display()
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn apply(config: &Path, request: &Path, app: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_octavia-integrator"));
    c.arg("--config")
        .arg(config)
        .args(["apply", "--request"])
        .arg(request)
        .args(["--app", app])
        .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
        .env("NO_PROXY", "127.0.0.1");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_writing_one_port_lose_nothing() {
    // Amphora's boot (60 simulated seconds) takes ~3 s here: both processes list the member
    // ports long before either writes them.
    let sim = Sim::builder()
        .provider(Provider::Amphora)
        .delay_scale(0.05)
        .seed(11)
        .build()
        .start()
        .await
        .expect("the simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("request.json");
    std::fs::write(&request, external_request(&MEMBERS).canonical_json()).unwrap();
    let a = config_for(dir.path(), &sim, "a");
    let b = config_for(dir.path(), &sim, "b");

    let (ra, rb) = tokio::join!(
        apply(&a, &request, "cluster-a").output(),
        apply(&b, &request, "cluster-b").output()
    );
    for (name, out) in [("a", ra.unwrap()), ("b", rb.unwrap())] {
        assert!(
            out.status.success(),
            "process {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let snap = sim.snapshot();
    let ours: Vec<String> = snap
        .security_groups
        .iter()
        .filter(|g| g["tags"].as_array().is_some_and(|t| !t.is_empty()))
        .filter_map(|g| g["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ours.len(), 2, "one group per request");
    let default_sg = sim.seed_ids().default_security_group_id.clone();
    for id in &sim.seed_ids().member_port_ids {
        let port = snap
            .ports
            .iter()
            .find(|p| p["id"].as_str() == Some(id.as_str()))
            .expect("member port");
        let groups: Vec<&str> = port["security_groups"]
            .as_array()
            .expect("groups")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for g in ours.iter().map(String::as_str).chain([default_sg.as_str()]) {
            assert!(
                groups.contains(&g),
                "port {id} lost group {g}: it holds {groups:?}"
            );
        }
    }
    // The race really happened: stale writes were refused and redone after a fresh read.
    let calls = sim.calls();
    let refused = calls
        .records
        .iter()
        .filter(|r| {
            r.method == "PUT" && r.route == "/networking/v2.0/ports/{id}" && r.status == 412
        })
        .count();
    assert!(
        refused >= 1,
        "no write was refused as stale, so the race was not exercised: {:?}",
        calls.by_route()
    );
    assert!(calls.count("GET", "/networking/v2.0/ports/{id}") >= refused);
}
