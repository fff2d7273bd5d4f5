//! Smoke: the simulator starts, authenticates, and creates a load balancer over real HTTP.
#![cfg(feature = "sim")]

use openstack::sim::{Provider, Sim};
use serde_json::{json, Value};

#[tokio::test]
async fn password_token_then_load_balancer_goes_active() {
    let sim = Sim::builder()
        .provider(Provider::Ovn)
        .delay_scale(0.001)
        .seed(1)
        .build()
        .start()
        .await
        .expect("start");
    let c = sim.credentials();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/auth/tokens", sim.auth_url()))
        .json(&json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": c.username, "domain": {"name": c.domain_name}, "password": c.password}}},
                                "scope": {"project": {"name": c.project_name, "domain": {"id": "default"}}}}}))
        .send()
        .await
        .expect("auth");
    assert_eq!(r.status(), 201);
    let token = r.headers()["x-subject-token"]
        .to_str()
        .expect("token")
        .to_string();
    let body: Value = r.json().await.expect("json");
    println!(
        "{}",
        serde_json::to_string_pretty(&body["token"]["catalog"]).unwrap_or_default()
    );
    let ids = sim.seed_ids();
    let r = http
        .post(format!("{}/v2/lbaas/loadbalancers", sim.load_balancer_url()))
        .header("x-auth-token", &token)
        .json(&json!({"loadbalancer": {"name": "lb1", "vip_subnet_id": ids.vip_subnet_id,
            "listeners": [{"name": "l", "protocol": "TCP", "protocol_port": 443, "default_pool": {"name": "p", "protocol": "TCP", "lb_algorithm": "SOURCE_IP_PORT",
              "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3},
              "members": [{"address": "10.5.0.10", "protocol_port": 6443}]}}]}}))
        .send()
        .await
        .expect("create");
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    println!(
        "{}",
        serde_json::to_string_pretty(&body).unwrap_or_default()
    );
    assert_eq!(status, 201);
    let id = body["loadbalancer"]["id"].as_str().expect("id").to_string();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let r: Value = http
        .get(format!(
            "{}/v2/lbaas/loadbalancers/{id}/status",
            sim.load_balancer_url()
        ))
        .header("x-auth-token", &token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
    assert_eq!(
        r["statuses"]["loadbalancer"]["provisioning_status"],
        "ACTIVE"
    );
    println!("{:?}", sim.calls().by_route());
    sim.shutdown().await;
}
