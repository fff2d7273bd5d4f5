//! A new leader (nothing learned, nothing remembered) adopting load balancers built by another:
//! the pools' member digest tags, written after each answer ([`Reconciler::after_answer`]),
//! stand for the members, so only the load balancers whose digest cannot vouch for them (none
//! written, or a member added or removed out of band since) cost a status tree. Counts only,
//! never time.

mod common;

use common::*;
use octavia_integrator::reconcile::digest::MEMBERS_TAG_PREFIX;
use octavia_integrator::reconcile::{Outcome, Reconciler, Verdict};
use octavia_integrator::relation::v1::Request;
use octavia_integrator::spec::LbIdentity;
use openstack::load_balancer::members;
use openstack_sim::{Delays, Provider, Sim, SimHandle};
use serde_json::Value;

/// Octavia's page cap here: the lists take pages, as at a real site.
const PAGE: usize = 4;

const STATUS_TREE: &str = "/load-balancer/v2/lbaas/loadbalancers/{id}/status";
const POOL: &str = "/load-balancer/v2/lbaas/pools/{id}";

async fn paged_sim() -> SimHandle {
    Sim::builder()
        .provider(Provider::Amphora)
        .delay_scale(SCALE)
        .seed(15)
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

fn pool_of(sim: &SimHandle, name: &str) -> Value {
    let lb = sim
        .snapshot()
        .load_balancers
        .into_iter()
        .find(|l| l["name"].as_str().is_some_and(|n| n.ends_with(name)))
        .expect("its load balancer");
    sim.snapshot()
        .pools
        .into_iter()
        .find(|p| p["loadbalancers"][0]["id"] == lb["id"])
        .expect("its pool")
}

fn digest_tags(pool: &Value) -> Vec<String> {
    pool["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|t| t.starts_with(MEMBERS_TAG_PREFIX))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_new_leader_reads_only_what_the_member_digests_cannot_vouch_for() {
    let sim = paged_sim().await;
    let leader = reconciler(&sim, site(&sim, Provider::Amphora));
    let mut reqs = requests(10);
    let untagged = reqs[9].0.clone();
    for (i, (k, r)) in reqs.iter().enumerate() {
        let before = sim.calls().total();
        let outcome = leader.apply(k, r).await;
        assert!(matches!(outcome, Outcome::Ready(_)), "{k}: {outcome:?}");
        let answered = sim.calls().total();
        if k == &untagged {
            continue; // as built by a version that wrote no digest
        }
        leader.after_answer(k, r, &outcome).await;
        // After the answer: one status tree and one pool PUT (one pool), nothing else.
        let after = sim.calls().since(answered);
        assert_eq!(after.total(), 2, "{k}: {:?}", after.by_route());
        assert_eq!(after.count("GET", STATUS_TREE), 1);
        assert_eq!(after.count("PUT", POOL), 1);
        assert!(answered > before);
        if i == 0 {
            // Nothing changed: nothing to write.
            let again = leader.apply(k, r).await;
            let quiet = sim.calls().total();
            leader.after_answer(k, r, &again).await;
            assert_eq!(
                sim.calls().total(),
                quiet,
                "an unchanged answer writes nothing"
            );
        }
    }
    sim.settle();
    for (k, _) in &reqs {
        let tags = digest_tags(&pool_of(&sim, &k.name));
        assert_eq!(tags.len(), usize::from(k != &untagged), "{k}: {tags:?}");
    }
    // The old leader remembers what it wrote: its next check reads no member.
    let (verdicts, calls) = check(&sim, &leader, &reqs[..9]).await;
    assert!(to_apply(&reqs[..9], &verdicts).is_empty(), "{verdicts:?}");
    assert_eq!(calls.count("GET", STATUS_TREE), 0, "{:?}", calls.by_route());

    // Out of band, after the digest was written: a member of api-08's pool deleted.
    let changed = reqs[8].0.clone();
    let pool = pool_of(&sim, &changed.name);
    let member = sim
        .snapshot()
        .members
        .into_iter()
        .find(|m| m["pool_id"] == pool["id"])
        .expect("a member");
    members::delete(
        &session(&sim),
        pool["id"].as_str().unwrap(),
        member["id"].as_str().unwrap(),
    )
    .await
    .expect("out-of-band member delete");
    sim.settle();
    // And the request of api-07 now names a fourth backend: its digest says it differs.
    let wanted = reqs[7].0.clone();
    let mut more: Vec<&str> = MEMBERS.to_vec();
    more.push("10.5.0.13");
    reqs[7].1 = tcp_request(&wanted.name, &[(443, 6443)], &more, false);

    // A new leader: nothing learned. Status trees only for api-08 (ids changed) and api-09
    // (no digest); api-07 differs without a read; no mutation.
    let new = reconciler(&sim, site(&sim, Provider::Amphora));
    let (verdicts, calls) = check(&sim, &new, &reqs).await;
    assert_eq!(
        to_apply(&reqs, &verdicts),
        vec![wanted.clone(), changed.clone()],
        "{verdicts:?}"
    );
    assert_eq!(calls.count("GET", STATUS_TREE), 2, "{:?}", calls.by_route());
    assert_eq!(calls.cloud_mutations(), 0, "{:?}", calls.by_route());
    let pages = 10usize.div_ceil(PAGE);
    assert!(
        calls.total() <= 2 + 5 * pages,
        "lists by the page plus the two trees: {:?}",
        calls.by_route()
    );

    // The new leader repairs the two and writes their digests; then it vouches for everything
    // with no status tree, and so does a third leader that learned nothing.
    for k in [&wanted, &changed] {
        let r = &reqs.iter().find(|(key, _)| key == k).unwrap().1;
        let outcome = new.apply(k, r).await;
        assert!(
            matches!(&outcome, Outcome::Ready(ready) if !ready.actions.is_empty()),
            "{outcome:?}"
        );
        new.after_answer(k, r, &outcome).await;
    }
    sim.settle();
    for rec in [&new, &reconciler(&sim, site(&sim, Provider::Amphora))] {
        let (verdicts, calls) = check(&sim, rec, &reqs).await;
        assert!(to_apply(&reqs, &verdicts).is_empty(), "{verdicts:?}");
        assert_eq!(
            calls.count("GET", STATUS_TREE),
            usize::from(!std::ptr::eq(rec, &new)),
            "only api-09, which never got a digest, is read by a leader that learned nothing: {:?}",
            calls.by_route()
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_change_right_after_a_digest_write_waits_for_the_load_balancer() {
    // The tags-only pool PUT makes the load balancer PENDING_UPDATE (as on real Octavia);
    // a long update delay keeps it there while the next change comes in.
    let sim = Sim::builder()
        .provider(Provider::Amphora)
        .delay_scale(1.0)
        .delays(
            Provider::Amphora,
            Delays {
                create: 0.05,
                update: 1.5,
                delete: 0.05,
                failover: 0.05,
            },
        )
        .seed(16)
        .build()
        .start()
        .await
        .expect("the simulator starts on loopback");
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "api");
    let r = tcp_request("api", &[(443, 6443)], &MEMBERS, false);
    let outcome = rec.apply(&k, &r).await;
    assert!(matches!(outcome, Outcome::Ready(_)), "{outcome:?}");
    rec.after_answer(&k, &r, &outcome).await;
    let lb = sim.snapshot().load_balancers[0].clone();
    assert_eq!(lb["provisioning_status"], "PENDING_UPDATE", "{lb}");

    // A raw member change now is refused as immutable, as Octavia does.
    let pool = pool_of(&sim, "api");
    let err = members::batch_update(&session(&sim), pool["id"].as_str().unwrap(), &[], true)
        .await
        .expect_err("the pool is busy");
    assert!(err.is_immutable_conflict(), "{err}");

    // The reconciler's member change copes: it waits for ACTIVE and then changes.
    let fewer = tcp_request("api", &[(443, 6443)], &MEMBERS[..2], false);
    let outcome = rec.apply(&k, &fewer).await;
    assert!(
        matches!(&outcome, Outcome::Ready(ready) if !ready.actions.is_empty()),
        "{outcome:?}"
    );
    sim.settle();
    let count = sim
        .snapshot()
        .members
        .iter()
        .filter(|m| m["pool_id"] == pool["id"])
        .count();
    assert_eq!(count, 2);
    sim.shutdown().await;
}
