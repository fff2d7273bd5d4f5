//! The bulk resync ([`Reconciler::check_many`]) against the simulated cloud: checking N
//! unchanged requests costs calls per page of each kind, never calls per request, and no
//! mutation; drift of one request (a member, a listener, an ERROR load balancer) sends exactly
//! that one down the per-request path, which repairs it and leaves the others untouched.
//! Counts only, never time.

mod common;

use common::*;
use futures::future::join_all;
use octavia_integrator::reconcile::{Outcome, Reconciler, Verdict};
use octavia_integrator::relation::v1::Request;
use octavia_integrator::spec::LbIdentity;
use openstack::load_balancer::{listeners, members};
use openstack_sim::{Provider, Sim, SimHandle};
use serde_json::Value;

/// Octavia's page cap in these tests: 17 and 30 requests both take two pages of each kind.
const PAGE: usize = 16;

const STATUS_TREE: &str = "/load-balancer/v2/lbaas/loadbalancers/{id}/status";

async fn paged_sim() -> SimHandle {
    Sim::builder()
        .provider(Provider::Amphora)
        .delay_scale(SCALE)
        .seed(11)
        .page_max(PAGE)
        .build()
        .start()
        .await
        .expect("the simulator starts on loopback")
}

fn requests(k: usize) -> Vec<(LbIdentity, Request)> {
    (0..k)
        .map(|i| {
            let name = format!("api-{i:02}");
            let r = tcp_request(&name, &[(443, 6443)], &MEMBERS, i.is_multiple_of(2));
            (key("k8s", &name), r)
        })
        .collect()
}

/// Builds every request (a few at a time) and checks each is answered.
async fn converge(rec: &Reconciler, reqs: &[(LbIdentity, Request)]) {
    let outcomes = join_all(reqs.iter().map(|(k, r)| rec.apply(k, r))).await;
    for (o, (k, _)) in outcomes.iter().zip(reqs) {
        assert!(matches!(o, Outcome::Ready(_)), "{k}: {o:?}");
    }
}

/// Runs one bulk check; returns the verdicts and the calls it made.
async fn check(
    sim: &SimHandle,
    rec: &Reconciler,
    reqs: &[(LbIdentity, Request)],
) -> (Vec<Verdict>, openstack_sim::Calls) {
    let before = sim.calls().total();
    let verdicts = rec
        .check_many(reqs)
        .await
        .expect("the cluster lists")
        .verdicts;
    (verdicts, sim.calls().since(before))
}

fn to_apply(reqs: &[(LbIdentity, Request)], verdicts: &[Verdict]) -> Vec<LbIdentity> {
    reqs.iter()
        .zip(verdicts)
        .filter(|(_, v)| matches!(v, Verdict::Apply(_)))
        .map(|((k, _), _)| k.clone())
        .collect()
}

/// The calls of an unchanged, warm resync of `k` requests.
async fn warm_resync_calls(k: usize) -> openstack_sim::Calls {
    let sim = paged_sim().await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let reqs = requests(k);
    converge(&rec, &reqs).await;

    // Nothing remembered yet: one status tree per request, then the members are known.
    let (verdicts, calls) = check(&sim, &rec, &reqs).await;
    assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
    assert_eq!(calls.cloud_mutations(), 0, "{:?}", calls.by_route());
    assert_eq!(calls.count("GET", STATUS_TREE), k, "{:?}", calls.by_route());

    let (verdicts, calls) = check(&sim, &rec, &reqs).await;
    assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
    assert_eq!(calls.cloud_mutations(), 0, "{:?}", calls.by_route());
    assert_eq!(calls.count("GET", STATUS_TREE), 0, "{:?}", calls.by_route());
    for (v, (key, r)) in verdicts.iter().zip(&reqs) {
        let Verdict::Unchanged(ready) = v else {
            unreachable!()
        };
        assert!(ready.actions.is_empty());
        assert_eq!(
            ready.floating_ip.is_some(),
            r.public,
            "{key}: the answer is the floating IP exactly when public"
        );
    }
    sim.shutdown().await;
    calls
}

#[tokio::test]
async fn an_unchanged_resync_costs_calls_per_page_not_per_request() {
    let small = warm_resync_calls(17).await;
    let large = warm_resync_calls(30).await;
    assert_eq!(
        small.by_route(),
        large.by_route(),
        "17 and 30 requests fill the same pages, so they cost the same calls"
    );
    // Four Octavia kinds over two pages each, one Neutron list (unpaged), no auth.
    assert!(
        large.total() <= 4 * 2 + 1,
        "{} calls: {:?}",
        large.total(),
        large.by_route()
    );
    assert_eq!(
        large.count("GET", "/load-balancer/v2/lbaas/loadbalancers"),
        2,
        "{:?}",
        large.by_route()
    );
}

/// Everything in the cloud except what belongs to load balancer `lb` (by id or parent).
fn others(sim: &SimHandle, lb: &str) -> Vec<Value> {
    let snap = sim.snapshot();
    let not_of = |v: &&Value| {
        v["id"].as_str() != Some(lb)
            && !v["loadbalancers"]
                .as_array()
                .is_some_and(|a| a.iter().any(|r| r["id"].as_str() == Some(lb)))
    };
    let pools_of_lb: Vec<String> = snap
        .pools
        .iter()
        .filter(|p| !not_of(p))
        .filter_map(|p| p["id"].as_str().map(str::to_string))
        .collect();
    let mut out: Vec<Value> = Vec::new();
    out.extend(snap.load_balancers.iter().filter(not_of).cloned());
    out.extend(snap.listeners.iter().filter(not_of).cloned());
    out.extend(snap.pools.iter().filter(not_of).cloned());
    out.extend(
        snap.members
            .iter()
            .filter(|m| {
                !pools_of_lb
                    .iter()
                    .any(|p| m["pool_id"].as_str() == Some(p.as_str()))
            })
            .cloned(),
    );
    out.extend(snap.floating_ips.iter().cloned());
    out
}

fn lb_id(sim: &SimHandle, name: &str) -> String {
    sim.snapshot()
        .load_balancers
        .iter()
        .find(|lb| lb["name"].as_str().is_some_and(|n| n.ends_with(name)))
        .and_then(|lb| lb["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no load balancer named *{name}"))
}

/// The per-request pass the daemon runs for the requests the bulk check sends it; then the
/// next check finds nothing to do, reading `trees` status trees (1: the repair changed the
/// members' pool, so they are read again; 0: the repair's last look found them right and
/// they were remembered).
async fn repair_flagged(
    sim: &SimHandle,
    rec: &Reconciler,
    reqs: &[(LbIdentity, Request)],
    drifted: &LbIdentity,
    trees: usize,
) {
    let (verdicts, calls) = check(sim, rec, reqs).await;
    assert_eq!(
        calls.cloud_mutations(),
        0,
        "the check itself never changes anything"
    );
    assert_eq!(
        to_apply(reqs, &verdicts),
        vec![drifted.clone()],
        "{verdicts:?}"
    );
    let request = &reqs.iter().find(|(k, _)| k == drifted).unwrap().1;
    match rec.apply_deep(drifted, request).await {
        Outcome::Ready(r) => assert!(!r.actions.is_empty(), "{drifted} was repaired: {r:?}"),
        other => panic!("{drifted}: {other:?}"),
    }
    // Back to nothing to do; the others cost no call of their own.
    let (verdicts, calls) = check(sim, rec, reqs).await;
    assert!(to_apply(reqs, &verdicts).is_empty(), "{verdicts:?}");
    assert_eq!(calls.cloud_mutations(), 0);
    assert_eq!(
        calls.count("GET", STATUS_TREE),
        trees,
        "{drifted}: {:?}",
        calls.by_route()
    );
}

#[tokio::test]
async fn drift_of_one_request_is_repaired_alone() {
    let sim = paged_sim().await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let reqs = requests(12);
    converge(&rec, &reqs).await;
    for _ in 0..2 {
        let (verdicts, _) = check(&sim, &rec, &reqs).await;
        assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
    }
    let session = session(&sim);

    // 1. A member deleted out of band: only that request differs; its pool is refilled.
    let victim = &reqs[3].0;
    let lb = lb_id(&sim, &victim.name);
    let before = others(&sim, &lb);
    let member = sim
        .snapshot()
        .members
        .into_iter()
        .find(|m| {
            sim.snapshot().pools.iter().any(|p| {
                p["id"] == m["pool_id"] && p["loadbalancers"][0]["id"].as_str() == Some(lb.as_str())
            })
        })
        .expect("a member of the victim's pool");
    members::delete(
        &session,
        member["pool_id"].as_str().unwrap(),
        member["id"].as_str().unwrap(),
    )
    .await
    .unwrap();
    sim.settle();
    repair_flagged(&sim, &rec, &reqs, victim, 1).await;
    sim.settle();
    let pool = member["pool_id"].as_str().unwrap();
    let count = sim
        .snapshot()
        .members
        .iter()
        .filter(|m| m["pool_id"].as_str() == Some(pool))
        .count();
    assert_eq!(count, MEMBERS.len(), "the member is back");
    assert_eq!(others(&sim, &lb), before, "the others are untouched");

    // 2. A listener deleted out of band.
    let victim = &reqs[5].0;
    let lb = lb_id(&sim, &victim.name);
    let before = others(&sim, &lb);
    let listener = sim
        .snapshot()
        .listeners
        .into_iter()
        .find(|l| l["loadbalancers"][0]["id"].as_str() == Some(lb.as_str()))
        .expect("the victim's listener");
    listeners::delete(&session, listener["id"].as_str().unwrap())
        .await
        .unwrap();
    sim.settle();
    repair_flagged(&sim, &rec, &reqs, victim, 1).await;
    sim.settle();
    assert!(
        sim.snapshot()
            .listeners
            .iter()
            .any(|l| l["loadbalancers"][0]["id"].as_str() == Some(lb.as_str())),
        "a listener is back"
    );
    assert_eq!(
        sim.snapshot()
            .pools
            .iter()
            .filter(|p| p["loadbalancers"][0]["id"].as_str() == Some(lb.as_str()))
            .count(),
        1,
        "the pool the deleted listener left behind (no longer in the status tree) is gone"
    );
    assert_eq!(others(&sim, &lb), before, "the others are untouched");

    // 3. A load balancer in ERROR: repaired (failover), the others untouched.
    let victim = &reqs[7].0;
    let lb = lb_id(&sim, &victim.name);
    let before = others(&sim, &lb);
    sim.faults().load_balancer_error(&lb, false);
    sim.settle();
    assert!(sim
        .snapshot()
        .load_balancers
        .iter()
        .any(|l| l["id"].as_str() == Some(lb.as_str()) && l["provisioning_status"] == "ERROR"));
    repair_flagged(&sim, &rec, &reqs, victim, 0).await;
    sim.settle();
    assert_eq!(others(&sim, &lb), before, "the others are untouched");
    assert_eq!(sim.snapshot().load_balancers.len(), reqs.len());
    sim.shutdown().await;
}

#[tokio::test]
async fn members_are_read_once_after_a_restart_and_remembered_by_a_no_op_apply() {
    let sim = paged_sim().await;
    let reqs = requests(12);
    converge(&reconciler(&sim, site(&sim, Provider::Amphora)), &reqs).await;

    // A restarted reconciler remembers nothing: one status tree per request, once.
    let restarted = reconciler(&sim, site(&sim, Provider::Amphora));
    for trees in [reqs.len(), 0] {
        let (verdicts, calls) = check(&sim, &restarted, &reqs).await;
        assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
        assert_eq!(calls.count("GET", STATUS_TREE), trees);
        assert_eq!(calls.cloud_mutations(), 0);
    }

    // A daemon re-applies everything when it starts: those applies change nothing and
    // remember the members they read, so its first resync costs the lists only.
    let started = reconciler(&sim, site(&sim, Provider::Amphora));
    for (k, r) in &reqs {
        match started.apply(k, r).await {
            Outcome::Ready(ready) => assert!(ready.actions.is_empty(), "{k}: {ready:?}"),
            other => panic!("{k}: {other:?}"),
        }
    }
    let (verdicts, calls) = check(&sim, &started, &reqs).await;
    assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
    assert_eq!(calls.count("GET", STATUS_TREE), 0, "{:?}", calls.by_route());

    // A request asking for other backends: the remembered members no longer match it, so
    // they are read (not trusted) before it is sent down the per-request path.
    let mut changed = reqs.clone();
    changed[4].1 = tcp_request(&changed[4].0.name, &[(443, 6443)], &MEMBERS[..2], true);
    let (verdicts, calls) = check(&sim, &started, &changed).await;
    assert_eq!(to_apply(&changed, &verdicts), vec![changed[4].0.clone()]);
    assert_eq!(calls.count("GET", STATUS_TREE), 1, "{:?}", calls.by_route());
    assert_eq!(calls.cloud_mutations(), 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn managed_security_groups_are_checked_from_one_list_too() {
    let sim = paged_sim().await;
    let mut site = site(&sim, Provider::Amphora);
    site.manage_security_groups = true;
    let rec = reconciler(&sim, site);
    let reqs = requests(5);
    // One at a time: the requests share the member ports.
    for (k, r) in &reqs {
        assert!(matches!(rec.apply(k, r).await, Outcome::Ready(_)), "{k}");
    }
    let (verdicts, _) = check(&sim, &rec, &reqs).await;
    assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
    let (verdicts, calls) = check(&sim, &rec, &reqs).await;
    assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
    let routes = calls.by_route();
    assert_eq!(calls.cloud_mutations(), 0, "{routes:?}");
    assert_eq!(
        routes.get("GET /networking/v2.0/security-groups"),
        Some(&1),
        "{routes:?}"
    );
    assert_eq!(
        routes.get("GET /networking/v2.0/ports"),
        Some(&1),
        "{routes:?}"
    );
    assert_eq!(calls.count("GET", STATUS_TREE), 0, "{routes:?}");

    // A rule removed out of band: only that request differs, and its pass puts it back.
    let victim = &reqs[2].0;
    let tag = octavia_integrator::spec::request_tag(CLUSTER, victim);
    let snap = sim.snapshot();
    let group = snap
        .security_groups
        .iter()
        .find(|g| g["tags"].as_array().unwrap().iter().any(|t| t == &tag))
        .expect("the victim's group");
    let rule = snap
        .security_group_rules
        .iter()
        .find(|r| r["security_group_id"] == group["id"] && r["direction"] == "ingress")
        .expect("one of its ingress rules");
    openstack::network::security_groups::delete_rule(&session(&sim), rule["id"].as_str().unwrap())
        .await
        .unwrap();
    let (verdicts, calls) = check(&sim, &rec, &reqs).await;
    assert_eq!(
        to_apply(&reqs, &verdicts),
        vec![victim.clone()],
        "{verdicts:?}"
    );
    assert_eq!(calls.cloud_mutations(), 0);
    let request = &reqs[2].1;
    assert!(
        matches!(rec.apply_deep(victim, request).await, Outcome::Ready(r) if !r.actions.is_empty())
    );
    let (verdicts, _) = check(&sim, &rec, &reqs).await;
    assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_cold_start_with_what_was_learned_resyncs_from_the_lists_alone() {
    let sim = paged_sim().await;
    let reqs = requests(20);
    let first = reconciler(&sim, site(&sim, Provider::Amphora));
    converge(&first, &reqs).await;
    let (verdicts, _) = check(&sim, &first, &reqs).await;
    assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
    let learned = first.learned();
    drop(first);

    // A restarted process given what the last one learned (the daemon keeps it in its store):
    // no status tree at all, calls per page only.
    let cold = reconciler(&sim, site(&sim, Provider::Amphora));
    cold.restore_learned(&learned);
    let (verdicts, calls) = check(&sim, &cold, &reqs).await;
    assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
    assert_eq!(calls.count("GET", STATUS_TREE), 0, "{:?}", calls.by_route());
    assert_eq!(calls.cloud_mutations(), 0);
    assert!(calls.total() <= 4 * 2 + 1, "{:?}", calls.by_route());
    // It learned the cloud's pace too.
    assert!(cold.paces().pace("create").is_some());

    // A member deleted out of band is noticed from the pool list (its member ids), with one
    // status tree read for that request only.
    let victim = &reqs[7].0;
    let lb = lb_id(&sim, &victim.name);
    let member = sim
        .snapshot()
        .members
        .into_iter()
        .find(|m| {
            sim.snapshot().pools.iter().any(|p| {
                p["id"] == m["pool_id"] && p["loadbalancers"][0]["id"].as_str() == Some(lb.as_str())
            })
        })
        .expect("a member of the victim's pool");
    members::delete(
        &session(&sim),
        member["pool_id"].as_str().unwrap(),
        member["id"].as_str().unwrap(),
    )
    .await
    .expect("out-of-band member delete");
    sim.settle();
    let (verdicts, calls) = check(&sim, &cold, &reqs).await;
    assert_eq!(to_apply(&reqs, &verdicts), vec![victim.clone()]);
    assert_eq!(calls.count("GET", STATUS_TREE), 1, "{:?}", calls.by_route());

    // Garbage in the store costs reads, never correctness.
    let fresh = reconciler(&sim, site(&sim, Provider::Amphora));
    fresh.restore_learned("{not json");
    let (verdicts, calls) = check(&sim, &fresh, &reqs).await;
    assert_eq!(to_apply(&reqs, &verdicts), vec![victim.clone()]);
    assert_eq!(
        calls.count("GET", STATUS_TREE),
        reqs.len(),
        "{:?}",
        calls.by_route()
    );
    sim.shutdown().await;
}
