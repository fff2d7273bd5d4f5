//! The daemon engine's requeue: what a pass asks for next, against the simulated cloud.

mod common;

use std::sync::Arc;

use common::*;
use octavia_integrator::daemon::engine::Engine;
use octavia_integrator::daemon::Metrics;
use octavia_integrator::reconcile::requeue::{
    RETRY_REMOVAL, RETRY_UNCONNECTED, SHORT_BACKOFF, SHORT_BACKOFF_CAP,
};
use octavia_integrator::reconcile::Action;
use octavia_integrator::relation::answer::{Interface, RequestKey};
use octavia_integrator::spec::Site;
use octavia_integrator::store::Store;
use openstack_sim::{Provider, SimHandle};

/// A site with managed security groups, and the same site blind to the member network: a
/// removal through the blind one cannot find the member ports to take our group off, so
/// Neutron keeps answering that the group is in use.
fn managed_and_blind(sim: &SimHandle) -> (Site, Site) {
    let mut managed = site(sim, Provider::Amphora);
    managed.manage_security_groups = true;
    let blind = Site {
        member_network_id: Some("not-the-member-network".into()),
        ..managed.clone()
    };
    (managed, blind)
}

/// A removal whose security-group DELETE answers 409 `SecurityGroupInUse` (a port still
/// carries the group) looks again within seconds, backing off up to a cap; once the group
/// can go, the removal finishes and the backoff starts afresh.
#[tokio::test]
async fn a_security_group_still_in_use_is_retried_within_seconds() {
    let sim = start_sim(Provider::Amphora).await;
    let (managed, blind) = managed_and_blind(&sim);
    let blind_again = blind.clone();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.json")).unwrap();
    let engine = Engine::new(
        store,
        Some(reconciler(&sim, managed.clone())),
        Arc::new(Metrics::new()),
    );
    let relation_key = RequestKey::new(1, "kcp", "api");
    let cloud_key = key("kcp", "api");
    let request = tcp_request("api", &[(443, 6443)], &MEMBERS, false);
    engine
        .record(Interface::LoadBalancer, &relation_key, &request)
        .await
        .unwrap();
    assert_eq!(
        engine.reconcile(&relation_key, false).await,
        Action::await_change(),
        "served"
    );
    assert_eq!(tagged(&sim, "security_group", &cloud_key), 1);

    engine.set_cloud(reconciler(&sim, blind)).await;
    assert!(engine.forget(&relation_key).await.unwrap());
    let mut delays = Vec::new();
    for _ in 0..6 {
        let action = engine.reconcile(&relation_key, false).await;
        delays.push(action.requeue_after.expect("the removal is not done"));
    }
    assert_eq!(tagged(&sim, "loadbalancer", &cloud_key), 0);
    assert_eq!(tagged(&sim, "security_group", &cloud_key), 1);
    assert_eq!(delays[0], SHORT_BACKOFF);
    assert!(
        delays.windows(2).all(|w| w[0] <= w[1]),
        "backs off: {delays:?}"
    );
    assert_eq!(*delays.last().unwrap(), SHORT_BACKOFF_CAP, "{delays:?}");
    assert!(
        delays.iter().all(|d| *d <= RETRY_REMOVAL),
        "never slower than any other failed removal: {delays:?}"
    );

    engine.set_cloud(reconciler(&sim, managed.clone())).await;
    assert_eq!(
        engine.reconcile(&relation_key, false).await,
        Action::await_change(),
        "removed"
    );
    assert_eq!(tagged(&sim, "security_group", &cloud_key), 0);

    // Asked for again, then removed again while the group is still in use: the backoff
    // counts from the first delay, not from where the last removal left it.
    engine
        .record(Interface::LoadBalancer, &relation_key, &request)
        .await
        .unwrap();
    assert_eq!(
        engine.reconcile(&relation_key, false).await,
        Action::await_change()
    );
    engine.set_cloud(reconciler(&sim, blind_again)).await;
    assert!(engine.forget(&relation_key).await.unwrap());
    assert_eq!(
        engine.reconcile(&relation_key, false).await,
        Action::requeue(SHORT_BACKOFF)
    );
}

/// Passes that met another setback first (the cloud unreachable after a restart) do not count
/// towards the backoff of a group in use: its first wait is still the short one.
#[tokio::test]
async fn an_outage_before_a_group_in_use_does_not_lengthen_its_first_wait() {
    let sim = start_sim(Provider::Amphora).await;
    let (managed, blind) = managed_and_blind(&sim);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let relation_key = RequestKey::new(1, "kcp", "api");
    let request = tcp_request("api", &[(443, 6443)], &MEMBERS, false);
    {
        let engine = Engine::new(
            Store::open(&path).unwrap(),
            Some(reconciler(&sim, managed.clone())),
            Arc::new(Metrics::new()),
        );
        engine
            .record(Interface::LoadBalancer, &relation_key, &request)
            .await
            .unwrap();
        assert_eq!(
            engine.reconcile(&relation_key, false).await,
            Action::await_change()
        );
        assert!(engine.forget(&relation_key).await.unwrap());
    }

    // A restart with the cloud out of reach: the removal waits for a connection.
    let engine = Engine::new(Store::open(&path).unwrap(), None, Arc::new(Metrics::new()));
    for _ in 0..3 {
        assert_eq!(
            engine.reconcile(&relation_key, false).await,
            Action::requeue(RETRY_UNCONNECTED)
        );
    }
    engine.set_cloud(reconciler(&sim, blind)).await;
    assert_eq!(
        engine.reconcile(&relation_key, false).await,
        Action::requeue(SHORT_BACKOFF),
        "the first pass that meets the group in use"
    );
}
