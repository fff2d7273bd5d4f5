//! Simulated Keystone and Neutron: auth methods and scopes, the catalog, regions, floating IPs,
//! ports, security groups, tags, quotas and 404 shapes.

mod sim_support;

use openstack_sim::{Provider, Sim};
use serde_json::{json, Value};
use sim_support::{login, start};

async fn auth(sim: &openstack_sim::SimHandle, body: Value) -> (u16, Value, Option<String>) {
    let r = reqwest::Client::new()
        .post(format!("{}/auth/tokens", sim.auth_url()))
        .json(&body)
        .send()
        .await
        .expect("auth");
    let status = r.status().as_u16();
    let token = r
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, r.json().await.unwrap_or(Value::Null), token)
}

#[tokio::test]
async fn keystone_methods_scopes_and_errors() {
    let sim = Sim::builder()
        .regions(["RegionOne", "RegionTwo"])
        .build()
        .start()
        .await
        .expect("start");
    let c = sim.credentials();
    // Version documents.
    let http = reqwest::Client::new();
    let r = http.get(sim.base_url()).send().await.expect("root");
    assert_eq!(r.status(), 300);
    let v: Value = http
        .get(sim.auth_url())
        .send()
        .await
        .expect("v3")
        .json()
        .await
        .expect("json");
    assert_eq!(v["version"]["id"], "v3.14");
    // Password by name, project by name.
    let (s, body, token) = auth(&sim, json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": c.username, "domain": {"id": "default"}, "password": c.password}}},
        "scope": {"project": {"name": c.project_name, "domain": {"name": "Default"}}}}})).await;
    assert_eq!(s, 201);
    assert_eq!(body["token"]["project"]["id"], c.project_id.as_str());
    let token = token.expect("X-Subject-Token");
    // Catalog: two services we need, public + internal, both regions, pointing back here.
    let catalog = body["token"]["catalog"].as_array().expect("catalog");
    for kind in ["load-balancer", "network"] {
        let svc = catalog.iter().find(|s| s["type"] == kind).expect("service");
        let eps = svc["endpoints"].as_array().expect("endpoints");
        assert_eq!(eps.len(), 4);
        assert!(eps.iter().all(|e| e["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&sim.base_url()))));
        for e in eps {
            let url = e["url"].as_str().expect("url");
            let r = http
                .get(format!("{url}/"))
                .send()
                .await
                .expect("version doc without token");
            assert_eq!(r.status(), 200, "{url}");
        }
    }
    // Wrong secret → 401 Keystone shape.
    let (s, body, _) = auth(&sim, json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": c.user_id, "password": "wrong"}}}}})).await;
    assert_eq!(s, 401);
    assert_eq!(body["error"]["code"], 401);
    assert_eq!(body["error"]["title"], "Unauthorized");
    // Missing domain with a user name → 400.
    let (s, _, _) = auth(&sim, json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": c.username, "password": c.password}}}}})).await;
    assert_eq!(s, 400);
    // Application credential: by id, by name + user; a scope is refused.
    let ac = json!({"id": c.application_credential_id, "secret": c.application_credential_secret});
    assert_eq!(auth(&sim, json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": ac}}})).await.0, 201);
    let by_name = json!({"name": c.application_credential_name, "secret": c.application_credential_secret, "user": {"id": c.user_id}});
    assert_eq!(auth(&sim, json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": by_name}}})).await.0, 201);
    let (s, body, _) = auth(&sim, json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": ac}, "scope": {"project": {"id": c.project_id}}}})).await;
    assert_eq!(s, 401);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("cannot request a scope"));
    let bad = json!({"id": c.application_credential_id, "secret": "nope"});
    assert_eq!(auth(&sim, json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": bad}}})).await.0, 401);
    // Token method re-scopes, keeps the expiry; domain scope has no project.
    let (s, body, _) = auth(&sim, json!({"auth": {"identity": {"methods": ["token"], "token": {"id": token}}, "scope": {"domain": {"id": "default"}}}})).await;
    assert_eq!(s, 201);
    assert_eq!(body["token"]["domain"]["id"], "default");
    assert!(body["token"].get("project").is_none());
    // Wrong project → 401 (Keystone hides it).
    let (s, _, _) = auth(&sim, json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": c.user_id, "password": c.password}}}, "scope": {"project": {"id": "nope"}}}})).await;
    assert_eq!(s, 401);
    // Revocation through Keystone itself.
    let r = http
        .delete(format!("{}/auth/tokens", sim.auth_url()))
        .header("x-auth-token", &token)
        .header("x-subject-token", &token)
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), 204);
    let r = http
        .get(format!(
            "{}/v2/lbaas/loadbalancers",
            sim.load_balancer_url()
        ))
        .header("x-auth-token", &token)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
    sim.shutdown().await;
}

#[tokio::test]
async fn internal_and_second_region_endpoints_serve_the_same_cloud_and_count_as_one_route() {
    let sim = Sim::builder()
        .regions(["RegionOne", "RegionTwo"])
        .build()
        .start()
        .await
        .expect("start");
    let raw = login(&sim).await;
    let base = sim.base_url();
    for prefix in [
        "/load-balancer",
        "/internal/load-balancer",
        "/RegionTwo/load-balancer",
        "/RegionTwo/internal/load-balancer",
    ] {
        assert_eq!(
            raw.get(&format!("{base}{prefix}/v2/lbaas/loadbalancers"))
                .await
                .0,
            200,
            "{prefix}"
        );
    }
    assert_eq!(
        sim.calls()
            .count("GET", "/load-balancer/v2/lbaas/loadbalancers"),
        4
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn neutron_floating_ips_ports_groups_tags_and_quota() {
    let sim = Sim::builder()
        .provider(Provider::Ovn)
        .neutron_quota("floatingip", 2)
        .build()
        .start()
        .await
        .expect("start");
    let raw = login(&sim).await;
    let ids = sim.seed_ids();
    let net = &raw.net;
    // External networks and the fixed_ips / device_id filters.
    let (_, v) = raw
        .get(&format!("{net}/networks?router:external=true"))
        .await;
    assert_eq!(v["networks"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["networks"][0]["id"], ids.external_network_id.as_str());
    let (_, v) = raw
        .get(&format!("{net}/ports?fixed_ips=ip_address%3D10.5.0.11"))
        .await;
    assert_eq!(v["ports"][0]["id"], ids.member_port_ids[1].as_str());
    let device = v["ports"][0]["device_id"]
        .as_str()
        .expect("device")
        .to_string();
    let (_, v) = raw.get(&format!("{net}/ports?device_id={device}")).await;
    assert_eq!(v["ports"].as_array().map(Vec::len), Some(1));
    // Floating IP bound on create, filtered by port_id and tags, moved, released.
    let (s, fip) = raw.post(&format!("{net}/floatingips"), json!({"floatingip": {"floating_network_id": ids.external_network_id, "port_id": ids.member_port_ids[0], "description": "ours"}})).await;
    assert_eq!(s, 201, "{fip}");
    let fid = fip["floatingip"]["id"].as_str().expect("fid").to_string();
    assert_eq!(fip["floatingip"]["fixed_ip_address"], "10.5.0.10");
    assert_eq!(fip["floatingip"]["status"], "ACTIVE");
    assert!(fip["floatingip"]["floating_ip_address"]
        .as_str()
        .is_some_and(|a| a.starts_with("203.0.113.")));
    let (s, _) = raw.post(&format!("{net}/floatingips"), json!({"floatingip": {"floating_network_id": ids.external_network_id, "port_id": ids.member_port_ids[0]}})).await;
    assert_eq!(s, 409, "one floating IP per fixed IP and external network");
    let (s, e) = raw
        .post(
            &format!("{net}/floatingips"),
            json!({"floatingip": {"floating_network_id": ids.vip_network_id}}),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    let (s, t) = raw
        .put(
            &format!("{net}/floatingips/{fid}/tags"),
            json!({"tags": ["cluster", "req"]}),
        )
        .await;
    assert_eq!((s, t["tags"].clone()), (200, json!(["cluster", "req"])));
    let (_, v) = raw
        .get(&format!(
            "{net}/floatingips?tags=cluster,req&port_id={}",
            ids.member_port_ids[0]
        ))
        .await;
    assert_eq!(v["floatingips"].as_array().map(Vec::len), Some(1));
    let (_, v) = raw.get(&format!("{net}/floatingips?tags=other")).await;
    assert_eq!(v["floatingips"].as_array().map(Vec::len), Some(0));
    let (s, v) = raw
        .put(
            &format!("{net}/floatingips/{fid}"),
            json!({"floatingip": {"port_id": ids.member_port_ids[2]}}),
        )
        .await;
    assert_eq!(
        (s, v["floatingip"]["fixed_ip_address"].clone()),
        (200, json!("10.5.0.12"))
    );
    // Quota: 2 floating IPs.
    assert_eq!(
        raw.post(
            &format!("{net}/floatingips"),
            json!({"floatingip": {"floating_network_id": ids.external_network_id}})
        )
        .await
        .0,
        201
    );
    let (s, e) = raw
        .post(
            &format!("{net}/floatingips"),
            json!({"floatingip": {"floating_network_id": ids.external_network_id}}),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(e["NeutronError"]["type"], "OverQuota");
    assert_eq!(
        e["NeutronError"]["message"],
        "Quota exceeded for resources: ['floatingip']."
    );
    assert_eq!(raw.delete(&format!("{net}/floatingips/{fid}")).await.0, 204);
    let (s, e) = raw.get(&format!("{net}/floatingips/{fid}")).await;
    assert_eq!(
        (s, e["NeutronError"]["type"].clone()),
        (404, json!("FloatingIPNotFound"))
    );
    // Security groups: default egress rules, rule validation, duplicate 409, in-use 409.
    let (s, sg) = raw
        .post(
            &format!("{net}/security-groups"),
            json!({"security_group": {"name": "members", "description": "ours"}}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(
        sg["security_group"]["security_group_rules"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let sgid = sg["security_group"]["id"].as_str().expect("sg").to_string();
    let rule = json!({"security_group_rule": {"security_group_id": sgid, "direction": "ingress", "protocol": "tcp", "port_range_min": 6443, "port_range_max": 6443, "remote_ip_prefix": "10.5.0.0/24"}});
    assert_eq!(
        raw.post(&format!("{net}/security-group-rules"), rule.clone())
            .await
            .0,
        201
    );
    let (s, e) = raw.post(&format!("{net}/security-group-rules"), rule).await;
    assert_eq!(
        (s, e["NeutronError"]["type"].clone()),
        (409, json!("SecurityGroupRuleExists"))
    );
    let (s, _) = raw.post(&format!("{net}/security-group-rules"), json!({"security_group_rule": {"security_group_id": sgid, "direction": "ingress", "port_range_min": 1}})).await;
    assert_eq!(s, 400, "port range needs a protocol");
    let port = &ids.member_port_ids[0];
    let (s, p) = raw
        .put(
            &format!("{net}/ports/{port}"),
            json!({"port": {"security_groups": [ids.default_security_group_id, sgid]}}),
        )
        .await;
    assert_eq!(
        (s, p["port"]["security_groups"].as_array().map(Vec::len)),
        (200, Some(2))
    );
    let (s, e) = raw.delete(&format!("{net}/security-groups/{sgid}")).await;
    assert_eq!(
        (s, e["NeutronError"]["type"].clone()),
        (409, json!("SecurityGroupInUse"))
    );
    raw.put(
        &format!("{net}/ports/{port}"),
        json!({"port": {"security_groups": [ids.default_security_group_id]}}),
    )
    .await;
    assert_eq!(
        raw.delete(&format!("{net}/security-groups/{sgid}")).await.0,
        204
    );
    let (_, v) = raw
        .get(&format!(
            "{net}/security-group-rules?security_group_id={sgid}"
        ))
        .await;
    assert_eq!(v["security_group_rules"].as_array().map(Vec::len), Some(0));
    // Unknown filter and unknown collection.
    assert_eq!(raw.get(&format!("{net}/ports?bogus=1")).await.0, 400);
    let (s, e) = raw.get(&format!("{net}/widgets")).await;
    assert_eq!(
        (s, e["NeutronError"]["type"].clone()),
        (404, json!("HTTPNotFound"))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn vip_port_and_floating_ip_follow_the_load_balancer() {
    let sim = start(Provider::Ovn).await;
    let raw = login(&sim).await;
    let ids = sim.seed_ids();
    let (_, v) = raw.post(&format!("{}/loadbalancers", raw.lb), json!({"loadbalancer": {"name": "v", "vip_subnet_id": ids.vip_subnet_id, "vip_address": "10.5.0.200"}})).await;
    let lb = &v["loadbalancer"];
    assert_eq!(lb["vip_address"], "10.5.0.200");
    let vip_port = lb["vip_port_id"].as_str().expect("port").to_string();
    let (_, p) = raw.get(&format!("{}/ports/{vip_port}", raw.net)).await;
    assert_eq!(p["port"]["device_owner"], "ovn-lb:vip");
    let (s, _) = raw.post(&format!("{}/loadbalancers", raw.lb), json!({"loadbalancer": {"vip_subnet_id": ids.vip_subnet_id, "vip_address": "10.5.0.200"}})).await;
    assert_eq!(s, 409, "VIP address in use");
    let (_, fip) = raw.post(&format!("{}/floatingips", raw.net), json!({"floatingip": {"floating_network_id": ids.external_network_id, "port_id": vip_port}})).await;
    let fid = fip["floatingip"]["id"].as_str().expect("fid").to_string();
    let id = lb["id"].as_str().expect("id").to_string();
    sim.settle();
    raw.delete(&format!("{}/loadbalancers/{id}", raw.lb)).await;
    sim.settle();
    let (_, f) = raw.get(&format!("{}/floatingips/{fid}", raw.net)).await;
    assert_eq!(
        f["floatingip"]["port_id"],
        Value::Null,
        "disassociated, still allocated"
    );
    assert_eq!(f["floatingip"]["status"], "DOWN");
    assert_eq!(sim.snapshot().tagged("nothing").len(), 0);
    sim.shutdown().await;
}
