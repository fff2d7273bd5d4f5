//! Answers captured from the genuine servers (Octavia 19.0.0 with its amphora provider, Neutron
//! 29.0.0; `fixtures/openstack/real/README.md` says how) decode into the crate's read types,
//! and the decoded values are the ones the server sent. These are the project's own fixtures:
//! they need nothing outside the repository, and they pin the decoding paths the reconciler
//! relies on (statuses, ids, the VIP port, nested full-create answers, Neutron tags).

use std::path::Path;

use openstack::load_balancer::health_monitors::HealthMonitor;
use openstack::load_balancer::listeners::Listener;
use openstack::load_balancer::load_balancers::LoadBalancer;
use openstack::load_balancer::members::Member;
use openstack::load_balancer::pools::Pool;
use openstack::load_balancer::providers::Provider;
use openstack::load_balancer::status_tree::StatusTree;
use openstack::load_balancer::{LbAlgorithm, MonitorType, OperatingStatus, ProvisioningStatus};
use openstack::network::floating_ips::FloatingIp;
use openstack::network::networks::Network;
use openstack::network::ports::Port;
use openstack::network::security_groups::{SecurityGroup, SecurityGroupRule};
use openstack::network::subnets::Subnet;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn body(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/openstack/real")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `key` of `name`'s document, decoded.
fn decode<T: DeserializeOwned>(name: &str, key: &str) -> T {
    let v = body(name);
    let inner = v
        .get(key)
        .unwrap_or_else(|| panic!("{name} has no `{key}`"))
        .clone();
    serde_json::from_value(inner).unwrap_or_else(|e| panic!("{name}/{key}: {e}"))
}

#[test]
fn octavia_load_balancer_show_and_full_create() {
    let lb: LoadBalancer = decode("loadbalancer-show.json", "loadbalancer");
    assert_eq!(lb.provisioning_status, ProvisioningStatus::Active);
    assert_eq!(lb.operating_status, OperatingStatus::Offline);
    assert_eq!(lb.provider.as_deref(), Some("amphora"));
    assert_eq!(lb.flavor_id, None);
    assert!(lb.vip_port_id.is_some() && lb.vip_address.is_some());
    assert_eq!(lb.tags, ["octavia-integrator", "oi-capture"]);
    assert_eq!(lb.listeners.len(), 1);
    assert_eq!(lb.pools.len(), 1);

    // The 201 of a fully populated create: listeners and pools come back whole (the pool with
    // its members and monitor), all PENDING_CREATE; our read type takes their ids.
    let created: LoadBalancer = decode("loadbalancer-full-create.json", "loadbalancer");
    assert_eq!(
        created.provisioning_status,
        ProvisioningStatus::PendingCreate
    );
    assert_eq!(created.id, lb.id);
    assert_eq!(created.listeners[0].id, lb.listeners[0].id);
    assert_eq!(created.pools[0].id, lb.pools[0].id);
    let raw = body("loadbalancer-full-create.json");
    let pool = &raw["loadbalancer"]["pools"][0];
    assert_eq!(pool["members"].as_array().map(Vec::len), Some(2));
    assert_eq!(pool["healthmonitor"]["type"], "HTTP");
    assert!(raw["loadbalancer"]["listeners"][0]["default_pool_id"].is_string());
}

#[test]
fn octavia_children_lists() {
    let listeners: Vec<Listener> = decode("listeners-list.json", "listeners");
    assert_eq!(listeners.len(), 1);
    let l = &listeners[0];
    assert_eq!(l.protocol_port, 443);
    assert_eq!(l.allowed_cidrs, ["0.0.0.0/0"]);
    let pools: Vec<Pool> = decode("pools-list.json", "pools");
    let p = &pools[0];
    assert_eq!(l.default_pool_id.as_deref(), Some(p.id.as_str()));
    assert_eq!(p.lb_algorithm, LbAlgorithm::RoundRobin);
    assert_eq!(p.members.len(), 2);
    let members: Vec<Member> = decode("members-list.json", "members");
    assert_eq!(members.len(), 2);
    assert!(members.iter().all(|m| m.protocol_port == 6443));
    assert!(members
        .iter()
        .all(|m| m.operating_status == OperatingStatus::NoMonitor));
    let monitors: Vec<HealthMonitor> = decode("healthmonitors-list.json", "healthmonitors");
    assert_eq!(monitors[0].kind, MonitorType::Http);
    assert_eq!(monitors[0].url_path.as_deref(), Some("/livez"));
    assert_eq!(p.healthmonitor_id.as_deref(), Some(monitors[0].id.as_str()));
}

#[test]
fn octavia_status_tree_and_providers() {
    let tree: StatusTree = decode("loadbalancer-status.json", "statuses");
    let pool = &tree.loadbalancer.listeners[0].pools[0];
    assert_eq!(pool.members.len(), 2);
    assert!(pool.health_monitor.is_some());
    let providers: Vec<Provider> = decode("providers-list.json", "providers");
    assert!(providers.iter().any(|p| p.name == "amphora"));
}

#[test]
fn neutron_floating_ip_port_subnet_network() {
    let lb: LoadBalancer = decode("loadbalancer-show.json", "loadbalancer");
    let fip: FloatingIp = decode("floatingip-create.json", "floatingip");
    assert_eq!(fip.port_id, lb.vip_port_id);
    assert!(!fip.floating_ip_address.is_empty());
    let port: Port = decode("port-show.json", "port");
    assert_eq!(Some(port.id.clone()), lb.vip_port_id);
    assert_eq!(
        port.fixed_ips[0].ip_address,
        lb.vip_address.clone().unwrap_or_default()
    );
    let subnet: Subnet = decode("subnet-show.json", "subnet");
    assert_eq!(Some(subnet.id), lb.vip_subnet_id);
    let net: Network = decode("network-show.json", "network");
    assert_eq!(net.id, fip.floating_network_id);
}

#[test]
fn neutron_security_group_and_rule() {
    let sg: SecurityGroup = decode("security-group-create.json", "security_group");
    assert_eq!(sg.name, "oi-capture-sg");
    let rule: SecurityGroupRule = decode("security-group-rule-create.json", "security_group_rule");
    assert_eq!(rule.security_group_id, sg.id);
    assert_eq!(rule.port_range_min, Some(6443));
    assert_eq!(rule.remote_ip_prefix.as_deref(), Some("198.51.100.0/24"));
}
