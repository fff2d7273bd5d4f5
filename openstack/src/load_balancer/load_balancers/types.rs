//! Load balancer read type and request types.

use serde::{Deserialize, Serialize};

use crate::load_balancer::listeners::CreateListener;
use crate::load_balancer::pools::CreatePool;
use crate::load_balancer::wire::{default_true, is_empty, null_default, null_true, IdRef};
use crate::load_balancer::{OperatingStatus, ProvisioningStatus};
use crate::pagination::Query;

/// A load balancer as Octavia reports it. Fields older clouds may lack are optional or default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LoadBalancer {
    /// Octavia id (UUID).
    pub id: String,
    /// Name (`""` when unset).
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description (`""` when unset).
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Owning project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Where the last change stands.
    pub provisioning_status: ProvisioningStatus,
    /// Whether it carries traffic.
    pub operating_status: OperatingStatus,
    /// Administratively enabled.
    #[serde(default = "default_true", deserialize_with = "null_true")]
    pub admin_state_up: bool,
    /// The VIP address.
    #[serde(default)]
    pub vip_address: Option<String>,
    /// The Neutron port holding the VIP (allocated by the time create returns).
    #[serde(default)]
    pub vip_port_id: Option<String>,
    /// The VIP subnet.
    #[serde(default)]
    pub vip_subnet_id: Option<String>,
    /// The VIP network.
    #[serde(default)]
    pub vip_network_id: Option<String>,
    /// QoS policy on the VIP port.
    #[serde(default)]
    pub vip_qos_policy_id: Option<String>,
    /// User security groups on the VIP port (API ≥ 2.29).
    #[serde(default, deserialize_with = "null_default")]
    pub vip_sg_ids: Vec<String>,
    /// `normal` or `direct`.
    #[serde(default)]
    pub vip_vnic_type: Option<String>,
    /// Further VIPs (API ≥ 2.26).
    #[serde(default, deserialize_with = "null_default")]
    pub additional_vips: Vec<AdditionalVip>,
    /// Listeners (full objects on create; `{id}` otherwise — only id and name are kept).
    #[serde(default, deserialize_with = "null_default")]
    pub listeners: Vec<IdRef>,
    /// Pools (as `listeners`).
    #[serde(default, deserialize_with = "null_default")]
    pub pools: Vec<IdRef>,
    /// Provider driver (`amphora`, `ovn`, or the deprecated alias `octavia`).
    #[serde(default)]
    pub provider: Option<String>,
    /// Flavor; `null` (or `""` in old examples) when unset.
    #[serde(default)]
    pub flavor_id: Option<String>,
    /// Availability zone.
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// Tags (API ≥ 2.5).
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Creation time, naive UTC as Octavia writes it (`2017-02-28T00:41:44`).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update time, naive UTC; `null` until the first update.
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl LoadBalancer {
    /// The flavor id, treating the `""` some servers send as "no flavor".
    pub fn flavor(&self) -> Option<&str> {
        self.flavor_id.as_deref().filter(|f| !f.is_empty())
    }
}

/// An additional VIP (API ≥ 2.26), in requests and responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdditionalVip {
    /// Subnet of the VIP.
    pub subnet_id: String,
    /// Requested or allocated address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The port holding it (responses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_id: Option<String>,
}

/// `POST /lbaas/loadbalancers`: plain, or fully populated when `listeners`/`pools` are set.
/// One of `vip_subnet_id`, `vip_network_id`, `vip_port_id` is required by Octavia.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateLoadBalancer {
    /// Name (≤ 255 chars).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description (≤ 255 chars).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Administratively enabled (server default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// VIP subnet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_subnet_id: Option<String>,
    /// VIP network (Octavia picks a subnet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_network_id: Option<String>,
    /// Existing Neutron port to use as VIP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_port_id: Option<String>,
    /// Requested fixed VIP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_address: Option<String>,
    /// QoS policy for the VIP port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_qos_policy_id: Option<String>,
    /// Further VIPs (API ≥ 2.26).
    #[serde(skip_serializing_if = "is_empty")]
    pub additional_vips: Vec<AdditionalVip>,
    /// Provider driver (`amphora`, `ovn`); server default when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Flavor id (never send `""`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavor_id: Option<String>,
    /// Availability zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// Tags.
    #[serde(skip_serializing_if = "is_empty")]
    pub tags: Vec<String>,
    /// Fully populated create: listeners, each possibly with a `default_pool` (no
    /// `loadbalancer_id` inside; the pool needs a `name`).
    #[serde(skip_serializing_if = "is_empty")]
    pub listeners: Vec<CreateListener>,
    /// Fully populated create: pools defined at top level (referenced by name).
    #[serde(skip_serializing_if = "is_empty")]
    pub pools: Vec<CreatePool>,
}

impl CreateLoadBalancer {
    /// True when this is a fully populated (single-call graph) create, which takes long.
    pub fn is_fully_populated(&self) -> bool {
        !self.listeners.is_empty() || !self.pools.is_empty()
    }
}

/// `PUT /lbaas/loadbalancers/{id}`: only the fields that are `Some` are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateLoadBalancer {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Enable or disable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// `Some(None)` removes the QoS policy (sends `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_qos_policy_id: Option<Option<String>>,
    /// Replaces the tag list (`Some(vec![])` clears it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// Filters for listing load balancers; all ANDed. Empty lists and `None` are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListLoadBalancers {
    /// Exact name.
    pub name: Option<String>,
    /// Has all of these tags (`tags=a,b`).
    pub tags: Vec<String>,
    /// Has any of these tags (`tags-any=a,b`).
    pub tags_any: Vec<String>,
    /// Project (admins only; otherwise the token's project is implied).
    pub project_id: Option<String>,
    /// The VIP port.
    pub vip_port_id: Option<String>,
}

impl ListLoadBalancers {
    /// The query parameters, in a stable order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        Query::default()
            .opt("name", &self.name)
            .joined("tags", &self.tags)
            .joined("tags-any", &self.tags_any)
            .opt("project_id", &self.project_id)
            .opt("vip_port_id", &self.vip_port_id)
            .pairs()
    }
}
