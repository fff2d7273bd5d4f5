//! Slow clouds and concurrency: provisioning past the wait budget keeps converging (never a
//! second create), removal of a load balancer still being built, bad credentials, many
//! requests at once.

mod common;

use std::time::Duration;

use common::*;
use octavia_integrator::reconcile::{error_policy, Outcome, Reconciler};
use octavia_integrator::relation::v1::ErrorKind;
use openstack::session::Credentials;
use openstack::Session;
use openstack_sim::{Delays, Provider, SimHandle};

/// Amphora creates that take 2000 simulated seconds (about a second here).
fn slow(sim: &SimHandle) {
    sim.faults().delays(
        Provider::Amphora,
        Delays {
            create: 2000.0,
            update: 2.0,
            delete: 2.0,
            failover: 2.0,
        },
    );
}

#[tokio::test]
async fn provisioning_past_the_budget_keeps_converging_and_never_creates_twice() {
    let sim = start_sim(Provider::Amphora).await;
    slow(&sim);
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, true);

    let first = rec.apply_within(&k, &req, Duration::from_millis(30)).await;
    match &first {
        Outcome::Converging { why, .. } => assert!(why.contains("ACTIVE"), "{why}"),
        other => panic!("expected converging, got {other:?}"),
    }
    assert!(
        first.response(&req).is_none(),
        "no answer while provisioning"
    );
    // The floating IP was bound at once (the VIP port exists from the start).
    assert_eq!(sim.snapshot().floating_ips.len(), 1);

    // A later pass (same or new process) waits for the same load balancer.
    let fresh = reconciler(&sim, site(&sim, Provider::Amphora));
    match fresh.apply(&k, &req).await {
        Outcome::Ready(r) => assert!(r.floating_ip.is_some()),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sim.calls()
            .count("POST", "/load-balancer/v2/lbaas/loadbalancers"),
        1
    );
    assert_eq!(sim.snapshot().load_balancers.len(), 1);
    assert_eq!(sim.snapshot().floating_ips.len(), 1);
}

#[tokio::test]
async fn removing_a_load_balancer_that_is_still_being_built() {
    let sim = start_sim(Provider::Amphora).await;
    slow(&sim);
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, true);
    assert!(matches!(
        rec.apply_within(&k, &req, Duration::from_millis(30)).await,
        Outcome::Converging { .. }
    ));
    let removal = rec
        .remove(&k)
        .await
        .expect("removal waits for the create, then deletes");
    assert!(
        removal.deleted.iter().any(|d| d.contains("load balancer")),
        "{removal:?}"
    );
    assert!(ours(&sim).is_empty(), "{:?}", ours(&sim));
    assert!(sim.snapshot().load_balancers.is_empty());
    assert!(sim.snapshot().floating_ips.is_empty());
}

#[tokio::test]
async fn refused_credentials_are_a_clear_error_answer() {
    let sim = start_sim(Provider::Amphora).await;
    let mut config = session_config(&sim);
    let Credentials::Password { password, .. } = &mut config.credentials else {
        unreachable!("the simulator's session logs in with a password")
    };
    *password = "not-the-password".to_string().into();
    let bad = Session::new(config).unwrap();
    let rec = Reconciler::from_site(
        bad,
        site(&sim, Provider::Amphora),
        "ROUND_ROBIN",
        true,
        options(),
    );
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, true);
    match rec.apply(&key("k8s", "svc"), &req).await {
        Outcome::Failed {
            kind,
            failure,
            setback,
        } => {
            assert_eq!(kind, ErrorKind::ProviderError);
            let text = failure.message_text().unwrap();
            assert!(text.contains("credentials"), "{text}");
            assert!(
                !text.contains("not-the-password"),
                "never the secret: {text}"
            );
            assert!(error_policy(&setback, 1).requeue_after.is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn many_requests_at_once_all_converge() {
    let sim = start_sim(Provider::Ovn).await;
    let rec = std::sync::Arc::new(reconciler(&sim, site(&sim, Provider::Ovn)));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let rec = rec.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("req-{i}");
            let req = tcp_request(&name, &[(443, 6443)], &MEMBERS, i % 2 == 0);
            rec.apply(&key("k8s", &name), &req).await
        }));
    }
    let mut addresses = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Outcome::Ready(r) => addresses.push(r.address),
            other => panic!("{other:?}"),
        }
    }
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 12, "every request has its own address");
    let snap = sim.snapshot();
    assert_eq!(snap.load_balancers.len(), 12);
    assert_eq!(snap.floating_ips.len(), 6);
}

#[tokio::test]
async fn one_request_applied_twice_at_once_builds_one_load_balancer() {
    let sim = start_sim(Provider::Amphora).await;
    let rec = reconciler(&sim, site(&sim, Provider::Amphora));
    let k = key("k8s", "svc");
    let req = tcp_request("svc", &[(443, 6443)], &MEMBERS, true);
    let (a, b) = tokio::join!(rec.apply(&k, &req), rec.apply(&k, &req));
    assert!(
        matches!((&a, &b), (Outcome::Ready(_), Outcome::Ready(_))),
        "{a:?} {b:?}"
    );
    assert_eq!(sim.snapshot().load_balancers.len(), 1);
    assert_eq!(
        sim.calls()
            .count("POST", "/load-balancer/v2/lbaas/loadbalancers"),
        1
    );
}
