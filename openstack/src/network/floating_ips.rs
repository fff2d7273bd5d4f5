//! Neutron floating IPs: `/v2.0/floatingips`.

use serde::{Deserialize, Serialize};

use super::Status;
use crate::calls;
use crate::error::Error;
use crate::load_balancer::wire::{null_default, segment};
use crate::pagination::{list as list_pages, page, Query};
use crate::session::{ServiceType, Session};

/// A floating IP as Neutron reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FloatingIp {
    /// Neutron id.
    pub id: String,
    /// The public address.
    pub floating_ip_address: String,
    /// The external network it comes from.
    pub floating_network_id: String,
    /// The fixed address it forwards to, when associated.
    #[serde(default)]
    pub fixed_ip_address: Option<String>,
    /// The port it is associated with; `None` when free.
    #[serde(default)]
    pub port_id: Option<String>,
    /// The router doing the NAT.
    #[serde(default)]
    pub router_id: Option<String>,
    /// `ACTIVE`, or `DOWN` when unassociated.
    #[serde(default)]
    pub status: Option<Status>,
    /// Description (we mark ours here as well as in tags).
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Owning project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Revision.
    #[serde(default)]
    pub revision_number: Option<u64>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// `POST /v2.0/floatingips`. Give `port_id` to associate in the same call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateFloatingIp {
    /// The external network (required).
    pub floating_network_id: String,
    /// Associate with this port at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_id: Option<String>,
    /// Which of the port's addresses (needed when it has several).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_ip_address: Option<String>,
    /// Pick the external subnet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// A specific address (admin only by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floating_ip_address: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// DNS name (needs the DNS extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    /// DNS domain (needs the DNS extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_domain: Option<String>,
    /// QoS policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qos_policy_id: Option<String>,
}

/// `PUT /v2.0/floatingips/{id}`: only `Some` fields are sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateFloatingIp {
    /// `Some(Some(port))` associates, `Some(None)` disassociates (sends `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_id: Option<Option<String>>,
    /// Which of the port's addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_ip_address: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Filters for listing floating IPs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFloatingIps {
    /// Associated with this port.
    pub port_id: Option<String>,
    /// From this external network.
    pub floating_network_id: Option<String>,
    /// With this public address.
    pub floating_ip_address: Option<String>,
    /// Has all these tags (`tags=a,b`).
    pub tags: Vec<String>,
}

impl ListFloatingIps {
    /// The query parameters, in a stable order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        Query::default()
            .opt("port_id", &self.port_id)
            .opt("floating_network_id", &self.floating_network_id)
            .opt("floating_ip_address", &self.floating_ip_address)
            .joined("tags", &self.tags)
            .pairs()
    }
}

page!(
    FloatingIpPage,
    FloatingIp,
    "floatingips",
    "floatingips_links"
);

fn collection() -> &'static str {
    "floatingips"
}

fn resource(id: &str) -> Result<String, Error> {
    Ok(format!("floatingips/{}", segment("floating IP", id)?))
}

/// `GET /v2.0/floatingips` with filters (every page) → 200.
///
/// # Errors
/// Any page's error.
pub async fn list(session: &Session, filter: &ListFloatingIps) -> Result<Vec<FloatingIp>, Error> {
    list_pages::<FloatingIpPage>(session, ServiceType::Network, collection(), filter.query()).await
}

/// `GET /v2.0/floatingips/{id}` → 200.
///
/// # Errors
/// 404 when missing.
pub async fn get(session: &Session, id: &str) -> Result<FloatingIp, Error> {
    calls::get_one(session, ServiceType::Network, resource(id)?, "floatingip").await
}

/// `POST /v2.0/floatingips` → 201.
///
/// # Errors
/// 404 when the VIP subnet has no router to the external network (configuration, not
/// retryable); 409 `OverQuota`, `FloatingIPPortAlreadyAssociated`, or exhausted network.
pub async fn create(session: &Session, fip: &CreateFloatingIp) -> Result<FloatingIp, Error> {
    calls::post_one(
        session,
        ServiceType::Network,
        collection(),
        &[201],
        "floatingip",
        fip,
    )
    .await
}

/// `PUT /v2.0/floatingips/{id}` → 200.
///
/// # Errors
/// 404 when missing; 409 when the port already has a floating IP on that network.
pub async fn update(
    session: &Session,
    id: &str,
    update: &UpdateFloatingIp,
) -> Result<FloatingIp, Error> {
    calls::put_one(
        session,
        ServiceType::Network,
        resource(id)?,
        &[200],
        "floatingip",
        update,
    )
    .await
}

/// `DELETE /v2.0/floatingips/{id}` → 204 (releases the address).
///
/// # Errors
/// 404 when already gone.
pub async fn delete(session: &Session, id: &str) -> Result<(), Error> {
    calls::delete(session, ServiceType::Network, resource(id)?).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(collection(), "floatingips");
        assert_eq!(resource("f").unwrap(), "floatingips/f");
    }

    #[test]
    fn create_with_port_in_the_same_call() {
        let fip = CreateFloatingIp {
            floating_network_id: "ext".into(),
            port_id: Some("vip".into()),
            description: Some("ours".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(fip).unwrap(),
            json!({"floating_network_id": "ext", "port_id": "vip", "description": "ours"})
        );
    }

    #[test]
    fn disassociate_sends_null_port() {
        let update = UpdateFloatingIp {
            port_id: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(update).unwrap(),
            json!({"port_id": null})
        );
    }
}
