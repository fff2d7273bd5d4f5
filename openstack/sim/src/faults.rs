//! Fault injection: what goes wrong, where, and how often. Deterministic given the seed.
//!
//! A [`FaultPlan`] is plain data (it is also what `PUT /_sim/faults` takes as JSON). The
//! simulator consults it on every service call, in this order: cut-off, dropped connection,
//! error status, then added latency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::config::{Delays, Provider};
use super::ids::Ids;

/// Which calls a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteMatch {
    /// HTTP method (`GET`, `POST`, …); `None` = any.
    #[serde(default)]
    pub method: Option<String>,
    /// Route template with ids as `{id}` (e.g. `/load-balancer/v2/lbaas/loadbalancers/{id}`);
    /// `*` matches every route, a trailing `*` matches a prefix.
    pub route: String,
}

impl RouteMatch {
    /// Every route, any method.
    pub fn any() -> Self {
        RouteMatch {
            method: None,
            route: "*".to_string(),
        }
    }

    /// One route template, one method.
    pub fn new(method: &str, route: &str) -> Self {
        RouteMatch {
            method: Some(method.to_ascii_uppercase()),
            route: route.to_string(),
        }
    }

    /// Whether a call matches.
    pub fn matches(&self, method: &str, route: &str) -> bool {
        if let Some(m) = &self.method {
            if !m.eq_ignore_ascii_case(method) {
                return false;
            }
        }
        match self.route.strip_suffix('*') {
            Some(prefix) => route.starts_with(prefix),
            None => self.route == route,
        }
    }
}

/// Answer matching calls with an error status (in the service's own error shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRule {
    /// Which calls.
    #[serde(flatten)]
    pub on: RouteMatch,
    /// HTTP status to answer with (e.g. 500, 503).
    pub status: u16,
    /// Probability in `[0, 1]` that a matching call fails.
    #[serde(default = "one")]
    pub rate: f64,
    /// Stop after this many injected failures (`None` = forever).
    #[serde(default)]
    pub times: Option<u32>,
}

/// Drop the connection of matching calls without answering (before the call takes effect).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DropRule {
    /// Which calls.
    #[serde(flatten)]
    pub on: RouteMatch,
    /// Probability in `[0, 1]`.
    #[serde(default = "one")]
    pub rate: f64,
    /// Stop after this many drops (`None` = forever).
    #[serde(default)]
    pub times: Option<u32>,
}

/// Add latency (simulated seconds, scaled) to matching calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRule {
    /// Which calls.
    #[serde(flatten)]
    pub on: RouteMatch,
    /// Simulated seconds added before the answer.
    pub seconds: f64,
}

/// "This load balancer goes ERROR".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LbErrorRule {
    /// Load balancer id or name (a name may be given before the load balancer exists).
    pub load_balancer: String,
    /// `false`: goes ERROR once (when idle, or when its current change completes) and a
    /// failover repairs it. `true`: every create, update or failover ends in ERROR (delete works).
    #[serde(default)]
    pub persistent: bool,
}

/// What happens to calls once the cut-off count is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CutOffMode {
    /// Never answer (the connection stays open until the client gives up).
    Stall,
    /// Drop the connection before the call takes effect.
    Drop,
    /// Let the call take effect, then drop the connection instead of answering.
    DropAfterExecute,
}

/// "Stall/abort after N more calls": the next `after` service calls are served normally, every
/// later one gets `mode` (for crash tests). Clear it to recover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutOff {
    /// How many more calls are served normally.
    pub after: u32,
    /// What happens to the calls after those.
    pub mode: CutOffMode,
}

/// Every fault the simulator can inject. Empty = a healthy cloud.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// Error statuses per route.
    #[serde(default)]
    pub errors: Vec<ErrorRule>,
    /// Dropped connections per route.
    #[serde(default)]
    pub drops: Vec<DropRule>,
    /// Added latency per route (all matching rules add up).
    #[serde(default)]
    pub latency: Vec<LatencyRule>,
    /// Load balancers that go ERROR.
    #[serde(default)]
    pub lb_errors: Vec<LbErrorRule>,
    /// Provisioning delays per provider (replacing the provider's defaults).
    #[serde(default)]
    pub delays: BTreeMap<Provider, Delays>,
    /// Providers that answer a fully populated create with 501.
    #[serde(default)]
    pub no_fully_populated: Vec<Provider>,
    /// Stall or abort after N more calls.
    #[serde(default)]
    pub cut_off: Option<CutOff>,
}

fn one() -> f64 {
    1.0
}

/// What the simulator does with one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Serve it.
    Serve,
    /// Answer with this status instead.
    Fail(u16),
    /// Drop the connection before serving.
    Drop,
    /// Serve, then drop the connection.
    DropAfter,
    /// Never answer.
    Stall,
}

/// The plan plus the state it needs to be deterministic (its own random stream).
#[derive(Debug)]
pub(crate) struct FaultState {
    pub(crate) plan: FaultPlan,
    rng: Ids,
}

impl FaultState {
    pub(crate) fn new(plan: FaultPlan, seed: u64) -> Self {
        FaultState {
            plan,
            rng: Ids::new(seed ^ 0x5eed_fa17),
        }
    }

    /// Decide what happens to a call and how much latency (simulated seconds) to add.
    pub(crate) fn decide(&mut self, method: &str, route: &str) -> (Action, f64) {
        let latency: f64 = self
            .plan
            .latency
            .iter()
            .filter(|r| r.on.matches(method, route))
            .map(|r| r.seconds)
            .sum();
        if let Some(cut) = self.plan.cut_off.as_mut() {
            if cut.after == 0 {
                let action = match cut.mode {
                    CutOffMode::Stall => Action::Stall,
                    CutOffMode::Drop => Action::Drop,
                    CutOffMode::DropAfterExecute => Action::DropAfter,
                };
                return (action, latency);
            }
            cut.after -= 1;
        }
        for i in 0..self.plan.drops.len() {
            let rule = &self.plan.drops[i];
            if rule.on.matches(method, route) && rule.times != Some(0) {
                let rate = rule.rate;
                if self.rng.unit() < rate {
                    let rule = &mut self.plan.drops[i];
                    if let Some(t) = rule.times.as_mut() {
                        *t -= 1;
                    }
                    return (Action::Drop, latency);
                }
            }
        }
        for i in 0..self.plan.errors.len() {
            let rule = &self.plan.errors[i];
            if rule.on.matches(method, route) && rule.times != Some(0) {
                let (rate, status) = (rule.rate, rule.status);
                if self.rng.unit() < rate {
                    let rule = &mut self.plan.errors[i];
                    if let Some(t) = rule.times.as_mut() {
                        *t -= 1;
                    }
                    return (Action::Fail(status), latency);
                }
            }
        }
        (Action::Serve, latency)
    }

    /// The delays in force for a provider.
    pub(crate) fn delays(&self, provider: Provider) -> Delays {
        self.plan
            .delays
            .get(&provider)
            .copied()
            .unwrap_or_else(|| provider.default_delays())
    }

    /// Whether a provider refuses fully populated creates.
    pub(crate) fn refuses_graph(&self, provider: Provider) -> bool {
        self.plan.no_fully_populated.contains(&provider)
    }

    /// Whether a load balancer (by id or name) should go ERROR now (when idle, or when one of
    /// its changes completes); one-shot rules are consumed, persistent ones stay.
    pub(crate) fn lb_goes_error(&mut self, id: &str, name: &str) -> bool {
        let hit = |r: &LbErrorRule| {
            r.load_balancer == id || (!name.is_empty() && r.load_balancer == name)
        };
        if let Some(pos) = self
            .plan
            .lb_errors
            .iter()
            .position(|r| hit(r) && !r.persistent)
        {
            self.plan.lb_errors.remove(pos);
            return true;
        }
        self.plan.lb_errors.iter().any(|r| hit(r) && r.persistent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_match_exact_prefix_and_method() {
        let m = RouteMatch::new("post", "/load-balancer/v2/lbaas/loadbalancers");
        assert!(m.matches("POST", "/load-balancer/v2/lbaas/loadbalancers"));
        assert!(!m.matches("GET", "/load-balancer/v2/lbaas/loadbalancers"));
        assert!(!m.matches("POST", "/load-balancer/v2/lbaas/loadbalancers/{id}"));
        let p = RouteMatch {
            method: None,
            route: "/networking/*".into(),
        };
        assert!(p.matches("DELETE", "/networking/v2.0/floatingips/{id}"));
        assert!(!p.matches("GET", "/v3/auth/tokens"));
    }

    #[test]
    fn errors_with_times_stop_after_count() {
        let mut st = FaultState::new(
            FaultPlan {
                errors: vec![ErrorRule {
                    on: RouteMatch::any(),
                    status: 503,
                    rate: 1.0,
                    times: Some(2),
                }],
                ..FaultPlan::default()
            },
            1,
        );
        assert_eq!(st.decide("GET", "/x").0, Action::Fail(503));
        assert_eq!(st.decide("GET", "/x").0, Action::Fail(503));
        assert_eq!(st.decide("GET", "/x").0, Action::Serve);
    }

    #[test]
    fn rates_are_deterministic_for_a_seed() {
        let plan = FaultPlan {
            errors: vec![ErrorRule {
                on: RouteMatch::any(),
                status: 500,
                rate: 0.5,
                times: None,
            }],
            ..FaultPlan::default()
        };
        let run = |seed| {
            let mut st = FaultState::new(plan.clone(), seed);
            (0..64)
                .map(|_| st.decide("GET", "/x").0)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        let fails = run(7).iter().filter(|a| **a != Action::Serve).count();
        assert!(fails > 10 && fails < 54, "rate 0.5 gave {fails}/64");
    }

    #[test]
    fn cut_off_serves_n_then_applies_mode() {
        let mut st = FaultState::new(
            FaultPlan {
                cut_off: Some(CutOff {
                    after: 2,
                    mode: CutOffMode::Drop,
                }),
                ..FaultPlan::default()
            },
            1,
        );
        assert_eq!(st.decide("GET", "/a").0, Action::Serve);
        assert_eq!(st.decide("GET", "/a").0, Action::Serve);
        assert_eq!(st.decide("GET", "/a").0, Action::Drop);
        assert_eq!(st.decide("GET", "/a").0, Action::Drop);
    }

    #[test]
    fn one_shot_lb_error_is_consumed_persistent_is_not() {
        let mut st = FaultState::new(
            FaultPlan {
                lb_errors: vec![
                    LbErrorRule {
                        load_balancer: "a".into(),
                        persistent: false,
                    },
                    LbErrorRule {
                        load_balancer: "b".into(),
                        persistent: true,
                    },
                ],
                ..FaultPlan::default()
            },
            1,
        );
        assert!(st.lb_goes_error("id1", "a"));
        assert!(!st.lb_goes_error("id1", "a"));
        assert!(st.lb_goes_error("id2", "b"));
        assert!(st.lb_goes_error("id2", "b"));
        assert!(!st.lb_goes_error("id3", ""));
    }
}
