//! The simulator answers the calls we make with the same JSON keys as the genuine servers:
//! every body in `fixtures/openstack/real/` (captured from Octavia 19 and Neutron 29, see its
//! README) is compared, key path by key path, with the simulator's answer to the same call
//! (nested objects included; array elements merged; an empty array on either side says nothing
//! about its elements). Known differences are listed per body with the reason, and an allowance
//! that no longer matches fails, so the list stays honest.

mod sim_support;

use std::collections::BTreeSet;
use std::path::Path;

use openstack_sim::Provider;
use serde_json::{json, Value};
use sim_support::{login, start};

fn keys(v: &Value, path: &str, out: &mut BTreeSet<String>, filled: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let p = format!("{path}/{k}");
                out.insert(p.clone());
                keys(x, &p, out, filled);
            }
        }
        Value::Array(items) => {
            if !items.is_empty() {
                filled.insert(path.to_string());
            }
            for x in items {
                keys(x, &format!("{path}[]"), out, filled);
            }
        }
        _ => {}
    }
}

fn under_empty_array(path: &str, filled: &BTreeSet<String>) -> bool {
    let mut idx = 0;
    while let Some(pos) = path[idx..].find("[]") {
        if !filled.contains(&path[..idx + pos]) {
            return true;
        }
        idx += pos + 2;
    }
    false
}

/// One real body and the simulator's answer to the same call, with the allowed differences.
struct Case {
    file: &'static str,
    sim: Value,
    /// Keys only the simulator has.
    extra: &'static [&'static str],
    /// Keys only the real server has.
    missing: &'static [&'static str],
}

fn case(file: &'static str, sim: Value) -> Case {
    Case {
        file,
        sim,
        extra: &[],
        missing: &[],
    }
}

fn compare(c: &Case) -> Result<(), String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/openstack/real")
        .join(c.file);
    let real: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("real body"))
        .expect("real body is JSON");
    let (mut r, mut r_filled, mut s, mut s_filled) = Default::default();
    keys(&real, "", &mut r, &mut r_filled);
    keys(&c.sim, "", &mut s, &mut s_filled);
    let missing: BTreeSet<String> = r
        .difference(&s)
        .filter(|p| !under_empty_array(p, &s_filled))
        .cloned()
        .collect();
    let extra: BTreeSet<String> = s
        .difference(&r)
        .filter(|p| !under_empty_array(p, &r_filled))
        .cloned()
        .collect();
    let want_missing: BTreeSet<String> = c.missing.iter().map(|s| s.to_string()).collect();
    let want_extra: BTreeSet<String> = c.extra.iter().map(|s| s.to_string()).collect();
    if missing == want_missing && extra == want_extra {
        return Ok(());
    }
    Err(format!(
        "{}:\n  only the real server has: {missing:?} (allowed {want_missing:?})\n  only the simulator has: {extra:?} (allowed {want_extra:?})",
        c.file
    ))
}

fn ok(r: (u16, Value), what: &str) -> Value {
    assert!(r.0 < 300, "{what}: {} {}", r.0, r.1);
    r.1
}

#[tokio::test]
async fn simulator_answers_have_the_real_servers_keys() {
    let sim = start(Provider::Amphora).await;
    let raw = login(&sim).await;
    let ids = sim.seed_ids();
    let (lb, net) = (&raw.lb, &raw.net);
    let subnet = &ids.vip_subnet_id;
    // The same calls as the capture (fixtures/openstack/real/README.md).
    let full = json!({"loadbalancer": {"name": "oi-capture", "description": "captured", "vip_subnet_id": subnet,
        "tags": ["octavia-integrator", "oi-capture"],
        "listeners": [{"name": "oi-capture-443", "protocol": "TCP", "protocol_port": 443, "tags": ["octavia-integrator"],
            "allowed_cidrs": ["0.0.0.0/0"],
            "default_pool": {"name": "oi-capture-pool", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN", "tags": ["octavia-integrator"],
                "members": [{"name": "m0", "address": "10.5.0.10", "protocol_port": 6443, "subnet_id": subnet, "monitor_port": 6443},
                            {"name": "m1", "address": "10.5.0.11", "protocol_port": 6443, "subnet_id": subnet}],
                "healthmonitor": {"name": "oi-capture-hm", "type": "HTTP", "delay": 30, "timeout": 10, "max_retries": 3,
                    "max_retries_down": 3, "http_method": "GET", "url_path": "/livez", "expected_codes": "200",
                    "tags": ["octavia-integrator"]}}}]}});
    let created = ok(
        raw.post(&format!("{lb}/loadbalancers"), full).await,
        "full create",
    );
    let id = created["loadbalancer"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    sim.settle();
    let show = ok(raw.get(&format!("{lb}/loadbalancers/{id}")).await, "show");
    let pools = ok(
        raw.get(&format!("{lb}/pools?loadbalancer_id={id}")).await,
        "pools",
    );
    let pid = pools["pools"][0]["id"].as_str().expect("pool").to_string();
    let vip_port = show["loadbalancer"]["vip_port_id"]
        .as_str()
        .expect("vip port")
        .to_string();
    let fip = ok(
        raw.post(
            &format!("{net}/floatingips"),
            json!({"floatingip": {"floating_network_id": ids.external_network_id,
            "port_id": vip_port, "description": "oi-capture"}}),
        )
        .await,
        "fip",
    );
    let sg = ok(
        raw.post(
            &format!("{net}/security-groups"),
            json!({"security_group": {"name": "oi-capture-sg", "description": "oi-capture"}}),
        )
        .await,
        "sg",
    );
    let sg_id = sg["security_group"]["id"].as_str().expect("sg").to_string();
    let rule = ok(
        raw.post(&format!("{net}/security-group-rules"), json!({"security_group_rule": {"security_group_id": sg_id,
            "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 6443, "port_range_max": 6443,
            "remote_ip_prefix": "10.5.0.0/24", "description": "oi-capture"}}))
            .await,
        "rule",
    );
    let cases = vec![
        case("loadbalancer-full-create.json", created),
        case("loadbalancer-show.json", show),
        case(
            "loadbalancer-status.json",
            ok(
                raw.get(&format!("{lb}/loadbalancers/{id}/status")).await,
                "status",
            ),
        ),
        case(
            "listeners-list.json",
            ok(
                raw.get(&format!("{lb}/listeners?loadbalancer_id={id}"))
                    .await,
                "listeners",
            ),
        ),
        case("pools-list.json", pools),
        case(
            "members-list.json",
            ok(
                raw.get(&format!("{lb}/pools/{pid}/members")).await,
                "members",
            ),
        ),
        case(
            "healthmonitors-list.json",
            ok(
                raw.get(&format!("{lb}/healthmonitors?pool_id={pid}")).await,
                "monitors",
            ),
        ),
        case(
            "providers-list.json",
            ok(raw.get(&format!("{lb}/providers")).await, "providers"),
        ),
        // The simulator plays a typical production Neutron with the dns-integration, qos and
        // port-forwarding extensions; the harness's Neutron loads none of them. Our read
        // types need none of these fields.
        Case {
            extra: &[
                "/floatingip/dns_domain",
                "/floatingip/dns_name",
                "/floatingip/port_forwardings",
                "/floatingip/qos_network_policy_id",
                "/floatingip/qos_policy_id",
            ],
            ..case("floatingip-create.json", fip)
        },
        // binding:* is shown to admins only (the capture ran as admin; the integrator's
        // project user never sees it); the rest are extensions the harness does not load.
        Case {
            missing: &[
                "/port/binding:host_id",
                "/port/binding:profile",
                "/port/binding:vif_details",
                "/port/binding:vif_type",
                "/port/binding:vnic_type",
            ],
            extra: &[
                "/port/data_plane_status",
                "/port/dns_assignment",
                "/port/dns_domain",
                "/port/dns_name",
                "/port/hardware_offload_type",
                "/port/ip_allocation",
                "/port/propagate_uplink_status",
                "/port/pvlan_community",
                "/port/pvlan_type",
                "/port/qos_network_policy_id",
                "/port/qos_policy_id",
            ],
            ..case(
                "port-show.json",
                ok(raw.get(&format!("{net}/ports/{vip_port}")).await, "port"),
            )
        },
        // Extensions (dns-integration, segments) the harness does not load.
        Case {
            extra: &["/subnet/dns_publish_fixed_ip", "/subnet/segment_id"],
            ..case(
                "subnet-show.json",
                ok(raw.get(&format!("{net}/subnets/{subnet}")).await, "subnet"),
            )
        },
        // provider:* is admin-only; the extras are extensions the harness does not load.
        Case {
            missing: &[
                "/network/provider:network_type",
                "/network/provider:physical_network",
                "/network/provider:segmentation_id",
            ],
            extra: &[
                "/network/dns_domain",
                "/network/l2_adjacency",
                "/network/pvlan",
                "/network/qos_policy_id",
            ],
            ..case(
                "network-show.json",
                ok(
                    raw.get(&format!("{net}/networks/{}", ids.external_network_id))
                        .await,
                    "network",
                ),
            )
        },
        case("security-group-create.json", sg),
        case("security-group-rule-create.json", rule),
    ];
    let failures: Vec<String> = cases.iter().filter_map(|c| compare(c).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    sim.shutdown().await;
}
