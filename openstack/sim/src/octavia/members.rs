//! Members: create one, and the batch update that replaces a pool's whole member set (202).

use serde_json::{json, Value};

use super::build::MEMBER_KEYS;
use super::input::*;
use super::kind::{mark, not_found, Kind};
use crate::http::{octavia_err, ApiError};
use crate::state::{field, stamp, str_of, Obj, World};

impl World {
    /// `POST /pools/{pool}/members`.
    pub(crate) fn create_member(&mut self, pool: &str, input: &Obj) -> Result<Obj, ApiError> {
        if !self.pools.contains(pool) {
            return Err(not_found(Kind::Pool, pool));
        }
        self.pool_mutable(pool)?;
        self.octavia_quota_check("member", 1)?;
        let lb = self.pools.get(pool).map(World::lb_of).unwrap_or_default();
        let p = self.provider_of(&lb);
        let has_hm = self.hm_of_pool(pool).is_some();
        let m = self.build_member(input, &lb, has_hm, p)?;
        self.check_member_unique(pool, &m, None)?;
        let id = str_of(&m, "id").to_string();
        self.member_pool.insert(id.clone(), pool.to_string());
        self.members.insert(m);
        self.touch(&lb, Some(pool));
        Ok(self.members.get(&id).cloned().unwrap_or_default())
    }

    fn check_member_unique(
        &self,
        pool: &str,
        m: &Obj,
        except: Option<&str>,
    ) -> Result<(), ApiError> {
        for other in self.members_of_pool(pool) {
            if Some(other.as_str()) == except {
                continue;
            }
            if let Some(o) = self.members.get(&other) {
                if field(o, "address") == field(m, "address")
                    && field(o, "protocol_port") == field(m, "protocol_port")
                {
                    return Err(octavia_err(
                        409,
                        format!(
                        "Another member on this pool is already using ip {} on protocol_port {}",
                        str_of(m, "address"), field(m, "protocol_port")
                    ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `PUT /pools/{pool}/members`: the whole member set at once (202).
    pub(crate) fn batch_members(
        &mut self,
        pool: &str,
        body: &Value,
        additive_only: bool,
    ) -> Result<(), ApiError> {
        if !self.pools.contains(pool) {
            return Err(not_found(Kind::Pool, pool));
        }
        let items = body
            .get("members")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("members", body, "Mandatory field missing."))?;
        self.pool_mutable(pool)?;
        let lb = self.pools.get(pool).map(World::lb_of).unwrap_or_default();
        let p = self.provider_of(&lb);
        let has_hm = self.hm_of_pool(pool).is_some();
        let existing = self.members_of_pool(pool);
        let mut seen: Vec<(String, i64)> = Vec::new();
        let mut updates: Vec<(String, Obj)> = Vec::new();
        let mut creates: Vec<Obj> = Vec::new();
        for item in items {
            let input = item
                .as_object()
                .cloned()
                .ok_or_else(|| invalid("members", item, "Value should be a list of objects."))?;
            only(&input, "member", MEMBER_KEYS)?;
            let address = req_str(&input, "address")?;
            let port = req_int(&input, "protocol_port", 1, 65535)?;
            if seen.contains(&(address.clone(), port)) {
                return Err(validation(
                    "Member must be updated only once in the same request.",
                ));
            }
            seen.push((address.clone(), port));
            let matched = existing.iter().find(|id| {
                self.members.get(id).is_some_and(|m| {
                    str_of(m, "address") == address
                        && field(m, "protocol_port").as_i64() == Some(port)
                })
            });
            match matched {
                Some(id) => updates.push((id.clone(), input)),
                None => creates.push(self.build_member(&input, &lb, has_hm, p)?),
            }
        }
        let deletes: Vec<String> = if additive_only {
            Vec::new()
        } else {
            existing
                .iter()
                .filter(|id| !updates.iter().any(|(u, _)| u == *id))
                .cloned()
                .collect()
        };
        let net_new = creates.len().saturating_sub(deletes.len());
        self.octavia_quota_check("member", net_new)?;
        for (id, input) in &updates {
            let changes = member_changes(input)?;
            if let Some(m) = self.members.get_mut(id) {
                for (k, v) in changes {
                    m.insert(k, v);
                }
                m.insert("updated_at".into(), json!(stamp::octavia()));
                mark(m, "PENDING_UPDATE");
            }
        }
        for id in &deletes {
            if let Some(m) = self.members.get_mut(id) {
                mark(m, "PENDING_DELETE");
            }
        }
        for m in creates {
            self.member_pool
                .insert(str_of(&m, "id").to_string(), pool.to_string());
            self.members.insert(m);
        }
        self.touch(&lb, Some(pool));
        Ok(())
    }
}

/// Validated member update fields.
pub(crate) fn member_changes(input: &Obj) -> Result<Vec<(String, Value)>, ApiError> {
    let mut out = Vec::new();
    for (k, v) in input {
        let v = match k.as_str() {
            "address" | "protocol_port" | "subnet_id" | "request_sriov" | "project_id"
            | "tenant_id" => continue,
            "weight" => json!(opt_int(input, k, 0, 256)?),
            "monitor_port" => json!(opt_int(input, k, 1, 65535)?),
            "admin_state_up" | "backup" => json!(opt_bool(input, k)?),
            "name" | "monitor_address" => json!(opt_str(input, k)?),
            "tags" => json!(opt_str_list(input, k)?.unwrap_or_default()),
            other => {
                return Err(invalid(
                    "member",
                    v,
                    &format!("Unknown attribute for argument member: {other}"),
                ))
            }
        };
        out.push((k.clone(), v));
    }
    Ok(out)
}
