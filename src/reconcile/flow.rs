//! The reconcile of one request: the desired graph ([`crate::spec::spec()`]), then loop
//! observe → decide → act until the load balancer is as desired (or the budget is spent).

use std::sync::atomic::Ordering;
use std::time::Duration;

use openstack::load_balancer::load_balancers;
use openstack::Error;
use tokio::time::Instant;
use tracing::Instrument;

use super::act::{create_body, pace_kind, Exec};
use super::cloud;
use super::locks::PortLocks;
use super::observed::{Observed, ObservedFip, ObservedLb};
use super::outcome::{outcome_of_error, Outcome, Ready};
use super::plan::{adopted_fip_refusal, decide, plan, plan_floating_ip_for_new, Decision, Step};
use super::repair::{repair_action, RepairAction};
use super::requeue::Setback;
use super::security::{apply_security_group, backends_without_port, plan_security_group, SgPlan};
use super::{Reconciler, RepairMemo};
use crate::relation::v1::{ErrorKind, Failure, Request, RequestField};
use crate::spec::{spec, Cloud, DesiredLb, LbIdentity, Owner, ProviderKind, Spec};

/// Observe/act rounds in one reconcile (create, repair, rebuild each take one).
const MAX_ROUNDS: u32 = 6;

/// A reconcile stops early with an outcome, or on a cloud error.
enum Stop {
    Outcome(Outcome),
    Cloud(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Cloud(e)
    }
}

/// What `plan` shows: the decision and the steps an apply would take now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// What would be done with the load balancer.
    pub decision: Decision,
    /// The changes (empty: nothing to do).
    pub steps: Vec<Step>,
    /// Changes to our security group (`None` when the site does not manage them).
    pub security_group: Option<SgPlan>,
    /// The desired graph.
    pub desired: DesiredLb,
}

impl Reconciler {
    /// Brings the request's load balancer to what `request` asks and answers it. Waits up to
    /// the configured budget for Octavia; past it the outcome is [`Outcome::Converging`] and
    /// a later call continues where this one stopped.
    pub async fn apply(&self, key: &LbIdentity, request: &Request) -> Outcome {
        self.apply_with(key, request, self.options.wait.budget, false)
            .await
    }

    /// As [`Reconciler::apply`], waiting at most `budget`.
    pub async fn apply_within(
        &self,
        key: &LbIdentity,
        request: &Request,
        budget: Duration,
    ) -> Outcome {
        self.apply_with(key, request, budget, false).await
    }

    /// As [`Reconciler::apply`], reading every setting of listeners, pools and monitors
    /// instead of trusting the fingerprint tag (a periodic deep resync).
    pub async fn apply_deep(&self, key: &LbIdentity, request: &Request) -> Outcome {
        self.apply_with(key, request, self.options.wait.budget, true)
            .await
    }

    async fn apply_with(
        &self,
        key: &LbIdentity,
        request: &Request,
        budget: Duration,
        deep: bool,
    ) -> Outcome {
        let _guard = self.locks.acquire(key).await;
        // What a bulk resync remembered of this request's members may be outdated by what
        // this apply changes: the next bulk resync reads them afresh.
        self.forget_members(key);
        let span = tracing::info_span!("reconcile", app = %key.app, request = %key.name);
        async {
            let owner = Owner::new(self.site.cluster_id.clone(), key.clone());
            let desired = match self.desired(&owner, request) {
                Ok(d) => d,
                Err(outcome) => return outcome,
            };
            let mut exec = Exec {
                session: &self.session,
                policy: self.options.wait.clone(),
                deadline: Instant::now() + budget,
                actions: Vec::new(),
                paces: Some(&self.paces),
            };
            let outcome = match self.converge(&mut exec, &owner, &desired, deep).await {
                Ok(ready) => {
                    self.repairs_mut(|m| {
                        m.remove(key);
                    });
                    Outcome::Ready(ready)
                }
                Err(Stop::Outcome(o)) => o,
                Err(Stop::Cloud(e)) => {
                    // The answer leaves the request id out (it must read the same on every
                    // attempt); the log keeps it for the cloud's administrators.
                    tracing::warn!(error = %e, request_id = e.request_id().unwrap_or("-"), "a cloud call failed");
                    outcome_of_error(&e)
                }
            };
            match &outcome {
                Outcome::Ready(r) => tracing::info!(lb = %r.load_balancer_id, address = %r.address, changes = r.actions.len(), "ready"),
                Outcome::Failed { failure, .. } => tracing::warn!(error = %failure, "answered with an error"),
                Outcome::Converging { why, .. } => tracing::info!(why = %why, "still converging"),
            }
            outcome
        }
        .instrument(span)
        .await
    }

    /// What an apply would do now, without changing anything (reads only).
    ///
    /// # Errors
    /// The request's error outcome (unsupported, no backends), or a cloud read error.
    pub async fn plan(&self, key: &LbIdentity, request: &Request) -> Result<Plan, Outcome> {
        let owner = Owner::new(self.site.cluster_id.clone(), key.clone());
        let desired = self.desired(&owner, request)?;
        let observed = cloud::observe(
            &self.session,
            &owner,
            Some(&desired),
            true,
            cloud::Look::First,
        )
        .await
        .map_err(|e| outcome_of_error(&e))?;
        let decision = decide(true, &observed);
        let steps = match &decision {
            Decision::Create => {
                let mut s = vec![Step::CreateLoadBalancer];
                s.extend(plan_floating_ip_for_new(&desired, &observed.floating_ips));
                s
            }
            Decision::Adopt => plan(&desired, &observed.load_balancers[0], &observed),
            _ => Vec::new(),
        };
        let security_group = desired.security_group.as_ref().map(|want| {
            plan_security_group(
                want,
                observed.security_groups.as_deref().unwrap_or(&[]),
                &observed.ports,
            )
        });
        Ok(Plan {
            decision,
            steps,
            security_group,
            desired,
        })
    }

    /// The request's desired graph on this cloud ([`spec()`]), or its `unsupported` answer.
    /// Refused before any cloud call, so a pool is never emptied as a side effect.
    pub(super) fn desired(&self, owner: &Owner, request: &Request) -> Result<DesiredLb, Outcome> {
        let cloud = Cloud {
            key: owner.key(),
            provider: &self.provider,
            site: &self.site,
        };
        let (built, routed) = match spec(request, Some(cloud)) {
            Ok(Some(Spec {
                desired,
                routed_backends,
            })) => (Ok(desired), routed_backends),
            Ok(None) => unreachable!("spec() with a cloud always builds or refuses"),
            Err(refusal) => {
                let routed = refusal.routed_backends().to_vec();
                (Err(refusal), routed)
            }
        };
        // Said even when the graph is refused (for backends of the other family).
        if !routed.is_empty() {
            tracing::warn!(
                backends = %routed.join(", "),
                member_subnet = %self.site.member_subnet_id,
                "these backends are outside the member subnet: reachable only if it routes to \
                 them; if not, set `[load_balancer] member_subnet` to their subnet"
            );
        }
        built.map_err(|refusal| Outcome::Failed {
            kind: ErrorKind::Unsupported,
            failure: refusal.failure(),
            setback: Setback::Unservable,
        })
    }

    pub(super) fn repairs_mut<T>(
        &self,
        f: impl FnOnce(&mut std::collections::HashMap<LbIdentity, RepairMemo>) -> T,
    ) -> T {
        let mut map = self.repairs.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut map)
    }

    async fn converge(
        &self,
        exec: &mut Exec<'_>,
        owner: &Owner,
        desired: &DesiredLb,
        deep: bool,
    ) -> Result<Ready, Stop> {
        let mut last_why = String::from("nothing observed yet");
        for round in 0..MAX_ROUNDS {
            // Later rounds follow a rebuild or a repair: look at everything again.
            let look = if round == 0 {
                cloud::Look::First
            } else {
                cloud::Look::Full
            };
            let observed = cloud::observe(&self.session, owner, Some(desired), deep, look).await?;
            let vip_port = match observed.load_balancers.as_slice() {
                [lb] => lb.vip_port_id.as_deref(),
                _ => None,
            };
            if let Some(why) = adopted_fip_refusal(desired, vip_port, &observed.floating_ips) {
                return Err(Stop::Outcome(Outcome::Failed {
                    kind: ErrorKind::Unsupported,
                    failure: Failure::field(RequestField::IngressAddress, why),
                    setback: Setback::NeedsOperator,
                }));
            }
            let step = match decide(true, &observed) {
                Decision::Ambiguous(ids) => {
                    return Err(Stop::Outcome(Outcome::provider_error(
                        format!(
                            "{} load balancers carry the tags of request {}: {}; delete all but one (or all of them: a new one is built)",
                            ids.len(),
                            owner.key(),
                            ids.join(", ")
                        ),
                        Setback::NeedsOperator,
                    )))
                }
                Decision::Create => self.create(exec, desired, &observed).await,
                Decision::Adopt => self.adopt(exec, desired, &observed).await,
                Decision::Wait => self.wait_pending(exec, &observed).await.map(|_| None),
                Decision::Repair => self.repair(exec, owner, &observed.load_balancers[0]).await.map(|_| None),
                Decision::Delete => unreachable!("decide(true, _) never deletes"),
            };
            match step {
                Ok(Some(ready)) => return Ok(ready),
                Ok(None) => {}
                // ERROR while we waited: the next round repairs it.
                Err(Stop::Cloud(Error::ProvisioningFailed { what, status })) => {
                    last_why = format!("{what} went {status}");
                    tracing::warn!(what = %what, status = %status, "provisioning failed; repairing");
                }
                Err(stop) => return Err(stop),
            }
        }
        Err(Stop::Outcome(Outcome::Converging {
            why: format!("not converged after {MAX_ROUNDS} rounds ({last_why})"),
            setback: Setback::Busy,
        }))
    }

    async fn wait_pending(&self, exec: &mut Exec<'_>, observed: &Observed) -> Result<(), Stop> {
        if let [lb] = observed.load_balancers.as_slice() {
            tracing::info!(lb = %lb.id, status = %lb.provisioning, "load balancer busy; waiting");
            exec.wait_active(&lb.id).await?;
        } else {
            for id in &observed.deleting {
                tracing::info!(lb = %id, "previous load balancer still being deleted; waiting");
                exec.wait_gone(id).await?;
            }
        }
        Ok(())
    }

    async fn create(
        &self,
        exec: &mut Exec<'_>,
        desired: &DesiredLb,
        observed: &Observed,
    ) -> Result<Option<Ready>, Stop> {
        let full = self.fully_populated.load(Ordering::Relaxed);
        let created = match load_balancers::create(exec.session, &create_body(desired, full)).await
        {
            Ok(lb) => lb,
            Err(e) if full && e.is_not_implemented() => {
                tracing::warn!(error = %e, "fully populated create refused; creating step by step from now on");
                self.fully_populated.store(false, Ordering::Relaxed);
                return Ok(None);
            }
            Err(e) if e.is_timeout() || e.is_retryable() && e.status().is_none() => {
                // The cloud may have created it (or may still be creating it): never POST
                // again in this reconcile; the next one looks it up by its tags first.
                tracing::warn!(error = %e, "no answer to the create; it is looked up before any new one");
                return Err(Stop::Outcome(Outcome::Converging {
                    why: format!(
                        "the create got no answer ({e}); looking it up before creating again"
                    ),
                    setback: Setback::Busy,
                }));
            }
            Err(e) => return Err(e.into()),
        };
        let since = Instant::now();
        let lb = cloud::lb_of(created);
        exec_record(
            exec,
            format!("created load balancer {} ({})", lb.id, lb.name),
        );
        // The VIP port exists already: bind the floating IP while Octavia builds.
        let mut fip: Option<ObservedFip> = None;
        for step in plan_floating_ip_for_new(desired, &observed.floating_ips) {
            exec.step(&lb, &step, &mut fip).await?;
        }
        let lb = exec.wait_after(pace_kind::CREATE, since, &lb.id).await?;
        if !full {
            for l in &desired.listeners {
                exec.step(&lb, &Step::CreateListener(l.clone()), &mut fip)
                    .await?;
            }
        }
        ensure_security_group(exec, &self.port_locks, desired, observed).await?;
        ready(desired, &lb, fip, exec).map(Some)
    }

    async fn adopt(
        &self,
        exec: &mut Exec<'_>,
        desired: &DesiredLb,
        observed: &Observed,
    ) -> Result<Option<Ready>, Stop> {
        let lb = observed.load_balancers[0].clone();
        let steps = plan(desired, &lb, observed);
        let mut fip = current_fip(desired, &lb, &observed.floating_ips);
        for step in &steps {
            if let Step::Rebuild { reason } = step {
                tracing::warn!(lb = %lb.id, reason = %reason, "rebuilding the load balancer");
                self.delete_lb(exec, &lb.id).await?;
                exec_record(
                    exec,
                    format!("deleted load balancer {} to rebuild it: {reason}", lb.id),
                );
                return Ok(None);
            }
            exec.step(&lb, step, &mut fip).await?;
        }
        ensure_security_group(exec, &self.port_locks, desired, observed).await?;
        if steps.is_empty() {
            // The members just read are as desired: a bulk resync need not read them again
            // while the pools list the same member ids.
            self.remember_members(desired.owner.key(), observed, &observed.member_ids);
        }
        ready(desired, &lb, fip, exec).map(Some)
    }

    /// Cascade-deletes a load balancer and waits until it is gone (404 = done; ERROR is
    /// deletable; busy → wait and retry).
    pub(super) async fn delete_lb(&self, exec: &mut Exec<'_>, id: &str) -> Result<(), Error> {
        let mut since = Instant::now();
        for attempt in 0..4 {
            match load_balancers::delete(exec.session, id, true).await {
                Ok(()) => {
                    since = Instant::now();
                    break;
                }
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) if e.is_conflict() && attempt < 3 => {
                    // PENDING_* (or already PENDING_DELETE): wait for it to settle.
                    match exec.wait_active(id).await {
                        Ok(_) | Err(Error::ProvisioningFailed { .. }) => {}
                        Err(e) if e.is_not_found() => return Ok(()),
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        exec.wait_gone_after(since, id).await
    }

    async fn repair(
        &self,
        exec: &mut Exec<'_>,
        owner: &Owner,
        lb: &ObservedLb,
    ) -> Result<(), Stop> {
        let key = owner.key().clone();
        let memo = self.repairs_mut(|m| *m.entry(key.clone()).or_default());
        let since = memo.last.map(|t| t.elapsed());
        let can_failover = self.provider.kind == ProviderKind::Amphora;
        let mut action = repair_action(&self.options.repair, can_failover, memo.attempts, since);
        let bump = |this: &Self| {
            this.repairs_mut(|m| {
                let e = m.entry(key.clone()).or_default();
                e.attempts += 1;
                e.last = Some(Instant::now());
            })
        };
        if action == RepairAction::Failover {
            bump(self);
            match load_balancers::failover(exec.session, &lb.id).await {
                Ok(()) => {
                    exec_record(
                        exec,
                        format!("repair 1: failover of load balancer {} (was ERROR)", lb.id),
                    );
                    exec.wait_active(&lb.id).await?;
                    return Ok(());
                }
                Err(e) if matches!(e.status(), Some(403 | 409 | 501)) => {
                    tracing::warn!(lb = %lb.id, error = %e, "failover unavailable; rebuilding instead");
                    action = RepairAction::Rebuild;
                }
                Err(e) => return Err(e.into()),
            }
        }
        match action {
            RepairAction::Rebuild => {
                bump(self);
                let n = memo.attempts + 1;
                exec_record(exec, format!("repair {n}: rebuilding load balancer {} (was ERROR)", lb.id));
                self.delete_lb(exec, &lb.id).await?;
                Ok(())
            }
            RepairAction::Later(after) => Err(Stop::Outcome(Outcome::Converging {
                why: format!(
                    "load balancer {} is in ERROR; repair attempt {} is due in {}s",
                    lb.id,
                    memo.attempts + 1,
                    after.as_secs()
                ),
                setback: Setback::Paced(after),
            })),
            RepairAction::GiveUp(after) => Err(Stop::Outcome(Outcome::provider_error(
                format!(
                    "load balancer {} stays in ERROR after {} repair attempts; check the Octavia logs, then remove and re-apply the request",
                    lb.id, memo.attempts
                ),
                Setback::Paced(after),
            ))),
            RepairAction::Failover => Ok(()),
        }
    }
}

/// Brings our security group on the member ports in line (when the site manages them).
async fn ensure_security_group(
    exec: &mut Exec<'_>,
    locks: &PortLocks,
    desired: &DesiredLb,
    observed: &Observed,
) -> Result<(), Error> {
    let Some(want) = &desired.security_group else {
        return Ok(());
    };
    let groups = observed.security_groups.as_deref().unwrap_or(&[]);
    let unopened = backends_without_port(want, &observed.ports);
    if !unopened.is_empty() {
        tracing::warn!(
            backends = %unopened.join(", "),
            network = want.member_network_id.as_deref().unwrap_or("-"),
            "these backends have no port with port security on the member network: our security \
             group cannot open them; check `[load_balancer] member_subnet`, or open their ports by hand"
        );
    }
    let plan = plan_security_group(want, groups, &observed.ports);
    if !plan.is_empty() {
        for done in apply_security_group(exec.session, locks, want, &plan).await? {
            exec_record(exec, done);
        }
    }
    Ok(())
}

fn exec_record(exec: &mut Exec<'_>, action: String) {
    tracing::info!(action = %action, "changed the cloud");
    exec.actions.push(action);
}

/// The floating IP currently serving the load balancer: one bound to its VIP port on the
/// desired network.
pub(super) fn current_fip(
    desired: &DesiredLb,
    lb: &ObservedLb,
    fips: &[ObservedFip],
) -> Option<ObservedFip> {
    let want = desired.floating_ip.as_ref()?;
    fips.iter()
        .find(|f| {
            f.port_id.is_some() && f.port_id == lb.vip_port_id && f.network_id == want.network_id
        })
        .cloned()
}

fn ready(
    desired: &DesiredLb,
    lb: &ObservedLb,
    fip: Option<ObservedFip>,
    exec: &mut Exec<'_>,
) -> Result<Ready, Stop> {
    ready_with(desired, lb, fip, std::mem::take(&mut exec.actions)).map_err(Stop::Outcome)
}

/// The answer for a load balancer as desired, carrying `actions`; the "still converging"
/// outcome when its VIP or floating IP is not there yet.
pub(super) fn ready_with(
    desired: &DesiredLb,
    lb: &ObservedLb,
    fip: Option<ObservedFip>,
    actions: Vec<String>,
) -> Result<Ready, Outcome> {
    let vip = lb.vip_address.clone().ok_or_else(|| Outcome::Converging {
        why: format!("load balancer {} has no VIP address yet", lb.id),
        setback: Setback::Busy,
    })?;
    let floating = if desired.floating_ip.is_some() {
        Some(fip.map(|f| f.address).ok_or_else(|| Outcome::Converging {
            why: format!("load balancer {} has no floating IP yet", lb.id),
            setback: Setback::Busy,
        })?)
    } else {
        None
    };
    Ok(Ready {
        address: floating.clone().unwrap_or_else(|| vip.clone()),
        load_balancer_id: lb.id.clone(),
        vip_address: vip,
        floating_ip: floating,
        actions,
    })
}
