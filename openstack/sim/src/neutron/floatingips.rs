//! Floating IPs: allocated from an external network, bound to a port on create or later.

use serde_json::{json, Value};

use super::create_body::not_allowed_in_post;
use super::ports::{bump, port_not_found};
use crate::http::{neutron_err, ApiError};
use crate::state::{stamp, str_of, Obj, World};

/// Floating IP fields.
pub(crate) const FIP_FIELDS: &[&str] = &[
    "id",
    "floating_ip_address",
    "floating_network_id",
    "fixed_ip_address",
    "port_id",
    "router_id",
    "status",
    "project_id",
    "tenant_id",
    "description",
    "revision_number",
    "created_at",
    "updated_at",
    "tags",
    "port_details",
    "port_forwardings",
    "qos_policy_id",
    "qos_network_policy_id",
    "dns_domain",
    "dns_name",
];

fn fip_not_found(id: &str) -> ApiError {
    neutron_err(
        404,
        "FloatingIPNotFound",
        format!("Floating IP {id} could not be found"),
    )
}

impl World {
    /// Point a floating IP at a port (or at nothing).
    fn bind(
        &mut self,
        fip_id: &str,
        port_id: Option<&str>,
        fixed: Option<&str>,
    ) -> Result<(), ApiError> {
        let (details, fixed_ip, network) = match port_id {
            Some(pid) => {
                let (details, ip, network) = self.port_binding(pid, fixed)?;
                (details, Some(ip), Some(network))
            }
            None => (Value::Null, None, None),
        };
        if let (Some(pid), Some(_)) = (port_id, &network) {
            self.check_port_free(fip_id, pid, fixed_ip.as_deref())?;
        }
        let router = self.router_id.clone();
        let fip = self
            .floatingips
            .get_mut(fip_id)
            .ok_or_else(|| fip_not_found(fip_id))?;
        let bound = port_id.is_some();
        fip.insert("port_id".into(), json!(port_id));
        fip.insert("fixed_ip_address".into(), json!(fixed_ip));
        fip.insert("port_details".into(), details);
        fip.insert(
            "router_id".into(),
            if bound { json!(router) } else { Value::Null },
        );
        fip.insert(
            "status".into(),
            json!(if bound { "ACTIVE" } else { "DOWN" }),
        );
        Ok(())
    }

    /// A port's part in a binding: its details for `port_details`, the fixed IP (the one
    /// asked for, which the port must hold, or its first) and its network.
    fn port_binding(
        &self,
        pid: &str,
        fixed: Option<&str>,
    ) -> Result<(Value, String, String), ApiError> {
        let port = self.ports.get(pid).ok_or_else(|| port_not_found(pid))?;
        let ips: Vec<String> = port
            .get("fixed_ips")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| {
                i.get("ip_address")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        let ip = match fixed {
            Some(f) if ips.iter().any(|i| i == f) => f.to_string(),
            Some(f) => {
                return Err(neutron_err(
                    400,
                    "BadRequest",
                    format!("Bad floatingip request: Port {pid} does not have fixed ip {f}."),
                ))
            }
            None => ips.first().cloned().ok_or_else(|| {
                neutron_err(
                    400,
                    "BadRequest",
                    format!("Bad floatingip request: Port {pid} has no fixed IP."),
                )
            })?,
        };
        let details = json!({
            "name": port.get("name"), "network_id": port.get("network_id"),
            "mac_address": port.get("mac_address"), "admin_state_up": port.get("admin_state_up"),
            "status": port.get("status"), "device_id": port.get("device_id"),
            "device_owner": port.get("device_owner"),
        });
        Ok((details, ip, str_of(port, "network_id").to_string()))
    }

    /// 409 when the port already has another floating IP from the same external network.
    fn check_port_free(
        &self,
        fip_id: &str,
        pid: &str,
        fixed_ip: Option<&str>,
    ) -> Result<(), ApiError> {
        let ext = self
            .floatingips
            .get(fip_id)
            .map(|f| str_of(f, "floating_network_id").to_string());
        let taken = self.floatingips.iter().find(|f| {
            str_of(f, "id") != fip_id
                && str_of(f, "port_id") == pid
                && Some(str_of(f, "floating_network_id").to_string()) == ext
        });
        if let Some(other) = taken {
            return Err(neutron_err(
                409,
                "FloatingIPPortAlreadyAssociated",
                format!(
                    "Cannot associate floating IP {} with port {pid} using fixed IP {}, as that fixed IP already has a floating IP on external network {}.",
                    str_of(other, "floating_ip_address"),
                    fixed_ip.unwrap_or_default(),
                    ext.unwrap_or_default()
                ),
            ));
        }
        Ok(())
    }

    /// `POST /floatingips`.
    pub(crate) fn create_floatingip(&mut self, input: &Obj) -> Result<Obj, ApiError> {
        only_fip_keys(input)?;
        let net_id = self.external_network(input)?;
        self.neutron_quota_check("floatingip", self.floatingips.len())?;
        let port_id = input
            .get("port_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(pid) = &port_id {
            if !self.ports.contains(pid) {
                return Err(port_not_found(pid));
            }
        }
        let subnet_id = match input.get("subnet_id").and_then(Value::as_str) {
            Some(s) => s.to_string(),
            None => self.first_subnet(&net_id).ok_or_else(|| {
                neutron_err(
                    409,
                    "ExternalIpAddressExhausted",
                    format!("Unable to find any IP address on external network {net_id}."),
                )
            })?,
        };
        let address = self.allocate_ip(
            &subnet_id,
            input.get("floating_ip_address").and_then(Value::as_str),
        )?;
        let id = self.ids.uuid();
        let now = stamp::neutron();
        let project = self.project_id.clone();
        let fip = json!({
            "id": id, "floating_ip_address": address, "floating_network_id": net_id,
            "fixed_ip_address": null, "port_id": null, "router_id": null, "status": "DOWN",
            "project_id": project, "tenant_id": project,
            "description": input.get("description").cloned().unwrap_or_else(|| json!("")),
            "revision_number": 0, "created_at": now, "updated_at": now, "tags": [],
            "port_details": null, "port_forwardings": [], "qos_policy_id": null,
            "qos_network_policy_id": null,
            "dns_domain": input.get("dns_domain").cloned().unwrap_or_else(|| json!("")),
            "dns_name": input.get("dns_name").cloned().unwrap_or_else(|| json!("")),
        });
        if let Value::Object(o) = fip {
            self.floatingips.insert(o);
        }
        if let Some(pid) = port_id {
            let fixed = input
                .get("fixed_ip_address")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Err(e) = self.bind(&id, Some(&pid), fixed.as_deref()) {
                self.floatingips.remove(&id);
                return Err(e);
            }
        }
        self.floatingips
            .get(&id)
            .cloned()
            .ok_or_else(|| fip_not_found(&id))
    }

    /// The external network a create names: it must exist and be `router:external`.
    fn external_network(&self, input: &Obj) -> Result<String, ApiError> {
        let net_id = input
            .get("floating_network_id")
            .and_then(Value::as_str)
            .ok_or_else(|| neutron_err(400, "HTTPBadRequest", "Failed to parse request. Required attribute 'floating_network_id' not specified"))?
            .to_string();
        let net = self.networks.get(&net_id).ok_or_else(|| {
            neutron_err(
                404,
                "NetworkNotFound",
                format!("Network {net_id} could not be found."),
            )
        })?;
        if net.get("router:external").and_then(Value::as_bool) != Some(true) {
            return Err(neutron_err(
                400,
                "BadRequest",
                format!(
                    "Bad floatingip request: Network {net_id} is not a valid external network."
                ),
            ));
        }
        Ok(net_id)
    }

    /// `PUT /floatingips/{id}`: associate, disassociate, description.
    pub(crate) fn update_floatingip(&mut self, id: &str, input: &Obj) -> Result<Obj, ApiError> {
        if !self.floatingips.contains(id) {
            return Err(fip_not_found(id));
        }
        for k in input.keys() {
            if !matches!(
                k.as_str(),
                "port_id" | "fixed_ip_address" | "description" | "qos_policy_id"
            ) {
                return Err(neutron_err(
                    400,
                    "HTTPBadRequest",
                    format!("Cannot update read-only attribute {k}"),
                ));
            }
        }
        if input.contains_key("port_id") {
            let port = input
                .get("port_id")
                .and_then(Value::as_str)
                .map(str::to_string);
            let fixed = input
                .get("fixed_ip_address")
                .and_then(Value::as_str)
                .map(str::to_string);
            self.bind(id, port.as_deref(), fixed.as_deref())?;
        }
        let fip = self
            .floatingips
            .get_mut(id)
            .ok_or_else(|| fip_not_found(id))?;
        if let Some(d) = input.get("description") {
            fip.insert("description".into(), d.clone());
        }
        fip.insert("updated_at".into(), json!(stamp::neutron()));
        bump(fip);
        Ok(fip.clone())
    }

    /// `DELETE /floatingips/{id}`.
    pub(crate) fn delete_floatingip(&mut self, id: &str) -> Result<(), ApiError> {
        self.floatingips
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| fip_not_found(id))
    }
}

/// Every attribute of a floating IP's create body is one it may hold.
fn only_fip_keys(input: &Obj) -> Result<(), ApiError> {
    for k in input.keys() {
        if !matches!(
            k.as_str(),
            "floating_network_id"
                | "port_id"
                | "fixed_ip_address"
                | "subnet_id"
                | "floating_ip_address"
                | "description"
                | "dns_name"
                | "dns_domain"
                | "qos_policy_id"
                | "project_id"
                | "tenant_id"
        ) {
            return Err(not_allowed_in_post(k));
        }
    }
    Ok(())
}
