//! Fault injection in the simulator: error statuses, dropped connections, cut-off, latency,
//! token revocation, load balancers going ERROR, provider refusals, and the admin endpoint.

mod sim_support;

use openstack_sim::{CutOffMode, Delays, FaultPlan, LbErrorRule, Provider, RouteMatch, Sim};
use serde_json::{json, Value};
use sim_support::{graph, lb_status, login, start};

const LBS: &str = "/load-balancer/v2/lbaas/loadbalancers";

#[tokio::test]
async fn error_rule_answers_in_the_service_shape_then_stops() {
    let sim = start(Provider::Ovn).await;
    let raw = login(&sim).await;
    sim.faults()
        .error(RouteMatch::new("GET", LBS), 503, 1.0, Some(2));
    for _ in 0..2 {
        let (s, e) = raw.get(&format!("{}/loadbalancers", raw.lb)).await;
        assert_eq!(s, 503);
        assert!(e["faultstring"].as_str().is_some(), "Octavia shape: {e}");
    }
    assert_eq!(raw.get(&format!("{}/loadbalancers", raw.lb)).await.0, 200);
    sim.faults().error(
        RouteMatch::new("GET", "/networking/v2.0/ports"),
        500,
        1.0,
        Some(1),
    );
    let (s, e) = raw.get(&format!("{}/ports", raw.net)).await;
    assert_eq!(s, 500);
    assert!(e["NeutronError"]["type"].is_string(), "Neutron shape: {e}");
    let calls = sim.calls();
    assert_eq!(calls.count("GET", LBS), 3);
    assert_eq!(calls.records.iter().filter(|r| r.status == 503).count(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error_and_nothing_happens() {
    let sim = start(Provider::Ovn).await;
    let raw = login(&sim).await;
    sim.faults()
        .drop_connections(RouteMatch::new("POST", LBS), 1.0, Some(1));
    let body = graph("d", &sim.seed_ids().vip_subnet_id, "SOURCE_IP_PORT", &[]);
    let err = raw
        .http
        .post(format!("{}/loadbalancers", raw.lb))
        .header("x-auth-token", &raw.token)
        .json(&body)
        .send()
        .await;
    assert!(err.is_err(), "the connection must be dropped, got {err:?}");
    assert!(sim.snapshot().load_balancers.is_empty());
    assert_eq!(
        raw.post(&format!("{}/loadbalancers", raw.lb), body).await.0,
        201
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn cut_off_after_n_calls_drop_after_execute_creates_but_never_answers() {
    let sim = start(Provider::Ovn).await;
    let raw = login(&sim).await;
    sim.faults().cut_off_after(1, CutOffMode::DropAfterExecute);
    assert_eq!(raw.get(&format!("{}/loadbalancers", raw.lb)).await.0, 200);
    let body = graph("c", &sim.seed_ids().vip_subnet_id, "SOURCE_IP_PORT", &[]);
    let r = raw
        .http
        .post(format!("{}/loadbalancers", raw.lb))
        .header("x-auth-token", &raw.token)
        .json(&body)
        .send()
        .await;
    assert!(r.is_err(), "answer must be lost");
    assert_eq!(
        sim.snapshot().load_balancers.len(),
        1,
        "but the create took effect"
    );
    sim.faults().clear();
    let (_, v) = raw.get(&format!("{}/loadbalancers?name=c", raw.lb)).await;
    assert_eq!(v["loadbalancers"].as_array().map(Vec::len), Some(1));
    sim.shutdown().await;
}

#[tokio::test]
async fn stall_never_answers() {
    let sim = start(Provider::Ovn).await;
    let raw = login(&sim).await;
    sim.faults().cut_off_after(0, CutOffMode::Stall);
    let r = raw
        .http
        .get(format!("{}/loadbalancers", raw.lb))
        .header("x-auth-token", &raw.token)
        .timeout(std::time::Duration::from_millis(200))
        .send()
        .await;
    assert!(r.is_err_and(|e| e.is_timeout()));
    sim.shutdown().await;
}

#[tokio::test]
async fn revoked_tokens_get_401_in_keystone_shape_and_new_login_works() {
    let sim = start(Provider::Ovn).await;
    let raw = login(&sim).await;
    assert_eq!(raw.get(&format!("{}/loadbalancers", raw.lb)).await.0, 200);
    sim.faults().revoke_tokens();
    let r = raw
        .http
        .get(format!("{}/loadbalancers", raw.lb))
        .header("x-auth-token", &raw.token)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        format!("Keystone uri=\"{}\"", sim.auth_url()).as_str()
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], 401);
    let again = login(&sim).await;
    assert_eq!(again.get(&format!("{}/ports", again.net)).await.0, 200);
    assert_eq!(sim.calls().auths(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn token_lifetime_expires_tokens() {
    let sim = Sim::builder()
        .token_lifetime(std::time::Duration::from_millis(0))
        .build()
        .start()
        .await
        .expect("start");
    let raw = login(&sim).await;
    assert_eq!(raw.get(&format!("{}/loadbalancers", raw.lb)).await.0, 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn load_balancer_goes_error_failover_repairs_one_shot_but_not_persistent() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let subnet = sim.seed_ids().vip_subnet_id;
    // Armed by name before it exists: the create ends in ERROR.
    sim.faults().load_balancer_error("doomed", false);
    let (_, v) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            graph("doomed", &subnet, "ROUND_ROBIN", &["10.5.0.10"]),
        )
        .await;
    let id = v["loadbalancer"]["id"].as_str().expect("id").to_string();
    sim.settle();
    assert_eq!(lb_status(&raw, &id).await, "ERROR");
    let (s, e) = raw
        .put(
            &format!("{}/loadbalancers/{id}", raw.lb),
            json!({"loadbalancer": {"name": "x"}}),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        e["faultstring"],
        format!("Invalid state ERROR of loadbalancer resource {id}")
    );
    assert_eq!(
        raw.put(
            &format!("{}/loadbalancers/{id}/failover", raw.lb),
            json!({})
        )
        .await
        .0,
        202
    );
    sim.settle();
    assert_eq!(lb_status(&raw, &id).await, "ACTIVE");
    // Persistent: failover does not help; delete still works.
    sim.faults().load_balancer_error(&id, true);
    assert_eq!(
        lb_status(&raw, &id).await,
        "ERROR",
        "an idle load balancer goes ERROR at once"
    );
    raw.put(
        &format!("{}/loadbalancers/{id}/failover", raw.lb),
        json!({}),
    )
    .await;
    sim.settle();
    assert_eq!(lb_status(&raw, &id).await, "ERROR");
    assert_eq!(
        raw.delete(&format!("{}/loadbalancers/{id}?cascade=true", raw.lb))
            .await
            .0,
        204
    );
    sim.settle();
    assert_eq!(lb_status(&raw, &id).await, "gone");
    sim.shutdown().await;
}

#[tokio::test]
async fn provider_without_fully_populated_create_answers_501_and_plain_create_works() {
    let plan = FaultPlan {
        no_fully_populated: vec![Provider::Ovn],
        ..FaultPlan::default()
    };
    let sim = Sim::builder()
        .provider(Provider::Ovn)
        .faults(plan)
        .build()
        .start()
        .await
        .expect("start");
    let raw = login(&sim).await;
    let subnet = sim.seed_ids().vip_subnet_id;
    let (s, e) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            graph("g", &subnet, "SOURCE_IP_PORT", &[]),
        )
        .await;
    assert_eq!(s, 501);
    assert!(e["faultstring"]
        .as_str()
        .unwrap_or("")
        .contains("fully populated"));
    assert_eq!(
        raw.post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"name": "p", "vip_subnet_id": subnet}})
        )
        .await
        .0,
        201
    );
    sim.faults().fully_populated_create(Provider::Ovn, true);
    assert_eq!(
        raw.post(
            &format!("{}/loadbalancers", raw.lb),
            graph("g", &subnet, "SOURCE_IP_PORT", &[])
        )
        .await
        .0,
        201
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn provisioning_delays_per_provider_and_latency_use_the_scale() {
    let sim = Sim::builder()
        .delay_scale(0.001)
        .delays(
            Provider::Ovn,
            Delays {
                create: 5.0,
                update: 0.0,
                delete: 0.0,
                failover: 0.0,
            },
        )
        .build()
        .start()
        .await
        .expect("start");
    assert_eq!(sim.faults().plan().delays[&Provider::Ovn].create, 5.0);
    sim.faults().delays(
        Provider::Amphora,
        Delays {
            create: 1_000_000.0,
            update: 0.0,
            delete: 0.0,
            failover: 0.0,
        },
    );
    sim.faults().delays(
        Provider::Ovn,
        Delays {
            create: 0.0,
            update: 0.0,
            delete: 0.0,
            failover: 0.0,
        },
    );
    let raw = login(&sim).await;
    let subnet = sim.seed_ids().vip_subnet_id;
    let (_, a) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"vip_subnet_id": subnet, "provider": "amphora"}}),
        )
        .await;
    let (_, o) = raw
        .post(
            &format!("{}/loadbalancers", raw.lb),
            json!({"loadbalancer": {"vip_subnet_id": subnet, "provider": "ovn"}}),
        )
        .await;
    assert_eq!(
        lb_status(&raw, o["loadbalancer"]["id"].as_str().expect("id")).await,
        "ACTIVE"
    );
    assert_eq!(
        lb_status(&raw, a["loadbalancer"]["id"].as_str().expect("id")).await,
        "PENDING_CREATE"
    );
    sim.faults().latency(RouteMatch::any(), 1.0);
    assert_eq!(sim.faults().plan().latency.len(), 1);
    assert_eq!(raw.get(&format!("{}/loadbalancers", raw.lb)).await.0, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_endpoint_reads_calls_snapshot_and_sets_faults() {
    let sim = start(Provider::Ovn).await;
    let raw = login(&sim).await;
    let admin = format!("{}/_sim", sim.base_url());
    let plan = FaultPlan {
        lb_errors: vec![LbErrorRule {
            load_balancer: "n".into(),
            persistent: false,
        }],
        ..FaultPlan::default()
    };
    let r = raw
        .http
        .put(format!("{admin}/faults"))
        .json(&plan)
        .send()
        .await
        .expect("put faults");
    assert_eq!(r.status(), 204);
    assert_eq!(sim.faults().plan(), plan);
    let r = raw
        .http
        .put(format!("{admin}/faults"))
        .json(&json!({"nonsense": 1}))
        .send()
        .await
        .expect("bad plan");
    assert_eq!(r.status(), 400);
    raw.get(&format!("{}/loadbalancers", raw.lb)).await;
    let calls: Value = raw
        .http
        .get(format!("{admin}/calls"))
        .send()
        .await
        .expect("calls")
        .json()
        .await
        .expect("json");
    assert_eq!(calls["by_route"][format!("GET {LBS}")], 1);
    assert_eq!(calls["by_route"]["POST /v3/auth/tokens"], 1);
    let snap: Value = raw
        .http
        .get(format!("{admin}/snapshot"))
        .send()
        .await
        .expect("snap")
        .json()
        .await
        .expect("json");
    assert_eq!(
        snap["ports"].as_array().map(Vec::len),
        Some(3),
        "three seeded member ports"
    );
    assert_eq!(snap["networks"].as_array().map(Vec::len), Some(2));
    let r = raw
        .http
        .post(format!("{admin}/revoke-tokens"))
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 204);
    assert_eq!(raw.get(&format!("{}/loadbalancers", raw.lb)).await.0, 401);
    assert_eq!(sim.calls().total(), 3, "admin calls are not counted");
    sim.shutdown().await;
}
