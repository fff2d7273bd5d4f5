//! Octavia objects as the API renders them (link arrays computed from the tables).

use serde_json::{json, Value};

use crate::state::{link_ids, links, str_of, Obj, World};

/// Load balancer fields (filters).
pub(crate) const LB_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "provisioning_status",
    "operating_status",
    "admin_state_up",
    "project_id",
    "tenant_id",
    "created_at",
    "updated_at",
    "vip_address",
    "vip_port_id",
    "vip_subnet_id",
    "vip_network_id",
    "vip_qos_policy_id",
    "additional_vips",
    "vip_sg_ids",
    "provider",
    "flavor_id",
    "availability_zone",
    "tags",
    "vip_vnic_type",
    "listeners",
    "pools",
];
/// Listener fields.
pub(crate) const LISTENER_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "provisioning_status",
    "operating_status",
    "admin_state_up",
    "protocol",
    "protocol_port",
    "connection_limit",
    "default_tls_container_ref",
    "sni_container_refs",
    "project_id",
    "tenant_id",
    "default_pool_id",
    "l7policies",
    "insert_headers",
    "created_at",
    "updated_at",
    "loadbalancers",
    "timeout_client_data",
    "timeout_member_connect",
    "timeout_member_data",
    "timeout_tcp_inspect",
    "tags",
    "client_ca_tls_container_ref",
    "client_authentication",
    "client_crl_container_ref",
    "allowed_cidrs",
    "tls_ciphers",
    "tls_versions",
    "alpn_protocols",
    "hsts_max_age",
    "hsts_include_subdomains",
    "hsts_preload",
    "loadbalancer_id",
];
/// Pool fields.
pub(crate) const POOL_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "provisioning_status",
    "operating_status",
    "admin_state_up",
    "protocol",
    "lb_algorithm",
    "session_persistence",
    "project_id",
    "tenant_id",
    "loadbalancers",
    "listeners",
    "members",
    "healthmonitor_id",
    "created_at",
    "updated_at",
    "tags",
    "tls_container_ref",
    "ca_tls_container_ref",
    "crl_container_ref",
    "tls_enabled",
    "tls_ciphers",
    "tls_versions",
    "alpn_protocols",
    "loadbalancer_id",
    "listener_id",
];
/// Member fields.
pub(crate) const MEMBER_FIELDS: &[&str] = &[
    "id",
    "name",
    "operating_status",
    "provisioning_status",
    "admin_state_up",
    "address",
    "protocol_port",
    "weight",
    "backup",
    "subnet_id",
    "project_id",
    "tenant_id",
    "created_at",
    "updated_at",
    "monitor_address",
    "monitor_port",
    "tags",
    "vnic_type",
];
/// Health monitor fields.
pub(crate) const HM_FIELDS: &[&str] = &[
    "id",
    "name",
    "provisioning_status",
    "operating_status",
    "admin_state_up",
    "type",
    "delay",
    "timeout",
    "max_retries",
    "max_retries_down",
    "http_method",
    "url_path",
    "expected_codes",
    "http_version",
    "domain_name",
    "project_id",
    "tenant_id",
    "created_at",
    "updated_at",
    "tags",
    "pools",
    "pool_id",
];

impl World {
    /// The load balancer a listener or pool belongs to.
    pub(crate) fn lb_of(obj: &Obj) -> String {
        link_ids(obj, "loadbalancers")
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// The pool a health monitor watches.
    pub(crate) fn pool_of_hm(obj: &Obj) -> String {
        link_ids(obj, "pools")
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    pub(crate) fn listeners_of_lb(&self, lb: &str) -> Vec<String> {
        self.listeners
            .iter()
            .filter(|l| World::lb_of(l) == lb)
            .map(|l| str_of(l, "id").to_string())
            .collect()
    }

    pub(crate) fn pools_of_lb(&self, lb: &str) -> Vec<String> {
        self.pools
            .iter()
            .filter(|p| World::lb_of(p) == lb)
            .map(|p| str_of(p, "id").to_string())
            .collect()
    }

    pub(crate) fn members_of_pool(&self, pool: &str) -> Vec<String> {
        self.members
            .iter()
            .map(|m| str_of(m, "id").to_string())
            .filter(|id| self.member_pool.get(id).map(String::as_str) == Some(pool))
            .collect()
    }

    pub(crate) fn hm_of_pool(&self, pool: &str) -> Option<String> {
        self.healthmonitors
            .iter()
            .find(|h| World::pool_of_hm(h) == pool)
            .map(|h| str_of(h, "id").to_string())
    }

    /// Load balancer as shown (listeners/pools as id links).
    pub(crate) fn render_lb(&self, lb: &Obj) -> Obj {
        let id = str_of(lb, "id");
        let mut out = lb.clone();
        out.insert("listeners".into(), links(self.listeners_of_lb(id)));
        out.insert("pools".into(), links(self.pools_of_lb(id)));
        out
    }

    /// Load balancer as a create answer renders it: full nested children.
    pub(crate) fn render_lb_full(&self, lb: &Obj) -> Obj {
        let id = str_of(lb, "id");
        let mut out = lb.clone();
        let listeners: Vec<Value> = self
            .listeners_of_lb(id)
            .iter()
            .filter_map(|l| self.listeners.get(l))
            .map(|l| {
                // The create answer's listeners carry no `loadbalancers` link (Octavia 19).
                let mut full = self.render_listener(l);
                full.remove("loadbalancers");
                Value::Object(full)
            })
            .collect();
        let pools: Vec<Value> = self
            .pools_of_lb(id)
            .iter()
            .filter_map(|p| self.pools.get(p))
            .map(|p| {
                let mut full = self.render_pool(p);
                full.remove("healthmonitor_id");
                full.remove("loadbalancers");
                let pid = str_of(p, "id");
                let members: Vec<Value> = self
                    .members_of_pool(pid)
                    .iter()
                    .filter_map(|m| self.members.get(m))
                    .map(|m| Value::Object(m.clone()))
                    .collect();
                full.insert("members".into(), Value::Array(members));
                let hm = self
                    .hm_of_pool(pid)
                    .and_then(|h| self.healthmonitors.get(&h))
                    .map(|h| {
                        // Nor does the pool's monitor carry its `pools` link.
                        let mut hm = h.clone();
                        hm.remove("pools");
                        Value::Object(hm)
                    })
                    .unwrap_or(Value::Null);
                full.insert("healthmonitor".into(), hm);
                Value::Object(full)
            })
            .collect();
        out.insert("listeners".into(), Value::Array(listeners));
        out.insert("pools".into(), Value::Array(pools));
        out
    }

    pub(crate) fn render_listener(&self, l: &Obj) -> Obj {
        l.clone()
    }

    pub(crate) fn render_pool(&self, p: &Obj) -> Obj {
        let id = str_of(p, "id");
        let mut out = p.clone();
        let listeners: Vec<String> = self
            .listeners
            .iter()
            .filter(|l| str_of(l, "default_pool_id") == id)
            .map(|l| str_of(l, "id").to_string())
            .collect();
        out.insert("listeners".into(), links(listeners));
        out.insert("members".into(), links(self.members_of_pool(id)));
        out.insert("healthmonitor_id".into(), json!(self.hm_of_pool(id)));
        out
    }

    /// `GET /loadbalancers/{id}/status`.
    pub(crate) fn status_tree(&self, lb: &Obj) -> Value {
        let id = str_of(lb, "id");
        let st = |o: &Obj| {
            (
                o.get("provisioning_status").cloned(),
                o.get("operating_status").cloned(),
            )
        };
        let pool_tree = |pid: &str| -> Option<Value> {
            let p = self.pools.get(pid)?;
            let members: Vec<Value> = self
                .members_of_pool(pid)
                .iter()
                .filter_map(|m| self.members.get(m))
                .map(|m| {
                    let (ps, os) = st(m);
                    json!({"id": m.get("id"), "name": m.get("name"), "address": m.get("address"),
                           "protocol_port": m.get("protocol_port"), "provisioning_status": ps, "operating_status": os})
                })
                .collect();
            let (ps, os) = st(p);
            let mut v = json!({"id": p.get("id"), "name": p.get("name"), "provisioning_status": ps,
                               "operating_status": os, "members": members});
            if let Some(h) = self
                .hm_of_pool(pid)
                .and_then(|h| self.healthmonitors.get(&h))
            {
                v["health_monitor"] = json!({"id": h.get("id"), "name": h.get("name"), "type": h.get("type"),
                                             "provisioning_status": h.get("provisioning_status"),
                                             "operating_status": h.get("operating_status")});
            }
            Some(v)
        };
        let listeners: Vec<Value> = self
            .listeners_of_lb(id)
            .iter()
            .filter_map(|l| self.listeners.get(l))
            .map(|l| {
                let (ps, os) = st(l);
                let pools: Vec<Value> = [str_of(l, "default_pool_id")]
                    .iter()
                    .filter(|p| !p.is_empty())
                    .filter_map(|p| pool_tree(p))
                    .collect();
                json!({"id": l.get("id"), "name": l.get("name"), "provisioning_status": ps,
                       "operating_status": os, "pools": pools})
            })
            .collect();
        // Octavia 19's tree has the listeners (with their pools) only: no `l7policies`, and a
        // pool no listener uses does not appear at all.
        let (ps, os) = st(lb);
        json!({"statuses": {"loadbalancer": {"id": id, "name": lb.get("name"), "provisioning_status": ps,
               "operating_status": os, "listeners": listeners}}})
    }
}
