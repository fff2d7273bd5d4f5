//! Octavia load balancers: `/v2/lbaas/loadbalancers`.

mod types;

use reqwest::Method;
use serde::Deserialize;

pub use types::{
    AdditionalVip, CreateLoadBalancer, ListLoadBalancers, LoadBalancer, UpdateLoadBalancer,
};

use super::status_tree::StatusTree;
use super::wire::{segment, with_body};
use crate::calls;
use crate::error::Error;
use crate::pagination::{list as list_pages, page};
use crate::session::{Call, CallClass, ServiceType, Session};

#[derive(Deserialize)]
struct Statuses {
    statuses: StatusTree,
}

page!(
    LoadBalancerPage,
    LoadBalancer,
    "loadbalancers",
    "loadbalancers_links"
);

fn collection() -> &'static str {
    "lbaas/loadbalancers"
}

fn resource(id: &str) -> Result<String, Error> {
    Ok(format!(
        "lbaas/loadbalancers/{}",
        segment("load balancer", id)?
    ))
}

fn failover_path(id: &str) -> Result<String, Error> {
    Ok(format!(
        "lbaas/loadbalancers/{}/failover",
        segment("load balancer", id)?
    ))
}

fn status_path(id: &str) -> Result<String, Error> {
    Ok(format!(
        "lbaas/loadbalancers/{}/status",
        segment("load balancer", id)?
    ))
}

/// `GET /lbaas/loadbalancers` with filters, following `loadbalancers_links` → 200.
///
/// # Errors
/// 400 for a filter the server does not know; any page's error.
pub async fn list(
    session: &Session,
    filter: &ListLoadBalancers,
) -> Result<Vec<LoadBalancer>, Error> {
    list_pages::<LoadBalancerPage>(
        session,
        ServiceType::LoadBalancer,
        collection(),
        filter.query(),
    )
    .await
}

/// `GET /lbaas/loadbalancers/{id}` → 200.
///
/// # Errors
/// 404 (`is_not_found`) when it does not exist — the normal end of a delete.
pub async fn get(session: &Session, id: &str) -> Result<LoadBalancer, Error> {
    calls::get_one(
        session,
        ServiceType::LoadBalancer,
        resource(id)?,
        "loadbalancer",
    )
    .await
}

/// `POST /lbaas/loadbalancers` → 201. A fully populated create (listeners/pools set) uses the
/// long timeout class; the answer is `PENDING_CREATE` and the VIP port already exists.
///
/// # Errors
/// 400 for invalid input, 403 quota, 501 provider limits. A timeout may still have created
/// the load balancer: look it up by name before creating again.
pub async fn create(session: &Session, lb: &CreateLoadBalancer) -> Result<LoadBalancer, Error> {
    let reply = session.send(create_call(lb)?).await?;
    calls::one(&reply, "loadbalancer")
}

/// The create call: a fully populated create gets the long timeout class.
fn create_call(lb: &CreateLoadBalancer) -> Result<Call, Error> {
    let class = if lb.is_fully_populated() {
        CallClass::LongWrite
    } else {
        CallClass::Write
    };
    let call = Call::new(
        ServiceType::LoadBalancer,
        Method::POST,
        collection(),
        &[201, 202],
    )
    .class(class);
    with_body(call, "loadbalancer", lb)
}

/// `PUT /lbaas/loadbalancers/{id}` → 200 (api-ref: 202; both accepted).
///
/// # Errors
/// 409 while not ACTIVE.
pub async fn update(
    session: &Session,
    id: &str,
    update: &UpdateLoadBalancer,
) -> Result<LoadBalancer, Error> {
    calls::put_one(
        session,
        ServiceType::LoadBalancer,
        resource(id)?,
        &[200, 202],
        "loadbalancer",
        update,
    )
    .await
}

/// `DELETE /lbaas/loadbalancers/{id}[?cascade=true]` → 204. With `cascade`, every child goes
/// too; without it a load balancer with children is refused (400).
///
/// # Errors
/// 404 when already gone; 409 while not ACTIVE or ERROR.
pub async fn delete(session: &Session, id: &str, cascade: bool) -> Result<(), Error> {
    let mut call = Call::new(
        ServiceType::LoadBalancer,
        Method::DELETE,
        resource(id)?,
        &[204],
    );
    if cascade {
        call = call.query("cascade", "true");
    }
    session.send(call).await?;
    Ok(())
}

/// `PUT /lbaas/loadbalancers/{id}/failover` → 202, no body (admin only; OVN answers 501).
///
/// # Errors
/// 403 without admin rights; 409 while not ACTIVE or ERROR; 501 on providers without failover.
pub async fn failover(session: &Session, id: &str) -> Result<(), Error> {
    let call = Call::new(
        ServiceType::LoadBalancer,
        Method::PUT,
        failover_path(id)?,
        &[202],
    );
    session.send(call).await?;
    Ok(())
}

/// `GET /lbaas/loadbalancers/{id}/status` → 200: the statuses of every child in one call.
///
/// # Errors
/// 404 when the load balancer does not exist.
pub async fn status_tree(session: &Session, id: &str) -> Result<StatusTree, Error> {
    let call = Call::new(
        ServiceType::LoadBalancer,
        Method::GET,
        status_path(id)?,
        &[200],
    );
    Ok(session.send(call).await?.json::<Statuses>()?.statuses)
}

#[cfg(test)]
mod tests;
