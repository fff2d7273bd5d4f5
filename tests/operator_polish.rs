//! What a new operator trips on, through the real binary (issue 15, item 4): `apply` exits
//! non-zero when its answer is an error, `status` does not count unmonitored members as up, and
//! commands that only talk to the daemon (hooks, leader, resync, status) need no credentials of
//! their own.

mod cli_support;
mod common;
mod daemon_support;

use std::process::Stdio;

use cli_support::*;
use daemon_support::{settings_text, tempdir};
use openstack_sim::Provider;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_exits_non_zero_when_its_answer_is_an_error() {
    // OVN cannot run the HTTP check the external request asks for: the answer is a refusal.
    let sim = common::start_sim(Provider::Ovn).await;
    let dir = tempdir();
    let config = dir.path().join("settings.toml");
    let ovn = settings_text(&sim, dir.path(), "").replace("\"amphora\"", "\"ovn\"");
    write_private(&config, &ovn);
    let request = fixture("requests/api-server-external.json");
    let out = run(&config, &["apply", "--request", request.to_str().unwrap()]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("the answer is still printed");
    assert_eq!(answer["error"], "unsupported", "{answer}");
    assert!(stderr.contains("answered `unsupported`"), "{stderr}");
    assert!(stderr.contains("health_checks"), "{stderr}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_does_not_count_unmonitored_members_as_up() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (_dir, config) = setup(&sim);
    // A request without health checks: no monitor, so Octavia says NO_MONITOR for members.
    let request = common::tcp_request("plain", &[(443, 6443)], &common::MEMBERS, false);
    let file = config.with_file_name("plain.json");
    std::fs::write(&file, request.canonical_json()).unwrap();
    let out = run(&config, &["apply", "--request", file.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = status(&config).await;
    let row = report
        .requests
        .iter()
        .find(|r| r.request.ends_with("/plain"))
        .unwrap_or_else(|| panic!("{report:?}"));
    assert_eq!(row.members_total, Some(3), "{row:?}");
    assert_eq!(row.members_up, Some(0), "unmonitored is not up: {row:?}");
    assert_eq!(row.members_unmonitored, Some(3), "{row:?}");
    let table = text(&run(&config, &["status"]).await.stdout);
    assert!(table.contains("0/3 (3 unmonitored)"), "{table}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_talk_to_the_daemon_without_credentials_of_their_own() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    // The credentials come from OS_* variables, which the daemon has and a hook does not.
    let full = settings_text(&sim, dir.path(), "");
    let cloud_start = full.find("[cloud]").unwrap();
    let cloud_end = full.find("[load_balancer]").unwrap();
    let from_env = format!(
        "{}[cloud]\nfrom_env = true\n\n{}",
        &full[..cloud_start],
        &full[cloud_end..]
    );
    let config = dir.path().join("settings.toml");
    write_private(&config, &from_env);
    let c = sim.credentials();
    let os_env = [
        ("OS_AUTH_URL", c.auth_url.clone()),
        ("OS_USERNAME", c.username.clone()),
        ("OS_PASSWORD", c.password.clone()),
        ("OS_PROJECT_NAME", c.project_name.clone()),
        ("OS_USER_DOMAIN_NAME", c.domain_name.clone()),
        ("OS_PROJECT_DOMAIN_NAME", c.domain_name.clone()),
    ];

    // Without a daemon a hook works in-process and needs them: exit 3 saying so.
    let out = run_with_input(&config, &["lb-consumers"], &envelope("kcp-requests.json")).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no daemon answers"), "{stderr}");
    let written: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        written["relations"][0]["set"]["version"], "1",
        "output stays whole"
    );

    // The daemon has them: hooks, `leader` and `resync` reach it with none.
    let mut serve = cli(&config);
    serve.arg("serve").stderr(Stdio::null());
    for (k, v) in &os_env {
        serve.env(k, v);
    }
    let daemon = Serve {
        child: serve.spawn().unwrap(),
        socket: dir.path().join("d.sock"),
    };
    let socket = daemon.socket.clone();
    daemon_support::eventually("the daemon's socket", || {
        let s = socket.clone();
        async move { s.exists() }
    })
    .await;
    for args in [&["leader", "true"][..], &["resync"][..], &["status"][..]] {
        let out = run(&config, args).await;
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    hook_until(&config, &envelope("kcp-requests.json"), 2).await;
    assert_eq!(daemon.stop().await, Some(0));
    sim.shutdown().await;
}

fn write_private(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}
