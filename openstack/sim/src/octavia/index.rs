//! One pass over the child tables, so a list of N objects renders their links in O(N) instead
//! of scanning every table once per object (what made lists of 1000 load balancers slow).
//! Every lookup gives the same ids, in the same (table) order, as the per-object scans in
//! `render`.

use std::collections::HashMap;

use serde_json::json;

use crate::state::{links, str_of, Obj, World};

/// Parent → children links of the whole world.
#[derive(Debug, Default)]
pub(crate) struct LinkIndex {
    listeners_of_lb: HashMap<String, Vec<String>>,
    pools_of_lb: HashMap<String, Vec<String>>,
    listeners_of_pool: HashMap<String, Vec<String>>,
    members_of_pool: HashMap<String, Vec<String>>,
    hm_of_pool: HashMap<String, String>,
}

fn ids(map: &HashMap<String, Vec<String>>, key: &str) -> Vec<String> {
    map.get(key).cloned().unwrap_or_default()
}

impl World {
    /// Builds the index (one pass over listeners, pools, members and monitors).
    pub(crate) fn link_index(&self) -> LinkIndex {
        let mut idx = LinkIndex::default();
        for l in self.listeners.iter() {
            let id = str_of(l, "id").to_string();
            idx.listeners_of_lb
                .entry(World::lb_of(l))
                .or_default()
                .push(id.clone());
            let pool = str_of(l, "default_pool_id");
            if !pool.is_empty() {
                idx.listeners_of_pool
                    .entry(pool.to_string())
                    .or_default()
                    .push(id);
            }
        }
        for p in self.pools.iter() {
            idx.pools_of_lb
                .entry(World::lb_of(p))
                .or_default()
                .push(str_of(p, "id").to_string());
        }
        for m in self.members.iter() {
            let id = str_of(m, "id");
            if let Some(pool) = self.member_pool.get(id) {
                idx.members_of_pool
                    .entry(pool.clone())
                    .or_default()
                    .push(id.to_string());
            }
        }
        for h in self.healthmonitors.iter() {
            idx.hm_of_pool
                .entry(World::pool_of_hm(h))
                .or_insert_with(|| str_of(h, "id").to_string());
        }
        idx
    }

    /// `render_lb` with the links from `idx`.
    pub(crate) fn render_lb_indexed(&self, lb: &Obj, idx: &LinkIndex) -> Obj {
        let id = str_of(lb, "id");
        let mut out = lb.clone();
        out.insert("listeners".into(), links(ids(&idx.listeners_of_lb, id)));
        out.insert("pools".into(), links(ids(&idx.pools_of_lb, id)));
        out
    }

    /// `render_pool` with the links from `idx`.
    pub(crate) fn render_pool_indexed(&self, p: &Obj, idx: &LinkIndex) -> Obj {
        let id = str_of(p, "id");
        let mut out = p.clone();
        out.insert("listeners".into(), links(ids(&idx.listeners_of_pool, id)));
        out.insert("members".into(), links(ids(&idx.members_of_pool, id)));
        out.insert("healthmonitor_id".into(), json!(idx.hm_of_pool.get(id)));
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::config::SimConfig;
    use crate::faults::FaultPlan;
    use crate::state::World;
    use serde_json::json;

    #[test]
    fn indexed_renders_equal_the_per_object_ones() {
        let mut w = World::new(SimConfig::new(3), FaultPlan::default());
        let ids = crate::seed::seed(&mut w);
        for n in 0..3 {
            let body = json!({"name": format!("lb{n}"), "vip_subnet_id": ids.vip_subnet_id,
                "listeners": [{"name": "l", "protocol": "TCP", "protocol_port": 443,
                    "default_pool": {"name": "p", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
                        "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3},
                        "members": [{"address": "10.5.0.10", "protocol_port": 6443},
                                    {"address": "10.5.0.11", "protocol_port": 6443}]}}]});
            w.create_lb(body.as_object().unwrap()).unwrap();
        }
        let idx = w.link_index();
        assert_eq!(w.pools.iter().count(), 3);
        for lb in w.loadbalancers.iter() {
            assert_eq!(w.render_lb_indexed(lb, &idx), w.render_lb(lb));
        }
        for p in w.pools.iter() {
            let full = w.render_pool(p);
            assert_eq!(full["members"].as_array().unwrap().len(), 2);
            assert!(full["healthmonitor_id"].is_string());
            assert_eq!(w.render_pool_indexed(p, &idx), full);
        }
    }
}
