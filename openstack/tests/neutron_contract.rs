//! Wire contracts of every Neutron call: method, path, query, headers and JSON body, against a
//! wiremock cloud (see `common`).

mod common;

use common::{cloud, Cloud};
use openstack::network::floating_ips::{self, CreateFloatingIp, ListFloatingIps, UpdateFloatingIp};
use openstack::network::networks::{self, ListNetworks};
use openstack::network::ports::{self, ListPorts, UpdatePort};
use openstack::network::security_groups::{
    self, CreateSecurityGroup, CreateSecurityGroupRule, Direction, EtherType,
    ListSecurityGroupRules, ListSecurityGroups,
};
use openstack::network::subnets::{self, ListSubnets};
use openstack::network::tags::{self, TaggedResource};
use openstack::network::Status;
use serde_json::json;

fn subnet(id: &str) -> serde_json::Value {
    json!({"id": id, "name": "vip", "network_id": "n1", "cidr": "10.0.0.0/24", "ip_version": 4,
           "gateway_ip": null, "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.254"}]})
}

#[tokio::test]
async fn subnet_get_and_list() {
    let c = cloud().await;
    c.once(
        c.neutron("GET", "subnets/s1", &[]),
        200,
        Some(json!({"subnet": subnet("s1")})),
    )
    .await;
    c.once(
        c.neutron("GET", "subnets", &[("name", "vip"), ("network_id", "n1")]),
        200,
        Some(json!({"subnets": [subnet("s1")]})),
    )
    .await;
    let got = subnets::get(&c.session, "s1").await.unwrap();
    assert_eq!(got.cidr, "10.0.0.0/24");
    assert_eq!(got.gateway_ip, None);
    let filter = ListSubnets {
        name: Some("vip".into()),
        network_id: Some("n1".into()),
    };
    assert_eq!(subnets::list(&c.session, &filter).await.unwrap().len(), 1);
}

#[tokio::test]
async fn subnet_list_follows_subnets_links() {
    let c = cloud().await;
    let next = format!("{}/network/v2.0/subnets?limit=1&marker=s1", c.server.uri());
    c.once(
        c.neutron("GET", "subnets", &[]),
        200,
        Some(json!({"subnets": [subnet("s1")], "subnets_links": [{"rel": "next", "href": next}]})),
    )
    .await;
    c.once(
        c.neutron("GET", "subnets", &[("limit", "1"), ("marker", "s1")]),
        200,
        Some(
            json!({"subnets": [subnet("s2")], "subnets_links": [{"rel": "previous", "href": "x"}]}),
        ),
    )
    .await;
    let all = subnets::list(&c.session, &ListSubnets::default())
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["s1", "s2"]
    );
}

fn network(id: &str, external: bool) -> serde_json::Value {
    json!({"id": id, "name": "ext", "status": "ACTIVE", "router:external": external, "subnets": ["s9"]})
}

#[tokio::test]
async fn network_get_list_and_list_external() {
    let c = cloud().await;
    c.once(
        c.neutron("GET", "networks/n1", &[]),
        200,
        Some(json!({"network": network("n1", false)})),
    )
    .await;
    c.once(
        c.neutron("GET", "networks", &[("name", "ext")]),
        200,
        Some(json!({"networks": [network("n2", true)]})),
    )
    .await;
    c.once(
        c.neutron("GET", "networks", &[("router:external", "true")]),
        200,
        Some(json!({"networks": [network("n2", true)]})),
    )
    .await;
    assert!(
        !networks::get(&c.session, "n1")
            .await
            .unwrap()
            .router_external
    );
    let by_name = ListNetworks {
        name: Some("ext".into()),
        router_external: None,
    };
    assert_eq!(
        networks::list(&c.session, &by_name).await.unwrap()[0].id,
        "n2"
    );
    let ext = networks::list_external(&c.session).await.unwrap();
    assert!(ext[0].router_external);
    assert_eq!(ext[0].status, Some(Status::Active));
}

fn port(id: &str, sgs: &[&str]) -> serde_json::Value {
    json!({"id": id, "network_id": "n1", "device_id": "d1", "device_owner": "compute:nova",
           "fixed_ips": [{"ip_address": "10.0.0.10", "subnet_id": "s1"}], "security_groups": sgs,
           "status": "DOWN"})
}

#[tokio::test]
async fn port_get_list_and_update_security_groups() {
    let c = cloud().await;
    c.once(
        c.neutron("GET", "ports/pt1", &[]),
        200,
        Some(json!({"port": port("pt1", &[])})),
    )
    .await;
    c.once(
        c.neutron("GET", "ports", &[("fixed_ips", "ip_address=10.0.0.10")]),
        200,
        Some(json!({"ports": [port("pt1", &[])]})),
    )
    .await;
    c.once(
        c.neutron("GET", "ports", &[("device_id", "d1")]),
        200,
        Some(json!({"ports": [port("pt1", &[])]})),
    )
    .await;
    let body = json!({"port": {"security_groups": ["g1", "g2"]}});
    c.once(
        Cloud::with_body(c.neutron("PUT", "ports/pt1", &[]), body),
        200,
        Some(json!({"port": port("pt1", &["g1", "g2"])})),
    )
    .await;
    let clear = json!({"port": {"security_groups": [], "description": "d"}});
    c.once(
        Cloud::with_body(c.neutron("PUT", "ports/pt2", &[]), clear),
        200,
        Some(json!({"port": port("pt2", &[])})),
    )
    .await;

    let got = ports::get(&c.session, "pt1").await.unwrap();
    assert_eq!(got.fixed_ips[0].ip_address, "10.0.0.10");
    assert_eq!(got.status, Some(Status::Down));
    let by_ip = ListPorts {
        ip_address: Some("10.0.0.10".into()),
        ..Default::default()
    };
    assert_eq!(ports::list(&c.session, &by_ip).await.unwrap().len(), 1);
    let by_device = ListPorts {
        device_id: Some("d1".into()),
        ..Default::default()
    };
    assert_eq!(ports::list(&c.session, &by_device).await.unwrap().len(), 1);
    let updated = ports::set_security_groups(&c.session, "pt1", &["g1".into(), "g2".into()])
        .await
        .unwrap();
    assert_eq!(updated.security_groups, ["g1", "g2"]);
    let update = UpdatePort {
        security_groups: Some(vec![]),
        description: Some("d".into()),
        name: None,
    };
    ports::update(&c.session, "pt2", &update).await.unwrap();
}

fn fip(id: &str, port: Option<&str>) -> serde_json::Value {
    json!({"id": id, "floating_ip_address": "203.0.113.5", "floating_network_id": "ext",
           "port_id": port, "fixed_ip_address": port.map(|_| "10.0.0.9"), "status": "ACTIVE",
           "description": "ours", "tags": ["t"]})
}

#[tokio::test]
async fn floating_ip_list_get_create_update_delete() {
    let c = cloud().await;
    c.once(
        c.neutron("GET", "floatingips", &[("port_id", "vp")]),
        200,
        Some(json!({"floatingips": [fip("f1", Some("vp"))]})),
    )
    .await;
    c.once(
        c.neutron(
            "GET",
            "floatingips",
            &[("floating_network_id", "ext"), ("tags", "a,b")],
        ),
        200,
        Some(json!({"floatingips": []})),
    )
    .await;
    c.once(
        c.neutron("GET", "floatingips/f1", &[]),
        200,
        Some(json!({"floatingip": fip("f1", Some("vp"))})),
    )
    .await;
    let create = json!({"floatingip": {"floating_network_id": "ext", "port_id": "vp", "description": "ours"}});
    c.once(
        Cloud::with_body(c.neutron("POST", "floatingips", &[]), create),
        201,
        Some(json!({"floatingip": fip("f1", Some("vp"))})),
    )
    .await;
    let associate = json!({"floatingip": {"port_id": "vp2", "fixed_ip_address": "10.0.0.8"}});
    c.once(
        Cloud::with_body(c.neutron("PUT", "floatingips/f1", &[]), associate),
        200,
        Some(json!({"floatingip": fip("f1", Some("vp2"))})),
    )
    .await;
    let disassociate = json!({"floatingip": {"port_id": null}});
    c.once(
        Cloud::with_body(c.neutron("PUT", "floatingips/f2", &[]), disassociate),
        200,
        Some(json!({"floatingip": fip("f2", None)})),
    )
    .await;
    c.once(c.neutron("DELETE", "floatingips/f1", &[]), 204, None)
        .await;

    let by_port = ListFloatingIps {
        port_id: Some("vp".into()),
        ..Default::default()
    };
    assert_eq!(
        floating_ips::list(&c.session, &by_port).await.unwrap()[0]
            .port_id
            .as_deref(),
        Some("vp")
    );
    let by_tags = ListFloatingIps {
        floating_network_id: Some("ext".into()),
        tags: vec!["a".into(), "b".into()],
        ..Default::default()
    };
    assert!(floating_ips::list(&c.session, &by_tags)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        floating_ips::get(&c.session, "f1")
            .await
            .unwrap()
            .floating_ip_address,
        "203.0.113.5"
    );
    let req = CreateFloatingIp {
        floating_network_id: "ext".into(),
        port_id: Some("vp".into()),
        description: Some("ours".into()),
        ..Default::default()
    };
    floating_ips::create(&c.session, &req).await.unwrap();
    let update = UpdateFloatingIp {
        port_id: Some(Some("vp2".into())),
        fixed_ip_address: Some("10.0.0.8".into()),
        description: None,
    };
    floating_ips::update(&c.session, "f1", &update)
        .await
        .unwrap();
    let freed = floating_ips::update(
        &c.session,
        "f2",
        &UpdateFloatingIp {
            port_id: Some(None),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(freed.port_id, None);
    floating_ips::delete(&c.session, "f1").await.unwrap();
}

#[tokio::test]
async fn floating_ip_quota_is_reported_as_quota() {
    let c = cloud().await;
    let fault = json!({"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['floatingip'].", "detail": ""}});
    c.once(c.neutron("POST", "floatingips", &[]), 409, Some(fault))
        .await;
    let req = CreateFloatingIp {
        floating_network_id: "ext".into(),
        ..Default::default()
    };
    let err = floating_ips::create(&c.session, &req).await.unwrap_err();
    assert!(err.is_quota(), "{err}");
}

fn group(id: &str) -> serde_json::Value {
    json!({"id": id, "name": "sg", "description": "", "stateful": true, "tags": ["t"],
           "security_group_rules": [rule("r0", "egress")]})
}

fn rule(id: &str, direction: &str) -> serde_json::Value {
    json!({"id": id, "security_group_id": "g1", "direction": direction, "ethertype": "IPv4",
           "protocol": null, "port_range_min": null, "port_range_max": null, "remote_ip_prefix": null})
}

#[tokio::test]
async fn security_groups_list_get_create_delete() {
    let c = cloud().await;
    c.once(
        c.neutron("GET", "security-groups", &[("name", "sg"), ("tags", "a,b")]),
        200,
        Some(json!({"security_groups": [group("g1")]})),
    )
    .await;
    c.once(
        c.neutron("GET", "security-groups/g1", &[]),
        200,
        Some(json!({"security_group": group("g1")})),
    )
    .await;
    let create = json!({"security_group": {"name": "sg", "description": "members"}});
    c.once(
        Cloud::with_body(c.neutron("POST", "security-groups", &[]), create),
        201,
        Some(json!({"security_group": group("g1")})),
    )
    .await;
    c.once(c.neutron("DELETE", "security-groups/g1", &[]), 204, None)
        .await;

    let filter = ListSecurityGroups {
        name: Some("sg".into()),
        tags: vec!["a".into(), "b".into()],
    };
    let listed = security_groups::list(&c.session, &filter).await.unwrap();
    assert_eq!(
        listed[0].security_group_rules[0].direction,
        Direction::Egress
    );
    assert_eq!(
        security_groups::get(&c.session, "g1")
            .await
            .unwrap()
            .stateful,
        Some(true)
    );
    let req = CreateSecurityGroup {
        name: "sg".into(),
        description: Some("members".into()),
        stateful: None,
    };
    security_groups::create(&c.session, &req).await.unwrap();
    security_groups::delete(&c.session, "g1").await.unwrap();
}

#[tokio::test]
async fn security_group_rules_list_create_delete() {
    let c = cloud().await;
    c.once(
        c.neutron(
            "GET",
            "security-group-rules",
            &[("security_group_id", "g1")],
        ),
        200,
        Some(json!({"security_group_rules": [rule("r0", "egress")]})),
    )
    .await;
    let create = json!({"security_group_rule": {"security_group_id": "g1", "direction": "ingress",
        "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 6443, "port_range_max": 6443,
        "remote_ip_prefix": "10.0.0.0/24"}});
    c.once(
        Cloud::with_body(c.neutron("POST", "security-group-rules", &[]), create),
        201,
        Some(json!({"security_group_rule": rule("r1", "ingress")})),
    )
    .await;
    c.once(
        c.neutron("DELETE", "security-group-rules/r1", &[]),
        204,
        None,
    )
    .await;

    let filter = ListSecurityGroupRules {
        security_group_id: Some("g1".into()),
    };
    let rules = security_groups::list_rules(&c.session, &filter)
        .await
        .unwrap();
    assert_eq!(rules[0].ethertype, Some(EtherType::IPv4));
    let req = CreateSecurityGroupRule::ingress("g1", "tcp", 6443, "10.0.0.0/24");
    assert_eq!(
        security_groups::create_rule(&c.session, &req)
            .await
            .unwrap()
            .direction,
        Direction::Ingress
    );
    security_groups::delete_rule(&c.session, "r1")
        .await
        .unwrap();
}

#[tokio::test]
async fn tags_replace_puts_the_whole_list() {
    let c = cloud().await;
    let body = json!({"tags": ["octavia-integrator", "cluster=c1"]});
    c.once(
        Cloud::with_body(c.neutron("PUT", "floatingips/f1/tags", &[]), body.clone()),
        200,
        Some(body.clone()),
    )
    .await;
    c.once(
        Cloud::with_body(
            c.neutron("PUT", "security-groups/g1/tags", &[]),
            json!({"tags": []}),
        ),
        200,
        Some(json!({"tags": []})),
    )
    .await;
    let wanted = vec!["octavia-integrator".to_string(), "cluster=c1".to_string()];
    let got = tags::replace(&c.session, TaggedResource::FloatingIp, "f1", &wanted)
        .await
        .unwrap();
    assert_eq!(got, wanted);
    assert!(
        tags::replace(&c.session, TaggedResource::SecurityGroup, "g1", &[])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn ports_of_several_addresses_are_one_list_and_writes_carry_if_match() {
    let c = cloud().await;
    c.once(
        c.neutron(
            "GET",
            "ports",
            &[
                ("network_id", "n1"),
                ("fixed_ips", "ip_address=10.0.0.10"),
                ("fixed_ips", "ip_address=10.0.0.11"),
            ],
        ),
        200,
        Some(json!({"ports": [port("pt1", &[]), port("pt2", &[])]})),
    )
    .await;
    let body = json!({"port": {"security_groups": ["g1"]}});
    c.once(
        Cloud::with_body(c.neutron("PUT", "ports/pt1", &[]), body.clone())
            .and(wiremock::matchers::header("If-Match", "revision_number=4")),
        200,
        Some(json!({"port": port("pt1", &["g1"])})),
    )
    .await;
    // Neutron's answer when the port changed since revision 3 (as real Neutron 29 words it).
    c.once(
        Cloud::with_body(c.neutron("PUT", "ports/pt2", &[]), body)
            .and(wiremock::matchers::header("If-Match", "revision_number=3")),
        412,
        Some(
            json!({"NeutronError": {"type": "RevisionNumberConstraintFailed",
            "message": "Constrained to 3, but current revision is 4", "detail": ""}}),
        ),
    )
    .await;

    let filter = ListPorts {
        network_id: Some("n1".into()),
        ip_addresses: vec!["10.0.0.10".into(), "10.0.0.11".into()],
        ..Default::default()
    };
    assert_eq!(ports::list(&c.session, &filter).await.unwrap().len(), 2);
    let update = UpdatePort {
        security_groups: Some(vec!["g1".into()]),
        ..Default::default()
    };
    let written = ports::update_at_revision(&c.session, "pt1", 4, &update)
        .await
        .unwrap();
    assert_eq!(written.security_groups, ["g1"]);
    let stale = ports::update_at_revision(&c.session, "pt2", 3, &update)
        .await
        .unwrap_err();
    assert!(stale.is_stale_revision(), "{stale}");
    assert!(!stale.is_conflict());
    assert!(stale.to_string().contains("Constrained to 3"), "{stale}");
}

#[tokio::test]
async fn security_group_rules_in_one_bulk_create() {
    let c = cloud().await;
    let body = json!({"security_group_rules": [
        {"security_group_id": "g1", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
         "port_range_min": 6443, "port_range_max": 6443, "remote_ip_prefix": "10.0.0.0/24"},
        {"security_group_id": "g1", "direction": "ingress", "ethertype": "IPv6", "protocol": "tcp",
         "port_range_min": 6443, "port_range_max": 6443, "remote_ip_prefix": "2001:db8::/64"}]});
    c.once(
        Cloud::with_body(c.neutron("POST", "security-group-rules", &[]), body),
        201,
        Some(json!({"security_group_rules": [rule("r1", "ingress"), rule("r2", "ingress")]})),
    )
    .await;
    let rules = [
        CreateSecurityGroupRule::ingress("g1", "tcp", 6443, "10.0.0.0/24"),
        CreateSecurityGroupRule::ingress("g1", "tcp", 6443, "2001:db8::/64"),
    ];
    let made = security_groups::create_rules(&c.session, &rules)
        .await
        .unwrap();
    assert_eq!(
        made.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r1", "r2"]
    );
}
