//! A request's meaning ([`Intent`]) + site settings → the desired graph ([`build`]).

use std::net::IpAddr;

use openstack::load_balancer::enums::{MonitorType, Protocol};

use super::graph::{
    DesiredFloatingIp, DesiredLb, DesiredListener, DesiredMember, DesiredMonitor, DesiredPool,
    DesiredRule, DesiredSecurityGroup,
};
use super::naming::Owner;
use super::read::Intent;

/// Site settings the spec needs, with every name already resolved to an id (the reconciler
/// does that once when it connects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Identifies this integrator deployment (tags and names).
    pub cluster_id: String,
    /// Subnet VIPs come from.
    pub vip_subnet_id: String,
    /// Network of the VIP subnet.
    pub vip_network_id: Option<String>,
    /// Subnet the backends live on.
    pub member_subnet_id: String,
    /// Network of the member subnet (its ports carry our security group).
    pub member_network_id: Option<String>,
    /// CIDR of the member subnet (the amphora's source addresses: security-group rules).
    pub member_subnet_cidr: Option<String>,
    /// External network public requests get a floating IP from; `None` = the VIP is the
    /// public address.
    pub floating_network_id: Option<String>,
    /// Octavia provider name; `None` = the cloud's default.
    pub provider: Option<String>,
    /// Octavia flavor id.
    pub flavor_id: Option<String>,
    /// Octavia availability zone.
    pub availability_zone: Option<String>,
    /// Whether we open the backends' ports with a security group of ours.
    pub manage_security_groups: bool,
    /// Whether the provider keeps client source addresses (OVN: no SNAT), so backends see
    /// clients rather than the load balancer.
    pub preserves_client_ip: bool,
    /// The site's policy (`[load_balancer] closest_health_check`): an HTTP(S) health check
    /// the provider cannot run becomes a TCP check of the same port instead of a refusal.
    pub closest_health_check: bool,
}

/// Why no graph can be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// No backends: we never build (or shrink) a pool to zero members.
    #[error("the request has no backends; refusing to build or empty the load balancer's pools")]
    NoBackends,
    /// No port mappings.
    #[error("the request has no port mappings; a load balancer needs at least one listener")]
    NoPorts,
    /// Backends of the other IP family than the member subnet (IPv6 backends on an IPv4
    /// subnet): no member on that subnet can reach them. (Backends of the same family outside
    /// it may be routed: see [`outside_member_subnet`].)
    #[error("backends {} are not of the member subnet's IP family ({cidr}): the load balancer could not reach them; the integrator's member subnet must be of their family", .backends.join(", "))]
    OtherFamily {
        /// The backends outside it.
        backends: Vec<String>,
        /// The member subnet's CIDR.
        cidr: String,
    },
}

/// Backends of the member subnet's family that lie outside it: valid when the subnet routes to
/// them, unreachable when it does not, so they are worth a warning. Pure.
pub fn outside_member_subnet(intent: &Intent, site: &Site) -> Vec<String> {
    let Some(cidr) = &site.member_subnet_cidr else {
        return Vec::new();
    };
    intent
        .backends
        .iter()
        .filter(|ip| {
            super::cidr::contains(cidr, **ip) == Some(false)
                && super::cidr::same_family(cidr, **ip) == Some(true)
        })
        .map(IpAddr::to_string)
        .collect()
}

/// Builds the desired graph. Pure: the same input always gives the same graph.
///
/// # Errors
/// [`SpecError`] when the request cannot be served as asked (no backends, no ports, backends
/// the member subnet cannot reach).
pub fn build(owner: &Owner, intent: &Intent, site: &Site) -> Result<DesiredLb, SpecError> {
    if intent.listeners.is_empty() {
        return Err(SpecError::NoPorts);
    }
    let mut backends: Vec<IpAddr> = Vec::new();
    for ip in &intent.backends {
        if !backends.contains(ip) {
            backends.push(*ip);
        }
    }
    if backends.is_empty() {
        return Err(SpecError::NoBackends);
    }
    backends.sort();
    if let Some(cidr) = &site.member_subnet_cidr {
        let other: Vec<String> = backends
            .iter()
            .filter(|ip| super::cidr::same_family(cidr, **ip) == Some(false))
            .map(IpAddr::to_string)
            .collect();
        if !other.is_empty() {
            return Err(SpecError::OtherFamily {
                backends: other,
                cidr: cidr.clone(),
            });
        }
    }
    let tags = owner.tags();

    let mut listeners: Vec<DesiredListener> = intent
        .listeners
        .iter()
        .map(|l| {
            let proto = l.protocol.as_str().to_ascii_lowercase();
            let suffix = format!("{proto}-{}", l.port);
            let monitor_port = intent
                .monitor
                .as_ref()
                .and_then(|m| m.port)
                .filter(|p| *p != l.backend_port);
            let members = backends
                .iter()
                .map(|ip| DesiredMember {
                    address: ip.to_string(),
                    port: l.backend_port,
                    name: member_name(&ip.to_string(), l.backend_port, monitor_port),
                    subnet_id: Some(site.member_subnet_id.clone()),
                    monitor_port,
                })
                .collect();
            let monitor = intent.monitor.as_ref().map(|m| {
                let http = matches!(m.kind, MonitorType::Http | MonitorType::Https);
                DesiredMonitor {
                    name: owner.child_name(&format!("monitor-{suffix}")),
                    kind: m.kind.clone(),
                    delay: m.delay,
                    timeout: m.timeout,
                    max_retries: m.retries,
                    max_retries_down: m.retries,
                    url_path: m.url_path.clone(),
                    expected_codes: http.then(|| "200".to_string()),
                    tags: tags.clone(),
                }
            });
            DesiredListener {
                name: owner.child_name(&format!("listener-{suffix}")),
                protocol: l.protocol.clone(),
                port: l.port,
                allowed_cidrs: l.allowed_cidrs.clone().map(|mut c| {
                    c.sort();
                    c
                }),
                tags: tags.clone(),
                pool: DesiredPool {
                    name: owner.child_name(&format!("pool-{suffix}")),
                    protocol: l.pool_protocol.clone(),
                    algorithm: intent.algorithm.clone(),
                    persistence: intent.persistence.clone(),
                    members,
                    monitor,
                    tags: tags.clone(),
                },
            }
        })
        .collect();
    listeners.sort_by(|a, b| (a.protocol.as_str(), a.port).cmp(&(b.protocol.as_str(), b.port)));

    // A public request's address is its floating IP: `ingress_address` names an existing
    // one to adopt, and the VIP address is left to Neutron.
    let floating_ip = match (&site.floating_network_id, intent.public) {
        (Some(net), true) => Some(DesiredFloatingIp {
            network_id: net.clone(),
            description: owner.floating_ip_description(),
            tags: tags.clone(),
            address: intent.vip_address.map(|ip| ip.to_string()),
        }),
        _ => None,
    };
    let vip_address = match floating_ip {
        Some(_) => None,
        None => intent.vip_address.map(|ip| ip.to_string()),
    };

    let security_group = site
        .manage_security_groups
        .then(|| security_group(owner, intent, site, &listeners, &backends));

    Ok(DesiredLb {
        owner: owner.clone(),
        name: owner.stem(),
        description: owner.description("Load balancer"),
        tags,
        vip_subnet_id: site.vip_subnet_id.clone(),
        vip_network_id: site.vip_network_id.clone(),
        vip_address,
        provider: site.provider.clone(),
        flavor_id: site.flavor_id.clone(),
        availability_zone: site.availability_zone.clone(),
        listeners,
        floating_ip,
        security_group,
    })
}

/// A member's name: address and port (and the health-check port when it differs), so the
/// status tree alone shows whether a member is as desired.
fn member_name(address: &str, port: u16, monitor_port: Option<u16>) -> String {
    match monitor_port {
        Some(mp) => format!("{address}:{port}:check-{mp}"),
        None => format!("{address}:{port}"),
    }
}

fn security_group(
    owner: &Owner,
    intent: &Intent,
    site: &Site,
    listeners: &[DesiredListener],
    backends: &[IpAddr],
) -> DesiredSecurityGroup {
    let v6 = backends.iter().any(|b| b.is_ipv6());
    let (ethertype, any) = if v6 {
        ("IPv6", "::/0")
    } else {
        ("IPv4", "0.0.0.0/0")
    };
    // Amphorae connect from the member subnet; OVN keeps the client's address, so the backend
    // port has to be open to the clients.
    let source = if site.preserves_client_ip {
        any.to_string()
    } else {
        site.member_subnet_cidr
            .clone()
            .unwrap_or_else(|| any.to_string())
    };
    let mut rules: Vec<DesiredRule> = Vec::new();
    for l in listeners {
        let protocol = match l.pool.protocol {
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
            _ => "tcp",
        };
        let mut ports = vec![l.pool.members[0].port];
        if let Some(mp) = intent.monitor.as_ref().and_then(|m| m.port) {
            ports.push(mp);
        }
        for port in ports {
            let rule = DesiredRule {
                protocol: protocol.to_string(),
                port,
                remote_ip_prefix: source.clone(),
                ethertype: ethertype.to_string(),
            };
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }
    rules.sort();
    DesiredSecurityGroup {
        name: owner.security_group_name(),
        description: owner.security_group_description(),
        tags: owner.tags(),
        rules,
        member_addresses: backends.iter().map(|b| b.to_string()).collect(),
        member_subnet_id: site.member_subnet_id.clone(),
        member_network_id: site.member_network_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::naming::{LbIdentity, MAX_NAME};
    use crate::spec::read::{ListenerIntent, MonitorIntent};
    use openstack::load_balancer::enums::LbAlgorithm;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|b| b.parse().unwrap()).collect()
    }

    pub(crate) fn site() -> Site {
        Site {
            cluster_id: "demo".into(),
            vip_subnet_id: "vip-subnet".into(),
            vip_network_id: Some("vip-net".into()),
            member_subnet_id: "member-subnet".into(),
            member_network_id: None,
            member_subnet_cidr: Some("10.5.0.0/24".into()),
            floating_network_id: Some("ext-net".into()),
            provider: Some("amphora".into()),
            flavor_id: None,
            availability_zone: None,
            manage_security_groups: false,
            preserves_client_ip: false,
            closest_health_check: false,
        }
    }

    pub(crate) fn intent() -> Intent {
        Intent {
            public: true,
            vip_address: None,
            listeners: vec![ListenerIntent {
                protocol: Protocol::Tcp,
                pool_protocol: Protocol::Tcp,
                port: 443,
                backend_port: 6443,
                allowed_cidrs: None,
            }],
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
            backends: ips(&["10.5.0.12", "10.5.0.10", "10.5.0.11"]),
        }
    }

    fn owner(app: &str) -> Owner {
        Owner::new("demo", LbIdentity::new(app, "api-server-external"))
    }

    #[test]
    fn backends_of_the_other_family_are_refused_and_routed_ones_named() {
        let owner = Owner::new("demo", LbIdentity::new("kcp", "api"));
        let mut i = intent();
        i.backends = ips(&["10.5.0.10", "10.9.0.1", "fd00::1"]);
        match build(&owner, &i, &site()) {
            Err(SpecError::OtherFamily { backends, cidr }) => {
                assert_eq!(backends, ["fd00::1"]);
                assert_eq!(cidr, "10.5.0.0/24");
            }
            other => panic!("{other:?}"),
        }
        // Same family outside the subnet: may be routed, so built, and named for a warning.
        i.backends = ips(&["10.5.0.10", "10.9.0.1"]);
        assert!(build(&owner, &i, &site()).is_ok());
        assert_eq!(outside_member_subnet(&i, &site()), ["10.9.0.1"]);
        // An unknown CIDR checks nothing.
        let mut unknown = site();
        unknown.member_subnet_cidr = None;
        i.backends.push("fd00::1".parse().unwrap());
        assert!(build(&owner, &i, &unknown).is_ok());
        assert!(outside_member_subnet(&i, &unknown).is_empty());
    }

    #[test]
    fn builds_one_listener_per_mapping_with_sorted_members() {
        let d = build(&owner("k8s"), &intent(), &site()).unwrap();
        assert_eq!(d.listeners.len(), 1);
        let l = &d.listeners[0];
        assert_eq!((l.protocol.clone(), l.port), (Protocol::Tcp, 443));
        let addrs: Vec<&str> = l.pool.members.iter().map(|m| m.address.as_str()).collect();
        assert_eq!(addrs, ["10.5.0.10", "10.5.0.11", "10.5.0.12"]);
        assert!(l
            .pool
            .members
            .iter()
            .all(|m| m.port == 6443 && m.monitor_port.is_none()));
        assert_eq!(
            l.pool.members[0].subnet_id.as_deref(),
            Some("member-subnet")
        );
        let m = l.pool.monitor.as_ref().unwrap();
        assert_eq!(m.url_path.as_deref(), Some("/livez"));
        assert!(m.timeout < m.delay);
        assert_eq!(d.floating_ip.as_ref().unwrap().network_id, "ext-net");
        assert!(d.security_group.is_none());
        assert!(d.tags.contains(&"octavia-integrator".to_string()));
        assert!(d.name.len() <= MAX_NAME);
    }

    #[test]
    fn same_input_same_graph_and_fingerprint() {
        let a = build(&owner("k8s"), &intent(), &site()).unwrap();
        let mut shuffled = intent();
        shuffled.backends.reverse();
        let b = build(&owner("k8s"), &shuffled, &site()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn members_do_not_change_the_fingerprint_but_algorithm_does() {
        let a = build(&owner("k8s"), &intent(), &site()).unwrap();
        let mut fewer = intent();
        fewer.backends.pop();
        assert_eq!(
            build(&owner("k8s"), &fewer, &site()).unwrap().fingerprint(),
            a.fingerprint()
        );
        let mut lc = intent();
        lc.algorithm = LbAlgorithm::LeastConnections;
        assert_ne!(
            build(&owner("k8s"), &lc, &site()).unwrap().fingerprint(),
            a.fingerprint()
        );
    }

    #[test]
    fn internal_or_no_floating_network_means_no_floating_ip() {
        let mut internal = intent();
        internal.public = false;
        assert!(build(&owner("k8s"), &internal, &site())
            .unwrap()
            .floating_ip
            .is_none());
        let mut no_net = site();
        no_net.floating_network_id = None;
        assert!(build(&owner("k8s"), &intent(), &no_net)
            .unwrap()
            .floating_ip
            .is_none());
    }

    #[test]
    fn no_backends_is_an_error_not_an_empty_pool() {
        let mut none = intent();
        none.backends.clear();
        assert_eq!(
            build(&owner("k8s"), &none, &site()),
            Err(SpecError::NoBackends)
        );
        let mut no_ports = intent();
        no_ports.listeners.clear();
        assert_eq!(
            build(&owner("k8s"), &no_ports, &site()),
            Err(SpecError::NoPorts)
        );
    }

    #[test]
    fn two_apps_get_two_graphs() {
        let a = build(&owner("k8s-a"), &intent(), &site()).unwrap();
        let b = build(&owner("k8s-b"), &intent(), &site()).unwrap();
        assert_ne!(a.name, b.name);
        assert_ne!(a.tags, b.tags);
    }

    #[test]
    fn a_separate_health_check_port_goes_on_members() {
        let mut i = intent();
        i.monitor.as_mut().unwrap().port = Some(10256);
        let d = build(&owner("k8s"), &i, &site()).unwrap();
        let m = &d.listeners[0].pool.members[0];
        assert_eq!(m.monitor_port, Some(10256));
        assert_eq!(m.name, "10.5.0.10:6443:check-10256");
    }

    #[test]
    fn security_group_rules_follow_the_provider() {
        let mut s = site();
        s.manage_security_groups = true;
        let d = build(&owner("k8s"), &intent(), &s).unwrap();
        let sg = d.security_group.unwrap();
        assert_eq!(sg.rules.len(), 1);
        assert_eq!(sg.rules[0].remote_ip_prefix, "10.5.0.0/24");
        assert_eq!(sg.rules[0].port, 6443);
        s.preserves_client_ip = true;
        let d = build(&owner("k8s"), &intent(), &s).unwrap();
        assert_eq!(
            d.security_group.unwrap().rules[0].remote_ip_prefix,
            "0.0.0.0/0"
        );
    }
}
