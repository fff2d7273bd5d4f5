//! The simulated cloud's memory: tables of JSON objects, deterministic ids, clocks and quotas.
//!
//! Objects are stored in their upstream JSON shape (minus the link arrays that are computed when
//! rendered), so the simulator never shares a type with the client.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::config::SimConfig;
use super::faults::{FaultPlan, FaultState};
use super::ids::Ids;

/// A JSON object as stored by the simulator.
pub(crate) type Obj = Map<String, Value>;

/// An insertion-ordered table of JSON objects keyed by their `id`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Table {
    rows: BTreeMap<u64, Obj>,
    index: HashMap<String, u64>,
    next: u64,
}

impl Table {
    /// Insert (or replace) an object; its `id` field is the key.
    pub(crate) fn insert(&mut self, obj: Obj) {
        let id = str_of(&obj, "id").to_string();
        if let Some(seq) = self.index.get(&id) {
            self.rows.insert(*seq, obj);
            return;
        }
        self.next += 1;
        self.index.insert(id, self.next);
        self.rows.insert(self.next, obj);
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Obj> {
        self.index.get(id).and_then(|seq| self.rows.get(seq))
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Obj> {
        match self.index.get(id) {
            Some(seq) => self.rows.get_mut(seq),
            None => None,
        }
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<Obj> {
        let seq = self.index.remove(id)?;
        self.rows.remove(&seq)
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Obj> {
        self.rows.values()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Obj> {
        self.rows.values_mut()
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }
}

/// A string field of an object, or `""`.
pub(crate) fn str_of<'a>(obj: &'a Obj, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Real time for `sim_secs` × `scale`, clamped to [0, 10 years] (bad input never panics).
pub(crate) fn scaled(sim_secs: f64, scale: f64) -> Duration {
    let secs = sim_secs * scale;
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(secs.min(315_360_000.0)).unwrap_or(Duration::ZERO)
}

/// A field of an object (`null` when absent) — never panics, unlike `Map` indexing.
pub(crate) fn field(obj: &Obj, key: &str) -> Value {
    obj.get(key).cloned().unwrap_or(Value::Null)
}

/// The ids in a `[{"id": ...}]` link array.
pub(crate) fn link_ids(obj: &Obj, key: &str) -> Vec<String> {
    obj.get(key)
        .and_then(Value::as_array)
        .map(|links| {
            links
                .iter()
                .filter_map(|l| l.get("id").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `[{"id": a}, {"id": b}]`.
pub(crate) fn links<I: IntoIterator<Item = String>>(ids: I) -> Value {
    Value::Array(
        ids.into_iter()
            .map(|id| serde_json::json!({ "id": id }))
            .collect(),
    )
}

/// Wall-clock timestamps in each service's own format.
pub(crate) mod stamp {
    /// Octavia: naive UTC, no zone suffix.
    pub(crate) fn octavia() -> String {
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string()
    }
    /// Neutron: seconds and `Z`.
    pub(crate) fn neutron() -> String {
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
    /// Keystone: microseconds and `Z`, `offset` seconds from now.
    pub(crate) fn keystone(offset: chrono::Duration) -> String {
        (chrono::Utc::now() + offset)
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
    }
}

/// What kind of change is in flight on a load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// The load balancer (and any children sent with it) is being created.
    Create,
    /// The load balancer or one of its children is changing.
    Update,
    /// The load balancer is being deleted (with its children).
    Delete,
    /// An amphora failover.
    Failover,
}

/// A change in flight on one load balancer; it completes when `due` has passed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Op {
    pub(crate) kind: OpKind,
    pub(crate) due: Instant,
}

/// A Keystone token the simulator issued.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) project_id: Option<String>,
    pub(crate) expires: Instant,
    pub(crate) expires_at: String,
    pub(crate) body: Value,
    pub(crate) revoked: bool,
}

/// Everything the simulated cloud holds.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) config: SimConfig,
    pub(crate) ids: Ids,
    /// Keystone (tokens come from their own random stream, so resource ids do not depend on
    /// how often a client authenticates).
    pub(crate) tokens: HashMap<String, Token>,
    pub(crate) token_ids: Ids,
    /// `x-openstack-request-id` values (their own stream too).
    pub(crate) request_ids: Ids,
    pub(crate) project_id: String,
    pub(crate) user_id: String,
    pub(crate) app_cred_id: String,
    /// Octavia.
    pub(crate) loadbalancers: Table,
    pub(crate) listeners: Table,
    pub(crate) pools: Table,
    pub(crate) members: Table,
    pub(crate) healthmonitors: Table,
    /// member id → pool id (members carry no pool id in their JSON).
    pub(crate) member_pool: HashMap<String, String>,
    /// load balancer id → change in flight.
    pub(crate) ops: HashMap<String, Op>,
    /// Octavia quotas per resource (`loadbalancer`, `listener`, `pool`, `member`, `healthmonitor`); -1 = unlimited.
    pub(crate) octavia_quota: BTreeMap<String, i64>,
    /// Neutron.
    pub(crate) networks: Table,
    pub(crate) subnets: Table,
    pub(crate) ports: Table,
    pub(crate) floatingips: Table,
    pub(crate) security_groups: Table,
    pub(crate) security_group_rules: Table,
    /// Neutron quotas per resource (`floatingip`, `port`, `security_group`, `security_group_rule`); -1 = unlimited.
    pub(crate) neutron_quota: BTreeMap<String, i64>,
    /// The router that joins the VIP network to the external network (`router_id` of floating IPs).
    pub(crate) router_id: String,
    /// Faults in force.
    pub(crate) faults: FaultState,
}

impl World {
    pub(crate) fn new(config: SimConfig, plan: FaultPlan) -> Self {
        let seed = config.seed;
        let mut ids = Ids::new(seed);
        let project_id = ids.hex32();
        let user_id = ids.hex32();
        let app_cred_id = ids.hex32();
        let router_id = ids.uuid();
        let octavia_quota = config.octavia_quota.clone();
        let neutron_quota = config.neutron_quota.clone();
        let faults = FaultState::new(plan, seed);
        World {
            config,
            ids,
            tokens: HashMap::new(),
            token_ids: Ids::new(seed ^ 0x70_6b_65_6e),
            request_ids: Ids::new(seed ^ 0x72_65_71),
            project_id,
            user_id,
            app_cred_id,
            loadbalancers: Table::default(),
            listeners: Table::default(),
            pools: Table::default(),
            members: Table::default(),
            healthmonitors: Table::default(),
            member_pool: HashMap::new(),
            ops: HashMap::new(),
            octavia_quota,
            networks: Table::default(),
            subnets: Table::default(),
            ports: Table::default(),
            floatingips: Table::default(),
            security_groups: Table::default(),
            security_group_rules: Table::default(),
            neutron_quota,
            router_id,
            faults,
        }
    }

    /// Real time for `sim_secs` simulated seconds.
    pub(crate) fn scaled(&self, sim_secs: f64) -> Duration {
        scaled(sim_secs, self.config.delay_scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_never_panics_on_bad_numbers() {
        assert_eq!(scaled(f64::NAN, 1.0), Duration::ZERO);
        assert_eq!(scaled(-5.0, 1.0), Duration::ZERO);
        assert_eq!(scaled(1e300, 1.0), Duration::from_secs(315_360_000));
        assert_eq!(scaled(90.0, 0.001), Duration::from_millis(90));
    }

    #[test]
    fn table_keeps_insertion_order_and_replaces_by_id() {
        let mut t = Table::default();
        for id in ["b", "a", "c"] {
            let mut o = Obj::new();
            o.insert("id".into(), Value::from(id));
            t.insert(o);
        }
        let mut again = Obj::new();
        again.insert("id".into(), Value::from("a"));
        again.insert("x".into(), Value::from(1));
        t.insert(again);
        let ids: Vec<&str> = t.iter().map(|o| str_of(o, "id")).collect();
        assert_eq!(ids, ["b", "a", "c"]);
        assert_eq!(t.get("a").and_then(|o| o.get("x")), Some(&Value::from(1)));
        assert!(t.remove("b").is_some());
        assert_eq!(t.len(), 2);
    }
}
