//! Neutron networks: `/v2.0/networks` (find the external network for floating IPs).

use serde::Deserialize;

use super::Status;
use crate::calls;
use crate::error::Error;
use crate::load_balancer::wire::{default_true, null_default, null_true, segment};
use crate::pagination::{list as list_pages, page, Query};
use crate::session::{ServiceType, Session};

/// A network as Neutron reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Network {
    /// Neutron id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Status.
    #[serde(default)]
    pub status: Option<Status>,
    /// External network: floating IPs come from here.
    #[serde(rename = "router:external", default, deserialize_with = "null_default")]
    pub router_external: bool,
    /// Shared with every project.
    #[serde(default, deserialize_with = "null_default")]
    pub shared: bool,
    /// Its subnets' ids.
    #[serde(default, deserialize_with = "null_default")]
    pub subnets: Vec<String>,
    /// MTU.
    #[serde(default)]
    pub mtu: Option<u32>,
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

/// Filters for listing networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListNetworks {
    /// Exact name.
    pub name: Option<String>,
    /// `router:external=true|false`.
    pub router_external: Option<bool>,
}

impl ListNetworks {
    /// The query parameters, in a stable order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        Query::default()
            .opt("name", &self.name)
            .opt(
                "router:external",
                &self.router_external.map(|e| e.to_string()),
            )
            .pairs()
    }
}

page!(NetworkPage, Network, "networks", "networks_links");

fn collection() -> &'static str {
    "networks"
}

fn resource(id: &str) -> Result<String, Error> {
    Ok(format!("networks/{}", segment("network", id)?))
}

/// `GET /v2.0/networks/{id}` → 200.
///
/// # Errors
/// 404 when missing or not visible to the project.
pub async fn get(session: &Session, id: &str) -> Result<Network, Error> {
    calls::get_one(session, ServiceType::Network, resource(id)?, "network").await
}

/// `GET /v2.0/networks` with filters (every page) → 200.
///
/// # Errors
/// Any page's error.
pub async fn list(session: &Session, filter: &ListNetworks) -> Result<Vec<Network>, Error> {
    list_pages::<NetworkPage>(session, ServiceType::Network, collection(), filter.query()).await
}

/// `GET /v2.0/networks?router:external=true`: the networks floating IPs can come from.
///
/// # Errors
/// As [`list`].
pub async fn list_external(session: &Session) -> Result<Vec<Network>, Error> {
    list(
        session,
        &ListNetworks {
            name: None,
            router_external: Some(true),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(collection(), "networks");
        assert_eq!(resource("n").unwrap(), "networks/n");
    }

    #[test]
    fn router_external_is_read_from_its_colon_key() {
        let n: Network = serde_json::from_str(r#"{"id": "n", "router:external": true}"#).unwrap();
        assert!(n.router_external);
        assert!(n.admin_state_up);
    }
}
