//! Reading the cloud into [`Observed`]: list calls filtered by our tags, one per kind, never a
//! GET per object. Everything here translates the `openstack` crate's types into the
//! reconciler's own observation types; nothing decides.

use std::collections::{BTreeSet, HashMap};

use openstack::load_balancer::enums::ProvisioningStatus;
use openstack::load_balancer::{health_monitors, listeners, load_balancers, pools};
use openstack::network::{floating_ips, ports, security_groups};
use openstack::{Error, Session};

use super::observed::{
    Children, Observed, ObservedFip, ObservedLb, ObservedListener, ObservedMember, ObservedMonitor,
    ObservedPool, ObservedRule, ObservedSg, PortView, Tree, TreeListener, TreePool,
};
use crate::spec::{DesiredLb, DesiredRule, Owner};

/// The filter that finds one request's resources: all three ownership tags.
fn request_filter(owner: &Owner) -> Vec<String> {
    owner.tags()
}

/// Lists the request's load balancers (one call). Those being deleted are left out but
/// remembered in `deleting`.
pub async fn load_balancers(
    session: &Session,
    owner: &Owner,
) -> Result<(Vec<ObservedLb>, Vec<String>), Error> {
    let filter = load_balancers::ListLoadBalancers {
        tags: request_filter(owner),
        ..Default::default()
    };
    let mut deleting = Vec::new();
    let mut found = Vec::new();
    for lb in load_balancers::list(session, &filter).await? {
        match lb.provisioning_status {
            ProvisioningStatus::PendingDelete | ProvisioningStatus::Deleted => deleting.push(lb.id),
            _ => found.push(lb_of(lb)),
        }
    }
    Ok((found, deleting))
}

/// Translates a listed or created load balancer.
pub fn lb_of(lb: load_balancers::LoadBalancer) -> ObservedLb {
    ObservedLb {
        id: lb.id,
        name: lb.name,
        description: lb.description,
        tags: lb.tags,
        provisioning: lb.provisioning_status,
        operating: lb.operating_status.as_str().to_string(),
        vip_address: lb.vip_address,
        vip_port_id: lb.vip_port_id,
        vip_subnet_id: lb.vip_subnet_id,
        provider: lb.provider,
    }
}

/// The status tree of a load balancer (one call): names, statuses and members.
pub async fn tree(session: &Session, lb_id: &str) -> Result<Tree, Error> {
    Ok(tree_with_member_ids(session, lb_id).await?.0)
}

/// Member ids per pool id, as the status tree lists them.
pub type MemberIds = HashMap<String, BTreeSet<String>>;

/// [`tree`], plus each pool's member ids (what a pool list shows of its members).
pub async fn tree_with_member_ids(
    session: &Session,
    lb_id: &str,
) -> Result<(Tree, MemberIds), Error> {
    let st = load_balancers::status_tree(session, lb_id)
        .await?
        .loadbalancer;
    let mut ids = MemberIds::new();
    let mut tree = Tree::default();
    let mut pools = st.pools;
    for l in st.listeners {
        tree.listeners.push(TreeListener {
            id: l.id,
            name: l.name,
            provisioning: l.provisioning_status,
        });
        pools.extend(l.pools);
    }
    for p in pools {
        if tree.pools.iter().any(|have| have.id == p.id) {
            continue;
        }
        ids.insert(
            p.id.clone(),
            p.members.iter().map(|m| m.id.clone()).collect(),
        );
        tree.pools.push(TreePool {
            id: p.id,
            name: p.name,
            provisioning: p.provisioning_status,
            members: p
                .members
                .into_iter()
                .filter_map(|m| {
                    Some(ObservedMember {
                        address: m.address?,
                        port: m.protocol_port?,
                        name: m.name,
                        provisioning: m.provisioning_status,
                        operating: m.operating_status.as_str().to_string(),
                    })
                })
                .collect(),
            monitor: p
                .health_monitor
                .and_then(|m| m.kind.map(|kind| (m.name, kind))),
        });
    }
    Ok((tree, ids))
}

/// Translates a listed listener.
pub fn listener_of(l: listeners::Listener) -> ObservedListener {
    ObservedListener {
        id: l.id,
        name: l.name,
        protocol: l.protocol,
        port: l.protocol_port,
        allowed_cidrs: l.allowed_cidrs,
        default_pool_id: l.default_pool_id,
        provisioning: l.provisioning_status,
    }
}

/// Translates a listed pool.
pub fn pool_of(p: pools::Pool) -> ObservedPool {
    ObservedPool {
        id: p.id,
        name: p.name,
        protocol: p.protocol,
        algorithm: p.lb_algorithm,
        persistence: p.session_persistence.map(|s| s.kind),
        monitor_id: p.healthmonitor_id,
        provisioning: p.provisioning_status,
    }
}

/// Translates a health monitor watching `pool_id`.
pub fn monitor_of(m: health_monitors::HealthMonitor, pool_id: &str) -> ObservedMonitor {
    ObservedMonitor {
        id: m.id,
        pool_id: Some(pool_id.to_string()),
        name: m.name,
        kind: m.kind,
        delay: m.delay,
        timeout: m.timeout,
        max_retries: m.max_retries,
        max_retries_down: m.max_retries_down.unwrap_or(3),
        url_path: m.url_path,
        expected_codes: m.expected_codes,
        provisioning: m.provisioning_status,
    }
}

/// Full settings of listeners, pools and monitors (two list calls plus one per monitor).
pub async fn children(session: &Session, lb_id: &str) -> Result<Children, Error> {
    let ls = listeners::list(
        session,
        &listeners::ListListeners {
            loadbalancer_id: Some(lb_id.to_string()),
            ..Default::default()
        },
    )
    .await?;
    let ps = pools::list(
        session,
        &pools::ListPools {
            loadbalancer_id: Some(lb_id.to_string()),
            ..Default::default()
        },
    )
    .await?;
    let mut out = Children {
        listeners: ls.into_iter().map(listener_of).collect(),
        ..Default::default()
    };
    for p in ps {
        if let Some(id) = &p.healthmonitor_id {
            match health_monitors::get(session, id).await {
                Ok(m) => out.monitors.push(monitor_of(m, &p.id)),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        out.pools.push(pool_of(p));
    }
    Ok(out)
}

/// The request's floating IPs (one call, by tags).
pub async fn floating_ips(session: &Session, owner: &Owner) -> Result<Vec<ObservedFip>, Error> {
    let filter = floating_ips::ListFloatingIps {
        tags: request_filter(owner),
        ..Default::default()
    };
    Ok(floating_ips::list(session, &filter)
        .await?
        .into_iter()
        .map(fip_of)
        .collect())
}

/// Floating IPs bound to a port (one call): finds one whose tagging was cut short.
pub async fn floating_ips_on_port(
    session: &Session,
    port_id: &str,
) -> Result<Vec<ObservedFip>, Error> {
    let filter = floating_ips::ListFloatingIps {
        port_id: Some(port_id.to_string()),
        ..Default::default()
    };
    Ok(floating_ips::list(session, &filter)
        .await?
        .into_iter()
        .map(fip_of)
        .collect())
}

/// The floating IP with `address` on `network_id` (one call): the existing one a request
/// names to adopt.
pub async fn floating_ip_at(
    session: &Session,
    network_id: &str,
    address: &str,
) -> Result<Vec<ObservedFip>, Error> {
    let filter = floating_ips::ListFloatingIps {
        floating_network_id: Some(network_id.to_string()),
        floating_ip_address: Some(address.to_string()),
        ..Default::default()
    };
    Ok(floating_ips::list(session, &filter)
        .await?
        .into_iter()
        .map(fip_of)
        .collect())
}

/// Translates a floating IP.
pub fn fip_of(f: floating_ips::FloatingIp) -> ObservedFip {
    ObservedFip {
        id: f.id,
        address: f.floating_ip_address,
        network_id: f.floating_network_id,
        port_id: f.port_id,
        description: f.description,
        tags: f.tags,
    }
}

/// Groups with our name and description but no tags: a create whose tagging was cut short
/// (one call). They are adopted (and tagged) rather than duplicated.
pub async fn untagged_security_groups(
    session: &Session,
    name: &str,
    description: &str,
) -> Result<Vec<ObservedSg>, Error> {
    let filter = security_groups::ListSecurityGroups {
        name: Some(name.to_string()),
        ..Default::default()
    };
    Ok(security_groups::list(session, &filter)
        .await?
        .into_iter()
        .filter(|g| g.tags.is_empty() && g.description == description)
        .map(sg_of)
        .collect())
}

/// The ports on the member network (one call), for security-group attachment.
pub async fn member_ports(
    session: &Session,
    network_id: Option<&str>,
) -> Result<Vec<PortView>, Error> {
    let Some(network_id) = network_id else {
        return Ok(Vec::new());
    };
    let filter = ports::ListPorts {
        network_id: Some(network_id.to_string()),
        ..Default::default()
    };
    Ok(ports::list(session, &filter)
        .await?
        .into_iter()
        .map(port_view)
        .collect())
}

/// The ports on the member network holding any of `addresses`: one call however many
/// members, as Neutron ORs a repeated `fixed_ips=ip_address=` filter. No network, no ports
/// (as [`member_ports`]): the same address on another network is another machine.
pub async fn ports_of_addresses(
    session: &Session,
    network_id: Option<&str>,
    addresses: &[String],
) -> Result<Vec<PortView>, Error> {
    let Some(network_id) = network_id else {
        return Ok(Vec::new());
    };
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let filter = ports::ListPorts {
        network_id: Some(network_id.to_string()),
        ip_addresses: addresses.to_vec(),
        ..Default::default()
    };
    Ok(ports::list(session, &filter)
        .await?
        .into_iter()
        .map(port_view)
        .collect())
}

/// Translates a listed port.
pub fn port_view(p: ports::Port) -> PortView {
    PortView {
        id: p.id,
        addresses: p.fixed_ips.into_iter().map(|f| f.ip_address).collect(),
        security_groups: p.security_groups,
        port_security: p.port_security_enabled.unwrap_or(true),
        revision: p.revision_number,
    }
}

/// The request's security groups with their ingress rules (one call, by tags).
pub async fn security_groups(session: &Session, owner: &Owner) -> Result<Vec<ObservedSg>, Error> {
    let filter = security_groups::ListSecurityGroups {
        tags: request_filter(owner),
        ..Default::default()
    };
    Ok(security_groups::list(session, &filter)
        .await?
        .into_iter()
        .map(sg_of)
        .collect())
}

/// Translates a security group (its ingress rules as the spec describes rules).
pub fn sg_of(g: security_groups::SecurityGroup) -> ObservedSg {
    ObservedSg {
        id: g.id,
        tagged: !g.tags.is_empty(),
        rules: g
            .security_group_rules
            .into_iter()
            .filter(|r| r.direction == security_groups::Direction::Ingress)
            .filter_map(|r| {
                Some(ObservedRule {
                    rule: DesiredRule {
                        protocol: r.protocol.clone()?,
                        port: r.port_range_min?,
                        remote_ip_prefix: r.remote_ip_prefix.clone()?,
                        ethertype: r
                            .ethertype
                            .as_ref()
                            .map(|e| e.as_str().to_string())
                            .unwrap_or_else(|| "IPv4".into()),
                    },
                    id: r.id,
                })
            })
            .collect(),
    }
}

/// How much an observation may take for granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Read everything the request may own.
    Full,
    /// The first look of a reconcile: when the request has no load balancer at all (none
    /// listed, none being deleted), its floating IPs and security groups are not listed. We
    /// create those only once its load balancer exists, so a crash in any later step leaves
    /// the load balancer behind and the next look is full. What a deleted load balancer left
    /// (a rebuild elsewhere, a hand deletion) is found by the next full look, which deletes
    /// the extra floating IP or group of ours: nothing leaks, and a fresh create saves the
    /// list calls.
    First,
}

/// Observes everything for one request. `deep` forces reading the children's full settings;
/// otherwise they are read only when the quick check says something besides members may
/// differ. Calls: 1 (nothing exists; 2 with managed security groups) or 3–7.
pub async fn observe(
    session: &Session,
    owner: &Owner,
    desired: Option<&DesiredLb>,
    deep: bool,
    look: Look,
) -> Result<Observed, Error> {
    let (lbs, deleting) = load_balancers(session, owner).await?;
    let mut observed = Observed {
        load_balancers: lbs,
        deleting,
        ..Default::default()
    };
    let nothing = observed.load_balancers.is_empty() && observed.deleting.is_empty();
    let fresh = look == Look::First && nothing && desired.is_some();
    if let [lb] = observed.load_balancers.as_slice() {
        if lb.provisioning == ProvisioningStatus::Active {
            if let Some(d) = desired {
                let (t, member_ids) = tree_with_member_ids(session, &lb.id).await?;
                if deep || !super::plan::quick_path_ok(d, lb, &t) {
                    observed.children = Some(children(session, &lb.id).await?);
                }
                observed.tree = Some(t);
                observed.member_ids = member_ids;
            }
        }
    }
    // With no load balancer yet there is no floating IP to keep or bind: on the first look of
    // a create (a leftover of ours, from a load balancer deleted by hand, is deleted by the next
    // full look), and on any look of an internal request (a leftover shows in the next
    // resync's floating-IP list, which sends the request back here).
    let internal_and_new = desired.is_some_and(|d| d.floating_ip.is_none()) && nothing;
    if !fresh && !internal_and_new {
        observed.floating_ips = floating_ips(session, owner).await?;
    }
    // A floating IP created for us whose tagging was cut short is bound to our VIP but not
    // tagged: look on the port before ever creating a second one.
    if let (Some(d), [lb]) = (desired, observed.load_balancers.as_slice()) {
        if let (Some(_), Some(port)) = (&d.floating_ip, &lb.vip_port_id) {
            if !observed
                .floating_ips
                .iter()
                .any(|f| f.port_id.as_ref() == Some(port))
            {
                for f in floating_ips_on_port(session, port).await? {
                    if !observed.floating_ips.iter().any(|have| have.id == f.id) {
                        observed.floating_ips.push(f);
                    }
                }
            }
        }
    }
    // The existing floating IP the request names (not ours: never found by our tags).
    if let Some(want) = desired.and_then(|d| d.floating_ip.as_ref()) {
        if let Some(address) = &want.address {
            if !observed.floating_ips.iter().any(|f| &f.address == address) {
                observed
                    .floating_ips
                    .extend(floating_ip_at(session, &want.network_id, address).await?);
            }
        }
    }
    if let Some(sg) = desired.and_then(|d| d.security_group.as_ref()) {
        let groups = if fresh {
            Vec::new()
        } else {
            let mut groups = security_groups(session, owner).await?;
            if groups.is_empty() {
                groups = untagged_security_groups(session, &sg.name, &sg.description).await?;
            }
            groups
        };
        // With a group of ours somewhere, ports that are no longer members may carry it:
        // read the whole network. Without one, only the members' ports matter.
        observed.ports = if groups.is_empty() {
            ports_of_addresses(
                session,
                sg.member_network_id.as_deref(),
                &sg.member_addresses,
            )
            .await?
        } else {
            member_ports(session, sg.member_network_id.as_deref()).await?
        };
        observed.security_groups = Some(groups);
    }
    Ok(observed)
}
