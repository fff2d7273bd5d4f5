//! Octavia health monitors: `/v2/lbaas/healthmonitors`.

use serde::{Deserialize, Serialize};

use super::wire::{default_true, is_empty, null_default, null_true, segment, IdRef};
use super::{HttpMethod, MonitorType, OperatingStatus, ProvisioningStatus};
use crate::calls;
use crate::error::Error;
use crate::pagination::{list as list_pages, page, Query};
use crate::session::{ServiceType, Session};

/// A health monitor as Octavia reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HealthMonitor {
    /// Octavia id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Probe type.
    #[serde(rename = "type")]
    pub kind: MonitorType,
    /// Seconds between probes.
    pub delay: u32,
    /// Seconds a probe may take.
    pub timeout: u32,
    /// Successes before a member is ONLINE.
    pub max_retries: u32,
    /// Failures before a member is ERROR.
    #[serde(default)]
    pub max_retries_down: Option<u32>,
    /// HTTP method (HTTP/HTTPS only; `null` otherwise).
    #[serde(default)]
    pub http_method: Option<HttpMethod>,
    /// URL path (HTTP/HTTPS only).
    #[serde(default)]
    pub url_path: Option<String>,
    /// Expected status codes, e.g. `"200"`, `"200,202"`, `"200-204"` (HTTP/HTTPS only).
    #[serde(default)]
    pub expected_codes: Option<String>,
    /// HTTP version 1.0 or 1.1.
    #[serde(default)]
    pub http_version: Option<f64>,
    /// `Host` header for HTTP/1.1 probes.
    #[serde(default)]
    pub domain_name: Option<String>,
    /// The pool it watches.
    #[serde(default, deserialize_with = "null_default")]
    pub pools: Vec<IdRef>,
    /// Administratively enabled.
    #[serde(default = "default_true", deserialize_with = "null_true")]
    pub admin_state_up: bool,
    /// Where the last change stands.
    pub provisioning_status: ProvisioningStatus,
    /// Whether it works.
    pub operating_status: OperatingStatus,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Owning project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Creation time (naive UTC).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update (naive UTC).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A health monitor to create: standalone with [`create`] (the pool is given there) or nested
/// in a pool create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateHealthMonitor {
    /// Probe type.
    #[serde(rename = "type")]
    pub kind: MonitorType,
    /// Seconds between probes.
    pub delay: u32,
    /// Seconds a probe may take (keep it below `delay`; the API does not check).
    pub timeout: u32,
    /// Successes before ONLINE (1–10).
    pub max_retries: u32,
    /// Failures before ERROR (1–10, server default 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries_down: Option<u32>,
    /// HTTP method (HTTP/HTTPS only, else 400).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_method: Option<HttpMethod>,
    /// URL path (HTTP/HTTPS only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_path: Option<String>,
    /// Expected codes (HTTP/HTTPS only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_codes: Option<String>,
    /// HTTP version (1.0 or 1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_version: Option<f64>,
    /// `Host` header (needs HTTP/1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Administratively enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// Tags.
    #[serde(skip_serializing_if = "is_empty")]
    pub tags: Vec<String>,
}

impl CreateHealthMonitor {
    /// A monitor with the four required settings.
    pub fn new(kind: MonitorType, delay: u32, timeout: u32, max_retries: u32) -> Self {
        CreateHealthMonitor {
            kind,
            delay,
            timeout,
            max_retries,
            max_retries_down: None,
            http_method: None,
            url_path: None,
            expected_codes: None,
            http_version: None,
            domain_name: None,
            name: None,
            admin_state_up: None,
            tags: Vec::new(),
        }
    }
}

/// `PUT /lbaas/healthmonitors/{id}`: only `Some` fields are sent (`type`/`pool_id` are fixed).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateHealthMonitor {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Seconds between probes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay: Option<u32>,
    /// Seconds a probe may take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Successes before ONLINE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Failures before ERROR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries_down: Option<u32>,
    /// HTTP method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_method: Option<HttpMethod>,
    /// URL path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_path: Option<String>,
    /// Expected codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_codes: Option<String>,
    /// HTTP version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_version: Option<f64>,
    /// `Some(None)` clears the domain name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<Option<String>>,
    /// Enable or disable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_state_up: Option<bool>,
    /// Replaces the tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// Filters for listing health monitors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListHealthMonitors {
    /// The monitor of this pool.
    pub pool_id: Option<String>,
    /// Only those carrying every one of these tags (`tags=a,b`).
    pub tags: Vec<String>,
    /// Only those carrying at least one of these tags (`tags-any=a,b`).
    pub tags_any: Vec<String>,
}

impl ListHealthMonitors {
    /// The query parameters, in a stable order.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        Query::default()
            .opt("pool_id", &self.pool_id)
            .joined("tags", &self.tags)
            .joined("tags-any", &self.tags_any)
            .pairs()
    }
}

#[derive(Serialize)]
struct CreateBody<'a> {
    pool_id: &'a str,
    #[serde(flatten)]
    monitor: &'a CreateHealthMonitor,
}

page!(
    MonitorPage,
    HealthMonitor,
    "healthmonitors",
    "healthmonitors_links"
);

fn collection() -> &'static str {
    "lbaas/healthmonitors"
}

fn resource(id: &str) -> Result<String, Error> {
    Ok(format!(
        "lbaas/healthmonitors/{}",
        segment("health monitor", id)?
    ))
}

/// `POST /lbaas/healthmonitors` → 201.
///
/// # Errors
/// 409 if the pool already has a monitor or is not ACTIVE; 400 for a type the pool protocol
/// does not allow; 501 for a type the provider cannot do.
pub async fn create(
    session: &Session,
    pool_id: &str,
    monitor: &CreateHealthMonitor,
) -> Result<HealthMonitor, Error> {
    let body = CreateBody { pool_id, monitor };
    calls::post_one(
        session,
        ServiceType::LoadBalancer,
        collection(),
        &[201, 202],
        "healthmonitor",
        &body,
    )
    .await
}

/// `GET /lbaas/healthmonitors/{id}` → 200.
///
/// # Errors
/// 404 when it does not exist.
pub async fn get(session: &Session, id: &str) -> Result<HealthMonitor, Error> {
    calls::get_one(
        session,
        ServiceType::LoadBalancer,
        resource(id)?,
        "healthmonitor",
    )
    .await
}

/// `GET /lbaas/healthmonitors` with filters (every page) → 200.
///
/// # Errors
/// Any page's error.
pub async fn list(
    session: &Session,
    filter: &ListHealthMonitors,
) -> Result<Vec<HealthMonitor>, Error> {
    list_pages::<MonitorPage>(
        session,
        ServiceType::LoadBalancer,
        collection(),
        filter.query(),
    )
    .await
}

/// `PUT /lbaas/healthmonitors/{id}` → 200 (or 202).
///
/// # Errors
/// 409 while the pool/load balancer is not ACTIVE.
pub async fn update(
    session: &Session,
    id: &str,
    update: &UpdateHealthMonitor,
) -> Result<HealthMonitor, Error> {
    calls::put_one(
        session,
        ServiceType::LoadBalancer,
        resource(id)?,
        &[200, 202],
        "healthmonitor",
        update,
    )
    .await
}

/// `DELETE /lbaas/healthmonitors/{id}` → 204.
///
/// # Errors
/// 404 when already gone; 409 while the pool/load balancer is not ACTIVE.
pub async fn delete(session: &Session, id: &str) -> Result<(), Error> {
    calls::delete(session, ServiceType::LoadBalancer, resource(id)?).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        assert_eq!(collection(), "lbaas/healthmonitors");
        assert_eq!(resource("h").unwrap(), "lbaas/healthmonitors/h");
    }

    #[test]
    fn create_body_carries_the_pool_and_spells_the_type() {
        let monitor = CreateHealthMonitor {
            http_method: Some(HttpMethod::Get),
            url_path: Some("/healthz".into()),
            expected_codes: Some("200".into()),
            ..CreateHealthMonitor::new(MonitorType::Https, 5, 3, 3)
        };
        assert_eq!(
            serde_json::to_value(CreateBody {
                pool_id: "p",
                monitor: &monitor
            })
            .unwrap(),
            json!({"pool_id": "p", "type": "HTTPS", "delay": 5, "timeout": 3, "max_retries": 3,
                   "http_method": "GET", "url_path": "/healthz", "expected_codes": "200"})
        );
    }

    #[test]
    fn update_sends_only_what_changes() {
        let update = UpdateHealthMonitor {
            delay: Some(10),
            domain_name: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(update).unwrap(),
            json!({"delay": 10, "domain_name": null})
        );
    }
}
