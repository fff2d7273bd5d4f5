//! What the simulated cloud starts with: a project (in `World::new`), the default security
//! group, an external network, a VIP network and three member ports.

use super::state::{self, World};
use super::{neutron, SeedIds};

/// Seed: default security group, external network, VIP network, three member ports.
pub(crate) fn seed(w: &mut World) -> SeedIds {
    let default_sg = w.insert_sg("default", "Default security group", true, None);
    let default_sg_id = state::str_of(&default_sg, "id").to_string();
    let (ext_net, ext_subnet) = w.seed_network(
        "public",
        "203.0.113.0/24",
        true,
        ("203.0.113.10", "203.0.113.250"),
        "203.0.113.1",
    );
    let (vip_net, vip_subnet) = w.seed_network(
        "private",
        "10.5.0.0/24",
        false,
        ("10.5.0.100", "10.5.0.250"),
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
