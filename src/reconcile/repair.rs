//! Repairing a load balancer in ERROR: failover first (amphora), then cascade delete and
//! rebuild; bounded, with backoff between attempts. Pure decisions, unit-tested. The default
//! pacing's delays live with every other retry delay, in [`super::requeue`].

use std::time::Duration;

use super::requeue::{REPAIR_BACKOFF, REPAIR_CAP};

/// What to do about a load balancer in ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairAction {
    /// Ask Octavia to fail the load balancer over to new amphorae.
    Failover,
    /// Cascade-delete it and build it again (the floating IP is kept and re-bound).
    Rebuild,
    /// Not now: the next attempt is due after this long.
    Later(Duration),
    /// Attempts exhausted: report, and try again only after this long.
    GiveUp(Duration),
}

/// How repairs are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepairPolicy {
    /// Attempts before giving up (each failover or rebuild counts).
    pub max_attempts: u32,
    /// Pause before the third attempt; doubles for each further one.
    pub backoff: Duration,
    /// Longest pause between attempts (also the pause after giving up).
    pub cap: Duration,
}

impl Default for RepairPolicy {
    fn default() -> Self {
        RepairPolicy {
            max_attempts: 5,
            backoff: REPAIR_BACKOFF,
            cap: REPAIR_CAP,
        }
    }
}

impl RepairPolicy {
    /// The pause required after `attempts` attempts before the next one. The first two
    /// (failover, then one rebuild) follow each other at once.
    pub fn pause_after(&self, attempts: u32) -> Duration {
        if attempts < 2 {
            return Duration::ZERO;
        }
        let factor = 2u32.saturating_pow(attempts - 2);
        self.backoff.saturating_mul(factor).min(self.cap)
    }
}

/// Decides the next repair step from the provider, the attempts made so far and the time
/// since the last one.
pub fn repair_action(
    policy: &RepairPolicy,
    can_failover: bool,
    attempts: u32,
    since_last: Option<Duration>,
) -> RepairAction {
    if attempts >= policy.max_attempts {
        return RepairAction::GiveUp(policy.cap);
    }
    let pause = policy.pause_after(attempts);
    if let Some(elapsed) = since_last {
        if elapsed < pause {
            return RepairAction::Later(pause - elapsed);
        }
    }
    if attempts == 0 && can_failover {
        RepairAction::Failover
    } else {
        RepairAction::Rebuild
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_then_rebuild_then_backoff_then_give_up() {
        let p = RepairPolicy::default();
        assert_eq!(repair_action(&p, true, 0, None), RepairAction::Failover);
        assert_eq!(repair_action(&p, false, 0, None), RepairAction::Rebuild);
        assert_eq!(
            repair_action(&p, true, 1, Some(Duration::ZERO)),
            RepairAction::Rebuild
        );
        assert_eq!(
            repair_action(&p, true, 2, Some(Duration::from_secs(10))),
            RepairAction::Later(Duration::from_secs(50))
        );
        assert_eq!(
            repair_action(&p, true, 2, Some(Duration::from_secs(60))),
            RepairAction::Rebuild
        );
        assert_eq!(p.pause_after(3), Duration::from_secs(120));
        assert_eq!(p.pause_after(30), p.cap);
        assert_eq!(
            repair_action(&p, true, 5, None),
            RepairAction::GiveUp(p.cap)
        );
    }
}
