//! Converging at the cloud's pace (issue 15), against the simulated cloud: waits after a
//! change learn how long the cloud took, per kind of change, and an internal request with no
//! load balancer yet reads no floating-IP list (its answer is known). Counts only, never time.

mod common;

use common::*;
use octavia_integrator::reconcile::Outcome;
use openstack_sim::Provider;

const FIP_LIST: (&str, &str) = ("GET", "/networking/v2.0/floatingips");

#[tokio::test]
async fn an_internal_create_reads_no_floating_ip_list_and_waits_learn_the_pace() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    assert_eq!(rec.paces().pace("create"), None, "nothing learned yet");

    let internal = key("k8s", "api-internal");
    let before = sim.calls().total();
    let out = rec
        .apply(
            &internal,
            &tcp_request("api-internal", &[(6443, 6443)], &MEMBERS, false),
        )
        .await;
    assert!(matches!(out, Outcome::Ready(_)), "{out:?}");
    let calls = sim.calls().since(before);
    assert_eq!(
        calls.count(FIP_LIST.0, FIP_LIST.1),
        0,
        "{:?}",
        calls.by_route()
    );
    assert!(
        rec.paces().pace("create").is_some(),
        "the create's time is learned"
    );

    // A public request's create skips it too on its first look (nothing of it exists yet: a
    // leftover floating IP of ours is deleted by the next full look, see reconcile_resync).
    let external = key("k8s", "api-external");
    let before = sim.calls().total();
    let out = rec
        .apply(
            &external,
            &tcp_request("api-external", &[(443, 6443)], &MEMBERS, true),
        )
        .await;
    assert!(matches!(out, Outcome::Ready(_)), "{out:?}");
    let calls = sim.calls().since(before);
    assert_eq!(
        calls.count(FIP_LIST.0, FIP_LIST.1),
        0,
        "{:?}",
        calls.by_route()
    );

    // A member change teaches the pace of updates; a removal that of deletes.
    assert_eq!(rec.paces().pace("update"), None);
    let out = rec
        .apply(
            &internal,
            &tcp_request("api-internal", &[(6443, 6443)], &MEMBERS[..2], false),
        )
        .await;
    assert!(matches!(out, Outcome::Ready(_)), "{out:?}");
    assert!(rec.paces().pace("update").is_some());
    // Removing an internal request still looks for floating IPs of ours (one left by a
    // public version of it must go too).
    let before = sim.calls().total();
    rec.remove(&internal).await.expect("removed");
    assert!(rec.paces().pace("delete").is_some());
    assert!(sim.calls().since(before).count(FIP_LIST.0, FIP_LIST.1) >= 1);

    // What was learned goes to the store as text and comes back.
    let learned = rec.learned();
    let restarted = reconciler(&sim, site(&sim, Provider::Amphora));
    restarted.restore_learned(&learned);
    for kind in ["create", "update", "delete"] {
        assert_eq!(
            restarted.paces().pace(kind),
            rec.paces().pace(kind),
            "{kind}"
        );
    }
    sim.shutdown().await;
}
