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

/// Most polls inside the dense window of a [`Pace`]: with the floor of `initial / 20` per
/// step this bounds the calls one wait adds to the plain schedule (at the production
/// `initial` of 1 s: at most 20 polls, at most 20 per second, inside the window).
pub const MAX_DENSE_POLLS: u32 = 20;

/// What the cloud's recent operations of one kind took (from [`PaceBook`]): the waiter polls
/// densely from a little before `low` to a little after `high`, sparsely elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// The fast end of recent times (≈ 10th percentile).
    pub low: Duration,
    /// The typical time (median).
    pub typical: Duration,
    /// The slow end of recent times (≈ 90th percentile).
    pub high: Duration,
}

impl Pace {
    /// A pace from one observed time (low = typical = high).
    pub fn of(time: Duration) -> Pace {
        Pace {
            low: time,
            typical: time,
            high: time,
        }
    }

    /// The dense window `[start, end)` and the step inside it, for `policy`.
    pub fn window(&self, policy: &WaitPolicy) -> (Duration, Duration, Duration) {
        let start = self.low.mul_f64(0.9);
        let end = self.high.mul_f64(1.15);
        let floor = policy.initial / 20;
        let step = ((end.saturating_sub(start)) / MAX_DENSE_POLLS)
            .max(floor)
            .min(policy.cap.max(floor));
        (start, end + step, step)
    }
}

/// The poll schedule of one wait: the pause before the next poll, given when the last poll
/// happened (`elapsed` since the wait began) and how many polls were made (`polls`, the
/// last one included). Pure; the loop in [`wait_until_paced`] follows it.
///
/// Without a pace: `policy`'s backoff. With one: the backoff, but never past the dense
/// window's start; inside the window every `step`; past it, half the time overdue (capped),
/// so a cloud slower than it used to be is noticed within half its delay and polled ever
/// more sparsely.
pub fn next_pause(
    policy: &WaitPolicy,
    pace: Option<&Pace>,
    polls: u32,
    elapsed: Duration,
) -> Duration {
    let Some(pace) = pace else {
        return policy.delay(polls);
    };
    let (start, end, step) = pace.window(policy);
    if elapsed + step / 2 < start {
        // Sparse before the window; land on its start (rather than just before it).
        let d = policy.delay(polls + 1);
        return if elapsed + d + d / 2 >= start {
            start - elapsed
        } else {
            d
        };
    }
    if elapsed < end {
        return step;
    }
    // Past the window: the cloud is slower than it has lately been. Poll again after half
    // the time overdue (at least one step, at most the cap): the delay noticing it stays
    // within half of the overshoot, and the polls grow sparse geometrically (×1.5).
    let overdue = elapsed - end;
    overdue.mul_f64(0.5).max(step).min(policy.cap.max(step))
}

/// The first poll's delay: immediate without a pace (the state is unknown); with one, the
/// answer to the change said PENDING, so the first poll waits for the schedule.
pub fn first_pause(policy: &WaitPolicy, pace: Option<&Pace>) -> Duration {
    match pace {
        None => Duration::ZERO,
        Some(p) => {
            let (start, _, _) = p.window(policy);
            if policy.initial + policy.initial / 2 >= start {
                start
            } else {
                policy.initial
            }
        }
    }
}

/// How a paced wait ended, and how long the cloud took by the waiter's best estimate: the
/// midpoint between the last poll that saw the object pending (or the wait's start) and the
/// first that saw it done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waited {
    /// How the wait ended.
    pub outcome: Outcome,
    /// Estimated time the operation took, from the wait's start.
    pub took: Duration,
    /// Polls made.
    pub polls: u32,
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
    fetch: F,
    goal: Goal,
    policy: &WaitPolicy,
    cancel: impl Future<Output = ()>,
) -> Result<Outcome, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, Error>>,
    S: AsRef<str>,
{
    wait_until_paced(what, fetch, goal, policy, None, Instant::now(), cancel)
        .await
        .map(|w| w.outcome)
}

/// As [`wait_until`], polling on [`next_pause`]'s schedule for `pace` (the first poll after
/// [`first_pause`]), and reporting how long the operation took ([`Waited`]). Times count
/// from `since`: when the change being waited for was answered (it may be earlier than the
/// call, e.g. when a floating IP was bound in between).
///
/// # Errors
/// As [`wait_until`].
pub async fn wait_until_paced<F, Fut, S>(
    what: impl Into<String>,
    mut fetch: F,
    goal: Goal,
    policy: &WaitPolicy,
    pace: Option<&Pace>,
    since: Instant,
    cancel: impl Future<Output = ()>,
) -> Result<Waited, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, Error>>,
    S: AsRef<str>,
{
    let what = what.into();
    let started = since.min(Instant::now());
    let deadline = Instant::now() + policy.budget;
    let mut last = String::from("unknown");
    let mut poll: u32 = 0;
    let mut pending_at = Duration::ZERO;
    tokio::pin!(cancel);
    let first = first_pause(policy, pace)
        .saturating_sub(started.elapsed())
        .min(policy.budget);
    if !first.is_zero() {
        tokio::select! {
            biased;
            _ = &mut cancel => return Err(Error::Cancelled { what }),
            _ = tokio::time::sleep(first) => {}
        }
    }
    loop {
        poll += 1;
        let asked = started.elapsed();
        let fetched = tokio::select! {
            biased;
            _ = &mut cancel => return Err(Error::Cancelled { what }),
            r = fetch() => r,
        };
        let done = |outcome| Waited {
            outcome,
            took: (pending_at + asked) / 2,
            polls: poll,
        };
        match fetched {
            Ok(status) => {
                let status = status.as_ref();
                last = status.to_string();
                match (classify(status), goal) {
                    (Phase::Ready, Goal::Active) => return Ok(done(Outcome::Ready)),
                    (Phase::Deleted, Goal::Gone) => return Ok(done(Outcome::Gone)),
                    (Phase::Failed, _) | (Phase::Deleted, Goal::Active) => {
                        return Err(Error::ProvisioningFailed {
                            what,
                            status: status.to_string(),
                        })
                    }
                    _ => {
                        pending_at = asked;
                        tracing::debug!(what = %what, status, poll, "still waiting")
                    }
                }
            }
            Err(e) if e.is_not_found() && goal == Goal::Gone => return Ok(done(Outcome::Gone)),
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
        let pause = next_pause(policy, pace, poll, now - started);
        let pause = if pace.is_some() {
            pause
        } else {
            policy.jittered(pause)
        };
        let pause = pause.min(deadline - now);
        tokio::select! {
            biased;
            _ = &mut cancel => return Err(Error::Cancelled { what }),
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// Recent times of operations, per kind (e.g. `create`, `update`, `delete`): a moving window
/// of the last [`PaceBook::WINDOW`] samples each, from which a [`Pace`] is read.
#[derive(Debug, Default)]
pub struct PaceBook {
    kinds: std::sync::Mutex<std::collections::BTreeMap<String, std::collections::VecDeque<u64>>>,
}

impl PaceBook {
    /// Samples kept per kind.
    pub const WINDOW: usize = 15;

    /// An empty book.
    pub fn new() -> PaceBook {
        PaceBook::default()
    }

    /// Records that an operation of `kind` took `took`.
    pub fn record(&self, kind: &str, took: Duration) {
        let mut kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        let q = kinds.entry(kind.to_string()).or_default();
        q.push_back(u64::try_from(took.as_millis()).unwrap_or(u64::MAX));
        while q.len() > Self::WINDOW {
            q.pop_front();
        }
    }

    /// The pace of `kind` (`None` until one sample is known).
    pub fn pace(&self, kind: &str) -> Option<Pace> {
        let kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<u64> = kinds.get(kind)?.iter().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let at = |q: f64| {
            let i = ((v.len() - 1) as f64 * q).round() as usize;
            Duration::from_millis(v[i.min(v.len() - 1)])
        };
        Some(Pace {
            low: at(0.1),
            typical: at(0.5),
            high: at(0.9),
        })
    }

    /// Every kind's samples in milliseconds, oldest first (to persist them).
    pub fn samples(&self) -> std::collections::BTreeMap<String, Vec<u64>> {
        let kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        kinds
            .iter()
            .map(|(k, q)| (k.clone(), q.iter().copied().collect()))
            .collect()
    }

    /// Replaces `kind`'s samples (milliseconds, oldest first) with persisted ones.
    pub fn restore(&self, kind: &str, samples: &[u64]) {
        let mut kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        let skip = samples.len().saturating_sub(Self::WINDOW);
        kinds.insert(kind.to_string(), samples[skip..].iter().copied().collect());
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

    /// The times (from the wait's start) at which a paced wait polls a cloud that finishes
    /// at `done`, on paused time.
    async fn poll_times(
        policy: &WaitPolicy,
        pace: Option<Pace>,
        done: Duration,
    ) -> (Vec<Duration>, Waited) {
        let start = Instant::now();
        let times = std::sync::Mutex::new(Vec::new());
        let waited = wait_until_paced(
            "lb",
            || async {
                let t = start.elapsed();
                times.lock().unwrap().push(t);
                Ok::<_, Error>(if t >= done {
                    "ACTIVE"
                } else {
                    "PENDING_CREATE"
                })
            },
            Goal::Active,
            policy,
            pace.as_ref(),
            start,
            std::future::pending::<()>(),
        )
        .await
        .unwrap();
        (times.into_inner().unwrap(), waited)
    }

    fn production() -> WaitPolicy {
        WaitPolicy {
            jitter: 0.0,
            ..WaitPolicy::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_pace_the_schedule_is_the_backoff() {
        let (times, w) = poll_times(&production(), None, Duration::from_millis(1600)).await;
        let ms: Vec<u128> = times.iter().map(|t| t.as_millis()).collect();
        assert_eq!(ms, vec![0, 1000, 2500]);
        assert_eq!(w.polls, 3);
        assert_eq!(w.outcome, Outcome::Ready);
    }

    #[tokio::test(start_paused = true)]
    async fn a_paced_wait_notices_done_within_one_dense_step() {
        let pace = Pace {
            low: Duration::from_millis(1400),
            typical: Duration::from_millis(1600),
            high: Duration::from_millis(1900),
        };
        let policy = production();
        let (_, _, step) = pace.window(&policy);
        assert_eq!(step, Duration::from_millis(50), "the floor: initial / 20");
        let (start, end, _) = pace.window(&policy);
        for done_ms in [1300u64, 1400, 1600, 1777, 1900, 2150] {
            let done = Duration::from_millis(done_ms);
            let (times, w) = poll_times(&policy, Some(pace), done).await;
            let last = *times.last().unwrap();
            assert!(
                last >= done && last - done <= step,
                "done {done_ms} ms, noticed {last:?}"
            );
            // No read whose answer is known: nothing before the window but one landing on it.
            assert!(times[0] >= Duration::from_millis(1000), "{times:?}");
            assert!(w.polls <= MAX_DENSE_POLLS + 2, "{times:?}");
            // The estimate sits between the last pending poll and the first done one.
            assert!(w.took <= last && w.took + step >= done, "{w:?}");
        }
        // Faster than ever seen: noticed at the window's start; slower: by the backoff.
        let (times, _) = poll_times(&policy, Some(pace), Duration::from_millis(1150)).await;
        assert_eq!(*times.last().unwrap(), start);
        let (times, _) = poll_times(&policy, Some(pace), end + Duration::from_secs(1)).await;
        assert!(
            *times.last().unwrap() <= end + Duration::from_secs(3),
            "{times:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_cloud_slower_than_its_pace_is_polled_sparsely() {
        let pace = Pace::of(Duration::from_secs(2));
        let (times, _) = poll_times(&production(), Some(pace), Duration::from_secs(120)).await;
        // Dense window ≈ 1.8–2.3 s (≤ 20 polls), then gaps of half the time overdue (×1.5
        // each) up to the cap: far fewer than a dense schedule would make, and never more
        // than one poll per 10 s at the end.
        assert!(times.len() < 45, "{} polls", times.len());
        let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(*gaps.last().unwrap(), Duration::from_secs(10));
        let dense = gaps
            .iter()
            .filter(|g| **g < Duration::from_millis(100))
            .count();
        assert!(dense as u32 <= MAX_DENSE_POLLS + 4, "{dense} dense polls");
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_pace_is_sparse_before_its_window() {
        // Amphora-like: 60 s typical. The dense step grows with the window (≤ 20 polls in it).
        let pace = Pace {
            low: Duration::from_secs(55),
            typical: Duration::from_secs(60),
            high: Duration::from_secs(70),
        };
        let policy = production();
        let (start, end, step) = pace.window(&policy);
        assert_eq!(start, Duration::from_millis(49_500));
        assert!(step <= (end - start) / MAX_DENSE_POLLS + Duration::from_millis(1));
        let (times, _) = poll_times(&policy, Some(pace), Duration::from_secs(61)).await;
        let before = times.iter().filter(|t| **t < start).count();
        assert!(before <= 8, "{before} polls before the window: {times:?}");
        let last = *times.last().unwrap();
        assert!(last - Duration::from_secs(61) <= step);
    }

    #[test]
    fn the_book_keeps_a_moving_window_and_reads_percentiles() {
        let book = PaceBook::new();
        assert_eq!(book.pace("create"), None);
        book.record("create", Duration::from_millis(1500));
        assert_eq!(
            book.pace("create"),
            Some(Pace::of(Duration::from_millis(1500)))
        );
        for ms in 1..=30u64 {
            book.record("create", Duration::from_millis(ms * 100));
        }
        // Only the last 15 (1600 … 3000 ms) count.
        let p = book.pace("create").unwrap();
        assert_eq!(p.typical, Duration::from_millis(2300));
        assert_eq!(p.low, Duration::from_millis(1700));
        assert_eq!(p.high, Duration::from_millis(2900));
        assert_eq!(book.pace("update"), None);
        let saved = book.samples();
        let other = PaceBook::new();
        other.restore("create", &saved["create"]);
        assert_eq!(other.pace("create"), Some(p));
    }
}
