//! From the relation's terms to Octavia's: [`LbIntent`] (what a request means) → [`Intent`],
//! and what each provider can do ([`provider_caps`]).

use openstack::load_balancer::enums::{LbAlgorithm, MonitorType, Protocol, SessionPersistenceType};

use super::build::{Intent, ListenerIntent, MonitorIntent};
use crate::relation::meaning::{CheckIntent, LbIntent, MonitorKind, Persistence, ProviderCaps};
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

/// What a provider can do, for [`crate::relation::meaning::meaning`].
pub fn provider_caps(kind: ProviderKind) -> ProviderCaps {
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
            tcp_instead_of_http_check: false,
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
            tcp_instead_of_http_check: false,
        },
    }
}

/// The algorithm for requests that name none: the configured default when the provider has
/// it, else the provider's first (OVN only has `SOURCE_IP_PORT`).
pub fn default_algorithm(configured: &str, caps: &ProviderCaps) -> LbAlgorithm {
    let pick = caps
        .algorithms
        .iter()
        .find(|a| a.eq_ignore_ascii_case(configured))
        .or_else(|| caps.algorithms.first())
        .map(String::as_str)
        .unwrap_or(configured);
    pick.to_ascii_uppercase()
        .parse()
        .unwrap_or(LbAlgorithm::RoundRobin)
}

/// Octavia's terms for a request's meaning.
pub fn intent_of(meaning: &LbIntent, default_algorithm: &LbAlgorithm) -> Intent {
    let protocol = |p: WireProtocol| match p {
        WireProtocol::Tcp => Protocol::Tcp,
        WireProtocol::Udp => Protocol::Udp,
        WireProtocol::Http => Protocol::Http,
        WireProtocol::Https => Protocol::Https,
    };
    Intent {
        public: meaning.public,
        vip_address: meaning.vip_address.map(|ip| ip.to_string()),
        listeners: meaning
            .listeners
            .iter()
            .map(|l| ListenerIntent {
                protocol: protocol(l.protocol),
                pool_protocol: protocol(l.protocol),
                port: l.port,
                backend_port: l.backend_port,
                allowed_cidrs: None,
            })
            .collect(),
        algorithm: meaning
            .algorithm
            .as_deref()
            .map(|a| {
                a.to_ascii_uppercase()
                    .parse()
                    .unwrap_or(LbAlgorithm::Unknown(a.to_string()))
            })
            .unwrap_or_else(|| default_algorithm.clone()),
        persistence: meaning.persistence.map(|p| match p {
            Persistence::SourceIp => SessionPersistenceType::SourceIp,
        }),
        monitor: meaning.check.as_ref().map(monitor_of),
        backends: meaning.backends.iter().map(|ip| ip.to_string()).collect(),
    }
}

fn monitor_of(c: &CheckIntent) -> MonitorIntent {
    let delay = c.interval.max(2);
    MonitorIntent {
        kind: match c.kind {
            MonitorKind::Tcp => MonitorType::Tcp,
            MonitorKind::UdpConnect => MonitorType::UdpConnect,
            MonitorKind::Http => MonitorType::Http,
            MonitorKind::Https => MonitorType::Https,
        },
        port: Some(c.port),
        delay,
        // Less than the interval (Octavia documents it, does not enforce it), at most 10 s.
        timeout: (delay / 2).clamp(1, 10),
        retries: c.retries,
        url_path: c.path.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relation::meaning::{meaning, PortIntent};
    use crate::relation::v1::{HealthCheck, Request};

    #[test]
    fn the_control_plane_request_on_amphora() {
        let mut r = Request::new(
            "id",
            "api-server-external",
            WireProtocol::Tcp,
            [(443, 6443)].into_iter().collect(),
        );
        r.backends = vec!["10.5.0.10".into(), "10.5.0.11".into()];
        let mut hc = HealthCheck::new(WireProtocol::Http, 6443);
        hc.path = Some("/livez".into());
        r.health_checks = vec![hc];
        let caps = provider_caps(ProviderKind::Amphora);
        let m = meaning(&r, &caps).unwrap();
        let i = intent_of(&m, &default_algorithm("ROUND_ROBIN", &caps));
        assert_eq!(i.algorithm, LbAlgorithm::RoundRobin);
        assert_eq!(i.listeners[0].protocol, Protocol::Tcp);
        let mon = i.monitor.unwrap();
        assert_eq!(mon.kind, MonitorType::Http);
        assert_eq!(mon.url_path.as_deref(), Some("/livez"));
        assert!(mon.timeout < mon.delay);
    }

    #[test]
    fn ovn_refuses_http_and_defaults_to_source_ip_port() {
        let caps = provider_caps(ProviderKind::Ovn);
        assert_eq!(
            default_algorithm("ROUND_ROBIN", &caps),
            LbAlgorithm::SourceIpPort
        );
        let r = Request::new(
            "id",
            "x",
            WireProtocol::Http,
            [(80, 8080)].into_iter().collect(),
        );
        assert!(meaning(&r, &caps).is_err());
        let lb = LbIntent {
            public: false,
            vip_address: None,
            listeners: vec![PortIntent {
                protocol: WireProtocol::Udp,
                port: 53,
                backend_port: 5353,
            }],
            algorithm: Some("source_ip_port".into()),
            persistence: None,
            check: None,
            backends: vec![],
        };
        let i = intent_of(&lb, &LbAlgorithm::RoundRobin);
        assert_eq!(i.algorithm, LbAlgorithm::SourceIpPort);
        assert_eq!(i.listeners[0].pool_protocol, Protocol::Udp);
        assert_eq!(ProviderKind::of(Some("OVN")), ProviderKind::Ovn);
        assert_eq!(ProviderKind::of(None), ProviderKind::Amphora);
    }
}
