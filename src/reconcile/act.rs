//! The thin executor: carries out planned [`Step`]s one at a time. Every Octavia change waits
//! for the load balancer to be ACTIVE first (a 409 "immutable" is absorbed by waiting and
//! trying again) and waits for ACTIVE after it, so the next change never races the last.

use std::sync::Mutex;

use openstack::load_balancer::health_monitors::{self, UpdateHealthMonitor};
use openstack::load_balancer::listeners::{self, UpdateListener};
use openstack::load_balancer::load_balancers::{self, UpdateLoadBalancer};
use openstack::load_balancer::members::{self, CreateMember};
use openstack::load_balancer::pools::{self, PoolParent, UpdatePool};
use openstack::network::floating_ips::{self, CreateFloatingIp, UpdateFloatingIp};
use openstack::network::tags::{self, TaggedResource};
use openstack::wait::{wait_until, wait_until_paced, Goal, PaceBook, WaitPolicy};
use openstack::{Error, Session};
use tokio::time::Instant;

use super::bodies::{is_http, listener_body, member_body, monitor_body, persistence, pool_body};
use super::cloud::lb_of;
use super::observed::{ObservedFip, ObservedLb};
use super::plan::Step;
use crate::spec::{DesiredFloatingIp, DesiredListener, DesiredMember, DesiredMonitor, DesiredPool};

pub use super::bodies::{create_body, scaled_policy};

/// How many times a change refused as "immutable" is retried after waiting for ACTIVE.
const IMMUTABLE_RETRIES: u32 = 3;

/// One reconcile's execution context: the session, the wait policy and the overall deadline,
/// and a log of what was changed.
pub struct Exec<'a> {
    /// The cloud.
    pub session: &'a Session,
    /// Poll timing (its budget is cut to the deadline).
    pub policy: WaitPolicy,
    /// When this reconcile stops waiting and reports "still converging".
    pub deadline: Instant,
    /// What was changed, for the outcome and logs.
    pub actions: Vec<String>,
    /// The cloud's recent times per kind of change: waits after a change poll densely around
    /// them and add their own (`None`: the plain backoff).
    pub paces: Option<&'a PaceBook>,
}

/// Kinds of change whose times are learned ([`PaceBook`] keys).
pub mod pace_kind {
    /// A load balancer created (fully populated or bare).
    pub const CREATE: &str = "create";
    /// A change to an existing load balancer or its children.
    pub const UPDATE: &str = "update";
    /// A cascade delete until 404.
    pub const DELETE: &str = "delete";
}

impl<'a> Exec<'a> {
    fn policy_now(&self) -> WaitPolicy {
        let mut p = self.policy.clone();
        p.budget = self.deadline.saturating_duration_since(Instant::now());
        p
    }

    fn record(&mut self, action: String) {
        tracing::info!(action = %action, "changed the cloud");
        self.actions.push(action);
    }

    /// Waits until the load balancer is ACTIVE and returns it.
    ///
    /// # Errors
    /// `ProvisioningFailed` when it goes to ERROR, `WaitTimedOut` past the deadline.
    pub async fn wait_active(&self, lb_id: &str) -> Result<ObservedLb, Error> {
        let last = Mutex::new(None);
        let session = self.session;
        wait_until(
            format!("load balancer {lb_id}"),
            || async {
                let lb = load_balancers::get(session, lb_id).await?;
                let status = lb.provisioning_status.as_str().to_string();
                *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(lb);
                Ok::<_, Error>(status)
            },
            Goal::Active,
            &self.policy_now(),
            std::future::pending::<()>(),
        )
        .await?;
        let lb = last
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .expect("a ready wait fetched the load balancer");
        Ok(lb_of(lb))
    }

    /// Waits until the load balancer is ACTIVE after a change of `kind` answered at `since`:
    /// polls densely around the time such changes took lately, and learns this one's time.
    ///
    /// # Errors
    /// As [`Exec::wait_active`].
    pub async fn wait_after(
        &self,
        kind: &str,
        since: Instant,
        lb_id: &str,
    ) -> Result<ObservedLb, Error> {
        let last = Mutex::new(None);
        let session = self.session;
        let pace = self.paces.and_then(|b| b.pace(kind));
        let waited = wait_until_paced(
            format!("load balancer {lb_id}"),
            || async {
                let lb = load_balancers::get(session, lb_id).await?;
                let status = lb.provisioning_status.as_str().to_string();
                *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(lb);
                Ok::<_, Error>(status)
            },
            Goal::Active,
            &self.policy_now(),
            pace.as_ref(),
            since,
            std::future::pending::<()>(),
        )
        .await?;
        if let Some(book) = self.paces {
            book.record(kind, waited.took);
        }
        tracing::debug!(
            lb = lb_id,
            kind,
            took_ms = waited.took.as_millis() as u64,
            polls = waited.polls,
            "ACTIVE"
        );
        let lb = last
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .expect("a ready wait fetched the load balancer");
        Ok(lb_of(lb))
    }

    /// Waits until a load balancer whose delete was answered at `since` is gone, paced and
    /// learned like [`Exec::wait_after`].
    ///
    /// # Errors
    /// As [`Exec::wait_gone`].
    pub async fn wait_gone_after(&self, since: Instant, lb_id: &str) -> Result<(), Error> {
        let session = self.session;
        let pace = self.paces.and_then(|b| b.pace(pace_kind::DELETE));
        let waited = wait_until_paced(
            format!("load balancer {lb_id}"),
            || async {
                let lb = load_balancers::get(session, lb_id).await?;
                Ok::<_, Error>(lb.provisioning_status.as_str().to_string())
            },
            Goal::Gone,
            &self.policy_now(),
            pace.as_ref(),
            since,
            std::future::pending::<()>(),
        )
        .await?;
        if let Some(book) = self.paces {
            book.record(pace_kind::DELETE, waited.took);
        }
        Ok(())
    }

    /// Waits until the load balancer is gone (404).
    ///
    /// # Errors
    /// `WaitTimedOut` past the deadline; `ProvisioningFailed` if the delete ended in ERROR.
    pub async fn wait_gone(&self, lb_id: &str) -> Result<(), Error> {
        let session = self.session;
        wait_until(
            format!("load balancer {lb_id}"),
            || async {
                let lb = load_balancers::get(session, lb_id).await?;
                Ok::<_, Error>(lb.provisioning_status.as_str().to_string())
            },
            Goal::Gone,
            &self.policy_now(),
            std::future::pending::<()>(),
        )
        .await?;
        Ok(())
    }

    /// Runs one Octavia change: absorbs "immutable" refusals by waiting for ACTIVE and
    /// retrying (bounded), then waits for ACTIVE after the change.
    async fn octavia<T, F, Fut>(
        &mut self,
        lb_id: &str,
        what: String,
        mut call: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        let mut tries = 0;
        let value = loop {
            match call().await {
                Ok(v) => break v,
                Err(e) if e.is_immutable_conflict() && tries < IMMUTABLE_RETRIES => {
                    tries += 1;
                    tracing::debug!(lb = lb_id, what = %what, "load balancer busy; waiting for ACTIVE before retrying");
                    self.wait_active(lb_id).await?;
                }
                Err(e) => return Err(e),
            }
        };
        let since = Instant::now();
        self.record(what);
        self.wait_after(pace_kind::UPDATE, since, lb_id).await?;
        Ok(value)
    }

    /// Carries out one planned step on the ACTIVE load balancer `lb`. Floating-IP steps
    /// update `fip` (the address to answer with).
    ///
    /// # Errors
    /// The first cloud error; nothing after it is attempted.
    pub async fn step(
        &mut self,
        lb: &ObservedLb,
        step: &Step,
        fip: &mut Option<ObservedFip>,
    ) -> Result<(), Error> {
        let id = lb.id.as_str();
        match step {
            Step::CreateLoadBalancer | Step::Rebuild { .. } => {
                unreachable!("create and rebuild are carried out by the reconcile flow")
            }
            Step::UpdateLoadBalancer {
                name,
                description,
                tags,
            } => {
                let update = UpdateLoadBalancer {
                    name: name.clone(),
                    description: description.clone(),
                    tags: tags.clone(),
                    ..Default::default()
                };
                self.update_load_balancer(id, &update).await
            }
            Step::CreateListener(l) => self.create_listener(id, l).await,
            Step::UpdateListener {
                id: lid,
                name,
                allowed_cidrs,
            } => {
                let update = UpdateListener {
                    name: name.clone(),
                    allowed_cidrs: allowed_cidrs.clone(),
                    ..Default::default()
                };
                self.update_listener(id, lid, &update).await
            }
            Step::DeleteListener { id: lid, pool_id } => {
                self.delete_listener(id, lid, pool_id.as_deref()).await
            }
            Step::CreatePool { listener_id, pool } => self.create_pool(id, listener_id, pool).await,
            Step::DeletePool { id: pid } => self.delete_pool(id, pid).await,
            Step::UpdatePool { id: pid, pool } => self.update_pool(id, pid, pool).await,
            Step::SetMembers { pool_id, members } => self.set_members(id, pool_id, members).await,
            Step::CreateMonitor { pool_id, monitor } => {
                self.create_monitor(id, pool_id, monitor).await
            }
            Step::UpdateMonitor { id: mid, monitor } => self.update_monitor(id, mid, monitor).await,
            Step::DeleteMonitor { id: mid } => self.delete_monitor(id, mid).await,
            Step::CreateFloatingIp(want) => {
                *fip = Some(self.create_floating_ip(lb, want).await?);
                Ok(())
            }
            Step::BindFloatingIp { id: fid } => {
                *fip = Some(self.bind_floating_ip(lb, fid).await?);
                Ok(())
            }
            Step::TagFloatingIp { id: fid, tags } => self.tag_floating_ip(fid, tags).await,
            Step::DeleteFloatingIp { id: fid } => {
                self.delete_floating_ip(fid).await?;
                if fip.as_ref().is_some_and(|f| &f.id == fid) {
                    *fip = None;
                }
                Ok(())
            }
        }
    }

    async fn update_load_balancer(
        &mut self,
        lb_id: &str,
        update: &UpdateLoadBalancer,
    ) -> Result<(), Error> {
        let s = self.session;
        self.octavia(lb_id, format!("updated load balancer {lb_id}"), || {
            load_balancers::update(s, lb_id, update)
        })
        .await?;
        Ok(())
    }

    async fn update_listener(
        &mut self,
        lb_id: &str,
        listener_id: &str,
        update: &UpdateListener,
    ) -> Result<(), Error> {
        let s = self.session;
        self.octavia(lb_id, format!("updated listener {listener_id}"), || {
            listeners::update(s, listener_id, update)
        })
        .await?;
        Ok(())
    }

    /// Deletes a listener, its default pool first.
    async fn delete_listener(
        &mut self,
        lb_id: &str,
        listener_id: &str,
        pool_id: Option<&str>,
    ) -> Result<(), Error> {
        if let Some(pid) = pool_id {
            self.delete_pool(lb_id, pid).await?;
        }
        let s = self.session;
        self.octavia(lb_id, format!("deleted listener {listener_id}"), || {
            ignore_missing(listeners::delete(s, listener_id))
        })
        .await
    }

    async fn delete_pool(&mut self, lb_id: &str, pool_id: &str) -> Result<(), Error> {
        let s = self.session;
        self.octavia(lb_id, format!("deleted pool {pool_id}"), || {
            ignore_missing(pools::delete(s, pool_id))
        })
        .await
    }

    /// Sends a pool's name, algorithm and session persistence.
    async fn update_pool(
        &mut self,
        lb_id: &str,
        pool_id: &str,
        pool: &DesiredPool,
    ) -> Result<(), Error> {
        let s = self.session;
        let update = UpdatePool {
            name: Some(pool.name.clone()),
            lb_algorithm: Some(pool.algorithm.clone()),
            session_persistence: Some(persistence(pool)),
            ..Default::default()
        };
        self.octavia(
            lb_id,
            format!("updated pool {pool_id} ({})", pool.algorithm),
            || pools::update(s, pool_id, &update),
        )
        .await?;
        Ok(())
    }

    async fn create_monitor(
        &mut self,
        lb_id: &str,
        pool_id: &str,
        monitor: &DesiredMonitor,
    ) -> Result<(), Error> {
        let s = self.session;
        let body = monitor_body(monitor);
        self.octavia(
            lb_id,
            format!("created {} health monitor on pool {pool_id}", monitor.kind),
            || health_monitors::create(s, pool_id, &body),
        )
        .await?;
        Ok(())
    }

    /// Sends every setting of a monitor (the URL path and expected codes of an HTTP one).
    async fn update_monitor(
        &mut self,
        lb_id: &str,
        monitor_id: &str,
        monitor: &DesiredMonitor,
    ) -> Result<(), Error> {
        let s = self.session;
        let http = is_http(&monitor.kind);
        let update = UpdateHealthMonitor {
            name: Some(monitor.name.clone()),
            delay: Some(monitor.delay),
            timeout: Some(monitor.timeout),
            max_retries: Some(monitor.max_retries.into()),
            max_retries_down: Some(monitor.max_retries_down.into()),
            url_path: monitor.url_path.clone().filter(|_| http),
            expected_codes: monitor.expected_codes.clone().filter(|_| http),
            ..Default::default()
        };
        self.octavia(
            lb_id,
            format!("updated health monitor {monitor_id}"),
            || health_monitors::update(s, monitor_id, &update),
        )
        .await?;
        Ok(())
    }

    async fn delete_monitor(&mut self, lb_id: &str, monitor_id: &str) -> Result<(), Error> {
        let s = self.session;
        self.octavia(
            lb_id,
            format!("deleted health monitor {monitor_id}"),
            || ignore_missing(health_monitors::delete(s, monitor_id)),
        )
        .await
    }

    /// Binds an existing floating IP of ours to the load balancer's VIP port.
    async fn bind_floating_ip(
        &mut self,
        lb: &ObservedLb,
        fip_id: &str,
    ) -> Result<ObservedFip, Error> {
        let update = UpdateFloatingIp {
            port_id: Some(lb.vip_port_id.clone()),
            ..Default::default()
        };
        let f = floating_ips::update(self.session, fip_id, &update).await?;
        self.record(format!(
            "bound floating IP {} to load balancer {}",
            f.floating_ip_address, lb.id
        ));
        Ok(super::cloud::fip_of(f))
    }

    async fn tag_floating_ip(&mut self, fip_id: &str, tags: &[String]) -> Result<(), Error> {
        tags::replace(self.session, TaggedResource::FloatingIp, fip_id, tags).await?;
        self.record(format!("tagged floating IP {fip_id}"));
        Ok(())
    }

    /// Deletes a floating IP of ours (already gone is fine).
    async fn delete_floating_ip(&mut self, fip_id: &str) -> Result<(), Error> {
        match floating_ips::delete(self.session, fip_id).await {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => {}
        }
        self.record(format!("deleted floating IP {fip_id}"));
        Ok(())
    }

    /// Creates a floating IP already bound to the VIP port (one call), then tags it.
    ///
    /// # Errors
    /// Neutron's errors (quota, no route from the external network…).
    pub async fn create_floating_ip(
        &mut self,
        lb: &ObservedLb,
        want: &DesiredFloatingIp,
    ) -> Result<ObservedFip, Error> {
        let body = CreateFloatingIp {
            floating_network_id: want.network_id.clone(),
            port_id: lb.vip_port_id.clone(),
            description: Some(want.description.clone()),
            ..Default::default()
        };
        let created = floating_ips::create(self.session, &body).await?;
        self.record(format!(
            "created floating IP {} for load balancer {}",
            created.floating_ip_address, lb.id
        ));
        let tagged = tags::replace(
            self.session,
            TaggedResource::FloatingIp,
            &created.id,
            &want.tags,
        )
        .await?;
        let mut f = super::cloud::fip_of(created);
        f.tags = tagged;
        Ok(f)
    }

    async fn create_listener(&mut self, lb_id: &str, l: &DesiredListener) -> Result<(), Error> {
        let s = self.session;
        let body = listener_body(l);
        let created = self
            .octavia(
                lb_id,
                format!("created listener {} {}", l.protocol, l.port),
                || listeners::create(s, lb_id, &body),
            )
            .await?;
        self.create_pool(lb_id, &created.id, &l.pool).await
    }

    async fn create_pool(
        &mut self,
        lb_id: &str,
        listener_id: &str,
        p: &DesiredPool,
    ) -> Result<(), Error> {
        let s = self.session;
        let body = pool_body(p, false);
        let parent = PoolParent::Listener(listener_id.to_string());
        let created = self
            .octavia(
                lb_id,
                format!("created pool {} ({})", p.name, p.algorithm),
                || pools::create(s, &parent, &body),
            )
            .await?;
        self.set_members(lb_id, &created.id, &p.members).await?;
        if let Some(m) = &p.monitor {
            self.create_monitor(lb_id, &created.id, m).await?;
        }
        Ok(())
    }

    /// Makes a pool's members exactly `members` with one batch call; falls back to one call
    /// per member when the provider has no batch update. `want` is never empty: a request
    /// without backends is refused before acting ([`crate::spec::SpecError::NoBackends`]).
    async fn set_members(
        &mut self,
        lb_id: &str,
        pool_id: &str,
        want: &[DesiredMember],
    ) -> Result<(), Error> {
        let s = self.session;
        let body: Vec<CreateMember> = want.iter().map(member_body).collect();
        let what = format!("set {} members on pool {pool_id}", want.len());
        match self
            .octavia(lb_id, what, || {
                members::batch_update(s, pool_id, &body, false)
            })
            .await
        {
            Err(e) if e.is_not_implemented() || e.status() == Some(405) => {
                tracing::info!(
                    pool = pool_id,
                    "batch member update unsupported; changing members one by one"
                );
                self.members_one_by_one(lb_id, pool_id, want).await
            }
            other => other,
        }
    }

    async fn members_one_by_one(
        &mut self,
        lb_id: &str,
        pool_id: &str,
        want: &[DesiredMember],
    ) -> Result<(), Error> {
        let s = self.session;
        let have = members::list(s, pool_id).await?;
        for m in want {
            if !have
                .iter()
                .any(|h| h.address == m.address && h.protocol_port == m.port)
            {
                let body = member_body(m);
                self.octavia(
                    lb_id,
                    format!("added member {}:{}", m.address, m.port),
                    || members::create(s, pool_id, &body),
                )
                .await?;
            }
        }
        for h in &have {
            if !want
                .iter()
                .any(|m| h.address == m.address && h.protocol_port == m.port)
            {
                let mid = h.id.clone();
                self.octavia(
                    lb_id,
                    format!("removed member {}:{}", h.address, h.protocol_port),
                    || ignore_missing(members::delete(s, pool_id, &mid)),
                )
                .await?;
            }
        }
        Ok(())
    }
}

async fn ignore_missing(
    call: impl std::future::Future<Output = Result<(), Error>>,
) -> Result<(), Error> {
    match call.await {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}
