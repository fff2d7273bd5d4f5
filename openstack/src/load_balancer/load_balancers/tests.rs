use super::*;
use crate::load_balancer::health_monitors::CreateHealthMonitor;
use crate::load_balancer::listeners::{CreateListener, DefaultPool};
use crate::load_balancer::members::CreateMember;
use crate::load_balancer::pools::CreatePool;
use crate::load_balancer::{LbAlgorithm, MonitorType, Protocol, ProvisioningStatus};
use serde_json::json;

#[test]
fn paths() {
    assert_eq!(collection(), "lbaas/loadbalancers");
    assert_eq!(resource("x").unwrap(), "lbaas/loadbalancers/x");
    assert_eq!(
        failover_path("x").unwrap(),
        "lbaas/loadbalancers/x/failover"
    );
    assert_eq!(status_path("x").unwrap(), "lbaas/loadbalancers/x/status");
}

#[test]
fn plain_create_sends_only_what_is_set() {
    let lb = CreateLoadBalancer {
        name: Some("lb".into()),
        vip_subnet_id: Some("s".into()),
        tags: vec!["a".into()],
        ..Default::default()
    };
    assert!(!lb.is_fully_populated());
    assert_eq!(
        serde_json::to_value(&lb).unwrap(),
        json!({"name": "lb", "vip_subnet_id": "s", "tags": ["a"]})
    );
}

#[test]
fn fully_populated_create_nests_listener_pool_monitor_members() {
    let pool = CreatePool {
        name: Some("p-443".into()),
        healthmonitor: Some(CreateHealthMonitor::new(MonitorType::Tcp, 5, 3, 3)),
        members: vec![CreateMember {
            subnet_id: Some("ms".into()),
            ..CreateMember::new("10.0.0.11", 6443)
        }],
        ..CreatePool::new(Protocol::Tcp, LbAlgorithm::RoundRobin)
    };
    let listener = CreateListener {
        name: Some("l-443".into()),
        default_pool: Some(DefaultPool::Define(Box::new(pool))),
        ..CreateListener::new(Protocol::Tcp, 443)
    };
    let lb = CreateLoadBalancer {
        name: Some("lb1".into()),
        vip_subnet_id: Some("vs".into()),
        provider: Some("amphora".into()),
        listeners: vec![listener],
        ..Default::default()
    };
    assert!(lb.is_fully_populated());
    assert_eq!(
        serde_json::to_value(&lb).unwrap(),
        json!({"name": "lb1", "vip_subnet_id": "vs", "provider": "amphora",
          "listeners": [{"name": "l-443", "protocol": "TCP", "protocol_port": 443,
            "default_pool": {"name": "p-443", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
              "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3},
              "members": [{"address": "10.0.0.11", "protocol_port": 6443, "subnet_id": "ms"}]}}]})
    );
}

#[test]
fn fully_populated_create_uses_the_long_timeout_class() {
    let plain = CreateLoadBalancer {
        vip_subnet_id: Some("s".into()),
        ..Default::default()
    };
    let call = create_call(&plain).unwrap();
    assert_eq!(call.class, crate::session::CallClass::Write);
    assert_eq!(call.ok, &[201, 202]);
    let full = CreateLoadBalancer {
        listeners: vec![CreateListener::new(Protocol::Tcp, 443)],
        ..plain
    };
    let call = create_call(&full).unwrap();
    assert_eq!(call.class, crate::session::CallClass::LongWrite);
    assert_eq!(
        call.body.unwrap()["loadbalancer"]["listeners"][0]["protocol_port"],
        443
    );
}

#[test]
fn update_distinguishes_leave_alone_clear_and_set() {
    assert_eq!(
        serde_json::to_value(UpdateLoadBalancer::default()).unwrap(),
        json!({})
    );
    let update = UpdateLoadBalancer {
        vip_qos_policy_id: Some(None),
        tags: Some(vec![]),
        admin_state_up: Some(false),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(update).unwrap(),
        json!({"vip_qos_policy_id": null, "tags": [], "admin_state_up": false})
    );
}

#[test]
fn list_query_joins_tags_with_commas() {
    let filter = ListLoadBalancers {
        name: Some("n".into()),
        tags: vec!["a".into(), "b".into()],
        tags_any: vec!["c".into()],
        project_id: Some("p".into()),
        vip_port_id: None,
    };
    assert_eq!(
        filter.query(),
        vec![
            ("name", "n".to_string()),
            ("tags", "a,b".into()),
            ("tags-any", "c".into()),
            ("project_id", "p".into())
        ]
    );
    assert!(ListLoadBalancers::default().query().is_empty());
}

#[test]
fn read_type_tolerates_old_and_new_servers() {
    let lb: LoadBalancer = serde_json::from_value(json!({
        "id": "x", "provisioning_status": "PENDING_CREATE", "operating_status": "OFFLINE",
        "updated_at": null, "name": null, "flavor_id": "", "tags": null,
        "listeners": [{"id": "l", "name": "n", "protocol": "TCP"}],
        "vip_vnic_type": "direct", "some_new_field": {"a": 1}
    }))
    .unwrap();
    assert_eq!(lb.provisioning_status, ProvisioningStatus::PendingCreate);
    assert_eq!(lb.name, "");
    assert_eq!(lb.flavor(), None);
    assert!(lb.admin_state_up);
    assert_eq!(lb.listeners[0].id, "l");
    assert_eq!(lb.updated_at, None);
}
