//! Simulated Neutron answers as real Neutron 29 answered on the real-Neutron harness
//! (`../shared/real-openstack`, `NEUTRON=real`). Each test pins one difference found there:
//! tags refused in create bodies, `If-Match: revision_number=N` and its 412, repeated
//! `fixed_ips` filters, and bulk security-group rules (atomic, duplicates refused).

mod sim_support;

use openstack_sim::Provider;
use serde_json::{json, Value};
use sim_support::{login, start, Raw};

fn error(v: &Value) -> (&str, &str) {
    (
        v["NeutronError"]["type"].as_str().unwrap_or("?"),
        v["NeutronError"]["message"].as_str().unwrap_or("?"),
    )
}

async fn put_if_match(raw: &Raw, url: &str, if_match: &str, body: Value) -> (u16, Value) {
    let r = raw
        .http
        .put(url)
        .header("x-auth-token", &raw.token)
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await
        .expect("request sent");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn tags_are_refused_in_create_bodies_of_groups_and_floating_ips() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let net = &raw.net;
    let ext = sim.seed_ids().external_network_id.clone();
    // Real: 400 {"NeutronError": {"type": "HTTPBadRequest", "message": "Attribute 'tags' not
    // allowed in POST", "detail": ""}}: `tag-creation` is POST /{collection}/{id}/tags.
    let (s, e) = raw
        .post(
            &format!("{net}/security-groups"),
            json!({"security_group": {"name": "g", "tags": ["a"]}}),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(
        error(&e),
        ("HTTPBadRequest", "Attribute 'tags' not allowed in POST")
    );
    assert_eq!(e["NeutronError"]["detail"], "");
    let (s, e) = raw
        .post(
            &format!("{net}/floatingips"),
            json!({"floatingip": {"floating_network_id": ext, "tags": ["a"]}}),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(
        error(&e),
        ("HTTPBadRequest", "Attribute 'tags' not allowed in POST")
    );
    // Rules cannot come with their group either; an unknown attribute is worded otherwise.
    let (s, e) = raw
        .post(
            &format!("{net}/security-groups"),
            json!({"security_group": {"name": "g", "security_group_rules": []}}),
        )
        .await;
    assert_eq!(
        (s, error(&e)),
        (
            400,
            (
                "HTTPBadRequest",
                "Attribute 'security_group_rules' not allowed in POST"
            )
        )
    );
    let (s, e) = raw
        .post(
            &format!("{net}/floatingips"),
            json!({"floatingip": {"floating_network_id": ext, "unknownx": 1}}),
        )
        .await;
    assert_eq!(
        (s, error(&e)),
        (
            400,
            ("HTTPBadRequest", "Unrecognized attribute(s) 'unknownx'")
        )
    );
    let (s, e) = raw
        .post(
            &format!("{net}/floatingips"),
            json!({"floatingip": {"floating_network_id": ext, "status": "ACTIVE"}}),
        )
        .await;
    assert_eq!(
        (s, error(&e)),
        (
            400,
            ("HTTPBadRequest", "Attribute 'status' not allowed in POST")
        )
    );
    // Nothing was created by the refused calls; a plain create has no tags, a tags PUT sets them.
    let (_, v) = raw.get(&format!("{net}/floatingips")).await;
    assert_eq!(v["floatingips"].as_array().map(Vec::len), Some(0));
    let (s, g) = raw
        .post(
            &format!("{net}/security-groups"),
            json!({"security_group": {"name": "g", "description": "d"}}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(g["security_group"]["tags"], json!([]));
    // Its two default egress rules are Neutron's own: no description (null), unlike a rule
    // POSTed without one (""; see the bulk test).
    let defaults = g["security_group"]["security_group_rules"]
        .as_array()
        .expect("rules");
    assert_eq!(defaults.len(), 2);
    assert!(defaults
        .iter()
        .all(|r| r["direction"] == "egress" && r["description"].is_null()));
    let id = g["security_group"]["id"].as_str().expect("id");
    let (s, t) = raw
        .put(
            &format!("{net}/security-groups/{id}/tags"),
            json!({"tags": ["a", "b"]}),
        )
        .await;
    assert_eq!((s, t), (200, json!({"tags": ["a", "b"]})));
}

#[tokio::test]
async fn if_match_revision_number_guards_port_updates() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let net = &raw.net;
    let ids = sim.seed_ids();
    let port = &ids.member_port_ids[0];
    let url = format!("{net}/ports/{port}");
    let (_, p) = raw.get(&url).await;
    let rev = p["port"]["revision_number"].as_i64().expect("revision");
    let body = json!({"port": {"security_groups": []}});
    // Stale: 412, exactly as real Neutron words it, and nothing changes.
    let (s, e) = put_if_match(
        &raw,
        &url,
        &format!("revision_number={}", rev - 1),
        body.clone(),
    )
    .await;
    assert_eq!(s, 412, "{e}");
    assert_eq!(
        error(&e),
        (
            "RevisionNumberConstraintFailed",
            format!("Constrained to {}, but current revision is {rev}", rev - 1).as_str()
        )
    );
    let (_, p) = raw.get(&url).await;
    assert_eq!(p["port"]["revision_number"], rev);
    assert_ne!(p["port"]["security_groups"], json!([]));
    // Current: 200, and the revision moves on.
    let (s, p) = put_if_match(&raw, &url, &format!("revision_number={rev}"), body.clone()).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["port"]["revision_number"], rev + 1);
    assert_eq!(p["port"]["security_groups"], json!([]));
    // An If-Match that is not `revision_number=N` is ignored (real Neutron: 200).
    let (s, _) = put_if_match(&raw, &url, "5", json!({"port": {"name": "x"}})).await;
    assert_eq!(s, 200);
    // A missing port is 404 whatever the precondition.
    let (s, e) = put_if_match(
        &raw,
        &format!("{net}/ports/00000000-0000-0000-0000-000000000000"),
        "revision_number=1",
        json!({"port": {"name": "x"}}),
    )
    .await;
    assert_eq!((s, error(&e).0), (404, "PortNotFound"));
    // DELETE honours it too.
    let (_, p) = raw
        .post(
            &format!("{net}/ports"),
            json!({"port": {"network_id": ids.vip_network_id}}),
        )
        .await;
    let pid = p["port"]["id"].as_str().expect("port id");
    let r = raw
        .http
        .delete(format!("{net}/ports/{pid}"))
        .header("x-auth-token", &raw.token)
        .header("if-match", "revision_number=0")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 412);
}

#[tokio::test]
async fn repeated_fixed_ips_filters_find_every_members_port_in_one_list() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let net = &raw.net;
    let ids = sim.seed_ids();
    let (_, v) = raw
        .get(&format!(
            "{net}/ports?network_id={}&fixed_ips=ip_address={}&fixed_ips=ip_address={}&fixed_ips=ip_address=10.5.0.250",
            ids.vip_network_id, ids.member_addresses[0], ids.member_addresses[2]
        ))
        .await;
    let mut found: Vec<&str> = v["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    found.sort();
    let mut want = vec![
        ids.member_port_ids[0].as_str(),
        ids.member_port_ids[2].as_str(),
    ];
    want.sort();
    assert_eq!(found, want);
}

#[tokio::test]
async fn bulk_rules_are_atomic_and_refuse_duplicates() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let net = &raw.net;
    let (_, g) = raw
        .post(
            &format!("{net}/security-groups"),
            json!({"security_group": {"name": "g"}}),
        )
        .await;
    let sg = g["security_group"]["id"].as_str().expect("id").to_string();
    let rule = |port: u16| {
        json!({"security_group_id": sg, "direction": "ingress", "ethertype": "IPv4",
               "protocol": "tcp", "port_range_min": port, "port_range_max": port,
               "remote_ip_prefix": "10.5.0.0/24"})
    };
    let rules_url = format!("{net}/security-group-rules");
    let (s, v) = raw
        .post(
            &rules_url,
            json!({"security_group_rules": [rule(6443), rule(443)]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["security_group_rules"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["security_group_rules"][0]["description"], "");
    // The same rule twice in one body: refused before anything is looked at.
    let (s, e) = raw
        .post(
            &rules_url,
            json!({"security_group_rules": [rule(80), rule(80)]}),
        )
        .await;
    assert_eq!(
        (s, error(&e)),
        (
            409,
            (
                "DuplicateSecurityGroupRuleInPost",
                "Duplicate Security Group Rule in POST."
            )
        )
    );
    // One new and one existing: 409 for the existing one, and the new one is not created.
    let (s, e) = raw
        .post(
            &rules_url,
            json!({"security_group_rules": [rule(81), rule(6443)]}),
        )
        .await;
    assert_eq!((s, error(&e).0), (409, "SecurityGroupRuleExists"));
    let (_, v) = raw
        .get(&format!(
            "{rules_url}?security_group_id={sg}&direction=ingress"
        ))
        .await;
    let mut ports: Vec<i64> = v["security_group_rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["port_range_min"].as_i64())
        .collect();
    ports.sort();
    assert_eq!(ports, [443, 6443]);
}
