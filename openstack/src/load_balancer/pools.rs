//! Octavia pools: `/v2/lbaas/pools`.

use serde::{Deserialize, Serialize};

use super::health_monitors::CreateHealthMonitor;
use super::members::CreateMember;
use super::wire::{default_true, is_empty, null_default, null_true, segment, IdRef};
use super::{LbAlgorithm, OperatingStatus, Protocol, ProvisioningStatus, SessionPersistenceType};
use crate::calls;
use crate::error::Error;
use crate::pagination::{list as list_pages, page, Query};
use crate::session::{ServiceType, Session};

/// A pool as Octavia reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pool {
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
    /// Protocol towards the members.
    pub protocol: Protocol,
    /// Balancing algorithm.
    pub lb_algorithm: LbAlgorithm,
    /// Session persistence; `None` when off.
    #[serde(default)]
    pub session_persistence: Option<SessionPersistence>,
    /// Administratively enabled.
    #[serde(default = "default_true", deserialize_with = "null_true")]
    pub admin_state_up: bool,
    /// Where the last change stands.
    pub provisioning_status: ProvisioningStatus,
    /// Whether it carries traffic.
    pub operating_status: OperatingStatus,
    /// Load balancers it belongs to.
    #[serde(default, deserialize_with = "null_default")]
    pub loadbalancers: Vec<IdRef>,
    /// Listeners using it as default pool.
    #[serde(default, deserialize_with = "null_default")]
    pub listeners: Vec<IdRef>,
    /// Its members.
    #[serde(default, deserialize_with = "null_default")]
    pub members: Vec<IdRef>,
    /// Its health monitor, if any.
    #[serde(default)]
    pub healthmonitor_id: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Creation time (naive UTC).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update (naive UTC), `null` until updated.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Session persistence settings (requests and responses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPersistence {
    /// Kind of stickiness.
    #[serde(rename = "type")]
    pub kind: SessionPersistenceType,
    /// Cookie name (`APP_COOKIE` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_name: Option<String>,
    /// Timeout in seconds (UDP pools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence_timeout: Option<u32>,
    /// Netmask applied to the source address (UDP pools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence_granularity: Option<String>,
}

impl SessionPersistence {
    /// Stickiness by source IP (the only kind every provider offers).
    pub fn source_ip() -> Self {
        SessionPersistence {
            kind: SessionPersistenceType::SourceIp,
            cookie_name: None,
            persistence_timeout: None,
            persistence_granularity: None,
        }
    }
}

/// A pool to create: standalone with [`create`] (the parent is given there), or nested in a
/// fully populated load balancer, where it must have a `name` and may carry its monitor and
/// members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatePool {
    /// Name (required inside a fully populated create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Protocol towards the members.
    pub protocol: Protocol,
    /// Balancing algorithm.
    pub lb_algorithm: LbAlgorithm,
    /// Session persistence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_persistence: Option<SessionPersistence>,
    /// Administratively enabled (server default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// Tags.
    #[serde(skip_serializing_if = "is_empty")]
    pub tags: Vec<String>,
    /// Health monitor created with the pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthmonitor: Option<CreateHealthMonitor>,
    /// Members created with the pool.
    #[serde(skip_serializing_if = "is_empty")]
    pub members: Vec<CreateMember>,
}

impl CreatePool {
    /// A pool with just protocol and algorithm.
    pub fn new(protocol: Protocol, lb_algorithm: LbAlgorithm) -> Self {
        CreatePool {
            name: None,
            description: None,
            protocol,
            lb_algorithm,
            session_persistence: None,
            admin_state_up: None,
            tags: Vec::new(),
            healthmonitor: None,
            members: Vec::new(),
        }
    }
}

/// What a standalone pool hangs from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolParent {
    /// Becomes this listener's default pool (409 if it already has one).
    Listener(String),
    /// Belongs to the load balancer, used by no listener yet.
    LoadBalancer(String),
}

/// `PUT /lbaas/pools/{id}`: only `Some` fields are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdatePool {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lb_algorithm: Option<LbAlgorithm>,
    /// `Some(None)` turns persistence off (sends `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_persistence: Option<Option<SessionPersistence>>,
    /// Enable or disable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// Replaces the tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// Filters for listing pools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPools {
    /// Pools of this load balancer.
    pub loadbalancer_id: Option<String>,
    /// Exact name.
    pub name: Option<String>,
    /// Only those carrying every one of these tags (`tags=a,b`).
    pub tags: Vec<String>,
    /// Only those carrying at least one of these tags (`tags-any=a,b`).
    pub tags_any: Vec<String>,
}

impl ListPools {
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
    #[serde(skip_serializing_if = "Option::is_none")]
    listener_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loadbalancer_id: Option<&'a str>,
    #[serde(flatten)]
    pool: &'a CreatePool,
}

page!(PoolPage, Pool, "pools", "pools_links");

fn collection() -> &'static str {
    "lbaas/pools"
}

fn resource(id: &str) -> Result<String, Error> {
    Ok(format!("lbaas/pools/{}", segment("pool", id)?))
}

/// `POST /lbaas/pools` → 201.
///
/// # Errors
/// 409 if the parent is not ACTIVE (immutable) or the listener already has a default pool;
/// 501 if the provider cannot do the protocol/algorithm/persistence.
pub async fn create(
    session: &Session,
    parent: &PoolParent,
    pool: &CreatePool,
) -> Result<Pool, Error> {
    let (listener_id, loadbalancer_id) = match parent {
        PoolParent::Listener(id) => (Some(id.as_str()), None),
        PoolParent::LoadBalancer(id) => (None, Some(id.as_str())),
    };
    let body = CreateBody {
        listener_id,
        loadbalancer_id,
        pool,
    };
    calls::post_one(
        session,
        ServiceType::LoadBalancer,
        collection(),
        &[201, 202],
        "pool",
        &body,
    )
    .await
}

/// `GET /lbaas/pools/{id}` → 200.
///
/// # Errors
/// 404 (`is_not_found`) when it does not exist.
pub async fn get(session: &Session, id: &str) -> Result<Pool, Error> {
    calls::get_one(session, ServiceType::LoadBalancer, resource(id)?, "pool").await
}

/// `GET /lbaas/pools` (every page) → 200.
///
/// # Errors
/// Any page's error.
pub async fn list(session: &Session, filter: &ListPools) -> Result<Vec<Pool>, Error> {
    list_pages::<PoolPage>(
        session,
        ServiceType::LoadBalancer,
        collection(),
        filter.query(),
    )
    .await
}

/// `PUT /lbaas/pools/{id}` → 200 (api-ref says 202; both accepted).
///
/// # Errors
/// 409 while the load balancer is not ACTIVE.
pub async fn update(session: &Session, id: &str, update: &UpdatePool) -> Result<Pool, Error> {
    calls::put_one(
        session,
        ServiceType::LoadBalancer,
        resource(id)?,
        &[200, 202],
        "pool",
        update,
    )
    .await
}

/// `DELETE /lbaas/pools/{id}` → 204; its members and monitor go with it.
///
/// # Errors
/// 404 when already gone; 409 while the load balancer is not ACTIVE.
pub async fn delete(session: &Session, id: &str) -> Result<(), Error> {
    calls::delete(session, ServiceType::LoadBalancer, resource(id)?).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(collection(), "lbaas/pools");
        assert_eq!(resource("p1").unwrap(), "lbaas/pools/p1");
    }

    #[test]
    fn standalone_create_body_names_the_parent() {
        let mut pool = CreatePool::new(Protocol::Tcp, LbAlgorithm::SourceIpPort);
        pool.name = Some("p".into());
        pool.session_persistence = Some(SessionPersistence::source_ip());
        let body = CreateBody {
            listener_id: Some("l1"),
            loadbalancer_id: None,
            pool: &pool,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"listener_id": "l1", "name": "p", "protocol": "TCP",
                   "lb_algorithm": "SOURCE_IP_PORT", "session_persistence": {"type": "SOURCE_IP"}})
        );
    }

    #[test]
    fn update_can_clear_session_persistence() {
        let update = UpdatePool {
            session_persistence: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            json!({"session_persistence": null})
        );
        let full = UpdatePool {
            name: Some("n".into()),
            description: Some("d".into()),
            lb_algorithm: Some(LbAlgorithm::LeastConnections),
            session_persistence: Some(Some(SessionPersistence {
                kind: SessionPersistenceType::AppCookie,
                cookie_name: Some("c".into()),
                persistence_timeout: None,
                persistence_granularity: None,
            })),
            admin_state_up: Some(false),
            tags: Some(vec![]),
        };
        assert_eq!(
            serde_json::to_value(&full).unwrap(),
            json!({"name": "n", "description": "d", "lb_algorithm": "LEAST_CONNECTIONS",
                   "session_persistence": {"type": "APP_COOKIE", "cookie_name": "c"},
                   "admin_state_up": false, "tags": []})
        );
    }
}
