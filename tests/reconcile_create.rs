//! Creating load balancers against the simulated cloud: amphora and OVN, budgets, adoption,
//! two apps with one request name, fallback when fully populated create is refused.

mod common;

use common::*;
use octavia_integrator::reconcile::{Outcome, Reconciler};
use octavia_integrator::relation::v1::ErrorKind;
use openstack_sim::Provider;

fn ready(o: &Outcome) -> &octavia_integrator::reconcile::Ready {
    match o {
        Outcome::Ready(r) => r,
        other => panic!("expected a ready outcome, got {other:?}"),
    }
}

#[tokio::test]
async fn amphora_create_with_three_members_and_a_floating_ip_within_budget() {
    let sim = start_sim(Provider::Amphora).await;
    let before = sim.calls().total();
    // connect included: one auth, names resolved. Security groups off: the budget is the
    // anchor's (OCCM with manage-security-groups off); they cost their own calls (see
    // reconcile_lifecycle).
    let text = settings_toml(&sim, Provider::Amphora, "manage_security_groups = false");
    let rec = Reconciler::connect(session(&sim), &settings(&text))
        .await
        .expect("connect resolves the settings")
        .with_options(options());
    let k = key("kubernetes-control-plane", "api-server-external");
    let req = external_request(&MEMBERS);
    let outcome = rec.apply(&k, &req).await;
    let r = ready(&outcome);
    assert!(
        r.address.starts_with("203.0.113."),
        "public address is the floating IP: {r:?}"
    );
    assert_eq!(r.floating_ip.as_deref(), Some(r.address.as_str()));
    assert!(r.vip_address.starts_with("10.5.0."));

    let b = budget(&sim, before);
    eprintln!(
        "fresh create: {} non-poll calls: {:?}",
        b.non_poll,
        sim.calls().since(before).by_route()
    );
    assert_eq!(b.auths, 1, "one auth");
    assert!(
        b.non_poll <= 10,
        "fresh create with floating IP took {} non-poll calls: {:?}",
        b.non_poll,
        sim.calls().since(before).by_route()
    );
    assert_eq!(
        sim.calls()
            .since(before)
            .count("POST", "/load-balancer/v2/lbaas/loadbalancers"),
        1,
        "one fully populated POST"
    );

    let snap = sim.snapshot();
    assert_eq!(snap.load_balancers.len(), 1);
    assert_eq!(snap.members.len(), 3);
    assert_eq!(snap.health_monitors.len(), 1);
    assert_eq!(snap.health_monitors[0]["type"], "HTTP");
    assert_eq!(snap.health_monitors[0]["url_path"], "/livez");
    assert_eq!(snap.listeners[0]["protocol_port"], 443);
    assert_eq!(snap.pools[0]["lb_algorithm"], "ROUND_ROBIN");
    assert_eq!(tagged(&sim, "loadbalancer", &k), 1);
    assert_eq!(tagged(&sim, "floatingip", &k), 1);
    let response = outcome.response(&req).expect("a ready request is answered");
    assert_eq!(response.address(), Some(r.address.as_str()));
    assert_eq!(response.received_hash(), req.sent_hash.as_deref());

    // Re-check of the unchanged request: reads only.
    let before = sim.calls().total();
    let again = rec.apply(&k, &req).await;
    assert_eq!(ready(&again).address, r.address);
    assert!(ready(&again).actions.is_empty());
    let b = budget(&sim, before);
    assert_eq!(
        b.mutations,
        0,
        "an unchanged request changes nothing: {:?}",
        sim.calls().since(before).by_route()
    );
    assert!(
        b.non_poll <= 4,
        "{:?}",
        sim.calls().since(before).by_route()
    );
}

#[tokio::test]
async fn ovn_create_uses_source_ip_port_and_tcp_only() {
    let sim = start_sim(Provider::Ovn).await;
    let rec = reconciler(&sim, site(&sim, Provider::Ovn));
    let k = key("kubernetes-control-plane", "api-server-internal");
    let req = tcp_request("api-server-internal", &[(6443, 6443)], &MEMBERS, false);
    let outcome = rec.apply(&k, &req).await;
    let r = ready(&outcome);
    assert_eq!(r.address, r.vip_address, "internal: the VIP is the address");
    assert!(r.floating_ip.is_none());
    let snap = sim.snapshot();
    assert_eq!(snap.pools[0]["lb_algorithm"], "SOURCE_IP_PORT");
    assert_eq!(snap.members.len(), 3);
    assert!(snap.floating_ips.is_empty());

    // The external request's HTTP health check cannot be done by OVN: a precise refusal.
    let ext = external_request(&MEMBERS);
    match rec
        .apply(
            &key("kubernetes-control-plane", "api-server-external"),
            &ext,
        )
        .await
    {
        Outcome::Failed { kind, failure, .. } => {
            assert_eq!(kind, ErrorKind::Unsupported);
            assert!(
                failure
                    .fields()
                    .keys()
                    .any(|f| f.as_str() == "health_checks"),
                "{failure:?}"
            );
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    assert_eq!(
        sim.snapshot().load_balancers.len(),
        1,
        "nothing built for a refused request"
    );
    // A TCP check of another port than the backend's: OVN has no member monitor port.
    let mut other_port = tcp_request("svc", &[(443, 6443)], &MEMBERS, false);
    other_port.health_checks = vec![octavia_integrator::relation::v1::HealthCheck::new(
        octavia_integrator::relation::v1::Protocol::Tcp,
        10256,
    )];
    let other_port = other_port.sealed();
    match rec.apply(&key("k8s", "svc"), &other_port).await {
        Outcome::Failed { kind, failure, .. } => {
            assert_eq!(kind, ErrorKind::Unsupported);
            assert!(failure
                .fields()
                .keys()
                .any(|f| f.as_str() == "health_checks"));
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
}

#[tokio::test]
async fn two_apps_with_the_same_request_name_get_two_load_balancers() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let req = external_request(&MEMBERS);
    let (ka, kb) = (
        key("k8s-a", "api-server-external"),
        key("k8s-b", "api-server-external"),
    );
    let a = rec.apply(&ka, &req);
    let b = rec.apply(&kb, &req);
    let (a, b) = tokio::join!(a, b);
    assert_ne!(ready(&a).load_balancer_id, ready(&b).load_balancer_id);
    assert_ne!(ready(&a).address, ready(&b).address);
    assert_eq!(sim.snapshot().load_balancers.len(), 2);
    assert_eq!(
        tagged(&sim, "loadbalancer", &key("k8s-a", "api-server-external")),
        1
    );
    assert_eq!(
        tagged(&sim, "loadbalancer", &key("k8s-b", "api-server-external")),
        1
    );
}

#[tokio::test]
async fn refused_fully_populated_create_falls_back_to_serial() {
    let sim = start_sim(Provider::Amphora).await;
    sim.faults()
        .fully_populated_create(Provider::Amphora, false);
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "api-server-external");
    let outcome = rec.apply(&k, &external_request(&MEMBERS)).await;
    ready(&outcome);
    let snap = sim.snapshot();
    assert_eq!(snap.load_balancers.len(), 1);
    assert_eq!(snap.listeners.len(), 1);
    assert_eq!(snap.members.len(), 3);
    assert_eq!(snap.health_monitors.len(), 1);
    let calls = sim.calls();
    assert_eq!(calls.count("POST", "/load-balancer/v2/lbaas/listeners"), 1);
    assert_eq!(
        calls.count("PUT", "/load-balancer/v2/lbaas/pools/{id}/members"),
        1,
        "members in one batch"
    );
}

#[tokio::test]
async fn no_backends_is_an_error_answer_and_nothing_is_built() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let outcome = rec
        .apply(
            &key("k8s", "empty"),
            &tcp_request("empty", &[(443, 6443)], &[], true),
        )
        .await;
    match outcome {
        Outcome::Failed { failure, .. } => {
            assert!(failure.fields().keys().any(|f| f.as_str() == "backends"));
        }
        other => panic!("{other:?}"),
    }
    assert!(sim.snapshot().load_balancers.is_empty());
}

/// The external path's budget: a fresh public request with three members and managed
/// security groups, from a process that holds its site facts (version document, subnets and
/// floating network are resolved once per process, at connect) and has no token yet.
#[tokio::test]
async fn public_create_with_managed_security_groups_within_budget() {
    let sim = start_sim(Provider::Amphora).await;
    let mut s = site(&sim, Provider::Amphora);
    s.manage_security_groups = true;
    let rec = reconciler(&sim, s);
    let k = key("kubernetes-control-plane", "api-server-external");
    let req = external_request(&MEMBERS);
    let before = sim.calls().total();
    let outcome = rec.apply(&k, &req).await;
    let r = ready(&outcome);
    assert!(r.address.starts_with("203.0.113."), "{r:?}");
    let calls = sim.calls().since(before);
    let b = budget(&sim, before);
    eprintln!(
        "fresh public create, 3 members, managed security groups: {} non-poll calls: {:?}",
        b.non_poll,
        calls.by_route()
    );
    assert_eq!(b.auths, 1, "one login");
    // Login, load balancer list, one port list for every member, the POST, the floating IP
    // and its tags, the group and its tags, every rule in one call, one write per member port.
    // Neutron 29 refuses tags in create bodies, so each tag set is its own call: 12.
    assert_eq!(
        b.non_poll,
        12,
        "fresh public create with security groups: {:?}",
        calls.by_route()
    );
    assert_eq!(
        calls.count("GET", "/networking/v2.0/ports"),
        1,
        "one port list"
    );
    assert_eq!(
        calls.count("GET", "/networking/v2.0/ports/{id}"),
        0,
        "no port read"
    );
    assert_eq!(calls.count("PUT", "/networking/v2.0/ports/{id}"), 3);
    assert_eq!(
        calls.count("POST", "/networking/v2.0/security-group-rules"),
        1
    );
    assert_eq!(calls.count("GET", "/networking/v2.0/security-groups"), 0);
    assert_eq!(calls.count("GET", "/networking/v2.0/floatingips"), 0);
    assert_eq!(tagged(&sim, "floatingip", &k), 1);
    assert_eq!(tagged(&sim, "security_group", &k), 1);
    let group = &sim
        .snapshot()
        .security_groups
        .iter()
        .find(|g| g["tags"].as_array().is_some_and(|t| !t.is_empty()))
        .expect("our group")["id"]
        .clone();
    let carrying = sim
        .snapshot()
        .ports
        .iter()
        .filter(|p| {
            p["security_groups"]
                .as_array()
                .is_some_and(|g| g.contains(group))
        })
        .count();
    assert_eq!(carrying, 3, "every member port carries our group");

    // The re-check finds everything in place (full look): reads only.
    let before = sim.calls().total();
    let again = rec.apply(&k, &req).await;
    assert!(
        ready(&again).actions.is_empty(),
        "{:?}",
        ready(&again).actions
    );
    assert_eq!(budget(&sim, before).mutations, 0);
}

/// The first look of a fresh create skips the floating-IP and group lists (nothing of ours is
/// created before the load balancer). What a load balancer deleted behind our back left is
/// found by the next full look and deleted: nothing leaks, nothing stays doubled.
#[tokio::test]
async fn leftovers_of_a_deleted_load_balancer_are_cleaned_by_the_next_look() {
    let sim = start_sim(Provider::Amphora).await;
    let mut s = site(&sim, Provider::Amphora);
    s.manage_security_groups = true;
    let rec = reconciler(&sim, s);
    let k = key("kubernetes-control-plane", "api-server-external");
    let req = external_request(&MEMBERS);
    let first = ready(&rec.apply(&k, &req).await).load_balancer_id.clone();

    // Someone deletes the load balancer: its floating IP is left unbound, our group stays.
    openstack::load_balancer::load_balancers::delete(&session(&sim), &first, true)
        .await
        .expect("out-of-band delete");
    for _ in 0..2000 {
        if sim.snapshot().load_balancers.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(sim.snapshot().load_balancers.is_empty());

    // A fresh create (first look: no lists) builds everything anew...
    let second = rec.apply(&k, &req).await;
    assert_ne!(ready(&second).load_balancer_id, first);
    // ...and the next look deletes the leftovers.
    let again = rec.apply(&k, &req).await;
    let actions = ready(&again).actions.clone();
    assert!(
        actions.iter().any(|a| a.contains("floating IP")),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a.contains("security group")),
        "{actions:?}"
    );
    assert_eq!(tagged(&sim, "floatingip", &k), 1, "one floating IP of ours");
    assert_eq!(tagged(&sim, "security_group", &k), 1, "one group of ours");
    let snap = sim.snapshot();
    let fip = &snap.floating_ips[0];
    assert_eq!(
        fip["floating_ip_address"].as_str(),
        Some(ready(&again).address.as_str())
    );
    let group = snap
        .security_groups
        .iter()
        .find(|g| g["tags"].as_array().is_some_and(|t| !t.is_empty()))
        .expect("our group")["id"]
        .clone();
    for p in snap.ports.iter().filter(|p| {
        p["fixed_ips"][0]["ip_address"]
            .as_str()
            .is_some_and(|a| MEMBERS.contains(&a))
    }) {
        assert!(
            p["security_groups"]
                .as_array()
                .is_some_and(|g| g.contains(&group)),
            "{p}"
        );
    }
    // Then it is quiet.
    assert!(ready(&rec.apply(&k, &req).await).actions.is_empty());
}

/// `ingress_address` on a public request names an existing floating IP: it is bound to the
/// VIP port and answered, never tagged, and stays (unbound) when the request goes. One that
/// does not exist is refused on that field, before anything is built.
#[tokio::test]
async fn ingress_address_adopts_an_existing_floating_ip_and_never_deletes_it() {
    use openstack::network::floating_ips::{self, CreateFloatingIp};
    let sim = start_sim(Provider::Amphora).await;
    let mut s = site(&sim, Provider::Amphora);
    s.manage_security_groups = true;
    let rec = reconciler(&sim, s);
    let theirs = floating_ips::create(
        &session(&sim),
        &CreateFloatingIp {
            floating_network_id: sim.seed_ids().external_network_id.clone(),
            description: Some("someone else's".into()),
            ..Default::default()
        },
    )
    .await
    .expect("a floating IP of another owner");
    let k = key("kubernetes-control-plane", "api-server-external");
    let mut req = external_request(&MEMBERS);
    req.ingress_address = Some(theirs.floating_ip_address.clone());
    let req = req.sealed();

    let outcome = rec.apply(&k, &req).await;
    let r = ready(&outcome);
    assert_eq!(r.address, theirs.floating_ip_address);
    assert_eq!(
        r.floating_ip.as_deref(),
        Some(theirs.floating_ip_address.as_str())
    );
    let snap = sim.snapshot();
    assert_eq!(
        snap.floating_ips.len(),
        1,
        "no floating IP of ours was made"
    );
    assert_eq!(
        snap.floating_ips[0]["port_id"],
        snap.load_balancers[0]["vip_port_id"]
    );
    assert_eq!(snap.floating_ips[0]["tags"], serde_json::json!([]));
    assert_eq!(tagged(&sim, "floatingip", &k), 0);
    // Unchanged request: nothing to do.
    assert!(ready(&rec.apply(&k, &req).await).actions.is_empty());

    rec.remove(&k).await.expect("removal");
    let snap = sim.snapshot();
    assert!(snap.load_balancers.is_empty());
    assert_eq!(snap.floating_ips.len(), 1, "their floating IP stays");
    assert_eq!(
        snap.floating_ips[0]["id"].as_str(),
        Some(theirs.id.as_str())
    );
    assert!(
        snap.floating_ips[0]["port_id"].is_null(),
        "unbound with the VIP port"
    );
    assert!(ours(&sim).is_empty(), "{:?}", ours(&sim));

    // An address no floating IP has: refused on that field, nothing built.
    let mut missing = external_request(&MEMBERS);
    missing.ingress_address = Some("203.0.113.249".into());
    let missing = missing.sealed();
    match rec.apply(&key("k8s", "missing"), &missing).await {
        Outcome::Failed { kind, failure, .. } => {
            assert_eq!(kind, ErrorKind::Unsupported);
            assert!(
                failure
                    .fields()
                    .keys()
                    .any(|f| f.as_str() == "ingress_address"),
                "{failure:?}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(sim.snapshot().load_balancers.is_empty());
}
