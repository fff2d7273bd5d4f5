//! The desired load-balancer graph: everything one request should have in the cloud.
//!
//! Plain data, built by [`super::build()`] and compared by the reconciler's planner with what it
//! observed. Lists are kept in a canonical order (listeners by protocol and port, members by
//! address and port) so two graphs built from the same input are equal.

use md5::{Digest, Md5};
use openstack::load_balancer::enums::{LbAlgorithm, MonitorType, Protocol, SessionPersistenceType};

use super::naming::Owner;

/// One request's load balancer and everything around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredLb {
    /// Whose resources these are (names, tags, descriptions).
    pub owner: Owner,
    /// Load balancer name.
    pub name: String,
    /// Load balancer description.
    pub description: String,
    /// Load balancer tags (ownership marks).
    pub tags: Vec<String>,
    /// Subnet the VIP is allocated from.
    pub vip_subnet_id: String,
    /// Network of the VIP subnet, when known.
    pub vip_network_id: Option<String>,
    /// A requested VIP address (an internal request's `ingress_address`; a public request's
    /// names its floating IP instead), when the provider can honour it.
    pub vip_address: Option<String>,
    /// Octavia provider (`amphora`, `ovn`, …); `None` = the cloud's default.
    pub provider: Option<String>,
    /// Octavia flavor id.
    pub flavor_id: Option<String>,
    /// Octavia availability zone.
    pub availability_zone: Option<String>,
    /// One listener per port mapping, ordered by (protocol, port).
    pub listeners: Vec<DesiredListener>,
    /// A floating IP bound to the VIP port (public request with a floating network).
    pub floating_ip: Option<DesiredFloatingIp>,
    /// Our security group on the member ports (when the site manages security groups).
    pub security_group: Option<DesiredSecurityGroup>,
}

impl DesiredLb {
    /// The address family-independent identity of a listener: (protocol, port).
    pub fn listener(&self, protocol: &Protocol, port: u16) -> Option<&DesiredListener> {
        self.listeners
            .iter()
            .find(|l| &l.protocol == protocol && l.port == port)
    }

    /// Whether any pool would end up with no members.
    pub fn has_empty_pool(&self) -> bool {
        self.listeners.iter().any(|l| l.pool.members.is_empty())
    }

    /// A digest of everything except the members and the floating IP: two graphs with the
    /// same fingerprint need the same listeners, pools and monitors.
    pub fn fingerprint(&self) -> String {
        let mut h = Md5::new();
        let mut put = |s: &str| {
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        };
        put(&self.vip_subnet_id);
        put(self.vip_address.as_deref().unwrap_or(""));
        for l in &self.listeners {
            put(l.protocol.as_str());
            put(&l.port.to_string());
            put(&format!("{:?}", l.allowed_cidrs));
            let p = &l.pool;
            put(p.protocol.as_str());
            put(p.algorithm.as_str());
            put(p.persistence.as_ref().map(|s| s.as_str()).unwrap_or(""));
            match &p.monitor {
                Some(m) => put(&format!(
                    "{}|{}|{}|{}|{}|{:?}|{:?}",
                    m.kind,
                    m.delay,
                    m.timeout,
                    m.max_retries,
                    m.max_retries_down,
                    m.url_path,
                    m.expected_codes
                )),
                None => put("-"),
            }
        }
        h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// One listener (one port mapping) with its default pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredListener {
    /// Listener name.
    pub name: String,
    /// Listener protocol.
    pub protocol: Protocol,
    /// Frontend port.
    pub port: u16,
    /// Source CIDRs allowed to connect; `None` = everyone (and the field is never sent).
    pub allowed_cidrs: Option<Vec<String>>,
    /// Tags (ownership marks).
    pub tags: Vec<String>,
    /// The listener's default pool.
    pub pool: DesiredPool,
}

/// A pool: how traffic is spread over the backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredPool {
    /// Pool name (unique within the request: fully populated create needs it).
    pub name: String,
    /// Pool protocol.
    pub protocol: Protocol,
    /// Algorithm.
    pub algorithm: LbAlgorithm,
    /// Session persistence (`sticky`).
    pub persistence: Option<SessionPersistenceType>,
    /// Members, ordered by (address, port).
    pub members: Vec<DesiredMember>,
    /// Health monitor.
    pub monitor: Option<DesiredMonitor>,
    /// Tags (ownership marks).
    pub tags: Vec<String>,
}

/// One backend.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DesiredMember {
    /// Backend address.
    pub address: String,
    /// Backend port.
    pub port: u16,
    /// Member name.
    pub name: String,
    /// Subnet the backend lives on.
    pub subnet_id: Option<String>,
    /// Port health checks go to, when it differs from `port`.
    pub monitor_port: Option<u16>,
}

/// A health monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredMonitor {
    /// Monitor name.
    pub name: String,
    /// Monitor type.
    pub kind: MonitorType,
    /// Seconds between checks.
    pub delay: u32,
    /// Seconds a check may take (less than `delay`).
    pub timeout: u32,
    /// Successes before a member is ONLINE (1–10).
    pub max_retries: u8,
    /// Failures before a member is ERROR (1–10).
    pub max_retries_down: u8,
    /// HTTP(S) path; `None` for other types.
    pub url_path: Option<String>,
    /// HTTP(S) expected codes; `None` for other types.
    pub expected_codes: Option<String>,
    /// Tags (ownership marks).
    pub tags: Vec<String>,
}

/// A floating IP bound to the VIP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredFloatingIp {
    /// External network the address comes from.
    pub network_id: String,
    /// Description (ownership, for humans).
    pub description: String,
    /// Tags (ownership marks).
    pub tags: Vec<String>,
    /// An existing floating IP to use instead of a new one: a public request's
    /// `ingress_address`. It is bound to the VIP port but never tagged, so it stays its
    /// owner's: never deleted by us (Neutron unbinds it when the VIP port goes).
    pub address: Option<String>,
}

/// Our security group on the backends' ports: lets the load balancer reach them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredSecurityGroup {
    /// Group name.
    pub name: String,
    /// Description (ownership, for humans).
    pub description: String,
    /// Tags (ownership marks).
    pub tags: Vec<String>,
    /// Ingress rules, ordered.
    pub rules: Vec<DesiredRule>,
    /// Backend addresses whose ports (on the member subnet) get the group.
    pub member_addresses: Vec<String>,
    /// Subnet the member ports are on.
    pub member_subnet_id: String,
    /// Network the member ports are on.
    pub member_network_id: Option<String>,
}

/// One ingress rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DesiredRule {
    /// `tcp` or `udp` (Neutron spelling).
    pub protocol: String,
    /// Destination port.
    pub port: u16,
    /// Allowed source.
    pub remote_ip_prefix: String,
    /// `IPv4` or `IPv6`, matching `remote_ip_prefix`.
    pub ethertype: String,
}
