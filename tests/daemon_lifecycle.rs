//! The daemon's life: leadership handed over between two daemons on one cloud, a restart
//! with requests in flight, a second daemon on the same store, a corrupt store, a reload.

mod common;
mod daemon_support;

use std::time::Duration;

use daemon_support::*;
use octavia_integrator::cli::demo::scenario;
use octavia_integrator::daemon::DaemonError;
use octavia_integrator::hook;
use octavia_integrator::relation::HookInput;
use octavia_integrator::store::StoreError;
use openstack_sim::Provider;

const LB_POST: (&str, &str) = ("POST", "/load-balancer/v2/lbaas/loadbalancers");

fn lb_posts(sim: &openstack_sim::SimHandle) -> usize {
    sim.calls().count(LB_POST.0, LB_POST.1)
}

fn mutations(sim: &openstack_sim::SimHandle, since: usize) -> Vec<String> {
    sim.calls()
        .since(since)
        .records
        .iter()
        .filter(|r| !r.method.eq_ignore_ascii_case("GET") && !r.route.contains("auth/tokens"))
        .map(|r| format!("{} {}", r.method, r.route))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leadership_moves_between_two_daemons_without_a_fight() {
    let sim = common::start_sim(Provider::Amphora).await;
    let (dir_a, dir_b) = (tempdir(), tempdir());
    let a = TestDaemon::start(settings_in(&sim, dir_a.path(), ""), options());
    let b = TestDaemon::start(settings_in(&sim, dir_b.path(), "leader = false"), options());
    assert!(a.health().await.leader);
    assert!(!b.health().await.leader);

    // A leads and builds; B is handed the same requests but must not touch the cloud.
    let local = until_both_answered(&a).await;
    a.idle().await;
    let before = sim.calls().total();
    let on_b = b.hook(&scenario::both(&local)).await;
    for rel in &on_b.output.relations {
        assert!(
            rel.set.keys().all(|k| k == "version"),
            "a non-leader has no answers of its own yet: {rel:?}"
        );
    }
    b.idle().await;
    assert_eq!(
        mutations(&sim, before),
        Vec::<String>::new(),
        "B changed the cloud"
    );

    // Handover: A steps down first, and then forgets a request: it must delete nothing.
    a.set_leader(false).await;
    let before = sim.calls().total();
    hook::lb_consumers(&scenario::internal_removed(&local), &a.answerer()).await;
    a.idle().await;
    assert_eq!(
        live_lbs(&sim).len(),
        2,
        "a non-leader deleted a load balancer"
    );
    assert_eq!(
        mutations(&sim, before),
        Vec::<String>::new(),
        "A changed the cloud"
    );

    // B leads: its first hooks adopt what exists by tags. Same addresses, no duplicate.
    sim.settle();
    let posts = lb_posts(&sim);
    let before = sim.calls().total();
    b.set_leader(true).await;
    let adopted = until_both_answered(&b).await;
    // Adopted from one listing of the cluster, not request by request: one floating-IP list
    // for both (a pass per request reads one each), and no load balancer polled.
    let takeover = sim.calls().since(before);
    assert_eq!(
        takeover.count("GET", "/networking/v2.0/floatingips"),
        1,
        "{:?}",
        takeover.by_route()
    );
    assert_eq!(
        takeover.count("GET", "/load-balancer/v2/lbaas/listeners"),
        1,
        "{:?}",
        takeover.by_route()
    );
    // A wrote each pool's member digest after answering: B reads no member.
    assert_eq!(
        takeover.count("GET", "/load-balancer/v2/lbaas/loadbalancers/{id}/status"),
        0,
        "{:?}",
        takeover.by_route()
    );
    for (relation, name) in [
        (scenario::EXTERNAL_RELATION, "api-server-external"),
        (scenario::INTERNAL_RELATION, "api-server-internal"),
    ] {
        assert_eq!(
            address(&adopted, relation, name),
            address(&local, relation, name),
            "{name} keeps its address across the handover"
        );
    }
    b.idle().await;
    assert_eq!(lb_posts(&sim), posts, "the new leader created a duplicate");
    assert_eq!(live_lbs(&sim).len(), 2);
    assert_eq!(sim.snapshot().floating_ips.len(), 1);

    a.stop().await.unwrap();
    b.stop().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_requests_in_flight_loses_nothing_and_duplicates_nothing() {
    let sim = common::start_sim(Provider::Amphora).await;
    // Slow builds, so the first daemon is stopped while both are still provisioning.
    sim.faults().delays(
        Provider::Amphora,
        openstack_sim::Delays {
            create: 2000.0,
            ..Provider::Amphora.default_delays()
        },
    );
    let dir = tempdir();
    let settings = settings_in(&sim, dir.path(), "");
    let first = TestDaemon::start(
        settings.clone(),
        octavia_integrator::daemon::Options {
            shutdown_grace: Duration::ZERO,
            ..options()
        },
    );
    first.hook(&scenario::both(&Local::new())).await;
    eventually("both creates to be sent", || async { lb_posts(&sim) == 2 }).await;
    assert!(live_lbs(&sim)
        .iter()
        .all(|lb| lb["provisioning_status"] == "PENDING_CREATE"));
    first
        .stop()
        .await
        .expect("a stop while reconciling is clean");

    // Faster cloud from now on; a new daemon on the same store picks up where it stopped.
    sim.faults()
        .delays(Provider::Amphora, Provider::Amphora.default_delays());
    let second = TestDaemon::start(settings, options());
    let local = until_both_answered(&second).await;
    second.idle().await;
    assert_eq!(lb_posts(&sim), 2, "a request was created twice");
    assert_eq!(live_lbs(&sim).len(), 2);
    assert_eq!(sim.snapshot().floating_ips.len(), 1);
    assert_ne!(
        address(&local, scenario::EXTERNAL_RELATION, "api-server-external"),
        address(&local, scenario::INTERNAL_RELATION, "api-server-internal")
    );
    second.stop().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_the_same_store_is_refused() {
    let sim = common::start_sim(Provider::Ovn).await;
    let dir = tempdir();
    let first = TestDaemon::start(settings_in(&sim, dir.path(), ""), options());
    first.health().await;
    // Same store, another socket.
    let other = tempdir();
    let mut settings = settings_in(&sim, other.path(), "");
    settings.daemon.state_file = dir.path().join("state.json");
    let second = TestDaemon::start(settings, options());
    match second.stop().await {
        Err(DaemonError::Store(e @ StoreError::Locked { .. })) => {
            let text = e.to_string();
            assert!(text.contains("state.json"), "{text}");
        }
        other => panic!("expected the store to be refused as locked, got {other:?}"),
    }
    assert!(
        !other.path().join("d.sock").exists(),
        "the refused daemon leaves no socket behind"
    );
    first.health().await;
    first.stop().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_store_is_a_clear_error_and_is_left_alone() {
    let sim = common::start_sim(Provider::Ovn).await;
    let dir = tempdir();
    let settings = settings_in(&sim, dir.path(), "");
    let garbage = "{\"format\": \"octavia-integrator-store\", \"version\": 1, \"requests\": [";
    std::fs::write(&settings.daemon.state_file, garbage).unwrap();
    let d = TestDaemon::start(settings.clone(), options());
    match d.stop().await {
        Err(DaemonError::Store(e @ StoreError::Corrupt { .. })) => {
            let text = e.to_string();
            assert!(text.contains("state.json"), "names the file: {text}");
        }
        other => panic!("expected a corrupt-store error, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(&settings.daemon.state_file).unwrap(),
        garbage,
        "never a silent reset"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_applies_a_new_notify_command_and_keeps_bad_settings_out() {
    let sim = common::start_sim(Provider::Ovn).await;
    let dir = tempdir();
    let settings = settings_in(&sim, dir.path(), "");
    let d = TestDaemon::start(settings, options());
    d.health().await;

    // A broken settings file is refused; the daemon keeps running on the old settings.
    let path = dir.path().join("settings.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{good}\nbogus = 1\n")).unwrap();
    let err = d
        .client()
        .post::<_, serde_json::Value>(
            octavia_integrator::daemon::api::RELOAD,
            &serde_json::json!({}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("bogus"), "{err}");

    // A good one with a notify command takes effect.
    let log = dir.path().join("notified");
    let fresh = settings_text(
        &sim,
        dir.path(),
        &format!(
            "notify_command = [\"/bin/sh\", \"-c\", \"echo \\\"$OCTAVIA_INTEGRATOR_REQUEST\\\" >> {}\"]",
            log.display()
        ),
    );
    std::fs::write(&path, fresh).unwrap();
    let _: serde_json::Value = d
        .client()
        .post(
            octavia_integrator::daemon::api::RELOAD,
            &serde_json::json!({}),
        )
        .await
        .expect("reload");
    let input = HookInput {
        relations: vec![scenario::relation(
            scenario::EXTERNAL_RELATION,
            &[scenario::external_request()],
            None,
        )],
    };
    eventually("an answer after the reload", || async {
        let out = hook::lb_consumers(&input, &d.answerer()).await;
        out.output.relations[0]
            .set
            .contains_key("response_api-server-external")
    })
    .await;
    eventually("the new notify command to run", || async {
        std::fs::read_to_string(&log).is_ok_and(|t| t.lines().count() == 1)
    })
    .await;
    d.stop().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_daemon_with_an_empty_store_collects_garbage_only_after_the_hooks_ran() {
    let sim = common::start_sim(Provider::Amphora).await;
    let first_dir = tempdir();
    let first = TestDaemon::start(settings_in(&sim, first_dir.path(), ""), options());
    let local = until_both_answered(&first).await;
    first.idle().await;
    first.stop().await.unwrap();
    let external_id = |sim: &openstack_sim::SimHandle| {
        live_lbs(sim)
            .into_iter()
            .find(|lb| {
                lb["name"]
                    .as_str()
                    .unwrap()
                    .ends_with("api-server-external")
            })
            .map(|lb| lb["id"].as_str().unwrap().to_string())
    };
    let before = external_id(&sim).expect("the external load balancer");

    // A new unit: empty store, same cluster. Resyncing must not read "no requests" as
    // "delete everything".
    let dir = tempdir();
    let d = TestDaemon::start(settings_in(&sim, dir.path(), ""), options());
    eventually("the cloud connection", || async {
        d.health().await.connected
    })
    .await;
    d.resync().await;
    d.idle().await;
    assert_eq!(
        live_lbs(&sim).len(),
        2,
        "a stale store was garbage collected"
    );

    // Its hooks run: lb-consumers now only carries the external request; public-address has
    // no relations. Both sets are known, so the internal load balancer is garbage.
    d.hook(&HookInput {
        relations: vec![scenario::relation(
            scenario::EXTERNAL_RELATION,
            &[scenario::external_request()],
            None,
        )],
    })
    .await;
    let legacy = hook::public_address(&HookInput::default(), &d.legacy_answerer(), 443).await;
    assert!(legacy.problems.is_empty(), "{:?}", legacy.problems);
    eventually("the orphaned internal load balancer to go", || async {
        live_lbs(&sim).len() == 1
    })
    .await;
    assert_eq!(
        external_id(&sim),
        Some(before),
        "the wanted load balancer was never deleted"
    );
    let _ = local;
    d.stop().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_learned_is_kept_in_the_store_and_a_restart_resyncs_from_the_lists() {
    const STATUS_TREE: &str = "/load-balancer/v2/lbaas/loadbalancers/{id}/status";
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    let settings = settings_in(&sim, dir.path(), "");
    let first = TestDaemon::start(settings.clone(), options());
    until_both_answered(&first).await;
    first.idle().await;
    // A resync reads the members once and remembers them; shutdown saves what was learned.
    first.resync().await;
    first.stop().await.unwrap();
    let text = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let learned: serde_json::Value =
        serde_json::from_str(doc["learned"].as_str().expect("learned is stored")).unwrap();
    assert!(
        learned["paces"]["create"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{learned}"
    );
    assert_eq!(
        learned["members"].as_object().map(|m| m.len()),
        Some(2),
        "{learned}"
    );

    // Restarted on the same store: its check at connect and a resync read no status tree.
    let before = sim.calls().total();
    let second = TestDaemon::start(settings, options());
    eventually("the restarted daemon to connect", || async {
        second.health().await.connected
    })
    .await;
    second.idle().await;
    second.resync().await;
    let calls = sim.calls().since(before);
    assert_eq!(calls.count("GET", STATUS_TREE), 0, "{:?}", calls.by_route());
    assert_eq!(calls.cloud_mutations(), 0, "{:?}", calls.by_route());
    second.stop().await.unwrap();
    sim.shutdown().await;
}
