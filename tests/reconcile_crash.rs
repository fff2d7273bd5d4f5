//! Crash at every step: the cloud cuts us off after each call of a full create (the call
//! either never happens, or happens and its answer is lost), then a fresh process (new
//! session, new reconciler) converges: exactly one load balancer per request, no leaked
//! floating IP or security group.

mod common;

use std::time::Duration;

use common::*;
use octavia_integrator::reconcile::{Outcome, Reconciler};
use octavia_integrator::relation::v1::Request;
use octavia_integrator::spec::{LbIdentity, Site};
use openstack_sim::{CutOffMode, Provider, SimHandle};

fn site_with_groups(sim: &SimHandle) -> Site {
    let mut s = site(sim, Provider::Amphora);
    s.manage_security_groups = true;
    s
}

async fn converge(
    sim: &SimHandle,
    k: &LbIdentity,
    req: &Request,
) -> octavia_integrator::reconcile::Ready {
    let fresh: Reconciler = reconciler(sim, site_with_groups(sim));
    match fresh.apply(k, req).await {
        Outcome::Ready(r) => r,
        other => panic!("a fresh process must converge, got {other:?}"),
    }
}

fn assert_one_of_each(sim: &SimHandle, context: &str) {
    let snap = sim.snapshot();
    assert_eq!(
        snap.load_balancers.len(),
        1,
        "{context}: load balancers {:#?}",
        snap.load_balancers
    );
    assert_eq!(
        snap.floating_ips.len(),
        1,
        "{context}: floating IPs {:#?}",
        snap.floating_ips
    );
    let groups = snap
        .security_groups
        .iter()
        .filter(|g| g["name"].as_str().is_some_and(|n| n.starts_with("oi-")))
        .count();
    assert_eq!(groups, 1, "{context}: security groups");
    assert_eq!(snap.members.len(), 3, "{context}: members");
    assert_eq!(snap.listeners.len(), 1, "{context}: listeners");
}

#[tokio::test]
async fn a_crash_after_any_call_converges_to_one_of_everything() {
    let k = key("kubernetes-control-plane", "api-server-external");
    let req = external_request(&MEMBERS);

    // How many calls a clean create makes (polls included).
    let clean = start_sim(Provider::Amphora).await;
    converge(&clean, &k, &req).await;
    let total = clean.calls().total();
    assert!(total > 10, "a create makes a dozen or more calls: {total}");
    clean.shutdown().await;

    for mode in [CutOffMode::Drop, CutOffMode::DropAfterExecute] {
        let mut cut_short = 0;
        for n in 0..total as u32 {
            let context = format!("{mode:?} after {n} calls");
            let sim = start_sim(Provider::Amphora).await;
            sim.faults().cut_off_after(n, mode);
            let crashing = reconciler(&sim, site_with_groups(&sim));
            let first = crashing
                .apply_within(&k, &req, Duration::from_millis(100))
                .await;
            if !matches!(first, Outcome::Ready(_)) {
                cut_short += 1;
            }
            assert!(
                !matches!(first, Outcome::Failed { .. }),
                "{context}: a lost connection is not a final error: {first:?}"
            );
            drop(crashing);
            sim.faults().clear();
            let r = converge(&sim, &k, &req).await;
            assert!(r.address.starts_with("203.0.113."), "{context}: {r:?}");
            assert_one_of_each(&sim, &context);
            // Converged for good: another fresh process finds nothing to do.
            let again = converge(&sim, &k, &req).await;
            assert!(again.actions.is_empty(), "{context}: {:?}", again.actions);
            assert_eq!(again.address, r.address, "{context}");
            sim.shutdown().await;
        }
        assert!(
            cut_short + 2 >= total,
            "{mode:?}: the cut-off really interrupted the create ({cut_short} of {total})"
        );
    }
}

#[tokio::test]
async fn an_abandoned_apply_is_adopted_by_the_next_one() {
    // The apply future is dropped mid-flight (a killed process): the next run adopts.
    let sim = start_sim(Provider::Amphora).await;
    let k = key("k8s", "svc");
    let req = external_request(&MEMBERS);
    let rec = reconciler(&sim, site_with_groups(&sim));
    for steps in [1u32, 3, 5, 8] {
        let before = sim.calls().total();
        // The cloud answers `steps` calls, then never answers the next one: the apply is
        // dropped exactly while that call hangs (no timing involved).
        sim.faults().cut_off_after(steps, CutOffMode::Stall);
        let stalled = || sim.calls().records[before..].iter().any(|c| c.status == 0);
        let fut = rec.apply(&k, &req);
        tokio::pin!(fut);
        let finished = loop {
            tokio::select! {
                biased;
                _ = &mut fut => break true,
                () = tokio::task::yield_now() => {
                    if stalled() {
                        break false;
                    }
                }
            }
        };
        assert!(!finished, "{steps} calls cannot build everything");
        assert_eq!(
            sim.calls().total(),
            before + steps as usize + 1,
            "dropped at the stalled call"
        );
        sim.faults().clear();
    }
    let r = converge(&sim, &k, &req).await;
    assert!(r.floating_ip.is_some());
    assert_one_of_each(&sim, "after abandoned applies");
}

#[tokio::test]
async fn a_removal_after_a_crash_at_any_call_leaves_nothing_behind() {
    let k = key("kubernetes-control-plane", "api-server-external");
    let req = external_request(&MEMBERS);
    let clean = start_sim(Provider::Amphora).await;
    converge(&clean, &k, &req).await;
    let total = clean.calls().total() as u32;
    clean.shutdown().await;

    for n in 0..total {
        let context = format!("crash after {n} calls, then remove");
        let sim = start_sim(Provider::Amphora).await;
        sim.faults().cut_off_after(n, CutOffMode::DropAfterExecute);
        let crashing = reconciler(&sim, site_with_groups(&sim));
        let _ = crashing
            .apply_within(&k, &req, Duration::from_millis(100))
            .await;
        drop(crashing);
        sim.faults().clear();
        let fresh = reconciler(&sim, site_with_groups(&sim));
        fresh
            .remove(&k)
            .await
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        let snap = sim.snapshot();
        assert!(
            snap.load_balancers.is_empty(),
            "{context}: {:#?}",
            snap.load_balancers
        );
        assert!(
            snap.floating_ips.is_empty(),
            "{context}: {:#?}",
            snap.floating_ips
        );
        let groups: Vec<_> = snap
            .security_groups
            .iter()
            .filter(|g| g["name"] != "default")
            .collect();
        assert!(groups.is_empty(), "{context}: {groups:#?}");
        let default_sg = sim.seed_ids().default_security_group_id;
        for p in &snap.ports {
            if let Some(gs) = p["security_groups"].as_array() {
                assert!(
                    gs.iter().all(|g| g.as_str() == Some(default_sg.as_str())),
                    "{context}: port {} keeps {gs:?}",
                    p["id"]
                );
            }
        }
        sim.shutdown().await;
    }
}
