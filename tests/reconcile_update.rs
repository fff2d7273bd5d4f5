//! Changing what exists: members (one batch call, within budget), port mappings, algorithm,
//! health check, public → internal, a busy load balancer, quotas.

mod common;

use std::time::Duration;

use common::*;
use octavia_integrator::reconcile::act::Exec;
use octavia_integrator::reconcile::{error_policy, Outcome, Ready, Step};
use octavia_integrator::relation::v1::{ErrorKind, HealthCheck, Protocol};
use octavia_integrator::spec::DesiredMember;
use openstack::load_balancer::load_balancers::{self, UpdateLoadBalancer};
use openstack_sim::Provider;

const MEMBERS_PUT: &str = "/load-balancer/v2/lbaas/pools/{id}/members";

fn ready(o: Outcome) -> Ready {
    match o {
        Outcome::Ready(r) => r,
        other => panic!("expected a ready outcome, got {other:?}"),
    }
}

#[tokio::test]
async fn adding_and_removing_a_member_is_one_batch_call_each_within_budget() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "api-server-external");
    ready(rec.apply(&k, &external_request(&MEMBERS[..2])).await);
    assert_eq!(sim.snapshot().members.len(), 2);

    for (backends, expect) in [(&MEMBERS[..], 3), (&MEMBERS[..1], 1)] {
        let before = sim.calls().total();
        let r = ready(rec.apply(&k, &external_request(backends)).await);
        let b = budget(&sim, before);
        let calls = sim.calls().since(before);
        assert_eq!(
            calls.count("PUT", MEMBERS_PUT),
            1,
            "exactly one batch PUT: {:?}",
            calls.by_route()
        );
        assert_eq!(b.mutations, 1, "one mutation: {:?}", calls.by_route());
        assert!(
            b.non_poll <= 6,
            "member change took {} calls: {:?}",
            b.non_poll,
            calls.by_route()
        );
        assert_eq!(r.actions.len(), 1);
        let snap = sim.snapshot();
        assert_eq!(snap.members.len(), expect);
        assert_eq!(snap.load_balancers.len(), 1);
    }
}

#[tokio::test]
async fn port_mappings_algorithm_and_health_check_changes_are_applied_in_place() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let first = ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS, true))
            .await,
    );
    let lb_id = first.load_balancer_id.clone();

    // A second port mapping: one more listener, the first untouched.
    let two = tcp_request("svc", &[(443, 6443), (8443, 8443)], &MEMBERS, true);
    let r = ready(rec.apply(&k, &two).await);
    assert_eq!(r.load_balancer_id, lb_id);
    let snap = sim.snapshot();
    let mut ports: Vec<i64> = snap
        .listeners
        .iter()
        .map(|l| l["protocol_port"].as_i64().unwrap())
        .collect();
    ports.sort();
    assert_eq!(ports, vec![443, 8443]);
    assert_eq!(snap.members.len(), 6);

    // Replace 443 by 9443.
    let moved = tcp_request("svc", &[(9443, 6443), (8443, 8443)], &MEMBERS, true);
    ready(rec.apply(&k, &moved).await);
    let snap = sim.snapshot();
    let mut ports: Vec<i64> = snap
        .listeners
        .iter()
        .map(|l| l["protocol_port"].as_i64().unwrap())
        .collect();
    ports.sort();
    assert_eq!(ports, vec![8443, 9443]);
    assert_eq!(snap.pools.len(), 2, "the old listener's pool went with it");

    // Algorithm preference.
    let mut lc = moved.clone();
    lc.algorithm = vec!["LEAST_CONNECTIONS".into()];
    let lc = lc.sealed();
    ready(rec.apply(&k, &lc).await);
    assert!(sim
        .snapshot()
        .pools
        .iter()
        .all(|p| p["lb_algorithm"] == "LEAST_CONNECTIONS"));

    // A health check, then a faster one.
    let mut hc = lc.clone();
    hc.health_checks = vec![HealthCheck::new(Protocol::Tcp, 6443)];
    let hc = hc.sealed();
    ready(rec.apply(&k, &hc).await);
    let snap = sim.snapshot();
    assert_eq!(snap.health_monitors.len(), 2);
    assert!(snap
        .health_monitors
        .iter()
        .all(|m| m["delay"] == 30 && m["type"] == "TCP"));
    let mut fast = hc.clone();
    fast.health_checks[0].interval = 10;
    let fast = fast.sealed();
    let before = sim.calls().total();
    ready(rec.apply(&k, &fast).await);
    let calls = sim.calls().since(before);
    assert_eq!(
        calls.count("PUT", "/load-balancer/v2/lbaas/healthmonitors/{id}"),
        2
    );
    assert_eq!(
        calls.count("POST", "/load-balancer/v2/lbaas/healthmonitors"),
        0,
        "updated, not recreated"
    );
    assert!(sim
        .snapshot()
        .health_monitors
        .iter()
        .all(|m| m["delay"] == 10));

    // Everything now in place: a re-check changes nothing.
    let before = sim.calls().total();
    let r = ready(rec.apply(&k, &fast).await);
    assert!(r.actions.is_empty(), "{:?}", r.actions);
    assert_eq!(budget(&sim, before).mutations, 0);
    assert_eq!(r.load_balancer_id, lb_id, "never rebuilt");
    assert_eq!(sim.snapshot().load_balancers.len(), 1);
}

#[tokio::test]
async fn public_to_internal_drops_the_floating_ip_and_answers_the_vip() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let public = ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS, true))
            .await,
    );
    assert_ne!(public.address, public.vip_address);
    let internal = ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS, false))
            .await,
    );
    assert_eq!(internal.address, internal.vip_address);
    assert_eq!(internal.load_balancer_id, public.load_balancer_id);
    assert!(
        sim.snapshot().floating_ips.is_empty(),
        "no floating IP left allocated"
    );
    // And back: a new floating IP.
    let again = ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS, true))
            .await,
    );
    assert!(again.floating_ip.is_some());
    assert_eq!(sim.snapshot().floating_ips.len(), 1);
}

#[tokio::test]
async fn a_busy_load_balancer_is_waited_for_and_409_immutable_is_absorbed() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let r = ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS, true))
            .await,
    );
    // Changes take 200 simulated seconds (0.1 s here): the out-of-band change below is
    // still pending when we act.
    let mut delays = Provider::Amphora.default_delays();
    delays.update = 200.0;
    sim.faults().delays(Provider::Amphora, delays);
    let other = session(&sim);
    let touch = |what: &'static str| UpdateLoadBalancer {
        description: Some(what.into()),
        ..Default::default()
    };

    // PENDING on entry: someone else is changing it; we wait, then converge.
    load_balancers::update(&other, &r.load_balancer_id, &touch("busy"))
        .await
        .unwrap();
    let r2 = ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS[..2], true))
            .await,
    );
    assert_eq!(r2.load_balancer_id, r.load_balancer_id);
    assert_eq!(sim.snapshot().members.len(), 2);

    // 409 "immutable" on our change (the load balancer went busy between our look and our
    // call): absorbed by waiting for ACTIVE and trying again.
    load_balancers::update(&other, &r.load_balancer_id, &touch("busy again"))
        .await
        .unwrap();
    let lb = octavia_integrator::reconcile::cloud::lb_of(
        load_balancers::get(&other, &r.load_balancer_id)
            .await
            .unwrap(),
    );
    let pool_id = sim.snapshot().pools[0]["id"].as_str().unwrap().to_string();
    let before = sim.calls().total();
    let mut exec = Exec {
        session: rec.session(),
        policy: options().wait,
        deadline: tokio::time::Instant::now() + Duration::from_secs(20),
        actions: vec![],
        paces: None,
    };
    let members = MEMBERS
        .iter()
        .map(|a| DesiredMember {
            address: a.to_string(),
            port: 6443,
            name: format!("{a}:6443"),
            subnet_id: None,
            monitor_port: None,
        })
        .collect();
    let mut fip = None;
    exec.step(&lb, &Step::SetMembers { pool_id, members }, &mut fip)
        .await
        .expect("the busy answer is absorbed");
    let calls = sim.calls().since(before);
    let refused = calls
        .records
        .iter()
        .filter(|c| c.method == "PUT" && c.route == MEMBERS_PUT && c.status == 409)
        .count();
    assert!(
        refused >= 1,
        "the first PUT met a busy load balancer: {:?}",
        calls.records
    );
    assert_eq!(sim.snapshot().members.len(), 3);
}

#[tokio::test]
async fn quota_exhaustion_is_a_clear_error_answer() {
    let sim = start_sim(Provider::Amphora).await;
    sim.faults().octavia_quota("loadbalancer", 0);
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, true);
    let outcome = rec.apply(&key("k8s", "svc"), &req).await;
    match &outcome {
        Outcome::Failed {
            kind,
            failure,
            setback,
        } => {
            assert_eq!(*kind, ErrorKind::ProviderError);
            let text = failure.message_text().unwrap().to_ascii_lowercase();
            assert!(
                text.contains("quota") && text.contains("load balancer"),
                "{text}"
            );
            assert!(error_policy(setback, 1).requeue_after.is_some());
        }
        other => panic!("{other:?}"),
    }
    let response = outcome.response(&req).unwrap();
    assert_eq!(response.error(), Some(ErrorKind::ProviderError));
    // The same failure again (a new request id from the cloud): the same answer, byte for byte.
    let again = rec.apply(&key("k8s", "svc"), &req).await;
    assert_eq!(
        serde_json::to_string(&again.response(&req).unwrap()).unwrap(),
        serde_json::to_string(&response).unwrap(),
    );

    // Floating IPs exhausted: the load balancer is built, the answer names the floating IP.
    sim.faults().octavia_quota("loadbalancer", -1);
    sim.faults().neutron_quota("floatingip", 0);
    match rec.apply(&key("k8s", "svc"), &req).await {
        Outcome::Failed { failure, .. } => {
            let text = failure.message_text().unwrap().to_ascii_lowercase();
            assert!(
                text.contains("quota") && text.contains("floatingip"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    sim.faults().neutron_quota("floatingip", -1);
    let r = ready(rec.apply(&key("k8s", "svc"), &req).await);
    assert!(r.floating_ip.is_some());
    assert_eq!(sim.snapshot().load_balancers.len(), 1);
}

#[tokio::test]
async fn members_change_one_by_one_when_the_provider_has_no_batch_update() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS[..2], true))
            .await,
    );
    sim.faults().error(
        openstack_sim::RouteMatch::new("PUT", MEMBERS_PUT),
        501,
        1.0,
        None,
    );
    let before = sim.calls().total();
    ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS[1..], true))
            .await,
    );
    let calls = sim.calls().since(before);
    assert_eq!(
        calls.count("POST", "/load-balancer/v2/lbaas/pools/{id}/members"),
        1,
        "{:?}",
        calls.by_route()
    );
    assert_eq!(
        calls.count("DELETE", "/load-balancer/v2/lbaas/pools/{id}/members/{id}"),
        1,
        "{:?}",
        calls.by_route()
    );
    let mut addrs: Vec<String> = sim
        .snapshot()
        .members
        .iter()
        .map(|m| m["address"].as_str().unwrap().to_string())
        .collect();
    addrs.sort();
    assert_eq!(addrs, vec!["10.5.0.11", "10.5.0.12"]);
}
