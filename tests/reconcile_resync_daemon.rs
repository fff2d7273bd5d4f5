//! The daemon's resync through its API: once the members are known, a resync of unchanged
//! requests is list calls only (no read of any one load balancer, no status tree, no
//! mutation), and the answers stay as they were.

mod common;
mod daemon_support;

use daemon_support::*;
use octavia_integrator::cli::demo::scenario;
use openstack_sim::Provider;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_of_unchanged_requests_is_list_calls_only() {
    let sim = common::start_sim(Provider::Amphora).await;
    let dir = tempdir();
    let d = TestDaemon::start(settings_in(&sim, dir.path(), ""), options());
    let local = until_both_answered(&d).await;
    d.idle().await;
    // The first resync may read members that were never read (freshly built pools).
    d.resync().await;
    d.idle().await;

    for _ in 0..2 {
        let before = sim.calls().total();
        d.resync().await;
        d.idle().await;
        let calls = sim.calls().since(before);
        let routes = calls.by_route();
        assert_eq!(calls.cloud_mutations(), 0, "{routes:?}");
        for route in routes.keys() {
            assert!(
                route.starts_with("GET ") && !route.contains("{id}"),
                "only collection lists, got {route} in {routes:?}"
            );
        }
        assert!(
            routes.contains_key("GET /load-balancer/v2/lbaas/loadbalancers"),
            "{routes:?}"
        );
    }
    let again = until_both_answered(&d).await;
    for (relation, name) in [
        (scenario::EXTERNAL_RELATION, "api-server-external"),
        (scenario::INTERNAL_RELATION, "api-server-internal"),
    ] {
        assert_eq!(
            address(&again, relation, name),
            address(&local, relation, name),
            "{name}: the answer is unchanged"
        );
    }
    d.stop().await.expect("clean shutdown");
    sim.shutdown().await;
}
