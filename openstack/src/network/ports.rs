//! Neutron ports: `/v2.0/ports` (the VIP port, member ports and their security groups).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::Status;
use crate::calls;
use crate::error::Error;
use crate::load_balancer::wire::{default_true, null_default, null_true, segment};
use crate::pagination::{list as list_pages, page, Query};
use crate::session::{Call, ServiceType, Session};

/// A port as Neutron reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Port {
    /// Neutron id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Its network.
    pub network_id: String,
    /// Its addresses.
    #[serde(default, deserialize_with = "null_default")]
    pub fixed_ips: Vec<FixedIp>,
    /// MAC address.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// What uses it (an instance id, `lb-<id>` for Octavia VIPs, ...).
    #[serde(default, deserialize_with = "null_default")]
    pub device_id: String,
    /// Owner kind (`compute:nova`, `Octavia`, ...).
    #[serde(default, deserialize_with = "null_default")]
    pub device_owner: String,
    /// Security groups attached.
    #[serde(default, deserialize_with = "null_default")]
    pub security_groups: Vec<String>,
    /// Port security on (security groups need it).
    #[serde(default)]
    pub port_security_enabled: Option<bool>,
    /// Status (an amphora VIP port is normally `DOWN`).
    #[serde(default)]
    pub status: Option<Status>,
    /// Administratively enabled.
    #[serde(default = "default_true", deserialize_with = "null_true")]
    pub admin_state_up: bool,
    /// Owning project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Revision (for `If-Match`).
    #[serde(default)]
    pub revision_number: Option<u64>,
}

/// One address of a port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FixedIp {
    /// The address.
    pub ip_address: String,
    /// Its subnet.
    pub subnet_id: String,
}

/// Filters for listing ports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPorts {
    /// Ports holding this address (`fixed_ips=ip_address=<ip>`).
    pub ip_address: Option<String>,
    /// Ports holding any of these addresses (`fixed_ips=ip_address=<ip>` repeated: Neutron
    /// ORs the repeated filter, so one call finds every member's port).
    pub ip_addresses: Vec<String>,
    /// Ports of this device.
    pub device_id: Option<String>,
    /// Ports on this network.
    pub network_id: Option<String>,
}

impl ListPorts {
    /// The query parameters, in a stable order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        Query::default()
            .each(
                "fixed_ips",
                self.ip_address
                    .iter()
                    .chain(&self.ip_addresses)
                    .map(|ip| format!("ip_address={ip}")),
            )
            .opt("device_id", &self.device_id)
            .opt("network_id", &self.network_id)
            .pairs()
    }
}

/// `PUT /v2.0/ports/{id}`: only `Some` fields are sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdatePort {
    /// Replaces the port's security groups (read, merge, write; `Some(vec![])` removes all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<String>>,
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

page!(PortPage, Port, "ports", "ports_links");

fn collection() -> &'static str {
    "ports"
}

fn resource(id: &str) -> Result<String, Error> {
    Ok(format!("ports/{}", segment("port", id)?))
}

/// `GET /v2.0/ports/{id}` → 200.
///
/// # Errors
/// 404 when missing or not visible.
pub async fn get(session: &Session, id: &str) -> Result<Port, Error> {
    calls::get_one(session, ServiceType::Network, resource(id)?, "port").await
}

/// `GET /v2.0/ports` with filters (every page) → 200.
///
/// # Errors
/// Any page's error.
pub async fn list(session: &Session, filter: &ListPorts) -> Result<Vec<Port>, Error> {
    list_pages::<PortPage>(session, ServiceType::Network, collection(), filter.query()).await
}

/// `PUT /v2.0/ports/{id}` → 200.
///
/// # Errors
/// 400 when the port has port security off or no address; 404 when missing.
pub async fn update(session: &Session, id: &str, update: &UpdatePort) -> Result<Port, Error> {
    calls::put_one(
        session,
        ServiceType::Network,
        resource(id)?,
        &[200],
        "port",
        update,
    )
    .await
}

/// `PUT /v2.0/ports/{id}` with `If-Match: revision_number=<revision>` → 200: the update
/// applies only if nobody changed the port since that revision was read.
///
/// # Errors
/// 412 (`RevisionNumberConstraintFailed`, see [`Error::is_stale_revision`]) when the port
/// changed since; otherwise as [`update`].
pub async fn update_at_revision(
    session: &Session,
    id: &str,
    revision: u64,
    update: &UpdatePort,
) -> Result<Port, Error> {
    let call = Call::new(ServiceType::Network, Method::PUT, resource(id)?, &[200])
        .if_match(if_match_revision(revision));
    calls::send_one(session, call, "port", update).await
}

/// The `If-Match` value Neutron's `revision-if-match` extension reads.
pub fn if_match_revision(revision: u64) -> String {
    format!("revision_number={revision}")
}

/// Sets the port's security groups to exactly `security_groups` (`PUT` with only that field).
///
/// # Errors
/// As [`update`].
pub async fn set_security_groups(
    session: &Session,
    id: &str,
    security_groups: &[String],
) -> Result<Port, Error> {
    let update = UpdatePort {
        security_groups: Some(security_groups.to_vec()),
        ..Default::default()
    };
    self::update(session, id, &update).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(collection(), "ports");
        assert_eq!(resource("p").unwrap(), "ports/p");
    }

    #[test]
    fn query_repeats_fixed_ips_for_every_address() {
        let filter = ListPorts {
            ip_address: Some("10.0.0.1".into()),
            ip_addresses: vec!["10.0.0.2".into()],
            network_id: Some("n".into()),
            ..Default::default()
        };
        assert_eq!(
            filter.query(),
            [
                ("fixed_ips", "ip_address=10.0.0.1".to_string()),
                ("fixed_ips", "ip_address=10.0.0.2".to_string()),
                ("network_id", "n".to_string()),
            ]
        );
    }

    #[test]
    fn if_match_names_the_revision() {
        assert_eq!(if_match_revision(7), "revision_number=7");
    }

    #[test]
    fn update_sends_only_security_groups() {
        let update = UpdatePort {
            security_groups: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(update).unwrap(),
            json!({"security_groups": []})
        );
    }
}
