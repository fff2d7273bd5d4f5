//! Octavia listeners: `/v2/lbaas/listeners`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::pools::CreatePool;
use super::wire::{default_true, is_empty, null_default, null_true, segment, IdRef};
use super::{OperatingStatus, Protocol, ProvisioningStatus};
use crate::calls;
use crate::error::Error;
use crate::pagination::{list as list_pages, page, Query};
use crate::session::{ServiceType, Session};

/// A listener as Octavia reports it (TLS fields are not modelled).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Listener {
    /// Octavia id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description.
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Owning project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Front-end protocol.
    pub protocol: Protocol,
    /// Front-end port.
    pub protocol_port: u16,
    /// Where the last change stands.
    pub provisioning_status: ProvisioningStatus,
    /// Whether it carries traffic.
    pub operating_status: OperatingStatus,
    /// Administratively enabled.
    #[serde(default = "default_true", deserialize_with = "null_true")]
    pub admin_state_up: bool,
    /// Connection limit (-1 = unlimited).
    #[serde(default)]
    pub connection_limit: Option<i64>,
    /// The default pool, if any.
    #[serde(default)]
    pub default_pool_id: Option<String>,
    /// The load balancer(s) it belongs to.
    #[serde(default, deserialize_with = "null_default")]
    pub loadbalancers: Vec<IdRef>,
    /// L7 policies.
    #[serde(default, deserialize_with = "null_default")]
    pub l7policies: Vec<IdRef>,
    /// Allowed source CIDRs; empty (the server sends `null`) means everyone.
    #[serde(default, deserialize_with = "null_default")]
    pub allowed_cidrs: Vec<String>,
    /// Inserted HTTP headers.
    #[serde(default, deserialize_with = "null_default")]
    pub insert_headers: BTreeMap<String, String>,
    /// Client inactivity timeout, ms.
    #[serde(default)]
    pub timeout_client_data: Option<u64>,
    /// Member connect timeout, ms.
    #[serde(default)]
    pub timeout_member_connect: Option<u64>,
    /// Member inactivity timeout, ms.
    #[serde(default)]
    pub timeout_member_data: Option<u64>,
    /// TCP inspect wait, ms.
    #[serde(default)]
    pub timeout_tcp_inspect: Option<u64>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Creation time (naive UTC).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update (naive UTC).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// The default pool of a listener inside a fully populated create: defined here, or a
/// reference by name to a pool defined in the load balancer's `pools`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DefaultPool {
    /// The full pool definition (it must have a `name`).
    Define(Box<CreatePool>),
    /// A pool defined once elsewhere in the same request.
    Named {
        /// That pool's name.
        name: String,
    },
}

/// A listener to create: standalone with [`create`] (the load balancer is given there) or
/// nested in a fully populated load balancer create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateListener {
    /// Front-end protocol.
    pub protocol: Protocol,
    /// Front-end port.
    pub protocol_port: u16,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Administratively enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// Connection limit (-1 = unlimited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_limit: Option<i64>,
    /// Existing pool to use as default (standalone create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_pool_id: Option<String>,
    /// Pool created with the listener (fully populated create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_pool: Option<DefaultPool>,
    /// Allowed source CIDRs (API ≥ 2.12; OVN → 501). Empty = not sent = everyone.
    #[serde(skip_serializing_if = "is_empty")]
    pub allowed_cidrs: Vec<String>,
    /// Inserted HTTP headers (HTTP listeners only).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub insert_headers: BTreeMap<String, String>,
    /// Client inactivity timeout, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_client_data: Option<u64>,
    /// Member connect timeout, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_member_connect: Option<u64>,
    /// Member inactivity timeout, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_member_data: Option<u64>,
    /// TCP inspect wait, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_tcp_inspect: Option<u64>,
    /// Tags.
    #[serde(skip_serializing_if = "is_empty")]
    pub tags: Vec<String>,
}

impl CreateListener {
    /// A listener with just protocol and port.
    pub fn new(protocol: Protocol, protocol_port: u16) -> Self {
        CreateListener {
            protocol,
            protocol_port,
            name: None,
            description: None,
            admin_state_up: None,
            connection_limit: None,
            default_pool_id: None,
            default_pool: None,
            allowed_cidrs: Vec::new(),
            insert_headers: BTreeMap::new(),
            timeout_client_data: None,
            timeout_member_connect: None,
            timeout_member_data: None,
            timeout_tcp_inspect: None,
            tags: Vec::new(),
        }
    }
}

/// `PUT /lbaas/listeners/{id}`: only `Some` fields are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateListener {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Enable or disable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// Connection limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_limit: Option<i64>,
    /// `Some(None)` detaches the default pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_pool_id: Option<Option<String>>,
    /// Replaces the allowed CIDRs (`Some(vec![])` allows everyone again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_cidrs: Option<Vec<String>>,
    /// Replaces the inserted HTTP headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insert_headers: Option<BTreeMap<String, String>>,
    /// Client inactivity timeout, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_client_data: Option<u64>,
    /// Member connect timeout, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_member_connect: Option<u64>,
    /// Member inactivity timeout, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_member_data: Option<u64>,
    /// TCP inspect wait, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_tcp_inspect: Option<u64>,
    /// Replaces the tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// Filters for listing listeners.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListListeners {
    /// Listeners of this load balancer.
    pub loadbalancer_id: Option<String>,
    /// Exact name.
    pub name: Option<String>,
    /// Only those carrying every one of these tags (`tags=a,b`).
    pub tags: Vec<String>,
    /// Only those carrying at least one of these tags (`tags-any=a,b`).
    pub tags_any: Vec<String>,
}

impl ListListeners {
    /// The query parameters, in a stable order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        Query::default()
            .opt("loadbalancer_id", &self.loadbalancer_id)
            .opt("name", &self.name)
            .joined("tags", &self.tags)
            .joined("tags-any", &self.tags_any)
            .pairs()
    }
}

#[derive(Serialize)]
struct CreateBody<'a> {
    loadbalancer_id: &'a str,
    #[serde(flatten)]
    listener: &'a CreateListener,
}

page!(ListenerPage, Listener, "listeners", "listeners_links");

fn collection() -> &'static str {
    "lbaas/listeners"
}

fn resource(id: &str) -> Result<String, Error> {
    Ok(format!("lbaas/listeners/{}", segment("listener", id)?))
}

/// `POST /lbaas/listeners` → 201.
///
/// # Errors
/// 409 for a port already used on the load balancer or while it is not ACTIVE; 501 when the
/// provider cannot do the protocol or `allowed_cidrs`.
pub async fn create(
    session: &Session,
    loadbalancer_id: &str,
    listener: &CreateListener,
) -> Result<Listener, Error> {
    let body = CreateBody {
        loadbalancer_id,
        listener,
    };
    calls::post_one(
        session,
        ServiceType::LoadBalancer,
        collection(),
        &[201, 202],
        "listener",
        &body,
    )
    .await
}

/// `GET /lbaas/listeners/{id}` → 200.
///
/// # Errors
/// 404 when it does not exist.
pub async fn get(session: &Session, id: &str) -> Result<Listener, Error> {
    calls::get_one(
        session,
        ServiceType::LoadBalancer,
        resource(id)?,
        "listener",
    )
    .await
}

/// `GET /lbaas/listeners` (every page) → 200.
///
/// # Errors
/// Any page's error.
pub async fn list(session: &Session, filter: &ListListeners) -> Result<Vec<Listener>, Error> {
    list_pages::<ListenerPage>(
        session,
        ServiceType::LoadBalancer,
        collection(),
        filter.query(),
    )
    .await
}

/// `PUT /lbaas/listeners/{id}` → 200 (or 202).
///
/// # Errors
/// 409 while the load balancer is not ACTIVE.
pub async fn update(
    session: &Session,
    id: &str,
    update: &UpdateListener,
) -> Result<Listener, Error> {
    calls::put_one(
        session,
        ServiceType::LoadBalancer,
        resource(id)?,
        &[200, 202],
        "listener",
        update,
    )
    .await
}

/// `DELETE /lbaas/listeners/{id}` → 204.
///
/// # Errors
/// 404 when already gone; 409 while the load balancer is not ACTIVE.
pub async fn delete(session: &Session, id: &str) -> Result<(), Error> {
    calls::delete(session, ServiceType::LoadBalancer, resource(id)?).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_balancer::LbAlgorithm;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(collection(), "lbaas/listeners");
        assert_eq!(resource("l").unwrap(), "lbaas/listeners/l");
    }

    #[test]
    fn standalone_create_body() {
        let listener = CreateListener {
            name: Some("api".into()),
            allowed_cidrs: vec!["10.0.0.0/8".into()],
            ..CreateListener::new(Protocol::Tcp, 443)
        };
        assert_eq!(
            serde_json::to_value(CreateBody {
                loadbalancer_id: "lb",
                listener: &listener
            })
            .unwrap(),
            json!({"loadbalancer_id": "lb", "protocol": "TCP", "protocol_port": 443,
                   "name": "api", "allowed_cidrs": ["10.0.0.0/8"]})
        );
    }

    #[test]
    fn default_pool_is_a_definition_or_a_name() {
        let defined = DefaultPool::Define(Box::new(CreatePool::new(
            Protocol::Tcp,
            LbAlgorithm::RoundRobin,
        )));
        assert_eq!(
            serde_json::to_value(defined).unwrap(),
            json!({"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"})
        );
        let named = DefaultPool::Named { name: "p".into() };
        assert_eq!(serde_json::to_value(named).unwrap(), json!({"name": "p"}));
    }

    #[test]
    fn update_can_detach_the_pool_and_reopen_cidrs() {
        let update = UpdateListener {
            default_pool_id: Some(None),
            allowed_cidrs: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(update).unwrap(),
            json!({"default_pool_id": null, "allowed_cidrs": []})
        );
    }
}
