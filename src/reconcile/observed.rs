//! What the reconciler saw in the cloud for one request: plain data, filled by
//! [`super::cloud`] from list calls filtered by our tags, read by the pure planner.

use std::collections::{BTreeSet, HashMap};

use openstack::load_balancer::enums::{
    LbAlgorithm, MonitorType, Protocol, ProvisioningStatus, SessionPersistenceType,
};

/// Everything found for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Load balancers carrying the request's tag, without those being deleted
    /// (`PENDING_DELETE`/`DELETED`). More than one is an error the reconciler reports.
    pub load_balancers: Vec<ObservedLb>,
    /// Load balancers of this request being deleted right now (ids).
    pub deleting: Vec<String>,
    /// The load balancer's objects by name and status (status tree); `None` when there is no
    /// load balancer or it was not read.
    pub tree: Option<Tree>,
    /// Full listener/pool/monitor settings; `None` when the quick path did not need them.
    pub children: Option<Children>,
    /// Floating IPs carrying the request's tag (or bound to the VIP port).
    pub floating_ips: Vec<ObservedFip>,
    /// Security groups carrying the request's tag; `None` when not looked at.
    pub security_groups: Option<Vec<ObservedSg>>,
    /// Ports on the member network (when security groups are managed): every port of the
    /// network when a group of ours exists (to find ports that are no longer members), only
    /// the members' ports otherwise.
    pub ports: Vec<PortView>,
    /// Member ids per pool id, as the status tree listed them (empty when it was not read).
    pub member_ids: HashMap<String, BTreeSet<String>>,
}

/// A Neutron port on the member network, as far as security groups go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortView {
    /// Id.
    pub id: String,
    /// Its fixed addresses.
    pub addresses: Vec<String>,
    /// Its security groups.
    pub security_groups: Vec<String>,
    /// Whether port security is on (groups can only be set when it is).
    pub port_security: bool,
    /// Its `revision_number` as listed: a write conditioned on it (`If-Match`) needs no read
    /// first, and fails rather than overwrite a change made since. `None` when the cloud does
    /// not report revisions.
    pub revision: Option<u64>,
}

/// A load balancer as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedLb {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Provisioning status.
    pub provisioning: ProvisioningStatus,
    /// Operating status (as Octavia spells it).
    pub operating: String,
    /// VIP address.
    pub vip_address: Option<String>,
    /// VIP port.
    pub vip_port_id: Option<String>,
    /// VIP subnet.
    pub vip_subnet_id: Option<String>,
    /// Provider.
    pub provider: Option<String>,
}

/// The status tree: names, statuses and members of everything under a load balancer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Listeners.
    pub listeners: Vec<TreeListener>,
    /// Pools.
    pub pools: Vec<TreePool>,
}

/// A listener in the status tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeListener {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Provisioning status.
    pub provisioning: ProvisioningStatus,
}

/// A pool in the status tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreePool {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Provisioning status.
    pub provisioning: ProvisioningStatus,
    /// Members.
    pub members: Vec<ObservedMember>,
    /// The monitor's name and type, if the pool has one.
    pub monitor: Option<(String, MonitorType)>,
}

/// A member.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObservedMember {
    /// Address.
    pub address: String,
    /// Port.
    pub port: u16,
    /// Name.
    pub name: String,
    /// Provisioning status (a member in ERROR is re-sent).
    pub provisioning: ProvisioningStatus,
    /// Operating status (as Octavia spells it).
    pub operating: String,
}

/// Full settings of the children, read when something may have changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Children {
    /// Listeners of the load balancer.
    pub listeners: Vec<ObservedListener>,
    /// Pools of the load balancer.
    pub pools: Vec<ObservedPool>,
    /// Health monitors of those pools.
    pub monitors: Vec<ObservedMonitor>,
}

/// A listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedListener {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Port.
    pub port: u16,
    /// Allowed CIDRs (empty = everyone).
    pub allowed_cidrs: Vec<String>,
    /// Default pool.
    pub default_pool_id: Option<String>,
    /// Provisioning status.
    pub provisioning: ProvisioningStatus,
}

/// A pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedPool {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Algorithm.
    pub algorithm: LbAlgorithm,
    /// Session persistence type.
    pub persistence: Option<SessionPersistenceType>,
    /// Monitor id.
    pub monitor_id: Option<String>,
    /// Provisioning status.
    pub provisioning: ProvisioningStatus,
}

/// A health monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedMonitor {
    /// Id.
    pub id: String,
    /// Pool it watches.
    pub pool_id: Option<String>,
    /// Name.
    pub name: String,
    /// Type.
    pub kind: MonitorType,
    /// Seconds between checks.
    pub delay: u32,
    /// Seconds a check may take.
    pub timeout: u32,
    /// Successes before ONLINE.
    pub max_retries: u32,
    /// Failures before ERROR.
    pub max_retries_down: u32,
    /// HTTP path.
    pub url_path: Option<String>,
    /// HTTP expected codes.
    pub expected_codes: Option<String>,
    /// Provisioning status.
    pub provisioning: ProvisioningStatus,
}

/// A floating IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedFip {
    /// Id.
    pub id: String,
    /// The public address.
    pub address: String,
    /// External network.
    pub network_id: String,
    /// Port it is bound to.
    pub port_id: Option<String>,
    /// Description.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
}

/// A security group of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedSg {
    /// Id.
    pub id: String,
    /// Whether it carries our tags (`false`: found by name and description after a create
    /// whose tagging was cut short).
    pub tagged: bool,
    /// Ingress rules we care about.
    pub rules: Vec<ObservedRule>,
}

/// An ingress rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedRule {
    /// Id.
    pub id: String,
    /// The rule as the spec describes rules (protocol, port, source, ethertype).
    pub rule: crate::spec::DesiredRule,
}
