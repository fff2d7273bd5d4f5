//! Listeners, pools, members (incl. batch update) and health monitors: create, update, delete.
//! Every change puts the parent load balancer in PENDING_UPDATE until the provider is done.

use serde_json::{json, Value};

use super::build::{HM_KEYS, POOL_KEYS};
use super::input::*;
use super::kind::{mark, not_found, Kind};
use super::members::member_changes;
use crate::config::Provider;
use crate::http::{octavia_err, ApiError};
use crate::state::{stamp, str_of, Obj, OpKind, World};

impl World {
    /// The load balancer and (for members/monitors) the pool a child hangs off.
    pub(crate) fn owner(&self, kind: Kind, id: &str) -> Result<(String, Option<String>), ApiError> {
        let o = kind
            .table(self)
            .get(id)
            .ok_or_else(|| not_found(kind, id))?;
        Ok(match kind {
            Kind::Listener | Kind::Pool => (World::lb_of(o), None),
            Kind::Member => {
                let pool = self.member_pool.get(id).cloned().unwrap_or_default();
                let lb = self.pools.get(&pool).map(World::lb_of).unwrap_or_default();
                (lb, Some(pool))
            }
            Kind::Monitor => {
                let pool = World::pool_of_hm(o);
                let lb = self.pools.get(&pool).map(World::lb_of).unwrap_or_default();
                (lb, Some(pool))
            }
        })
    }

    /// Put the parents of a changing child in PENDING_UPDATE and start the change.
    pub(crate) fn touch(&mut self, lb: &str, pool: Option<&str>) {
        if let Some(p) = pool.and_then(|p| self.pools.get_mut(p)) {
            mark(p, "PENDING_UPDATE");
        }
        self.begin(lb, OpKind::Update);
    }

    /// `POST /listeners`.
    pub(crate) fn create_listener(&mut self, input: &Obj) -> Result<Obj, ApiError> {
        let lb = req_str(input, "loadbalancer_id")?;
        if !self.loadbalancers.contains(&lb) {
            return Err(validation(format!("Load Balancer {lb} not found.")));
        }
        self.lb_mutable(&lb)?;
        self.octavia_quota_check("listener", 1)?;
        let p = self.provider_of(&lb);
        let mut plain = input.clone();
        plain.remove("loadbalancer_id");
        let dp_in = plain.remove("default_pool");
        let dp_id = opt_str(&plain, "default_pool_id")?;
        plain.remove("default_pool_id");
        let mut l = self.build_listener(&plain, &lb, p)?;
        let lid = str_of(&l, "id").to_string();
        if let Some(pid) = dp_id {
            self.check_default_pool(&pid, &lb, str_of(&l, "protocol"))?;
            l.insert("default_pool_id".into(), json!(pid));
        }
        if dp_in.is_some_and(|dp| !dp.is_null()) {
            // Octavia 19 hands the nested pool to its database layer as a plain dict: the
            // request fails with a 500 and nothing is created (only the load balancer's fully
            // populated create builds children). Clients must create the pool on its own.
            return Err(nested_create_fails());
        }
        self.listeners.insert(l);
        self.touch(&lb, None);
        Ok(self.listeners.get(&lid).cloned().unwrap_or_default())
    }

    fn check_default_pool(
        &self,
        pid: &str,
        lb: &str,
        listener_protocol: &str,
    ) -> Result<(), ApiError> {
        let pool = self
            .pools
            .get(pid)
            .ok_or_else(|| validation(format!("Pool {pid} not found.")))?;
        if World::lb_of(pool) != lb {
            return Err(validation(format!(
                "Pool {pid} is on another load balancer."
            )));
        }
        if !listener_accepts_pool(listener_protocol, str_of(pool, "protocol")) {
            return Err(validation(format!(
                "The pool protocol '{}' is invalid while the listener protocol is '{listener_protocol}'.",
                str_of(pool, "protocol")
            )));
        }
        Ok(())
    }

    /// `POST /pools`.
    pub(crate) fn create_pool(&mut self, input: &Obj) -> Result<Obj, ApiError> {
        only(input, "pool", POOL_KEYS)?;
        let listener = opt_str(input, "listener_id")?;
        let lb_in = opt_str(input, "loadbalancer_id")?;
        let (lb, lproto) = match (&listener, &lb_in) {
            (Some(l), _) => {
                let lo = self
                    .listeners
                    .get(l)
                    .ok_or_else(|| validation(format!("Listener {l} not found.")))?;
                if !str_of(lo, "default_pool_id").is_empty() {
                    return Err(octavia_err(409, "This listener already has a default pool"));
                }
                (World::lb_of(lo), Some(str_of(lo, "protocol").to_string()))
            }
            (None, Some(lb)) => {
                if !self.loadbalancers.contains(lb) {
                    return Err(validation(format!("Load Balancer {lb} not found.")));
                }
                (lb.clone(), None)
            }
            (None, None) => {
                return Err(validation(
                    "Either listener_id or loadbalancer_id must be specified.",
                ))
            }
        };
        self.lb_mutable(&lb)?;
        self.octavia_quota_check("pool", 1)?;
        let p = self.provider_of(&lb);
        let mut plain = input.clone();
        let members = plain.remove("members");
        let monitor = plain.remove("healthmonitor");
        for k in ["listener_id", "loadbalancer_id"] {
            plain.remove(k);
        }
        let pool = self.build_pool(&plain, &lb, lproto.as_deref(), p)?;
        let has_members = members
            .as_ref()
            .and_then(Value::as_array)
            .is_some_and(|m| !m.is_empty());
        if has_members || monitor.is_some_and(|m| !m.is_null()) {
            // As for a listener's nested pool: Octavia 19 answers 500 and creates nothing
            // (`members: []` is accepted).
            return Err(nested_create_fails());
        }
        let pid = str_of(&pool, "id").to_string();
        self.pools.insert(pool);
        if let Some(l) = listener.and_then(|l| self.listeners.get_mut(&l)) {
            l.insert("default_pool_id".into(), json!(pid));
            mark(l, "PENDING_UPDATE");
        }
        self.touch(&lb, None);
        let pool = self.pools.get(&pid).cloned().unwrap_or_default();
        Ok(self.render_pool(&pool))
    }

    /// `POST /healthmonitors`.
    pub(crate) fn create_hm(&mut self, input: &Obj) -> Result<Obj, ApiError> {
        only(input, "healthmonitor", HM_KEYS)?;
        let pool = req_str(input, "pool_id")?;
        let po = self
            .pools
            .get(&pool)
            .ok_or_else(|| validation(format!("Pool {pool} not found.")))?;
        let proto = str_of(po, "protocol").to_string();
        self.pool_mutable(&pool)?;
        if self.hm_of_pool(&pool).is_some() {
            return Err(octavia_err(409, "This pool already has a health monitor"));
        }
        self.octavia_quota_check("healthmonitor", 1)?;
        let lb = self.pools.get(&pool).map(World::lb_of).unwrap_or_default();
        let p = self.provider_of(&lb);
        let mut plain = input.clone();
        plain.remove("pool_id");
        let hm = self.build_hm(&plain, &pool, &proto, p)?;
        let id = str_of(&hm, "id").to_string();
        self.healthmonitors.insert(hm);
        self.touch(&lb, Some(&pool));
        Ok(self.healthmonitors.get(&id).cloned().unwrap_or_default())
    }

    /// `PUT` on a child: only updatable fields; parent must be ACTIVE.
    pub(crate) fn update_child(
        &mut self,
        kind: Kind,
        id: &str,
        input: &Obj,
    ) -> Result<Obj, ApiError> {
        let (lb, pool) = self.owner(kind, id)?;
        match &pool {
            Some(p) => self.pool_mutable(p)?,
            None => self.lb_mutable(&lb)?,
        }
        let p = self.provider_of(&lb);
        let changes = match kind {
            Kind::Member => member_update(p, input)?,
            Kind::Listener => self.listener_update(id, &lb, p, input)?,
            Kind::Pool => pool_update(p, input)?,
            Kind::Monitor => monitor_update(input)?,
        };
        let o = kind
            .table_mut(self)
            .get_mut(id)
            .ok_or_else(|| not_found(kind, id))?;
        for (k, v) in changes {
            o.insert(k, v);
        }
        o.insert("updated_at".into(), json!(stamp::octavia()));
        mark(o, "PENDING_UPDATE");
        self.touch(&lb, pool.as_deref());
        let o = kind.table(self).get(id).cloned().unwrap_or_default();
        Ok(if kind == Kind::Pool {
            self.render_pool(&o)
        } else {
            o
        })
    }

    /// A listener update's changes: updatable fields only, no `allowed_cidrs` on OVN, a new
    /// default pool that fits, timeouts and limits in range.
    fn listener_update(
        &self,
        id: &str,
        lb: &str,
        p: Provider,
        input: &Obj,
    ) -> Result<Changes, ApiError> {
        only(input, "listener", LISTENER_UPDATABLE)?;
        if input.get("allowed_cidrs").is_some_and(|v| !v.is_null()) && p == Provider::Ovn {
            return Err(unsupported(
                p,
                "OVN provider does not support allowed_cidrs option",
            ));
        }
        if let Some(pid) = input.get("default_pool_id").and_then(Value::as_str) {
            let proto = self
                .listeners
                .get(id)
                .map(|l| str_of(l, "protocol").to_string())
                .unwrap_or_default();
            self.check_default_pool(pid, lb, &proto)?;
        }
        for k in [
            "connection_limit",
            "timeout_client_data",
            "timeout_member_connect",
            "timeout_member_data",
            "timeout_tcp_inspect",
        ] {
            opt_int(input, k, -1, 2_073_600_000)?;
        }
        Ok(input.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    /// `DELETE` on a child: PENDING_DELETE until the provider is done.
    pub(crate) fn delete_child(&mut self, kind: Kind, id: &str) -> Result<(), ApiError> {
        let (lb, pool) = self.owner(kind, id)?;
        match &pool {
            Some(p) => self.pool_mutable(p)?,
            None => self.lb_mutable(&lb)?,
        }
        if kind == Kind::Pool {
            let members = self.members_of_pool(id);
            for m in members {
                if let Some(o) = self.members.get_mut(&m) {
                    mark(o, "PENDING_DELETE");
                }
            }
        }
        if let Some(o) = kind.table_mut(self).get_mut(id) {
            mark(o, "PENDING_DELETE");
        }
        self.touch(&lb, pool.as_deref());
        Ok(())
    }
}

/// What Octavia 19 answers to a listener or pool created on its own with nested children
/// (a `default_pool`, `members` or a `healthmonitor`): its database layer is handed plain
/// dicts, the request fails with 500 and nothing is created.
pub(crate) fn nested_create_fails() -> ApiError {
    octavia_err(500, "'dict' object has no attribute '_sa_instance_state'")
}

/// The fields an update writes, in the order given.
type Changes = Vec<(String, Value)>;

/// What a listener `PUT` may change.
const LISTENER_UPDATABLE: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "connection_limit",
    "default_pool_id",
    "insert_headers",
    "timeout_client_data",
    "timeout_member_connect",
    "timeout_member_data",
    "timeout_tcp_inspect",
    "tags",
    "default_tls_container_ref",
    "sni_container_refs",
    "client_authentication",
    "client_ca_tls_container_ref",
    "client_crl_container_ref",
    "allowed_cidrs",
    "tls_ciphers",
    "tls_versions",
    "alpn_protocols",
    "hsts_max_age",
    "hsts_include_subdomains",
    "hsts_preload",
];

/// What a pool `PUT` may change.
const POOL_UPDATABLE: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "lb_algorithm",
    "session_persistence",
    "tags",
    "tls_enabled",
    "tls_container_ref",
    "ca_tls_container_ref",
    "crl_container_ref",
    "tls_ciphers",
    "tls_versions",
    "alpn_protocols",
];

/// What a health monitor `PUT` may change.
const HM_UPDATABLE: &[&str] = &[
    "name",
    "delay",
    "timeout",
    "max_retries",
    "max_retries_down",
    "http_method",
    "url_path",
    "expected_codes",
    "http_version",
    "domain_name",
    "admin_state_up",
    "tags",
];

/// A member update's changes (no monitor options on OVN).
fn member_update(p: Provider, input: &Obj) -> Result<Changes, ApiError> {
    if p == Provider::Ovn
        && (input.contains_key("monitor_address") || input.contains_key("monitor_port"))
    {
        return Err(unsupported(
            p,
            "OVN provider does not support monitor options",
        ));
    }
    member_changes(input)
}

/// A pool update's changes: updatable fields only, an algorithm and a persistence the provider
/// supports.
fn pool_update(p: Provider, input: &Obj) -> Result<Changes, ApiError> {
    only(input, "pool", POOL_UPDATABLE)?;
    if let Some(a) = enum_of(input, "lb_algorithm", ALGORITHMS)? {
        provider_algorithm(p, &a)?;
    }
    if let Some(Value::Object(sp)) = input.get("session_persistence") {
        if let Some(t) = enum_of(sp, "type", PERSISTENCE)? {
            provider_persistence(p, &t)?;
        }
    }
    Ok(input.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// A health monitor update's changes: updatable fields only, numbers in range (stored as
/// validated numbers), `admin_state_up` a boolean.
fn monitor_update(input: &Obj) -> Result<Changes, ApiError> {
    only(input, "healthmonitor", HM_UPDATABLE)?;
    let mut out = Vec::new();
    for (k, v) in input {
        let v = match k.as_str() {
            "delay" | "timeout" => json!(opt_int(input, k, 0, i64::from(i32::MAX))?),
            "max_retries" | "max_retries_down" => json!(opt_int(input, k, 1, 10)?),
            "admin_state_up" => json!(opt_bool(input, k)?),
            _ => v.clone(),
        };
        out.push((k.clone(), v));
    }
    Ok(out)
}
