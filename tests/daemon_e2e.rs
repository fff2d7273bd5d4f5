//! The daemon end to end over its unix socket against the simulated cloud: hooks answered at
//! once, load balancers built in the background, metrics, removal, notify once per changed
//! answer, drift repaired by resync, and the in-process path when no daemon runs.

mod common;
mod daemon_support;

use std::collections::BTreeMap;
use std::time::Duration;

use daemon_support::*;
use octavia_integrator::cli::demo::scenario;
use octavia_integrator::cli::hooks::HookAnswerer;
use octavia_integrator::hook;
use octavia_integrator::relation::{HookInput, Interface};
use openstack_sim::Provider;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_get_answers_from_the_daemon_and_removal_cleans_up() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    // A free loopback port for /metrics (bound, then released for the daemon).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = settings_in(
        &sim,
        dir.path(),
        &format!("metrics_address = \"127.0.0.1:{port}\""),
    );
    let d = TestDaemon::start(settings, options());

    // The first hook returns at once: nothing is ready, only `version` is published.
    let first = d.hook(&scenario::both(&Local::new())).await;
    for rel in &first.output.relations {
        assert_eq!(
            rel.set.keys().collect::<Vec<_>>(),
            vec!["version"],
            "{rel:?}"
        );
    }

    let local = until_both_answered(&d).await;
    let external = address(&local, scenario::EXTERNAL_RELATION, "api-server-external").unwrap();
    let internal = address(&local, scenario::INTERNAL_RELATION, "api-server-internal").unwrap();
    assert_ne!(external, internal);
    let fips: Vec<String> = sim
        .snapshot()
        .floating_ips
        .iter()
        .map(|f| f["floating_ip_address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        fips,
        vec![external.clone()],
        "external = the one floating IP"
    );
    let lbs = live_lbs(&sim);
    assert_eq!(lbs.len(), 2);
    assert!(
        lbs.iter()
            .any(|lb| lb["vip_address"].as_str() == Some(internal.as_str())),
        "internal = a VIP"
    );

    // After an answer that changed something the daemon writes the pool's member digest
    // (one pool PUT: PENDING_UPDATE for a moment); the status is read once that is done.
    let mut status = d.status().await;
    for _ in 0..200 {
        let active = status
            .requests
            .iter()
            .all(|r| r.provisioning_status.as_deref() == Some("ACTIVE"));
        if active {
            break;
        }
        sim.settle();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        status = d.status().await;
    }
    assert_eq!(status.requests.len(), 2);
    for row in &status.requests {
        assert_eq!(
            row.provisioning_status.as_deref(),
            Some("ACTIVE"),
            "{row:?}"
        );
        assert_eq!(
            (row.members_up, row.members_total),
            (Some(3), Some(3)),
            "{row:?}"
        );
    }

    // /metrics and /healthz on loopback.
    let metrics = http_get(port, "/metrics").await;
    for needle in [
        "octavia_integrator_api_calls_total{service=\"load-balancer\",route=\"POST lbaas/loadbalancers\",status=\"201\"} 2",
        "octavia_integrator_api_call_duration_seconds_count{service=\"identity\"",
        "octavia_integrator_reconcile_duration_seconds_count{operation=\"apply\",result=\"ready\"}",
        "octavia_integrator_provisioning_seconds_count 2",
        "octavia_integrator_load_balancers{provisioning_status=\"ACTIVE\"} 2",
        "octavia_integrator_leader 1",
    ] {
        assert!(metrics.contains(needle), "missing {needle:?} in\n{metrics}");
    }
    assert_eq!(http_get(port, "/healthz").await, "ok\n");

    // The requirer removes api-server-internal: its response is unset, and what was built
    // for it is deleted.
    let mut local = local;
    let out = d.hook(&scenario::internal_removed(&local)).await;
    apply(&mut local, &out.output);
    assert!(!local[&scenario::INTERNAL_RELATION].contains_key("response_api-server-internal"));
    eventually("the internal load balancer to be deleted", || async {
        live_lbs(&sim).len() == 1
    })
    .await;
    d.idle().await;
    assert_eq!(d.status().await.requests.len(), 1);
    assert_eq!(
        sim.snapshot().floating_ips.len(),
        1,
        "the external floating IP stays"
    );

    d.stop().await.expect("clean shutdown");
    assert!(
        !dir.path().join("d.sock").exists(),
        "the socket file is removed on shutdown"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_runs_once_per_changed_answer() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    let log = dir.path().join("notified");
    let settings = settings_in(
        &sim,
        dir.path(),
        &format!(
            "notify_command = [\"/bin/sh\", \"-c\", \"echo \\\"$OCTAVIA_INTEGRATOR_REQUEST $OCTAVIA_INTEGRATOR_ADDRESS\\\" >> {}\"]",
            log.display()
        ),
    );
    let d = TestDaemon::start(settings, options());
    let local = until_both_answered(&d).await;
    let lines = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    eventually("two notifications", || async { lines().len() >= 2 }).await;

    // Hooks and a resync that change nothing notify nothing.
    d.hook(&scenario::both(&local)).await;
    d.resync().await;
    d.idle().await;
    d.hook(&scenario::both(&local)).await;
    d.idle().await;

    // The requirer changes its external request: one new answer, one notification.
    let mut changed = scenario::external_request();
    changed.port_mapping = BTreeMap::from([(443, 6443), (8443, 6443)]);
    changed.sent_hash = None;
    let changed = changed.sealed();
    let input = HookInput {
        relations: vec![
            scenario::relation(scenario::EXTERNAL_RELATION, &[changed], None),
            scenario::relation(
                scenario::INTERNAL_RELATION,
                &[scenario::internal_request()],
                None,
            ),
        ],
    };
    d.hook(&input).await;
    eventually("the third notification", || async { lines().len() >= 3 }).await;
    d.idle().await;
    d.stop().await.expect("clean shutdown");

    let lines = lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let mut requests: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        requests.pop(),
        Some("kubernetes-control-plane/api-server-external"),
        "the changed request is the one notified last"
    );
    requests.sort();
    assert_eq!(
        requests,
        vec![
            "kubernetes-control-plane/api-server-external",
            "kubernetes-control-plane/api-server-internal"
        ]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_repairs_drift_deleted_load_balancer_members_and_error() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    let d = TestDaemon::start(settings_in(&sim, dir.path(), ""), options());
    let local = until_both_answered(&d).await;
    let external = address(&local, scenario::EXTERNAL_RELATION, "api-server-external").unwrap();
    d.idle().await;
    let session = common::session(&sim);

    // 1. Someone deletes the internal load balancer out of band: the resync rebuilds it.
    let internal_lb = lb_named(&sim, "api-server-internal");
    openstack::load_balancer::load_balancers::delete(&session, &internal_lb, true)
        .await
        .unwrap();
    eventually("the out-of-band delete", || async {
        live_lbs(&sim).len() == 1
    })
    .await;
    d.resync().await;
    eventually("the internal load balancer to be rebuilt", || async {
        live_lbs(&sim).len() == 2
    })
    .await;
    d.idle().await;
    assert_ne!(lb_named(&sim, "api-server-internal"), internal_lb);

    // 2. Someone removes a member: the resync puts it back.
    let member = sim
        .snapshot()
        .members
        .into_iter()
        .find(|m| m["address"] == "10.5.0.11")
        .unwrap();
    openstack::load_balancer::members::delete(
        &session,
        member["pool_id"].as_str().unwrap(),
        member["id"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let members_of_pool = |pool: String| {
        let sim = &sim;
        move || {
            let pool = pool.clone();
            async move {
                sim.snapshot()
                    .members
                    .iter()
                    .filter(|m| m["pool_id"].as_str() == Some(pool.as_str()))
                    .count()
                    == 3
            }
        }
    };
    let pool = member["pool_id"].as_str().unwrap().to_string();
    eventually("the member to be gone", || async {
        !members_of_pool(pool.clone())().await
    })
    .await;
    d.resync().await;
    eventually("the member to be back", members_of_pool(pool.clone())).await;
    d.idle().await;

    // 3. The external load balancer goes ERROR: the resync repairs it, the address stays.
    let external_lb = lb_named(&sim, "api-server-external");
    sim.faults().load_balancer_error(&external_lb, false);
    eventually("the load balancer to go ERROR", || async {
        sim.snapshot()
            .load_balancers
            .iter()
            .any(|lb| lb["provisioning_status"] == "ERROR")
    })
    .await;
    d.resync().await;
    eventually("the ERROR to be repaired", || async {
        let lbs = live_lbs(&sim);
        lbs.len() == 2 && lbs.iter().all(|lb| lb["provisioning_status"] == "ACTIVE")
    })
    .await;
    d.idle().await;
    let local = until_both_answered(&d).await;
    assert_eq!(
        address(&local, scenario::EXTERNAL_RELATION, "api-server-external").unwrap(),
        external,
        "the floating IP survives the repair"
    );
    d.stop().await.expect("clean shutdown");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_daemon_the_hook_works_in_process_within_wait() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    let settings = settings_in(&sim, dir.path(), "");
    let answerer =
        HookAnswerer::for_settings(&settings, Interface::LoadBalancer, Duration::from_secs(20))
            .await;
    assert!(
        matches!(answerer, HookAnswerer::InProcess(_)),
        "{answerer:?}"
    );
    let result = hook::lb_consumers(&scenario::both(&Local::new()), &answerer).await;
    assert!(result.problems.is_empty(), "{:?}", result.problems);
    let mut local = Local::new();
    apply(&mut local, &result.output);
    let external = address(&local, scenario::EXTERNAL_RELATION, "api-server-external");
    let internal = address(&local, scenario::INTERNAL_RELATION, "api-server-internal");
    assert!(external.is_some() && internal.is_some(), "{local:?}");
    assert_ne!(external, internal);
    drop(answerer);

    // Requests that are removed are cleaned up in-process too.
    let answerer =
        HookAnswerer::for_settings(&settings, Interface::LoadBalancer, Duration::from_secs(20))
            .await;
    assert!(
        matches!(answerer, HookAnswerer::InProcess(_)),
        "{answerer:?}"
    );
    let result = hook::lb_consumers(&scenario::internal_removed(&local), &answerer).await;
    assert!(result.problems.is_empty(), "{:?}", result.problems);
    assert_eq!(live_lbs(&sim).len(), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_why_the_daemon_cannot_connect() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    let vip = sim.seed_ids().vip_subnet_id;
    let text = settings_text(&sim, dir.path(), "").replace(&vip, "no-such-subnet");
    let path = dir.path().join("settings.toml");
    std::fs::write(&path, text).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&path, perms).unwrap();
    let settings = octavia_integrator::config::Settings::load(&path).unwrap();
    let d = TestDaemon::start(settings, options());
    eventually("the connection error in status", || async {
        d.status()
            .await
            .connect_error
            .is_some_and(|e| e.contains("no-such-subnet"))
    })
    .await;
    d.hook(&scenario::both(&Local::new())).await;
    let report = d.status().await;
    assert!(!report.requests.is_empty());
    for row in &report.requests {
        let note = row.note.as_deref().unwrap_or_default();
        assert!(
            note.starts_with("not connected to the cloud: ") && note.contains("no-such-subnet"),
            "{row:?}"
        );
    }
    d.stop().await.expect("clean shutdown");
    sim.shutdown().await;
}

/// Writes the leader flag into the store, as `octavia-integrator leader false` does when no
/// daemon runs.
fn store_leader(settings: &octavia_integrator::config::Settings, leader: bool) {
    let mut store = octavia_integrator::store::Store::open(&settings.daemon.state_file).unwrap();
    store.set_leader(leader);
    store.save().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_daemon_a_non_leader_hook_never_acts_on_the_cloud() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    let settings = settings_in(&sim, dir.path(), "");
    let wait = Duration::from_secs(20);

    // A non-leader with an empty store: nothing is built, nothing is answered.
    store_leader(&settings, false);
    sim.reset_calls();
    let answerer = HookAnswerer::for_settings(&settings, Interface::LoadBalancer, wait).await;
    assert!(
        matches!(answerer, HookAnswerer::InProcess(_)),
        "{answerer:?}"
    );
    let result = hook::lb_consumers(&scenario::both(&Local::new()), &answerer).await;
    drop(answerer);
    let mut local = Local::new();
    apply(&mut local, &result.output);
    assert_eq!(
        address(&local, scenario::EXTERNAL_RELATION, "api-server-external"),
        None
    );
    assert_eq!(
        sim.calls().cloud_mutations(),
        0,
        "{:?}",
        sim.calls().by_route()
    );
    assert!(live_lbs(&sim).is_empty());

    // The leader builds both; then leadership moves away.
    store_leader(&settings, true);
    let answerer = HookAnswerer::for_settings(&settings, Interface::LoadBalancer, wait).await;
    assert!(
        matches!(answerer, HookAnswerer::InProcess(_)),
        "{answerer:?}"
    );
    let result = hook::lb_consumers(&scenario::both(&Local::new()), &answerer).await;
    assert!(result.problems.is_empty(), "{:?}", result.problems);
    drop(answerer);
    let mut built = Local::new();
    apply(&mut built, &result.output);
    let external = address(&built, scenario::EXTERNAL_RELATION, "api-server-external");
    assert!(external.is_some(), "{built:?}");
    assert_eq!(live_lbs(&sim).len(), 2);
    store_leader(&settings, false);

    // A non-leader answers what the store has, and a removed request deletes nothing.
    sim.reset_calls();
    let answerer = HookAnswerer::for_settings(&settings, Interface::LoadBalancer, wait).await;
    assert!(
        matches!(answerer, HookAnswerer::InProcess(_)),
        "{answerer:?}"
    );
    let result = hook::lb_consumers(&scenario::both(&built), &answerer).await;
    let mut again = Local::new();
    apply(&mut again, &result.output);
    assert_eq!(
        address(&again, scenario::EXTERNAL_RELATION, "api-server-external"),
        external
    );
    let result = hook::lb_consumers(&scenario::internal_removed(&built), &answerer).await;
    assert!(result.problems.is_empty(), "{:?}", result.problems);
    drop(answerer);
    assert_eq!(
        sim.calls().cloud_mutations(),
        0,
        "{:?}",
        sim.calls().by_route()
    );
    assert_eq!(
        live_lbs(&sim).len(),
        2,
        "a non-leader deleted a load balancer"
    );
    sim.shutdown().await;
}

fn lb_named(sim: &openstack_sim::SimHandle, suffix: &str) -> String {
    live_lbs(sim)
        .into_iter()
        .find(|lb| lb["name"].as_str().unwrap().ends_with(suffix))
        .map(|lb| lb["id"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no load balancer named *{suffix}"))
}

async fn http_get(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text.split_once("\r\n\r\n").unwrap().1.to_string()
}
