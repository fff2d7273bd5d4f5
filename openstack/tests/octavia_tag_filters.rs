//! Wire contracts of the tag filters on Octavia child lists (listeners, pools, health
//! monitors): `tags` and `tags-any` are sent comma-joined, next-page links are followed with
//! the filters they carry, and nothing is sent for an empty filter.

mod common;

use common::{cloud, octavia_object};
use openstack::load_balancer::health_monitors::{self, ListHealthMonitors};
use openstack::load_balancer::listeners::{self, ListListeners};
use openstack::load_balancer::pools::{self, ListPools};
use serde_json::json;

fn listener(id: &str) -> serde_json::Value {
    octavia_object(
        id,
        json!({"protocol": "TCP", "protocol_port": 443, "loadbalancers": [{"id": "lb1"}],
               "tags": ["octavia-integrator", "oi-cluster=c"]}),
    )
}

fn pool(id: &str) -> serde_json::Value {
    octavia_object(
        id,
        json!({"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN", "loadbalancers": [{"id": "lb1"}],
               "members": [{"id": "m1"}, {"id": "m2"}]}),
    )
}

fn monitor(id: &str) -> serde_json::Value {
    octavia_object(
        id,
        json!({"type": "TCP", "delay": 10, "timeout": 5, "max_retries": 3,
               "pools": [{"id": "p1"}]}),
    )
}

#[tokio::test]
async fn listeners_filter_by_tags_and_tags_any_across_pages() {
    let c = cloud().await;
    let next = format!(
        "{}/load-balancer/v2/lbaas/listeners?tags=octavia-integrator%2Coi-cluster%3Dc&limit=1&marker=l1",
        c.server.uri()
    );
    let q1 = [
        ("tags", "octavia-integrator,oi-cluster=c"),
        ("tags-any", "x,y"),
    ];
    c.once(
        c.octavia("GET", "lbaas/listeners", &q1),
        200,
        Some(json!({"listeners": [listener("l1")],
                    "listeners_links": [{"rel": "next", "href": next}]})),
    )
    .await;
    let q2 = [
        ("tags", "octavia-integrator,oi-cluster=c"),
        ("limit", "1"),
        ("marker", "l1"),
    ];
    c.once(
        c.octavia("GET", "lbaas/listeners", &q2),
        200,
        Some(json!({"listeners": [listener("l2")], "listeners_links": []})),
    )
    .await;
    let filter = ListListeners {
        tags: vec!["octavia-integrator".into(), "oi-cluster=c".into()],
        tags_any: vec!["x".into(), "y".into()],
        ..Default::default()
    };
    let got = listeners::list(&c.session, &filter).await.unwrap();
    let ids: Vec<_> = got.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["l1", "l2"]);
    assert_eq!(got[0].loadbalancers[0].id, "lb1");
}

#[tokio::test]
async fn pools_filter_by_tags_and_carry_member_ids() {
    let c = cloud().await;
    c.once(
        c.octavia("GET", "lbaas/pools", &[("tags", "a,b")]),
        200,
        Some(json!({"pools": [pool("p1")], "pools_links": []})),
    )
    .await;
    c.once(
        c.octavia("GET", "lbaas/pools", &[("tags-any", "c")]),
        200,
        Some(json!({"pools": [], "pools_links": []})),
    )
    .await;
    let by_all = ListPools {
        tags: vec!["a".into(), "b".into()],
        ..Default::default()
    };
    let got = pools::list(&c.session, &by_all).await.unwrap();
    let members: Vec<_> = got[0].members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(members, ["m1", "m2"]);
    let by_any = ListPools {
        tags_any: vec!["c".into()],
        ..Default::default()
    };
    assert!(pools::list(&c.session, &by_any).await.unwrap().is_empty());
}

#[tokio::test]
async fn health_monitors_filter_by_pool_tags_and_tags_any() {
    let c = cloud().await;
    c.once(
        c.octavia(
            "GET",
            "lbaas/healthmonitors",
            &[("pool_id", "p1"), ("tags", "a"), ("tags-any", "b,c")],
        ),
        200,
        Some(json!({"healthmonitors": [monitor("h1")], "healthmonitors_links": []})),
    )
    .await;
    c.once(
        c.octavia("GET", "lbaas/healthmonitors", &[]),
        200,
        Some(json!({"healthmonitors": [monitor("h1"), monitor("h2")]})),
    )
    .await;
    let filter = ListHealthMonitors {
        pool_id: Some("p1".into()),
        tags: vec!["a".into()],
        tags_any: vec!["b".into(), "c".into()],
    };
    let got = health_monitors::list(&c.session, &filter).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].pools[0].id, "p1");
    // No filter: nothing in the query.
    let all = health_monitors::list(&c.session, &ListHealthMonitors::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
}
