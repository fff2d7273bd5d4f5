//! The one requeue policy, in the manner of kube-runtime: a pass ends with an [`Action`]
//! (look again after this long, or only when the request changes). A pass that finished
//! (served, removed) asks for nothing more; one that did not says why ([`Setback`]), and
//! [`error_policy`] alone turns that and the number of unfinished passes in a row into the
//! [`Action`]. Every retry delay of the reconciler and the daemon lives in this file.

use std::time::Duration;

/// Transient trouble (still provisioning, the cloud busy or unreachable, a wait past its
/// budget): look again soon.
pub const RETRY_SOON: Duration = Duration::from_secs(30);
/// A failure that needs someone to act (quota, credentials, a refusal by the cloud): long,
/// but never forever — the safety net.
pub const RETRY_LATER: Duration = Duration::from_secs(300);
/// No cloud connection yet.
pub const RETRY_UNCONNECTED: Duration = Duration::from_secs(15);
/// A removal that failed (other than a resource still in use).
pub const RETRY_REMOVAL: Duration = Duration::from_secs(30);
/// The short backoff (a resource still in use, about to be free): the first delay, doubled
/// for each further unfinished pass in a row…
pub const SHORT_BACKOFF: Duration = Duration::from_secs(2);
/// …up to this.
pub const SHORT_BACKOFF_CAP: Duration = Duration::from_secs(30);
/// The first delay between failed attempts to connect to the cloud (doubled for each further
/// one, up to [`CONNECT_RETRY_CAP`]).
pub const CONNECT_RETRY: Duration = Duration::from_secs(5);
/// The longest delay between attempts to connect to the cloud.
pub const CONNECT_RETRY_CAP: Duration = Duration::from_secs(300);
/// The pause before the third repair of a load balancer in ERROR (doubled for each further
/// one; see [`RepairPolicy`](super::RepairPolicy)).
pub const REPAIR_BACKOFF: Duration = Duration::from_secs(60);
/// The longest pause between repairs, and the pause after giving up.
pub const REPAIR_CAP: Duration = Duration::from_secs(1800);

/// What a pass asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// Pass again after this long; `None`: only when the request changes.
    pub requeue_after: Option<Duration>,
}

impl Action {
    /// Pass again after `after`.
    pub const fn requeue(after: Duration) -> Action {
        Action {
            requeue_after: Some(after),
        }
    }

    /// Nothing more until the request changes.
    pub const fn await_change() -> Action {
        Action {
            requeue_after: None,
        }
    }
}

/// Why a pass did not finish: what [`error_policy`] decides the next pass from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setback {
    /// Not there yet, or transient trouble (still provisioning, the cloud busy or
    /// unreachable, a wait past its budget).
    Busy,
    /// Someone must act first (quota, credentials, an invalid setting, a refusal by the
    /// cloud, two load balancers with one request's tags, an address in use elsewhere).
    NeedsOperator,
    /// The request cannot be served as asked: only a change of it can help.
    Unservable,
    /// The repair pacing of a load balancer in ERROR says when the next attempt is due.
    Paced(Duration),
    /// No connection to the cloud yet.
    Unconnected,
    /// A removal failed.
    Removal,
    /// A removal met a resource still in use that frees itself in seconds (our security
    /// group while ports are still detaching from it: Neutron answers 409
    /// `SecurityGroupInUse`).
    InUse,
}

impl Setback {
    /// Why a removal failed with `error`.
    pub fn of_removal(error: &openstack::Error) -> Setback {
        let in_use = error.is_conflict()
            && error
                .failure()
                .and_then(|f| f.kind.as_deref())
                .is_some_and(|kind| kind == "SecurityGroupInUse");
        if in_use {
            Setback::InUse
        } else {
            Setback::Removal
        }
    }
}

/// The one error policy: what to do after a pass that did not finish because of `setback`,
/// the `attempts`-th unfinished pass in a row (1 for the first).
pub fn error_policy(setback: &Setback, attempts: u32) -> Action {
    match setback {
        Setback::Busy => Action::requeue(RETRY_SOON),
        Setback::NeedsOperator => Action::requeue(RETRY_LATER),
        Setback::Unservable => Action::await_change(),
        Setback::Paced(after) => Action::requeue(*after),
        Setback::Unconnected => Action::requeue(RETRY_UNCONNECTED),
        Setback::Removal => Action::requeue(RETRY_REMOVAL),
        Setback::InUse => Action::requeue(backoff(SHORT_BACKOFF, SHORT_BACKOFF_CAP, attempts)),
    }
}

/// The delay before the next attempt to connect to the cloud, after waiting `last`.
pub fn next_connect_delay(last: Duration) -> Duration {
    last.saturating_mul(2).min(CONNECT_RETRY_CAP)
}

/// `first` doubled for each attempt after the first, at most `cap`.
fn backoff(first: Duration, cap: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(31);
    first.saturating_mul(1 << doublings).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openstack::error::ServiceFailure;

    fn neutron(status: u16, body: &str) -> openstack::Error {
        openstack::Error::from_failure(ServiceFailure::from_response(
            "network",
            "DELETE",
            "/v2.0/security-groups/g1",
            status,
            Some("req-1".into()),
            body.as_bytes(),
        ))
    }

    #[test]
    fn each_setback_keeps_its_delay() {
        let soon = Some(Duration::from_secs(30));
        assert_eq!(error_policy(&Setback::Busy, 1).requeue_after, soon);
        assert_eq!(error_policy(&Setback::Busy, 9).requeue_after, soon);
        assert_eq!(
            error_policy(&Setback::NeedsOperator, 1).requeue_after,
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            error_policy(&Setback::Unservable, 1),
            Action::await_change()
        );
        assert_eq!(
            error_policy(&Setback::Paced(Duration::from_secs(42)), 3),
            Action::requeue(Duration::from_secs(42))
        );
        assert_eq!(
            error_policy(&Setback::Unconnected, 4).requeue_after,
            Some(Duration::from_secs(15))
        );
        assert_eq!(error_policy(&Setback::Removal, 2).requeue_after, soon);
    }

    #[test]
    fn in_use_backs_off_in_seconds_and_is_capped() {
        let delays: Vec<u64> = (1..=7)
            .map(|n| {
                error_policy(&Setback::InUse, n)
                    .requeue_after
                    .unwrap()
                    .as_secs()
            })
            .collect();
        assert_eq!(delays, [2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(
            error_policy(&Setback::InUse, u32::MAX).requeue_after,
            Some(SHORT_BACKOFF_CAP)
        );
        // A first pass counted as 0 is still the first delay.
        assert_eq!(
            error_policy(&Setback::InUse, 0).requeue_after,
            Some(SHORT_BACKOFF)
        );
    }

    #[test]
    fn a_security_group_still_in_use_is_told_from_other_removal_failures() {
        let in_use = neutron(
            409,
            r#"{"NeutronError": {"type": "SecurityGroupInUse", "message": "Security Group g1 in use.", "detail": ""}}"#,
        );
        assert_eq!(Setback::of_removal(&in_use), Setback::InUse);
        let other_conflict = neutron(
            409,
            r#"{"NeutronError": {"type": "Conflict", "message": "busy", "detail": ""}}"#,
        );
        assert_eq!(Setback::of_removal(&other_conflict), Setback::Removal);
        assert_eq!(Setback::of_removal(&neutron(500, "{}")), Setback::Removal);
    }

    #[test]
    fn connecting_doubles_up_to_five_minutes() {
        assert_eq!(next_connect_delay(CONNECT_RETRY), Duration::from_secs(10));
        assert_eq!(
            next_connect_delay(Duration::from_secs(200)),
            CONNECT_RETRY_CAP
        );
        assert_eq!(
            next_connect_delay(Duration::from_millis(50)),
            Duration::from_millis(100)
        );
    }
}
