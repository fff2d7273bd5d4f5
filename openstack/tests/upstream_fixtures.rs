//! Every upstream API example in `../shared/fixtures-upstream/{octavia,neutron}` (relative to
//! the repository root) is accounted for here, one file at a time:
//!
//! - a **response** example decodes into the crate's read type, strictly (straight from the
//!   text, so duplicate keys are caught), and a few decoded values are checked;
//! - a **request** example equals what the crate's request type serializes to, after removing
//!   only the fields this crate deliberately does not model (named per file) and repairing the
//!   documented defects (named per file);
//! - a **known defect** (SOURCES.md) is named with the defect and handled on purpose: the test
//!   proves the defect is there (e.g. strict decoding fails on the duplicate key) and then
//!   checks what the crate does about it;
//! - an example for something the crate does not model says why.
//!
//! A file in the folder without an entry below, or an entry without its file, fails the test.
//!
//! This is the optional fidelity tier: without `../shared` beside the checkout the test prints
//! one `skipped: no ../shared` line and passes. Every decoding path it exercises is also
//! covered by the project's own bodies in `octavia_contract.rs`, `neutron_contract.rs` and
//! `own_bodies.rs`, which need nothing outside the repository.

mod shared_tier;

use std::collections::{BTreeMap, HashMap};

use openstack::load_balancer::health_monitors::{
    CreateHealthMonitor, HealthMonitor, UpdateHealthMonitor,
};
use openstack::load_balancer::listeners::{CreateListener, DefaultPool, Listener, UpdateListener};
use openstack::load_balancer::load_balancers::{
    AdditionalVip, CreateLoadBalancer, LoadBalancer, UpdateLoadBalancer,
};
use openstack::load_balancer::members::{CreateMember, Member};
use openstack::load_balancer::pools::{CreatePool, Pool, SessionPersistence, UpdatePool};
use openstack::load_balancer::providers::Provider;
use openstack::load_balancer::status_tree::StatusTree;
use openstack::load_balancer::{
    HttpMethod, LbAlgorithm, MonitorType, OperatingStatus, Protocol, ProvisioningStatus,
    SessionPersistenceType,
};
use openstack::network::floating_ips::{CreateFloatingIp, FloatingIp, UpdateFloatingIp};
use openstack::network::networks::Network;
use openstack::network::ports::{Port, UpdatePort};
use openstack::network::security_groups::{
    CreateSecurityGroup, CreateSecurityGroupRule, Direction, EtherType, SecurityGroup,
    SecurityGroupRule,
};
use openstack::network::subnets::Subnet;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

type Check = fn(&str) -> Result<(), String>;

/// What we do with one upstream file.
enum Plan {
    /// A clean response example: strict decode plus value checks.
    Response(Check),
    /// A response or request example with a known defect (named), handled on purpose.
    Defect(&'static str, Check),
    /// A clean request example: our serialization must match.
    Request(Check),
    /// Not modelled by this crate, and why.
    NotModelled(&'static str),
}

#[test]
fn every_upstream_octavia_and_neutron_example_is_accounted_for() {
    let Some(root) =
        shared_tier::upstream_dir("every_upstream_octavia_and_neutron_example_is_accounted_for")
    else {
        return;
    };
    assert!(
        root.join("octavia").is_dir() && root.join("neutron").is_dir(),
        "{} has no octavia/ and neutron/ folders",
        root.display(),
    );
    let table = plans();
    let mut failures = Vec::new();
    let mut seen = Vec::new();
    for service in ["octavia", "neutron"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(service))
            .unwrap_or_else(|e| panic!("cannot list {service} fixtures: {e}"))
            .map(|e| {
                e.expect("directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| n.ends_with(".json"))
            .collect();
        files.sort();
        for file in files {
            let key = format!("{service}/{file}");
            let text = std::fs::read_to_string(root.join(&key)).expect("readable fixture");
            let Some((_, plan)) = table.iter().find(|(k, _)| *k == key) else {
                failures.push(format!("{key}: no plan; decide whether it is a response, a request, a defect or not modelled"));
                continue;
            };
            seen.push(key.clone());
            let result = match plan {
                Plan::Response(check) | Plan::Request(check) => check(&text),
                Plan::Defect(defect, check) => {
                    eprintln!("{key}: known defect handled on purpose: {defect}");
                    check(&text)
                }
                Plan::NotModelled(why) => {
                    eprintln!("{key}: not modelled: {why}");
                    Ok(())
                }
            };
            if let Err(e) = result {
                failures.push(format!("{key}: {e}"));
            }
        }
    }
    for (key, _) in &table {
        if !seen.iter().any(|s| s == key) {
            failures.push(format!(
                "{key}: planned but missing from {}",
                root.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "upstream fixture failures:\n{}",
        failures.join("\n")
    );
    let exercised = table
        .iter()
        .filter(|(_, p)| !matches!(p, Plan::NotModelled(_)))
        .count();
    assert!(
        exercised >= 58,
        "only {exercised} fixtures exercised; the plan lost entries"
    );
}

// ---- helpers -------------------------------------------------------------------------------

/// Decodes the single top-level key's value straight from the text (duplicate keys fail).
fn strict<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let map: HashMap<String, T> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    map.into_values()
        .next()
        .ok_or_else(|| "empty document".into())
}

/// The single top-level key's value as JSON.
fn inner(text: &str) -> Result<Value, String> {
    let map: HashMap<String, Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    map.into_values()
        .next()
        .ok_or_else(|| "empty document".into())
}

fn ensure(cond: bool, what: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!("check failed: {what}"))
    }
}

/// Removes fields this crate deliberately does not send.
fn drop_keys(v: &mut Value, keys: &[&str]) {
    if let Some(map) = v.as_object_mut() {
        for k in keys {
            map.remove(*k);
        }
    }
}

/// Repairs the documented "number written as a string" defect of a request example.
fn numbers_from_strings(v: &mut Value, keys: &[&str]) -> Result<(), String> {
    for k in keys {
        let slot = v
            .get_mut(*k)
            .ok_or_else(|| format!("expected defect field `{k}` is absent"))?;
        let s = slot
            .as_str()
            .ok_or_else(|| format!("defect gone: `{k}` is no longer a string"))?;
        let n: i64 = s
            .parse()
            .map_err(|_| format!("`{k}` = {s:?} is not a number"))?;
        *slot = json!(n);
    }
    Ok(())
}

fn same<T: Serialize>(ours: &T, expected: &Value) -> Result<(), String> {
    let got = serde_json::to_value(ours).map_err(|e| e.to_string())?;
    if &got == expected {
        Ok(())
    } else {
        Err(format!(
            "request differs:\n ours:     {got}\n upstream: {expected}"
        ))
    }
}

fn s(v: &str) -> String {
    v.to_string()
}

const LISTENER_TLS: &[&str] = &[
    "default_tls_container_ref",
    "sni_container_refs",
    "client_ca_tls_container_ref",
    "client_authentication",
    "client_crl_container_ref",
    "tls_ciphers",
    "tls_versions",
    "alpn_protocols",
    "hsts_include_subdomains",
    "hsts_max_age",
    "hsts_preload",
];

const POOL_TLS: &[&str] = &[
    "tls_container_ref",
    "ca_tls_container_ref",
    "crl_container_ref",
    "tls_enabled",
    "tls_ciphers",
    "tls_versions",
    "alpn_protocols",
];

// ---- the plan ------------------------------------------------------------------------------

fn plans() -> Vec<(&'static str, Plan)> {
    use Plan::*;
    vec![
        // Octavia: load balancers
        ("octavia/loadbalancer-create-request.json", Request(lb_create_request)),
        ("octavia/loadbalancer-create-response.json", Defect(
            "flavor_id is \"\" (real servers send null); provider is the deprecated alias `octavia`",
            |t| {
                let lb: LoadBalancer = strict(t)?;
                ensure(lb.flavor().is_none(), "\"\" flavor reads as no flavor")?;
                ensure(lb.provisioning_status == ProvisioningStatus::PendingCreate, "status")?;
                ensure(lb.additional_vips.len() == 2 && lb.additional_vips[0].ip_address.as_deref() == Some("2001:db8::b33f"), "additional vips")?;
                ensure(lb.listeners.is_empty() && lb.pools.is_empty(), "absent children read as empty")
            },
        )),
        ("octavia/loadbalancer-show-response.json", Defect("flavor_id is \"\"", lb_active)),
        ("octavia/loadbalancer-update-request.json", Request(|t| {
            let ours = UpdateLoadBalancer {
                name: Some(s("disabled_load_balancer")),
                description: Some(s("Temporarily disabled load balancer")),
                admin_state_up: Some(false),
                vip_qos_policy_id: Some(Some(s("ec4f78ca-8da8-4e99-8a1a-e3b94595a7a3"))),
                tags: Some(vec![s("updated_tag")]),
            };
            same(&ours, &inner(t)?)
        })),
        ("octavia/loadbalancer-update-response.json", Defect("flavor_id is \"\"", |t| {
            let lb: LoadBalancer = strict(t)?;
            ensure(!lb.admin_state_up && lb.provisioning_status == ProvisioningStatus::PendingUpdate, "disabled, pending update")?;
            ensure(lb.flavor().is_none(), "\"\" flavor reads as no flavor")
        })),
        ("octavia/loadbalancers-list-response.json", Defect("flavor_id is \"\"", |t| {
            let lbs: Vec<LoadBalancer> = strict(t)?;
            ensure(lbs.len() == 1 && lbs[0].listeners[0].id == "023f2e34-7806-443b-bfae-16c324569a3d", "children as {id}")?;
            ensure(lbs[0].flavor().is_none(), "\"\" flavor reads as no flavor")
        })),
        ("octavia/loadbalancer-full-create-request.json", Defect(
            "health monitor delay is the string \"3\" (twice); flavor_id is \"\"; project_id is admin-only; \
             l7policies are not modelled",
            lb_full_create_request,
        )),
        ("octavia/loadbalancer-full-create-response.json", Defect(
            "stale format: listeners carry default_pool {id} and default_tls_container_id, children lack statuses; \
             only ids and names of children are read, so it still decodes",
            |t| {
                let lb: LoadBalancer = strict(t)?;
                let names: Vec<_> = lb.listeners.iter().filter_map(|l| l.name.as_deref()).collect();
                ensure(names == ["http_listener", "https_listener", "redirect_listener"], "listener names")?;
                ensure(lb.pools.len() == 2 && lb.pools[1].name.as_deref() == Some("https_pool"), "pool names")?;
                // The stale children would not pass as current objects: proves the defect.
                let raw = inner(t)?;
                let stale: Result<Listener, _> = serde_json::from_value(raw["listeners"][0].clone());
                ensure(stale.is_err(), "stale listener lacks provisioning_status")
            },
        )),
        ("octavia/loadbalancer-status-response.json", Defect(
            "pools use the key `healthmonitor` (server code: `health_monitor`) and `{}` for none; \
             both spellings are accepted and `{}` reads as no monitor",
            |t| {
                let tree: StatusTree = strict(t)?;
                let lb = &tree.loadbalancer;
                ensure(lb.operating_status == OperatingStatus::Degraded, "lb degraded")?;
                let hm = lb.pools[0].health_monitor.as_ref().ok_or("first pool has a monitor")?;
                ensure(hm.kind == Some(MonitorType::Http) && hm.operating_status.is_none(), "monitor")?;
                ensure(lb.pools[1].health_monitor.is_none(), "`{}` is no monitor")?;
                ensure(lb.listeners[0].pools[0].members[0].operating_status == OperatingStatus::Error, "member error")
            },
        )),
        ("octavia/loadbalancer-stats-response.json", NotModelled("traffic statistics are not used by the integrator")),
        ("octavia/quotas-show-response.json", NotModelled("quotas are learnt from 403 answers, not read")),
        ("octavia/versions-get-resp.json", NotModelled("the version document is read by openstack::session (octavia_version)")),
        ("octavia/provider-list-response.json", Response(|t| {
            let p: Vec<Provider> = strict(t)?;
            ensure(p.len() == 2 && p[0].name == "amphora" && p[1].name == "octavia", "providers")
        })),
        // Octavia: listeners
        ("octavia/listener-create-request.json", Defect(
            "protocol_port is the string \"443\"; TLS fields are not modelled; loadbalancer_id is a call argument",
            listener_create_request,
        )),
        ("octavia/listener-create-response.json", Response(listener_tls)),
        ("octavia/listener-show-response.json", Response(listener_tls)),
        ("octavia/listener-update-request.json", Request(listener_update_request)),
        ("octavia/listener-update-response.json", Response(|t| {
            let l: Listener = strict(t)?;
            ensure(l.provisioning_status == ProvisioningStatus::PendingUpdate, "pending update")?;
            ensure(l.insert_headers.get("X-Forwarded-For").map(String::as_str) == Some("false"), "headers")
        })),
        ("octavia/listeners-list-response.json", Defect(
            "duplicate \"id\" key inside l7policies[0]: strict decoding fails; after the duplicate \
             collapses (last wins) the list decodes",
            |t| {
                let err = strict::<Vec<Listener>>(t).err().ok_or("defect gone: strict decode succeeded")?;
                ensure(err.contains("duplicate field `id`"), &format!("error names the duplicate: {err}"))?;
                let l: Vec<Listener> = serde_json::from_value(inner(t)?).map_err(|e| e.to_string())?;
                ensure(l[0].l7policies.len() == 1 && l[0].protocol == Protocol::TerminatedHttps, "decoded")
            },
        )),
        // Octavia: pools
        ("octavia/pool-create-request.json", Request(|t| {
            let mut expected = inner(t)?;
            drop_keys(&mut expected, POOL_TLS);
            drop_keys(&mut expected, &["listener_id"]); // a call argument (PoolParent)
            let ours = CreatePool {
                name: Some(s("super-pool")),
                description: Some(s("Super Round Robin Pool")),
                admin_state_up: Some(true),
                session_persistence: Some(SessionPersistence {
                    kind: SessionPersistenceType::AppCookie,
                    cookie_name: Some(s("ChocolateChip")),
                    persistence_timeout: None,
                    persistence_granularity: None,
                }),
                tags: vec![s("test_tag")],
                ..CreatePool::new(Protocol::Http, LbAlgorithm::RoundRobin)
            };
            same(&ours, &expected)
        })),
        ("octavia/pool-create-response.json", Response(pool_check)),
        ("octavia/pool-show-response.json", Response(pool_check)),
        ("octavia/pool-update-request.json", Request(|t| {
            let mut expected = inner(t)?;
            drop_keys(&mut expected, POOL_TLS);
            let ours = UpdatePool {
                name: Some(s("super-least-conn-pool")),
                description: Some(s("Super Least Connections Pool")),
                lb_algorithm: Some(LbAlgorithm::LeastConnections),
                session_persistence: Some(Some(SessionPersistence::source_ip())),
                admin_state_up: None,
                tags: Some(vec![s("updated_tag")]),
            };
            same(&ours, &expected)
        })),
        ("octavia/pool-update-response.json", Response(|t| {
            let p: Pool = strict(t)?;
            ensure(p.lb_algorithm == LbAlgorithm::LeastConnections && p.provisioning_status == ProvisioningStatus::PendingUpdate, "updated pool")
        })),
        ("octavia/pools-list-response.json", Defect(
            "duplicate \"id\" key inside members[0]: strict decoding fails; after the duplicate \
             collapses (last wins) the list decodes",
            |t| {
                let err = strict::<Vec<Pool>>(t).err().ok_or("defect gone: strict decode succeeded")?;
                ensure(err.contains("duplicate field `id`"), &format!("error names the duplicate: {err}"))?;
                let p: Vec<Pool> = serde_json::from_value(inner(t)?).map_err(|e| e.to_string())?;
                ensure(p[0].members[0].id == "692e8358-f8fd-4b92-bbca-6e4b97c75571", "last id wins")?;
                ensure(p[0].session_persistence.as_ref().map(|s| &s.kind) == Some(&SessionPersistenceType::SourceIp), "persistence")
            },
        )),
        ("octavia/pool-session-persistence-obj.json", Request(|t| {
            let expected: Value = serde_json::from_str(t).map_err(|e| e.to_string())?;
            let decoded: SessionPersistence = serde_json::from_str(t).map_err(|e| e.to_string())?;
            ensure(decoded.kind == SessionPersistenceType::AppCookie, "decodes")?;
            same(&decoded, &expected)
        })),
        // Octavia: members
        ("octavia/member-create-request.json", Defect(
            "weight \"20\" and protocol_port \"80\" are strings",
            |t| {
                let mut expected = inner(t)?;
                numbers_from_strings(&mut expected, &["weight", "protocol_port"])?;
                let ours = CreateMember {
                    name: Some(s("web-server-1")),
                    weight: Some(20),
                    admin_state_up: Some(true),
                    subnet_id: Some(s("bbb35f84-35cc-4b2f-84c2-a6a29bba68aa")),
                    monitor_port: Some(8080),
                    backup: Some(false),
                    tags: vec![s("test_tag")],
                    ..CreateMember::new("192.0.2.16", 80)
                };
                same(&ours, &expected)
            },
        )),
        ("octavia/member-create-response.json", Response(member_check)),
        ("octavia/member-show-response.json", Response(member_check)),
        ("octavia/member-update-request.json", NotModelled("members change only through the batch update (members::batch_update)")),
        ("octavia/member-update-response.json", Response(|t| {
            let m: Member = strict(t)?;
            ensure(m.weight == Some(20) && m.provisioning_status == ProvisioningStatus::PendingUpdate, "updated member")
        })),
        ("octavia/members-list-response.json", Response(|t| {
            let m: Vec<Member> = strict(t)?;
            ensure(m[0].operating_status == OperatingStatus::NoMonitor && m[0].monitor_address.is_none(), "member")
        })),
        ("octavia/member-batch-update-request.json", Request(|t| {
            let expected = inner(t)?;
            let ours: Vec<CreateMember> = [("web-server-1", 20, "192.0.2.16"), ("web-server-2", 10, "192.0.2.17")]
                .iter()
                .map(|(name, weight, address)| CreateMember {
                    name: Some(s(name)),
                    weight: Some(*weight),
                    admin_state_up: Some(true),
                    subnet_id: Some(s("bbb35f84-35cc-4b2f-84c2-a6a29bba68aa")),
                    monitor_port: Some(8080),
                    tags: vec![s("updated_tag")],
                    ..CreateMember::new(*address, 80)
                })
                .collect();
            same(&ours, &expected)
        })),
        // Octavia: health monitors
        ("octavia/healthmonitor-create-request.json", Defect(
            "delay \"10\", max_retries \"1\", timeout \"5\" are strings; pool_id is a call argument",
            |t| {
                let mut expected = inner(t)?;
                numbers_from_strings(&mut expected, &["delay", "max_retries", "timeout"])?;
                drop_keys(&mut expected, &["pool_id"]);
                let ours = CreateHealthMonitor {
                    name: Some(s("super-pool-health-monitor")),
                    admin_state_up: Some(true),
                    expected_codes: Some(s("200")),
                    http_method: Some(HttpMethod::Get),
                    url_path: Some(s("/")),
                    max_retries_down: Some(3),
                    tags: vec![s("test_tag")],
                    http_version: Some(1.1),
                    domain_name: Some(s("testlab.com")),
                    ..CreateHealthMonitor::new(MonitorType::Http, 10, 5, 1)
                };
                same(&ours, &expected)
            },
        )),
        ("octavia/healthmonitor-create-response.json", Response(monitor_check)),
        ("octavia/healthmonitor-show-response.json", Response(monitor_check)),
        ("octavia/healthmonitor-update-request.json", Request(|t| {
            let ours = UpdateHealthMonitor {
                name: Some(s("super-pool-health-monitor-updated")),
                admin_state_up: Some(true),
                delay: Some(5),
                expected_codes: Some(s("200")),
                http_method: Some(HttpMethod::Head),
                timeout: Some(2),
                url_path: Some(s("/index.html")),
                max_retries: Some(2),
                max_retries_down: Some(2),
                tags: Some(vec![s("updated_tag")]),
                http_version: Some(1.1),
                domain_name: None,
            };
            same(&ours, &inner(t)?)
        })),
        ("octavia/healthmonitor-update-response.json", Response(|t| {
            let h: HealthMonitor = strict(t)?;
            ensure(h.http_method == Some(HttpMethod::Head) && h.provisioning_status == ProvisioningStatus::PendingUpdate, "updated monitor")
        })),
        ("octavia/healthmonitors-list-response.json", Response(|t| {
            let h: Vec<HealthMonitor> = strict(t)?;
            ensure(!h.is_empty() && h[0].pools.len() == 1, "monitors")
        })),
        // Neutron: floating IPs
        ("neutron/floatingip-create-request.json", Request(|t| {
            let ours = CreateFloatingIp {
                floating_network_id: s("376da547-b977-4cfe-9cba-275c80debf57"),
                port_id: Some(s("ce705c24-c1ef-408a-bda3-7bbd946164ab")),
                subnet_id: Some(s("278d9507-36e7-403c-bb80-1d7093318fe6")),
                fixed_ip_address: Some(s("10.0.0.3")),
                floating_ip_address: Some(s("172.24.4.228")),
                description: Some(s("floating ip for testing")),
                dns_domain: Some(s("my-domain.org.")),
                dns_name: Some(s("myfip")),
                qos_policy_id: Some(s("29d5e02e-d5ab-4929-bee4-4a9fc12e22ae")),
            };
            same(&ours, &inner(t)?)
        })),
        ("neutron/floatingip-create-response.json", Defect(TAGS_DEFECT, fip_associated)),
        ("neutron/floatingip-show-response.json", Defect(TAGS_DEFECT, fip_associated)),
        ("neutron/floatingip-update-request.json", Request(|t| {
            let ours = UpdateFloatingIp { port_id: Some(Some(s("fc861431-0e6c-4842-a0ed-e2363f9bc3a8"))), ..Default::default() };
            same(&ours, &inner(t)?)
        })),
        ("neutron/floatingip-update-response.json", Defect(TAGS_DEFECT, |t| {
            let f: FloatingIp = strict(t)?;
            ensure(f.port_id.as_deref() == Some("fc861431-0e6c-4842-a0ed-e2363f9bc3a8"), "re-associated")
        })),
        ("neutron/floatingip-disassociate-request.json", Request(|t| {
            let ours = UpdateFloatingIp { port_id: Some(None), ..Default::default() };
            same(&ours, &inner(t)?)
        })),
        ("neutron/floatingip-disassociate-response.json", Defect(TAGS_DEFECT, |t| {
            let f: FloatingIp = strict(t)?;
            ensure(f.port_id.is_none() && f.fixed_ip_address.is_none(), "disassociated")
        })),
        ("neutron/floating-ips-list-response.json", Defect(TAGS_DEFECT, |t| {
            let f: Vec<FloatingIp> = strict(t)?;
            ensure(f.len() >= 2 && f.iter().any(|f| f.port_id.is_none()), "list with a free address")
        })),
        // Neutron: networks, subnets, ports
        ("neutron/network-show-response.json", Defect(TAGS_DEFECT, |t| {
            let n: Network = strict(t)?;
            ensure(!n.router_external && n.mtu == Some(1500) && n.subnets.len() == 1, "network")
        })),
        ("neutron/networks-list-response.json", Defect(TAGS_DEFECT, |t| {
            let n: Vec<Network> = strict(t)?;
            ensure(!n.is_empty() && n.iter().all(|n| !n.id.is_empty()), "networks")
        })),
        ("neutron/subnet-show-response.json", Defect(TAGS_DEFECT, |t| {
            let s: Subnet = strict(t)?;
            ensure(s.cidr == "192.0.0.0/8" && s.ip_version == 4 && s.allocation_pools[0].start == "192.0.0.2", "subnet")?;
            ensure(s.tags == ["tag1,tag2"], "the one comma tag is kept verbatim, not split")
        })),
        ("neutron/port-show-response.json", Defect(TAGS_DEFECT, |t| {
            let p: Port = strict(t)?;
            ensure(p.fixed_ips[0].ip_address == "10.0.0.1" && p.port_security_enabled == Some(false), "port")
        })),
        ("neutron/ports-list-response.json", Response(|t| {
            let p: Vec<Port> = strict(t)?;
            ensure(p.len() >= 2 && p.iter().all(|p| !p.network_id.is_empty()), "ports")
        })),
        ("neutron/port-update-request.json", Request(|t| {
            // We only ever change a port's security groups (and name/description).
            let mut expected = inner(t)?;
            drop_keys(&mut expected, &["admin_state_up", "device_id", "device_owner", "qos_policy_id",
                "propagate_uplink_status", "pvlan_type", "pvlan_community"]);
            same(&UpdatePort { name: Some(s("test-for-port-update")), ..Default::default() }, &expected)
        })),
        ("neutron/port-update-response.json", Defect(TAGS_DEFECT, |t| {
            let p: Port = strict(t)?;
            ensure(p.name == "test-for-port-update", "updated port")
        })),
        // Neutron: security groups
        ("neutron/security-group-create-request.json", Request(|t| {
            let ours = CreateSecurityGroup {
                name: s("new-webservers"),
                description: Some(s("security group for webservers")),
                stateful: Some(true),
            };
            same(&ours, &inner(t)?)
        })),
        ("neutron/security-group-create-response.json", Defect(
            "typo key \"revisio[n_number\" in the first rule (an unknown field, ignored); tags [\"tag1,tag2\"]",
            |t| {
                let g: SecurityGroup = strict(t)?;
                ensure(g.security_group_rules.len() == 2, "two default egress rules")?;
                ensure(g.security_group_rules.iter().all(|r| r.direction == Direction::Egress), "egress")
            },
        )),
        ("neutron/security-group-show-response.json", Response(|t| {
            let g: SecurityGroup = strict(t)?;
            ensure(!g.id.is_empty() && !g.security_group_rules.is_empty(), "group with rules")
        })),
        ("neutron/security-groups-list-response.json", Response(|t| {
            let g: Vec<SecurityGroup> = strict(t)?;
            ensure(!g.is_empty(), "groups")
        })),
        ("neutron/security-group-update-request.json", NotModelled("we never update a security group; rules change by delete + create")),
        ("neutron/security-group-rule-create-request.json", Defect(
            "port_range_min/max are strings \"80\"; both remote_group_id and remote_address_group_id \
             are set (a real Neutron refuses that; our type can still express it verbatim)",
            |t| {
                let mut expected = inner(t)?;
                numbers_from_strings(&mut expected, &["port_range_min", "port_range_max"])?;
                let ours = CreateSecurityGroupRule {
                    security_group_id: s("a7734e61-b545-452d-a3cd-0189cbd9747a"),
                    direction: Direction::Ingress,
                    ethertype: Some(EtherType::IPv4),
                    protocol: Some(s("tcp")),
                    port_range_min: Some(80),
                    port_range_max: Some(80),
                    remote_ip_prefix: None,
                    remote_group_id: Some(s("85cc3048-abc3-43cc-89b3-377341426ac5")),
                    remote_address_group_id: Some(s("a9baa1eb-0614-4d68-870e-fec6d8f8c221")),
                    description: None,
                };
                same(&ours, &expected)
            },
        )),
        ("neutron/security-group-rule-create-response.json", Response(|t| {
            let r: SecurityGroupRule = strict(t)?;
            ensure(r.direction == Direction::Ingress && r.port_range_min == Some(80), "rule")
        })),
        ("neutron/security-group-rule-show-response.json", Response(|t| {
            let r: SecurityGroupRule = strict(t)?;
            ensure(r.ethertype == Some(EtherType::IPv6) && r.protocol.is_none(), "any-protocol egress rule")
        })),
        ("neutron/security-group-rules-list-response.json", Response(|t| {
            let r: Vec<SecurityGroupRule> = strict(t)?;
            ensure(!r.is_empty(), "rules")
        })),
        ("neutron/versions-list-response.json", NotModelled("Neutron version discovery is not needed (v2.0 is the only version)")),
    ]
}

const TAGS_DEFECT: &str =
    "tags is [\"tag1,tag2\"]: one string with a comma, kept verbatim (not split)";

// ---- shared checks -------------------------------------------------------------------------

fn lb_active(t: &str) -> Result<(), String> {
    let lb: LoadBalancer = strict(t)?;
    ensure(
        lb.provisioning_status == ProvisioningStatus::PendingCreate
            && lb.operating_status == OperatingStatus::Online,
        "statuses",
    )?;
    ensure(
        lb.vip_port_id.as_deref() == Some("b4ca07d1-a31e-43e2-891a-7d14f419f342"),
        "vip port",
    )?;
    ensure(
        lb.created_at.as_deref() == Some("2017-02-28T00:41:44"),
        "naive timestamp kept",
    )?;
    ensure(lb.flavor().is_none(), "\"\" flavor reads as no flavor")
}

fn listener_tls(t: &str) -> Result<(), String> {
    let l: Listener = strict(t)?;
    ensure(
        l.protocol == Protocol::TerminatedHttps && l.protocol_port == 443,
        "protocol",
    )?;
    ensure(
        l.allowed_cidrs == ["192.0.2.0/24", "198.51.100.0/24"],
        "allowed cidrs",
    )?;
    ensure(l.timeout_member_connect == Some(5000), "timeouts")
}

fn pool_check(t: &str) -> Result<(), String> {
    let p: Pool = strict(t)?;
    ensure(
        p.protocol == Protocol::Http && p.lb_algorithm == LbAlgorithm::RoundRobin,
        "pool",
    )?;
    let sp = p.session_persistence.ok_or("session persistence")?;
    ensure(
        sp.kind == SessionPersistenceType::AppCookie
            && sp.cookie_name.as_deref() == Some("ChocolateChip"),
        "app cookie",
    )
}

fn member_check(t: &str) -> Result<(), String> {
    let m: Member = strict(t)?;
    ensure(
        m.address == "192.0.2.16" && m.protocol_port == 80 && m.weight == Some(20),
        "member",
    )?;
    ensure(
        m.monitor_port == Some(8080) && !m.backup,
        "monitor port, not backup",
    )
}

fn monitor_check(t: &str) -> Result<(), String> {
    let h: HealthMonitor = strict(t)?;
    ensure(
        h.kind == MonitorType::Http && h.delay == 10 && h.timeout == 5 && h.max_retries == 1,
        "monitor",
    )?;
    ensure(
        h.pools[0].id == "4029d267-3983-4224-a3d0-afb3fe16a2cd",
        "pool ref",
    )
}

fn fip_associated(t: &str) -> Result<(), String> {
    let f: FloatingIp = strict(t)?;
    ensure(
        f.port_id.as_deref() == Some("ce705c24-c1ef-408a-bda3-7bbd946164ab"),
        "port",
    )?;
    ensure(
        f.floating_ip_address == "172.24.4.228" && f.tags == ["tag1,tag2"],
        "address, verbatim tag",
    )
}

// ---- request builders ----------------------------------------------------------------------

fn lb_create_request(t: &str) -> Result<(), String> {
    let mut expected = inner(t)?;
    drop_keys(&mut expected, &["project_id"]); // admin-only; never sent
    let ours = CreateLoadBalancer {
        name: Some(s("best_load_balancer")),
        description: Some(s("My favorite load balancer")),
        admin_state_up: Some(true),
        vip_subnet_id: Some(s("d4af86e1-0051-488c-b7a0-527f97490c9a")),
        vip_address: Some(s("203.0.113.50")),
        additional_vips: vec![
            AdditionalVip {
                subnet_id: s("3ca40b2e-c286-4e53-bdb9-dd01c8a0ad6d"),
                ip_address: Some(s("2001:db8::b33f")),
                port_id: None,
            },
            AdditionalVip {
                subnet_id: s("44d92b92-510f-4c05-8058-bf5a17b4d41c"),
                ip_address: None,
                port_id: None,
            },
        ],
        provider: Some(s("octavia")),
        vip_qos_policy_id: Some(s("ec4f78ca-8da8-4e99-8a1a-e3b94595a7a3")),
        availability_zone: Some(s("my_az")),
        tags: vec![s("test_tag")],
        ..Default::default()
    };
    same(&ours, &expected)
}

fn lb_full_create_request(t: &str) -> Result<(), String> {
    let mut expected = inner(t)?;
    drop_keys(&mut expected, &["project_id", "flavor_id"]);
    let listeners = expected["listeners"].as_array_mut().ok_or("listeners")?;
    numbers_from_strings(
        &mut listeners[0]["default_pool"]["healthmonitor"],
        &["delay"],
    )?;
    drop_keys(&mut listeners[2], &["l7policies"]);
    numbers_from_strings(&mut expected["pools"][0]["healthmonitor"], &["delay"])?;

    let members = |a: &str, b: &str| vec![CreateMember::new(a, 80), CreateMember::new(b, 80)];
    let rr_pool = CreatePool {
        name: Some(s("rr_pool")),
        healthmonitor: Some(CreateHealthMonitor {
            expected_codes: Some(s("200,201,202")),
            http_method: Some(HttpMethod::Get),
            url_path: Some(s("/index.html")),
            ..CreateHealthMonitor::new(MonitorType::Http, 3, 1, 2)
        }),
        members: members("192.0.2.16", "192.0.2.19"),
        ..CreatePool::new(Protocol::Http, LbAlgorithm::RoundRobin)
    };
    let https_pool = CreatePool {
        name: Some(s("https_pool")),
        healthmonitor: Some(CreateHealthMonitor::new(MonitorType::Https, 3, 1, 2)),
        members: members("192.0.2.51", "192.0.2.52"),
        ..CreatePool::new(Protocol::Https, LbAlgorithm::RoundRobin)
    };
    let ours = CreateLoadBalancer {
        name: Some(s("best_load_balancer")),
        description: Some(s("My favorite load balancer")),
        admin_state_up: Some(true),
        vip_subnet_id: Some(s("d4af86e1-0051-488c-b7a0-527f97490c9a")),
        vip_address: Some(s("203.0.113.50")),
        provider: Some(s("octavia")),
        vip_qos_policy_id: Some(s("ec4f78ca-8da8-4e99-8a1a-e3b94595a7a3")),
        availability_zone: Some(s("my_az")),
        tags: vec![s("test_tag")],
        listeners: vec![
            CreateListener {
                name: Some(s("http_listener")),
                default_pool: Some(DefaultPool::Define(Box::new(rr_pool))),
                ..CreateListener::new(Protocol::Http, 80)
            },
            CreateListener {
                name: Some(s("https_listener")),
                default_pool: Some(DefaultPool::Named {
                    name: s("https_pool"),
                }),
                tags: vec![s("test_tag")],
                ..CreateListener::new(Protocol::Https, 443)
            },
            CreateListener {
                name: Some(s("redirect_listener")),
                ..CreateListener::new(Protocol::Http, 8080)
            },
        ],
        pools: vec![https_pool],
        ..Default::default()
    };
    same(&ours, &expected)
}

fn listener_create_request(t: &str) -> Result<(), String> {
    let mut expected = inner(t)?;
    numbers_from_strings(&mut expected, &["protocol_port"])?;
    drop_keys(&mut expected, LISTENER_TLS);
    drop_keys(&mut expected, &["loadbalancer_id"]);
    let ours = CreateListener {
        name: Some(s("great_tls_listener")),
        description: Some(s("A great TLS listener")),
        admin_state_up: Some(true),
        connection_limit: Some(200),
        insert_headers: BTreeMap::from([
            (s("X-Forwarded-For"), s("true")),
            (s("X-Forwarded-Port"), s("true")),
        ]),
        timeout_client_data: Some(50000),
        timeout_member_connect: Some(5000),
        timeout_member_data: Some(50000),
        timeout_tcp_inspect: Some(0),
        tags: vec![s("test_tag")],
        allowed_cidrs: vec![s("192.0.2.0/24"), s("198.51.100.0/24")],
        ..CreateListener::new(Protocol::TerminatedHttps, 443)
    };
    same(&ours, &expected)
}

fn listener_update_request(t: &str) -> Result<(), String> {
    let mut expected = inner(t)?;
    drop_keys(&mut expected, LISTENER_TLS);
    let ours = UpdateListener {
        name: Some(s("great_updated_tls_listener")),
        description: Some(s("An updated great TLS listener")),
        admin_state_up: Some(true),
        connection_limit: Some(200),
        default_pool_id: Some(Some(s("ddb2b28f-89e9-45d3-a329-a359c3e39e4a"))),
        insert_headers: Some(BTreeMap::from([
            (s("X-Forwarded-For"), s("false")),
            (s("X-Forwarded-Port"), s("true")),
        ])),
        timeout_client_data: Some(100000),
        timeout_member_connect: Some(1000),
        timeout_member_data: Some(100000),
        timeout_tcp_inspect: Some(5),
        tags: Some(vec![s("updated_tag")]),
        allowed_cidrs: Some(vec![s("192.0.2.0/24"), s("198.51.100.0/24")]),
    };
    same(&ours, &expected)
}
