//! Removal, repair of ERROR load balancers, garbage collection and security groups, against
//! the simulated cloud.

mod common;

use common::*;
use octavia_integrator::reconcile::{Outcome, Ready};
use octavia_integrator::spec::Site;
use openstack_sim::{Provider, SimHandle};

fn ready(o: Outcome) -> Ready {
    match o {
        Outcome::Ready(r) => r,
        other => panic!("expected a ready outcome, got {other:?}"),
    }
}

fn with_security_groups(sim: &SimHandle) -> Site {
    let mut s = site(sim, Provider::Amphora);
    s.manage_security_groups = true;
    s
}

/// Member ports carrying security group `id`.
fn ports_with_group(sim: &SimHandle, id: &str) -> usize {
    sim.snapshot()
        .ports
        .iter()
        .filter(|p| {
            p["security_groups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|x| x.as_str() == Some(id)))
        })
        .count()
}

#[tokio::test]
async fn security_groups_open_the_member_ports_and_follow_the_members() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, with_security_groups(&sim));
    let k = key("k8s", "api-server-external");
    ready(rec.apply(&k, &external_request(&MEMBERS)).await);
    let snap = sim.snapshot();
    let ours: Vec<_> = snap
        .security_groups
        .iter()
        .filter(|g| {
            g["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("oi-test-"))
        })
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(tagged(&sim, "security_group", &k), 1);
    let sg = ours[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        ports_with_group(&sim, &sg),
        3,
        "every member port carries it"
    );
    let default_sg = sim.seed_ids().default_security_group_id;
    assert_eq!(
        ports_with_group(&sim, &default_sg),
        3,
        "the ports' own groups are kept"
    );
    let rules: Vec<_> = snap
        .security_group_rules
        .iter()
        .filter(|r| r["security_group_id"] == sg.as_str() && r["direction"] == "ingress")
        .collect();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["port_range_min"], 6443);
    assert_eq!(rules[0]["remote_ip_prefix"], "10.5.0.0/24");

    // A member leaves: its port loses our group.
    ready(rec.apply(&k, &external_request(&MEMBERS[..2])).await);
    assert_eq!(ports_with_group(&sim, &sg), 2);

    // Unchanged: nothing changes, security groups included.
    let before = sim.calls().total();
    let r = ready(rec.apply(&k, &external_request(&MEMBERS[..2])).await);
    assert!(r.actions.is_empty(), "{:?}", r.actions);
    assert_eq!(budget(&sim, before).mutations, 0);

    // Removal takes the group off the ports and deletes it.
    rec.remove(&k).await.expect("removal");
    assert_eq!(ports_with_group(&sim, &sg), 0);
    assert!(ours_left(&sim).is_empty(), "{:?}", ours_left(&sim));
}

fn ours_left(sim: &SimHandle) -> Vec<(&'static str, String)> {
    ours(sim)
}

#[tokio::test]
async fn removal_leaves_nothing_with_our_tags_and_is_idempotent() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, with_security_groups(&sim));
    let k = key("k8s", "api-server-external");
    ready(rec.apply(&k, &external_request(&MEMBERS)).await);
    let internal = key("k8s", "api-server-internal");
    ready(
        rec.apply(
            &internal,
            &tcp_request("api-server-internal", &[(6443, 6443)], &MEMBERS, false),
        )
        .await,
    );
    assert_eq!(sim.snapshot().load_balancers.len(), 2);

    let removal = rec.remove(&k).await.expect("removal");
    assert!(removal.deleted.iter().any(|d| d.contains("floating IP")));
    assert!(removal.deleted.iter().any(|d| d.contains("load balancer")));
    let snap = sim.snapshot();
    assert_eq!(
        snap.load_balancers.len(),
        1,
        "the other request is untouched"
    );
    assert!(
        snap.floating_ips.is_empty(),
        "no floating IP left allocated"
    );
    assert_eq!(tagged(&sim, "loadbalancer", &k), 0);
    assert_eq!(tagged(&sim, "security_group", &k), 0);

    assert!(
        rec.remove(&k).await.unwrap().deleted.is_empty(),
        "second removal: nothing to do"
    );
    rec.remove(&internal).await.unwrap();
    assert!(ours(&sim).is_empty(), "{:?}", ours(&sim));
    assert!(sim.snapshot().load_balancers.is_empty());
}

#[tokio::test]
async fn an_error_load_balancer_is_failed_over() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, true);
    let first = ready(rec.apply(&k, &req).await);
    sim.faults()
        .load_balancer_error(&first.load_balancer_id, false);
    wait_for_status(&sim, &first.load_balancer_id, "ERROR").await;

    let repaired = ready(rec.apply(&k, &req).await);
    assert_eq!(
        repaired.load_balancer_id, first.load_balancer_id,
        "failover keeps it"
    );
    assert!(
        repaired.actions.iter().any(|a| a.contains("failover")),
        "{:?}",
        repaired.actions
    );
    assert_eq!(repaired.address, first.address);
    assert_eq!(
        sim.calls()
            .count("PUT", "/load-balancer/v2/lbaas/loadbalancers/{id}/failover"),
        1
    );
}

#[tokio::test]
async fn a_load_balancer_that_stays_in_error_is_rebuilt_keeping_its_floating_ip() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, true);
    let first = ready(rec.apply(&k, &req).await);
    // Goes ERROR now, and every failover or rebuild of this one ends in ERROR too.
    sim.faults()
        .load_balancer_error(&first.load_balancer_id, false);
    sim.faults()
        .load_balancer_error(&first.load_balancer_id, true);
    wait_for_status(&sim, &first.load_balancer_id, "ERROR").await;

    let rebuilt = ready(rec.apply(&k, &req).await);
    assert_ne!(rebuilt.load_balancer_id, first.load_balancer_id);
    assert_eq!(
        rebuilt.address, first.address,
        "the public address survives the rebuild"
    );
    assert!(
        rebuilt.actions.iter().any(|a| a.contains("rebuilding")),
        "{:?}",
        rebuilt.actions
    );
    let snap = sim.snapshot();
    assert_eq!(snap.load_balancers.len(), 1);
    assert_eq!(snap.floating_ips.len(), 1);
    assert_eq!(snap.members.len(), 3);
}

#[tokio::test]
async fn ovn_error_is_rebuilt_without_failover() {
    let sim = start_sim(Provider::Ovn).await;
    let rec = reconciler(&sim, site(&sim, Provider::Ovn));
    let k = key("k8s", "svc");
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, false);
    let first = ready(rec.apply(&k, &req).await);
    // Goes ERROR now, and every failover or rebuild of this one ends in ERROR too.
    sim.faults()
        .load_balancer_error(&first.load_balancer_id, false);
    sim.faults()
        .load_balancer_error(&first.load_balancer_id, true);
    wait_for_status(&sim, &first.load_balancer_id, "ERROR").await;
    let rebuilt = ready(rec.apply(&k, &req).await);
    assert_ne!(rebuilt.load_balancer_id, first.load_balancer_id);
    assert_eq!(
        sim.calls()
            .count("PUT", "/load-balancer/v2/lbaas/loadbalancers/{id}/failover"),
        0
    );
}

#[tokio::test]
async fn repairs_are_bounded() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, false);
    ready(rec.apply(&k, &req).await);
    // Every load balancer with this name goes ERROR: rebuilding cannot help.
    let name = sim.snapshot().load_balancers[0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let id = sim.snapshot().load_balancers[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    sim.faults().load_balancer_error(&id, false);
    sim.faults().load_balancer_error(&name, true);
    wait_for_status(&sim, &id, "ERROR").await;
    let mut gave_up = false;
    for _ in 0..6 {
        match rec.apply(&k, &req).await {
            Outcome::Failed { failure, .. } => {
                assert!(
                    failure.message_text().unwrap().contains("repair attempts"),
                    "{failure:?}"
                );
                gave_up = true;
                break;
            }
            Outcome::Converging { .. } => {}
            Outcome::Ready(r) => panic!("cannot be ready: {r:?}"),
        }
    }
    assert!(gave_up, "repairs stop after the configured attempts");
    if let Some(status) = rec.status(&k).await.unwrap() {
        assert_eq!(status.repair_attempts, 4, "visible in status: {status:?}");
    }
    assert!(
        sim.snapshot().load_balancers.len() <= 1,
        "never more than one at a time"
    );
}

/// The race GC must not lose: a request registered while the cloud is being listed (here:
/// right after the last list call) keeps its load balancer, floating IP and security group.
#[tokio::test]
async fn gc_keeps_what_a_request_registered_after_the_listing_owns() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, with_security_groups(&sim));
    let late = key("k8s", "late");
    let gone = key("k8s", "gone");
    ready(
        rec.apply(&late, &tcp_request("late", &[(443, 6443)], &MEMBERS, true))
            .await,
    );
    ready(
        rec.apply(&gone, &tcp_request("gone", &[(8443, 6443)], &MEMBERS, true))
            .await,
    );
    let sg_lists = || sim.calls().count("GET", "/networking/v2.0/security-groups");
    let before = sg_lists();
    // `late` is registered once the listing is over: asked before it, GC would see no owner.
    let live = || {
        let registered = sg_lists() > before;
        std::future::ready(if registered {
            vec![late.clone()]
        } else {
            vec![]
        })
    };
    let done = rec.gc_with(live, false).await.unwrap();
    assert!(sg_lists() > before, "the listing happened");
    assert!(done.iter().all(|o| !o.label.contains("late")), "{done:?}");
    assert_eq!(tagged(&sim, "loadbalancer", &late), 1);
    assert_eq!(tagged(&sim, "floatingip", &late), 1);
    assert_eq!(tagged(&sim, "security_group", &late), 1);
    assert_eq!(
        tagged(&sim, "loadbalancer", &gone),
        0,
        "a real orphan still goes"
    );
    assert_eq!(tagged(&sim, "floatingip", &gone), 0);
}

#[tokio::test]
async fn gc_finds_what_no_request_owns_and_deletes_only_with_yes() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, with_security_groups(&sim));
    let keep = key("k8s", "keep");
    let gone = key("k8s", "gone");
    ready(
        rec.apply(&keep, &tcp_request("keep", &[(443, 6443)], &MEMBERS, true))
            .await,
    );
    ready(
        rec.apply(&gone, &tcp_request("gone", &[(8443, 6443)], &MEMBERS, true))
            .await,
    );

    let dry = rec.gc(std::slice::from_ref(&keep), true).await.unwrap();
    let kinds: Vec<&str> = dry.iter().map(|o| o.kind).collect();
    assert!(
        kinds.contains(&"load balancer")
            && kinds.contains(&"floating IP")
            && kinds.contains(&"security group"),
        "{dry:?}"
    );
    assert!(dry.iter().all(|o| !o.deleted));
    assert_eq!(
        sim.snapshot().load_balancers.len(),
        2,
        "a dry run deletes nothing"
    );

    let done = rec.gc(std::slice::from_ref(&keep), false).await.unwrap();
    assert_eq!(done.len(), dry.len());
    assert_eq!(tagged(&sim, "loadbalancer", &gone), 0);
    assert_eq!(tagged(&sim, "floatingip", &gone), 0);
    assert_eq!(tagged(&sim, "security_group", &gone), 0);
    assert_eq!(tagged(&sim, "loadbalancer", &keep), 1);
    assert_eq!(tagged(&sim, "floatingip", &keep), 1);
    assert!(rec
        .gc(std::slice::from_ref(&keep), false)
        .await
        .unwrap()
        .is_empty());
    // The survivor still converges without changes.
    let r = ready(
        rec.apply(&keep, &tcp_request("keep", &[(443, 6443)], &MEMBERS, true))
            .await,
    );
    assert!(r.actions.is_empty(), "{:?}", r.actions);
}

#[tokio::test]
async fn status_reports_the_load_balancer() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    assert!(rec.status(&k).await.unwrap().is_none());
    let r = ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS, true))
            .await,
    );
    let s = rec.status(&k).await.unwrap().expect("a load balancer");
    assert_eq!(s.load_balancer_id, r.load_balancer_id);
    assert_eq!(s.floating_ip, r.floating_ip);
    assert_eq!(s.provisioning_status, "ACTIVE");
    assert_eq!(s.members_total, 3);
    assert_eq!(s.repair_attempts, 0);
}

/// Waits (bounded, by looking at the simulator's state: a one-shot ERROR applies at the next
/// look) until the load balancer shows `status`.
async fn wait_for_status(sim: &SimHandle, id: &str, status: &str) {
    for _ in 0..2000 {
        let snap = sim.snapshot();
        if snap
            .load_balancers
            .iter()
            .any(|lb| lb["id"] == id && lb["provisioning_status"] == status)
        {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("load balancer {id} never showed {status}");
}

#[tokio::test]
async fn two_load_balancers_with_one_requests_tags_are_an_explicit_error() {
    use openstack::load_balancer::load_balancers::{self, CreateLoadBalancer};
    let sim = start_sim(Provider::Ovn).await;
    let rec = reconciler(&sim, site(&sim, Provider::Ovn));
    let k = key("k8s", "svc");
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, false);
    ready(rec.apply(&k, &req).await);
    // Someone copies our tags onto another load balancer.
    let tags: Vec<String> = sim.snapshot().load_balancers[0]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let copy = CreateLoadBalancer {
        name: Some("copy".into()),
        vip_subnet_id: Some(sim.seed_ids().vip_subnet_id),
        tags,
        ..Default::default()
    };
    load_balancers::create(rec.session(), &copy).await.unwrap();
    match rec.apply(&k, &req).await {
        Outcome::Failed { failure, .. } => {
            let text = failure.message_text().unwrap();
            assert!(text.contains("2 load balancers carry the tags"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.snapshot().load_balancers.len(),
        2,
        "nothing deleted on a guess"
    );
}

#[tokio::test]
async fn a_load_balancer_in_error_is_removed() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let r = ready(
        rec.apply(&k, &tcp_request("svc", &[(443, 6443)], &MEMBERS, true))
            .await,
    );
    sim.faults().load_balancer_error(&r.load_balancer_id, false);
    sim.faults().load_balancer_error(&r.load_balancer_id, true);
    wait_for_status(&sim, &r.load_balancer_id, "ERROR").await;
    rec.remove(&k)
        .await
        .expect("an ERROR load balancer is deletable");
    assert!(sim.snapshot().load_balancers.is_empty());
    assert!(sim.snapshot().floating_ips.is_empty());
    assert!(ours(&sim).is_empty());
}

/// The id of the security group carrying `key`'s request tag.
fn group_of(sim: &SimHandle, key: &octavia_integrator::spec::LbIdentity) -> String {
    let tag = octavia_integrator::spec::request_tag(CLUSTER, key);
    let groups: Vec<String> = sim
        .snapshot()
        .tagged(&tag)
        .into_iter()
        .filter(|(k, _)| *k == "security_group")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(groups.len(), 1, "{key:?}: {groups:?}");
    groups[0].clone()
}

/// Security groups (with their rules) that carry none of our tags, as the cloud has them.
fn foreign_groups(sim: &SimHandle) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let snap = sim.snapshot();
    let ours = |v: &serde_json::Value| {
        v["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == octavia_integrator::spec::MANAGED_TAG))
    };
    let groups: Vec<_> = snap
        .security_groups
        .iter()
        .filter(|g| !ours(g))
        .cloned()
        .collect();
    let ids: Vec<&str> = groups.iter().filter_map(|g| g["id"].as_str()).collect();
    let rules = snap
        .security_group_rules
        .iter()
        .filter(|r| {
            r["security_group_id"]
                .as_str()
                .is_some_and(|g| ids.contains(&g))
        })
        .cloned()
        .collect();
    (groups, rules)
}

#[tokio::test]
async fn requests_sharing_member_ports_keep_each_others_groups() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, with_security_groups(&sim));
    let external = key("k8s", "api-server-external");
    let internal = key("k8s", "api-server-internal");
    let external_request = external_request(&MEMBERS);
    let internal_request = tcp_request("api-server-internal", &[(6443, 6443)], &MEMBERS, false);
    let foreign_before = foreign_groups(&sim);

    // Both read the member ports before either writes them: each must add only its group.
    let (a, b) = tokio::join!(
        rec.apply(&external, &external_request),
        rec.apply(&internal, &internal_request),
    );
    ready(a);
    ready(b);
    let (ext_sg, int_sg) = (group_of(&sim, &external), group_of(&sim, &internal));
    let default_sg = sim.seed_ids().default_security_group_id;
    for sg in [&ext_sg, &int_sg, &default_sg] {
        assert_eq!(
            ports_with_group(&sim, sg),
            3,
            "group {sg} on every member port"
        );
    }

    // The daemon's deep re-check finds nothing to change.
    let before = sim.calls().total();
    let a = ready(rec.apply_deep(&external, &external_request).await);
    let b = ready(rec.apply_deep(&internal, &internal_request).await);
    assert!(a.actions.is_empty() && b.actions.is_empty(), "{a:?} {b:?}");
    assert_eq!(budget(&sim, before).mutations, 0);

    // Removal takes off only the removed request's group.
    rec.remove(&external).await.expect("removal");
    assert_eq!(ports_with_group(&sim, &ext_sg), 0);
    assert_eq!(
        ports_with_group(&sim, &int_sg),
        3,
        "the other request's group stays"
    );
    assert_eq!(
        ports_with_group(&sim, &default_sg),
        3,
        "the ports' own group stays"
    );
    assert_eq!(
        foreign_groups(&sim),
        foreign_before,
        "a security group we did not create was changed"
    );
}
