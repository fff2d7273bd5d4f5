//! Octavia pool members: `/v2/lbaas/pools/{pool_id}/members`, including the batch update
//! that replaces a pool's whole member list in one call.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::wire::{default_true, is_empty, null_default, null_true, segment, with_raw_body};
use super::{OperatingStatus, ProvisioningStatus};
use crate::calls;
use crate::error::Error;
use crate::pagination::{list as list_pages, page};
use crate::session::{Call, CallClass, ServiceType, Session};

/// A member as Octavia reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Member {
    /// Octavia id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Backend address.
    pub address: String,
    /// Backend port.
    pub protocol_port: u16,
    /// Weight 0–256 (0 = drain).
    #[serde(default)]
    pub weight: Option<u16>,
    /// Backup member (used only when all others are down).
    #[serde(default, deserialize_with = "null_default")]
    pub backup: bool,
    /// Subnet the backend is reached on.
    #[serde(default)]
    pub subnet_id: Option<String>,
    /// Alternative health-check address.
    #[serde(default)]
    pub monitor_address: Option<String>,
    /// Alternative health-check port.
    #[serde(default)]
    pub monitor_port: Option<u16>,
    /// Administratively enabled.
    #[serde(default = "default_true", deserialize_with = "null_true")]
    pub admin_state_up: bool,
    /// Where the last change stands.
    pub provisioning_status: ProvisioningStatus,
    /// Health as seen by the monitor (`NO_MONITOR` without one).
    pub operating_status: OperatingStatus,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Owning project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// `normal` or `direct`.
    #[serde(default)]
    pub vnic_type: Option<String>,
    /// Creation time (naive UTC).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update (naive UTC).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A member to create, inside a pool create, or as one entry of a [`batch_update`].
/// In a batch, members are matched on (`address`, `protocol_port`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateMember {
    /// Backend address (required).
    pub address: String,
    /// Backend port (required).
    pub protocol_port: u16,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Weight 0–256 (server default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    /// Backup member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<bool>,
    /// Subnet (default: the VIP subnet; OVN needs it for other subnets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_id: Option<String>,
    /// Alternative health-check address (OVN → 501).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor_address: Option<String>,
    /// Alternative health-check port (OVN → 501).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor_port: Option<u16>,
    /// Administratively enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// Tags.
    #[serde(skip_serializing_if = "is_empty")]
    pub tags: Vec<String>,
}

impl CreateMember {
    /// A member with just address and port.
    pub fn new(address: impl Into<String>, protocol_port: u16) -> Self {
        CreateMember {
            address: address.into(),
            protocol_port,
            name: None,
            weight: None,
            backup: None,
            subnet_id: None,
            monitor_address: None,
            monitor_port: None,
            admin_state_up: None,
            tags: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct Batch<'a> {
    members: &'a [CreateMember],
}

page!(MemberPage, Member, "members", "members_links");

fn collection(pool_id: &str) -> Result<String, Error> {
    Ok(format!("lbaas/pools/{}/members", segment("pool", pool_id)?))
}

fn resource(pool_id: &str, id: &str) -> Result<String, Error> {
    Ok(format!(
        "lbaas/pools/{}/members/{}",
        segment("pool", pool_id)?,
        segment("member", id)?
    ))
}

/// `GET /lbaas/pools/{pool_id}/members` (every page) → 200.
///
/// # Errors
/// 404 when the pool does not exist.
pub async fn list(session: &Session, pool_id: &str) -> Result<Vec<Member>, Error> {
    list_pages::<MemberPage>(
        session,
        ServiceType::LoadBalancer,
        collection(pool_id)?,
        Vec::new(),
    )
    .await
}

/// `POST /lbaas/pools/{pool_id}/members` → 201.
///
/// # Errors
/// 409 for a duplicate address/port or while the pool/load balancer is not ACTIVE.
pub async fn create(
    session: &Session,
    pool_id: &str,
    member: &CreateMember,
) -> Result<Member, Error> {
    let path = collection(pool_id)?;
    calls::post_one(
        session,
        ServiceType::LoadBalancer,
        path,
        &[201, 202],
        "member",
        member,
    )
    .await
}

/// `DELETE /lbaas/pools/{pool_id}/members/{id}` → 204.
///
/// # Errors
/// 404 when already gone; 409 while the pool/load balancer is not ACTIVE.
pub async fn delete(session: &Session, pool_id: &str, id: &str) -> Result<(), Error> {
    calls::delete(session, ServiceType::LoadBalancer, resource(pool_id, id)?).await
}

/// `PUT /lbaas/pools/{pool_id}/members[?additive_only=true]` → 202, no body: makes the pool's
/// members exactly `members` (matched on address and port; unmatched existing members are
/// deleted unless `additive_only`). The pool and load balancer go `PENDING_UPDATE`; poll them.
/// Sending the same list again still cycles the load balancer, so diff first.
///
/// # Errors
/// 409 while the pool/load balancer is not ACTIVE; 400 for a repeated address/port.
pub async fn batch_update(
    session: &Session,
    pool_id: &str,
    members: &[CreateMember],
    additive_only: bool,
) -> Result<(), Error> {
    session
        .send(batch_call(pool_id, members, additive_only)?)
        .await?;
    Ok(())
}

fn batch_call(pool_id: &str, members: &[CreateMember], additive_only: bool) -> Result<Call, Error> {
    let mut call = Call::new(
        ServiceType::LoadBalancer,
        Method::PUT,
        collection(pool_id)?,
        &[202],
    )
    .class(CallClass::LongWrite);
    if additive_only {
        call = call.query("additive_only", "true");
    }
    with_raw_body(call, "members", &Batch { members })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(collection("p").unwrap(), "lbaas/pools/p/members");
        assert_eq!(resource("p", "m").unwrap(), "lbaas/pools/p/members/m");
    }

    #[test]
    fn create_member_sends_only_what_is_set() {
        assert_eq!(
            serde_json::to_value(CreateMember::new("10.0.0.5", 6443)).unwrap(),
            json!({"address": "10.0.0.5", "protocol_port": 6443})
        );
        let full = CreateMember {
            name: Some("m".into()),
            weight: Some(0),
            backup: Some(true),
            subnet_id: Some("s".into()),
            monitor_address: Some("10.0.0.6".into()),
            monitor_port: Some(8080),
            admin_state_up: Some(false),
            tags: vec!["t".into()],
            ..CreateMember::new("10.0.0.5", 6443)
        };
        assert_eq!(
            serde_json::to_value(full).unwrap(),
            json!({"address": "10.0.0.5", "protocol_port": 6443, "name": "m", "weight": 0,
                   "backup": true, "subnet_id": "s", "monitor_address": "10.0.0.6",
                   "monitor_port": 8080, "admin_state_up": false, "tags": ["t"]})
        );
    }

    #[test]
    fn batch_update_is_a_long_put_expecting_202() {
        let call = batch_call("p", &[CreateMember::new("10.0.0.5", 80)], true).unwrap();
        assert_eq!(call.class, CallClass::LongWrite);
        assert_eq!(call.ok, &[202]);
        assert_eq!(call.method, Method::PUT);
        assert_eq!(
            call.query,
            vec![("additive_only".to_string(), "true".to_string())]
        );
        assert_eq!(
            call.body,
            Some(json!({"members": [{"address": "10.0.0.5", "protocol_port": 80}]}))
        );
        assert!(batch_call("p", &[], false).unwrap().query.is_empty());
    }

    #[test]
    fn an_empty_batch_is_an_empty_list_not_a_missing_key() {
        assert_eq!(
            serde_json::to_value(Batch { members: &[] }).unwrap(),
            json!({"members": []})
        );
    }
}
