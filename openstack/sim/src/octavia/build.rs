//! Building new Octavia objects from request bodies (validated, not yet stored).

use serde_json::{json, Value};

use super::input::*;
use crate::config::Provider;
use crate::http::{octavia_err, ApiError};
use crate::state::{links, stamp, str_of, Obj, World};

const LISTENER_KEYS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "protocol",
    "protocol_port",
    "connection_limit",
    "default_pool_id",
    "default_pool",
    "loadbalancer_id",
    "project_id",
    "tenant_id",
    "insert_headers",
    "timeout_client_data",
    "timeout_member_connect",
    "timeout_member_data",
    "timeout_tcp_inspect",
    "tags",
    "default_tls_container_ref",
    "sni_container_refs",
    "client_authentication",
    "client_ca_tls_container_ref",
    "client_crl_container_ref",
    "allowed_cidrs",
    "tls_ciphers",
    "tls_versions",
    "alpn_protocols",
    "hsts_max_age",
    "hsts_include_subdomains",
    "hsts_preload",
    "l7policies",
];
pub(crate) const POOL_KEYS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "protocol",
    "lb_algorithm",
    "listener_id",
    "loadbalancer_id",
    "session_persistence",
    "project_id",
    "tenant_id",
    "tags",
    "tls_enabled",
    "tls_container_ref",
    "ca_tls_container_ref",
    "crl_container_ref",
    "tls_ciphers",
    "tls_versions",
    "alpn_protocols",
    "healthmonitor",
    "members",
];
pub(crate) const MEMBER_KEYS: &[&str] = &[
    "name",
    "address",
    "protocol_port",
    "subnet_id",
    "weight",
    "backup",
    "monitor_address",
    "monitor_port",
    "admin_state_up",
    "tags",
    "project_id",
    "tenant_id",
    "request_sriov",
];
pub(crate) const HM_KEYS: &[&str] = &[
    "name",
    "pool_id",
    "type",
    "delay",
    "timeout",
    "max_retries",
    "max_retries_down",
    "http_method",
    "url_path",
    "expected_codes",
    "http_version",
    "domain_name",
    "admin_state_up",
    "tags",
    "project_id",
    "tenant_id",
];

fn obj(v: Value) -> Obj {
    match v {
        Value::Object(o) => o,
        _ => Obj::new(),
    }
}

fn tags(input: &Obj) -> Result<Value, ApiError> {
    Ok(json!(opt_str_list(input, "tags")?.unwrap_or_default()))
}

fn keep(input: &Obj, key: &str) -> Value {
    input.get(key).cloned().unwrap_or(Value::Null)
}

/// A listener's `allowed_cidrs` (none on OVN), each a CIDR.
fn allowed_cidrs(input: &Obj, p: Provider) -> Result<Option<Vec<String>>, ApiError> {
    if input.get("allowed_cidrs").is_some_and(|v| !v.is_null()) && p == Provider::Ovn {
        return Err(unsupported(
            p,
            "OVN provider does not support allowed_cidrs option",
        ));
    }
    let cidrs = opt_str_list(input, "allowed_cidrs")?;
    for c in cidrs.iter().flatten() {
        if !c.contains('/') {
            return Err(invalid(
                "allowed_cidrs",
                &json!(c),
                "Value should be a valid CIDR.",
            ));
        }
    }
    Ok(cidrs)
}

impl World {
    /// A new listener on `lb` (validated against the provider).
    pub(crate) fn build_listener(
        &mut self,
        input: &Obj,
        lb: &str,
        p: Provider,
    ) -> Result<Obj, ApiError> {
        only(input, "listener", LISTENER_KEYS)?;
        let protocol = enum_of(input, "protocol", LISTENER_PROTOCOLS)?
            .ok_or_else(|| invalid("protocol", &Value::Null, "Mandatory field missing."))?;
        let port = req_int(input, "protocol_port", 1, 65535)?;
        provider_protocol(p, &protocol)?;
        let cidrs = allowed_cidrs(input, p)?;
        if input
            .get("l7policies")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            return Err(unsupported(
                p,
                "The simulated cloud does not model L7 policies.",
            ));
        }
        self.check_listener_port(lb, &protocol, port)?;
        let id = self.ids.uuid();
        let now = stamp::octavia();
        Ok(obj(json!({
            "id": id,
            "name": opt_str(input, "name")?.unwrap_or_default(),
            "description": opt_str(input, "description")?.unwrap_or_default(),
            "provisioning_status": "PENDING_CREATE",
            "operating_status": "OFFLINE",
            "admin_state_up": opt_bool(input, "admin_state_up")?.unwrap_or(true),
            "protocol": protocol,
            "protocol_port": port,
            "connection_limit": opt_int(input, "connection_limit", -1, i64::MAX)?.unwrap_or(-1),
            "default_tls_container_ref": keep(input, "default_tls_container_ref"),
            "sni_container_refs": input.get("sni_container_refs").cloned().unwrap_or_else(|| json!([])),
            "project_id": self.project_id,
            "tenant_id": self.project_id,
            "default_pool_id": null,
            "l7policies": [],
            "insert_headers": input.get("insert_headers").cloned().unwrap_or_else(|| json!({})),
            "created_at": now,
            "updated_at": null,
            "loadbalancers": links([lb.to_string()]),
            "timeout_client_data": opt_int(input, "timeout_client_data", 0, 2_073_600_000)?.unwrap_or(50000),
            "timeout_member_connect": opt_int(input, "timeout_member_connect", 0, 2_073_600_000)?.unwrap_or(5000),
            "timeout_member_data": opt_int(input, "timeout_member_data", 0, 2_073_600_000)?.unwrap_or(50000),
            "timeout_tcp_inspect": opt_int(input, "timeout_tcp_inspect", 0, 2_073_600_000)?.unwrap_or(0),
            "tags": tags(input)?,
            "client_ca_tls_container_ref": keep(input, "client_ca_tls_container_ref"),
            "client_authentication": opt_str(input, "client_authentication")?.unwrap_or_else(|| "NONE".into()),
            "client_crl_container_ref": keep(input, "client_crl_container_ref"),
            "allowed_cidrs": cidrs,
            "tls_ciphers": keep(input, "tls_ciphers"),
            "tls_versions": keep(input, "tls_versions"),
            "alpn_protocols": keep(input, "alpn_protocols"),
            "hsts_max_age": keep(input, "hsts_max_age"),
            "hsts_include_subdomains": opt_bool(input, "hsts_include_subdomains")?.unwrap_or(false),
            "hsts_preload": opt_bool(input, "hsts_preload")?.unwrap_or(false),
        })))
    }

    /// 409 when another listener of `lb` already uses `port` with the same L4 protocol.
    fn check_listener_port(&self, lb: &str, protocol: &str, port: i64) -> Result<(), ApiError> {
        let l4 = |proto: &str| match proto {
            "UDP" => "UDP",
            "SCTP" => "SCTP",
            _ => "TCP",
        };
        for other in self.listeners.iter().filter(|l| World::lb_of(l) == lb) {
            if other.get("protocol_port").and_then(Value::as_i64) == Some(port)
                && l4(str_of(other, "protocol")) == l4(protocol)
            {
                return Err(octavia_err(409, format!(
                    "Another Listener on this Load Balancer is already using protocol {protocol} and protocol_port {port}"
                )));
            }
        }
        Ok(())
    }

    /// A new pool on `lb` (validated against the provider and, if given, the listener protocol).
    pub(crate) fn build_pool(
        &mut self,
        input: &Obj,
        lb: &str,
        listener_protocol: Option<&str>,
        p: Provider,
    ) -> Result<Obj, ApiError> {
        only(input, "pool", POOL_KEYS)?;
        let protocol = enum_of(input, "protocol", POOL_PROTOCOLS)?
            .ok_or_else(|| invalid("protocol", &Value::Null, "Mandatory field missing."))?;
        let algorithm = enum_of(input, "lb_algorithm", ALGORITHMS)?
            .ok_or_else(|| invalid("lb_algorithm", &Value::Null, "Mandatory field missing."))?;
        if let Some(lp) = listener_protocol {
            if !listener_accepts_pool(lp, &protocol) {
                return Err(validation(format!(
                    "The pool protocol '{protocol}' is invalid while the listener protocol is '{lp}'."
                )));
            }
        }
        provider_protocol(p, &protocol)?;
        provider_algorithm(p, &algorithm)?;
        let persistence = match input.get("session_persistence") {
            None | Some(Value::Null) => Value::Null,
            Some(Value::Object(sp)) => {
                let kind = enum_of(sp, "type", PERSISTENCE)?
                    .ok_or_else(|| invalid("type", &Value::Null, "Mandatory field missing."))?;
                provider_persistence(p, &kind)?;
                if kind == "APP_COOKIE" && sp.get("cookie_name").is_none() {
                    return Err(validation(
                        "Field cookie_name is required for APP_COOKIE session persistence.",
                    ));
                }
                Value::Object(sp.clone())
            }
            Some(v) => {
                return Err(invalid(
                    "session_persistence",
                    v,
                    "Value should be an object.",
                ))
            }
        };
        let id = self.ids.uuid();
        Ok(obj(json!({
            "id": id,
            "name": opt_str(input, "name")?.unwrap_or_default(),
            "description": opt_str(input, "description")?.unwrap_or_default(),
            "provisioning_status": "PENDING_CREATE",
            "operating_status": "OFFLINE",
            "admin_state_up": opt_bool(input, "admin_state_up")?.unwrap_or(true),
            "protocol": protocol,
            "lb_algorithm": algorithm,
            "session_persistence": persistence,
            "project_id": self.project_id,
            "tenant_id": self.project_id,
            "loadbalancers": links([lb.to_string()]),
            "created_at": stamp::octavia(),
            "updated_at": null,
            "tags": tags(input)?,
            "tls_container_ref": keep(input, "tls_container_ref"),
            "ca_tls_container_ref": keep(input, "ca_tls_container_ref"),
            "crl_container_ref": keep(input, "crl_container_ref"),
            "tls_enabled": opt_bool(input, "tls_enabled")?.unwrap_or(false),
            "tls_ciphers": keep(input, "tls_ciphers"),
            "tls_versions": keep(input, "tls_versions"),
            "alpn_protocols": keep(input, "alpn_protocols"),
        })))
    }

    /// A new member (not yet linked to its pool).
    pub(crate) fn build_member(
        &mut self,
        input: &Obj,
        lb: &str,
        has_hm: bool,
        p: Provider,
    ) -> Result<Obj, ApiError> {
        only(input, "member", MEMBER_KEYS)?;
        let address = req_str(input, "address")?;
        if address.parse::<std::net::IpAddr>().is_err() {
            return Err(invalid(
                "address",
                &json!(address),
                "Value should be IPv4 or IPv6 format",
            ));
        }
        if address == "169.254.169.254" {
            return Err(octavia_err(
                400,
                format!("{address} is not a valid option for member address"),
            ));
        }
        let port = req_int(input, "protocol_port", 1, 65535)?;
        let monitor_address = opt_str(input, "monitor_address")?;
        let monitor_port = opt_int(input, "monitor_port", 1, 65535)?;
        if p == Provider::Ovn && (monitor_address.is_some() || monitor_port.is_some()) {
            return Err(unsupported(
                p,
                "OVN provider does not support monitor options",
            ));
        }
        let vip_subnet = self
            .loadbalancers
            .get(lb)
            .map(|o| str_of(o, "vip_subnet_id").to_string())
            .unwrap_or_default();
        let subnet = opt_str(input, "subnet_id")?;
        if let Some(s) = &subnet {
            if !self.subnets.contains(s) {
                return Err(octavia_err(400, format!("Subnet {s} not found.")));
            }
        }
        if p == Provider::Ovn && subnet.is_none() {
            let in_vip = self
                .subnets
                .get(&vip_subnet)
                .is_some_and(|s| crate::neutron::in_cidr(&address, str_of(s, "cidr")));
            if !in_vip {
                return Err(unsupported(
                    p,
                    "OVN provider requires subnet_id for members outside the VIP subnet",
                ));
            }
        }
        let id = self.ids.uuid();
        Ok(obj(json!({
            "id": id,
            "name": opt_str(input, "name")?.unwrap_or_default(),
            "operating_status": if has_hm { "OFFLINE" } else { "NO_MONITOR" },
            "provisioning_status": "PENDING_CREATE",
            "admin_state_up": opt_bool(input, "admin_state_up")?.unwrap_or(true),
            "address": address,
            "protocol_port": port,
            "weight": opt_int(input, "weight", 0, 256)?.unwrap_or(1),
            "backup": opt_bool(input, "backup")?.unwrap_or(false),
            "subnet_id": subnet.unwrap_or(vip_subnet),
            "project_id": self.project_id,
            "tenant_id": self.project_id,
            "created_at": stamp::octavia(),
            "updated_at": null,
            "monitor_address": monitor_address,
            "monitor_port": monitor_port,
            "tags": tags(input)?,
            "vnic_type": "normal",
        })))
    }

    /// A new health monitor for a pool of `pool_protocol`.
    pub(crate) fn build_hm(
        &mut self,
        input: &Obj,
        pool: &str,
        pool_protocol: &str,
        p: Provider,
    ) -> Result<Obj, ApiError> {
        only(input, "healthmonitor", HM_KEYS)?;
        let kind = enum_of(input, "type", MONITOR_TYPES)?
            .ok_or_else(|| invalid("type", &Value::Null, "Mandatory field missing."))?;
        let delay = req_int(input, "delay", 0, i64::from(i32::MAX))?;
        let timeout = req_int(input, "timeout", 0, i64::from(i32::MAX))?;
        let retries = req_int(input, "max_retries", 1, 10)?;
        let retries_down = opt_int(input, "max_retries_down", 1, 10)?.unwrap_or(3);
        monitor_fits_pool(&kind, pool_protocol)?;
        provider_monitor(p, &kind)?;
        let http = matches!(kind.as_str(), "HTTP" | "HTTPS");
        if !http {
            for f in ["http_method", "url_path", "expected_codes"] {
                if input.get(f).is_some_and(|v| !v.is_null()) {
                    return Err(octavia_err(
                        400,
                        format!("{f} is not a valid option for health monitors of type {kind}"),
                    ));
                }
            }
        }
        let http_version = match input.get("http_version") {
            None | Some(Value::Null) => Value::Null,
            Some(v) => match v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            {
                Some(x) if x == 1.0 || x == 1.1 => json!(x),
                _ => {
                    return Err(invalid(
                        "http_version",
                        v,
                        "Value should be one of: 1.0, 1.1",
                    ))
                }
            },
        };
        if input.get("domain_name").is_some_and(|v| !v.is_null()) && http_version != json!(1.1) {
            return Err(validation("domain_name requires http_version 1.1."));
        }
        let default = |k: &str, d: &str| -> Result<Value, ApiError> {
            Ok(if http {
                json!(opt_str(input, k)?.unwrap_or_else(|| d.to_string()))
            } else {
                Value::Null
            })
        };
        let id = self.ids.uuid();
        Ok(obj(json!({
            "id": id,
            "name": opt_str(input, "name")?.unwrap_or_default(),
            "provisioning_status": "PENDING_CREATE",
            "operating_status": "OFFLINE",
            "admin_state_up": opt_bool(input, "admin_state_up")?.unwrap_or(true),
            "type": kind,
            "delay": delay,
            "timeout": timeout,
            "max_retries": retries,
            "max_retries_down": retries_down,
            "http_method": default("http_method", "GET")?,
            "url_path": default("url_path", "/")?,
            "expected_codes": default("expected_codes", "200")?,
            "http_version": http_version,
            "domain_name": keep(input, "domain_name"),
            "project_id": self.project_id,
            "tenant_id": self.project_id,
            "created_at": stamp::octavia(),
            "updated_at": null,
            "tags": tags(input)?,
            "pools": links([pool.to_string()]),
        })))
    }

    /// 403 when `extra` more of `kind` would exceed the Octavia quota.
    pub(crate) fn octavia_quota_check(&self, kind: &str, extra: usize) -> Result<(), ApiError> {
        let limit = self.octavia_quota.get(kind).copied().unwrap_or(-1);
        let current = match kind {
            "loadbalancer" => self.loadbalancers.len(),
            "listener" => self.listeners.len(),
            "pool" => self.pools.len(),
            "member" => self.members.len(),
            _ => self.healthmonitors.len(),
        };
        if limit >= 0 && (current + extra) as i64 > limit {
            let name = match kind {
                "loadbalancer" => "Load Balancer",
                "listener" => "Listener",
                "pool" => "Pool",
                "member" => "Member",
                _ => "Health Monitor",
            };
            return Err(octavia_err(
                403,
                format!("Quota has been met for resources: {name}"),
            ));
        }
        Ok(())
    }
}
