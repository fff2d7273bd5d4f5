//! Load balancers: create (plain and fully populated), update, delete (cascade), failover.

use serde_json::{json, Value};

use super::input::*;
use crate::config::Provider;
use crate::http::{octavia_err, ApiError};
use crate::neutron::NewPort;
use crate::state::{field, str_of, Obj, OpKind, World};

const LB_KEYS: &[&str] = &[
    "name",
    "description",
    "admin_state_up",
    "vip_subnet_id",
    "vip_network_id",
    "vip_port_id",
    "vip_address",
    "additional_vips",
    "vip_qos_policy_id",
    "vip_sg_ids",
    "provider",
    "flavor_id",
    "availability_zone",
    "tags",
    "listeners",
    "pools",
    "project_id",
    "tenant_id",
];

/// 404 for a load balancer.
pub(crate) fn lb_not_found(id: &str) -> ApiError {
    octavia_err(404, format!("Load Balancer {id} not found."))
}

impl World {
    /// `POST /v2/lbaas/loadbalancers`.
    pub(crate) fn create_lb(&mut self, input: &Obj) -> Result<Obj, ApiError> {
        only(input, "loadbalancer", LB_KEYS)?;
        let p = self.create_provider(input)?;
        let (subnet, network) = self.vip_subnet(input, p)?;
        let listeners_in: Vec<Obj> = array_of(input, "listeners")?;
        let pools_in: Vec<Obj> = array_of(input, "pools")?;
        let graph = !listeners_in.is_empty() || !pools_in.is_empty();
        if graph && self.faults.refuses_graph(p) {
            return Err(octavia_err(501, format!(
                "Provider '{}' does not support a requested action: This provider does not support creating a fully populated load balancer.",
                p.as_str()
            )));
        }
        self.octavia_quota_check("loadbalancer", 1)?;
        let id = self.ids.uuid();
        let mut lb = self.new_lb(&id, input, p, &subnet, &network)?;
        // Stage the whole graph first: any invalid child fails the create and nothing is stored.
        let staged = self.stage_graph(&id, &listeners_in, &pools_in, p, &lb)?;
        let wanted = lb
            .get("vip_address")
            .and_then(Value::as_str)
            .map(str::to_string);
        let port = self.vip_port(&id, p, &network, &subnet, wanted.as_deref())?;
        lb.insert("vip_port_id".into(), field(&port, "id"));
        lb.insert(
            "vip_address".into(),
            field(&port, "fixed_ips")[0]["ip_address"].clone(),
        );
        self.loadbalancers.insert(lb);
        staged.store(self);
        self.begin(&id, OpKind::Create);
        let stored = self
            .loadbalancers
            .get(&id)
            .cloned()
            .ok_or_else(|| lb_not_found(&id))?;
        Ok(self.render_lb_full(&stored))
    }

    /// The provider a create asks for (or the default), which must be enabled; no flavors
    /// exist.
    fn create_provider(&self, input: &Obj) -> Result<Provider, ApiError> {
        let provider_name = opt_str(input, "provider")?
            .unwrap_or_else(|| self.config.default_provider.as_str().to_string());
        let p = Provider::from_wire(&provider_name).ok_or_else(|| {
            octavia_err(400, format!("Provider '{provider_name}' is not enabled."))
        })?;
        if let Some(f) = opt_str(input, "flavor_id")? {
            return Err(octavia_err(
                400,
                format!("Validation failure: Invalid flavor_id. Flavor {f} not found."),
            ));
        }
        Ok(p)
    }

    /// The VIP's (subnet, network): the subnet named, or the first subnet of the network
    /// named; a VIP port of the user's own is not modelled.
    fn vip_subnet(&self, input: &Obj, p: Provider) -> Result<(String, String), ApiError> {
        let subnet_in = opt_str(input, "vip_subnet_id")?;
        let network_in = opt_str(input, "vip_network_id")?;
        let port_in = opt_str(input, "vip_port_id")?;
        if subnet_in.is_none() && network_in.is_none() && port_in.is_none() {
            return Err(validation(
                "VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.",
            ));
        }
        if port_in.is_some() {
            return Err(unsupported(
                p,
                "The simulated cloud does not model user-supplied VIP ports.",
            ));
        }
        let subnet = match (&subnet_in, &network_in) {
            (Some(s), _) => {
                if !self.subnets.contains(s) {
                    return Err(octavia_err(400, format!("Subnet {s} not found.")));
                }
                s.clone()
            }
            (None, Some(n)) => self
                .first_subnet(n)
                .ok_or_else(|| octavia_err(400, format!("Network {n} not found.")))?,
            (None, None) => {
                return Err(validation(
                    "VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id.",
                ))
            }
        };
        let network = self
            .subnets
            .get(&subnet)
            .map(|s| str_of(s, "network_id").to_string())
            .unwrap_or_default();
        Ok((subnet, network))
    }

    /// The new load balancer's object, PENDING_CREATE, its VIP port not yet made.
    fn new_lb(
        &self,
        id: &str,
        input: &Obj,
        p: Provider,
        subnet: &str,
        network: &str,
    ) -> Result<Obj, ApiError> {
        let vip_address = opt_str(input, "vip_address")?;
        let mut lb = Obj::new();
        for (k, v) in [
            ("id", json!(id)),
            ("name", json!(opt_str(input, "name")?.unwrap_or_default())),
            (
                "description",
                json!(opt_str(input, "description")?.unwrap_or_default()),
            ),
            ("provisioning_status", json!("PENDING_CREATE")),
            ("operating_status", json!("OFFLINE")),
            (
                "admin_state_up",
                json!(opt_bool(input, "admin_state_up")?.unwrap_or(true)),
            ),
            ("project_id", json!(self.project_id)),
            // Octavia 19 still renders the deprecated `tenant_id` on every object.
            ("tenant_id", json!(self.project_id)),
            ("created_at", json!(crate::state::stamp::octavia())),
            ("updated_at", Value::Null),
            ("vip_address", json!(vip_address)),
            ("vip_port_id", Value::Null),
            ("vip_subnet_id", json!(subnet)),
            ("vip_network_id", json!(network)),
            (
                "vip_qos_policy_id",
                json!(opt_str(input, "vip_qos_policy_id")?),
            ),
            ("additional_vips", json!([])),
            // Octavia 19: the VIP port's extra security groups (none asked for).
            ("vip_sg_ids", json!([])),
            ("provider", json!(p.as_str())),
            ("flavor_id", Value::Null),
            (
                "availability_zone",
                json!(opt_str(input, "availability_zone")?),
            ),
            (
                "tags",
                json!(opt_str_list(input, "tags")?.unwrap_or_default()),
            ),
            ("vip_vnic_type", json!("normal")),
        ] {
            lb.insert(k.to_string(), v);
        }
        Ok(lb)
    }

    /// The VIP port, made the way the provider makes it (Octavia's is administratively down:
    /// the amphorae's VRRP ports carry the address, so Neutron shows it DOWN). Neutron's
    /// refusal becomes Octavia's answer: 409 for a VIP address in use, 500 otherwise.
    fn vip_port(
        &mut self,
        id: &str,
        p: Provider,
        network: &str,
        subnet: &str,
        wanted: Option<&str>,
    ) -> Result<Obj, ApiError> {
        let (device_owner, port_name) = match p {
            Provider::Amphora => ("Octavia", format!("octavia-lb-{id}")),
            Provider::Ovn => ("ovn-lb:vip", format!("ovn-lb-vip-{id}")),
        };
        let port = self
            .create_port(NewPort {
                network_id: network,
                subnet_id: subnet,
                ip: wanted,
                name: port_name,
                device_owner,
                device_id: format!("lb-{id}"),
                security_groups: Vec::new(),
            })
            .map_err(|e| {
                let msg = e.body["NeutronError"]["message"]
                    .as_str()
                    .unwrap_or("port allocation failed")
                    .to_string();
                if e.status == 409 && wanted.is_some() {
                    octavia_err(409, format!("The VIP IP address is already in use: {msg}"))
                } else {
                    octavia_err(
                        500,
                        format!("Provider '{}' reports error: {msg}", p.as_str()),
                    )
                }
            })?;
        if let Some(vip) = self.ports.get_mut(str_of(&port, "id")) {
            vip.insert("admin_state_up".into(), json!(false));
            vip.insert("status".into(), json!("DOWN"));
        }
        Ok(port)
    }

    /// `PUT /v2/lbaas/loadbalancers/{id}`.
    pub(crate) fn update_lb(&mut self, id: &str, input: &Obj) -> Result<Obj, ApiError> {
        only(
            input,
            "loadbalancer",
            &[
                "name",
                "description",
                "admin_state_up",
                "vip_qos_policy_id",
                "vip_sg_ids",
                "tags",
            ],
        )?;
        let o = self.loadbalancers.get(id).ok_or_else(|| lb_not_found(id))?;
        let st = str_of(o, "provisioning_status").to_string();
        if st != "ACTIVE" {
            return Err(octavia_err(
                409,
                format!("Invalid state {st} of loadbalancer resource {id}"),
            ));
        }
        let name = opt_str(input, "name")?;
        let description = opt_str(input, "description")?;
        let up = opt_bool(input, "admin_state_up")?;
        let tags = opt_str_list(input, "tags")?;
        let o = self
            .loadbalancers
            .get_mut(id)
            .ok_or_else(|| lb_not_found(id))?;
        if let Some(v) = name {
            o.insert("name".into(), json!(v));
        }
        if let Some(v) = description {
            o.insert("description".into(), json!(v));
        }
        if let Some(v) = up {
            o.insert("admin_state_up".into(), json!(v));
        }
        if let Some(v) = tags {
            o.insert("tags".into(), json!(v));
        }
        if input.contains_key("vip_qos_policy_id") {
            o.insert(
                "vip_qos_policy_id".into(),
                field(input, "vip_qos_policy_id"),
            );
        }
        self.begin(id, OpKind::Update);
        let o = self
            .loadbalancers
            .get(id)
            .cloned()
            .ok_or_else(|| lb_not_found(id))?;
        Ok(self.render_lb(&o))
    }

    /// `DELETE /v2/lbaas/loadbalancers/{id}[?cascade=true]`.
    pub(crate) fn delete_lb(&mut self, id: &str, cascade: bool) -> Result<(), ApiError> {
        let o = self.loadbalancers.get(id).ok_or_else(|| lb_not_found(id))?;
        let st = str_of(o, "provisioning_status").to_string();
        if st != "ACTIVE" && st != "ERROR" {
            return Err(octavia_err(
                409,
                format!("Invalid state {st} of loadbalancer resource {id}"),
            ));
        }
        let (listeners, pools, members, hms) = self.children(id);
        let has_children = !(listeners.is_empty() && pools.is_empty());
        if !cascade && has_children {
            return Err(validation(format!(
                "Cannot delete Load Balancer {id} - it has children"
            )));
        }
        for (table, ids) in [
            (&mut self.listeners, &listeners),
            (&mut self.pools, &pools),
            (&mut self.members, &members),
            (&mut self.healthmonitors, &hms),
        ] {
            for cid in ids {
                if let Some(c) = table.get_mut(cid) {
                    c.insert("provisioning_status".into(), json!("PENDING_DELETE"));
                }
            }
        }
        self.begin(id, OpKind::Delete);
        Ok(())
    }

    /// `PUT /v2/lbaas/loadbalancers/{id}/failover`.
    pub(crate) fn failover_lb(&mut self, id: &str) -> Result<(), ApiError> {
        let o = self.loadbalancers.get(id).ok_or_else(|| lb_not_found(id))?;
        let st = str_of(o, "provisioning_status").to_string();
        if st != "ACTIVE" && st != "ERROR" {
            return Err(octavia_err(
                409,
                format!("Invalid state {st} of loadbalancer resource {id}"),
            ));
        }
        if self.provider_of(id) == Provider::Ovn {
            return Err(octavia_err(501, "Provider 'ovn' does not support a requested action: OVN provider does not support loadbalancer failover"));
        }
        self.begin(id, OpKind::Failover);
        Ok(())
    }
}

fn array_of(input: &Obj, key: &str) -> Result<Vec<Obj>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_object()
                    .cloned()
                    .ok_or_else(|| invalid(key, i, "Value should be a list of objects."))
            })
            .collect(),
        Some(v) => Err(invalid(key, v, "Value should be a list.")),
    }
}

/// A validated graph waiting to be stored.
pub(crate) struct Staged {
    listeners: Vec<Obj>,
    pools: Vec<Obj>,
    members: Vec<(Obj, String)>,
    hms: Vec<Obj>,
}

impl Staged {
    fn store(self, w: &mut World) {
        for l in self.listeners {
            w.listeners.insert(l);
        }
        for p in self.pools {
            w.pools.insert(p);
        }
        for (m, pool) in self.members {
            w.member_pool.insert(str_of(&m, "id").to_string(), pool);
            w.members.insert(m);
        }
        for h in self.hms {
            w.healthmonitors.insert(h);
        }
    }
}

impl World {
    /// Validate a fully populated graph (pools fully defined once, referenced by name).
    fn stage_graph(
        &mut self,
        lb: &str,
        listeners_in: &[Obj],
        pools_in: &[Obj],
        p: Provider,
        lb_obj: &Obj,
    ) -> Result<Staged, ApiError> {
        let mut staged = Staged {
            listeners: Vec::new(),
            pools: Vec::new(),
            members: Vec::new(),
            hms: Vec::new(),
        };
        if listeners_in.is_empty() && pools_in.is_empty() {
            return Ok(staged);
        }
        let defs = pool_definitions(listeners_in, pools_in)?;
        self.octavia_quota_check("pool", defs.len())?;
        self.octavia_quota_check("listener", listeners_in.len())?;
        // The load balancer must exist for member subnet defaults while staging.
        self.loadbalancers.insert(lb_obj.clone());
        let result = self
            .stage_pools(lb, &defs, p, &mut staged)
            .and_then(|pool_ids| self.stage_listeners(lb, listeners_in, p, &pool_ids, &mut staged));
        self.loadbalancers.remove(lb);
        result.map(|_| staged)
    }

    /// Builds each defined pool with its health monitor and members; the staged pools'
    /// (name, id, protocol).
    fn stage_pools(
        &mut self,
        lb: &str,
        defs: &[PoolDef],
        p: Provider,
        staged: &mut Staged,
    ) -> Result<Vec<(String, String, String)>, ApiError> {
        let mut pool_ids: Vec<(String, String, String)> = Vec::new();
        for (name, def, lproto) in defs {
            for attr in ["protocol", "lb_algorithm"] {
                if def.get(attr).is_none() {
                    return Err(validation(format!(
                        "Pool definition for '{name}' missing required attribute: {attr}"
                    )));
                }
            }
            let mut plain = def.clone();
            let hm_in = plain.remove("healthmonitor");
            let members_in = plain.remove("members");
            let pool = self.build_pool(&plain, lb, lproto.as_deref(), p)?;
            let pid = str_of(&pool, "id").to_string();
            let proto = str_of(&pool, "protocol").to_string();
            let has_hm = matches!(hm_in, Some(Value::Object(_)));
            if let Some(Value::Object(h)) = hm_in {
                staged.hms.push(self.build_hm(&h, &pid, &proto, p)?);
            }
            let members: Vec<Obj> = match members_in {
                Some(Value::Array(a)) => a.iter().filter_map(|m| m.as_object().cloned()).collect(),
                _ => Vec::new(),
            };
            self.octavia_quota_check("member", staged.members.len() + members.len())?;
            for m in members {
                let built = self.build_member(&m, lb, has_hm, p)?;
                staged.members.push((built, pid.clone()));
            }
            pool_ids.push((name.clone(), pid, proto));
            staged.pools.push(pool);
        }
        Ok(pool_ids)
    }

    /// Builds each listener, its default pool found by name among the staged pools; two
    /// listeners may not share a port.
    fn stage_listeners(
        &mut self,
        lb: &str,
        listeners_in: &[Obj],
        p: Provider,
        pool_ids: &[(String, String, String)],
        staged: &mut Staged,
    ) -> Result<(), ApiError> {
        for l in listeners_in {
            let mut plain = l.clone();
            let dp = plain.remove("default_pool");
            let mut built = self.build_listener(&plain, lb, p)?;
            if let Some(Value::Object(dp)) = dp {
                let name = opt_str(&dp, "name")?.unwrap_or_default();
                let (_, pid, proto) =
                    pool_ids
                        .iter()
                        .find(|(n, _, _)| *n == name)
                        .ok_or_else(|| {
                            validation(format!(
                                "Pool '{name}' was referenced but no full definition was found."
                            ))
                        })?;
                if !listener_accepts_pool(str_of(&built, "protocol"), proto) {
                    return Err(validation(format!("The pool protocol '{proto}' is invalid while the listener protocol is '{}'.", str_of(&built, "protocol"))));
                }
                built.insert("default_pool_id".into(), json!(pid));
            }
            if staged
                .listeners
                .iter()
                .any(|o: &Obj| field(o, "protocol_port") == field(&built, "protocol_port"))
            {
                return Err(octavia_err(409, format!("Another Listener on this Load Balancer is already using protocol {} and protocol_port {}", str_of(&built, "protocol"), field(&built, "protocol_port"))));
            }
            staged.listeners.push(built);
        }
        Ok(())
    }
}

/// A full pool definition of a graph: (name, definition, protocol of the listener that
/// defines it as its default pool).
type PoolDef = (String, Obj, Option<String>);

/// The graph's full pool definitions, by name: every top-level pool and every listener's
/// default pool that is more than a name; names given and unique.
fn pool_definitions(listeners_in: &[Obj], pools_in: &[Obj]) -> Result<Vec<PoolDef>, ApiError> {
    let mut defs: Vec<PoolDef> = Vec::new();
    let is_full = |o: &Obj| o.keys().any(|k| k != "name");
    for pool in pools_in {
        let name = opt_str(pool, "name")?.ok_or_else(|| {
            validation("Pools must be named when creating a fully populated loadbalancer.")
        })?;
        defs.push((name, pool.clone(), None));
    }
    for l in listeners_in {
        if let Some(Value::Object(dp)) = l.get("default_pool") {
            let name = opt_str(dp, "name")?.ok_or_else(|| {
                validation("Pools must be named when creating a fully populated loadbalancer.")
            })?;
            if is_full(dp) {
                defs.push((name, dp.clone(), opt_str(l, "protocol")?));
            }
        }
    }
    for (i, (n, _, _)) in defs.iter().enumerate() {
        if defs[..i].iter().any(|(m, _, _)| m == n) {
            return Err(validation(format!(
                "Pool names must be unique when creating a fully populated loadbalancer: '{n}'."
            )));
        }
    }
    Ok(defs)
}
