//! The provisioning status machine, evaluated lazily: every request first calls [`World::tick`],
//! which completes the changes whose (scaled) delay has passed.
//!
//! PENDING_CREATE/PENDING_UPDATE → ACTIVE (or ERROR when a fault says so), PENDING_DELETE → gone.

use serde_json::{json, Value};
use tokio::time::Instant;

use crate::config::Provider;
use crate::http::{octavia_err, ApiError};
use crate::state::{stamp, str_of, Obj, Op, OpKind, World};

fn status(o: &Obj) -> &str {
    str_of(o, "provisioning_status")
}

fn set(o: &mut Obj, prov: &str) {
    o.insert("provisioning_status".into(), json!(prov));
}

impl World {
    /// The provider of a load balancer.
    pub(crate) fn provider_of(&self, lb: &str) -> Provider {
        self.loadbalancers
            .get(lb)
            .and_then(|o| Provider::from_wire(str_of(o, "provider")))
            .unwrap_or(self.config.default_provider)
    }

    /// Start a change on a load balancer: it completes after the provider's delay.
    pub(crate) fn begin(&mut self, lb: &str, kind: OpKind) {
        let d = self.faults.delays(self.provider_of(lb));
        let secs = match kind {
            OpKind::Create => d.create,
            OpKind::Update => d.update,
            OpKind::Delete => d.delete,
            OpKind::Failover => d.failover,
        };
        let due = Instant::now() + self.scaled(secs);
        if let Some(o) = self.loadbalancers.get_mut(lb) {
            let prov = match kind {
                OpKind::Create => "PENDING_CREATE",
                OpKind::Delete => "PENDING_DELETE",
                OpKind::Update | OpKind::Failover => "PENDING_UPDATE",
            };
            set(o, prov);
            if kind != OpKind::Create {
                o.insert("updated_at".into(), json!(stamp::octavia()));
            }
        }
        self.ops.insert(lb.to_string(), Op { kind, due });
    }

    /// 409 unless the load balancer is ACTIVE (child changes).
    pub(crate) fn lb_mutable(&self, lb: &str) -> Result<(), ApiError> {
        let o = self
            .loadbalancers
            .get(lb)
            .ok_or_else(|| octavia_err(404, format!("Load Balancer {lb} not found.")))?;
        if status(o) != "ACTIVE" {
            return Err(octavia_err(
                409,
                format!("Load Balancer {lb} is immutable and cannot be updated."),
            ));
        }
        Ok(())
    }

    /// 409 unless the pool is ACTIVE (member and monitor changes).
    pub(crate) fn pool_mutable(&self, pool: &str) -> Result<(), ApiError> {
        let o = self
            .pools
            .get(pool)
            .ok_or_else(|| octavia_err(404, format!("Pool {pool} not found.")))?;
        self.lb_mutable(&World::lb_of(o))?;
        if status(o) != "ACTIVE" {
            return Err(octavia_err(
                409,
                format!("Pool {pool} is immutable and cannot be updated."),
            ));
        }
        Ok(())
    }

    /// Complete every change whose time has come, and apply idle "goes ERROR" faults.
    pub(crate) fn tick(&mut self) {
        let now = Instant::now();
        let due: Vec<(String, OpKind)> = self
            .ops
            .iter()
            .filter(|(_, op)| op.due <= now)
            .map(|(id, op)| (id.clone(), op.kind))
            .collect();
        for (id, kind) in due {
            self.ops.remove(&id);
            self.complete(&id, kind);
        }
        if self.faults.plan.lb_errors.is_empty() {
            return;
        }
        let idle: Vec<(String, String)> = self
            .loadbalancers
            .iter()
            .filter(|o| status(o) == "ACTIVE")
            .map(|o| (str_of(o, "id").to_string(), str_of(o, "name").to_string()))
            .collect();
        for (id, name) in idle {
            if self.faults.lb_goes_error(&id, &name) {
                if let Some(o) = self.loadbalancers.get_mut(&id) {
                    set(o, "ERROR");
                    o.insert("operating_status".into(), json!("ERROR"));
                }
            }
        }
    }

    /// All child ids of a load balancer: (listeners, pools, members, monitors).
    pub(crate) fn children(
        &self,
        lb: &str,
    ) -> (Vec<String>, Vec<String>, Vec<String>, Vec<String>) {
        let listeners = self.listeners_of_lb(lb);
        let pools = self.pools_of_lb(lb);
        let members = pools.iter().flat_map(|p| self.members_of_pool(p)).collect();
        let hms = pools.iter().filter_map(|p| self.hm_of_pool(p)).collect();
        (listeners, pools, members, hms)
    }

    /// Remove a load balancer and everything under it, releasing its VIP port.
    pub(crate) fn purge_lb(&mut self, lb: &str) {
        let (listeners, pools, members, hms) = self.children(lb);
        for id in listeners {
            self.listeners.remove(&id);
        }
        for id in pools {
            self.pools.remove(&id);
        }
        for id in members {
            self.members.remove(&id);
            self.member_pool.remove(&id);
        }
        for id in hms {
            self.healthmonitors.remove(&id);
        }
        if let Some(o) = self.loadbalancers.remove(lb) {
            let port = str_of(&o, "vip_port_id").to_string();
            self.release_port(&port);
        }
    }

    fn complete(&mut self, lb: &str, kind: OpKind) {
        if kind == OpKind::Delete {
            self.purge_lb(lb);
            return;
        }
        let name = self
            .loadbalancers
            .get(lb)
            .map(|o| str_of(o, "name").to_string())
            .unwrap_or_default();
        let error = self.faults.lb_goes_error(lb, &name);
        self.drop_deleted_children(lb);
        // Everything pending becomes ACTIVE (or ERROR when a create fails).
        let child_final = if error && kind == OpKind::Create {
            "ERROR"
        } else {
            "ACTIVE"
        };
        self.settle_children(lb, child_final);
        self.settle_lb(lb, error);
    }

    /// Children being deleted go away (a pool with its members and monitor, and listeners
    /// stop naming it as their default pool).
    fn drop_deleted_children(&mut self, lb: &str) {
        let (listeners, pools, members, hms) = self.children(lb);
        let gone = |o: Option<&Obj>| o.is_some_and(|o| status(o) == "PENDING_DELETE");
        for id in &members {
            if gone(self.members.get(id)) {
                self.members.remove(id);
                self.member_pool.remove(id);
            }
        }
        for id in &hms {
            if gone(self.healthmonitors.get(id)) {
                self.healthmonitors.remove(id);
            }
        }
        for id in &pools {
            if gone(self.pools.get(id)) {
                let pool_members = self.members_of_pool(id);
                for m in pool_members {
                    self.members.remove(&m);
                    self.member_pool.remove(&m);
                }
                if let Some(h) = self.hm_of_pool(id) {
                    self.healthmonitors.remove(&h);
                }
                self.pools.remove(id);
                for l in self.listeners.iter_mut() {
                    if str_of(l, "default_pool_id") == id {
                        l.insert("default_pool_id".into(), Value::Null);
                    }
                }
            }
        }
        for id in &listeners {
            if gone(self.listeners.get(id)) {
                self.listeners.remove(id);
            }
        }
    }

    /// Pending children become `child_final`; operating status follows admin state and,
    /// for members, whether their pool has a monitor.
    fn settle_children(&mut self, lb: &str, child_final: &str) {
        let (listeners, pools, members, hms) = self.children(lb);
        let monitored: Vec<String> = pools
            .iter()
            .filter(|p| self.hm_of_pool(p).is_some())
            .cloned()
            .collect();
        for id in &members {
            let pool = self.member_pool.get(id).cloned().unwrap_or_default();
            let has_hm = monitored.contains(&pool);
            if let Some(m) = self.members.get_mut(id) {
                if status(m).starts_with("PENDING") {
                    set(m, child_final);
                }
                let op = if !admin_up(m) {
                    "OFFLINE"
                } else if has_hm {
                    "ONLINE"
                } else {
                    "NO_MONITOR"
                };
                m.insert("operating_status".into(), json!(op));
            }
        }
        for table in [
            &mut self.listeners,
            &mut self.pools,
            &mut self.healthmonitors,
        ] {
            for id in listeners.iter().chain(pools.iter()).chain(hms.iter()) {
                if let Some(o) = table.get_mut(id) {
                    if status(o).starts_with("PENDING") {
                        set(o, child_final);
                    }
                    let op = if admin_up(o) { "ONLINE" } else { "OFFLINE" };
                    o.insert("operating_status".into(), json!(op));
                }
            }
        }
    }

    /// The load balancer itself: ERROR when the fault plan says so, else ACTIVE.
    fn settle_lb(&mut self, lb: &str, error: bool) {
        if let Some(o) = self.loadbalancers.get_mut(lb) {
            if error {
                set(o, "ERROR");
                o.insert("operating_status".into(), json!("ERROR"));
            } else {
                set(o, "ACTIVE");
                let op = if admin_up(o) { "ONLINE" } else { "OFFLINE" };
                o.insert("operating_status".into(), json!(op));
            }
        }
    }
}

/// `admin_state_up`, true when absent.
fn admin_up(o: &Obj) -> bool {
    o.get("admin_state_up")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}
