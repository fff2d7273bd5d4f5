//! The whole cluster in one read: one tag-filtered, paginated list per kind (load balancers,
//! listeners, pools, health monitors, floating IPs, and security groups plus the member ports
//! when they are managed), grouped per request in memory. A resync of N unchanged requests
//! costs a few calls per page of each kind, not calls per request.
//!
//! Grouping is pure ([`ClusterView::from_lists`]); only [`ClusterView::list`] talks to the
//! cloud. What a pool list does not show (member addresses and statuses: pools carry member
//! ids only) is filled in by the caller, from what it remembers, from the pool's member digest
//! tag ([`super::digest`]), or from a status tree.

use std::collections::{BTreeSet, HashMap};

use openstack::load_balancer::enums::ProvisioningStatus;
use openstack::load_balancer::{health_monitors, listeners, load_balancers, pools};
use openstack::network::{floating_ips, security_groups};
use openstack::{Error, Session};

use super::cloud;
use super::digest::MemberDigest;
use super::observed::{
    Children, Observed, ObservedFip, ObservedLb, ObservedListener, ObservedMonitor, ObservedPool,
    ObservedSg, PortView, Tree, TreeListener, TreePool,
};
use crate::spec::REQUEST_TAG_PREFIX;

/// Load balancer operating statuses that count as healthy for the bulk check (anything else
/// goes through the per-request path, which reads every member's status).
const HEALTHY: &[&str] = &["ONLINE", "NO_MONITOR"];

/// Where the security groups come in (only when the site manages them).
#[derive(Debug, Clone, Default)]
pub struct GroupsWanted {
    /// The member network whose ports carry the groups (`None`: no port is read).
    pub member_network_id: Option<String>,
}

/// Every resource carrying the cluster's tags, grouped per request (by request tag) and per
/// load balancer (by id).
#[derive(Debug, Clone, Default)]
pub struct ClusterView {
    lbs: HashMap<String, Vec<ObservedLb>>,
    deleting: HashMap<String, Vec<String>>,
    listeners: HashMap<String, Vec<ObservedListener>>,
    pools: HashMap<String, Vec<ListedPool>>,
    monitors: HashMap<String, ObservedMonitor>,
    fips: HashMap<String, Vec<ObservedFip>>,
    groups: Option<HashMap<String, Vec<ObservedSg>>>,
    ports: Vec<PortView>,
}

/// A pool as listed: its settings, its member ids, and its member digest tag if it has one.
#[derive(Debug, Clone)]
struct ListedPool {
    pool: ObservedPool,
    member_ids: BTreeSet<String>,
    digest: Option<MemberDigest>,
}

/// One request's slice of a [`ClusterView`], ready for the planner except for the members.
#[derive(Debug, Clone)]
pub struct RequestView {
    /// The observation (its tree's pools have no members yet).
    pub observed: Observed,
    /// Member ids per pool id, as the pool list shows them.
    pub member_ids: HashMap<String, BTreeSet<String>>,
    /// Member digests per pool id, for the pools that carry one.
    pub digests: HashMap<String, MemberDigest>,
}

/// The lists [`ClusterView::from_lists`] groups (what [`ClusterView::list`] fetched).
#[derive(Debug, Default)]
pub struct Lists {
    /// Load balancers.
    pub load_balancers: Vec<load_balancers::LoadBalancer>,
    /// Listeners.
    pub listeners: Vec<listeners::Listener>,
    /// Pools.
    pub pools: Vec<pools::Pool>,
    /// Health monitors.
    pub monitors: Vec<health_monitors::HealthMonitor>,
    /// Floating IPs.
    pub floating_ips: Vec<floating_ips::FloatingIp>,
    /// Security groups (`None`: not managed).
    pub security_groups: Option<Vec<security_groups::SecurityGroup>>,
    /// Member ports.
    pub ports: Vec<PortView>,
}

fn request_tag_of(tags: &[String]) -> Option<&str> {
    tags.iter()
        .find(|t| t.starts_with(REQUEST_TAG_PREFIX))
        .map(String::as_str)
}

impl ClusterView {
    /// Lists every kind once (each list follows its pages), filtered by `tags` (the managed and
    /// cluster tags). Calls: one per page of each kind, plus two when groups are managed.
    ///
    /// # Errors
    /// The first failing list's error (nothing partial is returned).
    pub async fn list(
        session: &Session,
        tags: &[String],
        groups: Option<&GroupsWanted>,
    ) -> Result<ClusterView, Error> {
        let lb_filter = load_balancers::ListLoadBalancers {
            tags: tags.to_vec(),
            ..Default::default()
        };
        let listener_filter = listeners::ListListeners {
            tags: tags.to_vec(),
            ..Default::default()
        };
        let pool_filter = pools::ListPools {
            tags: tags.to_vec(),
            ..Default::default()
        };
        let monitor_filter = health_monitors::ListHealthMonitors {
            tags: tags.to_vec(),
            ..Default::default()
        };
        let fip_filter = floating_ips::ListFloatingIps {
            tags: tags.to_vec(),
            ..Default::default()
        };
        let (load_balancers, listeners, pools, monitors, floating_ips) = tokio::try_join!(
            load_balancers::list(session, &lb_filter),
            listeners::list(session, &listener_filter),
            pools::list(session, &pool_filter),
            health_monitors::list(session, &monitor_filter),
            floating_ips::list(session, &fip_filter),
        )?;
        let mut lists = Lists {
            load_balancers,
            listeners,
            pools,
            monitors,
            floating_ips,
            ..Default::default()
        };
        if let Some(wanted) = groups {
            let sg_filter = security_groups::ListSecurityGroups {
                tags: tags.to_vec(),
                ..Default::default()
            };
            let (groups, ports) = tokio::try_join!(
                security_groups::list(session, &sg_filter),
                cloud::member_ports(session, wanted.member_network_id.as_deref()),
            )?;
            lists.security_groups = Some(groups);
            lists.ports = ports;
        }
        Ok(ClusterView::from_lists(lists))
    }

    /// Groups the lists: load balancers, floating IPs and groups by request tag; listeners
    /// and pools by load balancer id; monitors by id. Pure.
    pub fn from_lists(lists: Lists) -> ClusterView {
        let mut view = ClusterView::default();
        for lb in lists.load_balancers {
            let Some(tag) = request_tag_of(&lb.tags).map(str::to_string) else {
                continue;
            };
            match lb.provisioning_status {
                ProvisioningStatus::PendingDelete | ProvisioningStatus::Deleted => {
                    view.deleting.entry(tag).or_default().push(lb.id)
                }
                _ => view.lbs.entry(tag).or_default().push(cloud::lb_of(lb)),
            }
        }
        for l in lists.listeners {
            for parent in &l.loadbalancers {
                view.listeners
                    .entry(parent.id.clone())
                    .or_default()
                    .push(cloud::listener_of(l.clone()));
            }
        }
        for p in lists.pools {
            let member_ids: BTreeSet<String> = p.members.iter().map(|m| m.id.clone()).collect();
            let parents: Vec<String> = p.loadbalancers.iter().map(|r| r.id.clone()).collect();
            let digest = MemberDigest::from_tags(&p.tags);
            let listed = ListedPool {
                pool: cloud::pool_of(p),
                member_ids,
                digest,
            };
            for parent in parents {
                view.pools.entry(parent).or_default().push(listed.clone());
            }
        }
        for m in lists.monitors {
            let Some(pool) = m.pools.first().map(|r| r.id.clone()) else {
                continue;
            };
            view.monitors
                .insert(m.id.clone(), cloud::monitor_of(m, &pool));
        }
        for f in lists.floating_ips {
            if let Some(tag) = request_tag_of(&f.tags).map(str::to_string) {
                view.fips.entry(tag).or_default().push(cloud::fip_of(f));
            }
        }
        view.groups = lists.security_groups.map(|groups| {
            let mut by_tag: HashMap<String, Vec<ObservedSg>> = HashMap::new();
            for g in groups {
                if let Some(tag) = request_tag_of(&g.tags).map(str::to_string) {
                    by_tag.entry(tag).or_default().push(cloud::sg_of(g));
                }
            }
            by_tag
        });
        view.ports = lists.ports;
        view
    }

    /// The provisioning status of the load balancer found for `request_tag`, if exactly one.
    pub fn lb_status(&self, request_tag: &str) -> Option<&ProvisioningStatus> {
        match self.lbs.get(request_tag).map(Vec::as_slice) {
            Some([lb]) => Some(&lb.provisioning),
            _ => None,
        }
    }

    /// The request's slice, or why the bulk view cannot vouch for it (no load balancer, more
    /// than one, one being deleted, not ACTIVE, not healthy, no security group): the caller
    /// then takes the per-request path.
    pub fn request(&self, request_tag: &str) -> Result<RequestView, String> {
        if let Some(ids) = self.deleting.get(request_tag) {
            return Err(format!("load balancer {} is being deleted", ids.join(", ")));
        }
        let lb = match self.lbs.get(request_tag).map(Vec::as_slice) {
            None | Some([]) => return Err("no load balancer".into()),
            Some([lb]) => lb.clone(),
            Some(many) => return Err(format!("{} load balancers carry its tags", many.len())),
        };
        if lb.provisioning != ProvisioningStatus::Active {
            return Err(format!("load balancer {} is {}", lb.id, lb.provisioning));
        }
        if !HEALTHY.contains(&lb.operating.as_str()) {
            return Err(format!(
                "load balancer {} is operating {}",
                lb.id, lb.operating
            ));
        }
        let listeners = self.listeners.get(&lb.id).cloned().unwrap_or_default();
        let pools = self.pools.get(&lb.id).cloned().unwrap_or_default();
        let mut tree = Tree {
            listeners: listeners
                .iter()
                .map(|l| TreeListener {
                    id: l.id.clone(),
                    name: l.name.clone(),
                    provisioning: l.provisioning.clone(),
                })
                .collect(),
            pools: Vec::new(),
        };
        let mut children = Children {
            listeners,
            ..Default::default()
        };
        let mut member_ids = HashMap::new();
        let mut digests = HashMap::new();
        for ListedPool {
            pool,
            member_ids: ids,
            digest,
        } in pools
        {
            if let Some(d) = digest {
                digests.insert(pool.id.clone(), d);
            }
            let monitor = pool
                .monitor_id
                .as_ref()
                .and_then(|id| self.monitors.get(id))
                .filter(|m| m.pool_id.as_deref() == Some(pool.id.as_str()));
            if let Some(m) = monitor {
                children.monitors.push(m.clone());
            }
            tree.pools.push(TreePool {
                id: pool.id.clone(),
                name: pool.name.clone(),
                provisioning: pool.provisioning.clone(),
                members: Vec::new(),
                monitor: monitor.map(|m| (m.name.clone(), m.kind.clone())),
            });
            member_ids.insert(pool.id.clone(), ids);
            children.pools.push(pool);
        }
        let observed = Observed {
            load_balancers: vec![lb],
            deleting: Vec::new(),
            tree: Some(tree),
            children: Some(children),
            floating_ips: self.fips.get(request_tag).cloned().unwrap_or_default(),
            security_groups: self
                .groups
                .as_ref()
                .map(|g| g.get(request_tag).cloned().unwrap_or_default()),
            ports: self.ports.clone(),
            member_ids: member_ids.clone(),
        };
        Ok(RequestView {
            observed,
            member_ids,
            digests,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn de<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    const TAG_A: &str = "oi-request=aaaa";
    const TAG_B: &str = "oi-request=bbbb";

    fn lb(id: &str, tag: &str, status: &str, operating: &str) -> load_balancers::LoadBalancer {
        de(json!({"id": id, "name": id, "provisioning_status": status,
                  "operating_status": operating, "vip_address": "10.5.0.100",
                  "vip_port_id": format!("port-{id}"), "tags": ["octavia-integrator", tag]}))
    }

    fn lists() -> Lists {
        Lists {
            load_balancers: vec![
                lb("lb-a", TAG_A, "ACTIVE", "ONLINE"),
                lb("lb-b", TAG_B, "ACTIVE", "DEGRADED"),
                lb("old-b", TAG_B, "PENDING_DELETE", "OFFLINE"),
                lb("stray", "oi-cluster=x", "ACTIVE", "ONLINE"),
            ],
            listeners: vec![de(json!({"id": "l-a", "name": "l", "protocol": "TCP",
                "protocol_port": 443, "default_pool_id": "p-a",
                "provisioning_status": "ACTIVE", "operating_status": "ONLINE",
                "loadbalancers": [{"id": "lb-a"}]}))],
            pools: vec![de(json!({"id": "p-a", "name": "p", "protocol": "TCP",
                "lb_algorithm": "ROUND_ROBIN", "provisioning_status": "ACTIVE",
                "operating_status": "ONLINE", "healthmonitor_id": "h-a",
                "loadbalancers": [{"id": "lb-a"}], "members": [{"id": "m1"}, {"id": "m2"}]}))],
            monitors: vec![
                de(
                    json!({"id": "h-a", "name": "h", "type": "TCP", "delay": 10, "timeout": 5,
                    "max_retries": 3, "provisioning_status": "ACTIVE",
                    "operating_status": "ONLINE", "pools": [{"id": "p-a"}]}),
                ),
                // A monitor naming another pool is not taken for p-a's.
                de(
                    json!({"id": "h-x", "name": "x", "type": "TCP", "delay": 10, "timeout": 5,
                    "max_retries": 3, "provisioning_status": "ACTIVE",
                    "operating_status": "ONLINE", "pools": [{"id": "p-x"}]}),
                ),
            ],
            floating_ips: vec![de(
                json!({"id": "f-a", "floating_ip_address": "203.0.113.10",
                "floating_network_id": "ext", "port_id": "port-lb-a", "tags": [TAG_A]}),
            )],
            security_groups: None,
            ports: Vec::new(),
        }
    }

    #[test]
    fn a_request_gets_its_load_balancer_children_and_floating_ip() {
        let view = ClusterView::from_lists(lists());
        let v = view.request(TAG_A).unwrap();
        let o = &v.observed;
        assert_eq!(o.load_balancers.len(), 1);
        assert_eq!(o.load_balancers[0].id, "lb-a");
        let children = o.children.as_ref().unwrap();
        assert_eq!(children.listeners[0].id, "l-a");
        assert_eq!(children.pools[0].id, "p-a");
        assert_eq!(children.monitors.len(), 1);
        assert_eq!(children.monitors[0].id, "h-a");
        let tree = o.tree.as_ref().unwrap();
        assert_eq!(tree.listeners[0].name, "l");
        assert_eq!(
            tree.pools[0].monitor,
            Some((
                "h".into(),
                openstack::load_balancer::enums::MonitorType::Tcp
            ))
        );
        assert!(
            tree.pools[0].members.is_empty(),
            "members come from elsewhere"
        );
        assert_eq!(
            v.member_ids["p-a"],
            BTreeSet::from(["m1".to_string(), "m2".to_string()])
        );
        assert_eq!(o.floating_ips[0].id, "f-a");
        assert_eq!(o.security_groups, None, "groups not managed");
        assert_eq!(view.lb_status(TAG_A), Some(&ProvisioningStatus::Active));
    }

    #[test]
    fn what_the_bulk_view_cannot_vouch_for_says_why() {
        let view = ClusterView::from_lists(lists());
        let why = view.request(TAG_B).unwrap_err();
        assert!(why.contains("old-b") && why.contains("deleted"), "{why}");
        assert!(view
            .request("oi-request=none")
            .unwrap_err()
            .contains("no load balancer"));

        let mut l = lists();
        l.load_balancers.remove(2);
        let why = ClusterView::from_lists(l).request(TAG_B).unwrap_err();
        assert!(why.contains("DEGRADED"), "{why}");

        let mut l = lists();
        l.load_balancers
            .push(lb("lb-a2", TAG_A, "ACTIVE", "ONLINE"));
        let why = ClusterView::from_lists(l).request(TAG_A).unwrap_err();
        assert!(why.contains("2 load balancers"), "{why}");
        assert_eq!(
            ClusterView::from_lists(lists()).lb_status(TAG_B),
            Some(&ProvisioningStatus::Active)
        );

        let mut l = lists();
        l.load_balancers[0] = lb("lb-a", TAG_A, "PENDING_UPDATE", "ONLINE");
        let why = ClusterView::from_lists(l).request(TAG_A).unwrap_err();
        assert!(why.contains("PENDING_UPDATE"), "{why}");
    }

    #[test]
    fn a_pool_s_member_digest_tag_comes_with_its_member_ids() {
        let view = ClusterView::from_lists(lists());
        assert!(
            view.request(TAG_A).unwrap().digests.is_empty(),
            "no tag, no digest"
        );
        let ids = BTreeSet::from(["m1".to_string(), "m2".to_string()]);
        let digest = MemberDigest {
            ids: super::super::digest::ids_hash(&ids),
            members: "0123456789abcdef".into(),
        };
        let mut l = lists();
        l.pools[0].tags = vec!["octavia-integrator".into(), digest.tag()];
        let v = ClusterView::from_lists(l).request(TAG_A).unwrap();
        assert_eq!(v.digests.get("p-a"), Some(&digest));
        assert_eq!(v.member_ids["p-a"], ids);
    }

    #[test]
    fn managed_groups_are_grouped_per_request() {
        let mut l = lists();
        l.security_groups = Some(vec![de(json!({"id": "g-a", "name": "g",
            "tags": ["octavia-integrator", TAG_A], "security_group_rules": []}))]);
        let view = ClusterView::from_lists(l);
        let groups = view
            .request(TAG_A)
            .unwrap()
            .observed
            .security_groups
            .unwrap();
        assert_eq!(groups.len(), 1);
        assert!(groups[0].tagged);
    }
}
