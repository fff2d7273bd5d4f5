//! What each request field means to us: [`meaning`] turns a [`Request`] and what the provider
//! can do ([`ProviderCaps`]) into an [`LbIntent`], or a precise [`Unsupported`] answer naming
//! every field we cannot honour. Pure; knows nothing of OpenStack (the spec maps these terms
//! onto Octavia).
//!
//! | field | meaning |
//! | --- | --- |
//! | `public` | `true`: a public address (floating IP when the site has a floating network); `false`: internal only, no floating IP |
//! | `port_mapping` | one listener per entry (frontend → backend port, 1–65535); empty is unsupported |
//! | `protocol` | listener and pool protocol, if the provider has it |
//! | `algorithm` | the first entry, in the requester's order, the provider supports (ASCII case-insensitive); empty → the configured default |
//! | `sticky` | source-IP session persistence, or unsupported |
//! | `health_checks` | the pools' health monitor (type, port, path, interval, retries); at most one distinct check |
//! | `tls_termination` | unsupported (for now) |
//! | `ingress_address` | the requested address (an IP address): the VIP of an internal request; on a public one with a floating network, an existing floating IP to adopt (see `spec::build`); unsupported when the provider cannot take a VIP address |
//! | `backends` | member addresses (IP addresses); filled from the units' ingress addresses when empty |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use super::v1::{Failure, HealthCheck, Protocol, Request, RequestField};

/// A health-monitor kind, in our own terms.
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

/// Session persistence, in our own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Persistence {
    /// Clients stick to a backend by source IP address.
    SourceIp,
}

/// What the provider can do, as plain data (filled by whoever knows the cloud).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderCaps {
    /// Protocols a listener/pool can have.
    pub protocols: BTreeSet<Protocol>,
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
    /// Whether an HTTP(S) check this provider cannot run becomes a TCP check of the same port
    /// (the closest it can do) instead of a refusal: the site's choice
    /// (`[load_balancer] closest_health_check`), not the provider's.
    pub tcp_instead_of_http_check: bool,
}

/// One listener: a port mapping entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortIntent {
    /// Listener and pool protocol.
    pub protocol: Protocol,
    /// Frontend port.
    pub port: u16,
    /// Backend (member) port.
    pub backend_port: u16,
}

/// The pools' health monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckIntent {
    /// Monitor kind.
    pub kind: MonitorKind,
    /// Port checked on each backend.
    pub port: u16,
    /// HTTP(S) path (only for HTTP/HTTPS kinds).
    pub path: Option<String>,
    /// Seconds between checks (≥ 1).
    pub interval: u32,
    /// Failures before a backend is down (1–10).
    pub retries: u8,
}

/// What a request asks of a load balancer, in our own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbIntent {
    /// `true`: public address wanted (floating IP when the site has a floating network);
    /// `false`: internal load balancer, no floating IP.
    pub public: bool,
    /// A requested VIP address.
    pub vip_address: Option<IpAddr>,
    /// One listener per port mapping, ordered by frontend port.
    pub listeners: Vec<PortIntent>,
    /// The chosen algorithm (provider spelling); `None` = the configured default.
    pub algorithm: Option<String>,
    /// Session persistence.
    pub persistence: Option<Persistence>,
    /// The health monitor of every pool.
    pub check: Option<CheckIntent>,
    /// Member addresses, in the request's order.
    pub backends: Vec<IpAddr>,
}

/// The request asks for things the provider (or we) cannot do; one reason per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Reasons by top-level request field.
    pub fields: BTreeMap<RequestField, String>,
}

impl Unsupported {
    /// The answer's failure (`error: "unsupported"`, `error_fields` = these reasons).
    pub fn failure(&self) -> Failure {
        let mut failure = Failure::nonempty_message(format!("unsupported request: {self}"));
        for (field, reason) in &self.fields {
            failure = failure.and_field(*field, reason.clone());
        }
        failure
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for Unsupported {}

/// Reads a request against the provider's capabilities. Every field that cannot be honoured is
/// named, not just the first.
pub fn meaning(request: &Request, caps: &ProviderCaps) -> Result<LbIntent, Unsupported> {
    read(request, Some(caps))
}

/// The checks that do not depend on the provider (ports, backends, health-check shape,
/// `tls_termination`, the form of `ingress_address`): a request that fails them is
/// unsupported everywhere, so it can be answered without a cloud.
pub fn precheck(request: &Request) -> Result<(), Unsupported> {
    read(request, None).map(|_| ())
}

/// The longest request name served. Octavia bounds names and descriptions to 255 characters;
/// the description of what we build names the request, its application and the cluster, and
/// must stay whole to prove who owns it.
pub const MAX_REQUEST_NAME: usize = 100;

/// [`meaning`]; with `caps` `None`, every capability check passes.
fn read(request: &Request, caps: Option<&ProviderCaps>) -> Result<LbIntent, Unsupported> {
    let mut why: BTreeMap<RequestField, String> = BTreeMap::new();
    use RequestField as F;

    let name_length = request.name.chars().count();
    if name_length > MAX_REQUEST_NAME {
        why.insert(
            F::Name,
            format!(
                "request names are limited to {MAX_REQUEST_NAME} characters (this one has \
                 {name_length}), so that the load balancer's name and description can carry it"
            ),
        );
    }

    if !caps.is_none_or(|c| c.protocols.contains(&request.protocol)) {
        why.insert(
            F::Protocol,
            format!(
                "protocol {} is not supported by this provider (supported: {})",
                request.protocol,
                join(
                    caps.iter()
                        .flat_map(|c| c.protocols.iter().map(|p| p.as_str()))
                )
            ),
        );
    }

    let listeners = listeners(request, &mut why);

    let algorithm = if request.algorithm.is_empty() {
        None
    } else {
        let chosen = match caps {
            None => request.algorithm.first().cloned(),
            Some(caps) => request.algorithm.iter().find_map(|wanted| {
                caps.algorithms
                    .iter()
                    .find(|have| have.eq_ignore_ascii_case(wanted))
                    .cloned()
            }),
        };
        if chosen.is_none() {
            why.insert(
                F::Algorithm,
                format!(
                    "none of {} is supported by this provider (supported: {})",
                    join(request.algorithm.iter().map(String::as_str)),
                    join(
                        caps.iter()
                            .flat_map(|c| c.algorithms.iter().map(String::as_str))
                    )
                ),
            );
        }
        chosen
    };

    let persistence = match (request.sticky, caps.is_none_or(|c| c.source_ip_persistence)) {
        (false, _) => None,
        (true, true) => Some(Persistence::SourceIp),
        (true, false) => {
            why.insert(
                F::Sticky,
                "session persistence is not supported by this provider".into(),
            );
            None
        }
    };

    let check = check(request, caps, &listeners, &mut why);

    if request.tls_termination {
        why.insert(
            F::TlsTermination,
            "TLS termination is not supported yet; use protocol tcp or https (passthrough)".into(),
        );
    }

    let vip_address = match &request.ingress_address {
        None => None,
        Some(text) => match text.trim().parse::<IpAddr>() {
            Ok(_) if !caps.is_none_or(|c| c.vip_address) => {
                why.insert(
                    F::IngressAddress,
                    "this provider cannot take a requested address".into(),
                );
                None
            }
            Ok(ip) => Some(ip),
            Err(_) => {
                why.insert(F::IngressAddress, format!("{text:?} is not an IP address"));
                None
            }
        },
    };

    let mut backends = Vec::new();
    let mut bad = Vec::new();
    for b in &request.backends {
        match b.trim().parse::<IpAddr>() {
            Ok(ip) => backends.push(ip),
            Err(_) => bad.push(format!("{b:?}")),
        }
    }
    if !bad.is_empty() {
        why.insert(F::Backends, format!("not IP addresses: {}", bad.join(", ")));
    }

    if !why.is_empty() {
        return Err(Unsupported { fields: why });
    }
    Ok(LbIntent {
        public: request.public,
        vip_address,
        listeners,
        algorithm,
        persistence,
        check,
        backends,
    })
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn port(v: i64) -> Option<u16> {
    u16::try_from(v).ok().filter(|p| *p != 0)
}

fn listeners(request: &Request, why: &mut BTreeMap<RequestField, String>) -> Vec<PortIntent> {
    if request.port_mapping.is_empty() {
        why.insert(
            RequestField::PortMapping,
            "at least one port mapping is needed".into(),
        );
        return Vec::new();
    }
    let mut bad = Vec::new();
    let mut listeners = Vec::new();
    for (front, back) in &request.port_mapping {
        match (port(*front), port(*back)) {
            (Some(port), Some(backend_port)) => listeners.push(PortIntent {
                protocol: request.protocol,
                port,
                backend_port,
            }),
            _ => bad.push(format!("{front}: {back}")),
        }
    }
    if !bad.is_empty() {
        why.insert(
            RequestField::PortMapping,
            format!("ports must be 1-65535 (got {})", bad.join(", ")),
        );
    }
    listeners
}

fn check(
    request: &Request,
    caps: Option<&ProviderCaps>,
    listeners: &[PortIntent],
    why: &mut BTreeMap<RequestField, String>,
) -> Option<CheckIntent> {
    let mut distinct: Vec<HealthCheck> = Vec::new();
    for hc in &request.health_checks {
        if !distinct.contains(hc) {
            distinct.push(hc.clone());
        }
    }
    if distinct.len() > 1 {
        why.insert(
            RequestField::HealthChecks,
            "at most one health check is supported (every pool gets the same monitor)".into(),
        );
        return None;
    }
    let hc = distinct.into_iter().next()?;
    let mut problems = Vec::new();
    let asked = match hc.protocol {
        Protocol::Tcp => MonitorKind::Tcp,
        Protocol::Udp => MonitorKind::UdpConnect,
        Protocol::Http => MonitorKind::Http,
        Protocol::Https => MonitorKind::Https,
    };
    let kind = match caps {
        Some(c)
            if matches!(asked, MonitorKind::Http | MonitorKind::Https)
                && !c.monitor_kinds.contains(&asked)
                && c.tcp_instead_of_http_check
                && c.monitor_kinds.contains(&MonitorKind::Tcp) =>
        {
            // The closest check this provider can do: is the port open.
            MonitorKind::Tcp
        }
        _ => asked,
    };
    if !caps.is_none_or(|c| c.monitor_kinds.contains(&kind)) {
        problems.push(format!(
            "{} health checks are not supported by this provider",
            hc.protocol
        ));
    }
    let http = matches!(kind, MonitorKind::Http | MonitorKind::Https);
    if hc.path.is_some() && !matches!(asked, MonitorKind::Http | MonitorKind::Https) {
        problems.push("path is only valid with http(s) health checks".into());
    }
    if let Some(path) = &hc.path {
        if !path.starts_with('/') {
            problems.push(format!("path {path:?} must start with '/'"));
        }
    }
    let port = port(hc.port);
    if port.is_none() {
        problems.push(format!("port {} is not 1-65535", hc.port));
    }
    let interval = u32::try_from(hc.interval).ok().filter(|i| *i >= 1);
    if interval.is_none() {
        problems.push(format!(
            "interval {} must be at least 1 second",
            hc.interval
        ));
    }
    let retries = u8::try_from(hc.retries)
        .ok()
        .filter(|r| (1..=10).contains(r));
    if retries.is_none() {
        problems.push(format!("retries {} must be 1-10", hc.retries));
    }
    if let Some(p) = port {
        let other: Vec<String> = listeners
            .iter()
            .filter(|l| l.backend_port != p)
            .map(|l| l.backend_port.to_string())
            .collect();
        if !other.is_empty() && !caps.is_none_or(|c| c.monitor_port_override) {
            problems.push(format!(
                "this provider can only check the backend port itself, not port {p} (backend port {})",
                other.join(", ")
            ));
        }
    }
    let udp_only = !listeners.is_empty() && listeners.iter().all(|l| l.protocol == Protocol::Udp);
    if kind == MonitorKind::UdpConnect && !udp_only {
        problems.push("udp health checks need a udp load balancer".into());
    }
    if !problems.is_empty() {
        why.insert(RequestField::HealthChecks, problems.join("; "));
        return None;
    }
    Some(CheckIntent {
        kind,
        port: port?,
        path: hc.path.filter(|_| http),
        interval: interval?,
        retries: retries?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps() -> ProviderCaps {
        ProviderCaps {
            protocols: Protocol::ALL.into_iter().collect(),
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
            .into(),
            vip_address: true,
            monitor_port_override: true,
            tcp_instead_of_http_check: false,
        }
    }

    fn tcp_only_caps() -> ProviderCaps {
        ProviderCaps {
            protocols: [Protocol::Tcp, Protocol::Udp].into(),
            algorithms: vec!["SOURCE_IP_PORT".into()],
            source_ip_persistence: false,
            monitor_kinds: [MonitorKind::Tcp, MonitorKind::UdpConnect].into(),
            vip_address: false,
            monitor_port_override: false,
            tcp_instead_of_http_check: false,
        }
    }

    fn external() -> Request {
        let mut r = Request::new(
            "id",
            "api-server-external",
            Protocol::Tcp,
            [(443, 6443)].into(),
        );
        let mut hc = HealthCheck::new(Protocol::Http, 6443);
        hc.path = Some("/livez".into());
        r.health_checks.push(hc);
        r.backends = vec!["10.5.0.10".into(), "10.5.0.11".into()];
        r
    }

    #[test]
    fn a_check_on_another_port_needs_the_monitor_port_capability() {
        let mut r = Request::new("id", "svc", Protocol::Tcp, [(443, 6443)].into());
        r.health_checks.push(HealthCheck::new(Protocol::Tcp, 10256));
        r.backends = vec!["10.5.0.10".into()];
        let refused = meaning(&r, &tcp_only_caps()).unwrap_err();
        let why = &refused.fields[&RequestField::HealthChecks];
        assert!(why.contains("port 10256"), "{why}");
        assert_eq!(refused.fields.len(), 1, "{refused}");
        // With the capability, or checking the backend port itself: fine.
        assert_eq!(meaning(&r, &caps()).unwrap().check.unwrap().port, 10256);
        r.health_checks[0].port = 6443;
        assert!(meaning(&r, &tcp_only_caps()).is_ok());
    }

    #[test]
    fn an_http_check_becomes_tcp_only_where_the_site_allows_it() {
        let r = external();
        let refused = meaning(&r, &tcp_only_caps()).unwrap_err();
        assert!(refused.fields[&RequestField::HealthChecks].contains("http health checks"));
        let mut closest = tcp_only_caps();
        closest.tcp_instead_of_http_check = true;
        let check = meaning(&r, &closest).unwrap().check.unwrap();
        assert_eq!(check.kind, MonitorKind::Tcp);
        assert_eq!((check.port, check.path), (6443, None));
        // A provider that can run the HTTP check runs it, whatever the setting.
        let mut full = caps();
        full.tcp_instead_of_http_check = true;
        assert_eq!(
            meaning(&r, &full).unwrap().check.unwrap().kind,
            MonitorKind::Http
        );
    }

    #[test]
    fn a_huge_request_name_is_refused_with_the_limit() {
        let mut r = external();
        r.name = "n".repeat(1 << 20);
        let refused = precheck(&r).unwrap_err();
        let why = &refused.fields[&RequestField::Name];
        assert!(why.contains("limited to 100 characters"), "{why}");
        assert!(why.contains("1048576"), "{why}");
        r.name = "n".repeat(MAX_REQUEST_NAME);
        assert!(precheck(&r).is_ok());
    }

    #[test]
    fn kubernetes_control_plane_external_and_internal() {
        let intent = meaning(&external(), &caps()).unwrap();
        assert_eq!(
            intent,
            LbIntent {
                public: true,
                vip_address: None,
                listeners: vec![PortIntent {
                    protocol: Protocol::Tcp,
                    port: 443,
                    backend_port: 6443
                }],
                algorithm: None,
                persistence: None,
                check: Some(CheckIntent {
                    kind: MonitorKind::Http,
                    port: 6443,
                    path: Some("/livez".into()),
                    interval: 30,
                    retries: 3
                }),
                backends: vec!["10.5.0.10".parse().unwrap(), "10.5.0.11".parse().unwrap()],
            }
        );
        let mut internal = external();
        internal.public = false;
        internal.port_mapping = [(6443, 6443)].into();
        let intent = meaning(&internal, &caps()).unwrap();
        assert!(!intent.public);
        assert_eq!(intent.listeners[0].port, 6443);
    }

    #[test]
    fn every_port_mapping_is_a_listener() {
        let mut r = external();
        r.port_mapping = [(1000, 1), (9, 9), (443, 6443), (80, 8080)].into();
        let ports: Vec<(u16, u16)> = meaning(&r, &caps())
            .unwrap()
            .listeners
            .iter()
            .map(|l| (l.port, l.backend_port))
            .collect();
        assert_eq!(ports, [(9, 9), (80, 8080), (443, 6443), (1000, 1)]);
    }

    #[test]
    fn algorithm_is_the_first_supported_in_requester_order() {
        let mut r = external();
        r.algorithm = vec![
            "MAGLEV".into(),
            "least_connections".into(),
            "ROUND_ROBIN".into(),
        ];
        assert_eq!(
            meaning(&r, &caps()).unwrap().algorithm.as_deref(),
            Some("LEAST_CONNECTIONS")
        );
        r.algorithm = vec!["MAGLEV".into()];
        let err = meaning(&r, &caps()).unwrap_err();
        assert!(err.fields[&RequestField::Algorithm].contains("MAGLEV"));
        r.algorithm = vec![];
        assert_eq!(meaning(&r, &caps()).unwrap().algorithm, None);
    }

    #[test]
    fn unsupported_names_every_field_it_cannot_honour() {
        let mut r = external();
        r.protocol = Protocol::Https;
        r.sticky = true;
        r.tls_termination = true;
        r.ingress_address = Some("192.0.2.10".into());
        r.algorithm = vec!["ROUND_ROBIN".into()];
        let err = meaning(&r, &tcp_only_caps()).unwrap_err();
        assert_eq!(
            err.fields.keys().copied().collect::<Vec<_>>(),
            [
                RequestField::Algorithm,
                RequestField::HealthChecks,
                RequestField::IngressAddress,
                RequestField::Protocol,
                RequestField::Sticky,
                RequestField::TlsTermination,
            ]
        );
        // The answer is a valid library response.
        let resp = crate::relation::Response::unsupported(&r, err.failure());
        crate::relation::Response::parse(&resp.canonical_json()).unwrap();
    }

    #[test]
    fn sticky_and_ingress_address_when_supported() {
        let mut r = external();
        r.sticky = true;
        r.ingress_address = Some("192.0.2.10".into());
        let intent = meaning(&r, &caps()).unwrap();
        assert_eq!(intent.persistence, Some(Persistence::SourceIp));
        assert_eq!(intent.vip_address, Some("192.0.2.10".parse().unwrap()));
        r.ingress_address = Some("lb.example.com".into());
        assert!(meaning(&r, &caps())
            .unwrap_err()
            .fields
            .contains_key(&RequestField::IngressAddress));
    }

    #[test]
    fn bad_ports_backends_and_checks_are_refused_precisely() {
        for (mutate, field) in [
            (
                (|r: &mut Request| r.port_mapping = [(0, 1)].into()) as fn(&mut Request),
                RequestField::PortMapping,
            ),
            (
                |r| r.port_mapping = [(443, 70000)].into(),
                RequestField::PortMapping,
            ),
            (|r| r.port_mapping.clear(), RequestField::PortMapping),
            (
                |r| r.backends = vec!["host.example".into()],
                RequestField::Backends,
            ),
            (
                |r| r.health_checks[0].retries = 0,
                RequestField::HealthChecks,
            ),
            (
                |r| r.health_checks[0].retries = 11,
                RequestField::HealthChecks,
            ),
            (
                |r| r.health_checks[0].interval = 0,
                RequestField::HealthChecks,
            ),
            (|r| r.health_checks[0].port = 0, RequestField::HealthChecks),
            (
                |r| r.health_checks[0].path = Some("livez".into()),
                RequestField::HealthChecks,
            ),
            (
                |r| r.health_checks[0].protocol = Protocol::Tcp,
                RequestField::HealthChecks,
            ),
            (
                |r| r.health_checks[0].protocol = Protocol::Udp,
                RequestField::HealthChecks,
            ),
            (
                |r| r.health_checks.push(HealthCheck::new(Protocol::Tcp, 1)),
                RequestField::HealthChecks,
            ),
        ] {
            let mut r = external();
            mutate(&mut r);
            let err = meaning(&r, &caps()).unwrap_err();
            assert_eq!(
                err.fields.keys().copied().collect::<Vec<_>>(),
                [field],
                "{err}"
            );
        }
    }

    #[test]
    fn precheck_refuses_only_what_no_provider_can_do() {
        let mut r = external();
        r.protocol = Protocol::Https;
        r.sticky = true;
        r.algorithm = vec!["MAGLEV".into()];
        r.ingress_address = Some("192.0.2.1".into());
        assert_eq!(precheck(&r), Ok(()));
        r.tls_termination = true;
        r.port_mapping.clear();
        let err = precheck(&r).unwrap_err();
        assert_eq!(
            err.fields.keys().copied().collect::<Vec<_>>(),
            [RequestField::PortMapping, RequestField::TlsTermination]
        );
    }

    #[test]
    fn udp_with_udp_check_and_tcp_check_without_path() {
        let mut r = Request::new("id", "dns", Protocol::Udp, [(53, 5353)].into());
        r.health_checks.push(HealthCheck::new(Protocol::Udp, 5353));
        r.health_checks.push(HealthCheck::new(Protocol::Udp, 5353));
        let intent = meaning(&r, &tcp_only_caps()).unwrap();
        assert_eq!(intent.check.unwrap().kind, MonitorKind::UdpConnect);
        r.health_checks = vec![HealthCheck::new(Protocol::Tcp, 5353)];
        assert_eq!(
            meaning(&r, &tcp_only_caps()).unwrap().check.unwrap().path,
            None
        );
    }

    #[test]
    fn one_refusal_is_said_once() {
        let mut r = Request::new("id", "svc", Protocol::Tcp, [(443, 6443)].into());
        let mut hc = HealthCheck::new(Protocol::Http, 6443);
        hc.path = Some("/livez".into());
        r.health_checks.push(hc);
        r.backends = vec!["10.5.0.10".into()];
        let r = r.sealed();
        let refused = meaning(&r, &tcp_only_caps()).unwrap_err();
        let failure = refused.failure();
        let line = failure.to_string();
        assert_eq!(line.matches("health_checks").count(), 1, "{line}");
        assert!(line.contains("not supported by this provider"), "{line}");
        // The answer still names the field with its reason.
        let answer = crate::relation::v1::Response::unsupported(&r, failure);
        assert!(answer.error_fields()["health_checks"].contains("not supported"));
        assert_eq!(
            answer
                .error_message()
                .unwrap()
                .matches("health_checks")
                .count(),
            1
        );
    }
}
