//! Load-balancer site settings and daemon settings: plain typed structs, validated, defaults
//! filled. Names are resolved to ids elsewhere (that needs the cloud).

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// An OpenStack resource given by name or by id (as operators expect for subnets, networks and
/// flavors). Which one it is gets decided when it is resolved against the cloud.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NameOrId(String);

impl NameOrId {
    /// Wraps a non-empty name or id.
    pub fn new(value: impl Into<String>) -> Self {
        NameOrId(value.into())
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text has the shape of an OpenStack id (a UUID, with or without dashes):
    /// look it up by id first, then by name.
    pub fn looks_like_id(&self) -> bool {
        let hex: String = self.0.chars().filter(|c| *c != '-').collect();
        let dashed_ok = !self.0.contains('-')
            || (self.0.len() == 36
                && [8, 13, 18, 23]
                    .iter()
                    .all(|i| self.0.as_bytes().get(*i) == Some(&b'-')));
        hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) && dashed_ok
    }
}

impl fmt::Display for NameOrId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A pool algorithm Octavia knows; used when a request names none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `ROUND_ROBIN`.
    RoundRobin,
    /// `LEAST_CONNECTIONS`.
    LeastConnections,
    /// `SOURCE_IP`.
    SourceIp,
    /// `SOURCE_IP_PORT` (the only one OVN supports).
    SourceIpPort,
}

impl Algorithm {
    /// All of them, in Octavia's spelling order.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::RoundRobin,
        Algorithm::LeastConnections,
        Algorithm::SourceIp,
        Algorithm::SourceIpPort,
    ];

    /// Octavia's spelling (`ROUND_ROBIN`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RoundRobin => "ROUND_ROBIN",
            Algorithm::LeastConnections => "LEAST_CONNECTIONS",
            Algorithm::SourceIp => "SOURCE_IP",
            Algorithm::SourceIpPort => "SOURCE_IP_PORT",
        }
    }

    /// Parses Octavia's spelling, in any letter case.
    pub fn parse(text: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[load_balancer]`: where and how load balancers are built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadBalancerSettings {
    /// Subnet the VIP is allocated from (required).
    pub vip_subnet: NameOrId,
    /// Subnet of the members' addresses (default: `vip_subnet`).
    pub member_subnet: NameOrId,
    /// External network for floating IPs of public requests (`None`: no floating IPs).
    pub floating_network: Option<NameOrId>,
    /// Octavia provider (default `amphora`).
    pub provider: String,
    /// Octavia flavor.
    pub flavor: Option<NameOrId>,
    /// Availability zone.
    pub availability_zone: Option<String>,
    /// Algorithm when a request names none (default `ROUND_ROBIN`).
    pub default_algorithm: Algorithm,
    /// Create and own security-group rules admitting the load balancer to the members
    /// (default true).
    pub manage_security_groups: bool,
    /// Build the whole graph in one POST (default true); false → serial create.
    pub fully_populated_create: bool,
    /// An HTTP(S) health check the provider cannot run becomes a TCP check of the same port
    /// (default false: such a request is answered `unsupported`).
    pub closest_health_check: bool,
    /// Budget for one request to converge (default 600 s).
    pub wait: Duration,
}

/// Default `[daemon] socket`.
pub const DEFAULT_SOCKET: &str = "/run/octavia-integrator/octavia-integrator.sock";
/// Default `[daemon] state_file`.
pub const DEFAULT_STATE_FILE: &str = "/var/lib/octavia-integrator/state.json";
/// Default `[daemon] metrics_address`.
pub const DEFAULT_METRICS_ADDRESS: &str = "127.0.0.1:9180";

/// `[daemon]`: the long-running service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonSettings {
    /// Unix socket of the local API (mode 0600).
    pub socket: PathBuf,
    /// The store file (desired requests, last answers).
    pub state_file: PathBuf,
    /// Period of the drift-repairing resync (default 300 s).
    pub resync: Duration,
    /// Program and arguments run when an answer changes (no shell).
    pub notify_command: Option<Vec<String>>,
    /// Where `/metrics` and `/healthz` are served (`None`: not served).
    pub metrics_address: Option<SocketAddr>,
    /// Whether this unit is the Juju leader and may act on the cloud (default true).
    pub leader: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shapes() {
        assert!(NameOrId::new("3b2f5c1e-8a4d-4e7b-9c0a-1d2e3f4a5b6c").looks_like_id());
        assert!(NameOrId::new("3b2f5c1e8a4d4e7b9c0a1d2e3f4a5b6c").looks_like_id());
        assert!(!NameOrId::new("private-subnet").looks_like_id());
        assert!(!NameOrId::new("3b2f5c1e-8a4d4e7b-9c0a-1d2e3f4a5b6c").looks_like_id());
        assert!(!NameOrId::new("zb2f5c1e-8a4d-4e7b-9c0a-1d2e3f4a5b6c").looks_like_id());
    }

    #[test]
    fn algorithms_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::parse(a.as_str()), Some(a));
        }
        assert_eq!(Algorithm::parse("round_robin"), Some(Algorithm::RoundRobin));
        assert_eq!(Algorithm::parse("RANDOM"), None);
    }
}
