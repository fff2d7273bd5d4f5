//! Ports: VIP ports Octavia allocates, member ports, security group attachment.

use serde_json::{json, Value};

use crate::http::{neutron_err, ApiError};
use crate::state::{stamp, str_of, Obj, World};

/// Port fields.
pub(crate) const PORT_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "network_id",
    "admin_state_up",
    "status",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "security_groups",
    "port_security_enabled",
    "allowed_address_pairs",
    "project_id",
    "tenant_id",
    "revision_number",
    "created_at",
    "updated_at",
    "tags",
    "data_plane_status",
    "dns_assignment",
    "dns_domain",
    "dns_name",
    "extra_dhcp_opts",
    "hardware_offload_type",
    "ip_allocation",
    "propagate_uplink_status",
    "pvlan_community",
    "pvlan_type",
    "qos_network_policy_id",
    "qos_policy_id",
];

/// What a new port looks like.
pub(crate) struct NewPort<'a> {
    pub(crate) network_id: &'a str,
    pub(crate) subnet_id: &'a str,
    pub(crate) ip: Option<&'a str>,
    pub(crate) name: String,
    pub(crate) device_owner: &'a str,
    pub(crate) device_id: String,
    pub(crate) security_groups: Vec<String>,
}

impl World {
    /// Create a port with one fixed IP (allocated from the subnet unless given).
    pub(crate) fn create_port(&mut self, new: NewPort<'_>) -> Result<Obj, ApiError> {
        self.neutron_quota_check("port", self.ports.len())?;
        let ip = self.allocate_ip(new.subnet_id, new.ip)?;
        let id = self.ids.uuid();
        let mac = self.ids.mac();
        let now = stamp::neutron();
        let project = self.project_id.clone();
        let host = format!("host-{}", ip.replace('.', "-"));
        let port = json!({
            "id": id, "name": new.name, "description": "", "network_id": new.network_id,
            "admin_state_up": true, "status": if new.device_owner.is_empty() { "DOWN" } else { "ACTIVE" },
            "mac_address": mac, "fixed_ips": [{"ip_address": ip, "subnet_id": new.subnet_id}],
            "device_id": new.device_id, "device_owner": new.device_owner,
            "security_groups": new.security_groups, "port_security_enabled": true,
            "allowed_address_pairs": [], "project_id": project, "tenant_id": project,
            "revision_number": 1, "created_at": now, "updated_at": now, "tags": [],
            "data_plane_status": null,
            "dns_assignment": [{"hostname": host, "ip_address": ip, "fqdn": format!("{host}.openstacklocal.")}],
            "dns_domain": "", "dns_name": "", "extra_dhcp_opts": [], "hardware_offload_type": null,
            "ip_allocation": "immediate", "propagate_uplink_status": false,
            "pvlan_community": null, "pvlan_type": null,
            "qos_network_policy_id": null, "qos_policy_id": null,
        });
        let port = match port {
            Value::Object(o) => o,
            _ => Obj::new(),
        };
        self.ports.insert(port.clone());
        Ok(port)
    }

    /// Delete a port; floating IPs that pointed at it are disassociated (they stay allocated).
    pub(crate) fn release_port(&mut self, port_id: &str) {
        self.ports.remove(port_id);
        let now = stamp::neutron();
        for fip in self.floatingips.iter_mut() {
            if str_of(fip, "port_id") == port_id {
                fip.insert("port_id".into(), Value::Null);
                fip.insert("fixed_ip_address".into(), Value::Null);
                fip.insert("port_details".into(), Value::Null);
                fip.insert("router_id".into(), Value::Null);
                fip.insert("status".into(), json!("DOWN"));
                fip.insert("updated_at".into(), json!(now));
                bump(fip);
            }
        }
    }

    /// `PUT /ports/{id}`: name, description, admin_state_up, security_groups.
    pub(crate) fn update_port(&mut self, id: &str, input: &Obj) -> Result<Obj, ApiError> {
        if !self.ports.contains(id) {
            return Err(port_not_found(id));
        }
        if let Some(v) = input.get("security_groups") {
            let groups = v.as_array().ok_or_else(|| {
                neutron_err(
                    400,
                    "InvalidInput",
                    "Invalid input for security_groups: not a list.",
                )
            })?;
            for g in groups {
                let gid = g.as_str().unwrap_or("");
                if !self.security_groups.contains(gid) {
                    return Err(neutron_err(
                        404,
                        "SecurityGroupNotFound",
                        format!("Security group {gid} does not exist"),
                    ));
                }
            }
        }
        let port = self.ports.get_mut(id).ok_or_else(|| port_not_found(id))?;
        for (k, v) in input {
            match k.as_str() {
                "name"
                | "description"
                | "admin_state_up"
                | "security_groups"
                | "device_id"
                | "device_owner"
                | "port_security_enabled"
                | "allowed_address_pairs" => {
                    port.insert(k.clone(), v.clone());
                }
                other => {
                    return Err(neutron_err(
                        400,
                        "HTTPBadRequest",
                        format!("Attribute '{other}' not allowed in PUT"),
                    ))
                }
            }
        }
        port.insert("updated_at".into(), json!(stamp::neutron()));
        bump(port);
        Ok(port.clone())
    }
}

/// Increase `revision_number`.
pub(crate) fn bump(o: &mut Obj) {
    let n = o
        .get("revision_number")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    o.insert("revision_number".into(), json!(n + 1));
}

/// 404 for a port.
pub(crate) fn port_not_found(id: &str) -> ApiError {
    neutron_err(
        404,
        "PortNotFound",
        format!("Port {id} could not be found."),
    )
}
