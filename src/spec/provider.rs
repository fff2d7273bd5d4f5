//! What a provider can do: the capabilities a request is read against ([`ProviderCaps`]) and
//! their values for each provider we know ([`Provider::of`]). The site's choices (such as
//! `closest_health_check`) are not here: they are in [`super::Site`].

use std::collections::BTreeSet;

use openstack::load_balancer::enums::LbAlgorithm;

use crate::relation::v1::Protocol as WireProtocol;

/// The providers whose limits we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// `amphora` (or its alias `octavia`, or an unknown provider, treated alike).
    Amphora,
    /// `ovn`: L4 only, `SOURCE_IP_PORT` only, TCP/UDP-CONNECT monitors, no `allowed_cidrs`,
    /// no flavors/AZ/failover, keeps client source addresses.
    Ovn,
}

impl ProviderKind {
    /// The kind of a provider name (`None` = the cloud's default, amphora).
    pub fn of(name: Option<&str>) -> ProviderKind {
        match name {
            Some(n) if n.eq_ignore_ascii_case("ovn") => ProviderKind::Ovn,
            _ => ProviderKind::Amphora,
        }
    }
}

/// A health-monitor kind a provider may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MonitorKind {
    /// A TCP connect.
    Tcp,
    /// A UDP probe.
    UdpConnect,
    /// An HTTP GET of a path.
    Http,
    /// An HTTPS GET of a path.
    Https,
}

/// What the provider can do, as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderCaps {
    /// Protocols a listener/pool can have.
    pub protocols: BTreeSet<WireProtocol>,
    /// Balancing algorithm names the provider supports (e.g. `ROUND_ROBIN`), spelled as the
    /// provider spells them.
    pub algorithms: Vec<String>,
    /// Whether source-IP session persistence is available.
    pub source_ip_persistence: bool,
    /// Health-monitor kinds available.
    pub monitor_kinds: BTreeSet<MonitorKind>,
    /// Whether a specific VIP address can be requested.
    pub vip_address: bool,
    /// Whether a health check may probe a port other than the backend's own (Octavia's
    /// `monitor_port` on members; OVN cannot).
    pub monitor_port_override: bool,
}

impl ProviderCaps {
    /// What a provider of `kind` can do.
    pub fn of(kind: ProviderKind) -> ProviderCaps {
        match kind {
            ProviderKind::Amphora => ProviderCaps {
                protocols: WireProtocol::ALL.into_iter().collect(),
                algorithms: vec![
                    "ROUND_ROBIN".into(),
                    "LEAST_CONNECTIONS".into(),
                    "SOURCE_IP".into(),
                ],
                source_ip_persistence: true,
                monitor_kinds: [
                    MonitorKind::Tcp,
                    MonitorKind::UdpConnect,
                    MonitorKind::Http,
                    MonitorKind::Https,
                ]
                .into_iter()
                .collect(),
                vip_address: true,
                monitor_port_override: true,
            },
            ProviderKind::Ovn => ProviderCaps {
                protocols: [WireProtocol::Tcp, WireProtocol::Udp].into_iter().collect(),
                algorithms: vec!["SOURCE_IP_PORT".into()],
                source_ip_persistence: true,
                monitor_kinds: [MonitorKind::Tcp, MonitorKind::UdpConnect]
                    .into_iter()
                    .collect(),
                vip_address: true,
                // OVN health checks probe the member's own address and port.
                monitor_port_override: false,
            },
        }
    }
}

/// The provider a request is built for: its kind, its capabilities and the algorithm of
/// requests that name none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// Which provider.
    pub kind: ProviderKind,
    /// What it can do.
    pub caps: ProviderCaps,
    /// The algorithm for requests that name none: the configured default when the provider
    /// has it, else the provider's first (OVN only has `SOURCE_IP_PORT`).
    pub default_algorithm: LbAlgorithm,
}

impl Provider {
    /// The provider named `name` (`None` = the cloud's default), with the site's configured
    /// default algorithm.
    pub fn of(name: Option<&str>, configured_default_algorithm: &str) -> Provider {
        Provider::with_caps(
            ProviderKind::of(name),
            ProviderCaps::of(ProviderKind::of(name)),
            configured_default_algorithm,
        )
    }

    /// A provider of `kind` with the given capabilities.
    pub fn with_caps(
        kind: ProviderKind,
        caps: ProviderCaps,
        configured_default_algorithm: &str,
    ) -> Provider {
        let pick = caps
            .algorithms
            .iter()
            .find(|a| a.eq_ignore_ascii_case(configured_default_algorithm))
            .or_else(|| caps.algorithms.first())
            .map(String::as_str)
            .unwrap_or(configured_default_algorithm);
        let default_algorithm = pick
            .to_ascii_uppercase()
            .parse()
            .unwrap_or(LbAlgorithm::RoundRobin);
        Provider {
            kind,
            caps,
            default_algorithm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ovn_defaults_to_source_ip_port_and_amphora_to_the_configured_one() {
        assert_eq!(
            Provider::of(Some("ovn"), "ROUND_ROBIN").default_algorithm,
            LbAlgorithm::SourceIpPort
        );
        assert_eq!(
            Provider::of(None, "least_connections").default_algorithm,
            LbAlgorithm::LeastConnections
        );
        assert_eq!(ProviderKind::of(Some("OVN")), ProviderKind::Ovn);
        assert_eq!(ProviderKind::of(None), ProviderKind::Amphora);
    }
}
