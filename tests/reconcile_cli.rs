//! The `apply`, `plan`, `gc` and `remove` subcommands end to end: the real binary against the
//! simulated cloud (served by this test process on loopback).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;
use octavia_integrator::relation::v1::Response;
use openstack_sim::Provider;
use tokio::process::Command;

async fn run(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_octavia-integrator"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("OCTAVIA_INTEGRATOR_CONFIG")
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .await
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_plan_gc_remove_through_the_command_line() {
    let sim = start_sim(Provider::Amphora).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let settings = format!(
        "{}wait_seconds = 30\n\n[daemon]\nstate_file = \"{}\"\n",
        settings_toml(&sim, Provider::Amphora, ""),
        state.display()
    );
    let config = dir.path().join("settings.toml");
    std::fs::write(&config, settings).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let request = dir.path().join("request.json");
    std::fs::write(&request, external_request(&MEMBERS).canonical_json()).unwrap();
    let request_arg = request.to_str().unwrap();

    let (code, stdout, stderr) =
        run(&config, &["plan", "--request", request_arg, "--app", "k8s"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("decision: create"), "{stdout}");
    assert!(
        sim.snapshot().load_balancers.is_empty(),
        "plan changes nothing"
    );

    let (code, stdout, stderr) = run(
        &config,
        &["apply", "--request", request_arg, "--app", "k8s"],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let response = Response::parse(stdout.trim()).expect("apply prints a valid Response");
    assert!(response.error().is_none(), "{stdout}");
    let address = response.address().unwrap().to_string();
    assert!(address.starts_with("203.0.113."), "{address}");
    assert_eq!(
        response.received_hash(),
        external_request(&MEMBERS).sent_hash.as_deref()
    );

    let (code, stdout, _) = run(
        &config,
        &["plan", "--request", request_arg, "--app", "k8s", "--json"],
    )
    .await;
    assert_eq!(code, 0);
    let plan: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(plan["steps"], serde_json::json!([]), "{stdout}");

    let (code, stdout, _) = run(&config, &["gc", "--keep", "k8s/api-server-external"]).await;
    assert_eq!(code, 0);
    assert!(stdout.contains("no orphans"), "{stdout}");
    let (code, stdout, _) = run(&config, &["gc"]).await;
    assert_eq!(code, 0);
    assert!(stdout.contains("would delete load balancer"), "{stdout}");
    assert_eq!(
        sim.snapshot().load_balancers.len(),
        1,
        "gc without --yes is a dry run"
    );

    let (code, stdout, stderr) =
        run(&config, &["remove", "api-server-external", "--app", "k8s"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("deleted load balancer"), "{stdout}");
    assert!(ours(&sim).is_empty());
    assert!(sim.snapshot().floating_ips.is_empty());

    let (code, _, stderr) = run(&config, &["apply", "--request", "/nonexistent.json"]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("/nonexistent.json"), "{stderr}");
}

#[test]
fn request_fixtures_load_and_carry_the_library_hash() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/requests");
    for name in ["api-server-external", "api-server-internal"] {
        let path = dir.join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        let request = octavia_integrator::relation::v1::Request::parse(&text)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.describe()));
        assert_eq!(request.name, name);
        assert_eq!(
            request.sent_hash.as_deref(),
            Some(request.compute_sent_hash().as_str()),
            "{}",
            path.display()
        );
        assert_eq!(request.public, name.ends_with("external"));
    }
}
