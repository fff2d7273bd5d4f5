//! Reading a request: what each field means in Octavia's terms ([`Intent`]), or a precise
//! [`Unsupported`] naming every field we cannot honour. Addresses and ports are parsed here,
//! once, and carried typed to [`super::build()`]. Pure.
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
//! | `ingress_address` | the requested address (an IP address): the VIP of an internal request; on a public one with a floating network, an existing floating IP to adopt (see [`super::build()`]); unsupported when the provider cannot take a VIP address |
//! | `backends` | member addresses (IP addresses); filled from the units' ingress addresses when empty |

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use openstack::load_balancer::enums::{LbAlgorithm, MonitorType, Protocol, SessionPersistenceType};

use super::provider::{MonitorKind, Provider, ProviderCaps};
use crate::relation::v1::{Failure, HealthCheck, Protocol as WireProtocol, Request, RequestField};

/// What a request means, in load-balancer terms: read once from the request against the
/// provider ([`super::spec()`]), then built into the desired graph ([`super::build()`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// A public address is wanted (floating IP when the site has a floating network).
    pub public: bool,
    /// A requested VIP address (`ingress_address`).
    pub vip_address: Option<IpAddr>,
    /// One per port mapping, ordered by frontend port.
    pub listeners: Vec<ListenerIntent>,
    /// The pools' algorithm.
    pub algorithm: LbAlgorithm,
    /// Session persistence (`sticky`).
    pub persistence: Option<SessionPersistenceType>,
    /// The health check, if any.
    pub monitor: Option<MonitorIntent>,
    /// Backend addresses, in the request's order.
    pub backends: Vec<IpAddr>,
}

/// One port mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerIntent {
    /// Listener protocol.
    pub protocol: Protocol,
    /// Pool protocol.
    pub pool_protocol: Protocol,
    /// Frontend port.
    pub port: u16,
    /// Backend port.
    pub backend_port: u16,
    /// Allowed source CIDRs (`None` = everyone).
    pub allowed_cidrs: Option<Vec<String>>,
}

/// The pools' health check, its timing already within Octavia's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorIntent {
    /// Monitor type.
    pub kind: MonitorType,
    /// Port checked on each backend (`None` = the backend port).
    pub port: Option<u16>,
    /// Seconds between checks (≥ 2).
    pub delay: u32,
    /// Seconds a check may take (1 ≤ timeout < delay, at most 10).
    pub timeout: u32,
    /// Failures before a backend is down (and successes before it is up again), 1–10.
    pub retries: u8,
    /// HTTP(S) path (`/` when the request names none); `None` for other kinds.
    pub url_path: Option<String>,
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

/// The longest request name served. Octavia bounds names and descriptions to 255 characters;
/// the description of what we build names the request, its application and the cluster, and
/// must stay whole to prove who owns it.
pub const MAX_REQUEST_NAME: usize = 100;

/// Reads `request` against `provider`, naming every field that cannot be honoured, not just
/// the first. With `provider` `None` (a hook, which has no cloud) every capability check
/// passes: only what no provider can serve is refused. `closest_health_check` is the site's
/// choice: an HTTP(S) check the provider cannot run becomes a TCP check of the same port.
pub(super) fn read(
    request: &Request,
    provider: Option<&Provider>,
    closest_health_check: bool,
) -> Result<Intent, Unsupported> {
    let caps = provider.map(|p| &p.caps);
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
    // The provider's spelling, in Octavia's terms; no algorithm asked → the provider's
    // default (a hook, without a provider, never builds, so any value does).
    let algorithm = match algorithm {
        Some(a) => a
            .to_ascii_uppercase()
            .parse()
            .unwrap_or(LbAlgorithm::Unknown(a)),
        None => provider.map_or(LbAlgorithm::RoundRobin, |p| p.default_algorithm.clone()),
    };

    let persistence = match (request.sticky, caps.is_none_or(|c| c.source_ip_persistence)) {
        (false, _) => None,
        (true, true) => Some(SessionPersistenceType::SourceIp),
        (true, false) => {
            why.insert(
                F::Sticky,
                "session persistence is not supported by this provider".into(),
            );
            None
        }
    };

    let monitor = check(request, caps, closest_health_check, &listeners, &mut why);

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
    Ok(Intent {
        public: request.public,
        vip_address,
        listeners,
        algorithm,
        persistence,
        monitor,
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

/// Octavia's protocol for the wire's.
fn protocol(p: WireProtocol) -> Protocol {
    match p {
        WireProtocol::Tcp => Protocol::Tcp,
        WireProtocol::Udp => Protocol::Udp,
        WireProtocol::Http => Protocol::Http,
        WireProtocol::Https => Protocol::Https,
    }
}

fn listeners(request: &Request, why: &mut BTreeMap<RequestField, String>) -> Vec<ListenerIntent> {
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
            (Some(port), Some(backend_port)) => listeners.push(ListenerIntent {
                protocol: protocol(request.protocol),
                pool_protocol: protocol(request.protocol),
                port,
                backend_port,
                allowed_cidrs: None,
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
    closest_health_check: bool,
    listeners: &[ListenerIntent],
    why: &mut BTreeMap<RequestField, String>,
) -> Option<MonitorIntent> {
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
        WireProtocol::Tcp => MonitorKind::Tcp,
        WireProtocol::Udp => MonitorKind::UdpConnect,
        WireProtocol::Http => MonitorKind::Http,
        WireProtocol::Https => MonitorKind::Https,
    };
    let kind = match caps {
        Some(c)
            if matches!(asked, MonitorKind::Http | MonitorKind::Https)
                && !c.monitor_kinds.contains(&asked)
                && closest_health_check
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
    // Octavia's bounds, applied here once: a delay of at least 2 s, and a timeout less than
    // the delay (Octavia documents it, does not enforce it) and at most 10 s.
    let delay = interval?.max(2);
    Some(MonitorIntent {
        kind: match kind {
            MonitorKind::Tcp => MonitorType::Tcp,
            MonitorKind::UdpConnect => MonitorType::UdpConnect,
            MonitorKind::Http => MonitorType::Http,
            MonitorKind::Https => MonitorType::Https,
        },
        port: Some(port?),
        delay,
        timeout: (delay / 2).clamp(1, 10),
        retries: retries?,
        url_path: http.then(|| hc.path.unwrap_or_else(|| "/".to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relation::v1::Protocol;
    use crate::spec::provider::ProviderKind;

    /// The request read against a provider with `caps` (no closest-check policy).
    fn meaning(request: &Request, caps: &ProviderCaps) -> Result<Intent, Unsupported> {
        let provider = Provider::with_caps(ProviderKind::Amphora, caps.clone(), "ROUND_ROBIN");
        read(request, Some(&provider), false)
    }

    /// The request read as a hook reads it: no provider.
    fn precheck(request: &Request) -> Result<(), Unsupported> {
        read(request, None, false).map(|_| ())
    }

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
        assert_eq!(
            meaning(&r, &caps()).unwrap().monitor.unwrap().port,
            Some(10256)
        );
        r.health_checks[0].port = 6443;
        assert!(meaning(&r, &tcp_only_caps()).is_ok());
    }

    #[test]
    fn an_http_check_becomes_tcp_only_where_the_site_allows_it() {
        let r = external();
        let refused = meaning(&r, &tcp_only_caps()).unwrap_err();
        assert!(refused.fields[&RequestField::HealthChecks].contains("http health checks"));
        let closest = |caps: ProviderCaps| {
            let provider = Provider::with_caps(ProviderKind::Ovn, caps, "ROUND_ROBIN");
            read(&r, Some(&provider), true)
        };
        let check = closest(tcp_only_caps()).unwrap().monitor.unwrap();
        assert_eq!(check.kind, MonitorType::Tcp);
        assert_eq!((check.port, check.url_path), (Some(6443), None));
        // A provider that can run the HTTP check runs it, whatever the setting.
        assert_eq!(
            closest(caps()).unwrap().monitor.unwrap().kind,
            MonitorType::Http
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
            Intent {
                public: true,
                vip_address: None,
                listeners: vec![ListenerIntent {
                    protocol: openstack::load_balancer::enums::Protocol::Tcp,
                    pool_protocol: openstack::load_balancer::enums::Protocol::Tcp,
                    port: 443,
                    backend_port: 6443,
                    allowed_cidrs: None,
                }],
                // None asked: the provider's default.
                algorithm: LbAlgorithm::RoundRobin,
                persistence: None,
                monitor: Some(MonitorIntent {
                    kind: MonitorType::Http,
                    port: Some(6443),
                    delay: 30,
                    timeout: 10,
                    retries: 3,
                    url_path: Some("/livez".into()),
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
            meaning(&r, &caps()).unwrap().algorithm,
            LbAlgorithm::LeastConnections
        );
        r.algorithm = vec!["MAGLEV".into()];
        let err = meaning(&r, &caps()).unwrap_err();
        assert!(err.fields[&RequestField::Algorithm].contains("MAGLEV"));
        r.algorithm = vec![];
        // None asked: the provider's default.
        assert_eq!(
            meaning(&r, &caps()).unwrap().algorithm,
            LbAlgorithm::RoundRobin
        );
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
        assert_eq!(intent.persistence, Some(SessionPersistenceType::SourceIp));
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
        assert_eq!(intent.monitor.unwrap().kind, MonitorType::UdpConnect);
        r.health_checks = vec![HealthCheck::new(Protocol::Tcp, 5353)];
        assert_eq!(
            meaning(&r, &tcp_only_caps())
                .unwrap()
                .monitor
                .unwrap()
                .url_path,
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

    // Moved from spec/terms.rs (the provider's values and Octavia's terms).
    #[test]
    fn the_control_plane_request_on_amphora() {
        let amphora = Provider::of(Some("amphora"), "ROUND_ROBIN");
        let i = read(&external(), Some(&amphora), false).unwrap();
        assert_eq!(i.algorithm, LbAlgorithm::RoundRobin);
        assert_eq!(
            i.listeners[0].protocol,
            openstack::load_balancer::enums::Protocol::Tcp
        );
        let mon = i.monitor.unwrap();
        assert_eq!(mon.kind, MonitorType::Http);
        assert_eq!(mon.url_path.as_deref(), Some("/livez"));
        assert!(mon.timeout < mon.delay);
    }

    #[test]
    fn ovn_refuses_http_and_reads_algorithms_in_its_spelling() {
        let ovn = Provider::of(Some("ovn"), "ROUND_ROBIN");
        assert_eq!(ovn.default_algorithm, LbAlgorithm::SourceIpPort);
        let r = Request::new("id", "x", Protocol::Http, [(80, 8080)].into());
        assert!(read(&r, Some(&ovn), false).is_err());
        let mut udp = Request::new("id", "dns", Protocol::Udp, [(53, 5353)].into());
        udp.public = false;
        udp.algorithm = vec!["source_ip_port".into()];
        let i = read(&udp, Some(&ovn), false).unwrap();
        assert_eq!(i.algorithm, LbAlgorithm::SourceIpPort);
        assert_eq!(
            i.listeners[0].pool_protocol,
            openstack::load_balancer::enums::Protocol::Udp
        );
        // No algorithm asked: OVN's only one, whatever is configured.
        udp.algorithm.clear();
        assert_eq!(
            read(&udp, Some(&ovn), false).unwrap().algorithm,
            LbAlgorithm::SourceIpPort
        );
    }
}
