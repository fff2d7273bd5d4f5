//! What the simulated cloud is configured with at start.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// An Octavia provider the simulator models, with its real limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The amphora (VM) provider: everything but `SOURCE_IP_PORT`; slow to provision.
    Amphora,
    /// The OVN provider: TCP/UDP/SCTP, `SOURCE_IP_PORT`, TCP/UDP-CONNECT monitors; fast.
    Ovn,
}

impl Provider {
    /// The provider name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Amphora => "amphora",
            Provider::Ovn => "ovn",
        }
    }

    /// Parse a wire name (`octavia` is the deprecated alias of `amphora`).
    pub fn from_wire(name: &str) -> Option<Provider> {
        match name {
            "amphora" | "octavia" => Some(Provider::Amphora),
            "ovn" => Some(Provider::Ovn),
            _ => None,
        }
    }

    /// Realistic provisioning delays in simulated seconds.
    pub fn default_delays(self) -> Delays {
        match self {
            Provider::Amphora => Delays {
                create: 90.0,
                update: 10.0,
                delete: 15.0,
                failover: 60.0,
            },
            Provider::Ovn => Delays {
                create: 3.0,
                update: 1.0,
                delete: 1.0,
                failover: 0.0,
            },
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::from_wire(s).ok_or_else(|| format!("unknown provider {s:?}: use amphora or ovn"))
    }
}

/// How long each kind of change takes, in simulated seconds (multiplied by the delay scale).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Delays {
    /// PENDING_CREATE → ACTIVE.
    pub create: f64,
    /// PENDING_UPDATE → ACTIVE (any change of the load balancer or a child).
    pub update: f64,
    /// PENDING_DELETE → gone.
    pub delete: f64,
    /// Failover (PENDING_UPDATE → ACTIVE).
    pub failover: f64,
}

/// The seeded identity: who can log in and with what.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) domain_id: String,
    pub(crate) domain_name: String,
    pub(crate) project_name: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) app_cred_name: String,
    pub(crate) app_cred_secret: String,
}

/// Settings fixed when the simulator starts.
#[derive(Debug, Clone)]
pub(crate) struct SimConfig {
    pub(crate) default_provider: Provider,
    pub(crate) delay_scale: f64,
    pub(crate) seed: u64,
    pub(crate) token_lifetime: Duration,
    pub(crate) regions: Vec<String>,
    pub(crate) identity: Identity,
    pub(crate) octavia_quota: BTreeMap<String, i64>,
    pub(crate) neutron_quota: BTreeMap<String, i64>,
    /// Pagination cap applied when `limit` is omitted (Octavia default 1000).
    pub(crate) page_max: usize,
}

impl SimConfig {
    pub(crate) fn new(seed: u64) -> Self {
        let octavia_quota = [
            "loadbalancer",
            "listener",
            "pool",
            "member",
            "healthmonitor",
            "l7policy",
            "l7rule",
        ]
        .into_iter()
        .map(|k| (k.to_string(), -1))
        .collect();
        let neutron_quota = [
            "floatingip",
            "port",
            "security_group",
            "security_group_rule",
            "network",
            "subnet",
        ]
        .into_iter()
        .map(|k| (k.to_string(), -1))
        .collect();
        SimConfig {
            default_provider: Provider::Amphora,
            delay_scale: 1.0,
            seed,
            token_lifetime: Duration::from_secs(3600),
            regions: vec!["RegionOne".to_string()],
            identity: Identity {
                domain_id: "default".to_string(),
                domain_name: "Default".to_string(),
                project_name: "demo".to_string(),
                username: "admin".to_string(),
                password: format!("sim-password-{seed}"),
                app_cred_name: "octavia-integrator".to_string(),
                app_cred_secret: format!("sim-app-secret-{seed}"),
            },
            octavia_quota,
            neutron_quota,
            page_max: 1000,
        }
    }
}
