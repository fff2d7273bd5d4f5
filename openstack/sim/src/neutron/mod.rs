//! Simulated Neutron v2.0: networks, subnets, ports, floating IPs, security groups and rules,
//! tags, quotas. Errors in the `NeutronError` shape.

mod coll;
mod create_body;
mod floatingips;
mod net;
mod ports;
mod security_groups;
mod tags;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use axum::Extension;
use serde_json::{json, Value};

pub(crate) use coll::Coll;
use coll::{coll_of, render};
pub(crate) use net::in_cidr;
pub(crate) use ports::NewPort;
use tags::{tag_delete, tag_get, tag_put, tags_delete_all, tags_get, tags_put};

use super::http::{neutron_bad, neutron_err, query_pairs, respond, wrapped, ApiError, ApiResult};
use super::listing::{Dialect, ListRequest};
use super::shared::{Ctx, Shared};
use super::state::{Obj, World};

/// The revision an `If-Match: revision_number=N` header demands; any other `If-Match` value
/// is ignored, as Neutron ignores it.
fn demanded_revision(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(axum::http::header::IF_MATCH)?.to_str().ok()?;
    value
        .split(',')
        .find_map(|part| part.trim().strip_prefix("revision_number="))
        .and_then(|n| n.trim().parse().ok())
}

/// 412 `RevisionNumberConstraintFailed` unless `o` is at the demanded revision (Neutron's
/// `revision-if-match` extension, checked before the change is made).
fn check_revision(headers: &HeaderMap, o: &Obj) -> Result<(), ApiError> {
    let Some(want) = demanded_revision(headers) else {
        return Ok(());
    };
    let have = o
        .get("revision_number")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if want == have {
        Ok(())
    } else {
        Err(neutron_err(
            412,
            "RevisionNumberConstraintFailed",
            format!("Constrained to {want}, but current revision is {have}"),
        ))
    }
}

impl World {
    /// 409 `OverQuota` when one more `kind` would exceed the quota.
    pub(crate) fn neutron_quota_check(&self, kind: &str, current: usize) -> Result<(), ApiError> {
        let limit = self.neutron_quota.get(kind).copied().unwrap_or(-1);
        if limit >= 0 && current as i64 + 1 > limit {
            return Err(neutron_err(
                409,
                "OverQuota",
                format!("Quota exceeded for resources: ['{kind}']."),
            ));
        }
        Ok(())
    }
}

/// The Neutron routes relative to the mount (`/networking` and its aliases).
pub(crate) fn routes() -> Vec<(String, MethodRouter<Arc<Shared>>)> {
    vec![
        ("", get(versions)),
        ("/", get(versions)),
        ("/v2.0", get(versions)),
        ("/v2.0/extensions", get(extensions)),
        ("/v2.0/quotas/{project_id}", get(quotas)),
        ("/v2.0/{coll}", get(list).post(create)),
        ("/v2.0/{coll}/{id}", get(show).put(update).delete(delete)),
        (
            "/v2.0/{coll}/{id}/tags",
            get(tags_get).put(tags_put).delete(tags_delete_all),
        ),
        (
            "/v2.0/{coll}/{id}/tags/{tag}",
            get(tag_get).put(tag_put).delete(tag_delete),
        ),
    ]
    .into_iter()
    .map(|(p, mr)| (p.to_string(), mr))
    .collect()
}

async fn versions(State(s): State<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> Response {
    let href = format!("{}{}/v2.0/", s.base, ctx.mount);
    respond(Ok((
        200,
        Some(
            json!({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"href": href, "rel": "self"}]}]}),
        ),
    )))
}

async fn extensions() -> Response {
    let ext: Vec<Value> = [
        ("external-net", "Neutron external network"),
        ("router", "Neutron L3 Router"),
        ("security-group", "security-group"),
        ("standard-attr-tag", "Tag support for resources with standard attribute"),
        ("standard-attr-description", "standard-attr-description"),
        ("standard-attr-revisions", "Resource revision numbers"),
        ("standard-attr-timestamp", "Resource timestamps"),
        ("filter-validation", "Filter parameters validation"),
        ("fip-port-details", "Floating IP Port Details Extension"),
        ("port-security", "Port Security"),
        ("quotas", "Quota management support"),
        ("project-id", "project_id field enabled"),
        ("pagination", "Pagination support"),
        ("sorting", "Sorting support"),
    ]
    .iter()
    .map(|(alias, name)| json!({"alias": alias, "name": name, "description": name, "links": [], "updated": "2016-01-01T00:00:00-00:00"}))
    .collect();
    respond(Ok((200, Some(json!({"extensions": ext})))))
}

async fn quotas(State(s): State<Arc<Shared>>) -> Response {
    let q = s.with(|w| w.neutron_quota.clone());
    respond(Ok((200, Some(json!({"quota": q})))))
}

async fn list(
    State(s): State<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(coll): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let query = query_pairs(q.as_deref());
    respond(s.with(|w| {
        let coll = coll_of(&coll)?;
        let req = ListRequest {
            dialect: Dialect::Neutron,
            collection: coll.key(),
            fields: coll.fields(),
            url: format!("{}{}", s.base, ctx.path),
            query: &query,
            page_max: usize::MAX,
        };
        Ok((200, Some(req.run(coll.render_all(w))?)))
    }))
}

async fn show(State(s): State<Arc<Shared>>, Path((coll, id)): Path<(String, String)>) -> Response {
    respond(s.with(|w| {
        let coll = coll_of(&coll)?;
        let o = coll.table(w).get(&id).ok_or_else(|| coll.not_found(&id))?;
        Ok((200, Some(json!({ coll.singular(): render(w, coll, o) }))))
    }))
}

async fn create(State(s): State<Arc<Shared>>, Path(coll): Path<String>, body: Bytes) -> Response {
    respond(s.with(|w| -> ApiResult {
        let coll = coll_of(&coll)?;
        // Bulk rule create: {"security_group_rules": [...]}, atomic.
        if coll == Coll::Rules {
            if let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(&body) {
                if let Some(Value::Array(items)) = top.get("security_group_rules") {
                    if has_duplicate_rule(items) {
                        return Err(neutron_err(
                            409,
                            "DuplicateSecurityGroupRuleInPost",
                            "Duplicate Security Group Rule in POST.",
                        ));
                    }
                    let mut made = Vec::new();
                    for item in items {
                        let input = item.as_object().cloned().unwrap_or_default();
                        match w.create_rule(&input) {
                            Ok(r) => made.push(r),
                            Err(e) => {
                                for r in &made {
                                    w.security_group_rules.remove(super::state::str_of(r, "id"));
                                }
                                return Err(e);
                            }
                        }
                    }
                    let made: Vec<Value> = made.into_iter().map(Value::Object).collect();
                    return Ok((201, Some(json!({"security_group_rules": made}))));
                }
            }
        }
        let input = wrapped(&body, coll.singular(), neutron_bad)?;
        let created = match coll {
            Coll::FloatingIps => w.create_floatingip(&input)?,
            Coll::SecurityGroups => w.create_sg(&input)?,
            Coll::Rules => w.create_rule(&input)?,
            Coll::Ports => create_port(w, &input)?,
            Coll::Networks | Coll::Subnets => {
                return Err(neutron_err(
                    403,
                    "PolicyNotAuthorized",
                    format!("rule:create_{} is disallowed by policy", coll.singular()),
                ))
            }
        };
        Ok((201, Some(json!({ coll.singular(): created }))))
    }))
}

/// Whether two rules of a bulk body are the same rule (Neutron compares them before it looks
/// at what exists).
fn has_duplicate_rule(items: &[Value]) -> bool {
    let key = |r: &Value| {
        [
            "security_group_id",
            "direction",
            "ethertype",
            "protocol",
            "port_range_min",
            "port_range_max",
            "remote_ip_prefix",
            "remote_group_id",
            "remote_address_group_id",
        ]
        .iter()
        .map(|k| match (k, r.get(*k)) {
            (&"ethertype", None | Some(Value::Null)) => json!("IPv4"),
            (_, v) => v.cloned().unwrap_or(Value::Null),
        })
        .collect::<Vec<Value>>()
    };
    let keys: Vec<Vec<Value>> = items.iter().map(key).collect();
    keys.iter().enumerate().any(|(i, k)| keys[..i].contains(k))
}

fn create_port(w: &mut World, input: &Obj) -> Result<Obj, ApiError> {
    let network_id = input
        .get("network_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            neutron_bad(
                "Failed to parse request. Required attribute 'network_id' not specified".into(),
            )
        })?
        .to_string();
    if !w.networks.contains(&network_id) {
        return Err(Coll::Networks.not_found(&network_id));
    }
    let first = input
        .get("fixed_ips")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Value::Null);
    let subnet_id = match first.get("subnet_id").and_then(Value::as_str) {
        Some(s) => s.to_string(),
        None => w.first_subnet(&network_id).ok_or_else(|| {
            neutron_err(
                400,
                "BadRequest",
                format!("Network {network_id} has no subnet."),
            )
        })?,
    };
    let groups: Vec<String> = input
        .get("security_groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut port = w.create_port(NewPort {
        network_id: &network_id,
        subnet_id: &subnet_id,
        ip: first.get("ip_address").and_then(Value::as_str),
        name: input
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        device_owner: input
            .get("device_owner")
            .and_then(Value::as_str)
            .unwrap_or(""),
        device_id: input
            .get("device_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        security_groups: groups,
    })?;
    if let Some(d) = input.get("description") {
        port.insert("description".into(), d.clone());
        w.ports.insert(port.clone());
    }
    Ok(port)
}

async fn update(
    State(s): State<Arc<Shared>>,
    Path((coll, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(s.with(|w| {
        let coll = coll_of(&coll)?;
        let input = wrapped(&body, coll.singular(), neutron_bad)?;
        if coll != Coll::Rules {
            let o = coll.table(w).get(&id).ok_or_else(|| coll.not_found(&id))?;
            check_revision(&headers, o)?;
        }
        let updated = match coll {
            Coll::FloatingIps => w.update_floatingip(&id, &input)?,
            Coll::SecurityGroups => w.update_sg(&id, &input)?,
            Coll::Ports => w.update_port(&id, &input)?,
            Coll::Networks | Coll::Subnets => {
                let o = coll
                    .table_mut(w)
                    .get_mut(&id)
                    .ok_or_else(|| coll.not_found(&id))?;
                for (k, v) in &input {
                    if !matches!(k.as_str(), "name" | "description") {
                        return Err(neutron_err(
                            400,
                            "HTTPBadRequest",
                            format!("Cannot update read-only attribute {k}"),
                        ));
                    }
                    o.insert(k.clone(), v.clone());
                }
                ports::bump(o);
                o.clone()
            }
            Coll::Rules => {
                return Err(neutron_err(
                    400,
                    "HTTPBadRequest",
                    "Security group rules cannot be updated.",
                ))
            }
        };
        Ok((200, Some(json!({ coll.singular(): updated }))))
    }))
}

async fn delete(
    State(s): State<Arc<Shared>>,
    Path((coll, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    respond(s.with(|w| {
        let coll = coll_of(&coll)?;
        if let Some(o) = coll.table(w).get(&id) {
            check_revision(&headers, o)?;
        }
        match coll {
            Coll::FloatingIps => w.delete_floatingip(&id)?,
            Coll::SecurityGroups => w.delete_sg(&id)?,
            Coll::Rules => w.delete_rule(&id)?,
            Coll::Ports => {
                if !w.ports.contains(&id) {
                    return Err(coll.not_found(&id));
                }
                let owner = w.ports.get(&id).map(|p| super::state::str_of(p, "device_owner").to_string()).unwrap_or_default();
                if owner == "Octavia" || owner == "ovn-lb:vip" {
                    return Err(neutron_err(409, "PortInUse", format!("Port {id} is in use by a load balancer.")));
                }
                w.release_port(&id);
            }
            Coll::Networks | Coll::Subnets => {
                return Err(neutron_err(409, "NetworkInUse", format!("Unable to complete operation on {id}: one or more ports have an IP allocation from it.")))
            }
        }
        Ok((204, None))
    }))
}
