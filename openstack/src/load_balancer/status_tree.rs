//! The status tree of a load balancer (`GET /lbaas/loadbalancers/{id}/status`): every child's
//! statuses in one call.

use serde::{Deserialize, Deserializer};

use super::wire::null_default;
use super::{MonitorType, OperatingStatus, ProvisioningStatus};

/// `{"statuses": {"loadbalancer": ...}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StatusTree {
    /// The load balancer and its children.
    pub loadbalancer: LoadBalancerStatus,
}

/// Load balancer node of the status tree.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LoadBalancerStatus {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Provisioning status.
    pub provisioning_status: ProvisioningStatus,
    /// Operating status.
    pub operating_status: OperatingStatus,
    /// Listeners, each with its pools.
    #[serde(default, deserialize_with = "null_default")]
    pub listeners: Vec<ListenerStatus>,
    /// All pools of the load balancer.
    #[serde(default, deserialize_with = "null_default")]
    pub pools: Vec<PoolStatus>,
}

/// Listener node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ListenerStatus {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Provisioning status.
    pub provisioning_status: ProvisioningStatus,
    /// Operating status.
    pub operating_status: OperatingStatus,
    /// Pools used by this listener.
    #[serde(default, deserialize_with = "null_default")]
    pub pools: Vec<PoolStatus>,
}

/// Pool node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PoolStatus {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Provisioning status.
    pub provisioning_status: ProvisioningStatus,
    /// Operating status.
    pub operating_status: OperatingStatus,
    /// Members.
    #[serde(default, deserialize_with = "null_default")]
    pub members: Vec<MemberStatus>,
    /// The monitor. The server writes `health_monitor`; the api-ref example writes
    /// `healthmonitor` and `{}` for "none" — all accepted.
    #[serde(
        default,
        alias = "healthmonitor",
        deserialize_with = "empty_object_as_none"
    )]
    pub health_monitor: Option<MonitorStatus>,
}

/// Member node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MemberStatus {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Address.
    #[serde(default)]
    pub address: Option<String>,
    /// Port.
    #[serde(default)]
    pub protocol_port: Option<u16>,
    /// Provisioning status.
    pub provisioning_status: ProvisioningStatus,
    /// Operating status.
    pub operating_status: OperatingStatus,
}

/// Health monitor node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MonitorStatus {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Probe type.
    #[serde(default, rename = "type")]
    pub kind: Option<MonitorType>,
    /// Provisioning status.
    pub provisioning_status: ProvisioningStatus,
    /// Operating status (not always present).
    #[serde(default)]
    pub operating_status: Option<OperatingStatus>,
}

/// `null`, absent and `{}` all mean "no monitor".
fn empty_object_as_none<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<MonitorStatus>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    match value {
        None => Ok(None),
        Some(serde_json::Value::Object(map)) if map.is_empty() => Ok(None),
        Some(v) => MonitorStatus::deserialize(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pool(extra: serde_json::Value) -> serde_json::Value {
        let mut p =
            json!({"id": "p", "provisioning_status": "ACTIVE", "operating_status": "ONLINE"});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    }

    #[test]
    fn monitor_key_spelled_either_way_and_empty_object_is_none() {
        let hm = json!({"id": "h", "provisioning_status": "ACTIVE", "type": "TCP"});
        let a: PoolStatus = serde_json::from_value(pool(json!({"health_monitor": hm}))).unwrap();
        let b: PoolStatus = serde_json::from_value(pool(json!({"healthmonitor": hm}))).unwrap();
        assert_eq!(
            a.health_monitor.as_ref().unwrap().kind,
            Some(MonitorType::Tcp)
        );
        assert_eq!(a, b);
        let c: PoolStatus = serde_json::from_value(pool(json!({"healthmonitor": {}}))).unwrap();
        assert_eq!(c.health_monitor, None);
        let d: PoolStatus = serde_json::from_value(pool(json!({}))).unwrap();
        assert_eq!(d.health_monitor, None);
    }
}
