//! Changing faults (and quotas) while the simulator runs: [`Faults`], from `SimHandle::faults()`.

use std::sync::Arc;

use super::config::{Delays, Provider};
use super::faults::{
    CutOff, CutOffMode, DropRule, ErrorRule, FaultPlan, LatencyRule, LbErrorRule, RouteMatch,
};
use super::shared::Shared;

/// Changes faults while the simulator runs (`handle.faults()`).
#[derive(Debug, Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl Faults {
    fn edit(&self, f: impl FnOnce(&mut FaultPlan)) {
        self.shared.with(|w| f(&mut w.faults.plan));
    }

    /// Replace the whole plan.
    pub fn set(&self, plan: FaultPlan) {
        self.edit(|p| *p = plan);
    }

    /// The plan in force (counters included).
    pub fn plan(&self) -> FaultPlan {
        self.shared.with(|w| w.faults.plan.clone())
    }

    /// Remove every fault.
    pub fn clear(&self) {
        self.set(FaultPlan::default());
    }

    /// Answer matching calls with `status` at `rate`, at most `times` times.
    pub fn error(&self, on: RouteMatch, status: u16, rate: f64, times: Option<u32>) {
        self.edit(|p| {
            p.errors.push(ErrorRule {
                on,
                status,
                rate,
                times,
            })
        });
    }

    /// Drop the connection of matching calls at `rate`, at most `times` times.
    pub fn drop_connections(&self, on: RouteMatch, rate: f64, times: Option<u32>) {
        self.edit(|p| p.drops.push(DropRule { on, rate, times }));
    }

    /// Add latency (simulated seconds) to matching calls.
    pub fn latency(&self, on: RouteMatch, seconds: f64) {
        self.edit(|p| p.latency.push(LatencyRule { on, seconds }));
    }

    /// This load balancer (id or name) goes ERROR.
    pub fn load_balancer_error(&self, id_or_name: &str, persistent: bool) {
        self.edit(|p| {
            p.lb_errors.push(LbErrorRule {
                load_balancer: id_or_name.to_string(),
                persistent,
            })
        });
    }

    /// Provisioning delays for a provider (simulated seconds).
    pub fn delays(&self, provider: Provider, delays: Delays) {
        self.edit(|p| {
            p.delays.insert(provider, delays);
        });
    }

    /// Whether a provider accepts fully populated creates (refused → 501).
    pub fn fully_populated_create(&self, provider: Provider, supported: bool) {
        self.edit(|p| {
            p.no_fully_populated.retain(|x| *x != provider);
            if !supported {
                p.no_fully_populated.push(provider);
            }
        });
    }

    /// Serve `after` more calls, then apply `mode` to every later one.
    pub fn cut_off_after(&self, after: u32, mode: CutOffMode) {
        self.edit(|p| p.cut_off = Some(CutOff { after, mode }));
    }

    /// Revoke every token issued so far.
    pub fn revoke_tokens(&self) {
        self.shared.with(|w| w.revoke_all_tokens());
    }

    /// Change an Octavia quota at run time.
    pub fn octavia_quota(&self, resource: &str, limit: i64) {
        self.shared
            .with(|w| w.octavia_quota.insert(resource.to_string(), limit));
    }

    /// Change a Neutron quota at run time.
    pub fn neutron_quota(&self, resource: &str, limit: i64) {
        self.shared
            .with(|w| w.neutron_quota.insert(resource.to_string(), limit));
    }
}
