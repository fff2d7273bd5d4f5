//! The edges an operator hits, through the real binary (issue 16): a relation that is not
//! ready never deletes, a broken log never stops the daemon, `remove` with a daemon is
//! refused, a removal without a daemon is carried out later, refused requests show in
//! `status`, and `remove`/`plan` find the application a request belongs to.

mod cli_support;
mod common;
mod daemon_support;

use cli_support::*;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use daemon_support::{eventually, live_lbs};
use octavia_integrator::daemon::api::RowKind;
use openstack_sim::{Provider, SimHandle};
use serde_json::Value;
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relation_without_version_keeps_its_load_balancers() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (dir, config) = setup(&sim);
    let daemon = Serve::start(&config, dir.path(), Stdio::null()).await;
    hook_until(&config, &envelope("kcp-requests.json"), 2).await;
    assert_eq!(live_lbs(&sim).len(), 2);

    // The requirer's databag lacks `version` for a moment: nothing is deleted or changed.
    let out = run_with_input(&config, &["lb-consumers"], &envelope("no-version.json")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        responses(&out).is_empty(),
        "nothing answered while not ready"
    );
    let out = run(&config, &["resync"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    daemon.idle().await;
    let report = status(&config).await;
    assert_eq!(report.requests.len(), 2, "{report:?}");
    assert!(report
        .requests
        .iter()
        .all(|r| r.answer.is_some() && r.kind == RowKind::Request));
    assert_eq!(
        live_lbs(&sim).len(),
        2,
        "a relation that is not ready never deletes"
    );

    // Once the version is back, the same requests are answered as before.
    hook_until(&config, &envelope("kcp-requests.json"), 2).await;
    assert_eq!(live_lbs(&sim).len(), 2);
    assert_eq!(daemon.stop().await, Some(0));
    sim.shutdown().await;
}

/// A new leader (its store never saw the requests: the charm feeds only the leader) whose hook
/// finds a relation without `version` must not take that relation's load balancers for
/// orphans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_relation_keeps_its_load_balancers_from_a_new_leaders_garbage_collection() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (dir, config) = setup(&sim);
    let daemon = Serve::start(&config, dir.path(), Stdio::null()).await;
    hook_until(&config, &envelope("kcp-requests.json"), 2).await;
    assert_eq!(daemon.stop().await, Some(0));
    std::fs::remove_file(dir.path().join("state.json")).unwrap();

    let daemon = Serve::start(&config, dir.path(), Stdio::null()).await;
    let out = run(&config, &["leader", "true"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (command, input) in [
        ("lb-consumers", envelope("no-version.json")),
        ("public-address", r#"{"relations": []}"#.to_string()),
    ] {
        let out = run_with_input(&config, &[command], &input).await;
        assert!(out.status.success(), "{command}: {}", text(&out.stderr));
    }
    let out = run(&config, &["resync"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    daemon.idle().await;
    assert_eq!(live_lbs(&sim).len(), 2, "garbage collection took them");

    // The version is back: the same load balancers are adopted and answered.
    hook_until(&config, &envelope("kcp-requests.json"), 2).await;
    assert_eq!(live_lbs(&sim).len(), 2);
    assert_eq!(daemon.stop().await, Some(0));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_log_never_stops_the_daemon() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (dir, config) = setup(&sim);
    // Standard error is a pipe whose reader is gone: every log write fails.
    let (daemon, log) = Serve::start_with_piped_log(&config, dir.path(), "-vv").await;
    drop(log);
    hook_until(&config, &envelope("kcp-requests.json"), 2).await;
    assert_eq!(status(&config).await.requests.len(), 2);
    assert_eq!(
        daemon.stop().await,
        Some(0),
        "stops cleanly on SIGTERM with its log gone"
    );
    sim.shutdown().await;
}

/// Standard error a pipe whose reader is alive but never reads: once the pipe is full, every
/// log write would block. The daemon must go on answering and stop on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_log_never_holds_up_the_daemon() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (dir, config) = setup(&sim);
    let (daemon, _unread) = Serve::start_with_piped_log(&config, dir.path(), "-vvv").await;
    let limit = Duration::from_secs(30); // a deadline for a hung daemon, not a timing check
    let input = envelope("kcp-requests.json");
    for _ in 0..40 {
        let hook = run_with_input(&config, &["lb-consumers"], &input);
        let out = tokio::time::timeout(limit, hook)
            .await
            .expect("a hook hung: the daemon waits on its log");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = tokio::time::timeout(limit, run(&config, &["resync"]))
            .await
            .expect("resync hung: the daemon waits on its log");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    hook_until(&config, &envelope("kcp-requests.json"), 2).await;
    assert_eq!(
        daemon.stop().await,
        Some(0),
        "stops on SIGTERM with its log stalled"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_is_refused_while_a_daemon_runs() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (dir, config) = setup(&sim);
    let daemon = Serve::start(&config, dir.path(), Stdio::null()).await;
    hook_until(&config, &envelope("kcp-requests.json"), 2).await;
    let out = run(
        &config,
        &[
            "remove",
            "api-server-external",
            "--app",
            "kubernetes-control-plane",
        ],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("a daemon answers on"), "{stderr}");
    assert_eq!(live_lbs(&sim).len(), 2, "nothing deleted behind the daemon");
    assert_eq!(daemon.stop().await, Some(0));
    sim.shutdown().await;
}

/// Without a daemon: a hook with time builds both requests, then a hook with none
/// (`--wait 0`) drops the internal one; its load balancer is still there.
async fn built_then_dropped_in_a_hurry(sim: &SimHandle, config: &Path) {
    let out = run_with_input(
        config,
        &["lb-consumers", "--wait", "60"],
        &envelope("kcp-requests.json"),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(responses(&out).len(), 2, "{}", text(&out.stderr));
    assert_eq!(live_lbs(sim).len(), 2);
    let out = run_with_input(config, &["lb-consumers"], &external_only()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(live_lbs(sim).len(), 2, "no time to delete yet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_without_a_daemon_is_carried_out_by_the_next_hook() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (_dir, config) = setup(&sim);
    built_then_dropped_in_a_hurry(&sim, &config).await;
    let report = status(&config).await;
    let internal = report
        .requests
        .iter()
        .find(|r| r.request.ends_with("/api-server-internal"))
        .expect("the pending removal shows in status");
    assert!(
        internal.note.as_deref().unwrap_or("").contains("removed"),
        "{internal:?}"
    );
    assert_eq!(internal.kind, RowKind::Removing);

    // The next hook with a budget carries it out; nothing is left of it.
    let out = run_with_input(&config, &["lb-consumers", "--wait", "60"], &external_only()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lbs = live_lbs(&sim);
    assert_eq!(lbs.len(), 1, "{lbs:?}");
    assert!(lbs[0]["name"].as_str().unwrap().ends_with("external"));
    let report = status(&config).await;
    assert_eq!(report.requests.len(), 1, "{report:?}");
    let orphans = run(&config, &["gc", "--json"]).await;
    assert!(orphans.status.success(), "{}", text(&orphans.stderr));
    let listed: Value = serde_json::from_slice(&orphans.stdout).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_carries_out_a_removal_a_hook_left() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (dir, config) = setup(&sim);
    // This unit was told it leads: its store is complete, so a daemon started on it carries
    // out the removal at once (an untold store waits for a hook to confirm the requests).
    let out = run(&config, &["leader", "true"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    built_then_dropped_in_a_hurry(&sim, &config).await;

    let daemon = Serve::start(&config, dir.path(), Stdio::null()).await;
    let sim_ref = &sim;
    eventually(
        "the daemon deletes the dropped request's load balancer",
        || async move { live_lbs(sim_ref).len() == 1 },
    )
    .await;
    eventually("the removal is forgotten once done", || {
        let config = config.clone();
        async move { status(&config).await.requests.len() == 1 }
    })
    .await;
    assert_eq!(daemon.stop().await, Some(0));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_show_in_status_with_their_error() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (dir, config) = setup(&sim);
    let daemon = Serve::start(&config, dir.path(), Stdio::null()).await;
    hook_until(&config, &envelope("mixed-requests.json"), 4).await;
    let report = status(&config).await;
    let names: Vec<&str> = report.requests.iter().map(|r| r.request.as_str()).collect();
    for refused in ["garbage", "tls", "upper"] {
        let row = report
            .requests
            .iter()
            .find(|r| r.request.ends_with(&format!("/{refused}")))
            .unwrap_or_else(|| panic!("{refused} missing from status: {names:?}"));
        assert_eq!(row.answer.as_deref(), Some("error: unsupported"), "{row:?}");
        assert!(
            row.note.as_deref().unwrap_or("").starts_with("refused: "),
            "{row:?}"
        );
    }
    let table = text(&run(&config, &["status"]).await.stdout);
    assert!(table.contains("error: unsupported"), "{table}");
    assert_eq!(live_lbs(&sim).len(), 1, "nothing is built for a refusal");
    assert_eq!(daemon.stop().await, Some(0));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_and_plan_find_the_application_of_a_request() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (_dir, config) = setup(&sim);
    let request = fixture("requests/api-server-external.json");
    let request = request.to_str().unwrap();
    let out = run(&config, &["apply", "--app", "kcp", "--request", request]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // One application has it: `plan` and `remove` use it.
    let out = run(&config, &["plan", "--request", request]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    assert!(plan.contains("request kcp/api-server-external"), "{plan}");
    assert!(plan.contains("no changes"), "{plan}");

    // Two applications have it: both commands refuse and name them.
    let out = run(&config, &["apply", "--app", "other", "--request", request]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    for args in [
        vec!["remove", "api-server-external"],
        vec!["plan", "--request", request],
    ] {
        let out = run(&config, &args).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("kcp, other"), "{stderr}");
        assert!(stderr.contains("--app"), "{stderr}");
    }
    assert_eq!(live_lbs(&sim).len(), 2);
    let out = run(
        &config,
        &["remove", "api-server-external", "--app", "other"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&config, &["remove", "api-server-external"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(live_lbs(&sim).is_empty(), "{:?}", live_lbs(&sim));
    let out = run(&config, &["remove", "api-server-external"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("nothing to remove"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_without_a_daemon_shows_the_store_and_what_apply_built() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (_dir, config) = setup(&sim);
    // The hook records both requests (no time to build); `apply` then builds the external one
    // by hand under the same application, and an unrelated request of its own.
    let out = run_with_input(&config, &["lb-consumers"], &envelope("kcp-requests.json")).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let external = fixture("requests/api-server-external.json");
    let internal = fixture("requests/api-server-internal.json");
    for (app, request) in [
        ("kubernetes-control-plane", &external),
        ("by-hand", &internal),
    ] {
        let out = run(
            &config,
            &[
                "apply",
                "--app",
                app,
                "--request",
                request.to_str().unwrap(),
            ],
        )
        .await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let report = status(&config).await;
    let row = |suffix: &str| {
        report
            .requests
            .iter()
            .find(|r| r.request.ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix} missing: {report:?}"))
            .clone()
    };
    let ready = row("kubernetes-control-plane/api-server-external");
    assert_eq!(ready.provisioning_status.as_deref(), Some("ACTIVE"));
    assert_eq!(
        ready.note.as_deref(),
        Some("ready: the answer is published on the next hook")
    );
    let by_hand = row("by-hand/api-server-internal");
    assert!(by_hand.load_balancer.is_some(), "{by_hand:?}");
    assert_eq!(by_hand.kind, RowKind::Unrequested);
    assert_eq!(ready.kind, RowKind::Request);
    assert!(
        by_hand.note.as_deref().unwrap_or("").contains("apply"),
        "{by_hand:?}"
    );

    // The cloud goes away: status still shows what the store holds, and why the rest is empty.
    sim.shutdown().await;
    let out = run(&config, &["status"]).await;
    let table = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreachable cloud is a failed operation: {}",
        text(&out.stderr)
    );
    assert!(table.contains("api-server-internal"), "{table}");
    assert!(table.contains("not connected to the cloud"), "{table}");
}

/// Every command that needs the cloud maps one kind of failure to one exit code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_gives_one_exit_code_per_kind_of_failure() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (dir, config) = setup(&sim);
    let good = std::fs::read_to_string(&config).unwrap();
    let write = |name: &str, text: String| {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    };
    let password = sim.credentials().password.clone();
    let wrong_password = write(
        "wrong-password.toml",
        good.replace(&password, "not-the-password"),
    );
    // A port nothing listens on: taken, then given back.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let auth_url = sim.credentials().auth_url.clone();
    let down = write(
        "cloud-down.toml",
        good.replace(&auth_url, &format!("http://127.0.0.1:{closed}/v3")),
    );
    let missing = dir.path().join("no-such-settings.toml");
    let request = fixture("requests/api-server-external.json");
    let request = request.to_str().unwrap();
    let commands: [&[&str]; 6] = [
        &["status"],
        &["lb-consumers"],
        &["apply", "--request", request],
        &["plan", "--request", request],
        &["gc"],
        &["remove", "api-server-external"],
    ];
    for (settings, want) in [(&wrong_password, 3), (&missing, 3), (&down, 1)] {
        for args in commands {
            let out = run_with_input(settings, args, &envelope("kcp-requests.json")).await;
            assert_eq!(
                out.status.code(),
                Some(want),
                "{args:?} with {}: {}",
                settings.display(),
                text(&out.stderr)
            );
        }
    }
    let out = run(&wrong_password, &["apply", "--request", request]).await;
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("[load_balancer] provider"),
        "an auth failure is not about a setting: {stderr}"
    );

    // A non-loopback metrics address is a settings error for every command.
    let exposed = write(
        "exposed.toml",
        good.replace(
            "metrics_address = \"off\"",
            "metrics_address = \"0.0.0.0:9180\"",
        ),
    );
    for args in [&["check-cloud"][..], &["serve"][..]] {
        let out = run(&exposed, args).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("loopback"), "{stderr}");
    }
    // Bad arguments are 2, also when clap is not the one checking them.
    let out = Command::new(BIN)
        .args(["demo", "--delay-scale=0"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_cloud_runs_every_check_after_one_fails() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (_dir, config) = setup(&sim);
    let good = std::fs::read_to_string(&config).unwrap();
    let seeds = sim.seed_ids();
    // Two settings wrong at once: both are reported, and the checks after them still run.
    assert!(good.contains("floating_network = \"public\""), "{good}");
    std::fs::write(
        &config,
        good.replace(&seeds.vip_subnet_id, "no-such-subnet")
            .replace(
                "floating_network = \"public\"",
                "floating_network = \"no-such-network\"",
            ),
    )
    .unwrap();
    let out = run(&config, &["check-cloud", "--json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let checks: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["VIP subnet", "floating network"], "{checks:?}");

    // A flavor by name: named as the failure, the rest passes.
    std::fs::write(
        &config,
        good.replace(
            "floating_network = \"public\"",
            "floating_network = \"public\"\nflavor = \"small\"",
        ),
    )
    .unwrap();
    let out = run(&config, &["check-cloud", "--json"]).await;
    let checks: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["flavor"], "{checks:?}");
    assert_eq!(out.status.code(), Some(1));

    // Without a token nothing else can be asked: every later check is listed as skipped.
    std::fs::write(
        &config,
        good.replace(&sim.credentials().password, "not-the-password"),
    )
    .unwrap();
    let out = run(&config, &["check-cloud"]).await;
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{table}");
    assert!(table.contains("FAIL  credentials"), "{table}");
    for later in ["Octavia providers", "VIP subnet", "floating network"] {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("skip") && l.contains(later)),
            "{later} not listed as skipped:\n{table}"
        );
    }
    assert!(table.ends_with("1 check(s) failed\n"), "{table}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_megabyte_request_name_is_refused_with_its_limit() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (_dir, config) = setup(&sim);
    let name = "n".repeat(1 << 20);
    let mut request: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("requests/api-server-external.json")).unwrap(),
    )
    .unwrap();
    request["name"] = Value::String(name.clone());
    let mut hook: Value = serde_json::from_str(&envelope("kcp-requests.json")).unwrap();
    let data = hook["relations"][0]["app_data"].as_object_mut().unwrap();
    data.retain(|k, _| k == "version");
    data.insert(
        format!("request_{name}"),
        Value::String(request.to_string()),
    );
    let out = run_with_input(
        &config,
        &["lb-consumers", "--wait", "30"],
        &hook.to_string(),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written: Value = serde_json::from_slice(&out.stdout).unwrap();
    let answer = written["relations"][0]["set"][format!("response_{name}")]
        .as_str()
        .expect("the request is answered");
    let answer: Value = serde_json::from_str(answer).unwrap();
    assert_eq!(answer["error"], "unsupported", "{answer}");
    let why = answer["error_fields"]["name"].as_str().unwrap();
    assert!(why.contains("limited to 100 characters"), "{why}");
    assert!(live_lbs(&sim).is_empty(), "nothing built for it");
    // Neither the store nor status carries the megabyte.
    let store = std::fs::metadata(config.with_file_name("state.json")).unwrap();
    assert!(
        store.len() < 64 * 1024,
        "the store grew to {} bytes",
        store.len()
    );
    let out = run(&config, &["status"]).await;
    assert!(
        out.stdout.len() < 64 * 1024,
        "status printed {} bytes",
        out.stdout.len()
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backends_of_the_other_family_are_refused_and_routed_ones_warned_about() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (_dir, config) = setup(&sim);
    let hook_with = |odd: &str| {
        let mut hook: Value = serde_json::from_str(&envelope("kcp-requests.json")).unwrap();
        hook["relations"][0]["units"]["kubernetes-control-plane/2"]["ingress-address"] =
            Value::String(odd.to_string());
        hook.to_string()
    };
    // IPv6 on an IPv4 member subnet: refused, nothing built.
    let out = run_with_input(
        &config,
        &["lb-consumers", "--wait", "30"],
        &hook_with("fd00::7"),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written: Value = serde_json::from_slice(&out.stdout).unwrap();
    for name in ["api-server-external", "api-server-internal"] {
        let answer = written["relations"][0]["set"][format!("response_{name}")]
            .as_str()
            .unwrap_or_else(|| panic!("{name} unanswered: {written}"));
        let answer: Value = serde_json::from_str(answer).unwrap();
        assert_eq!(answer["error"], "unsupported", "{answer}");
        assert_eq!(answer["address"], Value::Null, "{answer}");
        let why = answer["error_fields"]["backends"].as_str().unwrap();
        assert!(
            why.contains("fd00::7") && why.contains("IP family"),
            "{why}"
        );
    }
    assert!(
        live_lbs(&sim).is_empty(),
        "nothing built for the other family"
    );

    // IPv4 outside the member subnet may be routed: served, with a warning naming it.
    let out = run_with_input(
        &config,
        &["-v", "lb-consumers", "--wait", "30"],
        &hook_with("10.99.0.7"),
    )
    .await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(responses(&out).len(), 2, "{stderr}");
    assert!(
        stderr.contains("10.99.0.7") && stderr.contains("outside the member subnet"),
        "{stderr}"
    );
    sim.shutdown().await;
}

/// `apply` at a terminal says what it waits for, and for how long, without `-v`. (`script`
/// gives it a terminal; it is part of every Debian system.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_at_a_terminal_shows_what_it_waits_for() {
    // Slow enough (90 simulated seconds × 0.03) for the once-a-second line to be drawn.
    let sim = openstack_sim::Sim::builder()
        .provider(Provider::Amphora)
        .delay_scale(0.03)
        .seed(7)
        .build()
        .start()
        .await
        .unwrap();
    let (_dir, config) = setup(&sim);
    let request = fixture("requests/api-server-external.json");
    let command = format!(
        "{BIN} --config {} apply --request {}",
        config.display(),
        request.display()
    );
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("OCTAVIA_INTEGRATOR_LOG")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("script(1) runs");
    let screen = text(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("waiting for load balancer") && screen.contains("PENDING_CREATE ("),
        "no progress line:\n{screen}"
    );
    assert!(screen.contains("\"address\": \"203.0.113."), "{screen}");

    // Not at a terminal: no progress line, only the answer.
    let out = run(&config, &["apply", "--request", request.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("waiting for"),
        "{}",
        text(&out.stderr)
    );
    sim.shutdown().await;
}
