//! The pure heart of the reconciler: [`decide`] what to do with a request's load balancer, and
//! [`plan`] the steps that turn what was observed into what is desired. No I/O here; every
//! function is a plain function of its arguments and unit-tested below.

use openstack::load_balancer::enums::ProvisioningStatus;

use super::observed::{Children, Observed, ObservedFip, ObservedLb, Tree};
pub use super::step::Step;
use crate::spec::{DesiredLb, DesiredListener, DesiredMember, FINGERPRINT_TAG_PREFIX};

/// What to do with a request's load balancer, decided from what was observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// None exists: build one.
    Create,
    /// One exists and is ACTIVE: bring it to the desired state.
    Adopt,
    /// One exists but is busy (`PENDING_*`), or one is being deleted: wait, then look again.
    Wait,
    /// One exists in ERROR: repair it.
    Repair,
    /// The request is gone: delete what was built for it.
    Delete,
    /// More than one load balancer carries this request's tag: refuse to guess.
    Ambiguous(Vec<String>),
}

/// Decides from the observation (and whether the request still exists).
pub fn decide(wanted: bool, observed: &Observed) -> Decision {
    if !wanted {
        return Decision::Delete;
    }
    match observed.load_balancers.as_slice() {
        [] if !observed.deleting.is_empty() => Decision::Wait,
        [] => Decision::Create,
        [lb] => match &lb.provisioning {
            ProvisioningStatus::Active => Decision::Adopt,
            ProvisioningStatus::Error => Decision::Repair,
            _ => Decision::Wait,
        },
        many => Decision::Ambiguous(many.iter().map(|lb| lb.id.clone()).collect()),
    }
}

/// Whether the quick observation (status tree only) is enough: the load balancer's
/// fingerprint tag matches the desired graph and the tree has exactly the desired listeners,
/// pools and monitors by name, none of them in ERROR. Otherwise the full settings of the
/// children must be read.
pub fn quick_path_ok(desired: &DesiredLb, lb: &ObservedLb, tree: &Tree) -> bool {
    let fingerprint = format!("{FINGERPRINT_TAG_PREFIX}{}", desired.fingerprint());
    if !lb.tags.contains(&fingerprint) {
        return false;
    }
    let mut want_listeners: Vec<&str> = desired.listeners.iter().map(|l| l.name.as_str()).collect();
    let mut have_listeners: Vec<&str> = tree.listeners.iter().map(|l| l.name.as_str()).collect();
    want_listeners.sort();
    have_listeners.sort();
    if want_listeners != have_listeners
        || tree
            .listeners
            .iter()
            .any(|l| l.provisioning == ProvisioningStatus::Error)
    {
        return false;
    }
    if tree.pools.len() != desired.listeners.len() {
        return false;
    }
    desired.listeners.iter().all(|l| {
        tree.pools.iter().any(|p| {
            p.name == l.pool.name
                && p.provisioning != ProvisioningStatus::Error
                && match (&p.monitor, &l.pool.monitor) {
                    (None, None) => true,
                    (Some((name, kind)), Some(m)) => name == &m.name && kind == &m.kind,
                    _ => false,
                }
        })
    })
}

/// The tags the load balancer should carry: the ownership marks plus the fingerprint.
pub fn lb_tags(desired: &DesiredLb) -> Vec<String> {
    let mut tags = desired.tags.clone();
    tags.push(format!("{FINGERPRINT_TAG_PREFIX}{}", desired.fingerprint()));
    tags
}

/// The steps that bring an ACTIVE load balancer (`lb`) to `desired`. `observed.tree` must be
/// present; `observed.children` must be present unless [`quick_path_ok`] holds.
pub fn plan(desired: &DesiredLb, lb: &ObservedLb, observed: &Observed) -> Vec<Step> {
    let mut steps = Vec::new();
    if let Some(reason) = needs_rebuild(desired, lb) {
        steps.push(Step::Rebuild { reason });
        return steps;
    }
    let tree = observed.tree.clone().unwrap_or_default();
    match &observed.children {
        Some(children) => plan_children(desired, &tree, children, &mut steps),
        None => {
            // Quick path: only members can differ.
            for l in &desired.listeners {
                if let Some(p) = tree.pools.iter().find(|p| p.name == l.pool.name) {
                    if members_differ(&l.pool.members, &p.members) {
                        steps.push(Step::SetMembers {
                            pool_id: p.id.clone(),
                            members: l.pool.members.clone(),
                        });
                    }
                }
            }
        }
    }
    plan_lb_fields(desired, lb, &mut steps);
    plan_floating_ip(
        desired,
        lb.vip_port_id.as_deref(),
        &observed.floating_ips,
        &mut steps,
    );
    steps
}

/// The floating-IP steps when the load balancer is about to be created (nothing is bound yet;
/// leftovers of ours are reused or deleted).
pub fn plan_floating_ip_for_new(desired: &DesiredLb, fips: &[ObservedFip]) -> Vec<Step> {
    let mut steps = Vec::new();
    plan_floating_ip(desired, None, fips, &mut steps);
    steps
}

fn needs_rebuild(desired: &DesiredLb, lb: &ObservedLb) -> Option<String> {
    if let Some(subnet) = &lb.vip_subnet_id {
        if subnet != &desired.vip_subnet_id {
            return Some(format!(
                "VIP subnet is {subnet}, settings ask for {}",
                desired.vip_subnet_id
            ));
        }
    }
    if let Some(want) = &desired.vip_address {
        if lb.vip_address.as_ref() != Some(want) {
            return Some(format!(
                "VIP address is {}, the request asks for {want}",
                lb.vip_address.as_deref().unwrap_or("unset")
            ));
        }
    }
    if let (Some(want), Some(have)) = (&desired.provider, &lb.provider) {
        let norm = |p: &str| {
            if p == "octavia" {
                "amphora".to_string()
            } else {
                p.to_string()
            }
        };
        if norm(want) != norm(have) {
            return Some(format!("provider is {have}, settings ask for {want}"));
        }
    }
    None
}

fn plan_lb_fields(desired: &DesiredLb, lb: &ObservedLb, steps: &mut Vec<Step>) {
    let want_tags = lb_tags(desired);
    let mut have = lb.tags.clone();
    let mut want = want_tags.clone();
    have.sort();
    want.sort();
    let name = (lb.name != desired.name).then(|| desired.name.clone());
    let description = (lb.description != desired.description).then(|| desired.description.clone());
    let tags = (have != want).then_some(want_tags);
    if name.is_some() || description.is_some() || tags.is_some() {
        steps.push(Step::UpdateLoadBalancer {
            name,
            description,
            tags,
        });
    }
}

fn plan_children(desired: &DesiredLb, tree: &Tree, children: &Children, steps: &mut Vec<Step>) {
    // A pool no listener uses goes: its listener was deleted out of band (Octavia keeps the
    // pool, and its status tree no longer shows it, so it would sit in the load balancer
    // forever and cost a status-tree read at every resync). The listener is re-created with a
    // pool of its own below.
    for p in &children.pools {
        let used = children
            .listeners
            .iter()
            .any(|l| l.default_pool_id.as_deref() == Some(p.id.as_str()));
        if !used {
            steps.push(Step::DeletePool { id: p.id.clone() });
        }
    }
    // Listeners that no longer match any port mapping go first (a listener on the same port
    // with another protocol would conflict with the new one).
    for have in &children.listeners {
        if desired.listener(&have.protocol, have.port).is_none() {
            steps.push(Step::DeleteListener {
                id: have.id.clone(),
                pool_id: have.default_pool_id.clone(),
            });
        }
    }
    for want in &desired.listeners {
        let Some(have) = children
            .listeners
            .iter()
            .find(|l| l.protocol == want.protocol && l.port == want.port)
        else {
            steps.push(Step::CreateListener(want.clone()));
            continue;
        };
        if have.provisioning == ProvisioningStatus::Error {
            steps.push(Step::DeleteListener {
                id: have.id.clone(),
                pool_id: have.default_pool_id.clone(),
            });
            steps.push(Step::CreateListener(want.clone()));
            continue;
        }
        let want_cidrs = want.allowed_cidrs.clone().unwrap_or_default();
        let name = (have.name != want.name).then(|| want.name.clone());
        let allowed_cidrs =
            (sorted(&have.allowed_cidrs) != sorted(&want_cidrs)).then_some(want_cidrs);
        if name.is_some() || allowed_cidrs.is_some() {
            steps.push(Step::UpdateListener {
                id: have.id.clone(),
                name,
                allowed_cidrs,
            });
        }
        plan_pool(
            want,
            have.id.as_str(),
            have.default_pool_id.as_deref(),
            tree,
            children,
            steps,
        );
    }
}

fn plan_pool(
    want: &DesiredListener,
    listener_id: &str,
    pool_id: Option<&str>,
    tree: &Tree,
    children: &Children,
    steps: &mut Vec<Step>,
) {
    let have = pool_id.and_then(|id| children.pools.iter().find(|p| p.id == id));
    let Some(have) = have else {
        steps.push(Step::CreatePool {
            listener_id: listener_id.to_string(),
            pool: want.pool.clone(),
        });
        return;
    };
    if have.protocol != want.pool.protocol || have.provisioning == ProvisioningStatus::Error {
        steps.push(Step::DeletePool {
            id: have.id.clone(),
        });
        steps.push(Step::CreatePool {
            listener_id: listener_id.to_string(),
            pool: want.pool.clone(),
        });
        return;
    }
    if have.name != want.pool.name
        || have.algorithm != want.pool.algorithm
        || have.persistence != want.pool.persistence
    {
        steps.push(Step::UpdatePool {
            id: have.id.clone(),
            pool: want.pool.clone(),
        });
    }
    let members = tree
        .pools
        .iter()
        .find(|p| p.id == have.id)
        .map(|p| p.members.clone())
        .unwrap_or_default();
    if members_differ(&want.pool.members, &members) {
        steps.push(Step::SetMembers {
            pool_id: have.id.clone(),
            members: want.pool.members.clone(),
        });
    }
    let monitor = have
        .monitor_id
        .as_deref()
        .and_then(|id| children.monitors.iter().find(|m| m.id == id));
    match (monitor, &want.pool.monitor) {
        (None, None) => {}
        (None, Some(m)) => steps.push(Step::CreateMonitor {
            pool_id: have.id.clone(),
            monitor: m.clone(),
        }),
        (Some(h), None) => steps.push(Step::DeleteMonitor { id: h.id.clone() }),
        (Some(h), Some(m)) => {
            if h.kind != m.kind || h.provisioning == ProvisioningStatus::Error {
                steps.push(Step::DeleteMonitor { id: h.id.clone() });
                steps.push(Step::CreateMonitor {
                    pool_id: have.id.clone(),
                    monitor: m.clone(),
                });
            } else if h.name != m.name
                || h.delay != m.delay
                || h.timeout != m.timeout
                || h.max_retries != u32::from(m.max_retries)
                || h.max_retries_down != u32::from(m.max_retries_down)
                || (m.url_path.is_some() && h.url_path != m.url_path)
                || (m.expected_codes.is_some() && h.expected_codes != m.expected_codes)
            {
                steps.push(Step::UpdateMonitor {
                    id: h.id.clone(),
                    monitor: m.clone(),
                });
            }
        }
    }
}

/// Whether the observed members differ from the desired set (compared on address, port and
/// name; a member in ERROR counts as different so it is sent again).
pub fn members_differ(want: &[DesiredMember], have: &[super::observed::ObservedMember]) -> bool {
    let mut w: Vec<(&str, u16, &str)> = want
        .iter()
        .map(|m| (m.address.as_str(), m.port, m.name.as_str()))
        .collect();
    let mut h: Vec<(&str, u16, &str)> = have
        .iter()
        .map(|m| (m.address.as_str(), m.port, m.name.as_str()))
        .collect();
    w.sort();
    h.sort();
    w != h
        || have
            .iter()
            .any(|m| m.provisioning == ProvisioningStatus::Error)
}

/// Why a request naming an existing floating IP (`ingress_address` on a public request) cannot
/// be served: no such floating IP on the network, or one bound to a port that is not our VIP.
/// `None` when it can be (or nothing is named). Pure.
pub fn adopted_fip_refusal(
    desired: &DesiredLb,
    vip_port: Option<&str>,
    fips: &[ObservedFip],
) -> Option<String> {
    let want = desired.floating_ip.as_ref()?;
    let address = want.address.as_ref()?;
    match fips
        .iter()
        .find(|f| &f.address == address && f.network_id == want.network_id)
    {
        None => Some(format!(
            "no floating IP {address} on the floating network {}: create it first (`openstack floating ip create --floating-ip-address {address} {}`), or leave ingress_address empty to get a new one",
            want.network_id, want.network_id
        )),
        Some(f) => match f.port_id.as_deref() {
            Some(p) if Some(p) != vip_port => Some(format!(
                "floating IP {address} is bound to port {p}, which is not this load balancer's: free it (`openstack floating ip unset --port {}`) or name another address",
                f.id
            )),
            _ => None,
        },
    }
}

fn plan_floating_ip(
    desired: &DesiredLb,
    vip_port: Option<&str>,
    fips: &[ObservedFip],
    steps: &mut Vec<Step>,
) {
    let ours = |f: &ObservedFip| {
        f.tags
            .iter()
            .any(|t| desired.tags.contains(t) && t.starts_with(crate::spec::REQUEST_TAG_PREFIX))
    };
    let Some(want) = &desired.floating_ip else {
        // Internal: delete every floating IP of ours (never one we did not tag).
        for f in fips.iter().filter(|f| ours(f)) {
            steps.push(Step::DeleteFloatingIp { id: f.id.clone() });
        }
        return;
    };
    let on_vip = |f: &ObservedFip| vip_port.is_some() && f.port_id.as_deref() == vip_port;
    if let Some(address) = &want.address {
        // An existing floating IP the request names: bind it if it is free (one bound
        // elsewhere, or none, is refused before planning, see `adopted_fip_refusal`); every
        // floating IP of ours goes. It is never tagged: it stays its owner's.
        for f in fips.iter().filter(|f| ours(f) && &f.address != address) {
            steps.push(Step::DeleteFloatingIp { id: f.id.clone() });
        }
        if let Some(f) = fips.iter().find(|f| &f.address == address) {
            if !on_vip(f) && f.port_id.is_none() {
                steps.push(Step::BindFloatingIp { id: f.id.clone() });
            }
        }
        return;
    }
    let mut keep: Option<&ObservedFip> = fips
        .iter()
        .find(|f| on_vip(f) && f.network_id == want.network_id);
    if keep.is_none() {
        if let Some(f) = fips
            .iter()
            .find(|f| ours(f) && f.port_id.is_none() && f.network_id == want.network_id)
        {
            keep = Some(f);
            steps.push(Step::BindFloatingIp { id: f.id.clone() });
        }
    }
    for f in fips {
        if keep.map(|k| k.id == f.id).unwrap_or(false) {
            continue;
        }
        if ours(f) {
            steps.push(Step::DeleteFloatingIp { id: f.id.clone() });
        }
    }
    match keep {
        Some(k) => {
            if !ours(k) && k.description == want.description {
                steps.push(Step::TagFloatingIp {
                    id: k.id.clone(),
                    tags: want.tags.clone(),
                });
            }
        }
        None => steps.push(Step::CreateFloatingIp(want.clone())),
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::observed::{
        ObservedListener, ObservedMember, ObservedMonitor, ObservedPool, TreeListener, TreePool,
    };
    use crate::spec::{build, Intent, LbIdentity, ListenerIntent, MonitorIntent, Owner, Site};
    use openstack::load_balancer::enums::{LbAlgorithm, MonitorType, Protocol};

    fn site() -> Site {
        Site {
            cluster_id: "demo".into(),
            vip_subnet_id: "vip-subnet".into(),
            vip_network_id: None,
            member_subnet_id: "member-subnet".into(),
            member_network_id: None,
            member_subnet_cidr: None,
            floating_network_id: Some("ext-net".into()),
            provider: Some("amphora".into()),
            flavor_id: None,
            availability_zone: None,
            manage_security_groups: false,
            preserves_client_ip: false,
            closest_health_check: false,
        }
    }

    fn intent() -> Intent {
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
                kind: MonitorType::Tcp,
                port: None,
                delay: 10,
                timeout: 5,
                retries: 3,
                url_path: None,
            }),
            backends: ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
                .map(|b| b.parse().unwrap())
                .to_vec(),
        }
    }

    fn desired(i: &Intent) -> DesiredLb {
        let owner = Owner::new("demo", LbIdentity::new("k8s", "api"));
        build(&owner, i, &site()).unwrap()
    }

    /// What the cloud looks like right after `d` was built (ids derived from names).
    fn as_built(d: &DesiredLb) -> (ObservedLb, Observed) {
        let lb = ObservedLb {
            id: "lb-1".into(),
            name: d.name.clone(),
            description: d.description.clone(),
            tags: lb_tags(d),
            provisioning: ProvisioningStatus::Active,
            operating: "ONLINE".into(),
            vip_address: Some("192.168.0.5".into()),
            vip_port_id: Some("vip-port".into()),
            vip_subnet_id: Some(d.vip_subnet_id.clone()),
            provider: d.provider.clone(),
        };
        let mut tree = Tree::default();
        let mut children = Children::default();
        for l in &d.listeners {
            let lid = format!("id-{}", l.name);
            let pid = format!("id-{}", l.pool.name);
            tree.listeners.push(TreeListener {
                id: lid.clone(),
                name: l.name.clone(),
                provisioning: ProvisioningStatus::Active,
            });
            tree.pools.push(TreePool {
                id: pid.clone(),
                name: l.pool.name.clone(),
                provisioning: ProvisioningStatus::Active,
                members: l
                    .pool
                    .members
                    .iter()
                    .map(|m| ObservedMember {
                        address: m.address.clone(),
                        port: m.port,
                        name: m.name.clone(),
                        provisioning: ProvisioningStatus::Active,
                        operating: "ONLINE".into(),
                    })
                    .collect(),
                monitor: l
                    .pool
                    .monitor
                    .as_ref()
                    .map(|m| (m.name.clone(), m.kind.clone())),
            });
            children.listeners.push(ObservedListener {
                id: lid,
                name: l.name.clone(),
                protocol: l.protocol.clone(),
                port: l.port,
                allowed_cidrs: l.allowed_cidrs.clone().unwrap_or_default(),
                default_pool_id: Some(pid.clone()),
                provisioning: ProvisioningStatus::Active,
            });
            let mid = l.pool.monitor.as_ref().map(|m| format!("id-{}", m.name));
            children.pools.push(ObservedPool {
                id: pid.clone(),
                name: l.pool.name.clone(),
                protocol: l.pool.protocol.clone(),
                algorithm: l.pool.algorithm.clone(),
                persistence: l.pool.persistence.clone(),
                monitor_id: mid.clone(),
                provisioning: ProvisioningStatus::Active,
            });
            if let Some(m) = &l.pool.monitor {
                children.monitors.push(ObservedMonitor {
                    id: mid.unwrap(),
                    pool_id: Some(pid),
                    name: m.name.clone(),
                    kind: m.kind.clone(),
                    delay: m.delay,
                    timeout: m.timeout,
                    max_retries: m.max_retries.into(),
                    max_retries_down: m.max_retries_down.into(),
                    url_path: m.url_path.clone(),
                    expected_codes: m.expected_codes.clone(),
                    provisioning: ProvisioningStatus::Active,
                });
            }
        }
        let floating_ips = d
            .floating_ip
            .iter()
            .map(|f| ObservedFip {
                id: "fip-1".into(),
                address: "203.0.113.7".into(),
                network_id: f.network_id.clone(),
                port_id: Some("vip-port".into()),
                description: f.description.clone(),
                tags: f.tags.clone(),
            })
            .collect();
        let observed = Observed {
            load_balancers: vec![lb.clone()],
            deleting: vec![],
            tree: Some(tree),
            children: Some(children),
            floating_ips,
            security_groups: None,
            ports: vec![],
            member_ids: Default::default(),
        };
        (lb, observed)
    }

    #[test]
    fn decide_covers_every_state() {
        let d = desired(&intent());
        let (lb, mut o) = as_built(&d);
        assert_eq!(decide(true, &o), Decision::Adopt);
        assert_eq!(decide(false, &o), Decision::Delete);
        o.load_balancers[0].provisioning = ProvisioningStatus::PendingUpdate;
        assert_eq!(decide(true, &o), Decision::Wait);
        o.load_balancers[0].provisioning = ProvisioningStatus::Error;
        assert_eq!(decide(true, &o), Decision::Repair);
        o.load_balancers.push(ObservedLb {
            id: "lb-2".into(),
            ..lb
        });
        assert_eq!(
            decide(true, &o),
            Decision::Ambiguous(vec!["lb-1".into(), "lb-2".into()])
        );
        let mut empty = Observed::default();
        assert_eq!(decide(true, &empty), Decision::Create);
        empty.deleting = vec!["old".into()];
        assert_eq!(decide(true, &empty), Decision::Wait);
    }

    #[test]
    fn unchanged_means_no_steps_on_both_paths() {
        let d = desired(&intent());
        let (lb, mut o) = as_built(&d);
        assert_eq!(plan(&d, &lb, &o), vec![]);
        assert!(quick_path_ok(&d, &lb, o.tree.as_ref().unwrap()));
        o.children = None;
        assert_eq!(plan(&d, &lb, &o), vec![]);
    }

    #[test]
    fn member_change_is_one_batch_call_on_the_quick_path() {
        let d = desired(&intent());
        let (lb, mut o) = as_built(&d);
        o.children = None;
        let mut more = intent();
        more.backends.push("10.0.0.4".parse().unwrap());
        let d2 = desired(&more);
        assert!(quick_path_ok(&d2, &lb, o.tree.as_ref().unwrap()));
        let steps = plan(&d2, &lb, &o);
        assert_eq!(steps.len(), 1);
        match &steps[0] {
            Step::SetMembers { members, .. } => assert_eq!(members.len(), 4),
            other => panic!("unexpected {other:?}"),
        }
        let mut fewer = intent();
        fewer.backends.truncate(2);
        let steps = plan(&desired(&fewer), &lb, &o);
        assert!(matches!(&steps[..], [Step::SetMembers { members, .. }] if members.len() == 2));
    }

    #[test]
    fn algorithm_change_updates_the_pool_and_the_fingerprint() {
        let d = desired(&intent());
        let (lb, o) = as_built(&d);
        let mut lc = intent();
        lc.algorithm = LbAlgorithm::LeastConnections;
        let d2 = desired(&lc);
        assert!(!quick_path_ok(&d2, &lb, o.tree.as_ref().unwrap()));
        let steps = plan(&d2, &lb, &o);
        assert!(
            matches!(&steps[0], Step::UpdatePool { pool, .. } if pool.algorithm == LbAlgorithm::LeastConnections)
        );
        assert!(matches!(
            &steps[1],
            Step::UpdateLoadBalancer {
                tags: Some(_),
                name: None,
                description: None
            }
        ));
        assert_eq!(steps.len(), 2);
    }

    #[test]
    fn port_mapping_change_replaces_the_listener() {
        let d = desired(&intent());
        let (lb, o) = as_built(&d);
        let mut other = intent();
        other.listeners[0].port = 6443;
        let steps = plan(&desired(&other), &lb, &o);
        assert!(
            matches!(&steps[0], Step::DeleteListener { id, pool_id: Some(_) } if id.starts_with("id-"))
        );
        assert!(matches!(&steps[1], Step::CreateListener(l) if l.port == 6443));
        let mut added = intent();
        added.listeners.push(ListenerIntent {
            protocol: Protocol::Tcp,
            pool_protocol: Protocol::Tcp,
            port: 6443,
            backend_port: 6443,
            allowed_cidrs: None,
        });
        let steps = plan(&desired(&added), &lb, &o);
        assert!(matches!(&steps[0], Step::CreateListener(l) if l.port == 6443));
        assert!(matches!(&steps[1], Step::UpdateLoadBalancer { .. }));
    }

    #[test]
    fn a_named_floating_ip_is_bound_when_free_and_refused_when_missing_or_taken() {
        let mut d = desired(&intent());
        let (lb, mut o) = as_built(&d);
        let net = d.floating_ip.as_ref().expect("public").network_id.clone();
        d.floating_ip.as_mut().unwrap().address = Some("203.0.113.77".into());
        let theirs = ObservedFip {
            id: "theirs".into(),
            address: "203.0.113.77".into(),
            network_id: net,
            port_id: None,
            description: "someone else's".into(),
            tags: vec![],
        };
        // Missing: refused.
        assert!(adopted_fip_refusal(&d, Some("vip-port"), &o.floating_ips)
            .is_some_and(|why| why.contains("no floating IP 203.0.113.77")));
        // Free: bound, and our own floating IP goes; never tagged.
        o.floating_ips.push(theirs.clone());
        assert_eq!(
            adopted_fip_refusal(&d, Some("vip-port"), &o.floating_ips),
            None
        );
        assert_eq!(
            plan(&d, &lb, &o),
            vec![
                Step::DeleteFloatingIp { id: "fip-1".into() },
                Step::BindFloatingIp {
                    id: "theirs".into()
                }
            ]
        );
        // Bound to our VIP: nothing to do.
        o.floating_ips = vec![ObservedFip {
            port_id: Some("vip-port".into()),
            ..theirs.clone()
        }];
        assert!(plan(&d, &lb, &o).is_empty());
        // Bound to another port: refused, never taken away.
        o.floating_ips = vec![ObservedFip {
            port_id: Some("other-port".into()),
            ..theirs
        }];
        assert!(adopted_fip_refusal(&d, Some("vip-port"), &o.floating_ips)
            .is_some_and(|why| why.contains("bound to port other-port")));
    }

    #[test]
    fn health_check_changes_update_or_replace_the_monitor() {
        let d = desired(&intent());
        let (lb, o) = as_built(&d);
        let mut slower = intent();
        slower.monitor.as_mut().unwrap().delay = 20;
        let steps = plan(&desired(&slower), &lb, &o);
        assert!(matches!(&steps[0], Step::UpdateMonitor { monitor, .. } if monitor.delay == 20));
        let mut http = intent();
        let m = http.monitor.as_mut().unwrap();
        m.kind = MonitorType::Http;
        m.url_path = Some("/livez".into());
        let steps = plan(&desired(&http), &lb, &o);
        assert!(matches!(&steps[0], Step::DeleteMonitor { .. }));
        assert!(
            matches!(&steps[1], Step::CreateMonitor { monitor, .. } if monitor.kind == MonitorType::Http)
        );
        let mut none = intent();
        none.monitor = None;
        let steps = plan(&desired(&none), &lb, &o);
        assert!(matches!(&steps[0], Step::DeleteMonitor { .. }));
    }

    #[test]
    fn public_to_internal_deletes_our_floating_ip_only() {
        let d = desired(&intent());
        let (lb, mut o) = as_built(&d);
        o.floating_ips.push(ObservedFip {
            id: "users-fip".into(),
            address: "203.0.113.9".into(),
            network_id: "ext-net".into(),
            port_id: Some("other-port".into()),
            description: "someone else's".into(),
            tags: vec![],
        });
        let mut internal = intent();
        internal.public = false;
        let steps = plan(&desired(&internal), &lb, &o);
        assert_eq!(steps, vec![Step::DeleteFloatingIp { id: "fip-1".into() }]);
    }

    #[test]
    fn floating_ips_are_reused_tagged_or_created() {
        let d = desired(&intent());
        let (lb, mut o) = as_built(&d);
        // Unbound leftover of ours (after a rebuild): bind it again.
        o.floating_ips[0].port_id = None;
        assert_eq!(
            plan(&d, &lb, &o),
            vec![Step::BindFloatingIp { id: "fip-1".into() }]
        );
        // Bound to our VIP but untagged (crash before tagging): tag it.
        o.floating_ips[0].port_id = Some("vip-port".into());
        o.floating_ips[0].tags.clear();
        assert!(
            matches!(&plan(&d, &lb, &o)[..], [Step::TagFloatingIp { id, .. }] if id == "fip-1")
        );
        // None at all: create.
        o.floating_ips.clear();
        assert!(matches!(
            &plan(&d, &lb, &o)[..],
            [Step::CreateFloatingIp(_)]
        ));
        // For a load balancer about to be created, a bound leftover of ours is deleted.
        let leftover = ObservedFip {
            id: "old".into(),
            address: "203.0.113.8".into(),
            network_id: "ext-net".into(),
            port_id: Some("gone-port".into()),
            description: String::new(),
            tags: d.tags.clone(),
        };
        let steps = plan_floating_ip_for_new(&d, &[leftover]);
        assert_eq!(steps[0], Step::DeleteFloatingIp { id: "old".into() });
        assert!(matches!(steps[1], Step::CreateFloatingIp(_)));
    }

    #[test]
    fn immutable_changes_rebuild() {
        let d = desired(&intent());
        let (lb, o) = as_built(&d);
        // A pinned VIP address (an internal request's ingress_address; a public one's names
        // its floating IP instead).
        let mut pinned = intent();
        pinned.public = false;
        pinned.vip_address = Some("192.168.0.99".parse().unwrap());
        assert!(matches!(
            &plan(&desired(&pinned), &lb, &o)[..],
            [Step::Rebuild { .. }]
        ));
        let mut moved = lb.clone();
        moved.vip_subnet_id = Some("elsewhere".into());
        assert!(matches!(&plan(&d, &moved, &o)[..], [Step::Rebuild { .. }]));
    }

    #[test]
    fn a_pool_no_listener_uses_is_deleted() {
        let d = desired(&intent());
        let (lb, mut o) = as_built(&d);
        let mut orphan = o.children.as_ref().unwrap().pools[0].clone();
        orphan.id = "orphan".into();
        o.children.as_mut().unwrap().pools.push(orphan);
        let steps = plan(&d, &lb, &o);
        assert_eq!(
            steps,
            [Step::DeletePool {
                id: "orphan".into()
            }]
        );
    }

    #[test]
    fn errored_children_are_replaced() {
        let d = desired(&intent());
        let (lb, mut o) = as_built(&d);
        o.children.as_mut().unwrap().pools[0].provisioning = ProvisioningStatus::Error;
        o.tree.as_mut().unwrap().pools[0].provisioning = ProvisioningStatus::Error;
        assert!(!quick_path_ok(&d, &lb, o.tree.as_ref().unwrap()));
        let steps = plan(&d, &lb, &o);
        assert!(matches!(&steps[0], Step::DeletePool { .. }));
        assert!(matches!(&steps[1], Step::CreatePool { .. }));
    }
}
