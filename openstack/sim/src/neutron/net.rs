//! Networks, subnets and IP allocation.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use serde_json::{json, Value};

use crate::http::{neutron_err, ApiError};
use crate::state::{stamp, str_of, Obj, World};

/// Network fields (filters and rendering).
pub(crate) const NETWORK_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "admin_state_up",
    "status",
    "subnets",
    "shared",
    "project_id",
    "tenant_id",
    "mtu",
    "router:external",
    "port_security_enabled",
    "availability_zone_hints",
    "availability_zones",
    "ipv4_address_scope",
    "ipv6_address_scope",
    "is_default",
    "l2_adjacency",
    "qos_policy_id",
    "revision_number",
    "created_at",
    "updated_at",
    "tags",
    "dns_domain",
    "pvlan",
    "qinq",
    "vlan_transparent",
];

/// Subnet fields.
pub(crate) const SUBNET_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "network_id",
    "cidr",
    "ip_version",
    "gateway_ip",
    "allocation_pools",
    "enable_dhcp",
    "host_routes",
    "dns_nameservers",
    "project_id",
    "tenant_id",
    "revision_number",
    "created_at",
    "updated_at",
    "tags",
    "ipv6_address_mode",
    "ipv6_ra_mode",
    "segment_id",
    "service_types",
    "subnetpool_id",
    "dns_publish_fixed_ip",
    "router:external",
];

fn obj(v: Value) -> Obj {
    match v {
        Value::Object(o) => o,
        _ => Obj::new(),
    }
}

/// Parse `a.b.c.d/n`.
pub(crate) fn parse_cidr(cidr: &str) -> Option<(u32, u32)> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((u32::from(addr) & mask, mask))
}

/// Whether an address is inside a CIDR.
pub(crate) fn in_cidr(ip: &str, cidr: &str) -> bool {
    match (ip.parse::<Ipv4Addr>(), parse_cidr(cidr)) {
        (Ok(ip), Some((net, mask))) => u32::from(ip) & mask == net,
        _ => false,
    }
}

impl World {
    /// Create a network with one IPv4 subnet (used for the seed).
    pub(crate) fn seed_network(
        &mut self,
        name: &str,
        cidr: &str,
        external: bool,
        pool: (&str, &str),
        gateway: &str,
    ) -> (String, String) {
        let now = stamp::neutron();
        let net_id = self.ids.uuid();
        let subnet_id = self.ids.uuid();
        let project = self.project_id.clone();
        self.networks.insert(obj(json!({
            "id": net_id, "name": name, "description": "", "admin_state_up": true,
            "status": "ACTIVE", "subnets": [subnet_id], "shared": false, "project_id": project,
            "tenant_id": project, "mtu": 1500, "router:external": external,
            "port_security_enabled": true, "availability_zone_hints": [],
            "availability_zones": ["nova"], "ipv4_address_scope": null,
            "ipv6_address_scope": null, "is_default": external, "l2_adjacency": true,
            "qos_policy_id": null, "revision_number": 1, "created_at": now, "updated_at": now,
            "tags": [], "dns_domain": "", "pvlan": false, "qinq": false, "vlan_transparent": false,
        })));
        self.subnets.insert(obj(json!({
            "id": subnet_id, "name": format!("{name}-subnet"), "description": "",
            "network_id": net_id, "cidr": cidr, "ip_version": 4, "gateway_ip": gateway,
            "allocation_pools": [{"start": pool.0, "end": pool.1}], "enable_dhcp": true,
            "host_routes": [], "dns_nameservers": [], "project_id": project, "tenant_id": project,
            "revision_number": 0, "created_at": now, "updated_at": now, "tags": [],
            "ipv6_address_mode": null, "ipv6_ra_mode": null, "segment_id": null,
            "service_types": [], "subnetpool_id": null, "dns_publish_fixed_ip": false,
            "router:external": external,
        })));
        (net_id, subnet_id)
    }

    /// Addresses in use on a subnet (ports' fixed IPs and floating IP addresses).
    fn used_ips(&self, subnet_id: &str) -> BTreeSet<String> {
        let mut used = BTreeSet::new();
        for p in self.ports.iter() {
            for ip in p
                .get("fixed_ips")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if ip.get("subnet_id").and_then(Value::as_str) == Some(subnet_id) {
                    if let Some(a) = ip.get("ip_address").and_then(Value::as_str) {
                        used.insert(a.to_string());
                    }
                }
            }
        }
        for f in self.floatingips.iter() {
            used.insert(str_of(f, "floating_ip_address").to_string());
        }
        if let Some(s) = self.subnets.get(subnet_id) {
            used.insert(str_of(s, "gateway_ip").to_string());
        }
        used
    }

    /// Pick (or check) an address on a subnet.
    pub(crate) fn allocate_ip(
        &self,
        subnet_id: &str,
        wanted: Option<&str>,
    ) -> Result<String, ApiError> {
        let subnet = self.subnets.get(subnet_id).ok_or_else(|| {
            neutron_err(
                404,
                "SubnetNotFound",
                format!("Subnet {subnet_id} could not be found."),
            )
        })?;
        let used = self.used_ips(subnet_id);
        let cidr = str_of(subnet, "cidr");
        if let Some(ip) = wanted {
            if !in_cidr(ip, cidr) {
                return Err(neutron_err(
                    400,
                    "InvalidIpForSubnet",
                    format!("IP address {ip} is not a valid IP for the specified subnet."),
                ));
            }
            if used.contains(ip) {
                return Err(neutron_err(
                    409,
                    "IpAddressAlreadyAllocated",
                    format!("IP address {ip} already allocated in subnet {subnet_id}"),
                ));
            }
            return Ok(ip.to_string());
        }
        for pool in subnet
            .get("allocation_pools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let start = pool
                .get("start")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Ipv4Addr>().ok());
            let end = pool
                .get("end")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Ipv4Addr>().ok());
            if let (Some(start), Some(end)) = (start, end) {
                for n in u32::from(start)..=u32::from(end) {
                    let ip = Ipv4Addr::from(n).to_string();
                    if !used.contains(&ip) {
                        return Ok(ip);
                    }
                }
            }
        }
        let net = str_of(subnet, "network_id");
        Err(neutron_err(
            409,
            "IpAddressGenerationFailure",
            format!("No more IP addresses available on network {net}."),
        ))
    }

    /// The first subnet of a network.
    pub(crate) fn first_subnet(&self, network_id: &str) -> Option<String> {
        self.networks
            .get(network_id)?
            .get("subnets")?
            .as_array()?
            .first()?
            .as_str()
            .map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_membership() {
        assert!(in_cidr("10.5.0.10", "10.5.0.0/24"));
        assert!(!in_cidr("10.5.1.10", "10.5.0.0/24"));
        assert!(!in_cidr("nonsense", "10.5.0.0/24"));
        assert!(in_cidr("1.2.3.4", "0.0.0.0/0"));
    }
}
