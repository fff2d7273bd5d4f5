//! Polling a load balancer until it is ACTIVE, gone, or in ERROR.
//!
//! The loop ([`wait_until`]) owns backoff, budget and cancellation; what a status *means* is
//! the pure [`classify`]. The loop knows nothing of Octavia types: the caller hands it a
//! closure that fetches the current provisioning status (e.g. `GET
//! /v2/lbaas/loadbalancers/{id}`), so it works for any object with a provisioning status.
//! Time comes from `tokio::time`, so tests run it on paused time.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use crate::Error;

/// What a provisioning status means for a waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `ACTIVE`: the object can be used and changed.
    Ready,
    /// `PENDING_*` or anything unknown: keep polling.
    Pending,
    /// `ERROR`: terminal, waiting longer will not help.
    Failed,
    /// `DELETED`: the object is gone (usually seen as a 404 instead).
    Deleted,
}

/// Classifies an Octavia `provisioning_status` (case-insensitive).
pub fn classify(provisioning_status: &str) -> Phase {
    let s = provisioning_status.trim();
    if s.eq_ignore_ascii_case("ACTIVE") {
        Phase::Ready
    } else if s.eq_ignore_ascii_case("ERROR") {
        Phase::Failed
    } else if s.eq_ignore_ascii_case("DELETED") {
        Phase::Deleted
    } else {
        Phase::Pending
    }
}

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Until `ACTIVE` (after a create or an update).
    Active,
    /// Until the object is gone: a 404 (or `DELETED`), after a delete.
    Gone,
}

/// How a successful wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The object is `ACTIVE`.
    Ready,
    /// The object no longer exists.
    Gone,
}

/// Poll timing: capped, jittered exponential backoff within a total budget.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitPolicy {
    /// Delay before the second poll (the first poll is immediate).
    pub initial: Duration,
    /// Growth of the delay between polls.
    pub factor: f64,
    /// Upper bound for one delay.
    pub cap: Duration,
    /// Each delay is shortened by a random fraction up to this (0.0 – 1.0) so that many
    /// waiters do not poll in step.
    pub jitter: f64,
    /// Total time to wait before giving up (amphora creates take minutes).
    pub budget: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            initial: Duration::from_secs(1),
            factor: 1.5,
            cap: Duration::from_secs(10),
            jitter: 0.2,
            budget: Duration::from_secs(600),
        }
    }
}

impl WaitPolicy {
    /// The un-jittered delay after poll number `poll` (1-based).
    pub fn delay(&self, poll: u32) -> Duration {
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let secs = self.initial.as_secs_f64() * factor.powi(poll.saturating_sub(1).min(64) as i32);
        Duration::from_secs_f64(secs.min(self.cap.as_secs_f64()))
    }

    fn jittered(&self, delay: Duration) -> Duration {
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return delay;
        }
        let cut = rand::rng().random_range(0.0..=jitter);
        delay.mul_f64(1.0 - cut)
    }
}

/// Polls `fetch` until `goal` is reached.
///
/// `what` names the object in errors (e.g. `load balancer 0a1b…`). `fetch` returns the
/// current provisioning status. Transient fetch errors ([`Error::is_retryable`]) are logged
/// and polling goes on; a 404 ends a [`Goal::Gone`] wait successfully.
///
/// # Errors
/// [`Error::ProvisioningFailed`] when the object reaches `ERROR` (or, waiting for ACTIVE,
/// `DELETED`); [`Error::WaitTimedOut`] when the budget runs out; [`Error::Cancelled`] when
/// `cancel` completes first; a non-transient fetch error as is (a 404 while waiting for ACTIVE
/// included).
pub async fn wait_until<F, Fut, S>(
    what: impl Into<String>,
    mut fetch: F,
    goal: Goal,
    policy: &WaitPolicy,
    cancel: impl Future<Output = ()>,
) -> Result<Outcome, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, Error>>,
    S: AsRef<str>,
{
    let what = what.into();
    let started = Instant::now();
    let deadline = started + policy.budget;
    let mut last = String::from("unknown");
    let mut poll: u32 = 0;
    tokio::pin!(cancel);
    loop {
        poll += 1;
        let fetched = tokio::select! {
            biased;
            _ = &mut cancel => return Err(Error::Cancelled { what }),
            r = fetch() => r,
        };
        match fetched {
            Ok(status) => {
                let status = status.as_ref();
                last = status.to_string();
                match (classify(status), goal) {
                    (Phase::Ready, Goal::Active) => return Ok(Outcome::Ready),
                    (Phase::Deleted, Goal::Gone) => return Ok(Outcome::Gone),
                    (Phase::Failed, _) | (Phase::Deleted, Goal::Active) => {
                        return Err(Error::ProvisioningFailed {
                            what,
                            status: status.to_string(),
                        })
                    }
                    _ => tracing::debug!(what = %what, status, poll, "still waiting"),
                }
            }
            Err(e) if e.is_not_found() && goal == Goal::Gone => return Ok(Outcome::Gone),
            Err(e) if e.is_retryable() => {
                tracing::warn!(what = %what, poll, error = %e, "transient error while waiting; polling on")
            }
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Error::WaitTimedOut {
                what,
                goal: match goal {
                    Goal::Active => "ACTIVE",
                    Goal::Gone => "deleted",
                },
                waited: now - started,
                last,
            });
        }
        let pause = policy.jittered(policy.delay(poll)).min(deadline - now);
        tokio::select! {
            biased;
            _ = &mut cancel => return Err(Error::Cancelled { what }),
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify("ACTIVE"), Phase::Ready);
        assert_eq!(classify("active"), Phase::Ready);
        assert_eq!(classify("ERROR"), Phase::Failed);
        assert_eq!(classify("PENDING_CREATE"), Phase::Pending);
        assert_eq!(classify("PENDING_UPDATE"), Phase::Pending);
        assert_eq!(classify("PENDING_DELETE"), Phase::Pending);
        assert_eq!(classify("DELETED"), Phase::Deleted);
        assert_eq!(classify("SOMETHING_NEW"), Phase::Pending);
    }

    #[test]
    fn delays_grow_by_factor_and_cap() {
        let p = WaitPolicy::default();
        assert_eq!(p.delay(1), Duration::from_secs(1));
        assert_eq!(p.delay(2), Duration::from_millis(1500));
        assert_eq!(p.delay(3), Duration::from_millis(2250));
        assert_eq!(p.delay(10), Duration::from_secs(10));
        assert_eq!(p.delay(1000), Duration::from_secs(10));
        for _ in 0..100 {
            let d = p.jittered(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(8) && d <= Duration::from_secs(10));
        }
        let bad = WaitPolicy {
            factor: f64::NAN,
            ..WaitPolicy::default()
        };
        assert_eq!(bad.delay(5), Duration::from_secs(1));
    }
}
