//! Request bodies for Octavia, from the desired graph.

use std::time::Duration;

use openstack::load_balancer::enums::MonitorType;
use openstack::load_balancer::health_monitors::CreateHealthMonitor;
use openstack::load_balancer::listeners::{CreateListener, DefaultPool};
use openstack::load_balancer::load_balancers::CreateLoadBalancer;
use openstack::load_balancer::members::CreateMember;
use openstack::load_balancer::pools::{CreatePool, SessionPersistence};
use openstack::load_balancer::HttpMethod;
use openstack::wait::WaitPolicy;

use super::plan::lb_tags;
use crate::spec::{DesiredLb, DesiredListener, DesiredMember, DesiredMonitor, DesiredPool};

/// The create body: the whole graph (`full`) or the bare load balancer.
pub fn create_body(d: &DesiredLb, full: bool) -> CreateLoadBalancer {
    CreateLoadBalancer {
        name: Some(d.name.clone()),
        description: Some(d.description.clone()),
        vip_subnet_id: Some(d.vip_subnet_id.clone()),
        vip_address: d.vip_address.clone(),
        provider: d.provider.clone(),
        flavor_id: d.flavor_id.clone(),
        availability_zone: d.availability_zone.clone(),
        tags: lb_tags(d),
        listeners: if full {
            d.listeners
                .iter()
                .map(|l| {
                    let mut body = listener_body(l);
                    body.default_pool =
                        Some(DefaultPool::Define(Box::new(pool_body(&l.pool, true))));
                    body
                })
                .collect()
        } else {
            Vec::new()
        },
        ..Default::default()
    }
}

pub(crate) fn listener_body(l: &DesiredListener) -> CreateListener {
    let mut body = CreateListener::new(l.protocol.clone(), l.port);
    body.name = Some(l.name.clone());
    body.allowed_cidrs = l.allowed_cidrs.clone().unwrap_or_default();
    body.tags = l.tags.clone();
    body
}

pub(crate) fn persistence(p: &DesiredPool) -> Option<SessionPersistence> {
    p.persistence.as_ref().map(|kind| SessionPersistence {
        kind: kind.clone(),
        cookie_name: None,
        persistence_timeout: None,
        persistence_granularity: None,
    })
}

pub(crate) fn pool_body(p: &DesiredPool, with_children: bool) -> CreatePool {
    let mut body = CreatePool::new(p.protocol.clone(), p.algorithm.clone());
    body.name = Some(p.name.clone());
    body.session_persistence = persistence(p);
    body.tags = p.tags.clone();
    if with_children {
        body.members = p.members.iter().map(member_body).collect();
        body.healthmonitor = p.monitor.as_ref().map(monitor_body);
    }
    body
}

pub(crate) fn member_body(m: &DesiredMember) -> CreateMember {
    let mut body = CreateMember::new(m.address.clone(), m.port);
    body.name = Some(m.name.clone());
    body.subnet_id = m.subnet_id.clone();
    body.monitor_port = m.monitor_port;
    body
}

pub(crate) fn is_http(kind: &MonitorType) -> bool {
    matches!(kind, MonitorType::Http | MonitorType::Https)
}

pub(crate) fn monitor_body(m: &DesiredMonitor) -> CreateHealthMonitor {
    let mut body =
        CreateHealthMonitor::new(m.kind.clone(), m.delay, m.timeout, m.max_retries.into());
    body.name = Some(m.name.clone());
    body.max_retries_down = Some(m.max_retries_down.into());
    body.tags = m.tags.clone();
    if is_http(&m.kind) {
        body.http_method = Some(HttpMethod::Get);
        body.url_path = m.url_path.clone();
        body.expected_codes = m.expected_codes.clone();
    }
    body
}

/// The poll timing for tests and for callers that scale the simulated cloud's delays.
pub fn scaled_policy(scale: f64, budget: Duration) -> WaitPolicy {
    let base = WaitPolicy::default();
    WaitPolicy {
        initial: base.initial.mul_f64(scale),
        cap: base.cap.mul_f64(scale),
        budget,
        ..base
    }
}
