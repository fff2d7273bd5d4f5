//! A snapshot of every resource, as the API would render it (tests, benches, `/_sim/snapshot`).

use serde::Serialize;
use serde_json::Value;

use super::neutron::Coll;
use super::state::{self, World};

/// Every resource the simulator holds, as the API would render it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    /// Octavia load balancers.
    pub load_balancers: Vec<Value>,
    /// Listeners.
    pub listeners: Vec<Value>,
    /// Pools.
    pub pools: Vec<Value>,
    /// Members (each with an extra `pool_id`).
    pub members: Vec<Value>,
    /// Health monitors.
    pub health_monitors: Vec<Value>,
    /// Neutron networks.
    pub networks: Vec<Value>,
    /// Subnets.
    pub subnets: Vec<Value>,
    /// Ports.
    pub ports: Vec<Value>,
    /// Floating IPs.
    pub floating_ips: Vec<Value>,
    /// Security groups (with rules).
    pub security_groups: Vec<Value>,
    /// Security group rules.
    pub security_group_rules: Vec<Value>,
}

impl Snapshot {
    pub(crate) fn of(w: &World) -> Snapshot {
        let vals = |v: Vec<state::Obj>| v.into_iter().map(Value::Object).collect::<Vec<_>>();
        Snapshot {
            load_balancers: vals(w.loadbalancers.iter().map(|o| w.render_lb(o)).collect()),
            listeners: vals(w.listeners.iter().cloned().collect()),
            pools: vals(w.pools.iter().map(|o| w.render_pool(o)).collect()),
            members: vals(
                w.members
                    .iter()
                    .map(|m| {
                        let mut m = m.clone();
                        let pool = w.member_pool.get(state::str_of(&m, "id")).cloned();
                        m.insert("pool_id".into(), Value::from(pool));
                        m
                    })
                    .collect(),
            ),
            health_monitors: vals(w.healthmonitors.iter().cloned().collect()),
            networks: vals(Coll::Networks.render_all(w)),
            subnets: vals(Coll::Subnets.render_all(w)),
            ports: vals(Coll::Ports.render_all(w)),
            floating_ips: vals(Coll::FloatingIps.render_all(w)),
            security_groups: vals(Coll::SecurityGroups.render_all(w)),
            security_group_rules: vals(Coll::Rules.render_all(w)),
        }
    }

    /// Resources of any kind carrying `tag`: (kind, id) pairs.
    pub fn tagged(&self, tag: &str) -> Vec<(&'static str, String)> {
        let kinds: [(&'static str, &Vec<Value>); 9] = [
            ("loadbalancer", &self.load_balancers),
            ("listener", &self.listeners),
            ("pool", &self.pools),
            ("member", &self.members),
            ("healthmonitor", &self.health_monitors),
            ("port", &self.ports),
            ("floatingip", &self.floating_ips),
            ("security_group", &self.security_groups),
            ("security_group_rule", &self.security_group_rules),
        ];
        let mut out = Vec::new();
        for (kind, items) in kinds {
            for o in items {
                let has = o["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|x| x.as_str() == Some(tag)));
                if has {
                    out.push((kind, o["id"].as_str().unwrap_or_default().to_string()));
                }
            }
        }
        out
    }
}
