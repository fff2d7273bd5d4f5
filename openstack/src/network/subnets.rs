//! Neutron subnets: `/v2.0/subnets` (VIP and member subnet facts).

use serde::Deserialize;

use crate::calls;
use crate::error::Error;
use crate::load_balancer::wire::{null_default, segment};
use crate::pagination::{list as list_pages, page, Query};
use crate::session::{ServiceType, Session};

/// A subnet as Neutron reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Subnet {
    /// Neutron id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// The network it belongs to.
    pub network_id: String,
    /// Its CIDR, e.g. `10.0.0.0/24`.
    pub cidr: String,
    /// 4 or 6.
    pub ip_version: u8,
    /// Gateway, if any.
    #[serde(default)]
    pub gateway_ip: Option<String>,
    /// Ranges Neutron allocates from.
    #[serde(default, deserialize_with = "null_default")]
    pub allocation_pools: Vec<AllocationPool>,
    /// DHCP enabled.
    #[serde(default, deserialize_with = "null_default")]
    pub enable_dhcp: bool,
    /// Owning project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Revision.
    #[serde(default)]
    pub revision_number: Option<u64>,
}

/// One allocation range.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AllocationPool {
    /// First address.
    pub start: String,
    /// Last address.
    pub end: String,
}

/// Filters for listing subnets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSubnets {
    /// Exact name.
    pub name: Option<String>,
    /// Subnets of this network.
    pub network_id: Option<String>,
}

impl ListSubnets {
    /// The query parameters, in a stable order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        Query::default()
            .opt("name", &self.name)
            .opt("network_id", &self.network_id)
            .pairs()
    }
}

page!(SubnetPage, Subnet, "subnets", "subnets_links");

fn collection() -> &'static str {
    "subnets"
}

fn resource(id: &str) -> Result<String, Error> {
    Ok(format!("subnets/{}", segment("subnet", id)?))
}

/// `GET /v2.0/subnets/{id}` → 200.
///
/// # Errors
/// 404 when missing or not visible.
pub async fn get(session: &Session, id: &str) -> Result<Subnet, Error> {
    calls::get_one(session, ServiceType::Network, resource(id)?, "subnet").await
}

/// `GET /v2.0/subnets` with filters (every page) → 200.
///
/// # Errors
/// Any page's error.
pub async fn list(session: &Session, filter: &ListSubnets) -> Result<Vec<Subnet>, Error> {
    list_pages::<SubnetPage>(session, ServiceType::Network, collection(), filter.query()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(collection(), "subnets");
        assert_eq!(resource("s").unwrap(), "subnets/s");
    }
}
