//! The one retry policy of the crate, as data, and the pure decision it makes.
//!
//! What is retried, and why:
//! - **Connection never established** (refused, DNS, TLS handshake): any method — the server
//!   surely did not act.
//! - **Connection lost mid-call**: idempotent methods only (GET, HEAD, PUT, DELETE).
//! - **Our own timeout**: GET/HEAD only. A POST/PUT/DELETE that timed out may have been
//!   carried out; it is returned as [`crate::Error::Timeout`] and the caller (the reconciler)
//!   looks the object up by its deterministic name before acting again. A create is never
//!   blindly sent twice.
//! - **503** (and **429**): any method, honouring `Retry-After` — the service refused the work
//!   before doing it (Octavia "Project busy", a proxy with no backend).
//! - **502/504**: idempotent methods only — a gateway error may hide a backend that acted.
//! - **409 "immutable"** (Octavia object or parent PENDING_*): any method; the object was not
//!   changed.
//! - Everything else is final.

use std::time::Duration;

use reqwest::Method;

/// Bounded, capped, jittered exponential backoff, plus which failures deserve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included (so 4 = up to 3 retries). 1 disables retries.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles on each further retry.
    pub base_delay: Duration,
    /// Upper bound for one backoff delay.
    pub max_delay: Duration,
    /// Base delay for 409-immutable retries (Octavia objects stay PENDING for seconds).
    pub conflict_base_delay: Duration,
    /// Upper bound for a server-sent `Retry-After`.
    pub max_retry_after: Duration,
    /// Randomise each backoff delay within `[delay/2, delay]` so many clients do not retry in
    /// step.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            conflict_base_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

/// A retry budget shared by every call of a session (a token bucket): each call deposits
/// `earn` tokens, each retry spends one, at most `capacity` are kept. A healthy cloud never
/// notices it; a sick one, where every call fails, gets about `1 + earn` attempts per call
/// instead of `max_attempts`: fewer calls, not more. Retries of a 409 "immutable" (an object
/// busy, not a sick cloud) are bounded by `max_attempts` alone and spend nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    /// Most tokens kept (the burst of retries a healthy session can make at once).
    pub capacity: f64,
    /// Tokens each call deposits (the long-run share of retries per call).
    pub earn: f64,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            capacity: 20.0,
            earn: 0.2,
        }
    }
}

impl RetryBudget {
    /// No limit beyond each call's `max_attempts`.
    pub fn unlimited() -> Self {
        RetryBudget {
            capacity: f64::INFINITY,
            earn: 0.0,
        }
    }
}

/// The live token count of a [`RetryBudget`] (one per session, shared by its clones).
#[derive(Debug)]
pub(crate) struct BudgetTokens {
    budget: RetryBudget,
    tokens: std::sync::Mutex<f64>,
}

impl BudgetTokens {
    /// A full bucket.
    pub fn new(budget: RetryBudget) -> Self {
        let start = if budget.capacity.is_finite() {
            budget.capacity.max(0.0)
        } else {
            f64::INFINITY
        };
        BudgetTokens {
            budget,
            tokens: std::sync::Mutex::new(start),
        }
    }

    /// A call starts: deposit its share.
    pub fn deposit(&self) {
        let mut t = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if t.is_finite() {
            *t = (*t + self.budget.earn.max(0.0)).min(self.budget.capacity);
        }
    }

    /// Takes one token for a retry; `false` when the budget is spent.
    pub fn spend(&self) -> bool {
        let mut t = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if *t >= 1.0 {
            *t -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What happened on one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The connection was never established.
    ConnectFailed,
    /// The connection broke after the request may have been sent.
    ConnectionLost,
    /// Our timeout expired.
    TimedOut,
    /// The service answered with a non-success status.
    Status {
        /// HTTP status.
        status: u16,
        /// A 409 Octavia marked as "immutable" (object busy).
        immutable: bool,
        /// Parsed `Retry-After`, if the answer had one.
        retry_after: Option<Duration>,
    },
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Whether to retry after attempt number `attempt` (1-based) ended as `what`, and after
    /// how long. `None` means the failure is final.
    pub fn decide(&self, method: &Method, what: Attempt, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let idempotent = matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        let read = matches!(*method, Method::GET | Method::HEAD);
        match what {
            Attempt::ConnectFailed => Some(self.backoff(self.base_delay, attempt)),
            Attempt::ConnectionLost if idempotent => Some(self.backoff(self.base_delay, attempt)),
            Attempt::TimedOut if read => Some(self.backoff(self.base_delay, attempt)),
            Attempt::Status {
                status: 429 | 503,
                retry_after,
                ..
            } => Some(match retry_after {
                Some(after) => after.min(self.max_retry_after),
                None => self.backoff(self.base_delay, attempt),
            }),
            Attempt::Status {
                status: 502 | 504, ..
            } if idempotent => Some(self.backoff(self.base_delay, attempt)),
            Attempt::Status {
                status: 409,
                immutable: true,
                ..
            } => Some(self.backoff(self.conflict_base_delay, attempt)),
            _ => None,
        }
    }

    /// `base × 2^(attempt−1)`, capped at `max_delay`, jittered into `[d/2, d]` when enabled.
    pub fn backoff(&self, base: Duration, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let delay = base.saturating_mul(1u32 << exp).min(self.max_delay);
        if self.jitter && !delay.is_zero() {
            use rand::Rng;
            let half = delay / 2;
            let extra = rand::rng().random_range(0..=half.as_micros() as u64);
            half + Duration::from_micros(extra)
        } else {
            delay
        }
    }
}

/// Parses a `Retry-After` value: delta seconds, or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_allows_a_burst_then_its_earned_share() {
        let tokens = BudgetTokens::new(RetryBudget {
            capacity: 3.0,
            earn: 0.5,
        });
        assert!(tokens.spend() && tokens.spend() && tokens.spend());
        assert!(!tokens.spend(), "the burst is spent");
        tokens.deposit();
        assert!(!tokens.spend(), "half a token is not a retry");
        tokens.deposit();
        assert!(tokens.spend());
        for _ in 0..100 {
            tokens.deposit();
        }
        let mut n = 0;
        while tokens.spend() {
            n += 1;
        }
        assert_eq!(n, 3, "never more than the capacity");
        let free = BudgetTokens::new(RetryBudget::unlimited());
        assert!((0..1000).all(|_| free.spend()));
    }

    fn exact() -> RetryPolicy {
        RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        }
    }

    fn status(status: u16) -> Attempt {
        Attempt::Status {
            status,
            immutable: false,
            retry_after: None,
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = exact();
        assert_eq!(p.backoff(p.base_delay, 1), Duration::from_millis(500));
        assert_eq!(p.backoff(p.base_delay, 2), Duration::from_secs(1));
        assert_eq!(p.backoff(p.base_delay, 3), Duration::from_secs(2));
        assert_eq!(p.backoff(p.base_delay, 30), Duration::from_secs(10));
    }

    #[test]
    fn jitter_stays_within_half_and_full() {
        let p = RetryPolicy::default();
        for _ in 0..200 {
            let d = p.backoff(Duration::from_secs(4), 1);
            assert!(
                d >= Duration::from_secs(2) && d <= Duration::from_secs(4),
                "{d:?}"
            );
        }
    }

    #[test]
    fn post_is_retried_only_when_the_server_surely_did_nothing() {
        let p = exact();
        assert!(p.decide(&Method::POST, Attempt::ConnectFailed, 1).is_some());
        assert!(p.decide(&Method::POST, status(503), 1).is_some());
        assert!(p.decide(&Method::POST, Attempt::TimedOut, 1).is_none());
        assert!(p
            .decide(&Method::POST, Attempt::ConnectionLost, 1)
            .is_none());
        assert!(p.decide(&Method::POST, status(502), 1).is_none());
        assert!(p.decide(&Method::POST, status(504), 1).is_none());
    }

    #[test]
    fn reads_retry_timeouts_and_gateway_errors() {
        let p = exact();
        assert!(p.decide(&Method::GET, Attempt::TimedOut, 1).is_some());
        assert!(p.decide(&Method::GET, status(502), 1).is_some());
        assert!(p.decide(&Method::PUT, status(504), 1).is_some());
        assert!(p.decide(&Method::PUT, Attempt::TimedOut, 1).is_none());
        assert!(p.decide(&Method::GET, status(500), 1).is_none());
    }

    #[test]
    fn only_immutable_conflicts_are_retried() {
        let p = exact();
        let immutable = Attempt::Status {
            status: 409,
            immutable: true,
            retry_after: None,
        };
        assert_eq!(
            p.decide(&Method::POST, immutable, 1),
            Some(Duration::from_secs(2))
        );
        assert!(p.decide(&Method::POST, status(409), 1).is_none());
        assert!(p.decide(&Method::POST, status(403), 1).is_none());
        assert!(p.decide(&Method::GET, status(404), 1).is_none());
        assert!(p.decide(&Method::GET, status(400), 1).is_none());
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = exact();
        let with = |secs| Attempt::Status {
            status: 429,
            immutable: false,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            p.decide(&Method::POST, with(7), 1),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            p.decide(&Method::GET, with(3600), 1),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let p = exact();
        assert!(p.decide(&Method::GET, status(503), 3).is_some());
        assert!(p.decide(&Method::GET, status(503), 4).is_none());
        assert!(RetryPolicy::never()
            .decide(&Method::GET, status(503), 1)
            .is_none());
    }

    #[test]
    fn retry_after_formats() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after(" 12 ", now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 31 Dec 2025 00:00:30 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
