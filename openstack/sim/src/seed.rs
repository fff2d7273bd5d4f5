//! What the simulated cloud starts with: a project (in `World::new`), the default security
//! group, an external network, a VIP network and three member ports.

use serde::Serialize;

use super::neutron;
use super::state::{self, World};

/// Ids of what the simulator seeds.
#[derive(Debug, Clone, Serialize)]
pub struct SeedIds {
    /// The project.
    pub project_id: String,
    /// External network (`public`, `router:external`).
    pub external_network_id: String,
    /// Its subnet (floating IPs come from here).
    pub external_subnet_id: String,
    /// VIP network.
    pub vip_network_id: String,
    /// VIP subnet (10.5.0.0/20; VIPs from 10.5.0.100 to 10.5.15.250, room for ≥ 1000).
    pub vip_subnet_id: String,
    /// Member ports (10.5.0.10, .11, .12).
    pub member_port_ids: Vec<String>,
    /// Their addresses.
    pub member_addresses: Vec<String>,
    /// The project's `default` security group.
    pub default_security_group_id: String,
}

/// Seed: default security group, external network, VIP network, three member ports.
pub(crate) fn seed(w: &mut World) -> SeedIds {
    let default_sg = w.insert_sg("default", "Default security group", true, None);
    let default_sg_id = state::str_of(&default_sg, "id").to_string();
    let (ext_net, ext_subnet) = w.seed_network(
        "public",
        // A /20 so that ≥ 1000 floating IPs fit (scale runs); the first 241 addresses are
        // still the documentation range 203.0.113.0/24.
        "203.0.112.0/20",
        true,
        ("203.0.113.10", "203.0.117.250"),
        "203.0.113.1",
    );
    let (vip_net, vip_subnet) = w.seed_network(
        "private",
        // A /20 so that ≥ 1000 load balancers fit (scale runs); member ports stay at
        // 10.5.0.10–12, VIPs start at 10.5.0.100.
        "10.5.0.0/20",
        false,
        ("10.5.0.100", "10.5.15.250"),
        "10.5.0.1",
    );
    let mut member_port_ids = Vec::new();
    let mut member_addresses = Vec::new();
    for i in 0..3 {
        let ip = format!("10.5.0.{}", 10 + i);
        let device = w.ids.uuid();
        let port = w.create_port(neutron::NewPort {
            network_id: &vip_net,
            subnet_id: &vip_subnet,
            ip: Some(&ip),
            name: format!("kubernetes-control-plane-{i}"),
            device_owner: "compute:nova",
            device_id: device,
            security_groups: vec![default_sg_id.clone()],
        });
        if let Ok(p) = port {
            member_port_ids.push(state::str_of(&p, "id").to_string());
            member_addresses.push(ip);
        }
    }
    SeedIds {
        project_id: w.project_id.clone(),
        external_network_id: ext_net,
        external_subnet_id: ext_subnet,
        vip_network_id: vip_net,
        vip_subnet_id: vip_subnet,
        member_port_ids,
        member_addresses,
        default_security_group_id: default_sg_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::faults::FaultPlan;
    use std::net::Ipv4Addr;

    /// Addresses in a subnet's allocation pools, all inside its CIDR.
    fn pool_size(w: &World, subnet_id: &str) -> u32 {
        let s = w.subnets.get(subnet_id).expect("seeded subnet");
        let (net, bits) = state::str_of(s, "cidr").split_once('/').unwrap();
        let mask = u32::MAX << (32 - bits.parse::<u32>().unwrap());
        let net = u32::from(net.parse::<Ipv4Addr>().unwrap());
        let inside = |a: Ipv4Addr| u32::from(a) & mask == net;
        let mut n = 0;
        for p in s["allocation_pools"].as_array().into_iter().flatten() {
            let ip = |k: &str| p[k].as_str().unwrap().parse::<Ipv4Addr>().unwrap();
            let (a, b) = (ip("start"), ip("end"));
            assert!(inside(a) && inside(b), "{a}-{b} outside the subnet");
            n += u32::from(b) - u32::from(a) + 1;
        }
        n
    }

    #[test]
    fn a_thousand_load_balancers_and_floating_ips_fit() {
        let mut w = World::new(SimConfig::new(1), FaultPlan::default());
        let ids = seed(&mut w);
        assert!(pool_size(&w, &ids.vip_subnet_id) >= 1000);
        assert!(pool_size(&w, &ids.external_subnet_id) >= 1000);
        assert_eq!(
            ids.member_addresses,
            ["10.5.0.10", "10.5.0.11", "10.5.0.12"]
        );
        // The first VIP and the first floating IP are where they always were.
        assert_eq!(
            w.allocate_ip(&ids.vip_subnet_id, None).unwrap(),
            "10.5.0.100"
        );
        assert_eq!(
            w.allocate_ip(&ids.external_subnet_id, None).unwrap(),
            "203.0.113.10"
        );
        // No quota stands in the way of 1000 of anything.
        for q in w
            .config
            .octavia_quota
            .values()
            .chain(w.config.neutron_quota.values())
        {
            assert!(*q < 0 || *q >= 1000, "quota {q}");
        }
    }
}
