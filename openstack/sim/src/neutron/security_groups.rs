//! Security groups and their rules.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

use super::create_body::not_allowed_in_post;
use super::net::parse_cidr;
use super::ports::bump;
use crate::http::{neutron_err, ApiError};
use crate::state::{stamp, str_of, Obj, World};

/// Security group fields.
pub(crate) const SG_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "project_id",
    "tenant_id",
    "revision_number",
    "created_at",
    "updated_at",
    "tags",
    "security_group_rules",
    "shared",
    "stateful",
];

/// Rule fields.
pub(crate) const RULE_FIELDS: &[&str] = &[
    "id",
    "security_group_id",
    "direction",
    "ethertype",
    "protocol",
    "port_range_min",
    "port_range_max",
    "remote_ip_prefix",
    "remote_group_id",
    "remote_address_group_id",
    "description",
    "project_id",
    "tenant_id",
    "revision_number",
    "created_at",
    "updated_at",
    "tags",
    "belongs_to_default_sg",
];

fn sg_not_found(id: &str) -> ApiError {
    neutron_err(
        404,
        "SecurityGroupNotFound",
        format!("Security group {id} does not exist"),
    )
}

/// Neutron's standard attribute ids (one sequence per process is enough for a simulator).
static NEXT_STANDARD_ATTR: AtomicU64 = AtomicU64::new(1);

/// A rule as `/security-group-rules` renders it. Neutron 29 shows `tags` and
/// `standard_attr_id` only on the rules embedded in a security group, not on the rule itself.
pub(crate) fn render_rule(rule: &Obj) -> Obj {
    let mut out = rule.clone();
    out.remove("tags");
    out.remove("standard_attr_id");
    out
}

/// Neutron's `normalized_cidr`: the remote prefix with its host bits cleared (IPv4; anything
/// else as given), `null` without a prefix.
fn normalized_cidr(prefix: Option<&Value>) -> Value {
    let Some(p) = prefix.and_then(Value::as_str) else {
        return Value::Null;
    };
    match (parse_cidr(p), p.split_once('/')) {
        (Some((net, _)), Some((_, len))) => {
            json!(format!("{}/{len}", std::net::Ipv4Addr::from(net)))
        }
        _ => json!(p),
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    neutron_err(400, "InvalidInput", msg)
}

impl World {
    /// A group rendered with its rules.
    pub(crate) fn render_sg(&self, sg: &Obj) -> Obj {
        let mut out = sg.clone();
        let id = str_of(sg, "id");
        let rules: Vec<Value> = self
            .security_group_rules
            .iter()
            .filter(|r| str_of(r, "security_group_id") == id)
            .map(|r| Value::Object(r.clone()))
            .collect();
        out.insert("security_group_rules".into(), Value::Array(rules));
        out
    }

    /// `POST /security-groups` (with the two default egress rules).
    pub(crate) fn create_sg(&mut self, input: &Obj) -> Result<Obj, ApiError> {
        for k in input.keys() {
            if !matches!(
                k.as_str(),
                "name" | "description" | "stateful" | "project_id" | "tenant_id"
            ) {
                return Err(not_allowed_in_post(k));
            }
        }
        let name = input
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name == "default" {
            return Err(neutron_err(
                400,
                "SecurityGroupDefaultAlreadyExists",
                "Default security group already exists.",
            ));
        }
        self.neutron_quota_check("security_group", self.security_groups.len())?;
        Ok(self.insert_sg(
            &name,
            input
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or(""),
            input
                .get("stateful")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            None,
        ))
    }

    /// Store a group and its default egress rules.
    pub(crate) fn insert_sg(
        &mut self,
        name: &str,
        description: &str,
        stateful: bool,
        tags: Option<Value>,
    ) -> Obj {
        let id = self.ids.uuid();
        let now = stamp::neutron();
        let project = self.project_id.clone();
        let sg = json!({
            "id": id, "name": name, "description": description, "project_id": project,
            "tenant_id": project, "revision_number": 1, "created_at": now, "updated_at": now,
            "tags": tags.unwrap_or_else(|| json!([])), "shared": false, "stateful": stateful,
        });
        if let Value::Object(o) = sg {
            self.security_groups.insert(o);
        }
        for ethertype in ["IPv4", "IPv6"] {
            let rule_id = self.ids.uuid();
            let mut rule = self.rule_obj(
                &rule_id,
                &id,
                "egress",
                ethertype,
                &Obj::new(),
                name == "default",
            );
            // Real Neutron 29: the rules it makes itself have no description (`null`); a rule
            // POSTed without one gets "".
            rule.insert("description".into(), Value::Null);
            self.security_group_rules.insert(rule);
        }
        let sg = self.security_groups.get(&id).cloned().unwrap_or_default();
        self.render_sg(&sg)
    }

    fn rule_obj(
        &self,
        id: &str,
        sg: &str,
        direction: &str,
        ethertype: &str,
        input: &Obj,
        default_sg: bool,
    ) -> Obj {
        let now = stamp::neutron();
        let g = |k: &str| input.get(k).cloned().unwrap_or(Value::Null);
        let rule = json!({
            "id": id, "security_group_id": sg, "direction": direction, "ethertype": ethertype,
            "protocol": g("protocol"), "port_range_min": g("port_range_min"),
            "port_range_max": g("port_range_max"), "remote_ip_prefix": g("remote_ip_prefix"),
            "remote_group_id": g("remote_group_id"), "remote_address_group_id": g("remote_address_group_id"),
            "description": input.get("description").cloned().unwrap_or_else(|| json!("")),
            "normalized_cidr": normalized_cidr(input.get("remote_ip_prefix")),
            "project_id": self.project_id, "tenant_id": self.project_id, "revision_number": 0,
            "created_at": now, "updated_at": now, "tags": [], "belongs_to_default_sg": default_sg,
            "standard_attr_id": NEXT_STANDARD_ATTR.fetch_add(1, Ordering::Relaxed),
        });
        match rule {
            Value::Object(o) => o,
            _ => Obj::new(),
        }
    }

    /// `PUT /security-groups/{id}`.
    pub(crate) fn update_sg(&mut self, id: &str, input: &Obj) -> Result<Obj, ApiError> {
        let sg = self
            .security_groups
            .get_mut(id)
            .ok_or_else(|| sg_not_found(id))?;
        for (k, v) in input {
            match k.as_str() {
                "name" | "description" | "stateful" => {
                    sg.insert(k.clone(), v.clone());
                }
                other => {
                    return Err(neutron_err(
                        400,
                        "HTTPBadRequest",
                        format!("Cannot update read-only attribute {other}"),
                    ))
                }
            }
        }
        sg.insert("updated_at".into(), json!(stamp::neutron()));
        bump(sg);
        let sg = sg.clone();
        Ok(self.render_sg(&sg))
    }

    /// `DELETE /security-groups/{id}`: 409 while a port uses it.
    pub(crate) fn delete_sg(&mut self, id: &str) -> Result<(), ApiError> {
        if !self.security_groups.contains(id) {
            return Err(sg_not_found(id));
        }
        let in_use = self.ports.iter().any(|p| {
            p.get("security_groups")
                .and_then(Value::as_array)
                .is_some_and(|g| g.iter().any(|x| x.as_str() == Some(id)))
        });
        if in_use {
            return Err(neutron_err(
                409,
                "SecurityGroupInUse",
                format!("Security Group {id} in use."),
            ));
        }
        self.security_groups.remove(id);
        let rules: Vec<String> = self
            .security_group_rules
            .iter()
            .filter(|r| str_of(r, "security_group_id") == id)
            .map(|r| str_of(r, "id").to_string())
            .collect();
        for r in rules {
            self.security_group_rules.remove(&r);
        }
        Ok(())
    }

    /// `POST /security-group-rules`.
    pub(crate) fn create_rule(&mut self, input: &Obj) -> Result<Obj, ApiError> {
        only_rule_keys(input)?;
        let sg = input
            .get("security_group_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !self.security_groups.contains(&sg) {
            return Err(sg_not_found(&sg));
        }
        let direction = input.get("direction").and_then(Value::as_str).unwrap_or("");
        if !matches!(direction, "ingress" | "egress") {
            return Err(bad(format!("Invalid input for direction. Reason: '{direction}' is not in ['ingress', 'egress'].")));
        }
        let ethertype = input
            .get("ethertype")
            .and_then(Value::as_str)
            .unwrap_or("IPv4")
            .to_string();
        if !matches!(ethertype.as_str(), "IPv4" | "IPv6") {
            return Err(bad(format!(
                "Invalid input for ethertype. Reason: '{ethertype}' is not in ['IPv4', 'IPv6']."
            )));
        }
        let (min, max) = rule_port_range(input)?;
        check_rule_remote(input, &ethertype)?;
        let mut normalized = input.clone();
        normalized.insert("port_range_min".into(), json!(min));
        normalized.insert("port_range_max".into(), json!(max));
        if let Some(existing) = self.same_rule(&sg, direction, &ethertype, &normalized) {
            return Err(neutron_err(
                409,
                "SecurityGroupRuleExists",
                format!(
                    "Security group rule already exists. Rule id is {}.",
                    str_of(existing, "id")
                ),
            ));
        }
        self.neutron_quota_check("security_group_rule", self.security_group_rules.len())?;
        let id = self.ids.uuid();
        let rule = self.rule_obj(&id, &sg, direction, &ethertype, &normalized, false);
        self.security_group_rules.insert(rule.clone());
        if let Some(g) = self.security_groups.get_mut(&sg) {
            bump(g);
        }
        Ok(render_rule(&rule))
    }

    /// A rule of group `sg` identical to the one asked for (Neutron refuses a duplicate).
    fn same_rule(
        &self,
        sg: &str,
        direction: &str,
        ethertype: &str,
        normalized: &Obj,
    ) -> Option<&Obj> {
        self.security_group_rules.iter().find(|r| {
            str_of(r, "security_group_id") == sg
                && str_of(r, "direction") == direction
                && str_of(r, "ethertype") == ethertype
                && [
                    "protocol",
                    "port_range_min",
                    "port_range_max",
                    "remote_ip_prefix",
                    "remote_group_id",
                    "remote_address_group_id",
                ]
                .iter()
                .all(|k| {
                    r.get(*k).cloned().unwrap_or(Value::Null)
                        == normalized.get(*k).cloned().unwrap_or(Value::Null)
                })
        })
    }

    /// `DELETE /security-group-rules/{id}`.
    pub(crate) fn delete_rule(&mut self, id: &str) -> Result<(), ApiError> {
        self.security_group_rules
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| {
                neutron_err(
                    404,
                    "SecurityGroupRuleNotFound",
                    format!("Security group rule {id} does not exist"),
                )
            })
    }
}

/// Every attribute of a rule's create body is one Neutron knows.
fn only_rule_keys(input: &Obj) -> Result<(), ApiError> {
    for k in input.keys() {
        if !matches!(
            k.as_str(),
            "security_group_id"
                | "direction"
                | "ethertype"
                | "protocol"
                | "port_range_min"
                | "port_range_max"
                | "remote_ip_prefix"
                | "remote_group_id"
                | "remote_address_group_id"
                | "description"
                | "project_id"
                | "tenant_id"
        ) {
            return Err(neutron_err(
                400,
                "HTTPBadRequest",
                format!("Unrecognized attribute(s) '{k}'"),
            ));
        }
    }
    Ok(())
}

/// A rule's port range: each end 0..=65535 (numbers or numeric strings), a protocol when
/// either is given, and min <= max.
fn rule_port_range(input: &Obj) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let port = |k: &str| -> Result<Option<i64>, ApiError> {
        match input.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .filter(|n| (0..=65535).contains(n))
                .map(Some)
                .ok_or_else(|| bad(format!("Invalid value for port {v}."))),
        }
    };
    let (min, max) = (port("port_range_min")?, port("port_range_max")?);
    let protocol = input.get("protocol").and_then(Value::as_str);
    if (min.is_some() || max.is_some()) && protocol.is_none() {
        return Err(bad("Must also specify protocol if port range is given."));
    }
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            return Err(bad(
                "For TCP/UDP protocols, port_range_min must be <= port_range_max",
            ));
        }
    }
    Ok((min, max))
}

/// A rule's remote: a prefix of the rule's ethertype, and at most one kind of remote.
fn check_rule_remote(input: &Obj, ethertype: &str) -> Result<(), ApiError> {
    let prefix = input.get("remote_ip_prefix").and_then(Value::as_str);
    if let Some(p) = prefix {
        let v4 = parse_cidr(p).is_some();
        if ethertype == "IPv4" && !v4 || ethertype == "IPv6" && v4 {
            return Err(bad(format!(
                "Conflicting value ethertype {ethertype} for CIDR {p}"
            )));
        }
    }
    let remotes = [
        "remote_ip_prefix",
        "remote_group_id",
        "remote_address_group_id",
    ]
    .iter()
    .filter(|k| input.get(**k).is_some_and(|v| !v.is_null()))
    .count();
    if remotes > 1 {
        return Err(bad("Only one of remote_ip_prefix, remote_group_id and remote_address_group_id may be given."));
    }
    Ok(())
}
