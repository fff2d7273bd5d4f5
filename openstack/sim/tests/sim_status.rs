//! The simulated Octavia status machine, provider limits, quotas and listing, over real HTTP.

mod sim_support;

use openstack_sim::{Provider, Sim};
use serde_json::json;
use sim_support::{graph, lb_status, login, start};

#[tokio::test]
async fn create_pending_then_active_children_flip_lb_to_pending_update_and_409_while_pending() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let subnet = sim.seed_ids().vip_subnet_id;
    let (s, v) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"name": "a", "vip_subnet_id": subnet}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["loadbalancer"]["id"].as_str().expect("id").to_string();
    assert_eq!(v["loadbalancer"]["provisioning_status"], "PENDING_CREATE");
    assert_eq!(v["loadbalancer"]["operating_status"], "OFFLINE");
    // VIP port allocated from the subnet, owned by Octavia.
    let port = v["loadbalancer"]["vip_port_id"]
        .as_str()
        .expect("port")
        .to_string();
    let (s, p) = raw.get(&format!("{}/ports/{port}", raw.net)).await;
    assert_eq!(s, 200);
    assert_eq!(p["port"]["device_owner"], "Octavia");
    // Octavia 19 creates it administratively down; Neutron shows it DOWN.
    assert_eq!(p["port"]["admin_state_up"], false);
    assert_eq!(p["port"]["status"], "DOWN");
    assert_eq!(
        p["port"]["fixed_ips"][0]["ip_address"],
        v["loadbalancer"]["vip_address"]
    );
    // Immutable while pending.
    let listener =
        json!({"listener": {"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 80}});
    let (s, e) = raw
        .post(&format!("{}/listeners", raw.lb), listener.clone())
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        e["faultstring"],
        format!("Load Balancer {id} is immutable and cannot be updated.")
    );
    let (s, e) = raw
        .put(
            &format!("{}/loadbalancers/{id}", raw.lb),
            json!({"loadbalancer": {"name": "b"}}),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        e["faultstring"],
        format!("Invalid state PENDING_CREATE of loadbalancer resource {id}")
    );
    sim.settle();
    assert_eq!(lb_status(&raw, &id).await, "ACTIVE");
    // A child change puts the load balancer in PENDING_UPDATE.
    let (s, l) = raw.post(&format!("{}/listeners", raw.lb), listener).await;
    assert_eq!(s, 201, "{l}");
    assert_eq!(l["listener"]["provisioning_status"], "PENDING_CREATE");
    assert_eq!(lb_status(&raw, &id).await, "PENDING_UPDATE");
    sim.settle();
    assert_eq!(lb_status(&raw, &id).await, "ACTIVE");
    let lid = l["listener"]["id"].as_str().expect("lid");
    let (_, l) = raw.get(&format!("{}/listeners/{lid}", raw.lb)).await;
    assert_eq!(l["listener"]["provisioning_status"], "ACTIVE");
    assert_eq!(l["listener"]["operating_status"], "ONLINE");
    // Without cascade an LB with children cannot be deleted; with cascade it goes PENDING_DELETE then away.
    let (s, _) = raw.delete(&format!("{}/loadbalancers/{id}", raw.lb)).await;
    assert_eq!(s, 400);
    let (s, _) = raw
        .delete(&format!("{}/loadbalancers/{id}?cascade=true", raw.lb))
        .await;
    assert_eq!(s, 204);
    assert_eq!(lb_status(&raw, &id).await, "PENDING_DELETE");
    let (_, l) = raw.get(&format!("{}/listeners/{lid}", raw.lb)).await;
    assert_eq!(l["listener"]["provisioning_status"], "PENDING_DELETE");
    sim.settle();
    assert_eq!(lb_status(&raw, &id).await, "gone");
    let (s, e) = raw.get(&format!("{}/listeners/{lid}", raw.lb)).await;
    assert_eq!(s, 404);
    assert_eq!(e["faultstring"], format!("Listener {lid} not found."));
    let (s, _) = raw.get(&format!("{}/ports/{port}", raw.net)).await;
    assert_eq!(s, 404, "VIP port released");
    sim.shutdown().await;
}

#[tokio::test]
async fn scaled_delays_complete_on_their_own() {
    let sim = Sim::builder()
        .provider(Provider::Amphora)
        .delay_scale(0.0001)
        .build()
        .start()
        .await
        .expect("start");
    let raw = login(&sim).await;
    let ids = sim.seed_ids();
    let (s, v) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            graph("x", &ids.vip_subnet_id, "ROUND_ROBIN", &["10.5.0.10"]),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["loadbalancer"]["id"].as_str().expect("id").to_string();
    // Simulated time moves on by 10 s — far past the scaled provisioning delays (60 s create
    // × 0.0001) — with no real sleep: the clock is paused only while it is advanced, and no
    // `settle()` either: the status machine must complete on its own.
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(10)).await;
    tokio::time::resume();
    assert_eq!(lb_status(&raw, &id).await, "ACTIVE");
    sim.shutdown().await;
}

#[tokio::test]
async fn fully_populated_create_then_batch_member_update() {
    let sim = start(Provider::Ovn).await;
    let raw = login(&sim).await;
    let ids = sim.seed_ids();
    let (s, v) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            graph(
                "g",
                &ids.vip_subnet_id,
                "SOURCE_IP_PORT",
                &["10.5.0.10", "10.5.0.11"],
            ),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let lb = &v["loadbalancer"];
    assert_eq!(lb["listeners"][0]["protocol_port"], 443);
    assert_eq!(lb["pools"][0]["members"].as_array().map(Vec::len), Some(2));
    assert_eq!(lb["pools"][0]["healthmonitor"]["type"], "TCP");
    assert_eq!(
        lb["pools"][0]["members"][0]["provisioning_status"],
        "PENDING_CREATE"
    );
    let id = lb["id"].as_str().expect("id").to_string();
    let pool = lb["pools"][0]["id"].as_str().expect("pool").to_string();
    assert_eq!(lb["listeners"][0]["default_pool_id"], pool.as_str());
    sim.settle();
    let (_, members) = raw.get(&format!("{}/pools/{pool}/members", raw.lb)).await;
    assert_eq!(members["members"][0]["operating_status"], "ONLINE");
    // Batch: keep .10, drop .11, add .12.
    let body = json!({"members": [{"address": "10.5.0.10", "protocol_port": 6443}, {"address": "10.5.0.12", "protocol_port": 6443}]});
    let (s, v) = raw
        .put(&format!("{}/pools/{pool}/members", raw.lb), body.clone())
        .await;
    assert_eq!((s, v), (202, serde_json::Value::Null));
    assert_eq!(lb_status(&raw, &id).await, "PENDING_UPDATE");
    let (s, _) = raw
        .put(&format!("{}/pools/{pool}/members", raw.lb), body)
        .await;
    assert_eq!(s, 409, "pool immutable while pending");
    sim.settle();
    let (_, members) = raw.get(&format!("{}/pools/{pool}/members", raw.lb)).await;
    let addrs: Vec<&str> = members["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["address"].as_str())
        .collect();
    assert_eq!(addrs, ["10.5.0.10", "10.5.0.12"]);
    // Duplicate entries in one batch are refused.
    let dup = json!({"members": [{"address": "10.5.0.10", "protocol_port": 6443}, {"address": "10.5.0.10", "protocol_port": 6443}]});
    let (s, e) = raw
        .put(&format!("{}/pools/{pool}/members", raw.lb), dup)
        .await;
    assert_eq!(s, 400);
    assert!(e["faultstring"]
        .as_str()
        .unwrap_or("")
        .contains("only once"));
    // Status tree.
    let (_, t) = raw
        .get(&format!("{}/loadbalancers/{id}/status", raw.lb))
        .await;
    assert_eq!(
        t["statuses"]["loadbalancer"]["listeners"][0]["pools"][0]["health_monitor"]["type"],
        "TCP"
    );
    assert_eq!(
        sim.calls()
            .count("PUT", "/load-balancer/v2/lbaas/pools/{id}/members"),
        3
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn provider_limits_answer_501() {
    let sim = start(Provider::Ovn).await;
    let raw = login(&sim).await;
    let subnet = sim.seed_ids().vip_subnet_id;
    let (s, e) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            graph("o", &subnet, "ROUND_ROBIN", &[]),
        )
        .await;
    assert_eq!(s, 501);
    assert!(e["faultstring"]
        .as_str()
        .unwrap_or("")
        .starts_with("Provider 'ovn' does not support a requested option"));
    assert!(
        sim.snapshot().load_balancers.is_empty(),
        "nothing created by a refused graph"
    );
    let mut http = graph("o", &subnet, "SOURCE_IP_PORT", &[]);
    http["loadbalancer"]["listeners"][0]["protocol"] = json!("HTTP");
    http["loadbalancer"]["listeners"][0]["default_pool"]["protocol"] = json!("HTTP");
    assert_eq!(
        raw.post(&format!("{}/loadbalancers", raw.lb), http).await.0,
        501
    );
    let mut cidrs = graph("o", &subnet, "SOURCE_IP_PORT", &[]);
    cidrs["loadbalancer"]["listeners"][0]["allowed_cidrs"] = json!(["10.0.0.0/8"]);
    let (s, e) = raw.post(&format!("{}/loadbalancers", raw.lb), cidrs).await;
    assert_eq!(s, 501);
    assert!(e["faultstring"]
        .as_str()
        .unwrap_or("")
        .contains("allowed_cidrs"));
    let mut hm = graph("o", &subnet, "SOURCE_IP_PORT", &[]);
    hm["loadbalancer"]["listeners"][0]["default_pool"]["healthmonitor"]["type"] = json!("HTTP");
    assert_eq!(
        raw.post(&format!("{}/loadbalancers", raw.lb), hm).await.0,
        501
    );
    // Amphora refuses SOURCE_IP_PORT.
    let mut amp = graph("a", &subnet, "SOURCE_IP_PORT", &[]);
    amp["loadbalancer"]["provider"] = json!("amphora");
    assert_eq!(
        raw.post(&format!("{}/loadbalancers", raw.lb), amp).await.0,
        501
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn quotas_invalid_bodies_filters_and_pagination() {
    let sim = Sim::builder()
        .provider(Provider::Ovn)
        .delay_scale(1.0)
        .octavia_quota("loadbalancer", 3)
        .build()
        .start()
        .await
        .expect("start");
    let raw = login(&sim).await;
    let subnet = sim.seed_ids().vip_subnet_id;
    for i in 0..3 {
        let tags = if i == 1 {
            json!(["owner", "b"])
        } else {
            json!(["owner"])
        };
        let (s, v) = raw.post(&format!("{}/loadbalancers", raw.lb), json!({"loadbalancer": {"name": format!("lb{i}"), "vip_subnet_id": subnet, "tags": tags}})).await;
        assert_eq!(s, 201, "{v}");
    }
    let (s, e) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"name": "x", "vip_subnet_id": subnet}}),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(
        e["faultstring"],
        "Quota has been met for resources: Load Balancer"
    );
    let (s, e) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"name": "x"}}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(e["faultstring"]
        .as_str()
        .unwrap_or("")
        .contains("VIP must contain one of"));
    let (s, _) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"vip_subnet_id": subnet, "bogus": 1}}),
        )
        .await;
    assert_eq!(s, 400);
    let (s, e) = raw.get(&format!("{}/loadbalancers?bogus=1", raw.lb)).await;
    assert_eq!(s, 400);
    assert_eq!(
        e["faultstring"],
        "One or more arguments are either duplicate or invalid"
    );
    let (_, v) = raw
        .get(&format!("{}/loadbalancers?tags=owner,b", raw.lb))
        .await;
    assert_eq!(v["loadbalancers"].as_array().map(Vec::len), Some(1));
    let (_, v) = raw
        .get(&format!("{}/loadbalancers?tags-any=b&name=lb1", raw.lb))
        .await;
    assert_eq!(v["loadbalancers"][0]["name"], "lb1");
    let (_, v) = raw.get(&format!("{}/loadbalancers?limit=2", raw.lb)).await;
    assert_eq!(v["loadbalancers"].as_array().map(Vec::len), Some(2));
    let next = v["loadbalancers_links"][0]["href"]
        .as_str()
        .expect("next link")
        .to_string();
    assert!(next.contains("marker="));
    let (_, v) = raw.get(&next).await;
    assert_eq!(v["loadbalancers"][0]["name"], "lb2");
    assert!(v["loadbalancers_links"]
        .as_array()
        .is_some_and(|l| l.iter().all(|x| x["rel"] != "next")));
    let (_, v) = raw
        .get(&format!(
            "{}/loadbalancers?project_id={}",
            raw.lb,
            sim.credentials().project_id
        ))
        .await;
    assert_eq!(v["loadbalancers"].as_array().map(Vec::len), Some(3));
    sim.shutdown().await;
}

#[tokio::test]
async fn amphora_failover_and_ovn_refuses_it() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let subnet = sim.seed_ids().vip_subnet_id;
    let (_, v) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"name": "f", "vip_subnet_id": subnet}}),
        )
        .await;
    let id = v["loadbalancer"]["id"].as_str().expect("id").to_string();
    sim.settle();
    let (s, _) = raw
        .put(
            &format!("{}/loadbalancers/{id}/failover", raw.lb),
            json!({}),
        )
        .await;
    assert_eq!(s, 202);
    assert_eq!(lb_status(&raw, &id).await, "PENDING_UPDATE");
    sim.settle();
    assert_eq!(lb_status(&raw, &id).await, "ACTIVE");
    let (_, v) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"name": "o", "vip_subnet_id": subnet, "provider": "ovn"}}),
        )
        .await;
    let ovn = v["loadbalancer"]["id"].as_str().expect("id").to_string();
    sim.settle();
    assert_eq!(
        raw.put(
            &format!("{}/loadbalancers/{ovn}/failover", raw.lb),
            json!({})
        )
        .await
        .0,
        501
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn same_seed_same_ids() {
    let run = || async {
        let sim = start(Provider::Ovn).await;
        let raw = login(&sim).await;
        let (_, v) = raw
            .post(
                &format!("{}/loadbalancers", raw.lb),
                graph(
                    "d",
                    &sim.seed_ids().vip_subnet_id,
                    "SOURCE_IP_PORT",
                    &["10.5.0.10"],
                ),
            )
            .await;
        let out = (
            sim.seed_ids().vip_subnet_id,
            v["loadbalancer"]["id"].clone(),
            v["loadbalancer"]["vip_address"].clone(),
        );
        sim.shutdown().await;
        out
    };
    assert_eq!(run().await, run().await);
}

/// Octavia 19 (checked against the real server): a listener or pool created on its own with
/// nested children — a `default_pool`, `members` or a `healthmonitor` — fails with 500
/// `'dict' object has no attribute '_sa_instance_state'` and creates nothing; `members: []` is
/// fine. Only the load balancer's fully populated create builds a graph in one call.
#[tokio::test]
async fn nested_children_outside_a_full_create_answer_500_and_create_nothing() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let subnet = sim.seed_ids().vip_subnet_id;
    let (s, v) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"name": "n", "vip_subnet_id": subnet}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["loadbalancer"]["id"].as_str().expect("id").to_string();
    sim.settle();
    let pool = json!({"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"});
    for dp in [
        pool.clone(),
        json!({"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
               "members": [{"address": "10.5.0.10", "protocol_port": 6443}]}),
    ] {
        let (s, e) = raw
            .post(
                &format!("{}/listeners", raw.lb),
                json!({"listener": {"loadbalancer_id": id, "protocol": "TCP",
                    "protocol_port": 443, "default_pool": dp}}),
            )
            .await;
        assert_eq!(s, 500, "{e}");
        assert_eq!(e["faultcode"], "Server");
        assert_eq!(
            e["faultstring"],
            "'dict' object has no attribute '_sa_instance_state'"
        );
    }
    let (_, l) = raw
        .get(&format!("{}/listeners?loadbalancer_id={id}", raw.lb))
        .await;
    assert_eq!(l["listeners"], json!([]), "nothing created");
    assert_eq!(lb_status(&raw, &id).await, "ACTIVE", "no change started");
    let (s, l) = raw
        .post(
            &format!("{}/listeners", raw.lb),
            json!({"listener": {"loadbalancer_id": id, "protocol": "TCP", "protocol_port": 443}}),
        )
        .await;
    assert_eq!(s, 201, "{l}");
    let lid = l["listener"]["id"].as_str().expect("lid").to_string();
    sim.settle();
    let with = |extra: serde_json::Value| {
        let mut p = pool.clone();
        p["listener_id"] = json!(lid);
        for (k, v) in extra.as_object().expect("object") {
            p[k] = v.clone();
        }
        json!({ "pool": p })
    };
    for extra in [
        json!({"members": [{"address": "10.5.0.10", "protocol_port": 6443}]}),
        json!({"healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3}}),
    ] {
        let (s, e) = raw
            .post(&format!("{}/pools", raw.lb), with(extra.clone()))
            .await;
        assert_eq!(s, 500, "{extra}: {e}");
        assert_eq!(
            e["faultstring"],
            "'dict' object has no attribute '_sa_instance_state'"
        );
    }
    let (_, p) = raw
        .get(&format!("{}/pools?loadbalancer_id={id}", raw.lb))
        .await;
    assert_eq!(p["pools"], json!([]), "nothing created");
    let (s, p) = raw
        .post(&format!("{}/pools", raw.lb), with(json!({"members": []})))
        .await;
    assert_eq!(s, 201, "{p}");
    sim.shutdown().await;
}

/// Octavia 19 (WSME) names the one bound a number crossed, without a full stop.
#[tokio::test]
async fn an_out_of_range_number_names_the_bound_it_crossed() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let subnet = sim.seed_ids().vip_subnet_id;
    let (_, v) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"name": "r", "vip_subnet_id": subnet}}),
        )
        .await;
    let id = v["loadbalancer"]["id"].as_str().expect("id").to_string();
    sim.settle();
    for (port, want) in [
        (0, "Invalid input for field/attribute protocol_port. Value: '0'. Value should be greater or equal to 1"),
        (65536, "Invalid input for field/attribute protocol_port. Value: '65536'. Value should be lower or equal to 65535"),
    ] {
        let (s, e) = raw
            .post(
                &format!("{}/listeners", raw.lb),
                json!({"listener": {"loadbalancer_id": id, "protocol": "TCP", "protocol_port": port}}),
            )
            .await;
        assert_eq!(s, 400, "{e}");
        assert_eq!(e["faultstring"], want);
    }
    sim.shutdown().await;
}
