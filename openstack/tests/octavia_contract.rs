//! Wire contracts of every Octavia call: method, path, query, headers and JSON body, against a
//! wiremock cloud (see `common`).

mod common;

use common::{cloud, octavia_object, Cloud};
use openstack::load_balancer::health_monitors::{
    self, CreateHealthMonitor, ListHealthMonitors, UpdateHealthMonitor,
};
use openstack::load_balancer::listeners::{
    self, CreateListener, DefaultPool, ListListeners, UpdateListener,
};
use openstack::load_balancer::load_balancers::{
    self, CreateLoadBalancer, ListLoadBalancers, UpdateLoadBalancer,
};
use openstack::load_balancer::members::{self, CreateMember};
use openstack::load_balancer::pools::{
    self, CreatePool, ListPools, PoolParent, SessionPersistence, UpdatePool,
};
use openstack::load_balancer::{
    providers, HttpMethod, LbAlgorithm, MonitorType, OperatingStatus, Protocol, ProvisioningStatus,
};
use serde_json::json;

fn lb(id: &str) -> serde_json::Value {
    octavia_object(
        id,
        json!({"name": "lb", "vip_port_id": "vp", "vip_address": "10.0.0.9"}),
    )
}

// ---- load balancers ------------------------------------------------------------------------

#[tokio::test]
async fn lb_list_sends_filters_and_follows_next_links_until_none() {
    let c = cloud().await;
    let next = format!(
        "{}/load-balancer/v2/lbaas/loadbalancers?tags=a%2Cb&marker=lb2",
        c.server.uri()
    );
    let q1 = [
        ("name", "n"),
        ("tags", "a,b"),
        ("tags-any", "c,d"),
        ("project_id", "p1"),
    ];
    let page1 = json!({"loadbalancers": [lb("lb1"), lb("lb2")],
                       "loadbalancers_links": [{"rel": "next", "href": next}]});
    c.once(
        c.octavia("GET", "lbaas/loadbalancers", &q1),
        200,
        Some(page1),
    )
    .await;
    let page2 = json!({"loadbalancers": [lb("lb3")],
                       "loadbalancers_links": [{"rel": "previous", "href": "http://ignored/"}]});
    let q2 = [("tags", "a,b"), ("marker", "lb2")];
    c.once(
        c.octavia("GET", "lbaas/loadbalancers", &q2),
        200,
        Some(page2),
    )
    .await;

    let filter = ListLoadBalancers {
        name: Some("n".into()),
        tags: vec!["a".into(), "b".into()],
        tags_any: vec!["c".into(), "d".into()],
        project_id: Some("p1".into()),
        vip_port_id: None,
    };
    let all = load_balancers::list(&c.session, &filter).await.unwrap();
    let ids: Vec<_> = all.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["lb1", "lb2", "lb3"]);
}

#[tokio::test]
async fn lb_list_stops_on_an_empty_page_even_with_a_next_link() {
    let c = cloud().await;
    let next = format!(
        "{}/load-balancer/v2/lbaas/loadbalancers?marker=x",
        c.server.uri()
    );
    let page = json!({"loadbalancers": [], "loadbalancers_links": [{"rel": "next", "href": next}]});
    c.once(
        c.octavia("GET", "lbaas/loadbalancers", &[]),
        200,
        Some(page),
    )
    .await;
    let all = load_balancers::list(&c.session, &ListLoadBalancers::default())
        .await
        .unwrap();
    assert!(all.is_empty());
}

#[tokio::test]
async fn lb_get() {
    let c = cloud().await;
    c.once(
        c.octavia("GET", "lbaas/loadbalancers/lb1", &[]),
        200,
        Some(json!({"loadbalancer": lb("lb1")})),
    )
    .await;
    let got = load_balancers::get(&c.session, "lb1").await.unwrap();
    assert_eq!(got.vip_port_id.as_deref(), Some("vp"));
    assert_eq!(got.provisioning_status, ProvisioningStatus::Active);
}

#[tokio::test]
async fn lb_get_missing_is_not_found() {
    let c = cloud().await;
    let fault = json!({"faultcode": "Client", "faultstring": "Load Balancer lb9 not found.", "debuginfo": null});
    c.once(
        c.octavia("GET", "lbaas/loadbalancers/lb9", &[]),
        404,
        Some(fault),
    )
    .await;
    let err = load_balancers::get(&c.session, "lb9").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn lb_create_plain() {
    let c = cloud().await;
    let body = json!({"loadbalancer": {"name": "lb", "description": "d", "vip_subnet_id": "s",
        "vip_address": "10.0.0.9", "provider": "ovn", "tags": ["t1", "t2"], "admin_state_up": true}});
    let answer = json!({"loadbalancer": octavia_object("lb1", json!({"provisioning_status": "PENDING_CREATE", "operating_status": "OFFLINE"}))});
    c.once(
        Cloud::with_body(c.octavia("POST", "lbaas/loadbalancers", &[]), body),
        201,
        Some(answer),
    )
    .await;
    let req = CreateLoadBalancer {
        name: Some("lb".into()),
        description: Some("d".into()),
        vip_subnet_id: Some("s".into()),
        vip_address: Some("10.0.0.9".into()),
        provider: Some("ovn".into()),
        tags: vec!["t1".into(), "t2".into()],
        admin_state_up: Some(true),
        ..Default::default()
    };
    let got = load_balancers::create(&c.session, &req).await.unwrap();
    assert_eq!(got.provisioning_status, ProvisioningStatus::PendingCreate);
    assert_eq!(got.operating_status, OperatingStatus::Offline);
}

#[tokio::test]
async fn lb_create_fully_populated() {
    let c = cloud().await;
    let body = json!({"loadbalancer": {"name": "lb", "vip_subnet_id": "s", "tags": ["ours"],
        "listeners": [{"name": "l-6443", "protocol": "TCP", "protocol_port": 6443,
            "allowed_cidrs": ["192.0.2.0/24"],
            "default_pool": {"name": "p-6443", "protocol": "TCP", "lb_algorithm": "SOURCE_IP_PORT",
                "session_persistence": {"type": "SOURCE_IP"},
                "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3, "max_retries_down": 3},
                "members": [
                    {"address": "10.0.0.10", "protocol_port": 6443, "subnet_id": "ms", "name": "m0"},
                    {"address": "10.0.0.11", "protocol_port": 6443, "subnet_id": "ms", "name": "m1"}]}}]}});
    // Octavia answers with full child objects; only their ids and names are kept.
    let answer = json!({"loadbalancer": octavia_object("lb1", json!({
        "provisioning_status": "PENDING_CREATE",
        "listeners": [octavia_object("l1", json!({"name": "l-6443", "protocol": "TCP", "protocol_port": 6443}))],
        "pools": [octavia_object("p1", json!({"name": "p-6443", "members": [octavia_object("m", json!({}))]}))]}))});
    c.once(
        Cloud::with_body(c.octavia("POST", "lbaas/loadbalancers", &[]), body),
        201,
        Some(answer),
    )
    .await;
    let members = ["10.0.0.10", "10.0.0.11"]
        .iter()
        .enumerate()
        .map(|(i, a)| CreateMember {
            subnet_id: Some("ms".into()),
            name: Some(format!("m{i}")),
            ..CreateMember::new(*a, 6443)
        })
        .collect();
    let pool = CreatePool {
        name: Some("p-6443".into()),
        session_persistence: Some(SessionPersistence::source_ip()),
        healthmonitor: Some(CreateHealthMonitor {
            max_retries_down: Some(3),
            ..CreateHealthMonitor::new(MonitorType::Tcp, 5, 3, 3)
        }),
        members,
        ..CreatePool::new(Protocol::Tcp, LbAlgorithm::SourceIpPort)
    };
    let req = CreateLoadBalancer {
        name: Some("lb".into()),
        vip_subnet_id: Some("s".into()),
        tags: vec!["ours".into()],
        listeners: vec![CreateListener {
            name: Some("l-6443".into()),
            allowed_cidrs: vec!["192.0.2.0/24".into()],
            default_pool: Some(DefaultPool::Define(Box::new(pool))),
            ..CreateListener::new(Protocol::Tcp, 6443)
        }],
        ..Default::default()
    };
    let got = load_balancers::create(&c.session, &req).await.unwrap();
    assert_eq!(got.listeners[0].id, "l1");
    assert_eq!(got.pools[0].name.as_deref(), Some("p-6443"));
}

#[tokio::test]
async fn lb_update() {
    let c = cloud().await;
    let body =
        json!({"loadbalancer": {"description": "new", "tags": [], "vip_qos_policy_id": null}});
    c.once(
        Cloud::with_body(c.octavia("PUT", "lbaas/loadbalancers/lb1", &[]), body),
        200,
        Some(json!({"loadbalancer": lb("lb1")})),
    )
    .await;
    let update = UpdateLoadBalancer {
        description: Some("new".into()),
        tags: Some(vec![]),
        vip_qos_policy_id: Some(None),
        ..Default::default()
    };
    load_balancers::update(&c.session, "lb1", &update)
        .await
        .unwrap();
}

#[tokio::test]
async fn lb_delete_cascade_and_plain() {
    let c = cloud().await;
    c.once(
        c.octavia("DELETE", "lbaas/loadbalancers/lb1", &[("cascade", "true")]),
        204,
        None,
    )
    .await;
    c.once(
        c.octavia("DELETE", "lbaas/loadbalancers/lb2", &[]),
        204,
        None,
    )
    .await;
    load_balancers::delete(&c.session, "lb1", true)
        .await
        .unwrap();
    load_balancers::delete(&c.session, "lb2", false)
        .await
        .unwrap();
}

#[tokio::test]
async fn lb_failover_is_a_bodyless_put_answered_202() {
    let c = cloud().await;
    c.once(
        c.octavia("PUT", "lbaas/loadbalancers/lb1/failover", &[]),
        202,
        None,
    )
    .await;
    load_balancers::failover(&c.session, "lb1").await.unwrap();
}

#[tokio::test]
async fn lb_status_tree() {
    let c = cloud().await;
    let tree = json!({"statuses": {"loadbalancer": octavia_object("lb1", json!({
        "listeners": [octavia_object("l1", json!({"pools": [octavia_object("p1", json!({}))]}))],
        "pools": [octavia_object("p1", json!({
            "health_monitor": {"id": "h1", "type": "TCP", "provisioning_status": "ACTIVE", "operating_status": "ONLINE"},
            "members": [octavia_object("m1", json!({"address": "10.0.0.10", "protocol_port": 6443, "operating_status": "ERROR"}))]}))]}))}});
    c.once(
        c.octavia("GET", "lbaas/loadbalancers/lb1/status", &[]),
        200,
        Some(tree),
    )
    .await;
    let got = load_balancers::status_tree(&c.session, "lb1")
        .await
        .unwrap();
    let pool = &got.loadbalancer.pools[0];
    assert_eq!(pool.health_monitor.as_ref().unwrap().id, "h1");
    assert_eq!(pool.members[0].operating_status, OperatingStatus::Error);
    assert_eq!(got.loadbalancer.listeners[0].pools[0].id, "p1");
}

// ---- listeners -----------------------------------------------------------------------------

fn listener(id: &str) -> serde_json::Value {
    octavia_object(
        id,
        json!({"protocol": "TCP", "protocol_port": 6443, "allowed_cidrs": null}),
    )
}

#[tokio::test]
async fn listener_create_get_list_update_delete() {
    let c = cloud().await;
    let create = json!({"listener": {"loadbalancer_id": "lb1", "protocol": "TCP", "protocol_port": 6443,
        "name": "l", "allowed_cidrs": ["10.0.0.0/8", "192.0.2.0/24"], "default_pool_id": "p1"}});
    c.once(
        Cloud::with_body(c.octavia("POST", "lbaas/listeners", &[]), create),
        201,
        Some(json!({"listener": listener("l1")})),
    )
    .await;
    c.once(
        c.octavia("GET", "lbaas/listeners/l1", &[]),
        200,
        Some(json!({"listener": listener("l1")})),
    )
    .await;
    c.once(
        c.octavia(
            "GET",
            "lbaas/listeners",
            &[("loadbalancer_id", "lb1"), ("name", "l")],
        ),
        200,
        Some(json!({"listeners": [listener("l1")], "listeners_links": []})),
    )
    .await;
    let update = json!({"listener": {"allowed_cidrs": ["10.0.0.0/8"], "default_pool_id": null, "connection_limit": 100}});
    c.once(
        Cloud::with_body(c.octavia("PUT", "lbaas/listeners/l1", &[]), update),
        200,
        Some(json!({"listener": listener("l1")})),
    )
    .await;
    c.once(c.octavia("DELETE", "lbaas/listeners/l1", &[]), 204, None)
        .await;

    let req = CreateListener {
        name: Some("l".into()),
        allowed_cidrs: vec!["10.0.0.0/8".into(), "192.0.2.0/24".into()],
        default_pool_id: Some("p1".into()),
        ..CreateListener::new(Protocol::Tcp, 6443)
    };
    let made = listeners::create(&c.session, "lb1", &req).await.unwrap();
    assert!(
        made.allowed_cidrs.is_empty(),
        "null allowed_cidrs reads as empty"
    );
    assert_eq!(
        listeners::get(&c.session, "l1").await.unwrap().protocol,
        Protocol::Tcp
    );
    let filter = ListListeners {
        loadbalancer_id: Some("lb1".into()),
        name: Some("l".into()),
        ..Default::default()
    };
    assert_eq!(listeners::list(&c.session, &filter).await.unwrap().len(), 1);
    let update = UpdateListener {
        allowed_cidrs: Some(vec!["10.0.0.0/8".into()]),
        default_pool_id: Some(None),
        connection_limit: Some(100),
        ..Default::default()
    };
    listeners::update(&c.session, "l1", &update).await.unwrap();
    listeners::delete(&c.session, "l1").await.unwrap();
}

// ---- pools ---------------------------------------------------------------------------------

fn pool(id: &str) -> serde_json::Value {
    octavia_object(
        id,
        json!({"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": null}),
    )
}

#[tokio::test]
async fn pool_create_get_list_update_delete() {
    let c = cloud().await;
    let create_l = json!({"pool": {"listener_id": "l1", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
        "name": "p", "session_persistence": {"type": "APP_COOKIE", "cookie_name": "c"}}});
    c.once(
        Cloud::with_body(c.octavia("POST", "lbaas/pools", &[]), create_l),
        201,
        Some(json!({"pool": pool("p1")})),
    )
    .await;
    let create_lb =
        json!({"pool": {"loadbalancer_id": "lb1", "protocol": "UDP", "lb_algorithm": "SOURCE_IP"}});
    c.once(
        Cloud::with_body(c.octavia("POST", "lbaas/pools", &[]), create_lb),
        201,
        Some(json!({"pool": pool("p2")})),
    )
    .await;
    c.once(
        c.octavia("GET", "lbaas/pools/p1", &[]),
        200,
        Some(json!({"pool": pool("p1")})),
    )
    .await;
    c.once(
        c.octavia("GET", "lbaas/pools", &[("loadbalancer_id", "lb1")]),
        200,
        Some(json!({"pools": [pool("p1"), pool("p2")]})),
    )
    .await;
    let update =
        json!({"pool": {"lb_algorithm": "LEAST_CONNECTIONS", "session_persistence": null}});
    c.once(
        Cloud::with_body(c.octavia("PUT", "lbaas/pools/p1", &[]), update),
        200,
        Some(json!({"pool": pool("p1")})),
    )
    .await;
    c.once(c.octavia("DELETE", "lbaas/pools/p1", &[]), 204, None)
        .await;

    let mut req = CreatePool::new(Protocol::Tcp, LbAlgorithm::RoundRobin);
    req.name = Some("p".into());
    req.session_persistence = Some(SessionPersistence {
        kind: openstack::load_balancer::SessionPersistenceType::AppCookie,
        cookie_name: Some("c".into()),
        persistence_timeout: None,
        persistence_granularity: None,
    });
    pools::create(&c.session, &PoolParent::Listener("l1".into()), &req)
        .await
        .unwrap();
    let udp = CreatePool::new(Protocol::Udp, LbAlgorithm::SourceIp);
    pools::create(&c.session, &PoolParent::LoadBalancer("lb1".into()), &udp)
        .await
        .unwrap();
    assert_eq!(
        pools::get(&c.session, "p1").await.unwrap().lb_algorithm,
        LbAlgorithm::RoundRobin
    );
    let filter = ListPools {
        loadbalancer_id: Some("lb1".into()),
        name: None,
        ..Default::default()
    };
    assert_eq!(pools::list(&c.session, &filter).await.unwrap().len(), 2);
    let update = UpdatePool {
        lb_algorithm: Some(LbAlgorithm::LeastConnections),
        session_persistence: Some(None),
        ..Default::default()
    };
    pools::update(&c.session, "p1", &update).await.unwrap();
    pools::delete(&c.session, "p1").await.unwrap();
}

// ---- members -------------------------------------------------------------------------------

fn member(id: &str, address: &str) -> serde_json::Value {
    octavia_object(
        id,
        json!({"address": address, "protocol_port": 6443, "weight": 1, "operating_status": "NO_MONITOR"}),
    )
}

#[tokio::test]
async fn member_list_create_delete() {
    let c = cloud().await;
    c.once(
        c.octavia("GET", "lbaas/pools/p1/members", &[]),
        200,
        Some(json!({"members": [member("m1", "10.0.0.10")], "members_links": []})),
    )
    .await;
    let create = json!({"member": {"address": "10.0.0.11", "protocol_port": 6443, "subnet_id": "ms", "weight": 2}});
    c.once(
        Cloud::with_body(c.octavia("POST", "lbaas/pools/p1/members", &[]), create),
        201,
        Some(json!({"member": member("m2", "10.0.0.11")})),
    )
    .await;
    c.once(
        c.octavia("DELETE", "lbaas/pools/p1/members/m2", &[]),
        204,
        None,
    )
    .await;

    let listed = members::list(&c.session, "p1").await.unwrap();
    assert_eq!(listed[0].operating_status, OperatingStatus::NoMonitor);
    let req = CreateMember {
        subnet_id: Some("ms".into()),
        weight: Some(2),
        ..CreateMember::new("10.0.0.11", 6443)
    };
    assert_eq!(
        members::create(&c.session, "p1", &req).await.unwrap().id,
        "m2"
    );
    members::delete(&c.session, "p1", "m2").await.unwrap();
}

#[tokio::test]
async fn member_batch_update_puts_the_whole_list_and_expects_202() {
    let c = cloud().await;
    let body = json!({"members": [
        {"address": "10.0.0.10", "protocol_port": 6443, "name": "a"},
        {"address": "10.0.0.11", "protocol_port": 6443, "name": "b", "weight": 0}]});
    c.once(
        Cloud::with_body(c.octavia("PUT", "lbaas/pools/p1/members", &[]), body),
        202,
        None,
    )
    .await;
    let additive = json!({"members": [{"address": "10.0.0.12", "protocol_port": 6443}]});
    c.once(
        Cloud::with_body(
            c.octavia(
                "PUT",
                "lbaas/pools/p1/members",
                &[("additive_only", "true")],
            ),
            additive,
        ),
        202,
        None,
    )
    .await;
    let empty = json!({"members": []});
    c.once(
        Cloud::with_body(c.octavia("PUT", "lbaas/pools/p2/members", &[]), empty),
        202,
        None,
    )
    .await;

    let list = vec![
        CreateMember {
            name: Some("a".into()),
            ..CreateMember::new("10.0.0.10", 6443)
        },
        CreateMember {
            name: Some("b".into()),
            weight: Some(0),
            ..CreateMember::new("10.0.0.11", 6443)
        },
    ];
    members::batch_update(&c.session, "p1", &list, false)
        .await
        .unwrap();
    members::batch_update(
        &c.session,
        "p1",
        &[CreateMember::new("10.0.0.12", 6443)],
        true,
    )
    .await
    .unwrap();
    members::batch_update(&c.session, "p2", &[], false)
        .await
        .unwrap();
}

#[tokio::test]
async fn member_batch_update_refused_while_immutable_is_a_conflict() {
    let c = cloud().await;
    let fault = json!({"faultcode": "Client", "faultstring": "Pool p1 is immutable and cannot be updated.", "debuginfo": null});
    c.once(
        c.octavia("PUT", "lbaas/pools/p1/members", &[]),
        409,
        Some(fault),
    )
    .await;
    let err = members::batch_update(&c.session, "p1", &[], false)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert!(err.is_immutable_conflict(), "{err}");
}

// ---- health monitors -----------------------------------------------------------------------

fn monitor(id: &str) -> serde_json::Value {
    octavia_object(
        id,
        json!({"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3, "http_method": "GET"}),
    )
}

#[tokio::test]
async fn health_monitor_create_get_list_update_delete() {
    let c = cloud().await;
    let create = json!({"healthmonitor": {"pool_id": "p1", "type": "HTTP", "delay": 5, "timeout": 3,
        "max_retries": 3, "http_method": "GET", "url_path": "/healthz", "expected_codes": "200-204", "name": "hm"}});
    c.once(
        Cloud::with_body(c.octavia("POST", "lbaas/healthmonitors", &[]), create),
        201,
        Some(json!({"healthmonitor": monitor("h1")})),
    )
    .await;
    c.once(
        c.octavia("GET", "lbaas/healthmonitors/h1", &[]),
        200,
        Some(json!({"healthmonitor": monitor("h1")})),
    )
    .await;
    c.once(
        c.octavia("GET", "lbaas/healthmonitors", &[("pool_id", "p1")]),
        200,
        Some(json!({"healthmonitors": [monitor("h1")]})),
    )
    .await;
    let update = json!({"healthmonitor": {"delay": 10, "http_method": "HEAD"}});
    c.once(
        Cloud::with_body(c.octavia("PUT", "lbaas/healthmonitors/h1", &[]), update),
        200,
        Some(json!({"healthmonitor": monitor("h1")})),
    )
    .await;
    c.once(
        c.octavia("DELETE", "lbaas/healthmonitors/h1", &[]),
        204,
        None,
    )
    .await;

    let req = CreateHealthMonitor {
        http_method: Some(HttpMethod::Get),
        url_path: Some("/healthz".into()),
        expected_codes: Some("200-204".into()),
        name: Some("hm".into()),
        ..CreateHealthMonitor::new(MonitorType::Http, 5, 3, 3)
    };
    health_monitors::create(&c.session, "p1", &req)
        .await
        .unwrap();
    assert_eq!(
        health_monitors::get(&c.session, "h1").await.unwrap().kind,
        MonitorType::Http
    );
    assert_eq!(
        health_monitors::list(
            &c.session,
            &ListHealthMonitors {
                pool_id: Some("p1".into()),
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .len(),
        1
    );
    let update = UpdateHealthMonitor {
        delay: Some(10),
        http_method: Some(HttpMethod::Head),
        ..Default::default()
    };
    health_monitors::update(&c.session, "h1", &update)
        .await
        .unwrap();
    health_monitors::delete(&c.session, "h1").await.unwrap();
}

// ---- providers -----------------------------------------------------------------------------

#[tokio::test]
async fn providers_list() {
    let c = cloud().await;
    let body = json!({"providers": [{"name": "amphora", "description": "The Octavia Amphora driver."},
                                    {"name": "ovn", "description": null}]});
    c.once(c.octavia("GET", "lbaas/providers", &[]), 200, Some(body))
        .await;
    let got = providers::list(&c.session).await.unwrap();
    let names: Vec<_> = got.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["amphora", "ovn"]);
    assert_eq!(got[1].description, "");
}

#[tokio::test]
async fn a_repeated_next_link_is_an_error_not_an_endless_walk() {
    let c = cloud().await;
    let next = format!(
        "{}/load-balancer/v2/lbaas/loadbalancers?marker=lb1",
        c.server.uri()
    );
    let page = json!({"loadbalancers": [lb("lb1")], "loadbalancers_links": [{"rel": "next", "href": next}]});
    c.once(
        c.octavia("GET", "lbaas/loadbalancers", &[]),
        200,
        Some(page.clone()),
    )
    .await;
    c.once(
        c.octavia("GET", "lbaas/loadbalancers", &[("marker", "lb1")]),
        200,
        Some(page),
    )
    .await;
    let err = load_balancers::list(&c.session, &ListLoadBalancers::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("same next-page link"), "{err}");
}

#[tokio::test]
async fn an_empty_id_is_refused_before_any_request() {
    let c = cloud().await;
    let err = load_balancers::delete(&c.session, "", true)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("load balancer id is empty"),
        "{err}"
    );
    let err = members::batch_update(&c.session, " ", &[], false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pool id is empty"), "{err}");
    let err = openstack::network::floating_ips::delete(&c.session, "")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("floating IP id is empty"), "{err}");
    let sent = c.server.received_requests().await.expect("recording is on");
    assert!(
        sent.is_empty(),
        "no request at all, not even to Keystone: {sent:?}"
    );
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_a_decode_error_naming_the_call() {
    let c = cloud().await;
    let wrong = json!({"loadbalancer": {"id": 5, "provisioning_status": "ACTIVE"}});
    c.once(
        c.octavia("GET", "lbaas/loadbalancers/lb1", &[]),
        200,
        Some(wrong),
    )
    .await;
    let err = load_balancers::get(&c.session, "lb1").await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("could not decode") && text.contains("lbaas/loadbalancers/lb1"),
        "{text}"
    );
}
